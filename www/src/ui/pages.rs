//! Scores by page — or by device, locale, stage, touchpoint or a declared
//! visitor attribute — as a sortable table (`/aggregates`): score and its
//! interval, n, response, dismiss and frustration rates, small samples
//! greyed; filtered by period, stage, touchpoint, device and locale (the
//! API refuses a device or locale with rows by segment, and says why);
//! downloaded as CSV or XLSX with the same filters (`/export.*`).

use super::form::choice;
use super::journey::{PERIODS, PeriodPicker, days_in_address, range};
use super::{Load, load_with, title, today};
use crate::api::{self, ApiError};
use crate::format;
use crate::route::encode;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cmp::Ordering;
use touchpoint_wire::{AggregateRow, Aggregates, SiteDocument};

/// The devices the widget tells apart, as the device filter offers them.
const DEVICES: &[(&str, &str)] = &[
    ("", "All devices"),
    ("desktop", "Desktop"),
    ("mobile", "Mobile"),
    ("tablet", "Tablet"),
];

/// What the table shows.
#[derive(Clone, Debug, PartialEq)]
struct Wanted {
    days: u32,
    by: String,
    stage: String,
    touchpoint: String,
    device: String,
    locale: String,
}

impl Wanted {
    /// The query of `/aggregates` and of the exports: what is on screen.
    fn query(&self) -> String {
        let mut q = format!(
            "group_by={}&{}",
            encode(&self.by),
            range(self.days, today())
        );
        for (name, value) in [
            ("stage", &self.stage),
            ("touchpoint", &self.touchpoint),
            ("device", &self.device),
            ("locale", &self.locale),
        ] {
            if !value.is_empty() {
                q.push_str(&format!("&{name}={}", encode(value)));
            }
        }
        q
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Loaded {
    wanted: Wanted,
    rows: Vec<AggregateRow>,
}

async fn fetch(key: String, wanted: Wanted) -> Result<Loaded, ApiError> {
    let agg: Aggregates = api::get(&format!(
        "/v1/sites/{}/aggregates?{}",
        encode(&key),
        wanted.query()
    ))
    .await?;
    Ok(Loaded {
        wanted,
        rows: agg.rows,
    })
}

/// The columns a person can sort by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Group,
    Metric,
    Score,
    Answers,
    Response,
    Dismiss,
    Frustration,
}

/// A row's value in the grouping column.
fn group_of(row: &AggregateRow, by: &str) -> String {
    let v = match by {
        "page" => row.page.clone(),
        "stage" => row.stage.clone(),
        "touchpoint" => row.touchpoint.clone(),
        "device" => row.device.clone(),
        "locale" => row.locale.clone(),
        other => row.attributes.get(other).cloned(),
    };
    v.unwrap_or_else(|| "—".to_owned())
}

fn compare(a: &AggregateRow, b: &AggregateRow, by: &str, column: Column) -> Ordering {
    let f = |x: Option<f64>| x.unwrap_or(f64::NEG_INFINITY);
    match column {
        Column::Group => group_of(a, by).cmp(&group_of(b, by)),
        Column::Metric => a.metric.cmp(&b.metric),
        Column::Score => f(format::row_score(a).and_then(|s| format::position(a.metric?, s.0)))
            .total_cmp(&f(
                format::row_score(b).and_then(|s| format::position(b.metric?, s.0))
            )),
        Column::Answers => a.responses.cmp(&b.responses),
        Column::Response => f(a.response_rate).total_cmp(&f(b.response_rate)),
        Column::Dismiss => f(a.dismiss_rate).total_cmp(&f(b.dismiss_rate)),
        Column::Frustration => f(a.frustration_rate).total_cmp(&f(b.frustration_rate)),
    }
}

/// At most this many rows are drawn; the downloads have them all.
const SHOWN: usize = 500;

/// The pages screen.
#[component]
pub fn Pages(
    /// The site's key.
    key: String,
    /// The site's name.
    site_name: String,
) -> impl IntoView {
    title(&["Pages", &site_name]);
    let days = RwSignal::new(days_in_address(30));
    let by = RwSignal::new("page".to_owned());
    let stage = RwSignal::new(String::new());
    let touchpoint = RwSignal::new(String::new());
    let device = RwSignal::new(String::new());
    let locale = RwSignal::new(String::new());
    let find = RwSignal::new(String::new());
    let sort = RwSignal::new((Column::Answers, true));
    let doc = RwSignal::new(None::<SiteDocument>);
    {
        let key = key.clone();
        spawn_local(async move {
            if let Ok(d) =
                api::get::<SiteDocument>(&format!("/v1/sites/{}/site", encode(&key))).await
            {
                doc.set(Some(d));
            }
        });
    }
    let wanted = Memo::new(move |_| Wanted {
        days: days.get(),
        by: by.get(),
        stage: stage.get(),
        touchpoint: touchpoint.get(),
        device: device.get(),
        locale: locale.get(),
    });
    let data = RwSignal::new(Load::<Loaded>::Loading);
    let k = key.clone();
    Effect::new(move |_| {
        let w = wanted.get();
        load_with(data, fetch(k.clone(), w), move |l: &Loaded| {
            l.wanted == wanted.get_untracked()
        });
    });
    let k = key.clone();
    let download = move |ext: &'static str| {
        format!(
            "/v1/sites/{}/export.{ext}?{}",
            encode(&k),
            wanted.get().query()
        )
    };
    let download2 = download.clone();
    let header = move |label: &str, column: Column| {
        let label = label.to_owned();
        view! {
            <th
                scope="col"
                class:num=!matches!(column, Column::Group | Column::Metric)
                aria-sort=move || {
                    let (c, desc) = sort.get();
                    if c == column { if desc { "descending" } else { "ascending" } } else { "none" }
                }
            >
                <button
                    type="button"
                    class="sort"
                    on:click=move |_| {
                        sort.update(|(c, desc)| {
                            if *c == column {
                                *desc = !*desc;
                            } else {
                                *c = column;
                                *desc = !matches!(column, Column::Group | Column::Metric);
                            }
                        })
                    }
                >
                    {label}
                </button>
            </th>
        }
    };
    view! {
        <main id="main" class="page">
            <div class="heading">
                <h1>{site_name.clone()} " — pages"</h1>
                <PeriodPicker days=days periods=&PERIODS />
            </div>
            <div class="filters">
                <div class="field">
                    <label for="by">"Rows by"</label>
                    <select id="by" on:change=move |ev| by.set(event_target_value(&ev))>
                        <option value="page">"Page"</option>
                        <option value="stage">"Stage"</option>
                        <option value="touchpoint">"Touchpoint"</option>
                        <option value="device">"Device"</option>
                        <option value="locale">"Locale"</option>
                        {move || {
                            doc.get()
                                .map(|d| {
                                    d.site
                                        .attributes
                                        .into_iter()
                                        .map(|a| {
                                            let value = format!("attr:{a}");
                                            view! { <option value=value>{format!("Segment: {a}")}</option> }
                                        })
                                        .collect_view()
                                })
                        }}
                    </select>
                </div>
                <div class="field">
                    <label for="stage">"Stage"</label>
                    <select id="stage" on:change=move |ev| stage.set(event_target_value(&ev))>
                        <option value="">"All stages"</option>
                        {move || {
                            doc.get()
                                .map(|d| {
                                    d.stage
                                        .into_iter()
                                        .map(|s| view! { <option value=s.id.clone()>{s.label.clone()}</option> })
                                        .collect_view()
                                })
                        }}
                    </select>
                </div>
                <div class="field">
                    <label for="tp">"Touchpoint"</label>
                    <select id="tp" on:change=move |ev| touchpoint.set(event_target_value(&ev))>
                        <option value="">"All touchpoints"</option>
                        {move || {
                            doc.get()
                                .map(|d| {
                                    d.touchpoint
                                        .into_iter()
                                        .map(|t| view! { <option value=t.id.clone()>{t.id.clone()}</option> })
                                        .collect_view()
                                })
                        }}
                    </select>
                </div>
                {choice("device", "Device", DEVICES, device)}
                <div class="field">
                    <label for="locale">"Locale"</label>
                    <input id="locale" type="text" size="8" placeholder="all, or de-DE" on:change=move |ev| locale.set(event_target_value(&ev).trim().to_owned()) />
                </div>
                <div class="field grow">
                    <label for="find">"Find in the first column"</label>
                    <input id="find" type="search" on:input=move |ev| find.set(event_target_value(&ev)) />
                </div>
                <p class="downloads">
                    <a href=move || download("csv") download="">"Download CSV"</a>
                    <a href=move || download2("xlsx") download="">"Download XLSX"</a>
                </p>
            </div>
            // Read in place: the rows are not copied on every change of a filter.
            {move || data.with(|d| match d {
                Load::Loading => view! { <p class="status" role="status">"Loading…"</p> }.into_any(),
                Load::Failed(message) => view! { <p class="error" role="alert">{message.clone()}</p> }.into_any(),
                Load::Ready(l) => {
                    let stale = l.wanted != wanted.get();
                    let by = l.wanted.by.clone();
                    let needle = find.get().to_lowercase();
                    let (column, desc) = sort.get();
                    let mut rows: Vec<&AggregateRow> = l
                        .rows
                        .iter()
                        .filter(|r| needle.is_empty() || group_of(r, &by).to_lowercase().contains(&needle))
                        .collect();
                    rows.sort_by(|a, b| {
                        let o = compare(a, b, &by, column);
                        if desc { o.reverse() } else { o }
                    });
                    let total = rows.len();
                    rows.truncate(SHOWN);
                    let group_label = match by.as_str() {
                        "page" => "Page".to_owned(),
                        "stage" => "Stage".to_owned(),
                        "touchpoint" => "Touchpoint".to_owned(),
                        "device" => "Device".to_owned(),
                        "locale" => "Locale".to_owned(),
                        other => other.trim_start_matches("attr:").to_owned(),
                    };
                    view! {
                        <div class:stale=stale>
                            {(total == 0).then(|| view! { <p class="empty">"No answers match."</p> })}
                            {(total > SHOWN)
                                .then(|| {
                                    view! {
                                        <p class="notice">
                                            {format!("Showing {SHOWN} of {} rows; the downloads have them all.", format::count(total as u64))}
                                        </p>
                                    }
                                })}
                            <div class="table-wrap">
                                <table class="rows">
                                    <caption class="sr-only">"Scores by the chosen rows"</caption>
                                    <thead>
                                        <tr>
                                            {header(&group_label, Column::Group)}
                                            {header("Metric", Column::Metric)}
                                            {header("Score", Column::Score)}
                                            <th scope="col">"95 % interval"</th>
                                            {header("n", Column::Answers)}
                                            {header("Answered", Column::Response)}
                                            {header("Dismissed", Column::Dismiss)}
                                            {header("Frustrated", Column::Frustration)}
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {rows
                                            .into_iter()
                                            .map(|r| {
                                                let m = r.metric;
                                                let score = format::row_score(&r);
                                                view! {
                                                    <tr class:small=r.small_sample>
                                                        <th scope="row">{group_of(&r, &by)}</th>
                                                        <td>{m.map(format::metric_name).unwrap_or("—")}</td>
                                                        <td class="num">
                                                            {match (m, score) {
                                                                (Some(m), Some((s, _, _))) => format::score(m, s),
                                                                _ => "—".to_owned(),
                                                            }}
                                                        </td>
                                                        <td>
                                                            {match (m, score) {
                                                                (Some(m), Some((_, Some(lo), Some(hi)))) => format::interval(m, lo, hi),
                                                                _ => "—".to_owned(),
                                                            }}
                                                        </td>
                                                        <td class="num">{format::count(r.responses)}</td>
                                                        <td class="num">{format::share(r.response_rate)}</td>
                                                        <td class="num">{format::share(r.dismiss_rate)}</td>
                                                        <td class="num">{format::share(r.frustration_rate)}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <p class="legend">
                                "Greyed rows have fewer than 30 answers. Scores: NPS −100 to +100, CSAT and thumbs % of answers, effort 1–7, mood 1–5."
                            </p>
                        </div>
                    }
                    .into_any()
                }
            })}
        </main>
    }
}
