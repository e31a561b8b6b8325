//! Screenshot requests (for visitors whose device cannot share its screen): only
//! the owner asks, one at a time; the visitor answers with a picture or declines;
//! the owner may withdraw; closing the conversation ends an open request. Every
//! change is an event both sides see.

mod common;

use common::*;
use sightline_core::records::NewImage;
use sightline_core::{token_hash, Input, Uploader};
use sightline_proto::{
    ClientMessage, ConversationId, ErrorCode, EventKind, ImageRef, MessageBody, ScreenshotId, ScreenshotState,
    ServerMessage,
};

/// A visitor (socket 1) in a conversation Anna (socket 20) accepted; Ben (21) is
/// another agent. Returns the visitor's token and the conversation.
fn accepted() -> (World, String, ConversationId) {
    let mut world = World::new();
    let token = world.visitor(1, None, 0);
    world.visitor_says(1, "v1", "my phone shows an error");
    let conversation = conversation_of(&world);
    world.agent(20, agent(10, "Anna"));
    world.agent(21, agent(11, "Ben"));
    world.msg(
        20,
        ClientMessage::Accept {
            conversation: conversation.clone(),
        },
    );
    for conn in [1, 20, 21] {
        world.take(conn);
    }
    (world, token, conversation)
}

fn ask(world: &mut World, conn: u64, conversation: &ConversationId, message: Option<&str>) {
    world.msg(
        conn,
        ClientMessage::ScreenshotAsk {
            conversation: conversation.clone(),
            message: message.map(str::to_owned),
        },
    );
}

/// The screenshot events in what a socket received: (request, state, message).
fn screenshot_events(messages: &[ServerMessage]) -> Vec<(ScreenshotId, ScreenshotState, Option<String>)> {
    messages
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Event { event, .. } => match &event.kind {
                EventKind::Screenshot {
                    request,
                    state,
                    message,
                    ..
                } => Some((request.clone(), *state, message.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The summary's view in the newest `conversation_updated` a socket received.
fn summary_state(messages: &[ServerMessage]) -> Option<ScreenshotState> {
    messages.iter().rev().find_map(|m| match m {
        ServerMessage::ConversationUpdated { conversation } => conversation.screenshot.as_ref().map(|s| s.state),
        _ => None,
    })
}

fn picture(token: &str, client_id: &str) -> Input {
    Input::PostImage {
        request: 1,
        uploader: Uploader::Visitor {
            token_hash: token_hash(token),
            stored: None,
            address: LOCAL,
        },
        client_id: client_id.into(),
        image: NewImage {
            image: ImageRef {
                id: "shot".into(),
                mime: "image/png".into(),
                width: 390,
                height: 844,
                bytes: 2000,
                thumb_width: 148,
                thumb_height: 320,
                has_annotations: false,
                source_image: None,
            },
            sha256: "a".repeat(64),
            thumb_sha256: "b".repeat(64),
            annotations: None,
            agents_only: false,
        },
    }
}

#[test]
fn the_owner_asks_and_the_visitors_picture_answers() {
    let (mut world, token, conversation) = accepted();
    ask(&mut world, 20, &conversation, None);
    let visitor_sees = screenshot_events(&world.take(1));
    assert_eq!(visitor_sees.len(), 1);
    let (request, state, message) = visitor_sees[0].clone();
    assert_eq!(state, ScreenshotState::Asked);
    assert!(
        message.is_some_and(|m| m.contains("screenshot")),
        "the default request text"
    );
    let anna_sees = world.take(20);
    assert_eq!(screenshot_events(&anna_sees).len(), 1);
    assert_eq!(summary_state(&anna_sees), Some(ScreenshotState::Asked));

    // One request at a time.
    ask(&mut world, 20, &conversation, Some("another"));
    assert_eq!(error_code(&world.take(20)), Some(ErrorCode::InvalidState));

    // The visitor's picture answers it: the image message, then `sent`.
    world.input(picture(&token, "img-1"));
    let (_, posted) = world.shell.posted.pop().expect("answered");
    posted.expect("posted");
    let stored = &world.shell.events[&conversation];
    let n = stored.len();
    assert!(matches!(
        &stored[n - 2].kind,
        EventKind::Message {
            body: MessageBody::Image { .. },
            ..
        }
    ));
    assert!(matches!(
        &stored[n - 1].kind,
        EventKind::Screenshot { request: r, state: ScreenshotState::Sent, .. } if *r == request
    ));
    assert_eq!(summary_state(&world.take(20)), Some(ScreenshotState::Sent));

    // Answered: a later picture is just a picture, and a new request may be made.
    world.input(picture(&token, "img-2"));
    assert!(screenshot_events(&world.take(1))
        .iter()
        .all(|(_, s, _)| *s == ScreenshotState::Sent));
    ask(&mut world, 20, &conversation, Some("One more, please"));
    let again = screenshot_events(&world.take(1));
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].0, request, "a new request has a new id");
    assert_eq!(again[0].2.as_deref(), Some("One more, please"));
}

#[test]
fn only_the_owner_asks_or_withdraws_and_only_the_visitor_declines() {
    let (mut world, _token, conversation) = accepted();
    ask(&mut world, 21, &conversation, None);
    assert_eq!(
        error_code(&world.take(21)),
        Some(ErrorCode::Forbidden),
        "Ben is not the owner"
    );
    world.msg(
        1,
        ClientMessage::ScreenshotAsk {
            conversation: conversation.clone(),
            message: None,
        },
    );
    assert_eq!(
        error_code(&world.take(1)),
        Some(ErrorCode::Forbidden),
        "visitors do not ask"
    );
    assert!(!world.shell.events[&conversation]
        .iter()
        .any(|e| matches!(e.kind, EventKind::Screenshot { .. })));

    ask(&mut world, 20, &conversation, None);
    let (request, ..) = screenshot_events(&world.take(1)).remove(0);
    world.take(20);
    world.msg(
        21,
        ClientMessage::ScreenshotEnd {
            request: request.clone(),
        },
    );
    assert_eq!(
        error_code(&world.take(21)),
        Some(ErrorCode::Forbidden),
        "Ben cannot withdraw Anna's"
    );

    // Another visitor cannot answer it.
    world.visitor(2, None, 0);
    world.msg(
        2,
        ClientMessage::ScreenshotEnd {
            request: request.clone(),
        },
    );
    assert_eq!(error_code(&world.take(2)), Some(ErrorCode::Forbidden));

    // The visitor declines: the agent is told; a repeated answer changes nothing.
    world.msg(
        1,
        ClientMessage::ScreenshotEnd {
            request: request.clone(),
        },
    );
    let anna_sees = world.take(20);
    assert_eq!(
        screenshot_events(&anna_sees),
        vec![(request.clone(), ScreenshotState::Declined, None)]
    );
    assert_eq!(summary_state(&anna_sees), Some(ScreenshotState::Declined));
    world.msg(
        1,
        ClientMessage::ScreenshotEnd {
            request: request.clone(),
        },
    );
    let visitor_sees = world.take(1);
    assert_eq!(error_code(&visitor_sees), None);
    assert_eq!(screenshot_events(&visitor_sees).len(), 1, "only the first decline");
    // Over: nothing to withdraw.
    world.msg(20, ClientMessage::ScreenshotEnd { request });
    assert_eq!(error_code(&world.take(20)), Some(ErrorCode::NotFound));

    // A new request withdrawn by its owner.
    ask(&mut world, 20, &conversation, None);
    let (request, ..) = screenshot_events(&world.take(1)).remove(0);
    world.msg(
        20,
        ClientMessage::ScreenshotEnd {
            request: request.clone(),
        },
    );
    assert_eq!(
        screenshot_events(&world.take(1)),
        vec![(request, ScreenshotState::Withdrawn, None)]
    );
}

#[test]
fn closing_the_conversation_ends_an_open_request() {
    let (mut world, _token, conversation) = accepted();
    ask(&mut world, 20, &conversation, None);
    let (request, ..) = screenshot_events(&world.take(1)).remove(0);
    world.msg(1, ClientMessage::Close { conversation: None });
    let stored = &world.shell.events[&conversation];
    let n = stored.len();
    assert!(matches!(
        &stored[n - 2].kind,
        EventKind::Screenshot { request: r, state: ScreenshotState::Ended, .. } if *r == request
    ));
    assert!(matches!(stored[n - 1].kind, EventKind::Closed { .. }));
    // Asking in a closed conversation is refused.
    ask(&mut world, 20, &conversation, None);
    assert!(error_code(&world.take(20)).is_some());
}

#[test]
fn a_request_text_has_a_limit() {
    let (mut world, _token, conversation) = accepted();
    ask(&mut world, 20, &conversation, Some(&"x".repeat(501)));
    assert_eq!(error_code(&world.take(20)), Some(ErrorCode::TooLarge));
}
