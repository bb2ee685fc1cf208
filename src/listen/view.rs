//! Saved views: `affsync pull --view "Deal Flow/Series A pipeline"` (or the view's id), and the
//! job step `{ pull_view = "…" }`. A view's entries come with the fields the view shows
//! (`GET /v2/lists/{id}/saved-views/{viewId}/list-entries`), 100 a call, each page stored
//! before the next is asked for, as a list's pull does; only the values of those fields are
//! written. A view shows part of a list, so an entry it does not show is not flagged gone, and
//! the list does not count as pulled (its `pulled` event is the view's: `view:ID`).

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::Utc;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::pull::{field_row, list_row, page_data};
use crate::store::journal::RunEnd;
use crate::store::{Store, StoreError};
use affinity_crm::v2::{ListEntryWithEntity, SavedView};
use affinity_crm::{v1, Client, Error as ApiError, Request};
use affsync_core::diagnostic::{Diagnose, ErrorClass};
use affsync_core::journal::{JournalEvent, ListPulled, RunKind, Step};
use affsync_core::model::{ListRow, RunId};

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("no list named `{name}`\navailable lists: {}", available.join(", "))]
    UnknownList {
        name: String,
        available: Vec<String>,
    },
    #[error("no saved view named `{view}` on `{list}`\nits views: {}", available.join(", "))]
    UnknownView {
        list: String,
        view: String,
        available: Vec<String>,
    },
    #[error("no saved view has the id {0}")]
    UnknownViewId(i64),
    #[error("pulling a saved view from Affinity failed: {0}")]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Diagnose for ViewError {
    fn class(&self) -> ErrorClass {
        match self {
            ViewError::UnknownList { .. }
            | ViewError::UnknownView { .. }
            | ViewError::UnknownViewId(_) => ErrorClass::BadInput,
            ViewError::Api(_) => ErrorClass::Failure,
            ViewError::Store(s) => s.class(),
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ViewError::UnknownList { .. } | ViewError::UnknownView { .. } => Some(
                "name a view as `LIST/VIEW`, each as Affinity spells it (or its id), or give the view's id alone".into(),
            ),
            ViewError::UnknownViewId(_) => {
                Some("the id is in the view's address in Affinity, or name it `LIST/VIEW`".into())
            }
            _ => None,
        }
    }
}

/// What a view's pull did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ViewPulled {
    pub run: i64,
    pub list_id: i64,
    pub list: String,
    pub view_id: i64,
    pub view: String,
    pub entries_seen: usize,
    pub new: usize,
    pub changed: usize,
    pub field_values: usize,
    pub api_calls: u64,
    pub seconds: f64,
}

fn names(lists: &[ListRow]) -> Vec<String> {
    lists
        .iter()
        .map(|l| format!("{} ({})", l.name, l.id))
        .collect()
}

fn find_list<'a>(lists: &'a [ListRow], w: &str) -> Option<&'a ListRow> {
    let w = w.trim();
    lists
        .iter()
        .find(|l| l.id.to_string() == w)
        .or_else(|| lists.iter().find(|l| l.name.eq_ignore_ascii_case(w)))
}

fn find_view<'a>(views: &'a [SavedView], w: &str) -> Option<&'a SavedView> {
    let w = w.trim();
    views
        .iter()
        .find(|v| v.id.0.to_string() == w)
        .or_else(|| views.iter().find(|v| v.name.eq_ignore_ascii_case(w)))
}

/// The list and view `spec` names: `LIST/VIEW` (either part a name or an id; names may hold
/// `/` themselves: every split is tried, the first whose list exists wins), or a view's id.
async fn resolve(
    client: &Client,
    lists: &[ListRow],
    spec: &str,
) -> Result<(ListRow, SavedView), ViewError> {
    let spec = spec.trim();
    let mut views: BTreeMap<i64, Vec<SavedView>> = BTreeMap::new();
    if let Ok(id) = spec.parse::<i64>() {
        for l in lists {
            let vs: Vec<SavedView> = client.saved_views_v2(l.id.into()).try_collect().await?;
            if let Some(v) = vs.iter().find(|v| v.id.0 == id) {
                return Ok((l.clone(), v.clone()));
            }
        }
        return Err(ViewError::UnknownViewId(id));
    }
    let splits: Vec<usize> = spec.match_indices('/').map(|(i, _)| i).collect();
    let mut first_list: Option<(ListRow, String)> = None;
    for i in splits {
        let (l, v) = (&spec[..i], &spec[i + 1..]);
        let Some(list) = find_list(lists, l) else {
            continue;
        };
        if let std::collections::btree_map::Entry::Vacant(slot) = views.entry(list.id) {
            slot.insert(client.saved_views_v2(list.id.into()).try_collect().await?);
        }
        if let Some(view) = find_view(&views[&list.id], v) {
            return Ok((list.clone(), view.clone()));
        }
        first_list.get_or_insert((list.clone(), v.trim().to_string()));
    }
    match first_list {
        Some((list, view)) => Err(ViewError::UnknownView {
            available: views[&list.id]
                .iter()
                .map(|v| format!("{} ({})", v.name, v.id.0))
                .collect(),
            list: list.name,
            view,
        }),
        None => Err(ViewError::UnknownList {
            name: spec.split('/').next().unwrap_or(spec).trim().to_string(),
            available: names(lists),
        }),
    }
}

/// Pulls a saved view's entries and the fields it shows into the mirror.
pub async fn pull_view(
    client: &Client,
    store: &Store,
    spec: &str,
    job: Option<&str>,
) -> Result<ViewPulled, ViewError> {
    let started = Instant::now();
    let calls_before = client.stats().attempts;
    let run = store.begin_run(RunKind::Pull, job).await?;
    let result = pull_view_run(client, store, spec, run.id(), started, calls_before).await;
    let api_calls = client.stats().attempts - calls_before;
    run.close(
        result,
        |s| RunEnd::ok(serde_json::to_value(s).unwrap_or_default(), api_calls),
        api_calls,
    )
    .await
}

async fn pull_view_run(
    client: &Client,
    store: &Store,
    spec: &str,
    run: RunId,
    started: Instant,
    calls_before: u64,
) -> Result<ViewPulled, ViewError> {
    let lists: Vec<ListRow> = client
        .lists_v2()
        .map_ok(|l| list_row(&l))
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .collect();
    store.sync_lists(run, &lists, Utc::now()).await?;
    let (list, view) = resolve(client, &lists, spec).await?;

    // The list's catalog, as a list's pull keeps it (v1 knows what v2 does not).
    let v1_fields: BTreeMap<i64, v1::Field> = client
        .fields_v1(&[])
        .await?
        .into_iter()
        .map(|f| (f.id.0, f))
        .collect();
    let metas: Vec<affinity_crm::v2::FieldMetadata> =
        client.list_fields_v2(list.id.into()).try_collect().await?;
    let fields: Vec<_> = metas.iter().map(|m| field_row(m, &v1_fields)).collect();
    store.sync_fields(run, list.id, &fields, Utc::now()).await?;

    let mut s = ViewPulled {
        run: run.0,
        list_id: list.id,
        list: list.name.clone(),
        view_id: view.id.0,
        view: view.name.clone(),
        ..Default::default()
    };
    let mut pages = client.v2_pages::<ListEntryWithEntity>(
        Request::get(format!(
            "/v2/lists/{}/saved-views/{}/list-entries",
            list.id, view.id.0
        ))
        .query("limit", 100),
    );
    while let Some(page) = pages.next().await {
        let page = page?;
        let data = page_data(&page.data);
        let out = store.apply_page(run, &data, Utc::now()).await?;
        s.entries_seen += out.seen;
        s.new += out.new;
        s.changed += out.changed;
        s.field_values += out.values_seen;
    }
    s.api_calls = client.stats().attempts - calls_before;
    s.seconds = started.elapsed().as_secs_f64();
    store
        .add_events(
            run,
            &[JournalEvent::new(
                format!("view:{}", view.id.0),
                Step::Pulled(ListPulled {
                    list_id: list.id,
                    list: format!("{}/{}", list.name, view.name),
                    entries_seen: s.entries_seen,
                    new: s.new,
                    changed: s.changed,
                    field_values: s.field_values,
                    api_calls: s.api_calls,
                    seconds: s.seconds,
                    ..Default::default()
                }),
            )],
            Utc::now(),
        )
        .await?;
    Ok(s)
}
