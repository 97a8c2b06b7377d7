//! Rollups for what was stored before they were kept (the migration),
//! rebuilt on request (`touchpoint rollup rebuild`), and kept by several
//! servers writing to one database at once: each equals a recomputation.

use super::{Gen, event, site_file};
use crate::both;
use crate::support::{Db, database};
use serde_json::{Value, json};
use sqlx::{Connection, Executor};
use time::OffsetDateTime;
use touchpoint_server::store::{Store, StoredEvent};
use touchpoint_server::validate;

both!(
    servers_writing_at_once_stay_exact,
    the_migration_counts_events_stored_before_it,
    rollup_rebuild_from_the_command_line,
);

/// Events stored by a release without rollups: the migration counts them,
/// exactly as a rebuild would.
async fn the_migration_counts_events_stored_before_it(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let folder = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    // The first migration alone, from a folder holding only it.
    let first = tempfile::tempdir().unwrap();
    std::fs::copy(
        format!(
            "{}/migrations/{folder}/0001_init.sql",
            env!("CARGO_MANIFEST_DIR")
        ),
        first.path().join("0001_init.sql"),
    )
    .unwrap();
    sqlx::any::install_default_drivers();
    let url = match db {
        Db::Sqlite => format!("{}?mode=rwc", test_db.url),
        Db::Postgres => test_db.url.clone(),
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(first.path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    conn.execute(
        "INSERT INTO sites (key, name, origins, config, created_at, updated_at) \
         VALUES ('old', 'Old shop', '[]', '{\"stages\":[],\"touchpoints\":[]}', 't', 't')",
    )
    .await
    .unwrap();
    let rows = [
        // id, kind, touchpoint, page, metric, score, comment, choices, visitor, session, ts, locale, device, signal
        "('e1', 'impression', 'nps', '/a', 'nps', NULL, NULL, NULL, 'v1', 's1', '2026-01-01T23:00:00.000Z', 'en', 'mobile', NULL)",
        "('e2', 'response', 'nps', '/a', 'nps', 3, 'slow', '[\"a\",\"b\"]', 'v1', 's1', '2026-01-01T23:00:01.000Z', 'en', 'mobile', NULL)",
        "('e3', 'signal', NULL, '/a', NULL, NULL, NULL, NULL, 'v1', 's1', '2026-01-01T23:00:02.000Z', NULL, NULL, 'rage_click')",
        "('e4', 'impression', 'nps', '/b', 'nps', NULL, NULL, NULL, 'v2', 's2', '2026-01-02T08:00:00.000Z', NULL, NULL, NULL)",
        "('e5', 'dismiss', 'nps', '/b', 'nps', NULL, NULL, NULL, 'v2', 's2', '2026-01-02T08:00:01.000Z', NULL, NULL, NULL)",
        "('e6', 'response', 'pick', '/b', 'choice', NULL, NULL, '[\"x\"]', 'v2', 's2', '2026-01-02T08:00:02.000Z', 'de', 'desktop', NULL)",
        "('e7', 'response', 'nps', '/b', 'nps', 10, NULL, NULL, NULL, NULL, '2026-01-02T09:00:00.000Z', NULL, NULL, NULL)",
        "('e8', 'signal', NULL, '/b', NULL, NULL, NULL, NULL, 'v9', 's9', '2026-01-02T09:00:00.000Z', NULL, NULL, 'error')",
    ];
    for row in rows {
        let values = row.trim_start_matches('(').trim_end_matches(')');
        conn.execute(
            format!(
                "INSERT INTO events (site_id, id, kind, touchpoint, page, metric, score, comment, choices, \
                 visitor, session, ts, locale, device, signal, stage, received_at) \
                 VALUES ((SELECT id FROM sites WHERE key = 'old'), {values}, 'unassigned', 't')"
            )
            .as_str(),
        )
        .await
        .unwrap();
    }
    conn.close().await.unwrap();

    // Opening the store runs the other migrations; the last one added the
    // page rollups per device and locale, so it lists every site and the
    // rollups are rebuilt from the raw events before open returns.
    let store = Store::open(&test_db.url).await.unwrap();
    let site = store.rollup_sites().await.unwrap()[0].0;
    let migrated = store.rollup_snapshot(site).await.unwrap();
    assert!(
        migrated
            .iter()
            .any(|l| l.starts_with("rollup_days|2026-01-01|nps|unassigned|nps|1|1|0|1|0|1|")),
        "the impression of a page view with a signal counts as one: {migrated:#?}"
    );
    for line in [
        "rollup_page_items|2026-01-02|/b|pick|unassigned|choice|choice:x|1",
        "rollup_page_month_items|2026-01-01|/b|pick|unassigned|choice|choice:x|1",
        // Page rows per segment carry the event's device and locale.
        "rollup_page_segment_items|2026-01-02|/b|desktop|de|pick|unassigned|choice|choice:x|1",
        "rollup_page_segment_month_items|2026-01-01|/b|desktop|de|pick|unassigned|choice|choice:x|1",
        "rollup_segment_items|2026-01-01|unknown|unknown||unassigned||signal:rage_click|1",
    ] {
        assert!(migrated.contains(&line.to_owned()), "{line}: {migrated:#?}");
    }
    let mut pages: Vec<&str> = migrated
        .iter()
        .filter(|l| l.starts_with("rollup_page_segments|"))
        .map(|l| l.splitn(6, '|').take(5).last().unwrap())
        .collect();
    pages.dedup();
    assert_eq!(pages, ["en", "unknown", "de", "unknown"], "{migrated:#?}");
    // Comments stored before emotion flags existed got theirs ("slow":
    // frustration), and page views their signals (`view:…`): e1's view
    // had a rage click; e2 was answered before it, so it is no answer
    // after a signal.
    let (views, _): (Vec<&String>, Vec<&String>) = migrated
        .iter()
        .partition(|l| l.contains("|view:") || l.contains("|signalled:") || l.contains("|flag:"));
    assert_eq!(
        views,
        [
            "rollup_day_items|2026-01-01|nps|unassigned|nps|flag:frustration|1",
            "rollup_day_items|2026-01-01|nps|unassigned|nps|view:rage_click|1",
            "rollup_page_items|2026-01-01|/a|nps|unassigned|nps|flag:frustration|1",
            "rollup_page_items|2026-01-01|/a|nps|unassigned|nps|view:rage_click|1",
            "rollup_page_month_items|2026-01-01|/a|nps|unassigned|nps|flag:frustration|1",
            "rollup_page_month_items|2026-01-01|/a|nps|unassigned|nps|view:rage_click|1",
            "rollup_page_segment_items|2026-01-01|/a|mobile|en|nps|unassigned|nps|flag:frustration|1",
            "rollup_page_segment_items|2026-01-01|/a|mobile|en|nps|unassigned|nps|view:rage_click|1",
            "rollup_page_segment_month_items|2026-01-01|/a|mobile|en|nps|unassigned|nps|flag:frustration|1",
            "rollup_page_segment_month_items|2026-01-01|/a|mobile|en|nps|unassigned|nps|view:rage_click|1",
            "rollup_segment_items|2026-01-01|mobile|en|nps|unassigned|nps|flag:frustration|1",
            "rollup_segment_items|2026-01-01|mobile|en|nps|unassigned|nps|view:rage_click|1",
            "rollup_segment_month_items|2026-01-01|mobile|en|nps|unassigned|nps|flag:frustration|1",
            "rollup_segment_month_items|2026-01-01|mobile|en|nps|unassigned|nps|view:rage_click|1",
        ]
    );
    // What open rebuilt is what a rebuild makes, and the list is empty:
    // the next start rebuilds nothing.
    store.rebuild_rollups(site).await.unwrap();
    assert_eq!(store.rollup_snapshot(site).await.unwrap(), migrated);
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM rollup_rebuilds")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

async fn rollup_rebuild_from_the_command_line(db: Db) {
    use clap::Parser;
    use touchpoint_server::cli::{Cli, run};
    let Some(test_db) = database(db).await else {
        return;
    };
    let url = test_db.url.clone();
    let touchpoint = |args: Vec<String>| async move {
        let cli =
            Cli::try_parse_from(std::iter::once("touchpoint".to_owned()).chain(args)).unwrap();
        let mut out = Vec::new();
        run(cli, &mut out)
            .await
            .map(|()| String::from_utf8(out).unwrap())
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.toml");
    std::fs::write(&file, site_file(9999, "Europe/Berlin")).unwrap();
    let args = |a: &[&str]| -> Vec<String> {
        ["--database", url.as_str()]
            .iter()
            .chain(a)
            .map(|s| (*s).to_owned())
            .collect()
    };
    touchpoint(args(&["apply", file.to_str().unwrap()]))
        .await
        .unwrap();
    let store = Store::open(&url).await.unwrap();
    let site = store.site_by_key("prop-9999").await.unwrap().unwrap();
    let now = OffsetDateTime::now_utc();
    let events: Vec<StoredEvent> = (0..5u8)
        .map(|i| {
            let g = Gen {
                id: i,
                kind: 1,
                touchpoint: 0,
                score: 9,
                visitor: 0,
                session: 0,
                page: 0,
                age_days: 1,
                minute: 0,
                device: None,
                locale: None,
                comment: false,
                picks: 1,
                signal: 0,
            };
            validate::validate(
                &event(&g, now),
                &site.config,
                validate::Window::new(36_500, now),
            )
            .unwrap()
        })
        .collect();
    store.insert_events(site.id, &events).await.unwrap();
    let kept = store.rollup_snapshot(site.id).await.unwrap();
    let out = touchpoint(args(&["rollup", "rebuild", "--json"]))
        .await
        .unwrap();
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        answer,
        json!({"sites": [{"key": "prop-9999", "events": 5}]})
    );
    let out = touchpoint(args(&["rollup", "rebuild", "--site", "prop-9999"]))
        .await
        .unwrap();
    assert_eq!(out, "rebuilt the rollups of prop-9999 from 5 events\n");
    assert_eq!(store.rollup_snapshot(site.id).await.unwrap(), kept);
    let err = touchpoint(args(&["rollup", "rebuild", "--site", "nope"]))
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("no site has the key \"nope\""),
        "{err:#}"
    );
}

/// Four servers (four pools) on one database store overlapping batches at
/// once — the same ids, visitors and page views, follow-ups, an erasure —
/// and the rollups still equal a rebuild.
async fn servers_writing_at_once_stay_exact(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let first = Store::open(&test_db.url).await.unwrap();
    first
        .apply_site(
            &site_file::parse(&site_file(7777, "Europe/Berlin")).unwrap(),
            || unreachable!(),
        )
        .await
        .unwrap();
    let site = first.site_by_key("prop-7777").await.unwrap().unwrap();
    let now = OffsetDateTime::now_utc();
    let mut tasks = Vec::new();
    for server in 0..4u64 {
        let store = Store::open(&test_db.url).await.unwrap();
        let config = site.config.clone();
        let site_id = site.id;
        tasks.push(tokio::spawn(async move {
            let mut seed = server * 7919 + 1;
            let mut next = |n: u64| {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (seed >> 33) % n
            };
            for round in 0..40 {
                let events: Vec<StoredEvent> = (0..3)
                    .map(|_| {
                        let g = Gen {
                            id: next(200) as u8,
                            // Impressions and signals of few page views, so
                            // that writers race to link them.
                            kind: [0, 3, 0, 3, 1, 2][next(6) as usize],
                            touchpoint: next(4) as u8,
                            score: next(11) as u8,
                            visitor: next(2) as u8,
                            session: 0,
                            page: 0,
                            age_days: next(2) as i64,
                            minute: next(1440) as i64,
                            device: None,
                            locale: None,
                            comment: next(2) == 0,
                            picks: 1 + next(7) as u8,
                            signal: next(3) as u8,
                        };
                        validate::validate(
                            &event(&g, now),
                            &config,
                            validate::Window::new(36_500, now),
                        )
                        .unwrap()
                    })
                    .collect();
                store.insert_events(site_id, &events).await.unwrap();
                if server == 3 && round == 20 {
                    store.delete_visitor(site_id, "v1").await.unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let kept = first.rollup_snapshot(site.id).await.unwrap();
    assert!(kept.len() > 20, "{kept:#?}");
    first.rebuild_rollups(site.id).await.unwrap();
    assert_eq!(first.rollup_snapshot(site.id).await.unwrap(), kept);
}
