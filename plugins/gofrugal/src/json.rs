//! A tiny JSON writer for dialect responses.
//!
//! The vendor API writes money and quantities as JSON numbers, and a
//! storefront written against it must see them exactly as the hub holds
//! them: `199.00` stays `199.00` (not `199.0`, not a float artefact). The
//! hub's decimals are strings, and serde_json (without the
//! `arbitrary_precision` feature, which would leak into every plugin built
//! alongside this one) cannot write a number from its digits. So responses
//! are built as [`Json`] trees whose numbers carry their exact text, and
//! written here. Object keys keep the order they are given in.

use poshub_connector_sdk::{is_plain_decimal, ApiResponse, Header};

/// A JSON value whose numbers are exact decimal text.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number written exactly as this text (checked by [`Json::number`]).
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Members in the order they are written.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// A number from exact decimal text such as `199.00` or `-2`; None when
    /// the text is not a JSON number (`1e3`, `007`, `.5`, `abc`).
    pub fn number(text: &str) -> Option<Json> {
        let text = text.trim();
        let digits = text.strip_prefix('-').unwrap_or(text);
        let int = digits.split('.').next().unwrap_or_default();
        let leading_zero = int.len() > 1 && int.starts_with('0');
        (is_plain_decimal(text) && !leading_zero).then(|| Json::Number(text.to_string()))
    }

    /// An integer.
    pub fn int(n: i64) -> Json {
        Json::Number(n.to_string())
    }

    /// A string.
    pub fn str(s: impl Into<String>) -> Json {
        Json::String(s.into())
    }

    /// A string, or null when absent.
    pub fn opt_str(s: Option<impl Into<String>>) -> Json {
        s.map_or(Json::Null, |s| Json::String(s.into()))
    }

    /// An object from `(key, value)` members.
    pub fn object<K: Into<String>>(members: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A JSON value parsed by serde_json, copied as is (its numbers are
    /// written as serde_json writes them: use this for text-only values).
    pub fn from_value(value: &serde_json::Value) -> Json {
        match value {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => Json::Number(n.to_string()),
            serde_json::Value::String(s) => Json::String(s.clone()),
            serde_json::Value::Array(a) => Json::Array(a.iter().map(Json::from_value).collect()),
            serde_json::Value::Object(o) => Json::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Json::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// The compact JSON text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(n),
            Json::String(s) => write_string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A dialect response: `body` as JSON with `content-type: application/json`,
/// plus any extra headers.
pub fn response(status: u16, body: &Json, extra: Vec<Header>) -> ApiResponse {
    let mut headers = vec![Header {
        name: "content-type".to_string(),
        value: "application/json".to_string(),
    }];
    headers.extend(extra);
    ApiResponse {
        status,
        headers,
        body: body.to_text().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_from_their_digits() {
        let body = Json::object([
            ("price", Json::number("199.00").unwrap()),
            ("qty", Json::number("2").unwrap()),
            ("rate", Json::number("-0.125").unwrap()),
        ]);
        assert_eq!(body.to_text(), r#"{"price":199.00,"qty":2,"rate":-0.125}"#);
    }

    #[test]
    fn only_json_numbers_are_numbers() {
        for bad in ["1e3", "007", ".5", "5.", "abc", "", "--1", "0x10"] {
            assert_eq!(Json::number(bad), None, "{bad}");
        }
        assert!(Json::number("0.50").is_some());
        assert!(Json::number("0").is_some());
    }

    #[test]
    fn strings_are_escaped() {
        let s = Json::str("a\"b\\c\nd\u{1}é");
        assert_eq!(s.to_text(), "\"a\\\"b\\\\c\\nd\\u0001é\"");
        let back: String = serde_json::from_str(&s.to_text()).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é");
    }
}
