//! The `poshub` binary as its users run it: `serve` (the demo, crash safety
//! under SIGKILL, several processes on one Postgres), `import` and `plugins
//! list`. One test binary for the whole tier, so that it is linked once;
//! each file is a module (`cargo test -p poshub-server --test cli crash`
//! runs one of them).

mod common;
mod crash;
mod crash_two_hubs;
mod demo;
mod import_cli;
mod multi_hub;
mod plugins_cli;
mod plugins_run;
