//! What a stream's ends send, as the relay checks it
//! (`sightline_core::stream_check`): arbitrary bytes cut into frames, each read,
//! put in order and, once a message is whole, checked as co-browse events and as
//! remote control. Nothing may panic, a message never exceeds the limit, a
//! message that passed is the exact bytes of its frames' chunks, and control
//! that passed is a list of inputs within every limit. The whole input is also
//! tried as the visitor's answers to control, and as an agent's guidance frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline_core::stream_check::{check_control, check_control_results, check_message, read_header, Assembler, Step};
use sightline_proto::{
    Capability, ControlInput, MAX_CONTROL_ITEMS, MAX_CONTROL_TEXT_CHARS, STREAM_HEADER_BYTES, STREAM_MAX_MESSAGE_BYTES,
};

fuzz_target!(|data: &[u8]| {
    // The first byte says where to cut (frames of 10 to 265 bytes); the rest is
    // the frames. The whole input is also tried as one message's JSON.
    let Some((&cut, rest)) = data.split_first() else { return };
    let _ = sightline_core::stream_check::check_cobrowse(rest);
    let _ = sightline_core::stream_check::check_guidance(rest);
    let _ = check_control_results(rest);
    if let Ok(n) = check_control(rest) {
        let inputs: Vec<ControlInput> = serde_json::from_slice(rest).expect("passed control parses");
        assert_eq!(inputs.len(), n);
        assert!((1..=MAX_CONTROL_ITEMS).contains(&n));
        for i in &inputs {
            if let ControlInput::Text { text, .. } = i {
                assert!(!text.is_empty() && text.chars().count() <= MAX_CONTROL_TEXT_CHARS);
            }
        }
    }
    let size = STREAM_HEADER_BYTES + usize::from(cut);
    let mut assembler = Assembler::default();
    let mut parts: Vec<u8> = Vec::new();
    for frame in rest.chunks(size) {
        let Ok(header) = read_header(frame) else { continue };
        if header.index == 0 {
            parts.clear();
        }
        match assembler.push(&header, frame) {
            Ok(Step::Part) => parts.extend_from_slice(&frame[STREAM_HEADER_BYTES..]),
            Ok(Step::Whole(message)) => {
                parts.extend_from_slice(&frame[STREAM_HEADER_BYTES..]);
                assert_eq!(message.bytes, parts, "a message is its chunks in order");
                assert!(message.bytes.len() <= STREAM_MAX_MESSAGE_BYTES);
                let _ = check_message(Capability::Cobrowse, &message);
                let _ = check_message(Capability::RemoteControl, &message);
                parts.clear();
            }
            Ok(Step::Skip) => unreachable!("nothing was lost"),
            Err(_) => {
                assembler = Assembler::default();
                parts.clear();
            }
        }
    }
});
