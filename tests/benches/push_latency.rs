//! Push latency under a steady load of orders: change committed in the hub ->
//! confirmed by a fake storefront on 127.0.0.1, through the bundled canonical
//! connector. Prints p50/p95 (target: p95 under 1 s).
//!
//! Run: `cargo bench -p poshub-tests --bench push_latency`

use std::time::{Duration, Instant};

use poshub_tests::serde_json::json;
use poshub_tests::{order, Backend, FakeStorefront, TestHub};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let backend = match std::env::var("POSHUB_BENCH_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let hub = TestHub::start(backend).await.expect("backend configured");
    let fake = FakeStorefront::start().await;
    hub.load_catalogue().await;
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": [{"reference_code": "MUG", "quantity": "100000"}]}),
    )
    .await
    .expect(200);
    hub.create_connector_store("SHOP", "canonical", "s", json!({"base_url": fake.base}))
        .await;
    let maps: Vec<_> = poshub_tests::TOY_CODES
        .iter()
        .chain(["MUG"].iter())
        .map(|c| json!({"reference_code": c, "external_id": format!("x-{c}")}))
        .collect();
    hub.call(
        reqwest::Method::PUT,
        "/admin/v1/stores/SHOP/mappings",
        Some(poshub_tests::ADMIN_TOKEN),
        Some(&json!(maps)),
        &[],
    )
    .await
    .expect(200);
    let key = hub.api_key("SHOP", &["BLR"]).await;
    let start: i64 = hub.available("MUG", "BLR").await.parse().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Steady load: 50 orders a second for 10 seconds, one line of MUG each.
    let rate = 50;
    let seconds = 10;
    let started = Instant::now();
    let mut placed = Vec::new();
    for i in 0..rate * seconds {
        let due = started + Duration::from_secs_f64(i as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let a = hub
            .post(
                &key,
                "/api/v1/sales-orders",
                order(
                    &format!("L-{i}"),
                    None,
                    None,
                    &[("MUG", 1, "100.00")],
                    "cod",
                ),
            )
            .await;
        a.expect(201);
        placed.push((Instant::now(), start - 1 - i as i64));
    }
    let final_level = (start - (rate * seconds) as i64).to_string();
    fake.wait_for(Duration::from_secs(10), |r| {
        r.body["reference_code"] == "MUG" && r.body["available"] == final_level.as_str()
    })
    .await
    .expect("the final level arrives");
    // Storefront-side: for each order, the first push at or below its level.
    let pushes: Vec<(Instant, i64)> = fake
        .received()
        .into_iter()
        .filter(|r| r.body["reference_code"] == "MUG" && r.answered == 200)
        .filter_map(|r| Some((r.at, r.body["available"].as_str()?.parse().ok()?)))
        .collect();
    let mut seen: Vec<f64> = placed
        .iter()
        .filter_map(|(at, level)| {
            pushes
                .iter()
                .find(|(_, l)| *l <= *level)
                .map(|(t, _)| t.saturating_duration_since(*at).as_secs_f64() * 1e3)
        })
        .collect();
    seen.sort_by(f64::total_cmp);
    let q = |p: f64| seen[((seen.len() - 1) as f64 * p).round() as usize];
    let metrics = hub
        .client
        .get(format!("{}/metrics", hub.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let hub_q = |quantile: &str| {
        metrics
            .lines()
            .find(|l| {
                l.starts_with(&format!(
                    "poshub_sync_latency_seconds{{quantile=\"{quantile}\"}}"
                ))
            })
            .and_then(|l| l.split_whitespace().last()?.parse::<f64>().ok())
            .map(|s| s * 1e3)
            .unwrap_or(f64::NAN)
    };
    println!(
        "push latency under {rate} orders/s for {seconds} s ({backend:?}, {} cores)",
        std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(1)
    );
    println!("{:<52} {:>10} {:>10}", "measure", "p50 ms", "p95 ms");
    println!(
        "{:<52} {:>10.1} {:>10.1}",
        "order accepted -> storefront shows its level",
        q(0.5),
        q(0.95)
    );
    println!(
        "{:<52} {:>10.1} {:>10.1}",
        "hub metric: change committed -> push confirmed",
        hub_q("0.5"),
        hub_q("0.95")
    );
    println!("pushes for {} orders: {}", rate * seconds, pushes.len());
    println!("target: p95 under 1000 ms");
}
