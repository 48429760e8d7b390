//! Certification (issue 13), on SQLite and PostgreSQL: the demo's certificates in every
//! state; no certificate without a met rules check and a released gate (tests that try);
//! the gate opening issues one; replacement and revocation by AO staff with a second factor;
//! who sees what in the register, and its CSV; unique numbers under concurrent issue from
//! two servers; and, checked by clients that are not Credence, the credential (node `jose`
//! and 1EdTech's OB 3.0 schema), the revocation list and the PDF's QR code (`zbarimg`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use credence::app::people::Actor;
use credence::app::{App, AppError};
use credence::store::{CertificateDraft, CertificateFilter, CertificateRow};
use credence_domain::certificate::CertificateNumber;
use std::collections::BTreeSet;

use common::DemoCentres as Demo;

async fn demo(url: &str) -> Demo {
    common::demo_centres(url).await
}

use common::actor;

async fn all(app: &App) -> Vec<CertificateRow> {
    app.store
        .certificates(&CertificateFilter::default())
        .await
        .unwrap()
}

async fn of_learner(app: &App, email: &str) -> Vec<CertificateRow> {
    let learner = common::learner_of(app, email).await;
    all(app)
        .await
        .into_iter()
        .filter(|c| c.learner_id == learner)
        .collect()
}

async fn demo_has_certificates_in_every_state(url: String) {
    let d = demo(&url).await;
    let farah = of_learner(&d.app, "farah.learner@demo").await;
    assert_eq!(farah.len(), 2, "{farah:?}");
    let original = farah.iter().find(|c| c.replaces.is_none()).unwrap();
    let reissue = farah.iter().find(|c| c.replaces.is_some()).unwrap();
    assert_eq!(original.status, "replaced");
    assert_eq!(
        original.replaced_by.as_deref(),
        Some(reissue.number.as_str())
    );
    assert_eq!(reissue.status, "valid");
    assert_eq!(reissue.learner_name, "Farah Ali");
    assert_eq!(reissue.qan.as_deref(), Some("610/3795/3"));
    assert_eq!(reissue.grade.as_deref(), Some("Pass"));
    let ben = of_learner(&d.app, "ben.learner@demo").await;
    assert_eq!(ben.len(), 1);
    assert_eq!(ben[0].status, "revoked");
    assert_eq!(ben[0].kind, "unit");
    assert!(ben[0].qan.is_none() && ben[0].unit_reference.is_some());
    // The held claims have none.
    assert!(of_learner(&d.app, "chloe.learner@demo").await.is_empty());
    assert!(of_learner(&d.app, "hannah.learner@demo").await.is_empty());

    // Every number reads back, carries a valid check character, and is in sequence.
    let mut seqs = Vec::new();
    for c in all(&d.app).await {
        let n = CertificateNumber::parse(&c.number).unwrap();
        // OCR's unit certificate (Kwame's) is numbered in OCR's own sequence.
        if n.ao_code == "OCR" {
            assert_eq!(n.sequence, 1);
            continue;
        }
        assert_eq!(n.ao_code, "ISP");
        seqs.push(n.sequence);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, vec![1, 2, 3]);

    // Verification answers with the status in words.
    let v = d.app.verify_certificate(&original.number).await.unwrap();
    assert_eq!(v.status, "replaced");
    assert_eq!(v.replaced_by.as_deref(), Some(reissue.number.as_str()));
    let v = d.app.verify_certificate(&ben[0].number).await.unwrap();
    assert_eq!(v.status, "revoked");
    assert_eq!(v.revocation_reason.as_deref(), Some("Claimed in error"));
    assert_eq!(v.reference, ben[0].unit_reference.clone().unwrap());
    // A misread number is refused before any lookup; an unknown one is not found.
    let mut wrong = reissue.number.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    assert!(matches!(
        d.app.verify_certificate(&wrong).await,
        Err(AppError::Validation(m)) if m.contains("check character")
    ));
    let unknown = CertificateNumber::new("ISP", 2026, 999)
        .unwrap()
        .to_string();
    assert!(matches!(
        d.app.verify_certificate(&unknown).await,
        Err(AppError::NotFound(_))
    ));
    // Issues, replacements and revocations are in the audit log, which still verifies.
    let actions: Vec<String> = d
        .app
        .store
        .audit_entries(None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "certificate.issued",
        "certificate.replaced",
        "certificate.revoked",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} missing");
    }
    assert!(d.app.verify_audit(None).await.unwrap().is_ok());
}
both_databases!(demo_certificates, demo_has_certificates_in_every_state);

async fn no_certificate_without_the_rules_and_a_released_gate(url: String) {
    let d = demo(&url).await;
    let admin_n = actor(&d.app, "admin@northgate.demo").await;
    let admin_r = actor(&d.app, "admin@riverside.demo").await;
    let before = all(&d.app).await.len();

    // Rules not met: refused, nothing issued.
    let chloe = common::learner_of(&d.app, "chloe.learner@demo").await;
    let reg = d.app.store.registrations_of_learner(chloe).await.unwrap()[0].clone();
    let claims = d.app.claims(&admin_n, Some(d.north)).await.unwrap();
    let held = claims.iter().find(|c| c.learner == chloe).unwrap();
    assert_eq!(held.status, "held");
    assert!(held.certificate.is_none());
    // Her referred unit (its sign-off reopened), banked: held, no certificate.
    let spec = d
        .app
        .specification_of_version(reg.catalogue_version_id)
        .await
        .unwrap();
    let q = spec.qualification(&reg.qan).unwrap();
    let banked = d
        .app
        .bank_unit(&admin_n, reg.registration_id, &held.units[0], "test")
        .await;
    match banked {
        Ok(c) => {
            assert_eq!(c.status, "held", "{c:?}");
            assert!(c.certificate.is_none());
        }
        Err(e) => assert!(matches!(e, AppError::Validation(_)), "{e:?}"),
    }
    // A unit of another qualification is refused with the reason.
    let other = spec
        .units
        .iter()
        .find(|u| !q.units.iter().any(|qu| qu.unit == u.key))
        .map(|u| u.key.to_string());
    if let Some(other) = other {
        let e = d
            .app
            .bank_unit(&admin_n, reg.registration_id, &other, "test")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("is not a unit of"), "{e}");
    }
    // Only administrators claim: an assessor is refused.
    let sam = actor(&d.app, "sam.assessor@demo").await;
    assert!(
        d.app
            .bank_unit(&sam, reg.registration_id, &held.units[0], "test")
            .await
            .is_err()
    );

    // Riverside has had no EQA visit: Hannah's claim stays held however often the gate is
    // asked, and nothing is issued.
    for _ in 0..2 {
        d.app.release_open_claims(d.river).await.unwrap();
    }
    assert!(of_learner(&d.app, "hannah.learner@demo").await.is_empty());
    assert_eq!(all(&d.app).await.len(), before);

    // The first satisfactory visit, then the EQA's release: the certificate is issued at
    // once, in the release's own transaction.
    let eqa_r = actor(&d.app, "eqa.riverside@isp.demo").await;
    let hannah = d
        .app
        .claims(&admin_r, Some(d.river))
        .await
        .unwrap()
        .remove(0);
    let visit = d.app.visits(&eqa_r, Some(d.river)).await.unwrap().remove(0);
    let today = chrono::Utc::now()
        .date_naive()
        .format("%d/%m/%Y")
        .to_string();
    d.app
        .report_visit(
            &eqa_r,
            visit.visit.visit,
            &today,
            "satisfactory",
            "low",
            &[(hannah.registration, hannah.units[0].clone())],
            "Decisions sampled were sound.",
            &[],
            "test",
        )
        .await
        .unwrap();
    d.app
        .eqa_release_claim(&eqa_r, hannah.claim, "Sampled.", "test")
        .await
        .unwrap();
    let issued = of_learner(&d.app, "hannah.learner@demo").await;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].status, "valid");
    assert_eq!(issued[0].claim_id, hannah.claim);
    // Hannah is told, by an email queued in the issuing transaction.
    let told = d
        .app
        .store
        .jobs(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .any(|j| j.payload.contains("hannah.learner@demo") && j.payload.contains("is issued"));
    assert!(told, "no email to Hannah about her certificate");
    let claim = d
        .app
        .claims(&admin_r, Some(d.river))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(claim.status, "released");
    assert_eq!(
        claim.certificate.as_deref(),
        Some(issued[0].number.as_str())
    );
    // Released once: a second release is refused and issues nothing more.
    assert!(
        d.app
            .eqa_release_claim(&eqa_r, hannah.claim, "", "test")
            .await
            .is_err()
    );
    assert_eq!(of_learner(&d.app, "hannah.learner@demo").await.len(), 1);
}
both_databases!(
    rules_and_gate,
    no_certificate_without_the_rules_and_a_released_gate
);

async fn ao_staff_replace_and_revoke_with_a_second_factor(url: String) {
    let d = demo(&url).await;
    let farah = of_learner(&d.app, "farah.learner@demo").await;
    let valid = farah.iter().find(|c| c.status == "valid").unwrap().clone();
    let ao = actor(&d.app, "ao@isp.demo").await;
    // Without a second factor: refused.
    let e = d
        .app
        .revoke_certificate(&ao, &valid.number, "malpractice", "Copied work.", "test")
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
    // Another AO's staff and a centre's administrator: refused.
    let ismm = actor(&d.app, "ao@ismm.demo").await;
    assert!(
        d.app
            .revoke_certificate(&ismm, &valid.number, "malpractice", "x", "test")
            .await
            .is_err()
    );
    let admin = actor(&d.app, "admin@northgate.demo").await;
    assert!(matches!(
        d.app
            .revoke_certificate(&admin, &valid.number, "malpractice", "x", "test")
            .await,
        Err(AppError::Forbidden(_))
    ));
    common::enrol_second_factor(&d.app, "ao@isp.demo").await;
    let ao = actor(&d.app, "ao@isp.demo").await;
    // A name correction needs the name; a reason must be one of the list.
    assert!(matches!(
        d.app
            .replace_certificate(&ao, &valid.number, "name_correction", None, "test")
            .await,
        Err(AppError::Validation(_))
    ));
    assert!(matches!(
        d.app
            .replace_certificate(&ao, &valid.number, "because", None, "test")
            .await,
        Err(AppError::Validation(_))
    ));
    let corrected = d
        .app
        .replace_certificate(
            &ao,
            &valid.number,
            "name_correction",
            Some("Farah Ali-Żółć"),
            "test",
        )
        .await
        .unwrap();
    let old = d.app.verify_certificate(&valid.number).await.unwrap();
    assert_eq!(old.status, "replaced");
    assert_eq!(old.replaced_by.as_deref(), Some(corrected.as_str()));
    let new = d.app.verify_certificate(&corrected).await.unwrap();
    assert_eq!(new.status, "valid");
    assert_eq!(new.learner_name, "Farah Ali-Żółć");
    assert_eq!(new.replaces.as_deref(), Some(valid.number.as_str()));
    assert_eq!(
        new.awarded_on, valid.awarded_on,
        "a replacement keeps the award date"
    );
    // A replaced certificate is not replaced or revoked again.
    assert!(matches!(
        d.app
            .revoke_certificate(&ao, &valid.number, "malpractice", "x", "test")
            .await,
        Err(AppError::Conflict(_))
    ));
    // Revocation needs a note; then verification says revoked with the category.
    assert!(matches!(
        d.app
            .revoke_certificate(&ao, &corrected, "malpractice", "  ", "test")
            .await,
        Err(AppError::Validation(_))
    ));
    d.app
        .revoke_certificate(
            &ao,
            &corrected,
            "malpractice",
            "Evidence was copied from another learner.",
            "test",
        )
        .await
        .unwrap();
    let v = d.app.verify_certificate(&corrected).await.unwrap();
    assert_eq!(v.status, "revoked");
    assert_eq!(v.revocation_reason.as_deref(), Some("Malpractice"));
    let list = d.app.revocation_list("ISP").await.unwrap();
    let listed: Vec<&str> = list["revokedCredential"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert!(
        listed.iter().any(|id| id.contains(&corrected)),
        "{listed:?}"
    );
    // The note stays inside: the public answer has only the category.
    let public = serde_json::to_string(&v).unwrap();
    assert!(!public.contains("copied"), "{public}");
}
both_databases!(
    replacement_and_revocation,
    ao_staff_replace_and_revoke_with_a_second_factor
);

async fn the_register_shows_each_person_their_own(url: String) {
    let d = demo(&url).await;
    let scope_of = |a: &Actor| d.app.register_scope(a);
    let ao = actor(&d.app, "ao@isp.demo").await;
    let ismm = actor(&d.app, "ao@ismm.demo").await;
    let admin_n = actor(&d.app, "admin@northgate.demo").await;
    let admin_r = actor(&d.app, "admin@riverside.demo").await;
    let farah = actor(&d.app, "farah.learner@demo").await;
    let chloe = actor(&d.app, "chloe.learner@demo").await;
    let n = |l: &Vec<credence::app::certificates::CertificateView>| l.len();
    let list = |a: &Actor| {
        let s = scope_of(a);
        let app = d.app.clone();
        async move {
            app.certificates(&s, CertificateFilter::default())
                .await
                .unwrap()
        }
    };
    assert_eq!(n(&list(&ao).await), 3);
    assert_eq!(n(&list(&ismm).await), 0);
    assert_eq!(n(&list(&admin_n).await), 3);
    assert_eq!(n(&list(&admin_r).await), 0);
    assert_eq!(n(&list(&farah).await), 2);
    assert_eq!(n(&list(&chloe).await), 0);
    // Out of scope is not found, whatever the number.
    let number = of_learner(&d.app, "farah.learner@demo").await[0]
        .number
        .clone();
    assert!(matches!(
        d.app.certificate_record(&scope_of(&admin_r), &number).await,
        Err(AppError::NotFound(_))
    ));
    // Search and filters.
    let found = d
        .app
        .certificates(
            &scope_of(&ao),
            CertificateFilter {
                text: Some("farah".into()),
                status: Some("valid".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    // A number is found by equality, in any case and with spaces around it; a QAN finds its
    // qualification's certificates.
    let search = |text: &str| {
        let app = d.app.clone();
        let scope = scope_of(&ao);
        let text = text.to_string();
        async move {
            app.certificates(
                &scope,
                CertificateFilter {
                    text: Some(text),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
        }
    };
    let by_number = search(&format!("  {}  ", number.to_lowercase())).await;
    assert_eq!(
        by_number
            .iter()
            .map(|c| c.public.number.as_str())
            .collect::<Vec<_>>(),
        vec![number.as_str()]
    );
    let qan = by_number[0].public.qan.clone().unwrap();
    let by_qan = search(&qan).await;
    assert!(!by_qan.is_empty() && by_qan.iter().all(|c| c.public.qan.as_deref() == Some(&qan)));
    assert!(search("ISP-2026-9999999-Z").await.is_empty());
    assert!(matches!(
        d.app
            .certificates(
                &scope_of(&ao),
                CertificateFilter {
                    status: Some("lost".into()),
                    ..Default::default()
                },
            )
            .await,
        Err(AppError::Validation(_))
    ));
    // The register's CSV defuses spreadsheet formulas in any cell.
    common::enrol_second_factor(&d.app, "ao@isp.demo").await;
    let ao = actor(&d.app, "ao@isp.demo").await;
    let valid = of_learner(&d.app, "farah.learner@demo")
        .await
        .into_iter()
        .find(|c| c.status == "valid")
        .unwrap();
    d.app
        .replace_certificate(
            &ao,
            &valid.number,
            "name_correction",
            Some("=HYPERLINK(\"http://x\")"),
            "test",
        )
        .await
        .unwrap();
    let router = credence::web::router(d.app.clone());
    let cookie = common::pages::demo_cookie(&router, "admin@northgate.demo").await;
    let r = common::send(
        &router,
        common::pages::page("/certificates?status=valid&format=csv", &cookie),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.body.contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "{}",
        r.body
    );
    assert!(!r.body.contains(",=HYPERLINK"), "{}", r.body);
    // The page lists them; a learner's page shows only theirs.
    let page = common::send(&router, common::pages::page("/certificates", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&valid.number));
}
both_databases!(register, the_register_shows_each_person_their_own);

/// A register of 20,000 certificates searched by words: a name from its middle, in any case;
/// a centre by part of its name; a `%` that is only a character. On PostgreSQL the words are
/// found from the trigram index (migration 19), not by reading the register.
async fn the_register_is_searched_by_words(url: String) {
    let d = demo(&url).await;
    let store = &d.app.store;
    let pool = store.pool();
    let original = all(&d.app).await.into_iter().next().unwrap();
    // 20,000 certificates copied from the first, each with its own number and name; the
    // 7,777th is Zephyrine Quill's.
    sqlx::query(
        "insert into certificate (number, ao_code, year, sequence, kind, claim_id, registration_id, learner_id, centre_id, learner_name, \
         qan, unit_reference, title, level, grade, grade_rule, units, total_credits, awarded_on, issued_at, issued_by, status, replaces) \
         with recursive g(n) as (select 1 union all select n + 1 from g where n < 20000) \
         select 'TST-1999-' || n, ao_code, 1999, n, kind, claim_id, registration_id, learner_id, centre_id, \
                case when n = 7777 then 'Zephyrine Quill' else 'Learner ' || n end, \
                qan, unit_reference, title, level, grade, grade_rule, units, total_credits, awarded_on, issued_at, issued_by, 'valid', number \
         from certificate cross join g where number = $1",
    )
    .bind(&original.number)
    .execute(pool)
    .await
    .unwrap();
    let search = |text: &str| {
        let f = CertificateFilter {
            text: Some(text.to_string()),
            ..Default::default()
        };
        async move { store.certificates(&f).await.unwrap() }
    };
    let names = |rows: &[CertificateRow]| {
        rows.iter()
            .map(|c| c.learner_name.clone())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        names(&search("zephyrine").await),
        BTreeSet::from(["Zephyrine Quill".to_string()])
    );
    assert_eq!(names(&search("  QUILL ").await).len(), 1);
    // The middle of a name, in capitals: Learner 1999 and Learner 19990 to 19999.
    assert_eq!(search("ARNER 1999").await.len(), 11);
    // A centre by part of its name: every certificate of that centre, and only those.
    let by_centre = search("northg").await;
    assert!(!by_centre.is_empty());
    assert!(
        by_centre
            .iter()
            .all(|c| c.centre_name.contains("Northgate"))
    );
    assert_eq!(
        by_centre.len(),
        all(&d.app)
            .await
            .iter()
            .filter(|c| c.centre_name.contains("Northgate"))
            .count()
    );
    // `%` and `_` are characters, not wildcards.
    assert!(search("%").await.is_empty());
    assert!(search("learner_1").await.is_empty());
    if url.starts_with("postgres") {
        sqlx::query("analyze certificate")
            .execute(pool)
            .await
            .unwrap();
        let plan = store
            .certificates_plan(&CertificateFilter {
                text: Some("zephyrine".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .join("\n");
        assert!(
            plan.contains("certificate_search"),
            "the search reads the register instead of its index:\n{plan}"
        );
        // What a register page finds first, as an AO's staff search: from the words'
        // index too, not by walking the AO's certificates newest first (migration 20's
        // index) and testing each for the words.
        let plan = store
            .certificate_matches_plan(
                &CertificateFilter {
                    text: Some("zephyrine".into()),
                    reach: Some(credence::store::Reach {
                        aos: vec![original.ao_code.clone()],
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                10_000,
            )
            .await
            .unwrap()
            .join("\n");
        assert!(
            plan.contains("certificate_search"),
            "a register page walks the AO's certificates instead of the words' index:\n{plan}"
        );
    }
}
both_databases!(register_search, the_register_is_searched_by_words);

/// A register larger than any page: 12,000 newer certificates at Riverside, copied from one
/// of Northgate's. Northgate's administrator still finds Northgate's (who sees what is part
/// of the statement, not a filter after a limit); the AO pages through 100 at a time, is told
/// "more than 10,000" rather than a count of millions, and a search narrows it to a count;
/// the API pages by `limit` and `offset` with a `Link` to the next.
async fn the_register_pages_what_each_person_sees(url: String) {
    let d = demo(&url).await;
    let original = all(&d.app)
        .await
        .into_iter()
        .find(|c| c.centre_id == d.north)
        .unwrap();
    sqlx::query(
        "insert into certificate (number, ao_code, year, sequence, kind, claim_id, registration_id, learner_id, centre_id, learner_name, \
         qan, unit_reference, title, level, grade, grade_rule, units, total_credits, awarded_on, issued_at, issued_by, status, replaces) \
         with recursive g(n) as (select 1 union all select n + 1 from g where n < 12000) \
         select 'TST-1999-' || n, ao_code, 1999, n, kind, claim_id, registration_id, learner_id, $2, \
                'Learner ' || n, qan, unit_reference, title, level, grade, grade_rule, units, total_credits, awarded_on, issued_at, issued_by, \
                case when n % 100 = 0 then 'revoked' else 'valid' end, number \
         from certificate cross join g where number = $1",
    )
    .bind(&original.number)
    .bind(d.river)
    .execute(d.app.store.pool())
    .await
    .unwrap();
    let newest: Vec<String> = all(&d.app)
        .await
        .into_iter()
        .take(201)
        .map(|c| c.number)
        .collect();
    let router = credence::web::router(d.app.clone());
    let rows = |body: &str| body.matches("/record\">").count();

    // Northgate's administrator: their three, not hidden behind Riverside's 12,000.
    let north = common::pages::demo_cookie(&router, "admin@northgate.demo").await;
    let page = common::send(&router, common::pages::page("/certificates", &north)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(rows(&page.body), 3, "{}", page.body);
    assert!(
        page.body
            .contains("3 found: 1 valid, 1 replaced, 1 revoked.")
    );
    assert!(!page.body.contains("TST-1999-"));
    assert!(!page.body.contains("pagination"));

    // The AO: 100 a page, newest first, and "more than 10,000".
    let ao = common::pages::demo_cookie(&router, "ao@isp.demo").await;
    let first = common::send(&router, common::pages::page("/certificates", &ao)).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(rows(&first.body), 100);
    assert!(
        first.body.contains("More than 10,000 found."),
        "{}",
        first.body
    );
    assert!(first.body.contains("showing 1 to 100, newest first"));
    assert!(
        first
            .body
            .contains(&format!("/certificates/{}/record", newest[0]))
    );
    assert!(
        !first
            .body
            .contains(&format!("/certificates/{}/record", newest[100]))
    );
    assert!(
        first
            .body
            .contains("href=\"/certificates?page=2\" rel=\"next\"")
    );
    assert!(
        first.body.contains("aria-label=\"Page 100\""),
        "the pages stop at 10,000"
    );
    let second = common::send(&router, common::pages::page("/certificates?page=2", &ao)).await;
    assert_eq!(rows(&second.body), 100);
    assert!(
        second
            .body
            .contains(&format!("/certificates/{}/record", newest[100]))
    );
    assert!(second.body.contains("showing 101 to 200"));
    // A page past the bound shows the last page.
    let past = common::send(&router, common::pages::page("/certificates?page=500", &ao)).await;
    assert!(
        past.body.contains("showing 9,901 to 10,000"),
        "{}",
        past.body
    );
    // A status narrows it to a count, and the status is kept in the page links.
    let revoked = common::send(
        &router,
        common::pages::page("/certificates?status=revoked", &ao),
    )
    .await;
    assert!(
        revoked
            .body
            .contains("121 found: 0 valid, 0 replaced, 121 revoked."),
        "{}",
        revoked.body
    );
    assert!(revoked.body.contains("Showing 1 to 100, newest first."));
    assert!(
        revoked
            .body
            .contains("href=\"/certificates?status=revoked&#38;page=2\"")
    );
    let search = common::send(
        &router,
        common::pages::page("/certificates?q=learner+1199", &ao),
    )
    .await;
    assert!(
        search.body.contains("11 found: 11 valid"),
        "{}",
        search.body
    );
    assert!(!search.body.contains("pagination"));
    // The CSV holds all the search finds, up to the bound.
    let csv = common::send(
        &router,
        common::pages::page("/certificates?status=revoked&format=csv", &ao),
    )
    .await;
    assert_eq!(csv.body.lines().count(), 122);

    // The API: `limit` and `offset`, and a Link to the next page while pages are full.
    let token = common::ao_staff_token(&d.app).await;
    let page = common::get(&router, "/api/v1/certificates?limit=50&offset=100", &token).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let list: Vec<serde_json::Value> = serde_json::from_str(&page.body).unwrap();
    assert_eq!(list.len(), 50);
    assert_eq!(list[0]["number"], newest[100].as_str());
    assert_eq!(
        page.headers[header::LINK],
        "</api/v1/certificates?limit=50&offset=150>; rel=\"next\""
    );
    let last = common::get(
        &router,
        "/api/v1/certificates?status=revoked&limit=100&offset=100",
        &token,
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&last.body)
            .unwrap()
            .len(),
        21
    );
    assert!(!last.headers.contains_key(header::LINK));
    let whole = common::get(&router, "/api/v1/certificates", &token).await;
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&whole.body)
            .unwrap()
            .len(),
        5000
    );
    for bad in ["limit=0", "limit=5001", "offset=-1"] {
        let r = common::get(&router, &format!("/api/v1/certificates?{bad}"), &token).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
    }
}
both_databases!(register_pages, the_register_pages_what_each_person_sees);

/// Where `pg_trgm` cannot be created (the database's owner is not the one migrating, and the
/// migrating role may not create extensions), migration 19 says so and carries on: the
/// schema is complete, and the register is searched by reading it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_search_without_pg_trgm() {
    let Some(url) = common::postgres_url().await else {
        return;
    };
    let (base, db) = url.rsplit_once('/').unwrap();
    let role = format!("plain_{db}");
    let admin = credence::store::Store::connect(&url).await.unwrap();
    // May create tables in the schema, but not extensions in the database.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "create role {role} login; grant create on schema public to {role}; revoke create on database {db} from public;"
    )))
    .execute(admin.pool())
    .await
    .unwrap();
    let plain_url = format!("{}/{db}", base.replace("credence@", &format!("{role}@")));
    let d = demo(&plain_url).await;
    let trgm: Option<String> =
        sqlx::query_scalar("select extname::text from pg_extension where extname = 'pg_trgm'")
            .fetch_optional(admin.pool())
            .await
            .unwrap();
    assert_eq!(trgm, None, "the role was able to create pg_trgm after all");
    let filter = CertificateFilter {
        text: Some("ARAH AL".into()),
        ..Default::default()
    };
    let found = d.app.store.certificates(&filter).await.unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|c| c.learner_name == "Farah Ali"));
    let plan = d
        .app
        .store
        .certificates_plan(&filter)
        .await
        .unwrap()
        .join("\n");
    assert!(!plan.contains("certificate_search"), "{plan}");
    admin.pool().close().await;
}

fn draft(reg: &credence::store::RegistrationRow, n: usize) -> CertificateDraft {
    CertificateDraft {
        kind: "unit".into(),
        registration_id: reg.registration_id,
        learner_id: reg.learner_id,
        centre_id: reg.centre_id,
        ao_code: reg.ao_code.clone(),
        learner_name: format!("{} {}", reg.given_name, reg.family_name),
        qan: None,
        unit_reference: Some(format!("U{n}")),
        title: format!("Unit {n}"),
        level: Some(3),
        grade: Some("Pass".into()),
        grade_rule: None,
        units: "[]".into(),
        total_credits: None,
        awarded_on: "2026-11-30".into(),
        issued_by: None,
        audit: App::entry(
            Some("system:test"),
            None,
            "certificate.issued",
            &format!("learner {}", reg.learner_id),
            Some(reg.centre_id),
            Some(reg.learner_id),
            serde_json::json!({}),
        ),
    }
}

async fn numbers_are_unique_when_two_servers_issue_at_once(url: String) {
    let d = demo(&url).await;
    // A second server: its own connection pool on the same database.
    let other = credence::store::Store::connect(&url).await.unwrap();
    let stores = [d.app.store.clone(), other];
    let mut regs = Vec::new();
    for email in [
        "ben.learner@demo",
        "chloe.learner@demo",
        "farah.learner@demo",
    ] {
        let l = common::learner_of(&d.app, email).await;
        regs.push(d.app.store.registrations_of_learner(l).await.unwrap()[0].clone());
    }
    let before: BTreeSet<String> = all(&d.app).await.into_iter().map(|c| c.number).collect();
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = stores[i % 2].clone();
        let reg = regs[i % regs.len()].clone();
        tasks.push(tokio::spawn(async move {
            let d = draft(&reg, i);
            store
                .insert_claim(&reg, "unit", &[format!("test-unit-{i}")], 1, true, Some(&d))
                .await
                .unwrap()
                .1
                .unwrap()
        }));
    }
    let mut numbers = BTreeSet::new();
    for t in tasks {
        assert!(
            numbers.insert(t.await.unwrap()),
            "a number was issued twice"
        );
    }
    assert_eq!(numbers.len(), 24);
    assert!(numbers.is_disjoint(&before));
    // ISP's sequence continues without gaps or repeats (OCR's demo unit certificate is in
    // OCR's own sequence).
    let mut seqs: Vec<u64> = all(&d.app)
        .await
        .iter()
        .map(|c| CertificateNumber::parse(&c.number).unwrap())
        .filter(|n| n.ao_code == "ISP")
        .map(|n| n.sequence)
        .collect();
    seqs.sort_unstable();
    let expected: Vec<u64> = (1..=u64::try_from(seqs.len()).unwrap()).collect();
    assert_eq!(seqs, expected);
    assert!(d.app.verify_audit(None).await.unwrap().is_ok());
}
both_databases!(
    concurrent_numbers,
    numbers_are_unique_when_two_servers_issue_at_once
);

/// Raw bytes of an answer (PDFs).
async fn bytes_of(router: &axum::Router, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    use tower::ServiceExt;
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let b = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, b.to_vec())
}

fn tool(name: &str, package: &str) -> bool {
    let ok = std::process::Command::new("which")
        .arg(name)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{name} is needed under CI=true: apt-get install -y {package}"
        );
        eprintln!("\n!!!!! SKIPPING: {name} is not installed (apt-get install -y {package})\n");
    }
    ok
}

/// Over HTTP as outsiders see it: the verification page and JSON (cacheable for a minute,
/// limited per address), the credential checked by node `jose` against the published JWKS
/// and by 1EdTech's OB 3.0 schema, the revocation list after a revocation, and the PDF's QR
/// code decoded by `zbarimg` to the verification URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsiders_verify_the_page_the_credential_and_the_pdf() {
    let mut d = demo(&common::sqlite_url()).await;
    d.app.public_url = "https://credence.example.org".into();
    d.app.verify_limit = std::sync::Arc::new(credence::ratelimit::RateLimiter::new(1000));
    let router = credence::web::router(d.app.clone());
    let farah = of_learner(&d.app, "farah.learner@demo").await;
    let valid = farah.iter().find(|c| c.status == "valid").unwrap().clone();

    // The page and the JSON: no sign-in, public for a minute.
    let page = common::send(
        &router,
        Request::get(format!("/certificates/{}", valid.number))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Valid") && page.body.contains("Farah Ali"));
    assert_eq!(page.headers[header::CACHE_CONTROL], "public, max-age=60");
    let json = common::send(
        &router,
        Request::get(format!("/api/v1/certificates/{}", valid.number))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(json.status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(v["status"], "valid");
    assert_eq!(v["qan"], "610/3795/3");
    assert_eq!(
        v["verify_url"],
        format!("https://credence.example.org/certificates/{}", valid.number)
    );
    // Only what is printed: no ULN, no date of birth, no email, no ids.
    for hidden in [
        "uln",
        "date_of_birth",
        "email",
        "learner\":",
        "registration",
    ] {
        assert!(!json.body.contains(hidden), "{hidden} in {}", json.body);
    }
    // Lower case reaches the canonical page.
    let lower = common::send(
        &router,
        Request::get(format!("/certificates/{}", valid.number.to_lowercase()))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(lower.status, StatusCode::PERMANENT_REDIRECT);

    // The credential, checked by an independent verifier against the published keys.
    let jwt = common::send(
        &router,
        Request::get(format!("/api/v1/certificates/{}/credential", valid.number))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(jwt.status, StatusCode::OK);
    assert_eq!(jwt.headers[header::CONTENT_TYPE], "application/vc+jwt");
    let jwks = common::send(
        &router,
        Request::get("/.well-known/jwks.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let jwks: serde_json::Value = serde_json::from_str(&jwks.body).unwrap();
    // The header's kid resolves to the key it names.
    let header_json: serde_json::Value = {
        use base64::Engine as _;
        let h = jwt.body.split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
    };
    let kid = header_json["kid"].as_str().unwrap().to_string();
    let path = kid.strip_prefix("https://credence.example.org").unwrap();
    let key = common::send(&router, Request::get(path).body(Body::empty()).unwrap()).await;
    assert_eq!(key.status, StatusCode::OK, "{}", key.body);
    assert!(key.body.contains("\"kty\":\"RSA\"") && !key.body.contains("\"d\""));
    if common::verifier::node_ready() {
        let dir = common::temp_dir("credential");
        let (ok, report) = common::verifier::run_verifier(&dir, &jwt.body, &jwks);
        assert!(ok, "{report}");
        let subject = &report["credential"]["credentialSubject"];
        let text = report.to_string();
        assert!(
            !text.contains("farah.learner@demo"),
            "the email is only hashed"
        );
        assert!(!text.contains("1000000"), "no ULN: {subject}");
        // One character changed in the payload: refused.
        let mut parts: Vec<String> = jwt.body.split('.').map(str::to_string).collect();
        let mut payload: Vec<char> = parts[1].chars().collect();
        payload[20] = if payload[20] == 'A' { 'B' } else { 'A' };
        parts[1] = payload.into_iter().collect();
        let (ok, _) = common::verifier::run_verifier(&dir, &parts.join("."), &jwks);
        assert!(!ok, "a tampered credential must not verify");
    }

    // The achievement's id leads to the qualification in the catalogue.
    let a = common::send(
        &router,
        Request::get("/achievements/610%2F3795%2F3")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers[header::LOCATION], "/qualifications/610-3795-3");

    // Revocation shows in the JSON and the revocation list the credential points to.
    common::enrol_second_factor(&d.app, "ao@isp.demo").await;
    let ao = actor(&d.app, "ao@isp.demo").await;
    d.app
        .revoke_certificate(
            &ao,
            &valid.number,
            "claimed_in_error",
            "Wrong learner.",
            "test",
        )
        .await
        .unwrap();
    let json = common::send(
        &router,
        Request::get(format!("/api/v1/certificates/{}", valid.number))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(v["status"], "revoked");
    let list = common::send(
        &router,
        Request::get("/api/v1/revocation-lists/ISP")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        list.body.contains(&format!(
            "https://credence.example.org/api/v1/certificates/{}/credential",
            valid.number
        )),
        "{}",
        list.body
    );

    // The PDF: for the learner, not for another centre; its QR code is the verification URL.
    let cookie = common::pages::demo_cookie(&router, "farah.learner@demo").await;
    let (status, pdf) = bytes_of(
        &router,
        common::pages::page(&format!("/certificates/{}/pdf", valid.number), &cookie),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF"));
    let other = common::pages::demo_cookie(&router, "admin@riverside.demo").await;
    let (status, _) = bytes_of(
        &router,
        common::pages::page(&format!("/certificates/{}/pdf", valid.number), &other),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    if tool("pdftoppm", "poppler-utils") && tool("zbarimg", "zbar-tools") {
        let dir = common::temp_dir("certificate-pdf");
        std::fs::write(dir.join("c.pdf"), &pdf).unwrap();
        let ok = std::process::Command::new("pdftoppm")
            .args(["-r", "150", "-png", "-f", "1", "-l", "1"])
            .arg(dir.join("c.pdf"))
            .arg(dir.join("page"))
            .status()
            .unwrap();
        assert!(ok.success());
        let png = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "png"))
            .unwrap();
        let out = std::process::Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(&png)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("https://credence.example.org/certificates/{}", valid.number)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    // The limit per address: answered 429 with when to come back, never a database write.
    d.app.verify_limit = std::sync::Arc::new(credence::ratelimit::RateLimiter::new(2));
    let router = credence::web::router(d.app.clone());
    let mut last = StatusCode::OK;
    let mut retry = None;
    for _ in 0..3 {
        let r = common::send(
            &router,
            Request::get(format!("/api/v1/certificates/{}", valid.number))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        last = r.status;
        retry = r.headers.get(header::RETRY_AFTER).cloned();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some());
}

/// Sign a unit off for a learner (both signatures on one evidence hash), as the portfolio
/// does at the end of assessment.
async fn signed_off(app: &App, reg: &credence::store::RegistrationRow, unit: &str, by: i64) {
    for role in ["assessor", "learner"] {
        app.store
            .insert_signature(
                reg.learner_id,
                unit,
                role,
                by,
                "Signed.",
                "sha256:test",
                reg.centre_id,
            )
            .await
            .unwrap();
    }
}

async fn graded(
    app: &App,
    reg: &credence::store::RegistrationRow,
    unit: &str,
    grade: &str,
    by: i64,
) {
    app.store
        .insert_unit_result(
            reg.learner_id,
            reg.registration_id,
            unit,
            "[]",
            0,
            "[]",
            "{}",
            grade,
            by,
        )
        .await
        .unwrap();
}

/// ISMM: the qualification's grade comes from its units' grades by the printed rule, and a
/// Fail earns no certificate (the claim is refused, saying which unit failed).
async fn ismm_grades_aggregate_and_a_fail_earns_nothing(url: String) {
    let d = demo(&url).await;
    let admin = actor(&d.app, "admin@northgate.demo").await;
    let qan = "500/3707/9";
    let reg = d
        .app
        .store
        .registrations_at_centre(d.north, 5000)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.qan == qan)
        .expect("the demo's ISMM learner at Northgate");
    let spec = d
        .app
        .specification_of_version(reg.catalogue_version_id)
        .await
        .unwrap();
    let units: Vec<String> = spec
        .qualification(qan)
        .unwrap()
        .units
        .iter()
        .map(|u| u.unit.to_string())
        .collect();
    assert_eq!(units.len(), 2, "{units:?}");
    d.app
        .store
        .set_direct_claim(d.north, qan, "ISMM", true, admin.person_id, "test")
        .await
        .unwrap();
    for u in &units {
        signed_off(&d.app, &reg, u, admin.person_id).await;
    }
    // Unit 1 Distinction, Unit 2 Fail: no certificate, the claim refused with the reason.
    graded(&d.app, &reg, &units[0], "Distinction", admin.person_id).await;
    graded(&d.app, &reg, &units[1], "Fail", admin.person_id).await;
    let e = d
        .app
        .make_claim(&admin, reg.registration_id, &units, "test")
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("Fail") && e.to_string().contains(&units[1]),
        "{e}"
    );
    assert!(
        all(&d.app)
            .await
            .iter()
            .all(|c| c.registration_id != reg.registration_id)
    );
    // Re-marked Merit: Distinction and Merit on equal credits average 2.5, Distinction.
    graded(&d.app, &reg, &units[1], "Merit", admin.person_id).await;
    let claim = d
        .app
        .make_claim(&admin, reg.registration_id, &units, "test")
        .await
        .unwrap();
    assert_eq!(claim.status, "released", "{claim:?}");
    let number = claim
        .certificate
        .expect("issued at once with direct claim status");
    let v = d.app.verify_certificate(&number).await.unwrap();
    assert!(number.starts_with("ISMM-"), "{number}");
    let credits: Vec<Option<u32>> = units.iter().map(|u| spec.unit(u).unwrap().credit).collect();
    let expected = credence_domain::certificate::aggregate_grade(
        &units
            .iter()
            .zip(&credits)
            .zip([
                credence_domain::portfolio::Grade::Distinction,
                credence_domain::portfolio::Grade::Merit,
            ])
            .map(|((u, c), g)| credence_domain::certificate::UnitGrade {
                unit: u.clone(),
                credits: c.unwrap_or(0),
                grade: g,
            })
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(v.grade.as_deref(), Some(expected.title()));
    assert!(
        v.grade_rule
            .as_deref()
            .is_some_and(|r| r.contains("weighted by its credits"))
    );
    let unit_grades: Vec<Option<String>> = v.units.iter().map(|u| u.grade.clone()).collect();
    assert_eq!(
        unit_grades,
        vec![Some("Distinction".to_string()), Some("Merit".to_string())]
    );
}
both_databases!(ismm_grades, ismm_grades_aggregate_and_a_fail_earns_nothing);
