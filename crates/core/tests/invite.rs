//! Inviting colleagues into a conversation (observers and participants), driven
//! on simulated time with the in-memory shell: who may invite, what each role may
//! do, what the visitor sees of it, leaving, being taken out, and what a handover
//! and closing do to invitations.

mod common;

use common::*;
use sightline_proto::{
    AgentId, Capability, ClientMessage, ConversationId, ConversationStatus, ConversationSummary, ErrorCode, Event,
    EventKind, InviteRole, Role, ServerMessage, MAX_INVITEES,
};

const VISITOR: u64 = 1;
const ANNA: u64 = 10;
const BEN: u64 = 11;
const CAROL: u64 = 12;
const DAN: u64 = 13;

/// A visitor chatting with Anna; Ben, Dan and Carol (an admin) are online too.
fn chatting() -> (World, ConversationId) {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    w.agent(BEN, agent(2, "Ben"));
    let mut carol = agent(3, "Carol");
    carol.is_admin = true;
    w.agent(CAROL, carol);
    w.agent(DAN, agent(4, "Dan"));
    w.visitor(VISITOR, None, 0);
    w.visitor_says(VISITOR, "v1", "My invoice is wrong");
    let id = conversation_of(&w);
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    for conn in [VISITOR, ANNA, BEN, CAROL, DAN] {
        w.take(conn);
    }
    (w, id)
}

fn invite(
    w: &mut World,
    from: u64,
    id: &ConversationId,
    who: i64,
    role: InviteRole,
    note: Option<&str>,
) -> Vec<ServerMessage> {
    w.msg(
        from,
        ClientMessage::Invite {
            conversation: id.clone(),
            agent: AgentId(who),
            role,
            note: note.map(Into::into),
        },
    );
    w.take(from)
}

fn say(w: &mut World, from: u64, id: &ConversationId, client_id: &str, s: &str) -> Vec<ServerMessage> {
    w.msg(
        from,
        ClientMessage::Send {
            conversation: Some(id.clone()),
            client_id: client_id.into(),
            body: text(s),
        },
    );
    w.take(from)
}

fn error_text(messages: &[ServerMessage]) -> Option<String> {
    messages.iter().find_map(|m| match m {
        ServerMessage::Error { message, .. } => Some(message.clone()),
        _ => None,
    })
}

fn roles(summary: &ConversationSummary) -> Vec<(i64, InviteRole)> {
    summary.invitees.iter().map(|i| (i.agent.id.0, i.role)).collect()
}

#[test]
fn an_observer_follows_live_and_writes_nothing() {
    let (mut w, id) = chatting();
    let to_anna = invite(
        &mut w,
        ANNA,
        &id,
        2,
        InviteRole::Observer,
        Some("watch the tone, secret"),
    );
    assert_eq!(error_code(&to_anna), None);
    let stored = w.shell.events[&id].last().expect("stored").clone();
    assert!(matches!(&stored.kind,
        EventKind::AgentInvited { agent, role: InviteRole::Observer, by, note: Some(_) }
            if agent.id == AgentId(2) && by.id == AgentId(1)));
    assert_eq!(
        summary_for(&to_anna).map(|s| roles(&s)),
        Some(vec![(2, InviteRole::Observer)])
    );
    // Ben learns of it; the visitor hears nothing of an observer; Dan nothing.
    let to_ben = w.take(BEN);
    let summary = summary_for(&to_ben).expect("Ben gets the conversation");
    assert_eq!(summary.status, ConversationStatus::Active);
    assert_eq!(roles(&summary), vec![(2, InviteRole::Observer)]);
    assert!(w.take(VISITOR).is_empty(), "the visitor is told nothing of an observer");
    assert!(w.take(DAN).is_empty());

    // Ben reads the history (notes included) and follows it live.
    w.msg(
        BEN,
        ClientMessage::Sync {
            conversation: id.clone(),
            after_seq: 0,
        },
    );
    let replay = w.take(BEN);
    assert_eq!(events(&replay).len() as u64, stored.seq);
    w.visitor_says(VISITOR, "v2", "Are you there?");
    w.take(VISITOR);
    assert!(events(&w.take(BEN)).iter().any(|e| matches!(
        &e.kind,
        EventKind::Message {
            from: Role::Visitor,
            ..
        }
    )));

    // Nothing he writes goes anywhere, and he is told why, by the owner's name.
    let before = w.shell.events[&id].len();
    let refused = say(&mut w, BEN, &id, "b1", "Hello from Ben");
    assert_eq!(error_code(&refused), Some(ErrorCode::Forbidden));
    assert_eq!(
        error_text(&refused).as_deref(),
        Some("you are observing this conversation: ask Anna to let you take part")
    );
    w.msg(
        BEN,
        ClientMessage::Note {
            conversation: id.clone(),
            client_id: "bn".into(),
            text: "a note".into(),
        },
    );
    assert_eq!(error_code(&w.take(BEN)), Some(ErrorCode::Forbidden));
    w.msg(
        BEN,
        ClientMessage::Typing {
            conversation: Some(id.clone()),
            active: true,
        },
    );
    assert_eq!(error_code(&w.take(BEN)), Some(ErrorCode::Forbidden));
    assert_eq!(w.shell.events[&id].len(), before);
    assert!(w.take(VISITOR).is_empty());
}

#[test]
fn a_participant_writes_and_the_visitor_sees_them_join_without_the_note() {
    let (mut w, id) = chatting();
    invite(&mut w, ANNA, &id, 2, InviteRole::Participant, Some("billing, secret"));
    let to_visitor = w.take(VISITOR);
    assert!(!mentions(&to_visitor, "secret"), "the note is for agents");
    assert!(events(&to_visitor).iter().any(|e| matches!(&e.kind,
        EventKind::AgentInvited { agent, role: InviteRole::Participant, note: None, .. } if agent.display_name == "Ben")));
    w.take(BEN);

    let to_ben = say(&mut w, BEN, &id, "b1", "Ben from billing here");
    let seq = w.shell.events[&id].last().expect("stored").seq;
    assert!(to_ben
        .iter()
        .any(|m| matches!(m, ServerMessage::Ack { seq: s, .. } if *s == seq)));
    assert!(events(&w.take(VISITOR)).iter().any(|e| matches!(&e.kind,
        EventKind::Message { from: Role::Agent, agent: Some(a), .. } if a.display_name == "Ben")));
    assert!(events(&w.take(ANNA)).iter().any(|e| e.seq == seq), "the owner sees it");
    // A retry is acknowledged again, stored once.
    let again = say(&mut w, BEN, &id, "b1", "Ben from billing here");
    assert!(again
        .iter()
        .any(|m| matches!(m, ServerMessage::Ack { seq: s, .. } if *s == seq)));
    assert_eq!(w.shell.events[&id].len() as u64, seq);

    // Notes too, but nothing that is the owner's alone.
    w.msg(
        BEN,
        ClientMessage::Note {
            conversation: id.clone(),
            client_id: "bn".into(),
            text: "checked the invoice".into(),
        },
    );
    assert_eq!(error_code(&w.take(BEN)), None);
    let owner_only = [
        ClientMessage::Close {
            conversation: Some(id.clone()),
        },
        ClientMessage::ShareInvite {
            conversation: id.clone(),
            message: None,
        },
        ClientMessage::GrantAsk {
            conversation: id.clone(),
            capability: Capability::Cobrowse,
            message: None,
        },
        ClientMessage::ScreenshotAsk {
            conversation: id.clone(),
            message: None,
        },
        ClientMessage::Transfer {
            conversation: id.clone(),
            to: Some(AgentId(4)),
            note: None,
        },
        ClientMessage::Invite {
            conversation: id.clone(),
            agent: AgentId(4),
            role: InviteRole::Observer,
            note: None,
        },
    ];
    for message in owner_only {
        let before = w.shell.events[&id].len();
        w.msg(BEN, message.clone());
        let answer = w.take(BEN);
        assert_eq!(error_code(&answer), Some(ErrorCode::Forbidden), "{message:?}");
        assert_eq!(w.shell.events[&id].len(), before, "{message:?}");
    }
    assert_eq!(w.shell.statuses[&id], ConversationStatus::Active);
}

#[test]
fn who_may_invite_and_whom() {
    let (mut w, id) = chatting();
    // Another agent may not; a visitor may not.
    assert_eq!(
        error_code(&invite(&mut w, BEN, &id, 4, InviteRole::Observer, None)),
        Some(ErrorCode::Forbidden)
    );
    w.msg(
        VISITOR,
        ClientMessage::Invite {
            conversation: id.clone(),
            agent: AgentId(2),
            role: InviteRole::Participant,
            note: None,
        },
    );
    assert_eq!(error_code(&w.take(VISITOR)), Some(ErrorCode::Forbidden));
    // Nobody offline or unknown, nor the owner.
    assert_eq!(
        error_code(&invite(&mut w, ANNA, &id, 99, InviteRole::Observer, None)),
        Some(ErrorCode::NotFound)
    );
    assert_eq!(
        error_code(&invite(&mut w, ANNA, &id, 1, InviteRole::Observer, None)),
        Some(ErrorCode::InvalidState)
    );
    // An admin may, in someone else's conversation, and hears the outcome.
    let to_carol = invite(&mut w, CAROL, &id, 2, InviteRole::Observer, None);
    assert_eq!(error_code(&to_carol), None);
    assert_eq!(
        summary_for(&to_carol).map(|s| roles(&s)),
        Some(vec![(2, InviteRole::Observer)])
    );
    assert!(summary_for(&w.take(ANNA)).is_some(), "the owner is told");
    // The same again is no change.
    assert_eq!(
        error_code(&invite(&mut w, ANNA, &id, 2, InviteRole::Observer, None)),
        Some(ErrorCode::InvalidState)
    );
    // Too long a note.
    assert_eq!(
        error_code(&invite(
            &mut w,
            ANNA,
            &id,
            4,
            InviteRole::Observer,
            Some(&"x".repeat(4001))
        )),
        Some(ErrorCode::TooLarge)
    );
    // A waiting conversation has nobody to invite anyone.
    w.visitor(20, None, 0);
    w.visitor_says(20, "w1", "Hi");
    let waiting = w
        .shell
        .events
        .keys()
        .find(|k| **k != id)
        .expect("a second conversation")
        .clone();
    assert_eq!(
        error_code(&invite(&mut w, ANNA, &waiting, 2, InviteRole::Observer, None)),
        Some(ErrorCode::InvalidState)
    );
}

#[test]
fn at_most_five_invitees_and_invitations_are_rate_limited() {
    let (mut w, id) = chatting();
    for n in 0..(MAX_INVITEES as i64 + 1) {
        w.agent(100 + n as u64, agent(50 + n, &format!("Agent {n}")));
    }
    for n in 0..MAX_INVITEES as i64 {
        assert_eq!(
            error_code(&invite(&mut w, ANNA, &id, 50 + n, InviteRole::Observer, None)),
            None
        );
    }
    let refused = invite(&mut w, ANNA, &id, 50 + MAX_INVITEES as i64, InviteRole::Observer, None);
    assert_eq!(error_code(&refused), Some(ErrorCode::TooLarge));
    // Changing a role is not one more invitee, but counts against the allowance
    // (10 at once): five invitations above, five changes now, then refused.
    for n in 0..5 {
        let role = if n % 2 == 0 {
            InviteRole::Participant
        } else {
            InviteRole::Observer
        };
        assert_eq!(
            error_code(&invite(&mut w, ANNA, &id, 50, role, None)),
            None,
            "change {n}"
        );
    }
    let limited = invite(&mut w, ANNA, &id, 50, InviteRole::Observer, None);
    assert_eq!(error_code(&limited), Some(ErrorCode::RateLimited));
    // It comes back with time.
    w.now += 20_000;
    assert_eq!(
        error_code(&invite(&mut w, ANNA, &id, 50, InviteRole::Observer, None)),
        None
    );
}

#[test]
fn a_participant_made_an_observer_has_left_for_the_visitor() {
    let (mut w, id) = chatting();
    invite(&mut w, ANNA, &id, 2, InviteRole::Participant, None);
    w.take(VISITOR);
    invite(&mut w, ANNA, &id, 2, InviteRole::Observer, None);
    let to_visitor = events(&w.take(VISITOR));
    assert!(
        matches!(to_visitor.as_slice(), [Event { kind: EventKind::AgentLeft { agent, role: InviteRole::Participant, .. }, .. }] if agent.id == AgentId(2)),
        "{to_visitor:?}"
    );
    assert_eq!(
        error_code(&say(&mut w, BEN, &id, "b1", "still here?")),
        Some(ErrorCode::Forbidden)
    );
}

#[test]
fn an_invitee_leaves_and_the_owner_takes_one_out() {
    let (mut w, id) = chatting();
    invite(&mut w, ANNA, &id, 2, InviteRole::Observer, None);
    invite(&mut w, ANNA, &id, 4, InviteRole::Participant, None);
    for conn in [VISITOR, ANNA, BEN, CAROL, DAN] {
        w.take(conn);
    }
    // An observer takes nobody out, and the owner does not leave.
    w.msg(
        BEN,
        ClientMessage::Uninvite {
            conversation: id.clone(),
            agent: AgentId(4),
        },
    );
    assert_eq!(error_code(&w.take(BEN)), Some(ErrorCode::Forbidden));
    w.msg(
        ANNA,
        ClientMessage::Leave {
            conversation: id.clone(),
        },
    );
    assert_eq!(error_code(&w.take(ANNA)), Some(ErrorCode::InvalidState));
    w.msg(
        CAROL,
        ClientMessage::Leave {
            conversation: id.clone(),
        },
    );
    assert_eq!(error_code(&w.take(CAROL)), Some(ErrorCode::Forbidden));

    // Ben leaves: an agents-only event; his console drops it; he reads no more.
    w.msg(
        BEN,
        ClientMessage::Leave {
            conversation: id.clone(),
        },
    );
    let to_ben = w.take(BEN);
    assert_eq!(error_code(&to_ben), None);
    assert_eq!(
        summary_for(&to_ben).map(|s| roles(&s)),
        Some(vec![(4, InviteRole::Participant)])
    );
    assert!(matches!(&w.shell.events[&id].last().expect("stored").kind,
        EventKind::AgentLeft { agent, by, role: InviteRole::Observer } if agent.id == AgentId(2) && by.id == AgentId(2)));
    assert!(w.take(VISITOR).is_empty(), "an observer's leaving is agents-only");
    w.msg(
        BEN,
        ClientMessage::Sync {
            conversation: id.clone(),
            after_seq: 0,
        },
    );
    assert_eq!(error_code(&w.take(BEN)), Some(ErrorCode::Forbidden));

    // Anna takes Dan out: the visitor sees a participant leave.
    w.msg(
        ANNA,
        ClientMessage::Uninvite {
            conversation: id.clone(),
            agent: AgentId(4),
        },
    );
    assert_eq!(error_code(&w.take(ANNA)), None);
    assert!(summary_for(&w.take(DAN)).is_some_and(|s| s.invitees.is_empty()));
    assert!(events(&w.take(VISITOR)).iter().any(|e| matches!(&e.kind,
        EventKind::AgentLeft { agent, by, role: InviteRole::Participant } if agent.id == AgentId(4) && by.id == AgentId(1))));
    assert_eq!(
        error_code(&say(&mut w, DAN, &id, "d1", "one more thing")),
        Some(ErrorCode::Forbidden)
    );
    // Taking out someone who is not in is an error.
    w.msg(
        ANNA,
        ClientMessage::Uninvite {
            conversation: id.clone(),
            agent: AgentId(4),
        },
    );
    assert_eq!(error_code(&w.take(ANNA)), Some(ErrorCode::NotFound));
}

#[test]
fn handed_to_an_invitee_they_own_it_and_the_others_stay() {
    let (mut w, id) = chatting();
    invite(&mut w, ANNA, &id, 2, InviteRole::Observer, None);
    invite(&mut w, ANNA, &id, 4, InviteRole::Participant, None);
    for conn in [VISITOR, ANNA, BEN, CAROL, DAN] {
        w.take(conn);
    }
    w.msg(
        ANNA,
        ClientMessage::Transfer {
            conversation: id.clone(),
            to: Some(AgentId(2)),
            note: None,
        },
    );
    assert_eq!(error_code(&w.take(ANNA)), None);
    let to_ben = summary_for(&w.take(BEN)).expect("Ben hears it");
    assert_eq!(to_ben.agent.as_ref().map(|a| a.id), Some(AgentId(2)));
    assert_eq!(roles(&to_ben), vec![(4, InviteRole::Participant)]);
    let to_dan = summary_for(&w.take(DAN)).expect("Dan hears whose it is now");
    assert_eq!(to_dan.agent.as_ref().map(|a| a.id), Some(AgentId(2)));
    // Ben writes as the owner now; Anna no longer does.
    assert_eq!(error_code(&say(&mut w, BEN, &id, "b1", "Ben here")), None);
    assert_eq!(
        error_code(&say(&mut w, ANNA, &id, "a1", "still me?")),
        Some(ErrorCode::Forbidden)
    );
}

#[test]
fn back_in_the_queue_or_closed_nobody_is_invited() {
    let (mut w, id) = chatting();
    invite(&mut w, ANNA, &id, 2, InviteRole::Participant, None);
    w.msg(
        ANNA,
        ClientMessage::Transfer {
            conversation: id.clone(),
            to: None,
            note: None,
        },
    );
    let to_ben = summary_for(&w.take(BEN)).expect("in everyone's queue");
    assert_eq!(to_ben.status, ConversationStatus::Waiting);
    assert!(to_ben.invitees.is_empty());

    // Taken again, invited again, then closed: the invitee's console closes it.
    w.msg(
        DAN,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    invite(&mut w, DAN, &id, 2, InviteRole::Participant, None);
    w.take(BEN);
    w.msg(
        DAN,
        ClientMessage::Close {
            conversation: Some(id.clone()),
        },
    );
    let to_ben = summary_for(&w.take(BEN)).expect("Ben is told it closed");
    assert_eq!(to_ben.status, ConversationStatus::Closed);
    assert!(to_ben.invitees.is_empty());
    assert_eq!(
        error_code(&say(&mut w, BEN, &id, "b2", "after the end")),
        Some(ErrorCode::InvalidState)
    );
}

#[test]
fn an_invitee_who_reconnects_gets_the_conversation_in_the_welcome() {
    let (mut w, id) = chatting();
    invite(&mut w, ANNA, &id, 2, InviteRole::Observer, None);
    w.input(sightline_core::Input::Disconnected {
        conn: sightline_core::ConnId(BEN),
    });
    let welcome = w.agent(30, agent(2, "Ben"));
    let listed = welcome.iter().find_map(|m| match m {
        ServerMessage::AgentWelcome { conversations, .. } => Some(conversations.iter().find(|c| c.id == id).cloned()),
        _ => None,
    });
    let listed = listed.flatten().expect("the welcome lists it");
    assert_eq!(roles(&listed), vec![(2, InviteRole::Observer)]);
    // Dan, never invited, does not get it.
    let welcome = w.agent(31, agent(4, "Dan"));
    assert!(!mentions(&welcome, id.as_str()));
}

#[test]
fn a_visitor_who_comes_back_is_told_of_participants_and_never_of_observers() {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    w.agent(BEN, agent(2, "Ben"));
    w.agent(DAN, agent(4, "Dan"));
    let token = w.visitor(VISITOR, None, 0);
    w.visitor_says(VISITOR, "v1", "My invoice is wrong");
    let id = conversation_of(&w);
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    invite(&mut w, ANNA, &id, 2, InviteRole::Observer, None);
    invite(&mut w, ANNA, &id, 4, InviteRole::Participant, None);
    w.input(sightline_core::Input::Disconnected {
        conn: sightline_core::ConnId(VISITOR),
    });
    w.input(sightline_core::Input::Connected {
        conn: sightline_core::ConnId(40),
        peer: sightline_core::Peer::Visitor,
        address: std::net::IpAddr::from([127, 0, 0, 1]),
        client: Default::default(),
    });
    w.msg(
        40,
        ClientMessage::VisitorHello {
            protocol: sightline_proto::PROTOCOL_VERSION,
            token: Some(token),
            after_seq: 0,
            page: None,
            device: None,
        },
    );
    let welcome = w.take(40);
    let summary = welcome
        .iter()
        .find_map(|m| match m {
            ServerMessage::VisitorWelcome { conversation, .. } => conversation.clone(),
            _ => None,
        })
        .expect("the welcome has the conversation");
    assert_eq!(roles(&summary), vec![(4, InviteRole::Participant)]);
    assert!(!mentions(&welcome, "Ben"), "{welcome:?}");
}

/// The invitees' `agent_left` events (by themselves) among `events`.
fn left(events: &[Event]) -> Vec<(i64, InviteRole)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AgentLeft { agent, role, by } => {
                assert_eq!(by.id, agent.id, "they left by themselves");
                Some((agent.id.0, *role))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn invitees_leave_as_events_when_the_conversation_closes_or_goes_back_to_the_queue() {
    let (mut w, id) = chatting();
    invite(&mut w, ANNA, &id, 2, InviteRole::Participant, None);
    invite(&mut w, ANNA, &id, 4, InviteRole::Observer, None);
    for conn in [VISITOR, BEN, DAN] {
        w.take(conn);
    }
    w.msg(
        ANNA,
        ClientMessage::Transfer {
            conversation: id.clone(),
            to: None,
            note: None,
        },
    );
    // Back in the queue: both leave, in the stored history, before the handover;
    // the visitor sees only the participant go; each invitee hears their own leaving.
    let stored = &w.shell.events[&id];
    let transferred = stored
        .iter()
        .position(|e| matches!(e.kind, EventKind::Transferred { .. }))
        .expect("the handover is stored");
    assert_eq!(
        left(&stored[..transferred]),
        vec![(2, InviteRole::Participant), (4, InviteRole::Observer)]
    );
    assert_eq!(left(&events(&w.take(VISITOR))), vec![(2, InviteRole::Participant)]);
    assert_eq!(
        left(&events(&w.take(BEN))),
        vec![(2, InviteRole::Participant), (4, InviteRole::Observer)]
    );
    assert!(left(&events(&w.take(DAN))).contains(&(4, InviteRole::Observer)));

    // Taken again, Ben invited again, closed by the visitor: Ben leaves before the close.
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    invite(&mut w, ANNA, &id, 2, InviteRole::Participant, None);
    w.take(VISITOR);
    w.take(BEN);
    w.msg(
        VISITOR,
        ClientMessage::Close {
            conversation: Some(id.clone()),
        },
    );
    let to_visitor = events(&w.take(VISITOR));
    assert_eq!(left(&to_visitor), vec![(2, InviteRole::Participant)]);
    let closed = to_visitor
        .iter()
        .position(|e| matches!(e.kind, EventKind::Closed { .. }))
        .expect("the visitor sees the close");
    let gone = to_visitor
        .iter()
        .position(|e| matches!(e.kind, EventKind::AgentLeft { .. }))
        .expect("and Ben leave");
    assert!(gone < closed, "Ben leaves before the conversation closes");
    assert_eq!(left(&events(&w.take(BEN))), vec![(2, InviteRole::Participant)]);
}
