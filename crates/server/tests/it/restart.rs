//! Graceful shutdown and restart: clients are told to reconnect, and nothing that
//! was acknowledged is lost.

use serde_json::json;
use sightline_proto::ServerMessage;

use crate::support::{message_texts, TestServer};

#[tokio::test]
async fn a_restart_closes_sockets_with_1012_and_loses_nothing_acknowledged() {
    let server = TestServer::start().await;
    let data_dir = server.data_dir.clone();
    let mut anna = server.agent("anna").await;
    let mut visitor = server.visitor().await;
    let (token, _) = visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v-1", "before the restart").await;
    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    anna.say(Some(&conversation), "a-1", "noted").await;

    let stopping = tokio::spawn(server.stop());
    assert_eq!(visitor.close_code().await, Some(1012), "told to reconnect");
    assert_eq!(anna.close_code().await, Some(1012));
    let dir = stopping.await.expect("stopped");

    let server = TestServer::start_in(data_dir, Vec::new()).await;
    let mut visitor = server.visitor().await;
    let (_, again) = visitor.hello(Some(&token), 0).await;
    assert_eq!(
        again.as_ref(),
        Some(&conversation),
        "the open conversation was restored"
    );
    let mut replayed = Vec::new();
    loop {
        let m = visitor.next().await.expect("open");
        if matches!(m, ServerMessage::Synced { .. }) {
            break;
        }
        replayed.push(m);
    }
    assert_eq!(
        message_texts(&replayed),
        vec![(2, "before the restart".to_owned()), (4, "noted".to_owned())]
    );
    // The agent still owns it, and a retried message is still recognised.
    let mut anna = server.agent("anna").await;
    let (_, seq) = anna.say(Some(&conversation), "a-1", "noted").await;
    assert_eq!(seq, 4);
    let (_, seq) = visitor.say(None, "v-2", "after the restart").await;
    assert_eq!(seq, 5);
    server.stop().await;
    drop(dir);
}
