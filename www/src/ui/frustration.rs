//! Frustration (`/frustration`): per touchpoint or page, how often the
//! page views that showed a prompt also recorded rage clicks, dead clicks
//! or errors, and whether answers given after such a signal score lower
//! than the others.

use super::journey::{PERIODS, PeriodPicker, days_in_address, range};
use super::{Load, load_with, title, today};
use crate::api::{self, ApiError};
use crate::format;
use crate::route::encode;
use leptos::prelude::*;
use touchpoint_wire::{Frustration as Report, FrustrationRow, ScoreGroup};

#[derive(Clone, Debug, PartialEq)]
struct Wanted {
    days: u32,
    /// `touchpoint` or `page`.
    by: String,
}

#[derive(Clone, Debug, PartialEq)]
struct Loaded {
    wanted: Wanted,
    report: Report,
}

async fn fetch(key: String, wanted: Wanted) -> Result<Loaded, ApiError> {
    let r = range(wanted.days, today());
    let report: Report = api::get(&format!(
        "/v1/sites/{}/frustration?group_by={}&{r}",
        encode(&key),
        wanted.by
    ))
    .await?;
    Ok(Loaded { wanted, report })
}

/// A signal's name for people.
fn signal_name(name: &str) -> String {
    match name {
        "rage_click" => "Rage clicks".to_owned(),
        "dead_click" => "Dead clicks".to_owned(),
        "error" => "Errors".to_owned(),
        other => other.replace('_', " "),
    }
}

/// A share with its interval: `12 % (8–17)`.
fn share_with(rate: Option<f64>, low: Option<f64>, high: Option<f64>) -> String {
    match (rate, low, high) {
        (Some(r), Some(l), Some(h)) => format!(
            "{} ({}–{})",
            format::share(Some(r)),
            (l * 100.0).round(),
            format::share(Some(h))
        ),
        (r, _, _) => format::share(r),
    }
}

/// A group's score and n: `6.1 (5.2–7.0), 40 answers`.
fn group_score(row: &FrustrationRow, g: &ScoreGroup) -> String {
    let m = row.metric;
    let n = format!("{} answers", format::count(g.responses));
    match (g.score, g.low, g.high) {
        (Some(s), Some(l), Some(h)) => format!(
            "{} ({}), {n}",
            format::score(m, s),
            format::interval(m, l, h)
        ),
        (Some(s), _, _) => format!("{}, {n}", format::score(m, s)),
        _ => n,
    }
}

/// The frustration screen.
#[component]
pub fn Frustration(
    /// The site's key.
    key: String,
    /// The site's name.
    site_name: String,
) -> impl IntoView {
    title(&["Frustration", &site_name]);
    let days = RwSignal::new(days_in_address(30));
    let by = RwSignal::new("touchpoint".to_owned());
    let wanted = Memo::new(move |_| Wanted {
        days: days.get(),
        by: by.get(),
    });
    let data = RwSignal::new(Load::<Loaded>::Loading);
    let key_for_links = key.clone();
    Effect::new(move |_| {
        let w = wanted.get();
        load_with(data, fetch(key.clone(), w), move |l: &Loaded| {
            l.wanted == wanted.get_untracked()
        });
    });
    view! {
        <main id="main" class="page">
            <div class="heading">
                <h1>{site_name.clone()} " — frustration"</h1>
                <PeriodPicker days=days periods=&PERIODS />
            </div>
            <p class="muted">
                "Prompts whose page view also recorded rage clicks, dead clicks or errors, and how the answers given after such a signal score against the others."
            </p>
            <div class="filters">
                <div class="field">
                    <label for="frustration-by">"Rows by"</label>
                    <select id="frustration-by" on:change=move |ev| by.set(event_target_value(&ev))>
                        <option value="touchpoint" selected=move || by.get() == "touchpoint">"Touchpoint"</option>
                        <option value="page" selected=move || by.get() == "page">"Page"</option>
                    </select>
                </div>
            </div>
            {move || match data.get() {
                Load::Loading => view! { <p class="status" role="status">"Loading…"</p> }.into_any(),
                Load::Failed(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Load::Ready(l) => {
                    let stale = l.wanted != wanted.get();
                    let csv = format!(
                        "/v1/sites/{}/frustration.csv?group_by={}&{}",
                        encode(&key_for_links),
                        l.wanted.by,
                        range(l.wanted.days, today())
                    );
                    view! {
                        <div class:stale=stale>
                            <p class="downloads">
                                <a href=csv download="">"Download CSV"</a>
                            </p>
                            <FrustrationTable report=l.report />
                        </div>
                    }
                    .into_any()
                }
            }}
        </main>
    }
}

/// One row per touchpoint (or page) × metric, most frustrated first.
#[component]
fn FrustrationTable(
    /// What `/frustration` returned.
    report: Report,
) -> impl IntoView {
    if report.rows.is_empty() {
        return view! { <p class="empty">"No prompt was shown in this period."</p> }.into_any();
    }
    let by_page = report.group_by == "page";
    view! {
        // Wider than a phone: the region scrolls, so it takes the focus
        // (a keyboard scrolls it) and has a name.
        <div class="table-wrap" tabindex="0" role="region" aria-label="Frustration table">
            <table class="rows frustration">
                <caption class="sr-only">"Signals recorded in the page views that showed a prompt, and the scores given after them"</caption>
                <thead>
                    <tr>
                        <th scope="col">{if by_page { "Page" } else { "Touchpoint" }}</th>
                        <th scope="col" class="num">"Prompts shown"</th>
                        <th scope="col">"With a signal (95 % interval)"</th>
                        <th scope="col">"Which signals"</th>
                        <th scope="col">"Score after a signal"</th>
                        <th scope="col">"Score without"</th>
                        <th scope="col">"Difference"</th>
                    </tr>
                </thead>
                <tbody>
                    {report
                        .rows
                        .into_iter()
                        .map(|row| {
                            let name = if by_page { row.page.clone() } else { row.touchpoint.clone() };
                            // The signals the views recorded, each with its share.
                            let recorded: Vec<String> = row
                                .signals
                                .iter()
                                .filter(|(_, r)| r.views > 0)
                                .map(|(name, r)| format!("{} {}", signal_name(name), format::share(r.rate)))
                                .collect();
                            let recorded = if recorded.is_empty() { "none".to_owned() } else { recorded.join(" · ") };
                            let difference = row.difference.as_ref().map_or_else(
                                || "—".to_owned(),
                                |c| {
                                    let p = c.p_value.map_or_else(String::new, |p| format!(", {}", format::p_value(p)));
                                    let verdict = if c.significant { " — significant" } else { "" };
                                    format!("{}{p}{verdict}", format::difference(row.metric, c.delta))
                                },
                            );
                            let significant = row.difference.as_ref().is_some_and(|c| c.significant);
                            view! {
                                <tr class:small=row.impressions < 30 class:bleeding=significant>
                                    <th scope="row">
                                        {name.unwrap_or_default()}
                                        <span class="muted">{format!(" {}", format::metric_name(row.metric))}</span>
                                    </th>
                                    <td class="num">{format::count(row.impressions)}</td>
                                    <td>{share_with(row.frustration_rate, row.frustration_low, row.frustration_high)}</td>
                                    <td>{recorded}</td>
                                    <td>{group_score(&row, &row.after_signal)}</td>
                                    <td>{group_score(&row, &row.without_signal)}</td>
                                    <td>{difference}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
