//! The year-end 1099 run end to end, through the local MassPay emulator: sync → store →
//! threshold by tax year → worksheet. Runs on SQLite, and on PostgreSQL when
//! `MASSPAY_TAX_TEST_POSTGRES` is set.

mod common;

use common::{TestDb, client, dump, emulator};
use futures_util::TryStreamExt;
use masspay_tax::config::Settings;
use masspay_tax::sync::sync_year;
use masspay_tax_store::{Store, StoredPayee};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::HashMap;

async fn year_map(store: &Store, year: i32) -> HashMap<String, StoredPayee> {
    store
        .year_payees(year, None)
        .map_ok(|p| (p.user_token.clone(), p))
        .try_collect()
        .await
        .unwrap()
}

async fn sync(
    store: &Store,
    emu: &masspay_emulator::RunningEmulator,
    year: i32,
) -> masspay_tax::sync::SyncReport {
    let s = Settings::default();
    sync_year(
        &client(emu, 12),
        store,
        &s.thresholds,
        year,
        "emulator",
        None,
    )
    .await
    .expect("sync succeeds")
}

#[tokio::test]
async fn threshold_2025_is_600_or_more_compared_in_cents() {
    let emu = emulator(50, 0, 0).await;
    for db in TestDb::all().await {
        let store = db.open().await;
        let r = sync(&store, &emu, 2025).await;
        assert_eq!(r.threshold, "600.00");
        let m = year_map(&store, 2025).await;
        let form = |t: &str| {
            m.get(t)
                .unwrap_or_else(|| panic!("{t} missing on {}", db.label))
                .form
                .clone()
        };
        assert_eq!(
            form("usr_edge_bal_600_00"),
            "1099-NEC",
            "exactly $600.00 is in ({})",
            db.label
        );
        assert_eq!(
            form("usr_edge_bal_599_99"),
            "none",
            "$599.99 is out ({})",
            db.label
        );
        assert_eq!(form("usr_edge_bal_600_01"), "1099-NEC");
        assert_eq!(
            form("usr_edge_float_under_600"),
            "1099-NEC",
            "599.9999999999999 rounds to 600.00"
        );
        assert_eq!(form("usr_edge_float_over_600"), "1099-NEC");
        assert_eq!(form("usr_edge_exp_600"), "1099-NEC", "6.0E2 is 600");
        assert_eq!(form("usr_edge_bal_1999_99"), "1099-NEC");
        assert_eq!(form("usr_edge_foreign_mex"), "1042-S");
        assert_eq!(
            form("usr_edge_empty_country"),
            "none",
            "unknown country is never guessed"
        );
        // amount_threshold=0 is sent ("strictly exceeds"): a payee with nothing paid is not a payee
        // of the year, while one paid a single cent is kept.
        assert!(!m.contains_key("usr_edge_zero"));
        assert_eq!(form("usr_edge_one_cent"), "none");
        assert_eq!(
            m["usr_edge_ein_business"].business, 1,
            "business names stay reportable and are marked"
        );
        assert_eq!(form("usr_edge_ein_business"), "1099-NEC");
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn threshold_2026_is_2000() {
    let emu = emulator(20, 0, 0).await;
    for db in TestDb::all().await {
        let store = db.open().await;
        let r = sync(&store, &emu, 2026).await;
        assert_eq!(r.threshold, "2000.00");
        let m = year_map(&store, 2026).await;
        assert_eq!(m["usr_edge_bal_1999_99"].form, "none", "{}", db.label);
        assert_eq!(m["usr_edge_bal_2000_00"].form, "1099-NEC", "{}", db.label);
        assert_eq!(m["usr_edge_bal_2000_01"].form, "1099-NEC");
        assert_eq!(
            m["usr_edge_bal_600_00"].form, "none",
            "$600 is below the 2026 threshold"
        );
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn unknown_future_year_is_a_clear_error_not_a_guess() {
    let emu = emulator(0, 0, 0).await;
    let db = TestDb::sqlite();
    let store = db.open().await;
    let err = sync_year(
        &client(&emu, 3),
        &store,
        &Settings::default().thresholds,
        2027,
        "emulator",
        None,
    )
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("no 1099-NEC threshold is known for tax year 2027"),
        "{err:#}"
    );
    assert!(
        store.runs(Some(2027)).await.unwrap().is_empty(),
        "nothing recorded for a refused year"
    );
}

#[tokio::test]
async fn amounts_are_exact_to_the_cent() {
    let emu = emulator(0, 0, 0).await;
    let db = TestDb::sqlite();
    let store = db.open().await;
    sync(&store, &emu, 2025).await;
    let m = year_map(&store, 2025).await;
    let amount = |t: &str| (m[t].balance.clone(), m[t].amount.clone(), m[t].amount_cents);
    assert_eq!(
        amount("usr_edge_float_1234_56"),
        ("1234.5600000000002".into(), "1234.56".into(), 123456)
    );
    assert_eq!(
        amount("usr_edge_float_under_600"),
        ("599.9999999999999".into(), "600.00".into(), 60000)
    );
    assert_eq!(
        amount("usr_edge_huge"),
        ("12345678.91".into(), "12345678.91".into(), 1234567891)
    );
    assert_eq!(
        amount("usr_edge_vendor_sample"),
        ("1500".into(), "1500.00".into(), 150000)
    );
    assert_eq!(amount("usr_edge_one_cent").2, 1);
    // The run total is the exact sum of the rounded amounts.
    let sum: Decimal = m
        .values()
        .map(|p| p.amount.parse::<Decimal>().unwrap())
        .sum();
    let run = store.latest_run(2025).await.unwrap().unwrap();
    assert_eq!(run.total.parse::<Decimal>().unwrap(), sum);
    assert_eq!(
        m["usr_edge_zip_lost_zero"].postal_code, "02108",
        "numeric ZIP padded back"
    );
    assert_eq!(m["usr_edge_zip_lost_zero"].postal_code_repaired, 1);
    assert_eq!(m["usr_edge_zip_plus4"].postal_code, "02108-1234");
    assert_eq!(m["usr_edge_zip_plus4"].postal_code_repaired, 0);
    assert_eq!(
        m["usr_edge_foreign_mex"].postal_code, "3940",
        "foreign codes are not US-padded"
    );
    let _ = dec!(0);
}

#[tokio::test]
async fn sync_under_30_percent_faults_gives_the_same_store_as_a_clean_one() {
    let clean_emu = emulator(300, 0, 0).await;
    for db_clean in TestDb::all().await {
        let clean = db_clean.open().await;
        sync(&clean, &clean_emu, 2025).await;
        let expected = dump(&clean, 2025).await;
        // Several fault sequences: 500s (some with the legacy body), 502/503/504, 429 with
        // Retry-After, dropped connections mid-body, slow answers.
        for fault_seed in [1u64, 7, 42] {
            let faulty_emu = emulator(300, 30, fault_seed).await;
            let db = if db_clean.label == "sqlite" {
                TestDb::sqlite()
            } else {
                TestDb::postgres().await.unwrap()
            };
            let store = db.open().await;
            let r = sync(&store, &faulty_emu, 2025).await;
            assert!(faulty_emu.request_count() >= 1);
            assert_eq!(
                dump(&store, 2025).await,
                expected,
                "faults changed the store (seed {fault_seed}, {})",
                db.label
            );
            let paid = masspay_emulator::data::hard_cases(2025)
                .iter()
                .filter(|p| p.user_token != "usr_edge_zero")
                .count();
            assert_eq!(r.rows_received as usize, 300 + paid);
            store.close().await;
            db.cleanup().await;
        }
        clean.close().await;
        db_clean.cleanup().await;
    }
}

#[tokio::test]
async fn resync_is_idempotent_and_keeps_history() {
    let emu = emulator(100, 0, 0).await;
    for db in TestDb::all().await {
        let store = db.open().await;
        let first = sync(&store, &emu, 2025).await;
        let a = dump(&store, 2025).await;
        let second = sync(&store, &emu, 2025).await;
        assert_eq!(
            dump(&store, 2025).await,
            a,
            "re-sync changed the snapshot ({})",
            db.label
        );
        assert_eq!(
            first.body_sha256, second.body_sha256,
            "same data, same digest"
        );
        let runs = store.runs(Some(2025)).await.unwrap();
        assert_eq!(runs.len(), 2, "both runs stay in the history");
        assert!(runs.iter().all(|r| r.status == "completed"));
        assert_eq!(runs[0].rows_stored, runs[1].rows_stored);
        // Another year does not disturb this one.
        sync(&store, &emu, 2026).await;
        assert_eq!(dump(&store, 2025).await, a);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_failed_sync_leaves_the_previous_snapshot_and_is_recorded() {
    let emu = emulator(30, 0, 0).await;
    let db = TestDb::sqlite();
    let store = db.open().await;
    sync(&store, &emu, 2025).await;
    let before = dump(&store, 2025).await;
    // Every request faults and only two tries are allowed: the sync must fail cleanly.
    let broken = emulator(30, 100, 3).await;
    let err = sync_year(
        &client(&broken, 2),
        &store,
        &Settings::default().thresholds,
        2025,
        "broken",
        None,
    )
    .await
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("previous snapshot is unchanged"), "{msg}");
    assert_eq!(dump(&store, 2025).await, before);
    let runs = store.runs(Some(2025)).await.unwrap();
    assert_eq!(runs[0].status, "failed");
    assert!(runs[0].error.is_some());
}

#[tokio::test]
async fn no_tin_in_clear_in_the_sqlite_file() {
    let emu = emulator(200, 0, 0).await;
    let db = TestDb::sqlite();
    let store = db.open().await;
    sync(&store, &emu, 2025).await;
    // Gather every TIN the store holds (decrypted), then look for each in the raw file bytes.
    let tins: Vec<String> = store
        .year_payees(2025, None)
        .try_filter_map(|p| async move { Ok(p.tin.clone()) })
        .try_collect()
        .await
        .unwrap();
    assert!(tins.len() > 150);
    store.close().await;
    let mut bytes = std::fs::read(db.sqlite_path().unwrap()).unwrap();
    for ext in ["db-wal", "db-journal"] {
        if let Ok(b) = std::fs::read(db.sqlite_path().unwrap().with_extension(ext)) {
            bytes.extend(b);
        }
    }
    let hay = String::from_utf8_lossy(&bytes);
    for t in &tins {
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        assert!(
            !hay.contains(t.as_str()),
            "a TIN is in clear in the database file"
        );
        if digits.len() >= 9 {
            assert!(
                !hay.contains(&digits),
                "a TIN's digits are in clear in the database file"
            );
        }
    }
}

/// Every column of `table` on every row (secrets as whether they are set: their ciphertexts
/// differ by nonce), in `order`, read with plain SQLite.
fn table_rows(path: &std::path::Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        Ok((0..n)
            .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
            .collect::<Vec<_>>()
            .join("|"))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn store_rows(path: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT tax_year, user_token, balance, amount, amount_cents, form, business, residency, \
         sync_run_id, first_name, middle_name, last_name, business_name, email, mobile_number, \
         address1, address2, city, state_province, postal_code, postal_code_repaired, country, \
         date_of_birth_enc IS NULL, tin_enc IS NULL, tin_hash, tin_last4 \
         FROM annual_balances ORDER BY tax_year, user_token",
        "SELECT user_token, email, updated_run_id FROM payees ORDER BY user_token",
        "SELECT id, sync_run_id, tax_year, user_token, row_index, code, severity, message \
         FROM findings ORDER BY id",
        "SELECT id, tax_year, source, status, rows_received, rows_stored, rows_rejected, total, \
         reportable_count, foreign_count, body_bytes, body_sha256, tries, error \
         FROM sync_runs ORDER BY id",
        "SELECT key, value FROM meta ORDER BY key",
    ] {
        out.push(format!("-- {sql}"));
        out.extend(table_rows(path, sql));
    }
    out
}

/// Issue 10: the bulk paths (SQLite: the snapshot written on its own thread with rusqlite and
/// years read back the same way; PostgreSQL: one COPY) store exactly what the portable sqlx
/// path stores for the same bodies, row for row (SQLite: column for column), secrets equal
/// after decryption; and either reader reads either store the same. Two years, a resync over a
/// year, and a body with repaired postal codes, rounded amounts, unknown countries and the hard
/// cases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bulk_path_stores_what_the_portable_path_stores() {
    let emu = emulator(2_000, 0, 0).await;
    // The same year again from a response without some of its payees: the bulk writer replaces
    // a payee's row in place and deletes the rows it did not write; the portable one deletes the
    // year first.
    let smaller = emulator(1_200, 0, 0).await;
    let mut pairs = vec![(TestDb::sqlite(), TestDb::sqlite())];
    if let (Some(a), Some(b)) = (TestDb::postgres().await, TestDb::postgres().await) {
        pairs.push((a, b));
    }
    for (a, b) in pairs {
        let bulk = a.open().await.with_bulk_io(true);
        let portable = b.open().await.with_bulk_io(false);
        let mut reports = Vec::new();
        for store in [&bulk, &portable] {
            let first = sync(store, &emu, 2025).await;
            sync(store, &emu, 2026).await;
            let again = sync(store, &emu, 2025).await;
            assert!(first.findings > 0, "the body has findings");
            let shrunk = sync(store, &smaller, 2025).await;
            assert!(
                shrunk.payees < again.payees,
                "{} < {}",
                shrunk.payees,
                again.payees
            );
            let in_year = store.year_payee_count(2025).await.unwrap();
            assert_eq!(
                in_year, shrunk.payees,
                "only the smaller response's payees stay"
            );
            reports.push((
                first.payees,
                first.findings,
                first.total.clone(),
                again.payees,
                again.total,
                shrunk.payees,
                shrunk.total,
            ));
        }
        assert_eq!(reports[0], reports[1], "{}", a.label);
        for year in [2025, 2026] {
            let want = dump(&portable, year).await;
            assert!(want.len() > 1_200);
            assert_eq!(
                dump(&bulk, year).await,
                want,
                "bulk store: {year} {}",
                a.label
            );
            let bulk_read_portably = a.open().await.with_bulk_io(false);
            assert_eq!(
                dump(&bulk_read_portably, year).await,
                want,
                "bulk store, portable reads: {year} {}",
                a.label
            );
            let portable_read_in_bulk = b.open().await.with_bulk_io(true);
            assert_eq!(
                dump(&portable_read_in_bulk, year).await,
                want,
                "portable store, bulk reads: {year} {}",
                a.label
            );
            // The date of birth, last four and mobile number too (not in `dump`).
            let full = |s: &Store| {
                let s = s.clone();
                async move {
                    s.year_payees(year, None)
                        .map_ok(|p| {
                            format!(
                                "{}|{}|{:?}|{}|{}",
                                p.user_token,
                                p.date_of_birth,
                                p.tin_last4,
                                p.mobile_number,
                                p.tax_year
                            )
                        })
                        .try_collect::<Vec<_>>()
                        .await
                        .unwrap()
                }
            };
            assert_eq!(full(&bulk).await, full(&portable).await, "{}", a.label);
            bulk_read_portably.close().await;
            portable_read_in_bulk.close().await;
        }
        if let (Some(pa), Some(pb)) = (a.sqlite_path(), b.sqlite_path()) {
            assert_eq!(store_rows(&pa), store_rows(&pb));
        }
        // Both backends: the payees table, the findings and the run rows, as text.
        let text_rows = |url: String| async move {
            sqlx::any::install_default_drivers();
            let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            let mut out = Vec::new();
            for sql in [
                "SELECT user_token || '|' || email || '|' || updated_run_id FROM payees \
                 ORDER BY user_token",
                "SELECT id || '|' || sync_run_id || '|' || tax_year || '|' || \
                 COALESCE(user_token, '-') || '|' || COALESCE(row_index, -1) || '|' || code || \
                 '|' || message FROM findings ORDER BY id",
                "SELECT id || '|' || tax_year || '|' || status || '|' || rows_received || '|' || \
                 rows_stored || '|' || rows_rejected || '|' || total || '|' || reportable_count \
                 || '|' || foreign_count || '|' || body_bytes || '|' || COALESCE(body_sha256, '') \
                 FROM sync_runs ORDER BY id",
            ] {
                let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap();
                out.extend(rows);
            }
            out
        };
        let (ra, rb) = (
            text_rows(a.url.clone()).await,
            text_rows(b.url.clone()).await,
        );
        assert!(ra.len() > 2_000);
        assert_eq!(ra, rb, "{}", a.label);
        bulk.close().await;
        portable.close().await;
        a.cleanup().await;
        b.cleanup().await;
    }
}
