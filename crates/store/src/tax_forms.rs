//! W-9 / W-8 data imported from spreadsheets (one current form per payee, table `tax_forms`),
//! and the latest IRS TIN Matching answer per payee (`tin_match_results`).
//!
//! The store does not depend on the spreadsheet reader: callers turn what they read into
//! [`TaxFormRow`]s (plain strings) after linking each row to a payee with
//! [`Store::resolve_payee`].
//!
//! Invariants:
//! * The TIN, the foreign TIN and the date of birth are stored only encrypted with the store's
//!   [`Vault`](crate::Vault): `tin_enc` with the user token as associated data (as
//!   `payees.tin_enc`), `foreign_tin_enc` / `date_of_birth_enc` with `user_token` + a column
//!   label, so a ciphertext cannot be moved to another payee or column. `tin_hash` is the
//!   keyed hash of the TIN's digits, comparable with `payees.tin_hash`.
//! * [`Store::import_tax_forms`] runs in one transaction; a dry run computes the same outcome
//!   and rolls back.

use crate::{Store, StoreError, now};
use sqlx::AssertSqlSafe;
use std::collections::HashMap;
use std::fmt;

/// How a spreadsheet row links to a payee of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The payee's user token.
    Found(String),
    /// No payee has that token (or email).
    NotFound,
    /// The email belongs to this many payees: the row needs a user token.
    Ambiguous(usize),
}

impl Link {
    /// The link an email gives, from the payees it belongs to ([`Store::payees_by_email`]).
    pub fn of_email(tokens: &[String]) -> Link {
        match tokens {
            [] => Link::NotFound,
            [one] => Link::Found(one.clone()),
            many => Link::Ambiguous(many.len()),
        }
    }
}

/// What an email is matched on when a row is linked by it: trimmed and lowercased, so
/// `Jose@Example.TEST ` finds `jose@example.test` (on either store, non-ASCII letters too).
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// One W-9 / W-8 as written to `tax_forms`: the import's plain, store-side shape.
///
/// `tin`, `foreign_tin` and `date_of_birth` are **secrets**; `Debug` redacts them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TaxFormRow {
    /// The payee (primary key).
    pub user_token: String,
    /// `W-9`, `W-8BEN`, `W-8BEN-E`, ...
    pub form_type: String,
    /// Line 1 name.
    pub legal_name: String,
    /// W-9 line 2.
    pub business_name: Option<String>,
    /// W-9 line 3a code (`individual`, `c_corporation`, `llc_p`, `other: ...`).
    pub entity_type: Option<String>,
    /// **Secret.** The TIN, 9 digits.
    pub tin: Option<String>,
    /// The type the IRS rules resolved (`ssn`, `itin`, `atin`, `ein`, `unknown`).
    pub tin_type: Option<String>,
    /// The type the form declared.
    pub declared_tin_type: Option<String>,
    /// W-9 line 4, `1`..`13`.
    pub exempt_payee_code: Option<String>,
    /// Street.
    pub address1: Option<String>,
    /// Apartment / suite.
    pub address2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State / province.
    pub state: Option<String>,
    /// ZIP / postal code.
    pub zip: Option<String>,
    /// Address country.
    pub country: Option<String>,
    /// `YYYY-MM-DD`.
    pub signature_date: Option<String>,
    /// W-8 country of citizenship / residence.
    pub country_of_residence: Option<String>,
    /// **Secret.** W-8 foreign tax identifying number.
    pub foreign_tin: Option<String>,
    /// **Personal data.** `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    /// W-8 treaty claim text.
    pub treaty_claim: Option<String>,
    /// W-8 / Form 8233: where the services were performed (`outside_us` / `in_us`).
    pub services_performed: Option<String>,
    /// W-8 / Form 8233: the US-source share of the pay, 0-100 (decimal text).
    pub us_source_percent: Option<String>,
    /// The row's internal user id, if it had one.
    pub internal_user_id: Option<String>,
    /// The row's email, if it had one.
    pub email: Option<String>,
    /// Provenance: file name ...
    pub source_file: String,
    /// ... sheet ...
    pub source_sheet: String,
    /// ... and spreadsheet row (1-based).
    pub source_row: i64,
}

impl fmt::Debug for TaxFormRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("TaxFormRow")
            .field("user_token", &self.user_token)
            .field("form_type", &self.form_type)
            .field("legal_name", &self.legal_name)
            .field("entity_type", &self.entity_type)
            .field("tin", &redact(&self.tin))
            .field("tin_type", &self.tin_type)
            .field("foreign_tin", &redact(&self.foreign_tin))
            .field("date_of_birth", &redact(&self.date_of_birth))
            .field("source_sheet", &self.source_sheet)
            .field("source_row", &self.source_row)
            .finish_non_exhaustive()
    }
}

/// The form fields compared by [`Store::import_tax_forms`] (provenance is not compared), in the
/// order [`FormChange::fields_changed`] lists them.
pub const FORM_FIELDS: [&str; 23] = [
    "form_type",
    "legal_name",
    "business_name",
    "entity_type",
    "tin",
    "tin_type",
    "declared_tin_type",
    "exempt_payee_code",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "signature_date",
    "country_of_residence",
    "foreign_tin",
    "date_of_birth",
    "treaty_claim",
    "internal_user_id",
    "email",
    "services_performed",
    "us_source_percent",
];

impl TaxFormRow {
    /// A form field by its [`FORM_FIELDS`] name.
    fn field(&self, name: &str) -> Option<&str> {
        fn o(v: &Option<String>) -> Option<&str> {
            v.as_deref()
        }
        match name {
            "form_type" => Some(&self.form_type),
            "legal_name" => Some(&self.legal_name),
            "business_name" => o(&self.business_name),
            "entity_type" => o(&self.entity_type),
            "tin" => o(&self.tin),
            "tin_type" => o(&self.tin_type),
            "declared_tin_type" => o(&self.declared_tin_type),
            "exempt_payee_code" => o(&self.exempt_payee_code),
            "address1" => o(&self.address1),
            "address2" => o(&self.address2),
            "city" => o(&self.city),
            "state" => o(&self.state),
            "zip" => o(&self.zip),
            "country" => o(&self.country),
            "signature_date" => o(&self.signature_date),
            "country_of_residence" => o(&self.country_of_residence),
            "foreign_tin" => o(&self.foreign_tin),
            "date_of_birth" => o(&self.date_of_birth),
            "treaty_claim" => o(&self.treaty_claim),
            "internal_user_id" => o(&self.internal_user_id),
            "email" => o(&self.email),
            "services_performed" => o(&self.services_performed),
            "us_source_percent" => o(&self.us_source_percent),
            _ => None,
        }
    }

    /// Names of the form fields that differ from `other`.
    fn diff(&self, other: &TaxFormRow) -> Vec<&'static str> {
        FORM_FIELDS
            .into_iter()
            .filter(|f| self.field(f) != other.field(f))
            .collect()
    }

    /// This row laid over the stored form `old`: a field the row leaves blank keeps its stored
    /// value unless it is in `clear` (re-imports never erase by accident). The TIN's type
    /// fields follow the TIN.
    fn merged_over(&self, old: &TaxFormRow, clear: &[String]) -> TaxFormRow {
        let cleared = |f: &str| {
            clear.iter().any(|c| c == f)
                || (clear.iter().any(|c| c == "tin")
                    && (f == "tin_type" || f == "declared_tin_type"))
        };
        let keep = |new: &Option<String>, old: &Option<String>, f: &str| -> Option<String> {
            if cleared(f) {
                None
            } else if new.as_deref().is_some_and(|v| !v.trim().is_empty()) {
                new.clone()
            } else {
                old.clone()
            }
        };
        let tin_kept = self.tin.as_deref().is_none_or(|t| t.trim().is_empty()) && !cleared("tin");
        let typed = |new: &Option<String>, old: &Option<String>, f: &str| -> Option<String> {
            if cleared(f) {
                None
            } else if tin_kept {
                // the stored TIN stays: so does the type it was stored with
                old.clone()
            } else {
                new.clone()
            }
        };
        TaxFormRow {
            user_token: self.user_token.clone(),
            form_type: self.form_type.clone(),
            legal_name: self.legal_name.clone(),
            business_name: keep(&self.business_name, &old.business_name, "business_name"),
            entity_type: keep(&self.entity_type, &old.entity_type, "entity_type"),
            tin: keep(&self.tin, &old.tin, "tin"),
            tin_type: typed(&self.tin_type, &old.tin_type, "tin_type"),
            declared_tin_type: typed(
                &self.declared_tin_type,
                &old.declared_tin_type,
                "declared_tin_type",
            ),
            exempt_payee_code: keep(
                &self.exempt_payee_code,
                &old.exempt_payee_code,
                "exempt_payee_code",
            ),
            address1: keep(&self.address1, &old.address1, "address1"),
            address2: keep(&self.address2, &old.address2, "address2"),
            city: keep(&self.city, &old.city, "city"),
            state: keep(&self.state, &old.state, "state"),
            zip: keep(&self.zip, &old.zip, "zip"),
            country: keep(&self.country, &old.country, "country"),
            signature_date: keep(&self.signature_date, &old.signature_date, "signature_date"),
            country_of_residence: keep(
                &self.country_of_residence,
                &old.country_of_residence,
                "country_of_residence",
            ),
            foreign_tin: keep(&self.foreign_tin, &old.foreign_tin, "foreign_tin"),
            date_of_birth: keep(&self.date_of_birth, &old.date_of_birth, "date_of_birth"),
            treaty_claim: keep(&self.treaty_claim, &old.treaty_claim, "treaty_claim"),
            internal_user_id: keep(
                &self.internal_user_id,
                &old.internal_user_id,
                "internal_user_id",
            ),
            email: keep(&self.email, &old.email, "email"),
            services_performed: keep(
                &self.services_performed,
                &old.services_performed,
                "services_performed",
            ),
            us_source_percent: keep(
                &self.us_source_percent,
                &old.us_source_percent,
                "us_source_percent",
            ),
            source_file: self.source_file.clone(),
            source_sheet: self.source_sheet.clone(),
            source_row: self.source_row,
        }
    }

    /// Names of the form fields that are set.
    fn set_fields(&self) -> Vec<&'static str> {
        FORM_FIELDS
            .into_iter()
            .filter(|f| self.field(f).is_some_and(|v| !v.is_empty()))
            .collect()
    }
}

/// A stored form, secrets decrypted. `Debug` redacts them.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredTaxForm {
    /// The form (with its provenance).
    pub form: TaxFormRow,
    /// Keyed hash of the TIN's digits.
    pub tin_hash: Option<String>,
    /// Last four digits of the TIN.
    pub tin_last4: Option<String>,
    /// When it was written (RFC 3339).
    pub imported_at: String,
}

impl fmt::Debug for StoredTaxForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTaxForm")
            .field("form", &self.form)
            .field("tin_last4", &self.tin_last4)
            .field("imported_at", &self.imported_at)
            .finish_non_exhaustive()
    }
}

/// One payee whose form an import inserts or changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormChange {
    /// The payee.
    pub user_token: String,
    /// `true` when the payee had no form yet.
    pub inserted: bool,
    /// The fields that change ([`FORM_FIELDS`] names; for an insert, the fields that are set).
    /// Names only: never the values.
    pub fields_changed: Vec<&'static str>,
    /// Last four digits of the stored TIN before the import (when there was one).
    pub old_tin_last4: Option<String>,
    /// Last four digits of the TIN after the import (when there is one).
    pub new_tin_last4: Option<String>,
}

/// How [`Store::import_tax_forms_with`] writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportWrite {
    /// Compute the outcome and write nothing.
    pub dry_run: bool,
    /// Fields ([`CLEARABLE_FIELDS`] names) to empty on every payee the rows name, even when
    /// the row leaves them blank. Without it a blank cell keeps the stored value.
    pub clear: Vec<String>,
}

/// The fields `--clear FIELD` may empty (every optional [`FORM_FIELDS`] entry). Clearing `tin`
/// also clears `tin_type` and `declared_tin_type`.
pub const CLEARABLE_FIELDS: [&str; 19] = [
    "business_name",
    "entity_type",
    "tin",
    "tin_type",
    "declared_tin_type",
    "exempt_payee_code",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "signature_date",
    "country_of_residence",
    "foreign_tin",
    "date_of_birth",
    "treaty_claim",
    "internal_user_id",
    "email",
];

/// One recorded change of a payee's W-9 / W-8 TIN (last four digits only).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TinHistoryEntry {
    /// The payee.
    pub user_token: String,
    /// When (RFC 3339).
    pub changed_at: String,
    /// The file ...
    pub source_file: String,
    /// ... sheet ...
    pub source_sheet: String,
    /// ... and row it came from.
    pub source_row: i64,
    /// Last four before (none for a first TIN).
    pub old_last4: Option<String>,
    /// Last four after (none when cleared).
    pub new_last4: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DbHistory {
    user_token: String,
    changed_at: String,
    source_file: String,
    source_sheet: String,
    source_row: i64,
    old_last4: Option<String>,
    new_last4: Option<String>,
}

/// What [`Store::import_tax_forms`] did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Payees that had no form.
    pub inserted: usize,
    /// Payees whose form changed.
    pub updated: usize,
    /// Payees whose stored form already equals the row (nothing written, provenance kept).
    pub unchanged: usize,
    /// Inserts and updates, in input order.
    pub changes: Vec<FormChange>,
}

/// A TIN Matching answer to record. `tin_hash` comes from [`crate::Vault::tin_hash`] on the
/// TIN's 9 digits, so the audit can tell whether the answer is about the TIN now on file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TinMatchRow {
    /// The payee.
    pub user_token: String,
    /// Keyed hash of the TIN that was matched.
    pub tin_hash: String,
    /// Pub 2108A TIN type code (1 = EIN, 2 = SSN/ITIN/ATIN, 3 = unknown).
    pub tin_type_code: i64,
    /// The name sent.
    pub name: String,
    /// Pub 2108A result code (0 = match, 1 = not issued, ...).
    pub result_code: i64,
}

/// A recorded TIN Matching answer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredTinMatch {
    /// The payee.
    pub user_token: String,
    /// Keyed hash of the TIN that was matched.
    pub tin_hash: String,
    /// Pub 2108A TIN type code.
    pub tin_type_code: i64,
    /// The name sent.
    pub name: String,
    /// Pub 2108A result code.
    pub result_code: i64,
    /// The result file it came from.
    pub result_file: String,
    /// When it was recorded (RFC 3339).
    pub imported_at: String,
}

#[derive(sqlx::FromRow)]
struct DbForm {
    user_token: String,
    form_type: String,
    legal_name: String,
    business_name: Option<String>,
    entity_type: Option<String>,
    tin_enc: Option<String>,
    tin_hash: Option<String>,
    tin_last4: Option<String>,
    tin_type: Option<String>,
    declared_tin_type: Option<String>,
    exempt_payee_code: Option<String>,
    address1: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    zip: Option<String>,
    country: Option<String>,
    signature_date: Option<String>,
    country_of_residence: Option<String>,
    foreign_tin_enc: Option<String>,
    date_of_birth_enc: Option<String>,
    treaty_claim: Option<String>,
    internal_user_id: Option<String>,
    email: Option<String>,
    source_file: String,
    source_sheet: String,
    source_row: i64,
    imported_at: String,
    services_performed: Option<String>,
    us_source_percent: Option<String>,
}

/// A stored form as read, its secrets still sealed ([`Store::open_form`]).
pub struct SealedForm(DbForm);

impl SealedForm {
    pub fn user_token(&self) -> &str {
        &self.0.user_token
    }
}

impl DbForm {
    /// The row of `SELECT {FORM_COLS}` as rusqlite reads it (the columns in that order).
    fn from_rusqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<DbForm> {
        Ok(DbForm {
            user_token: r.get(0)?,
            form_type: r.get(1)?,
            legal_name: r.get(2)?,
            business_name: r.get(3)?,
            entity_type: r.get(4)?,
            tin_enc: r.get(5)?,
            tin_hash: r.get(6)?,
            tin_last4: r.get(7)?,
            tin_type: r.get(8)?,
            declared_tin_type: r.get(9)?,
            exempt_payee_code: r.get(10)?,
            address1: r.get(11)?,
            address2: r.get(12)?,
            city: r.get(13)?,
            state: r.get(14)?,
            zip: r.get(15)?,
            country: r.get(16)?,
            signature_date: r.get(17)?,
            country_of_residence: r.get(18)?,
            foreign_tin_enc: r.get(19)?,
            date_of_birth_enc: r.get(20)?,
            treaty_claim: r.get(21)?,
            internal_user_id: r.get(22)?,
            email: r.get(23)?,
            source_file: r.get(24)?,
            source_sheet: r.get(25)?,
            source_row: r.get(26)?,
            imported_at: r.get(27)?,
            services_performed: r.get(28)?,
            us_source_percent: r.get(29)?,
        })
    }
}

const FORM_COLS: &str = "user_token, form_type, legal_name, business_name, entity_type, tin_enc, \
    tin_hash, tin_last4, tin_type, declared_tin_type, exempt_payee_code, address1, address2, city, \
    state, zip, country, signature_date, country_of_residence, foreign_tin_enc, date_of_birth_enc, \
    treaty_claim, internal_user_id, email, source_file, source_sheet, source_row, imported_at, \
    services_performed, us_source_percent";
const FORM_NCOLS: usize = 30;

/// Tokens per `IN (...)` of the batched lookups (well under either backend's parameter limit).
pub const IN_CHUNK: usize = 500;

/// `$first, $first+1, …` for `n` values.
fn in_list(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Associated data for a secret column other than the TIN.
fn aad(user_token: &str, column: &str) -> String {
    format!("{user_token}\u{1f}{column}")
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

impl Store {
    fn decrypt_form(&self, r: DbForm) -> Result<StoredTaxForm, StoreError> {
        let dec = |enc: Option<String>, aad: &str| -> Result<Option<String>, StoreError> {
            enc.map(|e| self.vault.decrypt(aad, &e))
                .transpose()
                .map_err(StoreError::from)
        };
        let tin = dec(r.tin_enc, &r.user_token)?;
        let foreign_tin = dec(r.foreign_tin_enc, &aad(&r.user_token, "foreign_tin"))?;
        let date_of_birth = dec(r.date_of_birth_enc, &aad(&r.user_token, "date_of_birth"))?;
        Ok(StoredTaxForm {
            form: TaxFormRow {
                user_token: r.user_token,
                form_type: r.form_type,
                legal_name: r.legal_name,
                business_name: r.business_name,
                entity_type: r.entity_type,
                tin,
                tin_type: r.tin_type,
                declared_tin_type: r.declared_tin_type,
                exempt_payee_code: r.exempt_payee_code,
                address1: r.address1,
                address2: r.address2,
                city: r.city,
                state: r.state,
                zip: r.zip,
                country: r.country,
                signature_date: r.signature_date,
                country_of_residence: r.country_of_residence,
                foreign_tin,
                date_of_birth,
                treaty_claim: r.treaty_claim,
                internal_user_id: r.internal_user_id,
                email: r.email,
                services_performed: r.services_performed,
                us_source_percent: r.us_source_percent,
                source_file: r.source_file,
                source_sheet: r.source_sheet,
                source_row: r.source_row,
            },
            tin_hash: r.tin_hash,
            tin_last4: r.tin_last4,
            imported_at: r.imported_at,
        })
    }

    /// Links a spreadsheet row to a payee of the store: by `user_token` when given (and only by
    /// it), else by email, case-insensitively. Blank arguments count as absent.
    /// (`payees` has no internal user id: resolve those through the API's user lookup.)
    pub async fn resolve_payee(
        &self,
        user_token: Option<&str>,
        email: Option<&str>,
    ) -> Result<Link, StoreError> {
        if let Some(t) = user_token.map(str::trim).filter(|t| !t.is_empty()) {
            let found: Option<String> =
                sqlx::query_scalar("SELECT user_token FROM payees WHERE user_token = $1")
                    .bind(t.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
            return Ok(found.map_or(Link::NotFound, Link::Found));
        }
        if let Some(e) = email.map(str::trim).filter(|e| !e.is_empty()) {
            let mut found = self.payees_by_email(&[e]).await?;
            return Ok(Link::of_email(
                &found.remove(&email_key(e)).unwrap_or_default(),
            ));
        }
        Ok(Link::NotFound)
    }

    /// The payees each of `emails` belongs to ([`email_key`] on both sides), in token order;
    /// emails no payee has are absent. One walk over `payees` for the whole list: a sheet
    /// linked by email was one scan of the table per row (no index serves a case-insensitive
    /// match, and `payees` keeps none on email).
    pub async fn payees_by_email(
        &self,
        emails: &[&str],
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        use futures_util::TryStreamExt;
        let wanted: std::collections::HashSet<String> = emails
            .iter()
            .map(|e| email_key(e))
            .filter(|e| !e.is_empty())
            .collect();
        let mut found: HashMap<String, Vec<String>> = HashMap::new();
        if wanted.is_empty() {
            return Ok(found);
        }
        let mut rows = sqlx::query_as::<_, (String, String)>(
            "SELECT user_token, email FROM payees WHERE email <> ''",
        )
        .fetch(&self.pool);
        while let Some((token, email)) = rows.try_next().await? {
            let key = email_key(&email);
            if wanted.contains(&key) {
                found.entry(key).or_default().push(token);
            }
        }
        for tokens in found.values_mut() {
            tokens.sort();
        }
        Ok(found)
    }

    /// Which of `tokens` (trimmed, as [`Store::resolve_payee`] trims them) are synced payees:
    /// one query per [`IN_CHUNK`] tokens, not one per row of a large sheet.
    pub async fn known_payees(
        &self,
        tokens: &[&str],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut known = std::collections::HashSet::new();
        let tokens: Vec<&str> = tokens
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .collect();
        for chunk in tokens.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT user_token FROM payees WHERE user_token IN ({})",
                in_list(1, chunk.len())
            );
            let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
            for t in chunk {
                q = q.bind(t.to_string());
            }
            known.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(known)
    }

    /// [`Store::payee_api_tin`] of many payees at once (one query per [`IN_CHUNK`]); payees
    /// the store does not know are absent.
    pub async fn payee_api_tins(
        &self,
        tokens: &[&str],
    ) -> Result<HashMap<String, (Option<String>, Option<String>)>, StoreError> {
        let mut latest: HashMap<String, (i64, Option<String>, Option<String>)> = HashMap::new();
        for chunk in tokens.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT user_token, tax_year, tin_hash, tin_last4 FROM annual_balances \
                 WHERE tax_year IN (SELECT tax_year FROM sync_runs) AND user_token IN ({})",
                in_list(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, i64, Option<String>, Option<String>)>(
                AssertSqlSafe(sql),
            );
            for t in chunk {
                q = q.bind(t.to_string());
            }
            for (token, year, hash, last4) in q.fetch_all(&self.pool).await? {
                match latest.get(&token) {
                    Some((y, _, _)) if *y >= year => {}
                    _ => {
                        latest.insert(token, (year, hash, last4));
                    }
                }
            }
        }
        Ok(latest
            .into_iter()
            .map(|(t, (_, h, l))| (t, (h, l)))
            .collect())
    }

    /// Writes each row as its payee's current form, in one transaction: a payee with no form
    /// gets one, a payee whose stored form differs (secrets compared decrypted) gets the new
    /// one, an identical form is left alone (its provenance too). With `dry_run` nothing is
    /// written: the outcome says what would change. When several rows name the same payee, the
    /// later one wins (callers should report such duplicates before).
    pub async fn import_tax_forms(
        &self,
        rows: &[TaxFormRow],
        dry_run: bool,
    ) -> Result<ImportOutcome, StoreError> {
        self.import_tax_forms_with(
            rows,
            &ImportWrite {
                dry_run,
                clear: Vec::new(),
            },
        )
        .await
    }

    /// [`Store::import_tax_forms`] with `--clear` fields. A blank field of a row keeps the
    /// stored value (a later sheet that lacks a column, or a blank cell, never erases); only
    /// the fields in `write.clear` are emptied. Every change of a stored TIN (first TIN,
    /// replaced, cleared) is recorded in `tax_form_tin_history` with the row's provenance.
    pub async fn import_tax_forms_with(
        &self,
        rows: &[TaxFormRow],
        write: &ImportWrite,
    ) -> Result<ImportOutcome, StoreError> {
        let dry_run = write.dry_run;
        let select = format!("SELECT {FORM_COLS} FROM tax_forms WHERE user_token = $1");
        let placeholders: Vec<String> = (1..=FORM_NCOLS).map(|i| format!("${i}")).collect();
        let updates: Vec<String> = FORM_COLS
            .split(',')
            .map(str::trim)
            .filter(|c| *c != "user_token")
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        let upsert = format!(
            "INSERT INTO tax_forms ({FORM_COLS}) VALUES ({}) ON CONFLICT (user_token) DO UPDATE SET {}",
            placeholders.join(", "),
            updates.join(", ")
        );
        let mut outcome = ImportOutcome::default();
        let mut tx = self.pool.begin().await?;
        let at = now();
        // The stored forms of the sheet's payees, read [`IN_CHUNK`] at a time; a payee named a
        // second time is read again below, so it sees what this import wrote for it.
        let mut stored: HashMap<String, DbForm> = HashMap::new();
        let tokens: Vec<&str> = rows.iter().map(|r| r.user_token.as_str()).collect();
        for chunk in tokens.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT {FORM_COLS} FROM tax_forms WHERE user_token IN ({})",
                in_list(1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, DbForm>(AssertSqlSafe(sql));
            for t in chunk {
                q = q.bind(t.to_string());
            }
            for f in q.fetch_all(&mut *tx).await? {
                stored.insert(f.user_token.clone(), f);
            }
        }
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for row in rows {
            let existing: Option<DbForm> = if seen.insert(row.user_token.as_str()) {
                stored.remove(&row.user_token)
            } else {
                sqlx::query_as(AssertSqlSafe(select.clone()))
                    .bind(row.user_token.clone())
                    .fetch_optional(&mut *tx)
                    .await?
            };
            let existing = existing.map(|e| self.decrypt_form(e)).transpose()?;
            let merged = existing
                .as_ref()
                .map(|old| row.merged_over(&old.form, &write.clear));
            let row = merged.as_ref().unwrap_or(row);
            let last4 = |t: &Option<String>| {
                t.as_deref().map(|t| {
                    let d = digits(t);
                    d[d.len().saturating_sub(4)..].to_string()
                })
            };
            let new_tin_last4 = last4(&row.tin);
            let old_tin_last4 = existing.as_ref().and_then(|o| o.tin_last4.clone());
            let change = match &existing {
                None => FormChange {
                    user_token: row.user_token.clone(),
                    inserted: true,
                    fields_changed: row.set_fields(),
                    old_tin_last4: None,
                    new_tin_last4: new_tin_last4.clone(),
                },
                Some(old) => {
                    let mut fields_changed = old.form.diff(row);
                    let new_hash = row.tin.as_deref().map(|t| self.vault.tin_hash(&digits(t)));
                    if new_hash != old.tin_hash && !fields_changed.contains(&"tin") {
                        fields_changed.insert(0, "tin");
                    }
                    if fields_changed.is_empty() {
                        outcome.unchanged += 1;
                        continue;
                    }
                    FormChange {
                        user_token: row.user_token.clone(),
                        inserted: false,
                        fields_changed,
                        old_tin_last4: old_tin_last4.clone(),
                        new_tin_last4: new_tin_last4.clone(),
                    }
                }
            };
            let old_hash = existing.as_ref().and_then(|o| o.tin_hash.clone());
            let new_hash = row.tin.as_deref().map(|t| self.vault.tin_hash(&digits(t)));
            if old_hash != new_hash {
                sqlx::query(
                    "INSERT INTO tax_form_tin_history (user_token, changed_at, source_file, \
                     source_sheet, source_row, old_last4, new_last4, old_tin_hash, new_tin_hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(row.user_token.clone())
                .bind(at.clone())
                .bind(row.source_file.clone())
                .bind(row.source_sheet.clone())
                .bind(row.source_row)
                .bind(old_tin_last4.clone())
                .bind(new_tin_last4.clone())
                .bind(old_hash)
                .bind(new_hash)
                .execute(&mut *tx)
                .await?;
            }
            if change.inserted {
                outcome.inserted += 1;
            } else {
                outcome.updated += 1;
            }
            outcome.changes.push(change);
            self.write_form(&mut tx, &upsert, row, &at).await?;
        }
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn write_form(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        upsert: &str,
        row: &TaxFormRow,
        at: &str,
    ) -> Result<(), StoreError> {
        let t = &row.user_token;
        let tin = row.tin.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let (tin_enc, tin_hash, tin_last4) = match tin {
            Some(tin) => {
                let d = digits(tin);
                let last4 = d.get(d.len().saturating_sub(4)..).map(str::to_string);
                (
                    Some(self.vault.encrypt(t, tin)?),
                    Some(self.vault.tin_hash(&d)),
                    last4,
                )
            }
            None => (None, None, None),
        };
        let enc = |v: &Option<String>, column: &str| -> Result<Option<String>, StoreError> {
            v.as_deref()
                .map(|s| self.vault.encrypt(&aad(t, column), s))
                .transpose()
                .map_err(StoreError::from)
        };
        sqlx::query(AssertSqlSafe(upsert.to_string()))
            .bind(t.clone())
            .bind(row.form_type.clone())
            .bind(row.legal_name.clone())
            .bind(row.business_name.clone())
            .bind(row.entity_type.clone())
            .bind(tin_enc)
            .bind(tin_hash)
            .bind(tin_last4)
            .bind(row.tin_type.clone())
            .bind(row.declared_tin_type.clone())
            .bind(row.exempt_payee_code.clone())
            .bind(row.address1.clone())
            .bind(row.address2.clone())
            .bind(row.city.clone())
            .bind(row.state.clone())
            .bind(row.zip.clone())
            .bind(row.country.clone())
            .bind(row.signature_date.clone())
            .bind(row.country_of_residence.clone())
            .bind(enc(&row.foreign_tin, "foreign_tin")?)
            .bind(enc(&row.date_of_birth, "date_of_birth")?)
            .bind(row.treaty_claim.clone())
            .bind(row.internal_user_id.clone())
            .bind(row.email.clone())
            .bind(row.source_file.clone())
            .bind(row.source_sheet.clone())
            .bind(row.source_row)
            .bind(at.to_string())
            .bind(row.services_performed.clone())
            .bind(row.us_source_percent.clone())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The keyed hash and last four digits of the TIN MassPay sent for the payee (its latest
    /// synced year: payee details are kept per year),
    /// to compare with a W-9's TIN (hash it with [`crate::Vault::tin_hash`] through
    /// [`Store::vault`]). `None` when the payee is unknown.
    pub async fn payee_api_tin(
        &self,
        user_token: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>, StoreError> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            // The primary key is (tax_year, user_token): naming the synced years lets it seek
            // (`user_token` alone scanned the whole table, once per imported row).
            "SELECT tin_hash, tin_last4 FROM annual_balances \
             WHERE tax_year IN (SELECT tax_year FROM sync_runs) AND user_token = $1 \
             ORDER BY tax_year DESC LIMIT 1",
        )
        .bind(user_token.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row)
    }

    /// Every recorded change of the payee's W-9 / W-8 TIN, oldest first.
    pub async fn tin_history(&self, user_token: &str) -> Result<Vec<TinHistoryEntry>, StoreError> {
        let rows: Vec<DbHistory> = sqlx::query_as(
            "SELECT user_token, changed_at, source_file, source_sheet, source_row, old_last4, \
             new_last4 FROM tax_form_tin_history WHERE user_token = $1 \
             ORDER BY changed_at, source_row",
        )
        .bind(user_token.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| TinHistoryEntry {
                user_token: r.user_token,
                changed_at: r.changed_at,
                source_file: r.source_file,
                source_sheet: r.source_sheet,
                source_row: r.source_row,
                old_last4: r.old_last4,
                new_last4: r.new_last4,
            })
            .collect())
    }

    /// The payee's current form, secrets decrypted.
    pub async fn tax_form(&self, user_token: &str) -> Result<Option<StoredTaxForm>, StoreError> {
        let row: Option<DbForm> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {FORM_COLS} FROM tax_forms WHERE user_token = $1"
        )))
        .bind(user_token.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.decrypt_form(r)).transpose()
    }

    /// Every stored form by user token, secrets decrypted (for the TIN audit, which prefers
    /// them over the API's `tax_id`).
    pub async fn tax_forms(&self) -> Result<HashMap<String, StoredTaxForm>, StoreError> {
        let rows: Vec<DbForm> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT {FORM_COLS} FROM tax_forms")))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|r| {
                let f = self.decrypt_form(r)?;
                Ok((f.form.user_token.clone(), f))
            })
            .collect()
    }

    /// `ORDER BY user_token` in bytewise order, the order of every year walk
    /// ([`Store::year_payees_where`]), so a walk can merge these rows in as it goes.
    fn token_order(&self) -> &'static str {
        match self.backend {
            crate::Backend::Sqlite => "ORDER BY user_token",
            crate::Backend::Postgres => "ORDER BY user_token COLLATE \"C\"",
        }
    }

    /// Every stored form, one at a time in the year walks' token order, its secrets still
    /// sealed ([`Store::open_form`] decrypts one): a walk opens only the forms of the payees it
    /// reaches, and memory stays flat in the number of forms on file. A SQLite file is read on
    /// a thread of its own ([`crate::bulk::rows_of`]).
    pub fn sealed_forms_in_token_order(
        &self,
    ) -> futures_util::stream::BoxStream<'_, Result<SealedForm, StoreError>> {
        use futures_util::{StreamExt, TryStreamExt};
        let sql = format!("SELECT {FORM_COLS} FROM tax_forms {}", self.token_order());
        if self.bulk_reads
            && let Some(path) = &self.sqlite_file
        {
            return crate::bulk::rows_of(path.clone(), sql, |r| {
                DbForm::from_rusqlite(r).map(SealedForm)
            });
        }
        sqlx::query_as::<_, DbForm>(AssertSqlSafe(sql))
            .fetch(&self.pool)
            .map_err(StoreError::from)
            .map_ok(SealedForm)
            .boxed()
    }

    /// Decrypts a form read by [`Store::sealed_forms_in_token_order`].
    pub fn open_form(&self, form: SealedForm) -> Result<StoredTaxForm, StoreError> {
        self.decrypt_form(form.0)
    }

    /// The latest TIN Matching answer of one payee.
    pub async fn tin_match(&self, user_token: &str) -> Result<Option<StoredTinMatch>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT user_token, tin_hash, tin_type_code, name, result_code, result_file, imported_at \
             FROM tin_match_results WHERE user_token = $1",
        )
        .bind(user_token.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The TIN Matching answers, one at a time in the year walks' token order (a SQLite file
    /// read on a thread of its own, as the forms are).
    pub fn tin_matches_in_token_order(
        &self,
    ) -> futures_util::stream::BoxStream<'_, Result<StoredTinMatch, StoreError>> {
        use futures_util::{StreamExt, TryStreamExt};
        let sql = format!(
            "SELECT user_token, tin_hash, tin_type_code, name, result_code, result_file, imported_at \
             FROM tin_match_results {}",
            self.token_order()
        );
        if self.bulk_reads
            && let Some(path) = &self.sqlite_file
        {
            return crate::bulk::rows_of(path.clone(), sql, |r| {
                Ok(StoredTinMatch {
                    user_token: r.get(0)?,
                    tin_hash: r.get(1)?,
                    tin_type_code: r.get(2)?,
                    name: r.get(3)?,
                    result_code: r.get(4)?,
                    result_file: r.get(5)?,
                    imported_at: r.get(6)?,
                })
            });
        }
        sqlx::query_as::<_, StoredTinMatch>(AssertSqlSafe(sql))
            .fetch(&self.pool)
            .map_err(StoreError::from)
            .boxed()
    }

    /// Records TIN Matching answers from `file` (replacing each payee's previous answer), in one
    /// transaction. Returns the number of rows written.
    pub async fn record_tin_match(
        &self,
        rows: &[TinMatchRow],
        file: &str,
    ) -> Result<usize, StoreError> {
        let at = now();
        let mut tx = self.pool.begin().await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO tin_match_results (user_token, tin_hash, tin_type_code, name, result_code, \
                 result_file, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_token) \
                 DO UPDATE SET tin_hash = excluded.tin_hash, tin_type_code = excluded.tin_type_code, \
                 name = excluded.name, result_code = excluded.result_code, \
                 result_file = excluded.result_file, imported_at = excluded.imported_at",
            )
            .bind(r.user_token.clone())
            .bind(r.tin_hash.clone())
            .bind(r.tin_type_code)
            .bind(r.name.clone())
            .bind(r.result_code)
            .bind(file.to_string())
            .bind(at.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// The latest TIN Matching answer of every payee that has one.
    pub async fn tin_matches(&self) -> Result<HashMap<String, StoredTinMatch>, StoreError> {
        let rows: Vec<StoredTinMatch> = sqlx::query_as(
            "SELECT user_token, tin_hash, tin_type_code, name, result_code, result_file, imported_at \
             FROM tin_match_results",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.user_token.clone(), r))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeySource;

    fn key() -> KeySource {
        KeySource::Hex("11".repeat(32))
    }

    const TIN_A: &str = "524718830";
    const TIN_A2: &str = "041234567";
    const TIN_B: &str = "123456789";
    const FTIN: &str = "NUJJ850312AB1";
    const DOB: &str = "1985-03-12";

    fn row_a() -> TaxFormRow {
        TaxFormRow {
            user_token: "usr_edge_ssn_valid".into(),
            form_type: "W-9".into(),
            legal_name: "Michael A Griffin".into(),
            entity_type: Some("individual".into()),
            tin: Some(TIN_A.into()),
            tin_type: Some("ssn".into()),
            declared_tin_type: Some("ssn".into()),
            address1: Some("1200 Market St".into()),
            city: Some("Philadelphia".into()),
            state: Some("PA".into()),
            zip: Some("19107".into()),
            country: Some("USA".into()),
            signature_date: Some("2026-01-15".into()),
            email: Some("edge.ssn.valid@example.test".into()),
            source_file: "w9.xlsx".into(),
            source_sheet: "Forms".into(),
            source_row: 4,
            ..TaxFormRow::default()
        }
    }

    fn row_b() -> TaxFormRow {
        TaxFormRow {
            user_token: "usr_edge_foreign_mex".into(),
            form_type: "W-8BEN".into(),
            legal_name: "José Núñez".into(),
            country: Some("MEX".into()),
            country_of_residence: Some("Mexico".into()),
            foreign_tin: Some(FTIN.into()),
            date_of_birth: Some(DOB.into()),
            treaty_claim: Some("Mexico, Article 14, 0%".into()),
            source_file: "w9.xlsx".into(),
            source_sheet: "Forms".into(),
            source_row: 8,
            ..TaxFormRow::default()
        }
    }

    async fn add_payee(store: &Store, token: &str, email: &str) {
        sqlx::query("INSERT INTO payees (user_token, email, updated_run_id) VALUES ($1, $2, 0)")
            .bind(token.to_string())
            .bind(email.to_string())
            .execute(store.pool())
            .await
            .unwrap();
    }

    /// The same checks on any backend.
    async fn suite(store: &Store) {
        add_payee(store, "usr_edge_ssn_valid", "edge.ssn.valid@example.test").await;
        add_payee(store, "usr_edge_foreign_mex", " Jose@Example.test").await;
        add_payee(store, "usr_edge_same_tin_a", "shared@example.test").await;
        add_payee(store, "usr_edge_same_tin_b", "SHARED@example.test").await;

        // --- linking ---
        assert_eq!(
            store
                .resolve_payee(Some("usr_edge_ssn_valid"), None)
                .await
                .unwrap(),
            Link::Found("usr_edge_ssn_valid".into())
        );
        assert_eq!(
            store
                .resolve_payee(Some("usr_nobody"), Some("jose@example.test"))
                .await
                .unwrap(),
            Link::NotFound,
            "a token decides alone"
        );
        assert_eq!(
            store
                .resolve_payee(Some(" "), Some("JOSE@example.TEST "))
                .await
                .unwrap(),
            Link::Found("usr_edge_foreign_mex".into())
        );
        assert_eq!(
            store
                .resolve_payee(None, Some("shared@EXAMPLE.test"))
                .await
                .unwrap(),
            Link::Ambiguous(2)
        );
        assert_eq!(
            store.resolve_payee(None, None).await.unwrap(),
            Link::NotFound
        );
        // The batched lookups answer as the single ones do, over more than one chunk.
        let mut many: Vec<String> = (0..IN_CHUNK + 3)
            .map(|i| format!("usr_nobody_{i}"))
            .collect();
        many.push(" usr_edge_ssn_valid ".into());
        many.push("usr_edge_foreign_mex".into());
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let known = store.known_payees(&refs).await.unwrap();
        assert_eq!(
            known,
            ["usr_edge_ssn_valid", "usr_edge_foreign_mex"]
                .into_iter()
                .map(String::from)
                .collect()
        );
        let trimmed: Vec<&str> = refs.iter().map(|t| t.trim()).collect();
        let tins = store.payee_api_tins(&trimmed).await.unwrap();
        let mut singles = 0;
        for t in &trimmed {
            let one = store.payee_api_tin(t).await.unwrap();
            singles += usize::from(one.is_some());
            assert_eq!(tins.get(*t), one.as_ref(), "{t}");
        }
        assert_eq!(tins.len(), singles);

        // --- dry run: changes computed, nothing written ---
        let rows = vec![row_a(), row_b()];
        let out = store.import_tax_forms(&rows, true).await.unwrap();
        assert_eq!((out.inserted, out.updated, out.unchanged), (2, 0, 0));
        assert!(out.changes[0].inserted);
        assert!(out.changes[0].fields_changed.contains(&"tin"));
        assert!(out.changes[1].fields_changed.contains(&"foreign_tin"));
        assert!(store.tax_forms().await.unwrap().is_empty());

        // --- real import ---
        let out2 = store.import_tax_forms(&rows, false).await.unwrap();
        assert_eq!(out2, out, "a dry run predicts the real run");
        let a = store.tax_form("usr_edge_ssn_valid").await.unwrap().unwrap();
        assert_eq!(a.form, row_a());
        assert_eq!(a.tin_last4.as_deref(), Some("8830"));
        assert_eq!(
            a.tin_hash.as_deref(),
            Some(store.vault().tin_hash(TIN_A).as_str())
        );
        let dbg = format!("{a:?} {:?}", row_a());
        assert!(!dbg.contains(TIN_A), "{dbg}");
        let all = store.tax_forms().await.unwrap();
        assert_eq!(all.len(), 2);
        let b = &all["usr_edge_foreign_mex"];
        assert_eq!(b.form, row_b());
        assert_eq!(b.tin_hash, None);
        let dbg = format!("{b:?}");
        assert!(!dbg.contains(FTIN) && !dbg.contains(DOB), "{dbg}");

        // Ciphertexts are bound to their payee and column.
        let (enc, fenc): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT tin_enc, foreign_tin_enc FROM tax_forms WHERE user_token = $1")
                .bind("usr_edge_foreign_mex".to_string())
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(enc, None);
        let fenc = fenc.unwrap();
        assert!(
            store
                .vault()
                .decrypt("usr_edge_foreign_mex", &fenc)
                .is_err()
        );

        // --- the same file again: unchanged, provenance kept ---
        let mut again = rows.clone();
        again[0].source_row = 99;
        let out = store.import_tax_forms(&again, false).await.unwrap();
        assert_eq!((out.inserted, out.updated, out.unchanged), (0, 0, 2));
        assert!(out.changes.is_empty());
        let a = store.tax_form("usr_edge_ssn_valid").await.unwrap().unwrap();
        assert_eq!(a.form.source_row, 4);

        // --- a corrected TIN and city: dry run, then for real ---
        let mut changed = row_a();
        changed.tin = Some(TIN_A2.into());
        changed.city = Some("Pittsburgh".into());
        changed.source_row = 12;
        let out = store
            .import_tax_forms(&[changed.clone(), row_b()], true)
            .await
            .unwrap();
        assert_eq!((out.inserted, out.updated, out.unchanged), (0, 1, 1));
        assert_eq!(
            out.changes,
            vec![FormChange {
                user_token: "usr_edge_ssn_valid".into(),
                inserted: false,
                fields_changed: vec!["tin", "city"],
                old_tin_last4: Some("8830".into()),
                new_tin_last4: Some("4567".into()),
            }]
        );
        let a = store.tax_form("usr_edge_ssn_valid").await.unwrap().unwrap();
        assert_eq!(a.form.tin.as_deref(), Some(TIN_A), "dry run wrote nothing");
        store
            .import_tax_forms(&[changed.clone()], false)
            .await
            .unwrap();
        let a = store.tax_form("usr_edge_ssn_valid").await.unwrap().unwrap();
        assert_eq!(a.form, changed);
        assert_eq!(a.tin_last4.as_deref(), Some("4567"));
        assert_eq!(
            a.tin_hash.as_deref(),
            Some(store.vault().tin_hash(TIN_A2).as_str())
        );

        // --- a blank cell never erases; an explicit clear does ---
        let mut cleared = changed.clone();
        cleared.tin = None;
        let out = store
            .import_tax_forms(&[cleared.clone()], false)
            .await
            .unwrap();
        assert!(out.changes.is_empty(), "a blank TIN keeps the stored one");
        let a = store.tax_form("usr_edge_ssn_valid").await.unwrap().unwrap();
        assert_eq!(a.tin_last4.as_deref(), Some("4567"));
        let write = ImportWrite {
            dry_run: false,
            clear: vec!["tin".into()],
        };
        let out = store
            .import_tax_forms_with(&[cleared], &write)
            .await
            .unwrap();
        assert!(out.changes[0].fields_changed.contains(&"tin"));
        let a = store.tax_form("usr_edge_ssn_valid").await.unwrap().unwrap();
        assert_eq!((a.form.tin, a.tin_hash, a.tin_last4), (None, None, None));
        store.import_tax_forms(&[changed], false).await.unwrap();

        // --- TIN Matching ---
        let m = |token: &str, tin: &str, code: i64| TinMatchRow {
            user_token: token.into(),
            tin_hash: store.vault().tin_hash(tin),
            tin_type_code: 2,
            name: "GRIF".into(),
            result_code: code,
        };
        assert_eq!(
            store
                .record_tin_match(
                    &[
                        m("usr_edge_ssn_valid", TIN_A, 1),
                        m("usr_edge_same_tin_a", TIN_B, 0)
                    ],
                    "results-1.txt"
                )
                .await
                .unwrap(),
            2
        );
        store
            .record_tin_match(&[m("usr_edge_ssn_valid", TIN_A2, 0)], "results-2.txt")
            .await
            .unwrap();
        let matches = store.tin_matches().await.unwrap();
        assert_eq!(matches.len(), 2);
        let x = &matches["usr_edge_ssn_valid"];
        assert_eq!(
            (x.result_code, x.result_file.as_str()),
            (0, "results-2.txt")
        );
        assert_eq!(x.tin_hash, store.vault().tin_hash(TIN_A2));
        assert_eq!(matches["usr_edge_same_tin_a"].result_code, 0);
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn sqlite_tax_forms_and_no_clear_secrets_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        rt().block_on(async {
            let store = Store::open(&format!("sqlite://{}", path.display()), &key())
                .await
                .unwrap();
            suite(&store).await;
            store.close().await;
        });
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
        }
        assert!(bytes.len() > 4096);
        let hay = String::from_utf8_lossy(&bytes);
        for secret in [TIN_A, TIN_A2, TIN_B, "524-71-8830", FTIN, DOB, "1985-03"] {
            assert!(
                !hay.contains(secret),
                "{secret} in clear in the SQLite files"
            );
        }
        assert!(
            hay.contains("Michael A Griffin"),
            "the check reads the data"
        );
    }

    /// Runs against PostgreSQL when `MASSPAY_TAX_TEST_POSTGRES` holds a URL: a fresh database
    /// is created for the run and dropped at the end.
    #[test]
    fn postgres_tax_forms() {
        let Ok(url) = std::env::var("MASSPAY_TAX_TEST_POSTGRES") else {
            eprintln!("MASSPAY_TAX_TEST_POSTGRES not set: PostgreSQL part skipped");
            return;
        };
        rt().block_on(async {
            sqlx::any::install_default_drivers();
            let admin = sqlx::AnyPool::connect(&url).await.unwrap();
            let mut r = [0u8; 8];
            getrandom::fill(&mut r).unwrap();
            let db = format!("mt_{}", hex::encode(r));
            sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {db}")))
                .execute(&admin)
                .await
                .unwrap();
            let (base, query) = match url.split_once('?') {
                Some((b, q)) => (b, format!("?{q}")),
                None => (url.as_str(), String::new()),
            };
            let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
            let db_url = format!("{base}/{db}{query}");
            let result = async {
                let store = Store::open(&db_url, &key()).await.unwrap();
                suite(&store).await;
                store.close().await;
            };
            // Drop the database even when the suite fails.
            let outcome =
                futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(result)).await;
            sqlx::query(AssertSqlSafe(format!("DROP DATABASE {db} WITH (FORCE)")))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            if let Err(p) = outcome {
                std::panic::resume_unwind(p);
            }
        });
    }
}
