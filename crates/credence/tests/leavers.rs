//! People come and go (issue 11): a leaver's caseload moves in one step, a role is removed,
//! an account is disabled (sign-in refused at once, sessions and tokens ended), and a
//! registration is put on a break, resumed and withdrawn, each with its confirmation page
//! and audit entry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::pages::{cookie_of, csrf_in, form, page, sign_in};
use common::send;

use common::actor;

async fn a_leaver_hands_over_and_goes(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let admin = actor(&app, "admin@northgate.demo").await;
    let north = admin.grants[0].centre_id.unwrap();
    let sam = app
        .store
        .person_by_email("sam.assessor@demo")
        .await
        .unwrap()
        .unwrap()
        .person_id;
    let before = app.store.caseload_of(sam, north, "assessor").await.unwrap();
    assert!(!before.is_empty(), "Sam assesses learners at Northgate");

    // A new assessor joins, with Sam's competence on record.
    let nia = app
        .create_person(
            "nia@example.test",
            "Nia Assessor",
            Some("a long test password"),
        )
        .await
        .unwrap();
    app.store
        .grant_role(nia, "assessor", None, Some(north), None)
        .await
        .unwrap();
    let record = app.store.competence(sam).await.unwrap().unwrap();
    app.store.set_competence(nia, &record).await.unwrap();

    // Someone who is not an assessor here cannot take the caseload: nothing moves.
    let irene = app
        .store
        .person_by_email("iqa@northgate.demo")
        .await
        .unwrap()
        .unwrap()
        .person_id;
    let refused = app
        .reassign_caseload(&admin, north, sam, irene, "assessor", "t")
        .await
        .unwrap_err();
    assert!(
        refused.to_string().starts_with("Nothing was moved"),
        "{refused}"
    );
    assert_eq!(
        app.store.caseload_of(sam, north, "assessor").await.unwrap(),
        before
    );

    // Through the pages: the administrator opens Sam's page and moves the learners to Nia.
    let admin_cookie =
        cookie_of(&sign_in(&router, "admin@northgate.demo", "credence-demo-2026").await);
    let staff = send(
        &router,
        page(&format!("/centres/{north}/staff/{sam}"), &admin_cookie),
    )
    .await;
    assert_eq!(staff.status, StatusCode::OK, "{}", staff.body);
    assert!(staff.body.contains("Move the learners"));
    assert!(staff.body.contains("Nia Assessor"));
    let csrf = csrf_in(&staff.body);
    // Removing the role before the learners move is refused.
    let early = send(
        &router,
        form(
            &format!("/centres/{north}/staff/{sam}/remove-role"),
            &format!("csrf={csrf}&role=assessor"),
            Some(&admin_cookie),
        ),
    )
    .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.body.contains("move them to someone else first"));
    let moved = send(
        &router,
        form(
            &format!("/centres/{north}/staff/{sam}/reassign"),
            &format!("csrf={csrf}&role=assessor&to={nia}"),
            Some(&admin_cookie),
        ),
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert!(
        app.store
            .caseload_of(sam, north, "assessor")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.store.caseload_of(nia, north, "assessor").await.unwrap(),
        before
    );

    // Now the role goes, after its confirmation page.
    let confirm = send(
        &router,
        page(
            &format!("/centres/{north}/staff/{sam}/remove-role?role=assessor"),
            &admin_cookie,
        ),
    )
    .await;
    assert!(
        confirm.body.contains("Remove Sam Okafor as assessor?"),
        "{}",
        confirm.body
    );
    let removed = send(
        &router,
        form(
            &format!("/centres/{north}/staff/{sam}/remove-role"),
            &format!("csrf={csrf}&role=assessor"),
            Some(&admin_cookie),
        ),
    )
    .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(
        !app.store
            .grants(sam)
            .await
            .unwrap()
            .iter()
            .any(|g| g.role == "assessor" && g.centre_id == Some(north))
    );
    // Sam holds roles at Riverside too: the Northgate administrator cannot disable him.
    let disable_sam = send(
        &router,
        form(
            &format!("/centres/{north}/staff/{sam}/disable"),
            &format!("csrf={csrf}"),
            Some(&admin_cookie),
        ),
    )
    .await;
    assert_eq!(
        disable_sam.status,
        StatusCode::NOT_FOUND,
        "no role left here"
    );

    // Nia leaves: her learners go back to... nobody else is an assessor here, so the
    // administrator disables her once the learners are moved. First she signs in and has a
    // token.
    let nia_cookie = cookie_of(&sign_in(&router, "nia@example.test", "a long test password").await);
    let nia_token = common::token_for(&app, "nia@example.test").await;
    assert_eq!(
        send(&router, page("/home", &nia_cookie)).await.status,
        StatusCode::OK
    );
    let busy = app
        .disable_staff(&admin, north, nia, "t")
        .await
        .unwrap_err();
    assert!(busy.to_string().contains("move them to someone else first"));
    // Give her learners back to a new colleague, then disable her.
    let omar = app
        .create_person(
            "omar@example.test",
            "Omar Assessor",
            Some("a long test password"),
        )
        .await
        .unwrap();
    app.store
        .grant_role(omar, "assessor", None, Some(north), None)
        .await
        .unwrap();
    app.store.set_competence(omar, &record).await.unwrap();
    app.reassign_caseload(&admin, north, nia, omar, "assessor", "t")
        .await
        .unwrap();
    let confirm = send(
        &router,
        page(
            &format!("/centres/{north}/staff/{nia}/disable"),
            &admin_cookie,
        ),
    )
    .await;
    assert!(confirm.body.contains("Disable Nia Assessor"));
    let done = send(
        &router,
        form(
            &format!("/centres/{north}/staff/{nia}/disable"),
            &format!("csrf={csrf}"),
            Some(&admin_cookie),
        ),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    // At once: her session ends, her token stops working, and she cannot sign in.
    assert_ne!(
        send(&router, page("/home", &nia_cookie)).await.status,
        StatusCode::OK
    );
    assert!(
        app.actor_from_api_token(&nia_token)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        sign_in(&router, "nia@example.test", "a long test password")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let log = app.store.audit_entries(Some(north), 100).await.unwrap();
    for action in ["caseload_reassigned", "role_removed", "account_disabled"] {
        assert!(
            log.iter().any(|e| e.action == action),
            "{action} is audited"
        );
    }
}
both_databases!(leavers, a_leaver_hands_over_and_goes);

async fn a_registration_pauses_resumes_and_is_withdrawn(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let priya = common::learner_of(&app, "priya.learner@demo").await;
    let reg = app
        .store
        .registrations_of_learner(priya)
        .await
        .unwrap()
        .remove(0);
    let c = reg.centre_id;
    let r = reg.registration_id;
    let admin = cookie_of(&sign_in(&router, "admin@northgate.demo", "credence-demo-2026").await);
    let learner_page = send(&router, page(&format!("/learners/{priya}"), &admin)).await;
    assert!(learner_page.body.contains("Break in learning"));
    let confirm = send(
        &router,
        page(
            &format!("/centres/{c}/registrations/{r}/status?action=break"),
            &admin,
        ),
    )
    .await;
    assert_eq!(confirm.status, StatusCode::OK);
    let csrf = csrf_in(&confirm.body);
    // A break needs a reason; the form keeps the date typed.
    let no_reason = send(
        &router,
        form(
            &format!("/centres/{c}/registrations/{r}/status"),
            &format!("csrf={csrf}&action=break&effective_on=01%2F12%2F2026&reason="),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("Reason: say why"));
    assert!(no_reason.body.contains("value=\"01/12/2026\""));
    let paused = send(
        &router,
        form(
            &format!("/centres/{c}/registrations/{r}/status"),
            &format!("csrf={csrf}&action=break&effective_on=01%2F12%2F2026&reason=Maternity+leave"),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER, "{}", paused.body);
    let shown = send(&router, page(&format!("/learners/{priya}"), &admin)).await;
    assert!(
        shown
            .body
            .contains("On a break in learning from 1 December 2026: Maternity leave"),
        "{}",
        shown.body
    );
    // A claim waits while the registration is paused.
    let admin_actor = actor(&app, "admin@northgate.demo").await;
    assert!(app.make_claim(&admin_actor, r, &[], "t").await.is_err());
    // Resumed, then withdrawn.
    let resumed = send(
        &router,
        form(
            &format!("/centres/{c}/registrations/{r}/status"),
            &format!("csrf={csrf}&action=resume&effective_on=2026-12-20"),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(resumed.status, StatusCode::SEE_OTHER, "{}", resumed.body);
    let withdrawn = send(
        &router,
        form(
            &format!("/centres/{c}/registrations/{r}/status"),
            &format!(
                "csrf={csrf}&action=withdraw&effective_on=2027-01-05&reason=Left+the+employer"
            ),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    let reg = app.store.registration(r).await.unwrap().unwrap();
    assert_eq!(reg.status.as_str(), "withdrawn");
    // Nothing more is judged under a withdrawn registration.
    let sam = actor(&app, "sam.assessor@demo").await;
    let p = app.portfolio(&sam, priya).await.unwrap();
    assert!(!p.may_assess, "the assessor's forms are gone");
    let unit = &p.units[0];
    let refused = app
        .judge(
            &sam,
            priya,
            &unit.unit.key,
            &unit.progress.per_criterion[0].0,
            credence_domain::portfolio::Outcome::NotYetMet,
            "More please",
            false,
            Some(p.stamp),
            "t",
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("withdrawn"), "{refused}");
    // Nor does the learner add, change or delete evidence: the portfolio is kept as it
    // stands, and the page says why instead of offering the forms.
    let learner = actor(&app, "priya.learner@demo").await;
    let mine = app.portfolio(&learner, priya).await.unwrap();
    assert!(!mine.may_add, "no upload for a withdrawn learner");
    let meta = credence::app::portfolio::EvidenceMeta {
        title: "After leaving".into(),
        date: "2027-01-06".into(),
        kind: "observation_checklist".into(),
        source: "real_workplace".into(),
        file_name: "late.pdf".into(),
        ..Default::default()
    };
    let body = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
        axum::body::Bytes::from_static(b"%PDF-1.4 late"),
    )]);
    let refused = app
        .add_evidence(&learner, priya, &meta, body, "t")
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("no current registration"),
        "{refused}"
    );
    // (Refused before the item is looked up: any id is refused for the same reason.)
    let item = mine.evidence.first().map(|e| e.evidence_id).unwrap_or(1);
    let refused = app
        .delete_evidence(&learner, priya, item, "t")
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("withdrawn"), "{refused}");
    let priya_cookie =
        cookie_of(&sign_in(&router, "priya.learner@demo", "credence-demo-2026").await);
    let portfolio = send(
        &router,
        page(&format!("/learners/{priya}/portfolio"), &priya_cookie),
    )
    .await;
    assert_eq!(portfolio.status, StatusCode::OK);
    assert!(portfolio.body.contains("no current registration"));
    assert!(!portfolio.body.contains("Add evidence</a>"));
    // Nor is the plan changed: it stays as it stood at the withdrawal.
    let qan = reg.qan.to_string();
    let refused = app
        .choose_plan(&learner, priya, &qan, &[], None, "t")
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("was withdrawn"), "{refused}");
    let upload_page = send(
        &router,
        page(&format!("/learners/{priya}/evidence/new"), &priya_cookie),
    )
    .await;
    assert_eq!(upload_page.status, StatusCode::CONFLICT);
    assert!(upload_page.body.contains("no current registration"));
    let events = app.store.registration_events(r).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["break", "resumed", "withdrawn"]);
    assert_eq!(events[2].effective_on, "2027-01-05");
    // Nothing more: a withdrawn registration is not resumed.
    let again = send(
        &router,
        form(
            &format!("/centres/{c}/registrations/{r}/status"),
            &format!("csrf={csrf}&action=resume&effective_on=2027-01-06"),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    // Another centre's administrator cannot touch it.
    let river = cookie_of(&sign_in(&router, "admin@riverside.demo", "credence-demo-2026").await);
    let other = send(
        &router,
        page(
            &format!("/centres/{c}/registrations/{r}/status?action=break"),
            &river,
        ),
    )
    .await;
    assert!(matches!(
        other.status,
        StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
    ));
}
both_databases!(
    registration_status,
    a_registration_pauses_resumes_and_is_withdrawn
);

async fn an_ao_manages_its_staff_and_eqas(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let victor = app
        .store
        .person_by_email("eqa.riverside@isp.demo")
        .await
        .unwrap()
        .unwrap()
        .person_id;
    let isp = cookie_of(&sign_in(&router, "ao@isp.demo", "credence-demo-2026").await);
    let list = send(&router, page("/people", &isp)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains(&format!("/people/{victor}")));
    // Another AO's staff see none of ISP's people.
    let ocr = cookie_of(&sign_in(&router, "ao@ocr.demo", "credence-demo-2026").await);
    let theirs = send(&router, page(&format!("/people/{victor}"), &ocr)).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    // A learner is refused the page.
    let learner = cookie_of(&sign_in(&router, "priya.learner@demo", "credence-demo-2026").await);
    assert_ne!(
        send(&router, page("/people", &learner)).await.status,
        StatusCode::OK
    );

    let person = send(&router, page(&format!("/people/{victor}"), &isp)).await;
    let csrf = csrf_in(&person.body);
    let confirm = send(
        &router,
        page(&format!("/people/{victor}/remove-role?role=eqa"), &isp),
    )
    .await;
    assert!(confirm.body.contains("appointments to centres end"));
    let victor_cookie =
        cookie_of(&sign_in(&router, "eqa.riverside@isp.demo", "credence-demo-2026").await);
    let removed = send(
        &router,
        form(
            &format!("/people/{victor}/remove-role"),
            &format!("csrf={csrf}&role=eqa"),
            Some(&isp),
        ),
    )
    .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert!(
        app.store.eqa_centres(victor).await.unwrap().is_empty(),
        "appointments end"
    );
    assert!(app.store.grants(victor).await.unwrap().is_empty());
    // With no role left for ISP he is no longer ISP's to manage; the operator disables him.
    let operator = app.operator(None).await.unwrap();
    app.set_account_disabled(&operator, "eqa.riverside@isp.demo", true)
        .await
        .unwrap();
    assert_ne!(
        send(&router, page("/home", &victor_cookie)).await.status,
        StatusCode::OK
    );

    // ISP's staff cannot remove their own staff role.
    let me = app
        .store
        .person_by_email("ao@isp.demo")
        .await
        .unwrap()
        .unwrap()
        .person_id;
    let own = send(
        &router,
        form(
            &format!("/people/{me}/remove-role"),
            &format!("csrf={csrf}&role=ao_staff"),
            Some(&isp),
        ),
    )
    .await;
    assert_eq!(own.status, StatusCode::CONFLICT);
    let log = app.store.audit_entries(None, 200).await.unwrap();
    assert!(log.iter().any(|e| e.action == "role_removed"));
    assert!(log.iter().any(|e| e.action == "account_disabled"));
}
both_databases!(ao_people, an_ao_manages_its_staff_and_eqas);
