//! HTTPS with rustls, and the operations endpoints.

use poshub_tests::{Backend, TestHub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_a_self_signed_certificate() {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let db = format!("sqlite://{}", dir.path().join("tls.db").display());
    let hub = TestHub::start_on(
        Backend::Sqlite,
        db,
        None,
        Some(poshub_server::Tls {
            cert: cert_path,
            key: key_path,
        }),
        None,
    )
    .await;
    assert!(hub.base.starts_with("https://127.0.0.1:"), "{}", hub.base);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let res = client
        .get(format!("{}/healthz", hub.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok");
    let res = client
        .get(format!("{}/admin/v1/locations", hub.base))
        .bearer_auth(poshub_tests::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(hub.base.replace("https://", "http://") + "/healthz")
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    // An untrusting client refuses the self-signed certificate.
    assert!(reqwest::Client::new()
        .get(format!("{}/healthz", hub.base))
        .send()
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_covers_every_route_and_operations_answer() {
    let hub = TestHub::start(Backend::Sqlite).await.unwrap();
    let doc = hub.admin_get("/api/v1/openapi.json").await;
    let doc = doc.expect(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/items", "get"),
        ("/api/v1/sales-orders", "post"),
        ("/api/v1/sales-orders", "get"),
        ("/api/v1/sales-orders/{id}", "get"),
        ("/api/v1/sales-orders/{id}/cancel", "post"),
        ("/admin/v1/locations", "post"),
        ("/admin/v1/locations", "get"),
        ("/admin/v1/location-groups", "post"),
        ("/admin/v1/items", "post"),
        ("/admin/v1/items/{item_code}", "get"),
        ("/admin/v1/stock/inward", "post"),
        ("/admin/v1/stock/adjustments", "post"),
        ("/admin/v1/stores", "post"),
        ("/admin/v1/stores", "get"),
        ("/admin/v1/stores/{code}/api-users", "post"),
        ("/admin/v1/stores/{code}/catalog", "get"),
        ("/admin/v1/sales-orders/{id}/bill", "post"),
        ("/admin/v1/sales-orders/{id}/deliver", "post"),
        ("/admin/v1/sales-orders/{id}/cancel", "post"),
        ("/admin/v1/bills/{bill_no}", "get"),
        ("/api/v1/sales-orders/{id}/returns", "post"),
        ("/admin/v1/sales-orders/{id}/returns", "post"),
        ("/admin/v1/sales-orders/{id}/ready", "post"),
        ("/admin/v1/sales-orders/{id}/ship", "post"),
        ("/admin/v1/sales-orders/{id}/out-for-delivery", "post"),
        ("/admin/v1/credit-notes/{credit_note_no}", "get"),
        ("/healthz", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "OrderRequest",
        "Order",
        "Problem",
        "ItemPage",
        "Bill",
        "NewStore",
    ] {
        assert!(schemas.contains_key(s), "schema {s} missing");
    }
    hub.admin_get("/readyz").await.expect(200);
    let metrics = hub
        .client
        .get(format!("{}/metrics", hub.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("poshub_http_requests_total{class=\"2xx\"}"),
        "{metrics}"
    );
}
