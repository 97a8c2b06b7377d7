//! A visitor's browser tab on the shop, and what the visitor sees there.

use super::pool::Lease;
use super::{WAIT, World, poll};
use serde_json::{Value, json};
use std::ops::Deref;
use std::time::Duration;
use touchpoint_e2e::{Browser, Element};

/// The overlay prompt: a corner card or a centre modal.
pub const OVERLAY: &str = "touchpoint-prompt:not([inline])";

/// The feedback tab on the window's edge.
pub const TAB: &str = "touchpoint-tab";

/// The inline prompt in the page's `<div data-touchpoint="{place}">`.
pub fn inline(place: &str) -> String {
    format!("[data-touchpoint={place}] > touchpoint-prompt")
}

/// The one lookup of the widget's elements, which live in open shadow
/// roots: `h` is the first element matching `arguments[0]` ([`OVERLAY`],
/// [`TAB`] or an [`inline`] prompt) and `r` its shadow root; the body's own
/// arguments follow. The script returns null when there is no such
/// element, else what `body` returns.
fn on(body: &str) -> String {
    format!(
        "const h = document.querySelector(arguments[0]), r = h && h.shadowRoot; \
         if (!r) return null; {body}"
    )
}

/// Runs in every page a visitor opens, before the page's own scripts: lists
/// each request the page sends with `fetch` or `sendBeacon` the moment it
/// sends it (the Resource Timing API lists a request only once answered).
const RECORDER: &str = "(() => { \
     const sent = window.requestsSent = [], url = u => String(u && u.url || u), \
       fetch = window.fetch, beacon = Navigator.prototype.sendBeacon; \
     window.fetch = function (u) { sent.push(url(u)); return fetch.apply(this, arguments); }; \
     Navigator.prototype.sendBeacon = function (u) { sent.push(url(u)); return beacon.apply(this, arguments); }; \
   })();";

/// A visitor: a tab of a browser borrowed from the pool, on one world.
pub struct Visitor<'w> {
    world: &'w World,
    browser: Lease,
}

impl Deref for Visitor<'_> {
    type Target = Browser;

    fn deref(&self) -> &Browser {
        &self.browser
    }
}

impl<'w> Visitor<'w> {
    /// A fresh tab (no session storage, media emulation or page scripts of
    /// an earlier test), the window resized, and nothing stored for the
    /// world's origins (ports, and so origins, may come again).
    pub(super) fn new(world: &'w World, browser: Lease, width: u32, height: u32) -> Visitor<'w> {
        browser.new_tab().unwrap();
        browser.set_window_size(width, height).unwrap();
        browser.forget_origin(&world.shop).unwrap();
        browser.forget_origin(&world.api).unwrap();
        browser.on_new_document(RECORDER).unwrap();
        Visitor { world, browser }
    }

    /// Opens a page of the shop (`path` as `/pricing?x=1`) and waits for
    /// its `load` event.
    pub fn open(&self, path: &str) {
        self.goto(&format!("{}{path}", self.world.shop)).unwrap();
    }

    /// Runs `script` in the page; what it returns.
    pub fn js(&self, script: &str) -> Value {
        self.eval(script, vec![]).unwrap()
    }

    /// The page's element that `script` returns.
    pub fn element(&self, script: &str) -> Element {
        self.element_by_script(script, vec![])
            .unwrap()
            .unwrap_or_else(|| panic!("no element: {script}"))
    }

    /// Runs `body` on a widget element found by `host` (see [`on`]), with
    /// `args` as `arguments[1]`, …; null when the element is not on the page.
    pub fn on(&self, host: &str, body: &str, args: &[Value]) -> Value {
        let mut all = vec![json!(host)];
        all.extend_from_slice(args);
        self.eval(&on(body), all).unwrap()
    }

    /// Runs `body` on the overlay prompt (see [`on`]).
    pub fn on_prompt(&self, body: &str) -> Value {
        self.on(OVERLAY, body, &[])
    }

    /// The element `body` returns from a widget element found by `host`
    /// (see [`on`]).
    pub fn element_on(&self, host: &str, body: &str, args: &[Value]) -> Option<Element> {
        let mut all = vec![json!(host)];
        all.extend_from_slice(args);
        self.element_by_script(&on(body), all).unwrap()
    }

    /// The element matching `selector` in the shadow root of `host`.
    pub fn find_on(&self, host: &str, selector: &str) -> Option<Element> {
        self.element_on(
            host,
            "return r.querySelector(arguments[1]);",
            &[json!(selector)],
        )
    }

    /// The element matching `selector` in the overlay prompt.
    pub fn find(&self, selector: &str) -> Option<Element> {
        self.find_on(OVERLAY, selector)
    }

    /// Waits for `selector` to appear in the overlay prompt.
    pub fn wait_for(&self, selector: &str) -> Element {
        poll(WAIT, &format!("{selector} in the prompt"), || {
            Ok(self.find(selector))
        })
        .unwrap_or_else(|e| panic!("{e:#}; console: {:?}", self.console()))
    }

    /// Waits for the overlay prompt's button labelled `label` (its
    /// `aria-label`, what a screen reader announces).
    pub fn wait_for_button(&self, label: &str) -> Element {
        self.wait_for(&format!("[aria-label=\"{label}\"]"))
    }

    /// Clicks what matches `selector` in the overlay prompt.
    pub fn click_in_prompt(&self, selector: &str) {
        let element = self
            .find(selector)
            .unwrap_or_else(|| panic!("no {selector} in the prompt"));
        self.click(&element).unwrap();
    }

    /// The question of the overlay prompt on screen, if one is.
    pub fn question(&self) -> Option<String> {
        let q =
            self.on_prompt("const q = r.querySelector('.question'); return q && q.textContent;");
        q.as_str().map(str::to_owned)
    }

    /// Waits for an overlay prompt to be on screen; its question.
    pub fn wait_for_question(&self) -> String {
        poll(WAIT, "a prompt", || Ok(self.question()))
            .unwrap_or_else(|e| panic!("{e:#}; console: {:?}", self.console()))
    }

    /// Waits for the overlay prompt asking `question`.
    pub fn wait_for_prompt(&self, question: &str) {
        poll(WAIT, question, || {
            Ok((self.question().as_deref() == Some(question)).then_some(()))
        })
        .unwrap_or_else(|e| panic!("{e:#}; on screen: {:?}", self.question()));
    }

    /// Waits until no overlay prompt is on the page.
    pub fn wait_until_no_prompt(&self) {
        poll(WAIT, "the prompt to go", || {
            Ok((self.prompts() == 0).then_some(()))
        })
        .unwrap();
    }

    /// How many prompts are on the page.
    pub fn prompts(&self) -> u64 {
        self.js("return document.querySelectorAll('touchpoint-prompt').length;")
            .as_u64()
            .unwrap()
    }

    /// Waits for the overlay prompt's thank-you; its text.
    pub fn thanks(&self) -> String {
        poll(Duration::from_secs(5), "the thank-you", || {
            let t = self.on_prompt(
                "const t = r.querySelector('.thanks'); return t && t.textContent || null;",
            );
            Ok(t.as_str().map(str::to_owned))
        })
        .unwrap()
    }

    /// Waits for the overlay prompt's entrance animation to end (for
    /// steady screenshots and colour checks).
    pub fn settle(&self) {
        poll(
            Duration::from_secs(5),
            "the prompt's entrance to finish",
            || {
                let running = self.on_prompt("return r.getAnimations().length;");
                Ok((running == json!(0)).then_some(()))
            },
        )
        .unwrap();
    }

    /// Waits for the feedback tab's button: the widget has started on this
    /// page, its triggers armed. Fixtures that need a test to know it add
    /// a `tab` touchpoint as the witness.
    pub fn wait_for_tab(&self) -> Element {
        poll(WAIT, "the feedback tab", || Ok(self.find_on(TAB, "button")))
            .unwrap_or_else(|e| panic!("{e:#}; console: {:?}", self.console()))
    }

    /// Waits until a timer set in the page now, `ms` from now, has fired,
    /// then one turn more. The page runs its timers in the order they fall
    /// due, so by then every timer the page and the widget had set for
    /// `ms` or less has run, and whatever the widget showed from one (a
    /// delayed trigger, the check a second after a click) is on the page.
    /// The positive witness for proving that something does not happen.
    pub fn after_page_timers(&self, ms: u32) {
        self.eval_async(
            "const done = arguments[arguments.length - 1]; setTimeout(() => setTimeout(done, 0), arguments[0]);",
            vec![json!(ms)],
        )
        .unwrap();
    }

    /// Waits until the page has been idle twice. The loader asks for the
    /// widget from an idle callback once it has read the config (loader.js:
    /// "when the page is idle (within 2 s)"), and idle callbacks run in the
    /// order they were asked for: after the second of ours, any request
    /// the loader was to make for this page is made (see [`Self::sent`]).
    pub fn after_idle(&self) {
        self.eval_async(
            "const done = arguments[arguments.length - 1], idle = f => requestIdleCallback(f, { timeout: 2000 }); \
             idle(() => idle(() => setTimeout(done, 0)));",
            vec![],
        )
        .unwrap();
    }

    /// Waits until the loader has read the site's config and had every
    /// chance to ask for the widget (see [`Self::after_idle`]).
    pub fn after_loader_decided(&self) {
        poll(WAIT, "the site's config", || {
            Ok((self.fetched("/config") > 0).then_some(()))
        })
        .unwrap();
        self.after_idle();
    }

    /// The requests this page sent (with `fetch` or `sendBeacon`) to a URL
    /// containing `part`.
    pub fn sent(&self, part: &str) -> Vec<String> {
        let sent = self
            .eval(
                "return requestsSent.filter(u => u.includes(arguments[0]));",
                vec![json!(part)],
            )
            .unwrap();
        serde_json::from_value(sent).unwrap()
    }

    /// How many responses this page received from URLs containing `part`
    /// (the Resource Timing API: scripts, wasm, fetches).
    pub fn fetched(&self, part: &str) -> usize {
        self.eval(
            "return performance.getEntriesByType('resource').filter(e => e.name.includes(arguments[0])).length;",
            vec![json!(part)],
        )
        .unwrap()
        .as_u64()
        .unwrap()
        .try_into()
        .unwrap()
    }

    /// Whether the widget (its glue and wasm) was fetched or asked for.
    pub fn widget_requested(&self) -> bool {
        self.fetched("/widget/") > 0 || !self.sent("/widget/").is_empty()
    }

    /// The anonymous visitor id in the browser's storage.
    pub fn visitor_id(&self) -> String {
        self.js("return localStorage.getItem('touchpoint:visitor');")
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The events waiting in the browser for the server.
    pub fn queued(&self) -> Vec<Value> {
        let queued = self
            .eval(
                "return JSON.parse(localStorage.getItem('touchpoint:queue:' + arguments[0]) || '[]');",
                vec![json!(self.world.key)],
            )
            .unwrap();
        serde_json::from_value(queued).unwrap()
    }

    /// Runs `source` in every page this visitor opens from now on, before
    /// the page's own scripts.
    pub fn before_each_page(&self, source: &str) {
        self.on_new_document(source).unwrap();
    }

    /// Emulates a CSS media feature, e.g. `prefers-color-scheme: dark`.
    pub fn emulate(&self, feature: &str, value: &str) {
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": feature, "value": value}]}),
        )
        .unwrap();
    }

    /// The serious and critical axe-core violations within `selector`.
    pub fn violations(&self, selector: &str) -> Vec<String> {
        self.axe_violations(selector).unwrap()
    }

    /// Saves a screenshot as `target/screenshots/{name}.png`.
    pub fn screenshot_as(&self, name: &str) {
        self.screenshot(&super::screenshot_dir().join(format!("{name}.png")))
            .unwrap();
    }
}
