//! Per-call cost of a connector translation, printed as a table:
//! a ~4 KB order through the bundled canonical connector with a fresh
//! instance per call (what the hub does), the same translation on one reused
//! instance, and the same Rust code compiled natively.
//!
//! Then the real storefront payloads of `fixtures/` through the
//! bundled Shopify and WooCommerce connectors, a fresh instance per call.
//!
//! Run: `cargo bench -p poshub-connectors --bench translate`

use std::time::{Duration, Instant};

use poshub_connectors::types::CallContext;
use poshub_connectors::{bundled, Host, Limits, Source};

fn order_json() -> Vec<u8> {
    let lines: Vec<_> = (0..22)
        .map(|i| {
            serde_json::json!({"reference_code": format!("TEE-{}-{}", ["Red", "Blue", "Black"][i % 3], ["S", "M", "L", "XL"][i % 4]),
                "quantity": format!("{}", 1 + i % 3), "unit_price": "599.00", "discount": "10.00", "tax_rate": "5"})
        })
        .collect();
    serde_json::to_vec_pretty(&serde_json::json!({
        "online_reference_no": "WEB-100042",
        "location": "BLR",
        "customer": {"name": "Asha Rao", "phone": "+91 98450 12345", "email": "asha.rao@example.com",
                     "address": {"line1": "12, 4th Cross, Indiranagar", "city": "Bengaluru", "state": "KA", "postcode": "560038", "country": "IN"}},
        "lines": lines,
        "shipping": {"amount": "49.00", "method": "courier", "address": "12, 4th Cross, Indiranagar, Bengaluru 560038"},
        "payments": [{"type": "prepaid", "amount": "1000.00", "reference": "pay_Nh3k2LqvX9"}, {"type": "cod", "amount": "9999.00"}],
        "total": "10999.00",
        "placed_at": "2026-11-27T07:00:00Z",
        "notes": "Leave at the door; call before delivery."
    }))
    .unwrap()
}

fn stats(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let mean = samples.iter().map(|d| us(*d)).sum::<f64>() / samples.len() as f64;
    (
        mean,
        us(samples[samples.len() / 2]),
        us(samples[samples.len() * 99 / 100]),
    )
}

fn main() {
    let body = order_json();
    let host = Host::new(None).expect("host");
    let (name, wasm) = bundled::BUNDLED
        .iter()
        .find(|(n, _)| *n == "canonical.wasm")
        .unwrap();
    let started = Instant::now();
    let plugin = host
        .load(wasm, Source::Bundled(name.to_string()))
        .expect("canonical loads");
    let load = started.elapsed();
    let limits = Limits::default();
    let ctx = CallContext::for_store(
        "WEB",
        "2026-11-27T07:00:00Z".into(),
        &serde_json::json!({"base_url": "https://shop.example"}),
    );
    let n = 5_000;

    let mut fresh = Vec::with_capacity(n);
    for i in 0..n + 500 {
        let t = Instant::now();
        let called = plugin.translate_webhook_sync(&limits, &ctx, "orders/create", &[], &body);
        let d = t.elapsed();
        assert!(called.result.is_ok(), "{:?}", called.result);
        if i >= 500 {
            fresh.push(d);
        }
    }
    let reused = plugin.bench_translate_reused(&ctx, "orders/create", &body, n);
    let trivial = plugin.bench_fresh_trivial(n);
    let mut native = Vec::with_capacity(n);
    for i in 0..n + 500 {
        let t = Instant::now();
        let order = poshub_connector_canonical::translate_order(std::hint::black_box(&body))
            .expect("native translation");
        std::hint::black_box(&order);
        let d = t.elapsed();
        if i >= 500 {
            native.push(d);
        }
    }

    let (fm, fp50, fp99) = stats(fresh);
    let (rm, rp50, rp99) = stats(reused);
    let (nm, np50, np99) = stats(native);
    let (tm, tp50, tp99) = stats(trivial);
    println!(
        "connector translation, {} byte order, {n} calls each ({} cores)",
        body.len(),
        std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(1)
    );
    println!(
        "compile + load of the canonical component: {:.1} ms",
        load.as_secs_f64() * 1e3
    );
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "path", "mean us", "p50 us", "p99 us"
    );
    println!(
        "{:<44} {fm:>10.1} {fp50:>10.1} {fp99:>10.1}",
        "wasm, fresh instance per call (the hub)"
    );
    println!(
        "{:<44} {rm:>10.1} {rp50:>10.1} {rp99:>10.1}",
        "wasm, one reused instance"
    );
    println!(
        "{:<44} {nm:>10.1} {np50:>10.1} {np99:>10.1}",
        "native Rust, same code"
    );
    println!(
        "{:<44} {tm:>10.1} {tp50:>10.1} {tp99:>10.1}",
        "fixed cost: fresh instance + trivial call"
    );
    println!(
        "ratio wasm (reused instance) / native, p50: {:.2}",
        rp50 / np50
    );
    println!(
        "ratio wasm (fresh instance) / native, p50: {:.2}",
        fp50 / np50
    );
    println!("targets: fresh-instance call < 100 us; ratio < 2.0");
    real_payloads(&host);
}

/// Each real order payload through its connector, as the hub calls it.
fn real_payloads(host: &Host) {
    let dir = std::env::var("POSHUB_FIXTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
        });
    let cases = [
        (
            "shopify",
            "orders/create",
            "shopify/orders_create__osiset_shopify_sample_signed_pretty.json",
        ),
        (
            "shopify",
            "orders/create",
            "shopify/orders_create__sanjeev_inr_3_variants_sku_igst.json",
        ),
        (
            "shopify",
            "orders/create",
            "shopify/orders_create__membi_hk_phone_discounts_empty_sku.json",
        ),
        (
            "shopify",
            "orders/updated",
            "shopify/orders_updated__valmi_inr_partially_refunded_3_refunds.json",
        ),
        (
            "woocommerce",
            "order.created",
            "woocommerce/order_created__erpnext_74_cod_signed.json",
        ),
        (
            "woocommerce",
            "order.created",
            "woocommerce/order__wc_rest_api_docs_727_with_variation.json",
        ),
    ];
    let ctx = CallContext::for_store("WEB", "2026-11-27T07:00:00Z".into(), &serde_json::json!({}));
    let limits = Limits::default();
    println!();
    println!("real payloads, fresh instance per call, 1000 calls each");
    println!(
        "{:<72} {:>7} {:>10} {:>10}",
        "payload", "bytes", "p50 us", "p99 us"
    );
    for (connector, topic, file) in cases {
        let Ok(body) = std::fs::read(dir.join(file)) else {
            println!("{file}: fixture not found, skipped");
            continue;
        };
        let (name, wasm) = bundled::BUNDLED
            .iter()
            .find(|(n, _)| *n == format!("{connector}.wasm"))
            .expect("bundled");
        let plugin = host
            .load(wasm, Source::Bundled(name.to_string()))
            .expect("connector loads");
        let mut times = Vec::with_capacity(1000);
        for i in 0..1100 {
            let t = Instant::now();
            let called = plugin.translate_webhook_sync(&limits, &ctx, topic, &[], &body);
            let d = t.elapsed();
            assert!(called.result.is_ok(), "{file}: {:?}", called.result);
            if i >= 100 {
                times.push(d);
            }
        }
        let (_, p50, p99) = stats(times);
        println!("{:<72} {:>7} {p50:>10.1} {p99:>10.1}", file, body.len());
    }
}
