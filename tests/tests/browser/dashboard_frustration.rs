//! The dashboard's frustration screen: behavioural signals in the page
//! views that showed a prompt, and the scores given after them, as
//! `/frustration` has them, by touchpoint and by page, with its CSV.

use crate::dashboard::{EMAIL, PASSWORD, answer, link, no_violations, screenshots, sign_in};
use crate::world::{Site, WAIT, World, poll};
use serde_json::{Value, json};
use std::time::Duration;
use touchpoint_server::store::Role;

/// 80 visitors are shown the checkout's effort question; half of them
/// rage-click first and answer 2, the others answer 6.
fn frustrated_checkout(world: &World) -> Vec<Value> {
    let minute = Duration::from_secs(60);
    let mut events = Vec::new();
    for v in 0..80u32 {
        let rage = v % 2 == 0;
        let mut view = |n: u32, mut e: Value| {
            e["id"] = json!(format!("00000000-0000-4000-8000-{n:012x}"));
            e["visitor"] = json!(format!("shopper-{v}"));
            e["session"] = json!(format!("visit-{v}"));
            events.push(e);
        };
        let mut shown = answer(world, 0, "checkout-ces", "ces", 1, "/checkout", 3 * minute);
        shown["kind"] = json!("impression");
        for field in ["metric", "score"] {
            shown.as_object_mut().unwrap().remove(field);
        }
        view(3 * v, shown);
        if rage {
            let mut signal = answer(world, 0, "checkout-ces", "ces", 1, "/checkout", 2 * minute);
            signal["kind"] = json!("signal");
            signal["signal"] = json!("rage_click");
            for field in ["touchpoint", "metric", "score"] {
                signal.as_object_mut().unwrap().remove(field);
            }
            view(3 * v + 1, signal);
        }
        let score = if rage { 2 } else { 6 };
        view(
            3 * v + 2,
            answer(world, 0, "checkout-ces", "ces", score, "/checkout", minute),
        );
    }
    events
}

#[test]
fn frustration_shows_the_signals_and_the_scores_after_them() {
    let world = World::new(&Site::demo());
    world.add_user(EMAIL, PASSWORD, Role::Viewer);
    world.send(&frustrated_checkout(&world));
    let key = &world.key;
    let api = |by: &str| -> Value {
        serde_json::from_str(&world.get(&format!("/v1/sites/{key}/frustration?group_by={by}")))
            .unwrap()
    };

    let tab = world.visitor(1280, 900);
    sign_in(&tab, &world, PASSWORD);
    tab.click(&link(&tab, "Demo shop")).unwrap();
    tab.click(&link(&tab, "Frustration")).unwrap();
    let headers = || -> Vec<String> {
        serde_json::from_value(tab.js(
            "return [...document.querySelectorAll('table.frustration thead th')]
               .map(c => c.textContent.trim());",
        ))
        .unwrap()
    };
    for by in ["touchpoint", "page"] {
        let expected = api(by);
        let want = expected["rows"].as_array().unwrap().clone();
        let first_header = if by == "page" { "Page" } else { "Touchpoint" };
        // Header and rows read at once: the table may be redrawn between
        // two reads.
        let shown = poll(WAIT, "the frustration table", || {
            let (h, r): (Vec<String>, Vec<Vec<String>>) = serde_json::from_value(tab.js(
                "const t = document.querySelector('table.frustration');
                 if (!t) return [[], []];
                 return [[...t.querySelectorAll('thead th')].map(c => c.textContent.trim()),
                         [...t.querySelectorAll('tbody tr')]
                           .map(r => [...r.children].map(c => c.textContent.trim()))];",
            ))?;
            Ok(
                (h.first().map(String::as_str) == Some(first_header) && r.len() == want.len())
                    .then_some(r),
            )
        })
        .unwrap_or_else(|e| panic!("{e}: {:?}", tab.js("return document.body.innerText")));
        let checkout = want
            .iter()
            .position(|r| {
                r[by].as_str()
                    == Some(if by == "page" {
                        "/checkout"
                    } else {
                        "checkout-ces"
                    })
            })
            .unwrap_or_else(|| panic!("no checkout row: {expected}"));
        let (row, api_row) = (&shown[checkout], &want[checkout]);
        assert!(row[0].starts_with(api_row[by].as_str().unwrap()), "{row:?}");
        assert_eq!(row[1], api_row["impressions"].to_string());
        // Half the views recorded a rage click: the API's share, in percent.
        let rate = api_row["frustration_rate"].as_f64().unwrap();
        assert_eq!(rate, 0.5, "{api_row}");
        assert!(row[2].starts_with("50 %"), "{row:?}");
        assert_eq!(row[3], "Rage clicks 50 %", "{row:?}");
        // Answers after a rage click: 40 at 2.0, the others 40 at 6.0, and
        // the difference is significant.
        let after = &row[headers()
            .iter()
            .position(|h| h == "Score after a signal")
            .unwrap()];
        assert!(
            after.starts_with("2.0") && after.ends_with("40 answers"),
            "{after}"
        );
        let difference = row.last().unwrap();
        assert_eq!(
            api_row["difference"]["significant"],
            json!(true),
            "{api_row}"
        );
        assert!(
            difference.starts_with("−4.0") && difference.contains("significant"),
            "{difference}"
        );
        // The download is the API's CSV for what is shown.
        let href = tab
            .js("return document.querySelector('.downloads a').getAttribute('href');")
            .as_str()
            .unwrap()
            .to_owned();
        assert!(href.contains(&format!("group_by={by}")), "{href}");
        let csv = world.get(&href);
        assert_eq!(csv.lines().count(), want.len() + 1, "{csv}");
        assert!(
            csv.contains(if by == "page" {
                "/checkout"
            } else {
                "checkout-ces"
            }),
            "{csv}"
        );
        if by == "touchpoint" {
            no_violations(&tab, "frustration");
            screenshots(&tab, "frustration");
            tab.js("const s = document.getElementById('frustration-by');
                 s.value = 'page'; s.dispatchEvent(new Event('change'));");
        }
    }
}
