//! SQLite bulk reads: a year's rows walked on a thread of their own, through rusqlite on its own
//! read-only connection to the store file, and handed over in batches.
//!
//! sqlx-sqlite hands every row from its worker thread to the caller over a channel (a wake-up
//! and a copy of every value per row); walking 1,000,000 payees that way spent more time in the
//! hand-off than in SQLite. Here one thread steps the statement and builds the rows and sends them
//! [`BATCH`] at a time over a bounded channel, so the caller judges one batch while the next is
//! read; the caller decrypts (the secrets cross the channel sealed, and the reader, the slower
//! end, has less to do). The statement is the same SQL the sqlx path runs and sees one consistent
//! snapshot (one statement, one read transaction in WAL mode). When the caller drops the stream,
//! the next send fails and the thread finishes its statement and closes its connection.

use crate::records::StoredPayee;
use crate::{StoreError, Vault};
use futures_util::stream::{self, BoxStream, StreamExt};
use std::path::PathBuf;

/// Rows per hand-over.
const BATCH: usize = 512;
/// Batches read ahead of the caller.
const AHEAD: usize = 4;

/// A parameter of the statement.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}

fn open(path: &std::path::Path) -> Result<rusqlite::Connection, StoreError> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_error)?;
    conn.busy_timeout(crate::open::SQLITE_BUSY_TIMEOUT)
        .map_err(sqlite_error)?;
    Ok(conn)
}

/// One row of [`crate::reads`]'s year SELECT (its column order) → a stored payee, still
/// encrypted.
fn row_payee(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredPayee> {
    Ok(StoredPayee {
        user_token: r.get(0)?,
        first_name: r.get(1)?,
        middle_name: r.get(2)?,
        last_name: r.get(3)?,
        business_name: r.get(4)?,
        email: r.get(5)?,
        mobile_number: r.get(6)?,
        address1: r.get(7)?,
        address2: r.get(8)?,
        city: r.get(9)?,
        state_province: r.get(10)?,
        postal_code: r.get(11)?,
        postal_code_repaired: r.get(12)?,
        country: r.get(13)?,
        date_of_birth: r.get(14)?,
        tin: r.get(15)?,
        tin_hash: r.get(16)?,
        tin_last4: r.get(17)?,
        tax_year: r.get(18)?,
        balance: r.get(19)?,
        amount: r.get(20)?,
        amount_cents: r.get(21)?,
        form: r.get(22)?,
        business: r.get(23)?,
        residency: r.get(24)?,
    })
}

type Batch = Result<Vec<StoredPayee>, StoreError>;

fn walk(
    path: &std::path::Path,
    sql: &str,
    params: &[Param],
    tx: &tokio::sync::mpsc::Sender<Batch>,
) -> Result<(), StoreError> {
    let conn = open(path)?;
    let mut stmt = conn.prepare(sql).map_err(sqlite_error)?;
    for (i, p) in params.iter().enumerate() {
        match p {
            Param::Int(v) => stmt.raw_bind_parameter(i + 1, v),
            Param::Text(v) => stmt.raw_bind_parameter(i + 1, v),
        }
        .map_err(sqlite_error)?;
    }
    let mut rows = stmt.raw_query();
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(r) = rows.next().map_err(sqlite_error)? {
        let p = row_payee(r).map_err(sqlite_error)?;
        batch.push(p);
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if tx.blocking_send(Ok(full)).is_err() {
                return Ok(()); // the reader stopped early
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Ok(batch));
    }
    Ok(())
}

/// The rows of `sql` (the year SELECT of [`crate::reads`], `?N` placeholders) from the SQLite
/// file at `path`, decrypted, in the statement's order.
pub(crate) fn year_rows(
    path: PathBuf,
    sql: String,
    params: Vec<Param>,
    vault: Vault,
) -> BoxStream<'static, Result<StoredPayee, StoreError>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Batch>(AHEAD);
    let spawned = std::thread::Builder::new()
        .name("masspay-tax-read".into())
        .spawn(move || {
            if let Err(e) = walk(&path, &sql, &params, &tx) {
                let _ = tx.blocking_send(Err(e));
            }
        });
    if let Err(e) = spawned {
        return stream::once(async move { Err(StoreError::Db(sqlx::Error::Io(e))) }).boxed();
    }
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
        .flat_map(move |b| match b {
            // Decrypted by the caller, which has time to spare (the reader thread is the
            // slower end): the secrets cross the channel still sealed.
            Ok(rows) => {
                let vault = vault.clone();
                stream::iter(
                    rows.into_iter()
                        .map(move |p| crate::reads::decrypt_payee(&vault, p)),
                )
                .left_stream()
            }
            Err(e) => stream::iter(std::iter::once(Err(e))).right_stream(),
        })
        .boxed()
}
