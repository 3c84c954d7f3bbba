//! `masspay-tax report 1099`: the worksheets.

use super::{Ctx, Format, print_json};
use anyhow::Result;
use clap::Subcommand;
use masspay_tax::report::{ReportSummary, money};
use std::path::PathBuf;
use std::process::ExitCode;

/// Write worksheets from the store.
#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// The 1099-NEC worksheet: DIR/1099-NEC-YEAR.csv, one row per reportable US payee.
    ///
    /// Example: masspay-tax report 1099 --year 2025 --out out/
    ///
    /// TINs are masked to the last four digits unless --unmask-tin is given (for an IRS-bound
    /// file only). Cells a spreadsheet would run as formulas are neutralised.
    #[command(name = "1099")]
    Nec {
        #[arg(long)]
        year: i32,
        /// Output directory (created if missing).
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Write full TINs (only for a file that goes to the IRS or your e-file vendor).
        #[arg(long)]
        unmask_tin: bool,
        /// Also write DIR/1099-NEC-YEAR.pdf: the year-end packet (cover, exceptions, worksheet).
        #[arg(long)]
        pdf: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// The 1042-S worksheet and the Form 1042 summary: DIR/1042-S-YEAR.csv (one row per form:
    /// payee × income code × rate) and DIR/1042-summary-YEAR.csv.
    ///
    /// Example: masspay-tax report 1042s --year 2025 --out out/
    ///
    /// Settings: [foreign] services_performed ("outside_us" | "in_us"; missing: the IRS
    /// presumption, US source), report_foreign_source, default_income_code,
    /// ch4_exemption_code_services, ch4_exemption_code_other, treaty_rates_file. Code lists and
    /// treaty rates are data: templates/1042s/*.csv. Per payee: `payees override`.
    /// TINs and dates of birth are masked unless --unmask-tin is given.
    #[command(name = "1042s")]
    F1042s {
        #[arg(long)]
        year: i32,
        /// Output directory (created if missing).
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Write full TINs and dates of birth (only for an IRS-bound file).
        #[arg(long)]
        unmask_tin: bool,
        /// Also write DIR/1042-S-YEAR.pdf: the year-end packet (cover, exceptions, worksheet).
        #[arg(long)]
        pdf: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

pub async fn run(cmd: ReportCommand, ctx: &Ctx) -> Result<ExitCode> {
    match cmd {
        ReportCommand::Nec {
            year,
            out,
            unmask_tin,
            pdf,
            format,
        } => {
            let store = ctx.store.open_existing(Some(year)).await?;
            let s = masspay_tax::report::report_1099(
                &store,
                &ctx.settings,
                year,
                &out,
                unmask_tin,
                pdf,
            )
            .await?;
            match format {
                Format::Json => print_json(&s)?,
                Format::Text => print_nec(&s),
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        ReportCommand::F1042s {
            year,
            out,
            unmask_tin,
            pdf,
            format,
        } => {
            let store = ctx.store.open_existing(Some(year)).await?;
            let s = masspay_tax::f1042s::report_1042s(
                &store,
                &ctx.settings,
                year,
                &out,
                unmask_tin,
                pdf,
            )
            .await;
            store.close().await;
            let s = s?;
            match format {
                Format::Json => print_json(&s)?,
                Format::Text => {
                    for line in masspay_tax::f1042s::render_text(&s).lines() {
                        println!("{}", super::term_safe(line));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_nec(s: &ReportSummary) {
    let statuses: Vec<String> = s
        .tin_status
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    println!(
        "1099-NEC {}: {} payees, box 1 total {}, TINs {}; written to {} ({})",
        s.tax_year,
        s.payees,
        money(&s.total_box1),
        if statuses.is_empty() {
            "-".into()
        } else {
            statuses.join(", ")
        },
        s.file.display(),
        if s.tin_masked {
            "TINs masked"
        } else {
            "FULL TINs: handle as IRS-bound"
        }
    );
    if let Some(mark) = s.source.watermark() {
        println!("  {mark}");
    }
    if s.threshold_overridden {
        println!(
            "  threshold {} is a deliberate OVERRIDE from the settings file, not the IRS figure",
            money(&s.threshold)
        );
    }
    if let Some(p) = &s.pdf {
        println!("  PDF packet: {}", p.display());
    }
    for c in &s.conflicts {
        println!(
            "  CONFLICT {} ({}): on neither the 1099-NEC nor the 1042-S; decide with `masspay-tax payees override {} --year {} --form us_person|foreign_person`",
            c.user_token, c.reason, c.user_token, s.tax_year
        );
    }
    if !s.excluded_exempt.is_empty() {
        println!(
            "  left off (W-9 exempt payee code 1-5; attorneys' and medical payments stay reportable: review): {}",
            s.excluded_exempt.join(", ")
        );
    }
    if let Some(n) = &s.next_deadline {
        println!("Next deadline: {}", n.line());
    }
}
