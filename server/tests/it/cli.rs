//! The `touchpoint` command line as the contract fixes it, through `cli::run`
//! on a real database.

use clap::Parser;
use serde_json::Value;
use touchpoint_server::cli::{Cli, run};

use crate::both;
use crate::support::{Db, database};

both!(
    users_are_added_with_a_hashed_password,
    users_can_be_listed_their_password_changed_and_removed,
    tokens_can_be_listed_and_revoked,
    visitors_can_be_exported_and_deleted,
    apply_is_idempotent_and_tokens_and_exports_work,
    apply_reports_what_is_wrong_with_the_file
);

/// Applies the demo site file and returns its key.
pub(crate) async fn apply_demo(db: &str) -> String {
    let site = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/demo/site.toml");
    let out = touchpoint(&["--database", db, "apply", site, "--json"])
        .await
        .unwrap();
    let applied: Value = serde_json::from_str(&out).unwrap();
    applied["sites"][0]["key"].as_str().unwrap().to_owned()
}

pub(crate) async fn touchpoint(args: &[&str]) -> anyhow::Result<String> {
    let cli = Cli::try_parse_from(std::iter::once("touchpoint").chain(args.iter().copied()))?;
    let mut out = Vec::new();
    run(cli, &mut out).await?;
    Ok(String::from_utf8(out)?)
}

async fn apply_is_idempotent_and_tokens_and_exports_work(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let Some(test_db) = database(db).await else {
        return;
    };
    let db = test_db.url.clone();
    let site = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/demo/site.toml");

    let first: Value = serde_json::from_str(
        &touchpoint(&["--database", &db, "apply", site, "--json"])
            .await
            .unwrap(),
    )
    .unwrap();
    let second: Value = serde_json::from_str(
        &touchpoint(&["apply", site, "--database", &db, "--json"])
            .await
            .unwrap(),
    )
    .unwrap();
    let key = first["sites"][0]["key"].as_str().unwrap();
    assert!(key.starts_with("tp_"), "{first}");
    assert_eq!(first["sites"][0]["name"], "Demo shop");
    assert_eq!(second["sites"][0]["key"], key);
    assert_eq!(
        (
            first["sites"][0]["changed"].as_bool(),
            second["sites"][0]["changed"].as_bool()
        ),
        (Some(true), Some(false))
    );

    let token: Value = serde_json::from_str(
        &touchpoint(&[
            "--database",
            &db,
            "token",
            "add",
            "--site",
            key,
            "--role",
            "viewer",
            "--json",
        ])
        .await
        .unwrap(),
    )
    .unwrap();
    assert!(token["token"].as_str().unwrap().starts_with("tpk_"));

    let err = touchpoint(&[
        "--database",
        &db,
        "token",
        "add",
        "--site",
        "nobody",
        "--role",
        "viewer",
    ])
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("no site has the key \"nobody\""));

    let csv = touchpoint(&[
        "--database",
        &db,
        "export",
        "--site",
        key,
        "--format",
        "csv",
        "--group-by",
        "page,stage,touchpoint",
    ])
    .await
    .unwrap();
    assert!(
        csv.starts_with("page,stage,touchpoint,metric,responses"),
        "{csv}"
    );
    let out = dir.path().join("raw.ndjson");
    touchpoint(&[
        "--database",
        &db,
        "export",
        "--site",
        key,
        "--format",
        "ndjson",
        "--raw",
        "-o",
        out.to_str().unwrap(),
    ])
    .await
    .unwrap();
    assert_eq!(std::fs::read_to_string(out).unwrap(), "");
    let err = touchpoint(&[
        "--database",
        &db,
        "export",
        "--site",
        key,
        "--group-by",
        "colour",
    ])
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("group_by: \"colour\""));

    let xlsx = dir.path().join("by-stage.xlsx");
    let args = [
        "--database",
        &db,
        "export",
        "--site",
        key,
        "--format",
        "xlsx",
        "--group-by",
        "stage",
        "--metric",
        "nps",
    ];
    touchpoint(&[&args[..], &["-o", xlsx.to_str().unwrap()]].concat())
        .await
        .unwrap();
    let sheet = crate::api::xlsx_sheet_text(&std::fs::read(&xlsx).unwrap());
    assert!(
        sheet.contains("<t>stage</t>") && sheet.contains("<t>nps_moe</t>"),
        "{sheet}"
    );
    let bom = touchpoint(&["--database", &db, "export", "--site", key, "--bom"])
        .await
        .unwrap();
    assert!(bom.starts_with("\u{feff}metric,"), "{bom:?}");
}

async fn apply_reports_what_is_wrong_with_the_file(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let Some(test_db) = database(db).await else {
        return;
    };
    let db = test_db.url.clone();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[site]\nname = \"x\"\n[[touchpoint]]\nid = \"t\"\nmetric = \"nps\"\nquestion = { en = \"Q\" }\nsample = 3").unwrap();
    let err = touchpoint(&["--database", &db, "apply", file.to_str().unwrap()])
        .await
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("bad.toml") && msg.contains("touchpoint[0].sample"),
        "{msg}"
    );
}

async fn tokens_can_be_listed_and_revoked(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let db = test_db.url.clone();
    let key = &apply_demo(&db).await;
    let add = |role: &'static str| {
        let db = db.clone();
        let key = key.to_owned();
        async move {
            let out = touchpoint(&[
                "--database",
                &db,
                "token",
                "add",
                "--site",
                &key,
                "--role",
                role,
                "--json",
            ])
            .await
            .unwrap();
            serde_json::from_str::<Value>(&out).unwrap()["token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let first = add("viewer").await;
    let _second = add("admin").await;
    let list: Value = serde_json::from_str(
        &touchpoint(&["--database", &db, "token", "list", "--site", key, "--json"])
            .await
            .unwrap(),
    )
    .unwrap();
    let tokens = list["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        (tokens[0]["role"].as_str(), tokens[1]["role"].as_str()),
        (Some("viewer"), Some("admin"))
    );
    assert!(
        !list.to_string().contains(&first),
        "token values are never listed"
    );

    touchpoint(&["--database", &db, "token", "revoke", &first])
        .await
        .unwrap();
    let id = tokens[1]["id"].to_string();
    touchpoint(&["--database", &db, "token", "revoke", &id])
        .await
        .unwrap();
    let list: Value = serde_json::from_str(
        &touchpoint(&["--database", &db, "token", "list", "--site", key, "--json"])
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        list["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["revoked_at"].is_string()),
        "{list}"
    );
    let err = touchpoint(&["--database", &db, "token", "revoke", &first])
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("no live token"));
}

async fn visitors_can_be_exported_and_deleted(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let db = test_db.url.clone();
    let key = &apply_demo(&db).await;
    let store = touchpoint_server::store::Store::open(&db).await.unwrap();
    let record = store.site_by_key(key).await.unwrap().unwrap();
    let event: touchpoint_wire::Event = serde_json::from_value(serde_json::json!({
        "id": "00000000-0000-4000-8000-000000000001", "kind": "response", "touchpoint": "site-nps",
        "page": "http://127.0.0.1:8081/cart", "score": 7, "ts": "2026-11-20T10:00:00Z", "visitor": "v-42"
    }))
    .unwrap();
    let stored = touchpoint_server::validate::validate(
        &event,
        &record.config,
        touchpoint_server::validate::Window::now(record.retention_days),
    )
    .unwrap();
    store.insert_events(record.id, &[stored]).await.unwrap();

    let out = touchpoint(&[
        "--database",
        &db,
        "visitor",
        "export",
        "--site",
        key,
        "--visitor",
        "v-42",
    ])
    .await
    .unwrap();
    let exported: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(
        (
            exported["page"].as_str(),
            exported["stage"].as_str(),
            exported["score"].as_i64()
        ),
        (Some("/cart"), Some("purchase"), Some(7))
    );
    let out = touchpoint(&[
        "--database",
        &db,
        "visitor",
        "delete",
        "--site",
        key,
        "--visitor",
        "v-42",
        "--json",
    ])
    .await
    .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        serde_json::json!({"deleted": 1})
    );
    assert_eq!(
        touchpoint(&[
            "--database",
            &db,
            "visitor",
            "export",
            "--site",
            key,
            "--visitor",
            "v-42"
        ])
        .await
        .unwrap(),
        ""
    );
}

async fn users_are_added_with_a_hashed_password(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let db = test_db.url.clone();
    let key = &apply_demo(&db).await;
    let add = |email: &'static str, password: &'static str| {
        let (db, key) = (db.clone(), key.to_owned());
        async move {
            touchpoint(&[
                "--database",
                &db,
                "user",
                "add",
                "--email",
                email,
                "--site",
                &key,
                "--role",
                "admin",
                "--password",
                password,
                "--json",
            ])
            .await
        }
    };
    let err = add("ann@shop.example", "short").await.unwrap_err();
    assert!(format!("{err:#}").contains("at least 10 characters"));
    let err = add("not-an-email", "long enough password")
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("not an e-mail address"));
    let out: Value = serde_json::from_str(
        &add("Ann@Shop.example", "long enough password")
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        out,
        serde_json::json!({ "email": "ann@shop.example", "site": key, "role": "admin" })
    );
    let store = touchpoint_server::store::Store::open(&db).await.unwrap();
    let (user_id, hash) = store
        .user_by_email("ann@shop.example")
        .await
        .unwrap()
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$") && !hash.contains("long enough"),
        "{hash}"
    );
    assert!(touchpoint_server::auth::verify_password(
        "long enough password",
        &hash
    ));
    assert!(!touchpoint_server::auth::verify_password(
        "long enough passwore",
        &hash
    ));
    assert_eq!(
        store.memberships(user_id).await.unwrap(),
        [(
            key.to_owned(),
            store.site_by_key(key).await.unwrap().unwrap().name,
            touchpoint_server::store::Role::Admin
        )]
    );
}

/// `user list`, `user passwd` (which ends the user's sessions) and `user
/// remove` (a role on one site, or the user).
async fn users_can_be_listed_their_password_changed_and_removed(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let db = test_db.url.clone();
    let key = apply_demo(&db).await;
    for (email, role) in [
        ("ann@shop.example", "admin"),
        ("bob@shop.example", "viewer"),
    ] {
        touchpoint(&[
            "--database",
            &db,
            "user",
            "add",
            "--email",
            email,
            "--site",
            &key,
            "--role",
            role,
            "--password",
            "long enough password",
        ])
        .await
        .unwrap();
    }
    let list: Value = serde_json::from_str(
        &touchpoint(&["--database", &db, "--json", "user", "list", "--site", &key])
            .await
            .unwrap(),
    )
    .unwrap();
    let users: Vec<(&str, &str)> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["email"].as_str().unwrap(),
                u["roles"][0]["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        users,
        [
            ("ann@shop.example", "admin"),
            ("bob@shop.example", "viewer")
        ]
    );

    let store = touchpoint_server::store::Store::open(&db).await.unwrap();
    let (ann, _) = store
        .user_by_email("ann@shop.example")
        .await
        .unwrap()
        .unwrap();
    store
        .create_session("session-hash", ann, "csrf", "2999-01-01T00:00:00.000Z")
        .await
        .unwrap();
    assert!(store.session("session-hash").await.unwrap().is_some());
    touchpoint(&[
        "--database",
        &db,
        "user",
        "passwd",
        "--email",
        "ann@shop.example",
        "--password",
        "another long password",
    ])
    .await
    .unwrap();
    assert!(
        store.session("session-hash").await.unwrap().is_none(),
        "the old session ended"
    );
    let (_, hash) = store
        .user_by_email("ann@shop.example")
        .await
        .unwrap()
        .unwrap();
    assert!(touchpoint_server::auth::verify_password(
        "another long password",
        &hash
    ));
    let err = touchpoint(&[
        "--database",
        &db,
        "user",
        "passwd",
        "--email",
        "nobody@shop.example",
        "--password",
        "another long password",
    ])
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("no user"), "{err:#}");

    touchpoint(&[
        "--database",
        &db,
        "user",
        "remove",
        "--email",
        "bob@shop.example",
        "--site",
        &key,
    ])
    .await
    .unwrap();
    let (bob, _) = store
        .user_by_email("bob@shop.example")
        .await
        .unwrap()
        .unwrap();
    assert!(store.memberships(bob).await.unwrap().is_empty());
    touchpoint(&[
        "--database",
        &db,
        "user",
        "remove",
        "--email",
        "bob@shop.example",
    ])
    .await
    .unwrap();
    assert!(
        store
            .user_by_email("bob@shop.example")
            .await
            .unwrap()
            .is_none()
    );
    store.close().await;
}
