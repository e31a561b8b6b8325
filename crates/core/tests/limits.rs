//! Limits per socket, per visitor and per address: an attacker multiplies sockets,
//! identities and addresses, and every level has its own allowance.

mod common;

use common::*;
use sightline_core::{Allowance, ConnId, Input, LimitKind, Limits, Peer};
use sightline_proto::{ClientMessage, ErrorCode, ServerMessage, PROTOCOL_VERSION};
use std::net::{IpAddr, Ipv4Addr};

fn error_code(inbox: &[ServerMessage]) -> Option<ErrorCode> {
    inbox.iter().find_map(|m| match m {
        ServerMessage::Error { code, .. } => Some(*code),
        _ => None,
    })
}

fn ip(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
}

fn ping(w: &mut World, conn: u64) -> Option<ErrorCode> {
    w.msg(conn, ClientMessage::Ping { nonce: 1 });
    error_code(&w.take(conn))
}

#[test]
fn one_visitor_with_many_sockets_shares_one_message_allowance() {
    let mut w = World::new();
    w.hub.set_limits(Limits {
        messages_per_visitor: Allowance::new(30, 0.001),
        ..Limits::default()
    });
    let token = w.visitor(1, None, 0);
    for conn in 2..=6 {
        w.visitor(conn, Some(token.clone()), 0);
    }
    // Each socket alone is within its own allowance (40); together they are not.
    let mut refused = 0;
    for round in 0..10 {
        for conn in 1..=6 {
            if ping(&mut w, conn) == Some(ErrorCode::RateLimited) {
                refused += 1;
                assert!(round >= 5, "refused too early, in round {round}");
            }
        }
    }
    // 60 pings against 30 (hellos come before the visitor is known and count per
    // socket and per address only).
    assert_eq!(refused, 30);
    assert!(w.shell.limited.iter().all(|(l, _)| *l == LimitKind::VisitorMessages));
    // Another visitor on the same address is not affected.
    w.visitor(9, None, 0);
    assert_eq!(ping(&mut w, 9), None);
}

#[test]
fn visitor_sockets_from_one_address_share_an_allowance_but_agents_do_not() {
    let mut w = World::new();
    w.hub.set_limits(Limits {
        messages_per_address: Allowance::new(20, 0.001),
        ..Limits::default()
    });
    for conn in 1..=10 {
        w.visitor_from(conn, ip(1), None, 0);
    }
    let codes: Vec<_> = (1..=10).map(|conn| ping(&mut w, conn)).collect();
    // Ten hellos and ten pings spend the twenty.
    assert!(codes.iter().all(|c| c.is_none()), "{codes:?}");
    assert_eq!(ping(&mut w, 1), Some(ErrorCode::RateLimited));
    assert_eq!(w.shell.limited.last().map(|l| l.0), Some(LimitKind::AddressMessages));
    w.visitor_from(20, ip(2), None, 0);
    assert_eq!(ping(&mut w, 20), None, "another address has its own allowance");
    // Agents (authenticated; from the same address in this world) are limited per
    // socket only.
    w.agent(30, agent(1, "Anna"));
    assert_eq!(ping(&mut w, 30), None);
}

#[test]
fn a_visitor_may_hold_only_so_many_sockets() {
    let mut w = World::new();
    w.hub.set_limits(Limits {
        sockets_per_visitor: 3,
        ..Limits::default()
    });
    let token = w.visitor(1, None, 0);
    w.visitor(2, Some(token.clone()), 0);
    w.visitor(3, Some(token.clone()), 0);
    w.input(Input::Connected {
        conn: ConnId(4),
        peer: Peer::Visitor,
        address: LOCAL,
        client: Default::default(),
    });
    w.msg(
        4,
        ClientMessage::VisitorHello {
            protocol: PROTOCOL_VERSION,
            token: Some(token.clone()),
            after_seq: 0,
            page: None,
            device: None,
        },
    );
    assert_eq!(error_code(&w.take(4)), Some(ErrorCode::RateLimited));
    assert!(w.shell.disconnected.contains(&ConnId(4)));
    // Closing a tab makes room.
    w.input(Input::Disconnected { conn: ConnId(4) });
    w.input(Input::Disconnected { conn: ConnId(3) });
    w.visitor(5, Some(token), 0);
}

#[test]
fn new_identities_from_one_address_are_limited_and_never_chatting_ones_are_forgotten() {
    let mut w = World::new();
    w.hub.set_limits(Limits {
        new_visitors_per_address: Allowance::new(5, 0.001),
        ..Limits::default()
    });
    for conn in 1..=5 {
        w.visitor_from(conn, ip(1), None, 0);
        w.input(Input::Disconnected { conn: ConnId(conn) });
    }
    // Page views that never chatted hold no memory once their sockets close.
    assert_eq!(w.hub.stats().visitors, 0);
    w.input(Input::Connected {
        conn: ConnId(6),
        peer: Peer::Visitor,
        address: ip(1),
        client: Default::default(),
    });
    w.msg(
        6,
        ClientMessage::VisitorHello {
            protocol: PROTOCOL_VERSION,
            token: None,
            after_seq: 0,
            page: None,
            device: None,
        },
    );
    assert_eq!(error_code(&w.take(6)), Some(ErrorCode::RateLimited));
    assert!(w.shell.disconnected.contains(&ConnId(6)));
    assert_eq!(w.shell.limited.last(), Some(&(LimitKind::NewVisitors, ip(1))));
    // A made-up token is a new identity too.
    w.input(Input::Connected {
        conn: ConnId(7),
        peer: Peer::Visitor,
        address: ip(1),
        client: Default::default(),
    });
    w.msg(
        7,
        ClientMessage::VisitorHello {
            protocol: PROTOCOL_VERSION,
            token: Some("made-up".into()),
            after_seq: 0,
            page: None,
            device: None,
        },
    );
    let lookup = w.shell.lookups.pop().expect("looked up");
    w.input(Input::VisitorLookedUp {
        conn: lookup.0,
        token: lookup.1,
        visitor: None,
    });
    assert_eq!(error_code(&w.take(7)), Some(ErrorCode::RateLimited));
    // Other addresses are unaffected.
    w.visitor_from(8, ip(2), None, 0);
}

#[test]
fn new_conversations_from_one_address_are_limited() {
    let mut w = World::new();
    w.hub.set_limits(Limits {
        new_conversations_per_address: Allowance::new(3, 0.001),
        ..Limits::default()
    });
    for conn in 1..=3 {
        w.visitor_from(conn, ip(1), None, 0);
        w.visitor_says(conn, "c1", "hello");
        assert_eq!(error_code(&w.take(conn)), None);
    }
    w.visitor_from(4, ip(1), None, 0);
    w.visitor_says(4, "c1", "hello");
    let inbox = w.take(4);
    assert!(
        inbox.iter().any(
            |m| matches!(m, ServerMessage::Error { code: ErrorCode::RateLimited, client_id: Some(c), .. } if c == "c1")
        ),
        "the refusal names the message: {inbox:?}"
    );
    assert_eq!(w.shell.events.len(), 3, "nothing was stored for the fourth");
    // Time refills the allowance.
    w.now += 1_000_000;
    w.visitor_says(4, "c1", "hello");
    assert_eq!(error_code(&w.take(4)), None);
    assert_eq!(w.shell.events.len(), 4);
}

#[test]
fn errors_echo_the_reference_of_the_frame_they_refuse_and_only_to_that_socket() {
    let mut w = World::new();
    w.agent(1, agent(1, "Anna"));
    w.agent(2, agent(1, "Anna"));
    w.msg_with_ref(
        1,
        ClientMessage::Accept {
            conversation: "nope".into(),
        },
        "req-7",
    );
    let inbox = w.take(1);
    assert!(
        matches!(&inbox[..], [ServerMessage::Error { code: ErrorCode::NotFound, request_ref: Some(r), .. }] if r == "req-7"),
        "{inbox:?}"
    );
    assert!(w.take(2).is_empty());
    // Without a reference, errors carry none.
    w.msg(
        1,
        ClientMessage::Accept {
            conversation: "nope".into(),
        },
    );
    assert!(matches!(
        &w.take(1)[..],
        [ServerMessage::Error { request_ref: None, .. }]
    ));
}
