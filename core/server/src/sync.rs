//! The sync worker inside `poshub serve`: claims due outbox rows under a
//! lease, asks each store's connector to plan the requests, sends them (only
//! to the host the store's config names and its connector declares, with
//! timeouts and no redirects), lets the connector read the answers, and
//! records the outcome: sent, retry later (exponential backoff with jitter,
//! `Retry-After` honoured) or dead after too many attempts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poshub_api::Metrics;
use poshub_connectors::egress::{authenticate, forwarded_headers, Destination};
use poshub_connectors::types::{
    CallContext, Change, HttpRequest, HttpResponse, Outcome, PriceChange, StatusChange,
    StorefrontStock,
};
use poshub_connectors::{CallError, Limits, Registry};
use poshub_db::{Outbox, OutboxItem, PushChange, PushOutcome, Storage, Stores};
use poshub_model::sync::{AfterFailure, RetryPolicy};
use rand::Rng;
use tokio::sync::Semaphore;

/// How the worker behaves.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Rows claimed per round.
    pub batch: u32,
    /// Deliveries in flight at once, over all stores.
    pub concurrency: usize,
    /// Deliveries in flight at once for one store.
    pub per_store_concurrency: usize,
    /// Requests per second to one store.
    pub per_store_rate: f64,
    /// How long a claim lasts; a killed process's rows are claimed again after it.
    pub lease: Duration,
    /// How often to look for due rows when idle.
    pub poll: Duration,
    /// First retry delay; it doubles with each attempt.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Attempts before a row is dead-lettered.
    pub max_attempts: i32,
    /// Timeout of one request to a storefront.
    pub request_timeout: Duration,
    /// Reconcile every store this often (None: only on the admin call).
    pub reconcile_every: Option<Duration>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            batch: 32,
            concurrency: 16,
            per_store_concurrency: 4,
            per_store_rate: 20.0,
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(100),
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(300),
            max_attempts: 8,
            request_timeout: Duration::from_secs(10),
            reconcile_every: None,
        }
    }
}

impl SyncConfig {
    /// The model's retry rule with this configuration's numbers.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            base: self.retry_base,
            cap: self.retry_cap,
            max_attempts: self.max_attempts,
        }
    }
}

/// Most requests (planned plus follow-ups) one outbox row may send.
const MAX_REQUESTS_PER_ROW: usize = 10;
/// Bytes of a storefront response kept for the connector.
const MAX_RESPONSE_BYTES: usize = 256 << 10;

/// One store's throttle: deliveries in flight, and when its next request may go.
type Throttle = (Arc<Semaphore>, Arc<Mutex<Instant>>);

/// Per-store throttles.
#[derive(Default)]
struct Throttles {
    stores: Mutex<HashMap<i64, Throttle>>,
}

impl Throttles {
    fn of(&self, store: i64, per_store: usize) -> Throttle {
        self.stores
            .lock()
            .unwrap()
            .entry(store)
            .or_insert_with(|| {
                (
                    Arc::new(Semaphore::new(per_store)),
                    Arc::new(Mutex::new(Instant::now())),
                )
            })
            .clone()
    }
}

/// The worker's shared parts: of storage, only the outbox and the list of
/// stores (for reconciliation).
struct Worker {
    outbox: Arc<dyn Outbox>,
    stores: Arc<dyn Stores>,
    registry: Arc<Registry>,
    metrics: Arc<Metrics>,
    config: SyncConfig,
    owner: String,
    http: reqwest::Client,
    throttles: Throttles,
}

/// Starts the worker; it runs until the process ends.
pub fn spawn(
    storage: Arc<dyn Storage>,
    registry: Arc<Registry>,
    metrics: Arc<Metrics>,
    config: SyncConfig,
) {
    let owner = format!(
        "{}-{}-{:08x}",
        hostname(),
        std::process::id(),
        rand::thread_rng().gen::<u32>()
    );
    let http = reqwest::Client::builder()
        .timeout(config.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let worker = Arc::new(Worker {
        outbox: storage.clone(),
        stores: storage,
        registry,
        metrics,
        config,
        owner,
        http,
        throttles: Throttles::default(),
    });
    tracing::info!(owner = %worker.owner, "sync worker started");
    if let Some(every) = worker.config.reconcile_every {
        let w = worker.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = w.reconcile_all().await {
                    tracing::warn!(error = %e, "periodic reconciliation failed");
                }
            }
        });
    }
    tokio::spawn(async move { worker.run().await });
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "hub".into())
}

impl Worker {
    async fn run(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(self.config.concurrency));
        loop {
            let free = slots.available_permits().min(self.config.batch as usize) as u32;
            if free == 0 {
                tokio::time::sleep(self.config.poll).await;
                continue;
            }
            let items = match self
                .outbox
                .claim_outbox(&self.owner, self.config.lease, free)
                .await
            {
                Ok(items) => items,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming outbox rows failed");
                    tokio::time::sleep(self.config.poll * 10).await;
                    continue;
                }
            };
            if items.is_empty() {
                tokio::time::sleep(self.config.poll).await;
                continue;
            }
            for item in items {
                let permit = slots.clone().acquire_owned().await.expect("semaphore open");
                let w = self.clone();
                tokio::spawn(async move {
                    w.deliver(item).await;
                    drop(permit);
                });
            }
        }
    }

    async fn reconcile_all(&self) -> anyhow::Result<()> {
        for store in self.stores.list_stores().await? {
            let n = self.outbox.reconcile(&store.code).await?;
            if n > 0 {
                tracing::info!(store = %store.code, queued = n, "reconciliation queued pushes");
            }
        }
        Ok(())
    }

    async fn deliver(&self, item: OutboxItem) {
        let (gate, pace) = self
            .throttles
            .of(item.store_id, self.config.per_store_concurrency);
        let _turn = gate.acquire().await.expect("semaphore open");
        let attempted = self.attempt(&item, &pace).await;
        let delivery = delivery(
            attempted,
            item.attempts + 1,
            &self.config.retry_policy(),
            rand::thread_rng().gen(),
            poshub_model::now(),
        );
        match &delivery {
            PushOutcome::Sent { .. } => {
                self.metrics.sync_sent(
                    (poshub_model::now() - item.created_at)
                        .to_std()
                        .unwrap_or_default(),
                );
            }
            PushOutcome::Retry { error, .. } | PushOutcome::Dead { error, .. } => {
                self.metrics
                    .sync_failed(matches!(delivery, PushOutcome::Dead { .. }));
                tracing::warn!(store = %item.store_code, outbox = item.id, error = %error, "push failed");
            }
        }
        match self
            .outbox
            .complete_outbox(item.id, &self.owner, &delivery)
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                outbox = item.id,
                "lease lost before the outcome was recorded"
            ),
            Err(e) => {
                tracing::error!(outbox = item.id, error = %e, "recording a push outcome failed")
            }
        }
    }

    /// One attempt at one row: plan, send, interpret, until done or failed.
    async fn attempt(&self, item: &OutboxItem, pace: &Mutex<Instant>) -> Attempt {
        let Some(change) = item.change.clone() else {
            return Ok(Pushed {
                value: "nothing to push".into(),
                response_status: None,
                summary: "the change no longer applies (unmapped or deleted)".into(),
            });
        };
        let value = change.value();
        let Some(plugin) = self.registry.get(&item.connector) else {
            return Err(Failure::new(
                format!("connector `{}` is not loaded", item.connector),
                true,
            ));
        };
        let limits = Limits::for_store(&item.config);
        let ctx = CallContext::for_store(
            &item.store_code,
            poshub_model::now().to_rfc3339(),
            &item.config,
        );
        let change = to_change(change, &item.config);
        let planned = plugin.plan_push(limits, ctx.clone(), change.clone()).await;
        let mut queue: Vec<HttpRequest> = planned.result.map_err(|e| {
            // A connector that refused the change refuses it next time too.
            let retryable = !matches!(e, CallError::Plugin(_));
            Failure::new(format!("planning failed: {e}"), retryable)
        })?;
        let destination = Destination::for_store(&plugin.info.hosts, &item.config)
            .map_err(|e| Failure::new(e.to_string(), false))?;
        queue.reverse();
        let mut sent = 0;
        let mut last_status = None;
        let mut summary = String::new();
        while let Some(request) = queue.pop() {
            sent += 1;
            if sent > MAX_REQUESTS_PER_ROW {
                return Err(Failure::new("too many follow-up requests".into(), false)
                    .answered(last_status)
                    .about(summary));
            }
            summary = format!("{} {}", request.method, request.url);
            if let Err(why) = destination.check(&request) {
                return Err(Failure::new(format!("refused to send: {why}"), false).about(summary));
            }
            let mut request = request;
            if let Err(why) = authenticate(&mut request, &plugin.info.outbound_auth, &item.config) {
                return Err(Failure::new(why.to_string(), false).about(summary));
            }
            self.wait_turn(pace).await;
            let response = match self.send(&request, item.id).await {
                Ok(r) => r,
                Err(e) => {
                    return Err(Failure::new(format!("request failed: {e}"), true).about(summary))
                }
            };
            last_status = Some(i32::from(response.status));
            let read = plugin
                .interpret_response(limits, ctx.clone(), change.clone(), request, response)
                .await;
            let failure = match read.result {
                Ok(Outcome::Done) => continue,
                Ok(Outcome::FollowUp(more)) => {
                    queue.extend(more.into_iter().rev());
                    continue;
                }
                Ok(Outcome::RetryAfter(secs)) => {
                    Failure::new(format!("storefront asked to retry after {secs} s"), true)
                        .after(Duration::from_secs(u64::from(secs)))
                }
                Ok(Outcome::Failed(e)) => Failure::new(e.message, e.retryable),
                Err(e) => Failure::new(format!("reading the response failed: {e}"), true),
            };
            return Err(failure.answered(last_status).about(summary));
        }
        Ok(Pushed {
            value,
            response_status: last_status,
            summary,
        })
    }

    /// Spaces requests to one store to its rate.
    async fn wait_turn(&self, pace: &Mutex<Instant>) {
        let gap = Duration::from_secs_f64(1.0 / self.config.per_store_rate.max(0.001));
        let wait = {
            let mut next = pace.lock().unwrap();
            let now = Instant::now();
            let start = (*next).max(now);
            *next = start + gap;
            start - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    async fn send(&self, request: &HttpRequest, outbox_id: i64) -> anyhow::Result<HttpResponse> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())?;
        let mut req = self.http.request(method, &request.url);
        for (k, v) in forwarded_headers(request) {
            req = req.header(k, v);
        }
        // Storefronts can drop a repeated push; the key is stable per outbox row.
        req = req.header("Idempotency-Key", format!("poshub-outbox-{outbox_id}"));
        // Which hub process sent it, for operators running several.
        req = req.header("X-Poshub-Worker", &self.owner);
        if let Some(body) = &request.body {
            req = req.body(body.clone());
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let headers = res
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut body = Vec::new();
        let mut res = res;
        while let Some(chunk) = res.chunk().await? {
            let room = MAX_RESPONSE_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room <= chunk.len() {
                break;
            }
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// A row whose planned requests (and follow-ups) all went through.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pushed {
    value: String,
    response_status: Option<i32>,
    summary: String,
}

/// Why an attempt failed, and whether a later one may succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    error: String,
    /// The storefront's last answer, when it gave one.
    response_status: Option<i32>,
    /// The request it failed on (`METHOD URL`), empty before any.
    summary: String,
    retryable: bool,
    /// The wait the storefront asked for (`Retry-After`).
    retry_after: Option<Duration>,
}

impl Failure {
    fn new(error: String, retryable: bool) -> Failure {
        Failure {
            error,
            response_status: None,
            summary: String::new(),
            retryable,
            retry_after: None,
        }
    }

    fn answered(self, response_status: Option<i32>) -> Failure {
        Failure {
            response_status,
            ..self
        }
    }

    fn about(self, summary: String) -> Failure {
        Failure { summary, ..self }
    }

    fn after(self, wait: Duration) -> Failure {
        Failure {
            retry_after: Some(wait),
            ..self
        }
    }
}

/// How one attempt at an outbox row ended.
type Attempt = Result<Pushed, Failure>;

/// What to record for attempt number `attempt` (counted from 1): sent, or
/// what the model's retry rule makes of the failure (retry at `now` plus
/// the wait, or dead), with `jitter` from `[0, 1)`.
fn delivery(
    attempted: Attempt,
    attempt: i32,
    policy: &RetryPolicy,
    jitter: f64,
    now: chrono::DateTime<chrono::Utc>,
) -> PushOutcome {
    let failure = match attempted {
        Ok(p) => {
            return PushOutcome::Sent {
                value: p.value,
                response_status: p.response_status,
                summary: p.summary,
            }
        }
        Err(f) => f,
    };
    match policy.after_failure(attempt, failure.retryable, failure.retry_after, jitter) {
        AfterFailure::Dead { gave_up } => PushOutcome::Dead {
            response_status: failure.response_status,
            error: if gave_up {
                format!("{} (gave up after {attempt} attempts)", failure.error)
            } else {
                failure.error
            },
            summary: failure.summary,
        },
        AfterFailure::Retry(wait) => PushOutcome::Retry {
            at: now + chrono::Duration::from_std(wait).unwrap_or_default(),
            response_status: failure.response_status,
            error: failure.error,
            summary: failure.summary,
        },
    }
}

/// The change as a connector sees it; a stock level carries the storefront's
/// id of its location from the store's config (`location_ids`: hub location
/// code -> storefront location id).
fn to_change(change: PushChange, config: &serde_json::Value) -> Change {
    match change {
        PushChange::Stock {
            reference_code,
            external_id,
            parent_id,
            inventory_id,
            location,
            available,
        } => Change::Stock(StorefrontStock {
            reference_code,
            external_id,
            external_location_id: config
                .get("location_ids")
                .and_then(|ids| ids.get(&location))
                .and_then(|id| match id {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                }),
            location,
            external_parent_id: parent_id,
            external_inventory_id: inventory_id,
            available: available.normalize().to_string(),
        }),
        PushChange::Price {
            reference_code,
            external_id,
            parent_id,
            price,
            mrp,
        } => Change::Price(PriceChange {
            reference_code,
            external_id,
            external_parent_id: parent_id,
            price: poshub_model::decimal::money_string(price),
            mrp: mrp.map(poshub_model::decimal::money_string),
        }),
        PushChange::Status {
            order_id,
            online_reference_no,
            status,
            carrier,
            tracking_number,
        } => Change::Status(StatusChange {
            order_id,
            online_reference_no,
            status,
            carrier,
            tracking_number,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        SyncConfig::default().retry_policy()
    }

    fn at(secs: i64) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn a_pushed_row_is_sent_as_it_went() {
        let pushed = Pushed {
            value: "7".into(),
            response_status: Some(200),
            summary: "POST https://acme.myshopify.com/x".into(),
        };
        let PushOutcome::Sent {
            value,
            response_status,
            summary,
        } = delivery(Ok(pushed), 1, &policy(), 0.5, at(0))
        else {
            panic!("not sent");
        };
        assert_eq!(
            (value.as_str(), response_status, summary.as_str()),
            ("7", Some(200), "POST https://acme.myshopify.com/x")
        );
    }

    #[test]
    fn a_failure_is_retried_or_dead_as_the_retry_rule_says() {
        let failure = Failure::new("storefront asked to retry after 30 s".into(), true)
            .answered(Some(429))
            .about("PUT https://acme.myshopify.com/x".into())
            .after(Duration::from_secs(30));
        match delivery(Err(failure.clone()), 1, &policy(), 0.5, at(1_000)) {
            PushOutcome::Retry {
                at: when,
                response_status,
                error,
                summary,
            } => {
                assert_eq!(when, at(1_030), "Retry-After is honoured");
                assert_eq!(response_status, Some(429));
                assert_eq!(error, "storefront asked to retry after 30 s");
                assert_eq!(summary, "PUT https://acme.myshopify.com/x");
            }
            other => panic!("{other:?}"),
        }
        let last = policy().max_attempts;
        match delivery(Err(failure), last, &policy(), 0.5, at(1_000)) {
            PushOutcome::Dead { error, .. } => assert_eq!(
                error,
                format!("storefront asked to retry after 30 s (gave up after {last} attempts)")
            ),
            other => panic!("{other:?}"),
        }
        let refused = Failure::new("refused to send: no".into(), false);
        match delivery(Err(refused), 1, &policy(), 0.5, at(0)) {
            PushOutcome::Dead {
                error,
                response_status,
                summary,
            } => {
                assert_eq!(error, "refused to send: no", "no retry count for a refusal");
                assert_eq!((response_status, summary.as_str()), (None, ""));
            }
            other => panic!("{other:?}"),
        }
    }
}
