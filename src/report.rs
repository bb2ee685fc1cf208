//! `affsync report RUN`: one self-contained HTML page about a run (inline CSS and SVG, no
//! script, nothing fetched): its counts, a bar chart of outcomes, a histogram of match scores,
//! and the failures grouped by reason with their records. Every value from the journal is
//! HTML-escaped.

use affsync_core::model::RunId;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::activity::{self, ActivityError};
use crate::store::journal::RunRow;
use crate::store::Store;
use affsync_core::journal::Step;

/// Records listed per failure reason; the rest are counted.
const RECORDS_PER_REASON: usize = 50;

/// What the page shows, gathered from the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportData {
    pub run: RunRow,
    /// The runs of the job's steps, when the run is a job's.
    pub step_runs: Vec<RunRow>,
    /// Events per step, in reading order.
    pub counts: Vec<(String, i64)>,
    /// The scores of `matched` and `review` events.
    pub scores: Vec<f64>,
    /// `failed` and `error` events by reason: (record, what went wrong).
    pub failures: BTreeMap<String, Vec<(String, String)>>,
}

/// Reads what the report of `run` shows.
pub async fn gather(store: &Store, id: RunId) -> Result<ReportData, ActivityError> {
    let run = activity::run(store, id).await?;
    let family = activity::family(store, &run).await?;
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    let mut scores = Vec::new();
    let mut failures: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for r in &family {
        for e in store.events(r.id).await? {
            let ev = e.event;
            *counts.entry(ev.step.name()).or_default() += 1;
            match &ev.step {
                Step::Matched(d) | Step::Review(d) => scores.extend(d.score),
                Step::Failed { reason, .. } | Step::Error { reason, .. } => {
                    let reason = reason.clone().unwrap_or_else(|| "no reason given".into());
                    failures
                        .entry(reason)
                        .or_default()
                        .push((ev.record.clone(), ev.step.describe()));
                }
                _ => {}
            }
        }
    }
    let counts = activity::ordered_steps(counts.keys().map(String::as_str))
        .into_iter()
        .map(|k| (k.to_string(), counts[k]))
        .collect();
    Ok(ReportData {
        run,
        step_runs: family.into_iter().skip(1).collect(),
        counts,
        scores,
        failures,
    })
}

/// `<`, `>`, `&`, `"` and `'` as entities.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d2330;background:#fff}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:1px solid #dde2ea;padding-bottom:.25rem}
h3{font-size:1rem;margin:1rem 0 .25rem}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:1rem 0}.meta dt{color:#5b6475}.meta dd{margin:0}
table{border-collapse:collapse;min-width:20rem}th,td{text-align:left;padding:.25rem .75rem;border-bottom:1px solid #eef1f5}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.status-ok{color:#1b7f3b;font-weight:600}.status-failed{color:#b42318;font-weight:600}.status-running,.status-partial{color:#9a6700;font-weight:600}
.error{background:#fef3f2;border:1px solid #fecdca;padding:.5rem .75rem;border-radius:4px;white-space:pre-wrap}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}.muted{color:#5b6475}
ul.records{margin:.25rem 0;padding-left:1.25rem}code{font-size:.9em}
";

fn bar_color(step: &str) -> &'static str {
    match step {
        "failed" | "error" | "unmatched" => "#d92d20",
        "review" | "skipped" => "#dc9b04",
        "new" | "created" | "matched" | "added_to_list" => "#12a150",
        "changed" | "field_updated" | "merged" => "#2e6fdb",
        _ => "#8a94a6",
    }
}

fn outcome_chart(counts: &[(String, i64)]) -> String {
    let max = counts.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let (label_w, bar_w, row_h) = (130.0, 420.0, 26.0);
    let h = row_h * counts.len() as f64 + 10.0;
    let mut s = format!(
        r#"<svg id="outcomes" role="img" aria-label="records per step" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg">"#,
        w = label_w + bar_w + 70.0
    );
    for (i, (step, n)) in counts.iter().enumerate() {
        let y = i as f64 * row_h + 5.0;
        let w = (*n as f64 / max as f64 * bar_w).max(1.0);
        let _ = write!(
            s,
            r#"<g data-step="{st}"><text x="{tx}" y="{ty}" text-anchor="end">{st}</text><rect x="{label_w}" y="{y}" width="{w:.1}" height="{bh}" rx="2" fill="{c}"><title>{st}: {n}</title></rect><text x="{nx:.1}" y="{ty}">{n}</text></g>"#,
            st = escape(step),
            tx = label_w - 8.0,
            ty = y + 14.0,
            bh = row_h - 8.0,
            c = bar_color(step),
            nx = label_w + w + 6.0,
        );
    }
    s.push_str("</svg>");
    s
}

fn score_chart(scores: &[f64]) -> String {
    let bins = histogram(scores);
    let max = bins.iter().copied().max().unwrap_or(0).max(1);
    let (bw, gap, ch, top, bottom) = (44.0, 6.0, 160.0, 18.0, 34.0);
    let w = 10.0 * (bw + gap) + 20.0;
    let h = ch + top + bottom;
    let mut s = format!(
        r#"<svg id="scores" role="img" aria-label="histogram of match scores" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg">"#
    );
    for (i, n) in bins.iter().enumerate() {
        let x = 10.0 + i as f64 * (bw + gap);
        let bh = *n as f64 / max as f64 * ch;
        let y = top + ch - bh;
        let lo = i as f64 / 10.0;
        let _ = write!(
            s,
            r##"<g data-bin="{i}" data-count="{n}"><rect x="{x}" y="{y:.1}" width="{bw}" height="{bh:.1}" fill="#2e6fdb"><title>{lo:.1}–{hi:.1}: {n}</title></rect><text x="{cx}" y="{ny:.1}" text-anchor="middle">{n}</text><text x="{cx}" y="{ly}" text-anchor="middle" class="muted">{lo:.1}</text></g>"##,
            hi = lo + 0.1,
            cx = x + bw / 2.0,
            ny = y - 4.0,
            ly = top + ch + 16.0,
        );
    }
    let _ = write!(
        s,
        r##"<line x1="8" y1="{b}" x2="{x2}" y2="{b}" stroke="#8a94a6"/><text x="{mid}" y="{t}" text-anchor="middle">score</text></svg>"##,
        b = top + ch,
        x2 = w - 8.0,
        mid = w / 2.0,
        t = h - 2.0
    );
    s
}

fn duration(r: &RunRow) -> String {
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (parse(&r.started_at), r.ended_at.as_deref().and_then(parse)) {
        (Some(a), Some(b)) => format!("{:.1} s", (b - a).num_milliseconds() as f64 / 1000.0),
        _ => "still running (or stopped without closing)".into(),
    }
}

/// The page.
pub fn render(d: &ReportData) -> String {
    let r = &d.run;
    let title = match &r.job {
        Some(j) => format!("Run {} — job {}", r.id, j),
        None => format!("Run {} — {}", r.id, r.kind),
    };
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{t}</title><style>{CSS}</style></head><body>\n<h1>{t}</h1>\n",
        t = escape(&title)
    );
    let _ = writeln!(
        h,
        "<dl class=\"meta\"><dt>kind</dt><dd id=\"kind\">{}</dd><dt>status</dt><dd id=\"status\" class=\"status-{s}\">{s}</dd><dt>started</dt><dd>{}</dd><dt>ended</dt><dd>{}</dd><dt>duration</dt><dd>{}</dd><dt>API calls</dt><dd id=\"api-calls\">{}</dd></dl>",
        escape(&r.kind),
        escape(&r.started_at),
        escape(r.ended_at.as_deref().unwrap_or("—")),
        escape(&duration(r)),
        r.api_calls + d.step_runs.iter().map(|s| s.api_calls).sum::<i64>(),
        s = escape(&r.status),
    );
    if let Some(e) = &r.error {
        let _ = writeln!(
            h,
            "<div class=\"error\" id=\"run-error\">{}</div>",
            escape(e)
        );
    }
    if !d.step_runs.is_empty() {
        h.push_str("<h2>Steps</h2>\n<table id=\"steps\"><tr><th>run</th><th>kind</th><th>status</th><th>started</th><th>duration</th></tr>\n");
        for s in &d.step_runs {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"status-{st}\">{st}</td><td>{}</td><td>{}</td></tr>",
                s.id,
                escape(&s.kind),
                escape(&s.started_at),
                escape(&duration(s)),
                st = escape(&s.status)
            );
        }
        h.push_str("</table>\n");
    }
    let total: i64 = d.counts.iter().map(|c| c.1).sum();
    h.push_str("<h2>Counts</h2>\n");
    if d.counts.is_empty() {
        h.push_str("<p class=\"muted\">This run wrote no events.</p>\n");
    } else {
        h.push_str("<table id=\"counts\"><tr><th>step</th><th class=\"n\">records</th></tr>\n");
        for (step, n) in &d.counts {
            let _ = writeln!(
                h,
                "<tr data-step=\"{s}\"><td>{s}</td><td class=\"n\">{n}</td></tr>",
                s = escape(step)
            );
        }
        let _ = writeln!(
            h,
            "<tr data-step=\"total\"><th>total</th><th class=\"n\">{total}</th></tr></table>"
        );
        h.push_str("<h2>Outcomes</h2>\n");
        h.push_str(&outcome_chart(&d.counts));
        h.push('\n');
    }
    h.push_str("<h2>Match scores</h2>\n");
    if d.scores.is_empty() {
        h.push_str(
            "<p class=\"muted\" id=\"no-scores\">No matched or reviewed records in this run.</p>\n",
        );
    } else {
        let _ = writeln!(
            h,
            "<p class=\"muted\"><span id=\"score-count\">{}</span> scores from <code>matched</code> and <code>review</code> events.</p>",
            d.scores.len()
        );
        h.push_str(&score_chart(&d.scores));
        h.push('\n');
    }
    h.push_str("<h2>Failures</h2>\n");
    if d.failures.is_empty() {
        h.push_str("<p class=\"muted\" id=\"no-failures\">No failures.</p>\n");
    } else {
        for (reason, records) in &d.failures {
            let _ = writeln!(
                h,
                "<section class=\"failure\" data-reason=\"{r}\"><h3>{r} <span class=\"muted\">(<span class=\"failure-count\">{}</span>)</span></h3><ul class=\"records\">",
                records.len(),
                r = escape(reason)
            );
            for (record, what) in records.iter().take(RECORDS_PER_REASON) {
                let _ = writeln!(
                    h,
                    "<li><code>{}</code> {}</li>",
                    escape(record),
                    escape(what)
                );
            }
            if records.len() > RECORDS_PER_REASON {
                let _ = writeln!(
                    h,
                    "<li class=\"muted\">and {} more (see <code>affsync activity {} --status failed</code>)</li>",
                    records.len() - RECORDS_PER_REASON,
                    r.id
                );
            }
            h.push_str("</ul></section>\n");
        }
    }
    h.push_str("</body></html>\n");
    h
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
            counts: vec![("new".into(), 3), ("failed".into(), 2)],
            scores: vec![0.0, 0.05, 0.95, 1.0, 0.5],
            failures: [(
                "type<mismatch>".to_string(),
                vec![("src:A&B".to_string(), "failed on <x>".to_string())],
            )]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn every_value_is_escaped() {
        let page = render(&data());
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("a &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; error"));
        assert!(page.contains("type&lt;mismatch&gt;"));
        assert!(page.contains("src:A&amp;B"));
        assert!(
            !page.contains("<link") && !page.contains("src=\""),
            "nothing fetched"
        );
        assert!(page.contains("3.5 s"));
    }

    #[test]
    fn scores_fall_in_ten_bins() {
        assert_eq!(
            histogram(&[0.0, 0.05, 0.1, 0.95, 1.0, 0.5, f64::NAN, 1.7, -0.2]),
            [3, 1, 0, 0, 0, 1, 0, 0, 0, 3]
        );
    }
}
