//! The defences, each tried the way an attacker would, through `app()`:
//! sign-in bounded before any credential and keyed so a victim is never
//! locked out, unknown site keys that cost the attacker and not the
//! server, metrics labels from closed sets, hardening headers and session
//! cookies, a password change that ends every session. Those around
//! stored data (NUL bytes, one request unable to fail another's commit,
//! follow-ups only from the answer's own visitor, retention, site names,
//! raw exports a few at a time) are in `data`; real sockets (timeouts,
//! connection caps, proxies, abandoned exports) in `abuse`.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use touchpoint_server::auth::hash_password;
use touchpoint_server::store::Role;
use tower::ServiceExt;

use crate::api::{METRICS_TOKEN, batch, fixture, response};
use crate::both;
use crate::support::Db;

mod data;

both!(
    sign_in_checks_are_bounded_before_any_credential,
    wrong_passwords_elsewhere_never_lock_a_person_out_and_spraying_stops,
    unknown_site_keys_cost_the_client_not_the_server,
    a_site_key_of_any_size_is_refused_without_a_lookup_or_an_echo,
    the_site_cache_stays_bounded_under_bogus_keys,
    metrics_labels_come_from_closed_sets,
    answers_carry_hardening_headers_and_safe_session_cookies,
    a_password_change_ends_every_session,
);

fn from(client: &str, mut req: Request<Body>) -> Request<Body> {
    let addr: SocketAddr = format!("{client}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

fn login(email: &str, password: &str) -> Request<Body> {
    Request::post("/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "email": email, "password": password }).to_string(),
        ))
        .unwrap()
}

async fn add_user(f: &crate::api::Fixture, email: &str, role: Role) {
    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    let hash = hash_password("correct horse battery");
    f.state
        .store
        .upsert_user(email, Some(&hash), site.id, role)
        .await
        .unwrap();
}

/// Many sign-ins at once from many addresses, all with unknown e-mails:
/// only as many password checks as there are slots run; the rest are
/// answered 503 at once, without a check.
async fn sign_in_checks_are_bounded_before_any_credential(db: Db) {
    let Some(mut f) = fixture(db).await else {
        return;
    };
    f.state.password_checks = Arc::new(tokio::sync::Semaphore::new(1));
    let mut tasks = Vec::new();
    for n in 0..24 {
        let state = f.state.clone();
        tasks.push(tokio::spawn(async move {
            let req = from(
                &format!("198.51.100.{n}"),
                login(&format!("nobody{n}@example.com"), "guess guess guess"),
            );
            let res = touchpoint_server::app(state).oneshot(req).await.unwrap();
            res.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let busy = statuses.iter().filter(|s| **s == 503).count();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(busy > 0, "no sign-in was turned away: {statuses:?}");
    assert_eq!(busy + checked, 24, "{statuses:?}");
    let (_, metrics) = f.get("/metrics", Some(METRICS_TOKEN)).await;
    assert!(
        metrics.contains(&format!("touchpoint_password_checks_busy_total {busy}\n")),
        "{metrics}"
    );
}

/// Twelve wrong passwords for bob from one address: that address waits,
/// but bob signs in from his own. Forty e-mails from one address in a
/// burst: most are never tried.
async fn wrong_passwords_elsewhere_never_lock_a_person_out_and_spraying_stops(db: Db) {
    let Some(f) = fixture(db).await else { return };
    add_user(&f, "bob@shop.example", Role::Viewer).await;
    let mut last = 0;
    for _ in 0..12 {
        let (status, _, _) = f
            .send(from(
                "203.0.113.66",
                login("bob@shop.example", "wrong wrong wrong"),
            ))
            .await;
        last = status.as_u16();
    }
    assert_eq!(last, 429, "the attacker's address is slowed down");
    let (status, _, body) = f
        .send(from(
            "198.51.100.5",
            login("bob@shop.example", "correct horse battery"),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "bob is not locked out: {body}");

    let mut tried = 0;
    for n in 0..40 {
        let (status, _, _) = f
            .send(from(
                "203.0.113.99",
                login(&format!("user{n}@shop.example"), "Spring2026!"),
            ))
            .await;
        if status == StatusCode::UNAUTHORIZED {
            tried += 1;
        }
    }
    assert!(tried <= 10, "{tried} e-mails were tried from one address");
}

/// A stranger posting to keys nobody has is slowed down like any client:
/// its own budget is spent before the lookup.
async fn unknown_site_keys_cost_the_client_not_the_server(db: Db) {
    let Some(mut f) = fixture(db).await else {
        return;
    };
    let settings = touchpoint_server::Settings {
        rate_limits: touchpoint_server::limits::RateLimits {
            per_client: 4,
            per_site: 0,
        },
        ..touchpoint_server::Settings::default()
    };
    f.state = touchpoint_server::AppState::with_settings(f.state.store.clone(), settings);
    let mut statuses = Vec::new();
    for n in 0..30 {
        let body = json!({ "site": format!("tp_nobody{n:04}"), "events": [response(1, "/", 9)] });
        let req = Request::post("/v1/events")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, _, text) = f.send(from("203.0.113.7", req)).await;
        assert!(
            !text.contains(&format!("tp_nobody{n:04}")),
            "the key is echoed: {text}"
        );
        statuses.push(status.as_u16());
    }
    assert_eq!(statuses[0], 404);
    assert!(statuses.contains(&429), "{statuses:?}");
    // Another client is not affected.
    let req = Request::post("/v1/events")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(batch(vec![response(
            2,
            "https://shop.example/",
            9,
        )])))
        .unwrap();
    let (status, _, body) = f.send(from("198.51.100.8", req)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

async fn a_site_key_of_any_size_is_refused_without_a_lookup_or_an_echo(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let huge = "k".repeat(900_000);
    let body = json!({ "site": huge, "events": [response(1, "/", 9)] }).to_string();
    let (status, body) = f.post(body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_site_key");
    assert!(body.to_string().len() < 300, "{body}");
    for key in ["a b", "x", "tp_<script>", "tp_日本"] {
        let (status, body) = f
            .post(json!({ "site": key, "events": [] }).to_string())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key}");
        assert!(!body.to_string().contains(key), "{body}");
        let (status, text) = f
            .get(&format!("/v1/sites/{}/config", urlencode(key)), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{key}");
        assert!(!text.contains(key), "{text}");
    }
    assert!(f.state.sites.is_empty(), "nothing was looked up or cached");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn the_site_cache_stays_bounded_under_bogus_keys(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let n = touchpoint_server::cache::MAX_ENTRIES + 50;
    for i in 0..n {
        let site = f
            .state
            .sites
            .get(&f.state.store, &format!("tp_bogus{i:06}"))
            .await
            .unwrap();
        assert!(site.is_none());
    }
    assert!(
        f.state.sites.len() <= touchpoint_server::cache::MAX_ENTRIES,
        "{}",
        f.state.sites.len()
    );
}

async fn metrics_labels_come_from_closed_sets(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let (_, before) = f.get("/metrics", Some(METRICS_TOKEN)).await;
    for n in 0..200 {
        let req = Request::builder()
            .method(format!("X-RANDOM-{n}").as_str())
            .uri(format!("/v1/sites/site-{n}/unknown-{n}"))
            .body(Body::empty())
            .unwrap();
        f.send(req).await;
    }
    let (_, after) = f.get("/metrics", Some(METRICS_TOKEN)).await;
    assert!(
        !after.contains("X-RANDOM") && !after.contains("site-1"),
        "{after}"
    );
    assert!(after.contains("method=\"other\""), "{after}");
    assert!(
        after.len() < before.len() + 4_000,
        "{} → {} bytes",
        before.len(),
        after.len()
    );
}

async fn answers_carry_hardening_headers_and_safe_session_cookies(db: Db) {
    let Some(f) = fixture(db).await else { return };
    for uri in [
        "/healthz",
        "/v1/sites/test-shop/config",
        "/nowhere",
        "/t.js",
    ] {
        let (_, headers, _) = f.send(Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(headers["x-content-type-options"], "nosniff", "{uri}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{uri}"
        );
        assert_eq!(headers["x-frame-options"], "DENY", "{uri}");
    }
    add_user(&f, "ann@shop.example", Role::Viewer).await;
    let mut req = login("ann@shop.example", "correct horse battery");
    req.headers_mut()
        .insert(header::ORIGIN, "https://feedback.example".parse().unwrap());
    let (status, headers, _) = f.send(req).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("__Host-touchpoint_session=")
            && cookie.contains("; Secure")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let value = cookie.split(';').next().unwrap().to_owned();
    let (status, headers, body) = f
        .send(
            Request::get("/v1/session")
                .header(header::COOKIE, value)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
}

async fn a_password_change_ends_every_session(db: Db) {
    let Some(f) = fixture(db).await else { return };
    add_user(&f, "ann@shop.example", Role::Editor).await;
    let (_, headers, _) = f
        .send(login("ann@shop.example", "correct horse battery"))
        .await;
    let cookie = headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let who = |cookie: String| {
        Request::get("/v1/session")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(f.send(who(cookie.clone())).await.0, StatusCode::OK);
    assert!(
        f.state
            .store
            .change_password("ann@shop.example", &hash_password("a brand new password"))
            .await
            .unwrap()
    );
    assert_eq!(f.send(who(cookie)).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, _) = f
        .send(login("ann@shop.example", "a brand new password"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        f.state
            .store
            .remove_user("ann@shop.example", None)
            .await
            .unwrap()
    );
    let (status, _, _) = f
        .send(login("ann@shop.example", "a brand new password"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
