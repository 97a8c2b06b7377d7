//! One touchpoint: its question, its score over time as a line with its
//! 95 % interval as a band and markers on significant changes (`/trends`),
//! the same numbers as a table, and the distribution of its scores
//! (`/aggregates`).

use super::journey::{PeriodPicker, days_in_address, range};
use super::{Link, Load, load_with, title, today};
use crate::api::{self, ApiError};
use crate::format;
use crate::route::{Route, encode};
use leptos::prelude::*;
use touchpoint_wire::{Aggregates, Metric, SiteDocument, TrendPoint, Trends};

const PERIODS: [u32; 3] = [30, 90, 365];

#[derive(Clone, Debug, PartialEq)]
struct Loaded {
    question: Option<String>,
    trend: Trends,
    distribution: Vec<(i64, u64)>,
    days: u32,
}

async fn fetch(key: String, id: String, days: u32) -> Result<Loaded, ApiError> {
    let today = today();
    let k = encode(&key);
    let t = encode(&id);
    let interval = if days <= 31 { "day" } else { "week" };
    let site: SiteDocument = api::get(&format!("/v1/sites/{k}/site")).await?;
    let question = site
        .touchpoint
        .iter()
        .find(|tp| tp.id == id)
        .and_then(|tp| {
            tp.question
                .get("en")
                .or_else(|| tp.question.values().next())
        })
        .cloned();
    let trend: Trends = api::get(&format!(
        "/v1/sites/{k}/trends?touchpoint={t}&interval={interval}&{}",
        range(days, today)
    ))
    .await?;
    let agg: Aggregates = api::get(&format!(
        "/v1/sites/{k}/aggregates?touchpoint={t}&{}",
        range(days, today)
    ))
    .await?;
    let distribution = agg
        .rows
        .into_iter()
        .find(|r| r.metric == Some(trend.metric))
        .map(|r| r.distribution.into_iter().collect())
        .unwrap_or_default();
    Ok(Loaded {
        question,
        trend,
        distribution,
        days,
    })
}

/// The touchpoint screen.
#[component]
pub fn Touchpoint(
    /// The site's key.
    key: String,
    /// The site's name.
    site_name: String,
    /// The touchpoint's id.
    id: String,
) -> impl IntoView {
    title(&[&id, &site_name]);
    let days = RwSignal::new(days_in_address(90));
    let data = RwSignal::new(Load::<Loaded>::Loading);
    let (k, t) = (key.clone(), id.clone());
    Effect::new(move |_| {
        let d = days.get();
        load_with(data, fetch(k.clone(), t.clone(), d), move |l: &Loaded| {
            l.days == days.get_untracked()
        });
    });
    let back = format!(
        "{}?days={}",
        Route::Journey { key }.href(),
        days.get_untracked().min(90)
    );
    view! {
        <main id="main" class="page">
            <p class="crumbs">
                <Link href=back>"← Journey"</Link>
            </p>
            <div class="heading">
                <h1>{id.clone()}</h1>
                <PeriodPicker days=days periods=&PERIODS />
            </div>
            {move || match data.get() {
                Load::Loading => view! { <p class="status" role="status">"Loading the trend…"</p> }
                    .into_any(),
                Load::Failed(message) => view! { <p class="error" role="alert">{message}</p> }
                    .into_any(),
                Load::Ready(l) => view! {
                    <div class:stale=l.days != days.get()>
                        {l.question.clone().map(|q| view! { <p class="question">"“" {q} "”"</p> })}
                        <Trend trend=l.trend.clone() />
                        <Distribution metric=l.trend.metric counts=l.distribution.clone() />
                    </div>
                }
                .into_any(),
            }}
        </main>
    }
}

/// The chart's frame, in SVG user units.
const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// The value range a metric's score is drawn on.
fn bounds(metric: Metric) -> (f64, f64) {
    match metric {
        Metric::Nps => (-100.0, 100.0),
        Metric::Ces => (1.0, 7.0),
        Metric::Emoji => (1.0, 5.0),
        _ => (0.0, 100.0),
    }
}

/// A score over time: the interval as a band, the score as a line (broken
/// where a period has no answers), significant changes marked.
#[component]
fn Trend(
    /// What `/trends` returned.
    trend: Trends,
) -> impl IntoView {
    let m = trend.metric;
    let points = trend.points.clone();
    let n = points.len().max(2) - 1;
    let (lo, hi) = bounds(m);
    let x = move |i: usize| LEFT + (W - LEFT - RIGHT) * i as f64 / n as f64;
    let y = move |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - (v - lo) / (hi - lo));
    let mut line = String::new();
    let mut band = Vec::new();
    let mut run: Vec<(f64, f64, f64)> = Vec::new();
    let mut pen_up = true;
    for (i, p) in points.iter().enumerate() {
        match p.score {
            Some(s) => {
                line.push_str(&format!(
                    "{}{:.1},{:.1} ",
                    if pen_up { "M" } else { "L" },
                    x(i),
                    y(s)
                ));
                pen_up = false;
            }
            None => pen_up = true,
        }
        match (p.low, p.high) {
            (Some(l), Some(h)) => run.push((x(i), y(l), y(h))),
            _ => band.extend(polygon(std::mem::take(&mut run))),
        }
    }
    band.extend(polygon(run));
    let markers: Vec<_> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let c = p.change.as_ref().filter(|c| c.significant)?;
            let s = p.score?;
            let label = format!(
                "{}: {} ({}{}, {})",
                p.period,
                format::score(m, s),
                if c.delta < 0.0 { "" } else { "+" },
                format!("{:.1}", c.delta).replace('-', "−"),
                c.p_value.map_or_else(String::new, format::p_value)
            );
            Some((x(i), y(s), c.delta < 0.0, label))
        })
        .collect();
    let first = points.first().map(|p| p.period.clone()).unwrap_or_default();
    let last = points.last().map(|p| p.period.clone()).unwrap_or_default();
    let answered = points.iter().any(|p| p.responses > 0);
    let summary = format!(
        "{} per {} from {first} to {last}; the table below lists every point.",
        format::metric_name(m),
        trend.interval
    );
    view! {
        <section class="trend" aria-labelledby="trend-h">
            <h2 id="trend-h">{format!("{} over time", format::metric_name(m))}</h2>
            {(!answered).then(|| view! { <p class="empty">"No answers in this period."</p> })}
            <svg class="chart" viewBox=format!("0 0 {W} {H}") role="img" aria-label=summary>
                {[lo, (lo + hi) / 2.0, hi]
                    .into_iter()
                    .map(|v| {
                        view! {
                            <line class="grid" x1=LEFT x2=W - RIGHT y1=y(v) y2=y(v) />
                            <text class="axis" x=LEFT - 6.0 y=y(v) + 4.0 text-anchor="end">
                                {format::score(m, v)}
                            </text>
                        }
                    })
                    .collect_view()}
                {band.into_iter().map(|d| view! { <path class="band" d=d /> }).collect_view()}
                <path class="line" d=line />
                {markers
                    .into_iter()
                    .map(|(cx, cy, worse, label)| {
                        view! {
                            <circle class=if worse { "mark worse" } else { "mark better" } cx=cx cy=cy r="5">
                                <title>{label}</title>
                            </circle>
                        }
                    })
                    .collect_view()}
                <text class="axis" x=LEFT y=H - 8.0>{first}</text>
                <text class="axis" x=W - RIGHT y=H - 8.0 text-anchor="end">{last}</text>
            </svg>
            <Points metric=m points=points />
        </section>
    }
}

/// A closed band through `(x, y_low, y_high)` points: along the highs,
/// back along the lows.
fn polygon(run: Vec<(f64, f64, f64)>) -> Option<String> {
    if run.len() < 2 {
        return None;
    }
    let mut d = String::new();
    for (i, (x, _, h)) in run.iter().enumerate() {
        d.push_str(&format!("{}{x:.1},{h:.1} ", if i == 0 { "M" } else { "L" }));
    }
    for (x, l, _) in run.iter().rev() {
        d.push_str(&format!("L{x:.1},{l:.1} "));
    }
    d.push('Z');
    Some(d)
}

/// The trend as a table: every period with its numbers and change.
#[component]
fn Points(
    /// The score's metric.
    metric: Metric,
    /// The trend's points.
    points: Vec<TrendPoint>,
) -> impl IntoView {
    let m = metric;
    view! {
        <div class="table-wrap">
            <table class="points">
                <caption class="sr-only">"Every period of the trend"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Period"</th>
                        <th scope="col">"Score"</th>
                        <th scope="col">"95 % interval"</th>
                        <th scope="col">"n"</th>
                        <th scope="col">"Change"</th>
                    </tr>
                </thead>
                <tbody>
                    {points
                        .into_iter()
                        .rev()
                        .map(|p| {
                            let change = p.change.as_ref().map_or_else(String::new, |c| {
                                let sign = if c.delta < 0.0 { "−" } else { "+" };
                                let p = c.p_value.map_or_else(String::new, |p| format!(", {}", format::p_value(p)));
                                format!(
                                    "{sign}{:.1}{p}{}",
                                    c.delta.abs(),
                                    if c.significant { " — significant" } else { "" }
                                )
                            });
                            view! {
                                <tr class:small=p.small_sample>
                                    <th scope="row">{p.period.clone()}</th>
                                    <td>{p.score.map_or_else(|| "—".to_owned(), |s| format::score(m, s))}</td>
                                    <td>
                                        {match (p.low, p.high) {
                                            (Some(l), Some(h)) => format::interval(m, l, h),
                                            _ => "—".to_owned(),
                                        }}
                                    </td>
                                    <td>{format::count(p.responses)}</td>
                                    <td>{change}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// How the answers spread over the scale.
#[component]
fn Distribution(
    /// The scale's metric.
    metric: Metric,
    /// Score → answers.
    counts: Vec<(i64, u64)>,
) -> impl IntoView {
    let Some((lo, hi)) = metric.scale() else {
        return ().into_any();
    };
    let total: u64 = counts.iter().map(|(_, c)| c).sum();
    let max = counts.iter().map(|(_, c)| *c).max().unwrap_or(0).max(1);
    view! {
        <section class="distribution" aria-labelledby="dist-h">
            <h2 id="dist-h">"Distribution of answers"</h2>
            <ol class="bars">
                {(lo..=hi)
                    .map(|score| {
                        let c = counts.iter().find(|(s, _)| *s == score).map_or(0, |(_, c)| *c);
                        // Widths in tenths of the largest bar: classes, not
                        // inline styles, which the page's policy refuses.
                        let tenth = (c * 10).div_ceil(max);
                        let share = if total > 0 { format!("{} %", (c as f64 * 100.0 / total as f64).round()) } else { "—".to_owned() };
                        view! {
                            <li>
                                <span class="bar-label">{score}</span>
                                <span class=format!("bar w{tenth}")></span>
                                <span class="bar-value">{format!("{} ({share})", format::count(c))}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
    .into_any()
}
