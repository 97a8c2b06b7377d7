//! The prompt in a corner card, inside an open shadow root: a scale (NPS
//! 0–10, CSAT 1–5, CES 1–7, thumbs, emoji), an open text, or a single or
//! multiple choice; then, when the touchpoint has one and the score calls
//! for it, a follow-up question; then a thank-you that fades.
//!
//! Built with plain DOM calls rather than a UI framework: the prompt is a
//! dozen elements whose few states (the step shown, what is picked, which
//! option holds the tab stop) live in cells that the event handlers update.
//! A framework's runtime would be most of the widget's bytes.

use crate::i18n::{Strings, strings};
use crate::{Answer, Ask, Choice};
use std::cell::Cell;
use std::rc::Rc;
use touchpoint_wire::{Kind, Metric, keys};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::HtmlElement;

mod parts;

use parts::*;

const CSS: &str = include_str!("../prompt.css");

/// Creates `<touchpoint-prompt>` with an open shadow root, adopts the
/// stylesheet, mounts the prompt and sends the impression; `closed` is
/// called when the prompt goes away. With `inline`, the prompt goes into
/// that element, in the page's flow; otherwise it is a corner card. When
/// the visitor opened it (`opener`, the feedback tab), focus moves into it
/// and returns to the opener when it closes.
pub fn mount(
    ask: Ask,
    inline: Option<web_sys::Element>,
    opener: Option<web_sys::HtmlElement>,
    closed: Box<dyn Fn()>,
) -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let host: web_sys::HtmlElement = document
        .create_element("touchpoint-prompt")?
        .unchecked_into();
    let root = host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?;
    let sheet = web_sys::CssStyleSheet::new()?;
    sheet.replace_sync(CSS)?;
    root.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
    let container: web_sys::HtmlElement = document.create_element("div")?.unchecked_into();
    root.append_child(&container)?;
    match &inline {
        Some(place) => {
            host.set_attribute("inline", "")?;
            place.append_child(&host)?;
        }
        None => {
            document.body().ok_or("no body")?.append_child(&host)?;
        }
    }
    let inline = inline.is_some();
    // A modal takes the focus (and gives it back to where it was after).
    let modal = !inline && ask.modal;
    let opener = opener.or_else(|| {
        if modal {
            host.set_attribute("modal", "").ok()?;
            document.active_element()?.dyn_into().ok()
        } else {
            None
        }
    });
    apply_theme(&host, &ask.theme);
    ask.send(Kind::Impression, &ask.new_id(), &Answer::default());
    let closed: Rc<dyn Fn()> = closed.into();
    build(ask, &container, host, inline, modal, opener, closed);
    // For page-impact measurements: when the prompt became visible.
    let performance =
        web_sys::window().map_or(JsValue::UNDEFINED, |w| crate::get(&w, "performance"));
    if let Ok(mark) = crate::get(&performance, "mark").dyn_into::<js_sys::Function>() {
        let _ = mark.call1(&performance, &"touchpoint:prompt".into());
    }
    Ok(())
}

/// The site's theme, as custom properties on the host element (which a
/// page's own `touchpoint-prompt { --tp-… }` rules may still override).
pub(crate) fn apply_theme(host: &web_sys::HtmlElement, theme: &JsValue) {
    let style = host.style();
    let set = |k: &str, v: &str| {
        let _ = style.set_property(k, v);
    };
    if let Some(brand) = crate::string(theme, keys::BRAND) {
        set("--tp-brand", &brand);
        set("--tp-on-brand", on_brand(&brand));
    }
    if crate::string(theme, keys::CORNER).as_deref() == Some("left") {
        set("--tp-left", "16px");
        set("--tp-right", "auto");
    }
    if crate::string(theme, keys::FONT).as_deref() == Some("inherit") {
        let family = web_sys::window().and_then(|w| {
            let body = w.document()?.body()?;
            w.get_computed_style(&body)
                .ok()
                .flatten()?
                .get_property_value("font-family")
                .ok()
        });
        if let Some(family) = family {
            set("--tp-font", &family);
        }
    }
}

/// Black or white, whichever contrasts more with `#rrggbb`. The sRGB curve
/// is approximated by 0.72 v² + 0.28 v³ (no `powf` in the wasm); over every
/// colour the pick still contrasts at least 4.5:1.
fn on_brand(hex: &str) -> &'static str {
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0))
            / 255.0;
        v * v * (0.72 + 0.28 * v)
    };
    let l = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    // Contrast with white: 1.05 / (l + .05); with black: (l + .05) / .05.
    if 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 {
        "#ffffff"
    } else {
        "#000000"
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Ask,
    FollowUp,
    Thanks,
}

/// Creates `<tag>` with `attrs` at the end of `parent`.
fn el(parent: &web_sys::Node, tag: &str, attrs: &[(&str, &str)]) -> HtmlElement {
    let e: HtmlElement = parent
        .owner_document()
        .and_then(|d| d.create_element(tag).ok())
        .expect("a document")
        .unchecked_into();
    for (k, v) in attrs {
        let _ = e.set_attribute(k, v);
    }
    let _ = parent.append_child(&e);
    e
}

/// `el` with `text` in it.
fn el_text(parent: &web_sys::Node, tag: &str, attrs: &[(&str, &str)], text: &str) -> HtmlElement {
    let e = el(parent, tag, attrs);
    e.set_text_content(Some(text));
    e
}

/// Sets or removes the boolean attribute `name` (`hidden`, `disabled`).
fn flag(e: &web_sys::Element, name: &str, on: bool) {
    let _ = e.toggle_attribute_with_force(name, on);
}

/// Listens to `event` on `e` (bubbling) for as long as the page lives.
fn on(e: &web_sys::EventTarget, event: &str, f: impl FnMut(web_sys::Event) + 'static) {
    crate::listen(e, event, false, f);
}

/// Builds the question, its follow-up and the thank-you in `container`,
/// one visible at a time.
///
/// `host` is removed when the prompt closes; `inline` (in the page's flow)
/// has no close button and a thank-you that stays; `modal` keeps Tab within
/// it until it closes; `opener` is what the visitor opened it with (focus
/// moves in, and back after); `closed` is called once it has closed.
fn build(
    ask: Ask,
    container: &web_sys::Node,
    host: HtmlElement,
    inline: bool,
    modal: bool,
    opener: Option<HtmlElement>,
    closed: Rc<dyn Fn()>,
) {
    let text = strings(&ask.lang);
    let ask = Rc::new(ask);
    // The response's id: a follow-up's answer is sent again under it.
    let id: Rc<str> = ask.new_id().into();
    let score = Rc::new(Cell::new(None::<i64>));
    let step = Rc::new(Cell::new(Step::Ask));
    let close: Rc<dyn Fn()> = {
        let (host, opener) = (host.clone(), opener.clone());
        Rc::new(move || {
            if host.is_connected() {
                host.remove();
                closed();
                if let Some(el) = &opener {
                    let _ = el.focus();
                }
            }
        })
    };
    let dismiss: Rc<dyn Fn()> = {
        let (ask, step, close) = (ask.clone(), step.clone(), close.clone());
        Rc::new(move || {
            if step.get() == Step::Ask {
                ask.send(Kind::Dismiss, &ask.new_id(), &Answer::default());
                ask.done();
            }
            close();
        })
    };

    if modal {
        let dismiss = dismiss.clone();
        on(
            &el(container, "div", &[("class", "backdrop")]),
            "click",
            move |_| dismiss(),
        );
    }
    let card = el(
        container,
        "section",
        &[
            ("class", "card"),
            ("role", if inline { "region" } else { "dialog" }),
            ("aria-label", &ask.question),
            ("dir", if text.rtl { "rtl" } else { "ltr" }),
        ],
    );
    if modal {
        let _ = card.set_attribute("aria-modal", "true");
    }
    {
        let (dismiss, host) = (dismiss.clone(), host.clone());
        on(&card, "keydown", move |ev| {
            let ev: &web_sys::KeyboardEvent = ev.unchecked_ref();
            let key = ev.key();
            if key == "Escape" {
                dismiss();
            } else if modal && key == "Tab" && trap_focus(&host, ev.shift_key()) {
                ev.prevent_default();
            }
        });
    }
    if !inline {
        let dismiss = dismiss.clone();
        let button = el_text(
            &card,
            "button",
            &[
                ("type", "button"),
                ("class", "close"),
                ("aria-label", text.close),
            ],
            "×",
        );
        on(&button, "click", move |_| dismiss());
    }
    let step_box = |question: &str| {
        let b = el(&card, "div", &[("class", "step")]);
        el_text(&b, "p", &[("class", "question")], question);
        b
    };
    let first = step_box(&ask.question);
    let follow = ask.follow_up.as_ref().map(|f| {
        let b = step_box(&f.question);
        flag(&b, "hidden", true);
        b
    });
    let thanks = el(&card, "p", &[("class", "thanks"), ("role", "status")]);
    let show = {
        let (first, follow, step) = (first.clone(), follow.clone(), step.clone());
        move |s: Step| {
            step.set(s);
            flag(&first, "hidden", s != Step::Ask);
            if let Some(f) = &follow {
                flag(f, "hidden", s != Step::FollowUp);
            }
            if s == Step::Thanks {
                thanks.set_text_content(Some(text.thanks));
            }
        }
    };
    let answer: Rc<dyn Fn(Answer)> = Rc::new({
        let (ask, follow) = (ask.clone(), follow.clone());
        move |mut a: Answer| {
            let first = step.get() == Step::Ask;
            if !first {
                a.score = score.get();
            }
            ask.send(Kind::Response, &id, &a);
            if first {
                ask.done();
                score.set(a.score);
            }
            let applies = ask
                .follow_up
                .as_ref()
                .is_some_and(|f| a.score.is_some_and(|s| f.applies_to(s)));
            match &follow {
                Some(follow) if first && applies => {
                    // Read before the step changes: hiding the scale drops
                    // focus. A corner prompt never takes the page's focus.
                    let was_inside = inside(&host);
                    show(Step::FollowUp);
                    if was_inside {
                        focus(follow.query_selector("textarea, button").ok().flatten());
                    }
                }
                _ => {
                    show(Step::Thanks);
                    if !inline {
                        let close = close.clone();
                        crate::later(2500, move || close());
                    }
                }
            }
        }
    });
    question_body(
        &first,
        ask.metric,
        ask.look.as_deref(),
        &ask.question,
        &ask.options,
        ask.multiple,
        text,
        answer.clone(),
    );
    if let (Some(f), Some(b)) = (&ask.follow_up, &follow) {
        let metric = if f.options.is_empty() {
            Metric::Text
        } else {
            Metric::Choice
        };
        question_body(
            b,
            metric,
            None,
            &f.question,
            &f.options,
            f.multiple,
            text,
            answer,
        );
    }
    if opener.is_some() {
        // The first control of the question, once the prompt is laid out.
        crate::later(0, move || {
            focus(first.query_selector("button, textarea").ok().flatten());
        });
    }
}

/// Whether the visitor is in the prompt (the page's focus is on its host).
fn inside(host: &HtmlElement) -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .is_some_and(|a| a.is_same_node(Some(host)))
}

fn focus(e: Option<web_sys::Element>) {
    if let Some(e) = e {
        let _ = e.unchecked_into::<HtmlElement>().focus();
    }
}

/// Keeps Tab within a modal prompt: from its last control to its first
/// (Shift+Tab: from the first to the last). Returns whether it moved focus.
fn trap_focus(host: &HtmlElement, back: bool) -> bool {
    let Some(root) = host.shadow_root() else {
        return false;
    };
    let Ok(all) = root.query_selector_all(
        ".close, .step:not([hidden]) textarea, .step:not([hidden]) button:not([disabled]):not([tabindex='-1'])",
    ) else {
        return false;
    };
    let (first, last) = (all.item(0), all.item(all.length().saturating_sub(1)));
    let (from, to) = if back { (first, last) } else { (last, first) };
    let at_edge = root
        .active_element()
        .is_some_and(|a| from.is_some_and(|f| f.is_same_node(Some(&a))));
    match to {
        Some(to) if at_edge => to.unchecked_into::<HtmlElement>().focus().is_ok(),
        _ => false,
    }
}
