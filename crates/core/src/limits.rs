//! Rate limits per actor: per connection, per visitor and per client address.
//!
//! An attacker is not one socket: they open many sockets with one visitor token,
//! many visitor identities from one address, and use many addresses. So each
//! allowance exists at every level that an attacker can multiply, and the hub
//! checks all of them (see `Hub::on_message`). Addresses are grouped the way
//! they are handed out: an IPv4 address alone, an IPv6 address by its /64 prefix
//! (one subscriber usually owns a whole /64, and can pick any address in it).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

use crate::rate::TokenBucket;

/// A burst, then a sustained rate per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowance {
    pub burst: u32,
    pub per_second: f64,
}

impl Allowance {
    pub const fn new(burst: u32, per_second: f64) -> Self {
        Allowance { burst, per_second }
    }

    pub(crate) fn bucket(self, now: u64) -> TokenBucket {
        TokenBucket::new(self.burst, self.per_second, now)
    }
}

/// Every limit the hub enforces; the shell may set them from its configuration
/// ([`crate::Hub::set_limits`]). The defaults are far above what people do and far
/// below what floods need.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Messages on one socket: a person types far slower than this.
    pub messages_per_socket: Allowance,
    /// Messages from one visitor, whatever the number of their sockets (tabs).
    pub messages_per_visitor: Allowance,
    /// Messages from all visitor sockets of one address (an office behind NAT is
    /// many people).
    pub messages_per_address: Allowance,
    /// Sockets one visitor may hold open at once (tabs of the same site).
    pub sockets_per_visitor: usize,
    /// New visitor identities per address: every page view of a new visitor makes
    /// one, so the burst is generous; an identity flood is not.
    pub new_visitors_per_address: Allowance,
    /// New conversations per address.
    pub new_conversations_per_address: Allowance,
    /// Session key redemptions per address.
    pub key_tries_per_address: Allowance,
    /// Session key redemptions from everyone together, spent before the key is
    /// looked up: this is what makes guessing improbable (docs/screen-sharing.md
    /// shows the arithmetic).
    pub key_tries_global: Allowance,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            messages_per_socket: Allowance::new(40, 10.0),
            messages_per_visitor: Allowance::new(60, 10.0),
            messages_per_address: Allowance::new(300, 50.0),
            sockets_per_visitor: 16,
            new_visitors_per_address: Allowance::new(120, 1.0),
            new_conversations_per_address: Allowance::new(20, 0.2),
            key_tries_per_address: Allowance::new(5, 1.0 / 20.0),
            key_tries_global: Allowance::new(100, 2.0),
        }
    }
}

/// Which limit refused something: reported to the shell as [`crate::Output::Limited`]
/// for its metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LimitKind {
    SocketMessages,
    VisitorMessages,
    AddressMessages,
    VisitorSockets,
    NewVisitors,
    NewConversations,
    KeyTriesAddress,
    KeyTriesGlobal,
}

impl LimitKind {
    pub const ALL: [LimitKind; 8] = [
        LimitKind::SocketMessages,
        LimitKind::VisitorMessages,
        LimitKind::AddressMessages,
        LimitKind::VisitorSockets,
        LimitKind::NewVisitors,
        LimitKind::NewConversations,
        LimitKind::KeyTriesAddress,
        LimitKind::KeyTriesGlobal,
    ];

    /// A stable name, for metric labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::SocketMessages => "socket_messages",
            LimitKind::VisitorMessages => "visitor_messages",
            LimitKind::AddressMessages => "address_messages",
            LimitKind::VisitorSockets => "visitor_sockets",
            LimitKind::NewVisitors => "new_visitors",
            LimitKind::NewConversations => "new_conversations",
            LimitKind::KeyTriesAddress => "key_tries_address",
            LimitKind::KeyTriesGlobal => "key_tries_global",
        }
    }
}

/// The group an address's limits are kept under: IPv4 addresses alone (IPv4-mapped
/// IPv6 addresses count as IPv4), IPv6 addresses by their /64 prefix.
pub fn address_group(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

/// One address group's allowances, created on first use.
#[derive(Debug, Clone)]
pub(crate) struct AddressAllowances {
    pub messages: TokenBucket,
    pub new_visitors: TokenBucket,
    pub new_conversations: TokenBucket,
    pub key_tries: TokenBucket,
}

impl AddressAllowances {
    fn new(limits: &Limits, now: u64) -> Self {
        AddressAllowances {
            messages: limits.messages_per_address.bucket(now),
            new_visitors: limits.new_visitors_per_address.bucket(now),
            new_conversations: limits.new_conversations_per_address.bucket(now),
            key_tries: limits.key_tries_per_address.bucket(now),
        }
    }

    fn is_full(&self, now: u64) -> bool {
        self.messages.is_full(now)
            && self.new_visitors.is_full(now)
            && self.new_conversations.is_full(now)
            && self.key_tries.is_full(now)
    }
}

/// The allowances of every address group seen recently. Groups whose buckets have
/// all refilled hold no information and are forgotten on [`Self::forget_idle`], so
/// memory follows recent activity, not the number of addresses ever seen.
#[derive(Debug, Default)]
pub(crate) struct AddressBook {
    groups: BTreeMap<IpAddr, AddressAllowances>,
}

impl AddressBook {
    pub fn get(&mut self, limits: &Limits, address: IpAddr, now: u64) -> &mut AddressAllowances {
        self.groups
            .entry(address_group(address))
            .or_insert_with(|| AddressAllowances::new(limits, now))
    }

    pub fn forget_idle(&mut self, now: u64) {
        self.groups.retain(|_, group| !group.is_full(now));
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_share_their_slash_64_and_ipv4_stands_alone() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(address_group(a), address_group(b));
        assert_ne!(address_group(a), address_group(c));
        assert_eq!(address_group(a), "2001:db8:1:2::".parse::<IpAddr>().expect("ip"));
        let v4: IpAddr = "192.0.2.7".parse().expect("ip");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(address_group(v4), v4);
        assert_eq!(address_group(mapped), v4);
        assert_ne!(address_group("192.0.2.8".parse().expect("ip")), v4);
    }

    #[test]
    fn an_address_group_is_forgotten_once_its_allowances_refill() {
        let limits = Limits::default();
        let mut book = AddressBook::default();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        assert!(book.get(&limits, ip, 0).new_conversations.try_take(0));
        book.forget_idle(1);
        assert_eq!(book.len(), 1, "a spent allowance is remembered");
        book.forget_idle(3_600_000);
        assert_eq!(book.len(), 0);
    }
}
