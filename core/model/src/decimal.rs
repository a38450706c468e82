//! Exact decimals for money, quantities and rates.
//!
//! On the wire every one of them is a JSON string such as `"199.00"` or `"2"`:
//! a JSON number would pass through a float in most clients, so numbers are
//! refused with a message that says what to send instead.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a decimal string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("`{0}` is not a decimal number (expected digits such as \"199.00\")")]
    NotADecimal(String),
    #[error("{0} has more than {1} decimal places")]
    TooManyPlaces(String, u32),
    #[error("{0} must not be negative")]
    Negative(String),
    #[error("{0} must be greater than zero")]
    NotPositive(String),
    #[error("{0} must not be zero")]
    Zero(String),
    #[error("{0} must be between 0 and 100")]
    OutOfRange(String),
}

/// Parses a plain decimal: optional sign, digits, optional fraction. No
/// exponent, no spaces, no thousands separators, at most 18 integer digits.
fn parse_plain(raw: &str, max_scale: u32) -> Result<Decimal, DecimalError> {
    let bad = || DecimalError::NotADecimal(raw.to_string());
    let body = raw.strip_prefix('-').unwrap_or(raw);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 18 || !digits_ok(int) || !digits_ok(frac) {
        return Err(bad());
    }
    if body.contains('.') && frac.is_empty() {
        return Err(bad());
    }
    if frac.len() as u32 > max_scale {
        return Err(DecimalError::TooManyPlaces(raw.to_string(), max_scale));
    }
    Decimal::from_str(raw).map_err(|_| bad())
}

macro_rules! decimal_newtype {
    ($name:ident, $max_scale:expr, $check:expr, $example:expr, $doc:expr) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(Decimal);

        impl $name {
            /// Parses the wire form, e.g. `"199.00"`.
            pub fn parse(raw: &str) -> Result<Self, DecimalError> {
                let value = parse_plain(raw, $max_scale)?;
                Self::new(value).map_err(|e| match e {
                    DecimalError::NotADecimal(_) => DecimalError::NotADecimal(raw.to_string()),
                    other => other,
                })
            }

            /// Wraps a computed value, checking the same rules as `parse`.
            pub fn new(value: Decimal) -> Result<Self, DecimalError> {
                let check: fn(Decimal) -> Result<(), DecimalError> = $check;
                check(value)?;
                if value.scale() > $max_scale {
                    return Err(DecimalError::TooManyPlaces(value.to_string(), $max_scale));
                }
                Ok($name(value))
            }

            pub fn value(self) -> Decimal {
                self.0
            }

            /// Wraps a value that storage wrote after checking it.
            pub fn from_stored(value: Decimal) -> Self {
                $name(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.wire())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.wire())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(DecimalVisitor($example))
                    .and_then(|raw: String| $name::parse(&raw).map_err(de::Error::custom))
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(r"^-?[0-9]+(\.[0-9]+)?$"))
                    .description(Some($doc))
                    .examples([serde_json::json!($example)])
                    .into()
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

struct DecimalVisitor(&'static str);

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a decimal string such as \"{}\"", self.0)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Err(E::custom(format!(
            "send decimals as JSON strings (\"{v}\"), not numbers"
        )))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Err(E::custom(format!(
            "send decimals as JSON strings (\"{v}\"), not numbers"
        )))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Err(E::custom(format!(
            "send decimals as JSON strings (\"{v}\"), not numbers: a float cannot hold money exactly"
        )))
    }
}

decimal_newtype!(
    Amount,
    4,
    |v| if v.is_sign_negative() && !v.is_zero() {
        Err(DecimalError::Negative(v.to_string()))
    } else {
        Ok(())
    },
    "199.00",
    "A non-negative amount of money as a decimal string, e.g. \"199.00\" (at most 4 decimal places)."
);

decimal_newtype!(
    SignedAmount,
    4,
    |_| Ok(()),
    "-5.00",
    "An amount of money that may be negative, as a decimal string, e.g. \"-5.00\" (at most 4 decimal places)."
);

decimal_newtype!(
    Quantity,
    3,
    |v| if v <= Decimal::ZERO {
        Err(DecimalError::NotPositive(v.to_string()))
    } else {
        Ok(())
    },
    "2",
    "A positive quantity as a decimal string, e.g. \"2\" or \"1.5\" (at most 3 decimal places)."
);

decimal_newtype!(
    SignedQuantity,
    3,
    |v| if v.is_zero() {
        Err(DecimalError::Zero(v.to_string()))
    } else {
        Ok(())
    },
    "-1",
    "A non-zero signed quantity as a decimal string, e.g. \"-1\" (at most 3 decimal places)."
);

decimal_newtype!(
    Rate,
    4,
    |v| if v < Decimal::ZERO || v > Decimal::ONE_HUNDRED {
        Err(DecimalError::OutOfRange(v.to_string()))
    } else {
        Ok(())
    },
    "18",
    "A percentage between 0 and 100 as a decimal string, e.g. \"18\" or \"12.5\"."
);

impl Amount {
    pub const ZERO: Amount = Amount(Decimal::ZERO);

    /// Money shows at least two decimal places: `"199.00"`, `"0.125"`.
    fn wire(&self) -> String {
        let v = self.0.normalize();
        if v.scale() < 2 {
            format!("{:.2}", v)
        } else {
            v.to_string()
        }
    }
}

impl SignedAmount {
    fn wire(&self) -> String {
        money_string(self.0)
    }
}

impl Quantity {
    fn wire(&self) -> String {
        self.0.normalize().to_string()
    }
}

impl SignedQuantity {
    fn wire(&self) -> String {
        self.0.normalize().to_string()
    }
}

impl Rate {
    pub const ZERO: Rate = Rate(Decimal::ZERO);

    fn wire(&self) -> String {
        self.0.normalize().to_string()
    }
}

/// Renders any decimal the way money is rendered (at least two places).
pub fn money_string(v: Decimal) -> String {
    let v = v.normalize();
    if v.scale() < 2 {
        format!("{:.2}", v)
    } else {
        v.to_string()
    }
}

/// Renders a quantity or stock level (`"2"`, `"-1.5"`).
pub fn quantity_string(v: Decimal) -> String {
    v.normalize().to_string()
}

/// Rounds money to cents, half away from zero (the usual till rule).
pub fn round_money(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(Amount::parse("199.00").unwrap().to_string(), "199.00");
        assert_eq!(Amount::parse("0.1").unwrap().to_string(), "0.10");
        assert_eq!(Amount::parse("12.3456").unwrap().to_string(), "12.3456");
        assert_eq!(Amount::parse("7").unwrap().to_string(), "7.00");
        let a = Amount::parse("0.1").unwrap().value() + Amount::parse("0.2").unwrap().value();
        assert_eq!(a, Decimal::from_str("0.3").unwrap());
    }

    #[test]
    fn bad_amounts_are_refused() {
        for raw in [
            "", "abc", "1e5", " 1", "1,000.00", "1.", ".5", "NaN", "--1", "+1",
        ] {
            assert!(Amount::parse(raw).is_err(), "{raw:?} should be refused");
        }
        assert!(matches!(
            Amount::parse("-1"),
            Err(DecimalError::Negative(_))
        ));
        assert!(matches!(
            Amount::parse("1.23456"),
            Err(DecimalError::TooManyPlaces(..))
        ));
        assert!(Amount::parse("1234567890123456789").is_err());
    }

    #[test]
    fn quantities_must_be_positive() {
        assert_eq!(Quantity::parse("2").unwrap().to_string(), "2");
        assert_eq!(Quantity::parse("2.500").unwrap().to_string(), "2.5");
        assert!(matches!(
            Quantity::parse("0"),
            Err(DecimalError::NotPositive(_))
        ));
        assert!(matches!(
            Quantity::parse("-3"),
            Err(DecimalError::NotPositive(_))
        ));
        assert!(SignedQuantity::parse("-3").is_ok());
        assert!(SignedQuantity::parse("0").is_err());
    }

    #[test]
    fn rates_are_percentages() {
        assert!(Rate::parse("18").is_ok());
        assert!(Rate::parse("100.5").is_err());
        assert!(Rate::parse("-1").is_err());
    }

    #[test]
    fn json_numbers_are_refused_with_a_hint() {
        let err = serde_json::from_str::<Amount>("199.5")
            .unwrap_err()
            .to_string();
        assert!(err.contains("JSON strings"), "{err}");
        let ok: Amount = serde_json::from_str("\"199.5\"").unwrap();
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"199.50\"");
    }

    #[test]
    fn money_rounds_half_away_from_zero() {
        assert_eq!(
            round_money(Decimal::from_str("2.345").unwrap()).to_string(),
            "2.35"
        );
        assert_eq!(
            round_money(Decimal::from_str("2.344").unwrap()).to_string(),
            "2.34"
        );
    }
}
