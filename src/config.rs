//! Settings that are data, not code: thresholds for years the IRS has not published into this
//! version, and TIN rule adjustments (new EIN prefixes). Read from `masspay-tax.toml` in the
//! current directory, or the file named by `--config` / `MASSPAY_TAX_CONFIG`.
//!
//! ```toml
//! [thresholds.nec]
//! 2027 = "2100.00"
//!
//! [tin]
//! extra_ein_prefixes = [7]          # the IRS started assigning 07
//! unknown_ein_prefix = "warn"       # or "reject"
//! ```

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
    /// `[documents]`: fallback font and layout folder.
    pub documents: DocumentsSettings,
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
        let amount = match &value {
            toml::Value::String(s) => Decimal::from_str(s.trim()).ok(),
            toml::Value::Integer(i) => Some(Decimal::from(*i)),
            _ => None,
        }
        .with_context(|| {
            format!("[thresholds.nec] {y}: write the amount as a string, e.g. \"2100.00\"")
        })?;
        thresholds = thresholds.with_nec(y, amount)?;
    }
    let policy = match file.tin.unknown_ein_prefix.as_deref().map(str::trim) {
        None | Some("warn") => PrefixPolicy::Warn,
        Some("reject") => PrefixPolicy::Reject,
        Some(other) => {
            bail!("[tin] unknown_ein_prefix must be \"warn\" or \"reject\", not {other:?}")
        }
    };
    let tin_rules = TinRules::from_config(&file.tin.extra_ein_prefixes, policy)?;
    Ok(Settings {
        thresholds,
        tin_rules,
        payer: file.payer,
        documents: file.documents,
        source: None,
    })
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
