//! Behavioural frustration beside the scores (`/frustration`) against a
//! recomputation from the events this test sends: rage clicks, dead clicks
//! and errors per touchpoint and page, and the scores of answers given
//! after a signal in their page view against the others. Signals arrive
//! after the answers they precede (a later request), a signal after an
//! answer flags the view but not the answer, and a signal on another page
//! of the same session counts for neither. Run with
//! `cargo test -p touchpoint-server --test it frustration`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use touchpoint_server::auth::{hash_token, new_token};
use touchpoint_server::store::{Role, Store};
use touchpoint_server::{AppState, app, site_file};
use tower::ServiceExt;

use crate::both;
use crate::support::{Db, TestDb, database};

both!(signals_beside_the_scores_match_a_recomputation);

const SITE: &str = r#"
[site]
name = "Frustration shop"
key = "frustration-shop"

[[touchpoint]]
id = "checkout-csat"
metric = "csat"
question = { en = "Checkout?" }

[[touchpoint]]
id = "search-csat"
metric = "csat"
question = { en = "Search?" }
"#;

/// An event as sent: (kind, touchpoint, page, score, signal, visitor, seconds).
#[derive(Clone, Debug)]
struct Sent {
    id: String,
    kind: &'static str,
    touchpoint: Option<&'static str>,
    page: &'static str,
    score: Option<i64>,
    signal: Option<&'static str>,
    visitor: u64,
    at: i64,
}

impl Sent {
    fn ts(&self) -> String {
        let t = time::macros::datetime!(2026-11-10 09:00 UTC) + time::Duration::seconds(self.at);
        touchpoint_server::time::format_ts(t)
    }

    fn json(&self) -> Value {
        let mut e = json!({
            "id": self.id, "kind": self.kind, "page": format!("https://shop.example{}", self.page),
            "visitor": format!("v{:04}", self.visitor), "session": format!("s{}", self.visitor),
            "ts": self.ts(),
        });
        if let Some(t) = self.touchpoint {
            e["touchpoint"] = json!(t);
        }
        if let Some(s) = self.score {
            e["score"] = json!(s);
        }
        if let Some(s) = self.signal {
            e["signal"] = json!(s);
        }
        e
    }
}

/// Checkout: 200 visitors, each shown the prompt. A quarter rage-click
/// before answering (and answer 2), a quarter answer 5 and dead-click
/// after, a quarter hit an error on another page and answer 4, the rest
/// answer 5; one in ten also hits an error in the checkout view before
/// answering. Search: 100 visitors, no signals, all answer 4.
fn events() -> Vec<Sent> {
    let mut out = Vec::new();
    let mut push = |kind, touchpoint, page, score, signal, visitor, at| {
        let n = out.len();
        out.push(Sent {
            id: format!("00000000-0000-4000-8002-{n:012}"),
            kind,
            touchpoint,
            page,
            score,
            signal,
            visitor,
            at,
        });
    };
    for i in 0..200u64 {
        let t0 = (i * 1000) as i64;
        let tp = Some("checkout-csat");
        push("impression", tp, "/checkout", None, None, i, t0);
        match i % 4 {
            0 => {
                push(
                    "signal",
                    None,
                    "/checkout",
                    None,
                    Some("rage_click"),
                    i,
                    t0 + 5,
                );
                push("response", tp, "/checkout", Some(2), None, i, t0 + 10);
            }
            1 => {
                push("response", tp, "/checkout", Some(5), None, i, t0 + 10);
                push(
                    "signal",
                    None,
                    "/checkout",
                    None,
                    Some("dead_click"),
                    i,
                    t0 + 20,
                );
            }
            2 => {
                push("signal", None, "/cart", None, Some("error"), i, t0 + 5);
                push("response", tp, "/checkout", Some(4), None, i, t0 + 10);
            }
            _ => push("response", tp, "/checkout", Some(5), None, i, t0 + 10),
        }
        if i % 10 == 0 {
            push("signal", None, "/checkout", None, Some("error"), i, t0 + 6);
        }
    }
    for i in 1000..1100u64 {
        let t0 = (i * 1000) as i64;
        let tp = Some("search-csat");
        push("impression", tp, "/search", None, None, i, t0);
        push("response", tp, "/search", Some(4), None, i, t0 + 10);
    }
    out
}

/// What the server should say of a touchpoint's rows, from the raw events.
#[derive(Debug, Default)]
struct Expect {
    impressions: u64,
    frustrated: u64,
    views: BTreeMap<&'static str, u64>,
    after: Vec<i64>,
    without: Vec<i64>,
}

fn expect(sent: &[Sent], touchpoint: &str) -> Expect {
    let view = |e: &Sent| (e.visitor, e.page);
    let mut x = Expect::default();
    for e in sent.iter().filter(|e| e.touchpoint == Some(touchpoint)) {
        let signals: Vec<&Sent> = sent
            .iter()
            .filter(|s| s.kind == "signal" && view(s) == view(e))
            .collect();
        match e.kind {
            "impression" => {
                x.impressions += 1;
                x.frustrated += u64::from(!signals.is_empty());
                let names: BTreeSet<&str> = signals.iter().filter_map(|s| s.signal).collect();
                for name in names {
                    *x.views.entry(name).or_default() += 1;
                }
            }
            "response" => {
                if signals.iter().any(|s| s.at <= e.at) {
                    x.after.extend(e.score);
                } else {
                    x.without.extend(e.score);
                }
            }
            _ => {}
        }
    }
    x
}

/// CSAT % (top two of 1–5) and its 95 % Wilson interval.
fn csat(scores: &[i64]) -> (f64, f64, f64) {
    let n = scores.len() as f64;
    let (lo, hi) = wilson(scores.iter().filter(|s| **s >= 4).count() as f64, n);
    (
        100.0 * scores.iter().filter(|s| **s >= 4).count() as f64 / n,
        100.0 * lo,
        100.0 * hi,
    )
}

fn wilson(k: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let p = k / n;
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    ((c - h).max(0.0), (c + h).min(1.0))
}

fn close(got: &Value, want: f64, what: &str) {
    let g = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {got} is not a number"));
    assert!((g - want).abs() <= 0.0051, "{what}: {g} is not {want}");
}

struct Fixture {
    _db: TestDb,
    state: AppState,
    viewer: String,
}

impl Fixture {
    async fn post(&self, events: &[Value]) {
        let req = Request::post("/v1/events")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"site": "frustration-shop", "events": events}).to_string(),
            ))
            .unwrap();
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }

    async fn get(&self, uri: &str) -> (StatusCode, String) {
        let req = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.viewer))
            .body(Body::empty())
            .unwrap();
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn json(&self, uri: &str) -> Value {
        let (status, body) = self.get(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        serde_json::from_str(&body).unwrap()
    }
}

/// Checks a row against the recomputation.
fn check(row: &Value, x: &Expect, what: &str) {
    assert_eq!(row["impressions"].as_u64(), Some(x.impressions), "{what}");
    assert_eq!(row["frustrated"].as_u64(), Some(x.frustrated), "{what}");
    let n = x.impressions as f64;
    close(&row["frustration_rate"], x.frustrated as f64 / n, what);
    let (lo, hi) = wilson(x.frustrated as f64, n);
    close(&row["frustration_low"], lo, what);
    close(&row["frustration_high"], hi, what);
    for name in ["rage_click", "dead_click", "error"] {
        let views = x.views.get(name).copied().unwrap_or(0);
        let s = &row["signals"][name];
        assert_eq!(s["views"].as_u64(), Some(views), "{what} {name}");
        close(&s["rate"], views as f64 / n, &format!("{what} {name}"));
        let (lo, hi) = wilson(views as f64, n);
        close(&s["low"], lo, &format!("{what} {name} low"));
        close(&s["high"], hi, &format!("{what} {name} high"));
    }
    for (side, scores) in [("after_signal", &x.after), ("without_signal", &x.without)] {
        let got = &row[side];
        assert_eq!(
            got["responses"].as_u64(),
            Some(scores.len() as u64),
            "{what} {side}"
        );
        assert_eq!(
            got["small_sample"],
            json!(scores.len() < 30),
            "{what} {side}"
        );
        if scores.is_empty() {
            assert!(got["score"].is_null(), "{what} {side}");
            continue;
        }
        let (score, lo, hi) = csat(scores);
        close(&got["score"], score, &format!("{what} {side}"));
        close(&got["low"], lo, &format!("{what} {side} low"));
        close(&got["high"], hi, &format!("{what} {side} high"));
    }
}

async fn signals_beside_the_scores_match_a_recomputation(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let store = Store::open(&test_db.url).await.unwrap();
    store
        .apply_site(&site_file::parse(SITE).unwrap(), || unreachable!())
        .await
        .unwrap();
    let site = store
        .site_by_key("frustration-shop")
        .await
        .unwrap()
        .unwrap();
    let viewer = new_token();
    store
        .add_token(site.id, Role::Viewer, &hash_token(&viewer))
        .await
        .unwrap();
    let f = Fixture {
        _db: test_db,
        state: AppState::new(store.clone()),
        viewer,
    };
    let sent = events();
    // Impressions and answers first, the signals afterwards: a signal
    // that arrives late still marks the answers given after it.
    let (signals, rest): (Vec<&Sent>, Vec<&Sent>) = sent.iter().partition(|e| e.kind == "signal");
    for chunk in rest.chunks(150).chain(signals.chunks(40)) {
        f.post(&chunk.iter().map(|e| e.json()).collect::<Vec<_>>())
            .await;
    }

    let body = f.json("/v1/sites/frustration-shop/frustration").await;
    assert_eq!(body["group_by"], "touchpoint");
    let rows = body["rows"].as_array().unwrap();
    let order: Vec<&str> = rows
        .iter()
        .map(|r| r["touchpoint"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["checkout-csat", "search-csat"],
        "most frustrated first"
    );
    let checkout = expect(&sent, "checkout-csat");
    assert!(
        checkout.after.len() >= 30 && checkout.views.len() == 3,
        "the events exercise every part: {checkout:?}"
    );
    check(&rows[0], &checkout, "checkout");
    check(&rows[1], &expect(&sent, "search-csat"), "search");
    // Frustrated answers score far lower, beyond doubt.
    let d = &rows[0]["difference"];
    let (after, without) = (csat(&checkout.after).0, csat(&checkout.without).0);
    close(&d["delta"], after - without, "delta");
    assert!(d["p_value"].as_f64().unwrap() < 0.001, "{d}");
    assert_eq!(d["significant"], true);
    assert!(
        rows[1]["difference"].is_null(),
        "no answer after a signal: no difference"
    );

    // By page: the same counts under the pages the prompts were on.
    let by_page = f
        .json("/v1/sites/frustration-shop/frustration?group_by=page&from=2026-11-10")
        .await;
    let pages: Vec<&str> = by_page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["page"].as_str().unwrap())
        .collect();
    assert_eq!(pages, ["/checkout", "/search"]);
    check(&by_page["rows"][0], &checkout, "/checkout");

    // As CSV, with a column group per signal.
    let (status, csv) = f
        .get("/v1/sites/frustration-shop/frustration.csv?group_by=touchpoint")
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let line: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cell = |name: &str| line[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("touchpoint"), "checkout-csat");
    assert_eq!(
        cell("rage_click_views"),
        checkout.views["rage_click"].to_string()
    );
    assert_eq!(
        cell("after_signal_responses"),
        checkout.after.len().to_string()
    );
    assert_eq!(cell("significant"), "true");

    // The rollups' counts are what a rebuild from raw events gives.
    let before = f.json("/v1/sites/frustration-shop/frustration").await;
    store.rebuild_rollups(site.id).await.unwrap();
    assert_eq!(
        f.json("/v1/sites/frustration-shop/frustration").await,
        before
    );

    // Erasing a visitor who rage-clicked takes their view and answer away.
    store.delete_visitor(site.id, "v0004").await.unwrap();
    let kept: Vec<Sent> = sent.iter().filter(|e| e.visitor != 4).cloned().collect();
    let body = f.json("/v1/sites/frustration-shop/frustration").await;
    check(
        &body["rows"][0],
        &expect(&kept, "checkout-csat"),
        "after erasure",
    );

    let (status, body) = f
        .get("/v1/sites/frustration-shop/frustration?group_by=device")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("invalid_group_by"), "{body}");
}
