//! A Shopify order (the body of `orders/create`, `orders/paid`,
//! `orders/updated`, `orders/cancelled`) as a canonical order.
//!
//! * lines: `line_items`; unit price before discounts, the line's discount
//!   allocations as its discount, the sum of its tax line rates as its tax
//!   percentage. Tip line items are not goods: they are folded into the
//!   shipping charge.
//! * shipping: the shipping lines' prices minus their discounts (plus their
//!   tax when the order's prices exclude tax), plus order charges that are
//!   not lines: tips, duties and additional fees.
//! * payments: from the gateway names and `financial_status` (see
//!   [`payments`]).
//!
//! Every amount is read in the shop's currency (`*_set.shop_money`).

use poshub_connector_sdk::{
    invalid_input, log, phone_hint, Customer, Error, Level, Order, OrderLine, Payment, Shipping,
};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::config::OrderSettings;
use crate::json::{
    add, get, id, list, money_text, mul, plain_text, required_id, required_shop_money, set_amount,
    shop_money, shown, sub, text, to_decimal,
};

/// Translates an order body.
pub fn translate(order: &Value, settings: &OrderSettings) -> Result<Order, Error> {
    let online_reference_no = required_id(order, "id", "the order")?;
    let (lines, tips) = lines(order)?;
    let fees = add(tips, order_fees(order)?, "the order's tips and fees")?;
    let total = required_shop_money(order, "total_price", "the order")?;
    Ok(Order {
        online_reference_no,
        location: settings.location.clone(),
        customer: customer(order),
        lines,
        shipping: shipping(order, fees)?,
        payments: payments(order, total, settings)?,
        total: money_text(total),
        placed_at: text(order, "created_at").map(str::to_string),
        notes: notes(order),
    })
}

/// The order's goods lines, and the sum of its tip lines (not goods).
fn lines(order: &Value) -> Result<(Vec<OrderLine>, Decimal), Error> {
    let mut lines = Vec::new();
    let mut tips = Decimal::ZERO;
    for (i, item) in list(order, "line_items").iter().enumerate() {
        let title = title(item);
        let at = format!(
            "line {} ({})",
            i + 1,
            title.as_deref().unwrap_or("untitled")
        );
        if is_tip(item) {
            let tip = line_amount(item, &at)?;
            log(
                Level::Info,
                &format!("{at} is a tip of {tip}: carried with shipping"),
            );
            tips = add(tips, tip, &at)?;
            continue;
        }
        lines.push(line(item, title, &at)?);
    }
    Ok((lines, tips))
}

/// One goods line.
fn line(item: &Value, title: Option<String>, at: &str) -> Result<OrderLine, Error> {
    Ok(OrderLine {
        reference_code: None,
        external_id: id(item, "variant_id"),
        sku: text(item, "sku").map(str::to_string),
        title,
        quantity: plain_text(quantity(item, at)?),
        unit_price: money_text(required_shop_money(item, "price", at)?),
        discount: Some(money_text(line_discount(item, at)?)),
        tax_rate: Some(plain_text(tax_rate(item, at)?)),
    })
}

/// `title`, with ` - variant_title` when the variant has one.
fn title(item: &Value) -> Option<String> {
    let base = text(item, "title").or_else(|| text(item, "name"))?;
    Some(match text(item, "variant_title") {
        Some(variant) => format!("{base} - {variant}"),
        None => base.to_string(),
    })
}

/// Shopify marks a tip line with the gateway that took the tip.
fn is_tip(item: &Value) -> bool {
    get(item, "tip_payment_gateway").is_some() || get(item, "tip_payment_method").is_some()
}

/// A positive quantity.
fn quantity(item: &Value, at: &str) -> Result<Decimal, Error> {
    let raw =
        get(item, "quantity").ok_or_else(|| invalid_input(format!("{at} has no quantity")))?;
    match to_decimal(raw) {
        Some(q) if q > Decimal::ZERO => Ok(q),
        _ => Err(invalid_input(format!(
            "{at}: quantity `{}` is not a positive number",
            shown(raw)
        ))),
    }
}

/// What a line charges after its discounts (used for tips).
fn line_amount(item: &Value, at: &str) -> Result<Decimal, Error> {
    let gross = mul(
        quantity(item, at)?,
        required_shop_money(item, "price", at)?,
        at,
    )?;
    sub(gross, line_discount(item, at)?, at)
}

/// The whole line's discount: its discount allocations (code, automatic
/// and manual discounts spread over the line), else `total_discount`.
fn line_discount(item: &Value, at: &str) -> Result<Decimal, Error> {
    let allocations = list(item, "discount_allocations");
    if allocations.is_empty() {
        return Ok(shop_money(item, "total_discount", at)?.unwrap_or_default());
    }
    sum_allocations(allocations, at)
}

/// The sum of discount allocations in shop money.
fn sum_allocations(allocations: &[Value], at: &str) -> Result<Decimal, Error> {
    allocations
        .iter()
        .enumerate()
        .try_fold(Decimal::ZERO, |sum, (i, a)| {
            let what = format!("{at}: discount allocation {}", i + 1);
            add(
                sum,
                shop_money(a, "amount", &what)?.unwrap_or_default(),
                &what,
            )
        })
}

/// The line's tax percentage: the sum of its tax lines' rates (fractions,
/// e.g. 0.09 CGST + 0.09 SGST) times 100.
fn tax_rate(item: &Value, at: &str) -> Result<Decimal, Error> {
    let fraction =
        list(item, "tax_lines")
            .iter()
            .enumerate()
            .try_fold(Decimal::ZERO, |sum, (i, tax)| {
                let raw = get(tax, "rate").unwrap_or(&Value::Null);
                match to_decimal(raw) {
                    Some(rate) => add(sum, rate, at),
                    None if raw.is_null() => Ok(sum),
                    None => Err(invalid_input(format!(
                        "{at}: tax line {} rate `{}` is not a number",
                        i + 1,
                        shown(raw)
                    ))),
                }
            })?;
    mul(fraction, Decimal::ONE_HUNDRED, at)
}

/// Charges on the order that are neither goods nor shipping lines but are
/// inside `total_price`: duties and additional fees.
fn order_fees(order: &Value) -> Result<Decimal, Error> {
    let mut fees = Decimal::ZERO;
    for key in [
        "original_total_duties_set",
        "original_total_additional_fees_set",
    ] {
        if let Some(set) = get(order, key) {
            let what = format!("the order's `{key}`");
            fees = add(fees, set_amount(set, &what)?.unwrap_or_default(), &what)?;
        }
    }
    Ok(fees)
}

/// Shipping: the shipping lines' net charge plus `fees`, with the shipping
/// address. None when the order has neither shipping lines, fees nor a
/// shipping address.
fn shipping(order: &Value, fees: Decimal) -> Result<Option<Shipping>, Error> {
    let taxes_included = get(order, "taxes_included").and_then(Value::as_bool) == Some(true);
    let mut amount = fees;
    let mut titles = Vec::new();
    let shipping_lines: Vec<&Value> = list(order, "shipping_lines")
        .iter()
        .filter(|s| get(s, "is_removed").and_then(Value::as_bool) != Some(true))
        .collect();
    for (i, line) in shipping_lines.iter().enumerate() {
        let at = format!("shipping line {}", i + 1);
        amount = add(amount, required_shop_money(line, "price", &at)?, &at)?;
        amount = sub(
            amount,
            sum_allocations(list(line, "discount_allocations"), &at)?,
            &at,
        )?;
        if !taxes_included {
            // Tax on shipping is charged on top of the price and is in the
            // total; the hub adds shipping as is, so it carries the tax.
            for (j, tax) in list(line, "tax_lines").iter().enumerate() {
                let what = format!("{at}: tax line {}", j + 1);
                amount = add(
                    amount,
                    shop_money(tax, "price", &what)?.unwrap_or_default(),
                    &what,
                )?;
            }
        }
        if let Some(title) = text(line, "title") {
            titles.push(title);
        }
    }
    let address = json_text(order, "shipping_address");
    if shipping_lines.is_empty() && fees.is_zero() && address.is_none() {
        return Ok(None);
    }
    Ok(Some(Shipping {
        amount: money_text(amount),
        method: (!titles.is_empty()).then(|| titles.join(", ")),
        address,
    }))
}

/// How the order is paid.
///
/// * `partially_paid`: `prepaid` for what was paid (total minus
///   `total_outstanding`), and `cod` for the outstanding amount when the
///   gateway is cash on delivery.
/// * a cash-on-delivery gateway: `cod` for the total.
/// * `paid`, `authorized`, `pending`, `partially_refunded`, `refunded`:
///   `prepaid` for the total, the gateway names as reference (pending
///   payments, such as bank transfers, are not cash on delivery; refunds
///   arrive as their own documents).
/// * `voided`, `expired` or anything else: no payment (nothing was paid),
///   so the hub refuses the order unless it is free.
///
/// A free order (total 0) has no payment.
fn payments(
    order: &Value,
    total: Decimal,
    settings: &OrderSettings,
) -> Result<Vec<Payment>, Error> {
    if total.is_zero() {
        return Ok(vec![]);
    }
    let gateways = gateways(order);
    let cod = gateways.iter().any(|g| settings.is_cod(g));
    let paid_by: Vec<&str> = gateways
        .iter()
        .copied()
        .filter(|g| !settings.is_cod(g))
        .collect();
    let reference = (!paid_by.is_empty()).then(|| paid_by.join(", "));
    let status = text(order, "financial_status").unwrap_or("pending");
    let prepaid = |amount: Decimal| Payment {
        kind: "prepaid".to_string(),
        amount: money_text(amount),
        reference: reference.clone(),
    };
    let on_delivery = |amount: Decimal| Payment {
        kind: "cod".to_string(),
        amount: money_text(amount),
        reference: None,
    };
    Ok(match status {
        "partially_paid" => {
            let outstanding = shop_money(order, "total_outstanding", "the order")?
                .unwrap_or_default()
                .clamp(Decimal::ZERO, total);
            let mut payments = Vec::new();
            if outstanding < total {
                payments.push(prepaid(total - outstanding));
            }
            if cod && !outstanding.is_zero() {
                payments.push(on_delivery(outstanding));
            }
            payments
        }
        _ if cod => vec![on_delivery(total)],
        "paid" | "authorized" | "pending" | "partially_refunded" | "refunded" => {
            vec![prepaid(total)]
        }
        other => {
            log(
                Level::Warn,
                &format!("financial status `{other}`: nothing was paid, no payment recorded"),
            );
            vec![]
        }
    })
}

/// The order's payment gateway names (`payment_gateway_names`, else the
/// older single `gateway`).
fn gateways(order: &Value) -> Vec<&str> {
    let names: Vec<&str> = list(order, "payment_gateway_names")
        .iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .collect();
    if names.is_empty() {
        text(order, "gateway").into_iter().collect()
    } else {
        names
    }
}

/// Who ordered: name, phone, e-mail and billing address. None when the
/// order says nothing about the customer.
fn customer(order: &Value) -> Option<Customer> {
    let person = get(order, "customer").unwrap_or(&Value::Null);
    let billing = get(order, "billing_address").unwrap_or(&Value::Null);
    let shipping = get(order, "shipping_address").unwrap_or(&Value::Null);
    let default_address = get(person, "default_address").unwrap_or(&Value::Null);
    let full_name = [text(person, "first_name"), text(person, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let name = Some(full_name)
        .filter(|n| !n.is_empty())
        .or_else(|| text(billing, "name").map(str::to_string));
    let phone = phone_hint(
        [
            text(order, "phone"),
            text(person, "phone"),
            text(billing, "phone"),
            text(shipping, "phone"),
            text(default_address, "phone"),
        ]
        .map(|p| p.filter(|p| is_dialable(p))),
    );
    let email = text(order, "email")
        .or_else(|| text(order, "contact_email"))
        .or_else(|| text(person, "email"))
        .map(str::to_string);
    let address = json_text(order, "billing_address");
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

/// Whether a phone is written only with what phone numbers are written with
/// (digits, spaces, `-`, `.`, `/`, brackets and a leading `+`). Shopify's
/// sample data has vanity numbers such as `555-555-BILL` that the hub would
/// refuse, failing the whole order; such a number is passed over.
fn is_dialable(phone: &str) -> bool {
    phone.trim().chars().enumerate().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '/' | '(' | ')') || (c == '+' && i == 0)
    })
}

/// An address object as JSON text.
fn json_text(order: &Value, key: &str) -> Option<String> {
    get(order, key)
        .filter(|a| a.is_object())
        .map(Value::to_string)
}

/// The order's display name (e.g. `#1001`) and the customer's note.
fn notes(order: &Value) -> Option<String> {
    let parts: Vec<String> = [
        text(order, "name").map(|n| format!("Shopify order {n}")),
        text(order, "note").map(|n| format!("Customer note: {n}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}
