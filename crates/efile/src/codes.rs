//! Code tables as data: the IRS country codes (`templates/iris/country-codes.txt`, FIPS-based,
//! not ISO) and the TIN-type values (`templates/iris/tin-types.txt`).

use masspay_tax_rules::tin::TinType;
use std::collections::HashMap;
use std::sync::OnceLock;

pub const COUNTRY_DATA: &str = include_str!("../../../templates/iris/country-codes.txt");
pub const TIN_TYPE_DATA: &str = include_str!("../../../templates/iris/tin-types.txt");

/// One country of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    pub iso2: String,
    pub iso3: String,
    /// The IRS's own code.
    pub irs: String,
    pub name: String,
}

fn data_lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = l.trim();
        (!l.is_empty() && !l.starts_with('#'))
            .then(|| (i + 1, l.split('|').map(str::trim).collect()))
    })
}

/// Parses the country table; a bad line is named.
pub fn parse_countries(text: &str) -> Result<Vec<Country>, String> {
    let mut out = Vec::new();
    for (n, f) in data_lines(text) {
        let ok = |s: &str, len: usize| s.len() == len && s.chars().all(|c| c.is_ascii_uppercase());
        match f.as_slice() {
            [a2, a3, irs, name] if ok(a2, 2) && ok(a3, 3) && ok(irs, 2) && !name.is_empty() => out
                .push(Country {
                    iso2: a2.to_string(),
                    iso3: a3.to_string(),
                    irs: irs.to_string(),
                    name: name.to_string(),
                }),
            _ => {
                return Err(format!(
                    "country-codes line {n}: expected ISO2|ISO3|IRS|name"
                ));
            }
        }
    }
    Ok(out)
}

struct CountryIndex {
    by_iso2: HashMap<String, usize>,
    by_iso3: HashMap<String, usize>,
    all: Vec<Country>,
}

fn countries() -> &'static CountryIndex {
    static C: OnceLock<CountryIndex> = OnceLock::new();
    C.get_or_init(|| {
        // Checked by a unit test; never a panic at run time.
        let all = parse_countries(COUNTRY_DATA).unwrap_or_default();
        CountryIndex {
            by_iso2: all
                .iter()
                .enumerate()
                .map(|(i, c)| (c.iso2.clone(), i))
                .collect(),
            by_iso3: all
                .iter()
                .enumerate()
                .map(|(i, c)| (c.iso3.clone(), i))
                .collect(),
            all,
        }
    })
}

/// The IRS country for a country as MassPay or a W-9 gives it: ISO alpha-3 (`DEU`), ISO
/// alpha-2 (`DE`), or the English name (`Germany`). `None` when it is not in the table.
pub fn irs_country(code: &str) -> Option<&'static Country> {
    let c = countries();
    let key = code.trim().to_ascii_uppercase();
    let i = match key.len() {
        2 => c.by_iso2.get(&key),
        3 => c.by_iso3.get(&key),
        _ => None,
    };
    i.map(|&i| &c.all[i]).or_else(|| {
        let k = key.replace(['.', ','], "");
        c.all.iter().find(|x| {
            x.name.to_ascii_uppercase() == k || (k == "UNITED STATES OF AMERICA" && x.iso2 == "US")
        })
    })
}

/// The IRIS TIN-type value for a kind of TIN, from the data (`None` for an unknown type).
pub fn iris_tin_type(t: TinType) -> Option<&'static str> {
    static T: OnceLock<Vec<(String, String, bool)>> = OnceLock::new();
    let table = T.get_or_init(|| parse_tin_types(TIN_TYPE_DATA).unwrap_or_default());
    table
        .iter()
        .find(|(k, _, _)| k == t.as_str())
        .map(|(_, v, _)| v.as_str())
}

/// Parses the TIN-type table: `(masspay-tax type, IRIS value, verified)`.
pub fn parse_tin_types(text: &str) -> Result<Vec<(String, String, bool)>, String> {
    let mut out = Vec::new();
    for (n, f) in data_lines(text) {
        match f.as_slice() {
            [k, v, status]
                if k.parse::<TinType>().is_ok()
                    && !v.is_empty()
                    && matches!(*status, "confirmed" | "VERIFY") =>
            {
                out.push((k.to_string(), v.to_string(), *status == "confirmed"))
            }
            _ => {
                return Err(format!(
                    "tin-types line {n}: expected TYPE|VALUE|confirmed or VERIFY"
                ));
            }
        }
    }
    Ok(out)
}

/// USPS state and territory codes (with the military APO/FPO codes) IRIS takes for a US address.
pub const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI", "UM", "FM", "MH", "PW", "AA", "AE", "AP",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_parse() {
        let c = parse_countries(COUNTRY_DATA).unwrap();
        assert!(c.len() > 240, "{}", c.len());
        let mut iso2: Vec<&str> = c.iter().map(|x| x.iso2.as_str()).collect();
        iso2.sort();
        iso2.dedup();
        assert_eq!(iso2.len(), c.len(), "each ISO code once");
        let mut irs: Vec<&str> = c.iter().map(|x| x.irs.as_str()).collect();
        irs.sort();
        irs.dedup();
        assert_eq!(irs.len(), c.len(), "each IRS code once");
        assert_eq!(parse_tin_types(TIN_TYPE_DATA).unwrap().len(), 4);
        assert!(parse_countries("DE|DEU|GM").is_err());
    }

    #[test]
    fn iso_to_irs() {
        for (given, irs) in [
            ("USA", "US"),
            ("us", "US"),
            ("DEU", "GM"),
            ("DE", "GM"),
            ("GBR", "UK"),
            ("JPN", "JA"),
            ("CHE", "SZ"),
            ("AUS", "AS"),
            ("AUT", "AU"),
            ("MEX", "MX"),
            ("VGB", "VI"),
            ("Germany", "GM"),
            ("United States of America", "US"),
        ] {
            assert_eq!(irs_country(given).unwrap().irs, irs, "{given}");
        }
        assert!(irs_country("ZZZ").is_none());
        assert!(irs_country("").is_none());
    }

    #[test]
    fn tin_types_from_data() {
        assert_eq!(iris_tin_type(TinType::Ssn), Some("SSN"));
        assert_eq!(iris_tin_type(TinType::Ein), Some("EIN"));
        assert_eq!(iris_tin_type(TinType::Itin), Some("SSN"));
        assert_eq!(iris_tin_type(TinType::Atin), Some("SSN"));
        assert_eq!(iris_tin_type(TinType::Unknown), None);
    }
}
