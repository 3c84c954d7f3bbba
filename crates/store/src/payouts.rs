//! Payout status history per payout token: a row each time a source (webhook, refresh) sees a
//! status different from the last one recorded.

use crate::{Store, StoreError};
use serde::Serialize;

/// One recorded status of a payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PayoutStatusRow {
    pub id: i64,
    pub payout_token: String,
    pub user_token: Option<String>,
    pub status: String,
    /// Exact decimal text.
    pub amount: Option<String>,
    pub at: String,
    pub source: String,
}

const COLS: &str = "id, payout_token, user_token, status, amount, at, source";

impl Store {
    /// Records a status for a payout unless it is the last one recorded. Returns the new row and
    /// the status before it.
    pub async fn record_payout_status(
        &self,
        payout_token: &str,
        user_token: Option<&str>,
        status: &str,
        amount: Option<&str>,
        at: &str,
        source: &str,
    ) -> Result<Option<(i64, Option<String>)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let last: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT status, user_token, amount FROM payout_statuses WHERE payout_token = $1 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(payout_token.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if last.as_ref().is_some_and(|l| l.0 == status) {
            return Ok(None);
        }
        let user = user_token
            .map(str::to_string)
            .or_else(|| last.as_ref().and_then(|l| l.1.clone()));
        let amount = amount
            .map(str::to_string)
            .or_else(|| last.as_ref().and_then(|l| l.2.clone()));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO payout_statuses (payout_token, user_token, status, amount, at, source) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(payout_token.to_string())
        .bind(user)
        .bind(status.to_string())
        .bind(amount)
        .bind(at.to_string())
        .bind(source.to_string())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some((id, last.map(|l| l.0))))
    }

    /// Every recorded status, by payout then in order.
    pub async fn payout_statuses(&self) -> Result<Vec<PayoutStatusRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM payout_statuses ORDER BY payout_token, id"
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    /// One payout's history, in order.
    pub async fn payout_history(
        &self,
        payout_token: &str,
    ) -> Result<Vec<PayoutStatusRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM payout_statuses WHERE payout_token = $1 ORDER BY id"
        )))
        .bind(payout_token.to_string())
        .fetch_all(&self.pool)
        .await?)
    }
}
