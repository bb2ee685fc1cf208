//! The review page's HTML: server-rendered, nothing from elsewhere (it works offline); one
//! small script of the server's own asks before a bulk accept. Pure: data in, text out. Every
//! value that comes from a record, a file or a request goes through [`esc`].

use std::fmt::Write;

use crate::store::review::{EntityCard, QueueFilter, QueueStatus};
use affsync_core::matcher::config::Attr;

use super::queue::{CandidateView, ItemView, QueuePage};

/// Text as HTML text or attribute value.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What every page needs besides its data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageCtx {
    /// The server run's CSRF token, put in every form that changes state.
    pub csrf: String,
    /// Who is deciding (from the cookie or `--reviewer`).
    pub reviewer: Option<String>,
    /// A line to show on top (what the last action did).
    pub notice: Option<String>,
}

/// The query string of a filter (and page), for links and for coming back after a POST.
pub fn filter_query(f: &QueueFilter, page: i64) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(m) = &f.mapping {
        q.append_pair("mapping", m);
    }
    if f.status != QueueStatus::Open {
        q.append_pair("status", f.status.as_str());
    }
    if let Some(s) = f.min_score {
        q.append_pair("min_score", &s.to_string());
    }
    if let Some(s) = f.max_score {
        q.append_pair("max_score", &s.to_string());
    }
    if page > 1 {
        q.append_pair("page", &page.to_string());
    }
    q.finish()
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#222}\
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.05rem;margin:.2rem 0}\
header,form.bar{display:flex;gap:.8rem;align-items:center;flex-wrap:wrap;margin:.4rem 0}\
section.item{border:1px solid #ccc;border-radius:6px;padding:.6rem .8rem;margin:.8rem 0}\
section.decided{background:#f4f8f4}table{border-collapse:collapse;margin:.3rem 0}\
td,th{border-bottom:1px solid #e3e3e3;padding:.2rem .5rem;text-align:left;vertical-align:top}\
th{font-weight:600;background:#fafafa}.muted{color:#666}.notice{background:#fff6d5;padding:.4rem .6rem}\
form.inline{display:inline}button{cursor:pointer}.reason{color:#444;font-style:italic}\
nav.pager{display:flex;gap:1rem;margin:1rem 0}";

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(title)
    )
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        esc(name),
        esc(value)
    )
}

/// A one-button form that records a verdict.
fn decide_form(
    ctx: &PageCtx,
    mapping: &str,
    source_id: &str,
    verdict: &str,
    affinity_id: Option<&str>,
    back: &str,
    label: &str,
) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"decide\">{}{}{}{}{}{}\
         <button type=\"submit\" data-verdict=\"{}\">{}</button></form>",
        hidden("csrf", &ctx.csrf),
        hidden("mapping", mapping),
        hidden("source_id", source_id),
        hidden("verdict", verdict),
        affinity_id
            .map(|a| hidden("affinity_id", a))
            .unwrap_or_default(),
        hidden("back", back),
        esc(verdict),
        esc(label)
    )
}

fn fmt_score(s: Option<f64>) -> String {
    s.map(|s| format!("{s:.3}")).unwrap_or_else(|| "–".into())
}

/// A source record's value of a column, as text.
fn source_value(item: &ItemView, column: &str) -> String {
    match item
        .item
        .decision
        .record
        .as_ref()
        .and_then(|r| r.get(column))
    {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// What a card holds for a compared attribute.
fn card_value(card: &EntityCard, attr: &str) -> String {
    match Attr::parse(attr) {
        Attr::Name | Attr::FirstName | Attr::LastName => card.name.clone(),
        Attr::Domain => card.domains.join(", "),
        Attr::Email => card.emails.join(", "),
        Attr::Field(f) => card
            .fields
            .get(&f)
            .map(|v| v.join(", "))
            .unwrap_or_default(),
    }
}

fn card_summary(card: &EntityCard) -> String {
    let mut s = format!("<strong>{}</strong>", esc(&card.name));
    let contact: Vec<&String> = card.domains.iter().chain(&card.emails).collect();
    if !contact.is_empty() {
        let _ = write!(
            s,
            " <span class=\"muted\">{}</span>",
            esc(&contact
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "))
        );
    }
    if !card.lists.is_empty() {
        let _ = write!(
            s,
            "<br><span class=\"muted\">lists: {}</span>",
            esc(&card.lists.join(", "))
        );
    }
    for (k, v) in &card.fields {
        let _ = write!(
            s,
            "<br><span class=\"muted\">{}: {}</span>",
            esc(k),
            esc(&v.join(", "))
        );
    }
    s
}

fn candidate_row(
    ctx: &PageCtx,
    item: &ItemView,
    c: &CandidateView,
    back: &str,
    accept: bool,
) -> String {
    let d = &item.item.decision;
    let mut s = format!(
        "<tr class=\"candidate\" data-affinity-id=\"{}\"><td>{}</td><td>{}</td><td>",
        esc(&c.affinity_id),
        esc(&c.affinity_id),
        fmt_score(c.score)
    );
    match &c.card {
        Some(card) => s.push_str(&card_summary(card)),
        None => s.push_str("<span class=\"muted\">not in the mirror</span>"),
    }
    s.push_str("</td>");
    for (_, attr) in &item.info.compares {
        let v = c
            .card
            .as_ref()
            .map(|k| card_value(k, attr))
            .unwrap_or_default();
        let _ = write!(s, "<td>{}</td>", esc(&v));
    }
    s.push_str("<td>");
    if accept {
        s.push_str(&decide_form(
            ctx,
            &d.mapping,
            &d.source_id,
            "accept",
            Some(&c.affinity_id),
            back,
            "Accept",
        ));
    }
    s.push_str("</td></tr>");
    s
}

fn item_section(ctx: &PageCtx, item: &ItemView, back: &str) -> String {
    let d = &item.item.decision;
    let review = item.item.review.as_ref();
    let mut s = format!(
        "<section class=\"item{}\" data-mapping=\"{}\" data-source-id=\"{}\" data-status=\"{}\">",
        if review.is_some() { " decided" } else { "" },
        esc(&d.mapping),
        esc(&d.source_id),
        esc(&d.status)
    );
    let _ = write!(
        s,
        "<h2>{} <span class=\"muted\">· {} · {} · score {} · run {}</span></h2>",
        esc(&d.source_id),
        esc(&d.mapping),
        esc(&d.status),
        fmt_score(d.score),
        d.run_id.map(|r| r.to_string()).unwrap_or_default()
    );
    if !d.reason.is_empty() {
        let _ = write!(s, "<p class=\"reason\">{}</p>", esc(&d.reason));
    }

    // The source record.
    let columns: Vec<String> = match d.record.as_ref().and_then(|r| r.as_object()) {
        Some(o) => o.keys().cloned().collect(),
        None => Vec::new(),
    };
    s.push_str("<table class=\"source\"><tr><th colspan=\"2\">source record</th></tr>");
    for c in &columns {
        let _ = write!(
            s,
            "<tr><td>{}</td><td class=\"value\">{}</td></tr>",
            esc(c),
            esc(&source_value(item, c))
        );
    }
    s.push_str("</table>");

    if let Some(r) = review {
        let what = match (r.verdict.as_str(), &r.affinity_id) {
            ("accept", Some(id)) => format!("accepted {id}"),
            ("create", _) => "create new".to_string(),
            ("reject", _) => "not a match".to_string(),
            (v, _) => v.to_string(),
        };
        let _ = write!(
            s,
            "<p class=\"verdict\" data-verdict=\"{}\">Decided: <strong>{}</strong> by {} at {} ",
            esc(r.verdict.as_str()),
            esc(&what),
            esc(r.decided_by.as_deref().unwrap_or("(no name)")),
            esc(&r.decided_at)
        );
        s.push_str(&decide_form(
            ctx,
            &d.mapping,
            &d.source_id,
            "undo",
            None,
            back,
            "Undo",
        ));
        s.push_str("</p>");
    }

    // Candidates, the source's compared values on top.
    let open = review.is_none();
    if !item.candidates.is_empty() || item.accepted.is_some() {
        s.push_str(
            "<table class=\"candidates\"><tr><th>id</th><th>score</th><th>Affinity record</th>",
        );
        for (col, attr) in &item.info.compares {
            let _ = write!(s, "<th>{} ↔ {}</th>", esc(col), esc(attr));
        }
        s.push_str("<th></th></tr>");
        if !item.info.compares.is_empty() {
            s.push_str("<tr class=\"muted\"><td colspan=\"3\">source</td>");
            for (col, _) in &item.info.compares {
                let _ = write!(s, "<td>{}</td>", esc(&source_value(item, col)));
            }
            s.push_str("<td></td></tr>");
        }
        for c in &item.candidates {
            s.push_str(&candidate_row(ctx, item, c, back, open));
        }
        if let Some(a) = &item.accepted {
            s.push_str(&candidate_row(ctx, item, a, back, false));
        }
        s.push_str("</table>");
    } else {
        s.push_str("<p class=\"muted\">no candidates</p>");
    }
    if open {
        s.push_str("<div class=\"actions\">");
        s.push_str(&decide_form(
            ctx,
            &d.mapping,
            &d.source_id,
            "create",
            None,
            back,
            "Create new",
        ));
        s.push(' ');
        s.push_str(&decide_form(
            ctx,
            &d.mapping,
            &d.source_id,
            "reject",
            None,
            back,
            "Not a match",
        ));
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("mapping", &d.mapping)
            .append_pair("source_id", &d.source_id)
            .append_pair("back", back);
        let _ = write!(
            s,
            " <a class=\"search\" href=\"search?{}\">Search the mirror…</a>",
            esc(&q.finish())
        );
        s.push_str("</div>");
    }
    s.push_str("</section>\n");
    s
}

/// The queue page.
pub fn render_queue(page: &QueuePage, ctx: &PageCtx) -> String {
    let f = &page.filter;
    let back = filter_query(f, page.page);
    let p = &page.progress;
    let all = p.reviewed + p.remaining;
    let mut s = head("affsync review");
    let _ = write!(
        s,
        "<header><h1>Review</h1><span id=\"progress\" data-reviewed=\"{}\" data-remaining=\"{}\">\
         {} reviewed, {} remaining</span><progress max=\"{}\" value=\"{}\"></progress></header>",
        p.reviewed,
        p.remaining,
        p.reviewed,
        p.remaining,
        all.max(1),
        p.reviewed
    );
    if let Some(n) = &ctx.notice {
        let _ = write!(s, "<p class=\"notice\">{}</p>", esc(n));
    }

    // Who decides.
    let _ = write!(
        s,
        "<form class=\"bar\" method=\"post\" action=\"reviewer\">{}{}<label>Reviewer \
         <input name=\"name\" value=\"{}\" placeholder=\"your name\"></label>\
         <button type=\"submit\">Save name</button></form>",
        hidden("csrf", &ctx.csrf),
        hidden("back", &back),
        esc(ctx.reviewer.as_deref().unwrap_or(""))
    );

    // The filter.
    s.push_str("<form class=\"bar\" method=\"get\" action=\"./\"><label>Mapping <select name=\"mapping\"><option value=\"\">all</option>");
    for m in &page.mappings {
        let _ = write!(
            s,
            "<option value=\"{}\"{}>{}</option>",
            esc(m),
            if f.mapping.as_deref() == Some(m) {
                " selected"
            } else {
                ""
            },
            esc(m)
        );
    }
    s.push_str("</select></label><label>Status <select name=\"status\">");
    for st in QueueStatus::ALL {
        let _ = write!(
            s,
            "<option value=\"{}\"{}>{}</option>",
            st.as_str(),
            if st == f.status { " selected" } else { "" },
            st.as_str()
        );
    }
    let num = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
    let _ = write!(
        s,
        "</select></label><label>Score from <input name=\"min_score\" size=\"5\" value=\"{}\"></label>\
         <label>to <input name=\"max_score\" size=\"5\" value=\"{}\"></label>\
         <button type=\"submit\">Filter</button></form>",
        esc(&num(f.min_score)),
        esc(&num(f.max_score))
    );

    // Accept every suggestion above a score.
    let _ = write!(
        s,
        "<form class=\"bar\" id=\"bulk\" method=\"post\" action=\"accept-above\" \
         data-confirm=\"Accept the best candidate of every record in review at or above this score?\">{}{}{}\
         <label>Accept every suggestion in review scoring at least \
         <input name=\"min_score\" size=\"5\" value=\"0.9\"></label>\
         <button type=\"submit\">Accept all</button></form>",
        hidden("csrf", &ctx.csrf),
        hidden("mapping", f.mapping.as_deref().unwrap_or("")),
        hidden("back", &back)
    );

    let first = (page.page - 1) * page.per_page;
    let _ = writeln!(
        s,
        "<p class=\"muted\" id=\"count\" data-total=\"{}\">{} records; page {} of {}{}</p>",
        page.total,
        page.total,
        page.page,
        page.pages(),
        if page.items.is_empty() {
            String::new()
        } else {
            format!(" ({}–{})", first + 1, first + page.items.len() as i64)
        }
    );
    if page.items.is_empty() {
        s.push_str("<p>Nothing to review here.</p>");
    }
    for item in &page.items {
        s.push_str(&item_section(ctx, item, &back));
    }
    s.push_str("<nav class=\"pager\">");
    if page.page > 1 {
        let _ = write!(
            s,
            "<a rel=\"prev\" href=\"./?{}\">← previous</a>",
            esc(&filter_query(f, page.page - 1))
        );
    }
    if page.page < page.pages() {
        let _ = write!(
            s,
            "<a rel=\"next\" href=\"./?{}\">next →</a>",
            esc(&filter_query(f, page.page + 1))
        );
    }
    s.push_str("</nav><script src=\"app.js\"></script></body></html>\n");
    s
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
    let mut s = head("affsync review: search");
    let _ = write!(
        s,
        "<p><a href=\"./?{}\">← back to the queue</a></p><h1>Search the mirror for {}</h1>",
        esc(back),
        esc(&d.source_id)
    );
    s.push_str("<table class=\"source\">");
    if let Some(o) = d.record.as_ref().and_then(|r| r.as_object()) {
        for k in o.keys() {
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=\"value\">{}</td></tr>",
                esc(k),
                esc(&source_value(item, k))
            );
        }
    }
    s.push_str("</table>");
    let _ = write!(
        s,
        "<form class=\"bar\" method=\"get\" action=\"search\">{}{}{}\
         <input name=\"q\" value=\"{}\" placeholder=\"name, domain, email or id\" autofocus>\
         <button type=\"submit\">Search</button></form>",
        hidden("mapping", &d.mapping),
        hidden("source_id", &d.source_id),
        hidden("back", back),
        esc(query)
    );
    if !query.trim().is_empty() {
        if results.is_empty() {
            s.push_str("<p>No record in the mirror matches.</p>");
        } else {
            s.push_str(
                "<table class=\"candidates\"><tr><th>id</th><th>Affinity record</th><th></th></tr>",
            );
            for c in results {
                let _ = write!(
                    s,
                    "<tr class=\"candidate\" data-affinity-id=\"{}\"><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&c.id),
                    esc(&c.id),
                    card_summary(c),
                    decide_form(ctx, &d.mapping, &d.source_id, "accept", Some(&c.id), back, "Pick")
                );
            }
            s.push_str("</table>");
        }
    }
    s.push_str("</body></html>\n");
    s
}

/// A page that says what went wrong.
pub fn render_message(title: &str, message: &str) -> String {
    let mut s = head(title);
    let _ = writeln!(
        s,
        "<h1>{}</h1><p>{}</p><p><a href=\"./\">back to the queue</a></p></body></html>",
        esc(title),
        esc(message)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::queue::MappingInfo;
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
            ("\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;"),
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
        QueuePage {
            filter: QueueFilter::default(),
            page: 1,
            per_page: 50,
            total: 1,
            items: vec![ItemView {
                item,
                candidates: vec![CandidateView {
                    affinity_id: "201".into(),
                    score: Some(0.85),
                    card: Some(EntityCard {
                        id: "201".into(),
                        kind: "organization".into(),
                        name: candidate.into(),
                        ..EntityCard::default()
                    }),
                }],
                accepted: None,
                info: MappingInfo {
                    kind: None,
                    compares: vec![("company_name".into(), "name".into())],
                },
            }],
            progress: Progress {
                reviewed: 0,
                remaining: 1,
            },
            mappings: vec!["m.toml".into()],
        }
    }

    #[test]
    fn record_content_is_shown_as_text() {
        let html = render_queue(
            &page_with("<script>alert(1)</script>", "<img src=x onerror=alert(2)>"),
            &PageCtx {
                csrf: "abc".into(),
                reviewer: Some("<b>eve</b>".into()),
                notice: None,
            },
        );
        assert!(!html.contains("<script>alert(1)"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("<b>eve"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
        assert!(html.contains("data-source-id=\"S&quot;1\""));
        // Every state-changing form carries the token.
        let posts = html.matches("method=\"post\"").count();
        assert!(posts >= 4, "{html}");
        assert_eq!(html.matches("name=\"csrf\" value=\"abc\"").count(), posts);
    }
}
