//! Checks on client-supplied fields. The server is the authority on every limit.

use sha2::{Digest, Sha256};
use sightline_proto::{
    MessageBody, PageInfo, VisitorDevice, MAX_CLIENT_ID_BYTES, MAX_EMAIL_BYTES, MAX_LINK_TITLE_CHARS,
    MAX_PAGE_FIELD_BYTES, MAX_RATING_COMMENT_CHARS, MAX_RATING_SCORE, MAX_TEXT_CHARS, MAX_TIME_ZONE_BYTES,
    MAX_URL_BYTES,
};

/// Why a field was refused; becomes a protocol error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    TooLarge(String),
    Bad(String),
}

/// A client message id: 1 to 64 bytes of visible ASCII.
pub fn validate_client_id(id: &str) -> Result<(), Invalid> {
    if id.is_empty() || id.len() > MAX_CLIENT_ID_BYTES {
        return Err(Invalid::Bad(format!(
            "client_id must be 1 to {MAX_CLIENT_ID_BYTES} bytes"
        )));
    }
    if !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Invalid::Bad("client_id must be visible ASCII".into()));
    }
    Ok(())
}

/// An internal note, or the note of a transfer: text with a message's limits.
pub fn validate_note(text: &str) -> Result<(), Invalid> {
    if text.trim().is_empty() {
        return Err(Invalid::Bad("a note cannot be empty".into()));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Invalid::TooLarge(format!(
            "a note can have at most {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(())
}

/// A visitor's rating: a score from 1 to [`MAX_RATING_SCORE`], and a comment
/// of at most [`MAX_RATING_COMMENT_CHARS`] characters once trimmed (a blank one
/// is none). Returns what is stored.
pub fn normalize_rating(score: u8, comment: Option<String>) -> Result<(u8, Option<String>), Invalid> {
    if !(1..=MAX_RATING_SCORE).contains(&score) {
        return Err(Invalid::Bad(format!("a score is from 1 to {MAX_RATING_SCORE}")));
    }
    let comment = comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_RATING_COMMENT_CHARS)
    {
        return Err(Invalid::TooLarge(format!(
            "a comment can have at most {MAX_RATING_COMMENT_CHARS} characters"
        )));
    }
    Ok((score, comment))
}

/// A message body. Links must be absolute http(s) URLs without credentials.
pub fn validate_body(body: &MessageBody) -> Result<(), Invalid> {
    match body {
        MessageBody::Text { text } => {
            if text.trim().is_empty() {
                return Err(Invalid::Bad("a message cannot be empty".into()));
            }
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(Invalid::TooLarge(format!(
                    "a message can have at most {MAX_TEXT_CHARS} characters"
                )));
            }
            Ok(())
        }
        MessageBody::Link { url, title } => {
            if url.len() > MAX_URL_BYTES {
                return Err(Invalid::TooLarge(format!("a link can have at most {MAX_URL_BYTES} bytes")));
            }
            if let Some(title) = title {
                if title.chars().count() > MAX_LINK_TITLE_CHARS {
                    return Err(Invalid::TooLarge(format!(
                        "a link title can have at most {MAX_LINK_TITLE_CHARS} characters"
                    )));
                }
            }
            let parsed = url::Url::parse(url).map_err(|_| Invalid::Bad("the link is not a valid URL".into()))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(Invalid::Bad("only http and https links can be sent".into()));
            }
            if !parsed.username().is_empty() || parsed.password().is_some() {
                return Err(Invalid::Bad("links with credentials are not accepted".into()));
            }
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(Invalid::Bad("the link has no host".into()));
            }
            Ok(())
        }
        MessageBody::Image { .. } => Err(Invalid::Bad(
            "images are sent with the upload API (POST /api/visitor/images or /api/conversations/{id}/images), not over the socket".into(),
        )),
    }
}

/// The page a visitor reports: bounded, and never more than informative.
pub fn validate_page(page: &PageInfo) -> Result<(), Invalid> {
    if page.url.len() > MAX_PAGE_FIELD_BYTES || page.title.len() > MAX_PAGE_FIELD_BYTES {
        return Err(Invalid::TooLarge(format!(
            "page url and title can have at most {MAX_PAGE_FIELD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// What a widget says of its browser, as kept: an offset within the world's
/// (UTC-14 to UTC+14, else refused), and a time zone only when its name has
/// IANA's shape (else dropped: the widget sends the browser's name unchecked).
pub fn normalize_device(mut device: VisitorDevice) -> Result<VisitorDevice, Invalid> {
    if !(-14 * 60..=14 * 60).contains(&device.utc_offset_minutes) {
        return Err(Invalid::Bad("utc_offset_minutes is between -840 and 840".into()));
    }
    let shaped = |zone: &str| {
        !zone.is_empty()
            && zone.len() <= MAX_TIME_ZONE_BYTES
            && zone
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
    };
    if device.time_zone.as_deref().is_some_and(|zone| !shaped(zone)) {
        device.time_zone = None;
    }
    Ok(device)
}

/// An e-mail address a visitor leaves, trimmed: one `@` between a local part and a
/// domain with a dot, at most [`MAX_EMAIL_BYTES`] bytes, no spaces, no control or
/// invisible characters. Deliverability is the agent's to find out; this only
/// keeps out what is plainly no address.
pub fn normalize_email(email: &str) -> Result<String, Invalid> {
    let email = email.trim();
    if email.len() > MAX_EMAIL_BYTES {
        return Err(Invalid::TooLarge(format!(
            "an e-mail address can have at most {MAX_EMAIL_BYTES} bytes"
        )));
    }
    let bad = || Invalid::Bad("that is not an e-mail address".into());
    if email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}' | '<' | '>' | '"' | ',' | ';'))
    {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    let labels_ok = domain
        .split('.')
        .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    if local.is_empty() || local.len() > 64 || domain.contains('@') || !domain.contains('.') || !labels_ok {
        return Err(bad());
    }
    Ok(email.to_owned())
}

/// The stored form of a secret token: hex SHA-256. Tokens are 256-bit random
/// values, so a fast hash is enough (no password stretching needed).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A valid body as it is stored: links in the URL standard's serialisation, so that
/// what agents and visitors see is what a browser would open (`https:evil` is
/// stored as `https://evil/`, never as the ambiguous text sent).
pub fn normalize_body(body: MessageBody) -> Result<MessageBody, Invalid> {
    validate_body(&body)?;
    match body {
        MessageBody::Link { url, title } => {
            let parsed = url::Url::parse(&url).map_err(|_| Invalid::Bad("the link is not a valid URL".into()))?;
            let url = String::from(parsed);
            if url.len() > MAX_URL_BYTES {
                return Err(Invalid::TooLarge(format!(
                    "a link can have at most {MAX_URL_BYTES} bytes"
                )));
            }
            Ok(MessageBody::Link { url, title })
        }
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every score a frame can carry, and comments at and around the bound.
    #[test]
    fn a_rating_is_a_score_from_one_to_five_and_a_bounded_comment() {
        for score in 0..=u8::MAX {
            let got = normalize_rating(score, None);
            if (1..=MAX_RATING_SCORE).contains(&score) {
                assert_eq!(got, Ok((score, None)), "{score}");
            } else {
                assert!(matches!(got, Err(Invalid::Bad(_))), "{score}: {got:?}");
            }
        }
        let of = |n: usize| "é".repeat(n);
        assert_eq!(
            normalize_rating(5, Some(of(MAX_RATING_COMMENT_CHARS))),
            Ok((5, Some(of(MAX_RATING_COMMENT_CHARS))))
        );
        assert!(matches!(
            normalize_rating(5, Some(of(MAX_RATING_COMMENT_CHARS + 1))),
            Err(Invalid::TooLarge(_))
        ));
        // Blank is none; what is kept is trimmed (and counted trimmed).
        assert_eq!(normalize_rating(3, Some(" \n\t ".into())), Ok((3, None)));
        assert_eq!(
            normalize_rating(3, Some(format!("  {}  ", of(MAX_RATING_COMMENT_CHARS)))),
            Ok((3, Some(of(MAX_RATING_COMMENT_CHARS))))
        );
        assert_eq!(normalize_rating(1, Some(" slow ".into())), Ok((1, Some("slow".into()))));
    }

    #[test]
    fn links_are_stored_in_their_standard_form() {
        let stored = |url: &str| match normalize_body(link(url)) {
            Ok(MessageBody::Link { url, .. }) => url,
            other => panic!("{other:?}"),
        };
        assert_eq!(stored("https:alert(1)"), "https://alert(1)/");
        assert_eq!(
            stored("HTTPS://Example.COM/a/../b?q=1#x"),
            "https://example.com/b?q=1#x"
        );
        assert_eq!(
            stored("https://example.com/path with space"),
            "https://example.com/path%20with%20space"
        );
        assert!(normalize_body(link("javascript:alert(1)")).is_err());
    }

    fn link(url: &str) -> MessageBody {
        MessageBody::Link {
            url: url.into(),
            title: None,
        }
    }

    #[test]
    fn only_http_links_are_accepted() {
        assert!(validate_body(&link("https://example.com/help?x=1")).is_ok());
        assert!(validate_body(&link("http://example.com")).is_ok());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "//example.com",
            "https://user:pw@example.com",
            "not a url",
        ] {
            assert!(validate_body(&link(bad)).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn text_is_limited_in_characters_not_bytes() {
        let max = "é".repeat(MAX_TEXT_CHARS);
        assert!(validate_body(&MessageBody::Text { text: max.clone() }).is_ok());
        let over = format!("{max}x");
        assert!(matches!(
            validate_body(&MessageBody::Text { text: over }),
            Err(Invalid::TooLarge(_))
        ));
        assert!(validate_body(&MessageBody::Text { text: "  \n ".into() }).is_err());
    }

    #[test]
    fn email_addresses_are_checked_for_shape_only() {
        assert_eq!(normalize_email("  anna@example.com ").unwrap(), "anna@example.com");
        assert_eq!(normalize_email("Ünal.K+tag@bücher.de").unwrap(), "Ünal.K+tag@bücher.de");
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.com",
            "anna@localhost",
            "an na@example.com",
            "anna@@example.com",
            "a@b@example.com",
            "anna@example..com",
            "anna@-example.com",
            "anna@example.com\u{202e}",
            "anna\u{200b}@example.com",
            "<anna@example.com>",
            "anna@example.com, ben@example.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(normalize_email(&long_local).is_err());
        let long = format!("a@{}.com", "b".repeat(250));
        assert!(matches!(normalize_email(&long), Err(Invalid::TooLarge(_))));
    }

    #[test]
    fn client_ids_are_short_visible_ascii() {
        assert!(validate_client_id("m-1f3a").is_ok());
        assert!(validate_client_id("").is_err());
        assert!(validate_client_id("with space").is_err());
        assert!(validate_client_id(&"x".repeat(65)).is_err());
    }
}
