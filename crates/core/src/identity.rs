//! Identified visitors. The host site knows who its logged-in user is; the widget
//! does not, and anything it says can be forged in the visitor's own browser. So
//! the site's server signs its user's id, name and e-mail address, HMAC-SHA256
//! with a secret it shares with Sightline (`identity_secret` in the
//! configuration), and the page hands them and the signature to
//! `Sightline.identify`. The hub takes an identity only when the signature
//! matches, compared in constant time.
//!
//! All three are signed: an agent trusts the name and address on screen as much
//! as the id, so a visitor who keeps their own id but shows another customer's
//! name or address is refused like one who takes another id. The signed text is
//! `id`, `name` and `email` as the page passes them (an absent one as the empty
//! string), joined by line feeds; none of them may hold a control character, so
//! the joining is unambiguous.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sightline_proto::{VisitorIdentity, IDENTITY_SIGNATURE_HEX_CHARS, MAX_IDENTITY_ID_BYTES, MAX_IDENTITY_NAME_CHARS};

use crate::validate::{normalize_email, Invalid};

/// The secret identities are signed with. Its `Debug` shows no byte of it.
#[derive(Clone)]
pub struct IdentitySecret(Vec<u8>);

impl IdentitySecret {
    /// A secret of at least 16 bytes (a short one could be guessed offline from a
    /// single signature); `None` otherwise.
    pub fn new(secret: &str) -> Option<Self> {
        (secret.len() >= 16).then(|| IdentitySecret(secret.as_bytes().to_vec()))
    }

    fn key(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; this cannot fail.
        Hmac::<Sha256>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    fn mac(&self, id: &str, name: Option<&str>, email: Option<&str>) -> Hmac<Sha256> {
        let mut mac = self.key();
        mac.update(id.as_bytes());
        mac.update(b"\n");
        mac.update(name.unwrap_or_default().as_bytes());
        mac.update(b"\n");
        mac.update(email.unwrap_or_default().as_bytes());
        mac
    }

    /// The signature of an identity, as the host site's server computes it:
    /// HMAC-SHA256 of `id\nname\nemail` (absent fields empty), in lowercase hex.
    pub fn sign(&self, id: &str, name: Option<&str>, email: Option<&str>) -> String {
        hex::encode(self.mac(id, name, email).finalize().into_bytes())
    }

    /// Whether `signature` (hex, either case) is the signature of this identity.
    /// The bytes are compared in constant time (`Mac::verify_slice`). An identity
    /// with neither name nor e-mail may also be signed as before they were signed:
    /// HMAC-SHA256 over the id alone (sites written for that keep working). The two
    /// forms cannot be confused: an id holds no line feed.
    pub fn verify(&self, id: &str, name: Option<&str>, email: Option<&str>, signature: &str) -> bool {
        let Ok(bytes) = hex::decode(signature) else {
            return false;
        };
        if self.mac(id, name, email).verify_slice(&bytes).is_ok() {
            return true;
        }
        name.is_none() && email.is_none() && {
            let mut bare = self.key();
            bare.update(id.as_bytes());
            bare.verify_slice(&bytes).is_ok()
        }
    }
}

impl std::fmt::Debug for IdentitySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentitySecret(…)")
    }
}

/// Why an identity was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityRefused {
    /// The server has no identity secret: nobody can be identified.
    NotConfigured,
    /// The signature is not the one the secret gives for this id, name and e-mail.
    Forged,
    /// A field is too long or of the wrong shape.
    Invalid(Invalid),
}

/// The identity in a visitor's `identify`, once every field has its size and shape
/// and the signature matches. Fields are checked before the signature, so that a
/// site's developer learns of an overlong name even without the right secret.
pub fn check_identity(
    secret: Option<&IdentitySecret>,
    id: &str,
    name: Option<&str>,
    email: Option<&str>,
    signature: &str,
) -> Result<VisitorIdentity, IdentityRefused> {
    let invalid = |e: Invalid| IdentityRefused::Invalid(e);
    if id.len() > MAX_IDENTITY_ID_BYTES {
        return Err(invalid(Invalid::TooLarge(format!(
            "an identity's id can have at most {MAX_IDENTITY_ID_BYTES} bytes"
        ))));
    }
    if id.is_empty() || id.chars().any(char::is_control) {
        return Err(invalid(Invalid::Bad(
            "an identity needs an id without control characters".into(),
        )));
    }
    let signed_name = name;
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    if let Some(name) = name {
        if name.chars().count() > MAX_IDENTITY_NAME_CHARS {
            return Err(invalid(Invalid::TooLarge(format!(
                "a name can have at most {MAX_IDENTITY_NAME_CHARS} characters"
            ))));
        }
    }
    // Anywhere, not only inside the trimmed text: a line feed around a name
    // would move the boundaries of the signed text.
    if signed_name.is_some_and(|n| n.chars().any(char::is_control)) {
        return Err(invalid(Invalid::Bad("a name cannot have control characters".into())));
    }
    let signed_email = email;
    let email = match email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(email) => Some(normalize_email(email).map_err(invalid)?),
        None => None,
    };
    if signed_email.is_some_and(|e| e.chars().any(char::is_control)) {
        return Err(invalid(Invalid::Bad(
            "an e-mail address cannot have control characters".into(),
        )));
    }
    if signature.len() > IDENTITY_SIGNATURE_HEX_CHARS {
        return Err(invalid(Invalid::TooLarge(format!(
            "a signature is {IDENTITY_SIGNATURE_HEX_CHARS} hex digits (HMAC-SHA256)"
        ))));
    }
    let Some(secret) = secret else {
        return Err(IdentityRefused::NotConfigured);
    };
    // A missing or malformed signature is as good as a forged one.
    if !secret.verify(id, signed_name, signed_email, signature) {
        return Err(IdentityRefused::Forged);
    }
    Ok(VisitorIdentity {
        id: id.to_owned(),
        name: name.map(str::to_owned),
        email,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> IdentitySecret {
        IdentitySecret::new("correct horse battery staple").expect("long enough")
    }

    #[test]
    fn signs_as_the_documented_shell_command_does() {
        // Computed independently:
        //   printf '%s\n%s\n%s' 'user-42' 'Ada Lovelace' 'ada@example.com' | openssl dgst -sha256 -hmac 'correct horse battery staple'
        //   node -e "console.log(require('crypto').createHmac('sha256', 'correct horse battery staple').update(['user-42', 'Ada Lovelace', 'ada@example.com'].join('\n')).digest('hex'))"
        assert_eq!(
            secret().sign("user-42", Some("Ada Lovelace"), Some("ada@example.com")),
            "28b4ab155b07dacd86dd4dbfcd0e7193bfdc8118f942329462d95fe69d54c8e2"
        );
        //   printf '%s\n\n' 'user-42' | openssl dgst -sha256 -hmac 'correct horse battery staple'
        assert_eq!(
            secret().sign("user-42", None, None),
            "d622578ca8d11dcb8d1c4c2774a6e9547c3c58dff12ec153bc83b7f989425504"
        );
    }

    #[test]
    fn a_valid_signature_gives_the_identity() {
        let s = secret();
        let signature = s.sign("user-42", Some("  Ada Lovelace "), Some("ada@example.com"));
        let identity = check_identity(
            Some(&s),
            "user-42",
            Some("  Ada Lovelace "),
            Some("ada@example.com"),
            &signature,
        )
        .expect("valid");
        assert_eq!(
            identity,
            VisitorIdentity {
                id: "user-42".into(),
                name: Some("Ada Lovelace".into()),
                email: Some("ada@example.com".into()),
            }
        );
        // Hex in capitals is the same signature.
        let bare = s.sign("user-42", None, None);
        assert!(check_identity(Some(&s), "user-42", None, None, &bare.to_uppercase()).is_ok());
    }

    #[test]
    fn a_forged_signature_is_refused() {
        let s = secret();
        // Another user's signature, one flipped digit, and made-up hex.
        let other = s.sign("user-43", None, None);
        let mut flipped = s.sign("user-42", None, None).into_bytes();
        flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        for forged in [other.as_str(), flipped.as_str(), &"ab".repeat(32), "not hex at all"] {
            assert_eq!(
                check_identity(Some(&s), "user-42", None, None, forged),
                Err(IdentityRefused::Forged),
                "{forged}"
            );
        }
    }

    #[test]
    fn the_name_and_address_are_signed_with_the_id() {
        let s = secret();
        let name = Some("Ada Lovelace");
        let email = Some("ada@example.com");
        let signature = s.sign("user-42", name, email);
        assert!(check_identity(Some(&s), "user-42", name, email, &signature).is_ok());
        // The visitor keeps their own id and signature but shows another name or
        // address, drops one, or adds one the site did not sign.
        for (name, email) in [
            (Some("Grace Hopper"), email),
            (name, Some("grace@example.com")),
            (None, email),
            (name, None),
            (Some("Ada Lovelace "), email),
        ] {
            assert_eq!(
                check_identity(Some(&s), "user-42", name, email, &signature),
                Err(IdentityRefused::Forged),
                "{name:?} {email:?}"
            );
        }
        let bare = s.sign("user-42", None, None);
        assert_eq!(
            check_identity(Some(&s), "user-42", Some("Grace Hopper"), None, &bare),
            Err(IdentityRefused::Forged)
        );
        // Fields cannot trade places or borrow each other's text: the same
        // characters split differently sign differently.
        assert_ne!(s.sign("a", Some("b"), None), s.sign("a", None, Some("b")));
        assert_ne!(s.sign("ab", None, None), s.sign("a", Some("b"), None));
    }

    #[test]
    fn an_id_alone_may_be_signed_as_before_but_only_without_name_and_address() {
        let s = secret();
        // The earlier form: HMAC over the id alone (the old documented command).
        let bare = "4dba259bc3cd693baf80d04e65ca39af8cdde1460bc6c1690d7c6b961e66c5b9";
        assert!(check_identity(Some(&s), "user-42", None, None, bare).is_ok());
        // It proves nothing of a name or an address.
        assert_eq!(
            check_identity(Some(&s), "user-42", Some("Grace Hopper"), None, bare),
            Err(IdentityRefused::Forged)
        );
        assert_eq!(
            check_identity(Some(&s), "user-42", None, Some("grace@example.com"), bare),
            Err(IdentityRefused::Forged)
        );
        assert_eq!(
            check_identity(Some(&s), "user-43", None, None, bare),
            Err(IdentityRefused::Forged)
        );
    }

    #[test]
    fn a_line_feed_cannot_move_the_signed_fields() {
        let s = secret();
        // "user-42\nAda\n" + "x@example.com" could pose as id "user-42", name
        // "Ada\nx@example.com"… if control characters were let through anywhere.
        let bad =
            |r: Result<VisitorIdentity, IdentityRefused>| matches!(r, Err(IdentityRefused::Invalid(Invalid::Bad(_))));
        let sig = s.sign("user-42", Some("Ada"), Some("x@example.com"));
        assert!(bad(check_identity(Some(&s), "user-42", Some("Ada\n"), None, &sig)));
        assert!(bad(check_identity(Some(&s), "user-42", Some("\nAda"), None, &sig)));
        assert!(bad(check_identity(
            Some(&s),
            "user-42",
            None,
            Some("\nx@example.com"),
            &sig
        )));
    }

    #[test]
    fn a_signature_made_with_another_secret_is_refused() {
        let wrong = IdentitySecret::new("another secret of the site").expect("long enough");
        assert_eq!(
            check_identity(
                Some(&secret()),
                "user-42",
                None,
                None,
                &wrong.sign("user-42", None, None)
            ),
            Err(IdentityRefused::Forged)
        );
    }

    #[test]
    fn a_missing_signature_is_refused() {
        assert_eq!(
            check_identity(Some(&secret()), "user-42", None, None, ""),
            Err(IdentityRefused::Forged)
        );
        // A truncated one too (verify_slice compares whole MACs only).
        let half = &secret().sign("user-42", None, None)[..32];
        assert_eq!(
            check_identity(Some(&secret()), "user-42", None, None, half),
            Err(IdentityRefused::Forged)
        );
    }

    #[test]
    fn without_a_secret_nobody_is_identified() {
        assert_eq!(
            check_identity(None, "user-42", None, None, &secret().sign("user-42", None, None)),
            Err(IdentityRefused::NotConfigured)
        );
        assert!(IdentitySecret::new("short").is_none());
    }

    #[test]
    fn oversized_fields_are_refused_whatever_the_signature() {
        let s = secret();
        let too_large = |r: Result<VisitorIdentity, IdentityRefused>| {
            matches!(r, Err(IdentityRefused::Invalid(Invalid::TooLarge(_))))
        };
        let long_id = "x".repeat(MAX_IDENTITY_ID_BYTES + 1);
        assert!(too_large(check_identity(
            Some(&s),
            &long_id,
            None,
            None,
            &s.sign(&long_id, None, None)
        )));
        let id_at_limit = "x".repeat(MAX_IDENTITY_ID_BYTES);
        assert!(check_identity(Some(&s), &id_at_limit, None, None, &s.sign(&id_at_limit, None, None)).is_ok());
        let long_name = "é".repeat(MAX_IDENTITY_NAME_CHARS + 1);
        assert!(too_large(check_identity(
            Some(&s),
            "user-42",
            Some(&long_name),
            None,
            &s.sign("user-42", Some(&long_name), None)
        )));
        let name_at_limit = "é".repeat(MAX_IDENTITY_NAME_CHARS);
        let sig = s.sign("user-42", Some(&name_at_limit), None);
        assert!(check_identity(Some(&s), "user-42", Some(&name_at_limit), None, &sig).is_ok());
        let long_email = format!("{}@example.com", "a".repeat(250));
        assert!(too_large(check_identity(
            Some(&s),
            "user-42",
            None,
            Some(&long_email),
            &s.sign("user-42", None, Some(&long_email))
        )));
        assert!(too_large(check_identity(
            Some(&s),
            "user-42",
            None,
            None,
            &"a".repeat(65)
        )));
    }

    #[test]
    fn fields_of_the_wrong_shape_are_refused() {
        let s = secret();
        let bad =
            |r: Result<VisitorIdentity, IdentityRefused>| matches!(r, Err(IdentityRefused::Invalid(Invalid::Bad(_))));
        assert!(bad(check_identity(Some(&s), "", None, None, &s.sign("", None, None))));
        assert!(bad(check_identity(
            Some(&s),
            "a\nb",
            None,
            None,
            &s.sign("a\nb", None, None)
        )));
        let named = Some("Ada\u{7}");
        assert!(bad(check_identity(
            Some(&s),
            "user-42",
            named,
            None,
            &s.sign("user-42", named, None)
        )));
        let address = Some("not an address");
        assert!(bad(check_identity(
            Some(&s),
            "user-42",
            None,
            address,
            &s.sign("user-42", None, address)
        )));
        // Empty optional fields are absent ones (and are signed as the page sent them).
        let sig = s.sign("user-42", Some(" "), Some(""));
        let identity = check_identity(Some(&s), "user-42", Some(" "), Some(""), &sig).expect("valid");
        assert_eq!((identity.name, identity.email), (None, None));
    }
}
