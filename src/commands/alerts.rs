//! `masspay-tax alerts run` / `alerts schedule`: who crossed, or is about to cross, the year's
//! threshold without a usable TIN, and foreign payees paid without a W-8; once, or on a cron
//! schedule in the foreground.

use super::{Ctx, Format, SourceFlags, print_json};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use masspay_tax::alerts::{self, AlertOptions, AlertSummary};
use masspay_tax::notify::Notifier;
use masspay_tax::schedule::{self, Schedule, SchedulerOptions};
use masspay_tax::source::Source;
use masspay_tax_store::LeaseHolder;
use masspay_tax_store::lease::ALERTS_LEASE;
use std::process::ExitCode;
use std::time::Duration;

/// Threshold alerts during the year: payees approaching or over the 1099-NEC threshold
#[derive(Subcommand, Debug)]
pub enum AlertsCommand {
    /// Pulls the year to date from MassPay (a recorded sync run), judges every payee and sends
    /// the alerts that are new. Exit 0 when it ran, even with alerts (see --fail-on).
    Run(RunArgs),
    /// Runs `alerts run` on a cron schedule, in the foreground, until SIGTERM or Ctrl-C (the
    /// run in progress is finished first). Never two runs at once, also across processes and
    /// machines sharing the store; a missed slot runs once at start.
    ///
    /// Example: masspay-tax alerts schedule --cron "0 7 * * 1-5" --tz America/New_York
    Schedule(ScheduleArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Crossed,
}

/// How payees are judged (both subcommands).
#[derive(Args, Debug)]
pub struct JudgeArgs {
    /// Share of the threshold from which a payee is approaching (e.g. 80%). Default: [alerts]
    /// approach, else 80%.
    #[arg(long)]
    pub approach: Option<String>,
    /// Also alert on crossings of payees who are ready to report.
    #[arg(long)]
    pub every_crossing: bool,
    /// Judge the store's latest sync of the year without pulling from MassPay.
    #[arg(long)]
    pub no_sync: bool,
    /// Confirm the year to date of payees near the threshold (from the approach share up to
    /// 125% of it) from MassPay's transaction history, fetching only what changed since the
    /// last check. Default: [alerts] confirm_history.
    #[arg(long)]
    pub confirm_history: bool,
    /// At most this many history checks per run (default: [alerts] confirm_max, else 50).
    #[arg(long, value_name = "N")]
    pub confirm_max: Option<usize>,
    /// The time it is (RFC 3339 or YYYY-MM-DD, UTC), for trying out a year boundary.
    #[arg(long, env = "MASSPAY_TAX_TODAY", hide = true, hide_env_values = true)]
    pub today: Option<String>,
    #[command(flatten)]
    pub source: SourceFlags,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Tax year (default: the year of today's date in UTC).
    #[arg(long)]
    pub year: Option<i32>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit 3 when this run sent an alert in this state (CI-style use).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

#[derive(Args, Debug)]
pub struct ScheduleArgs {
    /// Cron expression: five fields (minute hour day month weekday), or six with seconds first.
    /// Default: [alerts] schedule / MASSPAY_TAX_ALERTS_SCHEDULE.
    #[arg(long)]
    pub cron: Option<String>,
    /// The time zone the expression is read in (IANA name). Default: [alerts] tz /
    /// MASSPAY_TAX_ALERTS_TZ, else UTC.
    #[arg(long)]
    pub tz: Option<String>,
    #[command(flatten)]
    pub judge: JudgeArgs,
}

fn options(a: &JudgeArgs, ctx: &Ctx) -> Result<AlertOptions> {
    let share = a
        .approach
        .clone()
        .or_else(|| ctx.settings.alerts.approach.clone())
        .unwrap_or_else(|| "80%".into());
    Ok(AlertOptions {
        approach: alerts::parse_share(&share).map_err(|e| anyhow::anyhow!("--approach: {e}"))?,
        every_crossing: a.every_crossing || ctx.settings.alerts.every_crossing,
        states: ctx.settings.alerts.states.clone(),
        tin_statuses: ctx.settings.alerts.tin_statuses.clone(),
        keep_alerts: true,
        confirm_max: (a.confirm_history || ctx.settings.alerts.confirm_history).then(|| {
            a.confirm_max
                .or(ctx.settings.alerts.confirm_max)
                .unwrap_or(50)
        }),
        confirm_band: match &ctx.settings.alerts.confirm_band {
            Some(b) => {
                alerts::parse_share(b).map_err(|e| anyhow::anyhow!("[alerts] confirm_band: {e}"))?
            }
            None => AlertOptions::default().confirm_band,
        },
    })
}

fn now(a: &JudgeArgs) -> Result<DateTime<Utc>> {
    parse_today(a.today.as_deref())
}

fn parse_today(today: Option<&str>) -> Result<DateTime<Utc>> {
    let Some(t) = today.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Utc::now());
    };
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .with_context(|| format!("MASSPAY_TAX_TODAY: {t:?} is not a date (YYYY-MM-DD)"))?;
    Ok(d.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc())
}

/// MassPay, unless the run neither syncs nor confirms from the history.
async fn connect(a: &JudgeArgs, opts: &AlertOptions) -> Result<Option<Source>> {
    if a.no_sync && opts.confirm_max.is_none() {
        Ok(None)
    } else {
        Ok(Some(Source::connect(&a.source.args()).await?))
    }
}

fn summary_line(s: &AlertSummary) -> String {
    let history = if s.history_checked > 0 {
        format!(
            "; {} checked against the transaction history, {} not matching",
            s.history_checked, s.history_mismatches
        )
    } else {
        String::new()
    };
    format!(
        "tax year {}: {} payees; {} crossed, {} approaching, {} w8_missing; {} alert(s) sent{history}",
        s.tax_year, s.payees, s.crossed, s.approaching, s.w8_missing, s.alerts
    )
}

pub async fn run(cmd: AlertsCommand, ctx: &Ctx) -> Result<ExitCode> {
    match cmd {
        AlertsCommand::Run(a) => run_now(a, ctx).await,
        AlertsCommand::Schedule(a) => run_schedule(a, ctx).await,
    }
}

async fn run_now(a: RunArgs, ctx: &Ctx) -> Result<ExitCode> {
    // One year throughout, even across midnight on December 31.
    let year = a.year.unwrap_or(alerts::tax_year_at(now(&a.judge)?));
    let mut opts = options(&a.judge, ctx)?;
    // Only a JSON report lists the alerts; text prints the counts.
    opts.keep_alerts = a.format == Format::Json;
    ctx.settings.thresholds.nec(year)?;
    let notifier = Notifier::from_settings(&ctx.settings.notify, |k| std::env::var(k).ok())?;
    let store = ctx.store.open().await?;
    let src = connect(&a.judge, &opts).await?;
    // Never two alert runs at once (also a scheduler's) on one store.
    let lease = store
        .lease_wait(
            ALERTS_LEASE,
            &LeaseHolder::this_process(),
            Duration::from_secs(60),
            masspay_tax::sync::lock_wait_from_env(),
        )
        .await?;
    let keeper = store.keep_lease(lease);
    let outcome = alerts::run_once(
        &store,
        &ctx.settings,
        src.as_ref(),
        !a.judge.no_sync,
        year,
        &opts,
    )
    .await;
    let outcome = match outcome {
        Ok((summary, sent)) => {
            let report = match a.format {
                // stdout is one JSON object; the alerts are in it, not mixed in as lines.
                Format::Json => notifier.deliver(&store, &mut std::io::sink()).await,
                Format::Text => {
                    notifier
                        .deliver(&store, &mut std::io::stdout().lock())
                        .await
                }
            };
            report.map(|r| (summary, sent, r))
        }
        Err(e) => Err(e),
    };
    if let Err(e) = keeper.release().await {
        tracing::warn!(error = %e, "could not release the alerts lease; it lapses on its own");
    }
    let (summary, sent, report) = outcome?;
    if report.failed() > 0 {
        eprintln!(
            "warning: {} notice deliveries failed; they are retried on the next run",
            report.failed()
        );
    }
    match a.format {
        Format::Json => {
            #[derive(serde::Serialize)]
            struct Out<'a> {
                summary: &'a AlertSummary,
                alerts: &'a [alerts::Alert],
            }
            print_json(&Out {
                summary: &summary,
                alerts: &sent,
            })?
        }
        Format::Text => println!("{}", summary_line(&summary)),
    }
    let fail = a.fail_on == Some(FailOn::Crossed) && summary.crossed_sent > 0;
    Ok(if fail {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

async fn run_schedule(a: ScheduleArgs, ctx: &Ctx) -> Result<ExitCode> {
    let expr = a
        .cron
        .clone()
        .or_else(|| ctx.settings.alerts.schedule.clone())
        .context(
            "no schedule: give --cron \"0 7 * * 1-5\" (or [alerts] schedule / \
             MASSPAY_TAX_ALERTS_SCHEDULE)",
        )?;
    let tz = a.tz.clone().or_else(|| ctx.settings.alerts.tz.clone());
    let sched = Schedule::parse(&expr, tz.as_deref()).context("--cron")?;
    let mut opts = options(&a.judge, ctx)?;
    opts.keep_alerts = false;
    let notifier = Notifier::from_settings(&ctx.settings.notify, |k| std::env::var(k).ok())?;
    // Signals first: a SIGTERM during the first run must wait for it, not kill it.
    let shutdown = schedule::shutdown_on_signals()?;
    let store = ctx.store.open().await?;
    let src = connect(&a.judge, &opts).await?;
    let sync = !a.judge.no_sync;
    let fixed_now = a.judge.today.is_some();
    eprintln!(
        "alerts schedule: {:?} in {}; next run at {}",
        sched.expr(),
        sched.tz().name(),
        sched
            .next_after(Utc::now())
            .map(|t| t.with_timezone(&sched.tz()).to_rfc3339())
            .unwrap_or_default()
    );
    let report = schedule::run(
        &store,
        &sched,
        &SchedulerOptions::default(),
        shutdown,
        |slot| {
            let (store, settings, src, opts, notifier) =
                (&store, &ctx.settings, src.as_ref(), &opts, &notifier);
            let today = a.judge.today.as_deref();
            async move {
                // The slot's date decides the year, once for the whole run.
                let at = if fixed_now { parse_today(today)? } else { slot };
                let year = alerts::tax_year_at(at);
                let (summary, _) = alerts::run_once(store, settings, src, sync, year, opts).await?;
                let r = notifier
                    .deliver(store, &mut std::io::stdout().lock())
                    .await?;
                eprintln!(
                    "{} alerts run: {}{}",
                    slot.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    summary_line(&summary),
                    if r.failed() > 0 {
                        format!("; {} deliveries failed (retried next run)", r.failed())
                    } else {
                        String::new()
                    }
                );
                Ok(())
            }
        },
    )
    .await?;
    eprintln!(
        "alerts schedule stopped after {} run(s){}",
        report.ran.len(),
        if report.failed > 0 {
            format!(", {} failed", report.failed)
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}
