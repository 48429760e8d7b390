//! Dates and times as people in the UK read them: "29 November 2026", "14:05", in
//! Europe/London time. Stored times are RFC 3339 in UTC; the JSON API and CSV files keep
//! them so. Pages (through `web::format`, the same module) and the achievement log's PDF show
//! them through these functions and nothing else.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// The last Sunday of a month.
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .unwrap_or_default();
    let last = first_of_next.pred_opt().unwrap_or(first_of_next);
    let back = last.weekday().num_days_from_sunday();
    last - Duration::days(i64::from(back))
}

/// Whether British Summer Time is in force at an instant: from 01:00 UTC on the last Sunday
/// in March until 01:00 UTC on the last Sunday in October (the UK's rule since 1981).
pub fn is_bst(t: DateTime<Utc>) -> bool {
    let y = t.year();
    let at_one = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(1, 0, 0).unwrap_or_default());
    let starts = at_one(last_sunday(y, 3));
    let ends = at_one(last_sunday(y, 10));
    t >= starts && t < ends
}

/// The wall-clock time in London at an instant.
pub fn london(t: DateTime<Utc>) -> NaiveDateTime {
    let offset = if is_bst(t) { 1 } else { 0 };
    t.naive_utc() + Duration::hours(offset)
}

/// A stored timestamp: RFC 3339, or without an offset (read as UTC).
fn instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .map(|n| Utc.from_utc_datetime(&n))
}

/// "29 November 2026" (written out: a page shows dozens, and a `strftime` pattern is parsed
/// at every call).
fn day(d: NaiveDate) -> String {
    credence_domain::people::registration::uk_day(d)
}

/// A stored date or timestamp as its day in the UK: "29 November 2026". A timestamp is
/// taken to London time first (23:30 UTC on 29 June is 30 June in London). Anything that
/// is not a date is shown as it is.
pub fn uk_date(s: &str) -> String {
    // A bare date (most of those shown) is read as one, before trying it as a timestamp.
    if s.len() == 10
        && let Ok(d) = s.parse::<NaiveDate>()
    {
        return day(d);
    }
    if let Some(t) = instant(s) {
        return day(london(t).date());
    }
    match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        Ok(d) => day(d),
        Err(_) => s.to_string(),
    }
}

/// An optional stored date in UK form, or empty.
pub fn uk_opt(s: Option<&str>) -> String {
    s.map(uk_date).unwrap_or_default()
}

/// A stored timestamp as a day and a London time: "29 November 2026 at 14:05". A bare date
/// is shown as [`uk_date`] shows it.
pub fn uk_date_time(s: &str) -> String {
    match instant(s) {
        Some(t) => {
            let l = london(t);
            format!("{} at {}", day(l.date()), l.format("%H:%M"))
        }
        None => uk_date(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_last_sunday_of_a_month() {
        assert_eq!(
            last_sunday(2026, 3),
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()
        );
        assert_eq!(
            last_sunday(2026, 10),
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap()
        );
        assert_eq!(
            last_sunday(2027, 10),
            NaiveDate::from_ymd_opt(2027, 10, 31).unwrap()
        );
        assert_eq!(
            last_sunday(2030, 12),
            NaiveDate::from_ymd_opt(2030, 12, 29).unwrap()
        );
    }

    #[test]
    fn summer_time_starts_and_ends_at_one_in_the_morning_utc() {
        // 2026: last Sunday in March is the 29th, in October the 25th.
        assert!(!is_bst(at("2026-03-29T00:59:59Z")));
        assert!(is_bst(at("2026-03-29T01:00:00Z")));
        assert!(is_bst(at("2026-10-25T00:59:59Z")));
        assert!(!is_bst(at("2026-10-25T01:00:00Z")));
        // 2027: 28 March and 31 October (a month ending on a Sunday).
        assert!(is_bst(at("2027-03-28T01:00:00Z")));
        assert!(is_bst(at("2027-10-31T00:30:00Z")));
        assert!(!is_bst(at("2027-10-31T01:00:00Z")));
        assert!(!is_bst(at("2026-01-15T12:00:00Z")));
        assert!(is_bst(at("2026-07-15T12:00:00Z")));
    }

    #[test]
    fn times_are_shown_in_london_time() {
        assert_eq!(
            uk_date_time("2026-11-29T20:51:00Z"),
            "29 November 2026 at 20:51"
        );
        assert_eq!(
            uk_date_time("2026-06-29T13:05:00Z"),
            "29 June 2026 at 14:05"
        );
        // Late evening UTC in summer is the next day in London.
        assert_eq!(
            uk_date_time("2026-06-29T23:30:00Z"),
            "30 June 2026 at 00:30"
        );
        assert_eq!(uk_date("2026-06-29T23:30:00Z"), "30 June 2026");
        assert_eq!(uk_date("2026-12-31T23:30:00Z"), "31 December 2026");
        // The hour the clocks go forward and back.
        assert_eq!(
            uk_date_time("2026-03-29T00:30:00Z"),
            "29 March 2026 at 00:30"
        );
        assert_eq!(
            uk_date_time("2026-03-29T01:30:00Z"),
            "29 March 2026 at 02:30"
        );
        assert_eq!(
            uk_date_time("2026-10-25T00:30:00Z"),
            "25 October 2026 at 01:30"
        );
        assert_eq!(
            uk_date_time("2026-10-25T01:30:00Z"),
            "25 October 2026 at 01:30"
        );
        // Stored forms: microseconds, an offset, no offset.
        assert_eq!(
            uk_date_time("2026-11-30T02:48:38.123456Z"),
            "30 November 2026 at 02:48"
        );
        assert_eq!(
            uk_date_time("2026-07-01T09:00:00+02:00"),
            "1 July 2026 at 08:00"
        );
        assert_eq!(
            uk_date_time("2026-11-30 02:48:38"),
            "30 November 2026 at 02:48"
        );
    }

    #[test]
    fn dates_are_written_out_and_anything_else_is_left_alone() {
        assert_eq!(uk_date("2026-11-29"), "29 November 2026");
        assert_eq!(uk_date_time("2026-11-29"), "29 November 2026");
        assert_eq!(uk_date("2026-02-01"), "1 February 2026");
        assert_eq!(uk_date("not a date"), "not a date");
        assert_eq!(uk_opt(None), "");
        assert_eq!(uk_opt(Some("2026-11-29")), "29 November 2026");
    }
}

/// A count with thousands separated by commas, as GOV.UK writes numbers: 12,500.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod thousands_tests {
    #[test]
    fn thousands_are_separated_by_commas() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(12_500), "12,500");
        assert_eq!(super::thousands(1_000_000), "1,000,000");
        assert_eq!(super::thousands(-4200), "-4,200");
    }
}
