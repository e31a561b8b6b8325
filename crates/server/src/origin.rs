//! Origin checks for WebSocket upgrades (cross-site WebSocket hijacking) and
//! state-changing requests, and the memory of the site origins refused.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginCheck {
    /// The console: only this server's own pages.
    SelfOnly,
    /// The widget: this server's pages and the configured site origins. A refusal
    /// is remembered with the client's address (see [`RefusedOrigins`]).
    SiteOrSelf { from: IpAddr },
}

/// This server's own origin: the public URL's when one is configured (the Host
/// header is the client's to choose, so it proves nothing then), else the one the
/// request was addressed to (scheme from TLS, host from the Host header).
fn is_self(app: &AppState, headers: &HeaderMap, origin: &str) -> bool {
    if let Some(public) = app.public_origin.as_deref() {
        return public == origin;
    }
    let scheme = if app.config.tls.is_some() { "https" } else { "http" };
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|host| crate::config::normalize_origin(&format!("{scheme}://{host}")).ok())
        .is_some_and(|own| own == origin)
}

/// The Origin header normalised (`scheme://host[:port]`), or `null` for an opaque
/// origin or one that is not an http(s) URL (a sandboxed frame, a `file:` page).
fn normalized(value: &header::HeaderValue) -> String {
    value
        .to_str()
        .ok()
        .and_then(|o| crate::config::normalize_origin(o).ok())
        .unwrap_or_else(|| "null".to_owned())
}

/// Refuses a browser request from a foreign page. Requests without an Origin
/// header come from non-browser clients, which cannot carry a victim's cookies
/// without being given them, so they pass.
pub fn check(app: &AppState, headers: &HeaderMap, check: OriginCheck) -> Result<(), Box<Response>> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = normalized(origin);
    let allowed =
        is_self(app, headers, &origin) || (check != OriginCheck::SelfOnly && app.site_origins.contains(&origin));
    if allowed {
        return Ok(());
    }
    match check {
        // The widget on a site the operator has not listed (yet): say so once, with
        // the setting that fixes it.
        OriginCheck::SiteOrSelf { from } => {
            app.refused_origins.record(&origin, from, crate::now_ms());
        }
        OriginCheck::SelfOnly => tracing::info!(%origin, "refused a console request from a foreign origin"),
    }
    Err(Box::new(
        (StatusCode::FORBIDDEN, "this origin is not allowed").into_response(),
    ))
}

/// For cross-origin reads and uploads by the widget (CORS): the request's Origin,
/// when it is this server's own or a configured site's. `None` without an Origin
/// header or for any other origin (which is remembered as refused).
pub fn site_origin(app: &AppState, headers: &HeaderMap, address: IpAddr) -> Option<String> {
    let origin = normalized(headers.get(header::ORIGIN)?);
    if is_self(app, headers, &origin) || app.site_origins.contains(&origin) {
        Some(origin)
    } else {
        app.refused_origins.record(&origin, address, crate::now_ms());
        None
    }
}

/// The site origins the widget may be used on: the configured ones
/// (`allowed_origins`), and those the admin added in the console (stored in the
/// database, loaded at start and replaced here after every change). Checks read
/// memory only: they never wait on the database, and see a change at once.
#[derive(Debug)]
pub struct SiteOrigins {
    configured: Vec<String>,
    /// Replaced whole on a change (a write lock for a moment); a check clones
    /// nothing and holds the read lock for a look-up.
    stored: RwLock<Arc<Vec<String>>>,
    /// Held by a change from its database write until memory holds the result,
    /// so that two admins' changes cannot leave memory behind the database.
    pub changing: tokio::sync::Mutex<()>,
}

impl SiteOrigins {
    pub fn new(configured: Vec<String>) -> SiteOrigins {
        SiteOrigins {
            configured,
            stored: RwLock::default(),
            changing: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether `origin` (normalised) is a configured or a stored site origin.
    pub fn contains(&self, origin: &str) -> bool {
        self.configured.iter().any(|o| o == origin) || self.stored().iter().any(|o| o == origin)
    }

    pub fn configured(&self) -> &[String] {
        &self.configured
    }

    /// The stored origins, as last set.
    pub fn stored(&self) -> Arc<Vec<String>> {
        self.stored
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces the stored origins with what the database now holds.
    pub fn set_stored(&self, origins: Vec<String>) {
        *self.stored.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(origins);
    }
}

/// Most refused origins remembered at once. A new one beyond this replaces the
/// one least worth keeping (see [`RefusedOrigins::record`]), which is logged
/// again if it comes back.
pub const REFUSED_ORIGINS_KEPT: usize = 256;

/// Distinct address groups (an IPv4 address, an IPv6 /64) counted per refused
/// origin; more make it no more worth keeping.
const GROUPS_COUNTED: usize = 4;

/// An origin not refused for this long goes before any other when room is needed.
const STALE_AFTER_MS: u64 = 24 * 60 * 60 * 1000;

/// One origin the widget was refused on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedOrigin {
    pub origin: String,
    pub first_ms: u64,
    pub last_ms: u64,
    pub count: u64,
}

#[derive(Debug)]
struct Entry {
    shown: RefusedOrigin,
    /// The first [`GROUPS_COUNTED`] address groups it was refused for.
    groups: Vec<IpAddr>,
    /// Logged at WARN (a refusal while the minute's warnings were used up is
    /// logged at the next refusal that finds room).
    warned: bool,
}

/// The site origins refused during this run, so that each is logged once (a
/// site that embeds the widget without being allowed would otherwise log every
/// page view) and the admin can be shown them. A std Mutex: nothing awaits while
/// it is held, and it is held for a map look-up (a scan of at most
/// [`REFUSED_ORIGINS_KEPT`] entries when one must be replaced).
///
/// Anyone can send any `Origin` header, so an attacker can try to push the one
/// entry the admin needs (their real site, refused on every page view) out of
/// the list with made-up origins. When the list is full, what goes first is an
/// origin not seen for a day, then the one refused for the fewest address groups,
/// then the one refused least recently: a real site is refused for its many
/// visitors' addresses, and a flood from a few addresses only replaces itself.
#[derive(Debug, Default)]
pub struct RefusedOrigins {
    seen: Mutex<Seen>,
    /// Every refusal, repeated ones included (`/metrics`).
    pub total: AtomicU64,
}

/// Most new-origin warnings a minute: past this (an attacker sending made-up
/// origins), refused origins are still remembered and counted, not logged.
const WARNINGS_PER_MINUTE: u32 = 10;

#[derive(Debug, Default)]
struct Seen {
    origins: HashMap<String, Entry>,
    /// The minute the warning count is for, and the warnings logged in it.
    minute: u64,
    warnings: u32,
}

/// Takes one of this minute's [`WARNINGS_PER_MINUTE`] warnings, if any is left.
fn warning_room(minute: &mut u64, warnings: &mut u32, now_ms: u64) -> bool {
    let now = now_ms / 60_000;
    if *minute != now {
        *minute = now;
        *warnings = 0;
    }
    if *warnings >= WARNINGS_PER_MINUTE {
        return false;
    }
    *warnings += 1;
    true
}

/// The one WARN for a refused origin, naming the settings that allow it.
fn warn_refused(origin: &str) {
    if origin == "null" {
        tracing::warn!(
            "refused the widget on a page without an origin it can be allowed by (a sandboxed frame, a file: page); \
             serve the page from an http(s) origin and add that to allowed_origins"
        );
    } else {
        tracing::warn!(
            %origin,
            "refused the widget on a site that is not allowed: add its origin to allowed_origins in the \
             configuration file, or to --allowed-origins / SIGHTLINE_ALLOWED_ORIGINS, or allow it on the console's \
             Install page (logged once per origin)"
        );
    }
}

impl RefusedOrigins {
    /// Counts a refusal of `origin` (normalised) for a client at `address`; logs
    /// a warning the first time (at most ten a minute), and then returns true. An
    /// origin longer than any that can be allowed is counted, never kept.
    pub fn record(&self, origin: &str, address: IpAddr, now_ms: u64) -> bool {
        self.total.fetch_add(1, Ordering::Relaxed);
        if origin.len() > sightline_proto::api::MAX_SITE_ORIGIN_BYTES {
            return false;
        }
        let group = sightline_core::address_group(address);
        let mut guard = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let state = &mut *guard;
        let seen = &mut state.origins;
        if let Some(entry) = seen.get_mut(origin) {
            entry.shown.count += 1;
            entry.shown.last_ms = now_ms;
            if entry.groups.len() < GROUPS_COUNTED && !entry.groups.contains(&group) {
                entry.groups.push(group);
            }
            if entry.warned {
                return false;
            }
            // Its first refusal came in a flood of warnings: said now, if there is room.
            let warn = warning_room(&mut state.minute, &mut state.warnings, now_ms);
            entry.warned = warn;
            drop(guard);
            if warn {
                warn_refused(origin);
            }
            return warn;
        }
        if seen.len() >= REFUSED_ORIGINS_KEPT {
            let least_worth = seen
                .values()
                .min_by_key(|e| {
                    let fresh = e.shown.last_ms.saturating_add(STALE_AFTER_MS) > now_ms;
                    (fresh, e.groups.len(), e.shown.last_ms, &e.shown.origin)
                })
                .map(|e| e.shown.origin.clone());
            if let Some(origin) = least_worth {
                seen.remove(&origin);
            }
        }
        seen.insert(
            origin.to_owned(),
            Entry {
                shown: RefusedOrigin {
                    origin: origin.to_owned(),
                    first_ms: now_ms,
                    last_ms: now_ms,
                    count: 1,
                },
                groups: vec![group],
                warned: false,
            },
        );
        let warn = warning_room(&mut state.minute, &mut state.warnings, now_ms);
        if let Some(entry) = seen.get_mut(origin) {
            entry.warned = warn;
        }
        drop(guard);
        if warn {
            warn_refused(origin);
        }
        warn
    }

    /// Forgets an origin (it was just allowed).
    pub fn forget(&self, origin: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .origins
            .remove(origin);
    }

    /// The origins remembered, most recently refused first.
    pub fn recent(&self) -> Vec<RefusedOrigin> {
        let seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut list: Vec<RefusedOrigin> = seen.origins.values().map(|e| e.shown.clone()).collect();
        list.sort_by(|a, b| b.last_ms.cmp(&a.last_ms).then_with(|| a.origin.cmp(&b.origin)));
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7));

    fn address(n: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn overlong_origins_are_counted_not_kept_and_warnings_are_rate_limited() {
        let refused = RefusedOrigins::default();
        let long = format!("https://{}.example", "a".repeat(300));
        assert!(!refused.record(&long, ONE, 1));
        assert!(refused.recent().is_empty(), "nothing kept of it");
        assert_eq!(refused.total.load(Ordering::Relaxed), 1);
        // Made-up origins: all remembered (up to the bound), only some logged.
        let logged = (0..50)
            .filter(|n| refused.record(&format!("https://x{n}.example"), ONE, 60_000 + n))
            .count();
        assert_eq!(logged, WARNINGS_PER_MINUTE as usize);
        assert_eq!(refused.recent().len(), 50);
        // A minute later, warnings start again.
        assert!(refused.record("https://later.example", ONE, 120_000));
    }

    #[test]
    fn each_origin_is_remembered_once_and_memory_stays_bounded() {
        let refused = RefusedOrigins::default();
        assert!(refused.record("https://a.example", ONE, 1), "logged the first time");
        assert!(!refused.record("https://a.example", ONE, 5), "not again");
        let recent = refused.recent();
        assert_eq!(recent.len(), 1);
        assert_eq!((recent[0].first_ms, recent[0].last_ms, recent[0].count), (1, 5, 2));
        for n in 0..REFUSED_ORIGINS_KEPT as u64 {
            // One a minute: each is logged.
            assert!(refused.record(&format!("https://site{n}.example"), ONE, 10 + n * 60_000));
        }
        let recent = refused.recent();
        assert_eq!(recent.len(), REFUSED_ORIGINS_KEPT);
        assert!(
            !recent.iter().any(|e| e.origin == "https://a.example"),
            "the one seen least recently made room"
        );
        assert_eq!(
            recent[0].origin,
            format!("https://site{}.example", REFUSED_ORIGINS_KEPT - 1)
        );
        assert_eq!(refused.total.load(Ordering::Relaxed), 2 + REFUSED_ORIGINS_KEPT as u64);
    }

    #[test]
    fn a_flood_of_made_up_origins_does_not_push_out_a_real_site() {
        let refused = RefusedOrigins::default();
        // The real site, refused for three of its visitors.
        for n in 0..3 {
            refused.record("https://shop.example", address(n), 1_000 + u64::from(n));
        }
        // Then made-up origins from many addresses (each from one), far more than
        // the list holds, all more recent than the real site.
        for n in 0..(4 * REFUSED_ORIGINS_KEPT as u32) {
            refused.record(
                &format!("https://fake{n}.example"),
                address(100 + n),
                2_000 + u64::from(n),
            );
        }
        let recent = refused.recent();
        assert_eq!(recent.len(), REFUSED_ORIGINS_KEPT, "memory stays bounded");
        assert!(
            recent.iter().any(|e| e.origin == "https://shop.example"),
            "the real site is still shown"
        );
        // The flood replaced itself: the newest made-up origins are there.
        assert!(recent
            .iter()
            .any(|e| e.origin == format!("https://fake{}.example", 4 * REFUSED_ORIGINS_KEPT - 1)));

        // One address repeating an origin counts once: it does not outrank the real site.
        for _ in 0..10 {
            refused.record("https://loud.example", ONE, 9_000);
        }
        for n in 0..(2 * REFUSED_ORIGINS_KEPT as u32) {
            refused.record(
                &format!("https://more{n}.example"),
                address(5_000 + n),
                10_000 + u64::from(n),
            );
        }
        let recent = refused.recent();
        assert!(recent.iter().any(|e| e.origin == "https://shop.example"));
        assert!(
            !recent.iter().any(|e| e.origin == "https://loud.example"),
            "one address is one address"
        );

        // A day later the real site, not refused since, is the first to go.
        // (Its last refusal was at 1,002 ms; every other entry is fresher.)
        let day_later = 1_002 + STALE_AFTER_MS + 1;
        refused.record("https://new-site.example", ONE, day_later);
        let recent = refused.recent();
        assert!(
            !recent.iter().any(|e| e.origin == "https://shop.example"),
            "a stale entry makes room first"
        );
        assert!(recent.iter().any(|e| e.origin == "https://new-site.example"));
    }

    #[test]
    fn a_site_first_refused_in_a_flood_is_still_logged_once_later() {
        let refused = RefusedOrigins::default();
        // A flood uses up the minute's warnings.
        for n in 0..WARNINGS_PER_MINUTE {
            assert!(refused.record(&format!("https://fake{n}.example"), ONE, 1_000));
        }
        assert!(
            !refused.record("https://shop.example", address(1), 2_000),
            "no room this minute"
        );
        assert!(!refused.record("https://shop.example", address(2), 3_000), "still none");
        // The next minute, its next refusal is logged, and only that one.
        assert!(refused.record("https://shop.example", address(3), 61_000));
        assert!(!refused.record("https://shop.example", address(4), 62_000));
        assert!(
            !refused.record("https://fake0.example", ONE, 63_000),
            "those logged are not again"
        );
    }
}
