//! `touchpoint rollup rebuild [--site KEY]`: the rollups recreated from raw
//! events.

use super::progress::Progress;
use super::{RollupCommand, site_record};
use crate::store::Store;
use std::io::Write;

pub(super) async fn run(
    store: &Store,
    json: bool,
    out: &mut (dyn Write + Send),
    command: RollupCommand,
) -> anyhow::Result<()> {
    let RollupCommand::Rebuild { site } = command;
    let sites = match site {
        Some(key) => vec![(site_record(store, &key).await?.id, key)],
        None => store.rollup_sites().await?,
    };
    let mut rebuilt = Vec::new();
    let mut progress = Progress::new(json);
    let total = sites.len() as u64;
    for (i, (id, key)) in sites.into_iter().enumerate() {
        progress.show("rollups rebuilt", i as u64, Some(total), "sites");
        let events = store.rebuild_rollups(id).await?;
        progress.finish();
        if !json {
            writeln!(out, "rebuilt the rollups of {key} from {events} events")?;
            out.flush()?;
        }
        rebuilt.push(serde_json::json!({ "key": key, "events": events }));
    }
    if json {
        writeln!(out, "{}", serde_json::json!({ "sites": rebuilt }))?;
    }
    Ok(())
}
