//! A WebSocket text frame as `ws.rs` parses it: arbitrary bytes into a
//! `ClientFrame` (a `ClientMessage` with an optional `ref`), through the same
//! `ClientFrame::parse` the server calls. Whatever parses must serialise again, and
//! parse back to the same frame (the round trip the TypeScript client relies on).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline_proto::{ClientFrame, ClientMessage};

fn round_trip(frame: &ClientFrame) {
    let json = serde_json::to_string(frame).expect("a parsed frame serialises");
    let again = ClientFrame::parse(&json).expect("a serialised frame parses");
    assert_eq!(&again, frame, "round trip changed the frame");
}

fuzz_target!(|data: &[u8]| {
    // The server receives text frames (valid UTF-8).
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(frame) = ClientFrame::parse(text) {
            round_trip(&frame);
        }
    }
    // The bare message type, as other tools may use it.
    if let Ok(message) = serde_json::from_slice::<ClientMessage>(data) {
        let json = serde_json::to_vec(&message).expect("a parsed message serialises");
        let again: ClientMessage = serde_json::from_slice(&json).expect("a serialised message parses");
        assert_eq!(again, message, "round trip changed the message");
    }
});
