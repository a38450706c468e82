//! The Admin API as the pushes use it: one `POST {base_url}/admin-api` per
//! GraphQL document, and what an answer says (HTTP status, top-level
//! `errors` with their `extensions.code`, `data`, and the `ErrorResult`
//! union members a mutation answers with instead of throwing).

use poshub_connector_sdk::{
    config, config_error, default_outcome, graphql_request, upstream, CallContext, ChangeOutcome,
    Error, Header, HttpRequest, HttpResponse,
};
use serde_json::Value;

use crate::config::admin_api;

/// A GraphQL request: `operation` names the document's operation, which is
/// also how an answer is matched back to what was asked. The channel's
/// token, when configured, goes in `vendure-token`.
pub fn request(
    ctx: &CallContext,
    operation: &str,
    query: &str,
    variables: Value,
) -> Result<HttpRequest, Error> {
    let mut headers = vec![];
    if let Some(token) = config(ctx, "channel_token") {
        headers.push(Header {
            name: "vendure-token".to_string(),
            value: token.trim().to_string(),
        });
    }
    Ok(graphql_request(
        admin_api(ctx)?,
        operation,
        query,
        variables,
        headers,
    ))
}

/// What an answer says.
#[derive(Debug)]
pub enum Answered {
    /// The document ran: its `data`.
    Data(Value),
    /// It did not; every change it carried takes this outcome.
    Not(ChangeOutcome),
}

/// Reads an answer. Vendure answers most errors with HTTP 200 and a
/// top-level `errors` entry whose `extensions.code` says what happened:
/// `FORBIDDEN` (the API key or token is not accepted, or lacks a
/// permission) is the store's configuration; anything else with no data
/// is Vendure refusing the document (not retried); 5xx and network
/// failures are retried.
pub fn read(response: &HttpResponse) -> Answered {
    let body: Option<Value> = serde_json::from_slice(&response.body).ok();
    let errors = body
        .as_ref()
        .and_then(|b| b.get("errors"))
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty());
    if let Some(errors) = &errors {
        if errors.iter().any(|e| code(e) == Some("FORBIDDEN")) {
            return Answered::Not(ChangeOutcome::Failed(config_error(format!(
                "Vendure refused the store's credentials ({}): check api_key (or auth_token) and its role's permissions",
                messages(errors)
            ))));
        }
    }
    if !(200..300).contains(&response.status) {
        return Answered::Not(match (errors, response.status) {
            (Some(errors), 400..=499) => ChangeOutcome::Failed(upstream(
                format!(
                    "Vendure refused the request with {}: {}",
                    response.status,
                    messages(errors)
                ),
                false,
            )),
            _ => default_outcome(response),
        });
    }
    let errors = errors.cloned();
    let Some(body) = body else {
        return Answered::Not(ChangeOutcome::Failed(upstream(
            "Vendure's answer is not JSON (is base_url the Vendure server, and admin_api_path its Admin API?)",
            true,
        )));
    };
    match (errors, body.get("data").filter(|d| !d.is_null())) {
        (Some(errors), _) => Answered::Not(ChangeOutcome::Failed(upstream(
            format!("Vendure answered with errors: {}", messages(&errors)),
            errors
                .iter()
                .any(|e| code(e) == Some("INTERNAL_SERVER_ERROR")),
        ))),
        (None, Some(data)) => Answered::Data(data.clone()),
        (None, None) => Answered::Not(ChangeOutcome::Failed(upstream(
            "Vendure's answer has neither data nor errors",
            true,
        ))),
    }
}

/// A top-level error's `extensions.code`.
fn code(error: &Value) -> Option<&str> {
    error.pointer("/extensions/code").and_then(Value::as_str)
}

/// The errors' messages, with their codes, joined.
fn messages(errors: &[Value]) -> String {
    errors
        .iter()
        .map(|e| {
            let message = e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("(no message)");
            match code(e) {
                Some(code) => format!("{code}: {message}"),
                None => message.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A mutation's `ErrorResult` (a union member with `errorCode` and
/// `message`), as `CODE: message`.
pub fn error_result(payload: &Value) -> Option<String> {
    let code = payload.get("errorCode").and_then(Value::as_str)?;
    let message = payload
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("(no message)");
    Some(format!("{code}: {message}"))
}

/// The Vendure id of a mapped object, or a config error saying what is
/// missing.
pub fn mapped(raw: Option<&str>, what: &str) -> Result<String, Error> {
    raw.map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            config_error(format!(
                "{what} has no Vendure variant id: map it to the Vendure product variant (the store's mappings in the hub)"
            ))
        })
}
