//! The demo catalogue for `poshub serve --demo`: two locations, a few items
//! (one of them a 3 x 3 matrix), stock at both locations, and the store `WEB`
//! with a fresh API user on every start.

use anyhow::Context;
use poshub_db::Storage;
use poshub_model::item::NewItem;
use poshub_model::stock::StockInward;
use poshub_model::store::{Location, NewApiUser, NewStore};
use serde_json::json;

/// What the demo loaded, and the key to try it with.
pub struct Demo {
    pub store: String,
    pub api_key: String,
    pub order_reference: String,
}

fn from_json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> anyhow::Result<T> {
    Ok(serde_json::from_value(v)?)
}

/// Loads the demo data unless it is there already, and creates a new API user
/// for the demo store (keys are shown only once, so each start makes one).
pub async fn load(storage: &dyn Storage) -> anyhow::Result<Demo> {
    if storage.store_id("WEB").await?.is_none() {
        for (code, name) in [("BLR", "Bengaluru store"), ("MUM", "Mumbai warehouse")] {
            storage
                .create_location(&from_json::<Location>(json!({"code": code, "name": name}))?)
                .await?;
        }
        let items = [
            json!({"item_code": "TEE", "name": "Cotton T-shirt", "tax_rate": "5", "mrp": "699.00",
                   "attributes": [{"name": "color", "values": ["Red", "Blue", "Black"]},
                                  {"name": "size", "values": ["S", "M", "L"]}],
                   "reference_code_template": "{item_code}-{color}-{size}"}),
            json!({"item_code": "MUG", "name": "Coffee mug", "tax_rate": "12", "mrp": "299.00"}),
            json!({"item_code": "NOTEBOOK", "name": "A5 notebook", "tax_rate": "12", "mrp": "149.00"}),
        ];
        for item in items {
            let item: NewItem = from_json(item)?;
            let variants = item.variants()?;
            storage
                .create_item(&item, &variants)
                .await
                .context("demo item")?;
        }
        let tee: Vec<_> = ["Red", "Blue", "Black"]
            .iter()
            .flat_map(|c| ["S", "M", "L"].map(|s| format!("TEE-{c}-{s}")))
            .collect();
        for (location, qty) in [("BLR", "25"), ("MUM", "100")] {
            let mut lines: Vec<_> = tee
                .iter()
                .map(|code| json!({"reference_code": code, "quantity": qty, "cost": "310.00", "price": "599.00"}))
                .collect();
            lines.push(json!({"reference_code": "MUG", "quantity": qty, "cost": "120.00", "price": "249.00"}));
            lines.push(json!({"reference_code": "NOTEBOOK", "quantity": qty, "cost": "60.00", "price": "129.00"}));
            let inward: StockInward = from_json(
                json!({"location": location, "lines": lines, "reference": "DEMO-OPENING"}),
            )?;
            storage.stock_inward(&inward).await?;
        }
        let store: NewStore = from_json(json!({
            "code": "WEB", "name": "Demo web shop", "connector": "canonical",
            "locations": ["BLR", "MUM"], "payment_types": ["prepaid", "cod", "card", "upi"],
            "allow_backorder": false, "prices_include_tax": true
        }))?;
        storage.create_store(&store).await?;
    }
    let api_key = crate::new_secret("psk_");
    let user: NewApiUser = from_json(json!({"name": "demo web app"}))?;
    storage
        .create_api_user(
            "WEB",
            &user,
            &poshub_api::extract::hash_key(&api_key),
            &api_key[..12],
        )
        .await?;
    Ok(Demo {
        store: "WEB".into(),
        api_key,
        order_reference: format!("DEMO-{}", poshub_model::now().format("%Y%m%d%H%M%S")),
    })
}

impl Demo {
    /// The three example calls, exactly as a shell runs them.
    pub fn curl_examples(&self, base: &str, https: bool) -> [String; 3] {
        let k = if https { "-k " } else { "" };
        let auth = format!("-H 'Authorization: Bearer {}'", self.api_key);
        let order = json!({
            "online_reference_no": self.order_reference,
            "location": "BLR",
            "customer": {"name": "Asha Rao", "phone": "98450 12345", "email": "asha@example.com"},
            "lines": [{"reference_code": "TEE-Blue-M", "quantity": "2", "unit_price": "599.00"},
                      {"reference_code": "MUG", "quantity": "1", "unit_price": "249.00"}],
            "payments": [{"type": "cod", "amount": "1447.00"}],
            "total": "1447.00"
        });
        [
            format!("curl -s {k}{auth} '{base}/api/v1/items?location=all&limit=3'"),
            format!(
                "curl -s {k}-X POST {auth} -H 'Content-Type: application/json' -H 'Idempotency-Key: {}' '{base}/api/v1/sales-orders' -d '{}'",
                self.order_reference, order
            ),
            format!("curl -s {k}{auth} '{base}/api/v1/sales-orders?status=pending'"),
        ]
    }

    pub fn instructions(&self, base: &str, https: bool) -> String {
        let [items, order, orders] = self.curl_examples(base, https);
        format!(
            "Demo store {store} is ready. Its API key (shown once):\n  {key}\n\n\
             List items with price and stock:\n  {items}\n\n\
             Post a sales order (pay on delivery):\n  {order}\n\n\
             List pending orders:\n  {orders}\n",
            store = self.store,
            key = self.api_key,
        )
    }
}
