//! `affsync report RUN`: one self-contained HTML page about a run (inline CSS and SVG, no
//! script, nothing fetched), written with maud's templates, which escape every value:
//!
//! - the run, the mapping files it used and its settings;
//! - outcomes in records (each record counted once per outcome, a job's steps together),
//!   apart from fields written and API calls;
//! - a histogram of match scores;
//! - the records created and updated, each with its fields old → new (folded when long);
//! - failures and skipped values grouped by the kind of reason (the bad value itself left out
//!   of the group's name), with their records.
//!
//! Text from the journal written between backticks is shown as code.

use std::collections::{BTreeMap, BTreeSet};

use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde_json::Value as Json;

use crate::activity::{self, ActivityError};
use crate::store::journal::RunRow;
use crate::store::Store;
use affsync_core::journal::{FieldChange, Step};
use affsync_core::model::RunId;

/// Records listed per reason; the rest are counted.
const RECORDS_PER_REASON: usize = 50;
/// Changed records shown open; more than this many fields fold away.
const FIELDS_OPEN: usize = 6;

/// A record the run created or updated, with what it wrote.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Changed {
    /// `src:ACME-1`.
    pub record: String,
    pub name: Option<String>,
    pub affinity_id: Option<String>,
    /// The list it was added to.
    pub added_to: Option<String>,
    pub fields: Vec<FieldChange>,
}

/// What the page shows, gathered from the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportData {
    pub run: RunRow,
    /// The runs of the job's steps, when the run is a job's.
    pub step_runs: Vec<RunRow>,
    /// The mapping files the run's events are about.
    pub mappings: Vec<String>,
    /// The push's settings (mode, list, strict), when the run or a step is a push.
    pub settings: Vec<Json>,
    /// Records per outcome (each record once per outcome), in reading order.
    pub outcomes: Vec<(String, usize)>,
    pub fields_written: usize,
    pub values_skipped: usize,
    pub api_calls: i64,
    /// The scores of the records' match decisions (each record once).
    pub scores: Vec<f64>,
    pub created: Vec<Changed>,
    pub updated: Vec<Changed>,
    /// Failures by kind of reason: (record, what went wrong).
    pub failures: BTreeMap<String, Vec<(String, String)>>,
    /// Values skipped and records not written, by kind of reason.
    pub skipped: BTreeMap<String, Vec<(String, String)>>,
    /// Notes and calls written by `log-activity`, by whom they were written as (a member, or
    /// the default key): (record, what was written).
    pub activity: BTreeMap<String, Vec<(String, String)>>,
}

/// The kind of a reason: its text with the values in backticks left out, so that records
/// failing for the same reason with different values fall in one group.
pub fn reason_class(reason: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in reason.chars() {
        if c == '`' {
            if !inside {
                out.push_str("`…`");
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    let first = out.split("; ").next().unwrap_or(&out).trim();
    first.trim_end_matches('.').to_string()
}

/// Reads what the report of `run` shows.
pub async fn gather(store: &Store, id: RunId) -> Result<ReportData, ActivityError> {
    let run = activity::run(store, id).await?;
    let family = activity::family(store, &run).await?;
    let mut g = Gathered::default();
    for r in &family {
        for e in store.events(r.id).await? {
            g.add(e.event);
        }
        if let Some(s) = r.counts.as_ref().and_then(|c| c.get("settings")) {
            g.settings.push(s.clone());
        }
    }
    let ids: BTreeSet<i64> = g
        .changed
        .values()
        .filter_map(|c| c.affinity_id.as_deref()?.parse().ok())
        .collect();
    let names = store.names_by_id(&ids).await?;
    for c in g.changed.values_mut() {
        if let Some((_, n)) = c
            .affinity_id
            .as_deref()
            .and_then(|a| a.parse::<i64>().ok())
            .and_then(|i| names.get(&i))
        {
            c.name.get_or_insert_with(|| n.clone());
        }
    }
    // The persons the notes and calls are about, by name.
    let people: BTreeSet<i64> = g.activity.values().flatten().filter_map(|a| a.2).collect();
    let people = store
        .entity_names(affsync_core::model::Kind::Person, &people)
        .await?;
    let written = std::mem::take(&mut g.activity)
        .into_iter()
        .map(|(by, writes)| {
            let writes = writes
                .into_iter()
                .map(
                    |(record, what, person)| match person.and_then(|p| people.get(&p)) {
                        Some(name) => (record, format!("{what} ({name})")),
                        None => (record, what),
                    },
                )
                .collect();
            (by, writes)
        })
        .collect();
    let outcomes = activity::outcome_steps(g.outcomes.keys().map(String::as_str))
        .into_iter()
        .map(|k| (k.to_string(), g.outcomes[k].len()))
        .collect();
    let (created, updated) = g
        .changed
        .into_values()
        .partition(|c| g.created.contains(&c.record));
    Ok(ReportData {
        api_calls: family.iter().map(|r| r.api_calls).sum(),
        run,
        step_runs: family.into_iter().skip(1).collect(),
        mappings: g.mappings.into_iter().collect(),
        settings: g.settings,
        outcomes,
        fields_written: g.fields_written,
        values_skipped: g.values_skipped,
        scores: g.scores.into_values().collect(),
        created,
        updated,
        failures: g.failures,
        skipped: g.skipped,
        activity: written,
    })
}

/// The journal of a run and its steps, folded as the page reads it.
#[derive(Default)]
struct Gathered {
    mappings: BTreeSet<String>,
    settings: Vec<Json>,
    /// Step → the records that had it.
    outcomes: BTreeMap<String, BTreeSet<String>>,
    fields_written: usize,
    values_skipped: usize,
    /// The latest score of each record's match decision.
    scores: BTreeMap<String, f64>,
    created: BTreeSet<String>,
    changed: BTreeMap<String, Changed>,
    failures: BTreeMap<String, Vec<(String, String)>>,
    skipped: BTreeMap<String, Vec<(String, String)>>,
    /// As [`ReportData::activity`], with the person each write is about.
    activity: BTreeMap<String, Vec<(String, String, Option<i64>)>>,
}

impl Gathered {
    fn changed(&mut self, record: &str) -> &mut Changed {
        self.changed
            .entry(record.to_string())
            .or_insert_with(|| Changed {
                record: record.to_string(),
                ..Changed::default()
            })
    }

    fn add(&mut self, e: affsync_core::journal::JournalEvent) {
        if let Some(m) = &e.mapping {
            self.mappings.insert(m.clone());
        }
        let step = e.step.name();
        self.outcomes
            .entry(step)
            .or_default()
            .insert(e.record.clone());
        let what = e.step.describe();
        if let Some(w) = e.step.activity_write() {
            let by = match &w.member {
                Some(m) => format!("written as member `{m}`"),
                None => "written with the default key".into(),
            };
            self.activity.entry(by).or_default().push((
                e.record.clone(),
                what.clone(),
                w.person_id,
            ));
        }
        match &e.step {
            Step::Matched(d) | Step::Review(d) => {
                if let Some(s) = d.score {
                    self.scores.insert(e.record.clone(), s);
                }
            }
            Step::Created {
                affinity_id, name, ..
            } => {
                self.created.insert(e.record.clone());
                let c = self.changed(&e.record);
                c.affinity_id = Some(affinity_id.clone());
                c.name = name.clone().or(c.name.take());
            }
            Step::FieldUpdated {
                change,
                affinity_id,
            } => {
                self.fields_written += 1;
                let c = self.changed(&e.record);
                c.affinity_id = c.affinity_id.take().or(affinity_id.clone());
                c.fields.push(change.clone());
            }
            Step::AddedToList {
                list, affinity_id, ..
            } => {
                let c = self.changed(&e.record);
                c.affinity_id = c.affinity_id.take().or(affinity_id.clone());
                c.added_to = Some(list.clone());
            }
            Step::ValueSkipped { field, reason, .. } => {
                self.values_skipped += 1;
                let class = format!(
                    "`{field}`: {}",
                    reason_class(reason.as_deref().unwrap_or("does not convert"))
                );
                self.skipped
                    .entry(class)
                    .or_default()
                    .push((e.record.clone(), what));
            }
            Step::Skipped { reason, why, .. } => {
                let class = reason
                    .clone()
                    .or(why.clone())
                    .unwrap_or_else(|| "no reason given".into());
                self.skipped
                    .entry(reason_class(&class))
                    .or_default()
                    .push((e.record.clone(), what));
            }
            Step::Failed {
                reason, message, ..
            }
            | Step::Error {
                reason, message, ..
            } => {
                let error = match &e.step {
                    Step::Failed { error, .. } => error.clone(),
                    _ => None,
                };
                let text = reason
                    .clone()
                    .or(message.clone())
                    .or(error)
                    .unwrap_or_else(|| "no reason given".into());
                self.failures
                    .entry(reason_class(&text))
                    .or_default()
                    .push((e.record.clone(), what));
            }
            _ => {}
        }
    }
}

/// The histogram of scores: ten bins over [0, 1] (a score of 1 falls in the last).
pub fn histogram(scores: &[f64]) -> [usize; 10] {
    let mut bins = [0usize; 10];
    for s in scores {
        if s.is_finite() {
            let i = ((s.clamp(0.0, 1.0) * 10.0).floor() as usize).min(9);
            bins[i] += 1;
        }
    }
    bins
}

const CSS: &str = "
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:64rem;padding:0 1rem;color:#1d2330;background:#fff}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:1px solid #dde2ea;padding-bottom:.25rem}
h3{font-size:1rem;margin:1rem 0 .25rem}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:1rem 0}.meta dt{color:#5b6475}.meta dd{margin:0}
table{border-collapse:collapse;min-width:20rem}th,td{text-align:left;padding:.25rem .75rem;border-bottom:1px solid #eef1f5;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.status-ok{color:#1b7f3b;font-weight:600}.status-failed{color:#b42318;font-weight:600}.status-running,.status-partial{color:#9a6700;font-weight:600}
.error{background:#fef3f2;border:1px solid #fecdca;padding:.5rem .75rem;border-radius:4px;white-space:pre-wrap}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}.muted{color:#5b6475}
ul.records{margin:.25rem 0;padding-left:1.25rem}code{font-size:.9em;background:#f3f5f8;padding:0 .2em;border-radius:3px}
details{margin:.25rem 0}summary{cursor:pointer}.old{color:#8a4b08}.new{color:#1b7f3b}
";

fn bar_color(step: &str) -> &'static str {
    match step {
        "failed" | "error" | "unmatched" => "#d92d20",
        "review" | "skipped" | "value_skipped" => "#dc9b04",
        "new" | "created" | "matched" | "added_to_list" => "#12a150",
        "changed" | "field_updated" | "merged" => "#2e6fdb",
        _ => "#8a94a6",
    }
}

/// Text with its backticked parts as code (everything escaped).
fn rich(s: &str) -> Markup {
    let parts: Vec<&str> = s.split('`').collect();
    html! {
        @for (i, p) in parts.iter().enumerate() {
            @if i % 2 == 1 && i + 1 < parts.len() { code { (p) } } @else if i % 2 == 1 { "`" (p) } @else { (p) }
        }
    }
}

fn outcome_chart(outcomes: &[(String, usize)]) -> Markup {
    let max = outcomes.iter().map(|c| c.1).max().unwrap_or(0).max(1) as f64;
    let (label_w, bar_w, row_h) = (130.0, 420.0, 26.0);
    let h = row_h * outcomes.len() as f64 + 10.0;
    let w = label_w + bar_w + 70.0;
    html! {
        svg id="outcomes" role="img" aria-label="records per outcome" width=(w) height=(h)
            viewBox=(format!("0 0 {w} {h}")) xmlns="http://www.w3.org/2000/svg" {
            @for (i, (step, n)) in outcomes.iter().enumerate() {
                @let y = i as f64 * row_h + 5.0;
                @let bw = (*n as f64 / max * bar_w).max(1.0);
                g data-step=(step) {
                    text x=(label_w - 8.0) y=(y + 14.0) text-anchor="end" { (step) }
                    rect x=(label_w) y=(y) width=(format!("{bw:.1}")) height=(row_h - 8.0) rx="2" fill=(bar_color(step)) {
                        title { (step) ": " (n) " records" }
                    }
                    text x=(format!("{:.1}", label_w + bw + 6.0)) y=(y + 14.0) { (n) }
                }
            }
        }
    }
}

fn score_chart(scores: &[f64]) -> Markup {
    let bins = histogram(scores);
    let max = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (bw, gap, ch, top, bottom) = (44.0, 6.0, 160.0, 18.0, 34.0);
    let w = 10.0 * (bw + gap) + 20.0;
    let h = ch + top + bottom;
    html! {
        svg id="scores" role="img" aria-label="histogram of match scores" width=(w) height=(h)
            viewBox=(format!("0 0 {w} {h}")) xmlns="http://www.w3.org/2000/svg" {
            @for (i, n) in bins.iter().enumerate() {
                @let x = 10.0 + i as f64 * (bw + gap);
                @let bh = *n as f64 / max * ch;
                @let y = top + ch - bh;
                @let lo = i as f64 / 10.0;
                g data-bin=(i) data-count=(n) {
                    rect x=(x) y=(format!("{y:.1}")) width=(bw) height=(format!("{bh:.1}")) fill="#2e6fdb" {
                        title { (format!("{lo:.1}–{:.1}: {n}", lo + 0.1)) }
                    }
                    text x=(x + bw / 2.0) y=(format!("{:.1}", y - 4.0)) text-anchor="middle" { (n) }
                    text x=(x + bw / 2.0) y=(top + ch + 16.0) text-anchor="middle" class="muted" { (format!("{lo:.1}")) }
                }
            }
            line x1="8" y1=(top + ch) x2=(w - 8.0) y2=(top + ch) stroke="#8a94a6" {}
            text x=(w / 2.0) y=(h - 2.0) text-anchor="middle" { "score" }
        }
    }
}

fn duration(r: &RunRow) -> String {
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (parse(&r.started_at), r.ended_at.as_deref().and_then(parse)) {
        (Some(a), Some(b)) => format!("{:.1} s", (b - a).num_milliseconds() as f64 / 1000.0),
        _ => "still running (or stopped without closing)".into(),
    }
}

fn setting_rows(s: &Json) -> Markup {
    let text = |k: &str| match s.get(k) {
        Some(Json::String(v)) => v.clone(),
        Some(Json::Bool(b)) => if *b { "yes" } else { "no" }.to_string(),
        Some(Json::Null) | None => "—".to_string(),
        Some(v) => v.to_string(),
    };
    html! {
        tr {
            td { code { (text("mapping")) } }
            td { (text("mode")) }
            td { (text("add_to_list")) }
            td { (text("strict")) }
            td { (text("dry_run")) }
        }
    }
}

fn changed_section(id: &str, title: &str, records: &[Changed]) -> Markup {
    html! {
        section id=(id) {
            h2 { (title) " " span.muted { "(" span.count { (records.len()) } " records)" } }
            @if records.is_empty() {
                p.muted { "None." }
            }
            @for c in records {
                @let label = match (&c.name, &c.affinity_id) {
                    (Some(n), Some(a)) => format!("{n} ({a})"),
                    (None, Some(a)) => a.clone(),
                    (Some(n), None) => n.clone(),
                    (None, None) => String::new(),
                };
                details.record data-record=(c.record) open[c.fields.len() <= FIELDS_OPEN] {
                    summary {
                        code { (c.record) } " " (label)
                        " " span.muted { "(" (c.fields.len()) " fields"
                            @if let Some(l) = &c.added_to { ", added to " (l) } ")" }
                    }
                    @if !c.fields.is_empty() {
                        table.fields {
                            tr { th { "field" } th { "old" } th { "new" } }
                            @for f in &c.fields {
                                tr data-field=(f.field) {
                                    td { (f.field) }
                                    td.old { (f.old.as_deref().unwrap_or("(empty)")) }
                                    td.new { (f.new.as_deref().unwrap_or("(empty)")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn grouped(
    id: &str,
    title: &str,
    groups: &BTreeMap<String, Vec<(String, String)>>,
    run: RunId,
) -> Markup {
    html! {
        section id=(id) {
            h2 { (title) }
            @if groups.is_empty() {
                p.muted id=(format!("no-{id}")) { "None." }
            }
            @for (reason, records) in groups {
                section.group data-reason=(reason) {
                    h3 { (rich(reason)) " " span.muted { "(" span.group-count { (records.len()) } " records)" } }
                    ul.records {
                        @for (record, what) in records.iter().take(RECORDS_PER_REASON) {
                            li { code { (record) } " " (rich(what)) }
                        }
                        @if records.len() > RECORDS_PER_REASON {
                            li.muted { "and " (records.len() - RECORDS_PER_REASON) " more (see "
                                code { "affsync activity " (run) } ")" }
                        }
                    }
                }
            }
        }
    }
}

/// The page.
pub fn render(d: &ReportData) -> String {
    let r = &d.run;
    let title = match &r.job {
        Some(j) => format!("Run {} — job {}", r.id, j),
        None => format!("Run {} — {}", r.id, r.kind),
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (title) }
                dl.meta {
                    dt { "kind" } dd #kind { (r.kind) }
                    dt { "status" } dd #status class=(format!("status-{}", r.status)) { (r.status) }
                    dt { "started" } dd { (r.started_at) }
                    dt { "ended" } dd { (r.ended_at.as_deref().unwrap_or("—")) }
                    dt { "duration" } dd { (duration(r)) }
                    dt { "mapping files" } dd #mappings {
                        @if d.mappings.is_empty() { "—" }
                        @for (i, m) in d.mappings.iter().enumerate() { @if i > 0 { ", " } code { (m) } }
                    }
                }
                @if let Some(e) = &r.error {
                    div.error #run-error { (e) }
                }
                @if !d.settings.is_empty() {
                    h2 { "Settings" }
                    table #settings {
                        tr { th { "mapping" } th { "mode" } th { "list" } th { "strict" } th { "dry run" } }
                        @for s in &d.settings { (setting_rows(s)) }
                    }
                }
                @if !d.step_runs.is_empty() {
                    h2 { "Steps" }
                    table #steps {
                        tr { th { "run" } th { "kind" } th { "status" } th { "started" } th { "duration" } }
                        @for s in &d.step_runs {
                            tr {
                                td { (s.id) } td { (s.kind) }
                                td class=(format!("status-{}", s.status)) { (s.status) }
                                td { (s.started_at) } td { (duration(s)) }
                            }
                        }
                    }
                }
                h2 { "Counts" }
                @if d.outcomes.is_empty() {
                    p.muted { "This run wrote no events." }
                } @else {
                    table #counts {
                        tr { th { "outcome" } th.n { "records" } }
                        @for (step, n) in &d.outcomes {
                            tr data-step=(step) { td { (step) } td.n { (n) } }
                        }
                    }
                    table #totals {
                        tr { th { "fields written" } td.n #fields-written { (d.fields_written) } }
                        tr { th { "values skipped" } td.n #values-skipped { (d.values_skipped) } }
                        tr { th { "API calls" } td.n #api-calls { (d.api_calls) } }
                    }
                    h2 { "Outcomes" }
                    (outcome_chart(&d.outcomes))
                }
                h2 { "Match scores" }
                @if d.scores.is_empty() {
                    p.muted #no-scores { "No matched or reviewed records in this run." }
                } @else {
                    p.muted { span #score-count { (d.scores.len()) } " records' scores from "
                        code { "matched" } " and " code { "review" } " decisions." }
                    (score_chart(&d.scores))
                }
                (changed_section("created", "Created", &d.created))
                (changed_section("updated", "Updated", &d.updated))
                (grouped("failures", "Failures", &d.failures, r.id))
                (grouped("skipped", "Skipped", &d.skipped, r.id))
                @if !d.activity.is_empty() {
                    (grouped("activity", "Activity written", &d.activity, r.id))
                }
            }
        }
    };
    page.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> ReportData {
        ReportData {
            run: RunRow {
                id: RunId(7),
                kind: "job".into(),
                job: Some("<script>alert(1)</script>".into()),
                started_at: "2026-11-21T02:00:00.000Z".into(),
                ended_at: Some("2026-11-21T02:00:03.500Z".into()),
                status: "failed".into(),
                counts: None,
                api_calls: 0,
                error: Some("a \"quoted\" & <b>bold</b> error".into()),
            },
            step_runs: vec![],
            mappings: vec!["m.toml".into()],
            settings: vec![],
            outcomes: vec![("new".into(), 3), ("failed".into(), 2)],
            fields_written: 4,
            values_skipped: 0,
            api_calls: 9,
            scores: vec![0.0, 0.05, 0.95, 1.0, 0.5],
            created: vec![Changed {
                record: "src:N<1>".into(),
                name: Some("New & Co".into()),
                affinity_id: Some("9".into()),
                added_to: Some("Deal Flow".into()),
                fields: vec![FieldChange {
                    field: "Website".into(),
                    field_id: None,
                    old: None,
                    new: Some("<i>x</i>".into()),
                }],
            }],
            updated: vec![],
            failures: [(
                "type<mismatch>".to_string(),
                vec![("src:A&B".to_string(), "failed on <x>: `bad`".to_string())],
            )]
            .into_iter()
            .collect(),
            skipped: BTreeMap::new(),
            activity: BTreeMap::new(),
        }
    }

    #[test]
    fn every_value_is_escaped_and_backticks_are_code() {
        let page = render(&data());
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("a &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; error"));
        assert!(page.contains("type&lt;mismatch&gt;"));
        assert!(page.contains("src:A&amp;B"));
        assert!(page.contains("&lt;i&gt;x&lt;/i&gt;"));
        assert!(page.contains("<code>bad</code>"), "{page}");
        assert!(
            !page.contains("<link") && !page.contains("src=\"") && !page.contains("<script"),
            "nothing fetched, no script"
        );
        assert!(page.contains("3.5 s"));
    }

    #[test]
    fn reasons_group_without_their_values() {
        assert_eq!(
            reason_class("`March 5th, 2023` is not a date; write ISO dates (`2024-03-05`)"),
            "`…` is not a date"
        );
        assert_eq!(
            reason_class("`2023-02-30` is not a date; write ISO dates"),
            reason_class("`soon` is not a date; write ISO dates")
        );
        assert_eq!(reason_class("create"), "create");
    }

    #[test]
    fn scores_fall_in_ten_bins() {
        assert_eq!(
            histogram(&[0.0, 0.05, 0.1, 0.95, 1.0, 0.5, f64::NAN, 1.7, -0.2]),
            [3, 1, 0, 0, 0, 1, 0, 0, 0, 3]
        );
    }
}
