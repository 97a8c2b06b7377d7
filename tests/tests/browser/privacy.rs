//! What a visitor's privacy choices change: Global Privacy Control and
//! Do-Not-Track, sampling (who is asked at all), and the anonymous visitor
//! id's rotation.

use crate::world::{Site, World, poll};
use serde_json::{Value, json};

/// A browser that sends Global Privacy Control.
const GPC: &str =
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });";

/// A browser that sends Global Privacy Control (or Do-Not-Track) gets no
/// widget and sends nothing, unless the page gave consent or the site
/// chose not to respect the signal; the signal is recorded either way.
#[test]
fn global_privacy_control_keeps_the_widget_away_unless_consented() {
    let w = World::new(&Site::demo());
    let v = w.visitor(1024, 700);
    v.before_each_page(GPC);
    v.open("/pricing");
    // GPC: no touchpoint is eligible.
    v.after_loader_decided();
    assert!(!v.widget_requested(), "GPC: the widget is not even fetched");
    // The page asks for and gets consent: the prompt appears.
    v.js("touchpoint('consent', true);");
    v.open("/pricing");
    v.wait_for_button("9 out of 10");
    drop(v);

    // Do Not Track counts as the same wish.
    let v = w.visitor(1024, 700);
    v.before_each_page(
        "Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' });",
    );
    v.open("/pricing");
    v.after_loader_decided();
    assert!(!v.widget_requested(), "DNT: the widget is not even fetched");
    drop(v);

    // A site that chooses not to respect the signal still records it.
    let w = World::new(&Site::demo().with("respect_gpc = false"));
    let v = w.visitor(1024, 700);
    v.before_each_page(GPC);
    v.open("/pricing");
    let nine = v.wait_for_button("9 out of 10");
    v.click(&nine).unwrap();
    let stored = poll(crate::world::DELIVERY, "the response", || {
        let nd = w.get(&format!("/v1/sites/{}/responses.ndjson", w.key));
        Ok(nd.lines().next().map(str::to_owned))
    })
    .unwrap();
    let response: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(response["score"], json!(9));
    let raw = w
        .events_of(&v.visitor_id())
        .into_iter()
        .find(|e| e["id"] == response["id"])
        .unwrap();
    assert_eq!(raw["gpc"], json!(true));
}

/// `sample` is the share of visitors asked: a visitor's draw below it is
/// asked, one above it is not.
#[test]
fn sampling_asks_only_the_drawn_share() {
    let w = World::new(&Site::fixture("sampling"));
    for (draw, asked) in [("0.3", true), ("0.7", false)] {
        let v = w.visitor(1024, 700);
        v.before_each_page(&format!("Math.random = () => {draw};"));
        v.open("/pricing");
        if asked {
            // "none" (sample 0) would come first: on screen is "half" alone.
            assert_eq!(v.wait_for_question(), "Half?", "draw {draw}");
            v.after_page_timers(0);
            assert_eq!(v.prompts(), 1, "draw {draw}");
        } else {
            v.after_loader_decided();
            assert!(!v.widget_requested(), "draw {draw}: nothing to ask");
        }
    }
}

/// The anonymous visitor id is drawn anew after 30 days; a younger one is kept.
#[test]
fn the_visitor_id_rotates_after_thirty_days() {
    let w = World::new(&Site::demo());
    for (age_days, rotated) in [(40, true), (5, false)] {
        let v = w.visitor(1024, 700);
        v.before_each_page(&format!(
            "if (!sessionStorage.getItem('seeded')) {{ sessionStorage.setItem('seeded', 1); \
             localStorage.setItem('touchpoint:visitor', 'v-{age_days}-days'); \
             localStorage.setItem('touchpoint:visitor-since', String(Date.now() - {age_days} * 864e5)); }}"
        ));
        v.open("/pricing");
        let nine = v.wait_for_button("9 out of 10");
        v.click(&nine).unwrap();
        let now = v.visitor_id();
        assert_eq!(
            now != format!("v-{age_days}-days"),
            rotated,
            "{age_days} days: {now}"
        );
        let stored = poll(
            crate::world::DELIVERY,
            "the answer under the current id",
            || {
                let events = w.events_of(&now);
                Ok(events
                    .iter()
                    .any(|e| e["kind"] == "response")
                    .then_some(events.len()))
            },
        )
        .unwrap();
        assert!(stored >= 2, "impression and response under one id");
        let since = v.js(
            "return Date.now() - Number(localStorage.getItem('touchpoint:visitor-since')) < 864e5;",
        );
        assert_eq!(since, json!(rotated), "the new id's age starts now");
    }
}
