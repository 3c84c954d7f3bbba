//! IRS bulk TIN Matching (Publication 2108A) round trip.
//!
//! `export` writes `TIN type;TIN;Name;Account number` lines, at most 100,000 per file
//! (`tin-match-YEAR-001.txt`, `-002`, …). The account number is a 20-character keyed digest of the
//! user token (the IRS returns it unchanged), so `import` links each answer back to its payee
//! without a TIN or a token ever being sent in a form the IRS would not need. `import` stores the
//! result code (0-8) per payee with the hash of the TIN that was matched; the audit shows it as
//! `irs_match` while the payee's TIN is still that one.

use anyhow::{Context, Result};
use futures_util::TryStreamExt;
use masspay_tax_forms::AtomicFile;
use masspay_tax_rules::decision::PersonStatus;
use masspay_tax_rules::tin::{TinStatus, TinType};
use masspay_tax_rules::tin_match::{
    MAX_ROWS_PER_FILE, MatchRequest, parse_result_line, request_line, tin_type_code,
};
use masspay_tax_store::{Store, Vault};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The account number sent for a payee: 20 upper-case hex digits of a keyed digest of the token.
pub fn account_for(vault: &Vault, user_token: &str) -> String {
    vault.tin_hash(&format!("tin-match-account:{user_token}"))[..20].to_ascii_uppercase()
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportSummary {
    pub tax_year: i32,
    /// Sandbox (emulated) or real MassPay data.
    pub source: Option<crate::year::SourceInfo>,
    pub files: Vec<PathBuf>,
    pub rows: usize,
    pub by_tin_type: BTreeMap<String, usize>,
    /// Payees not sent, by reason (`missing`, `malformed`, `no name`).
    pub skipped: BTreeMap<String, usize>,
}

/// One export file being filled.
struct Part {
    file: std::io::BufWriter<AtomicFile>,
    rows: usize,
}

pub async fn export(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    out: &Path,
    only_reportable: bool,
) -> Result<ExportSummary> {
    let view = crate::year::YearView::load(store, settings, year).await?;
    let mut summary = ExportSummary {
        tax_year: year,
        source: Some(view.source.clone()),
        ..Default::default()
    };
    let mut parts: Vec<Part> = Vec::new();
    let mut stream = view.on_file(
        store.year_payees_where(year, masspay_tax_store::YearQuery::without_date_of_birth()),
    );
    while let Some(p) = stream.try_next().await? {
        let y = view.judge(p)?;
        if only_reportable && !y.decision.reportable_1099() {
            continue;
        }
        if y.decision.person == PersonStatus::Foreign {
            // TIN Matching is for payees of backup-withholding-subject income (US persons).
            continue;
        }
        let (p, form, check) = (&y.payee, y.form.as_ref(), &y.check);
        let Some(tin) = check.tin.clone() else {
            *summary
                .skipped
                .entry(check.status.as_str().to_string())
                .or_default() += 1;
            continue;
        };
        let entity = check.tin_type == TinType::Ein && !p.business_name.trim().is_empty();
        let name = match form.filter(|f| !f.legal_name.trim().is_empty()) {
            Some(f) if entity => f
                .business_name
                .clone()
                .filter(|b| !b.trim().is_empty())
                .unwrap_or(f.legal_name.clone()),
            Some(f) => f.legal_name.clone(),
            None if entity => p.business_name.clone(),
            None => format!("{} {}", p.first_name, p.last_name),
        };
        // An impossible TIN still goes: the IRS answer (code 2/3) is what the payee is shown.
        let ty = if check.status == TinStatus::Valid || check.tin_type != TinType::Unknown {
            check.tin_type
        } else {
            TinType::Unknown
        };
        let Ok(req) = MatchRequest::new(ty, tin, &name, &account_for(store.vault(), &p.user_token))
        else {
            *summary.skipped.entry("no name".into()).or_default() += 1;
            continue;
        };
        if parts
            .last()
            .is_none_or(|part| part.rows >= MAX_ROWS_PER_FILE)
        {
            let path = out.join(format!("tin-match-{year}-{:03}.txt", parts.len() + 1));
            let f = AtomicFile::create(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            parts.push(Part {
                file: std::io::BufWriter::new(f),
                rows: 0,
            });
        }
        let part = parts.last_mut().expect("a part exists");
        part.file.write_all(request_line(&req).as_bytes())?;
        part.file.write_all(b"\r\n")?;
        part.rows += 1;
        summary.rows += 1;
        *summary
            .by_tin_type
            .entry(tin_type_code(ty).to_string())
            .or_default() += 1;
    }
    drop(stream);
    let written = parts.len();
    for part in parts {
        let f = part.file.into_inner().map_err(|e| e.into_error())?;
        summary.files.push(f.commit()?);
    }
    remove_stale_parts(out, year, written)?;
    Ok(summary)
}

/// Removes `tin-match-YEAR-NNN.txt` files numbered above `written`, left by an earlier, larger
/// export: they hold full TINs and would be uploaded by mistake.
fn remove_stale_parts(out: &Path, year: i32, written: usize) -> Result<()> {
    let prefix = format!("tin-match-{year}-");
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(n) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".txt"))
            .filter(|n| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        if n > written {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("removing the stale {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// One stored IRS answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchAnswer {
    pub user_token: String,
    pub tin_hash: String,
    pub tin_type_code: u8,
    pub name: String,
    pub result_code: u8,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub file: String,
    pub lines: usize,
    pub imported: usize,
    pub by_result: BTreeMap<String, usize>,
    /// `line N: reason` for each line that could not be used (TINs never shown).
    pub problems: Vec<String>,
}

pub async fn import(store: &Store, path: &Path) -> Result<ImportSummary> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let tokens = store.payee_tokens().await?;
    let by_account: HashMap<String, String> = tokens
        .into_iter()
        .map(|t| (account_for(store.vault(), &t), t))
        .collect();
    let mut s = ImportSummary {
        file: path.display().to_string(),
        ..Default::default()
    };
    let mut answers = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let rec = match parse_result_line(line) {
            Ok(r) => r,
            Err(masspay_tax_rules::ResultLineError::Empty) => continue,
            Err(e) => {
                s.lines += 1;
                s.problems.push(format!("line {n}: {e}"));
                continue;
            }
        };
        s.lines += 1;
        let Some(token) = by_account.get(&rec.account.to_ascii_uppercase()) else {
            s.problems.push(format!(
                "line {n}: account number {:?} is not from a masspay-tax export of this store",
                rec.account
            ));
            continue;
        };
        *s.by_result
            .entry(format!(
                "{} {}",
                rec.result.code(),
                rec.result.description()
            ))
            .or_default() += 1;
        answers.push(MatchAnswer {
            user_token: token.clone(),
            tin_hash: store.vault().tin_hash(rec.tin.digits()),
            tin_type_code: rec.tin_type_code,
            name: rec.name.clone(),
            result_code: rec.result.code(),
        });
    }
    s.imported = crate::taxforms_store::save_tin_matches(store, &answers, &s.file).await?;
    // An IRS "no match" (2: TIN not issued, 3: name/TIN mismatch) flags the 2nd TIN notice box.
    for a in answers.iter().filter(|a| matches!(a.result_code, 2 | 3)) {
        store
            .set_second_tin_notice(&a.user_token, "tin-match")
            .await?;
    }
    Ok(s)
}
