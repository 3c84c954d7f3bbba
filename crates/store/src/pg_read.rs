//! PostgreSQL bulk reads: a year's rows walked by a task of its own, on a connection of its
//! own, as one `COPY (SELECT ...) TO STDOUT` in text format, parsed into the SQLite walk's
//! batches ([`crate::bulk::RawBatch`]: the values of 512 rows in one buffer, their secrets
//! decrypted on the task) and handed over; the caller builds the strings.
//!
//! Through the `Any` pool every row was converted from a `PgRow` to an `AnyRow`; through
//! native `PgRow`s each value was still looked up by column name and type-checked, and each
//! row's message copied (at 1,000,000 payees the task decoding rows was the report's busy
//! end). COPY sends each row as one line of text. One statement, so one consistent snapshot.
//! When the caller drops the stream, the next send fails and the task drops its connection.

use crate::bulk::{AHEAD, BATCH, Batch, Param, RawBatch};
use crate::records::StoredPayee;
use crate::{StoreError, Vault};
use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::sync::mpsc;

/// `sql` with its `$N` placeholders replaced by `params` as SQL literals (COPY takes no bind
/// parameters): integers as digits, text single-quoted with quotes doubled (the connection
/// sets `standard_conforming_strings`, so a backslash is itself). Text with a NUL is refused.
fn inline_params(sql: &str, params: &[Param]) -> Result<String, StoreError> {
    let mut out = sql.to_string();
    // Highest first, so `$1` never matches the start of `$10`.
    for (i, p) in params.iter().enumerate().rev() {
        let literal = match p {
            Param::Int(v) => v.to_string(),
            Param::Text(v) if v.contains('\0') => {
                return Err(StoreError::Sqlite(
                    "a query parameter holds a NUL character".into(),
                ));
            }
            Param::Text(v) => format!("'{}'", v.replace('\'', "''")),
        };
        out = out.replace(&format!("${}", i + 1), &literal);
    }
    Ok(out)
}

async fn walk(
    url: &str,
    sql: &str,
    params: &[Param],
    vault: &Vault,
    tx: &mpsc::Sender<Batch>,
) -> Result<(), StoreError> {
    // A year's walk is one scan and one sort: JIT compiling it costs more than it saves.
    let opts = crate::open::pg_own_options(url)?
        .options([("jit", "off"), ("standard_conforming_strings", "on")]);
    let mut conn = PgConnection::connect_with(&opts).await?;
    let copy = format!("COPY ({}) TO STDOUT", inline_params(sql, params)?);
    let mut data = conn.copy_out_raw(&copy).await?;
    let mut batch = RawBatch::with_capacity(BATCH);
    // PostgreSQL sends a row per message; a line cut across messages is joined here.
    let mut carry: Vec<u8> = Vec::new();
    while let Some(chunk) = data.try_next().await? {
        let mut rest: &[u8] = &chunk;
        if !carry.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(nl) => {
                    carry.extend_from_slice(&rest[..nl]);
                    batch.push_copy_line(&carry)?;
                    carry.clear();
                    rest = &rest[nl + 1..];
                }
                None => {
                    carry.extend_from_slice(rest);
                    continue;
                }
            }
        }
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            batch.push_copy_line(&rest[..nl])?;
            rest = &rest[nl + 1..];
            if batch.rows() == BATCH {
                let mut full = std::mem::replace(&mut batch, RawBatch::with_capacity(BATCH));
                full.open_secrets(vault);
                if tx.send(Ok(full)).await.is_err() {
                    return Ok(()); // the reader stopped early: the connection is dropped
                }
            }
        }
        carry.extend_from_slice(rest);
    }
    drop(data);
    if !carry.is_empty() {
        batch.push_copy_line(&carry)?;
    }
    if batch.rows() > 0 {
        batch.open_secrets(vault);
        let _ = tx.send(Ok(batch)).await;
    }
    let _ = conn.close().await;
    Ok(())
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
        if let Err(e) = walk(&url, &sql, &params, &vault, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    crate::bulk::payees_of(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_literals_highest_first() {
        let sql = "SELECT $1, $2, $10 WHERE a = $1";
        let mut params: Vec<Param> = (1..=10).map(Param::Int).collect();
        params[1] = Param::Text("it's \\ 1099-NEC".into());
        assert_eq!(
            inline_params(sql, &params).unwrap(),
            "SELECT 1, 'it''s \\ 1099-NEC', 10 WHERE a = 1"
        );
        assert!(inline_params("SELECT $1", &[Param::Text("a\0b".into())]).is_err());
    }
}
