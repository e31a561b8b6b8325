//! The chat itself, over real sockets.

use serde_json::json;
use sightline_proto::{ConversationStatus, EventKind, MessageBody, Role, ServerMessage};

use crate::support::{message_texts, TestServer};

#[tokio::test]
async fn visitor_and_agent_chat_and_every_message_is_stored_before_its_ack() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let mut visitor = server.visitor().await;
    let (_token, none) = visitor.hello(None, 0).await;
    assert!(none.is_none(), "a new visitor has no conversation yet");

    let (conversation, seq) = visitor.say(None, "v-1", "My transfer is stuck").await;
    assert_eq!(seq, 2, "seq 1 is the conversation start");
    // Acknowledged means stored.
    let stored = server.store.events(&conversation, 0, None, 100).await.expect("events");
    assert_eq!(stored.len(), 2);

    let queued = anna
        .expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.status == ConversationStatus::Waiting))
        .await;
    let ServerMessage::ConversationUpdated { conversation: summary } = queued else {
        unreachable!()
    };
    assert_eq!(summary.preview.as_deref(), Some("My transfer is stuck"));
    assert_eq!(summary.page.as_ref().map(|p| p.title.as_str()), Some("Cart"));

    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    anna.say(Some(&conversation), "a-1", "Let me check that for you").await;
    anna.send(json!({"type": "send", "conversation": conversation, "client_id": "a-2",
        "body": {"kind": "link", "url": "https://help.example.com/transfers", "title": "Transfer help"}}))
        .await;

    let joined = visitor
        .expect(
            |m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::AgentJoined { .. })),
        )
        .await;
    let ServerMessage::Event { event, .. } = joined else {
        unreachable!()
    };
    assert!(matches!(event.kind, EventKind::AgentJoined { agent } if agent.display_name == "Anna"));
    let answer = visitor.expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Message { from: Role::Agent, .. }))).await;
    assert_eq!(
        message_texts(&[answer]),
        vec![(4, "Let me check that for you".to_owned())]
    );
    let link = visitor.expect(|m| matches!(m, ServerMessage::Event { .. })).await;
    assert!(
        matches!(link, ServerMessage::Event { event, .. } if matches!(&event.kind, EventKind::Message { body: MessageBody::Link { url, .. }, .. } if url == "https://help.example.com/transfers"))
    );

    // Typing reaches the other side and is not stored.
    visitor
        .send(json!({"type": "typing", "conversation": null, "active": true}))
        .await;
    anna.expect(|m| {
        matches!(
            m,
            ServerMessage::Typing {
                from: Role::Visitor,
                active: true,
                ..
            }
        )
    })
    .await;

    anna.send(json!({"type": "close", "conversation": conversation})).await;
    visitor.expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Closed { by: Role::Agent, .. }))).await;
    let summary = server
        .store
        .conversation(&conversation)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(summary.status, ConversationStatus::Closed);
    assert_eq!(summary.last_seq, 6);
    server.stop().await;
}

#[tokio::test]
async fn a_reconnecting_visitor_gets_what_they_missed_and_retries_are_not_doubled() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let mut visitor = server.visitor().await;
    let (token, _) = visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v-1", "hello").await;
    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if event.seq == 3))
        .await;
    drop(visitor);

    // While the visitor is away the agent writes twice.
    anna.say(Some(&conversation), "a-1", "are you there?").await;
    anna.say(Some(&conversation), "a-2", "I see the problem").await;

    let mut back = server.visitor().await;
    let (same_token, same_conversation) = back.hello(Some(&token), 3).await;
    assert_eq!(same_token, token);
    assert_eq!(same_conversation.as_ref(), Some(&conversation));
    let mut replayed = Vec::new();
    loop {
        let m = back.next().await.expect("open");
        if matches!(m, ServerMessage::Synced { last_seq: 5, .. }) {
            break;
        }
        replayed.push(m);
    }
    assert_eq!(
        message_texts(&replayed),
        vec![(4, "are you there?".to_owned()), (5, "I see the problem".to_owned())]
    );

    // The visitor's outbox re-sends "v-1" (its ack was lost, say): acked with seq 2, stored once.
    let (_, seq) = back.say(None, "v-1", "hello").await;
    assert_eq!(seq, 2);
    assert_eq!(
        server
            .store
            .events(&conversation, 0, None, 100)
            .await
            .expect("events")
            .len(),
        5
    );
    server.stop().await;
}

#[tokio::test]
async fn a_second_agent_sees_the_conversation_leave_the_queue_and_cannot_join() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let mut ben = server.agent("ben").await;
    let mut visitor = server.visitor().await;
    visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v-1", "help").await;
    ben.expect(|m| matches!(m, ServerMessage::ConversationUpdated { .. }))
        .await;
    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    ben.expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.status == ConversationStatus::Active)).await;
    ben.send(json!({"type": "send", "conversation": conversation, "client_id": "b-1", "body": {"kind": "text", "text": "hi"}})).await;
    assert_eq!(ben.error_code().await, sightline_proto::ErrorCode::Forbidden);
    assert_eq!(
        server
            .store
            .events(&conversation, 0, None, 100)
            .await
            .expect("events")
            .len(),
        3
    );
    server.stop().await;
}
