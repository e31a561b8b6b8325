//! Screen-share signaling rules over real sockets: consent first, only the two
//! ends, keys single-use and rate-limited.

use serde_json::json;
use sightline_proto::{ConversationId, ErrorCode, EventKind, ServerMessage, ShareId, ShareState};

use crate::support::{TestServer, Ws};

/// A visitor chatting with Anna, and the share Anna invited them to.
async fn invited(server: &TestServer) -> (Ws, Ws, ConversationId, ShareId) {
    let mut anna = server.agent("anna").await;
    let mut visitor = server.visitor().await;
    visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v-1", "where is the export button?").await;
    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    anna.send(json!({"type": "share_invite", "conversation": conversation, "message": null}))
        .await;
    let invitation = visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Share { state: ShareState::Invited, .. })))
        .await;
    let ServerMessage::Event { event, .. } = invitation else {
        unreachable!()
    };
    let EventKind::Share { share, message, .. } = event.kind else {
        unreachable!()
    };
    assert!(message.is_some_and(|m| !m.is_empty()), "a default invitation text");
    (anna, visitor, conversation, share)
}

fn offer(share: &ShareId) -> serde_json::Value {
    json!({"type": "share_signal", "share": share, "signal": {"kind": "description", "type": "offer", "sdp": "v=0"}})
}

#[tokio::test]
async fn signaling_flows_only_after_consent_and_only_between_the_two_ends() {
    let server = TestServer::start().await;
    let (mut anna, mut visitor, conversation, share) = invited(&server).await;
    let mut ben = server.agent("ben").await;
    let mut stranger = server.visitor().await;
    stranger.hello(None, 0).await;
    stranger.say(None, "s-1", "I have a conversation of my own").await;

    // Before consent: refused on both sides.
    anna.send(offer(&share)).await;
    assert_eq!(anna.error_code().await, ErrorCode::Forbidden);
    visitor.send(offer(&share)).await;
    assert_eq!(visitor.error_code().await, ErrorCode::Forbidden);

    visitor
        .send(json!({"type": "share_progress", "share": share, "step": "accepted", "detail": null}))
        .await;
    visitor.expect(|m| matches!(m, ServerMessage::ShareSetup { .. })).await;
    anna.expect(|m| matches!(m, ServerMessage::ShareSetup { .. })).await;

    // Third parties cannot inject.
    ben.send(offer(&share)).await;
    assert_eq!(ben.error_code().await, ErrorCode::Forbidden);
    stranger.send(offer(&share)).await;
    assert_eq!(stranger.error_code().await, ErrorCode::Forbidden);
    stranger.send(json!({"type": "share_end", "share": share})).await;
    assert_eq!(stranger.error_code().await, ErrorCode::Forbidden);

    // The two ends reach each other, and nobody else hears it.
    visitor.send(offer(&share)).await;
    let relayed = anna.expect(|m| matches!(m, ServerMessage::ShareSignal { .. })).await;
    assert!(matches!(
        relayed,
        ServerMessage::ShareSignal {
            from: sightline_proto::Role::Visitor,
            ..
        }
    ));
    anna.send(json!({"type": "share_signal", "share": share, "signal": {"kind": "mode", "mode": "motion"}}))
        .await;
    visitor.expect(|m| matches!(m, ServerMessage::ShareSignal { .. })).await;
    ben.assert_alive().await;
    stranger.assert_alive().await;

    // An oversized SDP is refused with a clear code.
    visitor
        .send(json!({"type": "share_signal", "share": share, "signal": {"kind": "description", "type": "offer", "sdp": "x".repeat(40_000)}}))
        .await;
    assert_eq!(visitor.error_code().await, ErrorCode::TooLarge);

    // Ending is stored and reaches the other side.
    anna.send(json!({"type": "share_end", "share": share})).await;
    visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Share { state: ShareState::Ended, .. })))
        .await;
    let states: Vec<ShareState> = server
        .store
        .events(&conversation, 0, None, 100)
        .await
        .expect("events")
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Share { state, .. } => Some(state),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        vec![ShareState::Invited, ShareState::Accepted, ShareState::Ended]
    );
    server.stop().await;
}

#[tokio::test]
async fn logging_out_ends_the_agents_share() {
    let server = TestServer::start().await;
    let (client, csrf, cookie) = server.login("anna").await;
    let mut anna = Ws::connect(&format!("ws://{}/ws/agent", server.addr), &[("cookie", &cookie)])
        .await
        .expect("agent");
    anna.send(json!({"type": "agent_hello", "protocol": 1})).await;
    let mut anna_elsewhere = server.agent("anna").await;
    let mut visitor = server.visitor().await;
    visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v-1", "hi").await;
    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    anna.send(json!({"type": "share_invite", "conversation": conversation, "message": "May I?"}))
        .await;
    let ServerMessage::Event { event, .. } = visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Share { .. })))
        .await
    else {
        unreachable!()
    };
    let EventKind::Share { share, .. } = event.kind else {
        unreachable!()
    };
    visitor
        .send(json!({"type": "share_progress", "share": share, "step": "accepted", "detail": null}))
        .await;
    visitor.expect(|m| matches!(m, ServerMessage::ShareSetup { .. })).await;
    let out = client
        .post(format!("{}/api/logout", server.url))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 204);
    let ended = visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Share { state: ShareState::Ended, .. })))
        .await;
    assert!(
        matches!(ended, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Share { detail: Some(ref d), .. } if d.contains("logged out")))
    );
    // The logged-out session's socket is closed; a second session of the same agent stays.
    assert_eq!(anna.close_code().await, Some(4001));
    anna_elsewhere.assert_alive().await;
    server.stop().await;
}

#[tokio::test]
async fn session_keys_are_single_use_and_guessing_is_rate_limited() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    anna.send(json!({"type": "share_key_create"})).await;
    let ServerMessage::ShareKeyCreated { key, .. } = anna
        .expect(|m| matches!(m, ServerMessage::ShareKeyCreated { .. }))
        .await
    else {
        unreachable!()
    };

    let mut caller = server.visitor().await;
    caller.hello(None, 0).await;
    caller.send(json!({"type": "share_key_redeem", "key": key})).await;
    caller
        .expect(|m| matches!(m, ServerMessage::ConversationChanged { .. }))
        .await;
    caller
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Share { state: ShareState::Invited, .. })))
        .await;

    let mut other = server.visitor().await;
    other.hello(None, 0).await;
    other.send(json!({"type": "share_key_redeem", "key": key})).await;
    assert_eq!(other.error_code().await, ErrorCode::NotFound, "a used key is gone");
    let mut codes = Vec::new();
    for guess in 0..8 {
        other
            .send(json!({"type": "share_key_redeem", "key": format!("{:06}", 100_000 + guess)}))
            .await;
        codes.push(other.error_code().await);
    }
    assert!(
        codes.iter().filter(|c| **c == ErrorCode::RateLimited).count() >= 3,
        "{codes:?}"
    );
    other.send(json!({"type": "share_key_redeem", "key": "12ab56"})).await;
    assert!(matches!(
        other.error_code().await,
        ErrorCode::BadRequest | ErrorCode::RateLimited
    ));
    server.stop().await;
}
