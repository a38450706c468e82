//! Customer e-mail addresses, kept as the hub compares them: trimmed and in
//! lower case, so that `Asha@Example.com` and `asha@example.com` find the
//! same customer.
//!
//! The check is deliberately loose, as storefronts' own checks differ: at
//! most 254 bytes, no whitespace, something before the first `@` and a dot
//! somewhere after it. An address that passes may still reach no one; one
//! that fails cannot.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// An e-mail address, trimmed and lower case. Made only by [`Email::parse`]
/// (deserialising included).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

/// An address that is none, named as it reads after trimming and lowering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an email address")]
pub struct EmailError(String);

impl Email {
    /// Trims and lowers `raw`, then checks it. A blank address is refused:
    /// callers for whom blank means "none" drop it first.
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let e = raw.trim().to_lowercase();
        let valid = e.len() <= 254
            && !e.contains(char::is_whitespace)
            && e.split_once('@')
                .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'));
        if valid {
            Ok(Email(e))
        } else {
            Err(EmailError(e))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Only through [`Email::parse`].
impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Email::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        for (raw, want) in [
            ("asha@example.com", "asha@example.com"),
            ("Asha@Example.COM", "asha@example.com"),
            ("  asha@example.com\t", "asha@example.com"),
            ("a@b.c", "a@b.c"),
            (
                "first.last+tag@mail.example.co.in",
                "first.last+tag@mail.example.co.in",
            ),
            // Loose on purpose: a second `@`, a dot anywhere after the first.
            ("a@b@c.d", "a@b@c.d"),
            ("a@.", "a@."),
            ("a@example.", "a@example."),
            ("ÄSHA@BEISPIEL.DE", "äsha@beispiel.de"),
        ] {
            assert_eq!(Email::parse(raw).unwrap().as_str(), want, "{raw:?}");
        }
        let longest = format!("{}@example.com", "a".repeat(254 - 12));
        assert_eq!(Email::parse(&longest).unwrap().as_str().len(), 254);
    }

    #[test]
    fn refuses_what_is_no_address() {
        for raw in [
            "",
            "   ",
            "asha",
            "asha@example",
            "@example.com",
            "asha.example.com",
            "asha @example.com",
            "asha@exa mple.com",
            "asha@example.com\nbcc@example.com",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?}");
        }
        let too_long = format!("{}@example.com", "a".repeat(255 - 12));
        assert!(Email::parse(&too_long).is_err());
        // The limit is on bytes, after lowering.
        let wide = format!("{}@example.com", "ä".repeat(122));
        assert_eq!((wide.chars().count(), wide.len()), (134, 256));
        assert!(Email::parse(&wide).is_err());
    }

    #[test]
    fn names_the_address_as_it_reads_once_lowered() {
        let e = Email::parse("  Asha@Example ").unwrap_err();
        assert_eq!(e.to_string(), "`asha@example` is not an email address");
    }

    #[test]
    fn a_parsed_address_parses_as_itself() {
        for raw in ["Asha@Example.com", "ÄSHA@BEISPIEL.DE", "ΣΑΣ@example.gr"] {
            let once = Email::parse(raw).unwrap();
            assert_eq!(Email::parse(once.as_str()).unwrap(), once, "{raw}");
        }
    }

    #[test]
    fn deserialises_only_through_the_parser() {
        let e: Email = serde_json::from_str(r#"" Asha@Example.com ""#).unwrap();
        assert_eq!(e.as_str(), "asha@example.com");
        assert_eq!(e.to_string(), "asha@example.com");
        assert_eq!(serde_json::to_string(&e).unwrap(), r#""asha@example.com""#);
        let back: Email = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        for bad in [r#""asha""#, r#""""#, r#""a b@c.d""#, "42", "null"] {
            assert!(serde_json::from_str::<Email>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_refusal_names_the_field() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Customer {
            email: Email,
        }
        let json = r#"{"email": "Asha.Example.com"}"#;
        let de = &mut serde_json::Deserializer::from_str(json);
        let err = serde_path_to_error::deserialize::<_, Customer>(de).unwrap_err();
        assert_eq!(err.path().to_string(), "email");
        let msg = err.into_inner().to_string();
        assert!(
            msg.starts_with("`asha.example.com` is not an email address"),
            "{msg}"
        );
    }
}
