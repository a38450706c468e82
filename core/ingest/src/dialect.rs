//! A call of a store's API dialect (`/compat/{store}/...`), on the
//! connector's side: which connector speaks the dialect, the caller's key,
//! the connector planning a canonical command and rendering the canonical
//! answer back, and the call's record in the store's event log. Running the
//! command is the store API's own work, done by the API crate between
//! [`Dialect::plan`] and [`Dialect::render`].
//!
//! The dialect is the store's own connector when it speaks one, else the
//! connector its config names in `api_dialect` (so a Shopify store's orders
//! can also be read by a legacy client).

use std::sync::Arc;

use poshub_connectors::types::{ApiCommand, ApiRequest, ApiResponse, CallContext};
use poshub_connectors::{CallError, Limits, Plugin};
use poshub_model::store::{Direction, EventOutcome, NewConnectorEvent, Principal, StoreContext};
use poshub_model::DomainError;

use crate::{finish, refused, Ingest, Refusal};

/// One dialect call in progress. Every way it ends records its event once:
/// [`Dialect::plan`] failing or answering directly, or [`Dialect::render`].
pub struct Dialect<'a> {
    ingest: Ingest<'a>,
    plugin: Arc<Plugin>,
    ctx: StoreContext,
    call_ctx: CallContext,
    limits: Limits,
    request: ApiRequest,
    event: NewConnectorEvent,
}

/// What a dialect request asks, once planned.
// One plan per request, moved once: boxing the command would only add an
// allocation (as for `ApiCommand` itself).
#[allow(clippy::large_enum_variant)]
pub enum Plan {
    /// Run this command (never [`ApiCommand::Respond`]) as the store API
    /// would, for this caller, and render its answer.
    Run(Principal, ApiCommand),
    /// The caller's key did not check out: render this refusal's problem.
    Unauthenticated(Refusal),
    /// The connector answered itself (e.g. the dialect's own validation
    /// error); recorded, to be sent as it is.
    Respond(ApiResponse),
}

impl<'a> Ingest<'a> {
    /// Opens a call of the store's dialect. An unknown store, or a store
    /// that speaks none, is refused before anything is recorded.
    pub async fn dialect(&self, store: &str, request: ApiRequest) -> Result<Dialect<'a>, Refusal> {
        let ctx = self.stores.store_context(store).await?;
        let plugin = self.dialect_connector(&ctx)?;
        let call_ctx = CallContext::for_store(
            &ctx.principal.store_code,
            poshub_model::now().to_rfc3339(),
            &ctx.config,
        );
        let limits = Limits::for_store(&ctx.config);
        let topic = format!("{} {}", request.method, request.path);
        let event = NewConnectorEvent::new(ctx.principal.store_id, Direction::Api, topic);
        Ok(Dialect {
            ingest: *self,
            plugin,
            ctx,
            call_ctx,
            limits,
            request,
            event,
        })
    }

    /// The connector that speaks the store's dialect.
    fn dialect_connector(&self, ctx: &StoreContext) -> Result<Arc<Plugin>, Refusal> {
        let id = match self.registry.get(&ctx.connector) {
            Some(p) if p.info.api_dialect => return Ok(p),
            _ => ctx.config.get("api_dialect").and_then(|v| v.as_str()),
        };
        let Some(id) = id else {
            return Err(Refusal::NoDialect {
                detail: format!(
                    "store {} speaks no API dialect: its connector `{}` has none and its config names no `api_dialect`",
                    ctx.principal.store_code, ctx.connector
                ),
            });
        };
        match self.registry.get(id) {
            Some(p) if p.info.api_dialect => Ok(p),
            Some(_) => Err(Refusal::NoDialect {
                detail: format!(
                    "connector `{id}` named by the store's api_dialect speaks no API dialect"
                ),
            }),
            None => Err(Refusal::ConnectorUnavailable {
                detail: format!("connector `{id}` named by the store's api_dialect is not loaded"),
            }),
        }
    }
}

impl Dialect<'_> {
    /// Checks the caller's key (its SHA-256, hex; the key travels in the
    /// original API's header and must be one of this store's), then lets the
    /// connector plan the request. A connector that fails ends the call,
    /// recorded.
    pub async fn plan(&mut self, key_hash: Option<&str>) -> Result<Plan, Refusal> {
        let principal = match self.authenticate(key_hash).await {
            Ok(p) => p,
            Err(refusal) => return Ok(Plan::Unauthenticated(refusal)),
        };
        let planned = self
            .plugin
            .plan_api(self.limits, self.call_ctx.clone(), self.request.clone())
            .await;
        match finish(planned, &mut self.event) {
            Err(e) => Err(self.fail(e).await),
            Ok(ApiCommand::Respond(direct)) => {
                self.event.outcome = EventOutcome::Rejected;
                self.event.http_status = i32::from(direct.status);
                self.ingest.record(&self.event).await;
                Ok(Plan::Respond(direct))
            }
            Ok(command) => Ok(Plan::Run(principal, command)),
        }
    }

    /// The order a planned command placed, for the call's record.
    pub fn placed(&mut self, order_id: i64) {
        self.event.order_id = Some(order_id);
    }

    /// Lets the connector render the canonical answer (a status and its
    /// JSON body: the resource, or a problem) in the dialect, and records
    /// the call.
    pub async fn render(mut self, status: u16, answer: String) -> Result<ApiResponse, Refusal> {
        if status >= 400 {
            self.event.outcome = EventOutcome::Rejected;
            self.event.detail = serde_json::from_str::<serde_json::Value>(&answer)
                .ok()
                .and_then(|v| {
                    Some(format!(
                        "{}: {}",
                        v["code"].as_str()?,
                        v["detail"].as_str()?
                    ))
                });
        }
        self.event.http_status = i32::from(status);
        let rendered = self
            .plugin
            .render_api(
                self.limits,
                self.call_ctx.clone(),
                self.request.clone(),
                status,
                answer,
            )
            .await;
        match finish(rendered, &mut self.event) {
            Ok(response) => {
                self.ingest.record(&self.event).await;
                Ok(response)
            }
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// The caller's key, which must belong to this store.
    async fn authenticate(&self, key_hash: Option<&str>) -> Result<Principal, Refusal> {
        let key_hash = key_hash.ok_or(Refusal::NoKey)?;
        match self.ingest.stores.authenticate(key_hash).await? {
            Some(p) if p.store_id == self.ctx.principal.store_id && !p.store_enabled => {
                Err(DomainError::store_disabled(&p.store_code).into())
            }
            Some(p) if p.store_id == self.ctx.principal.store_id => Ok(p),
            // Another store's key is as good as no key here.
            _ => Err(Refusal::WrongKey),
        }
    }

    /// A connector call that failed: the dialect could not be spoken; the
    /// call is recorded as failed whatever the cause.
    async fn fail(&mut self, e: CallError) -> Refusal {
        let refusal = dialect_refusal(&self.plugin, e);
        dialect_failed(&mut self.event, &refusal);
        self.ingest.record(&self.event).await;
        refusal
    }
}

/// How the hub refuses a dialect call whose `plan-api` or `render-api`
/// failed.
pub fn dialect_refusal(plugin: &Plugin, error: CallError) -> Refusal {
    match error {
        e @ CallError::InputTooLarge { .. } => Refusal::BodyTooLarge(e),
        other => Refusal::failed(plugin, other),
    }
}

/// How the hub records such a call: failed, whatever the cause (the
/// dialect could not be spoken).
pub fn dialect_failed(event: &mut NewConnectorEvent, refusal: &Refusal) {
    refused(event, refusal);
    event.outcome = EventOutcome::Failed;
}
