//! The poshub domain model: the POS types (locations, items and matrix
//! variants, stock, customers, stores, API users, sales orders and bills) and
//! the rules that govern them.
//!
//! No IO lives here: storage calls these rules inside its transactions and the
//! HTTP layer only translates. Every value that crosses a boundary has a type
//! that cannot hold an invalid value (money, quantities, phones, e-mails, codes).
//!
//! The types' OpenAPI schemas (`utoipa::ToSchema`) are behind the `openapi`
//! feature, which only the HTTP crate, the one that serves the document,
//! enables: storage, connectors and the fuzz targets build without utoipa.

pub mod bill;
pub mod channel;
pub mod codes;
pub mod currency;
pub mod customer;
pub mod decimal;
pub mod email;
pub mod error;
pub mod item;
pub mod lifecycle;
pub mod order;
pub mod phone;
pub mod pricing;
pub mod scope;
pub mod sourcing;
pub mod stock;
pub mod store;
pub mod sync;

// Bulk tools: CSV imports, reference codes in bulk, auto-match by SKU.
pub mod automatch;
pub mod codegen;
pub mod csv;
pub mod import;

pub use error::{DomainError, FieldError};

/// Current time, truncated to microseconds so that it survives a round trip
/// through either database unchanged.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}
