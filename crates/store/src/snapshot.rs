//! The year writer: one transaction replaces a year's snapshot (its payees' details and
//! balances, and its findings); nothing is visible until it commits.
//!
//! A payee's details live with its balance in `annual_balances` (one row per tax year and
//! payee), so a year's sync writes that year only; `payees` keeps one row per payee ever seen
//! (token, latest email, latest run) for linking W-9 rows and IRS answers.

use crate::origin::{Origin, claim_in};
use crate::reads::DOB_FIELD;
use crate::records::{BalanceRecord, Finding, PayeeRecord, SnapshotCounts, SnapshotSummary};
use crate::{Backend, Store, StoreError, Vault, now};
use sqlx::{Any, AssertSqlSafe, Transaction};

const PAYEE_COLS: &str = "user_token, email, updated_run_id";
const PAYEE_NCOLS: usize = 3;
/// A year's row: balance, classification and the payee's details as synced for that year.
pub(crate) const BAL_COLS: &str = "tax_year, user_token, balance, amount, amount_cents, form, business, residency, \
    sync_run_id, first_name, middle_name, last_name, business_name, email, mobile_number, address1, \
    address2, city, state_province, postal_code, postal_code_repaired, country, date_of_birth_enc, \
    tin_enc, tin_hash, tin_last4";
const BAL_NCOLS: usize = 26;
/// Rows per multi-row INSERT (26 binds each: 13,000 binds stay far below SQLite's 32,766 and
/// Postgres's 65,535).
pub(crate) const BATCH: usize = 500;
pub(crate) const UPSERT_TAIL: &str = " ON CONFLICT (user_token) DO UPDATE SET email = excluded.email, \
    updated_run_id = excluded.updated_run_id";

/// SQLite only: a snapshot's rows are first appended to this TEMP table (created inside the
/// snapshot transaction, on its connection) and moved into `payees` / `annual_balances` by two
/// INSERT ... SELECT at commit, in arrival order. Inside a transaction SQLite keeps a statement
/// journal for every multi-row INSERT into a table with constraints: a copy of each page the
/// statement touches, ~6 pages per row with random tokens and hashes, so streaming 500-row upserts
/// into the real tables spent most of a 1,000,000-payee sync copying pages. The stage has no
/// constraints (no journal, append only) and the final two statements touch each page once.
/// Its columns are [`BAL_COLS`].
const STAGE: &str = "masspay_tax_snapshot_stage";
/// SQLite page cache (KiB) of the connection writing a snapshot (it stays set on that pooled
/// connection). The final merge updates indexes keyed by random tokens; with the default 2 MB
/// cache their pages round-trip through the WAL file.
const SQLITE_SNAPSHOT_CACHE_KIB: i64 = 64 * 1024;

pub(crate) fn values_sql(head: &str, ncols: usize, nrows: usize, tail: &str) -> String {
    let mut s = String::with_capacity(head.len() + tail.len() + nrows * ncols * 5);
    s.push_str(head);
    let mut n = 1;
    for r in 0..nrows {
        s.push_str(if r == 0 { " VALUES (" } else { ", (" });
        for c in 0..ncols {
            if c > 0 {
                s.push(',');
            }
            s.push('$');
            s.push_str(&n.to_string());
            n += 1;
        }
        s.push(')');
    }
    s.push_str(tail);
    s
}

/// [`values_sql`] in the backend's placeholder style. SQLite gets anonymous `?` placeholders,
/// bound in order: sqlx-sqlite asks SQLite for every parameter's name, and for `$N` names that
/// lookup scans the statement's whole name list, which makes a multi-row INSERT of thousands of
/// parameters quadratic (it was 80% of a 100,000-payee sync's CPU).
pub(crate) fn batch_sql(
    backend: Backend,
    head: &str,
    ncols: usize,
    nrows: usize,
    tail: &str,
) -> String {
    if backend == Backend::Postgres {
        return values_sql(head, ncols, nrows, tail);
    }
    let mut s = String::with_capacity(head.len() + tail.len() + nrows * (ncols * 2 + 4));
    s.push_str(head);
    for r in 0..nrows {
        s.push_str(if r == 0 { " VALUES (" } else { ", (" });
        for c in 0..ncols {
            s.push_str(if c == 0 { "?" } else { ",?" });
        }
        s.push(')');
    }
    s.push_str(tail);
    s
}

/// `tin_enc`, `tin_hash`, `tin_last4`.
type TinColumns = (Option<String>, Option<String>, Option<String>);

/// The encrypted tax ID, its keyed hash and last four digits, as stored.
fn tin_columns(vault: &Vault, p: &PayeeRecord) -> Result<TinColumns, StoreError> {
    Ok(
        match p
            .tin_raw
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(raw) => {
                let mut digits = String::with_capacity(raw.len());
                digits.extend(raw.bytes().filter(u8::is_ascii_digit).map(char::from));
                let last4 = (digits.len() >= 4).then(|| digits[digits.len() - 4..].to_string());
                (
                    Some(vault.encrypt(&p.user_token, raw)?),
                    Some(vault.tin_hash(&digits)),
                    last4,
                )
            }
            None => (None, None, None),
        },
    )
}

type Query = sqlx::query::Query<'static, Any, sqlx::any::AnyArguments>;

/// The text columns of a [`YearRow`], in [`BAL_COLS`] order (the last four may be NULL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    UserToken,
    Balance,
    Amount,
    Form,
    Residency,
    FirstName,
    MiddleName,
    LastName,
    BusinessName,
    Email,
    MobileNumber,
    Address1,
    Address2,
    City,
    StateProvince,
    PostalCode,
    Country,
    DateOfBirthEnc,
    TinEnc,
    TinHash,
    TinLast4,
}

/// How many [`Text`] columns a row has.
const TEXT_COLS: usize = Text::TinLast4 as usize + 1;
/// The first [`Text`] column that may be NULL.
const FIRST_NULLABLE: usize = Text::DateOfBirthEnc as usize;

/// One year row's [`BAL_COLS`] as stored (tax year and run id aside): secrets encrypted, the
/// TIN's keyed hash and last four. Both writers store exactly these values.
///
/// The text columns are packed into one buffer, in column order: a row is one allocation read
/// front to back. The bulk writer inserts a run of rows in token order, not in the order they
/// were decoded; with a string per column (22 allocations spread over the allocator's size
/// classes) every bound value was a cache miss, and copying them into SQLite was a sixth of
/// the writer's time at 1,000,000 payees.
pub(crate) struct YearRow {
    text: String,
    /// Where each [`Text`] column ends in `text` (it starts where the previous one ends).
    ends: [u32; TEXT_COLS],
    /// Bit `i`: column `FIRST_NULLABLE + i` is NULL.
    nulls: u8,
    pub amount_cents: i64,
    pub business: i64,
    pub postal_code_repaired: i64,
}

impl YearRow {
    pub(crate) fn new(vault: &Vault, p: PayeeRecord, b: BalanceRecord) -> Result<Self, StoreError> {
        let (tin_enc, tin_hash, tin_last4) = tin_columns(vault, &p)?;
        let date_of_birth_enc = match p.date_of_birth.trim() {
            "" => None,
            d => Some(vault.encrypt_field(&p.user_token, DOB_FIELD, d)?),
        };
        let (balance, amount) = (b.balance.to_string(), b.amount.to_string());
        let texts: [&str; FIRST_NULLABLE] = [
            &p.user_token,
            &balance,
            &amount,
            &b.form,
            &b.residency,
            &p.first_name,
            &p.middle_name,
            &p.last_name,
            &p.business_name,
            &p.email,
            &p.mobile_number,
            &p.address1,
            &p.address2,
            &p.city,
            &p.state_province,
            &p.postal_code,
            &p.country,
        ];
        let nullable = [&date_of_birth_enc, &tin_enc, &tin_hash, &tin_last4].map(Option::as_deref);
        let len = texts.iter().map(|t| t.len()).sum::<usize>()
            + nullable
                .iter()
                .map(|t| t.map_or(0, str::len))
                .sum::<usize>();
        if u32::try_from(len).is_err() {
            return Err(StoreError::Corrupt(format!(
                "payee row {} is {len} bytes long, more than a row may hold",
                p.user_token
            )));
        }
        let mut text = String::with_capacity(len);
        let mut ends = [0u32; TEXT_COLS];
        let mut nulls = 0u8;
        for (i, t) in texts.into_iter().enumerate() {
            text.push_str(t);
            ends[i] = text.len() as u32; // at most `len`, checked above
        }
        for (i, t) in nullable.into_iter().enumerate() {
            match t {
                Some(t) => text.push_str(t),
                None => nulls |= 1 << i,
            }
            ends[FIRST_NULLABLE + i] = text.len() as u32;
        }
        Ok(YearRow {
            text,
            ends,
            nulls,
            amount_cents: b.amount_cents,
            business: i64::from(b.business),
            postal_code_repaired: i64::from(p.postal_code_repaired),
        })
    }

    /// A text column's value; a NULL column reads as "" (see [`YearRow::get`]).
    pub(crate) fn text(&self, c: Text) -> &str {
        let i = c as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// A text column's value, `None` for NULL.
    pub(crate) fn get(&self, c: Text) -> Option<&str> {
        let i = c as usize;
        let null = i >= FIRST_NULLABLE && self.nulls & (1 << (i - FIRST_NULLABLE)) != 0;
        (!null).then(|| self.text(c))
    }

    /// The payee's token (the key every writer sorts or conflicts on).
    pub(crate) fn user_token(&self) -> &str {
        self.text(Text::UserToken)
    }
}

/// One stored value of a [`YearRow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell<'a> {
    Int(i64),
    /// `None` is NULL.
    Text(Option<&'a str>),
}

impl YearRow {
    /// The row's values in [`BAL_COLS`] order, the one order every writer binds or copies.
    pub(crate) fn cells(&self, tax_year: i64, run_id: i64) -> [Cell<'_>; BAL_NCOLS] {
        use Text::*;
        let t = |c| Cell::Text(self.get(c));
        [
            Cell::Int(tax_year),
            t(UserToken),
            t(Balance),
            t(Amount),
            Cell::Int(self.amount_cents),
            t(Form),
            Cell::Int(self.business),
            t(Residency),
            Cell::Int(run_id),
            t(FirstName),
            t(MiddleName),
            t(LastName),
            t(BusinessName),
            t(Email),
            t(MobileNumber),
            t(Address1),
            t(Address2),
            t(City),
            t(StateProvince),
            t(PostalCode),
            Cell::Int(self.postal_code_repaired),
            t(Country),
            t(DateOfBirthEnc),
            t(TinEnc),
            t(TinHash),
            t(TinLast4),
        ]
    }
}

/// Binds one row's [`BAL_COLS`].
fn bind_year_row(mut q: Query, tax_year: i32, run_id: i64, r: YearRow) -> Query {
    for cell in r.cells(i64::from(tax_year), run_id) {
        q = match cell {
            Cell::Int(v) => q.bind(v),
            Cell::Text(v) => q.bind(v.map(str::to_string)),
        };
    }
    q
}

/// The snapshot's total as the run row stores it (two decimals).
pub(crate) fn total_text(counts: &SnapshotCounts) -> String {
    let mut t = counts.total;
    t.rescale(2);
    t.to_string()
}

/// The findings row insert ($1..$7 in order; both writers).
pub(crate) const FINDING_COLS: &str =
    "INSERT INTO findings (sync_run_id, tax_year, user_token, row_index, code, severity, message)";
/// The run row completed at commit ($1..$11 in order; both writers).
pub(crate) const RUN_COMPLETED_SQL: &str = "UPDATE sync_runs SET status = 'completed', finished_at = $1, rows_received = $2, rows_stored = $3, \
     rows_rejected = $4, total = $5, reportable_count = $6, foreign_count = $7, body_bytes = $8, \
     body_sha256 = $9, tries = $10 WHERE id = $11";

impl Store {
    /// Opens the transaction that will replace `tax_year`'s snapshot.
    pub async fn snapshot(&self, run_id: i64, tax_year: i32) -> Result<SnapshotWriter, StoreError> {
        let bulk = match (&self.sqlite_file, &self.pg_url) {
            _ if !self.bulk_writes => None,
            (Some(path), _) => {
                Some(crate::bulk_write::start(path.clone(), tax_year, run_id).await?)
            }
            (None, Some(url)) => Some(crate::pg_copy::start(url, tax_year, run_id).await?),
            (None, None) => None,
        };
        let writer = |tx, bulk| SnapshotWriter {
            tx,
            bulk,
            in_flight: None,
            backend: self.backend,
            vault: self.vault.clone(),
            run_id,
            tax_year,
            origin: None,
            payees: Vec::with_capacity(BATCH),
            findings: Vec::new(),
            counts: SnapshotCounts::default(),
            full_payee_sql: None,
            full_bal_sql: None,
        };
        if let Some(bulk) = bulk {
            return Ok(writer(None, Some(bulk)));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM annual_balances WHERE tax_year = $1")
            .bind(i64::from(tax_year))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM findings WHERE tax_year = $1")
            .bind(i64::from(tax_year))
            .execute(&mut *tx)
            .await?;
        if self.backend == Backend::Sqlite {
            for sql in [
                format!("PRAGMA cache_size = -{SQLITE_SNAPSHOT_CACHE_KIB}"),
                // The stage lives in the TEMP database, whose cache is separate (2 MB by
                // default): without this it spills to its temp file page by page.
                format!("PRAGMA temp.cache_size = -{SQLITE_SNAPSHOT_CACHE_KIB}"),
                format!("DROP TABLE IF EXISTS temp.{STAGE}"),
                format!("CREATE TEMP TABLE {STAGE} ({BAL_COLS})"),
            ] {
                sqlx::query(AssertSqlSafe(sql))
                    .persistent(false)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok(writer(Some(tx), None))
    }
}

/// One batch's statements, run in order.
type Batch = Vec<Query>;
type InFlight = tokio::task::JoinHandle<(Transaction<'static, Any>, Result<(), sqlx::Error>)>;

/// Writes one year's new snapshot inside one transaction; nothing is visible until [`Self::commit`].
pub struct SnapshotWriter {
    /// `None` only while `in_flight` holds it, or when `bulk` writes the snapshot.
    tx: Option<Transaction<'static, Any>>,
    /// The snapshot written by [`crate::bulk_write`] (SQLite files) or [`crate::pg_copy`]
    /// (PostgreSQL) instead.
    bulk: Option<crate::bulk_handle::BulkHandle>,
    /// The batch being written, on its own task with the transaction, while the caller decodes
    /// the next rows (see [`Self::dispatch`]).
    in_flight: Option<InFlight>,
    backend: Backend,
    vault: Vault,
    run_id: i64,
    tax_year: i32,
    /// Claimed in the transaction at commit (see [`Self::claim_origin`]).
    origin: Option<Origin>,
    payees: Vec<(PayeeRecord, BalanceRecord)>,
    findings: Vec<Finding>,
    counts: SnapshotCounts,
    /// A full batch's INSERT: into `payees` (PostgreSQL) or into the stage (SQLite).
    full_payee_sql: Option<String>,
    full_bal_sql: Option<String>,
}

impl SnapshotWriter {
    pub fn counts(&self) -> &SnapshotCounts {
        &self.counts
    }

    /// Records, at commit and in the same transaction, that the store's data comes from
    /// `origin`; a store whose data came from the other kind of origin makes the commit fail with
    /// [`StoreError::OriginMismatch`] and nothing is written.
    pub fn claim_origin(&mut self, origin: Origin) {
        self.origin = Some(origin);
    }

    /// Adds a payee and its balance (buffered; flushed in batches).
    pub async fn add(
        &mut self,
        payee: PayeeRecord,
        balance: BalanceRecord,
    ) -> Result<(), StoreError> {
        self.counts.stored += 1;
        self.counts.total += balance.amount;
        match balance.form.as_str() {
            "1099-NEC" => self.counts.reportable += 1,
            "1042-S" => self.counts.foreign += 1,
            _ => {}
        }
        self.payees.push((payee, balance));
        if self.payees.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    pub fn add_finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// The transaction, once the batch in flight (if any) is written; its error, if it failed.
    async fn tx(&mut self) -> Result<&mut Transaction<'static, Any>, StoreError> {
        if let Some(task) = self.in_flight.take() {
            let (tx, written) = match task.await {
                Ok(done) => done,
                Err(e) => match e.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    Err(_) => {
                        return Err(StoreError::Db(sqlx::Error::Io(std::io::Error::other(
                            "the snapshot write was cancelled",
                        ))));
                    }
                },
            };
            self.tx = Some(tx);
            written?;
        }
        Ok(self
            .tx
            .as_mut()
            .expect("the snapshot transaction is present when no batch is in flight"))
    }

    /// Starts writing `batch` on its own task (after the previous one), so the caller decodes and
    /// encrypts the next rows while the database writes these. Any use of the transaction waits
    /// for it first, so statements still run one at a time and in order; a failed batch's error
    /// is returned by the next call that uses the transaction.
    async fn dispatch(&mut self, batch: Batch) -> Result<(), StoreError> {
        self.tx().await?;
        let Some(mut tx) = self.tx.take() else {
            unreachable!("tx() leaves the transaction in place");
        };
        self.in_flight = Some(tokio::spawn(async move {
            for q in batch {
                if let Err(e) = q.execute(&mut *tx).await {
                    return (tx, Err(e));
                }
            }
            (tx, Ok(()))
        }));
        Ok(())
    }

    /// The cached full-batch SQL or a fresh one for `n` rows.
    fn sql(cache: &mut Option<String>, n: usize, make: impl Fn(usize) -> String) -> String {
        if n == BATCH {
            cache.get_or_insert_with(|| make(BATCH)).clone()
        } else {
            make(n)
        }
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.payees.is_empty() {
            return Ok(());
        }
        if let Some(bulk) = &mut self.bulk {
            let rows = self
                .payees
                .drain(..)
                .map(|(p, b)| YearRow::new(&self.vault, p, b))
                .collect::<Result<Vec<_>, _>>()?;
            let findings = std::mem::take(&mut self.findings);
            return bulk.send(rows, findings).await;
        }
        if self.backend == Backend::Sqlite {
            return self.flush_to_stage().await;
        }
        let n = self.payees.len();
        let payee_sql = Self::sql(&mut self.full_payee_sql, n, |rows| {
            values_sql(
                &format!("INSERT INTO payees ({PAYEE_COLS})"),
                PAYEE_NCOLS,
                rows,
                UPSERT_TAIL,
            )
        });
        let bal_sql = Self::sql(&mut self.full_bal_sql, n, |rows| {
            values_sql(
                &format!("INSERT INTO annual_balances ({BAL_COLS})"),
                BAL_NCOLS,
                rows,
                "",
            )
        });
        let mut pq = sqlx::query(AssertSqlSafe(payee_sql));
        let mut bq = sqlx::query(AssertSqlSafe(bal_sql));
        for (p, b) in self.payees.drain(..) {
            pq = pq
                .bind(p.user_token.clone())
                .bind(p.email.clone())
                .bind(self.run_id);
            let row = YearRow::new(&self.vault, p, b)?;
            bq = bind_year_row(bq, self.tax_year, self.run_id, row);
        }
        self.dispatch(vec![pq, bq]).await
    }

    /// SQLite: appends the buffered rows to the stage (see [`STAGE`]), same values as the
    /// PostgreSQL path binds.
    async fn flush_to_stage(&mut self) -> Result<(), StoreError> {
        let n = self.payees.len();
        let head = format!("INSERT INTO temp.{STAGE} ({BAL_COLS})");
        let sql = Self::sql(&mut self.full_payee_sql, n, |rows| {
            batch_sql(Backend::Sqlite, &head, BAL_NCOLS, rows, "")
        });
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (p, b) in self.payees.drain(..) {
            let row = YearRow::new(&self.vault, p, b)?;
            q = bind_year_row(q, self.tax_year, self.run_id, row);
        }
        self.dispatch(vec![q]).await
    }

    /// SQLite: moves the stage into the real tables (upsert semantics and order as if the rows
    /// had been written there in batches) and drops it. When the snapshot writes at least half as
    /// many payees as the table holds, the payees' secondary indexes (keyed by emails) are
    /// dropped first and rebuilt from their own SQL afterwards, in the same transaction: one
    /// sorted build is far cheaper than a random index update per row.
    async fn merge_stage(&mut self) -> Result<(), StoreError> {
        let stored = self.counts.stored;
        let tx = self.tx().await?;
        let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM payees")
            .fetch_one(&mut **tx)
            .await?;
        let rebuild: Vec<(String, String)> = if stored.saturating_mul(2) >= existing {
            sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'payees' \
                 AND sql IS NOT NULL ORDER BY name",
            )
            .fetch_all(&mut **tx)
            .await?
        } else {
            Vec::new()
        };
        let mut steps: Vec<String> = rebuild
            .iter()
            .map(|(name, _)| format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
            .collect();
        steps.push(format!(
            "INSERT INTO payees ({PAYEE_COLS}) SELECT user_token, email, sync_run_id FROM temp.{STAGE} \
             WHERE true ORDER BY rowid{UPSERT_TAIL}"
        ));
        // In user-token order (each token is in the stage once: sync drops duplicates), so the
        // primary-key index grows at its end instead of at random pages, and a year read back
        // in token order (every report) walks the table's pages in order.
        steps.push(format!(
            "INSERT INTO annual_balances ({BAL_COLS}) SELECT {BAL_COLS} FROM temp.{STAGE} \
             ORDER BY user_token"
        ));
        steps.extend(rebuild.into_iter().map(|(_, sql)| sql));
        steps.push(format!("DROP TABLE temp.{STAGE}"));
        for sql in steps {
            sqlx::query(AssertSqlSafe(sql))
                .persistent(false)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Flushes, writes findings, completes the run row and commits: the new snapshot appears whole.
    pub async fn commit(mut self, summary: &SnapshotSummary) -> Result<SnapshotCounts, StoreError> {
        self.flush().await?;
        if let Some(mut bulk) = self.bulk.take() {
            let findings = std::mem::take(&mut self.findings);
            if !findings.is_empty() {
                bulk.send(Vec::new(), findings).await?;
            }
            let counts = self.counts.clone();
            bulk.commit(self.origin.take(), summary, counts.clone())
                .await?;
            return Ok(counts);
        }
        if let Some(origin) = self.origin.take() {
            let tx = self.tx().await?;
            claim_in(tx, &origin).await?;
        }
        if self.backend == Backend::Sqlite {
            self.merge_stage().await?;
        }
        let (backend, run_id, tax_year) = (self.backend, self.run_id, self.tax_year);
        let findings = std::mem::take(&mut self.findings);
        let counts = self.counts.clone();
        let tx = self.tx().await?;
        for chunk in findings.chunks(500) {
            let sql = batch_sql(backend, FINDING_COLS, 7, chunk.len(), "");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for f in chunk {
                q = q
                    .bind(run_id)
                    .bind(i64::from(tax_year))
                    .bind(f.user_token.clone())
                    .bind(f.row_index)
                    .bind(f.code.clone())
                    .bind(f.severity.clone())
                    .bind(f.message.clone());
            }
            q.execute(&mut **tx).await?;
        }
        sqlx::query(RUN_COMPLETED_SQL)
            .bind(now())
            .bind(summary.rows_received)
            .bind(counts.stored)
            .bind(summary.rows_rejected)
            .bind(total_text(&counts))
            .bind(counts.reportable)
            .bind(counts.foreign)
            .bind(summary.body_bytes)
            .bind(summary.body_sha256.clone())
            .bind(summary.tries)
            .bind(run_id)
            .execute(&mut **tx)
            .await?;
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
        Ok(counts)
    }

    /// Abandons the new snapshot; the previous one stays.
    pub async fn rollback(mut self) -> Result<(), StoreError> {
        if let Some(bulk) = self.bulk.take() {
            return bulk.rollback().await;
        }
        // A batch that failed does not matter: all of it is rolled back.
        let _ = self.tx().await;
        if let Some(tx) = self.tx.take() {
            tx.rollback().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_placeholders() {
        assert_eq!(
            values_sql("INSERT INTO t (a,b)", 2, 2, ""),
            "INSERT INTO t (a,b) VALUES ($1,$2), ($3,$4)"
        );
    }

    #[test]
    fn batch_placeholders_per_backend() {
        assert_eq!(
            batch_sql(Backend::Sqlite, "INSERT INTO t (a,b)", 2, 2, " X"),
            "INSERT INTO t (a,b) VALUES (?,?), (?,?) X"
        );
        assert_eq!(
            batch_sql(Backend::Postgres, "INSERT INTO t (a,b)", 2, 2, ""),
            values_sql("INSERT INTO t (a,b)", 2, 2, "")
        );
    }

    fn record(tin: Option<&str>, dob: &str) -> (PayeeRecord, BalanceRecord) {
        let payee = PayeeRecord {
            user_token: "usr_ä1".into(),
            first_name: "Zoë".into(),
            middle_name: String::new(),
            last_name: "O'Brien".into(),
            business_name: "=cmd|x".into(),
            email: "z@example.test".into(),
            mobile_number: String::new(),
            address1: "1 Main St".into(),
            address2: "Apt\t2".into(),
            city: "Zürich".into(),
            state_province: "ZH".into(),
            postal_code: "8001".into(),
            postal_code_repaired: true,
            country: "CHE".into(),
            date_of_birth: dob.into(),
            tin_raw: tin.map(str::to_string),
        };
        let balance = BalanceRecord {
            balance: "600.005".parse().unwrap(),
            amount: "600.01".parse().unwrap(),
            amount_cents: 60001,
            form: "1042-S".into(),
            business: true,
            residency: "foreign".into(),
        };
        (payee, balance)
    }

    /// The packed row gives back every value in BAL_COLS order, NULL where a secret is absent.
    #[test]
    fn a_packed_row_keeps_every_value_in_column_order() {
        let vault = Vault::from_master([7; 32]);
        let (p, b) = record(Some("123-45-6789"), "1990-01-31");
        let row = YearRow::new(&vault, p, b).unwrap();
        let cells = row.cells(2026, 42);
        let text = |i: usize| match cells[i] {
            Cell::Text(v) => v,
            Cell::Int(_) => panic!("column {i} is an integer"),
        };
        let cols: Vec<&str> = BAL_COLS.split(',').map(str::trim).collect();
        let at = |name: &str| cols.iter().position(|c| *c == name).unwrap();
        assert_eq!(cells[at("tax_year")], Cell::Int(2026));
        assert_eq!(cells[at("sync_run_id")], Cell::Int(42));
        assert_eq!(cells[at("amount_cents")], Cell::Int(60001));
        assert_eq!(cells[at("business")], Cell::Int(1));
        assert_eq!(cells[at("postal_code_repaired")], Cell::Int(1));
        for (name, want) in [
            ("user_token", "usr_ä1"),
            ("balance", "600.005"),
            ("amount", "600.01"),
            ("form", "1042-S"),
            ("residency", "foreign"),
            ("first_name", "Zoë"),
            ("middle_name", ""),
            ("last_name", "O'Brien"),
            ("business_name", "=cmd|x"),
            ("email", "z@example.test"),
            ("mobile_number", ""),
            ("address1", "1 Main St"),
            ("address2", "Apt\t2"),
            ("city", "Zürich"),
            ("state_province", "ZH"),
            ("postal_code", "8001"),
            ("country", "CHE"),
            ("tin_last4", "6789"),
        ] {
            assert_eq!(text(at(name)), Some(want), "{name}");
        }
        assert_eq!(row.user_token(), "usr_ä1");
        let tin = text(at("tin_enc")).unwrap();
        assert_eq!(vault.decrypt("usr_ä1", tin).unwrap(), "123-45-6789");
        assert_eq!(
            text(at("tin_hash")),
            Some(vault.tin_hash("123456789").as_str())
        );
        let dob = text(at("date_of_birth_enc")).unwrap();
        assert_eq!(
            vault.decrypt_field("usr_ä1", DOB_FIELD, dob).unwrap(),
            "1990-01-31"
        );
        // No TIN and no date of birth: the four secret columns are NULL, not "".
        let (p, b) = record(None, " ");
        let row = YearRow::new(&vault, p, b).unwrap();
        let cells = row.cells(2026, 42);
        for name in ["date_of_birth_enc", "tin_enc", "tin_hash", "tin_last4"] {
            assert_eq!(cells[at(name)], Cell::Text(None), "{name}");
        }
        assert_eq!(cells[at("country")], Cell::Text(Some("CHE")));
    }

    #[test]
    fn column_counts() {
        assert_eq!(BAL_COLS.split(',').count(), BAL_NCOLS);
        assert_eq!(PAYEE_COLS.split(',').count(), PAYEE_NCOLS);
    }
}
