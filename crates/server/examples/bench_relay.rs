//! The relay's figures beside the bare limit: one publisher fanning binary frames
//! out to 1 and to 5 subscribers, with 1 KB and 64 KB frames, through
//! - **sightline**: the real server (in this process, on 127.0.0.1 port 0, a
//!   temporary SQLite directory), the stream granted the real way (an agent logs
//!   in and asks to co-browse, a visitor allows, each end opens `/ws/stream` with
//!   its token), and
//! - **bare**: a plain tokio-tungstenite server doing the same work (a broadcast
//!   ring of 128 frames, one task per subscriber writing the shared bytes),
//!
//! measured the same way in the same run: the highest rate with nothing lost (the
//! publisher keeps at most 64 frames ahead of the slowest subscriber), then the
//! publish-to-receive latency at half of that rate (p50/p99/max).
//!
//! `cargo xtask bench-relay` (or `cargo run --release -p sightline --example
//! bench_relay -- [--seconds S]`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

type Bytes = tokio_tungstenite::tungstenite::Bytes;

/// Where a frame's send time is, in bytes from its start: after the stream
/// frame's header and the JSON before it.
const STAMP_AT: usize = 10 + PREFIX.len();
const PREFIX: &str = r#"[{"type":3,"timestamp":0,"data":{"source":1,"stamp":""#;

/// A co-browse message of one event (so that the relay's checks pass, and do
/// their work), carrying its send time as 20 digits, padded with `pad`.
fn stamped(n: u32, ns: u64, pad: &str) -> Vec<u8> {
    let json = format!(r#"{PREFIX}{ns:020}","pad":"{pad}"}}}}]"#);
    let mut frames = sightline_core::stream_check::frame_message(n, json.as_bytes(), false);
    frames.remove(0)
}

fn read_stamp(frame: &[u8]) -> u64 {
    std::str::from_utf8(&frame[STAMP_AT..STAMP_AT + 20])
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("a stamp")
}

/// Frames the publisher may be ahead of the slowest subscriber in the rate test.
const WINDOW: u64 = 64;

// ---------------------------------------------------------------------------
// The bare server: what a relay cannot do less than.

async fn bare_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (frames, _) = broadcast::channel::<Bytes>(128);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let frames = frames.clone();
            tokio::spawn(async move {
                let mut path = String::new();
                // The callback's error type is tungstenite's, large by its design.
                #[allow(clippy::result_large_err)]
                let ws = tokio_tungstenite::accept_hdr_async(tcp, |request: &Request, response: Response| {
                    path = request.uri().path().to_owned();
                    Ok(response)
                })
                .await;
                let Ok(ws) = ws else { return };
                let (mut sink, mut stream) = ws.split();
                if path == "/pub" {
                    while let Some(Ok(message)) = stream.next().await {
                        if let Message::Binary(bytes) = message {
                            let _ = frames.send(bytes);
                        }
                    }
                } else {
                    let mut rx = frames.subscribe();
                    loop {
                        match rx.recv().await {
                            Ok(bytes) => {
                                if sink.send(Message::Binary(bytes)).await.is_err() {
                                    return;
                                }
                            }
                            Err(broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(broadcast::error::RecvError::Closed) => return,
                        }
                    }
                }
            });
        }
    });
    addr
}

// ---------------------------------------------------------------------------
// Sightline, and a stream granted the real way.

struct Sightline {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

async fn sightline_server() -> Sightline {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = sightline::config::Config::for_tests(dir.path().to_path_buf());
    // The bench measures the relay, not the stream's rate limits.
    config.stream_limits = sightline::relay::StreamLimits {
        bytes_per_second: 1e12,
        burst_bytes: u32::MAX,
        frames_per_second: 1e9,
        burst_frames: u32::MAX,
        total_bytes: u64::MAX,
        total_frames: u64::MAX,
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let store = sightline::open_store(&config).await.expect("store");
    let hash = sightline::auth::hash_password("bench-password-1".into())
        .await
        .expect("hash");
    store.create_user("anna", "Anna", &hash, true, 0).await.expect("user");
    tokio::spawn(sightline::run(listener, config, store, std::future::pending()));
    Sightline { addr, _dir: dir }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws(url: &str, cookie: Option<&str>) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().expect("request");
    if let Some(cookie) = cookie {
        request.headers_mut().insert("cookie", cookie.parse().expect("cookie"));
    }
    // A stream has at most 8 sockets: the previous run's may still be closing.
    let give_up = Instant::now() + Duration::from_secs(5);
    loop {
        match tokio_tungstenite::connect_async(request.clone()).await {
            Ok((socket, _)) => return socket,
            Err(err) if Instant::now() < give_up => {
                let _ = err;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(err) => panic!("connect {url}: {err}"),
        }
    }
}

async fn send(ws: &mut Ws, value: Value) {
    ws.send(Message::text(value.to_string())).await.expect("send");
}

async fn until(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("open")
            .expect("frame");
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(text.as_str()).expect("json");
            if pred(&value) {
                return value;
            }
        }
    }
}

/// Logs Anna in, opens a conversation, asks to co-browse, allows: the stream, and
/// Anna's and the visitor's chat sockets (which ask for fresh tokens).
async fn grant(server: &Sightline) -> (String, Ws, Ws) {
    let body = json!({"name": "anna", "password": "bench-password-1"}).to_string();
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    let request = format!(
        "POST /api/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len(),
        addr = server.addr
    );
    tokio::io::AsyncWriteExt::write_all(&mut tcp, request.as_bytes())
        .await
        .expect("login");
    let mut response = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut tcp, &mut response)
        .await
        .expect("login answer");
    let response = String::from_utf8_lossy(&response);
    let cookie = response
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: sightline_session=")
                .then(|| l["set-cookie: ".len()..].split(';').next().unwrap_or("").to_owned())
        })
        .expect("a session cookie");
    let mut anna = ws(&format!("ws://{}/ws/agent", server.addr), Some(&cookie)).await;
    send(&mut anna, json!({"type": "agent_hello", "protocol": 1})).await;
    until(&mut anna, |v| v["type"] == "agent_welcome").await;
    let mut visitor = ws(&format!("ws://{}/ws/visitor", server.addr), None).await;
    send(
        &mut visitor,
        json!({"type": "visitor_hello", "protocol": 1, "token": null, "after_seq": 0, "page": null}),
    )
    .await;
    until(&mut visitor, |v| v["type"] == "visitor_welcome").await;
    send(
        &mut visitor,
        json!({"type": "send", "conversation": null, "client_id": "b1", "body": {"kind": "text", "text": "hi"}}),
    )
    .await;
    let ack = until(&mut visitor, |v| v["type"] == "ack").await;
    let conversation = ack["conversation"].as_str().expect("id").to_owned();
    send(&mut anna, json!({"type": "accept", "conversation": conversation})).await;
    until(&mut visitor, |v| {
        v["type"] == "event" && v["event"]["kind"] == "agent_joined"
    })
    .await;
    send(
        &mut anna,
        json!({"type": "grant_ask", "conversation": conversation, "capability": "cobrowse", "message": null}),
    )
    .await;
    let asked = until(&mut visitor, |v| v["type"] == "event" && v["event"]["kind"] == "grant").await;
    let grant = asked["event"]["grant"].as_str().expect("grant").to_owned();
    send(
        &mut visitor,
        json!({"type": "grant_step", "grant": grant, "step": "allow", "detail": null}),
    )
    .await;
    let granted = until(&mut visitor, |v| v["type"] == "stream_granted").await;
    until(&mut anna, |v| v["type"] == "stream_granted").await;
    (granted["stream"].as_str().expect("stream").to_owned(), anna, visitor)
}

async fn stream_token(socket: &mut Ws, stream: &str) -> String {
    send(socket, json!({"type": "stream_join", "stream": stream})).await;
    let granted = until(socket, |v| v["type"] == "stream_granted").await;
    granted["token"].as_str().expect("token").to_owned()
}

/// Fresh tokens (a token opens one socket): one for the publisher, one for each
/// subscriber.
async fn fresh_target(server: &Sightline, stream: &str, anna: &mut Ws, visitor: &mut Ws, subscribers: usize) -> Target {
    let publisher = stream_token(visitor, stream).await;
    let mut subscriber_urls = Vec::new();
    for _ in 0..subscribers {
        let t = stream_token(anna, stream).await;
        subscriber_urls.push(format!("ws://{}/ws/stream?token={t}", server.addr));
    }
    Target {
        label: "sightline",
        publisher_url: format!("ws://{}/ws/stream?token={publisher}", server.addr),
        subscriber_urls,
    }
}

// ---------------------------------------------------------------------------
// The measurement, the same for both.

struct Target {
    label: &'static str,
    publisher_url: String,
    /// One for each subscriber socket.
    subscriber_urls: Vec<String>,
}

struct Run {
    frames_per_second: f64,
    latencies: Vec<Duration>,
}

/// Opens the publisher and `subscribers`, sends `size`-byte frames for `seconds`
/// either as fast as the window allows (`rate` None) or at `rate` frames a second
/// (each stamped with its send time), and collects what the subscribers saw.
async fn run(target: &Target, subscribers: usize, size: usize, seconds: f64, rate: Option<f64>) -> Run {
    let label = target.label;
    let epoch = Instant::now();
    let received: Arc<Vec<AtomicU64>> = Arc::new((0..subscribers).map(|_| AtomicU64::new(0)).collect());
    let (latency_tx, mut latency_rx) = tokio::sync::mpsc::unbounded_channel::<Duration>();
    let mut tasks = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(subscribers);
    for i in 0..subscribers {
        let mut socket = ws(&target.subscriber_urls[i], None).await;
        let received = received.clone();
        let latency_tx = latency_tx.clone();
        let ready_tx = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            let _ = ready_tx.send(()).await;
            while let Some(Ok(message)) = socket.next().await {
                if let Message::Binary(bytes) = message {
                    let sent_ns = read_stamp(&bytes);
                    let now_ns = epoch.elapsed().as_nanos() as u64;
                    let _ = latency_tx.send(Duration::from_nanos(now_ns.saturating_sub(sent_ns)));
                    received[i].fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    drop(latency_tx);
    for _ in 0..subscribers {
        ready_rx.recv().await;
    }
    let mut publisher = ws(&target.publisher_url, None).await;
    // Let the relay's subscriber tasks subscribe (they announce themselves to the
    // publisher; the bare server has no such message): a short settle.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let slowest = || received.iter().map(|r| r.load(Ordering::Relaxed)).min().unwrap_or(0);
    let pad = "x".repeat(size.saturating_sub(STAMP_AT + 20 + 13));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let mut sent: u64 = 0;
    while Instant::now() < deadline {
        match rate {
            None => {
                while sent - slowest() >= WINDOW {
                    tokio::task::yield_now().await;
                    if Instant::now() >= deadline {
                        break;
                    }
                }
            }
            Some(rate) => {
                let due = start + Duration::from_secs_f64(sent as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
            }
        }
        let frame = stamped(sent as u32, epoch.elapsed().as_nanos() as u64, &pad);
        if publisher.send(Message::binary(frame)).await.is_err() {
            break;
        }
        sent += 1;
    }
    // Wait for the stragglers (bounded).
    let drain_until = Instant::now() + Duration::from_secs(5);
    while slowest() < sent && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let delivered = slowest();
    let _ = publisher.close(None).await;
    for task in tasks {
        task.abort();
    }
    let mut latencies = Vec::new();
    while let Ok(l) = latency_rx.try_recv() {
        latencies.push(l);
    }
    latencies.sort();
    if delivered < sent {
        let how = rate.map_or_else(
            || "as fast as the window allows".to_owned(),
            |r| format!("at {r:.0} fr/s"),
        );
        eprintln!(
            "  ({label}, {subscribers} subscriber(s), {size} B {how}: the slowest subscriber missed {} of {sent} frames)",
            sent - delivered
        );
    }
    Run {
        frames_per_second: delivered as f64 / elapsed,
        latencies,
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let bare_addr = bare_server().await;
    let bare = Target {
        label: "bare",
        publisher_url: format!("ws://{bare_addr}/pub"),
        subscriber_urls: vec![format!("ws://{bare_addr}/sub"); 5],
    };
    let server = sightline_server().await;
    let (stream, mut anna, mut visitor) = grant(&server).await;
    println!(
        "relay fan-out, {seconds} s per run, loopback, {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<10} {:>5} {:>6} | {:>11} {:>8} | {:>11} {:>8} | {:>6} | at half rate: p50 / p99 / max ms (bare) | (sightline)",
        "frame", "subs", "", "bare fr/s", "MB/s", "relay fr/s", "MB/s", "ratio"
    );
    for (size, label) in [(1024usize, "1 KB"), (64 * 1024, "64 KB")] {
        for subscribers in [1usize, 5] {
            let b = run(&bare, subscribers, size, seconds, None).await;
            let sightline = fresh_target(&server, &stream, &mut anna, &mut visitor, subscribers).await;
            let s = run(&sightline, subscribers, size, seconds, None).await;
            let mb = |fps: f64| fps * size as f64 * subscribers as f64 / 1e6;
            let half = (b.frames_per_second.min(s.frames_per_second) / 2.0).max(1.0);
            let bl = run(&bare, subscribers, size, seconds, Some(half)).await;
            let sightline = fresh_target(&server, &stream, &mut anna, &mut visitor, subscribers).await;
            let sl = run(&sightline, subscribers, size, seconds, Some(half)).await;
            println!(
                "{label:<10} {subscribers:>5} {:>6} | {:>11.0} {:>8.1} | {:>11.0} {:>8.1} | {:>5.0}% | at {half:.0} fr/s: {} / {} / {} | {} / {} / {}",
                "",
                b.frames_per_second,
                mb(b.frames_per_second),
                s.frames_per_second,
                mb(s.frames_per_second),
                100.0 * s.frames_per_second / b.frames_per_second,
                ms(pct(&bl.latencies, 0.5)),
                ms(pct(&bl.latencies, 0.99)),
                ms(pct(&bl.latencies, 1.0)),
                ms(pct(&sl.latencies, 0.5)),
                ms(pct(&sl.latencies, 0.99)),
                ms(pct(&sl.latencies, 1.0)),
            );
        }
    }
}
