//! The setup's forms for the site itself, its journey stages and its
//! alerts. Each edits a copy of the document the screen loaded (the draft,
//! or what is live) and saves the whole of it as the draft; the server
//! checks it as `touchpoint apply` does and names the field at fault.

use super::super::form::{Action, Area, Field, actions, area_value, areas, choice, fields, submit};
use super::Saver;
use leptos::ev::SubmitEvent;
use leptos::html::{Input, Textarea};
use leptos::prelude::*;
use std::rc::Rc;
use touchpoint_wire::{
    AlertDestination, AlertFormat, AlertOn, Corner, FontChoice, Outcome, SiteDocument, Stage, Theme,
};

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

/// The site's name, the origins allowed to send answers, its time zone,
/// the rules across its touchpoints (retention, contact budget, privacy
/// signals, segments), the prompt's look and the outcomes it tracks.
pub(super) fn site_form(doc: SiteDocument, can_edit: bool, saver: Saver) -> impl IntoView {
    let [name, zone, origins, attributes, retention, contact, brand] =
        [(); 7].map(|()| NodeRef::<Input>::new());
    let outcomes = NodeRef::<Textarea>::new();
    let theme = doc.theme.clone().unwrap_or_default();
    let gpc = RwSignal::new(if doc.site.respect_gpc { "yes" } else { "no" }.to_owned());
    let left = theme.corner == Some(Corner::Left);
    let corner = RwSignal::new(if left { "left" } else { "right" }.to_owned());
    let inherit = theme.font == Some(FontChoice::Inherit);
    let font = RwSignal::new(if inherit { "inherit" } else { "system" }.to_owned());
    let outcome_lines: String = doc
        .outcome
        .iter()
        .map(|o| format!("{}: {}\n", o.id, o.label.as_deref().unwrap_or("")))
        .collect();
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
        next.site.attributes = words(&value(attributes));
        next.site.retention_days = value(retention).parse().unwrap_or(365);
        next.site.contact_days = value(contact).parse().unwrap_or(0);
        next.site.respect_gpc = gpc.get_untracked() == "yes";
        // A default written out stays written out; one never written
        // stays unwritten, so that saving changes nothing by itself.
        let old = next.theme.take().unwrap_or_default();
        let brand = value(brand);
        let theme = Theme {
            brand: (!brand.is_empty()).then_some(brand),
            corner: if corner.get_untracked() == "left" {
                Some(Corner::Left)
            } else {
                old.corner.filter(|c| *c == Corner::Right)
            },
            font: if font.get_untracked() == "inherit" {
                Some(FontChoice::Inherit)
            } else {
                old.font.filter(|f| *f == FontChoice::System)
            },
        };
        next.theme = (theme != Theme::default()).then_some(theme);
        next.outcome = area_value(outcomes)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (id, label) = l.split_once(':').unwrap_or((l, ""));
                Outcome {
                    id: id.trim().to_owned(),
                    label: Some(label.trim().to_owned()).filter(|l| !l.is_empty()),
                }
            })
            .collect();
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
                            Field::text("site-retention", "Keep answers for (days)", retention).kind("number").value(site.retention_days.to_string()).required(),
                            Field::text("site-contact", "One prompt per visitor every (days; 0: per touchpoint)", contact).kind("number").value(site.contact_days.to_string()),
                            Field::text("site-attributes", "Segments: visitor attributes (names)", attributes).value(site.attributes.join(" ")).hint("plan country"),
                            Field::text("site-brand", "Brand colour (#rrggbb)", brand).value(theme.brand.clone().unwrap_or_default()).hint("#1f6feb"),
                        ])}
                        {choice("site-corner", "Prompt's corner", &[("right", "Bottom right"), ("left", "Bottom left")], corner)}
                        {choice("site-font", "Prompt's font", &[("system", "The system's"), ("inherit", "The page's")], font)}
                        {choice("site-gpc", "Browsers asking not to be tracked", &[("yes", "Are left alone"), ("no", "Are asked too")], gpc)}
                        {areas(vec![Area {
                            id: "site-outcomes",
                            label: "Outcomes the page tracks, one a line: id: label",
                            hint: "purchase: Order placed",
                            value: outcome_lines,
                            input: outcomes,
                        }])}
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
    let [url, secret, digest, only, cap] = [(); 5].map(|()| NodeRef::<Input>::new());
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
                touchpoints: words(&value(only)),
                digest_minutes: value(digest).parse().unwrap_or(0),
                secret: (!secret.is_empty()).then_some(secret),
                max_per_hour: value(cap).parse().ok().filter(|n| *n > 0),
            };
            let mut next = doc.clone();
            let said = match next.alert.iter_mut().find(|a| a.url == alert.url) {
                Some(old) => {
                    // An empty secret keeps the one the alert has (shown
                    // masked, which the server reads as "unchanged").
                    let kept = old.secret.take();
                    *old = AlertDestination {
                        secret: alert.secret.or(kept),
                        ..alert
                    };
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
            let only = match a.touchpoints.as_slice() {
                [] => String::new(),
                t => format!(" for {}", t.join(", ")),
            };
            let cap = a
                .max_per_hour
                .map(|n| format!(", at most {n} an hour"))
                .unwrap_or_default();
            format!("{}: {}{only}; {pace}{cap}.", a.url, what.join(", "))
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
                            Field::text("al-secret", "Signing secret (optional; empty keeps the alert's)", secret),
                            Field::text("al-only", "Only for touchpoints (ids; empty: all)", only).hint("checkout-ces"),
                            Field::text("al-cap", "At most (messages an hour; empty: no cap)", cap).kind("number"),
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
