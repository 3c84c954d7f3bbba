//! The `masspay-tax` command line.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use masspay_tax::config::{self, Settings};
use masspay_tax::source::{Env, Source, SourceArgs};
use masspay_tax_store::{KeySource, Store};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

const ABOUT: &str = "Contractor tax reporting and compliance on top of the MassPay payout API";

const AFTER_HELP: &str = "\
Quick start (no account needed: the built-in sandbox):
  masspay-tax sync --year 2025 && masspay-tax report 1099 --year 2025 --out out

Environment (so cron jobs need no flags):
  MASSPAY_API_KEY     your MassPay API key (never printed; without it the built-in sandbox is used)
  MASSPAY_BASE_URL    any MassPay base URL, e.g. https://staging-api.masspay.io/v1.0.0/payout/
  MASSPAY_TAX_DB      the store (default sqlite://masspay-tax.db; postgres://... for teams)
  MASSPAY_TAX_KEY     64 hex digits: the key that encrypts tax IDs at rest (else a key file)
  MASSPAY_TAX_KEY_FILE  where the key file lives (default: beside the SQLite file)
  MASSPAY_TAX_CONFIG  a masspay-tax.toml with thresholds for later years and TIN rule settings
  MASSPAY_TAX_LOG     log filter for stderr (e.g. info, debug); default warn";

#[derive(Parser, Debug)]
#[command(name = "masspay-tax", version, about = ABOUT, after_help = AFTER_HELP)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct GlobalArgs {
    /// The store: sqlite://FILE (default) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "MASSPAY_TAX_DB",
        default_value = "sqlite://masspay-tax.db"
    )]
    db: String,
    /// Key file for tax-ID encryption (created with mode 0600 on first use). MASSPAY_TAX_KEY wins.
    #[arg(long, global = true, env = "MASSPAY_TAX_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// Settings file (thresholds for later years, EIN prefixes). Default: ./masspay-tax.toml if present.
    #[arg(long, global = true, env = "MASSPAY_TAX_CONFIG")]
    config: Option<PathBuf>,
    /// More logging on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Args, Debug, Clone)]
struct SourceFlags {
    /// Use the built-in MassPay emulator (also the default when MASSPAY_API_KEY is not set).
    #[arg(long)]
    sandbox: bool,
    /// MassPay environment, when MASSPAY_BASE_URL is not set (default production).
    #[arg(long, value_enum)]
    env: Option<Env>,
    /// Any MassPay base URL (with or without the trailing payout/).
    #[arg(long, env = "MASSPAY_BASE_URL")]
    base_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Pull a tax year's annual balances from MassPay into the store.
    ///
    /// Example: masspay-tax sync --year 2025
    ///
    /// Every payee is kept (the IRS threshold is applied locally, as ">= $600" through 2025 and
    /// ">= $2,000" for 2026); re-running replaces the year's snapshot in one transaction and keeps
    /// the run in the history (`masspay-tax runs`).
    Sync {
        /// Tax year to pull.
        #[arg(long)]
        year: i32,
        #[command(flatten)]
        source: SourceFlags,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Write worksheets from the store.
    #[command(subcommand)]
    Report(ReportCommand),
    /// List sync runs (the audit trail: when, from where, row counts, digest of what was pulled).
    ///
    /// Example: masspay-tax runs --year 2025
    Runs {
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// What the last sync of a year flagged: rejected rows, repaired ZIPs, unknown countries, ...
    ///
    /// Example: masspay-tax findings --year 2025 --severity error
    Findings {
        #[arg(long)]
        year: i32,
        /// Only this severity (error, warning, info).
        #[arg(long)]
        severity: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Compliance audits.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Import data MassPay's API does not carry.
    #[command(subcommand)]
    Import(ImportCommand),
    /// IRS bulk TIN Matching (Publication 2108A): export the request file, import the answers.
    #[command(subcommand, name = "tin-match")]
    TinMatch(TinMatchCommand),
    /// The built-in MassPay emulator.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AuditFormat {
    Table,
    Csv,
    Json,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// SSN / ITIN / ATIN / EIN completeness and validity, one verdict per payee.
    ///
    /// Example: masspay-tax audit tins --year 2025 --only-reportable --fail-on invalid,missing
    ///
    /// Status is valid, invalid (an IRS rule fails), malformed (not 9 digits) or missing; the type
    /// is ssn, itin, atin, ein or unknown (a bare 9-digit number with no W-9 is ambiguous, never
    /// guessed). An imported W-9's TIN and declared type win over MassPay's tax_id. TINs are masked
    /// in every format. Exit code 3 when --fail-on matches a payee.
    Tins {
        #[arg(long)]
        year: i32,
        /// Only payees reportable on the 1099-NEC.
        #[arg(long)]
        only_reportable: bool,
        #[arg(long, value_enum, default_value = "table")]
        format: AuditFormat,
        /// Statuses that make the command exit with code 3 (comma separated), e.g. invalid,missing.
        #[arg(long)]
        fail_on: Option<String>,
        /// Write to this file (atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// W-9 / W-8 data from .xlsx, .xls, .ods or .csv into the store (TINs encrypted).
    ///
    /// Example: masspay-tax import tax-forms w9s.xlsx --map "tin=Taxpayer ID" --dry-run
    ///
    /// The header row is found (title lines above it are fine) and columns are matched by name
    /// with common variants; --map FIELD=HEADER overrides one. Rows link to payees by user_token,
    /// else email, else internal_user_id (looked up in MassPay). Every bad row is reported with its
    /// sheet, row, column and reason, and the good rows still import. The audit then uses the
    /// W-9's TIN and declared type over MassPay's tax_id. Exit code 3 when rows had problems.
    #[command(name = "tax-forms")]
    TaxForms {
        /// The spreadsheet.
        file: PathBuf,
        /// Column override, FIELD=HEADER (repeatable), e.g. --map "tin=Taxpayer ID No.".
        #[arg(long = "map", value_name = "FIELD=HEADER")]
        maps: Vec<String>,
        /// Show what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        source: SourceFlags,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
enum TinMatchCommand {
    /// Write the bulk request file(s): DIR/tin-match-YEAR-001.txt, 100,000 rows per file.
    ///
    /// Example: masspay-tax tin-match export --year 2025 --out irs/
    ///
    /// The file holds full TINs, as the IRS requires: upload it through e-Services and delete it.
    Export {
        #[arg(long)]
        year: i32,
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Only payees reportable on the 1099-NEC.
        #[arg(long)]
        only_reportable: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Read the IRS answer file (result codes 0-8) into the store; the audit then shows irs_match.
    ///
    /// Example: masspay-tax tin-match import results.txt
    Import {
        /// The results file downloaded from the IRS e-Services mailbox.
        results: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
enum ReportCommand {
    /// The 1099-NEC worksheet: DIR/1099-NEC-YEAR.csv, one row per reportable US payee.
    ///
    /// Example: masspay-tax report 1099 --year 2025 --out out/
    ///
    /// TINs are masked to the last four digits unless --unmask-tin is given (for an IRS-bound
    /// file only). Cells a spreadsheet would run as formulas are neutralised.
    #[command(name = "1099")]
    Nec {
        #[arg(long)]
        year: i32,
        /// Output directory (created if missing).
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Write full TINs (only for a file that goes to the IRS or your e-file vendor).
        #[arg(long)]
        unmask_tin: bool,
        /// Also write DIR/1099-NEC-YEAR.pdf, a printable worksheet for review.
        #[arg(long)]
        pdf: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
enum SandboxCommand {
    /// Serve the MassPay emulator on 127.0.0.1 until Ctrl-C.
    ///
    /// Example: masspay-tax sandbox serve --port 8080
    Serve {
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Seed for the generated payees (same seed, same data).
        #[arg(long, default_value_t = masspay_emulator::DEFAULT_SEED)]
        seed: u64,
        /// Generated payees per tax year, besides the fixed hard cases.
        #[arg(long, default_value_t = 200)]
        payees: usize,
        /// Share of requests (0-100) answered with an injected fault.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
        fault_percent: u8,
    },
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MASSPAY_TAX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn key_source(global: &GlobalArgs) -> KeySource {
    if let Ok(k) = std::env::var("MASSPAY_TAX_KEY")
        && !k.trim().is_empty()
    {
        return KeySource::Hex(k);
    }
    if let Some(p) = &global.key_file {
        return KeySource::File(p.clone());
    }
    match masspay_tax_store::sqlite_path(&global.db) {
        Some(db) => KeySource::File(db.with_extension("key")),
        None => KeySource::File(PathBuf::from("masspay-tax.key")),
    }
}

async fn open_store(global: &GlobalArgs) -> Result<Store> {
    Store::open(&global.db, &key_source(global))
        .await
        .context("opening the store")
}

/// For commands that only read: never creates a store or a key file.
async fn open_existing_store(global: &GlobalArgs, year: Option<i32>) -> Result<Store> {
    match Store::open_existing(&global.db, &key_source(global)).await {
        Ok(s) => Ok(s),
        Err(masspay_tax_store::StoreError::NoStore { path, url }) => match year {
            Some(y) => anyhow::bail!(
                "no completed sync for tax year {y}: no store at {path} (looked for {url}); \
                 run `masspay-tax sync --year {y}` first or pass --db"
            ),
            None => anyhow::bail!(
                "no store at {path} (looked for {url}); run `masspay-tax sync` first or pass --db"
            ),
        },
        Err(e) => Err(anyhow::Error::new(e).context("opening the store")),
    }
}

fn source_args(f: &SourceFlags) -> SourceArgs {
    SourceArgs {
        sandbox: f.sandbox,
        env: f.env,
        base_url: f.base_url.clone().filter(|s| !s.trim().is_empty()),
        api_key: std::env::var("MASSPAY_API_KEY").ok(),
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let settings: Settings = config::load(cli.global.config.as_deref())?;
    match cli.command {
        Command::Sync {
            year,
            source,
            format,
        } => {
            settings.thresholds.nec(year)?;
            let src = Source::connect(&source_args(&source)).await?;
            let store = open_store(&cli.global).await?;
            let bar = progress_bar();
            let cb = |rows: u64, bytes: u64| {
                if let Some(b) = &bar {
                    b.set_position(rows);
                    b.set_message(format!(
                        "{}.{} MB",
                        bytes / 1_000_000,
                        (bytes / 100_000) % 10
                    ));
                }
            };
            let origin = if src.emulator.is_some() {
                masspay_tax_store::Origin::Sandbox
            } else {
                masspay_tax_store::Origin::masspay(src.client.base_url())
            };
            let report = masspay_tax::sync::sync_year_with(
                &src.client,
                &store,
                &settings.thresholds,
                year,
                &masspay_tax::sync::SyncOptions::new(&src.label, origin),
                Some(&cb),
            )
            .await;
            if let Some(b) = &bar {
                b.finish_and_clear();
            }
            let report = report?;
            match format {
                Format::Json => print_json(&report)?,
                Format::Text => println!(
                    "Synced tax year {} from {}: {} payees, total {}, {} reportable on 1099-NEC (threshold {}), \
                     {} 1042-S candidates, {} rows rejected, {} findings, in {}.{:01} s (run #{})",
                    report.tax_year,
                    report.source,
                    report.payees,
                    masspay_tax::report::money(&report.total),
                    report.reportable_1099_nec,
                    masspay_tax::report::money(&report.threshold),
                    report.candidates_1042s,
                    report.rows_rejected,
                    report.findings,
                    report.duration_ms / 1000,
                    (report.duration_ms / 100) % 10,
                    report.run_id
                ),
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(ReportCommand::Nec {
            year,
            out,
            unmask_tin,
            pdf,
            format,
        }) => {
            let store = open_existing_store(&cli.global, Some(year)).await?;
            let forms = masspay_tax::taxforms::FormIndex::load(&store).await?;
            let s = masspay_tax::report::report_1099(
                &store, &settings, &forms, year, &out, unmask_tin, pdf,
            )
            .await?;
            match format {
                Format::Json => print_json(&s)?,
                Format::Text => {
                    let statuses: Vec<String> = s
                        .tin_status
                        .iter()
                        .map(|(k, v)| format!("{v} {k}"))
                        .collect();
                    println!(
                        "1099-NEC {}: {} payees, box 1 total {}, TINs {}; written to {} ({})",
                        s.tax_year,
                        s.payees,
                        masspay_tax::report::money(&s.total_box1),
                        if statuses.is_empty() {
                            "-".into()
                        } else {
                            statuses.join(", ")
                        },
                        s.file.display(),
                        if s.tin_masked {
                            "TINs masked"
                        } else {
                            "FULL TINs: handle as IRS-bound"
                        }
                    );
                    if let Some(p) = &s.pdf {
                        println!("  PDF worksheet: {}", p.display());
                    }
                    if !s.excluded_exempt.is_empty() {
                        println!(
                            "  left off (W-9 exempt payee code 1-5; attorneys' and medical payments stay reportable: review): {}",
                            s.excluded_exempt.join(", ")
                        );
                    }
                }
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Runs { year, format } => {
            let store = open_existing_store(&cli.global, None).await?;
            let runs = store.runs(year).await?;
            match format {
                Format::Json => print_json(&runs)?,
                Format::Text => {
                    println!(
                        "{:>5} {:>4} {:<10} {:<27} {:>9} {:>9} {:>16} {:<16} source",
                        "run",
                        "year",
                        "status",
                        "finished",
                        "payees",
                        "rejected",
                        "total",
                        "sha256"
                    );
                    for r in &runs {
                        println!(
                            "{:>5} {:>4} {:<10} {:<27} {:>9} {:>9} {:>16} {:<16} {}",
                            r.id,
                            r.tax_year,
                            r.status,
                            r.finished_at.as_deref().unwrap_or("-"),
                            r.rows_stored,
                            r.rows_rejected,
                            r.total,
                            r.body_sha256
                                .as_deref()
                                .map(|s| &s[..16.min(s.len())])
                                .unwrap_or("-"),
                            r.source
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Findings {
            year,
            severity,
            format,
        } => {
            let store = open_existing_store(&cli.global, Some(year)).await?;
            let mut findings = store.findings(year).await?;
            if let Some(sev) = &severity {
                findings.retain(|f| f.severity.eq_ignore_ascii_case(sev));
            }
            match format {
                Format::Json => print_json(&findings)?,
                Format::Text => {
                    for f in &findings {
                        println!(
                            "{:<8} {:<22} row {:<8} {:<44} {}",
                            f.severity,
                            f.code,
                            f.row_index
                                .map(|r| r.to_string())
                                .unwrap_or_else(|| "-".into()),
                            f.user_token.as_deref().unwrap_or("-"),
                            f.message.replace(['\t', '\r', '\n'], " ")
                        );
                    }
                    println!("{} findings for tax year {year}", findings.len());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Tins {
            year,
            only_reportable,
            format,
            fail_on,
            out,
        }) => {
            let fail_on = fail_on
                .as_deref()
                .map(masspay_tax::audit::parse_fail_on)
                .transpose()?
                .unwrap_or_default();
            let store = open_existing_store(&cli.global, Some(year)).await?;
            let forms = masspay_tax::taxforms::FormIndex::load(&store).await?;
            let irs = masspay_tax::taxforms::load_tin_matches(&store).await?;
            let audit = masspay_tax::audit::audit_tins(
                &store,
                &settings.tin_rules,
                &forms,
                &irs,
                year,
                only_reportable,
            )
            .await?;
            let mut buf = Vec::new();
            match format {
                AuditFormat::Table => masspay_tax::audit::write_table(&audit, &mut buf)?,
                AuditFormat::Csv => buf = masspay_tax::audit::write_csv(&audit, buf)?,
                AuditFormat::Json => buf = serde_json::to_vec_pretty(&audit)?,
            }
            match &out {
                Some(path) => {
                    let mut f = masspay_tax_forms::AtomicFile::create(path)?;
                    std::io::Write::write_all(&mut f, &buf)?;
                    f.commit()?;
                    eprintln!("audit written to {}", path.display());
                }
                None => std::io::Write::write_all(&mut std::io::stdout().lock(), &buf)?,
            }
            store.close().await;
            let failing = audit
                .results
                .iter()
                .filter(|r| fail_on.iter().any(|s| s.as_str() == r.status))
                .count();
            if failing > 0 {
                eprintln!("{failing} payees have a status listed in --fail-on");
                return Ok(ExitCode::from(3));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(ImportCommand::TaxForms {
            file,
            maps,
            dry_run,
            source,
            format,
        }) => {
            let store = open_store(&cli.global).await?;
            let r = masspay_tax::import::import_tax_forms(
                &store,
                &settings.tin_rules,
                &file,
                &maps,
                dry_run,
                &source_args(&source),
            )
            .await?;
            match format {
                Format::Json => print_json(&r)?,
                Format::Text => {
                    println!(
                        "{}{}: {} rows read from {}; {} new, {} updated, {} unchanged; {} problems",
                        if r.dry_run {
                            "DRY RUN (nothing written) "
                        } else {
                            ""
                        },
                        r.file,
                        r.rows_read,
                        r.sheets_read.join(", "),
                        r.inserted,
                        r.updated,
                        r.unchanged,
                        r.problems.len()
                    );
                    for p in &r.problems {
                        println!("  problem: {p}");
                    }
                    for w in &r.warnings {
                        println!("  warning: {w}");
                    }
                    for n in &r.notes {
                        println!("  note: {n}");
                    }
                    for c in &r.changes {
                        println!("  change: {c}");
                    }
                }
            }
            store.close().await;
            Ok(if r.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            })
        }
        Command::TinMatch(TinMatchCommand::Export {
            year,
            out,
            only_reportable,
            format,
        }) => {
            let store = open_existing_store(&cli.global, Some(year)).await?;
            let forms = masspay_tax::taxforms::FormIndex::load(&store).await?;
            let s = masspay_tax::tinmatch::export(
                &store,
                &settings.tin_rules,
                &forms,
                year,
                &out,
                only_reportable,
            )
            .await?;
            match format {
                Format::Json => print_json(&s)?,
                Format::Text => {
                    println!(
                        "TIN Matching request for {}: {} payees in {} file(s): {}",
                        s.tax_year,
                        s.rows,
                        s.files.len(),
                        s.files
                            .iter()
                            .map(|f| f.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    if !s.skipped.is_empty() {
                        let sk: Vec<String> =
                            s.skipped.iter().map(|(k, v)| format!("{v} {k}")).collect();
                        println!("  not sent (no TIN to match): {}", sk.join(", "));
                    }
                    println!(
                        "  these files hold FULL TINs: upload them through IRS e-Services, then delete them"
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::TinMatch(TinMatchCommand::Import { results, format }) => {
            let store = open_store(&cli.global).await?;
            let s = masspay_tax::tinmatch::import(&store, &results).await?;
            match format {
                Format::Json => print_json(&s)?,
                Format::Text => {
                    println!(
                        "TIN Matching results from {}: {} of {} lines imported",
                        s.file, s.imported, s.lines
                    );
                    for (k, v) in &s.by_result {
                        println!("  {v:>7}  {k}");
                    }
                    for p in &s.problems {
                        println!("  problem: {p}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sandbox(SandboxCommand::Serve {
            port,
            seed,
            payees,
            fault_percent,
        }) => {
            let config = masspay_emulator::EmulatorConfig {
                seed,
                bulk_payees: payees,
                faults: masspay_emulator::FaultConfig {
                    percent: fault_percent,
                    ..Default::default()
                },
                ..Default::default()
            };
            let emu = masspay_emulator::spawn_on(config, port)
                .await
                .with_context(|| format!("binding 127.0.0.1:{port}"))?;
            println!("MassPay emulator listening on {}", emu.base_url());
            println!("  export MASSPAY_BASE_URL={}", emu.base_url());
            println!(
                "  export MASSPAY_API_KEY={}   # the emulator's public test key",
                masspay_emulator::SANDBOX_API_KEY
            );
            println!("Ctrl-C to stop.");
            tokio::signal::ctrl_c().await?;
            emu.shutdown().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} payees, {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn money_for_people() {
        use masspay_tax::report::money;
        assert_eq!(money("1234567.89"), "$1,234,567.89");
        assert_eq!(money("600.00"), "$600.00");
        assert_eq!(money("-1000.5"), "-$1,000.5");
    }
}
