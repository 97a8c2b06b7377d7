//! Rollups are a cache of raw events: whatever happens (inserts,
//! duplicates, follow-ups, retention purges, a visitor's erasure, a new
//! time zone), the rollups kept along the way equal the ones rebuilt from
//! the events. A property test drives random histories; the migration
//! fills them for events stored before it; `touchpoint rollup rebuild`
//! answers. Run with `cargo test -p touchpoint-server --test it rollups`.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use sqlx::{Connection, Executor};
use std::sync::atomic::{AtomicU32, Ordering};
use time::{Duration, OffsetDateTime};
use touchpoint_server::store::{Store, StoredEvent, Writer};
use touchpoint_server::time::format_ts;
use touchpoint_server::{site_file, validate};
use touchpoint_wire::Event;

use crate::both;
use crate::support::{Db, database};

both!(
    kept_rollups_equal_rebuilt_ones_whatever_happens,
    servers_writing_at_once_stay_exact,
    the_migration_counts_events_stored_before_it,
    rollup_rebuild_from_the_command_line,
);

fn site_file(n: u32, timezone: &str) -> String {
    format!(
        r#"
[site]
name = "Prop {n}"
key = "prop-{n}"
timezone = "{timezone}"
attributes = ["plan", "team"]

[[stage]]
id = "browse"
label = "Browse"
pages = ["/p/*"]

[[touchpoint]]
id = "nps"
metric = "nps"
question = {{ en = "How likely?" }}
follow_up = {{ question = {{ en = "Why?" }}, max = 6, options = [
  {{ id = "a", label = {{ en = "A" }} }},
  {{ id = "b", label = {{ en = "B" }} }},
], multiple = true }}

[[touchpoint]]
id = "csat"
metric = "csat"
question = {{ en = "Happy?" }}
follow_up = {{ question = {{ en = "Tell us more" }} }}

[[touchpoint]]
id = "ces"
metric = "ces"
question = {{ en = "Easy?" }}

[[touchpoint]]
id = "pick"
metric = "choice"
question = {{ en = "Which?" }}
options = [
  {{ id = "x", label = {{ en = "X" }} }},
  {{ id = "y", label = {{ en = "Y" }} }},
  {{ id = "z", label = {{ en = "Z" }} }},
]
multiple = true
"#
    )
}

/// One generated event, before it is made valid for its touchpoint.
#[derive(Clone, Debug)]
struct Gen {
    id: u8,
    kind: u8,
    touchpoint: u8,
    score: u8,
    visitor: u8,
    session: u8,
    page: u8,
    /// Days before now; 400 is past the 365-day retention.
    age_days: i64,
    minute: i64,
    device: Option<u8>,
    locale: Option<u8>,
    comment: bool,
    picks: u8,
    signal: u8,
}

#[derive(Clone, Debug)]
enum Op {
    /// One ingest transaction: one or two batches of the site.
    Insert(Vec<Vec<Gen>>),
    /// The same response again with its follow-up's answer.
    FollowUp {
        pick: usize,
        comment: bool,
        picks: u8,
    },
    Purge,
    DeleteVisitor(u8),
    /// The site moves to another time zone (its rollups are rebuilt).
    Timezone(bool),
}

fn generated() -> impl Strategy<Value = Gen> {
    (
        (0u8..14, 0u8..4, 0u8..4, 0u8..11, 0u8..2, 0u8..2, 0u8..2),
        (
            prop_oneof![Just(0i64), Just(1), Just(2), Just(400)],
            0i64..1440,
            proptest::option::of(0u8..2),
            proptest::option::of(0u8..2),
            any::<bool>(),
            1u8..8,
            0u8..3,
        ),
    )
        .prop_map(
            |(
                (id, kind, touchpoint, score, visitor, session, page),
                (age_days, minute, device, locale, comment, picks, signal),
            )| Gen {
                id,
                kind,
                touchpoint,
                score,
                visitor,
                session,
                page,
                age_days,
                minute,
                device,
                locale,
                comment,
                picks,
                signal,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => proptest::collection::vec(proptest::collection::vec(generated(), 1..8), 1..3).prop_map(Op::Insert),
        2 => (any::<usize>(), any::<bool>(), 1u8..8).prop_map(|(pick, comment, picks)| Op::FollowUp { pick, comment, picks }),
        1 => Just(Op::Purge),
        1 => (0u8..2).prop_map(Op::DeleteVisitor),
        1 => any::<bool>().prop_map(Op::Timezone),
    ]
}

/// The options `picks` (a bit set) chooses among `ids`; never none.
fn chosen(picks: u8, ids: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| picks & (1 << i) != 0)
        .map(|(_, id)| (*id).to_owned())
        .collect();
    if out.is_empty() {
        out.push(ids[0].to_owned());
    }
    out
}

/// A valid event of the test site for a generated one.
fn event(g: &Gen, now: OffsetDateTime) -> Event {
    let ts = now - Duration::days(g.age_days) - Duration::minutes(g.minute);
    let kind = ["impression", "response", "dismiss", "signal"][usize::from(g.kind)];
    let touchpoint = ["nps", "csat", "ces", "pick"][usize::from(g.touchpoint)];
    let mut e = json!({
        "id": format!("00000000-0000-4000-8000-{:012}", g.id),
        "kind": kind,
        "page": format!("https://shop.example/p/{}", g.page),
        "ts": format_ts(ts),
        "visitor": format!("v{}", g.visitor),
        "session": format!("s{}", g.session),
    });
    if let Some(d) = g.device {
        e["device"] = json!(["mobile", "desktop"][usize::from(d)]);
        // Visitor attributes: one or two declared, and one that is dropped.
        let plan = ["free", "pro"][usize::from(d)];
        let mut attributes = json!({"plan": plan, "undeclared": "x"});
        if g.locale == Some(1) {
            attributes["team"] = json!("red");
        }
        e["attributes"] = attributes;
    }
    if let Some(l) = g.locale {
        e["locale"] = json!(["en", "de"][usize::from(l)]);
    }
    if kind == "signal" {
        e["signal"] = json!(["rage_click", "dead_click", "error"][usize::from(g.signal)]);
    } else {
        e["touchpoint"] = json!(touchpoint);
    }
    if kind == "response" {
        match touchpoint {
            "nps" => {
                let score = i64::from(g.score);
                e["score"] = json!(score);
                if score <= 6 && g.comment {
                    e["choices"] = json!(chosen(g.picks, &["a", "b"]));
                }
            }
            "csat" => {
                e["score"] = json!(1 + i64::from(g.score) % 5);
                if g.comment {
                    e["comment"] = json!("fine");
                }
            }
            "ces" => e["score"] = json!(1 + i64::from(g.score) % 7),
            _ => {
                e["choices"] = json!(chosen(g.picks, &["x", "y", "z"]));
                if g.comment {
                    e["comment"] = json!("other");
                }
            }
        }
    }
    serde_json::from_value(e).unwrap()
}

static SITES: AtomicU32 = AtomicU32::new(0);

/// Runs one history on a new site and checks, after every step, that the
/// kept rollups are what a rebuild makes of the events. On SQLite, every
/// other insert goes through the group commit's own connection
/// ([`Store::writer`]), the others through the pool: both count the same.
async fn run_history(
    store: &Store,
    writer: &std::sync::Mutex<Option<Writer>>,
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let n = SITES.fetch_add(1, Ordering::Relaxed);
    let apply = |tz: &str| site_file::parse(&site_file(n, tz)).unwrap();
    store
        .apply_site(&apply("UTC"), || unreachable!())
        .await
        .unwrap();
    let mut site = store
        .site_by_key(&format!("prop-{n}"))
        .await
        .unwrap()
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let mut responses: Vec<Event> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        let mut store_events = |events: Vec<Event>| {
            let stored: Vec<StoredEvent> = events
                .iter()
                .map(|e| {
                    validate::validate(e, &site.config, validate::Window::new(36_500, now))
                        .expect("a valid event")
                })
                .collect();
            responses.extend(
                events
                    .into_iter()
                    .filter(|e| e.score.is_some() || e.choices.is_some()),
            );
            stored
        };
        match op {
            Op::Insert(batches) => {
                let stored: Vec<Vec<StoredEvent>> = batches
                    .iter()
                    .map(|b| store_events(b.iter().map(|g| event(g, now)).collect()))
                    .collect();
                let batches: Vec<(i64, &[StoredEvent])> =
                    stored.iter().map(|b| (site.id, b.as_slice())).collect();
                // The writer's lock is let go before the pool is awaited.
                let by_writer = match writer.lock().unwrap().as_mut() {
                    Some(writer) if step % 2 == 0 => {
                        writer.insert_batches(&batches).unwrap();
                        true
                    }
                    _ => false,
                };
                if !by_writer {
                    store.insert_batches(&batches).await.unwrap();
                }
            }
            Op::FollowUp {
                pick,
                comment,
                picks,
            } => {
                if responses.is_empty() {
                    continue;
                }
                let mut e = responses[pick % responses.len()].clone();
                let follow_up_options = match e.touchpoint.as_deref() {
                    Some("nps") if e.score.is_some_and(|s| s <= 6) => Some(vec!["a", "b"]),
                    _ => None,
                };
                if *comment && e.touchpoint.as_deref() != Some("nps") {
                    e.comment = Some("later thoughts".into());
                } else if let Some(options) = follow_up_options {
                    e.choices = Some(chosen(*picks, &options));
                } else {
                    e.comment = Some("later thoughts".into());
                }
                let stored =
                    validate::validate(&e, &site.config, validate::Window::new(36_500, now))
                        .expect("a valid follow-up");
                let by_writer = match writer.lock().unwrap().as_mut() {
                    Some(writer) if step % 2 == 1 => {
                        writer
                            .insert_batches(&[(site.id, std::slice::from_ref(&stored))])
                            .unwrap();
                        true
                    }
                    _ => false,
                };
                if !by_writer {
                    store.insert_events(site.id, &[stored]).await.unwrap();
                }
            }
            Op::Purge => {
                store.purge_expired(now).await.unwrap();
            }
            Op::DeleteVisitor(v) => {
                store
                    .delete_visitor(site.id, &format!("v{v}"))
                    .await
                    .unwrap();
            }
            Op::Timezone(berlin) => {
                let tz = if *berlin {
                    "Europe/Berlin"
                } else {
                    "Pacific/Kiritimati"
                };
                store
                    .apply_site(&apply(tz), || unreachable!())
                    .await
                    .unwrap();
                site = store.site_by_key(&site.key).await.unwrap().unwrap();
            }
        }
        let kept = store.rollup_snapshot(site.id).await.unwrap();
        store.rebuild_rollups(site.id).await.unwrap();
        let rebuilt = store.rollup_snapshot(site.id).await.unwrap();
        prop_assert_eq!(kept, rebuilt, "after step {} ({:?})", step, op);
    }
    Ok(())
}

async fn kept_rollups_equal_rebuilt_ones_whatever_happens(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let url = test_db.url.clone();
    // proptest's runner is synchronous: it runs on a thread of its own,
    // with a runtime (and a pool) of its own.
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = rt.block_on(Store::open(&url)).unwrap();
        let writer = std::sync::Mutex::new(store.writer().unwrap());
        assert_eq!(writer.lock().unwrap().is_some(), db == Db::Sqlite);
        let mut runner = TestRunner::new(Config {
            cases: 64,
            max_shrink_iters: 200,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&proptest::collection::vec(op(), 1..8), |ops| {
            rt.block_on(run_history(&store, &writer, &ops))
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    })
    .await
    .unwrap();
}

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
