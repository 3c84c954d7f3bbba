//! `masspay-tax efile iris 1099` and `calendar`, end to end against the local MassPay emulator.

mod common;

use rust_decimal::Decimal;
use std::path::Path;
use std::process::{Command, Output};
use std::str::FromStr;

const BIN: &str = env!("CARGO_BIN_EXE_masspay-tax");

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const PAYER: [(&str, &str); 8] = [
    ("MASSPAY_TAX_PAYER_NAME", "Acme Platform Inc."),
    ("MASSPAY_TAX_PAYER_TIN", "12-3456789"),
    ("MASSPAY_TAX_PAYER_ADDRESS1", "1 Main St"),
    ("MASSPAY_TAX_PAYER_CITY", "Boston"),
    ("MASSPAY_TAX_PAYER_STATE", "MA"),
    ("MASSPAY_TAX_PAYER_ZIP", "02108"),
    ("MASSPAY_TAX_PAYER_PHONE", "(617) 555-0100"),
    ("MASSPAY_TAX_PAYER_EMAIL", "tax@acme.example"),
];

/// A store synced for 2025 from the emulator (its seeded hard cases), and the env to use it.
async fn synced() -> (
    masspay_emulator::RunningEmulator,
    tempfile::TempDir,
    Vec<(&'static str, String)>,
) {
    synced_with(0).await
}

/// [`synced`] with `bulk` generated payees beside the hard cases.
async fn synced_with(
    bulk: usize,
) -> (
    masspay_emulator::RunningEmulator,
    tempfile::TempDir,
    Vec<(&'static str, String)>,
) {
    let emu = common::emulator(bulk, 0, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let env: Vec<(&'static str, String)> = vec![
        ("MASSPAY_BASE_URL", emu.base_url()),
        (
            "MASSPAY_API_KEY",
            masspay_emulator::SANDBOX_API_KEY.to_string(),
        ),
        ("MASSPAY_TAX_KEY", common::TEST_KEY_HEX.to_string()),
    ];
    let e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = run(dir.path(), &["sync", "--year", "2025"], &e);
    assert!(o.status.success(), "{}", text(&o));
    (emu, dir, env)
}

fn with_payer<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    let mut e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    e.extend(PAYER);
    e
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", text(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn dec(v: &serde_json::Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap()).unwrap()
}

/// The records of an IRIS file as header → value maps.
fn rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_output_snapshot_and_the_box1_identity() {
    let (_emu, dir, env) = synced().await;
    let e = with_payer(&env);
    let s = json(&run(
        dir.path(),
        &[
            "efile", "iris", "1099", "--year", "2025", "--out", "efile", "--format", "json",
        ],
        &e,
    ));
    let file = dir.path().join("efile/iris-1099-NEC-2025-001.csv");
    let csv = std::fs::read_to_string(&file).unwrap();
    // The hard cases, as IRIS takes them.
    let by_account: Vec<_> = rows(&file);
    let ein = &by_account
        .iter()
        .find(|r| r["Recipient Business or Entity Name Line 1"] == "Acme Widgets LLC")
        .unwrap();
    assert_eq!(ein["Recipient Name Type"], "B");
    assert_eq!(ein["Recipient TIN Type"], "EIN");
    assert_eq!(ein["Recipient Taxpayer ID Number"].len(), 9);
    let zoe = by_account
        .iter()
        .find(|r| r["Recipient Last Name (Surname)"] == "Angstrom")
        .unwrap();
    assert_eq!(zoe["Recipient First Name"], "Zoe");
    assert_eq!(zoe["Recipient Name Type"], "I");
    let itin = by_account
        .iter()
        .find(|r| r["Recipient Last Name (Surname)"] == "Ortega")
        .unwrap();
    assert_eq!(
        itin["Recipient TIN Type"], "SSN",
        "ITIN → SSN (tin-types data)"
    );
    for r in &by_account {
        assert_eq!(r["Recipient Country"], "US", "USA → the IRS code US");
        assert_eq!(r["Payer Taxpayer ID Number"], "123456789");
        assert!(!r["Recipient Taxpayer ID Number"].contains('-'));
        assert_eq!(r["Form Account Number"].len(), 20);
        assert!(r.values().all(|v| v.is_ascii()), "{r:?}");
    }
    // Rows IRIS would reject are left out, by reason.
    let reasons = &s["left_out_by_reason"];
    for (k, at_least) in [
        ("tin_missing", 3),
        ("tin_invalid", 3),
        ("tin_type_unknown", 1),
        ("name_unrepresentable", 1),
    ] {
        assert!(reasons[k].as_u64().unwrap() >= at_least, "{k}: {reasons}");
    }
    // The box 1 identity against the worksheet.
    let report = json(&run(
        dir.path(),
        &[
            "report", "1099", "--year", "2025", "--out", "out", "--format", "json",
        ],
        &e,
    ));
    assert_eq!(s["worksheet_payees"], report["payees"]);
    assert_eq!(dec(&s["worksheet_total_box1"]), dec(&report["total_box1"]));
    assert_eq!(
        dec(&s["total_box1"]),
        dec(&report["total_box1"]) - dec(&s["left_out_box1"])
    );
    let left: Decimal = s["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| dec(&r["box1"]))
        .sum();
    assert_eq!(left, dec(&s["left_out_box1"]));
    assert_eq!(
        s["records_written"].as_u64().unwrap() + s["left_out"].as_array().unwrap().len() as u64,
        report["payees"].as_u64().unwrap()
    );
    assert!(report["next_deadline"]["date"].is_string());
    assert!(csv.contains("\r\n"), "CRLF line ends, as the template");
    insta::assert_snapshot!("iris_nec_2025_csv", csv.replace("\r\n", "\n"));
    insta::assert_json_snapshot!("iris_nec_2025_summary", s, {
        ".files[].path" => "[path]",
        ".synced_at" => "[time]",
        ".sync_run_id" => "[id]",
        ".next_deadline" => "[next deadline]",
    });
    // Text output names the files and the next deadline.
    let o = run(
        dir.path(),
        &["efile", "iris", "1099", "--year", "2025", "--out", "efile"],
        &e,
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("iris-1099-NEC-2025-001.csv"), "{t}");
    assert!(t.contains("left out by reason:"), "{t}");
    assert!(t.contains("Next deadline:"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_decides_the_columns() {
    let (_emu, dir, env) = synced().await;
    let e = with_payer(&env);
    let o = run(
        dir.path(),
        &["efile", "iris", "1099", "--year", "2025", "--out", "a"],
        &e,
    );
    assert!(o.status.success(), "{}", text(&o));
    let default = rows(&dir.path().join("a/iris-1099-NEC-2025-001.csv"));
    // Reordered, with one renamed variant, a required-column star and a trailing comma.
    let mut headers: Vec<String> =
        std::fs::read_to_string(dir.path().join("a/iris-1099-NEC-2025-001.csv"))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .split(',')
            .map(str::to_string)
            .collect();
    headers.reverse();
    for h in headers.iter_mut() {
        match h.as_str() {
            "Payer Phone" => *h = "Payer Phone Number".into(),
            "Box 1 - Nonemployee Compensation" => *h = "Box 1 - Nonemployee Compensation*".into(),
            _ => {}
        }
    }
    std::fs::write(
        dir.path().join("template.csv"),
        format!("\u{feff}{},\r\n", headers.join(",")),
    )
    .unwrap();
    let o = run(
        dir.path(),
        &[
            "efile",
            "iris",
            "1099",
            "--year",
            "2025",
            "--out",
            "b",
            "--template",
            "template.csv",
        ],
        &e,
    );
    assert!(o.status.success(), "{}", text(&o));
    let b_path = dir.path().join("b/iris-1099-NEC-2025-001.csv");
    let first = std::fs::read_to_string(&b_path).unwrap();
    assert!(
        first.starts_with("State 2 - Special Data Entries,"),
        "template order: {}",
        &first[..80]
    );
    let templated = rows(&b_path);
    assert_eq!(templated.len(), default.len());
    for (d, t) in default.iter().zip(&templated) {
        for (h, v) in d {
            let th = match h.as_str() {
                "Payer Phone" => "Payer Phone Number",
                "Box 1 - Nonemployee Compensation" => "Box 1 - Nonemployee Compensation*",
                other => other,
            };
            assert_eq!(&t[th], v, "{h}");
        }
    }
    // A header the tool does not know is refused, by name; nothing is written.
    std::fs::write(
        dir.path().join("bad.csv"),
        format!("{},Favourite Colour\n", headers.join(",")),
    )
    .unwrap();
    let o = run(
        dir.path(),
        &[
            "efile",
            "iris",
            "1099",
            "--year",
            "2025",
            "--out",
            "c",
            "--template",
            "bad.csv",
        ],
        &e,
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("\"Favourite Colour\""), "{}", text(&o));
    assert!(!dir.path().join("c").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_owner_only_split_and_no_stale_file_survives() {
    let (_emu, dir, env) = synced().await;
    let e = with_payer(&env);
    let s = json(&run(
        dir.path(),
        &[
            "efile",
            "iris",
            "1099",
            "--year",
            "2025",
            "--out",
            "efile",
            "--max-records",
            "10",
            "--format",
            "json",
        ],
        &e,
    ));
    let n = s["records_written"].as_u64().unwrap() as usize;
    let files = s["files"].as_array().unwrap();
    assert_eq!(files.len(), n.div_ceil(10));
    assert!(files.len() >= 3, "{n} records");
    for f in files {
        let p = Path::new(f["path"].as_str().unwrap());
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.path().join(p)
        };
        assert!(f["records"].as_u64().unwrap() <= 10);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", p.display());
        }
    }
    let s2 = json(&run(
        dir.path(),
        &[
            "efile", "iris", "1099", "--year", "2025", "--out", "efile", "--format", "json",
        ],
        &e,
    ));
    assert_eq!(s2["files"].as_array().unwrap().len(), 1);
    assert_eq!(
        s2["removed_stale"].as_array().unwrap().len(),
        files.len() - 1
    );
    let left: Vec<String> = std::fs::read_dir(dir.path().join("efile"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["iris-1099-NEC-2025-001.csv"]);
    // --include-invalid writes every worksheet row: the total is the worksheet's.
    let s3 = json(&run(
        dir.path(),
        &[
            "efile",
            "iris",
            "1099",
            "--year",
            "2025",
            "--out",
            "all",
            "--include-invalid",
            "--format",
            "json",
        ],
        &e,
    ));
    assert_eq!(s3["total_box1"], s3["worksheet_total_box1"]);
    assert!(s3["left_out"].as_array().unwrap().is_empty());
    assert!(!s3["written_invalid"].as_array().unwrap().is_empty());
    // --max-records past 250 is refused.
    let o = run(
        dir.path(),
        &[
            "efile",
            "iris",
            "1099",
            "--year",
            "2025",
            "--out",
            "x",
            "--max-records",
            "251",
        ],
        &e,
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("--max-records"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payer_tin_missing_and_the_second_notice_flag() {
    let (_emu, dir, env) = synced().await;
    let mut e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    e.extend(PAYER.iter().filter(|(k, _)| *k != "MASSPAY_TAX_PAYER_TIN"));
    let o = run(
        dir.path(),
        &["efile", "iris", "1099", "--year", "2025", "--out", "efile"],
        &e,
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("tin is missing"), "{}", text(&o));
    assert!(!dir.path().join("efile").exists(), "nothing written");

    let e = with_payer(&env);
    let o = run(
        dir.path(),
        &["efile", "second-notice", "usr_edge_ssn_valid"],
        &e,
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(dir.path(), &["efile", "second-notice", "usr_nobody"], &e);
    assert!(!o.status.success());
    assert!(text(&o).contains("usr_nobody"));
    let o = run(
        dir.path(),
        &["efile", "iris", "1099", "--year", "2025", "--out", "efile"],
        &e,
    );
    assert!(o.status.success(), "{}", text(&o));
    let rows = rows(&dir.path().join("efile/iris-1099-NEC-2025-001.csv"));
    let flagged: Vec<_> = rows.iter().filter(|r| r["2nd TIN Notice"] == "Y").collect();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0]["Recipient Last Name (Surname)"], "Griffin");
    let o = run(
        dir.path(),
        &[
            "efile",
            "second-notice",
            "usr_edge_ssn_valid",
            "--clear",
            "--format",
            "json",
        ],
        &e,
    );
    let j = json(&o);
    assert_eq!(j["set"], false);
    assert_eq!(j["changed"], true);
}

#[test]
fn calendar_2026_shows_february_1_2027_for_1099_nec() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["calendar", "--year", "2026"], &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let nec: Vec<&str> = t
        .lines()
        .filter(|l| l.contains("1099-NEC") && !l.starts_with("Next deadline"))
        .collect();
    assert_eq!(nec.len(), 2, "{t}");
    for l in nec {
        assert!(l.contains("Monday, February 1, 2027"), "{l}");
    }
    assert!(t.contains("2027-01-31 is a Sunday"), "{t}");
    assert!(t.contains("Monday, March 15, 2027"), "{t}");
    let o = run(
        dir.path(),
        &["calendar", "--year", "2026", "--format", "json"],
        &[],
    );
    let j = json(&o);
    let d = j["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["form"] == "1099-NEC" && d["party"] == "irs")
        .unwrap();
    assert_eq!(d["due"], "2027-02-01");
    assert_eq!(d["nominal"], "2027-01-31");
}

/// The names in a folder, sorted.
#[cfg(unix)]
fn list(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs the tool in `dir`, sends it `signal` once `ready` says it is part-way, and returns
/// how it ended.
#[cfg(unix)]
fn interrupted(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    signal: libc::c_int,
    ready: impl Fn() -> bool,
) -> Output {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let child = c.spawn().unwrap();
    let started = std::time::Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "{args:?} never got part-way"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    child.wait_with_output().unwrap()
}

/// A Ctrl-C (or SIGTERM) part-way through leaves the folder as it was: no new file, no hidden
/// temp file with full TINs, the earlier run's file untouched, exit 130.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_leaves_the_folder_as_it_was() {
    // Enough payees (and one record per file) that the run is still writing when signalled.
    let (_emu, dir, env) = synced_with(20_000).await;
    let out = dir.path().join("efile");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("iris-1099-NEC-2025-001.csv"), "old").unwrap();
    let efile = [
        "efile",
        "iris",
        "1099",
        "--year",
        "2025",
        "--out",
        "efile",
        "--max-records",
        "1",
    ];
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        // Interrupted once it has finished some files (closed temp files).
        let o = interrupted(dir.path(), &efile, &with_payer(&env), signal, || {
            list(&out).iter().filter(|n| n.ends_with(".tmp")).count() >= 20
        });
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{err}");
        assert!(err.contains("stopped"), "{err}");
        let left = list(&out);
        assert!(
            left == ["iris-1099-NEC-2025-001.csv"],
            "{err}\n{} files left, first {:?}",
            left.len(),
            &left[..left.len().min(5)]
        );
        assert_eq!(
            std::fs::read_to_string(out.join("iris-1099-NEC-2025-001.csv")).unwrap(),
            "old"
        );
    }

    // `statements` the same way: its PDF writer's thread must not finish the batch (and the
    // combined file) with the part of the year it got before the signal.
    let st = dir.path().join("st");
    std::fs::create_dir_all(st.join("1099-NEC-2025")).unwrap();
    std::fs::write(st.join("1099-NEC-2025/usr_old.pdf"), "old").unwrap();
    let statements = [
        "statements",
        "1099",
        "--year",
        "2025",
        "--out",
        "st",
        "--combined",
        "st/copy-b.pdf",
    ];
    let o = interrupted(
        dir.path(),
        &statements,
        &with_payer(&env),
        libc::SIGINT,
        || {
            list(&st)
                .iter()
                .filter(|n| n.starts_with(".1099-NEC-2025.staging-"))
                .map(|n| std::fs::read_dir(st.join(n)).map_or(0, |d| d.count()))
                .sum::<usize>()
                >= 5
        },
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert_eq!(list(&st), ["1099-NEC-2025"], "{err}");
    assert_eq!(list(&st.join("1099-NEC-2025")), ["usr_old.pdf"], "{err}");

    // `report 1099 --pdf`: stopped while the packet is being drawn (its temp file begun), the
    // earlier packet stays and no temp file (it may hold full TINs) is left.
    let rp = dir.path().join("rp");
    std::fs::create_dir_all(&rp).unwrap();
    std::fs::write(rp.join("1099-NEC-2025.pdf"), "old").unwrap();
    let report = [
        "report",
        "1099",
        "--year",
        "2025",
        "--out",
        "rp",
        "--pdf",
        "--unmask-tin",
    ];
    let o = interrupted(dir.path(), &report, &with_payer(&env), libc::SIGINT, || {
        list(&rp)
            .iter()
            .any(|n| n.contains(".pdf") && n.ends_with(".tmp"))
    });
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert_eq!(
        list(&rp),
        ["1099-NEC-2025.csv", "1099-NEC-2025.pdf"],
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(rp.join("1099-NEC-2025.pdf")).unwrap(),
        "old"
    );

    // Not interrupted, the run replaces the file.
    let o = run(
        dir.path(),
        &["efile", "iris", "1099", "--year", "2025", "--out", "efile"],
        &with_payer(&env),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_ne!(
        std::fs::read_to_string(out.join("iris-1099-NEC-2025-001.csv")).unwrap(),
        "old"
    );
}
