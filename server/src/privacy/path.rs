//! Page paths as they are stored: personal data in a segment is replaced by
//! a placeholder for the whole segment, so page globs still see the shape
//! (`/users/[email]/orders` matches `/users/*/orders`).

use super::{Mode, PLACEHOLDERS, mask_chars};

/// A token is at least this many letters and digits (a 128-bit secret is
/// 22 in base64url, 32 in hex).
const MIN_TOKEN: usize = 20;
const MIN_HEX_TOKEN: usize = 24;

/// Masks personal data in a normalised page path (it starts with `/`, has
/// no query or fragment, and may hold percent-encoding).
///
/// - A segment that holds an e-mail address (also percent-encoded,
///   `ann%40example.com`), an IBAN, an IP address, a phone or card number
///   becomes `[email]`, `[iban]`, `[ip]` or `[number]`. A plain digit run is
///   an id and stays (`/product/42`, `/item/123456789012`), unless it is a
///   card number (13–19 digits passing the Luhn check).
/// - A token becomes `[token]`: a UUID, 24 or more hex digits, or 20 or more
///   letters and digits that change between capitals, small letters and
///   digits as often as random text does (reset links, JWTs, session ids).
///   UUIDs are masked too: in a path they name one person's order,
///   invitation or reset link, a marketer cannot read them, and one
///   placeholder groups those pages into one. Slugs stay
///   (`/blog/how-to-choose-a-tent`, `/p/Nike-Air-Max-90-Essential`).
/// - `;params` (`;jsessionid=…`) are dropped from every segment, and so is a
///   query or fragment smuggled in percent-encoding (`%3F`, `%23`, also
///   encoded twice), as a real one is when the page is normalised.
/// - Control characters and the invisible direction marks and overrides
///   (U+200E/F, U+202A–U+202E, U+2066–U+2069) are dropped, raw or
///   percent-encoded.
///
/// ```
/// use touchpoint_server::privacy::mask_path;
/// assert_eq!(mask_path("/users/ann%40example.com/orders"), "/users/[email]/orders");
/// assert_eq!(mask_path("/product/42;jsessionid=A1B2"), "/product/42");
/// assert_eq!(mask_path("/blog/how-to-choose-a-tent"), "/blog/how-to-choose-a-tent");
/// assert_eq!(mask_path("/reset/3f9a1c0e7b2d4e6f8a9b0c1d2e3f4a5b"), "/reset/[token]");
/// ```
pub fn mask_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (k, segment) in path.split('/').enumerate() {
        if k > 0 {
            out.push('/');
        }
        mask_segment(segment, &mut out);
    }
    while out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn mask_segment(segment: &str, out: &mut String) {
    let segment = segment.split(';').next().unwrap_or_default();
    let segment = &segment[..encoded_query(segment).unwrap_or(segment.len())];
    let kept = strip_invisible(segment);
    let decoded = percent_decode(&percent_decode(&kept));
    let decoded: Vec<char> = decoded
        .chars()
        .take_while(|c| !matches!(c, '?' | '#' | ';'))
        .filter(|&c| !invisible(c))
        .collect();
    match placeholder(&decoded) {
        Some(p) => out.push_str(p),
        None => out.push_str(&kept),
    }
}

/// Where a percent-encoded `?` or `#` starts (`%3F`, or `%253F` encoded
/// twice).
fn encoded_query(segment: &str) -> Option<usize> {
    let lower = segment.to_ascii_lowercase();
    ["%3f", "%23", "%253f", "%2523"]
        .iter()
        .filter_map(|p| lower.find(p))
        .min()
}

fn placeholder(decoded: &[char]) -> Option<&'static str> {
    if decoded.is_empty() {
        return None;
    }
    // Before the digit runs: a hex token or UUID may hold nine digits in a
    // row, and it is a token, not a phone number.
    if is_token(decoded) {
        return Some("[token]");
    }
    let masked = mask_chars(decoded, Mode::PathSegment);
    if masked != decoded {
        let masked: String = masked.into_iter().collect();
        return PLACEHOLDERS
            .iter()
            .filter_map(|p| masked.find(p).map(|at| (at, *p)))
            .min()
            .map(|(_, p)| p);
    }
    None
}

fn is_token(s: &[char]) -> bool {
    if is_uuid(s) {
        return true;
    }
    if !s
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '='))
    {
        return false;
    }
    let alnum = s.iter().filter(|c| c.is_ascii_alphanumeric()).count();
    let hex = s.iter().all(|c| c.is_ascii_hexdigit() || *c == '-');
    let has = |f: fn(&char) -> bool| s.iter().any(f);
    if hex && alnum >= MIN_HEX_TOKEN && has(char::is_ascii_digit) && has(char::is_ascii_alphabetic)
    {
        return true;
    }
    if alnum < MIN_TOKEN {
        return false;
    }
    let kinds = [
        has(char::is_ascii_uppercase),
        has(char::is_ascii_lowercase),
        has(char::is_ascii_digit),
    ];
    if kinds.iter().filter(|k| **k).count() < 2 {
        return false;
    }
    // How often neighbouring letters and digits change kind: about 0.65 in
    // random base64, about 0.25 in `NikeAirMax90`-like slugs.
    let kind = |c: &char| (c.is_ascii_uppercase(), c.is_ascii_lowercase());
    let (pairs, changes) = s.windows(2).fold((0, 0), |(p, ch), w| {
        if w[0].is_ascii_alphanumeric() && w[1].is_ascii_alphanumeric() {
            (p + 1, ch + usize::from(kind(&w[0]) != kind(&w[1])))
        } else {
            (p, ch)
        }
    });
    pairs > 0 && changes * 10 >= pairs * 4
}

fn is_uuid(s: &[char]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(k, c)| match k {
            8 | 13 | 18 | 23 => *c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Control characters and invisible direction marks and overrides.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The segment without invisible characters, raw or percent-encoded.
fn strip_invisible(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = String::with_capacity(segment.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let (decoded, len) = decode_char(&bytes[i..]);
            if decoded.is_some_and(invisible) {
                i += len;
                continue;
            }
        }
        let c = segment[i..].chars().next().unwrap_or_default();
        if !invisible(c) {
            out.push(c);
        }
        i += c.len_utf8();
    }
    out
}

/// The character that one to four `%XX` escapes at the start of `bytes`
/// encode, and how many bytes they take.
fn decode_char(bytes: &[u8]) -> (Option<char>, usize) {
    let mut utf8 = [0u8; 4];
    let mut n = 0;
    while n < 4 && bytes.len() >= 3 * (n + 1) && bytes[3 * n] == b'%' {
        let Some(b) = hex_byte(bytes[3 * n + 1], bytes[3 * n + 2]) else {
            break;
        };
        utf8[n] = b;
        n += 1;
        if let Ok(s) = std::str::from_utf8(&utf8[..n]) {
            return (s.chars().next(), 3 * n);
        }
    }
    (None, 1)
}

fn hex_byte(hi: u8, lo: u8) -> Option<u8> {
    let h = (hi as char).to_digit(16)?;
    let l = (lo as char).to_digit(16)?;
    u8::try_from(h * 16 + l).ok()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = bytes.get(i + 1..i + 3).and_then(|h| hex_byte(h[0], h[1]))
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::mask_path;

    fn check(input: &str, expect: &str) {
        assert_eq!(mask_path(input), expect, "mask_path({input:?})");
    }

    #[test]
    fn personal_data_becomes_a_placeholder_for_its_segment() {
        check("/", "/");
        check("/users/ann@example.com/orders", "/users/[email]/orders");
        check("/users/ann%40example.com", "/users/[email]");
        check("/users/ann%2540example.com", "/users/[email]");
        check("/search/ann%20at%20gmail%20dot%20com", "/search/[email]");
        check("/call/+1-555-123-4567", "/call/[number]");
        check("/pay/4111111111111111", "/pay/[number]");
        check("/iban/DE89370400440532013000", "/iban/[iban]");
        check("/host/192.168.1.20/status", "/host/[ip]/status");
        check(
            "/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N",
            "/reset/[token]",
        );
        check("/invite/Xk9aP2qR7sT1uV3wY5zB8cD", "/invite/[token]");
        check(
            "/orders/123e4567-e89b-12d3-a456-426614174000/receipt",
            "/orders/[token]/receipt",
        );
        check(
            "/confirm/5f4dcc3b5aa765d61d8327deb882cf99",
            "/confirm/[token]",
        );
    }

    #[test]
    fn ids_and_slugs_stay() {
        for kept in [
            "/product/42",
            "/orders/12345678",
            "/item/123456789012",
            "/blog/how-to-choose-a-tent",
            "/p/Nike-Air-Max-90-Essential-White",
            "/news/2026-11-22-winter-sale",
            "/docs/v2.3.1/install",
            "/c/internationalization-guidelines",
            "/%D0%BA%D0%B0%D1%82%D0%B0%D0%BB%D0%BE%D0%B3/tents",
            "/shop/iphone-15-pro-max-256gb",
        ] {
            check(kept, kept);
        }
    }

    #[test]
    fn params_smuggled_queries_and_invisibles_are_dropped() {
        check("/cart;jsessionid=ABC123/checkout", "/cart/checkout");
        check("/a;x=1;y=2", "/a");
        check("/account%3Femail%3Dann%40x.com", "/account");
        check("/search%253Fq%253Dtent/x", "/search/x");
        check("/account/%3Femail%3Dann%40x.com", "/account");
        check("/pay\u{202e}lanigiro/x", "/paylanigiro/x");
        check("/pay%E2%80%AElanigiro", "/paylanigiro");
        check("/a\u{2066}b\u{200f}c", "/abc");
        check("/a%00b%1fc", "/abc");
    }

    #[test]
    fn a_long_path_is_masked_segment_by_segment() {
        let path = "/a;b%3F".repeat(100_000);
        assert_eq!(mask_path(&path), "/a".repeat(100_000));
    }
}
