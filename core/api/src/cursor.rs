//! Opaque pagination cursors: clients pass back what they were given.

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::Problem;

pub fn encode(last_id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{last_id}"))
}

pub fn decode(cursor: &str) -> Result<i64, Problem> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("after:")?.parse::<i64>().ok())
        .ok_or_else(|| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
                "this cursor was not issued by the hub",
            )
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        assert_eq!(super::decode(&super::encode(42)).unwrap(), 42);
        assert!(super::decode("garbage!").is_err());
    }
}
