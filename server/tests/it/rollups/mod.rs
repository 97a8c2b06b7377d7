//! Rollups are a cache of raw events: whatever happens (inserts,
//! duplicates, follow-ups, retention purges, a visitor's erasure, a new
//! time zone), the rollups kept along the way equal the ones rebuilt from
//! the events. A property test drives random histories; the migration
//! fills them for events stored before it; `touchpoint rollup rebuild`
//! answers. Run with `cargo test -p touchpoint-server --test it rollups`.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};
use time::{Duration, OffsetDateTime};
use touchpoint_server::store::{Store, StoredEvent, Writer};
use touchpoint_server::time::format_ts;
use touchpoint_server::{site_file, validate};
use touchpoint_wire::Event;

use crate::both;
use crate::support::{Db, database};

mod rebuild;

both!(kept_rollups_equal_rebuilt_ones_whatever_happens);

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
