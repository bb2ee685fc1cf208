//! The review page's HTML: server-rendered with maud (every value from a record, a file or a
//! request is escaped by the template), nothing from elsewhere (it works offline). Every
//! action is a plain form or link, so the page works without script; the page's own script
//! (`app.js`) adds the keys and swaps the page's content in place of a full load. Pure: data
//! in, text out.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::store::review::{EntityCard, QueueFilter, QueueStatus};
use affsync_core::journal::{Step, StoredEvent};

use super::queue::{CandidateView, FacetValue, ItemView, PageQuery, QueuePage, View};

/// Text as HTML text or attribute value (for the few strings built outside a template).
pub fn esc(s: &str) -> String {
    maud::html! { (s) }.into_string()
}

/// What every page needs besides its data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageCtx {
    /// The server run's CSRF token, put in every form that changes state.
    pub csrf: String,
    /// Who is deciding (from the cookie, else `--reviewer`).
    pub reviewer: Option<String>,
    /// Whether `reviewer` is the server's `--reviewer`, not a name this browser gave.
    pub reviewer_is_default: bool,
    /// A line to show on top (what the last action did).
    pub notice: Option<String>,
    /// The tenant's subdomain (from whoami), for links into Affinity.
    pub subdomain: Option<String>,
}

/// The query string of a filter (and page), for links and for coming back after a POST.
pub fn filter_query(f: &QueueFilter, page: i64) -> String {
    query_string(
        &PageQuery {
            filter: f.clone(),
            page,
            ..PageQuery::default()
        },
        false,
    )
}

/// The query string of a page query; with `focus`, the focused record too.
pub fn query_string(q: &PageQuery, focus: bool) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    let f = &q.filter;
    if let Some(m) = &f.mapping {
        s.append_pair("mapping", m);
    }
    if f.status != QueueStatus::Open {
        s.append_pair("status", f.status.as_str());
    }
    if let Some(x) = f.min_score {
        s.append_pair("min_score", &x.to_string());
    }
    if let Some(x) = f.max_score {
        s.append_pair("max_score", &x.to_string());
    }
    for (k, v) in [
        ("method", &q.method),
        ("band", &q.band),
        ("disagrees", &q.disagrees),
    ] {
        if let Some(v) = v {
            s.append_pair(k, v);
        }
    }
    if q.view != View::One {
        s.append_pair("view", q.view.as_str());
    }
    if q.page > 1 {
        s.append_pair("page", &q.page.to_string());
    }
    if focus {
        if let Some(at) = q.at {
            s.append_pair("at", &at.to_string());
        }
    }
    s.finish()
}

fn link(q: &PageQuery, change: impl FnOnce(&mut PageQuery)) -> String {
    let mut q = q.clone();
    change(&mut q);
    format!("./?{}", query_string(&q, true))
}

/// The record's page in the Affinity web app.
pub fn affinity_url(subdomain: &str, kind: &str, id: &str) -> Option<String> {
    let path = match kind {
        "organization" | "company" => "companies",
        "person" => "persons",
        "opportunity" => "opportunities",
        _ => return None,
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (ok(subdomain) && id.bytes().all(|b| b.is_ascii_digit()) && !id.is_empty())
        .then(|| format!("https://{subdomain}.affinity.co/{path}/{id}"))
}

const STYLE: &str = "*{box-sizing:border-box}body{font:14px/1.35 system-ui,sans-serif;margin:0;color:#222}\
main{padding:.4rem .8rem}h1{font-size:1.1rem;margin:0}h2{font-size:1.05rem;margin:.1rem 0}\
header.top{display:flex;gap:.8rem;align-items:center;flex-wrap:wrap;padding:.3rem 0;border-bottom:1px solid #ddd}\
header.top form{display:inline-flex;gap:.3rem;align-items:center;margin:0}\
.cols{display:flex;gap:1rem;align-items:flex-start}aside.facets{flex:0 0 13rem;font-size:12.5px}\
aside.facets h3{font-size:12.5px;margin:.5rem 0 .1rem;color:#555;text-transform:uppercase}\
aside.facets ul{list-style:none;margin:0;padding:0}aside.facets li a{display:flex;justify-content:space-between;text-decoration:none;color:#225;padding:0 .2rem}\
aside.facets li.on a{background:#dde8ff;font-weight:600}aside.facets form{margin:.3rem 0}\
.queue{flex:1;min-width:0}.muted{color:#666}.notice{background:#fff6d5;padding:.3rem .6rem;margin:.3rem 0}\
section.item{border:1px solid #ccc;border-radius:6px;padding:.35rem .6rem;margin:.35rem 0}\
section.item.focus{border:2px solid #3b6fd8}section.decided{background:#f4f8f4}\
.view-one section.item:not(.focus){display:none}section.item:not(.focus) .detail{display:none}\
.summary{display:flex;gap:.7rem;align-items:baseline;flex-wrap:wrap}.summary .title{font-weight:600}\
.actions{display:flex;gap:.35rem;flex-wrap:wrap;align-items:center;margin:.35rem 0}\
form.inline{display:inline;margin:0}button{cursor:pointer;font:inherit;padding:.15rem .45rem}\
kbd{font:11px ui-monospace,monospace;border:1px solid #aaa;border-radius:3px;padding:0 .25rem;background:#f6f6f6;margin-left:.25rem}\
.same{background:#f3f0ff;padding:.2rem .4rem;border-radius:4px}\
table{border-collapse:collapse;margin:.25rem 0}td,th{border-bottom:1px solid #e3e3e3;padding:.15rem .45rem;text-align:left;vertical-align:top}\
th{font-weight:600;background:#fafafa}td.same{background:#dcf3dc}td.close{background:#fff1c4}td.different{background:#f8d6d6}td.missing{background:#eee}\
.tag{font-size:11px;color:#444;margin-left:.3rem}.w{font:11px ui-monospace,monospace;margin-left:.3rem}\
.reason{color:#444;font-style:italic;font-size:12.5px;margin:.2rem 0}details{margin:.2rem 0}\
nav.pager{display:flex;gap:1rem;margin:.5rem 0}.armed .same{outline:2px solid #6b4fd8}\
#keys table td:first-child{font-family:ui-monospace,monospace}";

fn layout(title: &str, view: View, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main #app class=(format!("view-{}", view.as_str())) data-view=(view.as_str()) {
                    (body)
                }
                script src="app.js" {}
            }
        }
    }
    .into_string()
}

fn hidden(name: &str, value: &str) -> Markup {
    html! { input type="hidden" name=(name) value=(value); }
}

fn kbd(key: &str) -> Markup {
    html! { kbd { (key) } }
}

/// Where a record's forms come back to: the page's query and the record's position.
struct Back<'a> {
    back: &'a str,
    at: usize,
}

/// A one-button form that records a verdict on one record.
#[allow(clippy::too_many_arguments)]
fn decide_button(
    ctx: &PageCtx,
    action: &str,
    item: &ItemView,
    back: &Back,
    verdict: &str,
    affinity_id: Option<&str>,
    key: Option<&str>,
    label: Markup,
) -> Markup {
    let d = &item.item.decision;
    html! {
        form.inline method="post" action=(action) {
            (hidden("csrf", &ctx.csrf))
            (hidden("mapping", &d.mapping))
            (hidden("source_id", &d.source_id))
            (hidden("verdict", verdict))
            @if let Some(a) = affinity_id { (hidden("affinity_id", a)) }
            (hidden("back", back.back))
            (hidden("at", &back.at.to_string()))
            button type="submit" data-verdict=(verdict) data-key=[key] {
                (label) @if let Some(k) = key { (kbd(k)) }
            }
        }
    }
}

fn fmt_score(s: Option<f64>) -> String {
    s.map(|s| format!("{s:.3}")).unwrap_or_else(|| "–".into())
}

fn fmt_weight(w: f64) -> String {
    if w == 0.0 {
        "0".into()
    } else {
        format!("{w:+.1}").replace('-', "−")
    }
}

/// A candidate's name, linked to its record in Affinity when the tenant is known.
fn candidate_name(ctx: &PageCtx, c: &CandidateView) -> Markup {
    let name = c
        .card
        .as_ref()
        .map(|k| k.name.clone())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| c.affinity_id.clone());
    let url = c.card.as_ref().and_then(|k| {
        ctx.subdomain
            .as_deref()
            .and_then(|s| affinity_url(s, &k.kind, &k.id))
    });
    html! {
        @if let Some(u) = url {
            a.affinity href=(u) target="_blank" rel="noopener noreferrer" { (name) }
        } @else {
            strong { (name) }
        }
    }
}

fn card_extra(card: &EntityCard) -> Markup {
    let contact: Vec<&str> = card
        .domains
        .iter()
        .chain(&card.emails)
        .map(String::as_str)
        .collect();
    html! {
        @if !contact.is_empty() { br; span.muted { (contact.join(", ")) } }
        @if !card.lists.is_empty() { br; span.muted { "lists: " (card.lists.join(", ")) } }
    }
}

fn source_title(item: &ItemView) -> String {
    item.key_value()
        .map(|(_, v)| v)
        .unwrap_or_else(|| item.item.decision.source_id.clone())
}

fn verdict_words(item: &ItemView) -> Option<String> {
    let r = item.item.review.as_ref()?;
    Some(match (r.verdict.as_str(), &r.affinity_id) {
        ("accept", Some(id)) => format!("accepted {id}"),
        ("create", _) => "create new".to_string(),
        ("reject", _) => "not a match".to_string(),
        (v, _) => v.to_string(),
    })
}

/// The field-by-field comparison: the source's values beside each candidate's, coloured by
/// agreement, with the matcher's contribution of each field.
fn compare_table(ctx: &PageCtx, item: &ItemView) -> Markup {
    let mut shown: Vec<&CandidateView> = item.candidates.iter().collect();
    shown.extend(item.accepted.iter());
    html! {
        table.compare {
            tr {
                th { "field" }
                th.src { "source " span.muted { (item.item.decision.source_id) } }
                @for (i, c) in shown.iter().enumerate() {
                    th.candidate data-affinity-id=(c.affinity_id) data-rank=(i + 1) {
                        @if i < 9 && item.item.review.is_none() && i < item.candidates.len() { kbd { (i + 1) } " " }
                        (candidate_name(ctx, c))
                        span.muted { " " (c.affinity_id) " · " (fmt_score(c.score)) }
                        @match &c.card {
                            Some(card) => { (card_extra(card)) },
                            None => { br; span.muted { "not in the mirror" } }
                        }
                    }
                }
            }
            @for f in &item.fields {
                tr.field data-column=(f.column) {
                    th { (f.column) span.muted { " ↔ " (f.attr) } }
                    td.value { (f.source) }
                    @for c in &f.cells {
                        td class=(c.agreement.as_str()) data-agreement=(c.agreement.as_str()) {
                            (c.value)
                            span.tag { (c.agreement.as_str()) }
                            @if let Some(k) = &c.contribution {
                                span.w title=(k.level) { (fmt_weight(k.weight)) " bits" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn history_list(events: &[StoredEvent]) -> Markup {
    html! {
        @if !events.is_empty() {
            details.history open {
                summary { "History (" (events.len()) ")" }
                ul {
                    @for e in events {
                        @match &e.event.step {
                            Step::ReviewDecided(d) => li {
                                (e.at) ": " strong { (d.verdict.as_deref().unwrap_or("?")) }
                                @if let Some(a) = &d.affinity_id { " " (a) }
                                " by " (d.decided_by.as_deref().unwrap_or("(no name)"))
                            },
                            Step::ReviewUndone(d) => li {
                                (e.at) ": undone (was " (d.verdict.as_deref().unwrap_or("?"))
                                @if let Some(a) = &d.affinity_id { " " (a) }
                                ") by " (d.decided_by.as_deref().unwrap_or("(no name)"))
                            },
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}

fn item_section(ctx: &PageCtx, page: &QueuePage, item: &ItemView, at: usize, back: &str) -> Markup {
    let d = &item.item.decision;
    let review = item.item.review.as_ref();
    let open = review.is_none();
    let focus = at == page.focus;
    let b = Back { back, at };
    let best = item.candidates.first();
    let search_href = {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("mapping", &d.mapping)
            .append_pair("source_id", &d.source_id)
            .append_pair("back", back);
        format!("search?{}", q.finish())
    };
    let q = &page.query;
    html! {
        section.item.focus[focus].decided[!open] id=(format!("item-{at}")) data-index=(at)
            data-mapping=(d.mapping) data-source-id=(d.source_id) data-status=(d.status) {
            div.summary {
                a.title href=(link(q, |q| { q.at = Some(at); q.focus = None; })) { (source_title(item)) }
                span.muted { (d.source_id) " · " (d.mapping) " · " (d.status) " · score " (fmt_score(d.score))
                    @if let Some(m) = &d.method { " · " (m) } }
                @if let Some(c) = best { span { "best: " (candidate_name(ctx, c)) } }
                @if let (Some(r), Some(w)) = (review, verdict_words(item)) {
                    span.verdict data-verdict=(r.verdict.as_str()) { "Decided: " strong { (w) } " by "
                        (r.decided_by.as_deref().unwrap_or("(no name)")) " at " (r.decided_at) }
                }
            }
            div.detail {
                div.actions {
                    @if open {
                        @for (i, c) in item.candidates.iter().enumerate().take(9) {
                            (decide_button(ctx, "decide", item, &b, "accept", Some(&c.affinity_id),
                                Some(&(i + 1).to_string()),
                                html! { "Accept " (c.card.as_ref().map(|k| k.name.as_str()).unwrap_or(c.affinity_id.as_str())) }))
                        }
                        (decide_button(ctx, "decide", item, &b, "create", None, Some("n"), html! { "Create new" }))
                        (decide_button(ctx, "decide", item, &b, "reject", None, Some("x"), html! { "Not a match" }))
                        a.skip href=(link(q, |q| { q.at = Some(at + 1); q.focus = None; })) data-key="s" { "Skip" (kbd("s")) }
                        a.search href=(search_href) data-key="/" { "Search the mirror…" (kbd("/")) }
                    } @else {
                        (decide_button(ctx, "decide", item, &b, "undo", None, Some("u"), html! { "Undo" }))
                    }
                    @if at > 0 { a.prev href=(link(q, |q| { q.at = Some(at - 1); q.focus = None; })) { "← previous" (kbd("k")) } }
                    @if at + 1 < page.items.len() { a.next href=(link(q, |q| { q.at = Some(at + 1); q.focus = None; })) { "next →" (kbd("j")) } }
                }
                @if open && item.identical > 1 {
                    @if let Some((col, val)) = item.key_value() {
                        div.same data-identical=(item.identical) {
                            "For all " strong { (item.identical) } " open records with " code { (col) } " = “" (val) "”"
                            span.muted { " (" (kbd("a")) " then the key)" } ": "
                            @if let Some(c) = best {
                                (decide_button(ctx, "decide-same", item, &b, "accept", Some(&c.affinity_id), None,
                                    html! { "Accept " (c.card.as_ref().map(|k| k.name.as_str()).unwrap_or(c.affinity_id.as_str())) " for all" }))
                            }
                            (decide_button(ctx, "decide-same", item, &b, "create", None, None, html! { "Create all" }))
                            (decide_button(ctx, "decide-same", item, &b, "reject", None, None, html! { "Not a match, all" }))
                        }
                    }
                }
                @if item.candidates.is_empty() && item.accepted.is_none() {
                    @match super::queue::unoffered(&item.item) {
                        0 => p.muted.none { "no candidates" },
                        1 => p.muted.none { "no candidates offered: the matcher's best candidate scores 0.00 (nothing of this record agrees with it). Search the mirror, or create a new record." },
                        n => p.muted.none { "no candidates offered: the matcher's " (n) " best candidates score 0.00 (nothing of this record agrees with them). Search the mirror, or create a new record." },
                    }
                }
                (compare_table(ctx, item))
                @if !d.reason.is_empty() { p.reason { (d.reason) } }
                @if let Some(o) = d.record.as_ref().and_then(|r| r.as_object()) {
                    details.source {
                        summary { "source record" }
                        table.source {
                            @for k in o.keys() {
                                tr { td { (k) } td.value { (super::queue::source_text(&item.item, k)) } }
                            }
                        }
                    }
                }
                @if focus { (history_list(&page.history)) }
            }
        }
    }
}

fn facet_group(
    title: &str,
    values: &[FacetValue],
    on: Option<&str>,
    href: &dyn Fn(Option<&str>) -> String,
) -> Markup {
    html! {
        h3 { (title) }
        ul.facet data-facet=(title) {
            li.on[on.is_none()] { a href=(href(None)) { span { "any" } } }
            @for v in values {
                li.on[on == Some(v.value.as_str())] data-value=(v.value) {
                    a href=(href(Some(&v.value))) { span { (v.value) } span.count { (v.count) } }
                }
            }
        }
    }
}

fn facets(page: &QueuePage, ctx: &PageCtx, back: &str) -> Markup {
    let q = &page.query;
    let f = &page.facets;
    let reset = |q: &mut PageQuery| {
        q.page = 1;
        q.at = None;
        q.focus = None;
    };
    html! {
        aside.facets {
            (facet_group("mapping", &f.mapping, q.filter.mapping.as_deref(), &|v| link(q, |q| { reset(q); q.filter.mapping = v.map(str::to_string); })))
            h3 { "status" }
            ul.facet data-facet="status" {
                @for v in &f.status {
                    li.on[q.filter.status.as_str() == v.value] data-value=(v.value) {
                        a href=(link(q, |q| { reset(q); q.filter.status = QueueStatus::parse(&v.value).unwrap_or_default(); })) {
                            span { (v.value) } span.count { (v.count) }
                        }
                    }
                }
            }
            (facet_group("score", &f.band, q.band.as_deref(), &|v| link(q, |q| { reset(q); q.band = v.map(str::to_string); })))
            (facet_group("method", &f.method, q.method.as_deref(), &|v| link(q, |q| { reset(q); q.method = v.map(str::to_string); })))
            (facet_group("disagrees most", &f.disagrees, q.disagrees.as_deref(), &|v| link(q, |q| { reset(q); q.disagrees = v.map(str::to_string); })))

            form #bulk-preview method="get" action="./" {
                h3 { "accept every suggestion" }
                @for (k, v) in url::form_urlencoded::parse(back.as_bytes()) { (hidden(&k, &v)) }
                label { "in review scoring at least " input name="preview_min" size="4"
                    value=(page.preview.as_ref().map(|p| p.min_score.to_string()).unwrap_or_else(|| "0.9".into())); }
                " " button type="submit" { "Preview" }
            }
            @if let Some(p) = &page.preview {
                form #bulk method="post" action="accept-above"
                    data-confirm=(format!("Accept the best candidate of at most {} records scoring at least {}?", p.records, p.min_score)) {
                    (hidden("csrf", &ctx.csrf))
                    (hidden("mapping", q.filter.mapping.as_deref().unwrap_or("")))
                    (hidden("min_score", &p.min_score.to_string()))
                    (hidden("back", back))
                    p #preview data-records=(p.records) { strong { (p.records) } " records in review score at least " (p.min_score) "." }
                    label { "Decide at most " input name="max_records" size="4" value=(p.records); " records" }
                    " " button type="submit" disabled[p.records == 0] { "Accept them" }
                }
            }
            details {
                summary { "score range" }
                form method="get" action="./" {
                    @for (k, v) in url::form_urlencoded::parse(back.as_bytes()) {
                        @if k != "min_score" && k != "max_score" && k != "page" { (hidden(&k, &v)) }
                    }
                    label { "from " input name="min_score" size="4" value=(q.filter.min_score.map(|x| x.to_string()).unwrap_or_default()); }
                    label { " to " input name="max_score" size="4" value=(q.filter.max_score.map(|x| x.to_string()).unwrap_or_default()); }
                    " " button type="submit" { "Filter" }
                }
            }
        }
    }
}

fn keys_help() -> Markup {
    html! {
        details #keys {
            summary { "Keys " (kbd("?")) }
            table {
                @for (k, what) in [
                    ("j / k", "next / previous record"),
                    ("1 – 9", "accept that candidate"),
                    ("n", "create new"),
                    ("x", "not a match"),
                    ("s", "skip (leave it open)"),
                    ("u", "undo your last decision"),
                    ("a, then 1 / n / x", "the same for every open record with this value"),
                    ("/", "search the mirror"),
                    ("v", "one record / list"),
                    ("?", "these keys"),
                ] {
                    tr { td { (k) } td { (what) } }
                }
            }
        }
    }
}

fn reviewer_form(ctx: &PageCtx, back: &str, at: usize) -> Markup {
    let named = ctx.reviewer.is_some() && !ctx.reviewer_is_default;
    html! {
        form #reviewer method="post" action="reviewer" {
            (hidden("csrf", &ctx.csrf))
            (hidden("back", back))
            (hidden("at", &at.to_string()))
            @if named {
                span { "Signed " strong #reviewer-name { (ctx.reviewer.as_deref().unwrap_or("")) } }
                details { summary { "change" }
                    input name="name" value=(ctx.reviewer.as_deref().unwrap_or("")) placeholder="your name";
                    button type="submit" { "Save name" } }
            } @else {
                label { "Your name (signs every decision) "
                    input name="name" value=(ctx.reviewer.as_deref().unwrap_or("")) placeholder="your name" autofocus required; }
                button type="submit" { "Save name" }
                @if ctx.reviewer_is_default { span.muted { " (until then: the server's default)" } }
            }
        }
    }
}

/// The queue page.
pub fn render_queue(page: &QueuePage, ctx: &PageCtx) -> String {
    let q = &page.query;
    let back = query_string(
        &PageQuery {
            page: page.page,
            at: None,
            focus: None,
            preview_min: None,
            ..q.clone()
        },
        false,
    );
    let p = &page.progress;
    let all = p.reviewed + p.remaining;
    let first = (page.page - 1) * page.per_page;
    let other_view = match q.view {
        View::One => View::List,
        View::List => View::One,
    };
    let body = html! {
        header.top {
            h1 { "Review" }
            span #progress data-reviewed=(p.reviewed) data-remaining=(p.remaining) {
                (p.reviewed) " reviewed, " (p.remaining) " remaining"
            }
            progress max=(all.max(1)) value=(p.reviewed) {}
            (reviewer_form(ctx, &back, page.focus))
            form #undo-last method="post" action="undo-last" {
                (hidden("csrf", &ctx.csrf))
                (hidden("back", &back))
                button type="submit" data-key="u" { "Undo last" (kbd("u")) }
            }
            a #view-switch href=(link(q, |q| { q.view = other_view; q.at = Some(page.focus); q.focus = None; })) data-key="v" {
                @match other_view { View::List => { "List view" }, View::One => { "One at a time" } } (kbd("v"))
            }
            (keys_help())
        }
        @if let Some(n) = &ctx.notice { p.notice #notice { (n) } }
        div.cols {
            div.queue {
                p.muted #count data-total=(page.total) {
                    (page.total) " records; page " (page.page) " of " (page.pages())
                    @if !page.items.is_empty() {
                        " (" (first + 1) "–" (first + page.items.len() as i64) ")"
                        @if q.view == View::One { " · record " (first + page.focus as i64 + 1) }
                    }
                }
                @if page.items.is_empty() { p #empty { "Nothing to review here." } }
                @for (i, item) in page.items.iter().enumerate() {
                    (item_section(ctx, page, item, i, &back))
                }
                nav.pager {
                    @if page.page > 1 {
                        a rel="prev" href=(link(q, |q| { q.page = page.page - 1; q.at = None; q.focus = None; })) { "← previous page" }
                    }
                    @if page.page < page.pages() {
                        a rel="next" href=(link(q, |q| { q.page = page.page + 1; q.at = None; q.focus = None; })) { "next page →" }
                    }
                }
            }
            (facets(page, ctx, &back))
        }
    };
    layout("affsync review", q.view, body)
}

/// The search page: the mirror's records for a query, each with a button that accepts it for
/// the source record.
pub fn render_search(
    ctx: &PageCtx,
    item: &ItemView,
    query: &str,
    results: &[EntityCard],
    back: &str,
) -> String {
    let d = &item.item.decision;
    let b = Back { back, at: 0 };
    let body = html! {
        p { a href=(format!("./?{back}")) data-key="Escape" { "← back to the queue" } }
        h1 { "Search the mirror for " (d.source_id) }
        table.source {
            @if let Some(o) = d.record.as_ref().and_then(|r| r.as_object()) {
                @for k in o.keys() {
                    tr { td { (k) } td.value { (super::queue::source_text(&item.item, k)) } }
                }
            }
        }
        form.bar #search method="get" action="search" {
            (hidden("mapping", &d.mapping))
            (hidden("source_id", &d.source_id))
            (hidden("back", back))
            input name="q" value=(query) placeholder="name, domain, email or id" autofocus;
            button type="submit" { "Search" }
        }
        @if !query.trim().is_empty() {
            @if results.is_empty() {
                p { "No record in the mirror matches." }
            } @else {
                table.candidates {
                    tr { th { "id" } th { "Affinity record" } th {} }
                    @for (i, c) in results.iter().enumerate() {
                        @let cv = CandidateView { affinity_id: c.id.clone(), score: None, card: Some(c.clone()) };
                        tr.candidate data-affinity-id=(c.id) {
                            td { (c.id) }
                            td { (candidate_name(ctx, &cv)) (card_extra(c)) }
                            td { (decide_button(ctx, "decide", item, &b, "accept", Some(&c.id),
                                (i < 9).then(|| (i + 1).to_string()).as_deref(), html! { "Pick" })) }
                        }
                    }
                }
            }
        }
    };
    layout("affsync review: search", View::One, body)
}

/// A page that says what went wrong.
pub fn render_message(title: &str, message: &str) -> String {
    let body = html! {
        h1 { (title) }
        p #message { (message) }
        p { a href="./" { "back to the queue" } }
    };
    layout(title, View::One, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::compare::Agreement;
    use crate::review::queue::{Cell, FieldRow, MappingInfo};
    use crate::store::decisions::DecisionRow;
    use crate::store::review::{Progress, QueueItem};

    #[test]
    fn escapes_what_html_gives_meaning_to() {
        for (input, want) in [
            ("plain", "plain"),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            ("a & b", "a &amp; b"),
            ("é ü", "é ü"),
        ] {
            assert_eq!(esc(input), want, "{input}");
        }
    }

    #[test]
    fn filter_query_keeps_only_what_is_set() {
        for (f, page, want) in [
            (QueueFilter::default(), 1, ""),
            (
                QueueFilter {
                    mapping: Some("maps/a b.toml".into()),
                    status: QueueStatus::Review,
                    min_score: Some(0.5),
                    max_score: None,
                },
                3,
                "mapping=maps%2Fa+b.toml&status=review&min_score=0.5&page=3",
            ),
        ] {
            assert_eq!(filter_query(&f, page), want);
        }
    }

    #[test]
    fn affinity_links_by_kind_and_only_for_plain_ids() {
        for (sub, kind, id, want) in [
            (
                "acme",
                "organization",
                "201",
                Some("https://acme.affinity.co/companies/201"),
            ),
            (
                "acme",
                "person",
                "7",
                Some("https://acme.affinity.co/persons/7"),
            ),
            (
                "acme",
                "opportunity",
                "9",
                Some("https://acme.affinity.co/opportunities/9"),
            ),
            ("acme", "list", "9", None),
            ("evil.example/x", "person", "7", None),
            ("acme", "person", "7/../x", None),
        ] {
            assert_eq!(
                affinity_url(sub, kind, id).as_deref(),
                want,
                "{sub} {kind} {id}"
            );
        }
    }

    fn page_with(name: &str, candidate: &str) -> QueuePage {
        let item = QueueItem {
            decision: DecisionRow {
                mapping: "m.toml".into(),
                source_id: "S\"1".into(),
                status: "review".into(),
                affinity_id: Some("201".into()),
                score: Some(0.85),
                method: Some("fuzzy".into()),
                reason: format!("name close to {name}"),
                candidates: Some(serde_json::json!([{"affinity_id": "201", "score": 0.85}])),
                record: Some(serde_json::json!({ "company_name": name })),
                run_id: Some(affsync_core::model::RunId(4)),
                decided_at: "2026-11-21T10:00:00.000Z".into(),
            },
            review: None,
        };
        let card = EntityCard {
            id: "201".into(),
            kind: "organization".into(),
            name: candidate.into(),
            ..EntityCard::default()
        };
        QueuePage {
            query: PageQuery::default(),
            filter: QueueFilter::default(),
            page: 1,
            per_page: 50,
            total: 1,
            items: vec![ItemView {
                item,
                candidates: vec![CandidateView {
                    affinity_id: "201".into(),
                    score: Some(0.85),
                    card: Some(card.clone()),
                }],
                accepted: None,
                info: MappingInfo {
                    kind: None,
                    compares: vec![("company_name".into(), "name".into())],
                },
                fields: vec![FieldRow {
                    column: "company_name".into(),
                    attr: "name".into(),
                    source: name.into(),
                    cells: vec![Cell {
                        value: candidate.into(),
                        agreement: Agreement::Different,
                        contribution: None,
                    }],
                }],
                identical: 2,
            }],
            focus: 0,
            progress: Progress {
                reviewed: 0,
                remaining: 1,
            },
            mappings: vec!["m.toml".into()],
            facets: Default::default(),
            preview: Some(super::super::queue::Preview {
                min_score: 0.9,
                records: 1,
            }),
            history: Vec::new(),
        }
    }

    #[test]
    fn record_content_is_shown_as_text() {
        let html = render_queue(
            &page_with("<script>alert(1)</script>", "<img src=x onerror=alert(2)>"),
            &PageCtx {
                csrf: "abc".into(),
                reviewer: Some("<b>eve</b>".into()),
                subdomain: Some("acme".into()),
                ..PageCtx::default()
            },
        );
        assert!(!html.contains("<script>alert(1)"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("<b>eve"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
        assert!(html.contains("data-source-id=\"S&quot;1\""));
        assert!(html.contains("href=\"https://acme.affinity.co/companies/201\""));
        // Every state-changing form carries the token: accept, create, reject, three for
        // identical records, undo last, the reviewer's name, the bulk accept.
        let posts = html.matches("method=\"post\"").count();
        assert!(posts >= 9, "{posts}: {html}");
        assert_eq!(html.matches("name=\"csrf\" value=\"abc\"").count(), posts);
        // The only script is the page's own file.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains("<script src=\"app.js\"></script>"));
    }
}
