//! WebSocket connections of simulated visitors and agents.
//!
//! Every held socket is one task that writes what the load generator asks it to and
//! reads everything the server pushes. Frames that matter for timing (`event`
//! messages from the other side, `ack`s of timed messages) are recognised by plain
//! substring search: the bench chooses the client ids and texts, so this is
//! unambiguous, and it keeps the generator's own CPU use small next to the server's.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::server::connect;

pub type Ws = WebSocketStream<TcpStream>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Visitor,
    Agent,
}

/// Opens a WebSocket to `path`, with the agent's session cookie if given.
pub async fn open_ws(addr: SocketAddr, from: Option<IpAddr>, path: &str, session: Option<&str>) -> anyhow::Result<Ws> {
    let stream = connect(addr, from).await?;
    let mut request = format!("ws://{addr}{path}").into_client_request()?;
    if let Some(session) = session {
        request.headers_mut().insert(
            "cookie",
            HeaderValue::from_str(&format!("sightline_session={session}"))?,
        );
    }
    // Small buffers: the bench holds as many sockets as the server does.
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .with_context(|| format!("WebSocket handshake on {path}"))?;
    Ok(ws)
}

/// Reads text frames until `accept` returns `Some`, within `within`.
pub async fn read_until<T>(
    ws: &mut Ws,
    within: Duration,
    mut accept: impl FnMut(&str) -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| anyhow!("no answer within {} s", within.as_secs()))?;
        match frame {
            Some(Ok(Message::Text(text))) => {
                if let Some(value) = accept(text.as_str())? {
                    return Ok(value);
                }
            }
            Some(Ok(Message::Close(frame))) => bail!("the server closed the socket: {}", close_reason(frame.as_ref())),
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err.into()),
            None => bail!("the server closed the connection"),
        }
    }
}

fn close_reason(frame: Option<&tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> String {
    match frame {
        Some(f) => format!("{} {}", u16::from(f.code), f.reason),
        None => "no reason".into(),
    }
}

/// An `error` frame's text, if this is one.
pub fn error_of(text: &str) -> Option<String> {
    text.starts_with(r#"{"type":"error""#)
        .then(|| text.chars().take(300).collect())
}

/// The value of the first `"key":"value"` string field.
pub fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let pattern = format!("\"{key}\":\"");
    let start = text.find(&pattern)? + pattern.len();
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}

/// One timed run at a fixed rate: when each message was due, and what arrived.
pub struct Phase {
    pub id: u32,
    /// When message `k` was due to be sent, in ns since the bench's epoch (0: not yet).
    pub due_ns: Vec<AtomicU64>,
    /// Messages below this index are warm-up: delivered but not measured.
    pub measure_from: usize,
    pub delivered: AtomicU64,
    pub delivered_measured: AtomicU64,
    pub last_delivery_ns: AtomicU64,
    /// Send → the other side receives the event, in µs (measured messages only).
    pub latency_us: Mutex<Vec<u32>>,
    /// The same by message (`u32::MAX`: not delivered), for the timeline that
    /// `SIGHTLINE_BENCH_TIMELINE` prints.
    pub latency_by_k: Vec<std::sync::atomic::AtomicU32>,
    /// Send → the sender receives its ack, in µs (measured messages only).
    pub ack_us: Mutex<Vec<u32>>,
}

impl Phase {
    pub fn new(id: u32, total: usize, measure_from: usize) -> Phase {
        Phase {
            id,
            due_ns: (0..total).map(|_| AtomicU64::new(0)).collect(),
            measure_from,
            delivered: AtomicU64::new(0),
            delivered_measured: AtomicU64::new(0),
            last_delivery_ns: AtomicU64::new(0),
            latency_us: Mutex::new(Vec::with_capacity(total)),
            latency_by_k: (0..total)
                .map(|_| std::sync::atomic::AtomicU32::new(u32::MAX))
                .collect(),
            ack_us: Mutex::new(Vec::with_capacity(total)),
        }
    }
}

/// What every socket task shares.
pub struct Shared {
    pub epoch: Instant,
    pub phase: RwLock<Option<Arc<Phase>>>,
    /// Sockets whose task is running.
    pub live: AtomicU64,
    /// Sockets the server closed, or that failed, after setup.
    pub lost_sockets: AtomicU64,
    pub lost_samples: Mutex<Vec<String>>,
    /// `error` frames received by held sockets.
    pub errors: AtomicU64,
    pub error_samples: Mutex<Vec<String>>,
    /// `conversation_updated` frames about waiting conversations received by agents,
    /// and when the last arrived.
    pub queue_updates: AtomicU64,
    pub last_queue_update_ns: AtomicU64,
}

impl Shared {
    pub fn new() -> Shared {
        Shared {
            epoch: Instant::now(),
            phase: RwLock::new(None),
            live: AtomicU64::new(0),
            lost_sockets: AtomicU64::new(0),
            lost_samples: Mutex::new(Vec::new()),
            errors: AtomicU64::new(0),
            error_samples: Mutex::new(Vec::new()),
            queue_updates: AtomicU64::new(0),
            last_queue_update_ns: AtomicU64::new(0),
        }
    }

    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn current_phase(&self) -> Option<Arc<Phase>> {
        self.phase.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn sample(list: &Mutex<Vec<String>>, text: String) {
        let mut list = list.lock().unwrap_or_else(|p| p.into_inner());
        if list.len() < 5 {
            list.push(text);
        }
    }

    fn lost(&self, why: String) {
        self.lost_sockets.fetch_add(1, Ordering::Relaxed);
        Self::sample(&self.lost_samples, why);
    }
}

pub enum Cmd {
    /// Send this text frame.
    Send(String),
    /// Send a visitor's first message and answer with its conversation id (from the
    /// ack) or the server's refusal.
    Open {
        frame: String,
        reply: oneshot::Sender<Result<String, String>>,
    },
}

/// Hands a socket that said hello to its own task.
pub fn spawn_socket(ws: Ws, side: Side, shared: Arc<Shared>) -> mpsc::UnboundedSender<Cmd> {
    let (tx, rx) = mpsc::unbounded_channel();
    shared.live.fetch_add(1, Ordering::Relaxed);
    tokio::spawn(run_socket(ws, side, rx, shared));
    tx
}

async fn run_socket(mut ws: Ws, side: Side, mut rx: mpsc::UnboundedReceiver<Cmd>, shared: Arc<Shared>) {
    let mut opening: Option<oneshot::Sender<Result<String, String>>> = None;
    loop {
        tokio::select! {
            command = rx.recv() => {
                let frame = match command {
                    None => {
                        // The bench is done with this socket.
                        let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
                        break;
                    }
                    Some(Cmd::Send(frame)) => frame,
                    Some(Cmd::Open { frame, reply }) => {
                        opening = Some(reply);
                        frame
                    }
                };
                if let Err(err) = ws.send(Message::text(frame)).await {
                    shared.lost(format!("{side:?} socket: send failed: {err}"));
                    break;
                }
            }
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => on_text(text.as_str(), side, &shared, &mut opening),
                Some(Ok(Message::Close(frame))) => {
                    shared.lost(format!("{side:?} socket closed by the server: {}", close_reason(frame.as_ref())));
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => {
                    shared.lost(format!("{side:?} socket failed: {err}"));
                    break;
                }
                None => {
                    shared.lost(format!("{side:?} socket: connection closed"));
                    break;
                }
            }
        }
    }
    shared.live.fetch_sub(1, Ordering::Relaxed);
}

/// Parses `m<phase>-<index>`.
fn timed_id(client_id: &str) -> Option<(u32, usize)> {
    let (phase, index) = client_id.strip_prefix('m')?.split_once('-')?;
    Some((phase.parse().ok()?, index.parse().ok()?))
}

fn on_text(text: &str, side: Side, shared: &Shared, opening: &mut Option<oneshot::Sender<Result<String, String>>>) {
    let now = shared.now_ns();
    if text.starts_with(r#"{"type":"event""#) {
        // Only chat messages written by the other side are timed.
        if !text.contains(r#""kind":"message""#) {
            return;
        }
        let from_other = match side {
            Side::Visitor => text.contains(r#""from":"agent""#),
            Side::Agent => text.contains(r#""from":"visitor""#),
        };
        if !from_other {
            return;
        }
        let Some((phase_id, k)) = field(text, "client_id").and_then(timed_id) else {
            return;
        };
        let Some(phase) = shared.current_phase().filter(|p| p.id == phase_id) else {
            return;
        };
        let Some(due) = phase
            .due_ns
            .get(k)
            .map(|d| d.load(Ordering::Relaxed))
            .filter(|d| *d > 0)
        else {
            return;
        };
        phase.delivered.fetch_add(1, Ordering::Relaxed);
        phase.last_delivery_ns.fetch_max(now, Ordering::Relaxed);
        if k >= phase.measure_from {
            phase.delivered_measured.fetch_add(1, Ordering::Relaxed);
            let us = u32::try_from(now.saturating_sub(due) / 1000).unwrap_or(u32::MAX);
            phase.latency_us.lock().unwrap_or_else(|p| p.into_inner()).push(us);
            if let Some(slot) = phase.latency_by_k.get(k) {
                slot.store(us, Ordering::Relaxed);
            }
        }
    } else if text.starts_with(r#"{"type":"ack""#) {
        let Some(client_id) = field(text, "client_id") else {
            return;
        };
        if client_id.starts_with("open") {
            if let (Some(reply), Some(conversation)) = (opening.take(), field(text, "conversation")) {
                let _ = reply.send(Ok(conversation.to_owned()));
            }
            return;
        }
        let Some((phase_id, k)) = timed_id(client_id) else {
            return;
        };
        let Some(phase) = shared.current_phase().filter(|p| p.id == phase_id) else {
            return;
        };
        if k < phase.measure_from {
            return;
        }
        if let Some(due) = phase
            .due_ns
            .get(k)
            .map(|d| d.load(Ordering::Relaxed))
            .filter(|d| *d > 0)
        {
            let us = u32::try_from(now.saturating_sub(due) / 1000).unwrap_or(u32::MAX);
            phase.ack_us.lock().unwrap_or_else(|p| p.into_inner()).push(us);
        }
    } else if text.starts_with(r#"{"type":"conversation_updated""#) {
        if side == Side::Agent && text.contains(r#""status":"waiting""#) {
            shared.queue_updates.fetch_add(1, Ordering::Relaxed);
            shared.last_queue_update_ns.fetch_max(now, Ordering::Relaxed);
        }
    } else if let Some(error) = error_of(text) {
        if let Some(reply) = opening.take() {
            let _ = reply.send(Err(error));
            return;
        }
        shared.errors.fetch_add(1, Ordering::Relaxed);
        Shared::sample(&shared.error_samples, format!("{side:?}: {error}"));
    }
}

/// A visitor's hello; returns when the welcome arrives.
pub async fn visitor_hello(ws: &mut Ws) -> anyhow::Result<()> {
    ws.send(Message::text(r#"{"type":"visitor_hello","protocol":1,"token":null,"after_seq":0,"page":{"url":"http://127.0.0.1/bench","title":"Bench"}}"#))
        .await?;
    read_until(ws, Duration::from_secs(30), |text| {
        if text.starts_with(r#"{"type":"visitor_welcome""#) {
            Ok(Some(()))
        } else if let Some(error) = error_of(text) {
            bail!("visitor hello refused: {error}")
        } else {
            Ok(None)
        }
    })
    .await
}

/// An agent's hello; returns the agent's id and the welcome's conversations as
/// (id, status, owner id).
pub async fn agent_hello(ws: &mut Ws) -> anyhow::Result<(i64, Vec<(String, String, Option<i64>)>)> {
    ws.send(Message::text(r#"{"type":"agent_hello","protocol":1}"#)).await?;
    read_until(ws, Duration::from_secs(30), |text| {
        if text.starts_with(r#"{"type":"agent_welcome""#) {
            let value: serde_json::Value = serde_json::from_str(text)?;
            let me = value["agent"]["id"]
                .as_i64()
                .ok_or_else(|| anyhow!("welcome without agent id"))?;
            let conversations = value["conversations"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|c| {
                            (
                                c["id"].as_str().unwrap_or_default().to_owned(),
                                c["status"].as_str().unwrap_or_default().to_owned(),
                                c["agent"]["id"].as_i64(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(Some((me, conversations)))
        } else if let Some(error) = error_of(text) {
            bail!("agent hello refused: {error}")
        } else {
            Ok(None)
        }
    })
    .await
}
