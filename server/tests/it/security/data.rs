//! The defences around stored data: text PostgreSQL cannot store refused
//! field by field, one request unable to fail another's commit, follow-ups
//! only from the answer's own visitor, retention that needs an admin and a
//! confirmation, site names that leak nothing, raw exports read a few at
//! a time.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use touchpoint_server::commit::Committer;
use touchpoint_server::site_file;
use touchpoint_server::store::{Role, StoredEvent};
use touchpoint_server::validate::{Window, validate};

use super::{add_user, login};
use crate::api::{batch, fixture, response};
use crate::both;
use crate::support::Db;

both!(
    nul_bytes_are_refused_by_field,
    one_request_cannot_fail_anothers_commit,
    only_the_answers_own_visitor_completes_it,
    lowering_retention_needs_an_admin_and_a_confirmation,
    site_names_are_not_unique_and_leak_nothing,
    raw_exports_are_read_a_few_at_a_time,
);

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
