//! `touchpoint migrate --to postgres://…`: a SQLite database with sites,
//! users, tokens, sessions and events copied into PostgreSQL, its rollups
//! rebuilt there equal to SQLite's, a second run copying nothing, a run
//! after more events copying only those, and a target that holds sites of
//! its own refused.

use serde_json::{Value, json};
use touchpoint_server::store::Store;

use crate::cli::{apply_demo, touchpoint};
use crate::support::{Db, database};

fn events(from: u32, to: u32) -> String {
    let mut out = String::new();
    for n in from..to {
        let day = 1 + n % 28;
        let (kind, extra) = match n % 4 {
            0 => ("impression", json!({})),
            1 => (
                "response",
                json!({"metric": "nps", "score": n % 11, "comment": format!("line\tone\nline \"two\" \\ {n}")}),
            ),
            2 => ("response", json!({"metric": "nps", "score": n % 11})),
            _ => ("dismiss", json!({})),
        };
        let mut e = json!({
            "id": format!("00000000-0000-4000-8000-{n:012}"),
            "kind": kind,
            "touchpoint": "site-nps",
            "page": format!("http://localhost:8081/product/{}", n % 50),
            "ts": format!("2026-11-{day:02}T10:00:00Z"),
            "visitor": format!("v{}", n % 300),
            "session": format!("s{}", n % 900),
            "locale": "en",
            "device": "mobile",
        });
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        out.push_str(&e.to_string());
        out.push('\n');
    }
    out
}

async fn import(db: &str, key: &str, ndjson: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, ndjson).unwrap();
    let out = touchpoint(&[
        "--database",
        db,
        "import",
        "--site",
        key,
        file.to_str().unwrap(),
        "--json",
    ])
    .await
    .unwrap();
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["rejected"], 0, "{report}");
}

async fn migrate(sqlite: &str, pg: &str) -> anyhow::Result<Value> {
    let out = touchpoint(&["--database", sqlite, "--json", "migrate", "--to", pg]).await?;
    Ok(serde_json::from_str(&out)?)
}

fn copied_now(report: &Value, table: &str) -> u64 {
    let t = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .unwrap_or_else(|| panic!("{table} in {report}"));
    assert_eq!(t["source"], t["target"], "{t}");
    t["copied_now"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_moves_to_postgres_whole_and_resumably() {
    let lite = database(Db::Sqlite).await.unwrap();
    let Some(pg) = database(Db::Postgres).await else {
        return;
    };
    let key = apply_demo(&lite.url).await;
    touchpoint(&[
        "--database",
        &lite.url,
        "user",
        "add",
        "--email",
        "ana@example.com",
        "--site",
        &key,
        "--role",
        "editor",
        "--password",
        "a long enough password",
    ])
    .await
    .unwrap();
    let token = touchpoint(&["--database", &lite.url, "token", "add", "--site", &key])
        .await
        .unwrap();
    // More than one batch of rows, with text COPY must escape.
    import(&lite.url, &key, &events(0, 23_000)).await;

    let first = migrate(&lite.url, &pg.url).await.unwrap();
    assert_eq!(copied_now(&first, "events"), 23_000);
    assert_eq!(copied_now(&first, "sites"), 1);
    assert_eq!(copied_now(&first, "users"), 1);
    assert_eq!(copied_now(&first, "tokens"), 1);
    assert_eq!(copied_now(&first, "memberships"), 1);

    let source = Store::open(&lite.url).await.unwrap();
    let target = Store::open(&pg.url).await.unwrap();
    let site = |s: &Store| {
        let s = s.clone();
        let key = key.clone();
        async move { s.site_by_key(&key).await.unwrap().unwrap() }
    };
    let (a, b) = (site(&source).await, site(&target).await);
    assert_eq!((a.id, &a.name), (b.id, &b.name));
    assert_eq!(
        source.rollup_snapshot(a.id).await.unwrap(),
        target.rollup_snapshot(b.id).await.unwrap(),
        "rollups rebuilt in PostgreSQL equal SQLite's"
    );
    // The same raw export, byte for byte, from either database.
    let export = |db: String| {
        let key = key.clone();
        async move {
            touchpoint(&[
                "--database",
                &db,
                "export",
                "--site",
                &key,
                "--raw",
                "--format",
                "ndjson",
            ])
            .await
            .unwrap()
        }
    };
    assert_eq!(export(lite.url.clone()).await, export(pg.url.clone()).await);
    // The token works against the new database.
    let tokens = touchpoint(&["--database", &pg.url, "token", "list", "--site", &key])
        .await
        .unwrap();
    assert!(tokens.contains("viewer"), "{tokens} (made: {token})");

    // Run again: nothing to copy.
    let again = migrate(&lite.url, &pg.url).await.unwrap();
    for table in ["sites", "users", "tokens", "events"] {
        assert_eq!(copied_now(&again, table), 0, "{table}");
    }
    // More events since: only those are copied, and counted.
    import(&lite.url, &key, &events(23_000, 23_500)).await;
    let more = migrate(&lite.url, &pg.url).await.unwrap();
    assert_eq!(copied_now(&more, "events"), 500);
    assert_eq!(
        source.rollup_snapshot(a.id).await.unwrap(),
        target.rollup_snapshot(b.id).await.unwrap()
    );
    // New rows in PostgreSQL get ids past the copied ones.
    let second = touchpoint(&[
        "--database",
        &pg.url,
        "token",
        "add",
        "--site",
        &key,
        "--json",
    ])
    .await
    .unwrap();
    assert!(second.contains("tpk_"), "{second}");
    source.close().await;
    target.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_with_sites_of_its_own_is_refused() {
    let lite = database(Db::Sqlite).await.unwrap();
    let Some(pg) = database(Db::Postgres).await else {
        return;
    };
    apply_demo(&lite.url).await;
    apply_demo(&pg.url).await;
    let err = migrate(&lite.url, &pg.url).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("already holds sites"),
        "{err:#}"
    );
    let err = migrate(&lite.url, &lite.url).await.unwrap_err();
    assert!(format!("{err:#}").contains("PostgreSQL URL"), "{err:#}");
    let err = migrate(&pg.url, &pg.url).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("SQLite database file"),
        "{err:#}"
    );
}
