//! The prompt a visitor meets. `loader.js` decides that a touchpoint may fire
//! here, imports this module and calls [`show`]; the prompt renders in an
//! open Shadow DOM with styles from `adoptedStyleSheets` (works under a strict
//! `style-src`), and each step sends one event through the loader's `send`.
//!
//! Size is a budget: no JSON decoding here (the loader passes plain fields),
//! no formatting machinery beyond what the event encoder needs.

mod i18n;
mod prompt;

use js_sys::{Function, Reflect};
use touchpoint_wire::{Event, EventBatch, Kind, Metric};
use wasm_bindgen::prelude::*;

/// What the loader hands over: the touchpoint to ask and how to report.
#[derive(Clone)]
pub struct Ask {
    pub site: String,
    pub touchpoint: String,
    pub metric: Metric,
    pub question: String,
    pub lang: String,
    pub locale: String,
    pub stage: Option<String>,
    pub visitor: String,
    pub session: String,
    pub device: String,
    pub gpc: Option<bool>,
    pub consent: Option<bool>,
    id: Function,
    done: Function,
    send: Function,
}

impl Ask {
    fn from_js(o: &JsValue) -> Option<Ask> {
        let s = |k: &str| {
            Reflect::get(o, &JsValue::from_str(k))
                .ok()
                .and_then(|v| v.as_string())
        };
        let b = |k: &str| {
            Reflect::get(o, &JsValue::from_str(k))
                .ok()
                .and_then(|v| v.as_bool())
        };
        let f = |k: &str| {
            Reflect::get(o, &JsValue::from_str(k))
                .ok()
                .and_then(|v| v.dyn_into::<Function>().ok())
        };
        Some(Ask {
            site: s("site")?,
            touchpoint: s("touchpoint")?,
            metric: Metric::parse(&s("metric")?)?,
            question: s("question")?,
            lang: s("lang").unwrap_or_else(|| "en".into()),
            locale: s("locale").unwrap_or_else(|| "en".into()),
            stage: s("stage"),
            visitor: s("visitor")?,
            session: s("session")?,
            device: s("device").unwrap_or_else(|| "desktop".into()),
            gpc: b("gpc"),
            consent: b("consent"),
            id: f("id")?,
            done: f("done")?,
            send: f("send")?,
        })
    }

    /// Sends one event of this touchpoint now.
    pub fn send(&self, kind: Kind, score: Option<i64>) {
        let id = self
            .id
            .call0(&JsValue::NULL)
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        let page = web_sys::window()
            .and_then(|w| w.location().href().ok())
            .unwrap_or_default();
        let event = Event {
            id,
            kind,
            touchpoint: Some(self.touchpoint.clone()),
            page,
            stage: self.stage.clone(),
            metric: Some(self.metric),
            score,
            comment: None,
            choices: None,
            visitor: Some(self.visitor.clone()),
            session: Some(self.session.clone()),
            ts: js_sys::Date::new_0().to_iso_string().into(),
            locale: Some(self.locale.clone()),
            device: Some(self.device.clone()),
            attributes: None,
            signal: None,
            gpc: self.gpc,
            consent: self.consent,
        };
        let batch = EventBatch {
            site: self.site.clone(),
            events: vec![event],
        };
        if let Ok(body) = serde_json::to_string(&batch) {
            let _ = self.send.call1(&JsValue::NULL, &JsValue::from_str(&body));
        }
    }

    /// Records that the visitor answered or dismissed (recontact wait starts).
    pub fn done(&self) {
        let _ = self.done.call0(&JsValue::NULL);
    }
}

/// Shows the prompt described by `ask` (an object built by `loader.js`).
#[wasm_bindgen]
pub fn show(ask: JsValue) -> Result<(), JsValue> {
    let ask = Ask::from_js(&ask)
        .ok_or_else(|| JsValue::from_str("touchpoint: incomplete prompt description"))?;
    prompt::mount(ask)
}
