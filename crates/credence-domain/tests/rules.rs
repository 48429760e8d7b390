//! Rules of combination: every rule kind at its boundaries, every seed qualification with a
//! passing and a failing claim and the exact messages, the planner and "what can I claim",
//! and property tests against brute force with an independent checker.

use credence_domain::model::{
    Grading, Qualification, QualificationSize, QualificationUnit, Range, Requirement, Simulation,
    Unit,
};
use credence_domain::rules::bench::XorShift;
use credence_domain::rules::fixtures::{self, *};
use credence_domain::rules::{
    Catalogue, CompiledQualification, NotCountedReason, PlanRequest, PlanStatus, UnitSet, UnmetKind,
};
use proptest::prelude::*;
use std::collections::BTreeSet;

struct Seeds {
    qs: Vec<Qualification>,
    units: Vec<Unit>,
}

fn seeds() -> Seeds {
    Seeds {
        qs: fixtures::qualifications(),
        units: fixtures::units(),
    }
}

impl Seeds {
    fn cat(&self) -> Catalogue<'_> {
        Catalogue::new(&self.qs, &self.units)
    }
    fn compiled(&self, qan: &str) -> CompiledQualification {
        let cat = self.cat();
        cat.compile(cat.qualification(qan).expect("fixture qualification"))
            .expect("compiles")
    }
    /// Messages of evaluating `claim` (AO refs) against `qan`.
    fn messages(&self, qan: &str, claim: &[&str]) -> Vec<String> {
        let e = self.cat().evaluate(qan, claim).expect("evaluates");
        assert_eq!(e.achieved, e.unmet.is_empty());
        e.unmet.into_iter().map(|u| u.message).collect()
    }
    fn achieved(&self, qan: &str, claim: &[&str]) -> bool {
        self.cat().evaluate(qan, claim).expect("evaluates").achieved
    }
}

// ---------------------------------------------------------------------------------------------
// Each seed qualification: a passing and a failing claim, exact messages.

#[test]
fn l3_certificate_credit_boundaries_13_and_36() {
    let s = seeds();
    // 12 credits: 2 BUSINESS, 2 CORE, 1 SELF.
    assert_eq!(
        s.messages(L3_CERTIFICATE, &["L3B1", "L3B3", "L3C1", "L3C6", "L3S1"]),
        vec!["12 credits, the minimum is 13"]
    );
    // 13 credits: passes.
    assert!(s.achieved(L3_CERTIFICATE, &["L3B1", "L3B3", "L3C1", "L3C6", "L3S2"]));
    // 36 credits: passes.
    let at_36 = [
        "L3B1", "L3B2", "L3B4", "L3B5", "L4B6", "L3C3", "L3C5", "L4C2", "L3S2", "L3S1",
    ];
    assert!(s.achieved(L3_CERTIFICATE, &at_36));
    // 37 credits: every listed unit counts, so the claim fails.
    let at_37 = [
        "L3B1", "L3B2", "L3B4", "L3B5", "L4B6", "L3C3", "L3C5", "L4C2", "L3S2", "L3S3",
    ];
    assert_eq!(
        s.messages(L3_CERTIFICATE, &at_37),
        vec!["37 credits, the maximum is 36"]
    );
}

#[test]
fn l3_certificate_groups_and_other_levels_count_in_their_group() {
    let s = seeds();
    // L2 and L4 units placed in the groups count there (DOMAIN.md).
    assert!(s.achieved(L3_CERTIFICATE, &["L4B6", "L3B5", "L2C5", "L4C2", "L2L3"]));
    assert_eq!(
        s.messages(L3_CERTIFICATE, &["L3B1", "L3C1", "L3C2", "L3C3"]),
        vec![
            "1 BUSINESS unit, needs at least 2",
            "0 LEADERSHIP or SELF units, needs at least 1"
        ]
    );
}

#[test]
fn l3_diploma_boundaries_36_and_37_and_every_unmet_requirement() {
    let s = seeds();
    let at_37 = [
        "L3B1", "L3B2", "L3B3", "L3C1", "L3C2", "L3C3", "L3C4", "L3L1", "L3S2", "L3S3", "L3L3",
    ];
    assert!(s.achieved(L3_DIPLOMA, &at_37));
    let at_36 = [
        "L3B1", "L3B2", "L3B3", "L3C1", "L3C2", "L3C3", "L3C4", "L3L1", "L3S2", "L3S3", "L3L2",
    ];
    assert_eq!(
        s.messages(L3_DIPLOMA, &at_36),
        vec!["36 credits, the minimum is 37"]
    );
    assert_eq!(
        s.messages(L3_DIPLOMA, &["L3B1", "L3B2", "L3C1", "L3C2"]),
        vec![
            "13 credits, the minimum is 37",
            "2 BUSINESS units, needs at least 3",
            "2 CORE units, needs at least 4",
            "0 LEADERSHIP units, needs at least 1",
            "0 SELF units, needs at least 2",
        ]
    );
    let e = s
        .cat()
        .evaluate(L3_DIPLOMA, &["L3B1", "L3B2", "L3C1", "L3C2"])
        .expect("evaluates");
    assert_eq!(e.unmet[2].requirement, Some(2));
    assert_eq!(
        e.unmet[2].kind,
        UnmetKind::TooFewUnitsInGroups {
            groups: vec!["CORE".into()],
            units: 2,
            min: 4
        }
    );
}

#[test]
fn l3_apprenticeship_diploma_needs_every_prescribed_unit() {
    let s = seeds();
    let all = [
        "L3B1", "L3B5", "L3C1", "L3C2", "L3C3", "L3C4", "L3C5", "L3C6", "L3L1", "L3L3", "L3S3",
    ];
    assert!(s.achieved(L3_APPRENTICESHIP_DIPLOMA, &all));
    let missing: Vec<&str> = all.iter().copied().filter(|r| *r != "L3C3").collect();
    assert_eq!(
        s.messages(L3_APPRENTICESHIP_DIPLOMA, &missing),
        vec![
            "35 credits, the minimum is 40",
            "missing mandatory unit L3C3"
        ]
    );
    // A unit from outside the prescribed list is reported and not counted: no failure.
    let mut extra = all.to_vec();
    extra.push("L3B2");
    let e = s
        .cat()
        .evaluate(L3_APPRENTICESHIP_DIPLOMA, &extra)
        .expect("evaluates");
    assert!(e.achieved);
    assert_eq!(e.total_credit, 40);
    assert_eq!(e.not_counted.len(), 1);
    assert_eq!(e.not_counted[0].unit, "L3B2");
    assert_eq!(
        e.not_counted[0].reason,
        NotCountedReason::NotInQualification
    );
}

#[test]
fn l3_awards() {
    let s = seeds();
    assert!(s.achieved(L3_AWARD_ORGANISATIONS, &["L3B1", "L3B2"]));
    assert_eq!(
        s.messages(L3_AWARD_ORGANISATIONS, &["L3B1"]),
        vec!["missing mandatory unit L3B2"]
    );
    assert!(s.achieved(L3_AWARD_NEGOTIATING, &["Y/651/0347", "A/651/0348"]));
    assert_eq!(
        s.messages(L3_AWARD_NEGOTIATING, &[] as &[&str]),
        vec!["missing mandatory unit L3C2", "missing mandatory unit L3C3"]
    );
    assert!(s.achieved("610/3793/X", &["L3B4"]));
}

#[test]
fn l5_certificate_share_at_level_5_both_readings() {
    let s = seeds();
    let pass = ["L5B1", "L5B3", "L5C1", "L5C4", "L5L5"];
    assert!(s.achieved(L5_CERTIFICATE, &pass));
    // Exactly 50% by credit (16 of 32): passes, though by unit count it is 3 of 8.
    let half = [
        "L5C2", "L5C3", "L5S2", "L4B3", "L4B5", "L4C1", "L4C3", "L4S2",
    ];
    let e = s.cat().evaluate(L5_CERTIFICATE, &half).expect("evaluates");
    assert!(e.achieved);
    assert_eq!(e.level_shares.len(), 1);
    let ls = &e.level_shares[0];
    assert_eq!((ls.credit_at_level, ls.total_credit), (16, 32));
    assert_eq!((ls.units_at_level, ls.total_units), (3, 8));
    assert!(ls.met_by_credit && !ls.met_by_unit_count);
    // One more Level 4 unit: 16 of 35.
    let mut below = half.to_vec();
    below.push("L4C7");
    assert_eq!(
        s.messages(L5_CERTIFICATE, &below),
        vec!["45.7% of credit at Level 5 or above, needs 50% (by unit count: 3 of 9 units, 33.3%)"]
    );
}

#[test]
fn l5_diploma_credit_per_group() {
    let s = seeds();
    let pass = ["L5B1", "L5B4", "L5C2", "L5C3", "L5L1", "L5S1", "L4S2"];
    assert!(s.achieved(L5_DIPLOMA, &pass));
    let fail = ["L5B1", "L5B4", "L5C2", "L5C4", "L5L1", "L5S1", "L4S2"];
    assert_eq!(
        s.messages(L5_DIPLOMA, &fail),
        vec!["35 credits, the minimum is 37", "CORE credits 10, needs 12"]
    );
    // The level share fails too: the unit-count reading differs, so it is shown.
    let low = [
        "L4B3", "L4B5", "L4B8", "L4C1", "L4C3", "L4C7", "L4C8", "L4L5", "L5L1", "L4S2", "L4S3",
        "L4S6",
    ];
    assert_eq!(
        s.messages(L5_DIPLOMA, &low),
        vec!["17.7% of credit at Level 5 or above, needs 50% (by unit count: 1 of 12 units, 8.3%)"]
    );
    // 40% by credit where the unit count reads the same: no note.
    let forty = ["L5B3", "L5L5", "L4B3", "L4C3", "L4S2"];
    let msgs = s.messages(L5_DIPLOMA, &forty);
    assert!(
        msgs.contains(&"40% of credit at Level 5 or above, needs 50%".to_string()),
        "{msgs:?}"
    );
}

#[test]
fn isp_advanced_certificate_and_diploma() {
    let s = seeds();
    assert!(s.achieved(
        L5_ADVANCED_CERTIFICATE,
        &["ISP501", "ISP502", "ISP503", "ISP504"]
    ));
    assert_eq!(
        s.messages(L5_ADVANCED_CERTIFICATE, &["ISP501", "ISP502", "ISP504"]),
        vec!["missing mandatory unit ISP503"]
    );
    let all = [
        "ISP501", "ISP502", "ISP503", "ISP504", "ISP401", "ISP404", "ISP505", "ISP506", "ISP507",
    ];
    let e = s
        .cat()
        .evaluate(L5_ADVANCED_DIPLOMA, &all)
        .expect("evaluates");
    assert!(e.achieved);
    assert_eq!(e.total_credit, 41);
    assert_eq!(e.total_glh, 306);
    assert_eq!(
        s.messages(L5_ADVANCED_DIPLOMA, &all[..7]),
        vec![
            "3 of ISP401, ISP404, ISP505, ISP506, ISP507 chosen, needs at least 5",
            "33 credits, the minimum is 41"
        ]
    );
}

#[test]
fn ismm_executive_award_one_of_two_routes() {
    let s = seeds();
    assert!(s.achieved(ISMM_EXECUTIVE_AWARD, &["Unit 1"]));
    assert!(s.achieved(ISMM_EXECUTIVE_AWARD, &["ISMM:Unit 2"]));
    assert!(s.achieved(ISMM_EXECUTIVE_AWARD, &["unit 1", "Unit 2"]));
    assert_eq!(
        s.messages(ISMM_EXECUTIVE_AWARD, &["L3B1"]),
        vec!["needs one of: Unit 1; Unit 2"]
    );
}

#[test]
fn every_fixture_qualification_compiles_and_is_met_by_all_its_units_or_not() {
    let s = seeds();
    let cat = s.cat();
    for q in &s.qs {
        let c = cat.compile(q).expect("compiles");
        // No claim: never achieved, and never a bare no.
        let e = c.evaluate(&[] as &[&str]);
        assert!(!e.achieved && !e.unmet.is_empty(), "{}", q.qan);
    }
}

// ---------------------------------------------------------------------------------------------
// Claims as given: not belonging, unknown, duplicates.

#[test]
fn not_belonging_and_unknown_units_are_reported_and_duplicates_count_once() {
    let s = seeds();
    let e = s
        .cat()
        .evaluate(
            L3_AWARD_ORGANISATIONS,
            &["L3B1", "l3b1", "L/650/7899", "L3B2", "L5B1", "NOPE-1"],
        )
        .expect("evaluates");
    assert!(e.achieved);
    assert_eq!(e.counted, vec!["L/650/7899", "K/651/0342"]);
    assert_eq!(e.duplicates, vec!["l3b1", "L/650/7899"]);
    assert_eq!(e.total_credit, 6);
    assert_eq!(e.not_counted.len(), 2);
    assert_eq!(e.not_counted[0].unit, "L5B1");
    assert_eq!(
        e.not_counted[0].reason,
        NotCountedReason::NotInQualification
    );
    assert_eq!(e.not_counted[1].unit, "NOPE-1");
    assert_eq!(e.not_counted[1].reason, NotCountedReason::Unknown);
    // The JSON shape the CLI prints: achieved and a list of unmet.
    let f = s.cat().evaluate(L3_DIPLOMA, &["L3B1"]).expect("evaluates");
    let json = serde_json::to_value(&f).expect("serialises");
    assert_eq!(json["achieved"], false);
    assert_eq!(json["unmet"][0]["kind"], "credit_below_minimum");
    assert_eq!(json["unmet"][0]["message"], "3 credits, the minimum is 37");
    assert_eq!(json["unmet"][0]["requirement"], 0);
}

#[test]
fn unknown_qualification_is_an_error() {
    let s = seeds();
    assert!(s.cat().evaluate("999/9999/9", &["L3B1"]).is_err());
}

// ---------------------------------------------------------------------------------------------
// Rule kinds at their boundaries, on small hand-made qualifications.

fn mk_unit(key: &str, level: u8, credit: u32, glh: u32) -> Unit {
    Unit {
        key: key.to_string(),
        ofqual_ref: None,
        ao_ref: key.to_string(),
        other_refs: Vec::new(),
        title: format!("Unit {key}"),
        level,
        credit: Some(credit),
        glh: Some(glh),
        tqt: None,
        purpose: None,
        sector: None,
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

fn mk_qual(units: &[(&str, Option<&str>)], rules: Vec<Requirement>) -> Qualification {
    Qualification {
        qan: "000/0000/0".to_string(),
        title: "Test qualification".to_string(),
        level: 3,
        size: QualificationSize::Certificate,
        credit: Range::at_least(0),
        glh: None,
        tqt: None,
        grading: Grading::PassOnly,
        assessment: None,
        minimum_age: None,
        entry_requirements: None,
        units: units
            .iter()
            .map(|(k, g)| QualificationUnit {
                unit: k.to_string(),
                group: g.map(str::to_string),
            })
            .collect(),
        rules,
        rules_text: Vec::new(),
    }
}

fn compile(q: &Qualification, units: &[Unit]) -> CompiledQualification {
    CompiledQualification::new(q, |k| units.iter().find(|u| u.key == k)).expect("compiles")
}

fn msgs(c: &CompiledQualification, claim: &[&str]) -> Vec<String> {
    c.evaluate(claim)
        .unmet
        .into_iter()
        .map(|u| u.message)
        .collect()
}

#[test]
fn share_boundary_exactly_50_and_49_percent() {
    let units = vec![
        mk_unit("H49", 5, 49, 1),
        mk_unit("H50", 5, 50, 1),
        mk_unit("L50", 4, 50, 1),
        mk_unit("L51", 4, 51, 1),
    ];
    let q = mk_qual(
        &[("H49", None), ("H50", None), ("L50", None), ("L51", None)],
        vec![Requirement::MinShareAtLevel {
            level: 5,
            percent: 50,
        }],
    );
    let c = compile(&q, &units);
    assert!(msgs(&c, &["H50", "L50"]).is_empty(), "exactly 50% passes");
    assert_eq!(
        msgs(&c, &["H49", "L51"]),
        vec!["49% of credit at Level 5 or above, needs 50% (by unit count: 1 of 2 units, 50%)"],
        "the unit-count reading differs, so it is shown"
    );
    assert_eq!(
        msgs(&c, &["H49", "L50"]),
        vec!["49.4% of credit at Level 5 or above, needs 50% (by unit count: 1 of 2 units, 50%)"]
    );
    // The unit-count reading is shown where it differs.
    assert_eq!(
        msgs(&c, &["H49", "L50", "L51"]),
        vec!["32.6% of credit at Level 5 or above, needs 50% (by unit count: 1 of 3 units, 33.3%)"]
    );
    assert!(
        c.evaluate(&[] as &[&str]).achieved,
        "no credit: the share holds vacuously"
    );
}

#[test]
fn credit_group_and_choice_boundaries() {
    let units = vec![
        mk_unit("A1", 3, 4, 10),
        mk_unit("A2", 3, 4, 10),
        mk_unit("A3", 3, 4, 10),
        mk_unit("B1", 3, 6, 10),
        mk_unit("B2", 3, 6, 10),
    ];
    let group_a = Some("A");
    let group_b = Some("B");
    let q = mk_qual(
        &[
            ("A1", group_a),
            ("A2", group_a),
            ("A3", group_a),
            ("B1", group_b),
            ("B2", group_b),
        ],
        vec![
            Requirement::MinCreditInGroups {
                groups: vec!["B".into()],
                min: 12,
            },
            Requirement::ChooseUnits {
                units: vec!["A1".into(), "A2".into(), "A3".into()],
                min: 1,
                max: Some(2),
            },
            Requirement::MinUnitsInGroups {
                groups: vec!["A".into(), "B".into()],
                min: 3,
            },
        ],
    );
    let c = compile(&q, &units);
    assert!(msgs(&c, &["A1", "B1", "B2"]).is_empty());
    assert_eq!(msgs(&c, &["A1", "A2", "B1"]), vec!["B credits 6, needs 12"]);
    assert_eq!(
        msgs(&c, &["A1", "A2", "A3", "B1", "B2"]),
        vec!["3 of A1, A2, A3 chosen, the maximum is 2"]
    );
    assert_eq!(
        msgs(&c, &["B1", "B2"]),
        vec![
            "0 of A1, A2, A3 chosen, needs at least 1",
            "2 A or B units, needs at least 3"
        ]
    );
}

#[test]
fn no_rules_is_never_achieved() {
    let units = vec![mk_unit("A1", 3, 4, 10)];
    let q = mk_qual(&[("A1", None)], vec![]);
    let c = compile(&q, &units);
    assert_eq!(
        msgs(&c, &["A1"]),
        vec!["no rules of combination are recorded for this qualification"]
    );
}

#[test]
fn unknown_unit_in_a_qualification_is_a_compile_error() {
    let q = mk_qual(&[("A1", None)], vec![]);
    assert!(CompiledQualification::new(&q, |_| None).is_err());
}

// ---------------------------------------------------------------------------------------------
// Planner on the seeds.

fn plan(
    s: &Seeds,
    qan: &str,
    achieved: &[&str],
    wants: &[&str],
    refuses: &[&str],
) -> credence_domain::rules::Plan {
    let strings = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    s.cat()
        .plan(
            qan,
            &PlanRequest {
                achieved: strings(achieved),
                wants: strings(wants),
                refuses: strings(refuses),
            },
        )
        .expect("plans")
}

fn plan_meets(s: &Seeds, qan: &str, achieved: &[&str], p: &credence_domain::rules::Plan) {
    let mut all: Vec<String> = achieved.iter().map(|x| x.to_string()).collect();
    all.extend(p.units.iter().map(|u| u.key.clone()));
    let e = s.cat().evaluate(qan, &all).expect("evaluates");
    assert!(e.achieved, "{qan}: {:?}", e.unmet);
}

#[test]
fn plan_l3_diploma_from_empty_is_cheapest_and_valid() {
    let s = seeds();
    let p = plan(&s, L3_DIPLOMA, &[], &[], &[]);
    assert_eq!(p.status, PlanStatus::Completion);
    plan_meets(&s, L3_DIPLOMA, &[], &p);
    // Every unit but L4C2 takes 5 GLH a credit; L4C2 takes 4: so 180 GLH for 37 credits is
    // the least possible, and 10 units is the least the groups allow (3 + 4 + 1 + 2).
    assert_eq!((p.added_glh, p.added_credit, p.units.len()), (180, 37, 10));
    assert!(p.units.iter().any(|u| u.ao_ref == "L4C2"));
    for u in &p.units {
        assert!(!u.reasons.is_empty());
    }
}

#[test]
fn plan_reasons_name_the_requirement_served() {
    let s = seeds();
    let start = ["L3C1", "L3C2"];
    let p = plan(&s, L3_DIPLOMA, &start, &[], &[]);
    assert_eq!(p.status, PlanStatus::Completion);
    plan_meets(&s, L3_DIPLOMA, &start, &p);
    let core: Vec<_> = p
        .units
        .iter()
        .filter(|u| u.group.as_deref() == Some("CORE"))
        .collect();
    assert_eq!(core.len(), 2);
    for u in core {
        assert!(
            u.reasons
                .contains(&"CORE unit: needs at least 4 CORE units (has 2)".to_string()),
            "{:?}",
            u.reasons
        );
        assert!(u.reasons.iter().any(|r| r.starts_with("adds ")));
    }
}

#[test]
fn plan_with_wants_and_refuses() {
    let s = seeds();
    let p = plan(&s, L3_DIPLOMA, &[], &["L4L4"], &["L4C2"]);
    assert_eq!(p.status, PlanStatus::Completion);
    plan_meets(&s, L3_DIPLOMA, &[], &p);
    assert!(p.units.iter().any(|u| u.ao_ref == "L4L4" && u.wanted));
    assert!(p.units.iter().all(|u| u.ao_ref != "L4C2"));
    let w = p
        .units
        .iter()
        .find(|u| u.ao_ref == "L4L4")
        .expect("wanted unit planned");
    assert_eq!(w.reasons[0], "wanted");
}

#[test]
fn plan_no_completion_says_why() {
    let s = seeds();
    // A Diploma's worth of units: the Certificate's maximum is exceeded by the units held.
    let diploma = [
        "L3B1", "L3B2", "L3B3", "L3B4", "L3C1", "L3C2", "L3C3", "L3C4", "L3L1", "L3S2", "L3S3",
        "L3L3",
    ];
    let p = plan(&s, L3_CERTIFICATE, &diploma, &[], &[]);
    assert_eq!(p.status, PlanStatus::NoCompletion);
    assert_eq!(p.why_not.len(), 1, "{:?}", p.why_not);
    assert!(
        p.why_not[0].starts_with(
            "already 40 credits, the maximum is 36: no set of further units can meet it"
        ),
        "{:?}",
        p.why_not
    );
    assert!(p.why_not[0].contains("claiming a subset"));

    let p = plan(&s, L3_APPRENTICESHIP_DIPLOMA, &[], &[], &["L3C3"]);
    assert_eq!(p.status, PlanStatus::NoCompletion);
    assert!(
        p.why_not
            .contains(&"mandatory unit L3C3 is refused".to_string())
    );

    let p = plan(&s, ISMM_EXECUTIVE_AWARD, &[], &[], &["Unit 1", "Unit 2"]);
    assert_eq!(p.status, PlanStatus::NoCompletion);
    assert_eq!(
        p.why_not,
        vec!["every route needs a refused unit: needs one of: Unit 1; Unit 2"]
    );

    let p = plan(&s, L3_DIPLOMA, &[], &["L3B1"], &["L3B1"]);
    assert_eq!(p.status, PlanStatus::NoCompletion);
    assert!(
        p.why_not
            .contains(&"L3B1 is both wanted and refused".to_string())
    );

    let p = plan(&s, L3_DIPLOMA, &[], &[], &["L3B1", "L3B2", "L3B3", "L3B4"]);
    assert_eq!(p.status, PlanStatus::NoCompletion);
    assert_eq!(
        p.why_not,
        vec!["at most 2 BUSINESS units can be reached (refused units left out), needs at least 3"]
    );
}

#[test]
fn plan_already_achieved_and_ismm_route() {
    let s = seeds();
    let p = plan(&s, ISMM_EXECUTIVE_AWARD, &["Unit 2"], &[], &[]);
    assert_eq!(p.status, PlanStatus::AlreadyAchieved);
    let p = plan(&s, ISMM_EXECUTIVE_AWARD, &[], &[], &[]);
    assert_eq!(p.status, PlanStatus::Completion);
    assert_eq!(p.units.len(), 1);
    // Equal cost (105 GLH each): the earlier key wins.
    assert_eq!(p.units[0].key, "ISMM:Unit 1");
    assert_eq!(p.units[0].reasons, vec!["completes the route Unit 1"]);
    let p = plan(&s, L5_ADVANCED_DIPLOMA, &["ISP501"], &[], &[]);
    assert_eq!(p.units.len(), 8);
    assert_eq!(p.added_credit, 36);
}

#[test]
fn plan_l5_diploma_from_empty_is_valid() {
    let s = seeds();
    let p = plan(&s, L5_DIPLOMA, &[], &[], &[]);
    assert_eq!(p.status, PlanStatus::Completion);
    plan_meets(&s, L5_DIPLOMA, &[], &p);
    // Group credit minimums 9 + 12 + 8 + 8 and 37 credits in all, with half the credit at
    // Level 5 or above: 185 GLH is the least (L6S2 is 40 GLH for 8 credits after the shipped
    // corrections, no longer the cheap SELF cover it looked in the overview table).
    assert_eq!(p.added_glh, 185);
}

// ---------------------------------------------------------------------------------------------
// What can I claim now?

#[test]
fn claimable_with_a_diplomas_worth_of_units() {
    let s = seeds();
    let held = [
        "L3B1", "L3B2", "L3B3", "L3B4", "L3C1", "L3C2", "L3C3", "L3C4", "L3L1", "L3S2", "L3S3",
        "L3L3",
    ];
    let all = s.cat().claimable(&held).expect("claimable");
    assert_eq!(all.len(), s.qs.len());
    let by = |qan: &str| all.iter().find(|c| c.qan == qan).expect("listed");
    let dip = by(L3_DIPLOMA);
    assert!(dip.met);
    assert_eq!(dip.claim_credit, 40);
    let cert = by(L3_CERTIFICATE);
    assert!(cert.met);
    assert_eq!(cert.claim_credit, 36, "most credit within the maximum");
    let e = s
        .cat()
        .evaluate(L3_CERTIFICATE, &cert.claim_with)
        .expect("evaluates");
    assert!(e.achieved);
    assert!(by(L3_AWARD_ORGANISATIONS).met);
    let neg = by(L3_AWARD_NEGOTIATING);
    assert!(neg.met);
    let app = by(L3_APPRENTICESHIP_DIPLOMA);
    assert!(!app.met);
    assert!(!app.unmet.is_empty());
    let completion = app.completion.as_ref().expect("completion");
    assert_eq!(completion.units.len(), 3); // L3B5, L3C5, L3C6
    let l5 = by(L5_DIPLOMA);
    assert!(!l5.met && l5.completion.is_some());
}

// ---------------------------------------------------------------------------------------------
// Property tests.

/// An independent checker written straight from the model (not the compiled engine).
fn naive_met(q: &Qualification, units: &[Unit], claim: &BTreeSet<String>) -> bool {
    if q.rules.is_empty() {
        return false;
    }
    let belongs = belonging(q);
    let counted: Vec<&Unit> = units
        .iter()
        .filter(|u| claim.contains(&u.key) && belongs.contains(&u.key))
        .collect();
    let credit = |u: &&Unit| u.credit.unwrap_or(0);
    let total: u32 = counted.iter().map(credit).sum();
    let group_of = |k: &str| {
        q.units
            .iter()
            .find(|qu| qu.unit == k)
            .and_then(|qu| qu.group.clone())
    };
    let in_groups = |u: &&&Unit, gs: &[String]| group_of(&u.key).is_some_and(|g| gs.contains(&g));
    q.rules.iter().all(|r| match r {
        Requirement::TotalCredit { min, max } => {
            min.is_none_or(|m| total >= m) && max.is_none_or(|m| total <= m)
        }
        Requirement::MinUnitsInGroups { groups, min } => {
            counted.iter().filter(|u| in_groups(u, groups)).count() as u32 >= *min
        }
        Requirement::MinCreditInGroups { groups, min } => {
            counted
                .iter()
                .filter(|u| in_groups(u, groups))
                .map(credit)
                .sum::<u32>()
                >= *min
        }
        Requirement::Mandatory { units } => units.iter().all(|k| claim.contains(k)),
        Requirement::ChooseUnits { units, min, max } => {
            let set: BTreeSet<&String> = units.iter().collect();
            let n = set.iter().filter(|k| claim.contains(**k)).count() as u32;
            n >= *min && max.is_none_or(|m| n <= m)
        }
        Requirement::OneOfRoutes { routes } => {
            routes.iter().any(|r| r.iter().all(|k| claim.contains(k)))
        }
        Requirement::MinShareAtLevel { level, percent } => {
            let hi: u32 = counted
                .iter()
                .filter(|u| u.level >= *level)
                .map(credit)
                .sum();
            hi as u64 * 100 >= *percent as u64 * total as u64
        }
    })
}

fn belonging(q: &Qualification) -> BTreeSet<String> {
    let mut b: BTreeSet<String> = q.units.iter().map(|u| u.unit.clone()).collect();
    for r in &q.rules {
        match r {
            Requirement::Mandatory { units } | Requirement::ChooseUnits { units, .. } => {
                b.extend(units.iter().cloned())
            }
            Requirement::OneOfRoutes { routes } => b.extend(routes.iter().flatten().cloned()),
            _ => {}
        }
    }
    b
}

struct Instance {
    units: Vec<Unit>,
    q: Qualification,
    start: Vec<String>,
    wants: Vec<String>,
    refuses: Vec<String>,
}

fn random_instance(seed: u64) -> Instance {
    let mut r = XorShift::new(seed);
    let n = 1 + r.below(10) as usize;
    // Distinct keys in a shuffled order, so key order differs from index order.
    let mut codes: Vec<u64> = (0..n as u64).map(|i| i * 7 + r.below(7)).collect();
    for i in (1..codes.len()).rev() {
        let j = r.below(i as u64 + 1) as usize;
        codes.swap(i, j);
    }
    let groups = ["A", "B", "C"];
    let units: Vec<Unit> = codes
        .iter()
        .map(|c| {
            let mut u = mk_unit(
                &format!("K{c:03}"),
                2 + r.below(5) as u8,
                r.below(7) as u32,
                r.below(6) as u32 * 5,
            );
            if r.below(8) == 0 {
                u.credit = None;
            }
            u
        })
        .collect();
    let keys: Vec<String> = units.iter().map(|u| u.key.clone()).collect();
    let pick = |r: &mut XorShift, p: u64| -> Vec<String> {
        keys.iter().filter(|_| r.below(100) < p).cloned().collect()
    };
    let pick_groups = |r: &mut XorShift| -> Vec<String> {
        let mut g: Vec<String> = groups
            .iter()
            .filter(|_| r.below(2) == 0)
            .map(|s| s.to_string())
            .collect();
        if g.is_empty() {
            g.push(groups[r.below(3) as usize].to_string());
        }
        g
    };
    let mut q_units: Vec<QualificationUnit> = Vec::new();
    for k in &keys {
        if r.below(100) < 85 {
            let group = match r.below(4) {
                0 => None,
                g => Some(groups[g as usize - 1].to_string()),
            };
            q_units.push(QualificationUnit {
                unit: k.clone(),
                group,
            });
        }
    }
    let nrules = r.below(5);
    let mut rules = Vec::new();
    for _ in 0..nrules {
        rules.push(match r.below(7) {
            0 => Requirement::TotalCredit {
                min: (r.below(4) > 0).then(|| r.below(25) as u32),
                max: (r.below(3) == 0).then(|| r.below(35) as u32),
            },
            1 => Requirement::MinUnitsInGroups {
                groups: pick_groups(&mut r),
                min: r.below(4) as u32,
            },
            2 => Requirement::MinCreditInGroups {
                groups: pick_groups(&mut r),
                min: r.below(13) as u32,
            },
            3 => Requirement::Mandatory {
                units: pick(&mut r, 15),
            },
            4 => Requirement::ChooseUnits {
                units: pick(&mut r, 40),
                min: r.below(3) as u32,
                max: (r.below(2) == 0).then(|| r.below(4) as u32),
            },
            5 => Requirement::OneOfRoutes {
                routes: (0..1 + r.below(3))
                    .map(|_| {
                        let mut v = pick(&mut r, 20);
                        if v.is_empty() {
                            v.push(keys[r.below(n as u64) as usize].clone());
                        }
                        v
                    })
                    .collect(),
            },
            _ => Requirement::MinShareAtLevel {
                level: 3 + r.below(3) as u8,
                percent: [0, 25, 50, 75, 100][r.below(5) as usize],
            },
        });
    }
    let mut q = mk_qual(&[], rules);
    q.units = q_units;
    Instance {
        start: pick(&mut r, 25),
        wants: pick(&mut r, 8),
        refuses: pick(&mut r, 15),
        units,
        q,
    }
}

/// Sets compared as the planner breaks ties: the set holding the earliest key where two differ
/// comes first.
fn earlier_key_first(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    match a.symmetric_difference(b).next() {
        Some(k) => a.contains(k),
        None => false,
    }
}

type Cost = (u32, u32, usize);

fn cost_of(units: &[Unit], set: &BTreeSet<String>) -> Cost {
    let us = units.iter().filter(|u| set.contains(&u.key));
    let (g, c) = us.fold((0, 0), |(g, c), u| {
        (g + u.glh.unwrap_or(0), c + u.credit.unwrap_or(0))
    });
    (g, c, set.len())
}

/// Brute force: `None` = already achieved; `Some(None)` = no completion; `Some(Some(set))`.
fn brute_plan(inst: &Instance) -> Option<Option<BTreeSet<String>>> {
    let belongs = belonging(&inst.q);
    let held: BTreeSet<String> = inst
        .start
        .iter()
        .filter(|k| belongs.contains(*k))
        .cloned()
        .collect();
    let wants: BTreeSet<String> = inst
        .wants
        .iter()
        .filter(|k| belongs.contains(*k) && !held.contains(*k))
        .cloned()
        .collect();
    let refuses: BTreeSet<String> = inst
        .refuses
        .iter()
        .filter(|k| belongs.contains(*k) && !held.contains(*k))
        .cloned()
        .collect();
    if wants.is_empty() && naive_met(&inst.q, &inst.units, &held) {
        return None;
    }
    let cands: Vec<String> = belongs
        .iter()
        .filter(|k| !held.contains(*k) && !refuses.contains(*k))
        .cloned()
        .collect();
    let mut best: Option<(Cost, BTreeSet<String>)> = None;
    for mask in 0u32..(1 << cands.len()) {
        let t: BTreeSet<String> = cands
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, k)| k.clone())
            .collect();
        if !wants.is_subset(&t) {
            continue;
        }
        let all: BTreeSet<String> = held.union(&t).cloned().collect();
        if !naive_met(&inst.q, &inst.units, &all) {
            continue;
        }
        let c = cost_of(&inst.units, &t);
        let better = match &best {
            None => true,
            Some((bc, bs)) => c < *bc || (c == *bc && earlier_key_first(&t, bs)),
        };
        if better {
            best = Some((c, t));
        }
    }
    Some(best.map(|(_, s)| s))
}

fn brute_claim(inst: &Instance) -> Option<BTreeSet<String>> {
    let belongs = belonging(&inst.q);
    let held: Vec<String> = inst
        .start
        .iter()
        .filter(|k| belongs.contains(*k))
        .cloned()
        .collect();
    let mut best: Option<(u32, BTreeSet<String>)> = None;
    for mask in 0u32..(1 << held.len()) {
        let t: BTreeSet<String> = held
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, k)| k.clone())
            .collect();
        if !naive_met(&inst.q, &inst.units, &t) {
            continue;
        }
        let c = cost_of(&inst.units, &t).1;
        let better = match &best {
            None => true,
            Some((bc, bs)) => c > *bc || (c == *bc && earlier_key_first(&t, bs)),
        };
        if better {
            best = Some((c, t));
        }
    }
    best.map(|(_, s)| s)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// On random small pools the planner's optimum equals brute force over all subsets (the
    /// same set, ties included), "no completion" included, and every plan meets the rules.
    #[test]
    fn planner_equals_brute_force(seed in any::<u64>()) {
        let inst = random_instance(seed);
        let c = compile(&inst.q, &inst.units);
        let p = c.plan_request(&PlanRequest {
            achieved: inst.start.clone(),
            wants: inst.wants.clone(),
            refuses: inst.refuses.clone(),
        });
        let got: BTreeSet<String> = p.units.iter().map(|u| u.key.clone()).collect();
        match brute_plan(&inst) {
            None => prop_assert_eq!(p.status, PlanStatus::AlreadyAchieved),
            Some(None) => {
                prop_assert_eq!(p.status, PlanStatus::NoCompletion);
                prop_assert!(!p.why_not.is_empty());
            }
            Some(Some(best)) => {
                prop_assert_eq!(p.status, PlanStatus::Completion);
                prop_assert_eq!(cost_of(&inst.units, &got), cost_of(&inst.units, &best));
                prop_assert_eq!(&got, &best);
                let belongs = belonging(&inst.q);
                let mut all: BTreeSet<String> = inst.start.iter().filter(|k| belongs.contains(*k)).cloned().collect();
                all.extend(got);
                prop_assert!(naive_met(&inst.q, &inst.units, &all));
                for u in &p.units {
                    prop_assert!(!u.reasons.is_empty());
                    prop_assert!(!inst.refuses.contains(&u.key) || inst.start.contains(&u.key));
                }
            }
        }
    }

    /// The fast path and the full evaluation agree with the independent checker.
    #[test]
    fn checks_agree_with_independent_checker(seed in any::<u64>()) {
        let inst = random_instance(seed);
        let c = compile(&inst.q, &inst.units);
        let claim: BTreeSet<String> = inst.start.iter().cloned().collect();
        let e = c.evaluate(&inst.start);
        let expected = naive_met(&inst.q, &inst.units, &claim);
        prop_assert_eq!(e.achieved, expected);
        let set: UnitSet = inst.start.iter().filter_map(|k| c.unit_index(k)).collect();
        prop_assert_eq!(c.achieved(&set), expected);
        prop_assert_eq!(e.achieved, e.unmet.is_empty());
    }

    /// Claimable subsets meet the rules, are drawn from the learner's units, and have the
    /// most credit (brute force, ties included).
    #[test]
    fn claimable_subsets_are_valid_and_best(seed in any::<u64>()) {
        let inst = random_instance(seed);
        let c = compile(&inst.q, &inst.units);
        let cl = c.claimable_with(&inst.start, &|_| true);
        let best = brute_claim(&inst);
        prop_assert_eq!(cl.met, best.is_some());
        if let Some(best) = best {
            let got: BTreeSet<String> = cl.claim_with.iter().cloned().collect();
            prop_assert!(naive_met(&inst.q, &inst.units, &got));
            prop_assert!(got.iter().all(|k| inst.start.contains(k)));
            prop_assert_eq!(got, best);
        } else {
            prop_assert!(!cl.unmet.is_empty());
            prop_assert!(cl.completion.is_some() || !cl.why_not.is_empty());
        }
    }

    /// Plans on the seed Diplomas from random partial starts meet the rules.
    #[test]
    fn seed_plans_meet_the_rules(seed in any::<u64>()) {
        let s = seeds();
        let mut r = XorShift::new(seed);
        for qan in [L3_DIPLOMA, L5_DIPLOMA, L3_CERTIFICATE, L5_CERTIFICATE, L5_ADVANCED_DIPLOMA] {
            let c = s.compiled(qan);
            let (p_start, p_refuse) = (r.below(50), r.below(15));
            let start = r.subset(c.units().len(), p_start);
            let refuses = r.subset(c.units().len(), p_refuse).minus(&start);
            let p = c.plan(&start, &UnitSet::EMPTY, &refuses);
            match p.status {
                PlanStatus::AlreadyAchieved => prop_assert!(c.achieved(&start)),
                PlanStatus::Completion => {
                    let mut all = start;
                    for u in &p.units {
                        let i = c.unit_index(&u.key).expect("planned unit belongs");
                        prop_assert!(!refuses.contains(i));
                        all.insert(i);
                    }
                    prop_assert!(c.achieved(&all));
                }
                PlanStatus::NoCompletion => prop_assert!(!p.why_not.is_empty()),
            }
            let claim = c.claimable_set(&start);
            if claim.met {
                let e = c.evaluate(&claim.claim_with);
                prop_assert!(e.achieved);
            }
        }
    }
}

#[test]
fn claimable_with_every_unit_of_the_catalogue() {
    let s = seeds();
    let every: Vec<String> = s.units.iter().map(|u| u.key.clone()).collect();
    let all = s.cat().claimable(&every).expect("claimable");
    for c in &all {
        assert!(c.met, "{} should be claimable with every unit", c.qan);
        let e = s.cat().evaluate(&c.qan, &c.claim_with).expect("evaluates");
        assert!(e.achieved, "{}: {:?}", c.qan, e.unmet);
    }
    let cert = all
        .iter()
        .find(|c| c.qan == L5_CERTIFICATE)
        .expect("listed");
    assert_eq!(cert.claim_credit, 36);
}
