//! The seed qualifications, built by hand from the seed documents' tables, for tests and
//! benchmarks (they do not wait for the importer). Rules as DOMAIN.md, "Rules of combination",
//! states them.
//!
//! Sources (seeds/): `000_…` ISP Level 3 ("Qualification Structures - Awards", "Rules of
//! Combination", "Overview of units"); `001_…` ISP Level 5 (same sections); `002_…` ISP Level 5
//! Advanced ("Qualification Structure"); `003_…` ISMM Level 6 Executive Award ("ISMM L6
//! Executive Award Overview").
//!
//! Where the seed's tables disagree, the fixture follows the table named below and the
//! disagreement is left for the importer's findings:
//! - ISP L5 `L5L5`: the Innovation Award table gives `Y/650/7928`, the overview `T/651/5991`;
//!   the overview's reference is used.
//! - ISP L5 `L5L4`: the Coaching Award table gives 30 GLH (as does the qualification table,
//!   610/5677/7: 30 GLH), the overview 20; 30 is used.
//! - ISP L5 `L6S2`: the overview's Ofqual reference is cut (`H/651/601`), so the key is
//!   `ISP:L6S2`; 40 GLH and 8 credits from the unit specification, as the shipped corrections
//!   decide (`seeds/corrections/001.json`).
//! - ISP L5 Advanced: the cover gives `603/5902/X` and `603/5903/1`, the key facts
//!   `603/5904/3 (Certificate)` and `603/5903/1 (Diploma)`; DOMAIN.md cites `603/5902/X`, used
//!   here for the Certificate. The units have no Ofqual references: keys are `ISP:ISP501`...
//! - ISMM units have no Ofqual references and no credit value: keys `ISMM:Unit 1`,
//!   `ISMM:Unit 2`, 105 GLH each.
//! - Levels missing from a PDF row (`L3L2`, `L3C6`, `L4L4`, `L3L3`, `L3S3`) are taken from the
//!   other tables or the reference's level digit.

use crate::model::{
    Grading, Qualification, QualificationSize, QualificationUnit, Range, Requirement, Simulation,
    Unit,
};

pub const L3_CERTIFICATE: &str = "610/3788/6";
pub const L3_DIPLOMA: &str = "610/3789/8";
pub const L3_APPRENTICESHIP_DIPLOMA: &str = "610/3790/4";
/// L3 Award in Understanding Organisations and Sales Communication (L3B1 + L3B2).
pub const L3_AWARD_ORGANISATIONS: &str = "610/3791/6";
/// L3 Award in Negotiating and Closing Sales (L3C2 + L3C3).
pub const L3_AWARD_NEGOTIATING: &str = "610/3796/5";
pub const L5_CERTIFICATE: &str = "610/5683/2";
pub const L5_DIPLOMA: &str = "610/5684/4";
pub const L5_ADVANCED_CERTIFICATE: &str = "603/5902/X";
pub const L5_ADVANCED_DIPLOMA: &str = "603/5903/1";
pub const ISMM_EXECUTIVE_AWARD: &str = "500/3707/9";

/// (Ofqual ref or key, AO ref, title, level, GLH, credit, group)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    u8,
    u32,
    u32,
    &'static str,
);

/// ISP L3 "Overview of units" (seed 000, lines 322-365).
const L3_UNITS: &[Row] = &[
    (
        "L/650/7899",
        "L3B1",
        "Understand Sales Communication",
        3,
        15,
        3,
        "BUSINESS",
    ),
    (
        "K/651/0342",
        "L3B2",
        "Understand Organisations",
        3,
        15,
        3,
        "BUSINESS",
    ),
    (
        "L/651/0343",
        "L3B3",
        "Understand Customer Groups and Profiling",
        3,
        10,
        2,
        "BUSINESS",
    ),
    (
        "M/651/0344",
        "L3B4",
        "Understand the Sales and Marketing Relationship",
        3,
        15,
        3,
        "BUSINESS",
    ),
    (
        "R/651/0345",
        "L3B5",
        "Access and Analyse Sales Information",
        3,
        20,
        4,
        "BUSINESS",
    ),
    (
        "K/650/7905",
        "L4B6",
        "Use Digital Technologies",
        4,
        15,
        3,
        "BUSINESS",
    ),
    (
        "T/651/0346",
        "L3C1",
        "Prospect for New Business",
        3,
        15,
        3,
        "CORE",
    ),
    (
        "K/650/7914",
        "L4C2",
        "Prepare and Present Sales Solutions",
        4,
        20,
        5,
        "CORE",
    ),
    (
        "Y/651/0347",
        "L3C2",
        "Overcome Sales Objections",
        3,
        20,
        4,
        "CORE",
    ),
    (
        "A/651/0348",
        "L3C3",
        "Negotiate and Close Sales",
        3,
        25,
        5,
        "CORE",
    ),
    (
        "D/651/0349",
        "L3C4",
        "Plan Sales Activities",
        3,
        20,
        4,
        "CORE",
    ),
    (
        "J/651/0350",
        "L3C5",
        "Sales Pipeline Management",
        3,
        25,
        5,
        "CORE",
    ),
    (
        "K/651/0351",
        "L3C6",
        "Understand Customer Behaviours",
        3,
        10,
        2,
        "CORE",
    ),
    (
        "D/651/0457",
        "L2C5",
        "Understanding Customer Service",
        2,
        20,
        4,
        "CORE",
    ),
    (
        "L/651/0460",
        "L2L3",
        "Understand Change in the Workplace",
        2,
        15,
        3,
        "LEADERSHIP",
    ),
    (
        "L/651/0352",
        "L3L1",
        "Developing Relationships",
        3,
        15,
        3,
        "LEADERSHIP",
    ),
    (
        "M/651/0353",
        "L3L2",
        "Understand Remote Working",
        3,
        15,
        3,
        "LEADERSHIP",
    ),
    (
        "R/651/0354",
        "L3L3",
        "Solving Problems",
        3,
        20,
        4,
        "LEADERSHIP",
    ),
    (
        "M/650/7925",
        "L4L4",
        "Participating in Coaching and Mentoring",
        4,
        20,
        4,
        "LEADERSHIP",
    ),
    (
        "T/650/7927",
        "L4L6",
        "Understanding Leadership Styles and Motivation",
        4,
        10,
        2,
        "LEADERSHIP",
    ),
    (
        "T/651/0463",
        "L2S3",
        "Understand Legal, Regulatory and Ethical Frameworks",
        2,
        10,
        2,
        "SELF",
    ),
    (
        "A/650/7929",
        "L3S1",
        "Personal Motivation and Sales Performance",
        3,
        10,
        2,
        "SELF",
    ),
    ("T/651/0355", "L3S2", "Stress Management", 3, 15, 3, "SELF"),
    (
        "Y/651/0356",
        "L3S3",
        "Plan Professional Development",
        3,
        15,
        3,
        "SELF",
    ),
    (
        "K/650/7932",
        "L4S3",
        "Continuing Professional Development (CPD)",
        4,
        15,
        3,
        "SELF",
    ),
    ("L/650/7933", "L4S4", "Self-Management", 4, 15, 3, "SELF"),
    (
        "M/650/7934",
        "L4S5",
        "Contributing to an Inclusive Culture",
        4,
        10,
        2,
        "SELF",
    ),
];

/// ISP L5 "Overview of units" (seed 001, lines 252-298).
const L5_UNITS: &[Row] = &[
    (
        "A/651/5975",
        "L5B1",
        "Analyse Financial Performance",
        5,
        25,
        5,
        "BUSINESS",
    ),
    (
        "D/651/5976",
        "L5B2",
        "Organisational Sales Planning",
        5,
        25,
        5,
        "BUSINESS",
    ),
    (
        "M/651/5980",
        "L5B3",
        "Market Research for Sales Strategy",
        5,
        15,
        3,
        "BUSINESS",
    ),
    (
        "F/651/5977",
        "L5B4",
        "Manage Sales Technology Systems",
        5,
        20,
        4,
        "BUSINESS",
    ),
    (
        "R/651/5981",
        "L5B5",
        "Relationship Management Mapping",
        5,
        30,
        6,
        "BUSINESS",
    ),
    (
        "F/650/7902",
        "L4B3",
        "Segmentation in Consumer and Business Markets",
        4,
        15,
        3,
        "BUSINESS",
    ),
    (
        "J/650/7904",
        "L4B5",
        "Partnering and Collaborative Selling",
        4,
        15,
        3,
        "BUSINESS",
    ),
    (
        "M/650/7907",
        "L4B8",
        "Differentiate in a Competitive Market",
        4,
        15,
        3,
        "BUSINESS",
    ),
    ("T/651/5982", "L5C1", "Tender Management", 5, 25, 5, "CORE"),
    (
        "Y/651/5983",
        "L5C2",
        "Sales Territory Management",
        5,
        30,
        6,
        "CORE",
    ),
    (
        "A/651/5984",
        "L5C3",
        "Account Relationship Management",
        5,
        30,
        6,
        "CORE",
    ),
    (
        "D/651/5985",
        "L5C4",
        "Customer Buying Processes and Practices",
        5,
        20,
        4,
        "CORE",
    ),
    (
        "J/650/7913",
        "L4C1",
        "Finding and Qualifying New Prospects",
        4,
        20,
        4,
        "CORE",
    ),
    (
        "L/650/7915",
        "L4C3",
        "Develop Value Propositions",
        4,
        15,
        3,
        "CORE",
    ),
    (
        "Y/650/7919",
        "L4C7",
        "Pipeline Management and Forecasting",
        4,
        15,
        3,
        "CORE",
    ),
    ("F/650/7920", "L4C8", "Customer Focus", 4, 15, 3, "CORE"),
    (
        "F/651/5986",
        "L5L1",
        "Manage Team Performance",
        5,
        40,
        8,
        "LEADERSHIP",
    ),
    (
        "H/651/5987",
        "L5L2",
        "Manage Recruitment",
        5,
        30,
        6,
        "LEADERSHIP",
    ),
    (
        "J/651/5988",
        "L5L3",
        "Motivate Sales Professionals",
        5,
        25,
        5,
        "LEADERSHIP",
    ),
    (
        "R/651/5990",
        "L5L4",
        "Coach and Mentor Sales Professionals",
        5,
        30,
        6,
        "LEADERSHIP",
    ),
    (
        "T/651/5991",
        "L5L5",
        "Contributing to Organisational Innovation",
        5,
        15,
        3,
        "LEADERSHIP",
    ),
    (
        "K/651/5989",
        "L5L6",
        "Matrix Management",
        5,
        25,
        5,
        "LEADERSHIP",
    ),
    (
        "Y/651/5992",
        "L5L7",
        "Support Customer Innovation",
        5,
        20,
        4,
        "LEADERSHIP",
    ),
    (
        "R/650/7926",
        "L4L5",
        "Managing Change",
        4,
        30,
        6,
        "LEADERSHIP",
    ),
    (
        "T/651/6007",
        "L6L4",
        "Lead Continuous Improvement",
        6,
        40,
        8,
        "LEADERSHIP",
    ),
    (
        "A/651/5993",
        "L5S1",
        "Leadership in Context",
        5,
        25,
        5,
        "SELF",
    ),
    (
        "D/651/5994",
        "L5S2",
        "Manage Ethical, Legal and Professional Requirements",
        5,
        20,
        4,
        "SELF",
    ),
    (
        "F/651/5995",
        "L5S3",
        "Develop Critical Thinking Skills",
        5,
        20,
        4,
        "SELF",
    ),
    (
        "J/650/7931",
        "L4S2",
        "Using Legal, Regulatory and Ethical Frameworks",
        4,
        15,
        3,
        "SELF",
    ),
    (
        "K/650/7932",
        "L4S3",
        "Continuing Professional Development (CPD)",
        4,
        15,
        3,
        "SELF",
    ),
    (
        "R/650/7935",
        "L4S6",
        "Understanding and Building Agility",
        4,
        15,
        3,
        "SELF",
    ),
    (
        "ISP:L6S2",
        "L6S2",
        "Lead an Inclusive, Ethical Culture",
        6,
        40,
        8,
        "SELF",
    ),
];

/// ISP L5 Advanced "Qualification Structure" (seed 002, lines 135-164).
const ADVANCED_UNITS: &[Row] = &[
    (
        "ISP:ISP501",
        "ISP501",
        "Sales Strategy & Leadership: Setting targets and forecasting for sales",
        5,
        38,
        5,
        "MANDATORY",
    ),
    (
        "ISP:ISP502",
        "ISP502",
        "Performance Management (Ind & Bus): Managing sales team performance",
        5,
        48,
        6,
        "MANDATORY",
    ),
    (
        "ISP:ISP503",
        "ISP503",
        "Winning Business (Solutions Selling): Review financial performance of customer accounts",
        5,
        38,
        5,
        "MANDATORY",
    ),
    (
        "ISP:ISP504",
        "ISP504",
        "Sales Talent Management & Compensation: Motivate sales professionals",
        5,
        28,
        4,
        "MANDATORY",
    ),
    (
        "ISP:ISP401",
        "ISP401",
        "Keeping & Developing Business: Build and retain effective sales relationships",
        4,
        38,
        5,
        "OPTIONAL",
    ),
    (
        "ISP:ISP404",
        "ISP404",
        "Winning Business (Solutions Selling): Develop sales proposals and quotations",
        4,
        28,
        4,
        "OPTIONAL",
    ),
    (
        "ISP:ISP505",
        "ISP505",
        "Sales Enablement: Manage sales technology systems",
        5,
        28,
        4,
        "OPTIONAL",
    ),
    (
        "ISP:ISP506",
        "ISP506",
        "Coaching: Use coaching in sales",
        5,
        22,
        3,
        "OPTIONAL",
    ),
    (
        "ISP:ISP507",
        "ISP507",
        "Professional Development: Manage ethical, legal and professional requirements and development.",
        5,
        38,
        5,
        "OPTIONAL",
    ),
];

/// (QAN, title, AO refs of its units) of the ISP L3 Awards (seed 000, lines 145-155, 200-265).
const L3_AWARDS: &[(&str, &str, &[&str])] = &[
    (
        "610/3791/6",
        "ISP Level 3 Award in Understanding Organisations and Sales Communication",
        &["L3B1", "L3B2"],
    ),
    (
        "610/3792/8",
        "ISP Level 3 Award in Understanding Customer Groups, Profiling and Behaviours",
        &["L3B3", "L3C6"],
    ),
    (
        "610/3793/X",
        "ISP Level 3 Award in Understanding the Sales and Marketing Relationship",
        &["L3B4"],
    ),
    (
        "610/3794/1",
        "ISP Level 3 Award in Analysing Sales Information",
        &["L3B5"],
    ),
    (
        "610/3795/3",
        "ISP Level 3 Award in Sales Prospecting",
        &["L3C1"],
    ),
    (
        "610/3796/5",
        "ISP Level 3 Award in Negotiating and Closing Sales",
        &["L3C2", "L3C3"],
    ),
    (
        "610/3797/7",
        "ISP Level 3 Award in Planning Sales Activities",
        &["L3C4"],
    ),
    (
        "610/3798/9",
        "ISP Level 3 Award in Sales Pipeline Management",
        &["L3C5"],
    ),
    (
        "610/3799/0",
        "ISP Level 3 Award in Developing Relationships and Remote Working",
        &["L3L1", "L3L2"],
    ),
    (
        "610/3800/3",
        "ISP Level 3 Award in Solving Problems",
        &["L3L3"],
    ),
    (
        "610/3801/5",
        "ISP Level 3 Award in Personal Motivation and Stress Management",
        &["L3S1", "L3S2"],
    ),
];

/// The ISP L5 Awards (seed 001, lines 94-109, 146-227).
const L5_AWARDS: &[(&str, &str, &[&str])] = &[
    (
        "610/5663/7",
        "Level 5 Award in Analysis Financial Performance",
        &["L5B1"],
    ),
    (
        "610/5664/9",
        "Level 5 Award in Market Research and Sales Planning",
        &["L5B2", "L5B3"],
    ),
    (
        "610/5665/0",
        "Level 5 Award in Managing Sales Technology Systems",
        &["L5B4"],
    ),
    (
        "610/5666/2",
        "Level 5 Award in Relationship Management Mapping",
        &["L5B5"],
    ),
    (
        "610/5667/4",
        "Level 5 Award in Tender Management",
        &["L5C1"],
    ),
    (
        "610/5668/6",
        "Level 5 Award in Sales Territory Management",
        &["L5C2"],
    ),
    (
        "610/5669/8",
        "Level 5 Award in Account Relationship Management",
        &["L5C3"],
    ),
    (
        "610/5671/6",
        "Level 5 Award in Customer Buying Processes",
        &["L5C4"],
    ),
    (
        "610/5672/8",
        "Level 5 Award in Managing Team Performance",
        &["L5L1"],
    ),
    (
        "610/5673/X",
        "Level 5 Award in Managing Recruitment",
        &["L5L2"],
    ),
    (
        "610/5674/1",
        "Level 5 Award in Motivating Sales Professionals",
        &["L5L3"],
    ),
    (
        "610/5676/5",
        "Level 5 Award in Matrix Management",
        &["L5L6"],
    ),
    (
        "610/5677/7",
        "Level 5 Award in Coaching and Mentoring",
        &["L5L4"],
    ),
    (
        "610/5679/0",
        "Level 5 Award in Innovation",
        &["L5L5", "L5L7"],
    ),
    (
        "610/5680/7",
        "Level 5 Award in Leadership",
        &["L5S1", "L5S2"],
    ),
    (
        "610/5681/9",
        "Level 5 Award in Developing Critical Thinking",
        &["L5S3"],
    ),
];

fn unit(
    key: &str,
    ao_ref: &str,
    title: &str,
    level: u8,
    glh: Option<u32>,
    credit: Option<u32>,
) -> Unit {
    let ofqual = crate::ident::UnitRef::parse(key)
        .ok()
        .map(|r| r.as_str().to_string());
    Unit {
        key: key.to_string(),
        ofqual_ref: ofqual,
        ao_ref: ao_ref.to_string(),
        other_refs: Vec::new(),
        title: title.to_string(),
        level,
        credit,
        glh,
        tqt: glh.map(|g| g * 2),
        purpose: None,
        sector: Some("15.4 Marketing and Sales".to_string()),
        learning_outcomes: Vec::new(),
        assessment_method: None,
        simulation: Simulation::Permitted,
        evidence_occasions: None,
        centre_authentication: false,
        assessment_guidance: None,
        ksb: Vec::new(),
        nos: Vec::new(),
        apprenticeship_text: None,
        assessment_components: Vec::new(),
    }
}

fn row_unit(r: &Row) -> Unit {
    unit(r.0, r.1, r.2, r.3, Some(r.4), Some(r.5))
}

/// Every unit of the fixtures, each once (the L4 units shared by the L3 and L5 overviews,
/// such as `K/650/7932` L4S3, appear once).
pub fn units() -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    for r in L3_UNITS.iter().chain(L5_UNITS).chain(ADVANCED_UNITS) {
        if !out.iter().any(|u| u.key == r.0) {
            out.push(row_unit(r));
        }
    }
    let mut ismm1 = unit(
        "ISMM:Unit 1",
        "Unit 1",
        "Strategic Concepts in Sales and Account Management",
        6,
        Some(105),
        None,
    );
    ismm1.simulation = Simulation::NotPermitted;
    let mut ismm2 = unit(
        "ISMM:Unit 2",
        "Unit 2",
        "Strategic Sales Management",
        6,
        Some(105),
        None,
    );
    ismm2.simulation = Simulation::NotPermitted;
    out.push(ismm1);
    out.push(ismm2);
    out
}

fn key_of(rows: &[Row], ao_ref: &str) -> String {
    rows.iter()
        .find(|r| r.1 == ao_ref)
        .map_or_else(|| format!("ISP:{ao_ref}"), |r| r.0.to_string())
}

fn grouped(rows: &[Row]) -> Vec<QualificationUnit> {
    rows.iter()
        .map(|r| QualificationUnit {
            unit: r.0.to_string(),
            group: Some(r.6.to_string()),
        })
        .collect()
}

fn groups(gs: &[&str]) -> Vec<String> {
    gs.iter().map(|g| g.to_string()).collect()
}

#[allow(clippy::too_many_arguments)]
fn qualification(
    qan: &str,
    title: &str,
    level: u8,
    size: QualificationSize,
    credit: Range,
    glh: Option<Range>,
    units: Vec<QualificationUnit>,
    rules: Vec<Requirement>,
    rules_text: &[&str],
) -> Qualification {
    Qualification {
        qan: qan.to_string(),
        title: title.to_string(),
        level,
        size,
        credit,
        glh,
        tqt: glh.map(|g| Range {
            min: g.min * 2,
            max: g.max.map(|m| m * 2),
        }),
        grading: Grading::PassOnly,
        assessment: Some("Portfolio of evidence".to_string()),
        minimum_age: None,
        entry_requirements: None,
        units,
        rules,
        rules_text: rules_text.iter().map(|s| s.to_string()).collect(),
    }
}

fn award(rows: &[Row], level: u8, qan: &str, title: &str, refs: &[&str]) -> Qualification {
    let keys: Vec<String> = refs.iter().map(|r| key_of(rows, r)).collect();
    let (credit, glh) = rows
        .iter()
        .filter(|r| refs.contains(&r.1))
        .fold((0, 0), |(c, g), r| (c + r.5, g + r.4));
    qualification(
        qan,
        title,
        level,
        QualificationSize::Award,
        Range::exactly(credit),
        Some(Range::exactly(glh)),
        keys.iter()
            .map(|k| QualificationUnit {
                unit: k.clone(),
                group: None,
            })
            .collect(),
        vec![Requirement::Mandatory { units: keys }],
        &["Learners must pass the units listed for the Award."],
    )
}

/// The seed qualifications: ISP L3 Awards, Certificate, Diploma and Apprenticeship Diploma;
/// ISP L5 Awards, Certificate and Diploma; ISP L5 Advanced Certificate and Diploma; ISMM L6
/// Executive Award.
pub fn qualifications() -> Vec<Qualification> {
    let mut out = Vec::new();
    for (qan, title, refs) in L3_AWARDS {
        out.push(award(L3_UNITS, 3, qan, title, refs));
    }
    out.push(qualification(
        L3_CERTIFICATE,
        "ISP Level 3 Certificate in Professional Sales",
        3,
        QualificationSize::Certificate,
        Range::between(13, 36),
        Some(Range::between(65, 184)),
        grouped(L3_UNITS),
        vec![
            Requirement::TotalCredit {
                min: Some(13),
                max: Some(36),
            },
            Requirement::MinUnitsInGroups {
                groups: groups(&["BUSINESS"]),
                min: 2,
            },
            Requirement::MinUnitsInGroups {
                groups: groups(&["CORE"]),
                min: 2,
            },
            Requirement::MinUnitsInGroups {
                groups: groups(&["LEADERSHIP", "SELF"]),
                min: 1,
            },
        ],
        &[
            "A minimum of 13 credits, maximum 36 credits",
            "At least two BUSINESS units",
            "At least two CORE units",
            "At least one LEADERSHIP unit or SELF unit",
        ],
    ));
    out.push(qualification(
        L3_DIPLOMA,
        "ISP Level 3 Diploma in Professional Sales",
        3,
        QualificationSize::Diploma,
        Range::at_least(37),
        Some(Range::at_least(185)),
        grouped(L3_UNITS),
        vec![
            Requirement::TotalCredit {
                min: Some(37),
                max: None,
            },
            Requirement::MinUnitsInGroups {
                groups: groups(&["BUSINESS"]),
                min: 3,
            },
            Requirement::MinUnitsInGroups {
                groups: groups(&["CORE"]),
                min: 4,
            },
            Requirement::MinUnitsInGroups {
                groups: groups(&["LEADERSHIP"]),
                min: 1,
            },
            Requirement::MinUnitsInGroups {
                groups: groups(&["SELF"]),
                min: 2,
            },
        ],
        &[
            "A minimum of 37 credits",
            "At least three BUSINESS units",
            "At least four CORE units",
            "At least one LEADERSHIP unit",
            "At least two SELF units",
        ],
    ));
    let apprenticeship: Vec<String> = [
        "L3B1", "L3B5", "L3C1", "L3C2", "L3C3", "L3C4", "L3C5", "L3C6", "L3L1", "L3L3", "L3S3",
    ]
    .iter()
    .map(|r| key_of(L3_UNITS, r))
    .collect();
    out.push(qualification(
        L3_APPRENTICESHIP_DIPLOMA,
        "ISP L3 Diploma in Sales (Apprenticeship Diploma)",
        3,
        QualificationSize::Diploma,
        Range::exactly(40),
        Some(Range::exactly(200)),
        apprenticeship
            .iter()
            .map(|k| QualificationUnit {
                unit: k.clone(),
                group: None,
            })
            .collect(),
        vec![
            Requirement::TotalCredit {
                min: Some(40),
                max: Some(40),
            },
            Requirement::Mandatory {
                units: apprenticeship.clone(),
            },
        ],
        &["40 credits", "All units as prescribed below"],
    ));
    for (qan, title, refs) in L5_AWARDS {
        out.push(award(L5_UNITS, 5, qan, title, refs));
    }
    out.push(qualification(
        L5_CERTIFICATE,
        "Level 5 Certificate in Professional Sales",
        5,
        QualificationSize::Certificate,
        Range::between(13, 36),
        Some(Range::between(130, 369)),
        grouped(L5_UNITS),
        vec![
            Requirement::TotalCredit {
                min: Some(13),
                max: Some(36),
            },
            Requirement::MinUnitsInGroups {
                groups: groups(&["BUSINESS"]),
                min: 2,
            },
            Requirement::MinUnitsInGroups {
                groups: groups(&["CORE"]),
                min: 2,
            },
            Requirement::MinUnitsInGroups {
                groups: groups(&["LEADERSHIP", "SELF"]),
                min: 1,
            },
            Requirement::MinShareAtLevel {
                level: 5,
                percent: 50,
            },
        ],
        &[
            "A minimum of 13 credits, maximum 36 credits",
            "At least two BUSINESS units",
            "At least two CORE units",
            "At least one LEADERSHIP unit or SELF unit",
            "Units selected must equate to a minimum of 50% at Level 5 or above.",
        ],
    ));
    out.push(qualification(
        L5_DIPLOMA,
        "Level 5 Diploma in Professional Sales",
        5,
        QualificationSize::Diploma,
        Range::at_least(37),
        Some(Range::at_least(370)),
        grouped(L5_UNITS),
        vec![
            Requirement::TotalCredit {
                min: Some(37),
                max: None,
            },
            Requirement::MinCreditInGroups {
                groups: groups(&["BUSINESS"]),
                min: 9,
            },
            Requirement::MinCreditInGroups {
                groups: groups(&["CORE"]),
                min: 12,
            },
            Requirement::MinCreditInGroups {
                groups: groups(&["LEADERSHIP"]),
                min: 8,
            },
            Requirement::MinCreditInGroups {
                groups: groups(&["SELF"]),
                min: 8,
            },
            Requirement::MinShareAtLevel {
                level: 5,
                percent: 50,
            },
        ],
        &[
            "A minimum of 37 credits",
            "BUSINESS units totalling at least 9 credits",
            "CORE units totalling at least 12 credits",
            "LEADERSHIP units totalling at least 8 credits",
            "SELF units totalling at least 8 credits",
            "Units selected must equate to a minimum of 50% at Level 5 or above.",
        ],
    ));
    let mandatory: Vec<String> = ADVANCED_UNITS[..4]
        .iter()
        .map(|r| r.0.to_string())
        .collect();
    let optional: Vec<String> = ADVANCED_UNITS[4..]
        .iter()
        .map(|r| r.0.to_string())
        .collect();
    out.push(qualification(
        L5_ADVANCED_CERTIFICATE,
        "ISP Level 5 Certificate in Advanced Sales Professionalism",
        5,
        QualificationSize::Certificate,
        Range::exactly(20),
        Some(Range::exactly(152)),
        grouped(&ADVANCED_UNITS[..4]),
        vec![Requirement::Mandatory {
            units: mandatory.clone(),
        }],
        &["To achieve the Certificate qualification learners must complete all 4 mandatory units"],
    ));
    out.push(qualification(
        L5_ADVANCED_DIPLOMA,
        "ISP Level 5 Diploma in Advanced Sales Professionalism",
        5,
        QualificationSize::Diploma,
        Range::exactly(41),
        Some(Range::exactly(306)),
        grouped(ADVANCED_UNITS),
        vec![
            Requirement::Mandatory { units: mandatory },
            Requirement::ChooseUnits { units: optional, min: 5, max: Some(5) },
            Requirement::TotalCredit {
                min: Some(41),
                max: Some(41),
            },
        ],
        &["To achieve the Diploma qualification learners must complete all 4 mandatory units, plus 5 optional units"],
    ));
    let mut ismm = qualification(
        ISMM_EXECUTIVE_AWARD,
        "ISMM Level 6 Executive Award in Strategic Sales and Account Management",
        6,
        QualificationSize::Award,
        Range::exactly(0),
        Some(Range::exactly(105)),
        vec![
            QualificationUnit {
                unit: "ISMM:Unit 1".to_string(),
                group: None,
            },
            QualificationUnit {
                unit: "ISMM:Unit 2".to_string(),
                group: None,
            },
        ],
        vec![Requirement::OneOfRoutes {
            routes: vec![
                vec!["ISMM:Unit 1".to_string()],
                vec!["ISMM:Unit 2".to_string()],
            ],
        }],
        &["The Executive Award consists of either one of Unit 1 or Unit 2"],
    );
    ismm.grading = Grading::Marked {
        pass_mark: 50,
        merit_mark: None,
        distinction_mark: None,
    };
    ismm.assessment = Some("Assignment, internally marked and externally moderated".to_string());
    out.push(ismm);
    out
}

/// One qualification of the fixtures by QAN.
pub fn qualification_by_qan(qan: &str) -> Option<Qualification> {
    qualifications().into_iter().find(|q| q.qan == qan)
}
