//! The local store: every payee's details and annual balance per tax year, the history of sync
//! runs (the audit trail) and findings, on SQLite (a file, the default) or PostgreSQL, through
//! sqlx's `Any` driver with one migration folder per backend.
//!
//! Invariants:
//! * A tax ID never reaches the database in clear: `annual_balances.tin_enc` holds it encrypted
//!   ([`vault::Vault`]), `tin_hash` a keyed hash, `tin_last4` the last four digits. The date of
//!   birth is encrypted too (`date_of_birth_enc`, bound to the payee and the field).
//! * A year is reproducible: a payee's details (names, address, TIN, date of birth) are kept per
//!   tax year, written by that year's sync, so syncing another year never changes this one.
//! * A sync for a year replaces that year's snapshot in **one transaction** ([`SnapshotWriter`]):
//!   readers see the old snapshot or the new one, never a mix; the `sync_runs` row of every run,
//!   failed ones included, stays as history.
//! * A store knows where its data came from ([`Origin`]): the built-in sandbox never writes into
//!   a store of real MassPay data, and the reverse.
//! * Money is stored as exact decimal TEXT plus BIGINT cents (the `Any` driver has no Decimal).
//!
//! Modules, one seam each: [`url`] (database URLs, redaction), `open` (connect, migrate, key
//! check, files owner-only), [`records`] (row types), `snapshot` (the year writer), `reads`
//! (year payees, findings), `runs` (sync runs), [`origin`], [`lease`] (lease locks),
//! [`tin_match`], [`tax_forms`], [`vault`].

mod bulk;
mod bulk_handle;
mod bulk_write;
pub mod events;
pub mod holds;
pub mod lease;
pub mod notices;
mod open;
pub mod origin;
pub mod outbox;
pub mod overrides;
pub mod payouts;
mod pg_copy;
mod pg_read;
mod prefetch;
mod reads;
pub use reads::YearQuery;
pub mod records;
mod runs;
mod shared_tins;
mod snapshot;
pub mod tax_forms;
pub mod tin_match;
pub mod url;
pub mod vault;
pub mod ytd;

use sqlx::AnyPool;
use std::fmt;

pub use bulk_write::RUN_ROWS as SQLITE_RUN_ROWS;
pub use lease::{Lease, LeaseHolder, LeaseInfo, LeaseKeeper};
pub use open::SQLITE_PAGE_SIZE;
pub use origin::Origin;
pub use records::{
    BalanceRecord, Finding, PayeeRecord, SnapshotCounts, SnapshotSummary, StoredPayee, SyncRun,
};
pub use snapshot::SnapshotWriter;
pub use url::{normalize_db_url, redact_db_url, sqlite_path};
pub use vault::{KeySource, Vault, VaultError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The driver's error, said once (it is not also reported as this error's source).
    #[error("database: {0}")]
    Db(sqlx::Error),
    /// An error of the SQLite bulk path (rusqlite), said once.
    #[error("database: {0}")]
    Sqlite(String),
    #[error("database migration: {0}")]
    Migrate(sqlx::migrate::MigrateError),
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
    /// The database server (or file) could not be reached; `target` is `HOST:PORT` or the file.
    #[error("could not connect to the store at {target}: {reason}")]
    Connect { target: String, reason: String },
    /// A read-only open of a SQLite store whose file does not exist.
    #[error("no store at {path} (looked for {url}); run `masspay-tax sync` first or pass --db")]
    NoStore { path: String, url: String },
    /// A sync from another kind of origin than the store's data.
    #[error(
        "this store holds data from {store}, and this sync reads {requested}: refused, the store is \
         unchanged. Real MassPay data and sandbox data never share a store: pass --db with another \
         store for this source (e.g. --db sqlite://masspay-tax-{hint}.db)"
    )]
    OriginMismatch {
        store: Origin,
        requested: Origin,
        hint: &'static str,
    },
    /// A lease is held by someone else (for `sync`: another sync of this store is running).
    #[error(
        "another {name} of this store is running (since {since}, by {holder}); wait for it to finish and try again"
    )]
    Busy {
        name: String,
        holder: String,
        since: String,
    },
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The store.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    vault: Vault,
    /// The SQLite file (`None`: PostgreSQL, or SQLite in memory).
    sqlite_file: Option<std::path::PathBuf>,
    /// PostgreSQL: the URL, for the COPY writer's own connection (a secret: may hold a
    /// password; never printed).
    pg_url: Option<String>,
    /// Walk years through [`bulk`] (SQLite files) or [`pg_read`] (PostgreSQL); on unless
    /// `MASSPAY_TAX_BULK_READS=0`.
    bulk_reads: bool,
    /// Write snapshots through [`bulk_write`] (SQLite files) or [`pg_copy`] (PostgreSQL); on
    /// unless `MASSPAY_TAX_BULK_WRITES=0`.
    bulk_writes: bool,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("vault", &self.vault)
            .finish()
    }
}

impl Store {
    /// Turns the bulk reads (SQLite files, PostgreSQL on a connection of its own) and snapshot
    /// writes (SQLite files, PostgreSQL COPY) on or off for this handle (on unless
    /// `MASSPAY_TAX_BULK_READS=0` / `MASSPAY_TAX_BULK_WRITES=0`); off, every read and write goes
    /// through sqlx's portable path. For comparisons.
    pub fn with_bulk_io(mut self, on: bool) -> Store {
        self.bulk_reads = on && (self.sqlite_file.is_some() || self.pg_url.is_some());
        self.bulk_writes = on && (self.sqlite_file.is_some() || self.pg_url.is_some());
        self
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

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
