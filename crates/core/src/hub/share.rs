//! Screen shares: invitations, the visitor's consent steps, the signaling relay and
//! session keys. The rules the server enforces here, whatever a browser claims:
//! - only the owning agent invites, and only in an active conversation;
//! - only the visitor moves a share forward, one legal step at a time;
//! - signaling flows only between the share's two ends, and only after the visitor
//!   consented;
//! - closing the conversation, or the agent logging out, ends the share.

use std::collections::BTreeMap;

use rand::Rng;
use sightline_proto::{
    AgentId, AgentRef, ConversationId, ConversationStatus, ErrorCode, EventKind, IceServer, Role, ServerMessage,
    ShareId, ShareMode, ShareSetup, ShareState, ShareStep, ShareSummary, Signal, MAX_CANDIDATE_BYTES,
    MAX_INVITATION_CHARS, MAX_SDP_BYTES, MAX_SHARE_DETAIL_CHARS,
};

use super::{refuse, Audience, ConnId, Handled, Hub, Output, Refusal};
use crate::consent::{self, Actor, Capability, Outcome, State, Step};
use crate::limits::LimitKind;
use crate::rate::TokenBucket;
use crate::records::VisitorId;
use crate::turn::turn_credentials;

/// Session keys and the index from share ids to conversations.
#[derive(Debug, Default)]
pub(super) struct SessionKeys {
    keys: BTreeMap<String, SessionKey>,
    /// Every redemption attempt, from everyone, spends one of these before the key is
    /// looked up.
    attempts: Option<TokenBucket>,
    /// Live shares (not final), so that a signal finds its conversation directly.
    pub(super) shares: BTreeMap<ShareId, ConversationId>,
}

#[derive(Debug)]
struct SessionKey {
    agent: AgentRef,
    expires_at: u64,
    /// What the caller is asked for on joining.
    capability: Capability,
}

/// Digits in a session key: a billion values, so that the global attempt budget
/// (`Limits::key_tries_global`) makes a hit improbable over a key's lifetime
/// (docs/screen-sharing.md shows the arithmetic).
const KEY_DIGITS: usize = sightline_proto::SESSION_KEY_DIGITS;
const KEY_SPACE: u32 = 1_000_000_000;
/// How long a visitor may be without any socket before their share is ended.
const VISITOR_GONE_ENDS_SHARE_MS: u64 = 45_000;
/// Live keys per agent.
const MAX_KEYS_PER_AGENT: usize = 20;

/// A refusal of the consent model as a protocol error.
fn share_refusal(refusal: consent::Refusal) -> Refusal {
    match refusal {
        consent::Refusal::NotYours => refuse(ErrorCode::Forbidden, "that screen share is not yours"),
        consent::Refusal::Invalid(why) => refuse(ErrorCode::InvalidState, format!("screen share: {why}")),
    }
}

/// A conversation's screen share: its consent state and how it runs.
#[derive(Debug)]
pub(super) struct Share {
    pub(super) id: ShareId,
    pub(super) state: State,
    /// The agent's choice between sharpness and smoothness.
    pub(super) mode: ShareMode,
    /// The agent socket that answered the share's offer: the visitor's signals go
    /// to it alone, so that two console tabs never both answer.
    pub(super) agent_conn: Option<ConnId>,
}

impl SessionKeys {
    /// Keys an agent handed out before a new display name act under the new one.
    pub(super) fn rename_agent(&mut self, agent: &AgentRef) {
        for key in self.keys.values_mut() {
            if key.agent.id == agent.id {
                key.agent.display_name.clone_from(&agent.display_name);
            }
        }
    }

    /// Forgets the unused keys of which `drop(agent, capability)` says so.
    pub(super) fn forget_where(&mut self, drop: impl Fn(AgentId, Capability) -> bool) {
        self.keys.retain(|_, key| !drop(key.agent.id, key.capability));
    }

    pub(super) fn forget_expired(&mut self, now: u64) {
        self.keys.retain(|_, key| key.expires_at > now);
    }
}

fn default_invitation() -> String {
    "May I see your screen? It would help me guide you.".into()
}

impl Hub {
    /// The share a visitor names must be their conversation's current one.
    pub(super) fn check_share(&self, conversation: &ConversationId, share: &ShareId) -> Handled {
        let current = self.conversations.get(conversation).and_then(|c| c.share.as_ref());
        match current {
            Some(current) if current.id == *share => Ok(()),
            _ => Err(refuse(ErrorCode::Forbidden, "that screen share is not yours")),
        }
    }

    /// The conversation of a live share that this agent owns.
    pub(super) fn conversation_of_share_for_agent(
        &self,
        share: &ShareId,
        me: &AgentRef,
    ) -> Result<ConversationId, Refusal> {
        let id = self
            .keys
            .shares
            .get(share)
            .ok_or_else(|| refuse(ErrorCode::NotFound, "no such live screen share"))?;
        let c = self
            .conversations
            .get(id)
            .ok_or_else(|| refuse(ErrorCode::NotFound, "no such live screen share"))?;
        if c.summary.agent.as_ref().is_some_and(|a| a.id == me.id) && c.summary.status == ConversationStatus::Active {
            Ok(id.clone())
        } else {
            Err(refuse(ErrorCode::Forbidden, "that screen share is another agent's"))
        }
    }

    /// Who asks, for the consent model (`policy::consent_actor`).
    fn agent_actor(&self, conversation: &ConversationId, me: &AgentRef) -> Actor {
        self.conversations.get(conversation).map_or(Actor::Stranger, |c| {
            crate::policy::consent_actor(c.summary.status, c.summary.agent.as_ref().map(|a| a.id), me.id)
        })
    }

    pub(super) fn invite_to_share(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        me: AgentRef,
        message: Option<String>,
    ) -> Handled {
        let c = self
            .conversations
            .get(conversation)
            .ok_or_else(|| refuse(ErrorCode::NotFound, "no such conversation"))?;
        let current = c.share.as_ref().map(|s| s.state);
        let actor = self.agent_actor(conversation, &me);
        match consent::transition(Capability::ScreenShare, current, Step::Ask, actor) {
            Outcome::Moved(_) => {}
            Outcome::Unchanged => return Ok(()),
            Outcome::Refused(refusal) => return Err(share_refusal(refusal)),
        }
        let message = super::grants::request_text(message, MAX_INVITATION_CHARS, default_invitation)?;
        let share = ShareId::from(self.random_id(16));
        if let Some(c) = self.conversations.get_mut(conversation) {
            c.share = Some(Share {
                id: share.clone(),
                state: State::Asked,
                mode: ShareMode::Text,
                agent_conn: None,
            });
        }
        self.set_share_state(
            now,
            conversation,
            &share,
            State::Asked,
            Role::Agent,
            Some(me),
            Some(message),
            None,
        );
        Ok(())
    }

    /// Records a share's new state: an event for both sides and the summary.
    #[allow(clippy::too_many_arguments)]
    fn set_share_state(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        share: &ShareId,
        state: State,
        by: Role,
        agent: Option<AgentRef>,
        message: Option<String>,
        detail: Option<String>,
    ) {
        let Some(c) = self.conversations.get_mut(conversation) else {
            return;
        };
        let Some(current) = c.share.as_mut().filter(|s| s.id == *share) else {
            return;
        };
        current.state = state;
        let state = ShareState::from(state);
        c.summary.share = Some(ShareSummary {
            id: share.clone(),
            state,
        });
        // The index from share ids to conversations holds live shares only.
        if state.is_final() {
            self.keys.shares.remove(share);
        } else {
            self.keys.shares.insert(share.clone(), conversation.clone());
        }
        self.append(
            now,
            conversation,
            EventKind::Share {
                share: share.clone(),
                state,
                by,
                agent,
                message,
                detail,
            },
        );
        self.summary_to_agents(conversation);
    }

    pub(super) fn share_progress(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        share: &ShareId,
        step: ShareStep,
        detail: Option<String>,
    ) -> Handled {
        let detail = detail.map(|d| d.chars().take(MAX_SHARE_DETAIL_CHARS).collect::<String>());
        let detail = match step {
            ShareStep::Failed => Some(detail.unwrap_or_else(|| "the visitor's browser could not share".into())),
            ShareStep::Stopped => Some("the visitor stopped sharing".into()),
            // Why, in the widget's words (e.g. a phone that sent a screenshot instead).
            ShareStep::Declined => detail,
            _ => None,
        };
        let next = self.share_step(
            now,
            conversation,
            share,
            Step::from(step),
            (Actor::Visitor, Role::Visitor, None),
            detail,
        )?;
        if next == Some(State::Allowed) {
            // Consent given: both ends learn how to connect (the owner's end:
            // invitees do not receive the share).
            let mut conns = self.resolve(Audience::VisitorOf(conversation));
            conns.extend(self.resolve(Audience::OwnerOf(conversation)));
            for conn in conns {
                self.send_share_setup(now, conn, conversation);
            }
        }
        Ok(())
    }

    /// Applies one step of the consent model to the conversation's share, as the
    /// table says, and records the new state. `actor` is who the caller resolved
    /// the sender to be (a visitor naming a share that is not theirs is a
    /// stranger); `by` and `agent` are what the history shows.
    /// Returns the new state, or `None` when nothing changed.
    pub(super) fn share_step(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        share: &ShareId,
        step: Step,
        (actor, by, agent): (Actor, Role, Option<AgentRef>),
        detail: Option<String>,
    ) -> Result<Option<State>, Refusal> {
        let current = self
            .conversations
            .get(conversation)
            .and_then(|c| c.share.as_ref())
            .filter(|s| s.id == *share)
            .map(|s| s.state);
        let actor = if current.is_none() && actor == Actor::Visitor {
            Actor::Stranger
        } else {
            actor
        };
        if current.is_none() && actor == Actor::Stranger {
            return Err(refuse(ErrorCode::Forbidden, "that screen share is not yours"));
        }
        match consent::transition(Capability::ScreenShare, current, step, actor) {
            Outcome::Moved(next) => {
                self.set_share_state(now, conversation, share, next, by, agent, None, detail);
                Ok(Some(next))
            }
            Outcome::Unchanged => Ok(None),
            Outcome::Refused(refusal) => Err(share_refusal(refusal)),
        }
    }

    /// Ends the conversation's share if it is not over yet: `step` is the
    /// visitor's `Stop`, the owner's `Withdraw` or the server's `End` (on behalf of
    /// `by`, as the history shows it).
    pub(super) fn end_share(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        (step, by): (Step, Role),
        agent: Option<AgentRef>,
        why: &str,
    ) {
        let Some(share) = self
            .conversations
            .get(conversation)
            .and_then(|c| c.share.as_ref())
            .map(|s| s.id.clone())
        else {
            return;
        };
        let actor = step.taken_by();
        let _ = self.share_step(
            now,
            conversation,
            &share,
            step,
            (actor, by, agent),
            Some(why.to_owned()),
        );
    }

    /// A visitor whose page went away cannot stop their share any more; end it
    /// for them once they have been gone for a while (a reload comes back sooner).
    pub(super) fn end_shares_of_departed_visitors(&mut self, now: u64) {
        let departed: Vec<ConversationId> = self
            .conversations
            .values()
            .filter(|c| {
                c.visitor_gone_since
                    .is_some_and(|since| now.saturating_sub(since) >= VISITOR_GONE_ENDS_SHARE_MS)
            })
            .filter(|c| {
                c.share.as_ref().is_some_and(|s| !s.state.is_final()) || c.grants.values().any(|g| !g.state.is_final())
            })
            .map(|c| c.summary.id.clone())
            .collect();
        for id in departed {
            self.end_share(now, &id, (Step::End, Role::Visitor), None, "the visitor left the page");
            self.end_grants(now, &id, (Role::Visitor, None), "the visitor left the page");
        }
    }

    pub(super) fn end_shares_of_agent(&mut self, now: u64, agent_id: AgentId) {
        let owned: Vec<(ConversationId, Option<AgentRef>)> = self
            .conversations
            .values()
            .filter(|c| c.summary.agent.as_ref().is_some_and(|a| a.id == agent_id))
            .filter(|c| {
                c.share.as_ref().is_some_and(|s| !s.state.is_final()) || c.grants.values().any(|g| !g.state.is_final())
            })
            .map(|c| (c.summary.id.clone(), c.summary.agent.clone()))
            .collect();
        for (id, agent) in owned {
            self.end_share(
                now,
                &id,
                (Step::End, Role::Agent),
                agent.clone(),
                "the agent logged out",
            );
            self.end_grants(now, &id, (Role::Agent, agent), "the agent logged out");
        }
    }

    fn send_share_setup(&mut self, now: u64, conn: ConnId, conversation: &ConversationId) {
        let Some(c) = self.conversations.get(conversation) else {
            return;
        };
        let Some(share) = c.share.as_ref() else { return };
        let mut ice_servers = self.settings.ice_servers.clone();
        if let Some(turn) = &self.settings.turn {
            let (username, credential) = turn_credentials(&turn.secret, share.id.as_str(), now, turn.ttl_secs);
            ice_servers.push(IceServer {
                urls: turn.urls.clone(),
                username: Some(username),
                credential: Some(credential),
            });
        }
        let setup = ShareSetup {
            ice_servers,
            ice_transport_policy: self.settings.ice_transport_policy.clone(),
            limits: self.settings.limits.clone(),
            mode: share.mode,
        };
        let share = share.id.clone();
        self.send(
            conn,
            ServerMessage::ShareSetup {
                conversation: conversation.clone(),
                share,
                setup,
            },
        );
    }

    /// After a reconnect, a socket of a live share needs its setup again.
    pub(super) fn resend_share_setup(&mut self, now: u64, conn: ConnId, conversation: &ConversationId) {
        let live = self
            .conversations
            .get(conversation)
            .and_then(|c| c.share.as_ref())
            .is_some_and(|s| s.state.is_granted());
        if live {
            self.send_share_setup(now, conn, conversation);
        }
    }

    pub(super) fn relay_signal(
        &mut self,
        conn: ConnId,
        conversation: &ConversationId,
        share: &ShareId,
        from: Role,
        signal: Signal,
    ) -> Handled {
        let c = self
            .conversations
            .get(conversation)
            .ok_or_else(|| refuse(ErrorCode::NotFound, "no such conversation"))?;
        let state = match &c.share {
            Some(s) if s.id == *share => s.state,
            _ => return Err(refuse(ErrorCode::Forbidden, "that screen share is not yours")),
        };
        if !state.is_granted() {
            return Err(refuse(
                ErrorCode::Forbidden,
                "the visitor has not agreed to share their screen",
            ));
        }
        match &signal {
            Signal::Description { sdp_type, sdp } => {
                if !matches!(sdp_type.as_str(), "offer" | "answer" | "pranswer" | "rollback") {
                    return Err(refuse(ErrorCode::BadRequest, "unknown session description type"));
                }
                if sdp.len() > MAX_SDP_BYTES {
                    return Err(refuse(
                        ErrorCode::TooLarge,
                        format!("an SDP can have at most {MAX_SDP_BYTES} bytes"),
                    ));
                }
            }
            Signal::Candidate {
                candidate,
                sdp_mid,
                username_fragment,
                ..
            } => {
                let too_long = candidate.len() > MAX_CANDIDATE_BYTES
                    || sdp_mid.as_ref().is_some_and(|m| m.len() > 64)
                    || username_fragment.as_ref().is_some_and(|u| u.len() > 256);
                if too_long {
                    return Err(refuse(ErrorCode::TooLarge, "the ICE candidate is too long"));
                }
            }
            Signal::RestartRequest | Signal::Mode { .. } => {
                if from != Role::Agent {
                    return Err(refuse(ErrorCode::Forbidden, "only the agent can ask for that"));
                }
            }
        }
        let Some(live) = self.conversations.get_mut(conversation).and_then(|c| c.share.as_mut()) else {
            return Ok(());
        };
        if from == Role::Agent {
            // The first agent socket to speak owns the share's signaling; another tab
            // takes over only by asking for a restart (the "Reconnect" button).
            match live.agent_conn {
                Some(owner) if owner != conn && !matches!(signal, Signal::RestartRequest) => {
                    return Err(refuse(
                        ErrorCode::Forbidden,
                        "another console tab is showing this screen share",
                    ));
                }
                _ => live.agent_conn = Some(conn),
            }
        }
        if let Signal::Mode { mode } = &signal {
            live.mode = *mode;
        }
        let audience = match (from, live.agent_conn) {
            (Role::Visitor, Some(owner)) => Audience::Conn(owner),
            (Role::Visitor, None) => Audience::OwnerOf(conversation),
            (Role::Agent, _) => Audience::VisitorOf(conversation),
        };
        self.deliver(
            audience,
            ServerMessage::ShareSignal {
                conversation: conversation.clone(),
                share: share.clone(),
                from,
                signal,
            },
        );
        Ok(())
    }

    pub(super) fn create_key(
        &mut self,
        now: u64,
        conn: ConnId,
        me: AgentRef,
        capability: Option<Capability>,
    ) -> Handled {
        let capability = capability.unwrap_or(Capability::ScreenShare);
        if !matches!(capability, Capability::ScreenShare | Capability::Cobrowse) {
            return Err(refuse(
                ErrorCode::BadRequest,
                "a session key asks for a screen share or co-browsing",
            ));
        }
        self.keys.forget_expired(now);
        if self.keys.keys.values().filter(|k| k.agent.id == me.id).count() >= MAX_KEYS_PER_AGENT {
            return Err(refuse(
                ErrorCode::InvalidState,
                "you have too many unused keys; wait for some to expire",
            ));
        }
        let key = loop {
            let candidate = format!("{:09}", self.rng.random_range(0..KEY_SPACE));
            if !self.keys.keys.contains_key(&candidate) {
                break candidate;
            }
        };
        let expires_at = now + self.settings.key_ttl_ms;
        self.keys.keys.insert(
            key.clone(),
            SessionKey {
                agent: me,
                expires_at,
                capability,
            },
        );
        self.send(conn, ServerMessage::ShareKeyCreated { key, expires_at });
        Ok(())
    }

    pub(super) fn redeem_key(&mut self, now: u64, conn: ConnId, visitor_id: &VisitorId, key: String) -> Handled {
        // Limits first, the look-up last: every attempt, right or wrong, spends the
        // address's allowance and then everyone's, so that a guesser learns nothing
        // once the budget is gone. No allowance belongs to a key value: nobody can
        // lock the rightful caller out of their own key.
        let Some(address) = self.connections.get(&conn).map(|c| c.address) else {
            return Ok(());
        };
        if !self.addresses.get(&self.limits, address, now).key_tries.try_take(now) {
            self.outputs.push_back(Output::Limited {
                limit: LimitKind::KeyTriesAddress,
                address,
            });
            return Err(refuse(ErrorCode::RateLimited, "too many codes tried; wait a minute"));
        }
        let global = self.limits.key_tries_global;
        if !self
            .keys
            .attempts
            .get_or_insert_with(|| global.bucket(now))
            .try_take(now)
        {
            self.outputs.push_back(Output::Limited {
                limit: LimitKind::KeyTriesGlobal,
                address,
            });
            return Err(refuse(
                ErrorCode::RateLimited,
                "too many codes are being tried right now; try again in a moment",
            ));
        }
        let key: String = key.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if key.len() != KEY_DIGITS || !key.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse(ErrorCode::BadRequest, format!("a code has {KEY_DIGITS} digits")));
        }
        let valid = self.keys.keys.get(&key).is_some_and(|k| k.expires_at > now);
        if !valid {
            return Err(refuse(ErrorCode::NotFound, "that code is wrong or has expired"));
        }
        // Single use.
        let Some(SessionKey { agent, capability, .. }) = self.keys.keys.remove(&key) else {
            return Err(refuse(ErrorCode::NotFound, "that code is wrong or has expired"));
        };
        // A visitor has one open conversation: joining an agent by key ends the old one.
        let current = self.visitors.get(visitor_id).and_then(|v| v.current.clone());
        if let Some(old) = current.filter(|id| self.conversations.get(id).is_some_and(|c| c.is_open())) {
            let _ = self.close(now, &old, Role::Visitor, None);
        }
        let id = self.open_conversation(now, visitor_id);
        self.assign(now, &id, &agent);
        if let Some(summary) = self.conversations.get(&id).map(|c| c.summary.clone()) {
            self.deliver(
                Audience::Visitor(visitor_id),
                ServerMessage::ConversationChanged { conversation: summary },
            );
        }
        let page = self.conversations.get(&id).and_then(|c| c.summary.page.clone());
        self.append(now, &id, EventKind::Started { page });
        self.store_identity(now, &id, visitor_id);
        self.append(now, &id, EventKind::JoinedWithKey { agent: agent.clone() });
        match capability {
            Capability::Cobrowse => self.ask_grant(now, &id, Capability::Cobrowse, agent, None)?,
            _ => self.invite_to_share(now, &id, agent, None)?,
        }
        if let Some(summary) = self.conversations.get(&id).map(|c| c.summary.clone()) {
            self.notify_agents(&summary);
        }
        Ok(())
    }
}
