//! Malformed, oversized, unauthorised and out-of-order input: each gets a clear
//! error, and no other session is touched.

use serde_json::json;
use sightline_proto::{ErrorCode, ServerMessage};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{TestServer, Ws};

#[tokio::test]
async fn garbage_unknown_and_binary_frames_get_errors_and_the_socket_survives() {
    let server = TestServer::start().await;
    let mut visitor = server.visitor().await;
    visitor.hello(None, 0).await;
    for garbage in [
        "not json",
        "{\"type\":\"launch\"}",
        "{\"type\":\"send\"}",
        "[1,2,3]",
        "{\"type\":\"ping\",\"nonce\":-1}",
    ] {
        visitor.send_raw(Message::text(garbage)).await;
        assert_eq!(visitor.error_code().await, ErrorCode::BadRequest, "{garbage}");
    }
    visitor.send_raw(Message::binary(vec![0u8, 159, 146, 150])).await;
    assert_eq!(visitor.error_code().await, ErrorCode::BadRequest);
    visitor.assert_alive().await;
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_frame_is_refused_without_touching_other_sessions() {
    let server = TestServer::start().await;
    let mut bystander = server.visitor().await;
    bystander.hello(None, 0).await;
    let (conversation, _) = bystander.say(None, "b-1", "still here").await;

    let mut attacker = server.visitor().await;
    attacker.hello(None, 0).await;
    let huge = format!("{{\"type\":\"ping\",\"nonce\":1,\"pad\":\"{}\"}}", "x".repeat(200_000));
    attacker.send_raw(Message::text(huge)).await;
    assert_eq!(attacker.error_code().await, ErrorCode::TooLarge);
    // The socket is closed (with 1009 when the transport still allows a close frame).
    assert!(matches!(attacker.close_code().await, None | Some(1009)));

    // A message just over the text limit (but within the frame limit) is refused by
    // the core with a clear code, and the socket stays open.
    let mut wordy = server.visitor().await;
    wordy.hello(None, 0).await;
    wordy
        .send(json!({"type": "send", "conversation": null, "client_id": "w-1", "body": {"kind": "text", "text": "é".repeat(4001)}}))
        .await;
    assert_eq!(wordy.error_code().await, ErrorCode::TooLarge);
    wordy.assert_alive().await;

    bystander.assert_alive().await;
    let (same, seq) = bystander.say(None, "b-2", "and still here").await;
    assert_eq!((same, seq), (conversation, 3));
    server.stop().await;
}

#[tokio::test]
async fn messages_before_hello_and_wrong_conversation_ids_are_refused() {
    let server = TestServer::start().await;
    let mut owner = server.visitor().await;
    owner.hello(None, 0).await;
    let (theirs, _) = owner.say(None, "o-1", "private matter").await;

    let mut early = server.visitor().await;
    early
        .send(json!({"type": "send", "conversation": null, "client_id": "e-1", "body": {"kind": "text", "text": "hi"}}))
        .await;
    assert_eq!(early.error_code().await, ErrorCode::NotAuthenticated);
    early.send(json!({"type": "agent_hello", "protocol": 1})).await;
    assert_eq!(early.error_code().await, ErrorCode::NotAuthenticated);

    let mut snoop = server.visitor().await;
    snoop.hello(None, 0).await;
    snoop
        .send(json!({"type": "sync", "conversation": theirs, "after_seq": 0}))
        .await;
    assert_eq!(snoop.error_code().await, ErrorCode::Forbidden);
    snoop.send(json!({"type": "send", "conversation": theirs, "client_id": "s-1", "body": {"kind": "text", "text": "hijack"}})).await;
    assert_eq!(snoop.error_code().await, ErrorCode::Forbidden);
    snoop
        .send(json!({"type": "close", "conversation": "no-such-conversation"}))
        .await;
    assert_eq!(snoop.error_code().await, ErrorCode::Forbidden);

    // An agent naming a conversation that does not exist.
    let mut anna = server.agent("anna").await;
    anna.send(json!({"type": "accept", "conversation": "does-not-exist"}))
        .await;
    assert_eq!(anna.error_code().await, ErrorCode::NotFound);

    let events = server.store.events(&theirs, 0, None, 100).await.expect("events");
    assert_eq!(events.len(), 2, "nothing reached the owner's conversation");
    server.stop().await;
}

#[tokio::test]
async fn the_agent_socket_needs_a_login_and_both_sockets_check_the_origin() {
    let server = TestServer::start_with_origins(vec!["https://shop.example.com".into()]).await;
    let agent_url = format!("ws://{}/ws/agent", server.addr);
    let visitor_url = format!("ws://{}/ws/visitor", server.addr);

    let refused = Ws::connect(&agent_url, &[])
        .await
        .err()
        .expect("refused without a session");
    assert!(refused.to_string().contains("401"), "{refused}");
    let refused = Ws::connect(&agent_url, &[("cookie", "sightline_session=forged")])
        .await
        .err()
        .expect("refused");
    assert!(refused.to_string().contains("401"), "{refused}");

    let (_, _, cookie) = server.login("anna").await;
    let foreign = Ws::connect(&agent_url, &[("cookie", &cookie), ("origin", "https://evil.example")]).await;
    assert!(foreign.err().expect("refused").to_string().contains("403"));
    // Even an allowed site may not open agent sockets.
    let site = Ws::connect(
        &agent_url,
        &[("cookie", &cookie), ("origin", "https://shop.example.com")],
    )
    .await;
    assert!(site.err().expect("refused").to_string().contains("403"));
    let own_origin = server.url.clone();
    Ws::connect(&agent_url, &[("cookie", &cookie), ("origin", &own_origin)])
        .await
        .expect("own origin is fine");

    // The widget on a foreign site is told so by a close code it can read (a
    // browser cannot see an upgrade's 403), and gets nothing else.
    for _ in 0..3 {
        Ws::connect(&visitor_url, &[("origin", "https://evil.example")])
            .await
            .expect("upgraded only to be closed")
            .assert_origin_refused()
            .await;
    }
    Ws::connect(&visitor_url, &[("origin", "null")])
        .await
        .expect("upgraded only to be closed")
        .assert_origin_refused()
        .await;
    assert_eq!(server.metric("sightline_origin_refusals_total").await, 4);
    assert_eq!(server.metric("sightline_connections").await, 0, "none reached the hub");
    let mut shop = Ws::connect(&visitor_url, &[("origin", "https://shop.example.com")])
        .await
        .expect("allowed site");
    shop.hello(None, 0).await;
    server.stop().await;
}

#[tokio::test]
async fn a_flood_is_rate_limited_for_that_socket_only() {
    let server = TestServer::start().await;
    let mut calm = server.visitor().await;
    calm.hello(None, 0).await;
    let mut flood = server.visitor().await;
    flood.hello(None, 0).await;
    for nonce in 0..120 {
        flood.send(json!({"type": "ping", "nonce": nonce})).await;
    }
    let mut limited = 0;
    let mut pongs = 0;
    while limited + pongs < 120 {
        match flood.next().await.expect("open") {
            ServerMessage::Error {
                code: ErrorCode::RateLimited,
                ..
            } => limited += 1,
            ServerMessage::Pong { .. } => pongs += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    // The hello took one token of the burst of 40.
    assert!(limited > 0 && pongs >= 39, "{pongs} answered, {limited} limited");
    calm.assert_alive().await;
    server.stop().await;
}
