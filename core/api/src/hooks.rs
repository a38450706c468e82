//! Webhook ingress: `POST /hooks/{store}/{topic...}`. The store's connector
//! names how the topic is signed, the hub verifies with the secret it keeps,
//! the connector translates, and each canonical document takes the same path
//! as the store API (same validation, same reservation). Redelivery of an
//! order finds the order by the storefront's own number and creates nothing.
//! Every webhook is recorded against the store with its outcome and reason.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use poshub_connectors::types::{CallContext, CanonicalOrder, Document};
use poshub_connectors::{verify_signature, CallError, Called, Limits, Plugin};
use poshub_db::{Actor, OrderScope, PlaceOrder, Placed};
use poshub_model::order::OrderRequest;
use poshub_model::store::{NewConnectorEvent, StoreContext};
use poshub_model::DomainError;
use serde::Serialize;

use crate::error::Problem;
use crate::extract::parse_json;
use crate::AppState;

/// What happened to one document of a webhook.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentResult {
    /// `order`, `cancellation`, `refund`, `stock-level` or `price`.
    pub document: String,
    /// `accepted`, `duplicate`, `cancelled` or `ignored`.
    pub result: String,
    pub order_id: Option<i64>,
    pub detail: Option<String>,
}

/// The answer to an accepted webhook.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookAnswer {
    pub results: Vec<DocumentResult>,
}

/// A refusal, with the outcome recorded for it.
struct Refusal {
    problem: Problem,
    outcome: &'static str,
}

impl Refusal {
    fn new(outcome: &'static str, problem: Problem) -> Self {
        Refusal { problem, outcome }
    }
}

impl From<Problem> for Refusal {
    fn from(problem: Problem) -> Self {
        Refusal::new("rejected", problem)
    }
}

/// Receive a storefront webhook for a store.
#[utoipa::path(post, path = "/hooks/{store}/{topic}", tag = "webhooks",
    params(("store" = String, Path, description = "Store code"), ("topic" = String, Path, description = "Topic, e.g. orders/create")),
    request_body(content = String, description = "The storefront's payload, signed as its connector declares", content_type = "application/json"),
    responses((status = 200, body = WebhookAnswer), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem), (status = 502, body = Problem)))]
pub async fn receive(
    State(state): State<AppState>,
    Path((store, topic)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = match state.storage.store_context(&store).await {
        Ok(ctx) => ctx,
        Err(e) => return Problem::from(e).into_response(),
    };
    let mut event = NewConnectorEvent {
        store_id: ctx.principal.store_id,
        direction: "webhook",
        topic: topic.clone(),
        outcome: "accepted",
        http_status: 200,
        detail: None,
        order_id: None,
        logs: None,
        elapsed_us: 0,
    };
    let answer = handle(&state, &ctx, &topic, &headers, &body, &mut event).await;
    let response = match answer {
        Ok(results) => {
            event.order_id = results.iter().find_map(|r| r.order_id);
            if results.iter().all(|r| r.result == "duplicate") {
                event.outcome = "duplicate";
            } else if results.iter().all(|r| r.result == "ignored") {
                event.outcome = "ignored";
            }
            event.detail = results.iter().find_map(|r| r.detail.clone());
            (StatusCode::OK, Json(WebhookAnswer { results })).into_response()
        }
        Err(refusal) => {
            event.outcome = refusal.outcome;
            event.http_status = i32::from(refusal.problem.status);
            event.detail = Some(format!(
                "{}: {}",
                refusal.problem.code, refusal.problem.detail
            ));
            refusal.problem.into_response()
        }
    };
    if let Err(e) = state.storage.record_event(&event).await {
        tracing::error!(error = %e, store = %store, "could not record a webhook event");
    }
    response
}

async fn handle(
    state: &AppState,
    ctx: &StoreContext,
    topic: &str,
    headers: &HeaderMap,
    body: &[u8],
    event: &mut NewConnectorEvent,
) -> Result<Vec<DocumentResult>, Refusal> {
    let plugin = state.registry.get(&ctx.connector).ok_or_else(|| {
        Refusal::new(
            "failed",
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "connector_unavailable",
                format!("connector `{}` of this store is not loaded", ctx.connector),
            ),
        )
    })?;
    let limits = Limits::for_store(&ctx.config);
    let auth = finish(plugin.webhook_auth(limits, topic.to_string()).await, event).map_err(
        |e| match e {
            CallError::Plugin(p) if p.kind == "unsupported" => Refusal::new(
                "rejected",
                Problem::new(
                    StatusCode::NOT_FOUND,
                    "unknown_topic",
                    format!("{}: {}", plugin.info.id, p.message),
                ),
            ),
            other => connector_failure(&plugin, other),
        },
    )?;

    // The host verifies; a bad or missing signature writes nothing.
    let secret = ctx
        .config
        .get("webhook_secret")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if secret.is_empty() {
        return Err(Refusal::new(
            "unauthorized",
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "webhook_secret_missing",
                "this store has no webhook_secret configured; webhooks cannot be verified",
            ),
        ));
    }
    let signature = headers
        .get(auth.header.as_str())
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !verify_signature(&auth, secret, signature, body) {
        return Err(Refusal::new(
            "unauthorized",
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid_signature",
                format!(
                    "the {} header does not hold a valid signature of this body",
                    auth.header
                ),
            ),
        ));
    }

    let call_ctx = CallContext::for_store(
        &ctx.principal.store_code,
        poshub_model::now().to_rfc3339(),
        &ctx.config,
    );
    let header_list: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let translated = plugin
        .translate_webhook(
            limits,
            call_ctx,
            topic.to_string(),
            header_list,
            body.to_vec(),
        )
        .await;
    let documents = finish(translated, event).map_err(|e| match e {
        CallError::Plugin(p) => Refusal::new(
            "rejected",
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "connector_rejected",
                format!(
                    "{} refused the payload ({}): {}",
                    plugin.info.id, p.kind, p.message
                ),
            ),
        ),
        CallError::InputTooLarge { .. } => Refusal::new(
            "rejected",
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                e.to_string(),
            ),
        ),
        other => connector_failure(&plugin, other),
    })?;

    let mut results = Vec::with_capacity(documents.len());
    for doc in documents {
        results.push(apply(state, ctx, doc).await?);
    }
    Ok(results)
}

/// Keeps the call's logs and time on the event and returns its result.
fn finish<T>(called: Called<T>, event: &mut NewConnectorEvent) -> Result<T, CallError> {
    event.elapsed_us += i64::try_from(called.elapsed.as_micros()).unwrap_or(i64::MAX);
    let logs = called.log_text();
    if !logs.is_empty() {
        let mut all = event.logs.take().unwrap_or_default();
        all.push_str(&logs);
        event.logs = Some(all);
    }
    called.result
}

/// A connector that broke (trap, deadline, memory, flood): 502, so that the
/// storefront retries later; the error is recorded against the store.
fn connector_failure(plugin: &Arc<Plugin>, e: CallError) -> Refusal {
    tracing::warn!(connector = %plugin.info.id, error = %e, "connector call failed");
    Refusal::new(
        "failed",
        Problem::new(
            StatusCode::BAD_GATEWAY,
            e.code(),
            format!("connector {} {}: {e}", plugin.info.id, plugin.info.version),
        ),
    )
}

fn result(
    doc: &str,
    result: &str,
    order_id: Option<i64>,
    detail: Option<String>,
) -> DocumentResult {
    DocumentResult {
        document: doc.to_string(),
        result: result.to_string(),
        order_id,
        detail,
    }
}

/// Runs one canonical document through the hub.
async fn apply(
    state: &AppState,
    ctx: &StoreContext,
    doc: Document,
) -> Result<DocumentResult, Refusal> {
    let kind = doc.kind();
    match doc {
        Document::Order(order) => {
            let request = order_request(order)?;
            let placed = state
                .storage
                .place_order(&PlaceOrder {
                    principal: ctx.principal.clone(),
                    request,
                    default_country: state.default_country.clone(),
                    idempotency: None,
                })
                .await;
            match placed {
                Ok(Placed::Created(o)) => {
                    state.metrics.orders_created();
                    Ok(result(kind, "accepted", Some(o.id), None))
                }
                Ok(Placed::Replayed(_)) => Ok(result(kind, "duplicate", None, None)),
                Err(poshub_db::Error::Domain(DomainError::Conflict {
                    code: "duplicate_online_reference_no",
                    existing_id,
                    ..
                })) => Ok(result(
                    kind,
                    "duplicate",
                    existing_id,
                    Some("order already received".into()),
                )),
                Err(e) => Err(Problem::from(e).into()),
            }
        }
        Document::Cancellation {
            online_reference_no,
            reason,
        } => {
            let store_id = ctx.principal.store_id;
            let id = state
                .storage
                .find_order_id(store_id, &online_reference_no)
                .await
                .map_err(Problem::from)?
                .ok_or_else(|| {
                    Problem::not_found(format!("this store has no order `{online_reference_no}`"))
                })?;
            let scope = OrderScope {
                store_id: Some(store_id),
                location_ids: None,
            };
            state
                .storage
                .cancel_order(&scope, id, Actor::Store, reason.as_deref())
                .await
                .map_err(Problem::from)?;
            Ok(result(kind, "cancelled", Some(id), None))
        }
        // The hub owns stock and prices; returns arrive with the order lifecycle work.
        Document::Refund { .. } | Document::StockLevel(_) | Document::Price(_) => Ok(result(
            kind,
            "ignored",
            None,
            Some(format!("{kind} documents are not applied by the hub yet")),
        )),
    }
}

/// A canonical order as the store API's request, through the same parser.
fn order_request(order: CanonicalOrder) -> Result<OrderRequest, Refusal> {
    let unmapped: Vec<_> = order
        .lines
        .iter()
        .enumerate()
        .filter(|(_, k)| k.reference_code.as_deref().is_none_or(str::is_empty))
        .map(|(i, k)| {
            let name = k
                .title
                .clone()
                .or(k.sku.clone())
                .or(k.external_id.clone())
                .unwrap_or_else(|| "untitled".into());
            poshub_model::FieldError::new(
                format!("lines[{i}].reference_code"),
                "unmapped_line",
                format!("line {i} ({name}) maps to no reference code"),
            )
        })
        .collect();
    if !unmapped.is_empty() {
        return Err(Problem::from(DomainError::Invalid(unmapped)).into());
    }
    let bytes = serde_json::to_vec(&order.body).unwrap_or_default();
    Ok(parse_json::<OrderRequest>(&bytes)?)
}
