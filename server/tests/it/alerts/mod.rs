//! Alerts reach a person: a receiver started here (axum on 127.0.0.1:0,
//! recording what it gets) stands for the destination, and the server is
//! told it may post to a private address (in its settings, or the
//! variable on its process: never this test process's environment).
//! Nothing here asserts a time: every wait polls until a deadline.
//! Tests in `delivery` and `safety`; the receiver, the fixture and the
//! helpers here. Run with `cargo test -p touchpoint-server --test it alerts`.

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

use crate::support::{Db, TestDb, database};

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

async fn touchpoint(args: &[&str]) -> anyhow::Result<String> {
    use clap::Parser;
    let cli = Cli::try_parse_from(std::iter::once("touchpoint").chain(args.iter().copied()))?;
    let mut out = Vec::new();
    run(cli, &mut out).await?;
    Ok(String::from_utf8(out)?)
}

mod delivery;
mod safety;
