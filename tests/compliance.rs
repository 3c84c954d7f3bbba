//! The compliance workflow through the emulator: sync, audit TINs, TIN Matching round trip.

mod common;

use common::{TestDb, client, emulator};
use masspay_tax::audit::{AuditResult, audit_tins};
use masspay_tax::config::Settings;
use std::collections::HashMap;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_masspay-tax");

async fn audited(db: &TestDb, year: i32) -> HashMap<String, AuditResult> {
    let emu = emulator(0, 0, 0).await;
    let store = db.open().await;
    let s = Settings::default();
    masspay_tax::sync::sync_year(
        &client(&emu, 5),
        &store,
        &s.thresholds,
        year,
        "emulator",
        None,
    )
    .await
    .unwrap();
    let a = audit_tins(&store, &s, year, false).await.unwrap();
    store.close().await;
    a.results
        .into_iter()
        .map(|r| (r.user_token.clone(), r))
        .collect()
}

fn verdict(m: &HashMap<String, AuditResult>, token: &str) -> (String, String) {
    let r = m
        .get(token)
        .unwrap_or_else(|| panic!("{token} not audited"));
    (r.status.clone(), r.tin_type.clone())
}

fn has_warning(m: &HashMap<String, AuditResult>, token: &str, needle: &str) -> bool {
    m[token].warnings.iter().any(|w| w.contains(needle))
}

#[tokio::test]
async fn audit_verdicts_follow_the_irs_rules() {
    for db in TestDb::all().await {
        let m = audited(&db, 2025).await;
        let v = |t: &str| verdict(&m, t);
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(v("usr_edge_ssn_valid"), s("valid", "ssn"), "{}", db.label);
        assert_eq!(
            v("usr_edge_itin_55"),
            s("valid", "itin"),
            "ITIN group 50-65 is valid (IRS, not python-stdnum)"
        );
        assert_eq!(v("usr_edge_itin_78"), s("valid", "itin"));
        assert_eq!(v("usr_edge_ein_business"), s("valid", "ein"));
        assert_eq!(
            v("usr_edge_ein_bad_prefix"),
            s("invalid", "ein"),
            "EIN prefix 07 is not assigned"
        );
        assert!(
            m["usr_edge_ein_bad_prefix"]
                .reasons
                .iter()
                .any(|r| r.contains("07"))
        );
        assert_eq!(
            v("usr_edge_vendor_sample").0,
            "malformed",
            "123-45-678 has 8 digits"
        );
        assert_eq!(v("usr_edge_ssn_area_000"), s("invalid", "ssn"));
        assert_eq!(v("usr_edge_ssn_area_666"), s("invalid", "ssn"));
        assert_eq!(
            v("usr_edge_tin_bare9").1,
            "unknown",
            "a bare 9-digit number is never typed silently"
        );
        assert!(has_warning(&m, "usr_edge_tin_bare9", "ambiguous"));
        for t in [
            "usr_edge_tin_absent",
            "usr_edge_tin_null",
            "usr_edge_tin_empty",
        ] {
            assert_eq!(v(t), s("missing", ""), "{t}");
            assert!(
                has_warning(&m, t, "backup withholding at 24%"),
                "{t}: reportable with no TIN"
            );
        }
        assert!(has_warning(
            &m,
            "usr_edge_same_tin_a",
            "same TIN as usr_edge_same_tin_b"
        ));
        assert!(has_warning(
            &m,
            "usr_edge_same_tin_b",
            "same TIN as usr_edge_same_tin_a"
        ));
        assert!(has_warning(
            &m,
            "usr_edge_business_with_ssn",
            "business name with an individual TIN"
        ));
        assert!(has_warning(
            &m,
            "usr_edge_individual_with_ein",
            "individual (no business name) with an EIN"
        ));
        assert!(has_warning(
            &m,
            "usr_edge_foreign_gbr_us_ssn",
            "foreign payee with a US SSN"
        ));
        assert!(has_warning(&m, "usr_edge_foreign_can", "no W-8 on file"));
        assert!(has_warning(&m, "usr_edge_ssn_valid", "no W-9 on file"));
        // Masked everywhere.
        assert_eq!(m["usr_edge_ssn_valid"].tin, "***-**-8830");
        assert_eq!(m["usr_edge_ein_business"].tin, "**-***6789");
        db.cleanup().await;
    }
}

fn run(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
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

/// The emulator (hard cases only), its base URL, and a working directory whose store holds the
/// 2025 sync. Keep the emulator alive while the test uses the URL.
async fn synced_2025() -> (masspay_emulator::RunningEmulator, String, tempfile::TempDir) {
    let emu = emulator(0, 0, 0).await;
    let url = emu.base_url();
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["sync", "--year", "2025"], &api_env(&url));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (emu, url, dir)
}

fn api_env(url: &str) -> [(&str, &str); 2] {
    [
        ("MASSPAY_BASE_URL", url),
        ("MASSPAY_API_KEY", masspay_emulator::SANDBOX_API_KEY),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_cli_formats_and_fail_on_exit_code() {
    let (_emu, url, dir) = synced_2025().await;
    let env = api_env(&url);
    let o = run(
        dir.path(),
        &[
            "audit",
            "tins",
            "--year",
            "2025",
            "--only-reportable",
            "--fail-on",
            "invalid,missing",
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(3), "--fail-on makes cron jobs notice");
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("reportable (1099-NEC):"), "{table}");
    assert!(!table.contains("524-71-8830"), "masked in the table");
    let o = run(
        dir.path(),
        &["audit", "tins", "--year", "2025", "--fail-on", "malformed"],
        &[],
    );
    assert_eq!(o.status.code(), Some(3));
    let o = run(
        dir.path(),
        &["audit", "tins", "--year", "2025", "--format", "json"],
        &[],
    );
    assert!(o.status.success());
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(j["summary"]["by_status"]["valid"].as_u64().unwrap() > 10);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("524-71-8830"));
    let o = run(
        dir.path(),
        &[
            "audit",
            "tins",
            "--year",
            "2025",
            "--format",
            "csv",
            "--out",
            "audit.csv",
        ],
        &[],
    );
    assert!(o.status.success());
    let csv = std::fs::read_to_string(dir.path().join("audit.csv")).unwrap();
    assert!(csv.starts_with("user_token,status,tin_type,tin,"));
    assert!(!csv.contains("524-71-8830"));
    let o = run(
        dir.path(),
        &["audit", "tins", "--year", "2025", "--fail-on", "bogus"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--fail-on takes"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tin_matching_round_trip() {
    let (_emu, _url, dir) = synced_2025().await;
    let o = run(
        dir.path(),
        &[
            "tin-match",
            "export",
            "--year",
            "2025",
            "--out",
            "irs",
            "--only-reportable",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let req = std::fs::read_to_string(dir.path().join("irs/tin-match-2025-001.txt")).unwrap();
    insta::assert_snapshot!("tin_match_request_2025", req);
    for line in req.lines() {
        let f: Vec<&str> = line.split(';').collect();
        assert_eq!(f.len(), 4, "{line}");
        assert!(["1", "2", "3"].contains(&f[0]));
        assert!(f[1].len() == 9 && f[1].bytes().all(|b| b.is_ascii_digit()));
        assert!(
            f[2].len() <= 40
                && f[2]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " &-".contains(c)),
            "{line}"
        );
        assert!(f[3].len() <= 20);
    }
    // The IRS answers: the request line plus a result code. Code 3 (no match) for the ITIN payee,
    // 0 for everyone else; one garbage line.
    let itin_line = req
        .lines()
        .position(|l| l.contains(";912551234;"))
        .expect("ITIN sent");
    let mut answer: Vec<String> = req
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{l};{}", if i == itin_line { 3 } else { 0 }))
        .collect();
    answer.push("2;12345;Nobody;ZZZ;0".into());
    std::fs::write(dir.path().join("results.txt"), answer.join("\r\n")).unwrap();
    let o = run(
        dir.path(),
        &["tin-match", "import", "results.txt", "--format", "json"],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        s["imported"].as_u64().unwrap() as usize,
        req.lines().count()
    );
    let problems = s["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .as_str()
            .unwrap()
            .starts_with(&format!("line {}:", req.lines().count() + 1))
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("12345"),
        "the bad line's TIN is not echoed"
    );
    let o = run(
        dir.path(),
        &["audit", "tins", "--year", "2025", "--format", "json"],
        &[],
    );
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let by_token: HashMap<String, serde_json::Value> = j["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["user_token"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    assert!(
        by_token["usr_edge_itin_55"]["irs_match"]
            .as_str()
            .unwrap()
            .starts_with("3:")
    );
    assert!(
        by_token["usr_edge_ssn_valid"]["irs_match"]
            .as_str()
            .unwrap()
            .starts_with("0:")
    );
    assert!(
        by_token["usr_edge_itin_55"]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("IRS TIN Matching"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w9_import_feeds_the_audit_and_the_worksheet() {
    let (_emu, url, dir) = synced_2025().await;
    let env = api_env(&url);
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/w9-mistakes.xlsx");
    let fixture = fixture.to_str().unwrap();

    // Dry run: the same report, nothing written.
    let o = run(
        dir.path(),
        &[
            "import",
            "tax-forms",
            fixture,
            "--dry-run",
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "rows with problems make the exit code 3"
    );
    let dry: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(dry["dry_run"], true);
    let o = run(
        dir.path(),
        &["audit", "tins", "--year", "2025", "--format", "json"],
        &[],
    );
    let before: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let src = |j: &serde_json::Value, t: &str| {
        j["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["user_token"] == t)
            .unwrap()["tin_source"]
            .clone()
    };
    assert_eq!(
        src(&before, "usr_edge_ssn_valid"),
        "api",
        "dry run wrote nothing"
    );

    let o = run(dir.path(), &["import", "tax-forms", fixture], &env);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{out}");
    for expected in [
        "problem: Forms row 10, column Type of TIN (H): \"foo\" is not a TIN type",
        "problem: Forms row 11, column TIN (G): TIN has 8 digit(s)",
        "problem: Forms row 12: no user_token, internal_user_id or email",
        // A bad signature date no longer blocks a row with a good TIN (issue 6): a warning.
        "warning: Forms row 14: Date Signed (O):",
        "problem: Forms row 15, column MassPay User Token (A): duplicate user_token",
        "problem: Forms row 16, column Name (as shown on your income tax return) (D): looks like a spreadsheet formula",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    assert!(
        out.contains("warning: Forms row 7"),
        "leading zero restored with a warning\n{out}"
    );
    assert!(
        !out.contains("524718830") && !out.contains("524-71-8830"),
        "no TIN in the import report"
    );
    let new: usize = out
        .split(" new,")
        .next()
        .unwrap()
        .rsplit([' ', ';', ':'])
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(new >= 6, "{out}");

    // The audit now uses the W-9s.
    let o = run(
        dir.path(),
        &["audit", "tins", "--year", "2025", "--format", "json"],
        &[],
    );
    let after: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(src(&after, "usr_edge_ssn_valid"), "w9");
    assert_eq!(src(&after, "usr_edge_itin_55"), "w9");
    let r = after["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user_token"] == "usr_edge_itin_55")
        .unwrap();
    assert_eq!(r["status"], "valid");
    assert_eq!(r["form_on_file"], "W-9");
    assert!(
        !r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("no W-9 on file"))
    );
    let mex = after["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user_token"] == "usr_edge_foreign_mex")
        .unwrap();
    assert_eq!(mex["form_on_file"], "W-8BEN");

    // Exempt payee code 5 (corporation) on the W-9 takes the payee off the 1099-NEC worksheet.
    let o = run(
        dir.path(),
        &[
            "report", "1099", "--year", "2025", "--out", ".", "--format", "json",
        ],
        &[],
    );
    assert!(o.status.success());
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        rep["excluded_exempt"],
        serde_json::json!(["usr_edge_ein_business"]),
        "listed, never dropped silently"
    );
    let csv = std::fs::read_to_string(dir.path().join("1099-NEC-2025.csv")).unwrap();
    assert!(
        !csv.contains("usr_edge_ein_business,"),
        "exempt corporation removed"
    );
    assert!(
        csv.contains("usr_edge_ssn_valid,") && csv.contains(",w9,"),
        "W-9 TIN used in the worksheet"
    );

    // Re-importing the same file changes nothing.
    let o = run(
        dir.path(),
        &["import", "tax-forms", fixture, "--format", "json"],
        &env,
    );
    let again: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(again["inserted"], 0);
    assert_eq!(again["updated"], 0);

    // A bad --map is a clear usage error listing the fields.
    let o = run(
        dir.path(),
        &["import", "tax-forms", fixture, "--map", "nosuch=X"],
        &env,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("tin"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// "Reportable" is decided once: the worksheet, `audit tins --only-reportable` and
/// `tin-match export --only-reportable` list the same payees, and a W-9 exempt payee (code 5)
/// is in none of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worksheet_audit_and_tin_match_agree_on_every_payee() {
    let (_emu, _url, dir) = synced_2025().await;
    std::fs::write(
        dir.path().join("w9.csv"),
        "User_token,Form,Name (as shown on your income tax return),Business name/disregarded entity name,\
         Federal tax classification,TIN,Type of TIN,Exempt payee code,Date Signed\r\n\
         usr_edge_ein_business,W-9,Acme Widgets LLC,Acme Widgets LLC,C corporation,12-3456789,EIN,5,2025-02-01\r\n",
    )
    .unwrap();
    let o = run(dir.path(), &["import", "tax-forms", "w9.csv"], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));

    let o = run(
        dir.path(),
        &[
            "report", "1099", "--year", "2025", "--out", "out", "--format", "json",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["excluded_exempt"][0], "usr_edge_ein_business");
    let mut worksheet: Vec<String> =
        csv::Reader::from_path(dir.path().join("out/1099-NEC-2025.csv"))
            .unwrap()
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect();
    worksheet.sort();

    let audit = |only: bool| -> Vec<serde_json::Value> {
        let mut args = vec!["audit", "tins", "--year", "2025", "--format", "json"];
        if only {
            args.push("--only-reportable");
        }
        let o = run(dir.path(), &args, &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        j["results"].as_array().unwrap().clone()
    };
    let tokens = |rows: &[serde_json::Value]| -> Vec<String> {
        let mut t: Vec<String> = rows
            .iter()
            .map(|r| r["user_token"].as_str().unwrap().to_string())
            .collect();
        t.sort();
        t
    };
    let only = audit(true);
    assert_eq!(
        tokens(&only),
        worksheet,
        "audit --only-reportable = the worksheet"
    );
    let all = audit(false);
    let reportable: Vec<serde_json::Value> = all
        .iter()
        .filter(|r| r["form"] == "1099-NEC")
        .cloned()
        .collect();
    assert_eq!(
        tokens(&reportable),
        worksheet,
        "form 1099-NEC in the full audit = the worksheet"
    );
    for r in &all {
        assert_eq!(r["reportable"], r["form"] == "1099-NEC", "{r}");
        assert!(
            r["form_reason"].as_str().is_some_and(|s| !s.is_empty()),
            "{r}"
        );
    }
    let exempt = all
        .iter()
        .find(|r| r["user_token"] == "usr_edge_ein_business")
        .unwrap();
    assert_eq!(exempt["form"], "none");
    assert_eq!(exempt["form_reason"], "exempt_payee_code");

    // TIN Matching: only worksheet payees are sent; every one with a nine-digit TIN is, unless
    // its name has nothing the IRS format can carry (counted as "no name").
    let o = run(
        dir.path(),
        &[
            "tin-match",
            "export",
            "--year",
            "2025",
            "--out",
            "irs",
            "--only-reportable",
            "--format",
            "json",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let export: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let req = std::fs::read_to_string(dir.path().join("irs/tin-match-2025-001.txt")).unwrap();
    let sent: std::collections::HashSet<&str> =
        req.lines().map(|l| l.rsplit(';').next().unwrap()).collect();
    let store = masspay_tax_store::Store::open(
        &format!("sqlite://{}", dir.path().join("masspay-tax.db").display()),
        &masspay_tax_store::KeySource::Hex(common::TEST_KEY_HEX.into()),
    )
    .await
    .unwrap();
    let mut with_tin = 0;
    let mut matched = 0;
    for r in &only {
        let token = r["user_token"].as_str().unwrap();
        let account = masspay_tax::tinmatch::account_for(store.vault(), token);
        let has_tin = matches!(r["status"].as_str(), Some("valid" | "invalid"));
        with_tin += usize::from(has_tin);
        if sent.contains(account.as_str()) {
            assert!(has_tin, "{token} sent without a TIN");
            matched += 1;
        }
    }
    assert_eq!(matched, sent.len(), "everything sent is on the worksheet");
    let no_name = export["skipped"]["no name"].as_u64().unwrap_or(0) as usize;
    assert_eq!(with_tin, sent.len() + no_name);
    let exempt_account = masspay_tax::tinmatch::account_for(store.vault(), "usr_edge_ein_business");
    assert!(!sent.contains(exempt_account.as_str()));
    store.close().await;
}

/// A smaller second export leaves no numbered file (with full TINs) from the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tin_match_export_leaves_no_stale_files() {
    let (_emu, _url, dir) = synced_2025().await;
    let irs = dir.path().join("irs");
    std::fs::create_dir_all(&irs).unwrap();
    std::fs::write(irs.join("tin-match-2025-002.txt"), "1;123456789;OLD;X\r\n").unwrap();
    std::fs::write(irs.join("tin-match-2024-002.txt"), "other year").unwrap();
    let o = run(
        dir.path(),
        &["tin-match", "export", "--year", "2025", "--out", "irs"],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(irs.join("tin-match-2025-001.txt").exists());
    assert!(
        !irs.join("tin-match-2025-002.txt").exists(),
        "stale part removed"
    );
    assert!(
        irs.join("tin-match-2024-002.txt").exists(),
        "another year untouched"
    );
}

/// A settings file cannot replace a built-in IRS threshold by accident; a deliberate override is
/// accepted and every report says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_built_in_threshold_is_overridden_only_on_purpose() {
    let (_emu, _url, dir) = synced_2025().await;
    std::fs::write(
        dir.path().join("masspay-tax.toml"),
        "[thresholds.nec]\n2025 = \"1.00\"\n",
    )
    .unwrap();
    let args = [
        "report", "1099", "--year", "2025", "--out", "out", "--format", "json",
    ];
    let o = run(dir.path(), &args, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("override = true"),
        "the way out is named: {err}"
    );
    assert!(!dir.path().join("out/1099-NEC-2025.csv").exists());

    std::fs::write(
        dir.path().join("masspay-tax.toml"),
        "[thresholds.nec]\n2025 = { amount = \"1000.00\", override = true }\n",
    )
    .unwrap();
    let o = run(dir.path(), &args, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["threshold"], "1000.00");
    assert_eq!(j["threshold_overridden"], true);
    let o = run(
        dir.path(),
        &["report", "1099", "--year", "2025", "--out", "out"],
        &[],
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("OVERRIDE"));
    let o = run(
        dir.path(),
        &["audit", "tins", "--year", "2025", "--format", "json"],
        &[],
    );
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let below = a["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user_token"] == "usr_edge_bal_600_00")
        .expect("the $600.00 payee");
    assert_eq!(
        below["form"], "none",
        "below the overridden $1,000: {below}"
    );
}

/// The W-9's own facts reach the audit: an LLC's business name and classification silence the
/// "individual with an EIN" warning, and a W-9 TIN that is not MassPay's tax_id is flagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w9_business_facts_and_differing_tins_reach_the_audit() {
    let (_emu, _url, dir) = synced_2025().await;
    std::fs::write(
        dir.path().join("w9.csv"),
        "User_token,Form,Name (as shown on your income tax return),Business name/disregarded entity name,\
         Federal tax classification,TIN,Date Signed\r\n\
         usr_edge_individual_with_ein,W-9,Ravi Patel,Patel Design LLC,LLC - C,45-2837461,2025-02-01\r\n\
         usr_edge_ssn_valid,W-9,Olivia Bennett,,Individual/sole proprietor,212-09-7650,2025-02-01\r\n",
    )
    .unwrap();
    let o = run(
        dir.path(),
        &["import", "tax-forms", "w9.csv", "--format", "json"],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("usr_edge_ssn_valid"), "{report}");
    assert!(!report.contains("212-09-7650") && !report.contains("524-71-8830"));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        j["tin_differs_from_api"]
            .to_string()
            .contains("usr_edge_ssn_valid"),
        "{}",
        j["tin_differs_from_api"]
    );

    let o = run(
        dir.path(),
        &["audit", "tins", "--year", "2025", "--format", "json"],
        &[],
    );
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = |t: &str| {
        a["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["user_token"] == t)
            .unwrap()
            .clone()
    };
    let llc = row("usr_edge_individual_with_ein");
    assert_eq!(llc["tin_source"], "w9");
    assert!(
        !llc["warnings"]
            .to_string()
            .contains("individual (no business name) with an EIN"),
        "{llc}"
    );
    let differs = row("usr_edge_ssn_valid");
    let w = differs["warnings"].to_string();
    assert!(
        w.contains("tin_differs_from_api") && w.contains("7650") && w.contains("8830"),
        "{w}"
    );
    assert!(!w.contains("212-09-7650"));
    assert_eq!(differs["tin"], "***-**-7650", "the W-9 wins");

    let o = run(dir.path(), &["forms", "history", "usr_edge_ssn_valid"], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let h = String::from_utf8_lossy(&o.stdout);
    assert!(h.contains("7650") && !h.contains("212-09-7650"), "{h}");
}

/// `audit tins` streams (issue 10): the rows written one by one, in every format, are byte for
/// byte what the collected audit gives, on every backend, and the duplicate-TIN check (found by
/// the store from the keyed hashes, the whole year never in memory) still sees a W-9's TIN shared
/// with other payees' MassPay TINs.
#[tokio::test]
async fn the_streamed_audit_is_the_collected_audit() {
    use masspay_tax::audit::{Format, audit_tins_to, write_csv, write_table};
    use masspay_tax_rules::tin::TinStatus;
    for db in TestDb::all().await {
        let emu = emulator(0, 0, 0).await;
        let store = db.open().await;
        let s = Settings::default();
        masspay_tax::sync::sync_year(
            &client(&emu, 5),
            &store,
            &s.thresholds,
            2025,
            "emulator",
            None,
        )
        .await
        .unwrap();
        // A W-9 giving usr_edge_itin_55 the TIN usr_edge_same_tin_a/_b hold at MassPay.
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("w9.csv");
        std::fs::write(
            &csv,
            "user_token,Form,Name,TIN,Type of TIN\n\
             usr_edge_itin_55,W-9,Someone Else,318-62-4405,SSN\n",
        )
        .unwrap();
        let read = masspay_tax_import::read_file(&csv, &Default::default()).unwrap();
        let rows: Vec<_> = read
            .records
            .iter()
            .map(|r| masspay_tax::import::to_row(r, "usr_edge_itin_55".into(), "w9.csv"))
            .collect();
        store.import_tax_forms(&rows, false).await.unwrap();

        for only in [false, true] {
            let a = audit_tins(&store, &s, 2025, only).await.unwrap();
            let fail_on = [TinStatus::Invalid, TinStatus::Missing];
            let go = |f| audit_tins_to(&store, &s, 2025, only, f, &fail_on, Vec::new());
            let (json, w) = go(Format::Json).await.unwrap();
            assert_eq!(
                String::from_utf8(json).unwrap(),
                serde_json::to_string_pretty(&a).unwrap(),
                "{} only_reportable={only}",
                db.label
            );
            assert_eq!(w.failing, a.count_with_status(&fail_on));
            assert_eq!(w.summary.payees, a.results.len());
            let (csv, _) = go(Format::Csv).await.unwrap();
            assert_eq!(csv, write_csv(&a, Vec::new()).unwrap());
            let (table, _) = go(Format::Table).await.unwrap();
            let mut want = Vec::new();
            write_table(&a, &mut want).unwrap();
            assert_eq!(table, want);
            if !only {
                let w = |t: &str| {
                    a.results
                        .iter()
                        .find(|r| r.user_token == t)
                        .unwrap()
                        .warnings
                        .join(" | ")
                };
                assert!(
                    w("usr_edge_itin_55")
                        .contains("same TIN as usr_edge_same_tin_a, usr_edge_same_tin_b"),
                    "{}",
                    w("usr_edge_itin_55")
                );
                assert!(
                    w("usr_edge_same_tin_a")
                        .contains("same TIN as usr_edge_itin_55, usr_edge_same_tin_b")
                );
                assert!(a.summary.with_warnings > 0);
            }
        }
        store.close().await;
        db.cleanup().await;
    }
}
