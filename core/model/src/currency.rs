//! Currencies: the hub's own (the POS's) and each store's, as ISO 4217
//! codes with their minor units (`INR` 2, `JPY` 0, `KWD` 3), from the
//! maintained `iso_currency` tables rather than a list kept here.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::error::DomainError;

/// An ISO 4217 currency with minor units (funds and metals such as `XAU`,
/// which have none, are not money a shop takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// The hub's currency until the merchant sets one (the demo's, and the
    /// original POS's market).
    pub const DEFAULT: Currency = Currency(iso_currency::Currency::INR);

    /// Parses a code such as `AUD` (letters in any case).
    pub fn parse(raw: &str) -> Result<Currency, String> {
        let code = raw.trim().to_ascii_uppercase();
        match iso_currency::Currency::from_code(&code) {
            Some(c) if c.exponent().is_some() => Ok(Currency(c)),
            Some(_) => Err(format!(
                "`{code}` has no minor unit; it is not a currency a shop sells in"
            )),
            None => Err(format!(
                "`{}` is not an ISO 4217 currency code (such as INR, AUD, EUR, JPY)",
                raw.trim()
            )),
        }
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Decimal places of the minor unit: 2 for `INR`, 0 for `JPY`.
    pub fn minor_units(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(2))
    }

    /// Whether `amount` is written in whole minor units (`10.50` in `INR`,
    /// `1050` but not `1050.5` in `JPY`); trailing zeros do not count.
    pub fn fits(self, amount: Decimal) -> bool {
        amount.normalize().scale() <= self.minor_units()
    }

    /// Rounds to the minor unit, half away from zero (the usual till rule).
    pub fn round(self, amount: Decimal) -> Decimal {
        amount.round_dp_with_strategy(self.minor_units(), RoundingStrategy::MidpointAwayFromZero)
    }

    /// One minor unit: `0.01` in `INR`, `1` in `JPY`.
    pub fn minor_unit(self) -> Decimal {
        Decimal::new(1, self.minor_units())
    }

    /// Refuses an order in `given` for a store that sells in `expected`
    /// (422 `currency_mismatch` on `field`, naming both).
    pub fn expect(expected: Currency, given: Currency, field: &str) -> Result<(), DomainError> {
        if given == expected {
            return Ok(());
        }
        Err(DomainError::invalid(
            field,
            "currency_mismatch",
            format!(
                "the order is in {given} but the store sells in {expected}; the hub does not book one currency as another"
            ),
        ))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Currency::parse(&raw).map_err(de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[A-Za-z]{3}$"))
            .description(Some(
                "An ISO 4217 currency code, e.g. \"INR\", \"AUD\", \"JPY\".",
            ))
            .examples([serde_json::json!("INR")])
            .into()
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Currency {}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn codes_and_minor_units() {
        assert_eq!(Currency::parse("AUD").unwrap().minor_units(), 2);
        assert_eq!(Currency::parse("jpy").unwrap().code(), "JPY");
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
        assert!(Currency::parse("XAU").is_err());
        assert!(Currency::parse("ABC").is_err());
        assert!(Currency::parse("").is_err());
        assert_eq!(Currency::DEFAULT.code(), "INR");
    }

    #[test]
    fn amounts_in_minor_units() {
        let jpy = Currency::parse("JPY").unwrap();
        let inr = Currency::parse("INR").unwrap();
        assert!(jpy.fits(d("1050")));
        assert!(jpy.fits(d("1050.00")));
        assert!(!jpy.fits(d("1050.5")));
        assert!(inr.fits(d("10.50")));
        assert!(!inr.fits(d("10.505")));
        assert_eq!(jpy.round(d("10.5")), d("11"));
        assert_eq!(inr.round(d("2.345")), d("2.35"));
        assert_eq!(jpy.minor_unit(), d("1"));
    }

    #[test]
    fn a_mismatch_names_both() {
        let (inr, aud) = (
            Currency::parse("INR").unwrap(),
            Currency::parse("AUD").unwrap(),
        );
        let err = Currency::expect(inr, aud, "currency").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("AUD") && text.contains("INR"), "{text}");
        assert!(Currency::expect(inr, inr, "x").is_ok());
    }
}
