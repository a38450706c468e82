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
use poshub_connectors::order::OrderDraft;
use poshub_connectors::types::{
    CallContext, CanonicalOrder, Document, ErrorKind, LineKeys, ReturnLine,
};
use poshub_connectors::{verify_signature, CallError, Called, Limits, Plugin};
use poshub_db::{Actor, LineRef, OrderScope, PlaceOrder, PlacedId, RefundApplied};
use poshub_model::codes::Code;
use poshub_model::decimal::Quantity;
use poshub_model::lifecycle::{LineQuantity, StorefrontRefund};
use poshub_model::order::{OrderRequest, OrderStatus};
use poshub_model::store::{NewConnectorEvent, StoreContext};
use poshub_model::DomainError;
use serde::Serialize;

use crate::error::Problem;
use crate::AppState;

/// What happened to one document of a webhook.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentResult {
    /// `order`, `cancellation`, `refund`, `stock-level` or `price`.
    pub document: String,
    /// `accepted`, `duplicate`, `cancelled`, `returned` or `ignored`.
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
    let ctx = match state.storage.store_context(&store).await {
        Ok(ctx) => ctx,
        Err(e) => return Problem::from(e).into_response(),
    };
    let mut event = NewConnectorEvent::new(ctx.principal.store_id, "webhook", topic.clone());
    let answer = handle(&state, &ctx, &topic, &headers, &body, &mut event).await;
    let response = match answer {
        Ok(results) => {
            event.order_id = results.iter().find_map(|r| r.order_id);
            if results.iter().all(|r| r.result == "duplicate") {
                event.outcome = "duplicate";
            } else if results.iter().all(|r| r.result == "ignored") {
                event.outcome = "ignored";
            }
            let details: Vec<&str> = results.iter().filter_map(|r| r.detail.as_deref()).collect();
            event.detail = (!details.is_empty()).then(|| details.join("; "));
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
    if !ctx.principal.store_enabled {
        return Err(Problem::store_disabled(&ctx.principal.store_code).into());
    }
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
            CallError::Plugin(p) if p.kind == ErrorKind::Unsupported => Refusal::new(
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
    if signature.is_empty() && is_setup_ping(body) {
        // WooCommerce checks a new webhook's URL with an unsigned
        // `webhook_id=N` and wants a 200; it carries nothing to act on.
        event.outcome = "ignored";
        return Ok(vec![result(
            "ping",
            "ignored",
            None,
            Some("unsigned set-up ping acknowledged; nothing applied".into()),
        )]);
    }
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

/// A platform's unsigned set-up ping: exactly `webhook_id=<digits>`.
fn is_setup_ping(body: &[u8]) -> bool {
    body.strip_prefix(b"webhook_id=")
        .is_some_and(|id| !id.is_empty() && id.len() <= 20 && id.iter().all(u8::is_ascii_digit))
}

/// Keeps the call's logs and time on the event and returns its result.
pub(crate) fn finish<T>(called: Called<T>, event: &mut NewConnectorEvent) -> Result<T, CallError> {
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
    crate::bulk_api::remember_hint(state, ctx.principal.store_id, &doc).await;
    match doc {
        Document::Order(order) => {
            let request = order_request(state, ctx.principal.store_id, order).await?;
            // The answer names the order: it is not read back.
            let placed = state
                .storage
                .place_order_id(&PlaceOrder {
                    principal: ctx.principal.clone(),
                    request,
                    default_country: state.default_country.clone(),
                    idempotency: None,
                })
                .await;
            match placed {
                Ok(PlacedId::Created(id)) => {
                    state.metrics.orders_created();
                    Ok(result(kind, "accepted", Some(id), None))
                }
                Ok(PlacedId::Replayed) => Ok(result(kind, "duplicate", None, None)),
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
        Document::Refund {
            online_reference_no,
            refund_id,
            lines,
            amount,
            reason,
            restock,
        } => {
            let doc = RefundDoc {
                online_reference_no,
                refund_id,
                lines,
                amount,
                reason,
                restock,
            };
            refund(state, ctx, doc).await
        }
        // The hub owns stock and prices: a storefront's own figures are
        // acknowledged, never applied (their SKU and ids are kept as mapping
        // suggestions for auto-match).
        Document::StockLevel(s) => Ok(result(
            kind,
            "ignored",
            None,
            Some(format!(
                "the hub owns stock: storefront level {} for {} ignored",
                s.available,
                describe_ids(
                    &s.reference_code,
                    s.external_id.as_deref(),
                    s.external_inventory_id.as_deref()
                )
            )),
        )),
        Document::Price(p) => Ok(result(
            kind,
            "ignored",
            None,
            Some(format!(
                "the hub owns prices: storefront price {} for {} ignored",
                p.price,
                describe_ids(&p.reference_code, p.external_id.as_deref(), None)
            )),
        )),
    }
}

/// Names a storefront record by whatever ids it carries.
fn describe_ids(
    reference_code: &str,
    external_id: Option<&str>,
    inventory_id: Option<&str>,
) -> String {
    let mut parts = Vec::new();
    if !reference_code.is_empty() {
        parts.push(format!("SKU {reference_code}"));
    }
    if let Some(id) = external_id {
        parts.push(format!("variant {id}"));
    }
    if let Some(id) = inventory_id {
        parts.push(format!("inventory item {id}"));
    }
    if parts.is_empty() {
        "an unnamed record".into()
    } else {
        parts.join(", ")
    }
}

/// A connector's order as the store API's request, refused as the store
/// API refuses the same body. Lines the connector could not name by
/// reference code are mapped by the hub: a SKU equal to a reference code,
/// else the store's mapping of the storefront's id. A line that maps to
/// nothing refuses the whole order (before any figure is looked at, so that
/// the merchant hears of the mapping first).
pub(crate) async fn order_request(
    state: &AppState,
    store_id: i64,
    order: CanonicalOrder,
) -> Result<OrderRequest, Problem> {
    let (open, refs): (Vec<usize>, Vec<LineRef>) = order
        .open_lines()
        .map(|(i, keys)| {
            let line = LineRef {
                sku: keys.sku.clone(),
                external_id: keys.external_id.clone(),
            };
            (i, line)
        })
        .unzip();
    let mut mapped = Vec::with_capacity(open.len());
    if !open.is_empty() {
        let found = state.storage.resolve_lines(store_id, &refs).await?;
        let mut unmapped = Vec::new();
        for (i, code) in open.into_iter().zip(found) {
            match code {
                Some(code) => mapped.push((i, code)),
                None => unmapped.push(unmapped_line(i, &order.lines[i].keys)),
            }
        }
        if !unmapped.is_empty() {
            return Err(DomainError::Invalid(unmapped).into());
        }
    }
    let mut draft = OrderDraft::try_from(order).map_err(invalid_body)?;
    for (i, code) in mapped {
        draft.map_line(i, &code).map_err(invalid_body)?;
    }
    draft.finish().map_err(invalid_body)
}

/// A connector's order whose text the model's types refuse: the store
/// API's answer to the same body (`invalid_body` naming the field, as
/// [`crate::extract::parse_json`] words it).
fn invalid_body(e: DomainError) -> Problem {
    match e {
        DomainError::Invalid(errors) if errors.len() == 1 => {
            let f = &errors[0];
            let detail = if f.field.is_empty() {
                f.message.clone()
            } else {
                format!("{}: {}", f.field, f.message)
            };
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", detail)
                .with_errors(errors)
        }
        other => other.into(),
    }
}

fn unmapped_line(i: usize, keys: &LineKeys) -> poshub_model::FieldError {
    let mut said = Vec::new();
    if let Some(t) = keys.title.as_deref().filter(|t| !t.is_empty()) {
        said.push(format!("`{t}`"));
    }
    match keys.sku.as_deref().filter(|s| !s.is_empty()) {
        Some(sku) => said.push(format!("SKU `{sku}` is no reference code")),
        None => said.push("no SKU".into()),
    }
    match keys.external_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => said.push(format!("storefront id `{id}` is not mapped for this store")),
        None => said.push("no storefront id".into()),
    }
    poshub_model::FieldError::new(
        format!("lines[{i}].reference_code"),
        "unmapped_line",
        format!("line {} maps to no variant: {}", i + 1, said.join(", ")),
    )
}

/// A storefront refund as the webhook carried it.
struct RefundDoc {
    online_reference_no: String,
    refund_id: String,
    lines: Vec<ReturnLine>,
    amount: Option<String>,
    reason: Option<String>,
    restock: bool,
}

/// A storefront refund through the hub's own calls: goods of a delivered
/// order come back as a return (restocked where they were sold from, or
/// written off, as the storefront says), lines of an order not yet shipped
/// are cancelled; the refund id makes a redelivery change nothing. A refund
/// of money only, or of an order already cancelled, is acknowledged.
async fn refund(
    state: &AppState,
    ctx: &StoreContext,
    doc: RefundDoc,
) -> Result<DocumentResult, Refusal> {
    let kind = "refund";
    let store_id = ctx.principal.store_id;
    let reference = &doc.online_reference_no;
    let id = state
        .storage
        .find_order_id(store_id, reference)
        .await
        .map_err(Problem::from)?
        .ok_or_else(|| Problem::not_found(format!("this store has no order `{reference}`")))?;
    let what = format!("refund {} of order {reference}", doc.refund_id);
    let asked = refund_lines(state, store_id, &doc.lines).await?;
    if asked.is_empty() {
        return Ok(result(
            kind,
            "ignored",
            Some(id),
            Some(format!(
                "{what} (amount {}) returns no goods: nothing to book in the hub",
                doc.amount.as_deref().unwrap_or("not given")
            )),
        ));
    }
    let scope = OrderScope {
        store_id: Some(store_id),
        location_ids: None,
    };
    let refund = StorefrontRefund {
        refund_id: doc.refund_id.clone(),
        lines: asked,
        reason: doc.reason,
        restock: doc.restock,
    };
    let applied = match state
        .storage
        .apply_refund(&scope, id, Actor::Store, &refund)
        .await
        .map_err(Problem::from)?
    {
        RefundApplied::Nothing(why) => {
            return Ok(result(
                kind,
                "ignored",
                Some(id),
                Some(format!("{what}: {why}")),
            ))
        }
        RefundApplied::Booked(applied) => *applied,
    };
    let booked = match &applied.credit_note {
        Some(cn) => format!(
            "credit note {} for {} (the storefront refunded {})",
            cn.credit_note_no,
            cn.amount,
            doc.amount.as_deref().unwrap_or("no amount")
        ),
        None => "no bill to credit".to_string(),
    };
    let (outcome, detail) = if applied.duplicate {
        ("duplicate", format!("{what} was applied before: {booked}"))
    } else if matches!(
        applied.order.status,
        OrderStatus::Returned | OrderStatus::PartiallyReturned
    ) {
        ("returned", format!("{what} booked as a return: {booked}"))
    } else {
        (
            "cancelled",
            format!("{what} cancels lines of the order: {booked}"),
        )
    };
    Ok(result(kind, outcome, Some(id), Some(detail)))
}

/// The refund's lines as order lines by reference code: the connector's
/// code when it is one, else the store's mapping of the storefront's id.
/// Lines of no quantity are left out; a line that maps to nothing refuses
/// the refund.
async fn refund_lines(
    state: &AppState,
    store_id: i64,
    lines: &[ReturnLine],
) -> Result<Vec<LineQuantity>, Refusal> {
    let refs: Vec<LineRef> = lines
        .iter()
        .map(|l| LineRef {
            sku: l.keys.reference_code.clone().or_else(|| l.keys.sku.clone()),
            external_id: l.keys.external_id.clone(),
        })
        .collect();
    let codes = state
        .storage
        .resolve_lines(store_id, &refs)
        .await
        .map_err(Problem::from)?;
    let mut asked = Vec::new();
    let mut problems = Vec::new();
    for (i, (line, code)) in lines.iter().zip(codes).enumerate() {
        let raw = line.quantity.trim();
        if raw
            .parse::<rust_decimal::Decimal>()
            .is_ok_and(|q| q.is_zero())
        {
            continue;
        }
        let quantity = match Quantity::parse(raw) {
            Ok(q) => q,
            Err(e) => {
                problems.push(poshub_model::FieldError::new(
                    format!("lines[{i}].quantity"),
                    "invalid_quantity",
                    e.to_string(),
                ));
                continue;
            }
        };
        match code.as_deref().map(Code::parse) {
            Some(Ok(code)) => asked.push(LineQuantity {
                line_no: None,
                reference_code: Some(code),
                quantity,
            }),
            _ => problems.push(unmapped_line(i, &line.keys)),
        }
    }
    if problems.is_empty() {
        Ok(asked)
    } else {
        Err(Problem::from(DomainError::Invalid(problems)).into())
    }
}
