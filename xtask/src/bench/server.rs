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

/// CPU time, in clock ticks, spent so far (user + system).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    /// By the process measured.
    pub process: u64,
    /// By the measured process's threads named `touchpoint-writer` (the
    /// group commit's writer; none in the bare endpoint).
    pub writer: u64,
    /// By every process named `postgres` (a local cluster's server and
    /// backends).
    pub postgres: u64,
    /// By the whole machine, busy and idle (idle includes waiting for I/O).
    pub busy: u64,
    pub idle: u64,
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
pub fn ticks_per_second() -> f64 {
    crate::util::output("getconf", &["CLK_TCK"])
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system ticks of a process from `/proc/PID/stat` (the fields after
/// its name, which may hold spaces), and the name.
fn process_ticks(pid: &str) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (head, tail) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = tail.split_whitespace().collect();
    // After the name: state is field 3, utime 14 and stime 15.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((name, ticks))
}

/// The CPU spent so far by `pid`, by PostgreSQL and by the machine.
pub fn cpu(pid: u32) -> Cpu {
    let mut cpu = Cpu {
        process: process_ticks(&pid.to_string()).map_or(0, |(_, t)| t),
        ..Cpu::default()
    };
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            let tid = task.file_name();
            // A thread's name is cut to 15 bytes: `touchpoint-writ`.
            if let Some((comm, ticks)) =
                process_ticks(&format!("{pid}/task/{}", tid.to_string_lossy()))
                && "touchpoint-writer".starts_with(comm.as_str())
                && comm.len() >= 15
            {
                cpu.writer += ticks;
            }
        }
    }
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.bytes().all(|b| b.is_ascii_digit())
                && let Some((comm, ticks)) = process_ticks(&name)
                && comm == "postgres"
            {
                cpu.postgres += ticks;
            }
        }
    }
    if let Some(line) = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| s.lines().next().map(str::to_owned))
    {
        // cpu user nice system idle iowait irq softirq steal …
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|n| n.parse().ok())
            .collect();
        if v.len() == 8 {
            cpu.idle = v[3] + v[4];
            cpu.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        }
    }
    cpu
}
