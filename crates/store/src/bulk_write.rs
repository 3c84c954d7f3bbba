//! SQLite bulk snapshot writes: the year's new snapshot written by a thread of its own, through
//! rusqlite on its own connection to the store file, in one transaction, with prepared
//! single-row statements (no statement journal: each writes one row) straight into
//! `annual_balances` (a [`RUN_ROWS`] run at a time, sorted by token) and `findings`; `payees` follows from the year's rows in one sorted
//! statement at commit ([`payees_from_year`]). The caller decodes and encrypts rows ([`crate::snapshot::YearRow`]) and sends them
//! in batches over a bounded channel, so decoding and writing run on two cores.
//!
//! The transaction stores what the portable writer's ([`crate::snapshot`]) stores: the year's
//! findings deleted, the rows written (a payee's existing row of the year replaced in place), the
//! year's rows this run did not write deleted, `payees` merged, the origin claimed, the findings
//! written, the run completed, then one COMMIT; dropping the writer (or an error anywhere) rolls all of it back.
//! The stored values are [`crate::snapshot::YearRow`]'s, the ones the portable writer binds.

use crate::bulk_handle::{AHEAD, BulkHandle, Finish, Msg, Spent, Worker, spent_channel};
use crate::origin::Origin;
use crate::records::{SnapshotCounts, SnapshotSummary};
use crate::snapshot::{BAL_COLS, Cell, FINDING_COLS, RUN_COMPLETED_SQL, UPSERT_TAIL, YearRow};
use crate::{StoreError, now};
use rusqlite::params;
use std::path::PathBuf;
use tokio::sync::{mpsc, oneshot};

/// The writing connection's page cache (KiB) beyond the year's primary key (see [`CacheSize`]):
/// the table's and the other indexes' pages a run writes.
const CACHE_FLOOR_KIB: i64 = 16 * 1024;
/// The most the writing connection's page cache grows to (KiB): past some 4,000,000 payees a
/// year's primary key no longer fits and each run reads part of it again.
const CACHE_CEILING_KIB: i64 = 256 * 1024;
/// Bytes a primary-key entry of `annual_balances` takes beside its token: the tax year, the
/// rowid, record and cell headers and the pages' free space (measured: 57.4 bytes an entry for
/// 40-byte tokens, at 1,000,000 payees).
const KEY_ENTRY_BYTES: usize = 18;
/// The token length assumed for the year's stored rows until a run has been written.
const ASSUMED_TOKEN_BYTES: usize = 40;
/// The page cache (KiB) while `payees` is merged: SQLite's sorter may hold this much too.
const MERGE_CACHE_KIB: i64 = 8 * 1024;
/// Helper threads SQLite's sorter may use at commit (the machine this is tuned on has 2 cores).
const SORT_THREADS: u32 = 1;

impl rusqlite::ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match *self {
            Cell::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(v)),
            Cell::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Cell::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

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
    let (tx, rx) = mpsc::channel::<Msg>(CHANNEL_BATCHES);
    let (ready_tx, ready_rx) = oneshot::channel();
    let (spent, spent_rx) = spent_channel();
    let thread = std::thread::Builder::new()
        .name("masspay-tax-write".into())
        .spawn(move || write(&path, tax_year, run_id, rx, ready_tx, spent))
        .map_err(|e| StoreError::Db(sqlx::Error::Io(e)))?;
    BulkHandle::started(tx, Worker::Thread(thread), ready_rx, spent_rx).await
}

fn write(
    path: &std::path::Path,
    tax_year: i32,
    run_id: i64,
    mut rx: mpsc::Receiver<Msg>,
    ready: oneshot::Sender<()>,
    spent: Spent,
) -> Result<(), StoreError> {
    // A re-sync replaces the year's rows in place, in arrival order: a random read per row on a
    // cold page cache without this.
    crate::prefetch::warm(path);
    let mut conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_error)?;
    conn.busy_timeout(crate::open::SQLITE_BUSY_TIMEOUT)
        .map_err(sqlite_error)?;
    conn.execute_batch("PRAGMA synchronous = NORMAL;")
        .map_err(sqlite_error)?;
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sqlite_error)?;
    let year = i64::from(tax_year);
    let mut cache = CacheSize::new(&tx, year)?;
    tx.execute("DELETE FROM findings WHERE tax_year = ?1", [year])
        .map_err(sqlite_error)?;
    let cols: Vec<&str> = BAL_COLS.split(',').map(str::trim).collect();
    let placeholders: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    let set: Vec<String> = cols
        .iter()
        .filter(|c| !matches!(**c, "tax_year" | "user_token"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    // The year's rows are replaced in place (a payee already in the year keeps its row and its
    // primary-key entry) and the rows this run did not write go at commit ([`drop_stale`]):
    // deleting a year first and inserting it again changed every entry of the random-keyed
    // primary key twice, and the delete alone was a third of a re-sync.
    let mut bal = tx
        .prepare(&format!(
            "INSERT INTO annual_balances ({BAL_COLS}) VALUES ({}) \
             ON CONFLICT (tax_year, user_token) DO UPDATE SET {}",
            placeholders.join(","),
            set.join(", ")
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
    let mut written = 0i64;
    let mut run = Run::default();
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
                run.rows += rows.len();
                run.batches.push(rows);
                if run.rows >= RUN_ROWS {
                    let (n, token_bytes) = run.insert(&mut bal, year, run_id, &spent)?;
                    written += n;
                    cache.after_run(&tx, written, token_bytes)?;
                }
            }
            Msg::Commit(f) => {
                let last = run.insert(&mut bal, year, run_id, &spent).map(|(n, _)| n);
                drop((bal, finding));
                let Finish {
                    origin,
                    summary,
                    counts,
                    reply,
                } = *f;
                let result = last
                    .and_then(|n| finish(tx, year, run_id, written + n, origin, &summary, &counts));
                let _ = reply.send(result);
                return Ok(());
            }
        }
    }
    // The sender is gone without a commit: the transaction rolls back when dropped.
    Ok(())
}

/// Rows the SQLite bulk writer gathers, sorts by user token and inserts in that order: a year it
/// writes is stored as sorted runs of this many rows, which a walk in token order reads forward.
pub const RUN_ROWS: usize = 8 * 1024;
/// Batches the channel holds: a run's worth and [`AHEAD`] more, so the caller decodes the next
/// run while this one is inserted (with only [`AHEAD`], each waited for the other).
const CHANNEL_BATCHES: usize = RUN_ROWS.div_ceil(crate::snapshot::BATCH) + AHEAD;

/// The rows received since the last insert: up to [`RUN_ROWS`] of them are inserted at once,
/// sorted by user token (stably: a token sent twice keeps its arrival order, so the later row
/// still wins). A new year's rows are appended to the table in that order, so it is stored as
/// sorted runs of `RUN_ROWS` rows, and a walk in token order (every reader's) moves forward
/// through each run: it reads each table page about once where arrival order read one page per
/// row. The primary-key inserts of a run walk the index in order too. What is stored is
/// unchanged; only where each row sits.
#[derive(Default)]
struct Run {
    batches: Vec<Vec<YearRow>>,
    rows: usize,
}

impl Run {
    /// Inserts the gathered rows in token order and hands their batches back to be freed;
    /// returns how many rows were written and the bytes of their tokens.
    fn insert(
        &mut self,
        bal: &mut rusqlite::Statement<'_>,
        year: i64,
        run_id: i64,
        spent: &Spent,
    ) -> Result<(i64, usize), StoreError> {
        let mut order: Vec<(u32, u32)> = Vec::with_capacity(self.rows);
        for (b, rows) in self.batches.iter().enumerate() {
            // Batches and rows are far below u32::MAX (RUN_ROWS plus one batch at most).
            order.extend((0..rows.len()).map(|i| (b as u32, i as u32)));
        }
        let row = |&(b, i): &(u32, u32)| &self.batches[b as usize][i as usize];
        // SQLite's BINARY collation (the key's) compares bytes, as `str`'s `Ord` does.
        order.sort_by(|x, y| row(x).user_token().cmp(row(y).user_token()));
        let mut token_bytes = 0;
        for at in &order {
            let r = row(at);
            token_bytes += r.user_token().len();
            bal.execute(rusqlite::params_from_iter(r.cells(year, run_id)))
                .map_err(sqlite_error)?;
        }
        let written = order.len() as i64;
        self.rows = 0;
        for rows in self.batches.drain(..) {
            // Freed by the caller (a closed handle: dropped here).
            let _ = spent.send(rows);
        }
        Ok((written, token_bytes))
    }
}

/// The writing connection's page cache, sized to keep the year's part of the primary key in
/// memory: every [`Run`] walks all of it (its tokens are spread over the whole key), so a key
/// larger than the cache was read again, and a new year's written again, on every run. The
/// cache is [`CACHE_FLOOR_KIB`] plus the key's estimated size (the year's rows already stored,
/// or those written, whichever are more), grown as runs are written, at most
/// [`CACHE_CEILING_KIB`]: 72 MiB at 1,000,000 payees, 22 MiB at 100,000.
///
/// When the run replaces rows already stored (a re-sync), its dirty pages are written out after
/// it ([`rusqlite::Connection::cache_flush`]): SQLite recycles clean pages before it spills
/// dirty ones, and the key's pages are clean there (a replaced row keeps its entry), so the
/// run's dirty table pages pushed the key out of any cache. A new year's key pages are dirty
/// themselves and are not flushed: flushing wrote all of them after every run.
struct CacheSize {
    /// The year's rows stored before this snapshot.
    stored: i64,
    token_bytes: usize,
    set_kib: i64,
}

impl CacheSize {
    fn new(tx: &rusqlite::Transaction<'_>, year: i64) -> Result<Self, StoreError> {
        let stored = rows_in_year(tx, year)?;
        let mut cache = CacheSize {
            stored,
            token_bytes: 0,
            set_kib: 0,
        };
        cache.resize(tx, 0)?;
        Ok(cache)
    }

    /// The cache (KiB) for a year of `written` rows written so far.
    fn kib(&self, written: i64) -> i64 {
        let entries = usize::try_from(self.stored.max(written)).unwrap_or(0);
        let token = match written {
            0 => ASSUMED_TOKEN_BYTES,
            n => self.token_bytes / usize::try_from(n).unwrap_or(1).max(1),
        };
        let key_kib = entries.saturating_mul(token + KEY_ENTRY_BYTES) / 1024;
        CACHE_FLOOR_KIB
            .saturating_add(i64::try_from(key_kib).unwrap_or(i64::MAX))
            .min(CACHE_CEILING_KIB)
    }

    fn resize(&mut self, tx: &rusqlite::Transaction<'_>, written: i64) -> Result<(), StoreError> {
        let kib = self.kib(written);
        // In steps of a MiB or more (a pragma per run otherwise).
        if kib >= self.set_kib + 1024 || self.set_kib == 0 {
            tx.execute_batch(&format!("PRAGMA cache_size = -{kib};"))
                .map_err(sqlite_error)?;
            self.set_kib = kib;
        }
        Ok(())
    }

    /// After a run: `written` rows in all, the run's tokens `token_bytes` long.
    fn after_run(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        written: i64,
        token_bytes: usize,
    ) -> Result<(), StoreError> {
        self.token_bytes += token_bytes;
        // Mostly replacing stored rows: write the run's pages out (see above).
        if self.stored.saturating_mul(2) >= written {
            tx.cache_flush().map_err(sqlite_error)?;
        }
        self.resize(tx, written)
    }
}

/// The year's rows in `annual_balances`, counted from the `(tax_year, form)` index (no table scan).
fn rows_in_year(tx: &rusqlite::Transaction<'_>, year: i64) -> Result<i64, StoreError> {
    tx.query_row(
        "SELECT count(*) FROM annual_balances INDEXED BY annual_balances_form \
         WHERE tax_year = ?1",
        [year],
        |r| r.get(0),
    )
    .map_err(sqlite_error)
}

/// Deletes the year's rows this run did not write (payees gone from the response since the last
/// sync). When the year holds exactly the rows written (the usual re-sync, and every first sync)
/// there are none, and the count, read from the `(tax_year, form)` index, spares the table scan.
fn drop_stale(
    tx: &rusqlite::Transaction<'_>,
    year: i64,
    run_id: i64,
    written: i64,
) -> Result<(), StoreError> {
    let in_year = rows_in_year(tx, year)?;
    if in_year != written {
        // In storage order (a table scan): each page is visited once, not at random.
        tx.execute(
            "DELETE FROM annual_balances NOT INDEXED WHERE tax_year = ?1 AND sync_run_id <> ?2",
            [year, run_id],
        )
        .map_err(sqlite_error)?;
    }
    Ok(())
}

/// `payees` gets the year's tokens and emails in one statement once the year is written: read
/// from the year's rows in storage order, sorted by token (so the primary key is walked once in
/// order rather than seeked at random per row), with the table's secondary indexes (`email`)
/// dropped first and rebuilt from their stored definitions after, in the same transaction. Per
/// row upserts in arrival order cost three random B-tree seeks each; at 1,000,000 payees they
/// were over a third of a sync.
fn payees_from_year(
    tx: &rusqlite::Transaction<'_>,
    year: i64,
    run_id: i64,
) -> Result<(), StoreError> {
    let indexes: Vec<(String, String)> = {
        let mut q = tx
            .prepare(
                "SELECT name, sql FROM sqlite_master \
                 WHERE type = 'index' AND tbl_name = 'payees' AND sql IS NOT NULL ORDER BY name",
            )
            .map_err(sqlite_error)?;
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(sqlite_error)?
            .collect::<Result<_, _>>()
            .map_err(sqlite_error)?
    };
    // The sorts (the token order here, then each index build) may hold as much memory as the
    // page cache is large; the cache has done its work (random index pages of the year), so it
    // shrinks first and peak memory stays that of the streaming.
    // The caller's thread is idle by now (every row is sent), so SQLite's sorter may sort its
    // runs on a helper thread (`PRAGMA threads`): the token sort here and the index builds.
    // The cache's pages are mostly dirty by now (the year's primary key, its last table pages),
    // and a dirty page cannot be freed: written out first (they go to the WAL at COMMIT anyway,
    // and nothing after this changes them), so the sorts below start from an empty cache
    // rather than on top of a full one (1,000,000 payees, four runs each: peak RSS 186-210 MB
    // -> 189-193 MB, the sync no slower).
    tx.cache_flush().map_err(sqlite_error)?;
    tx.execute_batch(&format!(
        "PRAGMA cache_size = -{MERGE_CACHE_KIB}; PRAGMA shrink_memory; PRAGMA threads = {SORT_THREADS};"
    ))
    .map_err(sqlite_error)?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
            .map_err(sqlite_error)?;
    }
    tx.execute(
        &format!(
            "INSERT INTO payees (user_token, email, updated_run_id) \
             SELECT user_token, email, ?2 FROM annual_balances NOT INDEXED WHERE tax_year = ?1 \
             ORDER BY user_token{UPSERT_TAIL}"
        ),
        params![year, run_id],
    )
    .map_err(sqlite_error)?;
    for (_, sql) in &indexes {
        tx.execute_batch(sql).map_err(sqlite_error)?;
    }
    Ok(())
}

fn finish(
    tx: rusqlite::Transaction<'_>,
    year: i64,
    run_id: i64,
    written: i64,
    origin: Option<Origin>,
    summary: &SnapshotSummary,
    counts: &SnapshotCounts,
) -> Result<(), StoreError> {
    drop_stale(&tx, year, run_id, written)?;
    payees_from_year(&tx, year, run_id)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(stored: i64) -> CacheSize {
        CacheSize {
            stored,
            token_bytes: 0,
            set_kib: 0,
        }
    }

    /// The cache holds the year's key: the floor, plus 58 bytes an entry for 40-byte tokens.
    #[test]
    fn the_write_cache_grows_with_the_year_to_a_ceiling() {
        assert_eq!(cache(0).kib(0), CACHE_FLOOR_KIB);
        let mib = |kib: i64| kib / 1024;
        assert_eq!(mib(cache(1_000_000).kib(0)), 16 + 55);
        assert_eq!(mib(cache(100_000).kib(0)), 16 + 5);
        assert_eq!(cache(20_000_000).kib(0), CACHE_CEILING_KIB);
        assert_eq!(cache(i64::MAX).kib(i64::MAX), CACHE_CEILING_KIB);
        // A new year: sized by the rows written and their tokens' real length.
        let mut new = cache(0);
        new.token_bytes = 1_000_000 * 20;
        assert_eq!(mib(new.kib(1_000_000)), 16 + 36);
        // A re-sync: the stored rows count until more are written.
        let mut re = cache(1_000_000);
        re.token_bytes = 10 * 40;
        assert_eq!(re.kib(10), cache(1_000_000).kib(0));
    }
}
