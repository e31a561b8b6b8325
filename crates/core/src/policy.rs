//! Who may do what with a conversation: the one place for these rules, used by
//! the hub for the socket and by the server's HTTP API (ARCHITECTURE.md states
//! them). What a visitor grants an agent (screen share, co-browse, ...) is the
//! consent model's (`consent.rs`); who counts as the conversation's owner for it
//! is [`consent_actor`] here.

use sightline_proto::{AgentId, ConversationStatus, Permission, Permissions};

use crate::consent::Actor;

/// What an agent does with a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AgentAction {
    /// Read its transcript (see [`agent_may_read`]).
    Read,
    /// Take a waiting conversation.
    Accept,
    /// Write in it: messages, typing, pictures, asking the visitor for a
    /// capability.
    Write,
    /// End it.
    Close,
}

impl AgentAction {
    pub const ALL: [AgentAction; 4] = [
        AgentAction::Read,
        AgentAction::Accept,
        AgentAction::Write,
        AgentAction::Close,
    ];
}

/// Why an agent (or a visitor) may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// It is another agent's conversation (or another visitor's).
    NotYours,
    /// Nobody may, in this state (the text is for the person).
    State(&'static str),
    /// Accepting a conversation another agent took first.
    TakenBy,
}

/// What the rule answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Allowed, and already done: accepting one's own conversation again (a
    /// second tab, a retry) changes nothing.
    AlreadyDone,
    Denied(Denied),
}

/// Whether the agent `agent_id` may do `action` with a conversation in `status`
/// owned by `owner`:
/// - **read**: see [`agent_may_read`];
/// - **accept**: a waiting conversation, any agent; one's own again is no error;
/// - **write**: only the owner of an active conversation;
/// - **close**: a waiting one, any agent (spam); an active one, its owner.
///
/// A conversation has one agent today; observers (a supervisor) come in here.
pub fn agent_may(
    action: AgentAction,
    status: ConversationStatus,
    owner: Option<AgentId>,
    agent_id: AgentId,
) -> Decision {
    use ConversationStatus::{Active, Closed, Waiting};
    let mine = owner == Some(agent_id);
    match (action, status) {
        (AgentAction::Read, _) => {
            if agent_may_read(status, owner, agent_id) {
                Decision::Allowed
            } else {
                Decision::Denied(Denied::NotYours)
            }
        }
        (_, Closed) => Decision::Denied(Denied::State("the conversation is closed")),
        (AgentAction::Accept | AgentAction::Close, Waiting) => Decision::Allowed,
        (AgentAction::Write, Waiting) => Decision::Denied(Denied::State("accept the conversation before writing")),
        (AgentAction::Accept, Active) if mine => Decision::AlreadyDone,
        (AgentAction::Accept, Active) => Decision::Denied(Denied::TakenBy),
        (AgentAction::Write | AgentAction::Close, Active) if mine => Decision::Allowed,
        (AgentAction::Write | AgentAction::Close, Active) => Decision::Denied(Denied::NotYours),
    }
}

/// Whether the agent `agent_id` (an admin when `is_admin`) may hand a
/// conversation in `status` owned by `owner` to someone else (a colleague, or the
/// queue): the owner of an active conversation, or an admin (the team's lead
/// reassigning the work of someone who left). A waiting conversation is not
/// handed over (any agent takes it), nor a closed one.
pub fn agent_may_transfer(
    status: ConversationStatus,
    owner: Option<AgentId>,
    agent_id: AgentId,
    is_admin: bool,
) -> Result<(), Denied> {
    match status {
        ConversationStatus::Waiting => Err(Denied::State("the conversation is waiting: anyone can accept it")),
        ConversationStatus::Closed => Err(Denied::State("the conversation is closed")),
        ConversationStatus::Active if owner == Some(agent_id) || is_admin => Ok(()),
        ConversationStatus::Active => Err(Denied::NotYours),
    }
}

/// Whether a visitor may rate a conversation: only their own (`own`: it is the
/// conversation their widget shows), only once it is closed (a rating is about
/// the whole conversation, and an open one may still go either way; one closed
/// while it waited counts too: "nobody answered" is feedback), and only once (a
/// second rating is refused, never a replacement: what agents saw stays true).
pub fn visitor_may_rate(own: bool, status: ConversationStatus, rated: bool) -> Result<(), Denied> {
    match (own, status, rated) {
        (false, _, _) => Err(Denied::NotYours),
        (true, ConversationStatus::Waiting | ConversationStatus::Active, _) => Err(Denied::State(
            "the conversation is still open: rate it once it has ended",
        )),
        (true, ConversationStatus::Closed, true) => Err(Denied::State("this conversation is already rated")),
        (true, ConversationStatus::Closed, false) => Ok(()),
    }
}

/// Why an agent may not use a capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UseDenied {
    /// The site policy turned it off for everyone.
    Site(Permission),
    /// An admin has not allowed this agent to use it.
    Agent(Permission),
}

impl UseDenied {
    /// The refusal's words, for the agent.
    pub fn message(self) -> String {
        match self {
            UseDenied::Site(p) => format!("{} is turned off for this site by its policy", p.noun()),
            UseDenied::Agent(p) => format!("an admin has not allowed you to use {}", p.noun()),
        }
    }
}

/// Whether an agent whose own permissions are `own` may use `permission` on a
/// site whose policy allows `site`. The site's word comes first: a capability it
/// turned off is off for everyone, and the refusal says so.
pub fn agent_may_use(permission: Permission, own: Permissions, site: Permissions) -> Result<(), UseDenied> {
    if !site.allows(permission) {
        Err(UseDenied::Site(permission))
    } else if !own.allows(permission) {
        Err(UseDenied::Agent(permission))
    } else {
        Ok(())
    }
}

/// Who an agent is for the consent model: the owner of an active conversation, or
/// another agent.
pub fn consent_actor(status: ConversationStatus, owner: Option<AgentId>, agent_id: AgentId) -> Actor {
    if status == ConversationStatus::Active && owner == Some(agent_id) {
        Actor::Owner
    } else {
        Actor::OtherAgent
    }
}

/// Whether the agent `agent_id` may read a conversation's transcript:
/// - a **waiting** conversation, every agent (to decide whether to take it);
/// - an **active** one, only the agent handling it;
/// - a **closed** one, every agent (the team's history).
///
/// Visitors read only their own conversation; that is checked by token, not here.
pub fn agent_may_read(status: ConversationStatus, owner: Option<AgentId>, agent_id: AgentId) -> bool {
    match status {
        ConversationStatus::Waiting | ConversationStatus::Closed => true,
        ConversationStatus::Active => owner == Some(agent_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_active_conversation_is_private_to_its_agent() {
        use ConversationStatus::*;
        let (me, other) = (AgentId(1), AgentId(2));
        assert!(agent_may_read(Waiting, None, me));
        assert!(agent_may_read(Active, Some(me), me));
        assert!(!agent_may_read(Active, Some(other), me));
        assert!(!agent_may_read(Active, None, me));
        assert!(agent_may_read(Closed, Some(other), me));
    }

    /// Every cell: permission × the agent's flag × the site's flag.
    #[test]
    fn the_permission_table() {
        for permission in Permission::ALL {
            for own in [false, true] {
                for site in [false, true] {
                    let own_set = Permissions::ALL.with(permission, own);
                    let site_set = Permissions::ALL.with(permission, site);
                    let expected = match (site, own) {
                        (false, _) => Err(UseDenied::Site(permission)),
                        (true, false) => Err(UseDenied::Agent(permission)),
                        (true, true) => Ok(()),
                    };
                    assert_eq!(
                        agent_may_use(permission, own_set, site_set),
                        expected,
                        "{permission:?} {own} {site}"
                    );
                    // The other permissions never matter.
                    let alone = Permissions::NONE.with(permission, own);
                    let site_alone = Permissions::NONE.with(permission, site);
                    assert_eq!(
                        agent_may_use(permission, alone, site_alone),
                        expected,
                        "{permission:?} alone"
                    );
                }
            }
        }
        assert_eq!(
            UseDenied::Site(Permission::ScreenShare).message(),
            "screen sharing is turned off for this site by its policy"
        );
        assert_eq!(
            UseDenied::Agent(Permission::Cobrowse).message(),
            "an admin has not allowed you to use co-browsing"
        );
    }

    /// Every cell: status × whose it is × admin or not.
    #[test]
    fn the_transfer_table() {
        use ConversationStatus::*;
        let me = AgentId(1);
        for status in [Waiting, Active, Closed] {
            for owner in [None, Some(me), Some(AgentId(2))] {
                for is_admin in [false, true] {
                    let got = agent_may_transfer(status, owner, me, is_admin);
                    let expected = match status {
                        Waiting => Err(self::Denied::State("the conversation is waiting: anyone can accept it")),
                        Closed => Err(self::Denied::State("the conversation is closed")),
                        Active if owner == Some(me) || is_admin => Ok(()),
                        Active => Err(self::Denied::NotYours),
                    };
                    assert_eq!(got, expected, "{status:?} owner {owner:?} admin {is_admin}");
                    // Whoever may write in it may hand it over; others only as admins.
                    if agent_may(AgentAction::Write, status, owner, me) == Decision::Allowed {
                        assert_eq!(got, Ok(()));
                    } else if !is_admin {
                        assert!(got.is_err());
                    }
                }
            }
        }
    }

    /// Every cell: whose it is × status × rated before. Exactly one cell allows,
    /// and a rating, once given, closes it.
    #[test]
    fn the_rating_table() {
        use ConversationStatus::*;
        let mut allowed = 0;
        for own in [false, true] {
            for status in [Waiting, Active, Closed] {
                for rated in [false, true] {
                    let got = visitor_may_rate(own, status, rated);
                    let expected = match (own, status, rated) {
                        (false, _, _) => Err(Denied::NotYours),
                        (true, Closed, false) => Ok(()),
                        (true, Closed, true) => Err(Denied::State("this conversation is already rated")),
                        (true, _, _) => Err(Denied::State(
                            "the conversation is still open: rate it once it has ended",
                        )),
                    };
                    assert_eq!(got, expected, "own {own} {status:?} rated {rated}");
                    if got.is_ok() {
                        allowed += 1;
                        assert!(
                            visitor_may_rate(own, status, true).is_err(),
                            "a rated conversation is rated again"
                        );
                    }
                }
            }
        }
        assert_eq!(allowed, 1);
    }

    /// Every cell: action × status × whose it is.
    #[test]
    fn the_agent_table() {
        use ConversationStatus::*;
        use Decision::*;
        let me = AgentId(1);
        let whose = [None, Some(me), Some(AgentId(2))];
        for action in AgentAction::ALL {
            for status in [Waiting, Active, Closed] {
                for owner in whose {
                    let decision = agent_may(action, status, owner, me);
                    let mine = owner == Some(me);
                    let expected = match (action, status) {
                        (AgentAction::Read, Active) if !mine => Denied(self::Denied::NotYours),
                        (AgentAction::Read, _) => Allowed,
                        (_, Closed) => Denied(self::Denied::State("the conversation is closed")),
                        (AgentAction::Accept | AgentAction::Close, Waiting) => Allowed,
                        (AgentAction::Write, Waiting) => {
                            Denied(self::Denied::State("accept the conversation before writing"))
                        }
                        (AgentAction::Accept, Active) if mine => AlreadyDone,
                        (AgentAction::Accept, Active) => Denied(self::Denied::TakenBy),
                        (_, Active) if mine => Allowed,
                        (_, Active) => Denied(self::Denied::NotYours),
                    };
                    assert_eq!(decision, expected, "{action:?} {status:?} owner {owner:?}");
                    // Nobody but the owner ever writes, and only while it is active.
                    if action == AgentAction::Write && decision == Allowed {
                        assert!(mine && status == Active);
                    }
                    assert_eq!(
                        consent_actor(status, owner, me) == Actor::Owner,
                        agent_may(AgentAction::Write, status, owner, me) == Allowed
                    );
                }
            }
        }
    }
}
