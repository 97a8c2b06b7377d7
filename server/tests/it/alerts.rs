//! Alerts reach a person: a receiver started here (axum on 127.0.0.1:0,
//! recording what it gets) stands for the destination, and the server is
//! told it may post to a private address (in its settings, or the
//! variable on its process: never this test process's environment).
//! Nothing here asserts a time: every wait polls until a deadline.
//! Run with `cargo test -p touchpoint-server --test it alerts`.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use touchpoint_server::alerts::{AlertSettings, message::signature, spawn_worker};
use touchpoint_server::auth::{hash_token, new_token};
use touchpoint_server::cli::{Cli, run};
use touchpoint_server::metrics::Metrics;
use touchpoint_server::site_file;
use touchpoint_server::store::{Role, Store};
use touchpoint_server::{AppState, Settings, app};
use tower::ServiceExt;

use crate::both;
use crate::support::{Db, TestDb, database};

both!(
    a_detractor_reaches_its_destination_signed,
    an_answer_refused_once_comes_again_under_the_same_delivery_id,
    a_redirect_is_not_followed,
    messages_whose_destination_or_answers_are_gone_are_cancelled,
    an_answer_never_accepted_is_marked_failed_after_the_give_up_time,
    alert_test_posts_a_signed_sample_and_says_what_came_back,
    a_follow_ups_comment_goes_in_the_one_alert,
    a_digest_of_fifty_detractors_is_one_message,
    the_hourly_cap_keeps_the_rest_for_the_next_hours_digest,
    private_destinations_are_refused_at_apply_and_at_send,
    two_workers_deliver_each_alert_once,
    an_alert_acknowledged_before_a_crash_is_delivered_after_restart,
    a_frustrated_comment_alerts_whatever_its_score,
);

const SECRET: &str = "whsec-0123456789abcdef";

/// The test site, its `[[alert]]` pointing at `url` with `extra` settings.
fn site(url: &str, extra: &str) -> String {
    format!(
        r#"
[site]
name = "Alert shop"
key = "alert-shop"
origins = ["https://shop.example"]

[[stage]]
id = "purchase"
label = "Purchase"
pages = ["/checkout/**"]

[[touchpoint]]
id = "site-nps"
metric = "nps"
question = {{ en = "How likely?" }}

[[touchpoint]]
id = "checkout-nps"
metric = "nps"
question = {{ en = "How likely, after paying?" }}
follow_up = {{ question = {{ en = "What went wrong?" }}, max = 6 }}

[[alert]]
url = "{url}"
on = ["detractor", "low_score"]
secret = "{SECRET}"
{extra}
"#
    )
}

/// What the receiver got: one request.
#[derive(Clone, Debug)]
struct Received {
    delivery: String,
    signature: Option<String>,
    body: Vec<u8>,
    /// What it answered.
    status: u16,
    /// The path it was posted to.
    path: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A destination on 127.0.0.1:0 that records every request and answers
/// the queued statuses first, then `fallback`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
    fallback: Arc<AtomicU16>,
    addr: Option<SocketAddr>,
}

/// Answers with the next status, and to a redirect's status a `Location`
/// on the same receiver (a client that follows it shows up there).
async fn receive(
    State(r): State<Receiver>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(header::HeaderName, String); 1]) {
    let status = r
        .answers
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| r.fallback.load(Ordering::SeqCst));
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    r.got.lock().unwrap().push(Received {
        delivery: text("x-touchpoint-delivery").unwrap_or_default(),
        signature: text("x-touchpoint-signature"),
        body: body.to_vec(),
        status,
        path: uri.path().to_owned(),
    });
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::LOCATION, "/elsewhere".to_owned())],
    )
}

impl Receiver {
    async fn start() -> Receiver {
        let mut r = Receiver::default();
        r.fallback.store(200, Ordering::SeqCst);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        r.addr = Some(listener.local_addr().unwrap());
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .route("/elsewhere", axum::routing::any(receive))
            .with_state(r.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        r
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr.unwrap())
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until it has received `n` requests.
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} of {n} requests",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Delivery settings for tests: private destinations allowed, retries
/// soon, the outbox looked at often.
fn alert_settings() -> AlertSettings {
    AlertSettings {
        allow_private: true,
        public_url: Some("https://feedback.example".into()),
        timeout: Duration::from_secs(5),
        backoff_first: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        poll: Duration::from_millis(50),
        ..AlertSettings::default()
    }
}

/// A worker that stops with the test.
struct Worker(tokio::task::JoinHandle<()>);

impl Drop for Worker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Fixture {
    _db: TestDb,
    state: AppState,
    editor: String,
    viewer: String,
}

/// The site applied, tokens made, the app's state (no worker yet).
async fn fixture(db: Db, site_toml: &str) -> Option<Fixture> {
    let test_db = database(db).await?;
    let store = Store::open(&test_db.url).await.unwrap();
    store
        .apply_site(&site_file::parse(site_toml).unwrap(), || unreachable!())
        .await
        .unwrap();
    let site = store.site_by_key("alert-shop").await.unwrap().unwrap();
    let (editor, viewer) = (new_token(), new_token());
    store
        .add_token(site.id, Role::Editor, &hash_token(&editor))
        .await
        .unwrap();
    store
        .add_token(site.id, Role::Viewer, &hash_token(&viewer))
        .await
        .unwrap();
    let settings = Settings {
        metrics_token: Some("metrics".into()),
        alerts: alert_settings(),
        ..Settings::default()
    };
    Some(Fixture {
        _db: test_db,
        state: AppState::with_settings(store, settings),
        editor,
        viewer,
    })
}

impl Fixture {
    fn worker(&self) -> Worker {
        Worker(spawn_worker(
            self.state.store.clone(),
            self.state.settings.alerts.clone(),
            self.state.metrics.clone(),
        ))
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, String) {
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    async fn post(&self, events: Vec<Value>) {
        let body = json!({ "site": "alert-shop", "events": events }).to_string();
        let req = Request::post("/v1/events")
            .header(header::CONTENT_TYPE, "text/plain")
            .header(header::ORIGIN, "https://shop.example")
            .body(Body::from(body))
            .unwrap();
        let (status, body) = self.send(req).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }

    async fn get(&self, uri: &str, token: &str) -> (StatusCode, String) {
        let req = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    async fn put_site(&self, doc: &str) -> (StatusCode, String) {
        let req = Request::put("/v1/sites/alert-shop/site")
            .header(header::AUTHORIZATION, format!("Bearer {}", self.editor))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(doc.to_owned()))
            .unwrap();
        self.send(req).await
    }

    /// The delivery log, as an editor reads it.
    async fn deliveries(&self) -> Vec<Value> {
        let (status, body) = self
            .get("/v1/sites/alert-shop/deliveries", &self.editor)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()["deliveries"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Waits until the log holds `n` messages that `done` accepts.
    async fn wait_log(
        &self,
        n: usize,
        within: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let log = self.deliveries().await;
            if log.iter().filter(|d| done(d)).count() >= n {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the log never got there: {log:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// An NPS answer of `score` given just now on the checkout page.
fn answer(n: u32, touchpoint: &str, score: i64, comment: Option<&str>) -> Value {
    let mut e = json!({
        "id": uuid(n), "kind": "response", "touchpoint": touchpoint, "metric": "nps", "score": score,
        "page": "https://shop.example/checkout/pay?order=77", "ts": touchpoint_server::time::now(),
        "visitor": "v1", "session": "s1",
    });
    if let Some(c) = comment {
        e["comment"] = c.into();
    }
    e
}

/// The signature header is the HMAC-SHA256 of the exact body with the secret.
fn assert_signed(r: &Received) {
    assert_eq!(
        r.signature.as_deref(),
        Some(signature(SECRET, &r.body).as_str()),
        "the signature does not verify"
    );
    assert!(r.signature.as_deref().unwrap().starts_with("sha256="));
}

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

async fn touchpoint(args: &[&str]) -> anyhow::Result<String> {
    use clap::Parser;
    let cli = Cli::try_parse_from(std::iter::once("touchpoint").chain(args.iter().copied()))?;
    let mut out = Vec::new();
    run(cli, &mut out).await?;
    Ok(String::from_utf8(out)?)
}

async fn private_destinations_are_refused_at_apply_and_at_send(db: Db) {
    let receiver = Receiver::start().await;
    let Some(mut f) = fixture(db, &site(&receiver.url(), "")).await else {
        return;
    };
    // The operator has not allowed private destinations.
    let mut settings = (*f.state.settings).clone();
    settings.alerts.allow_private = false;
    f.state.settings = Arc::new(settings);
    let port = receiver.addr.unwrap().port();
    // At apply: a literal address, or a name that resolves to one.
    for (url, kind) in [
        (format!("http://127.0.0.1:{port}/hook"), "loopback"),
        (format!("http://localhost:{port}/hook"), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data".to_owned(),
            "link-local",
        ),
        ("http://[fd00:ec2::254]/".to_owned(), "unique-local"),
        ("http://10.0.0.8/".to_owned(), "private"),
    ] {
        let doc = serde_json::to_string(&site_file::parse(&site(&url, "")).unwrap()).unwrap();
        let (status, body) = f.put_site(&doc).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert!(
            body.contains("alert[0].url")
                && body.contains(kind)
                && body.contains("TOUCHPOINT_ALERTS_ALLOW_PRIVATE"),
            "{url}: {body}"
        );
    }
    // The command line too, unless the operator allows it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.toml");
    std::fs::write(&file, site(&receiver.url(), "")).unwrap();
    let (database, file) = (f._db.url.clone(), file.to_str().unwrap().to_owned());
    let err = touchpoint(&["--database", &database, "apply", &file])
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("alert[0].url") && format!("{err:#}").contains("loopback"),
        "{err:#}"
    );
    touchpoint(&[
        "--database",
        &database,
        "apply",
        &file,
        "--alerts-allow-private",
    ])
    .await
    .unwrap();
    // At send: a worker not allowed private addresses refuses to post,
    // keeps the message and says why.
    let _worker = Worker(spawn_worker(
        f.state.store.clone(),
        f.state.settings.alerts.clone(),
        Arc::new(Metrics::default()),
    ));
    f.post(vec![answer(1, "site-nps", 4, None)]).await;
    let log = f
        .wait_log(1, Duration::from_secs(30), |d| {
            d["attempts"].as_u64() >= Some(2)
        })
        .await;
    assert_eq!(log[0]["status"], "pending");
    let error = log[0]["last_error"].as_str().unwrap();
    assert!(
        error.contains("refused") && error.contains("loopback"),
        "{error}"
    );
    assert!(
        receiver.got().is_empty(),
        "a private destination was posted to"
    );
}

async fn two_workers_deliver_each_alert_once(db: Db) {
    let receiver = Receiver::start().await;
    let Some(f) = fixture(db, &site(&receiver.url(), "")).await else {
        return;
    };
    // Two instances: each its own pool and worker, one database.
    let other = Store::open(&f._db.url).await.unwrap();
    let _one = f.worker();
    let _two = Worker(spawn_worker(
        other.clone(),
        alert_settings(),
        Arc::new(Metrics::default()),
    ));
    for batch in 0..6 {
        f.post(
            (1..=5)
                .map(|n| answer(batch * 5 + n, "site-nps", 2, None))
                .collect(),
        )
        .await;
    }
    let log = f
        .wait_log(30, Duration::from_secs(60), |d| d["status"] == "sent")
        .await;
    assert_eq!(log.len(), 30);
    // Each taken once: one attempt each, one request each.
    assert!(log.iter().all(|d| d["attempts"] == 1), "{log:#?}");
    let got = receiver.got();
    assert_eq!(got.len(), 30);
    let mut ids: Vec<&str> = got.iter().map(|r| r.delivery.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 30);
    let mut responses: Vec<String> = got
        .iter()
        .map(|r| {
            r.json()["alerts"][0]["response"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    responses.sort();
    responses.dedup();
    assert_eq!(responses.len(), 30);
    other.close().await;
}

/// Kills `touchpoint serve` when it is dropped.
struct ServerProcess(std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `touchpoint serve` as a process, allowed private destinations by its
/// own environment, retrying soon; and the address it listens on.
fn start_server(url: &str) -> (ServerProcess, SocketAddr) {
    let mut server = ServerProcess(
        Command::new(env!("CARGO_BIN_EXE_touchpoint"))
            .args([
                "--database",
                url,
                "--json",
                "serve",
                "--addr",
                "127.0.0.1:0",
            ])
            .args([
                "--alert-backoff-ms",
                "50",
                "--alert-poll-ms",
                "50",
                "--alert-timeout",
                "2",
            ])
            .env("TOUCHPOINT_ALERTS_ALLOW_PRIVATE", "1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let listening: Value = serde_json::from_str(&line).unwrap();
    let addr = listening["addr"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    (server, addr)
}

/// A detractor acknowledged (202) by a server killed at once with SIGKILL,
/// while its destination was down, reaches the destination from the next
/// server started on the same database.
async fn an_alert_acknowledged_before_a_crash_is_delivered_after_restart(db: Db) {
    let receiver = Receiver::start().await;
    receiver.fallback.store(503, Ordering::SeqCst);
    let Some(test_db) = database(db).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.toml");
    std::fs::write(&file, site(&receiver.url(), "")).unwrap();
    let applied = Command::new(env!("CARGO_BIN_EXE_touchpoint"))
        .args(["--database", &test_db.url, "apply", file.to_str().unwrap()])
        .env("TOUCHPOINT_ALERTS_ALLOW_PRIVATE", "1")
        .output()
        .unwrap();
    assert!(applied.status.success(), "{applied:?}");

    let url = test_db.url.clone();
    let mut first = tokio::task::spawn_blocking(move || start_server(&url))
        .await
        .unwrap();
    let api = first.1;
    let body = json!({ "site": "alert-shop", "events": [answer(1, "site-nps", 1, Some("Nobody answers the phone"))] })
        .to_string();
    let status = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        agent
            .post(format!("http://{api}/v1/events"))
            .content_type("text/plain")
            .send(body)
            .unwrap()
            .status()
            .as_u16()
    })
    .await
    .unwrap();
    assert_eq!(status, 202);
    // SIGKILL: no shutdown, no flush, nothing finished.
    first.0.0.kill().unwrap();
    first.0.0.wait().unwrap();
    drop(first);

    receiver.fallback.store(200, Ordering::SeqCst);
    let url = test_db.url.clone();
    let _second = tokio::task::spawn_blocking(move || start_server(&url))
        .await
        .unwrap();
    // Delivered by the new process (a lease the dead one held runs out first).
    let deadline = Instant::now() + Duration::from_secs(60);
    let got = loop {
        let got = receiver.got();
        if got.iter().any(|r| r.status == 200) {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "not delivered after the restart: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // However many attempts the first process made, one message.
    assert!(
        got.iter().all(|r| r.delivery == got[0].delivery),
        "{got:#?}"
    );
    let delivered = got.iter().find(|r| r.status == 200).unwrap();
    assert_signed(delivered);
    let m = delivered.json();
    assert_eq!(m["alerts"][0]["response"], uuid(1));
    assert_eq!(m["alerts"][0]["comment"], "Nobody answers the phone");
}
