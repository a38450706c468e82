//! The vendure connector against payloads captured from Vendure 3.7.3
//! (`fixtures/vendure`, see its README): the connector's Vendure plugin's
//! signed event bodies, and Vendure's own Admin API answers, through the
//! compiled plugin exactly as the hub calls it. Expected values were read
//! off the fixtures.

use crate::common::*;

use poshub_connectors::types::{
    CallContext, Change, Document, ErrorKind, HttpRequest, PendingChange, PriceChange,
    StatusChange, StorefrontStock,
};
use serde_json::{json, Value};

const PLACED: &str = "vendure/webhooks/orders_placed__order1_2_tee_blue_m_1_mug_signed.json";
const PLACED_2: &str = "vendure/webhooks/orders_placed__order2_2_notebook_1_tee_signed.json";
const CANCELLED: &str = "vendure/webhooks/orders_cancelled__order2_with_reason_signed.json";
const REFUND: &str = "vendure/webhooks/refunds_settled__order1_1_mug_signed.json";

fn store() -> CallContext {
    ctx(json!({
        "webhook_secret": "test-secret",
        "api_key": "secret-key",
        "base_url": "http://127.0.0.1:3000",
        "location_ids": {"BLR": "1"}
    }))
}

/// A captured Admin API answer (`fixtures/vendure/admin/NAME.json`).
fn answer(name: &str) -> poshub_connectors::types::HttpResponse {
    let captured = fixture_json(&format!("vendure/admin/{name}.json"));
    json_response(
        captured["response"]["status"].as_u64().unwrap() as u16,
        &captured["response"]["body"],
    )
}

fn stock(code: &str, variant: Option<&str>, available: &str) -> Change {
    Change::Stock(StorefrontStock {
        reference_code: code.into(),
        external_id: variant.map(str::to_string),
        location: "BLR".into(),
        external_location_id: Some("1".into()),
        external_parent_id: None,
        external_inventory_id: None,
        available: available.into(),
    })
}

fn status(status: &str) -> Change {
    status_of("VL7XRPD9V58EPX8U", status)
}

fn status_of(code: &str, status: &str) -> Change {
    Change::Status(StatusChange {
        order_id: 7,
        online_reference_no: code.into(),
        status: status.into(),
        carrier: Some("Delhivery".into()),
        tracking_number: Some("DLV0012345".into()),
    })
}

fn operation(request: &HttpRequest) -> (String, Value) {
    let body = body_json(request);
    (
        body["operationName"].as_str().unwrap().to_string(),
        body["variables"].clone(),
    )
}

#[tokio::test]
async fn describes_its_topics_credentials_and_secrets() {
    let plugin = plugin("vendure");
    let info = &plugin.info;
    assert_eq!(info.id, "vendure");
    assert_eq!(
        info.topics
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        ["orders/placed", "orders/cancelled", "refunds/settled"]
    );
    let props = &info.config_schema["properties"];
    for secret in ["webhook_secret", "api_key", "auth_token"] {
        assert_eq!(props[secret]["writeOnly"], true, "{secret}");
        assert!(
            poshub_connectors::types::SECRET_KEYS.contains(&secret),
            "{secret} is kept from the plugin"
        );
    }
    assert!(store().config.iter().all(|(k, _)| k != "api_key"));
}

#[tokio::test]
async fn the_plugins_signature_is_verified_over_the_exact_bytes() {
    let plugin = plugin("vendure");
    for (file, topic) in [
        (PLACED, "orders/placed"),
        (CANCELLED, "orders/cancelled"),
        (REFUND, "refunds/settled"),
    ] {
        let headers = fixture_json(&file.replace(".json", ".headers.json"));
        let signature = headers["attempts"][0]["headers"]["x-poshub-hmac-sha256"]
            .as_str()
            .unwrap();
        let body = fixture(file);
        assert!(verifies(&plugin, topic, "test-secret", signature, &body).await);
        assert!(!verifies(&plugin, topic, "other-secret", signature, &body).await);
        let mut tampered = body.clone();
        tampered[10] ^= 1;
        assert!(!verifies(&plugin, topic, "test-secret", signature, &tampered).await);
    }
}

#[tokio::test]
async fn a_placed_order_keeps_vendures_prices_and_tax() {
    let docs = translate(
        &plugin("vendure"),
        &store(),
        "orders/placed",
        &fixture(PLACED),
    );
    let order = orders(&docs)[0].clone();
    assert_eq!(order.online_reference_no, "VL7XRPD9V58EPX8U");
    assert_eq!(order.currency.as_deref(), Some("INR"));
    assert_eq!(order.prices_include_tax, Some(true));
    assert_eq!(order.total, "1497.00");
    let keys = line_keys(&order);
    assert_eq!(keys[0].external_id.as_deref(), Some("5"));
    assert_eq!(keys[0].sku.as_deref(), Some("TEE-Blue-M"));
    assert_eq!(keys[1].sku.as_deref(), Some("MUG"));
    let lines = order.to_json()["lines"].clone();
    // 2 x 599.00 with 5 % in it: Vendure's tax on the line is 57.05
    // (1198.00 - 1140.95); 249.00 with 12 %: 26.68.
    assert_eq!(lines[0]["quantity"], "2");
    assert_eq!(lines[0]["unit_price"], "599.00");
    assert_eq!(lines[0]["tax_amount"], "57.05");
    assert_eq!(lines[0]["tax_rate"], "5");
    assert_eq!(lines[1]["unit_price"], "249.00");
    assert_eq!(lines[1]["tax_amount"], "26.68");
    assert!(lines[0].get("discount").is_none_or(Value::is_null));
    let shipping = order.to_json()["shipping"].clone();
    assert_eq!(shipping["amount"], "50.00");
    assert_eq!(shipping["method"], "Standard Shipping");
    let payments = order.to_json()["payments"].clone();
    assert_eq!(
        payments,
        json!([{"type": "prepaid", "amount": "1497.00", "reference": payments[0]["reference"]}])
    );
    let customer = order.to_json()["customer"].clone();
    assert_eq!(customer["name"], "Asha Rao");
    assert_eq!(customer["phone"], "+91 98450 12345");
    // The billing address is all nulls: the shipping address stands in.
    assert_eq!(customer["address"]["city"], "Bengaluru");
    assert_eq!(customer["address"]["countryCode"], "IN");
    assert!(
        customer["address"].get("company").is_none(),
        "nulls left out"
    );
    let valid = validate(&order, true, &["prepaid", "cod"]).expect("the hub takes it");
    assert_eq!(valid.total.to_string(), "1497.00");
}

#[tokio::test]
async fn an_order_without_a_phone_and_a_cancellation_and_a_refund() {
    let plugin = plugin("vendure");
    let docs = translate(&plugin, &store(), "orders/placed", &fixture(PLACED_2));
    let order = orders(&docs)[0].clone();
    assert_eq!(order.online_reference_no, "LQ4TRNFSCG16CKJX");
    validate(&order, true, &["prepaid"]).expect("the hub takes it");
    assert!(order.to_json()["customer"]["phone"].is_null());

    let cancelled = translate(&plugin, &store(), "orders/cancelled", &fixture(CANCELLED));
    let reason = fixture_json(CANCELLED)["cancellationReason"].clone();
    assert_eq!(
        cancelled,
        vec![Document::Cancellation {
            online_reference_no: "LQ4TRNFSCG16CKJX".into(),
            reason: reason.as_str().map(str::to_string),
        }]
    );
    // A cancelled order's lines are quantity 0 in Vendure: as an order it
    // has no lines (the hub already has it from orders/placed).

    let refund = translate(&plugin, &store(), "refunds/settled", &fixture(REFUND));
    let Document::Refund {
        online_reference_no,
        refund_id,
        lines,
        amount,
        restock,
        ..
    } = &refund[0]
    else {
        panic!("{refund:?}");
    };
    assert_eq!(online_reference_no, "VL7XRPD9V58EPX8U");
    assert_eq!(
        refund_id,
        &fixture_json(REFUND)["refund"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    );
    assert_eq!(amount.as_deref(), Some("249.00"));
    assert!(
        lines.is_empty() && !restock,
        "a Vendure refund moves no stock"
    );

    let garbage = translate_err(
        &plugin,
        &store(),
        "orders/placed",
        br#"{"event": "orders/placed"}"#,
    );
    assert!(garbage.contains("order"), "{garbage}");
}

/// Stock: one read for the mapped variants, then on hand = available +
/// what Vendure allocated, for those that differ; an unmapped variant is
/// refused, an unknown one fails alone.
#[tokio::test]
async fn stock_is_read_then_set_with_vendures_allocations_on_top() {
    let plugin = plugin("vendure");
    let ctx = store();
    let batch: Vec<PendingChange> = pending(vec![
        stock("TEE-Blue-M", Some("5"), "23"),
        stock("MUG", Some("10"), "24.5"),
        stock("NOTEBOOK", None, "25"),
        stock("TEE-Red-S", Some("1"), "0"),
        stock("GONE", Some("999"), "3"),
    ]);
    let plan = plan_batch(&plugin, &ctx, &batch).await;
    assert_eq!(plan.refused.len(), 1);
    assert_eq!(plan.refused[0].0, 2);
    assert_eq!(plan.refused[0].1.kind, ErrorKind::Config);
    let [read] = <[_; 1]>::try_from(plan.requests).unwrap();
    let (op, vars) = operation(&read.request);
    assert_eq!(op, "PoshubStockLevels");
    assert_eq!(vars["ids"], json!(["5", "10", "1", "999"]));
    assert_eq!(read.request.url, "http://127.0.0.1:3000/admin-api");

    // Vendure's answer after order 1 was placed: TEE-Blue-M 25 on hand, 2
    // allocated; MUG 25 / 1; TEE-Red-S 0 / 0; no variant 999.
    let outcomes = interpret_planned(
        &plugin,
        &ctx,
        &batch,
        &read,
        answer("03_variants_by_id_after_order"),
    )
    .await;
    let Outcome::FollowUp(writes) = &outcomes[0] else {
        panic!("{outcomes:?}");
    };
    assert!(matches!(outcomes[1], Outcome::FollowUp(_)));
    assert_eq!(outcomes[2], Outcome::Done, "0 on hand is already 0");
    let Outcome::Failed(gone) = &outcomes[3] else {
        panic!("{outcomes:?}");
    };
    assert!(gone.message.contains("no product variant 999"), "{gone:?}");
    let (op, vars) = operation(&writes[0]);
    assert_eq!(op, "PoshubSetStock");
    assert_eq!(
        vars["input"],
        json!([
            {"id": "10", "stockLevels": [{"stockLocationId": "1", "stockOnHand": 25}]},
            {"id": "5", "stockLevels": [{"stockLocationId": "1", "stockOnHand": 25}]},
        ]),
        "23 + 2 allocated; floor(24.5) + 1"
    );
}

#[tokio::test]
async fn vendures_refusals_fail_the_changes_they_name() {
    let plugin = plugin("vendure");
    let ctx = store();
    let change = stock("TEE-Blue-M", Some("5"), "23");
    let [read] = <[_; 1]>::try_from(plan(&plugin, &ctx, change.clone()).await).unwrap();
    // A wrong API key is HTTP 200 with FORBIDDEN: the store's config.
    let Outcome::Failed(e) = interpret_response(
        &plugin,
        &ctx,
        change.clone(),
        read.clone(),
        answer("29_wrong_api_key_error"),
    )
    .await
    else {
        panic!()
    };
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(!e.retryable && e.message.contains("api_key"), "{e:?}");
    // An unknown id makes the whole mutation fail (nothing applied).
    let Outcome::Failed(e) = interpret_response(
        &plugin,
        &ctx,
        change.clone(),
        read.clone(),
        answer("27_update_unknown_variant_error"),
    )
    .await
    else {
        panic!()
    };
    assert!(e.message.contains("ENTITY_NOT_FOUND"), "{e:?}");
    // Down: retried.
    let outcome = interpret(&plugin, &ctx, change, read, 502, "Bad Gateway").await;
    assert!(
        matches!(outcome, Outcome::Failed(ref e) if e.retryable),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn prices_go_in_minor_units_and_drift_is_reported() {
    let plugin = plugin("vendure");
    let ctx = store();
    let mut batch = pending(vec![Change::Price(PriceChange {
        reference_code: "TEE-Blue-M".into(),
        external_id: Some("5".into()),
        external_parent_id: None,
        price: "649.50".into(),
        mrp: None,
    })]);
    batch[0].confirmed = Some("549.00".into());
    let plan = plan_batch(&plugin, &ctx, &batch).await;
    let read = &plan.requests[0];
    assert_eq!(operation(&read.request).0, "PoshubPrices");
    let body = json!({"data": {"productVariants": {"items": [
        {"id": "5", "sku": "TEE-Blue-M", "currencyCode": "INR", "prices": [{"currencyCode": "INR", "price": 59900}]}
    ]}}});
    let called = plugin
        .interpret_response(
            poshub_connectors::Limits::default(),
            ctx.clone(),
            "k".into(),
            batch.clone(),
            read.request.clone(),
            json_response(200, &body),
        )
        .await;
    let reading = called.result.unwrap();
    assert_eq!(reading.drift.len(), 1);
    assert_eq!(reading.drift[0].found, "599.00");
    let (op, vars) = operation(&reading.follow_ups[0].request);
    assert_eq!(op, "PoshubSetPrices");
    assert_eq!(vars["input"], json!([{"id": "5", "price": 64950}]));
}

/// Shipped: the order by code, a fulfilment with the carrier and tracking
/// code, then Shipped; delivered goes on to Delivered.
#[tokio::test]
async fn a_shipment_is_a_fulfilment_moved_to_shipped() {
    let plugin = plugin("vendure");
    let ctx = store();
    let [lookup] = <[_; 1]>::try_from(plan(&plugin, &ctx, status("shipped")).await).unwrap();
    assert_eq!(operation(&lookup).0, "PoshubOrder");
    assert_eq!(operation(&lookup).1, json!({"code": "VL7XRPD9V58EPX8U"}));
    let Outcome::FollowUp(fulfil) = interpret_response(
        &plugin,
        &ctx,
        status("shipped"),
        lookup,
        answer("06_order_by_code"),
    )
    .await
    else {
        panic!()
    };
    let (op, vars) = operation(&fulfil[0]);
    assert_eq!(op, "PoshubFulfil");
    assert_eq!(
        vars["input"]["handler"],
        json!({"code": "manual-fulfillment", "arguments": [
            {"name": "method", "value": "Delhivery"}, {"name": "trackingCode", "value": "DLV0012345"}]})
    );
    assert_eq!(vars["input"]["lines"].as_array().unwrap().len(), 2);
    let Outcome::FollowUp(moved) = interpret_response(
        &plugin,
        &ctx,
        status("shipped"),
        fulfil[0].clone(),
        answer("07_add_fulfillment"),
    )
    .await
    else {
        panic!()
    };
    assert_eq!(operation(&moved[0]).0, "PoshubFulfilmentState");
    assert_eq!(operation(&moved[0]).1["state"], "Shipped");
    assert_eq!(
        interpret_response(
            &plugin,
            &ctx,
            status("shipped"),
            moved[0].clone(),
            answer("11_fulfillment_shipped")
        )
        .await,
        Outcome::Done
    );
    // Delivered goes one step further.
    let Outcome::FollowUp(on) = interpret_response(
        &plugin,
        &ctx,
        status("delivered"),
        moved[0].clone(),
        answer("11_fulfillment_shipped"),
    )
    .await
    else {
        panic!()
    };
    assert_eq!(operation(&on[0]).1["state"], "Delivered");
    // Fulfilled meanwhile by another push of the same order: try again.
    assert_eq!(
        interpret_response(
            &plugin,
            &ctx,
            status("shipped"),
            fulfil[0].clone(),
            answer("10_add_fulfillment_again_error")
        )
        .await,
        Outcome::RetryAfter(1)
    );
    // Statuses Vendure has no state for send nothing.
    assert_eq!(plan(&plugin, &ctx, status("billed")).await, vec![]);
}

#[tokio::test]
async fn a_cancellation_is_cancel_order() {
    let plugin = plugin("vendure");
    let ctx = store();
    let [lookup] =
        <[_; 1]>::try_from(plan(&plugin, &ctx, status_of("LQ4TRNFSCG16CKJX", "cancelled")).await)
            .unwrap();
    let Outcome::FollowUp(cancel) = interpret_response(
        &plugin,
        &ctx,
        status_of("LQ4TRNFSCG16CKJX", "cancelled"),
        lookup,
        answer("21_order2_by_code"),
    )
    .await
    else {
        panic!()
    };
    let (op, vars) = operation(&cancel[0]);
    assert_eq!(op, "PoshubCancel");
    assert_eq!(vars["input"]["cancelShipping"], true);
    assert_eq!(
        interpret_response(
            &plugin,
            &ctx,
            status_of("LQ4TRNFSCG16CKJX", "cancelled"),
            cancel[0].clone(),
            answer("22_cancel_order")
        )
        .await,
        Outcome::Done
    );
    let Outcome::Failed(e) = interpret_response(
        &plugin,
        &ctx,
        status_of("LQ4TRNFSCG16CKJX", "cancelled"),
        cancel[0].clone(),
        answer("24_cancel_again_error"),
    )
    .await
    else {
        panic!()
    };
    assert!(
        e.message.contains("EMPTY_ORDER_LINE_SELECTION_ERROR"),
        "{e:?}"
    );
}
