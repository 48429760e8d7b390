//! The catalogue end to end, on SQLite and PostgreSQL: import, corrections, publication,
//! immutability, versions, search, export round trip, and bad input that changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use credence::app::AppError;
use credence_domain::corrections::{Correction, Corrections};
use credence_domain::import::{Entity, FindingStatus, Target};

async fn shipped_specifications_import_and_publish(url: String) {
    let app = common::app_on(&url).await;
    common::seed(&app).await;
    let versions = app
        .versions(&credence::app::authz::CatalogueScope::operator("test"))
        .await
        .unwrap();
    assert_eq!(versions.len(), 5);
    assert!(
        versions
            .iter()
            .all(|v| v.status == "published" && v.is_current == 1 && v.open_findings == 0)
    );
    let cat = app.catalogue().await.unwrap();
    // Every QAN the seeds name is in the catalogue.
    for qan in [
        "610/3788/6",
        "610/3789/8",
        "610/3790/4",
        "610/3791/6",
        "610/3801/5",
        "603/5902/X",
        "603/5903/1",
        "500/3707/9",
    ] {
        assert!(cat.qualification(qan).is_some(), "{qan} is missing");
    }
    // The shared-unit model: L3B1 belongs to an Award, the Certificate, the Diploma and the
    // Apprenticeship Diploma.
    let (_, l3b1) = cat.unit("L/650/7899").expect("L3B1");
    assert_eq!(l3b1.ao_ref, "L3B1");
    let quals: Vec<&str> = cat
        .qualifications_with_unit("L/650/7899")
        .iter()
        .map(|(_, q)| q.qan.as_str())
        .collect();
    for qan in ["610/3791/6", "610/3788/6", "610/3789/8", "610/3790/4"] {
        assert!(
            quals.contains(&qan),
            "L3B1 should belong to {qan}: {quals:?}"
        );
    }
    // Search over AC text, case-insensitive, every word.
    let hits = app
        .search_criteria("IMPORTANCE effective communication", 50)
        .await
        .unwrap();
    assert!(
        hits.iter().any(|h| h.ao_ref == "L3B1" && h.number == "1.1"),
        "L3B1 1.1 should be found: {hits:?}"
    );
    assert!(
        app.search_criteria("zzzz-not-a-word", 50)
            .await
            .unwrap()
            .is_empty()
    );
    // The OCR unit and the ISMM LOs are searchable too.
    let ocr = app.search_criteria("contact lists", 50).await.unwrap();
    assert!(ocr.iter().any(|h| h.ao_ref == "39"), "{ocr:?}");
    // Importing the same text again creates nothing.
    let again = app
        .import(
            &credence::app::authz::CatalogueScope::operator("test"),
            common::seeds()[0].name,
            common::seeds()[0].text,
            Some(common::seeds()[0].corrections),
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        again.versions[0].unchanged_from,
        Some(
            versions
                .iter()
                .find(|v| v.spec_key == "isp-l3-professional-sales")
                .unwrap()
                .catalogue_version_id
        )
    );
    assert_eq!(
        app.versions(&credence::app::authz::CatalogueScope::operator("test"))
            .await
            .unwrap()
            .len(),
        5
    );
}
both_databases!(
    shipped_specifications,
    shipped_specifications_import_and_publish
);

async fn a_changed_specification_is_a_new_version(url: String) {
    let app = common::app_on(&url).await;
    common::seed(&app).await;
    let ocr = &common::seeds()[4];
    let before = app.catalogue().await.unwrap();
    let (_, old) = before.unit("H/502/8599").unwrap();
    let old_text = old.learning_outcomes[0].criteria[0].text.clone();
    // The AO rewords a criterion.
    let changed =
        String::from_utf8(ocr.text.to_vec())
            .unwrap()
            .replacen("acquiring", "obtaining", 1);
    let out = app
        .import(
            &credence::app::authz::CatalogueScope::operator("test"),
            "ocr-unit-39-v2.txt",
            changed.as_bytes(),
            Some(ocr.corrections),
            false,
        )
        .await
        .unwrap();
    let v2 = &out.versions[0];
    assert_eq!(v2.version_number, 2);
    assert_eq!(v2.status, "draft");
    // A draft is not part of the catalogue yet.
    let (_, still) = app
        .catalogue()
        .await
        .unwrap()
        .unit("H/502/8599")
        .map(|(c, u)| (c.version.version_number, u.clone()))
        .unwrap();
    assert_eq!(still.learning_outcomes[0].criteria[0].text, old_text);
    app.publish(
        &credence::app::authz::CatalogueScope::operator("test"),
        v2.id,
    )
    .await
    .unwrap();
    let after = app.catalogue().await.unwrap();
    let (cs, new) = after.unit("H/502/8599").unwrap();
    assert_eq!(cs.version.version_number, 2);
    assert!(
        new.learning_outcomes[0].criteria[0]
            .text
            .contains("obtaining")
    );
    // The old version is still there, unchanged, and can never change.
    let versions = app
        .versions(&credence::app::authz::CatalogueScope::operator("test"))
        .await
        .unwrap();
    let v1 = versions
        .iter()
        .find(|v| {
            v.spec_key == "ocr-unit-39-generating-qualifying-sales-leads" && v.version_number == 1
        })
        .unwrap();
    assert_eq!(v1.is_current, 0);
    let (_, v1_content) = app.version_content(v1.catalogue_version_id).await.unwrap();
    assert_eq!(
        v1_content.specification.units[0].learning_outcomes[0].criteria[0].text,
        old_text
    );
    let err = app
        .correct(
            &credence::app::authz::CatalogueScope::operator("test"),
            v1.catalogue_version_id,
            &Corrections {
                corrections: vec![Correction {
                    target: Some(Target {
                        entity: Entity::Unit,
                        key: "H/502/8599".into(),
                        field: "title".into(),
                    }),
                    value: Some("Changed".into()),
                    finding: None,
                    accept: false,
                    note: String::new(),
                }],
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    assert!(matches!(
        app.publish(
            &credence::app::authz::CatalogueScope::operator("test"),
            v1.catalogue_version_id
        )
        .await
        .unwrap_err(),
        AppError::Conflict(_)
    ));
}
both_databases!(
    changed_specification,
    a_changed_specification_is_a_new_version
);

async fn open_findings_block_publication_until_resolved(url: String) {
    let app = common::app_on(&url).await;
    // The ISP Level 3 seed without our corrections leaves points open.
    let seed = &common::seeds()[0];
    let out = app
        .import(
            &credence::app::authz::CatalogueScope::operator("test"),
            seed.name,
            seed.text,
            None,
            false,
        )
        .await
        .unwrap();
    let v = &out.versions[0];
    let open: Vec<_> = v
        .report
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Open)
        .cloned()
        .collect();
    assert!(
        !open.is_empty(),
        "the L3 seed has damage a person must decide"
    );
    let err = app
        .publish(
            &credence::app::authz::CatalogueScope::operator("test"),
            v.id,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("open finding"), "{err}");
    // Publishing with --publish is refused too, and says what to do.
    let err = app
        .import(
            &credence::app::authz::CatalogueScope::operator("test"),
            "again.txt",
            &[seed.text, b"\n"].concat(),
            None,
            true,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Resolve them"), "{err}");
    // Our shipped corrections resolve them all.
    let corrections = Corrections::parse(seed.corrections).unwrap();
    let report = app
        .correct(
            &credence::app::authz::CatalogueScope::operator("test"),
            v.id,
            &corrections,
        )
        .await
        .unwrap();
    assert_eq!(
        report.open_count(),
        0,
        "still open: {:?}",
        report.open().collect::<Vec<_>>()
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.status == FindingStatus::Resolved && f.resolution.is_some())
    );
    app.publish(
        &credence::app::authz::CatalogueScope::operator("test"),
        v.id,
    )
    .await
    .unwrap();
}
both_databases!(
    open_findings,
    open_findings_block_publication_until_resolved
);

async fn bad_input_changes_nothing(url: String) {
    let app = common::app_on(&url).await;
    common::seed(&app).await;
    let before = app.export(true).await.unwrap();
    let huge = vec![b'x'; credence_domain::import::MAX_SOURCE_BYTES + 10];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.txt", Vec::new(), "empty"),
        ("blank.txt", b"\n\n   \n".to_vec(), "empty"),
        (
            "photo.png",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec(),
            "not text",
        ),
        ("huge.txt", huge, "limit"),
        (
            "letter.txt",
            b"Dear centre, your invoice is attached.".to_vec(),
            "does not look like a specification",
        ),
        (
            "broken.json",
            br#"{"format": "credence-catalogue", "format_version": 1, "versions": [ {"#.to_vec(),
            "not a Credence catalogue export",
        ),
    ];
    for (name, bytes, expect) in cases {
        let err = app
            .import(
                &credence::app::authz::CatalogueScope::operator("test"),
                name,
                &bytes,
                None,
                false,
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains(expect), "{name}: {err}");
    }
    // A corrections file that does not fit leaves the import undone.
    let seed = &common::seeds()[4];
    let changed = [seed.text, b"\n\n"].concat();
    for bad in [
        &b"{ not json"[..],
        br#"{"corrections":[{"target":{"entity":"unit","key":"H/502/8599","field":"level"},"value":"eleven"}]}"#,
        br#"{"corrections":[{"target":{"entity":"unit","key":"X/000/0000","field":"title"},"value":"x"}]}"#,
        br#"{"corrections":[{"finding":"F999","accept":true}]}"#,
    ] {
        assert!(app.import(&credence::app::authz::CatalogueScope::operator("test"), "ocr.txt", &changed, Some(bad), false).await.is_err());
    }
    // An export whose versions already exist is refused whole.
    let export = credence_domain::export::to_json(&before);
    let err = app
        .import(
            &credence::app::authz::CatalogueScope::operator("test"),
            "export.json",
            export.as_bytes(),
            None,
            false,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err}");
    assert_eq!(
        credence_domain::export::to_json(&app.export(true).await.unwrap()),
        export,
        "nothing changed"
    );
}
both_databases!(bad_input, bad_input_changes_nothing);

async fn export_round_trips_to_the_identical_catalogue(url: String) {
    let app = common::app_on(&url).await;
    common::seed(&app).await;
    // A draft travels too.
    let seed = &common::seeds()[0];
    app.import(
        &credence::app::authz::CatalogueScope::operator("test"),
        "draft.txt",
        &[seed.text, b"\n"].concat(),
        None,
        false,
    )
    .await
    .unwrap();
    let first = credence_domain::export::to_json(&app.export(true).await.unwrap());
    // Into an empty Credence (on SQLite, whatever the source: the format is the contract).
    let other = common::app_on(&common::sqlite_url()).await;
    let out = other
        .import(
            &credence::app::authz::CatalogueScope::operator("test"),
            "catalogue.json",
            first.as_bytes(),
            None,
            false,
        )
        .await
        .unwrap();
    assert_eq!(out.versions.len(), 6);
    let second = credence_domain::export::to_json(&other.export(true).await.unwrap());
    assert_eq!(first, second);
    // And the catalogue reads the same.
    let a = app.catalogue().await.unwrap();
    let b = other.catalogue().await.unwrap();
    assert_eq!(a.specs.len(), b.specs.len());
    for (x, y) in a.specs.iter().zip(&b.specs) {
        assert_eq!(*x.spec, *y.spec);
    }
}
both_databases!(
    export_round_trip,
    export_round_trips_to_the_identical_catalogue
);

/// An array of CASE packages (what `catalogue export --format case` writes) is read and
/// checked whole before anything is stored: one bad package and nothing is imported; good
/// ones become drafts of the same specifications, equal to the published versions.
async fn case_packages_import_whole_or_not_at_all(url: String) {
    let app = common::app_on(&url).await;
    common::seed(&app).await;
    let operator = credence::app::authz::CatalogueScope::operator("test");
    let before = app.export(true).await.unwrap();
    let packages: Vec<serde_json::Value> = app
        .case_packages()
        .await
        .unwrap()
        .iter()
        .map(|p| serde_json::to_value(p).unwrap())
        .collect();
    assert_eq!(packages.len(), 5);

    let mut broken = packages.clone();
    broken[3]["CFItems"][0]
        .as_object_mut()
        .unwrap()
        .remove("identifier");
    let err = app
        .import(
            &operator,
            "case.json",
            serde_json::to_string(&broken).unwrap().as_bytes(),
            None,
            false,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Validation(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("package 4 of 5: the CASE 1.1 package could not be read"),
        "{message}"
    );
    assert!(message.contains("nothing was imported"), "{message}");
    assert_eq!(app.export(true).await.unwrap(), before, "nothing changed");

    let outcome = app
        .import(
            &operator,
            "case.json",
            serde_json::to_string(&packages).unwrap().as_bytes(),
            None,
            false,
        )
        .await
        .unwrap();
    assert_eq!(outcome.versions.len(), 5);
    let catalogue = app.catalogue().await.unwrap();
    for v in &outcome.versions {
        assert_eq!(v.status, "draft");
        assert_eq!(v.version_number, 2);
        assert_eq!(v.report.open_count(), 0);
        let (_, draft) = app.version_content(v.id).await.unwrap();
        let published = catalogue
            .specs
            .iter()
            .find(|cs| cs.spec.key == v.spec_key)
            .unwrap();
        assert_eq!(&draft.specification, published.spec.as_ref());
    }
}
both_databases!(case_packages, case_packages_import_whole_or_not_at_all);
