//! The prompt from the keyboard: the score scale's radio group, the centre
//! modal's focus trap, and the feedback tab that opens a prompt on request.

use crate::world::{OVERLAY, Site, TAB, World, poll};
use serde_json::json;
use std::time::Duration;

/// The score scale is a radio group: arrows, Home and End move, Enter
/// answers; a corner prompt never takes the page's focus.
#[test]
fn the_prompt_is_keyboard_operable_and_leaves_focus_alone() {
    let w = World::new(&Site::demo());
    let v = w.visitor(1024, 700);
    v.open("/pricing");
    let first = v.wait_for_button("0 out of 10, Not likely");
    assert_eq!(
        v.js("return document.activeElement === document.body;"),
        json!(true),
        "a corner prompt must not steal focus"
    );
    let active = || {
        v.on_prompt(
            "return [r.activeElement && r.activeElement.getAttribute('aria-label'), \
                     [...r.querySelectorAll('[role=radio]')].filter(b => b.tabIndex === 0).length];",
        )
    };
    let right = "\u{E014}";
    v.send_keys(&first, &right.repeat(9)).unwrap();
    assert_eq!(active(), json!(["9 out of 10", 1]));
    v.send_keys(&first, "\u{E010}").unwrap(); // End
    assert_eq!(active(), json!(["10 out of 10, Very likely", 1]));
    v.send_keys(&first, "\u{E012}").unwrap(); // Left from 0 wraps to 10
    assert_eq!(active(), json!(["10 out of 10, Very likely", 1]));
    let nine = v.wait_for_button("9 out of 10");
    v.send_keys(&nine, "\u{E007}").unwrap(); // Enter answers
    let row = w.wait_for_row("", |r| r["responses"] == 1);
    assert_eq!(row["distribution"], json!({"9": 1}));
}

/// A modal in the centre takes the focus, keeps Tab within itself, and
/// gives the focus back to where it was when it closes.
#[test]
fn a_centre_modal_holds_the_focus_and_gives_it_back() {
    let w = World::new(&Site::fixture("modal"));
    let v = w.visitor(1024, 700);
    v.open("/pricing");
    v.js("const a = document.querySelector('a'); a.id = 'before'; a.focus(); touchpoint('show', 'modal');");
    v.wait_for_prompt("How was your visit?");
    // What has the focus within the modal, if the modal has it.
    let focused = || {
        v.on_prompt(
            "const a = r.activeElement; \
             return document.activeElement === h && a ? (a.getAttribute('aria-label') || a.className) : null;",
        )
    };
    poll(Duration::from_secs(5), "focus in the modal", || {
        Ok((focused() == json!("1 out of 5, Very dissatisfied")).then_some(()))
    })
    .unwrap();
    v.settle();
    v.screenshot_as("prompt-modal-stars");
    assert_eq!(v.violations("touchpoint-prompt"), Vec::<String>::new());
    let active = || {
        v.element_on(OVERLAY, "return r.activeElement;", &[])
            .unwrap()
    };
    // Tab from the last control wraps to the first (the close button), and
    // Shift+Tab from the first back to the last: never out to the page.
    v.send_keys(&active(), "\u{E004}").unwrap();
    assert_eq!(focused(), json!("Close"));
    v.send_keys(&active(), "\u{E008}\u{E004}\u{E000}").unwrap();
    assert_eq!(focused(), json!("1 out of 5, Very dissatisfied"));
    v.send_keys(&active(), "\u{E00C}").unwrap();
    v.wait_until_no_prompt();
    assert_eq!(
        v.js("return document.activeElement.id;"),
        json!("before"),
        "focus goes back where it was"
    );
}

/// A feedback tab waits on the window's edge; the visitor opens the prompt
/// from it whenever they like, focus goes in and comes back, and it can be
/// opened again, whatever the contact budget says.
#[test]
fn the_feedback_tab_opens_the_prompt_on_request() {
    let w = World::new(&Site::fixture("tab").with("contact_days = 30"));
    let v = w.visitor(1024, 700);
    v.open("/pricing");
    // The load prompt spends the contact budget; dismiss it.
    v.wait_for_prompt("Uses the budget?");
    v.click_in_prompt(".close");
    let tab = v.wait_for_tab();
    assert_eq!(v.question(), None, "the tab waits to be asked");
    assert_eq!(v.violations(TAB), Vec::<String>::new());
    v.screenshot_as("feedback-tab");

    let focus = || {
        v.js(
            "const a = document.activeElement; return [a.tagName, a.shadowRoot && a.shadowRoot.activeElement && \
             (a.shadowRoot.activeElement.getAttribute('aria-label') || a.shadowRoot.activeElement.textContent)];",
        )
    };
    v.click(&tab).unwrap();
    v.wait_for_prompt("How is your visit going?");
    poll(Duration::from_secs(5), "focus in the prompt", || {
        Ok(
            (focus() == json!(["TOUCHPOINT-PROMPT", "1 out of 5, Very dissatisfied"]))
                .then_some(()),
        )
    })
    .unwrap();
    v.screenshot_as("feedback-tab-open");
    v.send_keys(&v.find(".opt").unwrap(), "\u{E00C}").unwrap(); // Escape
    poll(Duration::from_secs(5), "focus back on the tab", || {
        Ok(
            (v.question().is_none() && focus() == json!(["TOUCHPOINT-TAB", "Feedback"]))
                .then_some(()),
        )
    })
    .unwrap();

    // Again, and answered this time.
    v.click(&tab).unwrap();
    v.wait_for_prompt("How is your visit going?");
    v.click_in_prompt("[aria-label='4 out of 5']");
    let row = w.wait_for_row("group_by=touchpoint", |r| {
        r["touchpoint"] == "tab" && r["responses"] == 1
    });
    assert_eq!(
        (&row["impressions"], &row["csat"]),
        (&json!(2), &json!(100.0))
    );
}
