//! Where the store is and how it is unlocked: `--db` / `MASSPAY_TAX_DB`, `MASSPAY_TAX_KEY`,
//! `--key-file` / `MASSPAY_TAX_KEY_FILE`. One place, so every command resolves them the same way.

use anyhow::{Context, Result};
use masspay_tax_store::{KeySource, Store};
use std::path::PathBuf;

/// The default store: a SQLite file in the current directory.
pub const DEFAULT_DB: &str = "sqlite://masspay-tax.db";

/// The store a command was pointed at.
#[derive(Clone, Default)]
pub struct StoreLocation {
    /// `sqlite://FILE` or `postgres://USER@HOST/DB` (may hold a password: never print it).
    pub db: String,
    /// An explicit key file; `MASSPAY_TAX_KEY` wins over it.
    pub key_file: Option<PathBuf>,
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLocation")
            .field("db", &masspay_tax_store::redact_db_url(&self.db))
            .field("key_file", &self.key_file)
            .finish()
    }
}

impl StoreLocation {
    /// The key: `MASSPAY_TAX_KEY` (64 hex digits), else the key file (explicit, else beside the
    /// SQLite file, else `./masspay-tax.key` for PostgreSQL).
    pub fn key_source(&self) -> KeySource {
        if let Ok(k) = std::env::var("MASSPAY_TAX_KEY")
            && !k.trim().is_empty()
        {
            return KeySource::Hex(k);
        }
        if let Some(p) = &self.key_file {
            return KeySource::File(p.clone());
        }
        match masspay_tax_store::sqlite_path(&self.db) {
            Some(db) => KeySource::File(db.with_extension("key")),
            None => KeySource::File(PathBuf::from("masspay-tax.key")),
        }
    }

    /// Opens the store, creating it (and its key file) when missing: for commands that write.
    pub async fn open(&self) -> Result<Store> {
        Store::open(&self.db, &self.key_source())
            .await
            .context("opening the store")
    }

    /// Opens an existing store for a command that only reads: never creates a store or a key
    /// file. `year` names the year the user asked about in the "no store" message.
    pub async fn open_existing(&self, year: Option<i32>) -> Result<Store> {
        match Store::open_existing(&self.db, &self.key_source()).await {
            Ok(s) => Ok(s),
            Err(masspay_tax_store::StoreError::NoStore { path, url }) => match year {
                Some(y) => anyhow::bail!(
                    "no completed sync for tax year {y}: no store at {path} (looked for {url}); \
                     run `masspay-tax sync --year {y}` first or pass --db"
                ),
                None => anyhow::bail!(
                    "no store at {path} (looked for {url}); run `masspay-tax sync` first or pass --db"
                ),
            },
            Err(e) => Err(anyhow::Error::new(e).context("opening the store")),
        }
    }
}
