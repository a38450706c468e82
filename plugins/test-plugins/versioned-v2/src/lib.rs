//! Version 2 of the hot-reload test connector.
const VERSION: &str = "2.0.0";
include!("../../versioned_common.rs");
