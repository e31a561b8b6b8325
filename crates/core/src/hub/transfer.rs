//! Handing a conversation to a colleague or back to the queue, and internal notes
//! (written by agents for agents; the visitor never receives them, see
//! [`Event::for_visitor`](sightline_proto::Event::for_visitor)).

use std::collections::BTreeMap;

use sightline_proto::{
    AgentId, AgentPresence, AgentRef, ConversationId, ConversationStatus, ErrorCode, EventKind, Role, ServerMessage,
};

use super::directory::Audience;
use super::{refuse, AgentIdentity, ConnId, ConnState, Handled, Hub, Peer};
use crate::consent::Step;
use crate::policy::{self, Denied};
use crate::validate::{validate_client_id, validate_note};

/// What the visitor and the event log are told about why a share or grant ended.
const ENDED_BY_TRANSFER: &str = "the conversation was handed to another agent";

impl Hub {
    /// An agent writes an internal note in a conversation they own: stored as an
    /// event, delivered to its agents only, acknowledged like a message (a retry
    /// with the same `client_id` is acknowledged again, never stored twice).
    pub(super) fn write_note(
        &mut self,
        now: u64,
        conn: ConnId,
        me: AgentRef,
        conversation: ConversationId,
        client_id: String,
        text: String,
    ) -> Handled {
        validate_client_id(&client_id)?;
        validate_note(&text)?;
        let c = self.conversation_for_agent(&conversation)?;
        let writes = Self::writes_in(c, &me);
        let seq = match c.seen(Role::Agent, &client_id).filter(|_| writes) {
            Some(seq) => seq,
            None => {
                Self::check_may_write(c, &me)?;
                let kind = EventKind::Note {
                    agent: me,
                    client_id: client_id.clone(),
                    text,
                };
                let Some(event) = self.append(now, &conversation, kind) else {
                    return Err(refuse(ErrorCode::NotFound, "no such conversation"));
                };
                if let Some(c) = self.conversations.get_mut(&conversation) {
                    c.remember(Role::Agent, client_id.clone(), event.seq);
                }
                event.seq
            }
        };
        self.send(
            conn,
            ServerMessage::Ack {
                conversation,
                client_id,
                seq,
            },
        );
        Ok(())
    }

    /// The agents one can hand a conversation to: every agent with a console
    /// that said hello, with whether they are away.
    pub(super) fn list_agents(&mut self, conn: ConnId) {
        let agents: Vec<AgentPresence> = self
            .online_agents()
            .into_values()
            .map(|agent| AgentPresence {
                away: self.away.contains(&agent.id),
                agent,
            })
            .collect();
        self.send(conn, ServerMessage::Agents { agents });
    }

    /// Agents with a console that said hello, as they act now (their newest name).
    pub(super) fn online_agents(&self) -> BTreeMap<AgentId, AgentRef> {
        let mut agents = BTreeMap::new();
        for connection in self.connections.values() {
            if let (Peer::Agent(identity), ConnState::Ready { .. }) = (&connection.peer, &connection.state) {
                agents.insert(identity.agent.id, identity.agent.clone());
            }
        }
        agents
    }

    /// Hands an active conversation to another online agent (`to`), or back to the
    /// queue. Everything the visitor granted the old owner ends first: consent was
    /// given to that agent, and a transfer is their leaving. The new owner learns
    /// of it from the summary (and replays the history, the transfer and its note
    /// included); the old owner's console drops it; the visitor gets the transfer
    /// without its note.
    pub(super) fn transfer(
        &mut self,
        now: u64,
        me: &AgentIdentity,
        conversation: ConversationId,
        to: Option<AgentId>,
        note: Option<String>,
    ) -> Handled {
        let note = match note {
            Some(text) if !text.trim().is_empty() => {
                validate_note(&text)?;
                Some(text)
            }
            _ => None,
        };
        let c = self.conversation_for_agent(&conversation)?;
        let old_owner = c.summary.agent.clone();
        let owner_id = old_owner.as_ref().map(|a| a.id);
        policy::agent_may_transfer(c.summary.status, owner_id, me.agent.id, me.is_admin).map_err(
            |denied| match denied {
                Denied::NotYours | Denied::TakenBy | Denied::Observing | Denied::OwnerOnly | Denied::NotInvited => {
                    refuse(
                        ErrorCode::Forbidden,
                        "only the agent handling a conversation can hand it over",
                    )
                }
                Denied::State(why) => refuse(ErrorCode::InvalidState, why),
            },
        )?;
        let target = match to {
            None => None,
            Some(id) if Some(id) == owner_id => {
                return Err(refuse(ErrorCode::InvalidState, "the conversation is already theirs"));
            }
            Some(id) => match self.online_agents().remove(&id) {
                Some(agent) => Some(agent),
                None => {
                    return Err(refuse(
                        ErrorCode::NotFound,
                        "that agent is not online: pick someone with the console open",
                    ))
                }
            },
        };

        let ender = Some(me.agent.clone());
        self.end_share(
            now,
            &conversation,
            (Step::End, Role::Agent),
            ender.clone(),
            ENDED_BY_TRANSFER,
        );
        self.end_grants(now, &conversation, (Role::Agent, ender), ENDED_BY_TRANSFER);

        let status = if target.is_some() {
            ConversationStatus::Active
        } else {
            ConversationStatus::Waiting
        };
        // Back in the queue, nobody is invited any more; handed to an invitee,
        // they own it now (and are no longer invited); the others stay.
        if target.is_none() {
            self.end_invitations(now, &conversation);
        }
        let Some(c) = self.conversations.get_mut(&conversation) else {
            return Err(refuse(ErrorCode::NotFound, "no such conversation"));
        };
        if let Some(new_owner) = &target {
            c.summary.invitees.retain(|i| i.agent.id != new_owner.id);
        }
        c.summary.status = status;
        c.summary.agent.clone_from(&target);
        c.stored_activity_at = now;
        self.persist(crate::records::Persist::SetStatus {
            conversation: conversation.clone(),
            status,
            agent: target.clone(),
            at: now,
        });
        self.append(
            now,
            &conversation,
            EventKind::Transferred {
                by: me.agent.clone(),
                agent: target.clone(),
                note,
            },
        );
        let Some(summary) = self.conversations.get(&conversation).map(|c| c.summary.clone()) else {
            return Ok(());
        };
        let update = ServerMessage::ConversationUpdated { conversation: summary };
        match &target {
            // Back in everyone's queue (the old owner's and the invitees' too).
            None => self.deliver(Audience::AllAgents, update),
            Some(new_owner) => {
                // The old owner drops it, the new one takes it up, the invitees
                // see whose it is now; an admin who handed over someone else's
                // conversation hears the outcome too.
                let mut told = vec![new_owner.id];
                if let Some(c) = self.conversations.get(&conversation) {
                    told.extend(c.summary.invitees.iter().map(|i| i.agent.id));
                }
                for id in old_owner.map(|a| a.id).into_iter().chain([me.agent.id]) {
                    if !told.contains(&id) {
                        told.push(id);
                    }
                }
                for id in told {
                    self.deliver(Audience::Agent(id), update.clone());
                }
            }
        }
        Ok(())
    }
}
