//! Identifier newtypes.
//!
//! Every kind of id is its own type, so that the compiler refuses one passed where
//! another is expected (a share id where a grant id belongs, an agent id where a
//! connection number belongs). On the wire nothing changes: each is
//! `#[serde(transparent)]`, a JSON string or number as before, and in TypeScript a
//! plain alias (`export type ConversationId = string;`).

use serde::{Deserialize, Serialize};

/// Declares an opaque string id: a newtype over `String` with `as_str`, `Display`
/// and conversions from `String` and `&str`, ordered and hashed like its text.
/// Attributes given before `struct` are added (docs, and for wire types the serde
/// and ts-rs derives). Used here and by `sightline-core` for ids that stay inside
/// the server.
#[doc(hidden)]
#[macro_export]
macro_rules! string_id {
    ($(#[$attr:meta])* $vis:vis struct $name:ident;) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis struct $name(::std::string::String);

        impl $name {
            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(id: ::std::string::String) -> Self {
                $name(id)
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_owned())
            }
        }
    };
}

string_id! {
    /// A conversation's public identifier: 22 characters of URL-safe base64 (128
    /// random bits). Possession of an id grants nothing: the server checks every
    /// access.
    #[derive(Serialize, Deserialize)]
    #[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
    #[serde(transparent)]
    pub struct ConversationId;
}

string_id! {
    /// A screen share's public identifier (random, like conversation ids).
    #[derive(Serialize, Deserialize)]
    #[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
    #[serde(transparent)]
    pub struct ShareId;
}

string_id! {
    /// A grant's public identifier (random, like conversation ids).
    #[derive(Serialize, Deserialize)]
    #[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
    #[serde(transparent)]
    pub struct GrantId;
}

string_id! {
    /// A screenshot request's public identifier (random, like conversation ids).
    #[derive(Serialize, Deserialize)]
    #[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
    #[serde(transparent)]
    pub struct ScreenshotId;
}

string_id! {
    /// A stream's public identifier (random), the same for its publisher and its
    /// subscribers.
    #[derive(Serialize, Deserialize)]
    #[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
    #[serde(transparent)]
    pub struct StreamId;
}

string_id! {
    /// An image's public identifier (random, like conversation ids).
    #[derive(Serialize, Deserialize)]
    #[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
    #[serde(transparent)]
    pub struct ImageId;
}

/// An agent's id: the row id of their account (`UserInfo::id`, `AgentRef::id`).
/// A JSON number, `number` in TypeScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct AgentId(#[cfg_attr(feature = "typescript", ts(type = "number"))] pub i64);

impl std::fmt::Display for AgentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_strings_on_the_wire() {
        let id = ConversationId::from("AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(
            serde_json::to_string(&id).expect("serializes"),
            r#""AAAAAAAAAAAAAAAAAAAAAA""#
        );
        let back: ConversationId = serde_json::from_str(r#""AAAAAAAAAAAAAAAAAAAAAA""#).expect("parses");
        assert_eq!(back, id);
        assert_eq!(id.as_str(), "AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(id.to_string(), "AAAAAAAAAAAAAAAAAAAAAA");
        assert!(serde_json::from_str::<ConversationId>("7").is_err());
    }

    #[test]
    fn agent_ids_are_plain_numbers_on_the_wire() {
        assert_eq!(serde_json::to_string(&AgentId(42)).expect("serializes"), "42");
        assert_eq!(serde_json::from_str::<AgentId>("42").expect("parses"), AgentId(42));
        assert_eq!(AgentId(42).to_string(), "42");
        assert!(serde_json::from_str::<AgentId>(r#""42""#).is_err());
    }
}
