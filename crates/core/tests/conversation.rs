//! Conversation scenarios driven on simulated time: no sockets, no database.

mod common;

use common::*;
use sightline_core::records::{StoredConversation, StoredVisitor};
use sightline_core::{ConnId, Input, Peer};
use sightline_proto::{
    ClientMessage, ConversationStatus, ErrorCode, EventKind, MessageBody, Role, ServerMessage, PROTOCOL_VERSION,
};

#[test]
fn a_visitor_message_opens_a_conversation_that_an_agent_accepts_and_answers() {
    let mut w = World::new();
    w.agent(10, agent(1, "Anna"));
    w.visitor(1, None, 0);
    w.visitor_says(1, "v1", "my card is blocked");
    let visitor_inbox = w.take(1);
    assert!(
        visitor_inbox
            .iter()
            .any(|m| matches!(m, ServerMessage::Ack { seq: 2, .. })),
        "{visitor_inbox:?}"
    );
    let queue = w.take(10);
    let id = conversation_of(&w);
    assert!(queue.iter().any(|m| matches!(m, ServerMessage::ConversationUpdated { conversation } if conversation.id == id && conversation.status == ConversationStatus::Waiting)));

    w.msg(
        10,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    w.msg(
        10,
        ClientMessage::Send {
            conversation: Some(id.clone()),
            client_id: "a1".into(),
            body: text("Let me look"),
        },
    );
    let seen: Vec<_> = w
        .take(1)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Event { event, .. } => Some(event.kind),
            _ => None,
        })
        .collect();
    assert!(matches!(&seen[0], EventKind::AgentJoined { agent } if agent.display_name == "Anna"));
    assert!(
        matches!(&seen[1], EventKind::Message { from: Role::Agent, body: MessageBody::Text { text }, .. } if text == "Let me look")
    );
    assert_eq!(w.shell.events[&id].len(), 4, "started, message, joined, answer");
    assert_eq!(w.shell.statuses[&id], ConversationStatus::Active);
}

#[test]
fn a_renamed_agent_acts_under_the_new_name_in_the_conversations_they_own() {
    let mut w = World::new();
    w.agent(10, agent(1, "Administrator"));
    w.agent(20, agent(2, "Bob"));
    w.visitor(1, None, 0);
    w.visitor_says(1, "v1", "hello");
    let anna_s = conversation_of(&w);
    w.visitor(2, None, 0);
    w.visitor_says(2, "v2", "hi");
    let bob_s = w
        .shell
        .events
        .keys()
        .find(|id| **id != anna_s)
        .cloned()
        .expect("second conversation");
    w.msg(
        10,
        ClientMessage::Accept {
            conversation: anna_s.clone(),
        },
    );
    w.msg(
        20,
        ClientMessage::Accept {
            conversation: bob_s.clone(),
        },
    );
    w.take(10);
    w.take(20);

    w.input(Input::AgentRenamed {
        agent: sightline_proto::AgentRef {
            id: sightline_proto::AgentId(1),
            display_name: "Anna".into(),
            colour: None,
        },
    });
    // Stored, and shown to the agent's console.
    assert_eq!(
        w.shell.owners[&anna_s].as_ref().map(|a| a.display_name.as_str()),
        Some("Anna")
    );
    assert_eq!(
        w.shell.owners[&bob_s].as_ref().map(|a| a.display_name.as_str()),
        Some("Bob")
    );
    assert_eq!(
        w.shell.statuses[&anna_s],
        ConversationStatus::Active,
        "the status stays"
    );
    let updates: Vec<String> = w
        .take(10)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::ConversationUpdated { conversation } if conversation.id == anna_s => {
                conversation.agent.map(|a| a.display_name)
            }
            _ => None,
        })
        .collect();
    assert_eq!(updates, vec!["Anna".to_owned()]);
    assert!(w.take(20).is_empty(), "Bob's console hears nothing of it");

    // The visitor sees the new name with the agent's next message.
    w.msg(
        10,
        ClientMessage::Send {
            conversation: Some(anna_s.clone()),
            client_id: "a1".into(),
            body: text("I am Anna"),
        },
    );
    let names: Vec<String> = w
        .take(1)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Event { event, .. } => match event.kind {
                EventKind::Message { agent: Some(agent), .. } => Some(agent.display_name),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(names, vec!["Anna".to_owned()]);
}

#[test]
fn a_retried_message_is_acknowledged_with_its_first_seq_and_stored_once() {
    let mut w = World::new();
    w.visitor(1, None, 0);
    w.visitor_says(1, "same", "hello");
    w.visitor_says(1, "same", "hello");
    let acks: Vec<u64> = w
        .take(1)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Ack { seq, .. } => Some(seq),
            _ => None,
        })
        .collect();
    assert_eq!(acks, vec![2, 2]);
    assert_eq!(w.shell.events[&conversation_of(&w)].len(), 2);
}

#[test]
fn a_returning_visitor_resumes_from_their_last_seq() {
    let mut w = World::new();
    let token = w.visitor(1, None, 0);
    for i in 0..5 {
        w.visitor_says(1, &format!("m{i}"), "hi");
    }
    w.input(Input::Disconnected { conn: ConnId(1) });
    // Same token on a new socket: the hub still knows the visitor.
    w.input(Input::Connected {
        conn: ConnId(2),
        peer: Peer::Visitor,
        address: LOCAL,
        client: Default::default(),
    });
    w.msg(
        2,
        ClientMessage::VisitorHello {
            protocol: PROTOCOL_VERSION,
            token: Some(token),
            after_seq: 3,
            page: None,
            device: None,
        },
    );
    let seqs: Vec<u64> = w
        .take(2)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Event { event, .. } => Some(event.seq),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, vec![4, 5, 6]);
}

#[test]
fn a_forgotten_visitor_is_looked_up_in_storage() {
    let mut w = World::new();
    let token = w.visitor(1, None, 0);
    w.visitor_says(1, "m1", "hi");
    let id = conversation_of(&w);
    w.msg(1, ClientMessage::Close { conversation: None });
    w.input(Input::Disconnected { conn: ConnId(1) });
    w.now += 11 * 60 * 1000;
    w.input(Input::Tick);
    assert_eq!(w.hub.stats().visitors, 0, "idle visitor with nothing open is evicted");

    w.input(Input::Connected {
        conn: ConnId(2),
        peer: Peer::Visitor,
        address: LOCAL,
        client: Default::default(),
    });
    w.msg(
        2,
        ClientMessage::VisitorHello {
            protocol: PROTOCOL_VERSION,
            token: Some(token.clone()),
            after_seq: 0,
            page: None,
            device: None,
        },
    );
    assert_eq!(w.shell.lookups, vec![(ConnId(2), token.clone())]);
    let (visitor_id, token_hash) = w.shell.visitors[0].clone();
    let summary = sightline_proto::ConversationSummary {
        id: id.clone(),
        status: ConversationStatus::Closed,
        agent: None,
        created_at: 0,
        last_seq: 3,
        last_activity_at: 0,
        preview: None,
        page: None,
        visitor_online: false,
        share: None,
        grants: Vec::new(),
        visitor_email: None,
        screenshot: None,
        rating: None,
        invitees: Vec::new(),
        visitor_identity: None,
        visitor: None,
    };
    w.input(Input::VisitorLookedUp {
        conn: ConnId(2),
        token: token.clone(),
        visitor: Some(StoredVisitor {
            id: visitor_id,
            token_hash,
            latest: Some(StoredConversation {
                summary,
                recent_client_ids: vec![],
            }),
        }),
    });
    let inbox = w.take(2);
    assert!(
        matches!(&inbox[0], ServerMessage::VisitorWelcome { token: t, conversation: Some(c), .. } if *t == token && c.id == id)
    );
    assert_eq!(
        inbox
            .iter()
            .filter(|m| matches!(m, ServerMessage::Event { .. }))
            .count(),
        3
    );
    // Writing again starts a new conversation.
    w.visitor_says(2, "m2", "one more thing");
    assert_eq!(w.shell.events.len(), 2);
}

#[test]
fn a_visitor_cannot_touch_another_conversation() {
    let mut w = World::new();
    w.visitor(1, None, 0);
    w.visitor_says(1, "m1", "mine");
    let theirs = conversation_of(&w);
    w.visitor(2, None, 0);
    w.take(2);
    for message in [
        ClientMessage::Send {
            conversation: Some(theirs.clone()),
            client_id: "x".into(),
            body: text("hijack"),
        },
        ClientMessage::Sync {
            conversation: theirs.clone(),
            after_seq: 0,
        },
        ClientMessage::Close {
            conversation: Some(theirs.clone()),
        },
        ClientMessage::Typing {
            conversation: Some(theirs.clone()),
            active: true,
        },
    ] {
        w.msg(2, message);
        assert_eq!(error_code(&w.take(2)), Some(ErrorCode::Forbidden));
    }
    assert_eq!(w.shell.events[&theirs].len(), 2, "nothing was added");
    assert!(w.take(1).is_empty() || !w.take(1).iter().any(|m| matches!(m, ServerMessage::Event { .. })));
}

#[test]
fn agents_cannot_write_into_conversations_they_do_not_own() {
    let mut w = World::new();
    w.agent(10, agent(1, "Anna"));
    w.agent(11, agent(2, "Ben"));
    w.visitor(1, None, 0);
    w.visitor_says(1, "m1", "hi");
    let id = conversation_of(&w);
    w.take(10);
    w.take(11);
    // Writing before accepting is refused.
    w.msg(
        11,
        ClientMessage::Send {
            conversation: Some(id.clone()),
            client_id: "b0".into(),
            body: text("x"),
        },
    );
    assert_eq!(error_code(&w.take(11)), Some(ErrorCode::InvalidState));
    w.msg(
        10,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    // Ben sees it leave the queue.
    assert!(w.take(11).iter().any(|m| matches!(m, ServerMessage::ConversationUpdated { conversation } if conversation.status == ConversationStatus::Active)));
    w.msg(
        11,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    assert_eq!(error_code(&w.take(11)), Some(ErrorCode::InvalidState));
    w.msg(
        11,
        ClientMessage::Send {
            conversation: Some(id.clone()),
            client_id: "b1".into(),
            body: text("x"),
        },
    );
    assert_eq!(error_code(&w.take(11)), Some(ErrorCode::Forbidden));
    w.msg(
        11,
        ClientMessage::Sync {
            conversation: id.clone(),
            after_seq: 0,
        },
    );
    assert_eq!(error_code(&w.take(11)), Some(ErrorCode::Forbidden));
    w.msg(
        11,
        ClientMessage::Close {
            conversation: Some(id.clone()),
        },
    );
    assert_eq!(error_code(&w.take(11)), Some(ErrorCode::Forbidden));
    assert_eq!(w.shell.events[&id].len(), 3);
}

#[test]
fn messages_before_hello_and_on_the_wrong_socket_are_refused() {
    let mut w = World::new();
    w.input(Input::Connected {
        conn: ConnId(1),
        peer: Peer::Visitor,
        address: LOCAL,
        client: Default::default(),
    });
    w.visitor_says(1, "m1", "hi");
    assert_eq!(error_code(&w.take(1)), Some(ErrorCode::NotAuthenticated));
    w.msg(
        1,
        ClientMessage::AgentHello {
            protocol: PROTOCOL_VERSION,
            away: false,
        },
    );
    assert_eq!(error_code(&w.take(1)), Some(ErrorCode::NotAuthenticated));
    w.input(Input::Connected {
        conn: ConnId(2),
        peer: Peer::Visitor,
        address: LOCAL,
        client: Default::default(),
    });
    w.msg(
        2,
        ClientMessage::VisitorHello {
            protocol: 99,
            token: None,
            after_seq: 0,
            page: None,
            device: None,
        },
    );
    assert_eq!(error_code(&w.take(2)), Some(ErrorCode::UnsupportedVersion));
    assert_eq!(w.shell.disconnected, vec![ConnId(2)]);
    assert!(w.shell.events.is_empty());
}

#[test]
fn visitors_cannot_send_links_and_agents_only_http_links() {
    let mut w = World::new();
    w.agent(10, agent(1, "Anna"));
    w.visitor(1, None, 0);
    w.msg(
        1,
        ClientMessage::Send {
            conversation: None,
            client_id: "l".into(),
            body: MessageBody::Link {
                url: "https://x.test".into(),
                title: None,
            },
        },
    );
    assert_eq!(error_code(&w.take(1)), Some(ErrorCode::Forbidden));
    w.visitor_says(1, "m1", "hi");
    let id = conversation_of(&w);
    w.msg(
        10,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    w.take(10);
    w.msg(
        10,
        ClientMessage::Send {
            conversation: Some(id.clone()),
            client_id: "a".into(),
            body: MessageBody::Link {
                url: "javascript:alert(1)".into(),
                title: None,
            },
        },
    );
    assert_eq!(error_code(&w.take(10)), Some(ErrorCode::BadRequest));
    w.msg(
        10,
        ClientMessage::Send {
            conversation: Some(id.clone()),
            client_id: "b".into(),
            body: MessageBody::Link {
                url: "https://help.example.com/cards".into(),
                title: Some("Card help".into()),
            },
        },
    );
    assert!(w.take(10).iter().any(|m| matches!(m, ServerMessage::Ack { .. })));
}

#[test]
fn floods_are_rate_limited_per_connection() {
    let mut w = World::new();
    w.visitor(1, None, 0);
    w.visitor(2, None, 0);
    for i in 0..100 {
        w.msg(1, ClientMessage::Ping { nonce: i });
    }
    let inbox = w.take(1);
    let limited = inbox
        .iter()
        .filter(|m| {
            matches!(
                m,
                ServerMessage::Error {
                    code: ErrorCode::RateLimited,
                    ..
                }
            )
        })
        .count();
    assert!(limited >= 50, "{limited} refused");
    // The other visitor is untouched.
    w.msg(2, ClientMessage::Ping { nonce: 1 });
    assert_eq!(w.take(2), vec![ServerMessage::Pong { nonce: 1 }]);
    w.now += 5_000;
    w.msg(1, ClientMessage::Ping { nonce: 7 });
    assert_eq!(w.take(1), vec![ServerMessage::Pong { nonce: 7 }]);
}

#[test]
fn closing_notifies_both_sides_and_further_writes_start_anew_or_fail() {
    let mut w = World::new();
    w.agent(10, agent(1, "Anna"));
    w.visitor(1, None, 0);
    w.visitor_says(1, "m1", "hi");
    let id = conversation_of(&w);
    w.msg(
        10,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    w.take(1);
    w.msg(
        10,
        ClientMessage::Close {
            conversation: Some(id.clone()),
        },
    );
    assert!(w.take(1).iter().any(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Closed { by: Role::Agent, .. }))));
    w.msg(
        10,
        ClientMessage::Send {
            conversation: Some(id.clone()),
            client_id: "late".into(),
            body: text("x"),
        },
    );
    assert_eq!(error_code(&w.take(10)), Some(ErrorCode::InvalidState));
    assert_eq!(w.shell.statuses[&id], ConversationStatus::Closed);
    // The visitor's retry of an old message is still acknowledged, not re-posted.
    w.visitor_says(1, "m1", "hi");
    assert!(w.take(1).iter().any(|m| matches!(m, ServerMessage::Ack { seq: 2, .. })));
    assert_eq!(w.shell.events.len(), 1);
}

#[test]
fn presence_is_reported_to_the_owner() {
    let mut w = World::new();
    w.agent(10, agent(1, "Anna"));
    w.visitor(1, None, 0);
    w.visitor_says(1, "m1", "hi");
    let id = conversation_of(&w);
    w.msg(10, ClientMessage::Accept { conversation: id });
    w.take(10);
    w.input(Input::Disconnected { conn: ConnId(1) });
    assert!(w
        .take(10)
        .iter()
        .any(|m| matches!(m, ServerMessage::ConversationUpdated { conversation } if !conversation.visitor_online)));
}
