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
use poshub_connectors::types::{
    CallContext, Change, Credential, HttpRequest, HttpResponse, Outcome, PriceChange, StatusChange,
    StockLevel,
};
use poshub_connectors::{Limits, Registry};
use poshub_db::{Delivery, OutboxItem, PushChange, Storage};
use poshub_model::sync::{host_matches, AfterFailure, RetryPolicy};
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

/// The worker's shared parts.
struct Worker {
    storage: Arc<dyn Storage>,
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
        storage,
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
                .storage
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
        for store in self.storage.list_stores().await? {
            let n = self.storage.reconcile(&store.code).await?;
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
        let delivery = self.attempt(&item, &pace).await;
        match &delivery {
            Delivery::Sent { .. } => {
                self.metrics.sync_sent(
                    (poshub_model::now() - item.created_at)
                        .to_std()
                        .unwrap_or_default(),
                );
            }
            Delivery::Retry { error, .. } | Delivery::Dead { error, .. } => {
                self.metrics
                    .sync_failed(matches!(delivery, Delivery::Dead { .. }));
                tracing::warn!(store = %item.store_code, outbox = item.id, error = %error, "push failed");
            }
        }
        match self
            .storage
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
    async fn attempt(&self, item: &OutboxItem, pace: &Mutex<Instant>) -> Delivery {
        let attempt = item.attempts + 1;
        let Some(change) = item.change.clone() else {
            return Delivery::Sent {
                value: "nothing to push".into(),
                response_status: None,
                summary: "the change no longer applies (unmapped or deleted)".into(),
            };
        };
        let value = change.value();
        let fail = |error: String,
                    status: Option<i32>,
                    summary: String,
                    retryable: bool,
                    after: Option<Duration>| {
            let decided = self.config.retry_policy().after_failure(
                attempt,
                retryable,
                after,
                rand::thread_rng().gen(),
            );
            match decided {
                AfterFailure::Dead { gave_up } => Delivery::Dead {
                    response_status: status,
                    error: if gave_up {
                        format!("{error} (gave up after {attempt} attempts)")
                    } else {
                        error
                    },
                    summary,
                },
                AfterFailure::Retry(wait) => Delivery::Retry {
                    at: poshub_model::now() + chrono::Duration::from_std(wait).unwrap_or_default(),
                    response_status: status,
                    error,
                    summary,
                },
            }
        };
        let Some(plugin) = self.registry.get(&item.connector) else {
            return fail(
                format!("connector `{}` is not loaded", item.connector),
                None,
                String::new(),
                true,
                None,
            );
        };
        let limits = Limits::for_store(&item.config);
        let ctx = CallContext::for_store(
            &item.store_code,
            poshub_model::now().to_rfc3339(),
            &item.config,
        );
        let change = to_change(change, &item.config);
        let planned = plugin.plan_push(limits, ctx.clone(), change.clone()).await;
        let mut queue: Vec<HttpRequest> = match planned.result {
            Ok(requests) => requests,
            Err(e) => {
                return fail(
                    format!("planning failed: {e}"),
                    None,
                    String::new(),
                    e.code() != "plugin_error",
                    None,
                )
            }
        };
        let Some(base) = item
            .config
            .get("base_url")
            .and_then(|v| v.as_str())
            .and_then(|u| reqwest::Url::parse(u).ok())
        else {
            return fail(
                "the store's config names no valid base_url".into(),
                None,
                String::new(),
                false,
                None,
            );
        };
        // Hosts the merchant allows besides those the connector declares
        // (e.g. a staging double of the storefront).
        let extra_hosts: Vec<String> = item
            .config
            .get("allow_hosts")
            .and_then(|v| v.as_array())
            .map(|hosts| {
                hosts
                    .iter()
                    .filter_map(|h| h.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        queue.reverse();
        let mut sent = 0;
        let mut last_status = None;
        let mut summary = String::new();
        while let Some(request) = queue.pop() {
            sent += 1;
            if sent > MAX_REQUESTS_PER_ROW {
                return fail(
                    "too many follow-up requests".into(),
                    last_status,
                    summary,
                    false,
                    None,
                );
            }
            summary = format!("{} {}", request.method, request.url);
            if let Err(why) = allowed(&request, &base, &plugin.info.hosts, &extra_hosts) {
                return fail(
                    format!("refused to send: {why}"),
                    None,
                    summary,
                    false,
                    None,
                );
            }
            let mut request = request;
            if let Err(why) = authenticate(&mut request, &plugin.info.outbound_auth, &item.config) {
                return fail(why, None, summary, false, None);
            }
            self.wait_turn(pace).await;
            let response = match self.send(&request, item.id).await {
                Ok(r) => r,
                Err(e) => return fail(format!("request failed: {e}"), None, summary, true, None),
            };
            last_status = Some(i32::from(response.status));
            let read = plugin
                .interpret_response(limits, ctx.clone(), change.clone(), request, response)
                .await;
            match read.result {
                Ok(Outcome::Done) => {}
                Ok(Outcome::FollowUp(more)) => queue.extend(more.into_iter().rev()),
                Ok(Outcome::RetryAfter(secs)) => {
                    return fail(
                        format!("storefront asked to retry after {secs} s"),
                        last_status,
                        summary,
                        true,
                        Some(Duration::from_secs(u64::from(secs))),
                    )
                }
                Ok(Outcome::Failed(e)) => {
                    return fail(e.message, last_status, summary, e.retryable, None)
                }
                Err(e) => {
                    return fail(
                        format!("reading the response failed: {e}"),
                        last_status,
                        summary,
                        true,
                        None,
                    )
                }
            }
        }
        Delivery::Sent {
            value,
            response_status: last_status,
            summary,
        }
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

/// The planned headers the hub sends: all but `Host`, which reqwest sets
/// from the (allow-listed) URL, so a plugin cannot spoof the virtual host.
fn forwarded_headers(request: &HttpRequest) -> impl Iterator<Item = (&str, &str)> {
    request
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// A planned request may go only to the store's own `base_url` host (and
/// port), over http(s), and only if the connector declared that host or the
/// store's config names it in `allow_hosts`.
fn allowed(
    request: &HttpRequest,
    base: &reqwest::Url,
    declared: &[String],
    extra: &[String],
) -> Result<(), String> {
    let url = reqwest::Url::parse(&request.url)
        .map_err(|e| format!("`{}` is not a URL: {e}", request.url))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme `{}` is not http(s)", url.scheme()));
    }
    let host = url.host_str().unwrap_or_default();
    if !host.eq_ignore_ascii_case(base.host_str().unwrap_or_default())
        || url.port_or_known_default() != base.port_or_known_default()
    {
        return Err(format!(
            "{host} is not the store's base_url host {}",
            base.host_str().unwrap_or_default()
        ));
    }
    if !declared.iter().chain(extra).any(|p| host_matches(p, host)) {
        return Err(format!(
            "the connector does not declare the host {host} and the store's allow_hosts does not name it"
        ));
    }
    Ok(())
}

/// Adds the connector's declared credentials from the store's config; a
/// header of the same name planned by the connector is replaced, so a
/// connector cannot choose its own credentials.
fn authenticate(
    request: &mut HttpRequest,
    credentials: &[Credential],
    config: &serde_json::Value,
) -> Result<(), String> {
    let value = |key: &str| {
        config
            .get(key)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                format!(
                    "the store's config has no `{key}`, which the connector needs to authenticate"
                )
            })
    };
    for credential in credentials {
        let (name, header) = match credential {
            Credential::SecretHeader { name, key } => (name.clone(), value(key)?.to_string()),
            Credential::Basic {
                user_key,
                password_key,
            } => {
                use base64::Engine;
                let pair = format!("{}:{}", value(user_key)?, value(password_key)?);
                (
                    "Authorization".to_string(),
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    ),
                )
            }
            Credential::Bearer { key } => (
                "Authorization".to_string(),
                format!("Bearer {}", value(key)?),
            ),
        };
        request
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
        request.headers.push((name, header));
    }
    Ok(())
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
        } => Change::Stock(StockLevel {
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

    fn req(url: &str) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            url: url.into(),
            headers: vec![],
            body: None,
        }
    }

    #[test]
    fn requests_go_only_where_the_store_and_the_connector_agree() {
        let base = reqwest::Url::parse("https://acme.myshopify.com").unwrap();
        let shopify = vec!["*.myshopify.com".to_string()];
        assert!(allowed(
            &req("https://acme.myshopify.com/admin/api/x.json"),
            &base,
            &shopify,
            &[]
        )
        .is_ok());
        assert!(
            allowed(&req("https://evil.myshopify.com/x"), &base, &shopify, &[]).is_err(),
            "another shop"
        );
        assert!(
            allowed(&req("https://127.0.0.1/x"), &base, &shopify, &[]).is_err(),
            "loopback not in config"
        );
        assert!(
            allowed(&req("https://169.254.169.254/latest"), &base, &shopify, &[]).is_err(),
            "link-local"
        );
        assert!(
            allowed(
                &req("https://acme.myshopify.com:8443/x"),
                &base,
                &shopify,
                &[]
            )
            .is_err(),
            "other port"
        );
        assert!(allowed(&req("file:///etc/passwd"), &base, &shopify, &[]).is_err());
        let local = reqwest::Url::parse("http://127.0.0.1:9000").unwrap();
        assert!(allowed(
            &req("http://127.0.0.1:9000/poshub/stock-levels"),
            &local,
            &["*".into()],
            &[]
        )
        .is_ok());
        assert!(allowed(
            &req("http://127.0.0.1:9000/x"),
            &local,
            &["*.myshopify.com".into()],
            &[]
        )
        .is_err());
        // The merchant can name a host for one store (a staging double).
        assert!(allowed(
            &req("http://127.0.0.1:9000/x"),
            &local,
            &["*.myshopify.com".into()],
            &["127.0.0.1".into()]
        )
        .is_ok());
    }

    #[test]
    fn a_planned_host_header_is_never_sent() {
        let mut request = req("https://acme.myshopify.com/x");
        request.headers = vec![
            ("Host".into(), "169.254.169.254".into()),
            ("hOsT".into(), "localhost".into()),
            ("Content-Type".into(), "application/json".into()),
        ];
        let base = reqwest::Url::parse("https://acme.myshopify.com").unwrap();
        // The URL is allowed; the spoofed Host header is dropped.
        assert!(allowed(&request, &base, &["*.myshopify.com".into()], &[]).is_ok());
        let sent: Vec<_> = forwarded_headers(&request).collect();
        assert_eq!(sent, [("Content-Type", "application/json")]);
    }

    #[test]
    fn credentials_come_from_the_store_config_and_replace_planned_ones() {
        let mut request = req("https://acme.myshopify.com/x");
        request
            .headers
            .push(("x-shopify-access-token".into(), "chosen-by-plugin".into()));
        let config = serde_json::json!({"access_token": "shpat_1", "consumer_key": "ck", "consumer_secret": "cs"});
        let shopify = [Credential::SecretHeader {
            name: "X-Shopify-Access-Token".into(),
            key: "access_token".into(),
        }];
        authenticate(&mut request, &shopify, &config).unwrap();
        assert_eq!(
            request.headers,
            vec![("X-Shopify-Access-Token".to_string(), "shpat_1".to_string())]
        );
        let woo = [Credential::Basic {
            user_key: "consumer_key".into(),
            password_key: "consumer_secret".into(),
        }];
        authenticate(&mut request, &woo, &config).unwrap();
        assert!(request
            .headers
            .contains(&("Authorization".to_string(), "Basic Y2s6Y3M=".to_string())));
        let err = authenticate(
            &mut request,
            &woo,
            &serde_json::json!({"consumer_key": "ck"}),
        )
        .unwrap_err();
        assert!(err.contains("consumer_secret"), "{err}");
    }
}
