//! Aggregates and raw responses read back: date ranges, masking, formula
//! neutralising, every export format, filters, emotion flags, paging
//! through every response.

use super::*;
use crate::both;

both!(
    comments_are_masked_and_exports_neutralise_formulas,
    export_csv_has_the_aggregate_columns,
    date_ranges_filter_by_event_time,
    exports_filter_and_come_in_every_format,
    raw_exports_page_through_every_response,
    emotion_flags_are_stored_counted_filtered_and_exported,
    raw_exports_filter_by_value_and_keep_every_character,
);

async fn comments_are_masked_and_exports_neutralise_formulas(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let mut e = response(1, "https://shop.example/pricing?coupon=SECRET", 2);
    e["comment"] = json!("=HYPERLINK(\"x\") write to ann@shop.example or +44 20 7946 0958");
    let (status, body) = f.post(batch(vec![e])).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, csv) = f
        .get("/v1/sites/test-shop/responses.csv", Some(&f.viewer))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,ts,page,stage,touchpoint,metric,score,comment,choices,locale,device,flags"
    );
    let row = lines.next().unwrap();
    assert_eq!(
        row,
        format!(
            "{},2026-11-22T10:00:00.000Z,/pricing,evaluate,site-nps,nps,2,\"'=HYPERLINK(\"\"x\"\") write to [email] or [number]\",,en-GB,desktop,",
            uuid(1)
        )
    );
    assert!(!csv.contains("SECRET") && !csv.contains("ann@"));
}

async fn export_csv_has_the_aggregate_columns(db: Db) {
    let Some(f) = fixture(db).await else { return };
    f.post(batch(vec![
        response(1, "https://shop.example/product/42", 9),
        response(2, "https://shop.example/product/42", 10),
    ]))
    .await;
    let (status, csv) = f
        .get(
            "/v1/sites/test-shop/export.csv?group_by=page,stage",
            Some(&f.viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    // The contract's columns in its order, then the intervals, dismissals,
    // rates and the small-sample flag added since.
    assert_eq!(
        lines[0],
        "page,stage,metric,responses,impressions,response_rate,mean,distribution,nps,nps_moe,promoters,passives,detractors,csat,csat_low,csat_high,ces,ces_easy,thumbs_up,comments,choices,\
         nps_low,nps_high,ces_low,ces_high,thumbs_low,thumbs_high,dismissals,dismiss_rate,frustration_rate,small_sample,\
         flag_frustration,flag_delight,flag_confusion"
    );
    assert_eq!(
        lines[1],
        "/product/42,evaluate,nps,2,0,,9.5,\"{\"\"9\"\":1,\"\"10\"\":1}\",100,0,2,0,0,,,,,,,0,\
         ,100,100,,,,,0,,,true,0,0,0"
    );
    assert_eq!(lines.len(), 2);

    let (status, nd) = f
        .get(
            "/v1/sites/test-shop/export.ndjson?group_by=touchpoint",
            Some(&f.viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let row: Value = serde_json::from_str(nd.lines().next().unwrap()).unwrap();
    assert_eq!(
        (row["touchpoint"].as_str(), row["responses"].as_u64()),
        (Some("site-nps"), Some(2))
    );

    let (status, body) = f
        .get(
            "/v1/sites/test-shop/export.csv?group_by=colour",
            Some(&f.viewer),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("invalid_group_by"));
    let (status, body) = f
        .get(
            "/v1/sites/test-shop/aggregates?from=last+week",
            Some(&f.viewer),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("invalid_range"));
    let (status, _) = f
        .get("/v1/sites/test-shop/export.xml", Some(&f.viewer))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn date_ranges_filter_by_event_time(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let mut old = response(1, "/", 0);
    old["ts"] = json!("2026-09-30T23:59:59+00:00");
    let mut new = response(2, "/", 10);
    new["ts"] = json!("2026-10-01T01:00:00+02:00"); // 2026-09-30T23:00Z: still September in UTC
    let mut newer = response(3, "/", 10);
    newer["ts"] = json!("2026-10-31T23:59:59Z");
    let (status, body) = f.post(batch(vec![old, new, newer])).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        f.aggregates("from=2026-10-01&to=2026-10-31").await["rows"][0]["responses"],
        1
    );
    assert_eq!(
        f.aggregates("to=2026-09-30").await["rows"][0]["responses"],
        2
    );
    let by_day = f.aggregates("group_by=day").await;
    let days: Vec<&str> = by_day["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["day"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2026-09-30", "2026-10-31"]);
}

/// The text of the first sheet of an XLSX file, for assertions on what a
/// spreadsheet would show.
pub fn xlsx_sheet_text(bytes: &[u8]) -> String {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an XLSX file is a zip archive");
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut xml,
    )
    .unwrap();
    xml
}

async fn exports_filter_and_come_in_every_format(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let mut csat = response(3, "https://shop.example/checkout", 5);
    csat["touchpoint"] = json!("checkout-csat");
    csat["metric"] = json!("csat");
    csat["comment"] = json!("Smooth, thanks");
    let events = vec![
        response(1, "https://shop.example/pricing", 9),
        response(2, "https://shop.example/product/7", 4),
        csat,
    ];
    let (status, body) = f.post(batch(events)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let get = |q: &'static str| f.get_bytes(q);
    // Filters narrow aggregates and raw exports alike.
    let (status, body) = f
        .get(
            "/v1/sites/test-shop/aggregates?metric=csat",
            Some(&f.viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(rows["rows"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            rows["rows"][0]["metric"].as_str(),
            rows["rows"][0]["csat"].as_f64()
        ),
        (Some("csat"), Some(100.0))
    );
    let (_, body) = f
        .get(
            "/v1/sites/test-shop/aggregates?stage=evaluate&group_by=page",
            Some(&f.viewer),
        )
        .await;
    let pages: Vec<String> = serde_json::from_str::<Value>(&body).unwrap()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["page"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(pages, ["/pricing", "/product/7"]);
    let (_, csv) = f
        .get(
            "/v1/sites/test-shop/responses.csv?page=https://shop.example/pricing?x=1",
            Some(&f.viewer),
        )
        .await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("/pricing,evaluate,site-nps,nps,9"));
    let (_, csv) = f
        .get(
            "/v1/sites/test-shop/responses.csv?touchpoint=checkout-csat",
            Some(&f.viewer),
        )
        .await;
    assert!(
        csv.contains(",Smooth,") || csv.contains("Smooth, thanks"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 2);
    let (status, body) = f
        .get(
            "/v1/sites/test-shop/export.csv?metric=stars",
            Some(&f.viewer),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("invalid_filter") && body.contains("metric"),
        "{body}"
    );

    // Excel-friendly BOM only when asked.
    let plain = get("/v1/sites/test-shop/export.csv").await;
    assert!(plain.starts_with(b"metric,"));
    let bom = get("/v1/sites/test-shop/export.csv?bom=1").await;
    assert!(bom.starts_with("\u{feff}metric,".as_bytes()));

    // XLSX: a real workbook whose first sheet holds the rows.
    let xlsx = get("/v1/sites/test-shop/responses.xlsx?metric=nps").await;
    let sheet = xlsx_sheet_text(&xlsx);
    assert!(
        sheet.contains("/product/7") && sheet.contains("/pricing"),
        "{sheet}"
    );
    assert!(!sheet.contains("Smooth"), "the metric filter applies");
    let xlsx = get("/v1/sites/test-shop/export.xlsx?group_by=stage").await;
    let sheet = xlsx_sheet_text(&xlsx);
    assert!(
        sheet.contains("<t>unassigned</t>") && sheet.contains("<t>evaluate</t>"),
        "{sheet}"
    );
    assert!(
        sheet.contains("<v>138.59</v>"),
        "numbers stay numbers: {sheet}"
    );

    // NDJSON of responses carries typed values.
    let nd = get("/v1/sites/test-shop/responses.ndjson?stage=unassigned").await;
    let row: Value = serde_json::from_slice(nd.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        (
            row["score"].as_i64(),
            row["comment"].as_str(),
            row["flags"].clone()
        ),
        (Some(5), Some("Smooth, thanks"), json!(["delight"]))
    );
}

/// Paging keeps every response exactly once, in time order, across page
/// boundaries, also where a page ends among many responses of one time.
async fn raw_exports_page_through_every_response(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let n = touchpoint_server::export::PAGE_ROWS as u32 * 2 + 7;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let events = chunk
            .iter()
            .map(|i| {
                // Every other one on a second page, for a filtered export.
                let page =
                    ["https://shop.example/", "https://shop.example/pricing"][*i as usize % 2];
                let mut e = response(*i, page, (*i % 11) as i64);
                // Most share one time; some are later, some earlier.
                match i % 7 {
                    0 => e["ts"] = json!("2026-11-22T11:00:00Z"),
                    1 => e["ts"] = json!(format!("2026-11-22T09:{:02}:00Z", i % 60)),
                    _ => {}
                }
                e
            })
            .collect();
        let (status, body) = f.post(batch(events)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let csv = f.get_bytes("/v1/sites/test-shop/responses.csv").await;
    let csv = String::from_utf8(csv).unwrap();
    let ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids.len(), n as usize);
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), n as usize, "no response twice");
    let times: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
    // Filtered on a column no index holds: the pages are found by reading
    // the rows, and still hold each matching response once, in order.
    let csv = f
        .get_bytes("/v1/sites/test-shop/responses.csv?page=/pricing")
        .await;
    let csv = String::from_utf8(csv).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), n as usize / 2);
    assert!(rows.iter().all(|r| r[2] == "/pricing"));
    let mut ids: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert!(rows.windows(2).all(|w| w[0][1] <= w[1][1]), "in time order");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n as usize / 2, "no response twice");
}

/// A comment's emotion flags are decided at ingest (and when a follow-up
/// fills the comment in), stored, counted in the aggregate rows, exported
/// and filterable; a report that cannot filter by them says so.
async fn emotion_flags_are_stored_counted_filtered_and_exported(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let with_comment = |n: u32, score: i64, comment: &str| {
        let mut e = response(n, "https://shop.example/pricing", score);
        e["comment"] = json!(comment);
        e
    };
    let mut csat = response(4, "https://shop.example/checkout", 2);
    csat["touchpoint"] = json!("checkout-csat");
    csat["metric"] = json!("csat");
    let events = vec![
        with_comment(1, 9, "Love it, works perfectly ❤️"),
        with_comment(2, 3, "This is SO slow!!! 😡"),
        with_comment(3, 7, "where do I find my invoices?"),
        csat.clone(),
    ];
    let (status, body) = f.post(batch(events)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // The low CSAT's follow-up brings its comment: frustrated.
    csat["comment"] = json!("payment failed again, useless");
    let (status, body) = f.post(batch(vec![csat])).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let (status, body) = f
        .get(
            "/v1/sites/test-shop/aggregates?group_by=touchpoint",
            Some(&f.viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows: Value = serde_json::from_str(&body).unwrap();
    let flags = |tp: &str| {
        rows["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["touchpoint"] == tp)
            .map(|r| r["flags"].clone())
            .unwrap_or_else(|| panic!("{tp} in {rows:#}"))
    };
    assert_eq!(
        flags("site-nps"),
        json!({"frustration": 1, "delight": 1, "confusion": 1})
    );
    assert_eq!(
        flags("checkout-csat"),
        json!({"frustration": 1, "delight": 0, "confusion": 0})
    );

    let frustrated = f
        .get_bytes("/v1/sites/test-shop/responses.ndjson?flag=frustration")
        .await;
    let frustrated: Vec<Value> = String::from_utf8(frustrated)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<String> = frustrated
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [uuid(2), uuid(4)]);
    assert_eq!(frustrated[0]["flags"], json!(["frustration"]));
    let csv = f
        .get_bytes("/v1/sites/test-shop/responses.csv?flag=delight")
        .await;
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().ends_with(",delight"), "{csv}");

    for uri in [
        "/v1/sites/test-shop/responses.csv?flag=anger",
        "/v1/sites/test-shop/aggregates?flag=frustration",
    ] {
        let (status, body) = f.get(uri, Some(&f.viewer)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(body.contains("flag"), "{body}");
    }

    // What the ingest and the follow-up counted is what a rebuild counts.
    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    let kept = f.state.store.rollup_snapshot(site.id).await.unwrap();
    f.state.store.rebuild_rollups(site.id).await.unwrap();
    assert_eq!(f.state.store.rollup_snapshot(site.id).await.unwrap(), kept);
}

/// A raw export's filter is a value, never SQL, on both databases (the
/// PostgreSQL read writes it into a `COPY` as a quoted literal); every
/// character a comment can hold comes out as it went in.
async fn raw_exports_filter_by_value_and_keep_every_character(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let mut tricky = response(1, "https://shop.example/pricing", 3);
    tricky["comment"] = json!("tab\there, \"quoted\", back\\slash\nnew line, 'single', é ✓");
    let events = vec![tricky, response(2, "https://shop.example/product/7", 9)];
    let (status, body) = f.post(batch(events)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let rows = |uri: String| {
        let f = &f;
        async move {
            let ndjson = f.get_bytes(&uri).await;
            String::from_utf8(ndjson)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        }
    };
    let all = rows("/v1/sites/test-shop/responses.ndjson".into()).await;
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[0]["comment"],
        "tab\there, \"quoted\", back\\slash\nnew line, 'single', é ✓"
    );
    assert_eq!(all[0]["score"], 3);
    let pricing = rows("/v1/sites/test-shop/responses.ndjson?page=/pricing".into()).await;
    assert_eq!(pricing.len(), 1);
    assert_eq!(pricing[0]["page"], "/pricing");
    for attack in [
        "/pricing' OR '1'='1",
        "/pricing\\' OR 1=1 --",
        "/x'); DROP TABLE events; --",
    ] {
        let uri = format!(
            "/v1/sites/test-shop/responses.ndjson?page={}",
            urlencoding(attack)
        );
        assert!(rows(uri).await.is_empty(), "{attack}");
    }
    assert_eq!(
        rows("/v1/sites/test-shop/responses.ndjson".into())
            .await
            .len(),
        2
    );
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
