//! How well [`mask_pii`] does on labelled comments: recall on the marked
//! personal data and false positives on ordinary comments, per language.
//!
//! A fixture file holds one comment per line (`#` lines and blank lines are
//! notes); personal data is marked `⟦…⟧`, and a line without a mark is an
//! ordinary comment that must come out unchanged
//! (`server/tests/fixtures/pii/README.md` tells how they were written).
//!
//! Masking only replaces stretches of text with placeholders, so the output
//! is the text's kept stretches in order with placeholders between them;
//! matching those stretches back onto the input says, for every input
//! character, whether it was kept or masked.
//!
//! - A marked span is **caught** when none of its letters and digits is kept.
//!   Recall = caught spans / marked spans.
//! - An ordinary comment is a **false positive** when its output differs from
//!   it at all. False-positive rate = changed ordinary comments / ordinary
//!   comments.
//! - **Over-masked** characters: letters and digits outside the marked spans
//!   of comments with personal data that were masked anyway (reported, no
//!   floor).

use super::{PLACEHOLDERS, mask_pii};
use std::fmt::Write as _;
use std::path::Path;

/// Recall every language must reach, and the whole set.
pub const RECALL_FLOOR: f64 = 0.95;
/// False-positive rate on ordinary comments no language may exceed.
pub const FALSE_POSITIVE_CEILING: f64 = 0.05;

/// One language's measurement.
#[derive(Debug, Clone, Default)]
pub struct LanguageScore {
    /// The fixture file's stem: `en`, `ru`, …
    pub language: String,
    /// Comments with at least one marked span.
    pub pii_comments: usize,
    pub spans: usize,
    pub caught: usize,
    /// Comments without personal data.
    pub ordinary: usize,
    pub ordinary_changed: usize,
    pub over_masked_chars: usize,
    /// Marked spans that kept a letter or digit: `(span, masked comment)`.
    pub misses: Vec<(String, String)>,
    /// Ordinary comments that changed: `(comment, masked comment)`.
    pub false_positives: Vec<(String, String)>,
    /// Comments with personal data where more was masked than marked.
    pub over_masked: Vec<(String, String)>,
}

impl LanguageScore {
    /// Caught spans / marked spans (1 when nothing is marked).
    pub fn recall(&self) -> f64 {
        ratio(self.caught, self.spans, 1.0)
    }

    /// Changed ordinary comments / ordinary comments.
    pub fn false_positive_rate(&self) -> f64 {
        ratio(self.ordinary_changed, self.ordinary, 0.0)
    }

    fn add(&mut self, other: &LanguageScore) {
        self.pii_comments += other.pii_comments;
        self.spans += other.spans;
        self.caught += other.caught;
        self.ordinary += other.ordinary;
        self.ordinary_changed += other.ordinary_changed;
        self.over_masked_chars += other.over_masked_chars;
    }
}

fn ratio(part: usize, whole: usize, empty: f64) -> f64 {
    if whole == 0 {
        empty
    } else {
        part as f64 / whole as f64
    }
}

/// Scores every `*.txt` fixture in `dir`, in the order of their names.
///
/// # Errors
/// When the directory or a file cannot be read, or a line's marks do not
/// pair up (the error names the file and line).
pub fn evaluate(dir: &Path) -> std::io::Result<Vec<LanguageScore>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let language = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(path)?;
            score_language(&language, &text).map_err(|line| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}:{line}: unpaired ⟦ ⟧", path.display()),
                )
            })
        })
        .collect()
}

/// Scores one fixture file's text; the error is the line number of a line
/// whose marks do not pair up.
pub fn score_language(language: &str, text: &str) -> Result<LanguageScore, usize> {
    let mut score = LanguageScore {
        language: language.to_owned(),
        ..LanguageScore::default()
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (plain, spans) = parse_line(line).ok_or(n + 1)?;
        let masked = mask_pii(&plain);
        let chars: Vec<char> = plain.chars().collect();
        if spans.is_empty() {
            score.ordinary += 1;
            if masked != plain {
                score.ordinary_changed += 1;
                score.false_positives.push((plain, masked));
            }
            continue;
        }
        score.pii_comments += 1;
        let kept = kept_chars(&chars, &masked);
        let mut inside = vec![false; chars.len()];
        for &(s, e) in &spans {
            score.spans += 1;
            inside[s..e].iter_mut().for_each(|x| *x = true);
            if (s..e).any(|k| kept[k] && chars[k].is_alphanumeric()) {
                score
                    .misses
                    .push((chars[s..e].iter().collect(), masked.clone()));
            } else {
                score.caught += 1;
            }
        }
        let over = (0..chars.len())
            .filter(|&k| !inside[k] && !kept[k] && chars[k].is_alphanumeric())
            .count();
        if over > 0 {
            score.over_masked_chars += over;
            score.over_masked.push((plain, masked));
        }
    }
    Ok(score)
}

/// The line without its marks, and the marked spans as character ranges.
fn parse_line(line: &str) -> Option<(String, Vec<(usize, usize)>)> {
    let mut plain = String::with_capacity(line.len());
    let mut spans = Vec::new();
    let mut open = None;
    let mut n = 0;
    for c in line.chars() {
        match (c, open) {
            ('⟦', None) => open = Some(n),
            ('⟧', Some(s)) => {
                spans.push((s, n));
                open = None;
            }
            ('⟦' | '⟧', _) => return None,
            _ => {
                plain.push(c);
                n += 1;
            }
        }
    }
    open.is_none().then_some((plain, spans))
}

/// For every input character, whether the masked output kept it: the
/// output's text between placeholders is matched, in order, onto the input
/// (the first stretch at the start, the last at the end, the others at
/// their first place after the previous one).
fn kept_chars(input: &[char], masked: &str) -> Vec<bool> {
    let mut kept = vec![false; input.len()];
    let mut pieces: Vec<Vec<char>> = vec![Vec::new()];
    let mut rest = masked;
    while !rest.is_empty() {
        if let Some(p) = PLACEHOLDERS.iter().find(|p| rest.starts_with(**p)) {
            pieces.push(Vec::new());
            rest = &rest[p.len()..];
        } else {
            let c = rest.chars().next().unwrap_or_default();
            if let Some(piece) = pieces.last_mut() {
                piece.push(c);
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    let last = pieces.len() - 1;
    let mut pos = 0;
    for (k, piece) in pieces.iter().enumerate() {
        if piece.is_empty() {
            continue;
        }
        let at = if k == 0 {
            input.starts_with(piece).then_some(0)
        } else if k == last {
            (input.len() >= pos + piece.len() && input.ends_with(piece))
                .then(|| input.len() - piece.len())
        } else {
            input[pos..]
                .windows(piece.len())
                .position(|w| w == piece.as_slice())
                .map(|i| pos + i)
        };
        let Some(at) = at else {
            // Not a pure replacement: count nothing as kept.
            return vec![false; input.len()];
        };
        kept[at..at + piece.len()]
            .iter_mut()
            .for_each(|x| *x = true);
        pos = at + piece.len();
    }
    kept
}

/// The measurement as Markdown: one table row per language and one for
/// all, then every miss and every false positive.
pub fn markdown(scores: &[LanguageScore]) -> String {
    let mut all = LanguageScore {
        language: "all".into(),
        ..LanguageScore::default()
    };
    for s in scores {
        all.add(s);
    }
    let mut md = String::from(
        "| language | comments with personal data | marked spans | caught | recall | ordinary comments | changed | false-positive rate | over-masked characters |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in scores.iter().chain([&all]) {
        let name = if s.language == "all" {
            "**all**".to_owned()
        } else {
            format!("`{}`", s.language)
        };
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {:.3} | {} | {} | {:.3} | {} |",
            s.pii_comments,
            s.spans,
            s.caught,
            s.recall(),
            s.ordinary,
            s.ordinary_changed,
            s.false_positive_rate(),
            s.over_masked_chars,
        );
    }
    let list = |md: &mut String, title: &str, rows: Vec<(&str, &(String, String))>| {
        let _ = writeln!(md, "\n{title} ({}):\n", rows.len());
        if rows.is_empty() {
            md.push_str("- none\n");
        }
        for (lang, (text, masked)) in rows {
            let _ = writeln!(md, "- `{lang}` {} → {}", code(text), code(masked));
        }
    };
    let misses = scores
        .iter()
        .flat_map(|s| s.misses.iter().map(|m| (s.language.as_str(), m)))
        .collect();
    list(
        &mut md,
        "Missed spans, each with the masked comment",
        misses,
    );
    let fps = scores
        .iter()
        .flat_map(|s| s.false_positives.iter().map(|m| (s.language.as_str(), m)))
        .collect();
    list(&mut md, "Ordinary comments that changed", fps);
    let over = scores
        .iter()
        .flat_map(|s| s.over_masked.iter().map(|m| (s.language.as_str(), m)))
        .collect();
    list(
        &mut md,
        "Comments where more than the marked data was masked",
        over,
    );
    md
}

/// Inline code that survives backticks in the text.
fn code(text: &str) -> String {
    let fence = if text.contains('`') { "``" } else { "`" };
    format!("{fence} {text} {fence}")
}

/// Whether every language and the whole set hold the floors; the failures
/// in words.
pub fn check_floors(scores: &[LanguageScore]) -> Result<(), Vec<String>> {
    let mut failures = Vec::new();
    let mut all = LanguageScore::default();
    for s in scores {
        all.add(s);
        if s.recall() < RECALL_FLOOR {
            failures.push(format!(
                "{}: recall {:.3} < {RECALL_FLOOR}",
                s.language,
                s.recall()
            ));
        }
        if s.false_positive_rate() > FALSE_POSITIVE_CEILING {
            failures.push(format!(
                "{}: false-positive rate {:.3} > {FALSE_POSITIVE_CEILING}",
                s.language,
                s.false_positive_rate()
            ));
        }
    }
    if all.recall() < RECALL_FLOOR {
        failures.push(format!("all: recall {:.3} < {RECALL_FLOOR}", all.recall()));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

#[cfg(test)]
mod tests {
    use super::{check_floors, evaluate, kept_chars, markdown, parse_line, score_language};
    use std::path::PathBuf;

    /// The interface languages; each must have a fixture file.
    const LANGUAGES: [&str; 12] = [
        "ar", "de", "en", "es", "fr", "he", "id", "ja", "ms", "pt", "ru", "zh",
    ];

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pii")
    }

    #[test]
    fn masking_holds_its_floors_in_every_language() {
        let scores = evaluate(&fixtures()).expect("the fixtures parse");
        let table = markdown(&scores);
        let names: Vec<&str> = scores.iter().map(|s| s.language.as_str()).collect();
        assert_eq!(names, LANGUAGES, "one fixture file per interface language");
        for s in &scores {
            assert!(
                s.pii_comments >= 40 && s.ordinary >= 30,
                "{}: {} comments with personal data and {} ordinary ones; at least 40 and 30 are needed",
                s.language,
                s.pii_comments,
                s.ordinary
            );
        }
        if let Err(failures) = check_floors(&scores) {
            panic!("{}\n\n{table}", failures.join("\n"));
        }
    }

    /// Writes the measurement to `$TOUCHPOINT_QUALITY_OUT` (or prints it):
    /// `cargo xtask quality` runs this.
    #[test]
    #[ignore = "run by `cargo xtask quality`"]
    fn write_pii_quality() {
        let scores = evaluate(&fixtures()).expect("the fixtures parse");
        let md = markdown(&scores);
        match std::env::var_os("TOUCHPOINT_QUALITY_OUT") {
            Some(path) => std::fs::write(path, md).expect("writing the measurement"),
            None => print!("{md}"),
        }
    }

    #[test]
    fn marks_are_parsed_into_spans() {
        assert_eq!(
            parse_line("mail ⟦a@b.co⟧ now"),
            Some(("mail a@b.co now".into(), vec![(5, 11)]))
        );
        assert_eq!(parse_line("⟦x"), None);
        assert_eq!(parse_line("x⟧"), None);
        assert_eq!(parse_line("⟦⟦x⟧⟧"), None);
    }

    #[test]
    fn kept_characters_are_found_around_placeholders() {
        let input: Vec<char> = "mail a@b.co or c@d.co now".chars().collect();
        let kept = kept_chars(&input, "mail [email] or [email] now");
        let shown: String = input
            .iter()
            .zip(&kept)
            .map(|(c, k)| if *k { *c } else { '_' })
            .collect();
        assert_eq!(shown, "mail ______ or ______ now");
    }

    #[test]
    fn a_span_left_partly_visible_is_a_miss_and_a_changed_ordinary_comment_a_false_positive() {
        let s = score_language(
            "xx",
            "# a note\ncall ⟦555-1234⟧\nmail ⟦ann at example⟧ please\nsize 38\n",
        )
        .unwrap();
        assert_eq!(
            (s.spans, s.caught, s.ordinary, s.ordinary_changed),
            (2, 1, 1, 0)
        );
        assert_eq!(s.misses[0].0, "ann at example");
        let s = score_language("xx", "call 555-1234 later\n").unwrap();
        assert_eq!((s.ordinary, s.ordinary_changed), (1, 1));
        assert!((s.false_positive_rate() - 1.0).abs() < f64::EPSILON);
        assert!(check_floors(&[s]).is_err());
    }
}
