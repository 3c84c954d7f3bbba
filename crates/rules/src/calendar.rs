//! Due dates for a tax year, with the weekend and legal-holiday roll to the next business day
//! (IRC §7503), from a dated data file (`crates/rules/data/calendar.txt`: the holidays as rules,
//! the due dates as month-day of the year after the tax year, each with its source).
//!
//! ```
//! use masspay_tax_rules::calendar::{Date, deadlines};
//! let nec = deadlines(2026).into_iter().find(|d| d.form == "1099-NEC").unwrap();
//! assert_eq!(nec.due, Date::new(2027, 2, 1).unwrap()); // January 31, 2027 is a Sunday
//! ```

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// The years the calendar answers for (others get no dates).
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9998;

/// The data file, built in.
pub const CALENDAR_DATA: &str = include_str!("../data/calendar.txt");

/// A calendar date (proleptic Gregorian), serialised as `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A valid date, or `None`.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        (1..=days_in_month(year, month))
            .contains(&day)
            .then_some(Date { year, month, day })
    }
    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (H. Hinnant's `days_from_civil`).
    fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn from_days(z: i64) -> Date {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// The date `n` days later (earlier when negative).
    pub fn add_days(self, n: i64) -> Date {
        Date::from_days(self.days() + n)
    }

    /// Days from `self` to `other` (negative when `other` is earlier).
    pub fn days_until(self, other: Date) -> i64 {
        other.days() - self.days()
    }

    /// 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u8 {
        // 1970-01-01 was a Thursday (3).
        ((self.days() + 3).rem_euclid(7)) as u8
    }

    pub fn weekday_name(self) -> &'static str {
        WEEKDAYS[usize::from(self.weekday())]
    }

    pub fn is_weekend(self) -> bool {
        self.weekday() >= 5
    }

    /// `Monday, February 1, 2027`.
    pub fn long(self) -> String {
        format!(
            "{}, {} {}, {}",
            self.weekday_name(),
            MONTHS[usize::from(self.month - 1)],
            self.day,
            self.year
        )
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `YYYY-MM-DD` that is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date (YYYY-MM-DD): {0:?}")]
pub struct DateParseError(pub String);

impl FromStr for Date {
    type Err = DateParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DateParseError(s.chars().take(20).collect());
        let mut it = s.trim().splitn(3, '-');
        let (y, m, d) = (it.next(), it.next(), it.next());
        let (Some(y), Some(m), Some(d)) = (y, m, d) else {
            return Err(err());
        };
        Date::new(
            y.parse().map_err(|_| err())?,
            m.parse().map_err(|_| err())?,
            d.parse().map_err(|_| err())?,
        )
        .ok_or_else(err)
    }
}

#[derive(Debug, Clone)]
enum Rule {
    Fixed(u8, u8),
    Nth(u8, u8, u8),
    Last(u8, u8),
}

#[derive(Debug, Clone)]
struct HolidayRule {
    name: String,
    rule: Rule,
    first_year: i32,
}

#[derive(Debug, Clone)]
struct DueRule {
    form: String,
    party: String,
    month: u8,
    day: u8,
    what: String,
    source: String,
}

#[derive(Debug, Default)]
struct Data {
    holidays: Vec<HolidayRule>,
    due: Vec<DueRule>,
}

fn weekday_code(s: &str) -> Option<u8> {
    ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
        .iter()
        .position(|w| *w == s)
        .map(|p| p as u8)
}

fn month_day(s: &str) -> Option<(u8, u8)> {
    let (m, d) = s.split_once('-')?;
    let (m, d) = (m.parse().ok()?, d.parse().ok()?);
    Date::new(2000, m, d).map(|_| (m, d))
}

/// Parses the calendar data; every bad line is named.
fn parse(text: &str) -> Result<Data, String> {
    let mut data = Data::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let bad = || format!("calendar data line {}: {line:?}", i + 1);
        match f.as_slice() {
            ["holiday", name, rule, first] => {
                let parts: Vec<&str> = rule.split_whitespace().collect();
                let rule = match parts.as_slice() {
                    ["fixed", md] => month_day(md).map(|(m, d)| Rule::Fixed(m, d)),
                    ["nth", m, w, n] => match (m.parse().ok(), weekday_code(w), n.parse().ok()) {
                        (Some(m), Some(w), Some(n))
                            if (1..=12).contains(&m) && (1..=5).contains(&n) =>
                        {
                            Some(Rule::Nth(m, w, n))
                        }
                        _ => None,
                    },
                    ["last", m, w] => match (m.parse().ok(), weekday_code(w)) {
                        (Some(m), Some(w)) if (1..=12).contains(&m) => Some(Rule::Last(m, w)),
                        _ => None,
                    },
                    _ => None,
                }
                .ok_or_else(bad)?;
                data.holidays.push(HolidayRule {
                    name: name.to_string(),
                    rule,
                    first_year: first.parse().map_err(|_| bad())?,
                });
            }
            ["due", form, party, md, what, source] => {
                let (month, day) = month_day(md).ok_or_else(bad)?;
                data.due.push(DueRule {
                    form: form.to_string(),
                    party: party.to_string(),
                    month,
                    day,
                    what: what.to_string(),
                    source: source.to_string(),
                });
            }
            _ => return Err(bad()),
        }
    }
    Ok(data)
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    // The built-in file is checked by a unit test; a broken edit yields no dates, never a panic.
    DATA.get_or_init(|| parse(CALENDAR_DATA).unwrap_or_default())
}

/// A legal holiday as observed (a Saturday holiday on the Friday before, a Sunday one on the
/// Monday after).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    pub date: Date,
    pub name: String,
    /// The calendar date when it differs from `date` (observed on another day).
    pub actual: Option<Date>,
}

fn rule_date(rule: &Rule, year: i32) -> Option<Date> {
    match *rule {
        Rule::Fixed(m, d) => Date::new(year, m, d),
        Rule::Nth(m, w, n) => {
            let first = Date::new(year, m, 1)?;
            let offset = (7 + i64::from(w) - i64::from(first.weekday())) % 7;
            let d = first.add_days(offset + 7 * (i64::from(n) - 1));
            (d.month == m).then_some(d)
        }
        Rule::Last(m, w) => {
            let last = Date::new(year, m, days_in_month(year, m))?;
            let back = (7 + i64::from(last.weekday()) - i64::from(w)) % 7;
            Some(last.add_days(-back))
        }
    }
}

/// The legal holidays observed in `year`, in date order (a New Year's Day on a Saturday is
/// observed on December 31 of the year before).
pub fn holidays(year: i32) -> Vec<Holiday> {
    let mut out = Vec::new();
    if !YEARS.contains(&year) {
        return out;
    }
    for y in [year, year + 1] {
        for h in &data().holidays {
            if y < h.first_year {
                continue;
            }
            let Some(actual) = rule_date(&h.rule, y) else {
                continue;
            };
            let observed = match (&h.rule, actual.weekday()) {
                (Rule::Fixed(..), 5) => actual.add_days(-1),
                (Rule::Fixed(..), 6) => actual.add_days(1),
                _ => actual,
            };
            if observed.year == year {
                out.push(Holiday {
                    date: observed,
                    name: h.name.clone(),
                    actual: (observed != actual).then_some(actual),
                });
            }
        }
    }
    out.sort_by_key(|h| h.date);
    out
}

/// The holiday observed on `date`, if any.
pub fn holiday_on(date: Date) -> Option<Holiday> {
    holidays(date.year).into_iter().find(|h| h.date == date)
}

/// `date` if it is a business day, else the next one, with why each day was skipped
/// (`2027-01-31 is a Sunday`, `2027-02-15 is Washington's Birthday`).
pub fn roll_forward(date: Date) -> (Date, Vec<String>) {
    let mut d = date;
    let mut why = Vec::new();
    for _ in 0..14 {
        if d.is_weekend() {
            why.push(format!("{d} is a {}", d.weekday_name()));
        } else if let Some(h) = holiday_on(d) {
            why.push(format!("{d} is {}", h.name));
        } else {
            break;
        }
        d = d.add_days(1);
    }
    (d, why)
}

/// One due date of a tax year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub tax_year: i32,
    /// `1099-NEC`, `1042-S` or `1042`.
    pub form: String,
    /// `recipient` (furnish statements) or `irs` (file).
    pub party: String,
    pub what: String,
    /// The date the statute names.
    pub nominal: Date,
    /// The date after the weekend / legal-holiday roll (IRC §7503).
    pub due: Date,
    /// Why `due` differs from `nominal` (empty when it does not).
    pub rolled: Vec<String>,
    pub source: String,
}

/// Every due date of `tax_year` that concerns this tool, in date order.
pub fn deadlines(tax_year: i32) -> Vec<Deadline> {
    if !YEARS.contains(&tax_year) {
        return Vec::new();
    }
    let mut out: Vec<Deadline> = data()
        .due
        .iter()
        .filter_map(|r| {
            let nominal = Date::new(tax_year + 1, r.month, r.day)?;
            let (due, rolled) = roll_forward(nominal);
            Some(Deadline {
                tax_year,
                form: r.form.clone(),
                party: r.party.clone(),
                what: r.what.clone(),
                nominal,
                due,
                rolled,
                source: r.source.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.due.cmp(&b.due).then(a.form.cmp(&b.form)));
    out
}

/// The first due date on or after `today` (of the tax years that can still be due).
pub fn next_deadline(today: Date) -> Option<Deadline> {
    (today.year - 1..=today.year)
        .flat_map(deadlines)
        .filter(|d| d.due >= today)
        .min_by(|a, b| a.due.cmp(&b.due).then(a.form.cmp(&b.form)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn the_built_in_data_parses() {
        let data = parse(CALENDAR_DATA).unwrap();
        assert_eq!(data.holidays.len(), 12);
        assert_eq!(data.due.len(), 5);
        assert!(parse("holiday|x|fixed 02-30|2000").is_err());
        assert!(parse("due|1099-NEC|irs|01-31").is_err());
    }

    #[test]
    fn dates_and_weekdays() {
        assert_eq!(d("2027-01-31").weekday_name(), "Sunday");
        assert_eq!(d("2026-01-31").weekday_name(), "Saturday");
        assert_eq!(d("1970-01-01").weekday_name(), "Thursday");
        assert_eq!(d("2024-02-28").add_days(1), d("2024-02-29"));
        assert_eq!(d("2026-12-31").add_days(1), d("2027-01-01"));
        assert_eq!(d("2026-12-01").days_until(d("2027-02-01")), 62);
        assert!("2026-02-29".parse::<Date>().is_err());
        assert!("junk".parse::<Date>().is_err());
        assert_eq!(d("2027-02-01").long(), "Monday, February 1, 2027");
        for n in -1000..1000 {
            let x = d("2026-06-15").add_days(n);
            assert_eq!(x.to_string().parse::<Date>().unwrap(), x);
        }
    }

    #[test]
    fn holidays_as_observed() {
        let h: Vec<String> = holidays(2027)
            .iter()
            .map(|h| format!("{} {}", h.date, h.name))
            .collect();
        assert!(
            h.contains(&"2027-02-15 Washington's Birthday".to_string()),
            "{h:?}"
        );
        assert!(h.contains(&"2027-01-18 Birthday of Martin Luther King, Jr.".to_string()));
        // July 4, 2027 is a Sunday: observed Monday July 5. Christmas 2027 (Saturday): Dec 24.
        assert!(h.contains(&"2027-07-05 Independence Day".to_string()));
        assert!(h.contains(&"2027-12-24 Christmas Day".to_string()));
        // New Year's Day 2028 is a Saturday: observed Friday December 31, 2027.
        assert!(h.contains(&"2027-12-31 New Year's Day".to_string()));
        // Emancipation Day 2022 (Saturday) observed Friday April 15: the April 18 deadline.
        assert_eq!(roll_forward(d("2022-04-15")).0, d("2022-04-18"));
        assert_eq!(
            holiday_on(d("2026-11-26")).unwrap().name,
            "Thanksgiving Day"
        );
        assert!(
            holidays(2020)
                .iter()
                .all(|h| !h.name.starts_with("Juneteenth"))
        );
    }

    #[test]
    fn due_dates_roll_to_the_next_business_day() {
        let y26 = deadlines(2026);
        let nec: Vec<&Deadline> = y26.iter().filter(|x| x.form == "1099-NEC").collect();
        assert_eq!(nec.len(), 2);
        for x in &nec {
            assert_eq!(x.nominal, d("2027-01-31"));
            assert_eq!(x.due, d("2027-02-01"), "January 31, 2027 is a Sunday");
            assert_eq!(x.rolled, ["2027-01-31 is a Sunday"]);
        }
        let s1042 = y26.iter().find(|x| x.form == "1042-S").unwrap();
        assert_eq!(s1042.due, d("2027-03-15"));
        assert!(s1042.rolled.is_empty());
        let y25 = deadlines(2025);
        assert_eq!(y25[0].due, d("2026-02-02"), "Jan 31, 2026 is a Saturday");
        assert_eq!(
            y25.iter().find(|x| x.form == "1042").unwrap().due,
            d("2026-03-16")
        );
        // A Feb 15 due date in 2026 (Sunday, then Washington's Birthday) moves to Tuesday.
        assert_eq!(roll_forward(d("2026-02-15")).0, d("2026-02-17"));
    }

    #[test]
    fn the_next_deadline() {
        let n = next_deadline(d("2026-12-01")).unwrap();
        assert_eq!((n.tax_year, n.due), (2026, d("2027-02-01")));
        let n = next_deadline(d("2027-02-02")).unwrap();
        assert_eq!((n.form.as_str(), n.due), ("1042", d("2027-03-15")));
        let n = next_deadline(d("2027-02-01")).unwrap();
        assert_eq!(n.due, d("2027-02-01"), "due today still counts");
        assert!(deadlines(i32::MAX).is_empty() && holidays(i32::MIN).is_empty());
    }
}
