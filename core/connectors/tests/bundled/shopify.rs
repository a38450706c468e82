//! The shopify connector against real payloads: every Shopify fixture goes
//! through the compiled plugin exactly as the hub calls it, and every
//! expected value below was read off the fixture by hand.

use crate::common::*;

use poshub_connectors::types::{
    Budget, CanonicalOrder, Change, ChangeOutcome, Document, Drift, ErrorKind, HttpRequest,
    HttpResponse, PendingChange, PlannedRequest, PriceChange, Reading, ReturnLine, StatusChange,
    StorefrontStock,
};
use poshub_connectors::{CallError, Limits};
use poshub_model::DomainError;
use serde_json::{json, Value};

const OSISET: &str = "shopify/orders_create__osiset_shopify_sample_signed_pretty.json";
const SANJEEV: &str = "shopify/orders_create__sanjeev_inr_3_variants_sku_igst.json";
const MEMBI_PHONE: &str = "shopify/orders_create__membi_hk_phone_discounts_empty_sku.json";
const MEMBI_PERCENT: &str =
    "shopify/orders_create__membi_hk_percentage_code_plus_automatic_discount.json";
const VALMI: &str = "shopify/orders_updated__valmi_inr_partially_refunded_3_refunds.json";
const HRX_PRODUCT: &str =
    "shopify/products_update__sanjeev_hrx_shoes_3_variants_negative_inventory.json";
const SWORDFOX_PRODUCT: &str =
    "shopify/products_update__swordfox_test_product_default_variant_empty_sku.json";
const SWORDFOX_LEVEL: &str = "shopify/inventory_levels_update__swordfox.json";
const GOSHOPIFY_VECTOR: &str = "shopify/vector__goshopify_json_string_body.json";

const ZEROS: &str = "00000000000000000000000000000000";
const PAYMENT_TYPES: &[&str] = &["cod", "prepaid"];

/// A store as the hub would configure it (secrets are dropped by the host
/// before the plugin sees the config).
fn store() -> poshub_connectors::types::CallContext {
    ctx(json!({
        "webhook_secret": ZEROS,
        "access_token": "shpat_secret",
        "base_url": "https://demo-shop.myshopify.com/",
        "location_ids": {"BLR": "655441491"}
    }))
}

/// The one order translated from a body.
fn order_of(topic: &str, body: &[u8]) -> CanonicalOrder {
    let docs = translate(&plugin("shopify"), &store(), topic, body);
    assert_eq!(docs.len(), 1, "{topic}: {docs:?}");
    orders(&docs)[0].clone()
}

/// Asserts one line field by field: keys the hub maps with, then amounts.
#[allow(clippy::too_many_arguments)]
fn assert_line(
    order: &CanonicalOrder,
    i: usize,
    sku: Option<&str>,
    external_id: Option<&str>,
    title: &str,
    quantity: &str,
    unit_price: &str,
    discount: &str,
    tax_rate: &str,
) {
    let keys = &order.lines[i].keys;
    assert_eq!(keys.reference_code, None, "line {i}");
    assert_eq!(keys.sku.as_deref(), sku, "line {i}");
    assert_eq!(keys.external_id.as_deref(), external_id, "line {i}");
    assert_eq!(keys.title.as_deref(), Some(title), "line {i}");
    let line = &order.to_json()["lines"][i];
    assert_eq!(line["reference_code"], Value::Null, "line {i}");
    assert_eq!(line["quantity"], quantity, "line {i}");
    assert_eq!(line["unit_price"], unit_price, "line {i}");
    assert_eq!(line["discount"], discount, "line {i}");
    assert_eq!(line["tax_rate"], tax_rate, "line {i}");
}

/// A fixture with some members replaced (derived cases of a real payload).
fn patched(path: &str, patch: Value) -> Vec<u8> {
    let mut body = fixture_json(path);
    for (key, value) in patch.as_object().unwrap() {
        body[key] = value.clone();
    }
    serde_json::to_vec(&body).unwrap()
}

// ---------------------------------------------------------------- identity

#[tokio::test]
async fn describes_itself() {
    let p = plugin("shopify");
    assert_eq!(p.info.id, "shopify");
    assert_eq!(p.info.platform, "Shopify");
    assert_eq!(p.info.hosts, vec!["*.myshopify.com".to_string()]);
    assert_eq!(
        p.info.outbound_auth,
        vec![poshub_connectors::types::Credential::SecretHeader {
            name: "X-Shopify-Access-Token".into(),
            key: "access_token".into()
        }]
    );
    let topics: Vec<&str> = p.info.topics.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        topics,
        [
            "orders/create",
            "orders/paid",
            "orders/updated",
            "orders/cancelled",
            "refunds/create",
            "products/create",
            "products/update",
            "inventory_levels/update"
        ]
    );
    let props = &p.info.config_schema["properties"];
    for key in [
        "webhook_secret",
        "base_url",
        "access_token",
        "api_version",
        "location_ids",
        "location",
        "cod_gateways",
    ] {
        assert!(props[key].is_object(), "schema declares {key}");
    }
    assert_eq!(props["webhook_secret"]["writeOnly"], true);
    assert_eq!(props["access_token"]["writeOnly"], true);
    assert_eq!(props["api_version"]["default"], "2026-10");
    assert_eq!(props["location_ids"]["type"], "object");
    assert_eq!(props["cod_gateways"]["type"], "array");
}

// -------------------------------------------------------------- signatures

#[tokio::test]
async fn every_topic_is_signed_with_the_shopify_header() {
    let p = plugin("shopify");
    for (topic, _) in &p.info.topics {
        let auth = p
            .webhook_auth(Limits::default(), topic.clone())
            .await
            .result
            .unwrap();
        assert_eq!(auth.header, "X-Shopify-Hmac-Sha256", "{topic}");
        assert_eq!(
            auth.encoding,
            poshub_connectors::types::SignatureEncoding::Base64
        );
    }
    let unknown = p
        .webhook_auth(Limits::default(), "carts/create".into())
        .await
        .result;
    assert!(
        matches!(unknown, Err(CallError::Plugin(ref e)) if e.kind == ErrorKind::Unsupported),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn signed_sample_verifies_byte_for_byte() {
    let p = plugin("shopify");
    let body = fixture(OSISET);
    // The file ends with a newline, and that newline is signed too.
    assert_eq!(body.last(), Some(&b'\n'));
    let sig = "hvTE9wpDzMcDnPEuHWvYZ58ElKn5vHs0LomurfNIuUc=";
    assert!(verifies(&p, "orders/create", ZEROS, sig, &body).await);

    let mut tampered = body.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    assert!(!verifies(&p, "orders/create", ZEROS, sig, &tampered).await);
    assert!(
        !verifies(
            &p,
            "orders/create",
            "00000000000000000000000000000001",
            sig,
            &body
        )
        .await
    );
    assert!(!verifies(&p, "orders/create", "", sig, &body).await);
    // Without its trailing newline the body is not what was signed.
    assert!(!verifies(&p, "orders/create", ZEROS, sig, &body[..body.len() - 1]).await);
}

#[tokio::test]
async fn goshopify_and_empty_body_vectors_verify() {
    let p = plugin("shopify");
    let body = fixture(GOSHOPIFY_VECTOR);
    assert_eq!(body, b"\"my secret message\"");
    let sig = "hMTq0K2x7oyOjoBwGYeTj5oxfnaVYXzbanUG9aajpKI=";
    assert!(verifies(&p, "orders/create", "hush", sig, &body).await);
    assert!(!verifies(&p, "orders/create", "Hush", sig, &body).await);
    assert!(!verifies(&p, "orders/create", "", sig, &body).await);
    let empty = "vhwRQys0GZozEzsl9+bjquUnCkjSE7r1YPgl9S0CY1E=";
    assert!(verifies(&p, "refunds/create", ZEROS, empty, b"").await);
    assert!(!verifies(&p, "refunds/create", "", empty, b"").await);

    // The vector's body verifies, but a JSON string is no Shopify payload.
    let err = translate_err(&p, &store(), "orders/create", &body);
    assert!(
        err.contains("must be a JSON object, not `my secret message`"),
        "{err}"
    );
}

// ------------------------------------------------------------------ orders

#[test]
fn osiset_sample_order() {
    let order = order_of("orders/create", &fixture(OSISET));
    let body = &order.to_json();
    assert_eq!(body["online_reference_no"], "820982911946154508");
    assert_eq!(body["location"], Value::Null);
    assert_eq!(order.lines.len(), 2);
    // No variant ids in the sample: lines map by SKU.
    assert_line(
        &order,
        0,
        Some("706405908216"),
        None,
        "Real Madrid Dad Hat",
        "1",
        "24.99",
        "0.00",
        "0",
    );
    // No discount allocations: `total_discount` is the line's discount.
    assert_line(
        &order,
        1,
        Some("706405907431"),
        None,
        "Sporting Clube de Portugal Trucker Hat",
        "1",
        "27.99",
        "5.00",
        "0",
    );
    assert_eq!(body["shipping"]["amount"], "10.00");
    assert_eq!(body["shipping"]["method"], "Generic Shipping");
    assert_eq!(body["shipping"]["address"]["name"], "Steve Shipper");
    assert_eq!(
        body["shipping"]["address"],
        fixture_json(OSISET)["shipping_address"]
    );
    assert_eq!(body["total"], "57.98");
    // financial_status `voided`: nothing was paid, no payment.
    assert_eq!(body["payments"], json!([]));
    assert_eq!(body["customer"]["name"], "John Smith");
    // Billing and shipping phones are vanity numbers (555-555-BILL) the hub
    // would refuse; the customer's default address has a dialable one.
    assert_eq!(body["customer"]["phone"], "123-123-1234");
    assert_eq!(body["customer"]["email"], "jon@doe.ca");
    assert_eq!(
        body["customer"]["address"]["address1"],
        "123 Billing Street"
    );
    assert_eq!(
        body["customer"]["address"],
        fixture_json(OSISET)["billing_address"]
    );
    assert_eq!(body["placed_at"], "2017-07-17T13:44:09-04:00");
    assert_eq!(body["notes"], "Shopify order #9999");

    // The amounts add up: 24.99 + (27.99 - 5.00) + 10.00 shipping = 57.98.
    // But Shopify's sample is a voided test order (financial_status
    // `voided`, cancelled_at set): no money was taken, so there is no
    // payment and the hub refuses it for exactly that reason, and no other.
    match validate(&order, false, PAYMENT_TYPES) {
        Err(DomainError::Invalid(problems)) => {
            let codes: Vec<_> = problems
                .iter()
                .map(|p| (p.field.as_str(), p.code.as_str()))
                .collect();
            assert_eq!(codes, [("payments", "payments_do_not_cover_total")]);
        }
        other => panic!("expected the payments problem only, got {other:?}"),
    }
}

#[test]
fn sanjeev_inr_order_with_igst() {
    let order = order_of("orders/create", &fixture(SANJEEV));
    let body = &order.to_json();
    assert_eq!(body["online_reference_no"], "4894495473901");
    assert_eq!(order.lines.len(), 3);
    let lines = [
        ("tffffv456", "43242963665133", "HRX Shoes - Medium"),
        ("tffffv457", "43242963697901", "HRX Shoes - small"),
        ("tffffv458", "43242963730669", "HRX Shoes - Xl"),
    ];
    for (i, (sku, variant, title)) in lines.into_iter().enumerate() {
        // IGST rate 0.18 -> "18".
        assert_line(
            &order,
            i,
            Some(sku),
            Some(variant),
            title,
            "1",
            "54.00",
            "0.00",
            "18",
        );
    }
    // No shipping lines and no shipping address.
    assert_eq!(body["shipping"], Value::Null);
    assert_eq!(body["total"], "191.16");
    assert_eq!(
        body["payments"],
        json!([{"type": "prepaid", "amount": "191.16", "reference": "manual"}])
    );
    // A draft order without customer, addresses, phone or e-mail.
    assert_eq!(body["customer"], Value::Null);
    assert_eq!(body["placed_at"], "2022-08-23T16:32:53+05:30");
    assert_eq!(body["notes"], "Shopify order #1005");
    // 3 x 54.00 + 18% = 162.00 + 29.16 = 191.16, prices exclude tax.
    let valid = validate(&order, false, PAYMENT_TYPES).expect("adds up");
    assert_eq!(valid.total.to_string(), "191.16");
    assert_eq!(valid.lines[0].tax_amount.to_string(), "9.72");
}

#[test]
fn membi_order_with_code_and_automatic_discounts_and_empty_skus() {
    let order = order_of("orders/create", &fixture(MEMBI_PHONE));
    let body = &order.to_json();
    assert_eq!(body["online_reference_no"], "6198432301356");
    assert_eq!(order.lines.len(), 4);
    // `total_discount` says 0.00; the allocations (code 4.78 + automatic
    // 5.00) are the real discount. Empty SKUs: lines map by variant id.
    assert_line(
        &order,
        0,
        None,
        Some("50398373085484"),
        "aaa0103測試商品11aa",
        "1",
        "99.00",
        "9.78",
        "0",
    );
    assert_line(
        &order,
        1,
        None,
        Some("50451770802476"),
        "Green Snowboard",
        "1",
        "100.00",
        "5.08",
        "0",
    );
    assert_line(
        &order,
        2,
        None,
        Some("50460159082796"),
        "Orange Snowboard",
        "1",
        "100.00",
        "5.07",
        "0",
    );
    assert_line(
        &order,
        3,
        None,
        Some("50466449883436"),
        "Red Snowboard",
        "1",
        "100.00",
        "5.07",
        "0",
    );
    assert_eq!(body["shipping"]["amount"], "20.00");
    assert_eq!(body["shipping"]["method"], "Tran fee");
    assert_eq!(body["shipping"]["address"]["country"], "Hong Kong");
    assert_eq!(body["total"], "394.00");
    assert_eq!(
        body["payments"],
        json!([{"type": "prepaid", "amount": "394.00", "reference": "manual"}])
    );
    // Last name "" is no part of the name.
    assert_eq!(body["customer"]["name"], "Alan");
    assert_eq!(body["customer"]["phone"], "+85255501043");
    assert_eq!(body["customer"]["email"], "buyer@example.com.hk");
    assert_eq!(body["customer"]["address"]["name"], "Alan");
    assert_eq!(body["placed_at"], "2025-01-23T01:59:37-05:00");
    assert_eq!(body["notes"], "Shopify order #1054");
    // 399.00 - 25.00 discounts + 20.00 shipping = 394.00.
    let valid = validate(&order, false, PAYMENT_TYPES).expect("adds up");
    assert_eq!(
        valid.contact.phone.map(|p| p.to_string()).as_deref(),
        Some("+85255501043")
    );
}

#[test]
fn membi_order_with_percentage_code_and_no_customer() {
    let order = order_of("orders/create", &fixture(MEMBI_PERCENT));
    let body = &order.to_json();
    assert_eq!(body["online_reference_no"], "6200407294252");
    assert_eq!(order.lines.len(), 2);
    // 15% code (14.10) + automatic 5.00.
    assert_line(
        &order,
        0,
        None,
        Some("50398373085484"),
        "aaa0103測試商品11aa",
        "1",
        "99.00",
        "19.10",
        "0",
    );
    assert_line(
        &order,
        1,
        None,
        Some("50451770802476"),
        "Green Snowboard",
        "1",
        "100.00",
        "15.00",
        "0",
    );
    assert_eq!(body["shipping"]["amount"], "22.00");
    assert_eq!(body["shipping"]["method"], "Tran");
    assert_eq!(body["shipping"]["address"], Value::Null);
    assert_eq!(body["total"], "186.90");
    assert_eq!(
        body["payments"],
        json!([{"type": "prepaid", "amount": "186.90", "reference": "manual"}])
    );
    // customer, billing address, phone: null; email "".
    assert_eq!(body["customer"], Value::Null);
    assert_eq!(body["placed_at"], "2025-01-23T23:10:15-05:00");
    assert_eq!(body["notes"], "Shopify order #1071");
    // 199.00 - 34.10 + 22.00 = 186.90.
    validate(&order, false, PAYMENT_TYPES).expect("adds up");
}

#[test]
fn valmi_updated_order_with_three_refunds() {
    let docs = translate(
        &plugin("shopify"),
        &store(),
        "orders/updated",
        &fixture(VALMI),
    );
    let kinds: Vec<_> = docs.iter().map(Document::kind).collect();
    // Not cancelled: no cancellation document.
    assert_eq!(kinds, ["order", "refund", "refund", "refund"]);
    let order = orders(&docs)[0];
    let body = &order.to_json();
    assert_eq!(body["online_reference_no"], "5361237360854");
    assert_eq!(order.lines.len(), 2);
    assert_line(
        order,
        0,
        None,
        Some("44843038015702"),
        "The Collection Snowboard: Liquid",
        "4",
        "749.95",
        "0.00",
        "18",
    );
    assert_line(
        order,
        1,
        Some("sku-managed-1"),
        Some("44843037917398"),
        "The Multi-managed Snowboard",
        "1",
        "629.95",
        "0.00",
        "18",
    );
    assert_eq!(body["shipping"]["amount"], "0.00");
    assert_eq!(body["shipping"]["method"], "Standard");
    assert_eq!(body["shipping"]["address"]["city"], "Hyderabad");
    // The original total: the refunds arrive as their own documents.
    assert_eq!(body["total"], "4283.11");
    assert_eq!(
        body["payments"],
        json!([{"type": "prepaid", "amount": "4283.11", "reference": "bogus"}])
    );
    assert_eq!(body["customer"]["name"], "Swathi Varkala");
    assert_eq!(body["customer"]["phone"], Value::Null);
    assert_eq!(body["customer"]["email"], "buyer@example.in");
    assert_eq!(body["customer"]["address"]["zip"], "501510");
    assert_eq!(body["placed_at"], "2024-01-08T05:12:30-05:00");
    assert_eq!(body["notes"], "Shopify order #1001");
    // 2999.80 + 18% (539.96) + 629.95 + 18% (113.39) = 4283.10 by the hub's
    // per-line rounding; Shopify charged 4283.11 (it rounds tax per unit).
    // One cent on two lines is within the hub's tolerance.
    let valid = validate(order, false, PAYMENT_TYPES).expect("adds up");
    assert_eq!(valid.total.to_string(), "4283.11");

    let refund_ids = ["887838146774", "887838310614", "887838376150"];
    for (doc, id) in docs[1..].iter().zip(refund_ids) {
        assert_eq!(doc, &snowboard_refund(id), "refund {id}");
    }
}

/// Each of valmi's refunds: one Liquid snowboard back to stock (empty SKU,
/// so no reference code), 749.95 + 134.99 tax refunded.
fn snowboard_refund(id: &str) -> Document {
    Document::Refund {
        online_reference_no: "5361237360854".into(),
        refund_id: id.into(),
        lines: vec![ReturnLine {
            keys: poshub_connectors::types::LineKeys {
                reference_code: None,
                external_id: Some("44843038015702".into()),
                sku: None,
                title: None,
            },
            quantity: "1".into(),
        }],
        amount: Some("884.94".into()),
        reason: None,
        restock: true,
    }
}

#[test]
fn refunds_create_is_a_refund_document() {
    // refunds/create carries the refund object itself, with its order_id.
    let refund = fixture_json(VALMI)["refunds"][0].clone();
    assert_eq!(refund["order_id"], 5361237360854u64);
    let body = serde_json::to_vec(&refund).unwrap();
    let docs = translate(&plugin("shopify"), &store(), "refunds/create", &body);
    assert_eq!(docs, vec![snowboard_refund("887838146774")]);

    // A money-only refund without restock, with a reason and a failed
    // transaction that does not count.
    let mut refund = refund;
    refund["note"] = "damaged in transit".into();
    refund["restock"] = false.into();
    refund["refund_line_items"][0]["restock_type"] = "no_restock".into();
    refund["refund_line_items"][0]["line_item"]["sku"] = "LIQ-1".into();
    let mut failed = refund["transactions"][0].clone();
    failed["status"] = "failure".into();
    failed["amount"] = "100.00".into();
    refund["transactions"].as_array_mut().unwrap().push(failed);
    let body = serde_json::to_vec(&refund).unwrap();
    let docs = translate(&plugin("shopify"), &store(), "refunds/create", &body);
    match &docs[..] {
        [Document::Refund {
            lines,
            amount,
            reason,
            restock,
            ..
        }] => {
            assert_eq!(lines[0].keys.reference_code.as_deref(), Some("LIQ-1"));
            assert_eq!(lines[0].keys.external_id.as_deref(), Some("44843038015702"));
            assert_eq!(amount.as_deref(), Some("884.94"));
            assert_eq!(reason.as_deref(), Some("damaged in transit"));
            assert!(!restock);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn orders_cancelled_is_a_cancellation_with_its_reason() {
    let docs = translate(
        &plugin("shopify"),
        &store(),
        "orders/cancelled",
        &fixture(OSISET),
    );
    assert_eq!(
        docs,
        vec![Document::Cancellation {
            online_reference_no: "820982911946154508".into(),
            reason: Some("customer".into()),
        }]
    );
}

#[test]
fn updated_cancelled_order_carries_its_cancellation() {
    // The sample order has cancelled_at set: orders/updated says so too.
    let docs = translate(
        &plugin("shopify"),
        &store(),
        "orders/updated",
        &fixture(OSISET),
    );
    let kinds: Vec<_> = docs.iter().map(Document::kind).collect();
    assert_eq!(kinds, ["order", "cancellation"]);
    assert_eq!(
        docs[1],
        Document::Cancellation {
            online_reference_no: "820982911946154508".into(),
            reason: Some("customer".into()),
        }
    );
}

#[test]
fn orders_paid_is_the_same_order() {
    let created = order_of("orders/create", &fixture(SANJEEV));
    let paid = order_of("orders/paid", &fixture(SANJEEV));
    assert_eq!(created, paid);
}

// --------------------------------------------------- payments and charges

#[test]
fn cash_on_delivery_gateways() {
    // Shopify's own manual method name, still pending until the cash comes.
    let body = patched(
        SANJEEV,
        json!({"payment_gateway_names": ["Cash on Delivery (COD)"], "gateway": "Cash on Delivery (COD)",
               "financial_status": "pending", "total_outstanding": "191.16"}),
    );
    let order = order_of("orders/create", &body);
    assert_eq!(
        order.to_json()["payments"],
        json!([{"type": "cod", "amount": "191.16"}])
    );
    validate(&order, false, PAYMENT_TYPES).expect("cod covers the total");

    // A gateway the merchant named in `cod_gateways`.
    let body = patched(
        SANJEEV,
        json!({"payment_gateway_names": ["Pay at the door"], "financial_status": "pending"}),
    );
    let cod_store = ctx(json!({"base_url": "https://demo-shop.myshopify.com",
                                "cod_gateways": ["pay at the door"], "location": "BLR"}));
    let docs = translate(&plugin("shopify"), &cod_store, "orders/create", &body);
    let order = orders(&docs)[0];
    assert_eq!(
        order.to_json()["payments"],
        json!([{"type": "cod", "amount": "191.16"}])
    );
    // `location` in the config is the hub location orders are fulfilled from.
    assert_eq!(order.to_json()["location"], "BLR");
    // Without it in the config, the same gateway is a prepaid one.
    let order = order_of("orders/create", &body);
    assert_eq!(
        order.to_json()["payments"],
        json!([{"type": "prepaid", "amount": "191.16", "reference": "Pay at the door"}])
    );
}

#[test]
fn partially_paid_order_splits_prepaid_and_cod() {
    let body = patched(
        SANJEEV,
        json!({"payment_gateway_names": ["gift_card", "cash_on_delivery"],
               "financial_status": "partially_paid", "total_outstanding": "91.16"}),
    );
    let order = order_of("orders/create", &body);
    assert_eq!(
        order.to_json()["payments"],
        json!([
            {"type": "prepaid", "amount": "100.00", "reference": "gift_card"},
            {"type": "cod", "amount": "91.16"}
        ])
    );
    validate(&order, false, PAYMENT_TYPES).expect("adds up");

    // Partly paid by card with no cash on delivery for the rest: only what
    // was paid is a payment, and the hub refuses the uncovered balance.
    let body = patched(
        SANJEEV,
        json!({"payment_gateway_names": ["stripe"], "financial_status": "partially_paid",
               "total_outstanding": "91.16"}),
    );
    let order = order_of("orders/create", &body);
    assert_eq!(
        order.to_json()["payments"],
        json!([{"type": "prepaid", "amount": "100.00", "reference": "stripe"}])
    );
    assert!(validate(&order, false, PAYMENT_TYPES).is_err());
}

#[test]
fn shipping_tax_tips_and_duties_are_charges_on_the_order() {
    let mut body = fixture_json(SANJEEV);
    // 50.00 shipping with 18% tax on top (prices exclude tax).
    body["shipping_lines"] = json!([{
        "title": "Express", "price": "50.00",
        "price_set": {"shop_money": {"amount": "50.00", "currency_code": "INR"}},
        "discount_allocations": [{"amount": "5.00"}],
        "tax_lines": [{"price": "8.10", "rate": 0.18,
                       "price_set": {"shop_money": {"amount": "8.10", "currency_code": "INR"}}}]
    }]);
    // A 20.00 tip, a line item Shopify marks with the tip gateway.
    let tip = json!({"id": 1, "title": "Tip", "quantity": 1, "price": "20.00", "sku": null,
                     "variant_id": null, "tip_payment_gateway": "manual", "tax_lines": [],
                     "discount_allocations": []});
    body["line_items"].as_array_mut().unwrap().push(tip);
    // 12.34 duties.
    body["original_total_duties_set"] =
        json!({"shop_money": {"amount": "12.34", "currency_code": "INR"}});
    // 191.16 + 45.00 + 8.10 + 20.00 + 12.34
    body["total_price"] = "276.60".into();
    body["total_price_set"] = json!({"shop_money": {"amount": "276.60", "currency_code": "INR"}});
    let order = order_of("orders/create", &serde_json::to_vec(&body).unwrap());
    // The tip is no goods line: it and the duties are charges; shipping
    // keeps its tax beside it.
    assert_eq!(order.lines.len(), 3);
    assert_eq!(order.to_json()["shipping"]["amount"], "45.00");
    assert_eq!(order.to_json()["shipping"]["tax"], "8.10");
    assert_eq!(order.to_json()["shipping"]["method"], "Express");
    assert_eq!(
        order.to_json()["charges"],
        json!([{"kind": "tip", "title": "Tip", "amount": "20.00"},
               {"kind": "duty", "title": "Duties", "amount": "12.34"}])
    );
    assert_eq!(order.to_json()["total"], "276.60");
    validate(&order, false, PAYMENT_TYPES).expect("adds up");
}

#[test]
fn a_bad_line_is_named() {
    let mut body = fixture_json(SANJEEV);
    body["line_items"][1]["quantity"] = "x".into();
    let err = translate_err(
        &plugin("shopify"),
        &store(),
        "orders/create",
        &serde_json::to_vec(&body).unwrap(),
    );
    assert!(
        err.contains("line 2 (HRX Shoes - small): quantity `x` is not a positive number"),
        "{err}"
    );

    let mut body = fixture_json(SANJEEV);
    body["line_items"][0]["price_set"]["shop_money"]["amount"] = "54,00".into();
    let err = translate_err(
        &plugin("shopify"),
        &store(),
        "orders/create",
        &serde_json::to_vec(&body).unwrap(),
    );
    assert!(err.contains("line 1 (HRX Shoes - Medium)"), "{err}");
    assert!(err.contains("`54,00` is not a number"), "{err}");
}

// ------------------------------------------------- products and inventory

#[test]
fn hrx_product_prices_and_negative_stock() {
    let docs = translate(
        &plugin("shopify"),
        &store(),
        "products/update",
        &fixture(HRX_PRODUCT),
    );
    let variants = [
        ("tffffv456", "43242963665133", "45337395429613"),
        ("tffffv457", "43242963697901", "45337395462381"),
        ("tffffv458", "43242963730669", "45337395495149"),
    ];
    let mut expected = Vec::new();
    for (sku, variant, item) in variants {
        expected.push(Document::Price(PriceChange {
            reference_code: sku.into(),
            external_id: Some(variant.into()),
            external_parent_id: Some("7905964785901".into()),
            price: "54.00".into(),
            mrp: Some("43.00".into()),
        }));
        expected.push(Document::StockLevel(StorefrontStock {
            reference_code: sku.into(),
            external_id: Some(variant.into()),
            location: String::new(),
            external_location_id: None,
            external_parent_id: Some("7905964785901".into()),
            external_inventory_id: Some(item.into()),
            available: "-1".into(),
        }));
    }
    assert_eq!(docs, expected);
    // products/create reads the same.
    let created = translate(
        &plugin("shopify"),
        &store(),
        "products/create",
        &fixture(HRX_PRODUCT),
    );
    assert_eq!(created, expected);
}

#[test]
fn swordfox_default_variant_with_empty_sku() {
    let docs = translate(
        &plugin("shopify"),
        &store(),
        "products/update",
        &fixture(SWORDFOX_PRODUCT),
    );
    assert_eq!(
        docs,
        vec![
            Document::Price(PriceChange {
                reference_code: String::new(),
                external_id: Some("32338683166817".into()),
                external_parent_id: Some("4643710664801".into()),
                price: "1111.00".into(),
                mrp: None,
            }),
            Document::StockLevel(StorefrontStock {
                reference_code: String::new(),
                external_id: Some("32338683166817".into()),
                location: String::new(),
                external_location_id: None,
                external_parent_id: Some("4643710664801".into()),
                external_inventory_id: Some("34269676896353".into()),
                available: "1".into(),
            }),
        ]
    );
}

#[test]
fn swordfox_inventory_level() {
    let docs = translate(
        &plugin("shopify"),
        &store(),
        "inventory_levels/update",
        &fixture(SWORDFOX_LEVEL),
    );
    assert_eq!(
        docs,
        vec![Document::StockLevel(StorefrontStock {
            reference_code: String::new(),
            external_id: None,
            location: String::new(),
            external_location_id: Some("36167909473".into()),
            external_parent_id: None,
            external_inventory_id: Some("34269676896353".into()),
            available: "0".into(),
        })]
    );
    // Disconnected from the location: nothing to report.
    let body = patched(SWORDFOX_LEVEL, json!({"available": null}));
    let docs = translate(
        &plugin("shopify"),
        &store(),
        "inventory_levels/update",
        &body,
    );
    assert_eq!(docs, vec![]);
}

// ---------------------------------------------------------------- outbound

fn stock(available: &str, inventory: Option<&str>, location: Option<&str>) -> Change {
    Change::Stock(StorefrontStock {
        reference_code: "HRX-M".into(),
        external_id: Some("43242963665133".into()),
        location: "BLR".into(),
        external_location_id: location.map(Into::into),
        external_parent_id: Some("7905964785901".into()),
        external_inventory_id: inventory.map(Into::into),
        available: available.into(),
    })
}

/// A stock change of inventory item `item` at the configured location.
fn level(item: &str, available: &str) -> Change {
    stock(available, Some(item), Some("655441491"))
}

fn status(status: &str, carrier: Option<&str>, tracking: Option<&str>) -> Change {
    Change::Status(StatusChange {
        order_id: 42,
        online_reference_no: "5361237360854".into(),
        status: status.into(),
        carrier: carrier.map(Into::into),
        tracking_number: tracking.map(Into::into),
    })
}

fn price(code: &str, variant: &str, product: Option<&str>, amount: &str) -> Change {
    Change::Price(PriceChange {
        reference_code: code.into(),
        external_id: Some(variant.into()),
        external_parent_id: product.map(Into::into),
        price: amount.into(),
        mrp: None,
    })
}

/// Why the connector refuses a change.
async fn plan_error(change: Change) -> poshub_connectors::types::PluginError {
    plan_refusal(&plugin("shopify"), &store(), change).await
}

fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

const GRAPHQL: &str = "https://demo-shop.myshopify.com/admin/api/2026-10/graphql.json";

/// A GraphQL answer with the Standard plan's throttle status.
fn answer(data: Value) -> HttpResponse {
    json_response(
        200,
        &json!({"data": data, "extensions": {"cost": {"requestedQueryCost": 10,
            "actualQueryCost": 10, "throttleStatus": {"maximumAvailable": 2000.0,
            "currentlyAvailable": 1990, "restoreRate": 100.0}}}}),
    )
}

/// The operation name, document and variables of a planned request.
fn operation(request: &HttpRequest) -> (String, String, Value) {
    let body = body_json(request);
    (
        body["operationName"].as_str().unwrap().to_string(),
        body["query"].as_str().unwrap().to_string(),
        body["variables"].clone(),
    )
}

/// The whole reading of an answer to a planned request of `batch`.
async fn reading(
    batch: &[PendingChange],
    planned: &PlannedRequest,
    response: HttpResponse,
) -> Reading {
    plugin("shopify")
        .interpret_response(
            Limits::default(),
            store(),
            "test-key".into(),
            carried(batch, planned),
            planned.request.clone(),
            response,
        )
        .await
        .result
        .unwrap_or_else(|e| panic!("interpret_response: {e}"))
}

#[tokio::test]
async fn stock_sets_quantities_with_compare_and_idempotency_key() {
    let p = plugin("shopify");
    assert_eq!(
        (
            p.info.push_limits.stock,
            p.info.push_limits.price,
            p.info.push_limits.status
        ),
        (250, 250, 1)
    );
    let mut batch = pending(vec![
        level("45337395429613", "12"),
        level("45337395462381", "3.5"),
        level("45337395495149", "-0.5"),
    ]);
    // The hub saw Shopify confirm 15 for the first; never for the others.
    batch[0].confirmed = Some("15".into());
    let planned_batch = plan_batch(&p, &store(), &batch).await;
    assert_eq!(planned_batch.refused, vec![]);
    assert_eq!(
        planned_batch.requests.len(),
        1,
        "one request for the three levels"
    );
    let planned = &planned_batch.requests[0];
    assert_eq!(planned.changes, vec![0, 1, 2]);
    assert_eq!(planned.cost, 10);
    let r = &planned.request;
    assert_eq!((r.method.as_str(), r.url.as_str()), ("POST", GRAPHQL));
    assert_eq!(header(r, "content-type"), Some("application/json"));
    // The plugin never sees the token; the host adds it.
    assert_eq!(header(r, "X-Shopify-Access-Token"), None);
    let (name, query, variables) = operation(r);
    assert_eq!(name, "PoshubSetStock");
    assert!(
        query.contains("inventorySetQuantities(input: $input) @idempotent(key: $key)"),
        "{query}"
    );
    let input = &variables["input"];
    assert_eq!(input["name"], "available");
    assert_eq!(input["reason"], "correction");
    assert_eq!(
        input["quantities"],
        json!([
            {"inventoryItemId": "gid://shopify/InventoryItem/45337395429613",
             "locationId": "gid://shopify/Location/655441491", "quantity": 12, "changeFromQuantity": 15},
            // Whole units: the floor of a fractional level; never confirmed:
            // an explicit null (Shopify refuses a quantity that leaves it out).
            {"inventoryItemId": "gid://shopify/InventoryItem/45337395462381",
             "locationId": "gid://shopify/Location/655441491", "quantity": 3, "changeFromQuantity": null},
            {"inventoryItemId": "gid://shopify/InventoryItem/45337395495149",
             "locationId": "gid://shopify/Location/655441491", "quantity": -1, "changeFromQuantity": null}
        ])
    );
    let key = variables["key"].as_str().unwrap();
    assert!(key.starts_with("test-key-"), "{key}");
    // The same input repeats its key; another input has another.
    let again = plan_batch(&p, &store(), &batch).await;
    assert_eq!(operation(&again.requests[0].request).2["key"], key);
    batch[0].confirmed = Some("14".into());
    let other = plan_batch(&p, &store(), &batch).await;
    assert_ne!(operation(&other.requests[0].request).2["key"], key);

    // Shopify set them: done, and its budget reported.
    let read = reading(
        &batch,
        planned,
        answer(json!({"inventorySetQuantities": {
            "inventoryAdjustmentGroup": {"id": "gid://shopify/InventoryAdjustmentGroup/1"},
            "userErrors": []}})),
    )
    .await;
    assert_eq!(read.outcomes, vec![ChangeOutcome::Done; 3]);
    assert_eq!(
        read.budget,
        Some(Budget {
            available: 1990,
            maximum: 2000,
            restore_per_second: 100
        })
    );

    // The configured API version; versions before 2026-04 are refused.
    let versioned =
        ctx(json!({"base_url": "https://demo-shop.myshopify.com", "api_version": "2026-07"}));
    let r = &plan(&p, &versioned, level("1", "1")).await[0];
    assert_eq!(
        r.url,
        "https://demo-shop.myshopify.com/admin/api/2026-07/graphql.json"
    );
    let old = ctx(json!({"base_url": "https://demo-shop.myshopify.com", "api_version": "2024-10"}));
    let e = plan_refusal(&p, &old, level("1", "1")).await;
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("2026-04"), "{}", e.message);
}

#[tokio::test]
async fn stock_without_ids_is_a_config_error() {
    let e = plan_error(stock("12", None, Some("655441491"))).await;
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("`HRX-M`"), "{}", e.message);
    assert!(e.message.contains("inventory item"), "{}", e.message);

    let e = plan_error(stock("12", Some("45337395429613"), None)).await;
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("hub location `BLR`"), "{}", e.message);
    assert!(e.message.contains("location_ids"), "{}", e.message);

    let e = plan_error(stock("12", Some("gid://x"), Some("655441491"))).await;
    assert_eq!(e.kind, ErrorKind::Config);

    let no_base = ctx(json!({}));
    let e = plan_refusal(
        &plugin("shopify"),
        &no_base,
        stock("1", Some("1"), Some("2")),
    )
    .await;
    assert!(
        e.kind == ErrorKind::Config && e.message.contains("base_url"),
        "{e:?}"
    );

    // In a batch, only the unmapped change is refused.
    let batch = pending(vec![
        level("1", "5"),
        stock("6", None, Some("655441491")),
        level("3", "7"),
    ]);
    let planned_batch = plan_batch(&plugin("shopify"), &store(), &batch).await;
    assert_eq!(planned_batch.refused.len(), 1);
    assert_eq!(planned_batch.refused[0].0, 1);
    assert_eq!(planned_batch.requests.len(), 1);
    assert_eq!(planned_batch.requests[0].changes, vec![0, 2]);
}

fn stale(index: usize) -> Value {
    json!({"code": "CHANGE_FROM_QUANTITY_STALE",
           "field": ["input", "quantities", index.to_string(), "changeFromQuantity"],
           "message": "The changeFromQuantity value does not match persisted value."})
}

/// A stale compare means Shopify sold something the hub has not heard of:
/// the others go again at once, the stale one is retried shortly, and
/// after two tries Shopify's level is read, the drift reported, and the
/// level set from the fresh compare.
#[tokio::test]
async fn a_stale_compare_is_retried_then_read_and_set_fresh() {
    let p = plugin("shopify");
    let mut batch = pending(vec![level("1", "10"), level("2", "20"), level("3", "30")]);
    for (i, p) in batch.iter_mut().enumerate() {
        p.confirmed = Some(format!("{}", (i + 1) * 10 + 1));
    }
    let planned_batch = plan_batch(&p, &store(), &batch).await;
    let planned = &planned_batch.requests[0];
    let stale_answer = answer(json!({"inventorySetQuantities": {
        "inventoryAdjustmentGroup": null, "userErrors": [stale(1)]}}));

    let read = reading(&batch, planned, stale_answer.clone()).await;
    assert_eq!(read.outcomes[0], ChangeOutcome::FollowUp);
    assert_eq!(read.outcomes[2], ChangeOutcome::FollowUp);
    match &read.outcomes[1] {
        ChangeOutcome::Retry {
            after_seconds,
            reason,
        } => {
            assert_eq!(*after_seconds, 2);
            assert!(reason.contains("sale"), "{reason}");
        }
        other => panic!("expected a retry, got {other:?}"),
    }
    // Shopify applied nothing: the two others are sent again on their own.
    assert_eq!(read.follow_ups.len(), 1);
    assert_eq!(read.follow_ups[0].changes, vec![0, 2]);
    let (name, _, variables) = operation(&read.follow_ups[0].request);
    assert_eq!(name, "PoshubSetStock");
    let items: Vec<&Value> = variables["input"]["quantities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| &q["inventoryItemId"])
        .collect();
    assert_eq!(
        items,
        [
            "gid://shopify/InventoryItem/1",
            "gid://shopify/InventoryItem/3"
        ]
    );
    assert_ne!(
        variables["key"],
        operation(&planned.request).2["key"],
        "another input, another key"
    );

    // Still stale on the third attempt: read Shopify's level.
    batch[1].attempts = 2;
    let read = reading(&batch, planned, stale_answer).await;
    assert_eq!(read.outcomes[1], ChangeOutcome::FollowUp);
    let lookup = read
        .follow_ups
        .iter()
        .find(|f| operation(&f.request).0 == "PoshubReadStock")
        .expect("a read of the stale level");
    assert_eq!(lookup.changes, vec![1]);
    let (_, query, variables) = operation(&lookup.request);
    assert!(
        query.contains("inventoryLevel(locationId: $location)"),
        "{query}"
    );
    assert_eq!(variables["ids"], json!(["gid://shopify/InventoryItem/2"]));
    assert_eq!(variables["location"], "gid://shopify/Location/655441491");

    // Shopify holds 18 where the hub expected 21: drift, then a fresh set.
    let lone = vec![batch[1].clone()];
    let lookup = PlannedRequest {
        changes: vec![0],
        ..lookup.clone()
    };
    let read = reading(
        &lone,
        &lookup,
        answer(json!({"nodes": [{"id": "gid://shopify/InventoryItem/2",
            "inventoryLevel": {"quantities": [{"name": "available", "quantity": 18}]}}]})),
    )
    .await;
    assert_eq!(read.outcomes, vec![ChangeOutcome::FollowUp]);
    assert_eq!(
        read.drift,
        vec![Drift {
            change: 0,
            found: "18".into()
        }]
    );
    let (name, _, variables) = operation(&read.follow_ups[0].request);
    assert_eq!(name, "PoshubSetStockFresh");
    assert_eq!(
        variables["input"]["quantities"],
        json!([{"inventoryItemId": "gid://shopify/InventoryItem/2",
                "locationId": "gid://shopify/Location/655441491",
                "quantity": 20, "changeFromQuantity": 18}])
    );

    // An item Shopify does not have fails alone, naming the stale mapping.
    let read = reading(&lone, &lookup, answer(json!({"nodes": [null]}))).await;
    match &read.outcomes[0] {
        ChangeOutcome::Failed(e) => {
            assert_eq!(e.kind, ErrorKind::Config);
            assert!(e.message.contains("mapping"), "{}", e.message);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_inventory_item_fails_alone() {
    let p = plugin("shopify");
    let batch = pending(vec![level("1", "10"), level("404", "20"), level("3", "30")]);
    let planned_batch = plan_batch(&p, &store(), &batch).await;
    let outcomes = interpret_planned(
        &p,
        &store(),
        &batch,
        &planned_batch.requests[0],
        answer(json!({"inventorySetQuantities": {"inventoryAdjustmentGroup": null, "userErrors": [
            {"code": "INVALID_INVENTORY_ITEM", "field": ["input", "quantities", "1", "inventoryItemId"],
             "message": "The specified inventory item could not be found."}]}})),
    )
    .await;
    match &outcomes[1] {
        Outcome::Failed(e) => {
            assert_eq!(e.kind, ErrorKind::Config);
            assert!(!e.retryable);
            assert!(
                e.message.contains("`HRX-M`") && e.message.contains("INVALID_INVENTORY_ITEM"),
                "{}",
                e.message
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    let Outcome::FollowUp(again) = &outcomes[0] else {
        panic!("the others go again: {outcomes:?}");
    };
    assert_eq!(
        operation(&again[0]).2["input"]["quantities"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn price_updates_variants_per_product() {
    let p = plugin("shopify");
    let batch = pending(vec![
        price("HRX-M", "43242963665133", Some("7905964785901"), "59"),
        price("TEE-S", "50000000000001", Some("8000000000001"), "19.99"),
        price("HRX-L", "43242963697901", Some("7905964785901"), "61.50"),
        price("CAP", "50000000000009", None, "9"),
    ]);
    let planned_batch = plan_batch(&p, &store(), &batch).await;
    assert_eq!(planned_batch.refused, vec![]);
    assert_eq!(
        planned_batch.requests.len(),
        2,
        "the updates, and one lookup"
    );
    let set = &planned_batch.requests[0];
    // Product by product, in the order of the aliases.
    assert_eq!(set.changes, vec![0, 2, 1]);
    assert_eq!(set.cost, 20);
    let (name, query, variables) = operation(&set.request);
    assert_eq!(name, "PoshubSetPrices");
    assert!(
        query.contains(
            "p1: productVariantsBulkUpdate(productId: $p1, variants: $v1, allowPartialUpdates: true)"
        ),
        "{query}"
    );
    assert_eq!(variables["p0"], "gid://shopify/Product/7905964785901");
    assert_eq!(
        variables["v0"],
        json!([
            {"id": "gid://shopify/ProductVariant/43242963665133", "price": "59.00", "compareAtPrice": null},
            {"id": "gid://shopify/ProductVariant/43242963697901", "price": "61.50", "compareAtPrice": null}
        ])
    );
    assert_eq!(variables["p1"], "gid://shopify/Product/8000000000001");

    // One variant refused: only it fails.
    let outcomes = interpret_planned(
        &p,
        &store(),
        &batch,
        set,
        answer(json!({
            "p0": {"productVariants": [{"id": "gid://shopify/ProductVariant/43242963665133"}],
                   "userErrors": [{"code": "GREATER_THAN_OR_EQUAL_TO", "field": ["variants", "1", "price"],
                                   "message": "Price must be greater than or equal to 0"}]},
            "p1": {"productVariants": [{"id": "gid://shopify/ProductVariant/50000000000001"}], "userErrors": []}})),
    )
    .await;
    assert_eq!(outcomes[0], Outcome::Done);
    assert_eq!(outcomes[2], Outcome::Done);
    match &outcomes[1] {
        Outcome::Failed(e) => assert!(e.message.contains("`HRX-L`"), "{}", e.message),
        other => panic!("expected a failure, got {other:?}"),
    }

    // The variant mapped without its product: looked up, then updated.
    let lookup = &planned_batch.requests[1];
    assert_eq!(lookup.changes, vec![3]);
    assert_eq!(operation(&lookup.request).0, "PoshubVariantProducts");
    let outcomes = interpret_planned(
        &p,
        &store(),
        &batch,
        lookup,
        answer(
            json!({"nodes": [{"id": "gid://shopify/ProductVariant/50000000000009",
                                 "product": {"id": "gid://shopify/Product/8000000000009"}}]}),
        ),
    )
    .await;
    let Outcome::FollowUp(next) = &outcomes[0] else {
        panic!("expected the update to follow: {outcomes:?}");
    };
    let (name, _, variables) = operation(&next[0]);
    assert_eq!(name, "PoshubSetPrices");
    assert_eq!(variables["p0"], "gid://shopify/Product/8000000000009");
    assert_eq!(variables["v0"][0]["price"], "9.00");

    // MRP is the compare-at price; no variant id is refused.
    let change = Change::Price(PriceChange {
        reference_code: "HRX-M".into(),
        external_id: Some("43242963665133".into()),
        external_parent_id: Some("7905964785901".into()),
        price: "59.00".into(),
        mrp: Some("79.00".into()),
    });
    let r = &plan(&p, &store(), change).await[0];
    assert_eq!(operation(r).2["v0"][0]["compareAtPrice"], "79.00");
    let e = plan_error(Change::Price(PriceChange {
        reference_code: "HRX-M".into(),
        external_id: None,
        external_parent_id: None,
        price: "59.00".into(),
        mrp: None,
    }))
    .await;
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(e.message.contains("`HRX-M`"), "{}", e.message);
}

/// Shopify's answer to the fulfillment-order lookup: one order already
/// closed (an earlier shipment), one still open.
fn fulfillment_orders(second: &str) -> Value {
    json!({"order": {"id": "gid://shopify/Order/5361237360854", "fulfillmentOrders": {"nodes": [
        {"id": "gid://shopify/FulfillmentOrder/1046000778", "status": "CLOSED"},
        {"id": "gid://shopify/FulfillmentOrder/1046000779", "status": second}]}}})
}

#[tokio::test]
async fn delivered_fulfils_the_open_fulfillment_orders() {
    let p = plugin("shopify");
    let change = status("delivered", Some("Delhivery"), Some("DL123456789IN"));
    let requests = plan(&p, &store(), change.clone()).await;
    assert_eq!(requests.len(), 1);
    let lookup = &requests[0];
    let (name, query, variables) = operation(lookup);
    assert_eq!(name, "PoshubFulfillmentOrders");
    assert!(query.contains("fulfillmentOrders(first: 20)"), "{query}");
    assert_eq!(variables["id"], "gid://shopify/Order/5361237360854");

    let outcome = interpret_response(
        &p,
        &store(),
        change.clone(),
        lookup.clone(),
        answer(fulfillment_orders("OPEN")),
    )
    .await;
    let Outcome::FollowUp(next) = outcome else {
        panic!("expected a follow-up, got {outcome:?}");
    };
    let fulfil = &next[0];
    let (name, query, variables) = operation(fulfil);
    assert_eq!(name, "PoshubFulfil");
    assert!(
        query.contains("f0: fulfillmentCreate(fulfillment: $f0)"),
        "{query}"
    );
    assert_eq!(
        variables["f0"],
        json!({
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1046000779"}],
            "notifyCustomer": false,
            "trackingInfo": {"company": "Delhivery", "number": "DL123456789IN"}
        })
    );
    let created = interpret_response(
        &p,
        &store(),
        change.clone(),
        fulfil.clone(),
        answer(json!({"f0": {"fulfillment": {"id": "gid://shopify/Fulfillment/255858046", "status": "SUCCESS"},
                             "userErrors": []}})),
    )
    .await;
    assert_eq!(created, Outcome::Done);
    let refused = interpret_response(
        &p,
        &store(),
        change.clone(),
        fulfil.clone(),
        answer(json!({"f0": {"fulfillment": null,
                             "userErrors": [{"field": ["fulfillment"], "message": "Fulfillment order is closed"}]}})),
    )
    .await;
    assert!(matches!(refused, Outcome::Failed(ref e) if e.message.contains("is closed")));

    // Nothing open any more (already fulfilled on Shopify): done.
    let outcome = interpret_response(
        &p,
        &store(),
        change.clone(),
        lookup.clone(),
        answer(fulfillment_orders("CLOSED")),
    )
    .await;
    assert_eq!(outcome, Outcome::Done);
    // No such order: failed.
    let outcome = interpret_response(
        &p,
        &store(),
        change,
        lookup.clone(),
        answer(json!({"order": null})),
    )
    .await;
    assert!(matches!(outcome, Outcome::Failed(ref e) if !e.retryable));

    // Without carrier or tracking number: no tracking info.
    let bare = status("delivered", None, None);
    let outcome = interpret_response(
        &p,
        &store(),
        bare,
        lookup.clone(),
        answer(fulfillment_orders("IN_PROGRESS")),
    )
    .await;
    let Outcome::FollowUp(next) = outcome else {
        panic!("expected a follow-up, got {outcome:?}");
    };
    assert_eq!(operation(&next[0]).2["f0"].get("trackingInfo"), None);
}

#[tokio::test]
async fn cancelled_cancels_and_other_statuses_send_nothing() {
    let p = plugin("shopify");
    let change = status("cancelled", None, None);
    let requests = plan(&p, &store(), change.clone()).await;
    assert_eq!(requests.len(), 1);
    let (name, query, variables) = operation(&requests[0]);
    assert_eq!(name, "PoshubCancel");
    assert!(
        query.contains(
            "orderCancel(orderId: $id, reason: OTHER, restock: false, notifyCustomer: false"
        ),
        "{query}"
    );
    assert_eq!(variables["id"], "gid://shopify/Order/5361237360854");
    let done = interpret_response(
        &p,
        &store(),
        change.clone(),
        requests[0].clone(),
        answer(json!({"orderCancel": {"job": {"id": "gid://shopify/Job/1"}, "orderCancelUserErrors": []}})),
    )
    .await;
    assert_eq!(done, Outcome::Done);
    let refused = interpret_response(
        &p,
        &store(),
        change,
        requests[0].clone(),
        answer(
            json!({"orderCancel": {"job": null, "orderCancelUserErrors": [
            {"code": "NOT_FOUND", "field": ["orderId"], "message": "Order does not exist"}]}}),
        ),
    )
    .await;
    assert!(matches!(refused, Outcome::Failed(ref e) if e.message.contains("NOT_FOUND")));
    for other in [
        "pending",
        "billed",
        "ready",
        "out_for_delivery",
        "returned",
        "partially_returned",
    ] {
        assert_eq!(
            plan(&p, &store(), status(other, None, None)).await,
            vec![],
            "{other}"
        );
    }
}

#[tokio::test]
async fn responses_throttling_and_refusals() {
    let p = plugin("shopify");
    let change = level("45337395429613", "12");
    let request = plan(&p, &store(), change.clone()).await.remove(0);

    // THROTTLED: wait until the bucket holds the requested cost again.
    let throttled = json_response(
        200,
        &json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": null,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 4, "restoreRate": 100.0}}}}),
    );
    let outcome =
        interpret_response(&p, &store(), change.clone(), request.clone(), throttled).await;
    assert_eq!(outcome, Outcome::RetryAfter(1));

    // 401: a wrong token; trying again will not help.
    let refused = interpret(
        &p,
        &store(),
        change.clone(),
        request.clone(),
        401,
        r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#,
    )
    .await;
    match refused {
        Outcome::Failed(e) => {
            assert_eq!(e.kind, ErrorKind::Upstream);
            assert!(!e.retryable);
            assert!(e.message.contains("401"), "{}", e.message);
        }
        other => panic!("expected a failure, got {other:?}"),
    }

    // A document Shopify refuses is a failure, named.
    let invalid = json_response(
        200,
        &json!({"errors": [{"message": "Field 'inventorySetQuantitie' doesn't exist on type 'Mutation'",
                "extensions": {"code": "undefinedField"}}]}),
    );
    let outcome = interpret_response(&p, &store(), change, request, invalid).await;
    assert!(matches!(outcome, Outcome::Failed(ref e) if e.message.contains("doesn't exist")));

    // A failed lookup is read the usual way too.
    let delivered = status("delivered", None, None);
    let lookup = plan(&p, &store(), delivered.clone()).await.remove(0);
    match interpret(&p, &store(), delivered, lookup, 502, "bad gateway").await {
        Outcome::Failed(e) => assert!(e.retryable),
        other => panic!("expected a retryable failure, got {other:?}"),
    }
}

/// Amounts beyond the decimal range (29 digits) used to reach `Decimal`'s
/// `+` and `*`, which panic: the plugin trapped. Found by the `shopify` fuzz
/// target's review; the inputs are in fuzz/regressions/shopify/. Each is now
/// an invalid-input error naming where.
#[test]
fn amounts_too_large_for_a_decimal_are_refused_not_a_trap() {
    const HUGE: &str = "79228162514264337593543950335";
    let p = plugin("shopify");
    let cases = [
        (
            "orders/create",
            // A goods line (it has a SKU): its rate is worked out.
            json!({"id": 1, "total_price": "1.00", "line_items": [
                {"quantity": 1, "price": "1.00", "sku": "X", "tax_lines": [{"rate": HUGE}]}]}),
            "line 1 (untitled)",
        ),
        (
            "orders/create",
            json!({"id": 1, "total_price": "1.00", "line_items": [
                {"quantity": "2", "tip_payment_gateway": "x", "price_set": {"shop_money": {"amount": HUGE}}}]}),
            "line 1 (untitled)",
        ),
        (
            "orders/create",
            json!({"id": 1, "total_price": "1.00", "line_items": [
                {"quantity": 1, "price": "1.00", "discount_allocations": [{"amount": HUGE}, {"amount": HUGE}]}]}),
            "discount allocation 2",
        ),
        (
            "orders/create",
            json!({"id": 1, "total_price": "1.00", "line_items": [],
                   "shipping_lines": [{"price": HUGE}, {"price": HUGE}]}),
            "shipping line 2",
        ),
        // Duties and additional fees are charges of their own now, passed
        // on as written: the hub refuses an amount beyond its 18 digits.
        (
            "refunds/create",
            json!({"id": 2, "order_id": 1, "transactions": [
                {"kind": "refund", "amount": HUGE}, {"kind": "refund", "amount": HUGE}]}),
            "transaction 2",
        ),
    ];
    for (topic, body, at) in cases {
        let err = translate_err(&p, &store(), topic, body.to_string().as_bytes());
        assert!(
            err.contains("too large") && err.contains(at),
            "{topic} {body}: {err}"
        );
    }
}

/// An order edit took the second line out (`current_quantity` 0, and no
/// refund explains it): the order is booked as it now stands, without that
/// line, at Shopify's `current_*` totals (2 x 54.00 + 2 x 9.72 IGST).
#[test]
fn an_order_edit_books_the_order_as_it_stands() {
    let mut body = fixture_json(SANJEEV);
    for (i, current) in [1, 0, 1].into_iter().enumerate() {
        body["line_items"][i]["current_quantity"] = current.into();
    }
    body["current_total_price"] = "127.44".into();
    body["current_total_price_set"] = json!({"shop_money": {"amount": "127.44"}});
    body["current_total_tax"] = "19.44".into();
    body["current_total_tax_set"] = json!({"shop_money": {"amount": "19.44"}});
    let order = order_of("orders/create", &serde_json::to_vec(&body).unwrap());
    assert_eq!(order.lines.len(), 2, "the line taken out is not booked");
    assert_eq!(order.to_json()["lines"][1]["tax_amount"], "9.72");
    assert_eq!(order.to_json()["total"], "127.44");
    validate(&order, false, PAYMENT_TYPES).expect("the edited order adds up");
    // Left at its current quantity only because a refund gave it back, the
    // line stays: the refund reaches the hub as its own document.
    body["refunds"] = json!([{"id": 9, "refund_line_items": [
        {"line_item_id": body["line_items"][1]["id"].clone(), "quantity": 1}]}]);
    let order = order_of("orders/create", &serde_json::to_vec(&body).unwrap());
    assert_eq!(order.lines.len(), 3);
    assert_eq!(order.to_json()["total"], "191.16");
}
