//! `touchpoint alert test --site KEY`: a sample message to each of the
//! site's destinations, signed like the real ones, and what each answered.
//! Sent at once (not through the outbox) and written to the delivery log.

use super::{AlertCommand, site_record};
use crate::alerts::{http, message};
use crate::store::Store;
use crate::store::outbox::{
    AlertingSite, ItemRow, Outcome, destination_host, destination_id, new_delivery_id,
};
use anyhow::bail;
use std::io::Write;
use touchpoint_wire::{AlertDestination, AlertOn, AlertTestReport, AlertTestResult};

pub(super) async fn alert(
    store: &Store,
    json: bool,
    out: &mut (dyn Write + Send),
    command: AlertCommand,
) -> anyhow::Result<()> {
    let AlertCommand::Test {
        site,
        public_url,
        alerts_allow_private: allow_private,
        timeout,
    } = command;
    let record = site_record(store, &site).await?;
    if record.config.alerts.is_empty() {
        bail!("the site {site:?} has no [[alert]] destinations");
    }
    let alerting = AlertingSite {
        key: record.key.clone(),
        name: record.name.clone(),
        alerts: record.config.alerts.clone(),
    };
    let mut report = AlertTestReport {
        destinations: Vec::new(),
    };
    for dest in &record.config.alerts {
        let id = new_delivery_id();
        let item = sample(dest, &record.config.touchpoints);
        let body = message::build("test", &id, &alerting, dest, &[item], public_url.as_deref());
        let headers = message::headers(&id, dest, &body);
        let answer = http::post(
            &dest.url,
            &headers,
            body,
            allow_private,
            std::time::Duration::from_secs(timeout.max(1)),
        )
        .await;
        let outcome = match &answer {
            Ok(a) if (200..300).contains(&a.status) => Outcome::Sent { status: a.status },
            Ok(a) => Outcome::Failed {
                status: Some(a.status),
                error: format!("answered {}", a.status),
                retry_at: None,
            },
            Err(e) => Outcome::Failed {
                status: None,
                error: e.clone(),
                retry_at: None,
            },
        };
        store
            .record_test_delivery(
                record.id,
                &id,
                &dest.url,
                time::OffsetDateTime::now_utc(),
                &outcome,
            )
            .await?;
        report.destinations.push(AlertTestResult {
            destination: destination_id(&dest.url),
            host: destination_host(&dest.url),
            delivery: id,
            ok: matches!(outcome, Outcome::Sent { .. }),
            status: answer.as_ref().ok().map(|a| a.status),
            answer: answer.as_ref().ok().map(|a| a.body.clone()),
            error: answer.err(),
        });
    }
    if json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        for r in &report.destinations {
            let what = match (&r.status, &r.error) {
                (Some(status), _) => format!(
                    "answered {status}: {}",
                    r.answer.as_deref().unwrap_or("").trim()
                ),
                (None, Some(error)) => error.clone(),
                (None, None) => String::new(),
            };
            let mark = if r.ok { "ok    " } else { "FAILED" };
            writeln!(out, "{mark} {} ({}) {what}", r.host, r.destination)?;
        }
    }
    let failed = report.destinations.iter().filter(|r| !r.ok).count();
    if failed > 0 {
        bail!(
            "{failed} of {} destinations did not answer 2xx",
            report.destinations.len()
        );
    }
    Ok(())
}

/// A made-up answer of the kind the destination listens to.
fn sample(dest: &AlertDestination, touchpoints: &[touchpoint_wire::Touchpoint]) -> ItemRow {
    let reason = dest.on.first().copied().unwrap_or(AlertOn::Detractor);
    let touchpoint = dest
        .touchpoints
        .first()
        .cloned()
        .or_else(|| touchpoints.first().map(|t| t.id.clone()));
    let signal = reason == AlertOn::Signal;
    ItemRow {
        event_id: "00000000-0000-4000-8000-000000000000".into(),
        reasons: vec![reason],
        flags: if reason == AlertOn::Frustration {
            vec!["frustration".into()]
        } else {
            Vec::new()
        },
        ts: crate::time::now(),
        page: "/".into(),
        stage: touchpoint_wire::page::UNASSIGNED.into(),
        touchpoint: if signal { None } else { touchpoint },
        metric: (!signal).then(|| "nps".into()),
        score: (!signal).then_some(3),
        comment: (!signal).then(|| "A test message from Touchpoint: no visitor wrote this.".into()),
        signal: signal.then(|| "rage_click".into()),
    }
}
