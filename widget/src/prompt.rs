//! The prompt in a corner card, inside an open shadow root: a scale (NPS
//! 0–10, CSAT 1–5, CES 1–7, thumbs, emoji), an open text, or a single or
//! multiple choice; then, when the touchpoint has one and the score calls
//! for it, a follow-up question; then a thank-you that fades.

use crate::i18n::{Strings, strings};
use crate::{Answer, Ask, Choice};
use leptos::either::EitherOf3;
use leptos::prelude::*;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;
use touchpoint_wire::{Kind, Metric};
use wasm_bindgen::{JsCast, JsValue};

const CSS: &str = include_str!("prompt.css");

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
    leptos::mount::mount_to(
        container,
        move || view! { <Prompt ask=ask host=host inline modal opener closed /> },
    )
    .forget();
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
    if let Some(brand) = crate::string(theme, "brand") {
        set("--tp-brand", &brand);
        set("--tp-on-brand", on_brand(&brand));
    }
    if crate::string(theme, "corner").as_deref() == Some("left") {
        set("--tp-left", "16px");
        set("--tp-right", "auto");
    }
    if crate::string(theme, "font").as_deref() == Some("inherit") {
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

/// The question, its follow-up and the thank-you, one visible at a time.
#[component]
fn Prompt(
    /// The touchpoint being asked, and where to report.
    ask: Ask,
    /// The element hosting the shadow root, removed when the prompt closes.
    host: web_sys::HtmlElement,
    /// In the page's flow: no close button, the thank-you stays.
    inline: bool,
    /// A modal dialog: Tab cycles within it until it closes.
    modal: bool,
    /// What the visitor opened it with: focus moves in, and back after.
    opener: Option<web_sys::HtmlElement>,
    /// Called once the prompt has closed.
    closed: Rc<dyn Fn()>,
) -> impl IntoView {
    let text = strings(&ask.lang);
    let step = RwSignal::new(Step::Ask);
    let ask = Rc::new(ask);
    // The response's id: a follow-up's answer is sent again under it.
    let id: Rc<str> = ask.new_id().into();
    let score = Rc::new(Cell::new(None::<i64>));
    let follow_box = NodeRef::<leptos::html::Div>::new();
    let close = {
        let (host, opener) = (host.clone(), opener.clone());
        move || {
            if host.is_connected() {
                host.remove();
                closed();
                if let Some(el) = &opener {
                    let _ = el.focus();
                }
            }
        }
    };
    if opener.is_some() {
        // Once mounted: the first control of the question.
        let host = host.clone();
        focus_later(move || {
            host.shadow_root()?
                .query_selector(".step:not([hidden]) button, .step:not([hidden]) textarea")
                .ok()?
        });
    }
    // Whether the visitor is in the prompt: focus moves within it (to a
    // follow-up) only then; a corner prompt never takes the page's focus.
    let inside = {
        let host = host.clone();
        move || {
            web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .is_some_and(|a| a.is_same_node(Some(&host)))
        }
    };
    let answer: Rc<dyn Fn(Answer)> = Rc::new({
        let (ask, id, score, close) = (ask.clone(), id.clone(), score.clone(), close.clone());
        move |mut a: Answer| {
            let first = step.get_untracked() == Step::Ask;
            if !first {
                a.score = score.get();
            }
            ask.send(Kind::Response, &id, &a);
            if first {
                ask.done();
                score.set(a.score);
            }
            let follow = ask.follow_up.as_ref();
            if first && follow.is_some_and(|f| a.score.is_some_and(|s| f.applies_to(s))) {
                // Read before the step changes: hiding the scale drops focus.
                let was_inside = inside();
                step.set(Step::FollowUp);
                if was_inside {
                    // Once the follow-up is shown.
                    focus_later(move || {
                        follow_box
                            .get_untracked()?
                            .query_selector("textarea, button")
                            .ok()?
                    });
                }
            } else {
                step.set(Step::Thanks);
                if !inline {
                    set_timeout(close.clone(), Duration::from_millis(2500));
                }
            }
        }
    });
    let dismiss = {
        let ask = ask.clone();
        move || {
            if step.get_untracked() == Step::Ask {
                ask.send(Kind::Dismiss, &ask.new_id(), &Answer::default());
                ask.done();
            }
            close();
        }
    };
    let on_key = {
        let (dismiss, host) = (dismiss.clone(), host.clone());
        move |ev: web_sys::KeyboardEvent| {
            let key = ev.key();
            if key == "Escape" {
                dismiss();
            } else if modal && key == "Tab" && trap_focus(&host, ev.shift_key()) {
                ev.prevent_default();
            }
        }
    };

    let body = question_body(
        ask.metric,
        ask.look.as_deref(),
        &ask.question,
        &ask.options,
        ask.multiple,
        text,
        answer.clone(),
    );
    let follow_up = ask.follow_up.clone().map(|f| {
        let metric = if f.options.is_empty() {
            Metric::Text
        } else {
            Metric::Choice
        };
        let body = question_body(
            metric,
            None,
            &f.question,
            &f.options,
            f.multiple,
            text,
            answer,
        );
        view! {
            <div class="step" hidden=move || step.get() != Step::FollowUp node_ref=follow_box>
                <p class="question">{f.question}</p>
                {body}
            </div>
        }
    });
    let backdrop = modal.then(|| {
        let dismiss = dismiss.clone();
        view! { <div class="backdrop" on:click=move |_| dismiss()></div> }
    });
    view! {
        {backdrop}
        <section
            class="card"
            role=if inline { "region" } else { "dialog" }
            aria-modal=modal.then_some("true")
            aria-label=ask.question.clone()
            dir=if text.rtl { "rtl" } else { "ltr" }
            on:keydown=on_key
        >
            {(!inline)
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="close"
                            aria-label=text.close
                            on:click=move |_| dismiss()
                        >
                            "×"
                        </button>
                    }
                })}
            <div class="step" hidden=move || step.get() != Step::Ask>
                <p class="question">{ask.question.clone()}</p>
                {body}
            </div>
            {follow_up}
            <p class="thanks" role="status">
                {move || if step.get() == Step::Thanks { text.thanks } else { "" }}
            </p>
        </section>
    }
}

/// Keeps Tab within a modal prompt: from its last control to its first
/// (Shift+Tab: from the first to the last). Returns whether it moved focus.
fn trap_focus(host: &web_sys::HtmlElement, back: bool) -> bool {
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
        Some(to) if at_edge => to.unchecked_into::<web_sys::HtmlElement>().focus().is_ok(),
        _ => false,
    }
}

/// Focuses what `find` returns once the DOM has caught up with a change.
fn focus_later(find: impl FnOnce() -> Option<web_sys::Element> + 'static) {
    set_timeout(
        move || {
            if let Some(el) = find() {
                let _ = el.unchecked_into::<web_sys::HtmlElement>().focus();
            }
        },
        Duration::ZERO,
    );
}

/// The answering part of a question of `metric`.
fn question_body(
    metric: Metric,
    look: Option<&str>,
    question: &str,
    options: &[Choice],
    multiple: bool,
    text: &'static Strings,
    answer: Rc<dyn Fn(Answer)>,
) -> impl IntoView + use<> {
    let label = question.to_owned();
    if let Some((lo, hi)) = metric.scale() {
        let (low, high) = text.ends(metric);
        let items = (lo..=hi)
            .map(|n| {
                let mut name = match metric {
                    Metric::Thumbs => text.no_yes[usize::from(n == 1)].to_owned(),
                    _ => [num(n).as_str(), " ", text.of, " ", num(hi).as_str()].concat(),
                };
                if metric != Metric::Thumbs && (n == lo || n == hi) {
                    name.push_str(", ");
                    name.push_str(if n == lo { low } else { high });
                }
                // Thumbs say their word too: the emoji alone can be unclear.
                let face = match (metric, look) {
                    (Metric::Thumbs, _) => [face(metric, n).as_str(), " ", name.as_str()].concat(),
                    (_, Some("stars")) => "★".into(),
                    (_, Some("faces")) => face(Metric::Emoji, n),
                    _ => face(metric, n),
                };
                (face, name)
            })
            .collect();
        let class = match look {
            Some("stars") => "scale stars",
            _ if hi - lo >= 7 => "scale wide",
            _ => "scale",
        };
        let pick = Rc::new(move |i: Vec<usize>| {
            let n = lo + i64::try_from(i[0]).unwrap_or(0);
            answer(Answer {
                score: Some(n),
                ..Answer::default()
            });
        });
        let ends = (metric != Metric::Thumbs).then(|| {
            view! {
                <div class="ends" aria-hidden="true">
                    <span>{low}</span>
                    <span>{high}</span>
                </div>
            }
        });
        EitherOf3::A(view! {
            <Picker items label multiple=false class send=text.send pick />
            {ends}
        })
    } else if metric == Metric::Text {
        let send = Rc::new(move |comment: String| {
            answer(Answer {
                comment: Some(comment),
                ..Answer::default()
            });
        });
        EitherOf3::B(view! { <TextBox label text send /> })
    } else {
        let ids: Vec<String> = options.iter().map(|o| o.id.clone()).collect();
        let items = options
            .iter()
            .map(|o| (o.label.clone(), o.label.clone()))
            .collect();
        let pick = Rc::new(move |picked: Vec<usize>| {
            answer(Answer {
                choices: Some(picked.iter().map(|i| ids[*i].clone()).collect()),
                ..Answer::default()
            });
        });
        EitherOf3::C(view! { <Picker items label multiple class="list" send=text.send pick /> })
    }
}

/// A group of options: radio buttons answered with one tap (arrow keys,
/// Home and End move between them), or checkboxes and a Send button.
#[component]
fn Picker(
    /// Visible content and accessible name of each option.
    items: Vec<(String, String)>,
    /// The group's accessible name (the question).
    label: String,
    /// Several may be picked.
    multiple: bool,
    /// `scale …` (in a row) or `list` (one per line).
    class: &'static str,
    /// The Send button's text.
    send: &'static str,
    /// Called with the indices picked.
    pick: Rc<dyn Fn(Vec<usize>)>,
) -> impl IntoView {
    let count = items.len();
    let focused = RwSignal::new(0usize);
    let picked = RwSignal::new(0u32);
    let group = NodeRef::<leptos::html::Div>::new();
    let on_arrows = move |ev: web_sys::KeyboardEvent| {
        let now = focused.get_untracked();
        let next = match ev.key().as_str() {
            "ArrowRight" | "ArrowDown" => (now + 1) % count,
            "ArrowLeft" | "ArrowUp" => (now + count - 1) % count,
            "Home" => 0,
            "End" => count - 1,
            _ => return,
        };
        ev.prevent_default();
        focused.set(next);
        let target = group
            .get_untracked()
            .and_then(|g| g.children().item(u32::try_from(next).unwrap_or(0)));
        if let Some(el) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    };
    let buttons = items
        .into_iter()
        .enumerate()
        .map(|(i, (face, name))| {
            let pick = pick.clone();
            let bit = 1u32 << i;
            view! {
                <button
                    type="button"
                    class="opt"
                    role=if multiple { "checkbox" } else { "radio" }
                    aria-checked=move || if picked.get() & bit == 0 { "false" } else { "true" }
                    tabindex=move || if multiple || focused.get() == i { "0" } else { "-1" }
                    aria-label=name
                    on:focus=move |_| focused.set(i)
                    on:click=move |_| {
                        if multiple {
                            picked.update(|p| *p ^= bit);
                        } else if picked.get_untracked() == 0 {
                            picked.set(bit);
                            pick(vec![i]);
                        }
                    }
                >
                    {face}
                </button>
            }
        })
        .collect_view();
    let submit = multiple.then(|| {
        view! {
            <button
                type="button"
                class="send"
                disabled=move || picked.get() == 0
                on:click=move |_| {
                    let p = picked.get_untracked();
                    pick((0..count).filter(|i| p & (1 << i) != 0).collect());
                }
            >
                {send}
            </button>
        }
    });
    view! {
        <div
            class=class
            role=if multiple { "group" } else { "radiogroup" }
            aria-label=label
            node_ref=group
            on:keydown=move |ev| if !multiple { on_arrows(ev) }
        >
            {buttons}
        </div>
        {submit}
    }
}

/// An open answer and its Send button (enabled once something is typed).
#[component]
fn TextBox(
    /// The field's accessible name (the question).
    label: String,
    /// The prompt's words.
    text: &'static Strings,
    /// Called with what was typed.
    send: Rc<dyn Fn(String)>,
) -> impl IntoView {
    let area = NodeRef::<leptos::html::Textarea>::new();
    let empty = RwSignal::new(true);
    let typed = move || area.get_untracked().map(|a| a.value()).unwrap_or_default();
    view! {
        <textarea
            node_ref=area
            rows="3"
            maxlength="2000"
            aria-label=label
            placeholder=text.placeholder
            on:input=move |_| empty.set(typed().trim().is_empty())
        ></textarea>
        <button
            type="button"
            class="send"
            disabled=move || empty.get()
            on:click=move |_| {
                let v = typed();
                if !v.trim().is_empty() {
                    send(v);
                }
            }
        >
            {text.send}
        </button>
    }
}

/// A small non-negative number as text, without the formatting machinery.
fn num(n: i64) -> String {
    let n = u8::try_from(n.clamp(0, 99)).unwrap_or(0);
    let mut s = String::new();
    if n >= 10 {
        s.push(char::from(b'0' + n / 10));
    }
    s.push(char::from(b'0' + n % 10));
    s
}

fn face(metric: Metric, n: i64) -> String {
    match metric {
        Metric::Thumbs => if n == 1 { "👍" } else { "👎" }.into(),
        Metric::Emoji => {
            ["😞", "🙁", "😐", "🙂", "😄"][usize::try_from(n - 1).unwrap_or(0).min(4)].into()
        }
        _ => num(n),
    }
}
