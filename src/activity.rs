//! The activity view over the journal: the runs with their counts, the steps of one run, or
//! one record's timeline across runs; as a table for people, JSON, CSV or Parquet.
//!
//! A job's run holds no record events of its own beyond its failures: its steps (a pull, ...)
//! are runs of their own carrying the job's name, started while the job ran. Looking at a job's
//! run looks at those too.

use affsync_core::model::RunId;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use crate::store::journal::{run_from_row, RunRow, RUN_COLUMNS};
use crate::store::{col, Ctx, Store, StoreError};

/// The steps in the order a person reads them; others come after, by name.
pub const STEP_ORDER: &[&str] = &[
    "new",
    "changed",
    "removed",
    "merged",
    "gone",
    "pulled",
    "matched",
    "review",
    "unmatched",
    "created",
    "field_updated",
    "added_to_list",
    "unchanged",
    "skipped",
    "failed",
    "error",
];

#[derive(Debug, thiserror::Error)]
pub enum ActivityError {
    #[error("no run {0} in the journal\nhint: `affsync activity` lists the runs")]
    NoRun(i64),
    #[error("cannot write the table as Parquet: {0}")]
    Parquet(#[from] polars::prelude::PolarsError),
    #[error(transparent)]
    Store(#[from] StoreError),
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

/// The step counts of some runs: `run → step → n`.
async fn step_counts(
    store: &Store,
    runs: &[i64],
) -> Result<BTreeMap<i64, BTreeMap<String, i64>>, StoreError> {
    let mut out: BTreeMap<i64, BTreeMap<String, i64>> = BTreeMap::new();
    for chunk in runs.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT run_id, step, COUNT(*) AS n FROM events WHERE run_id IN ({}) GROUP BY run_id, step",
            crate::store::in_list(store.backend(), 1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q.bind(*r);
        }
        for row in q.fetch_all(store.pool()).await.ctx("counting events")? {
            let run: i64 = col(&row, "run_id")?;
            let step: String = col(&row, "step")?;
            let n: i64 = col(&row, "n")?;
            out.entry(run).or_default().insert(step, n);
        }
    }
    Ok(out)
}

/// `new 4, changed 1, pulled 2`, in [`STEP_ORDER`].
pub fn counts_text(counts: &BTreeMap<String, i64>) -> String {
    ordered_steps(counts.keys().map(String::as_str))
        .into_iter()
        .map(|s| format!("{s} {}", counts[s]))
        .collect::<Vec<_>>()
        .join(", ")
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
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(run.0)
        .fetch_optional(store.pool())
        .await
        .ctx("reading a run")?;
    match row {
        Some(r) => Ok(run_from_row(&r)?),
        None => Err(ActivityError::NoRun(run.0)),
    }
}

/// A run and, for a job's run, the runs of its steps (same job name, started while it ran).
pub async fn family(store: &Store, r: &RunRow) -> Result<Vec<RunRow>, StoreError> {
    let mut out = vec![r.clone()];
    if r.kind != "job" {
        return Ok(out);
    }
    let Some(job) = &r.job else { return Ok(out) };
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE job = $1 AND kind <> 'job' AND id > $2 AND started_at >= $3 AND started_at <= $4 ORDER BY id"
    );
    let until = r.ended_at.clone().unwrap_or_else(|| "9999".into());
    let rows = sqlx::query(&sql)
        .bind(job)
        .bind(r.id.0)
        .bind(&r.started_at)
        .bind(until)
        .fetch_all(store.pool())
        .await
        .ctx("reading a job's step runs")?;
    for row in &rows {
        out.push(run_from_row(row)?);
    }
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
    let sql = match status {
        Some(_) => {
            format!("SELECT {RUN_COLUMNS} FROM runs WHERE status = $2 ORDER BY id DESC LIMIT $1")
        }
        None => format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT $1"),
    };
    let mut q = sqlx::query(&sql).bind(limit);
    if let Some(s) = status {
        q = q.bind(s);
    }
    let runs: Vec<RunRow> = q
        .fetch_all(store.pool())
        .await
        .ctx("reading runs")?
        .iter()
        .map(run_from_row)
        .collect::<Result<_, _>>()?;
    let mut families = Vec::new();
    for r in &runs {
        families.push(family(store, r).await?);
    }
    let ids: Vec<i64> = families.iter().flatten().map(|r| r.id.0).collect();
    let counts = step_counts(store, &ids).await?;
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
    let mut rows = Vec::new();
    for m in family(store, &r).await? {
        for e in store.events(m.id).await? {
            if step.is_some_and(|s| s != e.event.step) {
                continue;
            }
            rows.push(vec![
                Cell::Int(Some(m.id.0)),
                text(&e.at),
                text(&e.event.record),
                text(&e.event.step),
                text(describe(&e.event.step, e.event.detail.as_ref())),
                Cell::Json(e.event.detail.clone()),
            ]);
        }
    }
    Ok(Table {
        columns: vec!["run", "at", "record", "step", "summary", "detail"],
        rows,
    })
}

/// Whether an event is about `id`: its record exactly (`entry:601`), the part after the colon
/// (`601`), or the Affinity id it names (`detail.affinity_id`).
pub fn is_about(id: &str, record: &str, detail: Option<&Json>) -> bool {
    record == id
        || record.split_once(':').is_some_and(|(_, rest)| rest == id)
        || detail
            .and_then(|d| d.get("affinity_id"))
            .is_some_and(|a| match a {
                Json::String(s) => s == id,
                Json::Number(n) => n.to_string() == id,
                _ => false,
            })
}

/// One record's timeline across runs; `step` keeps one step.
pub async fn record_table(
    store: &Store,
    id: &str,
    step: Option<&str>,
) -> Result<Table, ActivityError> {
    // A wide net in SQL (the id may sit after any prefix, or in a detail), exact in Rust.
    let rows = sqlx::query(
        "SELECT e.run_id, e.at, e.record, e.step, e.detail, r.kind, r.job FROM events e JOIN runs r ON r.id = e.run_id \
         WHERE e.record = $1 OR e.record LIKE $2 OR e.detail LIKE $3 ORDER BY e.id",
    )
    .bind(id)
    .bind(format!("%:{id}"))
    .bind(format!("%affinity_id%{id}%"))
    .fetch_all(store.pool())
    .await
    .ctx("reading a record's events")?;
    let mut out = Vec::new();
    for row in &rows {
        let record: String = col(row, "record")?;
        let st: String = col(row, "step")?;
        let detail: Option<String> = col(row, "detail")?;
        let detail: Option<Json> = detail.and_then(|d| serde_json::from_str(&d).ok());
        if !is_about(id, &record, detail.as_ref()) || step.is_some_and(|s| s != st) {
            continue;
        }
        out.push(vec![
            Cell::Int(Some(col(row, "run_id")?)),
            text(col::<String>(row, "kind")?),
            Cell::Text(col(row, "job")?),
            text(col::<String>(row, "at")?),
            text(&record),
            text(&st),
            text(describe(&st, detail.as_ref())),
            Cell::Json(detail),
        ]);
    }
    Ok(Table {
        columns: vec![
            "run", "kind", "job", "at", "record", "step", "summary", "detail",
        ],
        rows: out,
    })
}

/// A detail value as a person reads it.
fn val(d: Option<&Json>, key: &str) -> Option<String> {
    match d?.get(key)? {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.2}"),
            _ => n.to_string(),
        }),
        other => Some(other.to_string()),
    }
}

/// One step, in words: `matched by fuzzy (score 0.93) to 201`, `Website: a.io → b.io`.
pub fn describe(step: &str, d: Option<&Json>) -> String {
    let v = |k: &str| val(d, k);
    let or = |k: &str, dflt: &str| v(k).unwrap_or_else(|| dflt.to_string());
    match step {
        "new" | "changed" | "removed" | "merged" | "gone" if d.is_none() => step.to_string(),
        "new" => match (v("name"), v("list"), v("entity")) {
            (Some(n), _, _) => format!("new: {n}"),
            (_, Some(l), Some(e)) => format!("new on list {l}: {e}"),
            (_, Some(l), None) => format!("new on list {l}"),
            _ => "new".into(),
        },
        "changed" => match d.and_then(|d| d.get("changed")) {
            Some(Json::Array(a)) => format!(
                "changed: {}",
                a.iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(Json::String(w)) => format!("changed: {w}"),
            _ => match v("name") {
                Some(n) => format!("changed: {n}"),
                None => "changed".into(),
            },
        },
        "removed" => match v("list") {
            Some(l) => format!("removed from list {l}"),
            None => "removed".into(),
        },
        "merged" => format!("merged into {}", or("into", "?")),
        "pulled" => match (v("entries_seen"), v("new"), v("changed"), v("removed")) {
            (Some(e), Some(n), Some(c), Some(r)) => {
                format!("pulled {e} entries: {n} new, {c} changed, {r} removed")
            }
            _ => "pulled".into(),
        },
        "matched" => {
            let mut s = format!("matched by {}", or("method", "?"));
            if let Some(sc) = v("score") {
                s.push_str(&format!(" (score {sc})"));
            }
            if let Some(a) = v("affinity_id") {
                s.push_str(&format!(" to {a}"));
            }
            s
        }
        "review" => {
            let n = d.and_then(|d| d.get("candidates")).map(|c| {
                c.as_array()
                    .map_or_else(|| c.to_string(), |a| a.len().to_string())
            });
            format!(
                "sent to review (score {}, {} candidates)",
                or("score", "?"),
                n.unwrap_or_else(|| "?".into())
            )
        }
        "unmatched" => format!("no match: {}", or("reason", "no reason given")),
        "error" => match (v("reason"), v("message")) {
            (Some(r), Some(m)) => format!("error: {r}: {}", first_line(&m)),
            (Some(r), None) => format!("error: {r}"),
            (None, Some(m)) => format!("error: {}", first_line(&m)),
            _ => "error".into(),
        },
        "created" => format!(
            "created {} {}",
            or("kind", "record"),
            or("affinity_id", "?")
        ),
        "field_updated" => format!(
            "{}: {} → {}",
            or("field", "?"),
            or("old", "(empty)"),
            or("new", "(empty)")
        ),
        "added_to_list" => format!(
            "added to {} (entry {})",
            or("list", "?"),
            or("entry_id", "?")
        ),
        "unchanged" => "unchanged".into(),
        "skipped" => format!("skipped: {}", or("reason", "no reason given")),
        "failed" => {
            let mut s = match v("field") {
                Some(f) => format!("failed on {f}"),
                None => "failed".into(),
            };
            if let Some(r) = v("reason") {
                s.push_str(&format!(": {r}"));
            }
            if let Some(m) = v("message") {
                s.push_str(&format!(" ({})", first_line(&m)));
            }
            s
        }
        _ => match d {
            Some(Json::Object(o)) if !o.is_empty() => format!(
                "{step}: {}",
                o.iter()
                    .map(|(k, v)| match v {
                        Json::String(s) => format!("{k}={s}"),
                        v => format!("{k}={v}"),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(Json::Null) | None => step.to_string(),
            Some(other) => format!("{step}: {other}"),
        },
    }
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
    crate::cli::api::table(&header, &rows)
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

/// CSV (RFC 4180: fields with a comma, quote or line break are quoted).
pub fn render_csv(t: &Table) -> String {
    let field = |s: String| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    let mut out = t.columns.join(",") + "\n";
    for r in &t.rows {
        out.push_str(
            &r.iter()
                .map(|c| field(c.text()))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
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
pub fn render(t: &Table, format: Format) -> Result<Vec<u8>, ActivityError> {
    Ok(match format {
        Format::Table => render_table(t).into_bytes(),
        Format::Json => render_json(t).into_bytes(),
        Format::Csv => render_csv(t).into_bytes(),
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
    fn every_step_reads_as_a_phrase() {
        let cases: Vec<(&str, Json, &str)> = vec![
            (
                "matched",
                json!({"method": "fuzzy", "score": 0.931, "affinity_id": 201}),
                "matched by fuzzy (score 0.93) to 201",
            ),
            ("matched", json!({"method": "key"}), "matched by key"),
            (
                "review",
                json!({"score": 0.71, "candidates": [1, 2, 3]}),
                "sent to review (score 0.71, 3 candidates)",
            ),
            (
                "unmatched",
                json!({"reason": "no candidate"}),
                "no match: no candidate",
            ),
            (
                "error",
                json!({"reason": "bad_row", "message": "line 3\nmore"}),
                "error: bad_row: line 3",
            ),
            (
                "created",
                json!({"affinity_id": 901, "kind": "organization"}),
                "created organization 901",
            ),
            (
                "field_updated",
                json!({"field": "Website", "old": null, "new": "a.io"}),
                "Website: (empty) → a.io",
            ),
            (
                "added_to_list",
                json!({"list": "Deal Flow", "entry_id": 77}),
                "added to Deal Flow (entry 77)",
            ),
            ("unchanged", Json::Null, "unchanged"),
            (
                "skipped",
                json!({"reason": "no_match"}),
                "skipped: no_match",
            ),
            (
                "failed",
                json!({"field": "Headcount", "reason": "type", "message": "not a number"}),
                "failed on Headcount: type (not a number)",
            ),
            (
                "merged",
                json!({"into": "organization:7"}),
                "merged into organization:7",
            ),
            ("removed", json!({"list": 301}), "removed from list 301"),
            (
                "changed",
                json!({"changed": ["fields", "entity"]}),
                "changed: fields, entity",
            ),
            (
                "pulled",
                json!({"entries_seen": 4, "new": 1, "changed": 0, "removed": 2}),
                "pulled 4 entries: 1 new, 0 changed, 2 removed",
            ),
            (
                "teleported",
                json!({"to": "mars", "n": 2}),
                "teleported: n=2, to=mars",
            ),
            ("teleported", Json::Null, "teleported"),
        ];
        for (step, d, want) in cases {
            let d = (!d.is_null()).then_some(d);
            assert_eq!(describe(step, d.as_ref()), want, "{step}");
        }
    }

    #[test]
    fn a_record_is_found_by_its_id_its_number_or_its_affinity_id() {
        let d = json!({"affinity_id": 201});
        for (id, record, detail, want) in [
            ("entry:601", "entry:601", None, true),
            ("601", "entry:601", None, true),
            ("60", "entry:601", None, false),
            ("201", "src:ACME-1", Some(&d), true),
            ("ACME-1", "src:ACME-1", None, true),
            ("202", "src:ACME-1", Some(&d), false),
        ] {
            assert_eq!(is_about(id, record, detail), want, "{id} / {record}");
        }
    }

    #[test]
    fn csv_quotes_what_needs_it_and_counts_read_in_step_order() {
        let t = Table {
            columns: vec!["a", "b"],
            rows: vec![vec![text("x,y"), Cell::Json(Some(json!({"k": "v"})))]],
        };
        assert_eq!(render_csv(&t), "a,b\n\"x,y\",\"{\"\"k\"\":\"\"v\"\"}\"\n");
        let c: BTreeMap<String, i64> = [("pulled", 1), ("zeta", 2), ("new", 3), ("changed", 4)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(counts_text(&c), "new 3, changed 4, pulled 1, zeta 2");
    }
}
