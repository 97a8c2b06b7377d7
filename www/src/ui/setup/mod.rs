//! Setup for site owners: the script tag to paste (with a copy button),
//! the site's name, origins and time zone, the journey stages with a tester
//! ("which stage is this URL?", by the server's own page rules), the
//! touchpoints with a live preview of the real widget, the alerts, and the
//! site file (TOML) to download or upload.
//!
//! Every change is saved as a draft (`PUT /draft`): visitors see nothing of
//! it until someone publishes it (`POST /publish`), which the panel on top
//! offers with the list of what would change. Editors and admins only: a
//! viewer sees no control to change anything, and the server refuses their
//! changes anyway.

mod editors;
mod touchpoints;

pub(super) use editors::words;

use super::{Auth, Load, load_with, title};
use crate::api::{self, ApiError};
use crate::format;
use crate::route::encode;
use crate::words;
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use touchpoint_wire::{SiteApplied, SiteDocument, SiteDraft};
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
    /// The live configuration.
    live: SiteDocument,
    /// The draft (editors only), when one is saved.
    draft: Option<SiteDraft>,
    /// Bumped by each save, so both are read again.
    version: u32,
}

impl Loaded {
    /// What the editors start from: the draft if there is one, else what is live.
    fn doc(&self) -> SiteDocument {
        self.draft
            .as_ref()
            .and_then(|d| d.document.clone())
            .unwrap_or_else(|| self.live.clone())
    }
}

/// Saves changes as the site's draft, publishes or discards it, and says
/// how it went; every editor on the screen shares one.
#[derive(Clone, Copy)]
pub(super) struct Saver {
    auth: Auth,
    key: StoredValue<String>,
    /// Bumped after a change, to load the configuration again.
    version: RwSignal<u32>,
    /// What the last change said (`true`: it went through).
    status: RwSignal<Option<(bool, String)>>,
    busy: RwSignal<bool>,
}

impl Saver {
    fn path(&self, end: &str) -> String {
        format!("/v1/sites/{}/{end}", encode(&self.key.get_value()))
    }

    /// Saves `next` as the draft (JSON, or the TOML site file with
    /// `toml`); says `done` and that it waits to be published.
    pub(super) fn draft(self, next: String, toml: bool, done: String) {
        let Some(csrf) = self.auth.csrf() else { return };
        let path = self.path("draft");
        let kind = if toml {
            "application/toml"
        } else {
            "application/json"
        };
        self.run(
            done,
            Box::pin(async move {
                api::put::<SiteDraft>(&path, next, kind, &csrf)
                    .await
                    .map(|_| ())
            }),
        );
    }

    /// Saves `next` as the draft.
    pub(super) fn save(self, next: &SiteDocument, done: String) {
        let body = api::json(next).unwrap_or_default();
        self.draft(
            body,
            false,
            format!("{done} It goes live when you publish."),
        );
    }

    fn run(
        self,
        done: String,
        call: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>>>>,
    ) {
        self.busy.set(true);
        self.status.set(None);
        spawn_local(async move {
            match call.await {
                Ok(()) => {
                    self.status.set(Some((true, done)));
                    self.version.update(|v| *v += 1);
                }
                Err(ApiError::SignedOut(m)) => self.auth.expired(&m),
                Err(e) => self.status.set(Some((false, e.message().to_owned()))),
            }
            self.busy.set(false);
        });
    }

    /// Makes the draft live; `purge` confirms the events a lower retention deletes.
    fn publish(self, purge: Option<u64>) {
        let Some(csrf) = self.auth.csrf() else { return };
        let mut path = self.path("publish");
        if let Some(n) = purge {
            path.push_str(&format!("?confirm_purge={n}"));
        }
        self.run(
            "Published: visitors get it within a minute.".to_owned(),
            Box::pin(async move {
                api::post::<SiteApplied>(&path, &(), Some(&csrf))
                    .await
                    .map(|_| ())
            }),
        );
    }

    fn discard(self) {
        let Some(csrf) = self.auth.csrf() else { return };
        let path = self.path("draft");
        self.run(
            "The draft is discarded.".to_owned(),
            Box::pin(async move { api::delete(&path, &csrf).await }),
        );
    }
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
    let saver = Saver {
        auth,
        key: StoredValue::new(key.clone()),
        version: RwSignal::new(0),
        status: RwSignal::new(None),
        busy: RwSignal::new(false),
    };
    let version = saver.version;
    let data = RwSignal::new(Load::<Loaded>::Loading);
    let k = key.clone();
    Effect::new(move |_| {
        let v = version.get();
        let key = encode(&k);
        load_with(
            data,
            async move {
                let live: SiteDocument = api::get(&format!("/v1/sites/{key}/site")).await?;
                let draft = if can_edit {
                    let d: SiteDraft = api::get(&format!("/v1/sites/{key}/draft")).await?;
                    d.document.is_some().then_some(d)
                } else {
                    None
                };
                Ok(Loaded {
                    live,
                    draft,
                    version: v,
                })
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
            tested.set(words::stage_of(&l.doc().stage, &input.value()));
        }
    };
    let file = NodeRef::<Input>::new();
    let upload = move |_| {
        let Some(input) = file.get() else { return };
        let Some(chosen) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        saver.status.set(None);
        spawn_local(async move {
            match JsFuture::from(chosen.text()).await {
                Ok(t) => saver.draft(
                    t.as_string().unwrap_or_default(),
                    true,
                    "Saved the file as a draft: publish it to make it live.".to_owned(),
                ),
                Err(_) => saver
                    .status
                    .set(Some((false, "The file could not be read.".to_owned()))),
            }
        });
    };
    let download = format!("/v1/sites/{}/site.toml", encode(&key));
    let preview_key = key.clone();
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
                    let doc = l.doc();
                    let stages = doc.stage.iter().enumerate().map(|(i, s)| view! {
                        <li>
                            <strong>{s.label.clone()}</strong>
                            <span class="muted">{format!(" {}", s.id)}</span>
                            {can_edit.then(|| editors::stage_actions(&doc, i, saver))}
                            <span class="globs">{s.pages.join("  ")}</span>
                        </li>
                    }).collect_view();
                    view! {
                        {can_edit.then(|| publish_panel(l.draft.clone(), saver))}
                        {editors::site_form(doc.clone(), can_edit, saver)}
                        <section class="panel" aria-labelledby="stages-h">
                            <h2 id="stages-h">"Journey stages"</h2>
                            <p class="muted">"In journey order. A page belongs to the first stage whose pages match it: * within one path segment, ** across segments."</p>
                            <ol class="stage-list">{stages}</ol>
                            <form class="tester" on:submit=test>
                                <div class="field grow">
                                    <label for="url">"Which stage is this URL?"</label>
                                    <input id="url" type="text" placeholder="https://shop.example/product/42" node_ref=url />
                                </div>
                                <button type="submit">"Test"</button>
                            </form>
                            <p class="answer" role="status">{move || tested.get()}</p>
                            {can_edit.then(|| editors::stage_editor(doc.clone(), saver))}
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
                            {can_edit.then(|| touchpoints::editor(doc.clone(), preview_key.clone(), saver))}
                        </section>
                        {editors::alerts(doc, can_edit, saver)}
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
                            <label for="upload">"Upload a site file (TOML) as the draft"</label>
                            <input id="upload" type="file" accept=".toml,application/toml,text/plain" node_ref=file on:change=upload />
                        </div>
                    }
                    .into_any()
                } else {
                    view! {
                        <p class="muted">"You are a viewer of this site: an editor or an admin changes its setup."</p>
                    }
                    .into_any()
                }}
            </section>
            // What a save, a publish or a discard said last: one place,
            // always in view, wherever the form was.
            <div class="toast" role="status">
                {move || saver.status.get().map(|(ok, message)| view! {
                    <p class=if ok { "notice" } else { "error" }>{message}</p>
                })}
            </div>
        </main>
    }
}

/// The draft, if any: what publishing it would change, and the buttons to
/// publish or discard it.
fn publish_panel(draft: Option<SiteDraft>, saver: Saver) -> impl IntoView {
    let busy = saver.busy;
    let asked = move || {
        saver
            .status
            .get()
            .filter(|(ok, _)| !ok)
            .and_then(|(_, m)| words::purge_asked(&m))
    };
    view! {
        <section class="panel draft" aria-labelledby="draft-h">
            <h2 id="draft-h">"Publish"</h2>
            {match draft {
                None => view! {
                    <p class="muted">"Everything below is live. What you change is saved as a draft, and visitors see it once you publish."</p>
                }.into_any(),
                Some(d) => {
                    let lines = if d.changes.is_empty() {
                        vec!["The draft is the same as what is live.".to_owned()]
                    } else {
                        d.changes
                    };
                    view! {
                        <p>{format!(
                            "Not live yet: a draft saved by {} on {}.",
                            d.updated_by.unwrap_or_default(),
                            d.updated_at.as_deref().map(format::when).unwrap_or_default()
                        )}</p>
                        <ul class="changes">{lines.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                        <p class="actions">
                            <button type="button" class="primary" disabled=move || busy.get() on:click=move |_| saver.publish(None)>"Publish"</button>
                            <button type="button" class="ghost" disabled=move || busy.get() on:click=move |_| saver.discard()>"Discard the draft"</button>
                        </p>
                    }.into_any()
                }
            }}
            {move || asked().map(|n| view! {
                <p class="actions">
                    <button type="button" class="danger" disabled=move || busy.get() on:click=move |_| saver.publish(Some(n))>
                        {format!("Publish and delete {n} events")}
                    </button>
                </p>
            })}
        </section>
    }
}
