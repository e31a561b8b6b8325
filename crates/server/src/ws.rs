//! The WebSocket endpoints: `/ws/visitor` for the widget, `/ws/agent` for the
//! console. Each socket is one task that parses frames into [`ClientMessage`]s for
//! the hub and writes what the hub sends back.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sightline_core::{AgentIdentity, Peer};
use sightline_proto::{AgentRef, ClientMessage, ErrorCode, ServerMessage, MAX_FRAME_BYTES};
use tokio::sync::mpsc;

use crate::auth::{self, Authenticated};
use crate::hub_task::{Command, Outbound, SOCKET_QUEUE};
use crate::origin::{self, OriginCheck};
use crate::AppState;

/// The server pings every socket this often; a socket silent for three periods is
/// considered dead.
const PING_EVERY: Duration = Duration::from_secs(30);

pub async fn visitor(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(refusal) = origin::check(&app, &headers, OriginCheck::SiteOrSelf) {
        return refusal;
    }
    upgrade_socket(app, upgrade, Peer::Visitor, peer.ip(), None)
}

pub async fn agent(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(refusal) = origin::check(&app, &headers, OriginCheck::SelfOnly) {
        return refusal;
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
        },
        is_admin: user.is_admin,
    };
    upgrade_socket(app, upgrade, Peer::Agent(identity), peer.ip(), Some(session.token_hash))
}

fn upgrade_socket(
    app: AppState,
    upgrade: WebSocketUpgrade,
    peer: Peer,
    address: IpAddr,
    session: Option<String>,
) -> Response {
    if app.hub.metrics.connections.load(std::sync::atomic::Ordering::Relaxed) >= app.config.max_connections {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    }
    upgrade
        // Small buffers: most sockets are idle most of the time, and a chat frame is
        // small. Larger frames than the protocol allows are refused outright.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| run_socket(app, socket, peer, address, session))
}

async fn send_json(socket: &mut WebSocket, message: &ServerMessage) -> bool {
    match serde_json::to_string(message) {
        Ok(text) => socket.send(Message::Text(Utf8Bytes::from(text))).await.is_ok(),
        Err(err) => {
            tracing::error!(%err, "could not serialize a server message");
            true
        }
    }
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let reason: String = reason.chars().take(100).collect();
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        })))
        .await;
}

async fn run_socket(app: AppState, mut socket: WebSocket, peer: Peer, address: IpAddr, session: Option<String>) {
    let conn = app.hub.next_conn_id();
    let (tx, mut rx) = mpsc::channel(SOCKET_QUEUE);
    if !app
        .hub
        .send(Command::Connect {
            conn,
            peer,
            address,
            session,
            outbound: tx,
        })
        .await
    {
        close(&mut socket, 1012, "server restarting").await;
        return;
    }
    let mut shutdown = app.shutdown.clone();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut silent_periods = 0u32;
    loop {
        tokio::select! {
            // Outbound first: deliver what the hub decided before reading more.
            biased;
            outbound = rx.recv() => match outbound {
                Some(Outbound::Message(message)) => {
                    if !send_json(&mut socket, &message).await { break; }
                }
                Some(Outbound::Close(code, reason)) => { close(&mut socket, code, &reason).await; break; }
                // The hub dropped us (too slow, or it is restarting).
                None => { close(&mut socket, 1013, "too slow; reconnect").await; break; }
            },
            _ = shutdown.changed() => {
                // 1012 "service restart": clients reconnect promptly.
                close(&mut socket, 1012, "server restarting").await;
                break;
            }
            _ = ping.tick() => {
                silent_periods += 1;
                if silent_periods > 3 { break; }
                if socket.send(Message::Ping(Default::default())).await.is_err() { break; }
            }
            inbound = socket.recv() => {
                silent_periods = 0;
                match inbound {
                    Some(Ok(Message::Text(text))) => {
                        match serde_json::from_str::<ClientMessage>(text.as_str()) {
                            Ok(message) => {
                                if !app.hub.send(Command::Message { conn, message }).await { break; }
                            }
                            Err(err) => {
                                let detail: String = err.to_string().chars().take(200).collect();
                                let reply = ServerMessage::error(ErrorCode::BadRequest, format!("not a valid message: {detail}"), None);
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
                        let text = err.to_string();
                        if text.contains("Space limit") || text.contains("too long") || text.contains("Capacity") {
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
