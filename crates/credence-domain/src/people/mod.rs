//! People: learners and their registration, staff competence, conflicts of interest and the
//! audit chain (issue 5, "Centres, people and roles").
//!
//! Pure like the rest of the crate: no I/O, no clock, no randomness. "Today" and "now" are
//! arguments; storage, sign-in and the pages live in the `credence` crate and call these.
//!
//! - [`uln`]: the Unique Learner Number and its check digit.
//! - [`registration`]: registering learners on a qualification, one at a time or from a CSV
//!   file, with every problem of every row named.
//! - [`competence`]: assessors' and IQAs' occupational competence, awards and CPD; who may be
//!   assigned to what, and what to flag.
//! - [`conflict`]: declared interests in learners; who may assess or quality assure whom.
//! - [`audit`]: the append-only audit log and its hash chain.

pub mod audit;
pub mod competence;
pub mod conflict;
pub mod registration;
pub mod uln;

pub use uln::{Uln, UlnError};

/// Serde for `chrono::NaiveDate` as `YYYY-MM-DD` text (the workspace builds chrono without its
/// `serde` feature).
pub(crate) mod iso_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(date: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&date.format("%Y-%m-%d"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let text = String::deserialize(d)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
            serde::de::Error::custom(format!(
                "'{text}' is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31"
            ))
        })
    }
}
