//! `touchpoint migrate --to postgres://…`: a SQLite database copied into
//! PostgreSQL ([`Store::migrate_to_postgres`]), with progress on a terminal.

use super::progress::Progress;
use crate::store::Store;
use crate::store::migrate::Step;
use std::io::Write;

pub(super) async fn run(
    store: &Store,
    json: bool,
    out: &mut (dyn Write + Send),
    to: &str,
) -> anyhow::Result<()> {
    let mut progress = Progress::new(json);
    let copied = store
        .migrate_to_postgres(to, |step| match step {
            Step::Copying { table, rows, total } => {
                progress.show(table, rows, Some(total), "rows");
            }
            Step::Rollups { done, sites } => {
                progress.show("rollups rebuilt", done, Some(sites), "sites");
            }
        })
        .await?;
    progress.finish();
    if json {
        writeln!(out, "{}", serde_json::json!({ "tables": copied }))?;
    } else {
        for c in &copied {
            writeln!(
                out,
                "{}: {} rows in both databases ({} copied now)",
                c.table, c.target, c.copied_now
            )?;
        }
        writeln!(out, "migrated; rollups rebuilt from the copied events")?;
    }
    Ok(())
}
