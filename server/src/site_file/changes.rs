//! What publishing a draft would change, in short lines for the person
//! about to do it: `touchpoint pricing-csat added`, `stage order changed`,
//! `site.origins: ["https://a.example"] → ["https://a.example", "https://b.example"]`.
//! Secrets never appear: an alert's line says only that it changed.

use serde::Serialize;
use touchpoint_wire::SiteDocument;

/// The differences from `live` to `draft`, in the site file's order:
/// settings, theme, stages, touchpoints, alerts, outcomes.
pub fn changes(live: &SiteDocument, draft: &SiteDocument) -> Vec<String> {
    let mut out = Vec::new();
    let (a, b) = (json(&live.site), json(&draft.site));
    if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
        for (field, new) in b {
            let old = a.get(field).unwrap_or(&serde_json::Value::Null);
            if old != new && field != "key" {
                out.push(format!("site.{field}: {old} → {new}"));
            }
        }
    }
    if live.theme != draft.theme {
        out.push("theme changed".to_owned());
    }
    items(&mut out, "stage", &live.stage, &draft.stage, |s| {
        s.id.clone()
    });
    items(
        &mut out,
        "touchpoint",
        &live.touchpoint,
        &draft.touchpoint,
        |t| t.id.clone(),
    );
    items(&mut out, "alert to", &live.alert, &draft.alert, |a| {
        a.url.clone()
    });
    items(&mut out, "outcome", &live.outcome, &draft.outcome, |o| {
        o.id.clone()
    });
    out
}

fn json(v: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// Added, removed and changed items of a list keyed by `id`, and whether
/// the ones on both sides moved.
fn items<T: PartialEq>(
    out: &mut Vec<String>,
    what: &str,
    live: &[T],
    draft: &[T],
    id: impl Fn(&T) -> String,
) {
    let find = |list: &[T], key: &str| list.iter().position(|x| id(x) == key);
    for t in draft {
        let key = id(t);
        match find(live, &key) {
            None => out.push(format!("{what} {key} added")),
            Some(i) if live[i] != *t => out.push(format!("{what} {key} changed")),
            Some(_) => {}
        }
    }
    for t in live {
        let key = id(t);
        if find(draft, &key).is_none() {
            out.push(format!("{what} {key} removed"));
        }
    }
    let kept = |from: &[T], other: &[T]| -> Vec<String> {
        from.iter()
            .map(&id)
            .filter(|k| find(other, k.as_str()).is_some())
            .collect()
    };
    if kept(live, draft) != kept(draft, live) {
        out.push(format!("{what} order changed"));
    }
}

#[cfg(test)]
mod tests {
    use super::changes;
    use crate::site_file::parse;

    #[test]
    fn every_kind_of_change_is_named_once() {
        let live = parse(
            r#"
[site]
name = "Shop"
key = "shop"
origins = ["https://shop.example"]
[[stage]]
id = "browse"
label = "Browse"
pages = ["/"]
[[stage]]
id = "buy"
label = "Buy"
pages = ["/cart"]
[[touchpoint]]
id = "home-csat"
metric = "csat"
question = { en = "Happy?" }
[[touchpoint]]
id = "old"
metric = "thumbs"
question = { en = "Useful?" }
"#,
        )
        .unwrap();
        let same = changes(&live, &live);
        assert!(same.is_empty(), "{same:?}");
        let mut draft = live.clone();
        draft.site.origins.push("https://www.shop.example".into());
        draft.stage.swap(0, 1);
        draft.touchpoint[0]
            .question
            .insert("en".into(), "Glad?".into());
        draft.touchpoint.remove(1);
        let mut new = draft.touchpoint[0].clone();
        new.id = "pricing-ces".into();
        draft.touchpoint.push(new);
        assert_eq!(
            changes(&live, &draft),
            [
                r#"site.origins: ["https://shop.example"] → ["https://shop.example","https://www.shop.example"]"#,
                "stage order changed",
                "touchpoint home-csat changed",
                "touchpoint pricing-ces added",
                "touchpoint old removed",
            ]
        );
    }
}
