//! Placeholder while the connector is written.

use poshub_connector_sdk::*;

pub struct Placeholder;

impl Connector for Placeholder {
    fn describe() -> ConnectorInfo {
        info("gofrugal", env!("CARGO_PKG_VERSION"), "gofrugal").build()
    }
}

register!(Placeholder);
