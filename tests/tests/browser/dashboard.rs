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
pub(crate) fn shown_number(text: &str) -> f64 {
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
