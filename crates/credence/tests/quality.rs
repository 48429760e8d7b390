//! Quality assurance (issue 12) through the use cases, on SQLite and PostgreSQL: the demo's
//! states, an IQA's referral reopening a unit and the gate opening when it is closed, who
//! may not verify, what an EQA sees, an unsatisfactory visit's sanction, direct claim status
//! per qualification, appeals, and claims the rules refuse.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use credence::app::App;
use credence::app::AppError;
use credence::app::quality::sampling::DecisionInput;
use credence_domain::portfolio::Outcome;
use credence_domain::qa::Wait;

use common::DemoCentres as Demo;

async fn demo(url: &str) -> Demo {
    common::demo_centres(url).await
}

use common::actor;

async fn registration_of(app: &App, email: &str) -> credence::store::RegistrationRow {
    let learner = common::learner_of(app, email).await;
    app.store
        .registrations_of_learner(learner)
        .await
        .unwrap()
        .remove(0)
}

async fn unit_of(app: &App, reg: &credence::store::RegistrationRow) -> String {
    let spec = app
        .specification_of_version(reg.catalogue_version_id)
        .await
        .unwrap();
    spec.qualifications
        .iter()
        .find(|q| q.qan == reg.qan)
        .unwrap()
        .units[0]
        .unit
        .clone()
}

fn refer(action: &str) -> Vec<DecisionInput> {
    vec![DecisionInput {
        criterion: None,
        verdict: "refer".into(),
        comments: "Not enough shown.".into(),
        action: action.into(),
        due_on: (chrono::Utc::now().date_naive() + chrono::Duration::days(7))
            .format("%d/%m/%Y")
            .to_string(),
    }]
}

fn message(e: AppError) -> String {
    e.to_string()
}

async fn demo_shows_every_state(url: String) {
    let d = demo(&url).await;
    let admin_n = actor(&d.app, "admin@northgate.demo").await;
    let admin_r = actor(&d.app, "admin@riverside.demo").await;
    let north = d.app.claims(&admin_n, Some(d.north)).await.unwrap();
    let farah = north
        .iter()
        .find(|c| c.learner_name == "Farah Ali")
        .unwrap();
    assert_eq!(farah.status, "released", "{farah:?}");
    let chloe = north
        .iter()
        .find(|c| c.learner_name == "Chloe Davies")
        .unwrap();
    assert_eq!(chloe.status, "held");
    assert!(
        chloe
            .waits
            .iter()
            .any(|w| matches!(w, Wait::ReferredBack { .. })),
        "{:?}",
        chloe.waits
    );
    assert!(
        chloe
            .waits
            .iter()
            .any(|w| matches!(w, Wait::NotSignedOff { .. }))
    );
    let river = d.app.claims(&admin_r, Some(d.river)).await.unwrap();
    assert_eq!(river.len(), 1);
    assert_eq!(river[0].status, "held");
    assert!(
        matches!(river[0].waits.as_slice(), [Wait::FirstEqaVisit]),
        "{:?}",
        river[0].waits
    );
    assert!(river[0].waiting_for[0].contains("first EQA visit"));
    // Riverside's administrator sees nothing of Northgate's claims.
    assert!(matches!(
        d.app.claims(&admin_r, Some(d.north)).await,
        Err(AppError::NotFound(_))
    ));

    // Northgate's plan: Chloe's referred sample, and gaps (Ben's and Farah's work unsampled).
    let irene = actor(&d.app, "iqa@northgate.demo").await;
    let plan = d
        .app
        .qa_plan(&irene, d.north, Some("610/3795/3"))
        .await
        .unwrap();
    let q = &plan.qualifications[0];
    assert!(
        q.samples
            .iter()
            .any(|s| s.status == "referred" && s.learner_name == "Chloe Davies")
    );
    assert!(q.work >= 3, "{}", q.work);
    assert!(
        !q.coverage.assessors.iter().all(|a| a.compliant),
        "{:?}",
        q.coverage.assessors
    );
    // Sam's home shows the referral as his action.
    let sam = actor(&d.app, "sam.assessor@demo").await;
    let actions = d.app.assessor_actions(&sam).await.unwrap();
    assert!(
        actions
            .iter()
            .any(|(s, dec)| s.given_name == "Chloe" && dec.verdict == "refer")
    );
    // Generating the plan closes the gaps and makes every assessor compliant.
    let added = d
        .app
        .generate_qa_plan(&irene, d.north, None, "test")
        .await
        .unwrap();
    assert!(added > 0);
    let plan = d
        .app
        .qa_plan(&irene, d.north, Some("610/3795/3"))
        .await
        .unwrap();
    let q = &plan.qualifications[0];
    assert!(q.coverage.gaps.is_empty(), "{:?}", q.coverage.gaps);
    // Riverside has nothing sampled yet: the plan names the methods, locations and units
    // of its evidence as gaps.
    let sam = actor(&d.app, "sam.assessor@demo").await;
    let river = d.app.qa_plan(&sam, d.river, None).await.unwrap();
    let gaps: Vec<&credence_domain::qa::Gap> = river
        .qualifications
        .iter()
        .flat_map(|q| &q.coverage.gaps)
        .collect();
    use credence_domain::qa::Gap;
    for want in [
        Gap::Method("product_evidence".into()),
        Gap::Method("witness_testimony".into()),
        Gap::Location("real_workplace".into()),
    ] {
        assert!(gaps.contains(&&want), "{want:?} in {gaps:?}");
    }
    assert!(q.coverage.assessors.iter().all(|a| a.compliant));
    // The IQA's queue: every planned sample and the open referral, due first.
    let (page, total) = d.app.iqa_queue_page(&irene).await.unwrap();
    let on_plan = q
        .samples
        .iter()
        .filter(|s| matches!(s.status.as_str(), "planned" | "referred"))
        .count();
    assert_eq!(usize::try_from(total).unwrap(), on_plan);
    assert_eq!(page.len(), on_plan.min(50));
    assert!(page.windows(2).all(|w| w[0].due_on <= w[1].due_on));
    assert!(page.iter().any(|s| s.state == "referred"));
    // A second run adds nothing more.
    let again = d
        .app
        .generate_qa_plan(&irene, d.north, None, "test")
        .await
        .unwrap();
    assert_eq!(again, 0);
    // The audit log still verifies.
    assert!(d.app.verify_audit(None).await.unwrap().is_ok());
}
both_databases!(the_demo_shows_every_state, demo_shows_every_state);

/// A centre's claims page shows 100 claims a page, newest first, with the counts over all of
/// them; a held claim on a later page still says what it waits for; the status chosen is
/// kept from page to page.
async fn the_claims_page_is_paged(url: String) {
    let d = demo(&url).await;
    let admin = actor(&d.app, "admin@northgate.demo").await;
    let before = d.app.claims(&admin, Some(d.north)).await.unwrap();
    let withdrawn_before = before.iter().filter(|c| c.status == "withdrawn").count();
    // 150 withdrawn claims, copies of one of Northgate's, newer than the demo's.
    sqlx::query(
        "insert into claim (registration_id, learner_id, centre_id, ao_code, qan, units, status, claimed_by, claimed_at, kind) \
         with recursive g(n) as (select 1 union all select n + 1 from g where n < 150) \
         select registration_id, learner_id, centre_id, ao_code, qan, units, 'withdrawn', claimed_by, claimed_at, kind \
         from claim cross join g where claim_id = (select min(claim_id) from claim where centre_id = $1)",
    )
    .bind(d.north)
    .execute(d.app.store.pool())
    .await
    .unwrap();
    let total = before.len() + 150;
    let counts = |held: usize, released: usize| {
        format!(
            "{held} held, {released} released, {} withdrawn.",
            withdrawn_before + 150
        )
    };
    let held = before.iter().filter(|c| c.status == "held").count();
    let released = before.iter().filter(|c| c.status == "released").count();
    let router = credence::web::router(d.app.clone());
    let token = common::token_for(&d.app, "admin@northgate.demo").await;
    let base = format!("/centres/{}/claims", d.north);
    let r = common::get(&router, &base, &token).await;
    assert!(r.body.contains(&counts(held, released)), "{}", r.body);
    assert!(
        r.body.contains(&format!(
            "Showing 1 to 100 of {total} claims, newest first."
        )),
        "{}",
        r.body
    );
    assert_eq!(r.body.matches("<tr id=\"claim-").count(), 100);
    assert!(
        r.body
            .contains(&format!("href=\"{base}?page=2\" rel=\"next\""))
    );
    // Chloe's held claim is older than the copies: on the second page, with its waits.
    let r = common::get(&router, &format!("{base}?page=2"), &token).await;
    assert_eq!(r.body.matches("<tr id=\"claim-").count(), total - 100);
    assert!(r.body.contains("Chloe Davies"), "{}", r.body);
    assert!(r.body.contains("claim-waits"), "{}", r.body);
    assert!(r.body.contains(&counts(held, released)));
    // Only withdrawn claims, over two pages, the status kept in the links.
    let r = common::get(&router, &format!("{base}?status=withdrawn&page=2"), &token).await;
    assert_eq!(
        r.body.matches("<tr id=\"claim-").count(),
        withdrawn_before + 150 - 100
    );
    assert!(!r.body.contains("Chloe Davies"));
    assert!(
        r.body.contains(&format!(
            "href=\"{base}?status=withdrawn&#38;page=1\" rel=\"prev\""
        )),
        "{}",
        r.body
    );
    // The API pages the same claims by `limit` and `offset`, with a Link to the next.
    let api = |q: String| {
        let (router, token) = (router.clone(), token.clone());
        async move { common::get(&router, &format!("/api/v1/claims?{q}"), &token).await }
    };
    let whole = api(format!("centre={}", d.north)).await;
    let whole: Vec<serde_json::Value> = serde_json::from_str(&whole.body).unwrap();
    assert_eq!(whole.len(), total);
    let r = api(format!("centre={}&limit=60&offset=60", d.north)).await;
    assert_eq!(r.status, axum::http::StatusCode::OK, "{}", r.body);
    let page: Vec<serde_json::Value> = serde_json::from_str(&r.body).unwrap();
    assert_eq!(page.len(), 60);
    assert_eq!(page[0]["id"], whole[60]["id"]);
    assert_eq!(
        r.headers[axum::http::header::LINK],
        format!(
            "</api/v1/claims?centre={}&limit=60&offset=120>; rel=\"next\"",
            d.north
        )
    );
    let r = api(format!("centre={}&limit=60&offset=120", d.north)).await;
    let rest: Vec<serde_json::Value> = serde_json::from_str(&r.body).unwrap();
    assert_eq!(rest.len(), total - 120);
    assert_eq!(rest.last().unwrap()["id"], whole.last().unwrap()["id"]);
    assert!(!r.headers.contains_key(axum::http::header::LINK));
    for bad in ["limit=0", "limit=1001", "offset=-5"] {
        let r = api(bad.to_string()).await;
        assert_eq!(
            r.status,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
        assert!(r.body.contains("limit must be") || r.body.contains("offset must be"));
    }
}
both_databases!(claims_paged, the_claims_page_is_paged);

async fn referral_reopens_the_unit_and_closing_it_opens_the_gate(url: String) {
    let d = demo(&url).await;
    let irene = actor(&d.app, "iqa@northgate.demo").await;
    let sam = actor(&d.app, "sam.assessor@demo").await;
    let ben = actor(&d.app, "ben.learner@demo").await;
    let admin = actor(&d.app, "admin@northgate.demo").await;
    let reg = registration_of(&d.app, "ben.learner@demo").await;
    let unit = unit_of(&d.app, &reg).await;

    // Selected for sampling: the claim waits for the IQA even though Northgate has DCS.
    let sample = d
        .app
        .add_sample(
            &irene,
            d.north,
            reg.registration_id,
            &unit,
            "summative",
            "first claim of this learner",
            "test",
        )
        .await
        .unwrap();
    let claim = d
        .app
        .make_claim(&admin, reg.registration_id, &[], "test")
        .await
        .unwrap();
    assert_eq!(claim.status, "held");
    assert!(
        matches!(claim.waits.as_slice(), [Wait::AwaitingIqa { .. }]),
        "{:?}",
        claim.waits
    );

    // Deciding before opening is refused; opening keeps a snapshot.
    assert!(
        d.app
            .decide_sample(&irene, sample, &refer("x"), "test")
            .await
            .is_err()
    );
    d.app.open_sample(&irene, sample, "test").await.unwrap();
    let (s, _) = d.app.sample_view(&irene, sample).await.unwrap();
    let snapshot: serde_json::Value = serde_json::from_str(s.snapshot.as_deref().unwrap()).unwrap();
    assert_eq!(snapshot["signed_off"], true);
    assert!(!snapshot["criteria"].as_array().unwrap().is_empty());
    // A referral needs an action and a due date.
    let mut bad = refer("");
    assert!(
        message(
            d.app
                .decide_sample(&irene, sample, &bad, "test")
                .await
                .unwrap_err()
        )
        .contains("Say what the assessor must do")
    );
    bad = refer("Add the call notes");
    bad[0].due_on = "31/02/2020".into();
    assert!(
        d.app
            .decide_sample(&irene, sample, &bad, "test")
            .await
            .is_err()
    );
    let state = d
        .app
        .decide_sample(
            &irene,
            sample,
            &refer("Add the call notes and re-judge 1.1"),
            "test",
        )
        .await
        .unwrap();
    assert_eq!(state, "referred");
    // The snapshot does not change with the portfolio.
    let (after, _) = d.app.sample_view(&irene, sample).await.unwrap();
    assert_eq!(after.snapshot_hash, s.snapshot_hash);

    // The unit reopened: not signed off, decisions open again; its evidence stays locked.
    let p = d.app.portfolio(&sam, reg.learner_id).await.unwrap();
    let u = p.unit(&unit).unwrap();
    assert!(!u.signed_off && u.reopened && u.locked);
    let item = p.evidence[0].evidence_id;
    let refused = d
        .app
        .delete_evidence(&sam, reg.learner_id, item, "test")
        .await
        .unwrap_err();
    assert!(message(refused).contains("supersede"));
    let claims = d.app.claims(&admin, Some(d.north)).await.unwrap();
    let held = claims.iter().find(|c| c.claim == claim.claim).unwrap();
    assert!(
        held.waits
            .iter()
            .any(|w| matches!(w, Wait::ReferredBack { .. }))
    );
    assert!(
        held.waits
            .iter()
            .any(|w| matches!(w, Wait::NotSignedOff { .. }))
    );
    // The assessor sees the action, re-judges and signs again, then the learner.
    assert!(
        d.app
            .assessor_actions(&sam)
            .await
            .unwrap()
            .iter()
            .any(|(s, _)| s.sample_id == sample)
    );
    let criterion = u.progress.per_criterion[0].0.clone();
    d.app
        .judge(
            &sam,
            reg.learner_id,
            &unit,
            &criterion,
            Outcome::Met,
            "Call notes seen.",
            false,
            None,
            "test",
        )
        .await
        .unwrap();
    d.app
        .sign_unit(
            &sam,
            reg.learner_id,
            &unit,
            "Re-judged after IQA referral.",
            None,
            "test",
        )
        .await
        .unwrap();
    d.app
        .sign_unit(&ben, reg.learner_id, &unit, "My own work.", None, "test")
        .await
        .unwrap();
    // Still held: the referral is open until the IQA closes it.
    let claims = d.app.claims(&admin, Some(d.north)).await.unwrap();
    let held = claims.iter().find(|c| c.claim == claim.claim).unwrap();
    assert_eq!(held.status, "held");
    assert!(
        matches!(held.waits.as_slice(), [Wait::ReferredBack { .. }]),
        "{:?}",
        held.waits
    );
    d.app
        .close_referral(&irene, sample, "Notes seen; decision now sound.", "test")
        .await
        .unwrap();
    // The gate opens: the centre has direct claim status for the qualification.
    let claims = d.app.claims(&admin, Some(d.north)).await.unwrap();
    let released = claims.iter().find(|c| c.claim == claim.claim).unwrap();
    assert_eq!(released.status, "released", "{:?}", released.waits);
    // The IQA's decisions are in the audit log, which verifies.
    let log = d.app.store.audit_log().await.unwrap();
    for action in [
        "qa.sample_added",
        "qa.sample_opened",
        "qa.referred",
        "qa.referral_closed",
        "claim.made",
        "claim.released",
    ] {
        assert!(log.iter().any(|e| e.action == action), "{action}");
    }
    assert!(d.app.verify_audit(None).await.unwrap().is_ok());
}
both_databases!(
    a_referral_reopens_the_unit_and_closing_it_opens_the_gate,
    referral_reopens_the_unit_and_closing_it_opens_the_gate
);

async fn no_one_verifies_their_own_decision_or_where_they_declared_an_interest(url: String) {
    let d = demo(&url).await;
    // Sam is Riverside's IQA and assessed Hannah: he may not verify it.
    let sam = actor(&d.app, "sam.assessor@demo").await;
    let reg = registration_of(&d.app, "hannah.learner@demo").await;
    let unit = unit_of(&d.app, &reg).await;
    let sample = d
        .app
        .add_sample(
            &sam,
            d.river,
            reg.registration_id,
            &unit,
            "summative",
            "check",
            "test",
        )
        .await
        .unwrap();
    let refused = message(d.app.open_sample(&sam, sample, "test").await.unwrap_err());
    assert!(
        refused.contains("their own assessment decision"),
        "{refused}"
    );
    // Irene declares an interest in Ben: she may not sample his work.
    let irene = actor(&d.app, "iqa@northgate.demo").await;
    let ben = registration_of(&d.app, "ben.learner@demo").await;
    d.app
        .declare_interest(&irene, ben.learner_id, "relative", "", "test")
        .await
        .unwrap();
    let unit = unit_of(&d.app, &ben).await;
    let sample = d
        .app
        .add_sample(
            &irene,
            d.north,
            ben.registration_id,
            &unit,
            "summative",
            "check",
            "test",
        )
        .await
        .unwrap();
    let refused = message(d.app.open_sample(&irene, sample, "test").await.unwrap_err());
    assert!(refused.contains("declared an interest"), "{refused}");
    // Only an IQA samples: the assessor and the administrator are refused.
    let admin = actor(&d.app, "admin@northgate.demo").await;
    assert!(matches!(
        d.app.generate_qa_plan(&admin, d.north, None, "test").await,
        Err(AppError::Forbidden(_))
    ));
    // Only the lead IQA sets the strategy; the administrator makes Irene lead.
    let strategy = credence_domain::qa::SamplingStrategy::default();
    assert!(matches!(
        d.app
            .set_sampling_strategy(&irene, d.north, "610/3795/3", &strategy, "test")
            .await,
        Err(AppError::Forbidden(_))
    ));
    d.app
        .set_lead_iqa(&admin, d.north, irene.person_id, true, "test")
        .await
        .unwrap();
    let irene = actor(&d.app, "iqa@northgate.demo").await;
    let mut raised = strategy.clone();
    raised.summative_rate = 50;
    d.app
        .set_sampling_strategy(&irene, d.north, "610/3795/3", &raised, "test")
        .await
        .unwrap();
    raised.summative_rate = 150;
    assert!(matches!(
        d.app
            .set_sampling_strategy(&irene, d.north, "610/3795/3", &raised, "test")
            .await,
        Err(AppError::Validation(_))
    ));
    let (now, set) = d
        .app
        .sampling_strategy(d.north, "610/3795/3")
        .await
        .unwrap();
    assert_eq!(now.summative_rate, 50);
    assert!(set.is_some());
}
both_databases!(
    no_one_verifies_their_own_decision_or_with_an_interest,
    no_one_verifies_their_own_decision_or_where_they_declared_an_interest
);

async fn eqa_sees_only_their_centres_and_releases_after_the_first_visit(url: String) {
    let d = demo(&url).await;
    let eqa_n = actor(&d.app, "eqa@isp.demo").await;
    let eqa_r = actor(&d.app, "eqa.riverside@isp.demo").await;
    let ismm = actor(&d.app, "ao@ismm.demo").await;
    // Out of scope: another centre's plan, claims and visits; another AO's registrations.
    assert!(matches!(
        d.app.qa_plan(&eqa_n, d.river, None).await,
        Err(AppError::NotFound(_))
    ));
    assert!(matches!(
        d.app.claims(&eqa_n, Some(d.river)).await,
        Err(AppError::NotFound(_))
    ));
    let ismm_plan = d.app.qa_plan(&ismm, d.north, None).await.unwrap();
    assert!(
        ismm_plan
            .qualifications
            .iter()
            .all(|q| q.qan == "500/3707/9"),
        "{:?}",
        ismm_plan
            .qualifications
            .iter()
            .map(|q| &q.qan)
            .collect::<Vec<_>>()
    );
    let ismm_claims = d.app.claims(&ismm, Some(d.north)).await.unwrap();
    assert!(ismm_claims.is_empty());

    let hannah = d.app.claims(&eqa_r, Some(d.river)).await.unwrap().remove(0);
    assert!(!hannah.releasable_by_eqa);
    let refused = message(
        d.app
            .eqa_release_claim(&eqa_r, hannah.claim, "", "test")
            .await
            .unwrap_err(),
    );
    assert!(refused.contains("first EQA visit"), "{refused}");
    // The Northgate EQA cannot release it or report Riverside's visit.
    assert!(
        d.app
            .eqa_release_claim(&eqa_n, hannah.claim, "", "test")
            .await
            .is_err()
    );
    let visit = d.app.visits(&eqa_r, Some(d.river)).await.unwrap().remove(0);
    let today = chrono::Utc::now()
        .date_naive()
        .format("%d/%m/%Y")
        .to_string();
    let sampled = [(hannah.registration, hannah.units[0].clone())];
    assert!(
        d.app
            .report_visit(
                &eqa_n,
                visit.visit.visit,
                &today,
                "satisfactory",
                "low",
                &sampled,
                "Fine.",
                &[],
                "test"
            )
            .await
            .is_err()
    );
    // A report in the future, or unsatisfactory without actions, is refused.
    assert!(
        d.app
            .report_visit(
                &eqa_r,
                visit.visit.visit,
                "01/01/2099",
                "satisfactory",
                "low",
                &sampled,
                "Fine.",
                &[],
                "test"
            )
            .await
            .is_err()
    );
    assert!(
        d.app
            .report_visit(
                &eqa_r,
                visit.visit.visit,
                &today,
                "unsatisfactory",
                "high",
                &sampled,
                "Poor.",
                &[],
                "test"
            )
            .await
            .is_err()
    );
    d.app
        .report_visit(
            &eqa_r,
            visit.visit.visit,
            &today,
            "satisfactory",
            "medium",
            &sampled,
            "Decisions are sound; IQA sampling needs a second IQA.",
            &[("Appoint a second IQA".into(), "31/12/2026".into())],
            "test",
        )
        .await
        .unwrap();
    // Now the claim waits only for the EQA, who releases it.
    let hannah = d.app.claims(&eqa_r, Some(d.river)).await.unwrap().remove(0);
    assert!(hannah.releasable_by_eqa, "{:?}", hannah.waits);
    assert!(matches!(hannah.waits.as_slice(), [Wait::EqaSampling]));
    d.app
        .eqa_release_claim(&eqa_r, hannah.claim, "Portfolio sampled.", "test")
        .await
        .unwrap();
    let hannah = d.app.claims(&eqa_r, Some(d.river)).await.unwrap().remove(0);
    assert_eq!(hannah.status, "released");
    // The report is written once.
    assert!(
        d.app
            .report_visit(
                &eqa_r,
                visit.visit.visit,
                &today,
                "satisfactory",
                "low",
                &sampled,
                "Again.",
                &[],
                "test"
            )
            .await
            .is_err()
    );
}
both_databases!(
    an_eqa_sees_only_their_centres_and_releases_after_the_first_visit,
    eqa_sees_only_their_centres_and_releases_after_the_first_visit
);

async fn unsatisfactory_visit_withdraws_direct_claim_status_and_holds_claims(url: String) {
    let d = demo(&url).await;
    common::enrol_second_factor(&d.app, "ao@isp.demo").await;
    let ao = actor(&d.app, "ao@isp.demo").await;
    let eqa = actor(&d.app, "eqa@isp.demo").await;
    let admin = actor(&d.app, "admin@northgate.demo").await;
    let visit = d
        .app
        .schedule_visit(&ao, d.north, eqa.person_id, "01/11/2026", "test")
        .await
        .unwrap();
    d.app
        .report_visit(
            &eqa,
            visit,
            "02/11/2026",
            "unsatisfactory",
            "high",
            &[],
            "Assessment decisions were not supported by evidence.",
            &[("Re-assess the L3C1 portfolios".into(), "31/12/2026".into())],
            "test",
        )
        .await
        .unwrap();
    assert!(
        d.app
            .store
            .direct_claims(d.north)
            .await
            .unwrap()
            .iter()
            .all(|g| g.ao_code != "ISP")
    );
    let reg = registration_of(&d.app, "ben.learner@demo").await;
    let claim = d
        .app
        .make_claim(&admin, reg.registration_id, &[], "test")
        .await
        .unwrap();
    assert_eq!(claim.status, "held");
    assert!(
        claim
            .waits
            .iter()
            .any(|w| matches!(w, Wait::Sanction { open_actions: 1 })),
        "{:?}",
        claim.waits
    );
    // The centre answers, the EQA closes: the sanction lifts; without DCS, the EQA samples.
    let v = d.app.visit(&admin, visit).await.unwrap();
    let action = v.actions[0].action;
    assert!(
        d.app.close_action(&eqa, action, "test").await.is_err(),
        "not answered yet"
    );
    d.app
        .respond_action(&admin, action, "All re-assessed.", "test")
        .await
        .unwrap();
    d.app.close_action(&eqa, action, "test").await.unwrap();
    let claims = d.app.claims(&admin, Some(d.north)).await.unwrap();
    let c = claims.iter().find(|c| c.claim == claim.claim).unwrap();
    assert!(
        matches!(c.waits.as_slice(), [Wait::EqaSampling]),
        "{:?}",
        c.waits
    );

    // Direct claim status is per qualification, with a reason, and AO staff only.
    let iqa = actor(&d.app, "iqa@northgate.demo").await;
    assert!(
        d.app
            .set_direct_claim(&iqa, d.north, "610/3795/3", true, "x", "test")
            .await
            .is_err()
    );
    assert!(matches!(
        d.app
            .set_direct_claim(&ao, d.north, "610/3795/3", true, "  ", "test")
            .await,
        Err(AppError::Validation(_))
    ));
    let ismm = actor(&d.app, "ao@ismm.demo").await;
    assert!(
        d.app
            .set_direct_claim(&ismm, d.north, "610/3795/3", true, "mine", "test")
            .await
            .is_err()
    );
    d.app
        .set_direct_claim(
            &ao,
            d.north,
            "610/3795/3",
            true,
            "actions closed; re-sampled",
            "test",
        )
        .await
        .unwrap();
    let grants = d.app.store.direct_claims(d.north).await.unwrap();
    assert_eq!(
        grants.iter().map(|g| g.qan.as_str()).collect::<Vec<_>>(),
        ["610/3795/3"]
    );
    // Granting it released the held claim.
    let claims = d.app.claims(&admin, Some(d.north)).await.unwrap();
    assert_eq!(
        claims
            .iter()
            .find(|c| c.claim == claim.claim)
            .unwrap()
            .status,
        "released"
    );
    let view = d.app.direct_claim_view(&ao, d.north).await.unwrap();
    assert!(view.eligible.is_err(), "the last visit was unsatisfactory");
}
both_databases!(
    an_unsatisfactory_visit_withdraws_direct_claim_status_and_holds_claims,
    unsatisfactory_visit_withdraws_direct_claim_status_and_holds_claims
);

async fn appeals_are_reviewed_by_someone_else_then_the_ao(url: String) {
    let d = demo(&url).await;
    let ben = actor(&d.app, "ben.learner@demo").await;
    let sam = actor(&d.app, "sam.assessor@demo").await;
    let admin = actor(&d.app, "admin@northgate.demo").await;
    let isp = actor(&d.app, "ao@isp.demo").await;
    let reg = registration_of(&d.app, "ben.learner@demo").await;
    let unit = unit_of(&d.app, &reg).await;
    // Nothing to appeal against on a unit never judged; grounds are needed.
    assert!(
        d.app
            .open_appeal(&ben, reg.registration_id, "no-such-unit", None, "x", "test")
            .await
            .is_err()
    );
    assert!(
        d.app
            .open_appeal(&ben, reg.registration_id, &unit, None, " ", "test")
            .await
            .is_err()
    );
    let appeal = d
        .app
        .open_appeal(
            &ben,
            reg.registration_id,
            &unit,
            None,
            "My log was not read in full.",
            "test",
        )
        .await
        .unwrap();
    // A claim is held while it is open.
    let claim = d
        .app
        .make_claim(&admin, reg.registration_id, &[], "test")
        .await
        .unwrap();
    assert!(
        claim
            .waits
            .iter()
            .any(|w| matches!(w, Wait::OpenAppeal { .. })),
        "{:?}",
        claim.waits
    );
    // The assessor whose decision it is may not review it.
    assert!(matches!(
        d.app.review_appeal(&sam, appeal, true, "x", "test").await,
        Err(AppError::Forbidden(_))
    ));
    // Escalating before the centre decides is refused.
    assert!(d.app.escalate_appeal(&ben, appeal, "test").await.is_err());
    d.app
        .review_appeal(
            &admin,
            appeal,
            false,
            "The whole log was read; decision stands.",
            "test",
        )
        .await
        .unwrap();
    d.app.escalate_appeal(&ben, appeal, "test").await.unwrap();
    let ismm = actor(&d.app, "ao@ismm.demo").await;
    assert!(
        d.app
            .decide_appeal(&ismm, appeal, true, "x", "test")
            .await
            .is_err()
    );
    d.app
        .decide_appeal(&isp, appeal, false, "Centre's review was sound.", "test")
        .await
        .unwrap();
    let a = d.app.store.appeal(appeal).await.unwrap().unwrap();
    assert_eq!(a.stage, "closed");
    assert_eq!(a.centre_outcome.as_deref(), Some("not_upheld"));
    assert_eq!(a.ao_outcome.as_deref(), Some("not_upheld"));
    // Closed: the claim is released (Northgate has DCS).
    let claims = d.app.claims(&admin, Some(d.north)).await.unwrap();
    assert_eq!(
        claims
            .iter()
            .find(|c| c.claim == claim.claim)
            .unwrap()
            .status,
        "released"
    );
    // Ben sees his appeal; Riverside's administrator does not.
    assert!(
        d.app
            .appeals(&ben)
            .await
            .unwrap()
            .iter()
            .any(|x| x.appeal_id == appeal)
    );
    let admin_r = actor(&d.app, "admin@riverside.demo").await;
    assert!(
        !d.app
            .appeals(&admin_r)
            .await
            .unwrap()
            .iter()
            .any(|x| x.appeal_id == appeal)
    );
}
both_databases!(
    appeals_are_reviewed_by_someone_else_then_by_the_ao,
    appeals_are_reviewed_by_someone_else_then_the_ao
);

async fn a_claim_the_rules_do_not_meet_is_refused_with_every_reason(url: String) {
    let d = demo(&url).await;
    let admin = actor(&d.app, "admin@northgate.demo").await;
    let reg = registration_of(&d.app, "priya.learner@demo").await;
    let refused = message(
        d.app
            .make_claim(&admin, reg.registration_id, &["L3B1".to_string()], "test")
            .await
            .unwrap_err(),
    );
    assert!(refused.contains("do not meet 610/3788/6"), "{refused}");
    assert!(refused.contains("CORE"), "{refused}");
    assert!(refused.contains("credits"), "{refused}");
    // Another centre's administrator cannot claim for Priya at all.
    let admin_r = actor(&d.app, "admin@riverside.demo").await;
    assert!(matches!(
        d.app
            .make_claim(&admin_r, reg.registration_id, &[], "test")
            .await,
        Err(AppError::NotFound(_))
    ));
    // One open claim per registration.
    let farah = registration_of(&d.app, "farah.learner@demo").await;
    assert!(matches!(
        d.app
            .make_claim(&admin, farah.registration_id, &[], "test")
            .await,
        Err(AppError::Conflict(_))
    ));
}
both_databases!(
    a_claim_the_rules_do_not_meet_is_refused,
    a_claim_the_rules_do_not_meet_is_refused_with_every_reason
);

/// Direct claim status granted per AO before this change carries over to every
/// qualification the centre is approved for with that AO.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_claim_status_migrates_to_each_approved_qualification() {
    let store = credence::store::Store::connect(&common::sqlite_url())
        .await
        .unwrap();
    store.migrate_to(6).await.unwrap();
    let isp = store.insert_person("a@isp.test", "A", None).await.unwrap();
    let centre = store.insert_centre("Old Centre").await.unwrap();
    sqlx::query("insert into awarding_organisation (ao_code, name, created_at) values ('ISP', 'ISP', '2026-01-01T00:00:00.000000Z') on conflict do nothing")
        .execute(store.pool())
        .await
        .ok();
    for qan in ["610/3788/6", "610/3789/8"] {
        store
            .approve_centre(centre, qan, "ISP", Some(isp))
            .await
            .unwrap();
    }
    store
        .set_direct_claim_status(centre, "ISP", true)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let grants = store.direct_claims(centre).await.unwrap();
    assert_eq!(
        grants.iter().map(|g| g.qan.as_str()).collect::<Vec<_>>(),
        ["610/3788/6", "610/3789/8"]
    );
    assert!(grants[0].reason.contains("carried over"));
}
