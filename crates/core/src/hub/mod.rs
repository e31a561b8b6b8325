//! The hub: every live conversation, visitor and connection, as one state machine.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sightline_proto::{
    AgentId, AgentRef, ClientMessage, ConversationId, ConversationStatus, ConversationSummary, ErrorCode, Event,
    EventKind, GrantId, MessageBody, PageInfo, Permission, Permissions, Role, ServerMessage, SitePolicy, StreamId,
    VisitorContext, VisitorDevice, VisitorIdentity, MAX_TOKEN_BYTES, PROTOCOL_VERSION,
};

use crate::consent::Step;
use crate::identity::{check_identity, IdentityRefused, IdentitySecret};
use crate::limits::{AddressBook, LimitKind, Limits};
use crate::policy::{self, AgentAction, Decision, Denied};
use crate::rate::TokenBucket;
use sightline_proto::{IceServer, ShareLimits};
use std::net::IpAddr;

mod directory;
mod grants;
mod invite;
mod permissions;
mod recent;
mod screenshot;
mod share;
mod transfer;

pub use grants::{Party, StreamGrant, StreamToken};

use crate::records::{
    preview_of, NewImage, Persist, StoredConversation, StoredVisitor, VisitorId, ACTIVITY_STORE_INTERVAL_MS,
};
use crate::validate::{
    normalize_body, normalize_device, normalize_email, normalize_rating, token_hash, validate_client_id, validate_page,
    Invalid,
};
use directory::{Audience, Directory};

/// A connection's number, chosen by the shell, unique for the hub's lifetime.
/// Never sent to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An authenticated agent, as the shell established from the session cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentIdentity {
    pub agent: AgentRef,
    pub is_admin: bool,
    /// What an admin allows this agent (the site policy may turn more off); kept
    /// up to date by [`Input::AgentPermissionsChanged`].
    pub permissions: Permissions,
}

/// Who is on the other end of a socket, as far as the shell knows before any
/// message: which endpoint they connected to, and for agents who they logged in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Visitor,
    Agent(AgentIdentity),
}

/// What the shell read of a socket's browser from its request (the User-Agent
/// header): shown to agents, never trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub browser: Option<String>,
    pub os: Option<String>,
}

/// Something that happened, fed to [`Hub::handle`].
#[derive(Debug, Clone)]
pub enum Input {
    /// A socket was opened from `address`.
    Connected {
        conn: ConnId,
        peer: Peer,
        address: IpAddr,
        client: ClientInfo,
    },
    /// A socket delivered a well-formed message (the shell answers frames that do not
    /// parse with a protocol error itself). `request_ref` is the frame's `ref`,
    /// echoed in any error that refuses it.
    Message {
        conn: ConnId,
        message: ClientMessage,
        request_ref: Option<String>,
    },
    /// A socket was closed, by either side.
    Disconnected { conn: ConnId },
    /// The answer to [`Output::LookupVisitor`].
    VisitorLookedUp {
        conn: ConnId,
        token: String,
        visitor: Option<StoredVisitor>,
    },
    /// The agent logged out: their live screen shares end.
    AgentLoggedOut { agent_id: AgentId },
    /// The agent's other sessions were ended (a password change): the streams
    /// they may hold end with their grants; screen shares, whose signaling goes
    /// through the (closed) chat sockets, go on with the session that stays.
    AgentOtherSessionsEnded { agent_id: AgentId },
    /// The agent's display name changed (stored by the shell): their sockets act
    /// under the new name from now on, and the conversations they own show it
    /// (stored, and sent to their agents; the visitor sees it with the agent's
    /// next message).
    AgentRenamed { agent: AgentRef },
    /// An admin changed what the agent may use (stored by the shell): their
    /// sockets act under the new permissions from now on, their consoles are told,
    /// and what they may no longer use ends (live shares and grants, unused keys).
    AgentPermissionsChanged {
        agent_id: AgentId,
        permissions: Permissions,
    },
    /// The site policy changed (stored by the shell; also given once at start):
    /// what it turns off ends for everyone at once, agents' consoles are told what
    /// they may use, and visitors' widgets get the private selectors.
    SitePolicyChanged { policy: SitePolicy },
    /// Housekeeping: forget idle visitors, closed conversations and expired keys.
    /// Call about once a minute.
    Tick,
    /// Whether it is within the office hours of the server's configuration (always
    /// true without them). The shell says so at start and about once a minute;
    /// outside them no agent is available to visitors.
    OfficeHours { open: bool },
    /// An uploaded image (already validated and stored as blobs by the shell) to
    /// post into a conversation as a message. Answered with
    /// [`Output::ImagePosted`] carrying the same `request` number.
    PostImage {
        request: u64,
        uploader: Uploader,
        client_id: String,
        image: NewImage,
    },
}

/// Who uploads an image, as the shell authenticated them.
#[derive(Debug, Clone)]
pub enum Uploader {
    /// A visitor, by the hash of the token they presented, with what storage knows
    /// of that token (the hub may have forgotten an idle visitor).
    Visitor {
        token_hash: String,
        stored: Option<Box<StoredVisitor>>,
        /// The client address the upload came from (for per-address limits).
        address: IpAddr,
    },
    /// An agent, into a conversation they must own.
    Agent {
        agent: AgentRef,
        conversation: ConversationId,
    },
    /// An agent storing a picture for agents only (`NewImage::agents_only`), in a
    /// conversation they must own: stored, never posted; answered with `seq` 0.
    AgentOnly {
        agent: AgentRef,
        conversation: ConversationId,
    },
}

/// Where an image was posted: the answer to [`Input::PostImage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePosted {
    pub conversation: ConversationId,
    pub seq: u64,
    /// False when `client_id` was seen before: the message at `seq` is the earlier
    /// upload's, and nothing new was stored.
    pub created: bool,
}

/// Why a request was refused, for answers that do not go to a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: ErrorCode,
    pub message: String,
}

/// Something the shell must do, drained with [`Hub::poll_output`].
// `Send` is the largest variant and by far the most common output: boxing its
// message would cost an allocation for every delivery to save a few bytes on
// the rarer variants, which are drained at once anyway.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Store this. Every persist of a batch must be durable before any send of the
    /// same batch is delivered.
    Persist(Persist),
    /// Deliver a message on one socket.
    Send { conn: ConnId, message: ServerMessage },
    /// Deliver the stored events `after_seq < seq <= upto_seq` of a conversation,
    /// in order, then `Synced { last_seq: upto_seq }`. To a visitor's socket
    /// (`to_visitor`), each event as [`Event::for_visitor`] makes it: internal
    /// notes left out, a transfer's note removed.
    Replay {
        conn: ConnId,
        conversation: ConversationId,
        after_seq: u64,
        upto_seq: u64,
        to_visitor: bool,
    },
    /// Find the visitor whose token hashes to `token_hash` and answer with
    /// [`Input::VisitorLookedUp`].
    LookupVisitor {
        conn: ConnId,
        token: String,
        token_hash: String,
    },
    /// Close the socket (after delivering what was sent before).
    Disconnect { conn: ConnId, reason: String },
    /// The answer to [`Input::PostImage`]. Like a send, it must be delivered only
    /// after the batch's persists are stored.
    ImagePosted {
        request: u64,
        result: Result<ImagePosted, Refused>,
    },
    /// A limit refused something from `address` (already answered with an error):
    /// for the shell's metrics and logs.
    Limited { limit: LimitKind, address: IpAddr },
    /// The visitor consented: the relay may carry this stream between the holders
    /// of its tokens. Acted on at once (nothing to store first).
    StreamGrant(StreamGrant),
    /// One more token for an end of a live stream (a reconnect).
    StreamToken { stream: StreamId, token: StreamToken },
    /// Consent ended: the relay stops the stream now and closes its sockets. Comes
    /// before the batch's persists, and must be acted on without waiting for them.
    StreamRevoke { stream: StreamId },
}

/// TURN server settings: URLs and the secret shared with coturn's
/// `static-auth-secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnSettings {
    pub urls: Vec<String>,
    pub secret: String,
    /// How long minted credentials stay valid.
    pub ttl_secs: u64,
}

/// Screen-share settings from the server's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareSettings {
    /// STUN (or TURN with fixed credentials) servers handed out as they are.
    pub ice_servers: Vec<IceServer>,
    /// TURN servers that get per-share credentials.
    pub turn: Option<TurnSettings>,
    /// `"all"` or `"relay"`.
    pub ice_transport_policy: String,
    pub limits: ShareLimits,
    /// How long a session key can be redeemed.
    pub key_ttl_ms: u64,
}

impl Default for ShareSettings {
    fn default() -> Self {
        ShareSettings {
            ice_servers: Vec::new(),
            turn: None,
            ice_transport_policy: "all".into(),
            limits: ShareLimits {
                max_bitrate_bps: 1_500_000,
                text_fps: 5,
                motion_fps: 15,
            },
            key_ttl_ms: 10 * 60 * 1000,
        }
    }
}

/// Counts for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubStats {
    pub connections: usize,
    pub visitors: usize,
    pub conversations_waiting: usize,
    pub conversations_active: usize,
    /// Shares the visitor has consented to and that have not ended.
    pub shares_live: usize,
    /// Client address groups whose rate limits are being tracked.
    pub address_groups: usize,
}

/// How many addresses a visitor may leave on one conversation (each is an event
/// every agent hears of while it waits).
const MAX_EMAILS_LEFT: u8 = 5;

/// How many different identities one conversation may be given (each is an
/// event): a user who logs out and in as someone else, a few times at most.
const MAX_IDENTITIES: u8 = 5;

/// How soon an agent may switch between Away and Available again: each switch
/// that changes what visitors are told goes to every visitor socket.
const AWAY_SWITCH_MS: u64 = 1_000;

/// How long a visitor with no socket and no open conversation stays in memory.
const VISITOR_IDLE_EVICT_MS: u64 = 10 * 60 * 1000;

#[derive(Debug)]
enum ConnState {
    /// Waiting for the hello.
    New,
    /// A visitor hello is waiting for [`Input::VisitorLookedUp`].
    LookingUp { after_seq: u64, page: Option<PageInfo> },
    /// Said hello; `visitor` is set for visitor sockets.
    Ready { visitor: Option<VisitorId> },
}

#[derive(Debug)]
struct Connection {
    peer: Peer,
    state: ConnState,
    rate: TokenBucket,
    address: IpAddr,
    /// The page a visitor's socket said it is on (its hello).
    page: Option<PageInfo>,
    client: ClientInfo,
    /// What a visitor's widget said its browser can do (its hello).
    device: Option<VisitorDevice>,
}

#[derive(Debug)]
struct Visitor {
    token_hash: String,
    /// Stored once the visitor opens their first conversation: page views that never
    /// chat leave nothing in the database.
    persisted: bool,
    current: Option<ConversationId>,
    /// The page reported in the newest hello or route change (`page_changed`),
    /// used when a conversation starts.
    page: Option<PageInfo>,
    last_seen: u64,
    /// Messages from all of this visitor's sockets together.
    rate: TokenBucket,
    /// Their browser and page as their newest hello or page change said.
    context: VisitorContext,
    /// Who the host site says they are (checked; see [`crate::identity`]), the
    /// newest `identify` of any of their sockets, or their conversation's.
    identity: Option<VisitorIdentity>,
}

#[derive(Debug)]
struct Conversation {
    summary: ConversationSummary,
    visitor: VisitorId,
    recent: recent::RecentIds,
    /// The newest screen share, all of it; `summary.share` is its public view,
    /// written only by `Hub::set_share_state`.
    share: Option<share::Share>,
    /// The newest grant of each other capability (co-browse, remote control,
    /// recording); `summary.grants` is their public view.
    grants: BTreeMap<sightline_proto::Capability, grants::Grant>,
    /// Since when the visitor has had no socket, while a share is live.
    visitor_gone_since: Option<u64>,
    /// The newest page stored as `PageViewed` in this co-browse session.
    cobrowse_page: Option<String>,
    /// The visitor's connection (tab) that co-browses: the last to start the
    /// stream or ask for a token on a new page.
    cobrowse_conn: Option<ConnId>,
    /// Addresses the visitor left since the hub loaded it (at most
    /// [`MAX_EMAILS_LEFT`]).
    emails_left: u8,
    /// Identities stored on it since the hub loaded it (at most
    /// [`MAX_IDENTITIES`]).
    identities: u8,
    /// The `last_activity_at` the store holds (see [`Persist::RecordActivity`]).
    stored_activity_at: u64,
    /// The allowance of invitations (made at the first one).
    invites: Option<TokenBucket>,
}

impl Conversation {
    fn from_stored(stored: StoredConversation, visitor: VisitorId) -> Self {
        let mut summary = stored.summary;
        // Shares and grants do not survive a restart of the server: their
        // signaling and streams are gone.
        summary.share = None;
        summary.grants.clear();
        // Nor do invitations (live state, like a share): the owner invites again.
        summary.invitees.clear();
        Conversation {
            summary,
            visitor,
            recent: recent::RecentIds::from_stored(stored.recent_client_ids),
            share: None,
            grants: BTreeMap::new(),
            visitor_gone_since: None,
            cobrowse_page: None,
            cobrowse_conn: None,
            emails_left: 0,
            identities: 0,
            // Not known (the summary's activity is derived from the events): the
            // first event after a restart stores it.
            stored_activity_at: 0,
            invites: None,
        }
    }

    fn seen(&self, from: Role, client_id: &str) -> Option<u64> {
        self.recent.seen(from, client_id)
    }

    fn remember(&mut self, from: Role, client_id: String, seq: u64) {
        self.recent.remember(from, client_id, seq);
    }

    fn is_open(&self) -> bool {
        self.summary.status != ConversationStatus::Closed
    }
}

/// The state machine. See the crate docs for how to drive it.
pub struct Hub {
    rng: StdRng,
    // BTree collections throughout: fan-outs walk them, and the same inputs must
    // give the same outputs in the same order.
    connections: BTreeMap<ConnId, Connection>,
    visitors: BTreeMap<VisitorId, Visitor>,
    visitors_by_token: BTreeMap<String, VisitorId>,
    // BTreeMap: agents' welcome lists come out in a stable order.
    conversations: BTreeMap<ConversationId, Conversation>,
    /// Sockets that said hello, by visitor and by agent.
    directory: Directory,
    outputs: VecDeque<Output>,
    limits: Limits,
    addresses: AddressBook,
    settings: ShareSettings,
    keys: share::SessionKeys,
    /// Grants that are not over and live streams, by id, to their conversation:
    /// a message naming one finds it without walking every conversation.
    grant_index: BTreeMap<GrantId, ConversationId>,
    stream_index: BTreeMap<StreamId, ConversationId>,
    /// Screenshot requests waiting for the visitor's answer.
    screenshot_index: BTreeMap<sightline_proto::ScreenshotId, ConversationId>,
    /// Connected agents who said they are away.
    away: BTreeSet<AgentId>,
    /// When each connected agent last switched (see [`AWAY_SWITCH_MS`]).
    away_switched: BTreeMap<AgentId, u64>,
    /// Within office hours (see [`Input::OfficeHours`]).
    office_open: bool,
    /// What visitors were last told by [`ServerMessage::Availability`].
    announced_available: bool,
    /// The site policy (see [`Input::SitePolicyChanged`]).
    site: SitePolicy,
    /// What host pages sign identities with; without it, nobody is identified.
    identity_secret: Option<IdentitySecret>,
}

/// What a refused request turns into.
struct Refusal {
    code: ErrorCode,
    message: String,
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

impl From<Invalid> for Refusal {
    fn from(invalid: Invalid) -> Self {
        match invalid {
            Invalid::TooLarge(message) => refuse(ErrorCode::TooLarge, message),
            Invalid::Bad(message) => refuse(ErrorCode::BadRequest, message),
        }
    }
}

type Handled = Result<(), Refusal>;

impl Hub {
    /// A hub with no state. `seed` feeds the generator of tokens and ids: the shell
    /// passes OS randomness, tests a fixed number.
    pub fn new(seed: [u8; 32], settings: ShareSettings) -> Self {
        Hub {
            settings,
            keys: share::SessionKeys::default(),
            grant_index: BTreeMap::new(),
            stream_index: BTreeMap::new(),
            screenshot_index: BTreeMap::new(),
            rng: StdRng::from_seed(seed),
            connections: BTreeMap::new(),
            visitors: BTreeMap::new(),
            visitors_by_token: BTreeMap::new(),
            conversations: BTreeMap::new(),
            directory: Directory::default(),
            outputs: VecDeque::new(),
            limits: Limits::default(),
            addresses: AddressBook::default(),
            away: BTreeSet::new(),
            away_switched: BTreeMap::new(),
            office_open: true,
            announced_available: false,
            site: SitePolicy::default(),
            identity_secret: None,
        }
    }

    /// Sets the secret `identify` signatures are checked with (from the server's
    /// configuration); `None` refuses every `identify`.
    pub fn set_identity_secret(&mut self, secret: Option<IdentitySecret>) {
        self.identity_secret = secret;
    }

    /// Replaces the default [`Limits`] (from the server's configuration).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Loads what storage knows of open conversations (at start-up).
    pub fn restore(&mut self, visitors: Vec<StoredVisitor>, now: u64) {
        for stored in visitors {
            self.adopt_visitor(stored, now);
        }
    }

    pub fn stats(&self) -> HubStats {
        let mut stats = HubStats {
            connections: self.connections.len(),
            visitors: self.visitors.len(),
            address_groups: self.addresses.len(),
            ..HubStats::default()
        };
        for conversation in self.conversations.values() {
            match conversation.summary.status {
                ConversationStatus::Waiting => stats.conversations_waiting += 1,
                ConversationStatus::Active => stats.conversations_active += 1,
                ConversationStatus::Closed => {}
            }
            if conversation.share.as_ref().is_some_and(|s| s.state.is_granted()) {
                stats.shares_live += 1;
            }
        }
        stats
    }

    /// The next thing for the shell to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Feeds one input. `now` is milliseconds since the Unix epoch.
    pub fn handle(&mut self, now: u64, input: Input) {
        match input {
            Input::Connected {
                conn,
                peer,
                address,
                client,
            } => {
                self.connections.insert(
                    conn,
                    Connection {
                        peer,
                        state: ConnState::New,
                        rate: self.limits.messages_per_socket.bucket(now),
                        address,
                        page: None,
                        client,
                        device: None,
                    },
                );
            }
            Input::AgentLoggedOut { agent_id } => self.end_shares_of_agent(now, agent_id),
            Input::AgentOtherSessionsEnded { agent_id } => self.end_grants_of_agent(now, agent_id),
            Input::AgentRenamed { agent } => self.rename_agent(agent),
            Input::AgentPermissionsChanged { agent_id, permissions } => {
                self.change_agent_permissions(now, agent_id, permissions);
            }
            Input::SitePolicyChanged { policy } => self.change_site_policy(now, policy),
            Input::Message {
                conn,
                message,
                request_ref,
            } => {
                // Every error this message causes on its own socket names it.
                let first = self.outputs.len();
                self.on_message(now, conn, message);
                if request_ref.is_some() {
                    for output in self.outputs.iter_mut().skip(first) {
                        if let Output::Send {
                            conn: to,
                            message: ServerMessage::Error { request_ref: r, .. },
                        } = output
                        {
                            if *to == conn && r.is_none() {
                                r.clone_from(&request_ref);
                            }
                        }
                    }
                }
            }
            Input::Disconnected { conn } => self.on_disconnected(now, conn),
            Input::VisitorLookedUp { conn, token, visitor } => self.on_visitor_looked_up(now, conn, token, visitor),
            Input::OfficeHours { open } => {
                if open != self.office_open {
                    self.office_open = open;
                    // Agents see why visitors are told no one is available.
                    self.deliver(Audience::AllAgents, ServerMessage::OfficeHours { open });
                }
                self.announce_availability();
            }
            Input::Tick => {
                self.announce_availability();
                self.end_shares_of_departed_visitors(now);
                self.evict_idle(now);
                self.keys.forget_expired(now);
                self.addresses.forget_idle(now);
            }
            Input::PostImage {
                request,
                uploader,
                client_id,
                image,
            } => {
                let result = self.post_image(now, uploader, client_id, image).map_err(|r| Refused {
                    code: r.code,
                    message: r.message,
                });
                self.outputs.push_back(Output::ImagePosted { request, result });
            }
        }
    }

    /// The agents invited into an open conversation (none for one the hub does
    /// not hold): what the shell's HTTP reads add to the stored owner when they
    /// apply [`policy::agent_may_read`].
    pub fn invitees(&self, conversation: &ConversationId) -> Vec<sightline_proto::Invitee> {
        self.conversations
            .get(conversation)
            .map(|c| c.summary.invitees.clone())
            .unwrap_or_default()
    }

    /// Whether `uploader` may post an image right now, asked before the shell spends
    /// memory and CPU on decoding it. [`Input::PostImage`] checks again (things may
    /// change meanwhile); this only keeps strangers from making the server decode.
    pub fn check_uploader(&self, uploader: &Uploader) -> Result<(), Refused> {
        let refused = |r: Refusal| Refused {
            code: r.code,
            message: r.message,
        };
        match uploader {
            Uploader::Agent { agent, conversation } | Uploader::AgentOnly { agent, conversation } => {
                let c = self.conversation_for_agent(conversation).map_err(refused)?;
                Self::check_may_write(c, agent).map_err(refused)
            }
            Uploader::Visitor { token_hash, stored, .. } => {
                let known = self.visitors_by_token.contains_key(token_hash)
                    || stored.as_ref().is_some_and(|s| &s.token_hash == token_hash);
                if known {
                    Ok(())
                } else {
                    Err(Refused {
                        code: ErrorCode::NotAuthenticated,
                        message: "unknown visitor token".into(),
                    })
                }
            }
        }
    }

    fn post_image(
        &mut self,
        now: u64,
        uploader: Uploader,
        client_id: String,
        image: NewImage,
    ) -> Result<ImagePosted, Refusal> {
        validate_client_id(&client_id)?;
        let (conversation, from, agent) = match uploader {
            Uploader::AgentOnly { agent, conversation } => {
                let c = self.conversation_for_agent(&conversation)?;
                Self::check_may_write(c, &agent)?;
                self.persist(Persist::CreateImage {
                    conversation: conversation.clone(),
                    image: NewImage {
                        agents_only: true,
                        ..image
                    },
                    uploaded_by: Role::Agent,
                    agent_id: Some(agent.id),
                    created_at: now,
                });
                return Ok(ImagePosted {
                    conversation,
                    seq: 0,
                    created: true,
                });
            }
            Uploader::Agent { agent, conversation } => {
                let c = self.conversation_for_agent(&conversation)?;
                let writes = Self::writes_in(c, &agent);
                if let Some(seq) = c.seen(Role::Agent, &client_id).filter(|_| writes) {
                    return Ok(ImagePosted {
                        conversation,
                        seq,
                        created: false,
                    });
                }
                Self::check_may_write(c, &agent)?;
                (conversation, Role::Agent, Some(agent))
            }
            Uploader::Visitor {
                token_hash,
                stored,
                address,
            } => {
                let visitor_id = match self.visitors_by_token.get(&token_hash).cloned() {
                    Some(id) => id,
                    None => match stored {
                        Some(stored) if stored.token_hash == token_hash => self.adopt_visitor(*stored, now),
                        _ => return Err(refuse(ErrorCode::NotAuthenticated, "unknown visitor token")),
                    },
                };
                let current = self.visitors.get(&visitor_id).and_then(|v| v.current.clone());
                if let Some(id) = &current {
                    if let Some(seq) = self
                        .conversations
                        .get(id)
                        .and_then(|c| c.seen(Role::Visitor, &client_id))
                    {
                        return Ok(ImagePosted {
                            conversation: id.clone(),
                            seq,
                            created: false,
                        });
                    }
                }
                if let Some(v) = self.visitors.get_mut(&visitor_id) {
                    v.last_seen = now;
                }
                let open = current
                    .as_ref()
                    .and_then(|id| self.conversations.get(id))
                    .filter(|c| c.is_open())
                    .map(|c| c.summary.id.clone());
                let id = match open {
                    Some(id) => id,
                    None => {
                        if !self.take_new_conversation(now, address) {
                            self.outputs.push_back(Output::Limited {
                                limit: LimitKind::NewConversations,
                                address,
                            });
                            return Err(refuse(
                                ErrorCode::RateLimited,
                                "too many new conversations from your network; try again later",
                            ));
                        }
                        self.start_conversation(now, &visitor_id)
                    }
                };
                (id, Role::Visitor, None)
            }
        };
        self.persist(Persist::CreateImage {
            conversation: conversation.clone(),
            image: NewImage {
                agents_only: false,
                ..image.clone()
            },
            uploaded_by: from,
            agent_id: agent.as_ref().map(|a| a.id),
            created_at: now,
        });
        let body = MessageBody::Image { image: image.image };
        let seq = self
            .append_message(now, &conversation, from, agent, client_id, body)
            .ok_or_else(|| refuse(ErrorCode::NotFound, "no such conversation"))?;
        if from == Role::Visitor {
            // The visitor's picture answers the agent's open request for one.
            self.finish_screenshot(now, &conversation, sightline_proto::ScreenshotState::Sent);
        }
        Ok(ImagePosted {
            conversation,
            seq,
            created: true,
        })
    }

    fn send(&mut self, conn: ConnId, message: ServerMessage) {
        self.outputs.push_back(Output::Send { conn, message });
    }

    fn persist(&mut self, op: Persist) {
        self.outputs.push_back(Output::Persist(op));
    }

    fn random_id(&mut self, bytes: usize) -> String {
        let mut buf = vec![0u8; bytes];
        self.rng.fill_bytes(&mut buf);
        URL_SAFE_NO_PAD.encode(buf)
    }

    /// Takes one message from every allowance the connection draws on: its own, its
    /// visitor's (all their tabs together) and its address's (all visitor sockets
    /// from there). The first that is spent names the refusal.
    fn take_message_allowance(&mut self, now: u64, conn: ConnId) -> Result<(), LimitKind> {
        let Some(connection) = self.connections.get_mut(&conn) else {
            return Ok(());
        };
        if !connection.rate.try_take(now) {
            return Err(LimitKind::SocketMessages);
        }
        if connection.peer != Peer::Visitor {
            // Agents are authenticated; their sockets are limited one by one.
            return Ok(());
        }
        let (address, visitor) = match &connection.state {
            ConnState::Ready { visitor } => (connection.address, visitor.clone()),
            _ => (connection.address, None),
        };
        if let Some(v) = visitor.and_then(|id| self.visitors.get_mut(&id)) {
            if !v.rate.try_take(now) {
                return Err(LimitKind::VisitorMessages);
            }
        }
        if !self.addresses.get(&self.limits, address, now).messages.try_take(now) {
            return Err(LimitKind::AddressMessages);
        }
        Ok(())
    }

    /// Refuses with "rate limited" and reports which limit it was.
    fn limited(&mut self, conn: ConnId, limit: LimitKind, message: &str, client_id: Option<String>) {
        self.send(conn, ServerMessage::error(ErrorCode::RateLimited, message, client_id));
        if let Some(address) = self.connections.get(&conn).map(|c| c.address) {
            self.outputs.push_back(Output::Limited { limit, address });
        }
    }

    fn on_message(&mut self, now: u64, conn: ConnId, message: ClientMessage) {
        let client_id = match &message {
            ClientMessage::Send { client_id, .. } => Some(client_id.clone()),
            _ => None,
        };
        // The visitor may revoke at any moment: a step that ends a share or a grant
        // spends the allowance like any message but is never refused for it (the
        // address's allowance may be spent by others behind the same NAT).
        let revokes = matches!(
            message,
            ClientMessage::ShareEnd { .. }
                | ClientMessage::GrantEnd { .. }
                | ClientMessage::ScreenshotEnd { .. }
                | ClientMessage::ShareProgress {
                    step: sightline_proto::ShareStep::Stopped,
                    ..
                }
                | ClientMessage::GrantStep {
                    step: sightline_proto::GrantStep::Stop,
                    ..
                }
        );
        if let Err(limit) = self.take_message_allowance(now, conn) {
            // Where the visitor is, reported in the background, is no act of theirs:
            // past the allowance it is dropped (counted as limited), with no error the
            // widget would show them.
            if matches!(message, ClientMessage::PageChanged { .. }) {
                if let Some(address) = self.connections.get(&conn).map(|c| c.address) {
                    self.outputs.push_back(Output::Limited { limit, address });
                }
                return;
            }
            if !revokes {
                self.limited(conn, limit, "too many messages; slow down", client_id);
                return;
            }
        }
        let Some(connection) = self.connections.get(&conn) else {
            return;
        };
        let result = match (&connection.state, connection.peer.clone()) {
            (ConnState::New, peer) => self.on_hello(now, conn, peer, message),
            (ConnState::LookingUp { .. }, _) => Err(refuse(
                ErrorCode::NotAuthenticated,
                "wait for the welcome before sending",
            )),
            (ConnState::Ready { visitor: Some(visitor) }, Peer::Visitor) => {
                let visitor = visitor.clone();
                self.on_visitor_message(now, conn, visitor, message)
            }
            (ConnState::Ready { .. }, Peer::Agent(identity)) => self.on_agent_message(now, conn, identity, message),
            (ConnState::Ready { visitor: None }, Peer::Visitor) => {
                Err(refuse(ErrorCode::Internal, "visitor socket without a visitor"))
            }
        };
        if let Err(refusal) = result {
            self.send(conn, ServerMessage::error(refusal.code, refusal.message, client_id));
        }
    }

    fn on_hello(&mut self, now: u64, conn: ConnId, peer: Peer, message: ClientMessage) -> Handled {
        match (peer, message) {
            (
                Peer::Visitor,
                ClientMessage::VisitorHello {
                    protocol,
                    token,
                    after_seq,
                    page,
                    device,
                },
            ) => {
                self.check_protocol(conn, protocol)?;
                if let Some(page) = &page {
                    validate_page(page)?;
                }
                let device = device.map(normalize_device).transpose()?;
                if let Some(connection) = self.connections.get_mut(&conn) {
                    connection.device = device;
                }
                match token {
                    Some(token) if token.len() > MAX_TOKEN_BYTES => {
                        Err(refuse(ErrorCode::TooLarge, "the visitor token is too long"))
                    }
                    Some(token) => {
                        let hash = token_hash(&token);
                        if let Some(visitor) = self.visitors_by_token.get(&hash).cloned() {
                            self.welcome_visitor(now, conn, visitor, token, after_seq, page);
                        } else {
                            self.set_state(conn, ConnState::LookingUp { after_seq, page });
                            self.outputs.push_back(Output::LookupVisitor {
                                conn,
                                token,
                                token_hash: hash,
                            });
                        }
                        Ok(())
                    }
                    None => {
                        self.new_visitor(now, conn, page);
                        Ok(())
                    }
                }
            }
            (Peer::Agent(identity), ClientMessage::AgentHello { protocol, away }) => {
                self.check_protocol(conn, protocol)?;
                self.set_state(conn, ConnState::Ready { visitor: None });
                // The console remembers the agent's choice; the newest hello says it.
                let others = self.resolve(Audience::Agent(identity.agent.id));
                self.directory.add_agent(identity.agent.id, conn);
                if self.set_away(identity.agent.id, away) {
                    for other in others {
                        self.send(other, ServerMessage::AwayChanged { away });
                    }
                }
                let conversations = self
                    .conversations
                    .values()
                    .filter(|c| match c.summary.status {
                        ConversationStatus::Waiting => true,
                        // Their own, and those they were invited into.
                        ConversationStatus::Active => Self::agent_may(c, &identity.agent, AgentAction::Read).is_ok(),
                        ConversationStatus::Closed => false,
                    })
                    .map(|c| c.summary.clone())
                    .collect();
                self.send(
                    conn,
                    ServerMessage::AgentWelcome {
                        protocol: PROTOCOL_VERSION,
                        agent: identity.agent,
                        is_admin: identity.is_admin,
                        conversations,
                        away,
                        permissions: identity.permissions.and(self.site.allowed),
                        office_open: self.office_open,
                    },
                );
                self.announce_availability();
                Ok(())
            }
            (Peer::Visitor, _) => Err(refuse(
                ErrorCode::NotAuthenticated,
                "the first message on a visitor socket must be visitor_hello",
            )),
            (Peer::Agent(_), _) => Err(refuse(
                ErrorCode::NotAuthenticated,
                "the first message on an agent socket must be agent_hello",
            )),
        }
    }

    fn check_protocol(&mut self, conn: ConnId, protocol: u32) -> Handled {
        if protocol == PROTOCOL_VERSION {
            return Ok(());
        }
        self.send(
            conn,
            ServerMessage::error(
                ErrorCode::UnsupportedVersion,
                format!("this server speaks protocol {PROTOCOL_VERSION}, not {protocol}"),
                None,
            ),
        );
        self.outputs.push_back(Output::Disconnect {
            conn,
            reason: "unsupported protocol version".into(),
        });
        // The error is already sent; nothing more to refuse.
        Ok(())
    }

    fn set_state(&mut self, conn: ConnId, state: ConnState) {
        if let Some(connection) = self.connections.get_mut(&conn) {
            connection.state = state;
        }
    }

    fn new_visitor(&mut self, now: u64, conn: ConnId, page: Option<PageInfo>) {
        let address = self.connections.get(&conn).map(|c| c.address);
        if let Some(address) = address {
            if !self
                .addresses
                .get(&self.limits, address, now)
                .new_visitors
                .try_take(now)
            {
                self.limited(
                    conn,
                    LimitKind::NewVisitors,
                    "too many new visitors from your network; try again later",
                    None,
                );
                self.outputs.push_back(Output::Disconnect {
                    conn,
                    reason: "too many new visitors".into(),
                });
                return;
            }
        }
        let token = self.random_id(32);
        let id = VisitorId::from(self.random_id(16));
        let hash = token_hash(&token);
        self.visitors_by_token.insert(hash.clone(), id.clone());
        self.visitors.insert(
            id.clone(),
            Visitor {
                token_hash: hash,
                persisted: false,
                current: None,
                page: None,
                last_seen: now,
                rate: self.limits.messages_per_visitor.bucket(now),
                context: VisitorContext::default(),
                identity: None,
            },
        );
        self.welcome_visitor(now, conn, id, token, 0, page);
    }

    fn on_visitor_looked_up(&mut self, now: u64, conn: ConnId, token: String, stored: Option<StoredVisitor>) {
        let Some(connection) = self.connections.get(&conn) else {
            return;
        };
        let ConnState::LookingUp { after_seq, page } = &connection.state else {
            return;
        };
        let (after_seq, page) = (*after_seq, page.clone());
        let hash = token_hash(&token);
        // Another socket of the same visitor may have been looked up meanwhile; what
        // is in memory is newer than what storage returned.
        if let Some(visitor) = self.visitors_by_token.get(&hash).cloned() {
            self.welcome_visitor(now, conn, visitor, token, after_seq, page);
            return;
        }
        match stored {
            Some(stored) if stored.token_hash == hash => {
                let visitor = self.adopt_visitor(stored, now);
                self.welcome_visitor(now, conn, visitor, token, after_seq, page);
            }
            // An unknown (or forgotten, never-used) token: start afresh.
            _ => self.new_visitor(now, conn, page),
        }
    }

    fn adopt_visitor(&mut self, stored: StoredVisitor, now: u64) -> VisitorId {
        let id = stored.id.clone();
        let current = stored.latest.map(|conversation| {
            let conversation_id = conversation.summary.id.clone();
            self.conversations
                .entry(conversation_id.clone())
                .or_insert_with(|| Conversation::from_stored(conversation, id.clone()));
            conversation_id
        });
        self.visitors_by_token.insert(stored.token_hash.clone(), id.clone());
        // An identity stored on their conversation holds until the page says another.
        let identity = current
            .as_ref()
            .and_then(|c| self.conversations.get(c))
            .and_then(|c| c.summary.visitor_identity.as_deref().cloned());
        self.visitors.entry(id.clone()).or_insert(Visitor {
            token_hash: stored.token_hash,
            persisted: true,
            current,
            page: None,
            last_seen: now,
            rate: self.limits.messages_per_visitor.bucket(now),
            context: VisitorContext::default(),
            identity,
        });
        id
    }

    fn welcome_visitor(
        &mut self,
        now: u64,
        conn: ConnId,
        visitor_id: VisitorId,
        token: String,
        after_seq: u64,
        page: Option<PageInfo>,
    ) {
        let open_sockets = self.directory.visitor_sockets(&visitor_id);
        if open_sockets >= self.limits.sockets_per_visitor {
            self.limited(
                conn,
                LimitKind::VisitorSockets,
                "too many open tabs for this chat; close some and reload",
                None,
            );
            self.outputs.push_back(Output::Disconnect {
                conn,
                reason: "too many sockets for one visitor".into(),
            });
            return;
        }
        self.set_state(
            conn,
            ConnState::Ready {
                visitor: Some(visitor_id.clone()),
            },
        );
        let Some(visitor) = self.visitors.get_mut(&visitor_id) else {
            return;
        };
        let came_online = !self.directory.visitor_online(&visitor_id);
        if let Some(c) = visitor.current.as_ref().and_then(|id| self.conversations.get_mut(id)) {
            c.visitor_gone_since = None;
        }
        self.directory.add_visitor(&visitor_id, conn);
        visitor.last_seen = now;
        if page.is_some() {
            visitor.page = page.clone();
        }
        if let Some(connection) = self.connections.get_mut(&conn) {
            connection.page = page;
            // The newest tab describes the visitor.
            visitor.context = VisitorContext {
                page: connection.page.clone(),
                browser: connection.client.browser.clone(),
                os: connection.client.os.clone(),
                device: connection.device.clone(),
            };
        }
        let current = visitor.current.clone();
        let context_changed = current
            .as_ref()
            .is_some_and(|id| self.set_visitor_context(id, &visitor_id));
        let summary = current
            .as_ref()
            .and_then(|id| self.conversations.get(id))
            .map(|c| c.summary.clone());
        self.send(
            conn,
            ServerMessage::VisitorWelcome {
                protocol: PROTOCOL_VERSION,
                token,
                conversation: summary.clone().map(|mut s| {
                    s.visitor_online = true;
                    s.for_visitor()
                }),
                // What every other visitor was told (an agent who just left may
                // be back before the next tick).
                agents_available: self.announced_available,
                private_selectors: self.site.private_selectors.clone(),
            },
        );
        if let Some(summary) = summary {
            self.replay_or_synced(conn, &summary.id, after_seq, summary.last_seq);
            self.resend_share_setup(now, conn, &summary.id);
            if came_online {
                self.update_presence(&summary.id, true);
            } else if context_changed {
                self.context_to_owner(&summary.id);
            }
        }
    }

    /// Copies the visitor's context into a conversation's summary; returns whether
    /// it changed (the caller tells agents).
    fn set_visitor_context(&mut self, conversation: &ConversationId, visitor: &VisitorId) -> bool {
        let Some(context) = self.visitors.get(visitor).map(|v| v.context.clone()) else {
            return false;
        };
        let Some(c) = self.conversations.get_mut(conversation) else {
            return false;
        };
        if c.summary.visitor.as_deref() == Some(&context) {
            return false;
        }
        c.summary.visitor = Some(Box::new(context));
        true
    }

    /// Tells the owning agent that the visitor moved (a page, another tab). Only
    /// the owner: a waiting conversation is in every agent's queue, and a visitor
    /// who changes pages quickly would reach every agent with each change; other
    /// agents see the visitor's context with the summary's next change.
    fn context_to_owner(&mut self, conversation: &ConversationId) {
        if self
            .conversations
            .get(conversation)
            .is_some_and(|c| c.summary.status == ConversationStatus::Active)
        {
            self.summary_to_agents(conversation);
        }
    }

    fn replay_or_synced(&mut self, conn: ConnId, conversation: &ConversationId, after_seq: u64, last_seq: u64) {
        if after_seq < last_seq {
            let to_visitor = self.connections.get(&conn).is_none_or(|c| c.peer == Peer::Visitor);
            self.outputs.push_back(Output::Replay {
                conn,
                conversation: conversation.clone(),
                after_seq,
                upto_seq: last_seq,
                to_visitor,
            });
        } else {
            self.send(
                conn,
                ServerMessage::Synced {
                    conversation: conversation.clone(),
                    last_seq,
                },
            );
        }
    }

    fn update_presence(&mut self, conversation: &ConversationId, online: bool) {
        let Some(c) = self.conversations.get_mut(conversation) else {
            return;
        };
        if c.summary.visitor_online == online {
            return;
        }
        c.summary.visitor_online = online;
        if c.is_open() {
            let summary = c.summary.clone();
            self.notify_agents(&summary);
        }
    }

    /// Tells agents a summary changed: every agent while it is waiting (it is in
    /// everyone's queue), the owner while it is active, everyone when it closes (so
    /// that it leaves every queue).
    fn notify_agents(&mut self, summary: &ConversationSummary) {
        let audience = match (&summary.status, &summary.agent) {
            (ConversationStatus::Active, Some(_)) => Audience::AgentsOf(&summary.id),
            _ => Audience::AllAgents,
        };
        self.deliver(
            audience,
            ServerMessage::ConversationUpdated {
                conversation: summary.clone(),
            },
        );
    }

    /// Delivers a stored event to everyone in the conversation: the visitor's sockets
    /// (as [`Event::for_visitor`] makes it, or not at all) and the owning agent's
    /// (or, while waiting, nobody on the agent side: waiting conversations reach
    /// agents as summaries).
    fn broadcast_event(&mut self, conversation: &ConversationId, event: &Event) {
        if let Some(visible) = event.for_visitor() {
            self.deliver(
                Audience::VisitorOf(conversation),
                ServerMessage::Event {
                    conversation: conversation.clone(),
                    event: visible,
                },
            );
        }
        self.deliver(
            Audience::AgentsOf(conversation),
            ServerMessage::Event {
                conversation: conversation.clone(),
                event: event.clone(),
            },
        );
    }

    /// Assigns the next sequence number, stores and delivers the event.
    fn append(&mut self, now: u64, conversation: &ConversationId, kind: EventKind) -> Option<Event> {
        let c = self.conversations.get_mut(conversation)?;
        let seq = c.summary.last_seq + 1;
        c.summary.last_seq = seq;
        c.summary.last_activity_at = now;
        match &kind {
            EventKind::Message { body, .. } => c.summary.preview = Some(preview_of(body)),
            EventKind::EmailLeft { email } => c.summary.visitor_email = Some(email.clone()),
            EventKind::Identified { identity } => c.summary.visitor_identity = Some(Box::new(identity.clone())),
            EventKind::Rated { score, .. } => c.summary.rating = Some(*score),
            _ => {}
        }
        // A closed conversation's stored activity is exact (an event after the
        // close, a rating, moves it at once).
        let record_activity = now >= c.stored_activity_at.saturating_add(ACTIVITY_STORE_INTERVAL_MS)
            || (!c.is_open() && c.stored_activity_at != now);
        if record_activity {
            c.stored_activity_at = now;
        }
        let event = Event { seq, at: now, kind };
        self.persist(Persist::AppendEvent {
            conversation: conversation.clone(),
            event: event.clone(),
        });
        if record_activity {
            self.persist(Persist::RecordActivity {
                conversation: conversation.clone(),
                at: now,
            });
        }
        self.broadcast_event(conversation, &event);
        Some(event)
    }

    fn on_visitor_message(&mut self, now: u64, conn: ConnId, visitor_id: VisitorId, message: ClientMessage) -> Handled {
        let current = self.visitors.get(&visitor_id).and_then(|v| v.current.clone());
        let check_own = |named: &Option<ConversationId>| -> Handled {
            match named {
                Some(named) if Some(named) != current.as_ref() => {
                    Err(refuse(ErrorCode::Forbidden, "that conversation is not yours"))
                }
                _ => Ok(()),
            }
        };
        if let Some(v) = self.visitors.get_mut(&visitor_id) {
            v.last_seen = now;
        }
        match message {
            ClientMessage::Send {
                conversation,
                client_id,
                body,
            } => {
                check_own(&conversation)?;
                validate_client_id(&client_id)?;
                let body = normalize_body(body)?;
                if matches!(body, MessageBody::Link { .. }) {
                    return Err(refuse(ErrorCode::Forbidden, "only agents can send link cards"));
                }
                // A retry of something already stored is acknowledged again, even if
                // the conversation has closed since.
                if let Some(id) = &current {
                    if let Some(seq) = self
                        .conversations
                        .get(id)
                        .and_then(|c| c.seen(Role::Visitor, &client_id))
                    {
                        self.send(
                            conn,
                            ServerMessage::Ack {
                                conversation: id.clone(),
                                client_id,
                                seq,
                            },
                        );
                        return Ok(());
                    }
                }
                let open = current
                    .as_ref()
                    .and_then(|id| self.conversations.get(id))
                    .filter(|c| c.is_open())
                    .map(|c| c.summary.id.clone());
                let id = match open {
                    Some(id) => id,
                    None => {
                        if conversation.is_some() {
                            return Err(refuse(ErrorCode::InvalidState, "this conversation is closed"));
                        }
                        let address = self.connections.get(&conn).map(|c| c.address);
                        if let Some(address) = address {
                            if !self.take_new_conversation(now, address) {
                                self.limited(
                                    conn,
                                    LimitKind::NewConversations,
                                    "too many new conversations from your network; try again later",
                                    Some(client_id),
                                );
                                return Ok(());
                            }
                        }
                        self.start_conversation(now, &visitor_id)
                    }
                };
                self.post_message(now, conn, &id, Role::Visitor, None, client_id, body);
                Ok(())
            }
            ClientMessage::Typing { conversation, active } => {
                check_own(&conversation)?;
                let Some(c) = current.as_ref().and_then(|id| self.conversations.get(id)) else {
                    return Ok(());
                };
                if c.is_open() {
                    let id = c.summary.id.clone();
                    self.deliver(
                        Audience::AgentsOf(&id),
                        ServerMessage::Typing {
                            conversation: id.clone(),
                            from: Role::Visitor,
                            active,
                        },
                    );
                }
                Ok(())
            }
            ClientMessage::Close { conversation } => {
                check_own(&conversation)?;
                let Some(id) = current else {
                    return Err(refuse(ErrorCode::NotFound, "there is no conversation to close"));
                };
                self.close(now, &id, Role::Visitor, None)
            }
            ClientMessage::Sync {
                conversation,
                after_seq,
            } => {
                check_own(&Some(conversation.clone()))?;
                let last_seq = self
                    .conversations
                    .get(&conversation)
                    .map(|c| c.summary.last_seq)
                    .unwrap_or(0);
                self.replay_or_synced(conn, &conversation, after_seq, last_seq);
                Ok(())
            }
            ClientMessage::Ping { nonce } => {
                self.send(conn, ServerMessage::Pong { nonce });
                Ok(())
            }
            ClientMessage::ShareProgress { share, step, detail } => {
                let Some(id) = current else {
                    return Err(refuse(ErrorCode::NotFound, "there is no screen share"));
                };
                self.share_progress(now, &id, &share, step, detail)
            }
            ClientMessage::ShareEnd { share } => {
                let Some(id) = current else {
                    return Err(refuse(ErrorCode::NotFound, "there is no screen share"));
                };
                self.check_share(&id, &share)?;
                self.end_share(
                    now,
                    &id,
                    (Step::Stop, Role::Visitor),
                    None,
                    "the visitor stopped sharing",
                );
                Ok(())
            }
            ClientMessage::ShareSignal { share, signal } => {
                let Some(id) = current else {
                    return Err(refuse(ErrorCode::NotFound, "there is no screen share"));
                };
                self.relay_signal(conn, &id, &share, Role::Visitor, signal)
            }
            ClientMessage::ShareKeyRedeem { key } => self.redeem_key(now, conn, &visitor_id, key),
            ClientMessage::GrantStep { grant, step, detail } => {
                self.visitor_grant_step(now, current.as_ref(), &grant, step, detail)?;
                if let (Some(id), sightline_proto::GrantStep::Start) = (&current, step) {
                    if self.is_cobrowse(id, |g| g.id == grant) {
                        self.cobrowse_page_viewed(now, id, conn);
                    }
                }
                Ok(())
            }
            ClientMessage::GrantEnd { grant } => {
                self.visitor_grant_step(now, current.as_ref(), &grant, sightline_proto::GrantStep::Stop, None)
            }
            ClientMessage::ScreenshotEnd { request } => self.decline_screenshot(now, current.as_ref(), &request),
            ClientMessage::StreamJoin { stream } => {
                self.join_stream(now, conn, &stream, Party::Visitor(visitor_id))?;
                // The co-browsing tab asks on every page it opens (a join of
                // another capability's stream is not co-browsing).
                if let Some(id) = &current {
                    if self.is_cobrowse(id, |g| g.stream.as_ref() == Some(&stream)) {
                        self.cobrowse_page_viewed(now, id, conn);
                    }
                }
                Ok(())
            }
            ClientMessage::PageChanged { page } => {
                validate_page(&page)?;
                if !url::Url::parse(&page.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                    return Err(refuse(ErrorCode::BadRequest, "a page is an http or https URL"));
                }
                if let Some(k) = self.connections.get_mut(&conn) {
                    k.page = Some(page.clone());
                }
                // Agents follow the visitor's page as they move, and a conversation
                // the visitor starts now starts on this page.
                if let Some(v) = self.visitors.get_mut(&visitor_id) {
                    v.page = Some(page.clone());
                    v.context.page = Some(page);
                }
                if let Some(id) = &current {
                    if self.set_visitor_context(id, &visitor_id) {
                        self.context_to_owner(id);
                    }
                }
                // Only the tab being mirrored adds to the transcript.
                if let Some(id) = &current {
                    if self.conversations.get(id).and_then(|c| c.cobrowse_conn) == Some(conn) {
                        self.cobrowse_page_viewed(now, id, conn);
                    }
                }
                Ok(())
            }
            ClientMessage::ControlReport { grant, action } => {
                self.control_report(now, current.as_ref(), &grant, action)
            }
            ClientMessage::LeaveEmail { email } => self.leave_email(now, current.as_ref(), &email),
            ClientMessage::Rate {
                conversation,
                score,
                comment,
            } => self.rate(now, current.as_ref(), conversation.as_ref(), score, comment),
            ClientMessage::Identify {
                id,
                name,
                email,
                signature,
            } => {
                let identity = check_identity(
                    self.identity_secret.as_ref(),
                    &id,
                    name.as_deref(),
                    email.as_deref(),
                    &signature,
                )
                .map_err(|refused| match refused {
                    IdentityRefused::NotConfigured => refuse(
                        ErrorCode::Forbidden,
                        "identify is off: the server has no identity_secret configured",
                    ),
                    IdentityRefused::Forged => refuse(
                        ErrorCode::Forbidden,
                        "the identity's signature does not match its id (HMAC-SHA256 with the identity_secret)",
                    ),
                    IdentityRefused::Invalid(invalid) => invalid.into(),
                })?;
                self.identify(now, conn, &visitor_id, current.as_ref(), identity)
            }
            ClientMessage::Accept { .. }
            | ClientMessage::ShareInvite { .. }
            | ClientMessage::ScreenshotAsk { .. }
            | ClientMessage::ShareKeyCreate { .. }
            | ClientMessage::PushPage { .. }
            | ClientMessage::SetAway { .. }
            | ClientMessage::Note { .. }
            | ClientMessage::ListAgents
            | ClientMessage::Transfer { .. }
            | ClientMessage::Invite { .. }
            | ClientMessage::Uninvite { .. }
            | ClientMessage::Leave { .. }
            | ClientMessage::GrantAsk { .. } => Err(refuse(ErrorCode::Forbidden, "only agents can do that")),
            ClientMessage::VisitorHello { .. } | ClientMessage::AgentHello { .. } => {
                Err(refuse(ErrorCode::BadRequest, "already said hello"))
            }
        }
    }

    /// Records whether a connected agent is away; returns whether that changed.
    fn set_away(&mut self, agent: AgentId, away: bool) -> bool {
        if away {
            self.away.insert(agent)
        } else {
            self.away.remove(&agent)
        }
    }

    /// Whether any agent is available to visitors: within office hours, and at
    /// least one connected agent is not away.
    fn agents_available(&self) -> bool {
        self.office_open && self.directory.connected_agents().any(|a| !self.away.contains(&a))
    }

    /// Tells every visitor socket when [`Hub::agents_available`] changed since they
    /// were last told (a welcome carries it too).
    fn announce_availability(&mut self) {
        let available = self.agents_available();
        if available != self.announced_available {
            self.announced_available = available;
            self.deliver(
                Audience::AllVisitors,
                ServerMessage::Availability {
                    agents_available: available,
                },
            );
        }
    }

    /// A visitor's checked identity: theirs from now on, and their open
    /// conversation's (or, with none open, their next one's: see
    /// [`Hub::store_identity`]).
    fn identify(
        &mut self,
        now: u64,
        conn: ConnId,
        visitor_id: &VisitorId,
        current: Option<&ConversationId>,
        identity: VisitorIdentity,
    ) -> Handled {
        // One browser's visitor is one user: the widget starts a new visitor when
        // another user is identified (or the site calls `reset`), so another id here
        // is a stale tab of the one before, which must not relabel this visitor's
        // conversation (nor see it as theirs).
        let known = self
            .visitors
            .get(visitor_id)
            .and_then(|v| v.identity.as_ref().map(|i| i.id.clone()));
        let on_conversation = current
            .and_then(|id| self.conversations.get(id))
            .filter(|c| c.is_open())
            .and_then(|c| c.summary.visitor_identity.as_ref().map(|i| i.id.clone()));
        if known.or(on_conversation).is_some_and(|before| before != identity.id) {
            return Err(refuse(
                ErrorCode::InvalidState,
                "this visitor is identified as another user: call Sightline(\"reset\") when a user logs out",
            ));
        }
        if let Some(id) = current.filter(|id| self.conversations.get(*id).is_some_and(Conversation::is_open)) {
            let c = self.conversations.get(id);
            let changed = c.is_some_and(|c| c.summary.visitor_identity.as_deref() != Some(&identity));
            if changed && c.is_some_and(|c| c.identities >= MAX_IDENTITIES) {
                return Err(refuse(
                    ErrorCode::RateLimited,
                    "that is enough identities for one conversation",
                ));
            }
        }
        if let Some(v) = self.visitors.get_mut(visitor_id) {
            v.identity = Some(identity.clone());
        }
        if let Some(id) = current.cloned() {
            self.store_identity(now, &id, visitor_id);
        }
        self.send(conn, ServerMessage::Identified { identity });
        Ok(())
    }

    /// Stores the visitor's identity on their open conversation `id` when it does
    /// not have it yet, and tells its agents.
    fn store_identity(&mut self, now: u64, id: &ConversationId, visitor_id: &VisitorId) {
        let Some(identity) = self.visitors.get(visitor_id).and_then(|v| v.identity.clone()) else {
            return;
        };
        let Some(c) = self.conversations.get_mut(id).filter(|c| c.is_open()) else {
            return;
        };
        if c.summary.visitor_identity.as_deref() == Some(&identity) || c.identities >= MAX_IDENTITIES {
            return;
        }
        c.identities += 1;
        self.persist(Persist::SetIdentity {
            conversation: id.clone(),
            identity_id: identity.id.clone(),
        });
        self.append(now, id, EventKind::Identified { identity });
        if let Some(summary) = self.conversations.get(id).map(|c| c.summary.clone()) {
            self.notify_agents(&summary);
        }
    }

    /// A visitor leaves an e-mail address on their open conversation.
    fn leave_email(&mut self, now: u64, current: Option<&ConversationId>, email: &str) -> Handled {
        let email = normalize_email(email)?;
        let Some(id) = current
            .filter(|id| self.conversations.get(*id).is_some_and(Conversation::is_open))
            .cloned()
        else {
            return Err(refuse(
                ErrorCode::InvalidState,
                "write a message first: the address is kept with your conversation",
            ));
        };
        let Some(c) = self.conversations.get_mut(&id) else {
            return Ok(());
        };
        if c.summary.visitor_email.as_deref() == Some(email.as_str()) {
            return Ok(());
        }
        if c.emails_left >= MAX_EMAILS_LEFT {
            return Err(refuse(
                ErrorCode::RateLimited,
                "that is enough addresses for one conversation; the newest one counts",
            ));
        }
        c.emails_left += 1;
        self.append(now, &id, EventKind::EmailLeft { email });
        if let Some(summary) = self.conversations.get(&id).map(|c| c.summary.clone()) {
            self.notify_agents(&summary);
        }
        Ok(())
    }

    /// A visitor rates their conversation (`named`, or their current one) once it
    /// is closed, once (see [`policy::visitor_may_rate`]). Stored as an event
    /// both sides receive; the owner's console also gets the summary's score.
    fn rate(
        &mut self,
        now: u64,
        current: Option<&ConversationId>,
        named: Option<&ConversationId>,
        score: u8,
        comment: Option<String>,
    ) -> Handled {
        let (score, comment) = normalize_rating(score, comment)?;
        let c = current.and_then(|id| self.conversations.get(id));
        // Naming a conversation that is not theirs is refused as such, whether or
        // not they have one.
        let own = named.is_none_or(|named| c.is_some_and(|c| *named == c.summary.id));
        let (status, rated) = match c {
            Some(c) => (c.summary.status, c.summary.rating.is_some()),
            None if own => return Err(refuse(ErrorCode::NotFound, "there is no conversation to rate")),
            None => (ConversationStatus::Closed, false),
        };
        policy::visitor_may_rate(own, status, rated).map_err(|denied| match denied {
            Denied::State(why) => refuse(ErrorCode::InvalidState, why),
            // visitor_may_rate gives only these two; the agents' refusals would say the same.
            Denied::NotYours | Denied::TakenBy | Denied::Observing | Denied::OwnerOnly | Denied::NotInvited => {
                refuse(ErrorCode::Forbidden, "that conversation is not yours")
            }
        })?;
        let Some(id) = c.map(|c| c.summary.id.clone()) else {
            return Err(refuse(ErrorCode::NotFound, "there is no conversation to rate"));
        };
        self.append(now, &id, EventKind::Rated { score, comment });
        self.summary_to_agents(&id);
        Ok(())
    }

    /// See [`Input::AgentRenamed`]. Closed conversations keep the name they were
    /// handled under.
    fn rename_agent(&mut self, agent: AgentRef) {
        self.keys.rename_agent(&agent);
        for connection in self.connections.values_mut() {
            if let Peer::Agent(identity) = &mut connection.peer {
                if identity.agent.id == agent.id {
                    identity.agent.clone_from(&agent);
                }
            }
        }
        let owned: Vec<(ConversationId, ConversationStatus, u64)> = self
            .conversations
            .iter_mut()
            .filter(|(_, c)| {
                c.summary.status != ConversationStatus::Closed
                    && c.summary
                        .agent
                        .as_ref()
                        .is_some_and(|a| a.id == agent.id && *a != agent)
            })
            .map(|(id, c)| {
                c.summary.agent = Some(agent.clone());
                // What the store holds (0 after a restore until the next event:
                // then the newest event's time, which is what a read derives).
                let stored_activity = c.stored_activity_at.max(c.summary.last_activity_at);
                c.stored_activity_at = stored_activity;
                (id.clone(), c.summary.status, stored_activity)
            })
            .collect();
        // Where they are invited, the invitees' list shows the new name (live
        // state: nothing to store).
        let invited: Vec<ConversationId> = self
            .conversations
            .iter_mut()
            .filter(|(_, c)| c.is_open())
            .filter_map(|(id, c)| {
                let invitee = c
                    .summary
                    .invitees
                    .iter_mut()
                    .find(|i| i.agent.id == agent.id && i.agent != agent)?;
                invitee.agent.clone_from(&agent);
                Some(id.clone())
            })
            .collect();
        for conversation in invited {
            self.summary_to_agents(&conversation);
        }
        for (conversation, status, stored_activity_at) in owned {
            // The stored activity stays where it is: a new name is no activity.
            self.persist(Persist::SetStatus {
                conversation: conversation.clone(),
                status,
                agent: Some(agent.clone()),
                at: stored_activity_at,
            });
            self.summary_to_agents(&conversation);
        }
    }

    /// Makes `agent` the owner of an (until now waiting) conversation, and stores it.
    fn assign(&mut self, now: u64, conversation: &ConversationId, agent: &AgentRef) {
        if let Some(c) = self.conversations.get_mut(conversation) {
            c.summary.status = ConversationStatus::Active;
            c.summary.agent = Some(agent.clone());
            c.stored_activity_at = now;
        }
        self.persist(Persist::SetStatus {
            conversation: conversation.clone(),
            status: ConversationStatus::Active,
            agent: Some(agent.clone()),
            at: now,
        });
    }

    /// Takes one new conversation from the address's allowance.
    fn take_new_conversation(&mut self, now: u64, address: IpAddr) -> bool {
        self.addresses
            .get(&self.limits, address, now)
            .new_conversations
            .try_take(now)
    }

    /// A visitor's first message opens a waiting conversation.
    fn start_conversation(&mut self, now: u64, visitor_id: &VisitorId) -> ConversationId {
        let id = self.open_conversation(now, visitor_id);
        let page = self.conversations.get(&id).and_then(|c| c.summary.page.clone());
        self.append(now, &id, EventKind::Started { page });
        self.store_identity(now, &id, visitor_id);
        id
    }

    /// Creates (and stores) an empty waiting conversation as the visitor's current
    /// one. The caller appends its first events.
    fn open_conversation(&mut self, now: u64, visitor_id: &VisitorId) -> ConversationId {
        let id = ConversationId::from(self.random_id(16));
        let Some(visitor) = self.visitors.get_mut(visitor_id) else {
            return id;
        };
        let persist_visitor = (!visitor.persisted).then(|| Persist::CreateVisitor {
            id: visitor_id.clone(),
            token_hash: visitor.token_hash.clone(),
            created_at: now,
        });
        visitor.persisted = true;
        visitor.current = Some(id.clone());
        let page = visitor.page.clone();
        let context = visitor.context.clone();
        let online = self.directory.visitor_online(visitor_id);
        if let Some(op) = persist_visitor {
            self.persist(op);
        }
        self.persist(Persist::CreateConversation {
            id: id.clone(),
            visitor_id: visitor_id.clone(),
            created_at: now,
            page: page.clone(),
        });
        self.conversations.insert(
            id.clone(),
            Conversation {
                summary: ConversationSummary {
                    id: id.clone(),
                    status: ConversationStatus::Waiting,
                    agent: None,
                    created_at: now,
                    last_seq: 0,
                    last_activity_at: now,
                    preview: None,
                    page,
                    visitor_online: online,
                    share: None,
                    grants: Vec::new(),
                    visitor_email: None,
                    screenshot: None,
                    rating: None,
                    visitor_identity: None,
                    visitor: Some(Box::new(context)),
                    invitees: Vec::new(),
                },
                visitor: visitor_id.clone(),
                recent: recent::RecentIds::default(),
                share: None,
                grants: BTreeMap::new(),
                visitor_gone_since: None,
                cobrowse_page: None,
                cobrowse_conn: None,
                emails_left: 0,
                identities: 0,
                stored_activity_at: now,
                invites: None,
            },
        );
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn post_message(
        &mut self,
        now: u64,
        conn: ConnId,
        conversation: &ConversationId,
        from: Role,
        agent: Option<AgentRef>,
        client_id: String,
        body: MessageBody,
    ) {
        let Some(seq) = self.append_message(now, conversation, from, agent, client_id.clone(), body) else {
            return;
        };
        self.send(
            conn,
            ServerMessage::Ack {
                conversation: conversation.clone(),
                client_id,
                seq,
            },
        );
    }

    /// Appends a message, remembers its client id and tells the agents of a waiting
    /// conversation. The sequence number, or `None` for an unknown conversation.
    fn append_message(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        from: Role,
        agent: Option<AgentRef>,
        client_id: String,
        body: MessageBody,
    ) -> Option<u64> {
        let kind = EventKind::Message {
            from,
            agent,
            client_id: client_id.clone(),
            body,
        };
        let event = self.append(now, conversation, kind)?;
        if let Some(c) = self.conversations.get_mut(conversation) {
            c.remember(from, client_id, event.seq);
            if c.summary.status == ConversationStatus::Waiting {
                let summary = c.summary.clone();
                self.notify_agents(&summary);
            }
        }
        Some(event.seq)
    }

    fn close(&mut self, now: u64, id: &ConversationId, by: Role, agent: Option<AgentRef>) -> Handled {
        let Some(c) = self.conversations.get_mut(id) else {
            return Err(refuse(ErrorCode::NotFound, "no such conversation"));
        };
        if !c.is_open() {
            return Err(refuse(ErrorCode::InvalidState, "the conversation is already closed"));
        }
        let previous_owner = c.summary.agent.clone();
        let was_waiting = c.summary.status == ConversationStatus::Waiting;
        self.end_share(now, id, (Step::End, by), agent.clone(), "the conversation was closed");
        self.end_grants(now, id, (by, agent.clone()), "the conversation was closed");
        self.finish_screenshot(now, id, sightline_proto::ScreenshotState::Ended);
        let invited = self.end_invitations(now, id);
        let Some(c) = self.conversations.get_mut(id) else {
            return Err(refuse(ErrorCode::NotFound, "no such conversation"));
        };
        c.summary.status = ConversationStatus::Closed;
        c.stored_activity_at = now;
        self.persist(Persist::SetStatus {
            conversation: id.clone(),
            status: ConversationStatus::Closed,
            agent: previous_owner.clone(),
            at: now,
        });
        self.append(now, id, EventKind::Closed { by, agent });
        if let Some(c) = self.conversations.get(id) {
            let summary = c.summary.clone();
            // Who knew of it: every agent while it was waiting (it leaves every
            // queue), only its agent once it was taken (others never saw it).
            let audience = match (&previous_owner, was_waiting) {
                (Some(_), false) => Audience::AgentsOf(id),
                _ => Audience::AllAgents,
            };
            let update = ServerMessage::ConversationUpdated { conversation: summary };
            // The invitees' consoles close it too (they are no longer its agents).
            if matches!(audience, Audience::AgentsOf(_)) {
                for agent in invited {
                    self.deliver(Audience::Agent(agent), update.clone());
                }
            }
            self.deliver(audience, update);
        }
        Ok(())
    }

    fn on_agent_message(&mut self, now: u64, conn: ConnId, identity: AgentIdentity, message: ClientMessage) -> Handled {
        // What the agent may use is checked before anything else about the request:
        // the console hides what they may not, but the server decides.
        match &message {
            ClientMessage::ShareInvite { .. } => self.check_may_use(&identity, Permission::ScreenShare)?,
            ClientMessage::GrantAsk { capability, .. } => {
                self.check_may_use(&identity, Permission::for_capability(*capability))?;
            }
            ClientMessage::ShareKeyCreate { capability } => {
                self.check_may_use(&identity, Permission::SessionKeys)?;
                let asks_for = capability.unwrap_or(sightline_proto::Capability::ScreenShare);
                self.check_may_use(&identity, Permission::for_capability(asks_for))?;
            }
            _ => {}
        }
        match message {
            ClientMessage::Transfer { conversation, to, note } => {
                return self.transfer(now, &identity, conversation, to, note)
            }
            ClientMessage::Invite {
                conversation,
                agent,
                role,
                note,
            } => return self.invite(now, &identity, conversation, agent, role, note),
            ClientMessage::Uninvite { conversation, agent } => {
                return self.uninvite(now, &identity, conversation, agent)
            }
            ClientMessage::Leave { conversation } => return self.leave(now, &identity, conversation),
            _ => {}
        }
        let me = identity.agent;
        match message {
            ClientMessage::Accept { conversation } => {
                let c = self.conversation_for_agent(&conversation)?;
                if Self::agent_may(c, &me, AgentAction::Accept)? == Decision::AlreadyDone {
                    // Accepting twice (two tabs, a retry) is harmless.
                    let summary = c.summary.clone();
                    self.send(conn, ServerMessage::ConversationUpdated { conversation: summary });
                    return Ok(());
                }
                self.assign(now, &conversation, &me);
                self.append(now, &conversation, EventKind::AgentJoined { agent: me.clone() });
                // Everyone: the owner to show it as theirs, the others to drop it
                // from their queue.
                if let Some(summary) = self.conversations.get(&conversation).map(|c| c.summary.clone()) {
                    self.deliver(
                        Audience::AllAgents,
                        ServerMessage::ConversationUpdated { conversation: summary },
                    );
                }
                Ok(())
            }
            ClientMessage::Send {
                conversation,
                client_id,
                body,
            } => {
                let Some(conversation) = conversation else {
                    return Err(refuse(ErrorCode::BadRequest, "agents must name the conversation"));
                };
                validate_client_id(&client_id)?;
                let body = normalize_body(body)?;
                let c = self.conversation_for_agent(&conversation)?;
                // A retry is acknowledged again (even once the conversation has
                // closed), but only to an agent who writes in it: anyone else is
                // refused before learning anything of it.
                let writes = Self::writes_in(c, &me);
                if let Some(seq) = c.seen(Role::Agent, &client_id).filter(|_| writes) {
                    self.send(
                        conn,
                        ServerMessage::Ack {
                            conversation,
                            client_id,
                            seq,
                        },
                    );
                    return Ok(());
                }
                Self::check_may_write(c, &me)?;
                self.post_message(now, conn, &conversation, Role::Agent, Some(me), client_id, body);
                Ok(())
            }
            ClientMessage::Typing { conversation, active } => {
                let Some(conversation) = conversation else {
                    return Err(refuse(ErrorCode::BadRequest, "agents must name the conversation"));
                };
                let c = self.conversation_for_agent(&conversation)?;
                Self::check_may_write(c, &me)?;
                self.deliver(
                    Audience::VisitorOf(&conversation),
                    ServerMessage::Typing {
                        conversation: conversation.clone(),
                        from: Role::Agent,
                        active,
                    },
                );
                Ok(())
            }
            ClientMessage::Close { conversation } => {
                let Some(conversation) = conversation else {
                    return Err(refuse(ErrorCode::BadRequest, "agents must name the conversation"));
                };
                let c = self.conversation_for_agent(&conversation)?;
                Self::agent_may(c, &me, AgentAction::Close)?;
                self.close(now, &conversation, Role::Agent, Some(me))
            }
            ClientMessage::Sync {
                conversation,
                after_seq,
            } => {
                let c = self.conversation_for_agent(&conversation)?;
                Self::agent_may(c, &me, AgentAction::Read)?;
                let last_seq = c.summary.last_seq;
                let owner = c.summary.agent.as_ref().is_some_and(|a| a.id == me.id);
                self.replay_or_synced(conn, &conversation, after_seq, last_seq);
                // The share's setup (TURN credentials) is for the owner's console only.
                if owner {
                    self.resend_share_setup(now, conn, &conversation);
                }
                Ok(())
            }
            ClientMessage::Ping { nonce } => {
                self.send(conn, ServerMessage::Pong { nonce });
                Ok(())
            }
            ClientMessage::ShareInvite { conversation, message } => {
                let c = self.conversation_for_agent(&conversation)?;
                Self::check_owner(c, &me)?;
                self.invite_to_share(now, &conversation, me, message)
            }
            ClientMessage::ShareEnd { share } => {
                let id = self.conversation_of_share_for_agent(&share, &me)?;
                self.end_share(
                    now,
                    &id,
                    (Step::Withdraw, Role::Agent),
                    Some(me),
                    "the agent ended the screen share",
                );
                Ok(())
            }
            ClientMessage::ShareSignal { share, signal } => {
                let id = self.conversation_of_share_for_agent(&share, &me)?;
                self.relay_signal(conn, &id, &share, Role::Agent, signal)
            }
            ClientMessage::ShareKeyCreate { capability } => self.create_key(now, conn, me, capability),
            ClientMessage::GrantAsk {
                conversation,
                capability,
                message,
            } => self.ask_grant(now, &conversation, capability, me, message),
            ClientMessage::GrantEnd { grant } => self.agent_grant_end(now, &grant, me),
            ClientMessage::ScreenshotAsk { conversation, message } => {
                let c = self.conversation_for_agent(&conversation)?;
                Self::check_owner(c, &me)?;
                self.ask_screenshot(now, &conversation, me, message)
            }
            ClientMessage::ScreenshotEnd { request } => self.withdraw_screenshot(now, &request, me),
            ClientMessage::StreamJoin { stream } => self.join_stream(now, conn, &stream, Party::Agent(me.id)),
            ClientMessage::PushPage { conversation, url } => self.push_page(now, &conversation, me, url),
            ClientMessage::Note {
                conversation,
                client_id,
                text,
            } => self.write_note(now, conn, me, conversation, client_id, text),
            ClientMessage::ListAgents => {
                self.list_agents(conn);
                Ok(())
            }
            // Handled above, with the whole identity (an admin may hand over
            // and invite).
            ClientMessage::Transfer { .. }
            | ClientMessage::Invite { .. }
            | ClientMessage::Uninvite { .. }
            | ClientMessage::Leave { .. } => Ok(()),
            ClientMessage::SetAway { away } => {
                let recent = self
                    .away_switched
                    .get(&me.id)
                    .is_some_and(|&at| now.saturating_sub(at) < AWAY_SWITCH_MS);
                if recent && self.away.contains(&me.id) != away {
                    return Err(refuse(
                        ErrorCode::RateLimited,
                        "you switched between away and available a moment ago; try again in a second",
                    ));
                }
                if self.set_away(me.id, away) {
                    self.away_switched.insert(me.id, now);
                    self.deliver(Audience::Agent(me.id), ServerMessage::AwayChanged { away });
                    self.announce_availability();
                }
                Ok(())
            }
            ClientMessage::ShareProgress { .. }
            | ClientMessage::ShareKeyRedeem { .. }
            | ClientMessage::PageChanged { .. }
            | ClientMessage::ControlReport { .. }
            | ClientMessage::LeaveEmail { .. }
            | ClientMessage::Identify { .. }
            | ClientMessage::Rate { .. }
            | ClientMessage::GrantStep { .. } => Err(refuse(ErrorCode::Forbidden, "only the visitor can do that")),
            ClientMessage::VisitorHello { .. } | ClientMessage::AgentHello { .. } => {
                Err(refuse(ErrorCode::BadRequest, "already said hello"))
            }
        }
    }

    fn conversation_for_agent(&self, id: &ConversationId) -> Result<&Conversation, Refusal> {
        self.conversations.get(id).ok_or_else(|| {
            refuse(
                ErrorCode::NotFound,
                "no such open conversation (see the history for old ones)",
            )
        })
    }

    /// Whether `me` may do `action` with the conversation (`policy::agent_may`),
    /// as a protocol error when not.
    fn agent_may(c: &Conversation, me: &AgentRef, action: AgentAction) -> Result<Decision, Refusal> {
        let owner = c.summary.agent.as_ref();
        let standing = policy::standing(owner.map(|a| a.id), &c.summary.invitees, me.id);
        match policy::agent_may(action, c.summary.status, standing) {
            Decision::Denied(denied @ (Denied::Observing | Denied::OwnerOnly | Denied::NotInvited)) => {
                Err(Self::standing_refusal(c, denied)
                    .unwrap_or_else(|| refuse(ErrorCode::Forbidden, "that conversation is another agent's")))
            }
            Decision::Denied(Denied::NotYours) => {
                Err(refuse(ErrorCode::Forbidden, "that conversation is another agent's"))
            }
            Decision::Denied(Denied::State(why)) => Err(refuse(ErrorCode::InvalidState, why)),
            Decision::Denied(Denied::TakenBy) => Err(refuse(
                ErrorCode::InvalidState,
                format!(
                    "{} has already accepted this conversation",
                    owner.map_or("another agent", |a| a.display_name.as_str())
                ),
            )),
            decision => Ok(decision),
        }
    }

    /// Only the owner of an active conversation asks the visitor for anything
    /// (a share, co-browsing, control, a screenshot, a page).
    fn check_owner(c: &Conversation, me: &AgentRef) -> Handled {
        Self::agent_may(c, me, AgentAction::Ask).map(|_| ())
    }

    /// The owner of an active conversation and its participants write in it.
    fn check_may_write(c: &Conversation, me: &AgentRef) -> Handled {
        Self::agent_may(c, me, AgentAction::Write).map(|_| ())
    }

    /// Whether `me` may write in the conversation (for acknowledging a retry).
    fn writes_in(c: &Conversation, me: &AgentRef) -> bool {
        Self::agent_may(c, me, AgentAction::Write).is_ok()
    }

    fn on_disconnected(&mut self, now: u64, conn: ConnId) {
        let Some(connection) = self.connections.remove(&conn) else {
            return;
        };
        match (connection.peer, connection.state) {
            (Peer::Agent(identity), _) => {
                for share in self.conversations.values_mut().filter_map(|c| c.share.as_mut()) {
                    if share.agent_conn == Some(conn) {
                        share.agent_conn = None;
                    }
                }
                self.directory.remove_agent(identity.agent.id, conn);
                if !self.directory.agent_online(identity.agent.id) {
                    self.away.remove(&identity.agent.id);
                    self.away_switched.remove(&identity.agent.id);
                }
                // Not announced now: an agent who reloads the console is back in a
                // moment, and visitors should not see "nobody is available" flicker.
                // The next tick (within a minute) tells them if nobody came back.
            }
            (
                Peer::Visitor,
                ConnState::Ready {
                    visitor: Some(visitor_id),
                },
            ) => {
                let Some(visitor) = self.visitors.get_mut(&visitor_id) else {
                    return;
                };
                let was_last = self.directory.remove_visitor(&visitor_id, conn);
                visitor.last_seen = now;
                if was_last && !visitor.persisted && visitor.current.is_none() {
                    // Never chatted, nothing stored: nothing to come back to. A later
                    // hello with this token starts a fresh identity, so a flood of
                    // page views holds no memory once its sockets are gone.
                    let token_hash = visitor.token_hash.clone();
                    self.visitors.remove(&visitor_id);
                    self.visitors_by_token.remove(&token_hash);
                    return;
                }
                if was_last {
                    if let Some(current) = visitor.current.clone() {
                        if let Some(c) = self.conversations.get_mut(&current) {
                            c.visitor_gone_since = Some(now);
                        }
                        self.update_presence(&current, false);
                    }
                }
            }
            (Peer::Visitor, _) => {}
        }
    }

    /// Forgets visitors who have been gone a while and have nothing open, with their
    /// closed conversations. Storage has them; a returning visitor is looked up.
    fn evict_idle(&mut self, now: u64) {
        let idle: Vec<VisitorId> = self
            .visitors
            .iter()
            .filter(|(id, v)| {
                !self.directory.visitor_online(id)
                    && now.saturating_sub(v.last_seen) >= VISITOR_IDLE_EVICT_MS
                    && !v
                        .current
                        .as_ref()
                        .and_then(|id| self.conversations.get(id))
                        .is_some_and(Conversation::is_open)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in idle {
            if let Some(visitor) = self.visitors.remove(&id) {
                self.visitors_by_token.remove(&visitor.token_hash);
                if let Some(current) = visitor.current {
                    self.conversations.remove(&current);
                }
            }
        }
        // Closed conversations that are no visitor's current one are history only.
        let visitors = &self.visitors;
        self.conversations.retain(|_, c| {
            c.is_open()
                || visitors
                    .get(&c.visitor)
                    .is_some_and(|v| v.current.as_ref() == Some(&c.summary.id))
        });
    }
}
