//! Exports of the mirror through polars: a list as a table, one row per live entry.
//!
//! Columns: `entry_id`, `entity_id`, `entity_name`, then `domain` (organization lists) or
//! `email` (person lists), then one column per field of the list, named as in Affinity. Cells
//! show what a person reads in Affinity: multi-values joined with `; `, dropdowns by their text,
//! dates as ISO dates, references by name. Single-valued number fields are numbers and
//! single-valued date fields are ISO dates (`2024-04-01`).

use affsync_core::diagnostic::{Diagnose, ErrorClass};
use affsync_core::model::{FieldRow, Kind, ValueItem};
use std::collections::BTreeSet;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::store::read::ListView;

/// A file format, from the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    JsonLines,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot tell the format of `{0}`")]
    UnknownFormat(String),
    // The cause is in the message, not also a source in the chain (it was printed twice).
    #[error("cannot write `{path}`: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("cannot build the table: {0}")]
    Polars(#[from] PolarsError),
}

impl Diagnose for ExportError {
    fn class(&self) -> ErrorClass {
        match self {
            ExportError::UnknownFormat(_) | ExportError::Io { .. } => ErrorClass::BadInput,
            ExportError::Polars(_) => ErrorClass::Failure,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ExportError::UnknownFormat(_) => {
                Some("end the file name with `.csv`, `.parquet` or `.jsonl`".into())
            }
            _ => None,
        }
    }
}

impl Format {
    pub fn from_path(path: &Path) -> Result<Format, ExportError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("parquet") => Ok(Format::Parquet),
            Some("jsonl") | Some("ndjson") => Ok(Format::JsonLines),
            _ => Err(ExportError::UnknownFormat(path.display().to_string())),
        }
    }
}

/// How one field's cells are typed.
enum CellKind {
    Text,
    Number,
    Date,
}

fn kind_of(f: &FieldRow) -> CellKind {
    if f.allows_multiple || f.value_type.ends_with("-multi") {
        return CellKind::Text;
    }
    match f.value_type.as_str() {
        "number" | "formula-number" => CellKind::Number,
        "datetime" => CellKind::Date,
        _ => CellKind::Text,
    }
}

/// A number as a person writes it: `5000`, not `5000.0`.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The ISO date of a stored instant. Affinity stores a date at midnight US Pacific (07:00 or
/// 08:00 UTC, affinity-api.md §8.7) and older ones at midnight UTC: the UTC date is the date
/// in both cases.
fn iso_date(at: &str) -> Option<NaiveDate> {
    chrono::DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc).date_naive())
}

/// One element as text.
pub fn item_text(it: &ValueItem) -> Option<String> {
    match it.value_type.as_str() {
        "datetime" => it.at.as_deref().and_then(iso_date).map(|d| d.to_string()),
        "interaction" => it
            .at
            .as_deref()
            .and_then(iso_date)
            .map(|d| d.to_string())
            .or_else(|| it.text.clone()),
        "number" | "number-multi" | "formula-number" => it.number.map(number_text),
        _ => it
            .text
            .clone()
            .or_else(|| it.number.map(number_text))
            .or_else(|| it.ref_id.map(|r| r.to_string()))
            .or_else(|| it.json.clone()),
    }
}

/// A whole value as text: elements joined with `; `.
pub fn cell_text(items: &[ValueItem]) -> Option<String> {
    let parts: Vec<String> = items.iter().filter_map(item_text).collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Column names: a field's name, unless another column has it (then `name (field id)`).
fn column_names(fixed: &[&str], fields: &[FieldRow]) -> Vec<String> {
    let mut taken: BTreeSet<String> = fixed.iter().map(|s| s.to_string()).collect();
    let counts = |name: &str| fields.iter().filter(|f| f.name == name).count();
    fields
        .iter()
        .map(|f| {
            let name = if counts(&f.name) > 1 || taken.contains(&f.name) {
                format!("{} ({})", f.name, f.id)
            } else {
                f.name.clone()
            };
            taken.insert(name.clone());
            name
        })
        .collect()
}

/// The table of a list; `safe` neutralizes text cells (for a CSV file people open).
pub fn list_frame(view: &ListView, safe: bool) -> Result<DataFrame, ExportError> {
    let text = |s: Option<String>| -> Option<String> {
        match s {
            Some(s) if safe => Some(neutralize(&s).into_owned()),
            other => other,
        }
    };
    let n = view.entries.len();
    let mut fixed = vec!["entry_id", "entity_id", "entity_name"];
    match view.list.kind {
        Kind::Organization => fixed.push("domain"),
        Kind::Person => fixed.push("email"),
        Kind::Opportunity => {}
    }
    let mut columns: Vec<Column> = vec![
        Column::new(
            "entry_id".into(),
            view.entries
                .iter()
                .map(|e| e.entry.id)
                .collect::<Vec<i64>>(),
        ),
        Column::new(
            "entity_id".into(),
            view.entries
                .iter()
                .map(|e| e.entry.entity_id)
                .collect::<Vec<i64>>(),
        ),
        Column::new(
            "entity_name".into(),
            view.entries
                .iter()
                .map(|e| text(e.entity_name.clone()))
                .collect::<Vec<Option<String>>>(),
        ),
    ];
    match view.list.kind {
        Kind::Organization => columns.push(Column::new(
            "domain".into(),
            view.entries
                .iter()
                .map(|e| e.domain.clone())
                .collect::<Vec<Option<String>>>(),
        )),
        Kind::Person => columns.push(Column::new(
            "email".into(),
            view.entries
                .iter()
                .map(|e| e.email.clone())
                .collect::<Vec<Option<String>>>(),
        )),
        Kind::Opportunity => {}
    }
    let names = column_names(&fixed, &view.fields);
    for (f, name) in view.fields.iter().zip(names) {
        let values = view.entries.iter().map(|e| e.values.get(&f.id));
        let col = match kind_of(f) {
            CellKind::Number => {
                let numbers: Vec<Option<f64>> = values
                    .map(|v| v.and_then(|items| items.first()).and_then(|it| it.number))
                    .collect();
                // Whole numbers stay whole (`42`, not `42.0`), as Affinity shows them.
                if numbers
                    .iter()
                    .flatten()
                    .all(|n| n.fract() == 0.0 && n.abs() < 9e15)
                {
                    let ints: Vec<Option<i64>> =
                        numbers.iter().map(|n| n.map(|n| n as i64)).collect();
                    Column::new(name.as_str().into(), ints)
                } else {
                    Column::new(name.as_str().into(), numbers)
                }
            }
            // ISO dates as text: the same cell in every format.
            CellKind::Date => Column::new(
                name.as_str().into(),
                values
                    .map(|v| {
                        v.and_then(|items| items.first())
                            .and_then(|it| it.at.as_deref())
                            .and_then(iso_date)
                            .map(|d| d.to_string())
                    })
                    .collect::<Vec<Option<String>>>(),
            ),
            CellKind::Text => Column::new(
                name.as_str().into(),
                values
                    .map(|v| text(v.and_then(|items| cell_text(items))))
                    .collect::<Vec<Option<String>>>(),
            ),
        };
        columns.push(col);
    }
    Ok(DataFrame::new(n, columns)?)
}

/// Writes a list's table to `path` in the format its extension names; gives the row count.
/// Text cells of a CSV file are neutralized (see [`neutralize`]) unless `raw`; Parquet and JSON
/// Lines keep every value as it is.
pub fn write_list(view: &ListView, path: &Path, raw: bool) -> Result<usize, ExportError> {
    let format = Format::from_path(path)?;
    let mut df = list_frame(view, format == Format::Csv && !raw)?;
    let io = |cause| ExportError::Io {
        path: path.display().to_string(),
        cause,
    };
    // Written beside the target, then renamed: a failed export never leaves half a file.
    let tmp = partial_path(path);
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let written = match format {
        Format::Csv => CsvWriter::new(file)
            .include_header(true)
            .finish(&mut df)
            .map(|_| ()),
        Format::Parquet => ParquetWriter::new(file).finish(&mut df).map(|_| ()),
        Format::JsonLines => JsonWriter::new(file)
            .with_json_format(JsonFormat::JsonLines)
            .finish(&mut df),
    };
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(df.height())
}

/// A cell as a spreadsheet must not run it: text starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'`, so that it is shown, not evaluated (a person named
/// `=HYPERLINK(...)` stays a name). Plain numbers (`-5`, `+33`, `-1.5e3`) are kept as they
/// are; `-inf` and `+NaN`, which Rust reads as numbers and a spreadsheet as formulas, are not.
pub fn neutralize(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !s.trim().parse::<f64>().is_ok_and(f64::is_finite) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A CSV writer with the house settings: RFC 4180 quoting where a cell needs it (a comma, a
/// quote or a line break in it), `\n` line ends. Each cell is neutralized (see [`neutralize`])
/// unless `raw` (files programs read back), then quoted by the writer.
pub struct CsvOut<W: std::io::Write> {
    w: csv::Writer<W>,
    raw: bool,
}

impl<W: std::io::Write> CsvOut<W> {
    pub fn new(w: W, raw: bool) -> Self {
        let w = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Necessary)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(w);
        CsvOut { w, raw }
    }

    /// One row, the header too; every row has as many cells as the first.
    pub fn row<S: AsRef<str>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> std::io::Result<()> {
        for c in cells {
            let c = c.as_ref();
            let c = if self.raw {
                std::borrow::Cow::Borrowed(c)
            } else {
                neutralize(c)
            };
            self.w.write_field(c.as_bytes()).map_err(csv_io)?;
        }
        self.w.write_record(None::<&[u8]>).map_err(csv_io)
    }

    /// Flushes what is written and gives the writer back.
    pub fn finish(self) -> std::io::Result<W> {
        self.w.into_inner().map_err(|e| e.into_error())
    }
}

/// A CSV writer's error as an I/O error: the underlying one when it is one.
fn csv_io(e: csv::Error) -> std::io::Error {
    if !e.is_io_error() {
        return std::io::Error::other(e);
    }
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        kind => std::io::Error::other(format!("{kind:?}")),
    }
}

/// Where a file is written before it is renamed to `path`: beside it, its whole name and
/// `.partial` (`out.csv.partial`), so that `out.csv` and `out.tsv` never share one.
pub fn partial_path(path: &Path) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// Writes the CSV file `path` through a [`CsvOut`] (`raw` as there), beside it first
/// ([`partial_path`]), then renamed: a failed write never leaves half a file, and its partial
/// file is removed.
pub fn write_csv_file(
    path: &Path,
    raw: bool,
    rows: impl FnOnce(&mut CsvOut<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = partial_path(path);
    let written = std::fs::File::create(&tmp)
        .and_then(|file| {
            let mut out = CsvOut::new(file, raw);
            rows(&mut out)?;
            out.finish().map(drop)
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes `CsvOut` writes for one row of `cells`.
    fn csv(cells: &[&str], raw: bool) -> String {
        let mut out = CsvOut::new(Vec::new(), raw);
        out.row(cells).unwrap();
        String::from_utf8(out.finish().unwrap()).unwrap()
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralized_and_numbers_kept() {
        for (cell, want) in [
            (
                "=HYPERLINK(\"http://evil\")",
                "\"'=HYPERLINK(\"\"http://evil\"\")\"",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-2+3", "'-2+3"),
            ("-5", "-5"),
            ("-1.5e3", "-1.5e3"),
            ("-inf", "'-inf"),
            ("+NaN", "'+NaN"),
            ("-infinity", "'-infinity"),
            ("+33", "+33"),
            ("Acme, Inc.", "\"Acme, Inc.\""),
            ("plain", "plain"),
        ] {
            assert_eq!(csv(&[cell, "x"], false), format!("{want},x\n"), "{cell}");
        }
        assert_eq!(csv(&["=1+1", "x"], true), "=1+1,x\n");
    }

    #[test]
    fn a_cell_with_a_comma_a_quote_a_line_break_and_a_formula_reads_back_neutralized() {
        let cell = "=SUM(A1,\"b\")\r\nnext";
        let mut out = CsvOut::new(Vec::new(), false);
        out.row(["name", "n"]).unwrap();
        out.row([cell, "-5"]).unwrap();
        let bytes = out.finish().unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            "name,n\n\"'=SUM(A1,\"\"b\"\")\r\nnext\",-5\n"
        );
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(r.headers().unwrap(), vec!["name", "n"]);
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0], vec![format!("'{cell}").as_str(), "-5"]);
    }

    #[test]
    fn a_csv_file_is_written_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        write_csv_file(&path, false, |w| w.row(["a", "b"])).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\n");
        let failed = write_csv_file(&path, false, |w| {
            w.row(["a", "b"])?;
            w.row(["only one"])
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\n");
        assert!(!partial_path(&path).exists());
        // Two targets that differ by their extension never share a partial file.
        assert_ne!(
            partial_path(&dir.path().join("x.csv")),
            partial_path(&dir.path().join("x.tsv"))
        );
        assert_eq!(
            partial_path(&path).file_name().unwrap(),
            std::ffi::OsStr::new("out.csv.partial")
        );
    }

    fn item(t: &str) -> ValueItem {
        ValueItem {
            value_type: t.into(),
            ..Default::default()
        }
    }

    #[test]
    fn cells_read_as_in_affinity() {
        let date = ValueItem {
            at: Some("2024-04-01T07:00:00.000Z".into()),
            ..item("datetime")
        };
        assert_eq!(cell_text(&[date]).as_deref(), Some("2024-04-01"));
        let n = ValueItem {
            number: Some(5000.0),
            ..item("number")
        };
        assert_eq!(cell_text(&[n]).as_deref(), Some("5000"));
        let a = ValueItem {
            text: Some("Seed".into()),
            ref_id: Some(7),
            ..item("dropdown-multi")
        };
        let b = ValueItem {
            text: Some("Series A".into()),
            ref_id: Some(8),
            ..item("dropdown-multi")
        };
        assert_eq!(cell_text(&[a, b]).as_deref(), Some("Seed; Series A"));
        assert_eq!(cell_text(&[]), None);
    }

    #[test]
    fn formats_come_from_the_extension() {
        assert_eq!(
            Format::from_path(Path::new("a/b.CSV")).unwrap(),
            Format::Csv
        );
        assert_eq!(
            Format::from_path(Path::new("x.parquet")).unwrap(),
            Format::Parquet
        );
        assert_eq!(
            Format::from_path(Path::new("x.jsonl")).unwrap(),
            Format::JsonLines
        );
        let e = Format::from_path(Path::new("x.xlsx")).unwrap_err();
        assert!(e.hint().is_some_and(|h| h.contains("`.csv`")), "{e}");
    }

    #[test]
    fn clashing_field_names_get_their_id() {
        let f = |id: &str, name: &str| FieldRow {
            id: id.into(),
            name: name.into(),
            field_type: "global".into(),
            value_type: "text".into(),
            list_id: None,
            entity_kind: None,
            allows_multiple: false,
            enrichment_source: None,
            track_changes: None,
            options: vec![],
        };
        let names = column_names(
            &["entry_id", "domain"],
            &[
                f("field-1", "Stage"),
                f("field-2", "Stage"),
                f("field-3", "domain"),
                f("field-4", "Owner"),
            ],
        );
        assert_eq!(
            names,
            vec![
                "Stage (field-1)",
                "Stage (field-2)",
                "domain (field-3)",
                "Owner"
            ]
        );
    }
}
