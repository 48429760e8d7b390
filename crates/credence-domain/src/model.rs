//! The catalogue model: what an awarding organisation's specification defines.
//!
//! One imported specification document becomes one [`Specification`]: the content of one
//! catalogue version. Its qualifications name their units by [`UnitKey`]; a unit (one Ofqual
//! unit reference) is shared by every qualification that lists it, which is how credit banking
//! between Award, Certificate and Diploma works (ISP L3 spec, "Qualifications Structure":
//! "Units can be built up over time to contribute to the Certificates and Diplomas").
//!
//! Field names here are part of the documented export format (`docs/catalogue-format.md`):
//! renaming one is a breaking change of that format.

use serde::{Deserialize, Serialize};

/// Key of a unit within the catalogue: its Ofqual unit reference (`L/650/7899`) where the
/// specification gives one, otherwise `AO:ref` (`ISMM:Unit 1`), as ISMM's syllabus has none.
pub type UnitKey = String;

/// An awarding organisation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardingOrganisation {
    /// Short code used everywhere: `ISP`, `ISMM`, `OCR`.
    pub code: String,
    /// Full name: "Institute of Sales Professionals".
    pub name: String,
}

/// The content of one specification document, as imported.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Specification {
    /// Stable identifier of the document across versions, e.g. `isp-l3-professional-sales`.
    /// A re-import of the same document (changed or not) carries the same key.
    pub key: String,
    /// Title of the document, e.g. "ISP Level 3 Qualifications in Professional Sales".
    pub title: String,
    pub awarding_organisation: AwardingOrganisation,
    /// The document's own version label, e.g. `V1.1`, where it has a change-control table.
    pub document_version: Option<String>,
    /// Publication date of that version, ISO 8601 (`2025-05-06`).
    pub published_on: Option<String>,
    /// The change-control table, newest last.
    pub change_log: Vec<ChangeEntry>,
    /// Ofqual subject/sector area, e.g. `15.4 Marketing and Sales`.
    pub sector: Option<String>,
    pub qualifications: Vec<Qualification>,
    pub units: Vec<Unit>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEntry {
    pub version: String,
    /// ISO 8601 date where the table gives one.
    pub date: Option<String>,
    pub summary: String,
}

/// A range of hours or credits: fixed (`min == max`), a range, or open-ended (`max: None`,
/// "Minimum 37", "185 hours +").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub min: u32,
    pub max: Option<u32>,
}

impl Range {
    pub fn exactly(n: u32) -> Self {
        Range {
            min: n,
            max: Some(n),
        }
    }
    pub fn at_least(n: u32) -> Self {
        Range { min: n, max: None }
    }
    pub fn between(min: u32, max: u32) -> Self {
        Range {
            min,
            max: Some(max),
        }
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.max {
            Some(max) if max == self.min => write!(f, "{}", self.min),
            Some(max) => write!(f, "{} to {}", self.min, max),
            None => write!(f, "{} or more", self.min),
        }
    }
}

/// How a qualification or unit is graded.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Grading {
    /// All pass criteria of all units: Pass, or not yet achieved (every ISP qualification).
    PassOnly,
    /// Marks out of 100 graded Fail/Pass/Merit/Distinction. `pass_mark` is the minimum
    /// percentage to pass (ISMM: 50). The Merit and Distinction boundaries are the AO's
    /// setting; `None` until the AO sets them.
    Marked {
        pass_mark: u32,
        merit_mark: Option<u32>,
        distinction_mark: Option<u32>,
    },
}

/// A qualification (what appears on a certificate).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Qualification {
    /// Ofqual qualification number, `NNN/NNNN/C`.
    pub qan: String,
    /// Title as it appears on the certificate.
    pub title: String,
    pub level: u8,
    /// "Award", "Certificate", "Diploma"... as named in the title.
    pub size: QualificationSize,
    pub credit: Range,
    pub glh: Option<Range>,
    pub tqt: Option<Range>,
    pub grading: Grading,
    /// How it is assessed, in the specification's words (portfolio of evidence, assignment...).
    pub assessment: Option<String>,
    /// Minimum age the qualification is approved for ("approved for learners 18 plus"): 18.
    pub minimum_age: Option<u8>,
    pub entry_requirements: Option<String>,
    /// Every unit that may count towards this qualification, with its group.
    pub units: Vec<QualificationUnit>,
    /// Rules of combination, as data (see [`Requirement`]).
    pub rules: Vec<Requirement>,
    /// The rules of combination in the specification's own words, for people to read.
    pub rules_text: Vec<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualificationSize {
    Award,
    Certificate,
    Diploma,
    /// A single unit offered on its own (OCR's NVQ unit).
    Unit,
}

/// A unit's place in a qualification.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualificationUnit {
    pub unit: UnitKey,
    /// Group the unit counts in for this qualification: `BUSINESS`, `CORE`, `LEADERSHIP`,
    /// `SELF`, `MANDATORY`, `OPTIONAL`; `None` where the qualification has no groups.
    pub group: Option<String>,
}

/// One requirement of a rule of combination. A qualification is achieved when every one of
/// its requirements holds for the units claimed (only units that belong to it count, each
/// once).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Requirement {
    /// Total credit of the counted units within `[min, max]`.
    TotalCredit { min: Option<u32>, max: Option<u32> },
    /// At least `min` units from the union of `groups` ("at least one LEADERSHIP unit or
    /// SELF unit" is `groups: [LEADERSHIP, SELF], min: 1`).
    MinUnitsInGroups { groups: Vec<String>, min: u32 },
    /// At least `min` credits from units in the union of `groups`.
    MinCreditInGroups { groups: Vec<String>, min: u32 },
    /// Every one of these units.
    Mandatory { units: Vec<UnitKey> },
    /// At least `min` (and at most `max`, if set) of these units.
    ChooseUnits {
        units: Vec<UnitKey>,
        min: u32,
        max: Option<u32>,
    },
    /// One of several routes, each a set of units that must all be held (ISMM: Unit 1 or
    /// Unit 2).
    OneOfRoutes { routes: Vec<Vec<UnitKey>> },
    /// At least `percent`% of the counted credit from units at `level` or above (ISP L5:
    /// "a minimum of 50% at Level 5 or above", read by credit value).
    MinShareAtLevel { level: u8, percent: u32 },
}

/// A unit specification.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Catalogue key; see [`UnitKey`].
    pub key: UnitKey,
    /// Ofqual unit reference (`L/650/7899`), where the specification gives one.
    pub ofqual_ref: Option<String>,
    /// The AO's own reference: `L3B1`, `ISP501`, `Unit 1`, OCR `39`.
    pub ao_ref: String,
    /// Other references the unit is known by (OCR sector unit number `SAL2-12`).
    pub other_refs: Vec<String>,
    pub title: String,
    pub level: u8,
    pub credit: Option<u32>,
    pub glh: Option<u32>,
    pub tqt: Option<u32>,
    pub purpose: Option<String>,
    pub sector: Option<String>,
    pub learning_outcomes: Vec<LearningOutcome>,
    /// Recommended assessment method, in the specification's words.
    pub assessment_method: Option<String>,
    pub simulation: Simulation,
    /// Minimum number of separate occasions evidence must come from, where the
    /// specification asks for evidence "on different occasions over a period" (OCR).
    pub evidence_occasions: Option<u32>,
    /// The AO asks the learner to declare the work their own and the centre to confirm it
    /// authentic, unit by unit, before the unit is claimed (OCR: "Centres must confirm to OCR
    /// that the evidence is authentic").
    #[serde(default)]
    pub centre_authentication: bool,
    /// Guidance on assessment for the whole unit, in the specification's words (OCR quotes
    /// the sector's assessment strategy: "may be based on either candidate performance at
    /// work or through RWE, as necessary"). Shown where the assessor judges.
    #[serde(default)]
    pub assessment_guidance: Option<String>,
    /// Apprenticeship standard mappings (K7, S1, B8...).
    pub ksb: Vec<KsbMapping>,
    /// National Occupational Standards the unit maps to.
    pub nos: Vec<String>,
    /// The relationship to apprenticeship standards in the specification's words.
    pub apprenticeship_text: Option<String>,
    /// Marked assessment components, where the unit is marked (ISMM).
    pub assessment_components: Vec<AssessmentComponent>,
}

/// Whether evidence from a simulation may count for this unit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Simulation {
    /// The assessor guidance permits simulation (in a realistic working environment).
    Permitted,
    /// Simulation is not permitted: evidence comes from real work.
    NotPermitted,
    /// Only in exceptional circumstances (ISP L5 Advanced).
    ExceptionalOnly,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearningOutcome {
    /// "1", "2"... (ISMM: "1.1").
    pub number: String,
    pub text: String,
    /// Assessment criteria, numbered `LO.n`. Empty where the LO itself is judged (ISMM).
    pub criteria: Vec<AssessmentCriterion>,
    /// Indicative (teaching) content for this LO; ISMM numbers it `1.1.1`.
    pub indicative_content: Vec<ContentItem>,
    /// Assessor guidance for this LO.
    pub assessor_guidance: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentCriterion {
    /// "1.1"
    pub number: String,
    pub text: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentItem {
    /// "1.1.1" where the specification numbers it.
    pub number: Option<String>,
    pub text: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KsbMapping {
    /// The apprenticeship standard, e.g. "Level 3 IT Technical Salesperson".
    pub standard: String,
    /// `K7`, `S1`, `B8`.
    pub code: String,
    pub text: String,
}

/// A marked component of a unit's assessment (ISMM Unit 1: report 50% + presentation 50%).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentComponent {
    pub name: String,
    /// Share of the unit's marks, in percent.
    pub weight_percent: u32,
    /// Word count where one is set (ISMM Unit 2: 3000 words).
    pub words: Option<u32>,
}

impl Specification {
    pub fn unit(&self, key: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.key == key)
    }
    pub fn qualification(&self, qan: &str) -> Option<&Qualification> {
        self.qualifications.iter().find(|q| q.qan == qan)
    }

    /// The unit an Ofqual unit reference names, where it can be taken on its own (it has
    /// that reference: a unit with none cannot be registered on alone).
    pub fn unit_by_reference(&self, reference: &str) -> Option<&Unit> {
        let r = reference.trim();
        self.units.iter().find(|u| {
            u.ofqual_ref
                .as_deref()
                .is_some_and(|o| o.eq_ignore_ascii_case(r))
        })
    }

    /// What a registration's code names: a qualification by its QAN, or a unit on its own by
    /// its Ofqual reference, as a programme of that one unit ([`Qualification::of_unit`]).
    /// Everything that reads a registration's qualification (its plan, progress, rules,
    /// claims) reads this, so a unit on its own goes through the same rules.
    pub fn programme(&self, code: &str) -> Option<std::borrow::Cow<'_, Qualification>> {
        if let Some(q) = self.qualification(code) {
            return Some(std::borrow::Cow::Borrowed(q));
        }
        let unit = self.unit_by_reference(code)?;
        // A marked unit is graded as the qualifications that list it are.
        let grading = self
            .qualifications
            .iter()
            .find(|q| q.units.iter().any(|qu| qu.unit == unit.key))
            .map(|q| q.grading.clone())
            .filter(|_| !unit.assessment_components.is_empty())
            .unwrap_or(Grading::PassOnly);
        Some(std::borrow::Cow::Owned(Qualification::of_unit(
            unit, grading,
        )))
    }
}

impl Qualification {
    /// A unit taken on its own, as a programme of one mandatory unit: its title, level and
    /// credit are the unit's, its code (the `qan` field) is the unit's Ofqual reference, and
    /// its one rule is the unit itself.
    pub fn of_unit(unit: &Unit, grading: Grading) -> Qualification {
        let code = unit.ofqual_ref.clone().unwrap_or_else(|| unit.key.clone());
        Qualification {
            qan: code,
            title: unit.title.clone(),
            level: unit.level,
            size: QualificationSize::Unit,
            credit: Range::exactly(unit.credit.unwrap_or(0)),
            glh: unit.glh.map(Range::exactly),
            tqt: unit.tqt.map(Range::exactly),
            grading,
            assessment: unit.assessment_method.clone(),
            minimum_age: None,
            entry_requirements: None,
            units: vec![QualificationUnit {
                unit: unit.key.clone(),
                group: None,
            }],
            rules: vec![Requirement::Mandatory {
                units: vec![unit.key.clone()],
            }],
            rules_text: vec![format!(
                "The unit {} on its own: every assessment criterion met",
                unit.ao_ref
            )],
        }
    }

    /// A unit taken on its own ([`Qualification::of_unit`]), not a qualification.
    pub fn is_unit(&self) -> bool {
        self.size == QualificationSize::Unit
    }
}

impl Unit {
    /// The things an assessor judges: the ACs, or the LOs themselves where a unit has no ACs
    /// (ISMM judges each learning outcome). Returns `(number, text)` pairs.
    pub fn judged_items(&self) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        for lo in &self.learning_outcomes {
            if lo.criteria.is_empty() {
                out.push((lo.number.as_str(), lo.text.as_str()));
            } else {
                for ac in &lo.criteria {
                    out.push((ac.number.as_str(), ac.text.as_str()));
                }
            }
        }
        out
    }
}

impl Requirement {
    /// The requirement in plain words, naming units through `name` (e.g. their AO refs).
    pub fn describe(&self, name: impl Fn(&str) -> String) -> String {
        let groups = |g: &[String]| g.join(" or ");
        let units = |u: &[UnitKey]| u.iter().map(|k| name(k)).collect::<Vec<_>>().join(", ");
        let plural = |n: u32, one: &str, many: &str| {
            if n == 1 {
                format!("{n} {one}")
            } else {
                format!("{n} {many}")
            }
        };
        match self {
            Requirement::TotalCredit {
                min: Some(a),
                max: Some(b),
            } if a == b => format!("Exactly {a} credits in total"),
            Requirement::TotalCredit {
                min: Some(a),
                max: Some(b),
            } => format!("A minimum of {a} credits and a maximum of {b} credits"),
            Requirement::TotalCredit {
                min: Some(a),
                max: None,
            } => format!("A minimum of {a} credits"),
            Requirement::TotalCredit {
                min: None,
                max: Some(b),
            } => format!("A maximum of {b} credits"),
            Requirement::TotalCredit {
                min: None,
                max: None,
            } => "Any number of credits".into(),
            Requirement::MinUnitsInGroups { groups: g, min } => {
                format!(
                    "At least {} from {}",
                    plural(*min, "unit", "units"),
                    groups(g)
                )
            }
            Requirement::MinCreditInGroups { groups: g, min } => {
                format!(
                    "At least {} from {} units",
                    plural(*min, "credit", "credits"),
                    groups(g)
                )
            }
            Requirement::Mandatory { units: u } => format!("All of: {}", units(u)),
            Requirement::ChooseUnits {
                units: u,
                min,
                max: Some(max),
            } if max == min => {
                format!("Exactly {} of: {}", plural(*min, "unit", "units"), units(u))
            }
            Requirement::ChooseUnits {
                units: u,
                min,
                max: Some(max),
            } => format!("Between {min} and {max} of: {}", units(u)),
            Requirement::ChooseUnits {
                units: u,
                min,
                max: None,
            } => format!(
                "At least {} of: {}",
                plural(*min, "unit", "units"),
                units(u)
            ),
            Requirement::OneOfRoutes { routes } => format!(
                "One of these routes: {}",
                routes
                    .iter()
                    .map(|r| units(r))
                    .collect::<Vec<_>>()
                    .join("; or ")
            ),
            Requirement::MinShareAtLevel { level, percent } => {
                format!("At least {percent}% of the credit from units at Level {level} or above")
            }
        }
    }
}
