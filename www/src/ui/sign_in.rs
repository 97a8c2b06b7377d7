//! The sign-in form: an e-mail and a password (`touchpoint user add`),
//! checked by `POST /v1/session`, which sets the session cookie.

use super::{Auth, AuthState, title};
use crate::api;
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;
use touchpoint_wire::{Credentials, Session};

/// The sign-in screen.
#[component]
pub fn SignIn(
    /// Why the person is here (the session ended, they signed out).
    notice: Option<String>,
) -> impl IntoView {
    title(&["Sign in"]);
    let auth = expect_context::<Auth>();
    let email = NodeRef::<Input>::new();
    let password = NodeRef::<Input>::new();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (Some(e), Some(p)) = (email.get(), password.get()) else {
            return;
        };
        let credentials = Credentials {
            email: e.value(),
            password: p.value(),
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::post::<Session>("/v1/session", &credentials, None).await {
                Ok(session) => auth.0.set(AuthState::SignedIn(session)),
                Err(e) => {
                    error.set(Some(e.message().to_owned()));
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <main id="main" class="center">
            <form class="card signin" on:submit=submit>
                <h1>"Sign in to Touchpoint"</h1>
                {notice.map(|n| view! { <p class="notice">{n}</p> })}
                <label for="email">"Email"</label>
                <input
                    id="email"
                    name="email"
                    type="email"
                    autocomplete="username"
                    required
                    node_ref=email
                />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    node_ref=password
                />
                <p class="error" role="alert">
                    {move || error.get()}
                </p>
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}
