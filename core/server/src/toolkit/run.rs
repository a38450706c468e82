//! `poshub plugins run`: one export called as the hub calls it, and what
//! came of it: the answer, what the call used of its budget, or its fault
//! as the hub records it in the store's event log.

use std::sync::Arc;

use poshub_connectors::egress::Destination;
use poshub_connectors::types::{ApiRequest, HttpRequest, HttpResponse, PendingChange};
use poshub_connectors::{CallError, Called, Limits, Plugin};
use poshub_ingest::dialect::{dialect_failed, dialect_refusal};
use poshub_ingest::webhook::{auth_refusal, translation_refusal};
use poshub_ingest::Refusal;
use poshub_model::store::{Direction, NewConnectorEvent};
use serde::Serialize;
use serde_json::{json, Value};

use super::StoreSetup;

/// What `run` prints.
#[derive(Debug, Serialize)]
pub struct RunReport {
    pub plugin: PluginView,
    /// The export the report is of: the last one called.
    pub call: &'static str,
    pub ok: bool,
    /// The answer, when the call succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The fault, as the hub records it, when the call failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// What the plugin logged, every call of the run, in order.
    pub logs: Vec<LogView>,
    pub budget: Budget,
}

/// Which build answered.
#[derive(Debug, Serialize)]
pub struct PluginView {
    pub id: String,
    pub version: String,
    pub world: &'static str,
    pub sha256: String,
}

/// A failed call as the hub records it: for a webhook, the event's
/// outcome, the answer's status and the event's detail; for a push, the
/// sync log's reason, and `retry` or `failed` for its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    pub code: String,
    pub detail: String,
}

/// One line the plugin logged.
#[derive(Debug, Serialize)]
pub struct LogView {
    pub level: &'static str,
    pub message: String,
}

/// What the reported call used, beside the store's limits it ran under.
#[derive(Debug, Serialize)]
pub struct Budget {
    /// Wall time of the call: sandbox, instance and export.
    pub wall_us: u64,
    /// Of which setting up the sandbox and instantiating.
    pub instantiate_us: u64,
    pub deadline_ms: u64,
    pub memory_peak_bytes: usize,
    pub memory_limit_bytes: usize,
    pub output_bytes: usize,
    pub output_limit_bytes: usize,
    pub log_lines: usize,
    pub log_bytes: usize,
    pub log_limit_bytes: usize,
    /// Log messages dropped over the log limit.
    pub logs_dropped: usize,
    /// Bytes written to stdout and stderr.
    pub stdio_bytes: usize,
}

impl Budget {
    fn of<T>(called: &Called<T>, limits: &Limits) -> Budget {
        let micros = |d: std::time::Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        Budget {
            wall_us: micros(called.elapsed),
            instantiate_us: micros(called.usage.instantiate),
            deadline_ms: limits.deadline_ms,
            memory_peak_bytes: called.usage.memory_peak_bytes,
            memory_limit_bytes: limits.memory_bytes,
            output_bytes: called.usage.output_bytes,
            output_limit_bytes: limits.max_output_bytes,
            log_lines: called.usage.log_lines,
            log_bytes: called.usage.log_bytes,
            log_limit_bytes: limits.max_log_bytes,
            logs_dropped: called.logs_dropped,
            stdio_bytes: called.usage.stdio_bytes,
        }
    }
}

impl PluginView {
    pub(crate) fn of(plugin: &Plugin) -> PluginView {
        PluginView {
            id: plugin.info.id.clone(),
            version: plugin.info.version.clone(),
            world: plugin.world(),
            sha256: plugin.sha256.clone(),
        }
    }
}

impl RunReport {
    fn of<T>(plugin: &Plugin, call: &'static str, called: &Called<T>, limits: &Limits) -> Self {
        RunReport {
            plugin: PluginView::of(plugin),
            call,
            ok: called.result.is_ok(),
            result: None,
            fault: None,
            logs: logs(called),
            budget: Budget::of(called, limits),
        }
    }
}

fn logs<T>(called: &Called<T>) -> Vec<LogView> {
    called
        .logs
        .iter()
        .map(|l| LogView {
            level: l.level,
            message: l.message.clone(),
        })
        .collect()
}

/// How the hub records a webhook it refused.
fn recorded(topic: &str, refusal: &Refusal) -> Fault {
    let mut event = NewConnectorEvent::new(0, Direction::Webhook, topic.to_string());
    poshub_ingest::refused(&mut event, refusal);
    Fault::of(event, refusal)
}

impl Fault {
    /// The fault an event recorded for `refusal` shows.
    fn of(event: NewConnectorEvent, refusal: &Refusal) -> Fault {
        Fault {
            outcome: event.outcome.as_str().to_string(),
            http_status: Some(u16::try_from(event.http_status).unwrap_or(500)),
            code: refusal.code().to_string(),
            detail: event.detail.unwrap_or_default(),
        }
    }
}

/// How the sync log records a push call that failed.
fn logged(error: &CallError, (reason, retryable): (String, bool)) -> Fault {
    Fault {
        outcome: if retryable { "retry" } else { "failed" }.to_string(),
        http_status: None,
        code: error.code().to_string(),
        detail: reason,
    }
}

/// The batch key the sync worker would give (one per batch and attempt).
const RUN_KEY: &str = "poshub-run";

/// A batch of changes through `plan-push` as the sync worker plans it:
/// each planned request with the changes it carries and the verdict the
/// worker's egress check gives it (a request it would not send says why),
/// the changes refused; or the fault, as the sync log records it.
pub async fn run_push(
    plugin: &Arc<Plugin>,
    store: &StoreSetup,
    key: Option<String>,
    changes: Vec<PendingChange>,
) -> RunReport {
    let limits = store.limits();
    let key = key.unwrap_or_else(|| RUN_KEY.to_string());
    let planned = plugin
        .plan_push(limits, store.context(), key.clone(), changes)
        .await;
    let mut report = RunReport::of(plugin, "plan-push", &planned, &limits);
    match planned.result {
        Ok(plan) => {
            let destination = Destination::for_store(&plugin.info.hosts, &store.config);
            let requests: Vec<Value> = plan
                .requests
                .iter()
                .map(|p| {
                    let egress = match &destination {
                        Ok(d) => match d.check(&p.request) {
                            Ok(()) => "ok".to_string(),
                            Err(why) => format!("refused to send: {why}"),
                        },
                        Err(e) => e.to_string(),
                    };
                    json!({"request": p.request, "changes": p.changes, "cost": p.cost, "egress": egress})
                })
                .collect();
            let refused: Vec<Value> = plan
                .refused
                .iter()
                .map(|(change, e)| json!({"change": change, "error": e}))
                .collect();
            report.result = Some(json!({"key": key, "requests": requests, "refused": refused}));
        }
        Err(e) => report.fault = Some(logged(&e, crate::sync::planning_failed(&e))),
    }
    report
}

/// A storefront's response to a planned request through
/// `interpret-response`: an outcome per change the request carried
/// (`changes`, in its order), follow-up requests, drift and the budget the
/// storefront reported; or the fault, as the sync log records it.
pub async fn run_response(
    plugin: &Arc<Plugin>,
    store: &StoreSetup,
    key: Option<String>,
    changes: Vec<PendingChange>,
    request: HttpRequest,
    response: HttpResponse,
) -> RunReport {
    let limits = store.limits();
    let key = key.unwrap_or_else(|| RUN_KEY.to_string());
    let read = plugin
        .interpret_response(limits, store.context(), key, changes, request, response)
        .await;
    let mut report = RunReport::of(plugin, "interpret-response", &read, &limits);
    match read.result {
        Ok(reading) => report.result = Some(json!(reading)),
        Err(e) => report.fault = Some(logged(&e, crate::sync::reading_failed(&e))),
    }
    report
}

/// A webhook body through the plugin as the hub takes it once its
/// signature checked out: `webhook-auth` for the topic, then
/// `translate-webhook` under the store's limits and call context. The
/// report is of the translation (of `webhook-auth` when that failed); its
/// result holds the topic's auth and the canonical documents.
pub async fn run_webhook(
    plugin: &Arc<Plugin>,
    store: &StoreSetup,
    topic: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> RunReport {
    let limits = store.limits();
    let called = plugin.webhook_auth(limits, topic.to_string()).await;
    let mut auth_report = RunReport::of(plugin, "webhook-auth", &called, &limits);
    let auth = match called.result {
        Ok(auth) => auth,
        Err(e) => {
            auth_report.fault = Some(recorded(topic, &auth_refusal(plugin, e)));
            return auth_report;
        }
    };
    let translated = plugin
        .translate_webhook(limits, store.context(), topic.to_string(), headers, body)
        .await;
    let mut report = RunReport::of(plugin, "translate-webhook", &translated, &limits);
    report.logs.splice(0..0, auth_report.logs);
    match translated.result {
        Ok(documents) => report.result = Some(json!({"auth": auth, "documents": documents})),
        Err(e) => report.fault = Some(recorded(topic, &translation_refusal(plugin, e))),
    }
    report
}

/// How the hub records a dialect call whose connector call failed.
fn dialect_fault(plugin: &Plugin, error: CallError) -> Fault {
    let refusal = dialect_refusal(plugin, error);
    let mut event = NewConnectorEvent::new(0, Direction::Api, String::new());
    dialect_failed(&mut event, &refusal);
    Fault::of(event, &refusal)
}

/// A request to the store's inbound API dialect (`/compat/{store}/PATH`)
/// through `plan-api`: the command the hub would run, or the answer the
/// connector gives directly; or the fault, as the hub records it.
pub async fn run_dialect_plan(
    plugin: &Arc<Plugin>,
    store: &StoreSetup,
    request: ApiRequest,
) -> RunReport {
    let limits = store.limits();
    let planned = plugin.plan_api(limits, store.context(), request).await;
    let mut report = RunReport::of(plugin, "plan-api", &planned, &limits);
    match planned.result {
        Ok(command) => report.result = Some(json!(command)),
        Err(e) => report.fault = Some(dialect_fault(plugin, e)),
    }
    report
}

/// The hub's canonical answer (`status` and its JSON `answer`) to a
/// dialect request through `render-api`: the response in the dialect; or
/// the fault, as the hub records it.
pub async fn run_dialect_render(
    plugin: &Arc<Plugin>,
    store: &StoreSetup,
    request: ApiRequest,
    status: u16,
    answer: String,
) -> RunReport {
    let limits = store.limits();
    let rendered = plugin
        .render_api(limits, store.context(), request, status, answer)
        .await;
    let mut report = RunReport::of(plugin, "render-api", &rendered, &limits);
    match rendered.result {
        Ok(response) => report.result = Some(json!(response)),
        Err(e) => report.fault = Some(dialect_fault(plugin, e)),
    }
    report
}
