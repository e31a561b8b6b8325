//! A tiny in-memory "shell" that applies persists and answers replays and
//! look-ups the way the real server does, for scenario tests.
#![allow(dead_code)]

use sightline_core::records::{NewImage, Persist, VisitorId};
use sightline_core::{
    AgentIdentity, ConnId, Hub, ImagePosted, Input, LimitKind, Output, Peer, Refused, ShareSettings, StreamGrant,
};
use sightline_proto::{
    AgentId, AgentRef, ClientMessage, ConversationId, ConversationStatus, ErrorCode, Event, MessageBody, ServerMessage,
    StreamId, PROTOCOL_VERSION,
};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

pub const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[derive(Default)]
pub struct Shell {
    /// What a database would hold.
    pub events: BTreeMap<ConversationId, Vec<Event>>,
    pub visitors: Vec<(VisitorId, String)>,
    pub statuses: BTreeMap<ConversationId, ConversationStatus>,
    /// The agent stored with each conversation's newest status.
    pub owners: BTreeMap<ConversationId, Option<AgentRef>>,
    /// Everything delivered, per connection.
    pub inbox: BTreeMap<ConnId, Vec<ServerMessage>>,
    pub lookups: Vec<(ConnId, String)>,
    pub disconnected: Vec<ConnId>,
    /// Image metadata stored, with its conversation.
    pub images: Vec<(ConversationId, NewImage)>,
    /// Answers to image posts, by request number.
    pub posted: Vec<(u64, Result<ImagePosted, Refused>)>,
    /// Limits that refused something, in order.
    pub limited: Vec<(LimitKind, IpAddr)>,
    /// What a relay would hold: live streams and their tokens.
    pub streams: BTreeMap<StreamId, StreamGrant>,
    /// Every stream granted and revoked, in order.
    pub stream_log: Vec<(StreamId, bool)>,
}

pub struct World {
    pub hub: Hub,
    pub shell: Shell,
    pub now: u64,
}

pub fn text(s: &str) -> MessageBody {
    MessageBody::Text { text: s.into() }
}

pub fn agent(id: i64, name: &str) -> AgentIdentity {
    AgentIdentity {
        agent: AgentRef {
            id: AgentId(id),
            display_name: name.into(),
            colour: None,
        },
        is_admin: false,
        permissions: sightline_proto::Permissions::ALL,
    }
}

impl World {
    pub fn new() -> Self {
        Self::with_settings(ShareSettings::default())
    }

    pub fn with_settings(settings: ShareSettings) -> Self {
        World {
            hub: Hub::new([7; 32], settings),
            shell: Shell::default(),
            now: 1_700_000_000_000,
        }
    }

    pub fn input(&mut self, input: Input) {
        self.hub.handle(self.now, input);
        self.drain();
    }

    pub fn drain(&mut self) {
        let mut batch = Vec::new();
        while let Some(out) = self.hub.poll_output() {
            batch.push(out);
        }
        // Store first, then deliver: the same order the server keeps.
        for out in &batch {
            if let Output::Persist(op) = out {
                match op {
                    Persist::CreateVisitor { id, token_hash, .. } => {
                        self.shell.visitors.push((id.clone(), token_hash.clone()))
                    }
                    Persist::CreateConversation { id, .. } => {
                        self.shell.events.entry(id.clone()).or_default();
                        self.shell.statuses.insert(id.clone(), ConversationStatus::Waiting);
                    }
                    Persist::AppendEvent { conversation, event } => {
                        let log = self.shell.events.entry(conversation.clone()).or_default();
                        assert_eq!(event.seq, log.len() as u64 + 1, "sequence numbers are gap-free");
                        log.push(event.clone());
                    }
                    Persist::RecordActivity { .. } | Persist::SetIdentity { .. } => {}
                    Persist::SetStatus {
                        conversation,
                        status,
                        agent,
                        ..
                    } => {
                        self.shell.statuses.insert(conversation.clone(), *status);
                        self.shell.owners.insert(conversation.clone(), agent.clone());
                    }
                    Persist::CreateImage {
                        conversation, image, ..
                    } => {
                        self.shell.images.push((conversation.clone(), image.clone()));
                    }
                }
            }
        }
        for out in batch {
            match out {
                Output::Persist(_) => {}
                Output::Send { conn, message } => self.shell.inbox.entry(conn).or_default().push(message),
                Output::Replay {
                    conn,
                    conversation,
                    after_seq,
                    upto_seq,
                    to_visitor,
                } => {
                    let events: Vec<_> = self.shell.events[&conversation]
                        .iter()
                        .filter(|e| e.seq > after_seq && e.seq <= upto_seq)
                        .filter_map(|e| if to_visitor { e.for_visitor() } else { Some(e.clone()) })
                        .collect();
                    let inbox = self.shell.inbox.entry(conn).or_default();
                    for event in events {
                        inbox.push(ServerMessage::Event {
                            conversation: conversation.clone(),
                            event,
                        });
                    }
                    inbox.push(ServerMessage::Synced {
                        conversation,
                        last_seq: upto_seq,
                    });
                }
                Output::LookupVisitor { conn, token, .. } => self.shell.lookups.push((conn, token)),
                Output::Disconnect { conn, .. } => self.shell.disconnected.push(conn),
                Output::ImagePosted { request, result } => self.shell.posted.push((request, result)),
                Output::Limited { limit, address } => self.shell.limited.push((limit, address)),
                Output::StreamGrant(grant) => {
                    self.shell.stream_log.push((grant.stream.clone(), true));
                    self.shell.streams.insert(grant.stream.clone(), grant);
                }
                Output::StreamToken { stream, token } => {
                    if let Some(grant) = self.shell.streams.get_mut(&stream) {
                        grant.tokens.push(token);
                    }
                }
                Output::StreamRevoke { stream } => {
                    self.shell.stream_log.push((stream.clone(), false));
                    self.shell.streams.remove(&stream);
                }
            }
        }
    }

    // Scenario tests number their sockets with plain integers: the helpers below
    // take a socket's number and make it a `ConnId`.

    pub fn msg(&mut self, conn: u64, message: ClientMessage) {
        self.input(Input::Message {
            conn: ConnId(conn),
            message,
            request_ref: None,
        });
    }

    /// Sends a message carrying a request reference.
    pub fn msg_with_ref(&mut self, conn: u64, message: ClientMessage, request_ref: &str) {
        self.input(Input::Message {
            conn: ConnId(conn),
            message,
            request_ref: Some(request_ref.into()),
        });
    }

    pub fn take(&mut self, conn: u64) -> Vec<ServerMessage> {
        self.shell.inbox.remove(&ConnId(conn)).unwrap_or_default()
    }

    pub fn visitor(&mut self, conn: u64, token: Option<String>, after_seq: u64) -> String {
        self.visitor_from(conn, LOCAL, token, after_seq)
    }

    /// A visitor socket from a given client address.
    pub fn visitor_from(&mut self, conn: u64, address: IpAddr, token: Option<String>, after_seq: u64) -> String {
        self.visitor_on(conn, address, token, after_seq, None)
    }

    /// A visitor socket that says which page it is on.
    pub fn visitor_on(
        &mut self,
        conn: u64,
        address: IpAddr,
        token: Option<String>,
        after_seq: u64,
        page: Option<sightline_proto::PageInfo>,
    ) -> String {
        self.input(Input::Connected {
            conn: ConnId(conn),
            peer: Peer::Visitor,
            address,
            client: Default::default(),
        });
        self.msg(
            conn,
            ClientMessage::VisitorHello {
                protocol: PROTOCOL_VERSION,
                token,
                after_seq,
                page,
                device: None,
            },
        );
        match self.take(conn).first() {
            Some(ServerMessage::VisitorWelcome { token, .. }) => token.clone(),
            other => panic!("expected a welcome, got {other:?}"),
        }
    }

    pub fn agent(&mut self, conn: u64, identity: AgentIdentity) -> Vec<ServerMessage> {
        self.input(Input::Connected {
            conn: ConnId(conn),
            peer: Peer::Agent(identity),
            address: LOCAL,
            client: Default::default(),
        });
        self.msg(
            conn,
            ClientMessage::AgentHello {
                protocol: PROTOCOL_VERSION,
                away: false,
            },
        );
        self.take(conn)
    }

    pub fn visitor_says(&mut self, conn: u64, client_id: &str, s: &str) {
        self.msg(
            conn,
            ClientMessage::Send {
                conversation: None,
                client_id: client_id.into(),
                body: text(s),
            },
        );
    }
}

pub fn error_code(messages: &[ServerMessage]) -> Option<ErrorCode> {
    messages.iter().find_map(|m| match m {
        ServerMessage::Error { code, .. } => Some(*code),
        _ => None,
    })
}

/// The events among `messages`, in order.
pub fn events(messages: &[ServerMessage]) -> Vec<Event> {
    messages
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Event { event, .. } => Some(event.clone()),
            _ => None,
        })
        .collect()
}

/// Whether `secret` (a note's text, say) appears anywhere in `messages` as sent.
pub fn mentions(messages: &[ServerMessage], secret: &str) -> bool {
    messages
        .iter()
        .any(|m| serde_json::to_string(m).expect("serializes").contains(secret))
}

/// The last conversation summary among `messages`.
pub fn summary_for(messages: &[ServerMessage]) -> Option<sightline_proto::ConversationSummary> {
    messages.iter().rev().find_map(|m| match m {
        ServerMessage::ConversationUpdated { conversation } => Some(conversation.clone()),
        _ => None,
    })
}

pub fn conversation_of(world: &World) -> ConversationId {
    world.shell.events.keys().next().expect("a conversation exists").clone()
}
