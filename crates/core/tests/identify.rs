//! Identified visitors: the host page's `Sightline.identify`, signed by the site's
//! server with the identity secret. The hub takes an identity only with the right
//! signature, keeps it for the visitor, and stores it on their conversation.

mod common;

use common::*;
use sightline_core::identity::IdentitySecret;
use sightline_proto::{ClientMessage, ErrorCode, EventKind, ServerMessage, VisitorIdentity};

const SECRET: &str = "the site's identity secret";

fn secret() -> IdentitySecret {
    IdentitySecret::new(SECRET).expect("long enough")
}

fn world_with_secret() -> World {
    let mut w = World::new();
    w.hub.set_identity_secret(Some(secret()));
    w
}

/// The signature the site's server computes for `id` with Ada's name and address
/// (the ones `identify` sends).
fn signed(id: &str) -> String {
    secret().sign(id, Some("Ada Lovelace"), Some("ada@example.com"))
}

fn identify(id: &str, signature: String) -> ClientMessage {
    ClientMessage::Identify {
        id: id.into(),
        name: Some("Ada Lovelace".into()),
        email: Some("ada@example.com".into()),
        signature,
    }
}

fn ada() -> VisitorIdentity {
    VisitorIdentity {
        id: "user-42".into(),
        name: Some("Ada Lovelace".into()),
        email: Some("ada@example.com".into()),
    }
}

/// The refusal's code and message, and the `ref` it echoes.
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

fn identities(w: &World) -> Vec<VisitorIdentity> {
    w.shell
        .events
        .values()
        .flatten()
        .filter_map(|e| match &e.kind {
            EventKind::Identified { identity } => Some(identity.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_signed_identity_before_the_first_message_is_stored_when_the_conversation_starts() {
    let mut w = world_with_secret();
    w.agent(10, agent(1, "Anna"));
    w.visitor(1, None, 0);
    w.msg_with_ref(1, identify("user-42", signed("user-42")), "identify");
    assert_eq!(w.take(1), vec![ServerMessage::Identified { identity: ada() }]);
    // Nothing is stored before there is a conversation to keep it with.
    assert!(w.shell.events.is_empty());

    w.visitor_says(1, "v1", "hello");
    let id = conversation_of(&w);
    let kinds: Vec<_> = w.shell.events[&id].iter().map(|e| &e.kind).collect();
    assert!(matches!(kinds[0], EventKind::Started { .. }));
    assert_eq!(kinds[1], &EventKind::Identified { identity: ada() });
    // Agents see who it is in the queue.
    assert!(w.take(10).iter().any(|m| matches!(
        m,
        ServerMessage::ConversationUpdated { conversation }
            if conversation.visitor_identity.as_deref() == Some(&ada())
    )));

    // Said again after a reconnect: nothing new is stored.
    let stored = w.shell.events[&id].len();
    w.msg(1, identify("user-42", signed("user-42")));
    assert_eq!(w.shell.events[&id].len(), stored);
}

#[test]
fn an_identity_given_during_a_conversation_is_stored_at_once_and_agents_hear_of_it() {
    let mut w = world_with_secret();
    w.agent(10, agent(1, "Anna"));
    w.visitor(1, None, 0);
    w.visitor_says(1, "v1", "hello");
    let id = conversation_of(&w);
    w.take(10);
    w.msg(1, identify("user-42", signed("user-42")));
    assert_eq!(
        w.shell.events[&id].last().map(|e| &e.kind),
        Some(&EventKind::Identified { identity: ada() })
    );
    assert!(w.take(10).iter().any(|m| matches!(
        m,
        ServerMessage::ConversationUpdated { conversation } if conversation.visitor_identity.as_deref() == Some(&ada())
    )));
}

#[test]
fn a_forged_signature_is_refused_and_nothing_is_applied() {
    let mut w = world_with_secret();
    w.agent(10, agent(1, "Anna"));
    w.visitor(1, None, 0);
    let wrong = IdentitySecret::new("somebody else's secret").expect("long enough");
    for forged in [
        signed("user-43"),
        // Ada's id signed without her name and address: the page added them.
        secret().sign("user-42", None, None),
        wrong.sign("user-42", Some("Ada Lovelace"), Some("ada@example.com")),
        String::new(),
        "zz".repeat(32),
    ] {
        w.msg_with_ref(1, identify("user-42", forged.clone()), "identify");
        let (code, message, reference) = refusal(&w.take(1)).expect("refused");
        assert_eq!(code, ErrorCode::Forbidden, "{forged}");
        assert!(message.contains("signature"), "{message}");
        assert_eq!(reference.as_deref(), Some("identify"));
    }
    w.visitor_says(1, "v1", "hello");
    assert!(identities(&w).is_empty());
    assert!(!w.take(10).iter().any(|m| matches!(
        m,
        ServerMessage::ConversationUpdated { conversation }
            if conversation.visitor_identity.is_some()
    )));
}

#[test]
fn without_a_secret_every_identify_is_refused() {
    let mut w = World::new();
    w.visitor(1, None, 0);
    w.msg(1, identify("user-42", signed("user-42")));
    let (code, message, _) = refusal(&w.take(1)).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(message.contains("identity_secret"), "{message}");
    w.visitor_says(1, "v1", "hello");
    assert!(identities(&w).is_empty());
}

#[test]
fn oversized_fields_are_refused_as_too_large() {
    let mut w = world_with_secret();
    w.visitor(1, None, 0);
    let long_id = "x".repeat(sightline_proto::MAX_IDENTITY_ID_BYTES + 1);
    w.msg(1, identify(&long_id, signed(&long_id)));
    assert_eq!(error_code(&w.take(1)), Some(ErrorCode::TooLarge));
    w.msg(
        1,
        ClientMessage::Identify {
            id: "user-42".into(),
            name: Some("n".repeat(sightline_proto::MAX_IDENTITY_NAME_CHARS + 1)),
            email: None,
            signature: secret().sign("user-42", None, None),
        },
    );
    assert_eq!(error_code(&w.take(1)), Some(ErrorCode::TooLarge));
}

#[test]
fn agents_cannot_identify() {
    let mut w = world_with_secret();
    w.agent(10, agent(1, "Anna"));
    w.msg(10, identify("user-42", signed("user-42")));
    assert_eq!(error_code(&w.take(10)), Some(ErrorCode::Forbidden));
}

#[test]
fn a_new_name_for_the_same_user_replaces_the_old_a_few_times_at_most() {
    let mut w = world_with_secret();
    w.visitor(1, None, 0);
    w.visitor_says(1, "v1", "hello");
    let renamed = |n: u32| {
        let name = format!("Ada {n}");
        ClientMessage::Identify {
            id: "user-42".into(),
            signature: secret().sign("user-42", Some(&name), None),
            name: Some(name),
            email: None,
        }
    };
    for n in 0..5 {
        w.msg(1, renamed(n));
        assert!(matches!(
            w.take(1).last(),
            Some(ServerMessage::Identified { .. }) | Some(ServerMessage::Event { .. })
        ));
    }
    assert_eq!(identities(&w).len(), 5);
    w.msg(1, renamed(9));
    assert_eq!(error_code(&w.take(1)), Some(ErrorCode::RateLimited));
    assert_eq!(identities(&w).last().and_then(|i| i.name.as_deref()), Some("Ada 4"));
}

#[test]
fn another_user_on_the_same_visitor_is_refused_and_relabels_nothing() {
    // A stale tab of the user before: the widget would have started a new visitor.
    let mut w = world_with_secret();
    w.agent(10, agent(1, "Anna"));
    w.visitor(1, None, 0);
    w.msg(1, identify("user-42", signed("user-42")));
    w.visitor_says(1, "v1", "hello");
    w.take(1);
    w.take(10);
    w.msg_with_ref(1, identify("user-7", signed("user-7")), "identify");
    let (code, message, reference) = refusal(&w.take(1)).expect("refused");
    assert_eq!(code, ErrorCode::InvalidState);
    assert!(message.contains("reset"), "{message}");
    assert_eq!(reference.as_deref(), Some("identify"));
    assert_eq!(
        identities(&w).iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        vec!["user-42"]
    );
    assert!(!w
        .take(10)
        .iter()
        .any(|m| matches!(m, ServerMessage::ConversationUpdated { .. })));
}
