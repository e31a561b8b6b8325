//! Who may do what with a conversation: the one place for these rules, used by
//! the hub for the socket and by the server's HTTP API (ARCHITECTURE.md states
//! them). What a visitor grants an agent (screen share, co-browse, ...) is the
//! consent model's (`consent.rs`); who counts as the conversation's owner for it
//! is [`consent_actor`] here.

use sightline_proto::{AgentId, ConversationStatus, InviteRole, Invitee, Permission, Permissions};

use crate::consent::Actor;

/// What an agent does with a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AgentAction {
    /// Read its transcript and follow it live (see [`agent_may_read`]).
    Read,
    /// Take a waiting conversation.
    Accept,
    /// Write in it: messages, typing, pictures, internal notes.
    Write,
    /// Ask the visitor for something: a screen share, co-browsing, remote
    /// control, a screenshot; send them to a page. What the visitor grants is
    /// granted to the owner only.
    Ask,
    /// End it.
    Close,
    /// Invite a colleague in, change an invitee's role, take one out.
    Invite,
    /// Leave a conversation one was invited into.
    Leave,
}

impl AgentAction {
    pub const ALL: [AgentAction; 7] = [
        AgentAction::Read,
        AgentAction::Accept,
        AgentAction::Write,
        AgentAction::Ask,
        AgentAction::Close,
        AgentAction::Invite,
        AgentAction::Leave,
    ];
}

/// How an agent stands in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// The agent handling it.
    Owner,
    /// Invited in by the owner (or an admin), with this role.
    Invited(InviteRole),
    /// Anyone else.
    Outsider,
}

impl Standing {
    pub const ALL: [Standing; 4] = [
        Standing::Owner,
        Standing::Invited(InviteRole::Observer),
        Standing::Invited(InviteRole::Participant),
        Standing::Outsider,
    ];
}

/// How `agent` stands in a conversation owned by `owner` with these invitees.
pub fn standing(owner: Option<AgentId>, invitees: &[Invitee], agent: AgentId) -> Standing {
    if owner == Some(agent) {
        Standing::Owner
    } else if let Some(invitee) = invitees.iter().find(|i| i.agent.id == agent) {
        Standing::Invited(invitee.role)
    } else {
        Standing::Outsider
    }
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
    /// An observer writing: they were invited read-only.
    Observing,
    /// An invitee doing what only the owner does.
    OwnerOnly,
    /// Leaving a conversation one was not invited into.
    NotInvited,
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

/// Whether an agent who stands so in a conversation in `status` may do `action`:
/// - **read**: see [`agent_may_read`]; invitees too, while it is active;
/// - **accept**: a waiting conversation, any agent; one's own again is no error;
/// - **write**: the owner of an active conversation, and its participants;
/// - **ask**, **invite**: only the owner of an active conversation (admins may
///   also invite: [`agent_may_invite`]);
/// - **close**: a waiting one, any agent (spam); an active one, its owner;
/// - **leave**: an invitee.
///
/// Invitees exist only while a conversation is active: accepting it starts
/// them empty, handing it to the queue and closing it end them.
pub fn agent_may(action: AgentAction, status: ConversationStatus, standing: Standing) -> Decision {
    use AgentAction as A;
    use ConversationStatus::{Active, Closed, Waiting};
    use Standing::{Invited, Outsider, Owner};
    match (action, status, standing) {
        (A::Read, Waiting | Closed, _) | (A::Read, Active, Owner | Invited(_)) => Decision::Allowed,
        (A::Read, Active, Outsider) => Decision::Denied(Denied::NotYours),
        (_, Closed, _) => Decision::Denied(Denied::State("the conversation is closed")),
        (A::Accept | A::Close, Waiting, _) => Decision::Allowed,
        (A::Write | A::Ask, Waiting, _) => Decision::Denied(Denied::State("accept the conversation before writing")),
        (A::Invite, Waiting, _) => {
            Decision::Denied(Denied::State("accept the conversation before inviting a colleague"))
        }
        (A::Leave, Waiting, _) => Decision::Denied(Denied::NotInvited),
        (A::Accept, Active, Owner) => Decision::AlreadyDone,
        (A::Accept, Active, _) => Decision::Denied(Denied::TakenBy),
        (A::Write, Active, Owner | Invited(InviteRole::Participant)) => Decision::Allowed,
        (A::Write, Active, Invited(InviteRole::Observer)) => Decision::Denied(Denied::Observing),
        (A::Ask | A::Close | A::Invite, Active, Owner) => Decision::Allowed,
        (A::Ask | A::Close | A::Invite, Active, Invited(_)) => Decision::Denied(Denied::OwnerOnly),
        (A::Write | A::Ask | A::Close | A::Invite, Active, Outsider) => Decision::Denied(Denied::NotYours),
        (A::Leave, Active, Invited(_)) => Decision::Allowed,
        (A::Leave, Active, Owner) => Decision::Denied(Denied::State(
            "the owner does not leave: hand the conversation over or close it",
        )),
        (A::Leave, Active, Outsider) => Decision::Denied(Denied::NotInvited),
    }
}

/// Whether an agent who stands so (an admin when `is_admin`) may invite a
/// colleague into a conversation in `status`, change an invitee's role or take
/// one out: the owner of an active conversation, or an admin (a team lead
/// adding a colleague to someone else's conversation).
pub fn agent_may_invite(status: ConversationStatus, standing: Standing, is_admin: bool) -> Result<(), Denied> {
    match agent_may(AgentAction::Invite, status, standing) {
        Decision::Allowed | Decision::AlreadyDone => Ok(()),
        Decision::Denied(Denied::NotYours | Denied::OwnerOnly) if is_admin => Ok(()),
        Decision::Denied(denied) => Err(denied),
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
/// another agent (an invitee too: what the visitor grants, they grant the owner).
pub fn consent_actor(status: ConversationStatus, owner: Option<AgentId>, agent_id: AgentId) -> Actor {
    if status == ConversationStatus::Active && owner == Some(agent_id) {
        Actor::Owner
    } else {
        Actor::OtherAgent
    }
}

/// Whether the agent `agent_id` may read a conversation's transcript:
/// - a **waiting** conversation, every agent (to decide whether to take it);
/// - an **active** one, only the agent handling it and the colleagues they
///   invited in;
/// - a **closed** one, every agent (the team's history).
///
/// Visitors read only their own conversation; that is checked by token, not here.
pub fn agent_may_read(
    status: ConversationStatus,
    owner: Option<AgentId>,
    invitees: &[Invitee],
    agent_id: AgentId,
) -> bool {
    agent_may(AgentAction::Read, status, standing(owner, invitees, agent_id)) == Decision::Allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_active_conversation_is_private_to_its_agent() {
        use ConversationStatus::*;
        let (me, other) = (AgentId(1), AgentId(2));
        let invited = |role| {
            vec![Invitee {
                agent: sightline_proto::AgentRef {
                    id: me,
                    display_name: "Me".into(),
                    colour: None,
                },
                role,
            }]
        };
        assert!(agent_may_read(Waiting, None, &[], me));
        assert!(agent_may_read(Active, Some(me), &[], me));
        assert!(!agent_may_read(Active, Some(other), &[], me));
        assert!(!agent_may_read(Active, None, &[], me));
        assert!(agent_may_read(Closed, Some(other), &[], me));
        // Invited in, either way: the owner's colleague follows it.
        assert!(agent_may_read(Active, Some(other), &invited(InviteRole::Observer), me));
        assert!(agent_may_read(
            Active,
            Some(other),
            &invited(InviteRole::Participant),
            me
        ));
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
                    // Whoever may close it may hand it over; others only as admins.
                    if agent_may(AgentAction::Close, status, standing(owner, &[], me)) == Decision::Allowed
                        && status == Active
                    {
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

    /// Every cell: action × status × how the agent stands in it (owner, observer,
    /// participant, outsider), written out as the rule reads in words.
    #[test]
    fn the_agent_table() {
        use AgentAction as A;
        use ConversationStatus::*;
        use Decision::*;
        use InviteRole::{Observer, Participant};
        use Standing::*;
        let closed = Denied(self::Denied::State("the conversation is closed"));
        for action in AgentAction::ALL {
            for status in [Waiting, Active, Closed] {
                for who in Standing::ALL {
                    let decision = agent_may(action, status, who);
                    let expected = match (action, status, who) {
                        (A::Read, Active, Outsider) => Denied(self::Denied::NotYours),
                        (A::Read, _, _) => Allowed,
                        (_, Closed, _) => closed,
                        (A::Accept, Waiting, _) | (A::Close, Waiting, _) => Allowed,
                        (A::Write, Waiting, _) | (A::Ask, Waiting, _) => {
                            Denied(self::Denied::State("accept the conversation before writing"))
                        }
                        (A::Invite, Waiting, _) => Denied(self::Denied::State(
                            "accept the conversation before inviting a colleague",
                        )),
                        (A::Leave, Waiting, _) => Denied(self::Denied::NotInvited),
                        (A::Accept, Active, Owner) => AlreadyDone,
                        (A::Accept, Active, _) => Denied(self::Denied::TakenBy),
                        (A::Write, Active, Owner) | (A::Write, Active, Invited(Participant)) => Allowed,
                        (A::Write, Active, Invited(Observer)) => Denied(self::Denied::Observing),
                        (A::Leave, Active, Outsider) => Denied(self::Denied::NotInvited),
                        (_, Active, Outsider) => Denied(self::Denied::NotYours),
                        (A::Leave, Active, Invited(_)) => Allowed,
                        (A::Leave, Active, Owner) => Denied(self::Denied::State(
                            "the owner does not leave: hand the conversation over or close it",
                        )),
                        (_, Active, Owner) => Allowed,
                        (_, Active, Invited(_)) => Denied(self::Denied::OwnerOnly),
                    };
                    assert_eq!(decision, expected, "{action:?} {status:?} {who:?}");
                    // Only the owner and participants ever write, and only while
                    // it is active; only the owner asks the visitor for anything.
                    if action == A::Write && decision == Allowed {
                        assert!(status == Active && matches!(who, Owner | Invited(Participant)));
                    }
                    if action == A::Ask && decision == Allowed {
                        assert!(status == Active && who == Owner);
                    }
                }
            }
        }
    }

    /// The consent model's owner is the conversation's owner: never an invitee.
    #[test]
    fn only_the_owner_is_the_owner_for_consent() {
        use ConversationStatus::*;
        let me = AgentId(1);
        for status in [Waiting, Active, Closed] {
            for owner in [None, Some(me), Some(AgentId(2))] {
                assert_eq!(
                    consent_actor(status, owner, me) == Actor::Owner,
                    agent_may(AgentAction::Ask, status, standing(owner, &[], me)) == Decision::Allowed,
                    "{status:?} {owner:?}"
                );
            }
        }
    }

    /// Every cell: status × standing × admin or not.
    #[test]
    fn the_invite_table() {
        use ConversationStatus::*;
        for status in [Waiting, Active, Closed] {
            for who in Standing::ALL {
                for is_admin in [false, true] {
                    let got = agent_may_invite(status, who, is_admin);
                    let expected = match (status, who) {
                        (Waiting, _) => Err(self::Denied::State(
                            "accept the conversation before inviting a colleague",
                        )),
                        (Closed, _) => Err(self::Denied::State("the conversation is closed")),
                        (Active, Standing::Owner) => Ok(()),
                        (Active, _) if is_admin => Ok(()),
                        (Active, Standing::Outsider) => Err(self::Denied::NotYours),
                        (Active, Standing::Invited(_)) => Err(self::Denied::OwnerOnly),
                    };
                    assert_eq!(got, expected, "{status:?} {who:?} admin {is_admin}");
                }
            }
        }
    }

    #[test]
    fn standing_reads_the_owner_then_the_invitees() {
        let me = AgentId(1);
        let invitees = vec![Invitee {
            agent: sightline_proto::AgentRef {
                id: me,
                display_name: "Me".into(),
                colour: None,
            },
            role: InviteRole::Participant,
        }];
        assert_eq!(standing(Some(me), &[], me), Standing::Owner);
        assert_eq!(
            standing(Some(AgentId(2)), &invitees, me),
            Standing::Invited(InviteRole::Participant)
        );
        assert_eq!(standing(Some(AgentId(2)), &[], me), Standing::Outsider);
        assert_eq!(standing(None, &[], me), Standing::Outsider);
    }
}
