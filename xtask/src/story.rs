//! The demo's story: five weeks of a shop's answers, so that a person sees
//! what Touchpoint is for in the first minute. The checkout got worse last
//! week (effort fell from about 6 to about 3 on 1–7), product pages carry
//! frustrated comments in several languages beside rage clicks, the home
//! page's thumbs and the relationship NPS hold steady. Deterministic: the
//! same ids every run, so importing again adds nothing.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};
use touchpoint_dashboard::format::Day;

/// A small deterministic generator (SplitMix64): the same story every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 0 ≤ n < `below`.
    fn below(&mut self, below: u64) -> u64 {
        self.next() % below
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// One of `items`.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.below(items.len() as u64)).unwrap_or(0)]
    }
}

/// Comments a frustrated visitor leaves on a product page, in the shop's
/// languages (the masking and the emotion flags work on them as on any).
const FRUSTRATED: &[(&str, &str)] = &[
    (
        "en",
        "The size chart button does nothing and the photos never load. So annoying!!",
    ),
    (
        "en",
        "Page froze twice while I tried to pick a colour, gave up.",
    ),
    (
        "id",
        "Halaman produk lambat sekali, gambarnya tidak muncul. Mengecewakan.",
    ),
    ("id", "Kenapa tombol ukuran tidak berfungsi? Saya bingung."),
    (
        "ms",
        "Gambar produk tidak keluar langsung, sangat mengecewakan.",
    ),
    (
        "ru",
        "Ужасно медленно, фото не загружаются, кнопка размера не работает!",
    ),
];

const PLEASED: &[(&str, &str)] = &[
    (
        "en",
        "Great choice of products and the delivery was quick, thanks!",
    ),
    ("en", "Love the new collection."),
    (
        "id",
        "Produknya bagus dan pengirimannya cepat, terima kasih!",
    ),
    ("ru", "Отличный магазин, всё пришло вовремя."),
];

/// Every event of the story as NDJSON lines, timed back from now.
pub fn events(shop: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut dice = Dice(0x70c4_90b1);
    let mut out = String::new();
    let mut n = 0u64;
    let mut line = |out: &mut String, fields: String| {
        n += 1;
        let _ = writeln!(
            out,
            "{{\"id\":\"00000000-0000-4000-8000-{n:012x}\",{fields}}}"
        );
    };
    for visitor in 0..2600u64 {
        // Spread evenly over the last 35 days.
        let ago = dice.below(35 * 86_400);
        let t = now - ago;
        let ts = |offset: u64| rfc3339(t + offset);
        let days_ago = ago / 86_400;
        let v = format!("demo-visitor-{visitor:05}");
        let (locale, device) = (
            *dice.pick(&["en", "en", "en", "id", "ms", "ru"]),
            *dice.pick(&["desktop", "mobile", "mobile"]),
        );
        let common = |page: &str| {
            format!(
                "\"page\":\"{shop}{page}\",\"visitor\":\"{v}\",\"session\":\"{v}-s\",\"locale\":\"{locale}\",\"device\":\"{device}\""
            )
        };
        match dice.below(10) {
            // The checkout: effort fell from about 6 to about 3 last week.
            0..=2 => {
                let page = common("/checkout");
                line(
                    &mut out,
                    format!(
                        "\"kind\":\"impression\",\"touchpoint\":\"checkout-ces\",{page},\"ts\":\"{}\"",
                        ts(0)
                    ),
                );
                if dice.chance(0.15) {
                    line(
                        &mut out,
                        format!(
                            "\"kind\":\"dismiss\",\"touchpoint\":\"checkout-ces\",{page},\"ts\":\"{}\"",
                            ts(5)
                        ),
                    );
                    continue;
                }
                let bad = days_ago < 10;
                let score = if bad {
                    2 + dice.below(3)
                } else {
                    5 + dice.below(3)
                };
                line(
                    &mut out,
                    format!(
                        "\"kind\":\"response\",\"touchpoint\":\"checkout-ces\",\"metric\":\"ces\",\"score\":{score},{page},\"ts\":\"{}\"",
                        ts(8)
                    ),
                );
                if dice.chance(0.5) {
                    line(
                        &mut out,
                        format!(
                            "\"kind\":\"outcome\",\"outcome\":\"order_placed\",{page},\"ts\":\"{}\"",
                            ts(60)
                        ),
                    );
                }
            }
            // Product pages: the relationship NPS, frustrated comments
            // beside rage and dead clicks, and pleased ones.
            3..=7 => {
                let page = common(&format!("/product/{}", 10 + dice.below(40)));
                line(
                    &mut out,
                    format!(
                        "\"kind\":\"impression\",\"touchpoint\":\"site-nps\",{page},\"ts\":\"{}\"",
                        ts(0)
                    ),
                );
                let frustrated = dice.chance(0.22);
                if frustrated {
                    let signal = *dice.pick(&["rage_click", "rage_click", "dead_click", "error"]);
                    line(
                        &mut out,
                        format!(
                            "\"kind\":\"signal\",\"signal\":\"{signal}\",{page},\"ts\":\"{}\"",
                            ts(2)
                        ),
                    );
                }
                if dice.chance(0.35) {
                    line(
                        &mut out,
                        format!(
                            "\"kind\":\"dismiss\",\"touchpoint\":\"site-nps\",{page},\"ts\":\"{}\"",
                            ts(6)
                        ),
                    );
                    continue;
                }
                let score = if frustrated {
                    dice.below(6)
                } else {
                    6 + dice.below(5)
                };
                let comment = if frustrated && dice.chance(0.7) {
                    Some(*dice.pick(FRUSTRATED))
                } else if score >= 9 && dice.chance(0.2) {
                    Some(*dice.pick(PLEASED))
                } else {
                    None
                };
                // A comment is answered in the visitor's language.
                let page = comment.map_or(page.clone(), |(lang, _)| {
                    page.replace(
                        &format!("\"locale\":\"{locale}\""),
                        &format!("\"locale\":\"{lang}\""),
                    )
                });
                let comment =
                    comment.map_or_else(String::new, |(_, c)| format!(",\"comment\":\"{c}\""));
                line(
                    &mut out,
                    format!(
                        "\"kind\":\"response\",\"touchpoint\":\"site-nps\",\"metric\":\"nps\",\"score\":{score}{comment},{page},\"ts\":\"{}\"",
                        ts(9)
                    ),
                );
            }
            // The home page's thumbs.
            _ => {
                let page = common("/");
                line(
                    &mut out,
                    format!(
                        "\"kind\":\"impression\",\"touchpoint\":\"home-helpful\",{page},\"ts\":\"{}\"",
                        ts(0)
                    ),
                );
                if dice.chance(0.5) {
                    let score = u64::from(dice.chance(0.78));
                    line(
                        &mut out,
                        format!(
                            "\"kind\":\"response\",\"touchpoint\":\"home-helpful\",\"metric\":\"thumbs\",\"score\":{score},{page},\"ts\":\"{}\"",
                            ts(4)
                        ),
                    );
                }
            }
        }
    }
    out
}

/// A Unix time as RFC 3339 in UTC.
fn rfc3339(secs: u64) -> String {
    let day = Day::from_number(i64::try_from(secs / 86_400).unwrap_or(0));
    let s = secs % 86_400;
    format!("{day}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_story_is_the_same_every_run_and_reads_as_events() {
        let a = super::events("http://shop");
        assert_eq!(
            a.lines().count(),
            super::events("http://shop").lines().count()
        );
        for line in a.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["ts"].as_str().unwrap().ends_with('Z'), "{line}");
        }
        assert_eq!(super::rfc3339(86_400 + 3_661), "1970-01-02T01:01:01Z");
        // Each comment carries the locale of its language.
        let mut comments = 0;
        for line in a.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(c) = v["comment"].as_str() {
                let (lang, _) = super::FRUSTRATED
                    .iter()
                    .chain(super::PLEASED)
                    .find(|(_, text)| *text == c)
                    .unwrap();
                assert_eq!(v["locale"], *lang, "{line}");
                comments += 1;
            }
        }
        assert!(comments > 50, "{comments} comments");
    }
}
