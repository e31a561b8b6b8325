//! Office hours from the configuration: when agents answer at all. Outside them
//! the hub tells visitors that nobody is available (`Input::OfficeHours`), whoever
//! is logged in.
//!
//! Written as the days and times of a week in one time zone, e.g.
//! `["Mon-Fri 09:00-17:30", "Sat 10:00-14:00"]` with `time_zone = "Europe/Berlin"`.
//! A range may end at `24:00`; one that ends before it starts runs past midnight
//! (`Fri 22:00-02:00` is Friday night into Saturday).

use anyhow::{bail, Context as _};
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::Timestamp;

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// Minutes since Monday 00:00, local time.
type WeekMinute = u32;
const WEEK: WeekMinute = 7 * 24 * 60;

/// A weekly schedule in one time zone.
#[derive(Debug, Clone)]
pub struct OfficeHours {
    zone: TimeZone,
    zone_name: String,
    /// Half-open `[start, end)` ranges of the week, each within one week (a range
    /// across Sunday midnight is split in two).
    open: Vec<(WeekMinute, WeekMinute)>,
}

impl PartialEq for OfficeHours {
    fn eq(&self, other: &Self) -> bool {
        self.zone_name == other.zone_name && self.open == other.open
    }
}

impl OfficeHours {
    /// Parses the configuration's `office_hours` entries in `time_zone` (an IANA
    /// name such as `Europe/Berlin`, or `UTC`).
    pub fn parse(entries: &[String], time_zone: &str) -> anyhow::Result<OfficeHours> {
        let zone = if time_zone.eq_ignore_ascii_case("UTC") {
            Ok(TimeZone::UTC)
        } else {
            TimeZone::get(time_zone)
        };
        let zone = zone.with_context(|| {
            format!(
                "time_zone {time_zone:?} is not a time zone this machine knows (an IANA name such as Europe/Berlin)"
            )
        })?;
        let mut open = Vec::new();
        for entry in entries {
            parse_entry(entry, &mut open).with_context(|| {
                format!("office_hours entry {entry:?}: write it as days and times, e.g. \"Mon-Fri 09:00-17:30\"")
            })?;
        }
        if open.is_empty() {
            bail!("office_hours is empty: leave it out to be open at all times");
        }
        open.sort_unstable();
        Ok(OfficeHours {
            zone,
            zone_name: time_zone.to_owned(),
            open,
        })
    }

    /// Whether `unix_ms` falls within the office hours.
    pub fn is_open(&self, unix_ms: u64) -> bool {
        let Ok(at) = Timestamp::from_millisecond(i64::try_from(unix_ms).unwrap_or(i64::MAX)) else {
            return false;
        };
        let local = at.to_zoned(self.zone.clone());
        let day = WeekMinute::from(local.weekday().to_monday_zero_offset().unsigned_abs());
        let minute = day * 24 * 60
            + WeekMinute::from(local.hour().unsigned_abs()) * 60
            + WeekMinute::from(local.minute().unsigned_abs());
        self.open.iter().any(|&(start, end)| start <= minute && minute < end)
    }
}

fn parse_entry(entry: &str, open: &mut Vec<(WeekMinute, WeekMinute)>) -> anyhow::Result<()> {
    let mut parts = entry.split_whitespace();
    let (Some(days), Some(times), None) = (parts.next(), parts.next(), parts.next()) else {
        bail!("expected days, a space, then a time range");
    };
    let mut chosen: Vec<usize> = Vec::new();
    for group in days.split(',') {
        match group.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (day_index(first)?, day_index(last)?);
                let mut d = first;
                loop {
                    chosen.push(d);
                    if d == last {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => chosen.push(day_index(group)?),
        }
    }
    let (from, to) = times
        .split_once('-')
        .context("a time range is from-to, e.g. 09:00-17:30")?;
    let (from, to) = (clock(from)?, clock(to)?);
    if from == to {
        bail!("a time range cannot be empty");
    }
    if from == 24 * 60 {
        bail!("a time range starts before 24:00");
    }
    for day in chosen {
        let start = WeekMinute::try_from(day)? * 24 * 60 + from;
        // Past midnight when it ends before it starts.
        let end = WeekMinute::try_from(day)? * 24 * 60 + if to > from { to } else { 24 * 60 + to };
        if end <= WEEK {
            open.push((start, end));
        } else {
            open.push((start, WEEK));
            open.push((0, end - WEEK));
        }
    }
    Ok(())
}

fn day_index(name: &str) -> anyhow::Result<usize> {
    let lower = name.to_ascii_lowercase();
    DAYS.iter()
        .position(|(short, _)| lower.len() >= 3 && lower.starts_with(short) && weekday_name(short).starts_with(&lower))
        .with_context(|| format!("{name:?} is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"))
}

fn weekday_name(short: &str) -> &'static str {
    match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

/// `HH:MM` as minutes of the day; `24:00` is the end of the day.
fn clock(text: &str) -> anyhow::Result<WeekMinute> {
    let (h, m) = text
        .split_once(':')
        .with_context(|| format!("{text:?} is not a time like 09:00"))?;
    let (h, m): (WeekMinute, WeekMinute) = (
        h.parse()
            .with_context(|| format!("{text:?} is not a time like 09:00"))?,
        m.parse()
            .with_context(|| format!("{text:?} is not a time like 09:00"))?,
    );
    let (hh, mm) = text.split_once(':').unwrap_or_default();
    if hh.len() != 2 || mm.len() != 2 || m > 59 || h > 24 || (h == 24 && m != 0) {
        bail!("{text:?} is not a time between 00:00 and 24:00");
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(zone: &str, civil: &str) -> u64 {
        let zoned: jiff::Zoned = format!("{civil}[{zone}]").parse().expect("time");
        u64::try_from(zoned.timestamp().as_millisecond()).expect("after 1970")
    }

    fn hours(entries: &[&str], zone: &str) -> OfficeHours {
        OfficeHours::parse(&entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>(), zone).expect("valid")
    }

    #[test]
    fn weekdays_nine_to_half_past_five_in_berlin() {
        let h = hours(&["Mon-Fri 09:00-17:30"], "Europe/Berlin");
        // 2026-12-01 is a Tuesday.
        assert!(!h.is_open(at("Europe/Berlin", "2026-12-01T08:59")));
        assert!(h.is_open(at("Europe/Berlin", "2026-12-01T09:00")));
        assert!(h.is_open(at("Europe/Berlin", "2026-12-01T17:29")));
        assert!(
            !h.is_open(at("Europe/Berlin", "2026-12-01T17:30")),
            "the end is not included"
        );
        assert!(!h.is_open(at("Europe/Berlin", "2026-12-05T12:00")), "Saturday");
        // The same instant, seen from UTC: 08:30 UTC is 09:30 in Berlin in winter…
        assert!(h.is_open(at("UTC", "2026-12-01T08:30")));
        // …and 10:30 in summer (CEST), when 07:30 UTC is 09:30.
        assert!(h.is_open(at("UTC", "2026-07-07T07:30")));
        assert!(!h.is_open(at("UTC", "2026-07-07T15:45")), "17:45 CEST");
    }

    #[test]
    fn several_entries_day_lists_and_nights_past_midnight() {
        let h = hours(
            &["Sat,Sun 10:00-14:00", "Fri 22:00-02:00", "Sun-Mon 23:00-24:00"],
            "UTC",
        );
        assert!(h.is_open(at("UTC", "2026-12-05T10:00")), "Saturday");
        assert!(h.is_open(at("UTC", "2026-12-06T13:59")), "Sunday");
        assert!(h.is_open(at("UTC", "2026-12-04T23:00")), "Friday night");
        assert!(h.is_open(at("UTC", "2026-12-05T01:59")), "into Saturday");
        assert!(!h.is_open(at("UTC", "2026-12-05T02:00")));
        assert!(
            h.is_open(at("UTC", "2026-12-06T23:30")),
            "Sunday to the end of the week"
        );
        assert!(h.is_open(at("UTC", "2026-12-07T23:30")), "and Monday");
        assert!(!h.is_open(at("UTC", "2026-12-07T00:30")));
        assert!(!h.is_open(at("UTC", "2026-12-02T12:00")), "Wednesday");
    }

    #[test]
    fn a_range_across_sunday_midnight_wraps_into_monday() {
        let h = hours(&["Sun 20:00-06:00"], "UTC");
        assert!(h.is_open(at("UTC", "2026-12-06T21:00")));
        assert!(h.is_open(at("UTC", "2026-12-07T05:59")), "Monday morning");
        assert!(!h.is_open(at("UTC", "2026-12-07T06:00")));
    }

    #[test]
    fn mistakes_are_refused_with_the_entry_named() {
        for (entries, zone) in [
            (vec!["Mon-Fri"], "UTC"),
            (vec!["Mon-Fri 9-17"], "UTC"),
            (vec!["Mon-Fri 09:00-17:60"], "UTC"),
            (vec!["Mon-Fri 9:5-17:00"], "UTC"),
            (vec!["Mon-Fri 09:00-25:00"], "UTC"),
            (vec!["Mon-Fri 09:00-09:00"], "UTC"),
            (vec!["Funday 09:00-17:00"], "UTC"),
            (vec!["Mo 09:00-17:00"], "UTC"),
            (vec!["Mon-Fri 09:00-17:00 extra"], "UTC"),
            (vec![], "UTC"),
            (vec!["Mon-Fri 09:00-17:00"], "Mars/Olympus"),
        ] {
            let entries: Vec<String> = entries.into_iter().map(str::to_owned).collect();
            assert!(OfficeHours::parse(&entries, zone).is_err(), "{entries:?} in {zone}");
        }
        let err = OfficeHours::parse(&["Mon-Fri 9-17".to_owned()], "UTC").unwrap_err();
        assert!(format!("{err:#}").contains("Mon-Fri 9-17"), "{err:#}");
        // Full day names and any case are fine.
        assert!(OfficeHours::parse(&["monday-FRIDAY 09:00-17:00".to_owned()], "UTC").is_ok());
    }
}
