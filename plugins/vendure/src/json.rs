//! Small readers of Vendure's JSON.

use poshub_connector_sdk::{invalid_input, Error};
use serde_json::Value;

/// A non-empty string at `key`; ids (which Vendure writes as strings, or
/// numbers under some ID strategies) are read as text too.
pub fn text<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// An id or code that must be there: a string, or a number written as text.
pub fn required_text<'a>(object: &'a Value, key: &str, what: &str) -> Result<&'a str, Error> {
    text(object, key).ok_or_else(|| invalid_input(format!("{what} has no {key}")))
}

/// An id as text, whether Vendure wrote it as a string or a number.
pub fn id(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The array at `key`, or nothing.
pub fn list<'a>(object: &'a Value, key: &str) -> &'a [Value] {
    object
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}
