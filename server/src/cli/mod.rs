//! The `touchpoint` command line, as the public contract fixes it. Every
//! command takes `--database URL`; `--json` prints one JSON object on stdout.
//! The arguments are here (`serve`'s with the server's start, in
//! [`serve`]); the commands are in [`accounts`] (tokens, users), [`data`]
//! (sites, imports, exports, visitors), [`rollup`], [`alert`] and
//! [`migrate`]; [`progress`] draws long commands' progress on a terminal.

mod accounts;
mod alert;
mod data;
mod migrate;
mod progress;
mod rollup;
mod serve;

pub use serve::ServeArgs;

use crate::filters::FilterArgs;
use crate::store::{Site, Store, Tuning};
use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
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
    Serve(ServeArgs),
    /// Create or update sites from a site file (idempotent).
    Apply {
        /// The site file (TOML).
        file: PathBuf,
        /// Allow alert destinations on loopback, private or link-local
        /// addresses (refused otherwise).
        #[arg(long, env = "TOUCHPOINT_ALERTS_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new())]
        alerts_allow_private: bool,
    },
    /// Alert destinations.
    Alert {
        #[command(subcommand)]
        command: AlertCommand,
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
    /// Copy everything (sites, users, tokens, sessions, events, alerts) from this
    /// SQLite database into a PostgreSQL one, then rebuild its rollups and check
    /// the row counts. Resumable after an interruption: run it again and it goes
    /// on where it stopped; once done, running it again copies nothing. The
    /// target must be empty (or a target this copy started). Stop writing to the
    /// SQLite database before the last run. `--json` prints
    /// `{"tables":[{"table":…,"source":…,"target":…,"copied_now":…}]}`.
    Migrate {
        /// The PostgreSQL database to copy into (`postgres://user@host/db`).
        #[arg(long, env = "TOUCHPOINT_MIGRATE_TO", hide_env_values = true)]
        to: String,
    },
    /// The rollups reports are read from.
    Rollup {
        #[command(subcommand)]
        command: RollupCommand,
    },
    /// Export aggregates (or, with --raw, responses) to stdout or a file.
    Export {
        /// Site key.
        #[arg(long)]
        site: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Group by any of page, stage, touchpoint, day, week, device, locale (comma-separated;
        /// page does not combine with device or locale). Days are the site's.
        #[arg(long)]
        group_by: Option<String>,
        #[command(flatten)]
        filter: FilterArgs,
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
    /// Create a user (or update its password, which ends their sessions) and
    /// grant it a role on a site.
    Add {
        /// E-mail address used to sign in.
        #[arg(long)]
        email: String,
        /// Site key.
        #[arg(long)]
        site: String,
        #[arg(long, value_enum, default_value = "viewer")]
        role: RoleArg,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Change a user's password; every session they had ends.
    Passwd {
        /// E-mail address used to sign in.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Remove a user (and their sessions), or with --site only their role there.
    Remove {
        /// E-mail address used to sign in.
        #[arg(long)]
        email: String,
        /// Only take away the role on this site.
        #[arg(long)]
        site: Option<String>,
    },
    /// List users and their roles (with --site, those of one site).
    List {
        /// Site key.
        #[arg(long)]
        site: Option<String>,
    },
}

/// Where a password comes from: never the command line.
#[derive(Debug, clap::Args)]
pub struct PasswordArgs {
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// The password, from the environment (never type it on a command line).
    #[arg(long, env = "TOUCHPOINT_PASSWORD", hide = true, hide_env_values = true)]
    pub password: Option<String>,
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

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Send a sample message to each of a site's alert destinations, signed
    /// like the real ones, and print what each answered (exit status 1 if
    /// one did not answer 2xx). Each is written to the delivery log.
    Test {
        /// Site key.
        #[arg(long)]
        site: String,
        /// The dashboard's public address, for the sample's link.
        #[arg(long, env = "TOUCHPOINT_PUBLIC_URL")]
        public_url: Option<String>,
        /// Allow destinations on loopback, private or link-local addresses.
        #[arg(long, env = "TOUCHPOINT_ALERTS_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new())]
        alerts_allow_private: bool,
        /// Seconds to wait for each answer.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum RollupCommand {
    /// Recreate the rollups from the raw events, of one site or of all.
    ///
    /// Rollups are kept up to date with every write; a rebuild is for a
    /// restored or hand-edited database. Each site is rebuilt in one
    /// transaction, during which its writes wait (on SQLite, every write):
    /// run it at a quiet hour on a large site.
    Rebuild {
        /// Site key; every site when absent.
        #[arg(long)]
        site: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Viewer,
    Editor,
    Admin,
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
        .with_context(|| format!("opening the {}", describe_database(&cli.database)))?;
    let json = cli.json;
    let result = match cli.command {
        Command::Serve(args) => serve::run(&store, json, out, &args).await,
        Command::Apply {
            file,
            alerts_allow_private,
        } => data::apply(&store, json, out, &file, alerts_allow_private).await,
        Command::Alert { command } => alert::alert(&store, json, out, command).await,
        Command::Token { command } => accounts::token(&store, json, out, command).await,
        Command::User { command } => accounts::user(&store, json, out, command).await,
        Command::Visitor { command } => data::visitor(&store, json, out, command).await,
        Command::Rollup { command } => rollup::run(&store, json, out, command).await,
        Command::Migrate { to } => migrate::run(&store, json, out, &to).await,
        Command::Import {
            site,
            file,
            dry_run,
        } => data::import(&store, json, out, &site, &file, dry_run).await,
        Command::Export {
            site,
            format,
            group_by,
            filter,
            bom,
            raw,
            output,
        } => {
            let args = data::ExportArgs {
                format,
                group_by,
                filter,
                bom,
                raw,
                output,
            };
            data::export(&store, json, out, &site, args).await
        }
    };
    store.close().await;
    result
}

/// What kind of database a URL names, for messages: never the URL itself,
/// which can hold a password.
fn describe_database(url: &str) -> &'static str {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        "PostgreSQL database"
    } else {
        "SQLite database"
    }
}

/// The site with this key, or an error saying there is none.
async fn site_record(store: &Store, key: &str) -> anyhow::Result<Site> {
    store
        .site_by_key(key)
        .await?
        .with_context(|| format!("no site has the key {key:?}"))
}
