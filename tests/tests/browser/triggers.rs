//! When prompts appear: each trigger at its moment and not before, journey
//! stages, one prompt at a time, the contact budget, and the behavioural
//! signals (dead clicks, rage clicks, errors).

use crate::world::{Site, Visitor, WAIT, World, poll};
use serde_json::{Value, json};

/// Waits until the widget has started on this page (its feedback tab, the
/// fixture's witness, is on screen) and every timer it set for now has run;
/// then no prompt may be on screen.
fn no_prompt_yet(v: &Visitor, why: &str) {
    v.wait_for_tab();
    v.after_page_timers(0);
    assert_eq!(v.question(), None, "{why}");
}

/// Each trigger waits for its moment: no prompt before it, one after.
#[test]
fn each_trigger_fires_at_its_moment_and_not_before() {
    let w = World::new(&Site::fixture("triggers"));
    let v = w.visitor(1024, 400);

    v.open("/pricing");
    let room = v.js("return document.documentElement.scrollHeight / innerHeight;");
    assert!(
        room.as_f64().unwrap() > 1.5,
        "/pricing must scroll at 400 px: {room}"
    );
    no_prompt_yet(&v, "scroll: not before scrolling");
    v.js("window.scrollTo(0, innerHeight / 2);");
    v.js("window.scrollTo(0, document.documentElement.scrollHeight);");
    v.wait_for_prompt("Scrolled all the way?");

    v.open("/product/1");
    no_prompt_yet(&v, "exit: not before leaving");
    // The pointer moves within the page: no exit.
    v.js("document.dispatchEvent(new MouseEvent('mouseout', { clientY: 300, relatedTarget: document.body, bubbles: true }));");
    v.after_page_timers(0);
    assert_eq!(v.question(), None, "exit: not within the page");
    // The pointer leaves through the top of the window.
    v.js("document.dispatchEvent(new MouseEvent('mouseout', { clientY: -2, relatedTarget: null, bubbles: true }));");
    v.wait_for_prompt("Leaving already?");

    v.open("/product/42");
    no_prompt_yet(&v, "click: not before the click");
    v.click(&v.element("return document.querySelector('h1');"))
        .unwrap();
    v.wait_for_prompt("Clicked the title?");

    v.open("/checkout");
    v.wait_for_tab();
    v.js("touchpoint('track', 'newsletter_signup');");
    v.after_page_timers(0);
    assert_eq!(v.question(), None, "event: not on another event");
    v.js("touchpoint('track', 'order_placed');");
    v.wait_for_prompt("Was ordering easy?");

    v.open("/cart");
    no_prompt_yet(&v, "manual: never by itself");
    v.js("touchpoint('show', 't-manual');");
    v.wait_for_prompt("Shown on request?");

    v.open("/");
    v.wait_for_prompt("Been here a while?");

    // Every prompt shown sent its impression, under its own touchpoint.
    let rows = poll(WAIT, "six impressions", || {
        let rows = w.aggregates("group_by=touchpoint");
        Ok((rows.iter().filter(|r| r["impressions"] == 1).count() == 6).then_some(rows))
    })
    .unwrap();
    assert_eq!(rows.len(), 6, "{rows:?}");
}

/// Calls made before the script has loaded are kept: a `track` from the
/// page's queue stub still fires its prompt.
#[test]
fn a_track_call_made_before_the_script_loaded_still_fires() {
    let w = World::new(&Site::fixture("triggers"));
    let v = w.visitor(1024, 700);
    // Runs before any script of the page: the page's own queue stub, called early.
    v.before_each_page(
        "window.touchpoint = function () { (touchpoint.q = touchpoint.q || []).push(arguments) }; \
         touchpoint('track', 'order_placed');",
    );
    v.open("/checkout");
    v.wait_for_prompt("Was ordering easy?");
}

/// One prompt at a time, and at most one per visitor per `contact_days`
/// across touchpoints: the others are held back, and what the marketer
/// sees is the one impression.
#[test]
fn the_contact_budget_and_one_prompt_at_a_time_hold_the_rest_back() {
    let w = World::new(&Site::fixture("budget").with("contact_days = 1"));
    let v = w.visitor(1024, 700);
    v.open("/pricing");
    v.wait_for_prompt("First?");
    // "second" fired with "first" (both at load): it is not shown beside it.
    v.after_page_timers(0);
    assert_eq!((v.prompts(), v.question()), (1, Some("First?".into())));
    // Nor after it: a prompt held back by an open one takes its turn a
    // second after that one closes, unless the budget is spent.
    v.click_in_prompt(".close");
    v.after_page_timers(1000);
    assert_eq!(v.prompts(), 0, "the budget is spent");

    // Another page, other touchpoints: the budget is spent for a day, for
    // the one at load and for the one on a click, however often clicked.
    v.open("/cart");
    v.wait_for_tab();
    let title = v.element("return document.querySelector('h1');");
    v.click(&title).unwrap();
    v.click(&title).unwrap();
    v.after_page_timers(0);
    assert_eq!(v.prompts(), 0, "the budget holds them back");

    let shown = poll(WAIT, "the first impression", || {
        let rows = w.aggregates("group_by=touchpoint");
        Ok(rows
            .iter()
            .any(|r| r["touchpoint"] == "first" && r["impressions"] == 1)
            .then_some(rows))
    })
    .unwrap();
    let shown: Vec<&Value> = shown
        .iter()
        .filter(|r| r["impressions"] != 0)
        .map(|r| &r["touchpoint"])
        .collect();
    assert_eq!(shown, [&json!("first")]);
}

/// Without a contact budget, a prompt whose trigger fired while another was
/// open waits its turn and appears once that one has closed.
#[test]
fn a_prompt_held_back_by_an_open_one_appears_after_it_closes() {
    let w = World::new(&Site::fixture("one-at-a-time"));
    let v = w.visitor(1024, 700);
    v.open("/pricing");
    v.wait_for_prompt("First?");
    // "second" fires 300 ms after the start, while "first" is open.
    v.after_page_timers(300);
    assert_eq!((v.prompts(), v.question()), (1, Some("First?".into())));
    v.click_in_prompt("[aria-label='Yes']");
    assert_eq!(v.thanks(), "Thank you for your feedback!");
    // The thank-you fades, then the second takes its turn.
    v.wait_for_prompt("Second?");
    assert_eq!(v.prompts(), 1);
}

/// A touchpoint for some journey stages appears only there: on a page of
/// that stage by its globs, or once the page says it is on it.
#[test]
fn a_touchpoint_for_a_stage_appears_only_on_that_stage() {
    let w = World::new(&Site::fixture("stage"));
    let v = w.visitor(1024, 700);
    // /pricing is in "evaluate" by the site's globs. Requests are handled
    // in order, one prompt at a time: "anywhere" on screen means "buying"
    // was turned down.
    v.open("/pricing");
    v.js("touchpoint('show', 'buying'); touchpoint('show', 'anywhere');");
    assert_eq!(v.wait_for_question(), "Anything else?", "not on evaluate");
    v.click_in_prompt(".close");
    // The page says where the visitor is.
    v.js("touchpoint('stage', 'purchase'); touchpoint('show', 'buying');");
    assert_eq!(v.wait_for_question(), "Buying going well?", "on purchase");
    // /cart is in "purchase" by the globs (a new session: shown again).
    v.js("sessionStorage.clear();");
    v.open("/cart");
    v.js("touchpoint('show', 'buying');");
    assert_eq!(v.wait_for_question(), "Buying going well?", "on /cart");
}

/// A click on a button that does nothing (no DOM change, no scroll, no
/// route within a second) is a dead click: sent once as a signal, and a
/// touchpoint can ask after it. A button that answers is no dead click.
#[test]
fn a_dead_click_is_a_signal_and_can_ask() {
    let w = World::new(&Site::fixture("dead-click"));
    let v = w.visitor(1024, 700);
    v.open("/pricing");
    v.wait_for_tab();
    v.js(
        "document.body.insertAdjacentHTML('afterbegin', '<button id=live>Show more</button> <button id=dead>Apply coupon</button> <a id=away href=\"/cart\" onclick=\"event.preventDefault()\">Cart</a>'); \
         document.getElementById('live').addEventListener('click', e => { e.target.textContent = 'Shown'; });",
    );
    let button = |id: &str| v.element(&format!("return document.getElementById('{id}');"));
    v.click(&button("live")).unwrap();
    // A link to another page is no candidate, even when the page stops it.
    v.click(&button("away")).unwrap();
    // The widget looks a second after each click for a change.
    v.after_page_timers(1000);
    assert_eq!(v.question(), None, "an answered click");
    v.click(&button("dead")).unwrap();
    v.wait_for_prompt("Did something not work?");
    let signals = poll(WAIT, "the signal stored", || {
        let signals: Vec<Value> = w
            .events_of(&v.visitor_id())
            .into_iter()
            .filter(|e| e["kind"] == "signal")
            .collect();
        Ok((!signals.is_empty()).then_some(signals))
    })
    .unwrap();
    assert_eq!(signals.len(), 1, "{signals:?}");
    assert_eq!(
        (&signals[0]["signal"], &signals[0]["page"]),
        (&json!("dead_click"), &json!("/pricing"))
    );
}

/// Rage clicks and JavaScript errors are sent as signals, once per page and
/// with nothing but their name, page and stage; a touchpoint can ask after one.
#[test]
fn rage_clicks_and_errors_are_signals_and_can_ask() {
    let w = World::new(&Site::fixture("rage-click"));
    let v = w.visitor(1024, 700);
    v.open("/pricing");
    v.wait_for_tab();
    // Two errors and two bursts of clicks: still one signal of each.
    v.js(
        "setTimeout(() => { throw new Error('boom') }); setTimeout(() => { throw new Error('again') }); \
         const h = document.querySelector('h1'); \
         const click = (x) => h.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: x, clientY: 100 })); \
         click(100); click(300);",
    );
    v.after_page_timers(0);
    assert_eq!(v.question(), None, "two clicks far apart are no rage");
    v.js(
        "const h = document.querySelector('h1'); \
         for (let i = 0; i < 6; i++) h.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: 120 + i, clientY: 100 }));",
    );
    v.wait_for_prompt("Stuck? Tell us what happened.");
    let signals = poll(WAIT, "two signals stored", || {
        let mut signals: Vec<(String, String, String)> = w
            .events_of(&v.visitor_id())
            .iter()
            .filter(|e| e["kind"] == "signal")
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap().to_owned();
                (s("signal"), s("page"), s("stage"))
            })
            .collect();
        signals.sort();
        Ok((signals.len() >= 2).then_some(signals))
    })
    .unwrap();
    let at = |signal: &str| {
        (
            signal.to_owned(),
            "/pricing".to_owned(),
            "evaluate".to_owned(),
        )
    };
    assert_eq!(signals, [at("error"), at("rage_click")]);
}
