//! The site file's rules, each error naming its field.
use super::*;

const SHOP: &str = include_str!("../../fixtures/shop.toml");

#[test]
fn the_test_site_file_is_valid() {
    let file = parse(SHOP).unwrap();
    assert_eq!(file.stage.len(), 4);
    assert!(
        file.touchpoint
            .iter()
            .any(|t| t.metric == Metric::Nps && t.pages.iter().any(|p| p == "/**"))
    );
}

fn check_err(toml: &str, expect: &str) {
    let err = parse(toml).unwrap_err().to_string();
    assert!(err.contains(expect), "expected {expect:?} in {err:?}");
}

#[test]
fn errors_name_the_field() {
    check_err("[site]\nname = \"\"", "site.name");
    check_err("[site]\nname = \"x\"\nkey = \"a b\"", "site.key");
    check_err(
        "[site]\nname = \"x\"\norigins = [\"shop.example\"]",
        "site.origins",
    );
    check_err(
        "[site]\nname = \"x\"\norigins = [\"https://shop.example/path\"]",
        "site.origins",
    );
    check_err(
        "[site]\nname = \"x\"\n[[stage]]\nid = \"a\"\nlabel = \"A\"\n[[stage]]\nid = \"a\"\nlabel = \"B\"",
        "declared twice",
    );
    check_err(
        "[site]\nname = \"x\"\n[[stage]]\nid = \"unassigned\"\nlabel = \"A\"",
        "reserved",
    );
    check_err(
        "[site]\nname = \"x\"\n[[stage]]\nid = \"a\"\nlabel = \"A\"\npages = [\"pricing\"]",
        "stage[0].pages",
    );
    check_err(
        "[site]\nname = \"x\"\n[[stage]]\nid = \"a\"\nlabel = \"A\"\npages = [\"/**/**/**/**/**/z\"]",
        "stage[0].pages: a page glob has at most 512 characters and 4 `**`",
    );
    check_err(
        "[site]\nname = \"x\"\n[[touchpoint]]\nid = \"t\"\nmetric = \"nps\"\nquestion = {}",
        "touchpoint[0].question",
    );
    check_err(
        "[site]\nname = \"x\"\n[[touchpoint]]\nid = \"t\"\nmetric = \"npz\"\nquestion = {en=\"Q\"}",
        "unknown variant `npz`",
    );
    check_err(
        "[site]\nname = \"x\"\n[[touchpoint]]\nid = \"t\"\nmetric = \"nps\"\nquestion = {en=\"Q\"}\nsample = 2.0",
        "touchpoint[0].sample",
    );
    check_err(
        "[site]\nname = \"x\"\n[[touchpoint]]\nid = \"t\"\nmetric = \"nps\"\nquestion = {en=\"Q\"}\nfollow_up = { question = {en=\"Why?\"}, max = 11 }",
        "follow_up.max",
    );
    let trigger = "[site]\nname = \"x\"\n[[touchpoint]]\nid = \"t\"\nmetric = \"nps\"\nquestion = {en=\"Q\"}\n";
    check_err(
        &format!("{trigger}trigger = {{ on = \"scroll\" }}"),
        "touchpoint[0].trigger.percent: a scroll trigger needs",
    );
    check_err(
        &format!("{trigger}trigger = {{ on = \"scroll\", percent = 101 }}"),
        "touchpoint[0].trigger.percent",
    );
    check_err(
        &format!("{trigger}trigger = {{ on = \"click\" }}"),
        "touchpoint[0].trigger.selector: a click trigger needs",
    );
    check_err(
        &format!("{trigger}trigger = {{ on = \"event\", event = \"a b\" }}"),
        "touchpoint[0].trigger.event",
    );
    check_err(
        &format!("{trigger}trigger = {{ on = \"load\", percent = 50 }}"),
        "touchpoint[0].trigger.percent: only a scroll trigger has a percent, not load",
    );
    check_err(
        &format!("{trigger}trigger = {{ on = \"hover\" }}"),
        "unknown variant `hover`",
    );
    check_err(
        "[site]\nname = \"x\"\ncontact_days = 400",
        "site.contact_days",
    );
    let choice = "[site]\nname = \"x\"\n[[touchpoint]]\nid = \"t\"\nquestion = {en=\"Q\"}\n";
    check_err(
        &format!("{choice}metric = \"choice\""),
        "touchpoint[0].options: a choice question needs 2 to 20 options",
    );
    check_err(
        &format!(
            "{choice}metric = \"choice\"\noptions = [{{id=\"a\", label={{en=\"A\"}}}}, {{id=\"a\", label={{en=\"B\"}}}}]"
        ),
        "touchpoint[0].options[1].id: \"a\" is listed twice",
    );
    check_err(
        &format!(
            "{choice}metric = \"choice\"\noptions = [{{id=\"a\", label={{en=\"A\"}}}}, {{id=\"B\", label={{en=\"B\"}}}}]"
        ),
        "touchpoint[0].options[1].id",
    );
    check_err(
        &format!(
            "{choice}metric = \"choice\"\noptions = [{{id=\"a\", label={{en=\"A\"}}}}, {{id=\"b\", label={{}}}}]"
        ),
        "touchpoint[0].options[1].label",
    );
    check_err(
        &format!(
            "{choice}metric = \"nps\"\noptions = [{{id=\"a\", label={{en=\"A\"}}}}, {{id=\"b\", label={{en=\"B\"}}}}]"
        ),
        "touchpoint[0].options: only a choice question",
    );
    check_err(
        &format!("{choice}metric = \"csat\"\nmultiple = true"),
        "touchpoint[0].multiple",
    );
    check_err(
        &format!("{choice}metric = \"nps\"\nstages = [\"checkout\"]"),
        "touchpoint[0].stages[0]: \"checkout\" is not a declared [[stage]] id",
    );
    check_err(
        &format!("{choice}metric = \"nps\"\nscale = \"stars\""),
        "touchpoint[0].scale: only csat is drawn as stars or faces, not nps",
    );
    check_err(
        &format!("{choice}metric = \"csat\"\nscale = \"hearts\""),
        "unknown variant `hearts`",
    );
    check_err(
        &format!("{choice}metric = \"csat\"\nposition = \"top\""),
        "unknown variant `top`",
    );
    let fine = parse(&format!(
        "{choice}metric = \"csat\"\nscale = \"stars\"\nposition = \"center\""
    ))
    .unwrap();
    let config = serde_json::to_value(&fine.touchpoint).unwrap();
    assert_eq!(config[0]["scale"], "stars");
    assert_eq!(config[0]["position"], "center");
    check_err(
        &format!("{choice}metric = \"text\"\nfollow_up = {{ question = {{en=\"More?\"}} }}"),
        "touchpoint[0].follow_up: a text question cannot have a follow-up",
    );
    check_err(
        &format!(
            "{choice}metric = \"nps\"\nfollow_up = {{ question = {{en=\"Why?\"}}, max = 6, options = [{{id=\"a\", label={{en=\"A\"}}}}] }}"
        ),
        "touchpoint[0].follow_up.options: 1 options; give 2 to 20",
    );
    check_err(
        "[site]\nname = \"x\"\ncolour = \"red\"",
        "unknown field `colour`",
    );
}

#[test]
fn origins_are_normalised() {
    let file = parse(
        "[site]\nname = \"x\"\norigins = [\"HTTPS://Shop.Example/\", \"http://127.0.0.1:8081\"]",
    )
    .unwrap();
    assert_eq!(
        file.site.origins,
        ["https://shop.example", "http://127.0.0.1:8081"]
    );
}

#[test]
fn the_time_zone_is_an_iana_name_stored_canonically() {
    assert_eq!(parse("[site]\nname = \"x\"").unwrap().site.timezone, "UTC");
    let berlin = parse("[site]\nname = \"x\"\ntimezone = \"europe/berlin\"").unwrap();
    assert_eq!(berlin.site.timezone, "Europe/Berlin");
    check_err(
        "[site]\nname = \"x\"\ntimezone = \"Europe/Berln\"",
        "site.timezone: \"Europe/Berln\" is not an IANA time zone",
    );
    check_err(
        "[site]\nname = \"x\"\ntimezone = \"+02:00\"",
        "site.timezone",
    );
}
