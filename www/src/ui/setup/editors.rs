//! The setup's forms for the site itself, its journey stages and its
//! alerts. Each edits a copy of the document the screen loaded (the draft,
//! or what is live) and saves the whole of it as the draft; the server
//! checks it as `touchpoint apply` does and names the field at fault.

use super::super::form::{Action, Field, actions, choice, fields, submit};
use super::Saver;
use leptos::ev::SubmitEvent;
use leptos::html::Input;
use leptos::prelude::*;
use std::rc::Rc;
use touchpoint_wire::{AlertDestination, AlertFormat, AlertOn, SiteDocument, Stage};

/// An input's trimmed value.
pub(crate) fn value(r: NodeRef<Input>) -> String {
    r.get()
        .map(|i| i.value().trim().to_owned())
        .unwrap_or_default()
}

/// Words of a list field, split at spaces, commas and new lines.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split([' ', ',', '\n'])
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The site's name, the origins allowed to send answers, and its time zone.
pub(super) fn site_form(doc: SiteDocument, can_edit: bool, saver: Saver) -> impl IntoView {
    let name = NodeRef::<Input>::new();
    let zone = NodeRef::<Input>::new();
    let origins = NodeRef::<Input>::new();
    let site = doc.site.clone();
    let listed = if site.origins.is_empty() {
        "any (no origin listed)".to_owned()
    } else {
        site.origins.join("  ")
    };
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut next = doc.clone();
        next.site.name = value(name);
        next.site.timezone = value(zone);
        next.site.origins = words(&value(origins));
        saver.save(&next, "Saved: the site's settings.".to_owned());
    };
    view! {
        <section class="panel" aria-labelledby="site-h">
            <h2 id="site-h">"Site"</h2>
            <p>"Answers are taken from pages at " <span class="globs">{listed}</span> "; days are counted in " {site.timezone.clone()} "."</p>
            {can_edit.then(|| view! {
                <form class="editor" on:submit=save>
                    <div class="grid">
                        {fields(vec![
                            Field::text("site-name", "Site name", name).value(site.name.clone()).required(),
                            Field::text("site-zone", "Time zone (IANA, e.g. Europe/Berlin)", zone).value(site.timezone.clone()).required(),
                            Field::text("site-origins", "Origins allowed to send answers, separated by spaces (empty: any)", origins)
                                .value(site.origins.join(" ")).hint("https://shop.example").wide(),
                        ])}
                    </div>
                    {submit("Save the site's settings", saver.busy)}
                </form>
            })}
        </section>
    }
}

/// An action that changes the document with `change` and saves it as the
/// draft, saying `said`.
fn act(
    saver: Saver,
    doc: &SiteDocument,
    (label, text): (String, &'static str),
    off: bool,
    said: String,
    change: impl Fn(&mut SiteDocument) + 'static,
) -> Action {
    let doc = doc.clone();
    Action {
        label,
        text,
        off,
        run: Rc::new(move || {
            let mut next = doc.clone();
            change(&mut next);
            saver.save(&next, said.clone());
        }),
    }
}

/// Adds or changes a stage (by its id), removes one or moves it in the
/// journey's order.
pub(super) fn stage_editor(doc: SiteDocument, saver: Saver) -> impl IntoView {
    let id = NodeRef::<Input>::new();
    let label = NodeRef::<Input>::new();
    let pages = NodeRef::<Input>::new();
    let add = {
        let doc = doc.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let stage = Stage {
                id: value(id),
                label: value(label),
                pages: words(&value(pages)),
            };
            let mut next = doc.clone();
            let said = match next.stage.iter_mut().find(|s| s.id == stage.id) {
                Some(old) => {
                    *old = stage.clone();
                    format!("Saved: stage {} changed.", stage.id)
                }
                None => {
                    next.stage.push(stage.clone());
                    format!("Saved: stage {} added.", stage.id)
                }
            };
            saver.save(&next, said);
        }
    };
    view! {
        <form class="editor" on:submit=add>
            <h3>"Add or change a stage"</h3>
            <div class="grid">
                {fields(vec![
                    Field::text("st-id", "Stage id", id).hint("checkout").required(),
                    Field::text("st-label", "Stage label", label).hint("Checkout").required(),
                    Field::text("st-pages", "Stage pages (globs)", pages).hint("/cart /checkout/**"),
                ])}
            </div>
            {submit("Save the stage", saver.busy)}
        </form>
    }
}

/// The `i`th stage's buttons: earlier, later, remove.
pub(super) fn stage_actions(doc: &SiteDocument, i: usize, saver: Saver) -> impl IntoView + use<> {
    let n = doc.stage.len();
    let sid = doc.stage[i].id.clone();
    let gone = sid.clone();
    actions(
        vec![
            act(
                saver,
                doc,
                (format!("Move {sid} earlier"), "↑"),
                i == 0,
                format!("Saved: {sid} moved earlier."),
                move |d| d.stage.swap(i, i.saturating_sub(1)),
            ),
            act(
                saver,
                doc,
                (format!("Move {sid} later"), "↓"),
                i + 1 == n,
                format!("Saved: {sid} moved later."),
                move |d| d.stage.swap(i, (i + 1).min(n - 1)),
            ),
            act(
                saver,
                doc,
                (format!("Remove {sid}"), "×"),
                false,
                format!("Saved: stage {sid} removed."),
                move |d| d.stage.retain(|x| x.id != gone),
            ),
        ],
        saver.busy,
    )
}

/// What an alert is sent for, as people say it.
fn on_name(on: AlertOn) -> &'static str {
    match on {
        AlertOn::Detractor => "NPS detractors (0–6)",
        AlertOn::LowScore => "Low scores",
        AlertOn::Frustration => "Frustrated comments",
        AlertOn::Signal => "Rage clicks, dead clicks, errors",
    }
}

/// The alerts: where alert-worthy answers are posted; editors add or
/// change one (by its URL) or remove one.
pub(super) fn alerts(doc: SiteDocument, can_edit: bool, saver: Saver) -> impl IntoView {
    let url = NodeRef::<Input>::new();
    let secret = NodeRef::<Input>::new();
    let digest = NodeRef::<Input>::new();
    let format = RwSignal::new("json".to_owned());
    // Which of `AlertOn::ALL` are ticked, a bit each (detractors at first).
    let on = RwSignal::new(1u8);
    let add = {
        let doc = doc.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let secret = value(secret);
            let alert = AlertDestination {
                url: value(url),
                format: if format.get_untracked() == "slack" {
                    AlertFormat::Slack
                } else {
                    AlertFormat::Json
                },
                on: AlertOn::ALL
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| on.get_untracked() & (1 << i) != 0)
                    .map(|(_, o)| *o)
                    .collect(),
                touchpoints: Vec::new(),
                digest_minutes: value(digest).parse().unwrap_or(0),
                secret: (!secret.is_empty()).then_some(secret),
                max_per_hour: None,
            };
            let mut next = doc.clone();
            let said = match next.alert.iter_mut().find(|a| a.url == alert.url) {
                Some(old) => {
                    *old = alert;
                    "Saved: the alert changed."
                }
                None => {
                    next.alert.push(alert);
                    "Saved: alert added."
                }
            };
            saver.save(&next, said.to_owned());
        }
    };
    let lines: Vec<String> = doc
        .alert
        .iter()
        .map(|a| {
            let what: Vec<&str> = a.on.iter().map(|o| on_name(*o)).collect();
            let pace = match a.digest_minutes {
                0 => "each at once".to_owned(),
                m => format!("a digest every {m} minutes"),
            };
            format!("{}: {}; {pace}.", a.url, what.join(", "))
        })
        .collect();
    let removals: Vec<Action> = doc
        .alert
        .iter()
        .map(|a| {
            let u = a.url.clone();
            act(
                saver,
                &doc,
                (format!("Remove the alert to {u}"), "Remove"),
                false,
                "Saved: alert removed.".to_owned(),
                move |d| d.alert.retain(|x| x.url != u),
            )
        })
        .collect();
    let none = lines.is_empty();
    view! {
        <section class="panel" aria-labelledby="alerts-h">
            <h2 id="alerts-h">"Alerts"</h2>
            {none.then(|| view! { <p class="muted">"No alerts: nobody is told when a detractor answers."</p> })}
            <ul class="alerts">
                {lines.into_iter().zip(removals).map(|(l, a)| view! {
                    <li>{l}{can_edit.then(|| actions(vec![a], saver.busy))}</li>
                }).collect_view()}
            </ul>
            {can_edit.then(|| view! {
                <form class="editor" on:submit=add>
                    <h3>"Add or change an alert"</h3>
                    <div class="grid">
                        {fields(vec![
                            Field::text("al-url", "Post to (URL; the same URL changes that alert)", url).kind("url").hint("https://hooks.slack.com/services/…").required().wide(),
                            Field::text("al-digest", "Digest every (minutes; 0: each at once)", digest).kind("number").value("0".to_owned()),
                            Field::text("al-secret", "Signing secret (optional)", secret),
                        ])}
                        {choice("al-format", "Message", &[("json", "Touchpoint JSON"), ("slack", "Slack")], format)}
                        <fieldset class="field wide">
                            <legend>"Send for"</legend>
                            {AlertOn::ALL.iter().enumerate().map(|(i, &o)| view! {
                                <label class="check">
                                    <input type="checkbox" checked={i == 0} on:change=move |_| on.update(|b| *b ^= 1 << i) />
                                    {on_name(o)}
                                </label>
                            }).collect_view()}
                        </fieldset>
                    </div>
                    {submit("Save the alert", saver.busy)}
                </form>
            })}
        </section>
    }
}
