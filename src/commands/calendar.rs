//! `masspay-tax calendar`: the due dates of a tax year.

use super::{Ctx, Format, print_json};
use anyhow::Result;
use clap::Args;
use std::process::ExitCode;

/// The due dates that concern this tool for a tax year: recipient statements and IRS filing for
/// 1099-NEC, 1042-S and Form 1042, after the weekend / legal-holiday roll (IRC §7503).
///
/// Example: masspay-tax calendar --year 2026
#[derive(Args, Debug)]
pub struct CalendarArgs {
    #[arg(long)]
    year: i32,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub async fn run(a: CalendarArgs, _ctx: &Ctx) -> Result<ExitCode> {
    let c = masspay_tax::calendar::calendar(a.year)?;
    match a.format {
        Format::Json => print_json(&c)?,
        Format::Text => {
            println!("Due dates for tax year {}:", c.tax_year);
            for d in &c.deadlines {
                let to = if d.party == "irs" {
                    "IRS"
                } else {
                    "recipients"
                };
                println!("  {:<28} {:<9} {:<10} {}", d.due.long(), d.form, to, d.what);
                if !d.rolled.is_empty() {
                    println!(
                        "  {:<28} (due {}; moved: {})",
                        "",
                        d.nominal.long(),
                        d.rolled.join(", ")
                    );
                }
            }
            println!("Rule: {}.", c.rule);
            if let Some(n) = masspay_tax::calendar::next_from_today() {
                println!("Next deadline: {}", n.line());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
