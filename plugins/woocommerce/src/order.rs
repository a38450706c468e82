//! A WooCommerce order as the hub's canonical order.
//!
//! WooCommerce's REST API (and its webhooks, which carry the same JSON)
//! writes every line, shipping and fee amount *without* tax, whatever the
//! shop's `prices_include_tax` (which only records how the merchant entered
//! prices); the tax sits beside each amount. The order `total` is the lines'
//! totals and taxes, plus shipping and its tax, plus the fees and theirs
//! (coupons are already inside the line totals). So the order is sent with
//! `prices-include-tax: false` and the storefront's own tax amounts, and
//! the hub books them as they are, whatever the store's own setting.
//!
//! - `online-reference-no` is the order `id`; notes carry the display
//!   `number`, coupon codes and the customer's note; `currency` is the
//!   order's.
//! - Lines come from `line_items`: `sku`, `external-id` (the variation id,
//!   else the product id), `title` (`name`), `quantity`; `unit-price` is
//!   `subtotal / quantity` (before discounts), `discount` is `subtotal -
//!   total` (every coupon's share of the line), `tax-amount` the line's
//!   `total_tax` and `tax-rate` the line's percentage. Where the shop rounds
//!   tax once on the subtotal (WooCommerce's "round tax at subtotal level"),
//!   the lines' rounded taxes can miss the order's `cart_tax` by a cent or
//!   so: the difference is spread over the lines, a minor unit each, so that
//!   the booked taxes add up to what the customer was charged.
//! - Shipping: `shipping_total` with `shipping_tax` as its tax.
//! - Fees (`fee_lines`) are charges of kind `fee`, with their tax; a
//!   negative fee (a discount) stays negative.
//! - Payments: one payment of the whole `total` whose kind follows
//!   `payment_method` (see [`payments`]).

use poshub_connector_sdk::*;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

use crate::amounts::{money_text, parse, parse_amount, parse_or_zero, plain_text, HUB_PLACES};
use crate::payload::{field, id_text, text, LineItem, WcOrder};

/// How far a declared tax rate may miss a line's tax (WooCommerce may round
/// tax on the order's subtotal rather than per line).
const CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// How far an implied tax rate may miss a line's tax: it must give the tax
/// to the cent.
const HALF_CENT: Decimal = Decimal::from_parts(5, 0, 0, false, 3);

/// A line as translated, with its tax as a number (for the rounding pass).
struct Line {
    line: OrderLine,
    tax: Decimal,
}

/// Translates an order body of `order.created` / `order.updated`.
pub fn translate(ctx: &CallContext, o: &WcOrder) -> Result<Order, Error> {
    let id = order_id(o)?;
    let at = format!("order {id}");
    let mut lines = o
        .line_items
        .iter()
        .enumerate()
        .map(|(i, item)| line(o, &at, i + 1, item))
        .collect::<Result<Vec<_>, _>>()?;
    let total = parse_amount(&o.total, &format!("{at}: total"))?;
    let charges = fees(o, &at)?;
    settle_line_taxes(o, &at, &mut lines, &charges, minor_unit(&o.total))?;
    Ok(Order {
        location: config(ctx, "location").map(str::to_string),
        customer: customer(o),
        lines: lines.into_iter().map(|l| l.line).collect(),
        shipping: shipping(o, &at)?,
        charges: charges.into_iter().map(|(charge, _)| charge).collect(),
        payments: payments(o, total),
        total: money_text(total),
        currency: text(o.currency.as_deref()).map(|c| c.to_ascii_uppercase()),
        prices_include_tax: Some(false),
        test: false,
        placed_at: placed_at(o),
        notes: Some(notes(o, &id)),
        online_reference_no: id,
    })
}

/// The currency's smallest step as the order writes its `total`: `0.01`
/// for `"45.00"`, `1` for a yen shop's `"1050"`.
fn minor_unit(total: &Value) -> Decimal {
    let written = match total {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let places = written
        .split_once('.')
        .map_or(0, |(_, frac)| frac.len() as u32);
    Decimal::new(1, places.min(HUB_PLACES))
}

/// Where the shop rounds tax once on the subtotal, each line's `total_tax`
/// is rounded on its own and their sum can miss the order's tax on lines
/// (`cart_tax` less the fees' taxes) by a rounding step per line. That
/// difference is spread over the taxed lines, one `unit` at a time from the
/// largest tax down, so that the booked taxes are what the customer paid. A
/// larger difference is not rounding: the lines are left as they are (the
/// hub then refuses the order if it does not add up).
fn settle_line_taxes(
    o: &WcOrder,
    at: &str,
    lines: &mut [Line],
    charges: &[(Charge, Decimal)],
    unit: Decimal,
) -> Result<(), Error> {
    if o.cart_tax.is_null() || lines.is_empty() {
        return Ok(());
    }
    let too_large = || invalid_input(format!("{at}: taxes are too large"));
    let cart_tax = parse_or_zero(&o.cart_tax, &format!("{at}: cart_tax"))?;
    let fee_tax = charges
        .iter()
        .try_fold(Decimal::ZERO, |sum, (_, tax)| sum.checked_add(*tax))
        .ok_or_else(too_large)?;
    let booked = lines
        .iter()
        .try_fold(Decimal::ZERO, |sum, l| sum.checked_add(l.tax))
        .ok_or_else(too_large)?;
    let miss = cart_tax
        .checked_sub(fee_tax)
        .and_then(|target| target.checked_sub(booked))
        .ok_or_else(too_large)?;
    let mut order: Vec<usize> = (0..lines.len())
        .filter(|i| !lines[*i].tax.is_zero())
        .collect();
    if miss.is_zero() || order.is_empty() || miss.abs() > unit * Decimal::from(lines.len()) {
        return Ok(());
    }
    // A rounding difference is a whole number of rounding steps; anything
    // else (0.90 when the order's total, and so its unit, is missing) is
    // not one, and is left for the hub's check to refuse.
    let steps = (miss / unit).abs();
    if !steps.fract().is_zero() {
        return Ok(());
    }
    order.sort_by(|a, b| lines[*b].tax.cmp(&lines[*a].tax));
    let step = if miss.is_sign_negative() { -unit } else { unit };
    // At most one step per line: `miss` is within `unit` x lines.
    let steps = rust_decimal::prelude::ToPrimitive::to_usize(&steps).unwrap_or(0);
    for i in order.iter().cycle().take(steps) {
        let line = &mut lines[*i];
        line.tax += step;
        line.line.tax_amount = Some(money_text(line.tax));
    }
    log(
        Level::Info,
        &format!(
            "{at}: the lines' rounded taxes missed the order's tax by {miss}; spread over the lines (the shop rounds tax on the subtotal)"
        ),
    );
    Ok(())
}

/// The order's `id` as text: the key the hub files the order under.
pub fn order_id(o: &WcOrder) -> Result<String, Error> {
    if o.id.is_null() && o.legacy_envelope.is_some() {
        return Err(invalid_input(
            "this is a legacy REST API payload ({\"order\": ...}): set the webhook's API version \
             to \"WP REST API Integration v3\" in WooCommerce",
        ));
    }
    id_text(&o.id)
        .ok_or_else(|| invalid_input(format!("order `id` {} is not a WooCommerce order id", o.id)))
}

/// One product line; `n` counts from 1 for messages.
fn line(o: &WcOrder, at: &str, n: usize, item: &LineItem) -> Result<Line, Error> {
    let title = text(item.name.as_deref());
    let what = match &title {
        Some(t) => format!("{at}, line {n} ({t})"),
        None => format!("{at}, line {n}"),
    };
    let quantity = parse(&item.quantity, &format!("{what}: quantity"))?;
    if quantity <= Decimal::ZERO {
        return Err(invalid_input(format!(
            "{what}: quantity {quantity} is not positive"
        )));
    }
    let subtotal = parse_amount(&item.subtotal, &format!("{what}: subtotal"))?;
    let total = parse_amount(&item.total, &format!("{what}: total"))?;
    let (unit_price, discount) = price_and_discount(quantity, subtotal, total)
        .ok_or_else(|| invalid_input(format!("{what}: amounts are too large")))?;
    let tax_rate = tax_rate(o, item, &what, subtotal, total)?;
    let tax = parse_or_zero(&item.total_tax, &format!("{what}: total_tax"))?;
    if tax.is_sign_negative() && !tax.is_zero() {
        return Err(invalid_input(format!(
            "{what}: total_tax {tax} is negative"
        )));
    }
    Ok(Line {
        line: OrderLine {
            reference_code: None,
            external_id: id_text(&item.variation_id).or_else(|| id_text(&item.product_id)),
            sku: text(item.sku.as_deref()),
            title,
            quantity: plain_text(quantity),
            unit_price: money_text(unit_price),
            discount: Some(money_text(discount)),
            tax_rate: Some(plain_text(tax_rate)),
            tax_amount: Some(money_text(tax)),
        },
        tax,
    })
}

/// The unit price before discounts and the line's discount.
///
/// The unit price is `subtotal / quantity`, rounded to the hub's four places
/// when it does not divide exactly (`10.00 / 1.5` -> `6.6667`); the discount
/// is `subtotal - total`, capped at the rounded gross so that a fully
/// discounted line stays at zero. A line whose total is above its subtotal
/// (raised by hand after checkout) is priced at its total, without discount.
fn price_and_discount(
    quantity: Decimal,
    subtotal: Decimal,
    total: Decimal,
) -> Option<(Decimal, Decimal)> {
    let before = subtotal.max(total);
    let unit = before
        .checked_div(quantity)?
        .round_dp_with_strategy(HUB_PLACES, RoundingStrategy::MidpointAwayFromZero);
    let gross = unit
        .checked_mul(quantity)?
        .round_dp_with_strategy(HUB_PLACES, RoundingStrategy::ToZero);
    let discount = before.checked_sub(total)?.min(gross);
    Some((unit, discount))
}

/// The line's tax percentage.
///
/// The rate the order's `tax_lines` declare (`rate_percent`, matched through
/// the line's `taxes[].id` = `rate_id`; non-compound rates add up) when it
/// gives the line's tax; otherwise the rate the line's own amounts imply
/// (`subtotal_tax / subtotal`, or `total_tax / total` for a line without a
/// subtotal). `0` when the line carries no tax.
fn tax_rate(
    o: &WcOrder,
    item: &LineItem,
    what: &str,
    subtotal: Decimal,
    total: Decimal,
) -> Result<Decimal, Error> {
    let (base, tax) = if subtotal.is_zero() {
        (
            total,
            parse_or_zero(&item.total_tax, &format!("{what}: total_tax"))?,
        )
    } else {
        let tax = parse_or_zero(&item.subtotal_tax, &format!("{what}: subtotal_tax"))?;
        (subtotal, tax)
    };
    if tax.is_zero() {
        return Ok(Decimal::ZERO);
    }
    let out_of_range = || {
        invalid_input(format!(
            "{what}: tax {tax} on {base} is not a percentage between 0 and 100"
        ))
    };
    if base.is_zero() || tax.is_sign_negative() {
        return Err(out_of_range());
    }
    if let Some(rate) = declared_rate(o, item) {
        if gives_tax(base, tax, rate, CENT) {
            return Ok(rate);
        }
        log(
            Level::Warn,
            &format!(
                "{what}: the order's tax rate {rate}% does not give the line's tax {tax} on {base}; using the rate the line's amounts imply"
            ),
        );
    }
    implied_rate(base, tax)
        .filter(|rate| *rate <= Decimal::ONE_HUNDRED)
        .ok_or_else(out_of_range)
}

/// The sum of the rates the order's tax lines declare for this line, when
/// every tax applied to the line has a known, non-compound rate.
fn declared_rate(o: &WcOrder, item: &LineItem) -> Option<Decimal> {
    let applied = item
        .taxes
        .iter()
        .filter(|t| !is_zero(&t.subtotal) || !is_zero(&t.total));
    let mut sum = None;
    for tax in applied {
        let id = id_text(&tax.id)?;
        let rate = o
            .tax_lines
            .iter()
            .find(|l| id_text(&l.rate_id).as_deref() == Some(id.as_str()))?;
        if rate.compound == Some(true) {
            return None;
        }
        let percent = parse(&rate.rate_percent, "rate_percent").ok()?;
        sum = Some(sum.unwrap_or(Decimal::ZERO).checked_add(percent)?);
    }
    sum
}

/// The simplest rate (fewest decimal places, at most the hub's four) that
/// gives `tax` on `base` to the cent: `0.45` on `6.00` -> `7.5`, `1.52` on
/// `8.47` -> `18`.
fn implied_rate(base: Decimal, tax: Decimal) -> Option<Decimal> {
    let exact = tax.checked_mul(Decimal::ONE_HUNDRED)?.checked_div(base)?;
    let rounded =
        |places| exact.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    (0..=HUB_PLACES)
        .map(rounded)
        .find(|rate| gives_tax(base, tax, *rate, HALF_CENT))
        .or(Some(rounded(HUB_PLACES)))
}

/// Whether `rate`% of `base` is `tax` within `tolerance`.
fn gives_tax(base: Decimal, tax: Decimal, rate: Decimal, tolerance: Decimal) -> bool {
    base.checked_mul(rate)
        .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
        .and_then(|x| x.checked_sub(tax))
        .is_some_and(|miss| miss.abs() <= tolerance)
}

/// Zero, absent or empty (a tax WooCommerce lists but did not apply).
fn is_zero(value: &Value) -> bool {
    parse_or_zero(value, "tax").is_ok_and(|d| d.is_zero())
}

/// The order's fee lines as charges, each with its tax (as a number too,
/// for the rounding pass). A negative fee's negative tax is folded into its
/// amount: a charge's tax is never negative.
fn fees(o: &WcOrder, at: &str) -> Result<Vec<(Charge, Decimal)>, Error> {
    o.fee_lines
        .iter()
        .enumerate()
        .map(|(i, fee)| {
            let name = text(fee.name.as_deref());
            let what = match &name {
                Some(n) => format!("{at}, fee {} ({n})", i + 1),
                None => format!("{at}, fee {}", i + 1),
            };
            let total = parse_or_zero(&fee.total, &format!("{what}: total"))?;
            let tax = parse_or_zero(&fee.total_tax, &format!("{what}: total_tax"))?;
            let (amount, charged_tax) = if tax.is_sign_negative() {
                let gross = total
                    .checked_add(tax)
                    .ok_or_else(|| invalid_input(format!("{what}: amounts are too large")))?;
                (gross, None)
            } else {
                (total, (!tax.is_zero()).then(|| money_text(tax)))
            };
            let charge = Charge {
                kind: ChargeKind::Fee,
                title: name,
                amount: money_text(amount),
                tax: charged_tax,
            };
            Ok((charge, tax))
        })
        .collect()
}

/// Shipping: `shipping_total` with `shipping_tax` as its tax, the methods'
/// titles, the shipping address. None when there is nothing to say.
fn shipping(o: &WcOrder, at: &str) -> Result<Option<Shipping>, Error> {
    let amount = parse_amount(&o.shipping_total, &format!("{at}: shipping_total"))?;
    let tax = parse_amount(&o.shipping_tax, &format!("{at}: shipping_tax"))?;
    let titles: Vec<String> = o
        .shipping_lines
        .iter()
        .filter_map(|l| text(l.method_title.as_deref()))
        .collect();
    let method = (!titles.is_empty()).then(|| titles.join(", "));
    let address = address_text(&o.shipping);
    if amount.is_zero() && tax.is_zero() && method.is_none() && address.is_none() {
        return Ok(None);
    }
    Ok(Some(Shipping {
        amount: money_text(amount),
        tax: (!tax.is_zero()).then(|| money_text(tax)),
        method,
        address,
    }))
}

/// The customer: billing name (else shipping name), the first usable of the
/// billing and shipping phones, billing e-mail, billing address.
fn customer(o: &WcOrder) -> Option<Customer> {
    let phone = |a: &Value| a.get("phone").and_then(Value::as_str).map(str::to_string);
    let (billing_phone, shipping_phone) = (phone(&o.billing), phone(&o.shipping));
    let customer = Customer {
        name: full_name(&o.billing).or_else(|| full_name(&o.shipping)),
        phone: phone_hint([billing_phone.as_deref(), shipping_phone.as_deref()]),
        email: field(&o.billing, "email"),
        address: address_text(&o.billing),
    };
    let empty = customer.name.is_none()
        && customer.phone.is_none()
        && customer.email.is_none()
        && customer.address.is_none();
    (!empty).then_some(customer)
}

/// `first_name last_name` of an address.
fn full_name(address: &Value) -> Option<String> {
    let parts: Vec<String> = ["first_name", "last_name"]
        .iter()
        .filter_map(|k| field(address, k))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// An address object as JSON text; None when it is absent or every field is
/// empty (WooCommerce sends an all-empty shipping address for orders that
/// ship nothing).
fn address_text(address: &Value) -> Option<String> {
    let object = address.as_object()?;
    let filled = object
        .values()
        .any(|v| v.as_str().is_some_and(|s| !s.trim().is_empty()));
    filled.then(|| address.to_string())
}

/// One payment of the whole total, its kind by `payment_method`:
///
/// | `payment_method` | kind | reference |
/// | --- | --- | --- |
/// | `cod` | `cod` (due on delivery) | none |
/// | `bacs` | `bank_transfer` | `payment_method_title` |
/// | `cheque` | `cheque` | `payment_method_title` |
/// | anything else | `prepaid` | `transaction_id`, else `payment_method_title` |
///
/// A free order (total 0) has no payment.
fn payments(o: &WcOrder, total: Decimal) -> Vec<Payment> {
    if total.is_zero() {
        return vec![];
    }
    let title = text(o.payment_method_title.as_deref());
    let method = text(o.payment_method.as_deref()).unwrap_or_default();
    let (kind, reference) = match method.as_str() {
        "cod" => ("cod", None),
        "bacs" => ("bank_transfer", title),
        "cheque" => ("cheque", title),
        _ => ("prepaid", text(o.transaction_id.as_deref()).or(title)),
    };
    vec![Payment {
        kind: kind.to_string(),
        amount: money_text(total),
        reference,
    }]
}

/// When the order was placed: `date_created_gmt` (UTC without an offset)
/// with `Z`; else `date_created` only if it carries an offset, since it is
/// the shop's local time and would otherwise be read as UTC.
fn placed_at(o: &WcOrder) -> Option<String> {
    if let Some(gmt) = text(o.date_created_gmt.as_deref()).filter(|t| is_date_time(t)) {
        return Some(if has_offset(&gmt) {
            gmt
        } else {
            format!("{gmt}Z")
        });
    }
    let local = text(o.date_created.as_deref())?;
    if is_date_time(&local) && has_offset(&local) {
        return Some(local);
    }
    log(
        Level::Warn,
        &format!("no UTC creation time (date_created `{local}` has no offset): placed-at left out"),
    );
    None
}

/// `YYYY-MM-DDTHH:MM:SS`, possibly followed by fractions or an offset.
fn is_date_time(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |range: std::ops::Range<usize>| range.into_iter().all(|i| b[i].is_ascii_digit());
    b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
}

/// Whether the time part ends in `Z` or carries `+hh:mm` / `-hh:mm`.
fn has_offset(t: &str) -> bool {
    let time = t.get(11..).unwrap_or("");
    time.ends_with(['Z', 'z']) || time.contains(['+', '-'])
}

/// Notes for the merchant: the display number, coupons and the customer's
/// note, one per line.
fn notes(o: &WcOrder, id: &str) -> String {
    let number = match &o.number {
        Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => id.to_string(),
    };
    let mut notes = vec![format!("WooCommerce order #{number}")];
    let coupons: Vec<String> = o
        .coupon_lines
        .iter()
        .filter_map(|c| text(c.code.as_deref()))
        .collect();
    if !coupons.is_empty() {
        notes.push(format!("Coupons: {}", coupons.join(", ")));
    }
    if let Some(note) = text(o.customer_note.as_deref()) {
        notes.push(format!("Customer note: {note}"));
    }
    notes.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(raw: &str) -> Decimal {
        raw.parse().unwrap()
    }

    #[test]
    fn implied_rate_is_the_simplest_that_gives_the_tax() {
        assert_eq!(implied_rate(d("6.00"), d("0.45")), Some(d("7.5")));
        assert_eq!(implied_rate(d("8.47"), d("1.52")), Some(d("18")));
        assert_eq!(implied_rate(d("15.00"), d("2.70")), Some(d("18")));
        // 1.234% of 1000.00 needs three places.
        assert_eq!(implied_rate(d("1000.00"), d("12.34")), Some(d("1.234")));
    }

    #[test]
    fn unit_price_and_discount() {
        let split = |q, s, t| price_and_discount(d(q), d(s), d(t)).unwrap();
        assert_eq!(split("2", "50.00", "30.00"), (d("25"), d("20")));
        // Not exact: four places, and a fully discounted line stays at zero.
        assert_eq!(split("1.5", "10.00", "0.00"), (d("6.6667"), d("10")));
        assert_eq!(split("3", "10.00", "0.00"), (d("3.3333"), d("9.9999")));
        // Raised after checkout: priced at the total, no discount.
        assert_eq!(split("1", "10.00", "12.00"), (d("12"), d("0")));
    }

    #[test]
    fn creation_times() {
        assert!(is_date_time("2017-03-22T19:28:02"));
        assert!(!is_date_time("22/03/2017 19:28"));
        assert!(!has_offset("2017-03-22T19:28:02"));
        assert!(has_offset("2017-03-22T19:28:02Z"));
        assert!(has_offset("2017-03-22T19:28:02+05:30"));
        assert!(has_offset("2017-03-22T19:28:02-03:00"));
    }
}
