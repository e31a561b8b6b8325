//! The consent model, every cell of it: each capability × each state (and no
//! grant yet) × each step × each actor. The rules of `sightline_core::consent` are
//! checked on every cell, and the whole table is compared with the golden file
//! `consent_table.txt` beside this test, so that any change to a cell is a
//! deliberate, reviewed change (`SIGHTLINE_UPDATE_GOLDEN=1` rewrites it).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use sightline_core::consent::{transition, Actor, Capability, Outcome, Refusal, State, Step};

fn states() -> impl Iterator<Item = Option<State>> {
    std::iter::once(None).chain(State::ALL.into_iter().map(Some))
}

fn cells() -> impl Iterator<Item = (Capability, Option<State>, Step, Actor, Outcome)> {
    Capability::ALL.into_iter().flat_map(|capability| {
        states().flat_map(move |state| {
            Step::ALL.into_iter().flat_map(move |step| {
                Actor::ALL.into_iter().map(move |actor| {
                    (
                        capability,
                        state,
                        step,
                        actor,
                        transition(capability, state, step, actor),
                    )
                })
            })
        })
    })
}

#[test]
fn the_table_has_every_cell() {
    assert_eq!(cells().count(), 4 * 9 * 10 * 5);
}

#[test]
fn another_agent_or_a_stranger_can_do_nothing_at_all() {
    for (capability, state, step, actor, outcome) in cells() {
        if matches!(actor, Actor::OtherAgent | Actor::Stranger) {
            assert_eq!(
                outcome,
                Outcome::Refused(Refusal::NotYours),
                "{capability:?} {state:?} {step:?} by {actor:?}"
            );
        }
    }
}

#[test]
fn each_step_belongs_to_one_actor() {
    for (capability, state, step, actor, outcome) in cells() {
        if actor != step.taken_by() {
            assert_eq!(
                outcome,
                Outcome::Refused(Refusal::NotYours),
                "{capability:?} {state:?} {step:?} by {actor:?}"
            );
        }
    }
    let visitor_steps: BTreeSet<Step> = Step::ALL
        .into_iter()
        .filter(|s| s.taken_by() == Actor::Visitor)
        .collect();
    assert!(visitor_steps.contains(&Step::Allow) && visitor_steps.contains(&Step::Stop));
    assert_eq!(Step::Ask.taken_by(), Actor::Owner);
    assert_eq!(Step::Withdraw.taken_by(), Actor::Owner);
    assert_eq!(Step::End.taken_by(), Actor::Server);
}

#[test]
fn consent_is_given_only_by_the_visitor_allowing_it() {
    for (capability, state, step, actor, outcome) in cells() {
        let was_granted = state.is_some_and(State::is_granted);
        if let Outcome::Moved(next) = outcome {
            if next.is_granted() && !was_granted {
                assert_eq!(
                    (state, step, actor),
                    (Some(State::Asked), Step::Allow, Actor::Visitor),
                    "{capability:?}"
                );
            }
        }
    }
}

#[test]
fn only_the_owner_asks_and_only_when_nothing_is_under_way() {
    for (capability, state, step, actor, outcome) in cells() {
        if outcome == Outcome::Moved(State::Asked) {
            assert_eq!((step, actor), (Step::Ask, Actor::Owner), "{capability:?} {state:?}");
            assert!(state.is_none_or(State::is_final), "{capability:?} {state:?}");
        }
        if step == Step::Ask && actor == Actor::Owner {
            assert_eq!(
                outcome == Outcome::Moved(State::Asked),
                state.is_none_or(State::is_final),
                "{capability:?} {state:?}"
            );
        }
    }
}

#[test]
fn the_visitor_the_owner_and_the_server_can_each_end_it_from_every_state() {
    for capability in Capability::ALL {
        for state in State::ALL {
            for (step, actor) in [
                (Step::Stop, Actor::Visitor),
                (Step::Withdraw, Actor::Owner),
                (Step::End, Actor::Server),
            ] {
                let outcome = transition(capability, Some(state), step, actor);
                if state.is_final() {
                    assert_eq!(outcome, Outcome::Unchanged, "{capability:?} {state:?} {step:?}");
                } else {
                    let Outcome::Moved(next) = outcome else {
                        panic!("{capability:?} {state:?} {step:?}: {outcome}");
                    };
                    assert!(
                        next.is_final() && !next.is_granted(),
                        "{capability:?} {state:?} {step:?}"
                    );
                    // Withdrawn before the visitor answered, or ended after.
                    let expected = if state == State::Asked {
                        State::Cancelled
                    } else {
                        State::Ended
                    };
                    assert_eq!(next, expected);
                }
            }
        }
        assert_eq!(
            transition(capability, None, Step::End, Actor::Server),
            Outcome::Unchanged
        );
    }
}

#[test]
fn what_is_over_stays_over_until_asked_again() {
    for (capability, state, step, actor, outcome) in cells() {
        if state.is_some_and(State::is_final) {
            match outcome {
                Outcome::Moved(next) => {
                    assert_eq!(
                        (step, actor, next),
                        (Step::Ask, Actor::Owner, State::Asked),
                        "{capability:?}"
                    )
                }
                Outcome::Unchanged => assert!(matches!(step, Step::Stop | Step::Withdraw | Step::End)),
                Outcome::Refused(_) => {}
            }
        }
    }
}

#[test]
fn a_repeated_step_changes_nothing() {
    for capability in Capability::ALL {
        for state in State::ALL.into_iter().filter(|s| !s.is_final()) {
            for step in Step::ALL {
                let actor = step.taken_by();
                if let Outcome::Moved(next) = transition(capability, Some(state), step, actor) {
                    if !next.is_final() && next != State::Asked {
                        assert_eq!(
                            transition(capability, Some(next), step, actor),
                            Outcome::Unchanged,
                            "{capability:?}: {step:?} again in {next:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn only_a_capability_with_a_picker_is_ever_choosing() {
    // Every state reachable from "nothing yet" by any sequence of steps.
    for capability in Capability::ALL {
        let mut reached: BTreeSet<State> = BTreeSet::new();
        let mut frontier: Vec<Option<State>> = vec![None];
        while let Some(state) = frontier.pop() {
            for step in Step::ALL {
                if let Outcome::Moved(next) = transition(capability, state, step, step.taken_by()) {
                    if reached.insert(next) {
                        frontier.push(Some(next));
                    }
                }
            }
        }
        assert_eq!(
            reached.contains(&State::Choosing),
            capability.has_picker(),
            "{capability:?}"
        );
        assert!(
            reached.contains(&State::Active) && reached.contains(&State::Ended),
            "{capability:?}"
        );
    }
}

#[test]
fn the_table_matches_the_golden_file() {
    let mut table = String::from(
        "# Every cell of sightline_core::consent::transition taken by the step's own actor:\n\
         # capability, state (- for none yet), step, actor: outcome. Every other actor is refused\n\
         # (the test another_agent_or_a_stranger_can_do_nothing_at_all and each_step_belongs_to_one_actor).\n\
         # Regenerate with SIGHTLINE_UPDATE_GOLDEN=1 cargo test -p sightline-core --test consent, and review the diff.\n",
    );
    for (capability, state, step, actor, outcome) in cells().filter(|cell| cell.3 == cell.2.taken_by()) {
        let state = state.map_or_else(|| "-".to_owned(), |s| format!("{s:?}"));
        writeln!(table, "{capability:?} {state} {step:?} {actor:?}: {outcome}").expect("writing to a String");
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/consent_table.txt");
    if std::env::var_os("SIGHTLINE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &table).expect("writing the golden file");
    }
    let golden = std::fs::read_to_string(&path).expect("tests/consent_table.txt exists");
    if golden != table {
        let first = golden
            .lines()
            .zip(table.lines())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("golden: {a}\n   now: {b}"));
        panic!(
            "the consent table changed; review it and regenerate with SIGHTLINE_UPDATE_GOLDEN=1\n{}",
            first.unwrap_or_else(|| "(a different number of lines)".into())
        );
    }
}
