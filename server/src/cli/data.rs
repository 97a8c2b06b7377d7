//! `touchpoint apply`, `import`, `export` and `visitor …`: a site's
//! configuration and its events, in and out.

use super::progress::Progress;
use super::{ExportFormat, VisitorCommand, site_record};
use crate::auth::new_site_key;
use crate::export::{Export, Format};
use crate::filters::{FilterArgs, parse_group_by};
use crate::store::Store;
use crate::{import, site_file};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub(super) async fn apply(
    store: &Store,
    json: bool,
    out: &mut (dyn Write + Send),
    file: &Path,
    allow_private: bool,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut site =
        site_file::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    // A file written from `GET /site` carries masked secrets: keep the stored ones.
    let stored = match &site.site.key {
        Some(key) => store.site_by_key(key).await?,
        None => None,
    };
    let stored_alerts = stored.map(|s| s.config.alerts).unwrap_or_default();
    site_file::alert::restore_secrets(&mut site, &stored_alerts)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    crate::alerts::check_destinations(&site.alert, allow_private)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let (key, changed) = store.apply_site(&site, new_site_key).await?;
    if json {
        let sites = serde_json::json!({ "sites": [{ "name": site.site.name, "key": key, "changed": changed }] });
        writeln!(out, "{sites}")?;
    } else {
        let what = if changed { "applied" } else { "unchanged" };
        writeln!(out, "{what}: {} (key {key})", site.site.name)?;
    }
    Ok(())
}

pub(super) async fn visitor(
    store: &Store,
    json: bool,
    out: &mut (dyn Write + Send),
    command: VisitorCommand,
) -> anyhow::Result<()> {
    match command {
        VisitorCommand::Export { site, visitor } => {
            let record = site_record(store, &site).await?;
            for event in store.visitor_events(record.id, &visitor).await? {
                writeln!(out, "{}", serde_json::to_string(&event)?)?;
            }
        }
        VisitorCommand::Delete { site, visitor } => {
            let record = site_record(store, &site).await?;
            let deleted = store.delete_visitor(record.id, &visitor).await?;
            if json {
                let answer = touchpoint_wire::Deleted { deleted };
                writeln!(out, "{}", serde_json::to_string(&answer)?)?;
            } else {
                writeln!(out, "deleted {deleted} events of visitor {visitor}")?;
            }
        }
    }
    Ok(())
}

pub(super) async fn import(
    store: &Store,
    json: bool,
    out: &mut (dyn Write + Send),
    site: &str,
    file: &Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let record = site_record(store, site).await?;
    let read = Arc::new(AtomicU64::new(0));
    let (input, size): (Box<dyn std::io::Read + Send>, Option<u64>) = if file.as_os_str() == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(f), size)
    };
    let input = std::io::BufReader::with_capacity(
        1 << 16,
        Counted {
            inner: input,
            read: read.clone(),
        },
    );
    // Progress in bytes of the input, drawn by a ticker while the import runs.
    let mut progress = Progress::new(json);
    let ticker = progress.enabled().then(|| {
        let read = read.clone();
        tokio::spawn(async move {
            loop {
                progress.show(
                    "import",
                    read.load(Ordering::Relaxed) >> 20,
                    size.map(|s| s >> 20),
                    "MiB",
                );
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
    });
    let report = import::import(store, &record, Box::new(input), dry_run, |r| {
        eprintln!("line {}: {}", r.line, r.message);
    })
    .await;
    if let Some(ticker) = ticker {
        ticker.abort();
        let _ = ticker.await;
    }
    let report = report?;
    if json {
        let mut json = serde_json::to_value(&report)?;
        if dry_run {
            json["dry_run"] = true.into();
        }
        writeln!(out, "{json}")?;
    } else if dry_run {
        writeln!(
            out,
            "checked: {} valid, {} rejected (nothing stored)",
            report.valid, report.rejected
        )?;
    } else {
        writeln!(
            out,
            "imported: {} accepted, {} duplicates, {} rejected",
            report.accepted, report.duplicates, report.rejected
        )?;
    }
    out.flush()?;
    if report.rejected > 0 {
        let stored = if dry_run {
            "nothing was stored"
        } else {
            "the valid lines were stored; import the corrected input again \
             (stored events count as duplicates)"
        };
        bail!(
            "{} invalid line(s) rejected, each reported with its line number; {stored}",
            report.rejected
        );
    }
    Ok(())
}

/// `touchpoint export`'s arguments beyond the site.
pub(super) struct ExportArgs {
    pub format: ExportFormat,
    pub group_by: Option<String>,
    pub filter: FilterArgs,
    pub bom: bool,
    pub raw: bool,
    pub output: Option<PathBuf>,
}

pub(super) async fn export(
    store: &Store,
    json: bool,
    out: &mut (dyn Write + Send),
    site: &str,
    args: ExportArgs,
) -> anyhow::Result<()> {
    let format = match args.format {
        ExportFormat::Csv => Format::Csv,
        ExportFormat::Ndjson => Format::Ndjson,
        ExportFormat::Xlsx => Format::Xlsx,
    };
    let record = site_record(store, site).await?;
    let group_by = if args.raw {
        if args.group_by.is_some() {
            bail!("--group-by applies to aggregates, not to --raw responses");
        }
        None
    } else {
        Some(parse_group_by(
            args.group_by.as_deref(),
            &record.config.attributes,
        )?)
    };
    let zone = record.config.zone();
    let filter = args.filter.parse(&zone)?;
    let prepared = Export {
        site_id: record.id,
        group_by,
        filter: filter.clone(),
        zone,
        format,
        bom: args.bom,
    }
    .prepare(store)
    .await?;
    let sink: Box<dyn Write + Send + '_> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        // Standard output flushes at every line: in blocks instead, so a
        // million rows are not a million writes.
        None => Box::new(std::io::BufWriter::with_capacity(1 << 16, &mut *out)),
    };
    // Progress only when writing to a file: on stdout the terminal is the output.
    let mut progress = Progress::new(json || args.output.is_none());
    let total = match progress.enabled() && args.raw {
        true => Some(store.count_responses(record.id, &filter).await?),
        false => None,
    };
    let mut w = prepared.start(store, sink)?;
    while w.next_page().await? {
        progress.show("export", w.rows(), total, "rows");
    }
    w.finish()?;
    progress.finish();
    Ok(())
}

/// A reader that counts the bytes read through it (for progress).
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
