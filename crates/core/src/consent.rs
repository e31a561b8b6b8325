//! One consent model for every capability a visitor grants an agent: screen share,
//! co-browse, remote control and recording.
//!
//! [`transition`] is the whole model, a pure function of the capability, the
//! grant's current state, the step asked for and who asks. The hub resolves who is
//! asking ([`Actor`]) and applies what this table answers; it keeps no consent rule
//! of its own. The rules, each checked for every cell of the table by
//! `tests/consent.rs`, whose golden file `tests/consent_table.txt` lists every cell:
//!
//! - only the agent that owns the conversation asks, and only it may withdraw;
//! - only the visitor grants, each capability by its own deliberate step
//!   ([`Step::Allow`]), and only the visitor moves a grant forward after that;
//! - the visitor may revoke ([`Step::Stop`]) at any moment, from every state that
//!   is not over, and so may the server ([`Step::End`]: the conversation closed,
//!   the agent logged out, the visitor left);
//! - another agent or a stranger can do nothing at all;
//! - a state that is over stays over; only a new request starts again;
//! - repeating the step that led to the current state (a retry after a reconnect)
//!   changes nothing.

use std::fmt;

pub use sightline_proto::{Capability, GrantState as State};

/// What someone asks of a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// The agent asks for the capability.
    Ask,
    /// The visitor allows it (the deliberate click).
    Allow,
    /// The visitor says no.
    Decline,
    /// The visitor's browser opened its picker.
    Choose,
    /// The stream started.
    Start,
    /// The visitor closed the picker without choosing, or chose Block in the browser's prompt.
    Cancel,
    /// The visitor's browser could not do it.
    Fail,
    /// The visitor revokes it.
    Stop,
    /// The agent withdraws the request or ends the grant.
    Withdraw,
    /// The server ends it: the conversation closed, the agent logged out, the
    /// visitor left.
    End,
}

impl Step {
    pub const ALL: [Step; 10] = [
        Step::Ask,
        Step::Allow,
        Step::Decline,
        Step::Choose,
        Step::Start,
        Step::Cancel,
        Step::Fail,
        Step::Stop,
        Step::Withdraw,
        Step::End,
    ];

    /// Who may take this step at all.
    pub fn taken_by(self) -> Actor {
        match self {
            Step::Ask | Step::Withdraw => Actor::Owner,
            Step::End => Actor::Server,
            _ => Actor::Visitor,
        }
    }
}

/// Who asks, as the hub resolved it for this grant's conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Actor {
    /// The conversation's visitor.
    Visitor,
    /// The agent that owns the conversation.
    Owner,
    /// An agent that does not own it.
    OtherAgent,
    /// Anybody else: a visitor of another conversation, someone not logged in.
    Stranger,
    /// The server itself.
    Server,
}

impl Actor {
    pub const ALL: [Actor; 5] = [
        Actor::Visitor,
        Actor::Owner,
        Actor::OtherAgent,
        Actor::Stranger,
        Actor::Server,
    ];
}

/// Why a step was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This actor may never take this step.
    NotYours,
    /// The step does not fit the state (the reason is for the person).
    Invalid(&'static str),
}

/// What the table answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The grant moves to this state.
    Moved(State),
    /// Nothing changes, and that is fine (a step repeated, or an end of what is
    /// already over).
    Unchanged,
    Refused(Refusal),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Moved(state) => write!(f, "-> {state:?}"),
            Outcome::Unchanged => f.write_str("unchanged"),
            Outcome::Refused(Refusal::NotYours) => f.write_str("refused: not yours"),
            Outcome::Refused(Refusal::Invalid(why)) => write!(f, "refused: {why}"),
        }
    }
}

/// The transition table. `current` is `None` when the conversation has no grant
/// of this capability yet.
pub fn transition(capability: Capability, current: Option<State>, step: Step, actor: Actor) -> Outcome {
    use Outcome::{Moved, Unchanged};
    use State as S;
    use Step as T;
    if actor != step.taken_by() {
        return Outcome::Refused(Refusal::NotYours);
    }
    let invalid = |why: &'static str| Outcome::Refused(Refusal::Invalid(why));
    let picker = capability.has_picker();
    let Some(state) = current else {
        return match step {
            T::Ask => Moved(S::Asked),
            // Nothing to end.
            T::End => Unchanged,
            _ => invalid("nothing was asked"),
        };
    };
    if state.is_final() {
        return match step {
            T::Ask => Moved(S::Asked),
            // Ending what is over is no error: both sides may press at once.
            T::Stop | T::Withdraw | T::End => Unchanged,
            _ => invalid("it is over; ask again"),
        };
    }
    match (state, step) {
        (_, T::Ask) => invalid("it is already under way; end it first"),
        // Revocation, from every state that is not over.
        (S::Asked, T::Stop | T::Withdraw | T::End) => Moved(S::Cancelled),
        (_, T::Stop | T::Withdraw | T::End) => Moved(S::Ended),
        // A capability without a picker is never choosing; should it be, only an
        // end moves it.
        (S::Choosing, _) if !picker => invalid("there is no picker for this"),

        (S::Asked, T::Allow) => Moved(S::Allowed),
        (S::Asked, T::Decline) => Moved(S::Declined),
        // The browser cannot do it at all (no API, insecure page, pop-up blocked).
        (S::Asked, T::Fail) => Moved(S::Failed),
        (S::Asked, _) => invalid("the visitor has not allowed it yet"),

        (S::Allowed, T::Allow) => Unchanged,
        (S::Allowed | S::Active, T::Choose) if picker => Moved(S::Choosing),
        (S::Allowed | S::Choosing, T::Start) => Moved(S::Active),
        (S::Allowed | S::Choosing, T::Cancel) if picker => Moved(S::Cancelled),
        (S::Allowed | S::Choosing | S::Active, T::Fail) => Moved(S::Failed),
        (S::Choosing, T::Choose) | (S::Active, T::Start) => Unchanged,
        (_, T::Choose | T::Cancel) if !picker => invalid("there is no picker for this"),
        (_, T::Allow | T::Decline) => invalid("it was already allowed"),
        (S::Active, T::Cancel) => invalid("it has already started"),
        // Not reached: every other cell is matched above (the golden table shows
        // each one).
        _ => invalid("that step does not fit now"),
    }
}

/// The steps a visitor reports for a screen share.
impl From<sightline_proto::ShareStep> for Step {
    fn from(step: sightline_proto::ShareStep) -> Self {
        use sightline_proto::ShareStep as W;
        match step {
            W::Accepted => Step::Allow,
            W::Declined => Step::Decline,
            W::Choosing => Step::Choose,
            W::Sharing => Step::Start,
            W::Cancelled => Step::Cancel,
            W::Failed => Step::Fail,
            W::Stopped => Step::Stop,
        }
    }
}

/// The steps a visitor reports for a grant.
impl From<sightline_proto::GrantStep> for Step {
    fn from(step: sightline_proto::GrantStep) -> Self {
        use sightline_proto::GrantStep as W;
        match step {
            W::Allow => Step::Allow,
            W::Decline => Step::Decline,
            W::Start => Step::Start,
            W::Fail => Step::Fail,
            W::Stop => Step::Stop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::ShareState;

    #[test]
    fn share_states_map_both_ways_and_agree_on_final_and_granted() {
        for state in State::ALL {
            let wire = ShareState::from(state);
            assert_eq!(State::from(wire), state);
            assert_eq!(wire.is_final(), state.is_final());
            assert_eq!(wire.is_consented(), state.is_granted());
        }
    }
}
