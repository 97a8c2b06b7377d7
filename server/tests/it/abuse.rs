//! A stranger with a loop against a real socket, in bounded form: slow
//! headers, slow bodies, more connections than the server takes, a spoofed
//! `X-Forwarded-For`, and exports abandoned halfway. Each check waits on
//! what the server does (a closed connection, an answer), never on a clock.

use serde_json::json;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use touchpoint_server::limits::RateLimits;
use touchpoint_server::store::Store;
use touchpoint_server::{AppState, Settings};

use crate::api::{SITE, batch, response};
use crate::both;
use crate::support::{Db, database};

both!(
    slow_headers_are_cut_off_and_healthz_answers_again,
    connections_beyond_the_cap_are_closed_on_arrival,
    a_body_that_stops_arriving_is_answered_408,
    a_spoofed_forwarded_for_does_not_escape_the_limit,
    an_abandoned_xlsx_export_stops,
);

/// A server with `settings` on 127.0.0.1:0, and its state.
async fn server(
    db: Db,
    settings: Settings,
) -> Option<(SocketAddr, AppState, crate::support::TestDb)> {
    let test_db = database(db).await?;
    let store = Store::open(&test_db.url).await.unwrap();
    store
        .apply_site(
            &touchpoint_server::site_file::parse(SITE).unwrap(),
            || unreachable!(),
        )
        .await
        .unwrap();
    let state = AppState::with_settings(store, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(touchpoint_server::serve(
        listener,
        state.clone(),
        std::future::pending(),
    ));
    Some((addr, state, test_db))
}

/// Sends `request` on a new connection and returns the status line's code,
/// or `None` when the server closes the connection without an answer.
fn ask(addr: SocketAddr, request: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.split(' ').nth(1)?.parse().ok()
}

fn healthz(addr: SocketAddr) -> Option<u16> {
    ask(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
}

/// Connections that send half a header and then nothing.
fn half_headers(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
                .unwrap();
            s
        })
        .collect()
}

/// Whether the server closed this connection (read gives end of file or a
/// reset) before `within` passed.
fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 256];
    match s.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

/// Every slot held by clients that never finish their headers: once the
/// header timeout cuts them off, a well-behaved client gets in.
async fn slow_headers_are_cut_off_and_healthz_answers_again(db: Db) {
    let settings = Settings {
        header_timeout: Duration::from_secs(1),
        max_connections: 3,
        ..Settings::default()
    };
    let Some((addr, _state, _db)) = server(db, settings).await else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        let mut slow = half_headers(addr, 3);
        for s in &mut slow {
            assert!(
                closed_by_server(s, Duration::from_secs(15)),
                "a half-sent header held its connection"
            );
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while healthz(addr) != Some(200) {
            assert!(Instant::now() < deadline, "healthz never answered");
        }
    })
    .await
    .unwrap();
}

async fn connections_beyond_the_cap_are_closed_on_arrival(db: Db) {
    let settings = Settings {
        header_timeout: Duration::from_secs(120),
        max_connections: 3,
        ..Settings::default()
    };
    let Some((addr, state, _db)) = server(db, settings).await else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        let held = half_headers(addr, 3);
        // The three are being served (their slots taken) once a fourth is
        // turned away; ask until it is.
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut extra = TcpStream::connect(addr).unwrap();
        while !closed_by_server(&mut extra, Duration::from_secs(5)) {
            assert!(Instant::now() < deadline, "a fourth connection was kept");
            extra = TcpStream::connect(addr).unwrap();
        }
        assert_eq!(healthz(addr), None, "no slot is free");
        drop(held);
        let deadline = Instant::now() + Duration::from_secs(15);
        while healthz(addr) != Some(200) {
            assert!(Instant::now() < deadline, "healthz never answered");
        }
    })
    .await
    .unwrap();
    let text = state.metrics.render((0, 0));
    let refused = text
        .lines()
        .find_map(|l| l.strip_prefix("touchpoint_connections_refused_total "))
        .unwrap();
    assert!(refused.parse::<u64>().unwrap() >= 1, "{text}");
}

async fn a_body_that_stops_arriving_is_answered_408(db: Db) {
    let settings = Settings {
        body_timeout: Duration::from_secs(1),
        ..Settings::default()
    };
    let Some((addr, _state, _db)) = server(db, settings).await else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(
            b"POST /v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n{\"site\":",
        )
        .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("request_timeout"), "{answer}");
    })
    .await
    .unwrap();
}

/// Behind one trusted proxy, the client is what the proxy appended; the
/// entries a client writes to its left change nothing.
async fn a_spoofed_forwarded_for_does_not_escape_the_limit(db: Db) {
    let settings = Settings {
        rate_limits: RateLimits {
            per_client: 4,
            per_site: 0,
        },
        trusted_proxies: 1,
        ..Settings::default()
    };
    let Some((addr, _state, _db)) = server(db, settings).await else {
        return;
    };
    tokio::task::spawn_blocking(move || {
        let post = |n: u32, forwarded: &str| {
            let body = batch(vec![response(n, "https://shop.example/", 9)]);
            ask(
                addr,
                &format!(
                    "POST /v1/events HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n\
                     X-Forwarded-For: {forwarded}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
            )
        };
        let statuses: Vec<_> = (0..6)
            .map(|n| post(n, &format!("10.9.8.{n}, 203.0.113.9")))
            .collect();
        assert!(statuses.contains(&Some(429)), "{statuses:?}");
        // Another client behind the same proxy is not affected.
        assert_eq!(post(99, "198.51.100.3"), Some(202));
    })
    .await
    .unwrap();
}

/// A reader who leaves halfway through an XLSX export stops it: no more
/// pages are read for nobody.
async fn an_abandoned_xlsx_export_stops(db: Db) {
    let Some((addr, state, _db)) = server(db, Settings::default()).await else {
        return;
    };
    let site = state.store.site_by_key("test-shop").await.unwrap().unwrap();
    let rows = touchpoint_server::export::PAGE_ROWS as u32 * 6;
    let events: Vec<_> = (0..rows)
        .map(|n| {
            let mut e = response(n, "https://shop.example/", 9);
            e["comment"] = json!("a comment long enough to give the workbook some weight");
            touchpoint_server::validate::validate(
                &serde_json::from_value(e).unwrap(),
                &site.config,
                touchpoint_server::validate::Window::now(365),
            )
            .unwrap()
        })
        .collect();
    for chunk in events.chunks(10_000) {
        state.store.insert_events(site.id, chunk).await.unwrap();
    }
    let token = touchpoint_server::auth::new_token();
    state
        .store
        .add_token(
            site.id,
            touchpoint_server::store::Role::Viewer,
            &touchpoint_server::auth::hash_token(&token),
        )
        .await
        .unwrap();
    let abandoned = state.metrics.exports_abandoned();
    tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(
            format!(
                "GET /v1/sites/test-shop/responses.xlsx HTTP/1.1\r\nHost: t\r\n\
                 Authorization: Bearer {token}\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
        let mut head = [0u8; 12];
        s.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        // The reader goes away before the workbook is ready.
        drop(s);
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while state.metrics.exports_abandoned() == abandoned {
        assert!(Instant::now() < deadline, "the export went on for nobody");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
