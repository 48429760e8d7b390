//! The portfolio of evidence (issue 6): evidence, the simulation rule, criterion status
//! (with OCR's occasions), progress, the evidence-set hash, sign-off and locking, and marks.

use chrono::NaiveDate;
use credence_domain::import::import;
use credence_domain::model::{
    AssessmentComponent, AssessmentCriterion, Grading, LearningOutcome, Simulation, Unit,
};
use credence_domain::portfolio::evidence::{EvidenceItem, EvidenceKind, EvidenceSource};
use credence_domain::portfolio::judgement::{
    CriterionStatus, Judgement, JudgementRefusal, Mapping, Outcome, SimulationRefusal,
    check_criterion, check_simulation, criterion_status,
};
use credence_domain::portfolio::marks::{
    ConsiderationKind, Grade, MarkError, SpecialConsideration, grade,
};
use credence_domain::portfolio::progress::{learner_progress, unit_progress};
use credence_domain::portfolio::signoff::{
    EvidenceChange, LockRefusal, SignOffRefusal, Signature, SignerRole, can_sign,
    evidence_set_hash, is_locked, may_change_evidence, signed_off_hash,
};
use sha2::{Digest, Sha256};

// =============================================================================================
// Fixtures

fn seed(name: &str) -> Vec<u8> {
    let path = format!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds/{}"), name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// OCR unit 39 (H/502/8599): 14 ACs, simulation not permitted, evidence on 2 occasions.
fn ocr_unit() -> Unit {
    let spec = import(&seed("004_eb61b834c3005fa6.txt"))
        .expect("OCR imports")
        .specification;
    let unit = spec.units[0].clone();
    assert_eq!(unit.key, "H/502/8599");
    assert_eq!(unit.evidence_occasions, Some(2));
    assert_eq!(unit.simulation, Simulation::NotPermitted);
    unit
}

fn lo(number: &str, acs: &[&str]) -> LearningOutcome {
    LearningOutcome {
        number: number.into(),
        text: format!("Learning outcome {number}"),
        criteria: acs
            .iter()
            .map(|n| AssessmentCriterion {
                number: (*n).into(),
                text: format!("Criterion {n}"),
            })
            .collect(),
        indicative_content: vec![],
        assessor_guidance: None,
    }
}

/// A hand-built unit: LO 1 with ACs 1.1 and 1.2, LO 2 with AC 2.1.
fn unit(key: &str, ao_ref: &str, simulation: Simulation) -> Unit {
    Unit {
        key: key.into(),
        ofqual_ref: Some(key.into()),
        ao_ref: ao_ref.into(),
        other_refs: vec![],
        title: format!("Unit {ao_ref} title"),
        level: 3,
        credit: Some(3),
        glh: None,
        tqt: None,
        purpose: None,
        sector: None,
        learning_outcomes: vec![lo("1", &["1.1", "1.2"]), lo("2", &["2.1"])],
        assessment_method: None,
        simulation,
        evidence_occasions: None,
        centre_authentication: false,
        assessment_guidance: None,
        ksb: vec![],
        nos: vec![],
        apprenticeship_text: None,
        assessment_components: vec![],
    }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

fn item(id: &str, day: &str) -> EvidenceItem {
    EvidenceItem {
        id: id.into(),
        title: format!("Evidence {id}"),
        date: date(day),
        kind: EvidenceKind::Worksheet,
        source: EvidenceSource::RealWorkplace,
        sha256: hex::encode(Sha256::digest(id.as_bytes())),
        size: 1024,
        media_type: "application/pdf".into(),
        superseded_by: None,
        supersede_reason: None,
    }
}

fn map(evidence: &str, unit: &str, criterion: &str, location: &str) -> Mapping {
    Mapping {
        evidence: evidence.into(),
        unit: unit.into(),
        criterion: criterion.into(),
        location: location.into(),
    }
}

fn judge(unit: &str, criterion: &str, outcome: Outcome, at: &str) -> Judgement {
    Judgement {
        unit: unit.into(),
        criterion: criterion.into(),
        outcome,
        assessor: "assessor-1".into(),
        at: at.into(),
        feedback: match outcome {
            Outcome::Met => "Well evidenced".into(),
            Outcome::NotYetMet => "Show the lead scoring you used".into(),
        },
        rpl: false,
    }
}

// =============================================================================================
// Evidence

#[test]
fn evidence_kinds_have_titles_and_witness_details() {
    let witness = EvidenceKind::WitnessTestimony {
        witness_name: "Sam Lee".into(),
        witness_role: "Sales manager".into(),
    };
    assert_eq!(witness.title(), "Witness testimony");
    assert_eq!(
        witness.describe(),
        "Witness testimony by Sam Lee (Sales manager)"
    );
    assert_eq!(
        EvidenceKind::Questioning.title(),
        "Record of oral or written questioning"
    );
    assert_eq!(
        EvidenceKind::Other("  CRM export ".into()).title(),
        "CRM export"
    );
    assert_eq!(EvidenceKind::Other("   ".into()).title(), "Other");
}

#[test]
fn evidence_item_serialises_its_date_as_iso_and_round_trips() {
    let mut e = item("e1", "2026-02-03");
    e.kind = EvidenceKind::WitnessTestimony {
        witness_name: "Sam Lee".into(),
        witness_role: "Sales manager".into(),
    };
    e.source = EvidenceSource::RealisticWorkingEnvironment;
    let json = serde_json::to_value(&e).expect("serialises");
    assert_eq!(json["date"], "2026-02-03");
    assert_eq!(json["source"], "realistic_working_environment");
    assert_eq!(json["kind"]["witness_testimony"]["witness_name"], "Sam Lee");
    let back: EvidenceItem = serde_json::from_value(json.clone()).expect("deserialises");
    assert_eq!(back, e);

    let mut bad = json;
    bad["date"] = "03/02/2026".into();
    let err = serde_json::from_value::<EvidenceItem>(bad).expect_err("not ISO");
    assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
}

// =============================================================================================
// Simulation

#[test]
fn simulation_not_permitted_refuses_rwe_and_simulation_naming_the_unit() {
    let u = ocr_unit();
    assert_eq!(
        check_simulation(&u, EvidenceSource::RealWorkplace, None),
        Ok(())
    );
    for source in [
        EvidenceSource::RealisticWorkingEnvironment,
        EvidenceSource::Simulation,
    ] {
        // A justification does not open a unit that does not permit simulation.
        let err = check_simulation(&u, source, Some("emergency drill")).expect_err("refused");
        assert!(matches!(err, SimulationRefusal::NotPermitted { .. }));
        let text = err.to_string();
        assert!(
            text.contains("unit 39 'Generating and qualifying sales leads'"),
            "{text}"
        );
        assert!(text.contains("real workplace"), "{text}");
    }
}

#[test]
fn simulation_permitted_only_in_a_realistic_working_environment() {
    let u = unit("L/650/7899", "L3B1", Simulation::Permitted);
    assert_eq!(
        check_simulation(&u, EvidenceSource::RealWorkplace, None),
        Ok(())
    );
    assert_eq!(
        check_simulation(&u, EvidenceSource::RealisticWorkingEnvironment, None),
        Ok(())
    );
    let err = check_simulation(&u, EvidenceSource::Simulation, Some("it was realistic"))
        .expect_err("outside an RWE");
    assert_eq!(
        err,
        SimulationRefusal::OutsideRealisticWorkingEnvironment {
            unit: "unit L3B1 'Unit L3B1 title'".into()
        }
    );
    assert!(err.to_string().contains("realistic working environment"));
}

#[test]
fn simulation_exceptional_only_needs_a_justification_and_an_rwe() {
    let u = unit("ISP:ISP501", "ISP501", Simulation::ExceptionalOnly);
    for justification in [None, Some(""), Some("   ")] {
        let err = check_simulation(
            &u,
            EvidenceSource::RealisticWorkingEnvironment,
            justification,
        )
        .expect_err("no justification");
        assert!(matches!(
            err,
            SimulationRefusal::NeedsExceptionalCircumstances { .. }
        ));
        assert!(err.to_string().contains("unit ISP501"), "{err}");
    }
    assert_eq!(
        check_simulation(
            &u,
            EvidenceSource::RealisticWorkingEnvironment,
            Some("Response to a product recall: does not occur naturally")
        ),
        Ok(())
    );
    assert!(matches!(
        check_simulation(&u, EvidenceSource::Simulation, Some("exceptional")),
        Err(SimulationRefusal::OutsideRealisticWorkingEnvironment { .. })
    ));
    assert_eq!(
        check_simulation(&u, EvidenceSource::RealWorkplace, None),
        Ok(())
    );
}

#[test]
fn judgements_only_against_the_specs_criteria() {
    let u = ocr_unit();
    assert_eq!(check_criterion(&u, "3.4"), Ok(()));
    let err = check_criterion(&u, "4.1").expect_err("no LO 4");
    let JudgementRefusal::NotACriterion { known, .. } = &err;
    assert!(known.starts_with("1.1, 1.2"), "{known}");
    assert!(known.ends_with("3.4"), "{known}");
    // An LO with ACs is not itself judged.
    assert!(check_criterion(&u, "1").is_err());

    // ISMM style: the LO is judged.
    let mut ismm = unit("ISMM:Unit 1", "Unit 1", Simulation::Permitted);
    ismm.learning_outcomes = vec![lo("1.1", &[]), lo("1.2", &[])];
    assert_eq!(check_criterion(&ismm, "1.2"), Ok(()));
}

// =============================================================================================
// Criterion status

#[test]
fn ocr_criterion_is_not_met_before_two_occasions_even_if_judged_met() {
    let u = ocr_unit();
    let k = u.key.clone();
    let mut evidence = vec![item("e1", "2026-01-10"), item("e2", "2026-01-10")];
    let mut mappings = vec![map("e1", &k, "3.1", "p.2"), map("e2", &k, "3.1", "p.1")];
    let judgements = vec![judge(&k, "3.1", Outcome::Met, "2026-01-11T09:00:00Z")];

    // Two items, but the same day: one occasion.
    assert_eq!(
        criterion_status(&u, "3.1", &mappings, &judgements, &evidence),
        CriterionStatus::NeedsOccasions { have: 1, need: 2 }
    );
    // Before the judgement the AC shows how many occasions are evidenced.
    assert_eq!(
        criterion_status(&u, "3.1", &mappings, &[], &evidence),
        CriterionStatus::Evidenced {
            items: 2,
            occasions: 1
        }
    );

    // A second occasion makes the judgement count.
    evidence.push(item("e3", "2026-02-14"));
    mappings.push(map("e3", &k, "3.1", "00:04:10"));
    assert_eq!(
        criterion_status(&u, "3.1", &mappings, &judgements, &evidence),
        CriterionStatus::Met {
            by: "assessor-1".into(),
            at: "2026-01-11T09:00:00Z".into(),
            rpl: false
        }
    );

    // Superseded evidence does not count: back to one occasion.
    evidence[2].superseded_by = Some("e4".into());
    evidence[2].supersede_reason = Some("wrong file".into());
    assert_eq!(
        criterion_status(&u, "3.1", &mappings, &judgements, &evidence),
        CriterionStatus::NeedsOccasions { have: 1, need: 2 }
    );
}

#[test]
fn status_counts_only_this_units_criterion_and_known_items() {
    let u = unit("U1", "A1", Simulation::Permitted);
    let evidence = vec![item("e1", "2026-01-10"), item("e2", "2026-01-12")];
    let mappings = vec![
        map("e1", "U1", "1.1", "p.1"),
        map("e1", "U1", "1.1", "p.4"), // the same item twice: one item
        map("e2", "U1", "1.2", "p.1"), // another AC
        map("e2", "U2", "1.1", "p.1"), // another unit
        map("missing", "U1", "1.1", "p.1"),
    ];
    assert_eq!(
        criterion_status(&u, "1.1", &mappings, &[], &evidence),
        CriterionStatus::Evidenced {
            items: 1,
            occasions: 1
        }
    );
    assert_eq!(
        criterion_status(&u, "2.1", &mappings, &[], &evidence),
        CriterionStatus::NoEvidence
    );
    // A judgement of the same AC number in another unit does not count here.
    let other = vec![judge("U2", "1.1", Outcome::Met, "2026-01-13T10:00:00Z")];
    assert!(matches!(
        criterion_status(&u, "1.1", &mappings, &other, &evidence),
        CriterionStatus::Evidenced { .. }
    ));
}

#[test]
fn latest_judgement_wins_by_instant_not_by_order_or_text() {
    let u = unit("U1", "A1", Simulation::Permitted);
    let evidence = vec![item("e1", "2026-01-10")];
    let mappings = vec![map("e1", "U1", "1.1", "p.1")];

    // Met later, listed first: Met.
    let judgements = vec![
        judge("U1", "1.1", Outcome::Met, "2026-03-02T09:00:00Z"),
        judge("U1", "1.1", Outcome::NotYetMet, "2026-03-01T09:00:00Z"),
    ];
    assert!(criterion_status(&u, "1.1", &mappings, &judgements, &evidence).is_met());

    // Not yet met later: its feedback shows.
    let judgements = vec![
        judge("U1", "1.1", Outcome::Met, "2026-03-01T09:00:00Z"),
        judge("U1", "1.1", Outcome::NotYetMet, "2026-03-02T09:00:00Z"),
    ];
    assert_eq!(
        criterion_status(&u, "1.1", &mappings, &judgements, &evidence),
        CriterionStatus::NotYetMet {
            feedback: "Show the lead scoring you used".into()
        }
    );

    // 10:00+02:00 is 08:00Z: earlier than 09:30Z although it sorts later as text.
    let judgements = vec![
        judge("U1", "1.1", Outcome::NotYetMet, "2026-03-01T10:00:00+02:00"),
        judge("U1", "1.1", Outcome::Met, "2026-03-01T09:30:00Z"),
    ];
    assert!(criterion_status(&u, "1.1", &mappings, &judgements, &evidence).is_met());
}

#[test]
fn rpl_is_shown_on_the_criterion() {
    let u = unit("U1", "A1", Simulation::Permitted);
    let mut rpl_record = item("rpl", "2025-06-30");
    rpl_record.kind = EvidenceKind::RplRecord;
    let mappings = vec![map("rpl", "U1", "2.1", "certificate, p.1")];
    let mut j = judge("U1", "2.1", Outcome::Met, "2026-01-05T12:00:00Z");
    j.rpl = true;
    assert_eq!(
        criterion_status(&u, "2.1", &mappings, &[j], &[rpl_record]),
        CriterionStatus::Met {
            by: "assessor-1".into(),
            at: "2026-01-05T12:00:00Z".into(),
            rpl: true
        }
    );
}

#[test]
fn met_needs_current_evidence_even_without_an_occasions_rule() {
    let u = unit("U1", "A1", Simulation::Permitted);
    let mut evidence = vec![item("e1", "2026-01-10")];
    let mappings = vec![map("e1", "U1", "1.1", "p.1")];
    let judgements = vec![judge("U1", "1.1", Outcome::Met, "2026-01-11T09:00:00Z")];
    assert!(criterion_status(&u, "1.1", &mappings, &judgements, &evidence).is_met());
    evidence[0].superseded_by = Some("e9".into());
    assert_eq!(
        criterion_status(&u, "1.1", &mappings, &judgements, &evidence),
        CriterionStatus::NeedsOccasions { have: 0, need: 1 }
    );
}

// =============================================================================================
// Progress

#[test]
fn unit_progress_counts_met_of_total_in_spec_order() {
    let u = unit("U1", "A1", Simulation::Permitted);
    let evidence = vec![item("e1", "2026-01-10"), item("e2", "2026-01-11")];
    let mappings = vec![
        map("e1", "U1", "1.1", "p.1"),
        map("e1", "U1", "1.2", "p.2"),
        map("e2", "U1", "2.1", "p.1"),
    ];
    let mut judgements = vec![
        judge("U1", "1.1", Outcome::Met, "2026-01-12T09:00:00Z"),
        judge("U1", "1.2", Outcome::NotYetMet, "2026-01-12T09:00:00Z"),
    ];
    let p = unit_progress(&u, &mappings, &judgements, &evidence);
    assert_eq!((p.met, p.total, p.complete), (1, 3, false));
    let numbers: Vec<&str> = p.per_criterion.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(numbers, ["1.1", "1.2", "2.1"]);
    assert!(matches!(
        p.per_criterion[1].1,
        CriterionStatus::NotYetMet { .. }
    ));
    assert!(matches!(
        p.per_criterion[2].1,
        CriterionStatus::Evidenced {
            items: 1,
            occasions: 1
        }
    ));
    assert_eq!(p.missing(), ["1.2", "2.1"]);

    judgements.push(judge("U1", "1.2", Outcome::Met, "2026-01-20T09:00:00Z"));
    judgements.push(judge("U1", "2.1", Outcome::Met, "2026-01-20T09:00:00Z"));
    let p = unit_progress(&u, &mappings, &judgements, &evidence);
    assert_eq!((p.met, p.total, p.complete), (3, 3, true));
}

#[test]
fn progress_over_lo_judged_units_and_several_units() {
    let a = unit("U1", "A1", Simulation::Permitted);
    let mut ismm = unit("ISMM:Unit 1", "Unit 1", Simulation::Permitted);
    ismm.learning_outcomes = vec![lo("1.1", &[]), lo("1.2", &[])];
    let ocr = ocr_unit();

    let evidence = vec![item("e1", "2026-01-10"), item("e2", "2026-02-10")];
    let mappings = vec![
        map("e1", "U1", "1.1", "p.1"),
        map("e1", "ISMM:Unit 1", "1.1", "section 2"),
        map("e2", "ISMM:Unit 1", "1.2", "section 3"),
        map("e1", &ocr.key, "1.1", "p.9"),
    ];
    let judgements = vec![
        judge("U1", "1.1", Outcome::Met, "2026-03-01T09:00:00Z"),
        judge("ISMM:Unit 1", "1.1", Outcome::Met, "2026-03-01T09:00:00Z"),
        judge("ISMM:Unit 1", "1.2", Outcome::Met, "2026-03-01T09:00:00Z"),
        // One occasion only: not met.
        judge(&ocr.key, "1.1", Outcome::Met, "2026-03-01T09:00:00Z"),
    ];
    let ismm_p = unit_progress(&ismm, &mappings, &judgements, &evidence);
    assert_eq!((ismm_p.met, ismm_p.total, ismm_p.complete), (2, 2, true));

    let l = learner_progress(&[&a, &ismm, &ocr], &mappings, &judgements, &evidence);
    assert_eq!(l.units.len(), 3);
    assert_eq!(l.total, 3 + 2 + 14);
    assert_eq!(l.met, 1 + 2);
    assert_eq!(l.complete_units, 1);
    assert_eq!(l.units[1].0, "ISMM:Unit 1");
    assert_eq!(l.units[2].1.met, 0);
}

// =============================================================================================
// Evidence-set hash

/// One item of the reference encoding: id, file hash, (criterion, location) pairs.
type RefItem<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// The documented encoding, written out independently: pins the hash format.
fn reference_hash(unit: &str, items: &[RefItem]) -> String {
    fn s(buf: &mut Vec<u8>, b: &[u8]) {
        buf.extend_from_slice(&(b.len() as u64).to_be_bytes());
        buf.extend_from_slice(b);
    }
    let mut buf = Vec::new();
    s(&mut buf, b"credence/portfolio/evidence-set/v1");
    s(&mut buf, unit.as_bytes());
    buf.extend_from_slice(&(items.len() as u64).to_be_bytes());
    for (id, sha, pairs) in items {
        s(&mut buf, id.as_bytes());
        s(&mut buf, sha.as_bytes());
        buf.extend_from_slice(&(pairs.len() as u64).to_be_bytes());
        for (c, l) in *pairs {
            s(&mut buf, c.as_bytes());
            s(&mut buf, l.as_bytes());
        }
    }
    hex::encode(Sha256::digest(&buf))
}

fn hash_fixture() -> (Vec<Mapping>, Vec<EvidenceItem>) {
    let evidence = vec![
        item("e2", "2026-01-11"),
        item("e1", "2026-01-10"),
        item("other", "2026-01-12"),
    ];
    let mappings = vec![
        map("e2", "U1", "2.1", "p.1"),
        map("e1", "U1", "1.2", "p.2"),
        map("e1", "U1", "1.1", "p.1"),
        map("other", "U2", "1.1", "p.1"),
        map("e1", "U2", "3.1", "p.7"),
    ];
    (mappings, evidence)
}

#[test]
fn evidence_set_hash_follows_the_documented_encoding() {
    let (mappings, evidence) = hash_fixture();
    let h = evidence_set_hash("U1", &mappings, &evidence);
    let sha = |id: &str| hex::encode(Sha256::digest(id.as_bytes()));
    let (s1, s2) = (sha("e1"), sha("e2"));
    assert_eq!(
        h,
        reference_hash(
            "U1",
            &[
                ("e1", &s1, &[("1.1", "p.1"), ("1.2", "p.2")]),
                ("e2", &s2, &[("2.1", "p.1")]),
            ]
        )
    );
    assert_eq!(h.len(), 64);
    assert!(
        h.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
}

#[test]
fn evidence_set_hash_is_order_independent() {
    let (mut mappings, mut evidence) = hash_fixture();
    let h = evidence_set_hash("U1", &mappings, &evidence);
    mappings.reverse();
    evidence.reverse();
    assert_eq!(evidence_set_hash("U1", &mappings, &evidence), h);
    mappings.rotate_left(2);
    evidence.rotate_left(1);
    assert_eq!(evidence_set_hash("U1", &mappings, &evidence), h);
    // A mapping recorded twice is one mapping.
    mappings.push(map("e1", "U1", "1.1", "p.1"));
    assert_eq!(evidence_set_hash("U1", &mappings, &evidence), h);
}

#[test]
fn evidence_set_hash_ignores_unrelated_evidence() {
    let (mut mappings, mut evidence) = hash_fixture();
    let h = evidence_set_hash("U1", &mappings, &evidence);

    // Evidence for another unit, a new item mapped nowhere, a new mapping of e1 elsewhere,
    // and a changed file under another unit's item.
    evidence.push(item("e9", "2026-03-01"));
    mappings.push(map("e9", "U2", "1.2", "p.1"));
    evidence.push(item("loose", "2026-03-01"));
    mappings.push(map("e1", "U3", "1.1", "p.3"));
    evidence[2].sha256 = "0".repeat(64);
    assert_eq!(evidence_set_hash("U1", &mappings, &evidence), h);

    // Title, date and kind are not part of the set.
    evidence[1].title = "Renamed".into();
    evidence[1].date = date("2026-05-05");
    evidence[1].kind = EvidenceKind::ReflectiveAccount;
    assert_eq!(evidence_set_hash("U1", &mappings, &evidence), h);

    // Another unit has its own hash.
    assert_ne!(evidence_set_hash("U2", &mappings, &evidence), h);
}

#[test]
fn evidence_set_hash_changes_when_the_units_evidence_changes() {
    let (mappings, evidence) = hash_fixture();
    let h = evidence_set_hash("U1", &mappings, &evidence);

    let mut changed_file = evidence.clone();
    changed_file[1].sha256 = "f".repeat(64);
    assert_ne!(evidence_set_hash("U1", &mappings, &changed_file), h);

    let mut moved = mappings.clone();
    moved[1].location = "p.3".into();
    assert_ne!(evidence_set_hash("U1", &moved, &evidence), h);

    let mut remapped = mappings.clone();
    remapped[0].criterion = "1.1".into();
    assert_ne!(evidence_set_hash("U1", &remapped, &evidence), h);

    let mut added = mappings.clone();
    added.push(map("other", "U1", "2.1", "p.2"));
    assert_ne!(evidence_set_hash("U1", &added, &evidence), h);

    let mut superseded = evidence.clone();
    superseded[0].superseded_by = Some("e2b".into());
    assert_ne!(evidence_set_hash("U1", &mappings, &superseded), h);

    // Length prefixes: moving a boundary between fields changes the hash.
    let one = vec![EvidenceItem {
        id: "ab".into(),
        sha256: "c".into(),
        ..item("x", "2026-01-01")
    }];
    let two = vec![EvidenceItem {
        id: "a".into(),
        sha256: "bc".into(),
        ..item("x", "2026-01-01")
    }];
    assert_ne!(
        evidence_set_hash("U1", &[map("ab", "U1", "1.1", "p")], &one),
        evidence_set_hash("U1", &[map("a", "U1", "1.1", "p")], &two)
    );
}

// =============================================================================================
// Sign-off and locking

fn sign(role: SignerRole, person: &str, hash: &str) -> Signature {
    Signature {
        role,
        person: person.into(),
        at: "2026-04-01T10:00:00Z".into(),
        comments: "All criteria evidenced".into(),
        evidence_hash: hash.into(),
    }
}

#[test]
fn sign_off_order_and_locking() {
    let u = unit("U1", "A1", Simulation::Permitted);
    let mut evidence = vec![item("e1", "2026-01-10")];
    let mut mappings: Vec<Mapping> = ["1.1", "1.2", "2.1"]
        .iter()
        .map(|c| map("e1", "U1", c, "p.1"))
        .collect();
    let mut judgements = vec![
        judge("U1", "1.1", Outcome::Met, "2026-03-01T09:00:00Z"),
        judge("U1", "1.2", Outcome::Met, "2026-03-01T09:00:00Z"),
    ];

    // Not every AC met: nobody signs, and the refusal says what is missing.
    let p = unit_progress(&u, &mappings, &judgements, &evidence);
    let h0 = evidence_set_hash("U1", &mappings, &evidence);
    let err = can_sign(SignerRole::Assessor, &p, &[], &h0).expect_err("incomplete");
    assert_eq!(
        err,
        SignOffRefusal::NotComplete {
            met: 2,
            total: 3,
            missing: vec!["2.1".into()]
        }
    );
    assert!(err.to_string().contains("2 of 3"), "{err}");

    judgements.push(judge("U1", "2.1", Outcome::Met, "2026-03-01T09:00:00Z"));
    let p = unit_progress(&u, &mappings, &judgements, &evidence);
    assert!(p.complete);

    // The learner signs after the assessor.
    assert_eq!(
        can_sign(SignerRole::Learner, &p, &[], &h0),
        Err(SignOffRefusal::AssessorFirst)
    );
    assert_eq!(can_sign(SignerRole::Assessor, &p, &[], &h0), Ok(()));
    let mut sigs = vec![sign(SignerRole::Assessor, "assessor-1", &h0)];
    assert_eq!(
        can_sign(SignerRole::Assessor, &p, &sigs, &h0),
        Err(SignOffRefusal::AlreadySigned {
            role: SignerRole::Assessor
        })
    );
    assert!(!is_locked(&sigs));

    // Evidence changes before the learner signs: the assessor must sign again.
    evidence.push(item("e2", "2026-03-05"));
    mappings.push(map("e2", "U1", "2.1", "p.4"));
    let h1 = evidence_set_hash("U1", &mappings, &evidence);
    assert_ne!(h1, h0);
    assert_eq!(
        can_sign(SignerRole::Learner, &p, &sigs, &h1),
        Err(SignOffRefusal::EvidenceChangedSinceAssessor)
    );
    assert_eq!(can_sign(SignerRole::Assessor, &p, &sigs, &h1), Ok(()));
    sigs.push(sign(SignerRole::Assessor, "assessor-1", &h1));

    // Now the learner signs on the same hash, and the unit locks.
    assert_eq!(can_sign(SignerRole::Learner, &p, &sigs, &h1), Ok(()));
    sigs.push(sign(SignerRole::Learner, "learner-1", &h1));
    assert!(is_locked(&sigs));
    assert_eq!(signed_off_hash(&sigs), Some(h1.as_str()));
    assert_eq!(
        can_sign(SignerRole::Learner, &p, &sigs, &h1),
        Err(SignOffRefusal::AlreadySigned {
            role: SignerRole::Learner
        })
    );

    // Adding evidence afterwards changes the current hash but does not unlock the unit.
    evidence.push(item("e3", "2026-05-01"));
    mappings.push(map("e3", "U1", "1.1", "p.1"));
    assert_ne!(evidence_set_hash("U1", &mappings, &evidence), h1);
    assert!(is_locked(&sigs));
    assert_eq!(signed_off_hash(&sigs), Some(h1.as_str()));
}

#[test]
fn signatures_on_different_hashes_do_not_lock() {
    let sigs = vec![
        sign(SignerRole::Assessor, "assessor-1", "aaaa"),
        sign(SignerRole::Learner, "learner-1", "bbbb"),
    ];
    assert!(!is_locked(&sigs));
    assert!(!is_locked(&[sign(
        SignerRole::Learner,
        "learner-1",
        "aaaa"
    )]));
}

#[test]
fn locked_units_allow_adding_and_reasoned_supersession_only() {
    for change in [
        EvidenceChange::Add,
        EvidenceChange::Replace { reason: "".into() },
        EvidenceChange::Delete,
    ] {
        assert_eq!(may_change_evidence(false, &change), Ok(()), "{change:?}");
    }
    assert_eq!(may_change_evidence(true, &EvidenceChange::Add), Ok(()));
    assert_eq!(
        may_change_evidence(
            true,
            &EvidenceChange::Replace {
                reason: "Clearer scan of the same form".into()
            }
        ),
        Ok(())
    );
    assert_eq!(
        may_change_evidence(
            true,
            &EvidenceChange::Replace {
                reason: "  ".into()
            }
        ),
        Err(LockRefusal::ReasonRequired)
    );
    let err = may_change_evidence(true, &EvidenceChange::Delete).expect_err("locked");
    assert_eq!(err, LockRefusal::DeleteRefused);
    assert!(err.to_string().contains("supersede"), "{err}");
}

// =============================================================================================
// Marks

fn marked(merit: Option<u32>, distinction: Option<u32>) -> Grading {
    Grading::Marked {
        pass_mark: 50,
        merit_mark: merit,
        distinction_mark: distinction,
    }
}

fn components(weights: &[(&str, u32)]) -> Vec<AssessmentComponent> {
    weights
        .iter()
        .map(|(n, w)| AssessmentComponent {
            name: (*n).into(),
            weight_percent: *w,
            words: None,
        })
        .collect()
}

fn marks(m: &[(&str, u32)]) -> Vec<(String, u32)> {
    m.iter().map(|(n, v)| ((*n).to_string(), *v)).collect()
}

#[test]
fn pass_boundary_is_exact_at_fifty() {
    let g = marked(None, None);
    let c = components(&[("report", 90), ("presentation", 10)]);
    // 0.9 x 50 + 0.1 x 49 = 49.9
    let r = grade(
        &g,
        &c,
        &marks(&[("report", 50), ("presentation", 49)]),
        0,
        &[],
    )
    .expect("grades");
    assert_eq!(r.percent, 49.9);
    assert_eq!(r.grade, Grade::Fail);
    let r = grade(
        &g,
        &c,
        &marks(&[("report", 50), ("presentation", 50)]),
        0,
        &[],
    )
    .expect("grades");
    assert_eq!(r.percent, 50.0);
    assert_eq!(r.grade, Grade::Pass);
}

#[test]
fn ismm_unit_1_from_the_seed_has_no_merit_boundaries_so_pass_is_the_best_grade() {
    let spec = import(&seed("003_009d2585695dd891.txt"))
        .expect("ISMM imports")
        .specification;
    let u1 = spec.unit("ISMM:Unit 1").expect("Unit 1");
    let grading = &spec.qualifications[0].grading;
    let r = grade(
        grading,
        &u1.assessment_components,
        &marks(&[("report on a case study", 95), ("presentation", 98)]),
        0,
        &[],
    )
    .expect("grades");
    assert_eq!(r.percent, 96.5);
    assert_eq!(r.grade, Grade::Pass);
    assert!(!r.boundaries_set);
    assert_eq!(r.components[1].name, "presentation");
    assert_eq!(r.components[1].mark, 98);
}

#[test]
fn merit_and_distinction_when_the_ao_sets_them() {
    let g = marked(Some(60), Some(70));
    let c = components(&[("report", 50), ("presentation", 50)]);
    let at = |a: u32, b: u32| {
        grade(
            &g,
            &c,
            &marks(&[("report", a), ("presentation", b)]),
            0,
            &[],
        )
        .expect("grades")
    };
    assert_eq!(at(59, 60).percent, 59.5);
    assert_eq!(at(59, 60).grade, Grade::Pass);
    assert_eq!(at(60, 60).grade, Grade::Merit);
    assert_eq!(at(69, 70).grade, Grade::Merit);
    assert_eq!(at(70, 70).grade, Grade::Distinction);
    assert_eq!(at(100, 100).grade, Grade::Distinction);
    assert_eq!(at(40, 50).grade, Grade::Fail);
    assert!(at(70, 70).boundaries_set);

    // Only merit set: merit is awarded, distinction never.
    let g = marked(Some(60), None);
    let r = grade(
        &g,
        &c,
        &marks(&[("report", 100), ("presentation", 100)]),
        0,
        &[],
    )
    .expect("grades");
    assert_eq!(r.grade, Grade::Merit);
    assert!(!r.boundaries_set);
}

#[test]
fn invalid_mark_inputs_are_refused() {
    let g = marked(None, None);
    let ok = components(&[("report", 50), ("presentation", 50)]);
    let m = marks(&[("report", 60), ("presentation", 60)]);

    assert_eq!(
        grade(&Grading::PassOnly, &ok, &m, 0, &[]),
        Err(MarkError::NotMarked)
    );
    let err = grade(
        &g,
        &components(&[("report", 50), ("presentation", 40)]),
        &m,
        0,
        &[],
    )
    .expect_err("90%");
    assert_eq!(err, MarkError::WeightsNot100 { sum: 90 });
    assert!(err.to_string().contains("90%"), "{err}");
    assert_eq!(
        grade(&g, &ok, &marks(&[("report", 60)]), 0, &[]),
        Err(MarkError::Unmarked {
            components: vec!["presentation".into()]
        })
    );
    assert!(matches!(
        grade(&g, &ok, &marks(&[("report", 60), ("essay", 60)]), 0, &[]),
        Err(MarkError::UnknownComponent { .. })
    ));
    assert_eq!(
        grade(
            &g,
            &ok,
            &marks(&[("report", 60), ("report", 70), ("presentation", 60)]),
            0,
            &[]
        ),
        Err(MarkError::MarkedTwice {
            name: "report".into()
        })
    );
    assert_eq!(
        grade(
            &g,
            &ok,
            &marks(&[("report", 101), ("presentation", 60)]),
            0,
            &[]
        ),
        Err(MarkError::MarkOutOfRange {
            name: "report".into(),
            mark: 101
        })
    );
    assert!(matches!(
        grade(&marked(Some(70), Some(60)), &ok, &m, 0, &[]),
        Err(MarkError::InvalidBoundaries { .. })
    ));
    assert_eq!(
        grade(&g, &ok, &m, 101, &[]),
        Err(MarkError::AdjustmentOutOfRange { adjustment: 101 })
    );
}

#[test]
fn moderator_adjustment_moves_the_grade_and_is_recorded() {
    let g = marked(Some(60), Some(70));
    let c = components(&[("work-based project", 100)]);
    let r = grade(&g, &c, &marks(&[("work-based project", 52)]), -3, &[]).expect("grades");
    assert_eq!((r.percent, r.moderated, r.adjusted), (52.0, 49.0, 49.0));
    assert_eq!(r.grade, Grade::Fail);
    assert_eq!(r.moderator_adjustment, -3);

    let r = grade(&g, &c, &marks(&[("work-based project", 58)]), 2, &[]).expect("grades");
    assert_eq!(r.grade, Grade::Merit);

    // Kept within 0 to 100.
    let r = grade(&g, &c, &marks(&[("work-based project", 98)]), 5, &[]).expect("grades");
    assert_eq!(r.adjusted, 100.0);
    let r = grade(&g, &c, &marks(&[("work-based project", 3)]), -5, &[]).expect("grades");
    assert_eq!(r.adjusted, 0.0);
}

#[test]
fn special_consideration_is_applied_and_recorded() {
    let g = marked(None, None);
    let c = components(&[("work-based project", 100)]);
    let m = marks(&[("work-based project", 48)]);
    let ill = SpecialConsideration {
        kind: ConsiderationKind::SpecialConsideration,
        note: "Illness during the assessment period".into(),
        adjustment_percent: 2,
    };
    let reader = SpecialConsideration {
        kind: ConsiderationKind::ReasonableAdjustment,
        note: "Extra time for the presentation".into(),
        adjustment_percent: 0,
    };
    let r = grade(&g, &c, &m, 0, &[ill.clone(), reader.clone()]).expect("grades");
    assert_eq!((r.moderated, r.adjusted), (48.0, 50.0));
    assert_eq!(r.grade, Grade::Pass);
    assert_eq!(r.considerations, vec![ill.clone(), reader]);

    // After moderation: 48 - 1 + 2 = 49, a fail.
    let r = grade(&g, &c, &m, -1, std::slice::from_ref(&ill)).expect("grades");
    assert_eq!(r.adjusted, 49.0);
    assert_eq!(r.grade, Grade::Fail);

    let too_much = SpecialConsideration {
        adjustment_percent: 6,
        ..ill.clone()
    };
    assert_eq!(
        grade(&g, &c, &m, 0, &[too_much]),
        Err(MarkError::ConsiderationTooLarge { total: 6 })
    );
    let four = SpecialConsideration {
        adjustment_percent: 4,
        ..ill.clone()
    };
    assert_eq!(
        grade(&g, &c, &m, 0, &[four, ill]),
        Err(MarkError::ConsiderationTooLarge { total: 6 })
    );
}
