//! The plugin author's tools (`poshub plugins run`, ...): a connector
//! loaded and called exactly as the hub loads and calls it (the same
//! [`Host`], store limits, call context and fault records), with reports
//! as data for the command line to print.

mod check;
mod run;

pub use check::{check, CheckReport, Finding, Status, CURRENT_WORLD};
pub use run::{
    run_dialect_plan, run_dialect_render, run_push, run_response, run_webhook, Budget, Fault,
    LogView, PluginView, RunReport,
};

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use poshub_connectors::types::CallContext;
use poshub_connectors::{Host, Limits, Plugin};
use serde_json::{Map, Value};

/// Loads a plugin file as the hub does (compile, world, imports,
/// `describe`), with the compiled code cached in `cache` as `serve` caches it.
pub async fn load(cache: &Path, file: &Path) -> anyhow::Result<Arc<Plugin>> {
    let (cache, file) = (cache.to_path_buf(), file.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let host = Host::new(Some(cache))?;
        let plugin = host.load_file(&file).context("the hub would not load it")?;
        Ok(Arc::new(plugin))
    })
    .await?
}

/// The store a call is made for: what the hub reads from a store's row.
#[derive(Debug, Clone)]
pub struct StoreSetup {
    /// The store's code, as the call context names it.
    pub code: String,
    /// The store's configuration (secrets and limits included, as stored:
    /// the call context drops them as the hub does).
    pub config: Value,
    /// The time the call is told (RFC 3339).
    pub now: String,
}

impl StoreSetup {
    /// A store `code` with `config`, called now.
    pub fn new(code: &str, config: Value) -> StoreSetup {
        StoreSetup {
            code: code.to_string(),
            config,
            now: poshub_model::now().to_rfc3339(),
        }
    }

    /// The limits the hub gives this store's calls (`config.limits`).
    pub fn limits(&self) -> Limits {
        Limits::for_store(&self.config)
    }

    /// The call context the hub builds for this store.
    pub fn context(&self) -> CallContext {
        CallContext::for_store(&self.code, self.now.clone(), &self.config)
    }
}

/// A store configuration from a JSON file (an object) and `key=value`
/// settings over it. A dotted key sets a nested one (`limits.deadline_ms=
/// 1000`); a value that parses as JSON is taken as such (`1000`, `true`,
/// `["a"]`), anything else as text.
pub fn store_config(file: Option<&Path>, settings: &[String]) -> anyhow::Result<Value> {
    let mut config = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let value: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            anyhow::ensure!(
                value.is_object(),
                "{} must hold a JSON object (a store's config)",
                path.display()
            );
            value
        }
        None => Value::Object(Map::new()),
    };
    for setting in settings {
        let (key, text) = setting
            .split_once('=')
            .with_context(|| format!("`{setting}` is not key=value"))?;
        anyhow::ensure!(
            !key.is_empty() && key.split('.').all(|k| !k.is_empty()),
            "`{setting}`: the key is empty"
        );
        let value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into()));
        set(&mut config, key, value)?;
    }
    Ok(config)
}

/// Sets `config[a][b]...` for the key `a.b...`, making objects on the way.
fn set(config: &mut Value, key: &str, value: Value) -> anyhow::Result<()> {
    let mut at = config;
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        let object = at.as_object_mut().with_context(|| {
            format!("`{key}`: `{part}` is inside a value that is not an object")
        })?;
        if parts.peek().is_none() {
            object.insert(part.to_string(), value);
            return Ok(());
        }
        at = object
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_go_over_the_file_and_nest_by_dots() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("store.json");
        std::fs::write(
            &file,
            r#"{"base_url": "https://a.example", "limits": {"memory_mb": 16}}"#,
        )
        .unwrap();
        let settings = [
            "limits.deadline_ms=1000".to_string(),
            "webhook_secret=s3cret".to_string(),
            "base_url=https://b.example".to_string(),
            "flags=[1, 2]".to_string(),
        ];
        let config = store_config(Some(&file), &settings).unwrap();
        assert_eq!(
            config,
            json!({
                "base_url": "https://b.example",
                "limits": {"memory_mb": 16, "deadline_ms": 1000},
                "webhook_secret": "s3cret",
                "flags": [1, 2],
            })
        );
        let store = StoreSetup::new("WEB", config);
        assert_eq!(store.limits().deadline_ms, 1000);
        assert_eq!(store.limits().memory_bytes, 16 << 20);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(store_config(None, &["novalue".into()]).is_err());
        assert!(store_config(None, &["=1".into()]).is_err());
        assert!(store_config(None, &["a..b=1".into()]).is_err());
        assert!(store_config(None, &["a=1".into(), "a.b=2".into()]).is_err());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("list.json");
        std::fs::write(&file, "[1]").unwrap();
        assert!(store_config(Some(&file), &[]).is_err());
    }
}
