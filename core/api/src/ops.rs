//! Operations endpoints (health, readiness, Prometheus metrics), the OpenAPI
//! document, and the fallbacks that keep even unknown routes in problem+json.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::Problem;
use crate::{admin_api, bulk_api, hooks, lifecycle_api, store_api, AppState};

/// Counters exported at `/metrics`.
#[derive(Default)]
pub struct Metrics {
    requests: [AtomicU64; 6],
    orders_created: AtomicU64,
    sync_sent: AtomicU64,
    sync_failed: AtomicU64,
    sync_dead: AtomicU64,
    /// Recent push latencies (change committed -> storefront confirmed), seconds.
    sync_latency: std::sync::Mutex<std::collections::VecDeque<f64>>,
    sync_latency_sum: std::sync::Mutex<f64>,
}

/// Push latencies kept for the quantiles.
const LATENCY_WINDOW: usize = 4096;

impl Metrics {
    pub fn orders_created(&self) {
        self.orders_created.fetch_add(1, Ordering::Relaxed);
    }

    /// A push reached its storefront `latency` after its change committed.
    pub fn sync_sent(&self, latency: std::time::Duration) {
        self.sync_sent.fetch_add(1, Ordering::Relaxed);
        let secs = latency.as_secs_f64();
        *self.sync_latency_sum.lock().unwrap() += secs;
        let mut window = self.sync_latency.lock().unwrap();
        if window.len() == LATENCY_WINDOW {
            window.pop_front();
        }
        window.push_back(secs);
    }

    /// A push attempt failed (and was dead-lettered when `dead`).
    pub fn sync_failed(&self, dead: bool) {
        self.sync_failed.fetch_add(1, Ordering::Relaxed);
        if dead {
            self.sync_dead.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// (p50, p95) of recent push latencies in seconds.
    pub fn sync_latency_quantiles(&self) -> Option<(f64, f64)> {
        let mut v: Vec<f64> = self.sync_latency.lock().unwrap().iter().copied().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        Some((q(0.5), q(0.95)))
    }

    fn render_sync(&self, waiting: i64, dead: i64) -> String {
        let mut out = format!(
            "# HELP poshub_outbox_depth Outbox rows by state.\n# TYPE poshub_outbox_depth gauge\n\
             poshub_outbox_depth{{state=\"waiting\"}} {waiting}\nposhub_outbox_depth{{state=\"dead\"}} {dead}\n\
             # HELP poshub_sync_pushes_total Push attempts by outcome.\n# TYPE poshub_sync_pushes_total counter\n\
             poshub_sync_pushes_total{{outcome=\"sent\"}} {}\nposhub_sync_pushes_total{{outcome=\"failed\"}} {}\n\
             poshub_sync_pushes_total{{outcome=\"dead\"}} {}\n",
            self.sync_sent.load(Ordering::Relaxed),
            self.sync_failed.load(Ordering::Relaxed),
            self.sync_dead.load(Ordering::Relaxed),
        );
        out.push_str("# HELP poshub_sync_latency_seconds Change committed to storefront confirmed.\n# TYPE poshub_sync_latency_seconds summary\n");
        if let Some((p50, p95)) = self.sync_latency_quantiles() {
            out.push_str(&format!(
                "poshub_sync_latency_seconds{{quantile=\"0.5\"}} {p50}\nposhub_sync_latency_seconds{{quantile=\"0.95\"}} {p95}\n"
            ));
        }
        out.push_str(&format!(
            "poshub_sync_latency_seconds_sum {}\nposhub_sync_latency_seconds_count {}\n",
            *self.sync_latency_sum.lock().unwrap(),
            self.sync_sent.load(Ordering::Relaxed)
        ));
        out
    }

    fn render(&self, backend: &str) -> String {
        let mut out = String::from("# HELP poshub_http_requests_total HTTP requests answered, by status class.\n# TYPE poshub_http_requests_total counter\n");
        for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx", "other"]
            .iter()
            .enumerate()
        {
            out.push_str(&format!(
                "poshub_http_requests_total{{class=\"{class}\"}} {}\n",
                self.requests[i].load(Ordering::Relaxed)
            ));
        }
        out.push_str(&format!(
            "# HELP poshub_sales_orders_created_total Sales orders accepted.\n# TYPE poshub_sales_orders_created_total counter\nposhub_sales_orders_created_total {}\n",
            self.orders_created.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "# HELP poshub_info Build and storage backend.\n# TYPE poshub_info gauge\nposhub_info{{version=\"{}\",backend=\"{backend}\"}} 1\n",
            env!("CARGO_PKG_VERSION")
        ));
        out
    }
}

pub(crate) async fn count_requests(
    State(s): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let res = next.run(req).await;
    let class = (res.status().as_u16() / 100).saturating_sub(1).min(5) as usize;
    s.metrics.requests[class].fetch_add(1, Ordering::Relaxed);
    res
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "ready"), (status = 503, body = Problem)))]
pub(crate) async fn readyz(State(s): State<AppState>) -> Result<&'static str, Problem> {
    s.storage.ping().await.map(|_| "ready").map_err(|e| {
        tracing::warn!(error = %e, "database not ready");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the database does not answer",
        )
    })
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text", content_type = "text/plain")))]
pub(crate) async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let mut text = s.metrics.render(s.storage.backend());
    match s.storage.outbox_depth().await {
        Ok((waiting, dead)) => text.push_str(&s.metrics.render_sync(waiting, dead)),
        Err(e) => tracing::warn!(error = %e, "reading the outbox depth failed"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub(crate) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub(crate) async fn not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "no such route; see /api/v1/openapi.json",
    )
}

pub(crate) async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        c.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Errors are served as `application/problem+json` (RFC 9457), and every
/// operation that reads a JSON body can answer it with 400 (not JSON), 413
/// (too large) and 415 (not sent as JSON): the document says so once here
/// rather than on each handler.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
        let problem = || Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem"))));
        for item in api.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let takes_json = op
                    .request_body
                    .as_ref()
                    .is_some_and(|b| b.content.contains_key("application/json"));
                if takes_json {
                    for (status, why) in [
                        ("400", "The body is not valid JSON"),
                        ("413", "The body is too large"),
                        ("415", "The body was not sent as JSON"),
                    ] {
                        op.responses
                            .responses
                            .entry(status.to_string())
                            .or_insert_with(|| {
                                RefOr::T(
                                    ResponseBuilder::new()
                                        .description(why)
                                        .content("application/problem+json", problem())
                                        .build(),
                                )
                            });
                    }
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    if status.as_str() >= "400" {
                        if let Some(content) = response.content.shift_remove("application/json") {
                            response
                                .content
                                .insert("application/problem+json".to_string(), content);
                        }
                    }
                }
            }
        }
    }
}

/// The OpenAPI document, generated from the handlers and types.
#[derive(OpenApi)]
#[openapi(
    info(title = "poshub", description = "One POS back office, many online stores: the canonical store API and the admin API."),
    modifiers(&Security, &ProblemResponses),
    paths(
        store_api::list_items, store_api::create_order, store_api::list_orders, store_api::get_order, store_api::cancel_order,
        admin_api::get_settings, admin_api::put_settings,
        admin_api::create_location, admin_api::list_locations, admin_api::create_location_group, admin_api::list_location_groups,
        admin_api::create_item, admin_api::get_item, admin_api::stock_inward, admin_api::stock_adjust, admin_api::stock_levels,
        admin_api::create_store, admin_api::list_stores, admin_api::get_store, admin_api::create_api_user, admin_api::list_api_users,
        admin_api::list_orders, admin_api::get_order, admin_api::bill_order, admin_api::deliver_order, admin_api::cancel_order,
        admin_api::get_bill, admin_api::list_events, admin_api::list_plugins, admin_api::reload_plugins,
        admin_api::put_mappings, admin_api::list_mappings, admin_api::sync_log, admin_api::retry_all, admin_api::retry_one,
        admin_api::reconcile, admin_api::store_catalog,
        crate::commerce_api::patch_store, crate::commerce_api::create_price_list, crate::commerce_api::list_price_lists,
        crate::commerce_api::delete_price_list,
        bulk_api::generate_reference_codes, bulk_api::import_items, bulk_api::import_mappings, bulk_api::auto_match,
        lifecycle_api::store_return, lifecycle_api::admin_return, lifecycle_api::ready_order, lifecycle_api::ship_order,
        lifecycle_api::out_for_delivery, lifecycle_api::get_credit_note,
        hooks::receive, crate::compat::handle,
        healthz, readyz, metrics, openapi,
    ),
    tags((name = "store", description = "Called by online stores with their API key"),
         (name = "admin", description = "Called by the merchant with the admin token"),
         (name = "webhooks", description = "Called by storefront platforms, signed as the store's connector declares"),
         (name = "compat", description = "Another POS vendor's API dialect, spoken by the store's dialect connector"),
         (name = "operations"))
)]
pub struct ApiDoc;
