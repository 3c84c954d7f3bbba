//! The local store: every payee's details and annual balance per tax year, the history of sync
//! runs (the audit trail) and findings, on SQLite (a file, the default) or PostgreSQL, through
//! sqlx's `Any` driver with one migration folder per backend.
//!
//! Invariants:
//! * A tax ID never reaches the database in clear: `payees.tin_enc` holds it encrypted
//!   ([`vault::Vault`]), `tin_hash` a keyed hash, `tin_last4` the last four digits.
//! * A sync for a year replaces that year's snapshot in **one transaction** ([`SnapshotWriter`]):
//!   readers see the old snapshot or the new one, never a mix; the `sync_runs` row of every run,
//!   failed ones included, stays as history.
//! * Money is stored as exact decimal TEXT plus BIGINT cents (the `Any` driver has no Decimal).

pub mod notices;
pub mod tax_forms;
pub mod vault;

use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};
use rust_decimal::Decimal;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, AssertSqlSafe, ConnectOptions, Transaction};
use std::fmt;
use std::str::FromStr;
pub use vault::{KeySource, Vault, VaultError};

static SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(
        "this store was encrypted with another key (store key fingerprint {stored}, current key {current}). \
         Set MASSPAY_TAX_KEY or MASSPAY_TAX_KEY_FILE to the key used when the store was created"
    )]
    WrongKey { stored: String, current: String },
    #[error("unsupported database URL (use sqlite://FILE or postgres://...): {0}")]
    UnsupportedUrl(String),
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Adds `mode=rwc` to a SQLite URL so the file is created on first use.
pub fn normalize_db_url(url: &str) -> Result<(String, Backend), StoreError> {
    let u = url.trim();
    if let Some(rest) = u.strip_prefix("sqlite:") {
        if rest.contains("mode=") || rest.contains(":memory:") {
            return Ok((u.to_string(), Backend::Sqlite));
        }
        let sep = if rest.contains('?') { '&' } else { '?' };
        return Ok((format!("{u}{sep}mode=rwc"), Backend::Sqlite));
    }
    if u.starts_with("postgres://") || u.starts_with("postgresql://") {
        return Ok((u.to_string(), Backend::Postgres));
    }
    // Redact anything after a scheme: a URL may carry a password.
    Err(StoreError::UnsupportedUrl(
        u.split("://")
            .next()
            .unwrap_or("")
            .chars()
            .take(20)
            .collect(),
    ))
}

/// Where a SQLite URL points (for placing the key file beside it).
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.trim().strip_prefix("sqlite:")?;
    let rest = rest.trim_start_matches("//");
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.into())
}

/// A payee as written by a sync. `tin_raw` is the tax ID text as received (a secret).
#[derive(Clone, Default)]
pub struct PayeeRecord {
    pub user_token: String,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub business_name: String,
    pub email: String,
    pub mobile_number: String,
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub state_province: String,
    pub postal_code: String,
    pub postal_code_repaired: bool,
    pub country: String,
    pub date_of_birth: String,
    pub tin_raw: Option<String>,
}

impl fmt::Debug for PayeeRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayeeRecord")
            .field("user_token", &self.user_token)
            .field("tin_raw", &self.tin_raw.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A payee's classified annual amount for the year being synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceRecord {
    /// Exactly as received.
    pub balance: Decimal,
    /// Rounded to cents (the reported value).
    pub amount: Decimal,
    pub amount_cents: i64,
    /// `1099-NEC`, `1042-S` or `none`.
    pub form: String,
    pub business: bool,
    /// `us`, `foreign` or `unknown`.
    pub residency: String,
}

/// Something a person should look at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub user_token: Option<String>,
    pub row_index: Option<i64>,
    pub code: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
    pub message: String,
}

/// A stored payee with the year's balance, as read back for reports and audits.
#[derive(Clone, sqlx::FromRow)]
pub struct StoredPayee {
    pub user_token: String,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub business_name: String,
    pub email: String,
    pub mobile_number: String,
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub state_province: String,
    pub postal_code: String,
    pub postal_code_repaired: i64,
    pub country: String,
    pub date_of_birth: String,
    #[sqlx(rename = "tin_enc")]
    pub tin: Option<String>,
    pub tin_hash: Option<String>,
    pub tin_last4: Option<String>,
    pub tax_year: i64,
    pub balance: String,
    pub amount: String,
    pub amount_cents: i64,
    pub form: String,
    pub business: i64,
    pub residency: String,
}

impl StoredPayee {
    pub fn amount_decimal(&self) -> Result<Decimal, StoreError> {
        Decimal::from_str(&self.amount)
            .map_err(|_| StoreError::Corrupt(format!("amount of {}", self.user_token)))
    }
    /// The decrypted tax ID text (a secret), if any.
    pub fn tin(&self) -> Option<&str> {
        self.tin.as_deref()
    }
}

impl fmt::Debug for StoredPayee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredPayee")
            .field("user_token", &self.user_token)
            .field("tax_year", &self.tax_year)
            .field("amount", &self.amount)
            .field("form", &self.form)
            .field("tin", &self.tin.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// One row of `sync_runs`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct SyncRun {
    pub id: i64,
    pub tax_year: i64,
    pub source: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub rows_received: i64,
    pub rows_stored: i64,
    pub rows_rejected: i64,
    pub total: String,
    pub reportable_count: i64,
    pub foreign_count: i64,
    pub body_bytes: i64,
    pub body_sha256: Option<String>,
    pub tries: i64,
    pub error: Option<String>,
}

/// Totals a sync reports when it commits.
#[derive(Debug, Clone, Default)]
pub struct SnapshotSummary {
    pub rows_received: i64,
    pub rows_rejected: i64,
    pub body_bytes: i64,
    pub body_sha256: String,
    pub tries: i64,
}

/// Rows added to a snapshot, counted as they go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotCounts {
    pub stored: i64,
    pub total: Decimal,
    pub reportable: i64,
    pub foreign: i64,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A `findings` row: user_token, row_index, code, severity, message.
type FindingRow = (Option<String>, Option<i64>, String, String, String);

/// The store.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    vault: Vault,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("vault", &self.vault)
            .finish()
    }
}

const PAYEE_COLS: &str = "user_token, first_name, middle_name, last_name, business_name, email, mobile_number, \
    address1, address2, city, state_province, postal_code, postal_code_repaired, country, date_of_birth, \
    tin_enc, tin_hash, tin_last4, updated_run_id";
const PAYEE_NCOLS: usize = 19;
const BAL_COLS: &str =
    "tax_year, user_token, balance, amount, amount_cents, form, business, residency, sync_run_id";
const BAL_NCOLS: usize = 9;
/// Rows per multi-row INSERT (19 binds each, 27 into the SQLite stage: 13,500 binds stay far below
/// SQLite's 32,766 and Postgres's 65,535).
const BATCH: usize = 500;
const UPSERT_TAIL: &str = " ON CONFLICT (user_token) DO UPDATE SET first_name = excluded.first_name, \
    middle_name = excluded.middle_name, last_name = excluded.last_name, business_name = excluded.business_name, \
    email = excluded.email, mobile_number = excluded.mobile_number, address1 = excluded.address1, \
    address2 = excluded.address2, city = excluded.city, state_province = excluded.state_province, \
    postal_code = excluded.postal_code, postal_code_repaired = excluded.postal_code_repaired, \
    country = excluded.country, date_of_birth = excluded.date_of_birth, tin_enc = excluded.tin_enc, \
    tin_hash = excluded.tin_hash, tin_last4 = excluded.tin_last4, updated_run_id = excluded.updated_run_id";

/// SQLite only: a snapshot's rows are first appended to this TEMP table (created inside the
/// snapshot transaction, on its connection) and moved into `payees` / `annual_balances` by two
/// INSERT ... SELECT at commit, in arrival order. Inside a transaction SQLite keeps a statement
/// journal for every multi-row INSERT into a table with constraints: a copy of each page the
/// statement touches, ~6 pages per row with random tokens and hashes, so streaming 500-row upserts
/// into the real tables spent most of a 1,000,000-payee sync copying pages. The stage has no
/// constraints (no journal, append only) and the final two statements touch each page once.
const STAGE: &str = "masspay_tax_snapshot_stage";
/// The stage's columns after the payee's ([`PAYEE_COLS`]).
const STAGE_BAL_COLS: &str =
    "tax_year, balance, amount, amount_cents, form, business, residency, sync_run_id";
const STAGE_NCOLS: usize = PAYEE_NCOLS + 8;
/// SQLite page cache (KiB) of the connection writing a snapshot (it stays set on that pooled
/// connection). The final merge updates indexes keyed by random tokens; with the default 2 MB
/// cache their pages round-trip through the WAL file.
const SQLITE_SNAPSHOT_CACHE_KIB: i64 = 64 * 1024;

fn values_sql(head: &str, ncols: usize, nrows: usize, tail: &str) -> String {
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
fn batch_sql(backend: Backend, head: &str, ncols: usize, nrows: usize, tail: &str) -> String {
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
                let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
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

impl Store {
    /// Opens (and migrates) the store at `url` with the key from `key`.
    pub async fn open(url: &str, key: &KeySource) -> Result<Store, StoreError> {
        install_default_drivers();
        let (url, backend) = normalize_db_url(url)?;
        let (vault, _) = Vault::load(key)?;
        let mut opts =
            AnyPoolOptions::new().max_connections(if backend == Backend::Sqlite { 4 } else { 8 });
        if backend == Backend::Sqlite {
            opts = opts.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        // A large snapshot's merge (SQLite) or report query runs for seconds by design: log slow
        // statements at info (shown with -v), not as warnings on every large run.
        let connect = AnyConnectOptions::from_str(&url)?
            .log_slow_statements(log::LevelFilter::Info, std::time::Duration::from_secs(1));
        let pool = opts.connect_with(connect).await?;
        match backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA journal_mode = WAL")
                    .execute(&pool)
                    .await?;
                SQLITE.run(&pool).await?
            }
            Backend::Postgres => POSTGRES.run(&pool).await?,
        }
        let store = Store {
            pool,
            backend,
            vault,
        };
        store.check_key().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Records the key fingerprint on first use and refuses a different key afterwards.
    async fn check_key(&self) -> Result<(), StoreError> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'key_fingerprint'")
                .fetch_optional(&self.pool)
                .await?;
        match stored {
            Some(s) if s != self.vault.fingerprint() => Err(StoreError::WrongKey {
                stored: s,
                current: self.vault.fingerprint().to_string(),
            }),
            Some(_) => Ok(()),
            None => {
                sqlx::query("INSERT INTO meta (key, value) VALUES ('key_fingerprint', $1) ON CONFLICT (key) DO NOTHING")
                    .bind(self.vault.fingerprint().to_string())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    }

    /// Starts a sync run (its row is written at once, outside the snapshot transaction, so a
    /// failed run stays in the history).
    pub async fn begin_run(&self, tax_year: i32, source: &str) -> Result<i64, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sync_runs (tax_year, source, started_at, status) VALUES ($1, $2, $3, 'running') RETURNING id",
        )
        .bind(i64::from(tax_year))
        .bind(source.to_string())
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Marks a run failed, with a message (which must not hold secrets).
    pub async fn fail_run(&self, run_id: i64, error: &str, tries: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sync_runs SET status = 'failed', finished_at = $1, error = $2, tries = $3 WHERE id = $4")
            .bind(now())
            .bind(error.chars().take(2000).collect::<String>())
            .bind(tries)
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Opens the transaction that will replace `tax_year`'s snapshot.
    pub async fn snapshot(&self, run_id: i64, tax_year: i32) -> Result<SnapshotWriter, StoreError> {
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
                format!("DROP TABLE IF EXISTS temp.{STAGE}"),
                format!("CREATE TEMP TABLE {STAGE} ({PAYEE_COLS}, {STAGE_BAL_COLS})"),
            ] {
                sqlx::query(AssertSqlSafe(sql))
                    .persistent(false)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok(SnapshotWriter {
            tx: Some(tx),
            in_flight: None,
            backend: self.backend,
            vault: self.vault.clone(),
            run_id,
            tax_year,
            payees: Vec::with_capacity(BATCH),
            findings: Vec::new(),
            counts: SnapshotCounts::default(),
            full_payee_sql: None,
            full_bal_sql: None,
        })
    }

    /// The year's payees with balances, in a stable order (by user token), TINs decrypted.
    /// `form` filters on the classification (`1099-NEC`, `1042-S`, `none`).
    pub fn year_payees<'a>(
        &'a self,
        tax_year: i32,
        form: Option<&'a str>,
    ) -> BoxStream<'a, Result<StoredPayee, StoreError>> {
        let order = match self.backend {
            Backend::Sqlite => "ORDER BY b.user_token",
            Backend::Postgres => "ORDER BY b.user_token COLLATE \"C\"",
        };
        let filter = if form.is_some() {
            "AND b.form = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT p.user_token, p.first_name, p.middle_name, p.last_name, p.business_name, p.email, p.mobile_number, \
             p.address1, p.address2, p.city, p.state_province, p.postal_code, p.postal_code_repaired, p.country, \
             p.date_of_birth, p.tin_enc, p.tin_hash, p.tin_last4, b.tax_year, b.balance, b.amount, b.amount_cents, \
             b.form, b.business, b.residency \
             FROM annual_balances b JOIN payees p ON p.user_token = b.user_token WHERE b.tax_year = $1 {filter} {order}"
        );
        let vault = &self.vault;
        let mut q = sqlx::query_as::<_, StoredPayee>(AssertSqlSafe(sql)).bind(i64::from(tax_year));
        if let Some(f) = form {
            q = q.bind(f.to_string());
        }
        q.fetch(&self.pool)
            .map_err(StoreError::from)
            .and_then(move |mut p| async move {
                if let Some(enc) = p.tin.take() {
                    p.tin = Some(vault.decrypt(&p.user_token, &enc)?);
                }
                Ok(p)
            })
            .boxed()
    }

    /// Sync runs, newest first (all years when `tax_year` is `None`).
    pub async fn runs(&self, tax_year: Option<i32>) -> Result<Vec<SyncRun>, StoreError> {
        let base = "SELECT id, tax_year, source, started_at, finished_at, status, rows_received, rows_stored, \
                    rows_rejected, total, reportable_count, foreign_count, body_bytes, body_sha256, tries, error FROM sync_runs";
        let rows = match tax_year {
            Some(y) => {
                sqlx::query_as(AssertSqlSafe(format!(
                    "{base} WHERE tax_year = $1 ORDER BY id DESC"
                )))
                .bind(i64::from(y))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(AssertSqlSafe(format!("{base} ORDER BY id DESC")))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows)
    }

    /// The latest completed run for the year, if any.
    pub async fn latest_run(&self, tax_year: i32) -> Result<Option<SyncRun>, StoreError> {
        Ok(self
            .runs(Some(tax_year))
            .await?
            .into_iter()
            .find(|r| r.status == "completed"))
    }

    /// Findings of the year's current snapshot.
    pub async fn findings(&self, tax_year: i32) -> Result<Vec<Finding>, StoreError> {
        let rows: Vec<FindingRow> = sqlx::query_as(
            "SELECT user_token, row_index, code, severity, message FROM findings WHERE tax_year = $1 ORDER BY id",
        )
        .bind(i64::from(tax_year))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(user_token, row_index, code, severity, message)| Finding {
                user_token,
                row_index,
                code,
                severity,
                message,
            })
            .collect())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// One batch's statements, run in order.
type Batch = Vec<sqlx::query::Query<'static, Any, sqlx::any::AnyArguments>>;
type InFlight = tokio::task::JoinHandle<(Transaction<'static, Any>, Result<(), sqlx::Error>)>;

/// Writes one year's new snapshot inside one transaction; nothing is visible until [`Self::commit`].
pub struct SnapshotWriter {
    /// `None` only while `in_flight` holds it.
    tx: Option<Transaction<'static, Any>>,
    /// The batch being written, on its own task with the transaction, while the caller decodes
    /// the next rows (see [`Self::dispatch`]).
    in_flight: Option<InFlight>,
    backend: Backend,
    vault: Vault,
    run_id: i64,
    tax_year: i32,
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

    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.payees.is_empty() {
            return Ok(());
        }
        if self.backend == Backend::Sqlite {
            return self.flush_to_stage().await;
        }
        let n = self.payees.len();
        let payee_sql = if n == BATCH {
            self.full_payee_sql
                .get_or_insert_with(|| {
                    values_sql(
                        &format!("INSERT INTO payees ({PAYEE_COLS})"),
                        PAYEE_NCOLS,
                        BATCH,
                        UPSERT_TAIL,
                    )
                })
                .clone()
        } else {
            values_sql(
                &format!("INSERT INTO payees ({PAYEE_COLS})"),
                PAYEE_NCOLS,
                n,
                UPSERT_TAIL,
            )
        };
        let bal_sql = if n == BATCH {
            self.full_bal_sql
                .get_or_insert_with(|| {
                    values_sql(
                        &format!("INSERT INTO annual_balances ({BAL_COLS})"),
                        BAL_NCOLS,
                        BATCH,
                        "",
                    )
                })
                .clone()
        } else {
            values_sql(
                &format!("INSERT INTO annual_balances ({BAL_COLS})"),
                BAL_NCOLS,
                n,
                "",
            )
        };
        let mut q = sqlx::query(AssertSqlSafe(payee_sql));
        for (p, _) in self.payees.iter() {
            let (enc, hash, last4) = tin_columns(&self.vault, p)?;
            q = q
                .bind(p.user_token.clone())
                .bind(p.first_name.clone())
                .bind(p.middle_name.clone())
                .bind(p.last_name.clone())
                .bind(p.business_name.clone())
                .bind(p.email.clone())
                .bind(p.mobile_number.clone())
                .bind(p.address1.clone())
                .bind(p.address2.clone())
                .bind(p.city.clone())
                .bind(p.state_province.clone())
                .bind(p.postal_code.clone())
                .bind(i64::from(p.postal_code_repaired))
                .bind(p.country.clone())
                .bind(p.date_of_birth.clone())
                .bind(enc)
                .bind(hash)
                .bind(last4)
                .bind(self.run_id);
        }
        let payee_q = q;
        let mut q = sqlx::query(AssertSqlSafe(bal_sql));
        for (p, b) in self.payees.drain(..) {
            q = q
                .bind(i64::from(self.tax_year))
                .bind(p.user_token)
                .bind(b.balance.to_string())
                .bind(b.amount.to_string())
                .bind(b.amount_cents)
                .bind(b.form)
                .bind(i64::from(b.business))
                .bind(b.residency)
                .bind(self.run_id);
        }
        self.dispatch(vec![payee_q, q]).await
    }

    /// SQLite: appends the buffered rows to the stage (see [`STAGE`]), same values as the
    /// PostgreSQL path binds.
    async fn flush_to_stage(&mut self) -> Result<(), StoreError> {
        let n = self.payees.len();
        let head = format!("INSERT INTO temp.{STAGE} ({PAYEE_COLS}, {STAGE_BAL_COLS})");
        let sql = if n == BATCH {
            self.full_payee_sql
                .get_or_insert_with(|| batch_sql(Backend::Sqlite, &head, STAGE_NCOLS, BATCH, ""))
                .clone()
        } else {
            batch_sql(Backend::Sqlite, &head, STAGE_NCOLS, n, "")
        };
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (p, b) in self.payees.drain(..) {
            let (enc, hash, last4) = tin_columns(&self.vault, &p)?;
            q = q
                .bind(p.user_token)
                .bind(p.first_name)
                .bind(p.middle_name)
                .bind(p.last_name)
                .bind(p.business_name)
                .bind(p.email)
                .bind(p.mobile_number)
                .bind(p.address1)
                .bind(p.address2)
                .bind(p.city)
                .bind(p.state_province)
                .bind(p.postal_code)
                .bind(i64::from(p.postal_code_repaired))
                .bind(p.country)
                .bind(p.date_of_birth)
                .bind(enc)
                .bind(hash)
                .bind(last4)
                .bind(self.run_id)
                .bind(i64::from(self.tax_year))
                .bind(b.balance.to_string())
                .bind(b.amount.to_string())
                .bind(b.amount_cents)
                .bind(b.form)
                .bind(i64::from(b.business))
                .bind(b.residency)
                .bind(self.run_id);
        }
        self.dispatch(vec![q]).await
    }

    /// SQLite: moves the stage into the real tables (upsert semantics and order as if the rows
    /// had been written there in batches) and drops it. When the snapshot writes at least half as
    /// many payees as the table holds, the payees' secondary indexes (keyed by random hashes and
    /// emails) are dropped first and rebuilt from their own SQL afterwards, in the same
    /// transaction: one sorted build is far cheaper than a random index update per row.
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
            "INSERT INTO payees ({PAYEE_COLS}) SELECT {PAYEE_COLS} FROM temp.{STAGE} \
             WHERE true ORDER BY rowid{UPSERT_TAIL}"
        ));
        steps.push(format!(
            "INSERT INTO annual_balances ({BAL_COLS}) SELECT {BAL_COLS} FROM temp.{STAGE} \
             ORDER BY rowid"
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
        if self.backend == Backend::Sqlite {
            self.merge_stage().await?;
        }
        let (backend, run_id, tax_year) = (self.backend, self.run_id, self.tax_year);
        let findings = std::mem::take(&mut self.findings);
        let counts = self.counts.clone();
        let tx = self.tx().await?;
        for chunk in findings.chunks(500) {
            let sql = batch_sql(
                backend,
                "INSERT INTO findings (sync_run_id, tax_year, user_token, row_index, code, severity, message)",
                7,
                chunk.len(),
                "",
            );
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
        let total = {
            let mut t = counts.total;
            t.rescale(2);
            t
        };
        sqlx::query(
            "UPDATE sync_runs SET status = 'completed', finished_at = $1, rows_received = $2, rows_stored = $3, \
             rows_rejected = $4, total = $5, reportable_count = $6, foreign_count = $7, body_bytes = $8, \
             body_sha256 = $9, tries = $10 WHERE id = $11",
        )
        .bind(now())
        .bind(summary.rows_received)
        .bind(counts.stored)
        .bind(summary.rows_rejected)
        .bind(total.to_string())
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
    fn sqlite_urls() {
        assert_eq!(
            normalize_db_url("sqlite://masspay-tax.db").unwrap().0,
            "sqlite://masspay-tax.db?mode=rwc"
        );
        assert_eq!(
            normalize_db_url("sqlite://x.db?mode=ro").unwrap().0,
            "sqlite://x.db?mode=ro"
        );
        assert_eq!(
            normalize_db_url("postgres://u@h/db").unwrap().1,
            Backend::Postgres
        );
        let e = normalize_db_url("mysql://user:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"));
        assert_eq!(
            sqlite_path("sqlite://dir/masspay-tax.db?mode=rwc"),
            Some("dir/masspay-tax.db".into())
        );
        assert_eq!(sqlite_path("sqlite:///abs/x.db"), Some("/abs/x.db".into()));
    }

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
}
