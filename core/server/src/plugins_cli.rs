//! `poshub plugins check` and `run`: the plugin author's loop without a
//! live store.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use poshub_server::toolkit::{self, StoreSetup};

/// The store a call is made for.
#[derive(Parser)]
pub struct StoreArgs {
    /// The store's configuration: a JSON object, as `config` of
    /// `POST /admin/v1/stores` (its `limits` are the call's limits).
    #[arg(long)]
    config_file: Option<PathBuf>,
    /// A config key over the file's, `key=value`; `a.b=v` sets a nested
    /// key (`--config limits.deadline_ms=1000`); a value that parses as
    /// JSON is taken as JSON. Repeatable.
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// The store's code, as the call context names it.
    #[arg(long, default_value = "TEST")]
    store: String,
    /// The time the call is told (RFC 3339); now by default.
    #[arg(long)]
    now: Option<String>,
    #[command(flatten)]
    cache: PluginCache,
}

/// Where compiled plugins are cached: `serve`'s cache, shared by the
/// commands that load a build.
#[derive(Parser)]
pub struct PluginCache {
    /// Cache of compiled plugins.
    #[arg(
        long,
        default_value = "poshub-plugin-cache",
        env = "POSHUB_PLUGIN_CACHE"
    )]
    pub plugin_cache: PathBuf,
}

/// The process's end for a command that checks or runs a build: 0 when it
/// passed, 1 when the build failed (a fault, an error found, or a build the
/// hub would not load, each reported), 2 on a bad argument or input file.
pub fn exit_with(outcome: anyhow::Result<bool>) -> anyhow::Result<()> {
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2)
        }
    }
}

/// `plugins run FILE.wasm CALL`.
#[derive(Parser)]
pub struct Run {
    /// The plugin build (`.wasm`).
    file: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    call: RunCall,
}

#[derive(Subcommand)]
enum RunCall {
    /// A webhook body, as the hub takes it once its signature checked out:
    /// `webhook-auth` for the topic, then `translate-webhook`.
    Webhook {
        /// The topic, as in `/hooks/{store}/{topic}` (e.g. `orders/create`).
        topic: String,
        /// The raw body.
        body_file: PathBuf,
        /// A request header, `Name: value`. Repeatable.
        #[arg(long = "header", value_name = "NAME: VALUE")]
        headers: Vec<String>,
    },
    /// A batch of changes through `plan-push`, as the sync worker plans it:
    /// the requests with the egress verdict the worker would give each.
    Push {
        /// The changes: a JSON array of pending changes, e.g. `[{"id": 1,
        /// "attempts": 0, "confirmed": null, "change": {"kind": "stock",
        /// "reference_code": "MUG", "location": "BLR", "available": "7", ...}}]`.
        changes_file: PathBuf,
        /// The batch key (the worker's is unique per batch and attempt).
        #[arg(long)]
        key: Option<String>,
    },
    /// A storefront's response to a planned request through
    /// `interpret-response`: an outcome per change it carried.
    Response {
        /// The changes the request carried, as for `push`, in its order.
        changes_file: PathBuf,
        /// The request: `{"method", "url", "headers": [[name, value]],
        /// "body"}` (as `push` prints it).
        request_file: PathBuf,
        /// The storefront's answer: `{"status", "headers", "body"}`.
        response_file: PathBuf,
        #[arg(long)]
        key: Option<String>,
    },
    /// The store's inbound API dialect (`/compat/{store}/...`).
    Dialect {
        #[command(subcommand)]
        call: DialectCall,
    },
}

#[derive(Subcommand)]
enum DialectCall {
    /// A request to the store's API dialect through `plan-api`: the
    /// command the hub would run, or the connector's direct answer.
    Plan {
        /// The request: `{"method", "path", "query", "headers": [[name,
        /// value]], "body"}`, the path after `/compat/{store}`.
        request_file: PathBuf,
    },
    /// The hub's answer to such a request through `render-api`.
    Render {
        /// The request, as for `plan`.
        request_file: PathBuf,
        /// The hub's canonical answer: a JSON file (the resource, or a
        /// problem).
        answer_file: PathBuf,
        /// The hub's status for that answer.
        #[arg(long, default_value_t = 200)]
        status: u16,
    },
}

/// An input file.
fn read(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A JSON input file.
fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> anyhow::Result<T> {
    serde_json::from_slice(&read(path)?).with_context(|| format!("{}", path.display()))
}

/// `plugins check FILE.wasm`.
#[derive(Parser)]
pub struct Check {
    /// The plugin build (`.wasm`).
    file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

/// Checks the build and prints the report. Returns whether the hub would
/// load it and no check found an error.
pub async fn check(args: Check) -> anyhow::Result<bool> {
    let given = args.store.config_file.is_some() || !args.store.config.is_empty();
    let store = given
        .then(|| toolkit::store_config(args.store.config_file.as_deref(), &args.store.config))
        .transpose()?
        .map(|config| StoreSetup::new(&args.store.store, config));
    let report = toolkit::check(&args.store.cache.plugin_cache, &args.file, store.as_ref()).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.file);
        for finding in &report.checks {
            let status = match finding.status {
                toolkit::Status::Ok => "ok",
                toolkit::Status::Warn => "warn",
                toolkit::Status::Error => "ERROR",
            };
            println!("  {status:<5} {:<13} {}", finding.name, finding.detail);
        }
        println!(
            "{}",
            if report.ok {
                "the hub would load it"
            } else if report.loaded {
                "the hub would load it, but it has errors"
            } else {
                "the hub would not load it"
            }
        );
    }
    Ok(report.ok)
}

/// Runs the call and prints its report as JSON. Returns whether the call
/// succeeded (false also when the hub would not load the build); an error
/// is a bad argument or input file.
pub async fn run(args: Run) -> anyhow::Result<bool> {
    let config = toolkit::store_config(args.store.config_file.as_deref(), &args.store.config)?;
    let mut store = StoreSetup::new(&args.store.store, config);
    if let Some(now) = args.store.now {
        chrono::DateTime::parse_from_rfc3339(&now)
            .with_context(|| format!("--now {now}: not an RFC 3339 time"))?;
        store.now = now;
    }
    let plugin = match toolkit::load(&args.store.cache.plugin_cache, &args.file).await {
        Ok(plugin) => plugin,
        Err(e) => {
            // The build's fault, not the command's.
            eprintln!("error: {e:#}");
            return Ok(false);
        }
    };
    let report = match args.call {
        RunCall::Webhook {
            topic,
            body_file,
            headers,
        } => {
            let body = read(&body_file)?;
            let headers = headers
                .iter()
                .map(|h| {
                    let (name, value) = h
                        .split_once(':')
                        .with_context(|| format!("--header `{h}` is not `Name: value`"))?;
                    // The hub hands headers on with lower-case names.
                    Ok((name.trim().to_ascii_lowercase(), value.trim().to_string()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            toolkit::run_webhook(&plugin, &store, &topic, headers, body).await
        }
        RunCall::Push { changes_file, key } => {
            toolkit::run_push(&plugin, &store, key, read_json(&changes_file)?).await
        }
        RunCall::Response {
            changes_file,
            request_file,
            response_file,
            key,
        } => {
            toolkit::run_response(
                &plugin,
                &store,
                key,
                read_json(&changes_file)?,
                read_json(&request_file)?,
                read_json(&response_file)?,
            )
            .await
        }
        RunCall::Dialect {
            call: DialectCall::Plan { request_file },
        } => toolkit::run_dialect_plan(&plugin, &store, read_json(&request_file)?).await,
        RunCall::Dialect {
            call:
                DialectCall::Render {
                    request_file,
                    answer_file,
                    status,
                },
        } => {
            let answer = String::from_utf8(read(&answer_file)?)
                .with_context(|| format!("{} is not UTF-8 text", answer_file.display()))?;
            toolkit::run_dialect_render(&plugin, &store, read_json(&request_file)?, status, answer)
                .await
        }
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(report.ok)
}
