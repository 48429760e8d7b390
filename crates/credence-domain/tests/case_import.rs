//! CASE 1.1 import: each shipped seed, imported, exported as a CASE package and imported
//! back, is the same specification; without Credence's extensions (as another system would
//! keep the package) exactly the fields CASE has no place for are lost, each one an open
//! finding; a foreign (OpenSALT-like) package imports with open findings naming what could
//! not be mapped; bad packages are refused with a reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use credence_domain::diff::diff;
use credence_domain::export::case_package;
use credence_domain::import::{
    Entity, FindingKind, FindingStatus, ImportError, Imported, Layout, import,
};
use credence_domain::model::Specification;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert_eq!(out.len(), 5, "the five shipped seeds");
    out
}

fn to_case(spec: &Specification) -> Value {
    serde_json::to_value(case_package(
        spec,
        3,
        "https://credence.example.org",
        "2026-11-30 08:00:00",
    ))
    .unwrap()
}

fn import_json(v: &Value) -> Result<Imported, ImportError> {
    import(serde_json::to_string_pretty(v).unwrap().as_bytes())
}

#[test]
fn each_seed_round_trips_through_case_to_the_same_specification() {
    for (name, bytes) in seeds() {
        let original = import(&bytes).unwrap().specification;
        let back = import_json(&to_case(&original)).unwrap();
        assert_eq!(back.report.layout, Layout::CasePackage, "{name}");
        let changes = diff(&original, &back.specification);
        assert!(changes.is_empty(), "{name}: {changes:#?}");
        // Everything, not only what the diff compares: keys, AO, change log, groups,
        // rules, grading, KSB mappings, indicative content, assessor guidance...
        assert_eq!(back.specification, original, "{name}");
        assert_eq!(
            back.report.open_count(),
            0,
            "{name}: Credence's own package leaves nothing open: {:#?}",
            back.report.findings
        );
    }
}

/// Every object in the package without its `extensions`, as a system that keeps only
/// CASE's own fields would hand it back.
fn strip_extensions(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("extensions");
            m.values_mut().for_each(strip_extensions);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_extensions),
        _ => {}
    }
}

/// The names of the fields (as in the export format: `unit.credit`,
/// `qualification.rules`...) whose values differ between two specifications, matching
/// qualifications by QAN and units by key.
fn differing_fields(a: &Specification, b: &Specification) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let (va, vb) = (
        serde_json::to_value(a).unwrap(),
        serde_json::to_value(b).unwrap(),
    );
    let fields = |prefix: &str, x: &Value, y: &Value, out: &mut BTreeSet<String>| {
        for (k, v) in x.as_object().unwrap() {
            if y.get(k) != Some(v) {
                out.insert(format!("{prefix}.{k}"));
            }
        }
    };
    let mut top = va.clone();
    let mut top_b = vb.clone();
    for t in [&mut top, &mut top_b] {
        let m = t.as_object_mut().unwrap();
        m.remove("qualifications");
        m.remove("units");
    }
    fields("specification", &top, &top_b, &mut out);
    for q in &a.qualifications {
        let other = b
            .qualification(&q.qan)
            .expect("every qualification comes back");
        fields(
            "qualification",
            &serde_json::to_value(q).unwrap(),
            &serde_json::to_value(other).unwrap(),
            &mut out,
        );
    }
    for u in &a.units {
        let other = b.unit(&u.key).expect("every unit comes back under its key");
        let (mut x, mut y) = (
            serde_json::to_value(u).unwrap(),
            serde_json::to_value(other).unwrap(),
        );
        // Outcomes by field too.
        let (xl, yl) = (
            x.as_object_mut()
                .unwrap()
                .remove("learning_outcomes")
                .unwrap(),
            y.as_object_mut()
                .unwrap()
                .remove("learning_outcomes")
                .unwrap(),
        );
        fields("unit", &x, &y, &mut out);
        let (xl, yl) = (xl.as_array().unwrap(), yl.as_array().unwrap());
        assert_eq!(
            xl.len(),
            yl.len(),
            "unit {}: every outcome comes back",
            u.key
        );
        for (lx, ly) in xl.iter().zip(yl) {
            fields("learning_outcome", lx, ly, &mut out);
        }
    }
    out
}

/// What CASE 1.1 itself has no field for, per the shipped seeds (docs/catalogue-format.md,
/// "What CASE carries"): without Credence's extension these are lost. Everything else
/// (titles, QANs, levels, unit references, outcomes, criteria and their numbers, the
/// sector, the awarding organisation, read from the publisher's name) CASE carries by
/// itself. `qualification.units` is lost only in its groups (which units are listed comes
/// back); `unit.ksb` only where two units word one KSB differently.
const LOST_WITHOUT_EXTENSIONS: &[&str] = &[
    "learning_outcome.assessor_guidance",
    "learning_outcome.indicative_content",
    "qualification.assessment",
    "qualification.credit",
    "qualification.entry_requirements",
    "qualification.glh",
    "qualification.grading",
    "qualification.minimum_age",
    "qualification.rules",
    "qualification.rules_text",
    "qualification.tqt",
    "qualification.units",
    "specification.change_log",
    "specification.document_version",
    "specification.key",
    "specification.published_on",
    "unit.apprenticeship_text",
    "unit.assessment_components",
    "unit.assessment_guidance",
    "unit.assessment_method",
    "unit.centre_authentication",
    "unit.credit",
    "unit.evidence_occasions",
    "unit.glh",
    // One KSB item serves every unit mapping to it: a unit that words it differently
    // (001, Y/651/5983 K7) gets the item's wording.
    "unit.ksb",
    "unit.nos",
    "unit.other_refs",
    "unit.purpose",
    "unit.sector",
    "unit.simulation",
    "unit.tqt",
];

#[test]
fn without_credences_extensions_exactly_the_fields_case_cannot_carry_are_lost_and_open() {
    let mut lost = BTreeSet::new();
    for (name, bytes) in seeds() {
        let original = import(&bytes).unwrap().specification;
        let mut package = to_case(&original);
        strip_extensions(&mut package);
        assert!(!package.to_string().contains("\"extensions\""));
        let back = import_json(&package).unwrap();
        let spec = &back.specification;
        lost.extend(differing_fields(&original, spec));
        // Each unit's missing credit and each qualification's missing credit and rules are
        // open findings a person resolves; so is the guessed awarding organisation.
        for u in &spec.units {
            assert!(
                back.report
                    .open()
                    .any(|f| f.target.as_ref().is_some_and(|t| {
                        t.entity == Entity::Unit && t.key == u.key && t.field == "credit"
                    })),
                "{name}: unit {} credit",
                u.key
            );
        }
        for q in &spec.qualifications {
            for field in ["credit", "rules"] {
                assert!(
                    back.report
                        .open()
                        .any(|f| f.target.as_ref().is_some_and(|t| {
                            t.entity == Entity::Qualification && t.key == q.qan && t.field == field
                        })),
                    "{name}: qualification {} {field}",
                    q.qan
                );
            }
        }
        // Which units each qualification lists, in order, comes back (not their groups).
        for q in &original.qualifications {
            let listed = |q: &credence_domain::model::Qualification| -> Vec<String> {
                q.units.iter().map(|m| m.unit.clone()).collect()
            };
            assert_eq!(
                listed(spec.qualification(&q.qan).unwrap()),
                listed(q),
                "{name}"
            );
        }
        assert_eq!(
            spec.awarding_organisation.code, original.awarding_organisation.code,
            "{name}: the AO's code comes from the publisher's name"
        );
    }
    let expected: BTreeSet<String> = LOST_WITHOUT_EXTENSIONS
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(lost, expected);
}

/// A small framework as OpenSALT publishes one: its own item types, no QAN, no credit, one
/// association to an item of another framework.
fn foreign_package() -> Value {
    let link = |id: &str, title: &str| json!({"title": title, "identifier": id, "uri": format!("https://opensalt.example/uri/{id}")});
    let item = |id: &str, code: &str, kind: &str, statement: &str| {
        json!({
            "identifier": id,
            "uri": format!("https://opensalt.example/uri/{id}"),
            "humanCodingScheme": code,
            "fullStatement": statement,
            "CFItemType": kind,
            "educationLevel": ["3"],
            "lastChangeDateTime": "2026-10-01T09:00:00+00:00"
        })
    };
    let child = |id: &str, origin: (&str, &str), dest: (&str, &str), seq: u32| {
        json!({
            "identifier": id,
            "uri": format!("https://opensalt.example/uri/{id}"),
            "associationType": "isChildOf",
            "sequenceNumber": seq,
            "originNodeURI": link(origin.0, origin.1),
            "destinationNodeURI": link(dest.0, dest.1),
            "lastChangeDateTime": "2026-10-01T09:00:00+00:00"
        })
    };
    let doc = (
        "d0c00000-0000-4000-8000-000000000001",
        "Retail Sales Framework",
    );
    let qual = (
        "a0000000-0000-4000-8000-000000000001",
        "Certificate in Retail Sales",
    );
    let unit = (
        "a0000000-0000-4000-8000-000000000002",
        "Prospecting for new customers",
    );
    let lo = (
        "a0000000-0000-4000-8000-000000000003",
        "Understand how to find prospects",
    );
    let ac1 = (
        "a0000000-0000-4000-8000-000000000004",
        "Describe sources of sales leads",
    );
    let ac2 = (
        "a0000000-0000-4000-8000-000000000005",
        "Explain how to qualify a lead",
    );
    let competency = ("a0000000-0000-4000-8000-000000000006", "Uses a CRM system");
    let standard = ("a0000000-0000-4000-8000-000000000007", "Digital selling");
    json!({
        "CFDocument": {
            "identifier": doc.0,
            "uri": format!("https://opensalt.example/uri/{}", doc.0),
            "creator": "Retail Skills Council",
            "publisher": "Retail Skills Council",
            "title": doc.1,
            "lastChangeDateTime": "2026-10-01T09:00:00+00:00",
            "subject": ["15.4 Marketing and Sales"],
            "version": "2.0",
            "adoptionStatus": "Draft",
            "language": "en"
        },
        "CFItems": [
            item(qual.0, "RSC-CERT", "Qualification", qual.1),
            item(unit.0, "RS1", "Unit", unit.1),
            item(lo.0, "RS1 LO1", "Learning Outcome", lo.1),
            item(ac1.0, "RS1 AC1.1", "Assessment Criterion", ac1.1),
            item(ac2.0, "RS1 AC1.2", "Assessment Criterion", ac2.1),
            item(standard.0, "DS", "Standard", standard.1),
            item(competency.0, "DS.1", "Competency", competency.1),
        ],
        "CFAssociations": [
            child("b0000000-0000-4000-8000-000000000001", qual, doc, 1),
            child("b0000000-0000-4000-8000-000000000002", unit, qual, 1),
            child("b0000000-0000-4000-8000-000000000003", lo, unit, 1),
            child("b0000000-0000-4000-8000-000000000005", ac2, lo, 2),
            child("b0000000-0000-4000-8000-000000000004", ac1, lo, 1),
            child("b0000000-0000-4000-8000-000000000006", standard, doc, 2),
            child("b0000000-0000-4000-8000-000000000007", competency, standard, 1),
            {
                "identifier": "b0000000-0000-4000-8000-000000000008",
                "uri": "https://opensalt.example/uri/b0000000-0000-4000-8000-000000000008",
                "associationType": "isChildOf",
                "originNodeURI": link(ac2.0, ac2.1),
                "destinationNodeURI": link("e0000000-0000-4000-8000-00000000dead", "Handling objections"),
                "lastChangeDateTime": "2026-10-01T09:00:00+00:00"
            }
        ]
    })
}

#[test]
fn a_foreign_package_imports_with_open_findings_naming_what_could_not_be_mapped() {
    let imported = import_json(&foreign_package()).unwrap();
    assert_eq!(imported.report.layout, Layout::CasePackage);
    let spec = &imported.specification;
    assert_eq!(spec.title, "Retail Sales Framework");
    assert_eq!(spec.key, "case-d0c00000-0000-4000-8000-000000000001");
    assert_eq!(spec.awarding_organisation.code, "RSC");
    assert_eq!(spec.sector.as_deref(), Some("15.4 Marketing and Sales"));
    assert_eq!(spec.document_version.as_deref(), Some("2.0"));

    // What could be mapped is there, in sequence order.
    assert_eq!(spec.units.len(), 1);
    let u = &spec.units[0];
    assert_eq!(u.key, "RSC:RS1");
    assert_eq!(u.ao_ref, "RS1");
    assert_eq!(u.title, "Prospecting for new customers");
    assert_eq!(u.level, 3);
    assert_eq!(u.credit, None);
    assert_eq!(u.learning_outcomes.len(), 1);
    let lo = &u.learning_outcomes[0];
    assert_eq!(lo.number, "1");
    let criteria: Vec<(&str, &str)> = lo
        .criteria
        .iter()
        .map(|c| (c.number.as_str(), c.text.as_str()))
        .collect();
    assert_eq!(
        criteria,
        vec![
            ("1.1", "Describe sources of sales leads"),
            ("1.2", "Explain how to qualify a lead")
        ]
    );
    assert_eq!(spec.qualifications.len(), 1);
    let q = &spec.qualifications[0];
    assert_eq!(q.qan, "RSC-CERT");
    assert_eq!(q.level, 3);
    assert_eq!(q.units.len(), 1);
    assert_eq!(q.units[0].unit, "RSC:RS1");

    // Every open finding, each naming its item.
    let open: Vec<_> = imported.report.open().collect();
    let find = |needle: &str| {
        open.iter()
            .find(|f| f.message.contains(needle))
            .unwrap_or_else(|| panic!("no open finding with '{needle}': {open:#?}"))
    };
    let no_qan = find("has no QAN");
    assert_eq!(no_qan.kind, FindingKind::InvalidIdentifier);
    assert!(no_qan.message.contains(
        "RSC-CERT \"Certificate in Retail Sales\" (identifier a0000000-0000-4000-8000-000000000001)"
    ));
    assert_eq!(no_qan.target.as_ref().unwrap().field, "qan");
    let no_credit = find("Unit RS1 \"Prospecting for new customers\"");
    assert!(no_credit.message.contains("no credit value"));
    assert_eq!(no_credit.target.as_ref().unwrap().key, "RSC:RS1");
    find(
        "Qualification RSC-CERT \"Certificate in Retail Sales\" (identifier a0000000-0000-4000-8000-000000000001) has no credit value",
    );
    find("has no rules of combination");
    let competency = find(
        "DS.1 \"Uses a CRM system\" (identifier a0000000-0000-4000-8000-000000000006) is of type 'Competency'",
    );
    assert!(competency.message.contains("not imported"));
    find(
        "DS \"Digital selling\" (identifier a0000000-0000-4000-8000-000000000007) is of type 'Standard'",
    );
    let dangling = find(
        "\"Handling objections\" (identifier e0000000-0000-4000-8000-00000000dead), which is not in this package",
    );
    assert!(dangling.line > 1, "points at the association's line");
    find("Retail Skills Council");
    assert_eq!(open.len(), 8, "{open:#?}");
    assert!(
        open.iter()
            .all(|f| f.status == FindingStatus::Open && !f.id.is_empty())
    );
}

#[test]
fn bad_packages_are_refused_with_a_reason() {
    // Broken JSON: where it breaks.
    let err =
        import(br#"{"CFDocument": {"identifier": "x", "title": "T"}, "CFItems": [ {"#).unwrap_err();
    assert!(
        matches!(
            &err,
            ImportError::Malformed {
                layout: "CASE 1.1 package",
                ..
            }
        ),
        "{err}"
    );
    // No document identifier, no title, an item twice, an item without an identifier.
    for (package, reason) in [
        (
            json!({"CFDocument": {"identifier": "", "title": "T"}, "CFItems": []}),
            "no identifier",
        ),
        (
            json!({"CFDocument": {"identifier": "d", "title": " "}, "CFItems": []}),
            "no title",
        ),
        (
            json!({"CFDocument": {"identifier": "d", "title": "T"}, "CFItems": [
                {"identifier": "i", "fullStatement": "a"}, {"identifier": "i", "fullStatement": "b"}]}),
            "appears twice",
        ),
        (
            json!({"CFDocument": {"identifier": "d", "title": "T"}, "CFItems": [{"fullStatement": "a"}]}),
            "missing field `identifier`",
        ),
    ] {
        let err = import_json(&package).unwrap_err();
        assert!(err.to_string().contains(reason), "{reason}: {err}");
    }
    // JSON that is neither a package nor a Credence export.
    let err = import(br#"{"framework": "something else"}"#).unwrap_err();
    assert_eq!(err, ImportError::UnknownJson);
    assert!(err.to_string().contains("CASE 1.1 CFPackage"));
}
