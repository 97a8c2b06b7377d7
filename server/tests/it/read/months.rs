//! Reports by page, device and locale over months, read from the month
//! rollups and the edge days, against the recomputation.

use super::*;
use crate::both;

both!(page_and_segment_reports_over_months_match_a_recomputation,);

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
