//! Marked assessment (ISMM): component marks, moderation, special consideration and grade.
//!
//! Seed 003: the assignment is "internally marked by the centre against a mark scheme
//! supplied by the ISMM and then externally moderated ... candidates must score at least 50%
//! on each assignment in order to pass" (line 94); units and the Award are graded
//! Fail/Pass/Merit/Distinction (lines 98-100); Unit 1 is a case-study report 50% and a
//! presentation 50% (line 122); Unit 2 a 3000-word work-based project (line 337).
//!
//! Arithmetic is exact: percentages are kept in hundredths of a percent (integers) and only
//! turned into `f64` for the result, so 49.99 fails and 50.00 passes with no rounding.

use serde::{Deserialize, Serialize};

use crate::model::{AssessmentComponent, Grading};

/// The most special consideration may add, in percentage points, per entry and in total.
/// Our reading: the usual awarding-body maximum (JCQ: up to 5%); the ISMM specification
/// defers to its administration handbook (seed 003, line 110).
pub const MAX_CONSIDERATION_PERCENT: u32 = 5;

/// The largest moderator adjustment, up or down, in percentage points.
pub const MAX_MODERATOR_ADJUSTMENT: i32 = 100;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    Fail,
    Pass,
    Merit,
    Distinction,
}

impl Grade {
    pub fn title(self) -> &'static str {
        match self {
            Grade::Fail => "Fail",
            Grade::Pass => "Pass",
            Grade::Merit => "Merit",
            Grade::Distinction => "Distinction",
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsiderationKind {
    /// Arranged before assessment (extra time, a reader); usually adds no marks
    /// (`adjustment_percent: 0`) but is recorded with the result.
    ReasonableAdjustment,
    /// After assessment, for circumstances at the time (illness, bereavement).
    SpecialConsideration,
}

/// A reasonable adjustment or special consideration, recorded with the result.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialConsideration {
    pub kind: ConsiderationKind,
    pub note: String,
    /// Percentage points added to the moderated mark, 0 to 5.
    pub adjustment_percent: u32,
}

/// One component's mark as used in the result.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentMark {
    pub name: String,
    pub weight_percent: u32,
    /// The centre's mark for the component, percent.
    pub mark: u32,
}

/// A graded result.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeResult {
    /// The components' marks weighted by their shares: the centre's mark, percent.
    pub percent: f64,
    /// After the moderator's adjustment, within 0 to 100.
    pub moderated: f64,
    /// After special consideration too, within 0 to 100: the mark the grade comes from.
    pub adjusted: f64,
    pub grade: Grade,
    /// Whether the AO has set both the Merit and the Distinction boundary. Where it has set
    /// neither, the best grade is Pass; where it has set one, only that one is awarded.
    pub boundaries_set: bool,
    pub pass_mark: u32,
    pub merit_mark: Option<u32>,
    pub distinction_mark: Option<u32>,
    /// The moderator's adjustment, in percentage points.
    pub moderator_adjustment: i32,
    /// Reasonable adjustments and special consideration applied, as recorded.
    pub considerations: Vec<SpecialConsideration>,
    /// The components in the unit's order, with their marks.
    pub components: Vec<ComponentMark>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkError {
    #[error(
        "this qualification is not marked: it is Pass only, achieved by meeting every criterion"
    )]
    NotMarked,
    #[error("the unit has no marked components: add them from the specification first")]
    NoComponents,
    #[error(
        "the components' weights add up to {sum}%, not 100%: correct them from the specification"
    )]
    WeightsNot100 { sum: u32 },
    #[error("the unit lists the component '{name}' twice")]
    DuplicateComponent { name: String },
    #[error("no mark for: {}; every component must be marked", components.join(", "))]
    Unmarked { components: Vec<String> },
    #[error("'{name}' is not a component of this unit; its components are: {known}")]
    UnknownComponent { name: String, known: String },
    #[error("'{name}' is marked twice: give one mark per component")]
    MarkedTwice { name: String },
    #[error("the mark for '{name}' is {mark}%: a mark is 0 to 100")]
    MarkOutOfRange { name: String, mark: u32 },
    #[error("a moderator adjustment of {adjustment} points is out of range: it is -100 to +100")]
    AdjustmentOutOfRange { adjustment: i32 },
    #[error(
        "special consideration adds at most {MAX_CONSIDERATION_PERCENT}% in total; {total}% was given"
    )]
    ConsiderationTooLarge { total: u32 },
    #[error(
        "the grade boundaries are not in order (pass {pass}, merit {merit:?}, distinction {distinction:?}): each must be above the one before, and at most 100"
    )]
    InvalidBoundaries {
        pass: u32,
        merit: Option<u32>,
        distinction: Option<u32>,
    },
}

/// Grades a marked assessment.
///
/// - `grading` must be [`Grading::Marked`], with boundaries in order (pass < merit <
///   distinction <= 100, for those set).
/// - `components` are the unit's (their weights must add up to 100); `marks` gives each a
///   mark, 0 to 100, by component name; every component is marked exactly once.
/// - `percent` is the weighted mark; the moderator's adjustment (percentage points, -100 to
///   +100) gives `moderated`; special consideration (0 to 5 points each, 5 in total) gives
///   `adjusted`; both are kept within 0 to 100.
/// - Grade from `adjusted`: Distinction at or above the distinction mark, Merit at or above
///   the merit mark, where the AO has set them; Pass at or above the pass mark; else Fail.
pub fn grade(
    grading: &Grading,
    components: &[AssessmentComponent],
    marks: &[(String, u32)],
    moderator_adjustment: i32,
    considerations: &[SpecialConsideration],
) -> Result<GradeResult, MarkError> {
    let Grading::Marked {
        pass_mark,
        merit_mark,
        distinction_mark,
    } = *grading
    else {
        return Err(MarkError::NotMarked);
    };
    check_boundaries(pass_mark, merit_mark, distinction_mark)?;

    if components.is_empty() {
        return Err(MarkError::NoComponents);
    }
    for (i, c) in components.iter().enumerate() {
        if components[..i].iter().any(|d| d.name == c.name) {
            return Err(MarkError::DuplicateComponent {
                name: c.name.clone(),
            });
        }
    }
    let sum: u32 = components.iter().map(|c| c.weight_percent).sum();
    if sum != 100 {
        return Err(MarkError::WeightsNot100 { sum });
    }

    for (i, (name, mark)) in marks.iter().enumerate() {
        if !components.iter().any(|c| &c.name == name) {
            return Err(MarkError::UnknownComponent {
                name: name.clone(),
                known: components
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if marks[..i].iter().any(|(n, _)| n == name) {
            return Err(MarkError::MarkedTwice { name: name.clone() });
        }
        if *mark > 100 {
            return Err(MarkError::MarkOutOfRange {
                name: name.clone(),
                mark: *mark,
            });
        }
    }
    let unmarked: Vec<String> = components
        .iter()
        .filter(|c| !marks.iter().any(|(n, _)| n == &c.name))
        .map(|c| c.name.clone())
        .collect();
    if !unmarked.is_empty() {
        return Err(MarkError::Unmarked {
            components: unmarked,
        });
    }

    if !(-MAX_MODERATOR_ADJUSTMENT..=MAX_MODERATOR_ADJUSTMENT).contains(&moderator_adjustment) {
        return Err(MarkError::AdjustmentOutOfRange {
            adjustment: moderator_adjustment,
        });
    }
    let consideration: u32 = considerations
        .iter()
        .map(|c| c.adjustment_percent.min(MAX_CONSIDERATION_PERCENT + 1))
        .sum();
    if consideration > MAX_CONSIDERATION_PERCENT {
        return Err(MarkError::ConsiderationTooLarge {
            total: considerations.iter().map(|c| c.adjustment_percent).sum(),
        });
    }

    let components: Vec<ComponentMark> = components
        .iter()
        .map(|c| ComponentMark {
            name: c.name.clone(),
            weight_percent: c.weight_percent,
            mark: marks
                .iter()
                .find(|(n, _)| n == &c.name)
                .map(|(_, m)| *m)
                .unwrap_or_default(),
        })
        .collect();

    // Hundredths of a percent: mark% x weight% / 100 % = mark x weight hundredths.
    let weighted: i64 = components
        .iter()
        .map(|c| i64::from(c.mark) * i64::from(c.weight_percent))
        .sum();
    let moderated = (weighted + i64::from(moderator_adjustment) * 100).clamp(0, 10_000);
    let adjusted = (moderated + i64::from(consideration) * 100).clamp(0, 10_000);

    let reaches = |mark: Option<u32>| mark.is_some_and(|m| adjusted >= i64::from(m) * 100);
    let grade = if reaches(distinction_mark) {
        Grade::Distinction
    } else if reaches(merit_mark) {
        Grade::Merit
    } else if reaches(Some(pass_mark)) {
        Grade::Pass
    } else {
        Grade::Fail
    };

    Ok(GradeResult {
        percent: hundredths(weighted),
        moderated: hundredths(moderated),
        adjusted: hundredths(adjusted),
        grade,
        boundaries_set: merit_mark.is_some() && distinction_mark.is_some(),
        pass_mark,
        merit_mark,
        distinction_mark,
        moderator_adjustment,
        considerations: considerations.to_vec(),
        components,
    })
}

fn hundredths(n: i64) -> f64 {
    n as f64 / 100.0
}

fn check_boundaries(
    pass: u32,
    merit: Option<u32>,
    distinction: Option<u32>,
) -> Result<(), MarkError> {
    let mut last = pass;
    let mut ok = pass <= 100;
    for b in [merit, distinction].into_iter().flatten() {
        ok &= b > last && b <= 100;
        last = b;
    }
    if ok {
        Ok(())
    } else {
        Err(MarkError::InvalidBoundaries {
            pass,
            merit,
            distinction,
        })
    }
}
