//! Consented streams: grants of the capabilities a visitor gives an agent beyond
//! screen sharing (co-browse, remote control, recording), and the control frames
//! of the stream sockets (`/ws/stream`) through which the relay carries their data.
//! `docs/protocol.md` describes the flow.

use serde::{Deserialize, Serialize};

use crate::{GrantId, StreamId};

/// What a visitor can grant an agent. Screen shares keep their own messages
/// (`share_*`); the others go through `grant_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// The visitor's screen, as WebRTC video.
    ScreenShare,
    /// The visitor's page, mirrored as DOM.
    Cobrowse,
    /// The agent acting on the visitor's page.
    RemoteControl,
    /// The session kept for later replay.
    Recording,
}

impl Capability {
    pub const ALL: [Capability; 4] = [
        Capability::ScreenShare,
        Capability::Cobrowse,
        Capability::RemoteControl,
        Capability::Recording,
    ];

    /// Whether the visitor's browser shows a picker after consent (the screen,
    /// window or tab to share).
    pub fn has_picker(self) -> bool {
        self == Capability::ScreenShare
    }

    /// Who sends the stream's data: the visitor (their page, their session) or,
    /// for remote control, the agent (its input).
    pub fn publisher(self) -> crate::Role {
        match self {
            Capability::RemoteControl => crate::Role::Agent,
            _ => crate::Role::Visitor,
        }
    }
}

/// Where a grant stands (the consent model's states; a screen share's are
/// [`crate::ShareState`], the same under older names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum GrantState {
    /// The agent asked; the visitor has not answered.
    Asked,
    /// The visitor allowed it; nothing flows yet.
    Allowed,
    /// The browser's picker is open (capabilities with a picker only).
    Choosing,
    /// It is on: the stream flows.
    Active,
    /// The visitor said no.
    Declined,
    /// Withdrawn before the visitor answered, or the picker closed without a choice.
    Cancelled,
    /// The visitor's browser could not do it.
    Failed,
    /// Stopped by either side or by the server.
    Ended,
}

impl GrantState {
    pub const ALL: [GrantState; 8] = [
        GrantState::Asked,
        GrantState::Allowed,
        GrantState::Choosing,
        GrantState::Active,
        GrantState::Declined,
        GrantState::Cancelled,
        GrantState::Failed,
        GrantState::Ended,
    ];

    /// Whether it is over.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            GrantState::Declined | GrantState::Cancelled | GrantState::Failed | GrantState::Ended
        )
    }

    /// Whether the visitor's consent stands, so that the capability's stream may
    /// flow.
    pub fn is_granted(self) -> bool {
        matches!(self, GrantState::Allowed | GrantState::Choosing | GrantState::Active)
    }
}

/// What the visitor reports of a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum GrantStep {
    /// The deliberate "Allow".
    Allow,
    /// "No thanks".
    Decline,
    /// The stream started.
    Start,
    /// The browser could not do it (`detail` says why).
    Fail,
    /// The visitor stopped it.
    Stop,
}

/// A conversation's grant, for lists and reconnecting clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct GrantSummary {
    pub id: GrantId,
    pub capability: Capability,
    pub state: GrantState,
    /// The grant's stream, once the visitor allowed it.
    pub stream: Option<StreamId>,
}

/// A socket's part in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum StreamRole {
    /// Sends the stream's data.
    Publisher,
    /// Receives it.
    Subscriber,
}

/// Text frames the relay sends on a stream socket. Data frames are binary, in both
/// directions, and the relay never reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamControl {
    /// The socket is in the stream.
    Joined {
        stream: StreamId,
        capability: Capability,
        role: StreamRole,
    },
    /// Subscriber: frames were lost (you fell behind, or the publisher's were
    /// refused); drop what you have and wait for the next full snapshot.
    Resync {
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        missed: u64,
    },
    /// Publisher: a subscriber needs a full snapshot (it joined, or fell behind).
    SnapshotNeeded,
    /// Publisher: a frame was refused (too large, or over the stream's rate).
    Refused { reason: String },
    /// Subscriber: whether the publisher is connected, on joining and on every
    /// change (a co-browsing tab that navigates is briefly away; one that left
    /// the site's pages stays away).
    Publisher { present: bool },
}

/// The tag of the co-browse stream's diagnostics: rrweb custom events (type 5)
/// whose payload is a [`DiagEntry`].
pub const DIAG_TAG: &str = "sightline/diag";
/// Longest text of a diagnostics entry (a message, a URL, a source), in characters.
pub const MAX_DIAG_TEXT_CHARS: usize = 500;

/// How bad a console message was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConsoleLevel {
    Error,
    Warn,
}

/// Something that went wrong on the co-browsed page, for the agent's diagnostics
/// panel. It travels inside the co-browse stream; the relay checks its shape (a
/// request's URL carries no query or fragment; texts are short). No request
/// bodies or headers, ever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum DiagEntry {
    /// `console.error` or `console.warn`.
    Console {
        /// When, in milliseconds since the epoch (the visitor's clock).
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        at: u64,
        level: ConsoleLevel,
        text: String,
    },
    /// An uncaught exception or unhandled rejection.
    Exception {
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        at: u64,
        text: String,
        /// Script and line, when known.
        source: Option<String>,
    },
    /// A request that failed (status 0 when it never got an answer).
    Network {
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        at: u64,
        method: String,
        /// Origin and path only.
        url: String,
        status: u16,
        /// How long it took, in milliseconds.
        #[cfg_attr(feature = "typescript", ts(type = "number"))]
        ms: u64,
    },
}

/// A spot on the visitor's page, as the agent pointed at it in the mirror: the
/// element under the pointer (its rrweb node id, the same on both sides) and the
/// spot within its box as fractions of its width and height, so that it lands on
/// the same spot of the same element whatever the two windows' sizes; and the
/// page coordinates (CSS pixels from the document's top left) as a fallback
/// when the element is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    pub node: Option<u32>,
    /// 0 (left edge) to 1 (right edge).
    pub fx: f32,
    /// 0 (top edge) to 1 (bottom edge).
    pub fy: f32,
    pub x: f32,
    pub y: f32,
}

/// What the agent shows on the visitor's page while co-browsing: sent by the
/// agent's console up its co-browse stream socket (docs/protocol.md,
/// "Guidance"), checked by the relay, passed to the visitor's co-browsing tab.
/// Nothing in it acts on the page: it is drawn over it, and the visitor's
/// clicks go through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum Guidance {
    /// The agent's pointer is here (`at: null`: it left the mirror).
    Pointer { at: Option<Anchor> },
    /// A click on the mirror: a ripple at the spot.
    Ping { at: Anchor },
    /// An outline around an element that follows it as the page scrolls
    /// (`node: null` takes it away).
    Highlight { node: Option<u32> },
    /// A freehand line the agent drew on the mirror, anchored to the element
    /// under its first point so that it scrolls with the page. Sent again with
    /// the same `id` as it grows (the newer replaces the older). At most
    /// [`MAX_STROKE_POINTS`](crate::MAX_STROKE_POINTS) points, each within
    /// [`MAX_STROKE_REACH`](crate::MAX_STROKE_REACH) of the anchor.
    Stroke {
        id: u32,
        /// Where the line starts.
        at: Anchor,
        /// The line's points as `dx, dy` pairs, in CSS pixels of the visitor's
        /// page from the anchor's place (the first pair is usually `0, 0`).
        points: Vec<i32>,
        /// An arrowhead at the last point.
        arrow: bool,
        /// Stays until cleared, instead of fading after [`DRAWING_FADE_MS`].
        pinned: bool,
    },
    /// Takes every drawing away.
    Clear {},
}

/// How long an unpinned drawing shows after its last change, in milliseconds,
/// on the visitor's page and in the agent's mirror alike.
pub const DRAWING_FADE_MS: u32 = 5000;

/// The tag of what the visitor's page tells the agent about drawings: rrweb
/// custom events (type 5) in the co-browse stream whose payload is a
/// [`DrawingsNotice`].
pub const DRAWINGS_TAG: &str = "sightline/drawings";

/// What the visitor did to the agent's drawings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum DrawingsNotice {
    /// The visitor's page shows none any more: the visitor cleared them, or
    /// the page began capturing (it was loaded, or loaded again) or went to
    /// another route. The agent's mirror clears its own.
    Cleared {},
}

/// What the agent does on the visitor's page while the visitor lets them
/// control it: sent by the agent's console as the publisher of the
/// remote-control stream (a JSON array of these, one frame), checked by the
/// relay ([`crate::MAX_CONTROL_BYTES`], [`crate::MAX_CONTROL_ITEMS`]) and
/// carried out by the visitor's widget, which refuses private and password
/// fields, file pickers, downloads and anything outside the page, and gives
/// way to the visitor. Each input has a number (`seq`) the widget answers
/// with a [`ControlResult`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum ControlInput {
    /// A click on the element under the spot (its node id; the page
    /// coordinates when the element is unknown).
    Click { seq: u32, at: Anchor },
    /// Text typed into the field the agent clicked last (at most
    /// [`crate::MAX_CONTROL_TEXT_CHARS`] characters).
    Text { seq: u32, text: String },
    /// A key that is not text, in that field.
    Key { seq: u32, key: ControlKey },
    /// An option chosen in a list box (`option`: its index).
    Select { seq: u32, node: u32, option: u32 },
    /// Scrolling by `dx`, `dy` CSS pixels: the element under `at` that can
    /// scroll, or the page.
    Scroll {
        seq: u32,
        at: Option<Anchor>,
        dx: i32,
        dy: i32,
    },
}

impl ControlInput {
    pub fn seq(&self) -> u32 {
        match self {
            ControlInput::Click { seq, .. }
            | ControlInput::Text { seq, .. }
            | ControlInput::Key { seq, .. }
            | ControlInput::Select { seq, .. }
            | ControlInput::Scroll { seq, .. } => *seq,
        }
    }
}

/// The keys an agent can press on the visitor's page besides text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub enum ControlKey {
    Backspace,
    Delete,
    Enter,
    Tab,
    ArrowLeft,
    ArrowRight,
    Home,
    End,
}

/// Why the visitor's widget did not carry out an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ControlRefusal {
    /// A private or password field (or inside a private part of the page).
    Private,
    /// It would open a file picker.
    FilePicker,
    /// It would download something, or leave the page for another site or scheme.
    OutsidePage,
    /// The element is not on the page (any more).
    NotFound,
    /// No field to type into: the agent has not clicked one.
    NoField,
    /// The element is disabled or read-only.
    Disabled,
    /// The visitor is using the page right now: they come first.
    VisitorActive,
}

/// The visitor's widget's answer to a [`ControlInput`], sent back up the
/// remote-control stream (a JSON array of these, one frame).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ControlResult {
    pub seq: u32,
    /// `null`: done.
    pub refused: Option<ControlRefusal>,
}

/// What remote control did, as the visitor's widget reports it for the
/// conversation's history: a verb and the element's name (its label, its text
/// or its role; never what was typed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ControlAction {
    pub verb: ControlVerb,
    /// At most [`crate::MAX_CONTROL_TARGET_CHARS`] characters.
    pub target: String,
    /// Set when the widget refused.
    pub refused: Option<ControlRefusal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ControlVerb {
    Click,
    Type,
    Choose,
    Submit,
}

/// A drawing of the agent's over a screen share, sent peer to peer on the
/// share's data channel (`ink`, negotiated with id 0, so it exists only inside
/// a share the visitor consented to) as JSON. Points are spots of the shared
/// picture in ten-thousandths of its width and height (`x0, y0, x1, y1, …`, at
/// most [`crate::MAX_INK_POINTS`] pairs), so they land on the same place of the
/// picture at any size. The visitor's widget draws them over its preview and,
/// when the visitor shares this very tab, over the page; they fade after a few
/// seconds unless pinned. Nothing in it acts on anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum ShareInk {
    /// A freehand line (`arrow`: with a head at its end).
    Stroke {
        id: u32,
        points: Vec<u16>,
        arrow: bool,
        pinned: bool,
    },
    /// Every drawing goes.
    Clear {},
}

/// A screen share's state is the consent model's under older names.
impl From<crate::ShareState> for GrantState {
    fn from(state: crate::ShareState) -> Self {
        use crate::ShareState as W;
        match state {
            W::Invited => GrantState::Asked,
            W::Accepted => GrantState::Allowed,
            W::Choosing => GrantState::Choosing,
            W::Sharing => GrantState::Active,
            W::Declined => GrantState::Declined,
            W::Cancelled => GrantState::Cancelled,
            W::Failed => GrantState::Failed,
            W::Ended => GrantState::Ended,
        }
    }
}

impl From<GrantState> for crate::ShareState {
    fn from(state: GrantState) -> Self {
        use crate::ShareState as W;
        match state {
            GrantState::Asked => W::Invited,
            GrantState::Allowed => W::Accepted,
            GrantState::Choosing => W::Choosing,
            GrantState::Active => W::Sharing,
            GrantState::Declined => W::Declined,
            GrantState::Cancelled => W::Cancelled,
            GrantState::Failed => W::Failed,
            GrantState::Ended => W::Ended,
        }
    }
}
