//! How protocol values map to columns, and rows back to protocol values.

use sightline_core::records::{preview_of, RecentClientId};
use sightline_proto::{
    api::AvatarColour, AgentId, AgentRef, ConversationId, ConversationStatus, ConversationSummary, EventKind,
    MessageBody, PageInfo, Role,
};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::{from_db, Result, StoreError};

pub(crate) fn status_str(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::Waiting => "waiting",
        ConversationStatus::Active => "active",
        ConversationStatus::Closed => "closed",
    }
}

fn parse_status(s: &str) -> Result<ConversationStatus> {
    match s {
        "waiting" => Ok(ConversationStatus::Waiting),
        "active" => Ok(ConversationStatus::Active),
        "closed" => Ok(ConversationStatus::Closed),
        other => Err(StoreError::Corrupt(format!("unknown conversation status {other:?}"))),
    }
}

pub(crate) fn role_str(role: Role) -> &'static str {
    match role {
        Role::Visitor => "visitor",
        Role::Agent => "agent",
    }
}

pub(crate) fn parse_role(s: &str) -> Result<Role> {
    match s {
        "visitor" => Ok(Role::Visitor),
        "agent" => Ok(Role::Agent),
        other => Err(StoreError::Corrupt(format!("unknown role {other:?}"))),
    }
}

/// The columns of the `events` table derived from an [`EventKind`].
pub(crate) struct EventColumns<'a> {
    /// The serde tag of the kind (`started`, `message`, …).
    pub kind: String,
    pub from_role: Option<&'static str>,
    pub client_id: Option<&'a str>,
    pub search_text: Option<String>,
    pub data: String,
}

impl<'a> EventColumns<'a> {
    /// Event kinds other than messages and closes need no columns of their own, so
    /// kinds added to the protocol later are stored (and read back) as they are.
    pub(crate) fn of(kind: &'a EventKind) -> Result<Self> {
        let invalid = |e: String| StoreError::InvalidInput(format!("event cannot be serialized: {e}"));
        let value = serde_json::to_value(kind).map_err(|e| invalid(e.to_string()))?;
        let tag = value
            .get("kind")
            .and_then(|k| k.as_str())
            .ok_or_else(|| invalid("no kind tag".into()))?
            .to_owned();
        let (from_role, client_id, search_text) = match kind {
            EventKind::Message {
                from, client_id, body, ..
            } => (
                Some(role_str(*from)),
                Some(client_id.as_str()),
                Some(search_text_of(body)),
            ),
            EventKind::Closed { by, .. } => (Some(role_str(*by)), None, None),
            // A note's client id keeps a retry after a restart from storing it twice;
            // agents find a conversation by its notes too (only agents search).
            EventKind::Note { client_id, text, .. } => (
                Some(role_str(Role::Agent)),
                Some(client_id.as_str()),
                Some(text.to_lowercase()),
            ),
            // Agents find a conversation by what the visitor said of it.
            EventKind::Rated { comment, .. } => (
                Some(role_str(Role::Visitor)),
                None,
                comment.as_ref().map(|c| c.to_lowercase()),
            ),
            // Agents find a conversation by the address the visitor left.
            EventKind::EmailLeft { email } => (Some(role_str(Role::Visitor)), None, Some(email.to_lowercase())),
            // And by who the site says the visitor is.
            EventKind::Identified { identity } => {
                let words = [Some(&identity.id), identity.name.as_ref(), identity.email.as_ref()];
                let text = words
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(" ");
                (Some(role_str(Role::Visitor)), None, Some(text.to_lowercase()))
            }
            _ => (None, None, None),
        };
        Ok(EventColumns {
            kind: tag,
            from_role,
            client_id,
            search_text,
            data: value.to_string(),
        })
    }
}

/// What message search looks at: the text, or a link's URL and title; lowercased
/// (Unicode-aware, in Rust, so that both backends compare the same strings).
pub(crate) fn search_text_of(body: &MessageBody) -> String {
    match body {
        MessageBody::Text { text } => text.to_lowercase(),
        MessageBody::Link { url, title } => match title {
            Some(title) => format!("{url} {title}").to_lowercase(),
            None => url.to_lowercase(),
        },
        MessageBody::Image { .. } => String::new(),
    }
}

/// The columns [`summary_from_row`] reads, for `conversations c`. `last_seq` and
/// the preview are derived from the conversation's events (found through the
/// events' primary key, newest first), so that appending an event writes nothing
/// else; `last_activity_at` is the stored one (see `Persist::RecordActivity`).
pub(crate) const SUMMARY_COLUMNS: &str = "c.id, c.status, c.agent_id, c.agent_display_name, c.created_at, \
     c.last_activity_at, c.page_url, c.page_title, \
     (SELECT u.avatar_colour FROM users u WHERE u.id = c.agent_id) AS agent_colour, \
     (SELECT COALESCE(MAX(e.seq), 0) FROM events e WHERE e.conversation_id = c.id) AS last_seq, \
     (SELECT e.data FROM events e WHERE e.conversation_id = c.id AND e.kind = 'message' \
      ORDER BY e.seq DESC LIMIT 1) AS last_message, \
     (SELECT e.data FROM events e WHERE e.conversation_id = c.id AND e.kind = 'email_left' \
      ORDER BY e.seq DESC LIMIT 1) AS email_left, \
     (SELECT e.data FROM events e WHERE e.conversation_id = c.id AND e.kind = 'identified' \
      ORDER BY e.seq DESC LIMIT 1) AS identified, \
     (SELECT e.data FROM events e WHERE e.conversation_id = c.id AND e.kind = 'rated' \
      ORDER BY e.seq DESC LIMIT 1) AS rated";

pub(crate) fn summary_from_row(row: &AnyRow) -> Result<ConversationSummary> {
    let status: String = row.try_get("status")?;
    let agent_id: Option<i64> = row.try_get("agent_id")?;
    let agent_name: Option<String> = row.try_get("agent_display_name")?;
    let page_url: Option<String> = row.try_get("page_url")?;
    let page_title: Option<String> = row.try_get("page_title")?;
    Ok(ConversationSummary {
        id: ConversationId::from(row.try_get::<String, _>("id")?),
        status: parse_status(&status)?,
        agent: match (agent_id, agent_name) {
            (Some(id), Some(display_name)) => Some(AgentRef {
                id: AgentId(id),
                display_name,
                // The agent's colour as it is now: presentation, not history.
                colour: row
                    .try_get::<Option<String>, _>("agent_colour")?
                    .as_deref()
                    .and_then(AvatarColour::from_name),
            }),
            _ => None,
        },
        created_at: from_db(row.try_get("created_at")?, "created_at")?,
        last_seq: from_db(row.try_get("last_seq")?, "last_seq")?,
        last_activity_at: from_db(row.try_get("last_activity_at")?, "last_activity_at")?,
        preview: match row.try_get::<Option<String>, _>("last_message")? {
            Some(data) => match serde_json::from_str::<EventKind>(&data)? {
                EventKind::Message { body, .. } => Some(preview_of(&body)),
                _ => None,
            },
            None => None,
        },
        page: match (page_url, page_title) {
            (Some(url), Some(title)) => Some(PageInfo { url, title }),
            _ => None,
        },
        // Presence, screen shares and grants are live state that the core tracks;
        // none of it survives a restart (their history is in the events).
        visitor_online: false,
        share: None,
        grants: Vec::new(),
        // Live: the hub fills it in while the visitor is known.
        visitor: None,
        screenshot: None,
        invitees: Vec::new(),
        visitor_email: match row.try_get::<Option<String>, _>("email_left")? {
            Some(data) => match serde_json::from_str::<EventKind>(&data)? {
                EventKind::EmailLeft { email } => Some(email),
                _ => None,
            },
            None => None,
        },
        visitor_identity: match row.try_get::<Option<String>, _>("identified")? {
            Some(data) => match serde_json::from_str::<EventKind>(&data)? {
                EventKind::Identified { identity } => Some(Box::new(identity)),
                _ => None,
            },
            None => None,
        },
        rating: match row.try_get::<Option<String>, _>("rated")? {
            Some(data) => match serde_json::from_str::<EventKind>(&data)? {
                EventKind::Rated { score, .. } => Some(score),
                _ => None,
            },
            None => None,
        },
    })
}

/// Reads `from_role, client_id, seq`.
pub(crate) fn recent_client_id_from_row(row: &AnyRow) -> Result<RecentClientId> {
    let from: Option<String> = row.try_get("from_role")?;
    let from = from.ok_or_else(|| StoreError::Corrupt("message event without from_role".into()))?;
    Ok(RecentClientId {
        from: parse_role(&from)?,
        client_id: row.try_get("client_id")?,
        seq: from_db(row.try_get("seq")?, "seq")?,
    })
}
