//! `cargo xtask quality`: measures the server's personal-data masking on the
//! labelled comments in `server/tests/fixtures/pii/` and writes the
//! `## Personal data masking` section of `docs/QUALITY.md`, keeping the
//! document's other sections.
//!
//! The measuring is the server crate's own (`privacy::eval`, run through an
//! ignored unit test that writes its Markdown to a file), so the document and
//! the test that holds the floors cannot disagree; the prose is in
//! `quality.md` beside this file.

use crate::{bench, util};
use anyhow::Context;

const TEMPLATE: &str = include_str!("quality.md");
const SECTION: &str = "## Personal data masking";

pub fn run() -> anyhow::Result<()> {
    let measured = util::target_dir().join("quality/pii.md");
    std::fs::create_dir_all(measured.parent().unwrap())?;
    let _ = std::fs::remove_file(&measured);
    util::cargo(
        &[
            "test",
            "--quiet",
            "--package",
            "touchpoint-server",
            "--lib",
            "privacy::eval::tests::write_pii_quality",
            "--",
            "--ignored",
            "--exact",
        ],
        &[("TOUCHPOINT_QUALITY_OUT", measured.to_str().unwrap())],
    )?;
    let results = std::fs::read_to_string(&measured)
        .with_context(|| format!("the measurement was not written to {}", measured.display()))?;
    let date = util::output("date", &["-u", "+%Y-%m-%d"]).unwrap_or_default();
    let (head, section) = TEMPLATE
        .split_once(SECTION)
        .context("quality.md has no personal data section")?;
    let section = format!("{SECTION}{section}")
        .replace("{date}", date.trim())
        .replace("{machine}", &bench::machine())
        .replace("{results}", results.trim_end());
    let path = util::root().join("docs/QUALITY.md");
    let doc = match std::fs::read_to_string(&path) {
        Ok(old) => replace_section(&old, &section),
        Err(_) => format!("{head}{section}"),
    };
    std::fs::write(&path, doc)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// `doc` with its personal data section (up to the next `## ` heading)
/// replaced by `section`, or with `section` appended when it has none.
fn replace_section(doc: &str, section: &str) -> String {
    let section = section.trim_end();
    let Some(start) = doc.find(SECTION) else {
        return format!("{}\n\n{section}\n", doc.trim_end());
    };
    let after = start + SECTION.len();
    match doc[after..].find("\n## ") {
        Some(i) => format!("{}{section}\n{}", &doc[..start], &doc[after + i..]),
        None => format!("{}{section}\n", &doc[..start]),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_section;

    #[test]
    fn only_the_personal_data_section_is_replaced() {
        let new = "## Personal data masking\n\nnew\n";
        for (doc, expect) in [
            (
                "# Q\n\n## Personal data masking\n\nold\n\n## Emotion flags\n\nkept\n",
                "# Q\n\n## Personal data masking\n\nnew\n\n## Emotion flags\n\nkept\n",
            ),
            (
                "# Q\n\n## Personal data masking\n\nold\n",
                "# Q\n\n## Personal data masking\n\nnew\n",
            ),
            (
                "# Q\n\n## Emotion flags\n\nkept\n",
                "# Q\n\n## Emotion flags\n\nkept\n\n## Personal data masking\n\nnew\n",
            ),
        ] {
            assert_eq!(replace_section(doc, new), expect, "{doc:?}");
        }
    }
}
