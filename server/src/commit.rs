//! Group commit: concurrent ingest requests hand their validated events to
//! one writer, which stores whatever has queued up in one transaction
//! and then answers each request. Every request still gets its 202 only
//! after its events are committed; the database does one durable commit
//! (one fsync) for many requests instead of one each.
//!
//! One request cannot fail another's: if a group's transaction fails, each
//! of its requests is stored again on its own, and only the one at fault
//! gets the error.

use crate::error::{Error, Result};
use crate::store::{PgWriter, Store, StoredEvent, Writer, run_now};
use tokio::sync::{mpsc, oneshot};

/// Most requests folded into one transaction.
const MAX_GROUP: usize = 256;

struct Job {
    site_id: i64,
    events: Vec<StoredEvent>,
    done: oneshot::Sender<Result<(u64, u64)>>,
}

/// Where groups are written.
enum Sink<'a> {
    /// The store's pool (PostgreSQL, or SQLite in memory).
    Pool(&'a Store),
    /// The SQLite file's own writer connection, on the writer's thread.
    Writer(&'a mut Writer),
    /// PostgreSQL's own writer connection, on the writer's thread.
    Pg(&'a mut PgWriter),
}

impl Sink<'_> {
    async fn insert(&mut self, batches: &[(i64, &[StoredEvent])]) -> Result<Vec<(u64, u64)>> {
        match self {
            Sink::Pool(store) => store.insert_batches(batches).await,
            Sink::Writer(writer) => writer.insert_batches(batches),
            Sink::Pg(writer) => writer.insert_batches(batches).await,
        }
    }
}

/// Stores a group in one transaction and answers each job; if that fails,
/// stores each job alone, so only a job at fault gets an error.
async fn commit_group(sink: &mut Sink<'_>, group: Vec<Job>) {
    let batches: Vec<(i64, &[StoredEvent])> = group
        .iter()
        .map(|j| (j.site_id, j.events.as_slice()))
        .collect();
    match sink.insert(&batches).await {
        Ok(counts) => {
            for (job, count) in group.into_iter().zip(counts) {
                let _ = job.done.send(Ok(count));
            }
        }
        Err(err) if group.len() > 1 && !unreachable(&err) => {
            tracing::warn!(error = %err, requests = group.len(), "group commit failed; storing each request alone");
            let mut jobs = group.into_iter();
            while let Some(job) = jobs.next() {
                let result = sink
                    .insert(&[(job.site_id, job.events.as_slice())])
                    .await
                    .map(|counts| counts[0]);
                if let Err(err) = &result
                    && unreachable(err)
                {
                    // The database went away meanwhile: the others are
                    // answered at once, not after an attempt each.
                    for job in std::iter::once(job).chain(jobs.by_ref()) {
                        let _ = job.done.send(Err(unavailable()));
                    }
                    break;
                }
                let _ = job.done.send(result.map_err(|err| {
                    tracing::error!(error = %err, "a request's events could not be stored");
                    Error::Internal("the events could not be stored".into())
                }));
            }
        }
        Err(err) if unreachable(&err) => {
            tracing::error!(error = %err, requests = group.len(), "the database cannot be reached; the group is refused");
            for job in group {
                let _ = job.done.send(Err(unavailable()));
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "a request's events could not be stored");
            for job in group {
                let _ = job.done.send(Err(Error::Internal(
                    "the events could not be stored".into(),
                )));
            }
        }
    }
}

/// Whether an error says the database could not be reached, which no
/// request's events caused and storing them one by one cannot get round.
fn unreachable(err: &Error) -> bool {
    matches!(err, Error::Unavailable(_))
}

/// What a request is answered while the database cannot be reached: a
/// 503, which the widget retries later (its events keep their ids).
fn unavailable() -> Error {
    Error::Unavailable("the database cannot be reached right now; retry later".into())
}

/// A group: `first` and whatever else has queued up, at most [`MAX_GROUP`].
fn fill(first: Job, queue: &mut mpsc::Receiver<Job>) -> Vec<Job> {
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
    group
}

/// Handle to the writer; cheap to clone.
#[derive(Clone, Debug)]
pub struct Committer {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("site_id", &self.site_id)
            .field("events", &self.events.len())
            .finish()
    }
}

impl Committer {
    /// Starts the writer: on a SQLite file, a thread with a connection of
    /// its own ([`Store::writer`]); on PostgreSQL, a thread running a
    /// single-threaded runtime with a connection of its own
    /// ([`Store::pg_writer`]); for SQLite in memory, a task on the current
    /// tokio runtime over the pool. It ends when the last handle is dropped,
    /// after finishing what was queued.
    pub fn spawn(store: Store) -> Committer {
        let (jobs, mut queue) = mpsc::channel::<Job>(4096);
        let writer = store.writer().unwrap_or_else(|err| {
            tracing::warn!(error = %err, "no writer connection; the ingest writes through the pool");
            None
        });
        match (writer, store.pg_writer()) {
            (Some(mut writer), _) => {
                std::thread::Builder::new()
                    .name("touchpoint-writer".into())
                    .spawn(move || {
                        while let Some(first) = queue.blocking_recv() {
                            let group = fill(first, &mut queue);
                            run_now(commit_group(&mut Sink::Writer(&mut writer), group));
                        }
                    })
                    .expect("the operating system starts a thread");
            }
            (None, Some(mut writer)) => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the writer thread");
                std::thread::Builder::new()
                    .name("touchpoint-writer".into())
                    .spawn(move || {
                        runtime.block_on(async {
                            while let Some(first) = queue.recv().await {
                                let group = fill(first, &mut queue);
                                commit_group(&mut Sink::Pg(&mut writer), group).await;
                            }
                        })
                    })
                    .expect("the operating system starts a thread");
            }
            (None, None) => {
                tokio::spawn(async move {
                    while let Some(first) = queue.recv().await {
                        let group = fill(first, &mut queue);
                        commit_group(&mut Sink::Pool(&store), group).await;
                    }
                });
            }
        }
        Committer { jobs }
    }

    /// Stores several requests' events as one group, as the writer does
    /// with what has queued up; returns each request's answer in order.
    pub async fn commit_together(
        store: &Store,
        requests: Vec<(i64, Vec<StoredEvent>)>,
    ) -> Vec<Result<(u64, u64)>> {
        let mut answers = Vec::new();
        let group = requests
            .into_iter()
            .map(|(site_id, events)| {
                let (done, answer) = oneshot::channel();
                answers.push(answer);
                Job {
                    site_id,
                    events,
                    done,
                }
            })
            .collect();
        commit_group(&mut Sink::Pool(store), group).await;
        let mut out = Vec::new();
        for answer in answers {
            out.push(
                answer
                    .await
                    .unwrap_or_else(|_| Err(Error::Internal("no answer".into()))),
            );
        }
        out
    }

    /// Stores `events` and returns `(accepted, duplicates)` once committed.
    pub async fn commit(&self, site_id: i64, events: Vec<StoredEvent>) -> Result<(u64, u64)> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                site_id,
                events,
                done,
            })
            .await
            .map_err(|_| Error::Internal("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Internal("the writer dropped a batch".into()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn event(id: &str) -> StoredEvent {
        StoredEvent {
            id: id.into(),
            kind: "impression",
            touchpoint: Some("nps".into()),
            page: "/".into(),
            stage: String::new(),
            metric: None,
            score: None,
            comment: None,
            flags: None,
            choices: None,
            visitor: None,
            session: None,
            ts: "2026-01-01T00:00:00.000Z".into(),
            locale: None,
            device: None,
            attributes: None,
            signal: None,
            outcome: None,
            gpc: None,
            consent: None,
        }
    }

    /// With PostgreSQL silent, a group's requests are answered 503 after
    /// one connection attempt, not one attempt each; and groups right
    /// after it are answered without another.
    #[tokio::test]
    async fn an_unreachable_database_refuses_a_group_after_one_attempt() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let attempts = Arc::new(AtomicUsize::new(0));
        let counted = attempts.clone();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                counted.fetch_add(1, Ordering::SeqCst);
                held.push(socket);
            }
        });
        sqlx::any::install_default_drivers();
        let url = format!("postgres://touchpoint@127.0.0.1:{port}/touchpoint");
        let mut writer = PgWriter::with_connect_limit(&url, Duration::from_millis(200));
        for round in 0..2 {
            let mut answers = Vec::new();
            let group = (0..3)
                .map(|i| {
                    let (done, answer) = oneshot::channel();
                    answers.push(answer);
                    Job {
                        site_id: 1,
                        events: vec![event(&format!("e{round}{i}"))],
                        done,
                    }
                })
                .collect();
            commit_group(&mut Sink::Pg(&mut writer), group).await;
            for answer in answers {
                let err = answer.await.unwrap().unwrap_err();
                assert_eq!(err.code(), "unavailable", "{err}");
            }
            assert_eq!(attempts.load(Ordering::SeqCst), 1, "round {round}");
        }
        silent.abort();
    }
}
