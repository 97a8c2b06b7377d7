//! The `touchpoint` command line as the contract fixes it, through `cli::run`
//! on a real database.

use clap::Parser;
use serde_json::Value;
use touchpoint_server::cli::{Cli, run};

use crate::both;
use crate::support::{Db, database};

both!(
    apply_is_idempotent_and_tokens_and_exports_work,
    apply_reports_what_is_wrong_with_the_file
);

async fn touchpoint(args: &[&str]) -> anyhow::Result<String> {
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
