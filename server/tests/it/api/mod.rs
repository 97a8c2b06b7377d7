//! The HTTP API through `app()` on a real database, with the fixture the
//! other suites share: `ingest` (happy path, every validation rule,
//! duplicates, follow-ups), `exports` (aggregates and raw responses in every
//! format), `access` (tokens, sessions, editors), `operations` (config,
//! health, limits, a visitor's data, retention, OpenAPI, metrics). Run with
//! `cargo test -p touchpoint-server --test it api`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use touchpoint_server::auth::{hash_token, new_token};
use touchpoint_server::limits::RateLimits;
use touchpoint_server::site_file;
use touchpoint_server::store::{Backend, Role, Store};
use touchpoint_server::{AppState, Settings, app};
use tower::ServiceExt;

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

mod access;
mod exports;
mod ingest;
mod operations;

pub use exports::xlsx_sheet_text;
