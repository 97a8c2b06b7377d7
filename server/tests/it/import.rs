//! `touchpoint import`: NDJSON events stored through the ingest's own
//! validation, idempotent by id, invalid lines reported by number, from a
//! file or standard input. Run with `cargo test -p touchpoint-server --test it import`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use clap::Parser;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use touchpoint_server::cli::{Cli, run};
use touchpoint_server::store::Store;
use touchpoint_server::{AppState, app};
use tower::ServiceExt;

use crate::both;
use crate::support::{Db, database};

both!(
    import_then_aggregates_equal_the_same_events_ingested_over_http,
    duplicates_are_counted_and_stored_once,
    an_invalid_line_is_reported_by_number_and_the_rest_stored,
    import_reads_standard_input,
);

const DEMO_SITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/demo/site.toml");

/// Runs the command line in process: what it printed, and how it ended.
async fn touchpoint(args: &[&str]) -> (String, anyhow::Result<()>) {
    let cli = Cli::try_parse_from(std::iter::once("touchpoint").chain(args.iter().copied()))
        .expect("arguments parse");
    let mut out = Vec::new();
    let result = run(cli, &mut out).await;
    (String::from_utf8(out).unwrap(), result)
}

/// Applies the demo site file and returns its key.
async fn apply_demo(db: &str) -> String {
    let (out, result) = touchpoint(&["--database", db, "apply", DEMO_SITE, "--json"]).await;
    result.unwrap();
    serde_json::from_str::<Value>(&out).unwrap()["sites"][0]["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every stored response of site `key`, as `touchpoint export --raw` NDJSON.
async fn raw_responses(url: &str, key: &str) -> String {
    let (raw, result) = touchpoint(&[
        "--database",
        url,
        "export",
        "--site",
        key,
        "--raw",
        "--format",
        "ndjson",
    ])
    .await;
    result.unwrap();
    raw
}

fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn nps(n: u32, score: i64) -> Value {
    json!({
        "id": uuid(n), "kind": "response", "touchpoint": "site-nps", "metric": "nps", "score": score,
        "page": "http://127.0.0.1:8081/cart", "ts": "2026-11-20T10:00:00Z", "visitor": "v-1",
    })
}

fn ndjson(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// A demo-shop mix: every kind, the four demo touchpoints, pages with
/// query strings and fragments, several days, devices and locales, masked
/// comments, picked options, a follow-up's answer resent under its
/// response's id, and one exact resend.
fn mixed_events() -> Vec<Value> {
    let pages = [
        "http://127.0.0.1:8081/",
        "http://127.0.0.1:8081/pricing?plan=pro",
        "http://127.0.0.1:8081/product/7#reviews",
        "http://127.0.0.1:8081/product/9/",
        "http://127.0.0.1:8081/cart",
        "http://127.0.0.1:8081/checkout",
        "http://127.0.0.1:8081/blog/hello",
    ];
    let devices = ["desktop", "mobile", "tablet"];
    let locales = ["en-GB", "id-ID", "ru-RU", "ms-MY"];
    let mut events = Vec::new();
    for n in 0..240u32 {
        let i = n as usize;
        let page = pages[i % pages.len()];
        let ts = format!("2026-11-{:02}T{:02}:{:02}:00Z", 1 + i % 5, i % 24, i % 60);
        let (touchpoint, score, extra) = match i % 4 {
            0 => ("site-nps", json!((i * 7) % 11), json!({})),
            1 => ("home-helpful", json!(i % 2), json!({})),
            2 => ("checkout-ces", json!(1 + (i * 3) % 7), json!({})),
            _ => {
                let picked = [["price"].as_slice(), &["speed", "returns"], &["returns"]];
                (
                    "cart-matters",
                    Value::Null,
                    json!({ "choices": picked[i % 3] }),
                )
            }
        };
        let mut e = json!({
            "id": uuid(n), "touchpoint": touchpoint, "page": page, "ts": ts,
            "visitor": format!("v-{}", i % 17), "session": format!("s-{}", i % 31),
            "device": devices[i % 3], "locale": locales[i % 4],
        });
        match i % 10 {
            0..=3 => e["kind"] = json!("impression"),
            9 => e["kind"] = json!("dismiss"),
            _ => {
                e["kind"] = json!("response");
                if !score.is_null() {
                    e["score"] = score.clone();
                }
                for (k, v) in extra.as_object().unwrap() {
                    e[k] = v.clone();
                }
                if touchpoint == "site-nps" && i.is_multiple_of(3) {
                    e["comment"] = json!(format!("Slow page, mail me at ann{i}@example.com"));
                }
            }
        }
        events.push(e);
    }
    for n in 0..6 {
        events.push(json!({
            "id": uuid(1000 + n), "kind": "signal", "signal": "rage_click",
            "page": pages[n as usize], "ts": "2026-11-03T12:00:00Z",
        }));
    }
    // A detractor answers the follow-up: the same response again, with a comment.
    let detractor = nps(2000, 3);
    let mut answered = detractor.clone();
    answered["comment"] = json!("Delivery took three weeks");
    events.push(detractor);
    events.push(answered);
    // A plain resend.
    events.push(events[5].clone());
    events
}

async fn import_then_aggregates_equal_the_same_events_ingested_over_http(db: Db) {
    let (Some(over_http), Some(imported)) = (database(db).await, database(db).await) else {
        return;
    };
    let events = mixed_events();
    let unique = events.len() as u64 - 2;

    // Over HTTP, in batches as the widget would send them.
    let key = apply_demo(&over_http.url).await;
    let state = AppState::new(Store::open(&over_http.url).await.unwrap());
    let (mut accepted, mut duplicates) = (0, 0);
    for batch in events.chunks(50) {
        let req = Request::post("/v1/events")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(
                json!({ "site": key, "events": batch }).to_string(),
            ))
            .unwrap();
        let res = app(state.clone()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        accepted += body["accepted"].as_u64().unwrap();
        duplicates += body["duplicates"].as_u64().unwrap();
    }
    assert_eq!((accepted, duplicates), (unique, 2));

    // The same events as one NDJSON file.
    let key_imported = apply_demo(&imported.url).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, ndjson(&events)).unwrap();
    let (out, result) = touchpoint(&[
        "--database",
        &imported.url,
        "import",
        "--site",
        &key_imported,
        file.to_str().unwrap(),
        "--json",
    ])
    .await;
    result.unwrap();
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report,
        json!({"accepted": unique, "duplicates": 2, "rejected": 0, "valid": events.len(), "errors": []})
    );

    let export = |url: String, key: String, group_by: &'static str, raw: bool| async move {
        let mut args = vec![
            "--database",
            &url,
            "export",
            "--site",
            &key,
            "--format",
            "ndjson",
        ];
        if raw {
            args.push("--raw");
        } else {
            args.extend(["--group-by", group_by]);
        }
        let (out, result) = touchpoint(&args).await;
        result.unwrap();
        out
    };
    for group_by in [
        "",
        "page",
        "stage",
        "touchpoint",
        "day",
        "device",
        "locale",
        "page,stage,touchpoint",
    ] {
        let expected = export(over_http.url.clone(), key.clone(), group_by, false).await;
        let got = export(imported.url.clone(), key_imported.clone(), group_by, false).await;
        assert!(
            expected.lines().count() >= 4,
            "group_by={group_by}: {expected}"
        );
        assert_eq!(got, expected, "group_by={group_by}");
    }
    let expected = export(over_http.url.clone(), key.clone(), "", true).await;
    let got = export(imported.url.clone(), key_imported.clone(), "", true).await;
    assert_eq!(got, expected);
    // The follow-up's answer filled in the detractor's comment; e-mails are masked.
    assert!(got.contains("Delivery took three weeks"), "{got}");
    assert!(got.contains("Slow page") && !got.contains("@example.com"));
}

async fn duplicates_are_counted_and_stored_once(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let url = test_db.url.clone();
    let key = apply_demo(&url).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.ndjson");
    // Id 2 twice in the file; ids 1 and 2 stored again by a second import.
    std::fs::write(&file, ndjson(&[nps(1, 9), nps(2, 3), nps(2, 10)])).unwrap();
    let import = || {
        let (url, key, file) = (url.clone(), key.clone(), file.clone());
        async move {
            let (out, result) = touchpoint(&[
                "--database",
                &url,
                "--json",
                "import",
                "--site",
                &key,
                file.to_str().unwrap(),
            ])
            .await;
            result.unwrap();
            serde_json::from_str::<Value>(&out).unwrap()
        }
    };
    let first = import().await;
    assert_eq!(
        (&first["accepted"], &first["duplicates"], &first["rejected"]),
        (&json!(2), &json!(1), &json!(0))
    );
    let second = import().await;
    assert_eq!(
        (&second["accepted"], &second["duplicates"]),
        (&json!(0), &json!(3))
    );
    let raw = raw_responses(&url, &key).await;
    let scores: Vec<i64> = raw
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["score"]
                .as_i64()
                .unwrap()
        })
        .collect();
    // In id order; first answer wins: id 2 keeps its 3.
    assert_eq!(scores, [9, 3]);
}

async fn an_invalid_line_is_reported_by_number_and_the_rest_stored(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let url = test_db.url.clone();
    let key = apply_demo(&url).await;

    // What the ingest answers for the faulty event.
    let state = AppState::new(Store::open(&url).await.unwrap());
    let req = Request::post("/v1/events")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(
            json!({ "site": key, "events": [nps(3, 11)] }).to_string(),
        ))
        .unwrap();
    let res = app(state).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_slice(
        &axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap();
    let ingest_message = body["error"]["message"].as_str().unwrap();
    let ingest_message = ingest_message.strip_prefix("events[0].").unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.ndjson");
    let text = format!(
        "{}\n{}\n{}\n\n{{\"id\": \"{}\", \"kind\": \"respond\"}}\n{}\n",
        nps(1, 9),
        nps(2, 0),
        nps(3, 11),
        uuid(4),
        nps(5, 10)
    );
    std::fs::write(&file, &text).unwrap();
    let args = [
        "--database",
        &url,
        "import",
        "--site",
        &key,
        file.to_str().unwrap(),
        "--json",
    ];

    // A dry run checks everything and stores nothing.
    let (out, result) = touchpoint(&[&args[..], &["--dry-run"]].concat()).await;
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&report["valid"], &report["rejected"], &report["accepted"]),
        (&json!(3), &json!(2), &json!(0))
    );
    assert!(
        format!("{:#}", result.unwrap_err()).contains("nothing was stored"),
        "{report}"
    );

    let (out, result) = touchpoint(&args).await;
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            &report["accepted"],
            &report["duplicates"],
            &report["rejected"]
        ),
        (&json!(3), &json!(0), &json!(2)),
        "{report}"
    );
    assert_eq!(
        report["errors"][0],
        json!({"line": 3, "message": ingest_message})
    );
    assert_eq!(report["errors"][1]["line"], 5);
    let second = report["errors"][1]["message"].as_str().unwrap();
    assert!(
        second.starts_with("kind: unknown variant `respond`"),
        "{second}"
    );
    let err = format!("{:#}", result.unwrap_err());
    assert!(err.contains("2 invalid line(s) rejected"), "{err}");

    let raw = raw_responses(&url, &key).await;
    assert_eq!(raw.lines().count(), 3, "{raw}");
}

async fn import_reads_standard_input(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let url = test_db.url.clone();
    let key = apply_demo(&url).await;
    let reports = tokio::task::spawn_blocking(move || {
        // `-` and no file both mean standard input.
        [vec!["-"], vec![]].map(|file| {
            let mut child = Command::new(env!("CARGO_BIN_EXE_touchpoint"))
                .args(["--database", &url, "--json", "import", "--site", &key])
                .args(file)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let events: Vec<Value> = (1..=1200).map(|n| nps(n, i64::from(n % 11))).collect();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(ndjson(&events).as_bytes()).unwrap();
            drop(stdin);
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{out:?}");
            serde_json::from_slice::<Value>(&out.stdout).unwrap()
        })
    })
    .await
    .unwrap();
    assert_eq!(
        (&reports[0]["accepted"], &reports[0]["duplicates"]),
        (&json!(1200), &json!(0))
    );
    assert_eq!(
        (&reports[1]["accepted"], &reports[1]["duplicates"]),
        (&json!(0), &json!(1200))
    );
}
