//! The centre's IQA sampling strategy: what share of each assessor's learners and work the IQA
//! samples, which evidence methods must be covered, how soon a sample is due, and the assessor
//! risks that raise the rates (an assessor working towards the assessor qualification, new to
//! the centre, short of CPD...).
//!
//! Rates are whole percentages. A rate applies per assessor: with a summative rate of 25% and
//! 9 summative work items, 3 of that assessor's items are sampled ([`required`] rounds up).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How many days back a first decision makes an assessor "new to the centre" (six months).
pub const NEW_TO_CENTRE_DAYS: i64 = 183;

/// How many days back a first registration makes a qualification "new at the centre".
pub const NEW_QUALIFICATION_DAYS: i64 = 365;

/// The stage of the work a sample looks at.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Judged by the assessor but not signed off yet.
    Interim,
    /// Signed off by the assessor and the learner.
    Summative,
}

impl Stage {
    /// Both stages, interim first.
    pub const ALL: [Stage; 2] = [Stage::Interim, Stage::Summative];

    /// The stage as a heading: "Interim", "Summative".
    pub fn title(self) -> &'static str {
        match self {
            Stage::Interim => "Interim",
            Stage::Summative => "Summative",
        }
    }

    /// The stable key: "interim", "summative".
    pub fn key(self) -> &'static str {
        match self {
            Stage::Interim => "interim",
            Stage::Summative => "summative",
        }
    }

    /// The stage with this key, if any.
    pub fn parse(key: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.key() == key)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// Something about an assessor that calls for more sampling of their decisions.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessorRisk {
    /// Their first decision at the centre was less than six months ago (or there is none).
    NewToCentre,
    /// Working towards the assessor qualification rather than holding it.
    WorkingTowards,
    /// Fewer than 24 hours of CPD in the last 12 months.
    CpdShort,
    /// Some of their decisions were referred back by the IQA in the last 90 days.
    RecentReferrals,
    /// The qualification was first registered at the centre less than a year ago.
    NewQualification,
    /// A standardisation observation in the last year raised concerns.
    StandardisationConcern,
}

impl AssessorRisk {
    /// Every risk, in display order.
    pub const ALL: [AssessorRisk; 6] = [
        AssessorRisk::NewToCentre,
        AssessorRisk::WorkingTowards,
        AssessorRisk::CpdShort,
        AssessorRisk::RecentReferrals,
        AssessorRisk::NewQualification,
        AssessorRisk::StandardisationConcern,
    ];

    /// The risk in plain words: "new to the centre".
    pub fn title(self) -> &'static str {
        match self {
            AssessorRisk::NewToCentre => "new to the centre",
            AssessorRisk::WorkingTowards => "working towards the assessor qualification",
            AssessorRisk::CpdShort => "CPD short of 24 hours",
            AssessorRisk::RecentReferrals => "decisions referred back in the last 90 days",
            AssessorRisk::NewQualification => "new qualification at the centre",
            AssessorRisk::StandardisationConcern => "concerns at a standardisation observation",
        }
    }

    /// The stable key: "new_to_centre", "working_towards"...
    pub fn key(self) -> &'static str {
        match self {
            AssessorRisk::NewToCentre => "new_to_centre",
            AssessorRisk::WorkingTowards => "working_towards",
            AssessorRisk::CpdShort => "cpd_short",
            AssessorRisk::RecentReferrals => "recent_referrals",
            AssessorRisk::NewQualification => "new_qualification",
            AssessorRisk::StandardisationConcern => "standardisation_concern",
        }
    }

    /// The risk with this key, if any.
    pub fn parse(key: &str) -> Option<AssessorRisk> {
        AssessorRisk::ALL.into_iter().find(|r| r.key() == key)
    }
}

impl fmt::Display for AssessorRisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// The sampling rate (a percentage) each risk raises an assessor's rates to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct RiskRates {
    pub new_to_centre: u8,
    pub working_towards: u8,
    pub cpd_short: u8,
    pub recent_referrals: u8,
    pub new_qualification: u8,
    pub standardisation_concern: u8,
}

impl Default for RiskRates {
    /// Working towards: 100% (the specifications ask for increased sampling); new to the
    /// centre, new qualification, recent referrals and standardisation concerns: 50%; CPD
    /// short: 35%.
    fn default() -> Self {
        RiskRates {
            new_to_centre: 50,
            working_towards: 100,
            cpd_short: 35,
            recent_referrals: 50,
            new_qualification: 50,
            standardisation_concern: 50,
        }
    }
}

impl RiskRates {
    /// The rate `risk` raises an assessor's rates to.
    pub fn rate(&self, risk: AssessorRisk) -> u8 {
        match risk {
            AssessorRisk::NewToCentre => self.new_to_centre,
            AssessorRisk::WorkingTowards => self.working_towards,
            AssessorRisk::CpdShort => self.cpd_short,
            AssessorRisk::RecentReferrals => self.recent_referrals,
            AssessorRisk::NewQualification => self.new_qualification,
            AssessorRisk::StandardisationConcern => self.standardisation_concern,
        }
    }
}

/// The centre's IQA sampling strategy.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct SamplingStrategy {
    /// The percentage of each assessor's learners (with work in the period) who must have at
    /// least one sample. Default 25.
    pub learner_rate: u8,
    /// The percentage of each assessor's interim work items (units judged but not signed off)
    /// to sample. Default 10.
    pub interim_rate: u8,
    /// The percentage of each assessor's summative work items (units signed off) to sample.
    /// Default 25.
    pub summative_rate: u8,
    /// Evidence-method keys that must each be covered at least once when used in the period;
    /// empty means every method used in the period. Default empty.
    pub methods: Vec<String>,
    /// A sample is due this many days after its work became ready. Default 30.
    pub days_to_sample: u16,
    /// The rates each assessor risk raises the rates to.
    pub risk_rates: RiskRates,
}

impl Default for SamplingStrategy {
    fn default() -> Self {
        SamplingStrategy {
            learner_rate: 25,
            interim_rate: 10,
            summative_rate: 25,
            methods: Vec::new(),
            days_to_sample: 30,
            risk_rates: RiskRates::default(),
        }
    }
}

impl SamplingStrategy {
    /// Every problem with the strategy, in plain English, or `Ok` when it can be used.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let mut rate = |value: u8, what: &str| {
            if value > 100 {
                problems.push(format!("The {what} must be between 0% and 100%"));
            }
        };
        rate(self.learner_rate, "learner rate");
        rate(self.interim_rate, "interim rate");
        rate(self.summative_rate, "summative rate");
        for risk in AssessorRisk::ALL {
            rate(
                self.risk_rates.rate(risk),
                &format!("rate for assessors with the risk \"{}\"", risk.title()),
            );
        }
        if !(1..=365).contains(&self.days_to_sample) {
            problems.push("The days to sample must be between 1 and 365".to_string());
        }
        if self.methods.iter().any(|m| m.trim().is_empty()) {
            problems.push(
                "One of the methods to cover is blank: give its key or remove it".to_string(),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The rate an assessor with these risks is sampled at for a base rate: the highest of
    /// `base` and each applicable risk's rate. Never lower than `base`.
    pub fn raised(&self, base: u8, risks: &[AssessorRisk]) -> u8 {
        risks
            .iter()
            .map(|&r| self.risk_rates.rate(r))
            .fold(base, u8::max)
    }

    /// The risks among `risks` that set the raised rate for `base` (those whose rate is the
    /// raised rate, when that is above `base`), in order, without duplicates. Empty when no
    /// risk raises it.
    pub fn raising_risks(&self, base: u8, risks: &[AssessorRisk]) -> Vec<AssessorRisk> {
        let raised = self.raised(base, risks);
        if raised <= base {
            return Vec::new();
        }
        let mut out: Vec<AssessorRisk> = risks
            .iter()
            .copied()
            .filter(|&r| self.risk_rates.rate(r) == raised)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// How many of `n` items a `rate`% sample needs: `ceil(n * rate / 100)`, so at least 1 when
/// `n > 0` and `rate > 0`. Rates above 100% count as 100%, so it is never more than `n`.
pub fn required(n: usize, rate: u8) -> usize {
    let rate = usize::from(rate.min(100));
    (n * rate).div_ceil(100)
}

/// The plain facts about an assessor that their risks follow from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct RiskFacts {
    /// Working towards the assessor qualification rather than holding it.
    pub working_towards: bool,
    /// Fewer than 24 hours of CPD in the last 12 months.
    pub cpd_short: bool,
    /// The date of their first assessment decision at the centre, if any.
    #[serde(with = "super::iso_date_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub first_decision_at_centre: Option<NaiveDate>,
    /// How many of their decisions the IQA referred back in the last 90 days.
    pub referrals_last_90_days: usize,
    /// When the qualification was first registered at the centre, if it has been.
    #[serde(with = "super::iso_date_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub qualification_first_registered: Option<NaiveDate>,
    /// A standardisation observation in the last year raised concerns.
    pub standardisation_concern_last_year: bool,
}

/// An assessor's risks on `today`, sorted, without duplicates:
/// - new to the centre when they have no decision at the centre yet, or their first was
///   within 183 days of `today`;
/// - new qualification when it was first registered at the centre within 365 days of
///   `today`;
/// - recent referrals when any decision was referred back in the last 90 days;
/// - working towards, CPD short and standardisation concern as the facts say.
pub fn assessor_risks(f: &RiskFacts, today: NaiveDate) -> Vec<AssessorRisk> {
    let within = |date: NaiveDate, days: i64| (today - date).num_days() <= days;
    let mut risks = Vec::new();
    if f.first_decision_at_centre
        .is_none_or(|d| within(d, NEW_TO_CENTRE_DAYS))
    {
        risks.push(AssessorRisk::NewToCentre);
    }
    if f.working_towards {
        risks.push(AssessorRisk::WorkingTowards);
    }
    if f.cpd_short {
        risks.push(AssessorRisk::CpdShort);
    }
    if f.referrals_last_90_days > 0 {
        risks.push(AssessorRisk::RecentReferrals);
    }
    if f.qualification_first_registered
        .is_some_and(|d| within(d, NEW_QUALIFICATION_DAYS))
    {
        risks.push(AssessorRisk::NewQualification);
    }
    if f.standardisation_concern_last_year {
        risks.push(AssessorRisk::StandardisationConcern);
    }
    risks.sort_unstable();
    risks.dedup();
    risks
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn required_rounds_up() {
        assert_eq!(required(0, 25), 0);
        assert_eq!(required(10, 0), 0);
        assert_eq!(required(1, 1), 1);
        assert_eq!(required(9, 25), 3);
        assert_eq!(required(8, 25), 2);
        assert_eq!(required(10, 10), 1);
        assert_eq!(required(11, 10), 2);
        assert_eq!(required(7, 100), 7);
        assert_eq!(required(7, 200), 7);
    }

    #[test]
    fn defaults_are_valid() {
        let s = SamplingStrategy::default();
        assert_eq!(s.learner_rate, 25);
        assert_eq!(s.interim_rate, 10);
        assert_eq!(s.summative_rate, 25);
        assert_eq!(s.days_to_sample, 30);
        assert_eq!(s.risk_rates.working_towards, 100);
        assert_eq!(s.risk_rates.cpd_short, 35);
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn validate_names_every_problem() {
        let s = SamplingStrategy {
            summative_rate: 101,
            days_to_sample: 0,
            risk_rates: RiskRates {
                cpd_short: 150,
                ..RiskRates::default()
            },
            methods: vec![" ".into()],
            ..SamplingStrategy::default()
        };
        let problems = s.validate().unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.contains(&"The summative rate must be between 0% and 100%".into()));
        assert!(problems.contains(&"The days to sample must be between 1 and 365".into()));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("CPD short of 24 hours") && p.contains("between 0% and 100%"))
        );
        let late = SamplingStrategy {
            days_to_sample: 366,
            ..SamplingStrategy::default()
        };
        assert_eq!(
            late.validate(),
            Err(vec![
                "The days to sample must be between 1 and 365".to_string()
            ])
        );
    }

    #[test]
    fn raised_takes_the_highest() {
        let s = SamplingStrategy::default();
        assert_eq!(s.raised(25, &[]), 25);
        assert_eq!(s.raised(25, &[AssessorRisk::CpdShort]), 35);
        assert_eq!(
            s.raised(25, &[AssessorRisk::CpdShort, AssessorRisk::WorkingTowards]),
            100
        );
        assert_eq!(s.raised(60, &[AssessorRisk::NewToCentre]), 60);
        assert_eq!(
            s.raising_risks(25, &[AssessorRisk::CpdShort, AssessorRisk::WorkingTowards]),
            vec![AssessorRisk::WorkingTowards]
        );
        assert!(s.raising_risks(60, &[AssessorRisk::NewToCentre]).is_empty());
    }

    #[test]
    fn keys_round_trip() {
        for r in AssessorRisk::ALL {
            assert_eq!(AssessorRisk::parse(r.key()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.key())
            );
        }
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.key()), Some(s));
        }
        assert_eq!(Stage::parse("final"), None);
        assert_eq!(AssessorRisk::parse(""), None);
        assert_eq!(Stage::Summative.title(), "Summative");
    }

    #[test]
    fn risks_from_facts() {
        let today = d(2026, 6, 15);
        let none = RiskFacts {
            first_decision_at_centre: Some(d(2020, 1, 1)),
            ..RiskFacts::default()
        };
        assert!(assessor_risks(&none, today).is_empty());

        // No decision yet: new to the centre.
        assert_eq!(
            assessor_risks(&RiskFacts::default(), today),
            vec![AssessorRisk::NewToCentre]
        );
        // 183 days back is still new; 184 is not.
        let edge = |days: i64| RiskFacts {
            first_decision_at_centre: Some(today - chrono::Days::new(days.unsigned_abs())),
            ..RiskFacts::default()
        };
        assert_eq!(
            assessor_risks(&edge(183), today),
            vec![AssessorRisk::NewToCentre]
        );
        assert!(assessor_risks(&edge(184), today).is_empty());

        let all = RiskFacts {
            working_towards: true,
            cpd_short: true,
            first_decision_at_centre: Some(d(2026, 5, 1)),
            referrals_last_90_days: 2,
            qualification_first_registered: Some(d(2025, 6, 15)),
            standardisation_concern_last_year: true,
        };
        assert_eq!(assessor_risks(&all, today), AssessorRisk::ALL.to_vec());

        let old_qualification = RiskFacts {
            qualification_first_registered: Some(d(2025, 6, 14)),
            ..none.clone()
        };
        assert!(assessor_risks(&old_qualification, today).is_empty());
    }

    fn arb_risks() -> impl Strategy<Value = Vec<AssessorRisk>> {
        proptest::collection::vec(proptest::sample::select(AssessorRisk::ALL.to_vec()), 0..6)
    }

    proptest! {
        #[test]
        fn risk_never_lowers_a_rate(
            base in 0u8..=100,
            risks in arb_risks(),
            extra in proptest::sample::select(AssessorRisk::ALL.to_vec()),
            rates in proptest::array::uniform6(0u8..=100),
        ) {
            let s = SamplingStrategy {
                risk_rates: RiskRates {
                    new_to_centre: rates[0],
                    working_towards: rates[1],
                    cpd_short: rates[2],
                    recent_referrals: rates[3],
                    new_qualification: rates[4],
                    standardisation_concern: rates[5],
                },
                ..SamplingStrategy::default()
            };
            let r = s.raised(base, &risks);
            prop_assert!(r >= base);
            let mut more = risks.clone();
            more.push(extra);
            prop_assert!(s.raised(base, &more) >= r);
            prop_assert!(s.raised(base, &more) >= s.risk_rates.rate(extra));
        }

        #[test]
        fn required_is_a_rounded_up_share(n in 0usize..10_000, rate in 0u8..=100) {
            let k = required(n, rate);
            prop_assert!(k <= n);
            prop_assert!(k * 100 >= n * usize::from(rate));
            if n > 0 && rate > 0 {
                prop_assert!(k >= 1);
            }
        }
    }
}
