//! SQLite bulk snapshot writes: the year's new snapshot written by a thread of its own, through
//! rusqlite on its own connection to the store file, in one transaction, with prepared
//! single-row statements (no statement journal: each writes one row) straight into the real
//! tables. The caller decodes and encrypts rows ([`crate::snapshot::YearRow`]) and sends them
//! in batches over a bounded channel, so decoding and writing run on two cores.
//!
//! The transaction is the same as the portable writer's ([`crate::snapshot`]): the year's rows
//! and findings deleted, the rows written, the origin claimed, the findings written, the run
//! completed, then one COMMIT; dropping the writer (or an error anywhere) rolls all of it back.
//! The stored values are [`crate::snapshot::YearRow`]'s, the ones the portable writer binds.

use crate::bulk_handle::{AHEAD, BulkHandle, Finish, Msg, Worker};
use crate::origin::Origin;
use crate::records::{SnapshotCounts, SnapshotSummary};
use crate::snapshot::{BAL_COLS, FINDING_COLS, RUN_COMPLETED_SQL, UPSERT_TAIL};
use crate::{StoreError, now};
use rusqlite::params;
use std::path::PathBuf;
use tokio::sync::{mpsc, oneshot};

/// SQLite page cache (KiB) of the writing connection: the indexes keyed by random tokens stay
/// in memory.
const CACHE_KIB: i64 = 64 * 1024;

pub(crate) fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}

/// Starts the writer thread: it opens the connection, begins the transaction and deletes the
/// year's rows and findings; returns once that is done (or failed).
pub(crate) async fn start(
    path: PathBuf,
    tax_year: i32,
    run_id: i64,
) -> Result<BulkHandle, StoreError> {
    let (tx, rx) = mpsc::channel::<Msg>(AHEAD);
    let (ready_tx, ready_rx) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("masspay-tax-write".into())
        .spawn(move || write(&path, tax_year, run_id, rx, ready_tx))
        .map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
    BulkHandle::started(tx, Worker::Thread(thread), ready_rx).await
}

fn write(
    path: &std::path::Path,
    tax_year: i32,
    run_id: i64,
    mut rx: mpsc::Receiver<Msg>,
    ready: oneshot::Sender<()>,
) -> Result<(), StoreError> {
    let mut conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_error)?;
    conn.busy_timeout(crate::open::SQLITE_BUSY_TIMEOUT)
        .map_err(sqlite_error)?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{CACHE_KIB};"
    ))
    .map_err(sqlite_error)?;
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sqlite_error)?;
    let year = i64::from(tax_year);
    // In storage order (a table scan), not through the year's index: each page is visited
    // once instead of at random.
    tx.execute(
        "DELETE FROM annual_balances NOT INDEXED WHERE tax_year = ?1",
        [year],
    )
    .map_err(sqlite_error)?;
    tx.execute("DELETE FROM findings WHERE tax_year = ?1", [year])
        .map_err(sqlite_error)?;
    let placeholders: Vec<String> = (1..=BAL_COLS.split(',').count())
        .map(|i| format!("?{i}"))
        .collect();
    let mut bal = tx
        .prepare(&format!(
            "INSERT INTO annual_balances ({BAL_COLS}) VALUES ({})",
            placeholders.join(",")
        ))
        .map_err(sqlite_error)?;
    let mut payee = tx
        .prepare(&format!(
            "INSERT INTO payees (user_token, email, updated_run_id) VALUES (?1, ?2, ?3){UPSERT_TAIL}"
        ))
        .map_err(sqlite_error)?;
    let mut finding = tx
        .prepare(&format!(
            "{FINDING_COLS} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ))
        .map_err(sqlite_error)?;
    if ready.send(()).is_err() {
        return Ok(()); // nobody waits: roll back
    }
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Rows(rows, findings) => {
                for x in findings {
                    finding
                        .execute(params![
                            run_id,
                            year,
                            x.user_token,
                            x.row_index,
                            x.code,
                            x.severity,
                            x.message
                        ])
                        .map_err(sqlite_error)?;
                }
                for r in rows {
                    payee
                        .execute(params![r.user_token, r.email, run_id])
                        .map_err(sqlite_error)?;
                    bal.execute(params![
                        year,
                        r.user_token,
                        r.balance,
                        r.amount,
                        r.amount_cents,
                        r.form,
                        r.business,
                        r.residency,
                        run_id,
                        r.first_name,
                        r.middle_name,
                        r.last_name,
                        r.business_name,
                        r.email,
                        r.mobile_number,
                        r.address1,
                        r.address2,
                        r.city,
                        r.state_province,
                        r.postal_code,
                        r.postal_code_repaired,
                        r.country,
                        r.date_of_birth_enc,
                        r.tin_enc,
                        r.tin_hash,
                        r.tin_last4,
                    ])
                    .map_err(sqlite_error)?;
                }
            }
            Msg::Commit(f) => {
                drop((bal, payee, finding));
                let Finish {
                    origin,
                    summary,
                    counts,
                    reply,
                } = *f;
                let result = finish(tx, run_id, origin, &summary, &counts);
                let _ = reply.send(result);
                return Ok(());
            }
        }
    }
    // The sender is gone without a commit: the transaction rolls back when dropped.
    Ok(())
}

fn finish(
    tx: rusqlite::Transaction<'_>,
    run_id: i64,
    origin: Option<Origin>,
    summary: &SnapshotSummary,
    counts: &SnapshotCounts,
) -> Result<(), StoreError> {
    if let Some(origin) = origin {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('origin', ?1) ON CONFLICT (key) DO NOTHING",
            [origin.to_meta()],
        )
        .map_err(sqlite_error)?;
        let stored: String = tx
            .query_row("SELECT value FROM meta WHERE key = 'origin'", [], |r| {
                r.get(0)
            })
            .map_err(sqlite_error)?;
        let stored = Origin::from_meta(&stored);
        if !stored.same_kind(&origin) {
            return Err(Origin::mismatch(stored, origin));
        }
    }
    tx.execute(
        RUN_COMPLETED_SQL,
        params![
            now(),
            summary.rows_received,
            counts.stored,
            summary.rows_rejected,
            crate::snapshot::total_text(counts),
            counts.reportable,
            counts.foreign,
            summary.body_bytes,
            summary.body_sha256,
            summary.tries,
            run_id
        ],
    )
    .map_err(sqlite_error)?;
    tx.commit().map_err(sqlite_error)
}
