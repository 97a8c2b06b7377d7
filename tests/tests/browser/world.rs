//! The world every browser test runs in: a Touchpoint server and the demo
//! shop on two loopback origins, the site file the server applies
//! ([`Site`]: the demo's, or a fixture's touchpoints), and [`Visitor`]s,
//! browser tabs on the shop, with the helpers that read what a visitor sees.

mod pages;
mod pool;
mod visitor;

pub use touchpoint_e2e::{poll, screenshot_dir};
pub use visitor::{OVERLAY, TAB, Visitor, inline};

use serde_json::Value;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;
use touchpoint_server::auth::{hash_token, new_site_key, new_token};
use touchpoint_server::site_file;
use touchpoint_server::store::{Role, Store};
use touchpoint_wire::SiteDocument;

/// How long a test waits for what a visitor would wait for: a prompt, the
/// widget's start (a load trigger's delay plus the loader's idle wait).
pub const WAIT: Duration = Duration::from_secs(20);
/// How long a test waits for an answer to be stored: answers queued while
/// the server was away arrive on the loader's next retry.
pub const DELIVERY: Duration = Duration::from_secs(60);

/// A site file for a test: the demo shop's `www/demo/site.toml` (its
/// `[site]` settings and journey stages), its touchpoints replaced by a
/// fixture's where a test needs its own, a setting added where it needs
/// one. The origins always point at the test's shop.
pub struct Site(String);

impl Site {
    /// The demo shop's site file, as a site owner applies it.
    pub fn demo() -> Site {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/demo/site.toml");
        Site(std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}")))
    }

    /// The demo's settings and stages with the touchpoints of
    /// `tests/fixtures/{name}.toml` instead of its own (a fixture may add a
    /// stage or a `[theme]` as well).
    pub fn fixture(name: &str) -> Site {
        let demo = Site::demo().0;
        let head = demo.split("[[touchpoint]]").next().unwrap();
        let path = format!("{}/fixtures/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let touchpoints = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Site(format!("{head}{touchpoints}"))
    }

    /// Adds a `[site]` setting, e.g. `contact_days = 1` or `respect_gpc = false`.
    pub fn with(self, setting: &str) -> Site {
        assert!(self.0.contains("[site]\n"), "no [site] table");
        Site(
            self.0
                .replacen("[site]\n", &format!("[site]\n{setting}\n"), 1),
        )
    }

    /// The file, its origins pointed at `shop`.
    fn parse(&self, shop: &str) -> SiteDocument {
        let text: Vec<String> = self
            .0
            .lines()
            .map(|l| {
                if l.starts_with("origins") {
                    format!("origins = [\"{shop}\"]")
                } else {
                    l.to_owned()
                }
            })
            .collect();
        site_file::parse(&text.join("\n")).unwrap_or_else(|e| panic!("the site file: {e}"))
    }
}

/// A running API server and demo shop on two loopback origins, with one
/// site and a viewer token for reading what a marketer reads.
pub struct World {
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    /// The API's origin, e.g. `http://127.0.0.1:41234`.
    pub api: String,
    /// The shop's origin: `localhost` and another port, a different origin
    /// from the API's as on a real site.
    pub shop: String,
    /// The site key in the shop's script tags.
    pub key: String,
    token: String,
    state: touchpoint_server::AppState,
    /// Stops the API server (see [`World::stop_api`]).
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl World {
    /// Starts both servers with `site` applied.
    pub fn new(site: &Site) -> World {
        assert!(
            touchpoint_server::assets::widget().is_some(),
            "the server was built without the widget: run the tests with `cargo xtask test`"
        );
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("e2e.db").display());
        let (listener, api, shop, key, token, state) = rt.block_on(async {
            let store = Store::open(&db).await.unwrap();
            let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let shop_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let api = format!("http://{}", api_listener.local_addr().unwrap());
            let shop = format!(
                "http://localhost:{}",
                shop_listener.local_addr().unwrap().port()
            );
            let (key, _) = store
                .apply_site(&site.parse(&shop), new_site_key)
                .await
                .unwrap();
            let record = store.site_by_key(&key).await.unwrap().unwrap();
            let token = new_token();
            store
                .add_token(record.id, Role::Viewer, &hash_token(&token))
                .await
                .unwrap();
            let state = touchpoint_server::AppState::new(store);
            let app = touchpoint_demo::app(touchpoint_demo::Shop {
                api: api.clone(),
                site: key.clone(),
            })
            .merge(pages::hostile_host(&api, &key))
            .merge(pages::single_page_app(&api, &key));
            tokio::spawn(async move { axum::serve(shop_listener, app).await.unwrap() });
            (api_listener, api, shop, key, token, state)
        });
        let world = World {
            rt,
            _dir: dir,
            api,
            shop,
            key,
            token,
            state,
            stop: Mutex::new(None),
        };
        world.serve(listener);
        world
    }

    /// A visitor: a browser tab of `width` × `height` that has never been
    /// to this world's origins.
    pub fn visitor(&self, width: u32, height: u32) -> Visitor<'_> {
        Visitor::new(self, pool::Lease::take(), width, height)
    }

    /// Stops the API server and waits until its port refuses connections.
    pub fn stop_api(&self) {
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let _ = stop.expect("the API is running").send(());
        let addr = self.api.trim_start_matches("http://").to_owned();
        poll(Duration::from_secs(10), "the API to stop", || {
            Ok(std::net::TcpStream::connect(&addr).is_err().then_some(()))
        })
        .unwrap();
    }

    /// Starts the API server again on its address and database.
    pub fn start_api(&self) {
        let addr = self.api.trim_start_matches("http://").to_owned();
        let listener = self
            .rt
            .block_on(tokio::net::TcpListener::bind(&addr))
            .unwrap();
        self.serve(listener);
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (stop, stopped) = oneshot::channel::<()>();
        self.rt.spawn(touchpoint_server::serve(
            listener,
            self.state.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        *self.stop.lock().unwrap_or_else(PoisonError::into_inner) = Some(stop);
    }

    /// `GET` an API path as the site's viewer; the body.
    pub fn get(&self, path: &str) -> String {
        let mut res = ureq::get(format!("{}{path}", self.api))
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()
            .unwrap();
        res.body_mut().read_to_string().unwrap()
    }

    /// The dashboard's rows: `/aggregates?{query}` (e.g. `group_by=page`).
    pub fn aggregates(&self, query: &str) -> Vec<Value> {
        let body = self.get(&format!("/v1/sites/{}/aggregates?{query}", self.key));
        let agg: Value = serde_json::from_str(&body).unwrap();
        agg["rows"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until some dashboard row (`/aggregates?{query}`) is `wanted`.
    pub fn wait_for_row(&self, query: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        poll(DELIVERY, &format!("a row of ?{query}"), || {
            Ok(self.aggregates(query).into_iter().find(&wanted))
        })
        .unwrap()
    }

    /// The raw responses export: `/responses.csv?{query}`, a header line
    /// and one line per response.
    pub fn responses_csv(&self, query: &str) -> String {
        self.get(&format!("/v1/sites/{}/responses.csv?{query}", self.key))
    }

    /// Waits until the export holds `n` responses; the export.
    pub fn wait_for_responses(&self, n: usize) -> String {
        poll(DELIVERY, &format!("{n} responses"), || {
            let csv = self.responses_csv("");
            Ok((csv.lines().count() == n + 1).then_some(csv))
        })
        .unwrap()
    }

    /// Adds a dashboard user with `role` on the world's site.
    pub fn add_user(&self, email: &str, password: &str, role: Role) {
        self.rt.block_on(async {
            let store = &self.state.store;
            let site = store.site_by_key(&self.key).await.unwrap().unwrap();
            store
                .upsert_user(
                    email,
                    Some(&touchpoint_server::auth::hash_password(password)),
                    site.id,
                    role,
                )
                .await
                .unwrap();
        });
    }

    /// Adds a dashboard account with no role on any site.
    pub fn add_account(&self, email: &str, password: &str) {
        self.add_user(email, password, Role::Viewer);
        self.rt.block_on(async {
            let store = &self.state.store;
            let site = store.site_by_key(&self.key).await.unwrap().unwrap();
            store.remove_user(email, Some(site.id)).await.unwrap();
        });
    }

    /// Sends `events` (the wire's event objects, without `site`) to the
    /// ingest API as the shop's pages would, in batches; panics unless each
    /// batch is accepted.
    pub fn send(&self, events: &[Value]) {
        for batch in events.chunks(100) {
            let body = serde_json::json!({ "site": self.key, "events": batch });
            let res = ureq::post(format!("{}/v1/events", self.api))
                .header("Origin", &self.shop)
                .header("Content-Type", "application/json")
                .send(body.to_string())
                .unwrap();
            assert_eq!(res.status(), 202);
        }
    }

    /// Everything stored about one visitor, as the visitor export has it.
    pub fn events_of(&self, visitor: &str) -> Vec<Value> {
        self.rt.block_on(async {
            let store = &self.state.store;
            let site = store.site_by_key(&self.key).await.unwrap().unwrap();
            store
                .visitor_events(site.id, visitor)
                .await
                .unwrap()
                .into_iter()
                .map(|e| serde_json::to_value(e).unwrap())
                .collect()
        })
    }
}
