//! A conversation's newest client message ids, so that a retry is acknowledged
//! again instead of stored twice.
//!
//! Every message looks its id up here. A plain scan compared strings with every
//! entry of the same role: with 256 entries and 10,000 busy conversations that was
//! a twentieth of the server's time at 15,000 msg/s (a profile showed `memcmp`
//! under `Hub::on_message`), and it grew with each conversation's length. Each
//! entry now carries a fingerprint of its role and id, so the scan compares
//! integers and a string only where the fingerprints agree.

use std::collections::VecDeque;

use sightline_proto::Role;

use crate::records::{RecentClientId, RECENT_CLIENT_IDS};

#[derive(Debug, Default)]
pub(super) struct RecentIds {
    /// Oldest first; at most [`RECENT_CLIENT_IDS`].
    entries: VecDeque<(u64, RecentClientId)>,
}

impl RecentIds {
    /// The newest `RECENT_CLIENT_IDS` of `stored` (any order).
    pub(super) fn from_stored(mut stored: Vec<RecentClientId>) -> Self {
        stored.sort_by_key(|r| r.seq);
        let skip = stored.len().saturating_sub(RECENT_CLIENT_IDS);
        RecentIds {
            entries: stored
                .into_iter()
                .skip(skip)
                .map(|r| (fingerprint(r.from, &r.client_id), r))
                .collect(),
        }
    }

    /// The sequence number of the message `from` sent as `client_id`, if it is
    /// among the newest.
    pub(super) fn seen(&self, from: Role, client_id: &str) -> Option<u64> {
        let print = fingerprint(from, client_id);
        self.entries
            .iter()
            .find(|(p, r)| *p == print && r.from == from && r.client_id == client_id)
            .map(|(_, r)| r.seq)
    }

    pub(super) fn remember(&mut self, from: Role, client_id: String, seq: u64) {
        if self.entries.len() == RECENT_CLIENT_IDS {
            self.entries.pop_front();
        }
        let print = fingerprint(from, &client_id);
        self.entries.push_back((print, RecentClientId { from, client_id, seq }));
    }
}

/// FNV-1a over the role and the id: fixed, so that the core stays deterministic.
/// Not a defence against chosen collisions, and it need not be one: a collision
/// only costs a string comparison.
fn fingerprint(from: Role, client_id: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let role = match from {
        Role::Visitor => 1u8,
        Role::Agent => 2u8,
    };
    std::iter::once(role)
        .chain(client_id.bytes())
        .fold(OFFSET, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(from: Role, client_id: &str, seq: u64) -> RecentClientId {
        RecentClientId {
            from,
            client_id: client_id.to_owned(),
            seq,
        }
    }

    #[test]
    fn an_id_is_found_for_its_own_role_only() {
        let mut recent = RecentIds::default();
        recent.remember(Role::Visitor, "a".into(), 3);
        recent.remember(Role::Agent, "b".into(), 4);
        assert_eq!(recent.seen(Role::Visitor, "a"), Some(3));
        assert_eq!(recent.seen(Role::Agent, "a"), None);
        assert_eq!(recent.seen(Role::Agent, "b"), Some(4));
        assert_eq!(recent.seen(Role::Visitor, "b"), None);
        assert_eq!(recent.seen(Role::Visitor, "c"), None);
    }

    #[test]
    fn only_the_newest_are_kept() {
        let mut recent = RecentIds::default();
        for seq in 1..=RECENT_CLIENT_IDS as u64 + 2 {
            recent.remember(Role::Visitor, format!("m{seq}"), seq);
        }
        assert_eq!(recent.seen(Role::Visitor, "m1"), None);
        assert_eq!(recent.seen(Role::Visitor, "m2"), None);
        assert_eq!(recent.seen(Role::Visitor, "m3"), Some(3));
        let last = RECENT_CLIENT_IDS as u64 + 2;
        assert_eq!(recent.seen(Role::Visitor, &format!("m{last}")), Some(last));
    }

    #[test]
    fn stored_ids_are_loaded_newest_last_whatever_their_order() {
        let n = RECENT_CLIENT_IDS as u64 + 1;
        let stored: Vec<_> = (1..=n)
            .rev()
            .map(|seq| id(Role::Agent, &format!("m{seq}"), seq))
            .collect();
        let mut recent = RecentIds::from_stored(stored);
        assert_eq!(
            recent.seen(Role::Agent, "m1"),
            None,
            "the oldest beyond the bound is dropped"
        );
        assert_eq!(recent.seen(Role::Agent, "m2"), Some(2));
        // The next one pushes out the oldest kept.
        recent.remember(Role::Agent, "new".into(), n + 1);
        assert_eq!(recent.seen(Role::Agent, "m2"), None);
        assert_eq!(recent.seen(Role::Agent, "m3"), Some(3));
    }

    #[test]
    fn fingerprints_tell_roles_and_ids_apart() {
        assert_ne!(fingerprint(Role::Visitor, "x"), fingerprint(Role::Agent, "x"));
        assert_ne!(fingerprint(Role::Visitor, "x"), fingerprint(Role::Visitor, "y"));
        assert_eq!(fingerprint(Role::Visitor, "x"), fingerprint(Role::Visitor, "x"));
    }
}
