//! Uploaded images posted through the core: the same participant and state checks
//! as text, dedup by client id, metadata stored before the message.

mod common;

use common::*;
use sightline_core::records::NewImage;
use sightline_core::{token_hash, Input, Uploader};
use sightline_proto::{AgentRef, ClientMessage, ErrorCode, EventKind, ImageRef, MessageBody, Role, ServerMessage};

fn new_image(id: &str) -> NewImage {
    NewImage {
        image: ImageRef {
            id: id.into(),
            mime: "image/png".into(),
            width: 1920,
            height: 1080,
            bytes: 12345,
            thumb_width: 320,
            thumb_height: 180,
            has_annotations: false,
            source_image: None,
        },
        sha256: "a".repeat(64),
        thumb_sha256: "b".repeat(64),
        annotations: None,
        agents_only: false,
    }
}

fn image_events(messages: &[ServerMessage]) -> Vec<(Role, String)> {
    messages
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Event { event, .. } => match &event.kind {
                EventKind::Message {
                    from,
                    body: MessageBody::Image { image },
                    ..
                } => Some((*from, image.id.to_string())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn post(world: &mut World, request: u64, uploader: Uploader, client_id: &str, id: &str) {
    world.input(Input::PostImage {
        request,
        uploader,
        client_id: client_id.into(),
        image: new_image(id),
    });
}

fn as_visitor(token: &str) -> Uploader {
    Uploader::Visitor {
        token_hash: token_hash(token),
        stored: None,
        address: LOCAL,
    }
}

#[test]
fn a_visitor_image_opens_a_conversation_and_a_retry_is_not_stored_twice() {
    let mut world = World::new();
    let token = world.visitor(1, None, 0);
    post(&mut world, 1, as_visitor(&token), "img-1", "i1");
    let (request, result) = world.shell.posted.pop().expect("answered");
    let posted = result.expect("posted");
    assert_eq!((request, posted.seq, posted.created), (1, 2, true));
    let conversation = conversation_of(&world);
    assert_eq!(posted.conversation, conversation);
    // Metadata first, then the message that shows it.
    assert_eq!(world.shell.images, vec![(conversation.clone(), new_image("i1"))]);
    assert_eq!(image_events(&world.take(1)), vec![(Role::Visitor, "i1".to_owned())]);

    post(&mut world, 2, as_visitor(&token), "img-1", "i1-again");
    let (_, again) = world.shell.posted.pop().expect("answered");
    let again = again.expect("acknowledged");
    assert_eq!((again.seq, again.created), (2, false));
    assert_eq!(world.shell.images.len(), 1, "nothing new stored");
    assert_eq!(world.shell.events[&conversation].len(), 2);

    // Unknown tokens post nothing.
    post(&mut world, 3, as_visitor("not-a-token"), "img-2", "i2");
    let (_, refused) = world.shell.posted.pop().expect("answered");
    assert_eq!(refused.expect_err("refused").code, ErrorCode::NotAuthenticated);
}

#[test]
fn agents_post_only_into_their_own_active_conversation_and_never_over_the_socket() {
    let mut world = World::new();
    world.visitor(1, None, 0);
    world.visitor_says(1, "v1", "help");
    let conversation = conversation_of(&world);
    let anna = agent(10, "Anna");
    let ben = agent(11, "Ben");
    world.agent(20, anna.clone());
    world.agent(21, ben.clone());
    let as_agent = |who: &sightline_core::AgentIdentity| Uploader::Agent {
        agent: AgentRef {
            id: who.agent.id,
            display_name: who.agent.display_name.clone(),
            colour: None,
        },
        conversation: conversation.clone(),
    };

    post(&mut world, 1, as_agent(&anna), "a-1", "early");
    let (_, early) = world.shell.posted.pop().expect("answered");
    assert_eq!(early.expect_err("not accepted yet").code, ErrorCode::InvalidState);

    world.msg(
        20,
        ClientMessage::Accept {
            conversation: conversation.clone(),
        },
    );
    post(&mut world, 2, as_agent(&ben), "b-1", "bens");
    let (_, bens) = world.shell.posted.pop().expect("answered");
    assert_eq!(bens.expect_err("not his").code, ErrorCode::Forbidden);

    world.take(1);
    post(&mut world, 3, as_agent(&anna), "a-1", "snap");
    let (_, ok) = world.shell.posted.pop().expect("answered");
    assert!(ok.expect("posted").created);
    assert_eq!(image_events(&world.take(1)), vec![(Role::Agent, "snap".to_owned())]);
    assert!(world.shell.images.iter().all(|(_, i)| i.image.id.as_str() == "snap"));

    // Image bodies over the socket are refused, whoever sends them.
    world.msg(
        20,
        ClientMessage::Send {
            conversation: Some(conversation.clone()),
            client_id: "a-2".into(),
            body: MessageBody::Image {
                image: new_image("forged").image,
            },
        },
    );
    assert_eq!(error_code(&world.take(20)), Some(ErrorCode::BadRequest));
    world.msg(
        1,
        ClientMessage::Send {
            conversation: None,
            client_id: "v-2".into(),
            body: MessageBody::Image {
                image: new_image("forged").image,
            },
        },
    );
    assert_eq!(error_code(&world.take(1)), Some(ErrorCode::BadRequest));
    assert!(!world.shell.events[&conversation].iter().any(
        |e| matches!(&e.kind, EventKind::Message { body: MessageBody::Image { image }, .. } if image.id.as_str() == "forged")
    ));
}
