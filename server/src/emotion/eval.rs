//! How well [`flags`] agrees with comments labelled by hand: per language
//! and flag, true positives, false positives, false negatives, precision,
//! recall and F1, on the dev half of each set, the held-out half and both.
//!
//! A fixture line is `labels<TAB>comment`, `labels` a comma-separated subset
//! of `frustration,delight,confusion` or `-`; `#` lines and blank lines are
//! notes, and the line `# held-out` starts the held-out half
//! (`server/tests/fixtures/emotion/README.md` tells how the sets were
//! written). Each comment is read with its file's language as the locale
//! hint, as a visitor with that interface would send it.

use super::{Flags, flags};
use std::fmt::Write as _;

/// F1 every flag must reach in every language, on the whole set.
pub const F1_FLOOR: f64 = 0.75;

/// The flag names, in the order of [`Flags::names`].
pub const FLAG_NAMES: [&str; 3] = ["frustration", "delight", "confusion"];

/// The labelled sets, by language, built into the binary so the measurement
/// needs no working directory.
pub const FIXTURES: [(&str, &str); 8] = [
    ("de", include_str!("../../tests/fixtures/emotion/de.tsv")),
    ("en", include_str!("../../tests/fixtures/emotion/en.tsv")),
    ("es", include_str!("../../tests/fixtures/emotion/es.tsv")),
    ("fr", include_str!("../../tests/fixtures/emotion/fr.tsv")),
    ("id", include_str!("../../tests/fixtures/emotion/id.tsv")),
    ("ms", include_str!("../../tests/fixtures/emotion/ms.tsv")),
    ("pt", include_str!("../../tests/fixtures/emotion/pt.tsv")),
    ("ru", include_str!("../../tests/fixtures/emotion/ru.tsv")),
];

/// Which comments a count covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Dev = 0,
    HeldOut = 1,
    All = 2,
}

const PARTS: [(Part, &str); 3] = [
    (Part::Dev, "dev"),
    (Part::HeldOut, "held-out"),
    (Part::All, "all"),
];

/// Agreement on one flag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub true_pos: usize,
    pub false_pos: usize,
    pub false_neg: usize,
}

impl Counts {
    /// Flagged and labelled / flagged (1 when nothing was flagged).
    pub fn precision(self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_pos)
    }

    /// Flagged and labelled / labelled (1 when nothing was labelled).
    pub fn recall(self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_neg)
    }

    /// The harmonic mean of precision and recall.
    pub fn f1(self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    fn add(&mut self, other: Counts) {
        self.true_pos += other.true_pos;
        self.false_pos += other.false_pos;
        self.false_neg += other.false_neg;
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// A comment where the flags and the labels disagree.
#[derive(Debug, Clone)]
pub struct Disagreement {
    pub line: usize,
    pub held_out: bool,
    pub comment: String,
    pub labelled: Flags,
    pub flagged: Flags,
}

/// One language's measurement.
#[derive(Debug, Clone)]
pub struct LanguageScore {
    pub language: String,
    /// Comments per part (dev, held-out, all).
    pub comments: [usize; 3],
    /// Comments labelled with no flag, per part.
    pub neutral: [usize; 3],
    /// `counts[part][flag]`, flags in the order of [`FLAG_NAMES`].
    pub counts: [[Counts; 3]; 3],
    pub disagreements: Vec<Disagreement>,
}

impl LanguageScore {
    pub fn get(&self, part: Part, flag: usize) -> Counts {
        self.counts[part as usize][flag]
    }
}

/// The labels of a fixture line's first field.
fn parse_labels(field: &str) -> Option<Flags> {
    let mut labels = Flags::default();
    if field == "-" {
        return Some(labels);
    }
    for name in field.split(',') {
        match name.trim() {
            "frustration" => labels.frustration = true,
            "delight" => labels.delight = true,
            "confusion" => labels.confusion = true,
            _ => return None,
        }
    }
    Some(labels)
}

fn as_array(f: Flags) -> [bool; 3] {
    [f.frustration, f.delight, f.confusion]
}

/// Scores one fixture file's text; the error names the line that does not
/// parse.
///
/// # Errors
/// A line without a tab, or with a label outside the three flags.
pub fn score_language(language: &str, text: &str) -> Result<LanguageScore, String> {
    let mut score = LanguageScore {
        language: language.to_owned(),
        comments: [0; 3],
        neutral: [0; 3],
        counts: [[Counts::default(); 3]; 3],
        disagreements: Vec::new(),
    };
    let mut held_out = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim() == "# held-out" {
            held_out = true;
            continue;
        }
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (field, comment) = line
            .split_once('\t')
            .ok_or_else(|| format!("{language}.tsv:{}: no tab after the labels", n + 1))?;
        let labelled = parse_labels(field)
            .ok_or_else(|| format!("{language}.tsv:{}: unknown label in {field:?}", n + 1))?;
        let flagged = flags(comment, Some(language));
        let part = if held_out { Part::HeldOut } else { Part::Dev };
        for p in [part, Part::All] {
            score.comments[p as usize] += 1;
            score.neutral[p as usize] += usize::from(labelled.is_empty());
        }
        let (want, got) = (as_array(labelled), as_array(flagged));
        for k in 0..3 {
            let one = Counts {
                true_pos: usize::from(want[k] && got[k]),
                false_pos: usize::from(!want[k] && got[k]),
                false_neg: usize::from(want[k] && !got[k]),
            };
            score.counts[part as usize][k].add(one);
            score.counts[Part::All as usize][k].add(one);
        }
        if labelled != flagged {
            score.disagreements.push(Disagreement {
                line: n + 1,
                held_out,
                comment: comment.to_owned(),
                labelled,
                flagged,
            });
        }
    }
    Ok(score)
}

/// Scores every built-in set.
///
/// # Errors
/// When a fixture line does not parse.
pub fn evaluate() -> Result<Vec<LanguageScore>, String> {
    FIXTURES
        .iter()
        .map(|(language, text)| score_language(language, text))
        .collect()
}

fn names(f: Flags) -> String {
    if f.is_empty() {
        "-".to_owned()
    } else {
        f.names().join(",")
    }
}

/// The measurement as Markdown: an F1 overview, the counts per language,
/// flag and part, then every comment where flags and labels disagree.
pub fn markdown(scores: &[LanguageScore]) -> String {
    let mut md = String::from(
        "F1 per flag (dev / held-out / all):\n\n\
         | language | comments (dev / held-out) | neutral | frustration | delight | confusion |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for s in scores {
        let _ = write!(
            md,
            "| `{}` | {} / {} | {} |",
            s.language, s.comments[0], s.comments[1], s.neutral[2]
        );
        for k in 0..3 {
            let _ = write!(
                md,
                " {:.3} / {:.3} / {:.3} |",
                s.get(Part::Dev, k).f1(),
                s.get(Part::HeldOut, k).f1(),
                s.get(Part::All, k).f1()
            );
        }
        md.push('\n');
    }
    md.push_str(
        "\n| language | flag | part | TP | FP | FN | precision | recall | F1 |\n\
         |---|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut total = [[Counts::default(); 3]; 3];
    for s in scores {
        for (k, flag) in FLAG_NAMES.iter().enumerate() {
            for (part, label) in PARTS {
                let c = s.get(part, k);
                total[part as usize][k].add(c);
                row(&mut md, &format!("`{}`", s.language), flag, label, c);
            }
        }
    }
    for (k, flag) in FLAG_NAMES.iter().enumerate() {
        for (part, label) in PARTS {
            row(&mut md, "**all**", flag, label, total[part as usize][k]);
        }
    }
    let count: usize = scores.iter().map(|s| s.disagreements.len()).sum();
    let _ = writeln!(
        md,
        "\nComments where flags and labels disagree ({count}), as `line: labelled → flagged`:\n"
    );
    if count == 0 {
        md.push_str("- none\n");
    }
    for s in scores {
        for d in &s.disagreements {
            let _ = writeln!(
                md,
                "- `{}:{}`{} {} → {}: {}",
                s.language,
                d.line,
                if d.held_out { " (held-out)" } else { "" },
                names(d.labelled),
                names(d.flagged),
                code(&d.comment)
            );
        }
    }
    md
}

fn row(md: &mut String, language: &str, flag: &str, part: &str, c: Counts) {
    let _ = writeln!(
        md,
        "| {language} | {flag} | {part} | {} | {} | {} | {:.3} | {:.3} | {:.3} |",
        c.true_pos,
        c.false_pos,
        c.false_neg,
        c.precision(),
        c.recall(),
        c.f1()
    );
}

/// Inline code that survives backticks in the text.
fn code(text: &str) -> String {
    let fence = if text.contains('`') { "``" } else { "`" };
    format!("{fence} {text} {fence}")
}

/// Whether every flag reaches [`F1_FLOOR`] in every language on the whole
/// set; the failures in words.
///
/// # Errors
/// One line per language and flag below the floor.
pub fn check_floor(scores: &[LanguageScore]) -> Result<(), Vec<String>> {
    let failures: Vec<String> = scores
        .iter()
        .flat_map(|s| {
            FLAG_NAMES.iter().enumerate().filter_map(move |(k, flag)| {
                let f1 = s.get(Part::All, k).f1();
                (f1 < F1_FLOOR).then(|| format!("{} {flag}: F1 {f1:.3} < {F1_FLOOR}", s.language))
            })
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}
