//! The Sightline wire protocol.
//!
//! Everything that crosses a process boundary as JSON is defined here and nowhere
//! else: the WebSocket messages between browsers and the server ([`ClientMessage`],
//! [`ServerMessage`]) and the bodies of the HTTP API ([`api`]). The TypeScript
//! declarations in `web/src/protocol.gen.ts` are generated from these types by
//! `cargo xtask codegen`; a test fails when the committed copy is stale.
//!
//! Conventions:
//! - Every enum on the wire is internally tagged (`"type"` for messages, `"kind"` for
//!   bodies and events) with `snake_case` names, so that new variants can be added
//!   without breaking old clients that ignore unknown tags.
//! - Sequence numbers and timestamps are `u64` in Rust and `number` in TypeScript:
//!   both stay far below 2^53.
//! - Timestamps are milliseconds since the Unix epoch, assigned by the server.
//! - Every kind of id is its own type ([`ConversationId`], [`ShareId`], [`GrantId`],
//!   [`StreamId`], [`ImageId`], [`AgentId`]), serialised as the plain string or
//!   number it wraps; in TypeScript, an alias of `string` or `number`.
//!
//! `docs/protocol.md` describes the conversation flow built on these types.

pub mod api;
mod ids;
mod limits;
mod policy;
mod stream;

pub use ids::*;
pub use limits::*;
pub use policy::*;
pub use stream::*;

use serde::{Deserialize, Serialize};

/// The protocol version spoken by this build. A client announces the version it
/// speaks in its hello; the server refuses versions it does not know.
pub const PROTOCOL_VERSION: u32 = 1;

/// Which side of a conversation a participant is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Visitor,
    Agent,
}

/// A support agent as other participants see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct AgentRef {
    pub id: AgentId,
    pub display_name: String,
    /// The colour of their initials, when they chose one (else the site's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub colour: Option<api::AvatarColour>,
}

/// What an agent invited into a colleague's conversation may do there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum InviteRole {
    /// Read-only: sees the conversation live, writes nothing (a supervisor).
    Observer,
    /// Takes part: writes chat messages and internal notes too. Closing, handing
    /// over and everything the visitor grants stay with the owner.
    Participant,
}

/// An agent invited into a conversation by its owner (or an admin), with what
/// they may do there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Invitee {
    pub agent: AgentRef,
    pub role: InviteRole,
}

/// The page the visitor was on when they opened the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct PageInfo {
    pub url: String,
    pub title: String,
}

/// The content of a chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageBody {
    /// Plain text, at most [`MAX_TEXT_CHARS`] characters. Always rendered as text.
    Text { text: String },
    /// A link card. Only `http:` and `https:` URLs are accepted; agents only.
    Link { url: String, title: Option<String> },
    /// An image (a snapshot, or a picture the visitor sent). Created only by the
    /// server, from an upload through the HTTP API (`POST /api/visitor/images`,
    /// `POST /api/conversations/{id}/images`); a `send` with this body is refused.
    Image { image: ImageRef },
}

/// A stored image as messages refer to it. The bytes are served by
/// `GET /api/images/{id}` and the thumbnail by `GET /api/images/{id}/thumb`, to the
/// conversation's visitor and to logged-in agents only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ImageRef {
    pub id: ImageId,
    /// `image/png`, `image/jpeg`, `image/webp` or `image/gif`, from the content.
    pub mime: String,
    /// Size in pixels as shown (a JPEG's EXIF orientation applied, as browsers do).
    pub width: u32,
    pub height: u32,
    /// Size of the original, in bytes.
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub bytes: u64,
    /// The thumbnail's size (it fits in [`THUMB_MAX_SIDE`] square).
    pub thumb_width: u32,
    pub thumb_height: u32,
    /// Whether vector annotations are kept with the image
    /// (`GET /api/images/{id}/annotations`, agents only).
    pub has_annotations: bool,
    /// The image this one was annotated from, when it is an edited copy.
    pub source_image: Option<ImageId>,
}

/// Lifecycle of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// The visitor has written; no agent has accepted yet.
    Waiting,
    /// An agent has accepted and is chatting.
    Active,
    /// Ended by either side; read-only.
    Closed,
}

/// Where a screen share stands. The visitor moves it forward by deliberate clicks;
/// either side can end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ShareState {
    /// The agent asked; the visitor has not answered.
    Invited,
    /// The visitor clicked "Share my screen".
    Accepted,
    /// The browser's picker is open (also when changing what is shared).
    Choosing,
    /// The visitor's screen is being sent.
    Sharing,
    /// The visitor said no.
    Declined,
    /// The visitor closed the picker without choosing, or chose Block in the browser's prompt.
    Cancelled,
    /// Something went wrong; the event's `detail` says what.
    Failed,
    /// Stopped by either side (or by the conversation closing).
    Ended,
}

impl ShareState {
    /// Whether the share is over.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ShareState::Declined | ShareState::Cancelled | ShareState::Failed | ShareState::Ended
        )
    }

    /// Whether the visitor has consented, so that signaling may flow.
    pub fn is_consented(self) -> bool {
        matches!(self, ShareState::Accepted | ShareState::Choosing | ShareState::Sharing)
    }
}

/// The current share of a conversation, for lists and reconnecting clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ShareSummary {
    pub id: ShareId,
    pub state: ShareState,
}

/// Where an agent's request for a screenshot stands: for visitors whose device
/// cannot share its screen (phones, tablets), the visitor answers with a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ScreenshotState {
    /// The agent asked; the visitor has not answered.
    Asked,
    /// The visitor sent a picture (the image message just before this event).
    Sent,
    /// The visitor said no.
    Declined,
    /// The agent took the request back.
    Withdrawn,
    /// The conversation closed (or changed hands) before an answer.
    Ended,
}

impl ScreenshotState {
    /// Whether the request is answered or over.
    pub fn is_final(self) -> bool {
        self != ScreenshotState::Asked
    }
}

/// The newest screenshot request of a conversation, for the agent's console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ScreenshotSummary {
    pub id: ScreenshotId,
    pub state: ScreenshotState,
}

/// What the visitor reports as the share progresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ShareStep {
    Accepted,
    Declined,
    Choosing,
    Sharing,
    Cancelled,
    Failed,
    /// The visitor stopped sharing (button or the browser's own stop).
    Stopped,
}

/// The agent's choice between sharpness and smoothness, applied on the visitor's
/// sender without renegotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ShareMode {
    /// Few frames, full detail: reading text (the default).
    Text,
    /// More frames per second: following movement.
    Motion,
}

/// An ICE server as `RTCPeerConnection` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct IceServer {
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub credential: Option<String>,
}

/// Media limits for a share, from the server's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ShareLimits {
    /// `RTCRtpEncodingParameters.maxBitrate`, bits per second.
    pub max_bitrate_bps: u32,
    /// Frame rate in text mode.
    pub text_fps: u32,
    /// Frame rate in motion mode.
    pub motion_fps: u32,
}

/// Everything a browser needs to set up the peer connection of a share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ShareSetup {
    pub ice_servers: Vec<IceServer>,
    /// `"all"`, or `"relay"` to force TURN.
    pub ice_transport_policy: String,
    pub limits: ShareLimits,
    pub mode: ShareMode,
}

/// A WebRTC signaling payload, relayed between the two ends of a share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// An SDP offer (visitor) or answer (agent).
    Description {
        #[serde(rename = "type")]
        #[cfg_attr(feature = "typescript", ts(rename = "type"))]
        sdp_type: String,
        sdp: String,
    },
    /// A trickled ICE candidate.
    Candidate {
        candidate: String,
        sdp_mid: Option<String>,
        sdp_m_line_index: Option<u16>,
        username_fragment: Option<String>,
    },
    /// The agent saw the connection fail and asks the visitor for an ICE restart.
    RestartRequest,
    /// The agent switched between text and motion mode.
    Mode { mode: ShareMode },
}

/// Something that happened in a conversation, stored and numbered by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// The visitor's first message opened the conversation.
    Started { page: Option<PageInfo> },
    /// A chat message. `client_id` is the sender's idempotency key.
    Message {
        from: Role,
        agent: Option<AgentRef>,
        client_id: String,
        body: MessageBody,
    },
    /// An agent accepted the conversation.
    AgentJoined { agent: AgentRef },
    /// The conversation was closed by one side.
    Closed { by: Role, agent: Option<AgentRef> },
    /// A screen share changed state. `message` is the invitation text (when
    /// invited); `detail` says why it failed or ended, in plain words.
    Share {
        share: ShareId,
        state: ShareState,
        by: Role,
        agent: Option<AgentRef>,
        message: Option<String>,
        detail: Option<String>,
    },
    /// The agent asked for a screenshot (`message` is the request text), or the
    /// request was answered or ended.
    Screenshot {
        request: ScreenshotId,
        state: ScreenshotState,
        agent: Option<AgentRef>,
        message: Option<String>,
    },
    /// The visitor joined with a session key the agent gave them.
    JoinedWithKey { agent: AgentRef },
    /// While co-browsing is on, the visitor opened this page of the site (the page
    /// where it started, then each navigation or reload to another page).
    PageViewed { page: PageInfo },
    /// A grant (co-browse, remote control, recording) changed state. `message` is
    /// the agent's request text (when asked); `detail` says why it failed or ended.
    Grant {
        grant: GrantId,
        capability: Capability,
        state: GrantState,
        by: Role,
        agent: Option<AgentRef>,
        message: Option<String>,
        detail: Option<String>,
    },
    /// While the visitor let the agent control their page, the agent did this
    /// (as the visitor's widget reported it; never what was typed).
    Control {
        agent: Option<AgentRef>,
        action: ControlAction,
    },
    /// The agent sent the visitor to a page of the site (an allowed origin).
    PagePushed { agent: AgentRef, url: String },
    /// While no agent was available, the visitor left an e-mail address to be
    /// answered at (checked by the server; the newest one counts).
    EmailLeft { email: String },
    /// The host site said who the visitor is, signed with the server's identity
    /// secret and checked by the server (`Sightline.identify`); the newest counts.
    Identified { identity: VisitorIdentity },
    /// An internal note: written by an agent for agents, never sent to the
    /// visitor (see [`Event::for_visitor`]). `client_id` is the writer's
    /// idempotency key, as for messages.
    Note {
        agent: AgentRef,
        client_id: String,
        text: String,
    },
    /// `by` handed the conversation to `agent`, or back to the queue (`agent`
    /// empty: it is waiting again). `note` is for agents only: the visitor's copy
    /// of this event has none.
    Transferred {
        by: AgentRef,
        agent: Option<AgentRef>,
        note: Option<String>,
    },
    /// The visitor rated the conversation once it was closed: `score` from 1
    /// (bad) to [`MAX_RATING_SCORE`] (very good), and an optional comment (at most
    /// [`MAX_RATING_COMMENT_CHARS`] characters). One per conversation.
    Rated { score: u8, comment: Option<String> },
    /// `by` (the owner, or an admin) invited `agent` into the conversation as
    /// `role`, or changed an invitee's role. `note` is for agents only. An
    /// observer's invitation is agents-only; the visitor sees a participant's,
    /// without the note (see [`Event::for_visitor`]).
    AgentInvited {
        agent: AgentRef,
        role: InviteRole,
        by: AgentRef,
        note: Option<String>,
    },
    /// An invited agent is no longer in the conversation: they left (`by` is
    /// themselves) or the owner or an admin removed them. `role` is the one they
    /// had: an observer's leaving is agents-only, like their invitation.
    AgentLeft {
        agent: AgentRef,
        role: InviteRole,
        by: AgentRef,
    },
}

impl EventKind {
    /// Whether only agents may ever see this kind of event.
    pub fn is_agents_only(&self) -> bool {
        matches!(
            self,
            EventKind::Note { .. }
                | EventKind::AgentInvited {
                    role: InviteRole::Observer,
                    ..
                }
                | EventKind::AgentLeft {
                    role: InviteRole::Observer,
                    ..
                }
        )
    }
}

/// Who the host site says a visitor is: its own user id, and the name and e-mail
/// address to show to agents. Only ever built by the server from a
/// [`ClientMessage::Identify`] whose signature it checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct VisitorIdentity {
    /// The site's user id (at most [`MAX_IDENTITY_ID_BYTES`] bytes).
    pub id: String,
    /// At most [`MAX_IDENTITY_NAME_CHARS`] characters.
    pub name: Option<String>,
    /// Checked for shape like a left address, at most [`MAX_EMAIL_BYTES`] bytes.
    pub email: Option<String>,
}

/// A stored event with its place in the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Event {
    /// 1-based, gap-free, assigned by the server in order of arrival.
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub seq: u64,
    /// Server time in milliseconds since the Unix epoch.
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub at: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// This event as the visitor may see it: nothing of an internal note or of
    /// an observer, and a transfer or an invitation without its note. Every path
    /// that gives a visitor an event (live, replay) goes through here; the
    /// numbering keeps its gaps.
    pub fn for_visitor(&self) -> Option<Event> {
        match &self.kind {
            kind if kind.is_agents_only() => None,
            EventKind::AgentInvited {
                agent,
                role,
                by,
                note: Some(_),
            } => Some(Event {
                kind: EventKind::AgentInvited {
                    agent: agent.clone(),
                    role: *role,
                    by: by.clone(),
                    note: None,
                },
                ..self.clone()
            }),
            EventKind::Transferred {
                by,
                agent,
                note: Some(_),
            } => Some(Event {
                kind: EventKind::Transferred {
                    by: by.clone(),
                    agent: agent.clone(),
                    note: None,
                },
                ..self.clone()
            }),
            _ => Some(self.clone()),
        }
    }
}

/// An agent as a colleague choosing whom to hand a conversation to sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct AgentPresence {
    pub agent: AgentRef,
    /// They said they are away (they still get conversations handed to them).
    pub away: bool,
}

/// What the visitor's browser can do, as their widget reports it in its hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct VisitorDevice {
    /// The browser offers screen capture (`getDisplayMedia`); phones do not.
    pub can_share_screen: bool,
    /// The page can be co-browsed (the widget can record it).
    pub can_cobrowse: bool,
    /// A touch screen with no fine pointer (a phone or tablet).
    pub touch: bool,
    /// The visitor's time zone, an IANA name such as `Europe/Berlin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub time_zone: Option<String>,
    /// Minutes ahead of UTC (e.g. 60 in Berlin in winter), for the visitor's local time.
    pub utc_offset_minutes: i32,
}

/// The visitor as they are now: live, never stored (a restart forgets it until
/// they say hello again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct VisitorContext {
    /// The page of their newest hello or page change, in any of their tabs.
    pub page: Option<PageInfo>,
    /// Browser and operating system, read by the server from the User-Agent
    /// header (e.g. "Firefox 153", "Windows 10"); informative, not proof.
    pub browser: Option<String>,
    pub os: Option<String>,
    /// What their widget said its browser can do.
    pub device: Option<VisitorDevice>,
}

/// What an agent's console needs to list a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ConversationSummary {
    pub id: ConversationId,
    pub status: ConversationStatus,
    pub agent: Option<AgentRef>,
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub created_at: u64,
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub last_seq: u64,
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub last_activity_at: u64,
    /// The start of the newest message, for lists.
    pub preview: Option<String>,
    pub page: Option<PageInfo>,
    /// Whether the visitor has a live connection right now.
    pub visitor_online: bool,
    /// The conversation's newest screen share, if any.
    pub share: Option<ShareSummary>,
    /// The conversation's newest grant of each other capability.
    #[serde(default)]
    pub grants: Vec<GrantSummary>,
    /// The e-mail address the visitor left to be answered at (the newest
    /// [`EventKind::EmailLeft`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub visitor_email: Option<String>,
    /// Who the host site says the visitor is (the newest [`EventKind::Identified`]).
    /// Boxed: most visitors are anonymous, and summaries travel inside every
    /// hub input and output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional, as = "Option<VisitorIdentity>"))]
    pub visitor_identity: Option<Box<VisitorIdentity>>,
    /// The visitor's browser, device and current page, while the hub knows them.
    /// Boxed: most summaries travel without it, and every message that carries a
    /// summary would otherwise pay for its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub visitor: Option<Box<VisitorContext>>,
    /// The conversation's newest screenshot request (live, like `share`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub screenshot: Option<ScreenshotSummary>,
    /// The visitor's rating of the closed conversation, 1 to
    /// [`MAX_RATING_SCORE`] (the [`EventKind::Rated`] event has the comment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub rating: Option<u8>,
    /// The agents the owner invited in, by agent id (at most
    /// [`MAX_INVITEES`]); only while the conversation is active.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "typescript", ts(optional, as = "Option<Vec<Invitee>>"))]
    pub invitees: Vec<Invitee>,
}

impl ConversationSummary {
    /// The summary as its visitor may see it: of the invited agents only those
    /// taking part (an observer leaves no trace for the visitor, as with
    /// [`Event::for_visitor`]).
    pub fn for_visitor(mut self) -> ConversationSummary {
        self.invitees.retain(|i| i.role == InviteRole::Participant);
        self
    }
}

/// Messages a browser sends to the server over the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum ClientMessage {
    /// The first message on a visitor socket. Without a token (or with one the server
    /// does not know) the server issues a new one in [`ServerMessage::VisitorWelcome`].
    VisitorHello {
        protocol: u32,
        token: Option<String>,
        /// Replay events after this sequence number (0 for the whole transcript).
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        after_seq: u64,
        page: Option<PageInfo>,
        /// What this browser can do (absent from older widgets).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "typescript", ts(optional))]
        device: Option<VisitorDevice>,
    },
    /// The first message on an agent socket; the session cookie authenticates it.
    /// `away`: the agent's choice as their console remembers it (see
    /// [`ClientMessage::SetAway`]).
    AgentHello {
        protocol: u32,
        #[serde(default)]
        #[cfg_attr(feature = "typescript", ts(as = "Option<bool>", optional))]
        away: bool,
    },
    /// Agent: Away (not answering visitors) or Available. Visitors learn whether
    /// anyone is available ([`ServerMessage::Availability`]); agents who are away
    /// still see the queue.
    SetAway { away: bool },
    /// Visitor: while no agent is available, an e-mail address to be answered at,
    /// stored on their open conversation as [`EventKind::EmailLeft`].
    LeaveEmail { email: String },
    /// Visitor: the host page says who they are (`Sightline.identify`). `signature`
    /// is HMAC-SHA256 over `id\nname\nemail` (as sent, an absent one empty) with
    /// the server's identity secret, in hex. Checked
    /// by the server (refused when forged, or when no secret is configured);
    /// answered by [`ServerMessage::Identified`], and stored on the visitor's open
    /// conversation, or their next one, as [`EventKind::Identified`].
    Identify {
        id: String,
        name: Option<String>,
        email: Option<String>,
        signature: String,
    },
    /// Replay a conversation's events after `after_seq` (agents: conversations they
    /// own or have closed; visitors: their own).
    Sync {
        conversation: ConversationId,
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        after_seq: u64,
    },
    /// Post a message. Visitors leave `conversation` empty (their own is implied,
    /// and created by the first message); agents name it. A retry with the same
    /// `client_id` is acknowledged again and never stored twice.
    Send {
        conversation: Option<ConversationId>,
        client_id: String,
        body: MessageBody,
    },
    /// The sender started or stopped typing. Not stored.
    Typing {
        conversation: Option<ConversationId>,
        active: bool,
    },
    /// An agent takes a waiting conversation.
    Accept { conversation: ConversationId },
    /// Either side ends the conversation.
    Close { conversation: Option<ConversationId> },
    /// Liveness probe; answered with [`ServerMessage::Pong`].
    Ping {
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        nonce: u64,
    },
    /// Agent: ask the visitor to share their screen. `message` replaces the default
    /// invitation text.
    ShareInvite {
        conversation: ConversationId,
        message: Option<String>,
    },
    /// Visitor: report a step of the share (answering the invitation, the picker,
    /// sharing, stopping). `detail` explains a failure.
    ShareProgress {
        share: ShareId,
        step: ShareStep,
        detail: Option<String>,
    },
    /// Either side: end the share.
    ShareEnd { share: ShareId },
    /// Agent: ask the visitor for a screenshot (for a device that cannot share
    /// its screen). `message` replaces the default request text. The visitor
    /// answers by sending a picture, or with [`ClientMessage::ScreenshotEnd`].
    ScreenshotAsk {
        conversation: ConversationId,
        message: Option<String>,
    },
    /// Either side: end an open screenshot request (the visitor declines, the
    /// agent withdraws).
    ScreenshotEnd { request: ScreenshotId },
    /// Either side: a signaling message for the other end. Refused before the
    /// visitor has consented.
    ShareSignal { share: ShareId, signal: Signal },
    /// Agent: create a session key to read to a caller. `capability` is what the
    /// caller is asked for on joining: a screen share (the default) or co-browsing
    /// (the caller types the key into the widget on the site).
    ShareKeyCreate {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "typescript", ts(optional))]
        capability: Option<Capability>,
    },
    /// Visitor: join the agent who created this key (and be asked to share, or to
    /// co-browse).
    ShareKeyRedeem { key: String },
    /// Agent: ask the visitor for a capability other than screen sharing.
    /// `message` replaces the default request text.
    GrantAsk {
        conversation: ConversationId,
        capability: Capability,
        message: Option<String>,
    },
    /// Visitor: answer a request or report a step of a grant.
    GrantStep {
        grant: GrantId,
        step: GrantStep,
        detail: Option<String>,
    },
    /// Either side: end a grant (the visitor revokes, the agent withdraws).
    GrantEnd { grant: GrantId },
    /// Either end of a live stream: a fresh token for its stream socket (after the
    /// first one expired, e.g. on a reconnect).
    StreamJoin { stream: StreamId },
    /// Visitor: this tab's page changed without loading a new one (a single-page
    /// app's route, `history.pushState`, a fragment). While co-browsing from this
    /// tab, the new page goes into the transcript as `page_viewed`.
    PageChanged { page: PageInfo },
    /// Visitor: what the agent's remote control did on this page (for the
    /// conversation's history), while the grant stands.
    ControlReport { grant: GrantId, action: ControlAction },
    /// Agent: send the visitor to a page of the site. The URL's origin must be
    /// the origin of the page the visitor is on.
    PushPage { conversation: ConversationId, url: String },
    /// Agent: write an internal note (at most [`MAX_TEXT_CHARS`] characters) in a
    /// conversation they own. Stored as [`EventKind::Note`], delivered to agents
    /// only, acknowledged like a message.
    Note {
        conversation: ConversationId,
        client_id: String,
        text: String,
    },
    /// Agent: the colleagues one can hand a conversation to (every agent with a
    /// console open), answered with [`ServerMessage::Agents`].
    ListAgents,
    /// The owning agent (or an admin): hand an active conversation to another
    /// agent who is online (`to`), or back to the queue (`to` empty), with an
    /// optional note for agents (at most [`MAX_TEXT_CHARS`] characters). What the
    /// visitor granted the old owner ends.
    Transfer {
        conversation: ConversationId,
        to: Option<AgentId>,
        note: Option<String>,
    },
    /// Visitor: rate their conversation once it is closed, once: `score` from 1 to
    /// [`MAX_RATING_SCORE`], an optional comment of at most
    /// [`MAX_RATING_COMMENT_CHARS`] characters. Stored as [`EventKind::Rated`]
    /// (which both sides receive); a refusal is an error. `conversation` may be
    /// left empty (their own is implied).
    Rate {
        conversation: Option<ConversationId>,
        score: u8,
        comment: Option<String>,
    },
    /// The owning agent (or an admin): invite a colleague who is online
    /// (`agent`) into an active conversation as an observer or a participant,
    /// or change an invitee's role; with an optional note for agents (at most
    /// [`MAX_TEXT_CHARS`] characters). Stored as [`EventKind::AgentInvited`].
    Invite {
        conversation: ConversationId,
        agent: AgentId,
        role: InviteRole,
        note: Option<String>,
    },
    /// The owning agent (or an admin): take an invitee out of the conversation.
    /// Stored as [`EventKind::AgentLeft`].
    Uninvite {
        conversation: ConversationId,
        agent: AgentId,
    },
    /// An invited agent: leave the conversation. Stored as
    /// [`EventKind::AgentLeft`].
    Leave { conversation: ConversationId },
}

/// Messages the server sends to a browser over the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Answer to a visitor hello.
    VisitorWelcome {
        protocol: u32,
        /// The token to keep; differs from the one sent when the server issued a new one.
        token: String,
        /// The visitor's current (or most recent) conversation, if any.
        conversation: Option<ConversationSummary>,
        /// Whether any agent is available now (see [`ServerMessage::Availability`]).
        agents_available: bool,
        /// The site policy's private selectors (see [`SitePolicy::private_selectors`]):
        /// the widget keeps what they match out of co-browsing and screen shares.
        #[serde(default)]
        private_selectors: Vec<String>,
    },
    /// Visitors: the site policy's private selectors changed (see
    /// [`ServerMessage::VisitorWelcome`]); a live co-browse takes a fresh snapshot.
    PrivacyChanged { private_selectors: Vec<String> },
    /// Answer to an agent hello: who the agent is, and every conversation that is
    /// waiting or that this agent is handling.
    AgentWelcome {
        protocol: u32,
        agent: AgentRef,
        is_admin: bool,
        conversations: Vec<ConversationSummary>,
        /// Whether this agent is away (as their hello said, or another of their
        /// consoles set since).
        away: bool,
        /// What this agent may use now: their own permissions and the site
        /// policy's together. The server refuses the rest whatever the console shows.
        permissions: Permissions,
        /// Whether it is within the office hours (always true without any):
        /// outside them visitors are told no one is available, whoever is online.
        office_open: bool,
    },
    /// Agents: the office hours began or ended (see [`ServerMessage::AgentWelcome`]).
    OfficeHours { open: bool },
    /// Agents: what this agent may use changed (an admin changed their
    /// permissions or the site policy); see [`ServerMessage::AgentWelcome`].
    PermissionsChanged { permissions: Permissions },
    /// Visitors: whether any agent is available changed. Available means at least
    /// one agent is connected and not away, within office hours when the server
    /// has them.
    Availability { agents_available: bool },
    /// Visitors: the server checked and took the identity of a
    /// [`ClientMessage::Identify`] (a refusal is an error with the frame's `ref`).
    Identified { identity: VisitorIdentity },
    /// Agents: this agent's away state changed (from another of their consoles).
    AwayChanged { away: bool },
    /// A stored event, live or replayed. Clients order by `seq` and ignore a `seq`
    /// they already have.
    Event { conversation: ConversationId, event: Event },
    /// The message with this `client_id` is stored as `seq`.
    Ack {
        conversation: ConversationId,
        client_id: String,
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        seq: u64,
    },
    /// The other side started or stopped typing.
    Typing {
        conversation: ConversationId,
        from: Role,
        active: bool,
    },
    /// A conversation's summary changed (new in the queue, accepted, closed, visitor
    /// came or went). Agents only.
    ConversationUpdated { conversation: ConversationSummary },
    /// A replay requested by hello or sync is complete up to `last_seq`.
    Synced {
        conversation: ConversationId,
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        last_seq: u64,
    },
    /// The visitor consented: how to connect. Sent to both ends (again after a
    /// reconnect while the share is live).
    ShareSetup {
        conversation: ConversationId,
        share: ShareId,
        setup: ShareSetup,
    },
    /// A signaling message from the other end of a share.
    ShareSignal {
        conversation: ConversationId,
        share: ShareId,
        from: Role,
        signal: Signal,
    },
    /// Answer to [`ClientMessage::ShareKeyCreate`].
    ShareKeyCreated {
        key: String,
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        expires_at: u64,
    },
    /// The visitor allowed a grant: the token that opens this side's stream socket
    /// (`/ws/stream?token=`), valid for opening until `expires_at`. Sent to each
    /// end (again on [`ClientMessage::StreamJoin`]).
    StreamGranted {
        conversation: ConversationId,
        grant: GrantId,
        stream: StreamId,
        capability: Capability,
        role: StreamRole,
        token: String,
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        expires_at: u64,
    },
    /// Visitor: the conversation changed (a redeemed session key started a new one).
    /// Replace the transcript with this conversation's events, which follow.
    ConversationChanged { conversation: ConversationSummary },
    /// Answer to [`ClientMessage::ListAgents`]: every agent with a console open
    /// (oneself included), by name.
    Agents { agents: Vec<AgentPresence> },
    /// Answer to [`ClientMessage::Ping`].
    Pong {
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        nonce: u64,
    },
    /// A request was refused. `client_id` names the refused message, when it had one;
    /// `ref` echoes the request reference the refused frame carried (see
    /// [`ClientFrame`]), so a client can tell which of its requests failed.
    Error {
        code: ErrorCode,
        message: String,
        client_id: Option<String>,
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "typescript", ts(rename = "ref", optional))]
        request_ref: Option<String>,
    },
}

/// Machine-readable reason for an [`ServerMessage::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, not a known message, or a field out of range.
    BadRequest,
    /// The frame or a field is larger than the protocol allows.
    TooLarge,
    /// The first message was not a hello, or the hello did not fit the socket.
    NotAuthenticated,
    /// The conversation is not this participant's.
    Forbidden,
    /// No such conversation.
    NotFound,
    /// The action does not fit the conversation's state (e.g. writing after close,
    /// accepting a conversation another agent took).
    InvalidState,
    /// Too many messages in too short a time.
    RateLimited,
    /// The client speaks a protocol version the server does not.
    UnsupportedVersion,
    /// The server failed; the request may be retried.
    Internal,
}

impl ServerMessage {
    /// Shorthand for an error reply.
    pub fn error(code: ErrorCode, message: impl Into<String>, client_id: Option<String>) -> Self {
        ServerMessage::Error {
            code,
            message: message.into(),
            client_id,
            request_ref: None,
        }
    }

    /// The same error, naming the request it answers.
    pub fn with_ref(mut self, reference: Option<String>) -> Self {
        if let ServerMessage::Error { request_ref, .. } = &mut self {
            *request_ref = reference;
        }
        self
    }
}

/// One frame from a browser: a [`ClientMessage`] and, optionally, a reference the
/// client chose (`"ref"`, next to `"type"`). The server echoes the reference in any
/// [`ServerMessage::Error`] that refuses the frame and never interprets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ClientFrame {
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(rename = "ref", optional))]
    pub request_ref: Option<String>,
    #[serde(flatten)]
    pub message: ClientMessage,
}

impl ClientFrame {
    /// Parses a text frame. A reference longer than [`MAX_REQUEST_REF_BYTES`] is
    /// refused like any other malformed field.
    pub fn parse(text: &str) -> Result<ClientFrame, String> {
        let frame: ClientFrame = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if frame
            .request_ref
            .as_ref()
            .is_some_and(|r| r.len() > MAX_REQUEST_REF_BYTES)
        {
            return Err(format!("ref can have at most {MAX_REQUEST_REF_BYTES} bytes"));
        }
        Ok(frame)
    }

    /// The `ref` of a frame that did not parse as a message, when it is a JSON
    /// object with a usable one: the error about it then carries it, so that the
    /// client can match the error to its request.
    pub fn ref_of_invalid(text: &str) -> Option<String> {
        #[derive(Deserialize)]
        struct RefOnly {
            #[serde(rename = "ref")]
            request_ref: Option<String>,
        }
        serde_json::from_str::<RefOnly>(text)
            .ok()?
            .request_ref
            .filter(|r| r.len() <= MAX_REQUEST_REF_BYTES)
    }
}

/// Every type that TypeScript clients need, as one module of declarations.
/// Used by `cargo xtask codegen` and by the freshness test.
#[cfg(feature = "typescript")]
pub fn typescript_declarations() -> String {
    use ts_rs::TS;
    let mut out = String::from("// Generated from crates/proto by `cargo xtask codegen`. Do not edit.\n\n");
    let decls = [
        ConversationId::decl(),
        ShareId::decl(),
        GrantId::decl(),
        StreamId::decl(),
        ImageId::decl(),
        ScreenshotId::decl(),
        AgentId::decl(),
        Role::decl(),
        AgentRef::decl(),
        AgentPresence::decl(),
        InviteRole::decl(),
        Invitee::decl(),
        PageInfo::decl(),
        VisitorDevice::decl(),
        VisitorContext::decl(),
        VisitorIdentity::decl(),
        MessageBody::decl(),
        ImageRef::decl(),
        ConversationStatus::decl(),
        EventKind::decl(),
        Event::decl(),
        ConversationSummary::decl(),
        ClientMessage::decl(),
        ClientFrame::decl(),
        ServerMessage::decl(),
        ErrorCode::decl(),
        ShareState::decl(),
        ShareSummary::decl(),
        ShareStep::decl(),
        ScreenshotState::decl(),
        ScreenshotSummary::decl(),
        ShareMode::decl(),
        IceServer::decl(),
        ShareLimits::decl(),
        ShareSetup::decl(),
        Signal::decl(),
        Capability::decl(),
        Permissions::decl(),
        SitePolicy::decl(),
        GrantState::decl(),
        GrantStep::decl(),
        GrantSummary::decl(),
        StreamRole::decl(),
        StreamControl::decl(),
        DiagEntry::decl(),
        Anchor::decl(),
        Guidance::decl(),
        DrawingsNotice::decl(),
        ControlInput::decl(),
        ControlKey::decl(),
        ControlRefusal::decl(),
        ControlResult::decl(),
        ControlAction::decl(),
        ControlVerb::decl(),
        ShareInk::decl(),
        ConsoleLevel::decl(),
        api::LoginRequest::decl(),
        api::Me::decl(),
        api::UserInfo::decl(),
        api::CreateUserRequest::decl(),
        api::SetPasswordRequest::decl(),
        api::UpdateUserRequest::decl(),
        api::AvatarColour::decl(),
        api::ProfileRequest::decl(),
        api::ConversationPage::decl(),
        api::Transcript::decl(),
        api::ApiError::decl(),
        api::UploadedImage::decl(),
        api::ImageAnnotations::decl(),
        api::SiteSettings::decl(),
        api::RefusedOrigin::decl(),
        api::SiteOriginRequest::decl(),
        api::SavedReply::decl(),
        api::SavedReplyRequest::decl(),
    ];
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "export const PROTOCOL_VERSION = {PROTOCOL_VERSION};\n\
         export const MAX_TEXT_CHARS = {MAX_TEXT_CHARS};\n\
         export const MAX_SHORTCUT_CHARS = {MAX_SHORTCUT_CHARS};\n\
         export const MAX_SAVED_REPLY_TITLE_CHARS = {MAX_SAVED_REPLY_TITLE_CHARS};\n\
         export const MAX_URL_BYTES = {MAX_URL_BYTES};\n\
         export const MAX_CLIENT_ID_BYTES = {MAX_CLIENT_ID_BYTES};\n\
         export const MAX_REQUEST_REF_BYTES = {MAX_REQUEST_REF_BYTES};\n\
         export const SESSION_KEY_DIGITS = {SESSION_KEY_DIGITS};\n\
         export const MAX_PRIVATE_SELECTORS = {MAX_PRIVATE_SELECTORS};\n\
         export const MAX_PRIVATE_SELECTOR_BYTES = {MAX_PRIVATE_SELECTOR_BYTES};\n\
         export const MAX_FRAME_BYTES = {MAX_FRAME_BYTES};\n\
         export const DEFAULT_MAX_IMAGE_BYTES = {DEFAULT_MAX_IMAGE_BYTES};\n\
         export const MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS};\n\
         export const MAX_IMAGE_SIDE = {MAX_IMAGE_SIDE};\n\
         export const THUMB_MAX_SIDE = {THUMB_MAX_SIDE};\n\
         export const MAX_ANNOTATIONS_BYTES = {MAX_ANNOTATIONS_BYTES};\n\
         export const MAX_STREAM_FRAME_BYTES = {MAX_STREAM_FRAME_BYTES};\n\
         export const STREAM_FRAME_VERSION = {STREAM_FRAME_VERSION};\n\
         export const STREAM_HEADER_BYTES = {STREAM_HEADER_BYTES};\n\
         export const STREAM_CHUNK_BYTES = {STREAM_CHUNK_BYTES};\n\
         export const STREAM_MAX_CHUNKS = {STREAM_MAX_CHUNKS};\n\
         export const STREAM_MAX_MESSAGE_BYTES = {STREAM_MAX_MESSAGE_BYTES};\n\
         export const STREAM_MAX_ITEMS = {STREAM_MAX_ITEMS};\n\
         export const DIAG_TAG = {DIAG_TAG:?};\n\
         export const MAX_DIAG_TEXT_CHARS = {MAX_DIAG_TEXT_CHARS};\n\
         export const MAX_GUIDANCE_BYTES = {MAX_GUIDANCE_BYTES};\n\
         export const MAX_GUIDANCE_ITEMS = {MAX_GUIDANCE_ITEMS};\n\
         export const MAX_STROKE_POINTS = {MAX_STROKE_POINTS};\n\
         export const MAX_STROKE_REACH = {MAX_STROKE_REACH};\n\
         export const MAX_DRAWINGS = {MAX_DRAWINGS};\n\
         export const DRAWING_FADE_MS = {DRAWING_FADE_MS};\n\
         export const DRAWINGS_TAG = {DRAWINGS_TAG:?};\n\
         export const MAX_PAGE_URL_CHARS = {MAX_PAGE_URL_CHARS};\n\
         export const MAX_CONTROL_BYTES = {MAX_CONTROL_BYTES};\n\
         export const MAX_CONTROL_ITEMS = {MAX_CONTROL_ITEMS};\n\
         export const MAX_CONTROL_TEXT_CHARS = {MAX_CONTROL_TEXT_CHARS};\n\
         export const MAX_CONTROL_TARGET_CHARS = {MAX_CONTROL_TARGET_CHARS};\n\
         export const MAX_PUSH_URL_BYTES = {MAX_PUSH_URL_BYTES};\n\
         export const MAX_INK_POINTS = {MAX_INK_POINTS};\n\
         export const MAX_RATING_SCORE = {MAX_RATING_SCORE};\n\
         export const MAX_RATING_COMMENT_CHARS = {MAX_RATING_COMMENT_CHARS};\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_frame_keeps_its_ref_when_it_has_a_usable_one() {
        let bad = r#"{"type":"accept","conversation":7,"ref":"r1"}"#;
        assert!(ClientFrame::parse(bad).is_err());
        assert_eq!(ClientFrame::ref_of_invalid(bad).as_deref(), Some("r1"));
        assert_eq!(ClientFrame::ref_of_invalid(r#"{"type":"nope"}"#), None);
        assert_eq!(ClientFrame::ref_of_invalid("not json"), None);
        assert_eq!(ClientFrame::ref_of_invalid(r#"{"ref":5}"#), None);
        let long = format!(r#"{{"ref":"{}"}}"#, "x".repeat(MAX_REQUEST_REF_BYTES + 1));
        assert_eq!(ClientFrame::ref_of_invalid(&long), None);
    }

    #[test]
    fn client_messages_round_trip_with_snake_case_tags() {
        let json = r#"{"type":"send","conversation":null,"client_id":"a1","body":{"kind":"text","text":"hi"}}"#;
        let msg: ClientMessage = serde_json::from_str(json).expect("valid message");
        assert_eq!(
            msg,
            ClientMessage::Send {
                conversation: None,
                client_id: "a1".into(),
                body: MessageBody::Text { text: "hi".into() },
            }
        );
        assert_eq!(serde_json::to_string(&msg).expect("serializes"), json);
    }

    #[test]
    fn unknown_message_types_and_fields_are_rejected() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"launch_missiles"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"ping","nonce":1,"extra":2}"#).is_err());
    }

    #[test]
    fn frames_carry_an_optional_reference_beside_the_message() {
        let frame = ClientFrame::parse(r#"{"type":"ping","nonce":7,"ref":"r1"}"#).expect("valid frame");
        assert_eq!(frame.request_ref.as_deref(), Some("r1"));
        assert_eq!(frame.message, ClientMessage::Ping { nonce: 7 });
        let plain = ClientFrame::parse(r#"{"type":"ping","nonce":7}"#).expect("valid frame");
        assert_eq!(plain.request_ref, None);
        assert!(ClientFrame::parse(r#"{"type":"ping","nonce":7,"extra":1}"#).is_err());
        assert!(ClientFrame::parse(r#"{"type":"ping","nonce":7,"ref":5}"#).is_err());
        let long = format!(
            r#"{{"type":"ping","nonce":7,"ref":"{}"}}"#,
            "x".repeat(MAX_REQUEST_REF_BYTES + 1)
        );
        assert!(ClientFrame::parse(&long).is_err());
        let error = ServerMessage::error(ErrorCode::Forbidden, "no", None).with_ref(Some("r1".into()));
        let json = serde_json::to_value(&error).expect("serializes");
        assert_eq!(json["ref"], "r1");
    }

    #[test]
    fn a_visitor_never_gets_a_note_nor_the_note_of_a_transfer() {
        let anna = AgentRef {
            id: AgentId(1),
            display_name: "Anna".into(),
            colour: None,
        };
        let at = |kind| Event { seq: 4, at: 9, kind };
        let note = at(EventKind::Note {
            agent: anna.clone(),
            client_id: "n1".into(),
            text: "internal".into(),
        });
        assert!(note.kind.is_agents_only());
        assert_eq!(note.for_visitor(), None);
        let transfer = at(EventKind::Transferred {
            by: anna.clone(),
            agent: None,
            note: Some("internal".into()),
        });
        assert_eq!(
            transfer.for_visitor(),
            Some(at(EventKind::Transferred {
                by: anna,
                agent: None,
                note: None,
            }))
        );
        let closed = at(EventKind::Closed {
            by: Role::Visitor,
            agent: None,
        });
        assert_eq!(closed.for_visitor(), Some(closed.clone()));
    }

    /// The largest rating a visitor may send (the longest comment, of characters
    /// that JSON escapes the most or that take four bytes) fits in one frame, as
    /// does the event and the summary that carry it back.
    #[test]
    fn the_largest_rating_fits_in_a_frame() {
        for worst in ['\u{1}', '𝄞', '"'] {
            let comment: String = std::iter::repeat_n(worst, MAX_RATING_COMMENT_CHARS).collect();
            let rate = ClientMessage::Rate {
                conversation: Some(ConversationId::from("c".repeat(64))),
                score: MAX_RATING_SCORE,
                comment: Some(comment.clone()),
            };
            let json = serde_json::to_string(&ClientFrame {
                message: rate.clone(),
                request_ref: Some("r".repeat(MAX_REQUEST_REF_BYTES)),
            })
            .expect("serializes");
            assert!(json.len() <= MAX_FRAME_BYTES, "{} bytes", json.len());
            assert_eq!(ClientFrame::parse(&json).expect("parses").message, rate);
            let event = ServerMessage::Event {
                conversation: ConversationId::from("c".repeat(64)),
                event: Event {
                    seq: u64::MAX,
                    at: u64::MAX,
                    kind: EventKind::Rated {
                        score: MAX_RATING_SCORE,
                        comment: Some(comment),
                    },
                },
            };
            let json = serde_json::to_string(&event).expect("serializes");
            assert!(json.len() <= MAX_FRAME_BYTES, "{} bytes", json.len());
        }
        // A score is a small number on the wire: anything else is not a rating.
        assert!(ClientFrame::parse(r#"{"type":"rate","conversation":null,"score":300,"comment":null}"#).is_err());
        assert!(ClientFrame::parse(r#"{"type":"rate","conversation":null,"score":-1,"comment":null}"#).is_err());
        assert!(ClientFrame::parse(r#"{"type":"rate","conversation":null,"score":"5","comment":null}"#).is_err());
        let rated = serde_json::to_value(EventKind::Rated {
            score: 4,
            comment: None,
        })
        .expect("serializes");
        assert_eq!(rated, serde_json::json!({"kind": "rated", "score": 4, "comment": null}));
    }

    #[test]
    fn events_flatten_their_kind() {
        let event = Event {
            seq: 3,
            at: 1000,
            kind: EventKind::Closed {
                by: Role::Visitor,
                agent: None,
            },
        };
        let json = serde_json::to_value(&event).expect("serializes");
        assert_eq!(json["kind"], "closed");
        assert_eq!(json["seq"], 3);
        assert_eq!(json["by"], "visitor");
    }
}
