//! Customer phone numbers, normalised to E.164 (`+919876543210`) so that the
//! same customer is found however a storefront formats the number.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A country calling code used for numbers written without one, e.g. `91`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let digits = raw.trim().trim_start_matches('+');
        if digits.is_empty()
            || digits.len() > 3
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(PhoneError::BadCountryCode(raw.to_string()));
        }
        Ok(CountryCode(digits.to_string()))
    }
}

impl Default for CountryCode {
    /// India: the original product's home market.
    fn default() -> Self {
        CountryCode("91".to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("`{0}` is not a phone number (only digits, spaces, dashes, dots, brackets and a leading + are allowed)")]
    BadCharacters(String),
    #[error("`{0}` has {1} digits; a full international number has 8 to 15")]
    BadLength(String, usize),
    #[error("`{0}` is not a country calling code (1 to 3 digits, e.g. 91)")]
    BadCountryCode(String),
}

/// A phone number in E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Normalises a phone as written by a customer. Numbers with `+` or `00`
    /// are international; anything else is local to `default_country`, with
    /// one leading trunk `0` dropped (`09876 543210` -> `+919876543210`).
    pub fn parse(raw: &str, default_country: &CountryCode) -> Result<Phone, PhoneError> {
        let trimmed = raw.trim();
        let mut digits = String::with_capacity(trimmed.len());
        let mut plus = false;
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                ' ' | '-' | '.' | '(' | ')' | '/' => {}
                _ => return Err(PhoneError::BadCharacters(raw.to_string())),
            }
        }
        let international = if plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_string()
        } else {
            let local = digits.strip_prefix('0').unwrap_or(&digits);
            format!("{}{}", default_country.0, local)
        };
        let len = international.len();
        if !(8..=15).contains(&len) || international.starts_with('0') {
            return Err(PhoneError::BadLength(raw.to_string(), len));
        }
        Ok(Phone(format!("+{international}")))
    }

    /// Wraps a value that storage wrote after normalising it.
    pub fn from_stored(e164: String) -> Phone {
        Phone(e164)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn india() -> CountryCode {
        CountryCode::parse("91").unwrap()
    }

    #[test]
    fn local_and_international_forms_meet() {
        let forms = [
            "9876543210",
            "09876 543210",
            "+91 98765-43210",
            "0091 (98765) 43210",
            "+919876543210",
        ];
        for raw in forms {
            assert_eq!(
                Phone::parse(raw, &india()).unwrap().as_str(),
                "+919876543210",
                "{raw}"
            );
        }
    }

    #[test]
    fn other_countries_keep_their_code() {
        let p = Phone::parse("+852 6123 4567", &india()).unwrap();
        assert_eq!(p.as_str(), "+85261234567");
        let us = CountryCode::parse("+1").unwrap();
        assert_eq!(
            Phone::parse("(415) 555-0100", &us).unwrap().as_str(),
            "+14155550100"
        );
    }

    #[test]
    fn junk_is_refused() {
        assert!(matches!(
            Phone::parse("call me", &india()),
            Err(PhoneError::BadCharacters(_))
        ));
        assert!(matches!(
            Phone::parse("12", &india()),
            Err(PhoneError::BadLength(..))
        ));
        assert!(Phone::parse("+1234567890123456", &india()).is_err());
        assert!(Phone::parse("98+76", &india()).is_err());
        assert!(CountryCode::parse("0").is_err());
        assert!(CountryCode::parse("1234").is_err());
    }
}
