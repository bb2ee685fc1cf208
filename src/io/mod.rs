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

/// A plain text table: a header row, then rows, columns padded to their widest cell.
pub fn text_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = vec![line(header.to_vec())];
    for r in rows {
        out.push(line(r.iter().map(String::as_str).collect()));
    }
    out.join("\n") + "\n"
}
