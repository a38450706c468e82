//! Reading Shopify's JSON: members where `null` means absent, ids that are
//! JSON integers, and exact amounts in the shop's currency.
//!
//! Shopify writes money as strings (`"199.00"`) and most rates as JSON
//! numbers (`0.18`); both are read from their digits into a
//! [`Decimal`], never through arithmetic on floats. An amount that has a
//! `{key}_set` twin is read from `{key}_set.shop_money.amount` (the shop's
//! own currency) and falls back to `{key}` (the presentment currency, the
//! same for single-currency shops).

use std::str::FromStr;

use poshub_connector_sdk::{invalid_input, is_plain_decimal, Error};
use rust_decimal::Decimal;
use serde_json::Value;

/// A member of a JSON object; `null` counts as absent.
pub fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// A member that is a string with something in it, trimmed.
pub fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    get(v, key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The elements of an array member; none when absent or not an array.
pub fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    get(v, key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A Shopify id (a JSON integer, or digits in a string) as text.
pub fn id(v: &Value, key: &str) -> Option<String> {
    match get(v, key)? {
        Value::Number(n) => n
            .as_u64()
            .map(|u| u.to_string())
            .or_else(|| n.as_i64().map(|i| i.to_string())),
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        _ => None,
    }
}

/// A Shopify id that must be there, for error messages naming `what`.
pub fn required_id(v: &Value, key: &str, what: &str) -> Result<String, Error> {
    id(v, key).ok_or_else(|| invalid_input(format!("{what} has no `{key}`")))
}

/// An exact decimal from a JSON string or number (numbers are read from
/// their written digits, scientific notation included).
pub fn to_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            is_plain_decimal(s)
                .then(|| Decimal::from_str(s).ok())
                .flatten()
        }
        Value::Number(n) => {
            let s = n.to_string();
            Decimal::from_str(&s)
                .or_else(|_| Decimal::from_scientific(&s))
                .ok()
        }
        _ => None,
    }
}

/// An optional decimal member: absent or null is `None`; anything that is
/// not a number is an error naming `what` and the member.
pub fn decimal_at(v: &Value, key: &str, what: &str) -> Result<Option<Decimal>, Error> {
    match get(v, key) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(raw) => to_decimal(raw).map(Some).ok_or_else(|| {
            invalid_input(format!("{what}: {key} `{}` is not a number", shown(raw)))
        }),
    }
}

/// An amount in shop money: `{key}_set.shop_money.amount` when present,
/// else `{key}`.
pub fn shop_money(v: &Value, key: &str, what: &str) -> Result<Option<Decimal>, Error> {
    let set_key = format!("{key}_set");
    match get(v, &set_key) {
        Some(set) => match set_amount(set, &format!("{what}: `{set_key}`"))? {
            Some(amount) => Ok(Some(amount)),
            None => decimal_at(v, key, what),
        },
        None => decimal_at(v, key, what),
    }
}

/// An amount in shop money that must be there.
pub fn required_shop_money(v: &Value, key: &str, what: &str) -> Result<Decimal, Error> {
    shop_money(v, key, what)?.ok_or_else(|| invalid_input(format!("{what} has no `{key}`")))
}

/// `shop_money.amount` of a money set such as `total_duties_set`.
pub fn set_amount(set: &Value, what: &str) -> Result<Option<Decimal>, Error> {
    match get(set, "shop_money") {
        Some(money) => decimal_at(money, "amount", what),
        None => Ok(None),
    }
}

/// A value for an error message: strings bare, cut short.
pub fn shown(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

/// Money as the hub writes it: at least two decimal places (`7` -> `7.00`).
pub fn money_text(amount: Decimal) -> String {
    let mut amount = amount;
    if amount.scale() < 2 {
        amount.rescale(2);
    }
    amount.to_string()
}

/// A quantity or rate without trailing zeros (`18.00` -> `18`).
pub fn plain_text(value: Decimal) -> String {
    value.normalize().to_string()
}

/// `a + b`, refused instead of overflowing (`Decimal`'s `+` panics, which
/// traps the plugin).
pub fn add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal, Error> {
    a.checked_add(b).ok_or_else(|| too_large(what))
}

/// `a - b`, refused instead of overflowing.
pub fn sub(a: Decimal, b: Decimal, what: &str) -> Result<Decimal, Error> {
    a.checked_sub(b).ok_or_else(|| too_large(what))
}

/// `a * b`, refused instead of overflowing.
pub fn mul(a: Decimal, b: Decimal, what: &str) -> Result<Decimal, Error> {
    a.checked_mul(b).ok_or_else(|| too_large(what))
}

fn too_large(what: &str) -> Error {
    invalid_input(format!("{what}: the amounts are too large to add up"))
}
