//! `masspay-tax findings --year Y`: what the last sync of a year flagged.

use super::{Ctx, Format, print_json, term_safe};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

/// What the last sync of a year flagged: rejected rows, repaired ZIPs, unknown countries, ...
///
/// Example: masspay-tax findings --year 2025 --severity error
#[derive(Args, Debug)]
pub struct FindingsArgs {
    #[arg(long)]
    pub year: i32,
    /// Only this severity (error, warning, info).
    #[arg(long)]
    pub severity: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub async fn run(args: FindingsArgs, ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store.open_existing(Some(args.year)).await?;
    let findings = masspay_tax::findings::list(&store, args.year, args.severity.as_deref()).await?;
    match args.format {
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
                    term_safe(f.user_token.as_deref().unwrap_or("-")),
                    term_safe(&f.message)
                );
            }
            println!("{} findings for tax year {}", findings.len(), args.year);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
