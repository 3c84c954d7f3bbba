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
    /// With `min_cents_unless_on_file`: also every payee paid anything (over zero cents) whose
    /// residency is not the United States (the foreign payees a "no W-8" alert is about).
    pub or_paid_outside_us: bool,
    /// Leave the date of birth out (`date_of_birth` is empty and nothing is decrypted): for
    /// readers that never look at it (the 1099-NEC worksheet).
    pub skip_date_of_birth: bool,
}

impl YearQuery<'_> {
    /// Every payee, without the date of birth: for readers that never look at it.
    pub fn without_date_of_birth() -> Self {
        YearQuery {
            skip_date_of_birth: true,
            ..YearQuery::default()
        }
    }
}

impl Store {
    /// How many payees the year's snapshot holds.
    pub async fn year_payee_count(&self, tax_year: i32) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM annual_balances WHERE tax_year = $1")
                .bind(i64::from(tax_year))
                .fetch_one(&self.pool)
                .await?,
        )
    }

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
        // `?N` on SQLite (sqlx and rusqlite both read it), `$N` on PostgreSQL.
        let mark = if self.backend == Backend::Sqlite {
            '?'
        } else {
            '$'
        };
        let mut params = vec![crate::bulk::Param::Int(i64::from(tax_year))];
        let mut filter = String::new();
        if let Some(f) = query.form {
            params.push(crate::bulk::Param::Text(f.to_string()));
            filter.push_str(&format!(" AND b.form = {mark}{}", params.len()));
        }
        if let Some(c) = query.min_cents_unless_on_file {
            params.push(crate::bulk::Param::Int(c));
            let foreign = if query.or_paid_outside_us {
                " OR (b.amount_cents > 0 AND b.residency <> 'us')"
            } else {
                ""
            };
            filter.push_str(&format!(
                " AND (b.amount_cents >= {mark}{}{foreign} \
                 OR EXISTS (SELECT 1 FROM tax_forms f WHERE f.user_token = b.user_token) \
                 OR EXISTS (SELECT 1 FROM payee_overrides o WHERE o.user_token = b.user_token \
                 AND o.tax_year = b.tax_year))",
                params.len()
            ));
        }
        let dob = if query.skip_date_of_birth {
            "''"
        } else {
            "COALESCE(b.date_of_birth_enc, '')"
        };
        // The column order is the one `bulk::row_payee` reads.
        let sql = format!(
            "SELECT b.user_token, b.first_name, b.middle_name, b.last_name, b.business_name, b.email, b.mobile_number, \
             b.address1, b.address2, b.city, b.state_province, b.postal_code, b.postal_code_repaired, b.country, \
             {dob} AS date_of_birth, b.tin_enc, b.tin_hash, b.tin_last4, b.tax_year, \
             b.balance, b.amount, b.amount_cents, b.form, b.business, b.residency \
             FROM annual_balances b WHERE b.tax_year = {mark}1{filter} {order}"
        );
        self.walk(sql, params)
    }

    /// The rows of a year SELECT (in [`crate::bulk`]'s column order), decrypted, through the
    /// bulk reader of the store's kind (SQLite file: [`crate::bulk`]; PostgreSQL:
    /// [`crate::pg_read`]) or, with bulk reads off or in memory, sqlx's portable path.
    pub(crate) fn walk<'a>(
        &'a self,
        sql: String,
        params: Vec<crate::bulk::Param>,
    ) -> BoxStream<'a, Result<StoredPayee, StoreError>> {
        // Each row takes a unit of the task's cooperative budget, so a walk whose rows are
        // always ready (a reader ahead of its consumer) still yields now and then: a caller
        // racing the walk against Ctrl-C (`select!`) gets to see the signal.
        self.walk_rows(sql, params)
            .then(|r| async move {
                tokio::task::consume_budget().await;
                r
            })
            .boxed()
    }

    fn walk_rows<'a>(
        &'a self,
        sql: String,
        params: Vec<crate::bulk::Param>,
    ) -> BoxStream<'a, Result<StoredPayee, StoreError>> {
        if self.bulk_reads {
            if let Some(path) = &self.sqlite_file {
                return crate::bulk::year_rows(path.clone(), sql, params, self.vault.clone());
            }
            if let Some(url) = &self.pg_url {
                return crate::pg_read::year_rows(url.clone(), sql, params, self.vault.clone());
            }
        }
        let vault = &self.vault;
        let mut q = sqlx::query_as::<_, StoredPayee>(AssertSqlSafe(sql));
        for p in params {
            q = match p {
                crate::bulk::Param::Int(v) => q.bind(v),
                crate::bulk::Param::Text(v) => q.bind(v),
            };
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
