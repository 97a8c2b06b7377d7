//! The prompt a visitor meets. `loader.js` finds the touchpoints eligible on
//! this page, imports this module and calls [`start`] with them as the config
//! served them; [`triggers`] arms each one's trigger and shows one prompt at a
//! time within the site's contact budget. The prompt renders in an open Shadow DOM with styles from
//! `adoptedStyleSheets` (works under a strict `style-src`), and each answer is
//! handed to the loader's delivery queue as an event object.
//!
//! Size is a budget: no JSON code in here (the loader owns `JSON.stringify`;
//! this module reads and builds plain JS objects, and calls the browser's
//! `JSON.parse` once, for the visitor's attributes), no
//! formatting machinery for numbers.

mod i18n;
mod prompt;
#[cfg(all(test, target_family = "wasm"))]
mod tests;
mod triggers;

use js_sys::{Array, Function, Object, Reflect};
use touchpoint_wire::{Kind, Metric, keys};
use wasm_bindgen::prelude::*;

/// One option of a choice question, its label in the prompt's language.
#[derive(Clone)]
pub struct Choice {
    pub id: String,
    pub label: String,
}

/// A second question after a score in `[min, max]`: free text without
/// options, else a choice.
#[derive(Clone)]
pub struct FollowUp {
    pub question: String,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub options: Vec<Choice>,
    pub multiple: bool,
}

impl FollowUp {
    pub fn applies_to(&self, score: i64) -> bool {
        self.min.is_none_or(|m| score >= m) && self.max.is_none_or(|m| score <= m)
    }
}

/// What the loader hands over: the touchpoint to ask and how to report.
#[derive(Clone)]
pub struct Ask {
    pub site: String,
    pub touchpoint: String,
    pub metric: Metric,
    pub question: String,
    pub options: Vec<Choice>,
    pub multiple: bool,
    /// A 1–5 scale drawn as `stars` or `faces` (else numbers).
    pub look: Option<String>,
    /// A modal dialog in the centre rather than a card in the corner.
    pub modal: bool,
    pub follow_up: Option<FollowUp>,
    /// Language of the question, and so of the prompt's own words.
    pub lang: String,
    pub stage: Option<String>,
    /// The site's `[theme]`, as the config serves it (or undefined).
    pub theme: JsValue,
    /// The loader's context (see [`start`]): who is asking, and how to send.
    ctx: JsValue,
}

pub(crate) fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

pub(crate) fn string(o: &JsValue, k: &str) -> Option<String> {
    get(o, k).as_string()
}

pub(crate) fn list(o: &JsValue, k: &str) -> Vec<JsValue> {
    get(o, k)
        .dyn_into::<Array>()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

pub(crate) fn int(o: &JsValue, k: &str) -> Option<i64> {
    #[allow(clippy::cast_possible_truncation)]
    get(o, k).as_f64().map(|f| f as i64)
}

/// The text of a `{locale: text}` map for the visitor's languages: an exact
/// locale, then its language (`pt` for `pt-BR`), then `en`, then any.
/// Returns the locale chosen and the text.
fn pick(texts: &JsValue, langs: &[String]) -> Option<(String, String)> {
    let found = |l: &str| string(texts, l).map(|t| (l.to_owned(), t));
    langs
        .iter()
        .find_map(|l| found(l).or_else(|| found(l.split('-').next().unwrap_or(l))))
        .or_else(|| found("en"))
        .or_else(|| {
            let first = Object::keys(texts.unchecked_ref::<Object>())
                .get(0)
                .as_string()?;
            found(&first)
        })
}

fn choices(o: &JsValue, langs: &[String]) -> Vec<Choice> {
    list(o, keys::OPTIONS)
        .iter()
        .filter_map(|c| {
            Some(Choice {
                id: string(c, keys::ID)?,
                label: pick(&get(c, keys::LABEL), langs)?.1,
            })
        })
        .collect()
}

impl Ask {
    /// The prompt for touchpoint `tp` (as the config serves it) in the
    /// context `o` the loader hands to [`start`], on journey stage `stage`.
    pub(crate) fn new(o: &JsValue, tp: &JsValue, stage: Option<String>) -> Option<Ask> {
        let langs = languages();
        // The question's language leads: the prompt's own words follow it.
        let (lang, question) = pick(&get(tp, keys::QUESTION), &langs)?;
        let follow = get(tp, keys::FOLLOW_UP);
        let follow_up = follow.is_object().then(|| FollowUp {
            question: pick(&get(&follow, keys::QUESTION), std::slice::from_ref(&lang))
                .map(|q| q.1)
                .unwrap_or_default(),
            min: int(&follow, keys::MIN),
            max: int(&follow, keys::MAX),
            options: choices(&follow, std::slice::from_ref(&lang)),
            multiple: get(&follow, keys::MULTIPLE).is_truthy(),
        });
        Some(Ask {
            site: string(o, "site")?,
            touchpoint: string(tp, keys::ID)?,
            metric: Metric::parse(&string(tp, keys::METRIC)?)?,
            options: choices(tp, std::slice::from_ref(&lang)),
            multiple: get(tp, keys::MULTIPLE).is_truthy(),
            look: string(tp, keys::SCALE),
            modal: string(tp, keys::POSITION).as_deref() == Some("center"),
            follow_up,
            question,
            lang,
            stage,
            theme: get(o, "theme"),
            ctx: o.clone(),
        })
    }

    /// A new event id (UUID v4).
    pub fn new_id(&self) -> String {
        new_id(&self.ctx)
    }

    /// Hands one event of this touchpoint to the delivery queue. A follow-up's
    /// answer is the same response again (same `id`) with its comment or
    /// choices: the server fills them in, never a second score.
    pub fn send(&self, kind: Kind, id: &str, answer: &Answer) {
        let e = event(&self.ctx, kind, id, self.stage.as_deref());
        let put = |k: &str, v: JsValue| {
            let _ = Reflect::set(&e, &JsValue::from_str(k), &v);
        };
        put("touchpoint", JsValue::from_str(&self.touchpoint));
        put("metric", JsValue::from_str(self.metric.as_str()));
        if let Some(score) = answer.score {
            #[allow(clippy::cast_precision_loss)]
            put("score", JsValue::from_f64(score as f64));
        }
        if let Some(comment) = &answer.comment {
            put("comment", mask_pii(comment).into());
        }
        if let Some(picked) = &answer.choices {
            put(
                "choices",
                picked
                    .iter()
                    .map(|c| JsValue::from_str(c))
                    .collect::<Array>()
                    .into(),
            );
        }
        dispatch(&self.ctx, &e);
    }

    /// Records that the visitor answered or dismissed: the touchpoint's
    /// `recontact_days` start now (the loader reads this key).
    pub fn done(&self) {
        let key = ["contact:", &self.site, ":", &self.touchpoint].concat();
        triggers::remember(false, &key);
    }
}

/// A new event id (UUID v4) from the loader's `id()`.
pub(crate) fn new_id(ctx: &JsValue) -> String {
    get(ctx, "id")
        .dyn_into::<Function>()
        .ok()
        .and_then(|f| f.call0(&JsValue::NULL).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// The fields every event has: who, where, when, what kind.
pub(crate) fn event(ctx: &JsValue, kind: Kind, id: &str, stage: Option<&str>) -> Object {
    let e = Object::new();
    let put = |k: &str, v: JsValue| {
        let _ = Reflect::set(&e, &JsValue::from_str(k), &v);
    };
    put("id", JsValue::from_str(id));
    put("kind", JsValue::from_str(kind.as_str()));
    // The page it happened on: in a single-page app, the current route as
    // the loader's `path()` names it (hash routes included).
    let window = web_sys::window();
    let path = get(ctx, "path")
        .dyn_into::<Function>()
        .ok()
        .and_then(|f| f.call0(&JsValue::NULL).ok())
        .and_then(|p| p.as_string());
    let origin = window.as_ref().and_then(|w| w.location().origin().ok());
    put(
        "page",
        JsValue::from_str(&[origin.unwrap_or_default(), path.unwrap_or_default()].concat()),
    );
    if let Some(stage) = stage {
        put("stage", JsValue::from_str(stage));
    }
    put("ts", js_sys::Date::new_0().to_iso_string().into());
    for k in ["visitor", "session"] {
        put(k, get(ctx, k));
    }
    put("device", JsValue::from_str(device()));
    // Global Privacy Control as the browser sent it, consent as the page said it.
    let gpc = navigator("globalPrivacyControl");
    if gpc.as_bool().is_some() {
        put("gpc", gpc);
    }
    let storage = window.and_then(|w| w.local_storage().ok().flatten());
    let stored = |k: &str| storage.as_ref()?.get_item(k).ok().flatten();
    if let Some(said) = stored("touchpoint:consent") {
        put("consent", JsValue::from_bool(said == "1"));
    }
    // The visitor's attributes (`touchpoint('identify', {…})`), as the
    // loader keeps them; the server keeps the keys the site declares.
    if let Some(attributes) = stored("touchpoint:attrs")
        .and_then(|text| js_sys::JSON::parse(&text).ok())
        .filter(JsValue::is_object)
    {
        put("attributes", attributes);
    }
    if let Some(locale) = languages().first() {
        put("locale", JsValue::from_str(locale));
    }
    e
}

/// `navigator[k]`.
fn navigator(k: &str) -> JsValue {
    get(&nav(), k)
}

fn nav() -> JsValue {
    web_sys::window().map_or(JsValue::UNDEFINED, |w| get(&w, "navigator"))
}

/// The visitor's languages, most wanted first.
pub(crate) fn languages() -> Vec<String> {
    let nav = nav();
    let mut langs: Vec<String> = list(&nav, "languages")
        .iter()
        .filter_map(JsValue::as_string)
        .collect();
    if langs.is_empty() {
        langs.extend(string(&nav, "language"));
    }
    langs
}

/// What the visitor holds: a coarse pointer on a narrow screen is a
/// phone, on a wider one a tablet; anything else a desktop.
fn device() -> &'static str {
    let Some(w) = web_sys::window() else {
        return "desktop";
    };
    let coarse = w
        .match_media("(pointer:coarse)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches());
    let narrow = w
        .inner_width()
        .ok()
        .and_then(|v| v.as_f64())
        .is_some_and(|v| v < 768.0);
    match (coarse, narrow) {
        (false, _) => "desktop",
        (true, true) => "mobile",
        (true, false) => "tablet",
    }
}

/// Hands an event to the loader's delivery queue.
pub(crate) fn dispatch(ctx: &JsValue, e: &Object) {
    if let Ok(send) = get(ctx, "send").dyn_into::<Function>() {
        let _ = send.call1(&JsValue::NULL, e);
    }
}

/// Masks e-mail addresses, IBANs and phone-, card- or account-like digit
/// runs before a comment leaves the browser, with the browser's own regular
/// expressions (no regex engine in the wasm). The server masks again with
/// `touchpoint_server::privacy`, which is the rule of record; these patterns
/// follow it, and a browser test checks that they agree on its examples.
fn mask_pii(text: &str) -> js_sys::JsString {
    [
        (
            r#"[^\s@<>()"',;:]+@[^\s@<>()"',;:]+\.[^\s@<>()"',;:]+"#,
            "[email]",
        ),
        (r"\b[A-Z]{2}\d{2}(?: ?[A-Z\d]){11,30}\b", "[iban]"),
        (r"\+?\d(?:[ .-]?\d){8,}", "[number]"),
    ]
    .iter()
    .fold(js_sys::JsString::from(text), |t, (pattern, mask)| {
        t.replace_by_pattern(&js_sys::RegExp::new(pattern, "g"), mask)
    })
}

/// Calls `f` once after `ms` milliseconds.
pub(crate) fn later(ms: i32, f: impl FnOnce() + 'static) {
    let f: Box<dyn FnOnce()> = Box::new(f);
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
            Closure::once_into_js(f).unchecked_ref(),
            ms,
        );
    }
}

/// Calls `f` every `ms` milliseconds for the life of the page.
pub(crate) fn every(ms: i32, f: impl FnMut() + 'static) {
    let f = Closure::<dyn FnMut()>::new(f);
    if let Some(w) = web_sys::window() {
        let _ = w
            .set_interval_with_callback_and_timeout_and_arguments_0(f.as_ref().unchecked_ref(), ms);
    }
    f.forget();
}

/// Listens to `event` on `target` (in the capture phase with `capture`)
/// for the life of the page.
pub(crate) fn listen(
    target: &web_sys::EventTarget,
    event: &str,
    capture: bool,
    f: impl FnMut(web_sys::Event) + 'static,
) {
    let f = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    let _ = target.add_event_listener_with_callback_and_bool(
        event,
        f.as_ref().unchecked_ref(),
        capture,
    );
    f.forget();
}

/// What a response carries besides its kind.
#[derive(Clone, Default)]
pub struct Answer {
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub choices: Option<Vec<String>>,
}

pub use triggers::{cmd, start};
