//! IPv4 and IPv6 addresses (`192.168.1.20`, `2001:db8::1`, `fe80::1%eth0`,
//! full eight-group forms, `::ffff:192.0.2.128`): a visitor who pastes an
//! address is identifiable by it.

use super::number::digit;
use super::push_placeholder;

/// The longest text form of an IPv6 address with an embedded IPv4 one.
const MAX_IPV6: usize = 45;
/// A zone after `%` (`eth0`, `wlan0`, `12`).
const MAX_ZONE: usize = 16;

/// Replaces every address with `[ip]`.
pub(super) fn mask(c: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(c.len());
    let mut i = 0;
    while i < c.len() {
        // An address may follow a word in any script (`我的IP116.228.45.3`),
        // not a digit, a dot, or the `v` of a version.
        let prev = i.checked_sub(1).map(|p| c[p]);
        let v4_start =
            prev.is_none_or(|p| !p.is_ascii_digit() && !matches!(p, '.' | '．' | 'v' | 'V'));
        let v6_start = prev.is_none_or(|p| !p.is_ascii_alphanumeric() && !matches!(p, '.' | ':'));
        let end = v4_start
            .then(|| ipv4(c, i))
            .flatten()
            .or_else(|| v6_start.then(|| ipv6(c, i)).flatten());
        if let Some(end) = end {
            push_placeholder(&mut out, "[ip]");
            i = end;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Four decimal octets from `i` (ASCII or full-width), not part of a longer
/// dotted number.
fn ipv4(c: &[char], i: usize) -> Option<usize> {
    let is_dot = |ch: Option<&char>| matches!(ch, Some('.' | '．'));
    let mut j = i;
    for octet in 0..4 {
        if octet > 0 {
            if !is_dot(c.get(j)) {
                return None;
            }
            j += 1;
        }
        let from = j;
        let mut value = 0;
        while j < c.len() && j - from < 3 {
            let Some(d) = digit(c[j]) else { break };
            value = value * 10 + d;
            j += 1;
        }
        if j == from || value > 255 {
            return None;
        }
    }
    let more = c
        .get(j)
        .is_some_and(|n| n.is_ascii_alphanumeric() || digit(*n).is_some())
        || (is_dot(c.get(j)) && c.get(j + 1).is_some_and(|n| digit(*n).is_some()));
    (!more).then_some(j)
}

/// An IPv6 address from `i`, with its zone if it has one.
fn ipv6(c: &[char], i: usize) -> Option<usize> {
    let mut end = i;
    let mut colons = 0;
    while end < c.len()
        && end - i < MAX_IPV6
        && (c[end].is_ascii_hexdigit() || c[end] == ':' || c[end] == '.')
    {
        colons += usize::from(c[end] == ':');
        end += 1;
    }
    if colons < 2 || c.get(end).is_some_and(char::is_ascii_alphanumeric) {
        return None;
    }
    // A sentence may end right after the address: `… from 2001:db8::1.`
    let mut text: String = c[i..end].iter().collect();
    while text.ends_with('.') || (text.ends_with(':') && !text.ends_with("::")) {
        text.pop();
        end -= 1;
    }
    if !valid_ipv6(&text) {
        return None;
    }
    if c.get(end) == Some(&'%') {
        let zone = c[end + 1..]
            .iter()
            .take(MAX_ZONE)
            .take_while(|z| z.is_ascii_alphanumeric() || matches!(z, '_' | '-' | '.'))
            .count();
        if zone > 0 {
            end += 1 + zone;
        }
    }
    Some(end)
}

fn valid_ipv6(text: &str) -> bool {
    if text.matches(':').count() < 2
        || text.contains(":::")
        || !text.contains(|c: char| c.is_ascii_digit())
    {
        return false;
    }
    let compressed = text.matches("::").count();
    if compressed > 1 {
        return false;
    }
    let parts: Vec<&str> = text.split(':').collect();
    let last = parts.len() - 1;
    let mut groups = 0;
    for (k, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if k == last && part.contains('.') {
            if !ipv4_text(part) {
                return false;
            }
            groups += 2;
        } else if part.len() <= 4 && part.chars().all(|ch| ch.is_ascii_hexdigit()) {
            groups += 1;
        } else {
            return false;
        }
    }
    let edge_ok = (!text.starts_with(':') || text.starts_with("::"))
        && (!text.ends_with(':') || text.ends_with("::"));
    edge_ok
        && groups > 0
        && if compressed == 1 {
            groups <= 7
        } else {
            groups == 8
        }
}

fn ipv4_text(text: &str) -> bool {
    let octets: Vec<&str> = text.split('.').collect();
    octets.len() == 4
        && octets
            .iter()
            .all(|o| (1..=3).contains(&o.len()) && o.parse::<u8>().is_ok())
}
