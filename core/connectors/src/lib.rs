//! poshub's host for connector plugins: the one crate that runs wasmtime and
//! calls `bindgen!`. Generated WIT types stay inside; the rest of the hub
//! sees the plain types of [`types`], and a connector's order becomes the
//! model's [`OrderRequest`](poshub_model::order::OrderRequest) through
//! [`order::OrderDraft`].
//!
//! - [`Host`]: one engine with the pooling allocator, an epoch ticker for CPU
//!   deadlines, components compiled once and cached on disk (keyed by the
//!   engine's compatibility hash and the wasm's SHA-256), and the import
//!   check that refuses a component reaching outside the connector world.
//! - [`Plugin`]: a loaded connector (an `InstancePre`); every call gets a
//!   fresh store with a memory cap, a deadline, size caps and captured logs,
//!   and runs on a blocking thread so the async workers stay free.
//! - [`Registry`]: bundled connectors plus a plugins directory, hot-swapped
//!   on reload only after the new build loads and type-checks.
//! - Both edges of the host's trust: [`verify_signature`] for what comes
//!   in, [`egress`] (allowed hosts, credentials, forwarded headers) for what
//!   goes out.

mod convert;
pub mod egress;
mod host;
mod limits;
pub mod order;
mod plugin;
mod registry;
mod signature;
pub mod types;

/// The generated bindings of the current world; private to this crate.
mod wit {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "connector",
    });
}

/// The bindings of `poshub:connector@0.2.0`, which components built before
/// 0.3.0 (batched pushes) target; [`convert::v0_2`] adapts their pushes.
mod wit_0_2 {
    wasmtime::component::bindgen!({
        path: "../../wit/0.2.0",
        world: "connector",
    });
}

/// The bindings of `poshub:connector@0.1.0`, which components built before
/// 0.2.0 target; [`convert::v0_1`] upgrades what they return.
mod wit_0_1 {
    wasmtime::component::bindgen!({
        path: "../../wit/0.1.0",
        world: "connector",
    });
}

pub use host::{Host, LoadError, Source};

/// The version of the connector world a new build is made for
/// (`wit/connector.wit`; the `wit_versions` test holds them together).
pub const WORLD: &str = "0.3.0";
pub use limits::Limits;
pub use plugin::{CallError, Called, LogLine, Plugin, Usage};
pub use registry::{PluginSummary, Registry, ReloadReport};
pub use signature::verify_signature;

/// Connectors built from `plugins/` and shipped inside the binary (the
/// build script names each `.wasm` in a `POSHUB_BUNDLED_*` variable).
pub mod bundled {
    /// (file name, component bytes).
    pub const BUNDLED: &[(&str, &[u8])] = &[
        (
            "canonical.wasm",
            include_bytes!(env!("POSHUB_BUNDLED_CANONICAL")),
        ),
        (
            "shopify.wasm",
            include_bytes!(env!("POSHUB_BUNDLED_SHOPIFY")),
        ),
        (
            "woocommerce.wasm",
            include_bytes!(env!("POSHUB_BUNDLED_WOOCOMMERCE")),
        ),
        (
            "gofrugal.wasm",
            include_bytes!(env!("POSHUB_BUNDLED_GOFRUGAL")),
        ),
        (
            "vendure.wasm",
            include_bytes!(env!("POSHUB_BUNDLED_VENDURE")),
        ),
    ];
}
