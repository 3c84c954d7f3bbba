//! `masspay-tax findings --year Y`: what the last sync of a year flagged.

use super::{Ctx, Format, term_safe};
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
    use std::io::Write;
    let store = ctx.store.open_existing(Some(args.year)).await?;
    // Written as they are read: a year's findings are never all in memory.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let severity = args.severity.as_deref();
    match args.format {
        Format::Json => {
            let mut a = masspay_tax::json::PrettyArray::new(&mut out)?;
            masspay_tax::findings::each(&store, args.year, severity, |f| a.push(&f)).await?;
            a.finish()?;
            writeln!(out)?;
        }
        Format::Text => {
            let n = masspay_tax::findings::each(&store, args.year, severity, |f| {
                writeln!(
                    out,
                    "{:<8} {:<22} row {:<8} {:<44} {}",
                    f.severity,
                    f.code,
                    f.row_index
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "-".into()),
                    term_safe(f.user_token.as_deref().unwrap_or("-")),
                    term_safe(&f.message)
                )?;
                Ok(())
            })
            .await?;
            writeln!(out, "{n} findings for tax year {}", args.year)?;
        }
    }
    out.flush()?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
