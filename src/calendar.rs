//! `calendar`: the due dates that concern this tool for a tax year, and the next one from today
//! (shown by `efile` and `report`). The dates and holidays are data in the rules crate
//! (`masspay_tax_rules::calendar`).

use masspay_tax_rules::calendar::{self, Date, Deadline, Holiday};
use serde::Serialize;

/// Today (UTC) as a calendar date (`None` only if the clock is off the calendar).
pub fn today() -> Option<Date> {
    use chrono::Datelike;
    let d = chrono::Utc::now().date_naive();
    Date::new(
        d.year(),
        u8::try_from(d.month()).ok()?,
        u8::try_from(d.day()).ok()?,
    )
}

/// The next due date from today.
pub fn next_from_today() -> Option<NextDeadline> {
    today().and_then(next_deadline)
}

#[derive(Debug, Clone, Serialize)]
pub struct CalendarSummary {
    pub tax_year: i32,
    pub deadlines: Vec<Deadline>,
    /// The legal holidays of the filing year (the year after the tax year), as observed.
    pub holidays: Vec<Holiday>,
    pub rule: &'static str,
}

pub const ROLL_RULE: &str = "a due date on a Saturday, Sunday or legal holiday (federal, and DC \
     Emancipation Day) moves to the next business day (IRC §7503)";

/// The due dates of `tax_year`.
pub fn calendar(tax_year: i32) -> anyhow::Result<CalendarSummary> {
    let years = calendar::YEARS;
    if !years.contains(&tax_year) {
        anyhow::bail!(
            "--year must be a tax year between {} and {}, not {tax_year}",
            years.start(),
            years.end()
        );
    }
    Ok(CalendarSummary {
        tax_year,
        deadlines: calendar::deadlines(tax_year),
        holidays: calendar::holidays(tax_year + 1),
        rule: ROLL_RULE,
    })
}

/// The next due date, for the summaries of `efile` and `report`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextDeadline {
    pub date: Date,
    pub tax_year: i32,
    pub form: String,
    pub party: String,
    pub what: String,
    pub days_left: i64,
}

impl NextDeadline {
    /// `Monday, February 1, 2027 (62 days): 1099-NEC for 2026 — File Copy A with the IRS …`.
    pub fn line(&self) -> String {
        format!(
            "{} ({} day{}): {} for tax year {}, {}",
            self.date.long(),
            self.days_left,
            if self.days_left == 1 { "" } else { "s" },
            self.form,
            self.tax_year,
            self.what
        )
    }
}

/// The first due date on or after `today`.
pub fn next_deadline(today: Date) -> Option<NextDeadline> {
    calendar::next_deadline(today).map(|d| NextDeadline {
        date: d.due,
        tax_year: d.tax_year,
        form: d.form,
        party: d.party,
        what: d.what,
        days_left: today.days_until(d.due),
    })
}
