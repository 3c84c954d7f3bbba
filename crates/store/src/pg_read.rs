//! PostgreSQL bulk reads: a year's rows walked by a task of its own, on a connection of its
//! own, decoded as PostgreSQL rows (not through sqlx's `Any` driver) and decrypted there, and
//! handed over in batches.
//!
//! Through the `Any` pool every row was converted from a `PgRow` to an `AnyRow` (each value
//! copied, the columns described again) and looked up by name, then decrypted, all on the
//! caller's task: at 1,000,000 payees the conversion alone was about a fifth of the report's
//! CPU (`perf`), on the same core that judges the rows and writes the worksheet. Here the walk runs beside the caller, as the
//! SQLite walk ([`crate::bulk`]) does. One statement, so one consistent snapshot. When the caller
//! drops the stream, the next send fails and the task closes its connection.

use crate::bulk::Param;
use crate::records::StoredPayee;
use crate::{StoreError, Vault};
use futures_util::TryStreamExt;
use futures_util::stream::{self, BoxStream, StreamExt};
use sqlx::Connection;
use sqlx::postgres::{PgConnection, Postgres};
use tokio::sync::mpsc;

/// Rows per hand-over.
const BATCH: usize = 512;
/// Batches read ahead of the caller.
const AHEAD: usize = 4;

type Batch = Result<Vec<StoredPayee>, StoreError>;

async fn walk(
    url: &str,
    sql: &str,
    params: Vec<Param>,
    vault: &Vault,
    tx: &mpsc::Sender<Batch>,
) -> Result<(), StoreError> {
    // A year's walk is one scan and one sort: JIT compiling it costs more than it saves.
    let opts = crate::open::pg_own_options(url)?.options([("jit", "off")]);
    let mut conn = PgConnection::connect_with(&opts).await?;
    let result = async {
        let mut q = sqlx::query_as::<Postgres, StoredPayee>(sqlx::AssertSqlSafe(sql));
        for p in params {
            q = match p {
                Param::Int(v) => q.bind(v),
                Param::Text(v) => q.bind(v),
            };
        }
        let mut rows = q.fetch(&mut conn);
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(p) = rows.try_next().await? {
            batch.push(crate::reads::decrypt_payee(vault, p)?);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if tx.send(Ok(full)).await.is_err() {
                    return Ok(()); // the reader stopped early
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.send(Ok(batch)).await;
        }
        Ok::<(), StoreError>(())
    }
    .await;
    let _ = conn.close().await;
    result
}

/// The rows of `sql` (a year SELECT in [`crate::reads`]'s column order, `$N` placeholders) on
/// the PostgreSQL store at `url`, decrypted, in the statement's order.
pub(crate) fn year_rows(
    url: String,
    sql: String,
    params: Vec<Param>,
    vault: Vault,
) -> BoxStream<'static, Result<StoredPayee, StoreError>> {
    let (tx, rx) = mpsc::channel::<Batch>(AHEAD);
    tokio::spawn(async move {
        if let Err(e) = walk(&url, &sql, params, &vault, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
        .flat_map(|b| match b {
            Ok(rows) => stream::iter(rows.into_iter().map(Ok)).left_stream(),
            Err(e) => stream::iter(std::iter::once(Err(e))).right_stream(),
        })
        .boxed()
}
