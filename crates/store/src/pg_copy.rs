//! PostgreSQL bulk snapshot writes: the year's rows streamed with one `COPY ... FROM STDIN` on a
//! connection of its own, inside one transaction, by a task that owns the connection; the
//! caller decodes and encrypts rows ([`YearRow`]) and sends them in batches over a bounded
//! channel.
//!
//! Multi-row INSERTs cost a client round trip per statement (and, over TCP, a delayed-ACK stall
//! per large statement); COPY streams the whole year as one message sequence. The transaction
//! is the portable writer's, except that the year goes into a table of its own ([`YearTable`])
//! that replaces the year's partition of `annual_balances` at the end: the year's findings
//! deleted, the rows copied, the table's keys built, `payees` upserted from its rows in one
//! statement (each token is in the snapshot once: sync drops duplicates), the findings copied,
//! the origin claimed, the table swapped in, the run completed, one COMMIT. Dropping the writer
//! (or an error anywhere) rolls all of it back: the new table goes and the year's partition
//! before it stays.

use crate::bulk_handle::{AHEAD, BulkHandle, Finish, Msg, Spent, Worker, spent_channel};
use crate::origin::Origin;
use crate::records::{Finding, SnapshotCounts, SnapshotSummary};
use crate::snapshot::{BAL_COLS, Cell, FINDING_COLS, RUN_COMPLETED_SQL, UPSERT_TAIL, YearRow};
use crate::{StoreError, now};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::fmt::Write as _;
use tokio::sync::{mpsc, oneshot};

/// One value in COPY's text format: `\N` for NULL; backslash, tab, newline and carriage return
/// escaped (every other character is itself).
fn push_text(out: &mut String, v: Option<&str>) {
    let Some(v) = v else {
        out.push_str("\\N");
        return;
    };
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn push_int(out: &mut String, v: i64) {
    let _ = write!(out, "{v}");
}

/// One `annual_balances` line ([`BAL_COLS`] order).
fn push_row(out: &mut String, year: i64, run_id: i64, r: &YearRow) {
    for (i, cell) in r.cells(year, run_id).into_iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match cell {
            Cell::Int(v) => push_int(out, v),
            Cell::Text(v) => push_text(out, v),
        }
    }
    out.push('\n');
}

/// One `findings` line ([`FINDING_COLS`] order).
fn push_finding(out: &mut String, year: i64, run_id: i64, f: &Finding) {
    push_int(out, run_id);
    out.push('\t');
    push_int(out, year);
    out.push('\t');
    push_text(out, f.user_token.as_deref());
    out.push('\t');
    match f.row_index {
        Some(i) => push_int(out, i),
        None => out.push_str("\\N"),
    }
    for v in [&f.code, &f.severity, &f.message] {
        out.push('\t');
        push_text(out, Some(v));
    }
    out.push('\n');
}

/// The table a bulk sync writes a year into: created in the sync's transaction without indexes
/// (only a check that every row is of the year), filled by one `COPY ... FREEZE`, its keys built
/// by sorting once the rows are in, and attached at commit as the year's partition of
/// `annual_balances` in place of the one before (see the migration
/// `20261203000100_annual_balances_by_year.sql`). At 1,000,000 payees the server took 10.9 s to
/// copy the year into the indexed table and 7.2 s into a bare one including both key builds;
/// a re-sync no longer deletes the year first (1.6-6.9 s) nor leaves its dead rows behind.
/// Named for the year and the run (unique: one run writes one year once), so its indexes'
/// names are unique too.
pub(crate) struct YearTable {
    year: i64,
    run_id: i64,
    name: String,
}

impl YearTable {
    pub(crate) fn new(year: i64, run_id: i64) -> Self {
        YearTable {
            year,
            run_id,
            name: format!("annual_balances_{year}_{run_id}"),
        }
    }

    /// The table's name, quoted (it holds only letters, digits, `_` and `-`).
    fn ident(&self) -> String {
        format!("\"{}\"", self.name)
    }

    fn create_sql(&self) -> String {
        format!(
            "CREATE TABLE {} (LIKE annual_balances INCLUDING DEFAULTS, \
             CONSTRAINT \"{}_year\" CHECK (tax_year = {}))",
            self.ident(),
            self.name,
            self.year
        )
    }

    /// `FREEZE`: the table is this transaction's own, so its rows are stored already frozen and
    /// the first walk does not rewrite every page to set their hint bits.
    fn copy_sql(&self) -> String {
        format!(
            "COPY {} ({BAL_COLS}) FROM STDIN (FORMAT text, FREEZE)",
            self.ident()
        )
    }

    /// The keys `annual_balances` declares, built over the copied rows (each a sort, not a
    /// million inserts), then the statistics of the columns the year's readers filter and join
    /// on, for the planner (autovacuum adds the rest later; all 25 columns took 0.6-0.9 s, as
    /// long at 100,000 payees as at 1,000,000, these five 0.13 s).
    fn index_sql(&self) -> [String; 3] {
        [
            format!(
                "ALTER TABLE {} ADD CONSTRAINT \"{}_pkey\" PRIMARY KEY (tax_year, user_token)",
                self.ident(),
                self.name
            ),
            format!(
                "CREATE INDEX \"{}_form\" ON {} (tax_year, form)",
                self.name,
                self.ident()
            ),
            format!(
                "ANALYZE {} (user_token, amount_cents, form, residency, tin_hash)",
                self.ident()
            ),
        ]
    }

    /// Swaps the table in as the year's partition: the year's partition before it detached and
    /// dropped, the year's rows in the default partition (written by the portable writer)
    /// deleted, this table attached. Detaching locks `annual_balances` until COMMIT, so this is
    /// the last step before it: a walk running meanwhile is waited for, and one starting meanwhile
    /// waits for the commit and reads the new year.
    async fn swap_in(&self, conn: &mut PgConnection) -> Result<(), StoreError> {
        // PostgreSQL prints a list bound as `FOR VALUES IN ('2025')`; the unquoted form too,
        // should a release print it so.
        let old: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'annual_balances'::regclass \
             AND pg_get_expr(c.relpartbound, c.oid) IN ($1, $2)",
        )
        .bind(format!("FOR VALUES IN ('{}')", self.year))
        .bind(format!("FOR VALUES IN ({})", self.year))
        .fetch_all(&mut *conn)
        .await?;
        for name in old {
            let ident = format!("\"{}\"", name.replace('"', "\"\""));
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE annual_balances DETACH PARTITION {ident}"
            )))
            .execute(&mut *conn)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {ident}")))
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("DELETE FROM annual_balances WHERE tax_year = $1")
            .bind(self.year)
            .execute(&mut *conn)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE annual_balances ATTACH PARTITION {} FOR VALUES IN ({})",
            self.ident(),
            self.year
        )))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

fn stopped() -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(
        "the PostgreSQL snapshot writer stopped".into(),
    ))
}

/// Connects, then starts the writer task: it begins the transaction, deletes the year's rows
/// and findings and starts the COPY; returns once that is done (or failed).
pub(crate) async fn start(url: &str, tax_year: i32, run_id: i64) -> Result<BulkHandle, StoreError> {
    let opts = crate::open::pg_own_options(url)?;
    let conn = PgConnection::connect_with(&opts).await?;
    let (tx, rx) = mpsc::channel::<Msg>(AHEAD);
    let (ready_tx, ready_rx) = oneshot::channel();
    let (spent, spent_rx) = spent_channel();
    let task = tokio::spawn(write(
        conn,
        i64::from(tax_year),
        run_id,
        rx,
        ready_tx,
        spent,
    ));
    BulkHandle::started(tx, Worker::Task(task), ready_rx, spent_rx).await
}

async fn write(
    mut conn: PgConnection,
    year: i64,
    run_id: i64,
    mut rx: mpsc::Receiver<Msg>,
    ready: oneshot::Sender<()>,
    spent: Spent,
) -> Result<(), StoreError> {
    let result = write_in(&mut conn, year, run_id, &mut rx, ready, &spent).await;
    if !matches!(result, Ok(true)) {
        // Not committed: roll back (closing the connection does it too, should this fail).
        let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
    }
    let _ = conn.close().await;
    result.map(|_| ())
}

async fn write_in(
    conn: &mut PgConnection,
    year: i64,
    run_id: i64,
    rx: &mut mpsc::Receiver<Msg>,
    ready: oneshot::Sender<()>,
    spent: &Spent,
) -> Result<bool, StoreError> {
    sqlx::query("BEGIN").execute(&mut *conn).await?;
    sqlx::query("DELETE FROM findings WHERE tax_year = $1")
        .bind(year)
        .execute(&mut *conn)
        .await?;
    let part = YearTable::new(year, run_id);
    sqlx::query(sqlx::AssertSqlSafe(part.create_sql()))
        .execute(&mut *conn)
        .await?;
    let mut findings: Vec<Finding> = Vec::new();
    let mut copy = conn.copy_in_raw(&part.copy_sql()).await?;
    if ready.send(()).is_err() {
        copy.abort("nobody waits").await.ok();
        return Ok(false);
    }
    let mut buf = String::with_capacity(512 * 512);
    let finish = loop {
        match rx.recv().await {
            Some(Msg::Rows(rows, more)) => {
                buf.clear();
                for r in &rows {
                    push_row(&mut buf, year, run_id, r);
                }
                copy.send(buf.as_bytes()).await?;
                findings.extend(more);
                let _ = spent.send(rows);
            }
            Some(Msg::Commit(f)) => break *f,
            None => {
                copy.abort("the snapshot was abandoned").await.ok();
                return Ok(false);
            }
        }
    };
    let Finish {
        origin,
        summary,
        counts,
        reply,
    } = finish;
    let result = match copy.finish().await {
        Ok(_) => commit_in(&mut *conn, &part, origin, &findings, &summary, &counts).await,
        Err(e) => Err(e.into()),
    };
    let ok = result.is_ok();
    let _ = reply.send(result);
    if ok { Ok(true) } else { Err(stopped()) }
}

/// `payees` from the year's rows. The table is locked against other writers first, so no
/// payee can appear between the check for an empty table and the statement that relies on it
/// (one committed meanwhile is waited for and seen).
///
/// The rows go in token order, so the table is stored in the order a re-sync's upsert walks it
/// (unsorted, that upsert took twice as long: each row on a page of its own); in byte order
/// (`COLLATE "C"`, a `memcmp` sort) when the database's collation is byte order anyway (`C`,
/// `POSIX`, `C.UTF-8`): the default collation's sort compares with `strcoll`. An empty table
/// (a store's first sync) takes a plain INSERT with its primary key dropped and built again
/// after (one sort): every token is new, and checking each against the key for a conflict, one
/// entry at a time, was most of the statement. At 1,000,000 payees: first sync 6.7 s -> 2.6 s,
/// re-sync 6.3 s -> 5.3 s.
async fn merge_payees(conn: &mut PgConnection, part: &YearTable) -> Result<(), StoreError> {
    sqlx::query("LOCK TABLE payees IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *conn)
        .await?;
    let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM payees)")
        .fetch_one(&mut *conn)
        .await?;
    let collation: String = sqlx::query_scalar(
        "SELECT datcollate::text FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(&mut *conn)
    .await?;
    let order = if byte_order_collation(&collation) {
        "ORDER BY user_token COLLATE \"C\""
    } else {
        "ORDER BY user_token"
    };
    let insert = format!(
        "INSERT INTO payees (user_token, email, updated_run_id) \
         SELECT user_token, email, sync_run_id FROM {} {order}",
        part.ident()
    );
    if !empty {
        sqlx::query(sqlx::AssertSqlSafe(format!("{insert}{UPSERT_TAIL}")))
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    let key: Option<(String, String)> = sqlx::query_as(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = 'payees'::regclass AND contype = 'p'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let quoted = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    if let Some((name, _)) = &key {
        let sql = format!("ALTER TABLE payees DROP CONSTRAINT {}", quoted(name));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(insert))
        .execute(&mut *conn)
        .await?;
    if let Some((name, def)) = &key {
        let sql = format!("ALTER TABLE payees ADD CONSTRAINT {} {def}", quoted(name));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A database collation (`datcollate`) that orders text by its bytes, as `COLLATE "C"` does.
fn byte_order_collation(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(n.as_str(), "c" | "posix" | "c.utf-8" | "c.utf8")
}

async fn commit_in(
    conn: &mut PgConnection,
    part: &YearTable,
    origin: Option<Origin>,
    findings: &[Finding],
    summary: &SnapshotSummary,
    counts: &SnapshotCounts,
) -> Result<(), StoreError> {
    let (year, run_id) = (part.year, part.run_id);
    for sql in part.index_sql() {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    // One row per token in the snapshot, so one statement gives what per-row upserts give. Any
    // secondary index of the table (the store keeps none since `payees_email` went; a user's
    // own would be) is dropped first and rebuilt from its definition after, in this
    // transaction: maintaining one row by row was most of the statement ([`merge_payees`]).
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, pg_get_indexdef(i.indexrelid) FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE i.indrelid = 'payees'::regclass AND NOT i.indisprimary AND NOT i.indisunique \
         ORDER BY c.relname",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (name, _) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP INDEX \"{}\"",
            name.replace('"', "\"\"")
        )))
        .execute(&mut *conn)
        .await?;
    }
    merge_payees(conn, part).await?;
    for (_, def) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(def.clone()))
            .execute(&mut *conn)
            .await?;
    }
    if !findings.is_empty() {
        let cols = FINDING_COLS
            .strip_prefix("INSERT INTO findings ")
            .unwrap_or("(sync_run_id, tax_year, user_token, row_index, code, severity, message)");
        let mut copy = conn
            .copy_in_raw(&format!("COPY findings {cols} FROM STDIN (FORMAT text)"))
            .await?;
        let mut buf = String::new();
        for chunk in findings.chunks(4096) {
            buf.clear();
            for f in chunk {
                push_finding(&mut buf, year, run_id, f);
            }
            copy.send(buf.as_bytes()).await?;
        }
        copy.finish().await?;
    }
    if let Some(origin) = origin {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('origin', $1) ON CONFLICT (key) DO NOTHING",
        )
        .bind(origin.to_meta())
        .execute(&mut *conn)
        .await?;
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'origin'")
            .fetch_one(&mut *conn)
            .await?;
        let stored = Origin::from_meta(&stored);
        if !stored.same_kind(&origin) {
            return Err(Origin::mismatch(stored, origin));
        }
    }
    part.swap_in(&mut *conn).await?;
    sqlx::query(RUN_COMPLETED_SQL)
        .bind(now())
        .bind(summary.rows_received)
        .bind(counts.stored)
        .bind(summary.rows_rejected)
        .bind(crate::snapshot::total_text(counts))
        .bind(counts.reportable)
        .bind(counts.foreign)
        .bind(summary.body_bytes)
        .bind(summary.body_sha256.clone())
        .bind(summary.tries)
        .bind(run_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_collations_are_told_apart() {
        for c in ["C", "POSIX", "C.UTF-8", "C.utf8", "c.UTF-8"] {
            assert!(byte_order_collation(c), "{c}");
        }
        for c in ["en_US.UTF-8", "de_DE.utf8", "", "und-x-icu"] {
            assert!(!byte_order_collation(c), "{c}");
        }
    }

    #[test]
    fn copy_text_escapes_what_it_must() {
        let mut s = String::new();
        push_text(&mut s, Some("a\\b\tc\nd\re é"));
        assert_eq!(s, "a\\\\b\\tc\\nd\\re é");
        s.clear();
        push_text(&mut s, None);
        assert_eq!(s, "\\N");
    }
}
