//! The sync worker inside `poshub serve`: picks the stores with pushes due,
//! claims a batch of each store's due outbox rows under a lease, lets the
//! store's connector plan as few requests as its platform allows (up to its
//! `push-limits` of changes per request), sends them (only to the host the
//! store's config names and its connector declares, with timeouts and no
//! redirects), paced by the budget the storefront reports, lets the
//! connector read each answer for every change it carried, and records each
//! row's own outcome: sent, retry later (exponential backoff with jitter,
//! `Retry-After` honoured) or dead after too many attempts.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poshub_api::Metrics;
use poshub_connectors::egress::{authenticate, forwarded_headers, Destination};
use poshub_connectors::types::{
    CallContext, Change, ChangeKind, ChangeOutcome, HttpRequest, HttpResponse, PendingChange,
    PlannedRequest, PriceChange, PushLimits, StatusChange, StorefrontStock,
};
use poshub_connectors::{CallError, Limits, Plugin, Registry};
use poshub_db::{DueStore, Outbox, OutboxItem, PushChange, PushOutcome, Storage, Stores};
use poshub_model::sync::{AfterFailure, Pace, RetryPolicy};
use rand::Rng;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// How the worker behaves.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Most rows claimed for one store at a time.
    pub batch: u32,
    /// Batches in flight at once, over all stores.
    pub concurrency: usize,
    /// Requests in flight at once to one store, unless its connector
    /// (`push-limits`) or its config (`push_concurrency`) says otherwise.
    pub per_store_concurrency: usize,
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
            batch: 1_000,
            concurrency: 16,
            per_store_concurrency: 4,
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

/// Most requests (planned plus follow-ups) one batch may send, beyond one
/// per change it carries.
const MAX_EXTRA_REQUESTS: usize = 10;
/// Bytes of a storefront response kept for the connector.
const MAX_RESPONSE_BYTES: usize = 1 << 20;
/// Stores looked at per round.
const STORES_PER_ROUND: u32 = 64;

/// One store's lane: its requests in flight (the semaphore, of `size`
/// permits) and its pace.
#[derive(Clone)]
struct Lane {
    size: usize,
    gate: Arc<Semaphore>,
    pace: Arc<Mutex<Pace>>,
}

/// Per-store lanes.
#[derive(Default)]
struct Lanes {
    stores: Mutex<HashMap<i64, Lane>>,
}

impl Lanes {
    /// The store's lane, with `size` requests in flight (a new gate when
    /// the size changed; requests in flight keep their old permits).
    fn of(&self, store: i64, size: usize) -> Lane {
        let mut stores = self.stores.lock().unwrap();
        let lane = stores.entry(store).or_insert_with(|| Lane {
            size,
            gate: Arc::new(Semaphore::new(size)),
            pace: Arc::default(),
        });
        if lane.size != size {
            lane.size = size;
            lane.gate = Arc::new(Semaphore::new(size));
        }
        lane.clone()
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
    lanes: Lanes,
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
        lanes: Lanes::default(),
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

/// Requests in flight at once to a store: its config's `push_concurrency`,
/// else its connector's, else the worker's default.
fn store_concurrency(config: &serde_json::Value, limits: &PushLimits, default: usize) -> usize {
    let configured = config
        .get("push_concurrency")
        .and_then(serde_json::Value::as_u64)
        .filter(|&n| n > 0);
    let declared = Some(u64::from(limits.concurrency)).filter(|&n| n > 0);
    configured
        .or(declared)
        .map_or(default, |n| n.min(64) as usize)
}

/// Splits a store's claimed rows into batches of one kind, at most the
/// connector's limit for the kind each; rows with nothing to push any more,
/// or of a kind the connector does not push, come back on their own.
///
/// Within a kind, rows of one storefront product (their mapping's parent
/// id) come side by side, oldest first: a connector that must send each
/// product's variants apart (WooCommerce's variations, one request per
/// parent) then gets whole products in a batch and sends as few requests
/// as its limits allow. The order no longer depends on the order the
/// database returned the claim in, so the same rows give the same batches.
fn batches(items: Vec<OutboxItem>, limits: &PushLimits) -> (Vec<Vec<OutboxItem>>, Vec<OutboxItem>) {
    let mut by_kind: Vec<(ChangeKind, Vec<OutboxItem>)> = Vec::new();
    let mut alone = Vec::new();
    for item in items {
        let Some(kind) = item.change.as_ref().map(push_kind) else {
            alone.push(item);
            continue;
        };
        if limits.of(kind) == 0 {
            alone.push(item);
            continue;
        }
        match by_kind.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, rows)) => rows.push(item),
            None => by_kind.push((kind, vec![item])),
        }
    }
    let mut out = Vec::new();
    for (kind, mut rows) in by_kind {
        rows.sort_by(|a, b| product_of(a).cmp(&product_of(b)).then(a.id.cmp(&b.id)));
        let size = limits.of(kind) as usize;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            out.push(rows.by_ref().take(size).collect());
        }
    }
    (out, alone)
}

/// The storefront product a row's change belongs to: its mapping's parent
/// id, when it has one.
fn product_of(item: &OutboxItem) -> Option<&str> {
    match item.change.as_ref()? {
        PushChange::Stock { parent_id, .. } | PushChange::Price { parent_id, .. } => {
            parent_id.as_deref()
        }
        PushChange::Status { .. } => None,
    }
}

fn push_kind(change: &PushChange) -> ChangeKind {
    match change {
        PushChange::Stock { .. } => ChangeKind::Stock,
        PushChange::Price { .. } => ChangeKind::Price,
        PushChange::Status { .. } => ChangeKind::Status,
    }
}

/// A key unique to a batch and its attempt: the same rows at the same
/// attempts (a batch sent again after a crash) give the same key.
/// How the sync log words a failed `plan-push`, and whether its rows are
/// tried again (a connector that refused the changes refuses them next time
/// too).
pub(crate) fn planning_failed(e: &CallError) -> (String, bool) {
    (
        format!("planning failed: {e}"),
        !matches!(e, CallError::Plugin(_)),
    )
}

/// How the sync log words a failed `interpret-response`, and whether the
/// rows it carried are tried again (always: the storefront answered).
pub(crate) fn reading_failed(e: &CallError) -> (String, bool) {
    (format!("reading the response failed: {e}"), true)
}

fn batch_key(store: &str, items: &[OutboxItem]) -> String {
    let mut hash = Sha256::new();
    hash.update(store.as_bytes());
    for item in items {
        hash.update(format!(":{}.{}", item.id, item.attempts).as_bytes());
    }
    format!("poshub-{}", &hex::encode(hash.finalize())[..32])
}

/// The `Idempotency-Key` header of a request carrying the rows `ids`: the
/// same for every attempt at them, `poshub-outbox-<id>` for one row.
fn request_key(ids: &[i64]) -> String {
    match ids {
        [one] => format!("poshub-outbox-{one}"),
        many => {
            let mut hash = Sha256::new();
            for id in many {
                hash.update(format!("{id}.").as_bytes());
            }
            format!("poshub-batch-{}", &hex::encode(hash.finalize())[..24])
        }
    }
}

impl Worker {
    async fn run(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(self.config.concurrency));
        loop {
            let claimed = match self.round(&slots).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming outbox rows failed");
                    tokio::time::sleep(self.config.poll * 10).await;
                    continue;
                }
            };
            if claimed == 0 {
                tokio::time::sleep(self.config.poll).await;
            }
        }
    }

    /// One round: for every store with rows due whose lane has room and is
    /// not paused, claims what its free requests can carry and starts the
    /// batches. Answers how many rows were claimed.
    async fn round(self: &Arc<Self>, slots: &Arc<Semaphore>) -> anyhow::Result<usize> {
        let mut claimed = 0;
        for store in self.outbox.due_stores(STORES_PER_ROUND).await? {
            let free_slots = slots.available_permits();
            if free_slots == 0 {
                break;
            }
            let plugin = self.registry.get(&store.connector);
            let limits = plugin
                .as_ref()
                .map_or_else(PushLimits::default, |p| p.info.push_limits);
            let size = store_concurrency(&store.config, &limits, self.config.per_store_concurrency);
            let lane = self.lanes.of(store.id, size);
            if lane.pace.lock().unwrap().paused(Instant::now()) {
                continue;
            }
            let free = lane.gate.available_permits().min(free_slots);
            if free == 0 {
                continue;
            }
            let widest = limits.stock.max(limits.price).max(limits.status).max(1);
            let want = (free as u32).saturating_mul(widest).min(self.config.batch);
            let items = self
                .outbox
                .claim_outbox(&self.owner, self.config.lease, Some(store.id), want)
                .await?;
            claimed += items.len();
            let (batches, alone) = batches(items, &limits);
            for item in alone {
                let outcome = nothing_to_push(&item);
                self.record(&[item], vec![outcome]).await;
            }
            for batch in batches {
                let permit = slots.clone().acquire_owned().await.expect("semaphore open");
                let (w, lane, plugin, store) =
                    (self.clone(), lane.clone(), plugin.clone(), store.clone());
                tokio::spawn(async move {
                    w.deliver(&store, &lane, plugin, batch).await;
                    drop(permit);
                });
            }
        }
        Ok(claimed)
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

    /// Pushes one batch and records each row's outcome.
    async fn deliver(
        &self,
        store: &DueStore,
        lane: &Lane,
        plugin: Option<Arc<Plugin>>,
        items: Vec<OutboxItem>,
    ) {
        let attempts = match plugin {
            Some(plugin) => self.attempt(store, lane, &plugin, &items).await,
            None => {
                let missing = Failure::new(
                    format!("connector `{}` is not loaded", store.connector),
                    true,
                );
                vec![Err(missing); items.len()]
            }
        };
        self.record(&items, attempts).await;
    }

    /// Turns attempts into outcomes by the retry rule and records them.
    async fn record(&self, items: &[OutboxItem], attempts: Vec<Attempt>) {
        let policy = self.config.retry_policy();
        let at = poshub_model::now();
        let deliveries: Vec<(i64, PushOutcome)> = items
            .iter()
            .zip(attempts)
            .map(|(item, attempted)| {
                let outcome = delivery(
                    attempted,
                    item.attempts + 1,
                    &policy,
                    rand::thread_rng().gen(),
                    at,
                );
                match &outcome {
                    PushOutcome::Sent { .. } => self
                        .metrics
                        .sync_sent((at - item.created_at).to_std().unwrap_or_default()),
                    PushOutcome::Retry { error, .. } | PushOutcome::Dead { error, .. } => {
                        self.metrics
                            .sync_failed(matches!(outcome, PushOutcome::Dead { .. }));
                        tracing::warn!(store = %item.store_code, outbox = item.id, error = %error, "push failed");
                    }
                }
                (item.id, outcome)
            })
            .collect();
        match self.outbox.complete_outbox(&self.owner, &deliveries).await {
            Ok(lost) if lost.is_empty() => {}
            Ok(lost) => tracing::warn!(
                outbox = ?lost,
                "lease lost before the outcome was recorded"
            ),
            Err(e) => {
                tracing::error!(rows = deliveries.len(), error = %e, "recording push outcomes failed")
            }
        }
    }

    /// One attempt at a batch: plan, send each request (and its follow-ups)
    /// in turn, and let the connector read every answer for the changes it
    /// carried. Answers one attempt per row, in the batch's order.
    async fn attempt(
        &self,
        store: &DueStore,
        lane: &Lane,
        plugin: &Arc<Plugin>,
        items: &[OutboxItem],
    ) -> Vec<Attempt> {
        let mut batch = Batch::new(items, &store.config);
        let limits = Limits::for_store(&store.config);
        let ctx =
            CallContext::for_store(&store.code, poshub_model::now().to_rfc3339(), &store.config);
        let key = batch_key(&store.code, items);
        let planned = plugin
            .plan_push(limits, ctx.clone(), key.clone(), batch.pending.clone())
            .await;
        let planned = match planned.result {
            Ok(plan) => {
                for (i, e) in plan.refused {
                    batch.fail(&[i as usize], &Failure::new(e.message, e.retryable));
                }
                plan.requests
            }
            Err(e) => {
                let (error, retryable) = planning_failed(&e);
                batch.fail_all(&Failure::new(error, retryable));
                return batch.finish();
            }
        };
        let destination = match Destination::for_store(&plugin.info.hosts, &store.config) {
            Ok(d) => d,
            Err(e) => {
                batch.fail_all(&Failure::new(e.to_string(), false));
                return batch.finish();
            }
        };
        let mut queue: VecDeque<(PlannedRequest, Vec<usize>)> = planned
            .into_iter()
            .map(|p| {
                let at = p.changes.iter().map(|&c| c as usize).collect();
                (p, at)
            })
            .collect();
        let mut sent = 0;
        while let Some((planned, at)) = queue.pop_front() {
            if at.iter().all(|&i| batch.fates[i].is_err()) {
                continue;
            }
            sent += 1;
            if sent > items.len() + MAX_EXTRA_REQUESTS {
                batch.fail_all(&Failure::new("too many follow-up requests".into(), false));
                break;
            }
            let mut request = planned.request;
            let summary = format!("{} {}", request.method, request.url);
            batch.about(&at, &summary);
            if let Err(why) = destination.check(&request) {
                batch.fail(&at, &Failure::new(format!("refused to send: {why}"), false));
                continue;
            }
            if let Err(why) = authenticate(&mut request, &plugin.info.outbound_auth, &store.config)
            {
                batch.fail(&at, &Failure::new(why.to_string(), false));
                continue;
            }
            let wait = lane.pace.lock().unwrap().book(planned.cost, Instant::now());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let response = {
                let _turn = lane.gate.acquire().await.expect("semaphore open");
                let ids: Vec<i64> = at.iter().map(|&i| items[i].id).collect();
                self.send(&request, &request_key(&ids)).await
            };
            let response = match response {
                Ok(r) => r,
                Err(e) => {
                    lane.pace
                        .lock()
                        .unwrap()
                        .answered(planned.cost, None, Instant::now());
                    batch.fail(&at, &Failure::new(format!("request failed: {e}"), true));
                    continue;
                }
            };
            batch.answered(&at, response.status);
            if let Some(wait) = asked_to_wait(&response) {
                lane.pace.lock().unwrap().pause(Instant::now() + wait);
            }
            let carried: Vec<PendingChange> =
                at.iter().map(|&i| batch.pending[i].clone()).collect();
            let read = plugin
                .interpret_response(limits, ctx.clone(), key.clone(), carried, request, response)
                .await;
            let reading = match read.result {
                Ok(reading) => reading,
                Err(e) => {
                    lane.pace
                        .lock()
                        .unwrap()
                        .answered(planned.cost, None, Instant::now());
                    let (error, retryable) = reading_failed(&e);
                    batch.fail(&at, &Failure::new(error, retryable));
                    continue;
                }
            };
            let budget = reading
                .budget
                .map(|b| (b.available, b.maximum, b.restore_per_second));
            lane.pace
                .lock()
                .unwrap()
                .answered(planned.cost, budget, Instant::now());
            for (j, outcome) in reading.outcomes.into_iter().enumerate() {
                let i = at[j];
                match outcome {
                    ChangeOutcome::Done | ChangeOutcome::FollowUp => {}
                    ChangeOutcome::Retry {
                        after_seconds,
                        reason,
                    } => {
                        let failure = Failure::new(reason, true);
                        let failure = match after_seconds {
                            0 => failure,
                            s => failure.after(Duration::from_secs(u64::from(s))),
                        };
                        batch.fail(&[i], &failure);
                    }
                    ChangeOutcome::Failed(e) => {
                        batch.fail(&[i], &Failure::new(e.message, e.retryable))
                    }
                }
            }
            for d in reading.drift {
                batch.drifted(at[d.change as usize], d.found);
            }
            for follow in reading.follow_ups.into_iter().rev() {
                let follow_at = follow.changes.iter().map(|&c| at[c as usize]).collect();
                queue.push_front((follow, follow_at));
            }
        }
        batch.finish()
    }

    async fn send(&self, request: &HttpRequest, key: &str) -> anyhow::Result<HttpResponse> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())?;
        let mut req = self.http.request(method, &request.url);
        for (k, v) in forwarded_headers(request) {
            req = req.header(k, v);
        }
        // Storefronts can drop a repeated push.
        req = req.header("Idempotency-Key", key);
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

/// A row recorded without asking the connector: its change no longer
/// applies, or the connector pushes nothing of its kind.
fn nothing_to_push(item: &OutboxItem) -> Attempt {
    let summary = match &item.change {
        None => "the change no longer applies (unmapped or deleted)".to_string(),
        Some(change) => format!(
            "the store's connector pushes no {} changes",
            match push_kind(change) {
                ChangeKind::Stock => "stock",
                ChangeKind::Price => "price",
                ChangeKind::Status => "status",
            }
        ),
    };
    Ok(Pushed {
        value: item
            .change
            .as_ref()
            .map_or_else(|| "nothing to push".to_string(), PushChange::value),
        response_status: None,
        summary,
        drift: None,
    })
}

/// The wait a storefront asked for on a throttled or unavailable answer.
fn asked_to_wait(response: &HttpResponse) -> Option<Duration> {
    if !matches!(response.status, 429 | 503) {
        return None;
    }
    response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, v)| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3_600.0)))
}

/// A batch in flight: the changes as the connector sees them and what
/// became of each so far.
struct Batch {
    pending: Vec<PendingChange>,
    /// Per row: still going (what it pushes), or how it failed.
    fates: Vec<Result<Pushed, Failure>>,
}

impl Batch {
    fn new(items: &[OutboxItem], config: &serde_json::Value) -> Batch {
        let pending = items
            .iter()
            .map(|item| PendingChange {
                id: item.id as u64,
                attempts: item.attempts.max(0) as u32,
                confirmed: item.confirmed.clone(),
                change: to_change(
                    item.change
                        .clone()
                        .expect("batches hold rows with a change"),
                    config,
                ),
            })
            .collect();
        let fates = items
            .iter()
            .map(|item| {
                Ok(Pushed {
                    value: item
                        .change
                        .as_ref()
                        .map(PushChange::value)
                        .unwrap_or_default(),
                    response_status: None,
                    summary: String::new(),
                    drift: None,
                })
            })
            .collect();
        Batch { pending, fates }
    }

    /// The rows at `at` are being sent with the request `summary`.
    fn about(&mut self, at: &[usize], summary: &str) {
        for &i in at {
            match &mut self.fates[i] {
                Ok(p) => p.summary = summary.to_string(),
                Err(f) => f.summary = summary.to_string(),
            }
        }
    }

    fn answered(&mut self, at: &[usize], status: u16) {
        for &i in at {
            if let Ok(p) = &mut self.fates[i] {
                p.response_status = Some(i32::from(status));
            }
        }
    }

    fn drifted(&mut self, i: usize, found: String) {
        let expected = self.pending[i].confirmed.clone();
        if let Ok(p) = &mut self.fates[i] {
            p.drift = Some(match expected {
                Some(expected) => {
                    format!("the storefront held {found} where the hub expected {expected}")
                }
                None => format!("the storefront held {found}"),
            });
        }
    }

    /// The rows at `at` failed (those that had not failed already).
    fn fail(&mut self, at: &[usize], failure: &Failure) {
        for &i in at {
            if let Ok(p) = &self.fates[i] {
                let failure = Failure {
                    summary: if failure.summary.is_empty() {
                        p.summary.clone()
                    } else {
                        failure.summary.clone()
                    },
                    response_status: failure.response_status.or(p.response_status),
                    ..failure.clone()
                };
                self.fates[i] = Err(failure);
            }
        }
    }

    fn fail_all(&mut self, failure: &Failure) {
        let all: Vec<usize> = (0..self.fates.len()).collect();
        self.fail(&all, failure);
    }

    fn finish(self) -> Vec<Attempt> {
        self.fates
    }
}

/// A row whose planned requests (and follow-ups) all went through.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pushed {
    value: String,
    response_status: Option<i32>,
    summary: String,
    /// What the storefront held instead of what it last confirmed.
    drift: Option<String>,
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
                drift: p.drift,
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

    fn row(id: i64, parent: Option<&str>) -> OutboxItem {
        OutboxItem {
            id,
            store_id: 1,
            store_code: "WOO".into(),
            connector: "woocommerce".into(),
            config: serde_json::json!({}),
            attempts: 0,
            created_at: at(0),
            change: Some(PushChange::Stock {
                reference_code: format!("V{id}"),
                external_id: Some(id.to_string()),
                parent_id: parent.map(str::to_string),
                inventory_id: None,
                location: "BLR".into(),
                available: rust_decimal::Decimal::ONE,
            }),
            confirmed: None,
        }
    }

    #[test]
    fn batches_keep_a_products_rows_together_oldest_first() {
        // A claim as Postgres may return it: ids out of order, products mixed.
        let claim = vec![
            row(7, Some("22")),
            row(2, None),
            row(5, Some("40")),
            row(1, Some("22")),
            row(4, Some("40")),
            row(3, Some("22")),
            row(6, None),
        ];
        let limits = PushLimits {
            stock: 3,
            price: 3,
            status: 1,
            concurrency: 0,
        };
        let (out, alone) = batches(claim, &limits);
        assert!(alone.is_empty());
        let ids: Vec<Vec<i64>> = out
            .iter()
            .map(|b| b.iter().map(|i| i.id).collect())
            .collect();
        assert_eq!(ids, [vec![2, 6, 1], vec![3, 7, 4], vec![5]]);
    }

    #[test]
    fn a_pushed_row_is_sent_as_it_went() {
        let pushed = Pushed {
            value: "7".into(),
            response_status: Some(200),
            summary: "POST https://acme.myshopify.com/x".into(),
            drift: None,
        };
        let PushOutcome::Sent {
            value,
            response_status,
            summary,
            ..
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
        let failure = Failure {
            response_status: Some(429),
            summary: "PUT https://acme.myshopify.com/x".into(),
            ..Failure::new("storefront asked to retry after 30 s".into(), true)
        }
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
