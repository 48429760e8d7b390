//! Long tasks (issue 15): work too big for one request (a registrations file of thousands of
//! rows, a large centre's sampling plan, a portfolio zip of gigabytes) goes to the job queue,
//! and the person who asked follows it on `/tasks/{task}` until its result shows. The tests
//! lower the thresholds so the demo's small data takes the same path. On both databases:
//! the answer is the task's page at once, a worker does the work as the person who asked, the
//! page and the API show the result only to them, and the work's visible effect happens once
//! however the workers race or retry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{get, learner_of, send, token_for};
use credence::app::App;
use credence::app::tasks::TaskThresholds;
use credence::store::TaskMark;

/// The demo, with everything over these going to the queue: a file of more than two rows,
/// any plan, any zip. The demo's own jobs (invitation emails) are sent first.
async fn demo(url: &str) -> common::DemoCentres {
    let mut d = common::demo_centres(url).await;
    d.app.task_thresholds = TaskThresholds {
        csv_rows: 2,
        plan_registrations: 0,
        zip_bytes: 0,
    };
    d.app.run_due_jobs("demo-emails").await.unwrap();
    d
}

fn csv(rows: usize, tag: &str) -> String {
    let mut out = String::from("given_name,family_name,date_of_birth,qan\n");
    for i in 0..rows {
        out.push_str(&format!(
            "{tag}{},Tester,1990-01-{:02},610/3788/6\n",
            char::from(b'a' + u8::try_from(i % 26).unwrap()),
            1 + i % 28
        ));
    }
    out
}

/// Upload a registrations file from the centre's page, as its administrator (`token`).
async fn upload(router: &axum::Router, centre: i64, token: &str, csv: &str) -> common::Reply {
    let b = "task-boundary";
    common::post(
        router,
        &format!("/centres/{centre}/registrations/upload"),
        token,
        &format!("multipart/form-data; boundary={b}"),
        common::multipart_file(b, "file", "learners.csv", csv.as_bytes()),
    )
    .await
}

/// The task a 303 answer points to.
fn task_of(r: &common::Reply) -> i64 {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let at = r.headers["location"].to_str().unwrap();
    at.strip_prefix("/tasks/")
        .unwrap_or_else(|| panic!("sent to {at}, not a task"))
        .parse()
        .unwrap()
}

async fn learners(app: &App) -> i64 {
    let (n,): (i64,) = sqlx::query_as("select count(*) from learner")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    n
}

async fn large_files_register_in_the_background(url: String) {
    let d = demo(&url).await;
    let app = d.app.clone();
    let router = credence::web::router(app.clone());
    let admin = token_for(&app, "admin@northgate.demo").await;
    let before = learners(&app).await;

    // The upload answers at once with the task's page; nothing is registered yet.
    let r = upload(&router, d.north, &admin, &csv(5, "Big")).await;
    let task = task_of(&r);
    assert_eq!(learners(&app).await, before);
    let page = get(&router, &format!("/tasks/{task}"), &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Registering learners from a file"));
    assert!(page.body.contains("Waiting"), "{}", page.body);
    assert!(page.body.contains("0 of 5 (0%)"), "{}", page.body);
    assert!(
        page.body.contains("href=\"/tasks/"),
        "a link to check progress"
    );
    let api = get(&router, &format!("/api/v1/tasks/{task}"), &admin).await;
    let json: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(json["status"], "queued");
    assert_eq!(
        (json["done"].as_i64(), json["total"].as_i64()),
        (Some(0), Some(5))
    );

    // Only the person who asked sees it: another administrator, the centre's IQA, another
    // centre's administrator all get 404, as does a task that does not exist.
    for who in ["iqa@northgate.demo", "admin@riverside.demo", "ao@isp.demo"] {
        let other = token_for(&app, who).await;
        assert_eq!(
            get(&router, &format!("/tasks/{task}"), &other).await.status,
            StatusCode::NOT_FOUND,
            "{who}"
        );
        assert_eq!(
            get(&router, &format!("/api/v1/tasks/{task}"), &other)
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{who}"
        );
    }
    assert_eq!(
        get(&router, "/tasks/999999", &admin).await.status,
        StatusCode::NOT_FOUND
    );

    // A worker does it, as the administrator.
    let ran = app.run_due_jobs("test-worker").await.unwrap();
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(learners(&app).await, before + 5);
    let page = get(&router, &format!("/tasks/{task}"), &admin).await;
    assert!(page.body.contains("Registered 5 learners"), "{}", page.body);
    assert!(
        page.body.contains(&format!(
            "href=\"/centres/{}/registrations\">See the centre&#x27;s registrations",
            d.north
        )) || page
            .body
            .contains(&format!("href=\"/centres/{}/registrations\"", d.north))
    );
    let json: serde_json::Value = serde_json::from_str(
        &get(&router, &format!("/api/v1/tasks/{task}"), &admin)
            .await
            .body,
    )
    .unwrap();
    assert_eq!(json["status"], "done", "{json}");
    assert_eq!(json["result"]["outcome"]["registered"], 5, "{json}");
    assert_eq!(json["percent"], 100);
    // The file's rows are not kept in the queue once registered.
    let row = app.store.task(task).await.unwrap().unwrap();
    assert!(!row.payload.contains("csv_base64"), "{}", row.payload);
    // Registered once, audited with the registrations, in a chain that verifies.
    let log = app.store.audit_entries(None, 10_000).await.unwrap();
    assert_eq!(
        log.iter()
            .filter(|e| e.action == "learners_registered_from_file")
            .count(),
        1
    );
    assert!(
        app.verify_audit(None).await.unwrap().is_ok(),
        "audit verify"
    );
    // The person's list shows it.
    let list = get(&router, "/tasks", &admin).await;
    assert!(list.body.contains(&format!("href=\"/tasks/{task}\"")));
    assert!(list.body.contains("Done"));

    // Through the API a large file answers 202 with the task to follow.
    let r = common::post(
        &router,
        &format!("/api/v1/centres/{}/registrations", d.north),
        &admin,
        "text/csv",
        csv(4, "Api"),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let api_task = json["task"].as_i64().unwrap();
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        format!("/api/v1/tasks/{api_task}")
    );
    app.run_due_jobs("test-worker").await.unwrap();
    let json: serde_json::Value = serde_json::from_str(
        &get(&router, &format!("/api/v1/tasks/{api_task}"), &admin)
            .await
            .body,
    )
    .unwrap();
    assert_eq!(json["status"], "done", "{json}");
    assert_eq!(json["result"]["outcome"]["rows"], 4, "{json}");

    // A small file still registers in the request.
    let r = common::post(
        &router,
        &format!("/api/v1/centres/{}/registrations", d.north),
        &admin,
        "text/csv",
        csv(2, "Small"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}
both_databases!(registrations, large_files_register_in_the_background);

/// A file the task cannot use fails at once with the reason, shown on its page; nothing is
/// registered and it is not tried again.
async fn a_bad_file_fails_with_its_reason(url: String) {
    let d = demo(&url).await;
    let app = d.app.clone();
    let router = credence::web::router(app.clone());
    let admin = token_for(&app, "admin@northgate.demo").await;
    let before = learners(&app).await;
    let bad = "name,born\nAda,1990\nGrace,1906\nAlan,1912\n";
    let r = upload(&router, d.north, &admin, bad).await;
    let task = task_of(&r);
    let ran = app.run_due_jobs("test-worker").await.unwrap();
    assert!(
        matches!(ran.as_slice(), [(_, credence::app::jobs::Ran::Dead(_))]),
        "{ran:?}"
    );
    let page = get(&router, &format!("/tasks/{task}"), &admin).await;
    assert!(
        page.body.contains("This task could not be done"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Upload the file again"));
    assert_eq!(learners(&app).await, before);
    // With rows in error and good rows not asked for: done, nothing registered, each row's
    // problem listed.
    let mixed = format!("{}Too,Young,2015-01-01,610/3788/6\n", csv(3, "Mixed"));
    let r = upload(&router, d.north, &admin, &mixed).await;
    let task = task_of(&r);
    app.run_due_jobs("test-worker").await.unwrap();
    let page = get(&router, &format!("/tasks/{task}"), &admin).await;
    assert!(
        page.body
            .contains("Nothing was registered: 1 of 4 rows has errors"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<li>Row 5"), "{}", page.body);
    assert_eq!(learners(&app).await, before);
}
both_databases!(bad_file, a_bad_file_fails_with_its_reason);

/// Two workers never register a file twice: a worker whose lease ran out cannot commit the
/// work another took over, and a retry after the registrations committed does not register
/// again.
async fn registrations_happen_once(url: String) {
    let d = demo(&url).await;
    let app = d.app.clone();
    let admin = common::actor(&app, "admin@northgate.demo").await;
    let scope = app.centre_admin_scope(&admin, d.north).await.unwrap();
    let before = learners(&app).await;
    let file = csv(3, "Once");
    let task = app
        .start_task(
            &admin,
            App::registrations_task(d.north, file.as_bytes(), false, false),
            "127.0.0.1",
        )
        .await
        .unwrap();
    // Worker 1 claims it with a lease already over (it stalled), then worker 2 takes it over.
    let stalled = app
        .store
        .claim_job("worker-1", "2000-01-01T00:00:00Z")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stalled.job_id, task);
    let mark = |worker: &str| TaskMark {
        job_id: task,
        worker: worker.into(),
        result: serde_json::json!({"request": {"grant": null, "address": "127.0.0.1", "work": {"kind": "registrations", "centre": d.north, "good_rows": false, "invite": false}}}),
    };
    let taken = app
        .store
        .claim_job("worker-2", "2000-01-01T00:00:01Z")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.job_id, task);
    // Worker 1 wakes and tries to commit: refused, nothing registered.
    let late = app
        .register_csv_as_task(
            &scope,
            file.as_bytes(),
            false,
            "127.0.0.1",
            |_| {},
            Some(mark("worker-1")),
        )
        .await;
    assert!(late.is_err(), "{late:?}");
    assert_eq!(learners(&app).await, before);
    // Worker 2 registers and records the result, then stops before finishing the job.
    let first = app
        .register_csv_as_task(
            &scope,
            file.as_bytes(),
            false,
            "127.0.0.1",
            |_| {},
            Some(mark("worker-2")),
        )
        .await
        .unwrap();
    assert_eq!(first.registered, 3);
    assert_eq!(learners(&app).await, before + 3);
    // Its lease is over, so a third worker picks the task up: it finds the result and does
    // not register again.
    let ran = app.run_due_jobs("worker-3").await.unwrap();
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(learners(&app).await, before + 3);
    let view = app.task_for(&admin, task).await.unwrap();
    assert_eq!(view.status, "done");
    match view.result {
        Some(credence::app::tasks::TaskResult::Registrations { outcome, .. }) => {
            assert_eq!(outcome.registered, 3)
        }
        other => panic!("{other:?}"),
    }
    let log = app.store.audit_entries(None, 10_000).await.unwrap();
    assert_eq!(
        log.iter()
            .filter(|e| e.action == "learners_registered_from_file")
            .count(),
        1
    );
}
both_databases!(once, registrations_happen_once);

/// A large centre's sampling plan and a large portfolio zip are tasks too.
async fn plans_and_zips_are_tasks(url: String) {
    let d = demo(&url).await;
    let app = d.app.clone();
    let router = credence::web::router(app.clone());

    // The IQA generates the plan: the task's page, then the samples it added.
    let iqa = token_for(&app, "iqa@northgate.demo").await;
    let r = send(
        &router,
        common::bearer("POST", &format!("/centres/{}/qa/generate", d.north), &iqa)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from("qualification="))
            .unwrap(),
    )
    .await;
    let task = task_of(&r);
    let samples_before = app.store.samples_at_centre(d.north).await.unwrap().len();
    app.run_due_jobs("test-worker").await.unwrap();
    let added = app.store.samples_at_centre(d.north).await.unwrap().len() - samples_before;
    assert!(added > 0, "the demo's work calls for samples");
    let page = get(&router, &format!("/tasks/{task}"), &iqa).await;
    assert!(
        page.body
            .contains(&format!("Added {added} samples to the sampling plan"))
            || page.body.contains("Added 1 sample to the sampling plan"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("href=\"/centres/{}/qa\"", d.north))
    );
    // Generating again adds nothing: a retried plan task does not sample twice.
    let r = send(
        &router,
        common::bearer("POST", &format!("/centres/{}/qa/generate", d.north), &iqa)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from("qualification="))
            .unwrap(),
    )
    .await;
    let again = task_of(&r);
    app.run_due_jobs("test-worker").await.unwrap();
    let page = get(&router, &format!("/tasks/{again}"), &iqa).await;
    assert!(
        page.body
            .contains("The plan already covers everything the strategy asks for"),
        "{}",
        page.body
    );
    // An assessor cannot start one: the refusal comes before any task is queued.
    let assessor = token_for(&app, "sam.assessor@demo").await;
    let r = send(
        &router,
        common::bearer(
            "POST",
            &format!("/centres/{}/qa/generate", d.north),
            &assessor,
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("qualification="))
        .unwrap(),
    )
    .await;
    assert_ne!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The learner's portfolio zip: kept under the task, downloaded by them only.
    let learner = learner_of(&app, "farah.learner@demo").await;
    let farah = token_for(&app, "farah.learner@demo").await;
    let r = get(
        &router,
        &format!("/learners/{learner}/portfolio.zip"),
        &farah,
    )
    .await;
    let task = task_of(&r);
    app.run_due_jobs("test-worker").await.unwrap();
    let page = get(&router, &format!("/tasks/{task}"), &farah).await;
    assert!(
        page.body.contains("The portfolio zip is ready"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("href=\"/tasks/{task}/file\"")));
    let file = send(
        &router,
        common::bearer("GET", &format!("/tasks/{task}/file"), &farah)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(
        file.headers["content-type"].to_str().unwrap(),
        "application/zip"
    );
    assert!(file.body.starts_with("PK"), "a zip");
    assert!(file.body.contains("index.html"));
    let other = token_for(&app, "tom.learner@demo").await;
    assert_eq!(
        get(&router, &format!("/tasks/{task}/file"), &other)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The zip of her own data, too.
    let r = get(&router, "/account/data.zip", &farah).await;
    let task = task_of(&r);
    app.run_due_jobs("test-worker").await.unwrap();
    let page = get(&router, &format!("/tasks/{task}"), &farah).await;
    assert!(
        page.body.contains("The zip of your data is ready"),
        "{}",
        page.body
    );
    let file = get(&router, &format!("/tasks/{task}/file"), &farah).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.body.starts_with("PK") && file.body.contains("index.json"));
    // Files older than a week are swept; a fresh one stays.
    assert_eq!(app.sweep_task_files().await.unwrap(), 0);
}
both_databases!(plans_and_zips, plans_and_zips_are_tasks);
