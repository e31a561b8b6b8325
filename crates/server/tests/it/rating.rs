//! The visitor rates their conversation once it is closed: stored as an event,
//! delivered to the agent, in History and in both transcripts; refused when
//! open, a second time, from another visitor, and when oversized. It survives
//! a restart (the one-rating rule too).

use serde_json::{json, Value};
use sightline_proto::{ConversationId, ConversationStatus, ErrorCode, EventKind, ServerMessage};

use crate::support::{client_builder, TestServer, Ws};

/// Sends a rating with `ref: "rate"`; returns the refusal's code, or None when
/// the visitor's own `rated` event came back.
async fn rate(
    visitor: &mut Ws,
    conversation: Option<&ConversationId>,
    score: u8,
    comment: Option<&str>,
) -> Option<ErrorCode> {
    visitor
        .send(json!({"type": "rate", "conversation": conversation, "score": score, "comment": comment, "ref": "rate"}))
        .await;
    match visitor
        .expect(|m| match m {
            ServerMessage::Error { request_ref, .. } => request_ref.as_deref() == Some("rate"),
            ServerMessage::Event { event, .. } => matches!(event.kind, EventKind::Rated { .. }),
            _ => false,
        })
        .await
    {
        ServerMessage::Error { code, .. } => Some(code),
        _ => None,
    }
}

/// A visitor who chatted with Anna: (visitor socket, token, conversation, Anna's socket).
async fn chatted(server: &TestServer) -> (Ws, String, ConversationId, Ws) {
    let mut anna = server.agent("anna").await;
    let mut visitor = server.visitor().await;
    let (token, _) = visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v-1", "Where is my parcel?").await;
    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    visitor
        .expect(
            |m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::AgentJoined { .. })),
        )
        .await;
    anna.say(Some(&conversation), "a-1", "It left the depot this morning")
        .await;
    (visitor, token, conversation, anna)
}

#[tokio::test]
async fn the_visitor_rates_once_after_the_close_and_the_agent_sees_it_everywhere() {
    let server = TestServer::start().await;
    let (mut visitor, token, conversation, mut anna) = chatted(&server).await;

    // Not while it is open.
    assert_eq!(rate(&mut visitor, None, 5, None).await, Some(ErrorCode::InvalidState));

    anna.send(json!({"type": "close", "conversation": conversation})).await;
    visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Closed { .. })))
        .await;

    // Out of bounds: refused, nothing stored.
    let long = "ö".repeat(sightline_proto::MAX_RATING_COMMENT_CHARS + 1);
    assert_eq!(
        rate(&mut visitor, None, 4, Some(&long)).await,
        Some(ErrorCode::TooLarge)
    );
    assert_eq!(rate(&mut visitor, None, 0, None).await, Some(ErrorCode::BadRequest));
    // A score that is not a small number is not a rating at all.
    visitor
        .send(json!({"type": "rate", "conversation": null, "score": 500, "comment": null}))
        .await;
    assert_eq!(visitor.error_code().await, ErrorCode::BadRequest);

    // Another visitor cannot rate it, by naming it or otherwise.
    let mut stranger = server.visitor().await;
    stranger.hello(None, 0).await;
    assert_eq!(
        rate(&mut stranger, Some(&conversation), 1, Some("spite")).await,
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(rate(&mut stranger, None, 1, None).await, Some(ErrorCode::NotFound));
    // Nor can an agent.
    anna.send(json!({"type": "rate", "conversation": conversation, "score": 5, "comment": null}))
        .await;
    assert_eq!(anna.error_code().await, ErrorCode::Forbidden);

    // The visitor rates: the event comes back to them and reaches Anna live,
    // with the summary's score.
    assert_eq!(
        rate(&mut visitor, None, 4, Some("Friendly <b>and</b> fast")).await,
        None
    );
    let live = anna
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Rated { .. })))
        .await;
    match live {
        ServerMessage::Event {
            conversation: c, event, ..
        } => {
            assert_eq!(c, conversation);
            assert_eq!(
                event.kind,
                EventKind::Rated {
                    score: 4,
                    comment: Some("Friendly <b>and</b> fast".into())
                }
            );
        }
        _ => unreachable!(),
    }
    anna.expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.id == conversation && c.rating == Some(4) && c.status == ConversationStatus::Closed))
        .await;

    // Once only.
    assert_eq!(
        rate(&mut visitor, None, 1, Some("changed my mind")).await,
        Some(ErrorCode::InvalidState)
    );

    // History: the score in the list, the event in the stored transcript.
    let (anna_http, _, _) = server.login("anna").await;
    let list: Value = anna_http
        .get(format!("{}/api/conversations?status=closed", server.url))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let row = list["conversations"]
        .as_array()
        .expect("array")
        .iter()
        .find(|c| c["id"] == conversation.as_str())
        .expect("listed")
        .clone();
    assert_eq!(row["rating"], 4, "{row}");
    // Found by what the visitor wrote.
    let found: Value = anna_http
        .get(format!("{}/api/conversations?q=friendly", server.url))
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    assert_eq!(found["conversations"].as_array().expect("array").len(), 1, "{found}");
    let stored: Value = anna_http
        .get(format!("{}/api/conversations/{}", server.url, conversation))
        .send()
        .await
        .expect("transcript")
        .json()
        .await
        .expect("json");
    let rated: Vec<&Value> = stored["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "rated")
        .collect();
    assert_eq!(rated.len(), 1, "{stored}");
    assert_eq!(rated[0]["score"], 4);
    assert_eq!(rated[0]["comment"], "Friendly <b>and</b> fast");

    // Both text transcripts carry it.
    let text = anna_http
        .get(format!(
            "{}/api/conversations/{}/transcript?tz=UTC",
            server.url, conversation
        ))
        .send()
        .await
        .expect("agent's transcript")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains("] The visitor rated the conversation 4 of 5 ★★★★☆: Friendly <b>and</b> fast\n"),
        "{text}"
    );
    let response = client_builder()
        .build()
        .expect("client")
        .get(format!("{}/api/visitor/transcript?tz=UTC", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("visitor's transcript");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    assert!(text.contains("] You: Where is my parcel?\n"), "{text}");
    assert!(text.contains("] Anna: It left the depot this morning\n"), "{text}");
    assert!(
        text.contains("] You rated the conversation 4 of 5 ★★★★☆: Friendly <b>and</b> fast\n"),
        "{text}"
    );
    visitor.assert_alive().await;
    anna.assert_alive().await;
}

#[tokio::test]
async fn the_one_rating_rule_survives_a_restart() {
    let server = TestServer::start().await;
    let data_dir = server.data_dir.clone();
    let (mut visitor, token, conversation, mut anna) = chatted(&server).await;
    visitor.send(json!({"type": "close", "conversation": null})).await;
    anna.expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.status == ConversationStatus::Closed))
        .await;
    assert_eq!(rate(&mut visitor, Some(&conversation), 2, None).await, None);
    let stopping = tokio::spawn(server.stop());
    assert_eq!(visitor.close_code().await, Some(1012));
    let dir = stopping.await.expect("stopped");

    let server = TestServer::start_in(data_dir, Vec::new()).await;
    let mut visitor = server.visitor().await;
    visitor
        .send(json!({"type": "visitor_hello", "protocol": 1, "token": token, "after_seq": 0, "page": null}))
        .await;
    match visitor
        .expect(|m| matches!(m, ServerMessage::VisitorWelcome { .. }))
        .await
    {
        ServerMessage::VisitorWelcome {
            conversation: Some(summary),
            ..
        } => {
            assert_eq!(summary.id, conversation);
            assert_eq!(summary.rating, Some(2), "read back from the stored events");
        }
        other => panic!("{other:?}"),
    }
    // The replay (with the stored rating) first.
    visitor.expect(|m| matches!(m, ServerMessage::Synced { .. })).await;
    assert_eq!(
        rate(&mut visitor, None, 5, None).await,
        Some(ErrorCode::InvalidState),
        "still rated after the restart"
    );
    // A new conversation starts as before.
    let (newer, _) = visitor.say(None, "v-2", "Another question").await;
    assert_ne!(newer, conversation);
    server.stop().await;
    drop(dir);
}
