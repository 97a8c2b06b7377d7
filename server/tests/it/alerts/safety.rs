//! Alerts under stress: private destinations refused at apply and at send,
//! two workers delivering each alert once, an alert acknowledged before a
//! crash delivered after the restart.

use super::*;
use crate::both;

both!(
    private_destinations_are_refused_at_apply_and_at_send,
    two_workers_deliver_each_alert_once,
    an_alert_acknowledged_before_a_crash_is_delivered_after_restart,
);

async fn private_destinations_are_refused_at_apply_and_at_send(db: Db) {
    let receiver = Receiver::start().await;
    let Some(mut f) = fixture(db, &site(&receiver.url(), "")).await else {
        return;
    };
    // The operator has not allowed private destinations.
    let mut settings = (*f.state.settings).clone();
    settings.alerts.allow_private = false;
    f.state.settings = Arc::new(settings);
    let port = receiver.addr.unwrap().port();
    // At apply: a literal address, or a name that resolves to one.
    for (url, kind) in [
        (format!("http://127.0.0.1:{port}/hook"), "loopback"),
        (format!("http://localhost:{port}/hook"), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data".to_owned(),
            "link-local",
        ),
        ("http://[fd00:ec2::254]/".to_owned(), "unique-local"),
        ("http://10.0.0.8/".to_owned(), "private"),
    ] {
        let doc = serde_json::to_string(&site_file::parse(&site(&url, "")).unwrap()).unwrap();
        let (status, body) = f.put_site(&doc).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert!(
            body.contains("alert[0].url")
                && body.contains(kind)
                && body.contains("TOUCHPOINT_ALERTS_ALLOW_PRIVATE"),
            "{url}: {body}"
        );
    }
    // The command line too, unless the operator allows it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.toml");
    std::fs::write(&file, site(&receiver.url(), "")).unwrap();
    let (database, file) = (f._db.url.clone(), file.to_str().unwrap().to_owned());
    let err = touchpoint(&["--database", &database, "apply", &file])
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("alert[0].url") && format!("{err:#}").contains("loopback"),
        "{err:#}"
    );
    touchpoint(&[
        "--database",
        &database,
        "apply",
        &file,
        "--alerts-allow-private",
    ])
    .await
    .unwrap();
    // At send: a worker not allowed private addresses refuses to post,
    // keeps the message and says why.
    let _worker = Worker(spawn_worker(
        f.state.store.clone(),
        f.state.settings.alerts.clone(),
        Arc::new(Metrics::default()),
    ));
    f.post(vec![answer(1, "site-nps", 4, None)]).await;
    let log = f
        .wait_log(1, Duration::from_secs(30), |d| {
            d["attempts"].as_u64() >= Some(2)
        })
        .await;
    assert_eq!(log[0]["status"], "pending");
    let error = log[0]["last_error"].as_str().unwrap();
    assert!(
        error.contains("refused") && error.contains("loopback"),
        "{error}"
    );
    assert!(
        receiver.got().is_empty(),
        "a private destination was posted to"
    );
}

async fn two_workers_deliver_each_alert_once(db: Db) {
    let receiver = Receiver::start().await;
    let Some(f) = fixture(db, &site(&receiver.url(), "")).await else {
        return;
    };
    // Two instances: each its own pool and worker, one database.
    let other = Store::open(&f._db.url).await.unwrap();
    let _one = f.worker();
    let _two = Worker(spawn_worker(
        other.clone(),
        alert_settings(),
        Arc::new(Metrics::default()),
    ));
    for batch in 0..6 {
        f.post(
            (1..=5)
                .map(|n| answer(batch * 5 + n, "site-nps", 2, None))
                .collect(),
        )
        .await;
    }
    let log = f
        .wait_log(30, Duration::from_secs(60), |d| d["status"] == "sent")
        .await;
    assert_eq!(log.len(), 30);
    // Each taken once: one attempt each, one request each.
    assert!(log.iter().all(|d| d["attempts"] == 1), "{log:#?}");
    let got = receiver.got();
    assert_eq!(got.len(), 30);
    let mut ids: Vec<&str> = got.iter().map(|r| r.delivery.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 30);
    let mut responses: Vec<String> = got
        .iter()
        .map(|r| {
            r.json()["alerts"][0]["response"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    responses.sort();
    responses.dedup();
    assert_eq!(responses.len(), 30);
    other.close().await;
}

/// Kills `touchpoint serve` when it is dropped.
struct ServerProcess(std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `touchpoint serve` as a process, allowed private destinations by its
/// own environment, retrying soon; and the address it listens on.
fn start_server(url: &str) -> (ServerProcess, SocketAddr) {
    let mut server = ServerProcess(
        Command::new(env!("CARGO_BIN_EXE_touchpoint"))
            .args([
                "--database",
                url,
                "--json",
                "serve",
                "--addr",
                "127.0.0.1:0",
            ])
            .args([
                "--alert-backoff-ms",
                "50",
                "--alert-poll-ms",
                "50",
                "--alert-timeout",
                "2",
            ])
            .env("TOUCHPOINT_ALERTS_ALLOW_PRIVATE", "1")
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
    let addr = listening["addr"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    (server, addr)
}

/// A detractor acknowledged (202) by a server killed at once with SIGKILL,
/// while its destination was down, reaches the destination from the next
/// server started on the same database.
async fn an_alert_acknowledged_before_a_crash_is_delivered_after_restart(db: Db) {
    let receiver = Receiver::start().await;
    receiver.fallback.store(503, Ordering::SeqCst);
    let Some(test_db) = database(db).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.toml");
    std::fs::write(&file, site(&receiver.url(), "")).unwrap();
    let applied = Command::new(env!("CARGO_BIN_EXE_touchpoint"))
        .args(["--database", &test_db.url, "apply", file.to_str().unwrap()])
        .env("TOUCHPOINT_ALERTS_ALLOW_PRIVATE", "1")
        .output()
        .unwrap();
    assert!(applied.status.success(), "{applied:?}");

    let url = test_db.url.clone();
    let mut first = tokio::task::spawn_blocking(move || start_server(&url))
        .await
        .unwrap();
    let api = first.1;
    let body = json!({ "site": "alert-shop", "events": [answer(1, "site-nps", 1, Some("Nobody answers the phone"))] })
        .to_string();
    let status = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        agent
            .post(format!("http://{api}/v1/events"))
            .content_type("text/plain")
            .send(body)
            .unwrap()
            .status()
            .as_u16()
    })
    .await
    .unwrap();
    assert_eq!(status, 202);
    // SIGKILL: no shutdown, no flush, nothing finished.
    first.0.0.kill().unwrap();
    first.0.0.wait().unwrap();
    drop(first);

    receiver.fallback.store(200, Ordering::SeqCst);
    let url = test_db.url.clone();
    let _second = tokio::task::spawn_blocking(move || start_server(&url))
        .await
        .unwrap();
    // Delivered by the new process (a lease the dead one held runs out first).
    let deadline = Instant::now() + Duration::from_secs(60);
    let got = loop {
        let got = receiver.got();
        if got.iter().any(|r| r.status == 200) {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "not delivered after the restart: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // However many attempts the first process made, one message.
    assert!(
        got.iter().all(|r| r.delivery == got[0].delivery),
        "{got:#?}"
    );
    let delivered = got.iter().find(|r| r.status == 200).unwrap();
    assert_signed(delivered);
    let m = delivered.json();
    assert_eq!(m["alerts"][0]["response"], uuid(1));
    assert_eq!(m["alerts"][0]["comment"], "Nobody answers the phone");
}
