//! An uploaded file as the image handlers check it: `sightline::image_check::check`
//! on arbitrary bytes (type by content, header dimensions, bounded decode,
//! thumbnail). It may refuse anything; it must not panic, and what it accepts
//! must be within the limits and come with a thumbnail that decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sightline::image_check::{check, thumb_size};
use sightline_proto::{MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, THUMB_MAX_SIDE};

fuzz_target!(|data: &[u8]| {
    let Ok(checked) = check(data) else { return };
    assert!(checked.width > 0 && checked.height > 0);
    assert!(checked.width <= MAX_IMAGE_SIDE && checked.height <= MAX_IMAGE_SIDE);
    assert!(u64::from(checked.width) * u64::from(checked.height) <= MAX_IMAGE_PIXELS);
    assert_eq!((checked.thumb_width, checked.thumb_height), thumb_size(checked.width, checked.height));
    assert!(checked.thumb_width <= THUMB_MAX_SIDE && checked.thumb_height <= THUMB_MAX_SIDE);
    assert!(checked.thumb.starts_with(b"\x89PNG\r\n\x1a\n"), "thumbnails are PNG");
});
