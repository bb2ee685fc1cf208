//! What an enrichment file is and what to read of it (the reading itself is the engine's).

use std::path::Path;

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Csv,
    Parquet,
    Jsonl,
}

impl SourceFormat {
    /// The format a file name's extension says: `.csv`, `.tsv`, `.txt`, `.parquet`, `.jsonl`,
    /// `.ndjson`.
    pub fn from_path(path: &Path) -> Option<SourceFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(SourceFormat::Csv),
            "parquet" | "pq" => Some(SourceFormat::Parquet),
            "jsonl" | "ndjson" => Some(SourceFormat::Jsonl),
            _ => None,
        }
    }

    /// The name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Csv => "CSV",
            SourceFormat::Parquet => "Parquet",
            SourceFormat::Jsonl => "JSON Lines",
        }
    }
}

/// What to read from a file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// The id column.
    pub id: String,
    /// Other columns to keep (the search term and the compared ones).
    pub columns: Vec<String>,
    /// The CSV separator; `,` by default, a tab for `.tsv`.
    pub separator: Option<u8>,
    /// The format; from the extension by default.
    pub format: Option<SourceFormat>,
}
