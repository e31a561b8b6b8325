//! Grants of co-browse, remote control and recording, and the streams they open:
//! driven on simulated time with the in-memory shell, whose `streams` table is
//! what the relay would hold.

mod common;

use common::*;
use sightline_core::{ConnId, Input, Party};
use sightline_proto::{
    AgentId, Capability, ClientMessage, ControlAction, ControlVerb, ConversationId, ErrorCode, EventKind, GrantId,
    GrantState, GrantStep, Role, ServerMessage, StreamId, StreamRole,
};

const VISITOR: u64 = 1;
const ANNA: u64 = 10;
const BEN: u64 = 11;
const STRANGER: u64 = 2;

/// A visitor chatting with Anna (Ben is online too); returns the conversation id.
fn chatting() -> (World, ConversationId) {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    w.agent(BEN, agent(2, "Ben"));
    w.visitor(VISITOR, None, 0);
    w.visitor_says(VISITOR, "v1", "Where is the transfer form?");
    let id = conversation_of(&w);
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    for conn in [VISITOR, ANNA, BEN] {
        w.take(conn);
    }
    (w, id)
}

fn ask(w: &mut World, from: u64, id: &ConversationId, capability: Capability) -> Vec<ServerMessage> {
    w.msg(
        from,
        ClientMessage::GrantAsk {
            conversation: id.clone(),
            capability,
            message: None,
        },
    );
    w.take(from)
}

/// The grant id the visitor was asked for.
fn asked(w: &mut World) -> GrantId {
    w.take(VISITOR)
        .iter()
        .find_map(|m| match m {
            ServerMessage::Event { event, .. } => match &event.kind {
                EventKind::Grant {
                    grant,
                    state: GrantState::Asked,
                    message: Some(text),
                    by: Role::Agent,
                    ..
                } => {
                    assert!(!text.is_empty());
                    Some(grant.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .expect("the visitor sees the request")
}

fn step(w: &mut World, grant: &GrantId, step: GrantStep) -> Vec<ServerMessage> {
    w.msg(
        VISITOR,
        ClientMessage::GrantStep {
            grant: grant.clone(),
            step,
            detail: None,
        },
    );
    w.take(VISITOR)
}

fn grant_states(w: &World, id: &ConversationId) -> Vec<GrantState> {
    w.shell.events[id]
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Grant { state, .. } => Some(*state),
            _ => None,
        })
        .collect()
}

fn granted(messages: &[ServerMessage]) -> Vec<(StreamId, StreamRole, String)> {
    messages
        .iter()
        .filter_map(|m| match m {
            ServerMessage::StreamGranted {
                stream, role, token, ..
            } => Some((stream.clone(), *role, token.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn nothing_flows_before_allow_then_each_end_gets_its_own_token() {
    let (mut w, id) = chatting();
    assert_eq!(error_code(&ask(&mut w, ANNA, &id, Capability::Cobrowse)), None);
    let grant = asked(&mut w);
    assert!(w.shell.streams.is_empty(), "no stream before the visitor allows");
    assert!(granted(&w.take(ANNA)).is_empty());

    let to_visitor = step(&mut w, &grant, GrantStep::Allow);
    let to_anna = w.take(ANNA);
    assert!(granted(&w.take(BEN)).is_empty(), "another agent gets nothing");
    let [(stream, visitor_role, visitor_token)]: [_; 1] = granted(&to_visitor).try_into().expect("one token");
    let [(anna_stream, anna_role, anna_token)]: [_; 1] = granted(&to_anna).try_into().expect("one token");
    assert_eq!(stream, anna_stream);
    assert_eq!(
        (visitor_role, anna_role),
        (StreamRole::Publisher, StreamRole::Subscriber)
    );
    assert_ne!(visitor_token, anna_token);
    let relay = &w.shell.streams[&stream];
    assert_eq!(relay.capability, Capability::Cobrowse);
    assert_eq!(relay.conversation, id);
    let parties: Vec<(Party, StreamRole, &str)> = relay
        .tokens
        .iter()
        .map(|t| (t.party.clone(), t.role, t.token.as_str()))
        .collect();
    assert!(parties.contains(&(Party::Agent(AgentId(1)), StreamRole::Subscriber, anna_token.as_str())));
    assert!(parties
        .iter()
        .any(|(p, r, t)| matches!(p, Party::Visitor(_)) && *r == StreamRole::Publisher && *t == visitor_token));
    // The summary shows it, to the owner only.
    assert!(to_anna.iter().any(|m| matches!(m, ServerMessage::ConversationUpdated { conversation } if conversation.grants.iter().any(|g| g.state == GrantState::Allowed && g.stream.as_ref() == Some(&stream)))));

    step(&mut w, &grant, GrantStep::Start);
    assert_eq!(
        grant_states(&w, &id),
        vec![GrantState::Asked, GrantState::Allowed, GrantState::Active]
    );
}

/// Co-browsing on (asked, allowed, started): what remote control needs.
fn cobrowsing(w: &mut World, id: &ConversationId) -> GrantId {
    ask(w, ANNA, id, Capability::Cobrowse);
    let grant = asked(w);
    step(w, &grant, GrantStep::Allow);
    step(w, &grant, GrantStep::Start);
    w.take(ANNA);
    grant
}

#[test]
fn for_remote_control_the_agent_publishes() {
    let (mut w, id) = chatting();
    cobrowsing(&mut w, &id);
    ask(&mut w, ANNA, &id, Capability::RemoteControl);
    let grant = asked(&mut w);
    let to_visitor = step(&mut w, &grant, GrantStep::Allow);
    assert_eq!(granted(&to_visitor)[0].1, StreamRole::Subscriber);
    assert_eq!(granted(&w.take(ANNA))[0].1, StreamRole::Publisher);
}

#[test]
fn each_capability_needs_its_own_allow() {
    let (mut w, id) = chatting();
    let cobrowse = cobrowsing(&mut w, &id);
    ask(&mut w, ANNA, &id, Capability::RemoteControl);
    let control = asked(&mut w);
    assert_ne!(cobrowse, control);
    assert_eq!(w.shell.streams.len(), 1, "co-browsing does not grant control");
    step(&mut w, &control, GrantStep::Allow);
    assert_eq!(w.shell.streams.len(), 2);
    // Asking again while one is under way is refused.
    assert_eq!(
        error_code(&ask(&mut w, ANNA, &id, Capability::RemoteControl)),
        Some(ErrorCode::InvalidState)
    );
    // Screen sharing keeps its own messages.
    assert_eq!(
        error_code(&ask(&mut w, ANNA, &id, Capability::ScreenShare)),
        Some(ErrorCode::BadRequest)
    );
}

#[test]
fn revoking_stops_the_stream_before_anything_else_of_the_batch() {
    let (mut w, id) = chatting();
    ask(&mut w, ANNA, &id, Capability::Cobrowse);
    let grant = asked(&mut w);
    step(&mut w, &grant, GrantStep::Allow);
    let stream = w.shell.streams.keys().next().cloned().expect("a stream");
    // The hub's own order: the revocation comes before the batch's persists.
    w.input(Input::Message {
        conn: ConnId(VISITOR),
        message: ClientMessage::GrantEnd { grant: grant.clone() },
        request_ref: None,
    });
    assert!(w.shell.streams.is_empty());
    assert_eq!(w.shell.stream_log.last(), Some(&(stream, false)));
    assert_eq!(grant_states(&w, &id).last(), Some(&GrantState::Ended));
    // Ending it again is no error; a step after the end is.
    assert_eq!(error_code(&step(&mut w, &grant, GrantStep::Stop)), None);
    assert_eq!(
        error_code(&step(&mut w, &grant, GrantStep::Start)),
        Some(ErrorCode::InvalidState)
    );

    let mut w2 = World::new();
    w2.agent(ANNA, agent(1, "Anna"));
    let mut hub_order = Vec::new();
    w2.visitor(VISITOR, None, 0);
    w2.visitor_says(VISITOR, "v1", "hi");
    let id2 = conversation_of(&w2);
    w2.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id2.clone(),
        },
    );
    ask(&mut w2, ANNA, &id2, Capability::Cobrowse);
    let grant2 = asked(&mut w2);
    step(&mut w2, &grant2, GrantStep::Allow);
    w2.hub.handle(
        w2.now,
        Input::Message {
            conn: ConnId(VISITOR),
            message: ClientMessage::GrantStep {
                grant: grant2,
                step: GrantStep::Stop,
                detail: None,
            },
            request_ref: None,
        },
    );
    while let Some(out) = w2.hub.poll_output() {
        hub_order.push(match out {
            sightline_core::Output::StreamRevoke { .. } => "revoke",
            sightline_core::Output::Persist(_) => "persist",
            _ => "other",
        });
    }
    assert_eq!(hub_order.first(), Some(&"revoke"), "{hub_order:?}");
}

#[test]
fn the_owner_withdraws_but_another_agent_or_a_stranger_can_do_nothing() {
    let (mut w, id) = chatting();
    assert_eq!(
        error_code(&ask(&mut w, BEN, &id, Capability::Cobrowse)),
        Some(ErrorCode::Forbidden)
    );
    ask(&mut w, ANNA, &id, Capability::Cobrowse);
    let grant = asked(&mut w);
    step(&mut w, &grant, GrantStep::Allow);
    let stream = w.shell.streams.keys().next().cloned().expect("a stream");

    // Ben can neither end it nor get a token for it.
    w.msg(BEN, ClientMessage::GrantEnd { grant: grant.clone() });
    assert_eq!(error_code(&w.take(BEN)), Some(ErrorCode::Forbidden));
    w.msg(BEN, ClientMessage::StreamJoin { stream: stream.clone() });
    assert_eq!(error_code(&w.take(BEN)), Some(ErrorCode::Forbidden));
    // Agents never take the visitor's steps.
    w.msg(
        BEN,
        ClientMessage::GrantStep {
            grant: grant.clone(),
            step: GrantStep::Allow,
            detail: None,
        },
    );
    assert_eq!(error_code(&w.take(BEN)), Some(ErrorCode::Forbidden));

    // Another visitor neither.
    w.visitor(STRANGER, None, 0);
    w.msg(STRANGER, ClientMessage::GrantEnd { grant: grant.clone() });
    assert_eq!(error_code(&w.take(STRANGER)), Some(ErrorCode::Forbidden));
    w.msg(STRANGER, ClientMessage::StreamJoin { stream: stream.clone() });
    assert_eq!(error_code(&w.take(STRANGER)), Some(ErrorCode::Forbidden));
    assert_eq!(w.shell.streams.len(), 1);

    // The ends get fresh tokens on a reconnect.
    w.msg(VISITOR, ClientMessage::StreamJoin { stream: stream.clone() });
    assert_eq!(granted(&w.take(VISITOR)).len(), 1);
    assert_eq!(w.shell.streams[&stream].tokens.len(), 3);

    // Anna withdraws.
    w.msg(ANNA, ClientMessage::GrantEnd { grant });
    assert!(w.shell.streams.is_empty());
    assert_eq!(grant_states(&w, &id).last(), Some(&GrantState::Ended));
    w.msg(ANNA, ClientMessage::StreamJoin { stream });
    assert_eq!(error_code(&w.take(ANNA)), Some(ErrorCode::NotFound));
}

#[test]
fn closing_logging_out_or_leaving_ends_every_grant() {
    // Closing.
    let (mut w, id) = chatting();
    ask(&mut w, ANNA, &id, Capability::Cobrowse);
    let grant = asked(&mut w);
    step(&mut w, &grant, GrantStep::Allow);
    ask(&mut w, ANNA, &id, Capability::Recording);
    asked(&mut w);
    w.msg(
        ANNA,
        ClientMessage::Close {
            conversation: Some(id.clone()),
        },
    );
    assert!(w.shell.streams.is_empty());
    assert_eq!(
        grant_states(&w, &id),
        vec![
            GrantState::Asked,
            GrantState::Allowed,
            GrantState::Asked,
            GrantState::Ended,
            GrantState::Cancelled
        ]
    );

    // Logging out.
    let (mut w, id) = chatting();
    ask(&mut w, ANNA, &id, Capability::Cobrowse);
    let grant = asked(&mut w);
    step(&mut w, &grant, GrantStep::Allow);
    w.input(Input::AgentLoggedOut { agent_id: AgentId(1) });
    assert!(w.shell.streams.is_empty());
    assert_eq!(grant_states(&w, &id).last(), Some(&GrantState::Ended));

    // The visitor gone for a while (a reload comes back sooner).
    let (mut w, id) = chatting();
    ask(&mut w, ANNA, &id, Capability::Cobrowse);
    let grant = asked(&mut w);
    step(&mut w, &grant, GrantStep::Allow);
    w.input(Input::Disconnected { conn: ConnId(VISITOR) });
    w.now += 10_000;
    w.input(Input::Tick);
    assert_eq!(w.shell.streams.len(), 1, "a reload keeps it");
    w.now += 60_000;
    w.input(Input::Tick);
    assert!(w.shell.streams.is_empty());
    assert_eq!(grant_states(&w, &id).last(), Some(&GrantState::Ended));
}

#[test]
fn a_declined_or_failed_request_opens_nothing_and_can_be_asked_again() {
    let (mut w, id) = chatting();
    ask(&mut w, ANNA, &id, Capability::Cobrowse);
    let grant = asked(&mut w);
    step(&mut w, &grant, GrantStep::Decline);
    assert!(w.shell.stream_log.is_empty());
    assert_eq!(
        error_code(&step(&mut w, &grant, GrantStep::Allow)),
        Some(ErrorCode::InvalidState)
    );
    ask(&mut w, ANNA, &id, Capability::Cobrowse);
    let again = asked(&mut w);
    assert_ne!(grant, again);
    // The old grant's id is stale.
    assert_eq!(
        error_code(&step(&mut w, &grant, GrantStep::Allow)),
        Some(ErrorCode::Forbidden)
    );
    step(&mut w, &again, GrantStep::Fail);
    assert!(w.shell.stream_log.is_empty());
    assert_eq!(
        grant_states(&w, &id),
        vec![
            GrantState::Asked,
            GrantState::Declined,
            GrantState::Asked,
            GrantState::Failed
        ]
    );
}

#[test]
fn the_visitor_can_revoke_even_when_their_allowance_is_spent() {
    let (mut w, id) = chatting();
    ask(&mut w, ANNA, &id, Capability::Cobrowse);
    let grant = asked(&mut w);
    step(&mut w, &grant, GrantStep::Allow);
    // Spend every allowance this socket, visitor and address have.
    let mut limited = false;
    for i in 0..2_000 {
        w.msg(
            VISITOR,
            ClientMessage::Typing {
                conversation: None,
                active: i % 2 == 0,
            },
        );
        if error_code(&w.take(VISITOR)) == Some(ErrorCode::RateLimited) {
            limited = true;
            break;
        }
    }
    assert!(limited, "the allowance ran out");
    w.msg(
        VISITOR,
        ClientMessage::Typing {
            conversation: None,
            active: false,
        },
    );
    assert_eq!(error_code(&w.take(VISITOR)), Some(ErrorCode::RateLimited));
    // Stop still goes through.
    w.msg(VISITOR, ClientMessage::GrantEnd { grant });
    assert_eq!(error_code(&w.take(VISITOR)), None);
    assert!(w.shell.streams.is_empty());
    assert_eq!(grant_states(&w, &id).last(), Some(&GrantState::Ended));
}

#[test]
fn ending_the_agents_other_sessions_ends_their_grants() {
    let (mut w, id) = chatting();
    ask(&mut w, ANNA, &id, Capability::Cobrowse);
    let grant = asked(&mut w);
    step(&mut w, &grant, GrantStep::Allow);
    w.input(Input::AgentOtherSessionsEnded { agent_id: AgentId(2) });
    assert_eq!(w.shell.streams.len(), 1, "Ben's sessions are not Anna's");
    w.input(Input::AgentOtherSessionsEnded { agent_id: AgentId(1) });
    assert!(w.shell.streams.is_empty());
    assert_eq!(grant_states(&w, &id).last(), Some(&GrantState::Ended));
}

/// A visitor socket of `token` on the page `url`.
fn hello_on(w: &mut World, conn: u64, token: &str, url: &str) {
    let page = sightline_proto::PageInfo {
        url: url.into(),
        title: format!("Title of {url}"),
    };
    w.visitor_on(
        conn,
        std::net::IpAddr::from([127, 0, 0, 1]),
        Some(token.into()),
        u64::MAX,
        Some(page),
    );
    w.take(conn);
}

fn pages(w: &World, id: &ConversationId) -> Vec<String> {
    w.shell.events[id]
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PageViewed { page } => Some(page.url.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn each_page_opened_while_co_browsing_is_in_the_transcript_once() {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    let token = w.visitor(VISITOR, None, 0);
    w.visitor_says(VISITOR, "v1", "Where is the transfer form?");
    let id = conversation_of(&w);
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    // A page before co-browsing: not a transcript line.
    w.input(Input::Disconnected { conn: ConnId(VISITOR) });
    hello_on(&mut w, 3, &token, "https://shop.example/");
    assert!(pages(&w, &id).is_empty());

    ask(&mut w, ANNA, &id, Capability::Cobrowse);
    let grant = w
        .take(3)
        .iter()
        .find_map(|m| match m {
            ServerMessage::Event { event, .. } => match &event.kind {
                EventKind::Grant { grant, .. } => Some(grant.clone()),
                _ => None,
            },
            _ => None,
        })
        .expect("asked");
    w.msg(
        3,
        ClientMessage::GrantStep {
            grant: grant.clone(),
            step: GrantStep::Allow,
            detail: None,
        },
    );
    let stream = granted(&w.take(3)).first().expect("a token").0.clone();
    w.msg(
        3,
        ClientMessage::GrantStep {
            grant: grant.clone(),
            step: GrantStep::Start,
            detail: None,
        },
    );
    assert_eq!(pages(&w, &id), ["https://shop.example/"], "the page where it started");

    // Another tab of the visitor's, not mirrored: nothing.
    hello_on(&mut w, 20, &token, "https://shop.example/other-tab");
    w.input(Input::Disconnected { conn: ConnId(20) });
    // The co-browsing tab: a navigation, a reload of the same page, another
    // navigation, each asking for a token on its new page.
    for (conn, url) in [
        (4, "https://shop.example/transfer"),
        (5, "https://shop.example/transfer?iban=DE44500105175407324931#amount"),
        (6, "https://shop.example/done"),
    ] {
        w.input(Input::Disconnected { conn: ConnId(conn - 1) });
        hello_on(&mut w, conn, &token, url);
        w.msg(conn, ClientMessage::StreamJoin { stream: stream.clone() });
        assert_eq!(granted(&w.take(conn)).len(), 1);
    }
    // A single-page app's route on the co-browsing tab counts; the same route
    // again, or a route on another tab of the visitor's, does not.
    let route = |url: &str| ClientMessage::PageChanged {
        page: sightline_proto::PageInfo {
            url: url.into(),
            title: "Route".into(),
        },
    };
    w.msg(6, route("https://shop.example/done#receipt"));
    hello_on(&mut w, 21, &token, "https://shop.example/other-tab");
    w.msg(21, route("https://shop.example/other-tab/route"));
    w.msg(6, route("https://shop.example/app/cards"));
    w.msg(6, route("https://shop.example/app/cards?page=2"));
    // A route the server cannot take is refused, and changes nothing.
    w.msg(6, route("javascript:alert(1)"));
    assert!(w.take(6).iter().any(|m| matches!(m, ServerMessage::Error { .. })));
    w.input(Input::Disconnected { conn: ConnId(21) });
    assert_eq!(
        pages(&w, &id),
        [
            "https://shop.example/",
            "https://shop.example/transfer",
            "https://shop.example/done",
            "https://shop.example/app/cards"
        ]
    );
    // The agent saw each as an event.
    let seen: Vec<_> = w
        .take(ANNA)
        .into_iter()
        .filter(
            |m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::PageViewed { .. })),
        )
        .collect();
    assert_eq!(seen.len(), 4);

    // Stopped: pages are not followed any more.
    w.msg(
        6,
        ClientMessage::GrantStep {
            grant,
            step: GrantStep::Stop,
            detail: None,
        },
    );
    w.input(Input::Disconnected { conn: ConnId(6) });
    hello_on(&mut w, 7, &token, "https://shop.example/after");
    w.msg(7, ClientMessage::StreamJoin { stream });
    w.msg(7, route("https://shop.example/after/route"));
    assert_eq!(pages(&w, &id).len(), 4);
}

fn report(w: &mut World, grant: &GrantId, target: &str) -> Vec<ServerMessage> {
    w.msg(
        VISITOR,
        ClientMessage::ControlReport {
            grant: grant.clone(),
            action: ControlAction {
                verb: ControlVerb::Click,
                target: target.into(),
                refused: None,
            },
        },
    );
    w.take(VISITOR)
}

fn controls(w: &World, id: &ConversationId) -> Vec<String> {
    w.shell.events[id]
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Control { action, .. } => Some(action.target.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn remote_control_needs_co_browsing_and_ends_with_it() {
    let (mut w, id) = chatting();
    // Before co-browsing there is no mirror to act through.
    assert_eq!(
        error_code(&ask(&mut w, ANNA, &id, Capability::RemoteControl)),
        Some(ErrorCode::InvalidState)
    );
    let cobrowse = cobrowsing(&mut w, &id);
    ask(&mut w, ANNA, &id, Capability::RemoteControl);
    let control = asked(&mut w);
    step(&mut w, &control, GrantStep::Allow);
    step(&mut w, &control, GrantStep::Start);
    assert_eq!(w.shell.streams.len(), 2);
    // The visitor stops co-browsing: control ends with it, its stream revoked.
    w.msg(VISITOR, ClientMessage::GrantEnd { grant: cobrowse });
    w.take(VISITOR);
    assert!(w.shell.streams.is_empty());
    let last = w.shell.events[&id].last().map(|e| e.kind.clone());
    assert!(
        matches!(last, Some(EventKind::Grant { capability: Capability::RemoteControl, state: GrantState::Ended, detail: Some(ref d), .. }) if d == "co-browsing ended"),
        "{last:?}"
    );
}

#[test]
fn remote_actions_are_stored_only_while_control_is_on() {
    let (mut w, id) = chatting();
    let cobrowse = cobrowsing(&mut w, &id);
    // A co-browse grant reports nothing.
    assert_eq!(
        error_code(&report(&mut w, &cobrowse, "Continue")),
        Some(ErrorCode::BadRequest)
    );
    ask(&mut w, ANNA, &id, Capability::RemoteControl);
    let control = asked(&mut w);
    // Asked, not yet allowed: nothing is stored.
    assert_eq!(
        error_code(&report(&mut w, &control, "Continue")),
        Some(ErrorCode::InvalidState)
    );
    step(&mut w, &control, GrantStep::Allow);
    step(&mut w, &control, GrantStep::Start);
    assert_eq!(error_code(&report(&mut w, &control, "  Continue ")), None);
    assert_eq!(controls(&w, &id), vec!["Continue".to_owned()]);
    // The agent sees it with their name.
    assert!(w.take(ANNA).iter().any(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(&event.kind, EventKind::Control { agent: Some(a), .. } if a.id == AgentId(1)))));
    // Too long, or with control characters: refused.
    assert_eq!(
        error_code(&report(&mut w, &control, &"x".repeat(81))),
        Some(ErrorCode::TooLarge)
    );
    assert_eq!(
        error_code(&report(&mut w, &control, "a\u{7}b")),
        Some(ErrorCode::TooLarge)
    );
    // An agent cannot report on the visitor's behalf.
    w.msg(
        ANNA,
        ClientMessage::ControlReport {
            grant: control.clone(),
            action: ControlAction {
                verb: ControlVerb::Type,
                target: "Amount".into(),
                refused: None,
            },
        },
    );
    assert_eq!(error_code(&w.take(ANNA)), Some(ErrorCode::Forbidden));
    // Revoked: nothing more is stored.
    w.msg(VISITOR, ClientMessage::GrantEnd { grant: control.clone() });
    w.take(VISITOR);
    assert!(error_code(&report(&mut w, &control, "Continue")).is_some());
    assert_eq!(controls(&w, &id).len(), 1);
}

fn push(w: &mut World, from: u64, id: &ConversationId, url: &str) -> Vec<ServerMessage> {
    w.msg(
        from,
        ClientMessage::PushPage {
            conversation: id.clone(),
            url: url.into(),
        },
    );
    w.take(from)
}

#[test]
fn the_owner_can_send_the_visitor_only_to_pages_of_the_site() {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    w.agent(BEN, agent(2, "Ben"));
    let page = sightline_proto::PageInfo {
        url: "https://shop.example/transfer".into(),
        title: "Transfer".into(),
    };
    w.visitor_on(VISITOR, "127.0.0.1".parse().unwrap(), None, 0, Some(page));
    w.visitor_says(VISITOR, "v1", "Where is the help page?");
    let id = conversation_of(&w);
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    for conn in [VISITOR, ANNA, BEN] {
        w.take(conn);
    }
    let origin = "https://shop.example";
    let there = format!("{origin}/help?topic=transfer");
    assert_eq!(error_code(&push(&mut w, ANNA, &id, &there)), None);
    assert!(w.take(VISITOR).iter().any(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(&event.kind, EventKind::PagePushed { url, .. } if *url == there))));
    for bad in [
        "https://evil.example/login",
        "javascript:alert(1)",
        "data:text/html,hi",
        "not a url",
    ] {
        assert!(error_code(&push(&mut w, ANNA, &id, bad)).is_some(), "{bad} was sent");
    }
    let with_user = format!(
        "{}//user:pw@{}/",
        &origin[..origin.find("//").unwrap()],
        &origin[origin.find("//").unwrap() + 2..]
    );
    assert!(error_code(&push(&mut w, ANNA, &id, &with_user)).is_some());
    assert_eq!(
        error_code(&push(&mut w, ANNA, &id, &format!("{origin}/{}", "a".repeat(3000)))),
        Some(ErrorCode::TooLarge)
    );
    // Without a known page there is nothing to check against.
    let (mut w2, id2) = chatting();
    assert_eq!(
        error_code(&push(&mut w2, ANNA, &id2, "https://shop.example/help")),
        Some(ErrorCode::Forbidden)
    );
    // Another agent or the visitor cannot.
    assert_eq!(error_code(&push(&mut w, BEN, &id, &there)), Some(ErrorCode::Forbidden));
    assert_eq!(
        error_code(&push(&mut w, VISITOR, &id, &there)),
        Some(ErrorCode::Forbidden)
    );
    let pushed = w.shell.events[&id]
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PagePushed { .. }))
        .count();
    assert_eq!(pushed, 1);
}

/// A colleague invited into the conversation (even taking part) follows the
/// chat, but what the visitor grants is the owner's: no token, no joining.
#[test]
fn an_invitee_gets_no_stream_and_cannot_join_one() {
    let (mut w, id) = chatting();
    w.msg(
        ANNA,
        ClientMessage::Invite {
            conversation: id.clone(),
            agent: AgentId(2),
            role: sightline_proto::InviteRole::Participant,
            note: None,
        },
    );
    assert_eq!(error_code(&w.take(ANNA)), None);
    w.take(BEN);
    w.take(VISITOR);
    // Ben may not ask; Anna may.
    assert_eq!(
        error_code(&ask(&mut w, BEN, &id, Capability::Cobrowse)),
        Some(ErrorCode::Forbidden)
    );
    ask(&mut w, ANNA, &id, Capability::Cobrowse);
    let grant = asked(&mut w);
    step(&mut w, &grant, GrantStep::Allow);
    let to_anna = w.take(ANNA);
    let to_ben = w.take(BEN);
    let [(stream, _, _)]: [_; 1] = granted(&to_anna).try_into().expect("the owner's token");
    assert!(granted(&to_ben).is_empty(), "the invitee gets no token");
    // He sees the grant in the summary (his console shows what is going on)...
    assert!(to_ben
        .iter()
        .any(|m| matches!(m, ServerMessage::ConversationUpdated { conversation } if !conversation.grants.is_empty())));
    // ...but cannot join the stream, nor end the grant.
    w.msg(BEN, ClientMessage::StreamJoin { stream: stream.clone() });
    assert_eq!(error_code(&w.take(BEN)), Some(ErrorCode::Forbidden));
    let tokens = w.shell.streams[&stream].tokens.len();
    assert!(w.shell.streams[&stream]
        .tokens
        .iter()
        .all(|t| t.party != Party::Agent(AgentId(2))));
    w.msg(BEN, ClientMessage::GrantEnd { grant: grant.clone() });
    assert!(error_code(&w.take(BEN)).is_some());
    assert_eq!(w.shell.streams[&stream].tokens.len(), tokens);
    assert!(w.shell.streams.contains_key(&stream), "still live");
}
