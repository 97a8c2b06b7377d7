//! Ingest through `app()`: answers stored once and counted per page and
//! stage, every validation rule named, batch-level refusals, concurrent
//! posts, text, choice and follow-up answers.

use super::*;
use crate::both;

both!(
    responses_are_stored_once_and_aggregated_per_page_and_stage,
    each_invalid_field_is_named_and_nothing_is_stored,
    batch_level_errors,
    concurrent_posts_are_each_committed_once,
    text_choice_and_follow_up_answers_are_checked_and_counted,
);

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
