//! Per-call sandbox limits, configurable per store (`config.limits`) within
//! hard ceilings.

use serde_json::Value;

/// What one plugin call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory the instance may grow to.
    pub memory_bytes: usize,
    /// Wall-clock budget of the call, enforced by epoch interruption.
    pub deadline_ms: u64,
    /// Largest input (e.g. a webhook body) a call accepts.
    pub max_input_bytes: usize,
    /// Largest output (documents, planned requests) a call may return.
    pub max_output_bytes: usize,
    /// Plugin log kept per call; the rest is counted and dropped.
    pub max_log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 32 << 20,
            deadline_ms: 250,
            max_input_bytes: 1 << 20,
            max_output_bytes: 1 << 20,
            max_log_bytes: 16 << 10,
        }
    }
}

/// Ceilings no store configuration can exceed.
pub const MAX_MEMORY_BYTES: usize = 256 << 20;
/// The floor of a store's memory cap: the bundled connectors start with
/// 4 MiB of linear memory (so that a call never has to grow it), and a Rust
/// guest cannot start in less than about 1.1 MiB anyway.
pub const MIN_MEMORY_BYTES: usize = 4 << 20;
pub const MAX_DEADLINE_MS: u64 = 10_000;
pub const MAX_IO_BYTES: usize = 16 << 20;
pub const MAX_LOG_BYTES: usize = 1 << 20;

impl Limits {
    /// The defaults overridden by a store's `config.limits`:
    /// `{"memory_mb", "deadline_ms", "max_input_kb", "max_output_kb", "max_log_kb"}`,
    /// each clamped to its ceiling (memory also to its floor).
    pub fn for_store(config: &Value) -> Limits {
        let mut l = Limits::default();
        let Some(c) = config.get("limits") else {
            return l;
        };
        let num = |k: &str| c.get(k).and_then(Value::as_u64);
        if let Some(v) = num("memory_mb") {
            l.memory_bytes = ((v as usize) << 20).clamp(MIN_MEMORY_BYTES, MAX_MEMORY_BYTES);
        }
        if let Some(v) = num("deadline_ms") {
            l.deadline_ms = v.clamp(1, MAX_DEADLINE_MS);
        }
        if let Some(v) = num("max_input_kb") {
            l.max_input_bytes = ((v as usize) << 10).clamp(1 << 10, MAX_IO_BYTES);
        }
        if let Some(v) = num("max_output_kb") {
            l.max_output_bytes = ((v as usize) << 10).clamp(1 << 10, MAX_IO_BYTES);
        }
        if let Some(v) = num("max_log_kb") {
            l.max_log_bytes = ((v as usize) << 10).min(MAX_LOG_BYTES);
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stores_tune_limits_within_ceilings() {
        let l = Limits::for_store(&json!({"limits": {"memory_mb": 8, "deadline_ms": 99999}}));
        assert_eq!(l.memory_bytes, 8 << 20);
        assert_eq!(l.deadline_ms, MAX_DEADLINE_MS);
        assert_eq!(Limits::for_store(&json!({})), Limits::default());
        let tiny = Limits::for_store(&json!({"limits": {"memory_mb": 1}}));
        assert_eq!(tiny.memory_bytes, MIN_MEMORY_BYTES);
    }
}
