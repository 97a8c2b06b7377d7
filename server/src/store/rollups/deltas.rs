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
    /// The last event's place and its rows' keys: the events of one
    /// request (one page view's) and of one day's import mostly share
    /// them, and building a key is most of counting an event.
    last: Option<(Place, Vec<Key>)>,
}

/// What an event's rows' keys are made of, but for its kind and counts.
#[derive(Debug)]
struct Place {
    site_id: i64,
    day: String,
    touchpoint: Option<String>,
    stage: String,
    metric: Option<String>,
    page: String,
    device: Option<String>,
    locale: Option<String>,
    attributes: Option<String>,
}

impl Place {
    fn of(site_id: i64, day: String, f: &Facts) -> Place {
        Place {
            site_id,
            day,
            touchpoint: f.touchpoint.clone(),
            stage: f.stage.clone(),
            metric: f.metric.clone(),
            page: f.page.clone(),
            device: f.device.clone(),
            locale: f.locale.clone(),
            attributes: f.attributes.clone(),
        }
    }

    fn is(&self, site_id: i64, day: &str, f: &Facts) -> bool {
        self.site_id == site_id
            && self.day == day
            && self.touchpoint == f.touchpoint
            && self.stage == f.stage
            && self.metric == f.metric
            && self.page == f.page
            && self.device == f.device
            && self.locale == f.locale
            && self.attributes == f.attributes
    }
}

impl Deltas {
    fn keys(site_id: i64, day: &str, f: &Facts) -> Option<Vec<Key>> {
        let day = day.to_owned();
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
        let Some(day) = zone.day_of(&f.ts) else {
            return;
        };
        let Deltas {
            rows,
            items: item_rows,
            shrunk,
            last,
        } = self;
        let keys = match last {
            Some((place, keys)) if place.is(site_id, &day, f) => keys,
            _ => {
                let Some(keys) = Deltas::keys(site_id, &day, f) else {
                    return;
                };
                &last.insert((Place::of(site_id, day, f), keys)).1
            }
        };
        for key in keys {
            if sign < 0 {
                shrunk.insert((key.grain, key.site_id, key.day.clone()));
            }
            for item in items {
                *item_rows.entry((key.clone(), item.clone())).or_default() += sign;
            }
            match rows.get_mut(key) {
                Some(counts) => change(counts),
                None => change(rows.entry(key.clone()).or_default()),
            }
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
        match backend {
            Backend::Postgres => upsert_all(exec, &rows, &items).await?,
            Backend::Sqlite => upsert_each(exec, &rows, &items).await?,
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

/// On SQLite, a statement per grain and chunk of rows, each a call on the
/// writer's own thread, in key order.
async fn upsert_each(
    exec: &mut Exec<'_>,
    rows: &BTreeMap<Key, Counts>,
    items: &BTreeMap<(Key, String), i64>,
) -> Result<()> {
    for grain in Grain::ALL {
        let upserts = &UPSERTS[grain as usize];
        let changed: Vec<(&Key, &Counts)> = rows
            .iter()
            .filter(|(k, c)| k.grain == grain && !c.is_zero())
            .collect();
        upsert_chunks(exec, &upserts.rows, 40, &changed, |args, (key, counts)| {
            key_args(args, key);
            args.extend(counts.values().into_iter().map(Arg::from));
        })
        .await?;
        let changed: Vec<(&(Key, String), &i64)> = items
            .iter()
            .filter(|((k, _), n)| k.grain == grain && **n != 0)
            .collect();
        upsert_chunks(
            exec,
            &upserts.items,
            100,
            &changed,
            |args, ((key, item), n)| {
                key_args(args, key);
                args.extend([Arg::from(item.as_str()), Arg::from(**n)]);
            },
        )
        .await?;
    }
    Ok(())
}

/// `upsert` of `changed`, `per` rows a statement, each row's values bound
/// by `bind`.
async fn upsert_chunks<'q, T>(
    exec: &mut Exec<'_>,
    upsert: &Upsert,
    per: usize,
    changed: &'q [T],
    bind: impl Fn(&mut Vec<Arg<'q>>, &'q T),
) -> Result<()> {
    for chunk in changed.chunks(per) {
        let sql = upsert.sql(Backend::Sqlite, chunk.len());
        let mut args = Vec::with_capacity(chunk.len() * upsert.columns);
        for row in chunk {
            bind(&mut args, row);
        }
        exec.execute(&sql, &args).await?;
    }
    Ok(())
}

/// On PostgreSQL, every grain's changed rows and items in one statement
/// (one round trip), whose text is the same whatever the rows: each
/// table's rows are one JSON array parameter, and empty arrays insert
/// nothing. So it is parsed and planned once per connection, where a
/// statement per grain with a placeholder per value took a round trip each
/// and came in as many shapes as there are row counts. Its data-modifying
/// `WITH` queries are read by the main query one after the other, so they
/// run, and lock rows, in the order the statements ran one by one: grain
/// by grain, rows in key order (concurrent writers cannot deadlock).
async fn upsert_all(
    exec: &mut Exec<'_>,
    rows: &BTreeMap<Key, Counts>,
    items: &BTreeMap<(Key, String), i64>,
) -> Result<()> {
    if rows.values().all(Counts::is_zero) && items.values().all(|n| *n == 0) {
        return Ok(());
    }
    let mut arrays = Vec::with_capacity(2 * Grain::ALL.len());
    for grain in Grain::ALL {
        let keys = grain.key_columns();
        let mut array = Vec::new();
        for (key, counts) in rows
            .iter()
            .filter(|(k, c)| k.grain == grain && !c.is_zero())
        {
            let mut row = key_object(&keys, key);
            for (column, value) in COUNT_COLUMNS.iter().zip(counts.values()) {
                row.insert((*column).to_owned(), value.into());
            }
            array.push(serde_json::Value::Object(row));
        }
        arrays.push(serde_json::Value::Array(array).to_string());
        let mut array = Vec::new();
        for ((key, item), n) in items
            .iter()
            .filter(|((k, _), n)| k.grain == grain && **n != 0)
        {
            let mut row = key_object(&keys, key);
            row.insert("item".to_owned(), item.as_str().into());
            row.insert("n".to_owned(), (*n).into());
            array.push(serde_json::Value::Object(row));
        }
        arrays.push(serde_json::Value::Array(array).to_string());
    }
    let args: Vec<Arg<'_>> = arrays.iter().map(Arg::from).collect();
    exec.execute(&UPSERT_ALL, &args).await?;
    Ok(())
}

/// A key's columns as a JSON object, named as in its grain's table.
fn key_object(columns: &[&str], key: &Key) -> serde_json::Map<String, serde_json::Value> {
    let mut values: Vec<serde_json::Value> = vec![key.site_id.into(), key.day.as_str().into()];
    values.extend(key.dims.iter().map(|d| serde_json::Value::from(d.as_str())));
    values.extend([
        key.touchpoint.as_str().into(),
        key.stage.as_str().into(),
        key.metric.as_str().into(),
    ]);
    columns
        .iter()
        .map(|c| (*c).to_owned())
        .zip(values)
        .collect()
}

/// The statement of [`upsert_all`]: for each grain in [`Grain::ALL`], its
/// rows (`$1`, `$3`, …) then its items (`$2`, `$4`, …).
static UPSERT_ALL: LazyLock<String> = LazyLock::new(|| {
    let with: Vec<String> = UPSERTS
        .iter()
        .flat_map(|u| [&u.rows, &u.items])
        .enumerate()
        .map(|(i, u)| {
            let (n, table, names) = (i + 1, &u.table, &u.names);
            format!(
                "u{n} AS (INSERT INTO {table} ({names}) SELECT {names} \
                 FROM json_populate_recordset(NULL::{table}, ${n}::json){} RETURNING 1)",
                u.tail
            )
        })
        .collect();
    let read: Vec<String> = (1..=with.len())
        .map(|n| format!("(SELECT count(*) FROM u{n})"))
        .collect();
    format!("WITH {} SELECT {}", with.join(", "), read.join(", "))
});

/// One additive upsert of many rows, as the text before the rows'
/// placeholders and the text after them.
struct Upsert {
    table: String,
    /// The key and value columns, comma-separated.
    names: String,
    /// Values bound per row.
    columns: usize,
    /// ` ON CONFLICT (keys) DO UPDATE SET` each value `= old + new`.
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
            table: table.to_owned(),
            names: columns.join(", "),
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
        format!(
            "INSERT INTO {} ({}) VALUES {values}{}",
            self.table, self.names, self.tail
        )
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
