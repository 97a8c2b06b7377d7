//! Personal data that must never be stored: masked in comments, visitor
//! attributes and page paths before they reach the database.
//!
//! Each masker is one left-to-right pass over the characters with a bounded
//! look-around (an e-mail looks at most 64 characters behind its at-sign and
//! 128 ahead, an IBAN 34 ahead, an IP address 64), and never steps back over
//! what it has already written, so the work is linear in the input: a 1 MB
//! comment costs the same per character as a short one. The passes run in a
//! fixed order (e-mails, IBANs, IP addresses, digit runs) so that a later
//! pass never sees the digits inside an address an earlier one masked.
//!
//! How well they do on realistic comments in every interface language is
//! measured by [`eval`] against the labelled comments in
//! `server/tests/fixtures/pii/`; `cargo xtask quality` writes the result to
//! `docs/QUALITY.md`.

mod email;
pub mod eval;
mod net;
mod number;
mod path;

pub use path::mask_path;

/// What replaces masked personal data, one placeholder per kind.
pub const PLACEHOLDERS: [&str; 6] = ["[email]", "[iban]", "[ip]", "[number]", "[id]", "[token]"];

/// Masks e-mail addresses (also written `ann at example dot com`,
/// `ann(at)example.com`, with full-width signs or in the interface
/// languages' words), IBANs, IPv4 and IPv6 addresses, and phone, card and
/// national id numbers in any of the digit sets people type (ASCII,
/// Arabic-Indic, extended Arabic-Indic, full-width).
///
/// ```
/// use touchpoint_server::privacy::mask_pii;
/// assert_eq!(mask_pii("mail me at ann.lee@shop.example!"), "mail me at [email]!");
/// assert_eq!(mask_pii("write to ann at example dot com"), "write to [email]");
/// assert_eq!(mask_pii("card 4111 1111 1111 1111 failed"), "card [number] failed");
/// assert_eq!(mask_pii("call 555-1234 after 5"), "call [number] after 5");
/// assert_eq!(mask_pii("order 12345 was late"), "order 12345 was late");
/// assert_eq!(mask_pii("on 22/11/2026 it cost 1.299,00 €"), "on 22/11/2026 it cost 1.299,00 €");
/// ```
pub fn mask_pii(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    mask_chars(&chars, Mode::Text).into_iter().collect()
}

/// Masks a visitor attribute's value (`plan=pro`) as a comment is masked:
/// an attribute is free text the host page chose, and a page that sends
/// `email=ann@example.com` must not get it stored.
///
/// ```
/// use touchpoint_server::privacy::mask_attribute;
/// assert_eq!(mask_attribute("pro"), "pro");
/// assert_eq!(mask_attribute("ann@example.com"), "[email]");
/// ```
pub fn mask_attribute(value: &str) -> String {
    mask_pii(value)
}

/// Where the text comes from: a digit run alone in a path segment is an id
/// (`/item/123456789012`) unless it is a card number; in a comment nine or
/// more digits are masked whatever their shape.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Text,
    PathSegment,
}

fn mask_chars(chars: &[char], mode: Mode) -> Vec<char> {
    let masked = email::mask(chars);
    let masked = number::mask_ibans(&masked);
    let masked = net::mask(&masked);
    number::mask(&masked, mode)
}

fn push_placeholder(out: &mut Vec<char>, placeholder: &str) {
    out.extend(placeholder.chars());
}

/// Spaces that may stand between the parts of a written-out address or
/// number: never a line break.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{a0}' | '\u{202f}' | '\u{3000}')
}

#[cfg(test)]
mod tests {
    use super::{mask_attribute, mask_pii};

    fn check(input: &str, expect: &str) {
        assert_eq!(mask_pii(input), expect, "mask_pii({input:?})");
    }

    #[test]
    fn masks() {
        check("", "");
        check("no pii here", "no pii here");
        check("a@b.co", "[email]");
        check("x a.b+c@sub.shop.example. y", "x [email]. y");
        check("@handle and me@ and @x.y", "@handle and me@ and @x.y");
        check("call +44 (20) 7946 0958 now", "call [number] now");
        check("iban 123456789", "iban [number]");
        check("12345678", "12345678");
        check("price 1.299,00 ok", "price 1.299,00 ok");
        check(
            "Привет, пишите на иван@почта.рф",
            "Привет, пишите на [email]",
        );
        check("2026-11-22", "2026-11-22");
        check(
            "pay to DE89 3704 0044 0532 0130 00 please",
            "pay to [iban] please",
        );
        check("GB82WEST12345698765432", "[iban]");
        check("NL91 ABNA 0417 1643 00.", "[iban].");
        check("ISO 9001 and AB12 are fine", "ISO 9001 and AB12 are fine");
    }

    #[test]
    fn obfuscated_emails() {
        for written in [
            "ann at example dot com",
            "ann [at] example [dot] com",
            "ann(at)example.com",
            "ann (at) example (dot) com",
            "ann @ example.com",
            "ann＠example．com",
            "\"ann lee\"@example.com",
            "ann AT example DOT com",
            "ann.lee at example.com",
            "ann at gmail.com",
            "ann{at}example{dot}com",
            "ann собака mail точка ru",
            "ann (at) example (punkt) de",
            "ann arroba gmail punto com",
            "ann arroba uol ponto com ponto br",
            "ann arobase orange point fr",
            "budi di gmail titik com",
            "tanakaアットマークexample.co.jp",
            "zhang#qq.com",
            "wang@qq点com",
        ] {
            assert_eq!(
                mask_pii(&format!("mail {written} ok")),
                "mail [email] ok",
                "{written:?}"
            );
        }
        check("tanaka＠example．co．jp です", "[email] です");
        check("иван@почта.рф", "[email]");
        check("联系我zhangwei@163.com谢谢", "联系我[email]谢谢");
    }

    #[test]
    fn words_that_only_look_like_an_obfuscated_address() {
        for kept in [
            "I looked at amazon.com and it was cheaper",
            "bought it at shop.example for less",
            "meet at noon dot",
            "we are at home. Com on",
            "saya beli di tokopedia.com kemarin",
            "I'm at gmail.com settings",
            "point de vente à Paris point final",
            "моя собака любит корм",
            "issue #12 in the app",
        ] {
            check(kept, kept);
        }
    }

    #[test]
    fn phones_cards_and_ids() {
        check("call 555-1234", "call [number]");
        check("Tel. 030 1234567", "Tel. [number]");
        check("ruf an: +49 30 123456", "ruf an: [number]");
        check("030/1234567 oder 0171/1234567", "[number] oder [number]");
        check("tel 555_123_4567", "tel [number]");
        check("رقمي ٠٥٠١٢٣٤٥٦٧", "رقمي [number]");
        check("شماره ۰۹۱۲۳۴۵۶۷۸۹", "شماره [number]");
        check("電話０９０－１２３４－５６７８", "電話[number]");
        check("card 4111/1111/1111/1111", "card [number]");
        check("card 4111_1111_1111_1111", "card [number]");
        check("ssn 123-45-6789", "ssn [number]");
        check("DNI 12345678Z", "DNI [id]");
        check("NIE X1234567L.", "NIE [id].");
        check("(030) 12345 bitte", "[number] bitte");
        check("appelez le 06 12 34 56 78", "appelez le [number]");
        check("+33 6 12 34 56 78", "[number]");
    }

    #[test]
    fn look_alikes_survive() {
        for kept in [
            "22/11/2026 14:30",
            "from 22.11.2026-23.11.2026",
            "2024-2026 were good years",
            "sizes 38/39/40/41/42 sold out",
            "scores 7 8 9 10 11 12 13",
            "Rp 125.000.000 terlalu mahal",
            "1 299 000 руб",
            "price $1,299.99 or 1.299,00 €",
            "order 12345678 arrived",
            "v2.3.1 and 17.4.1",
            "iPhone 15 Pro, 256 GB, 99%",
            "open 9:00-17:00, 14.30-15.30",
            "3 x 250 g",
        ] {
            check(kept, kept);
        }
    }

    #[test]
    fn network_addresses() {
        check("my ip is 192.168.1.20.", "my ip is [ip].");
        check("IP:10.0.0.1", "IP:[ip]");
        check("from 2001:db8::1 today", "from [ip] today");
        check("fe80::1%eth0 down", "[ip] down");
        check("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "[ip]");
        check("::ffff:192.0.2.128", "[ip]");
        check("at 10:30:45 and 16:9", "at 10:30:45 and 16:9");
        check("999.1.1.1", "999.1.1.1");
    }

    #[test]
    fn ibans_in_any_case_when_their_checksum_holds() {
        check("de89 3704 0044 0532 0130 00", "[iban]");
        check("GB82WEST12345698765432 thanks", "[iban] thanks");
        check("de89 but not an iban at all", "de89 but not an iban at all");
    }

    #[test]
    fn attributes_are_masked_like_comments() {
        assert_eq!(mask_attribute("pro"), "pro");
        assert_eq!(mask_attribute("+49 171 1234567"), "[number]");
    }

    /// Adversarial inputs of a megabyte: each pass looks a bounded
    /// distance around a position and never steps back, so the work is
    /// linear; here we check that the result is still right at that size.
    #[test]
    fn megabyte_inputs_are_masked_correctly() {
        fn same(input: &str, want: &str, what: &str) {
            let got = mask_pii(input);
            let head = |s: &str| s.chars().take(60).collect::<String>();
            assert!(
                got == want,
                "{what}: got {}…, want {}…",
                head(&got),
                head(want)
            );
        }
        let mb = 1 << 20;
        let codes = "DE89 ".repeat(mb / 5) + " pay GB82WEST12345698765432 now";
        let out = mask_pii(&codes);
        assert!(
            out.ends_with(" pay [iban] now") && out.len() < codes.len() / 3,
            "country codes"
        );
        let words = "x di di dot di dot ".repeat(mb / 19);
        same(&words, &words, "written-out at-signs and dots");
        let list = "1 ".repeat(mb / 2);
        same(&list, &list, "a list of small numbers");
        same(
            &"0 ".repeat(mb / 2),
            "[number] ",
            "digits in pairs after a trunk 0",
        );
        let colons = "1:".repeat(mb / 2);
        same(&colons, &colons, "digits and colons");
        // The other shapes at a tenth of the size.
        let kb = mb / 10;
        let ats = "a@".repeat(kb / 2);
        same(&ats, &ats, "at-signs");
        let brackets = "(at)[dot]".repeat(kb / 9);
        same(&brackets, &brackets, "bracketed words");
        same(&"1-".repeat(kb / 2), "[number]-", "digits and dashes");
        let dots = "1.".repeat(kb / 2);
        same(&dots, &dots, "digits and dots (a version, however long)");
        let hex = "ab:".repeat(kb / 3);
        same(&hex, &hex, "hex and colons");
        same(
            &"ann@example.com ".repeat(kb / 16),
            &"[email] ".repeat(kb / 16),
            "addresses",
        );
        same(&"7".repeat(kb), "[number]", "one long digit run");
    }
}
