//! The task that owns the sans-IO [`Hub`] and carries out what it asks.
//!
//! One task, one `Hub`: the core is a single state machine, so it is driven from a
//! single place and needs no lock. The loop takes every input that is queued (up to
//! [`MAX_BATCH`]), feeds them to the hub, then
//! 1. stores all the batch's [`Persist`] operations in one transaction (group
//!    commit: many messages per fsync), and only then
//! 2. delivers the batch's messages in the order the hub produced them.
//!
//! So a message is acknowledged only once it is stored, and everyone sees a
//! conversation's events in `seq` order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sightline_core::records::NewImage;
use sightline_core::records::Persist;
use sightline_core::{ConnId, Hub, ImagePosted, Input, Output, Peer, Refused, ShareSettings, Uploader};
use sightline_proto::{ClientMessage, ErrorCode, ServerMessage};
use sightline_store::Store;
use tokio::sync::{mpsc, oneshot};

use crate::now_ms;

/// Most inputs handled per transaction.
const MAX_BATCH: usize = 1024;
/// Messages waiting for one socket before it is judged too slow and dropped.
pub const SOCKET_QUEUE: usize = 512;
/// Events replayed per database read.
const REPLAY_PAGE: u32 = 500;

/// What a socket task receives from the hub.
#[derive(Debug)]
pub enum Outbound {
    Message(ServerMessage),
    /// Close with this WebSocket close code and reason.
    Close(u16, String),
}

/// What reaches the hub task.
pub enum Command {
    Connect {
        conn: ConnId,
        peer: Peer,
        address: std::net::IpAddr,
        /// For agents: the hash of the login session the socket was opened with.
        session: Option<String>,
        outbound: mpsc::Sender<Outbound>,
    },
    Message {
        conn: ConnId,
        message: ClientMessage,
    },
    Disconnect {
        conn: ConnId,
    },
    /// Result of a visitor look-up, fed back in.
    Looked(Input),
    /// Close every socket of this agent (account disabled, password reset) and end
    /// their screen shares.
    DropAgent {
        agent_id: i64,
    },
    /// The agent logged out of one session: close that session's sockets and end
    /// the agent's screen shares.
    AgentLoggedOut {
        agent_id: i64,
        session: String,
    },
    Tick,
    /// Refresh the figures in [`HubMetrics`], then answer (for `/metrics`).
    Stats {
        reply: oneshot::Sender<()>,
    },
    /// Post an uploaded image into a conversation; the answer comes back on `reply`
    /// once the message is stored.
    PostImage {
        uploader: Uploader,
        client_id: String,
        image: NewImage,
        reply: oneshot::Sender<Result<ImagePosted, Refused>>,
    },
}

/// Figures for `/metrics`, updated by the hub task.
#[derive(Debug, Default)]
pub struct HubMetrics {
    pub connections: AtomicUsize,
    pub visitors: AtomicUsize,
    pub waiting: AtomicUsize,
    pub active: AtomicUsize,
    pub shares_live: AtomicUsize,
    pub batches: AtomicU64,
    pub persisted_ops: AtomicU64,
    pub persist_failures: AtomicU64,
    pub slow_consumers_dropped: AtomicU64,
}

/// A handle to the hub task.
#[derive(Clone)]
pub struct HubHandle {
    tx: mpsc::Sender<Command>,
    next_conn: Arc<AtomicU64>,
    pub metrics: Arc<HubMetrics>,
}

impl HubHandle {
    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a command; fails only when the hub task has stopped (shutdown).
    pub async fn send(&self, command: Command) -> bool {
        self.tx.send(command).await.is_ok()
    }
}

struct Socket {
    outbound: mpsc::Sender<Outbound>,
    agent_id: Option<i64>,
    session: Option<String>,
}

/// Starts the hub task, restoring open conversations from the store.
pub async fn spawn(store: Store, settings: ShareSettings) -> anyhow::Result<(HubHandle, tokio::task::JoinHandle<()>)> {
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
    let mut hub = Hub::new(seed, settings.clone());
    let open = store.load_open_conversations().await?;
    tracing::info!(open_conversations = open.len(), "restored open conversations");
    hub.restore(open, now_ms());
    // Inputs waiting for the hub; senders wait (backpressure) when it is full.
    let (tx, rx) = mpsc::channel(16 * 1024);
    let metrics = Arc::new(HubMetrics::default());
    let handle = HubHandle {
        tx: tx.clone(),
        next_conn: Arc::new(AtomicU64::new(1)),
        metrics: metrics.clone(),
    };
    // The hub keeps only a weak sender to itself (for look-up answers), so it stops
    // once every socket and handle is gone.
    let task = tokio::spawn(run(hub, settings, store, rx, tx.downgrade(), metrics));
    Ok((handle, task))
}

async fn run(
    mut hub: Hub,
    settings: ShareSettings,
    store: Store,
    mut rx: mpsc::Receiver<Command>,
    tx: mpsc::WeakSender<Command>,
    metrics: Arc<HubMetrics>,
) {
    let mut sockets: HashMap<ConnId, Socket> = HashMap::new();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut outputs = Vec::new();
    // Image uploads waiting for their answer, by request number.
    let mut pending_images: HashMap<u64, oneshot::Sender<Result<ImagePosted, Refused>>> = HashMap::new();
    let mut next_request: u64 = 0;
    loop {
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break; // Every sender is gone: the server is shutting down.
        }
        let now = now_ms();
        for command in batch.drain(..) {
            let input = match command {
                Command::Connect {
                    conn,
                    peer,
                    address,
                    session,
                    outbound,
                } => {
                    let agent_id = match &peer {
                        Peer::Agent(identity) => Some(identity.agent.id),
                        Peer::Visitor => None,
                    };
                    sockets.insert(
                        conn,
                        Socket {
                            outbound,
                            agent_id,
                            session,
                        },
                    );
                    Input::Connected { conn, peer, address }
                }
                Command::Message { conn, message } => Input::Message { conn, message },
                Command::Disconnect { conn } => {
                    sockets.remove(&conn);
                    Input::Disconnected { conn }
                }
                Command::Looked(input) => input,
                Command::DropAgent { agent_id } => {
                    for socket in sockets.values().filter(|s| s.agent_id == Some(agent_id)) {
                        let _ = socket.outbound.try_send(Outbound::Close(4001, "logged out".into()));
                    }
                    Input::AgentLoggedOut { agent_id }
                }
                Command::AgentLoggedOut { agent_id, session } => {
                    for socket in sockets
                        .values()
                        .filter(|s| s.session.as_deref() == Some(session.as_str()))
                    {
                        let _ = socket.outbound.try_send(Outbound::Close(4001, "logged out".into()));
                    }
                    Input::AgentLoggedOut { agent_id }
                }
                Command::Tick => Input::Tick,
                Command::Stats { reply } => {
                    publish_stats(&hub, &metrics);
                    let _ = reply.send(());
                    continue;
                }
                Command::PostImage {
                    uploader,
                    client_id,
                    image,
                    reply,
                } => {
                    next_request += 1;
                    pending_images.insert(next_request, reply);
                    Input::PostImage {
                        request: next_request,
                        uploader,
                        client_id,
                        image,
                    }
                }
            };
            hub.handle(now, input);
            while let Some(output) = hub.poll_output() {
                outputs.push(output);
            }
        }
        let persists: Vec<Persist> = outputs
            .iter()
            .filter_map(|o| match o {
                Output::Persist(op) => Some(op.clone()),
                _ => None,
            })
            .collect();
        if !persists.is_empty() && !persist_with_retry(&store, &persists, &metrics).await {
            // The hub's memory is now ahead of the database. Start over from what is
            // stored: drop every socket (clients reconnect and re-send their
            // unacknowledged messages) and rebuild the hub.
            tracing::error!("storage keeps failing; dropping all connections and reloading state");
            for socket in sockets.values() {
                let _ = socket
                    .outbound
                    .try_send(Outbound::Close(1011, "storage failure, reconnect".into()));
            }
            sockets.clear();
            outputs.clear();
            // Dropping the senders tells the waiting uploads that nothing was stored.
            pending_images.clear();
            let mut seed = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
            hub = Hub::new(seed, settings.clone());
            match store.load_open_conversations().await {
                Ok(open) => hub.restore(open, now_ms()),
                Err(err) => tracing::error!(%err, "reloading open conversations failed"),
            }
            continue;
        }
        metrics.batches.fetch_add(1, Ordering::Relaxed);
        metrics
            .persisted_ops
            .fetch_add(persists.len() as u64, Ordering::Relaxed);
        for output in outputs.drain(..) {
            match output {
                Output::Persist(_) => {}
                Output::Send { conn, message } => deliver(&mut sockets, conn, Outbound::Message(message), &metrics),
                Output::Replay {
                    conn,
                    conversation,
                    after_seq,
                    upto_seq,
                } => {
                    replay(&store, &mut sockets, conn, conversation, after_seq, upto_seq, &metrics).await;
                }
                Output::LookupVisitor {
                    conn,
                    token,
                    token_hash,
                } => {
                    // Off the hub task: a look-up must not hold up everyone else.
                    let Some(tx) = tx.upgrade() else { continue };
                    let store = store.clone();
                    tokio::spawn(async move {
                        let visitor = match store.visitor_by_token_hash(&token_hash).await {
                            Ok(visitor) => visitor,
                            Err(err) => {
                                tracing::warn!(%err, "visitor look-up failed; treating as unknown");
                                None
                            }
                        };
                        let _ = tx
                            .send(Command::Looked(Input::VisitorLookedUp { conn, token, visitor }))
                            .await;
                    });
                }
                Output::Disconnect { conn, reason } => {
                    deliver(&mut sockets, conn, Outbound::Close(1008, reason), &metrics)
                }
                Output::ImagePosted { request, result } => {
                    if let Some(reply) = pending_images.remove(&request) {
                        let _ = reply.send(result);
                    }
                }
            }
        }
        // The connection count guards the connection limit, so it is kept current;
        // the rest of the figures walk every conversation and are computed only
        // when /metrics asks (Command::Stats).
        metrics.connections.store(sockets.len(), Ordering::Relaxed);
    }
}

fn publish_stats(hub: &Hub, metrics: &HubMetrics) {
    let stats = hub.stats();
    metrics.connections.store(stats.connections, Ordering::Relaxed);
    metrics.visitors.store(stats.visitors, Ordering::Relaxed);
    metrics.waiting.store(stats.conversations_waiting, Ordering::Relaxed);
    metrics.active.store(stats.conversations_active, Ordering::Relaxed);
    metrics.shares_live.store(stats.shares_live, Ordering::Relaxed);
}

async fn persist_with_retry(store: &Store, ops: &[Persist], metrics: &HubMetrics) -> bool {
    for (attempt, pause_ms) in [(1, 50), (2, 250), (3, 1000)] {
        match store.apply(ops).await {
            Ok(()) => return true,
            Err(err) => {
                metrics.persist_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%err, attempt, "storing a batch failed");
                tokio::time::sleep(Duration::from_millis(pause_ms)).await;
            }
        }
    }
    false
}

/// Queues a message for a socket. A socket whose queue is full is too slow to keep
/// up; it is closed rather than allowed to grow memory without bound (the client
/// reconnects and resumes from its last sequence number).
fn deliver(sockets: &mut HashMap<ConnId, Socket>, conn: ConnId, message: Outbound, metrics: &HubMetrics) {
    let Some(socket) = sockets.get(&conn) else { return };
    if let Err(mpsc::error::TrySendError::Full(_)) = socket.outbound.try_send(message) {
        metrics.slow_consumers_dropped.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(conn, "socket too slow; closing it");
        sockets.remove(&conn);
    }
}

/// Like [`deliver`], but a long replay may wait a moment for the socket to drain.
async fn deliver_patiently(
    sockets: &mut HashMap<ConnId, Socket>,
    conn: ConnId,
    message: Outbound,
    metrics: &HubMetrics,
) -> bool {
    let Some(socket) = sockets.get(&conn) else { return false };
    match tokio::time::timeout(Duration::from_secs(2), socket.outbound.send(message)).await {
        Ok(Ok(())) => true,
        Ok(Err(_)) => false,
        Err(_) => {
            metrics.slow_consumers_dropped.fetch_add(1, Ordering::Relaxed);
            sockets.remove(&conn);
            false
        }
    }
}

async fn replay(
    store: &Store,
    sockets: &mut HashMap<ConnId, Socket>,
    conn: ConnId,
    conversation: String,
    after_seq: u64,
    upto_seq: u64,
    metrics: &HubMetrics,
) {
    let mut from = after_seq;
    while from < upto_seq {
        match store.events(&conversation, from, Some(upto_seq), REPLAY_PAGE).await {
            Ok(events) if !events.is_empty() => {
                from = events.last().map_or(upto_seq, |e| e.seq);
                for event in events {
                    let message = Outbound::Message(ServerMessage::Event {
                        conversation: conversation.clone(),
                        event,
                    });
                    if !deliver_patiently(sockets, conn, message, metrics).await {
                        return;
                    }
                }
            }
            Ok(_) => break,
            Err(err) => {
                tracing::error!(%err, "replay failed");
                deliver(
                    sockets,
                    conn,
                    Outbound::Message(ServerMessage::error(
                        ErrorCode::Internal,
                        "could not load the transcript; retry",
                        None,
                    )),
                    metrics,
                );
                return;
            }
        }
    }
    deliver(
        sockets,
        conn,
        Outbound::Message(ServerMessage::Synced {
            conversation,
            last_seq: upto_seq,
        }),
        metrics,
    );
}
