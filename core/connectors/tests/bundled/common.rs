//! Shared by the connector fixture tests: load a bundled connector, read a
//! fixture from `fixtures/`, call the connector as the hub does,
//! and check a translated order against the hub's own order rules.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use poshub_connectors::types::{
    ApiCommand, ApiRequest, ApiResponse, CallContext, CanonicalOrder, Change, ChangeOutcome,
    Document, HttpRequest, HttpResponse, LineKeys, PendingChange, PlannedRequest, PluginError,
    PushPlan, Reading,
};
use poshub_connectors::{verify_signature, Host, Limits, Plugin, Source};
use poshub_model::codes::PaymentType;
use poshub_model::order::{CatalogEntry, OrderRequest, OrderRules, ValidOrder};
use poshub_model::phone::CountryCode;
use poshub_model::DomainError;
use serde_json::Value;

/// A bundled connector, loaded once per test binary.
pub fn plugin(id: &str) -> Arc<Plugin> {
    static HOST: OnceLock<Host> = OnceLock::new();
    let host = HOST.get_or_init(|| Host::new(None).expect("engine"));
    let file = format!("{id}.wasm");
    let (_, wasm) = poshub_connectors::bundled::BUNDLED
        .iter()
        .find(|(name, _)| *name == file)
        .unwrap_or_else(|| panic!("{file} is not bundled"));
    Arc::new(
        host.load(wasm, Source::Bundled(file.clone()))
            .expect("bundled connector loads"),
    )
}

/// The bytes of `fixtures/PATH` (the shared fixtures, copied verbatim), exactly as stored.
pub fn fixture(path: &str) -> Vec<u8> {
    let dir = std::env::var("POSHUB_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures"));
    let file = dir.join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()))
}

/// A fixture as JSON, for computing expected values from the payload itself.
pub fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).expect("fixture is JSON")
}

/// The call context of a store with this (non-secret) config.
pub fn ctx(config: Value) -> CallContext {
    CallContext::for_store("WEB", "2026-11-27T10:00:00+00:00".into(), &config)
}

/// Translates a webhook body as the hub does after verifying it; panics on
/// any error with the connector's message.
pub fn translate(plugin: &Plugin, ctx: &CallContext, topic: &str, body: &[u8]) -> Vec<Document> {
    let called = plugin.translate_webhook_sync(&Limits::default(), ctx, topic, &[], body);
    let logs = called.log_text();
    match called.result {
        Ok(docs) => docs,
        Err(e) => panic!("{topic}: {e}\nlogs: {logs}"),
    }
}

/// Like [`translate`], but returns the connector's error message.
pub fn translate_err(plugin: &Plugin, ctx: &CallContext, topic: &str, body: &[u8]) -> String {
    let called = plugin.translate_webhook_sync(&Limits::default(), ctx, topic, &[], body);
    match called.result {
        Ok(docs) => panic!("{topic}: expected an error, got {docs:?}"),
        Err(e) => e.to_string(),
    }
}

/// Whether the topic's declared signature scheme accepts this signature.
pub async fn verifies(
    plugin: &Arc<Plugin>,
    topic: &str,
    secret: &str,
    signature: &str,
    body: &[u8],
) -> bool {
    let auth = plugin
        .webhook_auth(Limits::default(), topic.to_string())
        .await
        .result
        .expect("topic is signed");
    verify_signature(&auth, secret, signature, body)
}

/// The orders among translated documents.
pub fn orders(docs: &[Document]) -> Vec<&CanonicalOrder> {
    docs.iter()
        .filter_map(|d| match d {
            Document::Order(o) => Some(o),
            _ => None,
        })
        .collect()
}

/// Each line's keys, in order.
pub fn line_keys(order: &CanonicalOrder) -> Vec<LineKeys> {
    order.lines.iter().map(|l| l.keys.clone()).collect()
}

/// Runs a translated order through the hub's own order rules, as if every
/// line's reference code (or SKU, or external id) were in the catalogue
/// with `tax_rate`, for a store allowing `payment_types`, selling in the
/// order's currency and taking test orders.
pub fn validate(
    order: &CanonicalOrder,
    prices_include_tax: bool,
    payment_types: &[&str],
) -> Result<ValidOrder, DomainError> {
    let mut body = order.to_json();
    for (line, keys) in body["lines"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(line_keys(order))
    {
        if line["reference_code"].is_null() {
            let code = keys
                .sku
                .clone()
                .filter(|s| !s.is_empty())
                .or(keys.external_id.clone())
                .map(|s| s.replace(|c: char| !c.is_ascii_alphanumeric(), "-"))
                .expect("a line has some key");
            line["reference_code"] = code.into();
        }
    }
    let request: OrderRequest = serde_json::from_value(body).expect("the store API parses it");
    let catalog: Vec<_> = (0..request.lines.len())
        .map(|i| {
            Some(CatalogEntry {
                variant_id: i as i64 + 1,
                item_code: format!("ITEM{i}"),
                tax_rate: poshub_model::decimal::Rate::parse("0").unwrap(),
            })
        })
        .collect();
    let payment_types: Vec<PaymentType> = payment_types
        .iter()
        .map(|p| PaymentType::parse(p).unwrap())
        .collect();
    request.validate(
        &catalog,
        &OrderRules {
            payment_types: &payment_types,
            prices_include_tax,
            default_country: &CountryCode::parse("91").unwrap(),
            currency: request
                .currency
                .unwrap_or(poshub_model::currency::Currency::DEFAULT),
            accept_test_orders: true,
        },
    )
}

/// A lone change as a batch of one, never confirmed before.
pub fn one(change: Change) -> Vec<PendingChange> {
    vec![PendingChange {
        id: 1,
        attempts: 0,
        confirmed: None,
        change,
    }]
}

/// The requests a connector plans for a lone change.
pub async fn plan(plugin: &Arc<Plugin>, ctx: &CallContext, change: Change) -> Vec<HttpRequest> {
    let plan = plan_batch(plugin, ctx, &one(change)).await;
    assert_eq!(plan.refused, vec![], "the change was refused");
    plan.requests.into_iter().map(|p| p.request).collect()
}

/// Why a connector refuses a lone change (its plan must refuse it).
pub async fn plan_refusal(plugin: &Arc<Plugin>, ctx: &CallContext, change: Change) -> PluginError {
    let plan = plan_batch(plugin, ctx, &one(change)).await;
    assert_eq!(plan.requests, vec![], "a refused change sends nothing");
    let [(0, error)] = <[(u32, PluginError); 1]>::try_from(plan.refused)
        .unwrap_or_else(|r| panic!("expected one refusal, got {r:?}"))
    else {
        panic!("the refusal names another change");
    };
    error
}

/// What became of a lone change, as a connector read the answer to it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    RetryAfter(u32),
    FollowUp(Vec<HttpRequest>),
    Failed(PluginError),
}

impl From<Reading> for Outcome {
    fn from(reading: Reading) -> Outcome {
        let [outcome] =
            <[ChangeOutcome; 1]>::try_from(reading.outcomes).expect("one outcome for one change");
        match outcome {
            ChangeOutcome::Done => Outcome::Done,
            ChangeOutcome::Retry { after_seconds, .. } => Outcome::RetryAfter(after_seconds),
            ChangeOutcome::Failed(e) => Outcome::Failed(e),
            ChangeOutcome::FollowUp => {
                Outcome::FollowUp(reading.follow_ups.into_iter().map(|p| p.request).collect())
            }
        }
    }
}

/// What a connector makes of a storefront's response to a lone change.
pub async fn interpret(
    plugin: &Arc<Plugin>,
    ctx: &CallContext,
    change: Change,
    request: HttpRequest,
    status: u16,
    body: &str,
) -> Outcome {
    let response = HttpResponse {
        status,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    };
    interpret_response(plugin, ctx, change, request, response).await
}

/// [`interpret`] with the whole response.
pub async fn interpret_response(
    plugin: &Arc<Plugin>,
    ctx: &CallContext,
    change: Change,
    request: HttpRequest,
    response: HttpResponse,
) -> Outcome {
    let called = plugin
        .interpret_response(
            Limits::default(),
            ctx.clone(),
            "test-key".into(),
            one(change),
            request,
            response,
        )
        .await;
    called
        .result
        .unwrap_or_else(|e| panic!("interpret_response: {e}"))
        .into()
}

/// A planned request's body as JSON.
pub fn body_json(request: &HttpRequest) -> Value {
    serde_json::from_slice(request.body.as_deref().unwrap_or(b"null")).expect("JSON body")
}

/// A dialect request.
pub fn api_request(method: &str, path: &str, query: &str, body: &str) -> ApiRequest {
    ApiRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    }
}

/// What a dialect request asks of the hub.
pub async fn plan_api(plugin: &Arc<Plugin>, ctx: &CallContext, request: ApiRequest) -> ApiCommand {
    let called = plugin
        .plan_api(Limits::default(), ctx.clone(), request)
        .await;
    called.result.unwrap_or_else(|e| panic!("plan_api: {e}"))
}

/// The hub's canonical answer rendered in the dialect.
pub async fn render_api(
    plugin: &Arc<Plugin>,
    ctx: &CallContext,
    request: ApiRequest,
    status: u16,
    body: &Value,
) -> ApiResponse {
    let called = plugin
        .render_api(
            Limits::default(),
            ctx.clone(),
            request,
            status,
            body.to_string(),
        )
        .await;
    called.result.unwrap_or_else(|e| panic!("render_api: {e}"))
}

/// Changes as a batch, never confirmed before, with ids 1, 2, ...
pub fn pending(changes: Vec<Change>) -> Vec<PendingChange> {
    changes
        .into_iter()
        .enumerate()
        .map(|(i, change)| PendingChange {
            id: i as u64 + 1,
            attempts: 0,
            confirmed: None,
            change,
        })
        .collect()
}

/// What a connector plans for a batch of changes (its requests and refusals).
pub async fn plan_batch(
    plugin: &Arc<Plugin>,
    ctx: &CallContext,
    batch: &[PendingChange],
) -> PushPlan {
    let called = plugin
        .plan_push(
            Limits::default(),
            ctx.clone(),
            "test-key".into(),
            batch.to_vec(),
        )
        .await;
    called.result.unwrap_or_else(|e| panic!("plan_push: {e}"))
}

/// The changes of `batch` a planned request carries, in its order.
pub fn carried(batch: &[PendingChange], planned: &PlannedRequest) -> Vec<PendingChange> {
    planned
        .changes
        .iter()
        .map(|&i| batch[i as usize].clone())
        .collect()
}

/// What a connector makes of a storefront's response to a planned request
/// of `batch`: one outcome per change it carried.
pub async fn interpret_planned(
    plugin: &Arc<Plugin>,
    ctx: &CallContext,
    batch: &[PendingChange],
    planned: &PlannedRequest,
    response: HttpResponse,
) -> Vec<Outcome> {
    let changes = carried(batch, planned);
    let n = changes.len();
    let called = plugin
        .interpret_response(
            Limits::default(),
            ctx.clone(),
            "test-key".into(),
            changes,
            planned.request.clone(),
            response,
        )
        .await;
    let reading = called
        .result
        .unwrap_or_else(|e| panic!("interpret_response: {e}"));
    assert_eq!(reading.outcomes.len(), n, "one outcome per change carried");
    let follow_ups: Vec<HttpRequest> = reading
        .follow_ups
        .iter()
        .map(|p| p.request.clone())
        .collect();
    reading
        .outcomes
        .into_iter()
        .map(|outcome| match outcome {
            ChangeOutcome::Done => Outcome::Done,
            ChangeOutcome::Retry { after_seconds, .. } => Outcome::RetryAfter(after_seconds),
            ChangeOutcome::Failed(e) => Outcome::Failed(e),
            ChangeOutcome::FollowUp => Outcome::FollowUp(follow_ups.clone()),
        })
        .collect()
}

/// A JSON response with this status.
pub fn json_response(status: u16, body: &Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}
