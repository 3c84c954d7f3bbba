//! Payout status tracking: every status a source (webhook, refresh) sees is kept per payout
//! token; a transition out of a final state (`COMPLETED` → `CANCELLED` / `ERROR`, `CANCELLED` →
//! `COMPLETED`) is a *flip*: a notice recorded once, and a row of `payouts flips` with the tax
//! year whose 1099 amount it may change.

use crate::notify::{Notice, Notifier};
use anyhow::Result;
use masspay_tax_store::Store;
use masspay_tax_store::payouts::PayoutStatusRow;
use rust_decimal::Decimal;
use serde::Serialize;
use std::str::FromStr;

/// Whether `from` → `to` leaves a final state.
pub fn is_flip(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("COMPLETED", "CANCELLED") | ("COMPLETED", "ERROR") | ("CANCELLED", "COMPLETED")
    )
}

/// Records one seen status; records the flip notice when it is one. Returns whether it was a
/// flip.
pub async fn record_status(
    store: &Store,
    payout_token: &str,
    user_token: Option<&str>,
    status: &str,
    amount: Option<&str>,
    at: &str,
    source: &str,
) -> Result<bool> {
    let Some((id, Some(prev))) = store
        .record_payout_status(payout_token, user_token, status, amount, at, source)
        .await?
    else {
        return Ok(false);
    };
    if !is_flip(&prev, status) {
        return Ok(false);
    }
    let notice = Notice {
        kind: "payout_flip".into(),
        text: format!("Payout {payout_token} went from {prev} to {status}"),
        fields: serde_json::json!({
            "payout_token": payout_token, "user_token": user_token, "amount": amount,
            "from_status": prev, "to_status": status, "at": at,
        }),
    };
    Notifier::record(store, &format!("payout_flip:{payout_token}:{id}"), &notice).await?;
    Ok(true)
}

/// Records a payout webhook payload (`payout_token`, `status`, `source_amount`, optional
/// `user_token`).
pub async fn record_event(store: &Store, v: &serde_json::Value, source: &str) -> Result<bool> {
    let (Some(token), Some(status)) = (
        v.get("payout_token").and_then(|t| t.as_str()),
        v.get("status").and_then(|t| t.as_str()),
    ) else {
        return Ok(false);
    };
    let amount = v.get("source_amount").and_then(|a| match a {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Decimal::from_str(s.trim()).ok().map(|d| d.to_string()),
        _ => None,
    });
    let user = v.get("user_token").and_then(|t| t.as_str());
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    record_status(
        store,
        token,
        user,
        &status.to_ascii_uppercase(),
        amount.as_deref(),
        &at,
        source,
    )
    .await
}

/// Polls every known payout that has a user token; records what changed. Returns the flips.
pub async fn refresh(store: &Store, client: &masspay_client::Client) -> Result<usize> {
    let mut last: std::collections::BTreeMap<String, PayoutStatusRow> = Default::default();
    for r in store.payout_statuses().await? {
        last.insert(r.payout_token.clone(), r);
    }
    let mut flips = 0;
    for (token, r) in last {
        let Some(user) = r.user_token.as_deref() else {
            continue;
        };
        match client.payout(user, &token).await {
            Ok(p) => {
                let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                let amount = p.source_amount.map(|a| a.to_string());
                if record_status(
                    store,
                    &token,
                    Some(user),
                    p.status.as_str(),
                    amount.as_deref(),
                    &at,
                    "refresh",
                )
                .await?
                {
                    flips += 1;
                }
            }
            Err(e) => tracing::warn!(payout_token = %token, "payout status: {e}"),
        }
    }
    Ok(flips)
}

/// One row of `payouts flips` (a public interface).
#[derive(Debug, Clone, Serialize)]
pub struct FlipRow {
    pub payout_token: String,
    pub user_token: String,
    pub amount: String,
    pub from_status: String,
    pub to_status: String,
    pub at: String,
    pub tax_year: i32,
    /// `yes`, `no`, or `unknown` (the year was never synced, or the payee is not in it).
    pub reportable_could_change: String,
}

pub const FLIP_COLUMNS: [&str; 8] = [
    "payout_token",
    "user_token",
    "amount",
    "from_status",
    "to_status",
    "at",
    "tax_year",
    "reportable_could_change",
];

impl FlipRow {
    pub fn cells(&self) -> [String; 8] {
        [
            self.payout_token.clone(),
            self.user_token.clone(),
            self.amount.clone(),
            self.from_status.clone(),
            self.to_status.clone(),
            self.at.clone(),
            self.tax_year.to_string(),
            self.reportable_could_change.clone(),
        ]
    }
}

/// Every flip (at or after `since`, `YYYY-MM-DD`), in order.
pub async fn flips(
    store: &Store,
    settings: &crate::config::Settings,
    since: Option<&str>,
) -> Result<Vec<FlipRow>> {
    let rows = store.payout_statuses().await?;
    let mut out = Vec::new();
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.payout_token != b.payout_token || !is_flip(&a.status, &b.status) {
            continue;
        }
        if since.is_some_and(|s| b.at.as_str() < s) {
            continue;
        }
        let tax_year = a.at.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
        let user = b.user_token.clone().unwrap_or_default();
        let amount = b.amount.clone().unwrap_or_default();
        let could = could_change(store, settings, tax_year, &user, &amount, &b.status).await;
        out.push(FlipRow {
            payout_token: b.payout_token.clone(),
            user_token: user,
            amount,
            from_status: a.status.clone(),
            to_status: b.status.clone(),
            at: b.at.clone(),
            tax_year,
            reportable_could_change: could.to_string(),
        });
    }
    Ok(out)
}

async fn could_change(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    user: &str,
    amount: &str,
    to: &str,
) -> &'static str {
    let Ok(payout) = Decimal::from_str(amount) else {
        return "unknown";
    };
    let Ok(Some(_)) = store.latest_run(year).await else {
        return "unknown";
    };
    let Ok(threshold) = settings.thresholds.nec(year) else {
        return "unknown";
    };
    use futures_util::TryStreamExt;
    let mut payees = store.year_payees(year, None);
    while let Ok(Some(p)) = payees.try_next().await {
        if p.user_token != user {
            continue;
        }
        let Ok(total) = p.amount_decimal() else {
            return "unknown";
        };
        let after = if to == "COMPLETED" {
            total + payout
        } else {
            total - payout
        };
        return if (total >= threshold) != (after >= threshold) {
            "yes"
        } else {
            "no"
        };
    }
    "unknown"
}
