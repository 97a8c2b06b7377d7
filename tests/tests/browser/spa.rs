//! Single-page apps: a new path (`history.pushState`, back and forward) or
//! a hash route (`/spa#/cart`) arms the touchpoints of that path.

use crate::world::{Site, TAB, WAIT, World, poll};

/// In a single-page app, each new path arms its own touchpoints: the old
/// path's pending triggers are cancelled, the widget is fetched when a later
/// path first needs it, and answers carry the path they were given on.
#[test]
fn single_page_app_routes_arm_their_own_touchpoints() {
    let w = World::new(&Site::fixture("spa"));
    let v = w.visitor(1024, 700);
    v.open("/spa/none");
    v.after_loader_decided();
    assert!(!v.widget_requested(), "nothing to ask on /spa/none");

    // A path with a touchpoint: the widget comes now, without a page load,
    // and starts (its feedback tab is the witness).
    v.js("history.pushState({}, '', '/spa');");
    v.wait_for_tab();
    // Leaving before spa-a's second is up cancels it: a second after
    // leaving, its prompt would have been on screen.
    v.js("history.pushState({}, '', '/spa/b');");
    poll(WAIT, "the widget to start on /spa/b", || {
        Ok(v.find_on(TAB, "button").is_none().then_some(()))
    })
    .unwrap();
    v.after_page_timers(1000);
    assert_eq!(v.question(), None, "the old path's trigger fired");

    v.js("touchpoint('show', 'spa-b');");
    v.wait_for_prompt("B?");
    v.click_in_prompt("[aria-label='Yes']");
    let raw = w.wait_for_responses(1);
    assert!(raw.contains(",/spa/b,app,spa-b,thumbs,1,"), "{raw}");

    // Back to /spa once the thank-you has gone: its touchpoint is armed
    // again, and fires this time.
    v.wait_until_no_prompt();
    v.js("history.back();");
    v.wait_for_prompt("A?");
    assert_eq!(
        v.fetched("/widget/"),
        2,
        "the widget (glue and wasm) is fetched once"
    );
}

/// A hash-routed app (`/spa#/cart`) navigates with `hashchange`: the hash
/// route counts as the path, for page globs and for the page answers carry;
/// a plain fragment (`#top`) is no route.
#[test]
fn hash_routes_count_as_paths() {
    let w = World::new(&Site::fixture("hash"));
    let v = w.visitor(1024, 700);
    v.open("/spa");
    // To a plain fragment: still /spa, whose pending trigger (a second
    // after the start) is not cancelled, as a new route's start would.
    v.js("location.hash = '#top';");
    v.wait_for_prompt("App?");
    v.click_in_prompt("[aria-label='Yes']");
    let raw = w.wait_for_responses(1);
    assert!(raw.contains(",/spa,unassigned,hash-app,thumbs,1,"), "{raw}");
    v.wait_until_no_prompt();

    // To a hash route: its own touchpoint, and its own path in the answer.
    v.js("location.hash = '#/cart/';");
    v.wait_for_prompt("Cart?");
    v.click_in_prompt("[aria-label='Yes']");
    let raw = w.wait_for_responses(2);
    assert!(
        raw.contains(",/spa/cart,unassigned,hash-cart,thumbs,1,"),
        "{raw}"
    );
}
