#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| poshub_fuzz_checks::vendure(data));
