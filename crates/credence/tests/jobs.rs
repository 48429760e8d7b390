//! The job queue and email (issue 11): invitations and password resets reach a real SMTP
//! server on loopback through the queue; a job exists exactly when its change committed; a
//! recorded send is never repeated; failures back off and end on the dead-letter list; two
//! workers never run one job twice; a hung mail server never holds up a request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::pages::{cookie_of, csrf_in, form, page, sign_in};
use common::{send, smtp};
use credence::app::App;
use credence::app::jobs::Ran;
use credence::mail::Mailer;
use std::sync::Arc;
use std::time::Duration;

fn mail_through(app: &mut App, url: &str, timeout: Duration) {
    app.mailer = Arc::new(
        Mailer::new(
            Some(url),
            "Credence <no-reply@credence.test>",
            common::temp_dir("outbox"),
            timeout,
        )
        .unwrap(),
    );
}

async fn count_jobs(app: &App) -> usize {
    app.jobs(None, 1000).await.unwrap().len()
}

/// A centre administrator invites a registered learner; the email goes through the queue to
/// a real SMTP server; the learner follows its link, chooses a password and sees their own
/// portfolio, and nobody else's.
async fn a_learner_is_invited_by_email(url: String) {
    let server = smtp::start();
    let mut app = common::app_on(&url).await;
    common::demo(&app).await;
    // The demo's own emails (its referral, its feedback) go to a folder first.
    app.mailer = Arc::new(Mailer::folder(common::temp_dir("demo-outbox")));
    app.run_due_jobs("demo").await.unwrap();
    mail_through(&mut app, &server.url(), Duration::from_secs(10));
    app.public_url = "http://credence.test".into();
    let router = credence::web::router(app.clone());
    let admin = cookie_of(&sign_in(&router, "admin@northgate.demo", "credence-demo-2026").await);
    // A Northgate learner without a sign-in (the demo's registrations include some).
    let north = app
        .store
        .centres()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name.starts_with("Northgate"))
        .unwrap()
        .centre_id;
    let mut learner = None;
    for r in app
        .store
        .registrations_at_centre(north, 1000)
        .await
        .unwrap()
    {
        if !app.store.learner_has_sign_in(r.learner_id).await.unwrap() {
            learner = Some(r.learner_id);
            break;
        }
    }
    let learner = learner.expect("a demo learner without a sign-in");
    let learner_page = send(&router, page(&format!("/learners/{learner}"), &admin)).await;
    assert!(
        learner_page.body.contains("Send an invitation to sign in"),
        "the administrator is offered the invitation"
    );
    let csrf = csrf_in(&learner_page.body);
    let before = count_jobs(&app).await;
    let r = send(
        &router,
        form(
            &format!("/centres/{north}/learners/{learner}/invitation"),
            &format!("csrf={csrf}&email=new.learner%40example.test"),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        count_jobs(&app).await,
        before + 1,
        "one email job, queued with the invitation"
    );
    // Nothing is sent by the request itself: the worker sends.
    assert!(server.messages().is_empty());
    let ran = app.run_due_jobs("test-worker").await.unwrap();
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].1, Ran::Done);
    let messages = server.wait_for(1);
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert!(m.contains("To: new.learner@example.test"), "{m}");
    assert!(m.contains("Subject: Your invitation to Credence"), "{m}");
    let link = smtp::link_in(m, "http://credence.test/invitations/").expect("the link");
    let path = link.trim_start_matches("http://credence.test");
    // The record of the job keeps no address and no link once sent.
    let job = &app.jobs(Some("done"), 1).await.unwrap()[0];
    assert!(!job.payload.contains("example.test") && !job.payload.contains("invitations/"));
    // The learner accepts and is signed in as that learner.
    let ok = send(&router, form(path, "password=a+long+enough+password", None)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let me = cookie_of(&ok);
    let own = send(
        &router,
        page(&format!("/learners/{learner}/portfolio"), &me),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "their own portfolio");
    let other = common::learner_of(&app, "priya.learner@demo").await;
    if other != learner {
        let theirs = send(&router, page(&format!("/learners/{other}/portfolio"), &me)).await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND, "nobody else's");
    }
    // The administrator is not offered a second invitation, and one is refused.
    let learner_page = send(&router, page(&format!("/learners/{learner}"), &admin)).await;
    assert!(learner_page.body.contains("can sign in"));
    let again = send(
        &router,
        form(
            &format!("/centres/{north}/learners/{learner}/invitation"),
            &format!("csrf={csrf}&email=new.learner%40example.test"),
            Some(&admin),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    // Another centre's administrator cannot invite this learner.
    let river_admin =
        cookie_of(&sign_in(&router, "admin@riverside.demo", "credence-demo-2026").await);
    let river_page = send(&router, page("/home", &river_admin)).await;
    let r = send(
        &router,
        form(
            &format!("/centres/{north}/learners/{learner}/invitation"),
            &format!("csrf={}&email=x%40example.test", csrf_in(&river_page.body)),
            Some(&river_admin),
        ),
    )
    .await;
    assert!(
        r.status == StatusCode::NOT_FOUND || r.status == StatusCode::FORBIDDEN,
        "{}",
        r.status
    );
}
both_databases!(learner_invitation, a_learner_is_invited_by_email);

/// A job is written in the transaction of the change that causes it: a change that fails
/// leaves no job.
async fn no_job_without_its_change(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let before = count_jobs(&app).await;
    // An invitation to a centre that does not exist: the insert fails on its foreign key.
    let job = credence::app::jobs::email_job("x@example.test", "Never", "never".into());
    let failed = app
        .store
        .queueing(vec![job.clone()])
        .create_invitation(
            "hash-that-fails",
            "x@example.test",
            "X",
            "assessor",
            None,
            Some(999_999),
            None,
            1,
            "2099-01-01T00:00:00Z",
        )
        .await;
    assert!(failed.is_err());
    assert_eq!(
        count_jobs(&app).await,
        before,
        "no job for a change that rolled back"
    );
    // And one that commits brings its job.
    let north = app.store.centres().await.unwrap()[0].centre_id;
    app.store
        .queueing(vec![job])
        .create_invitation(
            "hash-that-commits",
            "x@example.test",
            "X",
            "assessor",
            None,
            Some(north),
            None,
            1,
            "2099-01-01T00:00:00Z",
        )
        .await
        .unwrap();
    assert_eq!(count_jobs(&app).await, before + 1);
}
both_databases!(outbox, no_job_without_its_change);

/// Without SMTP an email is written to the outbox folder, whole; a send that is recorded is
/// not repeated when the job runs again.
async fn a_recorded_send_is_not_repeated(url: String) {
    let mut app = common::app_on(&url).await;
    let outbox = common::temp_dir("outbox");
    app.mailer = Arc::new(Mailer::folder(outbox.clone()));
    let id = app
        .store
        .queue_job(&credence::app::jobs::email_job(
            "someone@example.test",
            "Hello",
            "Body".into(),
        ))
        .await
        .unwrap();
    let ran = app.run_due_jobs("w").await.unwrap();
    assert_eq!(ran, vec![(id, Ran::Done)]);
    let files: Vec<_> = std::fs::read_dir(&outbox).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(eml.contains("Subject: Hello") && eml.contains("someone@example.test"));
    // A worker that crashed after sending but before finishing leaves the job to be run
    // again: put it back as a lapsed lease would.
    sqlx::query("update job set status = 'running', locked_until = '2000-01-01T00:00:00.000000Z', locked_by = 'gone' where job_id = $1")
        .bind(id)
        .execute(app.store.pool())
        .await
        .unwrap();
    let ran = app.run_due_jobs("w2").await.unwrap();
    assert_eq!(ran.len(), 1);
    assert!(matches!(&ran[0].1, Ran::Skipped(why) if why.contains("already sent")));
    assert_eq!(
        std::fs::read_dir(&outbox).unwrap().count(),
        1,
        "not sent twice"
    );
}
both_databases!(sent_once, a_recorded_send_is_not_repeated);

/// A mail server that refuses connections: the job is retried later, with backoff, and after
/// its last attempt waits on the dead-letter list until an operator retries it (audited).
async fn failures_back_off_then_wait_for_an_operator(url: String) {
    let mut app = common::app_on(&url).await;
    common::demo(&app).await;
    let closed = smtp::free_port();
    mail_through(
        &mut app,
        &format!("smtp://127.0.0.1:{closed}"),
        Duration::from_secs(2),
    );
    let id = app
        .store
        .queue_job(&credence::app::jobs::email_job(
            "someone@example.test",
            "Hello",
            "Body".into(),
        ))
        .await
        .unwrap();
    let ran = app.run_due_jobs("w").await.unwrap();
    assert!(matches!(&ran[0].1, Ran::Retry(_)), "{ran:?}");
    let job = app.store.job(id).await.unwrap().unwrap();
    assert_eq!(job.status, "queued");
    assert!(
        job.run_after > credence::store::now(),
        "it waits before the next try"
    );
    assert!(job.last_error.is_some());
    // Not due yet: nothing runs.
    assert!(app.run_due_jobs("w").await.unwrap().is_empty());
    // Its last attempt: make it due with one try left.
    sqlx::query("update job set run_after = '2000-01-01T00:00:00.000000Z', attempts = max_attempts - 1 where job_id = $1")
        .bind(id)
        .execute(app.store.pool())
        .await
        .unwrap();
    let ran = app.run_due_jobs("w").await.unwrap();
    assert!(matches!(&ran[0].1, Ran::Dead(_)), "{ran:?}");
    let dead = app.jobs(Some("dead"), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    // An operator retries it; the retry is in the audit log.
    let operator = app.operator(None).await.unwrap();
    app.retry_job(&operator, id).await.unwrap();
    assert_eq!(app.store.job(id).await.unwrap().unwrap().status, "queued");
    assert!(
        app.retry_job(&operator, id).await.is_err(),
        "only dead jobs"
    );
    let entries = app.store.audit_entries(None, 1000).await.unwrap();
    assert!(entries.iter().any(|e| e.action == "job_retried"));
}
both_databases!(dead_letters, failures_back_off_then_wait_for_an_operator);

/// Two workers draining one queue at once run each job exactly once.
async fn two_workers_never_share_a_job(url: String) {
    let mut app = common::app_on(&url).await;
    let outbox = common::temp_dir("outbox");
    app.mailer = Arc::new(Mailer::folder(outbox.clone()));
    for n in 0..40 {
        app.store
            .queue_job(&credence::app::jobs::email_job(
                "someone@example.test",
                &format!("Message {n}"),
                "Body".into(),
            ))
            .await
            .unwrap();
    }
    let (a, b) = tokio::join!(app.run_due_jobs("a"), app.run_due_jobs("b"));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 40, "every job ran once");
    let mut ids: Vec<i64> = a.iter().chain(&b).map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40, "no job ran twice");
    assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 40);
    let (sent,): (i64,) = sqlx::query_as("select count(*) from email_sent")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(sent, 40);
}
both_databases!(two_workers, two_workers_never_share_a_job);

/// A mail server that accepts the connection and never answers: the request that queues the
/// email is not held up, and the worker gives up on the send after its timeout and retries
/// later.
async fn a_hung_mail_server_holds_up_no_request(url: String) {
    let (_listener, port) = smtp::hanging();
    let mut app = common::app_on(&url).await;
    common::demo(&app).await;
    mail_through(
        &mut app,
        &format!("smtp://127.0.0.1:{port}"),
        Duration::from_secs(2),
    );
    // A worker runs in the background, as inside `credence serve`.
    let worker = {
        let app = app.clone();
        tokio::spawn(async move { app.work("bg".into(), std::future::pending()).await })
    };
    let router = credence::web::router(app.clone());
    for _ in 0..3 {
        let r = tokio::time::timeout(
            Duration::from_secs(5),
            send(
                &router,
                form("/password-reset", "email=priya.learner%40demo", None),
            ),
        )
        .await
        .expect("the request answers while the mail server hangs");
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("we have emailed it a link"));
    }
    // The worker's send times out and the job goes back on the queue with the error.
    let mut failed = false;
    for _ in 0..100 {
        let jobs = app.jobs(None, 10).await.unwrap();
        if jobs
            .iter()
            .any(|j| j.status == "queued" && j.last_error.is_some())
        {
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.abort();
    assert!(failed, "the send timed out and will be retried");
}
both_databases!(hung_mail_server, a_hung_mail_server_holds_up_no_request);

/// Password reset by email: the answer never tells whether an account exists; the link sets
/// a new password once, and signs the account out everywhere.
async fn a_password_is_reset_by_email(url: String) {
    let mut app = common::app_on(&url).await;
    common::demo(&app).await;
    // The demo's own emails go elsewhere first.
    app.mailer = Arc::new(Mailer::folder(common::temp_dir("demo-outbox")));
    app.run_due_jobs("demo").await.unwrap();
    let outbox = common::temp_dir("outbox");
    app.mailer = Arc::new(Mailer::folder(outbox.clone()));
    app.public_url = "http://credence.test".into();
    let router = credence::web::router(app.clone());
    let old_session =
        cookie_of(&sign_in(&router, "iqa@northgate.demo", "credence-demo-2026").await);
    let before = count_jobs(&app).await;
    let nobody = send(
        &router,
        form("/password-reset", "email=nobody%40example.test", None),
    )
    .await;
    assert_eq!(nobody.status, StatusCode::OK);
    assert_eq!(
        count_jobs(&app).await,
        before,
        "no email for an address with no account"
    );
    let r = send(
        &router,
        form("/password-reset", "email=iqa%40northgate.demo", None),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // The same words either way.
    assert_eq!(
        nobody.body.replace("nobody@example.test", "X"),
        r.body.replace("iqa@northgate.demo", "X")
    );
    app.run_due_jobs("w").await.unwrap();
    let file = std::fs::read_dir(&outbox)
        .unwrap()
        .flatten()
        .next()
        .unwrap();
    let eml = std::fs::read_to_string(file.path()).unwrap();
    let link = smtp::link_in(&eml, "http://credence.test/password-reset/").unwrap();
    let path = link.trim_start_matches("http://credence.test").to_string();
    assert_eq!(
        send(&router, page(&path, "x=y")).await.status,
        StatusCode::OK
    );
    let short = send(&router, form(&path, "password=short", None)).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("New password"));
    let ok = send(&router, form(&path, "password=a+brand+new+password", None)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    // Signed out everywhere; the old password no longer works; the new one does.
    let home = send(&router, page("/home", &old_session)).await;
    assert_ne!(home.status, StatusCode::OK);
    assert_eq!(
        sign_in(&router, "iqa@northgate.demo", "credence-demo-2026")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&router, "iqa@northgate.demo", "a brand new password")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The link works once.
    let again = send(&router, form(&path, "password=another+new+password", None)).await;
    assert_eq!(again.status, StatusCode::GONE);
}
both_databases!(password_reset, a_password_is_reset_by_email);
