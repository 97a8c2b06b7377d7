//! Recreating rollups from raw events, and comparing them.

use super::deltas::Deltas;
use super::{COUNT_COLUMNS, FACT_COLUMNS, Facts, Grain, KINDS, zone_of};
use crate::emotion;
use crate::error::Result;
use crate::store::exec::Exec;
use crate::store::{Backend, Store};
use crate::zone::Zone;
use sqlx::{AnyConnection, Row};

/// Recreates a site's rollups from its raw events, inside `conn`'s
/// transaction. With `zone`, the site is being given that time zone (and
/// its row is already locked by the update); without, the site's own is
/// read under an exclusive lock, so that no write of the site's events
/// runs alongside.
pub(in crate::store) async fn rebuild_in(
    conn: &mut AnyConnection,
    backend: Backend,
    site_id: i64,
    zone: Option<&Zone>,
) -> Result<u64> {
    // The first statement writes: on SQLite the transaction takes the
    // write lock before it reads anything.
    for grain in Grain::ALL {
        for table in [grain.table(), grain.items()] {
            sqlx::query(&format!("DELETE FROM {table} WHERE site_id = $1"))
                .bind(site_id)
                .execute(&mut *conn)
                .await?;
        }
    }
    let zone = match zone {
        Some(z) => z.clone(),
        None => {
            if backend == Backend::Postgres {
                sqlx::query("SELECT id FROM sites WHERE id = $1 FOR UPDATE")
                    .bind(site_id)
                    .execute(&mut *conn)
                    .await?;
            }
            zone_of(&mut Exec::Any(&mut *conn), backend, site_id).await?
        }
    };
    reflag(conn, site_id).await?;
    let mut deltas = Deltas::default();
    let mut events = 0;
    const PAGE: i64 = 10_000;
    // The signals of an event's page view (same visitor, session, page).
    let same_view = "FROM events s WHERE s.site_id = e.site_id AND s.visitor = e.visitor \
                     AND s.session = e.session AND s.page = e.page AND s.kind = 'signal'";
    for kind in KINDS {
        // Impressions also say which signals their page view recorded
        // (`,`-joined, NULL for none); scored responses whether a signal
        // came before them (`signalled`, or NULL). What `write::view_items`
        // decides from a view's rows.
        let view = match (kind, backend) {
            ("impression", Backend::Sqlite) => {
                format!("(SELECT group_concat(DISTINCT s.signal) {same_view})")
            }
            ("impression", Backend::Postgres) => {
                format!("(SELECT string_agg(DISTINCT s.signal, ',') {same_view})")
            }
            ("response", _) => format!(
                "CASE WHEN e.score IS NOT NULL AND EXISTS (SELECT 1 {same_view} AND s.ts <= e.ts) \
                 THEN 'signalled' END"
            ),
            _ => "CAST(NULL AS TEXT)".to_owned(),
        };
        let mut after: Option<(String, String)> = None;
        loop {
            // In (ts, id) order along the (site_id, kind, ts) index, so
            // that a page's rows are mostly a few days' keys.
            let mut sql = format!(
                "SELECT {FACT_COLUMNS}, {view} FROM events e WHERE site_id = $1 AND kind = $2"
            );
            if after.is_some() {
                sql.push_str(" AND ts >= $3 AND (ts > $4 OR id > $5)");
            }
            sql.push_str(&format!(" ORDER BY ts, id LIMIT {PAGE}"));
            let mut query = sqlx::query(&sql).bind(site_id).bind(kind);
            if let Some((ts, id)) = &after {
                query = query.bind(ts.as_str()).bind(ts.as_str()).bind(id.as_str());
            }
            let rows = query.fetch_all(&mut *conn).await?;
            for row in &rows {
                let f = Facts::of_row(row);
                deltas.event(site_id, &zone, &f, 1);
                if let Some(view) = row.get::<Option<String>, _>(17) {
                    match f.score {
                        _ if f.kind == "impression" => {
                            deltas.signal_view(site_id, &zone, &f, 1);
                            for name in view.split(',') {
                                deltas.item(site_id, &zone, &f, 1, format!("view:{name}"));
                            }
                        }
                        Some(score) => {
                            deltas.item(site_id, &zone, &f, 1, format!("signalled:{score}"));
                        }
                        None => {}
                    }
                }
                events += 1;
            }
            if deltas.len() > 100_000 {
                deltas.flush(&mut Exec::Any(&mut *conn), backend).await?;
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == PAGE => {
                    after = Some((last.get(11), last.get(0)));
                }
                _ => break,
            }
        }
    }
    deltas.flush(&mut Exec::Any(&mut *conn), backend).await?;
    Ok(events)
}

/// Decides the emotion flags of the site's comments that the lexicon in use
/// has not decided (stored before flags existed, or under an older version
/// of the lexicon), so the rebuild counts what it would decide today.
/// Returns how many comments it looked at again.
pub(in crate::store) async fn reflag(conn: &mut AnyConnection, site_id: i64) -> Result<u64> {
    let version = i64::from(emotion::LEXICON_VERSION);
    let mut seen = 0;
    loop {
        let rows = sqlx::query(
            "SELECT id, comment, locale FROM events WHERE site_id = $1 AND comment IS NOT NULL \
             AND (flags_version IS NULL OR flags_version <> $2) LIMIT 1000",
        )
        .bind(site_id)
        .bind(version)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            return Ok(seen);
        }
        for row in &rows {
            let (id, comment, locale): (String, String, Option<String>) =
                (row.get(0), row.get(1), row.get(2));
            let flags = emotion::stored(&comment, locale.as_deref());
            sqlx::query(
                "UPDATE events SET flags = $1, flags_version = $2 WHERE site_id = $3 AND id = $4",
            )
            .bind(flags)
            .bind(version)
            .bind(site_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            seen += 1;
        }
    }
}

impl Store {
    /// Recreates a site's rollups from its raw events, in one transaction;
    /// returns how many events were counted. The site's writes wait
    /// meanwhile (on SQLite every write waits: rebuild a large site at a
    /// quiet hour).
    pub async fn rebuild_rollups(&self, site_id: i64) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let events = rebuild_in(&mut tx, self.backend, site_id, None).await?;
        tx.commit().await?;
        Ok(events)
    }

    /// Rebuilds the rollups of every site a migration listed in
    /// `rollup_rebuilds` (because it changed what they count), each in one
    /// transaction that also takes the site off the list: an interrupted
    /// start resumes with the sites left. Two servers starting at once on
    /// one PostgreSQL rebuild each site once: the second waits on the
    /// first's deletion of the site's entry and then finds it gone.
    pub(in crate::store) async fn rebuild_listed_rollups(&self) -> Result<()> {
        let listed = sqlx::query("SELECT site_id, reason FROM rollup_rebuilds ORDER BY site_id")
            .fetch_all(&self.pool)
            .await?;
        for row in &listed {
            let (site_id, reason): (i64, String) = (row.get(0), row.get(1));
            let mut tx = self.pool.begin().await?;
            let taken = sqlx::query("DELETE FROM rollup_rebuilds WHERE site_id = $1")
                .bind(site_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if taken == 0 {
                continue;
            }
            tracing::info!(
                site_id,
                reason,
                "rebuilding the site's rollups from its raw events"
            );
            let events = rebuild_in(&mut tx, self.backend, site_id, None).await?;
            tx.commit().await?;
            tracing::info!(site_id, events, "rollups rebuilt");
        }
        Ok(())
    }

    /// Every site's id and key, oldest first: what a rebuild of all goes through.
    pub async fn rollup_sites(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT id, key FROM sites ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Every rollup row of a site as a line of text (`table|key…|counts…`),
    /// sorted: what a check compares, a rebuild against what was kept.
    pub async fn rollup_snapshot(&self, site_id: i64) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for grain in Grain::ALL {
            let keys = grain.key_columns();
            for (table, rest) in [
                (grain.table(), COUNT_COLUMNS.join(", ")),
                (grain.items(), "item, n".to_owned()),
            ] {
                let text_columns = keys.len() - 1 + usize::from(rest.starts_with("item"));
                let sql = format!(
                    "SELECT {}, {rest} FROM {table} WHERE site_id = $1",
                    keys[1..].join(", ")
                );
                for row in sqlx::query(&sql)
                    .bind(site_id)
                    .fetch_all(&self.pool)
                    .await?
                {
                    let mut line = table.to_owned();
                    for i in 0..row.len() {
                        line.push('|');
                        if i < text_columns {
                            line.push_str(row.get::<&str, _>(i));
                        } else {
                            line.push_str(&row.get::<i64, _>(i).to_string());
                        }
                    }
                    out.push(line);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}
