//! `report 1042s`: the Form 1042-S worksheet (one row per form) and the Form 1042 summary, from
//! the same store and the same one decision per payee ([`crate::year::YearView::judge`]) the
//! 1099-NEC worksheet uses, so no payee is on both.
//!
//! # The rules (irs-rules.md §1.4, §4, §7.1; the issue text is authoritative)
//!
//! * **Who.** Only payees whose decision is a 1042-S candidate (a foreign person with something
//!   paid or tax withheld). Conflicts (W-8 with a US address, W-9 with a foreign one, both forms)
//!   and unknown countries are on neither form: they are listed, to be settled by
//!   `masspay-tax payees override`.
//! * **Source.** Pay for personal services (income codes marked `services` in
//!   `templates/1042s/income-codes.csv`) is sourced where the work is done: the per-payee
//!   override, else `[foreign] services_performed`, else the IRS presumption (US source, with a
//!   warning in every summary). `us_source_percent` (0-100) takes that share of the amount,
//!   rounded half-up to cents. Other income codes are US source unless a per-payee share says
//!   otherwise. Foreign-source pay gets no form (listed as `foreign_source`), or a row with
//!   chapter 3 exemption code 03 when `[foreign] report_foreign_source = true`.
//! * **One row per form**: per income code and rate.
//! * **Codes** are data: `templates/1042s/codes.csv` lists each box's codes with their source,
//!   VERIFY marks and what the tool uses each for ([`Codes`]). Chapter 3 / chapter 4 status:
//!   16/23 for an individual (W-8BEN, Form 8233), 15/22 for an entity (W-8BEN-E), 21/29 with no
//!   certificate. Chapter 3 exemption 00 (not exempt), 04 (treaty), 03 (foreign source); chapter
//!   4 exemption from `[foreign] ch4_exemption_code_services` / `ch4_exemption_code_other`, else
//!   the data file's `services_default` / `other_default` (15, VERIFY). Every VERIFY-marked code
//!   a worksheet uses (and the user did not set) is a warning in the summary.
//! * **Rate.** 30% unless a treaty claim passes every check ([`TreatyCheck`]): a W-8BEN/W-8BEN-E
//!   or, for an individual's personal services, a Form 8233; signed; not expired (a W-8 through
//!   Dec 31 of the third year after signing; a Form 8233 for the year signed); treaty country =
//!   country of residence; a US TIN (always for a Form 8233) or a foreign TIN; a rate known from
//!   the treaty-rate data file (by country and income code) or the claim. A failed check falls
//!   back to 30% and is named on the row.
//! * **Amounts.** `tax_due` = rate × US-source gross, rounded half-up to cents (the one money
//!   rule); `tax_withheld` is what MassPay withheld (0.00: the API reports none);
//!   `under_withheld` = due − withheld.

use crate::config::{ForeignSettings, ServicesPerformed};
use crate::report::{full_name, mask, money, unmasked};
use crate::year::{YearPayee, YearView};
use anyhow::{Context, Result, bail};
use futures_util::TryStreamExt;
use masspay_tax_forms::f1042s::{self as sheet, F1042sRow, SummaryLine, format_rate};
use masspay_tax_rules::classify::iso_country;
use masspay_tax_rules::decision::{FormKind, FormReason, PersonStatus};
use masspay_tax_rules::money::round_cents;
use masspay_tax_store::Store;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::LazyLock;

/// The built-in data files (source and VERIFY marks are columns of the data).
pub const INCOME_CODES_CSV: &str = include_str!("../templates/1042s/income-codes.csv");
pub const CODES_CSV: &str = include_str!("../templates/1042s/codes.csv");
pub const TREATY_RATES_CSV: &str = include_str!("../templates/1042s/treaty-rates.csv");

/// The statutory rate (§1441(a), §1442(a)).
pub const STATUTORY_RATE: Decimal = Decimal::from_parts(30, 0, 0, false, 0);

/// The words every summary carries when `[foreign] services_performed` is not set.
pub const PRESUMPTION_WARNING: &str = "the [foreign] services_performed setting is missing: the \
    IRS presumption applies, so pay for services to foreign persons is treated as US-source income, \
    due 30% withholding and a Form 1042-S unless a valid treaty claim reduces it. Set \
    services_performed = \"outside_us\" if your foreign payees work entirely outside the US \
    (foreign-source pay: no 1042-S), or \"in_us\" to confirm the US-source treatment";

/// A treaty rate from the data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreatyRate {
    pub rate: Decimal,
    pub article: String,
    pub source: String,
    pub verify: bool,
}

/// Treaty rates by country (ISO alpha-3) and income code.
#[derive(Debug, Clone, Default)]
pub struct TreatyRates(HashMap<(String, String), TreatyRate>);

impl TreatyRates {
    /// The built-in `templates/1042s/treaty-rates.csv`.
    pub fn builtin() -> Self {
        Self::parse(TREATY_RATES_CSV, "built-in treaty-rates.csv")
            .unwrap_or_else(|_| TreatyRates::default())
    }

    /// The file named by `[foreign] treaty_rates_file`, else the built-in one.
    pub fn load(settings: &ForeignSettings) -> Result<Self> {
        match &settings.treaty_rates_file {
            None => Ok(Self::builtin()),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading the treaty-rate file {}", p.display()))?;
                Self::parse(&text, &p.display().to_string())
            }
        }
    }

    /// Columns `country, income_code, rate, article, source, verify`; errors name the line.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let mut r = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = r
            .headers()
            .with_context(|| format!("{origin}: header"))?
            .clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
                .with_context(|| format!("{origin}: no {name:?} column"))
        };
        let (c, ic, rt) = (col("country")?, col("income_code")?, col("rate")?);
        let (art, src, ver) = (
            headers.iter().position(|h| h == "article"),
            headers.iter().position(|h| h == "source"),
            headers.iter().position(|h| h == "verify"),
        );
        let mut map = HashMap::new();
        for (i, rec) in r.records().enumerate() {
            let line = i + 2;
            let rec = rec.with_context(|| format!("{origin} line {line}"))?;
            let get = |k: Option<usize>| k.and_then(|k| rec.get(k)).unwrap_or("").to_string();
            let country = iso_country(rec.get(c).unwrap_or(""))
                .map(|k| k.alpha3.to_string())
                .with_context(|| format!("{origin} line {line}: country is not an ISO code"))?;
            let code = income_code(rec.get(ic).unwrap_or(""))
                .with_context(|| format!("{origin} line {line}: income_code"))?;
            let rate = parse_rate(rec.get(rt).unwrap_or(""))
                .with_context(|| format!("{origin} line {line}: rate must be 0-30"))?;
            map.insert(
                (country, code),
                TreatyRate {
                    rate,
                    article: get(art),
                    source: get(src),
                    verify: get(ver).to_ascii_uppercase().contains("VERIFY"),
                },
            );
        }
        Ok(TreatyRates(map))
    }

    pub fn get(&self, country_alpha3: &str, code: &str) -> Option<&TreatyRate> {
        self.0.get(&(country_alpha3.to_string(), code.to_string()))
    }
}

/// A rate 0-30 (`30`, `30.00`, `10%`).
fn parse_rate(s: &str) -> Option<Decimal> {
    let t = s.trim().trim_end_matches('%').trim();
    Decimal::from_str(t)
        .ok()
        .filter(|r| *r >= Decimal::ZERO && *r <= STATUTORY_RATE)
}

/// A two-digit income code `01`-`61` (`17`, `7` → `07`).
pub fn income_code(s: &str) -> Result<String> {
    let t = s.trim();
    match t.parse::<u8>() {
        Ok(n) if (1..=61).contains(&n) && t.len() <= 2 => Ok(format!("{n:02}")),
        _ => bail!("{t:?} is not a Form 1042-S income code (01-61)"),
    }
}

/// Income codes for personal services (the source rule follows where the work is done), from
/// the `services` column of `templates/1042s/income-codes.csv`.
fn services_codes() -> &'static HashSet<String> {
    static CODES: LazyLock<HashSet<String>> = LazyLock::new(|| {
        let mut r = csv::Reader::from_reader(INCOME_CODES_CSV.as_bytes());
        r.records()
            .filter_map(|r| r.ok())
            .filter(|r| r.get(2) == Some("yes"))
            .filter_map(|r| r.get(0).map(str::to_string))
            .collect()
    });
    &CODES
}

/// One code of `templates/1042s/codes.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeEntry {
    /// `ch3_status`, `ch4_status`, `ch3_exemption`, `ch4_exemption`, `lob`.
    pub box_name: String,
    pub code: String,
    pub meaning: String,
    /// What the tool uses the code for (`individual`, `entity`, `unknown`, `not_exempt`,
    /// `treaty`, `foreign_source`, `services_default`, `other_default`); empty: only accepted.
    pub used_for: Vec<String>,
    pub source: String,
    /// The VERIFY note, when the entry is uncertain.
    pub verify: Option<String>,
}

/// The Form 1042-S code lists (recipient status, exemption and LOB codes) with the code the tool
/// uses in each case: data (`templates/1042s/codes.csv`, with sources and VERIFY marks), never
/// constants in code.
#[derive(Debug, Clone)]
pub struct Codes(Vec<CodeEntry>);

/// Where the built-in code list comes from (named in errors and warnings).
pub const CODES_FILE: &str = "templates/1042s/codes.csv";

impl Codes {
    /// The built-in `templates/1042s/codes.csv` (checked once; an error names the line).
    pub fn builtin() -> Result<&'static Codes> {
        static CODES: LazyLock<std::result::Result<Codes, String>> =
            LazyLock::new(|| Codes::parse(CODES_CSV, CODES_FILE).map_err(|e| format!("{e:#}")));
        CODES.as_ref().map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Columns `box, code, meaning, used_for, source, verify`.
    pub fn parse(text: &str, origin: &str) -> Result<Codes> {
        let mut r = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = r
            .headers()
            .with_context(|| format!("{origin}: header"))?
            .clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
                .with_context(|| format!("{origin}: no {name:?} column"))
        };
        let cols = [
            col("box")?,
            col("code")?,
            col("meaning")?,
            col("used_for")?,
            col("source")?,
            col("verify")?,
        ];
        let mut v: Vec<CodeEntry> = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let line = i + 2;
            let rec = rec.with_context(|| format!("{origin} line {line}"))?;
            let [b, c, m, u, s, ver] = cols.map(|k| rec.get(k).unwrap_or("").to_string());
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_digit()) {
                bail!("{origin} line {line}: code {c:?} is not two digits");
            }
            if s.is_empty() {
                bail!("{origin} line {line}: code {b} {c} has no source");
            }
            let used_for: Vec<String> = u.split_whitespace().map(str::to_string).collect();
            for use_ in &used_for {
                if let Some(other) = v
                    .iter()
                    .find(|e| e.box_name == b && e.used_for.contains(use_))
                {
                    bail!(
                        "{origin} line {line}: {b} {use_} is already code {}",
                        other.code
                    );
                }
            }
            v.push(CodeEntry {
                box_name: b,
                code: c,
                meaning: m,
                used_for,
                source: s,
                verify: Some(ver).filter(|v| !v.is_empty()),
            });
        }
        Ok(Codes(v))
    }

    /// The entry of a code in a box, if the list has it.
    pub fn get(&self, box_name: &str, code: &str) -> Option<&CodeEntry> {
        self.0
            .iter()
            .find(|e| e.box_name == box_name && e.code == code)
    }

    /// The code the tool uses in a box for a case (an error when the data file has none).
    pub fn used_for(&self, box_name: &str, use_: &str) -> Result<&CodeEntry> {
        self.0
            .iter()
            .find(|e| e.box_name == box_name && e.used_for.iter().any(|u| u == use_))
            .with_context(|| {
                format!("{CODES_FILE}: no {box_name} code marked {use_:?} in used_for")
            })
    }

    /// A two-digit code of a box, checked against the list (for a setting).
    pub fn check(&self, box_name: &str, code: &str, what: &str) -> Result<String> {
        match self.get(box_name, code) {
            Some(e) => Ok(e.code.clone()),
            None => bail!(
                "{what}: {code:?} is not a {box_name} code in {CODES_FILE} ({})",
                self.0
                    .iter()
                    .filter(|e| e.box_name == box_name)
                    .map(|e| e.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// The codes one row can carry, resolved once from [`Codes`] and the settings.
#[derive(Debug, Clone)]
struct RowCodes {
    /// (chapter 3, chapter 4) recipient status: individual, entity, unknown.
    individual: (String, String),
    entity: (String, String),
    unknown: (String, String),
    not_exempt: String,
    treaty: String,
    foreign_source: String,
    ch4_services: String,
    ch4_other: String,
    /// The LOB codes (box 13j).
    lob: Vec<String>,
}

impl RowCodes {
    fn resolve(codes: &Codes, foreign: &ForeignSettings) -> Result<RowCodes> {
        let c = |b: &str, u: &str| codes.used_for(b, u).map(|e| e.code.clone());
        let pair = |u: &str| -> Result<(String, String)> {
            Ok((c("ch3_status", u)?, c("ch4_status", u)?))
        };
        Ok(RowCodes {
            individual: pair("individual")?,
            entity: pair("entity")?,
            unknown: pair("unknown")?,
            not_exempt: c("ch3_exemption", "not_exempt")?,
            treaty: c("ch3_exemption", "treaty")?,
            foreign_source: c("ch3_exemption", "foreign_source")?,
            ch4_services: codes.check(
                "ch4_exemption",
                &foreign.ch4_exemption_code_services,
                "[foreign] ch4_exemption_code_services",
            )?,
            ch4_other: codes.check(
                "ch4_exemption",
                &foreign.ch4_exemption_code_other,
                "[foreign] ch4_exemption_code_other",
            )?,
            lob: codes
                .0
                .iter()
                .filter(|e| e.box_name == "lob")
                .map(|e| e.code.clone())
                .collect(),
        })
    }
}

/// One income code of a payee, with its amount when the user gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeAllocation {
    pub code: String,
    pub amount: Option<Decimal>,
}

/// `17`, `12:500.00`, comma-separated.
pub fn parse_income_codes(s: &str) -> Result<Vec<IncomeAllocation>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (code, amount) = match part.split_once(':') {
            Some((c, a)) => {
                let a = masspay_tax_rules::money::parse_amount(a.trim())
                    .map_err(|_| anyhow::anyhow!("income code {c}: {a:?} is not an amount"))?;
                if a < Decimal::ZERO {
                    bail!("income code {c}: the amount is negative");
                }
                (c, Some(round_cents(a)))
            }
            None => (part, None),
        };
        let code = income_code(code)?;
        if out.iter().any(|o: &IncomeAllocation| o.code == code) {
            bail!("income code {code} is given twice");
        }
        out.push(IncomeAllocation { code, amount });
    }
    Ok(out)
}

/// A `us_source_percent` 0-100.
pub fn parse_percent(s: &str) -> Result<Decimal> {
    let t = s.trim().trim_end_matches('%').trim();
    match Decimal::from_str(t) {
        Ok(p) if p >= Decimal::ZERO && p <= Decimal::ONE_HUNDRED => Ok(p),
        _ => bail!("us_source_percent must be a number from 0 to 100, not {t:?}"),
    }
}

/// The withholding certificate on file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cert {
    None,
    W8Ben,
    W8BenE,
    F8233,
    OtherW8(String),
    W9,
}

impl Cert {
    fn of(form_type: Option<&str>) -> Cert {
        let Some(t) = form_type else {
            return Cert::None;
        };
        let k: String = t
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let k = k.strip_prefix("form").unwrap_or(&k);
        match k {
            "w9" => Cert::W9,
            "w8ben" => Cert::W8Ben,
            "w8bene" => Cert::W8BenE,
            "8233" | "f8233" => Cert::F8233,
            "" => Cert::None,
            _ => Cert::OtherW8(t.to_string()),
        }
    }
    fn entity(&self) -> bool {
        matches!(self, Cert::W8BenE)
    }
}

/// The parts of a treaty claim (`country: MEX; article: 12; rate: 10; lob: 07`, or free text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreatyClaim {
    pub country: Option<String>,
    pub article: Option<String>,
    pub rate: Option<String>,
    pub lob_code: Option<String>,
}

impl TreatyClaim {
    pub fn parse(text: &str) -> Option<TreatyClaim> {
        if text.trim().is_empty() {
            return None;
        }
        let mut c = TreatyClaim::default();
        for part in text.split(';') {
            if let Some((k, v)) = part.split_once(':') {
                let v = Some(v.trim().to_string()).filter(|v| !v.is_empty());
                match k.trim().to_ascii_lowercase().as_str() {
                    "country" => c.country = v,
                    "article" => c.article = v,
                    "rate" => c.rate = v,
                    "lob" | "lob_code" => c.lob_code = v,
                    _ => {}
                }
            }
        }
        Some(c)
    }
}

/// One failed treaty check (the row says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TreatyCheck {
    /// No W-8BEN / W-8BEN-E / Form 8233 (another W-8 cannot claim the treaty).
    CertificateType,
    /// An individual's treaty claim on personal-services pay needs Form 8233, not a W-8BEN.
    Form8233Required,
    /// No signature date.
    NotSigned,
    /// Signed after the tax year.
    SignedAfterYear,
    /// Past its validity.
    Expired,
    /// The treaty country is not the country of residence (or is not stated).
    TreatyCountryMismatch,
    /// No US TIN (Form 8233), or neither a US nor a foreign TIN (W-8).
    TinMissing,
    /// No rate in the claim nor in the treaty-rate file.
    NoTreatyRate,
}

impl TreatyCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            TreatyCheck::CertificateType => "treaty_certificate_type",
            TreatyCheck::Form8233Required => "treaty_form_8233_required",
            TreatyCheck::NotSigned => "treaty_certificate_not_signed",
            TreatyCheck::SignedAfterYear => "treaty_certificate_signed_after_year",
            TreatyCheck::Expired => "treaty_certificate_expired",
            TreatyCheck::TreatyCountryMismatch => "treaty_country_mismatch",
            TreatyCheck::TinMissing => "treaty_tin_missing",
            TreatyCheck::NoTreatyRate => "treaty_no_rate",
        }
    }
}

/// A payee left off the 1042-S, or a finding, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayeeNote {
    pub user_token: String,
    /// `foreign_source`, `zero_amount`, `unknown_country`, `conflict`, `override_not_reportable`
    /// (for conflicts: the decision's reason code).
    pub reason: String,
    pub words: String,
}

/// A conflict or unknown country from a decision (for the 1099 and 1042-S reports alike).
pub fn conflict_note(y: &YearPayee<'_>) -> Option<PayeeNote> {
    let r = y.decision.reason;
    (r.needs_decision() && r != FormReason::UnknownCountry).then(|| PayeeNote {
        user_token: y.payee.user_token.clone(),
        reason: r.as_str().into(),
        words: r.words().into(),
    })
}

/// Totals of one income code and rate (one line of the Form 1042 view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeRateTotal {
    pub income_code: String,
    pub rate: String,
    pub forms: usize,
    pub gross_income: String,
    pub tax_withheld: String,
    pub tax_due: String,
    pub under_withheld: String,
}

/// The stdout / JSON summary: the Form 1042 view.
#[derive(Debug, Clone, Serialize)]
pub struct F1042Summary {
    pub form: &'static str,
    pub tax_year: i32,
    pub file: PathBuf,
    pub summary_file: PathBuf,
    pub pdf: Option<PathBuf>,
    /// Number of Forms 1042-S (worksheet rows).
    pub forms: usize,
    /// Payees with at least one form.
    pub payees: usize,
    /// `outside_us`, `in_us`, or `not_set` (the IRS presumption).
    pub services_performed: &'static str,
    pub report_foreign_source: bool,
    pub totals: Vec<CodeRateTotal>,
    pub total_gross_income: String,
    pub total_tax_withheld: String,
    pub total_tax_due: String,
    pub total_under_withheld: String,
    /// Rows with at least one issue (missing field, failed treaty check).
    pub rows_with_issues: usize,
    pub left_off: Vec<PayeeNote>,
    /// US/foreign conflicts: on neither form until a user decides (`payees override`).
    pub conflicts: Vec<PayeeNote>,
    pub warnings: Vec<String>,
    pub tin_masked: bool,
    pub sync_run_id: i64,
    pub synced_at: Option<String>,
}

struct Ctx<'a> {
    year: i32,
    foreign: &'a ForeignSettings,
    rates: &'a TreatyRates,
    services: &'a HashSet<String>,
    codes: RowCodes,
    unmask: bool,
}

fn mask_tail(s: &str) -> String {
    let chars: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
    if chars.len() > 4 {
        format!(
            "****{}",
            chars[chars.len() - 4..].iter().collect::<String>()
        )
    } else {
        "****".into()
    }
}

fn alpha3(s: &str) -> Option<String> {
    iso_country(s).map(|c| c.alpha3.to_string())
}

/// `YYYY-MM-DD` (or `YYYYMMDD`) → `YYYYMMDD`; anything else `None`.
fn dob_digits(s: &str) -> Option<String> {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    (d.len() == 8 && chrono::NaiveDate::parse_from_str(&d, "%Y%m%d").is_ok()).then_some(d)
}

/// The rows of one 1042-S candidate (empty: foreign source, not reported).
fn payee_rows(y: &YearPayee<'_>, c: &Ctx<'_>) -> Result<Vec<F1042sRow>> {
    let p = &y.payee;
    let form = y.form.as_ref();
    let over = y.overrides;
    let cert = Cert::of(form.map(|f| f.form_type.as_str()));
    let individual = !cert.entity();
    let (ch3_status, ch4_status) = match cert {
        Cert::W8BenE => &c.codes.entity,
        Cert::W8Ben | Cert::F8233 => &c.codes.individual,
        _ => &c.codes.unknown,
    };
    let mut payee_issues: Vec<String> = Vec::new();

    // Recipient fields.
    let residence_text = form
        .and_then(|f| f.country_of_residence.clone())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| p.country.clone());
    let residence = alpha3(&residence_text);
    let name = if cert.entity() {
        form.map(|f| f.legal_name.clone()).unwrap_or_default()
    } else {
        full_name(p)
    };
    let name = if name.trim().is_empty() {
        full_name(p)
    } else {
        name
    };
    if name.trim().is_empty() {
        payee_issues.push("name missing".into());
    }
    for (v, what) in [(&p.address1, "address1"), (&p.city, "city")] {
        if v.trim().is_empty() {
            payee_issues.push(format!("{what} missing"));
        }
    }
    if residence.is_none() {
        payee_issues.push("country of residence missing or not an ISO code".into());
    }
    let foreign_tin = form
        .and_then(|f| f.foreign_tin.clone())
        .filter(|t| !t.trim().is_empty());
    if foreign_tin.is_none() {
        payee_issues.push("foreign_tin missing".into());
    }
    // Box 13l is an individual's: an entity has none.
    let dob = form
        .and_then(|f| f.date_of_birth.as_deref())
        .and_then(dob_digits)
        .or_else(|| dob_digits(&p.date_of_birth))
        .filter(|_| individual);
    if individual && dob.is_none() {
        payee_issues.push("date_of_birth missing".into());
    }
    if matches!(cert, Cert::None) {
        payee_issues.push("no W-8 on file: unknown recipient (status 21/29), 30%".into());
    }
    let tin = y.tin();
    let us_tin = if y.check.tin.is_some() {
        if c.unmask {
            unmasked(&y.check, tin.text)
        } else {
            mask(&y.check, tin.text)
        }
    } else {
        String::new()
    };
    let claim = form
        .and_then(|f| f.treaty_claim.as_deref())
        .and_then(TreatyClaim::parse);
    // `7` is LOB code `07`.
    let lob_code = claim
        .as_ref()
        .and_then(|c| c.lob_code.clone())
        .map(|l| match l.parse::<u8>() {
            Ok(n) if l.len() == 1 => format!("{n:02}"),
            _ => l,
        })
        .unwrap_or_default();
    if claim.is_some() && cert.entity() && lob_code.is_empty() {
        payee_issues.push("lob_code missing (an entity claiming a treaty must give one)".into());
    } else if !lob_code.is_empty() && !c.codes.lob.contains(&lob_code) {
        payee_issues.push(format!(
            "lob_code {lob_code:?} is not a current LOB code ({CODES_FILE}: {})",
            c.codes.lob.join(", ")
        ));
    }

    // Source: the per-payee override, else the imported form, else the setting.
    let services_performed = over
        .and_then(|o| o.services_performed.as_deref())
        .or(form.and_then(|f| f.services_performed.as_deref()))
        .and_then(ServicesPerformed::parse)
        .or(c.foreign.services_performed);
    let pct_override = match over
        .and_then(|o| o.us_source_percent.as_deref())
        .or(form.and_then(|f| f.us_source_percent.as_deref()))
    {
        Some(s) => Some(parse_percent(s).with_context(|| format!("override of {}", p.user_token))?),
        None => None,
    };

    // Income codes and amounts.
    let total = y.decision.amount;
    let mut allocs = match over.and_then(|o| o.income_codes.as_deref()) {
        Some(s) => {
            parse_income_codes(s).with_context(|| format!("override of {}", p.user_token))?
        }
        None => Vec::new(),
    };
    if allocs.is_empty() {
        allocs.push(IncomeAllocation {
            code: c.foreign.default_income_code.clone(),
            amount: None,
        });
    }
    let given: Decimal = allocs.iter().filter_map(|a| a.amount).sum();
    let remainder = total - given;
    let mut amounts: Vec<(String, Decimal)> = Vec::new();
    let mut remainder_used = false;
    for a in &allocs {
        let amt = match a.amount {
            Some(v) => v,
            None if !remainder_used => {
                remainder_used = true;
                remainder
            }
            None => Decimal::ZERO,
        };
        amounts.push((a.code.clone(), amt));
    }
    if remainder < Decimal::ZERO || (!remainder_used && remainder != Decimal::ZERO) {
        payee_issues.push(format!(
            "income code amounts add up to {}, not the year's {}",
            masspay_tax_rules::format_amount(given),
            masspay_tax_rules::format_amount(total)
        ));
    }

    let mut rows = Vec::new();
    for (code, gross) in amounts {
        if gross <= Decimal::ZERO {
            continue;
        }
        let services = c.services.contains(&code);
        let pct = pct_override.unwrap_or(
            if services && services_performed == Some(ServicesPerformed::OutsideUs) {
                Decimal::ZERO
            } else {
                Decimal::ONE_HUNDRED
            },
        );
        let us = round_cents(gross * pct / Decimal::ONE_HUNDRED);
        let foreign_part = gross - us;
        let mut issues = payee_issues.clone();
        let ch4_exemption = if services {
            c.codes.ch4_services.clone()
        } else {
            c.codes.ch4_other.clone()
        };
        let base = |issues: Vec<String>| F1042sRow {
            user_token: p.user_token.clone(),
            name: name.clone(),
            business_name: if p.business_name.trim().is_empty() {
                form.and_then(|f| f.business_name.clone())
                    .unwrap_or_default()
            } else {
                p.business_name.clone()
            },
            country: residence.clone().unwrap_or_else(|| residence_text.clone()),
            address1: p.address1.clone(),
            city: p.city.clone(),
            state: p.state_province.clone(),
            zip: p.postal_code.clone(),
            income_code: code.clone(),
            gross_income: Decimal::ZERO,
            us_source_percent: pct,
            ch3_status: ch3_status.clone(),
            ch3_exemption: c.codes.not_exempt.clone(),
            ch4_status: ch4_status.clone(),
            ch4_exemption: ch4_exemption.clone(),
            rate: STATUTORY_RATE,
            tax_withheld: Decimal::ZERO,
            tax_due: Decimal::ZERO,
            under_withheld: Decimal::ZERO,
            foreign_tin: foreign_tin
                .as_deref()
                .map(|t| {
                    if c.unmask {
                        t.to_string()
                    } else {
                        mask_tail(t)
                    }
                })
                .unwrap_or_default(),
            us_tin: us_tin.clone(),
            date_of_birth: dob
                .as_deref()
                .map(|d| {
                    if c.unmask {
                        d.to_string()
                    } else {
                        "********".into()
                    }
                })
                .unwrap_or_default(),
            lob_code: lob_code.clone(),
            form_on_file: form.map(|f| f.form_type.clone()).unwrap_or_default(),
            issues: issues.join("; "),
        };
        if us > Decimal::ZERO {
            let (rate, exemption) = match &claim {
                None => (STATUTORY_RATE, &c.codes.not_exempt),
                Some(cl) => {
                    match treaty_rate(
                        y,
                        (c.year, c.rates),
                        &cert,
                        cl,
                        &code,
                        services,
                        residence.as_deref(),
                    ) {
                        Ok((rate, note)) => {
                            if let Some(n) = note {
                                issues.push(n);
                            }
                            let exemption = if rate < STATUTORY_RATE {
                                &c.codes.treaty
                            } else {
                                &c.codes.not_exempt
                            };
                            (rate, exemption)
                        }
                        Err((check, detail)) => {
                            issues.push(format!(
                                "{}: {detail}; treaty claim not applied, 30%",
                                check.as_str()
                            ));
                            (STATUTORY_RATE, &c.codes.not_exempt)
                        }
                    }
                }
            };
            let due = round_cents(us * rate / Decimal::ONE_HUNDRED);
            let withheld = Decimal::ZERO;
            let mut row = base(issues.clone());
            row.gross_income = us;
            row.rate = rate;
            row.ch3_exemption = exemption.clone();
            row.tax_withheld = withheld;
            row.tax_due = due;
            row.under_withheld = due - withheld;
            rows.push(row);
        }
        if foreign_part > Decimal::ZERO && c.foreign.report_foreign_source {
            let mut row = base(payee_issues.clone());
            row.gross_income = foreign_part;
            row.rate = Decimal::ZERO;
            row.ch3_exemption = c.codes.foreign_source.clone();
            row.tax_withheld = Decimal::ZERO;
            rows.push(row);
        }
    }
    Ok(rows)
}

/// The treaty rate when every check passes (with an optional note), else the failed check.
fn treaty_rate(
    y: &YearPayee<'_>,
    (year, rates): (i32, &TreatyRates),
    cert: &Cert,
    claim: &TreatyClaim,
    code: &str,
    services: bool,
    residence: Option<&str>,
) -> std::result::Result<(Decimal, Option<String>), (TreatyCheck, String)> {
    let form = y.form.as_ref();
    match cert {
        Cert::W8Ben | Cert::W8BenE | Cert::F8233 => {}
        Cert::OtherW8(t) => {
            return Err((
                TreatyCheck::CertificateType,
                format!("a {t} cannot claim treaty benefits (W-8BEN, W-8BEN-E or Form 8233)"),
            ));
        }
        _ => {
            return Err((
                TreatyCheck::CertificateType,
                "no W-8BEN, W-8BEN-E or Form 8233 on file".into(),
            ));
        }
    }
    if services && *cert == Cert::W8Ben {
        return Err((
            TreatyCheck::Form8233Required,
            "an individual claims a treaty on pay for personal services on Form 8233, not a \
             W-8BEN"
                .into(),
        ));
    }
    let signed = form
        .and_then(|f| f.signature_date.as_deref())
        .and_then(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok());
    let Some(signed) = signed else {
        return Err((
            TreatyCheck::NotSigned,
            "no signature date on the certificate".into(),
        ));
    };
    use chrono::Datelike;
    let sy = signed.year();
    if sy > year {
        return Err((
            TreatyCheck::SignedAfterYear,
            format!("signed {signed}, after tax year {}", year),
        ));
    }
    if *cert == Cert::F8233 {
        if sy != year {
            return Err((
                TreatyCheck::Expired,
                format!(
                    "a Form 8233 is good for the tax year it names: signed {signed}, not for {}",
                    year
                ),
            ));
        }
    } else if sy + 3 < year {
        return Err((
            TreatyCheck::Expired,
            format!("signed {signed}: valid through {}-12-31", sy + 3),
        ));
    }
    let treaty_country = claim.country.as_deref().and_then(alpha3);
    match (treaty_country.as_deref(), residence) {
        (Some(t), Some(r)) if t == r => {}
        (None, _) => {
            return Err((
                TreatyCheck::TreatyCountryMismatch,
                "the claim names no treaty country".into(),
            ));
        }
        (Some(t), r) => {
            return Err((
                TreatyCheck::TreatyCountryMismatch,
                format!(
                    "treaty country {t} is not the country of residence {}",
                    r.unwrap_or("(unknown)")
                ),
            ));
        }
    }
    let has_us_tin = y.check.tin.is_some();
    let has_foreign_tin = form
        .and_then(|f| f.foreign_tin.as_deref())
        .is_some_and(|t| !t.trim().is_empty());
    if *cert == Cert::F8233 && !has_us_tin {
        return Err((
            TreatyCheck::TinMissing,
            "a Form 8233 needs a US TIN (SSN or ITIN)".into(),
        ));
    }
    if !has_us_tin && !has_foreign_tin {
        return Err((
            TreatyCheck::TinMissing,
            "a treaty claim needs a US TIN or a foreign TIN".into(),
        ));
    }
    let country = treaty_country.unwrap_or_default();
    let table = rates.get(&country, code);
    let claimed = claim.rate.as_deref().and_then(parse_rate);
    match (table, claimed) {
        (Some(t), Some(cl)) if t.rate != cl => Ok((
            t.rate,
            Some(format!(
                "claimed rate {} differs from the treaty-rate file's {} for {country} code {code}: \
                 the file's is used{}",
                format_rate(cl),
                format_rate(t.rate),
                if t.verify { " (VERIFY)" } else { "" }
            )),
        )),
        (Some(t), _) => Ok((t.rate, None)),
        (None, Some(cl)) => Ok((
            cl,
            Some(format!(
                "rate {} from the claim: no {country} code {code} entry in the treaty-rate file",
                format_rate(cl)
            )),
        )),
        (None, None) => Err((
            TreatyCheck::NoTreatyRate,
            format!(
                "no rate in the claim and no {country} code {code} entry in the treaty-rate file"
            ),
        )),
    }
}

fn left_off_note(token: &str, reason: &str, words: &str) -> PayeeNote {
    PayeeNote {
        user_token: token.into(),
        reason: reason.into(),
        words: words.into(),
    }
}

/// What the 1042-S does with one payee of the year. THE selection: `report 1042s` (worksheet,
/// summary, packet) and `statements 1042s` (Copy B) both go through [`outcome`].
pub enum Outcome {
    /// Not a foreign person: the 1099 side (or nothing).
    NotForeign,
    /// On neither form until a user decides (`payees override`); also listed as left off.
    Conflict(PayeeNote),
    /// A foreign payee with no Form 1042-S, and why.
    LeftOff(PayeeNote),
    /// One row per form (income code × rate), at least one.
    Rows(Vec<F1042sRow>),
}

fn outcome(y: &YearPayee<'_>, ctx: &Ctx<'_>) -> Result<Outcome> {
    let d = &y.decision;
    let token = y.payee.user_token.clone();
    if let Some(n) = conflict_note(y) {
        return Ok(Outcome::Conflict(n));
    }
    if d.reason == FormReason::UnknownCountry {
        return Ok(Outcome::LeftOff(left_off_note(
            &token,
            "unknown_country",
            d.reason.words(),
        )));
    }
    if d.person != PersonStatus::Foreign {
        return Ok(Outcome::NotForeign);
    }
    if d.form != FormKind::Candidate1042S {
        let (reason, words) = match d.reason {
            FormReason::ForeignNothingPaid => ("zero_amount", d.reason.words()),
            r => ("override_not_reportable", r.words()),
        };
        return Ok(Outcome::LeftOff(left_off_note(&token, reason, words)));
    }
    let rows = payee_rows(y, ctx)?;
    if rows.is_empty() {
        return Ok(Outcome::LeftOff(left_off_note(
            &token,
            "foreign_source",
            &format!(
                "services performed outside the US: foreign-source pay, no Form 1042-S \
                 (report_foreign_source = true reports it with chapter 3 exemption code {})",
                ctx.codes.foreign_source
            ),
        )));
    }
    Ok(Outcome::Rows(rows))
}

/// The year's Forms 1042-S for recipient statements: each payee's rows (TINs and dates of birth
/// masked, as a recipient copy prints them) sent in order into `tx` (bounded: memory stays
/// flat). Returns the sync run the rows come from. On an error the writer is told (an `Err`
/// item) so it replaces nothing.
pub async fn recipients_1042s(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    tx: tokio::sync::mpsc::Sender<Result<Vec<F1042sRow>, String>>,
) -> Result<masspay_tax_store::SyncRun> {
    let result = async {
        let services = services_codes();
        let view = YearView::load(store, settings, year).await?;
        let codes = Codes::builtin()?;
        let ctx = Ctx {
            year,
            foreign: &settings.foreign,
            rates: &view.treaty_rates,
            services,
            codes: RowCodes::resolve(codes, &settings.foreign)?,
            unmask: false,
        };
        let mut stream = view.on_file(store.year_payees(year, None));
        while let Some(p) = stream.try_next().await? {
            let y = view.judge(p)?;
            if let Outcome::Rows(rows) = outcome(&y, &ctx)?
                && tx.send(Ok(rows)).await.is_err()
            {
                // The writer stopped (an error it reports itself).
                break;
            }
        }
        Ok(view.run.clone())
    }
    .await;
    if let Err(e) = &result {
        let _ = tx.send(Err(crate::errors::chain(e))).await;
    }
    result
}

/// Writes `out/1042-S-{year}.csv` and `out/1042-summary-{year}.csv` (atomically) and returns
/// the Form 1042 summary; with `pdf`, also the year-end packet `out/1042-S-{year}.pdf`
/// (`crate::statements::write_1042s_packet`).
pub async fn report_1042s(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    out: &Path,
    unmask: bool,
    pdf: bool,
) -> Result<F1042Summary> {
    let foreign = &settings.foreign;
    let services = services_codes();
    let codes = Codes::builtin()?;
    let view = YearView::load(store, settings, year).await?;
    let rates = &view.treaty_rates;
    let run = view.run.clone();
    let ctx = Ctx {
        year,
        foreign,
        rates,
        services,
        codes: RowCodes::resolve(codes, foreign)?,
        unmask,
    };
    let mut writer = sheet::create(out, year)
        .with_context(|| format!("creating the worksheet in {}", out.display()))?;
    let mut totals: BTreeMap<(String, String), (usize, Decimal, Decimal, Decimal)> =
        BTreeMap::new();
    let mut left_off = Vec::new();
    let mut conflicts = Vec::new();
    let mut payees = 0;
    let mut with_issues = 0;
    let mut used_codes: std::collections::BTreeSet<(&str, String)> = Default::default();
    let mut stream = view.on_file(store.year_payees(year, None));
    let mut packet = if pdf {
        Some(crate::statements::PacketWalk::f1042s(store, settings).await?)
    } else {
        None
    };
    while let Some(p) = stream.try_next().await? {
        let y = view.judge(p)?;
        let rows = match outcome(&y, &ctx)? {
            Outcome::NotForeign => continue,
            Outcome::Conflict(n) => {
                left_off.push(left_off_note(&n.user_token, "conflict", &n.words));
                conflicts.push(n);
                continue;
            }
            Outcome::LeftOff(n) => {
                left_off.push(n);
                continue;
            }
            Outcome::Rows(rows) => rows,
        };
        payees += 1;
        for row in &rows {
            let t = totals
                .entry((row.income_code.clone(), format_rate(row.rate)))
                .or_default();
            t.0 += 1;
            t.1 += row.gross_income;
            t.2 += row.tax_withheld;
            t.3 += row.tax_due;
            with_issues += usize::from(!row.issues.is_empty());
            used_codes.insert(("ch3_status", row.ch3_status.clone()));
            used_codes.insert(("ch4_status", row.ch4_status.clone()));
            used_codes.insert(("ch3_exemption", row.ch3_exemption.clone()));
            // A chapter 4 exemption code the user set is the user's decision, not a VERIFY default.
            let set = if services.contains(&row.income_code) {
                foreign.ch4_exemption_code_services_set
            } else {
                foreign.ch4_exemption_code_other_set
            };
            if !set {
                used_codes.insert(("ch4_exemption", row.ch4_exemption.clone()));
            }
            writer.write(row)?;
            if let Some(p) = packet.as_mut() {
                p.push_1042s(row)?;
            }
        }
    }
    drop(stream);
    let forms = writer.rows();
    let file = sheet::finish(writer).context("writing the 1042-S worksheet")?;

    let mut warnings = Vec::new();
    if foreign.services_performed.is_none() {
        warnings.push(PRESUMPTION_WARNING.to_string());
    }
    let verify: Vec<String> = rates
        .0
        .iter()
        .filter(|(_, r)| r.verify)
        .map(|((c, k), _)| format!("{c}/{k}"))
        .collect();
    if !verify.is_empty() && used_codes.contains(&("ch3_exemption", ctx.codes.treaty.clone())) {
        warnings.push(
            "treaty rates come from a data file whose entries are marked VERIFY: check them \
             against the IRS Tax Treaty Tables before filing"
                .into(),
        );
    }
    // Every code on the worksheet that the code list marks VERIFY, with its note.
    for (box_name, code) in &used_codes {
        if let Some(e) = codes.get(box_name, code)
            && let Some(v) = &e.verify
        {
            warnings.push(format!(
                "{box_name} code {code} ({}) is marked VERIFY in {CODES_FILE}: {}",
                e.meaning,
                v.trim_start_matches("VERIFY:").trim()
            ));
        }
    }
    let a = masspay_tax_rules::format_amount;
    let (mut g, mut w, mut du) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let totals: Vec<CodeRateTotal> = totals
        .into_iter()
        .map(|((code, rate), (n, gross, withheld, due))| {
            g += gross;
            w += withheld;
            du += due;
            CodeRateTotal {
                income_code: code,
                rate,
                forms: n,
                gross_income: a(gross),
                tax_withheld: a(withheld),
                tax_due: a(due),
                under_withheld: a(due - withheld),
            }
        })
        .collect();
    let summary = F1042Summary {
        form: "1042-S",
        tax_year: year,
        file,
        summary_file: out.join(sheet::summary_file_name(year)),
        pdf: None,
        forms,
        payees,
        services_performed: foreign
            .services_performed
            .map_or("not_set", ServicesPerformed::as_str),
        report_foreign_source: foreign.report_foreign_source,
        totals,
        total_gross_income: a(g),
        total_tax_withheld: a(w),
        total_tax_due: a(du),
        total_under_withheld: a(du - w),
        rows_with_issues: with_issues,
        left_off,
        conflicts,
        warnings,
        tin_masked: !unmask,
        sync_run_id: run.id,
        synced_at: run.finished_at.clone(),
    };
    let summary_file = sheet::write_summary(out, year, &summary_lines(&summary))
        .context("writing the Form 1042 summary")?;
    let pdf = if let Some(packet) = packet {
        // The year-end packet: cover, exceptions, worksheet (src/statements.rs).
        let path = out.join(format!("1042-S-{year}.pdf"));
        let packet =
            crate::statements::write_1042s_packet(store, settings, &run, &path, packet, &summary)
                .await
                .context("writing the PDF packet")?;
        Some(packet)
    } else {
        None
    };
    Ok(F1042Summary {
        summary_file,
        pdf,
        ..summary
    })
}

/// The lines of `1042-summary-YEAR.csv`.
pub fn summary_lines(s: &F1042Summary) -> Vec<SummaryLine> {
    let mut v: Vec<SummaryLine> = Vec::new();
    let e = String::new;
    for t in &s.totals {
        v.push([
            "total".into(),
            t.income_code.clone(),
            t.rate.clone(),
            t.forms.to_string(),
            t.gross_income.clone(),
            t.tax_withheld.clone(),
            t.tax_due.clone(),
            t.under_withheld.clone(),
            e(),
            e(),
            e(),
        ]);
    }
    v.push([
        "grand_total".into(),
        e(),
        e(),
        s.forms.to_string(),
        s.total_gross_income.clone(),
        s.total_tax_withheld.clone(),
        s.total_tax_due.clone(),
        s.total_under_withheld.clone(),
        e(),
        e(),
        format!("{} payees", s.payees),
    ]);
    for (kind, list) in [("left_off", &s.left_off), ("conflict", &s.conflicts)] {
        for n in list {
            v.push([
                kind.into(),
                e(),
                e(),
                e(),
                e(),
                e(),
                e(),
                e(),
                n.user_token.clone(),
                n.reason.clone(),
                n.words.clone(),
            ]);
        }
    }
    for w in &s.warnings {
        v.push([
            "warning".into(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            w.clone(),
        ]);
    }
    v
}

/// The summary for people (stdout).
pub fn render_text(s: &F1042Summary) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        "Form 1042 view {}: {} Forms 1042-S for {} payees; gross income {}, tax due {}, tax \
         withheld {}, under-withheld {}; written to {} and {} ({})\n",
        s.tax_year,
        s.forms,
        s.payees,
        money(&s.total_gross_income),
        money(&s.total_tax_due),
        money(&s.total_tax_withheld),
        money(&s.total_under_withheld),
        s.file.display(),
        s.summary_file.display(),
        if s.tin_masked {
            "TINs masked"
        } else {
            "FULL TINs: handle as IRS-bound"
        }
    ));
    if let Some(p) = &s.pdf {
        o.push_str(&format!("  PDF packet: {}\n", p.display()));
    }
    for t in &s.totals {
        o.push_str(&format!(
            "  income code {} at {}%: {} forms, gross {}, due {}, withheld {}\n",
            t.income_code,
            t.rate,
            t.forms,
            money(&t.gross_income),
            money(&t.tax_due),
            money(&t.tax_withheld)
        ));
    }
    if s.rows_with_issues > 0 {
        o.push_str(&format!(
            "  {} rows have issues (see the issues column)\n",
            s.rows_with_issues
        ));
    }
    for n in &s.left_off {
        o.push_str(&format!(
            "  left off {} ({}): {}\n",
            n.user_token, n.reason, n.words
        ));
    }
    for n in &s.conflicts {
        o.push_str(&format!(
            "  CONFLICT {} ({}): decide with `masspay-tax payees override {} --year {} --form \
             us_person|foreign_person`\n",
            n.user_token, n.reason, n.user_token, s.tax_year
        ));
    }
    for w in &s.warnings {
        o.push_str(&format!("  WARNING: {w}\n"));
    }
    o
}

/// The audit's checks for a foreign payee (`audit tins`): W-8 missing or expired, foreign TIN or
/// date of birth missing, a treaty claim that fails a check. ("No W-8 on file" and "a US SSN on a
/// foreign payee" are the audit's own.)
pub fn foreign_audit_warnings(view: &YearView<'_>, y: &YearPayee<'_>) -> Vec<String> {
    let mut w = Vec::new();
    let Some(form) = y.form.as_ref() else {
        return w;
    };
    let cert = Cert::of(Some(&form.form_type));
    if matches!(cert, Cert::W9) {
        return w;
    }
    let signed = form
        .signature_date
        .as_deref()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok());
    use chrono::Datelike;
    match signed {
        None => w.push(format!("{}: no signature date on file", form.form_type)),
        Some(s) if cert == Cert::F8233 && s.year() != view.year => w.push(format!(
            "w8_expired: the Form 8233 signed {s} is not for tax year {}",
            view.year
        )),
        Some(s) if cert != Cert::F8233 && s.year() + 3 < view.year => w.push(format!(
            "w8_expired: the {} signed {s} was valid through {}-12-31: collect a new one",
            form.form_type,
            s.year() + 3
        )),
        _ => {}
    }
    if form
        .foreign_tin
        .as_deref()
        .is_none_or(|t| t.trim().is_empty())
    {
        w.push("foreign_tin missing on the W-8 (Form 1042-S box 13i)".into());
    }
    let dob = form
        .date_of_birth
        .as_deref()
        .and_then(dob_digits)
        .or_else(|| dob_digits(&y.payee.date_of_birth));
    if !cert.entity() && dob.is_none() {
        w.push("date_of_birth missing (Form 1042-S box 13l)".into());
    }
    if let Some(claim) = form.treaty_claim.as_deref().and_then(TreatyClaim::parse) {
        let services = services_codes();
        let mut codes: Vec<String> = y
            .overrides
            .and_then(|o| o.income_codes.as_deref())
            .and_then(|s| parse_income_codes(s).ok())
            .map(|v| v.into_iter().map(|a| a.code).collect())
            .unwrap_or_default();
        if codes.is_empty() {
            codes.push(view.foreign.default_income_code.clone());
        }
        let residence_text = form
            .country_of_residence
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| y.payee.country.clone());
        let residence = alpha3(&residence_text);
        for code in &codes {
            if let Err((check, detail)) = treaty_rate(
                y,
                (view.year, &view.treaty_rates),
                &cert,
                &claim,
                code,
                services.contains(code),
                residence.as_deref(),
            ) {
                w.push(format!(
                    "treaty_claim_invalid ({}): {detail}; 30% applies to income code {code}",
                    check.as_str()
                ));
            }
        }
    }
    w
}

/// What `payees override` asks to change (text as typed; checked by [`set_override`]).
#[derive(Debug, Clone, Default)]
pub struct OverrideChange {
    pub form: Option<String>,
    pub services_performed: Option<String>,
    pub us_source_percent: Option<String>,
    pub income_codes: Vec<String>,
    /// Remove everything recorded first.
    pub clear: bool,
}

/// A payee's recorded decisions, as shown.
#[derive(Debug, Clone, Serialize)]
pub struct OverrideView {
    pub user_token: String,
    pub tax_year: i32,
    pub form: Option<String>,
    pub services_performed: Option<String>,
    pub us_source_percent: Option<String>,
    pub income_codes: Vec<String>,
    /// The store knows the payee (a sync has seen it); a decision for an unknown token is kept
    /// but has no effect until a sync brings the payee.
    pub payee_in_store: bool,
}

impl OverrideView {
    pub fn render_text(&self) -> String {
        let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        format!(
            "{} {}: form {}, services performed {}, US-source percent {}, income codes {}{}",
            self.user_token,
            self.tax_year,
            v(&self.form),
            v(&self.services_performed),
            v(&self.us_source_percent),
            if self.income_codes.is_empty() {
                "-".into()
            } else {
                self.income_codes.join(", ")
            },
            if self.payee_in_store {
                ""
            } else {
                " (WARNING: no payee with this user token in the store yet)"
            }
        )
    }
}

/// Checks and records a payee's decisions for a year; every value is validated before anything
/// is written (a bad one is an error naming the option, and nothing changes).
pub async fn set_override(
    store: &Store,
    user_token: &str,
    year: i32,
    change: &OverrideChange,
) -> Result<OverrideView> {
    use masspay_tax_rules::decision::FormOverride;
    let token = user_token.trim();
    if token.is_empty() {
        bail!("USER_TOKEN is empty");
    }
    let mut o = match store.payee_override(token, i64::from(year)).await? {
        Some(o) if !change.clear => o,
        _ => masspay_tax_store::overrides::PayeeOverride {
            user_token: token.to_string(),
            tax_year: i64::from(year),
            ..Default::default()
        },
    };
    let mut changed = change.clear;
    if let Some(f) = &change.form {
        let f: FormOverride = f
            .parse()
            .map_err(|e| anyhow::anyhow!("--form {f:?}: {e}"))?;
        o.form_override = Some(f.as_str().to_string());
        changed = true;
    }
    if let Some(s) = &change.services_performed {
        let s = ServicesPerformed::parse(s)
            .with_context(|| format!("--services-performed {s:?}: expected outside_us or in_us"))?;
        o.services_performed = Some(s.as_str().to_string());
        changed = true;
    }
    if let Some(p) = &change.us_source_percent {
        let p = parse_percent(p).context("--us-source-percent")?;
        o.us_source_percent = Some(p.normalize().to_string());
        changed = true;
    }
    if !change.income_codes.is_empty() {
        let joined = change.income_codes.join(",");
        let codes = parse_income_codes(&joined).context("--income-code")?;
        o.income_codes = Some(
            codes
                .iter()
                .map(|a| match a.amount {
                    Some(v) => format!("{}:{}", a.code, masspay_tax_rules::format_amount(v)),
                    None => a.code.clone(),
                })
                .collect::<Vec<_>>()
                .join(","),
        );
        changed = true;
    }
    let payee_in_store = matches!(
        store.resolve_payee(Some(token), None).await?,
        masspay_tax_store::tax_forms::Link::Found(_)
    );
    if changed {
        o.updated_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        store.set_payee_override(&o).await?;
    }
    Ok(OverrideView {
        user_token: token.to_string(),
        tax_year: year,
        form: o.form_override,
        services_performed: o.services_performed,
        us_source_percent: o.us_source_percent,
        income_codes: o
            .income_codes
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        payee_in_store,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn data_files_load() {
        let r = TreatyRates::builtin();
        let mex = r.get("MEX", "12").unwrap();
        assert_eq!(mex.rate, dec!(10.00));
        assert!(mex.verify && !mex.source.is_empty());
        assert!(services_codes().contains("17"));
        assert!(!services_codes().contains("12"));
        assert!(TreatyRates::parse("country,income_code,rate\nXX,17,0\n", "t").is_err());
        assert!(TreatyRates::parse("country,income_code,rate\nMEX,17,31\n", "t").is_err());
        assert!(CODES_CSV.contains("VERIFY"));
        // Every built-in entry notes its source; every treaty rate is a VERIFY item.
        assert!(!r.0.is_empty());
        assert!(
            r.0.values()
                .all(|t| !t.source.trim().is_empty() && t.verify)
        );
        let mut ic = csv::Reader::from_reader(INCOME_CODES_CSV.as_bytes());
        let h = ic.headers().unwrap().clone();
        assert_eq!(h.get(3), Some("source"));
        for rec in ic.records() {
            let rec = rec.unwrap();
            assert!(income_code(&rec[0]).is_ok(), "{rec:?}");
            assert!(!rec[3].trim().is_empty(), "{rec:?} has no source");
        }
    }

    #[test]
    fn the_code_list_is_data_with_sources() {
        let c = Codes::builtin().unwrap();
        let r = RowCodes::resolve(c, &ForeignSettings::default()).unwrap();
        assert_eq!(r.individual, ("16".into(), "23".into()));
        assert_eq!(r.entity, ("15".into(), "22".into()));
        assert_eq!(r.unknown, ("21".into(), "29".into()));
        assert_eq!(
            (
                r.not_exempt.as_str(),
                r.treaty.as_str(),
                r.foreign_source.as_str()
            ),
            ("00", "04", "03")
        );
        assert_eq!(
            (r.ch4_services.as_str(), r.ch4_other.as_str()),
            ("15", "15")
        );
        assert!(r.lob.contains(&"07".to_string()) && !r.lob.contains(&"01".to_string()));
        assert!(c.get("ch4_exemption", "15").unwrap().verify.is_some());
        assert!(c.get("ch4_status", "22").unwrap().verify.is_some());
        assert!(c.get("ch3_status", "16").unwrap().verify.is_none());
        // Settings are checked against the list.
        assert!(c.check("ch4_exemption", "16", "k").is_ok());
        let e = c.check("ch4_exemption", "99", "[foreign] k").unwrap_err();
        assert!(e.to_string().contains("[foreign] k"), "{e}");
        // A broken file is refused, naming the line.
        let h = "box,code,meaning,used_for,source,verify\n";
        assert!(Codes::parse(&format!("{h}ch3_status,1,x,,s,\n"), "t").is_err());
        assert!(Codes::parse(&format!("{h}ch3_status,16,x,,,\n"), "t").is_err());
        let twice = format!("{h}ch3_status,16,x,individual,s,\nch3_status,15,y,individual,s,\n");
        assert!(format!("{:#}", Codes::parse(&twice, "t").unwrap_err()).contains("line 3"));
        // A missing case is an error naming the file, not a guess.
        let none = Codes::parse(h, "t").unwrap();
        assert!(RowCodes::resolve(&none, &ForeignSettings::default()).is_err());
    }

    #[test]
    fn income_codes_and_percent() {
        let v = parse_income_codes("17, 12:500").unwrap();
        assert_eq!(
            v[0],
            IncomeAllocation {
                code: "17".into(),
                amount: None
            }
        );
        assert_eq!(v[1].amount, Some(dec!(500.00)));
        assert!(parse_income_codes("99").is_err());
        assert!(parse_income_codes("17,17").is_err());
        assert!(parse_income_codes("12:-1").is_err());
        assert_eq!(parse_percent("40").unwrap(), dec!(40));
        assert!(parse_percent("101").is_err());
        assert!(parse_percent("x").is_err());
    }

    #[test]
    fn treaty_claim_parts() {
        let c = TreatyClaim::parse("country: MEX; article: 12; rate: 10; lob: 07").unwrap();
        assert_eq!(c.country.as_deref(), Some("MEX"));
        assert_eq!(c.lob_code.as_deref(), Some("07"));
        assert!(TreatyClaim::parse("  ").is_none());
        assert_eq!(Cert::of(Some("Form 8233")), Cert::F8233);
        assert_eq!(Cert::of(Some("W-8BEN-E")), Cert::W8BenE);
        assert_eq!(dob_digits("1985-03-12").as_deref(), Some("19850312"));
        assert_eq!(dob_digits("1985-13-12"), None);
        assert_eq!(mask_tail("NUJJ850312AB1"), "****2AB1");
    }
}
