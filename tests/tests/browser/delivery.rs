//! What a page loads and sends, and what the server stores from it.

use crate::world::{Site, Visitor, WAIT, World, poll};
use serde_json::{Value, json};

#[test]
fn a_click_on_9_is_stored_under_its_page_and_stage() {
    let w = World::new(&Site::demo());
    let v = w.visitor(1280, 800);
    // The query string (and the e-mail in it) must never reach storage.
    v.open("/product/42?utm_source=mail&email=ann@shop.example");
    let nine = v.wait_for_button("9 out of 10");

    let shadow = v.on_prompt(
        "return [r.mode, r.adoptedStyleSheets.length, r.querySelectorAll('style').length, \
                 r.querySelectorAll('button.opt').length, r.querySelector('.question').textContent];",
    );
    assert_eq!(
        shadow,
        json!([
            "open",
            1,
            0,
            11,
            "How likely are you to recommend Demo Shop to a friend or colleague?"
        ])
    );
    v.settle();
    v.screenshot_as("nps-prompt-product");
    assert_eq!(v.violations("touchpoint-prompt"), Vec::<String>::new());

    // The widget travels compressed: the measured brotli bytes are what the page pays.
    let sizes = v.js(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('/widget/') || e.name.endsWith('/t.js')) \
           .map(e => [e.name.split('.').pop(), e.encodedBodySize, e.decodedBodySize]);",
    );
    let sizes = sizes.as_array().unwrap();
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    for s in sizes {
        let (encoded, decoded) = (s[1].as_u64().unwrap(), s[2].as_u64().unwrap());
        assert!(
            encoded > 0 && encoded * 2 < decoded,
            "{s} is not served compressed"
        );
    }

    v.click(&nine).unwrap();
    assert_eq!(v.thanks(), "Thank you for your feedback!");
    v.screenshot_as("nps-prompt-thanks");

    let row = w.wait_for_row("group_by=page,stage", |r| r["responses"] == 1);
    assert_eq!(row["page"], "/product/42");
    assert_eq!(row["stage"], "evaluate");
    assert_eq!(row["metric"], "nps");
    assert_eq!(row["impressions"], 1);
    assert_eq!(row["response_rate"], json!(1.0));
    assert_eq!(row["promoters"], 1);
    assert_eq!(row["nps"], json!(100.0));
    assert_eq!(row["distribution"], json!({"9": 1}));

    let csv = w.get(&format!(
        "/v1/sites/{}/export.csv?group_by=page,stage",
        w.key
    ));
    assert!(
        csv.lines()
            .any(|l| l.starts_with("/product/42,evaluate,nps,1,1,1,9,")),
        "{csv}"
    );
    let raw = w.responses_csv("");
    assert!(
        raw.contains(",/product/42,evaluate,site-nps,nps,9,"),
        "{raw}"
    );
    assert!(
        !raw.contains("ann@") && !raw.contains("utm_source"),
        "{raw}"
    );
    let ndjson = w.get(&format!("/v1/sites/{}/responses.ndjson", w.key));
    let stored: Value = serde_json::from_str(ndjson.lines().next().unwrap()).unwrap();
    assert_eq!(stored["device"], "desktop");
    assert!(
        stored["locale"]
            .as_str()
            .is_some_and(|l| l.starts_with("en")),
        "{stored}"
    );
}

#[test]
fn a_page_with_no_eligible_touchpoint_loads_only_the_loader_and_config() {
    let w = World::new(&Site::fixture("nps-on-checkout"));
    let v = w.visitor(1024, 700);
    v.open("/pricing");
    v.after_loader_decided();
    let loaded = v
        .eval(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.startsWith(arguments[0]));",
            vec![json!(w.api)],
        )
        .unwrap();
    assert_eq!(
        loaded,
        json!([
            format!("{}/t.js", w.api),
            format!("{}/v1/sites/{}/config", w.api, w.key)
        ])
    );
    assert_eq!(
        v.sent("/widget/"),
        Vec::<String>::new(),
        "not even asked for"
    );

    // The loader's glob matcher agrees with the server's.
    let cases = [
        ("/", "/"),
        ("/", "/pricing"),
        ("/product/*", "/product/42"),
        ("/product/*", "/product/42/reviews"),
        ("/product/**", "/product/42/reviews"),
        ("/product/**", "/product"),
        ("/product/**", "/products"),
        ("/**", "/"),
        ("/a/**/z", "/a/z"),
        ("/a/**/z", "/a/b/c/z"),
        ("/blog/*.html", "/blog/x.html"),
        ("/checkout*", "/checkout-done"),
    ];
    let js = v
        .eval(
            "return arguments[0].map(c => window.touchpoint.glob(c[0], c[1]));",
            vec![json!(cases)],
        )
        .unwrap();
    let rust: Vec<bool> = cases
        .iter()
        .map(|(g, p)| touchpoint_wire::page::glob_match(g, p))
        .collect();
    assert_eq!(js, json!(rust));

    // Where the touchpoint is eligible, the widget does load and ask.
    v.open("/checkout");
    v.wait_for_button("0 out of 10, Not likely");
}

/// Offline at the moment of answering: the answer waits in localStorage,
/// survives a navigation, and arrives exactly once when the server is back.
#[test]
fn an_answer_given_while_the_server_is_down_arrives_exactly_once() {
    let w = World::new(&Site::demo());
    let v = w.visitor(1024, 700);
    answer_while_offline(&w, &v);

    // Another page while the server is still down: the loader comes from the cache.
    v.open("/pricing");
    w.start_api();
    let row = w.wait_for_row("group_by=page", |r| r["responses"] == 1);
    assert_eq!(
        (row["page"].as_str(), row["promoters"].as_u64()),
        (Some("/product/42"), Some(1))
    );
    poll(WAIT, "the queue to empty", || {
        Ok(v.queued().is_empty().then_some(()))
    })
    .unwrap();
    // Resends (beacon, retries, the next page) never count twice.
    let raw = w.responses_csv("");
    assert_eq!(raw.lines().count(), 2, "{raw}");
}

/// `touchpoint('consent', false)` empties the queue and stops all sending:
/// an answer waiting for the server never arrives, and later pages do not
/// even fetch the config, until the page gives consent again.
#[test]
fn withdrawn_consent_empties_the_queue_and_stops_sending() {
    let w = World::new(&Site::demo());
    let v = w.visitor(1024, 700);
    answer_while_offline(&w, &v);
    v.js("touchpoint('consent', false);");
    assert_eq!(v.queued(), Vec::<Value>::new());
    w.start_api();

    v.open("/pricing");
    // The loader has run (the page has loaded) and the page has been idle
    // since: whatever it sends at start or when idle, it has sent.
    v.after_idle();
    assert_eq!(
        (
            v.sent(&w.api),
            v.fetched("/config"),
            v.fetched("/v1/events")
        ),
        (vec![], 0, 0),
        "nothing fetched, nothing sent"
    );
    let raw = w.responses_csv("");
    assert_eq!(
        raw.lines().count(),
        1,
        "the withdrawn answer never arrived: {raw}"
    );

    // Consent given again: the loader works as before, and has nothing
    // left of the withdrawn answer to send.
    v.js("touchpoint('consent', true);");
    v.open("/cart");
    poll(WAIT, "the config", || {
        Ok((v.fetched("/config") == 1).then_some(()))
    })
    .unwrap();
    let raw = w.responses_csv("");
    assert_eq!(raw.lines().count(), 1, "nor later: {raw}");
}

/// `data-stage` on the script tag names the page's journey stage: answers
/// carry it, whatever the site's globs say about the path.
#[test]
fn data_stage_on_the_script_tag_sets_the_stage() {
    let w = World::new(&Site::fixture("staged"));
    let v = w.visitor(1024, 700);
    v.open("/staged");
    v.wait_for_prompt("Helpful?");
    v.click_in_prompt("[aria-label='Yes']");
    let raw = w.wait_for_responses(1);
    assert!(raw.contains(",/staged,support,helpful,thumbs,1,"), "{raw}");
}

/// Answers 9 on /product/42's NPS prompt while the API is down, and waits
/// until the answer waits in the browser's delivery queue.
fn answer_while_offline(w: &World, v: &Visitor) {
    v.open("/product/42");
    let nine = v.wait_for_button("9 out of 10");
    w.stop_api();
    v.click(&nine).unwrap();
    poll(WAIT, "the answer to wait in the queue", || {
        let kinds: Vec<Value> = v.queued().iter().map(|e| e["kind"].clone()).collect();
        Ok((kinds == [json!("response")]).then_some(()))
    })
    .unwrap();
}

/// The server stores a batch all or nothing and names the faulty event by
/// its index: the loader drops that one event and sends the others again.
#[test]
fn an_event_the_server_refuses_is_dropped_alone_and_the_rest_arrive() {
    let w = World::new(&Site::demo());
    let v = w.visitor(1024, 700);
    v.before_each_page(&format!(
        "if (!sessionStorage.getItem('seeded')) {{ sessionStorage.setItem('seeded', '1'); \
         let e = (id, score) => ({{ id, kind: 'response', touchpoint: 'site-nps', metric: 'nps', score, \
           page: location.href, ts: new Date().toISOString(), visitor: 'seeded-visitor', session: 'seeded' }}); \
         localStorage.setItem('touchpoint:queue:{}', JSON.stringify([ \
           e('00000000-0000-4000-8000-00000000bad1', 11), e('00000000-0000-4000-8000-000000000900', 9)])); }}",
        w.key
    ));
    v.open("/pricing");
    poll(WAIT, "the queue to empty", || {
        Ok(v.queued().is_empty().then_some(()))
    })
    .unwrap();
    let stored: Vec<String> = w
        .events_of("seeded-visitor")
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stored, ["00000000-0000-4000-8000-000000000900"]);
}
