//! The touchpoint editor and its live preview: the real widget (the same
//! module the loader imports on a site) shows the touchpoint as the form
//! describes it, in the page, as visitors will see it. Answers in the
//! preview are not sent: the panel says what would be.

use super::super::form::{Action, Area, Field, actions, area_value, areas, choice, fields, submit};
use super::Saver;
use super::editors::{value, words};
use crate::api;
use crate::route::encode;
use js_sys::{Function, Reflect};
use leptos::ev::SubmitEvent;
use leptos::html::{Div, Input, Textarea};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;
use std::rc::Rc;
use touchpoint_wire::{
    ChoiceOption, FollowUp, Look, Metric, Position, SiteDocument, Touchpoint, Trigger, TriggerOn,
};
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
    ("choice", "Choice (options below)"),
];

/// When a prompt appears, as the editor offers it.
const WHEN: &[(&str, &str)] = &[
    ("load", "When the page has loaded"),
    ("time", "After time on the page (delay)"),
    ("scroll", "Scrolled down the page (%)"),
    ("exit", "When leaving (desktop)"),
    ("click", "On a click (CSS selector)"),
    ("event", "When the page tracks an event"),
    ("signal", "When stuck: rage_click, dead_click or error"),
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

/// `key: text` lines of a text area, trimmed; a line without a colon is
/// its own key and text.
fn pairs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap_or((l, l));
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

/// Choice options, a line each: `id: English label | de: Etikett | …`.
fn options_of(text: &str) -> Vec<ChoiceOption> {
    pairs(text)
        .into_iter()
        .map(|(id, rest)| {
            let mut parts = rest.split('|');
            let mut label = BTreeMap::from([(
                "en".to_owned(),
                parts.next().unwrap_or_default().trim().to_owned(),
            )]);
            label.extend(pairs(&parts.collect::<Vec<_>>().join("\n")));
            ChoiceOption { id, label }
        })
        .collect()
}

/// The text [`options_of`] reads back into `options`.
fn options_text(options: &[ChoiceOption]) -> String {
    let mut out = String::new();
    for o in options {
        out.push_str(&format!(
            "{}: {}",
            o.id,
            o.label.get("en").map_or("", |l| l)
        ));
        for (locale, label) in o.label.iter().filter(|(l, _)| *l != "en") {
            out.push_str(&format!(" | {locale}: {label}"));
        }
        out.push('\n');
    }
    out
}

/// The form's fields as the touchpoint `tp` fills them: (element id, value).
fn filled(tp: &Touchpoint) -> [(&'static str, String); 20] {
    let fu = tp.follow_up.as_ref();
    let said = |m: Option<&BTreeMap<String, String>>, l: &str| {
        m.and_then(|m| m.get(l)).cloned().unwrap_or_default()
    };
    let mut languages = String::new();
    let locales: std::collections::BTreeSet<&String> = tp
        .question
        .keys()
        .chain(fu.map(|f| f.question.keys()).into_iter().flatten())
        .collect();
    for l in locales.iter().filter(|l| l.as_str() != "en") {
        let f = said(fu.map(|f| &f.question), l);
        languages.push_str(&format!("{l}: {}", said(Some(&tp.question), l)));
        if !f.is_empty() {
            languages.push_str(&format!(" | {f}"));
        }
        languages.push('\n');
    }
    let bound = |b: Option<i64>| b.map(|b| b.to_string()).unwrap_or_default();
    let t = &tp.trigger;
    [
        ("tp-id", tp.id.clone()),
        ("tp-question", said(Some(&tp.question), "en")),
        ("tp-pages", tp.pages.join(" ")),
        ("tp-stages", tp.stages.join(" ")),
        ("tp-sample", format!("{}", (tp.sample * 100.0).round())),
        ("tp-recontact", tp.recontact_days.to_string()),
        ("tp-metric", tp.metric.as_str().to_owned()),
        ("tp-when", t.on.as_str().to_owned()),
        (
            "tp-delay",
            if t.delay_ms > 0 {
                format!("{}", f64::from(t.delay_ms) / 1000.0)
            } else {
                String::new()
            },
        ),
        (
            "tp-detail",
            t.percent
                .map(|p| p.to_string())
                .or_else(|| t.selector.clone())
                .or_else(|| t.event.clone())
                .or_else(|| t.signal.clone())
                .unwrap_or_default(),
        ),
        (
            "tp-position",
            if tp.position == Position::Center {
                "center"
            } else {
                "corner"
            }
            .to_owned(),
        ),
        (
            "tp-look",
            match tp.scale {
                Look::Numbers => "numbers",
                Look::Stars => "stars",
                Look::Faces => "faces",
            }
            .to_owned(),
        ),
        (
            "tp-several",
            if tp.multiple { "several" } else { "one" }.to_owned(),
        ),
        ("tp-options", options_text(&tp.options)),
        ("tp-follow", said(fu.map(|f| &f.question), "en")),
        ("tp-min", bound(fu.and_then(|f| f.min))),
        ("tp-max", bound(fu.and_then(|f| f.max))),
        (
            "tp-follow-options",
            options_text(fu.map_or(&[][..], |f| &f.options)),
        ),
        ("tp-languages", languages),
        (
            "tp-audience",
            tp.audience
                .iter()
                .map(|(k, v)| format!("{k}: {}\n", v.join(" ")))
                .collect(),
        ),
    ]
}

/// Adds a touchpoint (or changes the one with the same id) or removes
/// one, saving the whole configuration as the draft; the preview beside
/// the form follows every keystroke. "Change" fills the form with a
/// touchpoint; what the form does not show of it (a trigger's selector,
/// a follow-up's several choices) is kept.
pub(super) fn editor(doc: SiteDocument, key: String, saver: Saver) -> impl IntoView {
    let [
        id,
        question,
        pages,
        sample,
        stages,
        recontact,
        follow_up,
        min,
        max,
        delay,
        detail,
    ] = [(); 11].map(|()| NodeRef::<Input>::new());
    let [options, follow_options, languages, audience] =
        [(); 4].map(|()| NodeRef::<Textarea>::new());
    let place = NodeRef::<Div>::new();
    let [metric, when, look, position, several] =
        ["csat", "load", "numbers", "corner", "one"].map(|v| RwSignal::new(v.to_owned()));
    let said = RwSignal::new(String::new());
    // The touchpoint the form was filled from, by "Change".
    let editing = RwSignal::new(None::<Touchpoint>);
    let build = move || {
        let id = value(id);
        let base = editing.get_untracked().filter(|b| b.id == id);
        let share: f64 = value(sample).parse().unwrap_or(100.0);
        let on = TriggerOn::parse(&when.get_untracked()).unwrap_or(TriggerOn::Load);
        let q = value(question);
        let mut asked = BTreeMap::from([(
            "en".to_owned(),
            if q.is_empty() {
                "Your question".to_owned()
            } else {
                q
            },
        )]);
        let mut then = BTreeMap::new();
        let f = value(follow_up);
        if !f.is_empty() {
            then.insert("en".to_owned(), f);
        }
        for (locale, text) in pairs(&area_value(languages)) {
            let (q, f) = text.split_once('|').unwrap_or((&text, ""));
            asked.insert(locale.clone(), q.trim().to_owned());
            if !f.trim().is_empty() {
                then.insert(locale, f.trim().to_owned());
            }
        }
        let detail = value(detail);
        let named = (!detail.is_empty()).then(|| detail.clone());
        let trigger = Trigger {
            on,
            delay_ms: value(delay)
                .parse::<f64>()
                .map_or(0, |s| (s * 1000.0) as u32),
            percent: (on == TriggerOn::Scroll).then(|| detail.parse().unwrap_or(50)),
            selector: named.clone().filter(|_| on == TriggerOn::Click),
            event: named.clone().filter(|_| on == TriggerOn::Event),
            signal: named.filter(|_| on == TriggerOn::Signal),
        };
        Touchpoint {
            id,
            metric: Metric::parse(&metric.get_untracked()).unwrap_or(Metric::Csat),
            question: asked,
            trigger,
            pages: words(&value(pages)),
            stages: words(&value(stages)),
            sample: (share / 100.0).clamp(0.0, 1.0),
            recontact_days: value(recontact).parse().unwrap_or(30),
            follow_up: (!then.is_empty()).then(|| FollowUp {
                question: then,
                min: value(min).parse().ok(),
                max: value(max).parse().ok(),
                options: options_of(&area_value(follow_options)),
                multiple: base
                    .as_ref()
                    .and_then(|b| b.follow_up.as_ref())
                    .is_some_and(|f| f.multiple),
            }),
            options: options_of(&area_value(options)),
            multiple: several.get_untracked() == "several",
            scale: match look.get_untracked().as_str() {
                "stars" => Look::Stars,
                "faces" => Look::Faces,
                _ => Look::Numbers,
            },
            position: if position.get_untracked() == "center" {
                Position::Center
            } else {
                Position::Corner
            },
            audience: pairs(&area_value(audience))
                .into_iter()
                .map(|(k, v)| (k, words(&v)))
                .collect(),
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
    let filling = show.clone();
    // Fills the form with a touchpoint (its selects' signals too), shows
    // it in the preview and puts the focus on the form's first field.
    let fill = Rc::new(move |tp: &Touchpoint| {
        editing.set(Some(tp.clone()));
        let document = web_sys::window().and_then(|w| w.document());
        for (el, v) in filled(tp) {
            if let Some(e) = document.as_ref().and_then(|d| d.get_element_by_id(el)) {
                let _ = Reflect::set(&e, &"value".into(), &v.as_str().into());
            }
            match el {
                "tp-metric" => metric.set(v),
                "tp-when" => when.set(v),
                "tp-position" => position.set(v),
                "tp-look" => look.set(v),
                "tp-several" => several.set(v),
                _ => {}
            }
        }
        filling();
        if let Some(i) = id.get_untracked() {
            let _ = i.focus();
        }
    });
    let mut buttons = Vec::new();
    for t in &doc.touchpoint {
        let (tp, gone, doc, fill) = (t.clone(), t.id.clone(), doc.clone(), fill.clone());
        buttons.push(Action {
            label: format!("Change {}", t.id),
            text: "",
            off: false,
            run: Rc::new(move || fill(&tp)),
        });
        buttons.push(Action {
            label: format!("Remove {gone}"),
            text: "",
            off: false,
            run: Rc::new(move || {
                let mut next = doc.clone();
                next.touchpoint.retain(|t| t.id != gone);
                saver.save(&next, format!("Saved: {gone} removed."));
            }),
        });
    }
    let form = view! {
        <h3>"Add or change a touchpoint"</h3>
        <div class="grid">
            {fields(vec![
                Field::text("tp-id", "Touchpoint id", id).hint("pricing-csat").required(),
                Field::text("tp-question", "Question (English)", question).hint("How satisfied are you with our prices?").required().wide(),
                Field::text("tp-pages", "Pages (globs; empty: every page)", pages).hint("/pricing /product/*"),
                Field::text("tp-stages", "Stages (ids; empty: every stage)", stages).hint("checkout"),
                Field::text("tp-sample", "Visitors asked (%)", sample).kind("number").value("100".to_owned()),
                Field::text("tp-recontact", "Ask a visitor again after (days)", recontact).kind("number").value("30".to_owned()),
            ])}
            {choice("tp-metric", "Question type", METRICS, metric)}
            {choice("tp-when", "When", WHEN, when)}
            {fields(vec![
                Field::text("tp-delay", "Delay (seconds)", delay).kind("number"),
                Field::text("tp-detail", "Scroll %, selector, event or signal", detail).hint("50, #buy, signup, rage_click"),
            ])}
            {choice("tp-position", "Where", &[("corner", "A card in the corner"), ("center", "A dialog in the centre")], position)}
            {choice("tp-look", "CSAT drawn as", &[("numbers", "Numbers 1–5"), ("stars", "Stars"), ("faces", "Faces")], look)}
            {choice("tp-several", "Choice: a visitor picks", &[("one", "One option"), ("several", "Several options")], several)}
            {areas(vec![
                Area { id: "tp-options", label: "Choice options, one a line: id: label (other languages: | de: label)", hint: "price: The price | de: Der Preis", value: String::new(), input: options },
            ])}
            {fields(vec![
                Field::text("tp-follow", "Follow-up question (English; empty: none)", follow_up).hint("What should we improve?").wide(),
                Field::text("tp-min", "Follow-up after scores from", min).kind("number"),
                Field::text("tp-max", "to (empty: any)", max).kind("number"),
            ])}
            {areas(vec![
                Area { id: "tp-follow-options", label: "Follow-up options, one a line (empty: a comment box)", hint: "slow: Too slow", value: String::new(), input: follow_options },
                Area { id: "tp-languages", label: "Other languages, one a line: locale: question | follow-up", hint: "de: Wie zufrieden sind Sie? | Was sollen wir verbessern?", value: String::new(), input: languages },
                Area { id: "tp-audience", label: "Audience, one a line: attribute: values (empty: everyone)", hint: "plan: pro team", value: String::new(), input: audience },
            ])}
        </div>
    };
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
                {form}
                {submit("Save the touchpoint", saver.busy)}
            </form>
            <figure class="preview">
                <figcaption>"Preview: the widget as visitors see it"</figcaption>
                <div data-touchpoint=PREVIEW node_ref=place></div>
                <p class="muted" role="status">{move || said.get()}</p>
            </figure>
        </div>
        {actions(buttons, saver.busy)}
    }
}
