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
use serde::Serialize;
use sightline_proto::{
    AgentRef, ConversationId, ConversationSummary, Event, EventKind, InviteRole, MessageBody, Role, MAX_RATING_SCORE,
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

/// The serde name of a protocol enum value (`screen_share`, `declined`).
fn name_of(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

fn agent_name(agent: Option<&AgentRef>) -> &str {
    agent.map(|a| a.display_name.as_str()).unwrap_or("The agent")
}

/// The text: a heading, then one line per event (continuation lines of a long
/// message indented), a new date line when the day changes.
pub fn render(
    conversation: &ConversationSummary,
    events: &[Event],
    reader: Reader,
    company: &str,
    tz: &TimeZone,
) -> String {
    let mut out = String::new();
    let zoned = |ms: u64| {
        Timestamp::from_millisecond(ms as i64)
            .ok()
            .map(|t| t.to_zoned(tz.clone()))
    };
    let tz_name = tz.iana_name().unwrap_or("UTC");
    out.push_str(&format!("Conversation with {company}\n"));
    if let Some(start) = zoned(conversation.created_at) {
        out.push_str(&format!("Started {} ({tz_name})\n", start.strftime("%Y-%m-%d %H:%M")));
    }
    let visitor = if reader == Reader::Visitor { "You" } else { "Visitor" };
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
                    Role::Agent => agent_name(agent.as_ref()),
                };
                let what = match body {
                    MessageBody::Text { text } => text.clone(),
                    MessageBody::Link { url, title } => match title {
                        Some(title) if !title.is_empty() => format!("{title} <{url}>"),
                        _ => format!("<{url}>"),
                    },
                    MessageBody::Image { image } => format!("[picture, {}×{}]", image.width, image.height),
                };
                Some(format!("{who}: {what}"))
            }
            EventKind::Started { .. } => None,
            EventKind::AgentJoined { agent } | EventKind::JoinedWithKey { agent } => {
                Some(format!("{} joined.", agent.display_name))
            }
            EventKind::Closed { by, agent } => Some(match by {
                Role::Visitor if reader == Reader::Visitor => "You ended the conversation.".to_owned(),
                Role::Visitor => "The visitor ended the conversation.".to_owned(),
                Role::Agent => format!("{} ended the conversation.", agent_name(agent.as_ref())),
            }),
            EventKind::Share { state, .. } => Some(format!("Screen share: {}.", name_of(state))),
            EventKind::Grant { capability, state, .. } => {
                Some(format!("{}: {}.", capitalised(&name_of(capability)), name_of(state)))
            }
            EventKind::PagePushed { agent, url } => {
                Some(format!("{} sent a link to open: <{url}>", agent.display_name))
            }
            EventKind::EmailLeft { email } => Some(match reader {
                Reader::Visitor => format!("You left your e-mail address: {email}"),
                Reader::Agent => format!("The visitor left an e-mail address: {email}"),
            }),
            EventKind::PageViewed { page } if reader == Reader::Agent => {
                Some(format!("The visitor opened \"{}\" <{}>", page.title, page.url))
            }
            EventKind::Note { agent, text, .. } if reader == Reader::Agent => {
                Some(format!("Note by {} (agents only): {text}", agent.display_name))
            }
            EventKind::Transferred { by, agent, note } => {
                let to = match agent {
                    Some(a) => format!("handed the conversation to {}", a.display_name),
                    None => "put the conversation back in the queue".to_owned(),
                };
                Some(match (reader, note) {
                    (Reader::Agent, Some(note)) => format!("{} {to}. Note (agents only): {note}", by.display_name),
                    _ => format!("{} {to}.", by.display_name),
                })
            }
            EventKind::AgentInvited { agent, role, by, note } => {
                let how = match role {
                    InviteRole::Observer => "to observe (read-only)",
                    InviteRole::Participant => "to take part",
                };
                Some(match (reader, note) {
                    (Reader::Visitor, _) => format!("{} joined the conversation.", agent.display_name),
                    (Reader::Agent, Some(note)) => format!(
                        "{} invited {} {how}. Note (agents only): {note}",
                        by.display_name, agent.display_name
                    ),
                    (Reader::Agent, None) => format!("{} invited {} {how}.", by.display_name, agent.display_name),
                })
            }
            EventKind::AgentLeft { agent, by, .. } => Some(if by.id == agent.id || reader == Reader::Visitor {
                format!("{} left the conversation.", agent.display_name)
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
            EventKind::Screenshot { state, .. } => Some(format!("Screenshot request: {}.", name_of(state))),
            EventKind::Rated { score, comment } => {
                let stars = format!(
                    "{}{}",
                    "★".repeat(usize::from(*score)),
                    "☆".repeat(usize::from(MAX_RATING_SCORE.saturating_sub(*score)))
                );
                let who = if reader == Reader::Visitor {
                    "You rated"
                } else {
                    "The visitor rated"
                };
                Some(match comment {
                    Some(comment) => format!("{who} the conversation {score} of {MAX_RATING_SCORE} {stars}: {comment}"),
                    None => format!("{who} the conversation {score} of {MAX_RATING_SCORE} {stars}."),
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

/// `?tz=` of both downloads: the reader's time zone, as the browser names it.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TranscriptQuery {
    pub tz: Option<String>,
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
    let text = render(&conversation, &events, Reader::Agent, company(&app), &tz);
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
    let text = render(&conversation, &events, Reader::Visitor, company(app), &tz);
    Ok(attachment(text, &file_name(&conversation, &tz)))
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::{AgentId, Capability, GrantState, ImageId, ImageRef, PageInfo};

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
        let text = render(&summary(T), &events(), Reader::Visitor, "Northwind Bank", &tz);
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
        let text = render(&summary(T), &events(), Reader::Agent, "Northwind Bank", &tz);
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
        let visitor = render(&summary(T), &events, Reader::Visitor, "Shop", &tz);
        assert!(!visitor.contains("secret"), "{visitor}");
        assert!(visitor.contains("Ada handed the conversation to Bob.\n"), "{visitor}");
        let agents = render(&summary(T), &events, Reader::Agent, "Shop", &tz);
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
        let visitor = render(&summary(T), &events, Reader::Visitor, "Shop", &tz);
        assert!(
            visitor.contains("[00:03] You rated the conversation 4 of 5 ★★★★☆: Quick and kind\n        thanks\n"),
            "{visitor}"
        );
        assert!(
            visitor.contains("You rated the conversation 2 of 5 ★★☆☆☆.\n"),
            "{visitor}"
        );
        let agents = render(&summary(T), &events, Reader::Agent, "Shop", &tz);
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
        let visitor = render(&summary(T), &events, Reader::Visitor, "Shop", &tz);
        assert!(!visitor.contains("secret"), "{visitor}");
        assert!(!visitor.contains("Cleo"), "{visitor}");
        assert!(visitor.contains("Bob joined the conversation.\n"), "{visitor}");
        assert!(visitor.contains("Bob left the conversation.\n"), "{visitor}");
        let agents = render(&summary(T), &events, Reader::Agent, "Shop", &tz);
        assert!(
            agents.contains("Ada invited Cleo to observe (read-only). Note (agents only): watch this one, secret"),
            "{agents}"
        );
        assert!(agents.contains("Ada invited Bob to take part."), "{agents}");
        assert!(agents.contains("Cleo left the conversation."), "{agents}");
        assert!(agents.contains("Ada took Bob out of the conversation."), "{agents}");
    }

    #[test]
    fn unknown_or_overlong_time_zones_are_utc() {
        assert_eq!(time_zone(Some("Mars/Olympus")), TimeZone::UTC);
        assert_eq!(time_zone(Some(&"A".repeat(200))), TimeZone::UTC);
        assert_eq!(time_zone(Some("")), TimeZone::UTC);
        assert_ne!(time_zone(Some("America/New_York")), TimeZone::UTC);
    }
}
