//! Counting one transaction's changes to the events table.

use super::deltas::Deltas;
use super::{FACT_COLUMNS, Facts, View, ViewChange, zone_of};
use crate::error::Result;
use crate::store::Backend;
use crate::store::exec::{Arg, Exec};
use crate::zone::Zone;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Everything one transaction changed in the events table, to be counted
/// in the rollups before it commits ([`Changes::apply`]).
#[derive(Debug, Default)]
pub(in crate::store) struct Changes {
    added: Vec<(i64, Facts)>,
    removed: Vec<(i64, Facts)>,
    /// A response's comment (`true`) or choices filled in by a follow-up.
    filled: Vec<(i64, Facts, bool, Option<String>)>,
}

impl Changes {
    pub fn added(&mut self, site_id: i64, facts: Facts) {
        self.added.push((site_id, facts));
    }

    pub fn removed(&mut self, site_id: i64, facts: Facts) {
        self.removed.push((site_id, facts));
    }

    pub fn filled(&mut self, site_id: i64, facts: Facts, comment: bool, choices: Option<String>) {
        self.filled.push((site_id, facts, comment, choices));
    }

    /// The deletion of `rows`, read with [`FACT_COLUMNS`] (`RETURNING` them).
    pub fn removed_rows(site_id: i64, rows: &[sqlx::any::AnyRow]) -> Changes {
        let mut changes = Changes::default();
        for row in rows {
            changes.removed(site_id, Facts::of_row(row));
        }
        changes
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.filled.is_empty()
    }

    /// Counts the changes into the rollups, inside the transaction that
    /// made them (call it after the events are written).
    pub async fn apply(self, exec: &mut Exec<'_>, backend: Backend) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let mut sites: BTreeSet<i64> = BTreeSet::new();
        sites.extend(self.added.iter().map(|(s, _)| *s));
        sites.extend(self.removed.iter().map(|(s, _)| *s));
        sites.extend(self.filled.iter().map(|(s, ..)| *s));
        let mut zones = HashMap::new();
        for site_id in &sites {
            zones.insert(*site_id, zone_of(exec, backend, *site_id).await?);
        }
        let mut deltas = Deltas::default();
        for (site_id, f) in &self.added {
            deltas.event(*site_id, &zones[site_id], f, 1);
        }
        for (site_id, f) in &self.removed {
            deltas.event(*site_id, &zones[site_id], f, -1);
        }
        for (site_id, f, comment, choices) in &self.filled {
            deltas.fill(*site_id, &zones[site_id], f, *comment, choices.as_deref());
        }
        // Page views whose impressions or signals changed.
        let mut views: BTreeMap<(i64, View), ViewChange<'_>> = BTreeMap::new();
        for (site_id, f) in &self.added {
            if let Some(view) = f.view() {
                views.entry((*site_id, view)).or_default().0.push(f);
            }
        }
        for (site_id, f) in &self.removed {
            if let Some(view) = f.view() {
                views.entry((*site_id, view)).or_default().1.push(f);
            }
        }
        if !views.is_empty() {
            lock_visitors(
                exec,
                backend,
                views.keys().map(|(s, v)| (*s, v.visitor.as_str())),
            )
            .await?;
            for site_id in &sites {
                let changed: Vec<(&View, &ViewChange<'_>)> = views
                    .range((*site_id, min_view())..)
                    .take_while(|((s, _), _)| s == site_id)
                    .map(|((_, v), c)| (v, c))
                    .collect();
                if !changed.is_empty() {
                    link_views(
                        exec,
                        backend,
                        *site_id,
                        &zones[site_id],
                        &changed,
                        &mut deltas,
                    )
                    .await?;
                }
            }
        }
        deltas.flush(exec, backend).await
    }
}

fn min_view() -> View {
    View {
        visitor: String::new(),
        session: String::new(),
        page: String::new(),
    }
}

/// On PostgreSQL, takes a transaction-scoped advisory lock per (site,
/// visitor), in one global order: the transactions that change one page
/// view's impressions or signals then see each other's committed rows
/// when they decide which impressions had a signal. (SQLite writes one
/// transaction at a time.)
async fn lock_visitors<'a>(
    exec: &mut Exec<'_>,
    backend: Backend,
    visitors: impl Iterator<Item = (i64, &'a str)>,
) -> Result<()> {
    if backend != Backend::Postgres {
        return Ok(());
    }
    let locks: BTreeSet<i64> = visitors
        .map(|(site_id, visitor)| {
            let hash = Sha256::digest(format!("touchpoint view {site_id} {visitor}"));
            i64::from_be_bytes(hash[..8].try_into().expect("8 bytes"))
        })
        .collect();
    // Many at a time (a bulk import's batch has thousands of visitors):
    // PostgreSQL computes a volatile output column after the sort, so each
    // statement takes its locks in order, and the chunks follow each other.
    let locks: Vec<i64> = locks.into_iter().collect();
    for chunk in locks.chunks(500) {
        let values = (1..=chunk.len())
            .map(|i| format!("(${i}::BIGINT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql =
            format!("SELECT pg_advisory_xact_lock(k) FROM (VALUES {values}) AS v(k) ORDER BY k");
        let args: Vec<Arg<'_>> = chunk.iter().map(|lock| Arg::from(*lock)).collect();
        exec.execute(&sql, &args).await?;
    }
    Ok(())
}

/// Counts the change in `signal_views`: an impression counts when its page
/// view has at least one signal. Compares each changed view before and
/// after this transaction: after is what the table holds now, before is
/// that without what was added and with what was removed.
async fn link_views(
    exec: &mut Exec<'_>,
    backend: Backend,
    site_id: i64,
    zone: &Zone,
    changed: &[(&View, &ViewChange<'_>)],
    deltas: &mut Deltas,
) -> Result<()> {
    let visitors: BTreeSet<&str> = changed.iter().map(|(v, _)| v.visitor.as_str()).collect();
    let wanted: HashSet<&View> = changed.iter().map(|(v, _)| *v).collect();
    let mut now: HashMap<View, Vec<Facts>> = HashMap::new();
    let visitors: Vec<&str> = visitors.into_iter().collect();
    for chunk in visitors.chunks(200) {
        let list = match backend {
            Backend::Sqlite => vec!["?"; chunk.len()].join(", "),
            Backend::Postgres => (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let first = match backend {
            Backend::Sqlite => "?",
            Backend::Postgres => "$1",
        };
        // Along (site, visitor): the planner needs the events table's
        // statistics to see it ([`crate::store::Store::refresh_statistics`]).
        let sql = format!(
            "SELECT {FACT_COLUMNS} FROM events WHERE site_id = {first} \
             AND visitor IN ({list}) AND kind IN ('impression', 'signal', 'response')"
        );
        let mut args = vec![Arg::from(site_id)];
        args.extend(chunk.iter().map(|v| Arg::from(*v)));
        for row in exec.fetch_all(&sql, &args).await? {
            let f = Facts::of_row(&row);
            if let Some(view) = f.view()
                && wanted.contains(&view)
            {
                now.entry(view).or_default().push(f);
            }
        }
    }
    let empty = Vec::new();
    for (view, (added, removed)) in changed {
        let after = now.get(*view).unwrap_or(&empty);
        let added_ids: HashSet<&str> = added.iter().map(|f| f.id.as_str()).collect();
        let before: Vec<&Facts> = after
            .iter()
            .filter(|f| !added_ids.contains(f.id.as_str()))
            .chain(removed.iter().copied())
            .collect();
        let after: Vec<&Facts> = after.iter().collect();
        let flagged = |rows: &[&Facts]| -> BTreeMap<String, Facts> {
            if rows.iter().any(|f| f.kind == "signal") {
                rows.iter()
                    .filter(|f| f.kind == "impression")
                    .map(|f| (f.id.clone(), (*f).clone()))
                    .collect()
            } else {
                BTreeMap::new()
            }
        };
        let (was, is) = (flagged(&before), flagged(&after));
        for (id, f) in &is {
            if !was.contains_key(id) {
                deltas.signal_view(site_id, zone, f, 1);
            }
        }
        for (id, f) in &was {
            if !is.contains_key(id) {
                deltas.signal_view(site_id, zone, f, -1);
            }
        }
        let (was, is) = (view_items(&before), view_items(&after));
        for ((id, item), f) in &is {
            if !was.contains_key(&(id.clone(), item.clone())) {
                deltas.item(site_id, zone, f, 1, item.clone());
            }
        }
        for ((id, item), f) in &was {
            if !is.contains_key(&(id.clone(), item.clone())) {
                deltas.item(site_id, zone, f, -1, item.clone());
            }
        }
    }
    Ok(())
}

/// The items one page view's rows give its impressions and responses:
/// `view:<signal>` to an impression for each signal the view recorded, and
/// `signalled:<score>` to a scored response given at or after a signal's
/// time. Keyed by (event id, item).
pub(super) fn view_items<'a>(rows: &[&'a Facts]) -> BTreeMap<(String, String), &'a Facts> {
    let signals: Vec<&Facts> = rows
        .iter()
        .copied()
        .filter(|f| f.kind == "signal")
        .collect();
    let mut out = BTreeMap::new();
    if signals.is_empty() {
        return out;
    }
    let names: BTreeSet<&str> = signals.iter().filter_map(|f| f.signal.as_deref()).collect();
    for f in rows {
        match f.kind.as_str() {
            "impression" => {
                for name in &names {
                    out.insert((f.id.clone(), format!("view:{name}")), *f);
                }
            }
            "response" => {
                if let Some(score) = f.score
                    && signals.iter().any(|s| s.ts <= f.ts)
                {
                    out.insert((f.id.clone(), format!("signalled:{score}")), *f);
                }
            }
            _ => {}
        }
    }
    out
}
