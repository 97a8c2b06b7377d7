//! Whether a run worked: the problems its parts found, and what the
//! Markdown they wrote shows (a table without rows, a figure that is not a
//! number). Never a judgement on a figure.

/// A smoke run fails on what shows a part no longer works: the `problems`
/// its parts found, and in the Markdown they wrote a table without rows or
/// a figure that is not a number. A full run reports and never fails on
/// them: it only prints them.
pub fn verdict(smoke: bool, md: &str, mut problems: Vec<String>) -> anyhow::Result<()> {
    problems.extend(document_problems(md));
    if problems.is_empty() {
        return Ok(());
    }
    if smoke {
        anyhow::bail!("the benchmark is broken:\n  - {}", problems.join("\n  - "));
    }
    for p in &problems {
        eprintln!("bench: {p}");
    }
    Ok(())
}

/// Tables with a header and no row, and `NaN` or `inf` anywhere, by section.
fn document_problems(md: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut heading = "(top)";
    let mut table: Vec<&str> = Vec::new();
    let mut end_table = |table: &mut Vec<&str>, heading: &str| {
        // A header line and its rule, then the rows.
        if !table.is_empty() && table.len() < 3 {
            problems.push(format!(
                "{heading}: a table has no rows ({})",
                table[0].trim()
            ));
        }
        table.clear();
    };
    let mut numbers = Vec::new();
    for line in md.lines() {
        if line.starts_with('|') {
            table.push(line);
        } else {
            end_table(&mut table, heading);
        }
        if let Some(h) = line.strip_prefix('#') {
            heading = h.trim_start_matches('#').trim();
        }
        if line
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == "NaN" || w == "inf")
        {
            numbers.push(format!("{heading}: not a number in `{}`", line.trim()));
        }
    }
    end_table(&mut table, heading);
    problems.extend(numbers);
    problems
}

#[cfg(test)]
mod tests {
    use super::document_problems;

    #[test]
    fn empty_tables_and_non_numbers_are_problems() {
        let good = "# B\n\n## Ingest\n\n| a | b |\n|---|---:|\n| x | 1.00 |\n\nWhat it means: information.\n";
        assert_eq!(document_problems(good), Vec::<String>::new());
        let empty = "## Ingest\n\n| a | b |\n|---|---:|\n\n## Scale\n\n| a |\n|---|\n| 1 |\n";
        assert_eq!(
            document_problems(empty),
            ["Ingest: a table has no rows (| a | b |)"]
        );
        let nan = "## Scale\n\n| a | b |\n|---|---:|\n| x | NaN |\n| y | inf → 2 |\n";
        assert_eq!(
            document_problems(nan).len(),
            2,
            "{:?}",
            document_problems(nan)
        );
        let last = "## Memory\n\n| a |\n|---|";
        assert_eq!(document_problems(last).len(), 1);
    }
}
