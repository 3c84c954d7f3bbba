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
        /// Show what would change (the column mapping and, per payee, old -> new); write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Empty this stored field for every payee in the file (repeatable). A blank cell never
        /// erases a stored value; this does, e.g. --clear tin.
        #[arg(long = "clear", value_name = "FIELD")]
        clear: Vec<String>,
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
        clear,
        source,
        format,
    } = cmd;
    let store = ctx.store.open().await?;
    let args = masspay_tax::import::ImportArgs {
        maps,
        dry_run,
        clear,
    };
    let r = masspay_tax::import::import_tax_forms_with(
        &store,
        &ctx.settings.tin_rules,
        &file,
        &args,
        &source.args(),
    )
    .await;
    store.close().await;
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            // A sheet with no rows, no TIN column or two candidate columns: exit 3 (the file was
            // read, and says what is wrong); anything else is an error (exit 1).
            if let Some(ie) = e.downcast_ref::<masspay_tax_import::ImportError>()
                && ie.exit_code() == 3
            {
                eprintln!("error: {}", term_safe(&masspay_tax::errors::chain(&e)));
                return Ok(ExitCode::from(3));
            }
            return Err(e);
        }
    };
    match format {
        Format::Json => print_json(&r)?,
        Format::Text => print!("{}", term_safe_lines(&r.render_text())),
    }
    Ok(ExitCode::from(r.exit_code()))
}

/// `term_safe` line by line (the rendered text's own newlines stay).
fn term_safe_lines(text: &str) -> String {
    text.lines().map(|l| term_safe(l) + "\n").collect()
}
