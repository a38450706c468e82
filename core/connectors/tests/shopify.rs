//! The shopify connector against real payloads.

mod common;
use common::*;

#[test]
fn describes_itself() {
    assert_eq!(plugin("shopify").info.id, "shopify");
}
