//! Staff competence: the occupational competence, assessor or IQA qualifications and CPD of
//! assessors and IQAs; whom they may be assigned to, and what quality assurance should know.
//!
//! The rules (DOMAIN.md, "People and their competence"; issue 5):
//! - occupational competence at least one level above the qualification: competence at level
//!   `n` may assess or quality assure qualifications at level `n - 1` and below;
//! - assessors hold or work towards an assessor qualification (A1, D32, D33, the Level 3
//!   assessing awards and certificate); IQAs an IQA qualification (D34, V1, the Level 4 IQA
//!   award and certificate);
//! - 24 hours of CPD in the last 12 months: required of assessors, recommended for IQAs;
//! - someone working towards their qualification is sampled more (more IQA sampling,
//!   re-assessment, standardisation).
//!
//! "The last 12 months" on `today` runs from the same calendar date a year earlier to `today`,
//! both inclusive (on 2026-06-15: 2025-06-15 to 2026-06-15; on 2025-02-28 from 2024-02-28; a
//! 29 February today reaches back to 28 February). Entries dated after `today` do not count.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The CPD hours a year assessors need (and IQAs are recommended).
pub const CPD_HOURS_PER_YEAR: u32 = 24;

/// The roles competence is judged for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Assessor,
    Iqa,
}

impl StaffRole {
    pub fn noun(self) -> &'static str {
        match self {
            StaffRole::Assessor => "assessor",
            StaffRole::Iqa => "IQA",
        }
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// An assessor or IQA qualification.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessorAward {
    /// A1 Assess candidate performance using a range of methods.
    A1,
    /// D32 Assess candidate performance.
    D32,
    /// D33 Assess candidate using differing sources of evidence.
    D33,
    /// D34 Internally verify the assessment process.
    D34,
    /// V1 Conduct internal quality assurance of the assessment process.
    V1,
    /// Level 3 Award in Assessing Competence in the Work Environment.
    L3AwardAssessingCompetence,
    /// Level 3 Award in Assessing Vocationally Related Achievement.
    L3AwardAssessingVocationallyRelatedAchievement,
    /// Level 3 Certificate in Assessing Vocational Achievement.
    L3CertificateAssessingVocationalAchievement,
    /// Level 4 Award in the Internal Quality Assurance of Assessment Processes and Practice.
    L4AwardIqa,
    /// Level 4 Certificate in Leading the Internal Quality Assurance of Assessment Processes and
    /// Practice.
    L4CertificateLeadingIqa,
    /// Any other qualification, by its title. Recorded, but not counted for either role:
    /// if the awarding organisation accepts it as equivalent, record the equivalent instead.
    Other(String),
}

impl AssessorAward {
    /// Every named award, in the order a form lists them.
    pub const NAMED: [AssessorAward; 10] = [
        AssessorAward::L3AwardAssessingCompetence,
        AssessorAward::L3AwardAssessingVocationallyRelatedAchievement,
        AssessorAward::L3CertificateAssessingVocationalAchievement,
        AssessorAward::A1,
        AssessorAward::D32,
        AssessorAward::D33,
        AssessorAward::L4AwardIqa,
        AssessorAward::L4CertificateLeadingIqa,
        AssessorAward::D34,
        AssessorAward::V1,
    ];

    /// Whether holding (or working towards) this award meets the qualification requirement of
    /// `role`.
    pub fn qualifies_for(&self, role: StaffRole) -> bool {
        use AssessorAward::*;
        match role {
            StaffRole::Assessor => matches!(
                self,
                A1 | D32
                    | D33
                    | L3AwardAssessingCompetence
                    | L3AwardAssessingVocationallyRelatedAchievement
                    | L3CertificateAssessingVocationalAchievement
            ),
            StaffRole::Iqa => matches!(self, D34 | V1 | L4AwardIqa | L4CertificateLeadingIqa),
        }
    }

    /// The full title, as written on the certificate.
    pub fn title(&self) -> &str {
        use AssessorAward::*;
        match self {
            A1 => "A1 Assess candidate performance using a range of methods",
            D32 => "D32 Assess candidate performance",
            D33 => "D33 Assess candidate using differing sources of evidence",
            D34 => "D34 Internally verify the assessment process",
            V1 => "V1 Conduct internal quality assurance of the assessment process",
            L3AwardAssessingCompetence => {
                "Level 3 Award in Assessing Competence in the Work Environment"
            }
            L3AwardAssessingVocationallyRelatedAchievement => {
                "Level 3 Award in Assessing Vocationally Related Achievement"
            }
            L3CertificateAssessingVocationalAchievement => {
                "Level 3 Certificate in Assessing Vocational Achievement"
            }
            L4AwardIqa => {
                "Level 4 Award in the Internal Quality Assurance of Assessment Processes and Practice"
            }
            L4CertificateLeadingIqa => {
                "Level 4 Certificate in Leading the Internal Quality Assurance of Assessment Processes and Practice"
            }
            Other(title) => title,
        }
    }
}

impl fmt::Display for AssessorAward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// Held, or working towards.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AwardStatus {
    Held,
    WorkingTowards,
}

/// One assessor or IQA qualification of a member of staff.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardHeld {
    pub award: AssessorAward,
    pub status: AwardStatus,
}

/// One piece of continuing professional development.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpdEntry {
    #[serde(with = "super::iso_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    /// Length in minutes (whole minutes keep sums exact).
    pub minutes: u32,
    pub description: String,
}

/// What a member of staff records about their competence.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetenceRecord {
    /// The level (RQF, 1 to 8) at which they are occupationally competent in the sector.
    pub occupational_level: u8,
    pub awards: Vec<AwardHeld>,
    pub cpd: Vec<CpdEntry>,
}

/// A problem with what was entered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompetenceInputError {
    #[error(
        "occupational competence level {0} is not a level: give the RQF level, 1 to 8, at which you are occupationally competent"
    )]
    Level(u8),
    #[error("the CPD entry of {date} is dated in the future: record CPD once it has taken place")]
    CpdInFuture { date: String },
    #[error("the CPD entry of {date} has no length: give how long it took, in hours and minutes")]
    CpdNoTime { date: String },
    #[error(
        "the CPD entry of {date} is {minutes} minutes long, more than a day: record each day separately"
    )]
    CpdTooLong { date: String, minutes: u32 },
    #[error("the CPD entry of {date} has no description: say what the CPD was")]
    CpdNoDescription { date: String },
    #[error("an award is recorded with no title: give the full title of the qualification")]
    AwardNoTitle,
}

/// Every problem with a record as entered (`today` is the date it is entered on).
pub fn validate_record(
    record: &CompetenceRecord,
    today: NaiveDate,
) -> Result<(), Vec<CompetenceInputError>> {
    let mut errors = Vec::new();
    if !(1..=8).contains(&record.occupational_level) {
        errors.push(CompetenceInputError::Level(record.occupational_level));
    }
    for a in &record.awards {
        if let AssessorAward::Other(t) = &a.award
            && t.trim().is_empty()
        {
            errors.push(CompetenceInputError::AwardNoTitle);
        }
    }
    for e in &record.cpd {
        let date = crate::people::registration::uk_day(e.date);
        if e.date > today {
            errors.push(CompetenceInputError::CpdInFuture { date: date.clone() });
        }
        if e.minutes == 0 {
            errors.push(CompetenceInputError::CpdNoTime { date: date.clone() });
        } else if e.minutes > 24 * 60 {
            errors.push(CompetenceInputError::CpdTooLong {
                date: date.clone(),
                minutes: e.minutes,
            });
        }
        if e.description.trim().is_empty() {
            errors.push(CompetenceInputError::CpdNoDescription { date });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// One reason an assignment is refused.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RefusalReason {
    #[error(
        "their occupational competence is at Level {competence_level}; to act as {} on a Level {qualification_level} qualification it must be at Level {needed} or above (one level above the qualification)",
        article(*.role)
    )]
    CompetenceTooLow {
        role: StaffRole,
        competence_level: u8,
        qualification_level: u8,
        needed: u16,
    },
    #[error(
        "they hold no {} qualification and are not working towards one: record one they hold or are working towards ({})",
        .role.noun(),
        award_list(*.role)
    )]
    NoAward { role: StaffRole },
}

fn article(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Assessor => "an assessor",
        StaffRole::Iqa => "an IQA",
    }
}

fn award_list(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Assessor => {
            "the Level 3 Award in Assessing Competence in the Work Environment, the Level 3 Award in Assessing Vocationally Related Achievement, the Level 3 Certificate in Assessing Vocational Achievement, A1, D32 or D33"
        }
        StaffRole::Iqa => {
            "the Level 4 Award or Certificate in the Internal Quality Assurance of Assessment Processes and Practice, D34 or V1"
        }
    }
}

/// Why someone may not be assigned: every reason that applies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot be assigned as {}: {}", article(self.role), join_reasons(&self.reasons))]
pub struct AssignmentRefusal {
    pub role: StaffRole,
    pub reasons: Vec<RefusalReason>,
}

fn join_reasons(reasons: &[RefusalReason]) -> String {
    reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; and ")
}

/// The best status among the awards that count for `role`: `Held` if any is held, otherwise
/// `WorkingTowards` if any is being worked towards, otherwise `None`.
pub fn award_status(role: StaffRole, record: &CompetenceRecord) -> Option<AwardStatus> {
    let mut best = None;
    for a in record.awards.iter().filter(|a| a.award.qualifies_for(role)) {
        match a.status {
            AwardStatus::Held => return Some(AwardStatus::Held),
            AwardStatus::WorkingTowards => best = Some(AwardStatus::WorkingTowards),
        }
    }
    best
}

/// Whether someone with `record` may be assigned as `role` to learners on a qualification at
/// `qualification_level`. Their competence must be at least one level above the qualification,
/// and they must hold or be working towards an award for the role. Refusals list every reason.
pub fn check_assignment(
    role: StaffRole,
    record: &CompetenceRecord,
    qualification_level: u8,
) -> Result<(), AssignmentRefusal> {
    let mut reasons = Vec::new();
    let needed = u16::from(qualification_level) + 1;
    if u16::from(record.occupational_level) < needed {
        reasons.push(RefusalReason::CompetenceTooLow {
            role,
            competence_level: record.occupational_level,
            qualification_level,
            needed,
        });
    }
    if award_status(role, record).is_none() {
        reasons.push(RefusalReason::NoAward { role });
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(AssignmentRefusal { role, reasons })
    }
}

/// The first day of the CPD window on `today`: the same calendar date a year earlier (28
/// February when `today` is 29 February).
pub fn cpd_window_start(today: NaiveDate) -> NaiveDate {
    today.checked_sub_months(Months::new(12)).unwrap_or(today)
}

/// CPD minutes from the window start to `today`, both inclusive.
pub fn cpd_minutes_last_12_months(record: &CompetenceRecord, today: NaiveDate) -> u64 {
    let start = cpd_window_start(today);
    record
        .cpd
        .iter()
        .filter(|e| e.date >= start && e.date <= today)
        .map(|e| u64::from(e.minutes))
        .sum()
}

/// CPD hours in the last 12 months (see the module documentation for the window).
pub fn cpd_hours_last_12_months(record: &CompetenceRecord, today: NaiveDate) -> f32 {
    // Whole minutes over 60: exact enough for display, and the comparison with 24 hours is
    // done in minutes.
    cpd_minutes_last_12_months(record, today) as f32 / 60.0
}

/// Something quality assurance should know about a member of staff in a role.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CompetenceFlag {
    /// Fewer CPD hours in the last 12 months than required (assessors) or recommended (IQAs).
    BelowCpd {
        role: StaffRole,
        hours: f32,
        required: u32,
        /// True where the hours are recommended rather than required (IQAs).
        recommended_only: bool,
    },
    /// Working towards the role's qualification and holding none: sample more.
    WorkingTowards {
        role: StaffRole,
        award: AssessorAward,
    },
    /// Neither holds nor works towards a qualification for the role.
    NoAward { role: StaffRole },
}

fn hours_text(hours: f32) -> String {
    let minutes = (hours * 60.0).round() as u64;
    let (h, m) = (minutes / 60, minutes % 60);
    let unit = if h == 1 { "hour" } else { "hours" };
    if m == 0 {
        format!("{h} {unit}")
    } else {
        format!("{h} {unit} {m} minutes")
    }
}

impl CompetenceFlag {
    /// The flag in plain words.
    pub fn message(&self) -> String {
        match self {
            CompetenceFlag::BelowCpd {
                role: StaffRole::Assessor,
                hours,
                required,
                ..
            } => format!(
                "{} of CPD in the last 12 months; assessors need {required} hours a year: plan more CPD",
                hours_text(*hours)
            ),
            CompetenceFlag::BelowCpd {
                role: StaffRole::Iqa,
                hours,
                required,
                ..
            } => format!(
                "{} of CPD in the last 12 months; {required} hours a year are recommended for IQAs",
                hours_text(*hours)
            ),
            CompetenceFlag::WorkingTowards { role, award } => format!(
                "working towards the {award} and not yet qualified as {}: sample more of their decisions (more IQA sampling, re-assessment and standardisation) until they achieve it",
                article(*role)
            ),
            CompetenceFlag::NoAward { role } => format!(
                "holds no {} qualification and is not working towards one: they cannot be assigned as {} until one is recorded",
                role.noun(),
                article(*role)
            ),
        }
    }
}

impl fmt::Display for CompetenceFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// What to flag about someone with `record` acting as `role` on `today`: CPD below 24 hours in
/// the last 12 months (required of assessors, recommended for IQAs), each award for the role
/// being worked towards when none is held, or no award for the role at all.
pub fn flags(role: StaffRole, record: &CompetenceRecord, today: NaiveDate) -> Vec<CompetenceFlag> {
    let mut out = Vec::new();
    let minutes = cpd_minutes_last_12_months(record, today);
    if minutes < u64::from(CPD_HOURS_PER_YEAR) * 60 {
        out.push(CompetenceFlag::BelowCpd {
            role,
            hours: minutes as f32 / 60.0,
            required: CPD_HOURS_PER_YEAR,
            recommended_only: role == StaffRole::Iqa,
        });
    }
    match award_status(role, record) {
        Some(AwardStatus::Held) => {}
        Some(AwardStatus::WorkingTowards) => {
            for a in &record.awards {
                if a.award.qualifies_for(role) && a.status == AwardStatus::WorkingTowards {
                    out.push(CompetenceFlag::WorkingTowards {
                        role,
                        award: a.award.clone(),
                    });
                }
            }
        }
        None => out.push(CompetenceFlag::NoAward { role }),
    }
    out
}
