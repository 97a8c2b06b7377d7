//! The rules' tests: UUIDs, decoding errors, a batch against its events
//! one by one, and properties over arbitrary input.

use super::*;

#[test]
fn uuids() {
    assert_eq!(
        normalize_uuid("6F1C2A7E-8D4B-4C1E-9A3F-2B5D7E9F1A3C").as_deref(),
        Some("6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c")
    );
    assert_eq!(normalize_uuid("6f1c2a7e8d4b4c1e9a3f2b5d7e9f1a3c"), None);
    assert_eq!(normalize_uuid("6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3g"), None);
    assert_eq!(normalize_uuid(""), None);
}

#[test]
fn decode_errors_name_the_path() {
    let err = decode(br#"{"site":"k","events":[{"id":"x","kind":"respond","page":"/","ts":"t"}]}"#)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("events[0].kind: unknown variant `respond`"),
        "{err}"
    );
    let err = decode(b"not json").unwrap_err().to_string();
    assert!(err.contains("not a valid event batch"), "{err}");
}

/// A batch validated with one [`Validator`] stores what each event
/// validated alone would: the page remembered from the event before is
/// only reused for the same page sent, a declared stage still wins, and
/// an invalid page between two valid ones is refused on its own.
#[test]
fn a_batch_validates_as_its_events_one_by_one() {
    let config = crate::store::sites::config_of(
        &crate::site_file::parse(include_str!("../../fixtures/shop.toml")).unwrap(),
    );
    let window = Window::now(3650);
    let sent = [
        ("https://shop.example/pricing", None),
        ("https://shop.example/pricing", Some("support")),
        ("https://shop.example/pricing", None),
        ("https://shop.example/pricing?utm_source=x", None),
        ("https://shop.example/users/ann@example.com/cart", None),
        ("javascript:alert(1)", None),
        (
            "https://shop.example/users/ann@example.com/cart",
            Some("nowhere"),
        ),
        ("https://shop.example/checkout/pay", None),
        ("https://shop.example/pricing", None),
    ];
    let events: Vec<Event> = sent
        .iter()
        .enumerate()
        .map(|(i, (page, stage))| {
            serde_json::from_value(serde_json::json!({
                "id": format!("6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a{i:02}"),
                "kind": "impression", "touchpoint": "site-nps", "page": page,
                "stage": stage, "ts": "2026-11-20T10:00:00Z",
            }))
            .unwrap()
        })
        .collect();
    let mut batch = Validator::new(&config, window);
    let together: Vec<_> = events.iter().map(|e| batch.check(e)).collect();
    let alone: Vec<_> = events
        .iter()
        .map(|e| Validator::new(&config, window).check(e))
        .collect();
    assert_eq!(together, alone);
    let stages: Vec<_> = together
        .iter()
        .map(|r| r.as_ref().map(|s| (s.page.as_str(), s.stage.as_str())))
        .collect();
    assert_eq!(
        stages[..3],
        [
            Ok(("/pricing", "evaluate")),
            Ok(("/pricing", "support")),
            Ok(("/pricing", "evaluate")),
        ]
    );
    assert!(
        stages[4].as_ref().unwrap().0.contains("[email]"),
        "{stages:?}"
    );
    assert!(stages[5].is_err());
    assert_eq!(stages[7], Ok(("/checkout/pay", "purchase")));
}

mod properties {
    use super::super::*;
    use proptest::prelude::*;

    fn config() -> SiteConfig {
        crate::store::sites::config_of(
            &crate::site_file::parse(include_str!("../../fixtures/shop.toml")).unwrap(),
        )
    }

    proptest! {
        /// No body, however broken, makes the decoder panic.
        #[test]
        fn the_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
        }

        /// Events of the right shape with arbitrary values are either
        /// stored as valid or refused with the faulty field named; never
        /// a panic, and never a score outside its scale.
        #[test]
        fn validation_names_the_field_or_stores_in_scale(
            kind in prop_oneof![Just("impression"), Just("response"), Just("dismiss"), Just("signal")],
            score in proptest::option::of(-5i64..20),
            page in ".{0,40}",
            ts in prop_oneof![Just("2026-11-20T10:00:00Z".to_owned()), ".{0,30}"],
            comment in proptest::option::of(".{0,60}"),
            visitor in proptest::option::of("[ -~]{0,70}"),
        ) {
            let event = serde_json::json!({
                "id": "6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c", "kind": kind, "touchpoint": "site-nps",
                "page": page, "ts": ts, "score": score, "comment": comment, "visitor": visitor,
            });
            let Ok(event) = serde_json::from_value::<Event>(event) else { return Ok(()) };
            match validate(&event, &config(), Window::now(3650)) {
                Ok(stored) => {
                    prop_assert!(stored.page.starts_with('/'));
                    if let Some(s) = stored.score {
                        prop_assert!((0..=10).contains(&s));
                    }
                }
                Err(message) => {
                    let field = message.split(':').next().unwrap();
                    prop_assert!(
                        ["id", "page", "touchpoint", "score", "comment", "signal", "ts", "visitor", "stage"].contains(&field),
                        "unexpected field in {}", message
                    );
                }
            }
        }
    }
}
