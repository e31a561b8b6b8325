//! Building `Persist` operations and accounts the way the core and server do.

#![allow(dead_code, clippy::unwrap_used)]

use sightline_core::records::Persist;
use sightline_proto::{AgentRef, ConversationId, ConversationStatus, Event, EventKind, MessageBody, Role};
use sightline_store::{ConversationQuery, Store};

// ---- building Persist operations the way the core does ----

pub fn visitor(id: &str, at: u64) -> Persist {
    Persist::CreateVisitor {
        id: id.into(),
        token_hash: token_hash(id),
        created_at: at,
    }
}

pub fn token_hash(visitor: &str) -> String {
    format!("hash-of-{visitor}")
}

pub fn conversation(id: &str, visitor: &str, at: u64) -> Persist {
    Persist::CreateConversation {
        id: id.into(),
        visitor_id: visitor.into(),
        created_at: at,
        page: None,
    }
}

pub fn event(conversation: &str, seq: u64, at: u64, kind: EventKind) -> Persist {
    Persist::AppendEvent {
        conversation: conversation.into(),
        event: Event { seq, at, kind },
    }
}

pub fn activity(conversation: &str, at: u64) -> Persist {
    Persist::RecordActivity {
        conversation: conversation.into(),
        at,
    }
}

pub fn text(from: Role, agent: Option<&AgentRef>, client_id: &str, text: &str) -> EventKind {
    EventKind::Message {
        from,
        agent: agent.cloned(),
        client_id: client_id.into(),
        body: MessageBody::Text { text: text.into() },
    }
}

pub fn visitor_says(conversation: &str, seq: u64, at: u64, says: &str) -> Persist {
    event(
        conversation,
        seq,
        at,
        text(Role::Visitor, None, &format!("v{seq}"), says),
    )
}

pub fn set_status(conversation: &str, status: ConversationStatus, agent: Option<&AgentRef>, at: u64) -> Persist {
    Persist::SetStatus {
        conversation: conversation.into(),
        status,
        agent: agent.cloned(),
        at,
    }
}

/// A visitor with a conversation whose only message (seq 1) is `says`, at `at`.
pub fn visitor_with_message(n: usize, at: u64, says: &str) -> Vec<Persist> {
    let (v, c) = (format!("visitor-{n}"), format!("conv-{n}"));
    vec![visitor(&v, at), conversation(&c, &v, at), visitor_says(&c, 1, at, says)]
}

pub async fn agent(store: &Store, name: &str) -> AgentRef {
    let user = store
        .create_user(name, &format!("Agent {name}"), "hash", false, 1)
        .await
        .unwrap();
    AgentRef {
        id: user.id,
        display_name: user.display_name,
        colour: None,
    }
}

/// A conversation id from its text.
pub fn cid(id: &str) -> ConversationId {
    id.into()
}

pub fn ids(page: &sightline_store::ConversationPage) -> Vec<String> {
    page.conversations.iter().map(|c| c.id.to_string()).collect()
}

pub async fn search(store: &Store, text: &str) -> Vec<String> {
    let query = ConversationQuery {
        text: Some(text.into()),
        ..ConversationQuery::default()
    };
    let mut found = ids(&store.list_conversations(&query).await.unwrap());
    found.sort();
    found
}
