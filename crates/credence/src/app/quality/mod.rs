//! Quality assurance (issue 12): the sampling strategy and plan, IQA decisions and
//! referrals, standardisation ([`sampling`]); EQA visits, reports and direct claim status
//! ([`eqa`]); claims, the gate that releases them, and appeals ([`claims`]). The rules are
//! `credence_domain::qa`; who may take part is [`super::authz::QaScope`].

pub mod claims;
pub mod eqa;
pub mod sampling;

use super::{AppError, AppResult};
use chrono::NaiveDate;

/// Today, as quality assurance counts days (UTC).
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A date as people type it (`YYYY-MM-DD` or `DD/MM/YYYY`), or a validation error naming
/// the field.
pub fn parse_day(field: &str, text: &str) -> AppResult<NaiveDate> {
    credence_domain::people::registration::parse_date(text)
        .map_err(|why| AppError::Validation(format!("{field}: {why}")))
}

/// The date part of a stored timestamp.
pub fn day_of(at: &str) -> NaiveDate {
    NaiveDate::parse_from_str(at.get(..10).unwrap_or(at), "%Y-%m-%d").unwrap_or_default()
}

/// Text people wrote, trimmed and bounded.
pub fn bounded(field: &str, text: &str, max: usize) -> AppResult<String> {
    let t = text.trim();
    if t.chars().count() > max {
        return Err(AppError::Validation(format!(
            "{field} can be at most {max} characters"
        )));
    }
    Ok(t.to_string())
}
