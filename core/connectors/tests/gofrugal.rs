//! The gofrugal connector against real payloads.

mod common;
use common::*;

#[test]
fn describes_itself() {
    assert_eq!(plugin("gofrugal").info.id, "gofrugal");
}
