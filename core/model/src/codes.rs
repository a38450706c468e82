//! Codes that people type and machines match on: location, item, store and
//! reference codes, and payment types.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A code such as a location code, item code, store code or variant reference
/// code: 1 to 64 characters of letters, digits and `- _ . /`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Code(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("a code must not be empty")]
    Empty,
    #[error("`{0}` is longer than 64 characters")]
    TooLong(String),
    #[error("`{0}` may only contain letters, digits and - _ . /")]
    BadCharacters(String),
}

impl Code {
    pub fn parse(raw: &str) -> Result<Code, CodeError> {
        if raw.is_empty() {
            return Err(CodeError::Empty);
        }
        if raw.chars().count() > 64 {
            return Err(CodeError::TooLong(raw.to_string()));
        }
        if !raw
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        {
            return Err(CodeError::BadCharacters(raw.to_string()));
        }
        Ok(Code(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Code {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, CodeError> {
        Code::parse(&s)
    }
}

impl From<Code> for String {
    fn from(c: Code) -> String {
        c.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Code {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(64))
            .description(Some("A code: letters, digits and - _ . /"))
            .into()
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Code {}

/// A payment type such as `cod`, `card`, `upi` or `prepaid`: lower case
/// letters, digits and `_`. `cod` means the customer pays on delivery.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentType(String);

impl PaymentType {
    pub const CASH_ON_DELIVERY: &'static str = "cod";

    pub fn parse(raw: &str) -> Result<PaymentType, String> {
        let norm = raw.trim().to_ascii_lowercase();
        if norm.is_empty()
            || norm.len() > 32
            || !norm
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(format!(
                "`{raw}` is not a payment type (lower-case letters, digits and _, e.g. cod, card, upi)"
            ));
        }
        Ok(PaymentType(norm))
    }

    pub fn is_pay_on_delivery(&self) -> bool {
        self.0 == Self::CASH_ON_DELIVERY
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PaymentType {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        PaymentType::parse(&s)
    }
}

impl From<PaymentType> for String {
    fn from(p: PaymentType) -> String {
        p.0
    }
}

impl fmt::Display for PaymentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PaymentType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[a-z0-9_]{1,32}$"))
            .description(Some(
                "Payment type, e.g. cod (pay on delivery), card, upi, prepaid",
            ))
            .into()
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PaymentType {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert!(Code::parse("TOY-RED-S").is_ok());
        assert!(Code::parse("BLR/01").is_ok());
        assert!(matches!(Code::parse(""), Err(CodeError::Empty)));
        assert!(matches!(
            Code::parse("A B"),
            Err(CodeError::BadCharacters(_))
        ));
        assert!(Code::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn payment_types_are_case_insensitive() {
        assert_eq!(PaymentType::parse("COD").unwrap().as_str(), "cod");
        assert!(PaymentType::parse("COD").unwrap().is_pay_on_delivery());
        assert!(PaymentType::parse("credit card").is_err());
    }
}
