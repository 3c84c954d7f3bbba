//! The payees of a year whose TIN another payee also holds, found by the database from the keyed
//! hashes (`annual_balances.tin_hash` for MassPay's tax_id, `tax_forms.tin_hash` for a W-9/W-8):
//! `audit tins` checks "the same TIN under different names" on these few payees instead of
//! holding every payee of the year in memory.

use crate::reads::DOB_FIELD;
use crate::records::StoredPayee;
use crate::{Backend, Store, StoreError};
use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};
use sqlx::AssertSqlSafe;

impl Store {
    /// The year's payees (as [`Store::year_payees`] reads them, by user token, secrets
    /// decrypted) whose MassPay TIN or stored form TIN has the keyed hash of a TIN some other
    /// payee holds (as its MassPay TIN or its form's). A superset of the payees whose TIN in use
    /// is shared: the caller decides which TIN is in use and compares.
    pub fn year_payees_sharing_tin<'a>(
        &'a self,
        tax_year: i32,
    ) -> BoxStream<'a, Result<StoredPayee, StoreError>> {
        let order = match self.backend {
            Backend::Sqlite => "ORDER BY b.user_token",
            Backend::Postgres => "ORDER BY b.user_token COLLATE \"C\"",
        };
        let sql = format!(
            "WITH h AS ( \
               SELECT user_token, tin_hash FROM annual_balances \
                WHERE tax_year = $1 AND tin_hash IS NOT NULL \
               UNION \
               SELECT f.user_token, f.tin_hash FROM tax_forms f \
                WHERE f.tin_hash IS NOT NULL \
                  AND EXISTS (SELECT 1 FROM annual_balances a \
                              WHERE a.tax_year = $1 AND a.user_token = f.user_token) \
             ), shared AS ( \
               SELECT tin_hash FROM h GROUP BY tin_hash HAVING COUNT(*) > 1 \
             ), tokens AS ( \
               SELECT DISTINCT h.user_token FROM h JOIN shared s ON s.tin_hash = h.tin_hash \
             ) \
             SELECT b.user_token, b.first_name, b.middle_name, b.last_name, b.business_name, b.email, b.mobile_number, \
             b.address1, b.address2, b.city, b.state_province, b.postal_code, b.postal_code_repaired, b.country, \
             COALESCE(b.date_of_birth_enc, '') AS date_of_birth, b.tin_enc, b.tin_hash, b.tin_last4, b.tax_year, \
             b.balance, b.amount, b.amount_cents, b.form, b.business, b.residency \
             FROM annual_balances b JOIN tokens t ON t.user_token = b.user_token \
             WHERE b.tax_year = $1 {order}"
        );
        let vault = &self.vault;
        sqlx::query_as::<_, StoredPayee>(AssertSqlSafe(sql))
            .bind(i64::from(tax_year))
            .fetch(&self.pool)
            .map_err(StoreError::from)
            .and_then(move |mut p| async move {
                if let Some(enc) = p.tin.take() {
                    p.tin = Some(vault.decrypt(&p.user_token, &enc)?);
                }
                if !p.date_of_birth.is_empty() {
                    p.date_of_birth =
                        vault.decrypt_field(&p.user_token, DOB_FIELD, &p.date_of_birth)?;
                }
                Ok(p)
            })
            .boxed()
    }
}
