//! Permissions and the site policy: what an admin allows an agent, what the site
//! turns off for everyone, and changes that apply at once to connected agents.
//! Driven on simulated time with the in-memory shell.

mod common;

use common::*;
use sightline_core::{AgentIdentity, ConnId, Input, Peer};
use sightline_proto::{
    AgentId, Capability, ClientMessage, ConversationId, ErrorCode, EventKind, GrantState, GrantStep, Permission,
    Permissions, ServerMessage, ShareState, ShareStep, SitePolicy, PROTOCOL_VERSION,
};

const VISITOR: u64 = 1;
const ANNA: u64 = 10;
const BEN: u64 = 11;

fn anna_with(permissions: Permissions) -> AgentIdentity {
    AgentIdentity {
        permissions,
        ..agent(1, "Anna")
    }
}

/// A visitor chatting with Anna, who may use `permissions`; Ben (allowed
/// everything) is online too.
fn chatting(permissions: Permissions) -> (World, ConversationId) {
    let mut w = World::new();
    w.agent(ANNA, anna_with(permissions));
    w.agent(BEN, agent(2, "Ben"));
    w.visitor(VISITOR, None, 0);
    w.visitor_says(VISITOR, "v1", "Where is the transfer form?");
    let id = conversation_of(&w);
    w.msg(
        ANNA,
        ClientMessage::Accept {
            conversation: id.clone(),
        },
    );
    for conn in [VISITOR, ANNA, BEN] {
        w.take(conn);
    }
    (w, id)
}

/// The error a message drew, with its words.
fn refusal(messages: &[ServerMessage]) -> Option<(ErrorCode, String)> {
    messages.iter().find_map(|m| match m {
        ServerMessage::Error { code, message, .. } => Some((*code, message.clone())),
        _ => None,
    })
}

fn invite(w: &mut World, id: &ConversationId) -> Vec<ServerMessage> {
    w.msg(
        ANNA,
        ClientMessage::ShareInvite {
            conversation: id.clone(),
            message: None,
        },
    );
    w.take(ANNA)
}

fn ask(w: &mut World, id: &ConversationId, capability: Capability) -> Vec<ServerMessage> {
    w.msg(
        ANNA,
        ClientMessage::GrantAsk {
            conversation: id.clone(),
            capability,
            message: None,
        },
    );
    w.take(ANNA)
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

fn grant_states(w: &World, id: &ConversationId, capability: Capability) -> Vec<GrantState> {
    w.shell.events[id]
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Grant {
                capability: c, state, ..
            } if *c == capability => Some(*state),
            _ => None,
        })
        .collect()
}

fn permissions_told(messages: &[ServerMessage]) -> Vec<Permissions> {
    messages
        .iter()
        .filter_map(|m| match m {
            ServerMessage::PermissionsChanged { permissions } => Some(*permissions),
            _ => None,
        })
        .collect()
}

/// The id of the newest request the visitor was sent for `capability`.
fn grant_asked(w: &World, id: &ConversationId, capability: Capability) -> sightline_proto::GrantId {
    w.shell.events[id]
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::Grant {
                grant,
                capability: c,
                state: GrantState::Asked,
                ..
            } if *c == capability => Some(grant.clone()),
            _ => None,
        })
        .expect("asked")
}

/// The visitor allows, then starts.
fn allow(w: &mut World, id: &ConversationId, capability: Capability) {
    let grant = grant_asked(w, id, capability);
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
}

#[test]
fn an_agent_without_screen_sharing_cannot_invite() {
    let (mut w, id) = chatting(Permissions::ALL.with(Permission::ScreenShare, false));
    let (code, message) = refusal(&invite(&mut w, &id)).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(message, "an admin has not allowed you to use screen sharing");
    assert!(share_states(&w, &id).is_empty(), "nothing reached the visitor");
    assert!(w.take(VISITOR).is_empty());
    // Co-browsing is still theirs to ask for.
    assert_eq!(refusal(&ask(&mut w, &id, Capability::Cobrowse)), None);
}

#[test]
fn an_agent_without_cobrowsing_cannot_ask_nor_hand_out_a_cobrowse_key() {
    let (mut w, id) = chatting(Permissions::ALL.with(Permission::Cobrowse, false));
    let (code, message) = refusal(&ask(&mut w, &id, Capability::Cobrowse)).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(message, "an admin has not allowed you to use co-browsing");
    assert!(grant_states(&w, &id, Capability::Cobrowse).is_empty());
    w.msg(
        ANNA,
        ClientMessage::ShareKeyCreate {
            capability: Some(Capability::Cobrowse),
        },
    );
    assert_eq!(refusal(&w.take(ANNA)).map(|r| r.0), Some(ErrorCode::Forbidden));
    // A screen-share key is still allowed.
    w.msg(ANNA, ClientMessage::ShareKeyCreate { capability: None });
    assert!(w
        .take(ANNA)
        .iter()
        .any(|m| matches!(m, ServerMessage::ShareKeyCreated { .. })));
    assert_eq!(refusal(&invite(&mut w, &id)), None);
}

#[test]
fn an_agent_without_remote_control_or_session_keys_is_refused_those() {
    let (mut w, id) = chatting(
        Permissions::ALL
            .with(Permission::RemoteControl, false)
            .with(Permission::SessionKeys, false),
    );
    ask(&mut w, &id, Capability::Cobrowse);
    allow(&mut w, &id, Capability::Cobrowse);
    w.take(ANNA);
    let (code, message) = refusal(&ask(&mut w, &id, Capability::RemoteControl)).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(message, "an admin has not allowed you to use remote control");
    w.msg(ANNA, ClientMessage::ShareKeyCreate { capability: None });
    let (code, message) = refusal(&w.take(ANNA)).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(message, "an admin has not allowed you to use session keys");
}

#[test]
fn a_capability_the_site_turns_off_is_refused_to_everyone_and_says_so() {
    let (mut w, id) = chatting(Permissions::ALL);
    w.input(Input::SitePolicyChanged {
        policy: SitePolicy {
            allowed: Permissions::ALL.with(Permission::ScreenShare, false),
            private_selectors: vec![],
        },
    });
    let (code, message) = refusal(&invite(&mut w, &id)).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(message, "screen sharing is turned off for this site by its policy");
    // Ben too, with a session key for a screen share.
    w.msg(BEN, ClientMessage::ShareKeyCreate { capability: None });
    assert_eq!(refusal(&w.take(BEN)).map(|r| r.0), Some(ErrorCode::Forbidden));
    // What the site allows stays allowed.
    assert_eq!(refusal(&ask(&mut w, &id, Capability::Cobrowse)), None);
}

#[test]
fn the_welcome_says_what_the_agent_may_use() {
    let mut w = World::new();
    w.input(Input::SitePolicyChanged {
        policy: SitePolicy {
            allowed: Permissions::ALL.with(Permission::RemoteControl, false),
            private_selectors: vec![".secret".into()],
        },
    });
    let welcome = w.agent(ANNA, anna_with(Permissions::ALL.with(Permission::ScreenShare, false)));
    let told = welcome.iter().find_map(|m| match m {
        ServerMessage::AgentWelcome { permissions, .. } => Some(*permissions),
        _ => None,
    });
    assert_eq!(
        told,
        Some(
            Permissions::ALL
                .with(Permission::ScreenShare, false)
                .with(Permission::RemoteControl, false)
        )
    );
    w.input(Input::Connected {
        conn: ConnId(VISITOR),
        peer: Peer::Visitor,
        address: LOCAL,
        client: Default::default(),
    });
    w.msg(
        VISITOR,
        ClientMessage::VisitorHello {
            protocol: PROTOCOL_VERSION,
            token: None,
            after_seq: 0,
            page: None,
            device: None,
        },
    );
    let selectors = w.take(VISITOR).into_iter().find_map(|m| match m {
        ServerMessage::VisitorWelcome { private_selectors, .. } => Some(private_selectors),
        _ => None,
    });
    assert_eq!(selectors, Some(vec![".secret".to_owned()]));
}

#[test]
fn taking_screen_sharing_away_applies_at_once_and_ends_the_live_share() {
    let (mut w, id) = chatting(Permissions::ALL);
    assert_eq!(refusal(&invite(&mut w, &id)), None);
    let share = w.hub.stats();
    assert_eq!(share.shares_live, 0);
    let share_id = w.shell.events[&id]
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Share { share, .. } => Some(share.clone()),
            _ => None,
        })
        .expect("invited");
    for step in [ShareStep::Accepted, ShareStep::Sharing] {
        w.msg(
            VISITOR,
            ClientMessage::ShareProgress {
                share: share_id.clone(),
                step,
                detail: None,
            },
        );
    }
    assert_eq!(w.hub.stats().shares_live, 1);
    w.take(ANNA);
    w.take(BEN);
    w.take(VISITOR);

    let fewer = Permissions::ALL.with(Permission::ScreenShare, false);
    w.input(Input::AgentPermissionsChanged {
        agent_id: AgentId(1),
        permissions: fewer,
    });
    assert_eq!(w.hub.stats().shares_live, 0);
    assert_eq!(share_states(&w, &id).last(), Some(&ShareState::Ended));
    let to_visitor = w.take(VISITOR);
    assert!(to_visitor.iter().any(|m| matches!(m, ServerMessage::Event { event, .. } if matches!(&event.kind, EventKind::Share { state: ShareState::Ended, detail: Some(d), .. } if d.contains("permissions")))));
    // Anna's console hears it; Ben's does not.
    assert_eq!(permissions_told(&w.take(ANNA)), vec![fewer]);
    assert!(permissions_told(&w.take(BEN)).is_empty());
    // Her socket acts under the new permissions without reconnecting.
    let (code, _) = refusal(&invite(&mut w, &id)).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);

    // And given back, at once too.
    w.input(Input::AgentPermissionsChanged {
        agent_id: AgentId(1),
        permissions: Permissions::ALL,
    });
    assert_eq!(permissions_told(&w.take(ANNA)), vec![Permissions::ALL]);
    assert_eq!(refusal(&invite(&mut w, &id)), None);
}

#[test]
fn a_site_policy_change_ends_live_cobrowsing_and_control_for_everyone() {
    let (mut w, id) = chatting(Permissions::ALL);
    ask(&mut w, &id, Capability::Cobrowse);
    allow(&mut w, &id, Capability::Cobrowse);
    ask(&mut w, &id, Capability::RemoteControl);
    allow(&mut w, &id, Capability::RemoteControl);
    assert_eq!(
        grant_states(&w, &id, Capability::Cobrowse).last(),
        Some(&GrantState::Active)
    );
    assert_eq!(
        grant_states(&w, &id, Capability::RemoteControl).last(),
        Some(&GrantState::Active)
    );
    assert_eq!(w.shell.streams.len(), 2, "both streams live");
    for conn in [VISITOR, ANNA, BEN] {
        w.take(conn);
    }

    // Turning remote control off ends it and leaves co-browsing on.
    let no_control = Permissions::ALL.with(Permission::RemoteControl, false);
    w.input(Input::SitePolicyChanged {
        policy: SitePolicy {
            allowed: no_control,
            private_selectors: vec![],
        },
    });
    assert_eq!(
        grant_states(&w, &id, Capability::RemoteControl).last(),
        Some(&GrantState::Ended)
    );
    assert_eq!(
        grant_states(&w, &id, Capability::Cobrowse).last(),
        Some(&GrantState::Active)
    );
    assert_eq!(w.shell.streams.len(), 1, "the control stream is revoked at the relay");
    assert_eq!(permissions_told(&w.take(ANNA)), vec![no_control]);
    assert_eq!(permissions_told(&w.take(BEN)), vec![no_control]);

    // Turning co-browsing off ends it too; no stream is left.
    let neither = no_control.with(Permission::Cobrowse, false);
    w.input(Input::SitePolicyChanged {
        policy: SitePolicy {
            allowed: neither,
            private_selectors: vec![".balance".into()],
        },
    });
    assert_eq!(
        grant_states(&w, &id, Capability::Cobrowse).last(),
        Some(&GrantState::Ended)
    );
    assert!(w.shell.streams.is_empty());
    // The visitor hears the new private selectors at once.
    assert!(w.take(VISITOR).iter().any(|m| matches!(m, ServerMessage::PrivacyChanged { private_selectors } if private_selectors == &[".balance".to_owned()])));
    let (code, message) = refusal(&ask(&mut w, &id, Capability::Cobrowse)).expect("refused");
    assert_eq!(code, ErrorCode::Forbidden);
    assert_eq!(message, "co-browsing is turned off for this site by its policy");
}

#[test]
fn unused_session_keys_go_with_the_permission() {
    let mut w = World::new();
    w.agent(ANNA, anna_with(Permissions::ALL));
    w.msg(ANNA, ClientMessage::ShareKeyCreate { capability: None });
    let key = w
        .take(ANNA)
        .into_iter()
        .find_map(|m| match m {
            ServerMessage::ShareKeyCreated { key, .. } => Some(key),
            _ => None,
        })
        .expect("a key");
    w.input(Input::AgentPermissionsChanged {
        agent_id: AgentId(1),
        permissions: Permissions::ALL.with(Permission::SessionKeys, false),
    });
    w.visitor(VISITOR, None, 0);
    w.take(VISITOR);
    w.msg(VISITOR, ClientMessage::ShareKeyRedeem { key });
    assert_eq!(error_code(&w.take(VISITOR)), Some(ErrorCode::NotFound));
}
