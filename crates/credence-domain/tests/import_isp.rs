//! The ISP Level 3 and Level 5 "Professional Sales" specifications (seeds `000_…`, `001_…`)
//! imported end to end: what the draft holds and what the report says.

use credence_domain::import::{Entity, Finding, FindingKind, FindingStatus, Imported, import};
use credence_domain::model::{QualificationSize, Range, Requirement, Simulation, Unit};

const L3: &str = "000_8453810380d6f4c5.txt";
const L5: &str = "001_acc22f54be9d8e07.txt";

fn seed(name: &str) -> Vec<u8> {
    let path = format!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds/{}"), name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn imported(name: &str) -> Imported {
    import(&seed(name)).expect("the seed imports")
}

fn unit<'a>(imp: &'a Imported, ao: &str) -> &'a Unit {
    imp.specification
        .units
        .iter()
        .find(|u| u.ao_ref == ao)
        .unwrap_or_else(|| panic!("no unit {ao}"))
}

fn ac<'a>(u: &'a Unit, number: &str) -> &'a str {
    u.learning_outcomes
        .iter()
        .flat_map(|lo| &lo.criteria)
        .find(|c| c.number == number)
        .map(|c| c.text.as_str())
        .unwrap_or_else(|| panic!("{} has no AC {number}", u.ao_ref))
}

fn findings(imp: &Imported, kind: FindingKind, line: usize) -> Vec<&Finding> {
    imp.report
        .findings
        .iter()
        .filter(|f| f.kind == kind && f.line == line)
        .collect()
}

fn counts(imp: &Imported) -> (usize, usize, usize, usize) {
    let s = &imp.specification;
    let los = s.units.iter().map(|u| u.learning_outcomes.len()).sum();
    let acs = s
        .units
        .iter()
        .flat_map(|u| &u.learning_outcomes)
        .map(|lo| lo.criteria.len())
        .sum();
    (s.qualifications.len(), s.units.len(), los, acs)
}

#[test]
fn level_3_counts() {
    // Counted by reading seed 000:
    // - qualifications: the Key Facts table (lines 145-158) has 12 Awards, the Certificate and
    //   the Diploma; line 166 adds the Apprenticeship Diploma: 15.
    // - units: the four overview tables (lines 327-365) list 6 + 8 + 6 + 7 = 27 units, and
    //   Appendix 1 has a "Unit Title" row for each of them.
    // - LOs, unit by unit (B1 3, B2 2, B3 2, B4 2, B5 3, L4B6 3, L2C5 3, C1 2, C2 3, C3 3,
    //   C4 3, C5 3, C6 2, L4C2 3, L2L3 2, L1 2, L2 2, L3 4, L4L4 3, L4L6 2, L2S3 2, S1 2, S2 2,
    //   S3 2, L4S3 2, L4S4 3, L4S5 2): 67. L4L4's "4." beside criterion 3.3 (line 1751) and
    //   L4B6's "2." beside 1.2 (line 899) are stray copies, not outcomes.
    // - ACs: 201 cells holding one "N.N" number in the LO tables of Appendix 1 (line 1333's
    //   stray "1.1" beside "Unit Title" is not one), 3 more in the "1.2 1.3 1.4" cell of line
    //   823, and 8 printed without a number: L3B2 1.4 (line 659), L4S3 1.1 (line 2124, "-")
    //   and 2.1 (2127), L4S4 1.2, 2.2, 2.3, 3.2 (2215-2224), L4S5 1.2 (2270): 212.
    assert_eq!(counts(&imported(L3)), (15, 27, 67, 212));
}

#[test]
fn level_5_counts() {
    // Counted by reading seed 001:
    // - qualifications: Key Facts (lines 94-111): 16 Awards, the Certificate, the Diploma: 18.
    // - units: the overview tables (lines 257-300) list 8 + 8 + 9 + 7 = 32; Appendix 1 has 32
    //   "Unit Title" rows.
    // - LOs: the "N." rows of the 32 LO tables: 102.
    // - ACs: 339 cells holding one "N.N" number in the LO tables (L4C7 prints 1.4 twice, line
    //   968; the second is read as 1.5).
    assert_eq!(counts(&imported(L5)), (18, 32, 102, 339));
}

#[test]
fn specification_metadata() {
    let l3 = imported(L3);
    let s = &l3.specification;
    assert_eq!(s.key, "isp-l3-professional-sales");
    assert_eq!(s.title, "ISP Level 3 Qualifications in Professional Sales");
    assert_eq!(s.awarding_organisation.code, "ISP");
    assert_eq!(
        s.awarding_organisation.name,
        "Institute of Sales Professionals"
    );
    assert_eq!(s.document_version.as_deref(), Some("V1.1"));
    assert_eq!(s.published_on.as_deref(), Some("2025-05-06"));
    assert_eq!(s.change_log.len(), 4);
    assert_eq!(s.change_log[0].version, "V0.1");
    assert_eq!(s.change_log[0].date.as_deref(), Some("2024-01-09"));
    assert_eq!(s.sector.as_deref(), Some("15.4 Marketing and Sales"));

    let l5 = imported(L5);
    let s = &l5.specification;
    assert_eq!(s.key, "isp-l5-professional-sales");
    assert_eq!(s.document_version.as_deref(), Some("V1.1"));
    assert_eq!(s.published_on.as_deref(), Some("2025-05-02"));
    assert_eq!(s.change_log.len(), 2);
    assert_eq!(s.sector.as_deref(), Some("15.4 Marketing and Sales"));
}

#[test]
fn level_3_qualifications() {
    let imp = imported(L3);
    let s = &imp.specification;
    let qans: Vec<&str> = s.qualifications.iter().map(|q| q.qan.as_str()).collect();
    assert_eq!(
        qans,
        [
            "610/3791/6",
            "610/3792/8",
            "610/3793/X",
            "610/3794/1",
            "610/3795/3",
            "610/3796/5",
            "610/3797/7",
            "610/3798/9",
            "610/3799/0",
            "610/3800/3",
            "610/3801/5",
            "610/5718/6",
            "610/3788/6",
            "610/3789/8",
            "610/3790/4"
        ]
    );
    let cert = s.qualification("610/3788/6").expect("certificate");
    assert_eq!(cert.title, "ISP Level 3 Certificate in Professional Sales");
    assert_eq!(cert.level, 3);
    assert_eq!(cert.size, QualificationSize::Certificate);
    assert_eq!(cert.credit, Range::between(13, 36));
    assert_eq!(cert.glh, Some(Range::between(65, 184)));
    assert_eq!(cert.tqt, Some(Range::between(130, 369)));
    assert_eq!(cert.minimum_age, Some(18));
    assert!(
        cert.entry_requirements
            .as_deref()
            .is_some_and(|e| e.starts_with("There are no formal entry requirements."))
    );
    assert!(
        cert.assessment
            .as_deref()
            .is_some_and(|a| a.contains("portfolio of evidence"))
    );
    assert_eq!(cert.units.len(), 27);
    let groups = |g: &str| {
        cert.units
            .iter()
            .filter(|u| u.group.as_deref() == Some(g))
            .count()
    };
    assert_eq!(
        (
            groups("BUSINESS"),
            groups("CORE"),
            groups("LEADERSHIP"),
            groups("SELF")
        ),
        (6, 8, 6, 7)
    );
    let dip = s.qualification("610/3789/8").expect("diploma");
    assert_eq!(dip.credit, Range::at_least(37));
    assert_eq!(dip.glh, Some(Range::at_least(185)));
    assert_eq!(dip.tqt, Some(Range::at_least(370)));
    let app = s
        .qualification("610/3790/4")
        .expect("apprenticeship diploma");
    assert!(
        app.title
            .ends_with("Level 3 Diploma in Sales (Apprenticeship Diploma)"),
        "{}",
        app.title
    );
    assert_eq!(app.credit, Range::exactly(40));
    assert_eq!(app.units.len(), 11);
    let award = s.qualification("610/3791/6").expect("award");
    assert_eq!(
        award.title,
        "ISP Level 3 Award in Understanding Organisations and Sales Communication"
    );
    assert_eq!(award.size, QualificationSize::Award);
    assert_eq!(
        award.rules,
        [Requirement::Mandatory {
            units: vec!["L/650/7899".into(), "K/651/0342".into()]
        }]
    );
    // Both QANs for "Award in Understanding the Sales and Marketing Relationship" are kept.
    for q in ["610/3793/X", "610/5718/6"] {
        let q = s.qualification(q).expect("kept");
        assert_eq!(q.level, 3);
        assert_eq!(
            q.rules,
            [Requirement::Mandatory {
                units: vec!["M/651/0344".into()]
            }]
        );
    }
}

#[test]
fn every_qualification_unit_exists_and_no_text_is_empty() {
    for name in [L3, L5] {
        let imp = imported(name);
        let s = &imp.specification;
        for q in &s.qualifications {
            assert!(!q.units.is_empty(), "{} has no units", q.qan);
            assert!(!q.rules.is_empty(), "{} has no rules", q.qan);
            for u in &q.units {
                assert!(
                    s.unit(&u.unit).is_some(),
                    "{} names unknown unit {}",
                    q.qan,
                    u.unit
                );
            }
        }
        for u in &s.units {
            assert!(!u.learning_outcomes.is_empty(), "{} has no LOs", u.key);
            assert!(
                !u.title.is_empty() && u.level > 0 && u.credit.is_some() && u.tqt.is_some(),
                "{}",
                u.key
            );
            assert!(u.purpose.is_some() && u.sector.is_some(), "{}", u.key);
            assert!(u.evidence_occasions.is_none() && u.assessment_components.is_empty());
            for lo in &u.learning_outcomes {
                assert!(!lo.text.is_empty(), "{} LO {}", u.key, lo.number);
                assert!(
                    !lo.criteria.is_empty(),
                    "{} LO {} has no ACs",
                    u.key,
                    lo.number
                );
                for c in &lo.criteria {
                    assert!(!c.text.is_empty(), "{} AC {}", u.key, c.number);
                    assert!(c.number.starts_with(&format!("{}.", lo.number)));
                }
                for i in &lo.indicative_content {
                    assert!(!i.text.is_empty() && !i.text.starts_with('•'), "{}", u.key);
                }
            }
            if u.ofqual_ref.is_some() {
                assert_eq!(u.ofqual_ref.as_deref(), Some(u.key.as_str()));
                assert!(credence_domain::ident::UnitRef::parse(&u.key).is_ok());
            }
        }
    }
}

#[test]
fn criteria_split_by_the_pdf_are_rejoined() {
    let imp = imported(L3);
    let b1 = unit(&imp, "L3B1");
    assert_eq!(b1.key, "L/650/7899");
    assert_eq!(b1.title, "Understand Sales Communication");
    assert_eq!(
        ac(b1, "1.1"),
        "Explain the importance of effective communication in the sales process"
    );
    assert_eq!(
        ac(b1, "3.3"),
        "Analyse own communication preferences to identify improvement areas and actions"
    );
    assert_eq!(
        b1.learning_outcomes[1].text,
        "Understand a communication cycle and barriers"
    );
    let c2 = unit(&imp, "L3C2");
    assert_eq!(
        ac(c2, "3.1"),
        "Use open and probing questions to gain customer commitment at each stage of the sales meeting"
    );
    assert_eq!(
        c2.learning_outcomes[2].text,
        "Be able to handle customer objections during sales meetings"
    );
    assert_eq!(
        ac(unit(&imp, "L2C5"), "3.1"),
        "Describe methods used to check that customer expectations have been met"
    );
    // "1.2 1.3 1.4" printed in one cell (line 823), the last one continued on line 824.
    let b5 = unit(&imp, "L3B5");
    assert_eq!(
        ac(b5, "1.2"),
        "Describe how to access internal and external sales related information"
    );
    assert_eq!(
        ac(b5, "1.3"),
        "Explain the importance of checking data for accuracy and currency"
    );
    assert_eq!(
        ac(b5, "1.4"),
        "Explain how to store sales related information safely and securely"
    );
    assert_eq!(
        ac(unit(&imp, "L4B6"), "1.3"),
        "Explain how technology supports analysis and decision-making"
    );
    // LO 3 of L3C5: its number misprinted "2" (line 1354) and its text over three lines.
    assert_eq!(
        unit(&imp, "L3C5").learning_outcomes[2].text,
        "Be able to use sales tools to move prospects through the sales pipeline"
    );
    assert_eq!(unit(&imp, "L4L4").learning_outcomes.len(), 3);
}

#[test]
fn a_lost_criterion_number_is_inferred_and_reported() {
    let imp = imported(L3);
    let b2 = unit(&imp, "L3B2");
    assert_eq!(
        ac(b2, "1.4"),
        "Describe the roles and responsibilities of sales professionals at different levels of the organisation"
    );
    let f = findings(&imp, FindingKind::InferredNumber, 659);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].status, FindingStatus::Repaired);
    assert!(
        f[0].seen
            .contains("Describe the roles and responsibilities")
    );
    assert_eq!(f[0].candidates[0], "1.4");
    let t = f[0].target.as_ref().expect("target");
    assert_eq!((t.entity, t.key.as_str()), (Entity::Unit, "K/651/0342"));
    // L4S4 lost four numbers (lines 2215, 2219, 2220, 2224).
    let s4 = unit(&imp, "L4S4");
    assert_eq!(
        ac(s4, "2.3"),
        "Assess time management techniques to select an approach that aligns with personal work style"
    );
    assert_eq!(
        ac(s4, "3.2"),
        "Evaluate the effectiveness of a time management technique to complete work tasks"
    );
}

#[test]
fn cut_titles_are_completed_and_levels_recovered() {
    let imp = imported(L3);
    let c6 = unit(&imp, "L3C6");
    assert_eq!(c6.title, "Understand Customer Behaviours");
    assert_eq!(c6.level, 3);
    let f = findings(&imp, FindingKind::CompletedTitle, 343);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].status, FindingStatus::Repaired);
    assert!(f[0].seen.contains("derstand Customer Behaviours 3"));
    assert_eq!(f[0].candidates[0], "Understand Customer Behaviours");
    assert_eq!(
        unit(&imp, "L4L4").title,
        "Participating in Coaching and Mentoring"
    );
    assert_eq!(findings(&imp, FindingKind::CompletedTitle, 353).len(), 1);
    // Level and credit cells left empty in the unit specification, filled from the tables.
    let l2c5 = unit(&imp, "L2C5");
    assert_eq!(
        (l2c5.level, l2c5.credit, l2c5.glh, l2c5.tqt),
        (2, Some(4), Some(20), Some(40))
    );
    // TQT comes from the tables, whatever the header calls it ("тот", "τατ").
    let c5 = unit(&imp, "L3C5");
    assert_eq!((c5.credit, c5.glh, c5.tqt), (Some(5), Some(25), Some(50)));
}

#[test]
fn damaged_unit_references_are_repaired_from_other_tables() {
    let imp = imported(L3);
    // "51/0353" (line 1636): the tables give M/651/0353 for L3L2.
    assert_eq!(unit(&imp, "L3L2").key, "M/651/0353");
    let f = findings(&imp, FindingKind::InvalidIdentifier, 1636);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].status, FindingStatus::Repaired);
    assert_eq!(f[0].candidates[0], "M/651/0353");
    // "К/650/7914" with a Cyrillic К (line 1445).
    assert_eq!(unit(&imp, "L4C2").key, "K/650/7914");
}

#[test]
fn level_3_rules_of_combination() {
    let imp = imported(L3);
    let s = &imp.specification;
    let cert = s.qualification("610/3788/6").expect("certificate");
    assert_eq!(
        cert.rules,
        [
            Requirement::TotalCredit {
                min: Some(13),
                max: Some(36)
            },
            Requirement::MinUnitsInGroups {
                groups: vec!["BUSINESS".into()],
                min: 2
            },
            Requirement::MinUnitsInGroups {
                groups: vec!["CORE".into()],
                min: 2
            },
            Requirement::MinUnitsInGroups {
                groups: vec!["LEADERSHIP".into(), "SELF".into()],
                min: 1
            },
        ]
    );
    assert_eq!(
        cert.rules_text[3],
        "At least one LEADERSHIP unit or SELF unit"
    );
    let dip = s.qualification("610/3789/8").expect("diploma");
    assert_eq!(
        dip.rules,
        [
            Requirement::TotalCredit {
                min: Some(37),
                max: None
            },
            Requirement::MinUnitsInGroups {
                groups: vec!["BUSINESS".into()],
                min: 3
            },
            Requirement::MinUnitsInGroups {
                groups: vec!["CORE".into()],
                min: 4
            },
            Requirement::MinUnitsInGroups {
                groups: vec!["LEADERSHIP".into()],
                min: 1
            },
            Requirement::MinUnitsInGroups {
                groups: vec!["SELF".into()],
                min: 2
            },
        ]
    );
    let app = s.qualification("610/3790/4").expect("apprenticeship");
    let prescribed: Vec<String> = [
        "L/650/7899",
        "R/651/0345",
        "T/651/0346",
        "Y/651/0347",
        "A/651/0348",
        "D/651/0349",
        "J/651/0350",
        "K/651/0351",
        "L/651/0352",
        "R/651/0354",
        "Y/651/0356",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(
        app.rules,
        [
            Requirement::TotalCredit {
                min: Some(40),
                max: Some(40)
            },
            Requirement::Mandatory { units: prescribed },
        ]
    );
    assert_eq!(
        app.rules_text,
        ["40 credits", "All units as prescribed below"]
    );
}

#[test]
fn level_5_rules_of_combination() {
    let imp = imported(L5);
    let s = &imp.specification;
    let share = Requirement::MinShareAtLevel {
        level: 5,
        percent: 50,
    };
    let dip = s.qualification("610/5684/4").expect("diploma");
    assert_eq!(
        dip.rules,
        [
            Requirement::TotalCredit {
                min: Some(37),
                max: None
            },
            Requirement::MinCreditInGroups {
                groups: vec!["BUSINESS".into()],
                min: 9
            },
            Requirement::MinCreditInGroups {
                groups: vec!["CORE".into()],
                min: 12
            },
            Requirement::MinCreditInGroups {
                groups: vec!["LEADERSHIP".into()],
                min: 8
            },
            Requirement::MinCreditInGroups {
                groups: vec!["SELF".into()],
                min: 8
            },
            share.clone(),
        ]
    );
    let cert = s.qualification("610/5683/2").expect("certificate");
    assert_eq!(
        cert.rules.first(),
        Some(&Requirement::TotalCredit {
            min: Some(13),
            max: Some(36)
        })
    );
    assert_eq!(cert.rules.last(), Some(&share));
    assert_eq!(cert.units.len(), 32);
    let innovation = s.qualification("610/5679/0").expect("innovation award");
    assert_eq!(
        innovation.rules,
        [Requirement::Mandatory {
            units: vec!["T/651/5991".into(), "Y/651/5992".into()]
        }]
    );
}

#[test]
fn duplicate_qan_is_an_open_finding_on_the_suspicious_one() {
    let imp = imported(L3);
    let f = findings(&imp, FindingKind::Duplicate, 156);
    assert_eq!(f.len(), 1, "{:?}", imp.report.findings);
    assert_eq!(f[0].status, FindingStatus::Open);
    let t = f[0].target.as_ref().expect("target");
    assert_eq!(
        (t.entity, t.key.as_str(), t.field.as_str()),
        (Entity::Qualification, "610/5718/6", "exists")
    );
    assert!(f[0].candidates.contains(&"610/3793/X".to_string()));
    assert!(
        f[0].seen
            .starts_with("ISP Level Award in Understanding the Sales and Marketing Relationship")
    );
}

#[test]
fn invalid_unit_reference_without_a_valid_copy_stays_open() {
    let imp = imported(L5);
    // L6S2 prints "H/651/601" (line 1580) and so does the overview (line 300).
    let u = unit(&imp, "L6S2");
    assert_eq!(u.key, "ISP:L6S2");
    assert_eq!(u.ofqual_ref, None);
    let f = findings(&imp, FindingKind::InvalidIdentifier, 1580);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].status, FindingStatus::Open);
    assert!(f[0].candidates.contains(&"H/651/601".to_string()));
    // "LSB4" (line 566): the AO reference repaired from the tables.
    assert_eq!(unit(&imp, "L5B4").key, "F/651/5977");
    assert_eq!(findings(&imp, FindingKind::InvalidIdentifier, 566).len(), 1);
}

#[test]
fn values_that_disagree_between_tables_are_open() {
    let imp = imported(L5);
    // L5L4 GLH: 30 in the unit specification and the Award table, 20 in the overview.
    let f = findings(&imp, FindingKind::Disagreement, 284);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].status, FindingStatus::Open);
    assert_eq!(f[0].candidates, ["30", "20"]);
    assert_eq!(unit(&imp, "L5L4").glh, Some(30));
    // L5L5: Y/650/7928 in the Innovation Award table (line 215), T/651/5991 elsewhere.
    let f = findings(&imp, FindingKind::Disagreement, 215);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].candidates, ["T/651/5991", "Y/650/7928"]);
    assert_eq!(
        f[0].target.as_ref().map(|t| t.field.as_str()),
        Some("ofqual_ref")
    );
    // L4L5 GLH 60 (unit specification) against 30 (overview).
    assert_eq!(findings(&imp, FindingKind::Disagreement, 288).len(), 1);
    // A Key Facts title that differs from its Award heading.
    let f = findings(&imp, FindingKind::Disagreement, 146);
    assert_eq!(f.len(), 1);
    assert_eq!(
        imp.specification
            .qualification("610/5663/7")
            .map(|q| q.title.as_str()),
        Some("Level 5 Award in Analysis Financial Performance")
    );
    // No disagreement is silently resolved: every one is open.
    for name in [L3, L5] {
        let imp = imported(name);
        assert!(
            imp.report
                .findings
                .iter()
                .filter(|f| f.kind == FindingKind::Disagreement)
                .all(|f| f.status == FindingStatus::Open)
        );
    }
}

#[test]
fn ksb_simulation_and_guidance() {
    let imp = imported(L3);
    let b1 = unit(&imp, "L3B1");
    let codes: Vec<&str> = b1.ksb.iter().map(|k| k.code.as_str()).collect();
    assert_eq!(codes, ["K7", "S1", "B8"]);
    assert!(
        b1.ksb
            .iter()
            .all(|k| k.standard == "Level 3 IT Technical Salesperson")
    );
    assert!(
        b1.apprenticeship_text
            .as_deref()
            .is_some_and(|t| t.starts_with("Level 3 IT Technical Salesperson Apprenticeship"))
    );
    // "К10" with a Cyrillic К (line 1117).
    let c2: Vec<&str> = unit(&imp, "L3C2")
        .ksb
        .iter()
        .map(|k| k.code.as_str())
        .collect();
    assert_eq!(c2, ["K10", "K11", "S8"]);
    // B9 only in the Appendix 3 table (continuation line 2345).
    assert!(unit(&imp, "L3L1").ksb.iter().any(|k| k.code == "B9"));
    assert_eq!(
        unit(&imp, "L3B2").apprenticeship_text.as_deref(),
        Some("Not linked to the apprenticeship standard.")
    );
    assert!(unit(&imp, "L3B2").ksb.is_empty());
    // Simulation only where the assessor guidance allows it (lines 1523, 1823).
    assert_eq!(unit(&imp, "L4C2").simulation, Simulation::Permitted);
    assert_eq!(unit(&imp, "L4L4").simulation, Simulation::Permitted);
    assert_eq!(unit(&imp, "L3B1").simulation, Simulation::NotPermitted);
    // Guidance per LO, assigned in order even where numbered "4.", "5." (line 1437).
    let c6 = unit(&imp, "L3C6");
    assert!(
        c6.learning_outcomes[0]
            .assessor_guidance
            .as_deref()
            .is_some_and(|g| g.starts_with("Learners should describe at least three factors"))
    );
    assert!(
        c6.learning_outcomes[1]
            .assessor_guidance
            .as_deref()
            .is_some_and(|g| g.starts_with("Learners should describe at least three ways"))
    );
    // The unnumbered last paragraph of L4L4's guidance is LO 3's (line 1823).
    assert!(
        unit(&imp, "L4L4").learning_outcomes[2]
            .assessor_guidance
            .as_deref()
            .is_some_and(|g| g.contains("coaching OR mentoring sessions"))
    );
    let b2 = unit(&imp, "L3B2");
    assert_eq!(
        b2.learning_outcomes[1]
            .indicative_content
            .last()
            .map(|c| c.text.as_str()),
        Some("How to conduct a PESTLE analysis")
    );
    assert!(b2.purpose.as_deref().is_some_and(|p| {
        p.ends_with("Learners will conduct a PESTLE analysis for an organisation.")
    }));
    let l5 = imported(L5);
    let b1 = unit(&l5, "L5B1");
    assert_eq!(b1.ksb.len(), 1);
    assert_eq!(b1.ksb[0].standard, "Level 5 Operations Manager");
    assert_eq!(b1.ksb[0].text, "Financial management techniques");
}

#[test]
fn findings_are_numbered_in_line_order_and_the_import_is_deterministic() {
    for name in [L3, L5] {
        let a = imported(name);
        let b = imported(name);
        assert_eq!(a, b);
        let lines: Vec<usize> = a.report.findings.iter().map(|f| f.line).collect();
        assert!(lines.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            a.report
                .findings
                .iter()
                .all(|f| f.line > 0 && !f.seen.is_empty())
        );
        assert_eq!(a.report.findings[0].id, "F1");
    }
}
