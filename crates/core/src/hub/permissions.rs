//! What agents may use: their own permissions and the site policy, checked on
//! every request and applied at once when an admin changes either.
//!
//! The rule itself is [`policy::agent_may_use`]; this module keeps the hub's
//! copies up to date (each agent socket's identity, the site policy) and ends
//! what is no longer allowed: a capability turned off ends its live shares and
//! grants (as the server's `End`, so each side sees it end, with the reason in the
//! history) and the unused session keys that would ask for it. An admin who turns
//! screen sharing off mid-share expects the agent to stop seeing the screen.

use sightline_proto::{AgentId, Capability, Permission, Permissions, Role, ServerMessage, SitePolicy};

use super::{refuse, AgentIdentity, Audience, ConversationStatus, Handled, Hub, Peer};
use crate::consent::Step;
use crate::policy;
use sightline_proto::ErrorCode;

/// The capabilities a visitor grants, with the permission each needs, in the
/// order they end: remote control before the co-browsing it rides on.
const GRANTED: [(Capability, Permission); 3] = [
    (Capability::RemoteControl, Permission::RemoteControl),
    (Capability::Recording, Permission::Cobrowse),
    (Capability::Cobrowse, Permission::Cobrowse),
];

impl Hub {
    /// Refuses with `Forbidden`, naming why, when the agent may not use
    /// `permission` (see [`policy::agent_may_use`]).
    pub(super) fn check_may_use(&self, identity: &AgentIdentity, permission: Permission) -> Handled {
        policy::agent_may_use(permission, identity.permissions, self.site.allowed)
            .map_err(|denied| refuse(ErrorCode::Forbidden, denied.message()))
    }

    /// See [`super::Input::AgentPermissionsChanged`].
    pub(super) fn change_agent_permissions(&mut self, now: u64, agent_id: AgentId, permissions: Permissions) {
        for connection in self.connections.values_mut() {
            if let Peer::Agent(identity) = &mut connection.peer {
                if identity.agent.id == agent_id {
                    identity.permissions = permissions;
                }
            }
        }
        let effective = permissions.and(self.site.allowed);
        self.end_what_is_not_allowed(
            now,
            Some(agent_id),
            effective,
            "an admin changed the agent's permissions",
        );
        self.deliver(
            Audience::Agent(agent_id),
            ServerMessage::PermissionsChanged { permissions: effective },
        );
    }

    /// See [`super::Input::SitePolicyChanged`].
    pub(super) fn change_site_policy(&mut self, now: u64, policy: SitePolicy) {
        let selectors_changed = policy.private_selectors != self.site.private_selectors;
        let allowed = policy.allowed;
        self.site = policy;
        self.end_what_is_not_allowed(now, None, allowed, "the site policy changed");
        // Each agent socket hears what its own agent may use now.
        let told: Vec<(super::ConnId, Permissions)> = self
            .resolve(Audience::AllAgents)
            .into_iter()
            .filter_map(|conn| match self.connections.get(&conn).map(|c| &c.peer) {
                Some(Peer::Agent(identity)) => Some((conn, identity.permissions.and(allowed))),
                _ => None,
            })
            .collect();
        for (conn, permissions) in told {
            self.send(conn, ServerMessage::PermissionsChanged { permissions });
        }
        if selectors_changed {
            let private_selectors = self.site.private_selectors.clone();
            self.deliver(
                Audience::AllVisitors,
                ServerMessage::PrivacyChanged { private_selectors },
            );
        }
    }

    /// Ends the live shares and grants of the conversations owned by `agent`
    /// (every agent's when `None`) that `allowed` no longer allows, and forgets the
    /// unused session keys that asked for what it no longer allows.
    fn end_what_is_not_allowed(&mut self, now: u64, agent: Option<AgentId>, allowed: Permissions, why: &str) {
        let owned: Vec<_> = self
            .conversations
            .values()
            .filter(|c| c.summary.status != ConversationStatus::Closed)
            .filter(|c| {
                c.summary
                    .agent
                    .as_ref()
                    .is_some_and(|a| agent.is_none_or(|id| a.id == id))
            })
            .map(|c| (c.summary.id.clone(), c.summary.agent.clone()))
            .collect();
        for (conversation, owner) in owned {
            if !allowed.allows(Permission::ScreenShare) {
                self.end_share(now, &conversation, (Step::End, Role::Agent), owner.clone(), why);
            }
            for (capability, permission) in GRANTED {
                if !allowed.allows(permission) {
                    self.end_grant(now, &conversation, capability, (Role::Agent, owner.clone()), why);
                }
            }
        }
        self.keys.forget_where(|owner, capability| {
            agent.is_none_or(|id| id == owner)
                && !(allowed.allows(Permission::SessionKeys) && allowed.allows(Permission::for_capability(capability)))
        });
    }
}
