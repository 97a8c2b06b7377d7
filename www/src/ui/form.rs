//! The pieces every setup form is made of, each drawn by one function for
//! all forms: a form's fields are data (a list of [`Field`]s), so the
//! dashboard's wasm holds the code that draws a field once, not once per
//! form (each distinct view costs its own code).

use leptos::html::{Input, Textarea};
use leptos::prelude::*;
use std::rc::Rc;

/// One labelled input of a form.
pub struct Field {
    pub id: &'static str,
    pub label: &'static str,
    /// The input's `type`: `text`, `url`, `number`.
    pub kind: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub required: bool,
    /// Across the whole row of the form's grid.
    pub wide: bool,
    pub input: NodeRef<Input>,
}

impl Field {
    /// A text field, empty, optional, one column wide.
    pub fn text(id: &'static str, label: &'static str, input: NodeRef<Input>) -> Field {
        Field {
            id,
            label,
            kind: "text",
            hint: "",
            value: String::new(),
            required: false,
            wide: false,
            input,
        }
    }

    pub fn hint(mut self, hint: &'static str) -> Field {
        self.hint = hint;
        self
    }

    pub fn value(mut self, value: String) -> Field {
        self.value = value;
        self
    }

    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub fn wide(mut self) -> Field {
        self.wide = true;
        self
    }

    pub fn kind(mut self, kind: &'static str) -> Field {
        self.kind = kind;
        self
    }
}

/// The fields, in a form's grid.
pub fn fields(list: Vec<Field>) -> impl IntoView {
    list.into_iter()
        .map(|f| {
            view! {
                <div class=if f.wide { "field wide" } else { "field" }>
                    <label for=f.id>{f.label}</label>
                    <input id=f.id type=f.kind placeholder=f.hint required=f.required value=f.value node_ref=f.input />
                </div>
            }
        })
        .collect_view()
}

/// A labelled text area: what a form reads a line at a time (`id: label`).
pub struct Area {
    pub id: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: String,
    pub input: NodeRef<Textarea>,
}

/// The text areas, each across a whole row of a form's grid.
pub fn areas(list: Vec<Area>) -> impl IntoView {
    list.into_iter()
        .map(|a| {
            view! {
                <div class="field wide">
                    <label for=a.id>{a.label}</label>
                    <textarea id=a.id rows="3" placeholder=a.hint node_ref=a.input>{a.value}</textarea>
                </div>
            }
        })
        .collect_view()
}

/// A text area's value, without the spaces around it.
pub fn area_value(r: NodeRef<Textarea>) -> String {
    r.get()
        .map(|i| i.value().trim().to_owned())
        .unwrap_or_default()
}

/// A labelled select of `(value, label)` options whose choice is kept in
/// `value` (the first option chosen at first).
pub fn choice(
    id: &'static str,
    label: &'static str,
    options: &'static [(&'static str, &'static str)],
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id on:change=move |ev| value.set(event_target_value(&ev))>
                {options.iter().map(|(v, l)| view! { <option value=*v selected=value.get_untracked() == *v>{*l}</option> }).collect_view()}
            </select>
        </div>
    }
}

/// A button in a list of actions on a form's items (move, remove).
pub struct Action {
    /// What it does, for screen readers (and on screen when `text` is empty).
    pub label: String,
    /// What the button shows: a sign (`↑`, `×`) beside the item it acts on.
    pub text: &'static str,
    /// Drawn disabled (nothing to do: the first can't move earlier).
    pub off: bool,
    pub run: Rc<dyn Fn()>,
}

/// The actions as a row of buttons, all disabled while `busy`.
pub fn actions(list: Vec<Action>, busy: RwSignal<bool>) -> impl IntoView {
    view! {
        <span class="removals">
            {list.into_iter().map(|a| {
                let (off, run) = (a.off, a.run);
                let text = if a.text.is_empty() { a.label.clone() } else { a.text.to_owned() };
                view! {
                    <button type="button" class="ghost" aria-label=a.label disabled=move || off || busy.get() on:click=move |_| run()>{text}</button>
                }
            }).collect_view()}
        </span>
    }
}

/// A form's submit button, disabled while `busy`.
pub fn submit(label: &'static str, busy: RwSignal<bool>) -> impl IntoView {
    view! {
        <p class="actions">
            <button type="submit" class="primary" disabled=move || busy.get()>{label}</button>
        </p>
    }
}
