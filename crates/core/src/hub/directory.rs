//! Who is connected, and who a message is for.
//!
//! Conversation logic never walks sockets itself: it names an [`Audience`] and
//! [`Hub::deliver`] resolves it through the [`Directory`] (which sockets a
//! visitor or an agent has open) and the conversation (whose visitor, which
//! agents). A conversation's agents are its owner and the colleagues invited
//! in (observers and participants): [`Audience::AgentsOf`] is the one place
//! that knows it; what belongs to the owner alone (a share's signaling, a
//! stream's token) goes to [`Audience::OwnerOf`].

use std::collections::{BTreeMap, BTreeSet};

use sightline_proto::{AgentId, ConversationId, ServerMessage};

use super::{ConnId, Hub};
use crate::records::VisitorId;

/// Who a message is for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Audience<'a> {
    /// One socket.
    Conn(ConnId),
    /// Every socket of one visitor.
    Visitor(&'a VisitorId),
    /// Every agent socket.
    AllAgents,
    /// Every socket of one agent.
    Agent(AgentId),
    /// Every visitor socket that said hello.
    AllVisitors,
    /// The visitor of a conversation.
    VisitorOf(&'a ConversationId),
    /// The agents of a conversation: its owner and its invitees.
    AgentsOf(&'a ConversationId),
    /// The agent handling a conversation, alone.
    OwnerOf(&'a ConversationId),
}

/// The sockets that said hello, by who they belong to. Ordered sets: a fan-out
/// walks them, and the same inputs must give the same outputs in the same order.
#[derive(Debug, Default)]
pub(super) struct Directory {
    visitors: BTreeMap<VisitorId, BTreeSet<ConnId>>,
    agents: BTreeMap<AgentId, BTreeSet<ConnId>>,
}

impl Directory {
    pub(super) fn add_visitor(&mut self, visitor: &VisitorId, conn: ConnId) {
        self.visitors.entry(visitor.clone()).or_default().insert(conn);
    }

    /// Returns whether that was the visitor's last socket.
    pub(super) fn remove_visitor(&mut self, visitor: &VisitorId, conn: ConnId) -> bool {
        let Some(conns) = self.visitors.get_mut(visitor) else {
            return true;
        };
        conns.remove(&conn);
        if conns.is_empty() {
            self.visitors.remove(visitor);
            true
        } else {
            false
        }
    }

    pub(super) fn add_agent(&mut self, agent: AgentId, conn: ConnId) {
        self.agents.entry(agent).or_default().insert(conn);
    }

    pub(super) fn remove_agent(&mut self, agent: AgentId, conn: ConnId) {
        if let Some(conns) = self.agents.get_mut(&agent) {
            conns.remove(&conn);
            if conns.is_empty() {
                self.agents.remove(&agent);
            }
        }
    }

    /// How many sockets a visitor has open.
    pub(super) fn visitor_sockets(&self, visitor: &VisitorId) -> usize {
        self.visitors.get(visitor).map_or(0, BTreeSet::len)
    }

    pub(super) fn visitor_online(&self, visitor: &VisitorId) -> bool {
        self.visitors.contains_key(visitor)
    }

    fn visitor_conns(&self, visitor: &VisitorId) -> impl Iterator<Item = ConnId> + '_ {
        self.visitors.get(visitor).into_iter().flatten().copied()
    }

    fn agent_conns(&self, agent: AgentId) -> impl Iterator<Item = ConnId> + '_ {
        self.agents.get(&agent).into_iter().flatten().copied()
    }

    fn all_agent_conns(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.agents.values().flatten().copied()
    }

    fn all_visitor_conns(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.visitors.values().flatten().copied()
    }

    /// The agents with at least one socket that said hello, in order.
    pub(super) fn connected_agents(&self) -> impl Iterator<Item = AgentId> + '_ {
        self.agents.keys().copied()
    }

    pub(super) fn agent_online(&self, agent: AgentId) -> bool {
        self.agents.contains_key(&agent)
    }
}

impl Hub {
    /// The sockets an audience means right now, in a stable order.
    pub(super) fn resolve(&self, audience: Audience<'_>) -> Vec<ConnId> {
        let dir = &self.directory;
        match audience {
            Audience::Conn(conn) => vec![conn],
            Audience::Visitor(visitor) => dir.visitor_conns(visitor).collect(),
            Audience::AllAgents => dir.all_agent_conns().collect(),
            Audience::Agent(agent) => dir.agent_conns(agent).collect(),
            Audience::AllVisitors => dir.all_visitor_conns().collect(),
            Audience::VisitorOf(id) => self
                .conversations
                .get(id)
                .map(|c| dir.visitor_conns(&c.visitor).collect())
                .unwrap_or_default(),
            Audience::AgentsOf(id) => self
                .conversations
                .get(id)
                .map(|c| {
                    let owner = c.summary.agent.iter().map(|a| a.id);
                    let invitees = c.summary.invitees.iter().map(|i| i.agent.id);
                    owner.chain(invitees).flat_map(|agent| dir.agent_conns(agent)).collect()
                })
                .unwrap_or_default(),
            Audience::OwnerOf(id) => self
                .conversations
                .get(id)
                .and_then(|c| c.summary.agent.as_ref())
                .map(|owner| dir.agent_conns(owner.id).collect())
                .unwrap_or_default(),
        }
    }

    /// Sends the conversation's agents its summary as it stands.
    pub(super) fn summary_to_agents(&mut self, conversation: &ConversationId) {
        if let Some(summary) = self.conversations.get(conversation).map(|c| c.summary.clone()) {
            self.deliver(
                Audience::AgentsOf(conversation),
                ServerMessage::ConversationUpdated { conversation: summary },
            );
        }
    }

    /// Sends a message to everyone in an audience.
    pub(super) fn deliver(&mut self, audience: Audience<'_>, message: ServerMessage) {
        let conns = self.resolve(audience);
        let Some((last, rest)) = conns.split_last() else {
            return;
        };
        for &conn in rest {
            self.send(conn, message.clone());
        }
        self.send(*last, message);
    }
}
