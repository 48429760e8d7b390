//! The rules fixtures (hand-built from the seed tables, used by the rules tests and the
//! benchmark) must say what the imported seeds say, after the shipped corrections: same
//! units, same credit and GLH, same rules. Otherwise the benchmark measures something else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use credence_domain::corrections::{self, Corrections};
use credence_domain::import::import;
use credence_domain::model::{Qualification, Requirement, Specification};
use credence_domain::rules::fixtures;

fn imported() -> Vec<Specification> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds");
    let mut out = Vec::new();
    for (file, corr) in [
        ("000_8453810380d6f4c5.txt", "000.json"),
        ("001_acc22f54be9d8e07.txt", "001.json"),
        ("002_791451cea073504e.txt", "002.json"),
        ("003_009d2585695dd891.txt", "003.json"),
    ] {
        let mut i = import(&std::fs::read(format!("{dir}/{file}")).unwrap()).unwrap();
        let c = Corrections::parse(&std::fs::read(format!("{dir}/corrections/{corr}")).unwrap())
            .unwrap();
        corrections::apply(&mut i, &c).unwrap();
        out.push(i.specification);
    }
    out
}

fn normalised(rules: &[Requirement]) -> Vec<String> {
    let mut v: Vec<String> = rules
        .iter()
        .map(|r| {
            let mut r = r.clone();
            match &mut r {
                Requirement::Mandatory { units } | Requirement::ChooseUnits { units, .. } => {
                    units.sort()
                }
                Requirement::MinUnitsInGroups { groups, .. }
                | Requirement::MinCreditInGroups { groups, .. } => groups.sort(),
                Requirement::OneOfRoutes { routes } => {
                    routes.iter_mut().for_each(|r| r.sort());
                    routes.sort();
                }
                _ => {}
            }
            serde_json::to_string(&r).unwrap()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_fixture_qualification_matches_its_imported_seed() {
    let specs = imported();
    let fixture_units = fixtures::units();
    let mut compared = 0;
    for fq in fixtures::qualifications() {
        let Some((spec, sq)) = specs
            .iter()
            .find_map(|s| s.qualification(&fq.qan).map(|q| (s, q)))
        else {
            panic!("fixture qualification {} is not in any seed", fq.qan);
        };
        let keys = |q: &Qualification| {
            let mut k: Vec<String> = q.units.iter().map(|u| u.unit.clone()).collect();
            k.sort();
            k
        };
        assert_eq!(keys(&fq), keys(sq), "{}: units", fq.qan);
        assert_eq!(
            normalised(&fq.rules),
            normalised(&sq.rules),
            "{}: rules",
            fq.qan
        );
        for qu in &sq.units {
            let a = spec.unit(&qu.unit).unwrap();
            let b = fixture_units.iter().find(|u| u.key == qu.unit).unwrap();
            assert_eq!(
                (a.credit.unwrap_or(0), a.glh, a.level),
                (b.credit.unwrap_or(0), b.glh, b.level),
                "{}: unit {}",
                fq.qan,
                a.ao_ref
            );
        }
        compared += 1;
    }
    assert!(compared >= 30, "compared {compared}");
}
