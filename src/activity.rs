//! The activity view over the journal: the runs with their counts, the steps of one run, or
//! one record's timeline across runs; as a table for people, JSON, CSV or Parquet.
//!
//! A job's run holds no record events of its own beyond its failures: its steps (a pull, ...)
//! are runs of their own carrying the job's name, started while the job ran. Looking at a job's
//! run looks at those too.

use affsync_core::diagnostic::{Diagnose, ErrorClass};
use affsync_core::model::RunId;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use crate::store::journal::RunRow;
use crate::store::{Store, StoreError};
use affsync_core::journal::{JournalEvent, INTENT_STEPS};

pub use affsync_core::journal::STEP_ORDER;

#[derive(Debug, thiserror::Error)]
pub enum ActivityError {
    #[error("no run {0} in the journal")]
    NoRun(i64),
    #[error("cannot write the table as Parquet: {0}")]
    Parquet(#[from] polars::prelude::PolarsError),
    #[error("cannot write the table as CSV: {0}")]
    Csv(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Diagnose for ActivityError {
    fn class(&self) -> ErrorClass {
        match self {
            ActivityError::NoRun(_) => ErrorClass::BadInput,
            ActivityError::Parquet(_) | ActivityError::Csv(_) => ErrorClass::Failure,
            ActivityError::Store(s) => s.class(),
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ActivityError::NoRun(_) => Some("`affsync activity` lists the runs".into()),
            _ => None,
        }
    }
}

/// How a table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Parquet,
}

impl Format {
    /// From an output file's extension, when it tells.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            "txt" => Some(Format::Table),
            _ => None,
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    /// Written as JSON in JSON, as its text elsewhere.
    Json(Option<Json>),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Int(v) => v.map(|v| v.to_string()).unwrap_or_default(),
            Cell::Float(v) => v.map(|v| format!("{v:.3}")).unwrap_or_default(),
            Cell::Text(v) => v.clone().unwrap_or_default(),
            Cell::Json(v) => v.as_ref().map(|v| v.to_string()).unwrap_or_default(),
        }
    }
    fn json(&self) -> Json {
        match self {
            Cell::Int(v) => json!(v),
            Cell::Float(v) => json!(v),
            Cell::Text(v) => json!(v),
            Cell::Json(v) => v.clone().unwrap_or(Json::Null),
        }
    }
}

/// A table: named columns, rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(Some(s.into()))
}

/// `new 4, changed 1, pulled 2`, in [`STEP_ORDER`].
pub fn counts_text(counts: &BTreeMap<String, i64>) -> String {
    outcome_steps(counts.keys().map(String::as_str))
        .into_iter()
        .map(|s| format!("{s} {}", counts[s]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`ordered_steps`] without the steps that mark a write begun ([`INTENT_STEPS`]): what
/// happened to records, as a summary or a report counts it.
pub fn outcome_steps<'a>(steps: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v = ordered_steps(steps);
    v.retain(|s| !INTENT_STEPS.contains(s));
    v
}

/// Step names in [`STEP_ORDER`], unknown ones after, by name.
pub fn ordered_steps<'a>(steps: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = steps.collect();
    v.sort_by_key(|s| {
        (
            STEP_ORDER
                .iter()
                .position(|k| k == s)
                .unwrap_or(STEP_ORDER.len()),
            s.to_string(),
        )
    });
    v.dedup();
    v
}

/// A run by id.
pub async fn run(store: &Store, run: RunId) -> Result<RunRow, ActivityError> {
    store.run(run).await?.ok_or(ActivityError::NoRun(run.0))
}

/// A run and, for a job's run, the runs of its steps (same job name, started while it ran).
pub async fn family(store: &Store, r: &RunRow) -> Result<Vec<RunRow>, StoreError> {
    let mut out = vec![r.clone()];
    out.extend(store.job_step_runs(r).await?);
    Ok(out)
}

fn seconds(r: &RunRow) -> Option<f64> {
    let a = chrono::DateTime::parse_from_rfc3339(&r.started_at).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(r.ended_at.as_deref()?).ok()?;
    Some((b - a).num_milliseconds() as f64 / 1000.0)
}

/// The runs, newest first, with their event counts (a job's include its steps'); `status`
/// keeps the runs with that outcome (`ok`, `failed`, `running`, ...).
pub async fn runs_table(
    store: &Store,
    status: Option<&str>,
    limit: i64,
) -> Result<Table, ActivityError> {
    let runs = store.runs_with_status(status, limit).await?;
    let mut families = Vec::new();
    for r in &runs {
        families.push(family(store, r).await?);
    }
    let ids: Vec<i64> = families.iter().flatten().map(|r| r.id.0).collect();
    let counts = store.step_counts(&ids).await?;
    let rows = runs
        .iter()
        .zip(&families)
        .map(|(r, fam)| {
            let mut c: BTreeMap<String, i64> = BTreeMap::new();
            for m in fam {
                for (k, v) in counts.get(&m.id.0).into_iter().flatten() {
                    *c.entry(k.clone()).or_default() += v;
                }
            }
            let counts_json: Map<String, Json> = ordered_steps(c.keys().map(String::as_str))
                .into_iter()
                .map(|k| (k.to_string(), json!(c[k])))
                .collect();
            vec![
                Cell::Int(Some(r.id.0)),
                text(&r.kind),
                Cell::Text(r.job.clone()),
                text(&r.started_at),
                Cell::Text(r.ended_at.clone()),
                Cell::Float(seconds(r)),
                text(&r.status),
                Cell::Text(Some(counts_text(&c))),
                Cell::Json(Some(Json::Object(counts_json))),
                Cell::Int(Some(r.api_calls)),
                Cell::Text(r.error.as_ref().map(|e| first_line(e).to_string())),
            ]
        })
        .collect();
    Ok(Table {
        columns: vec![
            "run",
            "kind",
            "job",
            "started_at",
            "ended_at",
            "seconds",
            "status",
            "summary",
            "counts",
            "api_calls",
            "error",
        ],
        rows,
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// Each record's steps in one run (and its steps' runs, for a job); `step` keeps one step.
pub async fn run_table(
    store: &Store,
    id: RunId,
    step: Option<&str>,
) -> Result<Table, ActivityError> {
    let r = run(store, id).await?;
    let mut events = Vec::new();
    for m in family(store, &r).await? {
        events.extend(store.events(m.id).await?);
    }
    let names = Names::load(store, events.iter().map(|e| &e.event)).await?;
    let mut rows = Vec::new();
    for e in events {
        let (name, detail) = e.event.to_stored();
        if step.is_some_and(|s| s != name) {
            continue;
        }
        rows.push(vec![
            Cell::Int(Some(e.run_id.0)),
            text(&e.at),
            text(&e.event.record),
            Cell::Text(names.label(&e.event)),
            text(name),
            text(e.event.step.describe()),
            Cell::Json(detail),
        ]);
    }
    Ok(Table {
        columns: vec!["run", "at", "record", "name", "step", "summary", "detail"],
        rows,
    })
}

/// The names of the Affinity records events name, for people reading the journal.
struct Names(std::collections::BTreeMap<i64, (affsync_core::model::Kind, String)>);

impl Names {
    async fn load<'a>(
        store: &Store,
        events: impl Iterator<Item = &'a JournalEvent>,
    ) -> Result<Names, StoreError> {
        let ids = events.filter_map(affinity_id).collect();
        Ok(Names(store.names_by_id(&ids).await?))
    }

    /// `Acme 20 Inc (organization 2918538601)` for the record an event names, if any.
    fn label(&self, e: &JournalEvent) -> Option<String> {
        let id = affinity_id(e)?;
        self.0
            .get(&id)
            .map(|(kind, name)| affsync_core::model::labelled(name, *kind, id))
    }
}

/// The Affinity id an event is about: the one its step names, or its record's
/// (`organization:201`, `person:7`).
fn affinity_id(e: &JournalEvent) -> Option<i64> {
    e.step
        .affinity_id()
        .and_then(|a| a.parse().ok())
        .or_else(|| {
            let (kind, id) = e.record.split_once(':')?;
            affsync_core::model::Kind::parse(kind)?;
            id.parse().ok()
        })
}

/// Whether an event is about `id`: its record exactly (`entry:601`), the part after the colon
/// (`601`), or the Affinity id its step names.
pub fn is_about(id: &str, e: &JournalEvent) -> bool {
    e.record == id
        || e.record.split_once(':').is_some_and(|(_, rest)| rest == id)
        || e.step.affinity_id().is_some_and(|a| a == id)
}

/// One record's timeline across runs; `step` keeps one step.
pub async fn record_table(
    store: &Store,
    id: &str,
    step: Option<&str>,
) -> Result<Table, ActivityError> {
    let mut out = Vec::new();
    let found = store.events_mentioning(id).await?;
    let names = Names::load(store, found.iter().map(|(e, _, _)| &e.event)).await?;
    for (e, kind, job) in found {
        let (name, detail) = e.event.to_stored();
        if !is_about(id, &e.event) || step.is_some_and(|s| s != name) {
            continue;
        }
        out.push(vec![
            Cell::Int(Some(e.run_id.0)),
            text(kind),
            Cell::Text(job),
            text(&e.at),
            text(&e.event.record),
            Cell::Text(names.label(&e.event)),
            text(name),
            text(e.event.step.describe()),
            Cell::Json(detail),
        ]);
    }
    Ok(Table {
        columns: vec![
            "run", "kind", "job", "at", "record", "name", "step", "summary", "detail",
        ],
        rows: out,
    })
}

/// The columns a format shows: the table for people leaves the raw JSON columns out.
fn shown(t: &Table, format: Format) -> Vec<usize> {
    (0..t.columns.len())
        .filter(|&i| format != Format::Table || !matches!(t.columns[i], "detail" | "counts"))
        .collect()
}

/// A plain text table.
pub fn render_table(t: &Table) -> String {
    let cols = shown(t, Format::Table);
    let header: Vec<&str> = cols.iter().map(|&i| t.columns[i]).collect();
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| cols.iter().map(|&i| r[i].text()).collect())
        .collect();
    if rows.is_empty() {
        return "(nothing in the journal matches)\n".into();
    }
    crate::io::text_table(&header, &rows)
}

/// A JSON array of objects.
pub fn render_json(t: &Table) -> String {
    let rows: Vec<Json> = t
        .rows
        .iter()
        .map(|r| {
            Json::Object(
                t.columns
                    .iter()
                    .zip(r)
                    .map(|(c, v)| (c.to_string(), v.json()))
                    .collect(),
            )
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"
}

/// CSV (RFC 4180: fields with a comma, quote or line break are quoted); cells that a
/// spreadsheet would run are neutralized unless `raw` (see [`crate::io::export::CsvOut`]).
pub fn render_csv(t: &Table, raw: bool) -> Result<String, ActivityError> {
    let mut out = crate::io::export::CsvOut::new(Vec::new(), raw);
    let csv = |e: std::io::Error| ActivityError::Csv(e.to_string());
    out.row(&t.columns).map_err(csv)?;
    for r in &t.rows {
        out.row(r.iter().map(Cell::text)).map_err(csv)?;
    }
    let bytes = out.finish().map_err(csv)?;
    String::from_utf8(bytes).map_err(|e| ActivityError::Csv(e.to_string()))
}

/// Parquet: integers and floats typed, JSON as its text.
pub fn write_parquet(t: &Table, w: impl std::io::Write) -> Result<(), ActivityError> {
    use polars::prelude::*;
    let n = t.rows.len();
    let columns: Vec<Column> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let name: PlSmallStr = (*name).into();
            match t.rows.first().map(|r| &r[i]) {
                Some(Cell::Int(_)) => Column::new(
                    name,
                    t.rows
                        .iter()
                        .map(|r| match &r[i] {
                            Cell::Int(v) => *v,
                            _ => None,
                        })
                        .collect::<Vec<Option<i64>>>(),
                ),
                Some(Cell::Float(_)) => Column::new(
                    name,
                    t.rows
                        .iter()
                        .map(|r| match &r[i] {
                            Cell::Float(v) => *v,
                            _ => None,
                        })
                        .collect::<Vec<Option<f64>>>(),
                ),
                _ => Column::new(
                    name,
                    t.rows
                        .iter()
                        .map(|r| {
                            let s = r[i].text();
                            (!s.is_empty()).then_some(s)
                        })
                        .collect::<Vec<Option<String>>>(),
                ),
            }
        })
        .collect();
    let mut df = DataFrame::new(n, columns)?;
    ParquetWriter::new(w).finish(&mut df)?;
    Ok(())
}

/// The table in a format, as bytes.
pub fn render(t: &Table, format: Format, raw: bool) -> Result<Vec<u8>, ActivityError> {
    Ok(match format {
        Format::Table => render_table(t).into_bytes(),
        Format::Json => render_json(t).into_bytes(),
        Format::Csv => render_csv(t, raw)?.into_bytes(),
        Format::Parquet => {
            let mut buf = Vec::new();
            write_parquet(t, &mut buf)?;
            buf
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_found_by_its_id_its_number_or_its_affinity_id() {
        use affsync_core::journal::Step;
        let unchanged = |a: Option<&str>| Step::Unchanged {
            affinity_id: a.map(str::to_string),
        };
        for (id, record, affinity_id, want) in [
            ("entry:601", "entry:601", None, true),
            ("601", "entry:601", None, true),
            ("60", "entry:601", None, false),
            ("201", "src:ACME-1", Some("201"), true),
            ("ACME-1", "src:ACME-1", None, true),
            ("202", "src:ACME-1", Some("201"), false),
        ] {
            let e = JournalEvent::new(record, unchanged(affinity_id));
            assert_eq!(is_about(id, &e), want, "{id} / {record}");
        }
    }

    #[test]
    fn csv_quotes_what_needs_it_and_counts_read_in_step_order() {
        let t = Table {
            columns: vec!["a", "b"],
            rows: vec![vec![text("x,y"), Cell::Json(Some(json!({"k": "v"})))]],
        };
        assert_eq!(
            render_csv(&t, false).unwrap(),
            "a,b\n\"x,y\",\"{\"\"k\"\":\"\"v\"\"}\"\n"
        );
        let risky = Table {
            columns: vec!["name", "n"],
            rows: vec![vec![text("=HYPERLINK(\"http://x\")"), text("-5")]],
        };
        assert_eq!(
            render_csv(&risky, false).unwrap(),
            "name,n\n\"'=HYPERLINK(\"\"http://x\"\")\",-5\n",
            "a formula is shown, not run; a number stays a number"
        );
        assert_eq!(
            render_csv(&risky, true).unwrap(),
            "name,n\n\"=HYPERLINK(\"\"http://x\"\")\",-5\n"
        );
        let c: BTreeMap<String, i64> = [
            ("pulled", 1),
            ("zeta", 2),
            ("new", 3),
            ("changed", 4),
            ("create_started", 5),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        // A write begun is no outcome: the summary leaves it out.
        assert_eq!(counts_text(&c), "new 3, changed 4, pulled 1, zeta 2");
    }
}
