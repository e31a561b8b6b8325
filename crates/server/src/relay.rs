//! The data plane: the relay that carries consented streams (co-browse, remote
//! control, recording) beside the hub, outside its batches, its chat rate limits
//! and the database.
//!
//! The hub grants a stream ([`Output::StreamGrant`](sightline_core::Output)) only
//! after the visitor consented, with a token for each end, and revokes it the
//! moment consent ends; the relay enforces exactly that and nothing else. Each end
//! opens its own WebSocket, `GET /ws/stream?token=`:
//! - the **publisher** sends binary frames (at most [`MAX_STREAM_FRAME_BYTES`];
//!   larger payloads in chunks), within the stream's byte and frame rates; each
//!   frame's header and order, and each whole message's content, are checked
//!   ([`stream_check`]) before the message's last chunk goes on;
//! - each frame goes to every **subscriber** as the same shared bytes (one
//!   allocation, however many subscribers), through a bounded ring
//!   ([`STREAM_BUFFER_FRAMES`]): a subscriber that falls further behind is told to
//!   resynchronise ([`StreamControl::Resync`]) and the publisher to send a fresh
//!   snapshot ([`StreamControl::SnapshotNeeded`]), instead of being buffered
//!   without bound;
//! - on a co-browse stream, subscribers (the agent's console) may send
//!   guidance up (pointer, ping, highlight), checked and within its own rate,
//!   to the publishers;
//! - relay messages are text frames ([`StreamControl`]); data frames are binary;
//! - a revocation closes every socket of the stream at once with 4403.
//!
//! Storing a stream (recording, later) will be one more subscriber.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sightline_core::stream_check::{self, Assembler, Checked, Malformed, Message as StreamMessage, Step};
use sightline_core::{Party, StreamGrant, StreamToken, TokenBucket};
use sightline_proto::{Capability, StreamControl, StreamId, StreamRole, MAX_CONTROL_BYTES, MAX_STREAM_FRAME_BYTES};
use tokio::sync::{broadcast, watch};

use crate::net::{ClientAddr, Permit};
use crate::origin::{self, OriginCheck};
use crate::ws::{close, send_frame};
use crate::{now_ms, AppState};

/// Frames held for subscribers, per stream: a subscriber further behind than this
/// resynchronises. Bounds a stream's memory to this many frames.
pub const STREAM_BUFFER_FRAMES: usize = 128;
/// Sockets one stream may have open at once, publishing and subscribing (all
/// tabs), counted apart so that one end cannot take the other's places.
pub const MAX_SOCKETS_PER_STREAM: [usize; 2] = [2, 6];

fn role_index(role: StreamRole) -> usize {
    match role {
        StreamRole::Publisher => 0,
        StreamRole::Subscriber => 1,
    }
}
/// Pings keep idle stream sockets alive through proxies.
const PING_EVERY: Duration = Duration::from_secs(30);
/// Guidance messages held for a stream's publishers: a whole burst.
const UPSTREAM_BUFFER: usize = 128;
/// Guidance messages a stream's subscribers may send: a pointer at 30 per second
/// with room for pings and highlights.
const GUIDANCE_PER_SECOND: f64 = 60.0;
const GUIDANCE_BURST: u32 = 120;
/// Remote-control messages from the agent (each up to `MAX_CONTROL_BYTES`):
/// a typist's keys, one message each, with room for a burst.
const CONTROL_PER_SECOND: f64 = 30.0;
const CONTROL_BURST: u32 = 60;
/// How long a stream socket's closing frame may take to write.
const CLOSE_WITHIN: Duration = Duration::from_secs(2);
/// Close code of a socket whose stream was revoked (consent ended).
pub const CLOSE_REVOKED: u16 = 4403;
/// The close code for a stream that has carried all it may (its total limits).
pub const CLOSE_SPENT: u16 = 4413;
/// Unused tokens kept per stream (each `stream_join` makes one).
const MAX_TOKENS_PER_STREAM: usize = 16;
/// A stream socket silent (not even a pong) for this many ping periods is closed.
const SILENT_PERIODS: u32 = 3;

/// A stream's rates, per stream (all its publisher sockets together).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamLimits {
    pub bytes_per_second: f64,
    pub burst_bytes: u32,
    pub frames_per_second: f64,
    pub burst_frames: u32,
    /// All a stream may carry from its publishers in its life; past it the
    /// publisher is told why and closed with [`CLOSE_SPENT`].
    pub total_bytes: u64,
    pub total_frames: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            bytes_per_second: 8.0 * 1024.0 * 1024.0,
            burst_bytes: 32 * 1024 * 1024,
            frames_per_second: 2_000.0,
            burst_frames: 4_000,
            // A co-browse session at its usual 15-30 kbit/s sends about 14 MB an
            // hour; a day of heavy pages stays far below this.
            total_bytes: 1024 * 1024 * 1024,
            total_frames: 10_000_000,
        }
    }
}

/// What crosses the ring from the publisher to the subscribers.
#[derive(Debug, Clone)]
enum Item {
    Data(Bytes),
    /// Frames were dropped at the publisher: start over from the next snapshot.
    Resync,
}

/// A live stream.
struct Stream {
    id: StreamId,
    capability: Capability,
    frames: broadcast::Sender<Item>,
    /// Subscribers ask the publisher for a snapshot through this.
    snapshots: broadcast::Sender<()>,
    /// Guidance from the agent (co-browse): subscribers to publishers. Pointer
    /// positions are fleeting: a publisher that lags skips them.
    upstream: broadcast::Sender<Bytes>,
    /// The guidance rate, all subscribers together: messages.
    upstream_rate: Mutex<TokenBucket>,
    /// Becomes true when the stream is revoked.
    revoked: watch::Sender<bool>,
    /// Publisher sockets open now (subscribers are told when it turns 0 or back).
    publishers: watch::Sender<usize>,
    /// What the publishers have sent in the stream's life: bytes, frames.
    spent: Mutex<(u64, u64)>,
    /// The stream's totals ([`StreamLimits::total_bytes`], `total_frames`).
    totals: (u64, u64),
    /// The publisher's rates: bytes, frames.
    rates: Mutex<(TokenBucket, TokenBucket)>,
    /// Open sockets, publishing and subscribing.
    sockets: Mutex<[usize; 2]>,
}

struct TokenEntry {
    stream: StreamId,
    role: StreamRole,
    party: Party,
    expires_at: u64,
}

#[derive(Default)]
struct Table {
    streams: HashMap<StreamId, Arc<Stream>>,
    tokens: HashMap<String, TokenEntry>,
}

impl Stream {
    /// Counts a frame against the stream's totals: false once they are spent.
    fn spend(&self, bytes: u64) -> bool {
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        spent.0 = spent.0.saturating_add(bytes);
        spent.1 = spent.1.saturating_add(1);
        spent.0 <= self.totals.0 && spent.1 <= self.totals.1
    }

    fn is_spent(&self) -> bool {
        let spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        spent.0 >= self.totals.0 || spent.1 >= self.totals.1
    }
}

/// The relay's table of granted streams and their tokens. Its methods take a
/// lock for a moment and never wait: the hub task calls them.
#[derive(Default)]
pub struct Relay {
    table: Mutex<Table>,
    limits: StreamLimits,
    /// Whole messages checked and passed on, and refused as malformed.
    pub messages_checked: AtomicU64,
    pub messages_refused: AtomicU64,
}

/// Why a token did not open a stream socket.
#[derive(Debug, PartialEq, Eq)]
pub enum Denied {
    /// Unknown, expired, or its stream revoked.
    Token,
    /// The stream has as many sockets as it may.
    Full,
}

impl Relay {
    pub fn new(limits: StreamLimits) -> Self {
        Relay {
            table: Mutex::new(Table::default()),
            limits,
            messages_checked: AtomicU64::new(0),
            messages_refused: AtomicU64::new(0),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The hub granted a stream.
    pub fn grant(&self, grant: StreamGrant) {
        let now = now_ms();
        let limits = self.limits;
        let stream = Arc::new(Stream {
            id: grant.stream.clone(),
            capability: grant.capability,
            frames: broadcast::channel(STREAM_BUFFER_FRAMES).0,
            snapshots: broadcast::channel(16).0,
            upstream: broadcast::channel(UPSTREAM_BUFFER).0,
            upstream_rate: Mutex::new(TokenBucket::new(GUIDANCE_BURST, GUIDANCE_PER_SECOND, now)),
            revoked: watch::channel(false).0,
            publishers: watch::channel(0).0,
            spent: Mutex::new((0, 0)),
            totals: (limits.total_bytes, limits.total_frames),
            rates: Mutex::new(if grant.capability == Capability::RemoteControl {
                // A person's clicks and keys, not a page's changes.
                (
                    TokenBucket::new(
                        CONTROL_BURST * MAX_CONTROL_BYTES as u32,
                        CONTROL_PER_SECOND * MAX_CONTROL_BYTES as f64,
                        now,
                    ),
                    TokenBucket::new(CONTROL_BURST, CONTROL_PER_SECOND, now),
                )
            } else {
                (
                    TokenBucket::new(limits.burst_bytes, limits.bytes_per_second, now),
                    TokenBucket::new(limits.burst_frames, limits.frames_per_second, now),
                )
            }),
            sockets: Mutex::new([0, 0]),
        });
        let mut table = self.table();
        table.forget_expired(now);
        table.streams.insert(grant.stream.clone(), stream);
        for token in grant.tokens {
            table.add_token(&grant.stream, token);
        }
    }

    /// One more token for a live stream.
    pub fn add_token(&self, stream: &StreamId, token: StreamToken) {
        let mut table = self.table();
        if table.streams.contains_key(stream) {
            table.add_token(stream, token);
        }
    }

    /// Consent ended: every socket of the stream closes now, and its tokens open
    /// nothing any more.
    pub fn revoke(&self, stream: &StreamId) {
        let removed = {
            let mut table = self.table();
            table.tokens.retain(|_, t| t.stream != *stream);
            table.streams.remove(stream)
        };
        if let Some(stream) = removed {
            stream.revoked.send_replace(true);
        }
    }

    /// Revokes every stream (the hub starts over and knows of none).
    pub fn revoke_all(&self) {
        let streams: Vec<StreamId> = self.table().streams.keys().cloned().collect();
        for stream in streams {
            self.revoke(&stream);
        }
    }

    /// Streams live right now.
    pub fn live(&self) -> usize {
        self.table().streams.len()
    }

    /// The stream a token opens, and the socket's part in it.
    /// Tokens are single use: a reconnect asks the hub for a fresh one
    /// (`stream_join`).
    fn open(&self, token: &str) -> Result<(Arc<Stream>, StreamRole, Party), Denied> {
        let now = now_ms();
        let mut table = self.table();
        table.forget_expired(now);
        let entry = table.tokens.get(token).ok_or(Denied::Token)?;
        let stream = table.streams.get(&entry.stream).cloned().ok_or(Denied::Token)?;
        let i = role_index(entry.role);
        let mut sockets = stream.sockets.lock().unwrap_or_else(|p| p.into_inner());
        if sockets[i] >= MAX_SOCKETS_PER_STREAM[i] {
            return Err(Denied::Full);
        }
        sockets[i] += 1;
        drop(sockets);
        let entry = table.tokens.remove(token).ok_or(Denied::Token)?;
        Ok((stream, entry.role, entry.party))
    }
}

impl Table {
    fn add_token(&mut self, stream: &StreamId, token: StreamToken) {
        self.forget_expired(now_ms());
        // A bounded number of unused tokens per stream: the oldest goes first.
        let of_stream: Vec<(&String, u64)> = self
            .tokens
            .iter()
            .filter(|(_, t)| t.stream == *stream)
            .map(|(k, t)| (k, t.expires_at))
            .collect();
        if of_stream.len() >= MAX_TOKENS_PER_STREAM {
            if let Some(oldest) = of_stream
                .iter()
                .min_by_key(|(_, expires)| *expires)
                .map(|(k, _)| (*k).clone())
            {
                self.tokens.remove(&oldest);
            }
        }
        self.tokens.insert(
            token.token,
            TokenEntry {
                stream: stream.clone(),
                role: token.role,
                party: token.party,
                expires_at: token.expires_at,
            },
        );
    }

    fn forget_expired(&mut self, now: u64) {
        self.tokens.retain(|_, t| t.expires_at > now);
    }
}

/// Gives the stream's socket place back.
struct Joined(Arc<Stream>, StreamRole);

impl Drop for Joined {
    fn drop(&mut self) {
        let i = role_index(self.1);
        let mut sockets = self.0.sockets.lock().unwrap_or_else(|p| p.into_inner());
        sockets[i] = sockets[i].saturating_sub(1);
    }
}

#[derive(Deserialize)]
pub struct StreamQuery {
    token: String,
}

/// `GET /ws/stream?token=`: one end of a granted stream.
pub async fn socket(
    State(app): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(refusal) = origin::check(&app, &headers, OriginCheck::SiteOrSelf { from: address }) {
        return *refusal;
    }
    let (stream, role, party) = match app.relay.open(&query.token) {
        Ok(opened) => opened,
        Err(Denied::Token) => {
            return (
                StatusCode::UNAUTHORIZED,
                "this stream token is unknown, expired or revoked",
            )
                .into_response()
        }
        Err(Denied::Full) => return (StatusCode::TOO_MANY_REQUESTS, "too many sockets on this stream").into_response(),
    };
    let joined = Joined(stream.clone(), role);
    let permit = match crate::ws::admit(&app, address, matches!(party, Party::Agent(_))) {
        Ok(permit) => permit,
        Err(refused) => return *refused,
    };
    let max = MAX_STREAM_FRAME_BYTES + 1024;
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .write_buffer_size(0)
        .on_upgrade(move |socket| run(app, socket, joined, role, permit))
}

async fn send_control(socket: &mut WebSocket, control: &StreamControl) -> bool {
    match serde_json::to_string(control) {
        Ok(text) => send_frame(socket, Message::Text(Utf8Bytes::from(text))).await,
        Err(_) => true,
    }
}

async fn run(app: AppState, mut socket: WebSocket, joined: Joined, role: StreamRole, permit: Permit) {
    let _permit = permit;
    let stream = joined.0.clone();
    let mut revoked = stream.revoked.subscribe();
    let mut shutdown = app.shutdown.clone();
    if *revoked.borrow_and_update() {
        close(&mut socket, CLOSE_REVOKED, "consent ended").await;
        return;
    }
    let joined_message = StreamControl::Joined {
        stream: stream.id.clone(),
        capability: stream.capability,
        role,
    };
    if !send_control(&mut socket, &joined_message).await {
        return;
    }
    let (code, reason) = match role {
        StreamRole::Publisher => publish(&mut socket, &app.relay, &stream, &mut revoked, &mut shutdown).await,
        StreamRole::Subscriber => subscribe(&mut socket, &app.relay, &stream, &mut revoked, &mut shutdown).await,
    };
    if code != 0 {
        // A reader that stopped reading does not hold the socket (or a shutdown)
        // for the whole write timeout.
        let _ = tokio::time::timeout(CLOSE_WITHIN, close(&mut socket, code, reason)).await;
    }
    drop(joined);
}

/// Why a socket loop ended: a close code to send (0: the peer is gone).
type Ended = (u16, &'static str);

async fn publish(
    socket: &mut WebSocket,
    relay: &Relay,
    stream: &Stream,
    revoked: &mut watch::Receiver<bool>,
    shutdown: &mut watch::Receiver<()>,
) -> Ended {
    let mut snapshots = stream.snapshots.subscribe();
    let mut guidance = stream.upstream.subscribe();
    // Counted while this loop runs, whichever way it ends.
    stream.publishers.send_modify(|n| *n += 1);
    struct Present<'a>(&'a watch::Sender<usize>);
    impl Drop for Present<'_> {
        fn drop(&mut self) {
            self.0.send_modify(|n| *n = n.saturating_sub(1));
        }
    }
    let _present = Present(&stream.publishers);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut silent = 0u32;
    // Over the rate: one `refused` and one `resync` per episode, however many frames.
    let mut refusing = false;
    let spent_reason = "this session has sent all a session may; end it and start again";
    if stream.is_spent() {
        let _ = send_control(
            socket,
            &StreamControl::Refused {
                reason: spent_reason.into(),
            },
        )
        .await;
        return (CLOSE_SPENT, "the session's limit is reached");
    }
    // This socket's messages, chunk by chunk, each checked whole before its last
    // chunk goes on.
    let mut assembler = Assembler::default();
    // A new publisher (or a reconnected one) starts with a snapshot.
    if !send_control(socket, &StreamControl::SnapshotNeeded).await {
        return (0, "");
    }
    loop {
        tokio::select! {
            biased;
            _ = revoked.changed() => return (CLOSE_REVOKED, "consent ended"),
            _ = shutdown.changed() => return (1012, "server restarting"),
            guided = guidance.recv() => match guided {
                Ok(bytes) => if !send_frame(socket, Message::Binary(bytes)).await { return (0, ""); },
                // Older pointer positions are worth nothing now.
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return (CLOSE_REVOKED, "consent ended"),
            },
            asked = snapshots.recv() => {
                if matches!(asked, Err(broadcast::error::RecvError::Closed)) {
                    return (CLOSE_REVOKED, "consent ended");
                }
                // Several asks at once (lagged) need one snapshot all the same.
                if !send_control(socket, &StreamControl::SnapshotNeeded).await { return (0, ""); }
            }
            _ = ping.tick() => {
                silent += 1;
                if silent > SILENT_PERIODS { return (1001, "silent for too long"); }
                if !send_frame(socket, Message::Ping(Bytes::new())).await { return (0, ""); }
            }
            inbound = socket.recv() => { silent = 0; match inbound {
                Some(Ok(Message::Binary(bytes))) => {
                    // Its header first: a frame out of shape is refused before it counts.
                    let header = match stream_check::read_header(&bytes) {
                        Ok(header) => header,
                        Err(why) => {
                            relay.messages_refused.fetch_add(1, Ordering::Relaxed);
                            return refuse_malformed(socket, stream, why).await;
                        }
                    };
                    // A remote-control message is one frame: nothing of it goes on
                    // before it is checked whole.
                    if stream.capability == Capability::RemoteControl && header.count != 1 {
                        relay.messages_refused.fetch_add(1, Ordering::Relaxed);
                        return refuse_malformed(socket, stream, Malformed("a remote-control message is one frame".into())).await;
                    }
                    let now = now_ms();
                    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                    let allowed = {
                        let mut rates = stream.rates.lock().unwrap_or_else(|p| p.into_inner());
                        let (bytes_rate, frames_rate) = &mut *rates;
                        frames_rate.try_take(now) && (bytes_rate.try_take_n(now, len) || { frames_rate.give_back(); false })
                    };
                    if allowed && !stream.spend(u64::from(len)) {
                        let _ = stream.frames.send(Item::Resync);
                        let _ = send_control(socket, &StreamControl::Refused { reason: spent_reason.into() }).await;
                        return (CLOSE_SPENT, "the session's limit is reached");
                    }
                    if allowed {
                        refusing = false;
                        let pass = match assembler.push(&header, &bytes) {
                            Err(why) => {
                                relay.messages_refused.fetch_add(1, Ordering::Relaxed);
                                return refuse_malformed(socket, stream, why).await;
                            }
                            Ok(Step::Part) => true,
                            // The rest of a message that lost a frame: the
                            // subscribers were told to resync when it was lost.
                            Ok(Step::Skip) => false,
                            Ok(Step::Whole(message)) => match check(stream.capability, message).await {
                                Ok(_) => { relay.messages_checked.fetch_add(1, Ordering::Relaxed); true }
                                Err(why) => {
                                    relay.messages_refused.fetch_add(1, Ordering::Relaxed);
                                    return refuse_malformed(socket, stream, why).await;
                                }
                            },
                        };
                        // No subscriber yet is fine: the frame is simply not kept.
                        if pass { let _ = stream.frames.send(Item::Data(bytes)); }
                    } else {
                        if let Err(why) = assembler.lose(&header) {
                            relay.messages_refused.fetch_add(1, Ordering::Relaxed);
                            return refuse_malformed(socket, stream, why).await;
                        }
                        if !refusing {
                            refusing = true;
                            let _ = stream.frames.send(Item::Resync);
                            let refused = StreamControl::Refused { reason: "over the stream's rate; send a snapshot when it is calmer".into() };
                            if !send_control(socket, &refused).await { return (0, ""); }
                        }
                    }
                }
                // Text is the relay's; a publisher that sends it is broken.
                Some(Ok(Message::Text(_))) => return (1003, "data frames are binary"),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => return (0, ""),
                Some(Err(_)) => return (1009, "frame too large"),
            }}
        }
    }
}

/// Messages larger than this (or compressed) are checked off the async workers.
const CHECK_INLINE_BYTES: usize = 64 * 1024;

/// Checks a whole message for the stream's capability.
async fn check(capability: Capability, message: StreamMessage) -> Result<Checked, Malformed> {
    if !message.compressed && message.bytes.len() <= CHECK_INLINE_BYTES {
        return stream_check::check_message(capability, &message);
    }
    tokio::task::spawn_blocking(move || stream_check::check_message(capability, &message))
        .await
        .unwrap_or_else(|_| Err(Malformed("the message could not be checked".into())))
}

/// A publisher sent something out of shape: it is told why, the subscribers drop
/// what they have of the message, and the socket closes with 1007 (a reconnect
/// starts over from a snapshot).
async fn refuse_malformed(socket: &mut WebSocket, stream: &Stream, why: Malformed) -> Ended {
    let _ = stream.frames.send(Item::Resync);
    tracing::info!(stream = %stream.id, %why, "malformed stream data");
    let _ = send_control(
        socket,
        &StreamControl::Refused {
            reason: format!("malformed: {why}"),
        },
    )
    .await;
    (1007, "malformed stream data")
}

async fn subscribe(
    socket: &mut WebSocket,
    relay: &Relay,
    stream: &Stream,
    revoked: &mut watch::Receiver<bool>,
    shutdown: &mut watch::Receiver<()>,
) -> Ended {
    let mut frames = stream.frames.subscribe();
    // A late join starts from a fresh snapshot.
    let _ = stream.snapshots.send(());
    let mut publishers = stream.publishers.subscribe();
    let mut present = *publishers.borrow_and_update() > 0;
    if !send_control(socket, &StreamControl::Publisher { present }).await {
        return (0, "");
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut silent = 0u32;
    // Over the rate up the stream: one `refused` per episode.
    let mut guidance_refused = false;
    loop {
        tokio::select! {
            biased;
            _ = revoked.changed() => return (CLOSE_REVOKED, "consent ended"),
            _ = shutdown.changed() => return (1012, "server restarting"),
            changed = publishers.changed() => {
                if changed.is_err() { return (CLOSE_REVOKED, "consent ended"); }
                let now = *publishers.borrow_and_update() > 0;
                if now != present {
                    present = now;
                    if !send_control(socket, &StreamControl::Publisher { present }).await { return (0, ""); }
                }
            }
            item = frames.recv() => match item {
                Ok(Item::Data(bytes)) => {
                    // A write blocked by a slow reader still gives way to a
                    // revocation or a shutdown.
                    tokio::select! {
                        biased;
                        _ = revoked.changed() => return (CLOSE_REVOKED, "consent ended"),
                        _ = shutdown.changed() => return (1012, "server restarting"),
                        sent = send_frame(socket, Message::Binary(bytes)) => if !sent { return (0, ""); },
                    }
                }
                Ok(Item::Resync) => {
                    if !send_control(socket, &StreamControl::Resync { missed: 0 }).await { return (0, ""); }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    let _ = stream.snapshots.send(());
                    if !send_control(socket, &StreamControl::Resync { missed }).await { return (0, ""); }
                }
                Err(broadcast::error::RecvError::Closed) => return (CLOSE_REVOKED, "consent ended"),
            },
            _ = ping.tick() => {
                silent += 1;
                if silent > SILENT_PERIODS { return (1001, "silent for too long"); }
                if !send_frame(socket, Message::Ping(Bytes::new())).await { return (0, ""); }
            }
            inbound = socket.recv() => {
                silent = 0;
                match inbound {
                    // Up the stream, to the publishers, checked and within its
                    // rate: the agent's guidance on a co-browse stream, the
                    // visitor's answers on a remote-control one.
                    Some(Ok(Message::Binary(bytes))) if matches!(stream.capability, Capability::Cobrowse | Capability::RemoteControl) => {
                        let allowed = stream.upstream_rate.lock().unwrap_or_else(|p| p.into_inner()).try_take(now_ms());
                        if !allowed {
                            if !guidance_refused {
                                guidance_refused = true;
                                let refused = StreamControl::Refused { reason: "over the rate up the stream".into() };
                                if !send_control(socket, &refused).await { return (0, ""); }
                            }
                            continue;
                        }
                        guidance_refused = false;
                        let checked = match stream.capability {
                            Capability::RemoteControl => stream_check::check_control_results(&bytes),
                            _ => stream_check::check_guidance(&bytes),
                        };
                        if let Err(why) = checked {
                            relay.messages_refused.fetch_add(1, Ordering::Relaxed);
                            tracing::info!(stream = %stream.id, %why, "malformed data up the stream");
                            let _ = send_control(socket, &StreamControl::Refused { reason: format!("malformed: {why}") }).await;
                            return (1007, "malformed data up the stream");
                        }
                        let _ = stream.upstream.send(bytes);
                    }
                    // Anything else a subscriber sends is ignored.
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return (0, ""),
                }
            }
        }
    }
}
