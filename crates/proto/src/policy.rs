//! Permissions and the site policy: which capabilities an agent may use, and what
//! the widget keeps private on every page of the site.

use serde::{Deserialize, Serialize};

use crate::Capability;

/// The most private selectors a site policy holds.
pub const MAX_PRIVATE_SELECTORS: usize = 32;
/// The longest private selector, in bytes.
pub const MAX_PRIVATE_SELECTOR_BYTES: usize = 200;

/// What an agent may use, one flag per capability an admin can allow or refuse.
/// The same type says what the site allows everyone ([`SitePolicy::allowed`]);
/// what an agent may do is both ([`Permissions::and`]). Every flag defaults to
/// allowed, so that an account made before permissions existed keeps what it had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Permissions {
    /// Invite the visitor to share their screen.
    #[serde(default = "yes")]
    pub screen_share: bool,
    /// Ask the visitor to co-browse.
    #[serde(default = "yes")]
    pub cobrowse: bool,
    /// Ask for remote control during co-browsing.
    #[serde(default = "yes")]
    pub remote_control: bool,
    /// Create session keys (for callers without a chat).
    #[serde(default = "yes")]
    pub session_keys: bool,
}

fn yes() -> bool {
    true
}

impl Default for Permissions {
    fn default() -> Self {
        Permissions::ALL
    }
}

/// One thing [`Permissions`] allows or refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    ScreenShare,
    Cobrowse,
    RemoteControl,
    SessionKeys,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Permission::ScreenShare,
        Permission::Cobrowse,
        Permission::RemoteControl,
        Permission::SessionKeys,
    ];

    /// The permission that asking the visitor for `capability` needs. Recording
    /// is part of co-browsing (it keeps the co-browsed page).
    pub fn for_capability(capability: Capability) -> Permission {
        match capability {
            Capability::ScreenShare => Permission::ScreenShare,
            Capability::Cobrowse | Capability::Recording => Permission::Cobrowse,
            Capability::RemoteControl => Permission::RemoteControl,
        }
    }

    /// Its name in sentences ("co-browsing is turned off for this site").
    pub fn noun(self) -> &'static str {
        match self {
            Permission::ScreenShare => "screen sharing",
            Permission::Cobrowse => "co-browsing",
            Permission::RemoteControl => "remote control",
            Permission::SessionKeys => "session keys",
        }
    }
}

impl Permissions {
    pub const ALL: Permissions = Permissions {
        screen_share: true,
        cobrowse: true,
        remote_control: true,
        session_keys: true,
    };
    pub const NONE: Permissions = Permissions {
        screen_share: false,
        cobrowse: false,
        remote_control: false,
        session_keys: false,
    };

    pub fn allows(self, permission: Permission) -> bool {
        match permission {
            Permission::ScreenShare => self.screen_share,
            Permission::Cobrowse => self.cobrowse,
            Permission::RemoteControl => self.remote_control,
            Permission::SessionKeys => self.session_keys,
        }
    }

    /// The same with `permission` set to `allowed`.
    pub fn with(mut self, permission: Permission, allowed: bool) -> Permissions {
        match permission {
            Permission::ScreenShare => self.screen_share = allowed,
            Permission::Cobrowse => self.cobrowse = allowed,
            Permission::RemoteControl => self.remote_control = allowed,
            Permission::SessionKeys => self.session_keys = allowed,
        }
        self
    }

    /// What both allow.
    pub fn and(self, other: Permissions) -> Permissions {
        Permissions {
            screen_share: self.screen_share && other.screen_share,
            cobrowse: self.cobrowse && other.cobrowse,
            remote_control: self.remote_control && other.remote_control,
            session_keys: self.session_keys && other.session_keys,
        }
    }
}

/// The site-wide policy, set by admins (`GET`/`PUT /api/admin/policy`) and stored
/// in the database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct SitePolicy {
    /// What any agent may use at all: a capability turned off here is off for
    /// everyone, whatever their own permissions say.
    #[serde(default)]
    pub allowed: Permissions,
    /// CSS selectors of elements the widget keeps private on every page, on top of
    /// those marked `data-sightline-private`: never mirrored in co-browsing, blacked
    /// out of screen shares. At most [`MAX_PRIVATE_SELECTORS`], each at most
    /// [`MAX_PRIVATE_SELECTOR_BYTES`] (see [`check_private_selector`]).
    #[serde(default)]
    pub private_selectors: Vec<String>,
}

/// Why a private selector is refused.
pub fn check_private_selector(selector: &str) -> Result<(), &'static str> {
    if selector.trim().is_empty() {
        return Err("a selector cannot be empty");
    }
    if selector.len() > MAX_PRIVATE_SELECTOR_BYTES {
        return Err("a selector is at most 200 bytes");
    }
    // A conservative grammar: the characters of type, class, id and attribute
    // selectors, combinators, lists and simple pseudo-classes. What passes may still
    // not parse in a browser (the widget skips it); what fails cannot be a comment,
    // an escape, an at-rule or a declaration block.
    let allowed = |c: char| {
        c.is_ascii_alphanumeric() || " -_.#[]=\"'*>+~,:()^$|".contains(c) || (!c.is_ascii() && !c.is_control())
    };
    if !selector.chars().all(allowed) {
        return Err("a selector may hold letters, digits, spaces and - _ . # [ ] = \" ' * > + ~ , : ( ) ^ $ | only");
    }
    let mut depth: i32 = 0;
    let mut brackets: i32 = 0;
    let mut quote: Option<char> = None;
    for c in selector.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, '[') => brackets += 1,
            (None, ']') => brackets -= 1,
            _ => {}
        }
        if depth < 0 || !(0..=1).contains(&brackets) {
            return Err("a selector's brackets must match");
        }
    }
    if quote.is_some() || depth != 0 || brackets != 0 {
        return Err("a selector's brackets and quotes must match");
    }
    let first = selector.trim_start().chars().next();
    let last = selector.trim_end().chars().last();
    if matches!(first, Some('>' | '+' | '~' | ',')) || matches!(last, Some('>' | '+' | '~' | ',')) {
        return Err("a selector cannot begin or end with a combinator or a comma");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_the_grammar_accepts_and_refuses() {
        for good in [
            ".card-number",
            "#account-balance",
            "input[name=\"iban\"]",
            "main .balance > span",
            "tr:nth-child(2) td, .secret",
            "[data-private]",
            "div.é",
        ] {
            assert_eq!(check_private_selector(good), Ok(()), "{good}");
        }
        let long = "a".repeat(MAX_PRIVATE_SELECTOR_BYTES + 1);
        for bad in [
            "",
            "  ",
            ".a { color: red }",
            ".a;",
            "/* x */ .a",
            "@import url(x)",
            ".a\\62",
            "[name=\"x]",
            "a(",
            "a)",
            "[[a]]",
            "> a",
            "a,",
            "a\nb",
            "a<b",
            long.as_str(),
        ] {
            assert!(check_private_selector(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn old_records_without_permissions_allow_everything() {
        let parsed: Permissions = serde_json::from_str("{}").expect("parses");
        assert_eq!(parsed, Permissions::ALL);
        let policy: SitePolicy = serde_json::from_str("{}").expect("parses");
        assert_eq!(policy.allowed, Permissions::ALL);
        assert!(policy.private_selectors.is_empty());
    }

    #[test]
    fn effective_permissions_are_both() {
        let agent = Permissions::ALL.with(Permission::Cobrowse, false);
        let site = Permissions::ALL.with(Permission::ScreenShare, false);
        let both = agent.and(site);
        assert!(!both.allows(Permission::Cobrowse));
        assert!(!both.allows(Permission::ScreenShare));
        assert!(both.allows(Permission::RemoteControl));
        assert!(both.allows(Permission::SessionKeys));
    }
}
