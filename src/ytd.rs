//! Confirming a payee's year to date from MassPay's per-user transaction history
//! (`GET /payout/user/{user_token}/history`, paged bare arrays), for `alerts run
//! --confirm-history`: the tax endpoint's balance is what the 1099 reports; the history is a
//! second look for payees near the threshold.
//!
//! Incremental: a check fetches the history from its resume date on (January 1 the first
//! time). Completed payouts before that date are carried in the store; the next resume date is
//! the earliest date of a payout still in flight (it may complete later), else the latest date
//! seen, so a transaction is never counted twice and one that completes late is never missed.

use anyhow::Result;
use masspay_client::Client;
use masspay_client::models::{HistoryQuery, Transaction, TxnStatus, TxnType};
use masspay_tax_store::Store;
use masspay_tax_store::ytd::YtdConfirmation;
use rust_decimal::Decimal;
use std::str::FromStr;

/// Where a check starts and what came before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Completed payouts dated before `date`.
    pub before: Decimal,
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Completed payouts of the year.
    pub amount: Decimal,
    /// Where the next check starts.
    pub next: Resume,
    pub transactions: usize,
}

fn in_flight(s: &TxnStatus) -> bool {
    matches!(
        s,
        TxnStatus::Pending
            | TxnStatus::Processing
            | TxnStatus::Scheduled
            | TxnStatus::Hold
            | TxnStatus::ReadyForPickup
    )
}

/// The date (`YYYY-MM-DD`) of a transaction, when its timestamp has one.
fn txn_date(t: &Transaction) -> Option<&str> {
    let d = t.time_of_txn.as_deref()?.get(..10)?;
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
    Some(d)
}

/// Adds the history fetched from `resume.date` on to what came before (the rule; pure).
/// Payouts of other years and transactions without a readable date are not counted; a
/// transaction without a date keeps the resume date where it is (it is looked at again).
pub fn apply(year: i32, resume: &Resume, txns: &[Transaction]) -> Checked {
    let prefix = format!("{year}-");
    let mut amount = resume.before;
    let mut earliest_in_flight: Option<&str> = None;
    let mut latest: Option<&str> = None;
    let mut undated = false;
    for t in txns {
        if t.txn_type != TxnType::Payout {
            continue;
        }
        let Some(date) = txn_date(t) else {
            undated = true;
            continue;
        };
        if !date.starts_with(&prefix) || date < resume.date.as_str() {
            continue;
        }
        if t.status == TxnStatus::Completed {
            amount += t.source_amount;
        }
        if in_flight(&t.status) && earliest_in_flight.is_none_or(|e| date < e) {
            earliest_in_flight = Some(date);
        }
        if latest.is_none_or(|l| date > l) {
            latest = Some(date);
        }
    }
    let next_date = if undated {
        resume.date.clone()
    } else {
        earliest_in_flight
            .or(latest)
            .map_or_else(|| resume.date.clone(), str::to_string)
    };
    // Completed payouts before the next start are carried; the rest is fetched again.
    let mut before = resume.before;
    for t in txns {
        if t.txn_type != TxnType::Payout || t.status != TxnStatus::Completed {
            continue;
        }
        if let Some(date) = txn_date(t)
            && date.starts_with(&prefix)
            && date >= resume.date.as_str()
            && date < next_date.as_str()
        {
            before += t.source_amount;
        }
    }
    Checked {
        amount,
        next: Resume {
            date: next_date,
            before,
        },
        transactions: txns.len(),
    }
}

/// Checks `user_token`'s `year` against the history (fetching from the stored resume date on)
/// and records where the next check starts. Returns the completed payouts of the year.
pub async fn confirm(
    client: &Client,
    store: &Store,
    year: i32,
    user_token: &str,
) -> Result<Decimal> {
    let resume = match store.ytd_confirmation(year, user_token).await? {
        Some(c) => Resume {
            date: c.resume_date,
            before: Decimal::from_str(&c.amount_before).unwrap_or_default(),
        },
        None => Resume {
            date: format!("{year}-01-01"),
            before: Decimal::ZERO,
        },
    };
    let txns = client
        .history(
            Some(user_token),
            &HistoryQuery {
                start_date: Some(resume.date.clone()),
                end_date: Some(format!("{year}-12-31")),
                txn_type: Some("payout".into()),
            },
        )
        .await?;
    let checked = apply(year, &resume, &txns);
    store
        .put_ytd_confirmation(&YtdConfirmation {
            tax_year: i64::from(year),
            user_token: user_token.to_string(),
            resume_date: checked.next.date.clone(),
            amount_before: checked.next.before.to_string(),
            history_amount: checked.amount.to_string(),
            transactions: i64::try_from(checked.transactions).unwrap_or(i64::MAX),
            checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
        .await?;
    Ok(checked.amount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn t(token: &str, date: &str, amount: Decimal, status: &str) -> Transaction {
        // The amount as a JSON number's text, as MassPay sends it.
        serde_json::from_str(&format!(
            r#"{{"token":"{token}","type":"payout","time_of_txn":"{date}T12:00:00Z","source_amount":{amount},"status":"{status}"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn incremental_checks_count_each_payout_once_and_late_completions() {
        let start = Resume {
            date: "2026-01-01".into(),
            before: Decimal::ZERO,
        };
        let first = [
            t("a", "2026-02-01", dec!(100.10), "COMPLETED"),
            t("b", "2026-03-01", dec!(50), "PENDING"),
            t("c", "2026-04-01", dec!(25.05), "COMPLETED"),
            t("x", "2025-12-31", dec!(999), "COMPLETED"),
        ];
        let c1 = apply(2026, &start, &first);
        assert_eq!(c1.amount, dec!(125.15));
        // Resume at the payout still in flight; what completed before it is carried.
        assert_eq!(c1.next.date, "2026-03-01");
        assert_eq!(c1.next.before, dec!(100.10));
        // The next fetch starts on March 1: b completed meanwhile, a new one came.
        let second = [
            t("b", "2026-03-01", dec!(50), "COMPLETED"),
            t("c", "2026-04-01", dec!(25.05), "COMPLETED"),
            t("d", "2026-05-01", dec!(10), "COMPLETED"),
        ];
        let c2 = apply(2026, &c1.next, &second);
        assert_eq!(c2.amount, dec!(185.15));
        assert_eq!(c2.next.date, "2026-05-01");
        assert_eq!(c2.next.before, dec!(175.15));
        // Nothing new: the same total, the same resume point.
        let third = [t("d", "2026-05-01", dec!(10), "COMPLETED")];
        let c3 = apply(2026, &c2.next, &third);
        assert_eq!(c3.amount, dec!(185.15));
        assert_eq!(c3.next, c2.next);
    }

    #[test]
    fn cancelled_and_other_types_do_not_count() {
        let start = Resume {
            date: "2026-01-01".into(),
            before: dec!(5),
        };
        let mut load = t("l", "2026-01-02", dec!(70), "COMPLETED");
        load.txn_type = TxnType::Load;
        let txns = [t("z", "2026-01-03", dec!(40), "CANCELLED"), load];
        let c = apply(2026, &start, &txns);
        assert_eq!(c.amount, dec!(5));
    }
}
