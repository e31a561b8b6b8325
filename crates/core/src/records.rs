//! What the core hands to storage and what storage hands back.
//!
//! The core never touches the database. It emits [`Persist`] operations in the order
//! they must be applied; the shell applies each batch in one transaction *before*
//! it delivers any message produced by the same batch, so that nothing is
//! acknowledged before it is stored. At start-up (and when a visitor comes back
//! after their state was evicted from memory) the shell loads [`StoredVisitor`]s.

use sightline_proto::{
    AgentId, AgentRef, ConversationId, ConversationStatus, ConversationSummary, Event, ImageRef, PageInfo, Role,
};

sightline_proto::string_id! {
    /// An opaque visitor identifier (not the token: the token is a secret the
    /// browser keeps; only its SHA-256 is stored). Never sent to a client.
    pub struct VisitorId;
}

/// A storage operation produced by the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persist {
    /// A new anonymous visitor. `token_hash` is the hex SHA-256 of their token.
    CreateVisitor {
        id: VisitorId,
        token_hash: String,
        created_at: u64,
    },
    /// A new conversation, status [`ConversationStatus::Waiting`], `last_seq` 0.
    CreateConversation {
        id: ConversationId,
        visitor_id: VisitorId,
        created_at: u64,
        page: Option<PageInfo>,
    },
    /// Append an event. Only the event is written: a conversation's `last_seq` and
    /// `preview` are derived from its events when read, and its stored
    /// `last_activity_at` moves with [`Persist::RecordActivity`] and `SetStatus`.
    AppendEvent { conversation: ConversationId, event: Event },
    /// The conversation's stored `last_activity_at` (the order of the history
    /// list) moves forward to `at`. Sent with an event at most every
    /// [`ACTIVITY_STORE_INTERVAL_MS`] per conversation, so that a busy chat does not
    /// rewrite its conversation row (and three indexes) with every message: an open
    /// conversation's stored activity is at most that far behind its newest event.
    RecordActivity { conversation: ConversationId, at: u64 },
    /// The conversation changed status (accepted: `Active` with an agent; `Closed`);
    /// its stored `last_activity_at` becomes `at` too.
    SetStatus {
        conversation: ConversationId,
        status: ConversationStatus,
        agent: Option<AgentRef>,
        at: u64,
    },
    /// The host site identified the conversation's visitor as its user `identity_id`
    /// (stored beside the [`sightline_proto::EventKind::Identified`] event): their
    /// conversations from other browsers are found by it.
    SetIdentity {
        conversation: ConversationId,
        identity_id: String,
    },
    /// The metadata of an uploaded image whose bytes (and thumbnail) the shell has
    /// already written to the blob store. Comes just before the message event that
    /// shows it.
    CreateImage {
        conversation: ConversationId,
        image: NewImage,
        uploaded_by: Role,
        agent_id: Option<AgentId>,
        created_at: u64,
    },
}

/// An image the shell has validated and stored as blobs, on its way into a
/// conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImage {
    pub image: ImageRef,
    /// Hex SHA-256 of the original's bytes (its blob name).
    pub sha256: String,
    /// Hex SHA-256 of the thumbnail's bytes.
    pub thumb_sha256: String,
    /// The vector annotations, as JSON text, when the image is an annotated snapshot.
    pub annotations: Option<String>,
    /// Seen by agents only and never posted as a message: the unannotated picture
    /// an annotated snapshot was drawn on (a screen-share frame), kept so that its
    /// shapes can be changed later from any console.
    pub agents_only: bool,
}

/// A recently used client message id, kept so that a retry is acknowledged again
/// instead of stored twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentClientId {
    pub from: Role,
    pub client_id: String,
    pub seq: u64,
}

/// A conversation as storage knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConversation {
    /// `visitor_online` is always false when loaded: the core tracks presence.
    pub summary: ConversationSummary,
    /// The newest message ids (up to [`RECENT_CLIENT_IDS`]), any order.
    pub recent_client_ids: Vec<RecentClientId>,
}

/// A visitor and their newest conversation, if they have one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVisitor {
    pub id: VisitorId,
    pub token_hash: String,
    pub latest: Option<StoredConversation>,
}

/// How many client message ids per conversation storage returns on load, and the
/// core remembers. A client's outbox never holds more than this many messages.
pub const RECENT_CLIENT_IDS: usize = 256;

/// Most milliseconds an open conversation's stored `last_activity_at` lags behind
/// its newest event (see [`Persist::RecordActivity`]).
pub const ACTIVITY_STORE_INTERVAL_MS: u64 = 5_000;

/// Length of a message preview in a [`ConversationSummary`], in characters.
pub const PREVIEW_CHARS: usize = 120;

/// The preview text of a message body: what lists show under a conversation.
pub fn preview_of(body: &sightline_proto::MessageBody) -> String {
    let text = match body {
        sightline_proto::MessageBody::Text { text } => text.as_str(),
        sightline_proto::MessageBody::Link { url, title } => title.as_deref().unwrap_or(url),
        sightline_proto::MessageBody::Image { .. } => "Image",
    };
    text.chars().take(PREVIEW_CHARS).collect()
}
