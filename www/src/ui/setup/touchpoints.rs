//! The touchpoint editor and its live preview: the real widget (the same
//! module the loader imports on a site) shows the touchpoint as the form
//! describes it, in the page, as visitors will see it. Answers in the
//! preview are not sent: the panel says what would be.

use super::super::form::{Action, Field, actions, choice, fields, submit};
use super::Saver;
use super::editors::{value, words};
use crate::api;
use crate::route::encode;
use js_sys::{Function, Reflect};
use leptos::ev::SubmitEvent;
use leptos::html::{Div, Input};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;
use std::rc::Rc;
use touchpoint_wire::{Look, Metric, Position, SiteDocument, Touchpoint, Trigger, TriggerOn};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The question types, as the editor offers them.
const METRICS: &[(&str, &str)] = &[
    ("csat", "CSAT (1–5)"),
    ("nps", "NPS (0–10)"),
    ("ces", "Effort (1–7)"),
    ("thumbs", "Thumbs"),
    ("emoji", "Mood (five faces)"),
    ("text", "Comment"),
];

/// When a prompt appears, as the editor offers it.
const WHEN: &[(&str, &str)] = &[
    ("load", "When the page has loaded"),
    ("scroll", "Halfway down the page"),
    ("exit", "When leaving (desktop)"),
    ("tab", "From a feedback tab"),
    ("manual", "Only from the page's code"),
];

/// The id the preview's place and touchpoint go by.
const PREVIEW: &str = "touchpoint-preview";

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

/// What the widget would send for a preview answer, in words.
fn would_send(event: &JsValue) -> Option<String> {
    if get(event, "kind").as_string()? != "response" {
        return None;
    }
    let mut out = "A visitor's answer would be sent".to_owned();
    if let Some(score) = get(event, "score").as_f64() {
        out.push_str(&format!(": score {score}"));
    }
    if let Some(comment) = get(event, "comment").as_string() {
        out.push_str(&format!(", comment “{comment}”"));
    }
    if let Ok(c) = get(event, "choices").dyn_into::<js_sys::Array>() {
        let c: Vec<String> = c.iter().filter_map(|v| v.as_string()).collect();
        out.push_str(&format!(", choices {}", c.join(", ")));
    }
    out.push_str(". (Nothing is sent from the preview.)");
    Some(out)
}

/// Shows `tp` in `place` with the widget the site's configuration names
/// (`/v1/sites/{key}/config`), its theme included, through the boot
/// module's `touchpointPreview`; `said` gets what it would send. Each call
/// starts the widget again with the new touchpoint.
fn preview(key: &str, tp: &Touchpoint, place: &web_sys::HtmlElement, said: RwSignal<String>) {
    let mut tp = tp.clone();
    tp.id = PREVIEW.to_owned();
    let tp = api::js(&tp).unwrap_or_default();
    let path = format!("/v1/sites/{}/config", encode(key));
    let place = place.clone();
    spawn_local(async move {
        let started = match api::get_js(&path).await {
            Ok(config) => {
                let start = web_sys::window()
                    .map(|w| get(&w, "touchpointPreview"))
                    .and_then(|f| f.dyn_into::<Function>().ok());
                let send = Closure::<dyn Fn(JsValue)>::new(move |e: JsValue| {
                    if let Some(s) = would_send(&e) {
                        said.set(s);
                    }
                });
                place.set_inner_html("");
                said.set(String::new());
                match start {
                    Some(start) => start
                        .call3(&JsValue::NULL, &config, &tp, &send.into_js_value())
                        .map(|p| JsFuture::from(js_sys::Promise::from(p))),
                    None => Err(JsValue::NULL),
                }
            }
            Err(e) => return said.set(format!("The preview could not start: {}", e.message())),
        };
        let ok = match started {
            Ok(p) => p.await.is_ok(),
            Err(_) => false,
        };
        if !ok {
            said.set("The preview could not start: this server has no widget built in.".to_owned());
        }
    });
}

/// Adds a touchpoint (or replaces the one with the same id) or removes
/// one, saving the whole configuration as the draft; the preview beside
/// the form follows every keystroke.
pub(super) fn editor(doc: SiteDocument, key: String, saver: Saver) -> impl IntoView {
    let id = NodeRef::<Input>::new();
    let question = NodeRef::<Input>::new();
    let pages = NodeRef::<Input>::new();
    let sample = NodeRef::<Input>::new();
    let place = NodeRef::<Div>::new();
    let metric = RwSignal::new("csat".to_owned());
    let when = RwSignal::new("load".to_owned());
    let said = RwSignal::new(String::new());
    let build = move || {
        let share: f64 = value(sample).parse().unwrap_or(100.0);
        let on = TriggerOn::parse(&when.get_untracked()).unwrap_or(TriggerOn::Load);
        let q = value(question);
        Touchpoint {
            id: value(id),
            metric: Metric::parse(&metric.get_untracked()).unwrap_or(Metric::Csat),
            question: BTreeMap::from([(
                "en".to_owned(),
                if q.is_empty() {
                    "Your question".to_owned()
                } else {
                    q
                },
            )]),
            trigger: Trigger {
                on,
                percent: (on == TriggerOn::Scroll).then_some(50),
                ..Trigger::default()
            },
            pages: words(&value(pages)),
            stages: Vec::new(),
            sample: (share / 100.0).clamp(0.0, 1.0),
            recontact_days: 30,
            follow_up: None,
            options: Vec::new(),
            multiple: false,
            scale: Look::default(),
            position: Position::default(),
            audience: BTreeMap::new(),
        }
    };
    let show = move || {
        if let Some(p) = place.get_untracked() {
            preview(&key, &build(), &p, said);
        }
    };
    let shown = show.clone();
    Effect::new(move |_| {
        if place.get().is_some() {
            shown();
        }
    });
    let add = {
        let doc = doc.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let tp = build();
            let new_id = tp.id.clone();
            let mut next = doc.clone();
            let said = match next.touchpoint.iter_mut().find(|t| t.id == tp.id) {
                Some(old) => {
                    *old = tp;
                    format!("Saved: {new_id} changed.")
                }
                None => {
                    next.touchpoint.push(tp);
                    format!("Saved: {new_id} added.")
                }
            };
            saver.save(&next, said);
        }
    };
    let typed = show.clone();
    let removals = doc
        .touchpoint
        .iter()
        .map(|t| {
            let id = t.id.clone();
            let doc = doc.clone();
            Action {
                label: format!("Remove {id}"),
                text: "",
                off: false,
                run: Rc::new(move || {
                    let mut next = doc.clone();
                    next.touchpoint.retain(|t| t.id != id);
                    saver.save(&next, format!("Saved: {id} removed."));
                }),
            }
        })
        .collect();
    view! {
        <div class="tp-edit">
            <form class="editor" on:submit=add on:input=move |_| typed() on:change=move |ev| {
                // A select's choice; a text field's `change` (on leaving
                // it) follows the `input` already shown, and would start
                // the preview again under the click that left it.
                if ev.target().is_some_and(|t| t.has_type::<web_sys::HtmlSelectElement>()) {
                    show()
                }
            }>
                <h3>"Add or change a touchpoint"</h3>
                <div class="grid">
                    {fields(vec![
                        Field::text("tp-id", "Touchpoint id", id).hint("pricing-csat").required(),
                        Field::text("tp-question", "Question (English)", question).hint("How satisfied are you with our prices?").required().wide(),
                        Field::text("tp-pages", "Pages (globs; empty: every page)", pages).hint("/pricing /product/*"),
                        Field::text("tp-sample", "Visitors asked (%)", sample).kind("number").value("100".to_owned()),
                    ])}
                    {choice("tp-metric", "Question type", METRICS, metric)}
                    {choice("tp-when", "When", WHEN, when)}
                </div>
                {submit("Save the touchpoint", saver.busy)}
            </form>
            <figure class="preview">
                <figcaption>"Preview: the widget as visitors see it"</figcaption>
                <div data-touchpoint=PREVIEW node_ref=place></div>
                <p class="muted" role="status">{move || said.get()}</p>
            </figure>
        </div>
        {actions(removals, saver.busy)}
    }
}
