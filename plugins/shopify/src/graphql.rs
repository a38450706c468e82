//! The GraphQL Admin API as the pushes use it: one `POST graphql.json` per
//! document, global ids, and what an answer says besides its data (the
//! cost and throttle status in `extensions.cost`, `THROTTLED` and other
//! top-level errors, a mutation's `userErrors`).
//!
//! Shopify's rate limit is a leaky bucket of cost points per app and store
//! (Standard plan 100 points/s, Advanced 200, Plus 1,000; the bucket's size
//! is read from each answer, never assumed): every answer reports it, and
//! the connector hands it to the host as the store's [`Budget`].
//! Sources: shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits and
//! `GRAPHQL-NOTES.md` next to this crate.

use poshub_connector_sdk::{
    default_outcome, graphql_request, retry, upstream, Budget, CallContext, ChangeOutcome, Error,
    HttpRequest, HttpResponse,
};
use serde_json::Value;

use crate::config::graphql_endpoint;

/// What one mutation field costs (Shopify's default for a mutation).
pub const MUTATION_COST: u32 = 10;

/// A GraphQL request: `operation` names the document's operation, which is
/// also how an answer is matched back to what was asked.
pub fn request(
    ctx: &CallContext,
    operation: &str,
    query: &str,
    variables: Value,
) -> Result<HttpRequest, Error> {
    Ok(graphql_request(
        graphql_endpoint(ctx)?,
        operation,
        query,
        variables,
        vec![],
    ))
}

/// The global id of a Shopify object: `gid://shopify/{kind}/{id}` from a
/// numeric id, or the id itself when it is already that kind's gid.
pub fn gid(kind: &str, raw: &str) -> Option<String> {
    let raw = raw.trim();
    let numeric = |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    if numeric(raw) {
        return Some(format!("gid://shopify/{kind}/{raw}"));
    }
    let id = raw.strip_prefix("gid://shopify/")?.strip_prefix(kind)?;
    let id = id.strip_prefix('/')?;
    numeric(id).then(|| raw.to_string())
}

/// An idempotency key for one mutation input: the host's key for the batch
/// and its attempt, and a digest of the input, so that the same key is
/// never sent with different parameters (Shopify refuses that with
/// `IDEMPOTENCY_KEY_PARAMETER_MISMATCH`) while a repeat of the same request
/// repeats its key.
pub fn idempotency_key(key: &str, input: &Value) -> String {
    // FNV-1a: a digest to tell inputs apart, not a secret.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in input.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{key}-{hash:016x}")
}

/// One entry of a mutation's `userErrors`.
#[derive(Debug, Clone, PartialEq)]
pub struct UserError {
    /// The error code (`CHANGE_FROM_QUANTITY_STALE` ...), when the type has one.
    pub code: Option<String>,
    /// The path to the input field, as strings (`["input", "quantities", "3", ...]`).
    pub field: Vec<String>,
    pub message: String,
}

impl UserError {
    /// The list index the error's path names right after `list`
    /// (`["input", "quantities", "3", ...]` -> 3 for `quantities`).
    pub fn index_in(&self, list: &str) -> Option<usize> {
        let at = self.field.iter().position(|f| f == list)?;
        self.field.get(at + 1)?.parse().ok()
    }

    /// `CODE: message`, or the message alone.
    pub fn shown(&self) -> String {
        match &self.code {
            Some(code) => format!("{code}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

/// The `userErrors` of a mutation's payload (`key` names the list:
/// `orderCancel` has `orderCancelUserErrors`).
pub fn user_errors(payload: &Value, key: &str) -> Vec<UserError> {
    payload
        .get(key)
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| UserError {
                    code: e.get("code").and_then(Value::as_str).map(str::to_string),
                    field: e
                        .get("field")
                        .and_then(Value::as_array)
                        .map(|path| {
                            path.iter()
                                .map(|p| match p {
                                    Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    message: e
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("(no message)")
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What an answer to a GraphQL request says.
#[derive(Debug)]
pub enum Answered {
    /// The document ran: its `data`.
    Data(Value),
    /// It did not run; every change it carried takes this outcome (a
    /// throttled answer: retry once the bucket has room; an HTTP error or
    /// a refused document: as the status or the error says).
    Not(ChangeOutcome),
}

/// An answer with the budget it reported.
pub struct Answer {
    pub answered: Answered,
    pub budget: Option<Budget>,
}

/// Reads an answer: HTTP status, top-level `errors` (`THROTTLED` waits for
/// the bucket to refill by the requested cost), `data`, and the throttle
/// status.
pub fn read(response: &HttpResponse) -> Answer {
    if !(200..300).contains(&response.status) {
        return Answer {
            answered: Answered::Not(default_outcome(response)),
            budget: None,
        };
    }
    let body: Value = match serde_json::from_slice(&response.body) {
        Ok(body) => body,
        Err(e) => {
            return Answer {
                answered: Answered::Not(ChangeOutcome::Failed(upstream(
                    format!("Shopify's answer is not JSON: {e}"),
                    true,
                ))),
                budget: None,
            }
        }
    };
    let cost = body.pointer("/extensions/cost");
    let budget = cost.and_then(|c| c.get("throttleStatus")).and_then(|t| {
        let number = |k: &str| t.get(k).and_then(Value::as_f64).filter(|n| *n >= 0.0);
        Some(Budget {
            available: number("currentlyAvailable")? as u32,
            maximum: number("maximumAvailable")? as u32,
            restore_per_second: number("restoreRate")?.max(1.0) as u32,
        })
    });
    let errors = body
        .get("errors")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty());
    let answered = match (errors, body.get("data").filter(|d| !d.is_null())) {
        (Some(errors), _) if errors.iter().any(|e| code(e) == Some("THROTTLED")) => {
            let requested = cost
                .and_then(|c| c.get("requestedQueryCost"))
                .and_then(Value::as_f64)
                .unwrap_or(f64::from(MUTATION_COST));
            let wait = match &budget {
                Some(b) => ((requested - f64::from(b.available)).max(0.0)
                    / f64::from(b.restore_per_second.max(1)))
                .ceil() as u32,
                None => 1,
            };
            Answered::Not(retry(
                wait.max(1),
                format!(
                    "Shopify throttled the request (cost {requested}, {} available): \
                     the bucket refills",
                    budget.as_ref().map_or(0, |b| b.available)
                ),
            ))
        }
        (Some(errors), data) if data.is_none() || errors.iter().any(|e| code(e).is_some()) => {
            let shown: Vec<String> = errors
                .iter()
                .map(|e| match code(e) {
                    Some(c) => format!("{c}: {}", message(e)),
                    None => message(e).to_string(),
                })
                .collect();
            let retryable = errors.iter().any(|e| {
                matches!(
                    code(e),
                    Some("INTERNAL_SERVER_ERROR" | "SERVICE_UNAVAILABLE")
                )
            });
            Answered::Not(ChangeOutcome::Failed(upstream(
                format!("Shopify refused the request: {}", shown.join("; ")),
                retryable,
            )))
        }
        (_, Some(data)) => Answered::Data(data.clone()),
        (_, None) => Answered::Not(ChangeOutcome::Failed(upstream(
            "Shopify answered without data or errors",
            true,
        ))),
    };
    Answer { answered, budget }
}

fn code(error: &Value) -> Option<&str> {
    error.pointer("/extensions/code").and_then(Value::as_str)
}

fn message(error: &Value) -> &str {
    error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: Value) -> Answer {
        read(&HttpResponse {
            status,
            headers: vec![],
            body: body.to_string().into_bytes(),
        })
    }

    #[test]
    fn gids_from_numbers_or_gids_of_the_kind() {
        assert_eq!(
            gid("InventoryItem", " 45338463404269 ").as_deref(),
            Some("gid://shopify/InventoryItem/45338463404269")
        );
        assert_eq!(
            gid("Location", "gid://shopify/Location/905684977").as_deref(),
            Some("gid://shopify/Location/905684977")
        );
        assert_eq!(gid("Location", "gid://shopify/Product/905684977"), None);
        assert_eq!(gid("Location", "BLR"), None);
        assert_eq!(gid("Location", ""), None);
    }

    #[test]
    fn keys_differ_by_input_and_repeat_for_the_same() {
        let a = idempotency_key("poshub-1", &json!({"q": 1}));
        assert_eq!(a, idempotency_key("poshub-1", &json!({"q": 1})));
        assert_ne!(a, idempotency_key("poshub-1", &json!({"q": 2})));
        assert!(a.starts_with("poshub-1-"));
    }

    #[test]
    fn data_and_the_budget_it_reports() {
        let read = answer(
            200,
            json!({"data": {"x": 1}, "extensions": {"cost": {"requestedQueryCost": 10,
                "actualQueryCost": 10, "throttleStatus": {"maximumAvailable": 2000.0,
                "currentlyAvailable": 1990, "restoreRate": 100.0}}}}),
        );
        assert!(matches!(read.answered, Answered::Data(ref d) if d["x"] == 1));
        let budget = read.budget.expect("a budget");
        assert_eq!(
            (budget.available, budget.maximum, budget.restore_per_second),
            (1990, 2000, 100)
        );
    }

    #[test]
    fn throttled_waits_for_the_requested_cost() {
        let read = answer(
            200,
            json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                   "extensions": {"cost": {"requestedQueryCost": 370, "actualQueryCost": null,
                   "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 66,
                   "restoreRate": 100.0}}}}),
        );
        match read.answered {
            Answered::Not(ChangeOutcome::Retry(r)) => assert_eq!(r.after_seconds, 4),
            other => panic!("{other:?}"),
        }
        assert_eq!(read.budget.map(|b| b.available), Some(66));
    }

    #[test]
    fn refused_documents_and_http_errors() {
        let read = answer(
            200,
            json!({"errors": [{"message": "Field 'x' doesn't exist on type 'Mutation'",
                   "extensions": {"code": "undefinedField"}}]}),
        );
        match read.answered {
            Answered::Not(ChangeOutcome::Failed(e)) => {
                assert!(!e.retryable);
                assert!(e.message.contains("doesn't exist"), "{}", e.message);
            }
            other => panic!("{other:?}"),
        }
        let read = answer(
            401,
            json!({"errors": "[API] Invalid API key or access token"}),
        );
        assert!(matches!(
            read.answered,
            Answered::Not(ChangeOutcome::Failed(ref e)) if !e.retryable
        ));
        let read = answer(502, json!({}));
        assert!(matches!(
            read.answered,
            Answered::Not(ChangeOutcome::Failed(ref e)) if e.retryable
        ));
    }

    #[test]
    fn user_errors_name_their_index() {
        let payload = json!({"userErrors": [
            {"code": "CHANGE_FROM_QUANTITY_STALE", "field": ["input", "quantities", "3", "changeFromQuantity"],
             "message": "The changeFromQuantity value does not match persisted value."},
            {"code": null, "field": null, "message": "Something"}]});
        let errors = user_errors(&payload, "userErrors");
        assert_eq!(errors[0].index_in("quantities"), Some(3));
        assert_eq!(errors[1].index_in("quantities"), None);
        assert_eq!(errors[1].shown(), "Something");
    }
}
