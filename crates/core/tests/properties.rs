//! Property test: the hub driven by random interleavings of several visitors and
//! agents (hellos with and without tokens, messages and their retries, typing,
//! accept, close, sync, screen shares, session keys, image posts, disconnects,
//! logouts, ticks, time passing, storage failures, restarts, and admins changing
//! an agent's permissions or the site policy), through an
//! in-memory shell that keeps a small reference model of what storage holds.
//!
//! After every input it checks:
//! - the hub does not panic;
//! - every stored event's `seq` is the conversation's last + 1, nothing follows a
//!   `closed` event, and a client id is stored at most once per side and conversation;
//! - status and share transitions follow the rules (consent only by the visitor);
//! - a visitor socket only ever hears about its own visitor's conversations, and an
//!   agent socket only about conversations that are (or were) waiting, or that the
//!   agent owns; nothing reaches a socket before its welcome or after it closed;
//! - share signaling and setup reach only the share's two ends, and only while the
//!   visitor's consent stands (never before it, never after the share ended);
//! - acks, replays and summaries agree with what is stored;
//! - a share or grant is only ever asked for by an owner who may use it (their
//!   permissions and the site policy's), none outlives a change that takes it
//!   away, and consoles are told exactly what they may use.
//!
//! 100,000 cases by default; `SIGHTLINE_PROPTEST_CASES=5000000 cargo test -p
//! sightline-core --test properties --release` for a long run.
//! `SIGHTLINE_PROPTEST_STATS=1` prints how often the interesting paths were reached.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use sightline_core::records::{
    NewImage, Persist, RecentClientId, StoredConversation, StoredVisitor, VisitorId, ACTIVITY_STORE_INTERVAL_MS,
};
use sightline_core::{
    consent, token_hash, AgentIdentity, ConnId, Hub, Input, Output, Party, Peer, ShareSettings, StreamToken, Uploader,
};
use sightline_proto::{
    AgentId, AgentRef, Capability, ClientMessage, ControlAction, ControlVerb, ConversationId, ConversationStatus,
    ConversationSummary, Event, EventKind, GrantId, GrantState, GrantStep, ImageRef, MessageBody, PageInfo, Permission,
    Permissions, Role, ServerMessage, ShareId, ShareMode, ShareState, ShareStep, Signal, SitePolicy, StreamId,
    StreamRole, PROTOCOL_VERSION,
};

// ---------------------------------------------------------------------------
// What the test does: actions on a few actors.

const VISITORS: usize = 3;
/// Agent actors: Anna in two console tabs, and Ben.
const AGENTS: [(AgentId, &str); 3] = [(AgentId(1), "Anna"), (AgentId(1), "Anna"), (AgentId(2), "Ben")];

#[derive(Debug, Clone, Copy)]
enum Actor {
    Visitor(usize),
    Agent(usize),
}

/// An entry of a list the world has learned (conversations, shares, keys): the
/// newest first, or an id nobody was given.
#[derive(Debug, Clone, Copy)]
enum Pick {
    Newest(usize),
    Bogus,
}

#[derive(Debug, Clone, Copy)]
enum TokenChoice {
    None,
    /// The token this visitor actor was last given.
    Own,
    /// Another visitor actor's token (a second tab of the same visitor).
    Of(usize),
    /// A well-formed token the server never issued.
    Unknown,
    TooLong,
}

#[derive(Debug, Clone, Copy)]
enum ClientIdChoice {
    /// One of this actor's few ids: reusing one is a retry.
    Mine(u8),
    /// One of another actor's ids.
    Theirs(usize, u8),
    Invalid,
}

#[derive(Debug, Clone, Copy)]
enum BodyChoice {
    Text(u8),
    Blank,
    Link,
    BadLink,
    Image,
}

#[derive(Debug, Clone, Copy)]
enum SignalChoice {
    Offer,
    Answer,
    Candidate,
    BadType,
    Restart,
    Motion,
}

#[derive(Debug, Clone, Copy)]
enum AfterSeq {
    Value(u64),
    Max,
}

#[derive(Debug, Clone, Copy)]
enum KeyChoice {
    Known(usize),
    Wrong,
    Garbage,
}

#[derive(Debug, Clone)]
enum Msg {
    Send {
        conversation: Option<Pick>,
        client_id: ClientIdChoice,
        body: BodyChoice,
    },
    Typing {
        conversation: Option<Pick>,
        active: bool,
    },
    Accept(Pick),
    Close(Option<Pick>),
    Sync(Pick, AfterSeq),
    Ping,
    ShareInvite(Pick, bool),
    ShareProgress(Pick, ShareStep, bool),
    ShareEnd(Pick),
    ShareSignal(Pick, SignalChoice),
    ShareKeyCreate,
    ShareKeyRedeem(KeyChoice),
    /// Asks for co-browse, remote control or recording (index into `GRANTED`).
    GrantAsk(Pick, usize),
    GrantStep(Pick, GrantStep),
    GrantEnd(Pick),
    StreamJoin(Pick),
    /// A single-page app's route (`n` picks one of a few URLs, one of them not http).
    PageChanged(u8),
    /// The visitor's widget reports a remote action (on the picked grant).
    ControlReport(Pick),
    /// The agent sends the visitor to a page (`n` picks one of a few URLs, some
    /// on another origin or scheme).
    PushPage(Pick, u8),
    /// The visitor rates a conversation (`score` 0 to 6: some out of range;
    /// `long`: a comment one character over the limit).
    Rate(Option<Pick>, u8, bool),
    /// A hello on a socket that already said one.
    HelloAgain,
}

/// The capabilities asked for with `grant_ask` (and one that may not be).
const GRANTED: [Capability; 4] = [
    Capability::Cobrowse,
    Capability::RemoteControl,
    Capability::Recording,
    Capability::ScreenShare,
];

fn grant_step() -> impl Strategy<Value = GrantStep> {
    prop_oneof![
        6 => Just(GrantStep::Allow),
        2 => Just(GrantStep::Decline),
        4 => Just(GrantStep::Start),
        1 => Just(GrantStep::Fail),
        3 => Just(GrantStep::Stop),
    ]
}

#[derive(Debug, Clone, Copy)]
enum UploaderChoice {
    Visitor(usize),
    Agent(usize, Pick),
    AgentOnly(usize, Pick),
}

#[derive(Debug, Clone)]
enum Action {
    /// Opens a socket without saying hello (replacing the actor's old one).
    Connect(Actor),
    /// (Re)connects if needed and says hello.
    VisitorHello {
        visitor: usize,
        token: TokenChoice,
        after_seq: AfterSeq,
        page: bool,
        bad_protocol: bool,
        /// Whether the shell answers a storage look-up at once (else it waits for
        /// [`Action::AnswerLookup`]).
        answer_now: bool,
    },
    AgentHello {
        agent: usize,
        bad_protocol: bool,
    },
    Message(Actor, Msg),
    Disconnect(Actor),
    AnswerLookup(usize),
    AgentLoggedOut(usize),
    Tick,
    Advance(u64),
    PostImage(UploaderChoice, ClientIdChoice),
    /// The next batch that stores something fails: the server drops every socket
    /// and rebuilds the hub from storage.
    FailStorage,
    /// An admin changes what an agent may use (a bit per permission).
    SetPermissions(usize, u8),
    /// An admin changes what the site allows (a bit per permission).
    SetSitePolicy(u8),
    /// The server restarts (everything stored survives, sockets and shares do not).
    Restart,
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        12 => (0..3usize).prop_map(Pick::Newest),
        1 => Just(Pick::Bogus),
    ]
}

fn opt_pick() -> impl Strategy<Value = Option<Pick>> {
    prop_oneof![4 => Just(None), 1 => pick().prop_map(Some)]
}

fn after_seq() -> impl Strategy<Value = AfterSeq> {
    prop_oneof![
        8 => (0..6u64).prop_map(AfterSeq::Value),
        1 => Just(AfterSeq::Max),
    ]
}

fn client_id() -> impl Strategy<Value = ClientIdChoice> {
    prop_oneof![
        12 => (0..4u8).prop_map(ClientIdChoice::Mine),
        2 => (0..6usize, 0..4u8).prop_map(|(a, i)| ClientIdChoice::Theirs(a, i)),
        1 => Just(ClientIdChoice::Invalid),
    ]
}

fn body() -> impl Strategy<Value = BodyChoice> {
    prop_oneof![
        12 => (0..8u8).prop_map(BodyChoice::Text),
        1 => Just(BodyChoice::Blank),
        2 => Just(BodyChoice::Link),
        1 => Just(BodyChoice::BadLink),
        1 => Just(BodyChoice::Image),
    ]
}

fn step() -> impl Strategy<Value = ShareStep> {
    prop_oneof![
        4 => Just(ShareStep::Accepted),
        1 => Just(ShareStep::Declined),
        2 => Just(ShareStep::Choosing),
        3 => Just(ShareStep::Sharing),
        1 => Just(ShareStep::Cancelled),
        1 => Just(ShareStep::Failed),
        1 => Just(ShareStep::Stopped),
    ]
}

fn signal() -> impl Strategy<Value = SignalChoice> {
    prop_oneof![
        3 => Just(SignalChoice::Offer),
        3 => Just(SignalChoice::Answer),
        3 => Just(SignalChoice::Candidate),
        1 => Just(SignalChoice::BadType),
        1 => Just(SignalChoice::Restart),
        1 => Just(SignalChoice::Motion),
    ]
}

fn key() -> impl Strategy<Value = KeyChoice> {
    prop_oneof![
        6 => (0..2usize).prop_map(KeyChoice::Known),
        1 => Just(KeyChoice::Wrong),
        1 => Just(KeyChoice::Garbage),
    ]
}

/// What visitors mostly do, and a little of what they may not.
fn visitor_msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        14 => (opt_pick(), client_id(), body()).prop_map(|(conversation, client_id, body)| Msg::Send { conversation, client_id, body }),
        2 => (opt_pick(), any::<bool>()).prop_map(|(conversation, active)| Msg::Typing { conversation, active }),
        3 => opt_pick().prop_map(Msg::Close),
        2 => (pick(), after_seq()).prop_map(|(p, a)| Msg::Sync(p, a)),
        1 => Just(Msg::Ping),
        12 => (pick(), step(), any::<bool>()).prop_map(|(p, s, d)| Msg::ShareProgress(p, s, d)),
        2 => pick().prop_map(Msg::ShareEnd),
        10 => (pick(), signal()).prop_map(|(p, s)| Msg::ShareSignal(p, s)),
        3 => key().prop_map(Msg::ShareKeyRedeem),
        14 => (pick(), grant_step()).prop_map(|(p, s)| Msg::GrantStep(p, s)),
        2 => pick().prop_map(Msg::GrantEnd),
        2 => pick().prop_map(Msg::StreamJoin),
        3 => (0u8..4).prop_map(Msg::PageChanged),
        6 => pick().prop_map(Msg::ControlReport),
        1 => (pick(), 0u8..4).prop_map(|(p, n)| Msg::PushPage(p, n)),
        1 => (pick(), 0..GRANTED.len()).prop_map(|(p, c)| Msg::GrantAsk(p, c)),
        1 => pick().prop_map(Msg::Accept),
        1 => (pick(), any::<bool>()).prop_map(|(p, long)| Msg::ShareInvite(p, long)),
        1 => Just(Msg::ShareKeyCreate),
        4 => (opt_pick(), 0u8..7, prop::bool::weighted(0.1)).prop_map(|(p, score, long)| Msg::Rate(p, score, long)),
        1 => Just(Msg::HelloAgain),
    ]
}

/// What agents mostly do, and a little of what they may not.
fn agent_msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        10 => (pick(), client_id(), body()).prop_map(|(p, client_id, body)| Msg::Send { conversation: Some(p), client_id, body }),
        1 => (opt_pick(), client_id(), body()).prop_map(|(conversation, client_id, body)| Msg::Send { conversation, client_id, body }),
        2 => (opt_pick(), any::<bool>()).prop_map(|(conversation, active)| Msg::Typing { conversation: conversation.or(Some(Pick::Newest(0))), active }),
        10 => pick().prop_map(Msg::Accept),
        3 => opt_pick().prop_map(|p| Msg::Close(p.or(Some(Pick::Newest(0))))),
        3 => (pick(), after_seq()).prop_map(|(p, a)| Msg::Sync(p, a)),
        1 => Just(Msg::Ping),
        8 => (pick(), any::<bool>()).prop_map(|(p, long)| Msg::ShareInvite(p, long)),
        3 => pick().prop_map(Msg::ShareEnd),
        10 => (pick(), signal()).prop_map(|(p, s)| Msg::ShareSignal(p, s)),
        3 => Just(Msg::ShareKeyCreate),
        1 => (pick(), step(), any::<bool>()).prop_map(|(p, s, d)| Msg::ShareProgress(p, s, d)),
        1 => key().prop_map(Msg::ShareKeyRedeem),
        10 => (pick(), 0..GRANTED.len()).prop_map(|(p, c)| Msg::GrantAsk(p, c)),
        2 => pick().prop_map(Msg::GrantEnd),
        2 => pick().prop_map(Msg::StreamJoin),
        1 => (0u8..4).prop_map(Msg::PageChanged),
        3 => (pick(), 0u8..4).prop_map(|(p, n)| Msg::PushPage(p, n)),
        1 => pick().prop_map(Msg::ControlReport),
        1 => (pick(), grant_step()).prop_map(|(p, s)| Msg::GrantStep(p, s)),
        1 => (opt_pick(), 1u8..6).prop_map(|(p, score)| Msg::Rate(p, score, false)),
        1 => Just(Msg::HelloAgain),
    ]
}

fn token_choice() -> impl Strategy<Value = TokenChoice> {
    prop_oneof![
        4 => Just(TokenChoice::None),
        8 => Just(TokenChoice::Own),
        2 => (0..VISITORS).prop_map(TokenChoice::Of),
        1 => Just(TokenChoice::Unknown),
        1 => Just(TokenChoice::TooLong),
    ]
}

fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        (0..VISITORS).prop_map(Actor::Visitor),
        (0..AGENTS.len()).prop_map(Actor::Agent),
    ]
}

/// Mostly everything allowed (so that shares and grants get far), sometimes less.
fn permission_bits() -> impl Strategy<Value = u8> {
    prop_oneof![2 => Just(0b1111u8), 3 => 0..16u8]
}

fn permissions_of_bits(bits: u8) -> Permissions {
    Permission::ALL
        .iter()
        .enumerate()
        .fold(Permissions::NONE, |p, (i, permission)| {
            p.with(*permission, bits & (1 << i) != 0)
        })
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        1 => actor().prop_map(Action::Connect),
        8 => (0..VISITORS, token_choice(), after_seq(), any::<bool>(), prop::bool::weighted(0.03), prop::bool::weighted(0.8))
            .prop_map(|(visitor, token, after_seq, page, bad_protocol, answer_now)| Action::VisitorHello {
                visitor, token, after_seq, page, bad_protocol, answer_now,
            }),
        5 => (0..AGENTS.len(), prop::bool::weighted(0.03)).prop_map(|(agent, bad_protocol)| Action::AgentHello { agent, bad_protocol }),
        22 => (0..VISITORS, visitor_msg()).prop_map(|(v, m)| Action::Message(Actor::Visitor(v), m)),
        22 => (0..AGENTS.len(), agent_msg()).prop_map(|(a, m)| Action::Message(Actor::Agent(a), m)),
        4 => actor().prop_map(Action::Disconnect),
        2 => (0..3usize).prop_map(Action::AnswerLookup),
        1 => (1..=2usize).prop_map(Action::AgentLoggedOut),
        2 => Just(Action::Tick),
        3 => prop_oneof![Just(50u64), Just(2_000), Just(46_000), Just(11 * 60_000)].prop_map(Action::Advance),
        2 => (prop_oneof![
                (0..VISITORS).prop_map(UploaderChoice::Visitor),
                (0..AGENTS.len(), pick()).prop_map(|(a, p)| UploaderChoice::Agent(a, p)),
                (0..AGENTS.len(), pick()).prop_map(|(a, p)| UploaderChoice::AgentOnly(a, p)),
            ], client_id()).prop_map(|(u, c)| Action::PostImage(u, c)),
        1 => prop_oneof![Just(Action::FailStorage), Just(Action::Restart)],
        1 => (0..AGENTS.len(), permission_bits()).prop_map(|(a, bits)| Action::SetPermissions(a, bits)),
        1 => permission_bits().prop_map(Action::SetSitePolicy),
    ]
}

// ---------------------------------------------------------------------------
// The reference model: what storage holds, plus what the test knows of shares.

#[derive(Debug, Clone)]
struct ConvModel {
    visitor: VisitorId,
    created_at: u64,
    page: Option<PageInfo>,
    status: ConversationStatus,
    agent: Option<AgentRef>,
    events: Vec<Event>,
    preview: Option<String>,
    last_activity_at: u64,
    /// The `last_activity_at` storage holds (moved by `RecordActivity` and `SetStatus`).
    stored_activity_at: u64,
    /// Whether agents have seen it in their queue (it was waiting after some batch).
    was_waiting: bool,
    latest_share: Option<ShareId>,
}

#[derive(Debug, Clone)]
struct ShareModel {
    conversation: ConversationId,
    state: ShareState,
    /// The server restarted while the share was not over: it is gone.
    dead: bool,
}

impl ShareModel {
    fn live(&self) -> bool {
        !self.dead && !self.state.is_final()
    }
    fn consented(&self) -> bool {
        !self.dead && self.state.is_consented()
    }
}

#[derive(Debug, Clone, Default)]
struct Model {
    /// visitor id -> token hash
    visitors: BTreeMap<VisitorId, String>,
    visitor_by_hash: BTreeMap<String, VisitorId>,
    convs: BTreeMap<ConversationId, ConvModel>,
    conv_order: Vec<ConversationId>,
    shares: BTreeMap<ShareId, ShareModel>,
    share_order: Vec<ShareId>,
    grants: BTreeMap<GrantId, GrantModel>,
    grant_order: Vec<GrantId>,
    /// What admins allow each agent (absent: everything), and the site.
    agent_permissions: BTreeMap<AgentId, Permissions>,
    site: Permissions,
}

#[derive(Debug, Clone)]
struct GrantModel {
    conversation: ConversationId,
    capability: Capability,
    state: GrantState,
    /// The server restarted while the grant was not over: it is gone.
    dead: bool,
}

impl Model {
    /// What an agent may use: their permissions and the site's.
    fn may(&self, agent: AgentId, permission: Permission) -> bool {
        let own = self.agent_permissions.get(&agent).copied().unwrap_or(Permissions::ALL);
        own.and(self.site).allows(permission)
    }

    fn summary(&self, id: &ConversationId) -> Option<ConversationSummary> {
        let c = self.convs.get(id)?;
        Some(ConversationSummary {
            id: id.clone(),
            status: c.status,
            agent: c.agent.clone(),
            created_at: c.created_at,
            last_seq: c.events.len() as u64,
            last_activity_at: c.last_activity_at,
            preview: c.preview.clone(),
            page: c.page.clone(),
            visitor_online: false,
            share: None,
            grants: Vec::new(),
            visitor_email: None,
            screenshot: None,
            rating: c.events.iter().find_map(|e| match e.kind {
                EventKind::Rated { score, .. } => Some(score),
                _ => None,
            }),
            invitees: Vec::new(),
            visitor_identity: None,
            visitor: None,
        })
    }

    fn stored_conversation(&self, id: &ConversationId) -> Option<StoredConversation> {
        let c = self.convs.get(id)?;
        let recent_client_ids = c
            .events
            .iter()
            .rev()
            .filter_map(|e| match &e.kind {
                EventKind::Message { from, client_id, .. } => Some(RecentClientId {
                    from: *from,
                    client_id: client_id.clone(),
                    seq: e.seq,
                }),
                _ => None,
            })
            .take(sightline_core::records::RECENT_CLIENT_IDS)
            .collect();
        Some(StoredConversation {
            summary: self.summary(id)?,
            recent_client_ids,
        })
    }

    /// What `Store::visitor_by_token_hash` answers.
    fn visitor_by_token_hash(&self, hash: &str) -> Option<StoredVisitor> {
        let id = self.visitor_by_hash.get(hash)?;
        let latest = self
            .conv_order
            .iter()
            .rev()
            .find(|c| self.convs[*c].visitor == *id)
            .and_then(|c| self.stored_conversation(c));
        Some(StoredVisitor {
            id: id.clone(),
            token_hash: hash.to_owned(),
            latest,
        })
    }

    /// What `Store::load_open_conversations` answers.
    fn open_conversations(&self) -> Vec<StoredVisitor> {
        let mut by_visitor: BTreeMap<VisitorId, ConversationId> = BTreeMap::new();
        for id in &self.conv_order {
            let c = &self.convs[id];
            if c.status != ConversationStatus::Closed {
                by_visitor.insert(c.visitor.clone(), id.clone());
            }
        }
        by_visitor
            .into_iter()
            .map(|(visitor, conv)| StoredVisitor {
                token_hash: self.visitors[&visitor].clone(),
                id: visitor,
                latest: self.stored_conversation(&conv),
            })
            .collect()
    }

    fn owner_is(&self, conv: &ConversationId, agent: AgentId) -> bool {
        self.convs
            .get(conv)
            .and_then(|c| c.agent.as_ref())
            .is_some_and(|a| a.id == agent)
    }
}

// ---------------------------------------------------------------------------
// The shell.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Visitor,
    Agent(AgentId),
}

#[derive(Debug)]
struct ConnInfo {
    kind: Kind,
    open: bool,
    /// Received its welcome.
    welcomed: bool,
    /// Visitor sockets: the hash of the token in their welcome.
    token_hash: Option<String>,
    /// Visitor sockets: whether any agent is available, as they were last told.
    told_available: Option<bool>,
}

#[derive(Debug, Default, Clone)]
struct ActorState {
    conn: Option<ConnId>,
    token: Option<String>,
}

#[derive(Debug)]
struct KeyModel {
    key: String,
    agent: AgentId,
    expires_at: u64,
    used: bool,
    /// The server restarted: keys live in memory only.
    dead: bool,
}

/// `ShareSettings::default().key_ttl_ms`.
const KEY_TTL_MS: u64 = 10 * 60 * 1000;
/// How long a visitor may be without a socket before their share is ended.
const VISITOR_GONE_ENDS_SHARE_MS: u64 = 45_000;

#[derive(Debug)]
enum RequestOf {
    Visitor(String),
    Agent(AgentId),
    AgentOnly(AgentId),
}

struct World {
    hub: Hub,
    now: u64,
    restarts: u8,
    next_conn: ConnId,
    conns: BTreeMap<ConnId, ConnInfo>,
    visitors: [ActorState; VISITORS],
    agents: [ActorState; AGENTS.len()],
    model: Model,
    /// Look-ups the shell has not answered yet: (conn, token).
    lookups: Vec<(ConnId, String)>,
    keys: Vec<KeyModel>,
    /// Agents of the `joined_with_key` events of the current input.
    joined: Vec<AgentId>,
    /// Since when each visitor (by token hash) has had no welcomed socket.
    offline_since: BTreeMap<String, u64>,
    next_request: u64,
    requests: BTreeMap<u64, RequestOf>,
    fail_next: bool,
    /// What a relay would hold: live streams, by id, with their conversation and
    /// capability.
    streams: BTreeMap<StreamId, (ConversationId, Capability)>,
    stream_order: Vec<StreamId>,
    /// The socket whose message the hub is handling.
    acting: Option<ConnId>,
}

type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

static STATS: [AtomicU64; 10] = [const { AtomicU64::new(0) }; 10];
const S_CASES: usize = 0;
const S_STEPS: usize = 1;
const S_SIGNALS: usize = 2;
const S_CONSENTS: usize = 3;
const S_KEYS_REDEEMED: usize = 4;
const S_LOOKUPS: usize = 5;
const S_RESTARTS: usize = 6;
const S_RETRIES: usize = 7;
const S_STREAMS: usize = 8;
const S_RATINGS: usize = 9;

fn count(which: usize) {
    STATS[which].fetch_add(1, Ordering::Relaxed);
}

fn address(visitor: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, (visitor % 2) as u8 + 1))
}

fn identity(agent: usize) -> AgentIdentity {
    let (id, name) = AGENTS[agent];
    AgentIdentity {
        agent: AgentRef {
            id,
            display_name: name.into(),
            colour: None,
        },
        is_admin: agent == 0,
        permissions: sightline_proto::Permissions::ALL,
    }
}

fn actor_name(actor: usize) -> String {
    if actor < VISITORS {
        format!("v{actor}")
    } else {
        format!("a{}", actor - VISITORS)
    }
}

fn new_image(n: u64) -> NewImage {
    NewImage {
        image: ImageRef {
            id: format!("img{n}").into(),
            mime: "image/png".into(),
            width: 10,
            height: 10,
            bytes: 100,
            thumb_width: 10,
            thumb_height: 10,
            has_annotations: false,
            source_image: None,
        },
        sha256: "a".repeat(64),
        thumb_sha256: "b".repeat(64),
        annotations: None,
        agents_only: false,
    }
}

fn seed(restarts: u8) -> [u8; 32] {
    let mut seed = [7u8; 32];
    seed[0] = restarts;
    seed
}

impl World {
    fn new() -> Self {
        World {
            hub: Hub::new(seed(0), ShareSettings::default()),
            now: 1_700_000_000_000,
            restarts: 0,
            next_conn: ConnId(1),
            conns: BTreeMap::new(),
            visitors: Default::default(),
            agents: Default::default(),
            model: Model::default(),
            lookups: Vec::new(),
            keys: Vec::new(),
            joined: Vec::new(),
            offline_since: BTreeMap::new(),
            next_request: 1,
            requests: BTreeMap::new(),
            fail_next: false,
            streams: BTreeMap::new(),
            stream_order: Vec::new(),
            acting: None,
        }
    }

    fn actor_state(&mut self, actor: Actor) -> &mut ActorState {
        match actor {
            Actor::Visitor(i) => &mut self.visitors[i],
            Actor::Agent(i) => &mut self.agents[i],
        }
    }

    fn pick_conversation(&self, pick: Pick) -> ConversationId {
        match pick {
            Pick::Newest(i) if !self.model.conv_order.is_empty() => {
                let order = &self.model.conv_order;
                order[order.len() - 1 - i % order.len()].clone()
            }
            _ => "AAAAAAAAAAAAAAAAAAAAAA".into(),
        }
    }

    fn pick_share(&self, pick: Pick) -> ShareId {
        match pick {
            Pick::Newest(i) if !self.model.share_order.is_empty() => {
                let order = &self.model.share_order;
                order[order.len() - 1 - i % order.len()].clone()
            }
            _ => "BBBBBBBBBBBBBBBBBBBBBB".into(),
        }
    }

    fn pick_grant(&self, pick: Pick) -> GrantId {
        match pick {
            Pick::Newest(i) if !self.model.grant_order.is_empty() => {
                let order = &self.model.grant_order;
                order[order.len() - 1 - i % order.len()].clone()
            }
            _ => "CCCCCCCCCCCCCCCCCCCCCC".into(),
        }
    }

    fn pick_stream(&self, pick: Pick) -> StreamId {
        match pick {
            Pick::Newest(i) if !self.stream_order.is_empty() => {
                let order = &self.stream_order;
                order[order.len() - 1 - i % order.len()].clone()
            }
            _ => "DDDDDDDDDDDDDDDDDDDDDD".into(),
        }
    }

    fn client_id(&self, actor: Actor, choice: ClientIdChoice) -> String {
        let me = match actor {
            Actor::Visitor(i) => i,
            Actor::Agent(i) => VISITORS + i,
        };
        match choice {
            ClientIdChoice::Mine(i) => format!("{}-{i}", actor_name(me)),
            ClientIdChoice::Theirs(other, i) => format!("{}-{i}", actor_name(other % (VISITORS + AGENTS.len()))),
            ClientIdChoice::Invalid => "not visible ascii".into(),
        }
    }

    fn body(choice: BodyChoice) -> MessageBody {
        match choice {
            BodyChoice::Text(n) => MessageBody::Text {
                text: format!("hello {n}"),
            },
            BodyChoice::Blank => MessageBody::Text { text: "  ".into() },
            BodyChoice::Link => MessageBody::Link {
                url: "https://example.com/help".into(),
                title: Some("Help".into()),
            },
            BodyChoice::BadLink => MessageBody::Link {
                url: "javascript:alert(1)".into(),
                title: None,
            },
            BodyChoice::Image => MessageBody::Image {
                image: new_image(0).image,
            },
        }
    }

    fn signal(choice: SignalChoice) -> Signal {
        let description = |t: &str| Signal::Description {
            sdp_type: t.into(),
            sdp: "v=0".into(),
        };
        match choice {
            SignalChoice::Offer => description("offer"),
            SignalChoice::Answer => description("answer"),
            SignalChoice::BadType => description("bogus"),
            SignalChoice::Candidate => Signal::Candidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
                username_fragment: None,
            },
            SignalChoice::Restart => Signal::RestartRequest,
            SignalChoice::Motion => Signal::Mode {
                mode: ShareMode::Motion,
            },
        }
    }

    fn after_seq(&self, choice: AfterSeq) -> u64 {
        match choice {
            AfterSeq::Value(v) => v,
            AfterSeq::Max => u64::MAX,
        }
    }

    /// Opens a fresh socket for an actor, closing its previous one.
    fn connect(&mut self, actor: Actor) -> Check {
        self.disconnect(actor)?;
        let conn = self.next_conn;
        self.next_conn.0 += 1;
        let (peer, kind, address) = match actor {
            Actor::Visitor(i) => (Peer::Visitor, Kind::Visitor, address(i)),
            Actor::Agent(i) => {
                let mut identity = identity(i);
                identity.permissions = self
                    .model
                    .agent_permissions
                    .get(&identity.agent.id)
                    .copied()
                    .unwrap_or(Permissions::ALL);
                let kind = Kind::Agent(identity.agent.id);
                (Peer::Agent(identity), kind, IpAddr::V4(Ipv4Addr::LOCALHOST))
            }
        };
        self.conns.insert(
            conn,
            ConnInfo {
                kind,
                open: true,
                welcomed: false,
                token_hash: None,
                told_available: None,
            },
        );
        self.actor_state(actor).conn = Some(conn);
        self.feed(Input::Connected {
            conn,
            peer,
            address,
            client: Default::default(),
        })
    }

    fn disconnect(&mut self, actor: Actor) -> Check {
        if let Some(conn) = self.actor_state(actor).conn.take() {
            self.close_conn(conn)?;
        }
        Ok(())
    }

    fn close_conn(&mut self, conn: ConnId) -> Check {
        let Some(info) = self.conns.get_mut(&conn) else {
            return Ok(());
        };
        if !info.open {
            return Ok(());
        }
        info.open = false;
        if let Some(hash) = info.token_hash.clone() {
            if !self.online(&hash) {
                self.offline_since.insert(hash, self.now);
            }
        }
        self.feed(Input::Disconnected { conn })
    }

    /// Whether a visitor has a welcomed socket.
    fn online(&self, hash: &str) -> bool {
        self.conns
            .values()
            .any(|c| c.open && c.welcomed && c.token_hash.as_deref() == Some(hash))
    }

    fn answer_lookup(&mut self, index: usize) -> Check {
        if self.lookups.is_empty() {
            return Ok(());
        }
        let (conn, token) = self.lookups.remove(index % self.lookups.len());
        count(S_LOOKUPS);
        let visitor = self.model.visitor_by_token_hash(&token_hash(&token));
        self.feed(Input::VisitorLookedUp { conn, token, visitor })
    }

    fn restart(&mut self) {
        count(S_RESTARTS);
        self.restarts = self.restarts.wrapping_add(1);
        self.hub = Hub::new(seed(self.restarts), ShareSettings::default());
        self.hub.restore(self.model.open_conversations(), self.now);
        // The shell reads the stored site policy at start.
        self.hub.handle(
            self.now,
            Input::SitePolicyChanged {
                policy: SitePolicy {
                    allowed: self.model.site,
                    private_selectors: vec![],
                },
            },
        );
        while self.hub.poll_output().is_some() {}
        for info in self.conns.values_mut() {
            info.open = false;
        }
        for key in &mut self.keys {
            key.dead = true;
        }
        for state in self.visitors.iter_mut().chain(self.agents.iter_mut()) {
            state.conn = None;
        }
        self.lookups.clear();
        for share in self.model.shares.values_mut() {
            if !share.state.is_final() {
                share.dead = true;
            }
        }
        for grant in self.model.grants.values_mut() {
            if !grant.state.is_final() {
                grant.dead = true;
            }
        }
        // The shell revokes every stream when the hub starts over.
        self.streams.clear();
    }

    fn run(&mut self, action: &Action) -> Check {
        count(S_STEPS);
        match action.clone() {
            Action::Connect(actor) => self.connect(actor),
            Action::VisitorHello {
                visitor,
                token,
                after_seq,
                page,
                bad_protocol,
                answer_now,
            } => {
                let actor = Actor::Visitor(visitor);
                let fresh = self.visitors[visitor]
                    .conn
                    .and_then(|c| self.conns.get(&c))
                    .is_some_and(|c| c.open && !c.welcomed);
                if !fresh {
                    self.connect(actor)?;
                }
                let Some(conn) = self.visitors[visitor].conn else {
                    return Ok(());
                };
                let token = match token {
                    TokenChoice::None => None,
                    TokenChoice::Own => self.visitors[visitor].token.clone(),
                    TokenChoice::Of(other) => self.visitors[other].token.clone(),
                    TokenChoice::Unknown => Some("never-issued-token-0123456789".into()),
                    TokenChoice::TooLong => Some("x".repeat(200)),
                };
                let lookups_before = self.lookups.len();
                self.feed(Input::Message {
                    conn,
                    message: ClientMessage::VisitorHello {
                        protocol: if bad_protocol { 99 } else { PROTOCOL_VERSION },
                        token,
                        after_seq: self.after_seq(after_seq),
                        page: page.then(|| PageInfo {
                            url: "https://shop.example/cart".into(),
                            title: "Cart".into(),
                        }),
                        device: None,
                    },
                    request_ref: None,
                })?;
                if answer_now && self.lookups.len() > lookups_before {
                    self.answer_lookup(self.lookups.len() - 1)?;
                }
                Ok(())
            }
            Action::AgentHello { agent, bad_protocol } => {
                let actor = Actor::Agent(agent);
                let fresh = self.agents[agent]
                    .conn
                    .and_then(|c| self.conns.get(&c))
                    .is_some_and(|c| c.open && !c.welcomed);
                if !fresh {
                    self.connect(actor)?;
                }
                let Some(conn) = self.agents[agent].conn else {
                    return Ok(());
                };
                self.feed(Input::Message {
                    conn,
                    message: ClientMessage::AgentHello {
                        protocol: if bad_protocol { 0 } else { PROTOCOL_VERSION },
                        away: false,
                    },
                    request_ref: None,
                })
            }
            Action::Message(actor, msg) => {
                if self.actor_state(actor).conn.is_none() {
                    // A client says hello before anything else.
                    self.run(&hello(actor))?;
                }
                let Some(conn) = self.actor_state(actor).conn else {
                    return Ok(());
                };
                let message = self.message(actor, msg);
                let redeemed = match &message {
                    ClientMessage::ShareKeyRedeem { key } => Some(key.clone()),
                    _ => None,
                };
                self.joined.clear();
                self.acting = Some(conn);
                let fed = self.feed(Input::Message {
                    conn,
                    message,
                    request_ref: None,
                });
                self.acting = None;
                fed?;
                let joined = std::mem::take(&mut self.joined);
                match (redeemed, joined.as_slice()) {
                    (_, []) => Ok(()),
                    (Some(key), [agent]) => {
                        let now = self.now;
                        let model = self
                            .keys
                            .iter_mut()
                            .rev()
                            .find(|k| k.key == key && !k.dead)
                            .ok_or_else(|| format!("joined with key {key}, which no agent holds"))?;
                        ensure!(!model.used, "key {key} redeemed twice");
                        ensure!(model.expires_at > now, "key {key} redeemed after it expired");
                        ensure!(model.agent == *agent, "key {key} joined the wrong agent");
                        model.used = true;
                        Ok(())
                    }
                    (_, agents) => Err(format!("joined with a key {agents:?} without redeeming one")),
                }
            }
            Action::Disconnect(actor) => self.disconnect(actor),
            Action::AnswerLookup(i) => self.answer_lookup(i),
            Action::AgentLoggedOut(agent_id) => self.feed(Input::AgentLoggedOut {
                agent_id: AgentId(agent_id as i64),
            }),
            Action::Tick => {
                self.feed(Input::Tick)?;
                // A consented share of a visitor gone for a while has been ended.
                for (id, share) in &self.model.shares {
                    if !share.consented() {
                        continue;
                    }
                    let hash = &self.model.visitors[&self.model.convs[&share.conversation].visitor];
                    if let Some(since) = self.offline_since.get(hash) {
                        ensure!(
                            self.now - since < VISITOR_GONE_ENDS_SHARE_MS,
                            "share {id} still {:?} after its visitor left {} ms ago",
                            share.state,
                            self.now - since
                        );
                    }
                }
                Ok(())
            }
            Action::Advance(ms) => {
                self.now += ms;
                Ok(())
            }
            Action::PostImage(uploader, client_id) => {
                let request = self.next_request;
                self.next_request += 1;
                let (uploader, of, actor) = match uploader {
                    UploaderChoice::Visitor(v) => {
                        // A visitor uploads with the token they hold (or a made-up one).
                        let token = self.visitors[v].token.clone().unwrap_or_else(|| "no-token".into());
                        let hash = token_hash(&token);
                        let stored = self.model.visitor_by_token_hash(&hash).map(Box::new);
                        (
                            Uploader::Visitor {
                                token_hash: hash.clone(),
                                stored,
                                address: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                            },
                            RequestOf::Visitor(hash),
                            Actor::Visitor(v),
                        )
                    }
                    UploaderChoice::Agent(a, p) => {
                        let agent = identity(a).agent;
                        let id = agent.id;
                        (
                            Uploader::Agent {
                                agent,
                                conversation: self.pick_conversation(p),
                            },
                            RequestOf::Agent(id),
                            Actor::Agent(a),
                        )
                    }
                    UploaderChoice::AgentOnly(a, p) => {
                        let agent = identity(a).agent;
                        let id = agent.id;
                        (
                            Uploader::AgentOnly {
                                agent,
                                conversation: self.pick_conversation(p),
                            },
                            RequestOf::AgentOnly(id),
                            Actor::Agent(a),
                        )
                    }
                };
                self.requests.insert(request, of);
                let client_id = self.client_id(actor, client_id);
                self.feed(Input::PostImage {
                    request,
                    uploader,
                    client_id,
                    image: new_image(request),
                })
            }
            Action::FailStorage => {
                self.fail_next = true;
                Ok(())
            }
            Action::Restart => {
                self.restart();
                Ok(())
            }
            Action::SetPermissions(agent, bits) => {
                // Stored by the shell first, then handed to the hub.
                let agent_id = AGENTS[agent].0;
                let permissions = permissions_of_bits(bits);
                self.model.agent_permissions.insert(agent_id, permissions);
                self.feed(Input::AgentPermissionsChanged { agent_id, permissions })
            }
            Action::SetSitePolicy(bits) => {
                self.model.site = permissions_of_bits(bits);
                self.feed(Input::SitePolicyChanged {
                    policy: SitePolicy {
                        allowed: self.model.site,
                        private_selectors: vec![],
                    },
                })
            }
        }
    }

    fn message(&self, actor: Actor, msg: Msg) -> ClientMessage {
        match msg {
            Msg::Send {
                conversation,
                client_id,
                body,
            } => {
                let client_id = self.client_id(actor, client_id);
                if self.model.convs.values().any(|c| {
                    c.events
                        .iter()
                        .any(|e| matches!(&e.kind, EventKind::Message { client_id: id, .. } if *id == client_id))
                }) {
                    count(S_RETRIES);
                }
                ClientMessage::Send {
                    conversation: conversation.map(|p| self.pick_conversation(p)),
                    client_id,
                    body: Self::body(body),
                }
            }
            Msg::Typing { conversation, active } => ClientMessage::Typing {
                conversation: conversation.map(|p| self.pick_conversation(p)),
                active,
            },
            Msg::Accept(p) => ClientMessage::Accept {
                conversation: self.pick_conversation(p),
            },
            Msg::Close(p) => ClientMessage::Close {
                conversation: p.map(|p| self.pick_conversation(p)),
            },
            Msg::Sync(p, after) => ClientMessage::Sync {
                conversation: self.pick_conversation(p),
                after_seq: self.after_seq(after),
            },
            Msg::Ping => ClientMessage::Ping { nonce: 7 },
            Msg::ShareInvite(p, long) => ClientMessage::ShareInvite {
                conversation: self.pick_conversation(p),
                message: long.then(|| "May I?".into()),
            },
            Msg::ShareProgress(p, step, detail) => ClientMessage::ShareProgress {
                share: self.pick_share(p),
                step,
                detail: detail.then(|| "no permission".into()),
            },
            Msg::ShareEnd(p) => ClientMessage::ShareEnd {
                share: self.pick_share(p),
            },
            Msg::ShareSignal(p, s) => ClientMessage::ShareSignal {
                share: self.pick_share(p),
                signal: Self::signal(s),
            },
            Msg::ShareKeyCreate => ClientMessage::ShareKeyCreate { capability: None },
            Msg::GrantAsk(p, c) => ClientMessage::GrantAsk {
                conversation: self.pick_conversation(p),
                capability: GRANTED[c % GRANTED.len()],
                message: None,
            },
            Msg::GrantStep(p, step) => ClientMessage::GrantStep {
                grant: self.pick_grant(p),
                step,
                detail: None,
            },
            Msg::GrantEnd(p) => ClientMessage::GrantEnd {
                grant: self.pick_grant(p),
            },
            Msg::StreamJoin(p) => ClientMessage::StreamJoin {
                stream: self.pick_stream(p),
            },
            Msg::PageChanged(n) => ClientMessage::PageChanged {
                page: PageInfo {
                    url: [
                        "https://shop.example/app/a",
                        "https://shop.example/app/b#x",
                        "https://shop.example/cart",
                        "data:text/html,x",
                    ][usize::from(n) % 4]
                        .into(),
                    title: "Route".into(),
                },
            },
            Msg::ControlReport(p) => ClientMessage::ControlReport {
                grant: self.pick_grant(p),
                action: ControlAction {
                    verb: ControlVerb::Click,
                    target: "Continue".into(),
                    refused: None,
                },
            },
            Msg::PushPage(p, n) => ClientMessage::PushPage {
                conversation: self.pick_conversation(p),
                url: [
                    "https://shop.example/help",
                    "https://evil.example/login",
                    "javascript:alert(1)",
                    "https://shop.example.evil.example/",
                ][usize::from(n) % 4]
                    .into(),
            },
            Msg::ShareKeyRedeem(choice) => ClientMessage::ShareKeyRedeem {
                key: match choice {
                    KeyChoice::Known(i) if !self.keys.is_empty() => {
                        self.keys[self.keys.len() - 1 - i % self.keys.len()].key.clone()
                    }
                    KeyChoice::Known(_) | KeyChoice::Wrong => "000000000".into(),
                    KeyChoice::Garbage => "12ab".into(),
                },
            },
            Msg::Rate(p, score, long) => ClientMessage::Rate {
                conversation: p.map(|p| self.pick_conversation(p)),
                score,
                comment: Some(if long {
                    "x".repeat(sightline_proto::MAX_RATING_COMMENT_CHARS + 1)
                } else {
                    "fine".into()
                }),
            },
            Msg::HelloAgain => match actor {
                Actor::Visitor(_) => ClientMessage::VisitorHello {
                    protocol: PROTOCOL_VERSION,
                    token: None,
                    after_seq: 0,
                    page: None,
                    device: None,
                },
                Actor::Agent(_) => ClientMessage::AgentHello {
                    protocol: PROTOCOL_VERSION,
                    away: false,
                },
            },
        }
    }

    /// Feeds one input, drains the hub and checks everything that came out.
    fn feed(&mut self, input: Input) -> Check {
        let described = format!("{input:?}");
        self.hub.handle(self.now, input);
        let mut outputs = Vec::new();
        while let Some(out) = self.hub.poll_output() {
            outputs.push(out);
        }
        let fails = self.fail_next && outputs.iter().any(|o| matches!(o, Output::Persist(_)));
        let snapshot = fails.then(|| self.model.clone());
        let mut closed = Vec::new();
        for out in &outputs {
            self.check_output(out, &mut closed)
                .map_err(|e| format!("{e}\n  after input {described}\n  output {out:?}"))?;
        }
        if let Some(snapshot) = snapshot {
            // Storage failed: nothing of the batch was stored or delivered.
            self.fail_next = false;
            self.model = snapshot;
            self.joined.clear();
            self.restart();
            return Ok(());
        }
        for (id, c) in self.model.convs.iter_mut() {
            if c.status == ConversationStatus::Waiting {
                c.was_waiting = true;
            }
            // What the history list orders by lags the newest event by a bounded
            // time while open, and not at all once closed.
            let newest = c.events.last().map_or(c.created_at, |e| e.at);
            let lag = newest.saturating_sub(c.stored_activity_at);
            if c.status == ConversationStatus::Closed {
                ensure!(lag == 0, "closed conversation {id}: stored activity {lag} ms behind");
            } else {
                ensure!(
                    lag < ACTIVITY_STORE_INTERVAL_MS,
                    "open conversation {id}: stored activity {lag} ms behind"
                );
            }
        }
        // Nothing live that its owner may no longer use: a change ends it at once.
        for share in self.model.shares.values().filter(|s| s.live()) {
            let owner = self
                .model
                .convs
                .get(&share.conversation)
                .and_then(|c| c.agent.as_ref())
                .map(|a| a.id);
            if let Some(owner) = owner {
                ensure!(
                    self.model.may(owner, Permission::ScreenShare),
                    "a live screen share of {owner:?}, who may no longer share screens"
                );
            }
        }
        for grant in self.model.grants.values().filter(|g| !g.dead && !g.state.is_final()) {
            let owner = self
                .model
                .convs
                .get(&grant.conversation)
                .and_then(|c| c.agent.as_ref())
                .map(|a| a.id);
            if let Some(owner) = owner {
                ensure!(
                    self.model.may(owner, Permission::for_capability(grant.capability)),
                    "a live {:?} grant of {owner:?}, who may no longer use it",
                    grant.capability
                );
            }
        }
        // No stream outlives its consent or its conversation.
        for (stream, (conversation, capability)) in &self.streams {
            let granted = self.model.grants.values().any(|g| {
                g.conversation == *conversation && g.capability == *capability && !g.dead && g.state.is_granted()
            });
            ensure!(granted, "stream {stream} is live, but its grant is not");
            let open = self
                .model
                .convs
                .get(conversation)
                .is_some_and(|c| c.status == ConversationStatus::Active);
            ensure!(open, "stream {stream} is live in a conversation that is not active");
        }
        for conn in closed {
            self.close_conn(conn)?;
        }
        Ok(())
    }

    fn check_output(&mut self, out: &Output, closed: &mut Vec<ConnId>) -> Check {
        match out {
            Output::Persist(op) => self.apply(op),
            Output::Limited { .. } => Ok(()),
            Output::StreamGrant(grant) => {
                count(S_STREAMS);
                let allowed = self.model.grants.values().any(|g| {
                    g.conversation == grant.conversation
                        && g.capability == grant.capability
                        && !g.dead
                        && g.state == GrantState::Allowed
                });
                ensure!(allowed, "a stream granted without the visitor's allow: {grant:?}");
                ensure!(!self.streams.contains_key(&grant.stream), "a stream granted twice");
                for token in &grant.tokens {
                    self.check_stream_token(&grant.conversation, grant.capability, token)?;
                }
                self.streams
                    .insert(grant.stream.clone(), (grant.conversation.clone(), grant.capability));
                self.stream_order.push(grant.stream.clone());
                Ok(())
            }
            Output::StreamToken { stream, token } => {
                let (conversation, capability) = self
                    .streams
                    .get(stream)
                    .cloned()
                    .ok_or("a token for a stream that is not live")?;
                self.check_stream_token(&conversation, capability, token)
            }
            Output::StreamRevoke { stream } => {
                ensure!(
                    self.streams.remove(stream).is_some(),
                    "a revocation of a stream that is not live"
                );
                Ok(())
            }
            Output::Send { conn, message } => self.check_send(*conn, message),
            Output::Replay {
                conn,
                conversation,
                after_seq,
                upto_seq,
                to_visitor,
            } => {
                ensure!(after_seq < upto_seq, "an empty replay");
                let is_visitor = self.conns.get(conn).is_some_and(|c| c.kind == Kind::Visitor);
                ensure!(*to_visitor == is_visitor, "a replay filtered for the wrong side");
                let stored = self.model.convs.get(conversation).map_or(0, |c| c.events.len() as u64);
                ensure!(*upto_seq == stored, "a replay up to {upto_seq}, stored {stored}");
                self.check_send(
                    *conn,
                    &ServerMessage::Synced {
                        conversation: conversation.clone(),
                        last_seq: *upto_seq,
                    },
                )
            }
            Output::LookupVisitor {
                conn,
                token,
                token_hash: hash,
            } => {
                let info = self.conns.get(conn).ok_or("a look-up for an unknown socket")?;
                ensure!(
                    info.kind == Kind::Visitor && info.open,
                    "a look-up for a non-visitor or closed socket"
                );
                ensure!(*hash == token_hash(token), "a look-up with the wrong hash");
                self.lookups.push((*conn, token.clone()));
                Ok(())
            }
            Output::Disconnect { conn, .. } => {
                closed.push(*conn);
                Ok(())
            }
            Output::ImagePosted { request, result } => {
                let of = self.requests.remove(request).ok_or("an answer to an unknown request")?;
                let Ok(posted) = result else { return Ok(()) };
                let c = self
                    .model
                    .convs
                    .get(&posted.conversation)
                    .ok_or("an image posted into an unknown conversation")?;
                match &of {
                    RequestOf::Visitor(hash) => {
                        ensure!(
                            self.model.visitors.get(&c.visitor) == Some(hash),
                            "a visitor's image went into another visitor's conversation"
                        );
                    }
                    RequestOf::Agent(id) | RequestOf::AgentOnly(id) => {
                        if !self.model.owner_is(&posted.conversation, *id) {
                            return Err(format!(
                                "agent {id}'s image was answered for a conversation they do not own"
                            ));
                        }
                    }
                }
                if matches!(of, RequestOf::AgentOnly(_)) {
                    ensure!(posted.seq == 0, "an agents-only image was posted as a message");
                    return Ok(());
                }
                let event = c
                    .events
                    .get((posted.seq as usize).wrapping_sub(1))
                    .ok_or("an image answered with a seq that is not stored")?;
                ensure!(
                    matches!(&event.kind, EventKind::Message { .. }),
                    "an image answered with a seq that is not a message"
                );
                Ok(())
            }
        }
    }

    /// Applies a storage operation to the model, checking it.
    fn apply(&mut self, op: &Persist) -> Check {
        let m = &mut self.model;
        match op {
            Persist::CreateVisitor { id, token_hash, .. } => {
                ensure!(!m.visitors.contains_key(id), "visitor {id} stored twice");
                ensure!(!m.visitor_by_hash.contains_key(token_hash), "a token stored twice");
                m.visitors.insert(id.clone(), token_hash.clone());
                m.visitor_by_hash.insert(token_hash.clone(), id.clone());
            }
            Persist::CreateConversation {
                id,
                visitor_id,
                created_at,
                page,
            } => {
                ensure!(!m.convs.contains_key(id), "conversation {id} created twice");
                ensure!(
                    m.visitors.contains_key(visitor_id),
                    "a conversation of an unstored visitor"
                );
                m.convs.insert(
                    id.clone(),
                    ConvModel {
                        visitor: visitor_id.clone(),
                        created_at: *created_at,
                        page: page.clone(),
                        status: ConversationStatus::Waiting,
                        agent: None,
                        events: Vec::new(),
                        preview: None,
                        last_activity_at: *created_at,
                        stored_activity_at: *created_at,
                        was_waiting: false,
                        latest_share: None,
                    },
                );
                m.conv_order.push(id.clone());
            }
            // The hub under test has no identity secret: nobody is identified.
            Persist::SetIdentity { .. } => return Err("an identity stored without an identity secret".into()),
            Persist::RecordActivity { conversation, at } => {
                let c = m
                    .convs
                    .get_mut(conversation)
                    .ok_or("activity of an unknown conversation")?;
                ensure!(*at >= c.stored_activity_at, "stored activity moved back");
                ensure!(
                    c.events.last().is_some_and(|e| e.at == *at),
                    "stored activity is not the newest event's"
                );
                c.stored_activity_at = *at;
            }
            Persist::SetStatus {
                conversation,
                status,
                agent,
                at,
            } => {
                let c = m
                    .convs
                    .get_mut(conversation)
                    .ok_or("status of an unknown conversation")?;
                c.stored_activity_at = *at;
                use ConversationStatus as S;
                match (c.status, status) {
                    (S::Waiting, S::Active) => {
                        ensure!(agent.is_some(), "active without an agent");
                        c.agent = agent.clone();
                    }
                    (S::Waiting, S::Closed) => {}
                    (S::Active, S::Closed) => {
                        ensure!(
                            agent.as_ref().map(|a| a.id) == c.agent.as_ref().map(|a| a.id),
                            "closing changed the owner"
                        );
                    }
                    (from, to) => return Err(format!("status {from:?} -> {to:?}")),
                }
                c.status = *status;
            }
            Persist::AppendEvent { conversation, event } => {
                let c = m
                    .convs
                    .get_mut(conversation)
                    .ok_or("an event of an unknown conversation")?;
                let last = c.events.len() as u64;
                ensure!(event.seq == last + 1, "seq {} after {last}: not gap-free", event.seq);
                // After the close, only the visitor's rating, once.
                let rated = c.events.iter().any(|e| matches!(e.kind, EventKind::Rated { .. }));
                if c.events.iter().any(|e| matches!(e.kind, EventKind::Closed { .. })) {
                    ensure!(
                        matches!(event.kind, EventKind::Rated { .. }) && !rated,
                        "{:?} after the conversation closed (rated before: {rated})",
                        event.kind
                    );
                }
                ensure!(
                    matches!(event.kind, EventKind::Started { .. }) == (event.seq == 1),
                    "only the first event is `started`"
                );
                match &event.kind {
                    // Notes, transfers and invitations have scenario tests of
                    // their own (tests/transfer.rs, tests/invite.rs); no input of
                    // this model asks for one.
                    EventKind::Note { .. }
                    | EventKind::Transferred { .. }
                    | EventKind::AgentInvited { .. }
                    | EventKind::AgentLeft { .. } => {
                        ensure!(false, "a note, a transfer or an invitation nobody asked for");
                    }
                    EventKind::Control { .. } => {
                        ensure!(
                            m.grants.values().any(|g| g.conversation == *conversation
                                && g.capability == Capability::RemoteControl
                                && !g.dead
                                && g.state == GrantState::Active),
                            "a remote action stored while remote control is not on"
                        );
                    }
                    EventKind::Identified { .. } => {
                        return Err("an identity stored without an identity secret".into());
                    }
                    EventKind::Rated { score, comment } => {
                        count(S_RATINGS);
                        ensure!(
                            c.status == ConversationStatus::Closed,
                            "a rating of an open conversation"
                        );
                        ensure!(
                            (1..=sightline_proto::MAX_RATING_SCORE).contains(score)
                                && comment.as_deref() == Some("fine"),
                            "a rating out of bounds: {score} {comment:?}"
                        );
                        let by = self
                            .acting
                            .and_then(|conn| self.conns.get(&conn))
                            .filter(|k| k.kind == Kind::Visitor)
                            .and_then(|k| k.token_hash.as_ref())
                            .and_then(|hash| m.visitor_by_hash.get(hash));
                        ensure!(
                            by == Some(&c.visitor),
                            "a rating by someone other than the conversation's visitor: {by:?}"
                        );
                    }
                    EventKind::EmailLeft { email } => {
                        ensure!(
                            c.status != ConversationStatus::Closed && email.contains('@'),
                            "an e-mail address on a closed conversation, or no address: {email}"
                        );
                    }
                    EventKind::PagePushed { agent, url } => {
                        ensure!(
                            url.starts_with("https://shop.example/"),
                            "the visitor was sent off the site: {url}"
                        );
                        ensure!(
                            c.status == ConversationStatus::Active && c.agent.as_ref() == Some(agent),
                            "a page pushed by someone who is not the owner"
                        );
                    }
                    EventKind::Screenshot { state, agent, .. } => {
                        if *state == sightline_proto::ScreenshotState::Asked {
                            ensure!(
                                c.status == ConversationStatus::Active
                                    && agent.is_some()
                                    && c.agent.as_ref() == agent.as_ref(),
                                "a screenshot asked for by someone who is not the owner"
                            );
                        }
                    }
                    EventKind::Grant {
                        grant,
                        capability,
                        state,
                        by,
                        ..
                    } => {
                        let status = c.status;
                        if *capability == Capability::RemoteControl && *state == GrantState::Asked {
                            ensure!(
                                m.grants.values().any(|g| g.conversation == *conversation
                                    && g.capability == Capability::Cobrowse
                                    && !g.dead
                                    && g.state == GrantState::Active),
                                "remote control asked for while co-browsing is not on"
                            );
                        }
                        let previous = m.grants.get(grant).cloned();
                        if let Some(p) = &previous {
                            ensure!(p.conversation == *conversation, "a grant moved to another conversation");
                            ensure!(!p.dead, "an event of a grant that died with the server");
                            ensure!(p.capability == *capability, "a grant changed its capability");
                        }
                        let legal = match &previous {
                            None => {
                                ensure!(*state == GrantState::Asked, "a grant starts as {state:?}");
                                ensure!(status == ConversationStatus::Active, "a request while {status:?}");
                                let owner = c.agent.as_ref().map(|a| a.id);
                                ensure!(
                                    owner.is_some_and(|a| m.may(a, Permission::for_capability(*capability))),
                                    "{capability:?} asked for by {owner:?}, who may not use it"
                                );
                                ensure!(*capability != Capability::ScreenShare, "a screen share through grants");
                                ensure!(
                                    !m.grants.values().any(|g| g.conversation == *conversation
                                        && g.capability == *capability
                                        && !g.dead
                                        && !g.state.is_final()),
                                    "a second live grant of {capability:?}"
                                );
                                *by == Role::Agent
                            }
                            Some(p) => {
                                // Some step, by someone `by` may stand for, gets there.
                                let actors: &[consent::Actor] = match by {
                                    Role::Visitor => &[consent::Actor::Visitor, consent::Actor::Server],
                                    Role::Agent => &[consent::Actor::Owner, consent::Actor::Server],
                                };
                                consent::Step::ALL.iter().any(|step| {
                                    actors.iter().any(|actor| {
                                        consent::transition(*capability, Some(p.state), *step, *actor)
                                            == consent::Outcome::Moved(*state)
                                    })
                                })
                            }
                        };
                        ensure!(
                            legal,
                            "grant transition {:?} -> {state:?} by {by:?}",
                            previous.as_ref().map(|p| p.state)
                        );
                        if *state == GrantState::Allowed {
                            ensure!(*by == Role::Visitor, "consent given by {by:?}");
                        }
                        if previous.is_none() {
                            m.grant_order.push(grant.clone());
                        }
                        m.grants.insert(
                            grant.clone(),
                            GrantModel {
                                conversation: conversation.clone(),
                                capability: *capability,
                                state: *state,
                                dead: false,
                            },
                        );
                    }
                    EventKind::Message {
                        from, client_id, body, ..
                    } => {
                        let duplicate = c.events.iter().any(|e| {
                            matches!(&e.kind, EventKind::Message { from: f, client_id: id, .. } if f == from && id == client_id)
                        });
                        ensure!(!duplicate, "client id {client_id} stored twice");
                        ensure!(
                            c.status != ConversationStatus::Closed,
                            "a message in a closed conversation"
                        );
                        c.preview = Some(sightline_core::records::preview_of(body));
                    }
                    EventKind::Closed { .. } => {
                        ensure!(c.status == ConversationStatus::Closed, "`closed` before the status");
                    }
                    EventKind::PageViewed { .. } => {
                        ensure!(
                            m.grants.values().any(|g| g.conversation == *conversation
                                && g.capability == Capability::Cobrowse
                                && !g.dead
                                && g.state == GrantState::Active),
                            "a page stored while co-browsing is not on"
                        );
                    }
                    EventKind::AgentJoined { agent } | EventKind::JoinedWithKey { agent } => {
                        ensure!(
                            c.status == ConversationStatus::Active && c.agent.as_ref() == Some(agent),
                            "joined, but not the owner"
                        );
                    }
                    EventKind::Share { share, state, by, .. } => {
                        let status = c.status;
                        let latest = c.latest_share.clone();
                        c.latest_share = Some(share.clone());
                        let previous = m.shares.get(share).map(|s| (s.state, s.dead, s.conversation.clone()));
                        use ShareState as S;
                        if let Some((_, dead, of)) = &previous {
                            ensure!(of == conversation, "a share moved to another conversation");
                            ensure!(!dead, "an event of a share that died with the server");
                        }
                        let legal = match (previous.as_ref().map(|p| p.0), state) {
                            (None, S::Invited) => {
                                ensure!(status == ConversationStatus::Active, "an invitation while {status:?}");
                                let owner = c.agent.as_ref().map(|a| a.id);
                                ensure!(
                                    owner.is_some_and(|a| m.may(a, Permission::ScreenShare)),
                                    "an invitation by {owner:?}, who may not share screens"
                                );
                                ensure!(
                                    latest.and_then(|l| m.shares.get(&l)).is_none_or(|s| !s.live()),
                                    "a second live share"
                                );
                                *by == Role::Agent
                            }
                            (Some(S::Invited), S::Accepted | S::Declined) => *by == Role::Visitor,
                            (Some(S::Invited), S::Cancelled) => true,
                            (Some(S::Accepted | S::Sharing), S::Choosing) => *by == Role::Visitor,
                            (Some(S::Accepted | S::Choosing), S::Sharing) => *by == Role::Visitor,
                            (Some(S::Accepted | S::Choosing), S::Cancelled) => *by == Role::Visitor,
                            (Some(S::Invited | S::Accepted | S::Choosing | S::Sharing), S::Failed) => {
                                *by == Role::Visitor
                            }
                            (Some(S::Accepted | S::Choosing | S::Sharing), S::Ended) => true,
                            _ => false,
                        };
                        ensure!(
                            legal,
                            "share transition {:?} -> {state:?} by {by:?}",
                            previous.map(|p| p.0)
                        );
                        if *state == S::Accepted {
                            count(S_CONSENTS);
                        }
                        if previous.is_none() {
                            m.share_order.push(share.clone());
                        }
                        m.shares.insert(
                            share.clone(),
                            ShareModel {
                                conversation: conversation.clone(),
                                state: *state,
                                dead: false,
                            },
                        );
                    }
                    EventKind::Started { .. } => {}
                }
                if let EventKind::JoinedWithKey { agent } = &event.kind {
                    count(S_KEYS_REDEEMED);
                    self.joined.push(agent.id);
                }
                let c = m.convs.get_mut(conversation).ok_or("gone")?;
                c.last_activity_at = event.at;
                c.events.push(event.clone());
            }
            Persist::CreateImage { conversation, .. } => {
                ensure!(
                    m.convs.contains_key(conversation),
                    "an image of an unknown conversation"
                );
            }
        }
        Ok(())
    }

    /// A summary agrees with the model.
    fn check_summary(&self, s: &ConversationSummary) -> Check {
        let c = self
            .model
            .convs
            .get(&s.id)
            .ok_or("a summary of an unknown conversation")?;
        ensure!(
            s.status == c.status,
            "summary status {:?}, stored {:?}",
            s.status,
            c.status
        );
        ensure!(
            s.last_seq == c.events.len() as u64,
            "summary last_seq {}, stored {}",
            s.last_seq,
            c.events.len()
        );
        ensure!(
            s.agent.as_ref().map(|a| a.id) == c.agent.as_ref().map(|a| a.id),
            "summary owner differs"
        );
        let rated = c.events.iter().find_map(|e| match e.kind {
            EventKind::Rated { score, .. } => Some(score),
            _ => None,
        });
        ensure!(s.rating == rated, "summary rating {:?}, stored {rated:?}", s.rating);
        let live = c
            .latest_share
            .as_ref()
            .and_then(|id| self.model.shares.get(id).map(|m| (id, m)))
            .filter(|(_, m)| m.live());
        match (&s.share, live) {
            (Some(share), _) => {
                let m = self
                    .model
                    .shares
                    .get(&share.id)
                    .ok_or("a summary names an unknown share")?;
                ensure!(
                    c.latest_share.as_ref() == Some(&share.id) && m.state == share.state && !m.dead,
                    "summary share {share:?} differs from {m:?}"
                );
            }
            (None, Some((id, _))) => return Err(format!("summary without its live share {id}")),
            (None, None) => {}
        }
        Ok(())
    }

    /// The presence an agent is shown for a visitor's current conversation is true.
    fn check_presence(&self, s: &ConversationSummary) -> Check {
        let Some(c) = self.model.convs.get(&s.id) else {
            return Ok(());
        };
        let current = self
            .model
            .conv_order
            .iter()
            .rev()
            .find(|id| self.model.convs[*id].visitor == c.visitor);
        if current != Some(&s.id) || c.status == ConversationStatus::Closed {
            return Ok(());
        }
        let online = self.online(&self.model.visitors[&c.visitor]);
        ensure!(
            s.visitor_online == online,
            "an agent is told the visitor is {}",
            if s.visitor_online { "online" } else { "offline" }
        );
        Ok(())
    }

    /// Whether the agent may read a conversation now: it is waiting, or theirs.
    fn agent_may_read(&self, agent: AgentId, conversation: &ConversationId) -> Check {
        let c = self.model.convs.get(conversation).ok_or("an unknown conversation")?;
        // ARCHITECTURE.md, "who reads what": waiting (everyone's queue), closed
        // (the team's history), or their own.
        ensure!(
            matches!(c.status, ConversationStatus::Waiting | ConversationStatus::Closed)
                || self.model.owner_is(conversation, agent),
            "agent {agent} hears of conversation {conversation} ({:?}, owner {:?})",
            c.status,
            c.agent.as_ref().map(|a| a.id)
        );
        Ok(())
    }

    /// Whether the agent may see a conversation's summary: it is or was in every
    /// queue, or it is theirs.
    fn agent_may_list(&self, agent: AgentId, conversation: &ConversationId) -> Check {
        let c = self.model.convs.get(conversation).ok_or("an unknown conversation")?;
        ensure!(
            c.was_waiting || c.status == ConversationStatus::Waiting || self.model.owner_is(conversation, agent),
            "agent {agent} is shown conversation {conversation} ({:?}, owner {:?}, never waiting)",
            c.status,
            c.agent.as_ref().map(|a| a.id)
        );
        Ok(())
    }

    /// A token goes to the conversation's visitor or its owner, with the part the
    /// capability gives them.
    fn check_stream_token(&self, conversation: &ConversationId, capability: Capability, token: &StreamToken) -> Check {
        let c = self
            .model
            .convs
            .get(conversation)
            .ok_or("a token in an unknown conversation")?;
        let visitor_publishes = capability.publisher() == Role::Visitor;
        match &token.party {
            Party::Visitor(v) => {
                ensure!(*v == c.visitor, "a stream token for another visitor");
                ensure!(
                    (token.role == StreamRole::Publisher) == visitor_publishes,
                    "the visitor's part is wrong"
                );
            }
            Party::Agent(a) => {
                ensure!(
                    self.model.owner_is(conversation, *a),
                    "a stream token for an agent who is not the owner"
                );
                ensure!(
                    (token.role == StreamRole::Subscriber) == visitor_publishes,
                    "the agent's part is wrong"
                );
            }
        }
        ensure!(token.expires_at > self.now, "a token that has already expired");
        Ok(())
    }

    fn stream_live(&self, conversation: &ConversationId, stream: &StreamId) -> Check {
        let live = self
            .streams
            .get(stream)
            .ok_or("a token for a stream that is not live")?;
        ensure!(live.0 == *conversation, "a token names another conversation's stream");
        Ok(())
    }

    fn visitor_owns(&self, hash: &Option<String>, conversation: &ConversationId) -> Check {
        let c = self.model.convs.get(conversation).ok_or("an unknown conversation")?;
        let owner = self.model.visitors.get(&c.visitor);
        ensure!(
            hash.is_some() && owner == hash.as_ref(),
            "a visitor socket hears of another visitor's conversation {conversation}"
        );
        Ok(())
    }

    fn share_consented(&self, conversation: &ConversationId, share: &ShareId) -> Check {
        let s = self.model.shares.get(share).ok_or("an unknown share")?;
        ensure!(s.conversation == *conversation, "a share of another conversation");
        ensure!(
            s.consented(),
            "share signaling while the share is {:?} (dead: {})",
            s.state,
            s.dead
        );
        Ok(())
    }

    fn check_send(&mut self, conn: ConnId, message: &ServerMessage) -> Check {
        let info = self.conns.get(&conn).ok_or("a send to an unknown socket")?;
        ensure!(info.open, "a send to a closed socket");
        let (kind, welcomed, hash) = (info.kind, info.welcomed, info.token_hash.clone());
        use ServerMessage as M;
        if matches!(message, M::Error { .. } | M::Pong { .. }) {
            return Ok(());
        }
        match kind {
            Kind::Visitor => {
                if let M::VisitorWelcome {
                    token,
                    conversation,
                    agents_available,
                    ..
                } = message
                {
                    // Office hours are always open here: available means an agent said hello.
                    let agents_online = self
                        .conns
                        .values()
                        .any(|c| c.open && c.welcomed && matches!(c.kind, Kind::Agent(_)));
                    // (Nobody online may still be "available" for up to a tick: an
                    // agent reloading the console is no flicker for visitors.)
                    ensure!(
                        *agents_available || !agents_online,
                        "a welcome says nobody is available, but an agent is online"
                    );
                    ensure!(!welcomed, "a second welcome");
                    let hash = Some(token_hash(token));
                    let newest = self
                        .model
                        .conv_order
                        .iter()
                        .rev()
                        .find(|id| self.model.visitors.get(&self.model.convs[*id].visitor) == hash.as_ref());
                    ensure!(
                        conversation.as_ref().map(|s| &s.id) == newest,
                        "welcomed with conversation {:?}, but the newest is {newest:?}",
                        conversation.as_ref().map(|s| &s.id)
                    );
                    if let Some(s) = conversation {
                        self.visitor_owns(&hash, &s.id)?;
                        self.check_summary(s)?;
                        ensure!(s.visitor_online, "a welcome says the visitor is offline");
                    }
                    if let Some(hash) = &hash {
                        self.offline_since.remove(hash);
                    }
                    let info = self.conns.get_mut(&conn).ok_or("gone")?;
                    info.welcomed = true;
                    info.token_hash = hash;
                    info.told_available = Some(*agents_available);
                    // The visitor actor keeps the token for its next hello.
                    for v in &mut self.visitors {
                        if v.conn == Some(conn) {
                            v.token = Some(token.clone());
                        }
                    }
                    return Ok(());
                }
                ensure!(welcomed, "a visitor socket hears something before its welcome");
                match message {
                    M::Event { conversation, event } => {
                        self.visitor_owns(&hash, conversation)?;
                        self.check_event(conversation, event)
                    }
                    M::Ack {
                        conversation,
                        client_id,
                        seq,
                    } => {
                        self.visitor_owns(&hash, conversation)?;
                        self.check_ack(conversation, client_id, *seq, Role::Visitor)
                    }
                    M::Typing { conversation, from, .. } => {
                        ensure!(*from == Role::Agent, "a visitor hears their own typing");
                        self.visitor_owns(&hash, conversation)
                    }
                    M::Synced { conversation, last_seq } => {
                        self.visitor_owns(&hash, conversation)?;
                        self.check_synced(conversation, *last_seq)
                    }
                    M::ShareSetup {
                        conversation, share, ..
                    } => {
                        self.visitor_owns(&hash, conversation)?;
                        self.share_consented(conversation, share)
                    }
                    M::ShareSignal {
                        conversation,
                        share,
                        from,
                        ..
                    } => {
                        count(S_SIGNALS);
                        ensure!(*from == Role::Agent, "a visitor hears a visitor's signal");
                        self.visitor_owns(&hash, conversation)?;
                        self.share_consented(conversation, share)
                    }
                    M::ConversationChanged { conversation } => {
                        self.visitor_owns(&hash, &conversation.id)?;
                        self.check_summary(conversation)
                    }
                    M::StreamGranted {
                        conversation, stream, ..
                    } => {
                        self.visitor_owns(&hash, conversation)?;
                        self.stream_live(conversation, stream)
                    }
                    M::Availability { agents_available } => {
                        // Told only of changes.
                        let info = self.conns.get_mut(&conn).ok_or("gone")?;
                        ensure!(
                            info.told_available != Some(*agents_available),
                            "a visitor is told agents_available {agents_available} twice in a row"
                        );
                        info.told_available = Some(*agents_available);
                        Ok(())
                    }
                    M::PrivacyChanged { .. } => Ok(()),
                    other => Err(format!("a visitor socket gets an agent's message {other:?}")),
                }
            }
            Kind::Agent(me) => {
                if let M::AgentWelcome {
                    agent,
                    conversations,
                    permissions,
                    ..
                } = message
                {
                    ensure!(!welcomed, "a second welcome");
                    ensure!(agent.id == me, "welcomed as someone else");
                    ensure!(
                        Permission::ALL
                            .iter()
                            .all(|p| permissions.allows(*p) == self.model.may(me, *p)),
                        "agent {me:?} welcomed with {permissions:?}, which is not what they may use"
                    );
                    for s in conversations {
                        ensure!(
                            s.status == ConversationStatus::Waiting
                                || (s.status == ConversationStatus::Active && self.model.owner_is(&s.id, me)),
                            "an agent's welcome lists {:?}, owner {:?}",
                            s.status,
                            s.agent
                        );
                        self.check_summary(s)?;
                        self.check_presence(s)?;
                    }
                    self.conns.get_mut(&conn).ok_or("gone")?.welcomed = true;
                    return Ok(());
                }
                ensure!(welcomed, "an agent socket hears something before its welcome");
                match message {
                    M::ConversationUpdated { conversation } => {
                        self.agent_may_list(me, &conversation.id)?;
                        self.check_presence(conversation)?;
                        self.check_summary(conversation)
                    }
                    M::Event { conversation, event } => {
                        self.agent_may_read(me, conversation)?;
                        self.check_event(conversation, event)
                    }
                    M::Ack {
                        conversation,
                        client_id,
                        seq,
                    } => {
                        self.check_ack(conversation, client_id, *seq, Role::Agent)?;
                        ensure!(
                            self.model.owner_is(conversation, me),
                            "agent {me} gets an ack in a conversation they do not own"
                        );
                        Ok(())
                    }
                    M::Typing { conversation, from, .. } => {
                        ensure!(*from == Role::Visitor, "an agent hears an agent's typing");
                        ensure!(self.model.owner_is(conversation, me), "typing to a non-owner");
                        Ok(())
                    }
                    M::Synced { conversation, last_seq } => {
                        self.agent_may_read(me, conversation)?;
                        self.check_synced(conversation, *last_seq)
                    }
                    M::ShareSetup {
                        conversation, share, ..
                    } => {
                        ensure!(self.model.owner_is(conversation, me), "share setup to a non-owner");
                        self.share_consented(conversation, share)
                    }
                    M::ShareSignal {
                        conversation,
                        share,
                        from,
                        ..
                    } => {
                        count(S_SIGNALS);
                        ensure!(*from == Role::Visitor, "an agent hears an agent's signal");
                        ensure!(self.model.owner_is(conversation, me), "a signal to a non-owner");
                        self.share_consented(conversation, share)
                    }
                    M::StreamGranted {
                        conversation, stream, ..
                    } => {
                        ensure!(self.model.owner_is(conversation, me), "a stream token to a non-owner");
                        self.stream_live(conversation, stream)
                    }
                    M::ShareKeyCreated { key, expires_at } => {
                        ensure!(
                            key.len() == sightline_proto::SESSION_KEY_DIGITS && key.bytes().all(|b| b.is_ascii_digit()),
                            "a key that is not 9 digits"
                        );
                        ensure!(*expires_at == self.now + KEY_TTL_MS, "a key with the wrong expiry");
                        ensure!(
                            !self
                                .keys
                                .iter()
                                .any(|k| k.key == *key && !k.dead && !k.used && k.expires_at > self.now),
                            "a key issued twice"
                        );
                        self.keys.push(KeyModel {
                            key: key.clone(),
                            agent: me,
                            expires_at: *expires_at,
                            used: false,
                            dead: false,
                        });
                        Ok(())
                    }
                    M::AwayChanged { .. } => Ok(()),
                    M::PermissionsChanged { permissions } => {
                        ensure!(
                            Permission::ALL
                                .iter()
                                .all(|p| permissions.allows(*p) == self.model.may(me, *p)),
                            "agent {me:?} told {permissions:?}, which is not what they may use"
                        );
                        Ok(())
                    }
                    other => Err(format!("an agent socket gets a visitor's message {other:?}")),
                }
            }
        }
    }

    fn check_event(&self, conversation: &ConversationId, event: &Event) -> Check {
        let stored = self
            .model
            .convs
            .get(conversation)
            .and_then(|c| c.events.get((event.seq as usize).wrapping_sub(1)));
        ensure!(stored == Some(event), "a delivered event that is not what is stored");
        Ok(())
    }

    fn check_ack(&self, conversation: &ConversationId, client_id: &str, seq: u64, role: Role) -> Check {
        let stored = self
            .model
            .convs
            .get(conversation)
            .and_then(|c| c.events.get((seq as usize).wrapping_sub(1)));
        let Some(event) = stored else {
            return Err(format!("ack of seq {seq}, which is not stored"));
        };
        ensure!(
            matches!(&event.kind, EventKind::Message { from, client_id: id, .. } if *from == role && id == client_id),
            "ack of {client_id} names seq {seq}, which is {:?}",
            event.kind
        );
        Ok(())
    }

    fn check_synced(&self, conversation: &ConversationId, last_seq: u64) -> Check {
        let stored = self.model.convs.get(conversation).map_or(0, |c| c.events.len() as u64);
        ensure!(last_seq == stored, "synced up to {last_seq}, stored {stored}");
        Ok(())
    }
}

fn hello(actor: Actor) -> Action {
    match actor {
        Actor::Visitor(visitor) => Action::VisitorHello {
            visitor,
            token: TokenChoice::Own,
            after_seq: AfterSeq::Value(0),
            page: true,
            bad_protocol: false,
            answer_now: true,
        },
        Actor::Agent(agent) => Action::AgentHello {
            agent,
            bad_protocol: false,
        },
    }
}

/// How far a case starts into a typical support session, so that the random
/// actions after it reach shares often enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Opening {
    Nothing,
    /// Visitor 0 has written; Anna (tab 0) and Ben are connected.
    Waiting,
    /// Anna accepted.
    Accepted,
    /// Anna asked to see the screen.
    Invited,
    /// The visitor agreed.
    Consented,
    /// The visitor is sharing and sent an offer.
    Sharing,
    /// Ben gave visitor 1 a session key, which they redeemed.
    KeyJoined,
}

fn opening() -> impl Strategy<Value = Opening> {
    prop_oneof![
        2 => Just(Opening::Nothing),
        2 => Just(Opening::Waiting),
        2 => Just(Opening::Accepted),
        2 => Just(Opening::Invited),
        3 => Just(Opening::Consented),
        3 => Just(Opening::Sharing),
        2 => Just(Opening::KeyJoined),
    ]
}

fn opening_actions(opening: Opening) -> Vec<Action> {
    use Opening as O;
    let anna = Actor::Agent(0);
    let visitor = Actor::Visitor(0);
    let mut actions = Vec::new();
    if opening == O::Nothing {
        return actions;
    }
    if opening == O::KeyJoined {
        actions.push(Action::Message(Actor::Agent(2), Msg::ShareKeyCreate));
        actions.push(Action::Message(
            Actor::Visitor(1),
            Msg::ShareKeyRedeem(KeyChoice::Known(0)),
        ));
        return actions;
    }
    actions.push(hello(anna));
    actions.push(hello(Actor::Agent(2)));
    actions.push(Action::Message(
        visitor,
        Msg::Send {
            conversation: None,
            client_id: ClientIdChoice::Mine(0),
            body: BodyChoice::Text(0),
        },
    ));
    if opening >= O::Accepted {
        actions.push(Action::Message(anna, Msg::Accept(Pick::Newest(0))));
    }
    if opening >= O::Invited {
        actions.push(Action::Message(anna, Msg::ShareInvite(Pick::Newest(0), false)));
    }
    if opening >= O::Consented {
        actions.push(Action::Message(
            visitor,
            Msg::ShareProgress(Pick::Newest(0), ShareStep::Accepted, false),
        ));
    }
    if opening >= O::Sharing {
        actions.push(Action::Message(
            visitor,
            Msg::ShareProgress(Pick::Newest(0), ShareStep::Sharing, false),
        ));
        actions.push(Action::Message(
            visitor,
            Msg::ShareSignal(Pick::Newest(0), SignalChoice::Offer),
        ));
    }
    actions
}

fn run_case(opening: Opening, actions: &[Action]) -> Check {
    count(S_CASES);
    let mut world = World::new();
    for action in opening_actions(opening) {
        world
            .run(&action)
            .map_err(|e| format!("opening {opening:?}, {action:?}: {e}"))?;
    }
    for (i, action) in actions.iter().enumerate() {
        world.run(action).map_err(|e| format!("step {i} {action:?}: {e}"))?;
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("SIGHTLINE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(100_000)
}

fn config() -> Config {
    Config {
        cases: cases(),
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        max_shrink_iters: 100_000,
        ..Config::default()
    }
}

#[test]
fn the_hub_keeps_its_invariants() {
    let mut runner = TestRunner::new(config());
    let strategy = (opening(), prop::collection::vec(action(), 1..32));
    let result = runner.run(&strategy, |(opening, actions)| {
        run_case(opening, &actions).map_err(TestCaseError::fail)
    });
    if std::env::var_os("SIGHTLINE_PROPTEST_STATS").is_some() {
        let names = [
            "cases",
            "steps",
            "signals relayed",
            "consents",
            "keys redeemed",
            "look-ups",
            "restarts",
            "retries",
            "streams granted",
            "ratings stored",
        ];
        for (name, value) in names.iter().zip(STATS.iter()) {
            eprintln!("{name}: {}", value.load(Ordering::Relaxed));
        }
    }
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, (opening, actions))) => {
            let steps: Vec<String> = actions
                .iter()
                .enumerate()
                .map(|(i, a)| format!("  {i}: {a:?}"))
                .collect();
            panic!(
                "{reason}\nminimal failing input: {opening:?}, then\n{}",
                steps.join("\n")
            );
        }
        Err(error) => panic!("{error}"),
    }
}
