//! The defences, each tried the way an attacker would, through `app()`:
//! sign-in bounded before any credential and keyed so a victim is never
//! locked out, unknown site keys that cost the attacker and not the
//! server, metrics labels from closed sets, NUL bytes, one request unable
//! to fail another's commit, follow-ups only from the answer's own
//! visitor, retention that needs an admin and a confirmation, site names
//! that leak nothing, hardening headers and session cookies.
//! Real sockets (timeouts, connection caps, proxies, abandoned exports)
//! are in `abuse`.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use touchpoint_server::auth::hash_password;
use touchpoint_server::commit::Committer;
use touchpoint_server::site_file;
use touchpoint_server::store::{Role, StoredEvent};
use touchpoint_server::validate::{Window, validate};
use tower::ServiceExt;

use crate::api::{METRICS_TOKEN, batch, fixture, response};
use crate::both;
use crate::support::Db;

both!(
    raw_exports_are_read_a_few_at_a_time,
    sign_in_checks_are_bounded_before_any_credential,
    wrong_passwords_elsewhere_never_lock_a_person_out_and_spraying_stops,
    unknown_site_keys_cost_the_client_not_the_server,
    a_site_key_of_any_size_is_refused_without_a_lookup_or_an_echo,
    the_site_cache_stays_bounded_under_bogus_keys,
    metrics_labels_come_from_closed_sets,
    nul_bytes_are_refused_by_field,
    one_request_cannot_fail_anothers_commit,
    only_the_answers_own_visitor_completes_it,
    lowering_retention_needs_an_admin_and_a_confirmation,
    site_names_are_not_unique_and_leak_nothing,
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

async fn nul_bytes_are_refused_by_field(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let mut with_comment = response(1, "https://shop.example/", 3);
    with_comment["comment"] = json!("bad\u{0}comment");
    let mut with_stage = response(2, "https://shop.example/", 3);
    with_stage["stage"] = json!("disc\u{0}over");
    let mut with_attribute = response(3, "https://shop.example/", 3);
    with_attribute["attributes"] = json!({ "plan": "pro\u{0}" });
    for (event, field) in [
        (with_comment, "events[0].comment"),
        (with_stage, "events[0].stage"),
        (with_attribute, "events[0].attributes.plan"),
    ] {
        let (status, body) = f.post(batch(vec![event])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(field) && message.contains("NUL"),
            "{message}"
        );
        assert_eq!(body["error"]["index"], 0);
    }
    let (status, body) = f
        .post(batch(vec![response(4, "https://shop.example/", 9)]))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

/// Two requests folded into one transaction, one of them at fault (events
/// of a site that does not exist, or text the database refuses): the other
/// is stored and answered as if alone.
async fn one_request_cannot_fail_anothers_commit(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    let stored = |n: u32| -> StoredEvent {
        let event = serde_json::from_value(response(n, "https://shop.example/", 9)).unwrap();
        validate(&event, &site.config, Window::now(365)).unwrap()
    };
    let mut nul = stored(3);
    nul.comment = Some("slipped\u{0}through".into());
    let answers = Committer::commit_together(
        &f.state.store,
        vec![
            (site.id, vec![stored(1)]),
            (site.id + 1000, vec![stored(2)]),
            (site.id, vec![stored(4)]),
        ],
    )
    .await;
    assert_eq!(answers[0].as_ref().unwrap(), &(1, 0));
    assert!(answers[1].is_err());
    assert_eq!(answers[2].as_ref().unwrap(), &(1, 0));
    if db == Db::Postgres {
        let answers = Committer::commit_together(
            &f.state.store,
            vec![(site.id, vec![nul]), (site.id, vec![stored(5)])],
        )
        .await;
        assert!(answers[0].is_err());
        assert_eq!(answers[1].as_ref().unwrap(), &(1, 0));
    }
}

/// Knowing an answer's id is not enough to write into it: its follow-up
/// comes from the same visitor and session.
async fn only_the_answers_own_visitor_completes_it(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let answer = response(1, "https://shop.example/", 3);
    assert_eq!(
        f.post(batch(vec![answer.clone()])).await.0,
        StatusCode::ACCEPTED
    );
    let mut forged = answer.clone();
    forged["comment"] = json!("written by someone else");
    forged["visitor"] = json!("attacker");
    assert_eq!(f.post(batch(vec![forged])).await.0, StatusCode::ACCEPTED);
    let mut no_session = answer.clone();
    no_session["comment"] = json!("no session");
    no_session.as_object_mut().unwrap().remove("session");
    assert_eq!(
        f.post(batch(vec![no_session])).await.0,
        StatusCode::ACCEPTED
    );
    let (_, csv) = f
        .get("/v1/sites/test-shop/responses.csv", Some(&f.viewer))
        .await;
    assert!(
        !csv.contains("someone else") && !csv.contains("no session"),
        "{csv}"
    );
    let mut own = answer;
    own["comment"] = json!("the real follow-up");
    assert_eq!(f.post(batch(vec![own])).await.0, StatusCode::ACCEPTED);
    let (_, csv) = f
        .get("/v1/sites/test-shop/responses.csv", Some(&f.viewer))
        .await;
    assert!(csv.contains("the real follow-up"), "{csv}");
}

/// An editor cannot erase history by lowering the retention; an admin
/// can, once they confirm how many events go.
async fn lowering_retention_needs_an_admin_and_a_confirmation(db: Db) {
    let Some(f) = fixture(db).await else { return };
    add_user(&f, "ed@shop.example", Role::Editor).await;
    add_user(&f, "ada@shop.example", Role::Admin).await;
    let site = f
        .state
        .store
        .site_by_key("test-shop")
        .await
        .unwrap()
        .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let events: Vec<StoredEvent> = (0..5)
        .map(|n| {
            let mut e = response(n, "https://shop.example/", 9);
            e["ts"] = json!(touchpoint_server::time::format_ts(
                now - time::Duration::days(40)
            ));
            validate(
                &serde_json::from_value(e).unwrap(),
                &site.config,
                Window::now(365),
            )
            .unwrap()
        })
        .collect();
    f.state.store.insert_events(site.id, &events).await.unwrap();
    let session = |email: &'static str| {
        let f = &f;
        async move {
            let (_, headers, body) = f.send(login(email, "correct horse battery")).await;
            let cookie = headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned();
            let csrf = serde_json::from_str::<Value>(&body).unwrap()["csrf"]
                .as_str()
                .unwrap()
                .to_owned();
            (cookie, csrf)
        }
    };
    let put = |(cookie, csrf): &(String, String), retention: u32, query: &str| {
        let doc = site_file::parse(&crate::api::SITE.replace(
            "key = \"test-shop\"",
            &format!("key = \"test-shop\"\nretention_days = {retention}"),
        ))
        .unwrap();
        Request::put(format!("/v1/sites/test-shop/site{query}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, cookie.as_str())
            .header("x-csrf-token", csrf.as_str())
            .body(Body::from(serde_json::to_string(&doc).unwrap()))
            .unwrap()
    };
    let editor = session("ed@shop.example").await;
    let (status, _, body) = f.send(put(&editor, 30, "")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("admin"), "{body}");
    // Raising it is an editor's to do.
    let (status, _, body) = f.send(put(&editor, 400, "")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let admin = session("ada@shop.example").await;
    let (status, _, body) = f.send(put(&admin, 30, "")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains("deletes 5 events") && body.contains("confirm_purge=5"),
        "{body}"
    );
    let (status, _, _) = f.send(put(&admin, 30, "?confirm_purge=4")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        f.state.store.purge_expired(now).await.unwrap(),
        0,
        "nothing changed yet"
    );
    let (status, _, body) = f.send(put(&admin, 30, "?confirm_purge=5")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(f.state.store.purge_expired(now).await.unwrap(), 5);
}

async fn site_names_are_not_unique_and_leak_nothing(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let other =
        site_file::parse("[site]\nname = \"Rival Corp secret launch\"\nkey = \"rival\"").unwrap();
    f.state
        .store
        .apply_site(&other, || unreachable!())
        .await
        .unwrap();
    let twin =
        site_file::parse("[site]\nname = \"Rival Corp secret launch\"\nkey = \"twin\"").unwrap();
    f.state
        .store
        .apply_site(&twin, || unreachable!())
        .await
        .unwrap();
    // Matching by name alone is refused when two sites share it.
    let nameless = site_file::parse("[site]\nname = \"Rival Corp secret launch\"").unwrap();
    let err = f
        .state
        .store
        .apply_site(&nameless, || "new".into())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("give site.key"), "{err}");
    // An editor renaming their site to another tenant's name learns nothing.
    add_user(&f, "ed@shop.example", Role::Editor).await;
    let (_, headers, body) = f
        .send(login("ed@shop.example", "correct horse battery"))
        .await;
    let cookie = headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = serde_json::from_str::<Value>(&body).unwrap()["csrf"]
        .as_str()
        .unwrap()
        .to_owned();
    let renamed = crate::api::SITE.replace(
        "name = \"Test shop\"",
        "name = \"Rival Corp secret launch\"",
    );
    let req = Request::put("/v1/sites/test-shop/site")
        .header(header::CONTENT_TYPE, "application/toml")
        .header(header::COOKIE, cookie)
        .header("x-csrf-token", csrf)
        .body(Body::from(renamed))
        .unwrap();
    let (status, _, body) = f.send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
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

/// A raw export reads on a database connection of its own for as long as
/// its reader takes: while as many as allowed are running, the next is
/// answered 503 at once (an aggregate export, read through the pool, is
/// not held back), and once one ends the next goes.
async fn raw_exports_are_read_a_few_at_a_time(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let (status, body) = f
        .post(batch(vec![response(1, "https://shop.example/", 9)]))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let running = f
        .state
        .raw_exports
        .clone()
        .try_acquire_many_owned(touchpoint_server::state::RAW_EXPORTS as u32)
        .unwrap();
    let (status, body) = f
        .get("/v1/sites/test-shop/responses.csv", Some(&f.viewer))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("busy"), "{body}");
    let (status, _) = f
        .get(
            "/v1/sites/test-shop/export.csv?group_by=page",
            Some(&f.viewer),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    drop(running);
    let (status, body) = f
        .get("/v1/sites/test-shop/responses.csv", Some(&f.viewer))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.lines().count(), 2, "{body}");
}
