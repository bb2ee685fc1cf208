//! affsync keeps an Affinity CRM tenant and a team's enrichment data in step, both ways.
//!
//! The crate is a library plus the `affsync` binary; a module per stage of a run
//! (see `DESIGN.md` in the shared folder for the flow).

pub mod activity;
pub mod activity_log;
pub mod catalog;
pub mod contacts;
pub mod http_guard;
pub mod io;
pub mod jobs;
pub mod listen;
pub mod mapping_identity;
pub mod matching;
pub mod mcp;
pub mod members;
pub mod pull;
pub mod push;
pub mod report;
pub mod review;
pub mod settings;
pub mod store;
