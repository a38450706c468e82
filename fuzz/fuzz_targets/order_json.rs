#![no_main]

libfuzzer_sys::fuzz_target!(
    init: poshub_fuzz_checks::warm_up(),
    |data: &[u8]| poshub_fuzz_checks::order_json(data)
);
