//! Shared test helpers: the local MassPay emulator, stores on SQLite and (when
//! `MASSPAY_TAX_TEST_POSTGRES` holds a URL) on a fresh PostgreSQL database, and a canonical dump
//! of a store's contents for comparisons.
#![allow(dead_code)]

use futures_util::TryStreamExt;
use masspay_client::{ApiKey, Client, ClientConfig, RetryPolicy};
use masspay_emulator::{EmulatorConfig, FaultConfig, RunningEmulator};
use masspay_tax_store::{KeySource, Store};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub const TEST_KEY_HEX: &str = "1111111111111111111111111111111111111111111111111111111111111111";

pub async fn emulator(bulk: usize, fault_percent: u8, fault_seed: u64) -> RunningEmulator {
    masspay_emulator::spawn(EmulatorConfig {
        bulk_payees: bulk,
        faults: FaultConfig {
            percent: fault_percent,
            seed: fault_seed,
            retry_after_secs: 0,
            slow_ms: 30,
        },
        ..Default::default()
    })
    .await
    .expect("emulator starts")
}

/// A client for the emulator with fast retries (tests must not sleep for seconds).
pub fn client(emu: &RunningEmulator, max_tries: u32) -> Client {
    let mut cfg = ClientConfig::new(
        &emu.base_url(),
        ApiKey::new(masspay_emulator::SANDBOX_API_KEY).unwrap(),
    )
    .unwrap();
    cfg.retry = RetryPolicy {
        max_tries,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
        max_retry_after: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    Client::new(cfg).unwrap()
}

/// A database a test may use; dropped by `cleanup`.
pub struct TestDb {
    pub url: String,
    pub label: &'static str,
    pub dir: Option<tempfile::TempDir>,
    admin: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        TestDb {
            url,
            label: "sqlite",
            dir: Some(dir),
            admin: None,
        }
    }

    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("store.db"))
    }

    /// A fresh PostgreSQL database, when `MASSPAY_TAX_TEST_POSTGRES` is set.
    pub async fn postgres() -> Option<TestDb> {
        let base = std::env::var("MASSPAY_TAX_TEST_POSTGRES")
            .ok()
            .filter(|s| !s.trim().is_empty())?;
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "mt_test_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
            .await
            .expect("postgres reachable");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let (head, _) = base
            .rsplit_once('/')
            .expect("postgres URL has a database path");
        let query = base
            .split_once('?')
            .map(|(_, q)| format!("?{q}"))
            .unwrap_or_default();
        Some(TestDb {
            url: format!("{head}/{name}{query}"),
            label: "postgres",
            dir: None,
            admin: Some((base, name)),
        })
    }

    /// SQLite always; PostgreSQL too when configured.
    pub async fn all() -> Vec<TestDb> {
        let mut v = vec![TestDb::sqlite()];
        if let Some(pg) = TestDb::postgres().await {
            v.push(pg);
        }
        v
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.url, &KeySource::Hex(TEST_KEY_HEX.into()))
            .await
            .expect("store opens")
    }

    pub async fn cleanup(self) {
        if let Some((base, name)) = self.admin
            && let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

/// Every stored fact of a year, decrypted, one line per payee, in token order; plus findings.
pub async fn dump(store: &Store, year: i32) -> Vec<String> {
    let mut out: Vec<String> = store
        .year_payees(year, None)
        .map_ok(|p| {
            format!(
                "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{:?}|{:?}|{}|{}|{}|{}|{}|{}",
                p.user_token,
                p.first_name,
                p.middle_name,
                p.last_name,
                p.business_name,
                p.email,
                p.address1,
                p.address2,
                p.city,
                p.state_province,
                p.postal_code,
                p.postal_code_repaired,
                p.country,
                p.date_of_birth,
                p.tin,
                p.tin_hash,
                p.balance,
                p.amount,
                p.amount_cents,
                p.form,
                p.business,
                p.residency
            )
        })
        .try_collect()
        .await
        .unwrap();
    for f in store.findings(year).await.unwrap() {
        out.push(format!(
            "finding|{:?}|{:?}|{}|{}|{}",
            f.user_token, f.row_index, f.code, f.severity, f.message
        ));
    }
    out
}
