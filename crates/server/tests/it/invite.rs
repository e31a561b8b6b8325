//! Inviting a colleague into a conversation, over real sockets: an observer
//! follows it live and is refused when writing; a participant's message reaches
//! the visitor; only the owner (or an admin) invites; an invitee who reconnects
//! gets the conversation back, and may read its transcript over HTTP.

use serde_json::json;
use sightline_proto::{ErrorCode, EventKind, InviteRole, Role, ServerMessage};

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

fn is_message(m: &ServerMessage, from: Role, text: &str) -> bool {
    matches!(m, ServerMessage::Event { event, .. } if matches!(&event.kind,
        EventKind::Message { from: f, body: sightline_proto::MessageBody::Text { text: t }, .. } if *f == from && t == text))
}

/// The next error's code and words.
async fn error(ws: &mut Ws) -> (ErrorCode, String) {
    match ws.expect(|m| matches!(m, ServerMessage::Error { .. })).await {
        ServerMessage::Error { code, message, .. } => (code, message),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn an_observer_follows_live_is_refused_writing_and_a_participant_reaches_the_visitor() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let mut ben = server.agent("ben").await;
    let (ben_http, _, _) = server.login("ben").await;
    let mut visitor = server.visitor().await;
    visitor.hello(None, 0).await;
    let (conversation, _) = visitor.say(None, "v-1", "I was charged twice").await;
    anna.send(json!({"type": "accept", "conversation": conversation})).await;
    anna.say(Some(&conversation), "a-1", "Let me look").await;
    anna.send(json!({"type": "list_agents"})).await;
    let ServerMessage::Agents { agents } = anna.expect(|m| matches!(m, ServerMessage::Agents { .. })).await else {
        unreachable!()
    };
    let id_of = |name: &str| {
        agents
            .iter()
            .find(|p| p.agent.display_name == name)
            .map(|p| p.agent.id)
            .expect("online")
    };
    let (anna_id, ben_id) = (id_of("Anna"), id_of("Ben"));

    // Ben, not the owner and no admin, invites nobody; nor reads the transcript.
    ben.send(
        json!({"type": "invite", "conversation": conversation, "agent": anna_id, "role": "participant", "note": null}),
    )
    .await;
    assert_eq!(error(&mut ben).await.0, ErrorCode::Forbidden);
    let transcript = format!("{}/api/conversations/{}/transcript?tz=UTC", server.url, conversation);
    let refused = ben_http.get(&transcript).send().await.expect("transcript");
    assert_eq!(refused.status(), 403);

    // Anna invites Ben read-only, with a note.
    anna.send(
        json!({"type": "invite", "conversation": conversation, "agent": ben_id, "role": "observer",
        "note": "SECRET-INVITE: duplicate charge?"}),
    )
    .await;
    let invited = ben
        .expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if !c.invitees.is_empty()))
        .await;
    let ServerMessage::ConversationUpdated { conversation: summary } = invited else {
        unreachable!()
    };
    assert_eq!(summary.agent.as_ref().map(|a| a.id), Some(anna_id));
    assert_eq!(summary.invitees.len(), 1);
    assert_eq!(summary.invitees[0].role, InviteRole::Observer);
    // Now he may read it over HTTP too, note included (an agent's copy).
    let allowed = ben_http.get(&transcript).send().await.expect("transcript");
    assert_eq!(allowed.status(), 200);
    let text = allowed.text().await.expect("text");
    assert!(
        text.contains("Anna invited Ben to observe (read-only). Note (agents only): SECRET-INVITE"),
        "{text}"
    );

    // He follows the visitor live.
    visitor
        .say(Some(&conversation), "v-2", "Two lines on my statement")
        .await;
    ben.expect(|m| is_message(m, Role::Visitor, "Two lines on my statement"))
        .await;
    // Writing is refused with words that say why, and nothing is stored.
    let before = server
        .store
        .events(&conversation, 0, None, 100)
        .await
        .expect("events")
        .len();
    ben.send(json!({"type": "send", "conversation": conversation, "client_id": "b-0", "body": {"kind": "text", "text": "hi"}}))
        .await;
    let (code, words) = error(&mut ben).await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(
        words,
        "you are observing this conversation: ask Anna to let you take part"
    );
    let after = server
        .store
        .events(&conversation, 0, None, 100)
        .await
        .expect("events")
        .len();
    assert_eq!(before, after);

    // Ben reconnects: the welcome lists the conversation, and a sync replays it.
    drop(ben);
    let mut ben = server.agent_with_welcome("ben").await;
    let welcome = ben.1;
    assert!(
        welcome.iter().any(|c| c.id == conversation && !c.invitees.is_empty()),
        "{welcome:?}"
    );
    ben.0
        .send(json!({"type": "sync", "conversation": conversation, "after_seq": 0}))
        .await;
    let replayed = until(&mut ben.0, |m| matches!(m, ServerMessage::Synced { .. })).await;
    assert!(replayed
        .iter()
        .any(|m| is_message(m, Role::Visitor, "Two lines on my statement")));
    let mut ben = ben.0;

    // Anna lets him take part: his message reaches the visitor, who sees him
    // join (never as an observer, never the note).
    anna.send(
        json!({"type": "invite", "conversation": conversation, "agent": ben_id, "role": "participant", "note": null}),
    )
    .await;
    ben.expect(|m| {
        matches!(m, ServerMessage::ConversationUpdated { conversation: c }
        if c.invitees.iter().any(|i| i.role == InviteRole::Participant))
    })
    .await;
    ben.say(Some(&conversation), "b-1", "Ben from payments here").await;
    let live = until(&mut visitor, |m| is_message(m, Role::Agent, "Ben from payments here")).await;
    assert!(live.iter().any(|m| matches!(m, ServerMessage::Event { event, .. }
        if matches!(&event.kind, EventKind::AgentInvited { agent, role: InviteRole::Participant, note: None, .. } if agent.id == ben_id))));
    assert!(!live.iter().any(|m| matches!(m, ServerMessage::Event { event, .. }
        if matches!(&event.kind, EventKind::AgentInvited { role: InviteRole::Observer, .. }))));
    assert!(
        !serde_json::to_string(&live).expect("serializes").contains("SECRET"),
        "{live:?}"
    );
    anna.expect(|m| is_message(m, Role::Agent, "Ben from payments here"))
        .await;
    // Closing stays Anna's.
    ben.send(json!({"type": "close", "conversation": conversation})).await;
    assert_eq!(error(&mut ben).await.0, ErrorCode::Forbidden);
    ben.assert_alive().await;
    anna.assert_alive().await;
}
