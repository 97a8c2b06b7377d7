//! `cargo xtask demo`: the product on a laptop. Builds everything, applies
//! `www/demo/site.toml` to a SQLite file, serves the API on :8080 and the
//! demo shop on :8081 (another origin, as on a real site), imports five
//! weeks of answers (`story`), adds a dashboard account and prints what a
//! person needs to try it.

use crate::dist;
use crate::util::{self, root, target_dir};
use anyhow::{Context, bail};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const API: &str = "127.0.0.1:8080";
const SHOP: &str = "127.0.0.1:8081";
/// The demo's dashboard account: a local demo, not a secret.
const DEMO_EMAIL: &str = "demo@example.com";
const DEMO_PASSWORD: &str = "touchpoint-demo";

pub fn run() -> anyhow::Result<()> {
    crate::system::for_demo()?;
    let dist = dist::assets()?;
    dist::check_budgets(&dist)?;
    util::cargo(
        &[
            "build",
            "--package",
            "touchpoint-server",
            "--package",
            "touchpoint-demo",
        ],
        &[("TOUCHPOINT_DIST", dist.dir.to_str().unwrap())],
    )?;
    let bin = target_dir().join("debug/touchpoint");
    let shop_bin = target_dir().join("debug/touchpoint-demo");
    let data = target_dir().join("demo");
    std::fs::create_dir_all(&data)?;
    let database = format!("sqlite://{}", data.join("touchpoint.db").display());
    let site_file = root().join("www/demo/site.toml");

    let applied = json(Command::new(&bin).args([
        "--database",
        &database,
        "apply",
        site_file.to_str().unwrap(),
        "--json",
    ]))?;
    let key = applied["sites"][0]["key"]
        .as_str()
        .context("apply printed no key")?
        .to_owned();
    let token = json(Command::new(&bin).args([
        "--database",
        &database,
        "token",
        "add",
        "--site",
        &key,
        "--role",
        "viewer",
        "--json",
    ]))?;
    let token = token["token"]
        .as_str()
        .context("token add printed no token")?
        .to_owned();

    // Five weeks of answers, so the dashboard tells its story at once.
    let story = data.join("story.ndjson");
    std::fs::write(&story, crate::story::events(&format!("http://{SHOP}")))?;
    json(Command::new(&bin).args([
        "--database",
        &database,
        "import",
        "--site",
        &key,
        story.to_str().unwrap(),
        "--json",
    ]))?;
    // A dashboard account for the person trying it (an admin of the demo
    // site; the password is the demo's, printed below).
    json(Command::new(&bin).args([
        "--database",
        &database,
        "user",
        "add",
        "--email",
        DEMO_EMAIL,
        "--site",
        &key,
        "--role",
        "admin",
        "--password",
        DEMO_PASSWORD,
        "--json",
    ]))?;

    let mut api = Command::new(&bin)
        .args(["--database", &database, "serve", "--addr", API])
        .stdout(Stdio::null())
        .spawn()?;
    let mut shop = Command::new(&shop_bin)
        .args([
            "--addr",
            SHOP,
            "--api",
            &format!("http://{API}"),
            "--site",
            &key,
        ])
        .spawn()?;
    for addr in [API, SHOP] {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                let _ = api.kill();
                let _ = shop.kill();
                bail!("nothing is listening on {addr} after 30 s (is the port taken?)");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let rel_bin = bin
        .strip_prefix(root())
        .unwrap_or(&bin)
        .display()
        .to_string();
    let rel_db = format!(
        "sqlite://{}",
        data.join("touchpoint.db")
            .strip_prefix(root())
            .unwrap_or(&data)
            .display()
    );
    let lines = [
        String::new(),
        "Touchpoint demo is running. Stop it with Ctrl-C.".into(),
        String::new(),
        format!("  Demo shop      http://{SHOP}/   (answer the prompt in the corner)"),
        format!(
            "  Dashboard      http://{API}/app   (Email {DEMO_EMAIL}, Password {DEMO_PASSWORD})"
        ),
        format!("  API            http://{API}/"),
        format!("  Site key       {key}"),
        format!("  Viewer token   {token}"),
        String::new(),
        "Aggregates per page and stage, as CSV:".into(),
        format!(
            "  {rel_bin} --database {rel_db} export --site {key} --format csv --group-by page,stage"
        ),
        format!(
            "  curl -H 'Authorization: Bearer {token}' 'http://{API}/v1/sites/{key}/export.csv?group_by=page,stage'"
        ),
        "Raw responses:".into(),
        format!(
            "  curl -H 'Authorization: Bearer {token}' 'http://{API}/v1/sites/{key}/responses.csv'"
        ),
    ];
    println!("{}", lines.join("\n"));
    loop {
        if let Some(status) = api.try_wait()? {
            let _ = shop.kill();
            bail!("the API server stopped ({status})");
        }
        if let Some(status) = shop.try_wait()? {
            let _ = api.kill();
            bail!("the demo shop stopped ({status})");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn json(cmd: &mut Command) -> anyhow::Result<serde_json::Value> {
    let out = cmd.output()?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}
