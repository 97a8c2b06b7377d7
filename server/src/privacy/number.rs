//! IBANs, and digit runs that are phone, card or national id numbers.
//!
//! A digit run is digits (ASCII, Arabic-Indic, extended Arabic-Indic or
//! full-width) in groups joined by one space, `-`, `.`, `/` or `_`, with
//! brackets around an area code and a leading `+`. Nine digits or more are a
//! number to mask, except a list of small numbers (`38/39/40/41/42`) and a price
//! with thousands separators (`Rp 125.000.000`, `125 000 000 ₽`). Seven or
//! eight digits are masked when written as a phone number: after `+` or an
//! area code in brackets, starting with a trunk `0`, or grouped like
//! `555-1234`, but never a date, a year range, a price, an order number
//! written as one group, a dotted version or time, or a code glued to
//! letters (`SKU1234-5678`). Dates are split off a run first, so
//! `22.11.2026-23.11.2026` is two dates, not a 16-digit number.

use super::{Mode, is_space, push_placeholder};

/// An IBAN is at most 34 characters: a run is given up past that.
const MAX_IBAN_BODY: usize = 30;

pub(super) fn digit(c: char) -> Option<u32> {
    let zero = match c {
        '0'..='9' => '0',
        '٠'..='٩' => '٠',
        '۰'..='۹' => '۰',
        '０'..='９' => '０',
        _ => return None,
    };
    Some(c as u32 - zero as u32)
}

fn is_digit(c: char) -> bool {
    digit(c).is_some()
}

/// Replaces IBAN-like runs with `[iban]`: two letters, two digits, then 11
/// to 30 letters or digits, in groups separated by single spaces. Capital
/// letters are enough; other spellings need a valid checksum (mod 97).
pub(super) fn mask_ibans(c: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(c.len());
    let mut i = 0;
    while i < c.len() {
        if let Some(end) = iban_at(c, i) {
            push_placeholder(&mut out, "[iban]");
            i = end;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn iban_at(c: &[char], i: usize) -> Option<usize> {
    let head = (i == 0 || !c[i - 1].is_alphanumeric())
        && c.len() >= i + 4
        && c[i].is_ascii_alphabetic()
        && c[i + 1].is_ascii_alphabetic()
        && c[i + 2].is_ascii_digit()
        && c[i + 3].is_ascii_digit();
    if !head {
        return None;
    }
    // Every place a word ends is a candidate end; the longest that holds
    // wins (a checksum first, then the capitals-only shape).
    let mut ends: Vec<usize> = Vec::with_capacity(9);
    let mut j = i + 4;
    let mut body = 0;
    while j < c.len() && body <= MAX_IBAN_BODY {
        if c[j].is_ascii_alphanumeric() {
            body += 1;
            j += 1;
            if c.get(j).is_none_or(|n| !n.is_alphanumeric()) && (11..=MAX_IBAN_BODY).contains(&body)
            {
                ends.push(j);
            }
        } else if c[j] == ' ' && c.get(j + 1).is_some_and(char::is_ascii_alphanumeric) {
            j += 1;
        } else {
            break;
        }
    }
    let text = |end: usize| c[i..end].iter().filter(|ch| **ch != ' ');
    let checksum = |end: usize| {
        let mut rem = 0u32;
        for ch in text(end).skip(4).chain(text(end).take(4)) {
            let v = ch.to_digit(36).unwrap_or(0);
            rem = if v >= 10 {
                (rem * 100 + v) % 97
            } else {
                (rem * 10 + v) % 97
            };
        }
        rem == 1
    };
    let capitals = |end: usize| text(end).all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit());
    let longest = |ok: &dyn Fn(usize) -> bool| ends.iter().rev().copied().find(|&e| ok(e));
    longest(&checksum).or_else(|| longest(&capitals))
}

/// A separator character between digit groups, normalised: `' '`, `-`,
/// `.`, `/`, `_`, or a bracket.
fn separator(c: char) -> Option<char> {
    Some(match c {
        c if is_space(c) => ' ',
        '-' | '‐' | '‑' | '－' => '-',
        '.' | '．' => '.',
        '/' | '／' => '/',
        '_' | '＿' => '_',
        '(' | '（' => '(',
        ')' | '）' => ')',
        _ => return None,
    })
}

/// A digit run: its groups (character ranges) and, before each group after
/// the first, the separator that joined it (`' '`, `-`, `.`, `/`, `_`, or
/// `(` when only brackets did).
struct Run {
    start: usize,
    groups: Vec<(usize, usize)>,
    seps: Vec<char>,
    plus: bool,
    bracket: bool,
}

impl Run {
    fn len(&self, k: usize) -> usize {
        self.groups[k].1 - self.groups[k].0
    }

    fn value(&self, c: &[char], k: usize) -> u32 {
        let (s, e) = self.groups[k];
        c[s..e.min(s + 4)]
            .iter()
            .fold(0, |v, &ch| v * 10 + digit(ch).unwrap_or(0))
    }
}

/// Replaces phone, card and id numbers with `[number]`, and id words
/// (`12345678Z`, `X1234567L`, passports `C1234567`) with `[id]`.
pub(super) fn mask(c: &[char], mode: Mode) -> Vec<char> {
    let mut out = Vec::with_capacity(c.len());
    let mut i = 0;
    while i < c.len() {
        if let Some(end) = id_word(c, i) {
            push_placeholder(&mut out, "[id]");
            i = end;
            continue;
        }
        let Some(run) = run_at(c, i) else {
            out.push(c[i]);
            i += 1;
            continue;
        };
        let mut end = run.groups.last().map_or(i + 1, |g| g.1);
        let parts = chunks(c, &run, mode);
        // A Chinese resident id ends in a check letter: `11010519491231002X`.
        let check_letter = run.groups.len() == 1
            && run.groups[0].1 - run.groups[0].0 == 17
            && matches!(c.get(end), Some('X' | 'x'))
            && c.get(end + 1).is_none_or(|n| !n.is_ascii_alphanumeric());
        if check_letter {
            end += 1;
        }
        for (a, b, masked) in parts {
            let from = if a == 0 { run.start } else { run.groups[a].0 };
            let to = run.groups[b - 1].1;
            if a > 0 {
                out.extend_from_slice(&c[run.groups[a - 1].1..from]);
            }
            if masked {
                push_placeholder(&mut out, "[number]");
            } else {
                out.extend_from_slice(&c[from..to]);
            }
        }
        i = end;
    }
    out
}

/// An id written as one word: up to two capitals, seven or eight digits,
/// up to one capital, with at least one letter: a Spanish DNI
/// (`12345678Z`) or NIE (`X1234567L`), a passport (`C1234567`,
/// `A12345678`).
fn id_word(c: &[char], i: usize) -> Option<usize> {
    if i > 0 && c[i - 1].is_alphanumeric() {
        return None;
    }
    let count = |from: usize, max: usize, f: fn(&char) -> bool| {
        c[from..]
            .iter()
            .take(max + 1)
            .take_while(|ch| f(ch))
            .count()
    };
    let head = count(i, 2, char::is_ascii_uppercase);
    let digits = count(i + head, 8, char::is_ascii_digit);
    let tail = count(i + head + digits, 1, char::is_ascii_uppercase);
    let end = i + head + digits + tail;
    let ok = head <= 2
        && tail <= 1
        && head + tail > 0
        && (7..=8).contains(&digits)
        && c.get(end).is_none_or(|n| !n.is_alphanumeric());
    ok.then_some(end)
}

fn run_at(c: &[char], i: usize) -> Option<Run> {
    let next_is_digit = c.get(i + 1).copied().is_some_and(is_digit);
    let (plus, first) = match c[i] {
        '+' | '＋' if next_is_digit => (true, i + 1),
        '(' | '（' if next_is_digit => (false, i + 1),
        ch if is_digit(ch) => (false, i),
        _ => return None,
    };
    let mut run = Run {
        start: i,
        groups: Vec::new(),
        seps: vec!['\0'],
        plus,
        bracket: false,
    };
    let mut j = first;
    loop {
        let from = j;
        while j < c.len() && is_digit(c[j]) {
            j += 1;
        }
        run.groups.push((from, j));
        // At most three separator characters, of which one at most is not a
        // space or a bracket: `) ` and ` (` join, ` - ` and `. ` do not.
        let mut k = j;
        let mut mark = None;
        let mut marks = 0;
        let mut spaces = 0;
        let mut brackets = false;
        while k < c.len() && k - j < 3 {
            match separator(c[k]) {
                Some('(' | ')') => brackets = true,
                Some(' ') => spaces += 1,
                Some(s) => {
                    marks += 1;
                    mark = Some(s);
                }
                None => break,
            }
            k += 1;
        }
        // `089 / 123 456` is one number; ` - ` stays a range.
        let spaced_slash = mark == Some('/') && marks == 1 && spaces == 2;
        let joins = k > j
            && c.get(k).copied().is_some_and(is_digit)
            && (marks + spaces <= 1 || spaced_slash)
            && (marks + spaces == 1 || brackets || spaced_slash);
        // `080-9876-5432 18時`: a short group glued to a unit after a space
        // is a quantity, not the end of the number.
        let quantity = || {
            let short = c[k..].iter().take(3).take_while(|d| is_digit(**d)).count();
            short <= 2 && c.get(k + short).is_some_and(|u| u.is_alphabetic())
        };
        if !joins || (mark.is_none() && spaces > 0 && quantity()) {
            return Some(run);
        }
        run.bracket |= brackets;
        run.seps
            .push(mark.unwrap_or(if spaces > 0 { ' ' } else { '(' }));
        j = k;
    }
}

/// Splits a run into dates (kept) and numbers, and says of each part
/// whether to mask it: `(first group, end group, masked)`.
fn chunks(c: &[char], run: &Run, mode: Mode) -> Vec<(usize, usize, bool)> {
    let n = run.groups.len();
    let mut parts = Vec::new();
    let mut from = 0;
    let mut t = 0;
    while t < n {
        if t + 3 <= n && is_date(c, run, t) {
            if from < t {
                parts.push((from, t, is_number(c, run, from, t, mode)));
            }
            parts.push((t, t + 3, false));
            t += 3;
            from = t;
        } else {
            t += 1;
        }
    }
    if from < n {
        parts.push((from, n, is_number(c, run, from, n, mode)));
    }
    parts
}

/// Groups `t..t + 3` are a date (`2026-11-22`, `22/11/2026`, `22.11.26`)
/// joined by one separator that differs from those around it.
fn is_date(c: &[char], run: &Run, t: usize) -> bool {
    let s = run.seps[t + 1];
    if !matches!(s, '-' | '/' | '.') || run.seps[t + 2] != s {
        return false;
    }
    if (t > 0 && run.seps[t] == s) || run.seps.get(t + 3) == Some(&s) || (t == 0 && run.plus) {
        return false;
    }
    let (a, b, y) = (run.value(c, t), run.value(c, t + 1), run.value(c, t + 2));
    let day_month = |d: u32, m: u32| (1..=31).contains(&d) && (1..=12).contains(&m);
    match (run.len(t), run.len(t + 1), run.len(t + 2)) {
        (4, 1 | 2, 1 | 2) => (1900..=2099).contains(&a) && (day_month(y, b) || day_month(b, y)),
        (1 | 2, 1 | 2, 2 | 4) => day_month(a, b) || day_month(b, a),
        _ => false,
    }
}

fn is_number(c: &[char], run: &Run, a: usize, b: usize, mode: Mode) -> bool {
    let sizes: Vec<usize> = (a..b).map(|k| run.len(k)).collect();
    let seps = &run.seps[a + 1..b];
    let digits: usize = sizes.iter().sum();
    let plus = run.plus && a == 0;
    let bracket = (run.bracket && a == 0) || seps.contains(&'(');
    let uniform = seps.windows(2).all(|w| w[0] == w[1]);
    let thousands = sizes.len() >= 2
        && (1..=3).contains(&sizes[0])
        && sizes[1..].iter().all(|&s| s == 3)
        && uniform
        && matches!(seps[0], '.' | ' ');
    if mode == Mode::PathSegment && b - a == 1 && !plus {
        return (13..=19).contains(&digits) && luhn(c, run.groups[a]);
    }
    let trunk = digit(c[run.groups[a].0]) == Some(0);
    // `131.0.6778.86`: a dotted run with a one-digit part is a version.
    let version =
        !plus && !seps.is_empty() && seps.iter().all(|&s| s == '.') && sizes[1..].contains(&1);
    if version {
        return false;
    }
    if digits >= 9 {
        // `38/39/40/41/42`, `scores 7 8 9 10 11 12`: a list of small
        // numbers (a phone in pairs starts with its trunk 0 or a +).
        let list = !trunk
            && !plus
            && (seps.iter().all(|&s| s == '/') || seps.iter().all(|&s| s == ' '))
            && sizes.iter().all(|&s| s <= 2);
        let price = thousands
            && (seps[0] == '.'
                || currency_near(c, run, a, b)
                || run.value(c, b - 1) == 0 && sizes[sizes.len() - 1] == 3);
        return !(price || (list && b - a > 1));
    }
    if digits < 7 {
        return false;
    }
    if plus || bracket {
        return true;
    }
    // A code glued to letters (`SKU1234-5678`) or a postal code (`〒150-0002`).
    let glued = a == 0
        && run.start > 0
        && (c[run.start - 1].is_ascii_alphabetic() || c[run.start - 1] == '〒');
    let years = sizes == [4, 4]
        && (1900..=2099).contains(&run.value(c, a))
        && (1900..=2099).contains(&run.value(c, a + 1));
    if glued || b - a == 1 || !uniform || thousands || years || seps[0] == '.' {
        return false;
    }
    trunk || (sizes.iter().all(|&s| s >= 2) && sizes.iter().any(|&s| s >= 3))
}

/// A currency sign or code within a few characters of the run: `€`, `$`,
/// `руб`, `Rp`, `RM`, `円`, `₪`…
fn currency_near(c: &[char], run: &Run, a: usize, b: usize) -> bool {
    const SIGNS: &str = "€$£¥₽₪₹₩₺₫฿円元﷼";
    const CODES: &[&str] = &[
        "rp",
        "rm",
        "руб",
        "р",
        "eur",
        "usd",
        "idr",
        "myr",
        "rub",
        "sar",
        "aed",
        "ils",
        "brl",
        "r$",
        "jpy",
        "cny",
        "rmb",
        "ريال",
        "ر.س",
        "درهم",
        "ש\"ח",
        "шекель",
        "тенге",
    ];
    let from = if a == 0 { run.start } else { run.groups[a].0 };
    let to = run.groups[b - 1].1;
    let word = |chars: &mut dyn Iterator<Item = char>| -> String {
        chars
            .skip_while(|ch| is_space(*ch))
            .take_while(|ch| !is_space(*ch) && !ch.is_ascii_digit())
            .take(8)
            .flat_map(char::to_lowercase)
            .collect()
    };
    let before: String = word(&mut c[from.saturating_sub(9)..from].iter().rev().copied())
        .chars()
        .rev()
        .collect();
    let after = word(&mut c[to..(to + 9).min(c.len())].iter().copied());
    [before, after].iter().any(|w| {
        w.chars().any(|ch| SIGNS.contains(ch))
            || CODES
                .iter()
                .any(|code| w.trim_matches(|ch: char| ch.is_ascii_punctuation()) == *code)
    })
}

fn luhn(c: &[char], (s, e): (usize, usize)) -> bool {
    let sum: u32 = c[s..e]
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &ch)| {
            let d = digit(ch).unwrap_or(0);
            if k % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}
