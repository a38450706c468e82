//! The `poshub` command line.

mod import_cli;
mod plugins_cli;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use poshub_model::currency::Currency;
use poshub_model::phone::CountryCode;
use poshub_server::{AdminToken, Config, Tls};

#[derive(Parser)]
#[command(
    name = "poshub",
    version,
    about = "One POS back office, many online stores"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub.
    Serve(Serve),
    /// Connector plugins.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// Bulk imports from CSV files, straight into the database (the same
    /// imports as the admin API's).
    Import {
        #[command(subcommand)]
        command: import_cli::ImportCommand,
    },
}

#[derive(Subcommand)]
enum PluginsCommand {
    /// Show every connector the hub would offer: id, version, platform,
    /// topics, declared hosts and where it comes from.
    List {
        #[command(flatten)]
        plugins: PluginArgs,
    },
    /// Load a plugin build as the hub would and check what the hub would
    /// trip over later (config schema, hosts, topics, batch sizes): a
    /// report, exit 1 on an error.
    Check(plugins_cli::Check),
    /// Call one export of a plugin build as the hub would, for a store
    /// given by its config: print the answer, the budget the call used, or
    /// its fault as the hub records it, as JSON (exit 1 on a fault).
    Run(plugins_cli::Run),
}

#[derive(Parser)]
struct PluginArgs {
    /// Directory of extra connector plugins (`*.wasm`).
    #[arg(long, env = "POSHUB_PLUGINS_DIR")]
    plugins_dir: Option<PathBuf>,
    #[command(flatten)]
    cache: plugins_cli::PluginCache,
}

#[derive(Parser)]
struct Serve {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "POSHUB_LISTEN")]
    listen: SocketAddr,
    /// `sqlite://PATH` (embedded, the default) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        default_value = "sqlite://poshub.db",
        env = "POSHUB_DATABASE_URL"
    )]
    database: String,
    /// Load a small demo catalogue, two locations and a store, and print an
    /// API key with example calls.
    #[arg(long)]
    demo: bool,
    /// Country calling code for customer phones written without one.
    #[arg(long, default_value = "91", env = "POSHUB_DEFAULT_COUNTRY_CODE")]
    default_country_code: String,
    /// The hub's currency (ISO 4217, e.g. INR, AUD, JPY): what every store
    /// sells in unless it has its own. Kept in the database; it can change
    /// only until the first order is booked. Left out: the one stored (INR
    /// on a new database).
    #[arg(long, env = "POSHUB_CURRENCY")]
    currency: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    #[command(flatten)]
    plugins: PluginArgs,
    #[command(flatten)]
    sync: SyncArgs,
}

#[derive(Parser)]
struct SyncArgs {
    /// Deliver no pushes from this process (another hub on the same database does).
    #[arg(long)]
    no_sync: bool,
    /// First retry delay of a failed push, in ms; it doubles per attempt.
    #[arg(long, default_value_t = 1000)]
    sync_retry_base_ms: u64,
    /// Attempts before a push is dead-lettered.
    #[arg(long, default_value_t = 8)]
    sync_max_attempts: i32,
    /// How long a claimed push stays claimed; a killed hub's pushes are taken over after it.
    #[arg(long, default_value_t = 30)]
    sync_lease_secs: u64,
    /// Reconcile every store this often (seconds); off by default.
    #[arg(long)]
    reconcile_interval_secs: Option<u64>,
}

impl SyncArgs {
    fn config(&self) -> Option<poshub_server::sync::SyncConfig> {
        use std::time::Duration;
        (!self.no_sync).then(|| poshub_server::sync::SyncConfig {
            retry_base: Duration::from_millis(self.sync_retry_base_ms.max(1)),
            max_attempts: self.sync_max_attempts.max(1),
            lease: Duration::from_secs(self.sync_lease_secs.max(1)),
            reconcile_every: self
                .reconcile_interval_secs
                .map(|s| Duration::from_secs(s.max(1))),
            ..Default::default()
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
        Command::Plugins {
            command: PluginsCommand::List { plugins },
        } => list_plugins(plugins).await,
        Command::Plugins {
            command: PluginsCommand::Check(check),
        } => plugins_cli::exit_with(plugins_cli::check(check).await),
        Command::Plugins {
            command: PluginsCommand::Run(run),
        } => plugins_cli::exit_with(plugins_cli::run(run).await),
        Command::Import { command } => {
            if !import_cli::run(command).await? {
                // Some rows were refused (and reported); the others went in.
                std::process::exit(2);
            }
            Ok(())
        }
    }
}

async fn list_plugins(args: PluginArgs) -> anyhow::Result<()> {
    let config = Config {
        database_url: String::new(),
        admin_token: None,
        default_country: CountryCode::default(),
        currency: None,
        plugins_dir: args.plugins_dir,
        plugin_cache: Some(args.cache.plugin_cache),
        sync: None,
    };
    let registry = poshub_server::load_registry(&config).await?;
    println!(
        "{:<16} {:<10} {:<12} {:<40} {:<24} SOURCE",
        "ID", "VERSION", "PLATFORM", "TOPICS", "HOSTS"
    );
    for p in registry.list() {
        println!(
            "{:<16} {:<10} {:<12} {:<40} {:<24} {}",
            p.id,
            p.version,
            p.platform,
            p.topics.join(","),
            p.hosts.join(","),
            p.source
        );
    }
    Ok(())
}

async fn serve(args: Serve) -> anyhow::Result<()> {
    let config = Config {
        database_url: args.database.clone(),
        admin_token: std::env::var("POSHUB_ADMIN_TOKEN").ok(),
        default_country: CountryCode::parse(&args.default_country_code)
            .context("--default-country-code")?,
        currency: args
            .currency
            .as_deref()
            .map(Currency::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--currency: {e}"))?,
        plugins_dir: args.plugins.plugins_dir.clone(),
        plugin_cache: Some(args.plugins.cache.plugin_cache.clone()),
        sync: args.sync.config(),
    };
    let hub = poshub_server::build(&config).await?;
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(Tls { cert, key }),
        _ => None,
    };
    let https = tls.is_some();
    let bound = poshub_server::bind(args.listen, tls)?;
    let base = bound.base_url();
    tracing::info!(
        listen = %bound.addr,
        database = %poshub_server::redact(&args.database),
        backend = hub.storage.backend(),
        "poshub listening on {base}"
    );
    match &hub.admin_token {
        AdminToken::Generated(token) => println!(
            "\nAdmin token (shown once; the hub keeps only its hash, set POSHUB_ADMIN_TOKEN to choose your own):\n  {token}\n"
        ),
        AdminToken::Stored => println!(
            "\nAdmin token: the one printed on first start (set POSHUB_ADMIN_TOKEN to use another)."
        ),
        AdminToken::FromEnv => println!("\nAdmin token: from POSHUB_ADMIN_TOKEN."),
    }
    if args.demo {
        let demo = poshub_server::demo::load(hub.storage.as_ref()).await?;
        println!("{}", demo.instructions(&base, https));
    }
    poshub_server::reload_on_sighup(hub.registry.clone());
    bound
        .serve(hub.router, poshub_server::shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}
