//! The visitor rates their conversation once it is closed: who may (only its own
//! visitor), when (closed, not before), how often (once), and what each side
//! receives. Driven on simulated time with the in-memory shell.

mod common;

use common::*;
use sightline_proto::{ClientMessage, ConversationId, ErrorCode, EventKind, ServerMessage, MAX_RATING_COMMENT_CHARS};

const VISITOR: u64 = 1;
const STRANGER: u64 = 2;
const ANNA: u64 = 10;
const BEN: u64 = 11;

/// A visitor who chatted with Anna; Ben is online too, and another visitor
/// has a conversation of their own. Nothing closed yet.
fn chatted() -> (World, ConversationId) {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    w.agent(BEN, agent(2, "Ben"));
    w.visitor(VISITOR, None, 0);
    w.visitor_says(VISITOR, "v1", "My invoice is wrong");
    let id = conversation_of(&w);
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    w.visitor(STRANGER, None, 0);
    w.visitor_says(STRANGER, "s1", "Hello?");
    for conn in [VISITOR, STRANGER, ANNA, BEN] {
        w.take(conn);
    }
    (w, id)
}

fn closed_by_agent() -> (World, ConversationId) {
    let (mut w, id) = chatted();
    w.msg(
        ANNA,
        ClientMessage::Close {
            conversation: Some(id.clone()),
        },
    );
    for conn in [VISITOR, STRANGER, ANNA, BEN] {
        w.take(conn);
    }
    (w, id)
}

fn rate(w: &mut World, conn: u64, conversation: Option<&ConversationId>, score: u8, comment: Option<&str>) {
    w.msg_with_ref(
        conn,
        ClientMessage::Rate {
            conversation: conversation.cloned(),
            score,
            comment: comment.map(Into::into),
        },
        "rate",
    );
}

fn refusal(messages: &[ServerMessage]) -> Option<(ErrorCode, String, Option<String>)> {
    messages.iter().find_map(|m| match m {
        ServerMessage::Error {
            code,
            message,
            request_ref,
            ..
        } => Some((*code, message.clone(), request_ref.clone())),
        _ => None,
    })
}

fn ratings(w: &World, id: &ConversationId) -> Vec<(u8, Option<String>)> {
    w.shell.events[id]
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Rated { score, comment } => Some((*score, comment.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_visitor_rates_a_closed_conversation_and_both_sides_hear_it() {
    let (mut w, id) = closed_by_agent();
    let last_before = w.shell.events[&id].len() as u64;
    rate(&mut w, VISITOR, None, 4, Some("  Quick and kind  "));
    assert_eq!(ratings(&w, &id), vec![(4, Some("Quick and kind".into()))]);
    let stored = w.shell.events[&id].last().expect("stored").clone();
    assert_eq!(stored.seq, last_before + 1, "numbered after the close");
    let to_visitor = w.take(VISITOR);
    assert!(refusal(&to_visitor).is_none(), "{to_visitor:?}");
    assert!(
        to_visitor
            .iter()
            .any(|m| matches!(m, ServerMessage::Event { event, .. } if *event == stored)),
        "the visitor's widget sees its rating: {to_visitor:?}"
    );
    let to_anna = w.take(ANNA);
    assert!(
        to_anna
            .iter()
            .any(|m| matches!(m, ServerMessage::Event { event, .. } if *event == stored)),
        "the agent who had the conversation sees it live: {to_anna:?}"
    );
    assert_eq!(summary_for(&to_anna).and_then(|s| s.rating), Some(4));
    for other in [STRANGER, BEN] {
        let got = w.take(other);
        assert!(
            !serde_json::to_string(&got).expect("json").contains("Quick and kind"),
            "socket {other} heard the rating: {got:?}"
        );
    }
}

#[test]
fn a_second_rating_is_refused_and_the_first_stands() {
    let (mut w, id) = closed_by_agent();
    rate(&mut w, VISITOR, Some(&id), 2, None);
    w.take(VISITOR);
    w.take(ANNA);
    for (score, comment) in [(5, Some("changed my mind")), (2, None)] {
        rate(&mut w, VISITOR, None, score, comment);
        let (code, message, request_ref) = refusal(&w.take(VISITOR)).expect("refused");
        assert_eq!(code, ErrorCode::InvalidState);
        assert_eq!(message, "this conversation is already rated");
        assert_eq!(request_ref.as_deref(), Some("rate"), "the refusal names the request");
        assert!(w.take(ANNA).is_empty(), "the agent hears nothing of a refused rating");
    }
    assert_eq!(ratings(&w, &id), vec![(2, None)]);
}

#[test]
fn an_open_conversation_cannot_be_rated_waiting_or_active() {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    // No conversation at all yet.
    w.visitor(VISITOR, None, 0);
    rate(&mut w, VISITOR, None, 5, None);
    assert_eq!(refusal(&w.take(VISITOR)).map(|r| r.0), Some(ErrorCode::NotFound));
    w.visitor_says(VISITOR, "v1", "Hi");
    let id = conversation_of(&w);
    w.take(VISITOR);
    rate(&mut w, VISITOR, None, 5, None);
    let (code, message, _) = refusal(&w.take(VISITOR)).expect("refused while waiting");
    assert_eq!(code, ErrorCode::InvalidState);
    assert_eq!(message, "the conversation is still open: rate it once it has ended");
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    w.take(VISITOR);
    rate(&mut w, VISITOR, Some(&id), 5, None);
    assert_eq!(
        refusal(&w.take(VISITOR)).map(|r| r.0),
        Some(ErrorCode::InvalidState),
        "refused while active"
    );
    assert!(ratings(&w, &id).is_empty());
    // Closed by the visitor themselves: now it may be rated.
    w.msg(VISITOR, ClientMessage::Close { conversation: None });
    w.take(VISITOR);
    rate(&mut w, VISITOR, None, 3, None);
    assert!(refusal(&w.take(VISITOR)).is_none());
    assert_eq!(ratings(&w, &id), vec![(3, None)]);
}

#[test]
fn a_conversation_closed_while_it_waited_can_be_rated() {
    let mut w = World::new();
    w.visitor(VISITOR, None, 0);
    w.visitor_says(VISITOR, "v1", "Anyone there?");
    let id = conversation_of(&w);
    w.msg(VISITOR, ClientMessage::Close { conversation: None });
    w.take(VISITOR);
    rate(&mut w, VISITOR, None, 1, Some("nobody answered"));
    assert!(refusal(&w.take(VISITOR)).is_none());
    assert_eq!(ratings(&w, &id), vec![(1, Some("nobody answered".into()))]);
}

#[test]
fn only_the_conversations_own_visitor_may_rate_it() {
    let (mut w, id) = closed_by_agent();
    // Another visitor naming it.
    rate(&mut w, STRANGER, Some(&id), 1, Some("spite"));
    let (code, _, _) = refusal(&w.take(STRANGER)).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);
    // Another visitor without naming it rates their own (open) conversation: refused.
    rate(&mut w, STRANGER, None, 1, Some("spite"));
    assert_eq!(refusal(&w.take(STRANGER)).map(|r| r.0), Some(ErrorCode::InvalidState));
    // A visitor with no conversation at all, naming it.
    w.visitor(3, None, 0);
    rate(&mut w, 3, Some(&id), 1, None);
    assert_eq!(refusal(&w.take(3)).map(|r| r.0), Some(ErrorCode::Forbidden));
    rate(&mut w, 3, None, 1, None);
    assert_eq!(refusal(&w.take(3)).map(|r| r.0), Some(ErrorCode::NotFound));
    // Agents never rate, not even the owner.
    for agent in [ANNA, BEN] {
        rate(&mut w, agent, Some(&id), 5, None);
        assert_eq!(
            refusal(&w.take(agent)).map(|r| r.0),
            Some(ErrorCode::Forbidden),
            "socket {agent}"
        );
    }
    assert!(ratings(&w, &id).is_empty());
    // The visitor may still rate it, but not by naming a conversation that is not theirs.
    rate(&mut w, VISITOR, Some(&ConversationId::from("nope")), 5, None);
    assert_eq!(refusal(&w.take(VISITOR)).map(|r| r.0), Some(ErrorCode::Forbidden));
    rate(&mut w, VISITOR, Some(&id), 5, None);
    assert!(refusal(&w.take(VISITOR)).is_none());
    assert_eq!(ratings(&w, &id), vec![(5, None)]);
}

#[test]
fn scores_and_comments_out_of_bounds_are_refused_and_leave_room_for_a_good_one() {
    let (mut w, id) = closed_by_agent();
    for score in [0, 6, u8::MAX] {
        rate(&mut w, VISITOR, None, score, None);
        assert_eq!(
            refusal(&w.take(VISITOR)).map(|r| r.0),
            Some(ErrorCode::BadRequest),
            "score {score}"
        );
    }
    let long = "ü".repeat(MAX_RATING_COMMENT_CHARS + 1);
    rate(&mut w, VISITOR, None, 4, Some(&long));
    assert_eq!(refusal(&w.take(VISITOR)).map(|r| r.0), Some(ErrorCode::TooLarge));
    assert!(ratings(&w, &id).is_empty());
    let longest = "ü".repeat(MAX_RATING_COMMENT_CHARS);
    rate(&mut w, VISITOR, None, 4, Some(&longest));
    assert!(refusal(&w.take(VISITOR)).is_none());
    assert_eq!(ratings(&w, &id), vec![(4, Some(longest))]);
}

#[test]
fn a_blank_comment_is_stored_as_none_and_a_new_conversation_starts_afterwards() {
    let (mut w, id) = closed_by_agent();
    rate(&mut w, VISITOR, None, 5, Some(" \n "));
    assert_eq!(ratings(&w, &id), vec![(5, None)]);
    w.take(VISITOR);
    // Writing again starts a new conversation, which is open (not rateable) and
    // not rated.
    w.visitor_says(VISITOR, "v2", "One more question");
    let newest = w
        .shell
        .events
        .keys()
        .find(|k| {
            **k != id
                && w.shell.events[*k]
                    .iter()
                    .any(|e| matches!(&e.kind, EventKind::Message { client_id, .. } if client_id == "v2"))
        })
        .expect("a new conversation")
        .clone();
    w.take(VISITOR);
    rate(&mut w, VISITOR, None, 1, None);
    assert_eq!(refusal(&w.take(VISITOR)).map(|r| r.0), Some(ErrorCode::InvalidState));
    assert!(ratings(&w, &newest).is_empty());
    // And the old one cannot be named any more: it is not the visitor's current one.
    rate(&mut w, VISITOR, Some(&id), 1, None);
    assert_eq!(refusal(&w.take(VISITOR)).map(|r| r.0), Some(ErrorCode::Forbidden));
}

#[test]
fn a_rating_spends_the_visitors_message_allowance_like_any_message() {
    let (mut w, id) = closed_by_agent();
    // The socket's burst (40 by default) spent on pings...
    for nonce in 0..40 {
        w.msg(VISITOR, ClientMessage::Ping { nonce });
    }
    w.take(VISITOR);
    // ...leaves nothing for a rating at the same moment.
    rate(&mut w, VISITOR, None, 5, None);
    assert_eq!(refusal(&w.take(VISITOR)).map(|r| r.0), Some(ErrorCode::RateLimited));
    assert!(ratings(&w, &id).is_empty());
    // A moment later there is room again.
    w.now += 1_000;
    rate(&mut w, VISITOR, None, 5, None);
    assert!(refusal(&w.take(VISITOR)).is_none());
    assert_eq!(ratings(&w, &id), vec![(5, None)]);
}
