//! The read side against a plain recomputation from the raw events this
//! test sends: the journey map, trends by day and week, aggregates by day
//! and week, in a site's own time zone (Berlin, across the end of summer
//! time). The recomputation below shares nothing with the rollups; it
//! borrows only the distribution functions (`stats`), checked on their own
//! against published tables. Tests in `days` and `months`; the events,
//! the fixture and the recomputation here. Run with
//! `cargo test -p touchpoint-server --test it read`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use touchpoint_server::auth::{hash_token, new_token};
use touchpoint_server::stats::{normal_cdf, t_cdf, t_quantile};
use touchpoint_server::store::{Role, Store};
use touchpoint_server::{AppState, app, site_file};
use tower::ServiceExt;

use crate::support::{Db, database};

const SITE: &str = r#"
[site]
name = "Read shop"
key = "read-shop"
timezone = "Europe/Berlin"

[[stage]]
id = "discover"
label = "Discover"
pages = ["/"]

[[stage]]
id = "evaluate"
label = "Evaluate"
pages = ["/pricing", "/product/*"]

[[stage]]
id = "purchase"
label = "Purchase"
pages = ["/checkout"]

[[touchpoint]]
id = "site-nps"
metric = "nps"
question = { en = "How likely?" }

[[touchpoint]]
id = "checkout-csat"
metric = "csat"
question = { en = "Satisfied?" }

[[touchpoint]]
id = "checkout-ces"
metric = "ces"
question = { en = "Easy?" }

[[touchpoint]]
id = "helpful"
metric = "thumbs"
question = { en = "Helpful?" }

[[touchpoint]]
id = "idea"
metric = "text"
question = { en = "Ideas?" }
"#;

/// An event as this test sent it (pages are already paths).
#[derive(Clone, Debug)]
struct Sent {
    id: String,
    kind: &'static str,
    touchpoint: Option<&'static str>,
    metric: Option<&'static str>,
    page: &'static str,
    score: Option<i64>,
    visitor: String,
    session: String,
    ts: String,
}

impl Sent {
    fn json(&self) -> Value {
        let mut e = json!({
            "id": self.id, "kind": self.kind, "page": format!("https://shop.example{}", self.page),
            "ts": self.ts, "visitor": self.visitor, "session": self.session,
        });
        if let Some(t) = self.touchpoint {
            e["touchpoint"] = json!(t);
        }
        if let Some(s) = self.score {
            e["score"] = json!(s);
        }
        if self.kind == "signal" {
            e["signal"] = json!("rage_click");
        }
        if self.kind == "response" && self.metric == Some("text") {
            e["comment"] = json!("more colours");
        }
        e
    }

    /// The stage the site's globs give this page.
    fn stage(&self) -> &'static str {
        match self.page {
            "/" => "discover",
            "/pricing" | "/product/1" | "/product/2" => "evaluate",
            "/checkout" => "purchase",
            _ => "unassigned",
        }
    }

    /// The Berlin day: UTC+1 in winter, UTC+2 in summer (until 2026-10-25 01:00 UTC).
    fn day(&self) -> String {
        let t =
            time::OffsetDateTime::parse(&self.ts, &time::format_description::well_known::Rfc3339)
                .unwrap();
        let summer_ends = time::macros::datetime!(2026-10-25 01:00 UTC);
        let offset = if t < summer_ends { 2 } else { 1 };
        let local = t + time::Duration::hours(offset);
        format!(
            "{:04}-{:02}-{:02}",
            local.year(),
            u8::from(local.month()),
            local.day()
        )
    }
}

/// A small deterministic generator (no dependency, same events every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn events() -> Vec<Sent> {
    let mut rng = Lcg(7);
    let pages = [
        "/",
        "/pricing",
        "/product/1",
        "/product/2",
        "/checkout",
        "/about",
    ];
    let touchpoints = [
        ("site-nps", "nps", 0, 10),
        ("site-nps", "nps", 0, 10),
        ("checkout-csat", "csat", 1, 5),
        ("checkout-ces", "ces", 1, 7),
        ("helpful", "thumbs", 0, 1),
        ("idea", "text", 0, 0),
    ];
    let mut out = Vec::new();
    for i in 0..900u64 {
        let (tp, metric, lo, hi) = touchpoints[rng.next(touchpoints.len() as u64) as usize];
        let kind = [
            "impression",
            "impression",
            "response",
            "response",
            "response",
            "dismiss",
            "signal",
        ][rng.next(7) as usize];
        // 2026-10-20 … 2026-10-29, any minute: days cross midnight UTC and
        // Berlin, and summer time ends on the 25th.
        let minute = rng.next(10 * 24 * 60) as i64;
        let t = time::macros::datetime!(2026-10-20 00:00 UTC) + time::Duration::minutes(minute);
        let visitor = rng.next(40);
        // Mostly nps at first, mostly csat later, so trends move.
        let score = match (kind, metric) {
            ("response", "text") => None,
            ("response", _) => {
                let shift = if minute > 5 * 24 * 60 {
                    0
                } else {
                    (hi - lo) / 3
                };
                Some((lo + rng.next((hi - lo + 1) as u64) as i64 + shift).min(hi))
            }
            _ => None,
        };
        out.push(Sent {
            id: format!("00000000-0000-4000-8000-{i:012}"),
            kind,
            touchpoint: (kind != "signal").then_some(tp),
            metric: (kind != "signal").then_some(metric),
            page: pages[rng.next(pages.len() as u64) as usize],
            score,
            visitor: format!("v{visitor}"),
            session: format!("s{}", visitor % 7),
            ts: touchpoint_server::time::format_ts(t),
        });
    }
    out
}

struct Fixture {
    _db: crate::support::TestDb,
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
    let site = store.site_by_key("read-shop").await.unwrap().unwrap();
    let viewer = new_token();
    store
        .add_token(site.id, Role::Viewer, &hash_token(&viewer))
        .await
        .unwrap();
    Some(Fixture {
        _db: test_db,
        state: AppState::new(store),
        viewer,
    })
}

impl Fixture {
    async fn post(&self, events: &[Value]) {
        let req = Request::post("/v1/events")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"site": "read-shop", "events": events}).to_string(),
            ))
            .unwrap();
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "{}",
            String::from_utf8_lossy(&body)
        );
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (status, body) = self.text(uri).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    async fn text(&self, uri: &str) -> (StatusCode, String) {
        let req = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.viewer))
            .body(Body::empty())
            .unwrap();
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    async fn ok(&self, uri: &str) -> Value {
        let (status, body) = self.get(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        body
    }
}

/// What a group of events adds up to, recomputed from the raw rows.
#[derive(Default, Debug)]
struct Expect {
    impressions: u64,
    responses: u64,
    dismissals: u64,
    flagged: u64,
    scores: Vec<i64>,
}

impl Expect {
    fn add(&mut self, e: &Sent, flagged: &HashSet<String>) {
        match e.kind {
            "impression" => {
                self.impressions += 1;
                self.flagged += u64::from(flagged.contains(&e.id));
            }
            "response" => {
                self.responses += 1;
                self.scores.extend(e.score);
            }
            "dismiss" => self.dismissals += 1,
            _ => {}
        }
    }

    /// (score, low, high) as DESIGN.md defines them.
    fn score(&self, metric: &str) -> Option<(f64, Option<f64>, Option<f64>)> {
        let n = self.scores.len() as f64;
        if self.scores.is_empty() {
            return None;
        }
        let z = 1.959_963_984_540_054_f64;
        let wilson = |k: usize| {
            let p = k as f64 / n;
            let d = 1.0 + z * z / n;
            let c = (p + z * z / (2.0 * n)) / d;
            let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
            (
                100.0 * p,
                Some(100.0 * (c - h).max(0.0)),
                Some(100.0 * (c + h).min(1.0)),
            )
        };
        let count = |f: &dyn Fn(i64) -> bool| self.scores.iter().filter(|s| f(**s)).count();
        match metric {
            "nps" => {
                let (p, d) = (count(&|s| s >= 9) as f64 / n, count(&|s| s <= 6) as f64 / n);
                let moe = 196.0 * ((p + d - (p - d).powi(2)) / n).sqrt();
                let nps = 100.0 * (p - d);
                Some((
                    nps,
                    Some((nps - moe).max(-100.0)),
                    Some((nps + moe).min(100.0)),
                ))
            }
            "csat" => Some(wilson(count(&|s| s >= 4))),
            "thumbs" => Some(wilson(count(&|s| s == 1))),
            "ces" => {
                let mean = self.scores.iter().sum::<i64>() as f64 / n;
                if self.scores.len() < 2 {
                    return Some((mean, None, None));
                }
                let var = self
                    .scores
                    .iter()
                    .map(|s| (*s as f64 - mean).powi(2))
                    .sum::<f64>()
                    / (n - 1.0);
                let half = t_quantile(0.975, n - 1.0) * (var / n).sqrt();
                Some((
                    mean,
                    Some((mean - half).max(1.0)),
                    Some((mean + half).min(7.0)),
                ))
            }
            _ => None,
        }
    }
}

fn close(got: &Value, want: Option<f64>, what: &str) {
    match want {
        None => assert!(got.is_null(), "{what}: {got} is not null"),
        Some(w) => {
            let g = got
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: {got} is not a number"));
            assert!((g - w).abs() <= 0.0051, "{what}: {g} is not {w}");
        }
    }
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

mod days;
mod months;
