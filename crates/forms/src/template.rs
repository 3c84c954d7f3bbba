//! Layouts as data: page size, margins, font sizes, labels, legend text and (for tables) the
//! columns of each document live in TOML files under `templates/layouts/`. The defaults are
//! compiled in ([`Layout::embedded`]); a directory named in the settings may hold edited copies
//! (same file names), which are read instead ([`Layout::load`]).
//!
//! Format (see `templates/layouts/README.md`):
//!
//! ```toml
//! [page]
//! size = "letter"            # "letter" (default) or "a4"
//! orientation = "portrait"   # or "landscape"
//! margin = 36                # points, all four sides
//!
//! [fonts]                    # sizes in points
//! title = 14
//! body = 9
//! label = 6.5
//! min = 5                    # nothing is shrunk below this to make it fit
//!
//! [labels]                   # every text the document prints; missing keys keep the default
//! box1 = "1 Nonemployee compensation"
//!
//! [[columns]]                # tables only: left to right; width 0 takes the rest
//! key = "box1"
//! label = "box 1"
//! width = 60
//! align = "right"
//! ```
//!
//! A file that does not parse, an unknown key, label or column, or a bad value is an error that
//! names the file and the line.

use crate::doc::PT;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// Which document a layout is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Statement1099Nec,
    Statement1042S,
    /// The `report 1099 --pdf` packet.
    Packet,
    /// The `report 1042s --pdf` packet.
    Packet1042S,
}

impl Kind {
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::Statement1099Nec => "statement-1099-nec.toml",
            Kind::Statement1042S => "statement-1042-s.toml",
            Kind::Packet => "packet.toml",
            Kind::Packet1042S => "packet-1042-s.toml",
        }
    }

    /// The worksheet columns this document knows how to fill, and which of them are amounts
    /// (summed per page, carried forward and totalled on the last page). Empty for statements.
    pub fn worksheet_columns(self) -> &'static [(&'static str, bool)] {
        match self {
            Kind::Packet => &NEC_WORKSHEET_COLUMNS,
            Kind::Packet1042S => &F1042S_WORKSHEET_COLUMNS,
            Kind::Statement1099Nec | Kind::Statement1042S => &[],
        }
    }

    fn embedded_text(self) -> &'static str {
        match self {
            Kind::Statement1099Nec => {
                include_str!("../../../templates/layouts/statement-1099-nec.toml")
            }
            Kind::Statement1042S => {
                include_str!("../../../templates/layouts/statement-1042-s.toml")
            }
            Kind::Packet => include_str!("../../../templates/layouts/packet.toml"),
            Kind::Packet1042S => include_str!("../../../templates/layouts/packet-1042-s.toml"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnAlign {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Column {
    pub key: String,
    pub label: String,
    /// mpt; 0 = whatever the other columns leave.
    pub width: i64,
    pub align: ColumnAlign,
    /// An amount column: summed per page, carried forward and totalled.
    pub total: bool,
}

/// Font sizes in mpt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sizes {
    pub title: i64,
    pub heading: i64,
    pub body: i64,
    pub label: i64,
    pub small: i64,
    pub min: i64,
    pub watermark: i64,
}

/// A checked layout.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Layout {
    /// Page width and height in mpt (after orientation).
    pub width: i64,
    pub height: i64,
    pub margin: i64,
    pub sizes: Sizes,
    pub labels: BTreeMap<String, String>,
    pub columns: Vec<Column>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layout template {file} line {line}: {message}")]
pub struct LayoutError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayout {
    #[serde(default)]
    page: Option<RawPage>,
    #[serde(default)]
    fonts: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    #[serde(default)]
    labels: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    columns: Option<Vec<RawColumn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPage {
    size: Option<Spanned<String>>,
    orientation: Option<Spanned<String>>,
    margin: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    key: Spanned<String>,
    label: Option<String>,
    width: Spanned<toml::Value>,
    align: Option<Spanned<String>>,
}

const FONT_KEYS: [&str; 7] = [
    "title",
    "heading",
    "body",
    "label",
    "small",
    "min",
    "watermark",
];

/// Column keys the 1099-NEC packet's worksheet knows how to fill (`true`: an amount).
pub const NEC_WORKSHEET_COLUMNS: [(&str, bool); 11] = [
    ("user_token", false),
    ("name", false),
    ("tin_type", false),
    ("tin", false),
    ("tin_status", false),
    ("box1", true),
    ("box4", true),
    ("address", false),
    ("flags", false),
    ("email", false),
    ("name_control", false),
];

/// Column keys the 1042-S packet's worksheet knows how to fill (`true`: an amount).
pub const F1042S_WORKSHEET_COLUMNS: [(&str, bool); 20] = [
    ("user_token", false),
    ("name", false),
    ("country", false),
    ("address", false),
    ("income_code", false),
    ("us_source_percent", false),
    ("ch3_status", false),
    ("ch3_exemption", false),
    ("ch4_status", false),
    ("ch4_exemption", false),
    ("rate", false),
    ("gross_income", true),
    ("tax_withheld", true),
    ("tax_due", true),
    ("under_withheld", true),
    ("foreign_tin", false),
    ("us_tin", false),
    ("lob_code", false),
    ("form_on_file", false),
    ("issues", false),
];

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

/// Points (integer or decimal, 0..=1000) → mpt.
fn points(v: &toml::Value) -> Option<i64> {
    let f = match v {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        _ => return None,
    };
    (0.0..=1000.0)
        .contains(&f)
        .then(|| (f * PT as f64).round() as i64)
}

impl Layout {
    /// The compiled-in default for `kind`.
    pub fn embedded(kind: Kind) -> Layout {
        parse(kind.embedded_text(), kind.file_name(), None, kind)
            .expect("the embedded layout templates are valid (tested)")
    }

    /// `dir/<file name>` when `dir` is given and holds that file, else the embedded default.
    /// Labels the file leaves out keep their default text.
    pub fn load(kind: Kind, dir: Option<&Path>) -> Result<Layout, LayoutError> {
        let base = Layout::embedded(kind);
        let Some(path) = dir.map(|d| d.join(kind.file_name())).filter(|p| p.exists()) else {
            return Ok(base);
        };
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| LayoutError {
            file: name.clone(),
            line: 0,
            message: format!("cannot read it: {e}"),
        })?;
        parse(&text, &name, Some(&base), kind)
    }

    /// Parses a template's text; `base` supplies whatever it leaves out (and fixes which label
    /// keys exist).
    pub fn parse(text: &str, file: &str, kind: Kind) -> Result<Layout, LayoutError> {
        parse(text, file, Some(&Layout::embedded(kind)), kind)
    }

    /// The label for `key` (empty when unknown: the embedded templates are tested to have all
    /// the keys the code uses).
    pub fn label(&self, key: &str) -> &str {
        self.labels.get(key).map(String::as_str).unwrap_or("")
    }
}

fn parse(text: &str, file: &str, base: Option<&Layout>, kind: Kind) -> Result<Layout, LayoutError> {
    let err = |offset: usize, message: String| LayoutError {
        file: file.to_string(),
        line: line_of(text, offset),
        message,
    };
    let raw: RawLayout = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        err(offset, e.message().trim().to_string())
    })?;

    let (mut width, mut height) = base.map_or((612 * PT, 792 * PT), |b| {
        (b.width.min(b.height), b.width.max(b.height))
    });
    let mut landscape = base.is_some_and(|b| b.width > b.height);
    let mut margin = base.map_or(36 * PT, |b| b.margin);
    if let Some(page) = &raw.page {
        if let Some(size) = &page.size {
            (width, height) = match size.get_ref().trim().to_ascii_lowercase().as_str() {
                "letter" => (612 * PT, 792 * PT),
                // 210 × 297 mm in points (595.276 × 841.89).
                "a4" => (595_276, 841_890),
                other => {
                    return Err(err(
                        size.span().start,
                        format!("page size must be \"letter\" or \"a4\", not {other:?}"),
                    ));
                }
            };
        }
        if let Some(o) = &page.orientation {
            landscape = match o.get_ref().trim() {
                "portrait" => false,
                "landscape" => true,
                other => {
                    return Err(err(
                        o.span().start,
                        format!("orientation must be \"portrait\" or \"landscape\", not {other:?}"),
                    ));
                }
            };
        }
        if let Some(m) = &page.margin {
            margin = points(m.get_ref())
                .filter(|m| *m <= 144 * PT)
                .ok_or_else(|| {
                    err(
                        m.span().start,
                        "margin must be a number of points from 0 to 144".into(),
                    )
                })?;
        }
    }
    if landscape {
        (width, height) = (height, width);
    }

    let mut sizes = base.map(|b| b.sizes.clone()).unwrap_or(Sizes {
        title: 14 * PT,
        heading: 9 * PT,
        body: 9 * PT,
        label: 6500,
        small: 7 * PT,
        min: 5 * PT,
        watermark: 54 * PT,
    });
    if let Some(fonts) = &raw.fonts {
        for (key, value) in fonts {
            let v = points(value.get_ref())
                .filter(|v| *v >= 3 * PT && *v <= 200 * PT)
                .ok_or_else(|| {
                    err(
                        value.span().start,
                        format!("font size {:?} must be 3 to 200 points", key.get_ref()),
                    )
                })?;
            let slot = match key.get_ref().as_str() {
                "title" => &mut sizes.title,
                "heading" => &mut sizes.heading,
                "body" => &mut sizes.body,
                "label" => &mut sizes.label,
                "small" => &mut sizes.small,
                "min" => &mut sizes.min,
                "watermark" => &mut sizes.watermark,
                other => {
                    return Err(err(
                        key.span().start,
                        format!(
                            "unknown font size {other:?} (known: {})",
                            FONT_KEYS.join(", ")
                        ),
                    ));
                }
            };
            *slot = v;
        }
    }

    let mut labels = base.map(|b| b.labels.clone()).unwrap_or_default();
    for (key, value) in &raw.labels {
        if let Some(b) = base
            && !b.labels.contains_key(key.get_ref())
        {
            return Err(err(
                key.span().start,
                format!("unknown label {:?} for this document", key.get_ref()),
            ));
        }
        labels.insert(key.get_ref().clone(), value.get_ref().clone());
    }

    let columns = match &raw.columns {
        None => base.map(|b| b.columns.clone()).unwrap_or_default(),
        Some(cols) => {
            let known = kind.worksheet_columns();
            let mut out = Vec::new();
            for c in cols {
                let key = c.key.get_ref().trim().to_string();
                let Some(&(_, total)) = known.iter().find(|(k, _)| *k == key) else {
                    let names: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
                    return Err(err(
                        c.key.span().start,
                        if names.is_empty() {
                            "this document has no worksheet columns".to_string()
                        } else {
                            format!("unknown column {key:?} (known: {})", names.join(", "))
                        },
                    ));
                };
                let width = points(c.width.get_ref()).ok_or_else(|| {
                    err(
                        c.width.span().start,
                        "column width must be a number of points".into(),
                    )
                })?;
                let align = match c
                    .align
                    .as_ref()
                    .map(|a| (a.get_ref().trim(), a.span().start))
                {
                    None | Some(("left", _)) => ColumnAlign::Left,
                    Some(("right", _)) => ColumnAlign::Right,
                    Some((other, at)) => {
                        return Err(err(
                            at,
                            format!("align must be \"left\" or \"right\", not {other:?}"),
                        ));
                    }
                };
                out.push(Column {
                    label: c.label.clone().unwrap_or_else(|| key.clone()),
                    key,
                    width,
                    align,
                    total,
                });
            }
            out
        }
    };
    let fixed: i64 = columns.iter().map(|c| c.width).sum();
    if fixed > width - 2 * margin {
        let at = text.find("[[columns]]").unwrap_or(0);
        return Err(err(
            at,
            format!(
                "the columns are {} pt wide, more than the {} pt between the margins",
                fixed / PT,
                (width - 2 * margin) / PT
            ),
        ));
    }
    Ok(Layout {
        width,
        height,
        margin,
        sizes,
        labels,
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_templates_parse() {
        for kind in [
            Kind::Statement1099Nec,
            Kind::Statement1042S,
            Kind::Packet,
            Kind::Packet1042S,
        ] {
            let l = Layout::embedded(kind);
            assert_eq!(
                l.width.min(l.height),
                612 * PT,
                "Letter by default: {kind:?}"
            );
            assert!(!l.labels.is_empty(), "{kind:?}");
        }
        for kind in [Kind::Packet, Kind::Packet1042S] {
            let l = Layout::embedded(kind);
            assert!(!l.columns.is_empty());
            assert!(l.columns.iter().any(|c| c.total), "{kind:?} has amounts");
            // Both packets are drawn by the same code, so they need its labels.
            for key in crate::packet::LABELS {
                assert!(!l.label(key).is_empty(), "{kind:?} lacks label {key}");
            }
        }
        let e = Layout::parse(
            "[[columns]]\nkey = \"box1\"\nwidth = 60\n",
            "x.toml",
            Kind::Packet1042S,
        )
        .unwrap_err();
        assert!(e.message.contains("gross_income"), "{e}");
    }

    #[test]
    fn errors_name_the_line() {
        let e = Layout::parse("[page]\nsize = \"legal\"\n", "x.toml", Kind::Packet).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.to_string().contains("x.toml line 2"), "{e}");
        let e = Layout::parse(
            "\n\n[labels]\nbox1x = \"a\"\n",
            "x.toml",
            Kind::Statement1099Nec,
        )
        .unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("box1x"));
        let e = Layout::parse("[page\n", "x.toml", Kind::Packet).unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        let e = Layout::parse(
            "[[columns]]\nkey = \"user_token\"\nwidth = 60\n[[columns]]\nkey = \"nope\"\nwidth = 5\n",
            "x.toml",
            Kind::Packet,
        )
        .unwrap_err();
        assert_eq!(e.line, 5, "{e}");
    }

    #[test]
    fn a4_and_labels_override() {
        let l = Layout::parse(
            "[page]\nsize = \"a4\"\n[labels]\nbox1 = \"1 Paid to you\"\n",
            "x.toml",
            Kind::Statement1099Nec,
        )
        .unwrap();
        assert_eq!(l.width, 595_276);
        assert_eq!(l.label("box1"), "1 Paid to you");
        assert_eq!(
            l.label("box4"),
            Layout::embedded(Kind::Statement1099Nec).label("box4")
        );
    }
}
