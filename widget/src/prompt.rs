//! The scale prompt (NPS 0–10, CSAT 1–5, CES 1–7, thumbs, emoji) in a
//! corner card, inside an open shadow root.

use crate::Ask;
use crate::i18n::strings;
use leptos::prelude::*;
use std::time::Duration;
use touchpoint_wire::{Kind, Metric};
use wasm_bindgen::{JsCast, JsValue};

const CSS: &str = include_str!("prompt.css");

/// Creates `<touchpoint-prompt>` with an open shadow root, adopts the
/// stylesheet, mounts the prompt and sends the impression.
pub fn mount(ask: Ask) -> Result<(), JsValue> {
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
    document.body().ok_or("no body")?.append_child(&host)?;
    ask.send(Kind::Impression, None);
    leptos::mount::mount_to(container, move || view! { <Prompt ask=ask host=host /> }).forget();
    Ok(())
}

/// One question with its scale; after an answer, a thank-you that fades.
#[component]
fn Prompt(
    /// The touchpoint being asked, and where to report.
    ask: Ask,
    /// The element hosting the shadow root, removed when the prompt closes.
    host: web_sys::HtmlElement,
) -> impl IntoView {
    let text = strings(&ask.lang);
    let (answered, set_answered) = signal(None::<i64>);
    let (lo, hi) = ask.metric.scale().unwrap_or((0, 10));
    let close = {
        let host = host.clone();
        move || host.remove()
    };
    let dismiss = {
        let ask = ask.clone();
        let close = close.clone();
        move |_| {
            if answered.get_untracked().is_none() {
                ask.send(Kind::Dismiss, None);
                ask.done();
            }
            close();
        }
    };
    let on_key = {
        let dismiss = dismiss.clone();
        move |ev: web_sys::KeyboardEvent| {
            if ev.key() == "Escape" {
                dismiss(());
            }
        }
    };
    // A radio group with a roving tabindex: Tab enters on one score, the
    // arrow keys (and Home/End) move between scores, Enter or Space answers.
    let count = usize::try_from(hi - lo + 1).unwrap_or(1);
    let (focused, set_focused) = signal(0usize);
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
        set_focused.set(next);
        let target = group
            .get_untracked()
            .and_then(|g| g.children().item(u32::try_from(next).unwrap_or(0)));
        if let Some(el) = target.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    };
    let buttons = (lo..=hi)
        .enumerate()
        .map(|(i, n)| {
            let ask = ask.clone();
            let close = close.clone();
            let label = score_label(ask.metric, n, hi, text.of);
            let face = face(ask.metric, n);
            view! {
                <button
                    type="button"
                    class="score"
                    role="radio"
                    aria-checked=move || if answered.get() == Some(n) { "true" } else { "false" }
                    tabindex=move || if focused.get() == i { "0" } else { "-1" }
                    aria-label=label
                    on:focus=move |_| set_focused.set(i)
                    on:click=move |_| {
                        if answered.get_untracked().is_none() {
                            set_answered.set(Some(n));
                            ask.send(Kind::Response, Some(n));
                            ask.done();
                            let close = close.clone();
                            set_timeout(close, Duration::from_millis(2500));
                        }
                    }
                >
                    {face}
                </button>
            }
        })
        .collect_view();
    let wide = hi - lo >= 7;
    let question = ask.question.clone();
    view! {
        <section class="card" role="dialog" aria-label=ask.question on:keydown=on_key>
            <button type="button" class="close" aria-label=text.close on:click=move |_| dismiss(())>
                "×"
            </button>
            <Show
                when=move || answered.get().is_none()
                fallback=move || view! { <p class="thanks" role="status">{text.thanks}</p> }
            >
                <p class="question">{question.clone()}</p>
                <div
                    class="scale"
                    class:wide=wide
                    role="radiogroup"
                    aria-label=question.clone()
                    node_ref=group
                    on:keydown=on_arrows
                >
                    {buttons.clone()}
                </div>
                <div class="ends" aria-hidden="true">
                    <span>{text.low}</span>
                    <span>{text.high}</span>
                </div>
            </Show>
        </section>
    }
}

fn score_label(metric: Metric, n: i64, hi: i64, of: &str) -> String {
    match (metric, n) {
        (Metric::Thumbs, 0) => "👎".into(),
        (Metric::Thumbs, _) => "👍".into(),
        _ => format!("{n} {of} {hi}"),
    }
}

fn face(metric: Metric, n: i64) -> String {
    match metric {
        Metric::Thumbs => if n == 1 { "👍" } else { "👎" }.into(),
        Metric::Emoji => {
            ["😞", "🙁", "😐", "🙂", "😄"][usize::try_from(n - 1).unwrap_or(0).min(4)].into()
        }
        _ => n.to_string(),
    }
}
