//! The WebSocket endpoints: `/ws/visitor` for the widget, `/ws/agent` for the
//! console. Each socket is one task that parses frames into [`ClientMessage`]s for
//! the hub and writes what the hub sends back.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sightline_core::{AgentIdentity, ClientInfo, Peer};
use sightline_proto::{AgentRef, ClientFrame, ConversationId, ErrorCode, ServerMessage, MAX_FRAME_BYTES};
use tokio::sync::mpsc;

use crate::auth::{self, Authenticated};
use crate::hub_task::{Command, Outbound, SOCKET_QUEUE};
use crate::net::{ClientAddr, Permit, Refusal};
use crate::origin::{self, OriginCheck};
use crate::AppState;

/// The server pings every socket this often; a socket silent for three periods is
/// considered dead.
const PING_EVERY: Duration = Duration::from_secs(30);
/// Longest a single frame may take to write: a client that does not read cannot
/// hold its socket task (and the replay it is in) for longer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Events replayed per database read. A page is held encoded while it is written,
/// so this bounds a slow reader's memory: 100 events of at most 16 KB of text.
const REPLAY_PAGE: u32 = 100;

pub async fn visitor(
    State(app): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if origin::check(&app, &headers, OriginCheck::SiteOrSelf { from: address }).is_err() {
        return refuse_site(&app, upgrade, address);
    }
    let client = crate::user_agent::client_info(
        headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    );
    upgrade_socket(app, upgrade, Peer::Visitor, address, None, client)
}

/// Close code for a widget on a site whose origin is not allowed.
pub const ORIGIN_REFUSED: u16 = 4403;

/// A widget on a site that is not allowed. A browser's script cannot read the
/// status of a refused upgrade (it sees only 1006, as for a network failure, and
/// would retry for ever), so the upgrade is accepted only to be closed at once
/// with [`ORIGIN_REFUSED`]: nothing the page sends is read, and the socket never
/// reaches the hub. It holds a place in the connection gate while it closes.
fn refuse_site(app: &AppState, upgrade: WebSocketUpgrade, address: IpAddr) -> Response {
    let permit = match admit(app, address, false) {
        Ok(permit) => permit,
        Err(refused) => return *refused,
    };
    upgrade
        .read_buffer_size(1024)
        .max_message_size(1024)
        .max_frame_size(1024)
        .on_upgrade(move |mut socket| async move {
            let _permit = permit;
            let frame = CloseFrame {
                code: ORIGIN_REFUSED,
                reason: Utf8Bytes::from_static("origin not allowed"),
            };
            if !send_frame(&mut socket, Message::Close(Some(frame))).await {
                return;
            }
            // Wait briefly for the browser's answering close, so that it reports
            // a clean close with our code; whatever else it sends is dropped.
            let _ = tokio::time::timeout(WRITE_TIMEOUT, async {
                while let Some(Ok(message)) = socket.recv().await {
                    if matches!(message, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        })
}

pub async fn agent(
    State(app): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(refusal) = origin::check(&app, &headers, OriginCheck::SelfOnly) {
        return *refusal;
    }
    let Some(Authenticated { user, session }) = auth::from_cookie(&app, &headers).await else {
        return (StatusCode::UNAUTHORIZED, "log in first").into_response();
    };
    if user.must_change_password {
        return (StatusCode::FORBIDDEN, "choose your own password first").into_response();
    }
    let identity = AgentIdentity {
        agent: AgentRef {
            id: user.id,
            display_name: user.display_name.clone(),
            colour: user.colour,
        },
        is_admin: user.is_admin,
        permissions: user.permissions,
    };
    upgrade_socket(
        app,
        upgrade,
        Peer::Agent(identity),
        address,
        Some(session.token_hash),
        ClientInfo::default(),
    )
}

fn upgrade_socket(
    app: AppState,
    upgrade: WebSocketUpgrade,
    peer: Peer,
    address: IpAddr,
    session: Option<String>,
    client: ClientInfo,
) -> Response {
    // Agents may use the places kept for them and are not counted per address.
    let permit = match admit(&app, address, matches!(peer, Peer::Agent(_))) {
        Ok(permit) => permit,
        Err(refused) => return *refused,
    };
    upgrade
        // Small buffers: most sockets are idle most of the time, and a chat frame is
        // small. Larger frames than the protocol allows are refused outright.
        .read_buffer_size(4 * 1024)
        // Frames fed in a run are written together (see `feed_json`); every send
        // and run ends with a flush.
        .write_buffer_size(16 * 1024)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| run_socket(app, socket, (peer, client), address, session, permit))
}

/// A place for a WebSocket in the connection gate (agents may use the places kept
/// for them and are not counted per address), or the answer that refuses it.
pub(crate) fn admit(app: &AppState, address: IpAddr, agent: bool) -> Result<Permit, Box<Response>> {
    app.sockets.admit(address, agent).map_err(|refusal| {
        Box::new(match refusal {
            Refusal::Full => (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response(),
            Refusal::AddressFull => {
                (StatusCode::TOO_MANY_REQUESTS, "too many connections from your address").into_response()
            }
        })
    })
}

/// Writes a frame, giving up after [`WRITE_TIMEOUT`].
pub(crate) async fn send_frame(socket: &mut WebSocket, frame: Message) -> bool {
    matches!(
        tokio::time::timeout(WRITE_TIMEOUT, socket.send(frame)).await,
        Ok(Ok(()))
    )
}

/// Most queued messages written to a socket at once (one flush).
const MAX_FRAMES_PER_WRITE: usize = 64;

fn is_welcome(message: &ServerMessage) -> bool {
    matches!(
        message,
        ServerMessage::VisitorWelcome { .. } | ServerMessage::AgentWelcome { .. }
    )
}

/// The item held back from the last run of writes, else the next one queued.
async fn next_outbound(held: &mut Option<Outbound>, rx: &mut mpsc::Receiver<Outbound>) -> Option<Outbound> {
    match held.take() {
        Some(item) => Some(item),
        None => rx.recv().await,
    }
}

/// Buffers a message for the socket without writing it out (see [`flush`]); the
/// buffer writes itself out past the upgrade's `write_buffer_size`.
async fn feed_json(socket: &mut WebSocket, message: &ServerMessage) -> bool {
    use futures_util::SinkExt as _;
    match serde_json::to_string(message) {
        Ok(text) => matches!(
            tokio::time::timeout(WRITE_TIMEOUT, socket.feed(Message::Text(Utf8Bytes::from(text)))).await,
            Ok(Ok(()))
        ),
        Err(err) => {
            tracing::error!(%err, "could not serialize a server message");
            true
        }
    }
}

/// Writes out what [`feed_json`] buffered.
async fn flush(socket: &mut WebSocket) -> bool {
    use futures_util::SinkExt as _;
    matches!(tokio::time::timeout(WRITE_TIMEOUT, socket.flush()).await, Ok(Ok(())))
}

async fn send_json(socket: &mut WebSocket, message: &ServerMessage) -> bool {
    feed_json(socket, message).await && flush(socket).await
}

pub(crate) async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let reason: String = reason.chars().take(100).collect();
    send_frame(
        socket,
        Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        })),
    )
    .await;
}

/// Sends a conversation's stored events `after_seq < seq <= upto_seq`, then
/// `Synced`. Runs in the socket's own task, so a long transcript or a client that
/// reads slowly delays nobody else. False when the socket is gone. To a visitor
/// (`to_visitor`), each event as `Event::for_visitor` makes it: internal notes
/// never leave the server on a visitor's socket.
async fn replay(
    app: &AppState,
    socket: &mut WebSocket,
    conversation: ConversationId,
    (after_seq, upto_seq): (u64, u64),
    to_visitor: bool,
) -> bool {
    let mut from = after_seq;
    while from < upto_seq {
        // Reading and encoding a page is the CPU-heavy part: at most one replay per
        // two cores does it at a time, so a crowd of replays never takes the cores
        // from the hub. Writing happens without the permit (a client that reads
        // slowly holds up only itself).
        let page = {
            let Ok(_permit) = app.replay_work.acquire().await else {
                return false;
            };
            match app.store.events(&conversation, from, Some(upto_seq), REPLAY_PAGE).await {
                Ok(events) if !events.is_empty() => {
                    from = events.last().map_or(upto_seq, |e| e.seq);
                    events
                        .into_iter()
                        .filter_map(|event| if to_visitor { event.for_visitor() } else { Some(event) })
                        .filter_map(|event| {
                            serde_json::to_string(&ServerMessage::Event {
                                conversation: conversation.clone(),
                                event,
                            })
                            .ok()
                        })
                        .collect::<Vec<_>>()
                }
                Ok(_) => break,
                Err(err) => {
                    tracing::error!(%err, "replay failed");
                    let reply = ServerMessage::error(ErrorCode::Internal, "could not load the transcript; retry", None);
                    return send_json(socket, &reply).await;
                }
            }
        };
        for text in page {
            if !send_frame(socket, Message::Text(Utf8Bytes::from(text))).await {
                return false;
            }
        }
    }
    send_json(
        socket,
        &ServerMessage::Synced {
            conversation,
            last_seq: upto_seq,
        },
    )
    .await
}

/// Whether a read error is a frame over the size limit.
fn is_oversized(err: axum::Error) -> bool {
    let inner = err.into_inner();
    matches!(
        inner.downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}

async fn run_socket(
    app: AppState,
    mut socket: WebSocket,
    (peer, client): (Peer, ClientInfo),
    address: IpAddr,
    session: Option<String>,
    permit: Permit,
) {
    // Held for the socket's lifetime: the place in the connection count.
    let _permit = permit;
    let conn = app.hub.next_conn_id();
    let (tx, mut rx) = mpsc::channel(SOCKET_QUEUE);
    // The hub closes the socket through this, ahead of whatever is queued; when it
    // drops the other end (too slow, or storage failed) the socket goes at once too,
    // without draining its queue.
    let (kill, mut killed) = tokio::sync::oneshot::channel::<(u16, String)>();
    if !app
        .hub
        .send(Command::Connect {
            conn,
            peer,
            address,
            client,
            session,
            outbound: tx,
            kill,
        })
        .await
    {
        close(&mut socket, 1012, "server restarting").await;
        return;
    }
    // One future for the socket's life: made anew on every turn of the loop, it
    // registered and dropped a waiter each time a frame went by.
    let mut shutdown = app.shutdown.clone();
    let shutdown = async move {
        let _ = shutdown.changed().await;
    };
    tokio::pin!(shutdown);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut silent_periods = 0u32;
    // A socket must be welcomed (say a valid hello) soon after its upgrade, or it
    // goes: an open socket that never says hello holds a place for nothing.
    let hello_deadline = tokio::time::sleep(app.config.handshake_timeout);
    tokio::pin!(hello_deadline);
    let mut welcomed = false;
    // An item taken from the queue while writing a run of messages, handled next.
    let mut held: Option<Outbound> = None;
    loop {
        tokio::select! {
            // Outbound first: deliver what the hub decided before reading more.
            biased;
            // A kill comes before anything still queued.
            order = &mut killed => {
                let (code, reason) = order.unwrap_or_else(|_| (1013, "too slow; reconnect".into()));
                close(&mut socket, code, &reason).await;
                break;
            }
            outbound = next_outbound(&mut held, &mut rx) => match outbound {
                Some(Outbound::Message(message)) => {
                    // What else is already queued for this socket goes out with it,
                    // in one write: under load a sender's `ack` and `event` come
                    // together, and a write is the costliest step of a delivery.
                    let mut sent = feed_json(&mut socket, &message).await;
                    welcomed |= is_welcome(&message);
                    for _ in 1..MAX_FRAMES_PER_WRITE {
                        if !sent {
                            break;
                        }
                        match rx.try_recv() {
                            Ok(Outbound::Message(message)) => {
                                sent = feed_json(&mut socket, &message).await;
                                welcomed |= is_welcome(&message);
                            }
                            Ok(other) => {
                                held = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    if !sent || !flush(&mut socket).await { break; }
                }
                Some(Outbound::Replay { conversation, after_seq, upto_seq, to_visitor }) => {
                    // A long replay still stops at once for a kill (logged out,
                    // disabled) or a shutdown.
                    let interrupted = tokio::select! {
                        biased;
                        order = &mut killed => Some(order.unwrap_or_else(|_| (1013, "too slow; reconnect".into()))),
                        _ = &mut shutdown => Some((1012, "server restarting".to_owned())),
                        done = replay(&app, &mut socket, conversation, (after_seq, upto_seq), to_visitor) => {
                            if !done { break; }
                            None
                        }
                    };
                    if let Some((code, reason)) = interrupted {
                        close(&mut socket, code, &reason).await;
                        break;
                    }
                }
                Some(Outbound::Close(code, reason)) => { close(&mut socket, code, &reason).await; break; }
                // The hub dropped us (too slow, or it is restarting).
                None => { close(&mut socket, 1013, "too slow; reconnect").await; break; }
            },
            _ = &mut shutdown => {
                // 1012 "service restart": clients reconnect promptly.
                close(&mut socket, 1012, "server restarting").await;
                break;
            }
            _ = &mut hello_deadline, if !welcomed => {
                close(&mut socket, 1008, "no hello in time").await;
                break;
            }
            _ = ping.tick() => {
                silent_periods += 1;
                if silent_periods > 3 { break; }
                if !send_frame(&mut socket, Message::Ping(Default::default())).await { break; }
            }
            inbound = socket.recv() => {
                silent_periods = 0;
                match inbound {
                    Some(Ok(Message::Text(text))) => {
                        match ClientFrame::parse(text.as_str()) {
                            Ok(ClientFrame { request_ref, message }) => {
                                if !app.hub.send(Command::Message { conn, message, request_ref }).await { break; }
                            }
                            Err(err) => {
                                let detail: String = err.chars().take(200).collect();
                                let request_ref = ClientFrame::ref_of_invalid(text.as_str());
                                let reply = ServerMessage::error(ErrorCode::BadRequest, format!("not a valid message: {detail}"), None)
                                    .with_ref(request_ref);
                                if !send_json(&mut socket, &reply).await { break; }
                            }
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let reply = ServerMessage::error(ErrorCode::BadRequest, "binary frames are not part of the protocol", None);
                        if !send_json(&mut socket, &reply).await { break; }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Err(err)) => {
                        // Oversized frames end here: say why before closing.
                        if is_oversized(err) {
                            let reply = ServerMessage::error(ErrorCode::TooLarge, format!("frames are limited to {MAX_FRAME_BYTES} bytes"), None);
                            send_json(&mut socket, &reply).await;
                            close(&mut socket, 1009, "message too big").await;
                        }
                        break;
                    }
                }
            }
        }
    }
    app.hub.send(Command::Disconnect { conn }).await;
}
