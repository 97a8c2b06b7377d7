//! The journey map, trends and aggregates by day and week against the
//! recomputation; report ranges and the queries refused.

use super::*;
use crate::both;

both!(
    journey_trends_and_aggregates_match_a_recomputation,
    report_ranges_are_whole_days_and_other_queries_are_refused_with_the_reason,
);

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
