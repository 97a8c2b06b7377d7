//! The screens. [`App`] holds who is signed in and which screen is shown
//! (the address bar is the source of truth: [`Nav`] pushes history entries
//! and follows the back button); each screen loads what it shows from the
//! API into a [`Load`] and draws its loading, empty and error states.

mod comments;
mod form;
mod frustration;
mod insights;
mod journey;
mod pages;
mod setup;
mod sign_in;
mod sites;
mod touchpoint;

use crate::api::{self, ApiError};
use crate::route::Route;
use leptos::ev::MouseEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use touchpoint_wire::Session;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// Who is using the dashboard.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthState {
    /// Asking the server whether a session cookie is still good.
    Checking,
    /// Signed out, with why when there is something to say.
    SignedOut(Option<String>),
    SignedIn(Session),
    /// The server could not be asked.
    Unreachable(String),
}

/// The signed-in state, shared by every screen.
#[derive(Clone, Copy)]
pub struct Auth(pub RwSignal<AuthState>);

impl Auth {
    /// The CSRF token writes must carry.
    pub fn csrf(&self) -> Option<String> {
        match self.0.get_untracked() {
            AuthState::SignedIn(s) => Some(s.csrf),
            _ => None,
        }
    }

    /// The session ended under a screen (a 401): back to the sign-in form.
    pub fn expired(&self, message: &str) {
        self.0.set(AuthState::SignedOut(Some(format!(
            "{message} Sign in to go on where you were."
        ))));
    }
}

/// Which screen is shown; follows the address bar.
#[derive(Clone, Copy)]
pub struct Nav {
    pub route: RwSignal<Route>,
}

impl Nav {
    /// Shows `href` (a path under `/app`) and records it in the history.
    pub fn go(&self, href: &str) {
        if let Some(window) = web_sys::window() {
            if let Ok(history) = window.history() {
                let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href));
            }
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
        self.route.set(Route::parse(href));
    }
}

/// What a screen has loaded.
#[derive(Clone, Debug, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(String),
}

/// Runs `fetch` and puts its result in `into`, unless `keep` says a newer
/// request has made it stale; a 401 signs the person out.
pub fn load_with<T, F>(into: RwSignal<Load<T>>, fetch: F, keep: impl Fn(&T) -> bool + 'static)
where
    T: Send + Sync + 'static,
    F: std::future::Future<Output = Result<T, ApiError>> + 'static,
{
    let auth = expect_context::<Auth>();
    spawn_local(async move {
        match fetch.await {
            Ok(v) if keep(&v) => into.set(Load::Ready(v)),
            Ok(_) => {}
            Err(ApiError::SignedOut(m)) => auth.expired(&m),
            Err(e) => into.set(Load::Failed(e.message().to_owned())),
        }
    });
}

/// Today in the browser's calendar.
pub fn today() -> crate::format::Day {
    let now = js_sys::Date::new_0();
    crate::format::Day {
        year: i32::try_from(now.get_full_year()).unwrap_or(1970),
        month: now.get_month() + 1,
        day: now.get_date(),
    }
}

/// Sets the tab's title: "Journey · Shop · Touchpoint".
pub fn title(parts: &[&str]) {
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        let mut all: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
        all.push("Touchpoint");
        doc.set_title(&all.join(" · "));
    }
}

/// The current path of the address bar.
fn current_path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/app".to_owned())
}

/// A link inside the dashboard: a plain click shows the screen without
/// reloading the page; a click with a modifier opens it as the browser would.
#[component]
pub fn Link(
    /// Where it leads, a path under `/app`.
    href: String,
    /// CSS classes.
    #[prop(optional, into)]
    class: String,
    /// `aria-current="page"` when it is the screen shown.
    #[prop(optional)]
    current: bool,
    children: Children,
) -> impl IntoView {
    let nav = expect_context::<Nav>();
    let target = href.clone();
    let click = move |ev: MouseEvent| {
        if ev.button() == 0 && !ev.ctrl_key() && !ev.meta_key() && !ev.shift_key() && !ev.alt_key()
        {
            ev.prevent_default();
            nav.go(&target);
        }
    };
    view! {
        <a href=href class=class aria-current=current.then_some("page") on:click=click>
            {children()}
        </a>
    }
}

/// The whole dashboard.
#[component]
pub fn App() -> impl IntoView {
    let auth = Auth(RwSignal::new(AuthState::Checking));
    let nav = Nav {
        route: RwSignal::new(Route::parse(&current_path())),
    };
    provide_context(auth);
    provide_context(nav);
    // The back and forward buttons.
    if let Some(window) = web_sys::window() {
        let back = Closure::<dyn Fn()>::new(move || {
            let route = Route::parse(&current_path());
            if nav.route.get_untracked() != route {
                nav.route.set(route);
            }
        });
        let _ = window.add_event_listener_with_callback("popstate", back.as_ref().unchecked_ref());
        back.forget();
    }
    spawn_local(async move {
        auth.0.set(match api::get::<Session>("/v1/session").await {
            Ok(s) => AuthState::SignedIn(s),
            Err(ApiError::SignedOut(_)) => AuthState::SignedOut(None),
            Err(e) => AuthState::Unreachable(e.message().to_owned()),
        });
    });
    move || match auth.0.get() {
        AuthState::Checking => view! {
            <main id="main" class="center">
                <p class="status" role="status">"Loading…"</p>
            </main>
        }
        .into_any(),
        AuthState::SignedOut(notice) => view! { <sign_in::SignIn notice=notice /> }.into_any(),
        AuthState::Unreachable(message) => view! {
            <main id="main" class="center">
                <div class="card">
                    <h1>"The dashboard cannot reach its server"</h1>
                    <p>{message}</p>
                    <p>"Reload the page to try again."</p>
                </div>
            </main>
        }
        .into_any(),
        AuthState::SignedIn(session) => view! { <Shell session=session /> }.into_any(),
    }
}

/// The frame of every signed-in screen: the bar on top and the screen.
#[component]
fn Shell(
    /// Who is signed in and their sites.
    session: Session,
) -> impl IntoView {
    let nav = expect_context::<Nav>();
    let auth = expect_context::<Auth>();
    let signing_out = RwSignal::new(false);
    let sign_out = move |_| {
        let Some(csrf) = auth.csrf() else { return };
        signing_out.set(true);
        spawn_local(async move {
            // Signed out locally even if the server is away: the cookie
            // then lapses on its own.
            let _ = api::delete("/v1/session", &csrf).await;
            auth.0
                .set(AuthState::SignedOut(Some("You have signed out.".into())));
        });
    };
    let sites = session.sites.clone();
    let site_name = move |key: &str| {
        sites
            .iter()
            .find(|s| s.key == key)
            .map_or_else(|| key.to_owned(), |s| s.name.clone())
    };
    let sites = session.sites.clone();
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <Link href="/app".to_owned() class="brand">
                "Touchpoint"
            </Link>
            {
                let site_name = site_name.clone();
                move || {
                    nav.route
                        .get()
                        .site()
                        .map(|key| {
                            let journey = Route::Journey { key: key.to_owned() };
                            let comments = Route::Comments { key: key.to_owned() };
                            let pages = Route::Pages { key: key.to_owned() };
                            let insights = Route::Insights { key: key.to_owned() };
                            let setup = Route::Setup { key: key.to_owned() };
                            let frustration = Route::Frustration { key: key.to_owned() };
                            view! {
                                <nav class="sitenav" aria-label="Site">
                                    <span class="sitename">{site_name(key)}</span>
                                    <Link
                                        href=journey.href()
                                        current=nav.route.get() == journey
                                    >
                                        "Journey"
                                    </Link>
                                    <Link href=pages.href() current=nav.route.get() == pages>
                                        "Pages"
                                    </Link>
                                    <Link href=insights.href() current=nav.route.get() == insights>
                                        "Priorities"
                                    </Link>
                                    <Link
                                        href=comments.href()
                                        current=nav.route.get() == comments
                                    >
                                        "Comments"
                                    </Link>
                                    <Link
                                        href=frustration.href()
                                        current=nav.route.get() == frustration
                                    >
                                        "Frustration"
                                    </Link>
                                    <Link href=setup.href() current=nav.route.get() == setup>
                                        "Setup"
                                    </Link>
                                </nav>
                            }
                        })
                }
            }
            <span class="who">{session.email.clone()}</span>
            <button class="ghost" on:click=sign_out disabled=move || signing_out.get()>
                "Sign out"
            </button>
        </header>
        {move || match nav.route.get() {
            Route::Sites => view! { <sites::Sites sites=sites.clone() /> }.into_any(),
            Route::Journey { key } => {
                let role = sites.iter().find(|s| s.key == key).map(|s| s.role.clone());
                let name = site_name(&key);
                match role {
                    Some(_) => view! { <journey::Journey key=key name=name /> }.into_any(),
                    None => no_access().into_any(),
                }
            }
            Route::Pages { key } => {
                if sites.iter().any(|s| s.key == key) {
                    let name = site_name(&key);
                    view! { <pages::Pages key=key site_name=name /> }.into_any()
                } else {
                    no_access().into_any()
                }
            }
            Route::Insights { key } => {
                if sites.iter().any(|s| s.key == key) {
                    let name = site_name(&key);
                    view! { <insights::Insights key=key site_name=name /> }.into_any()
                } else {
                    no_access().into_any()
                }
            }
            Route::Frustration { key } => {
                if sites.iter().any(|s| s.key == key) {
                    let name = site_name(&key);
                    view! { <frustration::Frustration key=key site_name=name /> }.into_any()
                } else {
                    no_access().into_any()
                }
            }
            Route::Setup { key } => {
                match sites.iter().find(|s| s.key == key).map(|s| s.role.clone()) {
                    Some(role) => {
                        let name = site_name(&key);
                        view! { <setup::Setup key=key site_name=name role=role /> }.into_any()
                    }
                    None => no_access().into_any(),
                }
            }
            Route::Comments { key } => {
                if sites.iter().any(|s| s.key == key) {
                    let name = site_name(&key);
                    view! { <comments::Comments key=key site_name=name /> }.into_any()
                } else {
                    no_access().into_any()
                }
            }
            Route::Touchpoint { key, id } => {
                if sites.iter().any(|s| s.key == key) {
                    let name = site_name(&key);
                    view! { <touchpoint::Touchpoint key=key site_name=name id=id /> }.into_any()
                } else {
                    no_access().into_any()
                }
            }
            Route::NotFound => view! {
                <main id="main" class="page">
                    <h1>"No such page"</h1>
                    <p>
                        <Link href="/app".to_owned()>"Back to your sites"</Link>
                    </p>
                </main>
            }
            .into_any(),
        }}
    }
}

fn no_access() -> impl IntoView {
    title(&["No access"]);
    view! {
        <main id="main" class="page">
            <h1>"You cannot see this site"</h1>
            <p>
                "Your account has no role on it. An admin can add you with "
                <code>"touchpoint user add"</code> "."
            </p>
            <p>
                <Link href="/app".to_owned()>"Back to your sites"</Link>
            </p>
        </main>
    }
}
