//! Quality assurance: internal (IQA) sampling and external (EQA) visits.
//!
//! Pure like the rest of the crate: no I/O, no clock, no randomness. "Today" is an argument;
//! storage and the pages live in the `credence` crate and call these.
//!
//! - [`strategy`]: the centre's sampling strategy (learner, interim and summative rates,
//!   methods to cover, days to sample) and the assessor risks that raise the rates.
//! - [`plan`]: generating the IQA sampling plan so that it is CAMERA-complete (every
//!   Candidate group, Assessor, Method, Element (unit), Record (learner, at the learner rate)
//!   and assessment location with work is sampled) and meets every assessor's rates; the
//!   coverage the plan page shows.
//! - [`gate`]: what a certificate claim waits for (sign-off, IQA, appeals, EQA sanctions,
//!   direct claim status).
//! - [`visits`]: when EQA visits are due, and whether a centre meets the conditions for direct
//!   claim status.

pub mod gate;
pub mod plan;
pub mod strategy;
pub mod visits;

pub use gate::{ClaimGate, GateAnswer, UnitGate, UnitQa, Wait, gate};
pub use plan::{
    AssessorCoverage, AssessorFacts, Coverage, CoverageCell, ExistingSample, Gap, PlanInput,
    PlannedSample, SampleState, SamplingPlan, Work, coverage_of, generate_plan,
};
pub use strategy::{
    AssessorRisk, RiskFacts, RiskRates, SamplingStrategy, Stage, assessor_risks, required,
};
pub use visits::{
    CentreRisk, CentreVisits, DcsFacts, DcsPolicy, VisitDue, VisitOutcome, dcs_eligibility,
    visits_due,
};

/// Serde for `Option<chrono::NaiveDate>` as `YYYY-MM-DD` text or null.
pub(crate) mod iso_date_opt {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    // Serde's `with` passes a reference to the field, so the signature is fixed.
    #[allow(clippy::ref_option)]
    pub fn serialize<S: Serializer>(date: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(d) => s.collect_str(&d.format("%Y-%m-%d")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "'{text}' is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31"
                ))
            })
    }
}
