//! `import tax-forms`: W-9 / W-8 data from a spreadsheet into the store.
//!
//! Rows are read by `masspay-tax-import` (header detection, column variants, `--map`, row-level
//! problems); each good row is linked to a payee of the store by `user_token`, else by email, else
//! by `internal_user_id` through MassPay's user lookup; then all rows are written in one
//! transaction (`--dry-run` shows the changes and writes nothing). Every problem names the sheet,
//! row and column; the good rows still import.
//!
//! One payee, one TIN per import: rows that reach the same payee (by any key) with different
//! TINs are all refused, naming every row. A blank cell never erases a stored value
//! (`--clear FIELD` does). A W-9 TIN that differs from MassPay's `tax_id` is imported (the W-9
//! wins) and reported as `tin_differs_from_api`. Every TIN change is recorded
//! ([`forms_history`]).

use crate::source::{Source, SourceArgs};
use anyhow::{Context, Result};
use masspay_tax_import::{ColumnMap, ImportOptions, TaxFormRecord, conflict_reason, read_file};
use masspay_tax_rules::tin::TinRules;
use masspay_tax_store::Store;
use masspay_tax_store::tax_forms::{
    CLEARABLE_FIELDS, ImportWrite, Link, TaxFormRow, TinHistoryEntry, email_key,
};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// One column the import used: `field ← header (letter)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlanColumn {
    pub sheet: String,
    pub field: String,
    pub header: String,
    pub letter: String,
}

/// What the import does (or, in a dry run, would do) to one payee's stored form. Last four
/// digits only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PayeePlan {
    pub user_token: String,
    /// `Sheet row N` the form comes from.
    pub from: String,
    /// `insert` (no form on file yet) or `update`.
    pub action: String,
    pub tin_old_last4: Option<String>,
    pub tin_new_last4: Option<String>,
    /// Field names only, never values.
    pub fields_changed: Vec<String>,
}

/// A W-9 TIN that is not the `tax_id` MassPay holds for the payee (the W-9 wins).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TinDiffers {
    pub user_token: String,
    pub from: String,
    pub api_last4: Option<String>,
    pub w9_last4: Option<String>,
}

/// `import tax-forms` arguments besides the file.
#[derive(Debug, Clone, Default)]
pub struct ImportArgs {
    /// `--map FIELD=HEADER`.
    pub maps: Vec<String>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--clear FIELD` (repeatable): fields to empty on every payee of the file.
    pub clear: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub dry_run: bool,
    pub sheets_read: Vec<String>,
    /// Rows read as forms (rows with problems are counted in `rows_with_problems`).
    pub rows_read: usize,
    /// Rows not imported because of a problem.
    pub rows_with_problems: usize,
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
    /// The column mapping used: field ← header (column letter), per sheet.
    pub columns: Vec<PlanColumn>,
    /// Per payee: old → new last four of the TIN and the fields changed.
    pub plan: Vec<PayeePlan>,
    /// W-9 TINs that differ from MassPay's `tax_id` (also in `warnings`).
    pub tin_differs_from_api: Vec<TinDiffers>,
    /// Fields cleared (`--clear`).
    pub cleared: Vec<String>,
}

impl ImportReport {
    /// The process exit code: 3 when a row was not imported, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.problems.is_empty() { 0 } else { 3 }
    }

    /// The text the CLI prints (also for `--dry-run`): the summary line, the column mapping,
    /// the per-payee plan, then problems, warnings and notes.
    pub fn render_text(&self) -> String {
        use std::fmt::Write;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{}{}: {} row(s) read from {} ({} with problems): {} new, {} updated, {} unchanged",
            if self.dry_run {
                "DRY RUN (nothing written) "
            } else {
                ""
            },
            self.file,
            self.rows_read,
            self.sheets_read.join(", "),
            self.rows_with_problems,
            self.inserted,
            self.updated,
            self.unchanged,
        );
        if !self.columns.is_empty() {
            let _ = writeln!(o, "  columns:");
            for c in &self.columns {
                let _ = writeln!(
                    o,
                    "    {:<20} <- {} ({}) [{}]",
                    c.field, c.header, c.letter, c.sheet
                );
            }
        }
        if !self.plan.is_empty() {
            let _ = writeln!(o, "  changes:");
            for p in &self.plan {
                let l4 = |v: &Option<String>| {
                    v.as_deref()
                        .map_or_else(|| "none".to_string(), |l| format!("…{l}"))
                };
                let tin = if p.tin_old_last4 != p.tin_new_last4 {
                    format!(" TIN {} -> {};", l4(&p.tin_old_last4), l4(&p.tin_new_last4))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    o,
                    "    {} ({}): {}{} {}",
                    p.user_token,
                    p.from,
                    p.action,
                    tin,
                    p.fields_changed.join(", ")
                );
            }
        }
        for c in &self.cleared {
            let _ = writeln!(o, "  cleared: {c}");
        }
        for p in &self.problems {
            let _ = writeln!(o, "  problem: {p}");
        }
        for w in &self.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
        for n in &self.notes {
            let _ = writeln!(o, "  note: {n}");
        }
        o
    }
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
        services_performed: rec.services_performed.clone(),
        us_source_percent: rec.us_source_percent.clone(),
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
    let args = ImportArgs {
        maps: maps.to_vec(),
        dry_run,
        clear: Vec::new(),
    };
    import_tax_forms_with(store, tin_rules, path, &args, source).await
}

/// `import tax-forms FILE [--map F=H]... [--dry-run] [--clear FIELD]...`. A file that cannot be
/// read is an error whose [`masspay_tax_import::ImportError::exit_code`] says 1 or 3.
pub async fn import_tax_forms_with(
    store: &Store,
    tin_rules: &TinRules,
    path: &Path,
    args: &ImportArgs,
    source: &SourceArgs,
) -> Result<ImportReport> {
    let dry_run = args.dry_run;
    for c in &args.clear {
        if !CLEARABLE_FIELDS.contains(&c.as_str()) {
            anyhow::bail!(
                "--clear {c:?}: not a field that can be cleared; one of: {}",
                CLEARABLE_FIELDS.join(", ")
            );
        }
    }
    let columns = ColumnMap::parse(args.maps.iter().map(String::as_str)).context("--map")?;
    let options = ImportOptions {
        columns,
        tin_rules: tin_rules.clone(),
        require_tin_column: true,
        ..ImportOptions::default()
    };
    let read = read_file(path, &options)?;
    let file = path.display().to_string();
    let problem_rows: std::collections::HashSet<(String, usize)> = read
        .problems
        .iter()
        .map(|p| (p.sheet.clone(), p.row))
        .collect();
    let mut report = ImportReport {
        file: file.clone(),
        dry_run,
        sheets_read: read.sheets_read().iter().map(|s| s.to_string()).collect(),
        rows_read: read.records.len(),
        rows_with_problems: problem_rows.len(),
        notes: read.notes.clone(),
        problems: read.problems.iter().map(ToString::to_string).collect(),
        columns: read
            .sheets
            .iter()
            .flat_map(|s| {
                s.columns.iter().map(|c| PlanColumn {
                    sheet: s.name.clone(),
                    field: c.field.name().to_string(),
                    header: c.header.clone(),
                    letter: c.letter.clone(),
                })
            })
            .collect(),
        cleared: args.clear.clone(),
        ..Default::default()
    };
    let mut api: Option<Source> = None;
    // Each record linked to its payee first; conflicts are decided per payee afterwards.
    let mut by_token: Vec<(String, &TaxFormRecord)> = Vec::new();
    // The sheet's user tokens looked up a few hundred at a time (a large sheet was a query
    // per row); a row with no token is linked by email below, as `resolve_payee` does.
    let given = |rec: &TaxFormRecord| {
        rec.user_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let tokens: Vec<String> = read.records.iter().filter_map(given).collect();
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let known = store.known_payees(&tokens).await?;
    // The rows with no token, linked by email: one walk over the payees for all of them.
    let emails: Vec<&str> = read
        .records
        .iter()
        .filter(|rec| given(rec).is_none())
        .filter_map(|rec| rec.email.as_deref())
        .collect();
    let by_email = store.payees_by_email(&emails).await?;
    for rec in &read.records {
        let at = format!("{} row {}", rec.sheet, rec.row);
        let mut link = match given(rec) {
            Some(t) if known.contains(&t) => Link::Found(t),
            Some(_) => Link::NotFound,
            None => rec
                .email
                .as_deref()
                .and_then(|e| by_email.get(&email_key(e)))
                .map_or(Link::NotFound, |tokens| Link::of_email(tokens)),
        };
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
        by_token.push((token, rec));
    }
    // One payee, one TIN: rows that reach one payee through different keys (a token on one
    // row, an email on another) are grouped here.
    let mut groups: Vec<(String, Vec<&TaxFormRecord>)> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (token, rec) in by_token {
        match group_of.get(&token) {
            Some(&i) => groups[i].1.push(rec),
            None => {
                group_of.insert(token.clone(), groups.len());
                groups.push((token, vec![rec]));
            }
        }
    }
    let mut rows: Vec<TaxFormRow> = Vec::new();
    let mut from: HashMap<String, String> = HashMap::new();
    // MassPay's TIN of every payee with a W-9 TIN in the sheet, to compare with it.
    let w9_tokens: Vec<&str> = groups
        .iter()
        .filter(|(_, g)| g[0].tin.is_some() && g[0].form_type == masspay_tax_import::FormType::W9)
        .map(|(t, _)| t.as_str())
        .collect();
    let api_tins = store.payee_api_tins(&w9_tokens).await?;
    for (token, group) in groups {
        let first = group[0];
        let tins: std::collections::HashSet<&str> =
            group.iter().filter_map(|r| r.tin.as_deref()).collect();
        if tins.len() > 1 {
            let rows_named: Vec<(String, usize)> =
                group.iter().map(|r| (r.sheet.clone(), r.row)).collect();
            let reason = conflict_reason(&rows_named);
            for r in &group {
                report
                    .problems
                    .push(format!("{} row {}: {reason}", r.sheet, r.row));
            }
            report.rows_read -= group.len();
            report.rows_with_problems += group.len();
            continue;
        }
        let first_at = format!("{} row {}", first.sheet, first.row);
        for r in &group[1..] {
            report.problems.push(format!(
                "{} row {}: links to the same payee ({token}) as {first_at}; only {first_at} is imported",
                r.sheet, r.row
            ));
            report.rows_read -= 1;
            report.rows_with_problems += 1;
        }
        for w in &first.warnings {
            report.warnings.push(format!("{first_at}: {w}"));
        }
        if let Some(tin) = first.tin.as_deref()
            && first.form_type == masspay_tax_import::FormType::W9
            && let Some((Some(api_hash), api_last4)) = api_tins.get(&token).cloned()
        {
            let digits: String = tin.chars().filter(char::is_ascii_digit).collect();
            if store.vault().tin_hash(&digits) != api_hash {
                report.warnings.push(format!(
                    "{first_at}: tin_differs_from_api: the W-9 TIN (…{}) is not the tax_id MassPay holds (…{}); the W-9's is used",
                    first.tin_last4().unwrap_or(""),
                    api_last4.as_deref().unwrap_or("")
                ));
                report.tin_differs_from_api.push(TinDiffers {
                    user_token: token.clone(),
                    from: first_at.clone(),
                    api_last4,
                    w9_last4: first.tin_last4().map(str::to_string),
                });
            }
        }
        from.insert(token.clone(), first_at);
        rows.push(to_row(first, token, &file));
    }
    let write = ImportWrite {
        dry_run,
        clear: args.clear.clone(),
    };
    let outcome = store.import_tax_forms_with(&rows, &write).await?;
    report.plan = outcome
        .changes
        .iter()
        .map(|c| PayeePlan {
            user_token: c.user_token.clone(),
            from: from.get(&c.user_token).cloned().unwrap_or_default(),
            action: if c.inserted { "insert" } else { "update" }.to_string(),
            tin_old_last4: c.old_tin_last4.clone(),
            tin_new_last4: c.new_tin_last4.clone(),
            fields_changed: c.fields_changed.iter().map(|f| f.to_string()).collect(),
        })
        .collect();
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

/// `forms history USER_TOKEN`: the payee's current form (last four only) and every recorded
/// change of its TIN, oldest first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FormsHistory {
    pub user_token: String,
    /// `W-9`, `W-8BEN`, ... of the form on file, if any.
    pub form_type: Option<String>,
    pub tin_last4: Option<String>,
    /// `file, sheet row N` of the form on file.
    pub from: Option<String>,
    pub imported_at: Option<String>,
    pub changes: Vec<TinHistoryEntry>,
}

impl FormsHistory {
    /// The text the CLI prints.
    pub fn render_text(&self) -> String {
        use std::fmt::Write;
        let mut o = String::new();
        match &self.form_type {
            Some(f) => {
                let _ = writeln!(
                    o,
                    "{}: {} on file, TIN {} (from {}, imported {})",
                    self.user_token,
                    f,
                    self.tin_last4
                        .as_deref()
                        .map_or_else(|| "none".into(), |l| format!("…{l}")),
                    self.from.as_deref().unwrap_or("?"),
                    self.imported_at.as_deref().unwrap_or("?")
                );
            }
            None => {
                let _ = writeln!(o, "{}: no W-9 / W-8 on file", self.user_token);
            }
        }
        if self.changes.is_empty() {
            let _ = writeln!(o, "  no TIN change recorded");
        }
        for c in &self.changes {
            let l4 = |v: &Option<String>| {
                v.as_deref()
                    .map_or_else(|| "none".to_string(), |l| format!("…{l}"))
            };
            let _ = writeln!(
                o,
                "  {}  {} -> {}  {}, {} row {}",
                c.changed_at,
                l4(&c.old_last4),
                l4(&c.new_last4),
                c.source_file,
                c.source_sheet,
                c.source_row
            );
        }
        o
    }
}

/// `forms history USER_TOKEN`.
pub async fn forms_history(store: &Store, user_token: &str) -> Result<FormsHistory> {
    let current = store.tax_form(user_token).await?;
    let changes = store.tin_history(user_token).await?;
    Ok(FormsHistory {
        user_token: user_token.to_string(),
        form_type: current.as_ref().map(|c| c.form.form_type.clone()),
        tin_last4: current.as_ref().and_then(|c| c.tin_last4.clone()),
        from: current.as_ref().map(|c| {
            format!(
                "{}, {} row {}",
                c.form.source_file, c.form.source_sheet, c.form.source_row
            )
        }),
        imported_at: current.as_ref().map(|c| c.imported_at.clone()),
        changes,
    })
}
