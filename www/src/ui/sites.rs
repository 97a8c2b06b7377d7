//! The sites a person may see, with their role on each, and the form that
//! creates a new one (the account becomes its admin).

use super::form::{Field, fields, submit};
use super::{Auth, AuthState, Link, Nav, title};
use crate::api::{self, ApiError};
use crate::route::Route;
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use touchpoint_wire::{SiteDocument, SiteRole, SiteSettings};

/// The browser's time zone (IANA), the new site's default.
fn browser_zone() -> String {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()
        .and_then(|z| z.as_string())
        .unwrap_or_else(|| "UTC".to_owned())
}

/// The sites list.
#[component]
pub fn Sites(
    /// The signed-in person's sites.
    sites: Vec<SiteRole>,
) -> impl IntoView {
    title(&["Sites"]);
    let empty = sites.is_empty();
    view! {
        <main id="main" class="page">
            <h1>"Your sites"</h1>
            {if empty {
                view! {
                    <div class="empty">
                        <p>"You have no sites yet: create one below, or ask an admin to add you to theirs."</p>
                    </div>
                }
                    .into_any()
            } else {
                view! {
                    <ul class="sites">
                        {sites
                            .into_iter()
                            .map(|s| {
                                let href = Route::Journey { key: s.key.clone() }.href();
                                view! {
                                    <li>
                                        <Link href=href class="card site">
                                            <span class="site-name">{s.name.clone()}</span>
                                            <span class="site-key">{s.key.clone()}</span>
                                            <span class="role">{role_name(&s.role)}</span>
                                        </Link>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
            {new_site()}
        </main>
    }
}

/// Creates a site (`POST /v1/sites`) and opens its setup.
fn new_site() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let nav = expect_context::<Nav>();
    let name = NodeRef::<Input>::new();
    let zone = NodeRef::<Input>::new();
    let origins = NodeRef::<Input>::new();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let create = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(csrf) = auth.csrf() else { return };
        let text = |r: NodeRef<Input>| r.get().map(|i| i.value()).unwrap_or_default();
        let list = super::setup::words(&text(origins));
        let body = SiteDocument {
            site: SiteSettings {
                name: text(name),
                key: None,
                origins: list,
                retention_days: 365,
                contact_days: 0,
                respect_gpc: true,
                timezone: text(zone),
                attributes: Vec::new(),
            },
            theme: None,
            stage: Vec::new(),
            touchpoint: Vec::new(),
            alert: Vec::new(),
            outcome: Vec::new(),
        };
        busy.set(true);
        spawn_local(async move {
            match api::post::<SiteRole>("/v1/sites", &body, Some(&csrf)).await {
                Ok(made) => {
                    let setup = Route::Setup {
                        key: made.key.clone(),
                    }
                    .href();
                    auth.0.update(|s| {
                        if let AuthState::SignedIn(session) = s {
                            session.sites.push(made);
                        }
                    });
                    nav.go(&setup);
                }
                Err(ApiError::SignedOut(m)) => auth.expired(&m),
                Err(e) => error.set(Some(e.message().to_owned())),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="panel" aria-labelledby="new-h">
            <h2 id="new-h">"Create a site"</h2>
            <p class="muted">"You become its admin. Next: paste its script tag into your pages and add a touchpoint."</p>
            <form class="editor" on:submit=create>
                <div class="grid">
                    {fields(vec![
                        Field::text("new-name", "Name of the new site", name).hint("My shop").required(),
                        Field::text("new-zone", "Time zone (IANA)", zone).value(browser_zone()).required(),
                        Field::text("new-origins", "Origins allowed to send answers, separated by spaces (empty: any)", origins).hint("https://shop.example").wide(),
                    ])}
                </div>
                {submit("Create the site", busy)}
                {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            </form>
        </section>
    }
}

/// A role as people say it.
pub fn role_name(role: &str) -> &'static str {
    match role {
        "admin" => "Admin",
        "editor" => "Editor",
        _ => "Viewer",
    }
}
