//! Segments and outcomes: `touchpoint('identify', {…})` decides which
//! visitors a touchpoint's audience lets it ask, the answers carry the
//! declared attributes, and an outcome tracked after an answer counts as a
//! conversion in `/outcomes`.

use crate::world::{Site, WAIT, World, poll};
use serde_json::{Value, json};

#[test]
fn identify_targets_one_segment_and_an_outcome_follows_the_answer() {
    let w = World::new(&Site::fixture("segments").with("attributes = [\"plan\"]"));

    // A visitor on the free plan: nothing on /checkout is for them, so the
    // widget is never fetched. (Each visitor gives its browser back to the
    // pool when it goes.)
    {
        let free = w.visitor(1024, 700);
        free.open("/");
        free.js("touchpoint('identify', { plan: 'free', email: 'ann@example.com' });");
        free.open("/checkout");
        free.after_loader_decided();
        assert!(
            !free.widget_requested(),
            "a free visitor is not in the audience"
        );
    }
    // A visitor who says nothing is in no audience either.
    {
        let nobody = w.visitor(1024, 700);
        nobody.open("/checkout");
        nobody.after_loader_decided();
        assert!(!nobody.widget_requested(), "no plan, no question");
    }

    // A pro visitor is asked, answers, then pays (the checkout form tracks
    // `order_placed`).
    let pro = w.visitor(1024, 700);
    pro.open("/");
    pro.js("touchpoint('identify', { plan: 'pro', seats: 5 });");
    pro.open("/checkout");
    let nine = pro.wait_for_button("9 out of 10");
    pro.click(&nine).unwrap();
    assert_eq!(pro.thanks(), "Thank you for your feedback!");
    let row = w.wait_for_row("group_by=attr:plan", |r| r["responses"] == 1);
    assert_eq!(row["attr:plan"], "pro");
    assert_eq!(row["promoters"], 1);
    pro.js(
        "const f = document.querySelector('form.checkout'); \
         f.email.value = 'ann@example.com'; f.card.value = '4242'; f.querySelector('button').click();",
    );

    let outcomes = poll(WAIT, "the outcome after the answer", || {
        let body = w.get(&format!("/v1/sites/{}/outcomes", w.key));
        let o: Value = serde_json::from_str(&body).unwrap();
        let promoters = o["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["band"] == "promoter")
            .cloned();
        Ok(promoters.filter(|r| r["converted"] == 1).map(|_| o))
    })
    .unwrap();
    assert_eq!(outcomes["outcome"], "order_placed");
    let promoters = &outcomes["rows"][2];
    assert_eq!(
        (
            &promoters["touchpoint"],
            &promoters["visitors"],
            &promoters["rate"]
        ),
        (&json!("pro-nps"), &json!(1), &json!(1.0))
    );

    // What is stored: the answer with the declared attribute only, and the
    // outcome, both under the visitor's id; nothing from the free visitor.
    let events = w.events_of(&pro.visitor_id());
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["impression", "response", "outcome"], "{events:?}");
    assert_eq!(events[1]["attributes"], json!({"plan": "pro"}));
    assert_eq!(events[2]["outcome"], "order_placed");
    assert_eq!(events[2]["page"], "/checkout");
    let raw = w.responses_csv("");
    assert_eq!(raw.lines().count(), 2, "one answer in all: {raw}");
}
