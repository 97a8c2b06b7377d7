//! Signed changes to rollup rows, kept in key order and written with
//! additive upserts.

use super::{COUNT_COLUMNS, Counts, Facts, Grain, SCORES, placeholders};
use crate::error::Result;
use crate::store::Backend;
use crate::store::exec::{Arg, Exec};
use crate::zone::Zone;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// A row's key in one grain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Key {
    grain: Grain,
    site_id: i64,
    day: String,
    dims: Vec<String>,
    touchpoint: String,
    stage: String,
    metric: String,
}

/// Signed changes to rollup rows, applied in key order (so that concurrent
/// writers lock rows in the same order and cannot deadlock on them).
#[derive(Debug, Default)]
pub(super) struct Deltas {
    rows: BTreeMap<Key, Counts>,
    items: BTreeMap<(Key, String), i64>,
    /// `(grain, site, day)` where something was subtracted: rows left at
    /// zero there are deleted.
    shrunk: BTreeSet<(Grain, i64, String)>,
}

impl Deltas {
    fn keys(site_id: i64, zone: &Zone, f: &Facts) -> Option<Vec<Key>> {
        let day = zone.day_of(&f.ts)?;
        let month = format!("{}01", day.get(..8)?);
        let key = |grain: Grain, dims: Vec<String>| Key {
            grain,
            site_id,
            day: if grain.by_month() {
                month.clone()
            } else {
                day.clone()
            },
            dims,
            touchpoint: f.touchpoint.clone().unwrap_or_default(),
            stage: f.stage.clone(),
            metric: f.metric.clone().unwrap_or_default(),
        };
        let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_owned());
        let segment = vec![or_unknown(&f.device), or_unknown(&f.locale)];
        let page_segment = vec![f.page.clone(), segment[0].clone(), segment[1].clone()];
        let mut keys = vec![
            key(Grain::Days, Vec::new()),
            key(Grain::Segments, segment.clone()),
            key(Grain::Pages, vec![f.page.clone()]),
            key(Grain::SegmentMonths, segment),
            key(Grain::PageMonths, vec![f.page.clone()]),
            key(Grain::PageSegments, page_segment.clone()),
            key(Grain::PageSegmentMonths, page_segment),
        ];
        // A row per attribute the event carries (only declared ones are stored).
        let attributes: std::collections::BTreeMap<String, String> = f
            .attributes
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default();
        for (name, value) in attributes {
            keys.push(key(Grain::Attributes, vec![name.clone(), value.clone()]));
            keys.push(key(Grain::AttributeMonths, vec![name, value]));
        }
        Some(keys)
    }

    fn add(
        &mut self,
        site_id: i64,
        zone: &Zone,
        f: &Facts,
        sign: i64,
        change: impl Fn(&mut Counts),
        items: &[String],
    ) {
        let Some(keys) = Deltas::keys(site_id, zone, f) else {
            return;
        };
        for key in keys {
            if sign < 0 {
                self.shrunk
                    .insert((key.grain, key.site_id, key.day.clone()));
            }
            for item in items {
                *self.items.entry((key.clone(), item.clone())).or_default() += sign;
            }
            change(self.rows.entry(key).or_default());
        }
    }

    /// An event stored (`sign` 1) or deleted (−1).
    pub(super) fn event(&mut self, site_id: i64, zone: &Zone, f: &Facts, sign: i64) {
        let mut items = Vec::new();
        match f.kind.as_str() {
            "response" => {
                if let Some(choices) = &f.choices {
                    items.extend(choice_items(choices));
                }
                items.extend(flag_items(f.flags.as_deref()));
            }
            "signal" => items.extend(f.signal.as_ref().map(|s| format!("signal:{s}"))),
            "impression" | "dismiss" => {}
            _ => return,
        }
        let (kind, comment, score) = (f.kind.as_str(), f.comment, f.score);
        self.add(
            site_id,
            zone,
            f,
            sign,
            |c| match kind {
                "impression" => c.impressions += sign,
                "dismiss" => c.dismissals += sign,
                "signal" => c.signals += sign,
                _ => {
                    c.responses += sign;
                    if comment {
                        c.comments += sign;
                    }
                    if let Some(s) = score
                        .and_then(|s| usize::try_from(s).ok())
                        .filter(|s| *s < SCORES)
                    {
                        c.scores[s] += sign;
                    }
                }
            },
            &items,
        );
    }

    /// A stored response whose comment or choices a follow-up filled in.
    pub(super) fn fill(
        &mut self,
        site_id: i64,
        zone: &Zone,
        f: &Facts,
        comment: bool,
        choices: Option<&str>,
    ) {
        let mut items = choices.map(choice_items).unwrap_or_default();
        if comment {
            items.extend(flag_items(f.flags.as_deref()));
        }
        self.add(
            site_id,
            zone,
            f,
            1,
            |c| {
                if comment {
                    c.comments += 1;
                }
            },
            &items,
        );
    }

    /// An impression whose page view gained (1) or lost (−1) its signals.
    pub(super) fn signal_view(&mut self, site_id: i64, zone: &Zone, f: &Facts, sign: i64) {
        self.add(site_id, zone, f, sign, |c| c.signal_views += sign, &[]);
    }

    /// An item of a stored event gained (1) or lost (−1), its row's counts unchanged.
    pub(super) fn item(&mut self, site_id: i64, zone: &Zone, f: &Facts, sign: i64, item: String) {
        self.add(site_id, zone, f, sign, |_| {}, &[item]);
    }

    pub(super) fn len(&self) -> usize {
        self.rows.len() + self.items.len()
    }

    /// Applies every change and clears them.
    pub(super) async fn flush(&mut self, exec: &mut Exec<'_>, backend: Backend) -> Result<()> {
        let rows = std::mem::take(&mut self.rows);
        let items = std::mem::take(&mut self.items);
        for grain in Grain::ALL {
            let changed: Vec<(&Key, &Counts)> = rows
                .iter()
                .filter(|(k, c)| k.grain == grain && !c.is_zero())
                .collect();
            let upserts = &UPSERTS[grain as usize];
            for chunk in changed.chunks(40) {
                let sql = upserts.rows.sql(backend, chunk.len());
                let mut args = Vec::with_capacity(chunk.len() * upserts.rows.columns);
                for (key, counts) in chunk {
                    key_args(&mut args, key);
                    args.extend(counts.values().into_iter().map(Arg::from));
                }
                exec.execute(&sql, &args).await?;
            }
            let changed: Vec<(&(Key, String), &i64)> = items
                .iter()
                .filter(|((k, _), n)| k.grain == grain && **n != 0)
                .collect();
            for chunk in changed.chunks(100) {
                let sql = upserts.items.sql(backend, chunk.len());
                let mut args = Vec::with_capacity(chunk.len() * upserts.items.columns);
                for ((key, item), n) in chunk {
                    key_args(&mut args, key);
                    args.extend([Arg::from(item.as_str()), Arg::from(**n)]);
                }
                exec.execute(&sql, &args).await?;
            }
        }
        for (grain, site_id, day) in std::mem::take(&mut self.shrunk) {
            let zero: Vec<String> = COUNT_COLUMNS.iter().map(|c| format!("{c} = 0")).collect();
            let args = [Arg::from(site_id), Arg::from(&day)];
            let sql = format!(
                "DELETE FROM {} WHERE site_id = $1 AND day = $2 AND {}",
                grain.table(),
                zero.join(" AND ")
            );
            exec.execute(&sql, &args).await?;
            let sql = format!(
                "DELETE FROM {} WHERE site_id = $1 AND day = $2 AND n = 0",
                grain.items()
            );
            exec.execute(&sql, &args).await?;
        }
        Ok(())
    }
}

/// One additive upsert of many rows, as the text before the rows'
/// placeholders and the text after them.
struct Upsert {
    head: String,
    /// Values bound per row.
    columns: usize,
    tail: String,
}

impl Upsert {
    /// `INSERT INTO table (key columns, value columns) VALUES … ON
    /// CONFLICT (key columns) DO UPDATE SET` each value `= old + new`.
    fn new(table: &str, keys: &[&str], values: &[&str]) -> Upsert {
        let columns = [keys, values].concat();
        let update: Vec<String> = values
            .iter()
            .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
            .collect();
        Upsert {
            head: format!("INSERT INTO {table} ({}) VALUES ", columns.join(", ")),
            columns: columns.len(),
            tail: format!(
                " ON CONFLICT ({}) DO UPDATE SET {}",
                keys.join(", "),
                update.join(", ")
            ),
        }
    }

    /// The statement for `rows` rows.
    fn sql(&self, backend: Backend, rows: usize) -> String {
        let values = placeholders(backend, rows, self.columns);
        [self.head.as_str(), &values, &self.tail].concat()
    }
}

/// A grain's upserts: its rows of counts, and its items.
struct Upserts {
    rows: Upsert,
    items: Upsert,
}

/// [`Upserts`] of each grain, at its position in [`Grain::ALL`], built
/// once rather than in every transaction.
static UPSERTS: LazyLock<Vec<Upserts>> = LazyLock::new(|| {
    Grain::ALL
        .iter()
        .enumerate()
        .map(|(i, &grain)| {
            assert_eq!(grain as usize, i, "Grain::ALL is in declaration order");
            let keys = grain.key_columns();
            Upserts {
                rows: Upsert::new(grain.table(), &keys, &COUNT_COLUMNS),
                items: Upsert::new(
                    grain.items(),
                    &[keys.as_slice(), &["item"]].concat(),
                    &["n"],
                ),
            }
        })
        .collect()
});

/// `flag:frustration`… of a stored `;`-joined list.
fn flag_items(flags: Option<&str>) -> impl Iterator<Item = String> + '_ {
    flags
        .into_iter()
        .flat_map(|f| f.split(';'))
        .filter(|f| !f.is_empty())
        .map(|f| format!("flag:{f}"))
}

fn choice_items(choices: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(choices)
        .unwrap_or_default()
        .into_iter()
        .map(|c| format!("choice:{c}"))
        .collect()
}

fn key_args<'q>(args: &mut Vec<Arg<'q>>, key: &'q Key) {
    args.extend([Arg::from(key.site_id), Arg::from(key.day.as_str())]);
    args.extend(key.dims.iter().map(Arg::from));
    args.extend([
        Arg::from(key.touchpoint.as_str()),
        Arg::from(key.stage.as_str()),
        Arg::from(key.metric.as_str()),
    ]);
}
