//! Layouts are recognised by their structure (unit tables, headings, numbering, `Label:
//! value` lines), not by their titles: each seed retitled as another suite, level, syllabus
//! or unit of its family still imports with the same layout and the same content, and a
//! document of no known family is refused with a message that says what Credence reads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use credence_domain::diff::{ChangeKind, diff};
use credence_domain::import::{
    FindingKind, FindingStatus, ImportError, Layout, detect_layout, import,
};

fn seed(name: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../seeds");
    let path = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(name))
        .unwrap();
    std::fs::read_to_string(path).unwrap()
}

struct Retitle {
    seed: &'static str,
    layout: Layout,
    old: &'static str,
    new: &'static str,
    /// The new specification's key.
    key: &'static str,
    /// Changes of qualifications' and units' titles (and rules) that are the document's title.
    titles_changed: usize,
}

const RETITLED: &[Retitle] = &[
    Retitle {
        seed: "000_",
        layout: Layout::IspLevel3,
        old: "ISP Level 3 Qualifications in Professional Sales",
        new: "ISP Level 4 Qualifications in Professional Selling",
        key: "isp-l4-professional-selling",
        titles_changed: 0,
    },
    Retitle {
        seed: "001_",
        layout: Layout::IspLevel5,
        old: "ISP Level 5 Qualifications in Professional Sales",
        new: "ISP Level 5 Qualifications in Sales Leadership",
        key: "isp-l5-sales-leadership",
        titles_changed: 0,
    },
    Retitle {
        seed: "002_",
        layout: Layout::IspAdvanced,
        old: "ISP Level 5 Certificate & Diploma in Advanced Sales Professionalism",
        new: "ISP Level 5 Certificate & Diploma in Advanced Account Management",
        key: "isp-l5-advanced-account-management",
        // The Certificate's and the Diploma's titles are the document's.
        titles_changed: 2,
    },
    Retitle {
        seed: "003_",
        layout: Layout::IsmmSyllabus,
        old: "Level 6 Executive Award in Strategic Sales and Account Management",
        new: "Level 6 Executive Award in Key Account Leadership",
        key: "ismm-l6-executive-award-key-account-leadership",
        // The Award's title is the syllabus's heading, and its rules quote it.
        titles_changed: 2,
    },
    Retitle {
        seed: "004_",
        layout: Layout::OcrUnit,
        old: "Generating and qualifying sales leads",
        new: "Qualifying sales opportunities",
        key: "ocr-unit-39-qualifying-sales-opportunities",
        // The unit's own title.
        titles_changed: 1,
    },
];

#[test]
fn each_seed_is_recognised_by_its_structure() {
    for r in RETITLED {
        assert_eq!(detect_layout(&seed(r.seed)), Some(r.layout), "{}", r.seed);
    }
}

#[test]
fn a_retitled_specification_of_a_known_family_imports_with_the_same_layout_and_content() {
    for r in RETITLED {
        let original_text = seed(r.seed);
        assert!(original_text.contains(r.old), "{}", r.seed);
        let retitled_text = original_text.replace(r.old, r.new);
        let original = import(original_text.as_bytes()).unwrap();
        let retitled = import(retitled_text.as_bytes())
            .unwrap_or_else(|e| panic!("{} retitled '{}': {e}", r.seed, r.new));
        assert_eq!(retitled.report.layout, r.layout, "{}", r.seed);
        assert_eq!(retitled.specification.key, r.key, "{}", r.seed);
        assert!(
            retitled.specification.title.contains(r.new),
            "{}: {}",
            r.seed,
            retitled.specification.title
        );
        assert_ne!(retitled.specification.key, original.specification.key);
        // The same qualifications, units, outcomes and criteria: only titles that are the
        // document's own title differ (and rules that quote it).
        let changes = diff(&original.specification, &retitled.specification);
        assert!(
            changes.iter().all(|c| c.kind == ChangeKind::Changed
                && matches!(c.field.as_deref(), Some("title" | "rules"))),
            "{}: {changes:#?}",
            r.seed
        );
        assert_eq!(changes.len(), r.titles_changed, "{}: {changes:#?}", r.seed);
        let subject = r.new.rsplit_once(" in ").map_or(r.new, |(_, s)| s);
        for c in &changes {
            assert!(c.new.as_deref().unwrap().contains(subject), "{c:?}");
        }
    }
}

#[test]
fn a_title_that_disagrees_with_the_qualifications_levels_is_an_open_finding() {
    let text = seed("000_").replace(
        "ISP Level 3 Qualifications in Professional Sales",
        "ISP Level 4 Qualifications in Professional Selling",
    );
    let original = import(seed("000_").as_bytes()).unwrap();
    let retitled = import(text.as_bytes()).unwrap();
    let new: Vec<_> = retitled
        .report
        .findings
        .iter()
        .filter(|f| {
            !original
                .report
                .findings
                .iter()
                .any(|o| o.message == f.message)
        })
        .collect();
    assert_eq!(new.len(), 1, "{new:#?}");
    let f = new[0];
    assert_eq!(f.status, FindingStatus::Open);
    assert_eq!(f.kind, FindingKind::Disagreement);
    assert_eq!(f.line, 3);
    assert!(f.message.contains("Level 4") && f.message.contains("Level 3"));
    // Every qualification keeps the level its table gives.
    for q in &retitled.specification.qualifications {
        assert_eq!(q.level, 3, "{}", q.qan);
    }
}

#[test]
fn a_title_alone_is_not_a_layout() {
    // The old detector took these titles for the documents; with no unit tables, outcomes
    // or criteria there is nothing to read.
    for title in [
        "ISP Level 3 Qualifications in Professional Sales\n\nContents\n\nIntroduction\n",
        "ISMM Level 6 Executive Award in Strategic Sales and Account Management\nSyllabus\n",
        "OCR unit number: 39\n",
    ] {
        assert_eq!(detect_layout(title), None, "{title}");
        assert_eq!(
            import(title.as_bytes()).unwrap_err(),
            ImportError::UnknownLayout
        );
    }
}

#[test]
fn an_unknown_document_is_refused_naming_what_credence_reads() {
    let text =
        "Minutes of the sales team meeting\n\n1. Apologies\n2. Targets for Q3\n\tAction\tOwner\n";
    let err = import(text.as_bytes()).unwrap_err();
    assert_eq!(err, ImportError::UnknownLayout);
    let message = err.to_string();
    for family in [
        "ISP qualification specifications",
        "Advanced Sales Professionalism",
        "ISMM syllabuses",
        "OCR unit specifications",
        "CASE 1.1 CFPackage",
        "Credence catalogue export (JSON)",
    ] {
        assert!(message.contains(family), "{family} not in: {message}");
    }
}
