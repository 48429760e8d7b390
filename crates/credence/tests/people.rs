//! People end to end, on SQLite and PostgreSQL: signing in (cookie flags, rate limiting,
//! CSRF), one account with many roles, API tokens, registration from CSV, and the audit
//! log's hash chain.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::send;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

fn form(uri: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn page(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

/// Sign in through the form; the session cookie ("name=value").
async fn sign_in(router: &axum::Router, email: &str) -> String {
    let r = send(
        router,
        form(
            "/sign-in",
            &format!("email={email}&password=credence-demo-2026&next=/home"),
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_string();
    set.split(';').next().unwrap().to_string()
}

fn csrf_in(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

async fn signing_in_and_forms(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());

    // A wrong password says nothing about whether the account exists.
    let wrong = send(
        &router,
        form("/sign-in", "email=admin@northgate.demo&password=nope", None),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .body
            .contains("Enter a correct email address and password")
    );
    let nobody = send(
        &router,
        form("/sign-in", "email=nobody@nowhere.test&password=nope", None),
    )
    .await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    assert!(
        nobody
            .body
            .contains("Enter a correct email address and password")
    );

    // The session cookie: HttpOnly, SameSite, and Secure behind TLS.
    let r = send(
        &router,
        form(
            "/sign-in",
            "email=admin@northgate.demo&password=credence-demo-2026",
            None,
        ),
    )
    .await;
    let set = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && !set.contains("Secure"),
        "{set}"
    );
    let mut tls = form(
        "/sign-in",
        "email=admin@northgate.demo&password=credence-demo-2026",
        None,
    );
    tls.headers_mut()
        .insert("x-forwarded-proto", "https".parse().unwrap());
    let r = send(&router, tls).await;
    assert!(
        r.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    assert_eq!(r.headers[header::LOCATION], "/home");

    // An off-site "next" is not followed.
    let r = send(
        &router,
        form(
            "/sign-in",
            "email=admin@northgate.demo&password=credence-demo-2026&next=//evil.test/",
            None,
        ),
    )
    .await;
    assert_eq!(r.headers[header::LOCATION], "/home");

    // Forms need the session's CSRF token.
    let cookie = sign_in(&router, "ao@isp.demo").await;
    let home = send(&router, page("/centres", &cookie)).await;
    assert_eq!(home.status, StatusCode::OK);
    let token = csrf_in(&home.body);
    let forged = send(
        &router,
        form("/centres", "name=Forged+Centre", Some(&cookie)),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let wrong = send(
        &router,
        form("/centres", "name=Forged+Centre&csrf=0000", Some(&cookie)),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let mut cross = form(
        "/centres",
        &format!("name=Cross+Site&csrf={token}"),
        Some(&cookie),
    );
    cross
        .headers_mut()
        .insert(header::ORIGIN, "https://evil.test".parse().unwrap());
    cross
        .headers_mut()
        .insert(header::HOST, "credence.test".parse().unwrap());
    assert_eq!(send(&router, cross).await.status, StatusCode::FORBIDDEN);
    let ok = send(
        &router,
        form(
            "/centres",
            &format!("name=Eastfield+Academy&csrf={token}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert!(
        app.store
            .centres()
            .await
            .unwrap()
            .iter()
            .any(|c| c.name == "Eastfield Academy")
    );
    assert!(
        !app.store
            .centres()
            .await
            .unwrap()
            .iter()
            .any(|c| c.name.contains("Forged") || c.name.contains("Cross"))
    );

    // Signing out ends the session.
    let out = send(
        &router,
        form("/sign-out", &format!("csrf={token}"), Some(&cookie)),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = send(&router, page("/home", &cookie)).await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the old cookie no longer works"
    );
}
both_databases!(sign_in_and_forms, signing_in_and_forms);

async fn sign_in_is_rate_limited(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app);
    for _ in 0..credence::app::people::MAX_FAILURES_PER_ACCOUNT {
        let r = send(
            &router,
            form("/sign-in", "email=iqa@northgate.demo&password=guess", None),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password waits.
    let r = send(
        &router,
        form(
            "/sign-in",
            "email=iqa@northgate.demo&password=credence-demo-2026",
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("wait 15 minutes"));
    // Another account from the same address is not locked by this one.
    let r = send(
        &router,
        form(
            "/sign-in",
            "email=admin@riverside.demo&password=credence-demo-2026",
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}
both_databases!(rate_limit, sign_in_is_rate_limited);

async fn one_account_many_roles_and_tokens(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let cookie = sign_in(&router, "sam.assessor@demo").await;
    let home = send(&router, page("/home", &cookie)).await;
    assert!(
        home.body.contains("You are working as"),
        "a switcher for three roles"
    );
    assert!(home.body.contains("Assessor at Northgate Training"));
    assert!(
        home.body
            .contains("Internal quality assurer at Riverside College")
    );
    let sam = app
        .store
        .person_by_email("sam.assessor@demo")
        .await
        .unwrap()
        .unwrap();
    let iqa = app
        .store
        .grants(sam.person_id)
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.role == "iqa")
        .unwrap();
    let r = send(
        &router,
        form(
            "/context",
            &format!("grant={}&csrf={}", iqa.role_grant_id, csrf_in(&home.body)),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let home = send(&router, page("/home", &cookie)).await;
    assert!(
        home.body.contains("Your caseload at Riverside College"),
        "the IQA's home at Riverside"
    );

    // API tokens: work until revoked.
    let tokens = send(&router, page("/account/tokens", &cookie)).await;
    let made = send(
        &router,
        form(
            "/account/tokens",
            &format!("name=my+script&csrf={}", csrf_in(&tokens.body)),
            Some(&cookie),
        ),
    )
    .await;
    let at = made.body.find("<code>cred_").unwrap() + 6;
    let token = made.body[at..at + made.body[at..].find('<').unwrap()].to_string();
    let me = Request::get("/api/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let r = send(&router, me).await;
    assert_eq!(r.status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["roles"].as_array().unwrap().len(), 3);
    let id = app.store.api_tokens(sam.person_id).await.unwrap()[0].0;
    let r = send(
        &router,
        form(
            &format!("/account/tokens/{id}/revoke"),
            &format!("csrf={}", csrf_in(&made.body)),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let me = Request::get("/api/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&router, me).await.status, StatusCode::UNAUTHORIZED);
}
both_databases!(many_roles, one_account_many_roles_and_tokens);

async fn registering_learners_from_csv(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let north = app
        .store
        .centres()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Northgate Training")
        .unwrap()
        .centre_id;
    let token = common::token_for(&app, "admin@northgate.demo").await;
    let before = app.store.count_registrations(north).await.unwrap();
    let uln = |stem: u64| {
        (stem..stem + 100)
            .find_map(|n| credence_domain::people::uln::uln_with_check_digit(&n.to_string()))
            .unwrap()
    };
    let good1 = uln(300000000);
    let good2 = uln(300000100);
    let csv = format!(
        "given_name,family_name,date_of_birth,qan,uln\n\
         Ada,Lovelace,1990-12-10,610/3788/6,{good1}\n\
         Bad,Uln,1990-01-01,610/3788/6,1234567890\n\
         Too,Young,2015-01-01,610/3788/6,\n\
         Not,Approved,1990-01-01,610/5677/7,\n\
         Alan,Turing,23/06/1982,610/3789/8,{good2}\n"
    );
    let post = |good_rows: bool| {
        Request::post(format!(
            "/api/v1/centres/{north}/registrations{}",
            if good_rows { "?good_rows=true" } else { "" }
        ))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.clone()))
        .unwrap()
    };
    let r = send(&router, post(false)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["registered"], 0, "a file with errors registers nothing");
    assert_eq!(v["bad_rows"], 3);
    let errors: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        errors.iter().any(|e| e.starts_with("Row 3, uln:")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("Row 4") && e.contains("18")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("Row 5") && e.contains("approved")),
        "{errors:?}"
    );
    assert_eq!(app.store.count_registrations(north).await.unwrap(), before);

    // The administrator chooses to register the good rows.
    let r = send(&router, post(true)).await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["registered"], 2, "{v}");
    assert_eq!(
        app.store.count_registrations(north).await.unwrap(),
        before + 2
    );
    let ada = app.store.learner_by_uln(&good1).await.unwrap().unwrap();
    // The same learner at another centre keeps one record.
    let river = app
        .store
        .centres()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Riverside College")
        .unwrap()
        .centre_id;
    let admin_r = common::token_for(&app, "admin@riverside.demo").await;
    let again = format!(
        "given_name,family_name,date_of_birth,qan,uln\nAda,Lovelace,1990-12-10,610/5677/7,{good1}\n"
    );
    let r = send(
        &router,
        Request::post(format!("/api/v1/centres/{river}/registrations"))
            .header(header::AUTHORIZATION, format!("Bearer {admin_r}"))
            .body(Body::from(again))
            .unwrap(),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["registered"], 1, "{v}");
    assert_eq!(
        app.store
            .registrations_of_learner(ada.learner_id)
            .await
            .unwrap()
            .len(),
        2
    );
    // A duplicate is refused.
    let r = send(&router, post(true)).await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["registered"], 0, "{v}");
    // Riverside's administrator cannot register at Northgate (nor learn it exists).
    let r = send(
        &router,
        Request::post(format!("/api/v1/centres/{north}/registrations"))
            .header(header::AUTHORIZATION, format!("Bearer {admin_r}"))
            .body(Body::from(csv.clone()))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A file that is not CSV of the right shape is named as such.
    let r = send(
        &router,
        Request::post(format!("/api/v1/centres/{north}/registrations"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from("name;birthday\nx;y\n"))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("given_name"), "{}", r.body);
}
both_databases!(registration_csv, registering_learners_from_csv);

async fn the_audit_log_detects_tampering(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    // Some audited changes: sign-ins, a token, a new centre.
    for _ in 0..3 {
        app.sign_in("ao@isp.demo", "credence-demo-2026", "127.0.0.1")
            .await
            .map_err(|_| "sign-in")
            .unwrap();
    }
    let isp = app
        .actor_from_api_token(&common::token_for(&app, "ao@isp.demo").await)
        .await
        .unwrap()
        .unwrap();
    let centre = app
        .create_centre(&isp, "Audit Academy", "127.0.0.1")
        .await
        .unwrap();
    app.approve_centre(&isp, centre, "610/3788/6", "127.0.0.1")
        .await
        .unwrap();
    let n = app
        .verify_audit(None)
        .await
        .unwrap()
        .expect("an intact chain");
    assert!(n >= 7, "the changes were logged: {n}");
    let log = app.store.audit_entries(Some(centre), 10).await.unwrap();
    assert_eq!(log.len(), 2, "the centre's own log: created and approved");
    assert_eq!(log[0].action, "centre_approved");
    // People are named by id, never by email.
    assert_eq!(
        log[0].actor.as_deref(),
        Some(format!("person:{}", isp.person_id).as_str())
    );
    assert_eq!(log[0].address.as_deref(), Some("127.0.0.1"));
    let entries = app.store.audit_log().await.unwrap();
    let victim = entries[entries.len() / 2].seq;
    sqlx::query("update audit_log set detail = 'tampered' where seq = $1")
        .bind(victim)
        .execute(app.store.pool())
        .await
        .unwrap();
    let broken = app.verify_audit(None).await.unwrap().unwrap_err();
    assert!(
        broken.to_string().contains(&format!("entry {victim}")),
        "{broken}"
    );
    // Deletion is detected too.
    let app = common::app_on(&common::sqlite_url()).await;
    common::demo(&app).await;
    for _ in 0..4 {
        app.sign_in("ao@isp.demo", "credence-demo-2026", "127.0.0.1")
            .await
            .map_err(|_| "sign-in")
            .unwrap();
    }
    sqlx::query("delete from audit_log where seq = 3")
        .execute(app.store.pool())
        .await
        .unwrap();
    assert!(app.verify_audit(None).await.unwrap().is_err());
}
both_databases!(audit_chain, the_audit_log_detects_tampering);

async fn competence_and_conflicts_decide_assignments(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let actor = |email: &'static str| {
        let app = app.clone();
        async move {
            app.actor_from_api_token(&common::token_for(&app, email).await)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let admin = actor("admin@northgate.demo").await;
    let sam = actor("sam.assessor@demo").await;
    let irene = app
        .store
        .person_by_email("iqa@northgate.demo")
        .await
        .unwrap()
        .unwrap();
    let north = admin.grants[0].centre_id.unwrap();
    let regs = app.store.registrations_at_centre(north, 100).await.unwrap();
    let on = |qan: &str| regs.iter().find(|r| r.qan == qan).unwrap().clone();
    let level3 = on("610/3789/8");
    let level6 = on("500/3707/9");

    // Competence at least one level above the qualification.
    app.assign(
        &admin,
        north,
        level3.registration_id,
        irene.person_id,
        "iqa",
        "t",
    )
    .await
    .unwrap();
    let err = app
        .assign(
            &admin,
            north,
            level6.registration_id,
            irene.person_id,
            "iqa",
            "t",
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Level 4") && err.to_string().contains("Level 7"),
        "{err}"
    );
    let err = app
        .assign(
            &admin,
            north,
            level6.registration_id,
            sam.person_id,
            "assessor",
            "t",
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Level 5"), "{err}");
    // Only someone who holds the role at the centre.
    let err = app
        .assign(
            &admin,
            north,
            level3.registration_id,
            sam.person_id,
            "iqa",
            "t",
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("is not an IQA at this centre"),
        "{err}"
    );

    // A declared interest refuses the assignment.
    app.declare_interest(&sam, level3.learner_id, "relative", "my cousin", "t")
        .await
        .unwrap();
    let err = app
        .assign(
            &admin,
            north,
            level3.registration_id,
            sam.person_id,
            "assessor",
            "t",
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("relative"), "{err}");
    // Interest in a learner one cannot see is refused as not found.
    let river_learner = app
        .store
        .registrations_at_centre(
            app.store
                .centres()
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.name == "Riverside College")
                .unwrap()
                .centre_id,
            1,
        )
        .await
        .unwrap()[0]
        .learner_id;
    let iqa_actor = actor("iqa@northgate.demo").await;
    assert!(matches!(
        app.declare_interest(&iqa_actor, river_learner, "friend", "", "t")
            .await,
        Err(credence::app::AppError::NotFound(_))
    ));

    // Flags: Irene's CPD is below 24 hours (recommended for IQAs); Sam is working towards
    // the IQA award, so quality assurance samples him more.
    let flags = app
        .competence_flags(
            irene.person_id,
            credence_domain::people::competence::StaffRole::Iqa,
        )
        .await
        .unwrap();
    assert!(
        flags
            .iter()
            .any(|f| f.contains("6 hours") && f.contains("recommended")),
        "{flags:?}"
    );
    let flags = app
        .competence_flags(
            sam.person_id,
            credence_domain::people::competence::StaffRole::Iqa,
        )
        .await
        .unwrap();
    assert!(
        flags
            .iter()
            .any(|f| f.contains("working towards") && f.contains("sample more")),
        "{flags:?}"
    );
    let assigned = app.store.assignments(level3.registration_id).await.unwrap();
    assert_eq!(assigned.len(), 1);
    assert_eq!(assigned[0].person_id, irene.person_id);
}
both_databases!(
    competence_conflicts,
    competence_and_conflicts_decide_assignments
);

async fn invitations_are_one_time_links(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let admin = app
        .actor_from_api_token(&common::token_for(&app, "admin@northgate.demo").await)
        .await
        .unwrap()
        .unwrap();
    let north = admin.grants[0].centre_id.unwrap();
    let river = app
        .store
        .centres()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Riverside College")
        .unwrap()
        .centre_id;
    // Only for one's own centre.
    assert!(
        app.invite(&admin, "x@y.test", "X", "assessor", None, Some(river), "t")
            .await
            .is_err()
    );
    let token = app
        .invite(
            &admin,
            "new.assessor@example.test",
            "Nia Assessor",
            "assessor",
            None,
            Some(north),
            "t",
        )
        .await
        .unwrap();
    let page = send(
        &router,
        Request::get(format!("/invitations/{token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Choose a password"));
    let short = send(
        &router,
        form(&format!("/invitations/{token}"), "password=short", None),
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("at least 12 characters"));
    let ok = send(
        &router,
        form(
            &format!("/invitations/{token}"),
            "password=a+long+enough+password",
            None,
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let cookie = ok.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let home = send(&router, page_req("/home", &cookie)).await;
    assert!(
        home.body.contains("Your caseload at Northgate Training"),
        "signed in as the new assessor"
    );
    // One use only.
    let again = send(
        &router,
        form(
            &format!("/invitations/{token}"),
            "password=a+long+enough+password",
            None,
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("has been used"));
    // An existing person gets the role on their one account, with their own password.
    let token = app
        .invite(
            &admin,
            "sam.assessor@demo",
            "Sam Okafor",
            "centre_admin",
            None,
            Some(north),
            "t",
        )
        .await
        .unwrap();
    let wrong = send(
        &router,
        form(
            &format!("/invitations/{token}"),
            "password=not+sams+password",
            None,
        ),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = send(
        &router,
        form(
            &format!("/invitations/{token}"),
            "password=credence-demo-2026",
            None,
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let sam = app
        .store
        .person_by_email("sam.assessor@demo")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(app.store.grants(sam.person_id).await.unwrap().len(), 4);
}
both_databases!(invitations, invitations_are_one_time_links);

fn page_req(uri: &str, cookie: &str) -> Request<Body> {
    page(uri, cookie)
}

async fn ao_staff_appoint_eqas(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let river = app
        .store
        .centres()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Riverside College")
        .unwrap()
        .centre_id;
    let eqa_token = common::token_for(&app, "eqa@isp.demo").await;
    let eqa_sees = |token: String| {
        let router = router.clone();
        async move {
            let req = Request::get(format!("/api/v1/centres/{river}"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap();
            send(&router, req).await.status
        }
    };
    assert_eq!(
        eqa_sees(eqa_token.clone()).await,
        StatusCode::NOT_FOUND,
        "not appointed to Riverside yet"
    );
    let eqa = app.actor_from_api_token(&eqa_token).await.unwrap().unwrap();
    assert!(
        app.appoint_eqa(&eqa, river, eqa.person_id, "t")
            .await
            .is_err(),
        "an EQA does not appoint EQAs"
    );
    let isp = app
        .actor_from_api_token(&common::token_for(&app, "ao@isp.demo").await)
        .await
        .unwrap()
        .unwrap();
    let sam = app
        .store
        .person_by_email("sam.assessor@demo")
        .await
        .unwrap()
        .unwrap();
    assert!(
        app.appoint_eqa(&isp, river, sam.person_id, "t")
            .await
            .is_err(),
        "only people who are EQAs"
    );
    app.appoint_eqa(&isp, river, eqa.person_id, "t")
        .await
        .unwrap();
    assert_eq!(eqa_sees(eqa_token).await, StatusCode::OK);
}
both_databases!(eqa_appointment, ao_staff_appoint_eqas);

async fn a_spoofed_address_does_not_escape_the_rate_limit(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app);
    for i in 0..credence::app::people::MAX_FAILURES_PER_ADDRESS {
        let mut req = form(
            "/sign-in",
            &format!("email=nobody{i}@example.test&password=guess"),
            None,
        );
        req.headers_mut()
            .insert("x-forwarded-for", format!("203.0.113.{i}").parse().unwrap());
        assert_eq!(send(&router, req).await.status, StatusCode::UNAUTHORIZED);
    }
    // Every attempt came from the same connection: the address is limited, whatever header
    // the client sends (Credence trusts X-Forwarded-For only with --trust-proxy).
    let mut req = form(
        "/sign-in",
        "email=admin@riverside.demo&password=credence-demo-2026",
        None,
    );
    req.headers_mut()
        .insert("x-forwarded-for", "198.51.100.7".parse().unwrap());
    assert_eq!(
        send(&router, req).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}
both_databases!(
    spoofed_address,
    a_spoofed_address_does_not_escape_the_rate_limit
);

/// The second factor end to end through the pages: AO staff without one are refused a
/// catalogue change; they set it up (QR code, key, first code, recovery codes); from then on
/// signing in asks for a code, a code works once, a recovery code works once, and the
/// operator can remove a lost one.
async fn a_second_factor_for_those_who_publish(url: String) {
    let app = common::app_on(&url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let s1 = sign_in(&router, "ao%40isp.demo").await;
    let setup = send(&router, page("/account/second-factor", &s1)).await;
    assert_eq!(setup.status, StatusCode::OK);
    assert!(setup.body.contains("Your roles need a second factor"));
    assert!(setup.body.contains("<svg"), "a QR code to scan");
    let key_at = setup.body.find("<code class=\"key\">").unwrap() + 18;
    let key = setup.body[key_at..key_at + setup.body[key_at..].find('<').unwrap()].to_string();
    let csrf = csrf_in(&setup.body);

    // Without a second factor, no catalogue change.
    let seed = &common::seeds()[0];
    let import = |cookie: String, csrf: String| {
        let router = router.clone();
        async move {
            send(
                &router,
                Request::post("/api/v1/catalogue/versions?name=again.txt")
                    .header(header::COOKIE, cookie)
                    .header("x-csrf-token", csrf)
                    .header(header::CONTENT_TYPE, "text/plain")
                    .body(Body::from([seed.text, b"\n"].concat()))
                    .unwrap(),
            )
            .await
        }
    };
    let r = import(s1.clone(), csrf.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("/account/second-factor"), "{}", r.body);
    // Nor a change of a centre's direct claim status.
    let dcs = |cookie: &str, csrf: &str| {
        form(
            "/centres/2/direct-claim",
            &format!(
                "csrf={csrf}&qan=603%2F5902%2FX&granted=yes&reason=Satisfactory+first+visit&confirm=yes"
            ),
            Some(cookie),
        )
    };
    let r = send(&router, dcs(&s1, &csrf)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("second factor"), "{}", r.body);

    // A wrong first code is refused; the right one turns it on, with recovery codes.
    let r = send(
        &router,
        form(
            "/account/second-factor",
            &format!("csrf={csrf}&code=000000"),
            Some(&s1),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("That code is not right"));
    let first = common::totp_code(&key);
    let r = send(
        &router,
        form(
            "/account/second-factor",
            &format!("csrf={csrf}&code={first}"),
            Some(&s1),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let recovery: Vec<String> = r
        .body
        .split("<li><code>")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_string())
        .collect();
    assert_eq!(recovery.len(), 10, "ten recovery codes, shown once");
    // The session that set it up did not pass it: still no catalogue change.
    let r = import(s1.clone(), csrf.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Signing in now asks for a code.
    let password = |next: &str| {
        form(
            "/sign-in",
            &format!("email=ao%40isp.demo&password=credence-demo-2026&next={next}"),
            None,
        )
    };
    let challenge = |r: &common::Reply| {
        r.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|v| v.starts_with("credence_challenge="))
            .map(|v| v.split(';').next().unwrap().to_string())
            .unwrap()
    };
    let r = send(&router, password("%2Fcatalogue%2Fversions")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers[header::LOCATION],
        "/sign-in/second-factor?next=%2Fcatalogue%2Fversions"
    );
    assert!(
        !r.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("credence_session=")),
        "no session on the password alone"
    );
    let c = challenge(&r);
    let page_ = send(&router, page("/sign-in/second-factor", &c)).await;
    assert_eq!(page_.status, StatusCode::OK);
    let answer = |c: &str, code: &str| {
        form(
            "/sign-in/second-factor",
            &format!("code={code}&next=%2Fcatalogue%2Fversions"),
            Some(c),
        )
    };
    let r = send(&router, answer(&c, "123456")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a wrong code");
    // The first code was used to turn it on: a code is accepted once, so this is the next.
    let r = send(&router, answer(&c, &first)).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the code that turned it on, again"
    );
    let code = common::totp_code_in(&key, 30);
    let r = send(&router, answer(&c, &code)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers[header::LOCATION], "/catalogue/versions");
    let s2 = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("credence_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .unwrap();
    let home = send(&router, page("/home", &s2)).await;
    let r = import(s2.clone(), csrf_in(&home.body)).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "with the second factor: {}",
        r.body
    );
    let r = send(&router, dcs(&s2, &csrf_in(&home.body))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "direct claim status with it: {}",
        r.body
    );
    assert!(r.body.contains("granted"), "{}", r.body);

    // The same code does not sign in twice.
    let c = challenge(&send(&router, password("%2Fhome")).await);
    let r = send(&router, answer(&c, &code)).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a code is accepted once"
    );
    // A recovery code does, once.
    let r = send(&router, answer(&c, &recovery[0].to_uppercase())).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "a recovery code: {}",
        r.body
    );
    let c = challenge(&send(&router, password("%2Fhome")).await);
    let r = send(&router, answer(&c, &recovery[0])).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a recovery code is accepted once"
    );
    // Without a challenge there is nothing to answer.
    let r = send(
        &router,
        form("/sign-in/second-factor", &format!("code={code}"), None),
    )
    .await;
    assert_eq!(r.headers[header::LOCATION], "/sign-in");

    // A lost device: the operator removes it (audited), and the password signs in again.
    let operator = app.operator(Some("admin@northgate.demo")).await.unwrap();
    app.remove_second_factor(&operator, "ao@isp.demo")
        .await
        .unwrap();
    sign_in(&router, "ao%40isp.demo").await;
    let log = app.store.audit_log().await.unwrap();
    assert!(log.iter().any(|e| e.action == "second_factor.confirm"));
    assert!(log.iter().any(|e| {
        e.action == "second_factor.remove"
            && e.actor
                .as_deref()
                .is_some_and(|a| a.starts_with("operator:"))
    }));
    assert!(app.verify_audit(None).await.unwrap().is_ok());
}
both_databases!(second_factor, a_second_factor_for_those_who_publish);
