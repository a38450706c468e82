//! `poshub plugins check`: a build loaded as the hub loads it, then what
//! the hub would trip over later, checked now: its config schema, declared
//! hosts and topics, and batch sizes.

use std::path::Path;

use poshub_connectors::types::PushLimits;
use poshub_connectors::Plugin;
use serde::Serialize;
use serde_json::Value;

use super::StoreSetup;

/// The world a new build should be on (older ones load, with less).
pub const CURRENT_WORLD: &str = poshub_connectors::WORLD;

/// The most changes the sync worker hands a connector at once; a larger
/// batch size has no effect.
const WORKER_BATCH: u32 = 1000;

/// The most requests in flight to one store, whatever a connector asks.
const MAX_CONCURRENCY: u32 = 64;

/// What `check` prints.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub file: String,
    /// Whether the hub would load the build.
    pub loaded: bool,
    /// Loaded and no check is an error.
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<super::PluginView>,
    pub checks: Vec<Finding>,
}

/// One check's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Error,
}

impl Finding {
    fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Finding {
        Finding {
            name,
            status,
            detail: detail.into(),
        }
    }
}

/// Loads `file` as the hub does (with the compiled code cached in `cache`)
/// and checks it; `store` is a store's config to check against the
/// build's schema, when given.
pub async fn check(cache: &Path, file: &Path, store: Option<&StoreSetup>) -> CheckReport {
    let plugin = match super::load(cache, file).await {
        Ok(plugin) => plugin,
        Err(e) => {
            return CheckReport {
                file: file.display().to_string(),
                loaded: false,
                ok: false,
                plugin: None,
                checks: vec![Finding::new("load", Status::Error, format!("{e:#}"))],
            }
        }
    };
    let mut checks = vec![loads(&plugin)];
    checks.push(describe(&plugin));
    checks.extend(config_schema(
        &plugin.info.config_schema,
        !plugin.info.topics.is_empty(),
    ));
    if let Some(store) = store {
        checks.push(config(&plugin.info.config_schema, &store.config));
    }
    checks.extend(hosts(&plugin.info.hosts));
    checks.extend(topics(&plugin).await);
    checks.extend(batch_sizes(&plugin.info.push_limits));
    CheckReport {
        file: file.display().to_string(),
        loaded: true,
        ok: checks.iter().all(|c| c.status != Status::Error),
        plugin: Some(super::PluginView::of(&plugin)),
        checks,
    }
}

fn loads(plugin: &Plugin) -> Finding {
    let world = plugin.world();
    let what = format!(
        "the hub loads it: world poshub:connector@{world}, imports within the world, \
         `describe` answered (sha256 {})",
        plugin.sha256
    );
    if world == CURRENT_WORLD {
        Finding::new("load", Status::Ok, what)
    } else {
        Finding::new(
            "load",
            Status::Warn,
            format!(
                "{what}; built for an older world than {CURRENT_WORLD}: the hub adapts it, \
                 with one change per push request"
            ),
        )
    }
}

fn describe(plugin: &Plugin) -> Finding {
    let info = &plugin.info;
    if info.platform.trim().is_empty() {
        return Finding::new("describe", Status::Error, "`platform` is empty");
    }
    if !is_semver(&info.version) {
        return Finding::new(
            "describe",
            Status::Warn,
            format!(
                "`version` {:?} is not MAJOR.MINOR.PATCH: the event log and \
                 `plugins list` show it to tell builds apart",
                info.version
            ),
        );
    }
    Finding::new(
        "describe",
        Status::Ok,
        format!("{} {} for {}", info.id, info.version, info.platform),
    )
}

/// MAJOR.MINOR.PATCH with an optional `-pre` or `+build` tail.
fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn config_schema(schema: &Value, takes_webhooks: bool) -> Vec<Finding> {
    const NAME: &str = "config schema";
    if schema.is_null() {
        return vec![Finding::new(
            NAME,
            Status::Error,
            "`config-schema` is not JSON: the hub shows the store's merchant nothing to fill in",
        )];
    }
    if let Err(e) = jsonschema::meta::validate(schema) {
        return vec![Finding::new(
            NAME,
            Status::Error,
            format!("not a valid JSON Schema: {e} (at {})", e.instance_path()),
        )];
    }
    if let Err(e) = jsonschema::validator_for(schema) {
        return vec![Finding::new(
            NAME,
            Status::Error,
            format!("a JSON Schema no validator can be built from: {e}"),
        )];
    }
    let mut findings = Vec::new();
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        findings.push(Finding::new(
            NAME,
            Status::Warn,
            "the top level does not say `\"type\": \"object\"`: a store's config is an object",
        ));
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    if takes_webhooks && !properties.is_some_and(|p| p.contains_key("webhook_secret")) {
        findings.push(Finding::new(
            NAME,
            Status::Warn,
            "declares topics but no `webhook_secret` property: the hub refuses every \
             webhook of a store without one",
        ));
    }
    if findings.is_empty() {
        let keys = properties.map_or(0, |p| p.len());
        findings.push(Finding::new(
            NAME,
            Status::Ok,
            format!("a valid JSON Schema of an object, {keys} properties"),
        ));
    }
    findings
}

/// A store's config against the build's schema.
fn config(schema: &Value, config: &Value) -> Finding {
    const NAME: &str = "store config";
    let Ok(validator) = jsonschema::validator_for(schema) else {
        return Finding::new(NAME, Status::Error, "no schema to check it against");
    };
    let errors: Vec<String> = validator
        .iter_errors(config)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            }
        })
        .collect();
    if errors.is_empty() {
        Finding::new(NAME, Status::Ok, "the store's config matches the schema")
    } else {
        Finding::new(NAME, Status::Error, errors.join("; "))
    }
}

/// Host patterns as the hub's egress check reads them: `*`, `*.suffix` or
/// a host name.
fn hosts(hosts: &[String]) -> Vec<Finding> {
    const NAME: &str = "hosts";
    let mut findings = Vec::new();
    for host in hosts {
        let name = host.strip_prefix("*.").unwrap_or(host);
        let well_formed = host == "*"
            || (!name.is_empty()
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && !label.starts_with('-')
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }));
        if !well_formed {
            findings.push(Finding::new(
                NAME,
                Status::Error,
                format!(
                    "{host:?} is not `*`, `*.domain` or a host name (no scheme, port, path \
                     or spaces): the hub would refuse every request to it"
                ),
            ));
        } else if host == "*" {
            findings.push(Finding::new(
                NAME,
                Status::Warn,
                "`*`: the plugin's requests may go to any host a store's config names",
            ));
        }
    }
    if findings.is_empty() {
        let detail = if hosts.is_empty() {
            "none declared: the plugin plans no requests".to_string()
        } else {
            hosts.join(", ")
        };
        findings.push(Finding::new(NAME, Status::Ok, detail));
    }
    findings
}

/// Each declared topic: unique, usable in `/hooks/{store}/{topic}`, and
/// answered by `webhook-auth` with a header to verify.
async fn topics(plugin: &std::sync::Arc<Plugin>) -> Vec<Finding> {
    const NAME: &str = "topics";
    let declared: Vec<&str> = plugin
        .info
        .topics
        .iter()
        .map(|(topic, _)| topic.as_str())
        .collect();
    if declared.is_empty() {
        return vec![Finding::new(
            NAME,
            Status::Warn,
            "none declared: no storefront can send this connector webhooks",
        )];
    }
    let mut findings = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for topic in &declared {
        if !seen.insert(*topic) {
            findings.push(Finding::new(
                NAME,
                Status::Error,
                format!("{topic:?} is declared twice"),
            ));
            continue;
        }
        let path_safe = !topic.is_empty()
            && !topic.starts_with('/')
            && !topic.ends_with('/')
            && topic
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_./-".contains(&b));
        if !path_safe {
            findings.push(Finding::new(
                NAME,
                Status::Error,
                format!(
                    "{topic:?} cannot be a webhook path (`/hooks/{{store}}/{{topic}}`: \
                     lower-case letters, digits, `_ . / -`, no leading or trailing `/`)"
                ),
            ));
            continue;
        }
        let auth = plugin
            .webhook_auth(Default::default(), topic.to_string())
            .await;
        match auth.result {
            Err(e) => findings.push(Finding::new(
                NAME,
                Status::Error,
                format!("`webhook-auth` fails for its own topic {topic:?}: {e}"),
            )),
            Ok(auth) if !is_header_name(&auth.header) => findings.push(Finding::new(
                NAME,
                Status::Error,
                format!(
                    "{topic:?}: the signature header {:?} is not an HTTP header name",
                    auth.header
                ),
            )),
            Ok(_) => {}
        }
    }
    if findings.is_empty() {
        findings.push(Finding::new(NAME, Status::Ok, declared.join(", ")));
    }
    findings
}

/// An HTTP header name: a non-empty token (RFC 9110).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn batch_sizes(limits: &PushLimits) -> Vec<Finding> {
    const NAME: &str = "batch sizes";
    let mut findings = Vec::new();
    let mut pushed = Vec::new();
    for (kind, size) in [
        ("stock", limits.stock),
        ("price", limits.price),
        ("status", limits.status),
    ] {
        if size == 0 {
            continue;
        }
        pushed.push(format!("{kind} {size}"));
        if size > WORKER_BATCH {
            findings.push(Finding::new(
                NAME,
                Status::Warn,
                format!(
                    "{kind}: {size} changes a request; the hub hands over at most \
                     {WORKER_BATCH} at once"
                ),
            ));
        }
    }
    if limits.concurrency > MAX_CONCURRENCY {
        findings.push(Finding::new(
            NAME,
            Status::Warn,
            format!(
                "concurrency {}: the hub keeps at most {MAX_CONCURRENCY} requests in flight \
                 to a store",
                limits.concurrency
            ),
        ));
    }
    if findings.is_empty() {
        let detail = if pushed.is_empty() {
            "pushes nothing".to_string()
        } else {
            format!(
                "{} changes a request; {} in flight",
                pushed.join(", "),
                match limits.concurrency {
                    0 => "the hub's default".to_string(),
                    n => n.to_string(),
                }
            )
        };
        findings.push(Finding::new(NAME, Status::Ok, detail));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statuses(findings: &[Finding]) -> Vec<Status> {
        findings.iter().map(|f| f.status).collect()
    }

    #[test]
    fn config_schemas() {
        let good = json!({"type": "object", "properties": {"webhook_secret": {"type": "string"}}});
        assert_eq!(statuses(&config_schema(&good, true)), [Status::Ok]);
        assert_eq!(
            statuses(&config_schema(&json!({"type": "object"}), true)),
            [Status::Warn]
        );
        assert_eq!(
            statuses(&config_schema(&Value::Null, false)),
            [Status::Error]
        );
        let bad = config_schema(&json!({"type": "object", "minProperties": "two"}), false);
        assert_eq!(statuses(&bad), [Status::Error]);
        assert!(bad[0].detail.contains("not a valid JSON Schema"), "{bad:?}");
        assert_eq!(
            statuses(&config_schema(&json!({"type": "array"}), false)),
            [Status::Warn]
        );
        let schema = json!({"type": "object", "required": ["base_url"],
                            "properties": {"base_url": {"type": "string", "format": "uri"}}});
        assert_eq!(
            config(&schema, &json!({"base_url": "https://a.example"})).status,
            Status::Ok
        );
        let wrong = config(&schema, &json!({"base_url": 7}));
        assert_eq!(wrong.status, Status::Error);
        assert!(wrong.detail.contains("/base_url"), "{wrong:?}");
        assert_eq!(config(&schema, &json!({})).status, Status::Error);
    }

    #[test]
    fn host_patterns() {
        let ok =
            |h: &[&str]| statuses(&hosts(&h.iter().map(|s| s.to_string()).collect::<Vec<_>>()));
        assert_eq!(ok(&["*.myshopify.com", "api.example.com"]), [Status::Ok]);
        assert_eq!(ok(&[]), [Status::Ok]);
        assert_eq!(ok(&["*"]), [Status::Warn]);
        for bad in [
            "https://a.example",
            "a.example:443",
            "a.example/x",
            "a .example",
            "*.",
            "",
        ] {
            assert_eq!(ok(&[bad]), [Status::Error], "{bad}");
        }
    }

    #[test]
    fn batch_size_limits() {
        let limits = |stock, concurrency| PushLimits {
            stock,
            price: 0,
            status: 1,
            concurrency,
        };
        assert_eq!(statuses(&batch_sizes(&limits(250, 4))), [Status::Ok]);
        assert_eq!(statuses(&batch_sizes(&limits(5000, 4))), [Status::Warn]);
        assert_eq!(statuses(&batch_sizes(&limits(250, 100))), [Status::Warn]);
    }

    #[test]
    fn versions_and_header_names() {
        assert!(is_semver("0.3.0") && is_semver("1.2.3-beta.1") && is_semver("1.0.0+build"));
        assert!(!is_semver("1.0") && !is_semver("v1.0.0") && !is_semver("1.0.x"));
        assert!(is_header_name("X-Shopify-Hmac-Sha256"));
        assert!(!is_header_name("X Signature") && !is_header_name(""));
    }
}
