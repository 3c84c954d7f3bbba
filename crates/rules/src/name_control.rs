//! The IRS name control: up to four characters derived from the payee's name, which the IRS
//! matches with the TIN (Pub 1220 record B positions 7-10; irs-rules.md §5.4).
//!
//! * Individuals: the first four letters/digits of the **surname**; for a hyphenated surname the
//!   first of the two ("Cedar-Hawthorn" → `CEDA`); blanks, apostrophes and other punctuation
//!   inside the surname are skipped ("O'Neil" → `ONEI`, "De La Cruz" → `DELA`); a trailing
//!   suffix word (Jr, Sr, II, III, ...) is dropped. A sole proprietor always uses the surname.
//! * Businesses: the first four significant characters of the legal name; only `&` and `-` are
//!   kept besides letters and digits, never in first place; spaces are skipped ("Joe Doe
//!   Trucking" → `JOED`); a leading "The" is dropped unless only one word follows ("The Willow
//!   Co." → `WILL`, "The Hawthorn" → `THEH`); anything from "dba" / "d/b/a" on is cut.
//!
//! Accented Latin letters are folded to ASCII with a small built-in table ([`fold_char`]);
//! other non-ASCII characters are dropped. Results are upper case and may be shorter than four
//! characters (a fixed-width file pads them with blanks).

/// The ASCII spelling of a common accented or special Latin letter (`é` → `e`, `Æ` → `AE`,
/// `ß` → `ss`), or `None` if the character is not in the table. ASCII is not in the table.
pub fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' => "A",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'Æ' => "AE",
        'æ' => "ae",
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "C",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'Ð' | 'Ď' | 'Đ' => "D",
        'ð' | 'ď' | 'đ' => "d",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => "E",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => "G",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'Ĥ' | 'Ħ' => "H",
        'ĥ' | 'ħ' => "h",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => "I",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'Ĵ' => "J",
        'ĵ' => "j",
        'Ķ' => "K",
        'ķ' => "k",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => "L",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' => "N",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ŏ' | 'Ő' => "O",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'Œ' => "OE",
        'œ' => "oe",
        'Ŕ' | 'Ŗ' | 'Ř' => "R",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' | 'Ș' => "S",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'Ţ' | 'Ť' | 'Ŧ' | 'Ț' => "T",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'Þ' => "TH",
        'þ' => "th",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'Ŵ' => "W",
        'ŵ' => "w",
        'Ý' | 'Ÿ' | 'Ŷ' => "Y",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

/// `s` with accented Latin letters folded to ASCII ([`fold_char`]). ASCII passes through;
/// non-ASCII whitespace becomes a blank; other non-ASCII characters are dropped.
pub fn fold_to_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if let Some(f) = fold_char(c) {
            out.push_str(f);
        } else if c.is_whitespace() {
            out.push(' ');
        }
    }
    out
}

/// Suffix words dropped from the end of a surname ("Smith Jr." → SMIT, "Li III" → LI).
const SUFFIXES: &[&str] = &[
    "JR", "SR", "II", "III", "IV", "ESQ", "MD", "PHD", "DDS", "CPA", "DVM",
];

/// Upper-case ASCII letters and digits of `word`, folded.
fn alnum_upper(word: &str) -> String {
    fold_to_ascii(word)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The name control of an individual from the surname.
///
/// First four letters/digits of the first surname of a hyphenated name, ignoring blanks and
/// punctuation inside it and a trailing suffix word; upper case; may be shorter than four; empty
/// if the surname has no letters or digits.
pub fn individual(last_name: &str) -> String {
    let folded = fold_to_ascii(last_name);
    // The first surname of a hyphenated name. Leading hyphens/blanks are not part of it.
    let trimmed = folded.trim_start_matches(|c: char| c == '-' || c.is_whitespace());
    let first = trimmed.split('-').next().unwrap_or("");
    let mut words: Vec<&str> = first.split_whitespace().collect();
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| SUFFIXES.contains(&alnum_upper(w).as_str()))
    {
        words.pop();
    }
    words
        .iter()
        .flat_map(|w| w.chars())
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .take(4)
        .collect()
}

/// Whether a word (of a business name) is "dba" in any spelling: `dba`, `d/b/a`, `d.b.a.`.
fn is_dba(word: &str) -> bool {
    let key: String = word
        .chars()
        .filter(|c| !matches!(c, '.' | '/' | ',' | ':' | '(' | ')'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    key == "dba"
}

/// The name control of a business from its legal name.
///
/// Cuts the name at a "dba" word, drops a leading "The" unless only one word follows, then takes
/// the first four letters, digits, `&` or `-` (skipping spaces and other punctuation; `&`/`-`
/// never first), upper case.
pub fn business(name: &str) -> String {
    let folded = fold_to_ascii(name);
    let mut words: Vec<&str> = folded
        .split_whitespace()
        .take_while(|w| !is_dba(w))
        .collect();
    if words.len() > 2 && alnum_upper(words[0]) == "THE" {
        words.remove(0);
    }
    let mut out = String::with_capacity(4);
    for c in words.iter().flat_map(|w| w.chars()) {
        if out.len() == 4 {
            break;
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else if (c == '&' || c == '-') && !out.is_empty() {
            out.push(c);
        }
    }
    out
}

/// The name control for a payee record.
///
/// A business (`is_business` with a non-blank business name) uses [`business`]. Everyone else,
/// sole proprietors included, uses [`individual`] on the surname; if the surname is blank, the
/// last word of `first` is taken as the surname (a full name typed into one field).
pub fn for_payee(
    first: &str,
    last: &str,
    business_name: Option<&str>,
    is_business: bool,
) -> String {
    if is_business && let Some(b) = business_name.filter(|b| !b.trim().is_empty()) {
        return business(b);
    }
    if !last.trim().is_empty() {
        return individual(last);
    }
    let mut words: Vec<&str> = first.split_whitespace().collect();
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| SUFFIXES.contains(&alnum_upper(w).as_str()))
    {
        words.pop();
    }
    individual(words.last().copied().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn individuals() {
        for (name, last, want) in [
            ("plain", "Teak", "TEAK"),
            ("longer", "Willow", "WILL"),
            ("mixed case", "McCedar", "MCCE"),
            ("short is fine", "Ng", "NG"),
            ("three letters", "Lee", "LEE"),
            ("hyphenated: first surname", "Cedar-Hawthorn", "CEDA"),
            ("hyphenated, short first", "Ng-Lee", "NG"),
            ("windsor-maple", "Windsor-Maple", "WIND"),
            ("spaces inside", "De La Cruz", "DELA"),
            ("apostrophe", "O'Neil", "ONEI"),
            ("leading hyphen never first", "-Smith", "SMIT"),
            ("suffix dropped", "Li Jr.", "LI"),
            ("suffix III", "Ng III", "NG"),
            ("digits allowed", "Smith3", "SMIT"),
            ("accents folded", "Núñez", "NUNE"),
            ("o-slash", "Ølsen", "OLSE"),
            ("german sharp s", "Strauß", "STRA"),
            ("non-latin dropped", "王Wang", "WANG"),
            ("blank", "  ", ""),
            ("surrounding blanks", "  brown ", "BROW"),
        ] {
            assert_eq!(individual(last), want, "{name}");
        }
    }

    #[test]
    fn businesses() {
        for (name, legal, want) in [
            ("spaces dropped", "Joe Doe Trucking", "JOED"),
            ("the + two words dropped", "The Willow Co.", "WILL"),
            ("the + one word kept", "The Hawthorn", "THEH"),
            ("the, lower case", "the willow company inc", "WILL"),
            ("theater is not the", "Theater Arts Group", "THEA"),
            ("ampersand kept", "A & B Plumbing", "A&BP"),
            ("hyphen kept", "X-Ray Labs", "X-RA"),
            ("ampersand never first", "& Co Partners", "COPA"),
            ("hyphen never first", "-Acme", "ACME"),
            ("dba cut", "Acme dba Rocket Co", "ACME"),
            ("d/b/a cut", "Bo d/b/a Fast Food", "BO"),
            ("DBA upper", "Zed Holdings LLC DBA Zed's", "ZEDH"),
            ("d.b.a. cut", "Ox d.b.a. Oxen", "OX"),
            (
                "the + one word before dba",
                "The Hawthorn dba Hawthorn Tea",
                "THEH",
            ),
            ("punctuation dropped", "O'Malley, Inc.", "OMAL"),
            ("digits", "1st Choice Movers", "1STC"),
            ("accents", "Café Olé LLC", "CAFE"),
            ("empty", "", ""),
        ] {
            assert_eq!(business(legal), want, "{name}");
        }
    }

    #[test]
    fn payees() {
        // Sole proprietor: the surname, not the business name.
        assert_eq!(
            for_payee("Mark", "Hemlock", Some("The Sunshine Café"), false),
            "HEML"
        );
        assert_eq!(for_payee("", "", Some("The Sunshine Café"), true), "SUNS");
        assert_eq!(for_payee("José", "Núñez", None, false), "NUNE");
        assert_eq!(for_payee("Ana Maria Lopez", "", None, false), "LOPE");
        assert_eq!(for_payee("Ana Lopez Jr", "", None, false), "LOPE");
        // Business flag with no business name falls back to the person.
        assert_eq!(for_payee("Jo", "Ash", Some("  "), true), "ASH");
    }

    #[test]
    fn folding() {
        assert_eq!(fold_to_ascii("José Núñez"), "Jose Nunez");
        assert_eq!(fold_to_ascii("Æsir Straße"), "AEsir Strasse");
        assert_eq!(fold_to_ascii("a\u{a0}b"), "a b");
        assert_eq!(fold_to_ascii("日本 Ltd"), " Ltd");
        assert_eq!(fold_char('x'), None);
    }
}
