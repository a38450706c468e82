//! Vendure's money: integers in minor units (`59900` is 599.00 at the
//! default precision of 2), read into exact decimals and written back.

use poshub_connector_sdk::{invalid_input, log, Error, Level};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

/// A Vendure amount (an integer in minor units) as a decimal of
/// `precision` places: `59900` -> `599.00`.
pub fn from_minor(minor: i64, precision: u32) -> Decimal {
    Decimal::new(minor, precision)
}

/// The integer at `key` of `object` as an amount, or an error naming
/// `what` and the key. Vendure writes money as JSON integers; a fraction
/// or a string is not Vendure's.
pub fn amount(object: &Value, key: &str, what: &str, precision: u32) -> Result<Decimal, Error> {
    match object.get(key) {
        Some(Value::Number(n)) => n
            .as_i64()
            .map(|minor| from_minor(minor, precision))
            .ok_or_else(|| {
                invalid_input(format!(
                    "{what}.{key} is {n}: Vendure money is a whole number of minor units"
                ))
            }),
        None | Some(Value::Null) => Err(invalid_input(format!("{what} has no {key}"))),
        Some(other) => Err(invalid_input(format!(
            "{what}.{key} is {other}: Vendure money is a whole number of minor units"
        ))),
    }
}

/// The integer at `key`, when there is one.
pub fn optional_amount(
    object: &Value,
    key: &str,
    what: &str,
    precision: u32,
) -> Result<Option<Decimal>, Error> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => amount(object, key, what, precision).map(Some),
    }
}

/// A hub amount (a decimal string) in Vendure's minor units, rounded half
/// to even when it has more places than Vendure keeps (logged).
pub fn to_minor(raw: &str, precision: u32) -> Option<i64> {
    let value: Decimal = raw.trim().parse().ok()?;
    let scaled = value * Decimal::from(10i64.pow(precision));
    let whole = scaled.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
    if whole != scaled {
        log(
            Level::Warn,
            &format!(
                "Vendure keeps {precision} decimal places: {raw} is sent as {whole} minor units"
            ),
        );
    }
    whole.to_i64()
}

/// A decimal written as the hub reads it: `599.00` stays `599.00`.
pub fn shown(value: Decimal) -> String {
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minor_units_are_exact_both_ways() {
        assert_eq!(from_minor(59900, 2).to_string(), "599.00");
        assert_eq!(from_minor(-5, 2).to_string(), "-0.05");
        assert_eq!(from_minor(1500, 0).to_string(), "1500");
        assert_eq!(to_minor("599.00", 2), Some(59900));
        assert_eq!(to_minor("599", 2), Some(59900));
        assert_eq!(to_minor("0.125", 2), Some(12));
        assert_eq!(to_minor("0.135", 2), Some(14));
        assert_eq!(to_minor("12.3", 0), Some(12));
        assert_eq!(to_minor("abc", 2), None);
    }

    #[test]
    fn money_must_be_whole_minor_units() {
        let line = json!({"unitPrice": 57048, "bad": 12.5, "text": "12"});
        assert_eq!(
            amount(&line, "unitPrice", "lines[0]", 2)
                .unwrap()
                .to_string(),
            "570.48"
        );
        assert!(amount(&line, "bad", "lines[0]", 2)
            .unwrap_err()
            .message
            .contains("whole number"));
        assert!(amount(&line, "text", "lines[0]", 2).is_err());
        assert!(amount(&line, "missing", "lines[0]", 2)
            .unwrap_err()
            .message
            .contains("has no missing"));
        assert_eq!(optional_amount(&line, "missing", "x", 2).unwrap(), None);
    }
}
