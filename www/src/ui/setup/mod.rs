//! Setup for site owners: the script tag to paste (with a copy button), the
//! journey stages with a tester ("which stage is this URL?", by the
//! server's own page rules), the touchpoints, and the site file — its TOML
//! downloaded, or uploaded to replace the configuration (editors and
//! admins; a viewer sees no control to change anything, and the server
//! refuses their changes anyway).

use super::{Auth, Load, load_with, title};
use crate::api::{self, ApiError};
use crate::format;
use crate::route::encode;
use crate::words;
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;
use touchpoint_wire::{
    Look, Metric, Position, SiteApplied, SiteDocument, Touchpoint, Trigger, TriggerOn,
};
use wasm_bindgen_futures::JsFuture;

/// The two tags a site owner pastes, pointing at this server.
fn snippet(origin: &str, key: &str) -> String {
    format!(
        "<script>window.touchpoint=window.touchpoint||function(){{(touchpoint.q=touchpoint.q||[]).push(arguments)}}</script>\n\
         <script async src=\"{origin}/t.js\" data-site=\"{key}\"></script>"
    )
}

#[derive(Clone, Debug, PartialEq)]
struct Loaded {
    doc: SiteDocument,
    /// Bumped by each save, so the document is read again.
    version: u32,
}

/// The setup screen.
#[component]
pub fn Setup(
    /// The site's key.
    key: String,
    /// The site's name.
    site_name: String,
    /// The signed-in person's role on the site.
    role: String,
) -> impl IntoView {
    title(&["Setup", &site_name]);
    let auth = expect_context::<Auth>();
    let can_edit = role == "editor" || role == "admin";
    let version = RwSignal::new(0u32);
    let data = RwSignal::new(Load::<Loaded>::Loading);
    let k = key.clone();
    Effect::new(move |_| {
        let v = version.get();
        let key = k.clone();
        load_with(
            data,
            async move {
                let doc: SiteDocument =
                    api::get(&format!("/v1/sites/{}/site", encode(&key))).await?;
                Ok(Loaded { doc, version: v })
            },
            move |l: &Loaded| l.version == version.get_untracked(),
        );
    });
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let tag = snippet(&origin, &key);
    let copied = RwSignal::new(String::new());
    let copy_text = tag.clone();
    let copy = move |_| {
        let text = copy_text.clone();
        spawn_local(async move {
            let done = match web_sys::window().map(|w| w.navigator().clipboard()) {
                Some(c) => JsFuture::from(c.write_text(&text)).await.is_ok(),
                None => false,
            };
            copied.set(if done {
                "Copied.".to_owned()
            } else {
                "The browser did not allow copying: select the tags and copy them.".to_owned()
            });
        });
    };
    let tested = RwSignal::new(String::new());
    let url = NodeRef::<Input>::new();
    let test = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Load::Ready(l) = data.get_untracked() else {
            return;
        };
        if let Some(input) = url.get() {
            tested.set(words::stage_of(&l.doc.stage, &input.value()));
        }
    };
    let upload_status = RwSignal::new(None::<(bool, String)>);
    // Outside the editor, which is drawn anew with the configuration a
    // save loads again: the notice stays.
    let editor_status = RwSignal::new(None::<(bool, String)>);
    let file = NodeRef::<Input>::new();
    let k = key.clone();
    let upload = move |_| {
        let Some(input) = file.get() else { return };
        let Some(chosen) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        let Some(csrf) = auth.csrf() else { return };
        let key = k.clone();
        upload_status.set(Some((true, "Uploading…".to_owned())));
        spawn_local(async move {
            let text = match JsFuture::from(chosen.text()).await {
                Ok(t) => t.as_string().unwrap_or_default(),
                Err(_) => {
                    upload_status.set(Some((false, "The file could not be read.".to_owned())));
                    return;
                }
            };
            let path = format!("/v1/sites/{}/site", encode(&key));
            match api::put::<SiteApplied>(&path, text, "application/toml", &csrf).await {
                Ok(applied) => {
                    upload_status.set(Some((
                        true,
                        if applied.changed {
                            "Saved: the site now runs on this file.".to_owned()
                        } else {
                            "Nothing changed: the file says what the site already had.".to_owned()
                        },
                    )));
                    version.update(|v| *v += 1);
                }
                Err(ApiError::SignedOut(m)) => auth.expired(&m),
                Err(e) => upload_status.set(Some((false, e.message().to_owned()))),
            }
        });
    };
    let download = format!("/v1/sites/{}/site.toml", encode(&key));
    let key_for_editor = key.clone();
    view! {
        <main id="main" class="page">
            <div class="heading">
                <h1>{site_name.clone()} " — setup"</h1>
            </div>
            <section class="panel" aria-labelledby="install-h">
                <h2 id="install-h">"Install on your site"</h2>
                <p>"Paste these two tags into every page, before " <code>"</body>"</code> ". Prompts appear only where a touchpoint can fire; other pages load only the small loader."</p>
                <pre class="snippet"><code>{tag}</code></pre>
                <p class="actions">
                    <button type="button" class="primary" on:click=copy>"Copy the script tag"</button>
                    <span role="status">{move || copied.get()}</span>
                </p>
            </section>
            {move || match data.get() {
                Load::Loading => view! { <p class="status" role="status">"Loading the setup…"</p> }.into_any(),
                Load::Failed(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Load::Ready(l) => {
                    let doc = l.doc;
                    let key = key_for_editor.clone();
                    view! {
                        <section class="panel" aria-labelledby="stages-h">
                            <h2 id="stages-h">"Journey stages"</h2>
                            <p class="muted">"In journey order. A page belongs to the first stage whose pages match it: * within one path segment, ** across segments."</p>
                            <ol class="stage-list">
                                {doc.stage.iter().map(|s| view! {
                                    <li>
                                        <strong>{s.label.clone()}</strong>
                                        <span class="muted">{format!(" {}", s.id)}</span>
                                        <span class="globs">{s.pages.join("  ")}</span>
                                    </li>
                                }).collect_view()}
                            </ol>
                            <form class="tester" on:submit=test>
                                <div class="field grow">
                                    <label for="url">"Which stage is this URL?"</label>
                                    <input id="url" type="text" placeholder="https://shop.example/product/42" node_ref=url />
                                </div>
                                <button type="submit">"Test"</button>
                            </form>
                            <p class="answer" role="status">{move || tested.get()}</p>
                        </section>
                        <section class="panel" aria-labelledby="tps-h">
                            <h2 id="tps-h">"Touchpoints"</h2>
                            <div class="table-wrap">
                                <table class="rows touchpoints">
                                    <caption class="sr-only">"The site's touchpoints"</caption>
                                    <thead>
                                        <tr>
                                            <th scope="col">"Touchpoint"</th>
                                            <th scope="col">"Metric"</th>
                                            <th scope="col">"Where"</th>
                                            <th scope="col">"When"</th>
                                            <th scope="col" class="num">"Asked"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {doc.touchpoint.iter().map(|t| view! {
                                            <tr>
                                                <th scope="row">{t.id.clone()}</th>
                                                <td>{format::metric_name(t.metric)}</td>
                                                <td>{if t.pages.is_empty() { "every page".to_owned() } else { t.pages.join("  ") }}</td>
                                                <td>{t.trigger.on.as_str()}</td>
                                                <td class="num">{format::share(Some(t.sample))}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            {can_edit.then(|| view! { <TouchpointEditor doc=doc.clone() key=key.clone() version=version status=editor_status /> })}
                        </section>
                    }
                    .into_any()
                }
            }}
            <section class="panel" aria-labelledby="file-h">
                <h2 id="file-h">"Site file"</h2>
                <p>"The whole configuration as the TOML file " <code>"touchpoint apply"</code> " reads."</p>
                <p class="actions">
                    <a href=download download="">"Download the site file (TOML)"</a>
                </p>
                {if can_edit {
                    view! {
                        <div class="field">
                            <label for="upload">"Upload a site file (TOML) to replace the configuration"</label>
                            <input id="upload" type="file" accept=".toml,application/toml,text/plain" node_ref=file on:change=upload />
                        </div>
                        {move || upload_status.get().map(|(ok, message)| view! {
                            <p class=if ok { "notice" } else { "error" } role="status">{message}</p>
                        })}
                    }
                    .into_any()
                } else {
                    view! {
                        <p class="muted">"You are a viewer of this site: an editor or an admin changes its setup."</p>
                    }
                    .into_any()
                }}
            </section>
        </main>
    }
}

/// Adds a touchpoint (or replaces the one with the same id) or removes one,
/// and saves the whole configuration (`PUT /site`): the server checks it
/// as it checks `touchpoint apply`, and its refusal names the field.
#[component]
fn TouchpointEditor(
    /// The configuration as loaded.
    doc: SiteDocument,
    /// The site's key.
    key: String,
    /// Bumped after a save, to load the configuration again.
    version: RwSignal<u32>,
    /// What the last save said.
    status: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let busy = RwSignal::new(false);
    let id = NodeRef::<Input>::new();
    let question = NodeRef::<Input>::new();
    let pages = NodeRef::<Input>::new();
    let sample = NodeRef::<Input>::new();
    let metric = RwSignal::new("csat".to_owned());
    let when = RwSignal::new("load".to_owned());
    let save = {
        let key = key.clone();
        move |next: SiteDocument, done: String| {
            let Some(csrf) = auth.csrf() else { return };
            let key = key.clone();
            busy.set(true);
            spawn_local(async move {
                let body = serde_json::to_string(&next).unwrap_or_default();
                let path = format!("/v1/sites/{}/site", encode(&key));
                match api::put::<SiteApplied>(&path, body, "application/json", &csrf).await {
                    Ok(_) => {
                        status.set(Some((true, done)));
                        version.update(|v| *v += 1);
                    }
                    Err(ApiError::SignedOut(m)) => auth.expired(&m),
                    Err(e) => status.set(Some((false, e.message().to_owned()))),
                }
                busy.set(false);
            });
        }
    };
    let add = {
        let doc = doc.clone();
        let save = save.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let value = |r: NodeRef<Input>| {
                r.get()
                    .map(|i| i.value().trim().to_owned())
                    .unwrap_or_default()
            };
            let new_id = value(id);
            let share: f64 = value(sample).parse().unwrap_or(100.0);
            let on = TriggerOn::parse(&when.get_untracked()).unwrap_or(TriggerOn::Load);
            let tp = Touchpoint {
                id: new_id.clone(),
                metric: Metric::parse(&metric.get_untracked()).unwrap_or(Metric::Csat),
                question: BTreeMap::from([("en".to_owned(), value(question))]),
                trigger: Trigger {
                    on,
                    percent: (on == TriggerOn::Scroll).then_some(50),
                    ..Trigger::default()
                },
                pages: value(pages)
                    .split([' ', ','])
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
                stages: Vec::new(),
                sample: (share / 100.0).clamp(0.0, 1.0),
                recontact_days: 30,
                follow_up: None,
                options: Vec::new(),
                multiple: false,
                scale: Look::default(),
                position: Position::default(),
                audience: BTreeMap::new(),
            };
            let mut next = doc.clone();
            let said = match next.touchpoint.iter_mut().find(|t| t.id == tp.id) {
                Some(old) => {
                    *old = tp;
                    format!("Saved: {new_id} changed.")
                }
                None => {
                    next.touchpoint.push(tp);
                    format!("Saved: {new_id} added. It is live on the site within seconds.")
                }
            };
            save(next, said);
        }
    };
    view! {
        <form class="editor" on:submit=add>
            <h3>"Add or change a touchpoint"</h3>
            <div class="grid">
                <div class="field">
                    <label for="tp-id">"Id"</label>
                    <input id="tp-id" type="text" required placeholder="pricing-csat" node_ref=id />
                </div>
                <div class="field">
                    <label for="tp-metric">"Question type"</label>
                    <select id="tp-metric" on:change=move |ev| metric.set(event_target_value(&ev))>
                        <option value="csat" selected>"CSAT (1–5)"</option>
                        <option value="nps">"NPS (0–10)"</option>
                        <option value="ces">"Effort (1–7)"</option>
                        <option value="thumbs">"Thumbs"</option>
                        <option value="emoji">"Mood (five faces)"</option>
                        <option value="text">"Comment"</option>
                    </select>
                </div>
                <div class="field wide">
                    <label for="tp-question">"Question (English)"</label>
                    <input id="tp-question" type="text" required placeholder="How satisfied are you with our prices?" node_ref=question />
                </div>
                <div class="field">
                    <label for="tp-pages">"Pages (globs; empty: every page)"</label>
                    <input id="tp-pages" type="text" placeholder="/pricing /product/*" node_ref=pages />
                </div>
                <div class="field">
                    <label for="tp-when">"When"</label>
                    <select id="tp-when" on:change=move |ev| when.set(event_target_value(&ev))>
                        <option value="load" selected>"When the page has loaded"</option>
                        <option value="scroll">"Halfway down the page"</option>
                        <option value="exit">"When leaving (desktop)"</option>
                        <option value="tab">"From a feedback tab"</option>
                        <option value="manual">"Only from the page's code"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="tp-sample">"Visitors asked (%)"</label>
                    <input id="tp-sample" type="number" min="1" max="100" value="100" node_ref=sample />
                </div>
            </div>
            <p class="actions">
                <button type="submit" class="primary" disabled=move || busy.get()>"Save the touchpoint"</button>
            </p>
        </form>
        <ul class="removals">
            {doc.touchpoint.iter().map(|t| {
                let id = t.id.clone();
                let doc = doc.clone();
                let save = save.clone();
                view! {
                    <li>
                        <button type="button" class="ghost" disabled=move || busy.get() on:click=move |_| {
                            let mut next = doc.clone();
                            next.touchpoint.retain(|t| t.id != id);
                            save(next, format!("Saved: {} removed.", id));
                        }>{format!("Remove {}", t.id)}</button>
                    </li>
                }
            }).collect_view()}
        </ul>
        {move || status.get().map(|(ok, message)| view! {
            <p class=if ok { "notice" } else { "error" } role="status">{message}</p>
        })}
    }
}
