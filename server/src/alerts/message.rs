//! What a destination receives: the JSON message ([`AlertMessage`]) or a
//! Slack text, built from the answers as stored (comments masked as they
//! were at ingest), worst first, and signed.

use crate::store::outbox::{AlertingSite, ItemRow};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use touchpoint_wire::{
    AlertCounts, AlertDestination, AlertFormat, AlertItem, AlertMessage, AlertOn, AlertSite,
    Metric, SlackMessage,
};

/// Most answers a digest lists (it counts them all).
pub const DIGEST_LISTS: usize = 10;

/// `sha256=HEX`: the HMAC-SHA256 of `body` with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// The headers of every attempt: the delivery's id, and the signature when
/// the destination has a secret.
pub fn headers(
    delivery: &str,
    dest: &AlertDestination,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let mut headers = vec![("x-touchpoint-delivery", delivery.to_owned())];
    if let Some(secret) = &dest.secret {
        headers.push(("x-touchpoint-signature", signature(secret, body)));
    }
    headers
}

/// How bad an answer is on its own scale: 0 the worst, 1 the best; answers
/// without a score (signals, text) in the middle.
fn goodness(item: &ItemRow) -> f64 {
    let scale = item
        .metric
        .as_deref()
        .and_then(Metric::parse)
        .and_then(Metric::scale);
    match (scale, item.score) {
        #[allow(clippy::cast_precision_loss)]
        (Some((lo, hi)), Some(s)) if hi > lo => (s - lo) as f64 / (hi - lo) as f64,
        _ => 0.5,
    }
}

/// Worst first: lowest on its scale, then those with a comment, then the oldest.
pub fn worst_first(items: &mut [ItemRow]) {
    items.sort_by(|a, b| {
        goodness(a)
            .total_cmp(&goodness(b))
            .then_with(|| b.comment.is_some().cmp(&a.comment.is_some()))
            .then_with(|| a.ts.cmp(&b.ts))
    });
}

/// `{public}/app/sites/{key}/comments?response={id}`.
pub fn link(public_url: Option<&str>, key: &str, response: &str) -> Option<String> {
    let base = public_url?.trim_end_matches('/');
    Some(format!(
        "{base}/app/sites/{}/comments?response={}",
        encode(key),
        encode(response)
    ))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The message for `items` (any order), as `dest` wants it: the body's bytes.
pub fn build(
    kind: &str,
    delivery: &str,
    site: &AlertingSite,
    dest: &AlertDestination,
    items: &[ItemRow],
    public_url: Option<&str>,
) -> Vec<u8> {
    let message = message(kind, delivery, site, items, public_url);
    let body = match dest.format {
        AlertFormat::Json => serde_json::to_vec(&message),
        AlertFormat::Slack => serde_json::to_vec(&SlackMessage {
            text: slack_text(&message),
        }),
    };
    body.expect("a message always encodes")
}

/// The JSON message.
pub fn message(
    kind: &str,
    delivery: &str,
    site: &AlertingSite,
    items: &[ItemRow],
    public_url: Option<&str>,
) -> AlertMessage {
    let mut sorted = items.to_vec();
    worst_first(&mut sorted);
    let mut counts = AlertCounts::default();
    for item in &sorted {
        counts.total += 1;
        for r in &item.reasons {
            match r {
                AlertOn::Detractor => counts.detractor += 1,
                AlertOn::LowScore => counts.low_score += 1,
                AlertOn::Frustration => counts.frustration += 1,
                AlertOn::Signal => counts.signal += 1,
            }
        }
    }
    let listed = if kind == "digest" {
        DIGEST_LISTS.min(sorted.len())
    } else {
        sorted.len()
    };
    let from = items.iter().map(|i| i.ts.as_str()).min().unwrap_or("");
    let to = items.iter().map(|i| i.ts.as_str()).max().unwrap_or("");
    AlertMessage {
        kind: kind.to_owned(),
        delivery: delivery.to_owned(),
        site: AlertSite {
            key: site.key.clone(),
            name: site.name.clone(),
        },
        from: from.to_owned(),
        to: to.to_owned(),
        counts,
        more: (sorted.len() - listed) as u64,
        alerts: sorted
            .into_iter()
            .take(listed)
            .map(|i| AlertItem {
                link: link(public_url, &site.key, &i.event_id),
                response: i.event_id,
                reasons: i.reasons,
                ts: i.ts,
                page: i.page,
                stage: i.stage,
                touchpoint: i.touchpoint,
                metric: i.metric.as_deref().and_then(Metric::parse),
                score: i.score,
                comment: i.comment,
                flags: i.flags,
                signal: i.signal,
            })
            .collect(),
    }
}

/// Slack's `mrkdwn` gives `&`, `<` and `>` meaning (links, mentions such
/// as `<!channel>`): what visitors and site files wrote is escaped.
pub fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn metric_name(m: Metric) -> &'static str {
    match m {
        Metric::Nps => "NPS",
        Metric::Csat => "CSAT",
        Metric::Ces => "CES",
        Metric::Thumbs => "Thumbs",
        Metric::Emoji => "Emoji",
        Metric::Text => "Text",
        Metric::Choice => "Choice",
    }
}

fn reason_name(r: AlertOn) -> &'static str {
    match r {
        AlertOn::Detractor => "Detractor",
        AlertOn::LowScore => "Low score",
        AlertOn::Frustration => "Frustration",
        AlertOn::Signal => "Signal",
    }
}

/// One answer on a line: what, where, and its comment.
fn slack_line(item: &AlertItem) -> String {
    let what = match (item.metric, item.score, &item.signal) {
        (Some(Metric::Thumbs), Some(s), _) => {
            format!("Thumbs {}", if s == 0 { "down" } else { "up" })
        }
        (Some(m), Some(s), _) => format!("{} {s}", metric_name(m)),
        (Some(m), None, _) => metric_name(m).to_owned(),
        (None, _, Some(signal)) => format!("Signal {}", slack_escape(signal)),
        _ => "Answer".to_owned(),
    };
    let reasons: Vec<&str> = item.reasons.iter().map(|r| reason_name(*r)).collect();
    let mut line = format!(
        "*{}*: {what} on `{}` ({}",
        reasons.join(", "),
        slack_escape(&item.page).replace('`', "'"),
        slack_escape(&item.stage)
    );
    if let Some(tp) = &item.touchpoint {
        line.push_str(&format!(" · {}", slack_escape(tp)));
    }
    line.push(')');
    if !item.flags.is_empty() {
        line.push_str(&format!(" [{}]", slack_escape(&item.flags.join(", "))));
    }
    if let Some(comment) = &item.comment {
        let quoted = slack_escape(comment).replace('\n', "\n>");
        line.push_str(&format!("\n>{quoted}"));
    }
    if let Some(link) = &item.link {
        line.push_str(&format!("\n<{link}|Open in Touchpoint>"));
    }
    line
}

/// The Slack text of a message.
pub fn slack_text(m: &AlertMessage) -> String {
    let site = slack_escape(&m.site.name);
    let mut text = match m.kind.as_str() {
        "digest" => {
            let c = &m.counts;
            let parts: Vec<String> = [
                (c.detractor, "detractor"),
                (c.low_score, "low score"),
                (c.frustration, "frustrated comment"),
                (c.signal, "signal"),
            ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
            .collect();
            format!(
                "*Touchpoint digest for {site}*: {} alert{} ({}), {} to {}, worst first:",
                c.total,
                if c.total == 1 { "" } else { "s" },
                parts.join(", "),
                m.from,
                m.to
            )
        }
        "test" => format!("*Touchpoint test for {site}*: this destination receives its alerts."),
        _ => format!("*Touchpoint alert for {site}*"),
    };
    for item in &m.alerts {
        text.push_str("\n\n");
        text.push_str(&slack_line(item));
    }
    if m.more > 0 {
        text.push_str(&format!("\n\n…and {} more.", m.more));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, metric: &str, score: Option<i64>, comment: Option<&str>) -> ItemRow {
        ItemRow {
            event_id: id.into(),
            reasons: vec![AlertOn::Detractor],
            flags: Vec::new(),
            ts: format!("2026-11-22T10:00:0{}.000Z", id.len() % 10),
            page: "/checkout".into(),
            stage: "purchase".into(),
            touchpoint: Some("site-nps".into()),
            metric: Some(metric.into()),
            score,
            comment: comment.map(str::to_owned),
            signal: None,
        }
    }

    fn site() -> AlertingSite {
        AlertingSite {
            key: "tp_demo".into(),
            name: "Demo <shop> & co".into(),
            alerts: Vec::new(),
        }
    }

    /// The RFC 4231 test case 2 vector, in the header's form.
    #[test]
    fn signatures_are_hmac_sha256() {
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn digests_count_everything_and_list_the_worst_first() {
        let mut items: Vec<ItemRow> = (0..30)
            .map(|i| item(&format!("e{i}"), "nps", Some(i64::from(i % 7)), None))
            .collect();
        items.push(item("worst", "nps", Some(0), Some("awful")));
        let m = message("digest", "d", &site(), &items, Some("https://fb.example/"));
        assert_eq!(m.counts.total, 31);
        assert_eq!(m.counts.detractor, 31);
        assert_eq!(m.alerts.len(), DIGEST_LISTS);
        assert_eq!(m.more, 21);
        // The lowest score with a comment before the other zeros.
        assert_eq!(m.alerts[0].response, "worst");
        let scores: Vec<i64> = m.alerts.iter().filter_map(|a| a.score).collect();
        assert_eq!(scores, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(
            m.alerts[0].link.as_deref(),
            Some("https://fb.example/app/sites/tp_demo/comments?response=worst")
        );
        let single = message("alert", "d", &site(), &items[..1], None);
        assert_eq!(single.alerts.len(), 1);
        assert_eq!(single.alerts[0].link, None);
    }

    /// A visitor's comment cannot mention a channel or smuggle a link into Slack.
    #[test]
    fn slack_text_escapes_what_visitors_wrote() {
        let items = [item(
            "e1",
            "csat",
            Some(1),
            Some("<!channel> click <https://evil.example|here> & win"),
        )];
        let text = slack_text(&message("alert", "d", &site(), &items, None));
        assert!(!text.contains("<!channel>"), "{text}");
        assert!(!text.contains("<https://evil"), "{text}");
        assert!(
            text.contains("&lt;!channel&gt; click &lt;https://evil.example|here&gt; &amp; win"),
            "{text}"
        );
        assert!(text.contains("Demo &lt;shop&gt; &amp; co"), "{text}");
        assert!(
            text.contains("CSAT 1 on `/checkout` (purchase · site-nps)"),
            "{text}"
        );
    }
}
