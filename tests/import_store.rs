//! End to end: the xlsx fixture, linked to the store's payees and written with
//! `Store::import_tax_forms`, through the CLI's `to_row` conversion.

use masspay_tax::import::to_row;
use masspay_tax_import::{ImportOptions, read_file};
use masspay_tax_store::tax_forms::Link;
use masspay_tax_store::{KeySource, Store};
use std::path::PathBuf;

#[tokio::test]
async fn fixture_into_the_store() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/w9-mistakes.xlsx");
    let read = read_file(&path, &ImportOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &format!("sqlite://{}", dir.path().join("s.db").display()),
        &KeySource::Hex("11".repeat(32)),
    )
    .await
    .unwrap();
    // The emulator's hard cases, as a sync would have stored them (only the link columns).
    for (token, email) in [
        ("usr_edge_ssn_valid", "edge.ssn.valid@example.test"),
        ("usr_edge_itin_55", "edge.itin.55@example.test"),
        ("usr_edge_ein_business", "edge.ein.business@example.test"),
        ("usr_edge_zip_lost_zero", "edge.zip.lost.zero@example.test"),
        ("usr_edge_foreign_mex", "edge.foreign.mex@example.test"),
        ("usr_edge_foreign_can", "edge.foreign.can@example.test"),
    ] {
        sqlx::query("INSERT INTO payees (user_token, email, updated_run_id) VALUES ($1, $2, 0)")
            .bind(token.to_string())
            .bind(email.to_string())
            .execute(store.pool())
            .await
            .unwrap();
    }
    let mut rows = Vec::new();
    let mut unlinked = Vec::new();
    for rec in &read.records {
        match store
            .resolve_payee(rec.user_token.as_deref(), rec.email.as_deref())
            .await
            .unwrap()
        {
            Link::Found(t) => rows.push(to_row(rec, t, "w9-mistakes.xlsx")),
            other => unlinked.push((rec.row, other)),
        }
    }
    // usr_edge_foreign_deu was not synced into this store.
    assert_eq!(unlinked, vec![(18, Link::NotFound)]);
    assert_eq!(rows.len(), 6);

    let dry = store.import_tax_forms(&rows, true).await.unwrap();
    assert_eq!((dry.inserted, dry.updated, dry.unchanged), (6, 0, 0));
    assert!(store.tax_forms().await.unwrap().is_empty());
    let done = store.import_tax_forms(&rows, false).await.unwrap();
    assert_eq!(done, dry);

    let forms = store.tax_forms().await.unwrap();
    let z = &forms["usr_edge_zip_lost_zero"];
    assert_eq!(z.form.tin.as_deref(), Some("041234567"));
    assert_eq!(z.tin_last4.as_deref(), Some("4567"));
    assert_eq!(z.form.zip.as_deref(), Some("02108"));
    assert_eq!(z.form.source_row, 7);
    let can = &forms["usr_edge_foreign_can"];
    assert_eq!(can.form.form_type, "W-8BEN");
    assert_eq!(can.form.date_of_birth.as_deref(), Some("1990-04-22"));
    assert_eq!(
        forms["usr_edge_ein_business"].form.entity_type.as_deref(),
        Some("llc_c")
    );
    let again = store.import_tax_forms(&rows, false).await.unwrap();
    assert_eq!(again.unchanged, 6);
    store.close().await;
}

#[test]
fn the_shipped_import_template_reads_cleanly() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates/w9-import-template.csv");
    let read = read_file(&path, &ImportOptions::default()).unwrap();
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    assert_eq!(read.records.len(), 1);
    let r = &read.records[0];
    assert_eq!(r.legal_name, "John Doe");
    assert_eq!(r.business_name.as_deref(), Some("ABC Company"));
    assert_eq!(r.tin.as_deref(), Some("123456789"));
}

#[test]
fn the_shipped_settings_template_parses() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates/masspay-tax.toml");
    let s = masspay_tax::config::load(Some(&path)).unwrap();
    assert_eq!(s.thresholds.nec(2026).unwrap().to_string(), "2000.00");
}
