//! Grants of co-browse, remote control and recording: the consent model
//! (`consent::transition`) applied to each capability, and the streams they open.
//!
//! The hub is the control plane. When the visitor allows a capability it grants a
//! stream ([`Output::StreamGrant`]: the stream, its capability, a token for each
//! end) and tells each end its token ([`ServerMessage::StreamGranted`]); the relay
//! in the shell carries the stream's frames, outside the hub. The moment consent
//! ends (the visitor stops, the owner withdraws, the conversation closes, the agent
//! logs out, the visitor leaves) the hub revokes it ([`Output::StreamRevoke`]).
//! Every step is an event in the conversation's history.

use sightline_proto::{
    AgentId, AgentRef, Capability, ControlAction, ConversationId, ErrorCode, EventKind, GrantId, GrantState, GrantStep,
    GrantSummary, Role, ServerMessage, StreamId, StreamRole, MAX_CONTROL_TARGET_CHARS, MAX_GRANT_MESSAGE_CHARS,
    MAX_PUSH_URL_BYTES, MAX_SHARE_DETAIL_CHARS, STREAM_TOKEN_TTL_MS,
};

use super::{refuse, Audience, ConnId, Handled, Hub, Output, Refusal};
use crate::consent::{self, Actor, Outcome, Step};
use crate::records::VisitorId;

/// A conversation's newest grant of one capability.
#[derive(Debug, Clone)]
pub(super) struct Grant {
    pub(super) id: GrantId,
    pub(super) capability: Capability,
    pub(super) state: GrantState,
    /// Set while the visitor's consent stands.
    pub(super) stream: Option<StreamId>,
}

/// One end of a stream.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Party {
    Visitor(VisitorId),
    Agent(AgentId),
}

/// A token that opens one end's stream socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamToken {
    pub token: String,
    pub party: Party,
    pub role: StreamRole,
    /// The token opens a socket until then; an open socket lasts while the grant
    /// stands.
    pub expires_at: u64,
}

/// A stream the visitor consented to: what the relay needs to carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamGrant {
    pub stream: StreamId,
    pub capability: Capability,
    pub conversation: ConversationId,
    /// One for each end: the visitor's and the owning agent's.
    pub tokens: Vec<StreamToken>,
}

fn default_request(capability: Capability) -> String {
    match capability {
        Capability::Cobrowse => "May I see this page with you? Private fields and passwords stay hidden.",
        Capability::RemoteControl => {
            "May I click and type on this page for you? You can take back control at any moment."
        }
        Capability::Recording => "May I record this session, so that we can look at it again later?",
        Capability::ScreenShare => "May I see your screen?",
    }
    .into()
}

/// The agent's own words for a request (trimmed, within `max` characters), or
/// the default ones. Screen-share invitations use it too.
pub(super) fn request_text(
    message: Option<String>,
    max: usize,
    default: impl FnOnce() -> String,
) -> Result<String, Refusal> {
    match message.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()) {
        Some(m) if m.chars().count() > max => Err(refuse(
            ErrorCode::TooLarge,
            format!("a request can have at most {max} characters"),
        )),
        Some(m) => Ok(m),
        None => Ok(default()),
    }
}

/// A refusal of the consent model as a protocol error.
fn grant_refusal(refusal: consent::Refusal) -> Refusal {
    match refusal {
        consent::Refusal::NotYours => refuse(ErrorCode::Forbidden, "that grant is not yours"),
        consent::Refusal::Invalid(why) => refuse(ErrorCode::InvalidState, why),
    }
}

impl Hub {
    /// The agent asks the visitor for `capability`.
    pub(super) fn ask_grant(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        capability: Capability,
        me: AgentRef,
        message: Option<String>,
    ) -> Handled {
        if capability == Capability::ScreenShare {
            return Err(refuse(
                ErrorCode::BadRequest,
                "ask for a screen share with share_invite",
            ));
        }
        let c = self.conversation_for_agent(conversation)?;
        Self::check_owner(c, &me)?;
        // Control acts through the mirror's element ids: it needs co-browsing on.
        let cobrowsing = c
            .grants
            .get(&Capability::Cobrowse)
            .is_some_and(|g| g.state == GrantState::Active);
        if capability == Capability::RemoteControl && !cobrowsing {
            return Err(refuse(
                ErrorCode::InvalidState,
                "remote control needs co-browsing on: ask to co-browse first",
            ));
        }
        let current = c.grants.get(&capability).map(|g| g.state);
        let actor = crate::policy::consent_actor(c.summary.status, c.summary.agent.as_ref().map(|a| a.id), me.id);
        match consent::transition(capability, current, Step::Ask, actor) {
            Outcome::Moved(_) => {}
            Outcome::Unchanged => return Ok(()),
            Outcome::Refused(refusal) => return Err(grant_refusal(refusal)),
        }
        let message = request_text(message, MAX_GRANT_MESSAGE_CHARS, || default_request(capability))?;
        let id = GrantId::from(self.random_id(16));
        // The grant it replaces is over (the table says so): its id goes.
        if let Some(old) = self
            .conversations
            .get(conversation)
            .and_then(|c| c.grants.get(&capability))
        {
            self.grant_index.remove(&old.id);
        }
        self.grant_index.insert(id.clone(), conversation.clone());
        if let Some(c) = self.conversations.get_mut(conversation) {
            c.grants.insert(
                capability,
                Grant {
                    id: id.clone(),
                    capability,
                    state: GrantState::Asked,
                    stream: None,
                },
            );
        }
        self.record_grant(
            now,
            conversation,
            capability,
            (Role::Agent, Some(me)),
            Some(message),
            None,
        );
        Ok(())
    }

    /// The conversation's grant with this id, if it is the newest of its kind.
    fn grant_by_id(&self, conversation: &ConversationId, grant: &GrantId) -> Option<&Grant> {
        self.conversations
            .get(conversation)?
            .grants
            .values()
            .find(|g| g.id == *grant)
    }

    /// A step of the visitor's (`visitor` is the sender's own conversation).
    pub(super) fn visitor_grant_step(
        &mut self,
        now: u64,
        conversation: Option<&ConversationId>,
        grant: &GrantId,
        step: GrantStep,
        detail: Option<String>,
    ) -> Handled {
        let found = conversation.and_then(|id| self.grant_by_id(id, grant).map(|g| (id.clone(), g.capability)));
        let Some((conversation, capability)) = found else {
            return Err(grant_refusal(consent::Refusal::NotYours));
        };
        let detail = detail.map(|d| d.chars().take(MAX_SHARE_DETAIL_CHARS).collect::<String>());
        let detail = match step {
            GrantStep::Fail => Some(detail.unwrap_or_else(|| "the visitor's browser could not do it".into())),
            GrantStep::Stop => Some("the visitor stopped it".into()),
            _ => None,
        };
        self.grant_step(
            now,
            &conversation,
            capability,
            Step::from(step),
            (Actor::Visitor, Role::Visitor, None),
            detail,
        )
    }

    /// `grant_end` from an agent: the owner withdraws; anybody else is refused.
    pub(super) fn agent_grant_end(&mut self, now: u64, grant: &GrantId, me: AgentRef) -> Handled {
        let found = self.grant_index.get(grant).and_then(|id| {
            let g = self.conversations.get(id)?.grants.values().find(|g| g.id == *grant)?;
            Some((id.clone(), g.capability))
        });
        let Some((conversation, capability)) = found else {
            return Err(refuse(ErrorCode::NotFound, "no such grant under way"));
        };
        let actor = self.conversations.get(&conversation).map_or(Actor::Stranger, |c| {
            crate::policy::consent_actor(c.summary.status, c.summary.agent.as_ref().map(|a| a.id), me.id)
        });
        self.grant_step(
            now,
            &conversation,
            capability,
            Step::Withdraw,
            (actor, Role::Agent, Some(me)),
            Some("the agent ended it".into()),
        )
    }

    /// Applies one step of the consent model to a grant, as the table says: the
    /// event, the summary, and the stream granted or revoked.
    fn grant_step(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        capability: Capability,
        step: Step,
        (actor, by, agent): (Actor, Role, Option<AgentRef>),
        detail: Option<String>,
    ) -> Handled {
        let agent_ref = agent.clone();
        let current = self
            .conversations
            .get(conversation)
            .and_then(|c| c.grants.get(&capability))
            .map(|g| g.state);
        let next = match consent::transition(capability, current, step, actor) {
            Outcome::Moved(next) => next,
            Outcome::Unchanged => return Ok(()),
            Outcome::Refused(refusal) => return Err(grant_refusal(refusal)),
        };
        let new_stream = (next == GrantState::Allowed).then(|| StreamId::from(self.random_id(16)));
        let Some(grant) = self
            .conversations
            .get_mut(conversation)
            .and_then(|c| c.grants.get_mut(&capability))
        else {
            return Ok(());
        };
        grant.state = next;
        let grant_id = grant.id.clone();
        let revoked = if next.is_granted() { None } else { grant.stream.take() };
        let opened = new_stream.is_some() && grant.stream.is_none();
        if opened {
            grant.stream = new_stream;
        }
        if let Some(stream) = grant.stream.clone().filter(|_| opened) {
            self.stream_index.insert(stream, conversation.clone());
        }
        if next.is_final() {
            self.grant_index.remove(&grant_id);
        }
        if let Some(stream) = &revoked {
            self.stream_index.remove(stream);
        }
        if let Some(stream) = revoked {
            // First, before anything is stored: the relay stops the flow now.
            self.outputs.push_back(Output::StreamRevoke { stream });
        }
        self.record_grant(now, conversation, capability, (by, agent), None, detail);
        if opened {
            self.open_stream(now, conversation, capability);
        }
        if capability == Capability::Cobrowse && (next == GrantState::Allowed || next.is_final()) {
            if let Some(c) = self.conversations.get_mut(conversation) {
                c.cobrowse_page = None;
                c.cobrowse_conn = None;
            }
        }
        // Without the mirror there is nothing to control through.
        if capability == Capability::Cobrowse && next.is_final() {
            let _ = self.grant_step(
                now,
                conversation,
                Capability::RemoteControl,
                Step::End,
                (Actor::Server, by, agent_ref.clone()),
                Some("co-browsing ended".into()),
            );
        }
        Ok(())
    }

    /// The visitor's widget reports what remote control did on its page: stored
    /// for the history while the grant stands, and only then.
    pub(super) fn control_report(
        &mut self,
        now: u64,
        conversation: Option<&ConversationId>,
        grant: &GrantId,
        action: ControlAction,
    ) -> Handled {
        let found =
            conversation.and_then(|id| self.grant_by_id(id, grant).map(|g| (id.clone(), g.capability, g.state)));
        let Some((conversation, capability, state)) = found else {
            return Err(grant_refusal(consent::Refusal::NotYours));
        };
        if capability != Capability::RemoteControl {
            return Err(refuse(ErrorCode::BadRequest, "only remote control reports actions"));
        }
        if state != GrantState::Active {
            return Err(refuse(ErrorCode::InvalidState, "remote control is not on"));
        }
        let target = action.target.trim();
        if target.chars().count() > MAX_CONTROL_TARGET_CHARS || target.chars().any(char::is_control) {
            return Err(refuse(
                ErrorCode::TooLarge,
                format!(
                    "an element's name has at most {MAX_CONTROL_TARGET_CHARS} characters and no control characters"
                ),
            ));
        }
        let action = ControlAction {
            target: target.to_owned(),
            ..action
        };
        let agent = self
            .conversations
            .get(&conversation)
            .and_then(|c| c.summary.agent.clone());
        self.append(now, &conversation, EventKind::Control { agent, action });
        Ok(())
    }

    /// The owning agent sends the visitor to a page of the site: an http(s)
    /// address on the origin of the page the visitor is on (one of the allowed
    /// origins: their widget connected from it). Stored; the visitor's widget
    /// goes there while co-browsing and otherwise shows it as a link to open.
    pub(super) fn push_page(&mut self, now: u64, conversation: &ConversationId, me: AgentRef, url: String) -> Handled {
        let c = self.conversation_for_agent(conversation)?;
        Self::check_owner(c, &me)?;
        if url.len() > MAX_PUSH_URL_BYTES {
            return Err(refuse(
                ErrorCode::TooLarge,
                format!("an address has at most {MAX_PUSH_URL_BYTES} bytes"),
            ));
        }
        let parsed = url::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.username().is_empty() && u.password().is_none());
        let Some(parsed) = parsed else {
            return Err(refuse(
                ErrorCode::BadRequest,
                "send the visitor to an http or https address",
            ));
        };
        let origin = parsed.origin().ascii_serialization();
        let visitor_origin = c
            .summary
            .page
            .as_ref()
            .and_then(|p| url::Url::parse(&p.url).ok())
            .map(|u| u.origin().ascii_serialization());
        // The visitor's own site: the origin of their page, which the widget
        // connected from (an allowed origin). The widget follows only that
        // origin too, so both ends agree on what is a page of the site.
        match visitor_origin {
            Some(here) if here == origin => {}
            Some(here) => {
                return Err(refuse(
                    ErrorCode::Forbidden,
                    format!("{origin} is not the visitor's site: they are on {here}; send an address there"),
                ))
            }
            None => {
                return Err(refuse(
                    ErrorCode::Forbidden,
                    "the visitor's page is not known, so no address can be checked against it",
                ))
            }
        }
        self.append(
            now,
            conversation,
            EventKind::PagePushed {
                agent: me,
                url: parsed.to_string(),
            },
        );
        Ok(())
    }

    /// Whether the conversation's co-browse grant is the one `which` picks.
    pub(super) fn is_cobrowse(&self, conversation: &ConversationId, which: impl Fn(&Grant) -> bool) -> bool {
        self.conversations
            .get(conversation)
            .and_then(|c| c.grants.get(&Capability::Cobrowse))
            .is_some_and(which)
    }

    /// While co-browsing is on, the page of the co-browsing tab (`conn`, which
    /// started the stream or asked for a token on a new page) goes into the
    /// transcript, once (a reconnect on the same page adds nothing). Other tabs of
    /// the visitor are not mirrored and add nothing.
    pub(super) fn cobrowse_page_viewed(&mut self, now: u64, conversation: &ConversationId, conn: ConnId) {
        let Some(c) = self.conversations.get(conversation) else {
            return;
        };
        let on = c
            .grants
            .get(&Capability::Cobrowse)
            .is_some_and(|g| g.state == GrantState::Active);
        if on {
            if let Some(c) = self.conversations.get_mut(conversation) {
                c.cobrowse_conn = Some(conn);
            }
        }
        let Some(mut page) = self.connections.get(&conn).and_then(|k| k.page.clone()) else {
            return;
        };
        // The address without its query or fragment: they often carry tokens,
        // e-mail addresses or search terms.
        if let Some(end) = page.url.find(['?', '#']) {
            page.url.truncate(end);
        }
        let seen = self
            .conversations
            .get(conversation)
            .is_some_and(|c| c.cobrowse_page.as_deref() == Some(page.url.as_str()));
        if !on || seen {
            return;
        }
        if let Some(c) = self.conversations.get_mut(conversation) {
            c.cobrowse_page = Some(page.url.clone());
        }
        self.append(now, conversation, EventKind::PageViewed { page });
    }

    /// Consent given: the relay learns of the stream, each end gets its token.
    fn open_stream(&mut self, now: u64, conversation: &ConversationId, capability: Capability) {
        let Some(c) = self.conversations.get(conversation) else {
            return;
        };
        let Some(owner) = c.summary.agent.as_ref().map(|a| a.id) else {
            return;
        };
        let visitor = c.visitor.clone();
        let Some((grant_id, stream)) = c
            .grants
            .get(&capability)
            .and_then(|g| Some((g.id.clone(), g.stream.clone()?)))
        else {
            return;
        };
        let visitor_role = if capability.publisher() == Role::Visitor {
            StreamRole::Publisher
        } else {
            StreamRole::Subscriber
        };
        let agent_role = match visitor_role {
            StreamRole::Publisher => StreamRole::Subscriber,
            StreamRole::Subscriber => StreamRole::Publisher,
        };
        let expires_at = now + STREAM_TOKEN_TTL_MS;
        let visitor_token = StreamToken {
            token: self.random_id(32),
            party: Party::Visitor(visitor),
            role: visitor_role,
            expires_at,
        };
        let agent_token = StreamToken {
            token: self.random_id(32),
            party: Party::Agent(owner),
            role: agent_role,
            expires_at,
        };
        self.outputs.push_back(Output::StreamGrant(StreamGrant {
            stream: stream.clone(),
            capability,
            conversation: conversation.clone(),
            tokens: vec![visitor_token.clone(), agent_token.clone()],
        }));
        for (audience, token) in [
            (Audience::VisitorOf(conversation), visitor_token),
            (Audience::OwnerOf(conversation), agent_token),
        ] {
            self.deliver(
                audience,
                ServerMessage::StreamGranted {
                    conversation: conversation.clone(),
                    grant: grant_id.clone(),
                    stream: stream.clone(),
                    capability,
                    role: token.role,
                    token: token.token,
                    expires_at: token.expires_at,
                },
            );
        }
    }

    /// A fresh token for one end of a live stream, to the socket that asked.
    pub(super) fn join_stream(&mut self, now: u64, conn: ConnId, stream: &StreamId, party: Party) -> Handled {
        let found = self.stream_index.get(stream).and_then(|id| {
            let c = self.conversations.get(id)?;
            let g = c.grants.values().find(|g| g.stream.as_ref() == Some(stream))?;
            Some((
                id.clone(),
                g.clone(),
                c.visitor.clone(),
                c.summary.agent.as_ref().map(|a| a.id),
            ))
        });
        let Some((conversation, grant, visitor, owner)) = found else {
            return Err(refuse(ErrorCode::NotFound, "no such live stream"));
        };
        let visitor_publishes = grant.capability.publisher() == Role::Visitor;
        let role = match &party {
            Party::Visitor(v) if *v == visitor => {
                if visitor_publishes {
                    StreamRole::Publisher
                } else {
                    StreamRole::Subscriber
                }
            }
            Party::Agent(a) if Some(*a) == owner => {
                if visitor_publishes {
                    StreamRole::Subscriber
                } else {
                    StreamRole::Publisher
                }
            }
            _ => return Err(refuse(ErrorCode::Forbidden, "that stream is not yours")),
        };
        let token = StreamToken {
            token: self.random_id(32),
            party,
            role,
            expires_at: now + STREAM_TOKEN_TTL_MS,
        };
        self.outputs.push_back(Output::StreamToken {
            stream: stream.clone(),
            token: token.clone(),
        });
        self.send(
            conn,
            ServerMessage::StreamGranted {
                conversation,
                grant: grant.id,
                stream: stream.clone(),
                capability: grant.capability,
                role,
                token: token.token,
                expires_at: token.expires_at,
            },
        );
        Ok(())
    }

    /// Ends the grants of every conversation the agent owns.
    pub(super) fn end_grants_of_agent(&mut self, now: u64, agent_id: AgentId) {
        let owned: Vec<(ConversationId, Option<AgentRef>)> = self
            .conversations
            .values()
            .filter(|c| c.summary.agent.as_ref().is_some_and(|a| a.id == agent_id))
            .filter(|c| c.grants.values().any(|g| !g.state.is_final()))
            .map(|c| (c.summary.id.clone(), c.summary.agent.clone()))
            .collect();
        for (id, agent) in owned {
            self.end_grants(now, &id, (Role::Agent, agent), "the agent's other sessions were ended");
        }
    }

    /// Ends the conversation's grant of `capability` if it is not over (the
    /// server's `End`).
    pub(super) fn end_grant(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        capability: Capability,
        (by, agent): (Role, Option<AgentRef>),
        why: &str,
    ) {
        let live = self
            .conversations
            .get(conversation)
            .and_then(|c| c.grants.get(&capability))
            .is_some_and(|g| !g.state.is_final());
        if live {
            let _ = self.grant_step(
                now,
                conversation,
                capability,
                Step::End,
                (Actor::Server, by, agent),
                Some(why.to_owned()),
            );
        }
    }

    /// Ends every grant of a conversation that is not over (the server's `End`).
    pub(super) fn end_grants(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        (by, agent): (Role, Option<AgentRef>),
        why: &str,
    ) {
        let live: Vec<Capability> = self
            .conversations
            .get(conversation)
            .map(|c| {
                c.grants
                    .values()
                    .filter(|g| !g.state.is_final())
                    .map(|g| g.capability)
                    .collect()
            })
            .unwrap_or_default();
        for capability in live {
            let _ = self.grant_step(
                now,
                conversation,
                capability,
                Step::End,
                (Actor::Server, by, agent.clone()),
                Some(why.to_owned()),
            );
        }
    }

    /// Stores the grant's new state as an event, updates the summary (its public
    /// view) and tells the conversation's agents.
    fn record_grant(
        &mut self,
        now: u64,
        conversation: &ConversationId,
        capability: Capability,
        (by, agent): (Role, Option<AgentRef>),
        message: Option<String>,
        detail: Option<String>,
    ) {
        let Some(c) = self.conversations.get_mut(conversation) else {
            return;
        };
        let Some(grant) = c.grants.get(&capability).cloned() else {
            return;
        };
        c.summary.grants = c
            .grants
            .values()
            .map(|g| GrantSummary {
                id: g.id.clone(),
                capability: g.capability,
                state: g.state,
                stream: g.stream.clone(),
            })
            .collect();
        self.append(
            now,
            conversation,
            EventKind::Grant {
                grant: grant.id,
                capability,
                state: grant.state,
                by,
                agent,
                message,
                detail,
            },
        );
        self.summary_to_agents(conversation);
    }
}
