//! The read side against a plain recomputation from the raw events this
//! test sends: the journey map, trends by day and week, aggregates by day
//! and week, in a site's own time zone (Berlin, across the end of summer
//! time). The recomputation below shares nothing with the rollups; it
//! borrows only the distribution functions (`stats`), checked on their own
//! against published tables. Run with `cargo test -p touchpoint-server --test it read`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use touchpoint_server::auth::{hash_token, new_token};
use touchpoint_server::stats::{normal_cdf, t_cdf, t_quantile};
use touchpoint_server::store::{Role, Store};
use touchpoint_server::{AppState, app, site_file};
use tower::ServiceExt;

use crate::both;
use crate::support::{Db, database};

both!(
    journey_trends_and_aggregates_match_a_recomputation,
    report_ranges_are_whole_days_and_other_queries_are_refused_with_the_reason,
    page_and_segment_reports_over_months_match_a_recomputation,
);

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

async fn journey_trends_and_aggregates_match_a_recomputation(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let sent = events();
    for chunk in sent.chunks(100) {
        f.post(&chunk.iter().map(Sent::json).collect::<Vec<_>>())
            .await;
    }
    // A retry of a batch counts nothing twice.
    f.post(&sent[..100].iter().map(Sent::json).collect::<Vec<_>>())
        .await;

    // Impressions whose page view (visitor, session, page) had a signal.
    let signalled: HashSet<(&str, &str, &str)> = sent
        .iter()
        .filter(|e| e.kind == "signal")
        .map(|e| (e.visitor.as_str(), e.session.as_str(), e.page))
        .collect();
    let flagged: HashSet<String> = sent
        .iter()
        .filter(|e| {
            e.kind == "impression"
                && signalled.contains(&(e.visitor.as_str(), e.session.as_str(), e.page))
        })
        .map(|e| e.id.clone())
        .collect();
    assert!(
        flagged.len() > 10,
        "the events exercise frustration: {}",
        flagged.len()
    );

    // The journey map: days 2026-10-21 … 2026-10-28 in Berlin.
    let in_range = |e: &&Sent| ("2026-10-21".."2026-10-29").contains(&e.day().as_str());
    let mut cells: BTreeMap<(&str, &str, &str), Expect> = BTreeMap::new();
    for e in sent.iter().filter(in_range) {
        if let (Some(tp), Some(m)) = (e.touchpoint, e.metric) {
            cells
                .entry((e.stage(), tp, m))
                .or_default()
                .add(e, &flagged);
        }
    }
    let journey = f
        .ok("/v1/sites/read-shop/journey?from=2026-10-21&to=2026-10-28")
        .await;
    let stages: Vec<&str> = journey["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["discover", "evaluate", "purchase", "unassigned"]);
    let order = [
        "site-nps",
        "checkout-csat",
        "checkout-ces",
        "helpful",
        "idea",
    ];
    for stage in journey["stages"].as_array().unwrap() {
        let id = stage["id"].as_str().unwrap();
        let want: Vec<&str> = order
            .iter()
            .copied()
            .filter(|tp| cells.keys().any(|(s, t, _)| *s == id && t == tp))
            .collect();
        let got: Vec<&str> = stage["touchpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["touchpoint"].as_str().unwrap())
            .collect();
        assert_eq!(got, want, "touchpoints of {id}, in the site file's order");
        for cell in stage["touchpoints"].as_array().unwrap() {
            let tp = cell["touchpoint"].as_str().unwrap();
            let metric = cell["metric"].as_str().unwrap();
            let x = &cells[&(id, tp, metric)];
            let at = format!("{id}/{tp}");
            assert_eq!(
                (
                    cell["responses"].as_u64(),
                    cell["impressions"].as_u64(),
                    cell["dismissals"].as_u64()
                ),
                (Some(x.responses), Some(x.impressions), Some(x.dismissals)),
                "{at}"
            );
            assert_eq!(cell["small_sample"], json!(x.responses < 30), "{at}");
            close(
                &cell["response_rate"],
                rate(x.responses, x.impressions),
                &at,
            );
            close(
                &cell["dismiss_rate"],
                rate(x.dismissals, x.impressions),
                &at,
            );
            close(
                &cell["frustration_rate"],
                rate(x.flagged, x.impressions),
                &at,
            );
            let s = x.score(metric);
            close(&cell["score"], s.map(|s| s.0), &format!("{at} score"));
            close(&cell["low"], s.and_then(|s| s.1), &format!("{at} low"));
            close(&cell["high"], s.and_then(|s| s.2), &format!("{at} high"));
        }
    }

    // Trends of the NPS by Berlin day, every day of the range a point.
    let trend = f
        .ok("/v1/sites/read-shop/trends?touchpoint=site-nps&interval=day&from=2026-10-20&to=2026-10-29")
        .await;
    assert_eq!(
        (trend["metric"].as_str(), trend["interval"].as_str()),
        (Some("nps"), Some("day"))
    );
    let mut by_day: BTreeMap<String, Expect> = BTreeMap::new();
    for e in sent.iter().filter(|e| e.touchpoint == Some("site-nps")) {
        by_day.entry(e.day()).or_default().add(e, &flagged);
    }
    let points = trend["points"].as_array().unwrap();
    let days: Vec<&str> = points
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(days.first(), Some(&"2026-10-20"));
    assert_eq!(days.len(), 10, "{days:?}");
    let mut previous: Option<&Expect> = None;
    let empty = Expect::default();
    for p in points {
        let day = p["period"].as_str().unwrap();
        let x = by_day.get(day).unwrap_or(&empty);
        assert_eq!(p["responses"].as_u64(), Some(x.responses), "{day}");
        let s = x.score("nps");
        close(&p["score"], s.map(|s| s.0), day);
        close(&p["low"], s.and_then(|s| s.1), day);
        close(&p["high"], s.and_then(|s| s.2), day);
        match (previous, s) {
            (Some(before), Some(now)) if !before.scores.is_empty() => {
                let change = &p["change"];
                close(
                    &change["delta"],
                    Some(now.0 - before.score("nps").unwrap().0),
                    day,
                );
                // NPS difference over its combined standard error.
                let parts = |x: &Expect| {
                    let n = x.scores.len() as f64;
                    let p = x.scores.iter().filter(|s| **s >= 9).count() as f64 / n;
                    let d = x.scores.iter().filter(|s| **s <= 6).count() as f64 / n;
                    (p - d, (p + d - (p - d).powi(2)) / n)
                };
                let ((a, va), (b, vb)) = (parts(before), parts(x));
                let z = (b - a) / (va + vb).sqrt();
                let pv = 2.0 * (1.0 - normal_cdf(z.abs()));
                close(&change["p_value"], Some(pv), day);
                let sig = pv < 0.05 && before.scores.len() >= 30 && x.scores.len() >= 30;
                assert_eq!(change["significant"], json!(sig), "{day}");
            }
            _ => assert!(p["change"].is_null(), "{day}: {p}"),
        }
        previous = Some(x);
    }

    // By ISO week: CES, Welch's t test between the two weeks.
    let trend = f
        .ok("/v1/sites/read-shop/trends?touchpoint=checkout-ces&interval=week")
        .await;
    let mut by_week: BTreeMap<String, Expect> = BTreeMap::new();
    for e in sent.iter().filter(|e| e.touchpoint == Some("checkout-ces")) {
        let week = touchpoint_server::zone::week_of(&e.day()).unwrap();
        by_week.entry(week).or_default().add(e, &flagged);
    }
    let points = trend["points"].as_array().unwrap();
    let weeks: Vec<&str> = points
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(
        weeks,
        by_week.keys().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(weeks, ["2026-W43", "2026-W44"]);
    let (a, b) = (&by_week["2026-W43"], &by_week["2026-W44"]);
    let moments = |x: &Expect| {
        let n = x.scores.len() as f64;
        let m = x.scores.iter().sum::<i64>() as f64 / n;
        let v = x
            .scores
            .iter()
            .map(|s| (*s as f64 - m).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        (m, v / n, n)
    };
    let ((ma, va, na), (mb, vb, nb)) = (moments(a), moments(b));
    let t = (mb - ma) / (va + vb).sqrt();
    let df = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    let pv = 2.0 * (1.0 - t_cdf(t.abs(), df));
    let change = &points[1]["change"];
    close(&change["delta"], Some(mb - ma), "ces delta");
    close(&change["p_value"], Some(pv), "ces p");
    assert_eq!(
        change["significant"],
        json!(pv < 0.05 && na >= 30.0 && nb >= 30.0)
    );
    assert_eq!(points[0]["responses"].as_u64(), Some(a.responses));

    // CSAT by week: the two-proportion test.
    let trend = f
        .ok("/v1/sites/read-shop/trends?touchpoint=checkout-csat&interval=week")
        .await;
    let mut weeks: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for e in sent
        .iter()
        .filter(|e| e.touchpoint == Some("checkout-csat") && e.kind == "response")
    {
        let w = weeks
            .entry(touchpoint_server::zone::week_of(&e.day()).unwrap())
            .or_default();
        w.0 += f64::from(u8::from(e.score.unwrap() >= 4));
        w.1 += 1.0;
    }
    let ((k1, n1), (k2, n2)) = (weeks["2026-W43"], weeks["2026-W44"]);
    let pooled = (k1 + k2) / (n1 + n2);
    let z = (k2 / n2 - k1 / n1) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    close(
        &trend["points"][1]["change"]["p_value"],
        Some(2.0 * (1.0 - normal_cdf(z.abs()))),
        "csat p",
    );
    close(
        &trend["points"][1]["change"]["delta"],
        Some(100.0 * (k2 / n2 - k1 / n1)),
        "csat delta",
    );

    // Aggregates by Berlin day and by week agree with the same recomputation.
    let agg = f
        .ok("/v1/sites/read-shop/aggregates?group_by=day&metric=nps")
        .await;
    let got: Vec<(String, u64)> = agg["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["day"].as_str().unwrap().to_owned(),
                r["responses"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, u64)> = by_day
        .iter()
        .filter(|(_, x)| x.impressions + x.responses > 0)
        .map(|(d, x)| (d.clone(), x.responses))
        .collect();
    assert_eq!(got, want);
    let agg = f
        .ok("/v1/sites/read-shop/aggregates?group_by=week,touchpoint&metric=ces")
        .await;
    let row = &agg["rows"][1];
    assert_eq!(
        (
            row["week"].as_str(),
            row["touchpoint"].as_str(),
            row["responses"].as_u64()
        ),
        (Some("2026-W44"), Some("checkout-ces"), Some(b.responses))
    );
    let s = b.score("ces").unwrap();
    close(&row["ces_low"], s.1, "ces_low");
    close(&row["ces_high"], s.2, "ces_high");
    assert_eq!(row["small_sample"], json!(b.responses < 30));
    // Every aggregate row's frustration rate, by page this time.
    let agg = f.ok("/v1/sites/read-shop/aggregates?group_by=page").await;
    for row in agg["rows"].as_array().unwrap() {
        let page = row["page"].as_str().unwrap();
        let metric = row["metric"].as_str().unwrap();
        let mut x = Expect::default();
        for e in sent
            .iter()
            .filter(|e| e.page == page && e.metric == Some(metric))
        {
            x.add(e, &flagged);
        }
        close(
            &row["frustration_rate"],
            rate(x.flagged, x.impressions),
            page,
        );
        close(
            &row["dismiss_rate"],
            rate(x.dismissals, x.impressions),
            page,
        );
        assert_eq!(row["dismissals"].as_u64(), Some(x.dismissals));
    }

    // A late event lands in its own (Berlin) day, and only there.
    let late = Sent {
        id: "00000000-0000-4000-8000-999999999999".into(),
        kind: "response",
        touchpoint: Some("site-nps"),
        metric: Some("nps"),
        page: "/",
        score: Some(10),
        visitor: "late".into(),
        session: "late".into(),
        ts: "2026-10-20T22:30:00.000Z".into(), // 2026-10-21 00:30 in Berlin
    };
    f.post(&[late.json()]).await;
    let trend = f
        .ok("/v1/sites/read-shop/trends?touchpoint=site-nps&from=2026-10-20&to=2026-10-22")
        .await;
    let responses: Vec<u64> = trend["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["responses"].as_u64().unwrap())
        .collect();
    let day = |d: &str| by_day.get(d).map_or(0, |x| x.responses);
    assert_eq!(
        responses,
        [day("2026-10-20"), day("2026-10-21") + 1, day("2026-10-22")]
    );
}

async fn report_ranges_are_whole_days_and_other_queries_are_refused_with_the_reason(db: Db) {
    let Some(f) = fixture(db).await else { return };
    for (uri, code, says) in [
        (
            "/v1/sites/read-shop/aggregates?from=2026-10-21T06:00:00Z",
            "invalid_range",
            "whole days in the site's time zone (Europe/Berlin)",
        ),
        (
            "/v1/sites/read-shop/trends?interval=day",
            "invalid_query",
            "touchpoint: required",
        ),
        (
            "/v1/sites/read-shop/trends?touchpoint=site-nps&interval=month",
            "invalid_interval",
            "interval: \"month\"",
        ),
        (
            "/v1/sites/read-shop/trends?touchpoint=site-nps&from=1990-01-01&to=2026-01-01",
            "invalid_range",
            "at most 3700 points",
        ),
    ] {
        let (status, body) = f.get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["code"], code, "{uri}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{uri}: {body}"
        );
    }
    let (status, body) = f.get("/v1/sites/read-shop/trends?touchpoint=nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // A time at a Berlin midnight is a day; no events yet: empty answers,
    // every declared stage listed, `unassigned` not.
    let journey = f
        .ok("/v1/sites/read-shop/journey?from=2026-10-20T22:00:00Z")
        .await;
    assert_eq!(
        journey,
        json!({"stages": [
            {"id": "discover", "label": "Discover", "touchpoints": []},
            {"id": "evaluate", "label": "Evaluate", "touchpoints": []},
            {"id": "purchase", "label": "Purchase", "touchpoints": []},
        ]})
    );
    let trend = f
        .ok("/v1/sites/read-shop/trends?touchpoint=site-nps&interval=week&from=2026-10-20&to=2026-10-27")
        .await;
    let periods: Vec<&str> = trend["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2026-W43", "2026-W44"]);
    assert_eq!(trend["points"][0]["score"], Value::Null);
}

/// Each row's group (`group`'s value) → its responses and the sum of its
/// scores, from the row's distribution.
fn sums<'a>(agg: &'a Value, group: &str) -> BTreeMap<&'a str, (u64, i64)> {
    agg["rows"]
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
                r[group].as_str().unwrap(),
                (r["responses"].as_u64().unwrap(), total),
            )
        })
        .collect()
}

/// Reports by page, device and locale read whole months from the month
/// rollups and the days at a range's edges from the day rollups: over
/// three months of events, every range (inside one month, across one
/// boundary, holding whole months with edges on both sides, open at either
/// end) adds up to the recomputation from the raw events.
async fn page_and_segment_reports_over_months_match_a_recomputation(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let mut rng = Lcg(11);
    let pages = ["/", "/pricing", "/product/1", "/checkout"];
    let devices = ["desktop", "mobile"];
    let locales = ["en", "de", "id"];
    // (page, device, locale, Berlin day, score)
    let mut sent: Vec<(&str, &str, &str, String, i64)> = Vec::new();
    let mut batch = Vec::new();
    for i in 0..600u64 {
        // 2026-09-20 … 2026-11-10 (UTC), any minute.
        let minute = rng.next(51 * 24 * 60) as i64;
        let t = time::macros::datetime!(2026-09-20 00:00 UTC) + time::Duration::minutes(minute);
        let e = Sent {
            id: format!("00000000-0000-4000-8001-{i:012}"),
            kind: "response",
            touchpoint: Some("site-nps"),
            metric: Some("nps"),
            page: pages[rng.next(4) as usize],
            score: Some(rng.next(11) as i64),
            visitor: format!("v{i}"),
            session: "s".into(),
            ts: touchpoint_server::time::format_ts(t),
        };
        let (device, locale) = (devices[rng.next(2) as usize], locales[rng.next(3) as usize]);
        let mut json = e.json();
        json["device"] = json!(device);
        json["locale"] = json!(locale);
        batch.push(json);
        sent.push((e.page, device, locale, e.day(), e.score.unwrap()));
    }
    for chunk in batch.chunks(100) {
        f.post(chunk).await;
    }
    for (from, to) in [
        (None, None),
        (Some("2026-10-03"), Some("2026-10-17")),
        (Some("2026-09-25"), Some("2026-10-09")),
        (Some("2026-09-28"), Some("2026-11-04")),
        (Some("2026-10-01"), Some("2026-11-01")),
        (Some("2026-10-01"), None),
        (None, Some("2026-10-20")),
        (Some("2026-09-30"), None),
    ] {
        let mut query = String::new();
        for (name, value) in [("from", from), ("to", to)] {
            if let Some(v) = value {
                query.push_str(&format!("&{name}={v}"));
            }
        }
        // `to` is the last day counted.
        let counted = |day: &str| from.is_none_or(|f| day >= f) && to.is_none_or(|t| day <= t);
        for (group, pick) in [("page", 0usize), ("device", 1), ("locale", 2)] {
            let mut want: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
            for (page, device, locale, day, score) in &sent {
                if counted(day) {
                    let key = [*page, *device, *locale][pick];
                    let w = want.entry(key).or_default();
                    w.0 += 1;
                    w.1 += *score;
                }
            }
            let agg = f
                .ok(&format!(
                    "/v1/sites/read-shop/aggregates?group_by={group}{query}"
                ))
                .await;
            let got = sums(&agg, group);
            assert_eq!(got, want, "group_by={group}{query}");
        }
        // Filtered by one device or locale, grouped by the other (or not
        // at all): the segment rollups, summed over the same range. Pages
        // by device or locale, and one page's devices: the page rollups,
        // which carry both.
        for (group, pick, filter, keep, value) in [
            ("locale", 2usize, "device", 1usize, "mobile"),
            ("device", 1, "locale", 2, "de"),
            ("touchpoint", 3, "device", 1, "desktop"),
            ("page", 0, "device", 1, "mobile"),
            ("page", 0, "locale", 2, "id"),
            ("device", 1, "page", 0, "/pricing"),
            ("touchpoint", 3, "page", 0, "/checkout"),
        ] {
            let mut want: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
            for (page, device, locale, day, score) in &sent {
                let fields = [*page, *device, *locale, "site-nps"];
                if counted(day) && fields[keep] == value {
                    let w = want.entry(fields[pick]).or_default();
                    w.0 += 1;
                    w.1 += *score;
                }
            }
            let uri =
                format!("/v1/sites/read-shop/aggregates?group_by={group}&{filter}={value}{query}");
            let agg = f.ok(&uri).await;
            let got = sums(&agg, group);
            assert_eq!(got, want, "{uri}");
        }
    }
    // One page on one device in one locale, by day: all three filters at once.
    let mut want: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
    for (page, device, locale, day, score) in &sent {
        if (*page, *device, *locale) == ("/product/1", "mobile", "de") {
            let w = want.entry(day.as_str()).or_default();
            w.0 += 1;
            w.1 += *score;
        }
    }
    assert!(!want.is_empty());
    let uri = "/v1/sites/read-shop/aggregates?group_by=day&page=/product/1&device=mobile&locale=de";
    assert_eq!(sums(&f.ok(uri).await, "day"), want, "{uri}");
    // The CSV of pages by device carries the filter too.
    let (status, csv) = f
        .text("/v1/sites/read-shop/export.csv?group_by=page&device=mobile")
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(csv.lines().count() > 1, "{csv}");
    // A bad name is refused, naming the filter.
    for (uri, code) in [(
        "/v1/sites/read-shop/aggregates?device=mo%20bile",
        "invalid_filter",
    )] {
        let (status, body) = f.get(uri).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{uri}: {body}"
        );
    }
    // Raw responses filter the same way.
    let (status, body) = f
        .text("/v1/sites/read-shop/responses.ndjson?device=mobile&locale=id")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let want = sent
        .iter()
        .filter(|(_, d, l, _, _)| *d == "mobile" && *l == "id")
        .count();
    assert!(want > 0);
    assert_eq!(body.lines().count(), want, "{body}");
}
