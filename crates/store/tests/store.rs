//! The store's guarantees, on SQLite and (with `MASSPAY_TAX_TEST_POSTGRES`) PostgreSQL: origins,
//! reproducible years, secrets at rest, file modes, lease locks, interrupted runs, read-only
//! opens, readable errors, and stores of the previous release moved forward.

mod common;

use common::{TestDb, balance, dump, key, payee, rt, write_year};
use masspay_tax_store::SQLITE_RUN_ROWS;
use masspay_tax_store::lease::SYNC_LEASE;
use masspay_tax_store::{
    KeySource, LeaseHolder, Origin, SnapshotSummary, Store, StoreError, Vault, VaultError,
    redact_db_url,
};
use std::time::Duration;

fn real() -> Origin {
    Origin::masspay("https://api.masspay.io/v1.0.0/payout/")
}

async fn each_backend<F, Fut>(f: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: std::future::Future<Output = TestDb>,
{
    for db in TestDb::all().await {
        let label = db.label;
        eprintln!("backend: {label}");
        let db = f(db).await;
        db.cleanup().await;
    }
}

#[test]
fn origin_refused_both_ways_and_the_store_is_unchanged() {
    for (first, second) in [(Origin::Sandbox, real()), (real(), Origin::Sandbox)] {
        let (first, second) = (&first, &second);
        rt().block_on(each_backend(|db| async move {
            let store = db.open().await;
            assert_eq!(store.origin().await.unwrap(), None, "a fresh store");
            store.check_origin(second).await.unwrap();
            write_year(
                &store,
                2025,
                "first",
                Some(first.clone()),
                vec![(payee("usr_a", "50"), balance("700.00"))],
            )
            .await
            .unwrap();
            assert_eq!(store.origin().await.unwrap(), Some(first.clone()));
            let before = dump(&store, 2025).await;
            let runs_before = store.runs(None).await.unwrap();

            let e = store.check_origin(second).await.unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, StoreError::OriginMismatch { .. }), "{msg}");
            assert!(
                msg.contains(&first.to_string()) && msg.contains(&second.to_string()),
                "{msg}"
            );
            assert!(msg.contains("--db"), "{msg}");
            assert_eq!(
                store.runs(None).await.unwrap(),
                runs_before,
                "nothing written"
            );
            // Even a writer that skipped the check cannot commit.
            let run = store.begin_run(2025, "second").await.unwrap();
            let mut w = store.snapshot(run, 2025).await.unwrap();
            w.claim_origin(second.clone());
            w.add(payee("usr_b", "60"), balance("900.00"))
                .await
                .unwrap();
            let e = w
                .commit(&Default::default())
                .await
                .expect_err("another kind of origin");
            assert!(matches!(e, StoreError::OriginMismatch { .. }));
            assert_eq!(dump(&store, 2025).await, before, "snapshot unchanged");
            assert_eq!(store.origin().await.unwrap(), Some(first.clone()));
            // The same kind is accepted (for MassPay: another URL of it too).
            store.check_origin(first).await.unwrap();
            if !first.is_sandbox() {
                store
                    .check_origin(&Origin::masspay(
                        "https://staging-api.masspay.io/v1.0.0/payout/",
                    ))
                    .await
                    .unwrap();
            }
            store.close().await;
            db
        }));
    }
}

#[test]
fn a_year_is_reproducible_after_syncing_another_year() {
    rt().block_on(each_backend(|db| async move {
        let store = db.open().await;
        write_year(
            &store,
            2025,
            "s",
            None,
            vec![
                (payee("usr_a", "50"), balance("700.00")),
                (payee("usr_b", "51"), balance("100.00")),
            ],
        )
        .await
        .unwrap();
        let y2025 = dump(&store, 2025).await;
        assert!(y2025[0].contains("First50") && y2025[0].contains("1950-03-12"));
        assert!(y2025[0].contains("524718850"), "{}", y2025[0]);
        // 2024 with other details for the same payees (a name change, a new address, a new TIN).
        write_year(
            &store,
            2024,
            "s",
            None,
            vec![
                (payee("usr_a", "60"), balance("800.00")),
                (payee("usr_c", "61"), balance("900.00")),
            ],
        )
        .await
        .unwrap();
        assert_eq!(
            dump(&store, 2025).await,
            y2025,
            "2025 unchanged by a 2024 sync"
        );
        let y2024 = dump(&store, 2024).await;
        assert!(y2024[0].starts_with("usr_a|First60|"), "{}", y2024[0]);
        assert_eq!(y2024.len(), 2);
        // Re-syncing 2025 replaces only 2025.
        write_year(
            &store,
            2025,
            "s",
            None,
            vec![(payee("usr_a", "70"), balance("1.00"))],
        )
        .await
        .unwrap();
        assert_eq!(dump(&store, 2024).await, y2024);
        assert_eq!(dump(&store, 2025).await.len(), 1);
        assert_eq!(
            store.payee_tokens().await.unwrap(),
            vec!["usr_a", "usr_b", "usr_c"]
        );
        store.close().await;
        db
    }));
}

fn all_bytes(dir: &std::path::Path) -> String {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            bytes.extend(std::fs::read(p).unwrap());
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn date_of_birth_and_tin_never_in_clear_in_the_sqlite_files() {
    let db = TestDb::sqlite();
    rt().block_on(async {
        let store = db.open().await;
        write_year(
            &store,
            2025,
            "s",
            None,
            vec![(payee("usr_a", "77"), balance("700.00"))],
        )
        .await
        .unwrap();
        assert!(dump(&store, 2025).await[0].contains("1977-03-12"));
        store.close().await;
    });
    let hay = all_bytes(db.dir.as_ref().unwrap().path());
    assert!(hay.contains("First77"), "the check reads the data");
    for secret in ["1977-03-12", "524718877"] {
        assert!(!hay.contains(secret), "{secret} in clear");
    }
}

#[cfg(unix)]
#[test]
fn the_sqlite_files_and_the_key_file_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let keyfile = dir.path().join("store.key");
    rt().block_on(async {
        let store = Store::open(
            &format!("sqlite://{}", db.display()),
            &KeySource::File(keyfile.clone()),
        )
        .await
        .unwrap();
        write_year(
            &store,
            2025,
            "s",
            None,
            vec![(payee("usr_a", "50"), balance("700.00"))],
        )
        .await
        .unwrap();
        let mut seen = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let p = entry.unwrap().path();
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} has mode {mode:o}", p.display());
            seen += 1;
        }
        assert!(seen >= 3, "db, key and WAL files checked ({seen})");
        store.close().await;
    });
    // No temp file of the key is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".masspay-tax-key-")),
        "{names:?}"
    );
}

/// `PRAGMA page_size` and `journal_mode` of a SQLite file, read on a connection of its own.
fn page_size_and_journal(path: &std::path::Path) -> (u32, String) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let size = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    let mode = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    (size, mode)
}

#[test]
fn a_new_sqlite_store_gets_large_pages_and_an_existing_one_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.db");
    let old = dir.path().join("old.db");
    // A store written before the page size was set: SQLite's default pages, WAL mode, a year.
    {
        let conn = rusqlite::Connection::open(&old).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE kept (x); INSERT INTO kept VALUES (1);",
        )
        .unwrap();
    }
    assert_eq!(page_size_and_journal(&old).0, 4096);
    rt().block_on(async {
        for path in [&fresh, &old] {
            let store = Store::open(&format!("sqlite://{}", path.display()), &key())
                .await
                .unwrap();
            write_year(
                &store,
                2025,
                "s",
                None,
                vec![
                    (payee("usr_a", "50"), balance("700.00")),
                    (payee("usr_b", "51"), balance("10.00")),
                ],
            )
            .await
            .unwrap();
            let rows = dump(&store, 2025).await;
            assert_eq!(rows.len(), 2, "{}", path.display());
            assert!(rows[0].starts_with("usr_a|"), "{rows:?}");
            store.close().await;
        }
    });
    assert_eq!(
        page_size_and_journal(&fresh),
        (masspay_tax_store::SQLITE_PAGE_SIZE, "wal".to_string())
    );
    assert_eq!(page_size_and_journal(&old), (4096, "wal".to_string()));
    let conn = rusqlite::Connection::open(&old).unwrap();
    let kept: i64 = conn
        .query_row("SELECT x FROM kept", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 1, "the existing file's data is untouched");
}

/// How many rows each rising run of tokens holds, in storage (rowid) order.
fn storage_runs(path: &std::path::Path) -> Vec<usize> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut q = conn
        .prepare("SELECT user_token FROM annual_balances ORDER BY rowid")
        .unwrap();
    let stored: Vec<String> = q
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut runs = vec![1usize];
    for w in stored.windows(2) {
        if w[1] < w[0] {
            runs.push(1);
        } else {
            *runs.last_mut().unwrap() += 1;
        }
    }
    runs
}

/// Issue 10: the SQLite bulk writer stores a year as runs of rows sorted by token (so a walk in
/// token order reads each page about once), and what it stores is what the portable path
/// stores. (A token sent twice never reaches a writer: the sync keeps the first.)
#[test]
fn the_bulk_writer_stores_a_year_as_sorted_runs_of_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let n = SQLITE_RUN_ROWS * 5 / 2;
    // Arrival order is scrambled (a step coprime to n), as MassPay's is.
    let rows: Vec<(String, String)> = (0..n)
        .map(|i| (format!("usr_{:06}", (i * 7919) % n), "10.00".to_string()))
        .collect();
    let records = || {
        rows.iter()
            .map(|(t, a)| (payee(t, "7"), balance(a)))
            .collect::<Vec<_>>()
    };
    let bulk_path = dir.path().join("bulk.db");
    let portable_path = dir.path().join("portable.db");
    rt().block_on(async {
        let mut dumps = Vec::new();
        for (path, on) in [(&bulk_path, true), (&portable_path, false)] {
            let store = Store::open(&format!("sqlite://{}", path.display()), &key())
                .await
                .unwrap()
                .with_bulk_io(on);
            write_year(&store, 2025, "s", None, records())
                .await
                .unwrap();
            dumps.push(dump(&store, 2025).await);
            store.close().await;
        }
        assert_eq!(dumps[0].len(), n);
        assert_eq!(
            dumps[0], dumps[1],
            "the bulk writer stores what the portable one does"
        );
        // In storage order the tokens rise within each run: a handful of runs, each at least
        // SQLITE_RUN_ROWS long but the last, where arrival order falls back every other row.
        let runs = storage_runs(&bulk_path);
        assert_eq!(runs.len(), 3, "{runs:?}");
        assert!(runs[..2].iter().all(|&r| r >= SQLITE_RUN_ROWS), "{runs:?}");
        // A re-sync of more than two runs (the bulk writer flushes each run and resizes its
        // cache to the stored year): a tenth of the payees gone, a tenth new, the rest with
        // new amounts and details, the same rows on both paths.
        let resync = || {
            rows.iter()
                .enumerate()
                .filter(|(i, _)| i % 10 != 3)
                .map(|(i, (t, _))| (payee(t, "8"), balance(&format!("{}.25", 500 + i % 300))))
                .chain((0..n / 10).map(|i| (payee(&format!("new_{i:06}"), "9"), balance("700.00"))))
                .collect::<Vec<_>>()
        };
        let mut again = Vec::new();
        for (path, on) in [(&bulk_path, true), (&portable_path, false)] {
            let store = Store::open(&format!("sqlite://{}", path.display()), &key())
                .await
                .unwrap()
                .with_bulk_io(on);
            write_year(&store, 2025, "s", None, resync()).await.unwrap();
            again.push(dump(&store, 2025).await);
            store.close().await;
        }
        let expected = (0..n).filter(|i| i % 10 != 3).count() + n / 10;
        assert_eq!(again[0].len(), expected);
        assert_eq!(
            again[0], again[1],
            "a re-sync stores the same rows on both paths"
        );
        assert!(
            again[0].iter().all(|r| !r.contains("First7")),
            "every kept payee replaced"
        );
    });
}

#[test]
fn leases_are_exclusive_expire_and_can_be_taken_after_expiry() {
    rt().block_on(each_backend(|db| async move {
        let store = db.open().await;
        let a = LeaseHolder::this_process();
        let b = LeaseHolder::this_process();
        let long = Duration::from_secs(600);
        let la = store
            .try_lease("job", &a, long)
            .await
            .unwrap()
            .expect("free");
        assert!(store.try_lease("job", &b, long).await.unwrap().is_none());
        assert!(store.renew(&la).await.unwrap());
        // Re-entrant for the same holder; another name is independent.
        assert!(store.try_lease("job", &a, long).await.unwrap().is_some());
        assert!(store.try_lease("other", &b, long).await.unwrap().is_some());
        let info = store.lease_info("job").await.unwrap().unwrap();
        assert_eq!((info.holder_id.as_str(), info.pid), (a.id.as_str(), a.pid));
        store.release(&la).await.unwrap();
        let lb = store
            .try_lease("job", &b, Duration::ZERO)
            .await
            .unwrap()
            .expect("released");
        // b's lease has expired at once (ttl 0): a takes it over, and b has lost it.
        let la = store
            .try_lease("job", &a, long)
            .await
            .unwrap()
            .expect("expired");
        assert!(
            !store.renew(&lb).await.unwrap(),
            "an expired lease taken over is lost"
        );
        store.release(&lb).await.unwrap();
        assert_eq!(
            store.lease_info("job").await.unwrap().unwrap().holder_id,
            a.id,
            "releasing a lost lease does not free the new holder's"
        );
        // A holder of this host whose process is gone is replaced at once.
        let dead = LeaseHolder {
            id: "dead-holder".into(),
            host: a.host.clone(),
            pid: i64::from(i32::MAX),
        };
        store.release(&la).await.unwrap();
        assert!(store.try_lease("job", &dead, long).await.unwrap().is_some());
        assert!(store.try_lease("job", &b, long).await.unwrap().is_some());
        store.close().await;
        db
    }));
}

#[test]
fn a_second_writer_waits_for_the_first_or_says_plainly_who_runs() {
    rt().block_on(each_backend(|db| async move {
        let store = db.open().await;
        let first = LeaseHolder::this_process();
        let lease = store
            .lease_wait(SYNC_LEASE, &first, Duration::from_secs(600), Duration::ZERO)
            .await
            .unwrap();
        let keeper = store.keep_lease(lease);
        // A second writer holding a snapshot transaction meanwhile is not needed: the lease
        // decides. It gives up after its wait with one plain sentence.
        let e = store
            .lease_wait(
                SYNC_LEASE,
                &LeaseHolder::this_process(),
                Duration::from_secs(600),
                Duration::from_millis(300),
            )
            .await
            .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, StoreError::Busy { .. }));
        assert!(
            msg.starts_with("another sync of this store is running (since ")
                && msg.contains(&format!("by process {} on {}", first.pid, first.host)),
            "{msg}"
        );
        assert!(!msg.contains("locked"), "{msg}");
        // Or it waits, and runs once the first is done.
        let s2 = store.clone();
        let waiter = tokio::spawn(async move {
            let h = LeaseHolder::this_process();
            let l = s2
                .lease_wait(
                    SYNC_LEASE,
                    &h,
                    Duration::from_secs(600),
                    Duration::from_secs(60),
                )
                .await
                .unwrap();
            // Both write a snapshot of the same year in turn.
            let r = common::write_year(
                &s2,
                2025,
                "second",
                None,
                vec![(payee("usr_b", "51"), balance("1.00"))],
            )
            .await;
            s2.release(&l).await.unwrap();
            r
        });
        write_year(
            &store,
            2025,
            "first",
            None,
            vec![(payee("usr_a", "50"), balance("700.00"))],
        )
        .await
        .unwrap();
        keeper.release().await.unwrap();
        waiter.await.unwrap().unwrap();
        let runs = store.runs(Some(2025)).await.unwrap();
        assert_eq!(runs.len(), 2);
        assert!(runs.iter().all(|r| r.status == "completed"));
        assert_eq!(runs[0].source, "second", "the waiting one ran after");
        store.close().await;
        db
    }));
}

#[test]
fn running_runs_of_a_dead_sync_are_marked_interrupted() {
    rt().block_on(each_backend(|db| async move {
        let store = db.open().await;
        let done = write_year(
            &store,
            2025,
            "s",
            None,
            vec![(payee("usr_a", "50"), balance("700.00"))],
        )
        .await
        .unwrap();
        // A sync killed mid-way: its run row stays `running`, its snapshot never committed.
        let killed = store.begin_run(2025, "s").await.unwrap();
        let w = store.snapshot(killed, 2025).await.unwrap();
        drop(w);
        let before = dump(&store, 2025).await;
        assert_eq!(store.mark_interrupted_runs().await.unwrap(), 1);
        let runs = store.runs(Some(2025)).await.unwrap();
        let k = runs.iter().find(|r| r.id == killed).unwrap();
        assert_eq!(k.status, "interrupted");
        assert!(k.finished_at.is_some() && k.error.is_some());
        assert_eq!(
            runs.iter().find(|r| r.id == done).unwrap().status,
            "completed"
        );
        assert_eq!(dump(&store, 2025).await, before, "previous snapshot intact");
        assert_eq!(store.latest_run(2025).await.unwrap().unwrap().id, done);
        assert_eq!(store.mark_interrupted_runs().await.unwrap(), 0);
        store.close().await;
        db
    }));
}

#[test]
fn open_existing_never_creates_a_store_or_a_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("masspay-tax.db");
    let url = format!("sqlite://{}", db.display());
    let keyfile = KeySource::File(dir.path().join("masspay-tax.key"));
    rt().block_on(async {
        let e = Store::open_existing(&url, &keyfile).await.unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, StoreError::NoStore { .. }));
        assert!(
            msg.contains(&db.display().to_string())
                && msg.contains(&url)
                && msg.contains("masspay-tax sync")
                && msg.contains("--db"),
            "{msg}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing created"
        );
        // An existing store whose key file is missing: a clear error, no new key.
        let s = Store::open(&url, &key()).await.unwrap();
        s.close().await;
        let e = Store::open_existing(&url, &keyfile).await.unwrap_err();
        assert!(
            matches!(e, StoreError::Vault(VaultError::KeyFileMissing { .. })),
            "{e}"
        );
        assert!(e.to_string().contains("masspay-tax.key"), "{e}");
        assert!(!dir.path().join("masspay-tax.key").exists());
        // With the key it opens.
        let s = Store::open_existing(&url, &key()).await.unwrap();
        assert!(s.runs(None).await.unwrap().is_empty());
        s.close().await;
    });
}

#[test]
fn connection_errors_say_where_and_why_once_without_the_password() {
    rt().block_on(async {
        // Nothing listens on port 1 of loopback.
        let e = Store::open("postgres://tax:hunter2@127.0.0.1:1/db", &key())
            .await
            .unwrap_err();
        let msg = format!("{e}");
        assert_eq!(
            msg,
            "could not connect to the store at 127.0.0.1:1: connection refused"
        );
        let chain = format!("{:#}", anyhow_like(&e));
        assert!(
            !chain.contains("hunter2") && !chain.contains("pool timed out"),
            "{chain}"
        );
        assert_eq!(chain.matches("connection refused").count(), 1, "{chain}");
    });
}

/// The error and its sources, joined like `anyhow`'s `{:#}`.
fn anyhow_like(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[test]
fn database_urls_are_redacted() {
    assert_eq!(
        redact_db_url("postgres://tax:hunter2@db.example:5432/tax?sslmode=require"),
        "postgres://tax:***@db.example:5432/tax?sslmode=require"
    );
    assert_eq!(
        redact_db_url("postgresql://db.example/tax?user=tax&password=hunter2"),
        "postgresql://db.example/tax?user=tax&password=***"
    );
    assert_eq!(
        redact_db_url("postgres://tax@db.example/tax"),
        "postgres://tax@db.example/tax"
    );
    assert_eq!(
        redact_db_url("sqlite://masspay-tax.db?mode=rwc"),
        "sqlite://masspay-tax.db?mode=rwc"
    );
    assert_eq!(
        redact_db_url("postgres://u:p%40ss@h/db"),
        "postgres://u:***@h/db"
    );
}

/// The migrations of the previous release (20261123000001/2), applied as that release did.
async fn previous_release_store(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let backend = if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };
    let old = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(backend);
    for name in ["20261123000001_init.sql", "20261123000002_tax_forms.sql"] {
        std::fs::copy(src.join(name), old.path().join(name)).unwrap();
    }
    let url = if backend == "sqlite" {
        format!("{url}?mode=rwc")
    } else {
        url.to_string()
    };
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    pool
}

#[test]
fn a_store_of_the_previous_release_is_moved_forward() {
    rt().block_on(each_backend(|db| async move {
        let vault = Vault::from_master([0x33; 32]);
        let pool = previous_release_store(&db.url).await;
        let exec = |sql: &'static str| sqlx::query(sql);
        exec("INSERT INTO meta (key, value) VALUES ('key_fingerprint', $1)")
            .bind(vault.fingerprint().to_string())
            .execute(&pool)
            .await
            .unwrap();
        for (id, year) in [(1i64, 2024i64), (2, 2025)] {
            sqlx::query(
                "INSERT INTO sync_runs (id, tax_year, source, started_at, finished_at, status) \
                 VALUES ($1, $2, 'sandbox (built-in emulator)', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', 'completed')",
            )
            .bind(id)
            .bind(year)
            .execute(&pool)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO sync_runs (id, tax_year, source, started_at, status) \
             VALUES (3, 2025, 'sandbox (built-in emulator)', '2026-01-02T00:00:00Z', 'running')",
        )
        .execute(&pool)
        .await
        .unwrap();
        let tin = "524718830";
        sqlx::query(
            "INSERT INTO payees (user_token, first_name, last_name, email, city, country, date_of_birth, \
             tin_enc, tin_hash, tin_last4, updated_run_id) \
             VALUES ('usr_old', 'Ada', 'Lovelace', 'ada@example.test', 'London', 'USA', '1815-12-10', $1, $2, '8830', 2)",
        )
        .bind(vault.encrypt("usr_old", tin).unwrap())
        .bind(vault.tin_hash(tin))
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO payees (user_token, first_name, email, updated_run_id) \
             VALUES ('usr_nodob', 'Bo', 'bo@example.test', 1)",
        )
        .execute(&pool)
        .await
        .unwrap();
        for (year, token, amount, run) in [
            (2024i64, "usr_old", "650.00", 1i64),
            (2025, "usr_old", "700.00", 2),
            (2024, "usr_nodob", "10.00", 1),
        ] {
            sqlx::query(
                "INSERT INTO annual_balances (tax_year, user_token, balance, amount, amount_cents, form, business, residency, sync_run_id) \
                 VALUES ($1, $2, $3, $3, 0, '1099-NEC', 0, 'us', $4)",
            )
            .bind(year)
            .bind(token.to_string())
            .bind(amount.to_string())
            .bind(run)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;

        let store = db.open().await;
        for year in [2024, 2025] {
            let rows = dump(&store, year).await;
            let old = rows.iter().find(|r| r.starts_with("usr_old|")).unwrap();
            assert!(
                old.starts_with("usr_old|Ada||Lovelace||ada@example.test||||London|||0|USA|1815-12-10|Some(\"524718830\")"),
                "{year}: {old}"
            );
        }
        let nodob = dump(&store, 2024).await;
        assert!(nodob[0].starts_with("usr_nodob|Bo|"), "{nodob:?}");
        assert_eq!(store.origin().await.unwrap(), Some(Origin::Sandbox), "inferred");
        assert!(store.check_origin(&real()).await.is_err());
        let runs = store.runs(None).await.unwrap();
        assert_eq!(runs.len(), 3);
        assert_eq!(store.payee_tokens().await.unwrap(), vec!["usr_nodob", "usr_old"]);
        // The W-9 tables still work with the slimmer payees table.
        assert_eq!(
            store
                .resolve_payee(None, Some("ADA@example.test"))
                .await
                .unwrap(),
            masspay_tax_store::tax_forms::Link::Found("usr_old".into())
        );
        // No date of birth is left in clear, in the table or anywhere in the file.
        let clear: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM annual_balances WHERE date_of_birth_enc LIKE 'clear:%'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(clear, 0);
        store.close().await;
        // Opening again changes nothing.
        let store = db.open().await;
        assert_eq!(dump(&store, 2025).await.len(), 1);
        store.close().await;
        if let Some(dir) = &db.dir {
            let hay = all_bytes(dir.path());
            assert!(hay.contains("Lovelace"), "the check reads the data");
            assert!(!hay.contains("1815-12-10"), "a clear date of birth survived");
        }
        db
    }));
}

/// PostgreSQL: a store's first sync fills `payees` with a plain INSERT. A payee written by
/// another transaction meanwhile is waited for (the table is locked against writers first) and
/// then merged: the sync neither fails on the key nor loses either write.
#[test]
fn a_payee_written_beside_a_first_postgres_sync_is_waited_for_and_merged() {
    rt().block_on(async {
        let Some(db) = TestDb::postgres().await else {
            return;
        };
        let store = db.open().await.with_bulk_io(true);
        let run = store.begin_run(2025, "s").await.unwrap();
        let connect = || <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url);
        let mut other = connect().await.unwrap();
        sqlx::query("BEGIN").execute(&mut other).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO payees (user_token, email, updated_run_id) \
             VALUES ('usr_b', 'other@example.test', {run})"
        )))
        .execute(&mut other)
        .await
        .unwrap();
        let mut w = store.snapshot(run, 2025).await.unwrap();
        for t in ["usr_a", "usr_b", "usr_c"] {
            w.add(payee(t, "7"), balance("700.00")).await.unwrap();
        }
        let summary = SnapshotSummary::default();
        let mut watch = connect().await.unwrap();
        let (committed, waited) = tokio::join!(w.commit(&summary), async {
            // Commit the other write once the sync waits for it (or after 10 s regardless).
            let mut waited = false;
            for _ in 0..500 {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                )
                .fetch_one(&mut watch)
                .await
                .unwrap();
                if n > 0 {
                    waited = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            sqlx::query("COMMIT").execute(&mut other).await.unwrap();
            waited
        });
        committed.unwrap();
        assert!(waited, "the sync waited for the other writer");
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT user_token, email, updated_run_id FROM payees ORDER BY user_token",
        )
        .fetch_all(&mut watch)
        .await
        .unwrap();
        let expect: Vec<(String, String, i64)> = ["usr_a", "usr_b", "usr_c"]
            .iter()
            .map(|t| (t.to_string(), format!("{t}.7@example.test"), run))
            .collect();
        assert_eq!(rows, expect, "the sync's payees, the other write merged");
        assert_eq!(dump(&store, 2025).await.len(), 3);
        store.close().await;
        db.cleanup().await;
    });
}

/// The partitions of `annual_balances` holding `year` (PostgreSQL), and the year's rows in the
/// default partition.
async fn year_partitions(store: &Store, year: i64) -> (Vec<String>, i64) {
    let parts: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'annual_balances'::regclass \
         AND pg_get_expr(c.relpartbound, c.oid) = 'FOR VALUES IN (''' || $1 || ''')'",
    )
    .bind(year.to_string())
    .fetch_all(store.pool())
    .await
    .unwrap();
    let in_default: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM annual_balances_other WHERE tax_year = $1")
            .bind(year)
            .fetch_one(store.pool())
            .await
            .unwrap();
    (parts, in_default)
}

/// PostgreSQL: a bulk sync writes the year into a table of its own and swaps it in at commit as
/// the year's partition. Rows the portable writer left in the default partition are replaced,
/// other years are untouched, a re-sync replaces the partition, and a sync rolled back leaves
/// the year as it was.
#[test]
fn a_postgres_bulk_sync_swaps_the_year_in_as_its_own_partition() {
    rt().block_on(async {
        let Some(db) = TestDb::postgres().await else {
            return;
        };
        let portable = db.open().await.with_bulk_io(false);
        let bulk = db.open().await.with_bulk_io(true);
        for year in [2024, 2025] {
            write_year(
                &portable,
                year,
                "s",
                None,
                vec![
                    (payee("usr_a", "50"), balance("700.00")),
                    (payee("usr_b", "51"), balance("100.00")),
                ],
            )
            .await
            .unwrap();
        }
        assert_eq!(year_partitions(&portable, 2025).await, (vec![], 2));
        let y2024 = dump(&portable, 2024).await;

        let rows = |tag: &'static str| {
            vec![
                (payee("usr_a", tag), balance("800.00")),
                (payee("usr_c", tag), balance("900.00")),
            ]
        };
        let run = write_year(&bulk, 2025, "s", None, rows("60"))
            .await
            .unwrap();
        let (parts, in_default) = year_partitions(&bulk, 2025).await;
        assert_eq!(parts, vec![format!("annual_balances_2025_{run}")]);
        assert_eq!(
            in_default, 0,
            "the portable writer's rows of the year are gone"
        );
        let y2025 = dump(&bulk, 2025).await;
        assert_eq!(y2025.len(), 2);
        assert!(y2025[0].starts_with("usr_a|First60|"), "{}", y2025[0]);
        assert!(y2025[1].starts_with("usr_c|First60|"), "{}", y2025[1]);
        assert_eq!(dump(&bulk, 2024).await, y2024, "2024 untouched");
        // The portable writer's copy of the same rows reads the same.
        let twin = TestDb::postgres().await.unwrap();
        let twin_store = twin.open().await.with_bulk_io(false);
        write_year(&twin_store, 2025, "s", None, rows("60"))
            .await
            .unwrap();
        assert_eq!(dump(&twin_store, 2025).await, y2025);
        twin_store.close().await;
        twin.cleanup().await;

        // A re-sync replaces the partition; the portable writer then writes into it.
        let run2 = write_year(&bulk, 2025, "s", None, rows("70"))
            .await
            .unwrap();
        assert_eq!(
            year_partitions(&bulk, 2025).await,
            (vec![format!("annual_balances_2025_{run2}")], 0)
        );
        assert!(dump(&bulk, 2025).await[0].starts_with("usr_a|First70|"));
        // A sync rolled back (and one dropped unfinished) leaves the year as it was.
        let before = dump(&bulk, 2025).await;
        for drop_it in [false, true] {
            let run3 = bulk.begin_run(2025, "s").await.unwrap();
            let mut w = bulk.snapshot(run3, 2025).await.unwrap();
            w.add(payee("usr_z", "80"), balance("5.00")).await.unwrap();
            if drop_it {
                drop(w);
            } else {
                w.rollback().await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert_eq!(dump(&bulk, 2025).await, before);
            assert_eq!(
                year_partitions(&bulk, 2025).await,
                (vec![format!("annual_balances_2025_{run2}")], 0)
            );
        }
        write_year(&portable, 2025, "s", None, rows("90"))
            .await
            .unwrap();
        assert!(dump(&portable, 2025).await[0].starts_with("usr_a|First90|"));
        assert_eq!(
            year_partitions(&portable, 2025).await,
            (vec![format!("annual_balances_2025_{run2}")], 0),
            "the portable writer's rows go into the year's partition"
        );
        // `payees` keeps pages half empty, so a re-sync's upsert of every payee stays on the page.
        let options: Option<String> = sqlx::query_scalar(
            "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'payees'",
        )
        .fetch_one(bulk.pool())
        .await
        .unwrap();
        assert_eq!(options.as_deref(), Some("fillfactor=50"));
        for s in [portable, bulk] {
            s.close().await;
        }
        db.cleanup().await;
    });
}
