//! When prompts appear: each eligible touchpoint's trigger is armed once
//! the page has loaded (`load` and `time` after a delay, `scroll` depth,
//! `exit` intent, a `click` on a selector, a tracked `event`, or only
//! `touchpoint('show', id)`), and a fired trigger shows its prompt unless
//! another prompt is open or the site's contact budget is spent. A
//! touchpoint with a place in the page (`[data-touchpoint="id"]`) is shown
//! there at once instead, in the page's flow: no overlay, no budget.

use crate::{Ask, get, int, list, string};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use touchpoint_wire::{Kind, TriggerOn, keys};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

mod signals;

use signals::watch_signals;

/// The touchpoints of this page and what has happened to them.
struct Armed {
    /// The context the loader handed over (see [`start`]).
    ctx: JsValue,
    site: String,
    touchpoints: Vec<JsValue>,
    /// Shown on this page already (once per page view, and per session).
    fired: RefCell<Vec<bool>>,
    /// A prompt is on screen: one at a time.
    open: Cell<bool>,
    /// Touchpoints whose trigger fired while another prompt was open: they
    /// are tried again when it closes.
    waiting: RefCell<Vec<usize>>,
    /// The journey stage, as the page last set it.
    stage: RefCell<Option<String>>,
    /// Which start this is: a single-page app starts again on every new
    /// path, and the triggers of an older start no longer fire.
    generation: u32,
    /// Signals already sent on this path: each is sent once (binary).
    signals: RefCell<Vec<&'static str>>,
}

thread_local! {
    /// Recent clicks `(ms, x, y)`, to tell a rage click.
    static CLICKS: RefCell<Vec<(f64, i32, i32)>> = const { RefCell::new(Vec::new()) };
}

thread_local! {
    /// When the page last changed (DOM, scroll, route), to tell a dead click.
    static CHANGED: Cell<f64> = const { Cell::new(0.0) };
}

thread_local! {
    static ARMED: RefCell<Option<Rc<Armed>>> = const { RefCell::new(None) };
}

fn armed() -> Option<Rc<Armed>> {
    ARMED.with(|a| a.borrow().clone())
}

/// Writes now (ms) under `touchpoint:KEY` in session or local storage.
pub(crate) fn remember(session: bool, key: &str) {
    let storage = web_sys::window().and_then(|w| {
        if session {
            w.session_storage().ok().flatten()
        } else {
            w.local_storage().ok().flatten()
        }
    });
    if let Some(s) = storage {
        // Numbers are written and read by JavaScript: Rust's float
        // formatting and parsing would cost the widget kilobytes.
        let now = js_sys::Number::from(js_sys::Date::now())
            .to_string_with_radix(10)
            .map(String::from)
            .unwrap_or_default();
        let _ = s.set_item(&["touchpoint:", key].concat(), &now);
    }
}

fn recalled(key: &str) -> f64 {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(&["touchpoint:", key].concat()).ok().flatten())
        .map(|v| js_sys::Number::parse_float(&v))
        .filter(|n| !n.is_nan())
        .unwrap_or(0.0)
}

/// Starts the widget on this page: `ctx` holds the site key, the eligible
/// `tps`, the `stage`, `visitor`, `session`, the site's `budget` (contact
/// days), `theme` and `stages`, and the loader's `path()` (the current
/// route), `glob(pattern, path)`, `ok()` (consent), `id()` (a UUID) and
/// `send(event)`.
#[wasm_bindgen]
pub fn start(ctx: JsValue) {
    let touchpoints = list(&ctx, "tps");
    let before = armed();
    let generation = before.as_ref().map_or(0, |b| b.generation + 1);
    // The old path's feedback tabs go with it.
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        while let Some(tab) = document.query_selector("touchpoint-tab").ok().flatten() {
            tab.remove();
        }
    }
    let armed = Rc::new(Armed {
        generation,
        signals: RefCell::new(Vec::new()),
        site: string(&ctx, "site").unwrap_or_default(),
        stage: RefCell::new(string(&ctx, "stage")),
        fired: RefCell::new(vec![false; touchpoints.len()]),
        // A prompt of the old path may still be open: one at a time still.
        open: Cell::new(before.is_some_and(|b| b.open.get())),
        waiting: RefCell::new(Vec::new()),
        touchpoints,
        ctx,
    });
    ARMED.with(|a| *a.borrow_mut() = Some(armed.clone()));
    let Some(window) = web_sys::window() else {
        return;
    };
    let document = window.document();
    if generation == 0 {
        rotate_visitor(&armed.ctx);
        watch_signals(&window);
    }
    for (i, tp) in armed.touchpoints.iter().enumerate() {
        // A place in the page for it (`data-touchpoint="id"`): shown there
        // now, in the page's flow, whatever its trigger.
        let place = document.as_ref().and_then(|d| {
            let id = string(tp, keys::ID)?;
            d.query_selector(&["[data-touchpoint=\"", &id, "\"]"].concat())
                .ok()
                .flatten()
        });
        if let Some(place) = place {
            armed.fired.borrow_mut()[i] = true;
            if let Some(ask) = Ask::new(&armed.ctx, tp, armed.stage.borrow().clone()) {
                let _ = crate::prompt::mount(ask, Some(place), None, Box::new(|| {}));
            }
            continue;
        }
        let trigger = get(tp, keys::TRIGGER);
        let delay = delay_of(&trigger);
        let on = string(&trigger, keys::ON).unwrap_or_default();
        let after_delay = move || fire_later(i, delay, generation);
        match TriggerOn::parse(&on) {
            Some(TriggerOn::Load) | None => after_delay(),
            Some(TriggerOn::Time) => {
                // Time on the page counts only while it is visible.
                let seen = Rc::new(Cell::new(0i32));
                crate::every(250, move || {
                    let visible = web_sys::window()
                        .and_then(|w| w.document())
                        .is_some_and(|d| !d.hidden());
                    // Counts up to the delay, fires once, then idles.
                    if visible && seen.get() != i32::MAX {
                        let now = seen.get().saturating_add(250);
                        if now >= delay {
                            seen.set(i32::MAX);
                            fire(i, None, generation);
                        } else {
                            seen.set(now);
                        }
                    }
                });
            }
            Some(TriggerOn::Scroll) => {
                let percent = int(&trigger, keys::PERCENT).unwrap_or(50);
                let check = move || {
                    if scrolled_percent() >= percent {
                        after_delay();
                    }
                };
                check();
                listen(&window, "scroll", move |_| check());
            }
            Some(TriggerOn::Exit) => {
                // Desktop only: touch screens have no pointer to leave with.
                let touch = window
                    .match_media("(pointer: coarse)")
                    .ok()
                    .flatten()
                    .is_some_and(|m| m.matches());
                if !touch && let Some(document) = window.document() {
                    listen(&document, "mouseout", move |ev| {
                        let Some(ev) = ev.dyn_ref::<web_sys::MouseEvent>() else {
                            return;
                        };
                        if ev.related_target().is_none() && ev.client_y() <= 0 {
                            after_delay();
                        }
                    });
                }
            }
            Some(TriggerOn::Click) => {
                let selector = string(&trigger, keys::SELECTOR).unwrap_or_default();
                if let Some(document) = window.document() {
                    listen(&document, "click", move |ev| {
                        let hit = ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                            .and_then(|el| el.closest(&selector).ok().flatten());
                        if hit.is_some() {
                            after_delay();
                        }
                    });
                }
            }
            Some(TriggerOn::Tab) => {
                if let Some(ask) = Ask::new(&armed.ctx, tp, None) {
                    tab(i, &ask, generation);
                }
            }
            // Fired from `cmd` or `signal`.
            Some(TriggerOn::Event | TriggerOn::Manual | TriggerOn::Signal) => {}
        }
    }
}

/// A command the page sent after the widget started (the loader replays
/// those sent before): `track` fires event triggers, `show` shows a
/// touchpoint whatever its trigger, `stage` changes the journey stage.
#[wasm_bindgen]
pub fn cmd(args: JsValue) {
    let Some(armed) = self::armed() else {
        return;
    };
    let (name, arg) = (string(&args, "0"), string(&args, "1"));
    let Some(arg) = arg else {
        return;
    };
    for (i, tp) in armed.touchpoints.iter().enumerate() {
        let trigger = get(tp, keys::TRIGGER);
        let hit = match name.as_deref() {
            Some("track") => {
                string(&trigger, keys::ON).as_deref() == Some("event")
                    && string(&trigger, keys::EVENT).as_deref() == Some(&arg)
            }
            Some("show") => string(tp, keys::ID).as_deref() == Some(&arg),
            _ => false,
        };
        if hit {
            fire_later(i, delay_of(&trigger), armed.generation);
        }
    }
    if name.as_deref() == Some("stage") {
        *armed.stage.borrow_mut() = Some(arg);
    }
}

/// Shows touchpoint `i` if nothing stands in the way. `opener` is the
/// feedback tab when the visitor asked for it: then the contact budget does
/// not apply, focus moves into the prompt and back to the tab after.
fn fire(i: usize, opener: Option<web_sys::HtmlElement>, generation: u32) {
    let Some(armed) = armed().filter(|a| a.generation == generation) else {
        return;
    };
    let consent = get(&armed.ctx, "ok")
        .dyn_into::<js_sys::Function>()
        .ok()
        .and_then(|f| f.call0(&JsValue::NULL).ok())
        .is_some_and(|v| v.is_truthy());
    let tp = &armed.touchpoints[i];
    if armed.fired.borrow()[i] || !consent || !on_stage(&armed, tp) {
        return;
    }
    // One prompt at a time, and the contact budget: one prompt per visitor
    // per `contact_days` days.
    let budget = int(&armed.ctx, "contact_days").unwrap_or(0);
    let budget_key = ["budget:", &armed.site].concat();
    #[allow(clippy::cast_precision_loss)]
    let spent = budget > 0 && js_sys::Date::now() - recalled(&budget_key) < budget as f64 * 864e5;
    if armed.open.get() || (spent && opener.is_none()) {
        // Its turn comes when the open one closes (a spent budget stays spent).
        if !spent && opener.is_none() && !armed.waiting.borrow().contains(&i) {
            armed.waiting.borrow_mut().push(i);
        }
        return;
    }
    let Some(ask) = Ask::new(&armed.ctx, tp, armed.stage.borrow().clone()) else {
        return;
    };
    let asked = opener.is_some();
    armed.fired.borrow_mut()[i] = true;
    armed.open.set(true);
    if !asked {
        remember(
            true,
            &["shown:", &armed.site, ":", &ask.touchpoint].concat(),
        );
        remember(false, &budget_key);
    }
    let _ = crate::prompt::mount(
        ask,
        None,
        opener,
        Box::new(move || {
            // The current start, which may be a later path's.
            if let Some(now) = self::armed() {
                now.open.set(false);
                // The tab can open it again.
                if asked && now.generation == generation {
                    now.fired.borrow_mut()[i] = false;
                }
                // What waited for this one: a breath later, in turn.
                for j in now.waiting.take() {
                    fire_later(j, 1000, now.generation);
                }
            }
        }),
    );
}

/// Whether touchpoint `tp` may appear on the journey stage the visitor is
/// on: the page's stage, else the first of the site's stages whose page
/// globs match the path (the loader's `glob`, the one rule).
fn on_stage(armed: &Armed, tp: &JsValue) -> bool {
    let wanted = list(tp, keys::STAGES_OF_TOUCHPOINT);
    if wanted.is_empty() {
        return true;
    }
    let call = |k: &str, args: &[JsValue]| {
        let f = get(&armed.ctx, k).dyn_into::<js_sys::Function>().ok()?;
        f.apply(&JsValue::NULL, &args.iter().collect()).ok()
    };
    let stage = armed.stage.borrow().clone().or_else(|| {
        let path = call("path", &[])?;
        list(&armed.ctx, "stages").iter().find_map(|s| {
            list(s, keys::PAGES)
                .into_iter()
                .any(|p| call("glob", &[p, path.clone()]).is_some_and(|m| m.is_truthy()))
                .then(|| string(s, keys::ID))
                .flatten()
        })
    });
    stage.is_some_and(|s| wanted.iter().any(|w| w.as_string().as_deref() == Some(&s)))
}

/// A feedback tab on the window's edge that opens touchpoint `i`.
fn tab(i: usize, ask: &Ask, generation: u32) -> Option<()> {
    let document = web_sys::window()?.document()?;
    let host: web_sys::HtmlElement = document
        .create_element("touchpoint-tab")
        .ok()?
        .unchecked_into();
    let root = host
        .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
        .ok()?;
    let sheet = web_sys::CssStyleSheet::new().ok()?;
    sheet.replace_sync(TAB_CSS).ok()?;
    root.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
    crate::prompt::apply_theme(&host, &ask.theme);
    let button: web_sys::HtmlElement = document.create_element("button").ok()?.unchecked_into();
    button.set_attribute("type", "button").ok()?;
    button.set_text_content(Some(crate::i18n::strings(&ask.lang).feedback));
    root.append_child(&button).ok()?;
    let opener = button.clone();
    listen(&button, "click", move |_| {
        fire(i, Some(opener.clone()), generation)
    });
    document.body()?.append_child(&host).ok()?;
    Some(())
}

const TAB_CSS: &str = ":host { all: initial !important; position: fixed !important; right: 0 !important; \
top: 50% !important; z-index: 2147482999 !important; display: block !important; \
--tp-brand: #3f3cbb; --tp-on-brand: #ffffff; } \
@media (prefers-color-scheme: dark) { :host { --tp-brand: #a9a7ff; --tp-on-brand: #14142a; } } \
button { writing-mode: vertical-rl; transform: translateY(-50%) rotate(180deg); padding: 14px 9px; \
border: 0; border-radius: 0 8px 8px 0; background: var(--tp-brand); color: var(--tp-on-brand); \
font: 600 14px/1 system-ui, sans-serif; letter-spacing: .02em; cursor: pointer; } \
button:focus-visible { outline: 2px solid var(--tp-brand); outline-offset: 3px; }";

/// The anonymous visitor id lives 30 days, then a new one is drawn, so
/// answers months apart are not tied to one browser. Recontact waits are
/// kept per touchpoint, not per visitor id: they outlive the rotation.
fn rotate_visitor(ctx: &JsValue) {
    let born = recalled("visitor-since");
    if born > 0.0 && js_sys::Date::now() - born < 30.0 * 864e5 {
        return;
    }
    if born > 0.0 {
        let fresh = crate::new_id(ctx);
        let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
        if let Some(s) = storage {
            let _ = s.set_item("touchpoint:visitor", &fresh);
        }
        let _ = js_sys::Reflect::set(
            ctx,
            &JsValue::from_str("visitor"),
            &JsValue::from_str(&fresh),
        );
    }
    remember(false, "visitor-since");
}

/// A trigger's `delay_ms`, in milliseconds.
fn delay_of(trigger: &JsValue) -> i32 {
    i32::try_from(int(trigger, keys::DELAY_MS).unwrap_or(0).max(0)).unwrap_or(i32::MAX)
}

/// Fires touchpoint `i` of start `generation` after `delay` milliseconds.
fn fire_later(i: usize, delay: i32, generation: u32) {
    crate::later(delay, move || fire(i, None, generation));
}

/// How far down the page the bottom of the window is, in percent.
fn scrolled_percent() -> i64 {
    let Some(window) = web_sys::window() else {
        return 0;
    };
    let height = window
        .document()
        .and_then(|d| d.document_element())
        .map_or(0, |e| e.scroll_height());
    let bottom = window.scroll_y().unwrap_or(0.0)
        + window
            .inner_height()
            .ok()
            .and_then(|h| h.as_f64())
            .unwrap_or(0.0);
    if height <= 0 {
        return 100;
    }
    #[allow(clippy::cast_possible_truncation)]
    let percent = (bottom * 100.0 / f64::from(height)) as i64;
    percent
}

/// Listens to `event` on `target`, in the capture phase, for the life of the page.
fn listen(target: &web_sys::EventTarget, event: &str, f: impl FnMut(web_sys::Event) + 'static) {
    crate::listen(target, event, true, f);
}
