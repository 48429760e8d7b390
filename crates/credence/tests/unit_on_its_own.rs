//! A unit on its own (issue 17), on SQLite and PostgreSQL: OCR unit 39 (`H/502/8599`) in the
//! demo part-way and certified; registration on a unit (CSV `unit` column, the API's view)
//! with its refusals (not offered, centre not approved, duplicate); the occasions the unit
//! asks for gating a criterion; authentication (the learner's declaration, then the centre's
//! confirmation) before the unit can be claimed; and the unit certificate checked as any
//! certificate is, by clients that are not Credence (node `jose`, `zbarimg`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use credence::app::App;
use credence_domain::portfolio::CriterionStatus;

const UNIT: &str = "H/502/8599";

async fn evidence_on(app: &App, learner: i64, centre: i64, by: i64, date: &str, criteria: &[&str]) {
    let body = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(axum::body::Bytes::from(
        format!("Lead log kept on {date}.\n").into_bytes(),
    ))]);
    let stored = app.evidence.put_stream(body, 1 << 20).await.unwrap();
    let id = app
        .store
        .insert_evidence(&credence::store::NewEvidence {
            learner_id: learner,
            centre_id: centre,
            title: format!("Lead log, {date}"),
            evidence_date: date.into(),
            kind: "product_evidence".into(),
            kind_other: None,
            witness_name: None,
            witness_role: None,
            source: "real_workplace".into(),
            simulation_note: None,
            file_name: "log.txt".into(),
            media_type: "text/plain".into(),
            size: i64::try_from(stored.size).unwrap(),
            sha256: stored.sha256,
            object_key: stored.key,
            added_by: by,
        })
        .await
        .unwrap();
    for c in criteria {
        app.store
            .map_evidence(learner, id, UNIT, c, "entry", by)
            .await
            .unwrap();
    }
}

fn status_of<'a>(
    p: &'a credence::app::portfolio::Portfolio,
    criterion: &str,
) -> &'a CriterionStatus {
    &p.unit(UNIT)
        .unwrap()
        .progress
        .per_criterion
        .iter()
        .find(|(n, _)| n == criterion)
        .unwrap()
        .1
}

async fn a_unit_on_its_own_end_to_end(url: String) {
    let d = common::demo_centres(&url).await;
    let app = &d.app;
    let east = app
        .store
        .centres()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Eastfield Sales Academy")
        .unwrap()
        .centre_id;

    // The demo: Kwame's unit certificate, Olivia part-way.
    let kwame = common::learner_of(app, "kwame.learner@demo").await;
    let certs = app
        .store
        .certificates(&credence::store::CertificateFilter {
            learner_id: Some(kwame),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(certs.len(), 1, "{certs:?}");
    let v = app.verify_certificate(&certs[0].number).await.unwrap();
    assert!(v.number.starts_with("OCR-"), "{}", v.number);
    assert_eq!(v.status, "valid");
    assert_eq!(v.kind, "unit");
    assert_eq!(v.qan, None);
    assert_eq!(v.unit_reference.as_deref(), Some(UNIT));
    assert_eq!(v.title, "Generating and qualifying sales leads");
    assert_eq!(v.units.len(), 1);
    assert_eq!(v.units[0].credits, Some(2));

    let olivia_actor = common::actor(app, "olivia.learner@demo").await;
    let olivia = common::learner_of(app, "olivia.learner@demo").await;
    let p = app.portfolio(&olivia_actor, olivia).await.unwrap();
    assert_eq!(p.qualifications.len(), 1);
    assert!(p.qualifications[0].qualification.is_unit());
    assert_eq!(p.qualifications[0].plan.units, vec![UNIT.to_string()]);
    assert!(
        p.qualifications[0].plan.chosen.is_some(),
        "the plan is the unit"
    );
    // Evidence on two dates for learning outcome 1, on one date for the rest.
    assert!(status_of(&p, "1.1").is_met(), "{:?}", status_of(&p, "1.1"));
    assert_eq!(
        status_of(&p, "2.1"),
        &CriterionStatus::NeedsOccasions { have: 1, need: 2 }
    );
    let unit = p.unit(UNIT).unwrap();
    assert!(unit.progress.met < unit.progress.total);
    assert!(unit.unit.centre_authentication);

    // The centre's sampling plan covers the unit on its own as a qualification's.
    let admin_e = common::actor(app, "admin@eastfield.demo").await;
    let plan = app.qa_plan(&admin_e, east, Some(UNIT)).await.unwrap();
    assert_eq!(plan.qualifications.len(), 1);
    assert_eq!(
        plan.qualifications[0].title,
        "Generating and qualifying sales leads"
    );
    assert!(
        plan.qualifications[0].work >= 2,
        "Olivia's and Kwame's unit"
    );

    // Registration on the unit: the refusals, each named, and nothing stored.
    let admin_n = common::actor(app, "admin@eastfield.demo").await;
    let admin_r = common::actor(app, "admin@riverside.demo").await;
    let north = app.centre_admin_scope(&admin_n, east).await.unwrap();
    let csv = "given_name,family_name,date_of_birth,unit\n\
               Nia,Bello,1995-02-02,H/502/8599\n\
               Olivia,Grant,17/05/1999,H/502/8599\n\
               Omar,Reed,1990-01-01,T/999/9999\n";
    let out = app
        .register_csv(&north, csv.as_bytes(), false, "test", |_| {})
        .await
        .unwrap();
    assert_eq!(out.registered, 0, "{out:?}");
    assert!(
        out.errors
            .iter()
            .any(|e| e.starts_with("Row 3") && e.contains("already registered on unit H/502/8599")),
        "{:?}",
        out.errors
    );
    assert!(
        out.errors
            .iter()
            .any(|e| e.starts_with("Row 4")
                && e.contains("unit T/999/9999 is not offered on its own")),
        "{:?}",
        out.errors
    );
    let river = app.centre_admin_scope(&admin_r, d.river).await.unwrap();
    let refused = app
        .register_csv(
            &river,
            b"given_name,family_name,date_of_birth,unit\nNia,Bello,1995-02-02,H/502/8599\n",
            false,
            "test",
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(refused.registered, 0);
    assert!(
        refused.errors[0].contains("this centre is not approved for unit H/502/8599"),
        "{:?}",
        refused.errors
    );
    // The good row on its own registers, with the unit as its plan.
    let ok = app
        .register_csv(
            &north,
            b"given_name,family_name,date_of_birth,unit\nNia,Bello,1995-02-02,H/502/8599\n",
            false,
            "test",
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(ok.registered, 1, "{:?}", ok.errors);

    // The API shows it as a unit registration.
    let router = credence::web::router(app.clone());
    let token = common::token_for(app, "admin@eastfield.demo").await;
    let regs = common::get(
        &router,
        &format!("/api/v1/centres/{east}/registrations"),
        &token,
    )
    .await;
    assert_eq!(regs.status, StatusCode::OK);
    let regs: serde_json::Value = serde_json::from_str(&regs.body).unwrap();
    let nia = regs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["given_name"] == "Nia")
        .unwrap();
    assert_eq!(nia["kind"], "unit");
    assert_eq!(nia["unit"], UNIT);
    assert!(nia["qan"].is_null());
    let northgate = common::get(
        &router,
        &format!("/api/v1/centres/{}/registrations", d.north),
        &common::token_for(app, "admin@northgate.demo").await,
    )
    .await;
    let northgate: serde_json::Value = serde_json::from_str(&northgate.body).unwrap();
    let priya = northgate
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["given_name"] == "Priya")
        .unwrap();
    assert_eq!(priya["kind"], "qualification");
    assert_eq!(priya["qan"], "610/3788/6");

    // Olivia completes her occasions: a third date for every criterion.
    let olivia_person = olivia_actor.person_id;
    let criteria: Vec<String> = unit
        .progress
        .per_criterion
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    let refs: Vec<&str> = criteria.iter().map(String::as_str).collect();
    evidence_on(app, olivia, east, olivia_person, "2026-11-02", &refs).await;
    let p = app.portfolio(&olivia_actor, olivia).await.unwrap();
    assert!(status_of(&p, "2.1").is_met(), "{:?}", status_of(&p, "2.1"));
    assert!(p.unit(UNIT).unwrap().progress.complete);

    // Signed off, but not yet authenticated: the claim is refused, naming both.
    let sam = common::actor(app, "assessor@eastfield.demo").await;
    app.sign_unit(&sam, olivia, UNIT, "Competent.", None, "test")
        .await
        .unwrap();
    app.sign_unit(&olivia_actor, olivia, UNIT, "My own work.", None, "test")
        .await
        .unwrap();
    let reg = app
        .store
        .registrations_of_learner(olivia)
        .await
        .unwrap()
        .remove(0);
    let err = app
        .make_claim(&admin_n, reg.registration_id, &[], "test")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the learner's declaration that the work is their own")
            && err.contains("the centre's confirmation that the evidence is authentic"),
        "{err}"
    );
    // The centre does not confirm before the learner declares.
    let early = app
        .authenticate_unit(&sam, olivia, UNIT, "", None, "test")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        early.contains("The learner declares the work their own first"),
        "{early}"
    );
    assert_eq!(
        app.authenticate_unit(&olivia_actor, olivia, UNIT, "", None, "test")
            .await
            .unwrap(),
        "learner"
    );
    let err = app
        .make_claim(&admin_n, reg.registration_id, &[], "test")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        !err.contains("the learner's declaration")
            && err.contains("the centre's confirmation that the evidence is authentic"),
        "{err}"
    );
    // Someone from another centre cannot confirm it.
    let other = app
        .authenticate_unit(&admin_r, olivia, UNIT, "", None, "test")
        .await;
    assert!(other.is_err());
    assert_eq!(
        app.authenticate_unit(
            &sam,
            olivia,
            UNIT,
            "Checked with her manager.",
            None,
            "test"
        )
        .await
        .unwrap(),
        "centre"
    );
    let audit = app.store.audit_log().await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "unit.authenticate" && e.subject == format!("learner {olivia}"))
            .count(),
        2
    );

    // Claimed at a centre without direct claim status for the unit: held for OCR's external
    // verifier, as a qualification's claim is; released by them after a satisfactory visit,
    // a unit certificate.
    let ocr = common::actor(app, "ao@ocr.demo").await;
    app.store
        .set_direct_claim(east, UNIT, "OCR", false, ocr.person_id, "test: withdrawn")
        .await
        .unwrap();
    let claim = app
        .make_claim(&admin_n, reg.registration_id, &[], "test")
        .await
        .unwrap();
    assert_eq!(claim.status, "held", "{claim:?}");
    assert_eq!(claim.kind, "unit");
    assert!(claim.certificate.is_none());
    assert!(!claim.waiting_for.is_empty(), "{claim:?}");
    let ev = app
        .create_person("ev@ocr.test", "Eve Verifier", Some("a long test password"))
        .await
        .unwrap();
    app.store
        .grant_role(ev, "eqa", Some("OCR"), None, None)
        .await
        .unwrap();
    app.store.appoint_eqa(ev, east, "OCR").await.unwrap();
    let today = chrono::Utc::now().date_naive();
    let day = |d: i64| {
        (today + chrono::Duration::days(d))
            .format("%Y-%m-%d")
            .to_string()
    };
    let visit = app
        .store
        .schedule_visit(east, "OCR", ev, &day(-3), ocr.person_id)
        .await
        .unwrap();
    app.store
        .report_visit(
            visit,
            &credence::store::VisitReport {
                visited_on: day(-3),
                outcome: "satisfactory".into(),
                risk: "low".into(),
                sampled: "[]".into(),
                findings: "NVQ portfolios sampled; authentication in place.".into(),
                actions: Vec::new(),
            },
        )
        .await
        .unwrap();
    let eve = common::actor(app, "ev@ocr.test").await;
    app.eqa_release_claim(
        &eve,
        claim.claim,
        "Sampled: evidence authentic and sufficient.",
        "test",
    )
    .await
    .unwrap();
    let number = app
        .store
        .certificates(&credence::store::CertificateFilter {
            learner_id: Some(olivia),
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0)
        .number;
    let v = app.verify_certificate(&number).await.unwrap();
    assert_eq!(v.kind, "unit");
    assert_eq!(v.learner_name, "Olivia Grant");
    assert_eq!(v.unit_reference.as_deref(), Some(UNIT));
}
both_databases!(unit_on_its_own, a_unit_on_its_own_end_to_end);

fn tool(name: &str, package: &str) -> bool {
    let ok = std::process::Command::new(name)
        .arg("--version")
        .output()
        .is_ok();
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{name} is needed under CI=true: apt-get install {package}");
    }
    ok
}

/// Kwame's unit certificate, checked as anyone would: the public JSON, the signed credential
/// against the published keys (node `jose`), the PDF's words and its QR code (`zbarimg`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsiders_verify_a_unit_certificate() {
    let mut d = common::demo_centres(&common::sqlite_url()).await;
    d.app.public_url = "https://credence.example.org".into();
    let router = credence::web::router(d.app.clone());
    let kwame = common::learner_of(&d.app, "kwame.learner@demo").await;
    let number = d
        .app
        .store
        .certificates(&credence::store::CertificateFilter {
            learner_id: Some(kwame),
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0)
        .number;
    let get = |uri: String| Request::get(uri).body(Body::empty()).unwrap();
    let json = common::send(&router, get(format!("/api/v1/certificates/{number}"))).await;
    assert_eq!(json.status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(v["kind"], "unit");
    assert_eq!(v["status"], "valid");
    assert!(v["qan"].is_null());
    assert_eq!(v["unit_reference"], UNIT);
    let page = common::send(&router, get(format!("/certificates/{number}"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Unit certificate") && page.body.contains("Kwame Mensah"));

    let jwt = common::send(
        &router,
        get(format!("/api/v1/certificates/{number}/credential")),
    )
    .await;
    assert_eq!(jwt.status, StatusCode::OK);
    // What it claims: the unit on its own, by OCR.
    let payload: serde_json::Value = {
        use base64::Engine as _;
        let p = jwt.body.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .unwrap(),
        )
        .unwrap()
    };
    let text = payload.to_string();
    assert!(
        text.contains("Generating and qualifying sales leads") && text.contains(UNIT),
        "{text}"
    );
    let jwks = common::send(&router, get("/.well-known/jwks.json".into())).await;
    let jwks: serde_json::Value = serde_json::from_str(&jwks.body).unwrap();
    if common::verifier::node_ready() {
        let dir = common::temp_dir("unit-credential");
        let (ok, report) = common::verifier::run_verifier(&dir, &jwt.body, &jwks);
        assert!(ok, "{report}");
        assert_eq!(report["schemaErrors"], serde_json::json!([]), "{report}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    let cookie = common::pages::demo_cookie(&router, "kwame.learner@demo").await;
    let res = {
        use tower::ServiceExt;
        router
            .clone()
            .oneshot(common::pages::page(
                &format!("/certificates/{number}/pdf"),
                &cookie,
            ))
            .await
            .unwrap()
    };
    assert_eq!(res.status(), StatusCode::OK);
    let pdf = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    if tool("pdftotext", "poppler-utils") && tool("zbarimg", "zbar-tools") {
        let dir = common::temp_dir("unit-certificate-pdf");
        std::fs::write(dir.join("c.pdf"), &pdf).unwrap();
        let text = std::process::Command::new("pdftotext")
            .arg(dir.join("c.pdf"))
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        for words in [
            "Unit certificate",
            "Generating and qualifying sales leads",
            UNIT,
            "Kwame Mensah",
            &number,
        ] {
            assert!(text.contains(words), "{words} not in the PDF: {text}");
        }
        assert!(
            std::process::Command::new("pdftoppm")
                .args(["-r", "150", "-png", "-f", "1", "-l", "1"])
                .arg(dir.join("c.pdf"))
                .arg(dir.join("page"))
                .status()
                .unwrap()
                .success()
        );
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
            format!("https://credence.example.org/certificates/{number}")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    // The learner's unit page shows the NOS, the assessment strategy's words and the
    // authentication record.
    let unit_page = common::send(
        &router,
        common::pages::page(
            &format!("/learners/{kwame}/portfolio/units/H-502-8599"),
            &cookie,
        ),
    )
    .await;
    assert_eq!(unit_page.status, StatusCode::OK);
    for words in [
        "CFAS 7.1 Generate and follow up sales leads",
        "through RWE, as necessary",
        "Authentication record",
        "Confirmed authentic",
    ] {
        assert!(
            unit_page.body.contains(words),
            "{words} not on the unit page"
        );
    }

    // Olivia declares her work her own from her unit page (the form, no JavaScript); the
    // page then shows her declaration and waits for the centre.
    let olivia = common::learner_of(&d.app, "olivia.learner@demo").await;
    let cookie = common::pages::demo_cookie(&router, "olivia.learner@demo").await;
    let url = format!("/learners/{olivia}/portfolio/units/H-502-8599");
    let before = common::send(&router, common::pages::page(&url, &cookie)).await;
    assert!(before.body.contains("Declare this work my own"));
    let csrf = common::pages::csrf_in(&before.body);
    let done = common::send(
        &router,
        common::pages::form(
            &format!("{url}/authenticate"),
            &format!("csrf={csrf}&comments=All+my+own+calls"),
            Some(&cookie),
        ),
    )
    .await;
    assert!(
        done.status.is_redirection() || done.status == StatusCode::OK,
        "{}",
        done.status
    );
    let after = common::send(&router, common::pages::page(&url, &cookie)).await;
    assert!(!after.body.contains("Declare this work my own"));
    assert!(after.body.contains("All my own calls"));
    assert!(after.body.contains("Not confirmed"));
    // The centre's administrator registers one learner on the unit from the page: the unit
    // is in the list of what the centre is approved for.
    let east = d
        .app
        .store
        .centres()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Eastfield Sales Academy")
        .unwrap()
        .centre_id;
    let admin = common::pages::demo_cookie(&router, "admin@eastfield.demo").await;
    let new = common::send(
        &router,
        common::pages::page(&format!("/centres/{east}/registrations/new"), &admin),
    )
    .await;
    assert!(
        new.body.contains("<option value=\"H/502/8599\""),
        "the unit is offered"
    );
    let csrf = common::pages::csrf_in(&new.body);
    let posted = common::send(
        &router,
        common::pages::form(
            &format!("/centres/{east}/registrations"),
            &format!("csrf={csrf}&given_name=Zara&family_name=Quinn&date_of_birth=02%2F03%2F1998&uln=&email=&qan=H%2F502%2F8599"),
            Some(&admin),
        ),
    )
    .await;
    assert!(
        posted.status.is_redirection(),
        "{} {}",
        posted.status,
        posted.body.chars().take(400).collect::<String>()
    );
    let zara = d
        .app
        .store
        .registrations_at_centre(east, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.given_name == "Zara")
        .unwrap();
    assert_eq!(zara.qan, UNIT);
    // A unit on its own has its unit's page where a qualification's would be.
    let q = common::send(&router, get("/qualifications/H-502-8599".into())).await;
    assert_eq!(q.status, StatusCode::PERMANENT_REDIRECT);
}

/// A unit achieved on its own counts towards a qualification it belongs to when the same
/// learner registers on that qualification later: credit carried forward.
async fn a_unit_on_its_own_carries_forward_to_its_qualification(url: String) {
    let d = common::demo_centres(&url).await;
    let app = &d.app;
    let isp = common::actor(app, "ao@isp.demo").await;
    // ISP's Level 3 Award in Planning Sales Activities is the one unit D/651/0349.
    let (unit, award) = ("D/651/0349", "610/3797/7");
    for code in [unit, award] {
        app.approve_centre(&isp, d.north, code, "test")
            .await
            .unwrap();
    }
    let admin = common::actor(app, "admin@northgate.demo").await;
    let scope = app.centre_admin_scope(&admin, d.north).await.unwrap();
    let on_unit = format!(
        "given_name,family_name,date_of_birth,uln,unit\nRui,Costa,1990-03-03,9999999998,{unit}\n"
    );
    let out = app
        .register_csv(&scope, on_unit.as_bytes(), false, "test", |_| {})
        .await
        .unwrap();
    assert_eq!(out.registered, 1, "{:?}", out.errors);
    let learner = out.learners[0];
    let reg = app
        .store
        .registrations_of_learner(learner)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(reg.qan, unit);
    for role in ["assessor", "learner"] {
        app.store
            .insert_signature(
                learner,
                unit,
                role,
                admin.person_id,
                "Signed.",
                "sha256:test",
                d.north,
            )
            .await
            .unwrap();
    }
    // Later the learner registers on the Award (the same ULN: the same learner record).
    let on_award = format!(
        "given_name,family_name,date_of_birth,uln,qan\nRui,Costa,1990-03-03,9999999998,{award}\n"
    );
    let out = app
        .register_csv(&scope, on_award.as_bytes(), false, "test", |_| {})
        .await
        .unwrap();
    assert_eq!(out.registered, 1, "{:?}", out.errors);
    assert_eq!(out.learners[0], learner, "one learner record");
    let regs = app.store.registrations_of_learner(learner).await.unwrap();
    assert_eq!(regs.len(), 2);
    let award_reg = regs.iter().find(|r| r.qan == award).unwrap();
    // The unit signed off on its own is what the Award's claim proposes, and the portfolio
    // counts both achieved.
    assert_eq!(
        app.proposed_claim_units(award_reg).await.unwrap(),
        vec![unit.to_string()]
    );
    let p = app.portfolio(&admin, learner).await.unwrap();
    let achieved: Vec<&str> = p.achieved.iter().map(|(c, _)| c.as_str()).collect();
    assert!(
        achieved.contains(&award) && achieved.contains(&unit),
        "{achieved:?}"
    );
}
both_databases!(
    carried_forward,
    a_unit_on_its_own_carries_forward_to_its_qualification
);
