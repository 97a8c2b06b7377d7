//! The site file's rules, each error naming its field.
use super::*;
use touchpoint_wire::AlertOn;

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

#[test]
fn a_site_written_as_toml_reads_back_the_same() {
    for text in [SHOP, include_str!("../../../www/demo/site.toml")] {
        let file = parse(text).unwrap();
        let written = to_toml(&file).unwrap();
        assert_eq!(parse(&written).unwrap(), file, "{written}");
    }
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

#[test]
fn alert_destinations_name_the_field_at_fault() {
    let site = "[site]\nname = \"x\"\n[[touchpoint]]\nid = \"nps\"\nmetric = \"nps\"\nquestion = {en=\"Q\"}\n";
    let ok = format!(
        "{site}[[alert]]\nurl = \"https://hooks.example/t\"\nformat = \"slack\"\non = [\"detractor\", \"low_score\"]\ntouchpoints = [\"nps\"]\ndigest_minutes = 15\nsecret = \"0123456789abcdef\"\nmax_per_hour = 6\n"
    );
    let doc = parse(&ok).unwrap();
    assert_eq!(doc.alert[0].on, [AlertOn::Detractor, AlertOn::LowScore]);
    let alert = |body: &str| format!("{site}[[alert]]\n{body}\n");
    for (body, expect) in [
        (
            "url = \"ftp://h.example/\"\non = [\"signal\"]",
            "alert[0].url: must start with https://",
        ),
        (
            "url = \"https://u:p@h.example/\"\non = [\"signal\"]",
            "alert[0].url: must not carry a user name",
        ),
        ("url = \"https:///x\"\non = [\"signal\"]", "alert[0].url"),
        (
            "url = \"https://h.example/\"\non = []",
            "alert[0].on: say what to alert on",
        ),
        (
            "url = \"https://h.example/\"\non = [\"angry\"]",
            "unknown variant `angry`",
        ),
        (
            "url = \"https://h.example/\"\non = [\"signal\", \"signal\"]",
            "listed twice",
        ),
        (
            "url = \"https://h.example/\"\non = [\"detractor\"]\ntouchpoints = [\"csat\"]",
            "alert[0].touchpoints[0]: \"csat\" is not a declared",
        ),
        (
            "url = \"https://h.example/\"\non = [\"signal\"]\ntouchpoints = [\"nps\"]",
            "a signal belongs to no touchpoint",
        ),
        (
            "url = \"https://h.example/\"\non = [\"detractor\"]\ndigest_minutes = 7",
            "alert[0].digest_minutes: 7 must be 0",
        ),
        (
            "url = \"https://h.example/\"\non = [\"detractor\"]\nsecret = \"short\"",
            "alert[0].secret: 16 to 256",
        ),
        (
            "url = \"https://h.example/\"\non = [\"detractor\"]\nmax_per_hour = 0",
            "alert[0].max_per_hour",
        ),
        (
            "url = \"https://h.example/\"\non = [\"detractor\"]\n[[alert]]\nurl = \"https://h.example/\"\non = [\"signal\"]",
            "alert[1].url: the same destination twice",
        ),
    ] {
        check_err(&alert(body), expect);
    }
}

#[test]
fn secrets_are_shown_masked_and_kept_when_sent_back_masked() {
    let text = "[site]\nname = \"x\"\n[[alert]]\nurl = \"https://hooks.example/t\"\non = [\"detractor\"]\nsecret = \"0123456789abcdefxyz9\"\n";
    let stored = parse(text).unwrap();
    let mut shown = stored.clone();
    alert::mask_secrets(&mut shown);
    assert_eq!(shown.alert[0].secret.as_deref(), Some("…xyz9"));
    // Sent back as shown: the stored secret stays.
    let mut back = parse_json(&serde_json::to_string(&shown).unwrap()).unwrap();
    alert::restore_secrets(&mut back, &stored.alert).unwrap();
    assert_eq!(back, stored);
    // A masked value that is not the stored secret's, or under another url, is refused.
    let mut other = shown.clone();
    other.alert[0].url = "https://elsewhere.example/".into();
    let err = alert::restore_secrets(&mut other, &stored.alert).unwrap_err();
    assert!(err.to_string().contains("alert[0].secret"), "{err}");
    let mut wrong = shown;
    wrong.alert[0].secret = Some("…abcd".into());
    assert!(alert::restore_secrets(&mut wrong, &stored.alert).is_err());
}

#[test]
fn segments_and_outcomes_name_the_field_at_fault() {
    let site = |attrs: &str, audience: &str, outcomes: &str| {
        format!(
            "[site]\nname = \"x\"\nattributes = {attrs}\n[[touchpoint]]\nid = \"nps\"\nmetric = \"nps\"\nquestion = {{en=\"Q\"}}\naudience = {audience}\n{outcomes}"
        )
    };
    let doc = parse(&site(
        "[\"plan\", \"country\"]",
        "{ plan = [\"pro\", \"team\"] }",
        "[[outcome]]\nid = \"purchase\"\nlabel = \"Order placed\"\n",
    ))
    .unwrap();
    assert_eq!(doc.site.attributes, ["plan", "country"]);
    assert_eq!(doc.touchpoint[0].audience["plan"], ["pro", "team"]);
    assert_eq!(doc.outcome[0].id, "purchase");
    for (text, expect) in [
        (
            site("[\"Plan\"]", "{}", ""),
            "site.attributes[0]: \"Plan\" must be 1 to 32",
        ),
        (
            site("[\"plan\", \"plan\"]", "{}", ""),
            "site.attributes[1]: \"plan\" is declared twice",
        ),
        (
            site("[]", "{ plan = [\"pro\"] }", ""),
            "touchpoint[0].audience.plan: \"plan\" is not in site.attributes",
        ),
        (
            site("[\"plan\"]", "{ plan = [] }", ""),
            "touchpoint[0].audience.plan: list 1 to 50 values",
        ),
        (
            site("[\"plan\"]", "{}", "[[outcome]]\nid = \"Buy Now\"\n"),
            "outcome[0].id: \"Buy Now\" must be",
        ),
        (
            site(
                "[\"plan\"]",
                "{}",
                "[[outcome]]\nid = \"buy\"\n[[outcome]]\nid = \"buy\"\n",
            ),
            "outcome[1].id: \"buy\" is declared twice",
        ),
    ] {
        check_err(&text, expect);
    }
}
