//! Group commit: concurrent ingest requests hand their validated events to
//! one writer task, which stores whatever has queued up in one transaction
//! and then answers each request. Every request still gets its 202 only
//! after its events are committed; the database does one durable commit
//! (one fsync) for many requests instead of one each.

use crate::error::{Error, Result};
use crate::store::{Store, StoredEvent};
use tokio::sync::{mpsc, oneshot};

/// Most requests folded into one transaction.
const MAX_GROUP: usize = 256;

struct Job {
    site_id: i64,
    events: Vec<StoredEvent>,
    done: oneshot::Sender<Result<(u64, u64)>>,
}

/// Handle to the writer task; cheap to clone.
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
    /// Starts the writer task on the current tokio runtime. It ends when the
    /// last handle is dropped, after finishing what was queued.
    pub fn spawn(store: Store) -> Committer {
        let (jobs, mut queue) = mpsc::channel::<Job>(4096);
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match queue.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                let batches: Vec<(i64, &[StoredEvent])> = group
                    .iter()
                    .map(|j| (j.site_id, j.events.as_slice()))
                    .collect();
                match store.insert_batches(&batches).await {
                    Ok(counts) => {
                        for (job, count) in group.into_iter().zip(counts) {
                            let _ = job.done.send(Ok(count));
                        }
                    }
                    Err(err) => {
                        tracing::error!(error = %err, requests = group.len(), "group commit failed");
                        for job in group {
                            let _ = job.done.send(Err(Error::Internal(
                                "the events could not be stored".into(),
                            )));
                        }
                    }
                }
            }
        });
        Committer { jobs }
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
            .map_err(|_| Error::Internal("the writer task has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Internal("the writer task dropped a batch".into()))?
    }
}
