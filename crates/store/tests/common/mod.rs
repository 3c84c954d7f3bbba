//! Shared helpers of the store tests: a store on SQLite and (when `MASSPAY_TAX_TEST_POSTGRES`
//! holds a URL) on a fresh PostgreSQL database, sample records, and a dump of a year.
#![allow(dead_code)]

use futures_util::TryStreamExt;
use masspay_tax_store::{
    BalanceRecord, KeySource, PayeeRecord, SnapshotSummary, Store, StoreError,
};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

pub const KEY_HEX: &str = "3333333333333333333333333333333333333333333333333333333333333333";

pub fn key() -> KeySource {
    KeySource::Hex(KEY_HEX.into())
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
            "mt_store_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
            .await
            .expect("postgres reachable");
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        let (head, _) = base
            .split('?')
            .next()
            .unwrap()
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
        Store::open(&self.url, &key()).await.expect("store opens")
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

/// A payee whose details all carry `tag` (so two years' details differ).
pub fn payee(token: &str, tag: &str) -> PayeeRecord {
    PayeeRecord {
        user_token: token.into(),
        first_name: format!("First{tag}"),
        middle_name: format!("M{tag}"),
        last_name: format!("Last{tag}"),
        business_name: String::new(),
        email: format!("{token}.{tag}@example.test"),
        mobile_number: format!("+1555000{tag}"),
        address1: format!("{tag} Main St"),
        address2: String::new(),
        city: format!("City{tag}"),
        state_province: "PA".into(),
        postal_code: "19107".into(),
        postal_code_repaired: false,
        country: "USA".into(),
        date_of_birth: format!("19{tag}-03-12"),
        tin_raw: Some(format!("5247188{tag}")),
    }
}

pub fn balance(amount: &str) -> BalanceRecord {
    let a = Decimal::from_str(amount).unwrap();
    BalanceRecord {
        balance: a,
        amount: a,
        amount_cents: (a * Decimal::from(100)).try_into().unwrap(),
        form: if a >= Decimal::from(600) {
            "1099-NEC".into()
        } else {
            "none".into()
        },
        business: false,
        residency: "us".into(),
    }
}

/// Writes a year's snapshot of `payees` (optionally claiming an origin); returns the run id.
pub async fn write_year(
    store: &Store,
    year: i32,
    source: &str,
    origin: Option<masspay_tax_store::Origin>,
    payees: Vec<(PayeeRecord, BalanceRecord)>,
) -> Result<i64, StoreError> {
    let run = store.begin_run(year, source).await?;
    let mut w = store.snapshot(run, year).await?;
    if let Some(o) = origin {
        w.claim_origin(o);
    }
    for (p, b) in payees {
        w.add(p, b).await?;
    }
    w.commit(&SnapshotSummary::default()).await?;
    Ok(run)
}

/// Every stored fact of a year, decrypted, one line per payee, in token order.
pub async fn dump(store: &Store, year: i32) -> Vec<String> {
    store
        .year_payees(year, None)
        .map_ok(|p| {
            format!(
                "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}|{}|{}|{}|{}|{}",
                p.user_token,
                p.first_name,
                p.middle_name,
                p.last_name,
                p.business_name,
                p.email,
                p.mobile_number,
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
                p.tin_last4,
                p.balance,
                p.amount,
                p.amount_cents,
                p.form,
                p.residency
            )
        })
        .try_collect()
        .await
        .unwrap()
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
