//! The merchant console in a real browser: headless Chromium driven over the
//! W3C WebDriver protocol (chromedriver) against a real hub on SQLite. The
//! WebDriver client is the few calls below, over the reqwest client the
//! harness already has. Screenshots of the main pages go to
//! `target/console-screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use poshub_tests::serde_json::{json, Value};
use poshub_tests::{order, Backend, FakeStorefront, TestHub, ADMIN_TOKEN};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const WAIT: Duration = Duration::from_secs(15);

/// chromedriver on a free port; killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver() -> Driver {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "the console test needs {CHROMEDRIVER} and {CHROMIUM}: \
         `apt-get install -y chromium chromium-driver` (.ci/run and scripts/test install them)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(r) = client.get(format!("{}/status", driver.url)).send().await {
            if let Ok(v) = r.json::<Value>().await {
                if v["value"]["ready"] == true {
                    return driver;
                }
            }
        }
        assert!(Instant::now() < deadline, "chromedriver did not get ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One browser session.
struct Browser {
    http: reqwest::Client,
    session: String,
    shots: PathBuf,
}

impl Browser {
    async fn start(driver: &Driver) -> Browser {
        let http = reqwest::Client::new();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--hide-scrollbars"]
            }
        }}});
        let r: Value = http
            .post(format!("{}/session", driver.url))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_string();
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
        let shots = target.join("console-screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            http,
            session: format!("{}/session/{session}", driver.url),
            shots,
        }
    }

    /// A WebDriver command; Err carries the WebDriver error name.
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Result<Value, String> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        if method == reqwest::Method::POST {
            req = req.json(&body);
        }
        let r: Value = req
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match r["value"].get("error") {
            Some(e) => Err(format!("{e}: {}", r["value"]["message"])),
            None => Ok(r["value"].clone()),
        }
    }

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({"url": url}))
            .await
            .unwrap();
    }

    async fn find(&self, css: &str) -> Result<String, String> {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await?;
        v[ELEMENT]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("not an element: {v}"))
    }

    async fn text_of(&self, css: &str) -> Result<String, String> {
        let id = self.find(css).await?;
        let v = self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{id}/text"),
                json!({}),
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Waits until the element exists and its text satisfies `pred`; returns the text.
    async fn wait_text(&self, css: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let got = self.text_of(css).await;
            if let Ok(t) = &got {
                if pred(t) {
                    return t.clone();
                }
            }
            if Instant::now() > deadline {
                let flash = self.text_of("#flash").await.unwrap_or_default();
                panic!("`{css}` never showed what was expected; last: {got:?}; flash: {flash:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A DOM property of the element (e.g. an input's `type`).
    async fn property(&self, css: &str, name: &str) -> String {
        let id = self.find(css).await.unwrap();
        let v = self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{id}/property/{name}"),
                json!({}),
            )
            .await
            .unwrap();
        v.as_str().unwrap_or_default().to_string()
    }

    async fn wait_for(&self, css: &str) -> String {
        self.wait_text(css, |_| true).await
    }

    async fn click(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let tried = async {
                let id = self.find(css).await?;
                self.cmd(
                    reqwest::Method::POST,
                    &format!("/element/{id}/click"),
                    json!({}),
                )
                .await
            }
            .await;
            match tried {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => panic!("cannot click `{css}`: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        self.wait_for(css).await;
        let id = self.find(css).await.unwrap();
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            json!({}),
        )
        .await
        .unwrap();
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({"text": text}),
        )
        .await
        .unwrap();
    }

    async fn window(&self, width: u32, height: u32) {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await
        .unwrap();
    }

    async fn screenshot(&self, name: &str) {
        let v = self
            .cmd(reqwest::Method::GET, "/screenshot", json!({}))
            .await
            .unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    async fn quit(&self) {
        let _ = self
            .http
            .delete(&self.session)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_merchant_runs_the_day_from_the_console() {
    let driver = start_driver().await;
    let hub = TestHub::start(Backend::Sqlite).await.unwrap();
    hub.load_catalogue().await;
    let fake = FakeStorefront::start().await;
    let b = Browser::start(&driver).await;
    let outcome = tokio::time::timeout(Duration::from_secs(180), the_story(&hub, &fake, &b)).await;
    b.quit().await;
    outcome.expect("the console story finishes within 3 minutes");
}

async fn the_story(hub: &TestHub, fake: &FakeStorefront, b: &Browser) {
    // The console is served with a strict content security policy.
    let page = hub
        .client
        .get(format!("{}/console", hub.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"));
    let script = hub
        .client
        .get(format!("{}/console/console.js", hub.base))
        .send()
        .await
        .unwrap();
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));

    for (path, status) in [
        ("/console/", 200),
        ("/console/console.css", 200),
        ("/console/nope.js", 404),
    ] {
        let r = hub
            .client
            .get(format!("{}{path}", hub.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path}");
    }

    // Log in: a wrong token is refused, the admin token lets us in.
    b.goto(&format!("{}/console", hub.base)).await;
    b.wait_for("[data-test=login-form]").await;
    b.screenshot("01-login").await;
    b.type_into("[data-test=token]", "not-the-token").await;
    b.click("[data-test=login]").await;
    b.wait_text("#flash", |t| t.contains("Login failed")).await;
    b.type_into("[data-test=token]", ADMIN_TOKEN).await;
    b.click("[data-test=login]").await;
    let empty = b.wait_for("[data-test=no-stores]").await;
    assert_eq!(empty, "No stores yet.");

    // Create a store on the canonical connector, pushing to the fake storefront.
    b.type_into("[data-test=new-store-code]", "WEB").await;
    b.type_into("[data-test=new-store-name]", "Web shop").await;
    b.click("[data-test=new-store-connector] option[value=canonical]")
        .await;
    b.type_into("[data-test=new-store-locations]", "BLR").await;
    // The config form follows the canonical connector's schema: the secret
    // is a password field.
    let fields = b
        .wait_text("[data-test=config-fields]", |t| t.contains("base_url"))
        .await;
    assert!(
        fields.contains("webhook_secret (secret, write-only)"),
        "{fields}"
    );
    assert_eq!(
        b.property("[data-test=config-webhook_secret]", "type")
            .await,
        "password"
    );
    b.type_into("[data-test=config-webhook_secret]", "hush")
        .await;
    b.type_into("[data-test=config-base_url]", &fake.base).await;
    b.click("[data-test=create-store]").await;
    let title = b.wait_for("[data-test=store-title]").await;
    assert_eq!(title, "WEB — Web shop");
    // The secret is write-only: the hub shows it masked.
    let config = b.wait_for("[data-test=store-config]").await;
    assert!(
        config.contains("********") && !config.contains("hush"),
        "{config}"
    );
    // One webhook URL per topic the connector takes.
    let hooks = b.wait_for("[data-test=webhook-urls]").await;
    for topic in ["orders/create", "orders/cancelled", "refunds/create"] {
        assert!(
            hooks.contains(&format!("{}/hooks/WEB/{topic}", hub.base)),
            "{hooks}"
        );
    }
    let count = b.wait_for("[data-test=unmapped-count]").await;
    assert_eq!(count, "7 of 7 variants unmapped");
    let row = b.wait_for("[data-test=mapping-MUG]").await;
    assert!(row.contains("unmapped"), "{row}");

    // Auto-match by SKU: preview first, then apply.
    b.type_into(
        "[data-test=automatch-candidates]",
        "MUG,gid-mug\nTOY-Red-S,gid-toy-red-s\nNOPE,gid-nope",
    )
    .await;
    b.click("[data-test=automatch-preview-btn]").await;
    let preview = b
        .wait_text("[data-test=automatch-preview]", |t| t.contains("to map"))
        .await;
    assert!(preview.contains("2 to map"), "{preview}");
    assert!(preview.contains("unknown"), "{preview}");
    b.click("[data-test=automatch-apply]").await;
    b.wait_text("[data-test=unmapped-count]", |t| {
        t == "5 of 7 variants unmapped"
    })
    .await;
    let row = b.wait_for("[data-test=mapping-MUG]").await;
    assert!(
        row.contains("gid-mug") && !row.contains("unmapped"),
        "{row}"
    );
    let row = b.wait_for("[data-test=mapping-TOY-Blue-M]").await;
    assert!(row.contains("unmapped"), "{row}");

    // An API user: the key is shown once.
    b.type_into("[data-test=api-user-name]", "storefront").await;
    b.click("[data-test=create-api-user]").await;
    let key = b.wait_text("[data-test=api-key]", |t| !t.is_empty()).await;
    let users = b.wait_for("[data-test=api-users]").await;
    assert!(users.contains("storefront"), "{users}");
    assert!(!users.contains(&key), "the list shows only a prefix");

    // An order through the store API with that key appears in the console.
    let placed = hub
        .post(
            &key,
            "/api/v1/sales-orders",
            order("WEB-1001", None, None, &[("MUG", 2, "100.00")], "cod"),
        )
        .await;
    let id = placed.expect(201)["id"].as_i64().unwrap();
    b.click("[data-test=nav-orders]").await;
    let row = b.wait_for("[data-test=order-row-WEB-1001]").await;
    assert!(row.contains("pending") && row.contains("200.00"), "{row}");
    // Filters: another status hides it, its own shows it.
    b.click("[data-test=filter-status] option[value=billed]")
        .await;
    b.click("[data-test=apply-filters]").await;
    b.wait_text("[data-test=no-orders]", |t| t == "No orders match.")
        .await;
    b.click("[data-test=filter-status] option[value=pending]")
        .await;
    b.click("[data-test=filter-store] option[value=WEB]").await;
    b.click("[data-test=apply-filters]").await;
    b.wait_for("[data-test=order-row-WEB-1001]").await;
    b.screenshot("03-orders").await;

    // Bill with a payment type, then deliver.
    b.click("[data-test=order-link-WEB-1001]").await;
    let title = b.wait_for("[data-test=order-title]").await;
    assert_eq!(title, format!("Order #{id} · WEB-1001"));
    let customer = b.wait_for("[data-test=order-customer]").await;
    assert!(customer.contains("Test Customer"), "{customer}");
    let lines = b.wait_for("[data-test=order-lines]").await;
    assert!(lines.contains("MUG"), "{lines}");
    let actions = b.wait_for("[data-test=order-actions]").await;
    assert!(actions.contains("Bill") && actions.contains("Cancel") && !actions.contains("Deliver"));
    b.click("[data-test=bill-payment-type] option[value=cod]")
        .await;
    b.click("[data-test=action-bill]").await;
    b.wait_text("[data-test=order-status]", |t| t == "billed")
        .await;
    let bill = b.wait_for("[data-test=bill-no]").await;
    assert_eq!(bill, "BLR-000001");
    b.click("[data-test=action-deliver]").await;
    b.wait_text("[data-test=order-status]", |t| t == "delivered")
        .await;
    let history = b.wait_for("[data-test=order-history]").await;
    assert!(
        history.contains("pending") && history.contains("billed") && history.contains("delivered"),
        "{history}"
    );
    let actions = b.wait_for("[data-test=order-actions]").await;
    assert!(actions.contains("Return everything") && !actions.contains("Bill"));
    b.screenshot("04-order").await;
    let o = hub.admin_get(&format!("/admin/v1/sales-orders/{id}")).await;
    assert_eq!(o.expect(200)["status"], "delivered");

    // The status push reaches the storefront and shows in the sync log.
    let pushed = fake
        .wait_for(Duration::from_secs(10), |r| {
            r.path.contains("/poshub/") && r.body.to_string().contains("delivered")
        })
        .await;
    assert!(pushed.is_some(), "no delivered push: {:?}", fake.received());
    hub.wait_all_sent("WEB").await;
    b.click("[data-test=nav-stores]").await;
    let stores = b.wait_for("[data-test=store-row-WEB]").await;
    assert!(stores.contains("canonical"), "{stores}");
    let last = b.wait_for("[data-test=last-push-WEB]").await;
    assert_ne!(last, "—", "the last successful push is shown");
    b.screenshot("02-stores").await;
    b.click("[data-test=store-link-WEB]").await;
    let log = b
        .wait_text("[data-test=sync-log]", |t| t.contains("status"))
        .await;
    assert!(
        log.contains(&format!("POST {}/poshub/orders/status", fake.base)),
        "{log}"
    );
    assert!(log.contains("sent") && !log.contains("dead"), "{log}");
    assert!(log.contains("stock") && log.contains("price"), "{log}");
    b.wait_for("[data-test=sync-chart]").await;
    b.window(1280, 2600).await;
    b.screenshot("05-store").await;

    // The storefront goes down: a push is dead-lettered, the console shows
    // it, and its retry delivers it once the storefront is back.
    fake.answer_always(500);
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": [{"reference_code": "MUG", "quantity": "1"}]}),
    )
    .await
    .expect(200);
    let deadline = Instant::now() + WAIT;
    let dead_id = loop {
        let log = hub
            .admin_get("/admin/v1/stores/WEB/sync-log?status=dead")
            .await;
        if let Some(row) = log.expect(200).as_array().unwrap().first() {
            break row["id"].as_i64().unwrap();
        }
        assert!(Instant::now() < deadline, "no push was dead-lettered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    b.click("[data-test=sync-refresh]").await;
    let log = b
        .wait_text("[data-test=sync-log]", |t| t.contains("dead"))
        .await;
    assert!(
        log.contains("500"),
        "the storefront's answer is shown: {log}"
    );
    fake.answer_always(200);
    b.click(&format!("[data-test=retry-{dead_id}]")).await;
    b.wait_text("#flash", |t| t.contains("Queued again")).await;
    let deadline = Instant::now() + WAIT;
    loop {
        b.click("[data-test=sync-refresh]").await;
        let log = b.wait_for("[data-test=sync-log]").await;
        if !log.contains("dead") && !log.contains("pending") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the retried push was not sent: {log}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sent = hub.wait_all_sent("WEB").await;
    assert!(sent.iter().any(|e| e["id"] == dead_id), "{sent:?}");

    // Switched off, the store's key is refused and its pushes wait; switched
    // on again, the waiting push goes out.
    assert!(b
        .text_of("[data-test=store-enabled]")
        .await
        .unwrap()
        .contains("switched on"));
    b.click("[data-test=toggle-store]").await;
    b.wait_text("[data-test=store-enabled]", |t| t.contains("switched off"))
        .await;
    hub.get(key.trim(), "/api/v1/items")
        .await
        .expect_problem(403, "store_disabled");
    let pushed_before = fake.received().len();
    hub.admin_post(
        "/admin/v1/stock/inward",
        json!({"location": "BLR", "lines": [{"reference_code": "MUG", "quantity": "1"}]}),
    )
    .await
    .expect(200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        fake.received().len(),
        pushed_before,
        "a switched-off store hears nothing"
    );
    b.click("[data-test=toggle-store]").await;
    b.wait_text("[data-test=store-enabled]", |t| t.contains("switched on"))
        .await;
    hub.wait_all_sent("WEB").await;
    assert!(
        fake.received().len() > pushed_before,
        "the waiting push went out"
    );
    hub.get(key.trim(), "/api/v1/items").await.expect(200);

    // Phone-sized: the orders list still reads.
    b.window(375, 812).await;
    b.click("[data-test=nav-orders]").await;
    let row = b.wait_for("[data-test=order-row-WEB-1001]").await;
    assert!(row.contains("delivered"), "{row}");
    b.screenshot("06-orders-phone").await;
}
