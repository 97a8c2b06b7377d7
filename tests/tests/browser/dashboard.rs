//! The dashboard at `/app`, as a marketer uses it: sign in with the fields
//! labelled "Email" and "Password", pick the site, read what changed and
//! the journey map (the same numbers as the API), open a touchpoint's trend.

use crate::world::{Site, Visitor, WAIT, World, poll, screenshot_dir};
use serde_json::{Value, json};
use std::time::Duration;
use time::OffsetDateTime;
use touchpoint_e2e::Element;
use touchpoint_server::store::Role;

pub(crate) const EMAIL: &str = "mia@shop.example";
pub(crate) const PASSWORD: &str = "reads the journey map";

/// An answer to `touchpoint` on the shop's `path`, `ago` before now.
pub(crate) fn answer(
    world: &World,
    n: u32,
    touchpoint: &str,
    metric: &str,
    score: i64,
    path: &str,
    ago: Duration,
) -> Value {
    let ts = OffsetDateTime::now_utc() - ago;
    json!({
        "id": format!("00000000-0000-4000-8000-{n:012x}"),
        "kind": "response",
        "touchpoint": touchpoint,
        "metric": metric,
        "score": score,
        "page": format!("{}{path}", world.shop),
        "visitor": format!("visitor-{n}"),
        "ts": ts.format(&time::format_description::well_known::Rfc3339).unwrap(),
    })
}

/// The demo's site with a week of history: checkout effort fell from 6.5
/// last week to 2.5 this week (40 answers each), and 12 NPS answers on a
/// product page (a small sample).
fn seeded_world() -> World {
    let world = World::new(&Site::demo());
    world.add_user(EMAIL, PASSWORD, Role::Viewer);
    let week = Duration::from_secs(7 * 86_400);
    let minute = Duration::from_secs(60);
    let mut events = Vec::new();
    for i in 0..40 {
        events.push(answer(
            &world,
            i,
            "checkout-ces",
            "ces",
            6 + i64::from(i % 2),
            "/checkout",
            week,
        ));
        events.push(answer(
            &world,
            100 + i,
            "checkout-ces",
            "ces",
            2 + i64::from(i % 2),
            "/checkout",
            minute,
        ));
    }
    for i in 0..12 {
        events.push(answer(
            &world,
            200 + i,
            "site-nps",
            "nps",
            i64::from(i % 11),
            "/product/42",
            Duration::from_secs(2 * 86_400),
        ));
    }
    world.send(&events);
    world
}

/// The element `script` returns, once it does.
pub(crate) fn wait_for(tab: &Visitor, what: &str, script: &str) -> Element {
    poll(WAIT, what, || tab.element_by_script(script, vec![]))
        .unwrap_or_else(|e| panic!("{e:#}; console: {:?}", tab.console()))
}

/// The text of the first element matching `selector`, once there is one.
pub(crate) fn text_of(tab: &Visitor, selector: &str) -> String {
    poll(WAIT, selector, || {
        Ok(tab
            .eval(
                "const e = document.querySelector(arguments[0]); return e && e.textContent;",
                vec![json!(selector)],
            )?
            .as_str()
            .map(str::to_owned))
    })
    .unwrap_or_else(|e| panic!("{e:#}; console: {:?}", tab.console()))
}

/// The input a `<label>` with exactly `label` names, as a screen reader finds it.
pub(crate) fn field(tab: &Visitor, label: &str) -> Element {
    let script = format!(
        "const l = [...document.querySelectorAll('label')].find(l => l.textContent.trim() === {label:?}); \
         return l && l.control;"
    );
    wait_for(tab, &format!("the field labelled {label}"), &script)
}

pub(crate) fn button(tab: &Visitor, text: &str) -> Element {
    let script = format!(
        "return [...document.querySelectorAll('button')].find(b => b.textContent.trim() === {text:?});"
    );
    wait_for(tab, &format!("the button {text}"), &script)
}

/// The `href` of the link whose text is `text`.
pub(crate) fn href_of(tab: &Visitor, text: &str) -> String {
    tab.eval(
        "return [...document.querySelectorAll('a')].find(a => a.textContent === arguments[0]).getAttribute('href');",
        vec![json!(text)],
    )
    .unwrap()
    .as_str()
    .unwrap_or_else(|| panic!("no link {text:?}"))
    .to_owned()
}

/// What the page downloads from `href`, fetched in the page (with its
/// session), as text.
pub(crate) fn fetch_text(tab: &Visitor, href: &str) -> String {
    tab.eval_async(
        "fetch(arguments[0]).then(r => r.text()).then(arguments[arguments.length - 1]);",
        vec![json!(href)],
    )
    .unwrap()
    .as_str()
    .unwrap()
    .to_owned()
}

pub(crate) fn link(tab: &Visitor, text: &str) -> Element {
    let script = format!(
        "return [...document.querySelectorAll('a')].find(a => a.textContent.includes({text:?}));"
    );
    wait_for(tab, &format!("the link {text}"), &script)
}

pub(crate) fn sign_in(tab: &Visitor, world: &World, password: &str) {
    sign_in_as(tab, world, EMAIL, password);
}

pub(crate) fn sign_in_as(tab: &Visitor, world: &World, email: &str, password: &str) {
    tab.goto(&format!("{}/app", world.api)).unwrap();
    let field_ = field(tab, "Email");
    tab.send_keys(&field_, email).unwrap();
    let pass = field(tab, "Password");
    tab.send_keys(&pass, password).unwrap();
    tab.click(&button(tab, "Sign in")).unwrap();
}

/// A number as the dashboard writes it: `+32`, `−5`, `81 %`, `6.1`.
fn shown_number(text: &str) -> f64 {
    text.replace('−', "-")
        .replace(['+', '%', ' '], "")
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

pub(crate) fn no_violations(tab: &Visitor, screen: &str) {
    let violations = tab.violations("body");
    assert!(
        violations.is_empty(),
        "axe-core on {screen}: {violations:#?}"
    );
}

pub(crate) fn fits_the_width(tab: &Visitor, screen: &str) {
    let overflow = tab
        .js("return document.documentElement.scrollWidth - window.innerWidth;")
        .as_i64()
        .unwrap();
    assert!(
        overflow <= 0,
        "{screen} is {overflow} px wider than the window"
    );
}

pub(crate) fn screenshots(tab: &Visitor, name: &str) {
    tab.set_window_size(1280, 900).unwrap();
    tab.screenshot_as(&format!("dashboard-{name}-desktop"));
    tab.set_window_size(375, 812).unwrap();
    fits_the_width(tab, name);
    tab.screenshot_as(&format!("dashboard-{name}-phone"));
    tab.set_window_size(1280, 900).unwrap();
}

#[test]
fn a_marketer_signs_in_and_reads_the_journey_map_the_api_gives() {
    let world = seeded_world();
    let tab = world.visitor(1280, 900);

    // The page runs no inline script and loads nothing from elsewhere.
    let page = ureq::get(format!("{}/app/sites/anything", world.api))
        .call()
        .unwrap();
    let csp = page
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");

    // A wrong password is said so, on the form.
    sign_in(&tab, &world, "not the password");
    let error = poll(WAIT, "the sign-in error", || {
        let t = tab.js("return document.querySelector('[role=alert]').textContent;");
        Ok(t.as_str().filter(|t| !t.is_empty()).map(str::to_owned))
    })
    .unwrap();
    assert!(error.contains("wrong"), "{error}");
    no_violations(&tab, "the sign-in form");
    screenshots(&tab, "sign-in");

    sign_in(&tab, &world, PASSWORD);
    tab.click(&link(&tab, "Demo shop")).unwrap();

    // Every cell shows the API's score, n and small-sample flag.
    let journey: Value =
        serde_json::from_str(&world.get(&format!("/v1/sites/{}/journey", world.key))).unwrap();
    let cells: Vec<(String, Value)> = journey["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            let stage = s["id"].as_str().unwrap().to_owned();
            s["touchpoints"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |c| (stage.clone(), c.clone()))
        })
        .collect();
    assert!(cells.len() >= 2, "{journey}");
    for (stage, cell) in &cells {
        let tp = cell["touchpoint"].as_str().unwrap();
        let at = format!("li[data-stage=\"{stage}\"] li[data-touchpoint=\"{tp}\"]");
        let n = text_of(&tab, &format!("{at} .cell-n"));
        assert!(
            n.starts_with(&format!("n = {}", cell["responses"])),
            "{stage}/{tp}: {n:?} against {cell}"
        );
        let score = text_of(&tab, &format!("{at} .cell-score"));
        let api = cell["score"].as_f64().unwrap();
        let within = if matches!(cell["metric"].as_str(), Some("ces" | "emoji")) {
            0.05
        } else {
            0.5
        };
        assert!(
            (shown_number(&score) - api).abs() <= within,
            "{stage}/{tp}: shows {score:?}, the API says {api}"
        );
        let small = tab
            .eval(
                "return document.querySelector(arguments[0]).classList.contains('small');",
                vec![json!(format!("{at} a"))],
            )
            .unwrap();
        assert_eq!(small, cell["small_sample"], "{stage}/{tp}");
    }

    // What changed, in a sentence with its numbers.
    let worse = text_of(&tab, ".said li.worse");
    assert!(
        worse.contains("effort got worse")
            && worse.contains("6.5 → 2.5 on 1–7")
            && worse.contains("40 answers"),
        "{worse}"
    );
    no_violations(&tab, "the journey map");
    screenshots(&tab, "journey");

    // The checkout cell opens its trend; 90 days are drawn by week, the
    // drop marked as significant, each week in the table.
    let checkout = wait_for(
        &tab,
        "the checkout cell",
        "return document.querySelector('li[data-touchpoint=\"checkout-ces\"] a');",
    );
    tab.click(&checkout).unwrap();
    tab.click(&button(&tab, "90 days")).unwrap();
    wait_for(
        &tab,
        "a significant drop on the chart",
        "return document.querySelector('svg.chart circle.mark.worse');",
    );
    let rows = poll(WAIT, "the weekly table", || {
        let rows = tab.js(
            "return [...document.querySelectorAll('table.points tbody tr')].map(r => r.textContent);",
        );
        let rows: Vec<String> = serde_json::from_value(rows)?;
        Ok(rows.iter().any(|r| r.contains("W")).then_some(rows))
    })
    .unwrap();
    let latest = &rows[0];
    assert!(
        latest.contains("2.5") && latest.contains("40") && latest.contains("significant"),
        "{latest}"
    );
    no_violations(&tab, "a touchpoint's trend");
    screenshots(&tab, "touchpoint");

    // Back to the journey with the browser's back button, then sign out.
    tab.js("history.back();");
    text_of(&tab, ".said li.worse");
    tab.click(&button(&tab, "Sign out")).unwrap();
    field(&tab, "Email");
    let console = tab.console().unwrap();
    assert!(
        !console
            .iter()
            .any(|m| m.contains("Content Security Policy") || m.contains("panicked")),
        "{console:#?}"
    );
    eprintln!("screenshots in {}", screenshot_dir().display());
}

#[test]
fn comments_are_shown_as_text_filtered_and_searched() {
    let world = World::new(&Site::demo());
    world.add_user(EMAIL, PASSWORD, Role::Viewer);
    let hour = Duration::from_secs(3600);
    let markup = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script> Checkout is <b>slow</b>";
    let mut events = vec![
        answer(&world, 1, "checkout-ces", "ces", 2, "/checkout", hour),
        answer(&world, 2, "site-nps", "nps", 1, "/product/7", 2 * hour),
        answer(&world, 3, "site-nps", "nps", 10, "/product/8", 3 * hour),
    ];
    events[0]["comment"] = json!(markup);
    events[1]["comment"] = json!("The size button does nothing, so annoying and frustrating!!");
    events[2]["comment"] = json!("Lovely shop, thank you!");
    world.send(&events);

    let tab = world.visitor(1280, 900);
    sign_in(&tab, &world, PASSWORD);
    tab.click(&link(&tab, "Demo shop")).unwrap();
    tab.click(&link(&tab, "Comments")).unwrap();
    let texts =
        || -> Vec<String> {
            serde_json::from_value(tab.js(
                "return [...document.querySelectorAll('.comment-text')].map(p => p.textContent);",
            ))
            .unwrap()
        };
    let all = poll(WAIT, "three comments", || {
        let t = texts();
        Ok((t.len() == 3).then_some(t))
    })
    .unwrap();
    // Newest first; the markup is the text it was, and nothing of it ran.
    assert_eq!(all[0], markup);
    assert_eq!(
        tab.js("return [document.querySelectorAll('.comments img, .comments script, .comments b').length, typeof window.pwned];"),
        json!([0, "undefined"])
    );
    no_violations(&tab, "the comments");
    screenshots(&tab, "comments");

    // Search, then the emotion filter.
    let q = field(&tab, "Search comments");
    tab.send_keys(&q, "SLOW\u{E007}").unwrap();
    poll(WAIT, "the search", || {
        Ok((texts() == [markup]).then_some(()))
    })
    .unwrap();
    // The download holds what is on screen: the one answer found.
    let href = href_of(&tab, "Answers as CSV");
    assert!(href.contains("q=SLOW"), "{href}");
    let csv = fetch_text(&tab, &href);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains(events[0]["id"].as_str().unwrap()), "{csv}");
    tab.js("const q = document.getElementById('q'); q.value = ''; q.form.requestSubmit();");
    poll(WAIT, "every comment again", || {
        Ok((texts().len() == 3).then_some(()))
    })
    .unwrap();
    tab.js("const s = document.getElementById('flag'); s.value = 'frustration'; s.dispatchEvent(new Event('change'));");
    // Only comments flagged so remain, each with its chip.
    poll(WAIT, "the frustrated comments", || {
        let t = texts();
        let chips =
            tab.js("return document.querySelectorAll('.comment .flag.frustration').length;");
        Ok((t.len() < 3
            && t.contains(
                &"The size button does nothing, so annoying and frustrating!!".to_owned(),
            )
            && chips == json!(t.len()))
        .then_some(()))
    })
    .unwrap();

    // An alert's link shows its one answer.
    let id = events[2]["id"].as_str().unwrap();
    tab.goto(&format!(
        "{}/app/sites/{}/comments?response={id}",
        world.api, world.key
    ))
    .unwrap();
    poll(WAIT, "the one answer", || {
        Ok((texts() == ["Lovely shop, thank you!"]).then_some(()))
    })
    .unwrap();
}

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
