//! `masspay-tax payees override USER_TOKEN --year Y ...`: a user's per-payee decisions.

use super::{Ctx, Format, print_json, term_safe};
use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;

/// Per-payee decisions.
#[derive(Subcommand, Debug)]
pub enum PayeesCommand {
    /// Record a decision for one payee and tax year: settle a US/foreign conflict or an unknown
    /// country (--form), where the services were performed, the US-source share, the 1042-S
    /// income codes. Without options: show what is recorded.
    ///
    /// Example: masspay-tax payees override usr_123 --year 2025 --form foreign_person
    /// --services-performed in_us --us-source-percent 40 --income-code 17 --income-code 12:500.00
    Override {
        user_token: String,
        #[arg(long)]
        year: i32,
        /// us_person, foreign_person, nec_1099 or not_reportable.
        #[arg(long)]
        form: Option<String>,
        /// outside_us or in_us.
        #[arg(long)]
        services_performed: Option<String>,
        /// The share of the pay for work done in the US, 0-100.
        #[arg(long)]
        us_source_percent: Option<String>,
        /// A 1042-S income code, optionally with its amount (`12:500.00`); repeat for more.
        #[arg(long = "income-code")]
        income_codes: Vec<String>,
        /// Remove every decision recorded for the payee and year (before applying the others).
        #[arg(long)]
        clear: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

pub async fn run(cmd: PayeesCommand, ctx: &Ctx) -> Result<ExitCode> {
    match cmd {
        PayeesCommand::Override {
            user_token,
            year,
            form,
            services_performed,
            us_source_percent,
            income_codes,
            clear,
            format,
        } => {
            let store = ctx.store.open().await?;
            let change = masspay_tax::f1042s::OverrideChange {
                form,
                services_performed,
                us_source_percent,
                income_codes,
                clear,
            };
            let r = masspay_tax::f1042s::set_override(&store, &user_token, year, &change).await;
            store.close().await;
            let o = r?;
            match format {
                Format::Json => print_json(&o)?,
                Format::Text => println!("{}", term_safe(&o.render_text())),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
