//! Screen-share scenarios: consent, the signaling relay, who may do what, session
//! keys. Driven on simulated time.

mod common;

use common::*;
use sightline_core::{Allowance, ConnId, Input, LimitKind, Limits, ShareSettings, TurnSettings};
use sightline_proto::{
    AgentId, ClientMessage, ConversationId, ConversationStatus, ErrorCode, EventKind, IceServer, Role, ServerMessage,
    ShareId, ShareMode, ShareState, ShareStep, Signal,
};

const VISITOR: u64 = 1;
const ANNA: u64 = 10;

fn offer() -> Signal {
    Signal::Description {
        sdp_type: "offer".into(),
        sdp: "v=0 fake offer".into(),
    }
}

fn candidate() -> Signal {
    Signal::Candidate {
        candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
        username_fragment: None,
    }
}

/// A visitor chatting with Anna; returns (world, conversation id).
fn chatting(settings: ShareSettings) -> (World, ConversationId) {
    let (w, id, _) = chatting_with_token(settings);
    (w, id)
}

fn chatting_with_token(settings: ShareSettings) -> (World, ConversationId, String) {
    let mut w = World::with_settings(settings);
    w.agent(ANNA, agent(1, "Anna"));
    let token = w.visitor(VISITOR, None, 0);
    w.visitor_says(VISITOR, "v1", "I can't find the button");
    let id = conversation_of(&w);
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    w.take(VISITOR);
    w.take(ANNA);
    (w, id, token)
}

fn invite(w: &mut World, id: &ConversationId) -> ShareId {
    w.msg(
        ANNA,
        ClientMessage::ShareInvite {
            conversation: id.clone(),
            message: Some("Could I see your screen?".into()),
        },
    );
    let events = w.take(VISITOR);
    let share = events
        .iter()
        .find_map(|m| match m {
            ServerMessage::Event { event, .. } => match &event.kind {
                EventKind::Share {
                    share,
                    state: ShareState::Invited,
                    message,
                    ..
                } => {
                    assert_eq!(message.as_deref(), Some("Could I see your screen?"));
                    Some(share.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .expect("the visitor sees the invitation");
    w.take(ANNA);
    share
}

fn progress(w: &mut World, share: &ShareId, step: ShareStep) {
    w.msg(
        VISITOR,
        ClientMessage::ShareProgress {
            share: share.clone(),
            step,
            detail: None,
        },
    );
}

fn share_states(w: &World, id: &ConversationId) -> Vec<ShareState> {
    w.shell.events[id]
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Share { state, .. } => Some(*state),
            _ => None,
        })
        .collect()
}

fn signals(messages: &[ServerMessage]) -> Vec<(Role, Signal)> {
    messages
        .iter()
        .filter_map(|m| match m {
            ServerMessage::ShareSignal { from, signal, .. } => Some((*from, signal.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn consent_then_setup_then_signaling_both_ways_and_every_step_is_stored() {
    let settings = ShareSettings {
        ice_servers: vec![IceServer {
            urls: vec!["stun:127.0.0.1:3478".into()],
            username: None,
            credential: None,
        }],
        turn: Some(TurnSettings {
            urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
            secret: "s3cret".into(),
            ttl_secs: 600,
        }),
        ..ShareSettings::default()
    };
    let (mut w, id) = chatting(settings);
    let share = invite(&mut w, &id);
    progress(&mut w, &share, ShareStep::Accepted);
    for conn in [VISITOR, ANNA] {
        let setup = w
            .take(conn)
            .into_iter()
            .find_map(|m| match m {
                ServerMessage::ShareSetup { setup, .. } => Some(setup),
                _ => None,
            })
            .expect("both ends get the setup on consent");
        assert_eq!(setup.ice_servers.len(), 2);
        let turn = &setup.ice_servers[1];
        let username = turn.username.as_deref().expect("minted username");
        assert_eq!(username, format!("{}:{share}", w.now / 1000 + 600));
        assert_eq!(
            turn.credential.as_deref(),
            Some(
                sightline_core::turn_credentials("s3cret", share.as_str(), w.now, 600)
                    .1
                    .as_str()
            )
        );
        assert_eq!(setup.limits.max_bitrate_bps, 1_500_000);
        assert_eq!(setup.mode, ShareMode::Text);
    }
    progress(&mut w, &share, ShareStep::Choosing);
    progress(&mut w, &share, ShareStep::Sharing);
    w.take(ANNA);
    w.msg(
        VISITOR,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: offer(),
        },
    );
    w.msg(
        VISITOR,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: candidate(),
        },
    );
    assert_eq!(
        signals(&w.take(ANNA)),
        vec![(Role::Visitor, offer()), (Role::Visitor, candidate())]
    );
    assert!(
        signals(&w.take(VISITOR)).is_empty(),
        "a signal is not echoed to its sender"
    );
    let answer = Signal::Description {
        sdp_type: "answer".into(),
        sdp: "v=0 fake answer".into(),
    };
    w.msg(
        ANNA,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: answer.clone(),
        },
    );
    w.msg(
        ANNA,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: Signal::Mode {
                mode: ShareMode::Motion,
            },
        },
    );
    assert_eq!(
        signals(&w.take(VISITOR)),
        vec![
            (Role::Agent, answer),
            (
                Role::Agent,
                Signal::Mode {
                    mode: ShareMode::Motion
                }
            )
        ]
    );
    progress(&mut w, &share, ShareStep::Stopped);
    assert_eq!(
        share_states(&w, &id),
        vec![
            ShareState::Invited,
            ShareState::Accepted,
            ShareState::Choosing,
            ShareState::Sharing,
            ShareState::Ended
        ]
    );
    // Over: no more signals.
    w.msg(
        VISITOR,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: candidate(),
        },
    );
    assert_eq!(error_code(&w.take(VISITOR)), Some(ErrorCode::Forbidden));
}

#[test]
fn signaling_before_consent_is_refused_and_relays_nothing() {
    let (mut w, id) = chatting(ShareSettings::default());
    let share = invite(&mut w, &id);
    w.msg(
        ANNA,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: offer(),
        },
    );
    assert_eq!(error_code(&w.take(ANNA)), Some(ErrorCode::Forbidden));
    w.msg(
        VISITOR,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: offer(),
        },
    );
    assert_eq!(error_code(&w.take(VISITOR)), Some(ErrorCode::Forbidden));
    assert!(signals(&w.take(ANNA)).is_empty());
    progress(&mut w, &share, ShareStep::Declined);
    w.msg(
        ANNA,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: offer(),
        },
    );
    assert_eq!(
        error_code(&w.take(ANNA)),
        Some(ErrorCode::NotFound),
        "a declined share is over"
    );
    assert!(signals(&w.take(VISITOR)).is_empty());
    assert_eq!(share_states(&w, &id), vec![ShareState::Invited, ShareState::Declined]);
}

#[test]
fn only_the_visitor_moves_a_share_forward_and_only_by_legal_steps() {
    let (mut w, id) = chatting(ShareSettings::default());
    let share = invite(&mut w, &id);
    // Skipping consent is refused.
    progress(&mut w, &share, ShareStep::Sharing);
    assert_eq!(error_code(&w.take(VISITOR)), Some(ErrorCode::InvalidState));
    // The agent cannot consent on the visitor's behalf.
    w.msg(
        ANNA,
        ClientMessage::ShareProgress {
            share: share.clone(),
            step: ShareStep::Accepted,
            detail: None,
        },
    );
    assert_eq!(error_code(&w.take(ANNA)), Some(ErrorCode::Forbidden));
    // A second invitation while one is open is refused.
    w.msg(
        ANNA,
        ClientMessage::ShareInvite {
            conversation: id.clone(),
            message: None,
        },
    );
    assert_eq!(error_code(&w.take(ANNA)), Some(ErrorCode::InvalidState));
    progress(&mut w, &share, ShareStep::Accepted);
    progress(&mut w, &share, ShareStep::Accepted); // a retry changes nothing
    progress(&mut w, &share, ShareStep::Failed);
    assert_eq!(
        share_states(&w, &id),
        vec![ShareState::Invited, ShareState::Accepted, ShareState::Failed]
    );
    let detail = w.shell.events[&id].iter().rev().find_map(|e| match &e.kind {
        EventKind::Share { detail, .. } => detail.clone(),
        _ => None,
    });
    assert!(detail.is_some(), "a failure always says something");
}

#[test]
fn strangers_cannot_touch_a_share() {
    let (mut w, id) = chatting(ShareSettings::default());
    w.agent(11, agent(2, "Ben"));
    w.visitor(2, None, 0);
    w.visitor_says(2, "x1", "hello");
    w.take(2);
    let share = invite(&mut w, &id);
    progress(&mut w, &share, ShareStep::Accepted);
    w.take(ANNA);
    w.take(VISITOR);
    for message in [
        ClientMessage::ShareProgress {
            share: share.clone(),
            step: ShareStep::Stopped,
            detail: None,
        },
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: offer(),
        },
        ClientMessage::ShareEnd { share: share.clone() },
    ] {
        w.msg(2, message);
        assert_eq!(error_code(&w.take(2)), Some(ErrorCode::Forbidden));
    }
    for message in [
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: offer(),
        },
        ClientMessage::ShareEnd { share: share.clone() },
    ] {
        w.msg(11, message);
        assert_eq!(error_code(&w.take(11)), Some(ErrorCode::Forbidden));
    }
    w.msg(
        11,
        ClientMessage::ShareInvite {
            conversation: id.clone(),
            message: None,
        },
    );
    assert_eq!(error_code(&w.take(11)), Some(ErrorCode::Forbidden));
    // The visitor cannot ask for a restart or change the mode: those are the agent's.
    w.msg(
        VISITOR,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: Signal::Mode {
                mode: ShareMode::Motion,
            },
        },
    );
    assert_eq!(error_code(&w.take(VISITOR)), Some(ErrorCode::Forbidden));
    assert!(signals(&w.take(ANNA)).is_empty() && signals(&w.take(VISITOR)).is_empty());
    assert_eq!(share_states(&w, &id), vec![ShareState::Invited, ShareState::Accepted]);
}

#[test]
fn closing_the_conversation_or_logging_out_ends_the_share() {
    let (mut w, id) = chatting(ShareSettings::default());
    let share = invite(&mut w, &id);
    progress(&mut w, &share, ShareStep::Accepted);
    w.msg(
        ANNA,
        ClientMessage::Close {
            conversation: Some(id.clone()),
        },
    );
    assert_eq!(share_states(&w, &id).last(), Some(&ShareState::Ended));
    assert_eq!(w.hub.stats().shares_live, 0);

    let (mut w, id) = chatting(ShareSettings::default());
    let share = invite(&mut w, &id);
    progress(&mut w, &share, ShareStep::Accepted);
    progress(&mut w, &share, ShareStep::Sharing);
    assert_eq!(w.hub.stats().shares_live, 1);
    w.input(Input::AgentLoggedOut { agent_id: AgentId(1) });
    assert_eq!(share_states(&w, &id).last(), Some(&ShareState::Ended));
    assert!(w.take(VISITOR).iter().any(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(&event.kind, EventKind::Share { state: ShareState::Ended, detail: Some(d), .. } if d.contains("logged out")))));
}

#[test]
fn reconnecting_ends_get_the_setup_of_a_live_share_again() {
    let (mut w, id, token) = chatting_with_token(ShareSettings::default());
    let share = invite(&mut w, &id);
    progress(&mut w, &share, ShareStep::Accepted);
    progress(&mut w, &share, ShareStep::Sharing);
    w.input(Input::Disconnected { conn: ConnId(VISITOR) });
    w.input(Input::Connected {
        conn: ConnId(5),
        peer: sightline_core::Peer::Visitor,
        address: LOCAL,
    });
    w.msg(
        5,
        ClientMessage::VisitorHello {
            protocol: 1,
            token: Some(token),
            after_seq: 100,
            page: None,
        },
    );
    let inbox = w.take(5);
    assert!(
        inbox
            .iter()
            .any(|m| matches!(m, ServerMessage::ShareSetup { share: s, .. } if *s == share)),
        "{inbox:?}"
    );
    // The agent's console after a reload syncs the conversation and gets it too.
    w.input(Input::Connected {
        conn: ConnId(12),
        peer: sightline_core::Peer::Agent(agent(1, "Anna")),
        address: LOCAL,
    });
    w.msg(
        12,
        ClientMessage::AgentHello {
            protocol: 1,
            away: false,
        },
    );
    w.msg(
        12,
        ClientMessage::Sync {
            conversation: id.clone(),
            after_seq: 0,
        },
    );
    assert!(w.take(12).iter().any(|m| matches!(m, ServerMessage::ShareSetup { .. })));
    // Signals still flow between the new sockets.
    w.msg(
        5,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: offer(),
        },
    );
    assert_eq!(signals(&w.take(12)), vec![(Role::Visitor, offer())]);
}

#[test]
fn a_session_key_handed_out_before_a_rename_joins_under_the_new_name() {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Administrator"));
    w.msg(ANNA, ClientMessage::ShareKeyCreate { capability: None });
    let key = w
        .take(ANNA)
        .into_iter()
        .find_map(|m| match m {
            ServerMessage::ShareKeyCreated { key, .. } => Some(key),
            _ => None,
        })
        .expect("a key");
    w.input(Input::AgentRenamed {
        agent: sightline_proto::AgentRef {
            id: AgentId(1),
            display_name: "Anna".into(),
            colour: None,
        },
    });
    w.visitor(VISITOR, None, 0);
    w.msg(VISITOR, ClientMessage::ShareKeyRedeem { key });
    let names: Vec<String> = w
        .take(VISITOR)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::ConversationChanged { conversation } => conversation.agent.map(|a| a.display_name),
            _ => None,
        })
        .collect();
    assert_eq!(names, vec!["Anna".to_owned()]);
}

#[test]
fn session_keys_are_single_use_expire_and_resist_guessing() {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    w.msg(ANNA, ClientMessage::ShareKeyCreate { capability: None });
    let key = w
        .take(ANNA)
        .into_iter()
        .find_map(|m| match m {
            ServerMessage::ShareKeyCreated { key, expires_at } => {
                assert_eq!(expires_at, w.now + 10 * 60 * 1000);
                Some(key)
            }
            _ => None,
        })
        .expect("a key");
    assert_eq!(key.len(), 9);

    w.visitor(VISITOR, None, 0);
    w.msg(
        VISITOR,
        ClientMessage::ShareKeyRedeem {
            key: format!("{}-{}", &key[..3], &key[3..]),
        },
    );
    let inbox = w.take(VISITOR);
    assert!(
        matches!(&inbox[0], ServerMessage::ConversationChanged { conversation } if conversation.status == ConversationStatus::Active && conversation.agent.as_ref().is_some_and(|a| a.id == AgentId(1)))
    );
    assert!(inbox.iter().any(
        |m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::JoinedWithKey { .. }))
    ));
    assert!(inbox.iter().any(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Share { state: ShareState::Invited, .. }))));
    assert!(w.take(ANNA).iter().any(|m| matches!(m, ServerMessage::ConversationUpdated { conversation } if conversation.status == ConversationStatus::Active)));

    // Used keys are gone.
    w.visitor(2, None, 0);
    w.msg(2, ClientMessage::ShareKeyRedeem { key: key.clone() });
    assert_eq!(error_code(&w.take(2)), Some(ErrorCode::NotFound));

    // Expired keys are refused.
    w.msg(ANNA, ClientMessage::ShareKeyCreate { capability: None });
    let late = w.take(ANNA).into_iter().find_map(|m| match m {
        ServerMessage::ShareKeyCreated { key, .. } => Some(key),
        _ => None,
    });
    w.now += 10 * 60 * 1000 + 1;
    w.visitor(3, None, 0);
    w.msg(
        3,
        ClientMessage::ShareKeyRedeem {
            key: late.expect("key"),
        },
    );
    assert_eq!(error_code(&w.take(3)), Some(ErrorCode::NotFound));

    // Guessing from one address is cut off quickly, even with the right key.
    w.msg(ANNA, ClientMessage::ShareKeyCreate { capability: None });
    let real = w
        .take(ANNA)
        .into_iter()
        .find_map(|m| match m {
            ServerMessage::ShareKeyCreated { key, .. } => Some(key),
            _ => None,
        })
        .expect("key");
    w.visitor(4, None, 0);
    let mut codes = Vec::new();
    for guess in 0..6 {
        w.msg(
            4,
            ClientMessage::ShareKeyRedeem {
                key: format!("{:09}", (guess * 7919 + 13) % 1_000_000_000),
            },
        );
        codes.push(error_code(&w.take(4)));
    }
    assert!(codes.contains(&Some(ErrorCode::RateLimited)), "{codes:?}");
    w.msg(4, ClientMessage::ShareKeyRedeem { key: real.clone() });
    assert_eq!(error_code(&w.take(4)), Some(ErrorCode::RateLimited));
}

fn create_key(w: &mut World) -> String {
    w.msg(ANNA, ClientMessage::ShareKeyCreate { capability: None });
    w.take(ANNA)
        .into_iter()
        .find_map(|m| match m {
            ServerMessage::ShareKeyCreated { key, .. } => Some(key),
            _ => None,
        })
        .expect("a key")
}

#[test]
fn every_redemption_spends_the_global_budget_before_the_key_is_looked_up() {
    let mut w = World::new();
    w.hub.set_limits(Limits {
        key_tries_global: Allowance::new(10, 0.1),
        ..Limits::default()
    });
    w.agent(ANNA, agent(1, "Anna"));
    let real = create_key(&mut w);
    // A guesser with many addresses spends the budget with wrong keys...
    let mut codes = Vec::new();
    for n in 0..12u8 {
        let conn = 100 + u64::from(n);
        let address = std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 1, n));
        w.visitor_from(conn, address, None, 0);
        w.msg(
            conn,
            ClientMessage::ShareKeyRedeem {
                key: format!("{:09}", 1000 + u32::from(n)),
            },
        );
        codes.push(error_code(&w.take(conn)));
    }
    assert_eq!(&codes[..10], &[Some(ErrorCode::NotFound); 10]);
    assert_eq!(&codes[10..], &[Some(ErrorCode::RateLimited); 2], "{codes:?}");
    // ...and then even the right key from a fresh address learns nothing: the limit
    // is checked before the look-up, so a guess cannot succeed past it.
    let fresh = std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 2, 1));
    w.visitor_from(200, fresh, None, 0);
    w.msg(200, ClientMessage::ShareKeyRedeem { key: real.clone() });
    assert_eq!(error_code(&w.take(200)), Some(ErrorCode::RateLimited));
    assert!(
        w.shell
            .limited
            .iter()
            .any(|(limit, address)| *limit == LimitKind::KeyTriesGlobal && *address == fresh),
        "the shell is told, for its metric and log line"
    );
    // Once the budget refills, the rightful caller gets in: nothing was charged to
    // the key itself, however often others tried it.
    w.now += 20_000;
    w.msg(200, ClientMessage::ShareKeyRedeem { key: real });
    let inbox = w.take(200);
    assert!(
        matches!(&inbox[0], ServerMessage::ConversationChanged { conversation } if conversation.status == ConversationStatus::Active),
        "{inbox:?}"
    );
}

#[test]
fn keys_are_nine_digits_and_an_ipv6_guesser_is_one_address_per_slash_64() {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    let key = create_key(&mut w);
    assert_eq!(key.len(), 9);
    assert!(key.bytes().all(|b| b.is_ascii_digit()));
    let mut codes = Vec::new();
    for n in 0..7u16 {
        let conn = 300 + u64::from(n);
        let address = std::net::IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 1, n, n, n, 1));
        w.visitor_from(conn, address, None, 0);
        w.msg(
            conn,
            ClientMessage::ShareKeyRedeem {
                key: "000000001".into(),
            },
        );
        codes.push(error_code(&w.take(conn)));
    }
    assert_eq!(&codes[..5], &[Some(ErrorCode::NotFound); 5]);
    assert_eq!(&codes[5..], &[Some(ErrorCode::RateLimited); 2], "{codes:?}");
    // Another /64 has its own allowance.
    let other = std::net::IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1));
    w.visitor_from(400, other, None, 0);
    w.msg(
        400,
        ClientMessage::ShareKeyRedeem {
            key: "000000001".into(),
        },
    );
    assert_eq!(error_code(&w.take(400)), Some(ErrorCode::NotFound));
}

#[test]
fn a_browser_that_cannot_capture_fails_the_invitation_directly() {
    let (mut w, id) = chatting(ShareSettings::default());
    let share = invite(&mut w, &id);
    w.msg(
        VISITOR,
        ClientMessage::ShareProgress {
            share: share.clone(),
            step: ShareStep::Failed,
            detail: Some("no getDisplayMedia".into()),
        },
    );
    assert_eq!(share_states(&w, &id), vec![ShareState::Invited, ShareState::Failed]);
}

#[test]
fn one_console_tab_owns_the_signaling_until_another_asks_to_reconnect() {
    let (mut w, id) = chatting(ShareSettings::default());
    w.input(Input::Connected {
        conn: ConnId(12),
        peer: sightline_core::Peer::Agent(agent(1, "Anna")),
        address: LOCAL,
    });
    w.msg(
        12,
        ClientMessage::AgentHello {
            protocol: 1,
            away: false,
        },
    );
    let share = invite(&mut w, &id);
    progress(&mut w, &share, ShareStep::Accepted);
    w.take(12);
    let answer = Signal::Description {
        sdp_type: "answer".into(),
        sdp: "v=0".into(),
    };
    w.msg(
        ANNA,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: answer.clone(),
        },
    );
    w.msg(
        12,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: answer.clone(),
        },
    );
    assert_eq!(
        error_code(&w.take(12)),
        Some(ErrorCode::Forbidden),
        "the second tab may not answer too"
    );
    w.msg(
        VISITOR,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: candidate(),
        },
    );
    assert_eq!(signals(&w.take(ANNA)).len(), 1);
    assert!(signals(&w.take(12)).is_empty(), "only the owning tab hears the visitor");
    // The other tab takes over by asking for a restart.
    w.msg(
        12,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: Signal::RestartRequest,
        },
    );
    w.msg(
        VISITOR,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: offer(),
        },
    );
    assert_eq!(signals(&w.take(12)).len(), 1);
    assert!(signals(&w.take(ANNA)).is_empty());
    // When the owning tab closes, any tab may answer again.
    w.input(Input::Disconnected { conn: ConnId(12) });
    w.msg(
        ANNA,
        ClientMessage::ShareSignal {
            share: share.clone(),
            signal: answer,
        },
    );
    assert!(error_code(&w.take(ANNA)).is_none());
}

#[test]
fn a_share_ends_when_the_visitor_has_been_gone_a_while_but_not_on_a_reload() {
    let (mut w, id, token) = chatting_with_token(ShareSettings::default());
    let share = invite(&mut w, &id);
    progress(&mut w, &share, ShareStep::Accepted);
    progress(&mut w, &share, ShareStep::Sharing);
    // A reload: gone for a moment, back with the same token.
    w.input(Input::Disconnected { conn: ConnId(VISITOR) });
    w.now += 2_000;
    w.input(Input::Connected {
        conn: ConnId(5),
        peer: sightline_core::Peer::Visitor,
        address: LOCAL,
    });
    w.msg(
        5,
        ClientMessage::VisitorHello {
            protocol: 1,
            token: Some(token),
            after_seq: 0,
            page: None,
        },
    );
    w.now += 60_000;
    w.input(Input::Tick);
    assert_eq!(share_states(&w, &id).last(), Some(&ShareState::Sharing));
    // Gone for good.
    w.input(Input::Disconnected { conn: ConnId(5) });
    w.now += 30_000;
    w.input(Input::Tick);
    assert_eq!(share_states(&w, &id).last(), Some(&ShareState::Sharing), "not yet");
    w.now += 30_000;
    w.input(Input::Tick);
    assert_eq!(share_states(&w, &id).last(), Some(&ShareState::Ended));
}

#[test]
fn a_cobrowse_session_key_asks_the_caller_to_cobrowse_and_no_other_capability_has_keys() {
    let mut w = World::new();
    w.agent(ANNA, agent(1, "Anna"));
    w.msg(
        ANNA,
        ClientMessage::ShareKeyCreate {
            capability: Some(sightline_proto::Capability::Cobrowse),
        },
    );
    let key = w
        .take(ANNA)
        .into_iter()
        .find_map(|m| match m {
            ServerMessage::ShareKeyCreated { key, .. } => Some(key),
            _ => None,
        })
        .expect("a key");
    w.visitor(VISITOR, None, 0);
    w.msg(VISITOR, ClientMessage::ShareKeyRedeem { key });
    let inbox = w.take(VISITOR);
    assert!(inbox.iter().any(|m| matches!(
        m,
        ServerMessage::Event { event, .. } if matches!(
            &event.kind,
            EventKind::Grant { capability: sightline_proto::Capability::Cobrowse, state: sightline_proto::GrantState::Asked, agent: Some(a), .. } if a.id == AgentId(1)
        )
    )));
    assert!(
        !inbox
            .iter()
            .any(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(event.kind, EventKind::Share { .. }))),
        "no screen-share invitation"
    );

    for capability in [
        sightline_proto::Capability::RemoteControl,
        sightline_proto::Capability::Recording,
    ] {
        w.msg(
            ANNA,
            ClientMessage::ShareKeyCreate {
                capability: Some(capability),
            },
        );
        assert_eq!(error_code(&w.take(ANNA)), Some(ErrorCode::BadRequest));
    }
}
