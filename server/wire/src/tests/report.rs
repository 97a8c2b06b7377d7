//! Snapshot tests of the report answers: a renamed field is a visible diff.
use crate::*;

#[test]
fn aggregate_row_json_is_the_contract() {
    let row = AggregateRow {
        page: Some("/pricing".into()),
        metric: Some(Metric::Nps),
        responses: 2,
        impressions: 4,
        response_rate: Some(0.5),
        mean: Some(8.0),
        distribution: [(6, 1), (10, 1)].into_iter().collect(),
        comments: 1,
        nps: Some(0.0),
        nps_moe: Some(98.0),
        nps_low: Some(-98.0),
        nps_high: Some(98.0),
        promoters: Some(1),
        passives: Some(0),
        detractors: Some(1),
        dismissals: 1,
        dismiss_rate: Some(0.25),
        frustration_rate: Some(0.0),
        small_sample: true,
        flags: [("frustration", 0), ("delight", 1), ("confusion", 0)]
            .into_iter()
            .map(|(f, n)| (f.to_owned(), n))
            .collect(),
        ..AggregateRow::default()
    };
    assert_eq!(
        serde_json::to_string(&row).unwrap(),
        r#"{"page":"/pricing","metric":"nps","responses":2,"impressions":4,"response_rate":0.5,"mean":8.0,"distribution":{"6":1,"10":1},"nps":0.0,"nps_moe":98.0,"promoters":1,"passives":0,"detractors":1,"comments":1,"nps_low":-98.0,"nps_high":98.0,"dismissals":1,"dismiss_rate":0.25,"frustration_rate":0.0,"small_sample":true,"flags":{"confusion":0,"delight":1,"frustration":0}}"#
    );
    let ces = AggregateRow {
        week: Some("2026-W47".into()),
        metric: Some(Metric::Ces),
        responses: 40,
        ces: Some(5.5),
        ces_low: Some(5.1),
        ces_high: Some(5.9),
        ..AggregateRow::default()
    };
    assert_eq!(
        serde_json::to_string(&ces).unwrap(),
        r#"{"week":"2026-W47","metric":"ces","responses":40,"impressions":0,"response_rate":null,"mean":null,"distribution":{},"ces":5.5,"comments":0,"ces_low":5.1,"ces_high":5.9,"dismissals":0,"dismiss_rate":null,"frustration_rate":null,"small_sample":false,"flags":{}}"#
    );
    let thumbs = AggregateRow {
        metric: Some(Metric::Thumbs),
        thumbs_up: Some(75.0),
        thumbs_low: Some(30.06),
        thumbs_high: Some(95.44),
        ..AggregateRow::default()
    };
    let json = serde_json::to_string(&thumbs).unwrap();
    assert!(
        json.contains(r#""thumbs_up":75.0,"comments":0,"thumbs_low":30.06,"thumbs_high":95.44,"#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<AggregateRow>(&json).unwrap(), thumbs);
    // A row grouped by a visitor attribute carries it as `attr:KEY`, and
    // reads back with it; fields a newer server adds are skipped.
    let mut plan = row.clone();
    plan.page = None;
    plan.attributes.insert("attr:plan".into(), "pro".into());
    let json = serde_json::to_string(&plan).unwrap();
    assert!(
        json.starts_with(r#"{"attr:plan":"pro","metric":"nps""#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<AggregateRow>(&json).unwrap(), plan);
    let newer = json.replacen('{', r#"{"someday":{"a":[1,2]},"#, 1);
    assert_eq!(serde_json::from_str::<AggregateRow>(&newer).unwrap(), plan);
}

/// The journey map and trends, as the dashboard reads them.
#[test]
fn journey_and_trends_json_are_the_contract() {
    let journey = Journey {
        stages: vec![JourneyStage {
            id: "purchase".into(),
            label: "Purchase".into(),
            touchpoints: vec![JourneyCell {
                touchpoint: "checkout-csat".into(),
                metric: Metric::Csat,
                responses: 10,
                score: Some(80.0),
                low: Some(49.02),
                high: Some(94.33),
                impressions: 40,
                response_rate: Some(0.25),
                dismissals: 5,
                dismiss_rate: Some(0.125),
                frustration_rate: Some(0.05),
                small_sample: true,
            }],
        }],
    };
    let json = serde_json::to_string(&journey).unwrap();
    assert_eq!(
        json,
        r#"{"stages":[{"id":"purchase","label":"Purchase","touchpoints":[{"touchpoint":"checkout-csat","metric":"csat","responses":10,"score":80.0,"low":49.02,"high":94.33,"impressions":40,"response_rate":0.25,"dismissals":5,"dismiss_rate":0.125,"frustration_rate":0.05,"small_sample":true}]}]}"#
    );
    assert_eq!(serde_json::from_str::<Journey>(&json).unwrap(), journey);
    let trends = Trends {
        touchpoint: "site-nps".into(),
        metric: Metric::Nps,
        interval: "week".into(),
        points: vec![
            TrendPoint {
                period: "2026-W46".into(),
                responses: 0,
                score: None,
                low: None,
                high: None,
                small_sample: true,
                change: None,
            },
            TrendPoint {
                period: "2026-W47".into(),
                responses: 120,
                score: Some(31.5),
                low: Some(18.2),
                high: Some(44.8),
                small_sample: false,
                change: Some(Change {
                    delta: -6.5,
                    p_value: Some(0.0312),
                    significant: true,
                }),
            },
        ],
    };
    let json = serde_json::to_string(&trends).unwrap();
    assert_eq!(
        json,
        r#"{"touchpoint":"site-nps","metric":"nps","interval":"week","points":[{"period":"2026-W46","responses":0,"score":null,"low":null,"high":null,"small_sample":true,"change":null},{"period":"2026-W47","responses":120,"score":31.5,"low":18.2,"high":44.8,"small_sample":false,"change":{"delta":-6.5,"p_value":0.0312,"significant":true}}]}"#
    );
    assert_eq!(serde_json::from_str::<Trends>(&json).unwrap(), trends);
}

/// Priorities and drivers, as the dashboard and `priorities.csv` read them.
#[test]
fn priorities_and_drivers_json_are_the_contract() {
    let priorities = Priorities {
        touchpoints: vec![Priority {
            touchpoint: "checkout-csat".into(),
            metric: Metric::Csat,
            responses: 200,
            score: 40.0,
            score_low: Some(33.46),
            score_high: Some(46.9),
            norm: 70.0,
            gap: 30.0,
            impact: 6000.0,
            low: Some(4620.0),
            high: Some(7308.0),
            bleeding: true,
            ranked: true,
            small_sample: false,
        }],
    };
    let json = serde_json::to_string(&priorities).unwrap();
    assert_eq!(
        json,
        r#"{"touchpoints":[{"touchpoint":"checkout-csat","metric":"csat","responses":200,"score":40.0,"score_low":33.46,"score_high":46.9,"norm":70.0,"gap":30.0,"impact":6000.0,"low":4620.0,"high":7308.0,"bleeding":true,"ranked":true,"small_sample":false}]}"#
    );
    assert_eq!(
        serde_json::from_str::<Priorities>(&json).unwrap(),
        priorities
    );
    let drivers = Drivers {
        relationship: "site-nps".into(),
        visitors: 400,
        touchpoints: vec![Driver {
            touchpoint: "checkout-csat".into(),
            metric: Metric::Csat,
            visitors: 120,
            satisfied: 80,
            unsatisfied: 40,
            effect: Some(150.0),
            low: Some(128.2),
            high: Some(171.8),
            ranked: true,
        }],
    };
    let json = serde_json::to_string(&drivers).unwrap();
    assert_eq!(
        json,
        r#"{"relationship":"site-nps","visitors":400,"touchpoints":[{"touchpoint":"checkout-csat","metric":"csat","visitors":120,"satisfied":80,"unsatisfied":40,"effect":150.0,"low":128.2,"high":171.8,"ranked":true}]}"#
    );
    assert_eq!(serde_json::from_str::<Drivers>(&json).unwrap(), drivers);
}

/// Behavioural frustration, as the dashboard and `frustration.csv` read it.
#[test]
fn frustration_json_is_the_contract() {
    let rate = |views, rate, low, high| SignalRate {
        views,
        rate: Some(rate),
        low: Some(low),
        high: Some(high),
    };
    let frustration = Frustration {
        group_by: "touchpoint".into(),
        rows: vec![FrustrationRow {
            touchpoint: Some("checkout-csat".into()),
            page: None,
            metric: Metric::Csat,
            impressions: 200,
            frustrated: 100,
            frustration_rate: Some(0.5),
            frustration_low: Some(0.4314),
            frustration_high: Some(0.5686),
            signals: [("rage_click".to_owned(), rate(50, 0.25, 0.1968, 0.3122))].into(),
            after_signal: ScoreGroup {
                responses: 60,
                score: Some(0.0),
                low: Some(0.0),
                high: Some(6.02),
                small_sample: false,
            },
            without_signal: ScoreGroup {
                responses: 140,
                score: Some(100.0),
                low: Some(97.33),
                high: Some(100.0),
                small_sample: false,
            },
            difference: Some(Change {
                delta: -100.0,
                p_value: Some(0.0),
                significant: true,
            }),
        }],
    };
    let json = serde_json::to_string(&frustration).unwrap();
    assert_eq!(
        json,
        r#"{"group_by":"touchpoint","rows":[{"touchpoint":"checkout-csat","metric":"csat","impressions":200,"frustrated":100,"frustration_rate":0.5,"frustration_low":0.4314,"frustration_high":0.5686,"signals":{"rage_click":{"views":50,"rate":0.25,"low":0.1968,"high":0.3122}},"after_signal":{"responses":60,"score":0.0,"low":0.0,"high":6.02,"small_sample":false},"without_signal":{"responses":140,"score":100.0,"low":97.33,"high":100.0,"small_sample":false},"difference":{"delta":-100.0,"p_value":0.0,"significant":true}}]}"#
    );
    assert_eq!(
        serde_json::from_str::<Frustration>(&json).unwrap(),
        frustration
    );
}

/// A reader handed parsed JSON (the dashboard: the browser parses it) sees
/// the distribution's keys as the strings they are in JSON, not numbers.
#[test]
fn distribution_keys_are_read_from_strings() {
    use serde::de::value::{Error, MapDeserializer};
    let entries = [("3".to_owned(), 2u64), ("10".to_owned(), 5u64)];
    let read = crate::report::score_keys(MapDeserializer::<_, Error>::new(entries.into_iter()));
    assert_eq!(read.unwrap(), [(3, 2), (10, 5)].into_iter().collect());
    let bad = [("ten".to_owned(), 1u64)];
    assert!(crate::report::score_keys(MapDeserializer::<_, Error>::new(bad.into_iter())).is_err());
}
