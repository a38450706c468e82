//! A loaded connector and its calls. Every call gets a fresh `Store` and
//! instance (cheap with `InstancePre` and the pooling allocator): a trap
//! poisons only that instance, and one store's state never meets another's.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{
    HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView,
};

use crate::host::{Host, LoadError, Source, EPOCH_TICK};
use crate::limits::Limits;
use crate::types::*;
use crate::{convert, wit, wit_0_1, wit_0_2};

/// Bytes a plugin may write to stdout and stderr in one call.
const STDIO_CAP: usize = 64 << 10;

/// One line a plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: &'static str,
    pub message: String,
}

/// What one call used of its budget (the limits it ran under are the
/// store's [`Limits`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Setting up the sandbox and instantiating the component, within the
    /// call's wall time ([`Called::elapsed`]).
    pub instantiate: Duration,
    /// The most linear memory the instance held at once, its initial
    /// memory included (what the memory limit is checked against).
    pub memory_peak_bytes: usize,
    /// The answer's size as the host counts it against the output limit.
    pub output_bytes: usize,
    /// Log messages kept, and their bytes.
    pub log_lines: usize,
    pub log_bytes: usize,
    /// Bytes the plugin wrote to stdout and stderr.
    pub stdio_bytes: usize,
}

/// The store's limiter: the memory and instance limits, and a meter of the
/// linear memory the instance grew to.
struct Metered {
    limits: StoreLimits,
    memory: usize,
    peak: usize,
}

impl ResourceLimiter for Metered {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            // Asked also for each memory's initial size (from 0).
            self.memory += desired.saturating_sub(current);
            self.peak = self.peak.max(self.memory);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// Per-call state inside the store.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Metered,
    logs: Vec<LogLine>,
    log_bytes: usize,
    log_cap: usize,
    logs_dropped: usize,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl CallState {
    /// Keeps one log message, or counts it as dropped over the cap.
    fn keep_log(&mut self, level: &'static str, message: String) {
        if self.log_bytes + message.len() > self.log_cap {
            self.logs_dropped += 1;
            return;
        }
        self.log_bytes += message.len();
        self.logs.push(LogLine { level, message });
    }
}

/// The `log` import of each world version the host loads.
macro_rules! log_host {
    ($bindings:ident) => {
        impl $bindings::poshub::connector::log::Host for CallState {
            fn log(&mut self, level: $bindings::poshub::connector::log::Level, message: String) {
                use $bindings::poshub::connector::log::Level;
                let level = match level {
                    Level::Debug => "debug",
                    Level::Info => "info",
                    Level::Warn => "warn",
                    Level::Error => "error",
                };
                self.keep_log(level, message);
            }
        }

        impl $bindings::poshub::connector::types::Host for CallState {}
    };
}

log_host!(wit);
log_host!(wit_0_2);
log_host!(wit_0_1);

/// The WASI clocks a plugin sees: stopped at the epoch. Time reaches a
/// connector only through its call context.
struct Frozen;

impl HostWallClock for Frozen {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for Frozen {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("input of {size} bytes is over the {limit}-byte limit")]
    InputTooLarge { size: usize, limit: usize },
    #[error("output of about {size} bytes is over the {limit}-byte limit")]
    OutputTooLarge { size: usize, limit: usize },
    #[error("the plugin ran past its {deadline_ms} ms deadline and was stopped")]
    Timeout { deadline_ms: u64 },
    #[error(
        "the plugin tried to use more than its {limit_bytes}-byte memory limit and was stopped"
    )]
    OutOfMemory { limit_bytes: usize },
    #[error("the plugin overflowed its stack (deep recursion?) and was stopped")]
    StackOverflow,
    #[error("the plugin wrote more than {limit} bytes to stdout/stderr and was stopped")]
    LogFlood { limit: usize },
    #[error("the plugin crashed: {message}")]
    Trap { message: String },
    #[error("the plugin returned an error ({}): {}", .0.kind, .0.message)]
    Plugin(PluginError),
    #[error("the plugin could not be started: {0}")]
    Instantiate(String),
    #[error("the plugin's answer does not hold together: {0}")]
    Malformed(String),
}

impl CallError {
    /// A stable short name for logs and records.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::InputTooLarge { .. } => "input_too_large",
            CallError::OutputTooLarge { .. } => "output_too_large",
            CallError::Timeout { .. } => "plugin_timeout",
            CallError::OutOfMemory { .. } => "plugin_out_of_memory",
            CallError::StackOverflow => "plugin_stack_overflow",
            CallError::LogFlood { .. } => "plugin_log_flood",
            CallError::Trap { .. } => "plugin_trap",
            CallError::Plugin(_) => "plugin_error",
            CallError::Instantiate(_) => "plugin_instantiate",
            CallError::Malformed(_) => "plugin_malformed_output",
        }
    }
}

/// The outcome of one call, with what the plugin logged.
#[derive(Debug)]
pub struct Called<T> {
    pub result: Result<T, CallError>,
    pub logs: Vec<LogLine>,
    /// Log messages dropped over the cap.
    pub logs_dropped: usize,
    /// Wall time of the call: sandbox, instance and the export.
    pub elapsed: Duration,
    pub usage: Usage,
}

impl<T> Called<T> {
    fn failed(e: CallError) -> Self {
        Self::answered(Err(e))
    }

    /// An answer that took no call (refused before it, or known already).
    fn answered(result: Result<T, CallError>) -> Self {
        Called {
            result,
            logs: vec![],
            logs_dropped: 0,
            elapsed: Duration::ZERO,
            usage: Usage::default(),
        }
    }

    /// Applies `f` to a successful result, keeping logs, timing and usage.
    fn and_then<U>(self, f: impl FnOnce(T) -> Result<U, CallError>) -> Called<U> {
        Called {
            result: self.result.and_then(f),
            logs: self.logs,
            logs_dropped: self.logs_dropped,
            elapsed: self.elapsed,
            usage: self.usage,
        }
    }

    /// Counts a successful answer's size (`size`) against the output limit.
    fn sized(mut self, size: impl FnOnce(&T) -> usize, limits: &Limits) -> Called<T> {
        if let Ok(answer) = &self.result {
            let bytes = size(answer);
            self.usage.output_bytes = bytes;
            if let Err(e) = check_output(bytes, limits) {
                self.result = Err(e);
            }
        }
        self
    }

    /// The logs as text for a record, newest last.
    pub fn log_text(&self) -> String {
        let mut out: String = self
            .logs
            .iter()
            .map(|l| format!("[{}] {}\n", l.level, l.message))
            .collect();
        if self.logs_dropped > 0 {
            out.push_str(&format!(
                "[host] {} more log messages dropped over the cap\n",
                self.logs_dropped
            ));
        }
        out
    }
}

/// A connector ready to instantiate, for the world version it was built for.
#[derive(Clone)]
pub(crate) enum Pre {
    /// `poshub:connector@0.3.0`.
    Current(wit::ConnectorPre<CallState>),
    /// `poshub:connector@0.2.0`, through [`convert::v0_2`].
    V0_2(wit_0_2::ConnectorPre<CallState>),
    /// `poshub:connector@0.1.0`, through [`convert::v0_1`].
    V0_1(wit_0_1::ConnectorPre<CallState>),
}

impl Pre {
    /// The world version, as its package names it.
    pub(crate) fn world(&self) -> &'static str {
        match self {
            Pre::Current(_) => crate::WORLD,
            Pre::V0_2(_) => "0.2.0",
            Pre::V0_1(_) => "0.1.0",
        }
    }
}

/// Calls into the plugin's component with the bindings of the world it was
/// built for: `$current` for the current world, `$legacy` for the worlds
/// before batched pushes, each with its world's conversions as `$w`.
macro_rules! on_push_world {
    ($plugin:expr, $limits:expr, $input:expr, |$c:ident, $s:ident, $w:ident| current: $current:expr, legacy: $legacy:expr) => {
        match &$plugin.pre {
            Pre::Current(pre) => {
                use convert::current as $w;
                $plugin.call(
                    $limits,
                    $input,
                    |s| pre.instantiate(s),
                    |$c, $s| $current,
                    $w::plugin_error,
                )
            }
            Pre::V0_2(pre) => {
                use convert::v0_2 as $w;
                $plugin.call(
                    $limits,
                    $input,
                    |s| pre.instantiate(s),
                    |$c, $s| $legacy,
                    $w::plugin_error,
                )
            }
            Pre::V0_1(pre) => {
                use convert::v0_1 as $w;
                $plugin.call(
                    $limits,
                    $input,
                    |s| pre.instantiate(s),
                    |$c, $s| $legacy,
                    $w::plugin_error,
                )
            }
        }
    };
}

/// Runs `$body` in a fresh instance of the world the plugin was built for:
/// `$c` is the instance, `$s` the store and `$w` that world's conversions
/// (so that the body reads the same for every version).
macro_rules! on_world {
    ($plugin:expr, $limits:expr, $input:expr, |$c:ident, $s:ident, $w:ident| $body:expr) => {
        on_push_world!($plugin, $limits, $input, |$c, $s, $w| current: $body, legacy: $body)
    };
}

/// A loaded connector plugin.
#[derive(Clone)]
pub struct Plugin {
    host: Host,
    pre: Pre,
    pub info: ConnectorInfo,
    pub source: Source,
    pub sha256: String,
    /// What `webhook-auth` declared per topic: a declaration of the loaded
    /// plugin, asked once rather than with every webhook.
    auth: Arc<std::sync::Mutex<std::collections::HashMap<String, WebhookAuth>>>,
}

/// Most topics whose webhook auth a plugin remembers (topics come from
/// request paths; past this they are asked every time).
const AUTH_CACHE: usize = 64;

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.info.id)
            .field("version", &self.info.version)
            .field("source", &self.source)
            .finish()
    }
}

impl Plugin {
    pub(crate) fn new(
        host: Host,
        pre: Pre,
        source: Source,
        sha256: String,
        limits: &Limits,
    ) -> Result<Plugin, LoadError> {
        let mut plugin = Plugin {
            host,
            pre,
            info: ConnectorInfo {
                id: String::new(),
                version: String::new(),
                platform: String::new(),
                topics: vec![],
                hosts: vec![],
                config_schema: serde_json::Value::Null,
                api_dialect: false,
                outbound_auth: vec![],
                push_limits: PushLimits::default(),
            },
            source: source.clone(),
            sha256,
            auth: Default::default(),
        };
        let described = on_world!(plugin, limits, 0, |c, s, w| c
            .call_describe(s)
            .map(|i| Ok::<_, w::w::Error>(w::info(i))));
        let info = described.result.map_err(|e| LoadError::Describe {
            plugin: source.clone(),
            reason: e.to_string(),
        })?;
        let id_ok = !info.id.is_empty()
            && info.id.len() <= 64
            && info
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(LoadError::Describe {
                plugin: source,
                reason: format!(
                    "`{}` is not a connector id (lower-case letters, digits, - and _)",
                    info.id
                ),
            });
        }
        plugin.info = info;
        Ok(plugin)
    }

    /// The version of the connector world the plugin was built for.
    pub fn world(&self) -> &'static str {
        self.pre.world()
    }

    /// Runs one export in a fresh store under `limits`: `instantiate` makes
    /// the instance, `f` calls it and returns the plugin's own `Result`
    /// inside wasmtime's, whose error `plugin_error` converts.
    fn call<C, T, E>(
        &self,
        limits: &Limits,
        input_len: usize,
        instantiate: impl FnOnce(&mut Store<CallState>) -> wasmtime::Result<C>,
        f: impl FnOnce(&C, &mut Store<CallState>) -> wasmtime::Result<Result<T, E>>,
        plugin_error: fn(E) -> PluginError,
    ) -> Called<T> {
        if input_len > limits.max_input_bytes {
            return Called::failed(CallError::InputTooLarge {
                size: input_len,
                limit: limits.max_input_bytes,
            });
        }
        let started = Instant::now();
        let stdout = MemoryOutputPipe::new(STDIO_CAP);
        let stderr = MemoryOutputPipe::new(STDIO_CAP);
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(Frozen)
            .monotonic_clock(Frozen)
            .build();
        let state = CallState {
            wasi,
            table: ResourceTable::new(),
            limits: Metered {
                limits: StoreLimitsBuilder::new()
                    .memory_size(limits.memory_bytes)
                    .trap_on_grow_failure(true)
                    .instances(32)
                    .tables(32)
                    .memories(8)
                    .build(),
                memory: 0,
                peak: 0,
            },
            logs: vec![],
            log_bytes: 0,
            log_cap: limits.max_log_bytes,
            logs_dropped: 0,
        };
        let mut store = Store::new(&self.host.inner.engine, state);
        store.limiter(|s| &mut s.limits);
        let ticks = (limits.deadline_ms / EPOCH_TICK.as_millis() as u64).max(1);
        store.set_epoch_deadline(ticks);

        let instance = instantiate(&mut store);
        let instantiated = started.elapsed();
        let result = match instance {
            Err(e) => Err(CallError::Instantiate(format!("{e:#}"))),
            Ok(instance) => match f(&instance, &mut store) {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(CallError::Plugin(plugin_error(e))),
                Err(e) => Err(classify(e, limits, &stdout, &stderr)),
            },
        };
        let state = store.into_data();
        Called {
            result,
            usage: Usage {
                instantiate: instantiated,
                memory_peak_bytes: state.limits.peak,
                output_bytes: 0,
                log_lines: state.logs.len(),
                log_bytes: state.log_bytes,
                stdio_bytes: stdout.contents().len() + stderr.contents().len(),
            },
            logs: state.logs,
            logs_dropped: state.logs_dropped,
            elapsed: started.elapsed(),
        }
    }

    /// Runs a call on a blocking thread so that the async workers stay free.
    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Plugin) -> Called<T> + Send + 'static,
    ) -> Called<T> {
        let this = self.clone();
        match tokio::task::spawn_blocking(move || f(&this)).await {
            Ok(called) => called,
            Err(e) => Called::failed(CallError::Trap {
                message: format!("host thread failed: {e}"),
            }),
        }
    }

    /// How bodies of a topic are signed (asked of the plugin once per topic).
    pub async fn webhook_auth(
        self: &Arc<Self>,
        limits: Limits,
        topic: String,
    ) -> Called<WebhookAuth> {
        let known = self.auth.lock().ok().and_then(|m| m.get(&topic).cloned());
        if let Some(auth) = known {
            return Called::answered(Ok(auth));
        }
        let asked = topic.clone();
        let called = self
            .blocking(move |p| {
                on_world!(p, &limits, asked.len(), |c, s, w| c
                    .call_webhook_auth(s, &asked)
                    .map(|r| r.map(w::webhook_auth)))
            })
            .await;
        if let (Ok(auth), Ok(mut known)) = (&called.result, self.auth.lock()) {
            if known.len() < AUTH_CACHE {
                known.insert(topic, auth.clone());
            }
        }
        called
    }

    /// Translates a verified webhook body into canonical documents.
    pub async fn translate_webhook(
        self: &Arc<Self>,
        limits: Limits,
        ctx: CallContext,
        topic: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Called<Vec<Document>> {
        self.blocking(move |p| p.translate_webhook_sync(&limits, &ctx, &topic, &headers, &body))
            .await
    }

    /// The synchronous form of [`Plugin::translate_webhook`] (benchmarks).
    pub fn translate_webhook_sync(
        &self,
        limits: &Limits,
        ctx: &CallContext,
        topic: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Called<Vec<Document>> {
        let input = body.len()
            + headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        on_world!(self, limits, input, |c, s, w| {
            let (wctx, wheaders) = (w::context(ctx), w::headers(headers));
            c.call_translate_webhook(s, &wctx, topic, &wheaders, body)
                .map(|r| r.map(|docs| docs.into_iter().map(w::document).collect::<Vec<_>>()))
        })
        .sized(|docs| docs.iter().map(document_size).sum(), limits)
    }

    /// Benchmark support: per-call times of `n` trivial calls (`webhook-auth`),
    /// each in a fresh store and instance: the fixed cost of a call.
    #[doc(hidden)]
    pub fn bench_fresh_trivial(&self, n: usize) -> Vec<Duration> {
        (0..n)
            .map(|_| {
                let t = Instant::now();
                let c = on_world!(self, &Limits::default(), 0, |c, s, _w| {
                    c.call_webhook_auth(s, "orders/create")
                        .map(|r| r.map(|_| ()))
                });
                std::hint::black_box(&c.result);
                t.elapsed()
            })
            .collect()
    }

    /// Benchmark support: per-call times of `n` translations on one reused
    /// instance (the hub itself always uses a fresh instance per call).
    #[doc(hidden)]
    pub fn bench_translate_reused(
        &self,
        ctx: &CallContext,
        topic: &str,
        body: &[u8],
        n: usize,
    ) -> Vec<Duration> {
        let limits = Limits {
            deadline_ms: 600_000,
            ..Limits::default()
        };
        let Pre::Current(pre) = &self.pre else {
            panic!("benchmarks run connectors built for the current world");
        };
        let wctx = convert::current::context(ctx);
        let mut out = Vec::with_capacity(n);
        let called = self.call(
            &limits,
            0,
            |s| pre.instantiate(s),
            |c, s| {
                for i in 0..n + 500 {
                    let t = Instant::now();
                    // The plugin's work and the crossing of the boundary; the host's own
                    // conversion to JSON is not the plugin's cost.
                    let docs = c.call_translate_webhook(&mut *s, &wctx, topic, &[], body)?;
                    std::hint::black_box(&docs);
                    if i >= 500 {
                        out.push(t.elapsed());
                    }
                }
                Ok(Ok(()))
            },
            convert::current::plugin_error,
        );
        called.result.expect("benchmark calls succeed");
        out
    }

    /// The requests that tell a storefront about a batch of changes of one
    /// store; `key` is unique to the batch and its attempt.
    pub async fn plan_push(
        self: &Arc<Self>,
        limits: Limits,
        ctx: CallContext,
        key: String,
        changes: Vec<PendingChange>,
    ) -> Called<PushPlan> {
        self.blocking(move |p| p.plan_push_sync(&limits, &ctx, &key, &changes))
            .await
    }

    /// The synchronous form of [`Plugin::plan_push`] (benchmarks, tools).
    pub fn plan_push_sync(
        &self,
        limits: &Limits,
        ctx: &CallContext,
        key: &str,
        changes: &[PendingChange],
    ) -> Called<PushPlan> {
        let input = changes.len() * 256;
        on_push_world!(self, limits, input, |c, s, w|
            current: {
                let (wctx, wchanges) = (w::context(ctx), changes.iter().map(w::pending).collect::<Vec<_>>());
                c.call_plan_push(s, &wctx, key, &wchanges).map(|r| r.map(w::plan))
            },
            legacy: {
                // One call per change, each of its requests carrying only
                // it; a change the connector refuses is refused alone.
                let wctx = w::context(ctx);
                let mut plan = PushPlan::default();
                for (i, pending) in changes.iter().enumerate() {
                    match c.call_plan_push(&mut *s, &wctx, &w::change(&pending.change))? {
                        Ok(requests) => plan.requests.extend(requests.into_iter().map(|r| PlannedRequest {
                            request: w::request_back(r),
                            changes: vec![i as u32],
                            cost: 1,
                        })),
                        Err(e) => plan.refused.push((i as u32, w::plugin_error(e))),
                    }
                }
                Ok(Ok::<_, w::w::Error>(plan))
            }
        )
        .and_then(|plan| {
            check_planned(&plan.requests, changes.len())?;
            if let Some((bad, _)) = plan.refused.iter().find(|(c, _)| *c as usize >= changes.len()) {
                return Err(CallError::Malformed(format!(
                    "refuses change {bad} of a batch of {}",
                    changes.len()
                )));
            }
            Ok(plan)
        })
        .sized(|plan| planned_size(&plan.requests), limits)
    }

    /// What a storefront's response to a planned request means for each
    /// change it carried (`changes`, in the request's order).
    pub async fn interpret_response(
        self: &Arc<Self>,
        limits: Limits,
        ctx: CallContext,
        key: String,
        changes: Vec<PendingChange>,
        request: HttpRequest,
        response: HttpResponse,
    ) -> Called<Reading> {
        self.blocking(move |p| {
            p.interpret_response_sync(&limits, &ctx, &key, &changes, &request, &response)
        })
        .await
    }

    /// The synchronous form of [`Plugin::interpret_response`].
    pub fn interpret_response_sync(
        &self,
        limits: &Limits,
        ctx: &CallContext,
        key: &str,
        changes: &[PendingChange],
        request: &HttpRequest,
        response: &HttpResponse,
    ) -> Called<Reading> {
        let input = response.body.len() + changes.len() * 256;
        on_push_world!(self, limits, input, |c, s, w|
            current: {
                let (wctx, wchanges) = (w::context(ctx), changes.iter().map(w::pending).collect::<Vec<_>>());
                let (wreq, wres) = (w::request(request), w::response(response));
                c.call_interpret_response(s, &wctx, key, &wchanges, &wreq, &wres)
                    .map(|r| r.map(w::reading))
            },
            legacy: {
                // The same response read once per change it carried.
                let (wctx, wreq, wres) = (w::context(ctx), w::request(request), w::response(response));
                let mut reading = Reading { outcomes: vec![], follow_ups: vec![], drift: vec![], budget: None };
                for (i, pending) in changes.iter().enumerate() {
                    match c.call_interpret_response(&mut *s, &wctx, &w::change(&pending.change), &wreq, &wres)? {
                        Ok(o) => {
                            let (outcome, more) = w::outcome(o, i as u32);
                            reading.outcomes.push(outcome);
                            reading.follow_ups.extend(more);
                        }
                        Err(e) => return Ok(Err(e)),
                    }
                }
                Ok(Ok(reading))
            }
        )
        .and_then(|reading| {
            check_reading(&reading, changes.len())?;
            Ok(reading)
        })
        .sized(|reading| planned_size(&reading.follow_ups), limits)
    }
}

/// Every planned request carries at least one of the `n` changes, each by a
/// position within the list.
fn check_planned(planned: &[PlannedRequest], n: usize) -> Result<(), CallError> {
    for (i, p) in planned.iter().enumerate() {
        if p.changes.is_empty() {
            return Err(CallError::Malformed(format!(
                "planned request {i} carries no change"
            )));
        }
        if let Some(bad) = p.changes.iter().find(|&&c| c as usize >= n) {
            return Err(CallError::Malformed(format!(
                "planned request {i} names change {bad} of a batch of {n}"
            )));
        }
    }
    Ok(())
}

/// A reading has one outcome per change, names only changes of the list,
/// and every change it says a follow-up carries is carried by one.
fn check_reading(reading: &Reading, n: usize) -> Result<(), CallError> {
    if reading.outcomes.len() != n {
        return Err(CallError::Malformed(format!(
            "{} outcomes for a request carrying {n} changes",
            reading.outcomes.len()
        )));
    }
    check_planned(&reading.follow_ups, n)?;
    if let Some(d) = reading.drift.iter().find(|d| d.change as usize >= n) {
        return Err(CallError::Malformed(format!(
            "drift names change {} of {n}",
            d.change
        )));
    }
    for (i, o) in reading.outcomes.iter().enumerate() {
        let carried = reading
            .follow_ups
            .iter()
            .any(|p| p.changes.contains(&(i as u32)));
        if matches!(o, ChangeOutcome::FollowUp) && !carried {
            return Err(CallError::Malformed(format!(
                "change {i} is left to a follow-up that no follow-up request carries"
            )));
        }
    }
    Ok(())
}

impl Plugin {
    /// Inbound API dialect: what a `/compat/{store}/...` request asks of the hub.
    pub async fn plan_api(
        self: &Arc<Self>,
        limits: Limits,
        ctx: CallContext,
        request: ApiRequest,
    ) -> Called<ApiCommand> {
        self.blocking(move |p| {
            let input = request.body.len() + request.path.len() + request.query.len();
            on_world!(p, &limits, input, |c, s, w| {
                let (wctx, wreq) = (w::context(&ctx), w::api_request(&request));
                c.call_plan_api(s, &wctx, &wreq)
                    .map(|r| r.map(w::api_command))
            })
            .sized(
                |cmd| match cmd {
                    ApiCommand::Respond(r) => r.body.len(),
                    _ => 0,
                },
                &limits,
            )
        })
        .await
    }

    /// Inbound API dialect: the hub's canonical answer rendered in the dialect.
    pub async fn render_api(
        self: &Arc<Self>,
        limits: Limits,
        ctx: CallContext,
        request: ApiRequest,
        status: u16,
        body: String,
    ) -> Called<ApiResponse> {
        self.blocking(move |p| {
            let input = request.body.len() + body.len();
            on_world!(p, &limits, input, |c, s, w| {
                let (wctx, wreq) = (w::context(&ctx), w::api_request(&request));
                let answer = w::w::HubAnswer { status, body };
                c.call_render_api(s, &wctx, &wreq, &answer)
                    .map(|r| r.map(w::api_answer))
            })
            .sized(|r| r.body.len(), &limits)
        })
        .await
    }
}

/// Roughly how many bytes a document carries (its text), without serialising it.
fn document_size(doc: &Document) -> usize {
    match doc {
        Document::Order(o) => order_size(o),
        Document::Refund { lines, .. } => 64 + lines.len() * 64,
        _ => 128,
    }
}

/// About the size of a JSON value as text, as [`order_size`] counts it:
/// text plus quotes, keys plus `"":`, 2 per object or array, 8 per other
/// value.
pub(crate) fn json_size(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::String(s) => s.len() + 2,
        serde_json::Value::Array(a) => a.iter().map(json_size).sum::<usize>() + 2,
        serde_json::Value::Object(o) => {
            o.iter()
                .map(|(k, v)| k.len() + 3 + json_size(v))
                .sum::<usize>()
                + 2
        }
        _ => 8,
    }
}

/// About the size of an order's store API body ([`CanonicalOrder::to_json`]):
/// text plus quotes, keys plus `"":`, 2 per object or array, 8 per other
/// value.
pub(crate) fn order_size(o: &CanonicalOrder) -> usize {
    /// A key and its value.
    fn field(key: &str, value: usize) -> usize {
        key.len() + 3 + value
    }
    fn text(key: &str, value: &str) -> usize {
        field(key, value.len() + 2)
    }
    fn opt(key: &str, value: Option<&str>) -> usize {
        value.map_or(0, |v| text(key, v))
    }
    fn address(value: Option<&serde_json::Value>) -> usize {
        value.map_or(0, |v| field("address", json_size(v)))
    }
    let customer = o.customer.as_ref().map_or(0, |c| {
        field(
            "customer",
            2 + opt("name", c.name.as_deref())
                + opt("phone", c.phone.as_deref())
                + opt("email", c.email.as_deref())
                + address(c.address.as_ref()),
        )
    });
    let lines: usize = o
        .lines
        .iter()
        .map(|l| {
            2 + l
                .keys
                .reference_code
                .as_deref()
                .map_or(field("reference_code", 8), |c| text("reference_code", c))
                + text("quantity", &l.quantity)
                + text("unit_price", &l.unit_price)
                + opt("discount", l.discount.as_deref())
                + opt("tax_rate", l.tax_rate.as_deref())
                + opt("tax_amount", l.tax_amount.as_deref())
        })
        .sum();
    let shipping = o.shipping.as_ref().map_or(0, |s| {
        field(
            "shipping",
            2 + text("amount", &s.amount)
                + opt("tax", s.tax.as_deref())
                + opt("method", s.method.as_deref())
                + address(s.address.as_ref()),
        )
    });
    let payments: usize = o
        .payments
        .iter()
        .map(|p| {
            2 + text("type", &p.kind)
                + text("amount", &p.amount)
                + opt("reference", p.reference.as_deref())
        })
        .sum();
    let charges: usize = o
        .charges
        .iter()
        .map(|c| {
            2 + text("kind", charge_kind(c.kind))
                + opt("title", c.title.as_deref())
                + text("amount", &c.amount)
                + opt("tax", c.tax.as_deref())
        })
        .sum();
    2 + text("online_reference_no", &o.online_reference_no)
        + opt("location", o.location.as_deref())
        + customer
        + field("lines", 2 + lines)
        + shipping
        + field("payments", 2 + payments)
        + if o.charges.is_empty() {
            0
        } else {
            field("charges", 2 + charges)
        }
        + text("total", &o.total)
        + opt("currency", o.currency.as_deref())
        + o.prices_include_tax
            .map_or(0, |_| field("prices_include_tax", 8))
        + if o.test { field("test", 8) } else { 0 }
        + opt("placed_at", o.placed_at.as_deref())
        + opt("notes", o.notes.as_deref())
}

/// The bytes planned requests carry (their URLs and bodies).
fn planned_size(planned: &[PlannedRequest]) -> usize {
    planned
        .iter()
        .map(|p| p.request.url.len() + p.request.body.as_ref().map_or(0, Vec::len))
        .sum()
}

fn check_output(size: usize, limits: &Limits) -> Result<(), CallError> {
    if size > limits.max_output_bytes {
        Err(CallError::OutputTooLarge {
            size,
            limit: limits.max_output_bytes,
        })
    } else {
        Ok(())
    }
}

/// Turns a trap into an error a merchant can act on.
fn classify(
    e: wasmtime::Error,
    limits: &Limits,
    stdout: &MemoryOutputPipe,
    stderr: &MemoryOutputPipe,
) -> CallError {
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => {
            return CallError::Timeout {
                deadline_ms: limits.deadline_ms,
            }
        }
        Some(Trap::StackOverflow) => return CallError::StackOverflow,
        _ => {}
    }
    let text = format!("{e:?}");
    if text.contains("forcing trap when growing memory") {
        return CallError::OutOfMemory {
            limit_bytes: limits.memory_bytes,
        };
    }
    if stdout.contents().len() >= STDIO_CAP || stderr.contents().len() >= STDIO_CAP {
        return CallError::LogFlood { limit: STDIO_CAP };
    }
    // A Rust guest's panic message is on its stderr; it says more than the trap.
    let err = stderr.contents();
    let panic = String::from_utf8_lossy(&err);
    let panic = panic
        .lines()
        .skip_while(|l| !l.contains("panicked"))
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let first = format!("{e:#}");
    CallError::Trap {
        message: if panic.is_empty() {
            first
        } else {
            format!("{panic} ({first})")
        },
    }
}
