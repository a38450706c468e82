//! The order lifecycle end to end: partial cancellation, returns with
//! credit notes, delivery tracking, the 409s of steps out of order, and
//! storefront refunds through the canonical connector's webhook. Stock
//! moves are checked in the balances, in the ledger and in what the
//! storefront is pushed.

use std::time::Duration;

use poshub_tests::serde_json::{json, Value};
use poshub_tests::{both_backends, order, FakeStorefront, Received, TestHub};

const SECRET: &str = "lifecycle-secret";

/// A canonical store selling from BLR that pushes to `fake`, with MUG and
/// TOY-Red-S mapped; answers a key for BLR.
async fn pushing_store(hub: &TestHub, fake: &FakeStorefront) -> String {
    hub.load_catalogue().await;
    hub.create_connector_store("SHOP", "canonical", SECRET, json!({"base_url": fake.base}))
        .await;
    hub.map(
        "SHOP",
        &[("MUG", "gid-mug"), ("TOY-Red-S", "gid-toy-red-s")],
    )
    .await
    .expect(200);
    hub.api_key("SHOP", &["BLR"]).await
}

fn pushed(fake: &FakeStorefront) -> Vec<(String, Value)> {
    fake.received()
        .into_iter()
        .map(|r| (r.path, r.body))
        .collect()
}

/// Waits for a push of `code`'s level at `level`.
async fn expect_level(fake: &FakeStorefront, code: &str, level: &str) {
    let got = fake
        .wait_for(Duration::from_secs(5), |r| {
            r.path == "/poshub/stock-levels"
                && r.body["reference_code"] == code
                && r.body["available"] == level
                && r.answered == 200
        })
        .await;
    assert!(
        got.is_some(),
        "no push of {code} at {level}: {:?}",
        pushed(fake)
    );
}

/// Waits for a push of an order's status.
async fn expect_status(fake: &FakeStorefront, reference: &str, status: &str) -> Received {
    let got = fake
        .wait_for(Duration::from_secs(5), |r| {
            r.path == "/poshub/orders/status"
                && r.body["online_reference_no"] == reference
                && r.body["status"] == status
                && r.answered == 200
        })
        .await;
    got.unwrap_or_else(|| panic!("no push of {reference} as {status}: {:?}", pushed(fake)))
}

fn id_of(answer: &Value) -> i64 {
    answer["id"].as_i64().unwrap()
}

/// The must-show story: a partial cancel (pending, then billed) and a
/// partial return restock exactly what came back and push the new level;
/// credit notes refund the lines' shares; the order ends `returned`.
async fn partial_cancel_and_return_restock_and_push(hub: TestHub) {
    let fake = FakeStorefront::start().await;
    let key = pushing_store(&hub, &fake).await;
    expect_level(&fake, "MUG", "10").await;
    expect_level(&fake, "TOY-Red-S", "10").await;
    let placed = hub
        .place_order(
            &key,
            &order(
                "L-1",
                None,
                None,
                &[("MUG", 3, "100.00"), ("TOY-Red-S", 2, "250.00")],
                "cod",
            ),
        )
        .await
        .expect("placed");
    let id = placed.id;
    assert_eq!(placed.original_total, "800.00");
    assert_eq!(placed.lines[0].cancelled_quantity, "0");
    expect_level(&fake, "MUG", "7").await;
    expect_level(&fake, "TOY-Red-S", "8").await;

    // Pending: cancelling one mug releases its reservation.
    let c = hub
        .store_cancel(&key, id, "customer changed mind", &[(1, "1")])
        .await
        .expect("cancelled");
    assert_eq!(c.status, "pending");
    assert_eq!(
        (
            c.lines[0].quantity.as_str(),
            c.lines[0].cancelled_quantity.as_str(),
            c.lines[1].cancelled_quantity.as_str()
        ),
        ("3", "1", "0")
    );
    assert_eq!(c.total, "700.00");
    assert_eq!(c.original_total, "800.00");
    assert_eq!(
        c.credit_notes,
        Vec::<Value>::new(),
        "nothing was billed yet"
    );
    let last = c.history.last().unwrap();
    assert_eq!(last.status, "pending");
    assert_eq!(last.by, "store");
    assert_eq!(
        last.note.as_deref(),
        Some("partially cancelled: line 1 x1; customer changed mind")
    );
    assert_eq!(hub.available("MUG", "BLR").await, "8");
    expect_level(&fake, "MUG", "8").await;

    // Billed: a cancelled toy goes back on hand, with a credit note against
    // the bill.
    let bill = hub.bill(id, "cod").await.expect("billed");
    assert_eq!(bill.bill_no, "BLR-000001");
    assert_eq!(bill.total, "700.00");
    let cancelled = hub
        .admin_post(
            &format!("/admin/v1/sales-orders/{id}/cancel"),
            json!({"lines": [{"reference_code": "TOY-Red-S", "quantity": "1"}]}),
        )
        .await;
    let c = cancelled.expect(200);
    assert_eq!(c["status"], "billed");
    assert_eq!(c["total"], "450.00");
    assert_eq!(c["lines"][1]["cancelled_quantity"], "1");
    let cn = &c["credit_notes"][0];
    assert_eq!(cn["credit_note_no"], "BLR-CN-000001");
    assert_eq!(cn["kind"], "cancellation");
    assert_eq!(cn["bill_no"], "BLR-000001");
    assert_eq!(cn["amount"], "250.00");
    assert_eq!(cn["by"], "admin");
    assert_eq!(
        cn["lines"],
        json!([{"line_no": 2, "reference_code": "TOY-Red-S", "quantity": "1", "amount": "250.00",
                "tax_amount": "26.79", "restocked": [{"location": "BLR", "quantity": "1"}], "written_off": "0"}])
    );
    assert_eq!(
        c["history"].as_array().unwrap().last().unwrap()["note"],
        "partially cancelled: line 2 x1 (credit note BLR-CN-000001)"
    );
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "9");
    expect_level(&fake, "TOY-Red-S", "9").await;

    // Delivered; the store returns one mug: back on hand where it was sold.
    hub.step(id, "deliver", json!({})).await.expect("delivered");
    let returned = hub
        .post(
            &key,
            &format!("/api/v1/sales-orders/{id}/returns"),
            json!({"lines": [{"line_no": 1, "quantity": "1"}], "reason": "chipped", "refund_id": "RMA-1"}),
        )
        .await;
    let r = returned.expect(201).clone();
    let cn = &r["credit_note"];
    assert_eq!(cn["credit_note_no"], "BLR-CN-000002");
    assert_eq!(cn["kind"], "return");
    assert_eq!(cn["bill_no"], "BLR-000001");
    assert_eq!(cn["order_id"], id);
    assert_eq!(cn["online_reference_no"], "L-1");
    assert_eq!(cn["amount"], "100.00");
    // The line's tax is 32.14 for 3 mugs; shares run on the total gone
    // (2/3 of it, less the 1/3 already gone): 21.43 - 10.71.
    assert_eq!(cn["tax_amount"], "10.72");
    assert_eq!(cn["reason"], "chipped");
    assert_eq!(cn["refund_id"], "RMA-1");
    assert_eq!(
        cn["lines"][0]["restocked"],
        json!([{"location": "BLR", "quantity": "1"}])
    );
    assert_eq!(r["order"]["status"], "partially_returned");
    assert_eq!(r["order"]["lines"][0]["returned_quantity"], "1");
    assert_eq!(
        r["order"]["total"], "450.00",
        "returns are credited, not re-totalled"
    );
    assert_eq!(hub.available("MUG", "BLR").await, "9");
    expect_level(&fake, "MUG", "9").await;
    expect_status(&fake, "L-1", "partially_returned").await;

    // The same refund id again: the first answer, nothing moves.
    let again = hub
        .post(
            &key,
            &format!("/api/v1/sales-orders/{id}/returns"),
            json!({"lines": [{"line_no": 1, "quantity": "1"}], "reason": "chipped", "refund_id": "RMA-1"}),
        )
        .await;
    assert_eq!(
        again.expect(200)["credit_note"]["credit_note_no"],
        "BLR-CN-000002"
    );
    assert_eq!(hub.available("MUG", "BLR").await, "9");

    // The rest comes back damaged: written off, no stock; the order is
    // returned.
    let rest = hub
        .admin_post(
            &format!("/admin/v1/sales-orders/{id}/returns"),
            json!({"lines": [{"reference_code": "MUG", "quantity": "1"}, {"line_no": 2, "quantity": "1"}],
                   "restock": false, "reason": "damaged"}),
        )
        .await;
    let r = rest.expect(201).clone();
    let cn = &r["credit_note"];
    assert_eq!(cn["credit_note_no"], "BLR-CN-000003");
    assert_eq!(cn["amount"], "350.00");
    assert_eq!(cn["lines"][0]["restocked"], json!([]));
    assert_eq!(cn["lines"][0]["written_off"], "1");
    assert_eq!(cn["lines"][1]["written_off"], "1");
    assert_eq!(r["order"]["status"], "returned");
    assert_eq!(
        r["order"]["history"].as_array().unwrap().last().unwrap()["note"],
        "returned: line 1 x1, line 2 x1 (credit note BLR-CN-000003, written off); damaged"
    );
    assert_eq!(hub.available("MUG", "BLR").await, "9");
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "9");
    expect_status(&fake, "L-1", "returned").await;

    // The credit notes, on the order and on their own.
    let o = hub.get(&key, &format!("/api/v1/sales-orders/{id}")).await;
    let numbers: Vec<_> = o.expect(200)["credit_notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["credit_note_no"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(numbers, ["BLR-CN-000001", "BLR-CN-000002", "BLR-CN-000003"]);
    let bill = hub.admin_get("/admin/v1/bills/BLR-000001").await;
    assert_eq!(bill.expect(200)["credit_notes"], json!(numbers));
    assert_eq!(bill.body["status"], "active");
    let read = hub.admin_get("/admin/v1/credit-notes/BLR-CN-000003").await;
    assert_eq!(read.expect(200), cn);
    hub.admin_get("/admin/v1/credit-notes/BLR-CN-999999")
        .await
        .expect_problem(404, "not_found");
    // Every level the storefront was last told is the hub's.
    for code in ["MUG", "TOY-Red-S"] {
        let last = fake
            .received()
            .into_iter()
            .rfind(|r| r.path == "/poshub/stock-levels" && r.body["reference_code"] == code)
            .unwrap();
        assert_eq!(last.body["available"], "9", "{code}");
    }
    hub.assert_ledger_balances().await;
}

/// Ready, shipped (carrier and tracking number), out for delivery and
/// delivered: each is recorded with its time and pushed to the store.
async fn delivery_steps_are_tracked_and_pushed(hub: TestHub) {
    let fake = FakeStorefront::start().await;
    let key = pushing_store(&hub, &fake).await;
    let placed = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("T-1", None, None, &[("MUG", 1, "100.00")], "prepaid"),
        )
        .await;
    let id = id_of(placed.expect(201));
    assert_eq!(
        placed.body["delivery"],
        json!({"carrier": null, "tracking_number": null, "ready_at": null, "shipped_at": null,
               "out_for_delivery_at": null, "delivered_at": null})
    );
    let path = |step: &str| format!("/admin/v1/sales-orders/{id}/{step}");
    hub.admin_post(&path("bill"), json!({"payment_type": "prepaid"}))
        .await
        .expect(201);
    expect_status(&fake, "T-1", "billed").await;

    let ready = hub.admin_post(&path("ready"), json!({})).await;
    assert_eq!(ready.expect(200)["status"], "ready");
    assert!(ready.body["delivery"]["ready_at"].is_string());
    assert!(ready.body["delivery"]["shipped_at"].is_null());
    expect_status(&fake, "T-1", "ready").await;

    // A shipment names its carrier and tracking number.
    let blank = hub
        .step(id, "ship", json!({"carrier": " ", "tracking_number": ""}))
        .await
        .expect_err("a blank shipment is refused");
    assert_eq!(
        (blank.status, blank.code.as_str()),
        (422, "validation_failed")
    );
    let fields: Vec<_> = blank
        .errors
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(
        fields,
        [("carrier", "required"), ("tracking_number", "required")]
    );
    let untracked = hub
        .step(id, "ship", json!({"carrier": "Delhivery"}))
        .await
        .expect_err("a shipment needs its tracking number");
    assert_eq!(
        (untracked.status, untracked.code.as_str()),
        (422, "invalid_body")
    );
    let shipped = hub
        .admin_post(
            &path("ship"),
            json!({"carrier": "Delhivery", "tracking_number": "DL123456789IN"}),
        )
        .await;
    let s = shipped.expect(200);
    assert_eq!(s["status"], "shipped");
    assert_eq!(s["delivery"]["carrier"], "Delhivery");
    assert_eq!(s["delivery"]["tracking_number"], "DL123456789IN");
    let push = expect_status(&fake, "T-1", "shipped").await;
    assert_eq!(push.body["carrier"], "Delhivery");
    assert_eq!(push.body["tracking_number"], "DL123456789IN");

    hub.admin_post(&path("out-for-delivery"), json!({}))
        .await
        .expect(200);
    expect_status(&fake, "T-1", "out_for_delivery").await;
    let delivered = hub.admin_post(&path("deliver"), json!({})).await;
    let d = delivered.expect(200).clone();
    assert_eq!(d["status"], "delivered");
    let push = expect_status(&fake, "T-1", "delivered").await;
    assert_eq!(
        push.body["tracking_number"], "DL123456789IN",
        "later statuses still carry the tracking number"
    );

    // The history holds every step, at the times the delivery shows.
    let history = d["history"].as_array().unwrap();
    let statuses: Vec<_> = history
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "pending",
            "billed",
            "ready",
            "shipped",
            "out_for_delivery",
            "delivered"
        ]
    );
    assert_eq!(
        history[3]["note"],
        "shipped by Delhivery, tracking number DL123456789IN"
    );
    for (i, field) in [
        (2, "ready_at"),
        (3, "shipped_at"),
        (4, "out_for_delivery_at"),
        (5, "delivered_at"),
    ] {
        assert_eq!(history[i]["at"], d["delivery"][field], "{field}");
    }
    // The store reads the same, and can filter by the new statuses.
    let seen = hub.get(&key, &format!("/api/v1/sales-orders/{id}")).await;
    assert_eq!(seen.expect(200)["delivery"], d["delivery"]);
    let listed = hub.get(&key, "/api/v1/sales-orders?status=delivered").await;
    assert_eq!(
        listed.expect(200)["sales_orders"].as_array().unwrap().len(),
        1
    );
    let none = hub
        .get(&key, "/api/v1/sales-orders?status=out_for_delivery")
        .await;
    assert_eq!(none.expect(200)["sales_orders"], json!([]));
    hub.get(&key, "/api/v1/sales-orders?status=lost")
        .await
        .expect_problem(400, "invalid_status");

    // Billed orders may still be delivered straight away, and a ready one
    // collected without shipping.
    for (reference, steps) in [
        ("T-2", &["bill", "deliver"][..]),
        ("T-3", &["bill", "ready", "deliver"][..]),
    ] {
        let o = hub
            .post(
                &key,
                "/api/v1/sales-orders",
                order(reference, None, None, &[("MUG", 1, "100.00")], "prepaid"),
            )
            .await;
        let id = id_of(o.expect(201));
        for step in steps {
            hub.admin_post(
                &format!("/admin/v1/sales-orders/{id}/{step}"),
                json!({"payment_type": "prepaid"}),
            )
            .await;
        }
        let o = hub.admin_get(&format!("/admin/v1/sales-orders/{id}")).await;
        assert_eq!(o.expect(200)["status"], "delivered", "{reference}");
        assert!(o.body["delivery"]["shipped_at"].is_null());
    }
    hub.assert_ledger_balances().await;
}

/// Asserts a 409 naming the current status.
#[track_caller]
fn refused(answer: &poshub_tests::Answer, current: &str, verb: &str) {
    let body = answer.expect_problem(409, "invalid_status_transition");
    assert_eq!(body["current_status"], current, "{body}");
    assert_eq!(
        body["detail"],
        format!("cannot {verb} an order that is {current}")
    );
}

/// Steps out of order are 409s naming the status; quantities beyond what is
/// left are 422s naming the line; nothing changes on any refusal.
async fn refusals_name_the_status_or_the_line(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR", "MUM"], false).await;
    hub.create_store("OTHER", &["BLR"], false).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    let other = hub.api_key("OTHER", &["BLR"]).await;
    let placed = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("R-1", Some("BLR"), None, &[("MUG", 2, "100.00")], "cod"),
        )
        .await;
    let id = id_of(placed.expect(201));
    let admin = |step: &str| format!("/admin/v1/sales-orders/{id}/{step}");
    let store = |step: &str| format!("/api/v1/sales-orders/{id}/{step}");
    let ship = json!({"carrier": "Delhivery", "tracking_number": "DL1"});
    let one = json!({"lines": [{"line_no": 1, "quantity": "1"}]});

    // Pending.
    refused(
        &hub.admin_post(&admin("ready"), json!({})).await,
        "pending",
        "mark ready",
    );
    refused(
        &hub.admin_post(&admin("ship"), ship.clone()).await,
        "pending",
        "ship",
    );
    refused(
        &hub.admin_post(&admin("out-for-delivery"), json!({})).await,
        "pending",
        "send out for delivery",
    );
    refused(
        &hub.post(&key, &store("returns"), one.clone()).await,
        "pending",
        "book a return of",
    );
    // Partial cancels ask no more than is left, of lines the order has.
    let too_many = hub
        .post(
            &key,
            &store("cancel"),
            json!({"lines": [{"line_no": 1, "quantity": "3"}]}),
        )
        .await;
    let body = too_many.expect_problem(422, "quantity_exceeds_remaining");
    assert_eq!(body["errors"][0]["field"], "lines[0].quantity");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("line 1 (MUG) has 2 left to cancel; 3 asked"),
        "{body}"
    );
    hub.post(
        &key,
        &store("cancel"),
        json!({"lines": [{"reference_code": "TOY-Blue-M", "quantity": "1"}]}),
    )
    .await
    .expect_problem(422, "unknown_line");
    hub.post(&key, &store("cancel"), json!({"lines": []}))
        .await
        .expect_problem(422, "no_lines");
    hub.post(
        &key,
        &store("cancel"),
        json!({"lines": [{"line_no": 1, "quantity": "0"}]}),
    )
    .await
    .expect_problem(422, "invalid_body");
    hub.post(&other, &store("cancel"), one.clone())
        .await
        .expect_problem(404, "not_found");
    assert_eq!(hub.available("MUG", "BLR").await, "8");

    // Billed.
    hub.admin_post(&admin("bill"), json!({"payment_type": "cod"}))
        .await
        .expect(201);
    refused(
        &hub.admin_post(&admin("out-for-delivery"), json!({})).await,
        "billed",
        "send out for delivery",
    );
    refused(
        &hub.admin_post(&admin("returns"), one.clone()).await,
        "billed",
        "book a return of",
    );
    // Shipped: the goods are with the carrier, nothing can be cancelled.
    hub.admin_post(&admin("ship"), ship.clone())
        .await
        .expect(200);
    refused(
        &hub.post(&key, &store("cancel"), json!({})).await,
        "shipped",
        "cancel",
    );
    refused(
        &hub.post(&key, &store("cancel"), one.clone()).await,
        "shipped",
        "cancel lines of",
    );
    refused(
        &hub.admin_post(&admin("ready"), json!({})).await,
        "shipped",
        "mark ready",
    );
    refused(
        &hub.admin_post(&admin("ship"), ship.clone()).await,
        "shipped",
        "ship",
    );
    // Delivered.
    hub.admin_post(&admin("deliver"), json!({}))
        .await
        .expect(200);
    refused(
        &hub.admin_post(&admin("deliver"), json!({})).await,
        "delivered",
        "deliver",
    );
    refused(
        &hub.admin_post(&admin("cancel"), one.clone()).await,
        "delivered",
        "cancel lines of",
    );
    let too_many = hub
        .post(
            &key,
            &store("returns"),
            json!({"lines": [{"line_no": 1, "quantity": "3"}]}),
        )
        .await;
    let body = too_many.expect_problem(422, "quantity_exceeds_delivered");
    assert_eq!(body["errors"][0]["field"], "lines[0].quantity");
    assert!(
        body["detail"].as_str().unwrap().contains(
            "line 1 (MUG): 2 delivered, 0 already returned, so at most 2 can come back; 3 asked"
        ),
        "{body}"
    );
    hub.post(
        &key,
        &store("returns"),
        json!({"lines": [{"line_no": 9, "quantity": "1"}]}),
    )
    .await
    .expect_problem(422, "unknown_line");
    hub.post(&key, &store("returns"), json!({"lines": []}))
        .await
        .expect_problem(422, "no_lines");
    hub.post(
        &key,
        &store("returns"),
        json!({"lines": [{"line_no": 1, "quantity": "1"}], "location": "XYZ"}),
    )
    .await
    .expect_problem(422, "unknown_location");
    // The key acts for BLR only: it cannot restock at MUM.
    hub.post(
        &key,
        &store("returns"),
        json!({"lines": [{"line_no": 1, "quantity": "1"}], "location": "MUM"}),
    )
    .await
    .expect_problem(403, "location_out_of_scope");
    hub.post(&other, &store("returns"), one.clone())
        .await
        .expect_problem(404, "not_found");
    hub.post(
        &key,
        &store("returns"),
        json!({"lines": [{"line_no": 1, "quantity": "1"}], "refund_id": ""}),
    )
    .await
    .expect_problem(422, "invalid_refund_id");
    // Nothing moved and no credit note was numbered.
    assert_eq!(hub.available("MUG", "BLR").await, "8");
    assert_eq!(hub.available("MUG", "MUM").await, "5");
    let o = hub.admin_get(&format!("/admin/v1/sales-orders/{id}")).await;
    assert_eq!(o.expect(200)["credit_notes"], json!([]));

    // The merchant may restock anywhere: both mugs go to MUM.
    let back = hub
        .admin_post(
            &admin("returns"),
            json!({"lines": [{"line_no": 1, "quantity": "2"}], "location": "MUM"}),
        )
        .await;
    let b = back.expect(201);
    assert_eq!(b["credit_note"]["credit_note_no"], "BLR-CN-000001");
    assert_eq!(
        b["credit_note"]["lines"][0]["restocked"],
        json!([{"location": "MUM", "quantity": "2"}])
    );
    assert_eq!(b["order"]["status"], "returned");
    assert_eq!(hub.available("MUG", "MUM").await, "7");
    assert_eq!(hub.available("MUG", "BLR").await, "8");
    refused(
        &hub.admin_post(&admin("returns"), one.clone()).await,
        "returned",
        "book a return of",
    );
    refused(
        &hub.post(&key, &store("cancel"), json!({})).await,
        "returned",
        "cancel",
    );

    // Cancelling every line left cancels the order (and voids its bill).
    let o = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order(
                "R-2",
                Some("BLR"),
                None,
                &[("MUG", 1, "100.00"), ("TOY-Red-M", 1, "250.00")],
                "cod",
            ),
        )
        .await;
    let id2 = id_of(o.expect(201));
    hub.admin_post(
        &format!("/admin/v1/sales-orders/{id2}/bill"),
        json!({"payment_type": "cod"}),
    )
    .await
    .expect(201);
    let all = hub
        .post(
            &key,
            &format!("/api/v1/sales-orders/{id2}/cancel"),
            json!({"lines": [{"line_no": 2, "quantity": "1"}, {"line_no": 1, "quantity": "1"}], "reason": "address unreachable"}),
        )
        .await;
    let a = all.expect(200);
    assert_eq!(a["status"], "cancelled");
    assert_eq!(a["lines"][0]["cancelled_quantity"], "1");
    assert_eq!(a["lines"][1]["cancelled_quantity"], "1");
    assert_eq!(
        a["history"].as_array().unwrap().last().unwrap()["note"],
        "cancelled: line 1 x1, line 2 x1; address unreachable"
    );
    let bill = hub.admin_get("/admin/v1/bills/BLR-000002").await;
    assert_eq!(bill.expect(200)["status"], "cancelled");
    assert_eq!(hub.available("MUG", "BLR").await, "8");
    assert_eq!(hub.available("TOY-Red-M", "BLR").await, "10");
    // A whole cancel counts every line as cancelled too.
    let o = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("R-3", Some("BLR"), None, &[("MUG", 2, "100.00")], "cod"),
        )
        .await;
    let id3 = id_of(o.expect(201));
    let whole = hub
        .post(
            &key,
            &format!("/api/v1/sales-orders/{id3}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(whole.expect(200)["lines"][0]["cancelled_quantity"], "2");
    assert_eq!(hub.available("MUG", "BLR").await, "8");
    hub.assert_ledger_balances().await;
}

async fn refund(hub: &TestHub, body: Value) -> poshub_tests::Answer {
    let bytes = body.to_string();
    hub.webhook("WEB", "refunds/create", bytes.as_bytes(), Some(SECRET), &[])
        .await
}

/// Storefront refunds through the canonical connector: before shipping they
/// cancel lines, after delivery they are returns; a redelivery is a
/// duplicate; money only is acknowledged; an unknown order is a 404.
async fn refund_webhooks_cancel_or_return(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_connector_store("WEB", "canonical", SECRET, json!({}))
        .await;
    hub.map("WEB", &[("MUG", "gid-mug")]).await.expect(200);
    let body = order(
        "HOOK-1",
        Some("BLR"),
        None,
        &[("MUG", 2, "100.00"), ("TOY-Red-S", 1, "250.00")],
        "prepaid",
    )
    .to_string();
    let placed = hub
        .webhook("WEB", "orders/create", body.as_bytes(), Some(SECRET), &[])
        .await;
    let id = placed.expect(200)["results"][0]["order_id"]
        .as_i64()
        .unwrap();
    assert_eq!(hub.available("MUG", "BLR").await, "8");

    // Before shipping: the refunded mug is cancelled.
    let first = json!({"online_reference_no": "HOOK-1", "refund_id": "RF-1", "amount": "100.00",
        "reason": "out of stock at packing", "lines": [{"reference_code": "MUG", "quantity": "1"}]});
    let r = refund(&hub, first.clone()).await;
    let result = &r.expect(200)["results"][0];
    assert_eq!(result["document"], "refund");
    assert_eq!(result["result"], "cancelled", "{result}");
    assert_eq!(result["order_id"], id);
    assert_eq!(hub.available("MUG", "BLR").await, "9");
    let o = hub.admin_get(&format!("/admin/v1/sales-orders/{id}")).await;
    let o = o.expect(200);
    assert_eq!(o["status"], "pending");
    assert_eq!(o["lines"][0]["cancelled_quantity"], "1");
    assert_eq!(o["total"], "350.00");
    assert_eq!(
        o["history"].as_array().unwrap().last().unwrap()["note"],
        "partially cancelled: line 1 x1; out of stock at packing"
    );
    // Redelivered: nothing more.
    let again = refund(&hub, first).await;
    assert_eq!(again.expect(200)["results"][0]["result"], "duplicate");
    assert_eq!(hub.available("MUG", "BLR").await, "9");
    // The same refund id with other lines is refused and recorded.
    let reused = json!({"online_reference_no": "HOOK-1", "refund_id": "RF-1",
        "lines": [{"reference_code": "TOY-Red-S", "quantity": "1"}]});
    refund(&hub, reused)
        .await
        .expect_problem(409, "refund_id_reused");

    // After delivery: the toy comes back on hand, with a credit note.
    for step in ["bill", "deliver"] {
        hub.admin_post(
            &format!("/admin/v1/sales-orders/{id}/{step}"),
            json!({"payment_type": "prepaid"}),
        )
        .await;
    }
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "9");
    let second = json!({"online_reference_no": "HOOK-1", "refund_id": "RF-2", "amount": "250.00",
        "lines": [{"reference_code": "TOY-Red-S", "quantity": "1"}], "restock": true});
    let r = refund(&hub, second.clone()).await;
    let result = r.expect(200)["results"][0].clone();
    assert_eq!(result["result"], "returned", "{result}");
    assert!(
        result["detail"]
            .as_str()
            .unwrap()
            .contains("credit note BLR-CN-000001 for 250.00 (the storefront refunded 250.00)"),
        "{result}"
    );
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "10");
    let again = refund(&hub, second).await;
    assert_eq!(again.expect(200)["results"][0]["result"], "duplicate");
    assert_eq!(hub.available("TOY-Red-S", "BLR").await, "10");

    // Money only: acknowledged, recorded, nothing moves.
    let money = json!({"online_reference_no": "HOOK-1", "refund_id": "RF-3", "amount": "20.00", "lines": []});
    let r = refund(&hub, money).await;
    let result = &r.expect(200)["results"][0];
    assert_eq!(result["result"], "ignored");
    assert!(
        result["detail"]
            .as_str()
            .unwrap()
            .contains("refund RF-3 of order HOOK-1 (amount 20.00) returns no goods"),
        "{result}"
    );

    // A line named by the storefront's own id, not restocked: the last mug
    // is written off and the order is returned.
    let last = json!({"online_reference_no": "HOOK-1", "refund_id": "RF-4", "restock": false,
        "lines": [{"external_id": "gid-mug", "quantity": "1"}]});
    let r = refund(&hub, last).await;
    assert_eq!(r.expect(200)["results"][0]["result"], "returned");
    assert_eq!(hub.available("MUG", "BLR").await, "9");
    let o = hub.admin_get(&format!("/admin/v1/sales-orders/{id}")).await;
    let o = o.expect(200);
    assert_eq!(o["status"], "returned");
    assert_eq!(o["credit_notes"][1]["lines"][0]["written_off"], "1");
    assert_eq!(o["credit_notes"][1]["refund_id"], "RF-4");

    // Unmapped lines and unknown orders are refused and recorded.
    let unmapped = json!({"online_reference_no": "HOOK-1", "refund_id": "RF-5",
        "lines": [{"external_id": "gid-nothing", "quantity": "1"}]});
    refund(&hub, unmapped)
        .await
        .expect_problem(422, "unmapped_line");
    let unknown = json!({"online_reference_no": "NOPE", "refund_id": "RF-6",
        "lines": [{"reference_code": "MUG", "quantity": "1"}]});
    let r = refund(&hub, unknown).await;
    assert!(r.expect_problem(404, "not_found")["detail"]
        .as_str()
        .unwrap()
        .contains("no order `NOPE`"));
    let events = hub.events("WEB").await;
    let outcomes: Vec<_> = events
        .iter()
        .filter(|e| e["topic"] == "refunds/create")
        .map(|e| {
            (
                e["outcome"].as_str().unwrap(),
                e["http_status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("rejected", 404),
            ("rejected", 422),
            ("accepted", 200),
            ("ignored", 200),
            ("duplicate", 200),
            ("accepted", 200),
            ("rejected", 409),
            ("duplicate", 200),
            ("accepted", 200),
        ]
    );
    assert!(events[0]["detail"]
        .as_str()
        .unwrap()
        .contains("no order `NOPE`"));

    // A refund of a cancelled order is acknowledged.
    let body = order(
        "HOOK-2",
        Some("BLR"),
        None,
        &[("MUG", 1, "100.00")],
        "prepaid",
    )
    .to_string();
    hub.webhook("WEB", "orders/create", body.as_bytes(), Some(SECRET), &[])
        .await
        .expect(200);
    let cancel = json!({"online_reference_no": "HOOK-2"}).to_string();
    hub.webhook(
        "WEB",
        "orders/cancelled",
        cancel.as_bytes(),
        Some(SECRET),
        &[],
    )
    .await
    .expect(200);
    let late = json!({"online_reference_no": "HOOK-2", "refund_id": "RF-7",
        "lines": [{"reference_code": "MUG", "quantity": "1"}]});
    let r = refund(&hub, late).await;
    assert_eq!(r.expect(200)["results"][0]["result"], "ignored");
    assert_eq!(hub.available("MUG", "BLR").await, "9");
    hub.assert_ledger_balances().await;
}

both_backends!(
    partial_cancel_and_partial_return,
    super::partial_cancel_and_return_restock_and_push
);
both_backends!(
    delivery_tracking,
    super::delivery_steps_are_tracked_and_pushed
);
both_backends!(refusals, super::refusals_name_the_status_or_the_line);
both_backends!(refund_webhooks, super::refund_webhooks_cancel_or_return);
