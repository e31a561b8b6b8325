//! Size limits that both sides enforce. The server is the authority; clients check
//! the same numbers only to give a friendly message before sending.

/// Longest text message, in Unicode scalar values (what JavaScript's
/// `[...text].length` counts).
pub const MAX_TEXT_CHARS: usize = 4000;
/// Most agents invited into one conversation at once (besides its owner).
pub const MAX_INVITEES: usize = 5;
/// Longest URL in a link message, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Longest link title, in characters.
pub const MAX_LINK_TITLE_CHARS: usize = 200;
/// Longest client-chosen message id, in bytes.
pub const MAX_CLIENT_ID_BYTES: usize = 64;
/// Longest request reference (`ref`) a client may attach to a frame, in bytes.
pub const MAX_REQUEST_REF_BYTES: usize = 64;
/// Digits in a session key (read out over the phone, typed in groups of three).
pub const SESSION_KEY_DIGITS: usize = 9;
/// Largest WebSocket frame the server accepts, in bytes. A 4,000-character message
/// of 4-byte characters, JSON-escaped, fits comfortably.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Longest page URL or title reported by the widget, in bytes.
pub const MAX_PAGE_FIELD_BYTES: usize = 2048;
/// An e-mail address a visitor leaves (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// The host site's id of an identified visitor (`Sightline.identify`), in bytes.
pub const MAX_IDENTITY_ID_BYTES: usize = 128;
/// An identified visitor's name as the host site gives it, in characters.
pub const MAX_IDENTITY_NAME_CHARS: usize = 100;
/// An identity's signature: HMAC-SHA256 as lowercase or uppercase hex.
pub const IDENTITY_SIGNATURE_HEX_CHARS: usize = 64;
/// A time zone's name as a widget reports it.
pub const MAX_TIME_ZONE_BYTES: usize = 64;
/// Longest visitor token, in bytes.
pub const MAX_TOKEN_BYTES: usize = 128;
/// Longest SDP in a signaling message, in bytes.
pub const MAX_SDP_BYTES: usize = 32 * 1024;
/// Longest ICE candidate line, in bytes.
pub const MAX_CANDIDATE_BYTES: usize = 1024;
/// Longest share invitation text, in characters.
pub const MAX_INVITATION_CHARS: usize = 500;
/// Longest failure description a visitor's browser reports, in characters.
pub const MAX_SHARE_DETAIL_CHARS: usize = 300;
/// Default largest image upload, in bytes (the server's `--max-image-bytes`).
pub const DEFAULT_MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
/// Most pixels (width × height) an accepted image may have: 40 megapixels, checked
/// from the header before anything is decoded.
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;
/// Most memory one image may take decoded, in bytes: pixels × bytes per pixel (4
/// for 8-bit RGBA, 8 for 16-bit RGBA). 32 megapixels of RGBA, 44 of RGB.
pub const MAX_IMAGE_DECODED_BYTES: u64 = 128 * 1024 * 1024;
/// Longest side an accepted image may have, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 16_384;
/// Thumbnails fit in a square of this side, in pixels.
pub const THUMB_MAX_SIDE: u32 = 320;
/// Largest annotations document kept with an image, in bytes of JSON.
pub const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;
/// Largest data frame on a stream socket, in bytes. A larger payload (a full page
/// snapshot can be several MB) is sent in chunks of at most this size.
pub const MAX_STREAM_FRAME_BYTES: usize = 1024 * 1024;
/// Version of the stream frame header (docs/protocol.md, "Stream messages").
pub const STREAM_FRAME_VERSION: u8 = 1;
/// Bytes of a stream frame's header: version, flags, message number (u32), chunk
/// index (u16), chunk count (u16), all big-endian.
pub const STREAM_HEADER_BYTES: usize = 10;
/// Most payload bytes one stream frame carries (one chunk of a message).
pub const STREAM_CHUNK_BYTES: usize = 256 * 1024;
/// Most chunks one stream message is cut into.
pub const STREAM_MAX_CHUNKS: usize = 64;
/// Largest stream message, in bytes, as sent and (when compressed) once inflated.
pub const STREAM_MAX_MESSAGE_BYTES: usize = STREAM_MAX_CHUNKS * STREAM_CHUNK_BYTES;
/// Longest page URL a co-browse meta event carries, in characters (the widget
/// cuts longer ones; the relay refuses over four bytes a character).
pub const MAX_PAGE_URL_CHARS: usize = 2048;
/// Most items (rrweb events) in one co-browse message.
pub const STREAM_MAX_ITEMS: usize = 10_000;
/// Largest guidance message an agent sends up its co-browse stream, in bytes.
pub const MAX_GUIDANCE_BYTES: usize = 8 * 1024;
/// Most guidance items in one message.
pub const MAX_GUIDANCE_ITEMS: usize = 32;
/// Most points (`dx, dy` pairs) in one drawn stroke; a longer line goes on as
/// another stroke.
pub const MAX_STROKE_POINTS: usize = 256;
/// Farthest a stroke's point lies from its anchor, in CSS pixels along each axis.
pub const MAX_STROKE_REACH: i32 = 16_384;
/// Most drawings each side keeps at once (past that the oldest goes).
pub const MAX_DRAWINGS: usize = 200;
/// How long a stream token opens its stream socket, in milliseconds.
pub const STREAM_TOKEN_TTL_MS: u64 = 60_000;
/// Longest grant request text, in characters.
pub const MAX_GRANT_MESSAGE_CHARS: usize = 500;
/// Largest remote-control message (one frame, uncompressed), either way.
pub const MAX_CONTROL_BYTES: usize = 8 * 1024;
/// Most inputs (or results) in one remote-control message.
pub const MAX_CONTROL_ITEMS: usize = 32;
/// Longest text typed in one input.
pub const MAX_CONTROL_TEXT_CHARS: usize = 256;
/// Longest element name in a reported remote action.
pub const MAX_CONTROL_TARGET_CHARS: usize = 80;
/// Longest address the agent can send the visitor to.
pub const MAX_PUSH_URL_BYTES: usize = 2048;
/// Most points in one drawing over a screen share.
pub const MAX_INK_POINTS: usize = 512;
/// Most saved replies a team keeps.
pub const MAX_SAVED_REPLIES: usize = 500;
/// Longest saved-reply shortcut (what follows the `/`), in characters: lowercase
/// letters, digits, `-` and `_`.
pub const MAX_SHORTCUT_CHARS: usize = 32;
/// Longest saved-reply title, in characters.
pub const MAX_SAVED_REPLY_TITLE_CHARS: usize = 100;
/// The best score of a visitor's rating (the worst is 1).
pub const MAX_RATING_SCORE: u8 = 5;
/// Longest comment with a visitor's rating, in characters.
pub const MAX_RATING_COMMENT_CHARS: usize = 1000;
