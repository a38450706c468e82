//! Price lists and the price in force: a store's list (store-wide or for one
//! location, valid from / to) overrides the last-inward price of the
//! variants it names. Every price a store is shown or pushed carries the
//! rule that set it (`price_list:CODE` or `last_inward`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::codes::Code;
use crate::decimal::{money_string, Amount};
use crate::error::{DomainError, FieldError, Problems};
use crate::order::OrderRequest;

/// Most prices one list may carry.
pub const MAX_PRICES: usize = 10_000;

/// The source of a price that no list overrides.
pub const LAST_INWARD: &str = "last_inward";

/// A price list to create (admin API).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPriceList {
    pub code: Code,
    pub name: String,
    /// Only orders and item queries at this location; store-wide when left out.
    #[serde(default)]
    pub location: Option<Code>,
    /// When the list comes into force (RFC 3339); now when left out.
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    /// When it stops being in force (exclusive); open-ended when left out.
    #[serde(default)]
    pub valid_to: Option<DateTime<Utc>>,
    pub prices: Vec<ListPrice>,
}

/// One variant's price in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ListPrice {
    pub reference_code: Code,
    pub price: Amount,
}

impl NewPriceList {
    /// Checks what can be checked without looking anything up; `now` fills
    /// a missing `valid_from`.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), DomainError> {
        let mut p = Problems::default();
        if self.name.trim().is_empty() {
            p.push("name", "required", "a price list needs a name");
        }
        if let Some(to) = self.valid_to {
            let from = self.valid_from.unwrap_or(now);
            if to <= from {
                p.push(
                    "valid_to",
                    "invalid_validity",
                    format!("valid_to {to} is not after valid_from {from}"),
                );
            }
        }
        if self.prices.is_empty() {
            p.push(
                "prices",
                "required",
                "a price list needs at least one price",
            );
        }
        if self.prices.len() > MAX_PRICES {
            p.push(
                "prices",
                "too_many_prices",
                format!("at most {MAX_PRICES} prices per list"),
            );
        }
        let mut seen = HashSet::new();
        for (i, price) in self.prices.iter().enumerate() {
            if !seen.insert(price.reference_code.as_str()) {
                p.push(
                    format!("prices[{i}].reference_code"),
                    "duplicate_reference_code",
                    format!("`{}` is priced twice", price.reference_code),
                );
            }
        }
        p.into_result()
    }
}

/// A price list as read back.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceList {
    pub code: String,
    pub name: String,
    pub store: String,
    pub location: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
    /// Whether the list is in force now.
    pub in_force: bool,
    pub prices: Vec<ListPrice>,
    pub created_at: DateTime<Utc>,
}

/// One list's price for one variant, as a candidate for the price in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRule {
    pub list_id: i64,
    pub list_code: String,
    /// True for a list of one location (which beats a store-wide list).
    pub location_specific: bool,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
    pub price: Decimal,
}

impl PriceRule {
    pub fn in_force(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && self.valid_to.is_none_or(|to| at < to)
    }
}

/// A price and the rule that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceInForce {
    pub price: Decimal,
    /// `price_list:CODE` or `last_inward`.
    pub source: String,
}

/// The price in force at `at`: among the lists in force, a location's list
/// beats a store-wide one, then the latest `valid_from`, then the newest
/// list; without one, the last-inward price (None when there is none).
/// `rules` must already be those that apply to the store and location.
pub fn price_in_force(
    rules: &[PriceRule],
    last_inward: Option<Decimal>,
    at: DateTime<Utc>,
) -> Option<PriceInForce> {
    rules
        .iter()
        .filter(|r| r.in_force(at))
        .max_by_key(|r| (r.location_specific, r.valid_from, r.list_id))
        .map(|r| PriceInForce {
            price: r.price,
            source: format!("price_list:{}", r.list_code),
        })
        .or_else(|| {
            last_inward.map(|price| PriceInForce {
                price,
                source: LAST_INWARD.to_string(),
            })
        })
}

/// Holds an order's lines to the prices in force (`expected[i]` for line
/// i). Returns the order with those prices, so that its total is checked
/// against them, and a `price_mismatch` for every line that named another
/// price (or a variant that has no price at all).
pub fn enforce_prices(
    request: &OrderRequest,
    expected: &[Option<PriceInForce>],
) -> (OrderRequest, Vec<FieldError>) {
    let mut held = request.clone();
    let mut errors = Vec::new();
    for (i, (line, want)) in held.lines.iter_mut().zip(expected).enumerate() {
        match want {
            Some(want) if line.unit_price.value() == want.price => {}
            Some(want) => {
                errors.push(FieldError::new(
                    format!("lines[{i}].unit_price"),
                    "price_mismatch",
                    format!(
                        "{} costs {} ({}), not {}",
                        line.reference_code,
                        money_string(want.price),
                        want.source,
                        line.unit_price
                    ),
                ));
                // At least two places, as a client would have written it.
                let mut price = want.price;
                price.rescale(price.scale().max(2));
                line.unit_price = Amount::from_stored(price);
            }
            None => errors.push(FieldError::new(
                format!("lines[{i}].unit_price"),
                "price_mismatch",
                format!("{} has no price in force yet", line.reference_code),
            )),
        }
    }
    (held, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 0, 0, 0).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn rule(
        id: i64,
        code: &str,
        local: bool,
        from: u32,
        to: Option<u32>,
        price: &str,
    ) -> PriceRule {
        PriceRule {
            list_id: id,
            list_code: code.into(),
            location_specific: local,
            valid_from: t(from),
            valid_to: to.map(t),
            price: d(price),
        }
    }

    #[test]
    fn the_most_specific_list_in_force_wins() {
        let rules = [
            rule(1, "DIWALI", false, 1, Some(10), "89.00"),
            rule(2, "BLR-SALE", true, 5, Some(8), "79.00"),
            rule(3, "LATE", false, 3, None, "95.00"),
        ];
        let p = |day| price_in_force(&rules, Some(d("100.00")), t(day)).unwrap();
        assert_eq!(p(2).source, "price_list:DIWALI");
        // LATE started later than DIWALI, so it is the newer store-wide rule.
        assert_eq!(p(4).price, d("95.00"));
        assert_eq!(p(6).source, "price_list:BLR-SALE");
        // valid_to is exclusive: BLR-SALE has ended at the start of day 8.
        assert_eq!(p(8).source, "price_list:LATE");
        let none = price_in_force(&rules[..2], Some(d("100.00")), t(12)).unwrap();
        assert_eq!(
            (none.price, none.source.as_str()),
            (d("100.00"), LAST_INWARD)
        );
        assert_eq!(price_in_force(&[], None, t(1)), None);
    }

    #[test]
    fn enforced_prices_replace_the_lines_and_name_the_mismatch() {
        let request: OrderRequest = serde_json::from_value(serde_json::json!({
            "online_reference_no": "W-1",
            "lines": [{"reference_code": "MUG", "quantity": "2", "unit_price": "100.00"},
                      {"reference_code": "CUP", "quantity": "1", "unit_price": "50.00"},
                      {"reference_code": "BAG", "quantity": "1", "unit_price": "10.00"}],
            "total": "250.00"
        }))
        .unwrap();
        let expected = [
            Some(PriceInForce {
                price: d("89.00"),
                source: "price_list:DIWALI".into(),
            }),
            Some(PriceInForce {
                price: d("50.00"),
                source: LAST_INWARD.into(),
            }),
            None,
        ];
        let (held, errors) = enforce_prices(&request, &expected);
        assert_eq!(held.lines[0].unit_price.to_string(), "89.00");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "lines[0].unit_price");
        assert!(
            errors[0].message.contains("89.00 (price_list:DIWALI)"),
            "{}",
            errors[0].message
        );
        assert_eq!(errors[1].field, "lines[2].unit_price");
    }

    #[test]
    fn a_list_is_checked_before_it_is_stored() {
        let list: NewPriceList = serde_json::from_value(serde_json::json!({
            "code": "X", "name": " ", "valid_from": "2026-11-05T00:00:00Z", "valid_to": "2026-11-01T00:00:00Z",
            "prices": [{"reference_code": "MUG", "price": "1.00"}, {"reference_code": "MUG", "price": "2.00"}]
        }))
        .unwrap();
        let Err(DomainError::Invalid(errors)) = list.check(t(1)) else {
            panic!()
        };
        let codes: Vec<_> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(
            codes,
            ["required", "invalid_validity", "duplicate_reference_code"]
        );
    }
}
