//! Webhook ingress: `POST /hooks/{store}/{topic...}`. The handler hands the
//! raw request to [`poshub_ingest`] (verify, translate, apply each document
//! as the store API would, record the event) and answers each document's
//! result, or the refusal as problem+json.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use poshub_ingest::{Applied, DocumentKind, DocumentOutcome, Webhook};
use serde::Serialize;

use crate::error::Problem;
use crate::AppState;

/// What happened to one document of a webhook.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentResult {
    /// `order`, `cancellation`, `refund`, `stock-level`, `price` (or `ping`
    /// for a platform's unsigned set-up call).
    pub document: String,
    /// `accepted`, `duplicate`, `cancelled`, `returned` or `ignored`.
    pub result: String,
    pub order_id: Option<i64>,
    pub detail: Option<String>,
}

impl From<Applied> for DocumentResult {
    fn from(a: Applied) -> Self {
        DocumentResult {
            document: a.document.as_str().to_string(),
            result: a.outcome.as_str().to_string(),
            order_id: a.outcome.order_id(),
            detail: a.outcome.detail().map(str::to_string),
        }
    }
}

/// The answer to an accepted webhook.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookAnswer {
    pub results: Vec<DocumentResult>,
}

/// Receive a storefront webhook for a store.
#[utoipa::path(post, path = "/hooks/{store}/{topic}", tag = "webhooks",
    params(("store" = String, Path, description = "Store code"), ("topic" = String, Path, description = "Topic, e.g. orders/create")),
    request_body(content = String, description = "The storefront's payload, signed as its connector declares", content_type = "application/json"),
    responses((status = 200, body = WebhookAnswer), (status = 401, body = Problem),
        (status = 403, body = Problem, description = "The store is switched off"), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem),
        (status = 503, body = Problem, description = "The store's connector is not loaded")))]
pub async fn receive(
    State(state): State<AppState>,
    Path((store, topic)): Path<(String, String)>,
    headers: HeaderMap,
    crate::extract::RawBody(body): crate::extract::RawBody,
) -> Response {
    let headers = text_headers(&headers);
    let hook = Webhook {
        store: &store,
        topic: &topic,
        headers: &headers,
        body: &body,
    };
    match state.ingest().webhook(hook).await {
        Ok(applied) => {
            for a in &applied {
                if let (DocumentKind::Order, DocumentOutcome::Accepted { .. }) =
                    (a.document, &a.outcome)
                {
                    state.metrics.orders_created();
                }
            }
            let results = applied.into_iter().map(DocumentResult::from).collect();
            (StatusCode::OK, Json(WebhookAnswer { results })).into_response()
        }
        Err(refusal) => Problem::from(refusal).into_response(),
    }
}

/// A request's headers whose values are text, as (lower-case name, value).
pub(crate) fn text_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}
