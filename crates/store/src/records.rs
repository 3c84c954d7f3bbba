//! The rows a sync writes and the rows reads return.

use crate::StoreError;
use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;

/// A payee as written by a sync. `tin_raw` is the tax ID text as received (a secret).
#[derive(Clone, Default)]
pub struct PayeeRecord {
    pub user_token: String,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub business_name: String,
    pub email: String,
    pub mobile_number: String,
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub state_province: String,
    pub postal_code: String,
    pub postal_code_repaired: bool,
    pub country: String,
    pub date_of_birth: String,
    pub tin_raw: Option<String>,
}

impl fmt::Debug for PayeeRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayeeRecord")
            .field("user_token", &self.user_token)
            .field("tin_raw", &self.tin_raw.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A payee's classified annual amount for the year being synced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceRecord {
    /// Exactly as received.
    pub balance: Decimal,
    /// Rounded to cents (the reported value).
    pub amount: Decimal,
    pub amount_cents: i64,
    /// `1099-NEC`, `1042-S` or `none`.
    pub form: String,
    pub business: bool,
    /// `us`, `foreign` or `unknown`.
    pub residency: String,
}

/// Something a person should look at.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub user_token: Option<String>,
    pub row_index: Option<i64>,
    pub code: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
    pub message: String,
}

/// A stored payee with the year's balance, as read back for reports and audits.
#[derive(Clone, sqlx::FromRow)]
pub struct StoredPayee {
    pub user_token: String,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub business_name: String,
    pub email: String,
    pub mobile_number: String,
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub state_province: String,
    pub postal_code: String,
    pub postal_code_repaired: i64,
    pub country: String,
    pub date_of_birth: String,
    #[sqlx(rename = "tin_enc")]
    pub tin: Option<String>,
    pub tin_hash: Option<String>,
    pub tin_last4: Option<String>,
    pub tax_year: i64,
    pub balance: String,
    pub amount: String,
    pub amount_cents: i64,
    pub form: String,
    pub business: i64,
    pub residency: String,
}

impl StoredPayee {
    pub fn amount_decimal(&self) -> Result<Decimal, StoreError> {
        Decimal::from_str(&self.amount)
            .map_err(|_| StoreError::Corrupt(format!("amount of {}", self.user_token)))
    }
    /// The decrypted tax ID text (a secret), if any.
    pub fn tin(&self) -> Option<&str> {
        self.tin.as_deref()
    }
}

impl fmt::Debug for StoredPayee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredPayee")
            .field("user_token", &self.user_token)
            .field("tax_year", &self.tax_year)
            .field("amount", &self.amount)
            .field("form", &self.form)
            .field("tin", &self.tin.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// One row of `sync_runs`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct SyncRun {
    pub id: i64,
    pub tax_year: i64,
    pub source: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub rows_received: i64,
    pub rows_stored: i64,
    pub rows_rejected: i64,
    pub total: String,
    pub reportable_count: i64,
    pub foreign_count: i64,
    pub body_bytes: i64,
    pub body_sha256: Option<String>,
    pub tries: i64,
    pub error: Option<String>,
}

/// Totals a sync reports when it commits.
#[derive(Debug, Clone, Default)]
pub struct SnapshotSummary {
    pub rows_received: i64,
    pub rows_rejected: i64,
    pub body_bytes: i64,
    pub body_sha256: String,
    pub tries: i64,
}

/// Rows added to a snapshot, counted as they go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotCounts {
    pub stored: i64,
    pub total: Decimal,
    pub reportable: i64,
    pub foreign: i64,
}
