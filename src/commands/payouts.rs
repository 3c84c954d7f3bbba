//! `masspay-tax payouts flips|refresh`: payouts whose status left a final state.

use super::{Ctx, SourceFlags, print_json, term_safe};
use crate::commands::holds::{ListFormat, deliver};
use anyhow::Result;
use clap::{Args, Subcommand};
use masspay_tax::payouts;
use masspay_tax::source::Source;
use std::process::ExitCode;

/// Payouts whose status flips after a final state, and the tax year each may change
#[derive(Subcommand, Debug)]
pub enum PayoutsCommand {
    /// Transitions out of a final state (COMPLETED → CANCELLED/ERROR, CANCELLED → COMPLETED),
    /// with the tax year whose 1099 amount they may change.
    Flips(FlipsArgs),
    /// Asks MassPay for the status of every known payout; records changes and flips.
    Refresh(RefreshArgs),
}

#[derive(Args, Debug)]
pub struct FlipsArgs {
    /// Only flips seen on or after this date (YYYY-MM-DD).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

#[derive(Args, Debug)]
pub struct RefreshArgs {
    #[command(flatten)]
    pub source: SourceFlags,
}

pub async fn run(cmd: PayoutsCommand, ctx: &Ctx) -> Result<ExitCode> {
    match cmd {
        PayoutsCommand::Flips(a) => {
            if let Some(s) = &a.since {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| anyhow::anyhow!("--since {s:?}: expected YYYY-MM-DD"))?;
            }
            let store = ctx.store.open_existing(None).await?;
            let rows = payouts::flips(&store, &ctx.settings, a.since.as_deref()).await?;
            match a.format {
                ListFormat::Json => print_json(&rows)?,
                ListFormat::Csv => {
                    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
                    w.write_record(payouts::FLIP_COLUMNS)?;
                    for r in &rows {
                        w.write_record(
                            r.cells()
                                .iter()
                                .map(|c| masspay_tax_forms::neutralize(c).into_owned()),
                        )?;
                    }
                    w.flush()?;
                }
                ListFormat::Table => {
                    println!("{}", payouts::FLIP_COLUMNS.join("\t"));
                    for r in &rows {
                        let cells: Vec<String> = r.cells().iter().map(|c| term_safe(c)).collect();
                        println!("{}", cells.join("\t"));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        PayoutsCommand::Refresh(a) => {
            let src = Source::connect(&a.source.args()).await?;
            let store = ctx.store.open().await?;
            let flips = payouts::refresh(&store, &src.client).await?;
            println!("payouts refreshed: {flips} flip(s)");
            deliver(&store, ctx).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
