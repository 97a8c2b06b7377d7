//! Alerts: where a site's alert-worthy answers go (`[[alert]]` in the site
//! file), the messages Touchpoint posts there, and the delivery log
//! (`GET /v1/sites/{key}/deliveries`, `touchpoint alert test`).

use crate::Metric;
use serde::{Deserialize, Serialize};

/// `[[alert]]`: one destination and what it is told about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertDestination {
    /// Where messages are posted: `https://…` (or `http://…`). Refused when
    /// it is, or resolves to, a loopback, private, link-local or metadata
    /// address, unless the operator allows private destinations.
    pub url: String,
    /// `json` (Touchpoint's own message, [`AlertMessage`]) or `slack` (an
    /// incoming webhook's `{"text": …}`).
    #[serde(default)]
    pub format: AlertFormat,
    /// What is worth a message.
    pub on: Vec<AlertOn>,
    /// Only answers to these touchpoints; empty: every touchpoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub touchpoints: Vec<String>,
    /// 0: one message per alert as it comes; otherwise one digest per
    /// window of this many minutes (a divisor of a day: 5, 15, 60, 1440…),
    /// windows counted from midnight in the site's time zone.
    #[serde(default)]
    pub digest_minutes: u32,
    /// Signs every message: `X-Touchpoint-Signature: sha256=HEX`, the
    /// HMAC-SHA256 of the body with this secret. Shown back masked
    /// (`…xyz9`); sending the masked value back keeps the stored one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// At most this many messages an hour (a UTC clock hour); what is over
    /// waits, and goes in one digest the next hour. Never dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_hour: Option<u32>,
}

/// The body a destination receives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertFormat {
    #[default]
    Json,
    Slack,
}

/// What makes an answer worth an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertOn {
    /// An NPS answer of 0–6.
    Detractor,
    /// The bottom of any other scale: CSAT, CES or emoji 1–2, thumbs down.
    LowScore,
    /// A comment flagged as frustrated.
    Frustration,
    /// A behavioural signal (rage click, dead click, error).
    Signal,
}

impl AlertOn {
    pub const ALL: [AlertOn; 4] = [
        AlertOn::Detractor,
        AlertOn::LowScore,
        AlertOn::Frustration,
        AlertOn::Signal,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AlertOn::Detractor => "detractor",
            AlertOn::LowScore => "low_score",
            AlertOn::Frustration => "frustration",
            AlertOn::Signal => "signal",
        }
    }

    pub fn parse(s: &str) -> Option<AlertOn> {
        AlertOn::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// What a `json` destination receives: one alert, a digest of several, or
/// a test. The same shape every time; `X-Touchpoint-Delivery` carries
/// `delivery` too, the same on every retry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertMessage {
    /// `alert` (one answer, as it came), `digest` (what a window or an
    /// hour over the cap gathered) or `test` (`touchpoint alert test`).
    #[serde(rename = "type")]
    pub kind: String,
    pub delivery: String,
    pub site: AlertSite,
    /// The earliest and latest answer's time.
    pub from: String,
    pub to: String,
    /// How many answers, in all and by what made them alert-worthy.
    pub counts: AlertCounts,
    /// The answers, worst first (lowest score on its scale, then those with
    /// a comment, then the oldest): all of an `alert`, at most ten of a
    /// digest.
    pub alerts: Vec<AlertItem>,
    /// Answers counted but not listed.
    pub more: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSite {
    pub key: String,
    pub name: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertCounts {
    pub total: u64,
    pub detractor: u64,
    pub low_score: u64,
    pub frustration: u64,
    pub signal: u64,
}

/// One answer in a message, as stored (its comment masked as stored).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertItem {
    /// The event's id.
    pub response: String,
    /// What made it alert-worthy.
    pub reasons: Vec<AlertOn>,
    pub ts: String,
    /// The page's path.
    pub page: String,
    pub stage: String,
    pub touchpoint: Option<String>,
    pub metric: Option<Metric>,
    pub score: Option<i64>,
    pub comment: Option<String>,
    /// Emotion flags of the comment (`frustration`, `delight`, `confusion`).
    pub flags: Vec<String>,
    /// For a behavioural signal: which one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// The answer in the dashboard, when the server knows its public URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// What a `slack` destination receives (an incoming webhook's message).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlackMessage {
    /// Slack `mrkdwn`; what visitors wrote is escaped, so a comment cannot
    /// mention a channel or carry a link of its own.
    pub text: String,
}

/// `GET /v1/sites/{key}/deliveries`: the most recent messages, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deliveries {
    pub deliveries: Vec<Delivery>,
}

/// One message to one destination and how its delivery went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// `X-Touchpoint-Delivery`.
    pub id: String,
    /// The destination: a short fingerprint of its URL.
    pub destination: String,
    /// The destination's scheme and host (its path may hold a credential).
    pub host: String,
    /// `alert`, `digest` or `test`.
    pub kind: String,
    /// `pending` (to be sent or retried), `sent`, `failed` (retried for a
    /// day without success) or `cancelled` (its destination was removed or
    /// its answers erased).
    pub status: String,
    /// Answers in the message.
    pub alerts: u64,
    pub attempts: u64,
    pub created_at: String,
    /// When it will be tried next (pending only).
    pub next_attempt_at: Option<String>,
    pub sent_at: Option<String>,
    /// The HTTP status of the last answer.
    pub last_status: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// `touchpoint alert test --json`: what each destination answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertTestReport {
    pub destinations: Vec<AlertTestResult>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertTestResult {
    pub destination: String,
    pub host: String,
    pub delivery: String,
    /// Whether it answered 2xx.
    pub ok: bool,
    pub status: Option<u16>,
    /// The start of its answer's body (at most 512 characters).
    pub answer: Option<String>,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `[[alert]]` of a site document; a renamed field shows up here.
    #[test]
    fn alert_destination_json_is_the_contract() {
        let dest = AlertDestination {
            url: "https://hooks.example/t".into(),
            format: AlertFormat::Slack,
            on: vec![AlertOn::Detractor, AlertOn::LowScore],
            touchpoints: vec!["site-nps".into()],
            digest_minutes: 15,
            secret: Some("…xyz9".into()),
            max_per_hour: Some(6),
        };
        let json = serde_json::to_string(&dest).unwrap();
        assert_eq!(
            json,
            r#"{"url":"https://hooks.example/t","format":"slack","on":["detractor","low_score"],"touchpoints":["site-nps"],"digest_minutes":15,"secret":"…xyz9","max_per_hour":6}"#
        );
        assert_eq!(
            serde_json::from_str::<AlertDestination>(&json).unwrap(),
            dest
        );
        let minimal: AlertDestination =
            serde_json::from_str(r#"{"url":"https://h.example/","on":["signal"]}"#).unwrap();
        assert_eq!(minimal.format, AlertFormat::Json);
        assert_eq!(minimal.digest_minutes, 0);
        for on in AlertOn::ALL {
            assert_eq!(AlertOn::parse(on.as_str()), Some(on));
        }
    }

    /// What a `json` destination receives.
    #[test]
    fn alert_message_json_is_the_contract() {
        let message = AlertMessage {
            kind: "alert".into(),
            delivery: "0b6f1c2a-7e8d-4b4c-9e1a-3f2b5d7e9f1a".into(),
            site: AlertSite {
                key: "tp_demo".into(),
                name: "Demo shop".into(),
            },
            from: "2026-11-22T10:00:00.000Z".into(),
            to: "2026-11-22T10:00:00.000Z".into(),
            counts: AlertCounts {
                total: 1,
                detractor: 1,
                frustration: 1,
                ..AlertCounts::default()
            },
            alerts: vec![AlertItem {
                response: "6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c".into(),
                reasons: vec![AlertOn::Detractor, AlertOn::Frustration],
                ts: "2026-11-22T10:00:00.000Z".into(),
                page: "/checkout".into(),
                stage: "purchase".into(),
                touchpoint: Some("site-nps".into()),
                metric: Some(Metric::Nps),
                score: Some(3),
                comment: Some("Card declined twice, call me at [phone]".into()),
                flags: vec!["frustration".into()],
                signal: None,
                link: Some(
                    "https://feedback.example/app/sites/tp_demo/comments?response=6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c".into(),
                ),
            }],
            more: 0,
        };
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(
            json,
            r#"{"type":"alert","delivery":"0b6f1c2a-7e8d-4b4c-9e1a-3f2b5d7e9f1a","site":{"key":"tp_demo","name":"Demo shop"},"from":"2026-11-22T10:00:00.000Z","to":"2026-11-22T10:00:00.000Z","counts":{"total":1,"detractor":1,"low_score":0,"frustration":1,"signal":0},"alerts":[{"response":"6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c","reasons":["detractor","frustration"],"ts":"2026-11-22T10:00:00.000Z","page":"/checkout","stage":"purchase","touchpoint":"site-nps","metric":"nps","score":3,"comment":"Card declined twice, call me at [phone]","flags":["frustration"],"link":"https://feedback.example/app/sites/tp_demo/comments?response=6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c"}],"more":0}"#
        );
        assert_eq!(
            serde_json::from_str::<AlertMessage>(&json).unwrap(),
            message
        );
        assert_eq!(
            serde_json::to_string(&SlackMessage { text: "hi".into() }).unwrap(),
            r#"{"text":"hi"}"#
        );
    }

    /// The delivery log and the test command's answer.
    #[test]
    fn deliveries_json_is_the_contract() {
        let log = Deliveries {
            deliveries: vec![Delivery {
                id: "0b6f1c2a-7e8d-4b4c-9e1a-3f2b5d7e9f1a".into(),
                destination: "3fa9c2d17b0e4c55".into(),
                host: "https://hooks.example".into(),
                kind: "digest".into(),
                status: "pending".into(),
                alerts: 50,
                attempts: 2,
                created_at: "2026-11-22T10:15:00.000Z".into(),
                next_attempt_at: Some("2026-11-22T10:15:40.000Z".into()),
                sent_at: None,
                last_status: Some(503),
                last_error: Some("answered 503".into()),
            }],
        };
        let json = serde_json::to_string(&log).unwrap();
        assert_eq!(
            json,
            r#"{"deliveries":[{"id":"0b6f1c2a-7e8d-4b4c-9e1a-3f2b5d7e9f1a","destination":"3fa9c2d17b0e4c55","host":"https://hooks.example","kind":"digest","status":"pending","alerts":50,"attempts":2,"created_at":"2026-11-22T10:15:00.000Z","next_attempt_at":"2026-11-22T10:15:40.000Z","sent_at":null,"last_status":503,"last_error":"answered 503"}]}"#
        );
        assert_eq!(serde_json::from_str::<Deliveries>(&json).unwrap(), log);
        let report = AlertTestReport {
            destinations: vec![AlertTestResult {
                destination: "3fa9c2d17b0e4c55".into(),
                host: "https://hooks.example".into(),
                delivery: "0b6f1c2a-7e8d-4b4c-9e1a-3f2b5d7e9f1a".into(),
                ok: true,
                status: Some(200),
                answer: Some("ok".into()),
                error: None,
            }],
        };
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"destinations":[{"destination":"3fa9c2d17b0e4c55","host":"https://hooks.example","delivery":"0b6f1c2a-7e8d-4b4c-9e1a-3f2b5d7e9f1a","ok":true,"status":200,"answer":"ok","error":null}]}"#
        );
    }
}
