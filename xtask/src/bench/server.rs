//! The server processes a part measures: started on a free loopback port,
//! found by the address they print or by polling, killed when dropped; and
//! a process's resident memory, read from `/proc`.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, killed when dropped.
pub struct Server {
    pub child: Child,
    /// `host:port` it listens on.
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server that prints its address (`--json serve` does) on its first line.
pub fn spawn(cmd: &mut Command) -> anyhow::Result<Server> {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
    let addr = line
        .trim()
        .trim_start_matches("{\"addr\":\"")
        .trim_end_matches("\"}")
        .trim_start_matches("http://")
        .to_owned();
    if addr.is_empty() {
        let _ = child.kill();
        bail!("{cmd:?} did not print its address");
    }
    Ok(Server { child, addr })
}

/// A free loopback port, for a server that does not report the one it got.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Polls until something accepts connections on `addr`, for 20 s at most.
pub fn wait_for(addr: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        if Instant::now() > deadline {
            bail!("nothing listens on {addr} after 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// A `kB` field of `/proc/PID/status` (`VmRSS:`, `VmHWM:`), 0 if unreadable.
pub fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix(field)
                    .map(|v| v.trim().trim_end_matches(" kB").trim().to_owned())
            })
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
