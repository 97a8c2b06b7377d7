//! Snapshot tests: a renamed or re-typed field of the contract shows up
//! here as a diff.
use super::*;

mod report;

/// A renamed or re-typed field shows up here as a diff.
#[test]
fn event_json_is_the_contract() {
    let event = Event {
        id: "6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c".into(),
        kind: Kind::Response,
        touchpoint: Some("site-nps".into()),
        page: "https://shop.example/product/42?utm=x".into(),
        stage: Some("evaluate".into()),
        metric: Some(Metric::Nps),
        score: Some(9),
        comment: None,
        choices: None,
        visitor: Some("v1".into()),
        session: Some("s1".into()),
        ts: "2026-11-22T10:00:00.000Z".into(),
        locale: Some("en-GB".into()),
        device: Some("desktop".into()),
        attributes: None,
        signal: None,
        outcome: None,
        gpc: None,
        consent: Some(true),
    };
    let json = serde_json::to_string(&event).unwrap();
    assert_eq!(
        json,
        r#"{"id":"6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c","kind":"response","touchpoint":"site-nps","page":"https://shop.example/product/42?utm=x","stage":"evaluate","metric":"nps","score":9,"visitor":"v1","session":"s1","ts":"2026-11-22T10:00:00.000Z","locale":"en-GB","device":"desktop","consent":true}"#
    );
    let back: Event = serde_json::from_str(&json).unwrap();
    assert_eq!(back, event);
}

fn touchpoint() -> Touchpoint {
    Touchpoint {
        id: "checkout-ces".into(),
        metric: Metric::Ces,
        question: [("en".to_owned(), "How easy was it?".to_owned())].into(),
        trigger: Trigger {
            on: TriggerOn::Click,
            delay_ms: 500,
            selector: Some("#pay".into()),
            ..Trigger::default()
        },
        pages: vec!["/checkout/**".into()],
        stages: vec!["purchase".into()],
        sample: 0.5,
        recontact_days: 7,
        follow_up: Some(FollowUp {
            question: [("en".to_owned(), "What got in the way?".to_owned())].into(),
            min: Some(1),
            max: Some(3),
            options: vec![ChoiceOption {
                id: "price".into(),
                label: [("en".to_owned(), "Price".to_owned())].into(),
            }],
            multiple: true,
        }),
        options: Vec::new(),
        multiple: false,
        scale: Look::Numbers,
        position: Position::Center,
        audience: [("plan".to_owned(), vec!["pro".to_owned()])].into(),
    }
}

fn widget_config() -> WidgetConfig {
    WidgetConfig {
        site: "tp_demo".into(),
        contact_days: 14,
        respect_gpc: false,
        theme: Some(Theme {
            brand: Some("#c4471c".into()),
            corner: Some(Corner::Left),
            font: Some(FontChoice::Inherit),
        }),
        stages: vec![Stage {
            id: "purchase".into(),
            label: "Purchase".into(),
            pages: vec!["/cart".into(), "/checkout/**".into()],
        }],
        touchpoints: vec![touchpoint()],
        outcomes: vec!["purchase".into()],
        widget: Some(WidgetAssets {
            js: "/widget/touchpoint-0123.js".into(),
            wasm: "/widget/touchpoint-0123.wasm".into(),
        }),
    }
}

/// What the loader and the widget read; a renamed field shows up here.
#[test]
fn widget_config_json_is_the_contract() {
    assert_eq!(
        serde_json::to_string(&widget_config()).unwrap(),
        r##"{"site":"tp_demo","contact_days":14,"respect_gpc":false,"theme":{"brand":"#c4471c","corner":"left","font":"inherit"},"stages":[{"id":"purchase","label":"Purchase","pages":["/cart","/checkout/**"]}],"touchpoints":[{"id":"checkout-ces","metric":"ces","question":{"en":"How easy was it?"},"trigger":{"on":"click","delay_ms":500,"selector":"#pay"},"pages":["/checkout/**"],"stages":["purchase"],"sample":0.5,"recontact_days":7,"follow_up":{"question":{"en":"What got in the way?"},"min":1,"max":3,"options":[{"id":"price","label":{"en":"Price"}}],"multiple":true},"position":"center","audience":{"plan":["pro"]}}],"outcomes":["purchase"],"widget":{"js":"/widget/touchpoint-0123.js","wasm":"/widget/touchpoint-0123.wasm"}}"##
    );
}

/// Every key the widget reads names a field the configuration encodes,
/// where the widget looks for it.
#[test]
fn the_keys_the_widget_reads_are_in_the_config() {
    use keys::*;
    let mut tp = touchpoint();
    tp.scale = Look::Stars;
    tp.options = tp.follow_up.as_ref().unwrap().options.clone();
    let mut config = widget_config();
    config.touchpoints = vec![tp];
    let json = serde_json::to_value(&config).unwrap();
    let has = |v: &serde_json::Value, k: &str| {
        assert!(v.get(k).is_some(), "{k:?} is not a field of {v}");
    };
    for k in [THEME, STAGES] {
        has(&json, k);
    }
    for k in [BRAND, CORNER, FONT] {
        has(&json[THEME], k);
    }
    for k in [ID, PAGES] {
        has(&json[STAGES][0], k);
    }
    let tp = &json["touchpoints"][0];
    for k in [
        ID,
        PAGES,
        METRIC,
        QUESTION,
        TRIGGER,
        STAGES_OF_TOUCHPOINT,
        FOLLOW_UP,
        OPTIONS,
        SCALE,
        POSITION,
    ] {
        has(tp, k);
    }
    for k in [ON, DELAY_MS, SELECTOR] {
        has(&tp[TRIGGER], k);
    }
    for k in [QUESTION, MIN, MAX, OPTIONS, MULTIPLE] {
        has(&tp[FOLLOW_UP], k);
    }
    for k in [ID, LABEL] {
        has(&tp[OPTIONS][0], k);
    }
    // Fields only some triggers have.
    let trigger = |t: Trigger| serde_json::to_value(t).unwrap();
    has(
        &trigger(Trigger {
            on: TriggerOn::Scroll,
            percent: Some(50),
            ..Trigger::default()
        }),
        PERCENT,
    );
    has(
        &trigger(Trigger {
            on: TriggerOn::Event,
            event: Some("x".into()),
            ..Trigger::default()
        }),
        EVENT,
    );
    has(
        &trigger(Trigger {
            on: TriggerOn::Signal,
            signal: Some("error".into()),
            ..Trigger::default()
        }),
        SIGNAL,
    );
    let choice = Touchpoint {
        multiple: true,
        ..touchpoint()
    };
    has(&serde_json::to_value(choice).unwrap(), MULTIPLE);
}

/// The configuration fields `widget/loader.js` reads (`c.…` of the
/// config, `t.…` of a touchpoint, `c.widget.…`) are fields of the JSON.
#[test]
fn the_fields_the_loader_reads_are_in_the_config() {
    let loader: String = include_str!("../../../widget/loader.js")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let json = serde_json::to_value(widget_config()).unwrap();
    let read = |prefix: &str| -> Vec<String> {
        loader
            .match_indices(prefix)
            .filter(|(i, _)| {
                !loader[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.')
            })
            .map(|(i, _)| {
                loader[i + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            })
            .collect()
    };
    let mut config = read("c.");
    // The whole configuration, once fetched.
    config.extend(read("cf?."));
    let widget = read("c.widget.");
    let touchpoint = read("t.");
    for (keys, of) in [
        (&config, &json),
        (&widget, &json["widget"]),
        (&touchpoint, &json["touchpoints"][0]),
    ] {
        for k in keys
            .iter()
            .filter(|k| !k.is_empty() && *k != "widget" && *k != "r")
        {
            assert!(
                of.get(k).is_some(),
                "loader.js reads {k:?}, not a field of {of}"
            );
        }
    }
    // The scan sees the reads it must (a loader rewritten with other
    // names would otherwise pass unchecked).
    // (The widget gets the whole configuration, `...c`, and reads the rest.)
    for k in ["touchpoints", "respect_gpc", "outcomes"] {
        assert!(
            config.iter().any(|c| c == k),
            "loader.js no longer reads c.{k}"
        );
    }
    for k in ["pages", "recontact_days", "sample", "id", "audience"] {
        assert!(
            touchpoint.iter().any(|c| c == k),
            "loader.js no longer reads t.{k}"
        );
    }
}

/// The site file's shape, as `GET /v1/sites/{key}/site` answers it.
#[test]
fn site_document_json_is_the_contract() {
    let doc = SiteDocument {
        site: SiteSettings {
            name: "Demo shop".into(),
            key: Some("tp_demo".into()),
            origins: vec!["https://shop.example".into()],
            retention_days: 365,
            contact_days: 0,
            respect_gpc: true,
            timezone: "Europe/Berlin".into(),
            attributes: vec!["plan".into()],
        },
        theme: None,
        stage: vec![Stage {
            id: "discover".into(),
            label: "Discover".into(),
            pages: vec!["/".into()],
        }],
        touchpoint: Vec::new(),
        alert: Vec::new(),
        outcome: vec![Outcome {
            id: "purchase".into(),
            label: Some("Order placed".into()),
        }],
    };
    let json = serde_json::to_string(&doc).unwrap();
    assert_eq!(
        json,
        r#"{"site":{"name":"Demo shop","key":"tp_demo","origins":["https://shop.example"],"retention_days":365,"contact_days":0,"respect_gpc":true,"timezone":"Europe/Berlin","attributes":["plan"]},"stage":[{"id":"discover","label":"Discover","pages":["/"]}],"touchpoint":[],"outcome":[{"id":"purchase","label":"Order placed"}]}"#
    );
    assert_eq!(serde_json::from_str::<SiteDocument>(&json).unwrap(), doc);
}

#[test]
fn api_answers_are_the_contract() {
    let error = ErrorBody {
        error: ErrorDetail {
            code: "invalid_event".into(),
            message: "events[3].score: 11 is outside the nps scale 0–10".into(),
            index: Some(3),
        },
    };
    assert_eq!(
        serde_json::to_string(&error).unwrap(),
        r#"{"error":{"code":"invalid_event","message":"events[3].score: 11 is outside the nps scale 0–10","index":3}}"#
    );
    let session = Session {
        email: "ann@example.com".into(),
        csrf: "c".into(),
        sites: vec![SiteRole {
            key: "tp_demo".into(),
            name: "Demo shop".into(),
            role: "editor".into(),
        }],
    };
    assert_eq!(
        serde_json::to_string(&session).unwrap(),
        r#"{"email":"ann@example.com","csrf":"c","sites":[{"key":"tp_demo","name":"Demo shop","role":"editor"}]}"#
    );
    assert_eq!(
        serde_json::to_string(&Credentials {
            email: "ann@example.com".into(),
            password: "p".into()
        })
        .unwrap(),
        r#"{"email":"ann@example.com","password":"p"}"#
    );
    assert_eq!(
        serde_json::to_string(&SiteApplied {
            key: "k".into(),
            changed: true
        })
        .unwrap(),
        r#"{"key":"k","changed":true}"#
    );
    assert_eq!(
        serde_json::to_string(&Deleted { deleted: 2 }).unwrap(),
        r#"{"deleted":2}"#
    );
    assert_eq!(
        serde_json::to_string(&SignedOut { signed_out: true }).unwrap(),
        r#"{"signed_out":true}"#
    );
    let event = VisitorEvent {
        id: "6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c".into(),
        kind: "response".into(),
        touchpoint: Some("site-nps".into()),
        page: "/pricing".into(),
        stage: "evaluate".into(),
        metric: Some("nps".into()),
        score: Some(9),
        comment: None,
        choices: Some(vec!["price".into()]),
        visitor: Some("v1".into()),
        session: Some("s1".into()),
        ts: "2026-11-22T10:00:00.000Z".into(),
        received_at: "2026-11-22T10:00:01.000Z".into(),
        locale: Some("en".into()),
        device: Some("desktop".into()),
        attributes: Some([("plan".to_owned(), "pro".to_owned())].into()),
        signal: None,
        gpc: Some(false),
        consent: None,
        outcome: None,
    };
    assert_eq!(
        serde_json::to_string(&event).unwrap(),
        r#"{"id":"6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c","kind":"response","touchpoint":"site-nps","page":"/pricing","stage":"evaluate","metric":"nps","score":9,"comment":null,"choices":["price"],"visitor":"v1","session":"s1","ts":"2026-11-22T10:00:00.000Z","received_at":"2026-11-22T10:00:01.000Z","locale":"en","device":"desktop","attributes":{"plan":"pro"},"signal":null,"gpc":false,"consent":null}"#
    );
}

#[test]
fn unknown_fields_are_refused() {
    let err = serde_json::from_str::<Event>(
        r#"{"id":"x","kind":"response","page":"/","ts":"t","emial":"a@b"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `emial`"), "{err}");
}

#[test]
fn scales() {
    assert_eq!(Metric::Nps.scale(), Some((0, 10)));
    assert_eq!(Metric::Csat.scale(), Some((1, 5)));
    assert_eq!(Metric::Ces.scale(), Some((1, 7)));
    assert_eq!(Metric::Thumbs.scale(), Some((0, 1)));
    assert_eq!(Metric::Text.scale(), None);
    for m in Metric::ALL {
        assert_eq!(Metric::parse(m.as_str()), Some(m));
    }
}
