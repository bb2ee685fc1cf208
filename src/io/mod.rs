//! Files in and out: enrichment sources (CSV, Parquet, JSON Lines through polars), mapping
//! files, and exports of the mirror. polars stays in this module.

pub mod export;
pub mod source;

use std::path::Path;

use affsync_core::mapping::{Mapping, MappingError};

/// Reads and parses a mapping file.
pub fn load_mapping(path: &Path) -> Result<Mapping, MappingError> {
    let text = std::fs::read_to_string(path).map_err(|source| MappingError::Io {
        file: path.display().to_string(),
        source,
    })?;
    Mapping::parse(path, text)
}
