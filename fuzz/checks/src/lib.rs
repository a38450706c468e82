//! What each fuzz target does with one input. The cargo-fuzz binaries in
//! `fuzz/fuzz_targets/` call these, and so does the hub's replay test
//! (`core/connectors/tests/bundled/fuzz_regressions.rs`), which feeds every file of
//! `fuzz/regressions/<target>/` through [`run`]: a committed crash stays a
//! failing test until the bug is fixed.
//!
//! Every function must return normally for every input: a panic is a crash
//! (in a plugin it would be a trap, a failed call for the merchant; in the
//! hub a 500). Invariants that really hold are checked with `assert!`.
//!
//! Input layout: the connector and order targets read their first byte as a
//! selector (topic, request shape, store settings) and the rest as the body;
//! `phone` reads `country\nnumber`; `decimal` reads the whole input as text.

use poshub_connector_sdk::{
    ApiCommand, ApiRequest, CallContext, ConfigEntry, Connector, Document, Header,
};
use poshub_model::decimal::{money_string, quantity_string, round_money};
use poshub_model::{
    channel::{validate_order, PaymentPolicy},
    codes::PaymentType,
    decimal::{Amount, Quantity, Rate, SignedQuantity},
    error::DomainError,
    order::{CatalogEntry, OrderRequest, OrderRules, ValidOrder},
    phone::{CountryCode, Phone},
    pricing::PriceInForce,
};
use rust_decimal::Decimal;

/// The fuzz targets, by name (the names of `fuzz/fuzz_targets/*.rs` and of
/// the directories under `fuzz/regressions/`).
pub const TARGETS: &[&str] = &[
    "order_json",
    "canonical",
    "shopify",
    "woocommerce",
    "vendure",
    "gofrugal",
    "phone",
    "decimal",
];

/// Runs target `name` on one input. Panics on unknown names.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "order_json" => order_json(data),
        "canonical" => canonical(data),
        "shopify" => shopify(data),
        "woocommerce" => woocommerce(data),
        "vendure" => vendure(data),
        "gofrugal" => gofrugal(data),
        "phone" => phone(data),
        "decimal" => decimal(data),
        other => panic!("no fuzz target `{other}`"),
    }
}

fn split(data: &[u8]) -> (u8, &[u8]) {
    data.split_first().map(|(s, b)| (*s, b)).unwrap_or((0, &[]))
}

fn ctx(config: &[(&str, &str)]) -> CallContext {
    CallContext {
        store_code: "WEB".to_string(),
        now: "2026-11-27T07:00:00Z".to_string(),
        config: config
            .iter()
            .map(|(k, v)| ConfigEntry {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------
// order_json: the body of POST /api/v1/sales-orders

/// The store's side of the order rules, picked by the selector byte:
/// bit 0 prices include tax, bit 1 the store enforces prices, bit 2 a cod
/// limit of 500.00, bit 3 no partial prepayment, bits 4-7 which lines'
/// reference codes the catalogue does not know (line i unknown when
/// `(i + bits) % 16 == 15`).
struct Store {
    prices_include_tax: bool,
    enforce_prices: bool,
    policy: PaymentPolicy,
    unknown_shift: usize,
}

impl Store {
    fn from_selector(s: u8) -> Store {
        Store {
            prices_include_tax: s & 1 != 0,
            enforce_prices: s & 2 != 0,
            policy: PaymentPolicy {
                cod_limit: (s & 4 != 0).then(|| Amount::parse("500.00").unwrap()),
                allow_partial_prepayment: s & 8 == 0,
            },
            unknown_shift: usize::from(s >> 4),
        }
    }

    fn catalog(&self, request: &OrderRequest) -> Vec<Option<CatalogEntry>> {
        (0..request.lines.len())
            .map(|i| {
                ((i + self.unknown_shift) % 16 != 15).then(|| CatalogEntry {
                    variant_id: i as i64 + 1,
                    item_code: format!("ITEM-{i}"),
                    tax_rate: Rate::parse(["18", "5", "0", "12.5"][i % 4]).unwrap(),
                })
            })
            .collect()
    }

    /// As the storage layer builds it: known lines cost their written price
    /// except every third, which costs one more; unknown ones are reported
    /// as unknown, not as a price.
    fn prices(&self, request: &OrderRequest) -> Option<Vec<Option<PriceInForce>>> {
        self.enforce_prices.then(|| {
            request
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let written = l.unit_price.value();
                    let price = if i % 3 == 2 {
                        written.checked_add(Decimal::ONE)?
                    } else {
                        written
                    };
                    Some(PriceInForce {
                        price,
                        source: "price_list:FUZZ".to_string(),
                    })
                })
                .collect()
        })
    }

    fn validate(&self, request: &OrderRequest) -> Result<ValidOrder, Vec<(String, String)>> {
        let payment_types = ["cod", "card", "upi", "prepaid"]
            .map(|p| PaymentType::parse(p).unwrap())
            .to_vec();
        let country = CountryCode::default();
        let rules = OrderRules {
            payment_types: &payment_types,
            prices_include_tax: self.prices_include_tax,
            default_country: &country,
            // The store sells in the order's currency and takes test orders:
            // every other rule is what is fuzzed.
            currency: request
                .currency
                .unwrap_or(poshub_model::currency::Currency::DEFAULT),
            accept_test_orders: true,
        };
        validate_order(
            request,
            &self.catalog(request),
            &rules,
            &self.policy,
            self.prices(request).as_deref(),
        )
        .map_err(|e| match e {
            DomainError::Invalid(errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
            other => vec![(String::new(), format!("{other:?}"))],
        })
    }
}

/// What a client learns from validation: the problems' fields and codes
/// (messages echo numbers as written, `332.5` or `332.50`), or the lines'
/// amounts and the total (compared as numbers).
type Verdict = Result<(Vec<Decimal>, Vec<Decimal>, Decimal), Vec<(String, String)>>;

fn verdict(result: &Result<ValidOrder, Vec<(String, String)>>) -> Verdict {
    match result {
        Ok(v) => Ok((
            v.lines.iter().map(|l| l.amount).collect(),
            v.lines.iter().map(|l| l.tax_amount).collect(),
            v.total,
        )),
        Err(e) => Err(e.clone()),
    }
}

/// The store API's deserialisation of an order body (`ApiJson`: serde_json
/// through serde_path_to_error) and the order rules `POST
/// /api/v1/sales-orders` applies before it touches stock.
pub fn order_json(data: &[u8]) {
    let (selector, body) = split(data);
    let de = &mut serde_json::Deserializer::from_slice(body);
    let Ok(request) = serde_path_to_error::deserialize::<_, OrderRequest>(de) else {
        return;
    };
    // The wire form reads back as the same order.
    let wire = serde_json::to_value(&request).expect("an order serialises");
    let again: OrderRequest = serde_json::from_value(wire.clone())
        .unwrap_or_else(|e| panic!("re-reading {wire} failed: {e}"));
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        wire,
        "the order's wire form changed on a round trip"
    );

    let store = Store::from_selector(selector);
    let first = store.validate(&request);
    // The re-read order gets the same verdict.
    assert_eq!(
        verdict(&store.validate(&again)),
        verdict(&first),
        "validation differs after a round trip"
    );
    let Ok(valid) = first else { return };
    assert_eq!(valid.lines.len(), request.lines.len());
    assert!(!valid.lines.is_empty());
    assert_eq!(valid.total, request.total.value());
    let mut paid = Decimal::ZERO;
    for p in &valid.payments {
        paid += p.amount.value();
    }
    assert!(paid <= valid.total, "payments exceed the total");
    for line in &valid.lines {
        assert!(line.quantity > Decimal::ZERO);
        assert!(line.discount >= Decimal::ZERO);
        assert!(line.tax_amount >= Decimal::ZERO, "negative tax: {line:?}");
        assert!(
            line.amount >= line.tax_amount,
            "tax above the line: {line:?}"
        );
        assert!(
            line.discount <= line.quantity * line.unit_price,
            "discount above the line: {line:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// The bundled connectors, called natively

fn no_panic_documents(result: Result<Vec<Document>, poshub_connector_sdk::Error>) {
    if let Ok(docs) = result {
        // Formatting walks every field the host would read.
        let _ = format!("{docs:?}");
    }
}

/// The canonical connector's webhooks. Its `orders/create` takes exactly the
/// body of `POST /api/v1/sales-orders`: whatever the hub's API accepts, the
/// connector must translate.
pub fn canonical(data: &[u8]) {
    use poshub_connector_canonical::Canonical;
    const TOPICS: &[&str] = &[
        "orders/create",
        "orders/cancelled",
        "refunds/create",
        "orders/nope",
    ];
    let (selector, body) = split(data);
    let topic = TOPICS[usize::from(selector) % TOPICS.len()];
    let result = Canonical::translate_webhook(&ctx(&[]), topic, &[], body);
    if topic == "orders/create" && serde_json::from_slice::<OrderRequest>(body).is_ok() {
        assert!(
            result.is_ok(),
            "the hub accepts this order body but the canonical connector refuses it: {:?}",
            result.err()
        );
    }
    no_panic_documents(result);
}

/// Shopify's webhooks: bits 0-3 pick the topic (the eight Shopify topics,
/// then unknown ones), bit 4 sets a `location`, bit 5 extra `cod_gateways`,
/// bit 6 sets a header.
pub fn shopify(data: &[u8]) {
    use poshub_connector_shopify::Shopify;
    const TOPICS: &[&str] = &[
        "orders/create",
        "orders/paid",
        "orders/updated",
        "orders/cancelled",
        "refunds/create",
        "products/create",
        "products/update",
        "inventory_levels/update",
        "orders/delete",
    ];
    let (selector, body) = split(data);
    let topic = TOPICS[usize::from(selector & 15) % TOPICS.len()];
    let mut config = vec![];
    if selector & 16 != 0 {
        config.push(("location", "BLR"));
    }
    if selector & 32 != 0 {
        config.push(("cod_gateways", "Pay on delivery, cash_on_delivery"));
    }
    let headers = header(selector & 64 != 0, "X-Shopify-Topic", topic);
    no_panic_documents(Shopify::translate_webhook(
        &ctx(&config),
        topic,
        &headers,
        body,
    ));
}

fn header(set: bool, name: &str, value: &str) -> Vec<Header> {
    if set {
        vec![Header {
            name: name.to_string(),
            value: value.to_string(),
        }]
    } else {
        vec![]
    }
}

/// WooCommerce's webhooks: bits 0-1 pick the topic (`order.created`,
/// `order.updated`, `order.deleted`, an unknown one), bit 2 sets a
/// `location`.
pub fn woocommerce(data: &[u8]) {
    use poshub_connector_woocommerce::WooCommerce;
    const TOPICS: &[&str] = &[
        "order.created",
        "order.updated",
        "order.deleted",
        "product.created",
    ];
    let (selector, body) = split(data);
    let topic = TOPICS[usize::from(selector & 3)];
    let mut config = vec![("base_url", "https://shop.example.com")];
    if selector & 4 != 0 {
        config.push(("location", "BLR"));
    }
    let headers = header(selector & 8 != 0, "X-WC-Webhook-Topic", topic);
    no_panic_documents(WooCommerce::translate_webhook(
        &ctx(&config),
        topic,
        &headers,
        body,
    ));
}

/// The Vendure plugin's events: bits 0-1 pick the topic (`orders/placed`,
/// `orders/cancelled`, `refunds/settled`, an unknown one), bit 2 sets a
/// `location`, bit 3 a `money_precision` of 0.
pub fn vendure(data: &[u8]) {
    use poshub_connector_vendure::Vendure;
    const TOPICS: &[&str] = &[
        "orders/placed",
        "orders/cancelled",
        "refunds/settled",
        "orders/updated",
    ];
    let (selector, body) = split(data);
    let topic = TOPICS[usize::from(selector & 3)];
    let mut config = vec![("base_url", "https://shop.example.com")];
    if selector & 4 != 0 {
        config.push(("location", "BLR"));
    }
    if selector & 8 != 0 {
        config.push(("money_precision", "0"));
    }
    no_panic_documents(Vendure::translate_webhook(&ctx(&config), topic, &[], body));
}

/// The gofrugal API dialect's `plan_api`: bits 0-1 pick the request
/// (`POST /salesOrders` with the input as body; `GET /salesOrders`, `GET
/// /items` or `GET /salesOrders/{input}` with the input as query or id),
/// bit 2 sets a `location`, bit 3 a `utc_offset` of -04:00.
pub fn gofrugal(data: &[u8]) {
    use poshub_connector_gofrugal::Gofrugal;
    let (selector, body) = split(data);
    let text = String::from_utf8_lossy(body).into_owned();
    let (method, path, query, body) = match selector & 3 {
        0 => ("POST", "/salesOrders".to_string(), String::new(), body),
        1 => ("GET", "/salesOrders".to_string(), text, &[][..]),
        2 => ("GET", "/items".to_string(), text, &[][..]),
        _ => (
            "GET",
            format!("/salesOrders/{text}"),
            String::new(),
            &[][..],
        ),
    };
    let mut config = vec![];
    if selector & 4 != 0 {
        config.push(("location", "BLR"));
    }
    if selector & 8 != 0 {
        config.push(("utc_offset", "-04:00"));
    }
    let request = ApiRequest {
        method: method.to_string(),
        path,
        query,
        headers: vec![],
        body: body.to_vec(),
    };
    if let Ok(command) = Gofrugal::plan_api(&ctx(&config), &request) {
        if let ApiCommand::Respond(r) = &command {
            assert!(
                (400..600).contains(&r.status),
                "plan_api answered itself with {}",
                r.status
            );
        }
        let _ = format!("{command:?}");
    }
}

// ---------------------------------------------------------------------------
// phone and decimal parsing

/// Loads the phone metadata (libphonenumber's, once per process: seconds
/// under the sanitizers) before libFuzzer's per-input timeout starts, for
/// the targets that parse phones.
pub fn warm_up() {
    let _ = CountryCode::default();
}

/// `country\nnumber` (no newline: the default country, 91).
pub fn phone(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (country, raw) = text.split_once('\n').unwrap_or(("", text));
    let country = CountryCode::parse(country).unwrap_or_default();
    let Ok(phone) = Phone::parse(raw, &country) else {
        return;
    };
    let e164 = phone.as_str();
    let digits = e164.strip_prefix('+').expect("E.164 starts with +");
    assert!(
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
        "`{raw}` became `{e164}`"
    );
    assert!(!digits.starts_with('0'), "`{raw}` became `{e164}`");
    // Normalising is idempotent, whatever the default country.
    for c in [CountryCode::default(), CountryCode::parse("1").unwrap()] {
        assert_eq!(
            Phone::parse(e164, &c).as_ref(),
            Ok(&phone),
            "`{raw}` -> `{e164}` does not read back"
        );
    }
}

macro_rules! decimal_round_trip {
    ($ty:ty, $text:expr) => {
        if let Ok(v) = <$ty>::parse($text) {
            let wire = v.to_string();
            assert_eq!(
                <$ty>::parse(&wire),
                Ok(v),
                "{}: `{}` -> `{wire}` does not read back",
                stringify!($ty),
                $text
            );
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(
                serde_json::from_str::<$ty>(&json).ok(),
                Some(v),
                "{}: {json} does not deserialise back",
                stringify!($ty)
            );
            assert_eq!(
                v.value(),
                $text.parse::<Decimal>().unwrap(),
                "{}: `{}` changed value",
                stringify!($ty),
                $text
            );
        }
    };
}

/// Amount, Quantity, SignedQuantity and Rate parsing, and the renderings
/// and rounding of money.
pub fn decimal(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    decimal_round_trip!(Amount, text);
    decimal_round_trip!(Quantity, text);
    decimal_round_trip!(SignedQuantity, text);
    decimal_round_trip!(Rate, text);
    // JSON numbers and other values are refused without a panic.
    let _ = serde_json::from_str::<Amount>(text);
    let _ = serde_json::from_str::<Quantity>(text);
    if let Ok(v) = text.parse::<Decimal>() {
        let rounded = round_money(v);
        assert!(rounded.scale() <= 2);
        assert!((rounded - v).abs() <= Decimal::new(5, 3));
        let money = money_string(v);
        assert_eq!(money.parse::<Decimal>().unwrap(), v, "money_string({v})");
        let qty = quantity_string(v);
        assert_eq!(qty.parse::<Decimal>().unwrap(), v, "quantity_string({v})");
    }
}
