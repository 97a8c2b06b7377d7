//! The prose of `docs/BENCHMARKS.md`: a Markdown template in `text/` for
//! each section (and for each way a section can come out), filled by
//! [`fill`] with what a part measured and its report code formatted. The
//! code that measures holds none of it; to reword the document, edit these
//! files.

/// The title, the run's machine and command, and "Bytes on the page".
pub const DOCUMENT: &str = include_str!("text/document.md");
/// The document's first paragraph, for a full run and for a smoke run.
pub const INTRO_FULL: &str = include_str!("text/intro-full.md");
pub const INTRO_SMOKE: &str = include_str!("text/intro-smoke.md");
/// "Beside peers", and what it says when the peers could not be installed.
pub const PEERS: &str = include_str!("text/peers.md");
pub const PEERS_NOT_MEASURED: &str = include_str!("text/peers-not-measured.md");
/// "Dashboard".
pub const DASHBOARD: &str = include_str!("text/dashboard.md");
/// "Ingest".
pub const INGEST: &str = include_str!("text/ingest.md");
/// "Page impact", and what it says when nothing could be measured.
pub const IMPACT: &str = include_str!("text/impact.md");
pub const IMPACT_NOT_MEASURED: &str = include_str!("text/impact-not-measured.md");
/// "Scale" and "Memory", and the "Exports" part of "Scale" for the sizes
/// where exports are measured.
pub const SCALE: &str = include_str!("text/scale.md");
pub const SCALE_EXPORTS: &str = include_str!("text/scale-exports.md");

/// `template` with every `{name}` replaced by the value given for `name`,
/// formatted with `{}`. A name is lower-case letters, digits and `_`; any
/// other brace is text. Values are inserted as they are, never read for
/// placeholders.
///
/// # Panics
///
/// On a placeholder without a value or a value without a placeholder:
/// template and code disagree, which the first run shows.
pub fn fill(template: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(template.len());
    let mut used = vec![false; values.len()];
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(after.len());
        if len == 0 || !after[len..].starts_with('}') {
            out.push('{');
            rest = after;
            continue;
        }
        let name = &after[..len];
        let i = values
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("template placeholder {{{name}}} has no value"));
        let _ = write!(out, "{}", values[i].1);
        used[i] = true;
        rest = &after[len + 1..];
    }
    out.push_str(rest);
    if let Some(i) = used.iter().position(|u| !u) {
        panic!("the template has no placeholder {{{}}}", values[i].0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn placeholders_are_filled_and_other_braces_kept() {
        assert_eq!(
            fill(
                "{n} at {rate} ms, { on = \"load\" }, {} and {N}; {n} again",
                &[("n", &3), ("rate", &"1.5")]
            ),
            "3 at 1.5 ms, { on = \"load\" }, {} and {N}; 3 again"
        );
        assert_eq!(fill("{v}", &[("v", &"{v}")]), "{v}", "values are not read");
    }

    #[test]
    #[should_panic(expected = "{missing} has no value")]
    fn a_placeholder_without_a_value_panics() {
        fill("a {missing} value", &[]);
    }

    #[test]
    #[should_panic(expected = "no placeholder {spare}")]
    fn a_value_without_a_placeholder_panics() {
        fill("nothing here", &[("spare", &1)]);
    }
}
