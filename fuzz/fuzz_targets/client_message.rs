//! A WebSocket text frame as `ws.rs` parses it: arbitrary bytes into a
//! `ClientMessage`. Whatever parses must serialise again, and parse back to the
//! same message (the round trip the TypeScript client relies on).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline_proto::ClientMessage;

fn round_trip(message: &ClientMessage) {
    let json = serde_json::to_vec(message).expect("a parsed message serialises");
    let again: ClientMessage = serde_json::from_slice(&json).expect("a serialised message parses");
    assert_eq!(&again, message, "round trip changed the message");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = serde_json::from_slice::<ClientMessage>(data) {
        round_trip(&message);
    }
    // The server receives text frames (valid UTF-8) and parses them as a str.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(message) = serde_json::from_str::<ClientMessage>(text) {
            round_trip(&message);
        }
    }
});
