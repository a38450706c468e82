//! Exact decimals from WooCommerce JSON: amounts arrive as strings
//! (`"199.00"`), quantities and tax percentages as JSON numbers (`2`, `4.5`).
//! Both are read from their digits into [`Decimal`], never through a float.

use std::str::FromStr;

use poshub_connector_sdk::{decimal, invalid_input, Error};
use rust_decimal::Decimal;
use serde_json::Value;

/// Decimal places the hub keeps on amounts and rates.
pub const HUB_PLACES: u32 = 4;

/// Reads an exact decimal; `what` names the field in the error.
pub fn parse(value: &Value, what: &str) -> Result<Decimal, Error> {
    let raw = decimal(value)
        .ok_or_else(|| invalid_input(format!("{what} `{}` is not a number", shown(value))))?;
    Decimal::from_str(&raw).map_err(|_| invalid_input(format!("{what} `{raw}` is out of range")))
}

/// Like [`parse`], but an absent, null or empty value is zero (WooCommerce
/// writes `""` for amounts that do not apply).
pub fn parse_or_zero(value: &Value, what: &str) -> Result<Decimal, Error> {
    match value {
        Value::Null => Ok(Decimal::ZERO),
        Value::String(s) if s.trim().is_empty() => Ok(Decimal::ZERO),
        _ => parse(value, what),
    }
}

/// Reads an amount that must not be negative.
pub fn parse_amount(value: &Value, what: &str) -> Result<Decimal, Error> {
    let amount = parse_or_zero(value, what)?;
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(invalid_input(format!("{what} {amount} is negative")));
    }
    Ok(amount)
}

/// Money as text with at least two decimal places: `3` -> `"3.00"`,
/// `6.6667` stays.
pub fn money_text(amount: Decimal) -> String {
    let mut amount = amount.normalize();
    if amount.scale() < 2 {
        amount.rescale(2);
    }
    amount.to_string()
}

/// A quantity or percentage as its shortest text: `18.00` -> `"18"`,
/// `1.50` -> `"1.5"`.
pub fn plain_text(value: Decimal) -> String {
    value.normalize().to_string()
}

/// A JSON value for an error message, cut short.
fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_strings_and_numbers_exactly() {
        assert_eq!(parse(&json!("199.00"), "x").unwrap().to_string(), "199.00");
        assert_eq!(parse(&json!(4.5), "x").unwrap().to_string(), "4.5");
        assert_eq!(parse_or_zero(&json!(""), "x").unwrap(), Decimal::ZERO);
        assert!(parse(&json!("1e3"), "total").is_err());
        assert!(parse_amount(&json!("-1.00"), "total").is_err());
    }

    #[test]
    fn writes_money_and_plain_numbers() {
        assert_eq!(money_text(Decimal::from(3)), "3.00");
        assert_eq!(money_text(Decimal::new(66667, 4)), "6.6667");
        assert_eq!(money_text(Decimal::new(1950, 1)), "195.00");
        assert_eq!(plain_text(Decimal::new(1800, 2)), "18");
        assert_eq!(plain_text(Decimal::new(15, 1)), "1.5");
    }
}
