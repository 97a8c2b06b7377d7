//! Personal data that must never be stored: masked in free text before it
//! reaches the database.

/// Masks e-mail addresses, IBANs, and phone-, card- or account-like digit
/// runs (9 or more digits, possibly separated by spaces, dots or dashes).
///
/// ```
/// use touchpoint_server::privacy::mask_pii;
/// assert_eq!(mask_pii("mail me at ann.lee@shop.example!"), "mail me at [email]!");
/// assert_eq!(mask_pii("card 4111 1111 1111 1111 failed"), "card [number] failed");
/// assert_eq!(mask_pii("order 12345 was late"), "order 12345 was late");
/// ```
pub fn mask_pii(text: &str) -> String {
    mask_numbers(&mask_ibans(&mask_emails(text)))
}

/// IBAN-like: two capital letters, two digits, then 11 to 30 capital letters
/// or digits, in groups of up to four separated by single spaces.
fn mask_ibans(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !chars[i - 1].is_alphanumeric();
        let head = starts_word
            && chars.len() >= i + 4
            && chars[i].is_ascii_uppercase()
            && chars[i + 1].is_ascii_uppercase()
            && chars[i + 2].is_ascii_digit()
            && chars[i + 3].is_ascii_digit();
        if head {
            let mut j = i + 4;
            let mut body = 0;
            let mut end = j;
            while j < chars.len() {
                let c = chars[j];
                if c.is_ascii_uppercase() || c.is_ascii_digit() {
                    body += 1;
                    j += 1;
                    end = j;
                } else if c == ' '
                    && chars
                        .get(j + 1)
                        .is_some_and(|n| n.is_ascii_uppercase() || n.is_ascii_digit())
                {
                    j += 1;
                } else {
                    break;
                }
            }
            let ends_word = chars.get(end).is_none_or(|c| !c.is_alphanumeric());
            if (11..=30).contains(&body) && ends_word {
                out.push_str("[iban]");
                i = end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn mask_emails(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        let local_start = rest[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || "._%+-".contains(*c))
            .last()
            .map_or(at, |(i, _)| i);
        let domain_len = rest[at + 1..]
            .char_indices()
            .take_while(|(_, c)| c.is_alphanumeric() || ".-".contains(*c))
            .last()
            .map_or(0, |(i, c)| i + c.len_utf8());
        let domain = rest[at + 1..at + 1 + domain_len].trim_end_matches('.');
        if local_start < at && domain.contains('.') && !domain.starts_with('.') {
            out.push_str(&rest[..local_start]);
            out.push_str("[email]");
            rest = &rest[at + 1 + domain.len()..];
        } else {
            out.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

fn mask_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit()
            || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            let mut end = i;
            let mut digits = 0;
            let mut j = i;
            while j < chars.len() {
                let c = chars[j];
                if c.is_ascii_digit() {
                    digits += 1;
                    end = j + 1;
                } else if !(c == ' '
                    || c == '-'
                    || c == '.'
                    || c == '('
                    || c == ')'
                    || (c == '+' && j == start))
                {
                    break;
                }
                j += 1;
            }
            if digits >= 9 {
                out.push_str("[number]");
            } else {
                out.extend(&chars[start..end]);
            }
            i = end.max(start + 1);
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::mask_pii;

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
}
