//! Images in the chat: uploads by agents (annotated snapshots) and visitors, who may
//! see them, and hostile files.

use std::io::Cursor;
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use serde_json::{json, Value};
use sightline_proto::api::UploadedImage;
use sightline_proto::{ErrorCode, EventKind, ImageId, ImageRef, MessageBody, Role, ServerMessage};

use crate::support::TestServer;

const SITE: &str = "https://shop.example";

/// A PNG with some structure (so it is not trivially small).
fn png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        if (x / 40 + y / 40) % 2 == 0 {
            Rgb([250, 250, 250])
        } else {
            Rgb([30, 90, (x % 256) as u8])
        }
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img)
        .write_to(&mut out, ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).expect("chunk size").to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// Deflate bits, least significant first; Huffman codes go most significant first.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    fn code(&mut self, code: u32, len: u32) {
        let reversed = (0..len).fold(0, |r, i| r | (((code >> i) & 1) << (len - 1 - i)));
        self.put(reversed, len);
    }
}

/// A valid zlib stream of `n` zero bytes (fixed Huffman: a literal, then runs of
/// 258 at distance 1).
fn zlib_zeros(n: u64) -> Vec<u8> {
    let mut bits = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // final block
    bits.put(1, 2); // fixed Huffman
    bits.code(0x30, 8); // literal 0
    let mut left = n - 1;
    while left >= 3 {
        let run = left.min(258);
        // Length codes 257..: here only the ones needed for 258 and for the remainder.
        let (symbol, extra_bits, extra) = length_code(run as u32);
        if symbol <= 279 {
            bits.code(symbol - 256, 7);
        } else {
            bits.code(0xC0 + (symbol - 280), 8);
        }
        if extra_bits > 0 {
            bits.put(extra, extra_bits);
        }
        bits.code(0, 5); // distance 1
        left -= run;
    }
    for _ in 0..left {
        bits.code(0x30, 8);
    }
    bits.code(0, 7); // end of block
    if bits.n > 0 {
        bits.out.push(bits.acc as u8);
    }
    let b = (n % 65521) as u32; // Adler-32 of zeros: a stays 1, b grows by 1 a byte.
    bits.out.extend_from_slice(&((b << 16) | 1).to_be_bytes());
    bits.out
}

fn length_code(len: u32) -> (u32, u32, u32) {
    const BASE: [u32; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
        258,
    ];
    const EXTRA: [u32; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    let i = (0..29).rev().find(|&i| BASE[i] <= len).expect("length >= 3");
    (257 + i as u32, EXTRA[i], len - BASE[i])
}

/// A real, valid PNG of `side`×`side` black 1-bit pixels: tiny on disk, huge decoded.
fn png_of_zeros(side: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // 1 bit, greyscale, deflate, filter 0, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    let row = 1 + u64::from(side).div_ceil(8);
    chunk(&mut out, b"IDAT", &zlib_zeros(row * u64::from(side)));
    chunk(&mut out, b"IEND", &[]);
    out
}

async fn visitor_upload(server: &TestServer, token: &str, client_id: &str, bytes: Vec<u8>) -> reqwest::Response {
    crate::support::client_builder()
        .build()
        .expect("client")
        .post(format!("{}/api/visitor/images", server.url))
        .bearer_auth(token)
        .header("x-client-id", client_id)
        .header("content-type", "image/png")
        .body(bytes)
        .send()
        .await
        .expect("upload")
}

async fn get_as_visitor(server: &TestServer, token: &str, path: &str) -> reqwest::Response {
    crate::support::client_builder()
        .build()
        .expect("client")
        .get(format!("{}{path}", server.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
}

fn image_event(m: &ServerMessage) -> Option<(Role, ImageRef)> {
    match m {
        ServerMessage::Event { event, .. } => match &event.kind {
            EventKind::Message {
                from,
                body: MessageBody::Image { image },
                ..
            } => Some((*from, image.clone())),
            _ => None,
        },
        _ => None,
    }
}

async fn error_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error body");
    (
        status,
        body["error"].as_str().unwrap_or("").to_owned(),
        body["message"].as_str().unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn an_agents_snapshot_reaches_the_visitor_with_a_thumbnail_and_only_them() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let (mut visitor, token, conversation) = server.accepted_conversation(&mut anna).await;
    let (anna_http, csrf, _) = server.login("anna").await;

    let original = png(1000, 600);
    let upload = |client_id: &'static str| {
        anna_http
            .post(format!("{}/api/conversations/{conversation}/images", server.url))
            .header("x-csrf-token", &csrf)
            .header("x-client-id", client_id)
            .header("content-type", "image/png")
            .body(original.clone())
            .send()
    };
    let response = upload("snap-1").await.expect("upload");
    assert_eq!(response.status(), 201);
    let posted: UploadedImage = response.json().await.expect("json");
    assert_eq!(
        (posted.image.width, posted.image.height, posted.image.mime.as_str()),
        (1000, 600, "image/png")
    );
    assert_eq!((posted.image.thumb_width, posted.image.thumb_height), (320, 192));
    assert_eq!(posted.image.bytes, original.len() as u64);
    assert_eq!(posted.conversation, conversation);

    // Stored before answered; delivered to the visitor as an image message.
    let stored = server
        .store
        .events(&conversation, posted.seq - 1, Some(posted.seq), 1)
        .await
        .expect("events");
    assert_eq!(stored.len(), 1);
    let event = visitor.expect(|m| image_event(m).is_some()).await;
    let (from, image) = image_event(&event).expect("image");
    assert_eq!(from, Role::Agent);
    assert_eq!(image, posted.image);

    // A retry is not posted twice.
    let again = upload("snap-1").await.expect("retry");
    assert_eq!(again.status(), 200);
    let again: UploadedImage = again.json().await.expect("json");
    assert_eq!(
        (again.seq, again.image.id.as_str()),
        (posted.seq, posted.image.id.as_str())
    );

    // The visitor sees the thumbnail and the original.
    let thumb = get_as_visitor(&server, &token, &format!("/api/images/{}/thumb", image.id)).await;
    assert_eq!(thumb.status(), 200);
    assert_eq!(thumb.headers()["content-type"], "image/png");
    assert_eq!(
        thumb.headers()["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    assert_eq!(thumb.headers()["x-content-type-options"], "nosniff");
    assert!(thumb.headers()["cache-control"]
        .to_str()
        .expect("ascii")
        .starts_with("private"));
    let thumb =
        image::load_from_memory_with_format(&thumb.bytes().await.expect("bytes"), ImageFormat::Png).expect("a PNG");
    assert!(thumb.width() <= 320 && thumb.height() <= 320);
    assert_eq!((thumb.width(), thumb.height()), (320, 192));
    let full = get_as_visitor(&server, &token, &format!("/api/images/{}", image.id)).await;
    assert_eq!(full.status(), 200);
    let disposition = full.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        disposition.starts_with("inline; filename=") && disposition.ends_with(".png\""),
        "{disposition}"
    );
    assert_eq!(full.bytes().await.expect("bytes").as_ref(), original.as_slice());

    // Another visitor is refused both; nobody at all gets 401; any agent may look.
    let mut other = server.visitor().await;
    let (other_token, _) = other.hello(None, 0).await;
    other.say(None, "o-1", "hello").await;
    for path in [
        format!("/api/images/{}", image.id),
        format!("/api/images/{}/thumb", image.id),
    ] {
        assert_eq!(
            get_as_visitor(&server, &other_token, &path).await.status(),
            403,
            "{path}"
        );
        assert_eq!(
            get_as_visitor(&server, "made-up-token", &path).await.status(),
            403,
            "{path}"
        );
        let anonymous = crate::support::client_builder()
            .build()
            .expect("client")
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .expect("get");
        assert_eq!(anonymous.status(), 401, "{path}");
        // Another agent: the conversation is Anna's and active, so not Ben's to
        // read (ARCHITECTURE.md, "who reads what").
        let (ben, _, _) = server.login("ben").await;
        assert_eq!(
            ben.get(format!("{}{path}", server.url))
                .send()
                .await
                .expect("get")
                .status(),
            403
        );
    }
    assert_eq!(
        get_as_visitor(&server, &token, "/api/images/no-such-image")
            .await
            .status(),
        404
    );

    // Ben does not own the conversation: he may not post into it.
    let (ben, ben_csrf, _) = server.login("ben").await;
    let refused = ben
        .post(format!("{}/api/conversations/{conversation}/images", server.url))
        .header("x-csrf-token", ben_csrf)
        .header("x-client-id", "ben-1")
        .body(png(10, 10))
        .send()
        .await
        .expect("upload");
    assert_eq!(refused.status(), 403);
    // Without the CSRF token, nothing.
    let no_csrf = anna_http
        .post(format!("{}/api/conversations/{conversation}/images", server.url))
        .header("x-client-id", "snap-x")
        .body(png(10, 10))
        .send()
        .await
        .expect("upload");
    assert_eq!(no_csrf.status(), 403);
    visitor.assert_alive().await;
    server.stop().await;
}

#[tokio::test]
async fn a_visitors_picture_reaches_the_agent_and_a_new_visitor_starts_a_conversation() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let (_visitor, token, conversation) = server.accepted_conversation(&mut anna).await;

    let response = visitor_upload(&server, &token, "pic-1", png(640, 480)).await;
    assert_eq!(response.status(), 201);
    let posted: UploadedImage = response.json().await.expect("json");
    assert_eq!(posted.conversation, conversation);
    let event = anna.expect(|m| image_event(m).is_some()).await;
    let (from, image) = image_event(&event).expect("image");
    assert_eq!((from, image.width, image.height), (Role::Visitor, 640, 480));
    let (anna_http, _, _) = server.login("anna").await;
    let thumb = anna_http
        .get(format!("{}/api/images/{}/thumb", server.url, image.id))
        .send()
        .await
        .expect("get");
    assert_eq!(thumb.status(), 200);

    // A visitor who has not written yet: the picture opens their conversation.
    let mut fresh = server.visitor().await;
    let (fresh_token, none) = fresh.hello(None, 0).await;
    assert!(none.is_none());
    let response = visitor_upload(&server, &fresh_token, "pic-1", png(50, 50)).await;
    assert_eq!(response.status(), 201);
    let posted: UploadedImage = response.json().await.expect("json");
    assert_eq!(posted.seq, 2, "seq 1 is the conversation start");
    assert_ne!(posted.conversation, conversation);
    fresh.expect(|m| image_event(m).is_some()).await;
    let summary = anna
        .expect(|m| matches!(m, ServerMessage::ConversationUpdated { conversation: c } if c.id == posted.conversation))
        .await;
    assert!(
        matches!(summary, ServerMessage::ConversationUpdated { conversation: c } if c.preview.as_deref() == Some("Image"))
    );

    // Tokens the server never issued post nothing.
    let response = visitor_upload(&server, "never-issued", "pic-2", png(50, 50)).await;
    assert_eq!(response.status(), 401);
    let response = crate::support::client_builder()
        .build()
        .expect("client")
        .post(format!("{}/api/visitor/images", server.url))
        .header("x-client-id", "pic-3")
        .body(png(50, 50))
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 401);
    server.stop().await;
}

/// Files of an upload whose message was never posted are swept; the files of
/// posted images stay, however old.
#[tokio::test]
async fn the_blob_sweep_removes_only_files_no_image_refers_to() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let (_visitor, token, _) = server.accepted_conversation(&mut anna).await;
    let response = visitor_upload(&server, &token, "pic-1", png(640, 480)).await;
    assert_eq!(response.status(), 201);
    let posted: UploadedImage = response.json().await.expect("json");
    let record = server
        .store
        .image(&posted.image.id)
        .await
        .expect("store")
        .expect("image");

    let blobs = sightline_store::BlobStore::open(server.data_dir.join("images")).expect("blobs");
    let orphan = blobs.put(b"an upload that was never posted").expect("put");
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    for name in [&orphan, &record.sha256, &record.thumb_sha256] {
        std::fs::File::options()
            .write(true)
            .open(blobs.path(name).expect("path"))
            .expect("open")
            .set_modified(two_hours_ago)
            .expect("mtime");
    }
    let fresh_orphan = blobs.put(b"an upload still on its way").expect("put");

    let removed = sightline::sweep_blobs(&server.store, &blobs, sightline::BLOB_GRACE)
        .await
        .expect("sweep");
    assert_eq!(removed, 1);
    assert!(blobs.get(&orphan).is_err(), "the old orphan is gone");
    assert!(blobs.get(&fresh_orphan).is_ok(), "a recent file is left alone");
    let (anna_http, _, _) = server.login("anna").await;
    for suffix in ["", "/thumb"] {
        let got = anna_http
            .get(format!("{}/api/images/{}{suffix}", server.url, posted.image.id))
            .send()
            .await
            .expect("get");
        assert_eq!(got.status(), 200, "the posted image{suffix} is still served");
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_files_are_refused_with_clear_errors() {
    let server = TestServer::start().await;
    let mut visitor = server.visitor().await;
    let (token, _) = visitor.hello(None, 0).await;

    let good = png(400, 300);
    let truncated = good[..good.len() / 2].to_vec();
    let (status, error, message) = error_of(visitor_upload(&server, &token, "bad-1", truncated).await).await;
    assert_eq!((status, error.as_str()), (422, "invalid_image"));
    assert!(message.contains("damaged"), "{message}");

    let text = b"Dear support, my password is hunter2. Please help.\n".repeat(20);
    let (status, error, message) = error_of(visitor_upload(&server, &token, "bad-2", text).await).await;
    assert_eq!((status, error.as_str()), (415, "unsupported_type"));
    assert!(message.contains("PNG, JPEG, WebP or GIF"), "{message}");

    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>"#;
    let (status, _, message) = error_of(visitor_upload(&server, &token, "bad-3", svg.to_vec()).await).await;
    assert_eq!(status, 415);
    assert!(message.contains("SVG"), "{message}");

    // The bomb generator makes valid PNGs: a small one decodes.
    let small = image::load_from_memory(&png_of_zeros(300)).expect("a valid PNG");
    assert_eq!((small.width(), small.height()), (300, 300));
    for side in [30_000, 16_000] {
        let bomb = png_of_zeros(side);
        assert!(bomb.len() < 1024 * 1024, "the bomb is small: {} bytes", bomb.len());
        let started = Instant::now();
        let (status, error, message) = error_of(visitor_upload(&server, &token, "bad-4", bomb).await).await;
        assert_eq!((status, error.as_str()), (422, "invalid_image"), "{side}: {message}");
        assert!(message.contains("too large"), "{message}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "refused from the header, not by decoding"
        );
    }

    let mut big = good.clone();
    big.resize(11 * 1024 * 1024, 0);
    let (status, error, message) = error_of(visitor_upload(&server, &token, "bad-5", big).await).await;
    assert_eq!((status, error.as_str()), (413, "too_large"));
    assert!(message.contains("10 MB"), "{message}");

    // Nothing was posted, and the server is fine.
    assert!(visitor.say(None, "ok-1", "still here").await.1 > 0);
    let server_ok = visitor_upload(&server, &token, "ok-2", good).await;
    assert_eq!(server_ok.status(), 201);
    server.stop().await;
}

#[tokio::test]
async fn images_cannot_be_sent_over_the_socket() {
    let server = TestServer::start().await;
    let mut visitor = server.visitor().await;
    visitor.hello(None, 0).await;
    visitor
        .send(
            json!({"type": "send", "conversation": null, "client_id": "fake-1", "body": {"kind": "image", "image": {
            "id": "someone-elses", "mime": "image/png", "width": 1, "height": 1, "bytes": 1,
            "thumb_width": 1, "thumb_height": 1, "has_annotations": false, "source_image": null}}}),
        )
        .await;
    assert_eq!(visitor.error_code().await, ErrorCode::BadRequest);
    visitor.assert_alive().await;
    server.stop().await;
}

#[tokio::test]
async fn the_widget_may_upload_from_allowed_sites_only() {
    let server = TestServer::start_with_origins(vec![SITE.into()]).await;
    let mut visitor = server.visitor().await;
    let (token, _) = visitor.hello(None, 0).await;
    let http = crate::support::client_builder().build().expect("client");
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, format!("{}/api/visitor/images", server.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, x-client-id, content-type",
            )
            .send()
    };
    let ok = preflight(SITE).await.expect("preflight");
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], SITE);
    let allowed = ok.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_owned();
    for h in ["authorization", "content-type", "x-client-id"] {
        assert!(allowed.contains(h), "{allowed}");
    }
    assert!(ok.headers().get("access-control-allow-credentials").is_none());
    let evil = preflight("https://evil.example").await.expect("preflight");
    assert!(evil.headers().get("access-control-allow-origin").is_none());

    let from_site = http
        .post(format!("{}/api/visitor/images", server.url))
        .header("origin", SITE)
        .bearer_auth(&token)
        .header("x-client-id", "c-1")
        .body(png(20, 20))
        .send()
        .await
        .expect("upload");
    assert_eq!(from_site.status(), 201);
    assert_eq!(from_site.headers()["access-control-allow-origin"], SITE);
    let posted: UploadedImage = from_site.json().await.expect("json");
    let read = http
        .get(format!("{}/api/images/{}/thumb", server.url, posted.image.id))
        .header("origin", SITE)
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(read.status(), 200);
    assert_eq!(read.headers()["access-control-allow-origin"], SITE);

    let from_evil = http
        .post(format!("{}/api/visitor/images", server.url))
        .header("origin", "https://evil.example")
        .bearer_auth(&token)
        .header("x-client-id", "c-2")
        .body(png(20, 20))
        .send()
        .await
        .expect("upload");
    assert_eq!(from_evil.status(), 403);
    assert!(from_evil.headers().get("access-control-allow-origin").is_none());
    server.stop().await;
}

fn multipart(image: &[u8], annotations: Option<&str>) -> (String, Vec<u8>) {
    let boundary = "sightline-test-boundary-7f3a";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"snapshot.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
    body.extend_from_slice(image);
    body.extend_from_slice(b"\r\n");
    if let Some(annotations) = annotations {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"annotations\"\r\nContent-Type: application/json\r\n\r\n{annotations}\r\n").as_bytes());
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn annotations_are_kept_with_the_annotated_copy() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let (mut visitor, token, conversation) = server.accepted_conversation(&mut anna).await;
    let (anna_http, csrf, _) = server.login("anna").await;
    let response = visitor_upload(&server, &token, "shot-1", png(800, 600)).await;
    let source: UploadedImage = response.json().await.expect("json");

    let annotations = json!({"version": 1, "shapes": [{"kind": "arrow", "from": [10, 10], "to": [200, 120], "color": "#e00"},
        {"kind": "text", "at": [220, 130], "text": "click here"}]});
    let send = |client_id: &'static str, source_image: ImageId, image: Vec<u8>, annotations: Option<String>| {
        let (content_type, body) = multipart(&image, annotations.as_deref());
        anna_http
            .post(format!(
                "{}/api/conversations/{conversation}/images?source_image={source_image}",
                server.url
            ))
            .header("x-csrf-token", &csrf)
            .header("x-client-id", client_id)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let response = send(
        "edit-1",
        source.image.id.clone(),
        png(800, 600),
        Some(annotations.to_string()),
    )
    .await
    .expect("upload");
    assert_eq!(response.status(), 201);
    let edited: UploadedImage = response.json().await.expect("json");
    assert!(edited.image.has_annotations);
    assert_eq!(edited.image.source_image.as_ref(), Some(&source.image.id));
    let event = visitor
        .expect(|m| image_event(m).is_some_and(|(from, _)| from == Role::Agent))
        .await;
    assert_eq!(image_event(&event).map(|(_, i)| i), Some(edited.image.clone()));

    let read = anna_http
        .get(format!("{}/api/images/{}/annotations", server.url, edited.image.id))
        .send()
        .await
        .expect("get");
    assert_eq!(read.status(), 200);
    let read: Value = read.json().await.expect("json");
    assert_eq!(read["annotations"], annotations);
    // Only agents read annotations; an image without any has none.
    let as_visitor = get_as_visitor(&server, &token, &format!("/api/images/{}/annotations", edited.image.id)).await;
    assert_eq!(as_visitor.status(), 401);
    let none = anna_http
        .get(format!("{}/api/images/{}/annotations", server.url, source.image.id))
        .send()
        .await
        .expect("get");
    assert_eq!(none.status(), 404);

    // Annotations must be a JSON object; the source must be of this conversation.
    let bad = send("edit-2", source.image.id.clone(), png(80, 60), Some("[1, 2]".into()))
        .await
        .expect("upload");
    assert_eq!(bad.status(), 422);
    let mut other = server.visitor().await;
    let (other_token, _) = other.hello(None, 0).await;
    let foreign: UploadedImage = visitor_upload(&server, &other_token, "f-1", png(30, 30))
        .await
        .json()
        .await
        .expect("json");
    let bad = send("edit-3", foreign.image.id, png(80, 60), None)
        .await
        .expect("upload");
    assert_eq!(bad.status(), 422);
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(300 * 1024));
    let bad = send("edit-4", source.image.id.clone(), png(80, 60), Some(huge))
        .await
        .expect("upload");
    assert_eq!(bad.status(), 413);
    server.stop().await;
}

#[tokio::test]
async fn floods_of_uploads_are_slowed_down() {
    let server = TestServer::start().await;
    let mut visitor = server.visitor().await;
    let (token, _) = visitor.hello(None, 0).await;
    let mut statuses = Vec::new();
    for i in 0..25 {
        let response = visitor_upload(&server, &token, &format!("flood-{i}"), b"not an image".to_vec()).await;
        statuses.push(response.status().as_u16());
    }
    assert!(statuses[..20].iter().all(|s| *s == 415), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    let (status, error, message) = error_of(visitor_upload(&server, &token, "flood-x", png(10, 10)).await).await;
    assert_eq!((status, error.as_str()), (429, "rate_limited"));
    assert!(message.contains("wait"), "{message}");
    server.stop().await;
}

/// The unannotated base of a share snapshot is kept for agents only: stored, never
/// posted, never shown to the visitor, and only the conversation's agent may store one.
#[tokio::test]
async fn a_snapshot_base_is_kept_for_agents_only() {
    let server = TestServer::start().await;
    let mut anna = server.agent("anna").await;
    let (mut visitor, token, conversation) = server.accepted_conversation(&mut anna).await;
    let (anna_http, csrf, _) = server.login("anna").await;
    let upload = |http: reqwest::Client, csrf: String, query: &'static str, client_id: &'static str, body: Vec<u8>| {
        http.post(format!(
            "{}/api/conversations/{conversation}/images?{query}",
            server.url
        ))
        .header("x-csrf-token", csrf)
        .header("x-client-id", client_id)
        .header("content-type", "image/png")
        .body(body)
        .send()
    };
    let response = upload(
        anna_http.clone(),
        csrf.clone(),
        "agents_only=true",
        "base-1",
        png(1280, 720),
    )
    .await
    .expect("upload");
    assert_eq!(response.status(), 201);
    let base: UploadedImage = response.json().await.expect("json");
    assert_eq!(base.seq, 0, "not a message");
    assert!(
        server
            .store
            .image(&base.image.id)
            .await
            .expect("store")
            .expect("row")
            .agents_only
    );

    // The agent reads it; the conversation's own visitor may not.
    let got = anna_http
        .get(format!("{}/api/images/{}", server.url, base.image.id))
        .send()
        .await
        .expect("get");
    assert_eq!(got.status(), 200);
    for path in ["", "/thumb"] {
        let refused = get_as_visitor(&server, &token, &format!("/api/images/{}{path}", base.image.id)).await;
        assert_eq!(refused.status(), 403, "{path}");
    }
    // Nothing was posted: the next message the visitor sees is the next seq.
    anna.send(json!({"type": "send", "conversation": conversation, "client_id": "a-1", "body": {"kind": "text", "text": "look"}}))
        .await;
    let event = visitor
        .expect(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Message { .. })))
        .await;
    let ServerMessage::Event { event, .. } = event else {
        unreachable!()
    };
    assert!(matches!(
        event.kind,
        EventKind::Message {
            from: Role::Agent,
            body: MessageBody::Text { .. },
            ..
        }
    ));
    let events = server.store.events(&conversation, 0, None, 100).await.expect("events");
    assert!(
        !events.iter().any(|e| matches!(
            &e.kind,
            EventKind::Message {
                body: MessageBody::Image { .. },
                ..
            }
        )),
        "no image message in the transcript"
    );

    // Another agent cannot store one here; with annotations or a source it is refused.
    let (ben_http, ben_csrf, _) = server.login("ben").await;
    let refused = upload(ben_http, ben_csrf, "agents_only=true", "base-2", png(64, 64))
        .await
        .expect("upload");
    assert_eq!(refused.status(), 403);
    let refused = upload(
        anna_http.clone(),
        csrf.clone(),
        "agents_only=true&source_image=x",
        "base-3",
        png(64, 64),
    )
    .await
    .expect("upload");
    assert_eq!(refused.status(), 400);
    server.stop().await;
}
