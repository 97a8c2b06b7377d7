//! The dashboard's reports beside the API: the pages table (sorted,
//! filtered, its exports the rows shown) and the insights (priorities,
//! drivers, conversion by score band), each the API's rows.

use crate::dashboard::{
    EMAIL, PASSWORD, answer, button, fetch_text, href_of, link, no_violations, screenshots,
    shown_number, sign_in,
};
use crate::world::{Site, WAIT, World, poll};
use serde_json::{Value, json};
use std::time::Duration;
use touchpoint_server::store::Role;

#[test]
fn the_pages_table_sorts_filters_and_downloads_what_it_shows() {
    let world = World::new(&Site::demo());
    world.add_user(EMAIL, PASSWORD, Role::Viewer);
    let hour = Duration::from_secs(3600);
    let mut events = Vec::new();
    let mut n = 0;
    // Product pages with 1 to 5 answers each, and the checkout with 7.
    for page in 1..=5u32 {
        for _ in 0..page {
            n += 1;
            events.push(answer(
                &world,
                n,
                "site-nps",
                "nps",
                i64::from(n % 11),
                &format!("/product/{page}"),
                hour,
            ));
        }
    }
    // Three of the checkout's answers from phones, the rest from desktops.
    for i in 0..7 {
        n += 1;
        let mut e = answer(&world, n, "checkout-ces", "ces", 1 + i, "/checkout", hour);
        e["device"] = json!(if i < 3 { "mobile" } else { "desktop" });
        events.push(e);
    }
    world.send(&events);
    let api_rows = world.aggregates("group_by=page");

    let tab = world.visitor(1280, 900);
    sign_in(&tab, &world, PASSWORD);
    tab.click(&link(&tab, "Demo shop")).unwrap();
    tab.click(&link(&tab, "Pages")).unwrap();
    let rows = || -> Vec<Vec<String>> {
        serde_json::from_value(tab.js(
            "return [...document.querySelectorAll('table.rows tbody tr')]
               .map(r => [...r.children].map(c => c.textContent));",
        ))
        .unwrap()
    };
    let shown = poll(WAIT, "the pages table", || {
        let r = rows();
        Ok((r.len() == api_rows.len()).then_some(r))
    })
    .unwrap_or_else(|e| panic!("{e}: {:?}", tab.js("return document.body.innerText")));
    // Most answers first, each row's n and score the API's.
    assert_eq!(shown[0][0], "/checkout");
    for row in &shown {
        let api = api_rows
            .iter()
            .find(|r| r["page"] == row[0].as_str())
            .unwrap_or_else(|| panic!("{row:?} is not an API row"));
        assert_eq!(row[4], api["responses"].to_string(), "{row:?}");
        let score = api["nps"].as_f64().or(api["ces"].as_f64()).unwrap();
        assert!(
            (shown_number(&row[2]) - score).abs() <= 0.5,
            "{row:?} against {api}"
        );
    }
    no_violations(&tab, "the pages table");
    screenshots(&tab, "pages");

    // Sorted by n, fewest first.
    tab.click(&button(&tab, "n")).unwrap();
    poll(WAIT, "fewest answers first", || {
        Ok((rows().first().map(|r| r[0].clone()) == Some("/product/1".to_owned())).then_some(()))
    })
    .unwrap();
    // Only the purchase stage.
    tab.js("const s = document.getElementById('stage'); s.value = 'purchase'; s.dispatchEvent(new Event('change'));");
    poll(WAIT, "the purchase stage alone", || {
        let r = rows();
        Ok((r.len() == 1 && r[0][0] == "/checkout").then_some(()))
    })
    .unwrap();

    // The download is what is on screen: the same filters, the API's CSV.
    let href = href_of(&tab, "Download CSV");
    assert!(
        href.contains("group_by=page") && href.contains("stage=purchase"),
        "{href}"
    );
    let csv = fetch_text(&tab, &href);
    assert_eq!(csv, world.get(&href));
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(
        csv.lines().nth(1).unwrap().starts_with("/checkout,"),
        "{csv}"
    );

    // By device, then phones alone: the API's rows, and the download's filter.
    let choose = |id: &str, value: &str| {
        tab.eval(
            "const s = document.getElementById(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change'));",
            vec![json!(id), json!(value)],
        )
        .unwrap();
    };
    choose("by", "device");
    choose("device", "mobile");
    let shown = poll(WAIT, "the phones' row", || {
        let r = rows();
        Ok((r.len() == 1 && r[0][0] == "mobile").then_some(r))
    })
    .unwrap();
    let api = world.aggregates("group_by=device&stage=purchase&device=mobile");
    assert_eq!(api.len(), 1, "{api:?}");
    assert_eq!(shown[0][4], api[0]["responses"].to_string());
    assert_eq!(api[0]["responses"], 3);
    let href = href_of(&tab, "Download CSV");
    assert!(href.contains("device=mobile"), "{href}");
    // Pages on phones: the API's rows by page with the same filters.
    choose("by", "page");
    let api = world.aggregates("group_by=page&stage=purchase&device=mobile");
    assert!(!api.is_empty());
    let shown = poll(WAIT, "the pages on phones", || {
        let r = rows();
        Ok((r.len() == api.len() && r.iter().all(|r| r[0].starts_with('/'))).then_some(r))
    })
    .unwrap();
    for row in &api {
        let page = row["page"].as_str().unwrap();
        let on_screen = shown.iter().find(|r| r[0] == page).unwrap();
        assert_eq!(on_screen[4], row["responses"].to_string(), "{page}");
    }
    let href = href_of(&tab, "Download CSV");
    assert!(
        href.contains("group_by=page") && href.contains("device=mobile"),
        "{href}"
    );
}

#[test]
fn priorities_drivers_and_outcomes_show_the_apis_rows() {
    let world = World::new(&Site::demo());
    world.add_user(EMAIL, PASSWORD, Role::Viewer);
    let hour = Duration::from_secs(3600);
    let mut events = Vec::new();
    // 60 visitors answer the relationship NPS and the checkout's effort;
    // those at ease at the checkout recommend more, and half of them order.
    for v in 0..60u32 {
        let ces = 1 + i64::from(v % 7);
        let nps = if ces >= 5 {
            9 + i64::from(v % 2)
        } else {
            i64::from(v % 7)
        };
        for (n, mut e) in [
            (
                3 * v,
                answer(
                    &world,
                    3 * v,
                    "site-nps",
                    "nps",
                    nps,
                    "/product/1",
                    2 * hour,
                ),
            ),
            (
                3 * v + 1,
                answer(
                    &world,
                    3 * v + 1,
                    "checkout-ces",
                    "ces",
                    ces,
                    "/checkout",
                    hour,
                ),
            ),
        ] {
            let _ = n;
            e["visitor"] = json!(format!("shopper-{v}"));
            events.push(e);
        }
        if v % 2 == 0 {
            let mut e = answer(
                &world,
                3 * v + 2,
                "checkout-ces",
                "ces",
                1,
                "/checkout",
                Duration::from_secs(60),
            );
            e["kind"] = json!("outcome");
            e["outcome"] = json!("order_placed");
            for field in ["touchpoint", "metric", "score"] {
                e.as_object_mut().unwrap().remove(field);
            }
            e["visitor"] = json!(format!("shopper-{v}"));
            events.push(e);
        }
    }
    world.send(&events);
    let key = &world.key;
    let json_of = |path: &str| -> Value { serde_json::from_str(&world.get(path)).unwrap() };
    let priorities = json_of(&format!("/v1/sites/{key}/priorities"));
    let drivers = json_of(&format!("/v1/sites/{key}/drivers?relationship=site-nps"));
    let outcomes = json_of(&format!("/v1/sites/{key}/outcomes?outcome=order_placed"));

    let tab = world.visitor(1280, 900);
    sign_in(&tab, &world, PASSWORD);
    tab.click(&link(&tab, "Demo shop")).unwrap();
    tab.click(&link(&tab, "Priorities")).unwrap();
    let table = |class: &str| -> Vec<Vec<String>> {
        serde_json::from_value(
            tab.eval(
                "return [...document.querySelectorAll('table.' + arguments[0] + ' tbody tr')]
               .map(r => [...r.children].map(c => c.textContent.trim()));",
                vec![json!(class)],
            )
            .unwrap(),
        )
        .unwrap()
    };
    let outcome_rows = poll(WAIT, "the outcomes table", || {
        let rows = table("outcomes");
        Ok((!rows.is_empty()).then_some(rows))
    })
    .unwrap();

    // Priorities in the API's order, with its n.
    let shown = table("priorities");
    let api = priorities["touchpoints"].as_array().unwrap();
    assert_eq!(shown.len(), api.len());
    for (row, p) in shown.iter().zip(api) {
        assert!(
            row[0].starts_with(p["touchpoint"].as_str().unwrap()),
            "{row:?} / {p}"
        );
        assert_eq!(row[3], p["responses"].to_string());
    }
    // Drivers: each touchpoint's visitors and groups.
    let shown = table("drivers");
    let api = drivers["touchpoints"].as_array().unwrap();
    assert_eq!(shown.len(), api.len(), "{drivers}");
    for (row, d) in shown.iter().zip(api) {
        assert_eq!(row[0], d["touchpoint"].as_str().unwrap());
        assert_eq!(
            row[1..4],
            [
                d["visitors"].to_string(),
                d["satisfied"].to_string(),
                d["unsatisfied"].to_string()
            ]
        );
    }
    // Outcomes: visitors and converted per band.
    let api = outcomes["rows"].as_array().unwrap();
    assert_eq!(outcome_rows.len(), api.len(), "{outcomes}");
    for (row, o) in outcome_rows.iter().zip(api) {
        assert_eq!(
            row[..4],
            [
                o["touchpoint"].as_str().unwrap().to_owned(),
                o["band"].as_str().unwrap().to_owned(),
                o["visitors"].to_string(),
                o["converted"].to_string()
            ]
        );
    }
    assert!(
        api.iter().any(|o| o["converted"].as_u64() > Some(0)),
        "{outcomes}"
    );
    no_violations(&tab, "priorities, drivers and outcomes");
    screenshots(&tab, "priorities");
}
