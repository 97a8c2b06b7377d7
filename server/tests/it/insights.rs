//! Priorities and drivers against synthetic answers whose outcome is known:
//! a high-volume touchpoint built to be the worst, a small one worse still,
//! a touchpoint built to move the relationship NPS and one with no link to
//! it. Expected numbers are recomputed here from the answers sent, sharing
//! nothing with the server but the formulas in DESIGN.md. Run with
//! `cargo test -p touchpoint-server --test it insights`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use touchpoint_server::auth::{hash_token, new_token};
use touchpoint_server::store::{Role, Store};
use touchpoint_server::{AppState, app, site_file};
use tower::ServiceExt;

use crate::both;
use crate::support::{Db, TestDb, database};

both!(
    the_worst_touchpoint_at_volume_leads_the_priorities,
    the_touchpoint_that_moves_the_relationship_nps_leads_the_drivers,
    drivers_need_a_relationship_nps_touchpoint,
);

const SITE: &str = r#"
[site]
name = "Insight shop"
key = "insight-shop"

[[touchpoint]]
id = "site-nps"
metric = "nps"
question = { en = "How likely?" }

[[touchpoint]]
id = "checkout-csat"
metric = "csat"
question = { en = "Checkout?" }

[[touchpoint]]
id = "search-csat"
metric = "csat"
question = { en = "Search?" }

[[touchpoint]]
id = "help-csat"
metric = "csat"
question = { en = "Help?" }

[[touchpoint]]
id = "helpful"
metric = "thumbs"
question = { en = "Helpful?" }

[[touchpoint]]
id = "idea"
metric = "text"
question = { en = "Ideas?" }
"#;

/// Visitors; each answers the relationship NPS, checkout and `helpful`.
const VISITORS: u64 = 400;

/// One answer: (visitor, touchpoint, score, seconds after the start).
type Answer = (u64, &'static str, i64, u64);

/// Visitor `i`'s answers. Three independent digits of `i` decide them:
/// `a = i % 10` whether checkout satisfied (a < 3) and so the relationship
/// NPS (9–10 after a good checkout, 0–6 after a bad one), `b = (i / 10) % 2`
/// the thumbs (no link to anything), `c = (i / 20) % 5` a passive
/// relationship answer (8 or 7) one time in five.
fn answers() -> Vec<Answer> {
    let mut out = Vec::new();
    for i in 0..VISITORS {
        let (a, b, c) = (i % 10, (i / 10) % 2, (i / 20) % 5);
        let happy = a < 3;
        out.push((i, "checkout-csat", if happy { 5 } else { 2 }, 10));
        let relationship = match (happy, c == 0) {
            (true, false) => 9 + (i % 2) as i64,
            (true, true) => 8,
            (false, false) => (i % 7) as i64,
            (false, true) => 7,
        };
        // An earlier answer that the latest replaces.
        if a == 1 {
            out.push((i, "site-nps", 0, 5));
        }
        out.push((i, "site-nps", relationship, 20));
        out.push((i, "helpful", i64::from(b == 0), 30));
        // Search: good at volume; its unhappy tenth are all happy at checkout.
        if i < 300 {
            out.push((i, "search-csat", if a == 0 { 2 } else { 5 }, 40));
        }
        // Help: twenty answers, even worse than checkout.
        if i < 20 {
            out.push((i, "help-csat", if a == 0 { 5 } else { 1 }, 50));
        }
        if i < 5 {
            out.push((i, "idea", 0, 60));
        }
    }
    out
}

fn event(n: usize, (visitor, touchpoint, score, at): Answer) -> Value {
    let t = time::macros::datetime!(2026-11-10 09:00 UTC)
        + time::Duration::seconds((visitor * 100 + at) as i64);
    let mut e = json!({
        "id": format!("00000000-0000-4000-8000-{n:012}"),
        "kind": "response",
        "touchpoint": touchpoint,
        "page": "https://shop.example/checkout",
        "visitor": format!("v{visitor:04}"),
        "session": format!("s{visitor}"),
        "ts": touchpoint_server::time::format_ts(t),
    });
    if touchpoint == "idea" {
        e["comment"] = json!("more colours");
    } else {
        e["score"] = json!(score);
    }
    e
}

struct Fixture {
    _db: TestDb,
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
    let site = store.site_by_key("insight-shop").await.unwrap().unwrap();
    let viewer = new_token();
    store
        .add_token(site.id, Role::Viewer, &hash_token(&viewer))
        .await
        .unwrap();
    let f = Fixture {
        _db: test_db,
        state: AppState::new(store),
        viewer,
    };
    let events: Vec<Value> = answers()
        .into_iter()
        .enumerate()
        .map(|(n, a)| event(n, a))
        .collect();
    for chunk in events.chunks(200) {
        let req = Request::post("/v1/events")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"site": "insight-shop", "events": chunk}).to_string(),
            ))
            .unwrap();
        let res = app(f.state.clone()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    Some(f)
}

impl Fixture {
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

fn close(got: &Value, want: f64, what: &str) {
    let g = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {got} is not a number"));
    assert!((g - want).abs() <= 0.011, "{what}: {g} is not {want}");
}

/// 95 % Wilson interval of k in n, in percent.
fn wilson(k: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let p = k / n;
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    (100.0 * (c - h), 100.0 * (c + h))
}

/// NPS and its margin of error of a list of 0–10 answers.
fn nps(scores: &[i64]) -> (f64, f64) {
    let n = scores.len() as f64;
    let p = scores.iter().filter(|s| **s >= 9).count() as f64 / n;
    let d = scores.iter().filter(|s| **s <= 6).count() as f64 / n;
    (
        100.0 * (p - d),
        196.0 * ((p + d - (p - d).powi(2)) / n).sqrt(),
    )
}

fn rows(body: &Value) -> Vec<&Value> {
    body["touchpoints"].as_array().unwrap().iter().collect()
}

fn ids<'a>(rows: &[&'a Value]) -> Vec<&'a str> {
    rows.iter()
        .map(|r| r["touchpoint"].as_str().unwrap())
        .collect()
}

async fn the_worst_touchpoint_at_volume_leads_the_priorities(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let all = answers();
    // The CSAT norm: every CSAT answer of the site together.
    let csat: Vec<&Answer> = all.iter().filter(|a| a.1.ends_with("-csat")).collect();
    let top = |tp: &str| {
        let of: Vec<_> = csat.iter().filter(|a| a.1 == tp).collect();
        (
            of.iter().filter(|a| a.2 >= 4).count() as f64,
            of.len() as f64,
        )
    };
    let norm = 100.0 * csat.iter().filter(|a| a.2 >= 4).count() as f64 / csat.len() as f64;

    let body = f.json("/v1/sites/insight-shop/priorities").await;
    let rows = rows(&body);
    // Checkout first; help, worse but with 20 answers, last and unranked,
    // although its impact is above that of the ranked rows after checkout.
    assert_eq!(
        ids(&rows),
        [
            "checkout-csat",
            "helpful",
            "site-nps",
            "search-csat",
            "help-csat"
        ],
        "{body}"
    );
    let checkout = rows[0];
    let (k, n) = top("checkout-csat");
    let (low, high) = wilson(k, n);
    assert_eq!(checkout["responses"], 400);
    assert_eq!(checkout["metric"], "csat");
    close(&checkout["score"], 100.0 * k / n, "checkout score");
    close(&checkout["norm"], norm, "norm");
    close(
        &checkout["impact"],
        n * (norm - 100.0 * k / n),
        "checkout impact",
    );
    close(&checkout["low"], n * (norm - high), "checkout impact low");
    close(&checkout["high"], n * (norm - low), "checkout impact high");
    assert_eq!(checkout["bleeding"], true);
    assert_eq!(checkout["ranked"], true);
    assert_eq!(checkout["small_sample"], false);

    // The only NPS and thumbs touchpoints are their metric's norm.
    for r in &rows[1..3] {
        close(&r["impact"], 0.0, "a touchpoint that is its own norm");
        assert_eq!(r["bleeding"], false, "{r}");
    }
    let search = rows[3];
    assert!(search["impact"].as_f64().unwrap() < 0.0, "{search}");
    assert_eq!(search["bleeding"], false);

    let help = rows[4];
    let (k, n) = top("help-csat");
    assert_eq!(help["responses"], 20);
    close(&help["score"], 100.0 * k / n, "help score");
    assert!(
        help["score"].as_f64() < checkout["score"].as_f64(),
        "{help}"
    );
    assert!(help["impact"].as_f64().unwrap() > 0.0, "{help}");
    assert_eq!(help["ranked"], false);
    assert_eq!(help["small_sample"], true);
    assert_eq!(help["bleeding"], false);

    // The CSV: the same rows in the same order.
    let (status, csv) = f.get("/v1/sites/insight-shop/priorities.csv").await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "touchpoint,metric,responses,score,score_low,score_high,norm,gap,impact,low,high,bleeding,ranked,small_sample"
    );
    assert_eq!(lines.len(), 6, "{csv}");
    assert!(lines[1].starts_with("checkout-csat,csat,400,30"), "{csv}");
    assert!(lines[1].ends_with(",true,true,false"), "{csv}");
    assert!(lines[5].starts_with("help-csat,csat,20,"), "{csv}");
    assert!(lines[5].ends_with(",false,false,true"), "{csv}");

    // A range without answers has nothing to rank.
    let empty = f
        .json("/v1/sites/insight-shop/priorities?from=2026-12-01&to=2026-12-02")
        .await;
    assert_eq!(empty, json!({"touchpoints": []}));
}

async fn the_touchpoint_that_moves_the_relationship_nps_leads_the_drivers(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let all = answers();
    // Each visitor's latest relationship answer (sent in time order).
    let mut relationship = std::collections::BTreeMap::new();
    for a in all.iter().filter(|a| a.1 == "site-nps") {
        relationship.insert(a.0, a.2);
    }
    let split = |tp: &str, top: &dyn Fn(i64) -> bool| {
        let (mut sat, mut unsat) = (Vec::new(), Vec::new());
        for a in all.iter().filter(|a| a.1 == tp) {
            let r = relationship[&a.0];
            if top(a.2) { &mut sat } else { &mut unsat }.push(r);
        }
        (sat, unsat)
    };
    let expect = |sat: &[i64], unsat: &[i64]| {
        let ((s, ms), (u, mu)) = (nps(sat), nps(unsat));
        let moe = (ms * ms + mu * mu).sqrt();
        (s - u, s - u - moe, s - u + moe)
    };

    let body = f
        .json("/v1/sites/insight-shop/drivers?relationship=site-nps")
        .await;
    assert_eq!(body["relationship"], "site-nps");
    assert_eq!(body["visitors"], VISITORS);
    let rows = rows(&body);
    // The relationship touchpoint itself and text are not drivers; help
    // (2 satisfied of 20) is listed last, unranked.
    assert_eq!(
        ids(&rows),
        ["checkout-csat", "helpful", "search-csat", "help-csat"],
        "{body}"
    );

    let checkout = rows[0];
    let (sat, unsat) = split("checkout-csat", &|s| s >= 4);
    let (effect, low, high) = expect(&sat, &unsat);
    assert_eq!(checkout["visitors"], VISITORS);
    assert_eq!(checkout["satisfied"], 120);
    assert_eq!(checkout["unsatisfied"], 280);
    close(&checkout["effect"], effect, "checkout effect");
    close(&checkout["low"], low, "checkout low");
    close(&checkout["high"], high, "checkout high");
    assert!(low > 100.0, "a strong driver: {low}");
    assert_eq!(checkout["ranked"], true);

    // Thumbs are independent of the relationship answer: an effect of 0
    // with an interval around it.
    let helpful = rows[1];
    let (sat, unsat) = split("helpful", &|s| s == 1);
    let (effect, low, high) = expect(&sat, &unsat);
    close(&helpful["effect"], effect, "helpful effect");
    close(&helpful["effect"], 0.0, "helpful effect");
    close(&helpful["low"], low, "helpful low");
    close(&helpful["high"], high, "helpful high");
    assert!(low < 0.0 && high > 0.0, "{helpful}");
    assert_eq!(helpful["ranked"], true);

    let help = rows[3];
    assert_eq!(help["visitors"], 20);
    assert_eq!(help["satisfied"], 2);
    assert_eq!(help["ranked"], false);

    let (status, csv) = f
        .get("/v1/sites/insight-shop/drivers.csv?relationship=site-nps")
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "relationship,touchpoint,metric,visitors,satisfied,unsatisfied,effect,low,high,ranked"
    );
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(
        lines[1].starts_with("site-nps,checkout-csat,csat,400,120,280,"),
        "{csv}"
    );
    assert!(lines[4].ends_with(",false"), "{csv}");

    // A day before the answers: nobody to count.
    let empty = f
        .json("/v1/sites/insight-shop/drivers?relationship=site-nps&to=2026-11-09")
        .await;
    assert_eq!(empty["visitors"], 0);
    assert_eq!(empty["touchpoints"], json!([]));
}

async fn drivers_need_a_relationship_nps_touchpoint(db: Db) {
    let Some(f) = fixture(db).await else { return };
    for (uri, says) in [
        ("/v1/sites/insight-shop/drivers", "relationship: required"),
        (
            "/v1/sites/insight-shop/drivers.csv?relationship=",
            "relationship: required",
        ),
        (
            "/v1/sites/insight-shop/drivers?relationship=nope",
            "\"nope\" is not a touchpoint of this site",
        ),
        (
            "/v1/sites/insight-shop/drivers?relationship=checkout-csat",
            "asks csat, not nps",
        ),
    ] {
        let (status, body) = f.get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "invalid_relationship", "{uri}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{uri}: {body}"
        );
    }
    // Viewers only.
    let req = Request::get("/v1/sites/insight-shop/priorities")
        .body(Body::empty())
        .unwrap();
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
