//! `import tax-forms`: W-9 / W-8 data from a spreadsheet into the store.
//!
//! Rows are read by `masspay-tax-import` (header detection, column variants, `--map`, row-level
//! problems); each good row is linked to a payee of the store by `user_token`, else by email, else
//! by `internal_user_id` through MassPay's user lookup; then all rows are written in one
//! transaction (`--dry-run` shows the changes and writes nothing). Every problem names the sheet,
//! row and column; the good rows still import.

use crate::source::{Source, SourceArgs};
use anyhow::{Context, Result};
use masspay_tax_import::{ColumnMap, ImportOptions, TaxFormRecord, read_file};
use masspay_tax_rules::tin::TinRules;
use masspay_tax_store::Store;
use masspay_tax_store::tax_forms::{Link, TaxFormRow};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub dry_run: bool,
    pub sheets_read: Vec<String>,
    pub rows_read: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// `Sheet row N, column X: reason` for every row that was not imported.
    pub problems: Vec<String>,
    /// Warnings on imported rows (e.g. a TIN whose leading zero was restored).
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
    /// `user_token: field, field` (names only, never values).
    pub changes: Vec<String>,
}

/// The store-side row for an imported record linked to `user_token`.
pub fn to_row(rec: &TaxFormRecord, user_token: String, source_file: &str) -> TaxFormRow {
    TaxFormRow {
        user_token,
        form_type: rec.form_type.as_str().to_string(),
        legal_name: rec.legal_name.clone(),
        business_name: rec.business_name.clone(),
        entity_type: rec.entity_type.as_ref().map(|e| e.code()),
        tin: rec.tin.clone(),
        tin_type: rec.tin_type.map(|t| t.as_str().to_string()),
        declared_tin_type: rec.declared_tin_type.map(|t| t.as_str().to_string()),
        exempt_payee_code: rec.exempt_payee_code.clone(),
        address1: rec.address1.clone(),
        address2: rec.address2.clone(),
        city: rec.city.clone(),
        state: rec.state.clone(),
        zip: rec.zip.clone(),
        country: rec.country.clone(),
        signature_date: rec.signature_date.map(|d| d.to_string()),
        country_of_residence: rec.country_of_residence.clone(),
        foreign_tin: rec.foreign_tin.clone(),
        date_of_birth: rec.date_of_birth.map(|d| d.to_string()),
        treaty_claim: rec.treaty_claim.clone(),
        internal_user_id: rec.internal_user_id.clone(),
        email: rec.email.clone(),
        source_file: source_file.to_string(),
        source_sheet: rec.sheet.clone(),
        source_row: i64::try_from(rec.row).unwrap_or(i64::MAX),
    }
}

pub async fn import_tax_forms(
    store: &Store,
    tin_rules: &TinRules,
    path: &Path,
    maps: &[String],
    dry_run: bool,
    source: &SourceArgs,
) -> Result<ImportReport> {
    let columns = ColumnMap::parse(maps.iter().map(String::as_str)).context("--map")?;
    let options = ImportOptions {
        columns,
        tin_rules: tin_rules.clone(),
        ..ImportOptions::default()
    };
    let read = read_file(path, &options)?;
    let file = path.display().to_string();
    let mut report = ImportReport {
        file: file.clone(),
        dry_run,
        sheets_read: read.sheets_read().iter().map(|s| s.to_string()).collect(),
        rows_read: read.records.len() + read.problems.len(),
        notes: read.notes.clone(),
        problems: read.problems.iter().map(ToString::to_string).collect(),
        ..Default::default()
    };
    let mut api: Option<Source> = None;
    let mut rows: Vec<TaxFormRow> = Vec::new();
    let mut linked: HashMap<String, (String, usize)> = HashMap::new();
    for rec in &read.records {
        let at = format!("{} row {}", rec.sheet, rec.row);
        let mut link = store
            .resolve_payee(rec.user_token.as_deref(), rec.email.as_deref())
            .await?;
        if matches!(link, Link::NotFound)
            && rec.user_token.is_none()
            && let Some(internal) = rec.internal_user_id.as_deref()
        {
            if api.is_none() {
                api = Some(Source::connect(source).await?);
            }
            let client = &api.as_ref().expect("connected").client;
            match client.lookup_internal_id(internal).await {
                Ok(found) => link = store.resolve_payee(Some(&found.user_token), None).await?,
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e).context(format!("{at}: looking up internal_user_id")),
            }
        }
        let token = match link {
            Link::Found(t) => t,
            Link::NotFound => {
                report.problems.push(format!(
                    "{at}: no payee in the store matches this row's user_token/email/internal_user_id (sync the year first)"
                ));
                continue;
            }
            Link::Ambiguous(n) => {
                report.problems.push(format!(
                    "{at}: the email belongs to {n} payees; add a user_token column"
                ));
                continue;
            }
        };
        if let Some((first_at, idx)) = linked.get(&token) {
            report.problems.push(format!(
                "{at}: links to the same payee ({token}) as {first_at}; this later row replaces it"
            ));
            rows[*idx] = to_row(rec, token.clone(), &file);
            continue;
        }
        for w in &rec.warnings {
            report.warnings.push(format!("{at}: {w}"));
        }
        linked.insert(token.clone(), (at, rows.len()));
        rows.push(to_row(rec, token, &file));
    }
    let outcome = store.import_tax_forms(&rows, dry_run).await?;
    report.inserted = outcome.inserted;
    report.updated = outcome.updated;
    report.unchanged = outcome.unchanged;
    report.changes = outcome
        .changes
        .iter()
        .map(|c| {
            if c.inserted {
                format!("{}: new {}", c.user_token, "form")
            } else {
                format!("{}: {}", c.user_token, c.fields_changed.join(", "))
            }
        })
        .collect();
    Ok(report)
}
