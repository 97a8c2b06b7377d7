//! `cargo xtask quality`: measures the server's personal-data masking and
//! emotion flags on the labelled comments in `server/tests/fixtures/pii/`
//! and `server/tests/fixtures/emotion/`, and writes their sections of
//! `docs/QUALITY.md`, keeping the document's other sections.
//!
//! The measuring is the server crate's own (`privacy::eval`, run through an
//! ignored unit test that writes its Markdown to a file), so the document and
//! the test that holds the floors cannot disagree; the prose is in
//! `quality.md` beside this file.

use crate::{bench, util};
use anyhow::Context;

const TEMPLATE: &str = include_str!("quality.md");

/// Each measured section: its heading in the document and the template,
/// and the ignored server test that writes its results.
const SECTIONS: [(&str, &str); 2] = [
    (
        "## Personal data masking",
        "privacy::eval::tests::write_pii_quality",
    ),
    ("## Emotion flags", "emotion::tests::write_emotion_quality"),
];

pub fn run() -> anyhow::Result<()> {
    let path = util::root().join("docs/QUALITY.md");
    let mut doc = std::fs::read_to_string(&path).unwrap_or_else(|_| head().to_owned());
    let date = util::output("date", &["-u", "+%Y-%m-%d"]).unwrap_or_default();
    for (heading, test) in SECTIONS {
        let measured = util::target_dir().join(format!("quality/{}.md", test.replace("::", "-")));
        std::fs::create_dir_all(measured.parent().unwrap())?;
        let _ = std::fs::remove_file(&measured);
        util::cargo(
            &[
                "test",
                "--quiet",
                "--package",
                "touchpoint-server",
                "--lib",
                test,
                "--",
                "--ignored",
                "--exact",
            ],
            &[("TOUCHPOINT_QUALITY_OUT", measured.to_str().unwrap())],
        )?;
        let results = std::fs::read_to_string(&measured).with_context(|| {
            format!("the measurement was not written to {}", measured.display())
        })?;
        let section = template_section(heading)?
            .replace("{date}", date.trim())
            .replace("{machine}", &bench::machine())
            .replace("{results}", results.trim_end());
        doc = replace_section(&doc, heading, &section);
    }
    std::fs::write(&path, doc)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// The template's text before its first section.
fn head() -> &'static str {
    TEMPLATE.split("\n## ").next().unwrap_or(TEMPLATE)
}

/// The template of the section under `heading`, heading included.
fn template_section(heading: &str) -> anyhow::Result<String> {
    let start = TEMPLATE
        .find(heading)
        .with_context(|| format!("quality.md has no {heading:?} section"))?;
    let after = start + heading.len();
    let end = TEMPLATE[after..]
        .find("\n## ")
        .map_or(TEMPLATE.len(), |i| after + i + 1);
    Ok(TEMPLATE[start..end].to_owned())
}

/// `doc` with its section under `heading` (up to the next `## ` heading)
/// replaced by `section`, or with `section` appended when it has none.
fn replace_section(doc: &str, heading: &str, section: &str) -> String {
    let section = section.trim_end();
    let Some(start) = doc.find(heading) else {
        return format!("{}\n\n{section}\n", doc.trim_end());
    };
    let after = start + heading.len();
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
            assert_eq!(
                replace_section(doc, "## Personal data masking", new),
                expect,
                "{doc:?}"
            );
        }
    }
}
