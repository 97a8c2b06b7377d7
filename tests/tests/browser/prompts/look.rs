//! How the prompt looks and where it sits: motion, the site's theme, the
//! page's own CSS, inline in the page, and on a page that fights it.

use crate::world::{Site, WAIT, World, inline, poll};
use serde_json::json;
use std::time::Duration;

/// A visitor who asks for reduced motion gets the prompt without its
/// entrance animation; others get it.
#[test]
fn reduced_motion_drops_the_entrance_animation() {
    let w = World::new(&Site::demo());
    for (motion, expect) in [("reduce", "none"), ("no-preference", "rise")] {
        let v = w.visitor(1024, 700);
        v.emulate("prefers-reduced-motion", motion);
        v.open("/product/42");
        v.wait_for(".card");
        let name = v.on_prompt("return getComputedStyle(r.querySelector('.card')).animationName;");
        assert_eq!(name, json!(expect), "{motion}");
    }
}

/// The site's theme reaches the prompt: brand colour (with readable text on
/// it), corner and the page's font; a page's own CSS can still override.
#[test]
fn the_site_theme_and_the_page_css_style_the_prompt() {
    let w = World::new(&Site::fixture("themed"));
    let v = w.visitor(1024, 700);
    v.open("/pricing");
    let area = v.wait_for("textarea");
    v.settle();
    v.send_keys(&area, "Nice colours").unwrap();
    let look = || {
        v.on_prompt(
            "const s = getComputedStyle(r.querySelector('.send')); \
             return [h.getBoundingClientRect().left < 40, s.backgroundColor, s.color, getComputedStyle(r.querySelector('.card')).fontFamily];",
        )
    };
    assert_eq!(
        look(),
        json!([
            true,
            "rgb(196, 71, 28)",
            "rgb(255, 255, 255)",
            "Georgia, serif"
        ])
    );
    assert_eq!(v.violations("touchpoint-prompt"), Vec::<String>::new());
    v.screenshot_as("prompt-themed");
    // The page's own stylesheet wins over the site's theme.
    v.js(
        "const s = document.createElement('style'); \
         s.textContent = 'touchpoint-prompt { --tp-brand: #ffd400 !important; --tp-on-brand: #000 !important }'; document.head.append(s);",
    );
    let look = look();
    assert_eq!(
        (&look[1], &look[2]),
        (&json!("rgb(255, 212, 0)"), &json!("rgb(0, 0, 0)"))
    );
}

/// A touchpoint with a place in the page is shown there, in the flow of
/// the page, beside an overlay: no close button, the thank-you stays.
#[test]
fn an_inline_prompt_sits_in_its_place_in_the_page() {
    let w = World::new(&Site::demo());
    let v = w.visitor(1024, 900);
    v.open("/");
    let home = inline("home-helpful");
    let placed = poll(WAIT, "the inline prompt", || {
        let seen = v.on(
            &home,
            "const q = r.querySelector('.question'); \
             return q && [q.textContent, getComputedStyle(h).position, !!r.querySelector('.close'), r.querySelector('.card').getAttribute('role')];",
            &[],
        );
        Ok((!seen.is_null()).then_some(seen))
    })
    .unwrap();
    assert_eq!(
        placed,
        json!([
            "Did you find what you were looking for?",
            "static",
            false,
            "region"
        ])
    );
    // The page's own overlay prompt still comes: inline is not an overlay.
    v.wait_for(".opt");
    v.js("document.querySelector('[data-touchpoint=home-helpful]').scrollIntoView();");
    assert_eq!(
        v.violations("[data-touchpoint=home-helpful]"),
        Vec::<String>::new()
    );
    v.screenshot_as("inline-home");
    v.click(&v.find_on(&home, "[aria-label='Yes']").unwrap())
        .unwrap();
    let stays = poll(Duration::from_secs(5), "the inline thank-you", || {
        let t = v.on(
            &home,
            "const t = r.querySelector('.thanks'); return t && t.textContent || null;",
            &[],
        );
        Ok(t.as_str().map(str::to_owned))
    })
    .unwrap();
    assert_eq!(stays, "Thank you for your feedback!");
    let row = w.wait_for_row("group_by=touchpoint", |r| {
        r["touchpoint"] == "home-helpful" && r["responses"] == 1
    });
    assert_eq!(row["thumbs_up"], json!(100.0));
}

/// On a page with a strict CSP and aggressive global CSS, the prompt looks
/// as designed, breaks no policy, works, and leaves the page's styles alone.
#[test]
fn a_hostile_host_neither_breaks_nor_is_broken_by_the_prompt() {
    let w = World::new(&Site::demo());
    let v = w.visitor(1024, 700);
    v.open("/hostile");
    let page_styles = "const b = document.querySelector('body > .card button'); \
         return [getComputedStyle(b).display, getComputedStyle(document.querySelector('.card')).backgroundColor];";
    let page_before = v.js(page_styles);
    let nine = v.wait_for_button("9 out of 10");
    v.settle();
    let seen = v.on_prompt(
        "const q = getComputedStyle(r.querySelector('.question')), b = r.querySelector('.opt'), c = getComputedStyle(r.querySelector('.card')); \
         return [q.fontSize, q.fontStyle, q.textTransform, q.letterSpacing, getComputedStyle(b).display, b.getBoundingClientRect().width > 20, \
                 c.backgroundColor, c.display, window.violations];",
    );
    assert_eq!(
        seen,
        json!([
            "15px",
            "normal",
            "none",
            "normal",
            "block",
            true,
            "rgb(255, 255, 255)",
            "block",
            []
        ])
    );
    let page_after = v.js(page_styles);
    assert_eq!(
        page_before, page_after,
        "the widget's styles must not leak out"
    );
    assert_eq!(page_after, json!(["none", "rgb(0, 255, 0)"]));
    v.screenshot_as("hostile-host");
    v.click(&nine).unwrap();
    assert_eq!(v.thanks(), "Thank you for your feedback!");
    poll(
        crate::world::DELIVERY,
        "the answer from the hostile page",
        || Ok(w.responses_csv("").contains(",/hostile,").then_some(())),
    )
    .unwrap();
    assert_eq!(v.js("return window.violations;"), json!([]));
}
