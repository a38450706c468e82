//! The `poshub` hub as a library: configuration, wiring of storage and the
//! HTTP layer, the admin token, the demo catalogue, and serving over HTTP or
//! HTTPS with graceful shutdown. `main.rs` is only the command line.

pub mod demo;
pub mod sync;
pub mod toolkit;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use poshub_api::{extract::hash_key, AppState, Metrics};
use poshub_connectors::{Host, Registry};
use poshub_db::Storage;
use poshub_model::currency::Currency;
use poshub_model::phone::CountryCode;
use rand::RngCore;

/// Settings key under which the admin token's hash is kept.
const ADMIN_TOKEN_SETTING: &str = "admin_token_sha256";

/// How the hub is configured.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    /// The admin token from the environment; when absent, the one stored at
    /// first start is used, or a new one is generated.
    pub admin_token: Option<String>,
    pub default_country: CountryCode,
    /// The hub's currency to set (None: keep the stored one).
    pub currency: Option<Currency>,
    /// Extra connector plugins (`*.wasm`), besides the bundled ones.
    pub plugins_dir: Option<PathBuf>,
    /// Where compiled plugins are cached (None: compile at every start).
    pub plugin_cache: Option<PathBuf>,
    /// The sync worker (None: this process delivers no pushes).
    pub sync: Option<sync::SyncConfig>,
}

/// Where the admin token came from, for the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminToken {
    /// Given in `POSHUB_ADMIN_TOKEN`.
    FromEnv,
    /// Generated now, on first start: shown once.
    Generated(String),
    /// Generated on an earlier start; only its hash is kept.
    Stored,
}

/// A wired hub: its router, storage and connector registry.
pub struct Hub {
    pub router: Router,
    pub storage: Arc<dyn Storage>,
    pub registry: Arc<Registry>,
    pub admin_token: AdminToken,
}

/// Starts the plugin host and loads the bundled connectors and the plugins
/// directory. A plugin file that fails to load is reported, not fatal.
pub async fn load_registry(config: &Config) -> anyhow::Result<Arc<Registry>> {
    let (cache, dir) = (config.plugin_cache.clone(), config.plugins_dir.clone());
    let (registry, report) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let host = Host::new(cache)?;
        Ok(Registry::new(
            host,
            poshub_connectors::bundled::BUNDLED,
            dir,
        )?)
    })
    .await??;
    for failed in &report.failed {
        tracing::warn!("plugin not loaded: {failed}");
    }
    Ok(Arc::new(registry))
}

/// Connects storage (applying migrations), settles the admin token and builds
/// the router.
pub async fn build(config: &Config) -> anyhow::Result<Hub> {
    let storage = poshub_db::connect(&config.database_url)
        .await
        .with_context(|| format!("opening database {}", redact(&config.database_url)))?;
    let (hash, admin_token) = match &config.admin_token {
        Some(token) if !token.trim().is_empty() => (hash_key(token.trim()), AdminToken::FromEnv),
        _ => match storage.get_setting(ADMIN_TOKEN_SETTING).await? {
            Some(hash) => (hash, AdminToken::Stored),
            None => {
                let token = new_secret("pat_");
                let kept = storage
                    .put_setting_if_absent(ADMIN_TOKEN_SETTING, &hash_key(&token))
                    .await?;
                if kept == hash_key(&token) {
                    (kept, AdminToken::Generated(token))
                } else {
                    // Another hub process on the same database won the race.
                    (kept, AdminToken::Stored)
                }
            }
        },
    };
    if let Some(currency) = config.currency {
        storage
            .set_hub_currency(currency)
            .await
            .context("--currency")?;
    }
    let registry = load_registry(config).await?;
    let metrics = Arc::new(Metrics::default());
    if let Some(sync) = &config.sync {
        sync::spawn(
            storage.clone(),
            registry.clone(),
            metrics.clone(),
            sync.clone(),
        );
    }
    let state = AppState {
        storage: storage.clone(),
        admin_token_hash: hash,
        default_country: config.default_country.clone(),
        registry: registry.clone(),
        metrics,
    };
    let router = poshub_api::router(state).layer(tower_http::trace::TraceLayer::new_for_http());
    Ok(Hub {
        router,
        storage,
        registry,
        admin_token,
    })
}

/// A random secret with a readable prefix, e.g. `pat_...` for admin tokens.
pub fn new_secret(prefix: &str) -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A database URL fit for logs: the password is hidden.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// PEM files for HTTPS.
#[derive(Debug, Clone)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A bound listener, ready to serve.
pub struct Bound {
    pub addr: SocketAddr,
    listener: std::net::TcpListener,
    tls: Option<Tls>,
}

/// Binds the address (port 0 picks a free port).
pub fn bind(addr: SocketAddr, tls: Option<Tls>) -> anyhow::Result<Bound> {
    let listener = std::net::TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    listener.set_nonblocking(true)?;
    Ok(Bound {
        addr: listener.local_addr()?,
        listener,
        tls,
    })
}

impl Bound {
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn serve(
        self,
        router: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        match self.tls {
            None => {
                let listener = tokio::net::TcpListener::from_std(self.listener)?;
                axum::serve(listener, router)
                    .with_graceful_shutdown(shutdown)
                    .await?;
            }
            Some(tls) => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let config =
                    axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                        .await
                        .with_context(|| {
                            format!(
                                "loading TLS certificate {} and key {}",
                                tls.cert.display(),
                                tls.key.display()
                            )
                        })?;
                let handle = axum_server::Handle::new();
                let h = handle.clone();
                tokio::spawn(async move {
                    shutdown.await;
                    h.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
                });
                axum_server::from_tcp_rustls(self.listener, config)
                    .handle(handle)
                    .serve(router.into_make_service())
                    .await?;
            }
        }
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Reloads the plugins directory whenever the process gets SIGHUP.
pub fn reload_on_sighup(registry: Arc<Registry>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hup.recv().await.is_some() {
            let registry = registry.clone();
            match tokio::task::spawn_blocking(move || registry.reload()).await {
                Ok(report) => tracing::info!(
                    loaded = ?report.loaded,
                    failed = ?report.failed,
                    removed = ?report.removed,
                    "plugins reloaded on SIGHUP"
                ),
                Err(e) => tracing::error!(error = %e, "plugin reload failed"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("sqlite://poshub.db"), "sqlite://poshub.db");
    }
}
