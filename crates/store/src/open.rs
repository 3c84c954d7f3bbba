//! Opening a store: connect (with errors a person can read), make SQLite files owner-only,
//! migrate (SQL files, then the steps SQL cannot do: encrypting dates of birth left in clear by
//! the previous release, recording the origin of an old store's data), and check the key.

use crate::reads::DOB_FIELD;
use crate::url::{normalize_with_mode, postgres_target, redact_db_url, sqlite_path};
use crate::{Backend, KeySource, Store, StoreError, Vault};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, ConnectOptions, Connection};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

static SQLITE: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../../migrations/postgres");

/// `0` turns the SQLite bulk reads ([`crate::bulk`]) off: years are read through sqlx (the
/// portable path, for comparing the two).
pub const BULK_READS_ENV: &str = "MASSPAY_TAX_BULK_READS";
/// `0` turns the SQLite bulk snapshot writer ([`crate::bulk_write`]) off: snapshots are written
/// through sqlx (the portable path, for comparing the two).
pub const BULK_WRITES_ENV: &str = "MASSPAY_TAX_BULK_WRITES";

/// The page size of a new SQLite store (SQLite's default is 4096). A year's sync writes every
/// page through the WAL and copies it into the file at the checkpoint, one `pwrite`/`pread` per
/// page: at 1,000,000 payees 16 KiB pages took the sync from 16.5 s to 14.2 s (means of six runs;
/// system time 5.4 s -> 3.0 s), and a report and an audit about 0.9 s longer on a year stored in
/// arrival order (read in token order, each miss reads a whole page; a year written in sorted
/// runs, [`crate::SQLITE_RUN_ROWS`], reads each page about once). 8 KiB gained nothing;
/// 64 KiB lost on every command. A store that exists keeps its page size: SQLite changes it only
/// by rewriting the file outside WAL mode, which this tool never does on its own.
pub const SQLITE_PAGE_SIZE: u32 = 16 * 1024;

/// How long a SQLite statement waits for another connection's write before "database is
/// locked" (readers never wait in WAL mode; writers wait for a running snapshot to commit).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// `meta` key set by the migration that moved clear dates of birth into `date_of_birth_enc`
/// (prefixed `clear:`) until [`Store::encrypt_clear_dates_of_birth`] encrypts them.
const DOB_PENDING: &str = "dob_clear_pending";
const CLEAR_PREFIX: &str = "clear:";

/// Files beside a SQLite database that SQLite creates.
const SQLITE_SIDE_FILES: &[&str] = &["-wal", "-shm", "-journal"];

#[cfg(unix)]
fn make_owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
        && let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    {
        tracing::warn!(path = %path.display(), error = %e, "could not make the store file owner-only (chmod 600 it)");
    }
}

#[cfg(not(unix))]
fn make_owner_only(_: &Path) {}

/// The SQLite file and its side files, owner-only.
fn secure_sqlite_files(db: &Path) {
    make_owner_only(db);
    for suffix in SQLITE_SIDE_FILES {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        make_owner_only(Path::new(&p));
    }
}

/// Creates the SQLite file with mode 0600 (whatever the umask) before SQLite opens it; SQLite
/// then gives its journal, WAL and SHM files the same mode.
fn create_sqlite_file(path: &Path) -> Result<(), StoreError> {
    if path.exists() {
        return Ok(());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Connect {
            target: path.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// The error of a failed first connection, said once, with where and why.
fn connect_error(backend: Backend, url: &str, e: sqlx::Error) -> StoreError {
    let target = match backend {
        Backend::Postgres => postgres_target(url),
        Backend::Sqlite => sqlite_path(url)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| redact_db_url(url)),
    };
    let reason = match &e {
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
            std::io::ErrorKind::TimedOut => "connection timed out".to_string(),
            std::io::ErrorKind::NotFound => "host or file not found".to_string(),
            _ => io.to_string(),
        },
        sqlx::Error::Database(d) => d.message().to_string(),
        sqlx::Error::Tls(t) => format!("TLS: {t}"),
        sqlx::Error::Configuration(c) => format!("bad database URL: {c}"),
        sqlx::Error::PoolTimedOut => "timed out".to_string(),
        other => other.to_string(),
    };
    // Never echo a password, whatever the driver put in its text.
    let reason = match url.split_once("://").and_then(|(_, r)| r.split_once('@')) {
        Some((userinfo, _)) => match userinfo.split_once(':') {
            Some((_, pw)) if !pw.is_empty() => reason.replace(pw, "***"),
            _ => reason,
        },
        None => reason,
    };
    StoreError::Connect { target, reason }
}

impl Store {
    /// Opens (and migrates) the store at `url` with the key from `key`, creating the SQLite file
    /// and the key file when missing (for `sync` and imports).
    pub async fn open(url: &str, key: &KeySource) -> Result<Store, StoreError> {
        let (vault, _) = Vault::load(key)?;
        Store::open_with(url, vault, true).await
    }

    /// Opens (and migrates) a store that exists, for commands that only read: a missing SQLite
    /// file is [`StoreError::NoStore`] and a missing key file [`crate::VaultError::KeyFileMissing`];
    /// neither is ever created.
    pub async fn open_existing(url: &str, key: &KeySource) -> Result<Store, StoreError> {
        let (normalized, backend) = normalize_with_mode(url, "rw")?;
        if backend == Backend::Sqlite
            && let Some(path) = sqlite_path(&normalized)
            && !path.exists()
        {
            return Err(StoreError::NoStore {
                path: path.display().to_string(),
                url: redact_db_url(url),
            });
        }
        let vault = Vault::load_existing(key)?;
        Store::open_with(url, vault, false).await
    }

    async fn open_with(url: &str, vault: Vault, create: bool) -> Result<Store, StoreError> {
        install_default_drivers();
        let (url, backend) = normalize_with_mode(url, if create { "rwc" } else { "rw" })?;
        let file = match backend {
            Backend::Sqlite => sqlite_path(&url),
            Backend::Postgres => None,
        };
        if create && let Some(path) = &file {
            create_sqlite_file(path)?;
        }
        let mut opts =
            AnyPoolOptions::new().max_connections(if backend == Backend::Sqlite { 4 } else { 8 });
        if backend == Backend::Sqlite {
            opts = opts.after_connect(|conn, _| {
                Box::pin(async move {
                    // Takes effect only on a file no page has been written to yet (before
                    // `journal_mode = WAL` below writes its header); a no-op on any other.
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "PRAGMA page_size = {SQLITE_PAGE_SIZE}"
                    )))
                    .execute(&mut *conn)
                    .await?;
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "PRAGMA busy_timeout = {}",
                        SQLITE_BUSY_TIMEOUT.as_millis()
                    )))
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            });
        }
        // A large snapshot's merge (SQLite) or report query runs for seconds by design: log slow
        // statements at info (shown with -v), not as warnings on every large run.
        let connect = AnyConnectOptions::from_str(&url)
            .map_err(|e| connect_error(backend, &url, e))?
            .log_slow_statements(log::LevelFilter::Info, Duration::from_secs(1));
        // One plain connection first: its error is the real one ("connection refused"), where a
        // pool would retry until "pool timed out while waiting for an open connection".
        let probe = AnyConnection::connect_with(&connect)
            .await
            .map_err(|e| connect_error(backend, &url, e))?;
        let _ = probe.close().await;
        let pool = opts
            .connect_with(connect)
            .await
            .map_err(|e| connect_error(backend, &url, e))?;
        match backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA journal_mode = WAL")
                    .execute(&pool)
                    .await?;
                SQLITE.run(&pool).await?
            }
            Backend::Postgres => POSTGRES.run(&pool).await?,
        }
        if let Some(path) = &file {
            secure_sqlite_files(path);
        }
        let store = Store {
            pool,
            backend,
            vault,
            sqlite_file: file.clone(),
            pg_url: (backend == Backend::Postgres).then(|| url.clone()),
            bulk_reads: std::env::var(BULK_READS_ENV).map_or(true, |v| v.trim() != "0"),
            bulk_writes: std::env::var(BULK_WRITES_ENV).map_or(true, |v| v.trim() != "0"),
        };
        store.check_key().await?;
        store.encrypt_clear_dates_of_birth().await?;
        store.infer_origin().await?;
        Ok(store)
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

    /// Encrypts the dates of birth a store of the previous release held in clear (the migration
    /// to per-year details left them marked `clear:`), in one transaction, then (SQLite) rewrites
    /// the file so no clear copy survives in free pages or the WAL. Runs once.
    async fn encrypt_clear_dates_of_birth(&self) -> Result<(), StoreError> {
        let pending: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(DOB_PENDING)
            .fetch_optional(&self.pool)
            .await?;
        if pending.is_none() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT tax_year, user_token, date_of_birth_enc FROM annual_balances \
             WHERE date_of_birth_enc LIKE 'clear:%'",
        )
        .fetch_all(&mut *tx)
        .await?;
        let n = rows.len();
        for (year, token, clear) in rows {
            let value = clear.strip_prefix(CLEAR_PREFIX).unwrap_or(&clear).trim();
            let enc = if value.is_empty() {
                None
            } else {
                Some(self.vault.encrypt_field(&token, DOB_FIELD, value)?)
            };
            sqlx::query(
                "UPDATE annual_balances SET date_of_birth_enc = $1 WHERE tax_year = $2 AND user_token = $3",
            )
            .bind(enc)
            .bind(year)
            .bind(token)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM meta WHERE key = $1")
            .bind(DOB_PENDING)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if self.backend == Backend::Sqlite {
            sqlx::query("VACUUM").execute(&self.pool).await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        tracing::info!(
            payees = n,
            "encrypted the dates of birth this store held in clear"
        );
        Ok(())
    }
}

/// Options for a connection of the bulk paths' own (the PostgreSQL COPY writer and year walk):
/// the URL's, with slow statements logged at info as on the pool (a year's COPY or walk runs for
/// seconds by design).
pub(crate) fn pg_own_options(url: &str) -> Result<sqlx::postgres::PgConnectOptions, StoreError> {
    Ok(sqlx::postgres::PgConnectOptions::from_str(url)?
        .log_slow_statements(log::LevelFilter::Info, Duration::from_secs(1)))
}
