//! Handing a conversation over (to a colleague or back to the queue) and internal
//! notes, driven on simulated time with the in-memory shell: every actor tried
//! (the visitor, the owner, another agent, an admin, a stranger), and what each
//! side receives, live and replayed.

mod common;

use common::*;
use sightline_proto::{
    AgentId, Capability, ClientMessage, ConversationId, ConversationStatus, ErrorCode, Event, EventKind, GrantState,
    GrantStep, Role, ServerMessage, ShareState, ShareStep,
};

const VISITOR: u64 = 1;
const STRANGER: u64 = 2;
const ANNA: u64 = 10;
const BEN: u64 = 11;
const CAROL: u64 = 12;

/// A visitor chatting with Anna; Ben and Carol (an admin) are online too. With
/// the visitor's token (the hub keeps only its hash).
fn chatting_with_token() -> (World, ConversationId, String) {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    w.agent(BEN, agent(2, "Ben"));
    let mut carol = agent(3, "Carol");
    carol.is_admin = true;
    w.agent(CAROL, carol);
    let token = w.visitor(VISITOR, None, 0);
    w.visitor(STRANGER, None, 0);
    w.visitor_says(VISITOR, "v1", "My invoice is wrong");
    let id = conversation_of(&w);
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    for conn in [VISITOR, STRANGER, ANNA, BEN, CAROL] {
        w.take(conn);
    }
    (w, id, token)
}

fn chatting() -> (World, ConversationId) {
    let (w, id, _) = chatting_with_token();
    (w, id)
}

fn note(w: &mut World, from: u64, id: &ConversationId, client_id: &str, text: &str) -> Vec<ServerMessage> {
    w.msg(
        from,
        ClientMessage::Note {
            conversation: id.clone(),
            client_id: client_id.into(),
            text: text.into(),
        },
    );
    w.take(from)
}

fn transfer(w: &mut World, from: u64, id: &ConversationId, to: Option<i64>, text: Option<&str>) -> Vec<ServerMessage> {
    w.msg(
        from,
        ClientMessage::Transfer {
            conversation: id.clone(),
            to: to.map(AgentId),
            note: text.map(Into::into),
        },
    );
    w.take(from)
}

#[test]
fn a_note_reaches_the_owner_only_and_never_the_visitor() {
    let (mut w, id) = chatting();
    let to_anna = note(&mut w, ANNA, &id, "n1", "Customer since 2019, be kind");
    let ack_seq = to_anna.iter().find_map(|m| match m {
        ServerMessage::Ack { client_id, seq, .. } if client_id == "n1" => Some(*seq),
        _ => None,
    });
    let stored = w.shell.events[&id].last().expect("stored").clone();
    assert_eq!(ack_seq, Some(stored.seq));
    assert!(
        matches!(&stored.kind, EventKind::Note { agent, text, .. } if agent.id == AgentId(1) && text == "Customer since 2019, be kind")
    );
    assert!(
        events(&to_anna).iter().any(|e| e.seq == stored.seq),
        "the owner sees it live"
    );
    for other in [VISITOR, STRANGER, BEN, CAROL] {
        assert!(
            !mentions(&w.take(other), "Customer since"),
            "socket {other} heard the note"
        );
    }
    // A retry is acknowledged again and stored once.
    let again = note(&mut w, ANNA, &id, "n1", "Customer since 2019, be kind");
    assert!(again
        .iter()
        .any(|m| matches!(m, ServerMessage::Ack { seq, .. } if *seq == stored.seq)));
    assert_eq!(w.shell.events[&id].len() as u64, stored.seq);
}

#[test]
fn only_the_owner_writes_notes() {
    let (mut w, id) = chatting();
    let before = w.shell.events[&id].len();
    assert_eq!(
        error_code(&note(&mut w, BEN, &id, "b1", "not mine")),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        error_code(&note(&mut w, CAROL, &id, "c1", "admin")),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        error_code(&note(&mut w, VISITOR, &id, "v9", "me")),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        error_code(&note(&mut w, STRANGER, &id, "s1", "me")),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        error_code(&note(&mut w, ANNA, &id, "a1", "   ")),
        Some(ErrorCode::BadRequest)
    );
    let long = "x".repeat(sightline_proto::MAX_TEXT_CHARS + 1);
    assert_eq!(
        error_code(&note(&mut w, ANNA, &id, "a2", &long)),
        Some(ErrorCode::TooLarge)
    );
    assert_eq!(w.shell.events[&id].len(), before, "nothing stored");
}

#[test]
fn a_replay_to_the_visitor_leaves_notes_out_and_agents_get_them() {
    let (mut w, id, token) = chatting_with_token();
    note(&mut w, ANNA, &id, "n1", "SECRET-NOTE");
    transfer(&mut w, ANNA, &id, Some(2), Some("SECRET-HANDOVER"));
    w.msg(
        BEN,
        ClientMessage::Sync {
            conversation: id.clone(),
            after_seq: 0,
        },
    );
    let ben = w.take(BEN);
    assert!(mentions(&ben, "SECRET-NOTE") && mentions(&ben, "SECRET-HANDOVER"));
    // The visitor opens another tab (a hello with their token) and asks for
    // everything: the welcome's replay and an explicit sync.
    w.visitor(20, Some(token), 0);
    w.msg(
        20,
        ClientMessage::Sync {
            conversation: id.clone(),
            after_seq: 0,
        },
    );
    let replayed = w.take(20);
    assert!(!mentions(&replayed, "SECRET"), "{replayed:?}");
    let kinds: Vec<_> = events(&replayed).into_iter().map(|e| e.kind).collect();
    assert!(kinds
        .iter()
        .any(|k| matches!(k, EventKind::Transferred { agent: Some(a), note: None, .. } if a.id == AgentId(2))));
    assert!(kinds.iter().any(|k| matches!(k, EventKind::Message { .. })));
    assert!(!kinds.iter().any(|k| matches!(k, EventKind::Note { .. })));
}

#[test]
fn the_owner_hands_over_with_a_note_and_everyone_learns_what_is_theirs() {
    let (mut w, id) = chatting();
    note(&mut w, ANNA, &id, "n1", "SECRET-NOTE");
    let to_anna = transfer(&mut w, ANNA, &id, Some(2), Some("SECRET-HANDOVER: refund approved"));
    assert_eq!(error_code(&to_anna), None);
    // Stored: the owner and the event, the note with it.
    assert_eq!(w.shell.statuses[&id], ConversationStatus::Active);
    assert_eq!(w.shell.owners[&id].as_ref().map(|a| a.id), Some(AgentId(2)));
    let last = w.shell.events[&id].last().expect("stored").clone();
    assert!(
        matches!(&last.kind, EventKind::Transferred { by, agent: Some(to), note: Some(n) }
        if by.id == AgentId(1) && to.id == AgentId(2) && n.starts_with("SECRET-HANDOVER"))
    );
    // Anna's console drops it: the summary names Ben.
    assert_eq!(
        summary_for(&to_anna).and_then(|s| s.agent).map(|a| a.id),
        Some(AgentId(2))
    );
    // Ben takes it up and may read all of it.
    let to_ben = w.take(BEN);
    let summary = summary_for(&to_ben).expect("Ben hears of it");
    assert_eq!(
        (summary.status, summary.last_seq),
        (ConversationStatus::Active, last.seq)
    );
    w.msg(
        BEN,
        ClientMessage::Sync {
            conversation: id.clone(),
            after_seq: 0,
        },
    );
    let history = w.take(BEN);
    assert!(mentions(&history, "SECRET-NOTE") && mentions(&history, "SECRET-HANDOVER"));
    // The visitor sees who they talk to now, not the note.
    let to_visitor = w.take(VISITOR);
    assert!(!mentions(&to_visitor, "SECRET"));
    assert!(events(&to_visitor).iter().any(
        |e| matches!(&e.kind, EventKind::Transferred { agent: Some(a), note: None, .. } if a.display_name == "Ben")
    ));
    // Nobody else hears anything.
    assert!(w.take(CAROL).is_empty());
    assert!(w.take(STRANGER).is_empty());
    // Ben writes now; Anna may not any more.
    w.msg(
        BEN,
        ClientMessage::Send {
            conversation: Some(id.clone()),
            client_id: "b1".into(),
            body: text("Hi, Ben here"),
        },
    );
    assert_eq!(error_code(&w.take(BEN)), None);
    w.msg(
        ANNA,
        ClientMessage::Send {
            conversation: Some(id.clone()),
            client_id: "a9".into(),
            body: text("still me?"),
        },
    );
    assert_eq!(error_code(&w.take(ANNA)), Some(ErrorCode::Forbidden));
    assert_eq!(
        error_code(&note(&mut w, ANNA, &id, "a8", "x")),
        Some(ErrorCode::Forbidden)
    );
    w.msg(
        ANNA,
        ClientMessage::Sync {
            conversation: id.clone(),
            after_seq: 0,
        },
    );
    assert_eq!(error_code(&w.take(ANNA)), Some(ErrorCode::Forbidden));
}

#[test]
fn back_to_the_queue_it_waits_for_anyone_again() {
    let (mut w, id) = chatting();
    assert_eq!(error_code(&transfer(&mut w, ANNA, &id, None, Some("  "))), None);
    assert_eq!(w.shell.statuses[&id], ConversationStatus::Waiting);
    assert_eq!(w.shell.owners[&id], None);
    let last = w.shell.events[&id].last().expect("stored").clone();
    assert!(
        matches!(
            &last.kind,
            EventKind::Transferred {
                agent: None,
                note: None,
                ..
            }
        ),
        "a blank note is none"
    );
    for conn in [BEN, CAROL] {
        let summary = summary_for(&w.take(conn)).expect("in every queue");
        assert_eq!((summary.status, summary.agent), (ConversationStatus::Waiting, None));
    }
    assert!(events(&w.take(VISITOR))
        .iter()
        .any(|e| matches!(e.kind, EventKind::Transferred { agent: None, .. })));
    // Ben accepts it like any waiting conversation.
    w.msg(
        BEN,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    assert_eq!(error_code(&w.take(BEN)), None);
    assert_eq!(w.shell.owners[&id].as_ref().map(|a| a.id), Some(AgentId(2)));
}

#[test]
fn who_may_hand_over_and_to_whom() {
    let (mut w, id) = chatting();
    let before = w.shell.events[&id].len();
    // Another agent, the visitor, a stranger: never.
    assert_eq!(
        error_code(&transfer(&mut w, BEN, &id, Some(2), None)),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        error_code(&transfer(&mut w, VISITOR, &id, Some(2), None)),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        error_code(&transfer(&mut w, STRANGER, &id, None, None)),
        Some(ErrorCode::Forbidden)
    );
    // Not to oneself, not to someone offline or unknown, not to a visitor's number.
    assert_eq!(
        error_code(&transfer(&mut w, ANNA, &id, Some(1), None)),
        Some(ErrorCode::InvalidState)
    );
    assert_eq!(
        error_code(&transfer(&mut w, ANNA, &id, Some(99), None)),
        Some(ErrorCode::NotFound)
    );
    let long = "x".repeat(sightline_proto::MAX_TEXT_CHARS + 1);
    assert_eq!(
        error_code(&transfer(&mut w, ANNA, &id, Some(2), Some(&long))),
        Some(ErrorCode::TooLarge)
    );
    assert_eq!(w.shell.events[&id].len(), before, "nothing stored");
    assert_eq!(w.shell.owners[&id].as_ref().map(|a| a.id), Some(AgentId(1)));
    // An admin may reassign someone else's conversation.
    assert_eq!(error_code(&transfer(&mut w, CAROL, &id, Some(2), None)), None);
    assert_eq!(w.shell.owners[&id].as_ref().map(|a| a.id), Some(AgentId(2)));
    // Anna no longer owns it; a waiting or closed one is not handed over.
    assert_eq!(
        error_code(&transfer(&mut w, ANNA, &id, Some(3), None)),
        Some(ErrorCode::Forbidden)
    );
    transfer(&mut w, BEN, &id, None, None);
    assert_eq!(
        error_code(&transfer(&mut w, CAROL, &id, Some(1), None)),
        Some(ErrorCode::InvalidState)
    );
    w.msg(
        BEN,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    w.msg(
        BEN,
        ClientMessage::Close {
            conversation: Some(id.clone()),
        },
    );
    assert_eq!(
        error_code(&transfer(&mut w, BEN, &id, Some(1), None)),
        Some(ErrorCode::InvalidState)
    );
}

#[test]
fn what_the_visitor_granted_the_old_owner_ends_at_the_handover() {
    let (mut w, id) = chatting();
    // A co-browse grant, live.
    w.msg(
        ANNA,
        ClientMessage::GrantAsk {
            conversation: id.clone(),
            capability: Capability::Cobrowse,
            message: None,
        },
    );
    let grant = w
        .take(VISITOR)
        .iter()
        .find_map(|m| match m {
            ServerMessage::Event { event, .. } => match &event.kind {
                EventKind::Grant {
                    grant,
                    state: GrantState::Asked,
                    ..
                } => Some(grant.clone()),
                _ => None,
            },
            _ => None,
        })
        .expect("asked");
    for step in [GrantStep::Allow, GrantStep::Start] {
        w.msg(
            VISITOR,
            ClientMessage::GrantStep {
                grant: grant.clone(),
                step,
                detail: None,
            },
        );
    }
    // A screen share, live.
    w.msg(
        ANNA,
        ClientMessage::ShareInvite {
            conversation: id.clone(),
            message: None,
        },
    );
    let share = w
        .take(VISITOR)
        .iter()
        .find_map(|m| match m {
            ServerMessage::Event { event, .. } => match &event.kind {
                EventKind::Share {
                    share,
                    state: ShareState::Invited,
                    ..
                } => Some(share.clone()),
                _ => None,
            },
            _ => None,
        })
        .expect("invited");
    for step in [ShareStep::Accepted, ShareStep::Choosing, ShareStep::Sharing] {
        w.msg(
            VISITOR,
            ClientMessage::ShareProgress {
                share: share.clone(),
                step,
                detail: None,
            },
        );
    }
    assert_eq!(w.shell.streams.len(), 1, "the co-browse stream is live");
    w.take(ANNA);
    w.take(VISITOR);

    transfer(&mut w, ANNA, &id, Some(2), None);
    assert!(w.shell.streams.is_empty(), "the relay was told to stop the stream");
    let stored = &w.shell.events[&id];
    let transferred_at = stored
        .iter()
        .position(|e| matches!(e.kind, EventKind::Transferred { .. }))
        .expect("stored");
    let ended: Vec<&Event> = stored[..transferred_at].iter().rev().take(2).collect();
    assert!(ended.iter().any(|e| matches!(
        e.kind,
        EventKind::Share {
            state: ShareState::Ended,
            ..
        }
    )));
    assert!(ended.iter().any(|e| matches!(
        e.kind,
        EventKind::Grant {
            state: GrantState::Ended,
            ..
        }
    )));
    // Ben inherits nothing: no summary of his shows a live share or grant.
    let summary = summary_for(&w.take(BEN)).expect("Ben hears of it");
    assert!(summary.share.as_ref().is_none_or(|s| s.state.is_final()));
    assert!(summary.grants.iter().all(|g| g.state.is_final()));
    // And he cannot act on the old ones.
    w.msg(BEN, ClientMessage::GrantEnd { grant: grant.clone() });
    let _ = w.take(BEN);
    assert!(w.shell.streams.is_empty());
    // Ending a share said why, to the visitor too.
    assert!(w.take(VISITOR).iter().any(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(&event.kind, EventKind::Share { state: ShareState::Ended, by: Role::Agent, detail: Some(d), .. } if d.contains("handed")))));
}

#[test]
fn agents_list_who_is_online_and_who_is_away() {
    let (mut w, _) = chatting();
    w.msg(BEN, ClientMessage::SetAway { away: true });
    w.take(BEN);
    w.msg(ANNA, ClientMessage::ListAgents);
    let list = w
        .take(ANNA)
        .into_iter()
        .find_map(|m| match m {
            ServerMessage::Agents { agents } => Some(agents),
            _ => None,
        })
        .expect("answered");
    let seen: Vec<(i64, &str, bool)> = list
        .iter()
        .map(|p| (p.agent.id.0, p.agent.display_name.as_str(), p.away))
        .collect();
    assert_eq!(seen, vec![(1, "Anna", false), (2, "Ben", true), (3, "Carol", false)]);
    assert_eq!(
        error_code(&{
            w.msg(VISITOR, ClientMessage::ListAgents);
            w.take(VISITOR)
        }),
        Some(ErrorCode::Forbidden)
    );
}
