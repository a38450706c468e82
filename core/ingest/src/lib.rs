//! poshub's ingestion: what storefronts send the hub through their
//! connectors, taken the same way the store API takes it.
//!
//! - [`webhook`]: `POST /hooks/{store}/{topic}`. The store's connector names
//!   how the topic is signed, the hub verifies with the secret it keeps, the
//!   connector translates, and each canonical document takes the store
//!   API's path (same validation, same reservation). Each document's result
//!   is an [`Applied`]; a refused call is a [`Refusal`].
//! - [`dialect`]: `/compat/{store}/...`. The dialect connector plans a
//!   canonical command, the API crate runs it as the store API does, the
//!   connector renders the answer.
//! - [`lines`]: a connector's order and refund lines named by reference
//!   code (the connector's own, a SKU equal to one, or the store's mapping).
//!
//! Every call is recorded against its store as a connector event, with the
//! outcome ([`poshub_model::store::EventOutcome`]) and, for a refusal, the
//! status, code and detail its answer has. No HTTP types here: the API
//! crate extracts the request and maps a [`Refusal`] to problem+json in one
//! place.

pub mod dialect;
pub mod lines;
mod outcome;
pub mod webhook;

use poshub_connectors::{CallError, Called, Registry};
use poshub_db::{Mappings, Orders, Stores};
use poshub_model::phone::CountryCode;
use poshub_model::store::NewConnectorEvent;

pub use dialect::{Dialect, Plan};
pub use outcome::{
    event_outcome, Applied, DocumentKind, DocumentOutcome, Refusal, INTERNAL_DETAIL,
};
pub use webhook::Webhook;

/// What ingestion reaches: the parts of the hub's storage it uses (stores
/// and their event log, orders, mappings), its connectors, and the country
/// code for phone numbers written without one. An `&dyn Storage` gives all
/// three parts.
#[derive(Clone, Copy)]
pub struct Ingest<'a> {
    pub stores: &'a dyn Stores,
    pub orders: &'a dyn Orders,
    pub mappings: &'a dyn Mappings,
    pub registry: &'a Registry,
    pub default_country: &'a CountryCode,
}

impl Ingest<'_> {
    /// Records a connector event; a failure to record is logged, never the
    /// caller's problem (what it describes has happened).
    async fn record(&self, event: &NewConnectorEvent) {
        if let Err(e) = self.stores.record_event(event).await {
            tracing::error!(error = %e, store_id = event.store_id, "could not record a connector event");
        }
    }
}

/// Keeps a connector call's logs and time on the event and returns its
/// result.
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

/// Marks the event refused with the refusal's outcome, status, code and
/// detail (as its answer will carry them): how the hub records a refusal.
pub fn refused(event: &mut NewConnectorEvent, refusal: &Refusal) {
    event.refused(
        refusal.outcome(),
        refusal.status(),
        refusal.code(),
        &refusal.to_string(),
    );
}
