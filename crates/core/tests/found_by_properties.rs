//! Breaches of "the server decides who sees what" that the property test
//! (tests/properties.rs) found, kept as plain scenarios (regression tests, named
//! after what must hold).

mod common;

use common::*;
use sightline_core::records::NewImage;
use sightline_core::{ConnId, Input, Uploader};
use sightline_proto::{ClientMessage, ErrorCode, ImageRef, ServerMessage};

const VISITOR: u64 = 1;
const ANNA: u64 = 10;
const BEN: u64 = 20;

/// Closing a conversation sends its summary (owner, preview of the newest
/// message, page) to every agent socket. For a conversation that was in everyone's
/// queue that only removes it from the queue, but one started with a session key
/// was never waiting: no other agent ever knew of it.
#[test]
fn closing_a_conversation_started_with_a_key_tells_no_other_agent() {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    w.agent(BEN, agent(2, "Ben"));
    w.msg(BEN, ClientMessage::ShareKeyCreate { capability: None });
    let key = w
        .take(BEN)
        .into_iter()
        .find_map(|m| match m {
            ServerMessage::ShareKeyCreated { key, .. } => Some(key),
            _ => None,
        })
        .expect("a key");
    w.visitor(VISITOR, None, 0);
    w.msg(VISITOR, ClientMessage::ShareKeyRedeem { key });
    w.visitor_says(VISITOR, "v1", "my account number is 1234");
    assert!(w.take(ANNA).is_empty(), "Anna hears nothing while it is open");

    w.msg(VISITOR, ClientMessage::Close { conversation: None });
    let anna = w.take(ANNA);
    assert!(anna.is_empty(), "Anna is told of Ben's conversation: {anna:?}");
}

/// An agent who does not own a conversation, sending with a client id that the
/// owner used there, is acknowledged with the owner's message's seq instead of
/// refused: `Conversation::seen` is consulted before `check_owner`.
#[test]
fn another_agent_reusing_the_owners_client_id_is_refused() {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    w.agent(BEN, agent(2, "Ben"));
    w.visitor(VISITOR, None, 0);
    w.visitor_says(VISITOR, "v1", "hello");
    let id = conversation_of(&w);
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    w.msg(
        ANNA,
        ClientMessage::Send {
            conversation: Some(id.clone()),
            client_id: "a-1".into(),
            body: text("only for you"),
        },
    );
    w.take(BEN);

    w.msg(
        BEN,
        ClientMessage::Send {
            conversation: Some(id.clone()),
            client_id: "a-1".into(),
            body: text("me too"),
        },
    );
    let ben = w.take(BEN);
    assert_eq!(error_code(&ben), Some(ErrorCode::Forbidden), "{ben:?}");

    // The same through the image upload: Ben is told where Anna's message is.
    w.input(Input::PostImage {
        request: 1,
        uploader: Uploader::Agent {
            agent: agent(2, "Ben").agent,
            conversation: id,
        },
        client_id: "a-1".into(),
        image: NewImage {
            image: ImageRef {
                id: "img".into(),
                mime: "image/png".into(),
                width: 1,
                height: 1,
                bytes: 1,
                thumb_width: 1,
                thumb_height: 1,
                has_annotations: false,
                source_image: None,
            },
            sha256: "a".repeat(64),
            thumb_sha256: "b".repeat(64),
            annotations: None,
            agents_only: false,
        },
    });
    let (_, answer) = w.shell.posted.pop().expect("an answer");
    assert!(
        matches!(&answer, Err(refused) if refused.code == ErrorCode::Forbidden),
        "{answer:?}"
    );
}

/// The same inputs give the same outputs in the same order: two hubs with the same
/// seed, fed the same inputs (several agents online, so that fan-outs walk a map of
/// them), produce identical output sequences. With agents kept in a HashMap (each
/// instance hashing with its own random keys) the order of the sends differed.
#[test]
fn two_hubs_fed_the_same_inputs_give_the_same_outputs_in_the_same_order() {
    let run = || {
        let mut hub = sightline_core::Hub::new([3; 32], sightline_core::ShareSettings::default());
        let mut outputs = Vec::new();
        let mut feed = |hub: &mut sightline_core::Hub, input: Input| {
            hub.handle(1_700_000_000_000, input);
            while let Some(out) = hub.poll_output() {
                outputs.push(out);
            }
        };
        for id in 1..=12i64 {
            let conn = ConnId(100 + id as u64);
            feed(
                &mut hub,
                Input::Connected {
                    conn,
                    peer: sightline_core::Peer::Agent(agent(id, &format!("Agent {id}"))),
                    address: LOCAL,
                },
            );
            feed(
                &mut hub,
                Input::Message {
                    conn,
                    message: ClientMessage::AgentHello {
                        protocol: 1,
                        away: false,
                    },
                    request_ref: None,
                },
            );
        }
        feed(
            &mut hub,
            Input::Connected {
                conn: ConnId(1),
                peer: sightline_core::Peer::Visitor,
                address: LOCAL,
            },
        );
        for message in [
            ClientMessage::VisitorHello {
                protocol: 1,
                token: None,
                after_seq: 0,
                page: None,
            },
            ClientMessage::Send {
                conversation: None,
                client_id: "v1".into(),
                body: text("hello"),
            },
            ClientMessage::Close { conversation: None },
        ] {
            feed(
                &mut hub,
                Input::Message {
                    conn: ConnId(1),
                    message,
                    request_ref: None,
                },
            );
        }
        outputs
    };
    let (first, second) = (run(), run());
    assert!(first.len() > 30, "{} outputs", first.len());
    assert_eq!(first, second);
}
