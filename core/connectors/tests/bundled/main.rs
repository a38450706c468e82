//! The bundled connectors: each one's real payloads through the compiled
//! plugin, called through the wasmtime host exactly as the hub calls it,
//! and every committed fuzz input through the fuzz targets' native code.
//! One test binary for the whole tier, so that wasmtime is linked into it
//! once; each file is a module (`cargo test -p poshub-connectors --test
//! bundled shopify` runs one of them).

mod common;
mod fuzz_regressions;
mod gofrugal;
mod shopify;
mod vendure;
mod wit_versions;
mod woocommerce;
