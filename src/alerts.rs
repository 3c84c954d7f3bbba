//! Threshold alerts during the year (`alerts run`): for each payee of the year's latest sync,
//! its state (`crossed`: on the 1099-NEC by the one decision function; `approaching`: at or over
//! the given share of the threshold; `w8_missing`: a foreign payee paid anything with no W-8 on
//! file), and an alert when the state is new or worse since the last run and the payee is not
//! ready to report (TIN missing, malformed, invalid, or an IRS "no match"; for foreign payees,
//! no W-8). Each alert is recorded once per payee, tax year and state (the notifier's outbox),
//! and delivered through the notifier's channels.

use crate::notify::{Notice, Notifier};
use anyhow::Result;
use futures_util::TryStreamExt;
use masspay_tax_store::Store;
use rust_decimal::Decimal;
use serde::Serialize;
use std::str::FromStr;

/// How a run decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertOptions {
    /// The share of the threshold from which a payee is `approaching` (0.8 = 80%).
    pub approach: Decimal,
    /// Alert on every crossing, also for payees ready to report.
    pub every_crossing: bool,
    /// Only these states alert (`None`: all of `approaching`, `crossed`, `w8_missing`).
    pub states: Option<Vec<String>>,
    /// On the 1099 side, only payees with these TIN statuses alert (`missing`, `malformed`,
    /// `invalid`, `no_match`, `valid`; `None`: every status that is not ready to report).
    pub tin_statuses: Option<Vec<String>>,
    /// Return the alerts this run sent (for `--format json`); otherwise only counted.
    pub keep_alerts: bool,
    /// Confirm the year to date of payees near the threshold from MassPay's transaction
    /// history (`--confirm-history`), at most this many per run (`None`: off).
    pub confirm_max: Option<usize>,
    /// Near the threshold: an amount from the approach share up to the threshold times one
    /// plus this share (0.25: up to 125%).
    pub confirm_band: Decimal,
}

impl Default for AlertOptions {
    fn default() -> Self {
        AlertOptions {
            approach: Decimal::new(8, 1),
            every_crossing: false,
            states: None,
            tin_statuses: None,
            keep_alerts: true,
            confirm_max: None,
            confirm_band: Decimal::new(25, 2),
        }
    }
}

/// The tax year a run at `now` is about: the year of its date in UTC. A run decides it once, at
/// its start, and uses it throughout (a run near midnight on December 31 stays in its year).
pub fn tax_year_at(now: chrono::DateTime<chrono::Utc>) -> i32 {
    chrono::Datelike::year(&now)
}

/// `80%`, `80`, `0.8` → 0.8.
pub fn parse_share(s: &str) -> Result<Decimal, String> {
    let t = s.trim();
    let (num, pct) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (t, false),
    };
    let d = Decimal::from_str(num).map_err(|_| format!("{s:?} is not a share (e.g. 80%)"))?;
    let d = if pct || d > Decimal::ONE {
        d / Decimal::from(100)
    } else {
        d
    };
    if d <= Decimal::ZERO || d > Decimal::ONE {
        return Err(format!(
            "{s:?}: the share must be above 0% and at most 100%"
        ));
    }
    Ok(d)
}

/// One alert (JSON fields are a public interface).
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub user_token: String,
    pub name: String,
    pub tax_year: i32,
    pub state: String,
    pub amount: String,
    pub threshold: String,
    /// Amount / threshold, 2 decimals (e.g. `0.85`).
    pub share: String,
    pub tin_status: String,
    pub form: String,
    pub reason: String,
    pub first_seen_at: String,
    /// The year's completed payouts by MassPay's transaction history, when this run confirmed
    /// them (`--confirm-history`); `null` otherwise.
    pub history_amount: Option<String>,
}

/// Payees by state, and the alerts this run recorded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AlertSummary {
    pub tax_year: i32,
    pub payees: usize,
    pub crossed: usize,
    pub approaching: usize,
    pub w8_missing: usize,
    pub none: usize,
    pub alerts: usize,
    /// Of `alerts`, how many are `crossed` (for `--fail-on crossed`).
    #[serde(skip)]
    pub crossed_sent: usize,
    /// Payees whose year to date was confirmed from the transaction history this run.
    pub history_checked: usize,
    /// Of those, how many the history does not match (the alert's reason says so).
    pub history_mismatches: usize,
}

/// The fewest cents a payee with nothing on file and no override needs before its state can be
/// anything but `none` on the 1099 side: the lower of the 1099-NEC floor and the approach
/// share of the threshold (rounded down, so the SQL filter never drops a payee the comparison
/// `amount >= threshold * approach` would keep). Foreign payees paid anything are read anyway
/// (`w8_missing`).
pub fn alert_floor_cents(threshold: Decimal, approach: Decimal) -> i64 {
    let nec = masspay_tax_rules::decision::nec_floor_cents(threshold);
    let approach_cents = (threshold * approach * Decimal::from(100)).floor();
    let approach_cents = i64::try_from(approach_cents).unwrap_or(i64::MAX);
    nec.min(approach_cents)
}

fn rank(state: &str) -> u8 {
    match state {
        "approaching" => 1,
        "crossed" => 2,
        _ => 0,
    }
}

fn key(year: i32, token: &str, state: &str) -> String {
    format!("alert:{year}:{token}:{state}")
}

/// One run for `year`: the year to date pulled from `source` (a recorded sync run, under the
/// sync lease; `None`: judge the store's latest sync), then [`evaluate`]. Delivery is the
/// caller's (the notifier's outbox holds what is due).
pub async fn run_once(
    store: &Store,
    settings: &crate::config::Settings,
    source: Option<&crate::source::Source>,
    sync: bool,
    year: i32,
    opts: &AlertOptions,
) -> Result<(AlertSummary, Vec<Alert>)> {
    settings.thresholds.nec(year)?;
    if let Some(src) = source.filter(|_| sync) {
        let origin = if src.emulator.is_some() {
            masspay_tax_store::Origin::Sandbox
        } else {
            masspay_tax_store::Origin::masspay(src.client.base_url())
        };
        crate::sync::sync_year_with(
            &src.client,
            store,
            &settings.thresholds,
            year,
            &crate::sync::SyncOptions::new(&src.label, origin),
            None,
        )
        .await?;
    }
    evaluate_with(store, settings, year, opts, source.map(|s| &s.client)).await
}

/// Judges every payee of the year's latest sync and records the alerts that are due.
pub async fn evaluate(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    opts: &AlertOptions,
) -> Result<(AlertSummary, Vec<Alert>)> {
    evaluate_with(store, settings, year, opts, None).await
}

/// [`evaluate`], confirming near-threshold payees from the transaction history through
/// `client` when `opts.confirm_max` asks for it.
pub async fn evaluate_with(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    opts: &AlertOptions,
    client: Option<&masspay_client::Client>,
) -> Result<(AlertSummary, Vec<Alert>)> {
    let mut confirm_left = match (client, opts.confirm_max) {
        (Some(_), Some(n)) => n,
        _ => 0,
    };
    let view = crate::year::YearView::load(store, settings, year).await?;
    let mut summary = AlertSummary {
        tax_year: year,
        ..Default::default()
    };
    let mut alerts = Vec::new();
    // What earlier runs recorded for this year, in one query.
    let mut seen_keys = store
        .notice_keys_with_prefix(&format!("alert:{year}:"))
        .await?;
    let mut due = Vec::new();
    // Only the payees whose state can be other than `none` (the rest are counted): below the
    // floor with nothing on file and paid in the US, or paid nothing. No date of birth is read.
    let total = store.year_payee_count(year).await?;
    let mut payees = view.on_file(store.year_payees_where(
        year,
        masspay_tax_store::YearQuery {
            min_cents_unless_on_file: Some(alert_floor_cents(view.threshold, opts.approach)),
            or_paid_outside_us: true,
            skip_date_of_birth: true,
            ..Default::default()
        },
    ));
    while let Some(p) = payees.try_next().await? {
        let token = p.0.user_token.clone();
        let us = masspay_tax_rules::classify::is_us_or_territory(&p.0.country);
        let y = view.judge(p)?;
        let amount = y.payee.amount_decimal()?;
        let has_w8 = y.form.as_ref().is_some_and(|f| !f.is_w9());
        let tin_status = y.check.status.as_str();
        let (state, ready, reason) = if !us && amount > Decimal::ZERO && !has_w8 {
            (
                "w8_missing",
                false,
                "foreign payee paid without a W-8 on file",
            )
        } else {
            let ready = tin_status == "valid" && !y.irs.no_match();
            let reason = if ready {
                "TIN valid"
            } else if y.irs.no_match() {
                "IRS TIN Matching: no match"
            } else {
                "no usable TIN on file"
            };
            if y.decision.reportable_1099() {
                ("crossed", ready, reason)
            } else if us
                && view.threshold > Decimal::ZERO
                && amount >= view.threshold * opts.approach
            {
                ("approaching", ready, reason)
            } else {
                ("none", ready, reason)
            }
        };
        match state {
            "crossed" => summary.crossed += 1,
            "approaching" => summary.approaching += 1,
            "w8_missing" => summary.w8_missing += 1,
            _ => continue,
        }
        if ready && !(opts.every_crossing && state == "crossed") {
            continue;
        }
        if opts
            .states
            .as_ref()
            .is_some_and(|only| !only.iter().any(|s| s == state))
        {
            continue;
        }
        let filter_status = if y.irs.no_match() {
            "no_match"
        } else {
            tin_status
        };
        if state != "w8_missing"
            && opts
                .tin_statuses
                .as_ref()
                .is_some_and(|only| !only.iter().any(|s| s == filter_status))
        {
            continue;
        }
        // New or worse: nothing recorded at this state or a worse one.
        let seen = ["approaching", "crossed", "w8_missing"].iter().any(|s| {
            (*s == state || rank(s) > rank(state) && rank(state) > 0)
                && seen_keys.contains(&key(year, &token, s))
        });
        if seen {
            continue;
        }
        let name = if !y.payee.business_name.trim().is_empty() {
            y.payee.business_name.clone()
        } else {
            crate::report::full_name(&y.payee)
        };
        let tin_status = tin_status.to_string();
        let form = serde_json::to_value(y.decision.form)?
            .as_str()
            .unwrap_or("none")
            .to_string();
        // Near the threshold: a second look at the year to date in the transaction history.
        let near = state != "w8_missing"
            && amount >= view.threshold * opts.approach
            && amount < view.threshold * (Decimal::ONE + opts.confirm_band);
        let mut history_amount = None;
        let mut reason = reason.to_string();
        if near
            && confirm_left > 0
            && let Some(c) = client
        {
            confirm_left -= 1;
            match crate::ytd::confirm(c, store, year, &token).await {
                Ok(h) => {
                    let h = masspay_tax_rules::money::round_cents(h);
                    summary.history_checked += 1;
                    if h != amount {
                        summary.history_mismatches += 1;
                        reason.push_str(&format!(
                            "; the transaction history says ${} (the tax endpoint ${amount})",
                            masspay_tax_rules::format_amount(h)
                        ));
                    }
                    history_amount = Some(masspay_tax_rules::format_amount(h));
                }
                Err(e) => {
                    // The alert goes out on the tax endpoint's amount; the check is retried
                    // next run.
                    tracing::warn!(user_token = %token, "transaction history check failed: {e:#}");
                }
            }
        }
        let share = if view.threshold > Decimal::ZERO {
            (amount / view.threshold).round_dp(2).to_string()
        } else {
            String::new()
        };
        let alert = Alert {
            user_token: token.clone(),
            name,
            tax_year: year,
            state: state.to_string(),
            amount: amount.to_string(),
            threshold: view.threshold.to_string(),
            share,
            tin_status,
            form,
            reason,
            first_seen_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            history_amount,
        };
        let notice = Notice {
            kind: "alert".into(),
            text: format!(
                "{} ({}) {} for {year}: ${} of ${}, {}",
                alert.name,
                alert.user_token,
                alert.state,
                alert.amount,
                alert.threshold,
                alert.reason
            ),
            fields: serde_json::to_value(&alert)?,
        };
        let k = key(year, &token, state);
        seen_keys.insert(k.clone());
        due.push((k, notice, alert));
        if due.len() >= RECORD_BATCH {
            record_due(store, &mut due, &mut summary, &mut alerts, opts.keep_alerts).await?;
        }
    }
    record_due(store, &mut due, &mut summary, &mut alerts, opts.keep_alerts).await?;
    summary.payees = usize::try_from(total).unwrap_or(0);
    summary.none = summary
        .payees
        .saturating_sub(summary.crossed + summary.approaching + summary.w8_missing);
    Ok((summary, alerts))
}

/// Alerts recorded in the outbox per transaction.
const RECORD_BATCH: usize = 500;

/// Records the due alerts (once per key) and counts the new ones as sent by this run.
async fn record_due(
    store: &Store,
    due: &mut Vec<(String, Notice, Alert)>,
    summary: &mut AlertSummary,
    alerts: &mut Vec<Alert>,
    keep: bool,
) -> Result<()> {
    if due.is_empty() {
        return Ok(());
    }
    let batch: Vec<(String, Notice, Alert)> = std::mem::take(due);
    let (notices, kept): (Vec<(String, Notice)>, Vec<Alert>) =
        batch.into_iter().map(|(k, n, a)| ((k, n), a)).unzip();
    let new = Notifier::record_many(store, &notices).await?;
    for (alert, is_new) in kept.into_iter().zip(new) {
        if is_new {
            summary.alerts += 1;
            if alert.state == "crossed" {
                summary.crossed_sent += 1;
            }
            if keep {
                alerts.push(alert);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares() {
        assert_eq!(parse_share("80%").unwrap(), Decimal::new(8, 1));
        assert_eq!(parse_share("0.8").unwrap(), Decimal::new(8, 1));
        assert_eq!(parse_share("80").unwrap(), Decimal::new(8, 1));
        assert!(parse_share("0").is_err());
        assert!(parse_share("x").is_err());
    }

    /// Every US amount under the floor is `none` by both comparisons the run makes; the floor
    /// itself reaches one of them.
    #[test]
    fn alert_floor_keeps_every_payee_that_can_alert() {
        use rust_decimal_macros::dec;
        for (threshold, approach) in [
            (dec!(2000), dec!(0.8)),
            (dec!(600), dec!(0.8)),
            (dec!(2000), dec!(0.333)),
            (dec!(600.01), dec!(0.777)),
            (dec!(2000), dec!(1)),
        ] {
            let floor = alert_floor_cents(threshold, approach);
            let below = Decimal::new(floor - 1, 2);
            assert!(below < threshold * approach, "{threshold} {approach}");
            assert!(
                masspay_tax_rules::to_cents(below).unwrap()
                    < masspay_tax_rules::decision::nec_floor_cents(threshold)
            );
            let at = Decimal::new(floor, 2);
            assert!(
                at >= threshold * approach - dec!(0.01) || at >= threshold,
                "{threshold} {approach}"
            );
        }
    }
}
