//! Sales bills: made from a sales order, numbered per location, recording the
//! payment type actually used.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::codes::PaymentType;
use crate::decimal::Amount;
use crate::order::OrderLine;

/// Body of the admin `bill` action.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BillRequest {
    /// The payment type actually used; must be one the store allows.
    pub payment_type: PaymentType,
}

/// A sales bill as read back.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bill {
    /// `<location code>-<number>`, e.g. `BLR-000042`, counting per location.
    pub bill_no: String,
    pub order_id: i64,
    pub store: String,
    pub location: String,
    pub payment_type: PaymentType,
    pub total: Amount,
    pub lines: Vec<OrderLine>,
    /// `active`, or `cancelled` when its order was cancelled after billing.
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// Numbers of the credit notes issued against it (returns, lines
    /// cancelled after billing).
    pub credit_notes: Vec<String>,
}

/// The bill number for the `seq`-th bill of a location.
pub fn bill_number(location_code: &str, seq: i64) -> String {
    format!("{location_code}-{seq:06}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn bill_numbers_count_per_location() {
        assert_eq!(super::bill_number("BLR", 42), "BLR-000042");
    }
}
