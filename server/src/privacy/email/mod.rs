//! E-mail addresses, plain (`ann@example.com`, `иван@почта.рф`,
//! `"ann lee"@example.com`) or written to dodge scrapers (`ann at example dot
//! com`, `ann(at)example.com`, `ann＠example．com`, `ann arroba gmail punto
//! com`).
//!
//! A written-out at-sign alone proves little (`I looked at shop.com`), so the
//! looser the at-sign, the more the rest must look like an address: a plain
//! `@` takes any alphabetic top-level domain; a spaced, bracketed or
//! foreign-word at-sign needs a known one; the bare words `at` and `di`
//! (Indonesian/Malay "at") need that and also a written-out dot, a mail
//! provider's domain, or a local part with a dot, digit, `_`, `-` or `+`.

mod words;

use super::{is_space, push_placeholder};
use words::*;

/// How far back from the at-sign a local part may reach.
const MAX_LOCAL: usize = 64;
/// How far ahead of the at-sign a domain may reach, and in how many labels.
const MAX_DOMAIN: usize = 128;
const MAX_LABELS: usize = 8;
const MAX_LABEL: usize = 63;
/// Spaces allowed on either side of a written-out at-sign or dot.
const MAX_SPACES: usize = 2;

/// What an at-sign needs from the rest to count as an address, from the
/// most to the least telling sign.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sign {
    /// `@` with nothing around it: any alphabetic top-level domain.
    Tight,
    /// `ann @ x`, `(at)`, `[at]`, `собака`, `arroba`, `アットマーク`, `★`:
    /// a known top-level domain.
    Loose,
    /// The bare words `at` and `di`, and `#` (`ann#qq.com`): a known
    /// top-level domain and more evidence (see the module doc).
    Weak,
}

/// Replaces every address with `[email]`.
pub(super) fn mask(c: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(c.len());
    let mut copied = 0;
    let mut i = 0;
    while i < c.len() {
        if let Some((start, end)) = address_at(c, i, copied) {
            out.extend_from_slice(&c[copied..start]);
            push_placeholder(&mut out, "[email]");
            copied = end;
            i = end;
        } else {
            i += 1;
        }
    }
    out.extend_from_slice(&c[copied..]);
    out
}

/// An address whose at-sign starts at `i`, as the range it covers; the local
/// part reaches back no further than `floor` (what is already written).
fn address_at(c: &[char], i: usize, floor: usize) -> Option<(usize, usize)> {
    let (sign_end, mut sign, bare) = at_sign(c, i)?;
    let mut local_end = i;
    while local_end > floor && i - local_end < MAX_SPACES && is_space(c[local_end - 1]) {
        local_end -= 1;
    }
    let mut domain_start = sign_end;
    while domain_start < c.len()
        && domain_start - sign_end < MAX_SPACES
        && is_space(c[domain_start])
    {
        domain_start += 1;
    }
    let spaced = local_end < i || domain_start > sign_end;
    match (sign, bare) {
        (_, true) if local_end == i || domain_start == sign_end => return None,
        (Sign::Weak, false) if spaced => return None,
        (Sign::Tight, _) if spaced => sign = Sign::Loose,
        _ => {}
    }
    let (end, written_dot, provider) = domain(c, domain_start, sign)?;
    let (mut local_start, telling_local) = local_part(c, local_end, floor)?;
    // `joe dot bloggs at gmail dot com`: a local part with written-out dots,
    // taken only when the domain writes its dots out too.
    while written_dot
        && let Some(before) = written_dot_before(c, local_start, floor)
        && let Some((start, _)) = local_part(c, before, floor)
        && local_end - start <= MAX_LOCAL
    {
        local_start = start;
    }
    if sign == Sign::Weak {
        let apostrophe = local_start > 0 && matches!(c[local_start - 1], '\'' | '’');
        if apostrophe || !(written_dot || provider || telling_local) {
            return None;
        }
    }
    Some((local_start, end))
}

/// An at-sign starting at `i`: where it ends, what it needs, and whether it
/// is a bare word (which must stand between spaces).
fn at_sign(c: &[char], i: usize) -> Option<(usize, Sign, bool)> {
    let after_space = i > 0 && is_space(c[i - 1]);
    let may_start = matches!(
        c[i],
        '@' | '＠'
            | '﹫'
            | '★'
            | '☆'
            | '#'
            | '('
            | '['
            | '{'
            | '<'
            | '（'
            | '［'
            | 'ア'
            | 'あ'
            | '艾'
    ) || (after_space && matches!(c[i], 'a' | 'A' | 'd' | 'D' | 'с' | 'С' | 'ש'));
    if !may_start {
        return None;
    }
    match c[i] {
        '@' | '＠' | '﹫' => return Some((i + 1, Sign::Tight, false)),
        '★' | '☆' => return Some((i + 1, Sign::Loose, false)),
        '#' => return Some((i + 1, Sign::Weak, false)),
        _ => {}
    }
    if let Some(end) = bracketed(c, i, |c, j| {
        if matches!(c.get(j), Some('@' | '＠')) {
            return Some(j + 1);
        }
        BRACKETED_AT_WORDS.iter().find_map(|w| word_at(c, j, w))
    }) {
        return Some((end, Sign::Loose, false));
    }
    if let Some(end) = CJK_AT_WORDS.iter().find_map(|w| word_at(c, i, w)) {
        return Some((end, Sign::Loose, false));
    }
    if after_space {
        for &(w, sign) in SPACED_AT_WORDS {
            if let Some(end) = word_at(c, i, w) {
                return Some((end, sign, true));
            }
        }
    }
    None
}

/// `(x)`, `[x]`, `{x}`, `<x>` or full-width brackets around `inner`, spaces
/// allowed inside; returns where the closing bracket ends.
fn bracketed(
    c: &[char],
    i: usize,
    inner: impl Fn(&[char], usize) -> Option<usize>,
) -> Option<usize> {
    let close = match c[i] {
        '(' => ')',
        '[' => ']',
        '{' => '}',
        '<' => '>',
        '（' => '）',
        '［' => '］',
        _ => return None,
    };
    let end = inner(c, skip_spaces(c, i + 1))?;
    let j = skip_spaces(c, end);
    (c.get(j) == Some(&close)).then_some(j + 1)
}

fn skip_spaces(c: &[char], mut j: usize) -> usize {
    let from = j;
    while j < c.len() && j - from < MAX_SPACES && is_space(c[j]) {
        j += 1;
    }
    j
}

/// `word` at `i`, case-insensitively; a word in a script with spaces must end
/// there (`at` is not the start of `atlas`).
fn word_at(c: &[char], i: usize, word: &str) -> Option<usize> {
    let mut j = i;
    for w in word.chars() {
        let ch = *c.get(j)?;
        if ch != w && ch.to_lowercase().next() != Some(w) {
            return None;
        }
        j += 1;
    }
    let spaced_script = word.chars().next().is_some_and(|w| (w as u32) < 0x3000);
    if spaced_script && c.get(j).is_some_and(|n| n.is_alphanumeric()) {
        return None;
    }
    Some(j)
}

fn is_local_char(ch: char) -> bool {
    ch.is_alphanumeric() || matches!(ch, '.' | '_' | '%' | '+' | '-')
}

/// The local part ending at `end`: a quoted one (`"ann lee"`), or the
/// characters of one script (so `联系我zhang` gives `zhang`). Returns where
/// it starts and whether it holds a dot, digit, `_`, `-` or `+`.
fn local_part(c: &[char], end: usize, floor: usize) -> Option<(usize, bool)> {
    if end == floor || end == 0 {
        return None;
    }
    if matches!(c[end - 1], '"' | '”') {
        let mut j = end - 1;
        while j > floor && end - j <= MAX_LOCAL {
            j -= 1;
            match c[j] {
                '"' | '“' => return (j + 1 < end - 1).then_some((j, true)),
                '\n' | '\r' => return None,
                _ => {}
            }
        }
        return None;
    }
    let ascii = c[end - 1].is_ascii();
    let mut start = end;
    while start > floor
        && end - start < MAX_LOCAL
        && is_local_char(c[start - 1])
        && (c[start - 1].is_ascii() == ascii || !c[start - 1].is_alphanumeric())
    {
        start -= 1;
    }
    while start < end && !c[start].is_alphanumeric() {
        start += 1;
    }
    if start == end {
        return None;
    }
    let telling = c[start..end]
        .iter()
        .any(|&ch| ch.is_ascii_digit() || matches!(ch, '.' | '_' | '+' | '-'));
    Some((start, telling))
}

/// The domain from `start`: labels joined by dots, written or not. Returns
/// where it ends (after the last label that makes an acceptable top-level
/// domain), whether a dot was written out and whether it is a mail
/// provider's.
fn domain(c: &[char], start: usize, sign: Sign) -> Option<(usize, bool, bool)> {
    // (label start, label end, a dot before it was written out)
    let mut labels: Vec<(usize, usize, bool)> = Vec::with_capacity(4);
    let mut pos = start;
    let mut written = false;
    while let Some(end) = label_end(c, pos) {
        labels.push((pos, end, written));
        if labels.len() == MAX_LABELS || end - start > MAX_DOMAIN {
            break;
        }
        let Some((next, written_dot)) = dot(c, end) else {
            break;
        };
        if label_end(c, next).is_none() {
            break;
        }
        written |= written_dot;
        pos = next;
    }
    let provider = labels.first().is_some_and(|&(s, e, _)| {
        let first: String = c[s..e].iter().flat_map(|ch| ch.to_lowercase()).collect();
        PROVIDERS.contains(&first.as_str())
    });
    (1..labels.len()).rev().find_map(|k| {
        let (s, e, written) = labels[k];
        let tld: String = c[s..e].iter().flat_map(|ch| ch.to_lowercase()).collect();
        let ok = if sign == Sign::Tight && !written {
            tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
        } else {
            KNOWN_TLDS.contains(&tld.as_str())
        };
        ok.then_some((e, written, provider))
    })
}

/// A written-out dot ending at `end` (` dot `, ` (dot) `, `点`): where the
/// text before it ends.
fn written_dot_before(c: &[char], end: usize, floor: usize) -> Option<usize> {
    if let Some(start) = CJK_DOT_WORDS
        .iter()
        .find_map(|w| word_before(c, end, floor, w))
    {
        return Some(start);
    }
    let mut j = end;
    while j > floor && end - j < MAX_SPACES && is_space(c[j - 1]) {
        j -= 1;
    }
    let word_start = if j > floor && matches!(c[j - 1], ')' | ']' | '}' | '>' | '）' | '］') {
        let inner_end = skip_spaces_back(c, j - 1, floor);
        let inner_start = DOT_WORDS
            .iter()
            .find_map(|w| word_before(c, inner_end, floor, w))?;
        let open = skip_spaces_back(c, inner_start, floor).checked_sub(1)?;
        (open >= floor && bracketed(c, open, |_, _| Some(inner_end)) == Some(j)).then_some(open)?
    } else if j < end {
        DOT_WORDS
            .iter()
            .find_map(|w| word_before(c, j, floor, w))
            .filter(|&s| s > floor && is_space(c[s - 1]))?
    } else {
        return None;
    };
    Some(skip_spaces_back(c, word_start, floor))
}

fn skip_spaces_back(c: &[char], mut j: usize, floor: usize) -> usize {
    let from = j;
    while j > floor && from - j < MAX_SPACES && is_space(c[j - 1]) {
        j -= 1;
    }
    j
}

/// `word` ending at `end`, case-insensitively: where it starts.
fn word_before(c: &[char], end: usize, floor: usize, word: &str) -> Option<usize> {
    let start = end.checked_sub(word.chars().count())?;
    (start >= floor && word_at(c, start, word) == Some(end)).then_some(start)
}

/// A domain label from `start`: letters, digits and inner hyphens of one
/// script, stopping before a dot written in a script without spaces.
fn label_end(c: &[char], start: usize) -> Option<usize> {
    let first = *c.get(start)?;
    if !first.is_alphanumeric() || CJK_DOT_WORDS.iter().any(|w| word_at(c, start, w).is_some()) {
        return None;
    }
    let ascii = first.is_ascii();
    let mut end = start;
    while end < c.len()
        && end - start < MAX_LABEL
        && (c[end].is_alphanumeric() || c[end] == '-')
        && (c[end].is_ascii() == ascii || c[end] == '-')
        && CJK_DOT_WORDS.iter().all(|w| word_at(c, end, w).is_none())
    {
        end += 1;
    }
    while c[end - 1] == '-' {
        end -= 1;
    }
    Some(end)
}

/// A dot after a label at `pos`: where the next label would start and
/// whether the dot was written out (` dot `, `(dot)`, `．`, ` . `, `点`).
fn dot(c: &[char], pos: usize) -> Option<(usize, bool)> {
    match c.get(pos)? {
        '.' => return Some((pos + 1, false)),
        '．' | '。' | '｡' => return Some((pos + 1, true)),
        _ => {}
    }
    if let Some(end) = CJK_DOT_WORDS.iter().find_map(|w| word_at(c, pos, w)) {
        return Some((skip_spaces(c, end), true));
    }
    let j = skip_spaces(c, pos);
    let bracket = c.get(j).and_then(|_| {
        bracketed(c, j, |c, k| {
            if c.get(k) == Some(&'.') {
                return Some(k + 1);
            }
            DOT_WORDS.iter().find_map(|w| word_at(c, k, w))
        })
    });
    if let Some(end) = bracket {
        return Some((skip_spaces(c, end), true));
    }
    if j == pos || j >= c.len() {
        return None;
    }
    let word_end = if c[j] == '.' {
        Some(j + 1)
    } else {
        DOT_WORDS
            .iter()
            .chain(CJK_DOT_WORDS)
            .find_map(|w| word_at(c, j, w))
    }?;
    let next = skip_spaces(c, word_end);
    (next > word_end).then_some((next, true))
}
