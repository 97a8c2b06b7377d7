//! The prompt's parts: the question's body (scale, text or choice), the
//! picker with its one roving tab stop, the text box, and how numbers and
//! faces are written.

use super::*;

/// The answering part of a question of `metric`, at the end of `parent`.
#[allow(clippy::too_many_arguments)]
pub(super) fn question_body(
    parent: &web_sys::Node,
    metric: Metric,
    look: Option<&str>,
    question: &str,
    options: &[Choice],
    multiple: bool,
    text: &'static Strings,
    answer: Rc<dyn Fn(Answer)>,
) {
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
        picker(
            parent,
            items,
            question,
            false,
            class,
            text.send,
            Box::new(move |i: Vec<usize>| {
                answer(Answer {
                    score: Some(lo + i64::try_from(i[0]).unwrap_or(0)),
                    ..Answer::default()
                });
            }),
        );
        if metric != Metric::Thumbs {
            let ends = el(parent, "div", &[("class", "ends"), ("aria-hidden", "true")]);
            el_text(&ends, "span", &[], low);
            el_text(&ends, "span", &[], high);
        }
    } else if metric == Metric::Text {
        text_box(
            parent,
            question,
            text,
            Box::new(move |comment: String| {
                answer(Answer {
                    comment: Some(comment),
                    ..Answer::default()
                });
            }),
        );
    } else {
        let ids: Vec<String> = options.iter().map(|o| o.id.clone()).collect();
        let items = options
            .iter()
            .map(|o| (o.label.clone(), o.label.clone()))
            .collect();
        picker(
            parent,
            items,
            question,
            multiple,
            "list",
            text.send,
            Box::new(move |picked: Vec<usize>| {
                answer(Answer {
                    choices: Some(picked.iter().map(|i| ids[*i].clone()).collect()),
                    ..Answer::default()
                });
            }),
        );
    }
}

/// A group of options (`items`: what each shows and its accessible name,
/// `label`: the group's name, `class`: `scale …` in a row or `list` one per
/// line): radio buttons answered with one tap (arrow keys, Home and End move
/// between them, one tab stop), or with `multiple` checkboxes and a Send
/// button. `pick` is called with the indices picked.
pub(super) fn picker(
    parent: &web_sys::Node,
    items: Vec<(String, String)>,
    label: &str,
    multiple: bool,
    class: &str,
    send: &str,
    pick: Box<dyn Fn(Vec<usize>)>,
) {
    let group = el(
        parent,
        "div",
        &[
            ("class", class),
            ("role", if multiple { "group" } else { "radiogroup" }),
            ("aria-label", label),
        ],
    );
    let count = items.len();
    let buttons: Rc<[HtmlElement]> = items
        .iter()
        .enumerate()
        .map(|(i, (face, name))| {
            el_text(
                &group,
                "button",
                &[
                    ("type", "button"),
                    ("class", "opt"),
                    ("role", if multiple { "checkbox" } else { "radio" }),
                    ("aria-checked", "false"),
                    ("tabindex", if multiple || i == 0 { "0" } else { "-1" }),
                    ("aria-label", name),
                ],
                face,
            )
        })
        .collect();
    let submit = multiple.then(|| {
        let b = el_text(
            parent,
            "button",
            &[("type", "button"), ("class", "send")],
            send,
        );
        flag(&b, "disabled", true);
        b
    });
    let picked = Rc::new(Cell::new(0u32));
    let pick: Rc<dyn Fn(Vec<usize>)> = pick.into();
    // The one tab stop of a radio group follows the focus.
    let focused = Rc::new(Cell::new(0usize));
    let rove = {
        let (buttons, focused) = (buttons.clone(), focused.clone());
        move |i: usize| {
            focused.set(i);
            for (j, b) in buttons.iter().enumerate() {
                let _ = b.set_attribute("tabindex", if i == j { "0" } else { "-1" });
            }
        }
    };
    for (i, b) in buttons.iter().enumerate() {
        let bit = 1u32 << i;
        if !multiple {
            let rove = rove.clone();
            on(b, "focus", move |_| rove(i));
        }
        let (me, picked, pick, submit) = (b.clone(), picked.clone(), pick.clone(), submit.clone());
        on(b, "click", move |_| {
            let was = picked.get();
            if multiple {
                picked.set(was ^ bit);
            } else if was != 0 {
                return;
            } else {
                picked.set(bit);
            }
            let _ = me.set_attribute(
                "aria-checked",
                if picked.get() & bit == 0 {
                    "false"
                } else {
                    "true"
                },
            );
            match &submit {
                Some(s) => flag(s, "disabled", picked.get() == 0),
                None => pick(vec![i]),
            }
        });
    }
    if let Some(s) = &submit {
        let picked = picked.clone();
        on(s, "click", move |_| {
            let p = picked.get();
            if p != 0 {
                pick((0..count).filter(|i| p & (1 << i) != 0).collect());
            }
        });
    } else {
        on(&group, "keydown", move |ev| {
            let ev: &web_sys::KeyboardEvent = ev.unchecked_ref();
            let now = focused.get();
            let next = match ev.key().as_str() {
                "ArrowRight" | "ArrowDown" => (now + 1) % count,
                "ArrowLeft" | "ArrowUp" => (now + count - 1) % count,
                "Home" => 0,
                "End" => count - 1,
                _ => return,
            };
            ev.prevent_default();
            rove(next);
            let _ = buttons[next].focus();
        });
    }
}

/// An open answer (`label`: its accessible name) and its Send button,
/// enabled once something is typed; `send` is called with what was typed.
pub(super) fn text_box(
    parent: &web_sys::Node,
    label: &str,
    text: &'static Strings,
    send: Box<dyn Fn(String)>,
) {
    let area: web_sys::HtmlTextAreaElement = el(
        parent,
        "textarea",
        &[
            ("rows", "3"),
            ("maxlength", "2000"),
            ("aria-label", label),
            ("placeholder", text.placeholder),
        ],
    )
    .unchecked_into();
    let button = el_text(
        parent,
        "button",
        &[("type", "button"), ("class", "send")],
        text.send,
    );
    flag(&button, "disabled", true);
    {
        let (typed, button) = (area.clone(), button.clone());
        on(&area, "input", move |_| {
            flag(&button, "disabled", typed.value().trim().is_empty());
        });
    }
    on(&button, "click", move |_| {
        let v = area.value();
        if !v.trim().is_empty() {
            send(v);
        }
    });
}

/// A small non-negative number as text, without the formatting machinery.
pub(super) fn num(n: i64) -> String {
    let n = u8::try_from(n.clamp(0, 99)).unwrap_or(0);
    let mut s = String::new();
    if n >= 10 {
        s.push(char::from(b'0' + n / 10));
    }
    s.push(char::from(b'0' + n % 10));
    s
}

pub(super) fn face(metric: Metric, n: i64) -> String {
    match metric {
        Metric::Thumbs => if n == 1 { "👍" } else { "👎" }.into(),
        Metric::Emoji => {
            ["😞", "🙁", "😐", "🙂", "😄"][usize::try_from(n - 1).unwrap_or(0).min(4)].into()
        }
        _ => num(n),
    }
}
