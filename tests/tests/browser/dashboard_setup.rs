//! The dashboard's setup for site owners: the script tag, the stage
//! tester, the site file's round trip, edit controls only for editors, and
//! a touchpoint made in the editor that asks on the shop and whose answer
//! reaches the journey map.

use crate::dashboard::*;
use crate::world::{Site, WAIT, World, poll};
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
    let toml = tab
        .eval_async(
            "fetch(arguments[0]).then(r => r.text()).then(arguments[arguments.length - 1]);",
            vec![json!(href)],
        )
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
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
    poll(WAIT, "the saved notice", || {
        let t = tab.js(
            "const p = document.querySelector('p.notice[role=status]'); return p && p.textContent;",
        );
        Ok(t.as_str()
            .filter(|t| t.starts_with("Saved"))
            .map(str::to_owned))
    })
    .unwrap();
    let site: Value =
        serde_json::from_str(&world.get(&format!("/v1/sites/{}/site", world.key))).unwrap();
    assert!(
        site["stage"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["label"] == "Compare"),
        "{site}"
    );
    upload("[site]\nname = \"\"\n");
    let refused = poll(WAIT, "the refusal", || {
        let t = tab.js(
            "const p = document.querySelector('p.error[role=status]'); return p && p.textContent;",
        );
        Ok(t.as_str().map(str::to_owned))
    })
    .unwrap();
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
        tab.send_keys(&field(&tab, "Id"), "pricing-csat").unwrap();
        tab.send_keys(&field(&tab, "Question (English)"), question)
            .unwrap();
        tab.send_keys(&field(&tab, "Pages (globs; empty: every page)"), "/pricing")
            .unwrap();
        tab.click(&button(&tab, "Save the touchpoint")).unwrap();
        let saved = poll(WAIT, "the saved notice", || {
            let t = tab.js("const p = document.querySelector('p.notice[role=status], p.error[role=status]'); return p && p.textContent;");
            Ok(t.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|e| {
            panic!(
                "{e:#}; fields {}; console {:?}",
                tab.js("return [...document.querySelectorAll('.editor input, .editor select')].map(i => i.id + '=' + i.value + ':' + i.validity.valid).join(' ') + ' | ' + document.querySelector('main').innerText.slice(0, 3000);"),
                tab.console()
            )
        });
        assert!(saved.starts_with("Saved: pricing-csat added"), "{saved}");
        no_violations(&tab, "the touchpoint editor");
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
