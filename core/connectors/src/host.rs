//! The engine every plugin runs on: one `Engine` with the pooling allocator
//! and epoch interruption, one `Linker` holding exactly the connector world
//! (plus the WASI a Rust guest always carries, with nothing behind it), and
//! the on-disk cache of compiled components.

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::limits::{Limits, MAX_MEMORY_BYTES};
use crate::plugin::Pre;
use crate::plugin::{CallState, Plugin};
use crate::{wit, wit_0_1, wit_0_2};

/// How often the epoch advances: a call's deadline is counted in these.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Import namespaces a connector may use. Rust `wasm32-wasip2` guests always
/// import parts of WASI even when they never use them; the host links them
/// to an empty context (no preopens, no env, a frozen clock, captured
/// stdio). Sockets, HTTP and anything else are refused at load.
const ALLOWED_IMPORTS: &[&str] = &[
    "poshub:connector/",
    "wasi:io/",
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:filesystem/",
    "wasi:random/",
];

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Built from `plugins/` and shipped inside the binary.
    Bundled(String),
    /// A file in the plugins directory.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Bundled(name) => write!(f, "bundled ({name})"),
            Source::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Why a plugin did not load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{plugin}: not a WebAssembly component poshub can compile: {reason}")]
    Compile { plugin: Source, reason: String },
    #[error("{plugin}: imports `{import}`, which is outside the poshub connector world; connectors may import only poshub:connector/log (and the WASI a Rust guest links by default)")]
    ForbiddenImport { plugin: Source, import: String },
    #[error("{plugin}: does not match the poshub:connector world: {reason}")]
    TypeCheck { plugin: Source, reason: String },
    #[error("{plugin}: `describe` failed: {reason}")]
    Describe { plugin: Source, reason: String },
    #[error("{plugin}: {reason}")]
    Io { plugin: Source, reason: String },
}

pub(crate) struct HostInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<CallState>,
    cache_dir: Option<PathBuf>,
    stop: Arc<AtomicBool>,
}

/// The plugin host. Cheap to clone.
#[derive(Clone)]
pub struct Host {
    pub(crate) inner: Arc<HostInner>,
}

impl Drop for HostInner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Host {
    /// A host whose compiled components are cached in `cache_dir` (None:
    /// compile on every load).
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Host> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(512)
            .total_core_instances(1024)
            .total_memories(1024)
            .total_tables(1024)
            .max_memories_per_component(4)
            .max_memory_size(MAX_MEMORY_BYTES)
            // A fresh instance per call makes resetting a slot the hot path.
            // With PAGEMAP_SCAN (Linux 6.7+) only the pages a call dirtied
            // are put back to their initial contents, and they stay mapped:
            // no madvise, no page faults and no TLB shootdowns on the next
            // call. A Shopify order's translation went from 124 to 74 us
            // (p50), the bare instance from 25 to 8 us. Up to 4 MiB of a
            // slot stays resident (a call touches 1-2 MiB); beyond that, and
            // where the ioctl is missing, pages are zeroed or madvised.
            .pagemap_scan(Enabled::Auto)
            .linear_memory_keep_resident(4 << 20)
            .table_keep_resident(64 << 10);
        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .max_wasm_stack(512 << 10);
        let engine = Engine::new(&config)?;

        let mut linker = Linker::<CallState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        wit::Connector::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(
            &mut linker,
            |s| s,
        )?;
        wit_0_1::Connector::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(
            &mut linker,
            |s| s,
        )?;
        wit_0_2::Connector::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(
            &mut linker,
            |s| s,
        )?;

        let stop = Arc::new(AtomicBool::new(false));
        let (ticker_engine, ticker_stop) = (engine.weak(), stop.clone());
        std::thread::Builder::new()
            .name("poshub-epoch".into())
            .spawn(move || {
                while !ticker_stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match ticker_engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        if let Some(dir) = &cache_dir {
            std::fs::create_dir_all(dir)?;
        }
        Ok(Host {
            inner: Arc::new(HostInner {
                engine,
                linker,
                cache_dir,
                stop,
            }),
        })
    }

    /// Compiles (or loads from the cache), checks imports and types, and asks
    /// the plugin to describe itself.
    pub fn load(&self, wasm: &[u8], source: Source) -> Result<Plugin, LoadError> {
        let sha256 = hex::encode(Sha256::digest(wasm));
        let component = self.compile(wasm, &sha256, &source)?;
        let ty = component.component_type();
        for (name, _) in ty.imports(&self.inner.engine) {
            if !ALLOWED_IMPORTS.iter().any(|p| name.starts_with(p)) {
                return Err(LoadError::ForbiddenImport {
                    plugin: source,
                    import: name.to_string(),
                });
            }
        }
        // The current world first; a component built for an older one is
        // taken through its adapter. A component fitting none is reported
        // against the current world.
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .and_then(|pre| match wit::ConnectorPre::new(pre.clone()) {
                Ok(current) => Ok(Pre::Current(current)),
                Err(e) => wit_0_2::ConnectorPre::new(pre.clone())
                    .map(Pre::V0_2)
                    .or_else(|_| wit_0_1::ConnectorPre::new(pre).map(Pre::V0_1))
                    .map_err(|_| e),
            })
            .map_err(|e| LoadError::TypeCheck {
                plugin: source.clone(),
                reason: format!("{e:#}"),
            })?;
        Plugin::new(self.clone(), pre, source, sha256, &Limits::default())
    }

    /// Loads a plugin file.
    pub fn load_file(&self, path: &Path) -> Result<Plugin, LoadError> {
        let source = Source::File(path.to_path_buf());
        let wasm = std::fs::read(path).map_err(|e| LoadError::Io {
            plugin: source.clone(),
            reason: e.to_string(),
        })?;
        self.load(&wasm, source)
    }

    fn compile(&self, wasm: &[u8], sha256: &str, source: &Source) -> Result<Component, LoadError> {
        let engine = &self.inner.engine;
        let compile_error = |e: wasmtime::Error| LoadError::Compile {
            plugin: source.clone(),
            reason: format!("{e:#}"),
        };
        let Some(dir) = &self.inner.cache_dir else {
            return Component::new(engine, wasm).map_err(compile_error);
        };
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let path = dir.join(format!("{:016x}-{sha256}.cwasm", h.finish()));
        if path.exists() {
            // SAFETY: only this host writes into its cache directory, and the
            // file name binds the artifact to this engine's configuration and
            // to the exact wasm bytes it was compiled from.
            #[allow(unsafe_code)]
            let cached = unsafe { Component::deserialize_file(engine, &path) };
            match cached {
                Ok(c) => return Ok(c),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable cached component")
                }
            }
        }
        let bytes = engine.precompile_component(wasm).map_err(compile_error)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, &bytes)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .is_err()
        {
            tracing::warn!(path = %path.display(), "could not cache the compiled component");
        }
        #[allow(unsafe_code)]
        // SAFETY: `bytes` was produced by this engine a moment ago.
        let component = unsafe { Component::deserialize(engine, &bytes) };
        component.map_err(compile_error)
    }
}
