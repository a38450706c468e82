//! One storage conformance story, run against the `Storage` trait on a
//! SQLite file and on Postgres: both backends must behave the same.

use poshub_db::{
    Actor, CatalogQuery, IdempotencyKey, OrderQuery, OrderScope, PlaceOrder, Placed, PlacedId,
    Storage,
};
use poshub_model::bill::BillRequest;
use poshub_model::item::NewItem;
use poshub_model::order::OrderStatus;
use poshub_model::store::{Location, NewApiUser, NewStore};
use poshub_model::DomainError;
use poshub_tests::serde_json::{self, json};
use poshub_tests::{fresh_database, order, Backend};

fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn domain(e: poshub_db::Error) -> DomainError {
    match e {
        poshub_db::Error::Domain(d) => d,
        other => panic!("expected a domain error, got {other}"),
    }
}

async fn story(storage: &dyn Storage) {
    // Settings keep the first value.
    assert_eq!(
        storage.put_setting_if_absent("k", "first").await.unwrap(),
        "first"
    );
    assert_eq!(
        storage.put_setting_if_absent("k", "second").await.unwrap(),
        "first"
    );
    assert_eq!(
        storage.get_setting("k").await.unwrap().as_deref(),
        Some("first")
    );

    for code in ["BLR", "MUM"] {
        storage
            .create_location(&from::<Location>(json!({"code": code, "name": code})))
            .await
            .unwrap();
    }
    let dup = storage
        .create_location(&from::<Location>(json!({"code": "BLR", "name": "x"})))
        .await
        .unwrap_err();
    assert!(matches!(
        domain(dup),
        DomainError::Conflict {
            code: "duplicate_location",
            ..
        }
    ));

    let item: NewItem = from(json!({"item_code": "TOY", "name": "Toy", "tax_rate": "12",
        "attributes": [{"name": "color", "values": ["Red", "Blue"]}, {"name": "size", "values": ["S", "M", "L"]}]}));
    let created = storage
        .create_item(&item, &item.variants().unwrap())
        .await
        .unwrap();
    assert_eq!(created.variants.len(), 6);
    assert_eq!(created.variants[0].reference_code, "TOY-Red-S");
    let taken = storage
        .create_item(&item, &item.variants().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(
        domain(taken),
        DomainError::Conflict {
            code: "duplicate_item_code",
            ..
        }
    ));

    let levels = storage
        .stock_inward(&from(json!({"location": "BLR", "lines": [{"reference_code": "TOY-Red-S", "quantity": "4.5", "price": "99.95"}]})))
        .await
        .unwrap();
    assert_eq!(levels[0].on_hand.to_string(), "4.5");
    assert_eq!(
        storage.get_item("TOY").await.unwrap().variants[0]
            .price
            .unwrap()
            .to_string(),
        "99.95"
    );

    let store: NewStore = from(
        json!({"code": "WEB", "name": "Web", "locations": ["BLR", "MUM"], "payment_types": ["cod"]}),
    );
    storage.create_store(&store).await.unwrap();
    let user: NewApiUser = from(json!({"name": "app", "locations": ["BLR"]}));
    storage
        .create_api_user("WEB", &user, "hash-1", "psk_12345678")
        .await
        .unwrap();
    assert!(storage.authenticate("nope").await.unwrap().is_none());
    let principal = storage.authenticate("hash-1").await.unwrap().unwrap();
    assert_eq!(principal.location_codes(), ["BLR"]);

    let catalog = storage
        .list_catalog(&CatalogQuery {
            locations: principal.locations.clone(),
            updated_since: None,
            after_id: None,
            limit: 2,
        })
        .await
        .unwrap();
    assert_eq!(catalog.len(), 2);
    assert_eq!(catalog[0].locations[0].1.to_string(), "4.5");

    let request = from(order(
        "R-1",
        None,
        Some("+44 20 7946 0000"),
        &[("TOY-Red-S", 4, "99.95")],
        "cod",
    ));
    let place = PlaceOrder {
        principal: principal.clone(),
        request,
        default_country: Default::default(),
        idempotency: Some(IdempotencyKey {
            key: "abc".into(),
            request_hash: "h1".into(),
        }),
    };
    let Placed::Created(o) = storage.place_order(&place).await.unwrap() else {
        panic!("first placement creates")
    };
    assert_eq!(o.customer.phone.as_deref(), Some("+442079460000"));
    let Placed::Replayed(body) = storage.place_order(&place).await.unwrap() else {
        panic!("second placement replays")
    };
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"],
        o.id
    );
    let mut other = place.clone();
    other.idempotency.as_mut().unwrap().request_hash = "h2".into();
    assert!(matches!(
        domain(storage.place_order(&other).await.unwrap_err()),
        DomainError::IdempotencyKeyReused
    ));
    other.idempotency = None;
    let dup = domain(storage.place_order(&other).await.unwrap_err());
    assert!(matches!(dup, DomainError::Conflict { existing_id: Some(id), .. } if id == o.id));

    let short = from(order(
        "R-2",
        None,
        None,
        &[("TOY-Red-S", 1, "99.95")],
        "cod",
    ));
    let err = storage
        .place_order(&PlaceOrder {
            principal: principal.clone(),
            request: short,
            default_country: Default::default(),
            idempotency: None,
        })
        .await
        .unwrap_err();
    let DomainError::InsufficientStock(lines) = domain(err) else {
        panic!()
    };
    assert_eq!(lines[0].available.to_string(), "0.5");

    let bill = storage
        .bill_order(o.id, &from::<BillRequest>(json!({"payment_type": "cod"})))
        .await
        .unwrap();
    assert_eq!(bill.bill_no, "BLR-000001");
    let again = domain(
        storage
            .bill_order(o.id, &from::<BillRequest>(json!({"payment_type": "cod"})))
            .await
            .unwrap_err(),
    );
    assert!(matches!(
        again,
        DomainError::InvalidTransition {
            current: OrderStatus::Billed,
            ..
        }
    ));
    let scope = OrderScope::of(&principal);
    let cancelled = storage
        .cancel_order(&scope, o.id, Actor::Store, Some("late"))
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(
        cancelled.history.last().unwrap().note.as_deref(),
        Some("late")
    );
    let level = &storage.stock_levels("TOY-Red-S").await.unwrap()[0];
    assert_eq!(
        (
            level.on_hand.to_string().as_str(),
            level.reserved.to_string().as_str()
        ),
        ("4.5", "0")
    );

    let listed = storage
        .list_orders(&OrderQuery {
            scope,
            status: Some(OrderStatus::Cancelled),
            updated_since: None,
            after_id: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);

    // A caller that needs only the id (a webhook's answer) gets the id of an
    // order that is there with its reservation; a replayed key is a replay.
    assert_eq!(
        storage.place_order_id(&place).await.unwrap(),
        PlacedId::Replayed
    );
    let by_id = PlaceOrder {
        request: from(order(
            "R-3",
            None,
            None,
            &[("TOY-Red-S", 1, "99.95")],
            "cod",
        )),
        idempotency: None,
        ..place.clone()
    };
    let PlacedId::Created(id) = storage.place_order_id(&by_id).await.unwrap() else {
        panic!("a new order is created")
    };
    let placed = storage
        .get_order(&OrderScope::of(&principal), id)
        .await
        .unwrap();
    assert_eq!(placed.online_reference_no, "R-3");
    let catalog = storage
        .list_catalog(&CatalogQuery {
            locations: principal.locations.clone(),
            updated_since: None,
            after_id: None,
            limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(catalog[0].reference_code, "TOY-Red-S");
    assert_eq!(catalog[0].locations[0].1.to_string(), "3.5");
    assert!(storage.verify_ledger().await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_file() {
    let (url, _dir) = fresh_database(Backend::Sqlite).await.unwrap();
    let storage = poshub_db::connect(&url).await.unwrap();
    assert_eq!(storage.backend(), "sqlite");
    story(storage.as_ref()).await;
    // Reopening applies no migration twice and keeps the data.
    drop(storage);
    let reopened = poshub_db::connect(&url).await.unwrap();
    assert_eq!(reopened.get_item("TOY").await.unwrap().variants.len(), 6);
}

#[tokio::test]
async fn postgres() {
    let Some((url, _)) = fresh_database(Backend::Postgres).await else {
        return;
    };
    let storage = poshub_db::connect(&url).await.unwrap();
    assert_eq!(storage.backend(), "postgres");
    story(storage.as_ref()).await;
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    assert!(matches!(
        poshub_db::connect("mysql://x").await.err().unwrap(),
        poshub_db::Error::UnsupportedUrl(_)
    ));
}

/// The bulk tools at the trait: codes regenerated all or nothing, mappings
/// imported row by row, catalogue hints kept (newest wins, ids not lost) and
/// matched by SKU.
async fn bulk_story(storage: &dyn Storage) {
    use poshub_model::automatch::{AutoMatchRequest, Candidate, MatchResult};
    use poshub_model::codegen::CodeGeneration;
    use poshub_model::sync::Mapping;

    storage
        .create_location(&from::<Location>(json!({"code": "BLR", "name": "BLR"})))
        .await
        .unwrap();
    for body in [
        json!({"item_code": "PEN", "name": "Pen", "attributes": [{"name": "color", "values": ["Red", "Blue"]}],
               "variants": [{"attributes": {"color": "Red"}, "reference_code": "PEN-Blue"},
                            {"attributes": {"color": "Blue"}, "reference_code": "PEN-Red"}]}),
        json!({"item_code": "INK", "name": "Ink"}),
    ] {
        let item: NewItem = from(body);
        storage
            .create_item(&item, &item.variants().unwrap())
            .await
            .unwrap();
    }
    let store: NewStore = from(json!({"code": "WEB", "name": "Web", "locations": ["BLR"]}));
    storage.create_store(&store).await.unwrap();

    // A collision writes nothing; a swap within the plan is fine.
    let clash: CodeGeneration = from(json!({"template": "INK", "items": ["PEN"], "apply": true}));
    let plan = storage.generate_reference_codes(&clash).await.unwrap();
    assert!(!plan.applied);
    assert_eq!(plan.collisions.len(), 2, "{:?}", plan.collisions);
    let codes = |item: poshub_model::item::Item| {
        item.variants
            .into_iter()
            .map(|v| v.reference_code)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        codes(storage.get_item("PEN").await.unwrap()),
        ["PEN-Blue", "PEN-Red"]
    );
    let swap: CodeGeneration = from(json!({"template": "{item_code}-{color}", "apply": true}));
    let plan = storage.generate_reference_codes(&swap).await.unwrap();
    assert!(plan.applied && plan.collisions.is_empty());
    assert_eq!((plan.items, plan.changed), (1, 2));
    let pen = storage.get_item("PEN").await.unwrap();
    assert_eq!(
        pen.reference_code_template.as_deref(),
        Some("{item_code}-{color}")
    );
    assert_eq!(codes(pen), ["PEN-Red", "PEN-Blue"]);

    // Mappings: one outcome per row; a refused row leaves nothing behind.
    let rows: Vec<Mapping> = from(json!([
        {"reference_code": "PEN-Red", "external_id": "v-red"},
        {"reference_code": "INK", "external_id": "v-red"},
        {"reference_code": "NOPE", "external_id": "v-nope"},
        {"reference_code": "PEN-Blue", "external_id": " "},
    ]));
    let outcomes = storage.import_mappings("WEB", &rows).await.unwrap();
    let codes: Vec<&str> = outcomes
        .iter()
        .map(|o| match o {
            Ok(()) => "ok",
            Err(DomainError::Conflict { code, .. }) => code,
            Err(DomainError::Invalid(e)) => e[0].code.as_str(),
            Err(_) => "other",
        })
        .collect();
    assert_eq!(
        codes,
        [
            "ok",
            "external_id_taken",
            "unknown_reference_code",
            "invalid_external_id"
        ]
    );
    assert_eq!(storage.list_mappings("WEB").await.unwrap().len(), 1);
    assert!(matches!(
        storage.import_mappings("NOPE", &rows).await.map_err(domain),
        Err(DomainError::NotFound { .. })
    ));

    // Hints: a later report without the product id keeps the one known.
    let store_id = storage.store_id("WEB").await.unwrap().unwrap();
    let hint = |sku: &str, parent: Option<&str>, inventory: Option<&str>| Candidate {
        sku: sku.into(),
        external_id: "v-ink".into(),
        parent_id: parent.map(Into::into),
        inventory_id: inventory.map(Into::into),
    };
    storage
        .record_catalog_hint(store_id, &hint("OLD-SKU", Some("p-1"), None))
        .await
        .unwrap();
    storage
        .record_catalog_hint(store_id, &hint("INK", None, Some("i-1")))
        .await
        .unwrap();
    let preview = storage
        .auto_match("WEB", &AutoMatchRequest::default())
        .await
        .unwrap();
    assert_eq!(preview.source, "hints");
    assert_eq!(preview.candidates.len(), 1);
    let row = &preview.candidates[0];
    let expected = hint("INK", Some("p-1"), Some("i-1"));
    assert_eq!(
        (
            &row.sku,
            &row.external_id,
            &row.parent_id,
            &row.inventory_id
        ),
        (
            &expected.sku,
            &expected.external_id,
            &expected.parent_id,
            &expected.inventory_id
        )
    );
    assert_eq!(preview.candidates[0].result, MatchResult::Matched);
    let applied = storage
        .auto_match(
            "WEB",
            &AutoMatchRequest {
                candidates: None,
                apply: true,
            },
        )
        .await
        .unwrap();
    assert!(applied.applied);
    let ink = storage
        .list_mappings("WEB")
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.reference_code.as_str() == "INK")
        .unwrap();
    assert_eq!(
        (
            ink.external_id.as_str(),
            ink.parent_id.as_deref(),
            ink.inventory_id.as_deref()
        ),
        ("v-ink", Some("p-1"), Some("i-1"))
    );
}

#[tokio::test]
async fn bulk_sqlite_file() {
    let (url, _dir) = fresh_database(Backend::Sqlite).await.unwrap();
    bulk_story(poshub_db::connect(&url).await.unwrap().as_ref()).await;
}

#[tokio::test]
async fn bulk_postgres() {
    let Some((url, _)) = fresh_database(Backend::Postgres).await else {
        return;
    };
    bulk_story(poshub_db::connect(&url).await.unwrap().as_ref()).await;
}
