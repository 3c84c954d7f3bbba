//! `masspay-tax import tax-forms FILE`: W-9 / W-8 spreadsheets into the store.

use super::{Ctx, Format, SourceFlags, print_json, term_safe};
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// Import data MassPay's API does not carry.
#[derive(Subcommand, Debug)]
pub enum ImportCommand {
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

pub async fn run(cmd: ImportCommand, ctx: &Ctx) -> Result<ExitCode> {
    let ImportCommand::TaxForms {
        file,
        maps,
        dry_run,
        source,
        format,
    } = cmd;
    let store = ctx.store.open().await?;
    let r = masspay_tax::import::import_tax_forms(
        &store,
        &ctx.settings.tin_rules,
        &file,
        &maps,
        dry_run,
        &source.args(),
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
                term_safe(&r.file),
                r.rows_read,
                term_safe(&r.sheets_read.join(", ")),
                r.inserted,
                r.updated,
                r.unchanged,
                r.problems.len()
            );
            for p in &r.problems {
                println!("  problem: {}", term_safe(p));
            }
            for w in &r.warnings {
                println!("  warning: {}", term_safe(w));
            }
            for n in &r.notes {
                println!("  note: {}", term_safe(n));
            }
            for c in &r.changes {
                println!("  change: {}", term_safe(c));
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
