//! What `touchpoint serve` logs, read as an operator would: a server at
//! debug level goes through a marketer's and a visitor's whole day (config,
//! ingest, refusals, reports, exports, sign-in, a site change, a visitor's
//! data request and erasure, a detractor's alert to a webhook), and its log
//! holds no site key, token, visitor id, e-mail address, password, session,
//! database URL, webhook path or alert secret.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::both;
use crate::support::{Db, database};

both!(logs_carry_no_keys_tokens_visitors_or_database_urls);

const VISITOR: &str = "visitor-7f3a9c";
const EMAIL: &str = "ann.logs@example.com";
const WEBHOOK_PATH: &str = "T0SECRET/B0SECRET/xyzWebhookCredential";
const ALERT_SECRET: &str = "alert-signing-secret-4f1e";
const PASSWORD: &str = "correct horse battery";

fn touchpoint(url: &str, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_touchpoint"))
        .args(["--database", url, "--json"])
        .args(args)
        .env("TOUCHPOINT_PASSWORD", PASSWORD)
        .env("TOUCHPOINT_ALERTS_ALLOW_PRIVATE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn logs_carry_no_keys_tokens_visitors_or_database_urls(db: Db) {
    let Some(test_db) = database(db).await else {
        return;
    };
    let url = test_db.url.clone();
    tokio::task::spawn_blocking(move || day_in_the_logs(&url))
        .await
        .unwrap();
}

fn day_in_the_logs(url: &str) {
    // A receiver for the site's alerts, whose URL path is a credential (as
    // a chat webhook's is): it must not be logged either.
    let receiver = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook = format!(
        "http://{}/hooks/{WEBHOOK_PATH}",
        receiver.local_addr().unwrap()
    );
    receiver.set_nonblocking(true).unwrap();
    let received = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut conn = loop {
            match receiver.accept() {
                Ok((conn, _)) => break conn,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return format!("no alert arrived: {e}"),
            }
        };
        conn.set_nonblocking(false).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut request = vec![0u8; 64 * 1024];
        let n = conn.read(&mut request).unwrap_or(0);
        let _ =
            conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        String::from_utf8_lossy(&request[..n]).into_owned()
    });
    let dir = tempfile::tempdir().unwrap();
    let site_file = dir.path().join("shop.toml");
    std::fs::write(
        &site_file,
        format!(
            "{}\n[[alert]]\nurl = \"{hook}\"\non = [\"detractor\"]\nsecret = \"{ALERT_SECRET}\"\n",
            include_str!("../../fixtures/shop.toml")
        ),
    )
    .unwrap();
    let site_file = site_file.to_str().unwrap();
    let key = touchpoint(url, &["apply", site_file])["sites"][0]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let viewer = touchpoint(url, &["token", "add", "--site", &key, "--role", "viewer"])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    touchpoint(
        url,
        &[
            "user", "add", "--email", EMAIL, "--site", &key, "--role", "admin",
        ],
    );

    let mut server = Command::new(env!("CARGO_BIN_EXE_touchpoint"))
        .args([
            "--database",
            url,
            "--json",
            "serve",
            "--addr",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "debug")
        .env("TOUCHPOINT_ALERTS_ALLOW_PRIVATE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = server.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let api = serde_json::from_str::<Value>(&line).unwrap()["addr"]
        .as_str()
        .unwrap()
        .to_owned();

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let event = |id: u32, touchpoint: &str, comment: &str| {
        json!({
            "id": format!("00000000-0000-4000-8000-{id:012}"), "kind": "response",
            "touchpoint": touchpoint, "page": format!("https://shop.example/product/{key}"),
            "score": 3, "comment": comment, "visitor": VISITOR, "session": "session-5d1e",
            "ts": touchpoint_server::time::now(),
        })
    };
    let post = |body: Value| {
        let mut r = agent
            .post(format!("{api}/v1/events"))
            .content_type("text/plain")
            .send(body.to_string())
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    // A visitor answers; another batch is refused; a key nobody has.
    assert_eq!(
        post(json!({ "site": key, "events": [event(1, "site-nps", "mail ann@example.com")] })).0,
        202
    );
    assert_eq!(
        post(json!({ "site": key, "events": [event(2, "no-such-touchpoint", "x")] })).0,
        400
    );
    assert_eq!(
        post(json!({ "site": "tp_nobodyhasthis", "events": [event(3, "site-nps", "x")] })).0,
        404
    );
    // The detractor's alert goes out, signed, to the webhook (before the
    // visitor's erasure below would cancel it).
    let alert = received.join().unwrap();
    assert!(
        alert.contains(WEBHOOK_PATH)
            && alert
                .to_ascii_lowercase()
                .contains("x-touchpoint-signature"),
        "{alert}"
    );
    let get = |path: &str, auth: Option<&str>| {
        let mut req = agent.get(format!("{api}{path}"));
        if let Some(token) = auth {
            req = req.header("Authorization", &format!("Bearer {token}"));
        }
        req.call().unwrap().status().as_u16()
    };
    assert_eq!(get(&format!("/v1/sites/{key}/config"), None), 200);
    assert_eq!(
        get(
            &format!("/v1/sites/{key}/aggregates?group_by=page,stage"),
            Some(&viewer)
        ),
        200
    );
    assert_eq!(
        get(&format!("/v1/sites/{key}/export.csv"), Some(&viewer)),
        200
    );
    assert_eq!(
        get(&format!("/v1/sites/{key}/responses.xlsx"), Some(&viewer)),
        200
    );
    assert_eq!(
        get(
            &format!("/v1/sites/{key}/aggregates"),
            Some("tpk_wrongwrongwrong")
        ),
        401
    );
    assert_eq!(
        get(
            &format!("/v1/sites/{key}/visitors/{VISITOR}"),
            Some(&viewer)
        ),
        403
    );

    // The admin signs in, reads the visitor's data, changes the site, erases the visitor.
    let mut signed_in = agent
        .post(format!("{api}/v1/session"))
        .send_json(json!({ "email": EMAIL, "password": PASSWORD }))
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 200);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let session: Value = signed_in.body_mut().read_json().unwrap();
    let csrf = session["csrf"].as_str().unwrap().to_owned();
    let with_session = |req: ureq::RequestBuilder<ureq::typestate::WithoutBody>| {
        req.header("Cookie", &cookie)
            .header("X-CSRF-Token", &csrf)
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        with_session(agent.get(format!("{api}/v1/sites/{key}/visitors/{VISITOR}"))),
        200
    );
    let mut doc: Value = agent
        .get(format!("{api}/v1/sites/{key}/site"))
        .header("Cookie", &cookie)
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    doc["site"]["contact_days"] = 3.into();
    let put = agent
        .put(format!("{api}/v1/sites/{key}/site"))
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .send_json(&doc)
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    assert_eq!(
        with_session(agent.delete(format!("{api}/v1/sites/{key}/visitors/{VISITOR}"))),
        200
    );
    let wrong = agent
        .post(format!("{api}/v1/session"))
        .send_json(json!({ "email": EMAIL, "password": "not the password" }))
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);

    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    assert!(server.wait().unwrap().success());
    let log = log.join().unwrap();
    assert!(log.contains("serving"), "nothing was logged: {log}");
    let session_value = cookie.split_once('=').unwrap().1;
    let path = url.rsplit('/').next().unwrap();
    for (what, secret) in [
        ("site key", key.as_str()),
        ("token", viewer.as_str()),
        ("visitor id", VISITOR),
        ("e-mail address", EMAIL),
        ("password", PASSWORD),
        ("session", session_value),
        ("CSRF token", csrf.as_str()),
        ("database URL", url),
        ("database name or file", path),
        ("webhook path", WEBHOOK_PATH),
        ("alert secret", ALERT_SECRET),
    ] {
        if let Some(line) = log.lines().find(|l| l.contains(secret)) {
            panic!("the log shows a {what}: {line}");
        }
    }
}
