//! Checks v2 answers against Affinity's OpenAPI spec (`../shared/data/affinity/`).

use affsync::emulator::Recorded;

/// One line per v2 answer that does not match the spec's schema for its operation and status.
pub fn check_recorded(_records: &[Recorded]) -> Vec<String> {
    // Filled in by the v2 work: see the acceptance list.
    Vec::new()
}
