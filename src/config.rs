//! Settings that are data, not code: thresholds for years the IRS has not published into this
//! version, and TIN rule adjustments (new EIN prefixes). Read from `masspay-tax.toml` in the
//! current directory, or the file named by `--config` / `MASSPAY_TAX_CONFIG`.
//!
//! ```toml
//! [thresholds.nec]
//! 2027 = "2100.00"                                # a year the IRS has not published here
//! # 2025 = { amount = "1.00", override = true }   # a deliberate change of a built-in year
//!
//! [tin]
//! extra_ein_prefixes = [7]          # the IRS started assigning 07
//! unknown_ein_prefix = "warn"       # or "reject"
//! ```
//!
//! A built-in (IRS) year, 2026 and earlier, cannot be changed by accident: a plain amount that
//! differs from the IRS's is refused with an error that shows the override form. With
//! `override = true` the amount is used and [`Thresholds::is_overridden`] says so, for every
//! report to show.

use anyhow::{Context, Result, bail};
use masspay_tax_rules::Thresholds;
use masspay_tax_rules::payer::{PAYER_KEYS, Payer, PayerSettings};
use masspay_tax_rules::tin::{PrefixPolicy, TinRules};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub const DEFAULT_CONFIG_FILE: &str = "masspay-tax.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    thresholds: ThresholdsSection,
    #[serde(default)]
    tin: TinSection,
    #[serde(default)]
    payer: PayerSettings,
    #[serde(default)]
    notify: crate::notify::NotifySettings,
    #[serde(default)]
    foreign: ForeignSection,
    #[serde(default)]
    alerts: AlertSettings,
    #[serde(default)]
    webhooks: WebhookSettings,
    #[serde(default)]
    documents: DocumentsSettings,
}

/// `[documents]`: fonts and layouts for the PDF statements and packet.
///
/// ```toml
/// [documents]
/// fallback_font = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"  # CJK, Devanagari …
/// layouts = "my-layouts"   # edited copies of templates/layouts/*.toml
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentsSettings {
    /// A TTF/OTF font for scripts the shipped DejaVu Sans is not used for.
    pub fallback_font: Option<PathBuf>,
    /// A folder with layout templates that replace the built-in ones (same file names).
    pub layouts: Option<PathBuf>,
}

/// `[alerts]`: threshold alerts (`alerts run` / `alerts schedule`) and when notices about holds
/// go out. `MASSPAY_TAX_ALERTS_SCHEDULE`, `MASSPAY_TAX_ALERTS_TZ` and
/// `MASSPAY_TAX_ALERTS_APPROACH` override the file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertSettings {
    /// A "hold older than N days" notice goes out once per hold (default 14).
    pub hold_older_than_days: i64,
    /// The share of the threshold from which a payee is `approaching` (`--approach` wins).
    pub approach: Option<String>,
    /// Alert on every crossing, also of payees ready to report (`--every-crossing`).
    pub every_crossing: bool,
    /// Which states alert (default all: `approaching`, `crossed`, `w8_missing`).
    pub states: Option<Vec<String>>,
    /// Which TIN statuses alert on the 1099 side (`approaching`, `crossed`); default all that
    /// are not ready to report: `missing`, `malformed`, `invalid`, `no_match` (an IRS TIN
    /// Matching "no match"). Add `valid` with `every_crossing`.
    pub tin_statuses: Option<Vec<String>>,
    /// Confirm the year to date of payees near the threshold from MassPay's transaction
    /// history (`--confirm-history`).
    pub confirm_history: bool,
    /// At most this many history checks per run (default 50; `--confirm-max`).
    pub confirm_max: Option<usize>,
    /// Near the threshold: from the approach share up to the threshold plus this share
    /// (default "25%": up to 125% of it).
    pub confirm_band: Option<String>,
    /// `alerts schedule`'s cron expression when `--cron` is not given (e.g. `"0 7 * * 1-5"`).
    pub schedule: Option<String>,
    /// The time zone the schedule is read in (IANA name, default UTC).
    pub tz: Option<String>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            hold_older_than_days: 14,
            approach: None,
            every_crossing: false,
            states: None,
            tin_statuses: None,
            confirm_history: false,
            confirm_max: None,
            confirm_band: None,
            schedule: None,
            tz: None,
        }
    }
}

/// The alert states.
pub const ALERT_STATES: [&str; 3] = ["approaching", "crossed", "w8_missing"];

/// The TIN statuses an alert filter names (`[alerts] tin_statuses`).
pub const ALERT_TIN_STATUSES: [&str; 5] = ["missing", "malformed", "invalid", "no_match", "valid"];

impl AlertSettings {
    fn check(&self) -> Result<()> {
        if let Some(states) = &self.states
            && let Some(bad) = states.iter().find(|s| !ALERT_STATES.contains(&s.as_str()))
        {
            bail!(
                "[alerts] states: {bad:?} is not a state (the states are {})",
                ALERT_STATES.join(", ")
            );
        }
        if let Some(statuses) = &self.tin_statuses
            && let Some(bad) = statuses
                .iter()
                .find(|s| !ALERT_TIN_STATUSES.contains(&s.as_str()))
        {
            bail!(
                "[alerts] tin_statuses: {bad:?} is not a TIN status (they are {})",
                ALERT_TIN_STATUSES.join(", ")
            );
        }
        if let Some(b) = &self.confirm_band {
            crate::alerts::parse_share(b)
                .map_err(|e| anyhow::anyhow!("[alerts] confirm_band: {e}"))?;
        }
        if let Some(a) = &self.approach {
            crate::alerts::parse_share(a).map_err(|e| anyhow::anyhow!("[alerts] approach: {e}"))?;
        }
        Ok(())
    }
}

/// `MASSPAY_TAX_ALERTS_SCHEDULE`, `MASSPAY_TAX_ALERTS_TZ`, `MASSPAY_TAX_ALERTS_APPROACH` (a
/// non-empty value wins over the file).
fn alerts_env_overrides(a: &mut AlertSettings, env: impl Fn(&str) -> Option<String>) {
    for (var, slot) in [
        ("MASSPAY_TAX_ALERTS_SCHEDULE", &mut a.schedule),
        ("MASSPAY_TAX_ALERTS_TZ", &mut a.tz),
        ("MASSPAY_TAX_ALERTS_APPROACH", &mut a.approach),
    ] {
        if let Some(v) = env(var).filter(|v| !v.trim().is_empty()) {
            *slot = Some(v.trim().to_string());
        }
    }
}

/// `[webhooks]`: the receiver of MassPay status webhooks (the secret comes from
/// `MASSPAY_WEBHOOK_SECRET` only).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// How far a signature's timestamp may be from now, in seconds (default 300).
    pub tolerance_secs: i64,
    /// Bodies larger than this get 413 (default 1 MiB).
    pub max_body_bytes: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            tolerance_secs: 300,
            max_body_bytes: 1 << 20,
        }
    }
}

/// `[foreign]`: how the 1042-S treats foreign payees (see [`crate::f1042s`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForeignSection {
    services_performed: Option<String>,
    report_foreign_source: Option<bool>,
    default_income_code: Option<toml::Value>,
    ch4_exemption_code_services: Option<toml::Value>,
    ch4_exemption_code_other: Option<toml::Value>,
    treaty_rates_file: Option<PathBuf>,
}

/// Where the platform's foreign payees perform their services (the source rule, IRC
/// §861(a)(3)/§862(a)(3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServicesPerformed {
    /// Entirely outside the US: foreign-source pay, no 1042-S.
    OutsideUs,
    /// In the US: US-source pay, 1042-S at 30% unless a treaty reduces it.
    InUs,
}

impl ServicesPerformed {
    pub fn as_str(self) -> &'static str {
        match self {
            ServicesPerformed::OutsideUs => "outside_us",
            ServicesPerformed::InUs => "in_us",
        }
    }

    /// `outside_us` / `in_us` (also `outside`, `in`, `us`, `foreign`; case and `-` ignored).
    pub fn parse(s: &str) -> Option<Self> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "outside_us" | "outside" | "foreign" | "abroad" => Some(ServicesPerformed::OutsideUs),
            "in_us" | "in" | "us" | "inside_us" => Some(ServicesPerformed::InUs),
            _ => None,
        }
    }
}

/// `[foreign]` settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignSettings {
    /// `None`: not set, the IRS presumption (US source) applies and every summary says so.
    pub services_performed: Option<ServicesPerformed>,
    /// Report foreign-source pay anyway, with chapter 3 exemption code 03.
    pub report_foreign_source: bool,
    /// The income code for pay with none recorded per payee (17: independent personal services).
    pub default_income_code: String,
    /// The chapter 4 exemption code for services income (15 or 16: VERIFY, irs-rules §4.3).
    /// Not set: the code `templates/1042s/codes.csv` marks `services_default`.
    pub ch4_exemption_code_services: String,
    /// `ch4_exemption_code_services` comes from the settings file (not the data file's default).
    pub ch4_exemption_code_services_set: bool,
    /// The chapter 4 exemption code for other income (royalties, other income, grants). Not set:
    /// the code `templates/1042s/codes.csv` marks `other_default` (VERIFY).
    pub ch4_exemption_code_other: String,
    /// `ch4_exemption_code_other` comes from the settings file.
    pub ch4_exemption_code_other_set: bool,
    /// A treaty-rate file replacing the built-in `templates/1042s/treaty-rates.csv`.
    pub treaty_rates_file: Option<PathBuf>,
}

impl Default for ForeignSettings {
    fn default() -> Self {
        ForeignSettings {
            services_performed: None,
            report_foreign_source: false,
            default_income_code: "17".into(),
            ch4_exemption_code_services: data_default("services_default"),
            ch4_exemption_code_services_set: false,
            ch4_exemption_code_other: data_default("other_default"),
            ch4_exemption_code_other_set: false,
            treaty_rates_file: None,
        }
    }
}

/// The chapter 4 exemption code `templates/1042s/codes.csv` marks for a case (empty if the
/// built-in list is broken: the report then refuses with the data file's error).
fn data_default(use_: &str) -> String {
    crate::f1042s::Codes::builtin()
        .and_then(|c| c.used_for("ch4_exemption", use_).map(|e| e.code.clone()))
        .unwrap_or_default()
}

/// A chapter 4 exemption code setting, checked against `templates/1042s/codes.csv`.
fn ch4_exemption_code(key: &str, v: &toml::Value) -> Result<String> {
    let code = two_digit_code(key, v)?;
    crate::f1042s::Codes::builtin()?.check("ch4_exemption", &code, &format!("[foreign] {key}"))
}

/// A two-digit code from a string or an integer (`17`, `"17"`, `"03"`).
fn two_digit_code(key: &str, v: &toml::Value) -> Result<String> {
    let text = match v {
        toml::Value::String(s) => s.trim().to_string(),
        toml::Value::Integer(i) => i.to_string(),
        _ => bail!("[foreign] {key} must be a code such as \"17\""),
    };
    match text.parse::<u8>() {
        Ok(n) if text.len() <= 2 && n <= 99 => Ok(format!("{n:02}")),
        _ => bail!("[foreign] {key}: {text:?} is not a two-digit code"),
    }
}

impl ForeignSection {
    fn check(self) -> Result<ForeignSettings> {
        let d = ForeignSettings::default();
        let services_performed = match self.services_performed.as_deref() {
            None => None,
            Some(s) => Some(ServicesPerformed::parse(s).with_context(|| {
                format!(
                    "[foreign] services_performed must be \"outside_us\" or \"in_us\", not {s:?}"
                )
            })?),
        };
        Ok(ForeignSettings {
            services_performed,
            report_foreign_source: self.report_foreign_source.unwrap_or(false),
            default_income_code: match &self.default_income_code {
                Some(v) => two_digit_code("default_income_code", v)?,
                None => d.default_income_code,
            },
            ch4_exemption_code_services: match &self.ch4_exemption_code_services {
                Some(v) => ch4_exemption_code("ch4_exemption_code_services", v)?,
                None => d.ch4_exemption_code_services,
            },
            ch4_exemption_code_services_set: self.ch4_exemption_code_services.is_some(),
            ch4_exemption_code_other: match &self.ch4_exemption_code_other {
                Some(v) => ch4_exemption_code("ch4_exemption_code_other", v)?,
                None => d.ch4_exemption_code_other,
            },
            ch4_exemption_code_other_set: self.ch4_exemption_code_other.is_some(),
            treaty_rates_file: self.treaty_rates_file,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdsSection {
    #[serde(default)]
    nec: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TinSection {
    #[serde(default)]
    extra_ein_prefixes: Vec<u8>,
    #[serde(default)]
    unknown_ein_prefix: Option<String>,
}

/// Rules in force for this run.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub thresholds: Thresholds,
    pub tin_rules: TinRules,
    /// `[payer]`, with `MASSPAY_TAX_PAYER_<KEY>` overrides applied; checked by [`Settings::payer`].
    pub payer: PayerSettings,
    /// `[notify]`: the channels every notice goes out on (see [`crate::notify`]).
    pub notify: crate::notify::NotifySettings,
    /// `[documents]`: fallback font and layout folder.
    pub documents: DocumentsSettings,
    /// `[alerts]`.
    pub alerts: AlertSettings,
    /// `[webhooks]`.
    pub webhooks: WebhookSettings,
    /// `[foreign]`: the 1042-S settings (see [`crate::f1042s`]).
    pub foreign: ForeignSettings,
    pub source: Option<PathBuf>,
}

impl Settings {
    /// The payer printed on statements and e-file records, checked: every missing or invalid
    /// key is named, before any document is written.
    pub fn payer(&self) -> Result<Payer> {
        Ok(self.payer.validate(&self.tin_rules)?)
    }
}

/// `MASSPAY_TAX_PAYER_NAME`, `MASSPAY_TAX_PAYER_TIN`, …: each `[payer]` key from the environment
/// (a non-empty value wins over the file).
fn payer_env_overrides(payer: &mut PayerSettings, env: impl Fn(&str) -> Option<String>) {
    for key in PAYER_KEYS {
        let var = format!("MASSPAY_TAX_PAYER_{}", key.to_ascii_uppercase());
        if let Some(v) = env(&var).filter(|v| !v.trim().is_empty())
            && let Some(slot) = payer.field_mut(key)
        {
            *slot = Some(v);
        }
    }
}

/// Loads settings: the explicit file (must exist), else `./masspay-tax.toml` if present, else defaults.
pub fn load(explicit: Option<&Path>) -> Result<Settings> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.exists()),
    };
    let mut s = match path {
        None => Settings::default(),
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading config file {}", path.display()))?;
            let mut s = parse(&text).with_context(|| format!("config file {}", path.display()))?;
            // [documents] paths are relative to the settings file.
            if let Some(dir) = path.parent() {
                for p in [&mut s.documents.fallback_font, &mut s.documents.layouts]
                    .into_iter()
                    .flatten()
                {
                    if p.is_relative() {
                        *p = dir.join(&*p);
                    }
                }
            }
            s.source = Some(path);
            s
        }
    };
    payer_env_overrides(&mut s.payer, |k| std::env::var(k).ok());
    alerts_env_overrides(&mut s.alerts, |k| std::env::var(k).ok());
    s.alerts.check().context("MASSPAY_TAX_ALERTS_*")?;
    Ok(s)
}

pub fn parse(text: &str) -> Result<Settings> {
    let file: ConfigFile = toml::from_str(text)?;
    let mut thresholds = Thresholds::default();
    for (year, value) in file.thresholds.nec {
        let y: i32 = year
            .trim()
            .parse()
            .with_context(|| format!("[thresholds.nec] key {year:?} is not a year"))?;
        let (amount, deliberate) = threshold_value(y, &value)?;
        thresholds = if deliberate {
            thresholds.with_nec_override(y, amount)
        } else {
            thresholds.with_nec(y, amount)
        }
        .with_context(|| format!("[thresholds.nec] {y}"))?;
    }
    let policy = match file.tin.unknown_ein_prefix.as_deref().map(str::trim) {
        None | Some("warn") => PrefixPolicy::Warn,
        Some("reject") => PrefixPolicy::Reject,
        Some(other) => {
            bail!("[tin] unknown_ein_prefix must be \"warn\" or \"reject\", not {other:?}")
        }
    };
    let tin_rules = TinRules::from_config(&file.tin.extra_ein_prefixes, policy)?;
    file.alerts.check()?;
    Ok(Settings {
        thresholds,
        tin_rules,
        payer: file.payer,
        notify: file.notify,
        documents: file.documents,
        alerts: file.alerts,
        webhooks: file.webhooks,
        foreign: file.foreign.check()?,
        source: None,
    })
}

/// One `[thresholds.nec]` value: `"2100.00"`, an integer, or
/// `{ amount = "1.00", override = true }`. Returns the amount and whether it is a deliberate
/// override.
fn threshold_value(year: i32, value: &toml::Value) -> Result<(Decimal, bool)> {
    let amount = |v: &toml::Value| match v {
        toml::Value::String(s) => Decimal::from_str(s.trim()).ok(),
        toml::Value::Integer(i) => Some(Decimal::from(*i)),
        _ => None,
    };
    let hint = || {
        format!(
            "[thresholds.nec] {year}: write the amount as a string, e.g. {year} = \"2100.00\" (or, \
             to change a built-in IRS year deliberately, {year} = {{ amount = \"2100.00\", \
             override = true }})"
        )
    };
    match value {
        toml::Value::Table(t) => {
            if let Some(k) = t
                .keys()
                .find(|k| !matches!(k.as_str(), "amount" | "override"))
            {
                bail!(
                    "[thresholds.nec] {year}: unknown key {k:?}; the keys are \"amount\" and \
                     \"override\""
                );
            }
            let a = t.get("amount").and_then(amount).with_context(hint)?;
            let deliberate = match t.get("override") {
                None => false,
                Some(toml::Value::Boolean(b)) => *b,
                Some(_) => bail!("[thresholds.nec] {year}: override must be true or false"),
            };
            Ok((a, deliberate))
        }
        v => Ok((amount(v).with_context(hint)?, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn configured_year_and_prefixes() {
        let s = parse("[thresholds.nec]\n2027 = \"2100.00\"\n[tin]\nextra_ein_prefixes = [7]\n")
            .unwrap();
        assert_eq!(s.thresholds.nec(2027).unwrap(), dec!(2100.00));
        assert_eq!(s.thresholds.nec(2025).unwrap(), dec!(600.00));
        assert!(
            parse("[thresholds.nec]\n2027 = 2100.5\n").is_err(),
            "floats refused: write a string"
        );
        assert!(parse("[tin]\nunknown_ein_prefix = \"maybe\"\n").is_err());
        assert!(parse("[nope]\n").is_err());
        assert!(!s.thresholds.is_overridden(2025));
    }

    #[test]
    fn built_in_year_refused_unless_deliberate() {
        let err = parse("[thresholds.nec]\n2025 = \"1\"\n").unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("[thresholds.nec] 2025"), "{msg}");
        assert!(msg.contains("set by the IRS"), "{msg}");
        assert!(
            msg.contains("2025 = { amount = \"1.00\", override = true }"),
            "the way out is shown: {msg}"
        );
        assert!(parse("[thresholds.nec]\n2026 = 600\n").is_err());
        assert!(
            parse("[thresholds.nec]\n2025 = { amount = \"1.00\", override = false }\n").is_err()
        );
        assert!(parse("[thresholds.nec]\n2025 = { amount = \"1.00\" }\n").is_err());

        let s = parse("[thresholds.nec]\n2025 = { amount = \"1.00\", override = true }\n").unwrap();
        assert_eq!(s.thresholds.nec(2025).unwrap(), dec!(1.00));
        assert!(s.thresholds.is_overridden(2025));
        assert!(!s.thresholds.is_overridden(2026));
        let o = s.thresholds.override_for(2025).unwrap();
        assert_eq!(o.built_in, dec!(600.00));

        // Restating the IRS amount is fine; later years as tables too.
        let s =
            parse("[thresholds.nec]\n2026 = \"2000.00\"\n2028 = { amount = \"2200\" }\n").unwrap();
        assert_eq!(s.thresholds.nec(2028).unwrap(), dec!(2200.00));
        assert!(!s.thresholds.is_overridden(2026));

        // Nothing to override in a year that is not built in; unknown keys; bad values.
        let err =
            parse("[thresholds.nec]\n2027 = { amount = \"2100\", override = true }\n").unwrap_err();
        assert!(format!("{err:#}").contains("no IRS threshold to override"));
        assert!(parse("[thresholds.nec]\n2025 = { amount = \"1\", overide = true }\n").is_err());
        assert!(parse("[thresholds.nec]\n2025 = { amount = 1.5, override = true }\n").is_err());
        assert!(
            parse("[thresholds.nec]\n2025 = { amount = \"1\", override = \"yes\" }\n").is_err()
        );
        assert!(parse("[thresholds.nec]\n2027 = { override = true }\n").is_err());
    }

    #[test]
    fn alerts_section_and_environment() {
        let mut s = parse(
            "[alerts]\nschedule = \"0 7 * * 1-5\"\ntz = \"America/New_York\"\napproach = \"75%\"\n\
             states = [\"crossed\", \"w8_missing\"]\n",
        )
        .unwrap();
        assert_eq!(s.alerts.schedule.as_deref(), Some("0 7 * * 1-5"));
        assert_eq!(s.alerts.hold_older_than_days, 14);
        alerts_env_overrides(&mut s.alerts, |k| {
            (k == "MASSPAY_TAX_ALERTS_SCHEDULE").then(|| "*/5 * * * *".to_string())
        });
        assert_eq!(s.alerts.schedule.as_deref(), Some("*/5 * * * *"));
        assert_eq!(s.alerts.tz.as_deref(), Some("America/New_York"));
        assert!(parse("[alerts]\nstates = [\"late\"]\n").is_err());
        assert!(parse("[alerts]\ntin_statuses = [\"lost\"]\n").is_err());
        let s = parse("[alerts]\ntin_statuses = [\"missing\", \"no_match\"]\n").unwrap();
        assert_eq!(
            s.alerts.tin_statuses,
            Some(vec!["missing".to_string(), "no_match".to_string()])
        );
        assert!(parse("[alerts]\napproach = \"150%\"\n").is_err());
        assert!(parse("[alerts]\nschedle = \"x\"\n").is_err());
    }

    #[test]
    fn foreign_section() {
        let s = parse("").unwrap();
        assert_eq!(s.foreign, ForeignSettings::default());
        assert_eq!(s.foreign.services_performed, None);
        let s = parse(
            "[foreign]\nservices_performed = \"outside_us\"\nreport_foreign_source = true\n\
             default_income_code = 23\nch4_exemption_code_services = \"16\"\n",
        )
        .unwrap();
        assert_eq!(
            s.foreign.services_performed,
            Some(ServicesPerformed::OutsideUs)
        );
        assert!(s.foreign.report_foreign_source);
        assert_eq!(s.foreign.default_income_code, "23");
        assert_eq!(s.foreign.ch4_exemption_code_services, "16");
        assert!(s.foreign.ch4_exemption_code_services_set);
        // Not set: the data file's defaults (templates/1042s/codes.csv), marked as such.
        assert_eq!(s.foreign.ch4_exemption_code_other, "15");
        assert!(!s.foreign.ch4_exemption_code_other_set);
        assert_eq!(ForeignSettings::default().ch4_exemption_code_services, "15");
        // A code that is not on the chapter 4 exemption list is refused, naming the key.
        let e = parse("[foreign]\nch4_exemption_code_other = \"99\"\n").unwrap_err();
        assert!(
            format!("{e:#}").contains("ch4_exemption_code_other"),
            "{e:#}"
        );
        let s = parse("[foreign]\nch4_exemption_code_other = 21\n").unwrap();
        assert_eq!(s.foreign.ch4_exemption_code_other, "21");
        assert!(parse("[foreign]\nservices_performed = \"mars\"\n").is_err());
        assert!(parse("[foreign]\ndefault_income_code = 170\n").is_err());
        assert!(parse("[foreign]\nnope = 1\n").is_err());
    }

    #[test]
    fn payer_from_file_and_environment() {
        let mut s = parse(
            "[payer]\nname = \"Acme Inc\"\ntin = \"12-3456789\"\naddress1 = \"1 Main St\"\n\
             city = \"Boston\"\nstate = \"MA\"\nzip = \"02108\"\n",
        )
        .unwrap();
        assert!(
            s.payer()
                .unwrap_err()
                .to_string()
                .contains("phone is missing")
        );
        payer_env_overrides(&mut s.payer, |k| {
            (k == "MASSPAY_TAX_PAYER_PHONE").then(|| "617-555-0100".to_string())
        });
        let p = s.payer().unwrap();
        assert_eq!(p.phone, "617-555-0100");
        assert!(parse("[payer]\nnmae = \"x\"\n").is_err());
    }
}
