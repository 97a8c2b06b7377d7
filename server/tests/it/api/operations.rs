//! The public and operational routes: config caching, health and the
//! loader, rate limits, a visitor's data, retention, the OpenAPI document,
//! readiness and metrics.

use super::*;
use crate::both;

both!(
    config_is_public_cacheable_and_revalidated,
    health_loader_and_unknown_routes,
    rate_limits_answer_429_with_retry_after,
    visitors_can_be_exported_and_erased_by_an_admin,
    retention_purges_old_events,
    the_openapi_document_matches_the_routes,
    readiness_and_metrics,
);

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
