//! The comments stream: answers with a comment, newest first, paged by a
//! cursor without gaps or repeats, filtered, searched and narrowed to one
//! answer, against what was sent; its refusals on arrival. Run with
//! `cargo test -p touchpoint-server --test it comments`.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use touchpoint_server::auth::{hash_token, new_token};
use touchpoint_server::store::{Role, Store};
use touchpoint_server::{AppState, app, site_file};
use tower::ServiceExt;

use crate::both;
use crate::support::{Db, TestDb, database};

both!(
    comments_come_newest_first_in_pages_without_gaps,
    comments_are_filtered_searched_and_refused_clearly,
    search_folds_the_case_of_every_letter,
);

const SITE: &str = r#"
[site]
name = "Comment shop"
key = "comment-shop"

[[touchpoint]]
id = "site-nps"
metric = "nps"
question = { en = "How likely?" }

[[touchpoint]]
id = "checkout-ces"
metric = "ces"
question = { en = "How easy?" }
"#;

struct Fixture {
    _db: TestDb,
    state: AppState,
    viewer: String,
}

async fn fixture(db: Db) -> Option<Fixture> {
    let test_db = database(db).await?;
    let store = Store::open(&test_db.url).await.unwrap();
    store
        .apply_site(&site_file::parse(SITE).unwrap(), || unreachable!())
        .await
        .unwrap();
    let site = store.site_by_key("comment-shop").await.unwrap().unwrap();
    let viewer = new_token();
    store
        .add_token(site.id, Role::Viewer, &hash_token(&viewer))
        .await
        .unwrap();
    Some(Fixture {
        _db: test_db,
        state: AppState::new(store),
        viewer,
    })
}

impl Fixture {
    async fn post(&self, events: &[Value]) {
        let req = Request::post("/v1/events")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"site": "comment-shop", "events": events}).to_string(),
            ))
            .unwrap();
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (status, body) = self.get_text(uri).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    async fn get_text(&self, uri: &str) -> (StatusCode, String) {
        let req = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.viewer))
            .body(Body::empty())
            .unwrap();
        let res = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }
}

/// The `i`th answer: every third without a comment; a third of the
/// comments on the checkout; two share each second (ties break by id).
fn answer(i: u64) -> Value {
    let t = time::macros::datetime!(2026-11-10 09:00 UTC) + time::Duration::seconds((i / 2) as i64);
    let checkout = i % 3 == 1;
    let mut e = json!({
        "id": format!("00000000-0000-4000-8004-{i:012}"),
        "kind": "response",
        "touchpoint": if checkout { "checkout-ces" } else { "site-nps" },
        "score": if checkout { 1 + (i % 7) as i64 } else { (i % 11) as i64 },
        "page": if checkout { "https://shop.example/checkout" } else { "https://shop.example/product/7" },
        "ts": touchpoint_server::time::format_ts(t),
    });
    if i % 3 != 2 {
        e["comment"] = json!(if i.is_multiple_of(10) {
            format!("answer {i}: <b>slow</b> and frustrating, so annoying!!")
        } else {
            format!("answer {i}: fine")
        });
    }
    e
}

async fn comments_come_newest_first_in_pages_without_gaps(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let sent: Vec<Value> = (0..90).map(answer).collect();
    f.post(&sent).await;
    let mut want: Vec<&Value> = sent.iter().filter(|e| e.get("comment").is_some()).collect();
    want.sort_by(|a, b| {
        (b["ts"].as_str(), b["id"].as_str()).cmp(&(a["ts"].as_str(), a["id"].as_str()))
    });
    let mut got = Vec::new();
    let mut uri = "/v1/sites/comment-shop/comments?limit=7".to_owned();
    loop {
        let (status, page) = f.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let rows = page["comments"].as_array().unwrap();
        assert!(rows.len() <= 7);
        got.extend(rows.iter().cloned());
        match page["next"].as_str() {
            Some(next) => {
                assert_eq!(rows.len(), 7, "only a full page has a next");
                uri = format!("/v1/sites/comment-shop/comments?limit=7&before={next}");
            }
            None => break,
        }
    }
    let ids = |v: &[&Value]| {
        v.iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&got.iter().collect::<Vec<_>>()), ids(&want));
    let first = &got[0];
    let sent_first = want[0];
    assert_eq!(first["comment"], sent_first["comment"]);
    assert_eq!(first["touchpoint"], sent_first["touchpoint"]);
    assert_eq!(first["score"], sent_first["score"]);
    assert_eq!(first["stage"], "unassigned");
    assert!(first["page"].as_str().unwrap().starts_with('/'), "{first}");
}

async fn comments_are_filtered_searched_and_refused_clearly(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let sent: Vec<Value> = (0..90).map(answer).collect();
    f.post(&sent).await;
    let base = "/v1/sites/comment-shop/comments?limit=200";
    let count = |v: &Value| v["comments"].as_array().unwrap().len();

    // Search: case-insensitive, markup kept as the text it is; LIKE's
    // wildcards are searched for, not obeyed.
    let (_, slow) = f.get(&format!("{base}&q=%3CB%3ESLOW")).await;
    let with_slow = sent
        .iter()
        .filter(|e| e["comment"].as_str().is_some_and(|c| c.contains("<b>slow")))
        .count();
    assert!(with_slow > 0);
    assert_eq!(count(&slow), with_slow, "{slow}");
    let (_, wild) = f.get(&format!("{base}&q=%25")).await;
    assert_eq!(count(&wild), 0, "{wild}");
    // The raw exports take the same search (the dashboard downloads what
    // the stream shows); a search with the emotion flag narrows both.
    let raw = "/v1/sites/comment-shop/responses";
    for (query, expected) in [
        ("q=%3CB%3ESLOW", with_slow),
        ("q=%25", 0),
        ("q=_", 0),
        ("q=fine&touchpoint=checkout-ces", {
            sent.iter()
                .filter(|e| {
                    e["touchpoint"] == "checkout-ces"
                        && e["comment"].as_str().is_some_and(|c| c.ends_with("fine"))
                })
                .count()
        }),
    ] {
        let (status, csv) = f.get_text(&format!("{raw}.csv?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {csv}");
        assert_eq!(csv.lines().count(), 1 + expected, "{query}: {csv}");
        let (_, ndjson) = f.get_text(&format!("{raw}.ndjson?{query}")).await;
        assert_eq!(ndjson.lines().count(), expected, "{query}: {ndjson}");
    }
    let (_, csv) = f.get_text(&format!("{raw}.csv?q=slow")).await;
    assert!(
        csv.lines().skip(1).all(|l| l.contains("<b>slow</b>")),
        "{csv}"
    );
    // Aggregates keep no comments: a search there is refused, with why.
    let (status, body) = f.get("/v1/sites/comment-shop/aggregates?q=slow").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"].as_str().unwrap().starts_with("q:"),
        "{body}"
    );

    // Filters as every report takes them, the emotion flag among them.
    let (_, checkout) = f.get(&format!("{base}&touchpoint=checkout-ces")).await;
    assert!(
        checkout["comments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["touchpoint"] == "checkout-ces")
    );
    assert_eq!(
        count(&checkout),
        sent.iter()
            .filter(|e| e["touchpoint"] == "checkout-ces" && e.get("comment").is_some())
            .count()
    );
    let (_, frustrated) = f.get(&format!("{base}&flag=frustration")).await;
    assert!(count(&frustrated) > 0, "{frustrated}");
    assert!(frustrated["comments"].as_array().unwrap().iter().all(|c| {
        c["flags"]
            .as_array()
            .unwrap()
            .contains(&json!("frustration"))
    }));

    // One answer, as an alert links to it.
    let id = sent[0]["id"].as_str().unwrap();
    let (_, one) = f
        .get(&format!("{base}&response={}", id.to_uppercase()))
        .await;
    assert_eq!(count(&one), 1);
    assert_eq!(one["comments"][0]["id"], id);

    // Refusals name what is wrong.
    for (query, says) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("before=yesterday", "before"),
        ("flag=anger", "flag"),
        (&format!("q={}", "x".repeat(201)), "at most 200"),
    ] {
        let (status, body) = f
            .get(&format!("/v1/sites/comment-shop/comments?{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{query}: {body}"
        );
    }
    // No credential, nothing read.
    let req = Request::get("/v1/sites/comment-shop/comments")
        .body(Body::empty())
        .unwrap();
    let res = app(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// A search finds a comment whatever the case of its letters, accented,
/// Greek or Turkish ones too, in the stream and in the raw exports.
async fn search_folds_the_case_of_every_letter(db: Db) {
    let Some(f) = fixture(db).await else { return };
    let comments = [
        "ÜBER den Preis bin ich enttäuscht",
        "über die Lieferung freue ich mich",
        "ÇOK YAVAŞ bir site",
        "ΠΟΛΥ ΑΡΓΟ",
        "plain ascii",
    ];
    let sent: Vec<Value> = comments
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "id": format!("00000000-0000-4000-8005-{i:012}"),
                "kind": "response",
                "touchpoint": "site-nps",
                "score": 3,
                "page": "https://shop.example/",
                "ts": "2026-11-10T09:00:00Z",
                "comment": c,
            })
        })
        .collect();
    f.post(&sent).await;
    let count = |v: &Value| v["comments"].as_array().unwrap().len();
    for (q, expected) in [
        ("%C3%BCber", 2),                // über
        ("%C3%9CBER", 2),                // ÜBER
        ("yava%C5%9F", 1),               // yavaş
        ("%CF%80%CE%BF%CE%BB%CF%85", 1), // πολυ
        ("ENTT%C3%84USCHT", 1),          // ENTTÄUSCHT
        ("%C3%A9", 0),                   // é
    ] {
        let (status, body) = f
            .get(&format!("/v1/sites/comment-shop/comments?q={q}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{q}: {body}");
        assert_eq!(count(&body), expected, "{q}: {body}");
        let (_, csv) = f
            .get_text(&format!("/v1/sites/comment-shop/responses.csv?q={q}"))
            .await;
        assert_eq!(csv.lines().count(), 1 + expected, "{q}: {csv}");
    }
}
