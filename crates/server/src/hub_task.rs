//! The task that owns the sans-IO [`Hub`] and carries out what it asks.
//!
//! One task, one `Hub`: the core is a single state machine, so it is driven from a
//! single place and needs no lock. The loop takes every input that is queued (up to
//! `MAX_BATCH`), feeds them to the hub, then
//! 1. stores all the batch's [`Persist`] operations in one transaction (group
//!    commit: many messages per fsync), and only then
//! 2. delivers the batch's messages in the order the hub produced them.
//!
//! So a message is acknowledged only once it is stored, and everyone sees a
//! conversation's events in `seq` order.
//!
//! The task never waits on a socket or a database read: delivery is `try_send` into
//! each socket's bounded queue (a socket whose queue is full is closed, never waited
//! for), transcript replays are queued to the socket's own task as
//! [`Outbound::Replay`] (it reads the store itself, before the live events queued
//! after it), and visitor look-ups run in tasks of their own. The only await
//! besides receiving input is the batch's commit, which "stored before
//! acknowledged" requires.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sightline_core::identity::IdentitySecret;
use sightline_core::records::NewImage;
use sightline_core::records::Persist;
use sightline_core::{
    ConnId, Hub, ImagePosted, Input, LimitKind, Limits, Output, Peer, Refused, ShareSettings, Uploader,
};
use sightline_proto::{AgentId, ClientMessage, ConversationId, ServerMessage};
use sightline_store::Store;
use tokio::sync::{mpsc, oneshot};

use crate::now_ms;
use crate::relay::Relay;

/// Most inputs taken from the channel at once (a commit may hold several such
/// batches: see `MAX_WAITING_OUTPUTS`).
const MAX_BATCH: usize = 1024;
/// Outputs the hub may produce while a commit is in flight before it stops taking
/// input (the next commit holds at most about this much).
const MAX_WAITING_OUTPUTS: usize = 32 * MAX_BATCH;
/// Messages waiting for one socket before it is judged too slow and dropped.
pub const SOCKET_QUEUE: usize = 512;
/// What a socket task receives from the hub. Almost every item is a message, so
/// the message is kept inline (boxing it would cost an allocation per delivery).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Outbound {
    Message(ServerMessage),
    /// Read the stored events `after_seq < seq <= upto_seq` of a conversation and
    /// send them, then `Synced { last_seq: upto_seq }`. The socket task does it, in
    /// queue order: live events the hub queues after this come after the replay.
    /// `to_visitor`: each event as `Event::for_visitor` makes it (no internal notes).
    Replay {
        conversation: ConversationId,
        after_seq: u64,
        upto_seq: u64,
        to_visitor: bool,
    },
    /// Close with this WebSocket close code and reason.
    Close(u16, String),
}

/// What reaches the hub task.
pub enum Command {
    Connect {
        conn: ConnId,
        peer: Peer,
        address: std::net::IpAddr,
        /// What the request said of the browser (visitors).
        client: sightline_core::ClientInfo,
        /// For agents: the hash of the login session the socket was opened with.
        session: Option<String>,
        outbound: mpsc::Sender<Outbound>,
        /// Closes the socket ahead of its queue (a dropped agent's backlog is never
        /// delivered).
        kill: oneshot::Sender<(u16, String)>,
    },
    Message {
        conn: ConnId,
        message: ClientMessage,
        /// The frame's `ref`, echoed in errors.
        request_ref: Option<String>,
    },
    Disconnect {
        conn: ConnId,
    },
    /// Result of a visitor look-up, fed back in.
    Looked(Input),
    /// Close every socket of this agent (account disabled, password reset) and end
    /// their screen shares.
    DropAgent {
        agent_id: AgentId,
        /// A session whose sockets stay open (the one that changed the password).
        except_session: Option<String>,
    },
    /// The agent logged out of one session: close that session's sockets and end
    /// the agent's screen shares.
    AgentLoggedOut {
        agent_id: AgentId,
        session: String,
    },
    /// An agent's display name changed (see `Input::AgentRenamed`).
    AgentRenamed {
        agent: sightline_proto::AgentRef,
    },
    /// An admin changed what an agent may use (see `Input::AgentPermissionsChanged`).
    AgentPermissionsChanged {
        agent_id: AgentId,
        permissions: sightline_proto::Permissions,
    },
    /// The site policy changed, or is read at start (see `Input::SitePolicyChanged`).
    SitePolicyChanged {
        policy: sightline_proto::SitePolicy,
    },
    Tick,
    /// Within office hours or not (see `Input::OfficeHours`).
    OfficeHours {
        open: bool,
    },
    /// Refresh the figures in [`HubMetrics`], then answer (for `/metrics`).
    Stats {
        reply: oneshot::Sender<()>,
    },
    /// Who is invited into an open conversation (for the HTTP reads' rule).
    Invitees {
        conversation: sightline_proto::ConversationId,
        reply: oneshot::Sender<Vec<sightline_proto::Invitee>>,
    },
    /// May this uploader post an image? Asked before the upload is decoded.
    CheckUploader {
        uploader: Box<Uploader>,
        reply: oneshot::Sender<Result<(), Refused>>,
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
    /// `conversation_updated` messages not sent because a newer one of the same
    /// batch replaced them.
    pub summaries_coalesced: AtomicU64,
    pub address_groups: AtomicUsize,
    /// Refusals by a rate limit of the hub, by [`LimitKind`] (in `LimitKind::ALL` order).
    pub limited: [AtomicU64; LimitKind::ALL.len()],
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
        ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed))
    }

    /// Sends a command; fails only when the hub task has stopped (shutdown).
    pub async fn send(&self, command: Command) -> bool {
        self.tx.send(command).await.is_ok()
    }

    /// Whether `agent` may read a conversation as stored (`status`, `owner`):
    /// [`sightline_core::policy::agent_may_read`] with the invitees the hub holds,
    /// asked only when the rule depends on them (an active conversation that is
    /// someone else's). A stopped hub invites nobody.
    pub async fn agent_may_read(
        &self,
        conversation: &sightline_proto::ConversationId,
        status: sightline_proto::ConversationStatus,
        owner: Option<AgentId>,
        agent: AgentId,
    ) -> bool {
        use sightline_core::policy::agent_may_read;
        if agent_may_read(status, owner, &[], agent) {
            return true;
        }
        if status != sightline_proto::ConversationStatus::Active {
            return false;
        }
        let (reply, answer) = oneshot::channel();
        let asked = self
            .send(Command::Invitees {
                conversation: conversation.clone(),
                reply,
            })
            .await;
        let invitees = if asked {
            answer.await.unwrap_or_default()
        } else {
            Vec::new()
        };
        agent_may_read(status, owner, &invitees, agent)
    }
}

struct Socket {
    outbound: mpsc::Sender<Outbound>,
    /// Closes the socket at once, ahead of whatever is still queued.
    kill: Option<oneshot::Sender<(u16, String)>>,
    agent_id: Option<AgentId>,
    session: Option<String>,
}

/// Starts the hub task, restoring open conversations from the store.
///
/// The hub runs on a thread of its own, and its group commits on another (each a
/// single-threaded runtime): on the shell's runtime, every wake-up of the hub and
/// each of a commit's trips to SQLite's worker thread waited behind thousands of
/// socket tasks. Measured at 15,000 msg/s (`cargo xtask bench`, 2 cores): p50
/// 109–214 ms and p99 522–700 ms on the shared runtime, p50 28–42 ms and p99
/// 201–221 ms on their own threads, with 60 to 190 commits a second instead of
/// 10 to 80. Whatever the hub starts that does I/O (look-ups) still runs on the
/// shell's runtime. The returned receiver resolves when the hub has stopped.
pub async fn spawn(
    store: Store,
    settings: ShareSettings,
    limits: Limits,
    identity_secret: Option<IdentitySecret>,
    relay: Arc<Relay>,
) -> anyhow::Result<(HubHandle, oneshot::Receiver<()>)> {
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
    let mut hub = Hub::new(seed, settings.clone());
    hub.set_limits(limits.clone());
    hub.set_identity_secret(identity_secret.clone());
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
    let committer = Committer::start(store.clone(), metrics.clone())?;
    let shell = tokio::runtime::Handle::current();
    // The hub keeps only a weak sender to itself (for look-up answers), so it stops
    // once every socket and handle is gone.
    let task = on_own_thread(
        "sightline-hub",
        run(
            hub,
            (settings, limits, identity_secret),
            (store, relay, committer, shell),
            rx,
            tx.downgrade(),
            metrics,
        ),
    )?;
    Ok((handle, task))
}

/// Runs `future` to completion on a new thread named `name`, on a single-threaded
/// runtime of its own; the receiver gets its output.
fn on_own_thread<F>(name: &str, future: F) -> std::io::Result<oneshot::Receiver<F::Output>>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (done, finished) = oneshot::channel();
    std::thread::Builder::new().name(name.into()).spawn(move || {
        let _ = done.send(runtime.block_on(future));
    })?;
    Ok(finished)
}

/// The thread that stores the hub's batches: one group commit at a time (the hub
/// waits for each before it starts the next), retried on failure; the answer says
/// whether the batch is stored. Stops when the hub drops it.
struct Committer {
    jobs: mpsc::UnboundedSender<(Vec<Persist>, oneshot::Sender<bool>)>,
}

impl Committer {
    fn start(store: Store, metrics: Arc<HubMetrics>) -> std::io::Result<Committer> {
        let (jobs, mut queue) = mpsc::unbounded_channel::<(Vec<Persist>, oneshot::Sender<bool>)>();
        on_own_thread("sightline-commit", async move {
            while let Some((persists, reply)) = queue.recv().await {
                let started = std::time::Instant::now();
                let stored = persist_with_retry(&store, &persists, &metrics).await;
                tracing::debug!(
                    ops = persists.len(),
                    ms = started.elapsed().as_secs_f64() * 1e3,
                    "batch stored"
                );
                let _ = reply.send(stored);
            }
        })?;
        Ok(Committer { jobs })
    }

    /// Hands a batch to the commit thread. A commit thread that is gone (it
    /// panicked) answers "not stored", as a failing database would.
    fn commit(&self, persists: Vec<Persist>) -> oneshot::Receiver<bool> {
        let (reply, answer) = oneshot::channel();
        let _ = self.jobs.send((persists, reply));
        answer
    }
}

async fn run(
    mut hub: Hub,
    (settings, limits, identity_secret): (ShareSettings, Limits, Option<IdentitySecret>),
    (store, relay, committer, shell): (Store, Arc<Relay>, Committer, tokio::runtime::Handle),
    mut rx: mpsc::Receiver<Command>,
    tx: mpsc::WeakSender<Command>,
    metrics: Arc<HubMetrics>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut outputs = Vec::new();
    let mut next_request: u64 = 0;
    // The sockets, the uploads waiting for their answer (by request number) and
    // the limit log: what delivering a stored batch needs.
    let mut out = Delivery {
        sockets: HashMap::new(),
        pending_images: HashMap::new(),
        limit_log: LimitLog::default(),
        metrics: metrics.clone(),
        tx: tx.clone(),
        store: store.clone(),
        shell,
    };
    // A batch's commit runs while the hub goes on with the next inputs; the
    // batch's messages are delivered once it is stored, in order. What the hub
    // produces meanwhile waits, and becomes the next (larger) group commit.
    let mut in_flight: Option<InFlight> = None;
    let mut waiting: Vec<Output> = Vec::new();
    let mut closing = false;
    loop {
        if let Some(commit) = in_flight.as_mut() {
            tokio::select! {
                biased;
                stored = &mut commit.handle => {
                    let stored = stored.unwrap_or(false);
                    let committed = in_flight.take().map(|c| c.outputs).unwrap_or_default();
                    if !stored {
                        // The hub's memory is now ahead of the database. Start over from
                        // what is stored: drop every socket (clients reconnect and re-send
                        // their unacknowledged messages) and rebuild the hub.
                        tracing::error!("storage keeps failing; dropping all connections and reloading state");
                        for socket in out.sockets.values_mut() {
                            if let Some(kill) = socket.kill.take() {
                                let _ = kill.send((1011, "storage failure, reconnect".into()));
                            }
                        }
                        out.sockets.clear();
                        waiting.clear();
                        // The new hub knows of no grant: no stream may outlive it.
                        relay.revoke_all();
                        // Dropping the senders tells the waiting uploads that nothing was stored.
                        out.pending_images.clear();
                        let mut seed = [0u8; 32];
                        rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
                        hub = Hub::new(seed, settings.clone());
                        hub.set_limits(limits.clone());
                        hub.set_identity_secret(identity_secret.clone());
                        match store.load_open_conversations().await {
                            Ok(open) => hub.restore(open, now_ms()),
                            Err(err) => tracing::error!(%err, "reloading open conversations failed"),
                        }
                        continue;
                    }
                    out.deliver(committed);
                    in_flight = start_commit(&committer, &metrics, std::mem::take(&mut waiting), &mut out);
                    metrics.connections.store(out.sockets.len(), Ordering::Relaxed);
                    continue;
                }
                // Past a bound the hub stops taking input until the commit is done:
                // senders then wait on the channel (a slow database pushes back
                // instead of growing memory).
                received = rx.recv_many(&mut batch, MAX_BATCH), if !closing && waiting.len() < MAX_WAITING_OUTPUTS => {
                    if received == 0 {
                        closing = true;
                        continue;
                    }
                }
            }
        } else if closing || rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break; // Every sender is gone: the server is shutting down.
        }
        let now = now_ms();
        for command in batch.drain(..) {
            let input = match command {
                Command::Connect {
                    conn,
                    peer,
                    address,
                    client,
                    session,
                    outbound,
                    kill,
                } => {
                    let agent_id = match &peer {
                        Peer::Agent(identity) => Some(identity.agent.id),
                        Peer::Visitor => None,
                    };
                    out.sockets.insert(
                        conn,
                        Socket {
                            outbound,
                            kill: Some(kill),
                            agent_id,
                            session,
                        },
                    );
                    Input::Connected {
                        conn,
                        peer,
                        address,
                        client,
                    }
                }
                Command::Message {
                    conn,
                    message,
                    request_ref,
                } => Input::Message {
                    conn,
                    message,
                    request_ref,
                },
                Command::Disconnect { conn } => {
                    out.sockets.remove(&conn);
                    Input::Disconnected { conn }
                }
                Command::Looked(input) => input,
                Command::DropAgent {
                    agent_id,
                    except_session,
                } => {
                    close_sockets(&mut out.sockets, |s| {
                        s.agent_id == Some(agent_id) && (except_session.is_none() || s.session != except_session)
                    });
                    if except_session.is_some() {
                        // The agent is still logged in elsewhere: their shares go on,
                        // but streams the ended sessions may hold end with their grants.
                        Input::AgentOtherSessionsEnded { agent_id }
                    } else {
                        Input::AgentLoggedOut { agent_id }
                    }
                }
                Command::AgentLoggedOut { agent_id, session } => {
                    close_sockets(&mut out.sockets, |s| s.session.as_deref() == Some(session.as_str()));
                    Input::AgentLoggedOut { agent_id }
                }
                Command::AgentRenamed { agent } => Input::AgentRenamed { agent },
                Command::AgentPermissionsChanged { agent_id, permissions } => {
                    Input::AgentPermissionsChanged { agent_id, permissions }
                }
                Command::SitePolicyChanged { policy } => Input::SitePolicyChanged { policy },
                Command::Tick => Input::Tick,
                Command::OfficeHours { open } => Input::OfficeHours { open },
                Command::CheckUploader { uploader, reply } => {
                    let _ = reply.send(hub.check_uploader(&uploader));
                    continue;
                }
                Command::Invitees { conversation, reply } => {
                    let _ = reply.send(hub.invitees(&conversation));
                    continue;
                }
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
                    out.pending_images.insert(next_request, reply);
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
        // The data plane first, before the commit: a revocation stops the flow now,
        // and a grant is ready by the time its tokens are delivered.
        for output in &outputs {
            match output {
                Output::StreamGrant(grant) => relay.grant(grant.clone()),
                Output::StreamToken { stream, token } => relay.add_token(stream, token.clone()),
                Output::StreamRevoke { stream } => relay.revoke(stream),
                _ => {}
            }
        }
        waiting.append(&mut outputs);
        if in_flight.is_none() {
            in_flight = start_commit(&committer, &metrics, std::mem::take(&mut waiting), &mut out);
        }
        // The connection count guards the connection limit, so it is kept current;
        // the rest of the figures walk every conversation and are computed only
        // when /metrics asks (Command::Stats).
        metrics.connections.store(out.sockets.len(), Ordering::Relaxed);
    }
}

/// A commit running beside the hub, and the outputs to deliver once it is done.
struct InFlight {
    handle: oneshot::Receiver<bool>,
    outputs: Vec<Output>,
}

/// Starts the commit of `outputs`' persists, or, when there is nothing to store,
/// delivers them at once.
fn start_commit(
    committer: &Committer,
    metrics: &Arc<HubMetrics>,
    outputs: Vec<Output>,
    delivery: &mut Delivery,
) -> Option<InFlight> {
    if outputs.is_empty() {
        return None;
    }
    // The operations move to the commit (delivery has no use for them); the rest
    // keep their order.
    let mut persists: Vec<Persist> = Vec::new();
    let mut rest: Vec<Output> = Vec::with_capacity(outputs.len());
    for output in outputs {
        match output {
            Output::Persist(op) => persists.push(op),
            other => rest.push(other),
        }
    }
    let outputs = rest;
    if persists.is_empty() {
        delivery.deliver(outputs);
        return None;
    }
    metrics.batches.fetch_add(1, Ordering::Relaxed);
    metrics
        .persisted_ops
        .fetch_add(persists.len() as u64, Ordering::Relaxed);
    let handle = committer.commit(persists);
    Some(InFlight { handle, outputs })
}

/// The `conversation_updated` messages of a batch that a later one for the same
/// socket and conversation replaces: a summary is the whole state, so only the
/// newest of a batch is sent (queue broadcasts to every agent are coalesced).
fn superseded_summaries(outputs: &[Output]) -> std::collections::HashSet<usize> {
    let mut newest: HashMap<(ConnId, &str), usize> = HashMap::new();
    let mut superseded = std::collections::HashSet::new();
    for (i, output) in outputs.iter().enumerate() {
        if let Output::Send {
            conn,
            message: ServerMessage::ConversationUpdated { conversation },
        } = output
        {
            if let Some(earlier) = newest.insert((*conn, conversation.id.as_str()), i) {
                superseded.insert(earlier);
            }
        }
    }
    superseded
}

/// What delivering a stored batch's outputs needs.
struct Delivery {
    sockets: HashMap<ConnId, Socket>,
    pending_images: HashMap<u64, oneshot::Sender<Result<ImagePosted, Refused>>>,
    limit_log: LimitLog,
    metrics: Arc<HubMetrics>,
    tx: mpsc::WeakSender<Command>,
    store: Store,
    /// The shell's runtime: look-ups run there, not on the hub's thread.
    shell: tokio::runtime::Handle,
}

impl Delivery {
    /// Hands a stored batch's messages to the sockets (`try_send`), answers
    /// uploads, starts look-ups, counts limits.
    fn deliver(&mut self, outputs: Vec<Output>) {
        let now = now_ms();
        let superseded = superseded_summaries(&outputs);
        for (i, output) in outputs.into_iter().enumerate() {
            if superseded.contains(&i) {
                self.metrics.summaries_coalesced.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            match output {
                Output::Persist(_)
                | Output::StreamGrant(_)
                | Output::StreamToken { .. }
                | Output::StreamRevoke { .. } => {}
                Output::Send { conn, message } => {
                    deliver(&mut self.sockets, conn, Outbound::Message(message), &self.metrics)
                }
                Output::Replay {
                    conn,
                    conversation,
                    after_seq,
                    upto_seq,
                    to_visitor,
                } => deliver(
                    &mut self.sockets,
                    conn,
                    Outbound::Replay {
                        conversation,
                        after_seq,
                        upto_seq,
                        to_visitor,
                    },
                    &self.metrics,
                ),
                Output::LookupVisitor {
                    conn,
                    token,
                    token_hash,
                } => {
                    // Off the hub task: a look-up must not hold up everyone else.
                    let Some(tx) = self.tx.upgrade() else { continue };
                    let store = self.store.clone();
                    self.shell.spawn(async move {
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
                    deliver(&mut self.sockets, conn, Outbound::Close(1008, reason), &self.metrics)
                }
                Output::ImagePosted { request, result } => {
                    if let Some(reply) = self.pending_images.remove(&request) {
                        let _ = reply.send(result);
                    }
                }
                Output::Limited { limit, address } => {
                    if let Some(counter) = LimitKind::ALL
                        .iter()
                        .position(|k| *k == limit)
                        .and_then(|i| self.metrics.limited.get(i))
                    {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    self.limit_log.hit(limit, address, now);
                }
            }
        }
    }
}

fn publish_stats(hub: &Hub, metrics: &HubMetrics) {
    let stats = hub.stats();
    metrics.connections.store(stats.connections, Ordering::Relaxed);
    metrics.visitors.store(stats.visitors, Ordering::Relaxed);
    metrics.waiting.store(stats.conversations_waiting, Ordering::Relaxed);
    metrics.active.store(stats.conversations_active, Ordering::Relaxed);
    metrics.shares_live.store(stats.shares_live, Ordering::Relaxed);
    metrics.address_groups.store(stats.address_groups, Ordering::Relaxed);
}

/// One log line per limit and minute while it keeps refusing: enough to see an
/// attack in the logs without letting the attacker fill them.
#[derive(Default)]
struct LimitLog {
    /// Per limit: when the current minute's line was written, and refusals since.
    windows: std::collections::BTreeMap<LimitKind, (u64, u64)>,
}

impl LimitLog {
    fn hit(&mut self, limit: LimitKind, address: std::net::IpAddr, now: u64) {
        let (since, count) = self.windows.entry(limit).or_insert((0, 0));
        *count += 1;
        if now.saturating_sub(*since) >= 60_000 {
            tracing::warn!(
                limit = limit.as_str(),
                %address,
                refusals_in_last_minute = *count,
                "rate limit hit"
            );
            *since = now;
            *count = 0;
        }
    }
}

/// Closes the matching sockets at once, ahead of anything still queued for them:
/// a disabled or logged-out agent must not go on receiving a backlog.
fn close_sockets(sockets: &mut HashMap<ConnId, Socket>, matches: impl Fn(&Socket) -> bool) {
    sockets.retain(|_, socket| {
        if !matches(socket) {
            return true;
        }
        if let Some(kill) = socket.kill.take() {
            let _ = kill.send((4001, "logged out".into()));
        }
        false
    });
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
        tracing::warn!(conn = conn.0, "socket too slow; closing it");
        sockets.remove(&conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, preview: &str) -> sightline_proto::ConversationSummary {
        sightline_proto::ConversationSummary {
            id: id.into(),
            status: sightline_proto::ConversationStatus::Waiting,
            agent: None,
            created_at: 1,
            last_seq: 1,
            last_activity_at: 1,
            preview: Some(preview.into()),
            page: None,
            visitor_online: true,
            share: None,
            grants: Vec::new(),
            visitor_email: None,
            screenshot: None,
            rating: None,
            invitees: Vec::new(),
            visitor_identity: None,
            visitor: None,
        }
    }

    #[test]
    fn only_the_newest_summary_of_a_batch_goes_to_each_socket() {
        let updated = |conn, id: &str, preview: &str| Output::Send {
            conn: ConnId(conn),
            message: ServerMessage::ConversationUpdated {
                conversation: summary(id, preview),
            },
        };
        let outputs = vec![
            updated(1, "a", "first"),
            Output::Send {
                conn: ConnId(1),
                message: ServerMessage::Pong { nonce: 1 },
            },
            updated(2, "a", "first"),
            updated(1, "b", "other"),
            updated(1, "a", "second"),
            updated(1, "a", "third"),
        ];
        let superseded = superseded_summaries(&outputs);
        // Socket 1's first two of "a" go; socket 2's only one and "b" stay.
        assert_eq!(superseded, [0, 4].into_iter().collect());
    }

    #[test]
    fn a_dropped_agents_socket_is_told_to_close_ahead_of_its_full_queue() {
        let mut sockets = HashMap::new();
        let (full_tx, _full_rx) = mpsc::channel(1);
        full_tx
            .try_send(Outbound::Message(ServerMessage::Pong { nonce: 1 }))
            .expect("room for one");
        let (kill, mut killed) = oneshot::channel();
        let (other_tx, _other_rx) = mpsc::channel(4);
        let (other_kill, mut other_killed) = oneshot::channel();
        sockets.insert(
            ConnId(1),
            Socket {
                outbound: full_tx,
                kill: Some(kill),
                agent_id: Some(AgentId(7)),
                session: None,
            },
        );
        sockets.insert(
            ConnId(2),
            Socket {
                outbound: other_tx,
                kill: Some(other_kill),
                agent_id: Some(AgentId(8)),
                session: None,
            },
        );
        close_sockets(&mut sockets, |s| s.agent_id == Some(AgentId(7)));
        assert!(!sockets.contains_key(&ConnId(1)) && sockets.contains_key(&ConnId(2)));
        assert_eq!(killed.try_recv().ok(), Some((4001, "logged out".to_owned())));
        assert!(matches!(
            other_killed.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        ));
    }
}
