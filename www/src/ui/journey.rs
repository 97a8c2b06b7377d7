//! The first screen: what changed, in plain words, above the journey map
//! (stages in journey order, each with a cell per touchpoint: score, n,
//! interval and rates; greyed when the sample is small). Every number is
//! from `/journey`, `/trends` and `/priorities`.

use super::{Link, Load, load_with, title, today};
use crate::api::{self, ApiError};
use crate::format::{self, Day};
use crate::route::{Route, encode};
use crate::words::{self, Said, Tone};
use leptos::prelude::*;
use touchpoint_wire::{Journey as JourneyMap, JourneyCell, Priorities, Trends};

/// The periods a person can pick, in days ending today.
pub const PERIODS: [u32; 3] = [7, 30, 90];

/// The period in the address bar's `?days=`, if it is one of [`PERIODS`].
pub fn days_in_address(default: u32) -> u32 {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|s| {
            s.trim_start_matches('?')
                .split('&')
                .find_map(|kv| kv.strip_prefix("days=").and_then(|v| v.parse().ok()))
        })
        .filter(|d| PERIODS.contains(d))
        .unwrap_or(default)
}

/// Keeps the period in the address bar, so a shared link shows the same.
pub fn keep_days_in_address(days: u32) {
    if let Some(window) = web_sys::window() {
        let path = window.location().pathname().unwrap_or_default();
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(&format!("{path}?days={days}")),
            );
        }
    }
}

/// `from=…&to=…` for the `days` ending today.
pub fn range(days: u32, today: Day) -> String {
    format!("from={}&to={today}", today.plus(-i64::from(days) + 1))
}

/// The period picker.
#[component]
pub fn PeriodPicker(
    /// The chosen number of days.
    days: RwSignal<u32>,
    /// The periods offered.
    periods: &'static [u32],
) -> impl IntoView {
    view! {
        <div class="periods" role="group" aria-label="Period">
            {periods
                .iter()
                .map(|&d| {
                    view! {
                        <button
                            type="button"
                            aria-pressed=move || (days.get() == d).to_string()
                            on:click=move |_| {
                                keep_days_in_address(d);
                                days.set(d);
                            }
                        >
                            {format!("{d} days")}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Loaded {
    journey: JourneyMap,
    said: Vec<Said>,
    days: u32,
}

async fn fetch(key: String, days: u32) -> Result<Loaded, ApiError> {
    let today = today();
    let k = encode(&key);
    let journey: JourneyMap =
        api::get(&format!("/v1/sites/{k}/journey?{}", range(days, today))).await?;
    let names = words::names(&journey);
    // What changed this week or last: weekly trends from the Monday two
    // weeks back, whatever the period shown.
    let monday = today.plus(-today.weekday() - 14);
    let mut said = Vec::new();
    for (id, named) in &names {
        if named.metric.scale().is_none() {
            continue;
        }
        let trend: Trends = api::get(&format!(
            "/v1/sites/{k}/trends?touchpoint={}&interval=week&from={monday}&to={today}",
            encode(id)
        ))
        .await?;
        said.extend(words::change(&named.name, &trend, today));
    }
    said.sort_by_key(|s| match s.tone {
        Tone::Worse => 0,
        Tone::Priority => 1,
        Tone::Better => 2,
        Tone::Quiet => 3,
    });
    let priorities: Priorities =
        api::get(&format!("/v1/sites/{k}/priorities?{}", range(days, today))).await?;
    said.extend(words::priority(&names, &priorities));
    Ok(Loaded {
        journey,
        said,
        days,
    })
}

/// The journey screen of one site.
#[component]
pub fn Journey(
    /// The site's key.
    key: String,
    /// The site's name.
    name: String,
) -> impl IntoView {
    title(&["Journey", &name]);
    let days = RwSignal::new(days_in_address(30));
    let data = RwSignal::new(Load::<Loaded>::Loading);
    let site = key.clone();
    Effect::new(move |_| {
        let d = days.get();
        let key = site.clone();
        load_with(data, fetch(key, d), move |l: &Loaded| {
            l.days == days.get_untracked()
        });
    });
    let key = StoredValue::new(key);
    view! {
        <main id="main" class="page">
            <div class="heading">
                <h1>{name.clone()} " — journey"</h1>
                <PeriodPicker days=days periods=&PERIODS />
            </div>
            {move || match data.get() {
                Load::Loading => view! {
                    <p class="status" role="status">"Loading the journey map…"</p>
                }
                .into_any(),
                Load::Failed(message) => view! {
                    <p class="error" role="alert">{message}</p>
                }
                .into_any(),
                Load::Ready(loaded) => {
                    let stale = loaded.days != days.get();
                    view! {
                        <div class="journey-screen" class:stale=stale aria-busy=stale.to_string()>
                            <Changed said=loaded.said.clone() />
                            <Map journey=loaded.journey.clone() key=key.get_value() days=loaded.days />
                        </div>
                    }
                    .into_any()
                }
            }}
        </main>
    }
}

/// "What changed": one sentence per significant change and the top priority.
#[component]
fn Changed(
    /// The sentences, most urgent first.
    said: Vec<Said>,
) -> impl IntoView {
    view! {
        <section class="changed" aria-labelledby="changed-h">
            <h2 id="changed-h">"What changed"</h2>
            {if said.is_empty() {
                view! {
                    <p class="quiet">
                        "No significant change this week or last, and too few answers to set priorities."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <ul class="said">
                        {said
                            .into_iter()
                            .map(|s| {
                                let tone = match s.tone {
                                    Tone::Worse => "worse",
                                    Tone::Better => "better",
                                    Tone::Priority => "priority",
                                    Tone::Quiet => "quiet",
                                };
                                view! { <li class=tone>{s.text}</li> }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

/// The journey map: one column per stage, in journey order.
#[component]
fn Map(
    /// What `/journey` returned.
    journey: JourneyMap,
    /// The site's key, for the cells' links.
    key: String,
    /// The period shown, carried to the touchpoint's screen.
    days: u32,
) -> impl IntoView {
    let answered = journey.stages.iter().any(|s| !s.touchpoints.is_empty());
    view! {
        <section class="map" aria-labelledby="map-h">
            <h2 id="map-h">"Journey map"</h2>
            {(!answered)
                .then(|| {
                    view! {
                        <p class="empty">
                            "No prompts were shown or answered in this period. Once visitors answer, each stage fills in here."
                        </p>
                    }
                })}
            <ol class="stages">
                {journey
                    .stages
                    .into_iter()
                    .map(|stage| {
                        let key = key.clone();
                        let empty = stage.touchpoints.is_empty();
                        view! {
                            <li class="stage" data-stage=stage.id.clone()>
                                <h3>{stage.label.clone()}</h3>
                                {empty.then(|| view! { <p class="quiet">"No answers"</p> })}
                                <ul class="cells">
                                    {stage
                                        .touchpoints
                                        .into_iter()
                                        .map(|cell| view! { <Cell cell=cell key=key.clone() days=days /> })
                                        .collect_view()}
                                </ul>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            <p class="legend">
                "Each cell: the score with its 95 % interval and the number of answers (n). "
                "Greyed cells have fewer than 30 answers: read them as a hint, not a result."
            </p>
        </section>
    }
}

/// One touchpoint in one stage.
#[component]
fn Cell(
    /// The numbers.
    cell: JourneyCell,
    /// The site's key.
    key: String,
    /// The period shown.
    days: u32,
) -> impl IntoView {
    let m = cell.metric;
    let heat = cell
        .score
        .and_then(|s| format::heat(m, s))
        .map_or_else(|| "heat-none".to_owned(), |h| format!("heat-{h}"));
    let class = format!(
        "cell {heat}{}",
        if cell.small_sample { " small" } else { "" }
    );
    let href = format!(
        "{}?days={days}",
        Route::Touchpoint {
            key,
            id: cell.touchpoint.clone(),
        }
        .href()
    );
    let score = cell
        .score
        .map_or_else(|| "—".to_owned(), |s| format::score(m, s));
    let interval = match (cell.low, cell.high) {
        (Some(l), Some(h)) => format!("95 % interval {}", format::interval(m, l, h)),
        _ => "no interval".to_owned(),
    };
    let id = cell.touchpoint.clone();
    let name = id.clone();
    view! {
        <li data-touchpoint=id>
            <Link href=href class=class>
                <span class="cell-head">
                    <span class="cell-name">{name}</span>
                    <span class="cell-metric">{format::metric_name(m)}</span>
                </span>
                <span class="cell-score">{score}</span>
                <span class="cell-interval">{interval}</span>
                <span class="cell-n">
                    {format!("n = {}", format::count(cell.responses))}
                    {cell.small_sample.then(|| view! { <span class="badge">"small sample"</span> })}
                </span>
                <span class="cell-rates">
                    <span>{format!("answered {}", format::share(cell.response_rate))}</span>
                    <span>{format!("dismissed {}", format::share(cell.dismiss_rate))}</span>
                    <span>{format!("frustrated {}", format::share(cell.frustration_rate))}</span>
                </span>
            </Link>
        </li>
    }
}
