//! The "Page impact" section from what was measured: the prose is in
//! `text/impact.md`; this fills in the tables, figures and verdicts.

use super::lighthouse::{CHROME_FLAGS, LIGHTHOUSE_FLAGS};
use super::stats::{Stat, cell, diff, plural, stat};
use super::{LIGHTHOUSE, Measured, Sample, path_of, site_file};
use crate::bench::text::{self, fill};
use std::fmt::Write as _;

/// A table row: its name, the figure of one run, its decimals, and
/// whether it is compared with the baseline.
type Metric<'a> = (
    &'a str,
    Box<dyn Fn(&Sample) -> Option<f64> + 'a>,
    usize,
    bool,
);

pub fn section(m: &Measured) -> String {
    let ours = |u: &str| u.starts_with(&m.api);
    let prompt = |s: &Sample| {
        let start = s.end_of(&format!("{}/t.js", m.api))?;
        Some(s.mark_ms? - start)
    };
    let tasks_all = |s: &Sample| Some(s.long_tasks.len() as f64);
    let tasks_all_ms = |s: &Sample| Some(s.long_tasks.iter().map(|t| t.1).sum());
    let tasks_ours = |s: &Sample| Some(s.long_tasks.iter().filter(|t| ours(&t.0)).count() as f64);
    let tasks_ours_ms = |s: &Sample| {
        Some(
            s.long_tasks
                .iter()
                .filter(|t| ours(&t.0))
                .map(|t| t.1)
                .sum(),
        )
    };
    let runs = |v: &[Sample]| plural(v.len(), "run");
    let cpus: Vec<String> = m.pricing.iter().map(|(cpu, ..)| cpu.to_string()).collect();
    let slowed = match cpus.as_slice() {
        [one] => format!("the CPU slowed {one}×"),
        [rest @ .., last] => format!("the CPU slowed {}× and {last}×", rest.join("×, ")),
        [] => "no CPU rate".to_owned(),
    };

    // Table 1: the prompt page.
    let rows: Vec<Metric> = vec![
        (
            "script start (`t.js` received) → prompt visible (`touchpoint:prompt` mark), ms",
            Box::new(prompt),
            0,
            false,
        ),
        (
            "long tasks ≥ 50 ms, all: count",
            Box::new(tasks_all),
            0,
            true,
        ),
        (
            "long tasks ≥ 50 ms, all: total ms",
            Box::new(tasks_all_ms),
            0,
            true,
        ),
        (
            "long tasks ≥ 50 ms attributed to our origin (`t.js`, widget glue or wasm): count",
            Box::new(tasks_ours),
            0,
            true,
        ),
        (
            "long tasks ≥ 50 ms attributed to our origin: total ms",
            Box::new(tasks_ours_ms),
            0,
            true,
        ),
        (
            "total blocking time, ms",
            Box::new(|s: &Sample| Some(s.tbt_ms)),
            0,
            true,
        ),
        (
            "cumulative layout shift",
            Box::new(|s: &Sample| Some(s.cls)),
            3,
            true,
        ),
        (
            "largest contentful paint, ms",
            Box::new(|s: &Sample| Some(s.lcp_ms)),
            0,
            true,
        ),
        (
            "Lighthouse performance score (0–100)",
            Box::new(|s: &Sample| Some(s.score)),
            0,
            true,
        ),
    ];
    let mut head = String::from("| `/pricing` | ");
    let mut rule = String::from("|---|");
    for (cpu, a, b) in &m.pricing {
        let _ = write!(
            head,
            "{cpu}× CPU, without the tag ({}) | {cpu}× CPU, with it ({}) | difference | ",
            runs(a),
            runs(b)
        );
        rule.push_str("---:|---:|---:|");
    }
    let mut pricing = vec![head.trim_end().to_owned(), rule];
    for (name, f, digits, baseline) in &rows {
        let mut line = format!("| {name} |");
        for (_, a, b) in &m.pricing {
            let without = stat(a, |s| f(s));
            let with = stat(b, |s| f(s));
            if *baseline {
                let _ = write!(
                    line,
                    " {} | {} | {} |",
                    cell(without, *digits),
                    cell(with, *digits),
                    diff(with, without, *digits)
                );
            } else {
                let _ = write!(line, " — | {} | — |", cell(with, *digits));
            }
        }
        pricing.push(line);
    }

    // Where the time goes, with the tag.
    let api = m.api.clone();
    let milestones: Vec<Metric> = vec![
        (
            "page (HTML) received",
            Box::new(|s: &Sample| s.requests.first().map(|r| r.3)),
            0,
            true,
        ),
        (
            "`t.js` received (script start)",
            Box::new(|s: &Sample| s.end_of(&format!("{api}/t.js"))),
            0,
            true,
        ),
        (
            "config received",
            Box::new(|s: &Sample| s.end_where(|u| u.starts_with(&api) && u.ends_with("/config"))),
            0,
            true,
        ),
        (
            "widget glue received",
            Box::new(|s: &Sample| {
                s.end_where(|u| u.starts_with(&api) && u.contains("/widget/") && u.ends_with(".js"))
            }),
            0,
            true,
        ),
        (
            "widget wasm received",
            Box::new(|s: &Sample| s.end_where(|u| u.starts_with(&api) && u.ends_with(".wasm"))),
            0,
            true,
        ),
        (
            "prompt visible (`touchpoint:prompt` mark)",
            Box::new(|s: &Sample| s.mark_ms),
            0,
            true,
        ),
    ];
    let mut head = String::from("| milestone |");
    let mut rule = String::from("|---|");
    for (cpu, ..) in &m.pricing {
        let _ = write!(head, " {cpu}× CPU |");
        rule.push_str("---:|");
    }
    let mut times = vec![head, rule];
    for (name, f, digits, _) in &milestones {
        let mut line = format!("| {name} |");
        for (_, _, b) in &m.pricing {
            let _ = write!(line, " {} |", cell(stat(b, |s| f(s)), *digits));
        }
        times.push(line);
    }

    // Long tasks seen with the tag, by attribution.
    let long_tasks: Vec<String> = m
        .pricing
        .iter()
        .map(|(cpu, _, b)| {
            let runs: Vec<String> = b
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.long_tasks.is_empty())
                .map(|(i, s)| {
                    let tasks: Vec<String> = s
                        .long_tasks
                        .iter()
                        .map(|(u, d)| {
                            let who = if u.starts_with(&m.api) {
                                format!("`{}`", path_of(u))
                            } else if u.starts_with("http") {
                                format!("`{}` (the page)", path_of(u))
                            } else {
                                u.to_lowercase()
                            };
                            format!("{d:.0} ms {who}")
                        })
                        .collect();
                    format!("run {}: {}", i + 1, tasks.join(", "))
                })
                .collect();
            format!(
                "- {cpu}× CPU: {}",
                if runs.is_empty() {
                    "none".into()
                } else {
                    runs.join("; ")
                }
            )
        })
        .collect();

    // The verdict line for table 1.
    let (_, a1, b1) = &m.pricing[0];
    let p1 = stat(b1, prompt);
    let prompt_verdict = prompt_verdict(p1, &b1.iter().filter_map(prompt).collect::<Vec<_>>());
    let ours1 = stat(b1, tasks_ours);
    let cls_d = stat(b1, |s| Some(s.cls)).median - stat(a1, |s| Some(s.cls)).median;
    let tbt_d = stat(b1, |s| Some(s.tbt_ms)).median - stat(a1, |s| Some(s.tbt_ms)).median;
    let no_shift = cls_d.abs() < 0.0005;
    let at_slower_cpu = m.pricing.get(1).map_or_else(String::new, |(cpu, _, b)| {
        format!(
            "; at {cpu}× the prompt takes {:.0} ms and the tag brings {} long task(s) of its own",
            stat(b, prompt).median,
            stat(b, tasks_ours).median
        )
    });

    // Table 2: bytes on a page with no eligible touchpoint.
    let (cart_without, cart_with) = &m.cart;
    let mine: Vec<&(String, String, u64, f64)> =
        cart_with.requests.iter().filter(|r| ours(&r.0)).collect();
    let ours_total: u64 = mine.iter().map(|r| r.2).sum();
    let mut cart_requests: Vec<String> = mine
        .iter()
        .map(|(u, kind, size, _)| format!("| `{}` | {kind} | {size} |", path_of(u)))
        .collect();
    cart_requests.push(format!("| total | | {ours_total} |"));
    let page = |s: &Sample| -> u64 { s.requests.iter().map(|r| r.2).sum() };
    let only_loader = mine.len() == 2
        && mine.iter().any(|r| path_of(&r.0) == "/t.js")
        && mine.iter().any(|r| r.0.ends_with("/config"));
    let cart_meaning = if only_loader {
        format!(
            "a page with no eligible touchpoint fetched the loader and the config and nothing else from us, {ours_total} B over the wire."
        )
    } else {
        format!(
            "a page with no eligible touchpoint fetched more than the loader and the config from us ({} requests, {ours_total} B): the budget is missed.",
            mine.len()
        )
    };

    // Table 3: against the budgets.
    let no_long_tasks = stat(b1, tasks_ours).max == 0.0;
    let met = |ok: bool| if ok { "met" } else { "missed" };
    let failures = if m.failures.is_empty() {
        String::new()
    } else {
        format!(
            "\n\nRuns that failed and are left out of the medians: {}.",
            m.failures.join("; ")
        )
    };

    fill(
        text::IMPACT,
        &[
            ("lighthouse", &LIGHTHOUSE),
            ("chromium", &m.chromium),
            ("node", &m.node),
            ("slowed", &slowed),
            ("runs", &plural(m.runs, "run")),
            ("load_start", &m.load.0),
            ("load_end", &m.load.1),
            ("widget", &m.widget),
            ("seconds", &format!("{:.0}", m.seconds)),
            ("lighthouse_flags", &LIGHTHOUSE_FLAGS.join(" ")),
            ("cpus", &cpus.join("|")),
            ("chrome_flags", &CHROME_FLAGS),
            ("site", &site_file("http://127.0.0.1:$SHOP")),
            ("pricing", &pricing.join("\n")),
            ("milestones", &times.join("\n")),
            ("long_tasks", &long_tasks.join("\n")),
            ("prompt", &format!("{:.0}", p1.median)),
            ("prompt_verdict", &prompt_verdict),
            ("tbt", &format!("{tbt_d:.0}")),
            ("tasks", &ours1.median),
            (
                "shift",
                &if no_shift {
                    "no".to_owned()
                } else {
                    format!("{cls_d:.3}")
                },
            ),
            ("at_slower_cpu", &at_slower_cpu),
            ("cart_requests", &cart_requests.join("\n")),
            ("requests_without", &cart_without.requests.len()),
            ("requests_with", &cart_with.requests.len()),
            (
                "requests_difference",
                &format!(
                    "{:+}",
                    cart_with.requests.len() as i64 - cart_without.requests.len() as i64
                ),
            ),
            ("bytes_without", &page(cart_without)),
            ("bytes_with", &page(cart_with)),
            (
                "bytes_difference",
                &format!("{:+}", page(cart_with) as i64 - page(cart_without) as i64),
            ),
            ("cart_meaning", &cart_meaning),
            ("prompt_cell", &cell(p1, 0)),
            ("tasks_cell", &cell(ours1, 0)),
            ("first_runs", &runs(b1)),
            ("tbt_signed", &format!("{tbt_d:+.0}")),
            ("tasks_verdict", &met(no_long_tasks)),
            (
                "cls_with",
                &format!("{:.3}", stat(b1, |s| Some(s.cls)).median),
            ),
            (
                "cls_without",
                &format!("{:.3}", stat(a1, |s| Some(s.cls)).median),
            ),
            ("shift_verdict", &met(no_shift)),
            (
                "cart_bytes",
                &mine
                    .iter()
                    .map(|r| format!("`{}` {} B", path_of(&r.0), r.2))
                    .collect::<Vec<_>>()
                    .join(" + "),
            ),
            ("cart_verdict", &met(only_loader)),
            (
                "budgets",
                &budgets_meaning(p1.median, no_long_tasks, no_shift, only_loader),
            ),
            ("failures", &failures),
        ],
    )
}

/// Whether the prompt met its 100 ms goal at 1×, by the median and by run.
fn prompt_verdict(p1: Stat, p1_runs: &[f64]) -> String {
    let above = p1_runs.iter().filter(|&&p| p > 100.0).count();
    if p1.median <= 100.0 {
        if above == 0 {
            "met".to_owned()
        } else {
            format!("met by the median, {above} of {} runs above", p1_runs.len())
        }
    } else if above < p1_runs.len() {
        format!(
            "missed by {:.0} ms at the median, {} of {} runs within",
            p1.median - 100.0,
            p1_runs.len() - above,
            p1_runs.len()
        )
    } else {
        format!("missed by {:.0} ms at the median", p1.median - 100.0)
    }
}

fn budgets_meaning(prompt: f64, no_long_tasks: bool, no_shift: bool, only_loader: bool) -> String {
    let (held, missed): (Vec<_>, Vec<_>) = [
        (
            prompt <= 100.0,
            "prompt visible within 100 ms at the median",
        ),
        (no_long_tasks, "no long task from the widget at 1×"),
        (no_shift, "no layout shift"),
        (
            only_loader,
            "loader + config only on a page with no eligible touchpoint",
        ),
    ]
    .into_iter()
    .partition(|(ok, _)| *ok);
    let names = |v: Vec<(bool, &str)>| v.into_iter().map(|(_, n)| n).collect::<Vec<_>>().join(", ");
    let mut s = match (held.is_empty(), missed.is_empty()) {
        (_, true) => "every page-impact budget held in this run".to_owned(),
        (true, _) => "every page-impact budget was missed in this run".to_owned(),
        _ => format!(
            "held in this run: {}; missed: {}",
            names(held),
            names(missed)
        ),
    };
    s.push_str(". Timings vary from run to run on this shared 2-core machine: read the min–max beside each median.");
    s
}
