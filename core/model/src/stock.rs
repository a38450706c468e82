//! Stock: an append-only ledger of movements per (variant, location) and the
//! balances kept in step with it. Every movement carries its effect on
//! `on_hand` and on `reserved`; a balance is the sum of its movements.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::codes::Code;
use crate::decimal::{quantity_string, Amount, Quantity, SignedQuantity};
use crate::error::DomainError;

/// What moved the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// Goods received (on hand up).
    Inward,
    /// A stock count or correction (on hand up or down).
    Adjustment,
    /// An accepted order holds stock (reserved up).
    Reservation,
    /// A cancelled order lets go of its hold (reserved down).
    Release,
    /// A bill takes the goods out of the reservation (on hand and reserved down).
    Sale,
    /// Goods come back, e.g. a billed order cancelled (on hand up).
    Return,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Inward => "inward",
            MovementKind::Adjustment => "adjustment",
            MovementKind::Reservation => "reservation",
            MovementKind::Release => "release",
            MovementKind::Sale => "sale",
            MovementKind::Return => "return",
        }
    }
}

/// The effect of one movement on a balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delta {
    pub on_hand: Decimal,
    pub reserved: Decimal,
}

impl MovementKind {
    /// How a movement of `qty` units of this kind changes a balance.
    pub fn delta(self, qty: Decimal) -> Delta {
        let z = Decimal::ZERO;
        let (on_hand, reserved) = match self {
            MovementKind::Inward | MovementKind::Return => (qty, z),
            MovementKind::Adjustment => (qty, z),
            MovementKind::Reservation => (z, qty),
            MovementKind::Release => (z, -qty),
            MovementKind::Sale => (-qty, -qty),
        };
        Delta { on_hand, reserved }
    }
}

/// A balance for one variant at one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Balance {
    pub on_hand: Decimal,
    pub reserved: Decimal,
}

impl Balance {
    pub fn available(&self) -> Decimal {
        self.on_hand - self.reserved
    }

    pub fn apply(&self, d: Delta) -> Balance {
        Balance {
            on_hand: self.on_hand + d.on_hand,
            reserved: self.reserved + d.reserved,
        }
    }
}

/// A stock level as reported to the merchant.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockLevel {
    pub reference_code: String,
    pub location: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(serialize_with = "ser_qty")]
    pub on_hand: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(serialize_with = "ser_qty")]
    pub reserved: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(serialize_with = "ser_qty")]
    pub available: Decimal,
}

pub(crate) fn ser_qty<S: serde::Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&quantity_string(*v))
}

/// Goods received at a location (admin API).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StockInward {
    pub location: Code,
    pub lines: Vec<InwardLine>,
    /// Whether each line's `price` becomes the selling price (the original
    /// product's rule). Defaults to true.
    #[serde(default = "yes")]
    pub set_price: bool,
    /// Supplier document number or other reference.
    #[serde(default)]
    pub reference: Option<String>,
}

fn yes() -> bool {
    true
}

impl StockInward {
    /// An inward has at least one line.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.lines.is_empty() {
            return Err(DomainError::invalid(
                "lines",
                "no_lines",
                "an inward needs at least one line",
            ));
        }
        Ok(())
    }
}

impl StockAdjustment {
    /// An adjustment has at least one line.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.lines.is_empty() {
            return Err(DomainError::invalid(
                "lines",
                "no_lines",
                "an adjustment needs at least one line",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InwardLine {
    pub reference_code: Code,
    pub quantity: Quantity,
    #[serde(default)]
    pub cost: Option<Amount>,
    /// Selling price from this inward on.
    #[serde(default)]
    pub price: Option<Amount>,
}

/// A correction of on-hand stock (admin API).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StockAdjustment {
    pub location: Code,
    pub lines: Vec<AdjustmentLine>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AdjustmentLine {
    pub reference_code: Code,
    /// Signed change of on-hand stock, e.g. `"-2"` for two broken units.
    pub quantity: SignedQuantity,
    pub reason: String,
}

/// What was asked for and what there is, for one order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineAvailability {
    /// Index of the line in the request.
    pub line: usize,
    pub reference_code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(serialize_with = "ser_qty")]
    pub requested: Decimal,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(serialize_with = "ser_qty")]
    pub available: Decimal,
}

/// Checks that every line can be reserved. Lines for the same variant draw on
/// the same balance, in line order; `balances[i]` is the balance for line i's
/// variant at the order's location (the same value for repeated variants).
pub fn check_reservation(
    lines: &[(usize, &str, Decimal, Balance)],
    variant_of_line: &[i64],
) -> Result<(), Vec<LineAvailability>> {
    use std::collections::HashMap;
    let mut drawn: HashMap<i64, Decimal> = HashMap::new();
    let mut short = Vec::new();
    for ((line, code, qty, balance), variant) in lines.iter().zip(variant_of_line) {
        let already = drawn.entry(*variant).or_default();
        let left = balance.available() - *already;
        if *qty > left {
            short.push(LineAvailability {
                line: *line,
                reference_code: code.to_string(),
                requested: *qty,
                available: left.max(Decimal::ZERO),
            });
        }
        *already += *qty;
    }
    if short.is_empty() {
        Ok(())
    } else {
        Err(short)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_documents_need_lines() {
        let inward: StockInward =
            serde_json::from_str(r#"{"location": "BLR", "lines": []}"#).unwrap();
        let e = inward.check().unwrap_err();
        assert!(
            matches!(&e, DomainError::Invalid(f) if f[0].field == "lines" && f[0].code == "no_lines"),
            "{e:?}"
        );
        let adjustment: StockAdjustment =
            serde_json::from_str(r#"{"location": "BLR", "lines": []}"#).unwrap();
        assert!(adjustment.check().is_err());
        let one: StockAdjustment = serde_json::from_str(
            r#"{"location": "BLR", "lines": [{"reference_code": "A", "quantity": "-1", "reason": "broken"}]}"#,
        )
        .unwrap();
        assert!(one.check().is_ok());
    }

    fn d(v: i64) -> Decimal {
        Decimal::from(v)
    }

    #[test]
    fn a_sale_takes_from_both_on_hand_and_reserved() {
        let b = Balance {
            on_hand: d(10),
            reserved: d(0),
        };
        let b = b.apply(MovementKind::Reservation.delta(d(3)));
        assert_eq!(b.available(), d(7));
        let b = b.apply(MovementKind::Sale.delta(d(3)));
        assert_eq!((b.on_hand, b.reserved, b.available()), (d(7), d(0), d(7)));
        let b = b
            .apply(MovementKind::Reservation.delta(d(2)))
            .apply(MovementKind::Release.delta(d(2)));
        assert_eq!(b.available(), d(7));
    }

    #[test]
    fn repeated_variants_draw_on_one_balance() {
        let bal = Balance {
            on_hand: d(5),
            reserved: d(1),
        };
        let lines = [(0, "A", d(3), bal), (1, "A", d(2), bal)];
        let err = check_reservation(&lines, &[7, 7]).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].line, 1);
        assert_eq!(err[0].available, d(1));
        assert!(check_reservation(&lines[..1], &[7]).is_ok());
    }
}
