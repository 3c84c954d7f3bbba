//! `masspay-tax alerts run`: who crossed, or is about to cross, the year's threshold without a
//! usable TIN, and foreign payees paid without a W-8.

use super::{Ctx, Format, SourceFlags, print_json};
use crate::commands::holds::deliver;
use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use masspay_tax::alerts::{self, AlertOptions};
use masspay_tax::source::Source;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum AlertsCommand {
    /// Pulls the year to date from MassPay (a recorded sync run), judges every payee and sends
    /// the alerts that are new. Exit 0 when it ran, even with alerts (see --fail-on).
    Run(RunArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Crossed,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Tax year (default: the year of today's date in UTC).
    #[arg(long)]
    pub year: Option<i32>,
    /// Share of the threshold from which a payee is approaching (e.g. 80%).
    #[arg(long, default_value = "80%")]
    pub approach: String,
    /// Also alert on crossings of payees who are ready to report.
    #[arg(long)]
    pub every_crossing: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit 3 when this run sent an alert in this state (CI-style use).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Judge the store's latest sync of the year without pulling from MassPay.
    #[arg(long)]
    pub no_sync: bool,
    #[command(flatten)]
    pub source: SourceFlags,
}

pub async fn run(cmd: AlertsCommand, ctx: &Ctx) -> Result<ExitCode> {
    let AlertsCommand::Run(a) = cmd;
    // One year throughout, even across midnight on December 31.
    let year = a
        .year
        .unwrap_or_else(|| chrono::Datelike::year(&chrono::Utc::now()));
    let opts = AlertOptions {
        approach: alerts::parse_share(&a.approach)
            .map_err(|e| anyhow::anyhow!("--approach: {e}"))?,
        every_crossing: a.every_crossing,
    };
    ctx.settings.thresholds.nec(year)?;
    let store = ctx.store.open().await?;
    if !a.no_sync {
        let src = Source::connect(&a.source.args()).await?;
        let origin = if src.emulator.is_some() {
            masspay_tax_store::Origin::Sandbox
        } else {
            masspay_tax_store::Origin::masspay(src.client.base_url())
        };
        masspay_tax::sync::sync_year_with(
            &src.client,
            &store,
            &ctx.settings.thresholds,
            year,
            &masspay_tax::sync::SyncOptions::new(&src.label, origin),
            None,
        )
        .await?;
    }
    let (summary, sent) = alerts::evaluate(&store, &ctx.settings, year, &opts).await?;
    match a.format {
        Format::Json => {
            // stdout is one JSON object; notices on the stdout channel are not mixed in.
            let notifier =
                masspay_tax::notify::Notifier::from_settings(&ctx.settings.notify, |k| {
                    std::env::var(k).ok()
                })?;
            let mut sink = Vec::new();
            notifier.deliver(&store, &mut sink).await?;
            print_json(&serde_json::json!({"summary": summary, "alerts": sent}))?;
        }
        Format::Text => {
            deliver(&store, ctx).await?;
            println!(
                "tax year {}: {} payees; {} crossed, {} approaching, {} w8_missing; {} alert(s) sent",
                summary.tax_year,
                summary.payees,
                summary.crossed,
                summary.approaching,
                summary.w8_missing,
                summary.alerts
            );
        }
    }
    let fail = a.fail_on == Some(FailOn::Crossed) && sent.iter().any(|s| s.state == "crossed");
    Ok(if fail {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
