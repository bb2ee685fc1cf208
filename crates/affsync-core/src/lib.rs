//! affsync's pure core: what every stage of a run decides, with no I/O.
//!
//! - [`model`]: the vocabulary (one record kind, lists, fields, records, values).
//! - [`matcher`]: normalizers, the candidate index, scores and decisions.
//! - [`mapping`]: mapping files parsed with spans, checked against a catalog, cells converted.
//! - [`diagnostic`]: diagnostics with file, line, key and hint; error classes.
//! - [`journal`]: the journal's events, typed, for every step of every kind of run.
//! - [`activity`]: the communication feed and log-activity's settings.
//! - [`plan`]: the planners of push and log-activity.
//! - [`source`]: what an enrichment file is and what to read of it.
//!
//! The crate imports no async runtime, database, HTTP or dataframe library: everything here is
//! a plain function of its input, tested beside the code.

pub mod activity;
pub mod diagnostic;
pub mod journal;
pub mod mapping;
pub mod matcher;
pub mod model;
pub mod plan;
pub mod source;
