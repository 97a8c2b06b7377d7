//! The server's integration tests, one binary (one PostgreSQL cluster):
//!
//! - `alerts`: alerts and digests posted to a receiver started here; retries, a crash, two workers
//! - `abuse`: a stranger with a loop against a real socket, in bounded form
//! - `api`: the HTTP API through `app()`: ingest, config, aggregates, exports, auth
//! - `cli`: the `touchpoint` command line through `cli::run`
//! - `import`: `touchpoint import` (NDJSON events) against the same events ingested over HTTP
//! - `security`: each defence tried as an attacker would, through `app()`
//! - `migrate`: `touchpoint migrate` from SQLite into PostgreSQL, resumed and verified
//! - `logs`: what `touchpoint serve` logs through a whole day holds nothing secret
//! - `rollups`: kept rollups equal rebuilt ones through random histories; the migration; `rollup rebuild`
//! - `read`: the journey map, trends and aggregates against a recomputation from raw events
//! - `insights`: priorities and drivers against synthetic answers with a known outcome
//! - `setup`: sites created by accounts (and their cap), drafts and publishing
//! - `shutdown`: `touchpoint serve` as a process, stopped mid-ingest
//!
//! Every test runs on SQLite and on PostgreSQL: `both!` makes a
//! `sqlite::name` and a `postgres::name` test of each `async fn name(db: Db)`.
//! PostgreSQL tests start a throw-away cluster; where its binaries are missing
//! they are skipped, except in CI and under `cargo xtask test`, where they fail.

mod abuse;
mod alerts;
mod api;
mod cli;
mod comments;
mod frustration;
mod import;
mod insights;
mod logs;
mod migrate;
mod outcomes;
mod read;
mod rollups;
mod security;
mod setup;
mod shutdown;
mod support;
