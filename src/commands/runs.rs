//! `masspay-tax runs`: the audit trail of syncs.

use super::{Ctx, Format, print_json, term_safe};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

/// List sync runs (the audit trail: when, from where, row counts, digest of what was pulled).
///
/// Example: masspay-tax runs --year 2025
#[derive(Args, Debug)]
pub struct RunsArgs {
    #[arg(long)]
    pub year: Option<i32>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub async fn run(args: RunsArgs, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store.open_existing(args.year).await?;
    let runs = store.runs(args.year).await?;
    match args.format {
        Format::Json => print_json(&runs)?,
        Format::Text => {
            println!(
                "{:>5} {:>4} {:<11} {:<27} {:>9} {:>9} {:>16} {:<16} source",
                "run", "year", "status", "finished", "payees", "rejected", "total", "sha256"
            );
            for r in &runs {
                println!(
                    "{:>5} {:>4} {:<11} {:<27} {:>9} {:>9} {:>16} {:<16} {}",
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
                    term_safe(&r.source)
                );
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
