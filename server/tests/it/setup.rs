//! Site owners' setup through the API: creating a site from a signed-in
//! account (and the cap on how many, under a race), and drafts that wait
//! for someone to publish them.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use touchpoint_server::auth::{hash_token, new_secret};
use touchpoint_server::store::Role;
use touchpoint_server::{AppState, Settings};

use crate::api::{Fixture, fixture};
use crate::both;
use crate::support::Db;

both!(
    accounts_create_sites_and_become_their_admins,
    an_account_cannot_create_more_sites_than_its_cap_even_at_once,
    drafts_wait_until_someone_publishes_them,
);

/// A dashboard session for `email` (created with `role` on the test shop):
/// `(cookie, csrf)`. Made in the store: signing in is tested elsewhere.
async fn session(f: &Fixture, email: &str, role: Option<Role>) -> (String, String) {
    let store = &f.state.store;
    let site = store.site_by_key("test-shop").await.unwrap().unwrap();
    // A known hash: the password is never checked here.
    let hash =
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    let user = store
        .upsert_user(email, Some(hash), site.id, role.unwrap_or(Role::Viewer))
        .await
        .unwrap();
    if role.is_none() {
        store.remove_user(email, Some(site.id)).await.unwrap();
    }
    let (value, csrf) = (new_secret(), new_secret());
    store
        .create_session(&hash_token(&value), user, &csrf, "2999-01-01T00:00:00Z")
        .await
        .unwrap();
    (format!("touchpoint_session={value}"), csrf)
}

/// A request with a session cookie and, for a change, its CSRF token.
fn with(
    method: &str,
    uri: &str,
    (cookie, csrf): &(String, String),
    body: impl Into<String>,
) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/json");
    if method != "GET" {
        req = req.header("x-csrf-token", csrf);
    }
    req.body(Body::from(body.into())).unwrap()
}

async fn json_of(f: &Fixture, req: Request<Body>) -> (StatusCode, Value) {
    let (status, _, body) = f.send(req).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

async fn accounts_create_sites_and_become_their_admins(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let ann = session(&f, "ann@shop.example", Some(Role::Viewer)).await;
    let new =
        json!({ "site": { "name": "  Garden centre ", "origins": ["HTTPS://Garden.example/"] } })
            .to_string();

    // Only a signed-in account, with its CSRF token, creates a site.
    let anonymous = Request::post("/v1/sites")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(new.clone()))
        .unwrap();
    assert_eq!(json_of(&f, anonymous).await.0, StatusCode::UNAUTHORIZED);
    let token = Request::post("/v1/sites")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.viewer))
        .body(Body::from(new.clone()))
        .unwrap();
    let (status, body) = json_of(&f, token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "account_required");
    let forged = (ann.0.clone(), "forged".to_owned());
    let (status, body) = json_of(&f, with("POST", "/v1/sites", &forged, new.clone())).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf_failed"))
    );

    // A document the site file's rules refuse names its field; nothing is made.
    let bad = json!({ "site": { "name": "Bad", "origins": ["garden.example/path"] } }).to_string();
    let (status, body) = json_of(&f, with("POST", "/v1/sites", &ann, bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("site.origins"),
        "{body}"
    );
    let taken = json!({ "site": { "name": "Mine", "key": "test-shop" } }).to_string();
    let (status, body) = json_of(&f, with("POST", "/v1/sites", &ann, taken)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("site_exists")),
        "{body}"
    );
    let huge = format!(
        "{{\"site\":{{\"name\":\"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let (status, _) = json_of(&f, with("POST", "/v1/sites", &ann, huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (_, session) = json_of(&f, with("GET", "/v1/session", &ann, "")).await;
    assert_eq!(session["sites"].as_array().unwrap().len(), 1, "{session}");

    let (status, made) = json_of(&f, with("POST", "/v1/sites", &ann, new)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["name"], "Garden centre");
    assert_eq!(made["role"], "admin");
    let key = made["key"].as_str().unwrap().to_owned();
    assert!(key.len() >= 16, "a generated key: {key}");
    let (_, session) = json_of(&f, with("GET", "/v1/session", &ann, "")).await;
    assert!(
        session["sites"]
            .as_array()
            .unwrap()
            .contains(&json!({ "key": key, "name": "Garden centre", "role": "admin" })),
        "{session}"
    );
    // The site is live at once: its config is public, its origins normalised.
    let (status, site) = json_of(&f, with("GET", &format!("/v1/sites/{key}/site"), &ann, "")).await;
    assert_eq!(status, StatusCode::OK, "{site}");
    assert_eq!(site["site"]["origins"], json!(["https://garden.example"]));
    let (status, _) = f.get(&format!("/v1/sites/{key}/config"), None).await;
    assert_eq!(status, StatusCode::OK);
    // Its admin changes it; the test shop's viewer token does not reach it.
    let (status, _) = json_of(
        &f,
        with(
            "PUT",
            &format!("/v1/sites/{key}/site"),
            &ann,
            site.to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f
        .get(&format!("/v1/sites/{key}/aggregates"), Some(&f.viewer))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn an_account_cannot_create_more_sites_than_its_cap_even_at_once(db: Db) {
    let Some(mut f) = fixture(db).await else {
        return;
    };
    f.state = AppState::with_settings(
        f.state.store.clone(),
        Settings {
            sites_per_account: 3,
            ..Settings::default()
        },
    );
    // An account that administers one site already (the cap counts it).
    let bob = session(&f, "bob@shop.example", Some(Role::Admin)).await;
    let f = std::sync::Arc::new(f);
    let tries: Vec<_> = (0..6)
        .map(|i| {
            let f = f.clone();
            let bob = bob.clone();
            tokio::spawn(async move {
                let doc = json!({ "site": { "name": format!("Shop {i}") } }).to_string();
                json_of(&f, with("POST", "/v1/sites", &bob, doc)).await
            })
        })
        .collect();
    let mut made = 0;
    for t in tries {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => made += 1,
            StatusCode::FORBIDDEN => assert_eq!(body["error"]["code"], "site_limit", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(made, 2, "3 sites at most, one of them held before");
    let (_, session) = json_of(&f, with("GET", "/v1/session", &bob, "")).await;
    assert_eq!(session["sites"].as_array().unwrap().len(), 3, "{session}");
    // Another account's cap is its own.
    let cy = session_of(&f, "cy@shop.example").await;
    let doc = json!({ "site": { "name": "Cy's" } }).to_string();
    assert_eq!(
        json_of(&f, with("POST", "/v1/sites", &cy, doc)).await.0,
        StatusCode::CREATED
    );
}

async fn session_of(f: &Fixture, email: &str) -> (String, String) {
    session(f, email, None).await
}

async fn drafts_wait_until_someone_publishes_them(db: Db) {
    let Some(mut f) = fixture(db).await else {
        return;
    };
    let mut settings = Settings::default();
    settings.alerts.allow_private = true;
    f.state = AppState::with_settings(f.state.store.clone(), settings);
    let ann = session(&f, "ann@shop.example", Some(Role::Editor)).await;
    let draft_uri = "/v1/sites/test-shop/draft";
    let (status, none) = json_of(&f, with("GET", draft_uri, &ann, "")).await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert_eq!(none["document"], Value::Null);
    let (status, _) = f.get(draft_uri, Some(&f.viewer)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "viewers see no drafts");

    let (_, mut doc) = json_of(&f, with("GET", "/v1/sites/test-shop/site", &ann, "")).await;
    let config_before = f.get("/v1/sites/test-shop/config", None).await.1;
    doc["touchpoint"].as_array_mut().unwrap().push(json!({
        "id": "pricing-ces", "metric": "ces", "question": { "en": "How easy?" }, "pages": ["/pricing"]
    }));
    doc["alert"] = json!([{ "url": "http://127.0.0.1:9/hook", "on": ["detractor"], "secret": "s3cret-value-1234" }]);
    let (status, saved) = json_of(&f, with("PUT", draft_uri, &ann, doc.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(
        saved["changes"],
        json!([
            "touchpoint pricing-ces added",
            "alert to http://127.0.0.1:9/hook added"
        ])
    );
    assert_eq!(saved["updated_by"], "ann@shop.example");
    assert!(
        !saved.to_string().contains("s3cret"),
        "secrets are shown masked: {saved}"
    );
    // Visitors and the live configuration see nothing of it.
    assert_eq!(
        f.get("/v1/sites/test-shop/config", None).await.1,
        config_before
    );
    let (_, live) = json_of(&f, with("GET", "/v1/sites/test-shop/site", &ann, "")).await;
    assert!(!live.to_string().contains("pricing-ces"));
    let (_, again) = json_of(&f, with("GET", draft_uri, &ann, "")).await;
    assert_eq!(again, saved);
    // Sent back as shown, the new alert's secret masked: it keeps the secret.
    let (status, saved) = json_of(
        &f,
        with("PUT", draft_uri, &ann, again["document"].to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["document"], again["document"]);

    // An invalid draft is refused as PUT /site refuses it, naming the field.
    let mut bad = doc.clone();
    bad["touchpoint"][0]["metric"] = json!("stars");
    let (status, body) = json_of(&f, with("PUT", draft_uri, &ann, bad.to_string())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, kept) = json_of(&f, with("GET", draft_uri, &ann, "")).await;
    assert_eq!(kept, saved, "a refused draft leaves the saved one");

    // Publishing makes it live, the real secret kept, and the draft goes.
    let (status, applied) =
        json_of(&f, with("POST", "/v1/sites/test-shop/publish", &ann, "")).await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(applied, json!({ "key": "test-shop", "changed": true }));
    assert!(
        f.get("/v1/sites/test-shop/config", None)
            .await
            .1
            .contains("pricing-ces")
    );
    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        site.config.alerts[0].secret.as_deref(),
        Some("s3cret-value-1234")
    );
    let (_, gone) = json_of(&f, with("GET", draft_uri, &ann, "")).await;
    assert_eq!(gone["document"], Value::Null);
    let (status, body) = json_of(&f, with("POST", "/v1/sites/test-shop/publish", &ann, "")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_draft"))
    );

    // A draft sent back with the masked secret keeps the stored one.
    let (_, mut live) = json_of(&f, with("GET", "/v1/sites/test-shop/site", &ann, "")).await;
    live["site"]["retention_days"] = json!(30);
    let (status, saved) = json_of(&f, with("PUT", draft_uri, &ann, live.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["changes"], json!(["site.retention_days: 365 → 30"]));
    // Lowering the retention needs an admin even through a draft; the draft stays.
    let (status, body) = json_of(&f, with("POST", "/v1/sites/test-shop/publish", &ann, "")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("insufficient_role"))
    );
    assert_eq!(json_of(&f, with("GET", draft_uri, &ann, "")).await.1, saved);
    // Discarded: nothing changes.
    let (status, gone) = json_of(&f, with("DELETE", draft_uri, &ann, "")).await;
    assert_eq!((status, &gone["document"]), (StatusCode::OK, &Value::Null));
    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(site.retention_days, 365);
    assert_eq!(
        site.config.alerts[0].secret.as_deref(),
        Some("s3cret-value-1234")
    );
}
