//! The connectors a hub offers: the bundled ones plus those in the plugins
//! directory (a file wins over a bundled connector with the same id). A
//! reload swaps a plugin only after its new build loads and type-checks;
//! calls in flight keep the `Arc` of the version they started on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::host::{Host, LoadError, Source};
use crate::plugin::Plugin;

/// One connector as `poshub plugins list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSummary {
    pub id: String,
    pub version: String,
    pub platform: String,
    pub topics: Vec<String>,
    pub hosts: Vec<String>,
    pub source: String,
    pub sha256: String,
    /// JSON Schema of the store configuration it reads (`writeOnly`
    /// properties are secrets).
    pub config_schema: serde_json::Value,
    /// The version of the connector world it was built for (`0.3.0`; an
    /// older one runs through the host's adapters).
    pub world: String,
}

/// What a reload did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// `id@version` loaded (new or changed).
    pub loaded: Vec<String>,
    /// Ids whose file did not change.
    pub unchanged: Vec<String>,
    /// Ids no longer offered.
    pub removed: Vec<String>,
    /// Files that did not load, with why; the previous version stays.
    pub failed: Vec<String>,
}

/// The connector registry.
pub struct Registry {
    host: Host,
    dir: Option<PathBuf>,
    bundled: Vec<Arc<Plugin>>,
    current: RwLock<BTreeMap<String, Arc<Plugin>>>,
}

impl Registry {
    /// Loads the bundled connectors (a failure there is a build bug) and the
    /// plugins directory (failures are reported, not fatal).
    pub fn new(
        host: Host,
        bundled: &[(&str, &[u8])],
        dir: Option<PathBuf>,
    ) -> Result<(Registry, ReloadReport), LoadError> {
        let bundled = bundled
            .iter()
            .map(|(name, wasm)| {
                host.load(wasm, Source::Bundled(name.to_string()))
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let registry = Registry {
            host,
            dir,
            bundled,
            current: RwLock::new(BTreeMap::new()),
        };
        let report = registry.reload();
        Ok((registry, report))
    }

    pub fn get(&self, id: &str) -> Option<Arc<Plugin>> {
        self.current.read().unwrap().get(id).cloned()
    }

    pub fn ids(&self) -> Vec<String> {
        self.current.read().unwrap().keys().cloned().collect()
    }

    pub fn list(&self) -> Vec<PluginSummary> {
        self.current
            .read()
            .unwrap()
            .values()
            .map(|p| PluginSummary {
                world: p.world().to_string(),
                id: p.info.id.clone(),
                version: p.info.version.clone(),
                platform: p.info.platform.clone(),
                topics: p.info.topics.iter().map(|(t, _)| t.clone()).collect(),
                hosts: p.info.hosts.clone(),
                source: p.source.to_string(),
                sha256: p.sha256.clone(),
                config_schema: p.info.config_schema.clone(),
            })
            .collect()
    }

    /// Rescans the plugins directory. Blocking (compiles changed files).
    pub fn reload(&self) -> ReloadReport {
        let mut report = ReloadReport::default();
        let before = self.current.read().unwrap().clone();
        let mut next: BTreeMap<String, Arc<Plugin>> = self
            .bundled
            .iter()
            .map(|p| (p.info.id.clone(), p.clone()))
            .collect();
        let mut from_files: BTreeMap<String, PathBuf> = BTreeMap::new();
        for path in self.plugin_files(&mut report) {
            let previous = before
                .values()
                .find(|p| p.source == Source::File(path.clone()))
                .cloned();
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    report.failed.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            let sha = {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(&bytes))
            };
            let plugin = match previous {
                Some(p) if p.sha256 == sha => {
                    report.unchanged.push(p.info.id.clone());
                    p
                }
                _ => match self.host.load(&bytes, Source::File(path.clone())) {
                    Ok(p) => {
                        report
                            .loaded
                            .push(format!("{}@{}", p.info.id, p.info.version));
                        Arc::new(p)
                    }
                    Err(e) => {
                        report.failed.push(e.to_string());
                        match previous {
                            Some(p) => p,
                            None => continue,
                        }
                    }
                },
            };
            if let Some(other) = from_files.get(&plugin.info.id) {
                report.failed.push(format!(
                    "{}: connector id `{}` is already taken by {}",
                    path.display(),
                    plugin.info.id,
                    other.display()
                ));
                continue;
            }
            from_files.insert(plugin.info.id.clone(), path);
            next.insert(plugin.info.id.clone(), plugin);
        }
        report.removed = before
            .keys()
            .filter(|id| !next.contains_key(*id))
            .cloned()
            .collect();
        *self.current.write().unwrap() = next;
        for f in &report.failed {
            tracing::warn!("plugin not loaded: {f}");
        }
        report
    }

    fn plugin_files(&self, report: &mut ReloadReport) -> Vec<PathBuf> {
        let Some(dir) = &self.dir else { return vec![] };
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                report
                    .failed
                    .push(format!("plugins directory {}: {e}", dir.display()));
                return vec![];
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
            .collect();
        files.sort();
        files
    }
}
