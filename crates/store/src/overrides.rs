//! Per-payee, per-tax-year decisions a user recorded (`masspay-tax payees override`): the form
//! decision (a `masspay_tax_rules::decision::FormOverride` name), where the services were
//! performed, the US-source share and the 1042-S income codes. Stored as text; the CLI checks
//! every value before it is written and again when it is read.

use crate::{Store, StoreError};

/// One payee's recorded decisions for one tax year. `None`: no decision, the rules apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct PayeeOverride {
    pub user_token: String,
    pub tax_year: i64,
    /// `us_person`, `foreign_person`, `nec_1099` or `not_reportable`.
    pub form_override: Option<String>,
    /// `outside_us` or `in_us`.
    pub services_performed: Option<String>,
    /// A decimal 0-100, as text.
    pub us_source_percent: Option<String>,
    /// Comma-separated `17` or `12:500.00` entries.
    pub income_codes: Option<String>,
    pub updated_at: String,
}

impl PayeeOverride {
    /// Nothing decided.
    pub fn is_empty(&self) -> bool {
        self.form_override.is_none()
            && self.services_performed.is_none()
            && self.us_source_percent.is_none()
            && self.income_codes.is_none()
    }
}

const COLS: &str = "user_token, tax_year, form_override, services_performed, us_source_percent, income_codes, \
     updated_at";

impl Store {
    /// Writes (replaces) a payee's decisions for a year; an empty one deletes the row.
    pub async fn set_payee_override(&self, o: &PayeeOverride) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM payee_overrides WHERE user_token = $1 AND tax_year = $2")
            .bind(o.user_token.clone())
            .bind(o.tax_year)
            .execute(&mut *tx)
            .await?;
        if !o.is_empty() {
            sqlx::query(
                "INSERT INTO payee_overrides (user_token, tax_year, form_override, \
                 services_performed, us_source_percent, income_codes, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(o.user_token.clone())
            .bind(o.tax_year)
            .bind(o.form_override.clone())
            .bind(o.services_performed.clone())
            .bind(o.us_source_percent.clone())
            .bind(o.income_codes.clone())
            .bind(o.updated_at.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A payee's decisions for a year, if any.
    pub async fn payee_override(
        &self,
        user_token: &str,
        tax_year: i64,
    ) -> Result<Option<PayeeOverride>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM payee_overrides WHERE user_token = $1 AND tax_year = $2"
        )))
        .bind(user_token.to_string())
        .bind(tax_year)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every payee's decisions for a year, ordered by user token.
    pub async fn payee_overrides(&self, tax_year: i64) -> Result<Vec<PayeeOverride>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM payee_overrides WHERE tax_year = $1 ORDER BY user_token"
        )))
        .bind(tax_year)
        .fetch_all(&self.pool)
        .await?)
    }
}
