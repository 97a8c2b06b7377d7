//! The HTTP API through `app()` on a real database: ingest (happy path,
//! every validation rule, duplicates, limits, origins), config, aggregates,
//! exports and auth. Run with `cargo test -p touchpoint-server`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use touchpoint_server::auth::{hash_token, new_token};
use touchpoint_server::limits::RateLimits;
use touchpoint_server::site_file;
use touchpoint_server::store::{Backend, Role, Store};
use touchpoint_server::{AppState, Settings, app};
use tower::ServiceExt;

use crate::both;
use crate::support::{Db, TestDb, database};

pub const SITE: &str = r#"
[site]
name = "Test shop"
key = "test-shop"
origins = ["https://shop.example"]

[[stage]]
id = "discover"
label = "Discover"
pages = ["/"]

[[stage]]
id = "evaluate"
label = "Evaluate"
pages = ["/pricing", "/product/*"]

[[touchpoint]]
id = "site-nps"
metric = "nps"
question = { en = "How likely?" }
pages = ["/**"]

[[touchpoint]]
id = "checkout-csat"
metric = "csat"
question = { en = "Satisfied?" }
follow_up = { question = { en = "What went wrong?" }, max = 3, options = [
  { id = "price", label = { en = "Price" } },
  { id = "speed", label = { en = "Speed" } },
], multiple = true }

[[touchpoint]]
id = "idea"
metric = "text"
question = { en = "What should we build next?" }

[[touchpoint]]
id = "found-us"
metric = "choice"
question = { en = "How did you find us?" }
options = [
  { id = "search", label = { en = "Search" } },
  { id = "friend", label = { en = "A friend" } },
  { id = "ad", label = { en = "An ad" } },
]
"#;

both!(
    emotion_flags_are_stored_counted_filtered_and_exported,
    raw_exports_filter_by_value_and_keep_every_character,
    responses_are_stored_once_and_aggregated_per_page_and_stage,
    each_invalid_field_is_named_and_nothing_is_stored,
    batch_level_errors,
    comments_are_masked_and_exports_neutralise_formulas,
    export_csv_has_the_aggregate_columns,
    date_ranges_filter_by_event_time,
    private_routes_need_a_token_for_that_site,
    config_is_public_cacheable_and_revalidated,
    health_loader_and_unknown_routes,
    rate_limits_answer_429_with_retry_after,
    concurrent_posts_are_each_committed_once,
    visitors_can_be_exported_and_erased_by_an_admin,
    retention_purges_old_events,
    revoked_tokens_stop_working,
    exports_filter_and_come_in_every_format,
    raw_exports_page_through_every_response,
    the_openapi_document_matches_the_routes,
    readiness_and_metrics,
    editors_change_the_site_through_the_api,
    dashboard_users_sign_in_with_a_session_cookie,
    text_choice_and_follow_up_answers_are_checked_and_counted,
);

/// The operator's token for `/metrics` in these tests.
pub const METRICS_TOKEN: &str = "metrics-secret-for-tests";

pub struct Fixture {
    pub _db: TestDb,
    pub state: AppState,
    pub viewer: String,
}

pub async fn fixture(db: Db) -> Option<Fixture> {
    let test_db = database(db).await?;
    let store = Store::open(&test_db.url).await.unwrap();
    let expected = match db {
        Db::Sqlite => Backend::Sqlite,
        Db::Postgres => Backend::Postgres,
    };
    assert_eq!(store.backend(), expected);
    let (key, _) = store
        .apply_site(&site_file::parse(SITE).unwrap(), || unreachable!())
        .await
        .unwrap();
    assert_eq!(key, "test-shop");
    let site = store.site_by_key("test-shop").await.unwrap().unwrap();
    let viewer = new_token();
    store
        .add_token(site.id, Role::Viewer, &hash_token(&viewer))
        .await
        .unwrap();
    let settings = Settings {
        metrics_token: Some(METRICS_TOKEN.into()),
        ..Settings::default()
    };
    Some(Fixture {
        _db: test_db,
        state: AppState::with_settings(store, settings),
        viewer,
    })
}

impl Fixture {
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    pub async fn post(&self, body: impl Into<String>) -> (StatusCode, Value) {
        let req = Request::post("/v1/events")
            .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
            .header(header::ORIGIN, "https://shop.example")
            .body(Body::from(body.into()))
            .unwrap();
        let (status, _, body) = self.send(req).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> (StatusCode, String) {
        let mut req = Request::get(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let (status, _, body) = self.send(req.body(Body::empty()).unwrap()).await;
        (status, body)
    }

    async fn get_bytes(&self, uri: &str) -> Vec<u8> {
        let req = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.viewer))
            .body(Body::empty())
            .unwrap();
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    async fn aggregates(&self, query: &str) -> Value {
        let (status, body) = self
            .get(
                &format!("/v1/sites/test-shop/aggregates?{query}"),
                Some(&self.viewer),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str(&body).unwrap()
    }
}

pub fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

pub fn response(n: u32, page: &str, score: i64) -> Value {
    json!({
        "id": uuid(n), "kind": "response", "touchpoint": "site-nps", "metric": "nps", "score": score,
        "page": page, "ts": "2026-11-22T10:00:00Z", "visitor": "v1", "session": "s1", "locale": "en-GB", "device": "desktop"
    })
}

pub fn batch(events: Vec<Value>) -> String {
    json!({ "site": "test-shop", "events": events }).to_string()
}

async fn responses_are_stored_once_and_aggregated_per_page_and_stage(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let impression = json!({"id": uuid(100), "kind": "impression", "touchpoint": "site-nps", "page": "https://shop.example/product/42?ref=mail", "ts": "2026-11-22T09:59:00Z"});
    let events = vec![
        impression,
        response(1, "https://shop.example/product/42?ref=mail#reviews", 9),
        response(2, "https://shop.example/product/42/", 3),
        response(3, "https://shop.example/pricing", 10),
    ];
    let (status, body) = f.post(batch(events.clone())).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({"accepted": 4, "duplicates": 0}));

    // A retry of the same batch stores nothing new.
    let (status, body) = f.post(batch(events)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body, json!({"accepted": 0, "duplicates": 4}));

    let agg = f.aggregates("group_by=page,stage").await;
    assert_eq!(agg["group_by"], json!(["page", "stage"]));
    let rows = agg["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{agg}");
    let pricing = &rows[0];
    assert_eq!(
        (pricing["page"].as_str(), pricing["stage"].as_str()),
        (Some("/pricing"), Some("evaluate"))
    );
    assert_eq!(pricing["nps"], json!(100.0));
    let product = &rows[1];
    assert_eq!(product["page"], "/product/42");
    assert_eq!(product["stage"], "evaluate");
    assert_eq!(product["metric"], "nps");
    assert_eq!(product["responses"], 2);
    assert_eq!(product["impressions"], 1);
    assert_eq!(product["promoters"], 1);
    assert_eq!(product["detractors"], 1);
    assert_eq!(product["nps"], json!(0.0));
    // p = d = .5: MoE = 196 * sqrt(1 / 2) = 138.59
    assert_eq!(product["nps_moe"], json!(138.59));
    assert_eq!(product["distribution"], json!({"3": 1, "9": 1}));

    let all = f.aggregates("").await;
    assert_eq!(all["rows"][0]["responses"], 3);
    assert!(all["rows"][0].get("page").is_none());
}

async fn each_invalid_field_is_named_and_nothing_is_stored(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let good = response(1, "https://shop.example/", 9);
    let with = |key: &str, value: Value| {
        let mut e = good.clone();
        e[key] = value;
        e
    };
    let without = |key: &str| {
        let mut e = good.clone();
        e.as_object_mut().unwrap().remove(key);
        e
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with("id", json!("not-a-uuid")),
            "invalid_event",
            "events[1].id",
        ),
        (
            with("kind", json!("answer")),
            "invalid_json",
            "events[1].kind: unknown variant `answer`",
        ),
        (
            with("touchpoint", json!("nope")),
            "invalid_event",
            "events[1].touchpoint: \"nope\" is not a touchpoint",
        ),
        (
            without("touchpoint"),
            "invalid_event",
            "events[1].touchpoint: required",
        ),
        (
            with("metric", json!("csat")),
            "invalid_event",
            "events[1].metric: csat does not match",
        ),
        (
            with("score", json!(11)),
            "invalid_event",
            "events[1].score: 11 is outside the nps scale 0–10",
        ),
        (
            with("score", json!(-1)),
            "invalid_event",
            "outside the nps scale",
        ),
        (with("score", json!(8.5)), "invalid_json", "events[1].score"),
        (
            without("score"),
            "invalid_event",
            "events[1].score: required",
        ),
        (
            with("page", json!("not a url")),
            "invalid_event",
            "events[1].page",
        ),
        (
            with("ts", json!("yesterday")),
            "invalid_event",
            "events[1].ts",
        ),
        (
            with("ts", json!("2999-01-01T00:00:00Z")),
            "invalid_event",
            "in the future",
        ),
        (
            with("comment", json!("x".repeat(2001))),
            "invalid_event",
            "events[1].comment: longer than 2000",
        ),
        (
            with("visitor", json!("has spaces")),
            "invalid_event",
            "events[1].visitor",
        ),
        (
            with("signal", json!("rage_click")),
            "invalid_event",
            "events[1].signal: only kind signal",
        ),
        (
            with("email", json!("a@b.c")),
            "invalid_json",
            "unknown field `email`",
        ),
    ];
    for (bad, code, fragment) in cases {
        let (status, body) = f
            .post(batch(vec![
                response(99, "https://shop.example/", 9),
                bad.clone(),
            ]))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
        assert_eq!(body["error"]["code"], code, "{bad} → {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(fragment),
            "{bad}: expected {fragment:?} in {message:?}"
        );
    }
    // All-or-nothing: the valid event in each refused batch was not stored.
    assert_eq!(f.aggregates("").await["rows"], json!([]));

    let impression_with_score = json!({"id": uuid(5), "kind": "impression", "touchpoint": "site-nps", "page": "/", "ts": "2026-11-22T10:00:00Z", "score": 3});
    let (status, body) = f.post(batch(vec![impression_with_score])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("events[0].score: only a response"),
        "{body}"
    );
    let signal =
        json!({"id": uuid(6), "kind": "signal", "page": "/", "ts": "2026-11-22T10:00:00Z"});
    let (_, body) = f.post(batch(vec![signal])).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("events[0].signal: required"),
        "{body}"
    );
}

async fn batch_level_errors(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let (status, body) = f.post("{not json").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json"))
    );

    let (status, body) = f
        .post(json!({"site": "test-shop", "events": []}).to_string())
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("empty_batch"))
    );

    let (status, body) = f
        .post(json!({"site": "nobody", "events": [response(1, "/", 9)]}).to_string())
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_site"))
    );

    let many: Vec<Value> = (0..501).map(|i| response(i, "/", 9)).collect();
    let (status, body) = f.post(batch(many)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 500")
    );

    let (status, body) = f
        .post(format!(
            "{{\"site\":\"test-shop\",\"events\":[],\"pad\":\"{}\"}}",
            "x".repeat(1024 * 1024)
        ))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
    );

    let req = Request::post("/v1/events")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(batch(vec![response(1, "/", 9)])))
        .unwrap();
    let (status, _, body) = f.send(req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");

    let req = Request::post("/v1/events")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(batch(vec![response(1, "/", 9)])))
        .unwrap();
    let (status, headers, body) = f.send(req).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("origin_not_allowed"));
    // The browser may still read why.
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://evil.example"
    );

    // Server-to-server (no Origin) is not a browser and is allowed.
    let req = Request::post("/v1/events")
        .body(Body::from(batch(vec![response(1, "/", 9)])))
        .unwrap();
    let (status, _, body) = f.send(req).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

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

async fn private_routes_need_a_token_for_that_site(db: Db) {
    let Some(f) = fixture(db).await else { return };
    for path in ["aggregates", "export.csv", "responses.csv"] {
        let uri = format!("/v1/sites/test-shop/{path}");
        let (status, body) = f.get(&uri, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        let (status, _) = f.get(&uri, Some("tpk_wrong")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        let (status, _) = f.get(&uri, Some(&f.viewer)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    // A token of another site does not open this one.
    let other = site_file::parse("[site]\nname = \"Other\"").unwrap();
    let (other_key, _) = f
        .state
        .store
        .apply_site(&other, || "other-site".into())
        .await
        .unwrap();
    let (status, body) = f
        .get(
            &format!("/v1/sites/{other_key}/aggregates"),
            Some(&f.viewer),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = f.get("/v1/sites/nobody/aggregates", Some(&f.viewer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn config_is_public_cacheable_and_revalidated(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let req = Request::get("/v1/sites/test-shop/config")
        .header(header::ORIGIN, "https://anywhere.example")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = f.send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    let config: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(config["site"], "test-shop");
    assert_eq!(
        config["stages"][1]["pages"],
        json!(["/pricing", "/product/*"])
    );
    assert_eq!(config["touchpoints"][0]["id"], "site-nps");
    assert_eq!(
        config["touchpoints"][0]["trigger"],
        json!({"on": "load", "delay_ms": 0})
    );
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let req = Request::get("/v1/sites/test-shop/config")
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = f.send(req).await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_MODIFIED, ""));
    let (status, _) = f.get("/v1/sites/nobody/config", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn health_loader_and_unknown_routes(db: Db) {
    let Some(f) = fixture(db).await else { return };
    assert_eq!(f.get("/healthz", None).await, (StatusCode::OK, "ok".into()));
    let req = Request::get("/t.js").body(Body::empty()).unwrap();
    let (status, headers, body) = f.send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(body.contains("/v1/sites/"), "the loader fetches the config");
    let (status, body) = f.get("/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("\"code\":\"not_found\""));
    let (status, _) = f.get("/widget/nope.js", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn rate_limits_answer_429_with_retry_after(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let store = Store::open(&test_db.url).await.unwrap();
    store
        .apply_site(&site_file::parse(SITE).unwrap(), || unreachable!())
        .await
        .unwrap();
    let settings = Settings {
        rate_limits: RateLimits {
            per_client: 4,
            per_site: 0,
        },
        ..Settings::default()
    };
    let state = AppState::with_settings(store, settings);
    // A real socket, so the server sees the client's address.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(touchpoint_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let post = move |n: u32| {
        let body = batch(vec![response(n, "https://shop.example/", 9)]);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut res = agent
            .post(format!("http://{addr}/v1/events"))
            .header("content-type", "text/plain")
            .send(body)
            .unwrap();
        let retry = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            res.status().as_u16(),
            retry,
            res.body_mut().read_to_string().unwrap(),
        )
    };
    let results = tokio::task::spawn_blocking(move || (1..=3).map(post).collect::<Vec<_>>())
        .await
        .unwrap();
    // A bucket holds half a minute's allowance: two posts pass, the third waits.
    assert_eq!(results[0].0, 202, "{results:?}");
    assert_eq!(results[1].0, 202, "{results:?}");
    let (status, retry, body) = &results[2];
    assert_eq!(*status, 429, "{body}");
    assert!(body.contains("\"rate_limited\""), "{body}");
    let retry: u64 = retry.as_deref().unwrap().parse().unwrap();
    assert!((1..=15).contains(&retry), "Retry-After: {retry}");
}

/// Many requests at once go through the group commit; each gets its own
/// counts and every event is stored exactly once.
async fn concurrent_posts_are_each_committed_once(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let mut tasks = Vec::new();
    for i in 0..40u32 {
        let f_state = f.state.clone();
        tasks.push(tokio::spawn(async move {
            // Every request repeats the event of the one before it.
            let events = vec![
                response(i, "https://shop.example/", 9),
                response(i + 1, "https://shop.example/", 9),
            ];
            let req = Request::post("/v1/events")
                .body(Body::from(batch(events)))
                .unwrap();
            let res = app(f_state).oneshot(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::ACCEPTED);
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            serde_json::from_slice::<Value>(&body).unwrap()
        }));
    }
    let mut accepted = 0;
    let mut duplicates = 0;
    for t in tasks {
        let v = t.await.unwrap();
        accepted += v["accepted"].as_u64().unwrap();
        duplicates += v["duplicates"].as_u64().unwrap();
    }
    assert_eq!((accepted, duplicates), (41, 39));
    assert_eq!(f.aggregates("").await["rows"][0]["responses"], 41);
}

async fn visitors_can_be_exported_and_erased_by_an_admin(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let mut mine = response(1, "https://shop.example/pricing", 10);
    mine["visitor"] = json!("visitor-a");
    mine["gpc"] = json!(true);
    mine["consent"] = json!(false);
    let mut theirs = response(2, "https://shop.example/pricing", 2);
    theirs["visitor"] = json!("visitor-b");
    let (status, body) = f.post(batch(vec![mine, theirs])).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    let admin = new_token();
    f.state
        .store
        .add_token(site.id, Role::Admin, &hash_token(&admin))
        .await
        .unwrap();

    // A viewer may read aggregates, not a person's data.
    let (status, body) = f
        .get("/v1/sites/test-shop/visitors/visitor-a", Some(&f.viewer))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("insufficient_role"));

    let (status, body) = f
        .get("/v1/sites/test-shop/visitors/visitor-a", Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    let events: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["id"], uuid(1));
    assert_eq!(events[0]["score"], 10);
    assert_eq!(
        (events[0]["gpc"].as_bool(), events[0]["consent"].as_bool()),
        (Some(true), Some(false))
    );

    let req = Request::delete("/v1/sites/test-shop/visitors/visitor-a")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = f.send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"deleted": 1})
    );
    let (_, body) = f
        .get("/v1/sites/test-shop/visitors/visitor-a", Some(&admin))
        .await;
    assert_eq!(body, "");
    // The other visitor's answer is untouched.
    assert_eq!(f.aggregates("").await["rows"][0]["responses"], 1);
}

async fn retention_purges_old_events(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let now = time::OffsetDateTime::now_utc();
    let at = |days: i64| touchpoint_server::time::format_ts(now - time::Duration::days(days));
    let mut old = response(1, "/", 9);
    old["ts"] = json!(at(400));
    let mut recent = response(2, "/", 9);
    recent["ts"] = json!(at(300));
    // An event already past the retention is refused at the door...
    let (status, body) = f.post(batch(vec![old.clone()])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("events[0].ts: ")
            && body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("older than the site keeps events"),
        "{body}"
    );
    let (status, body) = f.post(batch(vec![recent.clone()])).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    // ...and one stored before it aged past it is purged.
    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    let aged = touchpoint_server::validate::validate(
        &serde_json::from_value(old).unwrap(),
        &site.config,
        touchpoint_server::validate::Window::new(3650, now),
    )
    .unwrap();
    f.state.store.insert_events(site.id, &[aged]).await.unwrap();
    // The test site keeps the default 365 days.
    assert_eq!(f.state.store.purge_expired(now).await.unwrap(), 1);
    assert_eq!(f.state.store.purge_expired(now).await.unwrap(), 0);
    let (_, csv) = f
        .get("/v1/sites/test-shop/responses.csv", Some(&f.viewer))
        .await;
    assert!(csv.contains(&uuid(2)) && !csv.contains(&uuid(1)), "{csv}");

    // A shorter retention applies from the next purge.
    let shorter = SITE.replace(
        "key = \"test-shop\"",
        "key = \"test-shop\"\nretention_days = 30",
    );
    let (_, changed) = f
        .state
        .store
        .apply_site(&site_file::parse(&shorter).unwrap(), || unreachable!())
        .await
        .unwrap();
    assert!(changed);
    assert_eq!(f.state.store.purge_expired(now).await.unwrap(), 1);
}

async fn revoked_tokens_stop_working(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let (status, _) = f
        .get("/v1/sites/test-shop/aggregates", Some(&f.viewer))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        f.state
            .store
            .revoke_token(None, Some(&hash_token(&f.viewer)))
            .await
            .unwrap()
    );
    let (status, body) = f
        .get("/v1/sites/test-shop/aggregates", Some(&f.viewer))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        !f.state
            .store
            .revoke_token(None, Some(&hash_token(&f.viewer)))
            .await
            .unwrap()
    );
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

/// Every operation in `/openapi.json` exists on the real router, and the
/// operations the document lists are the ones the server answers.
async fn the_openapi_document_matches_the_routes(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let (status, body) = f.get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{}", paths.len());
    for (path, ops) in paths {
        let uri = path
            .replace("{key}", "test-shop")
            .replace("{file}", "missing.js")
            .replace("{visitor}", "v1");
        for method in ops.as_object().unwrap().keys() {
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header(header::AUTHORIZATION, format!("Bearer {}", f.viewer))
                .body(Body::empty())
                .unwrap();
            let (status, _, body) = f.send(req).await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !body.contains("no such route"),
                "{method} {path} is documented but not routed"
            );
            let documented: Vec<&String> = ops[method]["responses"]
                .as_object()
                .unwrap()
                .keys()
                .collect();
            assert!(
                documented.iter().any(|c| *c == status.as_str()),
                "{method} {path} answered {status}, documented {documented:?}"
            );
        }
    }
}

async fn readiness_and_metrics(db: Db) {
    let Some(f) = fixture(db).await else { return };
    assert_eq!(
        f.get("/readyz", None).await,
        (StatusCode::OK, "ready".into())
    );
    f.post(batch(vec![response(1, "/", 9), response(1, "/", 9)]))
        .await;
    f.post("{").await;
    // The metrics are the operator's: a site's token does not open them.
    assert_eq!(f.get("/metrics", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        f.get("/metrics", Some(&f.viewer)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, text) = f.get("/metrics", Some(METRICS_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("touchpoint_events_accepted_total 1\n"),
        "{text}"
    );
    assert!(
        text.contains("touchpoint_events_duplicate_total 1\n"),
        "{text}"
    );
    assert!(
        text.contains("touchpoint_ingest_refused_total{reason=\"invalid_json\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("route=\"/v1/events\",method=\"POST\",status=\"202\""),
        "{text}"
    );
    assert!(
        text.contains("touchpoint_db_connections{state=\"idle\"}"),
        "{text}"
    );
    // Labels are route templates: no site key, page or visitor leaks into metrics.
    f.get(
        "/v1/sites/test-shop/visitors/secret-visitor",
        Some(&f.viewer),
    )
    .await;
    let (_, text) = f.get("/metrics", Some(METRICS_TOKEN)).await;
    assert!(
        text.contains("route=\"/v1/sites/{key}/visitors/{visitor}\""),
        "{text}"
    );
    assert!(
        !text.contains("secret-visitor") && !text.contains("test-shop"),
        "{text}"
    );

    // Not ready once the database is gone.
    f.state.store.close().await;
    let (status, body) = f.get("/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}

async fn editors_change_the_site_through_the_api(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    let editor = new_token();
    f.state
        .store
        .add_token(site.id, Role::Editor, &hash_token(&editor))
        .await
        .unwrap();
    let put = |token: String, content_type: &'static str, body: String| {
        let f_state = f.state.clone();
        async move {
            let req = Request::put("/v1/sites/test-shop/site")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap();
            let res = app(f_state).oneshot(req).await.unwrap();
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, serde_json::from_slice::<Value>(&body).unwrap())
        }
    };

    let (status, body) = f.get("/v1/sites/test-shop/site", Some(&f.viewer)).await;
    assert_eq!(status, StatusCode::OK);
    let mut file: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(file["site"]["origins"], json!(["https://shop.example"]));
    assert_eq!(file["stage"][1]["id"], "evaluate");

    // A viewer cannot write.
    let (status, body) = put(f.viewer.clone(), "application/json", file.to_string()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // An editor adds an origin; the widget config follows.
    file["site"]["origins"] = json!(["https://shop.example", "https://www.shop.example"]);
    let (status, body) = put(editor.clone(), "application/json", file.to_string()).await;
    assert_eq!(
        (status, body.clone()),
        (StatusCode::OK, json!({"key": "test-shop", "changed": true}))
    );
    let (status, body) = put(editor.clone(), "application/json", file.to_string()).await;
    assert_eq!(
        (status, body["changed"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let req = Request::post("/v1/events")
        .header(header::ORIGIN, "https://www.shop.example")
        .body(Body::from(batch(vec![response(1, "/", 9)])))
        .unwrap();
    assert_eq!(f.send(req).await.0, StatusCode::ACCEPTED);

    // The same validation as `touchpoint apply`, field named.
    file["touchpoint"][0]["sample"] = json!(1.5);
    let (status, body) = put(editor.clone(), "application/json", file.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("touchpoint[0].sample"),
        "{body}"
    );
    let (status, body) = put(
        editor.clone(),
        "application/json",
        "{\"site\":{\"name\":\"x\",\"colour\":1}}".into(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{body}"
    );
    let other_key = SITE.replace("key = \"test-shop\"", "key = \"someone-else\"");
    let (status, body) = put(editor.clone(), "application/toml", other_key).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("keys cannot change"),
        "{body}"
    );

    // TOML works too: the same text `touchpoint apply` takes.
    let renamed = SITE.replace("name = \"Test shop\"", "name = \"Test shop (renamed)\"");
    let (status, body) = put(editor, "application/toml", renamed).await;
    assert_eq!(
        (status, body["changed"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{body}"
    );
    assert_eq!(
        f.state
            .store
            .site_by_key("test-shop")
            .await
            .unwrap()
            .unwrap()
            .name,
        "Test shop (renamed)"
    );
}

async fn dashboard_users_sign_in_with_a_session_cookie(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    let hash = touchpoint_server::auth::hash_password("correct horse battery");
    f.state
        .store
        .upsert_user("ann@shop.example", Some(&hash), site.id, Role::Editor)
        .await
        .unwrap();
    let other = site_file::parse("[site]\nname = \"Other\"\nkey = \"other-site\"").unwrap();
    f.state
        .store
        .apply_site(&other, || unreachable!())
        .await
        .unwrap();

    let login = |email: &str, password: &str, https: bool| {
        let mut req = Request::post("/v1/session").header(header::CONTENT_TYPE, "application/json");
        if https {
            req = req.header(header::ORIGIN, "https://feedback.example");
        }
        req.body(Body::from(
            json!({ "email": email, "password": password }).to_string(),
        ))
        .unwrap()
    };
    let (status, _, body) = f
        .send(login("ann@shop.example", "wrong password", false))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _, unknown) = f
        .send(login("bob@shop.example", "correct horse battery", false))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown, body,
        "an unknown e-mail and a wrong password look the same"
    );

    let (status, headers, body) = f
        .send(login("  Ann@Shop.example ", "correct horse battery", false))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let set_cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
    let session: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        session["sites"],
        json!([{ "key": "test-shop", "name": "Test shop", "role": "editor" }])
    );
    let csrf = session["csrf"].as_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let (_, headers, _) = f
        .send(login("ann@shop.example", "correct horse battery", true))
        .await;
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );

    let with_cookie = |method: &str, uri: &str, csrf: Option<&str>, body: String| {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, &cookie);
        if let Some(token) = csrf {
            req = req.header("x-csrf-token", token);
        }
        req.body(Body::from(body)).unwrap()
    };
    let (status, _, _) = f
        .send(with_cookie(
            "GET",
            "/v1/sites/test-shop/aggregates",
            None,
            String::new(),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = f
        .send(with_cookie(
            "GET",
            "/v1/sites/other-site/aggregates",
            None,
            String::new(),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no membership, no access");
    let (status, _, body) = f
        .send(with_cookie("GET", "/v1/session", None, String::new()))
        .await;
    assert_eq!(
        (
            status,
            serde_json::from_str::<Value>(&body).unwrap()["email"].as_str()
        ),
        (StatusCode::OK, Some("ann@shop.example"))
    );

    // Writes with a cookie need the CSRF token.
    let (_, _, file) = f
        .send(with_cookie(
            "GET",
            "/v1/sites/test-shop/site",
            None,
            String::new(),
        ))
        .await;
    let (status, _, body) = f
        .send(with_cookie(
            "PUT",
            "/v1/sites/test-shop/site",
            None,
            file.clone(),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("csrf_failed"));
    let (status, _, body) = f
        .send(with_cookie(
            "PUT",
            "/v1/sites/test-shop/site",
            Some("forged"),
            file.clone(),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = f
        .send(with_cookie(
            "PUT",
            "/v1/sites/test-shop/site",
            Some(&csrf),
            file,
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Signing out ends the session.
    let (status, _, _) = f
        .send(with_cookie("DELETE", "/v1/session", None, String::new()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, headers, _) = f
        .send(with_cookie(
            "DELETE",
            "/v1/session",
            Some(&csrf),
            String::new(),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _, _) = f
        .send(with_cookie(
            "GET",
            "/v1/sites/test-shop/aggregates",
            None,
            String::new(),
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Guessing is slowed down per e-mail.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(
            f.send(login("carol@shop.example", "guess", false))
                .await
                .0
                .as_u16(),
        );
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert_eq!(statuses[7], 429, "{statuses:?}");
}

async fn text_choice_and_follow_up_answers_are_checked_and_counted(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let event = |n: u32, touchpoint: &str, metric: &str, extra: Value| {
        let mut e = json!({
            "id": uuid(n), "kind": "response", "touchpoint": touchpoint, "metric": metric,
            "page": "https://shop.example/pricing", "ts": "2026-11-22T10:00:00Z",
        });
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    // Each broken answer is refused with the field named; nothing is stored.
    let refused = [
        (
            event(1, "idea", "text", json!({})),
            "events[0].comment: required for a text response",
        ),
        (
            event(1, "idea", "text", json!({"comment": "  "})),
            "events[0].comment: required",
        ),
        (
            event(1, "idea", "text", json!({"comment": "x", "score": 3})),
            "events[0].score: a text question has no score",
        ),
        (
            event(1, "found-us", "choice", json!({})),
            "events[0].choices: required for a choice response",
        ),
        (
            event(1, "found-us", "choice", json!({"choices": []})),
            "events[0].choices: pick at least one",
        ),
        (
            event(1, "found-us", "choice", json!({"choices": ["tv"]})),
            "events[0].choices[0]: \"tv\" is not an option of touchpoint \"found-us\"",
        ),
        (
            event(
                1,
                "found-us",
                "choice",
                json!({"choices": ["ad", "friend"]}),
            ),
            "events[0].choices: touchpoint \"found-us\" takes one option, not 2",
        ),
        (
            event(
                1,
                "checkout-csat",
                "csat",
                json!({"score": 5, "choices": ["price"]}),
            ),
            "events[0].choices: touchpoint \"checkout-csat\" offers no options after this score",
        ),
        (
            event(
                1,
                "checkout-csat",
                "csat",
                json!({"score": 2, "choices": ["price", "price"]}),
            ),
            "events[0].choices[1]: \"price\" is picked twice",
        ),
        (
            event(
                1,
                "site-nps",
                "nps",
                json!({"score": 2, "choices": ["price"]}),
            ),
            "events[0].choices: touchpoint \"site-nps\" offers no options",
        ),
    ];
    for (e, expect) in refused {
        let (status, body) = f.post(batch(vec![e])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(expect),
            "{message:?} should start with {expect:?}"
        );
    }
    assert_eq!(f.aggregates("group_by=touchpoint").await["rows"], json!([]));

    let (status, body) = f
        .post(batch(vec![
            event(
                1,
                "idea",
                "text",
                json!({"comment": "Gift cards, mail me at ann@example.com"}),
            ),
            event(2, "idea", "text", json!({"comment": "Dark mode"})),
            event(3, "found-us", "choice", json!({"choices": ["friend"]})),
            event(4, "found-us", "choice", json!({"choices": ["friend"]})),
            event(5, "found-us", "choice", json!({"choices": ["search"]})),
            event(6, "checkout-csat", "csat", json!({"score": 2})),
            event(7, "checkout-csat", "csat", json!({"score": 1})),
            event(8, "checkout-csat", "csat", json!({"score": 5})),
        ]))
        .await;
    assert_eq!(
        (status, &body),
        (
            StatusCode::ACCEPTED,
            &json!({"accepted": 8, "duplicates": 0})
        )
    );
    // The follow-up's answer is the same response resent: it fills in the
    // choices and the comment, counts as a duplicate, keeps the first score.
    let (status, body) = f
        .post(batch(vec![
            event(
                6,
                "checkout-csat",
                "csat",
                json!({"score": 2, "choices": ["price", "speed"]}),
            ),
            event(
                7,
                "checkout-csat",
                "csat",
                json!({"score": 1, "choices": ["price"], "comment": "Too dear"}),
            ),
        ]))
        .await;
    assert_eq!(
        (status, &body),
        (
            StatusCode::ACCEPTED,
            &json!({"accepted": 0, "duplicates": 2})
        )
    );
    // A second resend changes nothing: the first answer stands.
    let (status, _) = f
        .post(batch(vec![event(
            7,
            "checkout-csat",
            "csat",
            json!({"score": 3, "choices": ["speed"], "comment": "Other"}),
        )]))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let rows = f.aggregates("group_by=touchpoint").await["rows"].clone();
    let row = |tp: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["touchpoint"] == tp)
            .unwrap()
            .clone()
    };
    let csat = row("checkout-csat");
    assert_eq!(
        (
            &csat["responses"],
            &csat["distribution"],
            &csat["comments"],
            &csat["choices"]
        ),
        (
            &json!(3),
            &json!({"1": 1, "2": 1, "5": 1}),
            &json!(1),
            &json!({"price": 2, "speed": 1})
        )
    );
    let text = row("idea");
    assert_eq!(
        (&text["metric"], &text["responses"], &text["comments"]),
        (&json!("text"), &json!(2), &json!(2))
    );
    assert_eq!((&text["mean"], text.get("choices")), (&Value::Null, None));
    let choice = row("found-us");
    assert_eq!(
        (&choice["metric"], &choice["responses"], &choice["choices"]),
        (
            &json!("choice"),
            &json!(3),
            &json!({"friend": 2, "search": 1})
        )
    );

    // The same figures in the CSV export, and the raw answers in responses.csv.
    let (_, csv) = f
        .get(
            "/v1/sites/test-shop/export.csv?group_by=touchpoint&metric=choice",
            Some(&f.viewer),
        )
        .await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].contains(",thumbs_up,comments,choices,")
            && lines[0].ends_with(
                ",dismissals,dismiss_rate,frustration_rate,small_sample,flag_frustration,flag_delight,flag_confusion"
            ),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "found-us,choice,3,0,,,{},,,,,,,,,,,,0,\"{\"\"friend\"\":2,\"\"search\"\":1}\",,,,,,,0,,,true,0,0,0"
    );
    let (_, raw) = f
        .get(
            "/v1/sites/test-shop/responses.csv?touchpoint=checkout-csat",
            Some(&f.viewer),
        )
        .await;
    assert!(
        raw.contains(",checkout-csat,csat,1,Too dear,\"[\"\"price\"\"]\","),
        "{raw}"
    );
    let (_, raw) = f
        .get(
            "/v1/sites/test-shop/responses.csv?touchpoint=idea",
            Some(&f.viewer),
        )
        .await;
    assert!(
        raw.contains("Gift cards, mail me at [email]") && !raw.contains("ann@"),
        "{raw}"
    );
}
