//! A conversation as plain text, for either side to download
//! (`GET /api/conversations/{id}/transcript`, `GET /api/visitor/transcript`).
//! [`render`] is pure: the events and the reader's time zone in, the text out;
//! the two handlers read the store and check who asks.
//!
//! Served as `text/plain` attachments with `nosniff`, so the visitor's words are
//! never read as markup. What the visitor did not see in the widget (the pages
//! they opened while co-browsing, what the agent's control did, anything only
//! agents see) is left out of the visitor's copy.

use std::net::IpAddr;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use sightline_proto::{
    AgentRef, Capability, ConversationId, ConversationSummary, Event, EventKind, GrantState, InviteRole, MessageBody,
    Role, ScreenshotState, ShareState, MAX_RATING_SCORE,
};

use crate::api::{Agent, ApiResult, Failure};
use crate::images::{bearer, with_cors};
use crate::net::ClientAddr;
use crate::origin::{self, OriginCheck};
use crate::AppState;

/// Who reads the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Agent,
    Visitor,
}

/// The time zone a client named (`?tz=Europe/Paris`), when this server knows it
/// and the name is of a sane length; UTC otherwise.
pub fn time_zone(name: Option<&str>) -> TimeZone {
    name.filter(|n| !n.is_empty() && n.len() <= sightline_proto::MAX_TIME_ZONE_BYTES)
        .and_then(|n| TimeZone::get(n).ok())
        .unwrap_or(TimeZone::UTC)
}

/// The file name offered for the download: the conversation's day.
pub fn file_name(conversation: &ConversationSummary, tz: &TimeZone) -> String {
    let day = Timestamp::from_millisecond(conversation.created_at as i64)
        .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| "conversation".into());
    format!("conversation-{day}.txt")
}

fn agent_name<'a>(agent: Option<&'a AgentRef>, w: &'static VisitorWords) -> &'a str {
    agent.map(|a| a.display_name.as_str()).unwrap_or(w.the_agent)
}

/// A language the visitor's copy is written in (`?lang=` of the visitor's
/// download, the widget's own language). Anything else is English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
    Fr,
}

impl Lang {
    /// The language a client named; English when missing or unknown.
    pub fn from_query(name: Option<&str>) -> Lang {
        match name {
            Some("de") => Lang::De,
            Some("fr") => Lang::Fr,
            _ => Lang::En,
        }
    }

    fn words(self) -> &'static VisitorWords {
        match self {
            Lang::En => &VisitorWords::EN,
            Lang::De => &VisitorWords::DE,
            Lang::Fr => &VisitorWords::FR,
        }
    }
}

/// Every line of the visitor's copy, in one language. `{name}`-style holes are
/// filled by `fill`. The English table is also what the agents' copy uses
/// for the lines both copies share, so it must stay word for word as it was.
/// German and French follow the widget's own wording where it has the same sentence.
pub struct VisitorWords {
    heading: &'static str,
    started: &'static str,
    you: &'static str,
    the_agent: &'static str,
    picture: &'static str,
    joined: &'static str,
    joined_conversation: &'static str,
    left: &'static str,
    you_ended: &'static str,
    agent_ended: &'static str,
    handed: &'static str,
    requeued: &'static str,
    link_pushed: &'static str,
    email_left: &'static str,
    share: &'static str,
    grant: &'static str,
    screenshot: &'static str,
    rated: &'static str,
    /// Between who and what they wrote, and between the rating and its comment
    /// (French puts a space before a colon).
    colon: &'static str,
    screen_share: &'static str,
    cobrowse: &'static str,
    remote_control: &'static str,
    recording: &'static str,
    states: States,
}

/// The names of share, grant and screenshot states.
struct States {
    asked: &'static str,
    invited: &'static str,
    accepted: &'static str,
    allowed: &'static str,
    choosing: &'static str,
    sharing: &'static str,
    active: &'static str,
    declined: &'static str,
    cancelled: &'static str,
    failed: &'static str,
    ended: &'static str,
    sent: &'static str,
    withdrawn: &'static str,
}

impl VisitorWords {
    pub const EN: VisitorWords = VisitorWords {
        heading: "Conversation with {company}",
        started: "Started {time} ({tz})",
        you: "You",
        the_agent: "The agent",
        picture: "[picture, {width}×{height}]",
        joined: "{name} joined.",
        joined_conversation: "{name} joined the conversation.",
        left: "{name} left the conversation.",
        you_ended: "You ended the conversation.",
        agent_ended: "{name} ended the conversation.",
        handed: "{by} handed the conversation to {to}.",
        requeued: "{by} put the conversation back in the queue.",
        link_pushed: "{name} sent a link to open: <{url}>",
        email_left: "You left your e-mail address: {email}",
        share: "Screen share: {state}.",
        grant: "{capability}: {state}.",
        screenshot: "Screenshot request: {state}.",
        rated: "You rated the conversation {score} of {max} {stars}",
        colon: ": ",
        screen_share: "Screen share",
        cobrowse: "Cobrowse",
        remote_control: "Remote control",
        recording: "Recording",
        states: States {
            asked: "asked",
            invited: "invited",
            accepted: "accepted",
            allowed: "allowed",
            choosing: "choosing",
            sharing: "sharing",
            active: "active",
            declined: "declined",
            cancelled: "cancelled",
            failed: "failed",
            ended: "ended",
            sent: "sent",
            withdrawn: "withdrawn",
        },
    };

    pub const DE: VisitorWords = VisitorWords {
        heading: "Unterhaltung mit {company}",
        started: "Begonnen am {time} ({tz})",
        you: "Sie",
        the_agent: "Ein Mitarbeiter",
        picture: "[Bild, {width}×{height}]",
        joined: "{name} ist der Unterhaltung beigetreten.",
        joined_conversation: "{name} ist der Unterhaltung beigetreten.",
        left: "{name} hat die Unterhaltung verlassen.",
        you_ended: "Sie haben die Unterhaltung beendet.",
        agent_ended: "{name} hat die Unterhaltung beendet.",
        handed: "{by} hat die Unterhaltung an {to} übergeben.",
        requeued: "{by} hat die Unterhaltung zurück in die Warteschlange gestellt.",
        link_pushed: "{name} hat einen Link zum Öffnen gesendet: <{url}>",
        email_left: "Sie haben Ihre E-Mail-Adresse hinterlassen: {email}",
        share: "Bildschirmfreigabe: {state}.",
        grant: "{capability}: {state}.",
        screenshot: "Screenshot-Anfrage: {state}.",
        rated: "Sie haben die Unterhaltung mit {score} von {max} {stars} bewertet",
        colon: ": ",
        screen_share: "Bildschirmfreigabe",
        cobrowse: "Gemeinsames Browsen",
        remote_control: "Steuerung",
        recording: "Aufzeichnung",
        states: States {
            asked: "angefragt",
            invited: "angefragt",
            accepted: "angenommen",
            allowed: "erlaubt",
            choosing: "Auswahl läuft",
            sharing: "läuft",
            active: "läuft",
            declined: "abgelehnt",
            cancelled: "abgebrochen",
            failed: "fehlgeschlagen",
            ended: "beendet",
            sent: "gesendet",
            withdrawn: "zurückgezogen",
        },
    };

    pub const FR: VisitorWords = VisitorWords {
        heading: "Conversation avec {company}",
        started: "Commencée le {time} ({tz})",
        you: "Vous",
        the_agent: "Un conseiller",
        picture: "[image, {width}×{height}]",
        joined: "{name} a rejoint la conversation.",
        joined_conversation: "{name} a rejoint la conversation.",
        left: "{name} a quitté la conversation.",
        you_ended: "Vous avez terminé la conversation.",
        agent_ended: "{name} a terminé la conversation.",
        handed: "{by} a confié la conversation à {to}.",
        requeued: "{by} a remis la conversation dans la file d’attente.",
        link_pushed: "{name} a envoyé un lien à ouvrir : <{url}>",
        email_left: "Vous avez laissé votre adresse e-mail : {email}",
        share: "Partage d’écran : {state}.",
        grant: "{capability} : {state}.",
        screenshot: "Demande de capture d’écran : {state}.",
        rated: "Vous avez noté la conversation {score} sur {max} {stars}",
        colon: " : ",
        screen_share: "Partage d’écran",
        cobrowse: "Co-navigation",
        remote_control: "Contrôle à distance",
        recording: "Enregistrement",
        // Nouns, not participles: they follow feminine and masculine names alike
        // ("Co-navigation : fin.", "Partage d’écran : refus.").
        states: States {
            asked: "demande",
            invited: "demande",
            accepted: "acceptation",
            allowed: "autorisation",
            choosing: "choix en cours",
            sharing: "en cours",
            active: "en cours",
            declined: "refus",
            cancelled: "annulation",
            failed: "échec",
            ended: "fin",
            sent: "envoi",
            withdrawn: "retrait",
        },
    };

    fn capability(&self, capability: Capability) -> &'static str {
        match capability {
            Capability::ScreenShare => self.screen_share,
            Capability::Cobrowse => self.cobrowse,
            Capability::RemoteControl => self.remote_control,
            Capability::Recording => self.recording,
        }
    }

    fn share_state(&self, state: ShareState) -> &'static str {
        let s = &self.states;
        match state {
            ShareState::Invited => s.invited,
            ShareState::Accepted => s.accepted,
            ShareState::Choosing => s.choosing,
            ShareState::Sharing => s.sharing,
            ShareState::Declined => s.declined,
            ShareState::Cancelled => s.cancelled,
            ShareState::Failed => s.failed,
            ShareState::Ended => s.ended,
        }
    }

    fn grant_state(&self, state: GrantState) -> &'static str {
        let s = &self.states;
        match state {
            GrantState::Asked => s.asked,
            GrantState::Allowed => s.allowed,
            GrantState::Choosing => s.choosing,
            GrantState::Active => s.active,
            GrantState::Declined => s.declined,
            GrantState::Cancelled => s.cancelled,
            GrantState::Failed => s.failed,
            GrantState::Ended => s.ended,
        }
    }

    fn screenshot_state(&self, state: ScreenshotState) -> &'static str {
        let s = &self.states;
        match state {
            ScreenshotState::Asked => s.asked,
            ScreenshotState::Sent => s.sent,
            ScreenshotState::Declined => s.declined,
            ScreenshotState::Withdrawn => s.withdrawn,
            ScreenshotState::Ended => s.ended,
        }
    }
}

/// `template` with each `{key}` replaced by its value, in one pass, so a value
/// (a name, a message) that holds braces is never read as a hole itself.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').and_then(|close| {
            let key = &after[..close];
            values.iter().find(|(k, _)| *k == key).map(|(_, v)| (close, *v))
        }) {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text: a heading, then one line per event (continuation lines of a long
/// message indented), a new date line when the day changes. The visitor's copy
/// is in `lang`; the agents' copy is always English.
pub fn render(
    conversation: &ConversationSummary,
    events: &[Event],
    reader: Reader,
    company: &str,
    tz: &TimeZone,
    lang: Lang,
) -> String {
    let w = match reader {
        Reader::Agent => &VisitorWords::EN,
        Reader::Visitor => lang.words(),
    };
    let mut out = String::new();
    let zoned = |ms: u64| {
        Timestamp::from_millisecond(ms as i64)
            .ok()
            .map(|t| t.to_zoned(tz.clone()))
    };
    let tz_name = tz.iana_name().unwrap_or("UTC");
    out.push_str(&fill(w.heading, &[("company", company)]));
    out.push('\n');
    if let Some(start) = zoned(conversation.created_at) {
        let time = start.strftime("%Y-%m-%d %H:%M").to_string();
        out.push_str(&fill(w.started, &[("time", &time), ("tz", tz_name)]));
        out.push('\n');
    }
    let visitor = if reader == Reader::Visitor { w.you } else { "Visitor" };
    let mut day = String::new();
    for event in events {
        // The visitor's copy is what the visitor may see of each event (the one
        // filter, `Event::for_visitor`): no notes, nothing of observers.
        let visible;
        let event = match reader {
            Reader::Agent => event,
            Reader::Visitor => match event.for_visitor() {
                Some(e) => {
                    visible = e;
                    &visible
                }
                None => continue,
            },
        };
        let line = match &event.kind {
            EventKind::Message { from, agent, body, .. } => {
                let who = match from {
                    Role::Visitor => visitor,
                    Role::Agent => agent_name(agent.as_ref(), w),
                };
                let what = match body {
                    MessageBody::Text { text } => text.clone(),
                    MessageBody::Link { url, title } => match title {
                        Some(title) if !title.is_empty() => format!("{title} <{url}>"),
                        _ => format!("<{url}>"),
                    },
                    MessageBody::Image { image } => fill(
                        w.picture,
                        &[
                            ("width", &image.width.to_string()),
                            ("height", &image.height.to_string()),
                        ],
                    ),
                };
                Some(format!("{who}{}{what}", w.colon))
            }
            EventKind::Started { .. } => None,
            EventKind::AgentJoined { agent } | EventKind::JoinedWithKey { agent } => {
                Some(fill(w.joined, &[("name", &agent.display_name)]))
            }
            EventKind::Closed { by, agent } => Some(match by {
                Role::Visitor if reader == Reader::Visitor => w.you_ended.to_owned(),
                Role::Visitor => "The visitor ended the conversation.".to_owned(),
                Role::Agent => fill(w.agent_ended, &[("name", agent_name(agent.as_ref(), w))]),
            }),
            EventKind::Share { state, .. } => Some(fill(w.share, &[("state", w.share_state(*state))])),
            EventKind::Grant { capability, state, .. } => Some(fill(
                w.grant,
                &[
                    ("capability", w.capability(*capability)),
                    ("state", w.grant_state(*state)),
                ],
            )),
            EventKind::PagePushed { agent, url } => {
                Some(fill(w.link_pushed, &[("name", &agent.display_name), ("url", url)]))
            }
            EventKind::EmailLeft { email } => Some(match reader {
                Reader::Visitor => fill(w.email_left, &[("email", email)]),
                Reader::Agent => format!("The visitor left an e-mail address: {email}"),
            }),
            EventKind::PageViewed { page } if reader == Reader::Agent => {
                Some(format!("The visitor opened \"{}\" <{}>", page.title, page.url))
            }
            EventKind::Note { agent, text, .. } if reader == Reader::Agent => {
                Some(format!("Note by {} (agents only): {text}", agent.display_name))
            }
            EventKind::Transferred { by, agent, note } => {
                let moved = match agent {
                    Some(a) => fill(w.handed, &[("by", &by.display_name), ("to", &a.display_name)]),
                    None => fill(w.requeued, &[("by", &by.display_name)]),
                };
                Some(match (reader, note) {
                    (Reader::Agent, Some(note)) => format!("{moved} Note (agents only): {note}"),
                    _ => moved,
                })
            }
            EventKind::AgentInvited { agent, role, by, note } => {
                let how = match role {
                    InviteRole::Observer => "to observe (read-only)",
                    InviteRole::Participant => "to take part",
                };
                Some(match (reader, note) {
                    (Reader::Visitor, _) => fill(w.joined_conversation, &[("name", &agent.display_name)]),
                    (Reader::Agent, Some(note)) => format!(
                        "{} invited {} {how}. Note (agents only): {note}",
                        by.display_name, agent.display_name
                    ),
                    (Reader::Agent, None) => format!("{} invited {} {how}.", by.display_name, agent.display_name),
                })
            }
            EventKind::AgentLeft { agent, by, .. } => Some(if by.id == agent.id || reader == Reader::Visitor {
                fill(w.left, &[("name", &agent.display_name)])
            } else {
                format!(
                    "{} took {} out of the conversation.",
                    by.display_name, agent.display_name
                )
            }),
            EventKind::Identified { identity } if reader == Reader::Agent => Some(format!(
                "The site identified the visitor: {}",
                [
                    identity.name.as_deref(),
                    identity.email.as_deref(),
                    Some(identity.id.as_str())
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
            )),
            EventKind::Screenshot { state, .. } => Some(fill(w.screenshot, &[("state", w.screenshot_state(*state))])),
            EventKind::Rated { score, comment } => {
                let stars = format!(
                    "{}{}",
                    "★".repeat(usize::from(*score)),
                    "☆".repeat(usize::from(MAX_RATING_SCORE.saturating_sub(*score)))
                );
                let rated = if reader == Reader::Visitor {
                    fill(
                        w.rated,
                        &[
                            ("score", &score.to_string()),
                            ("max", &MAX_RATING_SCORE.to_string()),
                            ("stars", &stars),
                        ],
                    )
                } else {
                    format!("The visitor rated the conversation {score} of {MAX_RATING_SCORE} {stars}")
                };
                Some(match comment {
                    Some(comment) => format!("{rated}{}{comment}", w.colon),
                    None => format!("{rated}."),
                })
            }
            EventKind::PageViewed { .. }
            | EventKind::Control { .. }
            | EventKind::Note { .. }
            | EventKind::Identified { .. } => None,
        };
        let Some(line) = line else { continue };
        let Some(at) = zoned(event.at) else { continue };
        let today = at.strftime("%Y-%m-%d").to_string();
        if today != day {
            out.push_str(&format!("\n{today}\n"));
            day = today;
        }
        let mut lines = line.lines();
        out.push_str(&format!(
            "[{}] {}\n",
            at.strftime("%H:%M"),
            lines.next().unwrap_or_default()
        ));
        for more in lines {
            out.push_str(&format!("        {more}\n"));
        }
    }
    out
}

/// `?tz=` of both downloads: the reader's time zone, as the browser names it;
/// `?lang=` of the visitor's: the widget's language (`en`, `de`, `fr`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct TranscriptQuery {
    pub tz: Option<String>,
    pub lang: Option<String>,
}

fn attachment(text: String, name: &str) -> Response {
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

fn company(app: &AppState) -> &str {
    app.config.company.name.as_deref().unwrap_or("support")
}

/// Most events a transcript holds (as the console's transcript reads).
const MAX_EVENTS: u32 = 100_000;

/// `GET /api/conversations/{id}/transcript`: for an agent who may read it.
pub async fn for_agent(
    State(app): State<AppState>,
    Agent(me): Agent,
    Path(id): Path<ConversationId>,
    Query(query): Query<TranscriptQuery>,
) -> ApiResult<Response> {
    let conversation = crate::api::readable_conversation(&app, &me, &id).await?;
    let events = app.store.events(&id, 0, None, MAX_EVENTS).await?;
    let tz = time_zone(query.tz.as_deref());
    let text = render(&conversation, &events, Reader::Agent, company(&app), &tz, Lang::En);
    Ok(attachment(text, &file_name(&conversation, &tz)))
}

/// `GET /api/visitor/transcript`: the visitor's newest conversation, for the
/// holder of its visitor token (a Bearer token, from the widget on an allowed site).
pub async fn for_visitor(
    State(app): State<AppState>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    Query(query): Query<TranscriptQuery>,
) -> Response {
    let cors = origin::site_origin(&app, &headers, ip);
    let result = visitor_inner(&app, ip, &headers, query).await;
    with_cors(result.unwrap_or_else(IntoResponse::into_response), cors)
}

async fn visitor_inner(app: &AppState, ip: IpAddr, headers: &HeaderMap, query: TranscriptQuery) -> ApiResult<Response> {
    if origin::check(app, headers, OriginCheck::SiteOrSelf { from: ip }).is_err() {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            "this site may not read transcripts here",
        ));
    }
    let token = bearer(headers)
        .filter(|t| t.len() <= sightline_proto::MAX_TOKEN_BYTES)
        .ok_or_else(|| {
            Failure::new(
                StatusCode::UNAUTHORIZED,
                "not_authenticated",
                "send the visitor token as a Bearer token",
            )
        })?;
    let hash = sightline_core::token_hash(token);
    let group = sightline_core::address_group(ip);
    if !app
        .upload_limiter
        .allow(&[format!("transcript-ip:{group}"), format!("transcript:{hash}")])
    {
        return Err(Failure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many downloads in a short time; wait a moment",
        ));
    }
    let conversation = app
        .store
        .visitor_by_token_hash(&hash)
        .await?
        .and_then(|v| v.latest)
        .map(|c| c.summary)
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, "not_found", "no conversation yet"))?;
    let events = app.store.events(&conversation.id, 0, None, MAX_EVENTS).await?;
    let tz = time_zone(query.tz.as_deref());
    let lang = Lang::from_query(query.lang.as_deref());
    let text = render(&conversation, &events, Reader::Visitor, company(app), &tz, lang);
    Ok(attachment(text, &file_name(&conversation, &tz)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::{AgentId, ImageId, ImageRef, PageInfo};

    fn agent() -> AgentRef {
        AgentRef {
            id: AgentId(1),
            display_name: "Ada".into(),
            colour: None,
        }
    }

    fn event(seq: u64, at: u64, kind: EventKind) -> Event {
        Event { seq, at, kind }
    }

    fn message(from: Role, text: &str) -> EventKind {
        EventKind::Message {
            from,
            agent: (from == Role::Agent).then(agent),
            client_id: "c".into(),
            body: MessageBody::Text { text: text.into() },
        }
    }

    fn summary(created_at: u64) -> ConversationSummary {
        serde_json::from_value(serde_json::json!({
            "id": "c1", "status": "closed", "agent": null, "created_at": created_at,
            "last_seq": 0, "last_activity_at": created_at, "preview": null, "page": null,
            "visitor_online": false, "share": null, "grants": []
        }))
        .expect("a summary")
    }

    // 2026-12-01 23:58 UTC, and two minutes later (the next day).
    const T: u64 = 1_796_169_480_000;

    fn events() -> Vec<Event> {
        vec![
            event(1, T, EventKind::Started { page: None }),
            event(2, T, message(Role::Visitor, "Hello\nsecond line <b>x</b>")),
            event(3, T + 60_000, EventKind::AgentJoined { agent: agent() }),
            event(
                4,
                T + 120_000,
                EventKind::PageViewed {
                    page: PageInfo {
                        url: "https://shop.example/cart".into(),
                        title: "Cart".into(),
                    },
                },
            ),
            event(
                5,
                T + 120_000,
                EventKind::Grant {
                    grant: "g".into(),
                    capability: Capability::Cobrowse,
                    state: GrantState::Active,
                    by: Role::Visitor,
                    agent: None,
                    message: None,
                    detail: None,
                },
            ),
            event(
                6,
                T + 180_000,
                EventKind::Message {
                    from: Role::Agent,
                    agent: Some(agent()),
                    client_id: "d".into(),
                    body: MessageBody::Image {
                        image: ImageRef {
                            id: ImageId::from("i"),
                            mime: "image/png".into(),
                            width: 1280,
                            height: 720,
                            bytes: 10,
                            thumb_width: 320,
                            thumb_height: 180,
                            has_annotations: false,
                            source_image: None,
                        },
                    },
                },
            ),
            event(
                7,
                T + 240_000,
                EventKind::Closed {
                    by: Role::Visitor,
                    agent: None,
                },
            ),
        ]
    }

    #[test]
    fn the_visitor_reads_the_chat_in_their_time_zone_without_agents_only_lines() {
        let tz = time_zone(Some("Europe/Paris"));
        let text = render(&summary(T), &events(), Reader::Visitor, "Northwind Bank", &tz, Lang::En);
        assert_eq!(
            text,
            "Conversation with Northwind Bank\n\
             Started 2026-12-02 00:58 (Europe/Paris)\n\
             \n2026-12-02\n\
             [00:58] You: Hello\n\
             \x20       second line <b>x</b>\n\
             [00:59] Ada joined.\n\
             [01:00] Cobrowse: active.\n\
             [01:01] Ada: [picture, 1280×720]\n\
             [01:02] You ended the conversation.\n"
        );
        assert!(
            !text.contains("shop.example/cart"),
            "the pages they opened are the agents' business"
        );
    }

    #[test]
    fn agents_read_everything_in_utc_by_default_and_days_change() {
        let tz = time_zone(None);
        let text = render(&summary(T), &events(), Reader::Agent, "Northwind Bank", &tz, Lang::En);
        assert!(text.contains("Started 2026-12-01 23:58 (UTC)"), "{text}");
        assert!(text.contains("\n2026-12-01\n[23:58] Visitor: Hello\n"), "{text}");
        assert!(
            text.contains("\n2026-12-02\n[00:00] The visitor opened \"Cart\" <https://shop.example/cart>\n"),
            "{text}"
        );
        assert!(text.contains("[00:02] The visitor ended the conversation."), "{text}");
        assert_eq!(file_name(&summary(T), &tz), "conversation-2026-12-01.txt");
    }

    #[test]
    fn notes_and_handover_notes_are_in_the_agents_copy_only() {
        let bob = AgentRef {
            id: AgentId(2),
            display_name: "Bob".into(),
            colour: None,
        };
        let events = vec![
            event(
                1,
                T,
                EventKind::Note {
                    agent: agent(),
                    client_id: "n".into(),
                    text: "VIP customer, secret".into(),
                },
            ),
            event(
                2,
                T,
                EventKind::Transferred {
                    by: agent(),
                    agent: Some(bob),
                    note: Some("knows about the refund, secret".into()),
                },
            ),
        ];
        let tz = time_zone(None);
        let visitor = render(&summary(T), &events, Reader::Visitor, "Shop", &tz, Lang::En);
        assert!(!visitor.contains("secret"), "{visitor}");
        assert!(visitor.contains("Ada handed the conversation to Bob.\n"), "{visitor}");
        let agents = render(&summary(T), &events, Reader::Agent, "Shop", &tz, Lang::En);
        assert!(
            agents.contains("Note by Ada (agents only): VIP customer, secret"),
            "{agents}"
        );
        assert!(
            agents.contains("Note (agents only): knows about the refund, secret"),
            "{agents}"
        );
    }

    #[test]
    fn a_rating_is_in_both_copies_with_its_comment() {
        let mut events = events();
        events.push(event(
            8,
            T + 300_000,
            EventKind::Rated {
                score: 4,
                comment: Some("Quick and kind\nthanks".into()),
            },
        ));
        events.push(event(
            9,
            T + 300_000,
            EventKind::Rated {
                score: 2,
                comment: None,
            },
        ));
        let tz = time_zone(None);
        let visitor = render(&summary(T), &events, Reader::Visitor, "Shop", &tz, Lang::En);
        assert!(
            visitor.contains("[00:03] You rated the conversation 4 of 5 ★★★★☆: Quick and kind\n        thanks\n"),
            "{visitor}"
        );
        assert!(
            visitor.contains("You rated the conversation 2 of 5 ★★☆☆☆.\n"),
            "{visitor}"
        );
        let agents = render(&summary(T), &events, Reader::Agent, "Shop", &tz, Lang::En);
        assert!(
            agents.contains("The visitor rated the conversation 4 of 5 ★★★★☆: Quick and kind\n"),
            "{agents}"
        );
    }

    #[test]
    fn the_visitor_sees_participants_come_and_go_and_nothing_of_observers() {
        let agent_named = |id, name: &str| AgentRef {
            id: AgentId(id),
            display_name: name.into(),
            colour: None,
        };
        let (bob, cleo) = (agent_named(2, "Bob"), agent_named(3, "Cleo"));
        let events = vec![
            event(
                1,
                T,
                EventKind::AgentInvited {
                    agent: cleo.clone(),
                    role: InviteRole::Observer,
                    by: agent(),
                    note: Some("watch this one, secret".into()),
                },
            ),
            event(
                2,
                T,
                EventKind::AgentInvited {
                    agent: bob.clone(),
                    role: InviteRole::Participant,
                    by: agent(),
                    note: Some("billing question, secret".into()),
                },
            ),
            event(
                3,
                T,
                EventKind::AgentLeft {
                    agent: cleo.clone(),
                    role: InviteRole::Observer,
                    by: cleo,
                },
            ),
            event(
                4,
                T,
                EventKind::AgentLeft {
                    agent: bob,
                    role: InviteRole::Participant,
                    by: agent(),
                },
            ),
        ];
        let tz = time_zone(None);
        let visitor = render(&summary(T), &events, Reader::Visitor, "Shop", &tz, Lang::En);
        assert!(!visitor.contains("secret"), "{visitor}");
        assert!(!visitor.contains("Cleo"), "{visitor}");
        assert!(visitor.contains("Bob joined the conversation.\n"), "{visitor}");
        assert!(visitor.contains("Bob left the conversation.\n"), "{visitor}");
        let agents = render(&summary(T), &events, Reader::Agent, "Shop", &tz, Lang::En);
        assert!(
            agents.contains("Ada invited Cleo to observe (read-only). Note (agents only): watch this one, secret"),
            "{agents}"
        );
        assert!(agents.contains("Ada invited Bob to take part."), "{agents}");
        assert!(agents.contains("Cleo left the conversation."), "{agents}");
        assert!(agents.contains("Ada took Bob out of the conversation."), "{agents}");
    }

    /// The test conversation with a screen share, an agent who leaves, a rating
    /// with a comment, and the agent closing it.
    fn events_with_share_and_rating() -> Vec<Event> {
        let mut events = events();
        events.pop();
        events.extend([
            event(
                8,
                T + 240_000,
                EventKind::Share {
                    share: "s".into(),
                    state: ShareState::Sharing,
                    by: Role::Visitor,
                    agent: None,
                    message: None,
                    detail: None,
                },
            ),
            event(
                9,
                T + 240_000,
                EventKind::EmailLeft {
                    email: "kim@example.com".into(),
                },
            ),
            event(
                10,
                T + 300_000,
                EventKind::Closed {
                    by: Role::Agent,
                    agent: Some(agent()),
                },
            ),
            event(
                11,
                T + 300_000,
                EventKind::Rated {
                    score: 4,
                    comment: Some("Danke {name}".into()),
                },
            ),
        ]);
        events
    }

    fn assert_no_english(text: &str) {
        for english in [
            "Conversation with",
            "Started",
            "You",
            "joined",
            "picture",
            "Screen share",
            "Cobrowse",
            "active",
            "sharing",
            "ended the",
            "rated",
            " of 5",
            "e-mail address",
        ] {
            assert!(!text.contains(english), "{english:?} in {text}");
        }
    }

    #[test]
    fn the_visitor_reads_their_copy_in_german() {
        let tz = time_zone(Some("Europe/Berlin"));
        let text = render(
            &summary(T),
            &events_with_share_and_rating(),
            Reader::Visitor,
            "Northwind Bank",
            &tz,
            Lang::De,
        );
        assert_eq!(
            text,
            "Unterhaltung mit Northwind Bank\n\
             Begonnen am 2026-12-02 00:58 (Europe/Berlin)\n\
             \n2026-12-02\n\
             [00:58] Sie: Hello\n\
             \x20       second line <b>x</b>\n\
             [00:59] Ada ist der Unterhaltung beigetreten.\n\
             [01:00] Gemeinsames Browsen: läuft.\n\
             [01:01] Ada: [Bild, 1280×720]\n\
             [01:02] Bildschirmfreigabe: läuft.\n\
             [01:02] Sie haben Ihre E-Mail-Adresse hinterlassen: kim@example.com\n\
             [01:03] Ada hat die Unterhaltung beendet.\n\
             [01:03] Sie haben die Unterhaltung mit 4 von 5 ★★★★☆ bewertet: Danke {name}\n"
        );
        assert_no_english(&text);
    }

    #[test]
    fn the_visitor_reads_their_copy_in_french() {
        let tz = time_zone(None);
        let mut events = events_with_share_and_rating();
        events.push(event(12, T + 300_000, message(Role::Visitor, "Au revoir")));
        events.push(event(
            13,
            T + 300_000,
            EventKind::Closed {
                by: Role::Visitor,
                agent: None,
            },
        ));
        let text = render(&summary(T), &events, Reader::Visitor, "Banque", &tz, Lang::Fr);
        for line in [
            "Conversation avec Banque\n",
            "Commencée le 2026-12-01 23:58 (UTC)\n",
            "[23:58] Vous : Hello\n",
            "[23:59] Ada a rejoint la conversation.\n",
            "[00:00] Co-navigation : en cours.\n",
            "[00:01] Ada : [image, 1280×720]\n",
            "[00:02] Partage d’écran : en cours.\n",
            "[00:02] Vous avez laissé votre adresse e-mail : kim@example.com\n",
            "[00:03] Ada a terminé la conversation.\n",
            "[00:03] Vous avez noté la conversation 4 sur 5 ★★★★☆ : Danke {name}\n",
            "[00:03] Vous : Au revoir\n",
            "[00:03] Vous avez terminé la conversation.\n",
        ] {
            assert!(text.contains(line), "{line:?} not in {text}");
        }
        assert_no_english(&text);
    }

    #[test]
    fn the_agents_copy_stays_english_and_unknown_languages_are_english() {
        assert_eq!(Lang::from_query(Some("de")), Lang::De);
        assert_eq!(Lang::from_query(Some("fr")), Lang::Fr);
        for other in [None, Some(""), Some("DE"), Some("es"), Some("de-DE")] {
            assert_eq!(Lang::from_query(other), Lang::En, "{other:?}");
        }
        let tz = time_zone(None);
        let events = events_with_share_and_rating();
        let agents = render(&summary(T), &events, Reader::Agent, "Shop", &tz, Lang::De);
        assert_eq!(
            agents,
            render(&summary(T), &events, Reader::Agent, "Shop", &tz, Lang::En)
        );
        assert!(agents.contains("[00:02] Screen share: sharing.\n"), "{agents}");
        assert!(agents.contains("[00:00] Cobrowse: active.\n"), "{agents}");
        assert!(agents.contains("[00:03] Ada ended the conversation.\n"), "{agents}");
    }

    #[test]
    fn fill_reads_each_hole_once() {
        assert_eq!(fill("{by} to {to}.", &[("by", "{to}"), ("to", "Bob")]), "{to} to Bob.");
        assert_eq!(fill("a {x} {", &[]), "a {x} {");
    }

    #[test]
    fn unknown_or_overlong_time_zones_are_utc() {
        assert_eq!(time_zone(Some("Mars/Olympus")), TimeZone::UTC);
        assert_eq!(time_zone(Some(&"A".repeat(200))), TimeZone::UTC);
        assert_eq!(time_zone(Some("")), TimeZone::UTC);
        assert_ne!(time_zone(Some("America/New_York")), TimeZone::UTC);
    }
}
