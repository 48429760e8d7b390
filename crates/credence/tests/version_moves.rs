//! Who a new version touches (issue 14, item 4), on SQLite and PostgreSQL: the ISP Level 3
//! specification revised in one criterion's words and without another criterion, imported
//! and published as a new version; the demo's learners on the old version by centre with
//! exactly their judged criteria to re-assess; moving one learner and a whole centre; who
//! may; what is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use credence::app::App;
use credence::app::AppError;
use credence::app::authz::CatalogueScope;
use credence::app::version_moves::MoveTarget;
use credence_domain::diff::ReassessReason;
use credence_domain::portfolio::CriterionStatus;
use std::collections::BTreeSet;

const SPEC: &str = "isp-l3-professional-sales";
/// L3C1 "Prospect for New Business" (the Award in Sales Prospecting's one unit): 1.1 gets
/// other words, 1.4 goes.
const UNIT_REF: &str = "L3C1";
const OLD_WORDS: &str = "Describe how to identify potential sales leads";
const NEW_WORDS: &str = "Describe how to find and rank potential sales leads";
const REMOVED_LINE: &str = "\t\t1.4\tExplain how to convert cold prospects to warm prospects\t\n";
const AWARD: &str = "610/3795/3";

struct Fixture {
    app: App,
    north: i64,
    river: i64,
    old: i64,
    new: i64,
    unit: String,
    /// A learner registered at Riverside on the Award, judged on L3C1 1.1 and 2.1.
    rita: i64,
}

/// The L3 seed revised, imported with the shipped corrections and published by the
/// operator: (the version it replaces, the new version).
async fn publish_revision(app: &App) -> (i64, i64) {
    let seed = &common::seeds()[0];
    let text = String::from_utf8(seed.text.to_vec()).unwrap();
    assert_eq!(text.matches(OLD_WORDS).count(), 1);
    assert_eq!(text.matches(REMOVED_LINE).count(), 1);
    let revised = text.replace(OLD_WORDS, NEW_WORDS).replace(REMOVED_LINE, "");
    let op = CatalogueScope::operator("test");
    let old = app
        .versions(&op)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.spec_key == SPEC && v.is_current == 1)
        .unwrap()
        .catalogue_version_id;
    let out = app
        .import(
            &op,
            "revised.txt",
            revised.as_bytes(),
            Some(seed.corrections),
            true,
        )
        .await
        .unwrap();
    let new = out.versions[0].id;
    assert_eq!(out.versions[0].status, "published");
    // The revision changes exactly the two criteria.
    let (_, _, changes) = app.version_diff(&op, old, new).await.unwrap();
    let mut seen: Vec<String> = changes.iter().map(|c| c.sentence()).collect();
    seen.sort();
    assert_eq!(changes.len(), 2, "{seen:#?}");
    assert!(
        seen.iter()
            .any(|s| s.contains("L3C1 AC 1.1") && s.contains(NEW_WORDS))
    );
    assert!(
        seen.iter()
            .any(|s| s.starts_with("Criterion L3C1 AC 1.4 removed"))
    );
    (old, new)
}

async fn fixture(url: &str) -> Fixture {
    let d = common::demo_centres(url).await;
    let app = d.app;
    let cat = app.catalogue().await.unwrap();
    let (cs, q) = cat.qualification(AWARD).unwrap();
    let old_version = cs.version.catalogue_version_id;
    let unit = q.units[0].unit.clone();
    assert_eq!(cs.spec.unit(&unit).unwrap().ao_ref, UNIT_REF);
    // A learner at Riverside on the old version, judged on 1.1 (to re-assess) and 2.1
    // (kept), so that two centres are touched.
    let rita = app
        .store
        .register_learners(
            d.river,
            &[credence::store::NewLearnerRegistration {
                uln: None,
                given_name: "Rita".into(),
                family_name: "Moss".into(),
                date_of_birth: "1993-05-06".into(),
                email: None,
                qan: AWARD.into(),
                catalogue_version_id: old_version,
                units: Vec::new(),
                plan_by: None,
            }],
            |_| {},
        )
        .await
        .unwrap()[0];
    let sam = app
        .store
        .person_by_email("sam.assessor@demo")
        .await
        .unwrap()
        .unwrap()
        .person_id;
    for c in ["1.1", "2.1"] {
        app.store
            .insert_judgement(rita, &unit, c, "met", "", false, sam, d.river)
            .await
            .unwrap();
    }
    let (old, new) = publish_revision(&app).await;
    assert_eq!(old, old_version);
    Fixture {
        app,
        north: d.north,
        river: d.river,
        old,
        new,
        unit,
        rita,
    }
}

/// The judged criteria of a learner, from the store, as (unit, criterion).
async fn judged(app: &App, learner: i64) -> BTreeSet<(String, String)> {
    app.store
        .judgements_of_learner(learner)
        .await
        .unwrap()
        .into_iter()
        .map(|j| (j.unit_key, j.criterion))
        .collect()
}

async fn learner_named(app: &App, given: &str) -> (i64, i64) {
    let r = app
        .store
        .registrations_on_spec(SPEC)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.given_name == given)
        .unwrap();
    (r.learner_id, r.registration_id)
}

async fn an_impact_lists_the_learners_on_the_old_version_with_their_changed_criteria(url: String) {
    let f = fixture(&url).await;
    let app = &f.app;
    let isp = common::actor(app, "ao@isp.demo").await;
    let scope = app.catalogue_scope(&isp).unwrap();
    let impact = app.version_impact(&scope, f.new, None).await.unwrap();
    assert_eq!(impact.specification, SPEC);
    assert_eq!(impact.status, "published");
    // Exactly the current registrations on the old version, each at its centre.
    let want: BTreeSet<(i64, i64)> = app
        .store
        .registrations_on_spec(SPEC)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.catalogue_version_id == f.old && r.status == "registered")
        .map(|r| (r.centre_id, r.registration_id))
        .collect();
    let got: BTreeSet<(i64, i64)> = impact
        .centres
        .iter()
        .flat_map(|c| {
            c.learners
                .iter()
                .map(move |l| (c.centre_id, l.registration_id))
        })
        .collect();
    assert_eq!(got, want);
    let centres: Vec<i64> = impact.centres.iter().map(|c| c.centre_id).collect();
    assert_eq!(centres, vec![f.north, f.river], "Northgate, then Riverside");
    // Each learner's re-assess list is exactly their judged L3C1 1.1 and 1.4.
    let mut with_both = 0;
    for l in impact.centres.iter().flat_map(|c| &c.learners) {
        let mine = judged(app, l.learner_id).await;
        let mut want: Vec<(String, String, ReassessReason)> = Vec::new();
        for (c, why) in [
            ("1.1", ReassessReason::WordsChanged),
            ("1.4", ReassessReason::CriterionRemoved),
        ] {
            if mine.contains(&(f.unit.clone(), c.to_string())) {
                want.push((f.unit.clone(), c.to_string(), why));
            }
        }
        let got: Vec<(String, String, ReassessReason)> = l
            .reassess
            .iter()
            .map(|r| (r.unit.clone(), r.criterion.clone(), r.reason))
            .collect();
        assert_eq!(got, want, "{} {}", l.given_name, l.family_name);
        with_both += usize::from(want.len() == 2);
        // Everything else judged on the Award's unit is kept.
        let kept: BTreeSet<(String, String)> = l
            .unchanged
            .iter()
            .map(|k| (k.unit.clone(), k.criterion.clone()))
            .collect();
        if l.qan == AWARD {
            let rest: BTreeSet<(String, String)> = mine
                .iter()
                .filter(|(u, c)| *u == f.unit && c != "1.1" && c != "1.4")
                .cloned()
                .collect();
            assert_eq!(kept, rest, "{}", l.given_name);
        }
    }
    assert!(
        with_both >= 3,
        "Ben, Chloe and Farah were judged on all of L3C1"
    );
    let rita = impact.centres[1]
        .learners
        .iter()
        .find(|l| l.learner_id == f.rita)
        .unwrap();
    assert_eq!(rita.reassess.len(), 1);
    assert_eq!(rita.unchanged.len(), 1);
    assert_eq!(rita.unchanged[0].criterion, "2.1");
    let priya = impact
        .centres
        .iter()
        .flat_map(|c| &c.learners)
        .find(|l| l.given_name == "Priya")
        .unwrap();
    assert!(priya.reassess.is_empty() && priya.unchanged.is_empty());
    // Limited to one centre.
    let river = app
        .version_impact(&scope, f.new, Some(f.river))
        .await
        .unwrap();
    assert_eq!(river.centres.len(), 1);
    assert_eq!(river.centres[0].learners.len(), 1);
    // Another AO's staff: not found.
    for email in ["ao@ocr.demo", "ao@ismm.demo"] {
        let other = common::actor(app, email).await;
        let err = app
            .version_impact(&app.catalogue_scope(&other).unwrap(), f.new, None)
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::NotFound(_)), "{email}: {err}");
    }
    // Through the API and the pages.
    let router = credence::web::router(app.clone());
    let t_isp = common::token_for(app, "ao@isp.demo").await;
    let t_ocr = common::token_for(app, "ao@ocr.demo").await;
    let uri = format!("/api/v1/catalogue/versions/{}/impact", f.new);
    let ok = common::get(&router, &uri, &t_isp).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let v: serde_json::Value = serde_json::from_str(&ok.body).unwrap();
    assert_eq!(v["centres"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["centres"][1]["learners"][0]["reassess"][0]["reason"],
        "words_changed"
    );
    assert_eq!(common::get(&router, &uri, &t_ocr).await.status, 404);
    let page = common::get(&router, &format!("/catalogue/versions/{}", f.new), &t_isp).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Who this version touches"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!(
        "/catalogue/versions/{}/centres/{}",
        f.new, f.north
    )));
    let centre = common::get(
        &router,
        &format!("/catalogue/versions/{}/centres/{}", f.new, f.north),
        &t_isp,
    )
    .await;
    assert_eq!(centre.status, 200);
    assert!(centre.body.contains("Ben Carter"), "{}", centre.body);
    assert!(centre.body.contains("L3C1 1.1: its words changed"));
    assert!(centre.body.contains("L3C1 1.4: removed from the unit"));
    assert!(centre.body.contains("moves/confirm?centre="));
    assert_eq!(
        common::get(
            &router,
            &format!("/catalogue/versions/{}/centres/{}", f.new, f.north),
            &t_ocr,
        )
        .await
        .status,
        404
    );
}
both_databases!(
    impact,
    an_impact_lists_the_learners_on_the_old_version_with_their_changed_criteria
);

async fn moving_one_learner_keeps_their_record_and_reassesses_only_changed_criteria(url: String) {
    let f = fixture(&url).await;
    let app = &f.app;
    common::enrol_second_factor(app, "ao@isp.demo").await;
    common::enrol_second_factor(app, "ao@ismm.demo").await;
    let isp = common::actor(app, "ao@isp.demo").await;
    let scope = app.catalogue_scope(&isp).unwrap();
    let (ben, ben_reg) = learner_named(app, "Ben").await;
    let evidence_before = app.store.evidence_of_learner(ben).await.unwrap().len();
    let judgements_before = app.store.judgements_of_learner(ben).await.unwrap();
    let mappings_before = app.store.mappings_of_learner(ben).await.unwrap().len();
    let before = app.portfolio(&isp, ben).await.unwrap();
    let unit = before.unit(&f.unit).unwrap();
    assert!(unit.progress.complete && unit.signed_off);
    let total_before = unit.progress.total;

    // A draft cannot be moved to.
    let seed = &common::seeds()[0];
    let op = CatalogueScope::operator("test");
    let draft = app
        .import(
            &op,
            "draft.txt",
            &[seed.text, b"\n"].concat(),
            Some(seed.corrections),
            false,
        )
        .await
        .unwrap()
        .versions[0]
        .id;
    // A draft under review shows who it would touch, but cannot be moved to.
    let preview = app.version_impact(&scope, draft, None).await.unwrap();
    assert_eq!(preview.status, "draft");
    assert!(
        preview
            .centres
            .iter()
            .flat_map(|c| &c.learners)
            .any(|l| l.registration_id == ben_reg && l.reassess.is_empty())
    );
    let err = app
        .move_to_version(&scope, draft, MoveTarget::Registration(ben_reg))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Conflict(ref m) if m.contains("draft") && m.contains("published")),
        "{err}"
    );
    // Another AO's staff: not found, and nothing moved.
    let ismm = common::actor(app, "ao@ismm.demo").await;
    let err = app
        .move_to_version(
            &app.catalogue_scope(&ismm).unwrap(),
            f.new,
            MoveTarget::Registration(ben_reg),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err}");
    // A registration on another specification (Tom, on ISP Level 5).
    let tom = common::learner_of(app, "tom.learner@demo").await;
    let tom_reg = app.store.registrations_of_learner(tom).await.unwrap()[0].registration_id;
    let err = app
        .move_to_version(&scope, f.new, MoveTarget::Registration(tom_reg))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Validation(ref m) if m.contains("its own specification")),
        "{err}"
    );
    assert_eq!(
        app.store
            .registration(ben_reg)
            .await
            .unwrap()
            .unwrap()
            .catalogue_version_id,
        f.old
    );

    // The move.
    let audit_before = app.store.audit_log().await.unwrap().len();
    let moved = app
        .move_to_version(&scope, f.new, MoveTarget::Registration(ben_reg))
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    let reassess: Vec<&str> = moved[0]
        .reassess
        .iter()
        .map(|r| r.criterion.as_str())
        .collect();
    assert_eq!(reassess, vec!["1.1", "1.4"]);
    assert_eq!(moved[0].kept, total_before - 2);
    let reg = app.store.registration(ben_reg).await.unwrap().unwrap();
    assert_eq!(reg.catalogue_version_id, f.new);
    // Evidence, mappings and judgements are all kept.
    assert_eq!(
        app.store.evidence_of_learner(ben).await.unwrap().len(),
        evidence_before
    );
    assert_eq!(
        app.store.mappings_of_learner(ben).await.unwrap().len(),
        mappings_before
    );
    let judgements_after = app.store.judgements_of_learner(ben).await.unwrap();
    assert_eq!(
        judgements_after
            .iter()
            .map(|j| j.judgement_id)
            .collect::<Vec<_>>(),
        judgements_before
            .iter()
            .map(|j| j.judgement_id)
            .collect::<Vec<_>>()
    );
    // One audit entry, with from and to version and the re-assess list.
    let log = app.store.audit_log().await.unwrap();
    assert_eq!(log.len(), audit_before + 1);
    let entry = log.last().unwrap();
    assert_eq!(entry.action, "registration.move_version");
    assert_eq!(entry.learner_id, Some(ben));
    let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap();
    assert_eq!(detail["from_version"], f.old);
    assert_eq!(detail["to_version"], f.new);
    assert_eq!(detail["reassess"][0]["criterion"], "1.1");
    assert_eq!(detail["reassess"][0]["reason"], "words_changed");
    assert_eq!(detail["reassess"][1]["criterion"], "1.4");
    assert!(app.verify_audit(None).await.unwrap().is_ok());
    // The portfolio: 1.1 needs re-assessment, 1.4 is gone, the rest stay met; the unit is
    // reopened so that the assessor can judge 1.1 again.
    let after = app.portfolio(&isp, ben).await.unwrap();
    let unit = after.unit(&f.unit).unwrap();
    let status = |c: &str| {
        unit.progress
            .per_criterion
            .iter()
            .find(|(n, _)| n == c)
            .map(|(_, s)| s.clone())
    };
    assert!(matches!(
        status("1.1"),
        Some(CriterionStatus::NeedsReassessment { .. })
    ));
    assert_eq!(status("1.4"), None);
    assert_eq!(unit.progress.total, total_before - 1);
    assert_eq!(unit.progress.met, total_before - 2);
    for (n, s) in &unit.progress.per_criterion {
        if n != "1.1" {
            assert!(s.is_met(), "{n} stays met: {s:?}");
        }
    }
    assert!(!unit.signed_off && unit.reopened);
    // The portfolio page says so.
    let router = credence::web::router(app.clone());
    let t_isp = common::token_for(app, "ao@isp.demo").await;
    let page = common::get(&router, &format!("/learners/{ben}/portfolio"), &t_isp).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Needs re-assessment"), "{}", page.body);
    // Moving again to the same version is refused.
    let err = app
        .move_to_version(&scope, f.new, MoveTarget::Registration(ben_reg))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Validation(ref m) if m.contains("already on version")),
        "{err}"
    );
    // The API: Chloe moved; another AO's staff get 404; a draft is refused.
    let (_, chloe_reg) = learner_named(app, "Chloe").await;
    let uri = format!("/api/v1/catalogue/versions/{}/moves", f.new);
    let body = format!("{{\"registration\": {chloe_reg}}}");
    let t_ismm = common::token_for(app, "ao@ismm.demo").await;
    let hidden = common::post(&router, &uri, &t_ismm, "application/json", body.clone()).await;
    assert_eq!(hidden.status, 404, "{}", hidden.body);
    let drafted = common::post(
        &router,
        &format!("/api/v1/catalogue/versions/{draft}/moves"),
        &t_isp,
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(drafted.status, 409, "{}", drafted.body);
    let ok = common::post(&router, &uri, &t_isp, "application/json", body).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let v: serde_json::Value = serde_json::from_str(&ok.body).unwrap();
    assert_eq!(v["moved"][0]["registration_id"], chloe_reg);
    assert_eq!(v["moved"][0]["to_version"], f.new);
    let both = common::post(
        &router,
        &uri,
        &t_isp,
        "application/json",
        format!("{{\"registration\": {chloe_reg}, \"centre\": {}}}", f.north),
    )
    .await;
    assert_eq!(both.status, 422, "{}", both.body);
}
both_databases!(
    move_one,
    moving_one_learner_keeps_their_record_and_reassesses_only_changed_criteria
);

async fn moving_a_centre_moves_all_its_registrations_on_the_old_version(url: String) {
    let f = fixture(&url).await;
    let app = &f.app;
    common::enrol_second_factor(app, "ao@isp.demo").await;
    let router = credence::web::router(app.clone());
    let t_isp = common::token_for(app, "ao@isp.demo").await;
    let on_old = |centre: i64| {
        let app = app.clone();
        let old = f.old;
        async move {
            app.store
                .registrations_on_spec(SPEC)
                .await
                .unwrap()
                .into_iter()
                .filter(|r| r.centre_id == centre && r.catalogue_version_id == old)
                .map(|r| r.registration_id)
                .collect::<BTreeSet<i64>>()
        }
    };
    let north_before = on_old(f.north).await;
    assert!(north_before.len() >= 6, "{north_before:?}");
    // The confirmation page names the learners and what each must have re-assessed.
    let confirm = common::get(
        &router,
        &format!(
            "/catalogue/versions/{}/moves/confirm?centre={}",
            f.new, f.north
        ),
        &t_isp,
    )
    .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(
        confirm
            .body
            .contains(&format!("Move {} learners to version", north_before.len()))
    );
    assert!(confirm.body.contains("Ben Carter"));
    assert!(confirm.body.contains("L3C1 1.1: its words changed"));
    assert!(confirm.body.contains("name=\"centre\""));
    // The form posts the move.
    let audit_before = app.store.audit_log().await.unwrap().len();
    let done = common::post(
        &router,
        &format!("/catalogue/versions/{}/moves", f.new),
        &t_isp,
        "application/x-www-form-urlencoded",
        format!("centre={}", f.north),
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.headers["location"],
        format!(
            "/catalogue/versions/{}/centres/{}?moved={}",
            f.new,
            f.north,
            north_before.len()
        )
    );
    assert!(on_old(f.north).await.is_empty());
    for r in &north_before {
        assert_eq!(
            app.store
                .registration(*r)
                .await
                .unwrap()
                .unwrap()
                .catalogue_version_id,
            f.new
        );
    }
    // Riverside's learner stays where she is.
    assert_eq!(on_old(f.river).await.len(), 1);
    let log = app.store.audit_log().await.unwrap();
    let moves: Vec<_> = log[audit_before..]
        .iter()
        .filter(|e| e.action == "registration.move_version")
        .collect();
    assert_eq!(moves.len(), north_before.len());
    assert_eq!(log.len(), audit_before + north_before.len());
    // Now only Riverside is touched; moving Northgate again has nothing to move.
    let isp = common::actor(app, "ao@isp.demo").await;
    let scope = app.catalogue_scope(&isp).unwrap();
    let impact = app.version_impact(&scope, f.new, None).await.unwrap();
    assert_eq!(
        impact
            .centres
            .iter()
            .map(|c| c.centre_id)
            .collect::<Vec<_>>(),
        vec![f.river]
    );
    let err = app
        .move_to_version(&scope, f.new, MoveTarget::Centre(f.north))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Validation(ref m) if m.contains("nothing to move")));
}
both_databases!(
    move_centre,
    moving_a_centre_moves_all_its_registrations_on_the_old_version
);

/// What Credence published under a version a new one supersedes keeps answering under CASE
/// 1.1: its document, its package and its items (the criterion the new version removed
/// included), while `CFDocuments` lists the current versions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_superseded_versions_case_identifiers_keep_answering() {
    let mut app = common::app_on(&common::sqlite_url()).await;
    app.public_url = "https://credence.example.org".into();
    common::seed(&app).await;
    let before = app.case_packages().await.unwrap();
    let old = before
        .iter()
        .find(|p| p.document.title.contains("Level 3"))
        .unwrap()
        .clone();
    publish_revision(&app).await;
    let router = credence::web::router(app.clone());
    let get = |path: String| {
        let router = router.clone();
        async move {
            common::send(
                &router,
                axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    let list = get("/ims/case/v1p1/CFDocuments".into()).await;
    assert!(
        !list.body.contains(&old.document.identifier),
        "the list names the current versions"
    );
    let id = &old.document.identifier;
    for path in [
        format!("/ims/case/v1p1/CFDocuments/{id}"),
        format!("/ims/case/v1p1/CFPackages/{id}"),
    ] {
        let r = get(path.clone()).await;
        assert_eq!(r.status, axum::http::StatusCode::OK, "{path}");
        assert!(r.body.contains(id.as_str()), "{path}");
    }
    // The removed criterion's item, and an association, from the old package.
    let removed = old
        .items
        .iter()
        .find(|i| {
            i.full_statement
                .contains("convert cold prospects to warm prospects")
        })
        .unwrap();
    let r = get(format!("/ims/case/v1p1/CFItems/{}", removed.identifier)).await;
    assert_eq!(r.status, axum::http::StatusCode::OK);
    assert!(r.body.contains(&format!("CFDocuments/{id}")), "{}", r.body);
    let a = &old.associations[0];
    let r = get(format!("/ims/case/v1p1/CFAssociations/{}", a.identifier)).await;
    assert_eq!(r.status, axum::http::StatusCode::OK);
    // An identifier Credence never published is still a 404.
    let r = get("/ims/case/v1p1/CFItems/00000000-0000-0000-0000-000000000000".into()).await;
    assert_eq!(r.status, axum::http::StatusCode::NOT_FOUND);
}
