//! `masspay-tax efile iris 1099` and `efile second-notice`: IRIS e-file CSV files.

use super::{Ctx, Format, print_json, term_safe};
use anyhow::Result;
use clap::Subcommand;
use masspay_tax::efile::{EfileOptions, EfileSummary};
use masspay_tax::report::money;
use std::path::PathBuf;
use std::process::ExitCode;

/// IRS e-file: the CSV files the IRIS Taxpayer Portal takes by upload.
#[derive(Subcommand, Debug)]
pub enum EfileCommand {
    /// IRIS Taxpayer Portal CSV files.
    #[command(subcommand)]
    Iris(IrisCommand),
    /// Set (or --clear) a payee's "2nd TIN notice" box on its e-filed 1099.
    ///
    /// Example: masspay-tax efile second-notice usr_123
    ///
    /// Check the box when the IRS notified you twice within three calendar years that the
    /// payee's name/TIN combination was wrong. An IRS TIN Matching no-match sets it too.
    #[command(name = "second-notice")]
    SecondNotice {
        /// The payee's MassPay user token.
        user_token: String,
        /// Clear the flag instead of setting it.
        #[arg(long)]
        clear: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
pub enum IrisCommand {
    /// Form 1099-NEC: DIR/iris-1099-NEC-YEAR-001.csv, -002, … for upload to the IRIS portal.
    ///
    /// Example: masspay-tax efile iris 1099 --year 2026 --out efile/ --template 1099-NEC.csv
    ///
    /// The files hold FULL TINs as the IRS requires: they are written owner-only (0600); upload
    /// them, then delete them. Rows IRIS would reject are listed with the reason and left out
    /// (unless --include-invalid). The payer comes from [payer] in masspay-tax.toml.
    #[command(name = "1099")]
    Nec {
        #[arg(long)]
        year: i32,
        /// Output directory (created if missing). Files of an earlier run for the year are replaced.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// The 1099-NEC template downloaded from the IRIS portal: its header row decides the
        /// columns (default: the built-in header row).
        #[arg(long)]
        template: Option<PathBuf>,
        /// Records per file (the IRS publications give 100; at most 250).
        #[arg(long, default_value_t = masspay_tax_efile::DEFAULT_MAX_RECORDS)]
        max_records: usize,
        /// Also write the rows IRIS would reject (they are still listed).
        #[arg(long)]
        include_invalid: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

pub async fn run(cmd: EfileCommand, ctx: &Ctx) -> Result<ExitCode> {
    match cmd {
        EfileCommand::Iris(IrisCommand::Nec {
            year,
            out,
            template,
            max_records,
            include_invalid,
            format,
        }) => {
            let store = ctx.store.open_existing(Some(year)).await?;
            let opts = EfileOptions {
                template,
                max_records,
                include_invalid,
                ..EfileOptions::new(year, out)
            };
            let s = masspay_tax::efile::iris_1099(&store, &ctx.settings, &opts).await;
            store.close().await;
            let s = s?;
            match format {
                Format::Json => print_json(&s)?,
                Format::Text => print_summary(&s),
            }
            Ok(ExitCode::SUCCESS)
        }
        EfileCommand::SecondNotice {
            user_token,
            clear,
            format,
        } => {
            let store = ctx.store.open_existing(None).await?;
            let r = masspay_tax::efile::second_notice(&store, &user_token, clear).await;
            store.close().await;
            let r = r?;
            match format {
                Format::Json => print_json(&r)?,
                Format::Text => println!(
                    "2nd TIN notice for {}: {}{}",
                    term_safe(&r.user_token),
                    if r.set { "set" } else { "cleared" },
                    if r.changed { "" } else { " (unchanged)" }
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_summary(s: &EfileSummary) {
    println!(
        "IRIS 1099-NEC {}: {} records in {} file(s), box 1 total {} (template: {}, {} columns)",
        s.tax_year,
        s.records_written,
        s.files.len(),
        money(&s.total_box1),
        term_safe(&s.template),
        s.columns
    );
    for f in &s.files {
        println!(
            "  {}  {} records  box 1 {}",
            f.path.display(),
            f.records,
            money(&masspay_tax_rules::format_amount(f.box1_total))
        );
    }
    println!(
        "  worksheet: {} payees, box 1 {}; left out: {} rows, box 1 {}",
        s.worksheet_payees,
        money(&s.worksheet_total_box1),
        s.left_out.len(),
        money(&s.left_out_box1)
    );
    if !s.left_out_by_reason.is_empty() {
        let r: Vec<String> = s
            .left_out_by_reason
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        println!("  left out by reason: {}", r.join(", "));
    }
    for (label, rows) in [
        ("left out", &s.left_out),
        ("written, IRIS will reject", &s.written_invalid),
    ] {
        for row in rows {
            let why: Vec<String> = row
                .problems
                .iter()
                .map(|p| format!("{}: {}", p.reason, term_safe(&p.message)))
                .collect();
            println!(
                "  {label}: {} ({}): {}",
                term_safe(&row.user_token),
                money(&row.box1),
                why.join("; ")
            );
        }
    }
    if !s.excluded_exempt.is_empty() {
        println!(
            "  not on the 1099-NEC (W-9 exempt payee code 1-5): {}",
            s.excluded_exempt.join(", ")
        );
    }
    for p in &s.removed_stale {
        println!("  removed the earlier run's {}", p.display());
    }
    println!(
        "  these files hold FULL TINs: upload them in the IRIS Taxpayer Portal, then delete them"
    );
    if let Some(n) = &s.next_deadline {
        println!("Next deadline: {}", n.line());
    }
}
