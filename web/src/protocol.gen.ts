// Generated from crates/proto by `cargo xtask codegen`. Do not edit.

export type ConversationId = string;

export type ShareId = string;

export type GrantId = string;

export type StreamId = string;

export type ImageId = string;

export type ScreenshotId = string;

export type AgentId = number;

export type Role = "visitor" | "agent";

export type AgentRef = { id: AgentId, display_name: string, 
/**
 * The colour of their initials, when they chose one (else the site's own).
 */
colour?: AvatarColour, };

export type AgentPresence = { agent: AgentRef, 
/**
 * They said they are away (they still get conversations handed to them).
 */
away: boolean, };

export type InviteRole = "observer" | "participant";

export type Invitee = { agent: AgentRef, role: InviteRole, };

export type PageInfo = { url: string, title: string, };

export type VisitorDevice = { 
/**
 * The browser offers screen capture (`getDisplayMedia`); phones do not.
 */
can_share_screen: boolean, 
/**
 * The page can be co-browsed (the widget can record it).
 */
can_cobrowse: boolean, 
/**
 * A touch screen with no fine pointer (a phone or tablet).
 */
touch: boolean, 
/**
 * The visitor's time zone, an IANA name such as `Europe/Berlin`.
 */
time_zone?: string, 
/**
 * Minutes ahead of UTC (e.g. 60 in Berlin in winter), for the visitor's local time.
 */
utc_offset_minutes: number, };

export type VisitorContext = { 
/**
 * The page of their newest hello or page change, in any of their tabs.
 */
page: PageInfo | null, 
/**
 * Browser and operating system, read by the server from the User-Agent
 * header (e.g. "Firefox 153", "Windows 10"); informative, not proof.
 */
browser: string | null, os: string | null, 
/**
 * What their widget said its browser can do.
 */
device: VisitorDevice | null, };

export type VisitorIdentity = { 
/**
 * The site's user id (at most [`MAX_IDENTITY_ID_BYTES`] bytes).
 */
id: string, 
/**
 * At most [`MAX_IDENTITY_NAME_CHARS`] characters.
 */
name: string | null, 
/**
 * Checked for shape like a left address, at most [`MAX_EMAIL_BYTES`] bytes.
 */
email: string | null, };

export type MessageBody = { "kind": "text", text: string, } | { "kind": "link", url: string, title: string | null, } | { "kind": "image", image: ImageRef, };

export type ImageRef = { id: ImageId, 
/**
 * `image/png`, `image/jpeg`, `image/webp` or `image/gif`, from the content.
 */
mime: string, 
/**
 * Size in pixels as shown (a JPEG's EXIF orientation applied, as browsers do).
 */
width: number, height: number, 
/**
 * Size of the original, in bytes.
 */
bytes: number, 
/**
 * The thumbnail's size (it fits in [`THUMB_MAX_SIDE`] square).
 */
thumb_width: number, thumb_height: number, 
/**
 * Whether vector annotations are kept with the image
 * (`GET /api/images/{id}/annotations`, agents only).
 */
has_annotations: boolean, 
/**
 * The image this one was annotated from, when it is an edited copy.
 */
source_image: ImageId | null, };

export type ConversationStatus = "waiting" | "active" | "closed";

export type EventKind = { "kind": "started", page: PageInfo | null, } | { "kind": "message", from: Role, agent: AgentRef | null, client_id: string, body: MessageBody, } | { "kind": "agent_joined", agent: AgentRef, } | { "kind": "closed", by: Role, agent: AgentRef | null, } | { "kind": "share", share: ShareId, state: ShareState, by: Role, agent: AgentRef | null, message: string | null, detail: string | null, } | { "kind": "screenshot", request: ScreenshotId, state: ScreenshotState, agent: AgentRef | null, message: string | null, } | { "kind": "joined_with_key", agent: AgentRef, } | { "kind": "page_viewed", page: PageInfo, } | { "kind": "grant", grant: GrantId, capability: Capability, state: GrantState, by: Role, agent: AgentRef | null, message: string | null, detail: string | null, } | { "kind": "control", agent: AgentRef | null, action: ControlAction, } | { "kind": "page_pushed", agent: AgentRef, url: string, } | { "kind": "email_left", email: string, } | { "kind": "identified", identity: VisitorIdentity, } | { "kind": "note", agent: AgentRef, client_id: string, text: string, } | { "kind": "transferred", by: AgentRef, agent: AgentRef | null, note: string | null, } | { "kind": "rated", score: number, comment: string | null, } | { "kind": "agent_invited", agent: AgentRef, role: InviteRole, by: AgentRef, note: string | null, } | { "kind": "agent_left", agent: AgentRef, role: InviteRole, by: AgentRef, };

export type Event = { 
/**
 * 1-based, gap-free, assigned by the server in order of arrival.
 */
seq: number, 
/**
 * Server time in milliseconds since the Unix epoch.
 */
at: number, } & ({ "kind": "started", page: PageInfo | null, } | { "kind": "message", from: Role, agent: AgentRef | null, client_id: string, body: MessageBody, } | { "kind": "agent_joined", agent: AgentRef, } | { "kind": "closed", by: Role, agent: AgentRef | null, } | { "kind": "share", share: ShareId, state: ShareState, by: Role, agent: AgentRef | null, message: string | null, detail: string | null, } | { "kind": "screenshot", request: ScreenshotId, state: ScreenshotState, agent: AgentRef | null, message: string | null, } | { "kind": "joined_with_key", agent: AgentRef, } | { "kind": "page_viewed", page: PageInfo, } | { "kind": "grant", grant: GrantId, capability: Capability, state: GrantState, by: Role, agent: AgentRef | null, message: string | null, detail: string | null, } | { "kind": "control", agent: AgentRef | null, action: ControlAction, } | { "kind": "page_pushed", agent: AgentRef, url: string, } | { "kind": "email_left", email: string, } | { "kind": "identified", identity: VisitorIdentity, } | { "kind": "note", agent: AgentRef, client_id: string, text: string, } | { "kind": "transferred", by: AgentRef, agent: AgentRef | null, note: string | null, } | { "kind": "rated", score: number, comment: string | null, } | { "kind": "agent_invited", agent: AgentRef, role: InviteRole, by: AgentRef, note: string | null, } | { "kind": "agent_left", agent: AgentRef, role: InviteRole, by: AgentRef, });

export type ConversationSummary = { id: ConversationId, status: ConversationStatus, agent: AgentRef | null, created_at: number, last_seq: number, last_activity_at: number, 
/**
 * The start of the newest message, for lists.
 */
preview: string | null, page: PageInfo | null, 
/**
 * Whether the visitor has a live connection right now.
 */
visitor_online: boolean, 
/**
 * The conversation's newest screen share, if any.
 */
share: ShareSummary | null, 
/**
 * The conversation's newest grant of each other capability.
 */
grants: Array<GrantSummary>, 
/**
 * The e-mail address the visitor left to be answered at (the newest
 * [`EventKind::EmailLeft`]).
 */
visitor_email?: string, 
/**
 * Who the host site says the visitor is (the newest [`EventKind::Identified`]).
 * Boxed: most visitors are anonymous, and summaries travel inside every
 * hub input and output.
 */
visitor_identity?: VisitorIdentity, 
/**
 * The visitor's browser, device and current page, while the hub knows them.
 * Boxed: most summaries travel without it, and every message that carries a
 * summary would otherwise pay for its size.
 */
visitor?: VisitorContext, 
/**
 * The conversation's newest screenshot request (live, like `share`).
 */
screenshot?: ScreenshotSummary, 
/**
 * The visitor's rating of the closed conversation, 1 to
 * [`MAX_RATING_SCORE`] (the [`EventKind::Rated`] event has the comment).
 */
rating?: number, 
/**
 * The agents the owner invited in, by agent id (at most
 * [`MAX_INVITEES`]); only while the conversation is active.
 */
invitees?: Array<Invitee>, };

export type ClientMessage = { "type": "visitor_hello", protocol: number, token: string | null, 
/**
 * Replay events after this sequence number (0 for the whole transcript).
 */
after_seq: number, page: PageInfo | null, 
/**
 * What this browser can do (absent from older widgets).
 */
device?: VisitorDevice, } | { "type": "agent_hello", protocol: number, away?: boolean, } | { "type": "set_away", away: boolean, } | { "type": "leave_email", email: string, } | { "type": "identify", id: string, name: string | null, email: string | null, signature: string, } | { "type": "sync", conversation: ConversationId, after_seq: number, } | { "type": "send", conversation: ConversationId | null, client_id: string, body: MessageBody, } | { "type": "typing", conversation: ConversationId | null, active: boolean, } | { "type": "accept", conversation: ConversationId, } | { "type": "close", conversation: ConversationId | null, } | { "type": "ping", nonce: number, } | { "type": "share_invite", conversation: ConversationId, message: string | null, } | { "type": "share_progress", share: ShareId, step: ShareStep, detail: string | null, } | { "type": "share_end", share: ShareId, } | { "type": "screenshot_ask", conversation: ConversationId, message: string | null, } | { "type": "screenshot_end", request: ScreenshotId, } | { "type": "share_signal", share: ShareId, signal: Signal, } | { "type": "share_key_create", capability?: Capability, } | { "type": "share_key_redeem", key: string, } | { "type": "grant_ask", conversation: ConversationId, capability: Capability, message: string | null, } | { "type": "grant_step", grant: GrantId, step: GrantStep, detail: string | null, } | { "type": "grant_end", grant: GrantId, } | { "type": "stream_join", stream: StreamId, } | { "type": "page_changed", page: PageInfo, } | { "type": "control_report", grant: GrantId, action: ControlAction, } | { "type": "push_page", conversation: ConversationId, url: string, } | { "type": "note", conversation: ConversationId, client_id: string, text: string, } | { "type": "list_agents" } | { "type": "transfer", conversation: ConversationId, to: AgentId | null, note: string | null, } | { "type": "rate", conversation: ConversationId | null, score: number, comment: string | null, } | { "type": "invite", conversation: ConversationId, agent: AgentId, role: InviteRole, note: string | null, } | { "type": "uninvite", conversation: ConversationId, agent: AgentId, } | { "type": "leave", conversation: ConversationId, };

export type ClientFrame = { ref?: string, } & ({ "type": "visitor_hello", protocol: number, token: string | null, 
/**
 * Replay events after this sequence number (0 for the whole transcript).
 */
after_seq: number, page: PageInfo | null, 
/**
 * What this browser can do (absent from older widgets).
 */
device?: VisitorDevice, } | { "type": "agent_hello", protocol: number, away?: boolean, } | { "type": "set_away", away: boolean, } | { "type": "leave_email", email: string, } | { "type": "identify", id: string, name: string | null, email: string | null, signature: string, } | { "type": "sync", conversation: ConversationId, after_seq: number, } | { "type": "send", conversation: ConversationId | null, client_id: string, body: MessageBody, } | { "type": "typing", conversation: ConversationId | null, active: boolean, } | { "type": "accept", conversation: ConversationId, } | { "type": "close", conversation: ConversationId | null, } | { "type": "ping", nonce: number, } | { "type": "share_invite", conversation: ConversationId, message: string | null, } | { "type": "share_progress", share: ShareId, step: ShareStep, detail: string | null, } | { "type": "share_end", share: ShareId, } | { "type": "screenshot_ask", conversation: ConversationId, message: string | null, } | { "type": "screenshot_end", request: ScreenshotId, } | { "type": "share_signal", share: ShareId, signal: Signal, } | { "type": "share_key_create", capability?: Capability, } | { "type": "share_key_redeem", key: string, } | { "type": "grant_ask", conversation: ConversationId, capability: Capability, message: string | null, } | { "type": "grant_step", grant: GrantId, step: GrantStep, detail: string | null, } | { "type": "grant_end", grant: GrantId, } | { "type": "stream_join", stream: StreamId, } | { "type": "page_changed", page: PageInfo, } | { "type": "control_report", grant: GrantId, action: ControlAction, } | { "type": "push_page", conversation: ConversationId, url: string, } | { "type": "note", conversation: ConversationId, client_id: string, text: string, } | { "type": "list_agents" } | { "type": "transfer", conversation: ConversationId, to: AgentId | null, note: string | null, } | { "type": "rate", conversation: ConversationId | null, score: number, comment: string | null, } | { "type": "invite", conversation: ConversationId, agent: AgentId, role: InviteRole, note: string | null, } | { "type": "uninvite", conversation: ConversationId, agent: AgentId, } | { "type": "leave", conversation: ConversationId, });

export type ServerMessage = { "type": "visitor_welcome", protocol: number, 
/**
 * The token to keep; differs from the one sent when the server issued a new one.
 */
token: string, 
/**
 * The visitor's current (or most recent) conversation, if any.
 */
conversation: ConversationSummary | null, 
/**
 * Whether any agent is available now (see [`ServerMessage::Availability`]).
 */
agents_available: boolean, 
/**
 * The site policy's private selectors (see [`SitePolicy::private_selectors`]):
 * the widget keeps what they match out of co-browsing and screen shares.
 */
private_selectors: Array<string>, } | { "type": "privacy_changed", private_selectors: Array<string>, } | { "type": "agent_welcome", protocol: number, agent: AgentRef, is_admin: boolean, conversations: Array<ConversationSummary>, 
/**
 * Whether this agent is away (as their hello said, or another of their
 * consoles set since).
 */
away: boolean, 
/**
 * What this agent may use now: their own permissions and the site
 * policy's together. The server refuses the rest whatever the console shows.
 */
permissions: Permissions, 
/**
 * Whether it is within the office hours (always true without any):
 * outside them visitors are told no one is available, whoever is online.
 */
office_open: boolean, } | { "type": "office_hours", open: boolean, } | { "type": "permissions_changed", permissions: Permissions, } | { "type": "availability", agents_available: boolean, } | { "type": "identified", identity: VisitorIdentity, } | { "type": "away_changed", away: boolean, } | { "type": "event", conversation: ConversationId, event: Event, } | { "type": "ack", conversation: ConversationId, client_id: string, seq: number, } | { "type": "typing", conversation: ConversationId, from: Role, active: boolean, } | { "type": "conversation_updated", conversation: ConversationSummary, } | { "type": "synced", conversation: ConversationId, last_seq: number, } | { "type": "share_setup", conversation: ConversationId, share: ShareId, setup: ShareSetup, } | { "type": "share_signal", conversation: ConversationId, share: ShareId, from: Role, signal: Signal, } | { "type": "share_key_created", key: string, expires_at: number, } | { "type": "stream_granted", conversation: ConversationId, grant: GrantId, stream: StreamId, capability: Capability, role: StreamRole, token: string, expires_at: number, } | { "type": "conversation_changed", conversation: ConversationSummary, } | { "type": "agents", agents: Array<AgentPresence>, } | { "type": "pong", nonce: number, } | { "type": "error", code: ErrorCode, message: string, client_id: string | null, ref?: string, };

export type ErrorCode = "bad_request" | "too_large" | "not_authenticated" | "forbidden" | "not_found" | "invalid_state" | "rate_limited" | "unsupported_version" | "internal";

export type ShareState = "invited" | "accepted" | "choosing" | "sharing" | "declined" | "cancelled" | "failed" | "ended";

export type ShareSummary = { id: ShareId, state: ShareState, };

export type ShareStep = "accepted" | "declined" | "choosing" | "sharing" | "cancelled" | "failed" | "stopped";

export type ScreenshotState = "asked" | "sent" | "declined" | "withdrawn" | "ended";

export type ScreenshotSummary = { id: ScreenshotId, state: ScreenshotState, };

export type ShareMode = "text" | "motion";

export type IceServer = { urls: Array<string>, username: string | null, credential: string | null, };

export type ShareLimits = { 
/**
 * `RTCRtpEncodingParameters.maxBitrate`, bits per second.
 */
max_bitrate_bps: number, 
/**
 * Frame rate in text mode.
 */
text_fps: number, 
/**
 * Frame rate in motion mode.
 */
motion_fps: number, };

export type ShareSetup = { ice_servers: Array<IceServer>, 
/**
 * `"all"`, or `"relay"` to force TURN.
 */
ice_transport_policy: string, limits: ShareLimits, mode: ShareMode, };

export type Signal = { "kind": "description", type: string, sdp: string, } | { "kind": "candidate", candidate: string, sdp_mid: string | null, sdp_m_line_index: number | null, username_fragment: string | null, } | { "kind": "restart_request" } | { "kind": "mode", mode: ShareMode, };

export type Capability = "screen_share" | "cobrowse" | "remote_control" | "recording";

export type Permissions = { 
/**
 * Invite the visitor to share their screen.
 */
screen_share: boolean, 
/**
 * Ask the visitor to co-browse.
 */
cobrowse: boolean, 
/**
 * Ask for remote control during co-browsing.
 */
remote_control: boolean, 
/**
 * Create session keys (for callers without a chat).
 */
session_keys: boolean, };

export type SitePolicy = { 
/**
 * What any agent may use at all: a capability turned off here is off for
 * everyone, whatever their own permissions say.
 */
allowed: Permissions, 
/**
 * CSS selectors of elements the widget keeps private on every page, on top of
 * those marked `data-sightline-private`: never mirrored in co-browsing, blacked
 * out of screen shares. At most [`MAX_PRIVATE_SELECTORS`], each at most
 * [`MAX_PRIVATE_SELECTOR_BYTES`] (see [`check_private_selector`]).
 */
private_selectors: Array<string>, };

export type GrantState = "asked" | "allowed" | "choosing" | "active" | "declined" | "cancelled" | "failed" | "ended";

export type GrantStep = "allow" | "decline" | "start" | "fail" | "stop";

export type GrantSummary = { id: GrantId, capability: Capability, state: GrantState, 
/**
 * The grant's stream, once the visitor allowed it.
 */
stream: StreamId | null, };

export type StreamRole = "publisher" | "subscriber";

export type StreamControl = { "type": "joined", stream: StreamId, capability: Capability, role: StreamRole, } | { "type": "resync", missed: number, } | { "type": "snapshot_needed" } | { "type": "refused", reason: string, } | { "type": "publisher", present: boolean, };

export type DiagEntry = { "kind": "console", 
/**
 * When, in milliseconds since the epoch (the visitor's clock).
 */
at: number, level: ConsoleLevel, text: string, } | { "kind": "exception", at: number, text: string, 
/**
 * Script and line, when known.
 */
source: string | null, } | { "kind": "network", at: number, method: string, 
/**
 * Origin and path only.
 */
url: string, status: number, 
/**
 * How long it took, in milliseconds.
 */
ms: number, };

export type Anchor = { node: number | null, 
/**
 * 0 (left edge) to 1 (right edge).
 */
fx: number, 
/**
 * 0 (top edge) to 1 (bottom edge).
 */
fy: number, x: number, y: number, };

export type Guidance = { "kind": "pointer", at: Anchor | null, } | { "kind": "ping", at: Anchor, } | { "kind": "highlight", node: number | null, } | { "kind": "stroke", id: number, 
/**
 * Where the line starts.
 */
at: Anchor, 
/**
 * The line's points as `dx, dy` pairs, in CSS pixels of the visitor's
 * page from the anchor's place (the first pair is usually `0, 0`).
 */
points: Array<number>, 
/**
 * An arrowhead at the last point.
 */
arrow: boolean, 
/**
 * Stays until cleared, instead of fading after [`DRAWING_FADE_MS`].
 */
pinned: boolean, } | { "kind": "clear", };

export type DrawingsNotice = { "kind": "cleared", };

export type ControlInput = { "kind": "click", seq: number, at: Anchor, } | { "kind": "text", seq: number, text: string, } | { "kind": "key", seq: number, key: ControlKey, } | { "kind": "select", seq: number, node: number, option: number, } | { "kind": "scroll", seq: number, at: Anchor | null, dx: number, dy: number, };

export type ControlKey = "Backspace" | "Delete" | "Enter" | "Tab" | "ArrowLeft" | "ArrowRight" | "Home" | "End";

export type ControlRefusal = "private" | "file_picker" | "outside_page" | "not_found" | "no_field" | "disabled" | "visitor_active";

export type ControlResult = { seq: number, 
/**
 * `null`: done.
 */
refused: ControlRefusal | null, };

export type ControlAction = { verb: ControlVerb, 
/**
 * At most [`crate::MAX_CONTROL_TARGET_CHARS`] characters.
 */
target: string, 
/**
 * Set when the widget refused.
 */
refused: ControlRefusal | null, };

export type ControlVerb = "click" | "type" | "choose" | "submit";

export type ShareInk = { "kind": "stroke", id: number, points: Array<number>, arrow: boolean, pinned: boolean, } | { "kind": "clear", };

export type ConsoleLevel = "error" | "warn";

export type LoginRequest = { name: string, password: string, };

export type Me = { user: UserInfo, 
/**
 * Send back in the `x-csrf-token` header of every state-changing request.
 */
csrf_token: string, };

export type UserInfo = { id: AgentId, name: string, display_name: string, is_admin: boolean, disabled: boolean, created_at: number, 
/**
 * The password was made up by the server (the first admin's): until the user
 * chooses their own, they may only change it, read `/api/me` or log out.
 */
must_change_password: boolean, 
/**
 * The colour of their initials wherever they are shown; `None`: the default.
 */
colour: AvatarColour | null, 
/**
 * The capabilities an admin allows this agent (the site policy may turn
 * more off for everyone).
 */
permissions: Permissions, };

export type CreateUserRequest = { name: string, display_name: string | null, password: string, is_admin: boolean, };

export type SetPasswordRequest = { current: string | null, password: string, };

export type UpdateUserRequest = { display_name: string | null, is_admin: boolean | null, disabled: boolean | null, 
/**
 * Replaces the agent's permissions; applies at once to their open consoles.
 */
permissions: Permissions | null, };

export type AvatarColour = "blue" | "teal" | "green" | "amber" | "red" | "pink" | "purple" | "slate";

export type ProfileRequest = { display_name: string, colour: AvatarColour | null, };

export type ConversationPage = { conversations: Array<ConversationSummary>, 
/**
 * Pass as `before` to get the next page; absent on the last page.
 */
next_before: number | null, };

export type Transcript = { conversation: ConversationSummary, events: Array<Event>, };

export type ApiError = { error: string, message: string, };

export type UploadedImage = { image: ImageRef, conversation: ConversationId, seq: number, };

export type ImageAnnotations = { annotations: unknown, };

export type SiteSettings = { 
/**
 * `widget.js` on this server, for the snippet.
 */
widget_url: string, 
/**
 * The origins in the configuration (`allowed_origins`): changed only there.
 */
configured_origins: Array<string>, 
/**
 * The origins added in the console, stored in the database.
 */
stored_origins: Array<string>, 
/**
 * Origins the widget was refused on since the server started, most recent first.
 */
refused_origins: Array<RefusedOrigin>, };

export type RefusedOrigin = { origin: string, first_at: number, last_at: number, count: number, };

export type SiteOriginRequest = { origin: string, };

export type SavedReply = { id: number, 
/**
 * Lowercase letters, digits, `-` and `_`; unique in the team.
 */
shortcut: string, title: string, body: string, 
/**
 * Who wrote it: its author and admins may change or delete it.
 */
created_by: AgentId | null, updated_at: number, };

export type SavedReplyRequest = { shortcut: string, title: string, body: string, };

export const PROTOCOL_VERSION = 1;
export const MAX_TEXT_CHARS = 4000;
export const MAX_SHORTCUT_CHARS = 32;
export const MAX_SAVED_REPLY_TITLE_CHARS = 100;
export const MAX_URL_BYTES = 2048;
export const MAX_CLIENT_ID_BYTES = 64;
export const MAX_REQUEST_REF_BYTES = 64;
export const SESSION_KEY_DIGITS = 9;
export const MAX_PRIVATE_SELECTORS = 32;
export const MAX_PRIVATE_SELECTOR_BYTES = 200;
export const MAX_FRAME_BYTES = 65536;
export const DEFAULT_MAX_IMAGE_BYTES = 10485760;
export const MAX_IMAGE_PIXELS = 40000000;
export const MAX_IMAGE_SIDE = 16384;
export const THUMB_MAX_SIDE = 320;
export const MAX_ANNOTATIONS_BYTES = 262144;
export const MAX_STREAM_FRAME_BYTES = 1048576;
export const STREAM_FRAME_VERSION = 1;
export const STREAM_HEADER_BYTES = 10;
export const STREAM_CHUNK_BYTES = 262144;
export const STREAM_MAX_CHUNKS = 64;
export const STREAM_MAX_MESSAGE_BYTES = 16777216;
export const STREAM_MAX_ITEMS = 10000;
export const DIAG_TAG = "sightline/diag";
export const MAX_DIAG_TEXT_CHARS = 500;
export const MAX_GUIDANCE_BYTES = 8192;
export const MAX_GUIDANCE_ITEMS = 32;
export const MAX_STROKE_POINTS = 256;
export const MAX_STROKE_REACH = 16384;
export const MAX_DRAWINGS = 200;
export const DRAWING_FADE_MS = 5000;
export const DRAWINGS_TAG = "sightline/drawings";
export const MAX_PAGE_URL_CHARS = 2048;
export const MAX_CONTROL_BYTES = 8192;
export const MAX_CONTROL_ITEMS = 32;
export const MAX_CONTROL_TEXT_CHARS = 256;
export const MAX_CONTROL_TARGET_CHARS = 80;
export const MAX_PUSH_URL_BYTES = 2048;
export const MAX_INK_POINTS = 512;
export const MAX_RATING_SCORE = 5;
export const MAX_RATING_COMMENT_CHARS = 1000;
