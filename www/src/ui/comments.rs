//! The comments stream (`/comments`): newest first, with the score, the
//! touchpoint, page, stage and emotion flags of each; filtered by period,
//! touchpoint and flag, searched, a page at a time. Comments are shown as
//! text (leptos sets text nodes, never markup), as masked on arrival. An
//! alert's link (`?response=ID`) shows that one answer.

use super::journey::{PERIODS, PeriodPicker, days_in_address, range};
use super::{Auth, Link, Load, load_with, title, today};
use crate::api::{self, ApiError};
use crate::route::{Route, encode};
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use touchpoint_wire::{Comment, Comments as Page, Metric, SiteDocument};

/// What the stream shows, as the person set it.
#[derive(Clone, Debug, PartialEq)]
struct Wanted {
    days: u32,
    touchpoint: String,
    flag: String,
    search: String,
    response: Option<String>,
}

impl Wanted {
    fn query(&self) -> String {
        let mut q = range(self.days, today());
        for (name, value) in [
            ("touchpoint", &self.touchpoint),
            ("flag", &self.flag),
            ("q", &self.search),
        ] {
            if !value.is_empty() {
                q.push_str(&format!("&{name}={}", encode(value)));
            }
        }
        if let Some(id) = &self.response {
            // One answer, whenever it was given.
            q = format!("response={}", encode(id));
        }
        q
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Loaded {
    wanted: Wanted,
    comments: Vec<Comment>,
    next: Option<String>,
}

/// `?response=` in the address bar.
fn response_in_address() -> Option<String> {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|s| {
            s.trim_start_matches('?')
                .split('&')
                .find_map(|kv| kv.strip_prefix("response=").map(crate::route::decode))
        })
        .filter(|s| !s.is_empty())
}

async fn fetch(key: String, wanted: Wanted) -> Result<Loaded, ApiError> {
    let page: Page = api::get(&format!(
        "/v1/sites/{}/comments?limit=50&{}",
        encode(&key),
        wanted.query()
    ))
    .await?;
    Ok(Loaded {
        wanted,
        comments: page.comments,
        next: page.next,
    })
}

/// The comments screen.
#[component]
pub fn Comments(
    /// The site's key.
    key: String,
    /// The site's name.
    site_name: String,
) -> impl IntoView {
    title(&["Comments", &site_name]);
    let auth = expect_context::<Auth>();
    let days = RwSignal::new(days_in_address(30));
    let touchpoint = RwSignal::new(String::new());
    let flag = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let response = RwSignal::new(response_in_address());
    let wanted = Memo::new(move |_| Wanted {
        days: days.get(),
        touchpoint: touchpoint.get(),
        flag: flag.get(),
        search: search.get(),
        response: response.get(),
    });
    let data = RwSignal::new(Load::<Loaded>::Loading);
    let touchpoints = RwSignal::new(Vec::<(String, Metric)>::new());
    {
        let key = key.clone();
        spawn_local(async move {
            if let Ok(doc) =
                api::get::<SiteDocument>(&format!("/v1/sites/{}/site", encode(&key))).await
            {
                touchpoints.set(
                    doc.touchpoint
                        .into_iter()
                        .map(|t| (t.id, t.metric))
                        .collect(),
                );
            }
        });
    }
    let k = key.clone();
    Effect::new(move |_| {
        let w = wanted.get();
        load_with(data, fetch(k.clone(), w), move |l: &Loaded| {
            l.wanted == wanted.get_untracked()
        });
    });
    let more_busy = RwSignal::new(false);
    let k = key.clone();
    let more = move |_| {
        let Load::Ready(loaded) = data.get_untracked() else {
            return;
        };
        let Some(next) = loaded.next.clone() else {
            return;
        };
        more_busy.set(true);
        let key = k.clone();
        spawn_local(async move {
            let url = format!(
                "/v1/sites/{}/comments?limit=50&{}&before={}",
                encode(&key),
                loaded.wanted.query(),
                encode(&next)
            );
            match api::get::<Page>(&url).await {
                Ok(page) if loaded.wanted == wanted.get_untracked() => {
                    data.update(|d| {
                        if let Load::Ready(l) = d {
                            l.comments.extend(page.comments);
                            l.next = page.next;
                        }
                    });
                }
                Ok(_) => {}
                Err(ApiError::SignedOut(m)) => auth.expired(&m),
                Err(e) => data.set(Load::Failed(e.message().to_owned())),
            }
            more_busy.set(false);
        });
    };
    let search_box = NodeRef::<Input>::new();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Some(input) = search_box.get() {
            search.set(input.value().trim().to_owned());
        }
    };
    let all_href = Route::Comments { key: key.clone() }.href();
    // The answers of the period, touchpoint, emotion and search shown
    // (without an emotion or a search: with or without a comment).
    let k = key.clone();
    let export = move |ext: &'static str| {
        let w = Wanted {
            response: None,
            ..wanted.get()
        };
        format!("/v1/sites/{}/responses.{ext}?{}", encode(&k), w.query())
    };
    let export2 = export.clone();
    view! {
        <main id="main" class="page">
            <div class="heading">
                <h1>{site_name.clone()} " — comments"</h1>
                <PeriodPicker days=days periods=&PERIODS />
            </div>
            {move || {
                response
                    .get()
                    .map(|_| {
                        let href = all_href.clone();
                        view! {
                            <p class="notice">
                                "One answer, as an alert linked to it. "
                                <a
                                    href=href
                                    on:click=move |ev| {
                                        ev.prevent_default();
                                        if let Some(w) = web_sys::window() {
                                            if let Ok(h) = w.history() {
                                                let path = w.location().pathname().unwrap_or_default();
                                                let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
                                            }
                                        }
                                        response.set(None);
                                    }
                                >
                                    "Show every comment"
                                </a>
                            </p>
                        }
                    })
            }}
            <form class="filters" role="search" on:submit=submit>
                <div class="field">
                    <label for="tp">"Touchpoint"</label>
                    <select id="tp" on:change=move |ev| touchpoint.set(event_target_value(&ev))>
                        <option value="">"All touchpoints"</option>
                        {move || {
                            touchpoints
                                .get()
                                .into_iter()
                                .map(|(id, _)| view! { <option value=id.clone()>{id.clone()}</option> })
                                .collect_view()
                        }}
                    </select>
                </div>
                <div class="field">
                    <label for="flag">"Emotion"</label>
                    <select id="flag" on:change=move |ev| flag.set(event_target_value(&ev))>
                        <option value="">"Any"</option>
                        <option value="frustration">"Frustration"</option>
                        <option value="confusion">"Confusion"</option>
                        <option value="delight">"Delight"</option>
                    </select>
                </div>
                <div class="field grow">
                    <label for="q">"Search comments"</label>
                    <input id="q" type="search" maxlength="200" node_ref=search_box />
                </div>
                <button type="submit">"Search"</button>
                <p class="downloads">
                    <a href=move || export("csv") download="">"Answers as CSV"</a>
                    <a href=move || export2("xlsx") download="">"Answers as XLSX"</a>
                </p>
            </form>
            {move || match data.get() {
                Load::Loading => view! { <p class="status" role="status">"Loading comments…"</p> }.into_any(),
                Load::Failed(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Load::Ready(l) => {
                    let stale = l.wanted != wanted.get();
                    let empty = l.comments.is_empty();
                    let has_more = l.next.is_some();
                    let key = key.clone();
                    view! {
                        <div class:stale=stale>
                            {empty.then(|| view! { <p class="empty">"No comments match."</p> })}
                            <ol class="comments">
                                {l.comments
                                    .into_iter()
                                    .map(|c| view! { <CommentCard comment=c key=key.clone() /> })
                                    .collect_view()}
                            </ol>
                            {has_more
                                .then(|| {
                                    view! {
                                        <button class="more" on:click=more.clone() disabled=move || more_busy.get()>
                                            "Show older comments"
                                        </button>
                                    }
                                })}
                        </div>
                    }
                    .into_any()
                }
            }}
        </main>
    }
}

/// A score on its scale, as the visitor gave it.
fn given(metric: Option<Metric>, score: i64) -> String {
    match metric {
        Some(Metric::Thumbs) => if score == 1 {
            "thumbs up"
        } else {
            "thumbs down"
        }
        .to_owned(),
        Some(m) => m
            .scale()
            .map_or_else(|| score.to_string(), |(_, hi)| format!("{score}/{hi}")),
        None => score.to_string(),
    }
}

/// One comment.
#[component]
fn CommentCard(
    /// The answer and its comment.
    comment: Comment,
    /// The site's key, for the touchpoint's link.
    key: String,
) -> impl IntoView {
    let c = comment;
    let when = c.ts.get(..16).unwrap_or(&c.ts).replace('T', " ");
    let score = c.score.map(|s| given(c.metric, s));
    let tone = match (c.metric, c.score) {
        (Some(m), Some(s)) => m.scale().map_or("", |(lo, hi)| {
            let p = (s - lo) as f64 / (hi - lo).max(1) as f64;
            if p < 0.5 {
                "low"
            } else if p < 0.75 {
                "mid"
            } else {
                "high"
            }
        }),
        _ => "",
    };
    let touchpoint = c.touchpoint.clone().map(|id| {
        let href = Route::Touchpoint {
            key: key.clone(),
            id: id.clone(),
        }
        .href();
        view! { <Link href=href>{id}</Link> }
    });
    view! {
        <li class="comment" data-response=c.id.clone()>
            <p class="comment-meta">
                {score.map(|s| view! { <span class=format!("given {tone}")>{s}</span> })}
                {touchpoint}
                <span>{c.page.clone()}</span>
                <span>{c.stage.clone()}</span>
                <time datetime=c.ts.clone()>{when}</time>
                {c.locale.clone().map(|l| view! { <span>{l}</span> })}
            </p>
            <p class="comment-text">{c.comment.clone()}</p>
            {(!c.flags.is_empty())
                .then(|| {
                    view! {
                        <ul class="flags" aria-label="Emotion">
                            {c.flags
                                .iter()
                                .map(|f| view! { <li class=format!("flag {f}")>{f.clone()}</li> })
                                .collect_view()}
                        </ul>
                    }
                })}
        </li>
    }
}
