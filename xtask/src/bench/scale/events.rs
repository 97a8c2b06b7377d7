//! The shop and its events: the site file the scale part applies, and
//! synthetic events drawn from a seeded generator, so every run stores the
//! same ones.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;

const SEED: u64 = 0x5ca1_e0f7_0c4e_5eed;
/// Days the events are spread over, from 2026-08-01.
pub const DAYS: u64 = 91;
/// Events of one visit (one visitor, one session, minutes apart).
pub const EVENTS_PER_VISIT: u64 = 4;
/// Share of visits by a returning visitor, in percent.
pub const RETURNING: u64 = 30;
/// Product pages (`/product/1` …) and help topics (`/help/…`).
pub const PRODUCTS: u64 = 200;
pub const HELP_TOPICS: [&str; 8] = [
    "shipping",
    "returns",
    "payment",
    "sizes",
    "account",
    "orders",
    "gift-cards",
    "contact-us",
];

/// The demo shop's stages, and a touchpoint for every metric.
pub const SITE: &str = r#"
[site]
name = "Scale benchmark shop"
key = "bench-scale"
retention_days = 36500

[[stage]]
id = "discover"
label = "Discover"
pages = ["/", "/blog/**"]

[[stage]]
id = "evaluate"
label = "Evaluate"
pages = ["/pricing", "/product/*"]

[[stage]]
id = "purchase"
label = "Purchase"
pages = ["/cart", "/checkout/**"]

[[stage]]
id = "support"
label = "Support"
pages = ["/help/**", "/contact"]

[[touchpoint]]
id = "site-nps"
metric = "nps"
question = { en = "How likely are you to recommend us?" }
follow_up = { question = { en = "What is the one thing we should improve?" }, max = 6 }

[[touchpoint]]
id = "home-helpful"
metric = "thumbs"
pages = ["/"]
question = { en = "Did you find what you were looking for?" }

[[touchpoint]]
id = "product-idea"
metric = "text"
pages = ["/product/*"]
question = { en = "What would you like to know about this product?" }

[[touchpoint]]
id = "cart-matters"
metric = "choice"
multiple = true
pages = ["/cart"]
question = { en = "What matters most to you?" }
options = [
  { id = "price", label = { en = "Price" } },
  { id = "speed", label = { en = "Delivery speed" } },
  { id = "returns", label = { en = "Free returns" } },
]

[[touchpoint]]
id = "checkout-csat"
metric = "csat"
pages = ["/checkout"]
question = { en = "How satisfied are you with checkout?" }

[[touchpoint]]
id = "checkout-ces"
metric = "ces"
pages = ["/checkout/done"]
question = { en = "How easy was it to place your order?" }

[[touchpoint]]
id = "help-emoji"
metric = "emoji"
pages = ["/help/**"]
question = { en = "Was this article helpful?" }
"#;

/// Writes events `from..to` as NDJSON, in time order over the whole
/// range of days (give or take a few minutes), as an export from another
/// tool would come.
pub fn write_events(path: &Path, from: u64, to: u64) -> anyhow::Result<()> {
    let generator = Generator::new();
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut line = String::with_capacity(512);
    for n in from..to {
        line.clear();
        let at = (n - from) as f64 / (to - from) as f64;
        generator.event(n, at, &mut line);
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// splitmix64: small, fast, and good enough to draw a benchmark's events.
struct Rng(u64);

impl Rng {
    /// The generator of event `n`: every event is drawn from its own
    /// stream, so a range of events is the same whichever run writes it.
    fn for_event(n: u64) -> Rng {
        Rng(SEED ^ n.wrapping_mul(0xd134_2543_de82_ef95))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index drawn by weight.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let mut roll = self.below(weights.iter().sum());
        for (i, w) in weights.iter().enumerate() {
            if roll < *w {
                return i;
            }
            roll -= w;
        }
        weights.len() - 1
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const LOCALES: [&str; 9] = [
    "en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "id-ID", "ja-JP", "pt-BR", "ru-RU",
];
const LOCALE_WEIGHTS: [u64; 9] = [35, 15, 10, 10, 8, 7, 5, 5, 5];
const DEVICES: [&str; 3] = ["desktop", "mobile", "tablet"];
const DEVICE_WEIGHTS: [u64; 3] = [55, 40, 5];
const COMPLAINTS: [&str; 8] = [
    "Checkout was slow",
    "Could not find the size guide",
    "Delivery took too long",
    "The coupon did not work",
    "Too many pop-ups",
    "Shipping costs came as a surprise at the end",
    "Please write to me at jo@example.com",
    "Call me back on 0612345678",
];
const PRAISE: [&str; 4] = [
    "Great prices",
    "Love the new design",
    "Support answered fast",
    "Easy to find what I needed",
];
const CHOICES: [&str; 6] = [
    r#"["price"]"#,
    r#"["speed"]"#,
    r#"["returns"]"#,
    r#"["price","speed"]"#,
    r#"["price","returns"]"#,
    r#"["speed","returns"]"#,
];

struct Generator {
    /// `2026-08-01` … for each day of the range.
    days: Vec<String>,
}

impl Generator {
    fn new() -> Generator {
        let months = [(8, 31), (9, 30), (10, 31), (11, 30)];
        let days = months
            .iter()
            .flat_map(|(m, len)| (1..=*len).map(move |d| format!("2026-{m:02}-{d:02}")))
            .take(DAYS as usize)
            .collect();
        Generator { days }
    }

    /// Event `n`, at `at` (0 to 1) of the range of days, as one JSON line:
    /// a page of the shop, one of its touchpoints, an impression (55 %),
    /// response (30 %), dismissal (10 %) or behavioural signal (5 %), with
    /// skewed scores, some comments, the visitor's locale and device.
    fn event(&self, n: u64, at: f64, out: &mut String) {
        let mut rng = Rng::for_event(n);
        let (a, b) = (rng.next(), rng.next());
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        );
        let (path, specific, share) = match rng.weighted(&[20, 10, 35, 10, 5, 3, 7, 2, 8]) {
            0 => ("/".to_owned(), Some("home-helpful"), 50),
            1 => ("/pricing".to_owned(), None, 0),
            2 => (
                format!("/product/{}", 1 + rng.below(PRODUCTS)),
                Some("product-idea"),
                20,
            ),
            3 => ("/cart".to_owned(), Some("cart-matters"), 60),
            4 => ("/checkout".to_owned(), Some("checkout-csat"), 60),
            5 => ("/checkout/done".to_owned(), Some("checkout-ces"), 80),
            6 => (
                format!(
                    "/help/{}",
                    HELP_TOPICS[rng.below(HELP_TOPICS.len() as u64) as usize]
                ),
                Some("help-emoji"),
                60,
            ),
            7 => ("/contact".to_owned(), None, 0),
            _ => (format!("/blog/post-{}", 1 + rng.below(50)), None, 0),
        };
        let touchpoint = match specific {
            Some(t) if rng.chance(share) => t,
            _ => "site-nps",
        };
        let metric = match touchpoint {
            "home-helpful" => "thumbs",
            "product-idea" => "text",
            "cart-matters" => "choice",
            "checkout-csat" => "csat",
            "checkout-ces" => "ces",
            "help-emoji" => "emoji",
            _ => "nps",
        };
        let kind = ["impression", "response", "dismiss", "signal"][rng.weighted(&[55, 30, 10, 5])];
        // Up to 5 minutes late, as a queued event is.
        let total = DAYS * 86_400 - 1;
        let secs = ((at * total as f64) as u64 + rng.below(300)).min(total);
        let (day, secs) = (&self.days[(secs / 86_400) as usize], secs % 86_400);
        let query = if rng.chance(10) {
            "?utm_source=newsletter"
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"{{"id":"{id}","kind":"{kind}","page":"https://shop.example{path}{query}","ts":"{day}T{:02}:{:02}:{:02}.{:03}Z""#,
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            rng.below(1000)
        );
        // A visit's events share its visitor, session, locale and device;
        // some visits are a visitor coming back.
        let visit = n / EVENTS_PER_VISIT;
        let mut v = Rng::for_event(visit ^ 0x7615_1700_0000_0000);
        let session = v.next() >> 24;
        let first_visit = if visit > 0 && v.chance(RETURNING) {
            visit - 1 - v.below(visit.min(1_000_000))
        } else {
            visit
        };
        let mut r = Rng::for_event(first_visit ^ 0x0015_1702_0000_0000);
        let visitor = r.next() >> 24;
        let _ = write!(
            out,
            r#","visitor":"v{visitor:x}","session":"s{session:x}","locale":"{}","device":"{}""#,
            LOCALES[r.weighted(&LOCALE_WEIGHTS)],
            DEVICES[r.weighted(&DEVICE_WEIGHTS)]
        );
        if kind == "signal" {
            let signal = ["rage_click", "dead_click", "error"][rng.weighted(&[50, 30, 20])];
            let _ = write!(out, r#","signal":"{signal}"}}"#);
            return;
        }
        let _ = write!(out, r#","touchpoint":"{touchpoint}","metric":"{metric}""#);
        if kind == "response" {
            let (score, unhappy) = match metric {
                "nps" => {
                    let s = rng.weighted(&[2, 1, 1, 2, 2, 4, 6, 10, 18, 24, 30]) as u64;
                    (Some(s), s <= 6)
                }
                "csat" | "emoji" => {
                    let s = 1 + rng.weighted(&[5, 7, 13, 35, 40]) as u64;
                    (Some(s), s <= 2)
                }
                "ces" => {
                    let s = 1 + rng.weighted(&[3, 4, 6, 10, 20, 27, 30]) as u64;
                    (Some(s), s <= 3)
                }
                "thumbs" => (Some(u64::from(rng.chance(72))), false),
                _ => (None, false),
            };
            if let Some(s) = score {
                let _ = write!(out, r#","score":{s}"#);
            }
            let comment = if metric == "text" || (unhappy && rng.chance(35)) {
                Some(COMPLAINTS[rng.below(COMPLAINTS.len() as u64) as usize])
            } else if rng.chance(3) && metric != "choice" {
                Some(PRAISE[rng.below(PRAISE.len() as u64) as usize])
            } else {
                None
            };
            if let Some(c) = comment {
                let _ = write!(out, r#","comment":"{c}""#);
            }
            if metric == "choice" {
                let picked = CHOICES[rng.weighted(&[30, 20, 15, 15, 10, 10])];
                let _ = write!(out, r#","choices":{picked}"#);
            }
        }
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_deterministic_json_of_the_contract_shape() {
        let g = Generator::new();
        let (mut a, mut b) = (String::new(), String::new());
        for (n, at) in [(0, 0.0), (1, 0.1), (99_999, 0.5), (9_999_999, 1.0)] {
            a.clear();
            b.clear();
            g.event(n, at, &mut a);
            g.event(n, at, &mut b);
            assert_eq!(a, b);
            let v: serde_json::Value = serde_json::from_str(&a).unwrap();
            assert_eq!(v["id"].as_str().unwrap().len(), 36, "{a}");
            assert!(
                v["page"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://shop.example/")
            );
        }
        assert_eq!(g.days.len(), DAYS as usize);
        assert_eq!(g.days.last().unwrap(), "2026-10-30");
    }
}
