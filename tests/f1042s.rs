//! Issue 7: the 1042-S worksheet and the Form 1042 summary, through the emulator, the CLI, a W-8
//! import fixture and per-payee overrides.

mod common;

use common::emulator;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

const BIN: &str = env!("CARGO_BIN_EXE_masspay-tax");

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .args(args)
        .env_clear()
        .env("MASSPAY_TAX_KEY", common::TEST_KEY_HEX);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn api_env(url: &str) -> [(&str, &str); 2] {
    [
        ("MASSPAY_BASE_URL", url),
        ("MASSPAY_API_KEY", masspay_emulator::SANDBOX_API_KEY),
    ]
}

async fn synced_2025() -> (masspay_emulator::RunningEmulator, String, tempfile::TempDir) {
    let emu = emulator(0, 0, 0).await;
    let url = emu.base_url();
    let dir = tempfile::tempdir().unwrap();
    ok(&run(
        dir.path(),
        &["sync", "--year", "2025"],
        &api_env(&url),
    ));
    (emu, url, dir)
}

type Row = HashMap<String, String>;

fn read_csv(path: &Path) -> Vec<Row> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            h.iter()
                .zip(rec.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn report(dir: &Path, out: &str) -> (serde_json::Value, Vec<Row>) {
    let text = ok(&run(
        dir,
        &[
            "report", "1042s", "--year", "2025", "--out", out, "--format", "json",
        ],
        &[],
    ));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = read_csv(&dir.join(out).join("1042-S-2025.csv"));
    (v, rows)
}

fn rows_of<'a>(rows: &'a [Row], token: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r["user_token"] == token).collect()
}

fn left_off(v: &serde_json::Value) -> BTreeMap<String, String> {
    v["left_off"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["user_token"].as_str().unwrap().to_string(),
                n["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Totals by income code and rate in the summary equal the sums of the rows, to the cent.
fn assert_totals_match(v: &serde_json::Value, rows: &[Row]) {
    let mut sums: BTreeMap<(String, String), (usize, Decimal, Decimal, Decimal)> = BTreeMap::new();
    for r in rows {
        let e = sums
            .entry((r["income_code"].clone(), r["rate"].clone()))
            .or_default();
        e.0 += 1;
        e.1 += dec(&r["gross_income"]);
        e.2 += dec(&r["tax_withheld"]);
        e.3 += dec(&r["tax_due"]);
        assert_eq!(
            dec(&r["under_withheld"]),
            dec(&r["tax_due"]) - dec(&r["tax_withheld"])
        );
    }
    let totals = v["totals"].as_array().unwrap();
    assert_eq!(totals.len(), sums.len());
    let (mut g, mut d) = (Decimal::ZERO, Decimal::ZERO);
    for t in totals {
        let key = (
            t["income_code"].as_str().unwrap().to_string(),
            t["rate"].as_str().unwrap().to_string(),
        );
        let s = sums[&key];
        assert_eq!(t["forms"].as_u64().unwrap() as usize, s.0, "{key:?}");
        assert_eq!(dec(t["gross_income"].as_str().unwrap()), s.1, "{key:?}");
        assert_eq!(dec(t["tax_withheld"].as_str().unwrap()), s.2, "{key:?}");
        assert_eq!(dec(t["tax_due"].as_str().unwrap()), s.3, "{key:?}");
        g += s.1;
        d += s.3;
    }
    assert_eq!(dec(v["total_gross_income"].as_str().unwrap()), g);
    assert_eq!(dec(v["total_tax_due"].as_str().unwrap()), d);
    assert_eq!(v["forms"].as_u64().unwrap() as usize, rows.len());
}

fn override_(dir: &Path, args: &[&str]) {
    let mut a = vec!["payees", "override"];
    a.extend_from_slice(args);
    ok(&run(dir, &a, &[]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_1042s_worksheet_and_the_form_1042_summary() {
    let (_emu, url, dir) = synced_2025().await;
    let d = dir.path();

    // 1. Nothing imported, no [foreign] setting: the IRS presumption, every foreign payee at
    //    30% as an unknown recipient (21/29), with the warning in words.
    let (v, rows) = report(d, "presumed");
    assert_eq!(v["services_performed"], "not_set");
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("services_performed setting is missing"),
        "{warnings}"
    );
    assert!(warnings.contains("US-source"), "{warnings}");
    for t in [
        "usr_edge_foreign_mex",
        "usr_edge_foreign_can",
        "usr_edge_foreign_gbr_us_ssn",
        "usr_edge_foreign_deu",
    ] {
        let r = rows_of(&rows, t);
        assert_eq!(r.len(), 1, "{t}");
        let r = r[0];
        assert_eq!(
            (r["income_code"].as_str(), r["rate"].as_str()),
            ("17", "30.00"),
            "{t}"
        );
        assert_eq!(
            (r["ch3_status"].as_str(), r["ch4_status"].as_str()),
            ("21", "29")
        );
        assert_eq!(r["ch3_exemption"], "00");
        assert_eq!(r["tax_withheld"], "0.00");
    }
    let mex = rows_of(&rows, "usr_edge_foreign_mex")[0];
    assert_eq!(mex["gross_income"], "4100.00");
    assert_eq!(mex["tax_due"], "1230.00");
    assert_eq!(mex["under_withheld"], "1230.00");
    assert_eq!(left_off(&v)["usr_edge_empty_country"], "unknown_country");
    let text = ok(&run(
        d,
        &["report", "1042s", "--year", "2025", "--out", "presumed"],
        &[],
    ));
    assert!(text.contains("WARNING: the [foreign] services_performed setting is missing"));
    // ... and the summary file says it too, in the same words.
    let summary_csv = std::fs::read_to_string(d.join("presumed/1042-summary-2025.csv")).unwrap();
    assert!(
        summary_csv.contains("services_performed setting is missing: the IRS presumption applies"),
        "{summary_csv}"
    );
    // Codes marked VERIFY in templates/1042s/codes.csv that the worksheet uses are named.
    assert!(
        warnings.contains("ch4_exemption code 15") && warnings.contains("is marked VERIFY"),
        "{warnings}"
    );
    assert_totals_match(&v, &rows);

    // 2. The W-8 import fixture and the per-payee decisions.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/w8-foreign-2025.csv");
    ok(&run(
        d,
        &["import", "tax-forms", fixture.to_str().unwrap()],
        &api_env(&url),
    ));
    override_(
        d,
        &[
            "usr_edge_foreign_mex",
            "--year",
            "2025",
            "--income-code",
            "12",
        ],
    );
    override_(
        d,
        &[
            "usr_edge_foreign_can",
            "--year",
            "2025",
            "--income-code",
            "12",
        ],
    );
    override_(
        d,
        &[
            "usr_edge_foreign_gbr_us_ssn",
            "--year",
            "2025",
            "--income-code",
            "17",
            "--income-code",
            "12:1000.00",
        ],
    );
    override_(
        d,
        &[
            "usr_edge_foreign_deu",
            "--year",
            "2025",
            "--us-source-percent",
            "25",
        ],
    );
    override_(
        d,
        &[
            "usr_edge_unicode_zoe",
            "--year",
            "2025",
            "--form",
            "foreign_person",
        ],
    );
    // Bad values are refused, naming the option; nothing is written.
    let o = run(
        d,
        &[
            "payees",
            "override",
            "usr_x",
            "--year",
            "2025",
            "--us-source-percent",
            "140",
        ],
        &[],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--us-source-percent"));
    let o = run(
        d,
        &[
            "payees", "override", "usr_x", "--year", "2025", "--form", "maybe",
        ],
        &[],
    );
    assert!(!o.status.success());

    let (v, rows) = report(d, "out");
    // A valid W-8BEN treaty claim: the treaty rate, exemption 04.
    let mex = rows_of(&rows, "usr_edge_foreign_mex");
    assert_eq!(mex.len(), 1);
    let mex = mex[0];
    assert_eq!(
        (
            mex["income_code"].as_str(),
            mex["rate"].as_str(),
            mex["ch3_exemption"].as_str()
        ),
        ("12", "10.00", "04")
    );
    assert_eq!(
        (mex["ch3_status"].as_str(), mex["ch4_status"].as_str()),
        ("16", "23")
    );
    assert_eq!(mex["tax_due"], "410.00");
    assert_eq!(mex["foreign_tin"], "****2AB1", "masked");
    assert_eq!(mex["date_of_birth"], "********", "masked");
    assert_eq!(mex["issues"], "");
    // An expired W-8: 30%, the failed check named; missing foreign TIN and dob flagged.
    let can = rows_of(&rows, "usr_edge_foreign_can")[0];
    assert_eq!(
        (can["rate"].as_str(), can["ch3_exemption"].as_str()),
        ("30.00", "00")
    );
    assert!(
        can["issues"].contains("treaty_certificate_expired"),
        "{}",
        can["issues"]
    );
    assert!(can["issues"].contains("2024-12-31"), "{}", can["issues"]);
    assert!(can["issues"].contains("foreign_tin missing"));
    assert!(can["issues"].contains("date_of_birth missing"));
    // The imported US-source share: half of 1800.50, and 30% of it rounded half-up.
    assert_eq!(can["us_source_percent"], "50.00");
    assert_eq!(can["gross_income"], "900.25");
    assert_eq!(can["tax_due"], "270.08", "900.25 × 30% = 270.075");
    // Two income codes: two forms; US source at 30% with 16/23 and 00.
    let gbr = rows_of(&rows, "usr_edge_foreign_gbr_us_ssn");
    assert_eq!(gbr.len(), 2);
    let by_code: HashMap<&str, &&Row> =
        gbr.iter().map(|r| (r["income_code"].as_str(), r)).collect();
    assert_eq!(by_code["17"]["gross_income"], "8100.00");
    assert_eq!(by_code["12"]["gross_income"], "1000.00");
    for r in &gbr {
        assert_eq!(
            (
                r["rate"].as_str(),
                r["ch3_status"].as_str(),
                r["ch4_status"].as_str(),
                r["ch3_exemption"].as_str()
            ),
            ("30.00", "16", "23", "00")
        );
        assert_eq!(r["us_tin"], "***-**-4321");
    }
    // A W-8BEN-E corporation, a split US-source share, a treaty-country mismatch.
    let deu = rows_of(&rows, "usr_edge_foreign_deu")[0];
    assert_eq!(
        (deu["ch3_status"].as_str(), deu["ch4_status"].as_str()),
        ("15", "22")
    );
    assert_eq!(deu["us_source_percent"], "25.00");
    assert_eq!(deu["gross_income"], "900.00");
    assert_eq!(deu["tax_due"], "270.00");
    assert_eq!(deu["rate"], "30.00");
    assert!(
        deu["issues"].contains("treaty_country_mismatch"),
        "{}",
        deu["issues"]
    );
    assert_eq!(deu["lob_code"], "07");
    assert!(
        !deu["issues"].contains("date_of_birth"),
        "an entity has none"
    );
    // A conflict settled by the user: on the 1042-S.
    let zoe = rows_of(&rows, "usr_edge_unicode_zoe")[0];
    assert_eq!(
        (zoe["rate"].as_str(), zoe["ch3_status"].as_str()),
        ("30.00", "16")
    );
    // A US/foreign conflict: a finding in both reports, on neither form.
    assert!(rows_of(&rows, "usr_edge_ssn_valid").is_empty());
    let conflicts = v["conflicts"].to_string();
    assert!(conflicts.contains("usr_edge_ssn_valid") && conflicts.contains("w8_with_us_address"));
    assert_eq!(left_off(&v)["usr_edge_ssn_valid"], "conflict");
    let nec: serde_json::Value = serde_json::from_str(&ok(&run(
        d,
        &[
            "report", "1099", "--year", "2025", "--out", "out", "--format", "json",
        ],
        &[],
    )))
    .unwrap();
    assert!(nec["conflicts"].to_string().contains("usr_edge_ssn_valid"));
    // No payee on both forms, over every payee of the year.
    let nec_rows = read_csv(&d.join("out/1099-NEC-2025.csv"));
    let on_1099: HashSet<&str> = nec_rows.iter().map(|r| r["user_token"].as_str()).collect();
    let on_1042: HashSet<&str> = rows.iter().map(|r| r["user_token"].as_str()).collect();
    assert!(on_1099.len() > 20 && on_1042.len() == 5);
    let audit: serde_json::Value = serde_json::from_str(&ok(&run(
        d,
        &["audit", "tins", "--year", "2025", "--format", "json"],
        &[],
    )))
    .unwrap();
    let results = audit["results"].as_array().expect("audit results");
    assert!(results.len() >= on_1099.len() + on_1042.len());
    for r in results {
        let t = r["user_token"].as_str().unwrap();
        assert!(!(on_1099.contains(t) && on_1042.contains(t)), "{t} on both");
    }
    // The audit's foreign checks.
    let warn = |t: &str| {
        results
            .iter()
            .find(|r| r["user_token"] == t)
            .map(|r| r["warnings"].to_string())
            .unwrap()
    };
    let can_w = warn("usr_edge_foreign_can");
    assert!(can_w.contains("w8_expired"), "{can_w}");
    assert!(can_w.contains("foreign_tin missing") && can_w.contains("date_of_birth missing"));
    assert!(warn("usr_edge_foreign_deu").contains("treaty_claim_invalid"));
    assert!(!warn("usr_edge_foreign_mex").contains("treaty_claim_invalid"));

    assert_totals_match(&v, &rows);
    insta::assert_snapshot!(
        "f1042s_2025_csv",
        std::fs::read_to_string(d.join("out/1042-S-2025.csv")).unwrap()
    );
    insta::assert_snapshot!(
        "f1042s_2025_summary_csv",
        std::fs::read_to_string(d.join("out/1042-summary-2025.csv")).unwrap()
    );
    insta::assert_json_snapshot!("f1042s_2025_summary_json", v, {
        ".file" => "[file]", ".summary_file" => "[file]", ".synced_at" => "[time]",
        ".sync_run_id" => "[id]"
    });

    // 3. Services performed outside the US: foreign-source pay, no form, listed with the reason.
    //    The chapter 4 exemption code for services is a setting (VERIFY): set, it is used and no
    //    longer a VERIFY warning; other income keeps the data file's default.
    std::fs::write(
        d.join("masspay-tax.toml"),
        "[foreign]\nservices_performed = \"outside_us\"\nch4_exemption_code_services = 16\n",
    )
    .unwrap();
    let (v, rows) = report(d, "outside");
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| !w.to_string().contains("missing"))
    );
    let ws = v["warnings"].to_string();
    assert!(!ws.contains("ch4_exemption code 16"), "{ws}");
    assert!(ws.contains("ch4_exemption code 15"), "{ws}");
    for r in &rows {
        let want = if r["income_code"] == "17" { "16" } else { "15" };
        assert_eq!(r["ch4_exemption"], want, "{r:?}");
    }
    // A code that is not a chapter 4 exemption code is refused, naming the setting.
    std::fs::write(
        d.join("masspay-tax.toml"),
        "[foreign]\nch4_exemption_code_other = \"42\"\n",
    )
    .unwrap();
    let o = run(
        d,
        &["report", "1042s", "--year", "2025", "--out", "bad"],
        &[],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("ch4_exemption_code_other"));
    assert!(!d.join("bad/1042-S-2025.csv").exists());
    assert_eq!(left_off(&v)["usr_edge_unicode_zoe"], "foreign_source");
    assert!(rows_of(&rows, "usr_edge_unicode_zoe").is_empty());
    // Royalties stay US source; a per-payee share still applies.
    assert_eq!(rows_of(&rows, "usr_edge_foreign_gbr_us_ssn").len(), 1);
    assert_eq!(
        rows_of(&rows, "usr_edge_foreign_deu")[0]["gross_income"],
        "900.00"
    );
    assert_totals_match(&v, &rows);

    // 4. Reported anyway: chapter 3 exemption code 03 at 0.00.
    std::fs::write(
        d.join("masspay-tax.toml"),
        "[foreign]\nservices_performed = \"outside_us\"\nreport_foreign_source = true\n",
    )
    .unwrap();
    let (v, rows) = report(d, "reported");
    let zoe = rows_of(&rows, "usr_edge_unicode_zoe");
    assert_eq!(zoe.len(), 1);
    assert_eq!(
        (
            zoe[0]["ch3_exemption"].as_str(),
            zoe[0]["rate"].as_str(),
            zoe[0]["tax_due"].as_str()
        ),
        ("03", "0.00", "0.00")
    );
    // The foreign 75% of the corporation's pay is a code 03 form beside its US 25%.
    let deu = rows_of(&rows, "usr_edge_foreign_deu");
    assert_eq!(deu.len(), 2);
    assert!(
        deu.iter()
            .any(|r| r["ch3_exemption"] == "03" && r["gross_income"] == "2700.00")
    );
    assert_totals_match(&v, &rows);

    // --pdf also writes the year-end packet (its contents: tests/statements.rs).
    ok(&run(
        d,
        &["report", "1042s", "--year", "2025", "--out", "pdf", "--pdf"],
        &[],
    ));
    assert!(d.join("pdf/1042-S-2025.csv").exists());
    let pdf = std::fs::read(d.join("pdf/1042-S-2025.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
}

/// Per-payee decisions round-trip on SQLite and PostgreSQL; bad values are refused before any
/// write; `--clear` removes them.
#[tokio::test]
async fn payee_overrides_round_trip_on_every_backend() {
    use masspay_tax::f1042s::{OverrideChange, set_override};
    for db in common::TestDb::all().await {
        let store = db.open().await;
        let change = OverrideChange {
            form: Some("foreign".into()),
            services_performed: Some("in-us".into()),
            us_source_percent: Some("40".into()),
            income_codes: vec!["17".into(), "12:500".into()],
            clear: false,
        };
        let v = set_override(&store, "usr_1", 2025, &change).await.unwrap();
        assert_eq!(v.form.as_deref(), Some("foreign_person"), "{}", db.label);
        assert_eq!(v.services_performed.as_deref(), Some("in_us"));
        assert_eq!(v.income_codes, vec!["17", "12:500.00"]);
        assert!(!v.payee_in_store, "no sync brought usr_1: the view says so");
        let o = store.payee_override("usr_1", 2025).await.unwrap().unwrap();
        assert_eq!(o.us_source_percent.as_deref(), Some("40"));
        assert!(store.payee_override("usr_1", 2024).await.unwrap().is_none());
        // Only the named option changes.
        let v = set_override(
            &store,
            "usr_1",
            2025,
            &OverrideChange {
                us_source_percent: Some("12.5".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(v.form.as_deref(), Some("foreign_person"));
        assert_eq!(v.us_source_percent.as_deref(), Some("12.5"));
        // A bad value: an error naming the option, nothing written.
        let bad = OverrideChange {
            form: Some("us".into()),
            income_codes: vec!["99".into()],
            ..Default::default()
        };
        let e = set_override(&store, "usr_1", 2025, &bad).await.unwrap_err();
        assert!(format!("{e:#}").contains("--income-code"), "{e:#}");
        let o = store.payee_override("usr_1", 2025).await.unwrap().unwrap();
        assert_eq!(o.form_override.as_deref(), Some("foreign_person"));
        let clear = OverrideChange {
            clear: true,
            ..Default::default()
        };
        set_override(&store, "usr_1", 2025, &clear).await.unwrap();
        assert!(store.payee_override("usr_1", 2025).await.unwrap().is_none());
        assert_eq!(store.payee_overrides(2025).await.unwrap().len(), 0);
        store.close().await;
        db.cleanup().await;
    }
}
