//! Bulk tools end to end: CSV imports of items and mappings (good rows in,
//! bad rows reported by line), reference codes regenerated from a template
//! (all or nothing), and auto-match by SKU from candidates or from what a
//! Shopify store's webhooks reported.

use std::time::Duration;

use poshub_tests::serde_json::{json, Value};
use poshub_tests::{
    answer, both_backends, fixture, order, sign, Answer, FakeStorefront, TestHub, ADMIN_TOKEN,
};

/// Posts a CSV file to an admin endpoint.
async fn post_csv(hub: &TestHub, path: &str, file: &str) -> Answer {
    let res = hub
        .client
        .post(format!("{}{path}", hub.base))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body(file.to_string())
        .send()
        .await
        .expect("request");
    answer(res).await
}

fn codes_of(item: &Value) -> Vec<String> {
    item["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["reference_code"].as_str().unwrap().to_string())
        .collect()
}

/// The rejected rows as (line, key, code).
fn rejected(report: &Value, key: &str) -> Vec<(u64, String, String)> {
    report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r[key].as_str().unwrap_or_default().to_string(),
                r["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const ITEMS_FILE: &str = "\
item_code,name,unit,tax_rate,mrp,price,attributes,reference_code_template,reference_codes
MUG,\"Mug, large\",pcs,12,120.00,100.00,,,
TEE,T-shirt,,5%,599.00,,color=White|Navy Blue;size=S|M,{item_code}-{color}-{size},\"color=White,size=M:TEE-WM\"
BAD,Bad rate,pcs,abc,,,,,
MUG,Mug again,pcs,12,,,,,
CAP,\"Cap with a \"\"quoted\"\" name
over two lines\",pcs,12,,,,,

SHORT,Missing fields
TOY2,Toy,pcs,12,,,color=Red|Blue,{item_code}-{colour},
TEE-Navy-Blue-S,Clash,pcs,12,,,,,
";

async fn csv_items_import_good_rows_and_report_bad_ones(hub: TestHub) {
    let report = post_csv(&hub, "/admin/v1/import/items", ITEMS_FILE).await;
    let report = report.expect(200).clone();
    assert_eq!(report["accepted"], 3, "{report}");
    assert_eq!(
        rejected(&report, "item_code"),
        [
            (4, "BAD".into(), "invalid_tax_rate".into()),
            (5, "MUG".into(), "duplicate_item_code".into()),
            (9, "SHORT".into(), "wrong_field_count".into()),
            (10, "TOY2".into(), "invalid_template".into()),
            (11, "TEE-Navy-Blue-S".into(), "reference_code_taken".into()),
        ]
    );
    let reasons: Vec<&str> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].starts_with("tax_rate: `abc`"), "{}", reasons[0]);
    assert!(reasons[1].contains("already exists"), "{}", reasons[1]);
    assert!(reasons[2].contains("2 fields"), "{}", reasons[2]);
    assert!(reasons[3].contains("colour"), "{}", reasons[3]);
    assert!(reasons[4].contains("TEE-Navy-Blue-S"), "{}", reasons[4]);

    // The good rows, field by field.
    let mug = hub.admin_get("/admin/v1/items/MUG").await;
    let mug = mug.expect(200);
    assert_eq!(mug["name"], "Mug, large");
    assert_eq!(mug["unit"], "pcs");
    assert_eq!(mug["tax_rate"], "12");
    assert_eq!(mug["mrp"], "120.00");
    assert_eq!(codes_of(mug), ["MUG"]);
    assert_eq!(mug["variants"][0]["price"], "100.00");
    let tee = hub.admin_get("/admin/v1/items/TEE").await;
    let tee = tee.expect(200);
    assert_eq!(tee["tax_rate"], "5");
    assert_eq!(tee["unit"], "pcs");
    assert_eq!(tee["mrp"], "599.00");
    assert_eq!(tee["reference_code_template"], "{item_code}-{color}-{size}");
    assert_eq!(
        tee["attributes"],
        json!([{"name": "color", "values": ["White", "Navy Blue"]}, {"name": "size", "values": ["S", "M"]}])
    );
    assert_eq!(
        codes_of(tee),
        [
            "TEE-White-S",
            "TEE-WM",
            "TEE-Navy-Blue-S",
            "TEE-Navy-Blue-M"
        ]
    );
    assert_eq!(
        tee["variants"][1]["attributes"],
        json!({"color": "White", "size": "M"})
    );
    assert_eq!(tee["variants"][1]["price"], Value::Null);
    let cap = hub.admin_get("/admin/v1/items/CAP").await;
    assert_eq!(
        cap.expect(200)["name"],
        "Cap with a \"quoted\" name\nover two lines"
    );
    // The bad rows left nothing behind; the first MUG row stands.
    for code in ["BAD", "SHORT", "TOY2", "TEE-Navy-Blue-S"] {
        hub.admin_get(&format!("/admin/v1/items/{code}"))
            .await
            .expect_problem(404, "not_found");
    }

    // A file that is not CSV, or whose header is wrong, imports nothing.
    let before = "item_code,name\nNEW1,New one\n";
    let missing = post_csv(&hub, "/admin/v1/import/items", "item_code,title\nNEW1,x\n").await;
    let problem = missing.expect_problem(422, "validation_failed");
    let codes: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["unknown_column", "missing_columns"]);
    let broken = post_csv(
        &hub,
        "/admin/v1/import/items",
        &format!("{before}\"NEW2,unclosed\n"),
    )
    .await;
    let problem = broken.expect_problem(422, "invalid_csv");
    assert!(
        problem["detail"].as_str().unwrap().contains("line 3"),
        "{problem}"
    );
    post_csv(&hub, "/admin/v1/import/items", "")
        .await
        .expect_problem(422, "empty_file");
    hub.admin_get("/admin/v1/items/NEW1")
        .await
        .expect_problem(404, "not_found");
    let json_body = hub
        .admin_post("/admin/v1/import/items", json!({"item_code": "X"}))
        .await;
    json_body.expect_problem(415, "unsupported_media_type");
    let unauthorized = hub
        .client
        .post(format!("{}/admin/v1/import/items", hub.base))
        .header("content-type", "text/csv")
        .body(before)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    // A header-only file is a valid, empty import.
    let empty = post_csv(&hub, "/admin/v1/import/items", "item_code,name\r\n").await;
    assert_eq!(empty.expect(200), &json!({"accepted": 0, "rejected": []}));
}

both_backends!(
    csv_items_import,
    super::csv_items_import_good_rows_and_report_bad_ones
);

async fn csv_mappings_import_like_put_mappings(hub: TestHub) {
    hub.load_catalogue().await;
    let fake = FakeStorefront::start().await;
    hub.create_connector_store("SHOP", "canonical", "s", json!({"base_url": fake.base}))
        .await;
    let file = "\
reference_code,external_id,parent_id,inventory_id
MUG,gid-mug,,inv-mug
TOY-Red-S,gid-red-s,prod-toy,
NOPE,gid-nope,,
TOY-Red-M,gid-mug,,
TOY-Green-S,,,
bad code,x,,
";
    let report = post_csv(&hub, "/admin/v1/stores/SHOP/mappings/import", file).await;
    let report = report.expect(200).clone();
    assert_eq!(report["accepted"], 2, "{report}");
    assert_eq!(
        rejected(&report, "reference_code"),
        [
            (4, "NOPE".into(), "unknown_reference_code".into()),
            (5, "TOY-Red-M".into(), "external_id_taken".into()),
            (6, "TOY-Green-S".into(), "invalid_external_id".into()),
            (7, "bad code".into(), "invalid_reference_code".into()),
        ]
    );
    assert!(report["rejected"][2]["reason"]
        .as_str()
        .unwrap()
        .starts_with("external_id: "));
    let mapped = hub.admin_get("/admin/v1/stores/SHOP/mappings").await;
    assert_eq!(
        mapped.expect(200),
        &json!([
            {"reference_code": "TOY-Red-S", "external_id": "gid-red-s", "parent_id": "prod-toy"},
            {"reference_code": "MUG", "external_id": "gid-mug", "inventory_id": "inv-mug"},
        ])
    );
    // Like PUT .../mappings, a new mapping is queued for a first push.
    let pushed = fake
        .wait_for(Duration::from_secs(5), |r| {
            r.path == "/poshub/stock-levels" && r.body["reference_code"] == "MUG"
        })
        .await
        .expect("the imported mapping's first push");
    assert_eq!(pushed.body["external_id"], "gid-mug");
    assert_eq!(pushed.body["available"], "10");

    post_csv(&hub, "/admin/v1/stores/NOPE/mappings/import", file)
        .await
        .expect_problem(404, "not_found");
    post_csv(
        &hub,
        "/admin/v1/stores/SHOP/mappings/import",
        "reference_code\nMUG\n",
    )
    .await
    .expect_problem(422, "missing_columns");
}

both_backends!(
    csv_mappings_import,
    super::csv_mappings_import_like_put_mappings
);

async fn generate(hub: &TestHub, body: Value) -> Answer {
    hub.admin_post("/admin/v1/reference-codes/generate", body)
        .await
}

async fn code_generation_is_all_or_nothing(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR"], false).await;
    let key = hub.api_key("WEB", &["BLR"]).await;
    hub.map("WEB", &[("TOY-Red-S", "gid-red-s")])
        .await
        .expect(200);
    let placed = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("G-1", None, None, &[("TOY-Red-S", 2, "250.00")], "cod"),
        )
        .await;
    let order_id = placed.expect(201)["id"].as_i64().unwrap();
    // A plain item whose code one of the new TOY codes would take.
    hub.admin_post(
        "/admin/v1/items",
        json!({"item_code": "TOY/Green/M", "name": "Spare", "tax_rate": "12"}),
    )
    .await
    .expect(201);

    // The preview: every variant of every matrix item, and the one collision.
    let template = json!({"template": "{item_code}/{color}/{size}"});
    let plan = generate(&hub, template.clone()).await;
    let plan = plan.expect(200).clone();
    assert_eq!(plan["items"], 1, "only TOY is a matrix item");
    assert_eq!(plan["changed"], 6);
    assert_eq!(plan["applied"], false);
    assert_eq!(
        plan["variants"][0],
        json!({"item_code": "TOY", "attributes": {"color": "Red", "size": "S"}, "old": "TOY-Red-S", "new": "TOY/Red/S"})
    );
    assert_eq!(plan["variants"][5]["new"], "TOY/Blue/M");
    assert_eq!(
        plan["collisions"],
        json!([{"item_code": "TOY", "attributes": {"color": "Green", "size": "M"}, "reference_code": "TOY/Green/M",
                "kind": "reference_code_taken",
                "detail": "`TOY/Green/M` for TOY (color=Green, size=M) is already the reference code of item TOY/Green/M"}])
    );

    // Applying it changes nothing and says why.
    let mut apply = template.clone();
    apply["apply"] = json!(true);
    let refused = generate(&hub, apply).await;
    let problem = refused.expect_problem(409, "reference_code_collision");
    assert_eq!(problem["collisions"].as_array().unwrap().len(), 1);
    assert_eq!(problem["collisions"][0]["reference_code"], "TOY/Green/M");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .starts_with("1 collision(s); nothing was changed"));
    let toy = hub.admin_get("/admin/v1/items/TOY").await;
    let toy = toy.expect(200).clone();
    assert_eq!(codes_of(&toy), poshub_tests::TOY_CODES);
    assert_eq!(toy["reference_code_template"], "{item_code}-{color}-{size}");

    // A template without collisions is applied to every variant at once.
    let applied = generate(
        &hub,
        json!({"template": "{item_code}.{color}.{size}", "apply": true}),
    )
    .await;
    let applied = applied.expect(200).clone();
    assert_eq!(applied["applied"], true);
    assert_eq!(applied["changed"], 6);
    let toy = hub.admin_get("/admin/v1/items/TOY").await;
    let toy = toy.expect(200).clone();
    assert_eq!(
        codes_of(&toy),
        [
            "TOY.Red.S",
            "TOY.Red.M",
            "TOY.Green.S",
            "TOY.Green.M",
            "TOY.Blue.S",
            "TOY.Blue.M"
        ]
    );
    assert_eq!(toy["reference_code_template"], "{item_code}.{color}.{size}");
    // Stock, mappings and the store's catalogue follow the variant; the
    // order keeps the code it was placed with.
    assert_eq!(hub.available("TOY.Red.S", "BLR").await, "8");
    hub.admin_get("/admin/v1/stock/TOY-Red-S")
        .await
        .expect_problem(404, "not_found");
    let mapped = hub.admin_get("/admin/v1/stores/WEB/mappings").await;
    assert_eq!(
        mapped.expect(200),
        &json!([{"reference_code": "TOY.Red.S", "external_id": "gid-red-s"}])
    );
    let row = hub
        .item_row(&key, "/api/v1/items?location=BLR", "TOY.Red.S")
        .await;
    assert_eq!(row["attributes"], json!({"color": "Red", "size": "S"}));
    assert_eq!(row["available"], "8");
    let placed = hub
        .get(&key, &format!("/api/v1/sales-orders/{order_id}"))
        .await;
    assert_eq!(
        placed.expect(200)["lines"][0]["reference_code"],
        "TOY-Red-S"
    );
    hub.admin_post(
        &format!("/admin/v1/sales-orders/{order_id}/bill"),
        json!({"payment_type": "cod"}),
    )
    .await
    .expect(201);
    assert_eq!(hub.available("TOY.Red.S", "BLR").await, "8");
    // The new codes sell.
    hub.post(
        &key,
        "/api/v1/sales-orders",
        order("G-2", None, None, &[("TOY.Blue.M", 1, "250.00")], "cod"),
    )
    .await
    .expect(201);
    hub.assert_ledger_balances().await;

    // Applying the same template again changes nothing.
    let again = generate(
        &hub,
        json!({"template": "{item_code}.{color}.{size}", "apply": true}),
    )
    .await;
    assert_eq!(again.expect(200)["changed"], 0);

    // Codes may swap between variants of the plan.
    hub.admin_post(
        "/admin/v1/items",
        json!({"item_code": "PEN", "name": "Pen", "attributes": [{"name": "color", "values": ["Red", "Blue"]}],
               "reference_code_template": "{item_code}-{color}",
               "variants": [{"attributes": {"color": "Red"}, "reference_code": "PEN-Blue"},
                            {"attributes": {"color": "Blue"}, "reference_code": "PEN-Red"}]}),
    )
    .await
    .expect(201);
    let swapped = generate(
        &hub,
        json!({"template": "{item_code}-{color}", "items": ["PEN"], "apply": true}),
    )
    .await;
    let swapped = swapped.expect(200).clone();
    assert_eq!(swapped["items"], 1);
    assert_eq!(swapped["changed"], 2);
    let pen = hub.admin_get("/admin/v1/items/PEN").await;
    let pen = pen.expect(200).clone();
    assert_eq!(codes_of(&pen), ["PEN-Red", "PEN-Blue"]);
    assert_eq!(pen["variants"][0]["attributes"], json!({"color": "Red"}));

    // Items the template does not fit are collisions; bad requests are 422.
    let misfit = generate(
        &hub,
        json!({"template": "{item_code}-{size}", "items": ["PEN", "MUG"]}),
    )
    .await;
    let misfit = misfit.expect(200).clone();
    let kinds: Vec<&str> = misfit["collisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["not_a_matrix_item", "invalid_template"]);
    assert_eq!(misfit["collisions"][1]["item_code"], "PEN");
    let unknown = generate(&hub, json!({"template": "{item_code}", "items": ["NOPE"]})).await;
    let problem = unknown.expect_problem(422, "unknown_item");
    assert_eq!(problem["errors"][0]["field"], "items[0]");
    generate(&hub, json!({"template": "{item_code"}))
        .await
        .expect_problem(422, "invalid_template");
    generate(&hub, json!({"template": "x", "aply": true}))
        .await
        .expect_problem(422, "invalid_body");
    hub.assert_ledger_balances().await;
}

both_backends!(code_generation, super::code_generation_is_all_or_nothing);

const SHOPIFY_SECRET: &str = "shopify-app-secret";

async fn auto_match(hub: &TestHub, body: Value) -> Answer {
    hub.admin_post("/admin/v1/stores/SHOP/mappings/auto-match", body)
        .await
}

fn results(answer: &Value) -> Vec<(String, String)> {
    answer["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["sku"].as_str().unwrap().to_string(),
                c["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn auto_match_by_sku_from_candidates_and_webhook_hints(hub: TestHub) {
    hub.load_catalogue().await;
    // Two of the three SKUs of the Shopify fixture are reference codes.
    let report = post_csv(
        &hub,
        "/admin/v1/import/items",
        "item_code,name,tax_rate\ntffffv456,HRX Shoes 6,18\ntffffv457,HRX Shoes 7,18\n",
    )
    .await;
    assert_eq!(report.expect(200)["accepted"], 2);
    hub.create_connector_store("SHOP", "shopify", SHOPIFY_SECRET, json!({}))
        .await;

    // Candidates given by the caller: a preview changes nothing.
    let given = json!({"candidates": [
        {"sku": "MUG", "external_id": "x-mug", "inventory_id": "inv-mug"},
        {"sku": "NOPE", "external_id": "x-nope"},
        {"sku": "TOY-Red-S", "external_id": ""}]});
    let preview = auto_match(&hub, given.clone()).await;
    let preview = preview.expect(200).clone();
    assert_eq!(preview["source"], "candidates");
    assert_eq!(preview["matched"], 1);
    assert_eq!(preview["applied"], false);
    assert_eq!(
        preview["candidates"][0],
        json!({"sku": "MUG", "external_id": "x-mug", "inventory_id": "inv-mug", "result": "matched",
               "reference_code": "MUG", "detail": null})
    );
    assert_eq!(
        results(&preview),
        [
            ("MUG".into(), "matched".into()),
            ("NOPE".into(), "unknown".into()),
            ("TOY-Red-S".into(), "invalid".into())
        ]
    );
    let none = hub.admin_get("/admin/v1/stores/SHOP/mappings").await;
    assert_eq!(none.expect(200), &json!([]));

    // A product update tells the hub the storefront's SKUs and ids.
    let body =
        fixture("shopify/products_update__sanjeev_hrx_shoes_3_variants_negative_inventory.json");
    let signature = sign(SHOPIFY_SECRET, &body);
    let hook = hub
        .webhook(
            "SHOP",
            "products/update",
            &body,
            None,
            &[("X-Shopify-Hmac-Sha256", &signature)],
        )
        .await;
    let docs = hook.expect(200)["results"].as_array().unwrap().clone();
    assert!(docs.iter().all(|r| r["result"] == "ignored"), "{docs:?}");
    // Auto-match without candidates uses those hints (an empty body is `{}`).
    let res = hub
        .client
        .post(format!(
            "{}/admin/v1/stores/SHOP/mappings/auto-match",
            hub.base
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let hinted = answer(res).await;
    let hinted = hinted.expect(200).clone();
    assert_eq!(hinted["source"], "hints");
    assert_eq!(
        results(&hinted),
        [
            ("tffffv456".into(), "matched".into()),
            ("tffffv457".into(), "matched".into()),
            ("tffffv458".into(), "unknown".into())
        ]
    );
    assert_eq!(
        hinted["candidates"][0],
        json!({"sku": "tffffv456", "external_id": "43242963665133", "parent_id": "7905964785901",
               "inventory_id": "45337395429613", "result": "matched", "reference_code": "tffffv456", "detail": null})
    );

    // Applying creates the matched mappings, with every id the storefront gave.
    let applied = auto_match(&hub, json!({"apply": true})).await;
    let applied = applied.expect(200).clone();
    assert_eq!(applied["applied"], true);
    assert_eq!(applied["matched"], 2);
    let mapped = hub.admin_get("/admin/v1/stores/SHOP/mappings").await;
    assert_eq!(
        mapped.expect(200),
        &json!([
            {"reference_code": "tffffv456", "external_id": "43242963665133", "parent_id": "7905964785901", "inventory_id": "45337395429613"},
            {"reference_code": "tffffv457", "external_id": "43242963697901", "parent_id": "7905964785901", "inventory_id": "45337395462381"},
        ])
    );
    // New mappings are queued for a first push, as by hand.
    let log = hub.admin_get("/admin/v1/stores/SHOP/sync-log").await;
    assert!(
        !log.expect(200).as_array().unwrap().is_empty(),
        "the first pushes are queued"
    );
    let again = auto_match(&hub, json!({})).await;
    let again = again.expect(200).clone();
    assert_eq!(
        results(&again),
        [
            ("tffffv456".into(), "already_mapped".into()),
            ("tffffv457".into(), "already_mapped".into()),
            ("tffffv458".into(), "unknown".into())
        ]
    );
    // A storefront id mapped to another variant is a conflict; so are two
    // candidates disagreeing.
    let clash = auto_match(
        &hub,
        json!({"candidates": [{"sku": "MUG", "external_id": "43242963665133"},
                              {"sku": "TOY-Red-S", "external_id": "a"}, {"sku": "TOY-Red-S", "external_id": "b"}],
               "apply": true}),
    )
    .await;
    let clash = clash.expect(200).clone();
    assert_eq!(clash["matched"], 0);
    assert!(results(&clash).iter().all(|(_, r)| r == "conflict"));
    assert!(clash["candidates"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("mapped to tffffv456"));
    let mapped = hub.admin_get("/admin/v1/stores/SHOP/mappings").await;
    assert_eq!(mapped.expect(200).as_array().unwrap().len(), 2);

    hub.admin_post("/admin/v1/stores/NOPE/mappings/auto-match", json!({}))
        .await
        .expect_problem(404, "not_found");
    auto_match(&hub, json!({"candidates": [{"sku": "MUG"}]}))
        .await
        .expect_problem(422, "invalid_body");
}

both_backends!(
    auto_match_by_sku,
    super::auto_match_by_sku_from_candidates_and_webhook_hints
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_the_bulk_tools() {
    let hub = TestHub::start(poshub_tests::Backend::Sqlite).await.unwrap();
    let doc = hub.admin_get("/api/v1/openapi.json").await;
    let doc = doc.expect(200);
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/admin/v1/reference-codes/generate",
        "/admin/v1/import/items",
        "/admin/v1/stores/{code}/mappings/import",
        "/admin/v1/stores/{code}/mappings/auto-match",
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get("post")).is_some(),
            "POST {path} missing from the OpenAPI document"
        );
    }
    let import = &paths["/admin/v1/import/items"]["post"]["requestBody"]["content"];
    assert!(import.get("text/csv").is_some(), "{import}");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "CodeGeneration",
        "CodePlan",
        "Collision",
        "CollisionProblem",
        "ImportReport",
        "RejectedRow",
        "AutoMatchRequest",
        "AutoMatchAnswer",
        "MatchRow",
    ] {
        assert!(schemas.contains_key(s), "schema {s} missing");
    }
}

/// The store's catalogue for the admin (what the console's mapping table
/// reads): the store API's items answer over all the store's locations.
async fn store_catalogue_for_the_admin(hub: TestHub) {
    hub.load_catalogue().await;
    hub.create_store("WEB", &["BLR", "MUM"], false).await;
    let key = hub.api_key("WEB", &["BLR", "MUM"]).await;
    let admin = hub
        .admin_get("/admin/v1/stores/WEB/catalog?limit=500")
        .await;
    let admin = admin.expect(200).clone();
    let store = hub.get(&key, "/api/v1/items?limit=500").await;
    let store = store.expect(200);
    let codes = |v: &Value| -> Vec<(String, String)> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["reference_code"].as_str().unwrap().to_string(),
                    i["available"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(codes(&admin).len(), 7);
    assert_eq!(codes(&admin), codes(store));
    let mug = admin["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["reference_code"] == "MUG")
        .unwrap();
    assert_eq!(mug["available"], "15");
    assert_eq!(mug["price"], "100.00");
    assert_eq!(mug["locations"].as_array().unwrap().len(), 2);
    // Pages like the store API's.
    let page = hub.admin_get("/admin/v1/stores/WEB/catalog?limit=2").await;
    let cursor = page.expect(200)["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let next = hub
        .admin_get(&format!(
            "/admin/v1/stores/WEB/catalog?limit=500&cursor={cursor}"
        ))
        .await;
    assert_eq!(next.expect(200)["items"].as_array().unwrap().len(), 5);
    hub.admin_get("/admin/v1/stores/NOPE/catalog")
        .await
        .expect_problem(404, "not_found");
    hub.get(&key, "/admin/v1/stores/WEB/catalog")
        .await
        .expect_problem(401, "unauthorized");
}

both_backends!(store_catalogue, super::store_catalogue_for_the_admin);
