//! Form types (W-9, W-8BEN, ...) and the W-9 federal tax classification.

use std::fmt;

fn key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|c| c.is_alphanumeric()) {
        out.extend(c.to_lowercase());
    }
    out
}

/// Which IRS form the row comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FormType {
    /// W-9: a US person.
    W9,
    /// W-8BEN: a foreign individual.
    W8Ben,
    /// W-8BEN-E: a foreign entity.
    W8BenE,
    /// W-8ECI: income effectively connected with a US trade or business.
    W8Eci,
    /// W-8EXP: foreign government, international organisation, ...
    W8Exp,
    /// W-8IMY: intermediary or flow-through entity.
    W8Imy,
    /// Another W-8 variant, as written (e.g. `W-8CE`).
    Other(String),
}

impl FormType {
    /// `"W-9"`, `"W-8BEN"`, `"W-8BEN-E"`, `"W-8ECI"`, `"W-8EXP"`, `"W-8IMY"`, or the text of
    /// [`FormType::Other`].
    pub fn as_str(&self) -> &str {
        match self {
            FormType::W9 => "W-9",
            FormType::W8Ben => "W-8BEN",
            FormType::W8BenE => "W-8BEN-E",
            FormType::W8Eci => "W-8ECI",
            FormType::W8Exp => "W-8EXP",
            FormType::W8Imy => "W-8IMY",
            FormType::Other(s) => s,
        }
    }

    /// Any W-8.
    pub fn is_w8(&self) -> bool {
        !matches!(self, FormType::W9)
    }

    /// Reads a form name: `W-9`, `W9`, `Form W-9`, `w-8ben-e`, ... Any other `W-8...` text
    /// becomes [`FormType::Other`] (upper-cased); anything else is `None`.
    pub fn parse(text: &str) -> Option<FormType> {
        let k = key(text);
        let k = k.strip_prefix("form").unwrap_or(&k);
        let k = k.strip_prefix("irs").unwrap_or(k);
        let k = k.strip_prefix("form").unwrap_or(k);
        Some(match k {
            "w9" => FormType::W9,
            "w8ben" => FormType::W8Ben,
            "w8bene" => FormType::W8BenE,
            "w8eci" => FormType::W8Eci,
            "w8exp" => FormType::W8Exp,
            "w8imy" => FormType::W8Imy,
            // Form 8233: an NRA individual's treaty claim on pay for services performed in the
            // US (a foreign person's certificate, like a W-8).
            "8233" | "f8233" => FormType::Other("8233".into()),
            _ if k.starts_with("w8") && k.len() <= 12 => {
                FormType::Other(text.trim().to_uppercase())
            }
            _ => return None,
        })
    }
}

impl fmt::Display for FormType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an LLC is taxed (W-9 line 3a: C = C corporation, S = S corporation, P = partnership).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LlcTaxClass {
    /// Taxed as a C corporation.
    C,
    /// Taxed as an S corporation.
    S,
    /// Taxed as a partnership.
    P,
}

/// W-9 line 3a, federal tax classification.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EntityType {
    /// Individual / sole proprietor (or single-member LLC disregarded into one).
    Individual,
    /// C corporation.
    CCorporation,
    /// S corporation.
    SCorporation,
    /// Partnership.
    Partnership,
    /// Trust / estate.
    TrustEstate,
    /// Limited liability company; `None` when the tax classification letter is missing.
    Llc(Option<LlcTaxClass>),
    /// "Other (see instructions)", with the text written beside it.
    Other(String),
}

impl EntityType {
    /// Stable code: `individual`, `c_corporation`, `s_corporation`, `partnership`,
    /// `trust_estate`, `llc`, `llc_c`, `llc_s`, `llc_p`, or `other: TEXT`.
    pub fn code(&self) -> String {
        match self {
            EntityType::Individual => "individual".into(),
            EntityType::CCorporation => "c_corporation".into(),
            EntityType::SCorporation => "s_corporation".into(),
            EntityType::Partnership => "partnership".into(),
            EntityType::TrustEstate => "trust_estate".into(),
            EntityType::Llc(None) => "llc".into(),
            EntityType::Llc(Some(LlcTaxClass::C)) => "llc_c".into(),
            EntityType::Llc(Some(LlcTaxClass::S)) => "llc_s".into(),
            EntityType::Llc(Some(LlcTaxClass::P)) => "llc_p".into(),
            EntityType::Other(t) if t.is_empty() => "other".into(),
            EntityType::Other(t) => format!("other: {t}"),
        }
    }

    /// The inverse of [`EntityType::code`] (what the store keeps).
    pub fn from_code(code: &str) -> Option<EntityType> {
        Some(match code.trim() {
            "individual" => EntityType::Individual,
            "c_corporation" => EntityType::CCorporation,
            "s_corporation" => EntityType::SCorporation,
            "partnership" => EntityType::Partnership,
            "trust_estate" => EntityType::TrustEstate,
            "llc" => EntityType::Llc(None),
            "llc_c" => EntityType::Llc(Some(LlcTaxClass::C)),
            "llc_s" => EntityType::Llc(Some(LlcTaxClass::S)),
            "llc_p" => EntityType::Llc(Some(LlcTaxClass::P)),
            "other" => EntityType::Other(String::new()),
            c => EntityType::Other(c.strip_prefix("other: ")?.to_string()),
        })
    }

    /// Whether the payee is a corporation for 1099 purposes (C or S corporation, or an LLC
    /// taxed as one): payments to them are generally not reportable on 1099-NEC.
    pub fn is_corporation(&self) -> bool {
        matches!(
            self,
            EntityType::CCorporation
                | EntityType::SCorporation
                | EntityType::Llc(Some(LlcTaxClass::C | LlcTaxClass::S))
        )
    }

    /// Whether the classification is an entity that should have an EIN rather than an SSN.
    pub fn expects_ein(&self) -> bool {
        matches!(
            self,
            EntityType::CCorporation
                | EntityType::SCorporation
                | EntityType::Partnership
                | EntityType::TrustEstate
                | EntityType::Llc(Some(_))
        )
    }

    /// Reads the W-9 wording and common shorthands: "Individual/sole proprietor", "Sole prop",
    /// "C Corporation", "C corp", "S-Corp", "Partnership", "Trust/estate", "LLC", "LLC (C)",
    /// "LLC - S", "LLC taxed as a partnership", "Limited liability company (P)", "Other: ...".
    pub fn parse(text: &str) -> Option<EntityType> {
        let k = key(text);
        let simple = match k.as_str() {
            "individual"
            | "individualsoleproprietor"
            | "soleproprietor"
            | "soleproprietorship"
            | "soleprop"
            | "individualsoleproprietororsinglememberllc"
            | "sole" => Some(EntityType::Individual),
            "ccorporation" | "ccorp" => Some(EntityType::CCorporation),
            "scorporation" | "scorp" => Some(EntityType::SCorporation),
            "partnership" => Some(EntityType::Partnership),
            "trustestate" | "trust" | "estate" | "trustorestate" => Some(EntityType::TrustEstate),
            _ => None,
        };
        if simple.is_some() {
            return simple;
        }
        let llc_rest = k
            .strip_prefix("limitedliabilitycompany")
            .or_else(|| k.strip_prefix("llc"));
        if let Some(rest) = llc_rest {
            let rest = rest
                .strip_prefix("taxedasan")
                .or_else(|| rest.strip_prefix("taxedasa"))
                .or_else(|| rest.strip_prefix("taxedas"))
                .unwrap_or(rest);
            return match rest {
                "" => Some(EntityType::Llc(None)),
                "c" | "ccorp" | "ccorporation" => Some(EntityType::Llc(Some(LlcTaxClass::C))),
                "s" | "scorp" | "scorporation" => Some(EntityType::Llc(Some(LlcTaxClass::S))),
                "p" | "partnership" => Some(EntityType::Llc(Some(LlcTaxClass::P))),
                _ => None,
            };
        }
        if k.starts_with("other") {
            // Strip the word "other" and what separates it from the description.
            let t = text.trim_start_matches(|c: char| !c.is_alphanumeric());
            let rest: String = t.chars().skip(5).collect();
            let rest = rest.trim_start_matches(|c: char| {
                c.is_whitespace() || matches!(c, ':' | '-' | '(' | ')' | '–' | ',')
            });
            let rest = rest.trim_end_matches(')').trim();
            return Some(EntityType::Other(rest.chars().take(100).collect()));
        }
        None
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        for (s, f) in [
            ("W-9", FormType::W9),
            ("w9", FormType::W9),
            ("Form W-9", FormType::W9),
            ("IRS Form W-9", FormType::W9),
            ("W-8BEN", FormType::W8Ben),
            ("W-8 BEN", FormType::W8Ben),
            ("W-8BEN-E", FormType::W8BenE),
            ("w8bene", FormType::W8BenE),
            ("W-8ECI", FormType::W8Eci),
            ("W-8EXP", FormType::W8Exp),
            ("W-8IMY", FormType::W8Imy),
            ("w-8ce", FormType::Other("W-8CE".into())),
        ] {
            assert_eq!(FormType::parse(s), Some(f), "{s}");
        }
        assert_eq!(FormType::parse("1099"), None);
        assert_eq!(FormType::parse(""), None);
        assert_eq!(FormType::W8BenE.to_string(), "W-8BEN-E");
    }

    #[test]
    fn entities() {
        use EntityType::*;
        for (s, e) in [
            ("Individual/sole proprietor", Individual),
            (
                "Individual/sole proprietor or single-member LLC",
                Individual,
            ),
            ("sole prop", Individual),
            ("C Corporation", CCorporation),
            ("C-Corp", CCorporation),
            ("S corporation", SCorporation),
            ("Partnership", Partnership),
            ("Trust/estate", TrustEstate),
            ("LLC", Llc(None)),
            ("LLC (C)", Llc(Some(LlcTaxClass::C))),
            ("LLC - S", Llc(Some(LlcTaxClass::S))),
            ("LLC-P", Llc(Some(LlcTaxClass::P))),
            ("LLC taxed as a partnership", Llc(Some(LlcTaxClass::P))),
            ("Limited liability company (C)", Llc(Some(LlcTaxClass::C))),
            ("Other: nonprofit", Other("nonprofit".into())),
            ("Other (cooperative)", Other("cooperative".into())),
            ("other", Other(String::new())),
        ] {
            assert_eq!(EntityType::parse(s), Some(e), "{s}");
        }
        assert_eq!(EntityType::parse("corporation"), None);
        assert_eq!(EntityType::parse("LLC (X)"), None);
        assert_eq!(EntityType::parse("foo"), None);
        assert_eq!(Llc(Some(LlcTaxClass::P)).code(), "llc_p");
        assert_eq!(Other("co-op".into()).code(), "other: co-op");
        assert!(Llc(Some(LlcTaxClass::S)).is_corporation());
        assert!(!Partnership.is_corporation());
    }
}
