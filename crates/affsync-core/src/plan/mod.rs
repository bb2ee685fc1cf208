//! Planners: desired state against what the mirror holds, as typed operations (pure; the engine
//! resolves the inputs first and applies the operations after).

pub mod activity;
pub mod push;
