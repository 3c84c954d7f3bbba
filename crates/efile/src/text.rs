//! Text as IRIS takes it: accents folded to ASCII, the characters a field does not allow removed
//! or turned into blanks, blanks collapsed. Never shortened: a length check is the caller's
//! (and an over-length value is reported, not cut).

use unicode_normalization::UnicodeNormalization;

/// The character set of a field (iris.md §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Person name parts: letters, hyphen, blank.
    Person,
    /// Business name lines: letters, digits, blank, `# - ( ) & '`.
    Business,
    /// Street address: letters, digits, blank, `/ -`.
    Street,
    /// City, foreign province: letters and blanks.
    City,
}

fn special(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'Æ' => "AE",
        'æ' => "ae",
        'Ø' => "O",
        'ø' => "o",
        'Ł' => "L",
        'ł' => "l",
        'Đ' | 'Ð' => "D",
        'đ' | 'ð' => "d",
        'Þ' => "TH",
        'þ' => "th",
        'Œ' => "OE",
        'œ' => "oe",
        'ı' => "i",
        'Ħ' => "H",
        'ħ' => "h",
        _ => return None,
    })
}

/// ASCII only: accents folded (`Zoë Ångström` → `Zoe Angstrom`), compatibility forms
/// decomposed, whitespace and control characters made blanks, anything else dropped.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if let Some(r) = special(c) {
            out.push_str(r);
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            out.push(' ');
            continue;
        }
        for d in std::iter::once(c).nfkd() {
            if d.is_ascii() {
                out.push(d);
            } else if let Some(r) = special(d) {
                out.push_str(r);
            }
            // combining marks and letters with no ASCII spelling are dropped
        }
    }
    out
}

/// The value of a field in its character set: folded, disallowed characters removed (`.` and
/// `'` where not allowed, so `O'Neil` → `ONeil`, `St.` → `St`) or made blanks (other
/// punctuation), blanks collapsed, leading non-alphanumerics dropped.
pub fn clean(kind: Kind, s: &str) -> String {
    let folded = fold(s);
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        let keep = c.is_ascii_alphabetic()
            || c == ' '
            || match kind {
                Kind::Person => c == '-',
                Kind::Business => c.is_ascii_digit() || "#-()&'".contains(c),
                Kind::Street => c.is_ascii_digit() || "/-".contains(c),
                Kind::City => false,
            };
        if keep {
            out.push(c);
        } else if c != '.' && c != '\'' && c != ',' && c != '#' {
            out.push(' ');
        }
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// Digits only.
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_fold_and_others_drop() {
        assert_eq!(fold("Zoë Ångström"), "Zoe Angstrom");
        assert_eq!(fold("José Núñez-Ibáñez"), "Jose Nunez-Ibanez");
        assert_eq!(fold("Straße Øster Łódź"), "Strasse Oster Lodz");
        assert_eq!(fold("芳 王"), " ");
        assert_eq!(fold("ｆｕｌｌ"), "full");
        assert_eq!(fold("a\tb\rc"), "a b c");
    }

    #[test]
    fn each_kind_keeps_its_characters() {
        assert_eq!(clean(Kind::Person, "O'Neil"), "ONeil");
        assert_eq!(
            clean(Kind::Person, "Mary-Kate  Smith Jr."),
            "Mary-Kate Smith Jr"
        );
        assert_eq!(clean(Kind::Person, "=HYPERLINK(\"x\")"), "HYPERLINK x");
        assert_eq!(
            clean(Kind::Business, "Acme, Inc. (US) & Co #1"),
            "Acme Inc (US) & Co #1"
        );
        assert_eq!(clean(Kind::Business, "-2+3"), "2 3");
        assert_eq!(clean(Kind::Business, "@SUM(A1)"), "SUM(A1)");
        assert_eq!(
            clean(Kind::Street, "77 Peachtree Pl. NE, Apt #12"),
            "77 Peachtree Pl NE Apt 12"
        );
        assert_eq!(
            clean(Kind::Street, "41-60 Main St 1/2"),
            "41-60 Main St 1/2"
        );
        assert_eq!(clean(Kind::City, "Winston-Salem"), "Winston Salem");
        assert_eq!(clean(Kind::City, "St. Louis"), "St Louis");
        assert_eq!(clean(Kind::City, "Coeur d'Alene"), "Coeur dAlene");
        assert_eq!(clean(Kind::Person, "芳"), "");
        assert_eq!(digits("(617) 555-0100"), "6175550100");
    }
}
