//! Internal notes and handing a conversation over, over real sockets: the visitor
//! never receives a note (live or replayed), the new owner gets all of it.

use serde_json::json;
use sightline_proto::{ConversationStatus, EventKind, Role, ServerMessage};

use crate::support::{TestServer, Ws};

/// Everything the socket receives until (and with) the first message that
/// matches `last`.
async fn until(ws: &mut Ws, last: impl Fn(&ServerMessage) -> bool) -> Vec<ServerMessage> {
    let mut seen = Vec::new();
    loop {
        let message = ws.next().await.expect("socket open");
        let done = last(&message);
        seen.push(message);
        if done {
            return seen;
        }
    }
}

fn carries(messages: &[ServerMessage], secret: &str) -> bool {
    messages
        .iter()
        .any(|m| serde_json::to_string(m).expect("serializes").contains(secret))
}

fn is_agent_message(m: &ServerMessage, text: &str) -> bool {
    matches!(m, ServerMessage::Event { event, .. } if matches!(&event.kind,
        EventKind::Message { from: Role::Agent, body: sightline_proto::MessageBody::Text { text: t }, .. } if t == text))
}

#[tokio::test]
async fn a_visitor_never_receives_a_note_and_the_new_owner_gets_the_whole_history() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let mut ben = server.agent("ben").await;
    let mut visitor = server.visitor().await;
    let (token, _) = visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v-1", "My refund never came").await;
    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    anna.say(Some(&conversation), "a-1", "Let me look").await;

    // A note: acknowledged and stored like a message, heard by the owner only.
    anna.send(json!({"type": "note", "conversation": conversation, "client_id": "n-1",
        "text": "SECRET-NOTE: second complaint this month"}))
        .await;
    let ack = anna
        .expect(|m| matches!(m, ServerMessage::Ack { client_id, .. } if client_id == "n-1"))
        .await;
    let ServerMessage::Ack { seq: note_seq, .. } = ack else {
        unreachable!()
    };
    let stored = server.store.events(&conversation, 0, None, 100).await.expect("events");
    assert!(stored.iter().any(
        |e| e.seq == note_seq && matches!(&e.kind, EventKind::Note { text, .. } if text.starts_with("SECRET-NOTE"))
    ));

    // The transfer dialog's list: both agents online.
    anna.send(json!({"type": "list_agents"})).await;
    let listed = anna.expect(|m| matches!(m, ServerMessage::Agents { .. })).await;
    let ServerMessage::Agents { agents } = listed else {
        unreachable!()
    };
    let names: Vec<&str> = agents.iter().map(|p| p.agent.display_name.as_str()).collect();
    assert_eq!(names, ["Anna", "Ben"]);
    let ben_id = agents[1].agent.id;

    anna.send(json!({"type": "transfer", "conversation": conversation, "to": ben_id,
        "note": "SECRET-HANDOVER: refund approved, send the form"}))
        .await;
    // Anna's console learns it is Ben's now.
    anna.expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.agent.as_ref().is_some_and(|a| a.id == ben_id)))
        .await;
    // Ben is told it is his, replays the history and finds both notes.
    let handed = ben
        .expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.status == ConversationStatus::Active && c.agent.as_ref().is_some_and(|a| a.id == ben_id)))
        .await;
    let ServerMessage::ConversationUpdated { conversation: summary } = handed else {
        unreachable!()
    };
    ben.send(json!({"type": "sync", "conversation": conversation, "after_seq": 0}))
        .await;
    let history = until(&mut ben, |m| matches!(m, ServerMessage::Synced { .. })).await;
    assert!(carries(&history, "SECRET-NOTE") && carries(&history, "SECRET-HANDOVER"));
    assert!(history.iter().any(|m| matches!(m, ServerMessage::Event { event, .. } if event.seq == summary.last_seq
        && matches!(&event.kind, EventKind::Transferred { by, agent: Some(to), note: Some(_) } if by.display_name == "Anna" && to.id == ben_id))));
    ben.say(Some(&conversation), "b-1", "Hi, Ben here").await;

    // The visitor, live: the transfer without its note, then Ben's message; no note.
    let live = until(&mut visitor, |m| is_agent_message(m, "Hi, Ben here")).await;
    assert!(!carries(&live, "SECRET"), "{live:?}");
    assert!(live.iter().any(|m| matches!(m, ServerMessage::Event { event, .. }
        if matches!(&event.kind, EventKind::Transferred { agent: Some(to), note: None, .. } if to.display_name == "Ben"))));

    // The visitor, replayed from the start on a new socket: the same.
    let mut again = server.visitor().await;
    again
        .send(json!({"type": "visitor_hello", "protocol": 1, "token": token, "after_seq": 0, "page": null}))
        .await;
    let replayed = until(&mut again, |m| matches!(m, ServerMessage::Synced { .. })).await;
    assert!(!carries(&replayed, "SECRET"), "{replayed:?}");
    assert!(replayed.iter().any(|m| is_agent_message(m, "Hi, Ben here")));
    assert!(!replayed
        .iter()
        .any(|m| matches!(m, ServerMessage::Event { event, .. } if event.seq == note_seq)));
    // An explicit sync too.
    again
        .send(json!({"type": "sync", "conversation": conversation, "after_seq": 0}))
        .await;
    let synced = until(&mut again, |m| matches!(m, ServerMessage::Synced { .. })).await;
    assert!(!carries(&synced, "SECRET"));

    // A visitor cannot write a note nor hand the conversation over.
    visitor
        .send(json!({"type": "note", "conversation": conversation, "client_id": "v-9", "text": "x"}))
        .await;
    assert_eq!(visitor.error_code().await, sightline_proto::ErrorCode::Forbidden);
    visitor
        .send(json!({"type": "transfer", "conversation": conversation, "to": null, "note": null}))
        .await;
    assert_eq!(visitor.error_code().await, sightline_proto::ErrorCode::Forbidden);
    // Anna may not write in it any more.
    anna.send(json!({"type": "note", "conversation": conversation, "client_id": "n-2", "text": "still mine?"}))
        .await;
    assert_eq!(anna.error_code().await, sightline_proto::ErrorCode::Forbidden);
}
