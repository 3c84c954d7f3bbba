//! `masspay-tax sync --year Y`: pull a tax year into the store.

use super::{Ctx, Format, SourceFlags, print_json, progress_bar};
use anyhow::Result;
use clap::Args;
use masspay_tax::report::money;
use masspay_tax::source::Source;
use std::process::ExitCode;

/// Pull a tax year's annual balances from MassPay into the store.
///
/// Example: masspay-tax sync --year 2025
///
/// Every payee is kept (the IRS threshold is applied locally, as ">= $600" through 2025 and
/// ">= $2,000" for 2026); re-running replaces the year's snapshot in one transaction and keeps
/// the run in the history (`masspay-tax runs`).
#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Tax year to pull.
    #[arg(long)]
    pub year: i32,
    #[command(flatten)]
    pub source: SourceFlags,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub async fn run(args: SyncArgs, ctx: &Ctx) -> Result<ExitCode> {
    let year = args.year;
    ctx.settings.thresholds.nec(year)?;
    let src = Source::connect(&args.source.args()).await?;
    let store = ctx.store.open().await?;
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
        &ctx.settings.thresholds,
        year,
        &masspay_tax::sync::SyncOptions::new(&src.label, origin),
        Some(&cb),
    )
    .await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = report?;
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => {
            println!(
                "Synced tax year {} from {}: {} payees, total {}, {} reportable on 1099-NEC (threshold {}), \
             {} 1042-S candidates, {} rows rejected, {} findings, in {}.{:01} s (run #{})",
                report.tax_year,
                report.source,
                report.payees,
                money(&report.total),
                report.reportable_1099_nec,
                money(&report.threshold),
                report.candidates_1042s,
                report.rows_rejected,
                report.findings,
                report.duration_ms / 1000,
                (report.duration_ms / 100) % 10,
                report.run_id
            );
            if report.sandbox {
                println!(
                    "  SANDBOX DATA: this store holds emulated payees, not your MassPay account's"
                );
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
