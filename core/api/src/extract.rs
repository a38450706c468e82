//! Extractors that answer bad input with the same problem+json as every other
//! error: JSON bodies (with the path of the offending field), query strings,
//! numeric path ids, and the two kinds of credentials.

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use bytes::Bytes;
use poshub_model::store::Principal;
use poshub_model::FieldError;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::Problem;
use crate::AppState;

/// A JSON body. Malformed JSON is a 400; a body of the wrong shape is a 422
/// naming the field; a body that is not JSON is a 415; too large is a 413.
pub struct ApiJson<T>(pub T, pub Bytes);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(|v| ApiJson(v, bytes))
    }
}

/// The raw body, any content type; over the limit is a 413 problem+json
/// (axum's own rejection is plain text).
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        "the request body is too large",
                    )
                } else {
                    Problem::new(StatusCode::BAD_REQUEST, "unreadable_body", e.body_text())
                }
            })
    }
}

/// Parses JSON, reporting syntax errors as 400 and shape errors as 422 with
/// the field path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    // serde lets a struct be written as a JSON array of its fields in order;
    // an API body that is an object must be sent as one.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') && shape::<T>() == Shape::Object {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "the body must be a JSON object",
        )
        .with_errors(vec![FieldError::new(
            "",
            "invalid_value",
            "expected a JSON object, found an array",
        )]));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let field = if path == "." { String::new() } else { path };
            let msg = inner.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!(
                    "{}{msg}",
                    if field.is_empty() {
                        String::new()
                    } else {
                        format!("{field}: ")
                    }
                ),
            )
            .with_errors(vec![FieldError::new(field, "invalid_value", msg)])
        } else {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {inner}"),
            )
        }
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Shape {
    Object,
    Other,
}

/// What JSON shape `T` asks its deserializer for at the top level, found by
/// letting it ask a deserializer that only records the question.
fn shape<T: DeserializeOwned>() -> Shape {
    let mut probe = ShapeProbe(Shape::Other);
    let _ = T::deserialize(&mut probe);
    probe.0
}

struct ShapeProbe(Shape);

#[derive(Debug)]
struct Probed;

impl std::fmt::Display for Probed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("probed")
    }
}

impl std::error::Error for Probed {}

impl serde::de::Error for Probed {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        Probed
    }
}

impl<'de> serde::Deserializer<'de> for &mut ShapeProbe {
    type Error = Probed;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        Err(Probed)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Probed> {
        self.0 = Shape::Object;
        Err(Probed)
    }

    fn deserialize_map<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        self.0 = Shape::Object;
        Err(Probed)
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Probed> {
        visitor.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct enum identifier ignored_any
    }
}

/// A query string; a bad one is a 400 naming the problem.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|q| ApiQuery(q.0))
            .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))
    }
}

/// Parses a numeric id from the path; anything else names no order (404).
pub fn order_id(raw: &str) -> Result<i64, Problem> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Problem::not_found(format!("sales order {raw} not found")))
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// SHA-256 of a key, hex: what the hub stores instead of the key.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A store API caller: the API user behind a valid Bearer key.
pub struct StoreKey(pub Principal);

impl FromRequestParts<AppState> for StoreKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let key = bearer(parts).ok_or_else(|| {
            Problem::unauthorized("send the store's API key as `Authorization: Bearer <key>`")
        })?;
        match state.storage.authenticate(&hash_key(key)).await? {
            Some(p) if !p.store_enabled => Err(Problem::store_disabled(&p.store_code)),
            Some(p) => Ok(StoreKey(p)),
            None => Err(Problem::unauthorized("this API key is not valid")),
        }
    }
}

/// The merchant, holding the admin token.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let token = bearer(parts).ok_or_else(|| {
            Problem::unauthorized("send the admin token as `Authorization: Bearer <token>`")
        })?;
        if constant_time_eq(
            hash_key(token).as_bytes(),
            state.admin_token_hash.as_bytes(),
        ) {
            Ok(Admin)
        } else {
            Err(Problem::unauthorized("this is not the admin token"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Rename {
        name: String,
    }

    #[test]
    fn an_object_body_sent_as_an_array_is_refused() {
        let err = parse_json::<Rename>(br#"  ["X"]"#).unwrap_err();
        assert_eq!(err.0.status, 422);
        assert_eq!(err.0.code, "invalid_body");
        // serde alone would have taken the array as the struct's fields.
        let lax: Rename = serde_json::from_slice(br#"["X"]"#).unwrap();
        assert_eq!(lax.name, "X");
    }

    #[test]
    fn objects_and_array_bodies_still_parse() {
        let one = parse_json::<Rename>(br#"{"name": "X"}"#).unwrap();
        assert_eq!(one.name, "X");
        let many = parse_json::<Vec<Rename>>(br#"[{"name": "X"}, {"name": "Y"}]"#).unwrap();
        assert_eq!(many.len(), 2);
        let map = parse_json::<std::collections::BTreeMap<String, String>>(br#"["a"]"#);
        assert!(map.is_err());
        assert_eq!(shape::<Option<Rename>>(), Shape::Object);
        assert_eq!(shape::<String>(), Shape::Other);
    }
}
