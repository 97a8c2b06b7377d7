//! `touchpoint serve` as a real process, stopped with SIGTERM while ingests
//! are in flight: every request the server had begun is answered and
//! committed before it exits, and every 202 it gave is in the database.
//! Run with `cargo test -p touchpoint-server --test it shutdown`.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use touchpoint_server::store::Store;

use crate::both;
use crate::support::{Db, database};

both!(sigterm_drains_in_flight_ingests);

const VISITOR: &str = "drain";

/// One event batch of `n` NPS responses with fresh ids, and those ids.
fn batch(site: &str, first: u64, n: u64) -> (String, Vec<String>) {
    let ids: Vec<String> = (first..first + n)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    let events: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({
                "id": id, "kind": "response", "touchpoint": "site-nps", "metric": "nps", "score": 9,
                "page": "http://127.0.0.1:8081/", "ts": "2026-11-22T10:00:00Z", "visitor": VISITOR,
            })
        })
        .collect();
    (json!({ "site": site, "events": events }).to_string(), ids)
}

fn request_head(addr: SocketAddr, body_len: usize) -> String {
    format!(
        "POST /v1/events HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\n\
         Content-Length: {body_len}\r\nConnection: close\r\n\r\n"
    )
}

/// Reads a whole `Connection: close` answer and returns its status code.
fn read_status(stream: &mut TcpStream) -> std::io::Result<u16> {
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no HTTP answer: {answer:?}")))
}

async fn sigterm_drains_in_flight_ingests(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let url = test_db.url.clone();
    let (acknowledged, site) = tokio::task::spawn_blocking(move || drain(&url))
        .await
        .unwrap();
    // Every acknowledged event is stored.
    let store = Store::open(&test_db.url).await.unwrap();
    let site = store.site_by_key(&site).await.unwrap().unwrap();
    let stored: Vec<String> = store
        .visitor_events(site.id, VISITOR)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id.clone())
        .collect();
    for id in &acknowledged {
        assert!(stored.contains(id), "{id} was acknowledged but not stored");
    }
    store.close().await;
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
struct ServerProcess(std::process::Child);

/// Runs the server, stops it mid-ingest; returns the acknowledged event
/// ids and the site key.
fn drain(url: &str) -> (Vec<String>, String) {
    let bin = env!("CARGO_BIN_EXE_touchpoint");
    let site_file = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/demo/site.toml");
    let applied = Command::new(bin)
        .args(["--database", url, "apply", site_file, "--json"])
        .output()
        .unwrap();
    assert!(applied.status.success(), "{applied:?}");
    let applied: Value = serde_json::from_slice(&applied.stdout).unwrap();
    let site = applied["sites"][0]["key"].as_str().unwrap().to_owned();

    let mut server = ServerProcess(
        Command::new(bin)
            .args([
                "--database",
                url,
                "--json",
                "serve",
                "--addr",
                "127.0.0.1:0",
            ])
            .args(["--rate-per-client", "1000000", "--rate-per-site", "1000000"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let listening: Value = serde_json::from_str(&line).unwrap();
    let addr: SocketAddr = listening["addr"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .parse()
        .unwrap();

    // One request stays half-sent across the signal: headers and half the body.
    let (slow_body, slow_ids) = batch(&site, 1, 20);
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(request_head(addr, slow_body.len()).as_bytes())
        .unwrap();
    let (first_half, second_half) = slow_body.split_at(slow_body.len() / 2);
    slow.write_all(first_half.as_bytes()).unwrap();

    // Meanwhile, clients keep posting whole batches until the server stops
    // taking connections.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let clients: Vec<_> = (0..4u64)
        .map(|c| {
            let (site, stop, acknowledged) = (site.clone(), stop.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                let mut refused = 0;
                for r in 0.. {
                    if stop.load(Ordering::Relaxed) || r >= 10_000 {
                        return refused;
                    }
                    let (body, ids) = batch(&site, 1_000_000 * (c + 1) + r * 20, 20);
                    let Ok(mut s) = TcpStream::connect(addr) else {
                        refused += 1;
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    let sent = s
                        .write_all(request_head(addr, body.len()).as_bytes())
                        .and_then(|()| s.write_all(body.as_bytes()));
                    // A connection the server had not yet taken when it
                    // stopped listening may be reset: not acknowledged, so
                    // the client keeps the events and retries elsewhere.
                    if let (Ok(()), Ok(202)) = (sent, read_status(&mut s)) {
                        acknowledged.lock().unwrap().extend(ids);
                    }
                }
                refused
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 200 {
        assert!(Instant::now() < deadline, "no ingest was acknowledged");
        std::thread::sleep(Duration::from_millis(10));
    }

    let term = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    // The signal has taken effect once new connections are refused.
    while TcpStream::connect(addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the server kept listening after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    // The half-sent request is still being waited for...
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "the server exited with a request in flight"
    );
    // ...and is answered and committed once its body arrives.
    slow.write_all(second_half.as_bytes()).unwrap();
    assert_eq!(read_status(&mut slow).unwrap(), 202);
    acknowledged.lock().unwrap().extend(slow_ids);

    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit after draining"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "touchpoint serve exited with {status}");
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    (acknowledged, site)
}
