//! Test support for driving a real browser: a minimal W3C WebDriver client
//! over ChromeDriver and Debian's Chromium, plus polling helpers.
//! The tests themselves are in `tests/`. [`pg`] starts a throw-away
//! PostgreSQL cluster.

pub mod pg;

use anyhow::{Context, bail};
use base64::Engine as _;
use serde_json::{Value, json};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Flags Chromium needs on this machine (headless, root, closed network).
pub const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// A ChromeDriver process and one browser session; both end on drop, and
/// also when the process that started them exits without dropping it (a
/// browser kept for the next test): see `WATCHER`.
pub struct Browser {
    watcher: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

/// Runs ChromeDriver (`$0`, port `$1`) in a process group of its own, with
/// the Chromium it starts, and ends the group and removes the profile (`$2`)
/// as soon as its stdin closes: on drop, or when the test process exits,
/// which no destructor sees.
const WATCHER: &str = r#"
"$0" --port="$1" >/dev/null 2>&1 &
driver=$!
trap '' TERM
read _
browsers=$(pgrep -P "$driver")
kill -TERM -$$ 2>/dev/null
wait "$driver"
i=0
while [ $i -lt 100 ]; do
  alive=
  for p in $browsers; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && break
  sleep 0.05; i=$((i + 1))
done
rm -rf "$2"
"#;

/// A WebDriver element reference.
#[derive(Clone, Debug)]
pub struct Element(Value);

impl Browser {
    /// Starts ChromeDriver on a free port and opens a headless Chromium with
    /// a fresh profile and the given window size.
    pub fn start(width: u32, height: u32) -> anyhow::Result<Browser> {
        let chromium =
            std::env::var("TOUCHPOINT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let chromedriver = std::env::var("TOUCHPOINT_CHROMEDRIVER")
            .unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        for bin in [&chromium, &chromedriver] {
            if !Path::new(bin).exists() {
                bail!(
                    "{bin} is missing: the browser tests need Debian's chromium and chromium-driver"
                );
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let profile = tempfile::Builder::new()
            .prefix("touchpoint-chromium-")
            .tempdir()?
            .keep();
        let watcher = Command::new("sh")
            .arg("-c")
            .arg(WATCHER)
            .arg(&chromedriver)
            .arg(port.to_string())
            .arg(&profile)
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {chromedriver}"))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let mut browser = Browser {
            watcher,
            base,
            session: String::new(),
            agent,
        };
        poll(Duration::from_secs(20), "chromedriver to start", || {
            Ok(browser
                .agent
                .get(format!("{}/status", browser.base))
                .call()
                .ok()
                .map(|_| ()))
        })?;
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--window-size={width},{height}"));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let created = browser.request("POST", "/session", Some(caps))?;
        browser.session = created["sessionId"]
            .as_str()
            .context("no session id")?
            .to_owned();
        Ok(browser)
    }

    /// Calls the session's endpoint `path` (e.g. `/url`) and returns `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        self.request(method, &format!("/session/{}{path}", self.session), body)
    }

    fn request(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut res = match method {
            "POST" => self
                .agent
                .post(&url)
                .send_json(body.unwrap_or_else(|| json!({})))?,
            "DELETE" => self.agent.delete(&url).call()?,
            _ => self.agent.get(&url).call()?,
        };
        let status = res.status();
        let mut value: Value = res.body_mut().read_json()?;
        if !status.is_success() {
            bail!("WebDriver {method} {path}: {status} {}", value["value"]);
        }
        Ok(value["value"].take())
    }

    pub fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.call("POST", "/url", Some(json!({ "url": url })))?;
        Ok(())
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub fn eval(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Runs `script` as an async function body: it calls
    /// `arguments[arguments.length - 1](result)` when done.
    pub fn eval_async(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Swaps the current tab for a new, blank one: nothing of the old
    /// tab's pages stays (session storage, scripts added with
    /// [`Browser::on_new_document`], emulated media).
    pub fn new_tab(&self) -> anyhow::Result<()> {
        let created = self.call("POST", "/window/new", Some(json!({ "type": "tab" })))?;
        let handle = created["handle"]
            .as_str()
            .context("no window handle")?
            .to_owned();
        self.call("DELETE", "/window", None)?;
        self.call("POST", "/window", Some(json!({ "handle": handle })))?;
        Ok(())
    }

    /// Resizes the browser window.
    pub fn set_window_size(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )?;
        Ok(())
    }

    /// Forgets everything stored for `origin` (local storage, caches,
    /// cookies, ...), as if the browser had never been there.
    pub fn forget_origin(&self, origin: &str) -> anyhow::Result<()> {
        self.cdp(
            "Storage.clearDataForOrigin",
            json!({ "origin": origin, "storageTypes": "all" }),
        )?;
        Ok(())
    }

    /// Runs `source` in every page this tab opens from now on, before the
    /// page's own scripts.
    pub fn on_new_document(&self, source: &str) -> anyhow::Result<()> {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": source }),
        )?;
        Ok(())
    }

    /// Injects axe-core (from `$TOUCHPOINT_AXE`, which `cargo xtask test`
    /// installs) and returns the serious and critical violations within the
    /// elements matching `selector`, as `"rule: target"` lines.
    pub fn axe_violations(&self, selector: &str) -> anyhow::Result<Vec<String>> {
        static AXE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let axe = match AXE.get() {
            Some(axe) => axe,
            None => {
                let path = std::env::var("TOUCHPOINT_AXE")
                    .context("TOUCHPOINT_AXE is not set: run the tests with `cargo xtask test`")?;
                let axe = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading axe-core from {path}"))?;
                AXE.get_or_init(|| format!("{axe}\n;return true;"))
            }
        };
        self.eval(axe, vec![])?;
        let result = self.eval_async(
            "const done = arguments[arguments.length - 1]; \
             axe.run({ include: [[arguments[0]]] }, { resultTypes: ['violations'] }) \
               .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical') \
                 .flatMap(v => v.nodes.map(n => v.id + ': ' + JSON.stringify(n.target) + ' ' + n.failureSummary)))) \
               .catch(e => done(['axe failed: ' + e]));",
            vec![json!(selector)],
        )?;
        Ok(serde_json::from_value(result)?)
    }

    /// Runs a script that returns an element (or null).
    pub fn element_by_script(
        &self,
        script: &str,
        args: Vec<Value>,
    ) -> anyhow::Result<Option<Element>> {
        let v = self.eval(script, args)?;
        Ok(v.get(ELEMENT).is_some().then_some(Element(v)))
    }

    /// A real, trusted click through WebDriver.
    pub fn click(&self, element: &Element) -> anyhow::Result<()> {
        let id = element.0[ELEMENT].as_str().context("not an element")?;
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})))?;
        Ok(())
    }

    /// The page's console messages and uncaught errors since the last call.
    pub fn console(&self) -> anyhow::Result<Vec<String>> {
        let entries = self.call("POST", "/se/log", Some(json!({ "type": "browser" })))?;
        Ok(entries
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["message"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Focuses the element and types `keys` into it (WebDriver key codes,
    /// e.g. `\u{E014}` for the right arrow, `\u{E007}` for Enter).
    pub fn send_keys(&self, element: &Element, keys: &str) -> anyhow::Result<()> {
        let id = element.0[ELEMENT].as_str().context("not an element")?;
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": keys })),
        )?;
        Ok(())
    }

    /// Empties a text field (WebDriver's Element Clear).
    pub fn clear(&self, element: &Element) -> anyhow::Result<()> {
        let id = element.0[ELEMENT].as_str().context("not an element")?;
        self.call("POST", &format!("/element/{id}/clear"), Some(json!({})))?;
        Ok(())
    }

    /// Runs a Chrome DevTools Protocol command through ChromeDriver, e.g.
    /// `Emulation.setEmulatedMedia` to emulate a dark colour scheme.
    pub fn cdp(&self, cmd: &str, params: Value) -> anyhow::Result<Value> {
        self.call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({ "cmd": cmd, "params": params })),
        )
    }

    /// Saves a PNG of the viewport and returns its path.
    pub fn screenshot(&self, path: &Path) -> anyhow::Result<PathBuf> {
        let b64 = self.call("GET", "/screenshot", None)?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().context("no screenshot")?)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        Ok(path.to_path_buf())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .agent
                .delete(format!("{}/session/{}", self.base, self.session))
                .call();
        }
        // Closing its stdin ends the watcher's group (see `WATCHER`).
        drop(self.watcher.stdin.take());
        let _ = self.watcher.wait();
    }
}

/// Calls `f` until it returns `Some`, or fails after `timeout` naming `what`.
pub fn poll<T>(
    timeout: Duration,
    what: &str,
    mut f: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let deadline = Instant::now() + timeout;
    let mut last_err = None;
    loop {
        match f() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if Instant::now() > deadline {
            match last_err {
                Some(e) => bail!("timed out waiting for {what}: {e:#}"),
                None => bail!("timed out waiting for {what}"),
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Where screenshots go: `target/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots")
}
