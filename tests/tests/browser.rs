//! A real headless Chromium, over WebDriver, on the demo shop served from one
//! origin with the script tag loading from the API's origin. Build the
//! widget first: `cargo xtask test` does.

use serde_json::{Value, json};
use std::time::Duration;
use touchpoint_e2e::{Browser, poll, screenshot_dir};
use touchpoint_server::auth::{hash_token, new_site_key, new_token};
use touchpoint_server::site_file;
use touchpoint_server::store::{Role, Store};

/// A running API server and demo shop on two loopback origins.
struct World {
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    api: String,
    shop: String,
    key: String,
    token: String,
    state: touchpoint_server::AppState,
    /// Stops the API server (see [`World::stop_api`]).
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Starts both servers with the demo site file, its origins pointed at the
/// shop and `edit` applied to the text.
fn world(edit: impl FnOnce(String) -> String) -> World {
    assert!(
        touchpoint_server::assets::widget().is_some(),
        "the server was built without the widget: run the tests with `cargo xtask test`"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("e2e.db").display());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (api, shop, key, token, state) = rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let shop_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = format!(
            "http://127.0.0.1:{}",
            api_listener.local_addr().unwrap().port()
        );
        // "localhost" vs "127.0.0.1" and another port: a different origin, as on a real site.
        let shop = format!(
            "http://localhost:{}",
            shop_listener.local_addr().unwrap().port()
        );
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../www/demo/site.toml"
        ))
        .unwrap();
        let text = text
            .lines()
            .map(|l| {
                if l.starts_with("origins") {
                    format!("origins = [\"{shop}\"]")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let file = site_file::parse(&edit(text)).unwrap();
        let (key, _) = store.apply_site(&file, new_site_key).await.unwrap();
        let site = store.site_by_key(&key).await.unwrap().unwrap();
        let token = new_token();
        store
            .add_token(site.id, Role::Viewer, &hash_token(&token))
            .await
            .unwrap();
        let state = touchpoint_server::AppState::new(store);
        tokio::spawn(touchpoint_server::serve(
            api_listener,
            state.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        let app = touchpoint_demo::app(touchpoint_demo::Shop {
            api: api.clone(),
            site: key.clone(),
        })
        .merge(hostile_host(&api, &key))
        .merge(single_page_app(&api, &key));
        tokio::spawn(async move { axum_serve(shop_listener, app).await });
        (api, shop, key, token, state)
    });
    World {
        rt,
        _dir: dir,
        api,
        shop,
        key,
        token,
        state,
        stop: Some(stop),
    }
}

/// `/hostile`: a page that fights the widget. A strict CSP (no inline
/// script or style, the API allowed for scripts and connections, wasm
/// compilation allowed), and global CSS that restyles every element.
fn hostile_host(api: &str, key: &str) -> axum::Router {
    use axum::http::header;
    use axum::routing::get;
    let csp = format!(
        "default-src 'self'; script-src 'self' {api} 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' {api}"
    );
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hostile host</title>
<link rel="stylesheet" href="/hostile.css"><script src="/hostile-stub.js"></script>
<script async src="{api}/t.js" data-site="{key}"></script></head>
<body><div class="card"><p class="question">The page's own card</p><button class="opt">The page's own button</button></div></body></html>"#
    );
    axum::Router::new()
        .route(
            "/hostile",
            get(move || async move {
                (
                    [(header::CONTENT_SECURITY_POLICY, csp)],
                    axum::response::Html(html),
                )
            }),
        )
        .route(
            "/hostile.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css")],
                    "* { font: italic 40px/3 fantasy !important; color: #f0f !important; letter-spacing: 9px !important; \
                       box-sizing: content-box !important; text-transform: uppercase !important; } \
                     div, section, p { display: inline !important; margin: 50px !important; padding: 30px !important; \
                       background: #0f0 !important; border: 9px dashed red !important; } \
                     button { display: none !important; position: absolute !important; } \
                     body > * { opacity: .9 !important; transform: rotate(3deg) !important; }",
                )
            }),
        )
        .route(
            "/hostile-stub.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript")],
                    "window.touchpoint=window.touchpoint||function(){(touchpoint.q=touchpoint.q||[]).push(arguments)};\
                     window.violations=[];document.addEventListener('securitypolicyviolation',e=>violations.push(e.violatedDirective+' '+e.blockedURI));",
                )
            }),
        )
}

/// `/spa/…`: every path serves the same page, as a single-page app's
/// server does; the page changes its path with `history.pushState`. And
/// `/staged`, whose script tag names its journey stage.
fn single_page_app(api: &str, key: &str) -> axum::Router {
    use axum::routing::get;
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>App</title>
<script>window.touchpoint=window.touchpoint||function(){{(touchpoint.q=touchpoint.q||[]).push(arguments)}};</script>
<script async src="{api}/t.js" data-site="{key}"></script></head><body><h1>An app</h1></body></html>"#
    );
    let page = move || {
        let html = html.clone();
        async move { axum::response::Html(html) }
    };
    // A page that names its journey stage on the script tag.
    let staged = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Help</title>
<script async src="{api}/t.js" data-site="{key}" data-stage="support"></script></head><body><h1>Help</h1></body></html>"#
    );
    axum::Router::new()
        .route("/spa", get(page.clone()))
        .route("/spa/{*rest}", get(page))
        .route(
            "/staged",
            get(move || {
                let html = staged.clone();
                async move { axum::response::Html(html) }
            }),
        )
}

async fn axum_serve(listener: tokio::net::TcpListener, app: axum::Router) {
    axum::serve(listener, app).await.unwrap();
}

impl World {
    /// Stops the API server and waits until its port refuses connections.
    fn stop_api(&mut self) {
        let _ = self.stop.take().expect("the API is running").send(());
        let addr = self.api.trim_start_matches("http://").to_owned();
        poll(Duration::from_secs(10), "the API to stop", || {
            Ok(std::net::TcpStream::connect(&addr).is_err().then_some(()))
        })
        .unwrap();
    }

    /// Starts the API server again on the same address and database.
    fn start_api(&mut self) {
        let addr = self.api.trim_start_matches("http://").to_owned();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listener = self
            .rt
            .block_on(tokio::net::TcpListener::bind(&addr))
            .unwrap();
        self.rt.spawn(touchpoint_server::serve(
            listener,
            self.state.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        self.stop = Some(stop);
    }

    /// Everything stored about one visitor, as the visitor export has it.
    fn events_of(&self, visitor: &str) -> Vec<Value> {
        self.rt.block_on(async {
            let site = self
                .state
                .store
                .site_by_key(&self.key)
                .await
                .unwrap()
                .unwrap();
            self.state
                .store
                .visitor_events(site.id, visitor)
                .await
                .unwrap()
                .into_iter()
                .map(|e| serde_json::to_value(e).unwrap())
                .collect()
        })
    }

    fn get(&self, path: &str) -> String {
        let mut res = ureq::get(format!("{}{path}", self.api))
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()
            .unwrap();
        res.body_mut().read_to_string().unwrap()
    }
}

const PROMPT_BUTTON: &str = "const h = document.querySelector('touchpoint-prompt'); \
     return h && h.shadowRoot && h.shadowRoot.querySelector('button[aria-label=\"' + arguments[0] + '\"]');";

#[test]
fn a_click_on_9_is_stored_under_its_page_and_stage() {
    let w = world(|t| t);
    let browser = Browser::start(1280, 800).unwrap();
    // The query string (and the e-mail in it) must never reach storage.
    browser
        .goto(&format!(
            "{}/product/42?utm_source=mail&email=ann@shop.example",
            w.shop
        ))
        .unwrap();
    let nine = poll(Duration::from_secs(20), "the NPS prompt", || browser.element_by_script(PROMPT_BUTTON, vec![json!("9 out of 10")]))
        .unwrap_or_else(|e| {
            let dom = browser.eval("const h = document.querySelector('touchpoint-prompt'); return [window.touchpoint && window.touchpoint.t, h && h.shadowRoot.innerHTML];", vec![]);
            panic!("{e:#}; console: {:?}; prompt: {dom:?}", browser.console())
        });

    let shadow = browser
        .eval(
            "const h = document.querySelector('touchpoint-prompt'); \
             return [h.shadowRoot.mode, h.shadowRoot.adoptedStyleSheets.length, h.shadowRoot.querySelectorAll('style').length, \
                     h.shadowRoot.querySelectorAll('button.opt').length, h.shadowRoot.querySelector('.question').textContent];",
            vec![],
        )
        .unwrap();
    assert_eq!(
        shadow,
        json!([
            "open",
            1,
            0,
            11,
            "How likely are you to recommend Demo Shop to a friend or colleague?"
        ])
    );
    poll(Duration::from_secs(5), "the prompt's entrance to finish", || {
        let running = browser.eval("return document.querySelector('touchpoint-prompt').shadowRoot.getAnimations().length;", vec![])?;
        Ok((running == 0).then_some(()))
    })
    .unwrap();
    browser
        .screenshot(&screenshot_dir().join("nps-prompt-product.png"))
        .unwrap();
    assert_eq!(
        browser.axe_violations("touchpoint-prompt").unwrap(),
        Vec::<String>::new()
    );

    // The widget travels compressed: the measured brotli bytes are what the page pays.
    let sizes = browser
        .eval(
            "return performance.getEntriesByType('resource').filter(e => e.name.includes('/widget/') || e.name.endsWith('/t.js')) \
               .map(e => [e.name.split('.').pop(), e.encodedBodySize, e.decodedBodySize]);",
            vec![],
        )
        .unwrap();
    let sizes = sizes.as_array().unwrap();
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    for s in sizes {
        let (encoded, decoded) = (s[1].as_u64().unwrap(), s[2].as_u64().unwrap());
        assert!(
            encoded > 0 && encoded * 2 < decoded,
            "{s} is not served compressed"
        );
    }

    browser.click(&nine).unwrap();
    let thanks = poll(Duration::from_secs(5), "the thank-you", || {
        let v = browser.eval("const h = document.querySelector('touchpoint-prompt'); const t = h && h.shadowRoot.querySelector('.thanks'); return (t && t.textContent) || null;", vec![])?;
        Ok(v.as_str().map(str::to_owned))
    })
    .unwrap();
    assert_eq!(thanks, "Thank you for your feedback!");
    browser
        .screenshot(&screenshot_dir().join("nps-prompt-thanks.png"))
        .unwrap();

    let row = poll(
        Duration::from_secs(10),
        "the response in the aggregates",
        || {
            let agg: Value = serde_json::from_str(&w.get(&format!(
                "/v1/sites/{}/aggregates?group_by=page,stage",
                w.key
            )))?;
            Ok(agg["rows"]
                .as_array()
                .and_then(|rows| rows.iter().find(|r| r["responses"] == 1).cloned()))
        },
    )
    .unwrap();
    assert_eq!(row["page"], "/product/42");
    assert_eq!(row["stage"], "evaluate");
    assert_eq!(row["metric"], "nps");
    assert_eq!(row["impressions"], 1);
    assert_eq!(row["response_rate"], json!(1.0));
    assert_eq!(row["promoters"], 1);
    assert_eq!(row["nps"], json!(100.0));
    assert_eq!(row["distribution"], json!({"9": 1}));

    let csv = w.get(&format!(
        "/v1/sites/{}/export.csv?group_by=page,stage",
        w.key
    ));
    assert!(
        csv.lines()
            .any(|l| l.starts_with("/product/42,evaluate,nps,1,1,1,9,")),
        "{csv}"
    );
    let raw = w.get(&format!("/v1/sites/{}/responses.csv", w.key));
    assert!(
        raw.contains(",/product/42,evaluate,site-nps,nps,9,"),
        "{raw}"
    );
    assert!(
        !raw.contains("ann@") && !raw.contains("utm_source"),
        "{raw}"
    );
    let ndjson = w.get(&format!("/v1/sites/{}/responses.ndjson", w.key));
    let stored: Value = serde_json::from_str(ndjson.lines().next().unwrap()).unwrap();
    assert_eq!(stored["device"], "desktop");
    assert!(
        stored["locale"]
            .as_str()
            .is_some_and(|l| l.starts_with("en")),
        "{stored}"
    );
}

#[test]
fn a_page_with_no_eligible_touchpoint_loads_only_the_loader_and_config() {
    let w = world(|t| t.replace("pages = [\"/**\"]", "pages = [\"/checkout\"]"));
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    let decided = poll(Duration::from_secs(20), "the loader's decision", || {
        let v = browser.eval("return window.touchpoint && window.touchpoint.t;", vec![])?;
        Ok(v.as_str().map(str::to_owned))
    })
    .unwrap();
    assert_eq!(decided, "");
    let loaded = browser
        .eval(&format!("return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.startsWith('{}'));", w.api), vec![])
        .unwrap();
    assert_eq!(
        loaded,
        json!([
            format!("{}/t.js", w.api),
            format!("{}/v1/sites/{}/config", w.api, w.key)
        ])
    );

    // The loader's glob matcher agrees with the server's.
    let cases = [
        ("/", "/"),
        ("/", "/pricing"),
        ("/product/*", "/product/42"),
        ("/product/*", "/product/42/reviews"),
        ("/product/**", "/product/42/reviews"),
        ("/product/**", "/product"),
        ("/product/**", "/products"),
        ("/**", "/"),
        ("/a/**/z", "/a/z"),
        ("/a/**/z", "/a/b/c/z"),
        ("/blog/*.html", "/blog/x.html"),
        ("/checkout*", "/checkout-done"),
    ];
    let js = browser
        .eval(
            "return arguments[0].map(c => window.touchpoint.glob(c[0], c[1]));",
            vec![json!(cases)],
        )
        .unwrap();
    let rust: Vec<bool> = cases
        .iter()
        .map(|(g, p)| touchpoint_wire::page::glob_match(g, p))
        .collect();
    assert_eq!(js, json!(rust));

    // Where the touchpoint is eligible, the widget does load and ask.
    browser.goto(&format!("{}/checkout", w.shop)).unwrap();
    poll(Duration::from_secs(20), "the prompt on /checkout", || {
        browser.element_by_script(PROMPT_BUTTON, vec![json!("0 out of 10, Not likely")])
    })
    .unwrap();
}

/// Offline at the moment of answering: the answer waits in localStorage,
/// survives a navigation, and arrives exactly once when the server is back.
#[test]
fn an_answer_given_while_the_server_is_down_arrives_exactly_once() {
    let mut w = world(|t| t);
    let browser = Browser::start(1024, 700).unwrap();
    let queue_script = answer_while_offline(&mut w, &browser);

    // Another page while the server is still down: the loader comes from the cache.
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    w.start_api();
    let row = poll(
        Duration::from_secs(60),
        "the queued answer to arrive",
        || {
            let agg: Value = serde_json::from_str(
                &w.get(&format!("/v1/sites/{}/aggregates?group_by=page", w.key)),
            )?;
            Ok(agg["rows"]
                .as_array()
                .and_then(|rows| rows.iter().find(|r| r["responses"] == 1).cloned()))
        },
    )
    .unwrap();
    assert_eq!(
        (row["page"].as_str(), row["promoters"].as_u64()),
        (Some("/product/42"), Some(1))
    );
    poll(Duration::from_secs(10), "the queue to empty", || {
        let kinds = browser.eval(&queue_script, vec![])?;
        Ok((kinds == json!([])).then_some(()))
    })
    .unwrap();
    // Resends (beacon, retries, the next page) never count twice.
    let raw = w.get(&format!("/v1/sites/{}/responses.csv", w.key));
    assert_eq!(raw.lines().count(), 2, "{raw}");
}

/// A touchpoint for some journey stages appears only there: on a page of
/// that stage by its globs, or once the page says it is on it.
#[test]
fn a_touchpoint_for_a_stage_appears_only_on_that_stage() {
    let w = world(|t| {
        with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"buying\"\nmetric = \"thumbs\"\nstages = [\"purchase\"]\ntrigger = { on = \"manual\" }\nquestion = { en = \"Buying going well?\" }\n",
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    let show = || {
        browser
            .eval("touchpoint('show', 'buying');", vec![])
            .unwrap();
        pause(&browser, 500);
    };
    // /pricing is in "evaluate" by the site's globs.
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    armed(&browser);
    show();
    assert_eq!(prompt_question(&browser), Value::Null, "not on evaluate");
    // The page says where the visitor is.
    browser
        .eval("touchpoint('stage', 'purchase');", vec![])
        .unwrap();
    show();
    assert_eq!(
        wait_for_prompt(&browser, "on purchase"),
        "Buying going well?"
    );
    // /cart is in "purchase" by the globs (a new session: shown again).
    browser.eval("sessionStorage.clear();", vec![]).unwrap();
    browser.goto(&format!("{}/cart", w.shop)).unwrap();
    armed(&browser);
    show();
    assert_eq!(wait_for_prompt(&browser, "on /cart"), "Buying going well?");
}

/// `data-stage` on the script tag names the page's journey stage: answers
/// carry it, whatever the site's globs say about the path.
#[test]
fn data_stage_on_the_script_tag_sets_the_stage() {
    let w = world(|t| {
        with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"helpful\"\nmetric = \"thumbs\"\npages = [\"/staged\"]\nquestion = { en = \"Helpful?\" }\n",
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/staged", w.shop)).unwrap();
    assert_eq!(wait_for_prompt(&browser, "the prompt"), "Helpful?");
    browser
        .click(&in_prompt(&browser, "[aria-label='Yes']").unwrap().unwrap())
        .unwrap();
    let raw = poll(Duration::from_secs(10), "the answer", || {
        let raw = w.get(&format!("/v1/sites/{}/responses.csv", w.key));
        Ok((raw.lines().count() == 2).then_some(raw))
    })
    .unwrap();
    assert!(raw.contains(",/staged,support,helpful,thumbs,1,"), "{raw}");
}

/// `sample` is the share of visitors asked: a visitor's draw below it is
/// asked, one above it is not.
#[test]
fn sampling_asks_only_the_drawn_share() {
    let w = world(|t| {
        with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"half\"\nmetric = \"thumbs\"\npages = [\"/pricing\"]\nsample = 0.5\nquestion = { en = \"Half?\" }\n\n\
             [[touchpoint]]\nid = \"none\"\nmetric = \"thumbs\"\npages = [\"/pricing\"]\nsample = 0.0\nquestion = { en = \"None?\" }\n",
        )
    });
    for (draw, expect) in [("0.3", "half"), ("0.7", "")] {
        let browser = Browser::start(1024, 700).unwrap();
        browser
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": format!("Math.random = () => {draw};") }),
            )
            .unwrap();
        browser.goto(&format!("{}/pricing", w.shop)).unwrap();
        decided(&browser, expect);
    }
}

/// `touchpoint('consent', false)` empties the queue and stops all sending:
/// an answer waiting for the server never arrives, and later pages do not
/// even fetch the config, until the page gives consent again.
#[test]
fn withdrawn_consent_empties_the_queue_and_stops_sending() {
    let mut w = world(|t| t);
    let browser = Browser::start(1024, 700).unwrap();
    let queue_script = answer_while_offline(&mut w, &browser);
    browser
        .eval("touchpoint('consent', false);", vec![])
        .unwrap();
    assert_eq!(browser.eval(&queue_script, vec![]).unwrap(), json!([]));
    w.start_api();
    let fetched = |what: &str| {
        browser
            .eval(
                "return performance.getEntriesByType('resource').filter(e => e.name.includes(arguments[0])).length;",
                vec![json!(what)],
            )
            .unwrap()
    };
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    pause(&browser, 2000);
    assert_eq!(
        (fetched("/config"), fetched("/v1/events")),
        (json!(0), json!(0)),
        "nothing fetched, nothing sent"
    );
    let raw = w.get(&format!("/v1/sites/{}/responses.csv", w.key));
    assert_eq!(
        raw.lines().count(),
        1,
        "the withdrawn answer never arrived: {raw}"
    );

    // Consent given again: the loader works as before.
    browser
        .eval("touchpoint('consent', true);", vec![])
        .unwrap();
    browser.goto(&format!("{}/cart", w.shop)).unwrap();
    poll(Duration::from_secs(20), "the loader's decision", || {
        let v = browser.eval("return window.touchpoint && window.touchpoint.t;", vec![])?;
        Ok(v.is_string().then_some(()))
    })
    .unwrap();
    assert_eq!(fetched("/config"), json!(1));
}

/// A visitor who asks for reduced motion gets the prompt without its
/// entrance animation; others get it.
#[test]
fn reduced_motion_drops_the_entrance_animation() {
    let w = world(|t| t);
    for (motion, expect) in [("reduce", "none"), ("no-preference", "rise")] {
        let browser = Browser::start(1024, 700).unwrap();
        browser
            .cdp(
                "Emulation.setEmulatedMedia",
                json!({"features": [{"name": "prefers-reduced-motion", "value": motion}]}),
            )
            .unwrap();
        browser.goto(&format!("{}/product/42", w.shop)).unwrap();
        poll(Duration::from_secs(20), "the prompt", || {
            in_prompt(&browser, ".card")
        })
        .unwrap();
        let name = browser
            .eval(
                "return getComputedStyle(document.querySelector('touchpoint-prompt').shadowRoot.querySelector('.card')).animationName;",
                vec![],
            )
            .unwrap();
        assert_eq!(name, json!(expect), "{motion}");
    }
}

/// The score scale is a radio group: arrows, Home and End move, Enter
/// answers; a corner prompt never takes the page's focus.
#[test]
fn the_prompt_is_keyboard_operable_and_leaves_focus_alone() {
    let w = world(|t| t);
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    let first = poll(Duration::from_secs(20), "the NPS prompt", || {
        browser.element_by_script(PROMPT_BUTTON, vec![json!("0 out of 10, Not likely")])
    })
    .unwrap();
    let page_focus = browser
        .eval("return document.activeElement === document.body;", vec![])
        .unwrap();
    assert_eq!(
        page_focus,
        json!(true),
        "a corner prompt must not steal focus"
    );
    let active = || {
        browser
            .eval(
                "const r = document.querySelector('touchpoint-prompt').shadowRoot; \
                 return [r.activeElement && r.activeElement.getAttribute('aria-label'), \
                         [...r.querySelectorAll('[role=radio]')].filter(b => b.tabIndex === 0).length];",
                vec![],
            )
            .unwrap()
    };
    let right = "\u{E014}";
    browser.send_keys(&first, &right.repeat(9)).unwrap();
    assert_eq!(active(), json!(["9 out of 10", 1]));
    browser.send_keys(&first, "\u{E010}").unwrap(); // End
    assert_eq!(active(), json!(["10 out of 10, Very likely", 1]));
    browser.send_keys(&first, "\u{E012}").unwrap(); // Left from 0 wraps to 10
    assert_eq!(active(), json!(["10 out of 10, Very likely", 1]));
    let nine = browser
        .element_by_script(PROMPT_BUTTON, vec![json!("9 out of 10")])
        .unwrap()
        .unwrap();
    browser.send_keys(&nine, "\u{E007}").unwrap(); // Enter answers
    let row = poll(Duration::from_secs(10), "the keyboard answer", || {
        let agg: Value = serde_json::from_str(&w.get(&format!("/v1/sites/{}/aggregates", w.key)))?;
        Ok(agg["rows"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["responses"] == 1).cloned()))
    })
    .unwrap();
    assert_eq!(row["distribution"], json!({"9": 1}));
}

/// The site file with its touchpoints replaced by `touchpoints`.
fn with_touchpoints(text: &str, touchpoints: &str) -> String {
    let head = text.split("[[touchpoint]]").next().unwrap();
    format!("{head}{touchpoints}")
}

/// Runs `script` on the prompt's shadow root (as `r`) and returns an element.
fn in_prompt(browser: &Browser, selector: &str) -> anyhow::Result<Option<touchpoint_e2e::Element>> {
    browser.element_by_script(
        "const h = document.querySelector('touchpoint-prompt'); \
         return h && h.shadowRoot && h.shadowRoot.querySelector(arguments[0]);",
        vec![json!(selector)],
    )
}

/// Waits for the prompt's entrance animation to end (for steady screenshots).
fn settle(browser: &Browser) {
    poll(Duration::from_secs(5), "the prompt's entrance to finish", || {
        let running = browser.eval(
            "const h = document.querySelector('touchpoint-prompt'); return h ? h.shadowRoot.getAnimations().length : -1;",
            vec![],
        )?;
        Ok((running == 0).then_some(()))
    })
    .unwrap();
}

fn thanks(browser: &Browser) -> String {
    poll(Duration::from_secs(5), "the thank-you", || {
        let v = browser.eval(
            "const h = document.querySelector('touchpoint-prompt'); const t = h && h.shadowRoot.querySelector('.thanks'); \
             return (t && t.textContent) || null;",
            vec![],
        )?;
        Ok(v.as_str().map(str::to_owned))
    })
    .unwrap()
}

const KINDS: &str = r#"
[[touchpoint]]
id = "k-csat"
metric = "csat"
pages = ["/product/1"]
question = { en = "How satisfied are you with this page?" }

[[touchpoint]]
id = "k-ces"
metric = "ces"
pages = ["/product/42"]
question = { en = "How easy was it to find what you needed?" }

[[touchpoint]]
id = "k-thumbs"
metric = "thumbs"
pages = ["/product/7"]
question = { en = "Was this page helpful?" }

[[touchpoint]]
id = "k-emoji"
metric = "emoji"
pages = ["/pricing"]
question = { en = "How do you feel about our prices?" }

[[touchpoint]]
id = "k-text"
metric = "text"
pages = ["/"]
question = { en = "What almost stopped you from buying today?" }

[[touchpoint]]
id = "k-choice"
metric = "choice"
pages = ["/checkout"]
question = { en = "How would you like to pay?" }
options = [
  { id = "card", label = { en = "Card" } },
  { id = "paypal", label = { en = "PayPal" } },
  { id = "invoice", label = { en = "Invoice" } },
]

[[touchpoint]]
id = "k-stars"
metric = "csat"
scale = "stars"
pages = ["/product/2"]
question = { en = "How would you rate your delivery?" }

[[touchpoint]]
id = "k-faces"
metric = "csat"
scale = "faces"
position = "center"
pages = ["/product/3"]
question = { en = "How satisfied are you with your order?" }

[[touchpoint]]
id = "k-multi"
metric = "choice"
multiple = true
pages = ["/cart"]
question = { en = "What matters most to you? Pick all that apply." }
options = [
  { id = "price", label = { en = "Price" } },
  { id = "speed", label = { en = "Delivery speed" } },
  { id = "returns", label = { en = "Free returns" } },
]
"#;

/// Every prompt kind renders, passes axe in light and dark, and its answer
/// is stored as the figures a marketer reads.
#[test]
fn every_prompt_kind_is_answered_stored_and_accessible() {
    let w = world(|t| with_touchpoints(&t, KINDS));
    let browser = Browser::start(1024, 700).unwrap();
    let shots = screenshot_dir();
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
        browser.goto(&format!("{}{path}", w.shop)).unwrap();
        poll(Duration::from_secs(20), name, || {
            in_prompt(&browser, ".step")
        })
        .unwrap_or_else(|e| panic!("{e:#}; console: {:?}", browser.console()));
        settle(&browser);
        for scheme in ["light", "dark"] {
            browser
                .cdp(
                    "Emulation.setEmulatedMedia",
                    json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
                )
                .unwrap();
            assert_eq!(
                browser.axe_violations("touchpoint-prompt").unwrap(),
                Vec::<String>::new(),
                "{name} in {scheme}"
            );
            browser
                .screenshot(&shots.join(format!("prompt-{name}-{scheme}.png")))
                .unwrap();
        }
        let click = |selector: &str| {
            let el = in_prompt(&browser, selector)
                .unwrap()
                .unwrap_or_else(|| panic!("{selector} in {name}"));
            browser.click(&el).unwrap();
        };
        match name {
            "csat" => click("[aria-label='4 out of 5']"),
            "stars" => {
                // Pointing at the fourth star fills the first four.
                browser
                    .eval(
                        "const b = document.querySelector('touchpoint-prompt').shadowRoot.querySelectorAll('.stars .opt'); \
                         b[3].dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));",
                        vec![],
                    )
                    .unwrap();
                click("[aria-label='5 out of 5, Very satisfied']");
                let colours = browser
                    .eval(
                        "return [...document.querySelector('touchpoint-prompt').shadowRoot.querySelectorAll('.stars .opt')].map(b => b.textContent + getComputedStyle(b).color);",
                        vec![],
                    )
                    .unwrap();
                let colours: Vec<String> = serde_json::from_value(colours).unwrap();
                assert!(colours.iter().all(|c| c.starts_with('★')), "{colours:?}");
                assert!(
                    colours.windows(2).all(|p| p[0] == p[1]),
                    "five picked stars are all filled: {colours:?}"
                );
            }
            "faces" => {
                let modal = browser
                    .eval(
                        "const h = document.querySelector('touchpoint-prompt'); const c = h.shadowRoot.querySelector('.card').getBoundingClientRect(); \
                         return [h.hasAttribute('modal'), h.shadowRoot.querySelector('.card').getAttribute('aria-modal'), Math.abs(c.left + c.width / 2 - innerWidth / 2) < 2, Math.abs(c.top + c.height / 2 - innerHeight / 2) < 2];",
                        vec![],
                    )
                    .unwrap();
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
                let disabled = browser
                    .eval("return document.querySelector('touchpoint-prompt').shadowRoot.querySelector('.send').disabled;", vec![])
                    .unwrap();
                assert_eq!(disabled, json!(true), "Send waits for some text");
                let area = in_prompt(&browser, "textarea").unwrap().unwrap();
                browser
                    .send_keys(&area, "Shipping costs, mail me: ann@shop.example")
                    .unwrap();
                click(".send");
            }
            "choice" => click("[aria-label='PayPal']"),
            _ => {
                click("[aria-label='Price']");
                click("[aria-label='Delivery speed']");
                click("[aria-label='Delivery speed']"); // unpicked again
                click("[aria-label='Free returns']");
                let checked = browser
                    .eval(
                        "return [...document.querySelector('touchpoint-prompt').shadowRoot.querySelectorAll('[role=checkbox]')].map(b => b.getAttribute('aria-checked'));",
                        vec![],
                    )
                    .unwrap();
                assert_eq!(checked, json!(["true", "false", "true"]));
                click(".send");
            }
        }
        assert_eq!(thanks(&browser), "Thank you for your feedback!", "{name}");
    }

    let rows = poll(
        Duration::from_secs(10),
        "every answer in the aggregates",
        || {
            let agg: Value = serde_json::from_str(&w.get(&format!(
                "/v1/sites/{}/aggregates?group_by=touchpoint",
                w.key
            )))?;
            let rows = agg["rows"].as_array().cloned().unwrap_or_default();
            Ok((rows.iter().filter(|r| r["responses"] == 1).count() == 9).then_some(rows))
        },
    )
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
    let raw = w.get(&format!(
        "/v1/sites/{}/responses.csv?touchpoint=k-text",
        w.key
    ));
    assert!(
        raw.contains(",k-text,text,,\"Shipping costs, mail me: [email]\","),
        "{raw}"
    );
}

/// A low score opens the follow-up; its answer is masked in the browser and
/// completes the same response: one response, with score and comment.
#[test]
fn a_low_score_asks_the_follow_up_and_completes_the_same_response() {
    let mut w = world(|t| t);
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    let three = poll(Duration::from_secs(20), "the NPS prompt", || {
        browser.element_by_script(PROMPT_BUTTON, vec![json!("3 out of 10")])
    })
    .unwrap();
    // Answered from the keyboard: focus follows into the follow-up.
    browser.send_keys(&three, "\u{E007}").unwrap();
    let focused = poll(Duration::from_secs(5), "the follow-up, focused", || {
        let v = browser.eval(
            "const r = document.querySelector('touchpoint-prompt').shadowRoot; const s = r.querySelectorAll('.step'); \
             return s[1] && !s[1].hidden && r.activeElement && r.activeElement.tagName == 'TEXTAREA' \
               ? [s[1].querySelector('.question').textContent, r.activeElement.tagName] : null;",
            vec![],
        )?;
        Ok((!v.is_null()).then_some(v))
    })
    .unwrap();
    assert_eq!(
        focused,
        json!(["What is the one thing we should improve?", "TEXTAREA"])
    );
    assert_eq!(
        browser.axe_violations("touchpoint-prompt").unwrap(),
        Vec::<String>::new()
    );
    browser
        .screenshot(&screenshot_dir().join("nps-follow-up.png"))
        .unwrap();

    // The score is stored at once; then the server goes away.
    poll(Duration::from_secs(10), "the score to be stored", || {
        let raw = w.get(&format!("/v1/sites/{}/responses.csv", w.key));
        Ok((raw.lines().count() == 2).then_some(()))
    })
    .unwrap();
    w.stop_api();
    let area = in_prompt(&browser, "textarea").unwrap().unwrap();
    browser
        .send_keys(&area, "Call me on +44 20 7946 0958 or mail ann@shop.example, IBAN GB29 NWBK 6016 1331 9268 19")
        .unwrap();
    let send = in_prompt(&browser, ".step:not([hidden]) .send")
        .unwrap()
        .unwrap();
    browser.click(&send).unwrap();
    assert_eq!(thanks(&browser), "Thank you for your feedback!");
    // What waits in the browser is already masked.
    let queued = browser
        .eval(
            &format!(
                "return JSON.parse(localStorage.getItem('touchpoint:queue:{}') || '[]');",
                w.key
            ),
            vec![],
        )
        .unwrap();
    let queued = queued.as_array().unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(
        (
            &queued[0]["kind"],
            &queued[0]["score"],
            &queued[0]["comment"]
        ),
        (
            &json!("response"),
            &json!(3),
            &json!("Call me on [number] or mail [email], IBAN [iban]")
        )
    );
    // The browser's masks agree with the server's on the same text.
    assert_eq!(
        touchpoint_server::privacy::mask_pii(
            "Call me on +44 20 7946 0958 or mail ann@shop.example, IBAN GB29 NWBK 6016 1331 9268 19"
        ),
        "Call me on [number] or mail [email], IBAN [iban]"
    );

    w.start_api();
    browser.goto(&format!("{}/", w.shop)).unwrap();
    let raw = poll(Duration::from_secs(60), "the follow-up to arrive", || {
        let raw = w.get(&format!("/v1/sites/{}/responses.csv", w.key));
        Ok(raw.contains("[iban]").then_some(raw))
    })
    .unwrap();
    assert_eq!(raw.lines().count(), 2, "one response, not two: {raw}");
    assert!(
        raw.contains(",site-nps,nps,3,\"Call me on [number] or mail [email], IBAN [iban]\","),
        "{raw}"
    );
    let agg: Value =
        serde_json::from_str(&w.get(&format!("/v1/sites/{}/aggregates", w.key))).unwrap();
    let nps = agg["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "nps")
        .unwrap()
        .clone();
    assert_eq!(
        (&nps["responses"], &nps["detractors"], &nps["comments"]),
        (&json!(1), &json!(1), &json!(1))
    );
}

/// An Arabic question turns the prompt right to left, with Arabic words.
#[test]
fn an_arabic_prompt_is_right_to_left() {
    let w = world(|t| {
        with_touchpoints(
            &t,
            &format!(
                "[[touchpoint]]\nid = \"ar-nps\"\nmetric = \"nps\"\npages = [\"/\"]\nquestion = {{ ar = \"ما مدى احتمال أن توصي بنا لصديق؟\" }}\n{AR_KINDS}"
            ),
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/", w.shop)).unwrap();
    poll(Duration::from_secs(20), "the Arabic prompt", || {
        in_prompt(&browser, ".card")
    })
    .unwrap();
    settle(&browser);
    let seen = browser
        .eval(
            "const r = document.querySelector('touchpoint-prompt').shadowRoot; const c = r.querySelector('.card'); \
             return [c.dir, getComputedStyle(c).direction, r.querySelector('.close').getAttribute('aria-label'), \
                     r.querySelector('.opt').getBoundingClientRect().left > r.querySelectorAll('.opt')[10].getBoundingClientRect().left];",
            vec![],
        )
        .unwrap();
    assert_eq!(seen, json!(["rtl", "rtl", "إغلاق", true]));
    assert_eq!(
        browser.axe_violations("touchpoint-prompt").unwrap(),
        Vec::<String>::new()
    );
    browser
        .screenshot(&screenshot_dir().join("prompt-nps-rtl.png"))
        .unwrap();

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
        browser.goto(&format!("{}{path}", w.shop)).unwrap();
        poll(Duration::from_secs(20), name, || {
            in_prompt(&browser, ".card")
        })
        .unwrap();
        settle(&browser);
        let dir = browser
            .eval(
                "const c = document.querySelector('touchpoint-prompt').shadowRoot.querySelector('.card'); return [c.dir, getComputedStyle(c).direction];",
                vec![],
            )
            .unwrap();
        assert_eq!(dir, json!(["rtl", "rtl"]), "{name}");
        assert_eq!(
            browser.axe_violations("touchpoint-prompt").unwrap(),
            Vec::<String>::new(),
            "{name} in RTL"
        );
        browser
            .screenshot(&screenshot_dir().join(format!("prompt-{name}-rtl.png")))
            .unwrap();
    }
}

/// Every kind with its question in Arabic, for the right-to-left layout.
const AR_KINDS: &str = r#"
[[touchpoint]]
id = "ar-csat"
metric = "csat"
pages = ["/product/1"]
question = { ar = "ما مدى رضاك عن هذه الصفحة؟" }

[[touchpoint]]
id = "ar-stars"
metric = "csat"
scale = "stars"
pages = ["/product/2"]
question = { ar = "كيف تقيّم التوصيل؟" }

[[touchpoint]]
id = "ar-faces"
metric = "csat"
scale = "faces"
position = "center"
pages = ["/product/3"]
question = { ar = "ما مدى رضاك عن طلبك؟" }

[[touchpoint]]
id = "ar-ces"
metric = "ces"
pages = ["/product/42"]
question = { ar = "ما مدى سهولة العثور على ما تحتاجه؟" }

[[touchpoint]]
id = "ar-thumbs"
metric = "thumbs"
pages = ["/product/7"]
question = { ar = "هل كانت هذه الصفحة مفيدة؟" }

[[touchpoint]]
id = "ar-emoji"
metric = "emoji"
pages = ["/pricing"]
question = { ar = "ما شعورك تجاه أسعارنا؟" }

[[touchpoint]]
id = "ar-text"
metric = "text"
pages = ["/cart"]
question = { ar = "ما الذي كاد يمنعك من الشراء اليوم؟" }

[[touchpoint]]
id = "ar-choice"
metric = "choice"
pages = ["/checkout"]
question = { ar = "كيف تفضّل الدفع؟" }
options = [
  { id = "card", label = { ar = "بطاقة" } },
  { id = "paypal", label = { ar = "باي بال" } },
  { id = "invoice", label = { ar = "فاتورة" } },
]

[[touchpoint]]
id = "ar-multi"
metric = "choice"
multiple = true
pages = ["/product/99"]
question = { ar = "ما الأهم بالنسبة لك؟ اختر كل ما ينطبق." }
options = [
  { id = "price", label = { ar = "السعر" } },
  { id = "speed", label = { ar = "سرعة التوصيل" } },
  { id = "returns", label = { ar = "إرجاع مجاني" } },
]
"#;

const TRIGGERS: &str = r#"
[[touchpoint]]
id = "t-scroll"
metric = "thumbs"
pages = ["/pricing"]
trigger = { on = "scroll", percent = 90 }
question = { en = "Scrolled all the way?" }

[[touchpoint]]
id = "t-exit"
metric = "thumbs"
pages = ["/product/1"]
trigger = { on = "exit" }
question = { en = "Leaving already?" }

[[touchpoint]]
id = "t-click"
metric = "thumbs"
pages = ["/product/42"]
trigger = { on = "click", selector = "h1" }
question = { en = "Clicked the title?" }

[[touchpoint]]
id = "t-event"
metric = "thumbs"
pages = ["/checkout"]
trigger = { on = "event", event = "order_placed" }
question = { en = "Was ordering easy?" }

[[touchpoint]]
id = "t-manual"
metric = "thumbs"
pages = ["/cart"]
trigger = { on = "manual" }
question = { en = "Shown on request?" }

[[touchpoint]]
id = "t-time"
metric = "thumbs"
pages = ["/"]
trigger = { on = "time", delay_ms = 300 }
question = { en = "Been here a while?" }
"#;

/// Whether a prompt is on the page, and its question.
fn prompt_question(browser: &Browser) -> Value {
    browser
        .eval(
            "const h = document.querySelector('touchpoint-prompt'); \
             return h ? h.shadowRoot.querySelector('.question').textContent : null;",
            vec![],
        )
        .unwrap()
}

/// Waits until the widget has armed this page's triggers.
fn armed(browser: &Browser) {
    poll(Duration::from_secs(20), "the widget to start", || {
        let v = browser.eval(
            "return !!(window.touchpoint && window.touchpoint.held);",
            vec![],
        )?;
        Ok((v == json!(true)).then_some(()))
    })
    .unwrap();
}

/// Waits until the loader has decided which touchpoints are eligible here
/// (`window.touchpoint.t`, their ids) and it is `expect`.
fn decided(browser: &Browser, expect: &str) {
    poll(Duration::from_secs(20), expect, || {
        let v = browser.eval("return window.touchpoint && window.touchpoint.t;", vec![])?;
        Ok((v == json!(expect)).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#}"));
}

/// Lets `ms` pass in the page.
fn pause(browser: &Browser, ms: u32) {
    browser
        .eval_async(
            "const done = arguments[arguments.length - 1]; setTimeout(done, arguments[0]);",
            vec![json!(ms)],
        )
        .unwrap();
}

/// Answers 9 on /product/42's NPS prompt while the API is down, and waits
/// until the answer sits in the delivery queue. Returns the script that
/// reads the queued events' kinds.
fn answer_while_offline(w: &mut World, browser: &Browser) -> String {
    browser.goto(&format!("{}/product/42", w.shop)).unwrap();
    let nine = poll(Duration::from_secs(20), "the NPS prompt", || {
        browser.element_by_script(PROMPT_BUTTON, vec![json!("9 out of 10")])
    })
    .unwrap();
    w.stop_api();
    browser.click(&nine).unwrap();
    let queue_script = format!(
        "return JSON.parse(localStorage.getItem('touchpoint:queue:{}') || '[]').map(e => e.kind);",
        w.key
    );
    poll(
        Duration::from_secs(10),
        "the answer to wait in the queue",
        || {
            let kinds = browser.eval(&queue_script, vec![])?;
            Ok((kinds == json!(["response"])).then_some(()))
        },
    )
    .unwrap();
    queue_script
}

fn wait_for_prompt(browser: &Browser, what: &str) -> String {
    poll(Duration::from_secs(10), what, || {
        Ok(prompt_question(browser).as_str().map(str::to_owned))
    })
    .unwrap()
}

/// Each trigger waits for its moment: no prompt before it, one after.
#[test]
fn each_trigger_fires_at_its_moment_and_not_before() {
    let w = world(|t| with_touchpoints(&t, TRIGGERS));
    let browser = Browser::start(1024, 400).unwrap();

    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    armed(&browser);
    let room = browser
        .eval(
            "return document.documentElement.scrollHeight / innerHeight;",
            vec![],
        )
        .unwrap();
    assert!(
        room.as_f64().unwrap() > 1.5,
        "/pricing must scroll at 400 px: {room}"
    );
    assert_eq!(
        prompt_question(&browser),
        Value::Null,
        "scroll: not before scrolling"
    );
    browser
        .eval("window.scrollTo(0, innerHeight / 2);", vec![])
        .unwrap();
    browser
        .eval(
            "window.scrollTo(0, document.documentElement.scrollHeight);",
            vec![],
        )
        .unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the scroll prompt"),
        "Scrolled all the way?"
    );

    browser.goto(&format!("{}/product/1", w.shop)).unwrap();
    armed(&browser);
    assert_eq!(
        prompt_question(&browser),
        Value::Null,
        "exit: not before leaving"
    );
    // The pointer leaves through the top of the window.
    browser
        .eval(
            "document.dispatchEvent(new MouseEvent('mouseout', { clientY: 300, relatedTarget: document.body, bubbles: true })); \
             document.dispatchEvent(new MouseEvent('mouseout', { clientY: -2, relatedTarget: null, bubbles: true }));",
            vec![],
        )
        .unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the exit prompt"),
        "Leaving already?"
    );

    browser.goto(&format!("{}/product/42", w.shop)).unwrap();
    armed(&browser);
    assert_eq!(
        prompt_question(&browser),
        Value::Null,
        "click: not before the click"
    );
    let title = browser
        .element_by_script("return document.querySelector('h1');", vec![])
        .unwrap()
        .unwrap();
    browser.click(&title).unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the click prompt"),
        "Clicked the title?"
    );

    browser.goto(&format!("{}/checkout", w.shop)).unwrap();
    armed(&browser);
    browser
        .eval("touchpoint('track', 'newsletter_signup');", vec![])
        .unwrap();
    assert_eq!(
        prompt_question(&browser),
        Value::Null,
        "event: not on another event"
    );
    browser
        .eval("touchpoint('track', 'order_placed');", vec![])
        .unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the event prompt"),
        "Was ordering easy?"
    );

    browser.goto(&format!("{}/cart", w.shop)).unwrap();
    armed(&browser);
    assert_eq!(
        prompt_question(&browser),
        Value::Null,
        "manual: never by itself"
    );
    browser
        .eval("touchpoint('show', 't-manual');", vec![])
        .unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the shown prompt"),
        "Shown on request?"
    );

    browser.goto(&format!("{}/", w.shop)).unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the time prompt"),
        "Been here a while?"
    );

    // Every prompt shown sent its impression, under its own touchpoint.
    let rows = poll(Duration::from_secs(10), "six impressions", || {
        let agg: Value = serde_json::from_str(&w.get(&format!(
            "/v1/sites/{}/aggregates?group_by=touchpoint",
            w.key
        )))?;
        let rows = agg["rows"].as_array().cloned().unwrap_or_default();
        Ok((rows.iter().filter(|r| r["impressions"] == 1).count() == 6).then_some(rows))
    })
    .unwrap();
    assert_eq!(rows.len(), 6, "{rows:?}");
}

/// Calls made before the script has loaded are kept: a `track` from the
/// page's queue stub still fires its prompt.
#[test]
fn a_track_call_made_before_the_script_loaded_still_fires() {
    let w = world(|t| with_touchpoints(&t, TRIGGERS));
    let browser = Browser::start(1024, 700).unwrap();
    // Runs before any script of the page: the page's own queue stub, called early.
    browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "window.touchpoint = function () { (touchpoint.q = touchpoint.q || []).push(arguments) }; \
                              touchpoint('track', 'order_placed');"}),
        )
        .unwrap();
    browser.goto(&format!("{}/checkout", w.shop)).unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the event prompt"),
        "Was ordering easy?"
    );
}

/// One prompt at a time, and at most one per visitor per `contact_days`
/// across touchpoints: the others are held back.
#[test]
fn the_contact_budget_and_one_prompt_at_a_time_hold_the_rest_back() {
    let w = world(|t| {
        let t = t.replace(
            "retention_days = 365",
            "retention_days = 365\ncontact_days = 1",
        );
        with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"first\"\nmetric = \"thumbs\"\npages = [\"/pricing\"]\nquestion = { en = \"First?\" }\n\n\
             [[touchpoint]]\nid = \"second\"\nmetric = \"thumbs\"\npages = [\"/pricing\"]\nquestion = { en = \"Second?\" }\n\n\
             [[touchpoint]]\nid = \"elsewhere\"\nmetric = \"thumbs\"\npages = [\"/cart\"]\nquestion = { en = \"Elsewhere?\" }\n\n\
             [[touchpoint]]\nid = \"clicky\"\nmetric = \"thumbs\"\npages = [\"/cart\"]\ntrigger = { on = \"click\", selector = \"h1\" }\nquestion = { en = \"Clicky?\" }\n",
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    assert_eq!(wait_for_prompt(&browser, "the first prompt"), "First?");
    let held = poll(Duration::from_secs(10), "the second to be held", || {
        let v = browser.eval("return window.touchpoint.held;", vec![])?;
        Ok((v != json!([])).then_some(v))
    })
    .unwrap();
    assert_eq!(held, json!(["second"]));
    let count = browser
        .eval(
            "return document.querySelectorAll('touchpoint-prompt').length;",
            vec![],
        )
        .unwrap();
    assert_eq!(count, json!(1));
    let close = in_prompt(&browser, ".close").unwrap().unwrap();
    browser.click(&close).unwrap();

    // Another page, another touchpoint: the budget is spent for a day.
    browser.goto(&format!("{}/cart", w.shop)).unwrap();
    let held = poll(
        Duration::from_secs(20),
        "the budget to hold it back",
        || {
            let v = browser.eval(
                "return window.touchpoint && window.touchpoint.held;",
                vec![],
            )?;
            Ok((v == json!(["elsewhere"])).then_some(v))
        },
    )
    .unwrap();
    assert_eq!(held, json!(["elsewhere"]));
    assert_eq!(prompt_question(&browser), Value::Null);
    // A trigger that fires again is listed once.
    let title = browser
        .element_by_script("return document.querySelector('h1');", vec![])
        .unwrap()
        .unwrap();
    browser.click(&title).unwrap();
    browser.click(&title).unwrap();
    let held = poll(Duration::from_secs(10), "the click to be held", || {
        let v = browser.eval("return window.touchpoint.held;", vec![])?;
        Ok((v.as_array().is_some_and(|a| a.len() > 1)).then_some(v))
    })
    .unwrap();
    assert_eq!(held, json!(["elsewhere", "clicky"]));
    assert_eq!(prompt_question(&browser), Value::Null);
}

/// Without a contact budget, a prompt whose trigger fired while another was
/// open waits its turn and appears once that one has closed.
#[test]
fn a_prompt_held_back_by_an_open_one_appears_after_it_closes() {
    let w = world(|t| {
        with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"first\"\nmetric = \"thumbs\"\npages = [\"/pricing\"]\nquestion = { en = \"First?\" }\n\n\
             [[touchpoint]]\nid = \"second\"\nmetric = \"thumbs\"\npages = [\"/pricing\"]\ntrigger = { on = \"load\", delay_ms = 300 }\nquestion = { en = \"Second?\" }\n",
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    assert_eq!(wait_for_prompt(&browser, "the first prompt"), "First?");
    poll(Duration::from_secs(10), "the second to be held", || {
        let v = browser.eval("return window.touchpoint.held;", vec![])?;
        Ok((v == json!(["second"])).then_some(()))
    })
    .unwrap();
    browser
        .click(&in_prompt(&browser, "[aria-label='Yes']").unwrap().unwrap())
        .unwrap();
    assert_eq!(thanks(&browser), "Thank you for your feedback!");
    // The thank-you fades, then the second takes its turn.
    poll(Duration::from_secs(10), "the second prompt", || {
        Ok((prompt_question(&browser) == json!("Second?")).then_some(()))
    })
    .unwrap();
    let (count, held) = (
        browser
            .eval(
                "return document.querySelectorAll('touchpoint-prompt').length;",
                vec![],
            )
            .unwrap(),
        browser
            .eval("return window.touchpoint.held;", vec![])
            .unwrap(),
    );
    assert_eq!((count, held), (json!(1), json!([])));
}

/// A modal in the centre takes the focus, keeps Tab within itself, and
/// gives the focus back to where it was when it closes.
#[test]
fn a_centre_modal_holds_the_focus_and_gives_it_back() {
    let w = world(|t| {
        with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"modal\"\nmetric = \"csat\"\nscale = \"stars\"\nposition = \"center\"\npages = [\"/pricing\"]\n\
             trigger = { on = \"manual\" }\nquestion = { en = \"How was your visit?\" }\n",
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    armed(&browser);
    browser
        .eval(
            "const a = document.querySelector('a'); a.id = 'before'; a.focus(); touchpoint('show', 'modal');",
            vec![],
        )
        .unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the modal"),
        "How was your visit?"
    );
    let focused = || {
        browser
            .eval(
                "const h = document.querySelector('touchpoint-prompt'); const a = h && h.shadowRoot.activeElement; \
                 return document.activeElement === h && a ? (a.getAttribute('aria-label') || a.className) : (document.activeElement.id || document.activeElement.tagName);",
                vec![],
            )
            .unwrap()
    };
    poll(Duration::from_secs(5), "focus in the modal", || {
        Ok((focused() == json!("1 out of 5, Very dissatisfied")).then_some(()))
    })
    .unwrap();
    settle(&browser);
    browser
        .screenshot(&screenshot_dir().join("prompt-modal-stars.png"))
        .unwrap();
    assert_eq!(
        browser.axe_violations("touchpoint-prompt").unwrap(),
        Vec::<String>::new()
    );
    let active = || {
        browser
            .element_by_script(
                "return document.querySelector('touchpoint-prompt').shadowRoot.activeElement;",
                vec![],
            )
            .unwrap()
            .unwrap()
    };
    // Tab from the last control wraps to the first (the close button), and
    // Shift+Tab from the first back to the last: never out to the page.
    browser.send_keys(&active(), "\u{E004}").unwrap();
    assert_eq!(focused(), json!("Close"));
    browser
        .send_keys(&active(), "\u{E008}\u{E004}\u{E000}")
        .unwrap();
    assert_eq!(focused(), json!("1 out of 5, Very dissatisfied"));
    browser.send_keys(&active(), "\u{E00C}").unwrap();
    poll(Duration::from_secs(5), "the modal to close", || {
        Ok(prompt_question(&browser).is_null().then_some(()))
    })
    .unwrap();
    assert_eq!(focused(), json!("before"), "focus goes back where it was");
}

/// A click on a button that does nothing (no DOM change, no scroll, no
/// route within a second) is a dead click: sent once as a signal, and a
/// touchpoint can ask after it. A button that answers is no dead click.
#[test]
fn a_dead_click_is_a_signal_and_can_ask() {
    let w = world(|t| {
        with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"stuck\"\nmetric = \"text\"\npages = [\"/pricing\"]\n\
             trigger = { on = \"signal\", signal = \"dead_click\" }\nquestion = { en = \"Did something not work?\" }\n",
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    armed(&browser);
    browser
        .eval(
            "document.body.insertAdjacentHTML('afterbegin', '<button id=live>Show more</button> <button id=dead>Apply coupon</button> <a id=away href=\"/cart\" onclick=\"event.preventDefault()\">Cart</a>'); \
             document.getElementById('live').addEventListener('click', e => { e.target.textContent = 'Shown'; });",
            vec![],
        )
        .unwrap();
    let button = |id: &str| {
        browser
            .element_by_script(&format!("return document.getElementById('{id}');"), vec![])
            .unwrap()
            .unwrap()
    };
    browser.click(&button("live")).unwrap();
    // A link to another page is no candidate, even when the page stops it.
    browser.click(&button("away")).unwrap();
    pause(&browser, 1600);
    assert_eq!(prompt_question(&browser), Value::Null, "an answered click");
    browser.click(&button("dead")).unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the dead click's prompt"),
        "Did something not work?"
    );
    let signals = poll(Duration::from_secs(10), "the signal stored", || {
        let events = w.events_of(&visitor(&browser));
        let signals: Vec<Value> = events
            .into_iter()
            .filter(|e| e["kind"] == "signal")
            .collect();
        Ok((!signals.is_empty()).then_some(signals))
    })
    .unwrap();
    assert_eq!(signals.len(), 1, "{signals:?}");
    assert_eq!(
        (&signals[0]["signal"], &signals[0]["page"]),
        (&json!("dead_click"), &json!("/pricing"))
    );
}

/// A browser that sends Global Privacy Control (or Do-Not-Track) gets no
/// widget and sends nothing, unless the page gave consent or the site
/// chose not to respect the signal; the signal is recorded either way.
#[test]
fn global_privacy_control_keeps_the_widget_away_unless_consented() {
    let gpc =
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });";

    let w = world(|t| t);
    let browser = Browser::start(1024, 700).unwrap();
    browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": gpc }),
        )
        .unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    // GPC: no touchpoint is eligible.
    decided(&browser, "");
    let loaded = browser
        .eval("return performance.getEntriesByType('resource').filter(e => e.name.includes('/widget/')).length;", vec![])
        .unwrap();
    assert_eq!(loaded, json!(0), "GPC: the widget is not even fetched");

    // The page asks for and gets consent: the prompt may appear.
    browser
        .eval("touchpoint('consent', true);", vec![])
        .unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    decided(&browser, "site-nps stuck");
    drop(browser);

    // Do Not Track counts as the same wish.
    let browser = Browser::start(1024, 700).unwrap();
    browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": "Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' });" }),
        )
        .unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    decided(&browser, "");
    drop(browser);

    // A site that chooses not to respect the signal still records it.
    let w = world(|t| {
        t.replace(
            "retention_days = 365",
            "retention_days = 365\nrespect_gpc = false",
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser
        .cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": gpc }),
        )
        .unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    decided(&browser, "site-nps stuck");
    let nine = poll(Duration::from_secs(20), "the NPS prompt", || {
        browser.element_by_script(PROMPT_BUTTON, vec![json!("9 out of 10")])
    })
    .unwrap();
    browser.click(&nine).unwrap();
    let stored = poll(Duration::from_secs(10), "the response", || {
        let nd = w.get(&format!("/v1/sites/{}/responses.ndjson", w.key));
        Ok(nd.lines().next().map(str::to_owned))
    })
    .unwrap();
    let visitor_data: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(visitor_data["score"], json!(9));
    let id = visitor_data["id"].as_str().unwrap().to_owned();
    let raw = w
        .events_of(&visitor(&browser))
        .into_iter()
        .find(|e| e["id"] == id)
        .unwrap();
    assert_eq!(raw["gpc"], json!(true));
}

fn visitor(browser: &Browser) -> String {
    browser
        .eval("return localStorage.getItem('touchpoint:visitor');", vec![])
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// On a page with a strict CSP and aggressive global CSS, the prompt looks
/// as designed, breaks no policy, works, and leaves the page's styles alone.
#[test]
fn a_hostile_host_neither_breaks_nor_is_broken_by_the_prompt() {
    let w = world(|t| t);
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/hostile", w.shop)).unwrap();
    let page_before = browser
        .eval("const b = document.querySelector('body > .card button'); return [getComputedStyle(b).display, getComputedStyle(document.querySelector('.card')).backgroundColor];", vec![])
        .unwrap();
    let nine = poll(Duration::from_secs(20), "the NPS prompt", || {
        browser.element_by_script(PROMPT_BUTTON, vec![json!("9 out of 10")])
    })
    .unwrap_or_else(|e| panic!("{e:#}; console: {:?}", browser.console()));
    settle(&browser);
    let seen = browser
        .eval(
            "const r = document.querySelector('touchpoint-prompt').shadowRoot; \
             const q = getComputedStyle(r.querySelector('.question')), b = r.querySelector('.opt'), c = getComputedStyle(r.querySelector('.card')); \
             return [q.fontSize, q.fontStyle, q.textTransform, q.letterSpacing, getComputedStyle(b).display, b.getBoundingClientRect().width > 20, \
                     c.backgroundColor, c.display, window.violations];",
            vec![],
        )
        .unwrap();
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
    let page_after = browser
        .eval("const b = document.querySelector('body > .card button'); return [getComputedStyle(b).display, getComputedStyle(document.querySelector('.card')).backgroundColor];", vec![])
        .unwrap();
    assert_eq!(
        page_before, page_after,
        "the widget's styles must not leak out"
    );
    assert_eq!(page_after, json!(["none", "rgb(0, 255, 0)"]));
    browser
        .screenshot(&screenshot_dir().join("hostile-host.png"))
        .unwrap();
    browser.click(&nine).unwrap();
    assert_eq!(thanks(&browser), "Thank you for your feedback!");
    poll(
        Duration::from_secs(10),
        "the answer from the hostile page",
        || {
            let raw = w.get(&format!("/v1/sites/{}/responses.csv", w.key));
            Ok(raw.contains(",/hostile,").then_some(()))
        },
    )
    .unwrap();
    let violations = browser.eval("return window.violations;", vec![]).unwrap();
    assert_eq!(violations, json!([]));
}

/// A touchpoint with a place in the page is shown there, in the flow of
/// the page, beside an overlay: no close button, the thank-you stays.
#[test]
fn an_inline_prompt_sits_in_its_place_in_the_page() {
    let w = world(|t| t);
    let browser = Browser::start(1024, 900).unwrap();
    browser.goto(&format!("{}/", w.shop)).unwrap();
    let placed = poll(Duration::from_secs(20), "the inline prompt", || {
        let v = browser.eval(
            "const h = document.querySelector('[data-touchpoint=home-helpful] > touchpoint-prompt'); \
             return h && h.shadowRoot.querySelector('.question') ? [h.shadowRoot.querySelector('.question').textContent, \
               getComputedStyle(h).position, !!h.shadowRoot.querySelector('.close'), h.shadowRoot.querySelector('.card').getAttribute('role')] : null;",
            vec![],
        )?;
        Ok((!v.is_null()).then_some(v))
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
    poll(Duration::from_secs(20), "the NPS overlay too", || {
        browser.element_by_script(
            "const h = [...document.querySelectorAll('touchpoint-prompt')].find(h => !h.hasAttribute('inline')); \
             return h && h.shadowRoot.querySelector('.opt');",
            vec![],
        )
    })
    .unwrap();
    let inline_button = |label: &str| {
        browser
            .element_by_script(
                "return document.querySelector('[data-touchpoint=home-helpful] > touchpoint-prompt').shadowRoot \
                   .querySelector('[aria-label=\"' + arguments[0] + '\"]');",
                vec![json!(label)],
            )
            .unwrap()
            .unwrap()
    };
    browser
        .eval(
            "document.querySelector('[data-touchpoint=home-helpful]').scrollIntoView();",
            vec![],
        )
        .unwrap();
    assert_eq!(
        browser
            .axe_violations("[data-touchpoint=home-helpful]")
            .unwrap(),
        Vec::<String>::new()
    );
    browser
        .screenshot(&screenshot_dir().join("inline-home.png"))
        .unwrap();
    browser.click(&inline_button("Yes")).unwrap();
    let stays = poll(Duration::from_secs(5), "the inline thank-you", || {
        let v = browser.eval(
            "const h = document.querySelector('[data-touchpoint=home-helpful] > touchpoint-prompt'); \
             return h && h.shadowRoot.querySelector('.thanks').textContent || null;",
            vec![],
        )?;
        Ok(v.as_str().map(str::to_owned))
    })
    .unwrap();
    assert_eq!(stays, "Thank you for your feedback!");
    let row = poll(Duration::from_secs(10), "the inline answer", || {
        let agg: Value = serde_json::from_str(&w.get(&format!(
            "/v1/sites/{}/aggregates?group_by=touchpoint",
            w.key
        )))?;
        Ok(agg["rows"].as_array().and_then(|rows| {
            rows.iter()
                .find(|r| r["touchpoint"] == "home-helpful" && r["responses"] == 1)
                .cloned()
        }))
    })
    .unwrap();
    assert_eq!(row["thumbs_up"], json!(100.0));
}

/// The site's theme reaches the prompt: brand colour (with readable text on
/// it), corner and the page's font; a page's own CSS can still override.
#[test]
fn the_site_theme_and_the_page_css_style_the_prompt() {
    let w = world(|t| {
        let t = with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"themed\"\nmetric = \"text\"\nquestion = { en = \"Anything to add?\" }\n",
        );
        t.replacen(
            "[[stage]]",
            "[theme]\nbrand = \"#c4471c\"\ncorner = \"left\"\nfont = \"inherit\"\n\n[[stage]]",
            1,
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    poll(Duration::from_secs(20), "the themed prompt", || {
        in_prompt(&browser, "textarea")
    })
    .unwrap();
    settle(&browser);
    let area = in_prompt(&browser, "textarea").unwrap().unwrap();
    browser.send_keys(&area, "Nice colours").unwrap();
    let look = || {
        browser
            .eval(
                "const h = document.querySelector('touchpoint-prompt'), r = h.shadowRoot, s = getComputedStyle(r.querySelector('.send')); \
                 return [h.getBoundingClientRect().left < 40, s.backgroundColor, s.color, getComputedStyle(r.querySelector('.card')).fontFamily];",
                vec![],
            )
            .unwrap()
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
    assert_eq!(
        browser.axe_violations("touchpoint-prompt").unwrap(),
        Vec::<String>::new()
    );
    browser
        .screenshot(&screenshot_dir().join("prompt-themed.png"))
        .unwrap();
    // The page's own stylesheet wins over the site's theme.
    browser
        .eval(
            "const s = document.createElement('style'); s.textContent = 'touchpoint-prompt { --tp-brand: #ffd400 !important; --tp-on-brand: #000 !important }'; document.head.append(s);",
            vec![],
        )
        .unwrap();
    let look = look();
    assert_eq!(
        (&look[1], &look[2]),
        (&json!("rgb(255, 212, 0)"), &json!("rgb(0, 0, 0)"))
    );
}

/// A feedback tab waits on the window's edge; the visitor opens the prompt
/// from it whenever they like, focus goes in and comes back, and it can be
/// opened again, whatever the contact budget says.
#[test]
fn the_feedback_tab_opens_the_prompt_on_request() {
    let w = world(|t| {
        let t = t.replace(
            "retention_days = 365",
            "retention_days = 365\ncontact_days = 30",
        );
        with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"on-load\"\nmetric = \"thumbs\"\npages = [\"/pricing\"]\nquestion = { en = \"Uses the budget?\" }\n\n\
             [[touchpoint]]\nid = \"tab\"\nmetric = \"csat\"\nrecontact_days = 0\ntrigger = { on = \"tab\" }\nquestion = { en = \"How is your visit going?\" }\n",
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    // The load prompt spends the contact budget; dismiss it.
    assert_eq!(
        wait_for_prompt(&browser, "the load prompt"),
        "Uses the budget?"
    );
    browser
        .click(&in_prompt(&browser, ".close").unwrap().unwrap())
        .unwrap();
    let tab = poll(Duration::from_secs(20), "the feedback tab", || {
        browser.element_by_script(
            "const h = document.querySelector('touchpoint-tab'); return h && h.shadowRoot.querySelector('button');",
            vec![],
        )
    })
    .unwrap();
    assert_eq!(
        prompt_question(&browser),
        Value::Null,
        "the tab waits to be asked"
    );
    assert_eq!(
        browser.axe_violations("touchpoint-tab").unwrap(),
        Vec::<String>::new()
    );
    browser
        .screenshot(&screenshot_dir().join("feedback-tab.png"))
        .unwrap();

    let focus = || {
        browser
            .eval(
                "const a = document.activeElement; return [a.tagName, a.shadowRoot && a.shadowRoot.activeElement && \
                 (a.shadowRoot.activeElement.getAttribute('aria-label') || a.shadowRoot.activeElement.textContent)];",
                vec![],
            )
            .unwrap()
    };
    browser.click(&tab).unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the prompt from the tab"),
        "How is your visit going?"
    );
    poll(Duration::from_secs(5), "focus in the prompt", || {
        Ok(
            (focus() == json!(["TOUCHPOINT-PROMPT", "1 out of 5, Very dissatisfied"]))
                .then_some(()),
        )
    })
    .unwrap();
    browser
        .screenshot(&screenshot_dir().join("feedback-tab-open.png"))
        .unwrap();
    let first = in_prompt(&browser, ".opt").unwrap().unwrap();
    browser.send_keys(&first, "\u{E00C}").unwrap(); // Escape
    poll(Duration::from_secs(5), "focus back on the tab", || {
        Ok((prompt_question(&browser).is_null()
            && focus() == json!(["TOUCHPOINT-TAB", "Feedback"]))
        .then_some(()))
    })
    .unwrap();

    // Again, and answered this time.
    browser.click(&tab).unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the prompt again"),
        "How is your visit going?"
    );
    browser
        .click(
            &in_prompt(&browser, "[aria-label='4 out of 5']")
                .unwrap()
                .unwrap(),
        )
        .unwrap();
    let row = poll(Duration::from_secs(10), "the answer from the tab", || {
        let agg: Value = serde_json::from_str(&w.get(&format!(
            "/v1/sites/{}/aggregates?group_by=touchpoint",
            w.key
        )))?;
        Ok(agg["rows"].as_array().and_then(|rows| {
            rows.iter()
                .find(|r| r["touchpoint"] == "tab" && r["responses"] == 1)
                .cloned()
        }))
    })
    .unwrap();
    assert_eq!(
        (&row["impressions"], &row["csat"]),
        (&json!(2), &json!(100.0))
    );
}

/// In a single-page app, each new path arms its own touchpoints: the old
/// path's pending triggers are cancelled, the widget is fetched when a later
/// path first needs it, and answers carry the path they were given on.
#[test]
fn single_page_app_routes_arm_their_own_touchpoints() {
    let w = world(|t| {
        let t = t.replacen(
            "[[stage]]",
            "[[stage]]\nid = \"app\"\nlabel = \"App\"\npages = [\"/spa/b\"]\n\n[[stage]]",
            1,
        );
        with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"spa-a\"\nmetric = \"thumbs\"\npages = [\"/spa\"]\ntrigger = { on = \"load\", delay_ms = 1000 }\nquestion = { en = \"A?\" }\n\n\
             [[touchpoint]]\nid = \"spa-b\"\nmetric = \"thumbs\"\npages = [\"/spa/b\"]\ntrigger = { on = \"manual\" }\nquestion = { en = \"B?\" }\n",
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/spa/none", w.shop)).unwrap();
    decided(&browser, "");
    let widget_loads = || {
        browser
            .eval("return performance.getEntriesByType('resource').filter(e => e.name.includes('/widget/')).length;", vec![])
            .unwrap()
    };
    assert_eq!(widget_loads(), json!(0));

    // A path with a touchpoint: the widget comes now, without a page load.
    browser
        .eval("history.pushState({}, '', '/spa');", vec![])
        .unwrap();
    decided(&browser, "spa-a");
    armed(&browser);
    // Leaving before spa-a's second is up cancels it.
    browser
        .eval(
            "history.pushState({}, '', '/spa/b'); window.left = performance.now();",
            vec![],
        )
        .unwrap();
    decided(&browser, "spa-b");
    poll(Duration::from_secs(10), "spa-a's second to pass", || {
        let v = browser.eval("return performance.now() - window.left > 1500;", vec![])?;
        Ok((v == json!(true)).then_some(()))
    })
    .unwrap();
    assert_eq!(
        prompt_question(&browser),
        Value::Null,
        "the old path's trigger fired"
    );
    assert_eq!(
        browser
            .eval("return window.touchpoint.held;", vec![])
            .unwrap(),
        json!([])
    );

    browser
        .eval("touchpoint('show', 'spa-b');", vec![])
        .unwrap();
    assert_eq!(wait_for_prompt(&browser, "spa-b"), "B?");
    browser
        .click(&in_prompt(&browser, "[aria-label='Yes']").unwrap().unwrap())
        .unwrap();
    let raw = poll(Duration::from_secs(10), "the answer on /spa/b", || {
        let raw = w.get(&format!("/v1/sites/{}/responses.csv", w.key));
        Ok((raw.lines().count() == 2).then_some(raw))
    })
    .unwrap();
    assert!(raw.contains(",/spa/b,app,spa-b,thumbs,1,"), "{raw}");

    // Back to /spa once the thank-you has gone: its touchpoint is armed
    // again, and fires this time.
    poll(Duration::from_secs(10), "the thank-you to go", || {
        Ok(prompt_question(&browser).is_null().then_some(()))
    })
    .unwrap();
    browser.eval("history.back();", vec![]).unwrap();
    decided(&browser, "spa-a");
    assert_eq!(wait_for_prompt(&browser, "spa-a on the way back"), "A?");
    assert_eq!(
        widget_loads(),
        json!(2),
        "the widget (glue and wasm) is fetched once"
    );
}

/// A hash-routed app (`/spa#/cart`) navigates with `hashchange`: the hash
/// route counts as the path, for page globs and for the page answers carry;
/// a plain fragment (`#top`) is no route.
#[test]
fn hash_routes_count_as_paths() {
    let w = world(|t| {
        with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"hash-cart\"\nmetric = \"thumbs\"\npages = [\"/spa/cart\"]\ntrigger = { on = \"load\" }\nquestion = { en = \"Cart?\" }\n",
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/spa#top", w.shop)).unwrap();
    decided(&browser, "");
    browser.eval("location.hash = '#/cart/';", vec![]).unwrap();
    decided(&browser, "hash-cart");
    assert_eq!(wait_for_prompt(&browser, "hash-cart"), "Cart?");
    browser
        .click(&in_prompt(&browser, "[aria-label='Yes']").unwrap().unwrap())
        .unwrap();
    let raw = poll(Duration::from_secs(10), "the answer on /spa/cart", || {
        let raw = w.get(&format!("/v1/sites/{}/responses.csv", w.key));
        Ok((raw.lines().count() == 2).then_some(raw))
    })
    .unwrap();
    assert!(raw.contains(",/spa/cart,"), "{raw}");
    browser.eval("location.hash = '#top';", vec![]).unwrap();
    decided(&browser, "");
}

/// Rage clicks and JavaScript errors are sent as signals, once per page and
/// with nothing but their name, page and stage; a touchpoint can ask after one.
#[test]
fn rage_clicks_and_errors_are_signals_and_can_ask() {
    let w = world(|t| {
        with_touchpoints(
            &t,
            "[[touchpoint]]\nid = \"stuck\"\nmetric = \"text\"\npages = [\"/pricing\"]\n\
             trigger = { on = \"signal\", signal = \"rage_click\" }\nquestion = { en = \"Stuck? Tell us what happened.\" }\n",
        )
    });
    let browser = Browser::start(1024, 700).unwrap();
    browser.goto(&format!("{}/pricing", w.shop)).unwrap();
    armed(&browser);
    // Two errors and two bursts of clicks: still one signal of each.
    browser
        .eval(
            "setTimeout(() => { throw new Error('boom') }); setTimeout(() => { throw new Error('again') }); \
             const h = document.querySelector('h1'); \
             const click = (x) => h.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: x, clientY: 100 })); \
             click(100); click(300);",
            vec![],
        )
        .unwrap();
    assert_eq!(
        prompt_question(&browser),
        Value::Null,
        "two clicks far apart are no rage"
    );
    browser
        .eval(
            "const h = document.querySelector('h1'); \
             for (let i = 0; i < 6; i++) h.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: 120 + i, clientY: 100 }));",
            vec![],
        )
        .unwrap();
    assert_eq!(
        wait_for_prompt(&browser, "the signal's prompt"),
        "Stuck? Tell us what happened."
    );
    let signals = poll(Duration::from_secs(10), "two signals stored", || {
        let events = w.events_of(&visitor(&browser));
        let mut signals: Vec<(String, String, String)> = events
            .iter()
            .filter(|e| e["kind"] == "signal")
            .map(|e| {
                (
                    e["signal"].as_str().unwrap().to_owned(),
                    e["page"].as_str().unwrap().to_owned(),
                    e["stage"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        signals.sort();
        Ok((signals.len() >= 2).then_some(signals))
    })
    .unwrap();
    assert_eq!(
        signals,
        [
            (
                "error".to_owned(),
                "/pricing".to_owned(),
                "evaluate".to_owned()
            ),
            (
                "rage_click".to_owned(),
                "/pricing".to_owned(),
                "evaluate".to_owned()
            ),
        ]
    );
}

/// The anonymous visitor id is drawn anew after 30 days; a younger one is kept.
#[test]
fn the_visitor_id_rotates_after_thirty_days() {
    let w = world(|t| t);
    for (age_days, rotated) in [(40, true), (5, false)] {
        let browser = Browser::start(1024, 700).unwrap();
        browser
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": format!(
                    "if (!sessionStorage.getItem('seeded')) {{ sessionStorage.setItem('seeded', 1); \
                     localStorage.setItem('touchpoint:visitor', 'v-{age_days}-days'); \
                     localStorage.setItem('touchpoint:visitor-since', String(Date.now() - {age_days} * 864e5)); }}"
                ) }),
            )
            .unwrap();
        browser.goto(&format!("{}/pricing", w.shop)).unwrap();
        let nine = poll(Duration::from_secs(20), "the NPS prompt", || {
            browser.element_by_script(PROMPT_BUTTON, vec![json!("9 out of 10")])
        })
        .unwrap();
        browser.click(&nine).unwrap();
        let now = visitor(&browser);
        assert_eq!(
            now != format!("v-{age_days}-days"),
            rotated,
            "{age_days} days: {now}"
        );
        let stored = poll(
            Duration::from_secs(10),
            "the answer under the current id",
            || {
                let events = w.events_of(&now);
                Ok(events
                    .iter()
                    .any(|e| e["kind"] == "response")
                    .then_some(events.len()))
            },
        )
        .unwrap();
        assert!(stored >= 2, "impression and response under one id");
        let since = browser
            .eval("return Date.now() - Number(localStorage.getItem('touchpoint:visitor-since')) < 864e5;", vec![])
            .unwrap();
        assert_eq!(since, json!(rotated), "the new id's age starts now");
    }
}
