//! The `masspay-tax` binary, end to end, against the local MassPay emulator.

mod common;

use masspay_emulator::{EmulatorConfig, RunningEmulator};
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_masspay-tax");
const SECRET_KEY: &str = "sk_test_Very5ecretKeyThatMustNeverPrint";

async fn emulator_with_key(bulk: usize) -> RunningEmulator {
    masspay_emulator::spawn(EmulatorConfig {
        bulk_payees: bulk,
        api_key: SECRET_KEY.into(),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Runs the binary in `dir` with a clean environment plus `env`.
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

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn api_env(emu_url: &str) -> Vec<(&str, &str)> {
    vec![
        ("MASSPAY_BASE_URL", emu_url),
        ("MASSPAY_API_KEY", SECRET_KEY),
        ("MASSPAY_TAX_KEY", common::TEST_KEY_HEX),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_start_runs_on_the_built_in_sandbox_without_an_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["sync", "--year", "2025"], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        err.contains("MASSPAY_API_KEY is not set") && err.contains("built-in sandbox"),
        "{err}"
    );
    assert!(
        out.starts_with("Synced tax year 2025 from sandbox (built-in emulator):"),
        "{out}"
    );
    assert!(
        out.contains("reportable on 1099-NEC (threshold $600.00)"),
        "{out}"
    );
    let o = run(
        dir.path(),
        &["report", "1099", "--year", "2025", "--out", "out"],
        &[],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(dir.path().join("out/1099-NEC-2025.csv").exists());
    assert!(
        dir.path().join("masspay-tax.db").exists(),
        "default store is sqlite://masspay-tax.db"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("masspay-tax.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "key file created with mode 0600 beside the store"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worksheet_2025_snapshot() {
    let emu = emulator_with_key(0).await;
    let url = emu.base_url();
    let dir = tempfile::tempdir().unwrap();
    let env = api_env(&url);
    let o = run(
        dir.path(),
        &["sync", "--year", "2025", "--format", "json"],
        &env,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let sync: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sync["tax_year"], 2025);
    assert_eq!(sync["threshold"], "600.00");
    let o = run(
        dir.path(),
        &[
            "report", "1099", "--year", "2025", "--out", "out", "--format", "json",
        ],
        &env,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("out/1099-NEC-2025.csv")).unwrap();
    assert_eq!(
        summary["payees"].as_u64().unwrap() as usize,
        csv.lines().count() - 1
    );
    assert_eq!(summary["tin_masked"], true);
    // The hard cases: $600.00 in, $599.99 out, formula-like names neutralised, TINs masked.
    assert!(csv.contains("usr_edge_bal_600_00,"));
    assert!(!csv.contains("usr_edge_bal_599_99,"));
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")"),
        "formula neutralised"
    );
    assert!(!csv.contains("524-71-8830"), "TIN masked");
    let o = run(
        dir.path(),
        &["findings", "--year", "2025", "--format", "json"],
        &env,
    );
    let findings: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let zip = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["user_token"] == "usr_edge_zip_lost_zero")
        .unwrap();
    assert_eq!(zip["code"], "postal_code_repaired");
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "country_unknown")
    );
    insta::assert_snapshot!("nec_2025_csv", csv);
    insta::assert_json_snapshot!("nec_2025_summary", summary, { ".file" => "[file]", ".synced_at" => "[time]", ".sync_run_id" => "[id]", ".source.origin" => "[origin]", ".next_deadline" => "[next deadline]" });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worksheet_2026_uses_2000_threshold() {
    let emu = emulator_with_key(0).await;
    let url = emu.base_url();
    let dir = tempfile::tempdir().unwrap();
    let env = api_env(&url);
    assert!(
        run(dir.path(), &["sync", "--year", "2026"], &env)
            .status
            .success()
    );
    let o = run(
        dir.path(),
        &["report", "1099", "--year", "2026", "--out", "."],
        &env,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let csv = std::fs::read_to_string(dir.path().join("1099-NEC-2026.csv")).unwrap();
    let o = run(
        dir.path(),
        &[
            "report", "1099", "--year", "2026", "--out", "pdf", "--pdf", "--format", "json",
        ],
        &env,
    );
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(s["pdf"].as_str().unwrap().ends_with("1099-NEC-2026.pdf"));
    let pdf = std::fs::read(dir.path().join("pdf/1099-NEC-2026.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        !String::from_utf8_lossy(&pdf).contains("524-71-8830"),
        "masked in the PDF too"
    );
    assert!(csv.contains("usr_edge_bal_2000_00,"));
    assert!(!csv.contains("usr_edge_bal_1999_99,"));
    insta::assert_snapshot!("nec_2026_csv", csv);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmask_tin_writes_full_tins_for_irs_bound_files() {
    let emu = emulator_with_key(0).await;
    let url = emu.base_url();
    let dir = tempfile::tempdir().unwrap();
    let env = api_env(&url);
    assert!(
        run(dir.path(), &["sync", "--year", "2025"], &env)
            .status
            .success()
    );
    let o = run(
        dir.path(),
        &[
            "report",
            "1099",
            "--year",
            "2025",
            "--out",
            ".",
            "--unmask-tin",
        ],
        &env,
    );
    let (out, _) = text(&o);
    assert!(out.contains("FULL TINs"), "{out}");
    let csv = std::fs::read_to_string(dir.path().join("1099-NEC-2025.csv")).unwrap();
    assert!(
        csv.contains(",ssn,524-71-8830,valid,4200.00,"),
        "full TIN with the right type"
    );
    assert!(csv.contains(",ein,12-3456789,valid,15000.00,"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_tin_and_no_api_key_in_any_output_even_at_trace_level() {
    let emu = emulator_with_key(50).await;
    let url = emu.base_url();
    let dir = tempfile::tempdir().unwrap();
    let mut env = api_env(&url);
    env.push(("MASSPAY_TAX_LOG", "trace"));
    let mut all = String::new();
    for args in [
        vec!["sync", "--year", "2025"],
        vec!["report", "1099", "--year", "2025", "--out", "out"],
        vec!["runs"],
        vec!["sync", "--year", "2031"],
    ] {
        let o = run(dir.path(), &args, &env);
        let (out, err) = text(&o);
        all.push_str(&out);
        all.push_str(&err);
    }
    assert!(all.len() > 1000, "trace logging produced output");
    assert!(!all.contains(SECRET_KEY), "API key printed");
    let hard = masspay_emulator::data::hard_cases(2025);
    let tins = hard.iter().filter_map(|p| match &p.tax_id {
        masspay_emulator::data::TaxId::Text(t) if t.len() >= 9 => Some(t.as_str()),
        _ => None,
    });
    for tin in tins {
        let digits: String = tin.chars().filter(char::is_ascii_digit).collect();
        assert!(!all.contains(tin), "a TIN was printed");
        if digits.len() >= 9 {
            assert!(!all.contains(&digits), "a TIN's digits were printed");
        }
    }
    // A wrong key is a clear error that names the endpoint and status, not the key.
    let o = run(
        dir.path(),
        &["sync", "--year", "2025"],
        &[
            ("MASSPAY_BASE_URL", &url),
            ("MASSPAY_API_KEY", "wrong_key_123"),
            ("MASSPAY_TAX_KEY", common::TEST_KEY_HEX),
        ],
    );
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("GET /payout/tax") && err.contains("401"),
        "{err}"
    );
    assert!(!err.contains("wrong_key_123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_errors_for_common_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &["report", "1099", "--year", "2025", "--out", "out"],
        &[("MASSPAY_TAX_KEY", common::TEST_KEY_HEX)],
    );
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("no completed sync for tax year 2025")
            && err.contains("masspay-tax sync --year 2025"),
        "{err}"
    );
    assert!(
        !dir.path().join("out/1099-NEC-2025.csv").exists(),
        "nothing half-written"
    );
    let o = run(dir.path(), &["sync", "--year", "2027"], &[]);
    let (_, err) = text(&o);
    assert!(
        err.contains("no 1099-NEC threshold is known for tax year 2027")
            && err.contains("[thresholds.nec]"),
        "{err}"
    );
    let o = run(
        dir.path(),
        &["sync", "--year", "2025", "--env", "production"],
        &[],
    );
    let (_, err) = text(&o);
    assert!(err.contains("MASSPAY_API_KEY is not set"), "{err}");
    // The wrong store key is refused, not silently used. (A read-only command never creates a
    // store, so a sandbox sync makes the one to refuse.)
    let o = run(
        dir.path(),
        &["sync", "--year", "2025", "--sandbox"],
        &[("MASSPAY_TAX_KEY", common::TEST_KEY_HEX)],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run(
        dir.path(),
        &["runs"],
        &[("MASSPAY_TAX_KEY", &"22".repeat(32))],
    );
    let (_, err) = text(&o);
    assert!(err.contains("encrypted with another key"), "{err}");
}

#[test]
fn help_explains_every_command_with_an_example() {
    let o = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    for word in [
        "sync",
        "report",
        "runs",
        "sandbox",
        "MASSPAY_API_KEY",
        "MASSPAY_TAX_DB",
        "Quick start",
    ] {
        assert!(help.contains(word), "--help lacks {word}");
    }
    for sub in [
        &["sync", "--help"][..],
        &["report", "1099", "--help"],
        &["sandbox", "serve", "--help"],
        &["runs", "--help"],
    ] {
        let o = Command::new(BIN).args(sub).output().unwrap();
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Example: masspay-tax"),
            "{sub:?} has no example"
        );
    }
}

/// A cron job that loses MASSPAY_API_KEY must not replace real payees with emulated ones: the
/// sandbox is refused into a store of real data (and the reverse), and the store is unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_and_real_data_never_mix_in_one_store() {
    let emu = emulator_with_key(0).await;
    let url = emu.base_url();
    let real = tempfile::tempdir().unwrap();
    let o = run(real.path(), &["sync", "--year", "2025"], &api_env(&url));
    assert!(o.status.success(), "{:?}", text(&o));
    let runs_before = run(real.path(), &["runs", "--format", "json"], &api_env(&url));
    let o = run(
        real.path(),
        &["sync", "--year", "2025"],
        &[("MASSPAY_TAX_KEY", common::TEST_KEY_HEX)],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("sandbox") && err.contains("--db"), "{err}");
    let runs_after = run(real.path(), &["runs", "--format", "json"], &api_env(&url));
    assert_eq!(
        runs_before.stdout, runs_after.stdout,
        "the store is untouched"
    );
    let o = run(
        real.path(),
        &[
            "report", "1099", "--year", "2025", "--out", "out", "--format", "json",
        ],
        &api_env(&url),
    );
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["source"]["sandbox"], false);

    // The reverse: a sandbox store refuses real data.
    let sandbox = tempfile::tempdir().unwrap();
    let env = [("MASSPAY_TAX_KEY", common::TEST_KEY_HEX)];
    assert!(
        run(sandbox.path(), &["sync", "--year", "2025"], &env)
            .status
            .success()
    );
    let o = run(sandbox.path(), &["sync", "--year", "2025"], &api_env(&url));
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    let o = run(
        sandbox.path(),
        &[
            "report", "1099", "--year", "2025", "--out", "out", "--format", "json",
        ],
        &env,
    );
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["source"]["sandbox"], true, "sandbox data says so");
    let o = run(
        sandbox.path(),
        &["report", "1099", "--year", "2025", "--out", "out"],
        &env,
    );
    assert!(text(&o).0.contains("SANDBOX DATA"), "{:?}", text(&o));
}

/// Syncing another year leaves a year's worksheet byte-for-byte the same, and a re-run on an
/// unchanged store writes identical bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_is_reproducible_after_another_year_is_synced() {
    let emu = emulator_with_key(20).await;
    let url = emu.base_url();
    let dir = tempfile::tempdir().unwrap();
    let env = api_env(&url);
    assert!(
        run(dir.path(), &["sync", "--year", "2025"], &env)
            .status
            .success()
    );
    let report = |out: &str| {
        let o = run(
            dir.path(),
            &["report", "1099", "--year", "2025", "--out", out],
            &env,
        );
        assert!(o.status.success(), "{:?}", text(&o));
        std::fs::read(dir.path().join(out).join("1099-NEC-2025.csv")).unwrap()
    };
    let first = report("a");
    assert_eq!(first, report("b"), "identical bytes on an unchanged store");
    assert!(
        run(dir.path(), &["sync", "--year", "2024"], &env)
            .status
            .success()
    );
    assert_eq!(first, report("c"), "2025 unchanged by a 2024 sync");
}

/// `--help` never prints an environment value: a database URL can hold a password.
#[test]
fn help_hides_the_database_password() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["sync", "--help"],
        &["report", "1099", "--help"],
    ] {
        let o = run(
            dir.path(),
            args,
            &[
                ("MASSPAY_TAX_DB", "postgres://user:hunter2pw@db.example/tax"),
                ("MASSPAY_BASE_URL", "https://user:basepw@api.example/v1.0.0"),
            ],
        );
        let (out, err) = text(&o);
        assert!(o.status.success(), "{err}");
        assert!(
            !out.contains("hunter2pw") && !out.contains("basepw"),
            "{out}"
        );
    }
    assert!(!dir.path().join("masspay-tax.db").exists());
}

/// A command that only reads never creates a store or a key file in the wrong folder.
#[test]
fn read_only_commands_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["report", "1099", "--year", "2025", "--out", "out"][..],
        &["audit", "tins", "--year", "2025"],
        &["runs"],
        &["findings", "--year", "2025"],
    ] {
        let o = run(dir.path(), args, &[]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("no store at") || err.contains("no completed sync"),
            "{err}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing created: {left:?}");
}

/// `kill -9` of a real `sync` process at whatever point it has reached (decoding, writing the
/// new snapshot, committing): the previous snapshot stays whole (the worksheet made from it is
/// byte-identical), the run of the killed process reads `interrupted` once the next sync starts,
/// and that sync completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_with_sigkill_leaves_the_previous_snapshot_and_reads_interrupted() {
    let emu = emulator_with_key(20_000).await;
    let dir = tempfile::tempdir().unwrap();
    let url = emu.base_url();
    let env = api_env(&url);
    let sync = |dir: &Path| run(dir, &["sync", "--year", "2025", "--format", "json"], &env);
    let o = sync(dir.path());
    assert!(o.status.success(), "{:?}", text(&o));
    let report = |dir: &Path, out: &str| {
        let o = run(
            dir,
            &["report", "1099", "--year", "2025", "--out", out],
            &[("MASSPAY_TAX_KEY", common::TEST_KEY_HEX)],
        );
        assert!(o.status.success(), "{:?}", text(&o));
        std::fs::read(dir.join(out).join("1099-NEC-2025.csv")).unwrap()
    };
    let before = report(dir.path(), "before");

    // Kill the second sync at a few different moments of its life.
    for delay_ms in [150u64, 600, 1500] {
        let mut c = Command::new(BIN);
        c.current_dir(dir.path())
            .args(["sync", "--year", "2025"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (k, v) in &env {
            c.env(k, v);
        }
        let mut child = c.spawn().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        assert_eq!(
            report(dir.path(), &format!("after-{delay_ms}")),
            before,
            "killed after {delay_ms} ms: the worksheet still comes from the previous snapshot"
        );
    }

    let o = sync(dir.path());
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run(
        dir.path(),
        &["runs", "--year", "2025", "--format", "json"],
        &[("MASSPAY_TAX_KEY", common::TEST_KEY_HEX)],
    );
    let runs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let statuses: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert!(
        !statuses.contains(&"running"),
        "no run stays `running` after the next sync started: {statuses:?}"
    );
    eprintln!("run statuses after the kills: {statuses:?}");
    let completed = statuses.iter().filter(|s| **s == "completed").count();
    let interrupted = statuses.iter().filter(|s| **s == "interrupted").count();
    // A kill that landed after the commit leaves a completed run; every other one is interrupted.
    assert_eq!(completed + interrupted, statuses.len(), "{statuses:?}");
    assert!(completed >= 2, "{statuses:?}");
    assert_eq!(
        report(dir.path(), "final"),
        before,
        "same data, same worksheet"
    );
}
