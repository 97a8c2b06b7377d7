//! A throw-away PostgreSQL cluster for tests and benchmarks: `initdb` into a
//! temporary directory, `postgres` on a free loopback port, gone when the
//! process that started it exits (a shell wrapper stops the server and
//! removes the directory as soon as our end of its stdin pipe closes).

use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A running cluster. Dropping it (or exiting) stops it.
pub struct Cluster {
    port: u16,
    _server: Child,
    _stdin: ChildStdin,
}

/// The directory holding Debian's PostgreSQL server binaries, newest version
/// first; `$TOUCHPOINT_PG_BIN` overrides.
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TOUCHPOINT_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("postgres").exists() && bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether PostgreSQL tests must run rather than be skipped: in CI and under
/// `cargo xtask test` they must.
pub fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("TOUCHPOINT_REQUIRE_PG").is_some()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// A command run as the `postgres` user when we are root (PostgreSQL refuses to run as root).
fn as_pg_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Cluster {
    /// Initialises and starts a cluster. `durable = false` turns fsync off
    /// (tests); benchmarks keep it on.
    pub fn start(durable: bool) -> anyhow::Result<Cluster> {
        let bin = bin_dir()
            .context("no PostgreSQL server binaries (Debian: apt-get install postgresql)")?;
        let dir = tempfile::Builder::new()
            .prefix("touchpoint-pg-")
            .tempdir()?
            .keep();
        if is_root() {
            let ok = Command::new("chown")
                .arg("postgres:")
                .arg(&dir)
                .status()?
                .success();
            if !ok {
                bail!("chown postgres {} failed", dir.display());
            }
        }
        let data = dir.join("data");
        let out = as_pg_user(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ])
            .output()?;
        if !out.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let fsync = if durable { "on" } else { "off" };
        let script = format!(
            "'{postgres}' -D '{data}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 -c fsync={fsync} \
             -c max_connections=200 >'{dir}/log' 2>&1 & pid=$!; read _; kill -INT $pid; wait $pid; rm -rf '{dir}'",
            postgres = bin.join("postgres").display(),
            data = data.display(),
            dir = dir.display(),
        );
        let mut server = as_pg_user(Path::new("sh"))
            .arg("-c")
            .arg(&script)
            .stdin(Stdio::piped())
            .spawn()?;
        let stdin = server.stdin.take().context("no stdin")?;
        // The port opens before the server takes connections ("the database
        // system is starting up"): ready is when pg_isready says so.
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = || {
            Command::new(bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
                .status()
                .is_ok_and(|s| s.success())
        };
        while !ready() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
                bail!("PostgreSQL did not start on port {port}: {log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Cluster {
            port,
            _server: server,
            _stdin: stdin,
        })
    }

    /// URL of the cluster's `postgres` database.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A fresh, uniquely named database's URL (created with `psql`-free SQL
    /// by the caller: run `CREATE DATABASE <name>` on [`Cluster::admin_url`]).
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A new database name, unique in this process.
    pub fn fresh_name(&self) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Closing stdin makes the wrapper stop the server and remove its files.
        let _ = self._stdin.write_all(b"\n");
    }
}
