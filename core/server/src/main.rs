//! The `poshub` command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
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
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
    }
}

async fn serve(args: Serve) -> anyhow::Result<()> {
    let config = Config {
        database_url: args.database.clone(),
        admin_token: std::env::var("POSHUB_ADMIN_TOKEN").ok(),
        default_country: CountryCode::parse(&args.default_country_code)
            .context("--default-country-code")?,
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
    bound
        .serve(hub.router, poshub_server::shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}
