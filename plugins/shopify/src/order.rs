//! A Shopify order (the body of `orders/create`, `orders/paid`,
//! `orders/updated`, `orders/cancelled`) as a canonical order.
//!
//! Every amount is read in the shop's currency (`*_set.shop_money`), and the
//! order carries the shop's `currency`: a multi-currency order's presentment
//! money is what the customer saw, the shop money is what the merchant books.
//! `taxes_included` says how the amounts are written (`prices-include-tax`).
//!
//! * lines: `line_items` that are goods (a variant, a product or a SKU);
//!   unit price before discounts, the line's discount allocations as its
//!   discount, the sum of its tax line rates as its tax percentage and of
//!   their amounts as its tax. Lines that move no stock are charges: a gift
//!   card sold (`gift_card: true`), a tip (`tip_payment_gateway`), a custom
//!   item with neither variant, product nor SKU. A line an order edit took
//!   out (`current_quantity` below `quantity`, not explained by a refund) is
//!   booked as the order now stands, with the order's `current_*` totals.
//! * the storefront's own tax amounts are given only when they add up to the
//!   order's `total_tax` (a converted draft order can repeat its tax lines);
//!   otherwise the hub works the tax out from the rates.
//! * shipping: the shipping lines' prices minus their discounts, their tax
//!   lines as its tax.
//! * charges besides the lines: duties and additional fees.
//! * payments: from the gateway names and `financial_status` (see
//!   [`payments`]). `test` orders are marked as such; the store's
//!   `accept_test_orders` decides whether the hub takes them.

use poshub_connector_sdk::{
    invalid_input, log, phone_hint, Charge, ChargeKind, Customer, Error, Level, Order, OrderLine,
    Payment, Shipping,
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
    // An edited order that was also refunded: its `current_*` totals take
    // the refunds off too, which reach the hub as their own documents, so
    // it is booked as it was placed.
    let edited = edited(order) && list(order, "refunds").is_empty();
    let mut shipping = shipping(order)?;
    let shipping_tax = shipping.as_ref().map(|s| s.1);
    let tax_key = if edited {
        "current_total_tax"
    } else {
        "total_tax"
    };
    // A converted draft order can repeat a line's tax lines: when the rows
    // as written do not add up to the order's tax, the repeated rows are
    // counted once.
    let mut booked = lines(order, edited, Rows::AsWritten)?;
    if !taxes_add_up(order, tax_key, &booked, shipping_tax)? {
        booked = lines(order, edited, Rows::Distinct)?;
        if taxes_add_up(order, tax_key, &booked, shipping_tax)? {
            log(
                Level::Info,
                &format!("repeated tax lines counted once: they add up to the order's `{tax_key}`"),
            );
        } else {
            log(
                Level::Warn,
                &format!(
                    "the lines' and shipping's tax lines do not add up to the order's `{tax_key}`: line taxes are left to the hub to work out from the rates"
                ),
            );
            for line in &mut booked.lines {
                line.tax_amount = None;
            }
        }
    }
    booked.charges.extend(order_charges(order)?);
    let total_key = if edited {
        "current_total_price"
    } else {
        "total_price"
    };
    let total = required_shop_money(order, total_key, "the order")?;
    Ok(Order {
        online_reference_no,
        location: settings.location.clone(),
        customer: customer(order),
        lines: booked.lines,
        shipping: shipping.take().map(|(s, _)| s),
        charges: booked.charges,
        payments: payments(order, total, settings)?,
        total: money_text(total),
        currency: text(order, "currency").map(str::to_ascii_uppercase),
        prices_include_tax: Some(taxes_included(order)),
        test: get(order, "test").and_then(Value::as_bool) == Some(true),
        placed_at: text(order, "created_at").map(str::to_string),
        notes: notes(order),
    })
}

fn taxes_included(order: &Value) -> bool {
    get(order, "taxes_included").and_then(Value::as_bool) == Some(true)
}

/// What of the line items the hub books.
struct Booked {
    /// Goods, with their tax amounts.
    lines: Vec<OrderLine>,
    /// The sum of the goods' tax amounts.
    line_tax: Decimal,
    /// Gift cards, tips and custom items.
    charges: Vec<Charge>,
    /// The sum of the charges' taxes.
    charge_tax: Decimal,
}

/// Whether an order edit took something out: a line's `current_quantity`
/// is below its `quantity` by more than its refunds give back. (Refunds
/// come to the hub as their own documents, so a refunded order is booked as
/// it was placed.)
fn edited(order: &Value) -> bool {
    let refunded = |line_id: &str| -> Decimal {
        list(order, "refunds")
            .iter()
            .flat_map(|r| list(r, "refund_line_items"))
            .filter(|rl| id(rl, "line_item_id").as_deref() == Some(line_id))
            .filter_map(|rl| get(rl, "quantity").and_then(to_decimal))
            .sum()
    };
    list(order, "line_items").iter().any(|item| {
        let (Some(q), Some(current)) = (
            get(item, "quantity").and_then(to_decimal),
            get(item, "current_quantity").and_then(to_decimal),
        ) else {
            return false;
        };
        let refunds = id(item, "id").map_or(Decimal::ZERO, |i| refunded(&i));
        current + refunds < q
    })
}

/// Which of a line's tax lines count.
#[derive(Clone, Copy, PartialEq)]
enum Rows {
    /// Every row as written.
    AsWritten,
    /// Rows repeating an earlier one (same title, rate and amount) once.
    Distinct,
}

/// The order's goods lines and the line items that are not goods.
fn lines(order: &Value, edited: bool, rows: Rows) -> Result<Booked, Error> {
    let mut booked = Booked {
        lines: Vec::new(),
        line_tax: Decimal::ZERO,
        charges: Vec::new(),
        charge_tax: Decimal::ZERO,
    };
    for (i, item) in list(order, "line_items").iter().enumerate() {
        let title = title(item);
        let at = format!(
            "line {} ({})",
            i + 1,
            title.as_deref().unwrap_or("untitled")
        );
        let ordered = quantity(item, &at)?;
        let quantity = if edited {
            match get(item, "current_quantity").and_then(to_decimal) {
                Some(current) if current <= Decimal::ZERO => {
                    log(
                        Level::Info,
                        &format!("{at} was taken out by an order edit: not booked"),
                    );
                    continue;
                }
                Some(current) if current < ordered => current,
                _ => ordered,
            }
        } else {
            ordered
        };
        // Discounts and taxes are written for the ordered quantity.
        let share = |amount: Decimal| -> Result<Decimal, Error> {
            if quantity == ordered {
                return Ok(amount);
            }
            Ok(mul(amount, quantity, &at)?
                .checked_div(ordered)
                .unwrap_or_default()
                .round_dp(2))
        };
        let discount = share(line_discount(item, &at)?)?;
        let tax = share(line_tax(item, rows, &at)?)?;
        let kind = if get(item, "gift_card").and_then(Value::as_bool) == Some(true) {
            Some(ChargeKind::GiftCard)
        } else if is_tip(item) {
            Some(ChargeKind::Tip)
        } else if id(item, "variant_id").is_none()
            && id(item, "product_id").is_none()
            && text(item, "sku").is_none()
        {
            Some(ChargeKind::Custom)
        } else {
            None
        };
        if let Some(kind) = kind {
            let price = required_shop_money(item, "price", &at)?;
            let amount = sub(mul(quantity, price, &at)?, discount, &at)?;
            log(
                Level::Info,
                &format!("{at} moves no stock ({kind:?}): booked as a charge of {amount}"),
            );
            booked.charge_tax = add(booked.charge_tax, tax, &at)?;
            booked.charges.push(Charge {
                kind,
                title,
                amount: money_text(amount),
                tax: (!tax.is_zero()).then(|| money_text(tax)),
            });
            continue;
        }
        booked.line_tax = add(booked.line_tax, tax, &at)?;
        booked.lines.push(OrderLine {
            reference_code: None,
            external_id: id(item, "variant_id"),
            sku: text(item, "sku").map(str::to_string),
            title,
            quantity: plain_text(quantity),
            unit_price: money_text(required_shop_money(item, "price", &at)?),
            discount: Some(money_text(discount)),
            tax_rate: Some(plain_text(tax_rate(item, &at)?)),
            tax_amount: Some(money_text(tax)),
        });
    }
    Ok(booked)
}

/// Whether the line items' and shipping lines' tax amounts add up to the
/// order's own tax (`key`: `total_tax`, or `current_total_tax` for an
/// edited order). An order that says nothing of its tax is taken at its
/// lines' word.
fn taxes_add_up(
    order: &Value,
    key: &str,
    booked: &Booked,
    shipping_tax: Option<Decimal>,
) -> Result<bool, Error> {
    let Some(stated) = shop_money(order, key, "the order")? else {
        return Ok(true);
    };
    let sum = add(booked.line_tax, booked.charge_tax, "the order's taxes")?;
    let sum = add(sum, shipping_tax.unwrap_or_default(), "the order's taxes")?;
    Ok(sum == stated)
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

/// The tax a line or shipping line was charged: the sum of its tax lines'
/// amounts in shop money.
fn line_tax(item: &Value, rows: Rows, at: &str) -> Result<Decimal, Error> {
    let all = list(item, "tax_lines");
    let mut sum = Decimal::ZERO;
    for (i, tax) in all.iter().enumerate() {
        let repeated = |key: &[&str]| {
            all[..i]
                .iter()
                .any(|earlier| key.iter().all(|k| get(earlier, k) == get(tax, k)))
        };
        if rows == Rows::Distinct && repeated(&["title", "rate", "price"]) {
            continue;
        }
        let what = format!("{at}: tax line {}", i + 1);
        sum = add(
            sum,
            shop_money(tax, "price", &what)?.unwrap_or_default(),
            &what,
        )?;
    }
    Ok(sum)
}

/// The line's tax percentage: the sum of its distinct tax lines' rates
/// (fractions, e.g. 0.09 CGST + 0.09 SGST) times 100; a rate repeated under
/// the same title counts once.
fn tax_rate(item: &Value, at: &str) -> Result<Decimal, Error> {
    let all = list(item, "tax_lines");
    let fraction = all
        .iter()
        .enumerate()
        .filter(|(i, tax)| {
            !all[..*i]
                .iter()
                .any(|e| get(e, "title") == get(tax, "title") && get(e, "rate") == get(tax, "rate"))
        })
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

/// Charges on the order that are neither line items nor shipping lines but
/// are inside `total_price`: duties and additional fees.
fn order_charges(order: &Value) -> Result<Vec<Charge>, Error> {
    let mut charges = Vec::new();
    for (key, kind, title) in [
        ("original_total_duties_set", ChargeKind::Duty, "Duties"),
        (
            "original_total_additional_fees_set",
            ChargeKind::Fee,
            "Additional fees",
        ),
    ] {
        if let Some(set) = get(order, key) {
            let what = format!("the order's `{key}`");
            let amount = set_amount(set, &what)?.unwrap_or_default();
            if !amount.is_zero() {
                charges.push(Charge {
                    kind,
                    title: Some(title.to_string()),
                    amount: money_text(amount),
                    tax: None,
                });
            }
        }
    }
    Ok(charges)
}

/// Shipping: the shipping lines' net charge with their tax lines as its
/// tax, and the shipping address; and the tax as a number. None when the
/// order has neither shipping lines nor a shipping address.
fn shipping(order: &Value) -> Result<Option<(Shipping, Decimal)>, Error> {
    let mut amount = Decimal::ZERO;
    let mut tax = Decimal::ZERO;
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
        tax = add(tax, line_tax(line, Rows::AsWritten, &at)?, &at)?;
        if let Some(title) = text(line, "title") {
            titles.push(title);
        }
    }
    let address = json_text(order, "shipping_address");
    if shipping_lines.is_empty() && address.is_none() {
        return Ok(None);
    }
    let shipping = Shipping {
        amount: money_text(amount),
        tax: (!tax.is_zero()).then(|| money_text(tax)),
        method: (!titles.is_empty()).then(|| titles.join(", ")),
        address,
    };
    Ok(Some((shipping, tax)))
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
