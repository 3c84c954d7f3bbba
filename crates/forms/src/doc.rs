//! The layout model every document is drawn from: pages of positioned text, lines and boxes.
//!
//! Statements, the packet's cover and exceptions pages and its worksheet are all built as a
//! [`Document`] (plain data: insta snapshots pin it, not the PDF bytes) and drawn by one
//! renderer, [`crate::render`]. Units are integer milli-points (1/1000 pt), origin bottom-left.
//! Text in the model is already resolved ([`FontSet::resolve`]): what is here is what is drawn.
//!
//! [`Canvas`] is the builder: it places text that must fit a box, shrinking it down to a minimum
//! size, wrapping it onto more lines when a box has room, and only then cutting it with a
//! visible `…`, so nothing overflows its box or disappears without a mark.

use crate::fonts::{FontSet, Style};
use serde::Serialize;

/// 1 pt in mpt.
pub const PT: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    pub title: String,
    pub pages: Vec<Page>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    pub width: i64,
    pub height: i64,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    Left,
    Right,
    Center,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Item {
    /// Text with its baseline at `y`. `x` is the left edge (Left), the right edge (Right) or the
    /// centre (Center).
    Text {
        x: i64,
        y: i64,
        size: i64,
        style: Style,
        align: Align,
        text: String,
        /// Grey level in per mille (0 black).
        #[serde(skip_serializing_if = "is_zero")]
        grey: u16,
    },
    Line {
        x1: i64,
        y1: i64,
        x2: i64,
        y2: i64,
        thickness: i64,
        grey: u16,
    },
    Rect {
        x: i64,
        y: i64,
        w: i64,
        h: i64,
        /// Fill grey (per mille) or none.
        fill: Option<u16>,
        /// Outline thickness in mpt, or none.
        stroke: Option<i64>,
    },
    /// Large light text across the page (e.g. `SANDBOX DATA — NOT FOR FILING`), drawn first.
    Watermark { text: String, size: i64 },
}

fn is_zero(v: &u16) -> bool {
    *v == 0
}

impl Document {
    /// Every text item's text, page by page (for tests and the document id).
    pub fn text(&self) -> Vec<Vec<String>> {
        self.pages
            .iter()
            .map(|p| {
                p.items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Text { text, .. } | Item::Watermark { text, .. } => {
                            Some(text.clone())
                        }
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }
}

/// Builds one page.
pub struct Canvas<'f> {
    pub fonts: &'f FontSet,
    pub page: Page,
    /// Whether any text placed here had characters no font could show.
    pub missing_glyphs: bool,
}

impl<'f> Canvas<'f> {
    pub fn new(fonts: &'f FontSet, width: i64, height: i64) -> Canvas<'f> {
        Canvas {
            fonts,
            page: Page {
                width,
                height,
                items: Vec::new(),
            },
            missing_glyphs: false,
        }
    }

    pub fn finish(self) -> Page {
        self.page
    }

    fn resolve(&mut self, s: &str, style: Style) -> String {
        let (text, missing) = self.fonts.resolve(s, style);
        self.missing_glyphs |= missing;
        text
    }

    /// Text at a point, as it is (no fitting). For labels the template sizes.
    pub fn text(&mut self, x: i64, y: i64, size: i64, style: Style, align: Align, s: &str) {
        let text = self.resolve(s, style);
        if text.is_empty() {
            return;
        }
        self.page.items.push(Item::Text {
            x,
            y,
            size,
            style,
            align,
            text,
            grey: 0,
        });
    }

    pub fn grey_text(&mut self, x: i64, y: i64, size: i64, style: Style, s: &str, grey: u16) {
        let text = self.resolve(s, style);
        self.page.items.push(Item::Text {
            x,
            y,
            size,
            style,
            align: Align::Left,
            text,
            grey,
        });
    }

    /// One line of text in `width`: at `size`, else shrunk (down to `min`), else cut with `…`.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        &mut self,
        x: i64,
        y: i64,
        width: i64,
        size: i64,
        min: i64,
        style: Style,
        align: Align,
        s: &str,
    ) {
        let text = self.resolve(s, style);
        if text.is_empty() {
            return;
        }
        let (text, size) = fit_line(self.fonts, &text, style, size, min, width);
        let x = match align {
            Align::Left => x,
            Align::Right => x + width,
            Align::Center => x + width / 2,
        };
        self.page.items.push(Item::Text {
            x,
            y,
            size,
            style,
            align,
            text,
            grey: 0,
        });
    }

    /// Paragraph text in a box whose first baseline is `top - size`: wrapped at word boundaries,
    /// shrunk (down to `min`) until all lines fit in `height`, and if even that is not enough,
    /// the last line ends with `…`. Returns the y below the last line.
    #[allow(clippy::too_many_arguments)]
    pub fn wrap(
        &mut self,
        x: i64,
        top: i64,
        width: i64,
        height: i64,
        size: i64,
        min: i64,
        style: Style,
        s: &str,
    ) -> i64 {
        let text = self.resolve(s, style);
        let mut size = size;
        let lines = loop {
            let lines = wrap_lines(self.fonts, &text, style, size, width);
            let pitch = size * 6 / 5;
            if lines.len() as i64 * pitch <= height || size <= min {
                break lines;
            }
            size = (size - PT / 4).max(min);
        };
        let pitch = size * 6 / 5;
        let room = (height / pitch).max(1) as usize;
        let mut lines = lines;
        if lines.len() > room {
            lines.truncate(room);
            if let Some(last) = lines.last_mut() {
                let cut = format!("{last} …");
                *last = fit_line(self.fonts, &cut, style, size, size, width).0;
                if !last.ends_with('…') {
                    last.push('…');
                }
            }
        }
        let mut y = top - size;
        for line in lines {
            self.page.items.push(Item::Text {
                x,
                y,
                size,
                style,
                align: Align::Left,
                text: line,
                grey: 0,
            });
            y -= pitch;
        }
        y
    }

    pub fn line(&mut self, x1: i64, y1: i64, x2: i64, y2: i64, thickness: i64, grey: u16) {
        self.page.items.push(Item::Line {
            x1,
            y1,
            x2,
            y2,
            thickness,
            grey,
        });
    }

    pub fn rect(&mut self, x: i64, y: i64, w: i64, h: i64, fill: Option<u16>, stroke: Option<i64>) {
        self.page.items.push(Item::Rect {
            x,
            y,
            w,
            h,
            fill,
            stroke,
        });
    }

    /// A watermark, placed before everything else so it sits underneath.
    pub fn watermark(&mut self, text: &str, size: i64) {
        let text = self.resolve(text, Style::Bold);
        // Shrink to fit the page's diagonal line at the renderer's angle (35°: cos 0.819,
        // sin 0.574), with a margin, so the mark never runs off the page.
        let room = (self.page.width * 1000 / 819).min(self.page.height * 1000 / 574) * 8 / 10;
        let w = self.fonts.width(&text, Style::Bold, size).max(1);
        let size = if w > room { size * room / w } else { size };
        self.page.items.insert(0, Item::Watermark { text, size });
    }
}

/// `(text, size)` that fits `width`: shrink to `min`, then cut with `…`.
pub fn fit_line(
    fonts: &FontSet,
    text: &str,
    style: Style,
    size: i64,
    min: i64,
    width: i64,
) -> (String, i64) {
    let w = fonts.width(text, style, size);
    if w <= width {
        return (text.to_string(), size);
    }
    let shrunk = (size * width / w.max(1)).max(min);
    // Round down to 1/10 pt so the model stays readable.
    let shrunk = (shrunk / 100 * 100).max(min);
    if fonts.width(text, style, shrunk) <= width {
        return (text.to_string(), shrunk);
    }
    let room = width - fonts.width("…", style, min);
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let mut buf = [0; 4];
        let cw = fonts.width(c.encode_utf8(&mut buf), style, min);
        if used + cw > room {
            break;
        }
        used += cw;
        out.push(c);
    }
    let mut out = out.trim_end().to_string();
    out.push('…');
    (out, min)
}

/// Greedy word wrap; a word longer than the line is broken by characters. Widths are summed
/// word by word (linear in the text's length).
pub fn wrap_lines(fonts: &FontSet, text: &str, style: Style, size: i64, width: i64) -> Vec<String> {
    let space = fonts.width(" ", style, size);
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let ww = fonts.width(word, style, size);
        let add = if cur.is_empty() { ww } else { space + ww };
        if cur_w + add <= width {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
            cur_w += add;
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if ww <= width {
            cur.push_str(word);
            cur_w = ww;
            continue;
        }
        // The word alone is wider than the line: break it by characters.
        let mut piece = String::new();
        let mut pw = 0;
        for c in word.chars() {
            let mut buf = [0; 4];
            let cw = fonts.width(c.encode_utf8(&mut buf), style, size);
            if pw + cw > width && !piece.is_empty() {
                lines.push(std::mem::take(&mut piece));
                pw = 0;
            }
            piece.push(c);
            pw += cw;
        }
        cur = piece;
        cur_w = pw;
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Cents with thousands separators: `12956097.289` → `12,956,097.29`.
pub fn money(d: rust_decimal::Decimal) -> String {
    let plain = masspay_tax_rules::format_amount(d);
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_shrinks_then_cuts_with_a_mark() {
        let f = FontSet::shipped();
        let (t, s) = fit_line(&f, "Short", Style::Regular, 9000, 6000, 100_000);
        assert_eq!((t.as_str(), s), ("Short", 9000));
        let long = "Maximilian Alexander Featherstonehaugh-Worthington III";
        let (t, s) = fit_line(&f, long, Style::Regular, 9000, 6000, 200_000);
        assert_eq!(t, long);
        assert!((6000..9000).contains(&s));
        let (t, s) = fit_line(&f, long, Style::Regular, 9000, 6000, 80_000);
        assert!(t.ends_with('…'), "{t}");
        assert_eq!(s, 6000);
        assert!(f.width(&t, Style::Regular, s) <= 80_000);
    }

    #[test]
    fn wrap_breaks_words_and_marks_the_cut() {
        let f = FontSet::shipped();
        let lines = wrap_lines(&f, "aaa bbb ccc", Style::Regular, 10_000, 45_000);
        assert_eq!(lines, vec!["aaa bbb", "ccc"]);
        let mut c = Canvas::new(&f, 612_000, 792_000);
        c.wrap(
            0,
            100_000,
            60_000,
            20_000,
            9000,
            8000,
            Style::Regular,
            &"word ".repeat(40),
        );
        let texts = Document {
            title: String::new(),
            pages: vec![c.finish()],
        }
        .text();
        assert!(texts[0].last().unwrap().ends_with('…'), "{texts:?}");
    }
}
