//! What to do about it: priorities (`/priorities`: where answers fall
//! furthest below the site's norm, weighted by volume), drivers
//! (`/drivers`: which touchpoints move the relationship NPS) and outcomes
//! (`/outcomes`: conversion after answers, by score band). Rows with too
//! few answers are listed as such, never ranked.

use super::journey::{PERIODS, PeriodPicker, days_in_address, range};
use super::{Load, load_with, title, today};
use crate::api::{self, ApiError};
use crate::format;
use crate::route::encode;
use leptos::prelude::*;
use touchpoint_wire::{Drivers, Metric, Outcomes, Priorities, SiteDocument};

#[derive(Clone, Debug, PartialEq)]
struct Wanted {
    days: u32,
    relationship: String,
    outcome: String,
}

#[derive(Clone, Debug, PartialEq)]
struct Loaded {
    wanted: Wanted,
    /// NPS touchpoints (drivers' relationship) and declared outcomes.
    nps: Vec<String>,
    outcomes: Vec<(String, String)>,
    /// The relationship and outcome shown (the first when none was chosen).
    wanted_relationship: String,
    wanted_outcome: String,
    priorities: Priorities,
    drivers: Option<Drivers>,
    conversion: Option<Outcomes>,
}

async fn fetch(key: String, mut wanted: Wanted) -> Result<Loaded, ApiError> {
    let k = encode(&key);
    let r = range(wanted.days, today());
    let doc: SiteDocument = api::get(&format!("/v1/sites/{k}/site")).await?;
    let nps: Vec<String> = doc
        .touchpoint
        .iter()
        .filter(|t| t.metric == Metric::Nps)
        .map(|t| t.id.clone())
        .collect();
    let outcomes: Vec<(String, String)> = doc
        .outcome
        .iter()
        .map(|o| {
            (
                o.id.clone(),
                o.label.clone().unwrap_or_else(|| o.id.clone()),
            )
        })
        .collect();
    let asked = wanted.clone();
    if !nps.contains(&wanted.relationship) {
        wanted.relationship = nps.first().cloned().unwrap_or_default();
    }
    if !outcomes.iter().any(|(id, _)| *id == wanted.outcome) {
        wanted.outcome = outcomes.first().map(|o| o.0.clone()).unwrap_or_default();
    }
    let priorities: Priorities = api::get(&format!("/v1/sites/{k}/priorities?{r}")).await?;
    let drivers = if wanted.relationship.is_empty() {
        None
    } else {
        Some(
            api::get::<Drivers>(&format!(
                "/v1/sites/{k}/drivers?relationship={}&{r}",
                encode(&wanted.relationship)
            ))
            .await?,
        )
    };
    let conversion = if wanted.outcome.is_empty() {
        None
    } else {
        Some(
            api::get::<Outcomes>(&format!(
                "/v1/sites/{k}/outcomes?outcome={}&{r}",
                encode(&wanted.outcome)
            ))
            .await?,
        )
    };
    Ok(Loaded {
        // What was asked, so that a newer choice is recognised as newer.
        wanted: asked,
        wanted_relationship: wanted.relationship.clone(),
        wanted_outcome: wanted.outcome.clone(),
        nps,
        outcomes,
        priorities,
        drivers,
        conversion,
    })
}

/// `±x` in points, with a real minus sign for negative values.
fn points(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r < 0.0 {
        format!("−{:.1}", -r)
    } else {
        format!("+{r:.1}")
    }
}

/// The insights screen.
#[component]
pub fn Insights(
    /// The site's key.
    key: String,
    /// The site's name.
    site_name: String,
) -> impl IntoView {
    title(&["Priorities", &site_name]);
    let days = RwSignal::new(days_in_address(30));
    let relationship = RwSignal::new(String::new());
    let outcome = RwSignal::new(String::new());
    let wanted = Memo::new(move |_| Wanted {
        days: days.get(),
        relationship: relationship.get(),
        outcome: outcome.get(),
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
                <h1>{site_name.clone()} " — priorities, drivers, outcomes"</h1>
                <PeriodPicker days=days periods=&PERIODS />
            </div>
            {move || match data.get() {
                Load::Loading => view! { <p class="status" role="status">"Loading…"</p> }.into_any(),
                Load::Failed(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Load::Ready(l) => {
                    let stale = l.wanted != wanted.get();
                    let k = encode(&key_for_links);
                    let r = range(l.wanted.days, today());
                    view! {
                        <div class:stale=stale>
                            <p class="downloads">
                                <a href=format!("/v1/sites/{k}/priorities.csv?{r}") download="">"Priorities as CSV"</a>
                                {(!l.wanted_relationship.is_empty()).then(|| view! {
                                    <a href=format!("/v1/sites/{k}/drivers.csv?relationship={}&{r}", encode(&l.wanted_relationship)) download="">"Drivers as CSV"</a>
                                })}
                                {(!l.wanted_outcome.is_empty()).then(|| view! {
                                    <a href=format!("/v1/sites/{k}/outcomes.csv?outcome={}&{r}", encode(&l.wanted_outcome)) download="">"Outcomes as CSV"</a>
                                })}
                            </p>
                            <PriorityTable priorities=l.priorities.clone() />
                            <section class="panel" aria-labelledby="drivers-h">
                                <h2 id="drivers-h">"What moves the relationship NPS"</h2>
                                {if l.nps.is_empty() {
                                    view! { <p class="empty">"Drivers need an NPS touchpoint (metric = \"nps\") that visitors answer beside the others."</p> }.into_any()
                                } else {
                                    let chosen = l.drivers.as_ref().map(|d| d.relationship.clone()).unwrap_or_default();
                                    view! {
                                        <div class="field">
                                            <label for="rel">"Relationship NPS"</label>
                                            <select id="rel" on:change=move |ev| relationship.set(event_target_value(&ev))>
                                                {l.nps.iter().map(|id| view! { <option value=id.clone() selected=*id == chosen>{id.clone()}</option> }).collect_view()}
                                            </select>
                                        </div>
                                        {l.drivers.clone().map(|d| view! { <DriverTable drivers=d /> })}
                                    }
                                    .into_any()
                                }}
                            </section>
                            <section class="panel" aria-labelledby="outcomes-h">
                                <h2 id="outcomes-h">"Conversion after answers"</h2>
                                {if l.outcomes.is_empty() {
                                    view! { <p class="empty">"Declare an outcome in the site file ([[outcome]] id = \"purchase\") and record it with touchpoint('track', 'purchase')."</p> }.into_any()
                                } else {
                                    let chosen = l.conversion.as_ref().map(|o| o.outcome.clone()).unwrap_or_default();
                                    view! {
                                        <div class="field">
                                            <label for="outcome">"Outcome"</label>
                                            <select id="outcome" on:change=move |ev| outcome.set(event_target_value(&ev))>
                                                {l.outcomes.iter().map(|(id, label)| view! { <option value=id.clone() selected=*id == chosen>{label.clone()}</option> }).collect_view()}
                                            </select>
                                        </div>
                                        {l.conversion.clone().map(|o| view! { <OutcomeTable outcomes=o /> })}
                                    }
                                    .into_any()
                                }}
                            </section>
                        </div>
                    }
                    .into_any()
                }
            }}
        </main>
    }
}

/// Priorities: impact = answers × gap below the site's norm.
#[component]
fn PriorityTable(
    /// What `/priorities` returned.
    priorities: Priorities,
) -> impl IntoView {
    let empty = priorities.touchpoints.is_empty();
    view! {
        <section class="panel" aria-labelledby="priorities-h">
            <h2 id="priorities-h">"Priorities: stop the bleeding"</h2>
            {empty.then(|| view! { <p class="empty">"No scored answers in this period."</p> })}
            <div class="table-wrap">
                <table class="rows priorities">
                    <caption class="sr-only">"Touchpoints by impact: answers times the gap below the site's norm"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Touchpoint"</th>
                            <th scope="col">"Score"</th>
                            <th scope="col">"Site's norm"</th>
                            <th scope="col" class="num">"n"</th>
                            <th scope="col" class="num">"Impact"</th>
                            <th scope="col">"Verdict"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {priorities
                            .touchpoints
                            .into_iter()
                            .map(|p| {
                                let m = p.metric;
                                let interval = match (p.score_low, p.score_high) {
                                    (Some(l), Some(h)) => format!(" ({})", format::interval(m, l, h)),
                                    _ => String::new(),
                                };
                                let verdict = if !p.ranked {
                                    "too few answers to rank"
                                } else if p.bleeding {
                                    "below the norm beyond doubt"
                                } else if p.gap > 0.0 {
                                    "below the norm, within doubt"
                                } else {
                                    "at or above the norm"
                                };
                                view! {
                                    <tr class:small=!p.ranked class:bleeding=p.bleeding>
                                        <th scope="row">{p.touchpoint.clone()} <span class="muted">{format!(" {}", format::metric_name(m))}</span></th>
                                        <td>{format!("{}{interval}", format::score(m, p.score))}</td>
                                        <td>{format::score(m, p.norm)}</td>
                                        <td class="num">{format::count(p.responses)}</td>
                                        <td class="num">{format!("{:.0}", p.impact)}</td>
                                        <td>{verdict}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// Drivers: the relationship NPS of satisfied minus unsatisfied answerers.
#[component]
fn DriverTable(
    /// What `/drivers` returned.
    drivers: Drivers,
) -> impl IntoView {
    let visitors = drivers.visitors;
    view! {
        <p class="muted">{format!("{} visitors answered {} in this period.", format::count(visitors), drivers.relationship)}</p>
        <div class="table-wrap">
            <table class="rows drivers">
                <caption class="sr-only">"Touchpoints by how much they move the relationship NPS"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Touchpoint"</th>
                        <th scope="col" class="num">"Visitors"</th>
                        <th scope="col" class="num">"Satisfied"</th>
                        <th scope="col" class="num">"Unsatisfied"</th>
                        <th scope="col">"Effect on NPS (95 % interval)"</th>
                    </tr>
                </thead>
                <tbody>
                    {drivers
                        .touchpoints
                        .into_iter()
                        .map(|d| {
                            let effect = match (d.effect, d.low, d.high) {
                                (Some(e), Some(l), Some(h)) => format!("{} ({} to {})", points(e), points(l), points(h)),
                                (Some(e), _, _) => points(e),
                                _ => "—".to_owned(),
                            };
                            let effect = if d.ranked { effect } else { format!("{effect} — too few visitors to rank") };
                            view! {
                                <tr class:small=!d.ranked>
                                    <th scope="row">{d.touchpoint.clone()}</th>
                                    <td class="num">{format::count(d.visitors)}</td>
                                    <td class="num">{format::count(d.satisfied)}</td>
                                    <td class="num">{format::count(d.unsatisfied)}</td>
                                    <td>{effect}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Outcomes: conversion by score band, against the lowest band.
#[component]
fn OutcomeTable(
    /// What `/outcomes` returned.
    outcomes: Outcomes,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="rows outcomes">
                <caption class="sr-only">"Conversion by touchpoint and score band"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Touchpoint"</th>
                        <th scope="col">"Band"</th>
                        <th scope="col" class="num">"Visitors"</th>
                        <th scope="col" class="num">"Converted"</th>
                        <th scope="col">"Rate (95 % interval)"</th>
                        <th scope="col">"Against the lowest band"</th>
                    </tr>
                </thead>
                <tbody>
                    {outcomes
                        .rows
                        .into_iter()
                        .map(|o| {
                            let rate = match (o.rate, o.low, o.high) {
                                (Some(r), Some(l), Some(h)) => format!("{} ({}–{})", format::share(Some(r)), (l * 100.0).round(), format::share(Some(h))),
                                (r, _, _) => format::share(r),
                            };
                            let diff = o.difference.as_ref().map_or_else(String::new, |c| {
                                let p = c.p_value.map_or_else(String::new, |p| format!(", {}", format::p_value(p)));
                                format!("{} points{p}{}", points(c.delta * 100.0), if c.significant { " — significant" } else { "" })
                            });
                            view! {
                                <tr class:small=o.small_sample>
                                    <th scope="row">{o.touchpoint.clone()}</th>
                                    <td>{o.band.clone()}</td>
                                    <td class="num">{format::count(o.visitors)}</td>
                                    <td class="num">{format::count(o.converted)}</td>
                                    <td>{rate}</td>
                                    <td>{diff}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
