//! Year-to-date amounts confirmed from MassPay's per-user transaction history (`alerts run
//! --confirm-history`): where the last check left off, so the next one fetches only what can
//! have changed since.

use crate::{Store, StoreError};

/// One payee's last confirmation for a tax year.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct YtdConfirmation {
    pub tax_year: i64,
    pub user_token: String,
    /// `YYYY-MM-DD`: the next check fetches the history from this date on.
    pub resume_date: String,
    /// Completed payouts dated before `resume_date` (exact decimal text).
    pub amount_before: String,
    /// Completed payouts of the year as of the last check.
    pub history_amount: String,
    /// Transactions read by the last check.
    pub transactions: i64,
    pub checked_at: String,
}

impl Store {
    /// The last confirmation of `user_token`'s `tax_year`, if any.
    pub async fn ytd_confirmation(
        &self,
        tax_year: i32,
        user_token: &str,
    ) -> Result<Option<YtdConfirmation>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT tax_year, user_token, resume_date, amount_before, history_amount, transactions, \
             checked_at FROM ytd_confirmations WHERE tax_year = $1 AND user_token = $2",
        )
        .bind(i64::from(tax_year))
        .bind(user_token.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records a confirmation (replacing the previous one).
    pub async fn put_ytd_confirmation(&self, c: &YtdConfirmation) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ytd_confirmations (tax_year, user_token, resume_date, amount_before, \
             history_amount, transactions, checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tax_year, user_token) DO UPDATE SET resume_date = excluded.resume_date, \
             amount_before = excluded.amount_before, history_amount = excluded.history_amount, \
             transactions = excluded.transactions, checked_at = excluded.checked_at",
        )
        .bind(c.tax_year)
        .bind(c.user_token.clone())
        .bind(c.resume_date.clone())
        .bind(c.amount_before.clone())
        .bind(c.history_amount.clone())
        .bind(c.transactions)
        .bind(c.checked_at.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
