//! Every kind of prompt, its follow-up, and every kind right to left.

use crate::world::{Site, Visitor, WAIT, World, poll};
use serde_json::{Value, json};

/// Every prompt kind renders, passes axe in light and dark, and its answer
/// is stored as the figures a marketer reads.
#[test]
fn every_prompt_kind_is_answered_stored_and_accessible() {
    let w = World::new(&Site::fixture("kinds"));
    let v = w.visitor(1024, 700);
    for (path, name) in [
        ("/product/1", "csat"),
        ("/product/2", "stars"),
        ("/product/3", "faces"),
        ("/product/42", "ces"),
        ("/product/7", "thumbs"),
        ("/pricing", "emoji"),
        ("/", "text"),
        ("/checkout", "choice"),
        ("/cart", "multi"),
    ] {
        v.open(path);
        v.wait_for(".step");
        v.settle();
        for scheme in ["light", "dark"] {
            v.emulate("prefers-color-scheme", scheme);
            assert_eq!(
                v.violations("touchpoint-prompt"),
                Vec::<String>::new(),
                "{name} in {scheme}"
            );
            v.screenshot_as(&format!("prompt-{name}-{scheme}"));
        }
        answer(&v, name);
        assert_eq!(v.thanks(), "Thank you for your feedback!", "{name}");
    }

    let rows = poll(WAIT, "every answer in the aggregates", || {
        let rows = w.aggregates("group_by=touchpoint");
        Ok((rows.iter().filter(|r| r["responses"] == 1).count() == 9).then_some(rows))
    })
    .unwrap();
    let row = |tp: &str| rows.iter().find(|r| r["touchpoint"] == tp).unwrap().clone();
    assert_eq!(
        (
            row("k-csat")["csat"].clone(),
            row("k-csat")["distribution"].clone()
        ),
        (json!(100.0), json!({"4": 1}))
    );
    assert_eq!(row("k-stars")["distribution"], json!({"5": 1}));
    assert_eq!(
        (
            row("k-faces")["metric"].clone(),
            row("k-faces")["distribution"].clone()
        ),
        (json!("csat"), json!({"2": 1}))
    );
    assert_eq!(row("k-ces")["ces_easy"], json!(100.0));
    assert_eq!(row("k-thumbs")["thumbs_up"], json!(100.0));
    assert_eq!(row("k-emoji")["distribution"], json!({"5": 1}));
    assert_eq!(
        (
            row("k-text")["metric"].clone(),
            row("k-text")["comments"].clone()
        ),
        (json!("text"), json!(1))
    );
    assert_eq!(row("k-choice")["choices"], json!({"paypal": 1}));
    assert_eq!(row("k-multi")["choices"], json!({"price": 1, "returns": 1}));
    let raw = w.responses_csv("touchpoint=k-text");
    assert!(
        raw.contains(",k-text,text,,\"Shipping costs, mail me: [email]\","),
        "{raw}"
    );
}

/// Answers the prompt of kind `name` as the kinds fixture's test does,
/// checking what the visitor sees on the way.
fn answer(v: &Visitor, name: &str) {
    let click = |selector: &str| v.click_in_prompt(selector);
    match name {
        "csat" => click("[aria-label='4 out of 5']"),
        "stars" => {
            // Pointing at the fourth star fills the first four.
            v.on_prompt(
                "r.querySelectorAll('.stars .opt')[3].dispatchEvent(new MouseEvent('mouseover', { bubbles: true })); return 1;",
            );
            click("[aria-label='5 out of 5, Very satisfied']");
            let colours = v.on_prompt(
                "return [...r.querySelectorAll('.stars .opt')].map(b => b.textContent + getComputedStyle(b).color);",
            );
            let colours: Vec<String> = serde_json::from_value(colours).unwrap();
            assert!(colours.iter().all(|c| c.starts_with('★')), "{colours:?}");
            assert!(
                colours.windows(2).all(|p| p[0] == p[1]),
                "five picked stars are all filled: {colours:?}"
            );
        }
        "faces" => {
            let modal = v.on_prompt(
                "const c = r.querySelector('.card').getBoundingClientRect(); \
                 return [h.hasAttribute('modal'), r.querySelector('.card').getAttribute('aria-modal'), \
                         Math.abs(c.left + c.width / 2 - innerWidth / 2) < 2, Math.abs(c.top + c.height / 2 - innerHeight / 2) < 2];",
            );
            assert_eq!(
                modal,
                json!([true, "true", true, true]),
                "a modal in the centre"
            );
            click("[aria-label='2 out of 5']");
        }
        "ces" => click("[aria-label='6 out of 7']"),
        "thumbs" => click("[aria-label='Yes']"),
        "emoji" => click("[aria-label='5 out of 5, Very satisfied']"),
        "text" => {
            let disabled = v.on_prompt("return r.querySelector('.send').disabled;");
            assert_eq!(disabled, json!(true), "Send waits for some text");
            let area = v.find("textarea").unwrap();
            v.send_keys(&area, "Shipping costs, mail me: ann@shop.example")
                .unwrap();
            click(".send");
        }
        "choice" => click("[aria-label='PayPal']"),
        _ => {
            click("[aria-label='Price']");
            click("[aria-label='Delivery speed']");
            click("[aria-label='Delivery speed']"); // unpicked again
            click("[aria-label='Free returns']");
            let checked = v.on_prompt(
                "return [...r.querySelectorAll('[role=checkbox]')].map(b => b.getAttribute('aria-checked'));",
            );
            assert_eq!(checked, json!(["true", "false", "true"]));
            click(".send");
        }
    }
}

/// A low score opens the follow-up; its answer is masked in the browser and
/// completes the same response: one response, with score and comment.
#[test]
fn a_low_score_asks_the_follow_up_and_completes_the_same_response() {
    let w = World::new(&Site::demo());
    let v = w.visitor(1024, 700);
    v.open("/pricing");
    let three = v.wait_for_button("3 out of 10");
    // Answered from the keyboard: focus follows into the follow-up.
    v.send_keys(&three, "\u{E007}").unwrap();
    let focused = poll(WAIT, "the follow-up, focused", || {
        let seen = v.on_prompt(
            "const s = r.querySelectorAll('.step'); \
             return s[1] && !s[1].hidden && r.activeElement && r.activeElement.tagName == 'TEXTAREA' \
               ? [s[1].querySelector('.question').textContent, r.activeElement.tagName] : null;",
        );
        Ok((!seen.is_null()).then_some(seen))
    })
    .unwrap();
    assert_eq!(
        focused,
        json!(["What is the one thing we should improve?", "TEXTAREA"])
    );
    assert_eq!(v.violations("touchpoint-prompt"), Vec::<String>::new());
    v.screenshot_as("nps-follow-up");

    // The score is stored at once; then the server goes away.
    w.wait_for_responses(1);
    w.stop_api();
    let comment =
        "Call me on +44 20 7946 0958 or mail ann@shop.example, IBAN GB29 NWBK 6016 1331 9268 19";
    let masked = "Call me on [number] or mail [email], IBAN [iban]";
    v.send_keys(&v.find("textarea").unwrap(), comment).unwrap();
    v.click_in_prompt(".step:not([hidden]) .send");
    assert_eq!(v.thanks(), "Thank you for your feedback!");
    // What waits in the browser is already masked.
    let queued = v.queued();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(
        (
            &queued[0]["kind"],
            &queued[0]["score"],
            &queued[0]["comment"]
        ),
        (&json!("response"), &json!(3), &json!(masked))
    );
    // The browser's masks agree with the server's on the same text.
    assert_eq!(touchpoint_server::privacy::mask_pii(comment), masked);

    w.start_api();
    v.open("/");
    let raw = poll(crate::world::DELIVERY, "the follow-up to arrive", || {
        let raw = w.responses_csv("");
        Ok(raw.contains("[iban]").then_some(raw))
    })
    .unwrap();
    assert_eq!(raw.lines().count(), 2, "one response, not two: {raw}");
    assert!(
        raw.contains(&format!(",site-nps,nps,3,\"{masked}\",")),
        "{raw}"
    );
    let nps = w
        .aggregates("")
        .into_iter()
        .find(|r| r["metric"] == "nps")
        .unwrap();
    assert_eq!(
        (&nps["responses"], &nps["detractors"], &nps["comments"]),
        (&json!(1), &json!(1), &json!(1))
    );
}

/// An Arabic question turns the prompt right to left, with Arabic words.
#[test]
fn an_arabic_prompt_is_right_to_left() {
    let w = World::new(&Site::fixture("kinds-ar"));
    let v = w.visitor(1024, 700);
    v.open("/");
    v.wait_for(".card");
    v.settle();
    let seen = v.on_prompt(
        "const c = r.querySelector('.card'); \
         return [c.dir, getComputedStyle(c).direction, r.querySelector('.close').getAttribute('aria-label'), \
                 r.querySelector('.opt').getBoundingClientRect().left > r.querySelectorAll('.opt')[10].getBoundingClientRect().left];",
    );
    assert_eq!(seen, json!(["rtl", "rtl", "إغلاق", true]));
    assert_eq!(v.violations("touchpoint-prompt"), Vec::<String>::new());
    v.screenshot_as("prompt-nps-rtl");

    // Every other kind, right to left too.
    for (path, name) in [
        ("/product/1", "csat"),
        ("/product/2", "stars"),
        ("/product/3", "faces"),
        ("/product/42", "ces"),
        ("/product/7", "thumbs"),
        ("/pricing", "emoji"),
        ("/cart", "text"),
        ("/checkout", "choice"),
        ("/product/99", "multi"),
    ] {
        v.open(path);
        v.wait_for(".card");
        v.settle();
        let dir: Value = v.on_prompt(
            "const c = r.querySelector('.card'); return [c.dir, getComputedStyle(c).direction];",
        );
        assert_eq!(dir, json!(["rtl", "rtl"]), "{name}");
        assert_eq!(
            v.violations("touchpoint-prompt"),
            Vec::<String>::new(),
            "{name} in RTL"
        );
        v.screenshot_as(&format!("prompt-{name}-rtl"));
    }
}
