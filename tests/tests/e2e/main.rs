//! End-to-end tests: the real hub on 127.0.0.1 over real databases. Each
//! story runs on SQLite and on Postgres (when `POSHUB_TEST_POSTGRES_URL` is
//! set).

mod bad_input;
mod bulk;
mod commerce;
mod concurrency;
mod connectors;
mod lifecycle;
mod plugins;
mod real_orders;
mod round_trips;
mod scope;
mod security;
mod shopify_graphql;
mod sync;
mod tls;
mod vendure;
mod walkthrough;
mod webhooks;
mod woo_batch;
