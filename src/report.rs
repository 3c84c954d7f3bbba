//! `report 1099`: the 1099-NEC worksheet for a year, from the store.

use anyhow::{Context, Result, bail};
use futures_util::TryStreamExt;
use masspay_tax_forms::nec::{self, NecRow};
use masspay_tax_rules::decision::{FormReason, nec_floor_cents};
use masspay_tax_rules::name_control;
use masspay_tax_rules::tin::{TinCheck, TinStatus, TinType};
use masspay_tax_store::{Store, StoredPayee, YearQuery};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An amount for people: `1234567.89` → `$1,234,567.89` (machines get `--format json`).
pub fn money(s: &str) -> String {
    // 1234567.89 -> 1,234,567.89 for people (machines get --format json).
    let (int, frac) = s.split_once('.').unwrap_or((s, "00"));
    let (sign, digits) = int.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", int));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}${out}.{frac}")
}

/// The year's latest completed sync, or the error that tells the user to run one.
pub async fn require_sync(store: &Store, year: i32) -> Result<masspay_tax_store::SyncRun> {
    match store.latest_run(year).await? {
        Some(run) => Ok(run),
        None => bail!(
            "no completed sync for tax year {year} in this store: run `masspay-tax sync --year {year}` first"
        ),
    }
}

/// The TIN a payee is reported with: an imported W-9's when there is one, else MassPay's `tax_id`.
pub struct TinInfo<'a> {
    pub text: Option<&'a str>,
    pub declared: Option<TinType>,
    pub source: &'static str,
}

/// Masks a TIN for display: last four only (`***-**-1234`, `**-***1234` for an EIN).
pub fn mask(check: &TinCheck, raw: Option<&str>) -> String {
    if let Some(t) = &check.tin {
        return t.masked(check.tin_type);
    }
    let digits: String = raw
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    match digits.len() {
        0 => String::new(),
        n if n >= 4 => format!("***-**-{}", &digits[n - 4..]),
        _ => "***".into(),
    }
}

/// The full TIN, for IRS-bound files only (`--unmask-tin`). A TIN that did not parse is written
/// as it came, but never as a formula: API text is neutralised like every other cell.
pub fn unmasked(check: &TinCheck, raw: Option<&str>) -> String {
    match &check.tin {
        Some(t) => t.formatted(check.tin_type),
        None => masspay_tax_forms::neutralize(raw.unwrap_or("")).into_owned(),
    }
}

pub fn full_name(p: &StoredPayee) -> String {
    [
        p.first_name.as_str(),
        p.middle_name.as_str(),
        p.last_name.as_str(),
    ]
    .iter()
    .filter(|s| !s.trim().is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(" ")
}

/// Builds one worksheet row for a judged payee (the flags follow its decision).
pub fn nec_row(y: &crate::year::YearPayee<'_>, unmask: bool) -> Result<NecRow> {
    let p = &y.payee;
    let tin = y.tin();
    let check = &y.check;
    let business = p.business != 0;
    let mut flags = Vec::new();
    if business {
        flags.push("business");
    }
    if p.postal_code_repaired != 0 {
        flags.push("zip_repaired");
    }
    if y.decision.backup_withholding {
        flags.push("backup_withholding");
    }
    if y.decision.b_notice_risk {
        flags.push("b_notice_risk");
    }
    if check.ambiguous {
        flags.push("ambiguous_tin_type");
    }
    // A W-9's classification and business name (line 2) decide the name control when on file.
    let nc = match y.form.as_ref() {
        Some(f) if f.is_entity() => {
            name_control::for_payee("", "", Some(f.name_for_name_control()), true)
        }
        _ => {
            let uses_business_name = business && check.tin_type == TinType::Ein;
            name_control::for_payee(
                &p.first_name,
                &p.last_name,
                Some(p.business_name.as_str()),
                uses_business_name,
            )
        }
    };
    Ok(NecRow {
        user_token: p.user_token.clone(),
        name: full_name(p),
        business_name: p.business_name.clone(),
        tin_type: if check.status == TinStatus::Missing {
            String::new()
        } else {
            check.tin_type.as_str().into()
        },
        tin: if unmask {
            unmasked(check, tin.text)
        } else {
            mask(check, tin.text)
        },
        tin_status: check.status.as_str().into(),
        box1: p.amount_decimal()?,
        box4: Decimal::ZERO,
        address1: p.address1.clone(),
        address2: p.address2.clone(),
        city: p.city.clone(),
        state: p.state_province.clone(),
        zip: p.postal_code.clone(),
        country: p.country.clone(),
        email: p.email.clone(),
        tin_source: if tin.text.is_some() {
            tin.source.into()
        } else {
            String::new()
        },
        name_control: nc,
        flags: flags.join(";"),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportSummary {
    pub form: &'static str,
    pub tax_year: i32,
    /// Sandbox (emulated) or real MassPay data.
    pub source: crate::year::SourceInfo,
    pub file: PathBuf,
    /// The PDF worksheet, when asked for (`--pdf`).
    pub pdf: Option<PathBuf>,
    pub payees: usize,
    pub total_box1: String,
    pub threshold: String,
    /// The year's threshold comes from a deliberate override in the settings file.
    pub threshold_overridden: bool,
    pub tin_masked: bool,
    pub tin_status: BTreeMap<String, usize>,
    pub ambiguous_tin_type: usize,
    /// Payees over the threshold left off because an imported W-9 has exempt payee code 1-5.
    pub excluded_exempt: Vec<String>,
    /// US/foreign conflicts (a W-8 with a US address, a W-9 with a foreign one, both on file):
    /// on neither the 1099-NEC nor the 1042-S until a user decides (`payees override`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<crate::f1042s::PayeeNote>,
    pub sync_run_id: i64,
    pub synced_at: Option<String>,
    /// The next due date from today (`calendar`).
    pub next_deadline: Option<crate::calendar::NextDeadline>,
}

/// Writes `out/1099-NEC-{year}.csv` (atomically) and returns its summary.
pub async fn report_1099(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    out: &Path,
    unmask: bool,
    pdf: bool,
) -> Result<ReportSummary> {
    let view = crate::year::YearView::load(store, settings, year).await?;
    let threshold = view.threshold;
    let run = view.run.clone();
    let mut writer = nec::create(out, year)
        .with_context(|| format!("creating the worksheet in {}", out.display()))?;
    let mut total = Decimal::ZERO;
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut ambiguous = 0;
    let mut excluded_exempt = Vec::new();
    let mut conflicts = Vec::new();
    // `--pdf`: the packet's rows are set aside on disk as the walk goes (memory holds a page).
    let mut packet = if pdf {
        Some(crate::statements::PacketWalk::nec(store, settings).await?)
    } else {
        None
    };
    // Only the payees a 1099-NEC decision can reach (the rest are below the threshold with
    // nothing on file: `nec_floor_cents`); the worksheet never reads a date of birth.
    let mut stream = view.on_file(store.year_payees_where(
        year,
        YearQuery {
            min_cents_unless_on_file: Some(nec_floor_cents(threshold)),
            skip_date_of_birth: true,
            ..YearQuery::default()
        },
    ));
    while let Some(p) = stream.try_next().await? {
        let y = view.judge(p)?;
        if let Some(n) = crate::f1042s::conflict_note(&y) {
            conflicts.push(n);
            continue;
        }
        if y.decision.reason == FormReason::ExemptPayeeCode && y.decision.amount >= threshold {
            excluded_exempt.push(y.payee.user_token.clone());
            continue;
        }
        if !y.decision.reportable_1099() {
            continue;
        }
        let row = nec_row(&y, unmask)?;
        total += row.box1;
        *statuses
            .entry(y.check.status.as_str().to_string())
            .or_default() += 1;
        ambiguous += usize::from(y.check.ambiguous);
        writer.write(&row)?;
        if let Some(p) = packet.as_mut() {
            p.push_nec(&row)?;
        }
    }
    drop(stream);
    let payees = writer.rows();
    let file = nec::finish(writer).context("writing the worksheet")?;
    total.rescale(2);
    let pdf = if let Some(packet) = packet {
        // The year-end packet: cover, exceptions, worksheet (src/statements.rs).
        let path = out.join(format!("1099-NEC-{year}.pdf"));
        let (path, _) = crate::statements::write_nec_packet(
            store,
            settings,
            &run,
            year,
            &path,
            packet,
            threshold,
            unmask,
            &statuses,
            excluded_exempt.len(),
        )
        .await
        .context("writing the PDF packet")?;
        Some(path)
    } else {
        None
    };
    Ok(ReportSummary {
        form: "1099-NEC",
        tax_year: year,
        source: view.source.clone(),
        file,
        pdf,
        payees,
        total_box1: total.to_string(),
        threshold: masspay_tax_rules::format_amount(threshold),
        threshold_overridden: view.threshold_overridden,
        tin_masked: !unmask,
        tin_status: statuses,
        ambiguous_tin_type: ambiguous,
        excluded_exempt,
        conflicts,
        sync_run_id: run.id,
        synced_at: run.finished_at,
        next_deadline: crate::calendar::next_from_today(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use masspay_tax_rules::tin::{TinRules, check_tin};

    #[test]
    fn an_unmasked_malformed_tin_is_never_a_formula() {
        let rules = TinRules::default();
        for raw in ["=HYPERLINK(\"http://x\")", "+1-2", "@SUM(A1)", "-5"] {
            let check = check_tin(Some(raw), None, &rules);
            assert!(check.tin.is_none(), "{raw} does not parse");
            let cell = unmasked(&check, Some(raw));
            assert!(cell.starts_with('\''), "{raw} -> {cell}");
        }
        let check = check_tin(Some("524-71-8830"), None, &rules);
        assert_eq!(unmasked(&check, Some("524-71-8830")), "524-71-8830");
    }
}
