//! A Vendure order, as the connector's Vendure plugin posts it (the fields
//! of the Admin API's `Order` type; money in integer minor units), in
//! canonical form.
//!
//! * `online-reference-no` is the order's `code` (what the customer sees,
//!   unique per Vendure instance; the status pushes find the order by it).
//! * Lines: the variant's id (mapped by the hub) and SKU; the unit price
//!   with tax when the channel's `pricesIncludeTax` is on, else without;
//!   the line's discount is what its promotions and the order's prorated
//!   discounts took off (unit price x quantity - `proratedLinePrice`, with
//!   or without tax alike, so that Vendure's per-line rounding is kept);
//!   its tax is Vendure's own (`proratedLinePriceWithTax` -
//!   `proratedLinePrice`), so Vendure's rounding is kept. A line of
//!   quantity 0 (cancelled in Vendure) is left out.
//! * Shipping: the shipping lines' discounted prices, their tax, the first
//!   method's name, the shipping address.
//! * Surcharges become fee charges.
//! * Payments: a `Settled` or `Authorized` payment is `prepaid`, or `cod`
//!   when its method is a cash-on-delivery one; a declined, cancelled or
//!   failed payment is no payment.

use poshub_connector_sdk::{
    decimal, invalid_input, log, Charge, ChargeKind, Customer, Error, Level, Order, OrderLine,
    Payment, Shipping,
};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::config::OrderSettings;
use crate::json::{id, list, required_text, text};
use crate::money::{amount, optional_amount, shown};

/// The `order` object of an event body in canonical form.
pub fn translate(order: &Value, settings: &OrderSettings) -> Result<Order, Error> {
    let p = settings.precision;
    let code = required_text(order, "code", "the order")?;
    let includes_tax = order
        .get("pricesIncludeTax")
        .and_then(Value::as_bool)
        .ok_or_else(|| invalid_input(format!("order {code} has no pricesIncludeTax")))?;
    let mut lines = Vec::new();
    for (i, line) in list(order, "lines").iter().enumerate() {
        if let Some(line) = order_line(line, i, includes_tax, p)? {
            lines.push(line);
        }
    }
    let total = amount(order, "totalWithTax", "the order", p)?;
    Ok(Order {
        online_reference_no: code.to_string(),
        location: settings.location.clone(),
        customer: customer(order),
        lines,
        shipping: shipping(order, includes_tax, p)?,
        charges: surcharges(order, includes_tax, p)?,
        payments: payments(order, total, settings)?,
        total: shown(total),
        currency: text(order, "currencyCode").map(str::to_string),
        prices_include_tax: Some(includes_tax),
        test: false,
        placed_at: text(order, "orderPlacedAt").map(str::to_string),
        notes: None,
    })
}

fn order_line(
    line: &Value,
    i: usize,
    includes_tax: bool,
    p: u32,
) -> Result<Option<OrderLine>, Error> {
    let at = format!("lines[{i}]");
    let quantity = line
        .get("quantity")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid_input(format!("{at} has no whole quantity")))?;
    if quantity <= 0 {
        log(
            Level::Info,
            &format!("{at} has quantity {quantity} (cancelled in Vendure): left out"),
        );
        return Ok(None);
    }
    let variant = line
        .get("productVariant")
        .filter(|v| v.is_object())
        .ok_or_else(|| invalid_input(format!("{at} has no productVariant")))?;
    let with = |key: &str| format!("{key}WithTax");
    let money = |key: &str| amount(line, key, &at, p);
    let (unit, before, after) = if includes_tax {
        (
            money(&with("unitPrice"))?,
            money(&with("linePrice"))?,
            money(&with("proratedLinePrice"))?,
        )
    } else {
        (
            money("unitPrice")?,
            money("linePrice")?,
            money("proratedLinePrice")?,
        )
    };
    let tax = money("proratedLinePriceWithTax")? - money("proratedLinePrice")?;
    // Vendure rounds each line, not each unit: without tax, 2 x 570.48 is a
    // line of 1140.95. What the line comes to after its discounts is
    // Vendure's figure; the discount is what unit x quantity lacks of it.
    let discount = unit * Decimal::from(quantity) - after;
    if before != unit * Decimal::from(quantity) {
        log(
            Level::Info,
            &format!("{at}: Vendure's line is {before}, {quantity} x {unit} rounded per line"),
        );
    }
    let discount = if discount < Decimal::ZERO {
        log(
            Level::Warn,
            &format!("{at}: the line comes to {after}, more than {quantity} x {unit}; no discount"),
        );
        Decimal::ZERO
    } else {
        discount
    };
    Ok(Some(OrderLine {
        reference_code: None,
        external_id: Some(
            variant
                .get("id")
                .and_then(id)
                .ok_or_else(|| invalid_input(format!("{at}.productVariant has no id")))?,
        ),
        sku: text(variant, "sku").map(str::to_string),
        title: text(variant, "name").map(str::to_string),
        quantity: quantity.to_string(),
        unit_price: shown(unit),
        discount: (discount != Decimal::ZERO).then(|| shown(discount)),
        tax_rate: line.get("taxRate").and_then(decimal),
        tax_amount: Some(shown(tax)),
    }))
}

/// The customer: Vendure's customer record, with the shipping address's
/// name and phone where the customer has none.
fn customer(order: &Value) -> Option<Customer> {
    let who = order.get("customer").filter(|c| c.is_object());
    let shipping = order.get("shippingAddress").filter(|a| a.is_object());
    let from_customer = who.and_then(|c| {
        let name = [text(c, "firstName"), text(c, "lastName")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!name.is_empty()).then_some(name)
    });
    let name = from_customer.or_else(|| {
        shipping
            .and_then(|a| text(a, "fullName"))
            .map(str::to_string)
    });
    let phone = who
        .and_then(|c| text(c, "phoneNumber"))
        .or_else(|| shipping.and_then(|a| text(a, "phoneNumber")))
        .map(str::to_string);
    let email = who
        .and_then(|c| text(c, "emailAddress"))
        .map(str::to_string);
    let address = address(order.get("billingAddress")).or_else(|| address(shipping));
    if name.is_none() && phone.is_none() && email.is_none() && address.is_none() {
        return None;
    }
    Some(Customer {
        name,
        phone,
        email,
        address,
    })
}

/// An `OrderAddress` as JSON text without its empty fields, or none when
/// it has no street.
fn address(value: Option<&Value>) -> Option<String> {
    let object = value?.as_object()?;
    text(value?, "streetLine1")?;
    let kept: Map<String, Value> = object
        .iter()
        .filter(|(k, v)| {
            !k.starts_with("__")
                && match v {
                    Value::String(s) => !s.trim().is_empty(),
                    Value::Null => false,
                    Value::Object(o) => !o.is_empty(),
                    Value::Array(a) => !a.is_empty(),
                    _ => true,
                }
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(Value::Object(kept).to_string())
}

fn shipping(order: &Value, includes_tax: bool, p: u32) -> Result<Option<Shipping>, Error> {
    let lines = list(order, "shippingLines");
    if lines.is_empty() {
        return Ok(None);
    }
    let (mut charged, mut tax) = (Decimal::ZERO, Decimal::ZERO);
    let mut method = None;
    for (i, line) in lines.iter().enumerate() {
        let at = format!("shippingLines[{i}]");
        let without = amount(line, "discountedPrice", &at, p)?;
        let with = amount(line, "discountedPriceWithTax", &at, p)?;
        charged += if includes_tax { with } else { without };
        tax += with - without;
        if method.is_none() {
            method = line
                .get("shippingMethod")
                .and_then(|m| text(m, "name").or_else(|| text(m, "code")))
                .map(str::to_string);
        }
    }
    Ok(Some(Shipping {
        amount: shown(charged),
        tax: (tax != Decimal::ZERO).then(|| shown(tax)),
        method,
        address: address(order.get("shippingAddress")),
    }))
}

fn surcharges(order: &Value, includes_tax: bool, p: u32) -> Result<Vec<Charge>, Error> {
    list(order, "surcharges")
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = format!("surcharges[{i}]");
            let without = amount(s, "price", &at, p)?;
            let with = amount(s, "priceWithTax", &at, p)?;
            Ok(Charge {
                kind: ChargeKind::Fee,
                title: text(s, "description").map(str::to_string),
                amount: shown(if includes_tax { with } else { without }),
                tax: (with != without).then(|| shown(with - without)),
            })
        })
        .collect()
}

/// Settled and authorized payments; a free order has none.
fn payments(
    order: &Value,
    total: Decimal,
    settings: &OrderSettings,
) -> Result<Vec<Payment>, Error> {
    if total == Decimal::ZERO {
        return Ok(vec![]);
    }
    let mut payments = Vec::new();
    for (i, payment) in list(order, "payments").iter().enumerate() {
        let at = format!("payments[{i}]");
        let state = text(payment, "state").unwrap_or("");
        if !matches!(state, "Settled" | "Authorized") {
            log(
                Level::Info,
                &format!("{at} is {state:?}: nothing was paid, no payment recorded"),
            );
            continue;
        }
        let method = text(payment, "method").unwrap_or("");
        let cod = settings.cod_methods.contains(&method.to_lowercase());
        let Some(paid) = optional_amount(payment, "amount", &at, settings.precision)? else {
            return Err(invalid_input(format!("{at} has no amount")));
        };
        payments.push(Payment {
            kind: if cod { "cod" } else { "prepaid" }.to_string(),
            amount: shown(paid),
            reference: text(payment, "transactionId").map(str::to_string),
        });
    }
    Ok(payments)
}
