//! Year-end at scale: `sync` then `report 1099` of 100,000 and 1,000,000 emulated payees over
//! loopback, each as its own process, with wall time and peak RSS (plain `harness = false` bench,
//! not a test).
//!
//! Run: `cargo bench --bench year_end` (both sizes), or choose sizes with arguments or the
//! environment: `cargo bench --bench year_end -- 100000` or `YEAR_END_SIZES=100k,1m`.
//! With `MASSPAY_TAX_TEST_POSTGRES=postgres://USER@HOST/DB` set it also runs against a fresh
//! PostgreSQL database (created and dropped by the bench; the server's own memory is not counted).
//!
//! Everything runs as separate processes so each figure is the tool's own: the emulator
//! (`masspay-tax sandbox serve`) serves on a free loopback port, then `masspay-tax sync` and
//! `masspay-tax report 1099` run against it with a SQLite file store in a temp dir. Wall time is
//! measured around each child (process start to exit); peak RSS is the child's `ru_maxrss` from
//! `wait4`. End to end is sync + report (wall summed, peak RSS the larger of the two).
//!
//! After the report it runs `audit tins` (json, csv) and the other year walks (`report 1042s`,
//! `tin-match export`, `efile iris 1099`, and `report 1099 --pdf` as `packet`;
//! `YEAR_END_WALKS=0` skips them), each as its own process with its peak RSS; then, with W-9s
//! imported for 30% of the US payees (`import-w9`), `report 1099`, `audit tins` and `efile iris
//! 1099` again (`report-w9`, `audit-w9`, `efile-w9`; `YEAR_END_FORMS=0` skips them). After those it re-syncs the same year on the same store (`resync`;
//! `YEAR_END_RESYNC=0` skips it).
//!
//! `--recorded` (or `YEAR_END_RECORDED=1`) writes the emulator's tax body for the size to a file
//! first and has the emulator serve that file byte for byte (`sandbox serve --tax-body FILE`),
//! so the sync figure is the client's alone: `cargo bench --bench year_end -- 1m --recorded`.
//!
//! The binary is the bench-profile build Cargo makes for benches (`CARGO_BIN_EXE_masspay-tax`,
//! i.e. `target/release/masspay-tax`); `MASSPAY_TAX_BIN` overrides it.
//!
//! Target (issue): on a 2-core machine, 1,000,000 payees end to end in under 60 s and under
//! 500 MB peak RSS.
//!
//! Alerts mode (issue 12): `cargo bench --bench year_end -- alerts 1m` (or `YEAR_END_MODE=alerts`)
//! instead runs `masspay-tax alerts run --format json` twice on a fresh store: the first run pulls
//! the year (a recorded sync) and records and delivers every alert (the worst case: every payee
//! new), the second is the steady daily run (the year pulled again, nothing new). Same target.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const YEAR: i32 = 2025;
const DEFAULT_SIZES: &[u64] = &[100_000, 1_000_000];
const KEY_HEX: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const TARGET_SIZE: u64 = 1_000_000;
const TARGET_WALL_S: f64 = 60.0;
const TARGET_RSS_MB: f64 = 500.0;

fn bin() -> PathBuf {
    match std::env::var_os("MASSPAY_TAX_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_masspay-tax")),
    }
}

/// `100000`, `100_000`, `100k`, `1m`.
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "").to_ascii_lowercase();
    let (num, mul) = match s.as_bytes().last()? {
        b'k' => (&s[..s.len() - 1], 1_000),
        b'm' => (&s[..s.len() - 1], 1_000_000),
        _ => (s.as_str(), 1),
    };
    num.parse::<u64>().ok().map(|n| n * mul)
}

fn sizes() -> Vec<u64> {
    // `cargo bench` passes `--bench`; any non-flag argument is a size.
    let from_args: Vec<u64> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-') && a != "alerts")
        .flat_map(|a| {
            a.split(',')
                .map(|s| parse_size(s).unwrap_or_else(|| panic!("not a size: {s:?}")))
                .collect::<Vec<_>>()
        })
        .collect();
    if !from_args.is_empty() {
        return from_args;
    }
    match std::env::var("YEAR_END_SIZES") {
        Ok(v) if !v.trim().is_empty() => v
            .split(',')
            .map(|s| parse_size(s).unwrap_or_else(|| panic!("YEAR_END_SIZES: not a size: {s:?}")))
            .collect(),
        _ => DEFAULT_SIZES.to_vec(),
    }
}

/// One finished child process.
struct Measured {
    wall: Duration,
    max_rss_kb: u64,
    cpu: Duration,
    stdout: String,
}

fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// Runs `cmd` to completion and reaps it with `wait4` for its own resource usage.
fn run_measured(what: &str, cmd: &mut Command, dir: &Path) -> Measured {
    let out_path = dir.join(format!("{what}.stdout"));
    let err_path = dir.join(format!("{what}.stderr"));
    cmd.stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"));
    let started = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("starting {what}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; wait4 fills it in.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own child, not yet reaped (std's Child is never waited on).
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            panic!("wait4 on {what}: {e}");
        }
    }
    let wall = started.elapsed();
    drop(child);
    // Only a summary's worth: a child's peak RSS as Linux reports it starts from this process's
    // own (the image it was spawned from), so this process must stay small. A large stdout
    // (`import --format json` lists every row) read in here would raise every later figure.
    let stdout = match std::fs::metadata(&out_path) {
        Ok(m) if m.len() <= 1 << 20 => std::fs::read_to_string(&out_path).unwrap_or_default(),
        _ => String::new(),
    };
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !ok {
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        panic!("{what} failed (wait status {status:#x})\nstdout:\n{stdout}\nstderr:\n{stderr}");
    }
    Measured {
        wall,
        // Linux reports ru_maxrss in KiB.
        max_rss_kb: ru.ru_maxrss.max(0) as u64,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        stdout,
    }
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The emulator as a child process; stopped (SIGINT, then SIGKILL) when dropped.
struct Emulator {
    child: Child,
    base_url: String,
}

impl Emulator {
    /// Serves `bulk` generated payees, or (`recorded`) the recorded body in that file.
    fn start(bulk: u64, recorded: Option<&Path>, dir: &Path) -> Emulator {
        let port = free_port();
        let mut cmd = Command::new(bin());
        cmd.args(["sandbox", "serve", "--port", &port.to_string()]);
        match recorded {
            Some(body) => cmd.args(["--payees", "0", "--tax-body"]).arg(body),
            None => cmd.args(["--payees", &bulk.to_string()]),
        };
        let child = cmd
            .current_dir(dir)
            .env("MASSPAY_TAX_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(dir.join("emulator.stderr")).expect("stderr file"))
            .spawn()
            .expect("starting the emulator");
        let mut emu = Emulator {
            child,
            base_url: format!("http://127.0.0.1:{port}/v1.0.0/payout/"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = emu.child.try_wait() {
                panic!("the emulator exited early ({st}); see {}", dir.display());
            }
            if answers(port) {
                return emu;
            }
            assert!(
                Instant::now() < deadline,
                "the emulator did not answer on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Peak RSS of the emulator so far (VmHWM), in KiB.
    fn peak_rss_kb(&self) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        s.lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SAFETY: signalling our own child by pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real API call (authorized) gets a 200.
fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!(
        "GET /v1.0.0/payout/account/balance HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Authorization: Bearer {}\r\nConnection: close\r\n\r\n",
        masspay_emulator::SANDBOX_API_KEY
    );
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// A store for one run: a SQLite file in the temp dir, or a fresh PostgreSQL database.
struct Db {
    label: &'static str,
    url: String,
    admin: Option<(String, String)>,
}

fn pg_exec(url: &str, sql: String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
            .await
            .expect("PostgreSQL reachable at MASSPAY_TAX_TEST_POSTGRES");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .expect("admin statement");
    });
}

impl Db {
    fn sqlite(dir: &Path) -> Db {
        Db {
            label: "sqlite",
            url: format!("sqlite://{}", dir.join("store.db").display()),
            admin: None,
        }
    }

    fn postgres(size: u64) -> Option<Db> {
        let base = std::env::var("MASSPAY_TAX_TEST_POSTGRES")
            .ok()
            .filter(|s| !s.trim().is_empty())?;
        let name = format!("mt_bench_{}_{size}", std::process::id());
        pg_exec(&base, format!("DROP DATABASE IF EXISTS {name}"));
        pg_exec(&base, format!("CREATE DATABASE {name}"));
        let (head, _) = base
            .rsplit_once('/')
            .expect("MASSPAY_TAX_TEST_POSTGRES has a database path");
        let query = base
            .split_once('?')
            .map(|(_, q)| format!("?{q}"))
            .unwrap_or_default();
        Some(Db {
            label: "postgres",
            url: format!("{head}/{name}{query}"),
            admin: Some((base, name)),
        })
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((base, name)) = self.admin.take() {
            pg_exec(
                &base,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

fn tool(emu: &Emulator, db: &Db, dir: &Path) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(dir)
        .env("MASSPAY_BASE_URL", &emu.base_url)
        .env("MASSPAY_API_KEY", masspay_emulator::SANDBOX_API_KEY)
        .env("MASSPAY_TAX_DB", &db.url)
        .env("MASSPAY_TAX_KEY", KEY_HEX)
        .env("MASSPAY_TAX_LOG", "warn")
        .env_remove("MASSPAY_TAX_KEY_FILE")
        .env_remove("MASSPAY_TAX_CONFIG");
    c
}

fn json_i64(v: &serde_json::Value, k: &str) -> i64 {
    v[k].as_i64()
        .unwrap_or_else(|| panic!("no integer {k:?} in {v}"))
}

struct Row {
    payees: u64,
    backend: &'static str,
    phase: &'static str,
    wall: Duration,
    rss_kb: u64,
    cpu: Duration,
    rows: i64,
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn print_row(r: &Row) {
    let secs = r.wall.as_secs_f64();
    println!(
        "{:>9}  {:<8}  {:<10}  {:>8.2}  {:>12.1}  {:>7.2}  {:>10.0}",
        r.payees,
        r.backend,
        r.phase,
        secs,
        mb(r.rss_kb),
        r.cpu.as_secs_f64(),
        r.rows as f64 / secs.max(1e-9)
    );
}

fn run_one(size: u64, db_kind: &str, rows_out: &mut Vec<Row>) {
    let dir = tempfile::Builder::new()
        .prefix("masspay-tax-bench-")
        .tempdir()
        .expect("temp dir");
    let db = match db_kind {
        "postgres" => match Db::postgres(size) {
            Some(db) => db,
            None => return,
        },
        _ => Db::sqlite(dir.path()),
    };
    let recorded = recorded_mode().then(|| {
        let body = dir.path().join("tax-body.json");
        let started = Instant::now();
        let pop =
            masspay_emulator::data::Population::new(masspay_emulator::DEFAULT_SEED, size as usize);
        let mut out = std::io::BufWriter::new(File::create(&body).expect("body file"));
        let rows = masspay_emulator::write_tax_body(
            &pop,
            YEAR,
            Some(rust_decimal::Decimal::ZERO),
            &mut out,
        )
        .expect("writing the recorded body");
        out.flush().expect("writing the recorded body");
        let bytes = std::fs::metadata(&body).map(|m| m.len()).unwrap_or(0);
        println!(
            "           (recorded body: {rows} rows, {:.1} MB, written in {:.1} s; served from the file)",
            bytes as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
        body
    });
    let emu = Emulator::start(size, recorded.as_deref(), dir.path());

    let sync = run_measured(
        "sync",
        tool(&emu, &db, dir.path()).args(["sync", "--year", &YEAR.to_string(), "--format", "json"]),
        dir.path(),
    );
    let emu_rss = emu.peak_rss_kb();
    drop(emu);
    let s: serde_json::Value = serde_json::from_str(&sync.stdout).expect("sync JSON");
    let received = json_i64(&s, "rows_received");
    let stored = json_i64(&s, "payees");
    // sync asks for `amount_threshold=0` (balance > 0): count what the emulator should send.
    let pop =
        masspay_emulator::data::Population::new(masspay_emulator::DEFAULT_SEED, size as usize);
    let expected = (0..pop.len())
        .filter(|&i| {
            pop.balance_at(YEAR, i)
                .is_some_and(|(_, b)| b > rust_decimal::Decimal::ZERO)
        })
        .count() as i64;
    assert_eq!(
        received,
        expected,
        "every emulated row with a positive balance arrives ({size} bulk + {} hard cases)",
        pop.hard_count()
    );

    let out = dir.path().join("out");
    let report = run_measured(
        "report",
        tool_no_source(&db, dir.path()).args([
            "report",
            "1099",
            "--year",
            &YEAR.to_string(),
            "--out",
            out.to_str().expect("utf-8 temp path"),
            "--format",
            "json",
        ]),
        dir.path(),
    );
    let r: serde_json::Value = serde_json::from_str(&report.stdout).expect("report JSON");
    let reported = json_i64(&r, "payees");
    assert_eq!(
        reported,
        json_i64(&s, "reportable_1099_nec"),
        "the worksheet lists every reportable payee"
    );
    let csv = PathBuf::from(r["file"].as_str().expect("report file"));
    let csv_bytes = std::fs::metadata(&csv).map(|m| m.len()).unwrap_or(0);
    let db_bytes = std::fs::metadata(dir.path().join("store.db"))
        .map(|m| m.len())
        .unwrap_or(0);

    let rows = [
        Row {
            payees: size,
            backend: db.label,
            phase: "sync",
            wall: sync.wall,
            rss_kb: sync.max_rss_kb,
            cpu: sync.cpu,
            rows: received,
        },
        Row {
            payees: size,
            backend: db.label,
            phase: "report",
            wall: report.wall,
            rss_kb: report.max_rss_kb,
            cpu: report.cpu,
            rows: stored,
        },
        Row {
            payees: size,
            backend: db.label,
            phase: "end-to-end",
            wall: sync.wall + report.wall,
            rss_kb: sync.max_rss_kb.max(report.max_rss_kb),
            cpu: sync.cpu + report.cpu,
            rows: received,
        },
    ];
    for row in &rows {
        print_row(row);
    }
    println!(
        "           ({stored} payees stored, {reported} on the 1099-NEC; CSV {:.1} MB{}; emulator peak RSS {})",
        csv_bytes as f64 / 1e6,
        if db_bytes > 0 {
            format!(", SQLite file {:.1} MB", db_bytes as f64 / 1e6)
        } else {
            String::new()
        },
        emu_rss
            .map(|k| format!("{:.1} MB", mb(k)))
            .unwrap_or_else(|| "?".into())
    );
    rows_out.extend(rows);
    audit_phases(size, &db, dir.path(), stored, rows_out);
    walk_phases(size, &db, dir.path(), stored, rows_out);
    forms_phases(size, &db, dir.path(), stored, rows_out);

    // A re-sync of the year already in the store (the same body): the previous snapshot is
    // replaced. Skipped with `YEAR_END_RESYNC=0`.
    if !std::env::var("YEAR_END_RESYNC").is_ok_and(|v| v.trim() == "0") {
        let emu = Emulator::start(size, recorded.as_deref(), dir.path());
        let resync = run_measured(
            "resync",
            tool(&emu, &db, dir.path()).args([
                "sync",
                "--year",
                &YEAR.to_string(),
                "--format",
                "json",
            ]),
            dir.path(),
        );
        drop(emu);
        let r: serde_json::Value = serde_json::from_str(&resync.stdout).expect("resync JSON");
        assert_eq!(
            json_i64(&r, "payees"),
            stored,
            "the re-sync stores the same payees"
        );
        let row = Row {
            payees: size,
            backend: db.label,
            phase: "resync",
            wall: resync.wall,
            rss_kb: resync.max_rss_kb,
            cpu: resync.cpu,
            rows: received,
        };
        print_row(&row);
        rows_out.push(row);
    }
}

/// `audit tins --format json|csv --out FILE` over the synced store, each as its own process
/// (issue 10: memory flat in the payee count, under 5 s at 1,000,000 payees). Skipped with
/// `YEAR_END_AUDIT=0`.
fn audit_phases(size: u64, db: &Db, dir: &Path, stored: i64, rows_out: &mut Vec<Row>) {
    if std::env::var("YEAR_END_AUDIT").is_ok_and(|v| v.trim() == "0") {
        return;
    }
    for (phase, format) in [("audit-json", "json"), ("audit-csv", "csv")] {
        let file = dir.join(format!("audit.{format}"));
        let m = run_measured(
            phase,
            tool_no_source(db, dir).args([
                "audit",
                "tins",
                "--year",
                &YEAR.to_string(),
                "--format",
                format,
                "--out",
                file.to_str().expect("utf-8 temp path"),
            ]),
            dir,
        );
        let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        let note = format!(
            "{stored} payees audited; {format} {:.1} MB",
            bytes as f64 / 1e6
        );
        push_phase(rows_out, size, db, phase, &m, stored, &note);
    }
}

/// Prints one measured phase with a note under it and keeps it for the summary.
fn push_phase(
    rows_out: &mut Vec<Row>,
    size: u64,
    db: &Db,
    phase: &'static str,
    m: &Measured,
    rows: i64,
    note: &str,
) {
    let row = Row {
        payees: size,
        backend: db.label,
        phase,
        wall: m.wall,
        rss_kb: m.max_rss_kb,
        cpu: m.cpu,
        rows,
    };
    print_row(&row);
    println!("           ({note})");
    rows_out.push(row);
}

/// A `[payer]` from the environment (`efile` needs one; the packet's cover shows it).
fn with_payer(cmd: &mut Command) {
    for (k, v) in [
        ("NAME", "Acme Platform Inc."),
        ("TIN", "12-3456789"),
        ("ADDRESS1", "1 Main St"),
        ("CITY", "Boston"),
        ("STATE", "MA"),
        ("ZIP", "02108"),
        ("PHONE", "617-555-0100"),
        ("EMAIL", "tax@acme.example"),
    ] {
        cmd.env(format!("MASSPAY_TAX_PAYER_{k}"), v);
    }
}

/// The other commands that walk a year, each as its own process (issue 10: memory flat in the
/// payee count for every command that walks a year): `report 1042s`, `tin-match export` and
/// `efile iris 1099` (with a `[payer]` from the environment), `report 1099 --pdf` (the packet).
/// Skipped with `YEAR_END_WALKS=0`.
fn walk_phases(size: u64, db: &Db, dir: &Path, stored: i64, rows_out: &mut Vec<Row>) {
    if std::env::var("YEAR_END_WALKS").is_ok_and(|v| v.trim() == "0") {
        return;
    }
    let year = YEAR.to_string();
    let phases: [(&'static str, &[&str]); 4] = [
        (
            "1042s",
            &[
                "report", "1042s", "--year", &year, "--format", "json", "--out",
            ],
        ),
        (
            "tin-match",
            &[
                "tin-match",
                "export",
                "--year",
                &year,
                "--format",
                "json",
                "--out",
            ],
        ),
        (
            "efile",
            &[
                "efile", "iris", "1099", "--year", &year, "--format", "json", "--out",
            ],
        ),
        // The year-end packet (cover, exceptions, worksheet pages) beside the worksheet.
        (
            "packet",
            &[
                "report", "1099", "--year", &year, "--pdf", "--format", "json", "--out",
            ],
        ),
    ];
    for (phase, args) in phases {
        let out = dir.join(format!("walk-{phase}"));
        let mut cmd = tool_no_source(db, dir);
        cmd.args(args).arg(&out);
        with_payer(&mut cmd);
        let m = run_measured(phase, &mut cmd, dir);
        let files = std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0);
        let note = format!("{stored} payees walked; {files} files written");
        push_phase(rows_out, size, db, phase, &m, stored, &note);
    }
}

/// With W-9s on file for 30% of the US payees (a sheet the bench writes: their tokens from an
/// `audit tins` CSV, made-up valid SSNs), `import tax-forms` and the year walks again: the walks
/// read the forms beside the year, so memory stays flat in their number too. Skipped with
/// `YEAR_END_FORMS=0`.
fn forms_phases(size: u64, db: &Db, dir: &Path, stored: i64, rows_out: &mut Vec<Row>) {
    if std::env::var("YEAR_END_FORMS").is_ok_and(|v| v.trim() == "0") {
        return;
    }
    let year = YEAR.to_string();
    let tokens_csv = dir.join("w9-tokens.csv");
    let listed = tool_no_source(db, dir)
        .args(["audit", "tins", "--year", &year, "--format", "csv", "--out"])
        .arg(&tokens_csv)
        .output()
        .expect("audit for the W-9 sheet");
    assert!(listed.status.success(), "audit for the W-9 sheet failed");
    let mut r = csv::Reader::from_path(&tokens_csv).expect("the audit CSV");
    let headers = r.headers().expect("audit CSV headers").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .expect("audit CSV column")
    };
    let (token_col, country_col) = (col("user_token"), col("country"));
    let sheet = dir.join("w9s.csv");
    let mut w = csv::Writer::from_path(&sheet).expect("the W-9 sheet");
    w.write_record(["user_token", "Form", "Name", "TIN", "Type of TIN"])
        .expect("W-9 sheet header");
    // A fixed LCG: the same sheet every run.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (x >> 33) % n
    };
    let mut rows = 0usize;
    for rec in r.records() {
        let rec = rec.expect("an audit CSV row");
        if !matches!(rec.get(country_col), Some("USA" | "US")) {
            continue;
        }
        if next(10) >= 3 {
            continue;
        }
        let token = rec.get(token_col).unwrap_or_default();
        let ssn = format!(
            "{:03}-{:02}-{:04}",
            1 + next(665),
            1 + next(99),
            1 + next(9999)
        );
        w.write_record([token, "W-9", "Bench Payee", ssn.as_str(), "SSN"])
            .expect("a W-9 row");
        rows += 1;
    }
    w.flush().expect("the W-9 sheet");
    drop(w);
    let m = run_measured(
        "import-w9",
        tool_no_source(db, dir)
            .args(["import", "tax-forms"])
            .arg(&sheet),
        dir,
    );
    push_phase(
        rows_out,
        size,
        db,
        "import-w9",
        &m,
        rows as i64,
        &format!("{rows} W-9 rows imported"),
    );
    let phases: [(&'static str, &[&str]); 3] = [
        (
            "report-w9",
            &[
                "report", "1099", "--year", &year, "--format", "json", "--out",
            ],
        ),
        (
            "audit-w9",
            &["audit", "tins", "--year", &year, "--format", "csv", "--out"],
        ),
        (
            "efile-w9",
            &[
                "efile", "iris", "1099", "--year", &year, "--format", "json", "--out",
            ],
        ),
    ];
    for (phase, args) in phases {
        let out = dir.join(phase);
        let mut cmd = tool_no_source(db, dir);
        cmd.args(args);
        if phase == "audit-w9" {
            cmd.arg(out.with_extension("csv"));
        } else {
            cmd.arg(&out);
        }
        with_payer(&mut cmd);
        let m = run_measured(phase, &mut cmd, dir);
        let note = format!("{stored} payees walked with {rows} W-9s on file");
        push_phase(rows_out, size, db, phase, &m, stored, &note);
    }
}

/// `--recorded` (or `YEAR_END_RECORDED=1`): the emulator serves a body recorded to a file
/// beforehand, so its own generation cost is not in the sync figure.
fn recorded_mode() -> bool {
    std::env::args().any(|a| a == "--recorded")
        || std::env::var("YEAR_END_RECORDED").is_ok_and(|v| v == "1" || v == "true")
}

fn alerts_mode() -> bool {
    std::env::args().skip(1).any(|a| a == "alerts")
        || std::env::var("YEAR_END_MODE").is_ok_and(|m| m.trim() == "alerts")
}

/// `alerts run` twice over `size` emulated payees: a first run on a fresh store, then the
/// steady run.
fn run_alerts(size: u64, db_kind: &str, rows_out: &mut Vec<Row>) {
    let dir = tempfile::Builder::new()
        .prefix("masspay-tax-bench-")
        .tempdir()
        .expect("temp dir");
    let db = match db_kind {
        "postgres" => match Db::postgres(size) {
            Some(db) => db,
            None => return,
        },
        _ => Db::sqlite(dir.path()),
    };
    let emu = Emulator::start(size, None, dir.path());
    // Every notice goes to the stdout channel (discarded with --format json) and is marked sent.
    let config = dir.path().join("masspay-tax.toml");
    std::fs::write(&config, "[notify]\nstdout = true\n").expect("config file");
    let mut rows = Vec::new();
    for phase in ["alerts-1st", "alerts-2nd"] {
        let m = run_measured(
            phase,
            tool(&emu, &db, dir.path())
                .env("MASSPAY_TAX_CONFIG", &config)
                .args([
                    "alerts",
                    "run",
                    "--year",
                    &YEAR.to_string(),
                    "--format",
                    "json",
                ]),
            dir.path(),
        );
        let v: serde_json::Value = serde_json::from_str(&m.stdout).expect("alerts JSON");
        let summary = &v["summary"];
        let payees = json_i64(summary, "payees");
        assert_eq!(
            v["alerts"].as_array().map_or(0, Vec::len) as i64,
            json_i64(summary, "alerts")
        );
        if phase == "alerts-2nd" {
            assert_eq!(
                json_i64(summary, "alerts"),
                0,
                "nothing new on the second run"
            );
        }
        println!(
            "           ({phase}: {payees} payees; {} crossed, {} approaching, {} w8_missing; {} alerts sent)",
            json_i64(summary, "crossed"),
            json_i64(summary, "approaching"),
            json_i64(summary, "w8_missing"),
            json_i64(summary, "alerts")
        );
        rows.push(Row {
            payees: size,
            backend: db.label,
            phase,
            wall: m.wall,
            rss_kb: m.max_rss_kb,
            cpu: m.cpu,
            rows: payees,
        });
    }
    for row in &rows {
        print_row(row);
    }
    rows_out.extend(rows);
}

/// The report needs no MassPay source.
fn tool_no_source(db: &Db, dir: &Path) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(dir)
        .env_remove("MASSPAY_BASE_URL")
        .env_remove("MASSPAY_API_KEY")
        .env("MASSPAY_TAX_DB", &db.url)
        .env("MASSPAY_TAX_KEY", KEY_HEX)
        .env("MASSPAY_TAX_LOG", "warn")
        .env_remove("MASSPAY_TAX_KEY_FILE")
        .env_remove("MASSPAY_TAX_CONFIG");
    c
}

fn main() {
    let bin = bin();
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build --release --bin masspay-tax` (or run through `cargo bench`)",
        bin.display()
    );
    let sizes = sizes();
    let mut backends = vec!["sqlite"];
    if std::env::var("MASSPAY_TAX_TEST_POSTGRES").is_ok_and(|s| !s.trim().is_empty()) {
        backends.push("postgres");
    }
    println!(
        "year_end: {} for tax year {YEAR} over loopback; binary {}; {} CPUs",
        if alerts_mode() {
            "alerts run (fresh store, then steady)"
        } else {
            "sync + report 1099"
        },
        bin.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:>9}  {:<8}  {:<10}  {:>8}  {:>12}  {:>7}  {:>10}",
        "payees", "store", "phase", "wall s", "peak RSS MB", "CPU s", "rows/s"
    );
    let alerts = alerts_mode();
    let mut all = Vec::new();
    for &size in &sizes {
        for &b in &backends {
            if alerts {
                run_alerts(size, b, &mut all);
            } else {
                run_one(size, b, &mut all);
            }
        }
    }
    for r in all.iter().filter(|r| {
        r.payees == TARGET_SIZE && matches!(r.phase, "end-to-end" | "alerts-1st" | "alerts-2nd")
    }) {
        let wall = r.wall.as_secs_f64();
        let rss = mb(r.rss_kb);
        println!(
            "target ({}, {} payees, {}): wall {wall:.1} s {} {TARGET_WALL_S} s, peak RSS {rss:.0} MB {} {TARGET_RSS_MB} MB",
            r.backend,
            r.payees,
            r.phase,
            if wall < TARGET_WALL_S { "<" } else { "NOT <" },
            if rss < TARGET_RSS_MB { "<" } else { "NOT <" },
        );
    }
}
