//! Version 1 of the hot-reload test connector.
const VERSION: &str = "1.0.0";
include!("../../versioned_common.rs");
