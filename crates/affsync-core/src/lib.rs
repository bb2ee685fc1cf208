//! affsync's pure core: what every stage of a run decides, with no I/O.
//!
//! - [`matcher`]: normalizers, the candidate index, scores and decisions.
//!
//! The crate imports no async runtime, database, HTTP or dataframe library: everything here is
//! a plain function of its input, tested beside the code.

pub mod matcher;
