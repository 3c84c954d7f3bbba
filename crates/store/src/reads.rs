//! Reading a year back: its payees (details as that year's sync wrote them, secrets decrypted).

use crate::records::StoredPayee;
use crate::{Backend, Store, StoreError};
use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};
use sqlx::AssertSqlSafe;

/// The field name a date of birth is bound to (with the user token) when encrypted.
pub(crate) const DOB_FIELD: &str = "date_of_birth";

/// Which of a year's payees to read, and how much of each ([`Store::year_payees_where`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct YearQuery<'a> {
    /// Only payees with this classification (`1099-NEC`, `1042-S`, `none`).
    pub form: Option<&'a str>,
    /// Only payees whose rounded amount is at least this many cents, or who have a W-9/W-8 on
    /// file, or a per-payee override for the year: the payees a 1099-NEC decision can reach
    /// (`rules::decision::nec_floor_cents`). `None`: every payee.
    pub min_cents_unless_on_file: Option<i64>,
    /// Leave the date of birth out (`date_of_birth` is empty and nothing is decrypted): for
    /// readers that never look at it (the 1099-NEC worksheet).
    pub skip_date_of_birth: bool,
}

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
        self.year_payees_where(
            tax_year,
            YearQuery {
                form,
                ..YearQuery::default()
            },
        )
    }

    /// [`Self::year_payees`] with the filters and the column choice of a [`YearQuery`].
    pub fn year_payees_where<'a>(
        &'a self,
        tax_year: i32,
        query: YearQuery<'a>,
    ) -> BoxStream<'a, Result<StoredPayee, StoreError>> {
        let order = match self.backend {
            Backend::Sqlite => "ORDER BY b.user_token",
            Backend::Postgres => "ORDER BY b.user_token COLLATE \"C\"",
        };
        let mut filter = String::new();
        let mut n = 1;
        if query.form.is_some() {
            n += 1;
            filter.push_str(&format!(" AND b.form = ${n}"));
        }
        if query.min_cents_unless_on_file.is_some() {
            n += 1;
            filter.push_str(&format!(
                " AND (b.amount_cents >= ${n} \
                 OR EXISTS (SELECT 1 FROM tax_forms f WHERE f.user_token = b.user_token) \
                 OR EXISTS (SELECT 1 FROM payee_overrides o WHERE o.user_token = b.user_token \
                 AND o.tax_year = b.tax_year))"
            ));
        }
        let dob = if query.skip_date_of_birth {
            "''"
        } else {
            "COALESCE(b.date_of_birth_enc, '')"
        };
        let sql = format!(
            "SELECT b.user_token, b.first_name, b.middle_name, b.last_name, b.business_name, b.email, b.mobile_number, \
             b.address1, b.address2, b.city, b.state_province, b.postal_code, b.postal_code_repaired, b.country, \
             {dob} AS date_of_birth, b.tin_enc, b.tin_hash, b.tin_last4, b.tax_year, \
             b.balance, b.amount, b.amount_cents, b.form, b.business, b.residency \
             FROM annual_balances b WHERE b.tax_year = $1{filter} {order}"
        );
        let vault = &self.vault;
        let mut q = sqlx::query_as::<_, StoredPayee>(AssertSqlSafe(sql)).bind(i64::from(tax_year));
        if let Some(f) = query.form {
            q = q.bind(f.to_string());
        }
        if let Some(c) = query.min_cents_unless_on_file {
            q = q.bind(c);
        }
        q.fetch(&self.pool)
            .map_err(StoreError::from)
            .and_then(move |p| async move { decrypt_payee(vault, p) })
            .boxed()
    }
}

/// A stored payee row as read (TIN and date of birth ciphertext) → its clear values.
pub(crate) fn decrypt_payee(
    vault: &crate::Vault,
    mut p: StoredPayee,
) -> Result<StoredPayee, StoreError> {
    if let Some(enc) = p.tin.take() {
        p.tin = Some(vault.decrypt(&p.user_token, &enc)?);
    }
    if !p.date_of_birth.is_empty() {
        p.date_of_birth = vault.decrypt_field(&p.user_token, DOB_FIELD, &p.date_of_birth)?;
    }
    Ok(p)
}
