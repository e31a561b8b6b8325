//! Checking an uploaded image and making its thumbnail. Pure functions (no I/O):
//! the handlers run them in `spawn_blocking`, the bench calls them directly.
//!
//! The order matters, cheapest and safest first:
//! 1. the type, from the first bytes (never the file name or Content-Type): PNG,
//!    JPEG, WebP or GIF; anything else, SVG included, is refused;
//! 2. the dimensions, read from the header *without decoding*, so that a
//!    decompression bomb (a small file declaring a huge picture) is refused before
//!    any pixel buffer is allocated;
//! 3. the decoded size, pixels × bytes per pixel of the decoder's colour type (a
//!    16-bit RGBA picture takes 8 bytes a pixel), against [`MAX_IMAGE_DECODED_BYTES`];
//! 4. a full decode under allocation limits (a second line of defence), which also
//!    finds truncated or corrupt data;
//! 5. the thumbnail, fitted in [`THUMB_MAX_SIDE`] square, encoded as PNG.
//!
//! The original's bytes are kept as uploaded (they decoded cleanly).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder as _, ImageFormat, ImageReader, Limits};
use sightline_proto::{MAX_IMAGE_DECODED_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, THUMB_MAX_SIDE};

/// Why an upload was refused, with words for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Not one of the accepted types (HTTP 415).
    Unsupported(String),
    /// An accepted type, but damaged, or too many pixels (HTTP 422).
    Invalid(String),
}

/// An image that passed every check, with its thumbnail.
#[derive(Debug, Clone)]
pub struct Checked {
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    /// PNG.
    pub thumb: Vec<u8>,
    pub thumb_width: u32,
    pub thumb_height: u32,
}

/// The accepted type the content starts with.
pub fn sniff(bytes: &[u8]) -> Option<(ImageFormat, &'static str)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some((ImageFormat::Png, "image/png"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some((ImageFormat::Jpeg, "image/jpeg"))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some((ImageFormat::Gif, "image/gif"))
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some((ImageFormat::WebP, "image/webp"))
    } else {
        None
    }
}

/// Whether the bytes look like SVG (or other XML/HTML), for a clearer message.
fn looks_like_markup(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    trimmed.starts_with('<') || text.contains("<svg")
}

/// The file extension for a type, for download names.
pub fn extension(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        _ => "bin",
    }
}

/// The bounds an upload is checked against. Uploads use [`CheckLimits::UPLOADS`]
/// (the protocol's figures); the fuzz target uses smaller ones so that it spends
/// its time on the parsers' code paths rather than on filling large buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckLimits {
    /// Pixels a side, width and height each.
    pub max_side: u32,
    /// Width × height.
    pub max_pixels: u64,
    /// Pixels × bytes per pixel of the decoder's colour type.
    pub max_decoded_bytes: u64,
}

impl CheckLimits {
    /// What the upload handlers allow.
    pub const UPLOADS: CheckLimits = CheckLimits {
        max_side: MAX_IMAGE_SIDE,
        max_pixels: MAX_IMAGE_PIXELS,
        max_decoded_bytes: MAX_IMAGE_DECODED_BYTES,
    };

    /// Checks the size in pixels that a header declares.
    pub fn check_dimensions(&self, width: u32, height: u32) -> Result<(), Rejection> {
        if width == 0 || height == 0 {
            return Err(Rejection::Invalid("the image has no pixels".into()));
        }
        if width > self.max_side || height > self.max_side || u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(Rejection::Invalid(format!(
                "the image is too large: {width}×{height} pixels (at most {} pixels a side and {} megapixels)",
                self.max_side,
                self.max_pixels as f64 / 1e6
            )));
        }
        Ok(())
    }

    /// Checks the memory a decode takes: the pixels times the bytes per pixel of
    /// the colour type the decoder produces.
    pub fn check_decoded_bytes(&self, width: u32, height: u32, total: u64) -> Result<(), Rejection> {
        if total > self.max_decoded_bytes {
            return Err(Rejection::Invalid(format!(
                "the image needs too much memory to open: {width}×{height} pixels take {} MB decoded (at most {} MB)",
                total / 1_000_000,
                self.max_decoded_bytes / 1_000_000
            )));
        }
        Ok(())
    }
}

fn damaged() -> Rejection {
    Rejection::Invalid("the image is damaged or incomplete and cannot be shown".into())
}

/// The thumbnail's size: the image fitted in a `THUMB_MAX_SIDE` square, never
/// enlarged, never below 1 pixel.
pub fn thumb_size(width: u32, height: u32) -> (u32, u32) {
    let max = THUMB_MAX_SIDE;
    if width <= max && height <= max {
        return (width, height);
    }
    let (w, h) = (u64::from(width), u64::from(height));
    let m = u64::from(max);
    let (tw, th) = if w >= h {
        (m, (h * m + w / 2) / w)
    } else {
        ((w * m + h / 2) / h, m)
    };
    (
        u32::try_from(tw).unwrap_or(max).max(1),
        u32::try_from(th).unwrap_or(max).max(1),
    )
}

/// Runs every check on an upload and makes its thumbnail, within
/// [`CheckLimits::UPLOADS`].
pub fn check(bytes: &[u8]) -> Result<Checked, Rejection> {
    check_with(bytes, &CheckLimits::UPLOADS)
}

/// [`check`] within other bounds (the fuzz target's smaller ones).
pub fn check_with(bytes: &[u8], bounds: &CheckLimits) -> Result<Checked, Rejection> {
    let Some((format, mime)) = sniff(bytes) else {
        return Err(Rejection::Unsupported(if looks_like_markup(bytes) {
            "SVG and other markup files are not accepted; send a PNG, JPEG, WebP or GIF image".into()
        } else {
            "this file is not a PNG, JPEG, WebP or GIF image".into()
        }));
    };
    // The header only: no pixel is decoded here.
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| damaged())?;
    bounds.check_dimensions(width, height)?;

    let mut limits = Limits::default();
    limits.max_image_width = Some(bounds.max_side);
    limits.max_image_height = Some(bounds.max_side);
    // The decoded picture, a rotated copy of it, and slack for the decoder.
    limits.max_alloc = Some(2 * bounds.max_decoded_bytes + 16 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let refused = |err: image::ImageError| match err {
        image::ImageError::Limits(_) => Rejection::Invalid("the image needs too much memory to open".into()),
        _ => damaged(),
    };
    let mut decoder = reader.into_decoder().map_err(refused)?;
    bounds.check_decoded_bytes(width, height, decoder.total_bytes())?;
    // Photos from phones say in EXIF which way is up; browsers honour it, so do we.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut decoded = DynamicImage::from_decoder(decoder).map_err(refused)?;
    if (decoded.width(), decoded.height()) != (width, height) {
        return Err(damaged());
    }
    decoded.apply_orientation(orientation);
    let (width, height) = (decoded.width(), decoded.height());
    let (thumb_width, thumb_height) = thumb_size(width, height);
    let thumb = make_thumb(decoded, thumb_width, thumb_height).map_err(|_| damaged())?;
    Ok(Checked {
        mime,
        width,
        height,
        thumb,
        thumb_width,
        thumb_height,
    })
}

fn make_thumb(image: DynamicImage, width: u32, height: u32) -> image::ImageResult<Vec<u8>> {
    let small = if (image.width(), image.height()) == (width, height) {
        image
    } else {
        // `thumbnail` averages whole source pixels: fast, and sharp enough for text.
        image.thumbnail_exact(width, height)
    };
    let small = if small.color().has_alpha() {
        DynamicImage::ImageRgba8(small.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(small.to_rgb8())
    };
    let mut out = Cursor::new(Vec::new());
    small.write_to(&mut out, ImageFormat::Png)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_fit_in_the_square_and_keep_the_aspect() {
        assert_eq!(thumb_size(3840, 2160), (320, 180));
        assert_eq!(thumb_size(1080, 1920), (180, 320));
        assert_eq!(thumb_size(100, 50), (100, 50));
        assert_eq!(thumb_size(16000, 1), (320, 1));
    }

    #[test]
    fn types_come_from_the_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").map(|s| s.1), Some("image/png"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").map(|s| s.1), Some("image/webp"));
        assert!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>").is_none());
        assert!(matches!(check(b"<?xml version=\"1.0\"?><svg/>"), Err(Rejection::Unsupported(m)) if m.contains("SVG")));
        assert!(matches!(check(b"hello, I am text"), Err(Rejection::Unsupported(_))));
    }

    #[test]
    fn a_real_png_gets_a_png_thumbnail() {
        let mut png = Cursor::new(Vec::new());
        DynamicImage::new_rgb8(1000, 500)
            .write_to(&mut png, ImageFormat::Png)
            .expect("encode");
        let checked = check(png.get_ref()).expect("accepted");
        assert_eq!((checked.mime, checked.width, checked.height), ("image/png", 1000, 500));
        assert_eq!((checked.thumb_width, checked.thumb_height), (320, 160));
        let thumb = image::load_from_memory(&checked.thumb).expect("thumb decodes");
        assert_eq!((thumb.width(), thumb.height()), (320, 160));
        // Cut short: the header is there, the pixels are not.
        let cut = &png.get_ref()[..png.get_ref().len() / 2];
        assert!(matches!(check(cut), Err(Rejection::Invalid(_))));
    }

    #[test]
    fn jpeg_webp_and_gif_are_accepted_and_named_by_content() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(640, 360, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        }));
        for (format, mime) in [
            (ImageFormat::Jpeg, "image/jpeg"),
            (ImageFormat::WebP, "image/webp"),
            (ImageFormat::Gif, "image/gif"),
        ] {
            let mut bytes = Cursor::new(Vec::new());
            let source = if format == ImageFormat::Gif {
                DynamicImage::ImageRgba8(img.to_rgba8())
            } else {
                img.clone()
            };
            source.write_to(&mut bytes, format).expect("encode");
            let checked = check(bytes.get_ref()).unwrap_or_else(|e| panic!("{mime}: {e:?}"));
            assert_eq!((checked.mime, checked.width, checked.height), (mime, 640, 360));
            assert_eq!((checked.thumb_width, checked.thumb_height), (320, 180));
            assert_eq!(extension(mime), &mime[6..].replace("jpeg", "jpg"));
        }
    }

    #[test]
    fn exif_orientation_turns_the_thumbnail_and_the_reported_size() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(640, 360, image::Rgb([200, 30, 30])));
        let mut jpeg = Cursor::new(Vec::new());
        img.write_to(&mut jpeg, ImageFormat::Jpeg).expect("encode");
        let jpeg = jpeg.into_inner();
        // APP1 Exif: little-endian TIFF, one IFD entry: Orientation (0x0112) = 6 (turn 90° clockwise).
        let tiff: &[u8] = &[
            b'I', b'I', 0x2A, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0,
        ];
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(tiff);
        let mut with_exif = jpeg[..2].to_vec();
        with_exif.extend_from_slice(&[0xFF, 0xE1]);
        with_exif.extend_from_slice(&u16::try_from(app1.len() + 2).expect("small").to_be_bytes());
        with_exif.extend_from_slice(&app1);
        with_exif.extend_from_slice(&jpeg[2..]);
        let checked = check(&with_exif).expect("accepted");
        assert_eq!((checked.width, checked.height), (360, 640));
        assert_eq!((checked.thumb_width, checked.thumb_height), (180, 320));
    }
}
