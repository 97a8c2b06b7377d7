//! The sites a person may see, with their role on each.

use super::{Link, title};
use crate::route::Route;
use leptos::prelude::*;
use touchpoint_wire::SiteRole;

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
                        <p>"You have no sites yet."</p>
                        <p>
                            "An admin adds you to one with "
                            <code>"touchpoint user add --email … --site KEY --role viewer"</code>
                            "."
                        </p>
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
        </main>
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
