//! Records retention (issue 16): the disposal run ages the demo past its retention (the day
//! is an argument) and disposes of what is due, on SQLite and PostgreSQL, with evidence in a
//! folder and on S3 (Garage): the files are gone from the store, each disposal record is in
//! a verified audit log naming its run and rule, the certificate still verifies, a held
//! learner is untouched, a dry run changes nothing and a second run does nothing. The daily
//! job is queued once a day whichever server schedules it; the pages show what falls due
//! and let AO staff place and lift holds, and no one else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use chrono::{Days, Months, NaiveDate};
use common::pages::{csrf_in, demo_cookie, form, page};
use common::{learner_of, send};
use credence::app::App;
use credence::app::retention::RetentionState;
use credence_domain::records::HoldOn;

/// Kwame's OCR unit certificate, from the demo.
const KWAME_CERTIFICATE: &str = "OCR-2026-0000001-F";

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A day safely past the retention of everything the demo completed today.
fn aged() -> NaiveDate {
    today()
        .checked_add_months(Months::new(36))
        .and_then(|d| d.checked_add_days(Days::new(10)))
        .unwrap()
}

async fn evidence_keys(app: &App, learner: i64) -> Vec<String> {
    app.store
        .evidence_of_learner(learner)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.object_key)
        .collect()
}

type WorkKey = (i64, i64, String, i64, String, String);

/// What sampling plans read (`unit_work`, kept as decisions are recorded) against the same
/// grouped from every decision: they must agree at every step.
async fn plan_summary_matches_the_decisions(app: &App) -> Vec<WorkKey> {
    let kept: Vec<WorkKey> = sqlx::query_as(
        "select centre_id, learner_id, unit_key, assessor_id, first_at, last_at from unit_work \
         order by centre_id, learner_id, unit_key, assessor_id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    let grouped: Vec<WorkKey> = sqlx::query_as(
        "select centre_id, learner_id, unit_key, assessor_id, min(at), max(at) from judgement \
         group by centre_id, learner_id, unit_key, assessor_id \
         order by centre_id, learner_id, unit_key, assessor_id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(kept, grouped, "the plan's summary is the decisions'");
    kept
}

async fn disposal_ages_the_demo(app: App) {
    let work = plan_summary_matches_the_decisions(&app).await;
    let kwame = learner_of(&app, "kwame.learner@demo").await;
    let farah = learner_of(&app, "farah.learner@demo").await;
    let kwame_files = evidence_keys(&app, kwame).await;
    let farah_files = evidence_keys(&app, farah).await;
    assert!(!kwame_files.is_empty() && !farah_files.is_empty());
    for k in kwame_files.iter().chain(&farah_files) {
        assert!(app.evidence.size(k).await.unwrap().is_some(), "{k} stored");
    }
    let operator = app.operator(None).await.unwrap();

    // Today nothing is due: the demo's certificates were issued today.
    let now = app.retention_run(&operator, today(), false).await.unwrap();
    assert!(now.disposed.is_empty() && now.run.is_none());

    // Farah is under a legal hold (an appeal).
    app.place_legal_hold(&operator, HoldOn::Learner(farah), "appeal to Ofqual")
        .await
        .unwrap();

    // A dry run three years on says exactly what would go, and changes nothing.
    let audit_before = app.store.audit_entries(None, 100_000).await.unwrap().len();
    let dry = app.retention_run(&operator, aged(), true).await.unwrap();
    assert!(dry.dry_run && dry.run.is_none());
    let line = dry
        .disposed
        .iter()
        .find(|l| l.learner_id == kwame)
        .expect("Kwame's records would go");
    assert_eq!(line.state, RetentionState::Due);
    assert_eq!(line.files, i64::try_from(kwame_files.len()).unwrap());
    assert_eq!(line.completed_on.as_deref(), Some(&*today().to_string()));
    assert!(dry.disposed.iter().all(|l| l.learner_id != farah));
    let held = dry
        .held
        .iter()
        .find(|l| l.learner_id == farah)
        .expect("Farah's records are held");
    assert_eq!(held.hold_reason.as_deref(), Some("appeal to Ofqual"));
    assert_eq!(
        app.store.audit_entries(None, 100_000).await.unwrap().len(),
        audit_before,
        "a dry run writes nothing"
    );
    for k in &kwame_files {
        assert!(app.evidence.size(k).await.unwrap().is_some());
    }

    // The run disposes of Kwame's records and files.
    let run = app.retention_run(&operator, aged(), false).await.unwrap();
    let run_id = run.run.expect("the run is recorded");
    assert!(run.disposed.iter().any(|l| l.learner_id == kwame));
    assert_eq!(
        run.files_removed,
        run.disposed.iter().map(|l| l.files).sum::<i64>()
    );
    assert_eq!(run.files_left, 0);
    for k in &kwame_files {
        assert_eq!(app.evidence.size(k).await.unwrap(), None, "{k} removed");
    }
    assert!(evidence_keys(&app, kwame).await.is_empty());
    let kwame_centre = line.centre_id;
    assert_eq!(app.store.records_at(kwame, kwame_centre).await.unwrap(), 0);
    // The sampling plan's summary of Kwame's work went with the decisions.
    assert!(work.iter().any(|w| w.1 == kwame), "Kwame was judged");
    let work = plan_summary_matches_the_decisions(&app).await;
    assert!(work.iter().all(|w| w.1 != kwame || w.0 != kwame_centre));

    // Farah, held, is untouched.
    assert_eq!(evidence_keys(&app, farah).await, farah_files);
    for k in &farah_files {
        assert!(app.evidence.size(k).await.unwrap().is_some());
    }

    // Each disposal is a record in the log: what, whose, when, under which rule, which run.
    let entries = app.store.audit_entries(None, 100_000).await.unwrap();
    let disposal = entries
        .iter()
        .find(|e| e.action == "records.disposed" && e.learner_id == Some(kwame))
        .expect("Kwame's disposal is recorded");
    assert_eq!(disposal.centre_id, Some(kwame_centre));
    let detail: serde_json::Value = serde_json::from_str(&disposal.detail).unwrap();
    assert_eq!(detail["run"], serde_json::json!(run_id));
    assert!(detail["rule"].as_str().unwrap().contains("3 years"));
    assert_eq!(
        detail["completed_on"],
        serde_json::json!(today().to_string())
    );
    assert!(
        detail["removed"]["evidence"].as_u64().unwrap() >= 2,
        "{detail}"
    );
    assert!(!disposal.detail.contains("Kwame"), "ids only in the log");
    assert!(
        entries
            .iter()
            .all(|e| e.learner_id != Some(farah) || e.action != "records.disposed")
    );
    assert!(
        entries
            .iter()
            .any(|e| e.action == "records.retention_run_finished")
    );
    assert!(
        app.verify_audit(None).await.unwrap().is_ok(),
        "the chain verifies"
    );

    // The certificate register keeps the certificate: it still verifies.
    let v = app.verify_certificate(KWAME_CERTIFICATE).await.unwrap();
    assert_eq!(v.status, "valid");
    assert!(v.learner_name.contains("Kwame"));

    // The run is listed; a second run does nothing at all.
    let runs = app.store.retention_runs(5).await.unwrap();
    assert_eq!(runs[0].retention_run_id, run_id);
    assert_eq!(runs[0].disposed, i64::try_from(run.disposed.len()).unwrap());
    let audit_after = entries.len();
    let again = app.retention_run(&operator, aged(), false).await.unwrap();
    assert!(again.disposed.is_empty() && again.run.is_none());
    assert!(again.held.iter().any(|l| l.learner_id == farah));
    assert_eq!(
        app.store.audit_entries(None, 100_000).await.unwrap().len(),
        audit_after
    );

    // Lifted, Farah's records go at the next run.
    let hold = app.store.holds_in_force().await.unwrap()[0].legal_hold_id;
    app.lift_legal_hold(&operator, hold).await.unwrap();
    let after = app.retention_run(&operator, aged(), false).await.unwrap();
    assert!(after.disposed.iter().any(|l| l.learner_id == farah));
    for k in &farah_files {
        assert_eq!(app.evidence.size(k).await.unwrap(), None);
    }
    assert!(app.verify_audit(None).await.unwrap().is_ok());
}

async fn disposal_on(url: String) {
    let d = common::demo_centres(&url).await;
    disposal_ages_the_demo(d.app).await;
}
both_databases!(disposal, disposal_on);

/// The same, with the evidence on S3 (Garage on loopback).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disposal_removes_files_from_s3() {
    let Some(garage) = tokio::task::spawn_blocking(common::garage::start)
        .await
        .unwrap()
    else {
        return;
    };
    let store = garage.evidence_store();
    let base = common::app_on(&common::sqlite_url()).await;
    let app = App::new(base.store.clone(), store);
    common::demo(&app).await;
    disposal_ages_the_demo(app).await;
}

/// The daily run goes on the queue once a day, whichever server schedules it, and the
/// worker runs it.
async fn daily_job(url: String) {
    let d = common::demo_centres(&url).await;
    let app = d.app;
    let other = App::new(app.store.clone(), app.evidence.clone());
    let (a, b) = tokio::join!(
        app.schedule_retention(today()),
        other.schedule_retention(today())
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|q| **q).count(),
        1,
        "queued once"
    );
    assert!(!app.schedule_retention(today()).await.unwrap());
    let ran = app.run_due_jobs("w").await.unwrap();
    let retention: Vec<_> = app
        .jobs(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "retention")
        .collect();
    assert_eq!(retention.len(), 1);
    assert_eq!(retention[0].status, "done");
    assert!(ran.iter().any(|(id, _)| *id == retention[0].job_id));
}
both_databases!(daily, daily_job);

/// AO staff see their centres' records falling due and place and lift holds from pages; a
/// centre administrator sees their centre's; a learner is refused.
async fn pages(url: String) {
    let d = common::demo_centres(&url).await;
    let app = d.app;
    let router = credence::web::router(app.clone());
    let farah = learner_of(&app, "farah.learner@demo").await;

    let ao = demo_cookie(&router, "ao@isp.demo").await;
    let r = send(&router, page("/records?within=365", &ao)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Records retention"));
    assert!(r.body.contains("No legal hold is in force"));
    // Nothing falls due within a year of a certificate issued today.
    assert!(
        r.body
            .contains("Nothing is due or falls due within 365 days")
    );

    // Place a hold on Farah by ULN; a problem keeps what was typed.
    let r = send(&router, page("/records/holds/new", &ao)).await;
    assert_eq!(r.status, StatusCode::OK);
    let csrf = csrf_in(&r.body);
    let r = send(
        &router,
        form(
            "/records/holds/new",
            &format!("csrf={csrf}&on=learner&learner=1000000906&reason="),
            Some(&ao),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("There is a problem"));
    assert!(r.body.contains("value=\"1000000906\""));
    let r = send(
        &router,
        form(
            "/records/holds/new",
            &format!("csrf={csrf}&on=learner&learner=1000000906&reason=Appeal+A-17"),
            Some(&ao),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let holds = app.store.holds_in_force().await.unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].learner_id, Some(farah));
    let hold = holds[0].legal_hold_id;
    let r = send(&router, page("/records?placed=1", &ao)).await;
    assert!(r.body.contains("Appeal A-17"));
    assert!(r.body.contains(&format!("/records/holds/{hold}/lift")));

    // Northgate's administrator sees the hold on their learner, and may not lift it.
    let admin = demo_cookie(&router, "admin@northgate.demo").await;
    let r = send(
        &router,
        page(&format!("/centres/{}/records", d.north), &admin),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Appeal A-17"));
    assert!(!r.body.contains("/lift"));
    let r = send(&router, page("/records", &admin)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        &router,
        page(&format!("/centres/{}/records", d.river), &admin),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // OCR's staff do not reach ISP's learner's hold.
    let ocr = demo_cookie(&router, "ao@ocr.demo").await;
    let r = send(&router, page(&format!("/records/holds/{hold}/lift"), &ocr)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A learner is refused.
    let learner = demo_cookie(&router, "farah.learner@demo").await;
    let r = send(&router, page("/records", &learner)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Lifting asks first, then lifts.
    let r = send(&router, page(&format!("/records/holds/{hold}/lift"), &ao)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("cannot be recovered"));
    let csrf = csrf_in(&r.body);
    let r = send(
        &router,
        form(
            &format!("/records/holds/{hold}/lift"),
            &format!("csrf={csrf}"),
            Some(&ao),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.store.holds_in_force().await.unwrap().is_empty());

    // The API answers what falls due, as the page does.
    let token = common::token_for(&app, "ao@isp.demo").await;
    let r = common::get(&router, "/api/v1/records/retention?within=2000", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let lines = v["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l["learner_id"] == farah && l["state"] == "falls_due")
    );
    assert!(
        lines
            .iter()
            .all(|l| l["centre_name"] != "Eastfield Sales Academy"),
        "only ISP's centres"
    );
}
both_databases!(retention_pages, pages);
