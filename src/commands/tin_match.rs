//! `masspay-tax tin-match export|import`: IRS bulk TIN Matching (Publication 2108A).

use super::{Ctx, Format, print_json, term_safe};
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// IRS bulk TIN Matching (Publication 2108A): export the request file, import the answers.
#[derive(Subcommand, Debug)]
pub enum TinMatchCommand {
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

pub async fn run(cmd: TinMatchCommand, ctx: &Ctx) -> Result<ExitCode> {
    match cmd {
        TinMatchCommand::Export {
            year,
            out,
            only_reportable,
            format,
        } => {
            let store = ctx.store.open_existing(Some(year)).await?;
            let s =
                masspay_tax::tinmatch::export(&store, &ctx.settings, year, &out, only_reportable)
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
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        TinMatchCommand::Import { results, format } => {
            let store = ctx.store.open_existing(None).await?;
            let s = masspay_tax::tinmatch::import(&store, &results).await?;
            match format {
                Format::Json => print_json(&s)?,
                Format::Text => {
                    println!(
                        "TIN Matching results from {}: {} of {} lines imported",
                        term_safe(&s.file),
                        s.imported,
                        s.lines
                    );
                    for (k, v) in &s.by_result {
                        println!("  {v:>7}  {k}");
                    }
                    for p in &s.problems {
                        println!("  problem: {}", term_safe(p));
                    }
                }
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}
