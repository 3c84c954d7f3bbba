//! The caller's side of a bulk snapshot writer ([`crate::bulk_write`]'s thread or
//! [`crate::pg_copy`]'s task): rows go over a bounded channel, the commit is a message answered
//! once written, and dropping the handle without a commit rolls the snapshot back.

use crate::StoreError;
use crate::origin::Origin;
use crate::records::{Finding, SnapshotCounts, SnapshotSummary};
use crate::snapshot::YearRow;
use tokio::sync::{mpsc, oneshot};

/// Batches buffered between the decoder and the writer.
pub(crate) const AHEAD: usize = 4;

/// What the commit needs besides the rows.
pub(crate) struct Finish {
    pub origin: Option<Origin>,
    pub summary: SnapshotSummary,
    pub counts: SnapshotCounts,
    pub reply: oneshot::Sender<Result<(), StoreError>>,
}

pub(crate) enum Msg {
    /// Rows and the findings made so far.
    Rows(Vec<YearRow>, Vec<Finding>),
    Commit(Box<Finish>),
}

/// Where a writer hands back the batches it has written, so their strings are freed on the
/// thread that allocated them (the caller's, which has time to spare) rather than on the
/// writer's, which is the slower end of the pipe.
pub(crate) type Spent = std::sync::mpsc::Sender<Vec<YearRow>>;

/// A writer's [`Spent`] end and the handle's.
pub(crate) fn spent_channel() -> (Spent, std::sync::mpsc::Receiver<Vec<YearRow>>) {
    std::sync::mpsc::channel()
}

/// Where the writer runs.
pub(crate) enum Worker {
    Thread(std::thread::JoinHandle<Result<(), StoreError>>),
    Task(tokio::task::JoinHandle<Result<(), StoreError>>),
}

fn stopped(what: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(format!("the snapshot writer {what}")))
}

/// A running bulk writer. Dropped without [`Self::commit`]: rolled back.
pub(crate) struct BulkHandle {
    tx: Option<mpsc::Sender<Msg>>,
    worker: Option<Worker>,
    /// Batches the writer is done with (dropped here; see [`Spent`]).
    spent: std::sync::mpsc::Receiver<Vec<YearRow>>,
}

impl BulkHandle {
    /// The handle of a writer that signals `ready` once its transaction is open (or ends
    /// without, with its error).
    pub(crate) async fn started(
        tx: mpsc::Sender<Msg>,
        worker: Worker,
        ready: oneshot::Receiver<()>,
        spent: std::sync::mpsc::Receiver<Vec<YearRow>>,
    ) -> Result<BulkHandle, StoreError> {
        let mut h = BulkHandle {
            tx: Some(tx),
            worker: Some(worker),
            spent,
        };
        match ready.await {
            Ok(()) => Ok(h),
            Err(_) => Err(h.join().await.err().unwrap_or_else(|| stopped("stopped"))),
        }
    }

    /// The writer's result, once it has ended (the channel is closed first, so it ends).
    async fn join(&mut self) -> Result<(), StoreError> {
        self.tx = None;
        match self.worker.take() {
            None => Ok(()),
            Some(Worker::Thread(t)) => match tokio::task::spawn_blocking(move || t.join()).await {
                Ok(Ok(r)) => r,
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                Err(e) => Err(stopped(&format!("could not be waited for: {e}"))),
            },
            Some(Worker::Task(t)) => match t.await {
                Ok(r) => r,
                Err(e) => match e.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    Err(_) => Err(stopped("was cancelled")),
                },
            },
        }
    }

    /// Hands rows (and findings) to the writer; the writer's error if it has failed.
    pub(crate) async fn send(
        &mut self,
        rows: Vec<YearRow>,
        findings: Vec<Finding>,
    ) -> Result<(), StoreError> {
        // At most the batches in flight wait here: each send frees what came back.
        while let Ok(done) = self.spent.try_recv() {
            drop(done);
        }
        let sent = match &self.tx {
            Some(tx) => tx.send(Msg::Rows(rows, findings)).await.is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            Err(self
                .join()
                .await
                .err()
                .unwrap_or_else(|| stopped("stopped")))
        }
    }

    /// Claims the origin, completes the run row and commits (rows and findings are sent
    /// before, with [`Self::send`]).
    pub(crate) async fn commit(
        mut self,
        origin: Option<Origin>,
        summary: &SnapshotSummary,
        counts: SnapshotCounts,
    ) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let finish = Box::new(Finish {
            origin,
            summary: summary.clone(),
            counts,
            reply,
        });
        let sent = match &self.tx {
            Some(tx) => tx.send(Msg::Commit(finish)).await.is_ok(),
            None => false,
        };
        let answered = if sent { answer.await.ok() } else { None };
        let joined = self.join().await;
        match answered {
            Some(r) => r.and(joined),
            None => joined.and(Err(stopped("stopped before its commit"))),
        }
    }

    /// Abandons the snapshot (the transaction is rolled back).
    pub(crate) async fn rollback(mut self) -> Result<(), StoreError> {
        // A failed batch does not matter: all of it is rolled back.
        let _ = self.join().await;
        Ok(())
    }
}

impl Drop for BulkHandle {
    fn drop(&mut self) {
        // Closing the channel makes the writer roll back and end; it is not waited for here.
        self.tx = None;
    }
}
