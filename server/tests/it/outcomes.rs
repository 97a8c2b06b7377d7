//! Outcomes and segments: `[[outcome]]`s recorded as events of kind
//! `outcome`, conversion after each touchpoint's answers by score band
//! against a recomputation from the events sent, and visitor attributes
//! kept only for declared keys, masked. Run with
//! `cargo test -p touchpoint-server --test it outcomes`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use touchpoint_server::auth::{hash_token, new_token};
use touchpoint_server::store::{Role, Store};
use touchpoint_server::{AppState, app, site_file};
use tower::ServiceExt;

use crate::both;
use crate::support::{Db, TestDb, database};

both!(
    conversion_by_band_matches_a_recomputation,
    outcomes_and_attributes_are_checked_on_arrival,
    aggregates_by_attribute_match_a_recomputation,
);

const SITE: &str = r#"
[site]
name = "Outcome shop"
key = "outcome-shop"
attributes = ["plan"]

[[touchpoint]]
id = "site-nps"
metric = "nps"
question = { en = "How likely?" }

[[touchpoint]]
id = "checkout-csat"
metric = "csat"
question = { en = "Checkout?" }

[[outcome]]
id = "purchase"
label = "Order placed"

[[outcome]]
id = "signup"
"#;

/// (visitor, kind, touchpoint or outcome, score, seconds after the start)
type Sent = (u64, &'static str, &'static str, i64, i64);

/// 400 visitors answer the NPS (score `i % 11`) and 200 of them the
/// checkout CSAT (`1 + i % 5`). Promoters buy afterwards seven times in
/// ten, passives four, detractors one; a tenth of the others bought only
/// before answering (which converts nothing), some signed up instead, and
/// every twentieth answered the NPS a second time, a 10, after buying.
fn sent() -> Vec<Sent> {
    let mut out = Vec::new();
    for i in 0..400u64 {
        let t0 = (i * 1000) as i64;
        let nps = (i % 11) as i64;
        out.push((i, "response", "site-nps", nps, t0 + 10));
        if i < 200 {
            out.push((i, "response", "checkout-csat", 1 + (i % 5) as i64, t0 + 12));
        }
        let buys = match nps {
            9..=10 => i % 10 < 7,
            7..=8 => i % 10 < 4,
            _ => i % 10 < 1,
        };
        if buys {
            out.push((i, "outcome", "purchase", 0, t0 + 50));
        } else if i % 10 == 9 {
            out.push((i, "outcome", "purchase", 0, t0 + 1));
        } else if i % 10 == 8 {
            out.push((i, "outcome", "signup", 0, t0 + 60));
        }
        if i % 20 == 0 {
            out.push((i, "response", "site-nps", 10, t0 + 70));
        }
    }
    out
}

fn json_of(n: usize, (visitor, kind, what, score, at): Sent) -> Value {
    let t = time::macros::datetime!(2026-11-10 09:00 UTC) + time::Duration::seconds(at);
    let mut e = json!({
        "id": format!("00000000-0000-4000-8003-{n:012}"),
        "kind": kind,
        "page": "https://shop.example/checkout",
        "visitor": format!("v{visitor:04}"),
        "session": format!("s{visitor}"),
        "ts": touchpoint_server::time::format_ts(t),
    });
    if kind == "outcome" {
        e["outcome"] = json!(what);
    } else {
        e["touchpoint"] = json!(what);
        e["score"] = json!(score);
    }
    e
}

struct Fixture {
    _db: TestDb,
    store: Store,
    state: AppState,
    viewer: String,
}

async fn fixture(db: Db) -> Option<Fixture> {
    let test_db = database(db).await?;
    let store = Store::open(&test_db.url).await.unwrap();
    store
        .apply_site(&site_file::parse(SITE).unwrap(), || unreachable!())
        .await
        .unwrap();
    let site = store.site_by_key("outcome-shop").await.unwrap().unwrap();
    let viewer = new_token();
    store
        .add_token(site.id, Role::Viewer, &hash_token(&viewer))
        .await
        .unwrap();
    Some(Fixture {
        _db: test_db,
        state: AppState::new(store.clone()),
        store,
        viewer,
    })
}

impl Fixture {
    async fn post(&self, events: &[Value]) -> (StatusCode, Value) {
        let req = Request::post("/v1/events")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"site": "outcome-shop", "events": events}).to_string(),
            ))
            .unwrap();
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
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
    assert!((g - want).abs() <= 0.00051, "{what}: {g} is not {want}");
}

/// (touchpoint, band) → (visitors, converted), from the events sent: each
/// visitor's first answer to a touchpoint, converted by a purchase after it.
fn recompute(sent: &[Sent]) -> BTreeMap<(String, String), (u64, u64)> {
    let band = |tp: &str, s: i64| match (tp, s) {
        ("site-nps", 0..=6) => "detractor",
        ("site-nps", 7..=8) => "passive",
        ("site-nps", _) => "promoter",
        (_, 1..=2) => "low",
        (_, 3) => "mid",
        _ => "high",
    };
    let mut first: BTreeMap<(u64, &str), (i64, i64)> = BTreeMap::new();
    for (v, kind, tp, score, at) in sent {
        if *kind == "response" {
            first.entry((*v, *tp)).or_insert((*score, *at));
        }
    }
    let mut out: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for ((v, tp), (score, at)) in first {
        let bought = sent.iter().any(|(w, kind, what, _, t)| {
            *w == v && *kind == "outcome" && *what == "purchase" && *t > at
        });
        let c = out
            .entry((tp.to_owned(), band(tp, score).to_owned()))
            .or_default();
        c.0 += 1;
        c.1 += u64::from(bought);
    }
    out
}

async fn conversion_by_band_matches_a_recomputation(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let sent = sent();
    let events: Vec<Value> = sent
        .iter()
        .enumerate()
        .map(|(n, e)| json_of(n, *e))
        .collect();
    for chunk in events.chunks(200) {
        let (status, body) = f.post(chunk).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let want = recompute(&sent);
    let (status, body) = f.get("/v1/sites/outcome-shop/outcomes").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "two outcomes: name one: {body}"
    );
    assert!(body.contains("purchase, signup"), "{body}");

    let got = f
        .json("/v1/sites/outcome-shop/outcomes?outcome=purchase&from=2026-11-10")
        .await;
    assert_eq!(got["outcome"], "purchase");
    let rows = got["rows"].as_array().unwrap();
    let order: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["touchpoint"].as_str().unwrap(),
                r["band"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("site-nps", "detractor"),
            ("site-nps", "passive"),
            ("site-nps", "promoter"),
            ("checkout-csat", "low"),
            ("checkout-csat", "mid"),
            ("checkout-csat", "high"),
        ]
    );
    for r in rows {
        let key = (
            r["touchpoint"].as_str().unwrap().to_owned(),
            r["band"].as_str().unwrap().to_owned(),
        );
        let (n, k) = want[&key];
        let at = format!("{key:?}");
        assert_eq!(
            (r["visitors"].as_u64(), r["converted"].as_u64()),
            (Some(n), Some(k)),
            "{at}"
        );
        close(&r["rate"], k as f64 / n as f64, &at);
        let (lo, hi) = wilson(k as f64, n as f64);
        close(&r["low"], lo, &at);
        close(&r["high"], hi, &at);
        assert_eq!(r["small_sample"], json!(n < 30), "{at}");
    }
    // Promoters convert far more often than detractors, beyond doubt.
    let promoters = &rows[2]["difference"];
    let band = |b: &str| want[&("site-nps".to_owned(), b.to_owned())];
    let (d, p) = (band("detractor"), band("promoter"));
    close(
        &promoters["delta"],
        p.1 as f64 / p.0 as f64 - d.1 as f64 / d.0 as f64,
        "promoters − detractors",
    );
    assert_eq!(promoters["significant"], true, "{promoters}");
    assert!(
        rows[0]["difference"].is_null(),
        "the lowest band is the baseline"
    );

    // As CSV, the same rows.
    let (status, csv) = f
        .get("/v1/sites/outcome-shop/outcomes.csv?outcome=purchase")
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "outcome,touchpoint,metric,band,visitors,converted,rate,low,high,small_sample,difference,p_value,significant"
    );
    assert_eq!(lines.len(), 7);
    assert!(
        lines[3].starts_with(&format!("purchase,site-nps,nps,promoter,{},{},", p.0, p.1)),
        "{}",
        lines[3]
    );

    // Signups are another outcome: only those who signed up after answering.
    let signup = f
        .json("/v1/sites/outcome-shop/outcomes?outcome=signup")
        .await;
    let converted: u64 = signup["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["touchpoint"] == "site-nps")
        .map(|r| r["converted"].as_u64().unwrap())
        .sum();
    let signed_up = sent
        .iter()
        .filter(|e| e.1 == "outcome" && e.2 == "signup")
        .count() as u64;
    assert_eq!(converted, signed_up);

    let (status, body) = f
        .get("/v1/sites/outcome-shop/outcomes?outcome=refund")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.contains("is not an outcome of this site (declared: purchase, signup)"),
        "{body}"
    );
}

async fn outcomes_and_attributes_are_checked_on_arrival(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let base = json_of(0, (7, "outcome", "purchase", 0, 0));
    let with = |field: &str, value: Value| {
        let mut e = base.clone();
        e[field] = value;
        e
    };
    let mut no_outcome = base.clone();
    no_outcome.as_object_mut().unwrap().remove("outcome");
    let mut answer = json_of(1, (7, "response", "site-nps", 3, 0));
    answer["outcome"] = json!("purchase");
    for (event, says) in [
        (
            with("outcome", json!("refund")),
            "events[0].outcome: \"refund\" is not an outcome of this site",
        ),
        (no_outcome, "events[0].outcome: required for kind outcome"),
        (
            with("touchpoint", json!("site-nps")),
            "events[0].touchpoint: an outcome belongs to no touchpoint",
        ),
        (
            answer,
            "events[0].outcome: only kind outcome has an outcome",
        ),
        (
            with("attributes", json!({"plan": "p".repeat(65)})),
            "events[0].attributes.plan: values up to 64 characters",
        ),
    ] {
        let (status, body) = f.post(&[event]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message} does not say {says}");
    }

    // Declared keys are kept, masked; any other key is dropped.
    let mut e = json_of(2, (7, "response", "site-nps", 9, 5));
    e["attributes"] =
        json!({"plan": "ann@example.com", "email": "ann@example.com", "tier": "gold"});
    let (status, body) = f.post(&[e, base.clone()]).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let site = f.store.site_by_key("outcome-shop").await.unwrap().unwrap();
    let stored = f.store.visitor_events(site.id, "v0007").await.unwrap();
    assert_eq!(stored.len(), 2);
    let answer = stored.iter().find(|e| e.kind == "response").unwrap();
    assert_eq!(
        answer.attributes,
        Some([("plan".to_owned(), "[email]".to_owned())].into())
    );
    let outcome = stored.iter().find(|e| e.kind == "outcome").unwrap();
    assert_eq!(outcome.outcome.as_deref(), Some("purchase"));
    assert_eq!(outcome.touchpoint, None);

    // Outcomes count in no report of answers, and leave with the visitor.
    let agg = f.json("/v1/sites/outcome-shop/aggregates").await;
    let responses: u64 = agg["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["responses"].as_u64().unwrap())
        .sum();
    assert_eq!(responses, 1);
    assert_eq!(f.store.delete_visitor(site.id, "v0007").await.unwrap(), 2);
}

/// `group_by=attr:plan`: the answers of visitors who said their plan, per
/// plan (and touchpoint), in JSON and CSV; visitors without one are in no
/// row; unknown keys and pages mixed in are refused.
async fn aggregates_by_attribute_match_a_recomputation(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let plans = [Some("free"), Some("pro"), Some("team"), None];
    let mut want: BTreeMap<(String, String), (u64, i64)> = BTreeMap::new();
    let mut events = Vec::new();
    for (n, e) in sent().into_iter().filter(|e| e.1 == "response").enumerate() {
        let mut json = json_of(n, e);
        // Days apart, across a month's end: whole months and edge days.
        let t = time::macros::datetime!(2026-10-20 09:00 UTC) + time::Duration::hours(n as i64);
        json["ts"] = json!(touchpoint_server::time::format_ts(t));
        if let Some(plan) = plans[(e.0 % 4) as usize] {
            json["attributes"] = json!({"plan": plan});
            let w = want.entry((plan.to_owned(), e.2.to_owned())).or_default();
            w.0 += 1;
            w.1 += e.3;
        }
        events.push(json);
    }
    for chunk in events.chunks(200) {
        let (status, body) = f.post(chunk).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let agg = f
        .json("/v1/sites/outcome-shop/aggregates?group_by=attr:plan,touchpoint&from=2026-10-01")
        .await;
    assert_eq!(agg["group_by"], json!(["attr:plan", "touchpoint"]));
    let got: BTreeMap<(String, String), (u64, i64)> = agg["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let total: i64 = r["distribution"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(s, n)| s.parse::<i64>().unwrap() * n.as_i64().unwrap())
                .sum();
            (
                (
                    r["attr:plan"].as_str().unwrap().to_owned(),
                    r["touchpoint"].as_str().unwrap().to_owned(),
                ),
                (r["responses"].as_u64().unwrap(), total),
            )
        })
        .collect();
    assert_eq!(got, want);

    let (status, csv) = f
        .get("/v1/sites/outcome-shop/export.csv?group_by=attr:plan")
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("attr:plan,metric,responses,")
    );
    let pro: u64 = want
        .iter()
        .filter(|((plan, tp), _)| plan == "pro" && tp == "site-nps")
        .map(|(_, (n, _))| *n)
        .sum();
    assert!(
        lines.any(|l| l.starts_with(&format!("pro,nps,{pro},"))),
        "{csv}"
    );

    for (query, says) in [
        (
            "group_by=attr:tier",
            "\\\"tier\\\" is not one of the site's attributes ([site] attributes: plan)",
        ),
        (
            "group_by=attr:plan,page",
            "attributes are counted apart from pages",
        ),
    ] {
        let (status, body) = f
            .get(&format!("/v1/sites/outcome-shop/aggregates?{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains(says), "{query}: {body}");
    }
}
