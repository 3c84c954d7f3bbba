//! A foreground scheduler for a job run on a cron expression (`alerts schedule`).
//!
//! * The expression is read in a time zone (IANA name, default UTC); five fields, or six with
//!   seconds first.
//! * **One run at a time, across processes and machines** sharing a store: a run holds the
//!   store lease [`masspay_tax_store::lease::ALERTS_LEASE`] (renewed while it runs, lapsing if
//!   its holder dies), and the slot it ran for is recorded in the store under the lease. A
//!   scheduler that finds a slot already recorded does not run it again.
//! * **A missed slot runs once**: on start (and after the machine slept) the latest slot between
//!   the recorded one and now runs once, never once per missed slot.
//! * **Clean shutdown**: when `shutdown` turns true the scheduler stops waiting; a run in
//!   progress is finished first.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use masspay_tax_store::{LeaseHolder, Store};
use std::future::Future;
use std::time::Duration;

/// A cron expression in a time zone.
#[derive(Clone)]
pub struct Schedule {
    cron: croner::Cron,
    expr: String,
    tz: chrono_tz::Tz,
}

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} in {}", self.expr, self.tz.name())
    }
}

impl Schedule {
    /// `expr` (`"0 7 * * 1-5"`, or with seconds `"*/10 * * * * *"`) read in `tz` (default UTC).
    pub fn parse(expr: &str, tz: Option<&str>) -> Result<Schedule> {
        let expr = expr.trim();
        if expr.is_empty() {
            bail!("the schedule is empty: give a cron expression such as \"0 7 * * 1-5\"");
        }
        let cron = parse_cron(expr).map_err(|e| {
            anyhow::anyhow!(
                "{expr:?} is not a cron expression ({e}); e.g. \"0 7 * * 1-5\" is 07:00 on weekdays"
            )
        })?;
        let tz = match tz.map(str::trim).filter(|t| !t.is_empty()) {
            None => chrono_tz::UTC,
            Some(t) => t.parse::<chrono_tz::Tz>().map_err(|_| {
                anyhow::anyhow!("{t:?} is not a time zone name (e.g. America/New_York, UTC)")
            })?,
        };
        let s = Schedule {
            cron,
            expr: expr.to_string(),
            tz,
        };
        if s.next_after(Utc::now()).is_none() {
            bail!("{expr:?} never fires");
        }
        Ok(s)
    }

    pub fn expr(&self) -> &str {
        &self.expr
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.tz
    }

    /// The first slot strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        next_occurrence(&self.cron, &t.with_timezone(&self.tz)).map(|d| d.with_timezone(&Utc))
    }

    /// The latest slot in `(after, now]`, if any: what is due now. Several missed slots give
    /// the latest one only.
    pub fn due(&self, after: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut slot = self.next_after(after).filter(|s| *s <= now)?;
        // Walk to the latest missed slot (bounded: a per-second schedule after a long sleep
        // jumps close to now first).
        if now - slot > chrono::Duration::hours(1)
            && let Some(s) = self
                .next_after(now - chrono::Duration::hours(1))
                .filter(|s| *s <= now)
        {
            slot = s;
        }
        while let Some(n) = self.next_after(slot).filter(|n| *n <= now) {
            slot = n;
        }
        Some(slot)
    }
}

fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .year(croner::parser::Year::Disallowed)
        .build()
        .parse(expr)
        .map_err(|e| e.to_string())
}

fn next_occurrence(
    cron: &croner::Cron,
    t: &DateTime<chrono_tz::Tz>,
) -> Option<DateTime<chrono_tz::Tz>> {
    cron.find_next_occurrence(t, false).ok()
}

/// How the scheduler runs.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// The job's name (where its last slot is recorded).
    pub job: String,
    /// The store lease held while a run is in progress.
    pub lease: String,
    /// The lease's time to live (renewed every third of it while the run lasts).
    pub lease_ttl: Duration,
    /// The longest sleep between two looks at the clock (so a machine that slept, or a clock
    /// that jumped, is noticed).
    pub max_sleep: Duration,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            job: "alerts".into(),
            lease: masspay_tax_store::lease::ALERTS_LEASE.into(),
            lease_ttl: Duration::from_secs(60),
            max_sleep: Duration::from_secs(30),
        }
    }
}

/// What a scheduler did before it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchedulerReport {
    /// The slots this scheduler ran, in order.
    pub ran: Vec<DateTime<Utc>>,
    /// Runs that ended with an error (logged; the slot still counts as run).
    pub failed: usize,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn last_slot(store: &Store, job: &str) -> Result<Option<DateTime<Utc>>> {
    match store.schedule_last_slot(job).await? {
        None => Ok(None),
        Some(v) => Ok(Some(
            DateTime::parse_from_rfc3339(&v)
                .with_context(|| format!("the store's last {job} slot {v:?} is not a time"))?
                .with_timezone(&Utc),
        )),
    }
}

/// Runs `job(slot)` on every slot of `schedule` until `shutdown` turns true (a run in progress
/// is finished first). See the module docs for the guarantees.
pub async fn run<F, Fut>(
    store: &Store,
    schedule: &Schedule,
    opts: &SchedulerOptions,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut job: F,
) -> Result<SchedulerReport>
where
    F: FnMut(DateTime<Utc>) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let holder = LeaseHolder::this_process();
    let started = Utc::now();
    // First start ever: slots before now are not "missed".
    store
        .set_schedule_last_slot(&opts.job, &rfc3339(started), true)
        .await?;
    let mut report = SchedulerReport::default();
    tracing::info!(schedule = ?schedule, "scheduler started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let last = last_slot(store, &opts.job).await?.unwrap_or(started);
        let now = Utc::now();
        if schedule.due(last, now).is_some() {
            match store.try_lease(&opts.lease, &holder, opts.lease_ttl).await {
                Ok(Some(lease)) => {
                    let keeper = store.keep_lease(lease);
                    // Under the lease: another scheduler may have just run this slot.
                    let last = last_slot(store, &opts.job).await?.unwrap_or(started);
                    if let Some(slot) = schedule.due(last, Utc::now()) {
                        tracing::info!(slot = %rfc3339(slot), "run started");
                        let t = std::time::Instant::now();
                        let outcome = job(slot).await;
                        store
                            .set_schedule_last_slot(&opts.job, &rfc3339(slot), false)
                            .await?;
                        report.ran.push(slot);
                        match outcome {
                            Ok(()) => tracing::info!(
                                slot = %rfc3339(slot),
                                secs = t.elapsed().as_secs_f64(),
                                "run finished"
                            ),
                            Err(e) => {
                                report.failed += 1;
                                tracing::error!(
                                    slot = %rfc3339(slot),
                                    "run failed: {}",
                                    crate::errors::chain(&e)
                                );
                            }
                        }
                    }
                    if let Err(e) = keeper.release().await {
                        tracing::warn!(error = %e, "could not release the lease; it lapses on its own");
                    }
                    continue;
                }
                Ok(None) => {
                    if let Ok(Some(info)) = store.lease_info(&opts.lease).await {
                        tracing::debug!(holder = %format!("process {} on {}", info.pid, info.host), "another run holds the lease");
                    }
                }
                Err(e) => tracing::debug!(error = %e, "lease not taken this time"),
            }
            // Someone else is running: look again shortly.
            wait(
                &mut shutdown,
                Duration::from_millis(200).min(opts.max_sleep),
            )
            .await;
            continue;
        }
        let next = schedule.next_after(last.max(now));
        let pause = match next {
            Some(n) => (n - Utc::now())
                .to_std()
                .unwrap_or_default()
                .clamp(Duration::from_millis(5), opts.max_sleep),
            None => opts.max_sleep,
        };
        wait(&mut shutdown, pause).await;
    }
    tracing::info!(runs = report.ran.len(), "scheduler stopped");
    Ok(report)
}

async fn wait(shutdown: &mut tokio::sync::watch::Receiver<bool>, pause: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(pause) => {}
        _ = shutdown.changed() => {}
    }
}

/// A shutdown flag that turns true on SIGTERM or Ctrl-C (SIGINT). The handlers are installed
/// before this returns, so a signal during the first run is not lost.
pub fn shutdown_on_signals() -> Result<tokio::sync::watch::Receiver<bool>> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing the Ctrl-C handler")?;
        tokio::spawn(async move {
            let which = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "Ctrl-C",
            };
            eprintln!("{which}: stopping after the run in progress");
            let _ = tx.send(true);
        });
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("Ctrl-C: stopping after the run in progress");
            let _ = tx.send(true);
        });
    }
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekday_mornings_in_new_york() {
        let s = Schedule::parse("0 7 * * 1-5", Some("America/New_York")).unwrap();
        // Friday 2026-03-06 08:00 New York (13:00 UTC) → Monday 07:00 (11:00 UTC, EST→EDT on the 8th).
        assert_eq!(
            s.next_after(t("2026-03-06T13:00:00Z")).unwrap(),
            t("2026-03-09T11:00:00Z")
        );
        assert!(Schedule::parse("61 * * * *", None).is_err());
        assert!(Schedule::parse("0 7 * * 1-5", Some("Mars/Olympus")).is_err());
        let e = Schedule::parse("nope", None).unwrap_err().to_string();
        assert!(e.contains("0 7 * * 1-5"), "{e}");
    }

    #[test]
    fn missed_slots_collapse_into_one() {
        let s = Schedule::parse("0 7 * * *", None).unwrap();
        let last = t("2026-03-01T07:00:00Z");
        // Asleep for three days: one run due, for the latest slot.
        assert_eq!(
            s.due(last, t("2026-03-04T09:00:00Z")),
            Some(t("2026-03-04T07:00:00Z"))
        );
        assert_eq!(s.due(last, t("2026-03-01T09:00:00Z")), None);
        let every_second = Schedule::parse("* * * * * *", None).unwrap();
        assert_eq!(
            every_second.due(last, t("2026-03-04T09:00:00.500Z")),
            Some(t("2026-03-04T09:00:00Z"))
        );
    }
}
