//! The gofrugal API dialect through the real compiled plugin: what each
//! dialect request asks of the hub (`plan_api`) and how the hub's canonical
//! answers read in the dialect (`render_api`). Most requests here are
//! written as a vendor storefront sends them, and every expected value is
//! worked out by hand in the comments; the tests at the end send the real
//! client bodies of `fixtures/found/gofrugal/` (see its SOURCES.md) as they
//! are stored.

use crate::common::*;

use poshub_connectors::types::{
    ApiCommand, ApiItemQuery, ApiOrderQuery, ApiRequest, ApiResponse, CanonicalOrder, LineKeys,
};
use serde_json::{json, Value};

fn store() -> poshub_connectors::types::CallContext {
    ctx(json!({"base_url": "https://shop.example.com", "webhook_secret": "s3cret"}))
}

/// A store whose new orders go to `BLR` unless they name a location.
fn store_with_location() -> poshub_connectors::types::CallContext {
    ctx(json!({"base_url": "https://shop.example.com", "location": "BLR"}))
}

/// A realistic vendor order: two items, the first with a 7.5% discount,
/// cash on delivery, a mobile number, shipping.
///
/// Row 0: 499.99 × 2 = 999.98; 7.5% of it is 74.9985, rounded half up
/// 75.00; the item amount is 999.98 − 75.00 = 924.98.
/// Row 1: 418.00 × 1 = 418.00, no discount.
/// Total: 924.98 + 418.00 + 50 shipping = 1392.98.
fn sales_order() -> Value {
    json!({"salesOrder": {
        "onlineReferenceNo": "WEB-10045",
        "createdAt": "2026-11-26 18:42:10",
        "status": "Pending",
        "totalQuantity": 3,
        "totalAmount": 1392.98,
        "paymentMode": 1,
        "customerName": "Asha Rao",
        "customerMobile": "98450 12345",
        "customerPhone": "080 4123 4567",
        "customerEmail": "asha.rao@example.com",
        "customerAddress": "12, 4th Cross, Indiranagar",
        "customerCity": "Bengaluru",
        "customerState": "Karnataka",
        "customerPincode": 560038,
        "shippingCharge": 50,
        "shippingMethod": "Standard",
        "shippingName": "Asha Rao",
        "shippingAddress": {"line1": "12, 4th Cross", "city": "Bengaluru", "pincode": "560038"},
        "remarks": "Leave at the gate",
        "orderItems": [
            {
                "itemId": 5012,
                "itemReferenceCode": "TSHIRT-RED-M",
                "itemName": "Cotton T-shirt Red M",
                "quantity": 2,
                "salePrice": 499.99,
                "discountPercentage": 7.5,
                "taxPercentage": 5,
                "itemAmount": 924.98
            },
            {
                "itemId": "5020",
                "itemReferenceCode": "MUG-01",
                "itemName": "Ceramic mug",
                "quantity": "1",
                "salePrice": "418.00",
                "taxPercentage": "18",
                "itemAmount": "418.00"
            }
        ]
    }})
}

async fn plan_post(ctx: &poshub_connectors::types::CallContext, body: &str) -> ApiCommand {
    let p = plugin("gofrugal");
    plan_api(&p, ctx, api_request("POST", "/salesOrders", "", body)).await
}

fn created(cmd: ApiCommand) -> CanonicalOrder {
    match cmd {
        ApiCommand::CreateOrder(order) => order,
        other => panic!("expected create-order, got {other:?}"),
    }
}

/// A dialect answer the plugin gives itself: status, content type, body.
fn responded(cmd: ApiCommand) -> (u16, Value) {
    match cmd {
        ApiCommand::Respond(r) => {
            assert_eq!(content_type(&r), Some("application/json"));
            (
                r.status,
                serde_json::from_slice(&r.body).expect("JSON body"),
            )
        }
        other => panic!("expected a dialect answer, got {other:?}"),
    }
}

fn content_type(r: &ApiResponse) -> Option<&str> {
    r.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str())
}

fn error_fields(body: &Value) -> Vec<(&str, &str)> {
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect()
}

async fn rejected(mut order: Value, edit: impl FnOnce(&mut Value)) -> (u16, Value) {
    edit(&mut order["salesOrder"]);
    responded(plan_post(&store(), &order.to_string()).await)
}

#[tokio::test]
async fn describes_itself() {
    let info = &plugin("gofrugal").info;
    assert_eq!(info.id, "gofrugal");
    assert_eq!(info.platform, "GoFrugal eCommerce API");
    assert!(info.api_dialect);
    assert!(info.topics.is_empty());
    assert!(info.hosts.is_empty());
    assert!(info.outbound_auth.is_empty());
    let props = &info.config_schema["properties"];
    assert_eq!(props["webhook_secret"]["writeOnly"], true);
    assert_eq!(props["base_url"]["format"], "uri");
    assert_eq!(props["utc_offset"]["default"], "+05:30");
    assert_eq!(props["location"]["type"], "string");
    assert_eq!(
        props["default_payment_mode"]["type"],
        json!(["string", "integer"])
    );
    assert_eq!(props["payment_modes"]["type"], "object");
    assert_eq!(
        props["payment_modes"]["additionalProperties"]["type"],
        "string"
    );
}

#[tokio::test]
async fn a_cash_on_delivery_order_becomes_the_canonical_order() {
    let order = created(plan_post(&store_with_location(), &sales_order().to_string()).await);
    let b = &order.to_json();
    assert_eq!(b["online_reference_no"], "WEB-10045");
    assert_eq!(b["location"], "BLR");
    assert_eq!(b["placed_at"], "2026-11-26T18:42:10+05:30");
    assert_eq!(b["notes"], "Leave at the gate");
    assert_eq!(b["total"], "1392.98");

    assert_eq!(b["customer"]["name"], "Asha Rao");
    // The mobile number comes first.
    assert_eq!(b["customer"]["phone"], "98450 12345");
    assert_eq!(b["customer"]["email"], "asha.rao@example.com");
    assert_eq!(
        b["customer"]["address"],
        json!({"address": "12, 4th Cross, Indiranagar", "city": "Bengaluru",
               "state": "Karnataka", "pincode": "560038"})
    );

    let lines = b["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["reference_code"], "TSHIRT-RED-M");
    assert_eq!(lines[0]["quantity"], "2");
    assert_eq!(lines[0]["unit_price"], "499.99");
    assert_eq!(lines[0]["discount"], "75.00");
    assert_eq!(lines[0]["tax_rate"], "5");
    assert_eq!(lines[1]["reference_code"], "MUG-01");
    assert_eq!(lines[1]["quantity"], "1");
    assert_eq!(lines[1]["unit_price"], "418.00");
    assert_eq!(lines[1].get("discount"), None);
    assert_eq!(lines[1]["tax_rate"], "18");
    assert_eq!(
        line_keys(&order),
        vec![
            LineKeys {
                reference_code: Some("TSHIRT-RED-M".into()),
                external_id: Some("5012".into()),
                sku: None,
                title: Some("Cotton T-shirt Red M".into()),
            },
            LineKeys {
                reference_code: Some("MUG-01".into()),
                external_id: Some("5020".into()),
                sku: None,
                title: Some("Ceramic mug".into()),
            },
        ]
    );

    assert_eq!(b["shipping"]["amount"], "50.00");
    assert_eq!(b["shipping"]["method"], "Standard");
    assert_eq!(
        b["shipping"]["address"],
        json!({"line1": "12, 4th Cross", "city": "Bengaluru", "pincode": "560038",
               "name": "Asha Rao"})
    );
    assert_eq!(b["payments"], json!([{"type": "cod", "amount": "1392.98"}]));

    // The hub's own rules agree: prices include tax in this dialect.
    let valid = validate(&order, true, &["cod", "card"]).expect("the order is valid");
    assert_eq!(valid.total.to_string(), "1392.98");
    assert_eq!(valid.lines[0].amount.to_string(), "924.98");
    // 924.98 − 924.98 / 1.05 = 44.0476.. -> 44.05; 418 − 418 / 1.18 = 63.762.. -> 63.76
    assert_eq!(valid.lines[0].tax_amount.to_string(), "44.05");
    assert_eq!(valid.lines[1].tax_amount.to_string(), "63.76");
    assert_eq!(
        valid.contact.phone.map(|p| p.to_string()).as_deref(),
        Some("+919845012345")
    );
}

#[tokio::test]
async fn a_card_order_carries_its_reference() {
    // 2 × 120.00 = 240.00, 0% discount; no shipping; totals as strings.
    let body = json!({"salesOrder": {
        "onlineReferenceNo": 88213,
        "createdAt": "2026-11-27T09:15:00Z",
        "status": "new",
        "totalQuantity": "2",
        "totalAmount": "240",
        "paymentMode": "2",
        "paymentReference": "pay_NxT81Kq",
        "customerName": "Ravi K",
        "customerPhone": "+91 80 4123 4567",
        "customerAddress": {"line1": "7 MG Road", "city": "Mysuru"},
        "locationId": "MYS",
        "orderItems": [{
            "itemReferenceCode": "MUG-01",
            "quantity": 2,
            "salePrice": 120,
            "discountPercentage": 0,
            "itemAmount": 240.0
        }]
    }});
    let order = created(plan_post(&store_with_location(), &body.to_string()).await);
    let b = &order.to_json();
    assert_eq!(b["online_reference_no"], "88213");
    // The order's own locationId wins over the store's default.
    assert_eq!(b["location"], "MYS");
    assert_eq!(b["placed_at"], "2026-11-27T09:15:00Z");
    assert_eq!(b["total"], "240.00");
    assert_eq!(b["customer"]["phone"], "+91 80 4123 4567");
    assert_eq!(b["customer"]["email"], Value::Null);
    assert_eq!(
        b["customer"]["address"],
        json!({"line1": "7 MG Road", "city": "Mysuru"})
    );
    assert_eq!(b.get("shipping"), None);
    assert_eq!(b.get("notes"), None);
    assert_eq!(
        b["lines"],
        json!([{"reference_code": "MUG-01", "quantity": "2", "unit_price": "120.00"}])
    );
    assert_eq!(order.lines[0].keys.external_id, None);
    assert_eq!(order.lines[0].keys.title, None);
    assert_eq!(
        b["payments"],
        json!([{"type": "card", "amount": "240.00", "reference": "pay_NxT81Kq"}])
    );
    let valid = validate(&order, true, &["cod", "card"]).expect("the order is valid");
    assert_eq!(valid.total.to_string(), "240.00");
    assert_eq!(valid.payments.len(), 1);
}

#[tokio::test]
async fn a_store_without_a_location_leaves_it_to_the_key() {
    let order = created(plan_post(&store(), &sales_order().to_string()).await);
    assert_eq!(order.to_json().get("location"), None);
}

#[tokio::test]
async fn a_bad_payment_mode_is_refused() {
    let (status, body) = rejected(sales_order(), |o| o["paymentMode"] = json!(3)).await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], "failure");
    assert_eq!(body["code"], "invalid_payment_mode");
    assert_eq!(
        body["message"],
        "the salesOrder: paymentMode: `3` is not a payment mode; use 1 (cash on delivery) or 2 (card)"
    );
    assert_eq!(
        error_fields(&body),
        [("paymentMode", "invalid_payment_mode")]
    );

    let (status, body) = rejected(sales_order(), |o| o["paymentMode"] = json!("UPI")).await;
    assert_eq!(status, 400);
    assert_eq!(
        error_fields(&body),
        [("paymentMode", "invalid_payment_mode")]
    );

    let (_, body) = rejected(sales_order(), |o| {
        o.as_object_mut().unwrap().remove("paymentMode");
    })
    .await;
    assert_eq!(error_fields(&body), [("paymentMode", "required")]);
}

#[tokio::test]
async fn a_total_quantity_that_does_not_add_up_is_refused() {
    let (status, body) = rejected(sales_order(), |o| o["totalQuantity"] = json!(4)).await;
    assert_eq!(status, 400);
    assert_eq!(
        error_fields(&body),
        [("totalQuantity", "total_quantity_mismatch")]
    );
    assert_eq!(
        body["errors"][0]["message"],
        "totalQuantity is 4 but the items' quantities add up to 3"
    );
}

#[tokio::test]
async fn an_item_amount_that_does_not_add_up_is_refused() {
    // 924.99 is within a cent of 924.98: accepted.
    let order = created(
        plan_post(&store(), &{
            let mut o = sales_order();
            o["salesOrder"]["orderItems"][0]["itemAmount"] = json!("924.99");
            o.to_string()
        })
        .await,
    );
    assert_eq!(order.to_json()["lines"][0]["discount"], "75.00");

    // 999.98 (the amount before the discount) is not.
    let (status, body) = rejected(sales_order(), |o| {
        o["orderItems"][0]["itemAmount"] = json!(999.98)
    })
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        error_fields(&body),
        [("orderItems[0].itemAmount", "item_amount_mismatch")]
    );
    assert_eq!(
        body["errors"][0]["message"],
        "itemAmount is 999.98 but salePrice × quantity − discount is 924.98"
    );
}

/// Changed by "what real clients send": a row without
/// `itemReferenceCode` used to be refused even with an `itemId`; now its
/// `itemId` is its reference code, and only a row with neither is refused.
#[tokio::test]
async fn an_item_without_a_reference_code_uses_its_item_id() {
    let mut o = sales_order();
    let rows = &mut o["salesOrder"]["orderItems"];
    rows[1].as_object_mut().unwrap().remove("itemReferenceCode");
    // Blank is absent, as everywhere in the dialect.
    rows[0]["itemReferenceCode"] = json!("  ");
    let order = created(plan_post(&store(), &o.to_string()).await);
    assert_eq!(order.to_json()["lines"][0]["reference_code"], "5012");
    assert_eq!(order.to_json()["lines"][1]["reference_code"], "5020");
    assert_eq!(order.lines[0].keys.external_id.as_deref(), Some("5012"));
    assert_eq!(order.lines[1].keys.external_id.as_deref(), Some("5020"));

    let (status, body) = rejected(sales_order(), |o| {
        let row = o["orderItems"][1].as_object_mut().unwrap();
        row.remove("itemReferenceCode");
        row.remove("itemId");
    })
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "required");
    assert_eq!(
        error_fields(&body),
        [("orderItems[1].itemReferenceCode", "required")]
    );

    let (_, body) = rejected(sales_order(), |o| {
        o["orderItems"][0]["itemReferenceCode"] = json!("  ");
        o["orderItems"][0]["itemId"] = json!("");
    })
    .await;
    assert_eq!(
        error_fields(&body),
        [("orderItems[0].itemReferenceCode", "required")]
    );
}

#[tokio::test]
async fn bodies_that_are_not_a_sales_order_are_refused() {
    let (status, body) = responded(plan_post(&store(), "{\"salesOrder\": {").await);
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid_json");
    assert_eq!(error_fields(&body), [("body", "invalid_json")]);

    // The order without its envelope.
    let bare = sales_order()["salesOrder"].to_string();
    let (status, body) = responded(plan_post(&store(), &bare).await);
    assert_eq!(status, 400);
    assert_eq!(body["code"], "required");
    assert_eq!(error_fields(&body), [("salesOrder", "required")]);

    let (_, body) = responded(plan_post(&store(), r#"{"salesOrder": [1]}"#).await);
    assert_eq!(error_fields(&body), [("salesOrder", "required")]);
}

#[tokio::test]
async fn every_problem_is_reported_at_once() {
    let (status, body) = rejected(sales_order(), |o| {
        o["status"] = json!("Shipped");
        o["paymentMode"] = json!("UPI");
        o["totalAmount"] = json!("12,00");
        o["createdAt"] = json!("26/11/2026 18:42");
        // Without its itemId too: a row's itemId is its reference code
        // when it has no itemReferenceCode.
        let row = o["orderItems"][0].as_object_mut().unwrap();
        row.remove("itemReferenceCode");
        row.remove("itemId");
        o["orderItems"][0]["quantity"] = json!(0);
        o["orderItems"][1]["itemAmount"] = json!("400.00");
        o["orderItems"][1]["discountPercentage"] = json!(120);
        o["totalQuantity"] = json!("three");
        o["customerAddress"] = json!(["12", "4th Cross"]);
    })
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "validation_failed");
    assert_eq!(body["message"], "the salesOrder has 9 problems");
    // Row 1's itemAmount cannot be checked without a valid discount, so it
    // is not reported as a mismatch on top.
    assert_eq!(
        error_fields(&body),
        [
            ("createdAt", "invalid_date"),
            ("status", "invalid_status"),
            ("totalAmount", "invalid_number"),
            ("paymentMode", "invalid_payment_mode"),
            ("orderItems[0].itemReferenceCode", "required"),
            ("orderItems[0].quantity", "out_of_range"),
            ("orderItems[1].discountPercentage", "out_of_range"),
            ("totalQuantity", "invalid_number"),
            ("customerAddress", "invalid_type"),
        ]
    );
}

#[tokio::test]
async fn created_since_is_the_vendor_time_at_the_store_offset() {
    let p = plugin("gofrugal");
    for query in [
        "q=createdAt>=2026-11-01+00:00:00",
        "q=createdAt>=2026-11-01%2000:00:00",
        "q=createdAt%3E%3D2026-11-01%2000%3A00%3A00",
    ] {
        let cmd = plan_api(&p, &store(), api_request("GET", "/salesOrders", query, "")).await;
        assert_eq!(
            cmd,
            ApiCommand::ListOrders(ApiOrderQuery {
                status: None,
                updated_since: Some("2026-11-01T00:00:00+05:30".into()),
                limit: None,
                cursor: None,
            }),
            "{query}"
        );
    }
    let dubai = ctx(json!({"utc_offset": "+04:00"}));
    let cmd = plan_api(
        &p,
        &dubai,
        api_request(
            "GET",
            "/salesOrders",
            "status=BILLED&q=createdAt>=2026-11-01+09:30:00&limit=50&cursor=djE6MTc",
            "",
        ),
    )
    .await;
    assert_eq!(
        cmd,
        ApiCommand::ListOrders(ApiOrderQuery {
            status: Some("billed".into()),
            updated_since: Some("2026-11-01T09:30:00+04:00".into()),
            limit: Some(50),
            cursor: Some("djE6MTc".into()),
        })
    );
    // The delivery statuses, in the dialect's spelling.
    for (raw, hub) in [
        ("Ready", "ready"),
        ("Shipped", "shipped"),
        ("OutForDelivery", "out_for_delivery"),
        ("PartiallyReturned", "partially_returned"),
    ] {
        let cmd = plan_api(
            &p,
            &store(),
            api_request("GET", "/salesOrders", &format!("status={raw}"), ""),
        )
        .await;
        let ApiCommand::ListOrders(q) = cmd else {
            panic!("{raw}: {cmd:?}")
        };
        assert_eq!(q.status.as_deref(), Some(hub), "{raw}");
    }
}

#[tokio::test]
async fn bad_list_queries_are_refused_together() {
    let p = plugin("gofrugal");
    let cmd = plan_api(
        &p,
        &store(),
        api_request(
            "GET",
            "/salesOrders",
            "q=updatedAt>=2026-11-01+00:00:00&status=Lost&limit=501",
            "",
        ),
    )
    .await;
    let (status, body) = responded(cmd);
    assert_eq!(status, 400);
    assert_eq!(body["code"], "validation_failed");
    assert_eq!(
        error_fields(&body),
        [
            ("q", "invalid_filter"),
            ("status", "invalid_status"),
            ("limit", "invalid_limit")
        ]
    );

    let cmd = plan_api(
        &p,
        &store(),
        api_request(
            "GET",
            "/items",
            "q=itemTimeStamp>=2026-13-01+00:00:00&limit=0",
            "",
        ),
    )
    .await;
    let (_, body) = responded(cmd);
    assert_eq!(
        error_fields(&body),
        [("q", "invalid_date"), ("limit", "invalid_limit")]
    );
}

#[tokio::test]
async fn one_order_by_path_or_by_id() {
    let p = plugin("gofrugal");
    for (path, query) in [
        ("/salesOrders/17", ""),
        ("/salesOrders/17/", ""),
        ("/salesOrders", "id=17"),
    ] {
        let cmd = plan_api(&p, &store(), api_request("GET", path, query, "")).await;
        assert_eq!(cmd, ApiCommand::GetOrder(17), "{path}?{query}");
    }
    for (path, query) in [("/salesOrders/WEB-10045", ""), ("/salesOrders", "id=-3")] {
        let cmd = plan_api(&p, &store(), api_request("GET", path, query, "")).await;
        let (status, body) = responded(cmd);
        assert_eq!(status, 400, "{path}?{query}");
        assert_eq!(error_fields(&body), [("id", "invalid_id")]);
    }
}

#[tokio::test]
async fn items_for_a_location_or_all() {
    let p = plugin("gofrugal");
    let cmd = plan_api(&p, &store(), api_request("GET", "/items", "", "")).await;
    assert_eq!(cmd, ApiCommand::ListItems(ApiItemQuery::default()));

    let cmd = plan_api(
        &p,
        &store(),
        api_request(
            "GET",
            "/items",
            "locationId=BLR&q=itemTimeStamp%3E%3D2026-11-20+09%3A15%3A00&limit=100&cursor=djE6NDI&page=1&sort=name",
            "",
        ),
    )
    .await;
    assert_eq!(
        cmd,
        ApiCommand::ListItems(ApiItemQuery {
            location: Some("BLR".into()),
            updated_since: Some("2026-11-20T09:15:00+05:30".into()),
            limit: Some(100),
            cursor: Some("djE6NDI".into()),
        })
    );

    // An empty value is no filter; a known parameter twice is refused.
    let cmd = plan_api(
        &p,
        &store(),
        api_request("GET", "/items", "locationId=&limit=20", ""),
    )
    .await;
    assert_eq!(
        cmd,
        ApiCommand::ListItems(ApiItemQuery {
            limit: Some(20),
            ..ApiItemQuery::default()
        })
    );
    let cmd = plan_api(
        &p,
        &store(),
        api_request("GET", "/items", "locationId=BLR&locationId=MYS", ""),
    )
    .await;
    let (_, body) = responded(cmd);
    assert_eq!(error_fields(&body), [("locationId", "duplicate_parameter")]);

    // Paging is by cursor: a later page number would be the first page again.
    for path in ["/items", "/salesOrders"] {
        let cmd = plan_api(
            &p,
            &store(),
            api_request("GET", path, "page=2&limit=100", ""),
        )
        .await;
        let (status, body) = responded(cmd);
        assert_eq!(status, 400);
        assert_eq!(error_fields(&body), [("page", "use_cursor")]);
    }
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods() {
    let p = plugin("gofrugal");
    let cmd = plan_api(&p, &store(), api_request("GET", "/products", "", "")).await;
    let (status, body) = responded(cmd);
    assert_eq!(status, 404);
    // Changed by "what real clients send": the vendor's `error` object is
    // added.
    assert_eq!(
        body,
        json!({"status": "failure", "code": "not_found",
               "message": "no such path `/products`; the API has /items, /salesOrders and /salesOrders/{id}",
               "errors": [],
               "error": {"code": 4404,
                         "message": "no such path `/products`; the API has /items, /salesOrders and /salesOrders/{id}"}})
    );

    for (method, path, allowed) in [
        ("DELETE", "/salesOrders", "GET, POST"),
        ("POST", "/items", "GET"),
        ("PUT", "/salesOrders/17", "GET"),
    ] {
        let cmd = plan_api(&p, &store(), api_request(method, path, "", "{}")).await;
        let ApiCommand::Respond(r) = cmd else {
            panic!("{method} {path}: expected a dialect answer, got {cmd:?}");
        };
        assert_eq!(r.status, 405, "{method} {path}");
        assert!(r.headers.contains(&("allow".into(), allowed.into())));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["code"], "method_not_allowed");
        assert_eq!(body["error"]["code"], 4405);
        assert_eq!(
            body["message"],
            format!("{method} {path} is not supported; use {allowed}")
        );
    }
}

/// The hub's answer for the order of [`sales_order`], as the store API
/// writes it.
fn hub_order() -> Value {
    json!({
        "id": 17,
        "online_reference_no": "WEB-10045",
        "store": "WEB",
        "location": "BLR",
        "status": "pending",
        "customer": {"id": 3, "name": "Asha Rao", "phone": "+919845012345", "email": "asha.rao@example.com"},
        "lines": [
            {"line_no": 1, "reference_code": "TSHIRT-RED-M", "item_code": "TSHIRT", "quantity": "2",
             "unit_price": "499.99", "discount": "75.00", "tax_rate": "5", "tax_amount": "44.05", "amount": "924.98"},
            {"line_no": 2, "reference_code": "MUG-01", "item_code": "MUG-01", "quantity": "1",
             "unit_price": "418.00", "discount": "0.00", "tax_rate": "18", "tax_amount": "63.76", "amount": "418.00"}
        ],
        "shipping": {"amount": "50.00", "method": "Standard", "address": {"line1": "12, 4th Cross", "name": "Asha Rao"}},
        "payments": [{"type": "cod", "amount": "1392.98", "reference": null}],
        "total": "1392.98",
        "bill_no": null,
        "notes": "Leave at the gate",
        "placed_at": "2026-11-26T13:12:10Z",
        "created_at": "2026-11-27T10:00:00.123456Z",
        "updated_at": "2026-11-27T10:00:00.123456Z",
        "history": [{"status": "pending", "at": "2026-11-27T10:00:00.123456Z", "by": "store", "note": null}]
    })
}

/// [`hub_order`] in the dialect. createdAt is placed_at (13:12:10Z) at
/// +05:30; updatedAt drops the fraction; row 1's discount is
/// 75.00 / 999.98 × 100 = 7.50015.. -> 7.50; totalQuantity 2 + 1.
const DIALECT_ORDER: &str = concat!(
    r#"{"id":17,"onlineReferenceNo":"WEB-10045","createdAt":"2026-11-26 18:42:10","#,
    r#""updatedAt":"2026-11-27 15:30:00","status":"Pending","billNo":null,"locationId":"BLR","#,
    r#""totalQuantity":3,"totalAmount":1392.98,"paymentMode":1,"paymentReference":null,"#,
    r#""customerName":"Asha Rao","customerMobile":"+919845012345","customerEmail":"asha.rao@example.com","#,
    r#""shippingCharge":50.00,"shippingMethod":"Standard","remarks":"Leave at the gate","orderItems":["#,
    r#"{"rowNo":1,"itemReferenceCode":"TSHIRT-RED-M","itemId":"TSHIRT","salePrice":499.99,"quantity":2,"#,
    r#""discountPercentage":7.50,"discountAmount":75.00,"taxPercentage":5,"taxAmount":44.05,"itemAmount":924.98},"#,
    r#"{"rowNo":2,"itemReferenceCode":"MUG-01","itemId":"MUG-01","salePrice":418.00,"quantity":1,"#,
    r#""discountPercentage":0.00,"discountAmount":0.00,"taxPercentage":18,"taxAmount":63.76,"itemAmount":418.00}]}"#
);

fn text(r: &ApiResponse) -> &str {
    std::str::from_utf8(&r.body).expect("UTF-8 body")
}

#[tokio::test]
async fn a_created_order_reads_in_the_dialect() {
    let p = plugin("gofrugal");
    let request = api_request("POST", "/salesOrders", "", &sales_order().to_string());
    let r = render_api(&p, &store(), request, 201, &hub_order()).await;
    assert_eq!(r.status, 201);
    assert_eq!(content_type(&r), Some("application/json"));
    // Changed by "what real clients send": the vendor's `result` is added.
    assert_eq!(
        text(&r),
        format!(
            r#"{{"status":"success","result":{{"status":"success","id":17}},"salesOrder":{DIALECT_ORDER}}}"#
        )
    );
    assert!(text(&r).contains(r#""salePrice":499.99,"#));
    assert!(text(&r).contains(r#""shippingCharge":50.00,"#));
}

#[tokio::test]
async fn one_order_reads_in_the_dialect() {
    let p = plugin("gofrugal");
    // A billed card order: paymentMode 2 with its reference, no shipping.
    let mut order = hub_order();
    order["status"] = json!("billed");
    order["bill_no"] = json!("BLR/2026/000412");
    order["payments"] = json!([{"type": "card", "amount": "1392.98", "reference": "pay_NxT81Kq"}]);
    order["shipping"] = Value::Null;
    order["placed_at"] = Value::Null;
    for (path, query) in [("/salesOrders/17", ""), ("/salesOrders", "id=17")] {
        let r = render_api(
            &p,
            &store(),
            api_request("GET", path, query, ""),
            200,
            &order,
        )
        .await;
        assert_eq!(r.status, 200);
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        let so = &body["salesOrder"];
        assert_eq!(so["status"], "Billed");
        assert_eq!(so["billNo"], "BLR/2026/000412");
        assert_eq!(so["paymentMode"], 2);
        assert_eq!(so["paymentReference"], "pay_NxT81Kq");
        // No placed_at: the time the hub took it, at +05:30.
        assert_eq!(so["createdAt"], "2026-11-27 15:30:00");
        assert_eq!(so["shippingMethod"], Value::Null);
        assert!(text(&r).contains(r#""shippingCharge":0.00,"#));
        assert_eq!(body.as_object().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_list_keeps_only_orders_created_since_the_bound() {
    let p = plugin("gofrugal");
    let order = |id: i64, placed_at: Value, created_at: &str| {
        let mut o = hub_order();
        o["id"] = json!(id);
        o["online_reference_no"] = json!(format!("WEB-{id}"));
        o["placed_at"] = placed_at;
        o["created_at"] = json!(created_at);
        o["updated_at"] = json!("2026-11-02T08:00:00Z");
        o
    };
    let page = json!({
        "sales_orders": [
            // Placed 2026-10-31 23:59:59 IST, updated since: dropped.
            order(16, json!("2026-10-31T18:29:59Z"), "2026-10-31T18:30:05Z"),
            // Placed exactly at 2026-11-01 00:00:00 IST: kept.
            order(17, json!("2026-10-31T18:30:00Z"), "2026-10-31T18:30:02Z"),
            // No placed_at; taken by the hub 2026-11-01 10:00 IST: kept.
            order(18, Value::Null, "2026-11-01T04:30:00Z"),
        ],
        "next_cursor": "djE6MTg"
    });
    let request = api_request(
        "GET",
        "/salesOrders",
        "q=createdAt>=2026-11-01+00:00:00",
        "",
    );
    let r = render_api(&p, &store(), request, 200, &page).await;
    assert_eq!(r.status, 200);
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    let orders = body["salesOrders"].as_array().unwrap();
    let ids: Vec<_> = orders.iter().map(|o| o["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [17, 18]);
    assert_eq!(orders[0]["createdAt"], "2026-11-01 00:00:00");
    assert_eq!(orders[1]["createdAt"], "2026-11-01 10:00:00");
    assert_eq!(orders[1]["updatedAt"], "2026-11-02 13:30:00");
    assert_eq!(body["nextCursor"], "djE6MTg");
    assert!(text(&r).ends_with(r#""nextCursor":"djE6MTg"}"#));

    // Without a bound, every order the hub listed.
    let request = api_request("GET", "/salesOrders", "status=pending", "");
    let r = render_api(&p, &store(), request, 200, &page).await;
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["salesOrders"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_validation_problem_names_dialect_fields() {
    let p = plugin("gofrugal");
    let problem = json!({
        "type": "urn:poshub:problem:unknown_reference_code",
        "title": "Unprocessable Entity",
        "status": 422,
        "code": "unknown_reference_code",
        "detail": "order is invalid: lines[1].reference_code: no variant has reference code `MUG-01`",
        "errors": [{"field": "lines[1].reference_code", "code": "unknown_reference_code",
                    "message": "no variant has reference code `MUG-01`"}]
    });
    let request = api_request("POST", "/salesOrders", "", &sales_order().to_string());
    let r = render_api(&p, &store(), request.clone(), 422, &problem).await;
    assert_eq!(r.status, 422);
    assert_eq!(content_type(&r), Some("application/json"));
    // Changed by "what real clients send": the vendor's `error` object is
    // added.
    assert_eq!(
        text(&r),
        concat!(
            r#"{"status":"failure","code":"unknown_reference_code","#,
            r#""message":"order is invalid: lines[1].reference_code: no variant has reference code `MUG-01`","#,
            r#""errors":[{"field":"orderItems[1].itemReferenceCode","code":"unknown_reference_code","#,
            r#""message":"no variant has reference code `MUG-01`"}],"#,
            r#""error":{"code":4422,"#,
            r#""message":"order is invalid: lines[1].reference_code: no variant has reference code `MUG-01`"}}"#
        )
    );

    let problem = json!({
        "type": "urn:poshub:problem:validation_failed", "title": "Unprocessable Entity",
        "status": 422, "code": "validation_failed", "detail": "4 problems",
        "errors": [
            {"field": "total", "code": "total_mismatch", "message": "total is 1392.98 but the lines and shipping add up to 1342.98"},
            {"field": "customer.phone", "code": "invalid_phone", "message": "not a phone number"},
            {"field": "payments[0].type", "code": "payment_type_not_allowed", "message": "`cod` is not accepted by this store; allowed: card"},
            {"field": "online_reference_no", "code": "invalid_online_reference_no", "message": "must be 1 to 64 characters"},
            {"field": "location", "code": "location_out_of_scope", "message": "not yours"}
        ]
    });
    let r = render_api(&p, &store(), request, 422, &problem).await;
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["code"], "validation_failed");
    assert_eq!(
        error_fields(&body),
        [
            ("totalAmount", "total_mismatch"),
            ("customerMobile", "invalid_phone"),
            ("paymentMode", "payment_type_not_allowed"),
            ("onlineReferenceNo", "invalid_online_reference_no"),
            ("locationId", "location_out_of_scope"),
        ]
    );
}

#[tokio::test]
async fn conflicts_and_other_hub_errors_keep_their_status() {
    let p = plugin("gofrugal");
    let request = api_request("POST", "/salesOrders", "", &sales_order().to_string());
    let duplicate = json!({
        "type": "urn:poshub:problem:duplicate_online_reference_no", "title": "Conflict",
        "status": 409, "code": "duplicate_online_reference_no",
        "detail": "this store already has an order with online_reference_no `WEB-10045`",
        "existing_id": 17
    });
    let r = render_api(&p, &store(), request.clone(), 409, &duplicate).await;
    assert_eq!(r.status, 409);
    // Changed by "what real clients send": the vendor's `error` object is
    // added (here and in the 401 below).
    assert_eq!(
        text(&r),
        concat!(
            r#"{"status":"failure","code":"duplicate_online_reference_no","#,
            r#""message":"this store already has an order with online_reference_no `WEB-10045`","#,
            r#""errors":[],"existingId":17,"error":{"code":4409,"#,
            r#""message":"this store already has an order with online_reference_no `WEB-10045`"}}"#
        )
    );

    let short = json!({
        "type": "urn:poshub:problem:insufficient_stock", "title": "Conflict", "status": 409,
        "code": "insufficient_stock",
        "detail": "not enough stock: line 0 (TSHIRT-RED-M): 2 requested, 1 available",
        "lines": [{"line": 0, "reference_code": "TSHIRT-RED-M", "requested": "2", "available": "1"}]
    });
    let r = render_api(&p, &store(), request, 409, &short).await;
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(r.status, 409);
    assert_eq!(body["code"], "insufficient_stock");
    assert_eq!(
        body["errors"],
        json!([{"field": "orderItems[0].quantity", "code": "insufficient_stock",
                "message": "2 of TSHIRT-RED-M requested, 1 available"}])
    );

    let unauthorized = json!({"type": "urn:poshub:problem:unauthorized", "title": "Unauthorized",
        "status": 401, "code": "unauthorized", "detail": "unknown API key"});
    let r = render_api(
        &p,
        &store(),
        api_request("GET", "/items", "", ""),
        401,
        &unauthorized,
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        text(&r),
        concat!(
            r#"{"status":"failure","code":"unauthorized","message":"unknown API key","errors":[],"#,
            r#""error":{"code":4401,"message":"unknown API key"}}"#
        )
    );

    // The hub checks the key before the path: a 401 on any path reads the same.
    let r = render_api(
        &p,
        &store(),
        api_request("GET", "/nowhere", "", ""),
        401,
        &unauthorized,
    )
    .await;
    assert_eq!(r.status, 401);
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["code"], "unauthorized");

    let not_found = json!({"type": "urn:poshub:problem:not_found", "title": "Not Found",
        "status": 404, "code": "not_found", "detail": "sales order 99 not found"});
    let r = render_api(
        &p,
        &store(),
        api_request("GET", "/salesOrders/99", "", ""),
        404,
        &not_found,
    )
    .await;
    assert_eq!(r.status, 404);
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["message"], "sales order 99 not found");
}

#[tokio::test]
async fn an_items_page_has_one_entry_per_item_and_location() {
    let p = plugin("gofrugal");
    // A matrix item (two variants) and a plain item, each at two locations.
    let page = json!({
        "items": [
            {"item_code": "TSHIRT", "name": "Cotton T-shirt", "unit": "PCS", "reference_code": "TSHIRT-RED-M",
             "attributes": {"color": "Red", "size": "M"}, "price": "499.99", "mrp": "599.00", "tax_rate": "5",
             "available": "7", "locations": [{"location": "BLR", "available": "5"}, {"location": "MYS", "available": "2"}],
             "updated_at": "2026-11-20T04:00:00Z"},
            {"item_code": "TSHIRT", "name": "Cotton T-shirt", "unit": "PCS", "reference_code": "TSHIRT-BLUE-M",
             "attributes": {"color": "Blue", "size": "M"}, "price": "499.99", "mrp": "599.00", "tax_rate": "5",
             "available": "-1", "locations": [{"location": "BLR", "available": "0"}, {"location": "MYS", "available": "-1"}],
             "updated_at": "2026-11-21T10:15:30.5Z"},
            {"item_code": "MUG-01", "name": "Ceramic mug", "unit": "PCS", "reference_code": "MUG-01",
             "attributes": {}, "price": "120.00", "mrp": null, "tax_rate": "18",
             "available": "12.5", "locations": [{"location": "BLR", "available": "12.5"}, {"location": "MYS", "available": "0"}],
             "updated_at": "2026-11-22T18:30:00Z"}
        ],
        "next_cursor": "djE6Mw"
    });
    let r = render_api(
        &p,
        &store(),
        api_request("GET", "/items", "limit=3", ""),
        200,
        &page,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(content_type(&r), Some("application/json"));
    let red = |stock: &str| {
        format!(
            r#"{{"stock":{stock},"mrp":599.00,"salePrice":499.99,"itemReferenceCode":"TSHIRT-RED-M","taxPercentage":5,"itemTimeStamp":"2026-11-20 09:30:00","attributes":{{"color":"Red","size":"M"}}}}"#
        )
    };
    let blue = |stock: &str| {
        format!(
            r#"{{"stock":{stock},"mrp":599.00,"salePrice":499.99,"itemReferenceCode":"TSHIRT-BLUE-M","taxPercentage":5,"itemTimeStamp":"2026-11-21 15:45:30","attributes":{{"color":"Blue","size":"M"}}}}"#
        )
    };
    let mug = |stock: &str| {
        format!(
            r#"{{"stock":{stock},"mrp":null,"salePrice":120.00,"itemReferenceCode":"MUG-01","taxPercentage":18,"itemTimeStamp":"2026-11-23 00:00:00","attributes":{{}}}}"#
        )
    };
    let expected = format!(
        concat!(
            r#"{{"items":["#,
            r#"{{"itemId":"TSHIRT","itemName":"Cotton T-shirt","locationId":"BLR","stock":[{},{}]}},"#,
            r#"{{"itemId":"TSHIRT","itemName":"Cotton T-shirt","locationId":"MYS","stock":[{},{}]}},"#,
            r#"{{"itemId":"MUG-01","itemName":"Ceramic mug","locationId":"BLR","stock":[{}]}},"#,
            r#"{{"itemId":"MUG-01","itemName":"Ceramic mug","locationId":"MYS","stock":[{}]}}"#,
            r#"],"nextCursor":"djE6Mw"}}"#
        ),
        red("5"),
        blue("0"),
        red("2"),
        blue("-1"),
        mug("12.5"),
        mug("0"),
    );
    assert_eq!(text(&r), expected);
    assert!(text(&r).contains(r#""salePrice":120.00"#));

    // The last page has no cursor.
    let last = json!({"items": [], "next_cursor": null});
    let r = render_api(
        &p,
        &store(),
        api_request("GET", "/items", "locationId=BLR", ""),
        200,
        &last,
    )
    .await;
    assert_eq!(text(&r), r#"{"items":[],"nextCursor":null}"#);
}

#[tokio::test]
async fn a_bad_utc_offset_is_the_merchants_config_error() {
    let p = plugin("gofrugal");
    let called = p
        .plan_api(
            poshub_connectors::Limits::default(),
            ctx(json!({"utc_offset": "IST"})),
            api_request("GET", "/items", "", ""),
        )
        .await;
    let e = called.result.expect_err("a config error");
    assert!(
        e.to_string()
            .contains("the store's `utc_offset` `IST` is not an offset such as +05:30"),
        "{e}"
    );
}

// ---------------------------------------------------------------------
// What real clients send: the bodies of fixtures/found/gofrugal/, read as
// they are stored (never edited; a test that needs a variant edits its
// parsed copy).

/// A real client body of `fixtures/found/gofrugal/`, as stored.
fn found(name: &str) -> String {
    String::from_utf8(fixture(&format!("found/gofrugal/{name}"))).expect("UTF-8 fixture")
}

fn found_json(name: &str) -> Value {
    serde_json::from_str(&found(name)).expect("JSON fixture")
}

async fn plan_post_at(
    ctx: &poshub_connectors::types::CallContext,
    path: &str,
    body: &str,
) -> ApiCommand {
    let p = plugin("gofrugal");
    plan_api(&p, ctx, api_request("POST", path, "", body)).await
}

/// The vendor's error object beside the dialect's: 4000 + the status, the
/// same message.
fn assert_vendor_error(status: u16, body: &Value) {
    assert_eq!(body["status"], "failure");
    assert_eq!(
        body["error"],
        json!({"code": 4000 + u64::from(status), "message": body["message"]}),
        "{body}"
    );
}

fn validation_fields(e: &poshub_model::DomainError) -> Vec<(&str, &str)> {
    match e {
        poshub_model::DomainError::Invalid(errors) => errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// ChitBridge posts to `<url>/WebReporter/api/v1/salesOrders` rows named by
/// `itemId` only, `orderRemarks`, and a UTC wall clock without a zone.
///
/// Row 0: 1000 × 2 = 2000, 10% off = 200.00, itemAmount 1800.
/// Row 1: 240 × 1, no discount. Total 1800 + 240 = 2040, no shipping.
#[tokio::test]
async fn chitbridge_order_with_item_ids_and_the_webreporter_prefix() {
    let body = found("sales_order__chitbridge_adapter_e2e.json");
    let order = created(plan_post_at(&store(), "/WebReporter/api/v1/salesOrders", &body).await);
    let b = &order.to_json();
    assert_eq!(b["online_reference_no"], "CB-gf1aaaaa");
    assert_eq!(b["placed_at"], "2026-09-05T10:00:00+05:30");
    assert_eq!(
        b["notes"],
        "ChitBridge order gf1aaaaa-0000 from Priya · offers: Buy 2 save 200"
    );
    assert_eq!(b["total"], "2040.00");
    assert_eq!(b["payments"], json!([{"type": "cod", "amount": "2040.00"}]));
    assert_eq!(
        b["lines"],
        json!([
            {"reference_code": "101", "quantity": "2", "unit_price": "1000.00",
             "discount": "200.00", "tax_rate": "0"},
            {"reference_code": "102", "quantity": "1", "unit_price": "240.00", "tax_rate": "0"}
        ])
    );
    assert_eq!(order.lines[0].keys.external_id.as_deref(), Some("101"));
    assert_eq!(order.lines[0].keys.title.as_deref(), Some("Basmati 25kg"));
    assert_eq!(b.get("shipping"), None);
    let valid = validate(&order, true, &["cod", "card"]).expect("the hub's rules agree");
    assert_eq!(valid.total.to_string(), "2040.00");

    // The client's clock is UTC: a store set to `Z` reads it so.
    let utc = ctx(json!({"utc_offset": "Z"}));
    let order = created(plan_post_at(&utc, "/WebReporter/api/v1/salesOrders", &body).await);
    assert_eq!(order.to_json()["placed_at"], "2026-09-05T10:00:00+00:00");

    // The hub does not know item 101 as a reference code: the error names
    // the field the client sent, itemId.
    let p = plugin("gofrugal");
    let problem = json!({
        "type": "urn:poshub:problem:unknown_reference_code", "title": "Unprocessable Entity",
        "status": 422, "code": "unknown_reference_code",
        "detail": "order is invalid: lines[0].reference_code: no variant has reference code `101`",
        "errors": [{"field": "lines[0].reference_code", "code": "unknown_reference_code",
                    "message": "no variant has reference code `101`"}]
    });
    let request = api_request("POST", "/WebReporter/api/v1/salesOrders", "", &body);
    let r = render_api(&p, &store(), request, 422, &problem).await;
    assert_eq!(r.status, 422);
    let answer: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        error_fields(&answer),
        [("orderItems[0].itemId", "unknown_reference_code")]
    );
    assert_vendor_error(422, &answer);
    assert_eq!(answer["error"]["code"], 4422);
}

/// What ChitBridge's fake answers and the client checks
/// (`String(j.result.status).toLowerCase() === 'success'`), against what the
/// dialect answers for a created order.
#[tokio::test]
async fn a_created_order_answers_the_vendors_result() {
    let vendor = found_json("create_response__chitbridge_fake_gofrugal.json");
    let p = plugin("gofrugal");
    let body = found("sales_order__chitbridge_adapter_e2e.json");
    let request = api_request("POST", "/WebReporter/api/v1/salesOrders", "", &body);
    let r = render_api(&p, &store(), request, 201, &hub_order()).await;
    assert_eq!(r.status, 201);
    let answer: Value = serde_json::from_slice(&r.body).unwrap();
    let result = answer["result"].as_object().expect("result");
    let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(result), keys(vendor["result"].as_object().unwrap()));
    assert_eq!(
        result["status"].as_str().unwrap().to_lowercase(),
        vendor["result"]["status"].as_str().unwrap().to_lowercase()
    );
    // Exactly "success", as meerabsapi and kagati compare it.
    assert_eq!(result["status"], "success");
    assert_eq!(result["id"], 17);
    // The answer keeps its own fields.
    assert_eq!(answer["status"], "success");
    assert_eq!(answer["salesOrder"]["id"], 17);
}

/// Aarvi's middleware sends no paymentMode, rows by itemId, the split
/// address lines. 125 × 2 + 250 × 1 + 40 shipping = 540.
#[tokio::test]
async fn aarvi_order_without_a_payment_mode() {
    let body = found("sales_order__aarvi_firebase_middleware.json");
    // Without a default the store refuses it, naming paymentMode.
    let (status, answer) = responded(plan_post(&store(), &body).await);
    assert_eq!(status, 400);
    assert_eq!(answer["code"], "required");
    assert_eq!(error_fields(&answer), [("paymentMode", "required")]);
    assert_vendor_error(400, &answer);
    assert_eq!(answer["error"]["code"], 4400);
    // Aarvi reads error.response.data.message.
    assert_eq!(
        answer["message"],
        "the salesOrder: paymentMode: `paymentMode` is required"
    );

    let cod = ctx(json!({"default_payment_mode": 1}));
    let order = created(plan_post(&cod, &body).await);
    let b = &order.to_json();
    assert_eq!(b["online_reference_no"], "q9XbT2LmWc4eRk7s");
    assert_eq!(b["payments"], json!([{"type": "cod", "amount": "540.00"}]));
    assert_eq!(b["customer"]["phone"], "9845012345");
    assert_eq!(
        b["customer"]["address"],
        json!({"line1": "12, 4th Cross", "line2": "Indiranagar", "city": "Bengaluru",
               "pincode": "560038"})
    );
    assert_eq!(b["shipping"], json!({"amount": "40.00"}));
    assert_eq!(b["lines"][0]["reference_code"], "5012");
    assert_eq!(b["lines"][1]["reference_code"], "5020");
    let valid = validate(&order, true, &["cod", "card"]).expect("the hub's rules agree");
    assert_eq!(valid.total.to_string(), "540.00");

    // A default by name, or through the store's own names.
    for config in [
        json!({"default_payment_mode": "Cash on Delivery"}),
        json!({"default_payment_mode": "website", "payment_modes": {"Website": "card"}}),
    ] {
        let order = created(plan_post(&ctx(config.clone()), &body).await);
        let kind = &order.to_json()["payments"][0]["type"];
        assert!(kind == "cod" || kind == "card", "{config}: {kind}");
    }

    // A default that is no payment mode is the merchant's config error.
    let called = plugin("gofrugal")
        .plan_api(
            poshub_connectors::Limits::default(),
            ctx(json!({"default_payment_mode": "cheque"})),
            api_request("POST", "/salesOrders", "", &body),
        )
        .await;
    let e = called.result.expect_err("a config error");
    assert!(
        e.to_string()
            .contains("the store's `default_payment_mode` `cheque` is not a payment mode"),
        "{e}"
    );
    // ... which does not stop the lists.
    let p = plugin("gofrugal");
    let cmd = plan_api(
        &p,
        &ctx(json!({"default_payment_mode": "cheque"})),
        api_request("GET", "/items", "", ""),
    )
    .await;
    assert_eq!(cmd, ApiCommand::ListItems(ApiItemQuery::default()));
}

/// Kagati's TruePOS push: `outletId`, a POS payment-mode name, zero
/// order-level discounts, every split address field, and a totalAmount of
/// 998 + 50 while it sends shippingCharge 0.
#[tokio::test]
async fn kagati_truepos_order() {
    let body = found("sales_order__kagati_truepos_erpOrderPush.json");
    let path = "/TruePOS/api/v1/salesOrders";

    // The payment-mode name is not one the dialect knows.
    let (status, answer) = responded(plan_post_at(&store(), path, &body).await);
    assert_eq!(status, 400);
    assert_eq!(
        error_fields(&answer),
        [("paymentMode", "invalid_payment_mode")]
    );
    assert_eq!(
        answer["errors"][0]["message"],
        "`The Pet Project - Website` is not a payment mode; use 1 (cash on delivery) or 2 (card), \
         or a name: COD, cash, cash on delivery, card, prepaid, online"
    );
    assert_vendor_error(400, &answer);

    // The store maps it.
    let named =
        ctx(json!({"payment_modes": {"The Pet Project - Website": "card", "Manual": "cod"}}));
    let order = created(plan_post_at(&named, path, &body).await);
    let b = &order.to_json();
    assert_eq!(b["online_reference_no"], "5829395824876");
    assert_eq!(b["location"], "314");
    assert_eq!(b["total"], "1048.00");
    assert_eq!(
        b["payments"],
        json!([{"type": "card", "amount": "1048.00"}])
    );
    assert_eq!(
        b["lines"],
        json!([{"reference_code": "121", "quantity": "2", "unit_price": "499.00", "tax_rate": "5"}])
    );
    assert_eq!(order.lines[0].keys.external_id.as_deref(), Some("121"));
    assert_eq!(b["customer"]["name"], "Asha Rao");
    assert_eq!(b["customer"]["phone"], "919845012345");
    assert_eq!(b["customer"]["email"], "asha.rao@example.com");
    assert_eq!(
        b["customer"]["address"],
        json!({"line1": "12, 4th Cross", "line2": "Indiranagar", "area": "Bengaluru",
               "state": "Karnataka", "country": "India", "pincode": "560038"})
    );
    assert_eq!(
        b["shipping"],
        json!({"amount": "0.00", "address": {
            "name": "Asha Rao", "line1": "12, 4th Cross", "line2": "Indiranagar",
            "state": "Karnataka", "country": "India", "pincode": "560038",
            "phone": "+91 98450 12345"}})
    );
    // The hub refuses the total: the rows are 998 and shipping 0, not 1048.
    let e = validate(&order, true, &["cod", "card"]).expect_err("the total does not add up");
    assert_eq!(validation_fields(&e), [("total", "total_mismatch")]);
    let p = plugin("gofrugal");
    let problem = json!({
        "type": "urn:poshub:problem:total_mismatch", "title": "Unprocessable Entity",
        "status": 422, "code": "total_mismatch",
        "detail": "order is invalid: total: total is 1048.00 but the lines and shipping add up to 998.00",
        "errors": [{"field": "total", "code": "total_mismatch",
                    "message": "total is 1048.00 but the lines and shipping add up to 998.00"}]
    });
    let r = render_api(
        &p,
        &named,
        api_request("POST", path, "", &body),
        422,
        &problem,
    )
    .await;
    let answer: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(error_fields(&answer), [("totalAmount", "total_mismatch")]);
    assert_eq!(answer["error"]["code"], 4422);

    // The hub's location errors name outletId, which the client sent.
    let problem = json!({
        "type": "urn:poshub:problem:location_out_of_scope", "title": "Forbidden",
        "status": 403, "code": "location_out_of_scope", "detail": "location 314 is not yours",
        "errors": [{"field": "location", "code": "location_out_of_scope", "message": "not yours"}]
    });
    let r = render_api(
        &p,
        &named,
        api_request("POST", path, "", &body),
        403,
        &problem,
    )
    .await;
    let answer: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        error_fields(&answer),
        [("outletId", "location_out_of_scope")]
    );
    assert_eq!(answer["error"]["code"], 4403);

    // The same order with shipping charged as its total says: booked.
    let mut fixed = found_json("sales_order__kagati_truepos_erpOrderPush.json");
    fixed["salesOrder"]["shippingCharge"] = json!(50);
    let order = created(plan_post_at(&named, path, &fixed.to_string()).await);
    let valid = validate(&order, true, &["cod", "card"]).expect("the hub's rules agree");
    assert_eq!(valid.total.to_string(), "1048.00");

    // An outletId and a different locationId; a non-zero order discount.
    let mut both = fixed.clone();
    both["salesOrder"]["locationId"] = json!("BLR");
    both["salesOrder"]["orderDiscAmt"] = json!("50.00");
    let (status, answer) = responded(plan_post_at(&named, path, &both.to_string()).await);
    assert_eq!(status, 400);
    assert_eq!(
        error_fields(&answer),
        [
            ("orderDiscAmt", "order_discount_not_supported"),
            ("outletId", "location_mismatch"),
        ]
    );
    let mut same = fixed;
    same["salesOrder"]["locationId"] = json!("314");
    let order = created(plan_post_at(&named, path, &same.to_string()).await);
    assert_eq!(order.to_json()["location"], "314");
}

/// meerabsapi's order for RPOS7: strings for money, `"COD"`, a naive local
/// time with microseconds, split shipping fields, and no Content-Type. Its
/// row 2 sends one unit's price as itemAmount (1400 with quantity 2).
#[tokio::test]
async fn meerabsapi_order_from_python() {
    let body = found("sales_order__meerabsapi_idrisbookbank_getOrderSentToPos.json");
    let p = plugin("gofrugal");
    let post = |ctx: poshub_connectors::types::CallContext, body: String| {
        let p = p.clone();
        async move {
            let request = ApiRequest {
                method: "POST".into(),
                path: "/WebReporter/api/v1/salesOrders".into(),
                query: String::new(),
                // requests.post(url, data=json.dumps(body)): no Content-Type.
                headers: vec![],
                body: body.into_bytes(),
            };
            plan_api(&p, &ctx, request).await
        }
    };
    let (status, answer) = responded(post(store(), body.clone()).await);
    assert_eq!(status, 400);
    assert_eq!(answer["code"], "item_amount_mismatch");
    assert_eq!(
        error_fields(&answer),
        [("orderItems[1].itemAmount", "item_amount_mismatch")]
    );
    assert_eq!(
        answer["errors"][0]["message"],
        "itemAmount is 1400.00 but salePrice × quantity − discount is 2800.00"
    );
    // The client reads json['error']['code'] and json['error']['message'].
    assert_vendor_error(400, &answer);
    assert_eq!(answer["error"]["code"], 4400);

    // Without that row's itemAmount the rest is read. 1150 + 1400 × 2 +
    // 250 shipping = 4200.
    let mut fixed: Value = serde_json::from_str(&body).unwrap();
    fixed["salesOrder"]["orderItems"][1]
        .as_object_mut()
        .unwrap()
        .remove("itemAmount");
    let pakistan = ctx(json!({"utc_offset": "+05:00"}));
    let order = created(post(pakistan, fixed.to_string()).await);
    let b = &order.to_json();
    assert_eq!(b["online_reference_no"], "2022112315");
    // The fraction of a second is dropped; the time is read at the offset.
    assert_eq!(b["placed_at"], "2022-11-23T15:04:05+05:00");
    assert_eq!(b["total"], "4200.00");
    assert_eq!(b["payments"], json!([{"type": "cod", "amount": "4200.00"}]));
    assert_eq!(
        b["lines"],
        json!([
            {"reference_code": "100001", "quantity": "1", "unit_price": "1150.00", "tax_rate": "0"},
            {"reference_code": "100002", "quantity": "2", "unit_price": "1400.00", "tax_rate": "0"}
        ])
    );
    assert_eq!(b["customer"]["phone"], "03001234567");
    assert_eq!(
        b["customer"]["address"],
        json!({"line1": "House 12, Street 4, Saddar", "city": "Rawalpindi", "country": "Pakistan"})
    );
    assert_eq!(
        b["shipping"],
        json!({"amount": "250.00", "address": {
            "name": "Ayesha Khan", "line1": "House 12, Street 4, Saddar", "country": "Pakistan",
            "pincode": "0", "phone": "03001234567", "email": "ayesha.khan@example.com"}})
    );
    let valid = validate(&order, true, &["cod", "card"]).expect("the hub's rules agree");
    assert_eq!(valid.total.to_string(), "4200.00");

    // At the default +05:30.
    let order = created(post(store(), fixed.to_string()).await);
    assert_eq!(order.to_json()["placed_at"], "2022-11-23T15:04:05+05:30");
}

/// The rohitnair SDK's README order has no totalAmount, no paymentMode and
/// a `rate` instead of salePrice: refused, naming each field.
#[tokio::test]
async fn rohitnair_sdk_order_is_refused_naming_its_missing_fields() {
    let body = found("sales_order__rohitnair_sdk_readme.json");
    let (status, answer) = responded(plan_post(&store(), &body).await);
    assert_eq!(status, 400);
    assert_eq!(answer["code"], "validation_failed");
    assert_eq!(
        error_fields(&answer),
        [
            ("totalAmount", "required"),
            ("paymentMode", "required"),
            ("orderItems[0].salePrice", "required"),
        ]
    );
    assert_vendor_error(400, &answer);
    assert_eq!(answer["error"]["message"], "the salesOrder has 3 problems");
}

/// Numbers are read from their digits, as strings or JSON numbers: a
/// 17-digit amount as a string, a six-place price, quantities, rates and
/// the totals as strings.
///
/// Row 0: 123456789012345.67 × 1. Row 1: 445.535714 × 2 = 891.071428,
/// itemAmount 891.07 (within 0.01). Total 123456789012345.67 + 891.07 =
/// 123456789013236.74.
#[tokio::test]
async fn numbers_keep_their_digits() {
    let body = json!({"salesOrder": {
        "onlineReferenceNo": "BIG-1",
        "totalQuantity": "3",
        "totalAmount": "123456789013236.74",
        "paymentMode": "2",
        "shippingCharge": "0",
        "orderItems": [
            {"itemReferenceCode": "GOLD-1", "quantity": "1", "salePrice": "123456789012345.67",
             "discountPercentage": "0", "taxPercentage": "3", "itemAmount": "123456789012345.67"},
            {"itemReferenceCode": "MUG-01", "quantity": 2, "salePrice": 445.535714,
             "taxPercentage": "12", "itemAmount": "891.07"}
        ]
    }});
    let order = created(plan_post(&store(), &body.to_string()).await);
    let b = &order.to_json();
    assert_eq!(b["total"], "123456789013236.74");
    assert_eq!(b["payments"][0]["amount"], "123456789013236.74");
    assert_eq!(b["lines"][0]["unit_price"], "123456789012345.67");
    assert_eq!(b["lines"][0]["quantity"], "1");
    assert_eq!(b["lines"][0]["tax_rate"], "3");
    assert_eq!(b["lines"][1]["unit_price"], "445.535714");
    assert_eq!(b["lines"][1]["quantity"], "2");
    assert_eq!(b["lines"][1]["tax_rate"], "12");
    assert_eq!(b["shipping"]["amount"], "0.00");

    // The hub keeps money to 4 places: it refuses the price, and the
    // dialect names salePrice.
    let parsed = serde_json::from_value::<poshub_model::order::OrderRequest>(b.clone());
    let e = parsed.expect_err("more than 4 decimal places").to_string();
    assert!(
        e.contains("445.535714 has more than 4 decimal places"),
        "{e}"
    );
    let p = plugin("gofrugal");
    let problem = json!({
        "type": "urn:poshub:problem:invalid_body", "title": "Unprocessable Entity",
        "status": 422, "code": "invalid_body",
        "detail": "lines[1].unit_price: 445.535714 has more than 4 decimal places",
        "errors": [{"field": "lines[1].unit_price", "code": "invalid_value",
                    "message": "445.535714 has more than 4 decimal places"}]
    });
    let request = api_request("POST", "/salesOrders", "", &body.to_string());
    let r = render_api(&p, &store(), request, 422, &problem).await;
    let answer: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        error_fields(&answer),
        [("orderItems[1].salePrice", "invalid_value")]
    );
    assert_eq!(answer["error"]["code"], 4422);

    // The 17-digit row alone is booked as sent.
    let mut big = body.clone();
    let so = &mut big["salesOrder"];
    so["orderItems"].as_array_mut().unwrap().truncate(1);
    so["totalQuantity"] = json!("1");
    so["totalAmount"] = json!("123456789012345.67");
    let order = created(plan_post(&store(), &big.to_string()).await);
    let valid = validate(&order, true, &["cod", "card"]).expect("the hub's rules agree");
    assert_eq!(valid.total.to_string(), "123456789012345.67");
    assert_eq!(valid.lines[0].amount.to_string(), "123456789012345.67");
}

/// The vendor's path prefixes, any case, on every path.
#[tokio::test]
async fn vendor_path_prefixes_are_accepted() {
    let p = plugin("gofrugal");
    for prefix in [
        "",
        "/WebReporter/api/v1",
        "/webreporter/API/v1",
        "/RayMedi_HQ/api/v1",
        "/TruePOS/api/v1",
        "/servquick/api/v1",
        "/SERVQUICK/api/V1",
    ] {
        let items = format!("{prefix}/items");
        let cmd = plan_api(&p, &store(), api_request("GET", &items, "limit=20", "")).await;
        assert_eq!(
            cmd,
            ApiCommand::ListItems(ApiItemQuery {
                limit: Some(20),
                ..ApiItemQuery::default()
            }),
            "{items}"
        );
        let one = format!("{prefix}/salesOrders/17/");
        let cmd = plan_api(&p, &store(), api_request("GET", &one, "", "")).await;
        assert_eq!(cmd, ApiCommand::GetOrder(17), "{one}");
        let post = format!("{prefix}/salesOrders");
        created(plan_post_at(&store(), &post, &sales_order().to_string()).await);
        let r = render_api(
            &p,
            &store(),
            api_request("POST", &post, "", &sales_order().to_string()),
            201,
            &hub_order(),
        )
        .await;
        let answer: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(answer["result"]["status"], "success", "{post}");
    }
    // Only as the whole first segments.
    for path in [
        "/WebReporter/items",
        "/WebReporter/api/v2/items",
        "/api/v1/items",
    ] {
        let (status, answer) =
            responded(plan_api(&p, &store(), api_request("GET", path, "", "")).await);
        assert_eq!(status, 404, "{path}");
        assert_eq!(answer["error"]["code"], 4404);
    }
}

/// Vendor clients ask for "all" items with a large limit: a page of 500.
#[tokio::test]
async fn an_items_limit_above_500_is_500() {
    let p = plugin("gofrugal");
    for query in [
        "limit=501",
        "limit=10000",
        "limit=30000&selectAll=true",
        "limit=200000",
    ] {
        let cmd = plan_api(
            &p,
            &store(),
            api_request("GET", "/WebReporter/api/v1/items", query, ""),
        )
        .await;
        assert_eq!(
            cmd,
            ApiCommand::ListItems(ApiItemQuery {
                limit: Some(500),
                ..ApiItemQuery::default()
            }),
            "{query}"
        );
    }
}
