//! `masspay-tax statements 1099|1042s`: recipient statements (Copy B), one PDF per recipient.

use super::{Ctx, Format, print_json, term_safe};
use anyhow::Result;
use clap::Subcommand;
use masspay_tax::report::money;
use masspay_tax::statements::StatementsSummary;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Write recipient statements from the store.
#[derive(Subcommand, Debug)]
pub enum StatementsCommand {
    /// 1099-NEC Copy B for every recipient on the year's worksheet: DIR/1099-NEC-YEAR/<user_token>.pdf.
    ///
    /// Example: masspay-tax statements 1099 --year 2025 --out out/ --combined out/1099-NEC-2025-copy-b.pdf
    ///
    /// The payer's name, address, phone and TIN come from [payer] in masspay-tax.toml (or
    /// MASSPAY_TAX_PAYER_<KEY>) and are checked first. Recipient TINs are truncated to the last
    /// four digits. A re-run replaces the folder's contents.
    #[command(name = "1099")]
    Nec {
        #[arg(long)]
        year: i32,
        /// Output directory (created if missing); statements go in DIR/1099-NEC-YEAR/.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Also write every statement into this one print-ready PDF.
        #[arg(long)]
        combined: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// 1042-S Copy B for every recipient on the year's 1042-S worksheet: DIR/1042-S-YEAR/<user_token>.pdf.
    ///
    /// Example: masspay-tax statements 1042s --year 2025 --out out/ --combined out/1042-S-2025-copy-b.pdf
    ///
    /// One page per Form 1042-S (a payee has one per income code and rate), from the same rows as
    /// `report 1042s`. The withholding agent's name, address, phone and EIN come from [payer] and
    /// are checked first. Recipient TINs are truncated; foreign TINs and dates of birth masked.
    /// A re-run replaces the folder's contents.
    #[command(name = "1042s")]
    S1042 {
        #[arg(long)]
        year: i32,
        /// Output directory (created if missing); statements go in DIR/1042-S-YEAR/.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Also write every statement into this one print-ready PDF.
        #[arg(long)]
        combined: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

pub async fn run(cmd: StatementsCommand, ctx: &Ctx) -> Result<ExitCode> {
    let (nec, year, out, combined, format) = match cmd {
        StatementsCommand::Nec {
            year,
            out,
            combined,
            format,
        } => (true, year, out, combined, format),
        StatementsCommand::S1042 {
            year,
            out,
            combined,
            format,
        } => (false, year, out, combined, format),
    };
    // Checked before the store is opened: a missing payer TIN is the first error.
    ctx.settings.payer()?;
    let store = ctx.store.open_existing(Some(year)).await?;
    let bar = progress_bar();
    let progress: Arc<dyn Fn(usize) + Send + Sync> = match bar.clone() {
        Some(b) => Arc::new(move |n| b.set_position(n as u64)),
        None => Arc::new(|_| {}),
    };
    let result = if nec {
        masspay_tax::statements::statements_1099(
            &store,
            &ctx.settings,
            year,
            &out,
            combined,
            progress,
        )
        .await
    } else {
        masspay_tax::statements::statements_1042s(
            &store,
            &ctx.settings,
            year,
            &out,
            combined,
            progress,
        )
        .await
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    store.close().await;
    let s = result?;
    match format {
        Format::Json => print_json(&s)?,
        Format::Text => print_summary(&s),
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} statements [{elapsed}] {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

fn print_summary(s: &StatementsSummary) {
    let total = match &s.total_gross_income {
        Some(g) => format!("{} forms, gross income total {}", s.forms, money(g)),
        None => format!("box 1 total {}", money(&s.total_box1)),
    };
    println!(
        "{} {}: {} statements, {total}, written to {}{}",
        s.form,
        s.tax_year,
        s.statements,
        s.dir.display(),
        if s.sandbox {
            " (SANDBOX DATA: watermarked, not for filing)"
        } else {
            ""
        }
    );
    if let Some(c) = &s.combined {
        println!("  combined: {}", c.display());
    }
    if !s.unrenderable.is_empty() {
        println!(
            "  names or addresses with characters no font could show (marked on the statement; set [documents] fallback_font): {}",
            s.unrenderable
                .iter()
                .map(|t| term_safe(t))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !s.excluded_exempt.is_empty() {
        println!(
            "  left off (W-9 exempt payee code 1-5): {}",
            s.excluded_exempt.join(", ")
        );
    }
}
