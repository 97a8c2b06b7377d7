//! The behavioural signals: rage clicks, dead clicks and uncaught errors,
//! sent once per path, and the touchpoints that ask after them.

use super::*;

/// Listens, for the page's life, for the behavioural signals: a rage click
/// (three clicks within a second, within 40 px of each other) and an
/// uncaught error. Nothing about them is kept but that they happened.
pub(super) fn watch_signals(window: &web_sys::Window) {
    if let Some(document) = window.document() {
        listen(&document, "click", |ev| {
            let Some(ev) = ev.dyn_ref::<web_sys::MouseEvent>() else {
                return;
            };
            let (now, x, y) = (js_sys::Date::now(), ev.client_x(), ev.client_y());
            let rage = CLICKS.with(|c| {
                let mut clicks = c.borrow_mut();
                clicks.retain(|(t, cx, cy)| {
                    now - t < 1000.0 && (cx - x).abs() < 40 && (cy - y).abs() < 40
                });
                clicks.push((now, x, y));
                clicks.len() >= 3
            });
            if rage {
                signal("rage_click");
            }
            dead_click(ev, now);
        });
        // Anything the page does in answer to a click: its DOM changes, it
        // scrolls, it routes.
        let changed = Closure::<dyn FnMut()>::new(|| CHANGED.set(js_sys::Date::now()));
        if let (Ok(observer), Some(root)) = (
            web_sys::MutationObserver::new(changed.as_ref().unchecked_ref()),
            document.document_element(),
        ) {
            let init = web_sys::MutationObserverInit::new();
            init.set_subtree(true);
            init.set_child_list(true);
            init.set_attributes(true);
            init.set_character_data(true);
            let _ = observer.observe_with_options(&root, &init);
        }
        for event in ["scroll", "hashchange", "popstate"] {
            let _ = window.add_event_listener_with_callback_and_bool(
                event,
                changed.as_ref().unchecked_ref(),
                true,
            );
        }
        changed.forget();
    }
    listen(window, "error", |_| signal("error"));
}

/// A click on something that looks clickable (a button, a same-page link)
/// after which nothing happens for a second: the page's DOM does not
/// change, it does not scroll or route. Links to another page, form fields
/// and the widget's own controls are not candidates.
fn dead_click(ev: &web_sys::MouseEvent, at: f64) {
    let candidate = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|el| {
            el.closest("button,[role=button],[role=link],summary,input[type=submit],input[type=button],a,touchpoint-prompt,touchpoint-tab")
                .ok()
                .flatten()
        })
        .filter(|el| {
            let tag = el.tag_name();
            if tag.starts_with("TOUCHPOINT") {
                return false;
            }
            // A link is a candidate only when it stays on this page.
            tag != "A" || {
                let href = string(el, "href").unwrap_or_default();
                let here = web_sys::window()
                    .and_then(|w| w.location().href().ok())
                    .unwrap_or_default();
                let base = |u: &str| u.split('#').next().unwrap_or_default().to_owned();
                href.is_empty() || href.starts_with("javascript:") || base(&href) == base(&here)
            }
        });
    if candidate.is_some() {
        crate::later(1000, move || {
            if CHANGED.get() < at {
                signal("dead_click");
            }
        });
    }
}

/// Sends signal `name` once per path, and fires the touchpoints that ask
/// after it.
fn signal(name: &'static str) {
    let Some(armed) = armed() else {
        return;
    };
    if armed.signals.borrow().contains(&name) {
        return;
    }
    armed.signals.borrow_mut().push(name);
    let id = crate::new_id(&armed.ctx);
    let e = crate::event(
        &armed.ctx,
        Kind::Signal,
        &id,
        armed.stage.borrow().as_deref(),
    );
    let _ = js_sys::Reflect::set(&e, &JsValue::from_str("signal"), &JsValue::from_str(name));
    crate::dispatch(&armed.ctx, &e);
    for (i, tp) in armed.touchpoints.iter().enumerate() {
        let trigger = get(tp, keys::TRIGGER);
        if string(&trigger, keys::ON).as_deref() == Some("signal")
            && string(&trigger, keys::SIGNAL).as_deref() == Some(name)
        {
            fire_later(i, delay_of(&trigger), armed.generation);
        }
    }
}
