//! The dashboard's setup for site owners: the script tag, the stage
//! tester, the site file's round trip through a draft, edit controls only
//! for editors; a new account that creates a site and sets it up in forms;
//! and a touchpoint made in the editor, tried in the live preview,
//! published, asked on the shop, whose answer reaches the journey map.

use crate::dashboard::*;
use crate::world::{Site, Visitor, WAIT, World, inline, poll};
use serde_json::{Value, json};
use touchpoint_server::store::Role;

#[test]
fn setup_gives_the_script_tag_tests_stages_and_round_trips_the_site_file() {
    let world = World::new(&Site::demo());
    let editor = "eve@shop.example";
    world.add_user(editor, PASSWORD, Role::Editor);
    world.add_user(EMAIL, PASSWORD, Role::Viewer);
    let tab = world.visitor(1280, 900);
    sign_in_as(&tab, &world, editor, PASSWORD);
    tab.click(&link(&tab, "Demo shop")).unwrap();
    tab.click(&link(&tab, "Setup")).unwrap();

    // The tags to paste point at this server and this site.
    let tag = text_of(&tab, ".snippet");
    assert!(
        tag.contains(&format!("src=\"{}/t.js\"", world.api))
            && tag.contains(&format!("data-site=\"{}\"", world.key)),
        "{tag}"
    );
    // The stage tester answers by the server's page rules.
    let url = field(&tab, "Which stage is this URL?");
    tab.send_keys(&url, "https://shop.example/product/42?ref=mail\u{E007}")
        .unwrap();
    let answer = poll(WAIT, "the tester's answer", || {
        let t = tab.js("return document.querySelector('.answer').textContent;");
        Ok(t.as_str().filter(|t| !t.is_empty()).map(str::to_owned))
    })
    .unwrap();
    assert!(
        answer.starts_with("/product/42 is in the stage") && answer.contains("(evaluate)"),
        "{answer}"
    );
    no_violations(&tab, "the setup");
    screenshots(&tab, "setup");

    // The downloaded site file reads back as the site's configuration.
    let href = tab
        .js("return [...document.querySelectorAll('a')].find(a => a.textContent.startsWith('Download the site file')).getAttribute('href');")
        .as_str()
        .unwrap()
        .to_owned();
    let toml = fetch_text(&tab, &href);
    let file = touchpoint_server::site_file::parse(&toml).unwrap_or_else(|e| panic!("{e}: {toml}"));
    let site: Value =
        serde_json::from_str(&world.get(&format!("/v1/sites/{}/site", world.key))).unwrap();
    assert_eq!(serde_json::to_value(&file).unwrap(), site);

    // Uploaded with a stage renamed, it becomes the configuration; a file
    // with a fault is refused with the field named.
    let dir = tempfile::tempdir().unwrap();
    let upload = |text: &str| {
        let path = dir.path().join(format!("site-{}.toml", text.len()));
        std::fs::write(&path, text).unwrap();
        let input = wait_for(
            &tab,
            "the upload field",
            "return document.getElementById('upload');",
        );
        tab.send_keys(&input, path.to_str().unwrap()).unwrap();
    };
    upload(&toml.replacen("label = \"Evaluate\"", "label = \"Compare\"", 1));
    let said = told(&tab);
    assert!(said.starts_with("Saved the file as a draft"), "{said}");
    let compare = || {
        let site: Value =
            serde_json::from_str(&world.get(&format!("/v1/sites/{}/site", world.key))).unwrap();
        site["stage"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["label"] == "Compare")
    };
    assert!(!compare(), "a draft is not live");
    assert_eq!(text_of(&tab, ".changes"), "stage evaluate changed");
    tab.click(&button(&tab, "Publish")).unwrap();
    let said = told(&tab);
    assert!(said.starts_with("Published"), "{said}");
    assert!(compare(), "published");
    upload("[site]\nname = \"\"\n");
    let refused = told(&tab);
    assert!(refused.contains("site.name"), "{refused}");

    // A viewer reads the setup and has no control to change it.
    tab.click(&button(&tab, "Sign out")).unwrap();
    field(&tab, "Email");
    sign_in_as(&tab, &world, EMAIL, PASSWORD);
    tab.click(&link(&tab, "Demo shop")).unwrap();
    tab.click(&link(&tab, "Setup")).unwrap();
    text_of(&tab, ".stage-list");
    assert_eq!(
        tab.js("return document.getElementById('upload');"),
        Value::Null
    );
    assert!(text_of(&tab, "main").contains("You are a viewer"));
}

/// What the screen's one status line says next: it is emptied first, then
/// read once a save, a publish or a refusal has filled it.
fn told(tab: &Visitor) -> String {
    poll(WAIT, "what the change said", || {
        let t = tab.js("const p = document.querySelector('.toast p'); return p && !p.dataset.read && (p.dataset.read = 1, p.textContent);");
        Ok(t.as_str().map(str::to_owned))
    })
    .unwrap_or_else(|e| panic!("{e:#}; on screen: {}", tab.js("return document.querySelector('main').innerText.slice(0, 3000);")))
}

#[test]
fn a_new_account_creates_a_site_and_sets_it_up_in_forms() {
    let world = World::new(&Site::demo());
    world.add_account("nia@garden.example", PASSWORD);
    let tab = world.visitor(1280, 900);
    sign_in_as(&tab, &world, "nia@garden.example", PASSWORD);
    assert!(text_of(&tab, ".empty").starts_with("You have no sites yet"));
    no_violations(&tab, "the sites list with the new site form");
    screenshots(&tab, "new-site");

    // A fault is named on the form, and nothing is made.
    tab.send_keys(&field(&tab, "Name of the new site"), "Garden centre")
        .unwrap();
    let origins = field(
        &tab,
        "Origins allowed to send answers, separated by spaces (empty: any)",
    );
    tab.send_keys(&origins, "garden.example/shop").unwrap();
    tab.click(&button(&tab, "Create the site")).unwrap();
    let refused = text_of(&tab, "form p.error");
    assert!(refused.starts_with("site.origins"), "{refused}");
    tab.clear(&origins).unwrap();
    tab.send_keys(
        &origins,
        "https://garden.example https://www.garden.example",
    )
    .unwrap();
    tab.click(&button(&tab, "Create the site")).unwrap();

    // It opens on the new site's setup, whose tag names its key.
    let heading = text_of(&tab, "h1");
    let heading = poll(WAIT, "the new site's setup", || {
        let h = tab.js("return document.querySelector('h1').textContent;");
        Ok(h.as_str()
            .filter(|h| h.ends_with("setup"))
            .map(str::to_owned))
    })
    .unwrap_or_else(|e| panic!("{e:#}; was {heading}"));
    assert_eq!(heading, "Garden centre — setup");
    let tag = text_of(&tab, ".snippet");
    let key = tag
        .split("data-site=\"")
        .nth(1)
        .and_then(|k| k.split('"').next())
        .unwrap()
        .to_owned();
    assert_ne!(key, world.key);
    let site = |tab: &Visitor| -> Value {
        tab.eval_async(
            "fetch(arguments[0]).then(r => r.json()).then(arguments[arguments.length - 1]);",
            vec![json!(format!("/v1/sites/{key}/site"))],
        )
        .unwrap()
    };
    assert_eq!(
        site(&tab)["site"]["origins"],
        json!(["https://garden.example", "https://www.garden.example"])
    );

    // A stage from the stage form waits as a draft until published.
    tab.send_keys(&field(&tab, "Stage id"), "browse").unwrap();
    tab.send_keys(&field(&tab, "Stage label"), "Browse")
        .unwrap();
    tab.send_keys(&field(&tab, "Stage pages (globs)"), "/ /plants/**")
        .unwrap();
    tab.click(&button(&tab, "Save the stage")).unwrap();
    let said = told(&tab);
    assert!(said.starts_with("Saved: stage browse added."), "{said}");
    assert_eq!(text_of(&tab, ".changes"), "stage browse added");
    assert_eq!(site(&tab)["stage"], json!([]));
    no_violations(&tab, "the setup with a draft");
    tab.js("window.scrollTo(0, 0);");
    screenshots(&tab, "setup-draft");
    // An alert to a private address is refused, with the reason.
    tab.send_keys(
        &field(&tab, "Post to (URL; the same URL changes that alert)"),
        "http://127.0.0.1:9/hook",
    )
    .unwrap();
    tab.click(&button(&tab, "Save the alert")).unwrap();
    let refused = told(&tab);
    assert!(refused.contains("alert[0].url"), "{refused}");
    tab.click(&button(&tab, "Publish")).unwrap();
    let said = told(&tab);
    assert!(said.starts_with("Published"), "{said}");
    assert_eq!(
        site(&tab)["stage"],
        json!([{ "id": "browse", "label": "Browse", "pages": ["/", "/plants/**"] }])
    );
    assert!(text_of(&tab, ".panel.draft").contains("Everything below is live"));

    // The site's settings form renames it.
    let name = field(&tab, "Site name");
    tab.clear(&name).unwrap();
    tab.send_keys(&name, "Garden centre Nord").unwrap();
    tab.click(&button(&tab, "Save the site's settings"))
        .unwrap();
    let said = told(&tab);
    assert!(said.starts_with("Saved: the site's settings."), "{said}");
    assert_eq!(
        text_of(&tab, ".changes"),
        "site.name: \"Garden centre\" → \"Garden centre Nord\""
    );
}

#[test]
fn a_touchpoint_made_in_the_editor_asks_on_the_shop_and_its_answer_reaches_the_journey_map() {
    let world = World::new(&Site::fixture("nps-on-checkout"));
    world.add_user("eve@shop.example", PASSWORD, Role::Editor);
    let question = "How satisfied are you with our prices?";
    {
        let tab = world.visitor(1280, 900);
        sign_in_as(&tab, &world, "eve@shop.example", PASSWORD);
        tab.click(&link(&tab, "Demo shop")).unwrap();
        tab.click(&link(&tab, "Setup")).unwrap();
        tab.send_keys(&field(&tab, "Touchpoint id"), "pricing-csat")
            .unwrap();
        tab.send_keys(&field(&tab, "Question (English)"), question)
            .unwrap();
        tab.send_keys(&field(&tab, "Pages (globs; empty: every page)"), "/pricing")
            .unwrap();
        // The real widget shows the question as typed, in the page.
        let preview = inline("touchpoint-preview");
        poll(WAIT, "the question in the preview", || {
            let q = tab.on(
                &preview,
                "const q = r.querySelector('.question'); return q && q.textContent;",
                &[],
            );
            Ok((q.as_str() == Some(question)).then_some(()))
        })
        .unwrap_or_else(|e| panic!("{e:#}; console {:?}", tab.console()));
        poll(WAIT, "the preview's 4", || {
            Ok(tab.find_on(&preview, "[aria-label='4 out of 5']"))
        })
        .unwrap();
        no_violations(&tab, "the touchpoint editor");
        tab.js("document.querySelector('.tp-edit').scrollIntoView();");
        screenshots(&tab, "setup-preview");
        // The preview is drawn again while the form settles: find the
        // button afresh until a click lands on one still in the page.
        poll(WAIT, "a click on the preview's 4", || {
            Ok(tab
                .find_on(&preview, "[aria-label='4 out of 5']")
                .and_then(|four| tab.click(&four).ok()))
        })
        .unwrap();
        let would = text_of(&tab, ".preview p[role=status]");
        let would = poll(WAIT, "what the preview would send", || {
            let t = tab.js("return document.querySelector('.preview p[role=status]').textContent;");
            Ok(t.as_str().filter(|t| !t.is_empty()).map(str::to_owned))
        })
        .unwrap_or_else(|e| panic!("{e:#}; was {would:?}"));
        assert!(
            would.starts_with("A visitor's answer would be sent: score 4"),
            "{would}"
        );
        assert!(
            tab.sent("/v1/events").is_empty(),
            "the preview sends nothing"
        );

        tab.click(&button(&tab, "Save the touchpoint")).unwrap();
        let saved = told(&tab);
        assert!(
            saved.starts_with("Saved: pricing-csat added. It goes live when you publish."),
            "{saved}"
        );
        assert!(
            !world
                .get(&format!("/v1/sites/{}/config", world.key))
                .contains("pricing-csat"),
            "a draft is not served to visitors"
        );
        tab.click(&button(&tab, "Publish")).unwrap();
        let said = told(&tab);
        assert!(said.starts_with("Published"), "{said}");
    }
    // The shop's visitors are asked it on /pricing once the site's
    // configuration is served with it.
    poll(
        WAIT,
        "the new touchpoint in the served configuration",
        || {
            Ok(world
                .get(&format!("/v1/sites/{}/config", world.key))
                .contains("pricing-csat")
                .then_some(()))
        },
    )
    .unwrap();
    {
        let visitor = world.visitor(1280, 900);
        visitor.open("/pricing");
        visitor.wait_for_prompt(question);
        visitor.click_in_prompt("[aria-label='4 out of 5']");
        world.wait_for_row("group_by=touchpoint", |r| {
            r["touchpoint"] == "pricing-csat" && r["responses"] == 1
        });
    }
    assert!(
        !world
            .get(&format!("/v1/sites/{}/responses.csv", world.key))
            .contains("touchpoint-preview"),
        "nothing of the preview is stored"
    );
    // The answer is on the journey map, under the stage of /pricing.
    let tab = world.visitor(1280, 900);
    sign_in_as(&tab, &world, "eve@shop.example", PASSWORD);
    tab.click(&link(&tab, "Demo shop")).unwrap();
    let n = text_of(
        &tab,
        "li[data-stage=\"evaluate\"] li[data-touchpoint=\"pricing-csat\"] .cell-n",
    );
    assert!(n.starts_with("n = 1"), "{n}");
    let score = text_of(
        &tab,
        "li[data-stage=\"evaluate\"] li[data-touchpoint=\"pricing-csat\"] .cell-score",
    );
    assert_eq!(score, "100 %");
}

/// Sets a select's value as a person choosing it would.
fn choose(tab: &Visitor, id: &str, value: &str) {
    tab.eval(
        "const s = document.getElementById(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![json!(id), json!(value)],
    )
    .unwrap();
}

/// The draft's document, as the API holds it.
fn draft(tab: &Visitor, key: &str) -> Value {
    tab.eval_async(
        "fetch(arguments[0]).then(r => r.json()).then(arguments[arguments.length - 1]);",
        vec![json!(format!("/v1/sites/{key}/draft"))],
    )
    .unwrap()["document"]
        .clone()
}

#[test]
fn the_forms_edit_every_part_of_a_touchpoint_the_theme_outcomes_and_alerts() {
    let world = World::new(&Site::fixture("nps-on-checkout"));
    world.add_user("eve@shop.example", PASSWORD, Role::Editor);
    let tab = world.visitor(1280, 900);
    sign_in_as(&tab, &world, "eve@shop.example", PASSWORD);
    tab.click(&link(&tab, "Demo shop")).unwrap();
    tab.click(&link(&tab, "Setup")).unwrap();

    // A choice question with options in two languages, asked in a dialog
    // on a click, with a follow-up: the preview shows its options.
    tab.send_keys(&field(&tab, "Touchpoint id"), "reason")
        .unwrap();
    tab.send_keys(&field(&tab, "Question (English)"), "What brought you here?")
        .unwrap();
    choose(&tab, "tp-metric", "choice");
    choose(&tab, "tp-several", "several");
    tab.send_keys(
        &field(
            &tab,
            "Choice options, one a line: id: label (other languages: | de: label)",
        ),
        "price: The price | de: Der Preis\nspeed: Fast delivery",
    )
    .unwrap();
    choose(&tab, "tp-when", "click");
    tab.send_keys(&field(&tab, "Scroll %, selector, event or signal"), "#buy")
        .unwrap();
    choose(&tab, "tp-position", "center");
    tab.send_keys(
        &field(&tab, "Follow-up question (English; empty: none)"),
        "Anything else?",
    )
    .unwrap();
    tab.send_keys(
        &field(
            &tab,
            "Other languages, one a line: locale: question | follow-up",
        ),
        "de: Was hat Sie hergeführt? | Sonst noch etwas?",
    )
    .unwrap();
    let preview = inline("touchpoint-preview");
    poll(WAIT, "the options in the preview", || {
        let shown = tab.on(&preview, "return r.textContent;", &[]);
        Ok(shown
            .as_str()
            .filter(|t| t.contains("The price") && t.contains("Fast delivery"))
            .map(str::to_owned))
    })
    .unwrap_or_else(|e| panic!("{e:#}; console {:?}", tab.console()));
    tab.js("document.querySelector('.tp-edit').scrollIntoView();");
    screenshots(&tab, "setup-choice");
    tab.click(&button(&tab, "Save the touchpoint")).unwrap();
    let said = told(&tab);
    assert!(said.starts_with("Saved: reason added."), "{said}");
    let doc = draft(&tab, &world.key);
    let reason = &doc["touchpoint"][1];
    assert_eq!(
        reason,
        &json!({
            "id": "reason",
            "metric": "choice",
            "question": { "de": "Was hat Sie hergeführt?", "en": "What brought you here?" },
            "trigger": { "on": "click", "delay_ms": 0, "selector": "#buy" },
            "pages": [],
            "sample": 1,
            "recontact_days": 30,
            "follow_up": { "question": { "de": "Sonst noch etwas?", "en": "Anything else?" }, "min": null, "max": null },
            "options": [
                { "id": "price", "label": { "de": "Der Preis", "en": "The price" } },
                { "id": "speed", "label": { "en": "Fast delivery" } },
            ],
            "multiple": true,
            "position": "center",
        }),
        "{doc:#}"
    );

    // "Change" fills the form with a touchpoint; a German question added
    // there keeps its pages, and the form starts over from it.
    tab.click(&button(&tab, "Change site-nps")).unwrap();
    let filled = tab.js(
        "return ['tp-id', 'tp-question', 'tp-pages', 'tp-metric', 'tp-when', 'tp-options'].map(i => document.getElementById(i).value);",
    );
    assert_eq!(
        filled,
        json!([
            "site-nps",
            "How likely are you to recommend Demo Shop to a friend or colleague?",
            "/checkout",
            "nps",
            "load",
            ""
        ])
    );
    tab.send_keys(
        &field(
            &tab,
            "Other languages, one a line: locale: question | follow-up",
        ),
        "de: Würden Sie uns empfehlen?",
    )
    .unwrap();
    tab.click(&button(&tab, "Save the touchpoint")).unwrap();
    let said = told(&tab);
    assert!(said.starts_with("Saved: site-nps changed."), "{said}");
    let doc = draft(&tab, &world.key);
    assert_eq!(doc["touchpoint"][0]["pages"], json!(["/checkout"]));
    assert_eq!(
        doc["touchpoint"][0]["question"]["de"],
        "Würden Sie uns empfehlen?"
    );
    assert_eq!(doc["touchpoint"][1]["id"], "reason", "{doc:#}");

    // The site's look and outcomes.
    tab.send_keys(&field(&tab, "Brand colour (#rrggbb)"), "#0a7c42")
        .unwrap();
    choose(&tab, "site-corner", "left");
    tab.send_keys(
        &field(&tab, "Outcomes the page tracks, one a line: id: label"),
        "purchase: Order placed\nsignup",
    )
    .unwrap();
    tab.click(&button(&tab, "Save the site's settings"))
        .unwrap();
    let said = told(&tab);
    assert!(said.starts_with("Saved: the site's settings."), "{said}");
    tab.js("document.getElementById('site-h').scrollIntoView();");
    screenshots(&tab, "setup-site");
    let doc = draft(&tab, &world.key);
    assert_eq!(
        doc["theme"],
        json!({ "brand": "#0a7c42", "corner": "left" })
    );
    assert_eq!(
        doc["outcome"],
        json!([{ "id": "purchase", "label": "Order placed" }, { "id": "signup" }])
    );

    // An alert for one touchpoint, capped; saved again without its
    // secret, it keeps the one it has.
    // A public address written as one: nothing to resolve, and no answer
    // comes in this test, so nothing is ever sent to it.
    let url = "https://93.184.215.14/touchpoint";
    let to = field(&tab, "Post to (URL; the same URL changes that alert)");
    tab.send_keys(&to, url).unwrap();
    tab.send_keys(
        &field(&tab, "Signing secret (optional; empty keeps the alert's)"),
        "s3cret-value-0042",
    )
    .unwrap();
    tab.send_keys(
        &field(&tab, "Only for touchpoints (ids; empty: all)"),
        "site-nps",
    )
    .unwrap();
    tab.send_keys(
        &field(&tab, "At most (messages an hour; empty: no cap)"),
        "5",
    )
    .unwrap();
    tab.click(&button(&tab, "Save the alert")).unwrap();
    let said = told(&tab);
    assert!(said.starts_with("Saved: alert added."), "{said}");
    let alert = draft(&tab, &world.key)["alert"][0].clone();
    assert_eq!(
        (&alert["touchpoints"], &alert["max_per_hour"]),
        (&json!(["site-nps"]), &json!(5)),
        "{alert:#}"
    );
    let masked = alert["secret"].as_str().unwrap().to_owned();
    assert!(
        masked.ends_with("0042") && !masked.contains("s3cret"),
        "{masked}"
    );
    for (label, text) in [
        ("Post to (URL; the same URL changes that alert)", url),
        ("At most (messages an hour; empty: no cap)", "7"),
    ] {
        let input = field(&tab, label);
        tab.clear(&input).unwrap();
        tab.send_keys(&input, text).unwrap();
    }
    tab.click(&button(&tab, "Save the alert")).unwrap();
    let said = told(&tab);
    assert!(said.starts_with("Saved: the alert changed."), "{said}");
    let alert = draft(&tab, &world.key)["alert"][0].clone();
    assert_eq!(
        (&alert["max_per_hour"], &alert["secret"]),
        (&json!(7), &json!(masked))
    );
    // The list is drawn again from the saved draft after the status line
    // says so: wait for it.
    let drawn = poll(WAIT, "the alert's line drawn again", || {
        Ok(text_of(&tab, ".alerts")
            .contains("for site-nps; each at once, at most 7 an hour.")
            .then_some(()))
    });
    assert!(drawn.is_ok(), "{}", text_of(&tab, ".alerts"));
    no_violations(&tab, "the setup's forms filled");

    // Published, visitors' configuration has the choice question and the look.
    tab.click(&button(&tab, "Publish")).unwrap();
    let said = told(&tab);
    assert!(said.starts_with("Published"), "{said}");
    let config: Value =
        serde_json::from_str(&world.get(&format!("/v1/sites/{}/config", world.key))).unwrap();
    assert_eq!(config["theme"]["corner"], "left");
    assert_eq!(
        config["touchpoints"][1]["options"][0]["label"]["de"],
        "Der Preis"
    );
}
