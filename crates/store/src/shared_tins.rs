//! The payees of a year whose TIN another payee also holds, found by the database from the keyed
//! hashes (`annual_balances.tin_hash` for MassPay's tax_id, `tax_forms.tin_hash` for a W-9/W-8):
//! `audit tins` checks "the same TIN under different names" on these few payees instead of
//! holding every payee of the year in memory.

use crate::records::StoredPayee;
use crate::{Backend, Store, StoreError};
use futures_util::stream::BoxStream;

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
            Backend::Sqlite => "ORDER BY u.user_token",
            Backend::Postgres => "ORDER BY u.user_token COLLATE \"C\"",
        };
        // SQLite: scan the year's rows in storage order (one sequential pass each) rather than
        // through an index, which would fetch every row at random; the few rows found are
        // sorted at the end.
        let scan = match self.backend {
            Backend::Sqlite => " NOT INDEXED",
            Backend::Postgres => "",
        };
        let cols = "b.user_token, b.first_name, b.middle_name, b.last_name, b.business_name, b.email, b.mobile_number, \
             b.address1, b.address2, b.city, b.state_province, b.postal_code, b.postal_code_repaired, b.country, \
             COALESCE(b.date_of_birth_enc, '') AS date_of_birth, b.tin_enc, b.tin_hash, b.tin_last4, b.tax_year, \
             b.balance, b.amount, b.amount_cents, b.form, b.business, b.residency";
        let sql = format!(
            // Shared: by two payees' MassPay TINs, by two forms, or by a form and another
            // payee's MassPay TIN. Each part is one pass over the year (the forms are few and
            // indexed); no pass keeps more than the shared hashes. The year's rows are picked
            // by two lone `IN` lists joined by a UNION (by the full row; a payee in both is one
            // row): as one `OR` of the two, PostgreSQL ran `shared` as a subplan and, once the
            // table had statistics (autovacuum's ANALYZE), judged it too big to hash and scanned
            // it again for every row of the year (1,000,000 payees: 45-60 s instead of 3 s).
            "WITH fh AS ( \
               SELECT user_token, tin_hash FROM tax_forms WHERE tin_hash IS NOT NULL \
             ), shared AS ( \
               SELECT tin_hash FROM annual_balances{scan} \
                WHERE tax_year = $1 AND tin_hash IS NOT NULL \
                GROUP BY tin_hash HAVING COUNT(*) > 1 \
               UNION \
               SELECT tin_hash FROM fh GROUP BY tin_hash HAVING COUNT(*) > 1 \
               UNION \
               SELECT a.tin_hash FROM fh JOIN annual_balances a{scan} \
                 ON a.tin_hash = fh.tin_hash AND a.tax_year = $1 AND a.user_token <> fh.user_token \
             ) \
             SELECT * FROM ( \
               SELECT {cols} \
               FROM annual_balances b{scan} \
               WHERE b.tax_year = $1 AND b.tin_hash IN (SELECT tin_hash FROM shared) \
               UNION \
               SELECT {cols} \
               FROM annual_balances b \
               WHERE b.tax_year = $1 AND b.user_token IN (SELECT user_token FROM fh \
                                       WHERE tin_hash IN (SELECT tin_hash FROM shared)) \
             ) u \
             {order}"
        );
        self.walk(sql, vec![crate::bulk::Param::Int(i64::from(tax_year))])
    }
}
