//! Enrichment files → source records, through polars: CSV (any one-byte separator), Parquet, or
//! JSON Lines. Only the id column and the columns asked for are kept, every value as text.
//!
//! A bad row does not stop the run: a row without an id gets `id: None`, a row that cannot be
//! decoded (a CSV cell that is not UTF-8, a JSON line that is not a JSON object, a value that
//! has no text form) gets a `problem`; the matcher turns both into `error` decisions that name
//! the row. Rows are numbered from 1, the header not counted. A CSV row with more fields than
//! the header (an unquoted separator in a value) is such a row too, named by its line: its
//! columns would be shifted. A file in UTF-16 is refused with its encoding named.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use affsync_core::diagnostic::{Diagnose, ErrorClass};
use affsync_core::mapping::check::{SourceSample, SAMPLE_ROWS};
use affsync_core::mapping::Mapping;
use affsync_core::matcher::SourceRecord;
use affsync_core::source::{ReadOptions, SourceFormat};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot tell the format of `{0}`")]
    UnknownFormat(String),
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` has no column `{column}`")]
    MissingColumn {
        path: String,
        column: String,
        /// The file's columns.
        available: Vec<String>,
    },
    #[error("`{path}` is {encoding}, not UTF-8")]
    Encoding {
        path: String,
        encoding: &'static str,
    },
    #[error("cannot read `{path}` as {format}: {message}")]
    Unreadable {
        path: String,
        format: &'static str,
        message: String,
        hint: &'static str,
    },
}

impl Diagnose for SourceError {
    fn class(&self) -> ErrorClass {
        ErrorClass::BadInput
    }

    fn hint(&self) -> Option<String> {
        match self {
            SourceError::UnknownFormat(_) => Some(
                "end the file name with `.csv`, `.parquet` or `.jsonl`, or set `format`".into(),
            ),
            SourceError::Io { .. } => None,
            SourceError::MissingColumn { available, .. } => Some(format!(
                "its columns are {}",
                available
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            SourceError::Encoding { .. } => Some(
                "save it as UTF-8 (in Excel: \"CSV UTF-8\"), or convert it: `iconv -f UTF-16 -t UTF-8`"
                    .into(),
            ),
            SourceError::Unreadable { hint, .. } => Some(hint.to_string()),
        }
    }
}

/// Reads the mapped columns of a mapping's source file (its first [`SAMPLE_ROWS`] rows), noting
/// the columns it lacks, for the checker.
pub fn sample_source(m: &Mapping) -> SourceSample {
    let path = m.source_path();
    let mut opts: ReadOptions = m.read_options();
    let mut missing = Vec::new();
    let mut available = Vec::new();
    loop {
        match read_records(&path, &opts) {
            Ok(mut rows) => {
                rows.truncate(SAMPLE_ROWS);
                return SourceSample::Read {
                    missing,
                    available,
                    rows,
                };
            }
            Err(SourceError::MissingColumn {
                column,
                available: a,
                ..
            }) => {
                available = a;
                missing.push(column.clone());
                if opts.id == column {
                    // Read on with another column as id: the id's absence is reported.
                    match available.first() {
                        Some(c) => opts.id = c.clone(),
                        None => {
                            return SourceSample::Read {
                                missing,
                                available,
                                rows: vec![],
                            }
                        }
                    }
                }
                opts.columns.retain(|c| *c != column);
            }
            Err(e) => {
                return SourceSample::Unreadable {
                    exists: path.exists(),
                    message: e.to_string(),
                    hint: e.hint(),
                }
            }
        }
    }
}

/// Reads the records of one file. The whole file fails only when it cannot be read at all
/// (missing, unknown format, a column not there); bad rows are records with a problem.
pub fn read_records(path: &Path, opts: &ReadOptions) -> Result<Vec<SourceRecord>, SourceError> {
    read_columns(path, opts, false).map(|(_, rows)| rows)
}

/// Every column of a file and its records, each with every column (`affsync mapping new`
/// reads a file it knows nothing of yet); no column is the id.
pub fn read_all_columns(
    path: &Path,
    separator: Option<u8>,
) -> Result<(Vec<String>, Vec<SourceRecord>), SourceError> {
    let opts = ReadOptions {
        separator,
        ..Default::default()
    };
    read_columns(path, &opts, true)
}

fn read_columns(
    path: &Path,
    opts: &ReadOptions,
    all: bool,
) -> Result<(Vec<String>, Vec<SourceRecord>), SourceError> {
    let shown = path.display().to_string();
    let format = opts
        .format
        .or_else(|| SourceFormat::from_path(path))
        .ok_or_else(|| SourceError::UnknownFormat(shown.clone()))?;
    let bytes = std::fs::read(path).map_err(|source| SourceError::Io {
        path: shown.clone(),
        source,
    })?;
    if let Some(encoding) = utf16(&bytes) {
        return Err(SourceError::Encoding {
            path: shown.clone(),
            encoding,
        });
    }
    let mut wanted: Vec<String> = vec![opts.id.clone()];
    for c in &opts.columns {
        if !wanted.contains(c) {
            wanted.push(c.clone());
        }
    }
    let unreadable =
        |format: &'static str, e: PolarsError, hint: &'static str| SourceError::Unreadable {
            path: shown.clone(),
            format,
            message: e.to_string(),
            hint,
        };
    // Rows that never reach polars (JSON lines that do not parse): row number → problem.
    let mut broken: BTreeMap<usize, String> = BTreeMap::new();
    // Row number of each data-frame row.
    let mut rows: Option<Vec<usize>> = None;
    // CSV rows with more fields than the header: row number → problem.
    let mut ragged: BTreeMap<usize, String> = BTreeMap::new();
    let df = match format {
        SourceFormat::Csv => {
            let sep = opts.separator.unwrap_or_else(|| {
                let tsv = path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
                if tsv {
                    b'\t'
                } else {
                    b','
                }
            });
            ragged = overlong_rows(&bytes, sep);
            CsvReadOptions::default()
                .with_has_header(true)
                // Every column as text: ids like `007` keep their zeros.
                .with_infer_schema_length(Some(0))
                .map_parse_options(|p| {
                    p.with_separator(sep)
                        .with_encoding(CsvEncoding::LossyUtf8)
                        .with_truncate_ragged_lines(true)
                })
                .into_reader_with_file_handle(Cursor::new(bytes))
                .finish()
                .map_err(|e| {
                    unreadable(
                        "CSV",
                        e,
                        "check the separator (`separator = \"|\"`) and the quoting of the file",
                    )
                })?
        }
        SourceFormat::Parquet => ParquetReader::new(Cursor::new(bytes))
            .finish()
            .map_err(|e| {
                unreadable(
                    "Parquet",
                    e,
                    "check that the file is a complete Parquet file",
                )
            })?,
        SourceFormat::Jsonl => {
            let mut good = Vec::with_capacity(bytes.len());
            let mut numbers = Vec::new();
            let mut row = 0usize;
            for line in bytes.split(|&b| b == b'\n') {
                let trimmed = line.trim_ascii();
                if trimmed.is_empty() {
                    continue;
                }
                row += 1;
                match serde_json::from_slice::<serde_json::Value>(trimmed) {
                    Ok(serde_json::Value::Object(_)) => {
                        good.extend_from_slice(trimmed);
                        good.push(b'\n');
                        numbers.push(row);
                    }
                    Ok(_) => {
                        broken.insert(row, "the line is JSON but not an object".into());
                    }
                    Err(e) => {
                        broken.insert(row, format!("the line is not JSON ({e})"));
                    }
                }
            }
            rows = Some(numbers);
            if good.is_empty() {
                DataFrame::empty()
            } else {
                JsonReader::new(Cursor::new(good))
                    .with_json_format(JsonFormat::JsonLines)
                    .infer_schema_len(None)
                    .finish()
                    .map_err(|e| unreadable("JSON Lines", e, "each line must be one JSON object"))?
            }
        }
    };
    let height = df.height();
    let present: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    if all {
        wanted = present.clone();
    }
    if height > 0 || format != SourceFormat::Jsonl {
        for c in &wanted {
            if !present.contains(c) {
                return Err(SourceError::MissingColumn {
                    path: shown.clone(),
                    column: c.clone(),
                    available: present.clone(),
                });
            }
        }
    }
    let row_of = |i: usize| rows.as_ref().map_or(i + 1, |r| r[i]);
    let mut records: Vec<SourceRecord> = (0..height)
        .map(|i| SourceRecord {
            row: row_of(i),
            ..Default::default()
        })
        .collect();
    for r in records.iter_mut() {
        if let Some(p) = ragged.remove(&r.row) {
            r.problem = Some(p);
        }
    }
    for c in wanted.iter().filter(|c| present.contains(c)) {
        let col = df.column(c).expect("checked above");
        let text = match col.cast(&DataType::String) {
            Ok(t) => t,
            Err(_) => {
                for r in records.iter_mut() {
                    r.problem.get_or_insert_with(|| {
                        format!("column `{c}` holds values that have no text form")
                    });
                }
                continue;
            }
        };
        let ca = text.str().expect("cast to text");
        for (r, v) in records.iter_mut().zip(ca.iter()) {
            let Some(v) = v else { continue };
            if v.contains('\u{FFFD}') {
                r.problem
                    .get_or_insert_with(|| format!("column `{c}` is not valid UTF-8"));
                continue;
            }
            if *c == opts.id {
                let id = v.trim();
                if !id.is_empty() {
                    r.id = Some(id.to_string());
                }
            }
            r.values.insert(c.clone(), v.to_string());
        }
    }
    for (row, problem) in broken {
        records.push(SourceRecord {
            row,
            problem: Some(problem),
            ..Default::default()
        });
    }
    records.sort_by_key(|r| r.row);
    Ok((present, records))
}

/// `Some("UTF-16 (little-endian)")` when the bytes are UTF-16: a byte-order mark, or the NUL
/// bytes every other byte that ASCII text in UTF-16 has.
fn utf16(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xFE, ..] => return Some("UTF-16 (little-endian)"),
        [0xFE, 0xFF, ..] => return Some("UTF-16 (big-endian)"),
        _ => {}
    }
    let head = &bytes[..bytes.len().min(512)];
    if head.len() < 4 {
        return None;
    }
    let zeros = |start: usize| {
        head.iter()
            .skip(start)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let half = head.len() / 2;
    if zeros(1) * 10 >= half * 9 {
        Some("UTF-16 (little-endian)")
    } else if zeros(0) * 10 >= half * 9 {
        Some("UTF-16 (big-endian)")
    } else {
        None
    }
}

/// The records of a CSV file that have more fields than its header, by row number (1 for the
/// first record after the header), each with its problem in words. Quoted fields (`"a, b"`,
/// with `""` for a quote) may hold separators and line breaks; blank lines are no records.
/// Such a row's values would be shifted into the wrong columns, so it is an error, not data.
fn overlong_rows(bytes: &[u8], sep: u8) -> BTreeMap<usize, String> {
    let mut out = BTreeMap::new();
    let mut header: Option<usize> = None;
    let mut row = 0usize;
    let (mut line, mut start_line) = (1usize, 1usize);
    let (mut fields, mut at_field_start, mut in_quotes, mut empty) = (1usize, true, false, true);
    let mut i = 0;
    let mut end_record = |fields: usize, start_line: usize, empty: bool| {
        if empty {
            return;
        }
        match header {
            None => header = Some(fields),
            Some(h) => {
                row += 1;
                if fields > h {
                    out.insert(
                        row,
                        format!(
                            "line {start_line} has {fields} fields where the header has {h}: a value holds an unquoted separator (quote it), so its columns would be shifted"
                        ),
                    );
                }
            }
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        if in_quotes {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            } else if b == b'\n' {
                line += 1;
            }
        } else if b == b'"' && at_field_start {
            in_quotes = true;
            at_field_start = false;
            empty = false;
        } else if b == sep {
            fields += 1;
            at_field_start = true;
            empty = false;
        } else if b == b'\n' {
            end_record(fields, start_line, empty);
            line += 1;
            start_line = line;
            (fields, at_field_start, empty) = (1, true, true);
        } else if b != b'\r' {
            at_field_start = false;
            empty = false;
        }
        i += 1;
    }
    end_record(fields, start_line, empty);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlong_rows_are_found_by_line() {
        let csv = b"id,name,city\n1,Acme,Berlin\n2,Acme, Inc,Paris\n\n3,\"Zenith, Ltd\",Rome\n4,\"two\nlines\",Oslo\n5,a,b,c,d\n";
        let bad = overlong_rows(csv, b',');
        assert_eq!(bad.keys().copied().collect::<Vec<_>>(), [2, 5]);
        assert!(
            bad[&2].starts_with("line 3 has 4 fields where the header has 3"),
            "{}",
            bad[&2]
        );
        assert!(bad[&5].starts_with("line 8 has 5 fields"), "{}", bad[&5]);
        assert!(overlong_rows(b"a|b\n1|x,y\n", b'|').is_empty());
    }

    #[test]
    fn utf16_is_recognized() {
        let le: Vec<u8> = "id,name\n1,Acme\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "id,name\n1,Acme\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(utf16(&le), Some("UTF-16 (little-endian)"));
        assert_eq!(utf16(&be), Some("UTF-16 (big-endian)"));
        assert_eq!(
            utf16(&[0xFF, 0xFE, b'i', 0]),
            Some("UTF-16 (little-endian)")
        );
        assert_eq!(utf16("id,name\n1,Müller\n".as_bytes()), None);
        assert_eq!(utf16(b""), None);
    }
}
