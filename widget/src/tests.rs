//! Component tests, in a real browser (`wasm-bindgen-test`, run by
//! `cargo xtask test` in headless Chromium): each prompt part mounted into
//! the page's DOM, driven with DOM events, its events read back from the
//! context's `send`.

use crate::{Ask, prompt};
use js_sys::{Array, Function, JSON, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// A context like the loader's, whose `send` collects events in `sent`.
fn context(sent: &Array) -> JsValue {
    let ctx = JSON::parse(r#"{"site":"test-site","visitor":"v1","session":"s1"}"#).unwrap();
    let send = Function::new_with_args("e", "this.push(e)").bind0(sent);
    let id = Function::new_no_args(
        "return 'id-' + Math.random().toString(16).slice(2) + '-' + performance.now();",
    );
    let path = Function::new_no_args("return '/component';");
    for (k, v) in [("send", send), ("id", id), ("path", path)] {
        Reflect::set(&ctx, &k.into(), &v).unwrap();
    }
    ctx
}

/// Mounts the touchpoint `tp` (JSON, as the config serves it) as a corner
/// prompt; returns its shadow root and the events it sends.
fn mount(tp: &str) -> (web_sys::ShadowRoot, Array) {
    clear();
    let sent = Array::new();
    let ask = Ask::new(&context(&sent), &JSON::parse(tp).unwrap(), None).expect("an ask");
    prompt::mount(ask, None, None, Box::new(|| {})).unwrap();
    (host().shadow_root().unwrap(), sent)
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn host() -> web_sys::HtmlElement {
    document()
        .query_selector("touchpoint-prompt")
        .unwrap()
        .expect("a prompt on the page")
        .unchecked_into()
}

fn clear() {
    while let Some(h) = document().query_selector("touchpoint-prompt").unwrap() {
        h.remove();
    }
}

/// Lets timers and pending DOM work catch up.
async fn tick(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

fn all(root: &web_sys::ShadowRoot, selector: &str) -> Vec<web_sys::HtmlElement> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into().ok())
        .collect()
}

fn one(root: &web_sys::ShadowRoot, selector: &str) -> web_sys::HtmlElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("{selector} in the prompt"))
        .unchecked_into()
}

fn attr(el: &web_sys::Element, name: &str) -> String {
    el.get_attribute(name).unwrap_or_default()
}

fn field(e: &JsValue, k: &str) -> JsValue {
    Reflect::get(e, &k.into()).unwrap()
}

fn kinds(sent: &Array) -> Vec<String> {
    sent.iter()
        .map(|e| field(&e, "kind").as_string().unwrap())
        .collect()
}

fn key(el: &web_sys::HtmlElement, key: &str, shift: bool) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_shift_key(shift);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    el.dispatch_event(&ev).unwrap();
}

const NPS: &str = r#"{"id":"nps","metric":"nps","question":{"en":"Recommend us?"},
  "follow_up":{"max":6,"question":{"en":"What went wrong?"}}}"#;

#[wasm_bindgen_test]
async fn an_nps_scale_is_a_labelled_radiogroup_with_one_tab_stop() {
    let (root, sent) = mount(NPS);
    tick(0).await;
    let group = one(&root, "[role=radiogroup]");
    assert_eq!(attr(&group, "aria-label"), "Recommend us?");
    let radios = all(&root, "[role=radio]");
    assert_eq!(radios.len(), 11);
    assert_eq!(attr(&radios[0], "aria-label"), "0 out of 10, Not likely");
    assert_eq!(attr(&radios[9], "aria-label"), "9 out of 10");
    assert_eq!(attr(&radios[10], "aria-label"), "10 out of 10, Very likely");
    let stops = radios.iter().filter(|r| attr(r, "tabindex") == "0").count();
    assert_eq!(stops, 1, "one tab stop in the group");
    assert_eq!(kinds(&sent), ["impression"]);
    let e = sent.get(0);
    assert_eq!(field(&e, "touchpoint"), "nps");
    let page = field(&e, "page").as_string().unwrap();
    assert!(page.ends_with("/component"), "{page}");
    assert_eq!(field(&e, "visitor"), "v1");
}

#[wasm_bindgen_test]
async fn arrow_keys_home_and_end_move_between_options() {
    let (root, _) = mount(NPS);
    tick(0).await;
    let radios = all(&root, "[role=radio]");
    radios[0].focus().unwrap();
    key(&radios[0], "ArrowRight", false);
    tick(0).await;
    let active = || attr(&root.active_element().unwrap(), "aria-label");
    assert_eq!(active(), "1 out of 10");
    key(&radios[1], "End", false);
    tick(0).await;
    assert_eq!(active(), "10 out of 10, Very likely");
    key(&radios[10], "ArrowRight", false);
    tick(0).await;
    assert_eq!(active(), "0 out of 10, Not likely", "wraps around");
    assert_eq!(attr(&radios[0], "tabindex"), "0");
    assert_eq!(attr(&radios[10], "tabindex"), "-1");
}

#[wasm_bindgen_test]
async fn a_tap_sends_the_score_at_once_and_thanks() {
    let (root, sent) = mount(NPS);
    tick(0).await;
    one(&root, "[aria-label='9 out of 10']").click();
    tick(0).await;
    assert_eq!(kinds(&sent), ["impression", "response"]);
    assert_eq!(field(&sent.get(1), "score"), 9);
    assert_eq!(
        one(&root, ".thanks").text_content().unwrap(),
        "Thank you for your feedback!"
    );
    assert_eq!(
        attr(&one(&root, "[aria-label='9 out of 10']"), "aria-checked"),
        "true"
    );
}

#[wasm_bindgen_test]
async fn a_low_score_opens_the_follow_up_which_completes_the_same_response() {
    let (root, sent) = mount(NPS);
    tick(0).await;
    one(&root, "[aria-label='3 out of 10']").click();
    tick(0).await;
    let steps = all(&root, ".step");
    assert!(
        steps[0].hidden() && !steps[1].hidden(),
        "the follow-up shows"
    );
    let area: web_sys::HtmlTextAreaElement = one(&root, "textarea").unchecked_into();
    area.set_value("Slow delivery, call +44 20 7946 0958");
    area.dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    tick(0).await;
    all(&root, ".step:not([hidden]) .send")[0].click();
    tick(0).await;
    assert_eq!(kinds(&sent), ["impression", "response", "response"]);
    let (first, second) = (sent.get(1), sent.get(2));
    assert_eq!(field(&first, "id"), field(&second, "id"), "one response");
    assert_eq!(field(&second, "score"), 3);
    assert_eq!(field(&second, "comment"), "Slow delivery, call [number]");
}

#[wasm_bindgen_test]
async fn escape_dismisses_once_and_removes_the_prompt() {
    let (root, sent) = mount(NPS);
    tick(0).await;
    key(&one(&root, ".card"), "Escape", false);
    tick(0).await;
    assert_eq!(kinds(&sent), ["impression", "dismiss"]);
    assert!(
        document()
            .query_selector("touchpoint-prompt")
            .unwrap()
            .is_none()
    );
}

#[wasm_bindgen_test]
async fn csat_stars_and_faces() {
    let (root, sent) =
        mount(r#"{"id":"c","metric":"csat","scale":"stars","question":{"en":"Rate it"}}"#);
    tick(0).await;
    let stars = all(&root, ".scale.stars [role=radio]");
    assert_eq!(stars.len(), 5);
    assert!(stars.iter().all(|s| s.text_content().unwrap() == "★"));
    assert_eq!(attr(&stars[4], "aria-label"), "5 out of 5, Very satisfied");
    stars[3].click();
    tick(0).await;
    assert_eq!(field(&sent.get(1), "score"), 4);
    assert_eq!(field(&sent.get(1), "metric"), "csat");

    let (root, _) =
        mount(r#"{"id":"f","metric":"csat","scale":"faces","question":{"en":"Rate it"}}"#);
    tick(0).await;
    let faces: Vec<String> = all(&root, "[role=radio]")
        .iter()
        .map(|f| f.text_content().unwrap())
        .collect();
    assert_eq!(faces, ["😞", "🙁", "😐", "🙂", "😄"]);
}

#[wasm_bindgen_test]
async fn a_multiple_choice_sends_what_is_checked() {
    let (root, sent) = mount(
        r#"{"id":"m","metric":"choice","multiple":true,"question":{"en":"Pick"},
            "options":[{"id":"a","label":{"en":"A"}},{"id":"b","label":{"en":"B"}},{"id":"c","label":{"en":"C"}}]}"#,
    );
    tick(0).await;
    let send = one(&root, ".send");
    assert!(send.has_attribute("disabled"), "nothing picked yet");
    for label in ["A", "B", "C", "B"] {
        one(&root, &format!("[aria-label='{label}']")).click();
        tick(0).await;
    }
    assert_eq!(send.get_attribute("disabled"), None);
    send.click();
    tick(0).await;
    let choices: Vec<String> = Array::from(&field(&sent.get(1), "choices"))
        .iter()
        .map(|c| c.as_string().unwrap())
        .collect();
    assert_eq!(choices, ["a", "c"]);
}

#[wasm_bindgen_test]
async fn a_centre_modal_keeps_tab_within_itself() {
    clear();
    let sent = Array::new();
    let tp = JSON::parse(
        r#"{"id":"x","metric":"thumbs","position":"center","question":{"en":"Helpful?"}}"#,
    )
    .unwrap();
    let ask = Ask::new(&context(&sent), &tp, None).unwrap();
    assert!(ask.modal);
    let before = document().create_element("button").unwrap();
    document().body().unwrap().append_child(&before).unwrap();
    before
        .unchecked_ref::<web_sys::HtmlElement>()
        .focus()
        .unwrap();
    prompt::mount(ask, None, None, Box::new(|| {})).unwrap();
    tick(10).await;
    let root = host().shadow_root().unwrap();
    assert!(host().has_attribute("modal"));
    assert_eq!(attr(&one(&root, ".card"), "aria-modal"), "true");
    let label = || {
        attr(
            &root.active_element().expect("focus in the modal"),
            "aria-label",
        )
    };
    assert_eq!(label(), "No", "focus moved in");
    // The last tab stop (the group's one radio) wraps to the first (close).
    key(&one(&root, "[aria-label='No']"), "Tab", false);
    assert_eq!(label(), "Close");
    key(&one(&root, ".close"), "Tab", true);
    assert_eq!(label(), "No");
    key(&one(&root, ".card"), "Escape", false);
    tick(0).await;
    assert!(
        document()
            .active_element()
            .unwrap()
            .is_same_node(Some(&before)),
        "focus given back"
    );
    before.remove();
}

#[wasm_bindgen_test]
async fn arabic_is_right_to_left_with_its_own_words() {
    let (root, _) = mount(r#"{"id":"a","metric":"thumbs","question":{"ar":"هل كان هذا مفيدا؟"}}"#);
    tick(0).await;
    assert_eq!(attr(&one(&root, ".card"), "dir"), "rtl");
    assert_eq!(
        attr(&one(&root, ".close"), "aria-label"),
        crate::i18n::strings("ar").close
    );
}
