//! Reading a year back: its payees (details as that year's sync wrote them, secrets decrypted).

use crate::records::StoredPayee;
use crate::{Backend, Store, StoreError};
use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};
use sqlx::AssertSqlSafe;

/// The field name a date of birth is bound to (with the user token) when encrypted.
pub(crate) const DOB_FIELD: &str = "date_of_birth";

impl Store {
    /// The year's payees with balances, in a stable order (by user token), TINs and dates of
    /// birth decrypted. The details are the ones the year's own sync stored: syncing another
    /// year never changes them. `form` filters on the classification (`1099-NEC`, `1042-S`,
    /// `none`).
    pub fn year_payees<'a>(
        &'a self,
        tax_year: i32,
        form: Option<&'a str>,
    ) -> BoxStream<'a, Result<StoredPayee, StoreError>> {
        let order = match self.backend {
            Backend::Sqlite => "ORDER BY b.user_token",
            Backend::Postgres => "ORDER BY b.user_token COLLATE \"C\"",
        };
        let filter = if form.is_some() {
            "AND b.form = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT b.user_token, b.first_name, b.middle_name, b.last_name, b.business_name, b.email, b.mobile_number, \
             b.address1, b.address2, b.city, b.state_province, b.postal_code, b.postal_code_repaired, b.country, \
             COALESCE(b.date_of_birth_enc, '') AS date_of_birth, b.tin_enc, b.tin_hash, b.tin_last4, b.tax_year, \
             b.balance, b.amount, b.amount_cents, b.form, b.business, b.residency \
             FROM annual_balances b WHERE b.tax_year = $1 {filter} {order}"
        );
        let vault = &self.vault;
        let mut q = sqlx::query_as::<_, StoredPayee>(AssertSqlSafe(sql)).bind(i64::from(tax_year));
        if let Some(f) = form {
            q = q.bind(f.to_string());
        }
        q.fetch(&self.pool)
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
