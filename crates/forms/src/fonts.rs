//! Fonts for the documents: the shipped DejaVu Sans (regular and bold, embedded), an optional
//! fallback font named in the settings for scripts DejaVu is not used for, and per-document
//! subsetting so each PDF carries only the glyphs it shows.
//!
//! * **Coverage.** Text is resolved character by character ([`FontSet::resolve`]): Latin (with
//!   every diacritic), Greek, Cyrillic and common punctuation come from DejaVu Sans; anything else
//!   from the fallback font when it has the glyph; otherwise the character is replaced by
//!   [`MISSING_MARK`] and reported, so a name is never silently turned into `?`.
//! * **Subsetting.** printpdf 0.12 without its `text_layout` feature embeds external fonts whole
//!   (its `subset_font` stub returns the original bytes), which would put 1.4 MB of font in every
//!   statement. [`subset`] cuts the font down with allsorts (the font library printpdf itself
//!   uses), keeping a Unicode cmap, before it is handed to printpdf. Subsetting (and deflating
//!   the result) per document was most of a statement's cost, so [`FontSet::subset_for`] embeds
//!   a run-wide base set (ASCII, the templates' punctuation) plus the 32-character blocks of whatever
//!   else a document shows, made once per distinct set and cached for the run.
//! * Shapes are not shaped: scripts that need contextual shaping or right-to-left ordering
//!   (Arabic, Hebrew, Devanagari …) are drawn glyph by glyph in logical order from the fallback
//!   font. Names in those scripts are legible only in isolated forms.

use printpdf::ParsedFont;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// zlib at `level` (lopdf's own `compress` always uses the slowest, 9).
pub fn deflate(bytes: &[u8], level: u32) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(bytes.len() / 2),
        flate2::Compression::new(level),
    );
    // Writing to a Vec cannot fail.
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

/// DejaVu Sans 2.37 (Bitstream Vera license + public-domain changes: embedding and
/// redistribution allowed; see `fonts/LICENSE-DejaVu.txt`).
pub const DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
pub const DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// What a character that no font can show becomes on the page: U+FFFD, drawn by DejaVu as a
/// black diamond with a question mark (visibly "something was here"), and reported per payee.
pub const MISSING_MARK: char = '\u{FFFD}';

/// Bold or regular.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    Regular,
    Bold,
}

/// Which embedded face a piece of text is drawn in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Face {
    Regular,
    Bold,
    Fallback,
}

impl Face {
    pub fn for_style(style: Style) -> Face {
        match style {
            Style::Regular => Face::Regular,
            Style::Bold => Face::Bold,
        }
    }
}

/// One parsed font and the bytes it came from (needed again to subset).
pub struct LoadedFont {
    pub bytes: Arc<[u8]>,
    pub parsed: ParsedFont,
    /// For characters below [`TABLE_END`]: advance in 1/1000 em plus one, 0 when the font lacks
    /// the glyph (measuring text is the hot path of every layout: no map lookups there).
    table: Vec<u16>,
}

/// Characters below this are measured from a table.
const TABLE_END: u32 = 0x3000;

impl LoadedFont {
    pub fn from_bytes(bytes: Arc<[u8]>) -> Option<LoadedFont> {
        let parsed = ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())?;
        let mut font = LoadedFont {
            bytes,
            parsed,
            table: Vec::new(),
        };
        font.table = (0..TABLE_END)
            .map(|u| match char::from_u32(u) {
                Some(c) if font.lookup_has(c) => (font.lookup_advance(c) as u16).saturating_add(1),
                _ => 0,
            })
            .collect();
        Some(font)
    }

    fn lookup_has(&self, c: char) -> bool {
        self.parsed
            .lookup_glyph_index(u32::from(c))
            .is_some_and(|g| g != 0)
    }

    fn lookup_advance(&self, c: char) -> i64 {
        let per_em = i64::from(self.parsed.units_per_em.max(1));
        self.parsed
            .lookup_glyph_index(u32::from(c))
            .and_then(|g| self.parsed.get_glyph_width(g))
            .map_or(0, |w| i64::from(w) * 1000 / per_em)
    }

    pub fn has(&self, c: char) -> bool {
        match self.table.get(u32::from(c) as usize) {
            Some(v) => *v != 0,
            None => self.lookup_has(c),
        }
    }

    /// Advance of `c` in 1/1000 em (0 when the font lacks it).
    pub fn advance(&self, c: char) -> i64 {
        match self.table.get(u32::from(c) as usize) {
            Some(v) => i64::from(v.saturating_sub(1)),
            None => self.lookup_advance(c),
        }
    }
}

/// A font subset ready to embed: parsed for printpdf, and its program already deflated (the
/// renderer swaps these bytes in rather than compressing the font again for every document).
pub struct Subset {
    pub parsed: ParsedFont,
    /// The zlib-compressed font program (`/Filter /FlateDecode`).
    pub deflated: Vec<u8>,
}

/// Characters every subset of the shipped faces carries, whatever the document shows: printable
/// ASCII and the punctuation the templates use. Most documents show nothing else, so one subset
/// per face serves most of a run (cached in [`FontSet`]). A document with other characters gets
/// the whole 32-character block of each (`é` brings U+00E0-U+00FF, `Д` U+0400-U+041F), so the
/// distinct sets, and the subsets made, stay few while files stay small.
fn base_chars() -> &'static BTreeSet<char> {
    static BASE: OnceLock<BTreeSet<char>> = OnceLock::new();
    BASE.get_or_init(|| {
        (0x20u32..0x7F)
            .filter_map(char::from_u32)
            .chain("…—–·•’‘“”−§\u{FFFD}".chars())
            .collect()
    })
}

/// Subsets already made in this run, by face and character set.
#[derive(Default)]
struct SubsetCache(Mutex<HashMap<SubsetKey, Arc<Subset>>>);

/// A face and the characters its subset holds.
type SubsetKey = (Face, Vec<char>);

/// At most this many cached subsets (a run with very many distinct scripts starts over).
const CACHE_LIMIT: usize = 512;

/// The fonts a run uses: the shipped pair and an optional fallback, and the subsets made so far.
pub struct FontSet {
    pub regular: Arc<LoadedFont>,
    pub bold: Arc<LoadedFont>,
    pub fallback: Option<Arc<LoadedFont>>,
    cache: SubsetCache,
}

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error("reading the fallback font {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the fallback font {path} is not a TrueType/OpenType font this program can read")]
    Parse { path: String },
}

fn shipped() -> (Arc<LoadedFont>, Arc<LoadedFont>) {
    static FONTS: OnceLock<(Arc<LoadedFont>, Arc<LoadedFont>)> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let load = |b: &'static [u8]| {
                Arc::new(LoadedFont::from_bytes(Arc::from(b)).expect("the shipped font parses"))
            };
            (load(DEJAVU_SANS), load(DEJAVU_SANS_BOLD))
        })
        .clone()
}

/// Whether DejaVu Sans is the font for `c`: the scripts it is shipped for.
fn shipped_script(c: char) -> bool {
    matches!(u32::from(c),
        0x20..=0x7E
        | 0xA0..=0x24F      // Latin-1, Latin Extended-A/B
        | 0x250..=0x2FF     // IPA, spacing modifiers
        | 0x300..=0x36F     // combining diacritics
        | 0x370..=0x3FF     // Greek
        | 0x400..=0x52F     // Cyrillic + supplement
        | 0x1D00..=0x1DBF   // phonetic extensions
        | 0x1E00..=0x1EFF   // Latin Extended Additional (Vietnamese …)
        | 0x1F00..=0x1FFF   // Greek Extended
        | 0x2000..=0x206F   // general punctuation
        | 0x20A0..=0x20CF   // currency
        | 0x2100..=0x214F   // letterlike (™, №)
        | 0x2190..=0x21FF   // arrows
        | 0x2200..=0x22FF   // math operators (−)
        | 0x25A0..=0x25FF   // geometric shapes (marks)
        | 0x2C60..=0x2C7F | 0xA720..=0xA7FF  // Latin Extended-C/D
        | 0xFFFD)
}

impl FontSet {
    /// The shipped fonts only.
    pub fn shipped() -> FontSet {
        let (regular, bold) = shipped();
        FontSet {
            regular,
            bold,
            fallback: None,
            cache: SubsetCache::default(),
        }
    }

    /// The shipped fonts plus a fallback font file (TTF/OTF) for other scripts.
    pub fn with_fallback(path: &Path) -> Result<FontSet, FontError> {
        let bytes = std::fs::read(path).map_err(|source| FontError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let font = LoadedFont::from_bytes(Arc::from(bytes)).ok_or_else(|| FontError::Parse {
            path: path.display().to_string(),
        })?;
        let mut set = FontSet::shipped();
        set.fallback = Some(Arc::new(font));
        Ok(set)
    }

    pub fn loaded(&self, face: Face) -> &LoadedFont {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::Fallback => self.fallback.as_deref().unwrap_or(&self.regular),
        }
    }

    /// The face `c` is drawn in, or `None` when no font here can show it.
    pub fn face_for(&self, c: char, style: Style) -> Option<Face> {
        let main = self.loaded(Face::for_style(style));
        if shipped_script(c) && main.has(c) {
            return Some(Face::for_style(style));
        }
        if let Some(f) = &self.fallback
            && f.has(c)
        {
            return Some(Face::Fallback);
        }
        None
    }

    /// Text made drawable: control characters and whitespace runs become one space, invisible
    /// format characters are dropped, and characters no font can show become [`MISSING_MARK`].
    /// Returns the text and whether anything was replaced.
    pub fn resolve(&self, s: &str, style: Style) -> (String, bool) {
        let mut out = String::with_capacity(s.len());
        let mut missing = false;
        let mut space = false;
        for c in s.chars() {
            if c.is_control() || c.is_whitespace() {
                space = !out.is_empty();
                continue;
            }
            if is_invisible(c) {
                continue;
            }
            if space {
                out.push(' ');
                space = false;
            }
            if self.face_for(c, style).is_some() {
                out.push(c);
            } else {
                out.push(MISSING_MARK);
                missing = true;
            }
        }
        (out, missing)
    }

    /// Width of resolved text in mpt at `size` mpt.
    pub fn width(&self, s: &str, style: Style, size: i64) -> i64 {
        let units: i64 = s
            .chars()
            .map(|c| match self.face_for(c, style) {
                Some(face) => self.loaded(face).advance(c),
                None => self.loaded(Face::for_style(style)).advance(MISSING_MARK),
            })
            .sum();
        units * size / 1000
    }

    /// The subset of `face` to embed for a document that shows `chars`: for the shipped faces the
    /// run-wide base set (plus `chars` when they go beyond it), for the fallback exactly `chars`;
    /// made once per set and cached. `None` when subsetting fails (the caller embeds the whole
    /// font).
    pub fn subset_for(&self, face: Face, chars: &BTreeSet<char>) -> Option<Arc<Subset>> {
        let key: Vec<char> = match face {
            Face::Fallback => chars.iter().copied().collect(),
            Face::Regular | Face::Bold => {
                let base = base_chars();
                let font = self.loaded(face);
                let mut set = base.clone();
                for c in chars.difference(base) {
                    let block = u32::from(*c) & !31;
                    set.extend(
                        (block..block + 32)
                            .filter_map(char::from_u32)
                            .filter(|c| font.has(*c)),
                    );
                    set.insert(*c);
                }
                set.into_iter().collect()
            }
        };
        let cache_key = (face, key);
        if let Some(hit) = self.cache.0.lock().ok()?.get(&cache_key) {
            return Some(hit.clone());
        }
        let set: BTreeSet<char> = cache_key.1.iter().copied().collect();
        let parsed = subset(self.loaded(face), &set)?;
        // Made once per run and set: worth the best compression.
        let deflated = deflate(&parsed.original_bytes, 9);
        let made = Arc::new(Subset { parsed, deflated });
        if let Ok(mut cache) = self.cache.0.lock() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(cache_key, made.clone());
        }
        Some(made)
    }

    /// Splits resolved text into runs drawn in one face each.
    pub fn runs(&self, s: &str, style: Style) -> Vec<(Face, String)> {
        let mut runs: Vec<(Face, String)> = Vec::new();
        for c in s.chars() {
            let face = self.face_for(c, style).unwrap_or(Face::for_style(style));
            match runs.last_mut() {
                Some((f, text)) if *f == face => text.push(c),
                _ => runs.push((face, c.to_string())),
            }
        }
        runs
    }
}

/// Zero-width, bidi-control and variation-selector characters, BOM and soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}')
}

/// A copy of `font` that holds only the glyphs for `chars` (plus `.notdef` and the glyphs
/// composites need), with a Unicode cmap, parsed for printpdf. `None` when subsetting fails
/// (the caller then embeds the whole font).
pub fn subset(font: &LoadedFont, chars: &BTreeSet<char>) -> Option<ParsedFont> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile};

    let mut gids: BTreeSet<u16> = chars
        .iter()
        .filter_map(|c| font.parsed.lookup_glyph_index(u32::from(*c)))
        .collect();
    gids.remove(&0);
    let ids: Vec<u16> = std::iter::once(0).chain(gids).collect();
    let scope = ReadScope::new(&font.bytes);
    let data = scope.read::<FontData<'_>>().ok()?;
    let provider = data.table_provider(0).ok()?;
    let bytes =
        allsorts::subset::subset(&provider, &ids, &SubsetProfile::Pdf, CmapTarget::Unicode).ok()?;
    ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_covers_latin_greek_cyrillic() {
        let f = FontSet::shipped();
        for s in [
            "Zoë Núñez",
            "Дмитрий",
            "Ελένη",
            "Łukasz Żółć",
            "Nguyễn Thị Ánh",
        ] {
            let (out, missing) = f.resolve(s, Style::Regular);
            assert_eq!(out, s);
            assert!(!missing, "{s}");
        }
        let (out, missing) = f.resolve("王芳 (Wang)", Style::Bold);
        assert!(missing);
        assert_eq!(out, "\u{FFFD}\u{FFFD} (Wang)");
        assert_eq!(f.resolve(" a\t\r\nb\u{200B} ", Style::Regular).0, "a b");
    }

    #[test]
    fn subset_is_small_and_keeps_the_glyphs() {
        let f = FontSet::shipped();
        let chars: BTreeSet<char> = "Дмитрий Zoë".chars().collect();
        let sub = subset(&f.regular, &chars).unwrap();
        assert!(
            sub.original_bytes.len() < 20_000,
            "{}",
            sub.original_bytes.len()
        );
        for c in chars {
            assert!(sub.lookup_glyph_index(u32::from(c)).is_some(), "{c}");
        }
    }
}
