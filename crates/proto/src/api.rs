//! Bodies of the JSON HTTP API used by the agent console.
//!
//! State-changing requests need the session cookie and an `x-csrf-token` header equal
//! to [`Me::csrf_token`].

use serde::{Deserialize, Serialize};

use crate::{AgentId, ConversationId, ConversationSummary, Event, ImageRef, Permissions};

/// `POST /api/login`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub name: String,
    pub password: String,
}

/// `GET /api/me`, and the answer to a successful login.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Me {
    pub user: UserInfo,
    /// Send back in the `x-csrf-token` header of every state-changing request.
    pub csrf_token: String,
}

/// An agent account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct UserInfo {
    pub id: AgentId,
    pub name: String,
    pub display_name: String,
    pub is_admin: bool,
    pub disabled: bool,
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub created_at: u64,
    /// The password was made up by the server (the first admin's): until the user
    /// chooses their own, they may only change it, read `/api/me` or log out.
    #[serde(default)]
    pub must_change_password: bool,
    /// The colour of their initials wherever they are shown; `None`: the default.
    #[serde(default)]
    pub colour: Option<AvatarColour>,
    /// The capabilities an admin allows this agent (the site policy may turn
    /// more off for everyone).
    #[serde(default)]
    pub permissions: Permissions,
}

/// The colours an agent's initials may have: each carries white text at WCAG AA
/// contrast (at least 4.5:1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AvatarColour {
    Blue,
    Teal,
    Green,
    Amber,
    Red,
    Pink,
    Purple,
    Slate,
}

impl AvatarColour {
    pub const ALL: [AvatarColour; 8] = [
        AvatarColour::Blue,
        AvatarColour::Teal,
        AvatarColour::Green,
        AvatarColour::Amber,
        AvatarColour::Red,
        AvatarColour::Pink,
        AvatarColour::Purple,
        AvatarColour::Slate,
    ];

    /// The name stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            AvatarColour::Blue => "blue",
            AvatarColour::Teal => "teal",
            AvatarColour::Green => "green",
            AvatarColour::Amber => "amber",
            AvatarColour::Red => "red",
            AvatarColour::Pink => "pink",
            AvatarColour::Purple => "purple",
            AvatarColour::Slate => "slate",
        }
    }

    /// The colour of a stored name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<AvatarColour> {
        AvatarColour::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// `PATCH /api/me` (one's own) and `PUT /api/users/{id}/profile` (admins): an
/// agent's whole profile as visitors and colleagues see it. `colour: null` is the
/// default colour.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    pub display_name: String,
    pub colour: Option<AvatarColour>,
}

/// `POST /api/users` (admins).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub name: String,
    pub display_name: Option<String>,
    pub password: String,
    pub is_admin: bool,
}

/// `POST /api/users/{id}/password` (admins, or the user for themself with `current`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SetPasswordRequest {
    pub current: Option<String>,
    pub password: String,
}

/// `PATCH /api/users/{id}` (admins).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub display_name: Option<String>,
    pub is_admin: Option<bool>,
    pub disabled: Option<bool>,
    /// Replaces the agent's permissions; applies at once to their open consoles.
    #[serde(default)]
    pub permissions: Option<Permissions>,
}

/// `GET /api/conversations?q=&status=&before=`: newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ConversationPage {
    pub conversations: Vec<ConversationSummary>,
    /// Pass as `before` to get the next page; absent on the last page.
    #[cfg_attr(feature = "typescript", ts(type = "number | null"))]
    pub next_before: Option<u64>,
}

/// `GET /api/conversations/{id}`: one conversation with every event.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct Transcript {
    pub conversation: ConversationSummary,
    pub events: Vec<Event>,
}

/// Body of every non-2xx API answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ApiError {
    pub error: String,
    pub message: String,
}

/// Answer (201) to an image upload: `POST /api/visitor/images` (visitor token) or
/// `POST /api/conversations/{id}/images` (agent). The image is posted into the chat
/// as a message with sequence number `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct UploadedImage {
    pub image: ImageRef,
    pub conversation: ConversationId,
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub seq: u64,
}

/// `GET /api/images/{id}/annotations` (agents): the vector annotations kept with an
/// image. The document is opaque to the server: a JSON object of at most
/// [`crate::MAX_ANNOTATIONS_BYTES`], written by the console's editor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ImageAnnotations {
    #[cfg_attr(feature = "typescript", ts(type = "unknown"))]
    pub annotations: serde_json::Value,
}

/// Longest site origin the console may store, in bytes.
pub const MAX_SITE_ORIGIN_BYTES: usize = 255;
/// Most site origins the console may store.
pub const MAX_STORED_SITE_ORIGINS: usize = 100;

/// `GET /api/admin/site` (admins): what the Install page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct SiteSettings {
    /// `widget.js` on this server, for the snippet.
    pub widget_url: String,
    /// The origins in the configuration (`allowed_origins`): changed only there.
    pub configured_origins: Vec<String>,
    /// The origins added in the console, stored in the database.
    pub stored_origins: Vec<String>,
    /// Origins the widget was refused on since the server started, most recent first.
    pub refused_origins: Vec<RefusedOrigin>,
}

/// A site origin the widget was refused on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct RefusedOrigin {
    pub origin: String,
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub first_at: u64,
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub last_at: u64,
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub count: u64,
}

/// `POST` and `DELETE /api/admin/site/origins` (admins): add or remove a stored
/// site origin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SiteOriginRequest {
    pub origin: String,
}

/// A saved reply: text any agent of the team inserts into the composer by typing
/// `/` and its shortcut (`GET /api/saved-replies`). The agent may edit the text
/// before sending it; nothing is sent by choosing one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct SavedReply {
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub id: i64,
    /// Lowercase letters, digits, `-` and `_`; unique in the team.
    pub shortcut: String,
    pub title: String,
    pub body: String,
    /// Who wrote it: its author and admins may change or delete it.
    pub created_by: Option<AgentId>,
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub updated_at: u64,
}

/// `POST /api/saved-replies` and `PUT /api/saved-replies/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SavedReplyRequest {
    pub shortcut: String,
    pub title: String,
    pub body: String,
}

impl SavedReplyRequest {
    /// The request with its shortcut lowercased and its title trimmed, or why it
    /// is refused (a sentence for the agent).
    pub fn checked(&self) -> Result<SavedReplyRequest, String> {
        use crate::{MAX_SAVED_REPLY_TITLE_CHARS, MAX_SHORTCUT_CHARS, MAX_TEXT_CHARS};
        let shortcut = self.shortcut.trim().trim_start_matches('/').to_lowercase();
        let shortcut_len = shortcut.chars().count();
        if shortcut_len == 0
            || shortcut_len > MAX_SHORTCUT_CHARS
            || !shortcut
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(format!(
                "a shortcut is 1 to {MAX_SHORTCUT_CHARS} letters, digits, - or _ (such as refund-policy)"
            ));
        }
        let title = self.title.trim().to_owned();
        if title.chars().count() > MAX_SAVED_REPLY_TITLE_CHARS {
            return Err(format!("a title is at most {MAX_SAVED_REPLY_TITLE_CHARS} characters"));
        }
        if self.body.trim().is_empty() || self.body.chars().count() > MAX_TEXT_CHARS {
            return Err(format!("the text is 1 to {MAX_TEXT_CHARS} characters"));
        }
        Ok(SavedReplyRequest {
            shortcut,
            title,
            body: self.body.clone(),
        })
    }
}

#[cfg(test)]
mod saved_reply_tests {
    use super::SavedReplyRequest;

    fn req(shortcut: &str, title: &str, body: &str) -> SavedReplyRequest {
        SavedReplyRequest {
            shortcut: shortcut.into(),
            title: title.into(),
            body: body.into(),
        }
    }

    #[test]
    fn shortcuts_are_lowercased_and_checked() {
        let ok = req(" /Refund-Policy_2 ", "  Refunds ", "We refund within 14 days.")
            .checked()
            .unwrap();
        assert_eq!(ok.shortcut, "refund-policy_2");
        assert_eq!(ok.title, "Refunds");
        for bad in ["", "/", "two words", "émoji", "a.b", &"x".repeat(33), "<b>"] {
            assert!(req(bad, "t", "body").checked().is_err(), "{bad:?} refused");
        }
        assert!(req(&"x".repeat(32), "t", "body").checked().is_ok());
    }

    #[test]
    fn title_and_body_have_limits() {
        assert!(req("a", &"t".repeat(101), "body").checked().is_err());
        assert!(req("a", &"t".repeat(100), "body").checked().is_ok());
        assert!(req("a", "", "   ").checked().is_err());
        assert!(req("a", "", &"é".repeat(4000)).checked().is_ok());
        assert!(req("a", "", &"é".repeat(4001)).checked().is_err());
    }
}
