//! Prometheus metrics at `GET /metrics`, in the text exposition format:
//! events accepted, duplicated and refused (by reason), request latency per
//! route, connections refused, password checks, abandoned exports, and the
//! database pool. Labels come from closed sets: route templates (or
//! `unmatched`), the standard methods (or `other`), status codes and error
//! codes — never paths, keys or anything a client sent, so a stranger
//! cannot grow the page.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The method as a label: one of the standard methods, else `other`.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

/// One route's latencies by method and status.
type ByMethodAndStatus = BTreeMap<(&'static str, u16), Histogram>;

#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    duplicates: AtomicU64,
    connections_refused: AtomicU64,
    password_checks: AtomicU64,
    password_checks_busy: AtomicU64,
    exports_abandoned: AtomicU64,
    alerts_sent: AtomicU64,
    alerts_retried: AtomicU64,
    alerts_failed: AtomicU64,
    refused: Mutex<BTreeMap<&'static str, u64>>,
    /// By route, then by method and status: a request's route is found
    /// without a copy of its name.
    requests: Mutex<BTreeMap<String, ByMethodAndStatus>>,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    pub fn events_stored(&self, accepted: u64, duplicates: u64) {
        self.accepted.fetch_add(accepted, Ordering::Relaxed);
        self.duplicates.fetch_add(duplicates, Ordering::Relaxed);
    }

    /// A refused ingest request, by its error code.
    pub fn ingest_refused(&self, reason: &'static str) {
        *lock(&self.refused).entry(reason).or_default() += 1;
    }

    /// A connection closed on arrival: every slot was taken.
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// A password checked; `busy`: refused at once, every check slot taken.
    pub fn password_check(&self, busy: bool) {
        let counter = if busy {
            &self.password_checks_busy
        } else {
            &self.password_checks
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// An export stopped early because its reader went away.
    pub fn export_abandoned(&self) {
        self.exports_abandoned.fetch_add(1, Ordering::Relaxed);
    }

    /// An alert message answered 2xx by its destination.
    pub fn alert_sent(&self) {
        self.alerts_sent.fetch_add(1, Ordering::Relaxed);
    }

    /// An alert message's attempt failed; it will be tried again.
    pub fn alert_retried(&self) {
        self.alerts_retried.fetch_add(1, Ordering::Relaxed);
    }

    /// An alert message given up on after a day of failed attempts.
    pub fn alert_failed(&self) {
        self.alerts_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Exports stopped early so far.
    pub fn exports_abandoned(&self) -> u64 {
        self.exports_abandoned.load(Ordering::Relaxed)
    }

    /// `route` must be a route template or `unmatched`; the method is
    /// labelled through [`method_label`].
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let mut requests = lock(&self.requests);
        let by_route = match requests.get_mut(route) {
            Some(by_route) => by_route,
            None => requests.entry(route.to_owned()).or_default(),
        };
        let h = by_route.entry((method_label(method), status)).or_default();
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.buckets[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The exposition text; `pool` is `(open, idle)` database connections.
    pub fn render(&self, pool: (u32, usize)) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP touchpoint_events_accepted_total Events stored for the first time."
        );
        let _ = writeln!(out, "# TYPE touchpoint_events_accepted_total counter");
        let _ = writeln!(
            out,
            "touchpoint_events_accepted_total {}",
            self.accepted.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP touchpoint_events_duplicate_total Events received again under a stored id."
        );
        let _ = writeln!(out, "# TYPE touchpoint_events_duplicate_total counter");
        let _ = writeln!(
            out,
            "touchpoint_events_duplicate_total {}",
            self.duplicates.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP touchpoint_ingest_refused_total Ingest requests refused, by reason."
        );
        let _ = writeln!(out, "# TYPE touchpoint_ingest_refused_total counter");
        for (reason, n) in lock(&self.refused).iter() {
            let _ = writeln!(
                out,
                "touchpoint_ingest_refused_total{{reason=\"{reason}\"}} {n}"
            );
        }
        for (name, help, value) in [
            (
                "touchpoint_connections_refused_total",
                "Connections closed on arrival because every slot was taken.",
                &self.connections_refused,
            ),
            (
                "touchpoint_password_checks_total",
                "Sign-in passwords checked.",
                &self.password_checks,
            ),
            (
                "touchpoint_password_checks_busy_total",
                "Sign-ins answered 503 at once because every password-check slot was taken.",
                &self.password_checks_busy,
            ),
            (
                "touchpoint_exports_abandoned_total",
                "Exports stopped early because their reader went away.",
                &self.exports_abandoned,
            ),
            (
                "touchpoint_alerts_sent_total",
                "Alert messages (single alerts and digests) a destination answered 2xx.",
                &self.alerts_sent,
            ),
            (
                "touchpoint_alerts_retried_total",
                "Alert attempts that failed (non-2xx, network error, timeout) and will be tried again.",
                &self.alerts_retried,
            ),
            (
                "touchpoint_alerts_failed_total",
                "Alert messages marked failed after a day of attempts.",
                &self.alerts_failed,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP touchpoint_http_request_duration_seconds Request latency by route, method and status."
        );
        let _ = writeln!(
            out,
            "# TYPE touchpoint_http_request_duration_seconds histogram"
        );
        let requests = lock(&self.requests);
        let rows = requests.iter().flat_map(|(route, by_route)| {
            by_route
                .iter()
                .map(move |((method, status), h)| (route, method, status, h))
        });
        for (route, method, status, h) in rows {
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "touchpoint_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "touchpoint_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "touchpoint_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "touchpoint_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP touchpoint_db_connections Database pool connections by state."
        );
        let _ = writeln!(out, "# TYPE touchpoint_db_connections gauge");
        let (open, idle) = pool;
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        let _ = writeln!(out, "touchpoint_db_connections{{state=\"idle\"}} {idle}");
        let _ = writeln!(
            out,
            "touchpoint_db_connections{{state=\"in_use\"}} {}",
            open.saturating_sub(idle)
        );
        out
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.events_stored(3, 1);
        m.ingest_refused("invalid_event");
        m.ingest_refused("invalid_event");
        m.request("/v1/events", "POST", 202, Duration::from_millis(3));
        let text = m.render((4, 3));
        assert!(text.contains("touchpoint_events_accepted_total 3\n"));
        assert!(text.contains("touchpoint_events_duplicate_total 1\n"));
        assert!(text.contains("touchpoint_ingest_refused_total{reason=\"invalid_event\"} 2\n"));
        assert!(
            text.contains("route=\"/v1/events\",method=\"POST\",status=\"202\",le=\"0.0025\"} 0\n")
        );
        assert!(
            text.contains("route=\"/v1/events\",method=\"POST\",status=\"202\",le=\"0.005\"} 1\n")
        );
        assert!(text.contains("touchpoint_db_connections{state=\"in_use\"} 1\n"));
    }

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        let m = Metrics::default();
        for method in ["GET", "BREW", "X-EVIL-1", "get"] {
            m.request("unmatched", method, 404, Duration::from_millis(1));
        }
        let text = m.render((0, 0));
        assert!(text.contains("method=\"GET\""));
        assert!(text.contains("method=\"other\""));
        assert!(!text.contains("BREW") && !text.contains("X-EVIL") && !text.contains("\"get\""));
    }
}
