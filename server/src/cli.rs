//! The `touchpoint` command line, as the public contract fixes it. Every
//! command takes `--database URL`; `--json` prints one JSON object on stdout.

use crate::auth::{hash_token, new_site_key, new_token};
use crate::export::{self, Format, ResponsePages, TableWriter};
use crate::import;
use crate::site::SiteFile;
use crate::storage::{Role, Store, Tuning};
use crate::{AppState, aggregate};
use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "touchpoint",
    version,
    about = "Micro-feedback at every touchpoint of the customer journey"
)]
pub struct Cli {
    /// Database URL: `sqlite://touchpoint.db` (created if missing) or `postgres://user@host/db`.
    #[arg(
        long,
        global = true,
        env = "TOUCHPOINT_DATABASE",
        default_value = "sqlite://touchpoint.db"
    )]
    pub database: String,
    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, the loader and the widget.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "TOUCHPOINT_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Event posts per minute one client may make to one site (0: no limit).
        #[arg(long, env = "TOUCHPOINT_RATE_PER_CLIENT", default_value_t = 120)]
        rate_per_client: u32,
        /// Event posts per minute to one site from all clients (0: no limit).
        #[arg(long, env = "TOUCHPOINT_RATE_PER_SITE", default_value_t = 12_000)]
        rate_per_site: u32,
        /// Behind a reverse proxy: take the client address from X-Forwarded-For.
        #[arg(long, env = "TOUCHPOINT_TRUST_PROXY")]
        trust_proxy: bool,
    },
    /// Create or update sites from a site file (idempotent).
    Apply {
        /// The site file (TOML).
        file: PathBuf,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Dashboard users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// A visitor's data: export it or delete it.
    Visitor {
        #[command(subcommand)]
        command: VisitorCommand,
    },
    /// Import NDJSON events (one event object per line, as `POST /v1/events` takes
    /// them); invalid lines are skipped and reported, the rest stored.
    ///
    /// Every line is checked by the ingest's own rules and stored in large
    /// transactions. Idempotent by event id: an id already stored (or repeated in
    /// the input) counts as a duplicate and is not stored twice. An invalid line is
    /// reported with its number and what is wrong (on stderr, and in `--json` under
    /// `errors`, the first 100); the valid lines are stored and the command exits
    /// with status 1. Fix those lines and import the same input again: what is
    /// stored already counts as duplicates. For all or nothing, run with
    /// `--dry-run` first. `--json` prints
    /// `{"accepted":…,"duplicates":…,"rejected":…,"valid":…,"errors":[{"line":…,"message":…}]}`.
    Import {
        /// Site key.
        #[arg(long)]
        site: String,
        /// The NDJSON file, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// Check every line and store nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export aggregates (or, with --raw, responses) to stdout or a file.
    Export {
        /// Site key.
        #[arg(long)]
        site: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Group by any of page, stage, touchpoint, day, device, locale (comma-separated).
        #[arg(long)]
        group_by: Option<String>,
        #[command(flatten)]
        filter: aggregate::FilterArgs,
        /// Start a CSV with a UTF-8 byte-order mark, for Excel.
        #[arg(long)]
        bom: bool,
        /// One row per response instead of aggregates.
        #[arg(long)]
        raw: bool,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is shown once and stored only as a hash.
    Add {
        /// Site key.
        #[arg(long)]
        site: String,
        #[arg(long, value_enum, default_value = "viewer")]
        role: RoleArg,
    },
    /// List a site's tokens (ids and roles; values are never stored).
    List {
        /// Site key.
        #[arg(long)]
        site: String,
    },
    /// Revoke a token, given its value or its id from `token list`.
    Revoke {
        /// The token, or its numeric id.
        token: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (or update its password) and grant it a role on a site.
    Add {
        /// E-mail address used to sign in.
        #[arg(long)]
        email: String,
        /// Site key.
        #[arg(long)]
        site: String,
        #[arg(long, value_enum, default_value = "viewer")]
        role: RoleArg,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The password, from the environment (never type it on a command line).
        #[arg(long, env = "TOUCHPOINT_PASSWORD", hide = true, hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum VisitorCommand {
    /// Print everything stored about a visitor, one JSON object per line.
    Export {
        /// Site key.
        #[arg(long)]
        site: String,
        /// The visitor's anonymous id (the widget keeps it in localStorage `touchpoint:visitor`).
        #[arg(long)]
        visitor: String,
    },
    /// Delete everything stored about a visitor.
    Delete {
        /// Site key.
        #[arg(long)]
        site: String,
        /// The visitor's anonymous id.
        #[arg(long)]
        visitor: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Viewer,
    Editor,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Editor => Role::Editor,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Ndjson,
    Xlsx,
}

/// Runs one command, writing its output to `out`.
pub async fn run(cli: Cli, out: &mut (dyn Write + Send)) -> anyhow::Result<()> {
    let tuning = match cli.command {
        Command::Import { .. } => Tuning::BULK,
        _ => Tuning::default(),
    };
    let store = Store::open_tuned(&cli.database, tuning)
        .await
        .with_context(|| format!("opening {}", cli.database))?;
    match cli.command {
        Command::Serve {
            addr,
            rate_per_client,
            rate_per_site,
            trust_proxy,
        } => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, database = %cli.database, "serving");
            if cli.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "addr": format!("http://{addr}") })
                )?;
            } else {
                writeln!(out, "Touchpoint listening on http://{addr}")?;
            }
            out.flush()?;
            let settings = crate::Settings {
                rate_limits: crate::limits::RateLimits {
                    per_client: rate_per_client,
                    per_site: rate_per_site,
                },
                trust_proxy,
            };
            crate::spawn_retention(store.clone());
            crate::serve(
                listener,
                AppState::with_settings(store.clone(), settings),
                shutdown_signal(),
            )
            .await?;
        }
        Command::Apply { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let site =
                SiteFile::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let (key, changed) = store.apply_site(&site, new_site_key).await?;
            if cli.json {
                let sites = serde_json::json!({ "sites": [{ "name": site.site.name, "key": key, "changed": changed }] });
                writeln!(out, "{sites}")?;
            } else {
                let what = if changed { "applied" } else { "unchanged" };
                writeln!(out, "{what}: {} (key {key})", site.site.name)?;
            }
        }
        Command::Token {
            command: TokenCommand::Add { site, role },
        } => {
            let record = store
                .site_by_key(&site)
                .await?
                .with_context(|| format!("no site has the key {site:?}"))?;
            let role = match role {
                RoleArg::Viewer => Role::Viewer,
                RoleArg::Editor => Role::Editor,
                RoleArg::Admin => Role::Admin,
            };
            let token = new_token();
            store
                .add_token(record.id, role, &hash_token(&token))
                .await?;
            if cli.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "token": token, "site": site, "role": role.as_str() })
                )?;
            } else {
                writeln!(
                    out,
                    "{token}\n(shown once: store it now; it grants {} on {site})",
                    role.as_str()
                )?;
            }
        }
        Command::Token {
            command: TokenCommand::List { site },
        } => {
            let record = site_record(&store, &site).await?;
            let tokens = store.tokens(record.id).await?;
            if cli.json {
                let list: Vec<_> = tokens
                    .iter()
                    .map(|(id, role, created, revoked)| {
                        serde_json::json!({ "id": id, "role": role, "created_at": created, "revoked_at": revoked })
                    })
                    .collect();
                writeln!(out, "{}", serde_json::json!({ "tokens": list }))?;
            } else {
                for (id, role, created, revoked) in tokens {
                    let state =
                        revoked.map_or_else(|| "live".to_owned(), |r| format!("revoked {r}"));
                    writeln!(out, "{id}\t{role}\tcreated {created}\t{state}")?;
                }
            }
        }
        Command::Token {
            command: TokenCommand::Revoke { token },
        } => {
            let revoked = match token.parse::<i64>() {
                Ok(id) => store.revoke_token(Some(id), None).await?,
                Err(_) => {
                    store
                        .revoke_token(None, Some(&hash_token(token.trim())))
                        .await?
                }
            };
            if !revoked {
                bail!("no live token matches {token:?}");
            }
            if cli.json {
                writeln!(out, "{}", serde_json::json!({ "revoked": true }))?;
            } else {
                writeln!(out, "revoked")?;
            }
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    site,
                    role,
                    password_stdin,
                    password,
                },
        } => {
            let record = site_record(&store, &site).await?;
            let email = email.trim().to_lowercase();
            if !(email.contains('@') && email.len() <= 254) {
                bail!("--email: {email:?} is not an e-mail address");
            }
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                password
            };
            if let Some(p) = &password
                && p.chars().count() < 10
            {
                bail!("the password must have at least 10 characters");
            }
            let hash = password.as_deref().map(crate::auth::hash_password);
            store
                .upsert_user(&email, hash.as_deref(), record.id, role.into())
                .await?;
            if cli.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "email": email, "site": site, "role": Role::from(role).as_str() })
                )?;
            } else {
                writeln!(
                    out,
                    "{email} may now sign in with the {} role on {site}",
                    Role::from(role).as_str()
                )?;
            }
        }
        Command::Visitor {
            command: VisitorCommand::Export { site, visitor },
        } => {
            let record = site_record(&store, &site).await?;
            for event in store.visitor_events(record.id, &visitor).await? {
                writeln!(out, "{event}")?;
            }
        }
        Command::Visitor {
            command: VisitorCommand::Delete { site, visitor },
        } => {
            let record = site_record(&store, &site).await?;
            let deleted = store.delete_visitor(record.id, &visitor).await?;
            if cli.json {
                writeln!(out, "{}", serde_json::json!({ "deleted": deleted }))?;
            } else {
                writeln!(out, "deleted {deleted} events of visitor {visitor}")?;
            }
        }
        Command::Import {
            site,
            file,
            dry_run,
        } => {
            let record = site_record(&store, &site).await?;
            let stdin = file.as_os_str() == "-";
            let input: Box<dyn std::io::BufRead + Send> = if stdin {
                Box::new(std::io::BufReader::with_capacity(1 << 16, std::io::stdin()))
            } else {
                Box::new(std::io::BufReader::with_capacity(
                    1 << 16,
                    std::fs::File::open(&file)
                        .with_context(|| format!("opening {}", file.display()))?,
                ))
            };
            let report = import::import(&store, &record, input, dry_run, |r| {
                eprintln!("line {}: {}", r.line, r.message);
            })
            .await?;
            if cli.json {
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
            store.close().await;
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
            return Ok(());
        }
        Command::Export {
            site,
            format,
            group_by,
            filter,
            bom,
            raw,
            output,
        } => {
            let format = match format {
                ExportFormat::Csv => Format::Csv,
                ExportFormat::Ndjson => Format::Ndjson,
                ExportFormat::Xlsx => Format::Xlsx,
            };
            let record = site_record(&store, &site).await?;
            let filter = filter.parse()?;
            let sink: Box<dyn Write + Send + '_> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?,
                )),
                None => Box::new(&mut *out),
            };
            if raw {
                if group_by.is_some() {
                    bail!("--group-by applies to aggregates, not to --raw responses");
                }
                let mut w = TableWriter::new(format, sink, export::response_columns(), bom)?;
                let mut pages = ResponsePages::new(&store, record.id, filter);
                while let Some(page) = pages.next().await? {
                    for r in &page {
                        export::write_response(&mut w, r)?;
                    }
                }
                w.finish()?;
            } else {
                let group_by = aggregate::parse_group_by(group_by.as_deref())?;
                let rows = aggregate::aggregate(&store, record.id, &group_by, &filter).await?;
                let mut w =
                    TableWriter::new(format, sink, export::aggregate_columns(&group_by), bom)?;
                export::write_aggregates(&mut w, &group_by, &rows)?;
                w.finish()?;
            }
        }
    }
    store.close().await;
    Ok(())
}

async fn site_record(store: &Store, key: &str) -> anyhow::Result<crate::storage::SiteRecord> {
    store
        .site_by_key(key)
        .await?
        .with_context(|| format!("no site has the key {key:?}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
