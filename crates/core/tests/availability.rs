//! Availability: agents set Away or Available, office hours open and close, and
//! visitors are told whether anyone is there; a visitor leaves an e-mail address.

mod common;

use common::*;
use sightline_core::{ConnId, Input, Peer};
use sightline_proto::{ClientMessage, ConversationStatus, ErrorCode, EventKind, ServerMessage, PROTOCOL_VERSION};

/// A visitor socket's welcome, whole.
fn welcome(w: &mut World, conn: u64) -> bool {
    w.input(Input::Connected {
        conn: ConnId(conn),
        peer: Peer::Visitor,
        address: LOCAL,
        client: Default::default(),
    });
    w.msg(
        conn,
        ClientMessage::VisitorHello {
            protocol: PROTOCOL_VERSION,
            token: None,
            after_seq: 0,
            page: None,
            device: None,
        },
    );
    match w.take(conn).first() {
        Some(ServerMessage::VisitorWelcome { agents_available, .. }) => *agents_available,
        other => panic!("expected a welcome, got {other:?}"),
    }
}

/// What a socket was told about availability, in order.
fn told(w: &mut World, conn: u64) -> Vec<bool> {
    w.take(conn)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Availability { agents_available } => Some(agents_available),
            _ => None,
        })
        .collect()
}

fn agent_hello(w: &mut World, conn: u64, id: i64, name: &str, away: bool) -> Vec<ServerMessage> {
    w.input(Input::Connected {
        conn: ConnId(conn),
        peer: Peer::Agent(agent(id, name)),
        address: LOCAL,
        client: Default::default(),
    });
    w.msg(
        conn,
        ClientMessage::AgentHello {
            protocol: PROTOCOL_VERSION,
            away,
        },
    );
    w.take(conn)
}

#[test]
fn visitors_learn_whether_any_agent_is_available_as_agents_come_go_and_step_away() {
    let mut w = World::new();
    assert!(!welcome(&mut w, 1), "no agent connected: nobody available");

    // An agent comes online: every visitor socket hears it once.
    let hello = agent_hello(&mut w, 10, 1, "Anna", false);
    assert!(matches!(
        hello.first(),
        Some(ServerMessage::AgentWelcome { away: false, .. })
    ));
    assert_eq!(told(&mut w, 1), vec![true]);
    assert!(welcome(&mut w, 2), "a new visitor is told in the welcome");

    // A second agent who is away changes nothing for visitors.
    let hello = agent_hello(&mut w, 11, 2, "Ben", true);
    assert!(matches!(
        hello.first(),
        Some(ServerMessage::AgentWelcome { away: true, .. })
    ));
    // Anna steps away: now nobody is available.
    w.msg(10, ClientMessage::SetAway { away: true });
    assert_eq!(w.take(10), vec![ServerMessage::AwayChanged { away: true }]);
    assert_eq!(told(&mut w, 1), vec![false], "told once, only on the change");
    assert_eq!(told(&mut w, 2), vec![false]);
    // Saying it twice is no change.
    w.msg(10, ClientMessage::SetAway { away: true });
    assert!(w.take(10).is_empty());

    // Ben comes back: available again. Then Ben's socket closes.
    w.msg(11, ClientMessage::SetAway { away: false });
    assert_eq!(w.take(11), vec![ServerMessage::AwayChanged { away: false }]);
    assert_eq!(told(&mut w, 1), vec![true]);
    // The only available agent's socket closes: not told at once (a console
    // reload is back in a moment), but at the next tick.
    w.input(Input::Disconnected { conn: ConnId(11) });
    assert!(told(&mut w, 1).is_empty());
    w.input(Input::Tick);
    assert_eq!(told(&mut w, 1), vec![false], "the only available agent left");
    assert!(!welcome(&mut w, 3));
}

#[test]
fn an_agents_consoles_agree_on_away_and_the_newest_hello_says_it() {
    let mut w = World::new();
    welcome(&mut w, 1);
    agent_hello(&mut w, 10, 1, "Anna", false);
    assert_eq!(told(&mut w, 1), vec![true]);
    // A second console of Anna's, whose stored choice is away: the first hears it.
    agent_hello(&mut w, 12, 1, "Anna", true);
    assert_eq!(w.take(10), vec![ServerMessage::AwayChanged { away: true }]);
    assert_eq!(told(&mut w, 1), vec![false]);
    // Set from one console, told to both.
    w.msg(12, ClientMessage::SetAway { away: false });
    assert_eq!(w.take(10), vec![ServerMessage::AwayChanged { away: false }]);
    assert_eq!(w.take(12), vec![ServerMessage::AwayChanged { away: false }]);
    assert_eq!(told(&mut w, 1), vec![true]);
    // Switching back at once is refused: each switch may reach every visitor.
    w.msg(10, ClientMessage::SetAway { away: true });
    assert_eq!(error_code(&w.take(10)), Some(ErrorCode::RateLimited));
    assert!(told(&mut w, 1).is_empty());
    w.now += 1_000;
    // Closing one of two consoles changes nothing; away is forgotten with the last.
    w.msg(10, ClientMessage::SetAway { away: true });
    w.input(Input::Disconnected { conn: ConnId(12) });
    assert_eq!(told(&mut w, 1), vec![false], "away, not gone");
    w.input(Input::Disconnected { conn: ConnId(10) });
    w.input(Input::Tick);
    let hello = agent_hello(&mut w, 13, 1, "Anna", false);
    assert!(matches!(
        hello.first(),
        Some(ServerMessage::AgentWelcome { away: false, .. })
    ));
    assert_eq!(told(&mut w, 1), vec![true]);
}

#[test]
fn an_agent_who_reloads_the_console_is_no_flicker_for_visitors() {
    let mut w = World::new();
    welcome(&mut w, 1);
    agent_hello(&mut w, 10, 1, "Anna", false);
    assert_eq!(told(&mut w, 1), vec![true]);
    w.input(Input::Disconnected { conn: ConnId(10) });
    assert!(
        welcome(&mut w, 2),
        "a visitor arriving meanwhile hears what the others heard"
    );
    agent_hello(&mut w, 11, 1, "Anna", false);
    w.input(Input::Tick);
    assert!(told(&mut w, 1).is_empty(), "back before the tick: nothing to tell");
    assert!(told(&mut w, 2).is_empty());
}

#[test]
fn outside_office_hours_nobody_is_available() {
    let mut w = World::new();
    agent_hello(&mut w, 10, 1, "Anna", false);
    assert!(welcome(&mut w, 1));
    w.input(Input::OfficeHours { open: false });
    assert_eq!(told(&mut w, 1), vec![false]);
    assert!(!welcome(&mut w, 2), "closed, though Anna is online");
    w.input(Input::OfficeHours { open: false });
    assert!(told(&mut w, 1).is_empty(), "no change, nothing said");
    w.input(Input::OfficeHours { open: true });
    assert_eq!(told(&mut w, 1), vec![true]);
    assert_eq!(told(&mut w, 2), vec![true]);
}

/// Whether a welcome says it is within office hours, and the changes an agent heard.
fn office(messages: &[ServerMessage]) -> (Option<bool>, Vec<bool>) {
    let welcome = messages.iter().find_map(|m| match m {
        ServerMessage::AgentWelcome { office_open, .. } => Some(*office_open),
        _ => None,
    });
    let changes = messages
        .iter()
        .filter_map(|m| match m {
            ServerMessage::OfficeHours { open } => Some(*open),
            _ => None,
        })
        .collect();
    (welcome, changes)
}

#[test]
fn agents_know_when_visitors_are_told_it_is_outside_office_hours() {
    let mut w = World::new();
    assert_eq!(office(&agent_hello(&mut w, 10, 1, "Anna", false)), (Some(true), vec![]));
    w.input(Input::OfficeHours { open: false });
    assert_eq!(
        office(&w.take(10)),
        (None, vec![false]),
        "Anna is told the office closed"
    );
    w.input(Input::OfficeHours { open: false });
    assert_eq!(office(&w.take(10)), (None, vec![]), "no change, nothing said");
    assert_eq!(
        office(&agent_hello(&mut w, 11, 2, "Ben", false)),
        (Some(false), vec![]),
        "a console opened outside the hours knows at once"
    );
    w.input(Input::OfficeHours { open: true });
    assert_eq!(office(&w.take(10)), (None, vec![true]));
    assert_eq!(office(&w.take(11)), (None, vec![true]));
    // Visitors are not told about office hours, only whether anyone is available.
    welcome(&mut w, 1);
    w.input(Input::OfficeHours { open: false });
    assert!(!w.take(1).iter().any(|m| matches!(m, ServerMessage::OfficeHours { .. })));
}

#[test]
fn only_agents_set_away_and_only_visitors_leave_an_address() {
    let mut w = World::new();
    agent_hello(&mut w, 10, 1, "Anna", false);
    welcome(&mut w, 1);
    w.take(1);
    w.msg(1, ClientMessage::SetAway { away: true });
    assert_eq!(error_code(&w.take(1)), Some(ErrorCode::Forbidden));
    w.msg(
        10,
        ClientMessage::LeaveEmail {
            email: "anna@example.com".into(),
        },
    );
    assert_eq!(error_code(&w.take(10)), Some(ErrorCode::Forbidden));
}

#[test]
fn a_visitor_leaves_an_address_on_their_open_conversation_and_every_agent_sees_it() {
    let mut w = World::new();
    agent_hello(&mut w, 10, 1, "Anna", true);
    agent_hello(&mut w, 11, 2, "Ben", true);
    welcome(&mut w, 1);
    // Nothing to keep it with yet.
    w.msg(
        1,
        ClientMessage::LeaveEmail {
            email: "v@example.com".into(),
        },
    );
    assert_eq!(error_code(&w.take(1)), Some(ErrorCode::InvalidState));

    w.visitor_says(1, "v1", "anyone there?");
    let id = conversation_of(&w);
    w.take(1);
    w.take(10);
    w.take(11);
    for bad in ["not an address", "a@b", "x@example.com\u{202e}"] {
        w.msg(1, ClientMessage::LeaveEmail { email: bad.into() });
        assert_eq!(error_code(&w.take(1)), Some(ErrorCode::BadRequest), "{bad}");
    }
    w.msg(
        1,
        ClientMessage::LeaveEmail {
            email: " Vera@Example.com ".into(),
        },
    );
    // Stored as an event the visitor sees, and on the summary every agent sees
    // (the conversation is waiting: it is in every queue).
    let events = &w.shell.events[&id];
    assert!(
        matches!(&events.last().expect("event").kind, EventKind::EmailLeft { email } if email == "Vera@Example.com")
    );
    assert!(w.take(1).iter().any(
        |m| matches!(m, ServerMessage::Event { event, .. } if matches!(&event.kind, EventKind::EmailLeft { .. }))
    ));
    for agent_conn in [10, 11] {
        assert!(
            w.take(agent_conn).iter().any(|m| matches!(m, ServerMessage::ConversationUpdated { conversation } if conversation.visitor_email.as_deref() == Some("Vera@Example.com") && conversation.status == ConversationStatus::Waiting)),
            "agent socket {agent_conn}"
        );
    }
    // The same address again stores nothing more.
    let stored = w.shell.events[&id].len();
    w.msg(
        1,
        ClientMessage::LeaveEmail {
            email: "Vera@Example.com".into(),
        },
    );
    assert_eq!(w.shell.events[&id].len(), stored);
    // A few corrections are fine; a flood is not (each one reaches every agent).
    for n in 2..=5 {
        w.msg(
            1,
            ClientMessage::LeaveEmail {
                email: format!("vera{n}@example.com"),
            },
        );
    }
    assert_eq!(w.shell.events[&id].len(), stored + 4);
    w.take(1);
    w.msg(
        1,
        ClientMessage::LeaveEmail {
            email: "vera6@example.com".into(),
        },
    );
    assert_eq!(error_code(&w.take(1)), Some(ErrorCode::RateLimited));
    assert_eq!(w.shell.events[&id].len(), stored + 4);
}
