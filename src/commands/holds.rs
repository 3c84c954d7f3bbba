//! `masspay-tax holds ingest|list|export|refresh`: the KYC hold tracker.

use super::{Ctx, SourceFlags, print_json, term_safe};
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use masspay_tax::holds;
use masspay_tax::notify::Notifier;
use masspay_tax::source::Source;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Csv,
    Json,
}

/// KYC holds: payouts MassPay refused until documents are uploaded (ingest, list, export, refresh)
#[derive(Subcommand, Debug)]
pub enum HoldsCommand {
    /// Stores the holds in MassPay "Documentation required." answers as the platform logged
    /// them: JSON lines or a JSON array, bare or wrapped ({user_token, logged_at, response}).
    /// Exit 3 when some lines had problems (every good line is still stored).
    Ingest(IngestArgs),
    /// Holds, payees on the current year's 1099-NEC / 1042-S with a missing or invalid TIN first.
    List(ListArgs),
    /// Writes the outreach list (with the upload links) as CSV.
    Export(ExportArgs),
    /// Asks MassPay for each open hold's user status and KYC sessions and moves the hold.
    Refresh(RefreshArgs),
}

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// The file, or - for stdin.
    pub file: String,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only holds still open or submitted.
    #[arg(long)]
    pub open: bool,
    /// Only holds at least this old (e.g. 14d, 2w).
    #[arg(long)]
    pub older_than: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The CSV file to write (owner-only, written whole or not at all).
    #[arg(long)]
    pub out: PathBuf,
    /// Only holds still open or submitted (default: all).
    #[arg(long)]
    pub open: bool,
}

#[derive(Args, Debug)]
pub struct RefreshArgs {
    #[command(flatten)]
    pub source: SourceFlags,
}

pub async fn run(cmd: HoldsCommand, ctx: &Ctx) -> Result<ExitCode> {
    match cmd {
        HoldsCommand::Ingest(a) => {
            let text = if a.file == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading stdin")?;
                s
            } else {
                std::fs::read_to_string(&a.file).with_context(|| format!("reading {}", a.file))?
            };
            let parsed = holds::parse_ingest(&text);
            let store = ctx.store.open().await?;
            let report = holds::ingest(&store, &parsed).await?;
            for e in &parsed.errors {
                eprintln!("line {}: {}", e.line, e.reason);
            }
            println!(
                "holds: {} new, {} updated, {} unchanged; {} line(s) with problems",
                report.new,
                report.updated,
                report.unchanged,
                parsed.errors.len()
            );
            deliver(&store, ctx).await?;
            Ok(if parsed.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            })
        }
        HoldsCommand::List(a) => {
            let days = a
                .older_than
                .as_deref()
                .map(holds::parse_days)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--older-than: {e}"))?;
            let store = ctx.store.open_existing(None).await?;
            let rows = holds::list(&store, &ctx.settings, a.open, days).await?;
            match a.format {
                ListFormat::Json => print_json(&rows)?,
                ListFormat::Csv => holds::write_csv(&rows, std::io::stdout().lock())?,
                ListFormat::Table => {
                    println!("{}", holds::COLUMNS.join("\t"));
                    for r in &rows {
                        let cells: Vec<String> = r.cells().iter().map(|c| term_safe(c)).collect();
                        println!("{}", cells.join("\t"));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        HoldsCommand::Export(a) => {
            let store = ctx.store.open_existing(None).await?;
            let rows = holds::list(&store, &ctx.settings, a.open, None).await?;
            let mut file = masspay_tax_forms::AtomicFile::create(&a.out)
                .with_context(|| format!("creating {}", a.out.display()))?;
            holds::write_csv(&rows, &mut file)?;
            file.commit()
                .with_context(|| format!("writing {}", a.out.display()))?;
            println!("{} hold(s) written to {}", rows.len(), a.out.display());
            Ok(ExitCode::SUCCESS)
        }
        HoldsCommand::Refresh(a) => {
            let src = Source::connect(&a.source.args()).await?;
            let store = ctx.store.open().await?;
            let r = holds::refresh(&store, &src.client, &ctx.settings).await?;
            println!(
                "holds refreshed: {} checked, {} moved, {} failed",
                r.checked, r.moved, r.failed
            );
            deliver(&store, ctx).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Delivers pending notices on the configured channels (failures are retried next run).
pub async fn deliver(store: &masspay_tax_store::Store, ctx: &Ctx) -> Result<()> {
    let notifier = Notifier::from_settings(&ctx.settings.notify, |k| std::env::var(k).ok())?;
    let report = notifier
        .deliver(store, &mut std::io::stdout().lock())
        .await?;
    if report.failed() > 0 {
        eprintln!(
            "warning: {} notice deliveries failed; they are retried on the next run",
            report.failed()
        );
    }
    Ok(())
}
