//! Identified visitors. The host site knows who its logged-in user is; the widget
//! does not, and anything it says can be forged in the visitor's own browser. So
//! the site's server signs its user's id, HMAC-SHA256 with a secret it shares with
//! Sightline (`identity_secret` in the configuration), and the page hands id and
//! signature to `Sightline.identify`. The hub takes an identity only when the
//! signature matches, compared in constant time.
//!
//! The name and e-mail address are not signed: like a name typed into a form,
//! they are the site's description of the user, shown to agents beside the id
//! that is proven. A visitor who edits them still cannot take another user's id.

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

    fn mac(&self, id: &str) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; this cannot fail.
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(id.as_bytes());
        mac
    }

    /// The signature of `id`, as the host site's server computes it: lowercase hex.
    pub fn sign(&self, id: &str) -> String {
        hex::encode(self.mac(id).finalize().into_bytes())
    }

    /// Whether `signature` (hex, either case) is the signature of `id`. The bytes
    /// are compared in constant time (`Mac::verify_slice`).
    pub fn verify(&self, id: &str, signature: &str) -> bool {
        match hex::decode(signature) {
            Ok(bytes) => self.mac(id).verify_slice(&bytes).is_ok(),
            Err(_) => false,
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
    /// The signature is not the one the secret gives for this id.
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
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    if let Some(name) = name {
        if name.chars().count() > MAX_IDENTITY_NAME_CHARS {
            return Err(invalid(Invalid::TooLarge(format!(
                "a name can have at most {MAX_IDENTITY_NAME_CHARS} characters"
            ))));
        }
        if name.chars().any(char::is_control) {
            return Err(invalid(Invalid::Bad("a name cannot have control characters".into())));
        }
    }
    let email = match email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(email) => Some(normalize_email(email).map_err(invalid)?),
        None => None,
    };
    if signature.len() > IDENTITY_SIGNATURE_HEX_CHARS {
        return Err(invalid(Invalid::TooLarge(format!(
            "a signature is {IDENTITY_SIGNATURE_HEX_CHARS} hex digits (HMAC-SHA256)"
        ))));
    }
    let Some(secret) = secret else {
        return Err(IdentityRefused::NotConfigured);
    };
    // A missing or malformed signature is as good as a forged one.
    if !secret.verify(id, signature) {
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
        //   printf '%s' 'user-42' | openssl dgst -sha256 -hmac 'correct horse battery staple'
        //   node -e "console.log(require('crypto').createHmac('sha256', 'correct horse battery staple').update('user-42').digest('hex'))"
        assert_eq!(
            secret().sign("user-42"),
            "4dba259bc3cd693baf80d04e65ca39af8cdde1460bc6c1690d7c6b961e66c5b9"
        );
    }

    #[test]
    fn a_valid_signature_gives_the_identity() {
        let s = secret();
        let signature = s.sign("user-42");
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
        assert!(check_identity(Some(&s), "user-42", None, None, &signature.to_uppercase()).is_ok());
    }

    #[test]
    fn a_forged_signature_is_refused() {
        let s = secret();
        // Another user's signature, one flipped digit, and made-up hex.
        let other = s.sign("user-43");
        let mut flipped = s.sign("user-42").into_bytes();
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
    fn a_signature_made_with_another_secret_is_refused() {
        let wrong = IdentitySecret::new("another secret of the site").expect("long enough");
        assert_eq!(
            check_identity(Some(&secret()), "user-42", None, None, &wrong.sign("user-42")),
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
        let half = &secret().sign("user-42")[..32];
        assert_eq!(
            check_identity(Some(&secret()), "user-42", None, None, half),
            Err(IdentityRefused::Forged)
        );
    }

    #[test]
    fn without_a_secret_nobody_is_identified() {
        assert_eq!(
            check_identity(None, "user-42", None, None, &secret().sign("user-42")),
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
            &s.sign(&long_id)
        )));
        let id_at_limit = "x".repeat(MAX_IDENTITY_ID_BYTES);
        assert!(check_identity(Some(&s), &id_at_limit, None, None, &s.sign(&id_at_limit)).is_ok());
        let sig = s.sign("user-42");
        let long_name = "é".repeat(MAX_IDENTITY_NAME_CHARS + 1);
        assert!(too_large(check_identity(
            Some(&s),
            "user-42",
            Some(&long_name),
            None,
            &sig
        )));
        let name_at_limit = "é".repeat(MAX_IDENTITY_NAME_CHARS);
        assert!(check_identity(Some(&s), "user-42", Some(&name_at_limit), None, &sig).is_ok());
        let long_email = format!("{}@example.com", "a".repeat(250));
        assert!(too_large(check_identity(
            Some(&s),
            "user-42",
            None,
            Some(&long_email),
            &sig
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
        assert!(bad(check_identity(Some(&s), "", None, None, &s.sign(""))));
        assert!(bad(check_identity(Some(&s), "a\nb", None, None, &s.sign("a\nb"))));
        let sig = s.sign("user-42");
        assert!(bad(check_identity(Some(&s), "user-42", Some("Ada\u{7}"), None, &sig)));
        assert!(bad(check_identity(
            Some(&s),
            "user-42",
            None,
            Some("not an address"),
            &sig
        )));
        // Empty optional fields are absent ones.
        let identity = check_identity(Some(&s), "user-42", Some(" "), Some(""), &sig).expect("valid");
        assert_eq!((identity.name, identity.email), (None, None));
    }
}
