//! What a store (channel) is allowed and shown beyond its locations: where a
//! group-sourced order takes its stock from, which payments it takes (the
//! payment policy), how much of the shop floor's stock it may publish (the
//! stock buffer), and whether order prices must match the price in force.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::codes::{Code, PaymentType};
use crate::decimal::{money_string, Amount, Quantity, Rate};
use crate::error::{DomainError, FieldError, Problems};
use crate::order::{CatalogEntry, OrderRequest, OrderRules, Payment, ValidOrder};
use crate::pricing::{enforce_prices, PriceInForce};

/// How an order of a store that sells from a location group is sourced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sourcing {
    /// The group's member order: the first member that has stock gives first.
    #[default]
    Priority,
    /// The member with the most available stock of the line's variant gives
    /// first (ties: the group's member order).
    MostStock,
}

impl Sourcing {
    pub fn as_str(self) -> &'static str {
        match self {
            Sourcing::Priority => "priority",
            Sourcing::MostStock => "most_stock",
        }
    }

    pub fn parse(s: &str) -> Option<Sourcing> {
        match s {
            "priority" => Some(Sourcing::Priority),
            "most_stock" => Some(Sourcing::MostStock),
            _ => None,
        }
    }
}

/// Which payments a store takes beyond its payment types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentPolicy {
    /// The largest order total accepted with a pay-on-delivery (`cod`)
    /// payment; no cap when null.
    #[serde(default)]
    pub cod_limit: Option<Amount>,
    /// Whether an order may be paid partly in advance and the rest on
    /// delivery. Defaults to true.
    #[serde(default = "yes")]
    pub allow_partial_prepayment: bool,
}

fn yes() -> bool {
    true
}

impl Default for PaymentPolicy {
    fn default() -> Self {
        PaymentPolicy {
            cod_limit: None,
            allow_partial_prepayment: true,
        }
    }
}

impl PaymentPolicy {
    /// The policy's problems with an order's payments (field paths in the
    /// order body).
    pub fn check_order(&self, payments: &[Payment], total: Decimal) -> Vec<FieldError> {
        let mut out = Vec::new();
        let cod = payments.iter().position(|p| p.kind.is_pay_on_delivery());
        if let (Some(i), Some(limit)) = (cod, self.cod_limit) {
            if total > limit.value() {
                out.push(over_limit(format!("payments[{i}].type"), limit, total));
            }
        }
        let prepaid = payments.iter().any(|p| !p.kind.is_pay_on_delivery());
        if cod.is_some() && prepaid && !self.allow_partial_prepayment {
            out.push(FieldError::new(
                "payments",
                "partial_prepayment_not_allowed",
                format!(
                    "this store takes an order either paid in full in advance or paid in full on delivery (`{}`), not both",
                    PaymentType::CASH_ON_DELIVERY
                ),
            ));
        }
        out
    }

    /// Refuses a pay-on-delivery bill for a total above the cap.
    pub fn check_bill(
        &self,
        payment_type: &PaymentType,
        total: Decimal,
    ) -> Result<(), DomainError> {
        match self.cod_limit {
            Some(limit) if payment_type.is_pay_on_delivery() && total > limit.value() => Err(
                DomainError::Invalid(vec![over_limit("payment_type".into(), limit, total)]),
            ),
            _ => Ok(()),
        }
    }
}

fn over_limit(field: String, limit: Amount, total: Decimal) -> FieldError {
    FieldError::new(
        field,
        "cod_over_limit",
        format!(
            "pay on delivery is accepted for totals up to {limit}; this order's total is {}",
            money_string(total)
        ),
    )
}

/// Applies the order rules and the store's own: its payment policy and,
/// when `prices` is given (the store enforces prices), the price in force
/// of each line, against which the total is then checked. Every problem is
/// reported at once.
pub fn validate_order(
    request: &OrderRequest,
    catalog: &[Option<CatalogEntry>],
    rules: &OrderRules,
    policy: &PaymentPolicy,
    prices: Option<&[Option<PriceInForce>]>,
) -> Result<ValidOrder, DomainError> {
    let (held, mut extra) = match prices {
        Some(expected) => {
            let (held, errors) = enforce_prices(request, expected);
            (Some(held), errors)
        }
        None => (None, Vec::new()),
    };
    extra.extend(policy.check_order(&request.payments, request.total.value()));
    match (
        held.as_ref().unwrap_or(request).validate(catalog, rules),
        extra.is_empty(),
    ) {
        (Ok(valid), true) => Ok(valid),
        (Ok(_), false) => Err(DomainError::Invalid(extra)),
        (Err(DomainError::Invalid(mut errors)), _) => {
            errors.extend(extra);
            Err(DomainError::Invalid(errors))
        }
        (Err(other), _) => Err(other),
    }
}

/// Stock held back from a store so that it cannot sell the shop floor's
/// last units: the store is shown and may reserve
/// `available - units - ceil(percent% of available)`, at least 0, at most `max`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StockBuffer {
    /// Units held back at each location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<Quantity>,
    /// Percentage of each location's available stock held back, rounded up
    /// to a whole unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<Rate>,
    /// The most a store is shown at one location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Quantity>,
}

impl StockBuffer {
    /// What a store may see and take of `available` at one location.
    pub fn publish(&self, available: Decimal) -> Decimal {
        let available = available.max(Decimal::ZERO);
        let units = self.units.map_or(Decimal::ZERO, Quantity::value);
        // Rounded up: the shop floor keeps the fraction of a unit.
        let share = self.percent.map_or(Decimal::ZERO, |p| {
            (available * p.value() / Decimal::ONE_HUNDRED).ceil()
        });
        let shown = (available - units - share).max(Decimal::ZERO);
        match self.max {
            Some(max) => shown.min(max.value()),
            None => shown,
        }
    }
}

/// What a store publishes of `available` at one location: all of it without
/// a buffer (as before buffers existed), else what the buffer leaves.
pub fn publish(buffer: Option<&StockBuffer>, available: Decimal) -> Decimal {
    match buffer {
        Some(b) => b.publish(available),
        None => available,
    }
}

/// A store's channel settings as read back (part of the store JSON).
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelSettings {
    /// The location group an order naming no location (or the group's
    /// code) is sourced from.
    pub sell_from_group: Option<String>,
    pub sourcing: Sourcing,
    pub payment_policy: PaymentPolicy,
    pub stock_buffer: Option<StockBuffer>,
    /// Whether each order line's `unit_price` must equal the price in force.
    pub enforce_prices: bool,
}

/// A change to a store (admin `PATCH /stores/{code}`): fields left out keep
/// their value; `null` clears `sell_from_group` and `stock_buffer`; objects
/// are replaced whole.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StorePatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub payment_types: Option<Vec<PaymentType>>,
    #[serde(default)]
    pub allow_backorder: Option<bool>,
    #[serde(default)]
    pub prices_include_tax: Option<bool>,
    /// The store's currency from now on (its orders keep theirs).
    #[serde(default)]
    pub currency: Option<crate::currency::Currency>,
    #[serde(default)]
    pub accept_test_orders: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub sell_from_group: Option<Option<Code>>,
    #[serde(default)]
    pub sourcing: Option<Sourcing>,
    #[serde(default)]
    pub payment_policy: Option<PaymentPolicy>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<StockBuffer>))]
    pub stock_buffer: Option<Option<StockBuffer>>,
    #[serde(default)]
    pub enforce_prices: Option<bool>,
    /// Switch the store on or off.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A field that is present (possibly `null`): `Some(None)` is an explicit null.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl StorePatch {
    pub fn check(&self) -> Result<(), DomainError> {
        let mut p = Problems::default();
        if self.name.as_ref().is_some_and(|n| n.trim().is_empty()) {
            p.push("name", "required", "a store needs a name");
        }
        if self.payment_types.as_ref().is_some_and(Vec::is_empty) {
            p.push(
                "payment_types",
                "required",
                "a store accepts at least one payment type",
            );
        }
        p.into_result()
    }

    /// True when the change can alter what the store is shown or pushed.
    pub fn changes_what_is_published(&self) -> bool {
        self.stock_buffer.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn pay(kind: &str, amount: &str) -> Payment {
        Payment {
            kind: PaymentType::parse(kind).unwrap(),
            amount: Amount::parse(amount).unwrap(),
            reference: None,
        }
    }

    #[test]
    fn a_buffer_holds_back_units_and_a_rounded_up_share() {
        let b = StockBuffer {
            units: Some(Quantity::parse("2").unwrap()),
            ..Default::default()
        };
        assert_eq!(b.publish(d("10")), d("8"));
        assert_eq!(b.publish(d("1")), d("0"), "never below zero");
        assert_eq!(b.publish(d("-3")), d("0"));
        let b = StockBuffer {
            percent: Some(Rate::parse("10").unwrap()),
            ..Default::default()
        };
        // 10% of 15 is 1.5, held back as 2 whole units.
        assert_eq!(b.publish(d("15")), d("13"));
        assert_eq!(b.publish(d("10")), d("9"));
        assert_eq!(b.publish(d("1")), d("0"));
        let b = StockBuffer {
            units: Some(Quantity::parse("1").unwrap()),
            percent: Some(Rate::parse("10").unwrap()),
            max: Some(Quantity::parse("50").unwrap()),
        };
        assert_eq!(b.publish(d("100")), d("50"));
        assert_eq!(b.publish(d("40")), d("35"));
        assert_eq!(publish(None, d("-2")), d("-2"), "no buffer: unchanged");
    }

    #[test]
    fn payment_policy_rules_each_have_a_code() {
        let policy = PaymentPolicy {
            cod_limit: Some(Amount::parse("5000.00").unwrap()),
            allow_partial_prepayment: false,
        };
        let errors = policy.check_order(&[pay("cod", "6000.00")], d("6000.00"));
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code.as_str()),
            ("payments[0].type", "cod_over_limit")
        );
        assert!(policy
            .check_order(&[pay("cod", "5000.00")], d("5000.00"))
            .is_empty());
        assert!(policy
            .check_order(&[pay("prepaid", "6000.00")], d("6000.00"))
            .is_empty());
        let errors = policy.check_order(
            &[pay("prepaid", "100.00"), pay("cod", "100.00")],
            d("200.00"),
        );
        assert_eq!(errors[0].code, "partial_prepayment_not_allowed");
        assert!(PaymentPolicy::default()
            .check_order(
                &[pay("prepaid", "100.00"), pay("cod", "9100.00")],
                d("9200.00")
            )
            .is_empty());
        let cod = PaymentType::parse("cod").unwrap();
        assert!(policy.check_bill(&cod, d("5000.01")).is_err());
        assert!(policy
            .check_bill(&PaymentType::parse("prepaid").unwrap(), d("9000"))
            .is_ok());
    }

    #[test]
    fn channel_rules_join_the_order_rules() {
        use crate::decimal::Rate as R;
        use crate::phone::CountryCode;
        let request: OrderRequest = serde_json::from_value(serde_json::json!({
            "online_reference_no": "W-1",
            "lines": [{"reference_code": "MUG", "quantity": "2", "unit_price": "100.00"}],
            "payments": [{"type": "cod", "amount": "200.00"}],
            "total": "200.00"
        }))
        .unwrap();
        let catalog = [Some(CatalogEntry {
            variant_id: 1,
            item_code: "MUG".into(),
            tax_rate: R::parse("12").unwrap(),
        })];
        let types = [PaymentType::parse("cod").unwrap()];
        let cc = CountryCode::default();
        let rules = OrderRules {
            payment_types: &types,
            prices_include_tax: true,
            default_country: &cc,
            currency: crate::currency::Currency::DEFAULT,
            accept_test_orders: false,
        };
        let capped = PaymentPolicy {
            cod_limit: Some(Amount::parse("150.00").unwrap()),
            ..Default::default()
        };
        let err = validate_order(&request, &catalog, &rules, &capped, None).unwrap_err();
        assert!(err.to_string().contains("up to 150.00"), "{err}");
        // A price list at 89.00: the line is named, and the total is checked
        // against 178.00.
        let expected = [Some(PriceInForce {
            price: d("89.00"),
            source: "price_list:DIWALI".into(),
        })];
        let Err(DomainError::Invalid(errors)) = validate_order(
            &request,
            &catalog,
            &rules,
            &PaymentPolicy::default(),
            Some(&expected),
        ) else {
            panic!()
        };
        let codes: Vec<_> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["total_mismatch", "price_mismatch"]);
        let ok = validate_order(&request, &catalog, &rules, &PaymentPolicy::default(), None);
        assert_eq!(ok.unwrap().lines[0].unit_price, d("100.00"));
    }

    #[test]
    fn a_patch_tells_null_from_absent() {
        let p: StorePatch =
            serde_json::from_str(r#"{"sell_from_group": null, "enforce_prices": true}"#).unwrap();
        assert_eq!(p.sell_from_group, Some(None));
        assert_eq!(p.stock_buffer, None);
        assert_eq!(p.enforce_prices, Some(true));
        let p: StorePatch = serde_json::from_str(r#"{"stock_buffer": {"units": "2"}}"#).unwrap();
        assert!(p.changes_what_is_published());
        assert!(serde_json::from_str::<StorePatch>(r#"{"colour": 1}"#).is_err());
        let policy: PaymentPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(policy, PaymentPolicy::default());
    }
}
