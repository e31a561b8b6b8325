//! Inviting colleagues into a conversation: the owner (or an admin) brings in an
//! observer, who follows it live and writes nothing (a supervisor), or a
//! participant, who writes messages and notes too. Everything else stays with the
//! owner (closing, handing over, what the visitor grants: see
//! [`policy::agent_may`]). Invitees are the summary's `invitees`, live state like
//! a share: they exist only while the conversation is active, and every change is
//! an event (`agent_invited`, `agent_left`) so that the history shows it. An
//! observer's events are agents-only ([`Event::for_visitor`]); the visitor sees a
//! participant join and leave.
//!
//! [`Event::for_visitor`]: sightline_proto::Event::for_visitor

use sightline_proto::{
    AgentId, ConversationId, ErrorCode, EventKind, InviteRole, Invitee, ServerMessage, MAX_INVITEES,
};

use super::directory::Audience;
use super::{refuse, AgentIdentity, Conversation, Handled, Hub, Refusal};
use crate::policy::{self, Denied};
use crate::rate::TokenBucket;
use crate::validate::validate_note;

/// Invitations (and role changes) a conversation takes at once, and how fast the
/// allowance comes back: each is an event every agent of the conversation hears.
const INVITES_BURST: u32 = 10;
const INVITES_PER_SECOND: f64 = 0.1;

impl Hub {
    /// Whether `me` may invite into, or take an invitee out of, the conversation.
    fn check_may_invite(c: &Conversation, me: &AgentIdentity) -> Handled {
        let standing = policy::standing(c.summary.agent.as_ref().map(|a| a.id), &c.summary.invitees, me.agent.id);
        policy::agent_may_invite(c.summary.status, standing, me.is_admin).map_err(|denied| match denied {
            Denied::State(why) => refuse(ErrorCode::InvalidState, why),
            _ => refuse(
                ErrorCode::Forbidden,
                "only the agent handling a conversation (or an admin) can invite colleagues into it",
            ),
        })
    }

    /// Invites `agent` (online) into an active conversation as `role`, or changes
    /// the role of someone already invited.
    pub(super) fn invite(
        &mut self,
        now: u64,
        me: &AgentIdentity,
        conversation: ConversationId,
        agent: AgentId,
        role: InviteRole,
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
        Self::check_may_invite(c, me)?;
        if c.summary.agent.as_ref().is_some_and(|a| a.id == agent) {
            return Err(refuse(ErrorCode::InvalidState, "they already handle this conversation"));
        }
        let existing = c.summary.invitees.iter().find(|i| i.agent.id == agent).cloned();
        match &existing {
            Some(i) if i.role == role => {
                return Err(refuse(
                    ErrorCode::InvalidState,
                    format!("{} is already in this conversation that way", i.agent.display_name),
                ));
            }
            None if c.summary.invitees.len() >= MAX_INVITEES => {
                return Err(refuse(
                    ErrorCode::TooLarge,
                    format!("at most {MAX_INVITEES} colleagues can be invited into one conversation"),
                ));
            }
            _ => {}
        }
        // The invitee as they are now (their newest name); someone already in
        // may have closed their console for a moment.
        let target = match self.online_agents().remove(&agent) {
            Some(a) => a,
            None => match &existing {
                Some(i) => i.agent.clone(),
                None => {
                    return Err(refuse(
                        ErrorCode::NotFound,
                        "that agent is not online: pick someone with the console open",
                    ))
                }
            },
        };
        let Some(c) = self.conversations.get_mut(&conversation) else {
            return Err(refuse(ErrorCode::NotFound, "no such conversation"));
        };
        let allowance = c
            .invites
            .get_or_insert_with(|| TokenBucket::new(INVITES_BURST, INVITES_PER_SECOND, now));
        if !allowance.try_take(now) {
            return Err(refuse(
                ErrorCode::RateLimited,
                "too many invitations in this conversation; try again in a minute",
            ));
        }
        set_invitee(&mut c.summary.invitees, target.clone(), role);
        // A participant who becomes an observer has left, as far as the visitor
        // can tell (an observer's invitation is agents-only).
        if let Some(Invitee {
            role: InviteRole::Participant,
            ..
        }) = existing
        {
            self.append(
                now,
                &conversation,
                EventKind::AgentLeft {
                    agent: target.clone(),
                    role: InviteRole::Participant,
                    by: me.agent.clone(),
                },
            );
        }
        self.append(
            now,
            &conversation,
            EventKind::AgentInvited {
                agent: target,
                role,
                by: me.agent.clone(),
                note,
            },
        );
        self.invitees_changed(&conversation, &[me.agent.id]);
        Ok(())
    }

    /// The owner (or an admin) takes `agent` out of the conversation.
    pub(super) fn uninvite(
        &mut self,
        now: u64,
        me: &AgentIdentity,
        conversation: ConversationId,
        agent: AgentId,
    ) -> Handled {
        let c = self.conversation_for_agent(&conversation)?;
        Self::check_may_invite(c, me)?;
        self.remove_invitee(now, &conversation, agent, me)
    }

    /// An invitee leaves the conversation.
    pub(super) fn leave(&mut self, now: u64, me: &AgentIdentity, conversation: ConversationId) -> Handled {
        let c = self.conversation_for_agent(&conversation)?;
        Self::agent_may(c, &me.agent, policy::AgentAction::Leave)?;
        self.remove_invitee(now, &conversation, me.agent.id, me)
    }

    fn remove_invitee(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        agent: AgentId,
        me: &AgentIdentity,
    ) -> Handled {
        let Some(c) = self.conversations.get_mut(conversation) else {
            return Err(refuse(ErrorCode::NotFound, "no such conversation"));
        };
        let Some(at) = c.summary.invitees.iter().position(|i| i.agent.id == agent) else {
            return Err(refuse(
                ErrorCode::NotFound,
                "they are not invited into this conversation",
            ));
        };
        let gone = c.summary.invitees.remove(at);
        self.append(
            now,
            conversation,
            EventKind::AgentLeft {
                agent: gone.agent,
                role: gone.role,
                by: me.agent.clone(),
            },
        );
        self.invitees_changed(conversation, &[agent, me.agent.id]);
        Ok(())
    }

    /// Sends the summary to the conversation's agents (the owner and who is
    /// invited now) and to `also` (someone who just left, an admin who acted).
    pub(super) fn invitees_changed(&mut self, conversation: &ConversationId, also: &[AgentId]) {
        let Some(summary) = self.conversations.get(conversation).map(|c| c.summary.clone()) else {
            return;
        };
        let mut told: Vec<AgentId> = summary.agent.iter().map(|a| a.id).collect();
        told.extend(summary.invitees.iter().map(|i| i.agent.id));
        for id in also {
            if !told.contains(id) {
                told.push(*id);
            }
        }
        let update = ServerMessage::ConversationUpdated { conversation: summary };
        for id in told {
            self.deliver(Audience::Agent(id), update.clone());
        }
    }

    /// Ends every invitation of a conversation (it closed, or went back to the
    /// queue): each invitee leaves, as an event (`agent_left`, by themselves) that
    /// they still hear and the history keeps, so that a visitor who saw a
    /// participant join also sees them go. Returns who was invited, to be told.
    pub(super) fn end_invitations(&mut self, now: u64, conversation: &ConversationId) -> Vec<AgentId> {
        let invitees = self
            .conversations
            .get(conversation)
            .map(|c| c.summary.invitees.clone())
            .unwrap_or_default();
        for invitee in &invitees {
            self.append(
                now,
                conversation,
                EventKind::AgentLeft {
                    agent: invitee.agent.clone(),
                    role: invitee.role,
                    by: invitee.agent.clone(),
                },
            );
        }
        if let Some(c) = self.conversations.get_mut(conversation) {
            c.summary.invitees.clear();
        }
        invitees.into_iter().map(|i| i.agent.id).collect()
    }

    /// The refusal for an agent who may not do something because of how they
    /// stand in the conversation.
    pub(super) fn standing_refusal(c: &Conversation, denied: Denied) -> Option<Refusal> {
        let owner = c
            .summary
            .agent
            .as_ref()
            .map_or("the agent handling it", |a| a.display_name.as_str());
        match denied {
            Denied::Observing => Some(refuse(
                ErrorCode::Forbidden,
                format!("you are observing this conversation: ask {owner} to let you take part"),
            )),
            Denied::OwnerOnly => Some(refuse(
                ErrorCode::Forbidden,
                format!("only {owner}, who handles this conversation, can do that"),
            )),
            Denied::NotInvited => Some(refuse(
                ErrorCode::Forbidden,
                "you are not invited into this conversation",
            )),
            _ => None,
        }
    }
}

/// Puts `agent` into the invitees (ordered by id) with `role`, replacing their
/// entry if they have one.
fn set_invitee(invitees: &mut Vec<Invitee>, agent: sightline_proto::AgentRef, role: InviteRole) {
    match invitees.binary_search_by_key(&agent.id, |i| i.agent.id) {
        Ok(at) => invitees[at] = Invitee { agent, role },
        Err(at) => invitees.insert(at, Invitee { agent, role }),
    }
}
