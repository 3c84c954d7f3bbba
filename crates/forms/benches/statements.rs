//! Recipient statements per second and peak memory, for 10,000 and 100,000 statements.
//!
//! `cargo bench -p masspay-tax-forms --bench statements` (counts from
//! `STATEMENTS_BENCH_COUNTS=10000,100000`, the default). Each count runs in a child process so
//! its peak RSS (`VmHWM`) is its own: memory flat in the count means the two peaks are close.
//! The statements go through the same writer `masspay-tax statements 1099` uses
//! (`batch::write_statements`: layout, render with subset fonts, one file each, folder swap).

use masspay_tax_forms::batch::{AnyStatement, BatchOptions, write_statements};
use masspay_tax_forms::fonts::FontSet;
use masspay_tax_forms::statement::{Statement1099Nec, StatementPayer, StatementRun};
use masspay_tax_forms::template::{Kind, Layout};
use rust_decimal::Decimal;
use std::time::Instant;

const NAMES: [&str; 6] = [
    "Дмитрий Иванов",
    "Zoë Núñez",
    "Ελένη Παπαδοπούλου",
    "Jane Smith",
    "Łukasz Żółć",
    "Nguyễn Thị Ánh",
];

fn statement(i: usize) -> Statement1099Nec {
    Statement1099Nec {
        tax_year: 2025,
        payer: StatementPayer {
            name: "Acme Payouts Inc".into(),
            name_line2: None,
            address_lines: vec!["1 Main St".into(), "Boston, MA 02108".into()],
            phone: "617-555-0100".into(),
            tin: "12-3456789".into(),
            country: "US".into(),
        },
        user_token: format!("usr_{i:07}"),
        recipient_name: format!("{} {i}", NAMES[i % NAMES.len()]),
        recipient_name_line2: String::new(),
        recipient_address: vec![
            format!("{} Elm St", i % 9999),
            "Springfield, IL 62701".into(),
        ],
        recipient_tin: format!("***-**-{:04}", i % 10_000),
        account_number: format!("usr_{i:07}"),
        box1: Decimal::new(60_000 + (i as i64 * 7919) % 10_000_000, 2),
        box2_direct_sales: false,
        box3: Decimal::ZERO,
        box4: Decimal::ZERO,
        states: vec![],
        second_tin_notice: false,
        corrected: false,
    }
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn child(n: usize) {
    let fonts = FontSet::shipped();
    let layout = Layout::embedded(Kind::Statement1099Nec);
    let run = StatementRun {
        sandbox: true,
        generated: "bench".into(),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let threads = std::thread::available_parallelism().map_or(2, |t| t.get());
    let opts = BatchOptions {
        dir: dir.path().join("1099-NEC-2025"),
        combined: None,
        title: String::new(),
        threads,
    };
    let started = Instant::now();
    let items = (0..n).map(|i| Ok(AnyStatement::Nec(Box::new(statement(i)))));
    let report =
        write_statements(items, &run, &layout, &fonts, &opts, &|_| {}).expect("statements written");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{n:>7} statements: {secs:7.1} s, {:7.0} statements/s on {threads} threads, {:5.1} KB/statement, peak RSS {:.0} MB",
        n as f64 / secs,
        report.bytes as f64 / n as f64 / 1024.0,
        vm_hwm_kb() as f64 / 1024.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let n = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(1000);
        child(n);
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let counts = std::env::var("STATEMENTS_BENCH_COUNTS").unwrap_or_else(|_| "10000,100000".into());
    let exe = std::env::current_exe().expect("own path");
    for n in counts
        .split(',')
        .filter_map(|c| c.trim().parse::<usize>().ok())
    {
        let status = std::process::Command::new(&exe)
            .arg("--child")
            .arg(n.to_string())
            .status()
            .expect("child runs");
        assert!(status.success(), "bench child for {n} failed");
    }
}
