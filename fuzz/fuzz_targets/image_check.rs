//! An uploaded file as the image handlers check it: `sightline::image_check::check_with`
//! on arbitrary bytes (type by content, header dimensions, bounded decode,
//! thumbnail). It may refuse anything; it must not panic, and what it accepts
//! must be within the limits and come with a thumbnail that decodes.
//!
//! The bounds are smaller than the uploads' (`CheckLimits::UPLOADS`), the code
//! paths the same: a side above the thumbnail's square still takes the resize
//! path, and the fuzzer spends its time in the parsers instead of filling
//! 128 MB buffers (about 460 executions a second with the uploads' bounds).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline::image_check::{check_with, thumb_size, CheckLimits};
use sightline_proto::THUMB_MAX_SIDE;

const BOUNDS: CheckLimits = CheckLimits {
    max_side: 4 * THUMB_MAX_SIDE,
    max_pixels: 64 * 1024,
    max_decoded_bytes: 512 * 1024,
};

fuzz_target!(|data: &[u8]| {
    let Ok(checked) = check_with(data, &BOUNDS) else { return };
    assert!(checked.width > 0 && checked.height > 0);
    assert!(checked.width <= BOUNDS.max_side && checked.height <= BOUNDS.max_side);
    assert!(u64::from(checked.width) * u64::from(checked.height) <= BOUNDS.max_pixels);
    assert_eq!((checked.thumb_width, checked.thumb_height), thumb_size(checked.width, checked.height));
    assert!(checked.thumb_width <= THUMB_MAX_SIDE && checked.thumb_height <= THUMB_MAX_SIDE);
    assert!(checked.thumb.starts_with(b"\x89PNG\r\n\x1a\n"), "thumbnails are PNG");
});
