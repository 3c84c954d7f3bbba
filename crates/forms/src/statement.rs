//! Recipient statements (substitute Copy B): the input models and their page layouts.
//!
//! * [`Statement1099Nec`] and [`Statement1042S`] are what a job fills in, one per recipient:
//!   amounts as `Decimal`, codes and identifiers as the text to print. TINs arrive **already
//!   truncated** for the recipient copy (`***-**-1234`, the IRS allows it on payee statements,
//!   Reg. §301.6109-4); the payer's (withholding agent's) TIN is printed in full (a filer may not
//!   truncate its own).
//! * [`layout_1099_nec`] / [`layout_1042_s`] turn one into a [`Page`] of the layout model, with
//!   the labels, legend and sizes from a [`Layout`] template; [`crate::render`] draws it.
//!
//! Each page carries what Pub 1179 asks of a substitute statement: the form number and title,
//! OMB number, tax year, "Copy B For Recipient", the box numbers and captions of the official
//! form, the payer's name, address, phone and TIN, the recipient's name, address and truncated
//! TIN, the Copy B legend, and the instructions for the recipient; plus a line saying the
//! statement was generated from the platform's records, and a watermark on sandbox data.

use crate::doc::{Align, Canvas, Document, PT, Page, money};
use crate::fonts::{FontSet, Style};
use crate::template::Layout;
use masspay_tax_rules::payer::Payer;
use rust_decimal::Decimal;
use serde::Serialize;

/// The payer or withholding agent as printed on a statement.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct StatementPayer {
    pub name: String,
    /// A second name line (DBA), when set.
    pub name_line2: Option<String>,
    /// Street, optional second line, `City, ST 12345` (country when not US).
    pub address_lines: Vec<String>,
    pub phone: String,
    /// In full: `12-3456789`.
    pub tin: String,
    /// Two letters.
    pub country: String,
}

impl std::fmt::Debug for StatementPayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatementPayer")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl StatementPayer {
    pub fn from_payer(p: &Payer) -> StatementPayer {
        StatementPayer {
            name: p.name.clone(),
            name_line2: p.name_line2.clone(),
            address_lines: p.address_lines(),
            phone: p.phone.clone(),
            tin: p.tin_formatted(),
            country: p.country.clone(),
        }
    }
}

/// One state line of boxes 5-7 (the form has room for two).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateLine {
    /// Box 5.
    pub tax_withheld: Decimal,
    /// Box 6: `MA 123456`.
    pub state_and_payer_no: String,
    /// Box 7.
    pub income: Decimal,
}

/// A 1099-NEC recipient statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement1099Nec {
    pub tax_year: i32,
    pub payer: StatementPayer,
    /// The payee's MassPay user token: the file name, and the default account number.
    pub user_token: String,
    /// Person's name, or the business name when the TIN is the business's EIN.
    pub recipient_name: String,
    /// A second name line (`Jane Smith` under `Smith Design LLC`, or a DBA), or empty.
    pub recipient_name_line2: String,
    /// Street lines then `City, ST ZIP`, then the country when not US.
    pub recipient_address: Vec<String>,
    /// Truncated: `***-**-1234` (SSN/ITIN) or `**-***1234` (EIN). Empty when none on file.
    pub recipient_tin: String,
    pub account_number: String,
    pub box1: Decimal,
    /// Box 2 checkbox (direct sales of $5,000+ for resale).
    pub box2_direct_sales: bool,
    /// Box 3: excess golden parachute payments.
    pub box3: Decimal,
    /// Box 4: federal income tax withheld (backup withholding).
    pub box4: Decimal,
    /// Boxes 5-7, at most two lines.
    pub states: Vec<StateLine>,
    /// "2nd TIN not." (the payer was notified twice in three years of an incorrect TIN).
    pub second_tin_notice: bool,
    pub corrected: bool,
}

/// A 1042-S recipient statement (boxes 1-13 and 14-17 as they apply; empty text and `None`
/// leave a box blank). Another job builds these from the 1042-S worksheet rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement1042S {
    pub tax_year: i32,
    /// Boxes 12a (EIN, in full), 12d (name), 12h/12i (address), and the telephone.
    pub withholding_agent: StatementPayer,
    pub user_token: String,
    /// The unique form identifier (10 digits or characters, unique per agent and year).
    pub unique_form_id: String,
    /// 0 = original; 1, 2, … = amendment number.
    pub amendment_no: u32,
    /// Box 1: two-digit income code (`17` personal services, `50` other …).
    pub income_code: String,
    /// Box 2.
    pub gross_income: Decimal,
    /// Box 3: `3` or `4`.
    pub chapter: String,
    /// Boxes 3a / 3b: chapter 3 exemption code and rate (`00`, `30.00`).
    pub ch3_exemption_code: String,
    pub ch3_tax_rate: String,
    /// Boxes 4a / 4b.
    pub ch4_exemption_code: String,
    pub ch4_tax_rate: String,
    /// Box 5 (personal services under a treaty / code 16-20), box 6.
    pub withholding_allowance: Option<Decimal>,
    pub net_income: Option<Decimal>,
    /// Box 7a, 7b, 7c.
    pub federal_tax_withheld: Decimal,
    pub escrow_procedures: bool,
    pub subsequent_year_partnership: bool,
    /// Boxes 8-11.
    pub tax_withheld_by_other_agents: Decimal,
    pub overwithheld_repaid: Decimal,
    pub total_withholding_credit: Decimal,
    pub tax_paid_by_agent: Decimal,
    /// Boxes 12b, 12c, 12e, 12f, 12g.
    pub agent_ch3_status: String,
    pub agent_ch4_status: String,
    pub agent_giin: String,
    pub agent_country: String,
    pub agent_foreign_tin: String,
    /// Box 13a name; 13b country code; 13c street; 13d city, province, country, postal code.
    pub recipient_name: String,
    pub recipient_country: String,
    pub recipient_address1: String,
    pub recipient_address2: String,
    /// Box 13e: truncated (`***-**-1234`), or empty.
    pub recipient_us_tin: String,
    /// Boxes 13f, 13g, 13h, 13j, 13k.
    pub recipient_ch3_status: String,
    pub recipient_ch4_status: String,
    pub recipient_giin: String,
    pub lob_code: String,
    pub account_number: String,
    /// Box 13i: the foreign TIN as the job chooses to print it (masked to the last four).
    pub recipient_foreign_tin: String,
    /// Box 13l: the date of birth as printed (the job masks it, e.g. `1985****`), or empty.
    pub recipient_dob: String,
    /// Boxes 14a/14b, 15 (one text line), 16a/16b: empty when they do not apply.
    pub primary_agent_name: String,
    pub primary_agent_ein: String,
    pub intermediary: String,
    pub payer_name: String,
    pub payer_tin: String,
    /// Boxes 17a-17c.
    pub state_tax_withheld: Option<Decimal>,
    pub payer_state_tax_no: String,
    pub state_name: String,
}

/// What every statement of a run shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementRun {
    /// Data from the built-in sandbox: watermark every page.
    pub sandbox: bool,
    /// Printed under the legend, e.g. `2026-01-15 10:00 UTC, sync run #12`.
    pub generated: String,
}

fn dollars(d: Decimal) -> String {
    format!("$ {}", money(d))
}

/// One labelled box of a statement's grid: where it is, the caption's label key, the value
/// lines and how they align. Every box of both forms is drawn by [`draw_box`].
struct Boxed<'a> {
    x: i64,
    top: i64,
    w: i64,
    h: i64,
    /// Label key in the layout (empty: no caption).
    label: &'a str,
    value: Vec<String>,
    align: Align,
}

impl<'a> Boxed<'a> {
    fn new(x: i64, top: i64, w: i64, h: i64, label: &'a str) -> Boxed<'a> {
        Boxed {
            x,
            top,
            w,
            h,
            label,
            value: Vec::new(),
            align: Align::Left,
        }
    }

    fn lines(mut self, value: Vec<String>) -> Boxed<'a> {
        self.value = value;
        self
    }

    fn text(self, value: &str) -> Boxed<'a> {
        self.lines(vec![value.to_string()])
    }

    /// A dollar amount, right-aligned.
    fn amount(mut self, d: Decimal) -> Boxed<'a> {
        self.value = vec![dollars(d)];
        self.align = Align::Right;
        self
    }

    fn right(mut self) -> Boxed<'a> {
        self.align = Align::Right;
        self
    }
}

/// Draws a labelled box: outline, caption at the top (wrapped), then the value lines below.
fn draw_box(c: &mut Canvas<'_>, l: &Layout, b: &Boxed<'_>) {
    let Boxed {
        x,
        top,
        w,
        h,
        label,
        ref value,
        align,
    } = *b;
    let label = if label.is_empty() { "" } else { l.label(label) };
    c.rect(x, top - h, w, h, None, Some(500));
    let pad = 2500;
    let label_room = (h / 2).min(3 * l.sizes.label * 6 / 5);
    let below = if label.is_empty() {
        top - pad
    } else {
        c.wrap(
            x + pad,
            top - 1500,
            w - 2 * pad,
            label_room,
            l.sizes.label,
            l.sizes.min.min(l.sizes.label),
            Style::Regular,
            label,
        )
    };
    let lines: Vec<&String> = value.iter().filter(|s| !s.trim().is_empty()).collect();
    if lines.is_empty() {
        return;
    }
    let bottom = top - h + pad;
    let room = below + l.sizes.label - bottom;
    let n = lines.len() as i64;
    // One value line: at the bottom of the box. Several: from under the caption down.
    let size = l.sizes.body.min((room / n) * 5 / 6).max(l.sizes.min);
    if n == 1 {
        c.fit(
            x + pad,
            bottom + 1000,
            w - 2 * pad,
            size,
            l.sizes.min,
            Style::Bold,
            align,
            lines[0],
        );
        return;
    }
    let pitch = size * 6 / 5;
    let max_lines = (room / pitch).max(1) as usize;
    let mut y = below + l.sizes.label - pitch;
    for (i, line) in lines.iter().enumerate() {
        if i + 1 == max_lines && lines.len() > max_lines {
            // Not enough room for the rest: join them on the last line, cut with a mark.
            let rest: Vec<&str> = lines[i..].iter().map(|s| s.as_str()).collect();
            c.fit(
                x + pad,
                y,
                w - 2 * pad,
                size,
                l.sizes.min,
                Style::Bold,
                align,
                &rest.join(", "),
            );
            break;
        }
        c.fit(
            x + pad,
            y,
            w - 2 * pad,
            size,
            l.sizes.min,
            Style::Bold,
            align,
            line,
        );
        y -= pitch;
    }
}

fn checkbox(c: &mut Canvas<'_>, x: i64, y: i64, checked: bool, mark: &str) {
    c.rect(x, y, 7 * PT, 7 * PT, None, Some(500));
    if checked {
        c.text(x + 3500, y + 1200, 6500, Style::Bold, Align::Center, mark);
    }
}

/// The footer under the grid and the instructions.
fn statement_tail(c: &mut Canvas<'_>, l: &Layout, run: &StatementRun, top: i64, token: &str) {
    let left = l.margin;
    let right = l.width - l.margin;
    let width = right - left;
    let mut y = top;
    y = c.wrap(
        left,
        y,
        width,
        4 * l.sizes.small,
        l.sizes.small,
        l.sizes.min,
        Style::Bold,
        l.label("legend"),
    );
    y = c.wrap(
        left,
        y,
        width,
        3 * l.sizes.small,
        l.sizes.small,
        l.sizes.min,
        Style::Regular,
        &format!("{} {}", l.label("generated"), run.generated),
    );
    y -= 8 * PT;
    c.text(
        left,
        y,
        l.sizes.heading,
        Style::Bold,
        Align::Left,
        l.label("instructions_title"),
    );
    let bottom = l.margin + 16 * PT;
    c.wrap(
        left,
        y - 3 * PT,
        width,
        (y - 3 * PT - bottom).max(l.sizes.small),
        l.sizes.small,
        l.sizes.min,
        Style::Regular,
        l.label("instructions"),
    );
    c.line(
        left,
        l.margin + 10 * PT,
        right,
        l.margin + 10 * PT,
        300,
        600,
    );
    c.fit(
        left,
        l.margin,
        width / 2,
        l.sizes.small,
        l.sizes.min,
        Style::Regular,
        Align::Left,
        &format!("{} {} · {}", l.label("form"), l.label("copy"), token),
    );
    c.fit(
        left + width / 2,
        l.margin,
        width / 2,
        l.sizes.small,
        l.sizes.min,
        Style::Regular,
        Align::Right,
        l.label("department"),
    );
    if run.sandbox {
        c.watermark(l.label("sandbox"), l.sizes.watermark);
    }
}

/// The heading both forms share: form number, title, tax year, OMB line; `corner` is printed
/// at the right of the OMB line. The shares are the title's and the OMB line's room in percent
/// of the width. Returns the y of the OMB line.
fn heading(
    c: &mut Canvas<'_>,
    l: &Layout,
    tax_year: i32,
    (title_share, omb_share): (i64, i64),
    corner: Option<(String, i64)>,
) -> i64 {
    let left = l.margin;
    let right = l.width - l.margin;
    let width = right - left;
    let title_y = l.height - l.margin - l.sizes.title;
    c.text(
        left,
        title_y,
        l.sizes.title,
        Style::Bold,
        Align::Left,
        l.label("form"),
    );
    let form_w = c.fonts.width(l.label("form"), Style::Bold, l.sizes.title);
    c.fit(
        left + form_w + 8 * PT,
        title_y,
        width * title_share / 100 - form_w - 8 * PT,
        l.sizes.heading,
        l.sizes.min,
        Style::Regular,
        Align::Left,
        l.label("form_title"),
    );
    c.text(
        right,
        title_y,
        l.sizes.heading + 2 * PT,
        Style::Bold,
        Align::Right,
        &format!("{} {}", l.label("tax_year"), tax_year),
    );
    let sub_y = title_y - l.sizes.small - 4 * PT;
    c.fit(
        left,
        sub_y,
        width * omb_share / 100,
        l.sizes.small,
        l.sizes.min,
        Style::Regular,
        Align::Left,
        &format!("{} · {}", l.label("omb"), l.label("department")),
    );
    if let Some((text, size)) = corner {
        c.text(right, sub_y, size, Style::Bold, Align::Right, &text);
    }
    sub_y
}

/// One 1099-NEC Copy B page. The bool says whether a character could not be shown.
pub fn layout_1099_nec(
    s: &Statement1099Nec,
    run: &StatementRun,
    l: &Layout,
    fonts: &FontSet,
) -> (Page, bool) {
    let mut c = Canvas::new(fonts, l.width, l.height);
    let left = l.margin;
    let width = l.width - 2 * l.margin;
    let corrected = s
        .corrected
        .then(|| (l.label("corrected").to_string(), l.sizes.small));
    let sub_y = heading(&mut c, l, s.tax_year, (50, 66), corrected);

    // The grid: payer/recipient (left), boxes (middle), Copy B and legend (right).
    let grid_top = sub_y - 8 * PT;
    let wl = width * 46 / 100;
    let wm = width * 29 / 100;
    let wr = width - wl - wm;
    let (xl, xm, xr) = (left, left + wl, left + wl + wm);
    let (h1, h2, h3, h4, h5) = (88 * PT, 36 * PT, 48 * PT, 56 * PT, 30 * PT);
    let (y2, y3, y4) = (grid_top - h1, grid_top - h1 - h2, grid_top - h1 - h2 - h3);
    let y5 = y4 - h4;

    let mut payer = vec![s.payer.name.clone()];
    payer.extend(s.payer.name_line2.clone());
    payer.extend(s.payer.address_lines.iter().cloned());
    payer.push(s.payer.phone.clone());
    let mut names = vec![s.recipient_name.clone()];
    if !s.recipient_name_line2.trim().is_empty() {
        names.push(s.recipient_name_line2.clone());
    }
    // Boxes 5-7 across the middle and right columns, two state lines.
    let states: Vec<&StateLine> = s.states.iter().take(2).collect();
    let col = |f: &dyn Fn(&StateLine) -> String| -> Vec<String> {
        if states.is_empty() {
            vec![String::new()]
        } else {
            states.iter().map(|st| f(st)).collect()
        }
    };
    let w57 = wm + wr;
    let w5 = w57 / 3;
    let wa = wl * 7 / 10;
    let boxes = [
        Boxed::new(xl, grid_top, wl, h1, "payer").lines(payer),
        Boxed::new(xm, grid_top, wm, h1 / 2, "box1").amount(s.box1),
        Boxed::new(xm, grid_top - h1 / 2, wm, h1 / 2, "box2"),
        Boxed::new(xl, y2, wl / 2, h2, "payer_tin").text(&s.payer.tin),
        Boxed::new(xl + wl / 2, y2, wl - wl / 2, h2, "recipient_tin").text(&s.recipient_tin),
        Boxed::new(xm, y2, wm, h2, "box3").amount(s.box3),
        Boxed::new(xl, y3, wl, h3, "recipient_name").lines(names),
        Boxed::new(xm, y3, wm, h3, "box4").amount(s.box4),
        Boxed::new(xl, y4, wl, h4, "recipient_address").lines(s.recipient_address.clone()),
        Boxed::new(xm, y4, w5, h4 + h5, "box5")
            .lines(col(&|st| dollars(st.tax_withheld)))
            .right(),
        Boxed::new(xm + w5, y4, w5, h4 + h5, "box6")
            .lines(col(&|st| st.state_and_payer_no.clone())),
        Boxed::new(xm + 2 * w5, y4, w57 - 2 * w5, h4 + h5, "box7")
            .lines(col(&|st| dollars(st.income)))
            .right(),
        Boxed::new(xl, y5, wa, h5, "account").text(&s.account_number),
        Boxed::new(xl + wa, y5, wl - wa, h5, "second_tin"),
    ];
    for b in &boxes {
        draw_box(&mut c, l, b);
    }
    checkbox(
        &mut c,
        xm + wm - 11 * PT,
        grid_top - h1 + 3 * PT,
        s.box2_direct_sales,
        l.label("checked"),
    );
    checkbox(
        &mut c,
        xl + wl - 11 * PT,
        y5 - h5 + 3 * PT,
        s.second_tin_notice,
        l.label("checked"),
    );

    // Right column: Copy B, For Recipient, the legend.
    let rh = h1 + h2 + h3;
    c.rect(xr, grid_top - rh, wr, rh, None, Some(500));
    c.text(
        xr + 4 * PT,
        grid_top - l.sizes.title - 2 * PT,
        l.sizes.title,
        Style::Bold,
        Align::Left,
        l.label("copy"),
    );
    c.text(
        xr + 4 * PT,
        grid_top - l.sizes.title - l.sizes.heading - 6 * PT,
        l.sizes.heading,
        Style::Bold,
        Align::Left,
        l.label("copy_for"),
    );
    c.wrap(
        xr + 4 * PT,
        grid_top - l.sizes.title - l.sizes.heading - 12 * PT,
        wr - 8 * PT,
        rh - l.sizes.title - l.sizes.heading - 16 * PT,
        l.sizes.label,
        l.sizes.min.min(l.sizes.label),
        Style::Regular,
        l.label("legend"),
    );

    let bottom = y5 - h5;
    c.text(
        left,
        bottom - l.sizes.small - 3 * PT,
        l.sizes.small,
        Style::Regular,
        Align::Left,
        &format!("{} {}", l.label("form"), l.label("keep")),
    );
    statement_tail(
        &mut c,
        l,
        run,
        bottom - l.sizes.small - 10 * PT,
        &s.user_token,
    );
    let missing = c.missing_glyphs;
    (c.finish(), missing)
}

/// A row of the 1042-S grid: `(label key, value, weight)` across the full width.
fn grid_row(
    c: &mut Canvas<'_>,
    l: &Layout,
    top: i64,
    h: i64,
    cells: &[(&str, String, i64, Align)],
) {
    let left = l.margin;
    let width = l.width - 2 * l.margin;
    let total: i64 = cells.iter().map(|c| c.2).sum::<i64>().max(1);
    let mut x = left;
    for (i, (key, value, weight, align)) in cells.iter().enumerate() {
        let w = if i + 1 == cells.len() {
            left + width - x
        } else {
            width * weight / total
        };
        let mut b = Boxed::new(x, top, w, h, key).text(value);
        b.align = *align;
        draw_box(c, l, &b);
        x += w;
    }
}

fn opt(d: Option<Decimal>) -> String {
    d.map(dollars).unwrap_or_default()
}

fn check(b: bool, l: &Layout) -> String {
    if b {
        l.label("checked").to_string()
    } else {
        String::new()
    }
}

/// One 1042-S Copy B page.
pub fn layout_1042_s(
    s: &Statement1042S,
    run: &StatementRun,
    l: &Layout,
    fonts: &FontSet,
) -> (Page, bool) {
    let mut c = Canvas::new(fonts, l.width, l.height);
    let copy = format!("{} {}", l.label("copy"), l.label("copy_for"));
    let sub_y = heading(
        &mut c,
        l,
        s.tax_year,
        (60, 60),
        Some((copy, l.sizes.heading + PT)),
    );
    let h = 28 * PT;
    let mut y = sub_y - 8 * PT;
    let r = Align::Right;
    let lf = Align::Left;
    let amended = if s.amendment_no > 0 {
        format!("{} {}", l.label("checked"), s.amendment_no)
    } else {
        String::new()
    };
    let rows: Vec<Vec<(&str, String, i64, Align)>> = vec![
        vec![
            ("box1", s.income_code.clone(), 2, lf),
            ("box2", dollars(s.gross_income), 3, r),
            ("box3", s.chapter.clone(), 2, lf),
            ("unique_form_id", s.unique_form_id.clone(), 3, lf),
            ("amended", amended, 2, lf),
        ],
        vec![
            ("box3a", s.ch3_exemption_code.clone(), 2, lf),
            ("box3b", s.ch3_tax_rate.clone(), 2, r),
            ("box4a", s.ch4_exemption_code.clone(), 2, lf),
            ("box4b", s.ch4_tax_rate.clone(), 2, r),
            ("box5", opt(s.withholding_allowance), 2, r),
            ("box6", opt(s.net_income), 2, r),
        ],
        vec![
            ("box7a", dollars(s.federal_tax_withheld), 2, r),
            ("box7b", check(s.escrow_procedures, l), 3, lf),
            ("box7c", check(s.subsequent_year_partnership, l), 3, lf),
            ("box8", dollars(s.tax_withheld_by_other_agents), 2, r),
        ],
        vec![
            ("box9", dollars(s.overwithheld_repaid), 3, r),
            ("box10", dollars(s.total_withholding_credit), 3, r),
            ("box11", dollars(s.tax_paid_by_agent), 3, r),
        ],
        vec![
            ("box12a", s.withholding_agent.tin.clone(), 2, lf),
            ("box12b", s.agent_ch3_status.clone(), 1, lf),
            ("box12c", s.agent_ch4_status.clone(), 1, lf),
            ("box12e", s.agent_giin.clone(), 2, lf),
            ("box12f", s.agent_country.clone(), 1, lf),
            ("box12g", s.agent_foreign_tin.clone(), 2, lf),
        ],
        vec![
            (
                "box12d",
                [
                    Some(s.withholding_agent.name.clone()),
                    s.withholding_agent.name_line2.clone(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / "),
                3,
                lf,
            ),
            ("telephone", s.withholding_agent.phone.clone(), 2, lf),
        ],
        vec![
            (
                "box12h",
                s.withholding_agent
                    .address_lines
                    .iter()
                    .take(s.withholding_agent.address_lines.len().saturating_sub(1))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                1,
                lf,
            ),
            (
                "box12i",
                s.withholding_agent
                    .address_lines
                    .last()
                    .cloned()
                    .unwrap_or_default(),
                1,
                lf,
            ),
        ],
        vec![
            ("box13a", s.recipient_name.clone(), 4, lf),
            ("box13b", s.recipient_country.clone(), 1, lf),
            ("box13e", s.recipient_us_tin.clone(), 2, lf),
        ],
        vec![
            ("box13c", s.recipient_address1.clone(), 1, lf),
            ("box13d", s.recipient_address2.clone(), 1, lf),
        ],
        vec![
            ("box13f", s.recipient_ch3_status.clone(), 1, lf),
            ("box13g", s.recipient_ch4_status.clone(), 1, lf),
            ("box13h", s.recipient_giin.clone(), 2, lf),
            ("box13i", s.recipient_foreign_tin.clone(), 2, lf),
            ("box13j", s.lob_code.clone(), 1, lf),
            ("box13k", s.account_number.clone(), 2, lf),
            ("box13l", s.recipient_dob.clone(), 2, lf),
        ],
        vec![
            ("box14a", s.primary_agent_name.clone(), 3, lf),
            ("box14b", s.primary_agent_ein.clone(), 2, lf),
            ("box15", s.intermediary.clone(), 4, lf),
        ],
        vec![
            ("box16a", s.payer_name.clone(), 3, lf),
            ("box16b", s.payer_tin.clone(), 2, lf),
            ("box17a", opt(s.state_tax_withheld), 2, r),
            ("box17b", s.payer_state_tax_no.clone(), 2, lf),
            ("box17c", s.state_name.clone(), 2, lf),
        ],
    ];
    for row in &rows {
        grid_row(&mut c, l, y, h, row);
        y -= h;
    }
    statement_tail(&mut c, l, run, y - 8 * PT, &s.user_token);
    let missing = c.missing_glyphs;
    (c.finish(), missing)
}

/// A one-page document.
pub fn single(title: String, page: Page) -> Document {
    Document {
        title,
        pages: vec![page],
    }
}
