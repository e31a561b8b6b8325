//! What a stream's publisher sends, checked before the relay passes it on: the
//! frame header, the order of a message's chunks, the message's size, and its
//! content for the stream's capability (a co-browse message is a JSON array of
//! rrweb events of known types). Pure functions and one small state machine per
//! publishing socket; the relay does the I/O.
//!
//! A frame (docs/protocol.md, "Stream messages") is a 10-byte header and one
//! chunk of a message:
//!
//! ```text
//! 0      version (STREAM_FRAME_VERSION)
//! 1      flags: bit 0 = the message is deflate-raw compressed; no other bits
//! 2..5   message number (u32, big-endian)
//! 6..7   this chunk's index (u16)
//! 8..9   the message's number of chunks (u16, 1..=STREAM_MAX_CHUNKS)
//! ```
//!
//! The chunks of a message come in order on one socket, one message after the
//! other. The relay forwards every chunk but a message's last as it arrives, and
//! the last only once the whole message passed [`check_message`]; a subscriber
//! that got the first chunks of a refused message is told to resynchronise and
//! drops them.

use std::io::Read;

use serde::Deserialize;
use sightline_proto::{
    Anchor, Capability, ControlInput, ControlResult, DiagEntry, DrawingsNotice, Guidance, DIAG_TAG, DRAWINGS_TAG,
    MAX_CONTROL_BYTES, MAX_CONTROL_ITEMS, MAX_CONTROL_TEXT_CHARS, MAX_DIAG_TEXT_CHARS, MAX_GUIDANCE_BYTES,
    MAX_GUIDANCE_ITEMS, MAX_PAGE_URL_CHARS, MAX_STROKE_POINTS, MAX_STROKE_REACH, STREAM_CHUNK_BYTES,
    STREAM_FRAME_VERSION, STREAM_HEADER_BYTES, STREAM_MAX_CHUNKS, STREAM_MAX_ITEMS, STREAM_MAX_MESSAGE_BYTES,
};

const FLAG_DEFLATE: u8 = 1;

/// Why a publisher's frame or message was refused: shown to the publisher, and
/// the publishing socket is closed (a well-made client never sends one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn malformed<T>(why: impl Into<String>) -> Result<T, Malformed> {
    Err(Malformed(why.into()))
}

/// One frame's header, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub message: u32,
    pub index: u16,
    pub count: u16,
    pub compressed: bool,
}

impl Header {
    /// Whether this frame is its message's last chunk.
    pub fn is_last(&self) -> bool {
        self.index + 1 == self.count
    }
}

/// Reads and checks a frame's header.
pub fn read_header(frame: &[u8]) -> Result<Header, Malformed> {
    if frame.len() < STREAM_HEADER_BYTES {
        return malformed(format!("a frame starts with a {STREAM_HEADER_BYTES}-byte header"));
    }
    if frame[0] != STREAM_FRAME_VERSION {
        return malformed(format!("frame version {} is not {STREAM_FRAME_VERSION}", frame[0]));
    }
    if frame[1] & !FLAG_DEFLATE != 0 {
        return malformed("unknown frame flags");
    }
    let header = Header {
        message: u32::from_be_bytes([frame[2], frame[3], frame[4], frame[5]]),
        index: u16::from_be_bytes([frame[6], frame[7]]),
        count: u16::from_be_bytes([frame[8], frame[9]]),
        compressed: frame[1] & FLAG_DEFLATE != 0,
    };
    if header.count == 0 || usize::from(header.count) > STREAM_MAX_CHUNKS {
        return malformed(format!("a message has 1 to {STREAM_MAX_CHUNKS} chunks"));
    }
    if header.index >= header.count {
        return malformed("a chunk's index is past its message's count");
    }
    if frame.len() - STREAM_HEADER_BYTES > STREAM_CHUNK_BYTES {
        return malformed(format!("a chunk carries at most {STREAM_CHUNK_BYTES} bytes"));
    }
    Ok(header)
}

/// Cuts a message into frames (what the browser's `stream-frames.ts` does; used
/// by tests and benchmarks that publish).
pub fn frame_message(message: u32, bytes: &[u8], compressed: bool) -> Vec<Vec<u8>> {
    let count = bytes.len().div_ceil(STREAM_CHUNK_BYTES).max(1);
    (0..count)
        .map(|i| {
            let part =
                &bytes[(i * STREAM_CHUNK_BYTES).min(bytes.len())..((i + 1) * STREAM_CHUNK_BYTES).min(bytes.len())];
            let mut frame = Vec::with_capacity(STREAM_HEADER_BYTES + part.len());
            frame.push(STREAM_FRAME_VERSION);
            frame.push(if compressed { FLAG_DEFLATE } else { 0 });
            frame.extend_from_slice(&message.to_be_bytes());
            frame.extend_from_slice(&u16::try_from(i).unwrap_or(u16::MAX).to_be_bytes());
            frame.extend_from_slice(&u16::try_from(count).unwrap_or(u16::MAX).to_be_bytes());
            frame.extend_from_slice(part);
            frame
        })
        .collect()
}

/// A message put back together from its chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub number: u32,
    pub compressed: bool,
    pub bytes: Vec<u8>,
}

/// What to do with a frame that fits the order of its socket's frames.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// A chunk of a message not yet complete: pass it on.
    Part,
    /// The message's last chunk: check the message, then pass the chunk on.
    Whole(Message),
    /// A chunk of a message that already lost a frame (over the rate): drop it.
    Skip,
}

#[derive(Debug)]
struct Partial {
    number: u32,
    count: u16,
    next: u16,
    compressed: bool,
    bytes: Vec<u8>,
    /// A frame of it was dropped: the rest is skipped.
    lost: bool,
}

impl Partial {
    /// A message whose first chunk is `header`'s.
    fn start(header: &Header) -> Self {
        Partial {
            number: header.message,
            count: header.count,
            next: 0,
            compressed: header.compressed,
            bytes: Vec::new(),
            lost: false,
        }
    }
}

/// One publishing socket's messages, chunk by chunk, in order.
#[derive(Debug, Default)]
pub struct Assembler {
    current: Option<Partial>,
}

impl Assembler {
    /// Whether `header` continues the message in progress, or starts a new one
    /// when none is in progress.
    fn follows(&self, header: &Header) -> Result<(), Malformed> {
        match &self.current {
            None if header.index == 0 => Ok(()),
            None => malformed("a message's first chunk must come first"),
            Some(p) if p.number == header.message && p.count == header.count && p.next == header.index => Ok(()),
            Some(_) => malformed("a message's chunks come in order, one message after the other"),
        }
    }

    /// Takes the next frame (its header already read) that the relay passes on.
    pub fn push(&mut self, header: &Header, frame: &[u8]) -> Result<Step, Malformed> {
        self.follows(header)?;
        let part = &frame[STREAM_HEADER_BYTES..];
        let mut p = self.current.take().unwrap_or_else(|| Partial::start(header));
        if p.compressed != header.compressed {
            return malformed("a message's chunks are all compressed or none");
        }
        p.next += 1;
        if p.lost {
            if !header.is_last() {
                self.current = Some(p);
            }
            return Ok(Step::Skip);
        }
        if p.bytes.len() + part.len() > STREAM_MAX_MESSAGE_BYTES {
            return malformed(format!("a message is at most {STREAM_MAX_MESSAGE_BYTES} bytes"));
        }
        p.bytes.extend_from_slice(part);
        if header.is_last() {
            return Ok(Step::Whole(Message {
                number: p.number,
                compressed: p.compressed,
                bytes: p.bytes,
            }));
        }
        self.current = Some(p);
        Ok(Step::Part)
    }

    /// The relay dropped this frame (over the rate): the rest of its message is
    /// skipped. The frame must still be in order.
    pub fn lose(&mut self, header: &Header) -> Result<(), Malformed> {
        self.follows(header)?;
        let mut p = self.current.take().unwrap_or_else(|| Partial::start(header));
        p.next += 1;
        p.lost = true;
        p.bytes = Vec::new();
        if !header.is_last() {
            self.current = Some(p);
        }
        Ok(())
    }
}

/// The message's JSON text: inflated when compressed, never past
/// [`STREAM_MAX_MESSAGE_BYTES`] (a small message that inflates enormously is
/// refused without inflating it all).
pub fn message_text(message: &Message) -> Result<std::borrow::Cow<'_, [u8]>, Malformed> {
    if !message.compressed {
        return Ok(std::borrow::Cow::Borrowed(&message.bytes));
    }
    let limit = STREAM_MAX_MESSAGE_BYTES as u64;
    let mut out = Vec::new();
    let mut inflater = flate2::read::DeflateDecoder::new(&message.bytes[..]).take(limit + 1);
    if inflater.read_to_end(&mut out).is_err() {
        return malformed("the message does not inflate (deflate-raw)");
    }
    if out.len() as u64 > limit {
        return malformed(format!(
            "a message inflates to at most {STREAM_MAX_MESSAGE_BYTES} bytes"
        ));
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// What a checked message held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checked {
    /// Its items (rrweb events).
    pub items: usize,
    /// Of which full snapshots.
    pub snapshots: usize,
}

/// Checks a whole message for the stream's capability.
pub fn check_message(capability: Capability, message: &Message) -> Result<Checked, Malformed> {
    match capability {
        Capability::Cobrowse => check_cobrowse(&message_text(message)?),
        Capability::RemoteControl => {
            if message.compressed || message.bytes.len() > MAX_CONTROL_BYTES {
                return malformed(format!(
                    "a remote-control message is uncompressed and at most {MAX_CONTROL_BYTES} bytes"
                ));
            }
            let items = check_control(&message.bytes)?;
            Ok(Checked { items, snapshots: 0 })
        }
        Capability::ScreenShare | Capability::Recording => malformed("this capability's stream carries no data yet"),
    }
}

/// rrweb's event types (`EventType`), 0 to 5; plugins (6) are not used here.
const FULL_SNAPSHOT: u8 = 2;
const INCREMENTAL: u8 = 3;
const META: u8 = 4;
const CUSTOM: u8 = 5;
/// rrweb's incremental sources (`IncrementalSource`) go from 0 to 16.
const LAST_SOURCE: u8 = 16;
/// Longest page URL in a meta event, in bytes.
const MAX_HREF_BYTES: usize = 4 * MAX_PAGE_URL_CHARS;

/// The part of an rrweb event the relay reads; the rest (a DOM, a mutation) is
/// skipped over, checked only to be well-formed JSON.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: u8,
    timestamp: f64,
    #[serde(borrow)]
    data: EventData<'a>,
}

#[derive(Deserialize)]
struct EventData<'a> {
    source: Option<u8>,
    #[serde(borrow)]
    tag: Option<std::borrow::Cow<'a, str>>,
    /// A custom event's payload, read once its tag says what it is.
    #[serde(borrow)]
    payload: Option<&'a serde_json::value::RawValue>,
    href: Option<std::borrow::Cow<'a, str>>,
    width: Option<u32>,
    height: Option<u32>,
}

/// A co-browse message: a JSON array of at most [`STREAM_MAX_ITEMS`] rrweb events
/// (`{type, timestamp, data}`), each of a type the console knows; incremental
/// events name a known source; meta events carry a page URL and a size; custom
/// events are diagnostics ([`DiagEntry`]), within their limits and with request
/// URLs that carry no query.
pub fn check_cobrowse(json: &[u8]) -> Result<Checked, Malformed> {
    // One pass, event by event as they are read: no tree, no list of events.
    let mut checked = Checked::default();
    let mut de = serde_json::Deserializer::from_slice(json);
    let read =
        serde::de::Deserializer::deserialize_seq(&mut de, Events { checked: &mut checked }).and_then(|()| de.end());
    match read {
        Ok(()) => Ok(checked),
        Err(e) => malformed(format!("a co-browse message is a JSON array of rrweb events: {e}")),
    }
}

/// Reads a message's events one by one, checking each.
struct Events<'c> {
    checked: &'c mut Checked,
}

impl<'de> serde::de::Visitor<'de> for Events<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of rrweb events")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error;
        while let Some(event) = seq.next_element::<Event<'de>>()? {
            let i = self.checked.items;
            if i >= STREAM_MAX_ITEMS {
                return Err(A::Error::custom(format!("at most {STREAM_MAX_ITEMS} events")));
            }
            check_event(&event, self.checked)
                .map_err(|Malformed(why)| A::Error::custom(format!("event {i}: {why}")))?;
            self.checked.items += 1;
        }
        Ok(())
    }
}

fn check_event(event: &Event<'_>, checked: &mut Checked) -> Result<(), Malformed> {
    if !event.timestamp.is_finite() || event.timestamp < 0.0 {
        return malformed("its timestamp is not a time");
    }
    let d = &event.data;
    match event.kind {
        0 | 1 => Ok(()),
        FULL_SNAPSHOT => {
            checked.snapshots += 1;
            Ok(())
        }
        INCREMENTAL => match d.source {
            Some(s) if s <= LAST_SOURCE => Ok(()),
            _ => malformed(format!("an incremental event names its source (0-{LAST_SOURCE})")),
        },
        META => match (&d.href, d.width, d.height) {
            (Some(href), Some(_), Some(_)) if href.len() <= MAX_HREF_BYTES => Ok(()),
            (Some(_), Some(_), Some(_)) => malformed(format!("a page URL is at most {MAX_HREF_BYTES} bytes")),
            _ => malformed("a meta event carries href, width and height"),
        },
        CUSTOM => match (d.tag.as_deref(), d.payload.map(|p| p.get().as_bytes())) {
            (Some(DIAG_TAG), Some(payload)) => match serde_json::from_slice::<DiagEntry>(payload) {
                Ok(entry) => check_diag(&entry),
                Err(e) => malformed(format!("a diagnostics entry: {e}")),
            },
            (Some(DRAWINGS_TAG), Some(payload)) => match serde_json::from_slice::<DrawingsNotice>(payload) {
                Ok(_) => Ok(()),
                Err(e) => malformed(format!("a drawings notice: {e}")),
            },
            _ => malformed(format!(
                "the only custom events are {DIAG_TAG:?} with a diagnostics entry and {DRAWINGS_TAG:?} with a drawings notice"
            )),
        },
        other => malformed(format!("event type {other} is not one the console replays")),
    }
}

/// An agent's guidance message (docs/protocol.md, "Guidance"): one frame, not
/// compressed, at most [`MAX_GUIDANCE_BYTES`], holding a JSON array of at most
/// [`MAX_GUIDANCE_ITEMS`] [`Guidance`] items whose spots are finite, with
/// fractions from 0 to 1, and whose strokes are 1 to [`MAX_STROKE_POINTS`]
/// `dx, dy` pairs within [`MAX_STROKE_REACH`]. Returns the number of items.
pub fn check_guidance(frame: &[u8]) -> Result<usize, Malformed> {
    if frame.len() > MAX_GUIDANCE_BYTES {
        return malformed(format!("a guidance message is at most {MAX_GUIDANCE_BYTES} bytes"));
    }
    let header = read_header(frame)?;
    if header.count != 1 || header.compressed {
        return malformed("a guidance message is one uncompressed frame");
    }
    let items: Vec<Guidance> = match serde_json::from_slice(&frame[STREAM_HEADER_BYTES..]) {
        Ok(items) => items,
        Err(e) => return malformed(format!("a guidance message is a JSON array of guidance: {e}")),
    };
    if items.len() > MAX_GUIDANCE_ITEMS {
        return malformed(format!("a guidance message holds at most {MAX_GUIDANCE_ITEMS} items"));
    }
    let spot = |a: &Anchor| {
        let fraction = |f: f32| (0.0..=1.0).contains(&f);
        let place = |v: f32| v.is_finite() && v.abs() <= 1.0e7;
        fraction(a.fx) && fraction(a.fy) && place(a.x) && place(a.y)
    };
    for (i, item) in items.iter().enumerate() {
        let ok = match item {
            Guidance::Pointer { at } => at.as_ref().is_none_or(spot),
            Guidance::Ping { at } => spot(at),
            Guidance::Highlight { .. } | Guidance::Clear {} => true,
            Guidance::Stroke { at, points, .. } => {
                if points.is_empty() || points.len() % 2 != 0 || points.len() > 2 * MAX_STROKE_POINTS {
                    return malformed(format!(
                        "guidance {i}: a stroke is 1 to {MAX_STROKE_POINTS} dx, dy pairs"
                    ));
                }
                if points
                    .iter()
                    .any(|v| v.unsigned_abs() > MAX_STROKE_REACH.unsigned_abs())
                {
                    return malformed(format!(
                        "guidance {i}: a stroke's points lie within {MAX_STROKE_REACH} pixels of its anchor"
                    ));
                }
                spot(at)
            }
        };
        if !ok {
            return malformed(format!(
                "guidance {i}: a spot's fractions are 0 to 1 and its coordinates finite"
            ));
        }
    }
    Ok(items.len())
}

/// A spot the agent pointed at: fractions from 0 to 1, finite page coordinates.
fn control_spot(a: &Anchor) -> bool {
    let fraction = |f: f32| (0.0..=1.0).contains(&f);
    let place = |v: f32| v.is_finite() && v.abs() <= 1.0e7;
    fraction(a.fx) && fraction(a.fy) && place(a.x) && place(a.y)
}

/// Largest scroll step of one input, in CSS pixels either way.
const MAX_CONTROL_SCROLL: i32 = 100_000;

/// The body of an agent's remote-control message (docs/protocol.md, "Remote
/// control"): a JSON array of 1 to [`MAX_CONTROL_ITEMS`] [`ControlInput`]s
/// whose spots are in range, whose texts are at most
/// [`MAX_CONTROL_TEXT_CHARS`] characters without control characters, and whose
/// scroll steps are bounded. Returns the number of inputs.
pub fn check_control(json: &[u8]) -> Result<usize, Malformed> {
    let items: Vec<ControlInput> = match serde_json::from_slice(json) {
        Ok(items) => items,
        Err(e) => return malformed(format!("a remote-control message is a JSON array of inputs: {e}")),
    };
    if items.is_empty() || items.len() > MAX_CONTROL_ITEMS {
        return malformed(format!(
            "a remote-control message holds 1 to {MAX_CONTROL_ITEMS} inputs"
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let ok = match item {
            ControlInput::Click { at, .. } => control_spot(at),
            ControlInput::Scroll { at, dx, dy, .. } => {
                at.as_ref().is_none_or(control_spot) && dx.abs() <= MAX_CONTROL_SCROLL && dy.abs() <= MAX_CONTROL_SCROLL
            }
            ControlInput::Text { text, .. } => {
                !text.is_empty()
                    && text.chars().count() <= MAX_CONTROL_TEXT_CHARS
                    && !text.chars().any(char::is_control)
            }
            ControlInput::Key { .. } | ControlInput::Select { .. } => true,
        };
        if !ok {
            return malformed(format!(
                "input {i}: spots are fractions 0 to 1 with finite coordinates, texts 1 to {MAX_CONTROL_TEXT_CHARS} printable characters, scroll steps at most {MAX_CONTROL_SCROLL}"
            ));
        }
    }
    Ok(items.len())
}

/// The visitor's widget's answers to remote control, sent up the stream: one
/// uncompressed frame of at most [`MAX_CONTROL_BYTES`] holding a JSON array of
/// 1 to [`MAX_CONTROL_ITEMS`] [`ControlResult`]s. Returns their number.
pub fn check_control_results(frame: &[u8]) -> Result<usize, Malformed> {
    if frame.len() > MAX_CONTROL_BYTES {
        return malformed(format!("a remote-control answer is at most {MAX_CONTROL_BYTES} bytes"));
    }
    let header = read_header(frame)?;
    if header.count != 1 || header.compressed {
        return malformed("a remote-control answer is one uncompressed frame");
    }
    let items: Vec<ControlResult> = match serde_json::from_slice(&frame[STREAM_HEADER_BYTES..]) {
        Ok(items) => items,
        Err(e) => return malformed(format!("a remote-control answer is a JSON array of results: {e}")),
    };
    if items.is_empty() || items.len() > MAX_CONTROL_ITEMS {
        return malformed(format!(
            "a remote-control answer holds 1 to {MAX_CONTROL_ITEMS} results"
        ));
    }
    Ok(items.len())
}

fn check_diag(entry: &DiagEntry) -> Result<(), Malformed> {
    let long = |s: &str| s.chars().count() > MAX_DIAG_TEXT_CHARS;
    match entry {
        DiagEntry::Console { text, .. } if long(text) => malformed("a console text is too long"),
        DiagEntry::Exception { text, source, .. } if long(text) || source.as_deref().is_some_and(long) => {
            malformed("an exception's text is too long")
        }
        DiagEntry::Network { method, url, .. } => {
            let token = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b);
            if method.is_empty() || method.len() > 16 || !method.bytes().all(token) {
                malformed("a request's method is a short upper-case word")
            } else if long(url) || url.contains(['?', '#']) {
                malformed("a request's URL is short and carries no query or fragment")
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn whole(frames: &[Vec<u8>]) -> Result<Vec<Message>, Malformed> {
        let mut a = Assembler::default();
        let mut out = Vec::new();
        for f in frames {
            let h = read_header(f)?;
            if let Step::Whole(m) = a.push(&h, f)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    fn deflated(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).expect("deflate");
        e.finish().expect("deflate")
    }

    const META_EVENT: &str =
        r#"{"type":4,"timestamp":1700000000000,"data":{"href":"https://shop.example/cart","width":1280,"height":800}}"#;

    #[test]
    fn a_message_in_chunks_comes_back_whole_and_checks() {
        let filler = "x".repeat(600_000);
        let json = format!(
            r#"[{META_EVENT},{{"type":2,"timestamp":1,"data":{{"node":{{"text":"{filler}"}},"initialOffset":{{"top":0,"left":0}}}}}}]"#
        );
        let frames = frame_message(7, json.as_bytes(), false);
        assert_eq!(frames.len(), 3);
        let messages = whole(&frames).expect("in order");
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].bytes, json.as_bytes());
        assert_eq!(
            check_message(Capability::Cobrowse, &messages[0]),
            Ok(Checked { items: 2, snapshots: 1 })
        );
        // Compressed, the same.
        let packed = frame_message(8, &deflated(json.as_bytes()), true);
        let m = &whole(&packed).expect("in order")[0];
        assert_eq!(check_message(Capability::Cobrowse, m).map(|c| c.items), Ok(2));
    }

    #[test]
    fn headers_out_of_shape_are_refused() {
        let good = frame_message(1, b"[]", false).remove(0);
        assert!(read_header(&good).is_ok());
        let mut bad_version = good.clone();
        bad_version[0] = 2;
        let mut bad_flags = good.clone();
        bad_flags[1] = 2;
        let mut zero_count = good.clone();
        zero_count[9] = 0;
        let mut past_count = good.clone();
        past_count[7] = 1;
        let mut too_many = good.clone();
        too_many[8..10].copy_from_slice(&65u16.to_be_bytes());
        let mut too_long = good.clone();
        too_long.resize(STREAM_HEADER_BYTES + STREAM_CHUNK_BYTES + 1, b' ');
        for bad in [
            &good[..9],
            &bad_version,
            &bad_flags,
            &zero_count,
            &past_count,
            &too_many,
            &too_long,
        ] {
            assert!(read_header(bad).is_err(), "{:?}", &bad[..bad.len().min(10)]);
        }
    }

    #[test]
    fn chunks_out_of_order_are_refused_and_lost_messages_skipped() {
        let a = frame_message(1, &[b'a'; 600_000], false);
        let b = frame_message(2, b"[]", false);
        // The second chunk first; a new message before the first ended; a chunk twice.
        assert!(whole(&[a[1].clone()]).is_err());
        assert!(whole(&[a[0].clone(), b[0].clone()]).is_err());
        assert!(whole(&[a[0].clone(), a[0].clone()]).is_err());
        // A message that lost its first chunk to the rate: the rest is skipped, and
        // the next message comes through.
        let mut asm = Assembler::default();
        asm.lose(&read_header(&a[0]).expect("header")).expect("in order");
        for f in &a[1..] {
            assert_eq!(asm.push(&read_header(f).expect("header"), f), Ok(Step::Skip));
        }
        assert!(matches!(
            asm.push(&read_header(&b[0]).expect("header"), &b[0]),
            Ok(Step::Whole(_))
        ));
    }

    #[test]
    fn a_compression_bomb_is_refused_without_inflating_it_all() {
        let bomb = deflated(&vec![b' '; STREAM_MAX_MESSAGE_BYTES + 10]);
        assert!(bomb.len() < STREAM_CHUNK_BYTES, "{} bytes", bomb.len());
        let m = Message {
            number: 1,
            compressed: true,
            bytes: bomb,
        };
        assert!(message_text(&m).is_err());
        let junk = Message {
            number: 1,
            compressed: true,
            bytes: b"not deflate at all".to_vec(),
        };
        assert!(message_text(&junk).is_err());
    }

    #[test]
    fn co_browse_events_are_checked_for_shape() {
        let ok = |s: &str| check_cobrowse(s.as_bytes());
        assert_eq!(ok("[]").map(|c| c.items), Ok(0));
        assert!(ok(&format!("[{META_EVENT}]")).is_ok());
        assert!(ok(r#"[{"type":3,"timestamp":5,"data":{"source":2,"type":1,"id":4,"x":1,"y":2}}]"#).is_ok());
        let diag = r#"[{"type":5,"timestamp":5,"data":{"tag":"sightline/diag","payload":{"kind":"network","at":1,"method":"POST","url":"https://shop.example/api/pay","status":500,"ms":12}}}]"#;
        assert!(ok(diag).is_ok());
        for bad in [
            "{}",
            "[1]",
            r#"[{"type":3,"timestamp":5}]"#,
            r#"[{"type":3,"timestamp":5,"data":{}}]"#,
            r#"[{"type":3,"timestamp":5,"data":{"source":17}}]"#,
            r#"[{"type":6,"timestamp":5,"data":{"plugin":"x","payload":{}}}]"#,
            r#"[{"type":3,"timestamp":-1,"data":{"source":1}}]"#,
            r#"[{"type":"3","timestamp":5,"data":{"source":1}}]"#,
            r#"[{"type":4,"timestamp":5,"data":{"width":1,"height":2}}]"#,
            r#"[{"type":5,"timestamp":5,"data":{"tag":"other","payload":{}}}]"#,
            r#"[{"type":5,"timestamp":5,"data":{"tag":"sightline/diag","payload":{"kind":"network","at":1,"method":"GET","url":"https://a.example/x?token=1","status":0,"ms":1}}}]"#,
            r#"[{"type":5,"timestamp":5,"data":{"tag":"sightline/diag","payload":{"kind":"network","at":1,"method":"GET","url":"/x","status":0,"ms":1,"body":"card=4111"}}}]"#,
            r#"[{"type":5,"timestamp":5,"data":{"tag":"sightline/diag","payload":{"kind":"console","at":1,"level":"info","text":"x"}}}]"#,
            "[{\"type\":3,\"timestamp\":5,\"data\":{\"source\":1}}",
        ] {
            assert!(ok(bad).is_err(), "{bad} should be refused");
        }
        let long = format!(
            r#"[{{"type":5,"timestamp":5,"data":{{"tag":"sightline/diag","payload":{{"kind":"console","at":1,"level":"error","text":"{}"}}}}}}]"#,
            "x".repeat(MAX_DIAG_TEXT_CHARS + 1)
        );
        assert!(ok(&long).is_err());
        let many = format!(
            "[{}]",
            vec![r#"{"type":3,"timestamp":5,"data":{"source":1}}"#; STREAM_MAX_ITEMS + 1].join(",")
        );
        assert!(ok(&many).is_err());
        // Screen shares and recordings carry nothing here yet.
        let m = Message {
            number: 1,
            compressed: false,
            bytes: b"[]".to_vec(),
        };
        assert!(check_message(Capability::ScreenShare, &m).is_err());
        assert!(check_message(Capability::Recording, &m).is_err());
    }

    fn control(json: &str) -> Result<Checked, Malformed> {
        check_message(
            Capability::RemoteControl,
            &Message {
                number: 1,
                compressed: false,
                bytes: json.as_bytes().to_vec(),
            },
        )
    }

    #[test]
    fn remote_control_inputs_are_checked_for_shape_and_limits() {
        let spot = r#"{"node":7,"fx":0.5,"fy":0.5,"x":10,"y":20}"#;
        let good = format!(
            r#"[{{"kind":"click","seq":1,"at":{spot}}},{{"kind":"text","seq":2,"text":"Alex"}},{{"kind":"key","seq":3,"key":"Enter"}},{{"kind":"select","seq":4,"node":9,"option":1}},{{"kind":"scroll","seq":5,"at":null,"dx":0,"dy":300}}]"#
        );
        assert_eq!(control(&good).map(|c| c.items), Ok(5));
        let bad = [
            "[]".to_owned(),
            "{}".to_owned(),
            r#"[{"kind":"click","seq":1,"at":{"node":7,"fx":1.5,"fy":0.5,"x":10,"y":20}}]"#.to_owned(),
            r#"[{"kind":"text","seq":1,"text":""}]"#.to_owned(),
            r#"[{"kind":"text","seq":1,"text":"a\u0000b"}]"#.to_owned(),
            format!(
                r#"[{{"kind":"text","seq":1,"text":"{}"}}]"#,
                "x".repeat(MAX_CONTROL_TEXT_CHARS + 1)
            ),
            r#"[{"kind":"key","seq":1,"key":"F12"}]"#.to_owned(),
            r#"[{"kind":"scroll","seq":1,"at":null,"dx":0,"dy":100001}]"#.to_owned(),
            r#"[{"kind":"click","seq":1,"at":null}]"#.to_owned(),
            r#"[{"kind":"eval","seq":1,"code":"alert(1)"}]"#.to_owned(),
            r#"[{"kind":"click","seq":1,"at":{"node":7,"fx":0,"fy":0,"x":1,"y":1},"extra":1}]"#.to_owned(),
            format!(
                "[{}]",
                vec![r#"{"kind":"key","seq":1,"key":"Tab"}"#; MAX_CONTROL_ITEMS + 1].join(",")
            ),
        ];
        for b in bad {
            assert!(control(&b).is_err(), "accepted {b}");
        }
        // Compressed or too large: refused before it is read.
        let m = Message {
            number: 1,
            compressed: true,
            bytes: good.as_bytes().to_vec(),
        };
        assert!(check_message(Capability::RemoteControl, &m).is_err());
        let big = format!("[{}]", vec![r#"{"kind":"key","seq":1,"key":"Tab"}"#; 300].join(","));
        assert!(big.len() > MAX_CONTROL_BYTES);
        assert!(control(&big).is_err());
    }

    fn result_frame(json: &str) -> Vec<u8> {
        frame_message(1, json.as_bytes(), false).remove(0)
    }

    #[test]
    fn the_visitors_answers_to_remote_control_are_checked() {
        let f = result_frame(r#"[{"seq":1,"refused":null},{"seq":2,"refused":"private"}]"#);
        assert_eq!(check_control_results(&f), Ok(2));
        assert!(check_control_results(&result_frame(r#"[{"seq":1,"refused":"nope"}]"#)).is_err());
        assert!(check_control_results(&result_frame("[]")).is_err());
        assert!(check_control_results(&result_frame(r#"[{"seq":1,"refused":null,"eval":1}]"#)).is_err());
        let mut compressed = f.clone();
        compressed[1] = FLAG_DEFLATE;
        assert!(check_control_results(&compressed).is_err());
        let mut long = f.clone();
        long.resize(MAX_CONTROL_BYTES + 1, b' ');
        assert!(check_control_results(&long).is_err());
    }

    proptest! {
        /// Whatever an agent's console sends, the check never panics, and what it
        /// lets through is a list of inputs within every limit.
        #[test]
        fn control_check_never_panics_and_passes_only_what_is_in_bounds(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(n) = check_control(&bytes) {
                let items: Vec<ControlInput> = serde_json::from_slice(&bytes).unwrap();
                prop_assert_eq!(items.len(), n);
                prop_assert!((1..=MAX_CONTROL_ITEMS).contains(&n));
            }
        }

        /// Well-formed inputs within the limits pass; one out of range fails.
        #[test]
        fn control_inputs_in_range_pass(
            fx in 0.0f32..=1.0, fy in 0.0f32..=1.0, x in -1.0e6f32..1.0e6, y in -1.0e6f32..1.0e6,
            text in "[a-zA-Z0-9 €äß.,-]{1,200}", dy in -100_000i32..=100_000, over in 1.0001f32..100.0,
        ) {
            let at = Anchor { node: Some(3), fx, fy, x, y };
            let items = vec![
                ControlInput::Click { seq: 1, at },
                ControlInput::Text { seq: 2, text },
                ControlInput::Scroll { seq: 3, at: Some(at), dx: 0, dy },
            ];
            let json = serde_json::to_vec(&items).unwrap();
            prop_assert_eq!(check_control(&json), Ok(3));
            let outside = vec![ControlInput::Click { seq: 1, at: Anchor { fx: over, ..at } }];
            prop_assert!(check_control(&serde_json::to_vec(&outside).unwrap()).is_err());
        }
    }

    #[test]
    fn guidance_is_one_small_frame_of_known_items_with_spots_on_the_page() {
        let frame = |json: &str| frame_message(1, json.as_bytes(), false).remove(0);
        let good = r#"[{"kind":"pointer","at":{"node":12,"fx":0.25,"fy":0.5,"x":300,"y":1200.5}},{"kind":"pointer","at":null},{"kind":"ping","at":{"node":null,"fx":0,"fy":1,"x":0,"y":0}},{"kind":"highlight","node":7},{"kind":"highlight","node":null}]"#;
        assert_eq!(check_guidance(&frame(good)), Ok(5));
        for bad in [
            "{}",
            r#"[{"kind":"click","at":null}]"#,
            r#"[{"kind":"pointer","at":{"node":1,"fx":1.5,"fy":0,"x":0,"y":0}}]"#,
            r#"[{"kind":"pointer","at":{"node":1,"fx":0,"fy":-0.1,"x":0,"y":0}}]"#,
            r#"[{"kind":"ping","at":{"node":1,"fx":0,"fy":0,"x":1e30,"y":0}}]"#,
            r#"[{"kind":"highlight","node":7,"script":"alert(1)"}]"#,
            r#"[{"kind":"highlight","node":-1}]"#,
        ] {
            assert!(check_guidance(&frame(bad)).is_err(), "{bad} should be refused");
        }
        let many = format!(
            "[{}]",
            vec![r#"{"kind":"highlight","node":null}"#; MAX_GUIDANCE_ITEMS + 1].join(",")
        );
        assert!(check_guidance(&frame(&many)).is_err());
        let long = format!(
            r#"[{{"kind":"highlight","node":null}}{}]"#,
            " ".repeat(MAX_GUIDANCE_BYTES)
        );
        assert!(check_guidance(&frame(&long)).is_err());
        assert!(check_guidance(&frame_message(1, good.as_bytes(), true).remove(0)).is_err());
    }

    #[test]
    fn strokes_are_short_lines_near_their_anchor_and_clear_takes_nothing() {
        let frame = |json: &str| frame_message(1, json.as_bytes(), false).remove(0);
        let at = r#"{"node":12,"fx":0.25,"fy":0.5,"x":300,"y":1200}"#;
        let stroke = |id: &str, points: &str| {
            format!(r#"[{{"kind":"stroke","id":{id},"at":{at},"points":[{points}],"arrow":true,"pinned":false}}]"#)
        };
        assert_eq!(check_guidance(&frame(&stroke("1", "0,0,10,-4,25,-9"))), Ok(1));
        assert_eq!(check_guidance(&frame(&stroke("4294967295", "0,0"))), Ok(1));
        assert_eq!(check_guidance(&frame(r#"[{"kind":"clear"}]"#)), Ok(1));
        let reach = MAX_STROKE_REACH;
        assert!(check_guidance(&frame(&stroke("2", &format!("0,0,{reach},-{reach}")))).is_ok());
        let longest = vec!["1,1"; MAX_STROKE_POINTS].join(",");
        assert!(check_guidance(&frame(&stroke("3", &longest))).is_ok());
        let too_long = vec!["1,1"; MAX_STROKE_POINTS + 1].join(",");
        let far = format!("0,0,{},0", reach + 1);
        let far_negative = format!("0,-{}", reach + 1);
        for bad in [
            stroke("1", ""),
            stroke("1", "0,0,5"),
            stroke("1", &too_long),
            stroke("1", &far),
            stroke("1", &far_negative),
            stroke("1", "0,0,1.5,2"),
            stroke("-1", "0,0"),
            stroke("4294967296", "0,0"),
            stroke("1.5", "0,0"),
            stroke("1", "0,0,2147483648,0"),
            r#"[{"kind":"stroke","id":1,"at":{"node":1,"fx":2,"fy":0,"x":0,"y":0},"points":[0,0],"arrow":false,"pinned":false}]"#.to_owned(),
            format!(r#"[{{"kind":"stroke","id":1,"at":{at},"points":[0,0],"arrow":false}}]"#),
            format!(
                r#"[{{"kind":"stroke","id":1,"at":{at},"points":[0,0],"arrow":false,"pinned":false,"color":"red"}}]"#
            ),
            r#"[{"kind":"clear","all":true}]"#.to_owned(),
        ] {
            assert!(check_guidance(&frame(&bad)).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn the_visitor_may_say_that_they_cleared_the_drawings_and_nothing_else_of_them() {
        let ok = |s: &str| check_cobrowse(s.as_bytes());
        let event = |payload: &str| {
            format!(r#"[{{"type":5,"timestamp":5,"data":{{"tag":"sightline/drawings","payload":{payload}}}}}]"#)
        };
        assert_eq!(ok(&event(r#"{"kind":"cleared"}"#)).map(|c| c.items), Ok(1));
        for bad in [
            event("null"),
            event("{}"),
            event(r#"{"kind":"drawn"}"#),
            event(r#"{"kind":"cleared","by":"x"}"#),
            event(r#"{"kind":"console","at":1,"level":"error","text":"x"}"#),
            r#"[{"type":5,"timestamp":5,"data":{"tag":"sightline/drawings"}}]"#.to_owned(),
            // A diagnostics tag does not carry a drawings notice either.
            r#"[{"type":5,"timestamp":5,"data":{"tag":"sightline/diag","payload":{"kind":"cleared"}}}]"#.to_owned(),
        ] {
            assert!(ok(&bad).is_err(), "{bad} should be refused");
        }
    }

    proptest! {
        /// Whatever a publisher sends, the checks answer without panicking, and a
        /// well-made message always comes back whole.
        #[test]
        fn any_bytes_are_answered_and_framed_messages_come_back(
            junk in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8),
            sizes in proptest::collection::vec(0usize..600_000, 1..4),
        ) {
            let mut asm = Assembler::default();
            for f in &junk {
                if let Ok(h) = read_header(f) {
                    let _ = asm.push(&h, f);
                }
                let _ = check_cobrowse(f);
            }
            let mut asm = Assembler::default();
            for (n, size) in sizes.iter().enumerate() {
                let bytes: Vec<u8> = (0..*size).map(|i| (i % 251) as u8).collect();
                let frames = frame_message(n as u32, &bytes, false);
                let mut got = None;
                for f in &frames {
                    let h = read_header(f).map_err(|e| TestCaseError::fail(e.0))?;
                    match asm.push(&h, f).map_err(|e| TestCaseError::fail(e.0))? {
                        Step::Whole(m) => got = Some(m),
                        Step::Part => prop_assert!(!h.is_last()),
                        Step::Skip => prop_assert!(false, "nothing was lost"),
                    }
                }
                prop_assert_eq!(got.map(|m| m.bytes), Some(bytes));
            }
        }
    }
}
