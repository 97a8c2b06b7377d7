//! What reaches a destination and when: signed messages, retries under the
//! same delivery id, redirects refused, cancelled and failed messages, the
//! test post, follow-ups and frustrated comments, digests and the hourly
//! cap.

use super::*;
use crate::both;

both!(
    a_detractor_reaches_its_destination_signed,
    an_answer_refused_once_comes_again_under_the_same_delivery_id,
    a_redirect_is_not_followed,
    messages_whose_destination_or_answers_are_gone_are_cancelled,
    an_answer_never_accepted_is_marked_failed_after_the_give_up_time,
    alert_test_posts_a_signed_sample_and_says_what_came_back,
    a_follow_ups_comment_goes_in_the_one_alert,
    a_frustrated_comment_alerts_whatever_its_score,
    a_digest_of_fifty_detractors_is_one_message,
    the_hourly_cap_keeps_the_rest_for_the_next_hours_digest,
);

async fn a_detractor_reaches_its_destination_signed(db: Db) {
    let receiver = Receiver::start().await;
    let Some(f) = fixture(db, &site(&receiver.url(), "")).await else {
        return;
    };
    let _worker = f.worker();
    // A detractor with a comment that names a person, and a promoter.
    f.post(vec![
        answer(
            1,
            "site-nps",
            3,
            Some("Card declined, write me at ann.lee@mail.example"),
        ),
        answer(2, "site-nps", 10, None),
    ])
    .await;
    let got = receiver.wait_for(1, Duration::from_secs(30)).await;
    let r = &got[0];
    assert_signed(r);
    let m = r.json();
    assert_eq!(m["type"], "alert");
    assert_eq!(m["delivery"], r.delivery.as_str());
    assert_eq!(m["site"]["key"], "alert-shop");
    assert_eq!(m["counts"]["detractor"], 1);
    let a = &m["alerts"][0];
    assert_eq!(a["response"], uuid(1));
    assert_eq!(a["reasons"], json!(["detractor"]));
    assert_eq!(a["page"], "/checkout/pay");
    assert_eq!(a["stage"], "purchase");
    assert_eq!(a["touchpoint"], "site-nps");
    assert_eq!(a["metric"], "nps");
    assert_eq!(a["score"], 3);
    assert_eq!(a["flags"], json!([]));
    // Masked exactly as stored.
    assert_eq!(a["comment"], "Card declined, write me at [email]");
    assert_eq!(
        a["link"],
        format!(
            "https://feedback.example/app/sites/alert-shop/comments?response={}",
            uuid(1)
        )
    );
    // The log: one message (the promoter is no alert), sent at the first attempt.
    let log = f
        .wait_log(1, Duration::from_secs(10), |d| d["status"] == "sent")
        .await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["id"], r.delivery.as_str());
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status"], 200);
    assert_eq!(log[0]["host"], format!("http://{}", receiver.addr.unwrap()));
    // Editors read the log; viewers do not.
    let (status, _) = f.get("/v1/sites/alert-shop/deliveries", &f.viewer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = f.get("/metrics", "metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("touchpoint_alerts_sent_total 1\n"), "{body}");
    // A viewer sees neither the secret nor the URL's path.
    let (_, doc) = f.get("/v1/sites/alert-shop/site", &f.viewer).await;
    assert!(!doc.contains(SECRET) && !doc.contains("/hook"), "{doc}");
    let shown: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(
        shown["alert"][0]["url"],
        format!("http://{}/…", receiver.addr.unwrap())
    );
    // An editor sees the secret masked, and sending the document back keeps it.
    let (_, doc) = f.get("/v1/sites/alert-shop/site", &f.editor).await;
    assert!(!doc.contains(SECRET), "{doc}");
    let shown: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(shown["alert"][0]["secret"], "…cdef");
    let (status, body) = f.put_site(&doc).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["changed"],
        false
    );
    let stored = f
        .state
        .store
        .site_by_key("alert-shop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.config.alerts[0].secret.as_deref(), Some(SECRET));
    // Nothing more came meanwhile.
    assert_eq!(receiver.got().len(), 1);
}

async fn an_answer_refused_once_comes_again_under_the_same_delivery_id(db: Db) {
    let receiver = Receiver::start().await;
    receiver.answers.lock().unwrap().push_back(500);
    let Some(f) = fixture(db, &site(&receiver.url(), "")).await else {
        return;
    };
    let _worker = f.worker();
    f.post(vec![answer(1, "site-nps", 0, None)]).await;
    let log = f
        .wait_log(1, Duration::from_secs(30), |d| d["status"] == "sent")
        .await;
    let got = receiver.got();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!((got[0].status, got[1].status), (500, 200));
    assert_eq!(got[0].delivery, got[1].delivery);
    assert_eq!(got[0].body, got[1].body);
    assert_signed(&got[1]);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["id"], got[0].delivery.as_str());
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["last_status"], 200);
    let (_, body) = f.get("/metrics", "metrics").await;
    assert!(
        body.contains("touchpoint_alerts_retried_total 1\n"),
        "{body}"
    );
    assert!(body.contains("touchpoint_alerts_sent_total 1\n"), "{body}");
}

/// A redirect is an answer that is not a 2xx: retried at the same URL,
/// never followed to where it points.
async fn a_redirect_is_not_followed(db: Db) {
    let receiver = Receiver::start().await;
    receiver.answers.lock().unwrap().push_back(307);
    let Some(f) = fixture(db, &site(&receiver.url(), "")).await else {
        return;
    };
    let _worker = f.worker();
    f.post(vec![answer(1, "site-nps", 0, None)]).await;
    let log = f
        .wait_log(1, Duration::from_secs(30), |d| d["status"] == "sent")
        .await;
    assert_eq!(log[0]["attempts"], 2);
    let got = receiver.got();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got.iter().all(|r| r.path == "/hook"), "{got:#?}");
    assert_eq!(got[0].delivery, got[1].delivery);
}

/// A message outlives neither its destination nor its answers: an
/// erased visitor's answer is not posted later, and a destination removed
/// from the site receives nothing more; the log says why.
async fn messages_whose_destination_or_answers_are_gone_are_cancelled(db: Db) {
    let receiver = Receiver::start().await;
    let Some(f) = fixture(db, &site(&receiver.url(), "")).await else {
        return;
    };
    let store = &f.state.store;
    let mut erased = answer(1, "site-nps", 0, Some("Call me"));
    erased["visitor"] = "erase-me".into();
    f.post(vec![erased]).await;
    assert_eq!(
        store
            .group_alerts(time::OffsetDateTime::now_utc())
            .await
            .unwrap(),
        1
    );
    let record = store.site_by_key("alert-shop").await.unwrap().unwrap();
    assert_eq!(
        store.delete_visitor(record.id, "erase-me").await.unwrap(),
        1
    );
    let _worker = f.worker();
    let log = f
        .wait_log(1, Duration::from_secs(30), |d| d["status"] == "cancelled")
        .await;
    assert_eq!(log[0]["last_error"], "its answers were erased");
    drop(_worker);

    f.post(vec![answer(2, "site-nps", 0, None)]).await;
    let mut doc = site_file::parse(&site(&receiver.url(), "")).unwrap();
    doc.alert.clear();
    store.apply_site(&doc, || unreachable!()).await.unwrap();
    let _worker = f.worker();
    let log = f
        .wait_log(2, Duration::from_secs(30), |d| d["status"] == "cancelled")
        .await;
    assert!(
        log.iter()
            .any(|d| d["last_error"] == "its destination is no longer in the site's configuration"),
        "{log:#?}"
    );
    assert!(receiver.got().is_empty());
}

/// Retried until the give-up time (a day by default, shortened here),
/// then marked failed, and counted.
async fn an_answer_never_accepted_is_marked_failed_after_the_give_up_time(db: Db) {
    let receiver = Receiver::start().await;
    receiver.fallback.store(500, Ordering::SeqCst);
    let Some(mut f) = fixture(db, &site(&receiver.url(), "")).await else {
        return;
    };
    let mut settings = (*f.state.settings).clone();
    settings.alerts.give_up_after = Duration::from_millis(400);
    f.state.settings = Arc::new(settings);
    let _worker = f.worker();
    f.post(vec![answer(1, "site-nps", 0, None)]).await;
    let log = f
        .wait_log(1, Duration::from_secs(30), |d| d["status"] == "failed")
        .await;
    assert_eq!(log[0]["last_status"], 500);
    assert_eq!(log[0]["last_error"], "answered 500");
    assert_eq!(log[0]["next_attempt_at"], Value::Null);
    let attempts = log[0]["attempts"].as_u64().unwrap();
    assert!(attempts >= 2, "{log:#?}");
    let got = receiver.got();
    assert_eq!(got.len() as u64, attempts);
    assert!(got.iter().all(|r| r.delivery == got[0].delivery));
    let (_, body) = f.get("/metrics", "metrics").await;
    assert!(
        body.contains("touchpoint_alerts_failed_total 1\n"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "touchpoint_alerts_retried_total {}\n",
            attempts - 1
        )),
        "{body}"
    );
}

async fn alert_test_posts_a_signed_sample_and_says_what_came_back(db: Db) {
    let receiver = Receiver::start().await;
    let Some(f) = fixture(db, &site(&receiver.url(), "")).await else {
        return;
    };
    let database = f._db.url.clone();
    let args = [
        "--database",
        &database,
        "alert",
        "test",
        "--site",
        "alert-shop",
        "--json",
        "--alerts-allow-private",
        "--public-url",
        "https://feedback.example",
    ];
    let out: Value = serde_json::from_str(&touchpoint(&args).await.unwrap()).unwrap();
    let result = &out["destinations"][0];
    assert_eq!(result["ok"], true, "{out}");
    assert_eq!(result["status"], 200);
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert_signed(&got[0]);
    assert_eq!(result["delivery"], got[0].delivery.as_str());
    let m = got[0].json();
    assert_eq!(m["type"], "test");
    assert_eq!(m["alerts"][0]["reasons"], json!(["detractor"]));
    // In the log, as a test.
    let log = f.deliveries().await;
    assert_eq!(log[0]["kind"], "test");
    assert_eq!(log[0]["status"], "sent");
    // A destination that refuses: said, and the command fails.
    receiver.fallback.store(404, Ordering::SeqCst);
    let err = touchpoint(&args).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("1 of 1 destinations did not answer 2xx"),
        "{err:#}"
    );
    // Without the operator's word, a private destination is not even tried.
    let err = touchpoint(&args[..7]).await.unwrap_err();
    assert!(format!("{err:#}").contains("did not answer"), "{err:#}");
    assert_eq!(receiver.got().len(), 2);
}

/// A detractor asked "what went wrong?" is held for the comment it may
/// bring; the comment arrives, and goes out in the one alert.
async fn a_follow_ups_comment_goes_in_the_one_alert(db: Db) {
    let receiver = Receiver::start().await;
    let Some(f) = fixture(db, &site(&receiver.url(), "")).await else {
        return;
    };
    f.post(vec![answer(1, "checkout-nps", 2, None)]).await;
    // Held for the comment: nothing is due yet.
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(f.state.store.group_alerts(now).await.unwrap(), 0);
    f.post(vec![answer(
        1,
        "checkout-nps",
        2,
        Some("The coupon field ate my code"),
    )])
    .await;
    let _worker = f.worker();
    let got = receiver.wait_for(1, Duration::from_secs(30)).await;
    let m = got[0].json();
    assert_eq!(m["alerts"][0]["comment"], "The coupon field ate my code");
    f.wait_log(1, Duration::from_secs(10), |d| d["status"] == "sent")
        .await;
    // The follow-up resent once more changes nothing.
    f.post(vec![answer(
        1,
        "checkout-nps",
        2,
        Some("The coupon field ate my code"),
    )])
    .await;
    let log = f.deliveries().await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(receiver.got().len(), 1);
}

/// A destination that listens to `frustration` hears of a frustrated
/// comment even under a good score, with its flags, and of nothing else.
async fn a_frustrated_comment_alerts_whatever_its_score(db: Db) {
    let receiver = Receiver::start().await;
    let toml = site(&receiver.url(), "").replace(
        r#"on = ["detractor", "low_score"]"#,
        r#"on = ["frustration"]"#,
    );
    let Some(f) = fixture(db, &toml).await else {
        return;
    };
    let _worker = f.worker();
    f.post(vec![
        answer(1, "site-nps", 9, Some("Love the new checkout, so easy!")),
        answer(2, "site-nps", 3, None),
        answer(
            3,
            "site-nps",
            10,
            Some("the page crashed TWICE before it worked, so annoying 😡"),
        ),
    ])
    .await;
    let got = receiver.wait_for(1, Duration::from_secs(30)).await;
    let m = got[0].json();
    assert_eq!(m["alerts"].as_array().unwrap().len(), 1, "{m}");
    let a = &m["alerts"][0];
    assert_eq!(a["response"], uuid(3));
    assert_eq!(a["reasons"], json!(["frustration"]));
    assert_eq!(a["flags"], json!(["frustration"]));
    assert_eq!(a["score"], 10);
    f.wait_log(1, Duration::from_secs(10), |d| d["status"] == "sent")
        .await;
    // The delighted promoter and the silent detractor made no message.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.got().len(), 1);
    assert_eq!(f.deliveries().await.len(), 1);
}

async fn a_digest_of_fifty_detractors_is_one_message(db: Db) {
    let receiver = Receiver::start().await;
    let Some(f) = fixture(db, &site(&receiver.url(), "digest_minutes = 1")).await else {
        return;
    };
    let _worker = f.worker();
    let events = (1..=50)
        .map(|n| {
            let comment = (n == 17).then_some("Worst checkout ever");
            answer(n, "site-nps", if n == 17 { 0 } else { 5 }, comment)
        })
        .collect();
    f.post(events).await;
    // The window closes at the next minute.
    let log = f
        .wait_log(1, Duration::from_secs(90), |d| d["status"] == "sent")
        .await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["kind"], "digest");
    assert_eq!(log[0]["alerts"], 50);
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert_signed(&got[0]);
    let m = got[0].json();
    assert_eq!(m["type"], "digest");
    assert_eq!(m["counts"]["total"], 50);
    assert_eq!(m["counts"]["detractor"], 50);
    assert_eq!(m["alerts"].as_array().unwrap().len(), 10);
    assert_eq!(m["more"], 40);
    // The worst first.
    assert_eq!(m["alerts"][0]["response"], uuid(17));
    assert_eq!(m["alerts"][0]["comment"], "Worst checkout ever");
}

/// The cap, through the store with a clock of its own: two messages an
/// hour; the rest waits, and the next hour goes as one digest.
async fn the_hourly_cap_keeps_the_rest_for_the_next_hours_digest(db: Db) {
    let Some(f) = fixture(db, &site("https://hooks.example/t", "max_per_hour = 2")).await else {
        return;
    };
    let store = &f.state.store;
    f.post((1..=5).map(|n| answer(n, "site-nps", 1, None)).collect())
        .await;
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(store.group_alerts(now).await.unwrap(), 2);
    assert_eq!(store.group_alerts(now).await.unwrap(), 0);
    let log = f.deliveries().await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d["kind"] == "alert" && d["alerts"] == 1));
    // The next hour: what waited, in one digest; nothing dropped.
    assert_eq!(
        store
            .group_alerts(now + time::Duration::hours(1))
            .await
            .unwrap(),
        1
    );
    let log = f.deliveries().await;
    let digest: Vec<&Value> = log.iter().filter(|d| d["kind"] == "digest").collect();
    assert_eq!(digest.len(), 1, "{log:#?}");
    assert_eq!(digest[0]["alerts"], 3);
    assert_eq!(
        log.iter()
            .map(|d| d["alerts"].as_u64().unwrap())
            .sum::<u64>(),
        5
    );
}
