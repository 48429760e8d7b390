//! The seven attacks found when Credence was tried as an attacker would (issue 10), each
//! replayed through the router on SQLite and PostgreSQL. Each one succeeded before the fix;
//! each must now fail, with the answer a real user would need.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Reply, send};
use serde_json::Value;

struct Demo {
    app: credence::app::App,
    router: axum::Router,
    tom: i64,
    marek: i64,
    t_admin_n: String,
    t_admin_r: String,
    t_tom: String,
    t_isp: String,
    t_ismm: String,
    t_ocr: String,
    t_eqa: String,
}

async fn demo(url: &str) -> Demo {
    let app = common::app_on(url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let marek = common::learner_registered_on(&app, 1, "500/3707/9").await;
    Demo {
        tom: common::learner_of(&app, "tom.learner@demo").await,
        marek,
        t_admin_n: common::token_for(&app, "admin@northgate.demo").await,
        t_admin_r: common::token_for(&app, "admin@riverside.demo").await,
        t_tom: common::token_for(&app, "tom.learner@demo").await,
        t_isp: common::token_for(&app, "ao@isp.demo").await,
        t_ismm: common::token_for(&app, "ao@ismm.demo").await,
        t_ocr: common::token_for(&app, "ao@ocr.demo").await,
        t_eqa: common::token_for(&app, "eqa@isp.demo").await,
        app,
        router,
    }
}

fn req(method: &str, uri: &str, token: &str) -> axum::http::request::Builder {
    common::bearer(method, uri, token)
}

async fn get(d: &Demo, uri: &str, token: &str) -> Reply {
    common::get(&d.router, uri, token).await
}

async fn post(d: &Demo, uri: &str, token: &str, content_type: &str, body: &str) -> Reply {
    common::post(&d.router, uri, token, content_type, body.to_string()).await
}

async fn post_json(d: &Demo, uri: &str, token: &str, body: Value) -> Reply {
    post(d, uri, token, "application/json", &body.to_string()).await
}

async fn anonymous(d: &Demo, method: &str, uri: &str, form: Option<&str>) -> Reply {
    let mut b = Request::builder().method(method).uri(uri);
    if form.is_some() {
        b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    send(
        &d.router,
        b.body(Body::from(form.unwrap_or("").to_string())).unwrap(),
    )
    .await
}

fn json(r: &Reply) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("JSON: {}", r.body))
}

/// A person with one role at a centre and their API token.
async fn staff(d: &Demo, email: &str, role: &str, centre: i64) -> (i64, String) {
    let id = d
        .app
        .create_person(email, "Test Person", Some("a long test password"))
        .await
        .unwrap();
    d.app
        .store
        .grant_role(id, role, None, Some(centre), None)
        .await
        .unwrap();
    (id, common::token_for(&d.app, email).await)
}

// --- 1. Learner takeover by ULN --------------------------------------------------------------

async fn a_uln_identifies_but_does_not_authorize(url: String) {
    let d = demo(&url).await;
    let tom = d.app.store.learner(d.tom).await.unwrap().unwrap();
    let uln = tom.uln.clone().unwrap();
    let before = d.app.store.registrations_of_learner(d.tom).await.unwrap();

    // Another centre's row with Tom's ULN but another name and date of birth is refused,
    // saying which fields differ and what to do, without showing what is on record.
    let csv = format!(
        "given_name,family_name,date_of_birth,qan,uln\nNot,Tom,2000-01-01,610/3788/6,{uln}\n"
    );
    let r = post(
        &d,
        "/api/v1/centres/1/registrations",
        &d.t_admin_n,
        "text/csv",
        &csv,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let out = json(&r);
    assert_eq!(out["registered"], 0, "{out}");
    let errors = out["errors"].to_string();
    assert!(
        errors.contains("family name") && errors.contains("date of birth"),
        "names the fields that differ: {errors}"
    );
    assert!(
        errors.contains("Learning Records Service"),
        "says what to do: {errors}"
    );
    assert!(
        !errors.contains("Evans") && !errors.contains("1985"),
        "never shows the stored values: {errors}"
    );
    assert_eq!(
        d.app
            .store
            .registrations_of_learner(d.tom)
            .await
            .unwrap()
            .len(),
        before.len(),
        "nothing registered"
    );

    // Northgate sees nothing of Tom.
    let ev = d.app.store.evidence_of_learner(d.tom).await.unwrap();
    assert!(!ev.is_empty(), "the demo gives Tom evidence at Riverside");
    for uri in [
        format!("/api/v1/learners/{}", d.tom),
        format!("/api/v1/learners/{}/portfolio", d.tom),
        format!("/learners/{}/portfolio.zip", d.tom),
        format!("/learners/{}/evidence/{}/file", d.tom, ev[0].evidence_id),
    ] {
        let r = get(&d, &uri, &d.t_admin_n).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.body);
    }

    // Tom really does enrol at Northgate too (same family name and date of birth, the case
    // and spaces of the name aside): one learner, two separate views.
    let csv = format!(
        "given_name,family_name,date_of_birth,qan,uln\nTom,EVANS ,1985-02-17,610/3788/6,{uln}\n"
    );
    let r = post(
        &d,
        "/api/v1/centres/1/registrations",
        &d.t_admin_n,
        "text/csv",
        &csv,
    )
    .await;
    assert_eq!(json(&r)["registered"], 1, "{}", r.body);
    let regs = d.app.store.registrations_of_learner(d.tom).await.unwrap();
    let north_reg = regs.iter().find(|r| r.centre_id == 1).unwrap();
    // The audit entry names the learner (by id, never by name or ULN).
    let entries = d.app.store.audit_entries(Some(1), 5).await.unwrap();
    let reg_entry = entries
        .iter()
        .find(|e| e.action.contains("registered"))
        .unwrap();
    let text = format!("{} {}", reg_entry.subject, reg_entry.detail);
    assert!(
        text.contains(&format!("learner {}", d.tom))
            || text.contains(&format!("\"learners\":[{}]", d.tom)),
        "the entry names the learner: {text}"
    );
    assert!(
        !text.contains(&uln) && !text.contains("Evans") && !text.contains("@"),
        "no personal data in the log: {text}"
    );

    // Northgate's view: Tom's record, none of his Riverside evidence.
    let r = get(
        &d,
        &format!("/api/v1/learners/{}/portfolio", d.tom),
        &d.t_admin_n,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = json(&r);
    assert_eq!(
        p["evidence"].as_array().unwrap().len(),
        0,
        "Riverside's evidence is not Northgate's: {}",
        p["evidence"]
    );
    let r = get(
        &d,
        &format!("/learners/{}/evidence/{}/file", d.tom, ev[0].evidence_id),
        &d.t_admin_n,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "Riverside's file");
    // Riverside still sees its own.
    let r = get(
        &d,
        &format!("/api/v1/learners/{}/portfolio", d.tom),
        &d.t_admin_r,
    )
    .await;
    assert_eq!(
        json(&r)["evidence"].as_array().unwrap().len(),
        ev.len(),
        "Riverside's view is whole"
    );

    // A Northgate-only assessor, assigned at Northgate, can neither delete Riverside's
    // evidence nor judge Riverside's units.
    let (north_assessor, t_na) = staff(&d, "na@northgate.test", "assessor", 1).await;
    d.app
        .store
        .assign(north_reg.registration_id, north_assessor, "assessor", 1)
        .await
        .unwrap();
    let r = send(
        &d.router,
        req(
            "DELETE",
            &format!("/api/v1/learners/{}/evidence/{}", d.tom, ev[0].evidence_id),
            &t_na,
        )
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(
        d.app
            .store
            .evidence(ev[0].evidence_id)
            .await
            .unwrap()
            .is_some(),
        "still there"
    );
    let riverside_unit = d
        .app
        .store
        .mappings_of_learner(d.tom)
        .await
        .unwrap()
        .first()
        .map(|m| (m.unit_key.clone(), m.criterion.clone()))
        .unwrap();
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/judgements", d.tom),
        &t_na,
        serde_json::json!({"unit": riverside_unit.0, "criterion": riverside_unit.1, "outcome": "met"}),
    )
    .await;
    assert!(
        r.status == StatusCode::NOT_FOUND
            || r.status == StatusCode::FORBIDDEN
            || r.status == StatusCode::UNPROCESSABLE_ENTITY,
        "a Riverside unit is not Northgate's to judge: {} {}",
        r.status,
        r.body
    );
    // Tom himself sees both.
    let r = get(
        &d,
        &format!("/api/v1/learners/{}/portfolio", d.tom),
        &d.t_tom,
    )
    .await;
    assert_eq!(
        json(&r)["evidence"].as_array().unwrap().len(),
        ev.len(),
        "the learner sees all his own evidence"
    );
}
both_databases!(
    a_uln_identifies_but_does_not_authorize,
    a_uln_identifies_but_does_not_authorize
);

// --- 2. Another AO's catalogue --------------------------------------------------------------

async fn an_ao_owns_its_catalogue(url: String) {
    let d = demo(&url).await;
    let isp_seed = common::seeds()
        .iter()
        .map(|s| String::from_utf8_lossy(s.text).into_owned())
        .find(|t| t.contains("610/3788/6"))
        .unwrap();
    let edited = format!("{isp_seed}\n");
    let uri = "/api/v1/catalogue/versions?name=edited.txt";
    // OCR's staff cannot import ISP's specification.
    let r = post(&d, uri, &d.t_ocr, "text/plain", &edited).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("ISP"), "says whose it is: {}", r.body);
    // ISP's own staff can, as a draft (publish=true through the API is refused).
    let r = post(
        &d,
        "/api/v1/catalogue/versions?name=edited.txt&publish=true",
        &d.t_isp,
        "text/plain",
        &edited,
    )
    .await;
    assert!(
        r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::BAD_REQUEST,
        "publication is a separate step after review: {} {}",
        r.status,
        r.body
    );
    // Changing the catalogue needs a second factor.
    let r = post(&d, uri, &d.t_isp, "text/plain", &edited).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("second factor"), "{}", r.body);
    common::enrol_second_factor(&d.app, "ao@isp.demo").await;
    let r = post(&d, uri, &d.t_isp, "text/plain", &edited).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = json(&r)["versions"][0].clone();
    assert_eq!(v["status"], "draft");
    let id = v["id"].as_i64().unwrap();
    // What the draft changes from the current version: in the API and on its page for ISP's
    // staff; another AO's staff learn nothing of it.
    let key = d.app.store.version(id).await.unwrap().unwrap().spec_key;
    let current = d
        .app
        .store
        .versions()
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.spec_key == key && v.is_current == 1)
        .unwrap()
        .catalogue_version_id;
    let diff_uri = format!("/api/v1/catalogue/versions/{current}/diff/{id}");
    let r = get(&d, &diff_uri, &d.t_isp).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json(&r)["specification"], key.as_str());
    assert!(json(&r)["changes"].is_array());
    let same = get(
        &d,
        &format!("/api/v1/catalogue/versions/{id}/diff/{id}"),
        &d.t_isp,
    )
    .await;
    assert_eq!(json(&same)["changes"], serde_json::json!([]));
    let page = get(&d, &format!("/catalogue/versions/{id}"), &d.t_isp).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("What changed from the current version"),
        "{}",
        page.body
    );
    let r = get(&d, &diff_uri, &d.t_ocr).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // OCR cannot see, correct or publish it.
    let r = get(&d, &format!("/api/v1/catalogue/versions/{id}"), &d.t_ocr).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = post_json(
        &d,
        &format!("/api/v1/catalogue/versions/{id}/publication"),
        &d.t_ocr,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = post(
        &d,
        &format!("/api/v1/catalogue/versions/{id}/corrections"),
        &d.t_ocr,
        "application/json",
        r#"{"corrections": []}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // The anonymous export lists no drafts.
    let r = anonymous(&d, "GET", "/api/v1/catalogue/export", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let export: Value = json(&r);
    for v in export["versions"].as_array().unwrap() {
        assert_eq!(
            v["status"], "published",
            "drafts are not public: {}",
            v["key"]
        );
    }
    // An export that claims ISP's QAN under a new AO neither creates the AO nor publishes.
    let export = serde_json::to_string_pretty(&d.app.export(true).await.unwrap()).unwrap();
    let hijack = export
        .replace("\"code\": \"ISP\"", "\"code\": \"EVIL\"")
        .replace("\"code\":\"ISP\"", "\"code\":\"EVIL\"");
    assert_ne!(hijack, export, "the export names the AO by code");
    let aos_before = d.app.store.awarding_organisations().await.unwrap().len();
    let r = post(
        &d,
        "/api/v1/catalogue/versions?name=export.json",
        &d.t_ocr,
        "text/plain",
        &hijack,
    )
    .await;
    assert!(
        r.status == StatusCode::FORBIDDEN || r.status == StatusCode::UNPROCESSABLE_ENTITY,
        "{} {}",
        r.status,
        r.body
    );
    assert_eq!(
        d.app.store.awarding_organisations().await.unwrap().len(),
        aos_before,
        "no AO created"
    );
    let cat = d.app.catalogue().await.unwrap();
    let (cs, _) = cat.qualification("610/3788/6").unwrap();
    assert_eq!(
        cs.spec.awarding_organisation.code, "ISP",
        "ISP keeps its QAN"
    );
    // Every catalogue change is audited, by person id.
    let log = d.app.store.audit_log().await.unwrap();
    let isp = d
        .app
        .store
        .person_by_email("ao@isp.demo")
        .await
        .unwrap()
        .unwrap();
    assert!(
        log.iter().any(|e| e.action == "catalogue.import"
            && e.actor.as_deref() == Some(&format!("person:{}", isp.person_id))),
        "the import is in the log"
    );
}
both_databases!(an_ao_owns_its_catalogue, an_ao_owns_its_catalogue);

// --- 3. Cross-AO moderation -------------------------------------------------------------------

async fn an_ao_moderates_only_its_own(url: String) {
    let d = demo(&url).await;
    let cat = d.app.catalogue().await.unwrap();
    let (_, q) = cat.qualification("500/3707/9").unwrap();
    let key = q.units[0].unit.clone();
    let (_, unit) = cat.unit(&key).unwrap();
    let names: Vec<String> = unit
        .assessment_components
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let slug = key.replace(['/', ':', ' '], "-");
    let uri = format!("/api/v1/learners/{}/units/{slug}/marks", d.marek);
    let body = |adj: i32| serde_json::json!({"marks": names.iter().map(|n| serde_json::json!({"component": n, "mark": 40})).collect::<Vec<_>>(), "moderator_adjustment": adj});
    // ISP's staff and ISP's EQA: not theirs (ISMM's qualification).
    for t in [&d.t_isp, &d.t_eqa] {
        let r = post_json(&d, &uri, t, body(10)).await;
        assert!(
            r.status == StatusCode::NOT_FOUND || r.status == StatusCode::FORBIDDEN,
            "{} {}",
            r.status,
            r.body
        );
        // Nor may they read Marek's portfolio.
        let r = get(&d, &format!("/api/v1/learners/{}/portfolio", d.marek), t).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    }
    assert!(
        d.app
            .store
            .unit_results_of_learner(d.marek)
            .await
            .unwrap()
            .is_empty(),
        "nothing recorded"
    );
    // ISMM's staff may moderate.
    let r = post_json(&d, &uri, &d.t_admin_n, body(0)).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "the centre records: {}",
        r.body
    );
    let r = post_json(&d, &uri, &d.t_ismm, body(5)).await;
    assert_eq!(r.status, StatusCode::CREATED, "ISMM moderates: {}", r.body);
    // The centre's log: entries about Marek are ISMM's to read, not ISP's.
    let about_marek = format!("learner {}", d.marek);
    let log = |t: String| {
        let d = &d;
        async move {
            let r = get(d, "/api/v1/centres/1/audit", &t).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.body
        }
    };
    assert!(log(d.t_ismm.clone()).await.contains(&about_marek));
    assert!(!log(d.t_isp.clone()).await.contains(&about_marek));
    // A centre's registrations: AO staff see those on their own AO's qualifications only.
    let learners_seen = |t: String| {
        let d = &d;
        async move {
            let r = get(d, "/api/v1/centres/1/registrations", &t).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            json(&r)
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["learner"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert!(!learners_seen(d.t_isp.clone()).await.contains(&d.marek));
    assert!(learners_seen(d.t_ismm.clone()).await.contains(&d.marek));
    let all = learners_seen(d.t_admin_n.clone()).await;
    assert!(
        all.contains(&d.marek) && all.len() > 1,
        "the centre sees all its own"
    );
    // ISP's staff still read ISP learners at Northgate.
    let priya = common::learner_of(&d.app, "priya.learner@demo").await;
    let r = get(&d, &format!("/api/v1/learners/{priya}/portfolio"), &d.t_isp).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}
both_databases!(an_ao_moderates_only_its_own, an_ao_moderates_only_its_own);

// --- 4. HEAD past the policy ------------------------------------------------------------------

async fn head_is_decided_like_get(url: String) {
    let d = demo(&url).await;
    let r = anonymous(&d, "HEAD", "/centres/2/audit", None).await;
    assert_ne!(r.status, StatusCode::OK, "signed out");
    assert!(
        r.status == StatusCode::SEE_OTHER || r.status == StatusCode::UNAUTHORIZED,
        "{}",
        r.status
    );
    let r = send(
        &d.router,
        req("HEAD", "/api/v1/centres/2/audit", &d.t_admin_n)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another centre's audit");
    let r = send(
        &d.router,
        req("HEAD", "/api/v1/me", &d.t_admin_n)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "HEAD still works where GET does");
}
both_databases!(head_is_decided_like_get, head_is_decided_like_get);

// --- 5. Open redirect -------------------------------------------------------------------------

async fn sign_in_goes_back_only_to_this_site(url: String) {
    let d = demo(&url).await;
    for next in [
        "/%09/evil.example",
        "/\t/evil.example",
        "/%2F/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/%0d%0aSet-Cookie:%20x=y",
        "/\r\nSet-Cookie: x=y",
    ] {
        let form = format!(
            "email=admin%40northgate.demo&password=credence-demo-2026&next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        );
        let r = anonymous(&d, "POST", "/sign-in", Some(&form)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}: {}", r.body);
        let to = r.headers[header::LOCATION].to_str().unwrap();
        assert_eq!(to, "/home", "{next:?} goes to /home, not {to:?}");
    }
    // A path of this site is kept.
    let form = "email=admin%40northgate.demo&password=credence-demo-2026&next=%2Fcentres%2F1%3Ftab%3Dstaff";
    let r = anonymous(&d, "POST", "/sign-in", Some(form)).await;
    assert_eq!(r.headers[header::LOCATION], "/centres/1?tab=staff");
}
both_databases!(
    sign_in_goes_back_only_to_this_site,
    sign_in_goes_back_only_to_this_site
);

// --- 6. Password oracle -----------------------------------------------------------------------

async fn an_invitation_is_no_password_oracle(url: String) {
    let d = demo(&url).await;
    let admin = d
        .app
        .actor_from_api_token(&d.t_admin_n)
        .await
        .unwrap()
        .unwrap();
    // Northgate invites Sam (who already has an account) to be its IQA.
    let token = d
        .app
        .invite(
            &admin,
            "sam.assessor@demo",
            "Sam Okafor",
            "iqa",
            None,
            Some(1),
            "127.0.0.1",
        )
        .await
        .unwrap();
    // The log keeps no address, only a keyed hash that proves which one was invited.
    let entry = d
        .app
        .store
        .audit_log()
        .await
        .unwrap()
        .into_iter()
        .rfind(|e| e.action == "person_invited")
        .unwrap();
    assert!(!entry.detail.contains("sam.assessor"), "{}", entry.detail);
    assert!(
        entry
            .detail
            .contains(&d.app.provable("Sam.Assessor@demo").unwrap()),
        "{}",
        entry.detail
    );
    let uri = format!("/invitations/{token}");
    let mut limited = false;
    for i in 0..25 {
        let r = anonymous(&d, "POST", &uri, Some(&format!("password=guess-{i}"))).await;
        assert_ne!(
            r.status,
            StatusCode::SEE_OTHER,
            "a wrong guess is no session"
        );
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "guessing is limited like signing in");
    // Even the right password is refused while the limit holds.
    let r = anonymous(&d, "POST", &uri, Some("password=credence-demo-2026")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    // And signing in is limited too: the guesses counted against the account.
    let r = anonymous(
        &d,
        "POST",
        "/sign-in",
        Some("email=sam.assessor%40demo&password=credence-demo-2026"),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}
both_databases!(
    an_invitation_is_no_password_oracle,
    an_invitation_is_no_password_oracle
);

// --- 7. Audit log truncation ------------------------------------------------------------------

async fn a_shortened_or_moved_audit_log_is_caught(url: String) {
    let d = demo(&url).await;
    // Some centre work to log.
    let r = post(
        &d,
        "/api/v1/centres/1/registrations",
        &d.t_admin_n,
        "text/csv",
        "given_name,family_name,date_of_birth,qan\nAda,Lovelace,1990-12-10,610/3788/6\n",
    )
    .await;
    assert_eq!(json(&r)["registered"], 1, "{}", r.body);
    let operator = d.app.operator(None).await.unwrap();
    let checkpoint = d.app.audit_checkpoint(&operator).await.unwrap();
    assert!(d.app.verify_audit(Some(&checkpoint)).await.unwrap().is_ok());
    let text = checkpoint.to_text();
    let back = credence::app::audit::Checkpoint::parse(&text).unwrap();
    assert_eq!(back, checkpoint, "a checkpoint reads back");
    let pool = d.app.store.pool();

    // A checkpoint that was tampered with is refused.
    let forged = text.replacen(&checkpoint.hash, &"0".repeat(64), 1);
    let forged = credence::app::audit::Checkpoint::parse(&forged).unwrap();
    assert!(d.app.verify_audit(Some(&forged)).await.is_err());

    // The whole tail after the checkpoint is cut: the chain alone still holds, the
    // checkpoint does not.
    let last = checkpoint.entries;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "delete from audit_log where seq > {}",
        last - 2
    )))
    .execute(pool)
    .await
    .unwrap();
    let cut = d.app.verify_audit(None).await.unwrap();
    let why = cut.expect_err("the chain's head counts every entry written");
    assert!(why.contains("deleted"), "{why}");
    // An attacker who also moves the head back leaves a chain that holds on its own...
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "update audit_head set seq = {0}, hash = (select hash from audit_log where seq = {0})",
        last - 2
    )))
    .execute(pool)
    .await
    .unwrap();
    let chain_only = d.app.verify_audit(None).await.unwrap();
    assert!(
        chain_only.is_ok(),
        "a truncated chain is still a chain: {chain_only:?}"
    );
    // ...but not against the checkpoint kept outside the database.
    let with = d.app.verify_audit(Some(&checkpoint)).await.unwrap();
    let why = with.expect_err("the checkpoint catches the truncation");
    assert!(why.contains("shorter"), "{why}");

    // Moving an entry out of the centre's log is an edit the chain catches.
    let d = demo(&common_url(&url).await).await;
    let r = post(
        &d,
        "/api/v1/centres/1/registrations",
        &d.t_admin_n,
        "text/csv",
        "given_name,family_name,date_of_birth,qan\nAda,Lovelace,1990-12-10,610/3788/6\n",
    )
    .await;
    assert_eq!(json(&r)["registered"], 1, "{}", r.body);
    assert!(d.app.verify_audit(None).await.unwrap().is_ok());
    let (seq,): (i64,) =
        sqlx::query_as("select max(seq) from audit_log where centre_id is not null")
            .fetch_one(d.app.store.pool())
            .await
            .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "update audit_log set centre_id = null where seq = {seq}"
    )))
    .execute(d.app.store.pool())
    .await
    .unwrap();
    let r = d.app.verify_audit(None).await.unwrap();
    assert!(r.is_err(), "a changed centre_id is caught");
}
both_databases!(
    a_shortened_or_moved_audit_log_is_caught,
    a_shortened_or_moved_audit_log_is_caught
);

/// A fresh database of the same kind.
async fn common_url(url: &str) -> String {
    if url.starts_with("sqlite") {
        common::sqlite_url()
    } else {
        common::postgres_url().await.unwrap()
    }
}

// --- Migrations: an applied file that was edited is refused -----------------------------------

async fn an_edited_migration_is_refused(url: String) {
    let d = demo(&url).await;
    // A database made before checksums were kept gets them on its next start...
    sqlx::query("update schema_migration set checksum = null")
        .execute(d.app.store.pool())
        .await
        .unwrap();
    assert_eq!(d.app.store.migrate().await.unwrap(), 0, "nothing to apply");
    // ...and from then on a file that no longer matches what was applied stops the start.
    sqlx::query("update schema_migration set checksum = 'edited' where version = 2")
        .execute(d.app.store.pool())
        .await
        .unwrap();
    let err = d.app.store.migrate().await.unwrap_err().to_string();
    assert!(
        err.contains("0002_people") && err.contains("edited"),
        "{err}"
    );
}
both_databases!(
    an_edited_migration_is_refused,
    an_edited_migration_is_refused
);

// --- Upgrading a database the previous Credence made, with data in it -------------------------

async fn a_database_with_data_upgrades(url: String) {
    use credence::store::{NewEvidence, NewLearnerRegistration, NewVersion, Store};
    use credence_domain::people::audit;
    let store = Store::connect(&url).await.unwrap();
    // The schema as the previous release left it (migrations 1 to 4), and its data.
    store.migrate_to(4).await.unwrap();
    let seed = &common::seeds()[0];
    let mut imported = credence_domain::import::import(seed.text).unwrap();
    let c = credence_domain::corrections::Corrections::parse(seed.corrections).unwrap();
    credence_domain::corrections::apply(&mut imported, &c).unwrap();
    let spec = &imported.specification;
    let version = store
        .insert_catalogue_version(NewVersion {
            spec,
            status: "published",
            source_name: seed.name,
            source_sha256: "0",
            source_text: "",
            specification_json: &serde_json::to_string(spec).unwrap(),
            report_json: &serde_json::to_string(&imported.report).unwrap(),
            open_findings: 0,
            imported_at: None,
            published_at: Some("2026-01-01T00:00:00Z"),
            version_number: None,
        })
        .await
        .unwrap();
    let qualification = &spec.qualifications[0];
    let unit = &qualification.units[0].unit;
    let criterion = spec.unit(unit).unwrap().learning_outcomes[0].criteria[0]
        .number
        .clone();
    let assessor = store
        .insert_person("old@assessor.test", "Old Assessor", None)
        .await
        .unwrap();
    let centre = store.insert_centre("Old Centre").await.unwrap();
    let learner = store
        .register_learners(
            centre,
            &[NewLearnerRegistration {
                uln: None,
                given_name: "Olive".into(),
                family_name: "Oldham".into(),
                date_of_birth: "1990-01-01".into(),
                email: None,
                qan: qualification.qan.clone(),
                catalogue_version_id: version,
                units: Vec::new(),
                plan_by: None,
            }],
            |_| {},
        )
        .await
        .unwrap()[0];
    let evidence = store
        .insert_evidence(&NewEvidence {
            learner_id: learner,
            centre_id: centre,
            title: "Observation".into(),
            evidence_date: "2026-01-02".into(),
            kind: "observation_checklist".into(),
            kind_other: None,
            witness_name: None,
            witness_role: None,
            source: "real_workplace".into(),
            simulation_note: None,
            file_name: "obs.pdf".into(),
            media_type: "application/pdf".into(),
            size: 3,
            sha256: "0".repeat(64),
            object_key: "evidence/old".into(),
            added_by: assessor,
        })
        .await
        .unwrap();
    let pool = store.pool();
    sqlx::query("insert into evidence_mapping (evidence_id, learner_id, unit_key, criterion, location, mapped_by, mapped_at) values ($1, $2, $3, $4, 'page 1', $5, '2026-01-03T00:00:00Z')")
        .bind(evidence).bind(learner).bind(unit).bind(&criterion).bind(assessor)
        .execute(pool).await.unwrap();
    sqlx::query("insert into judgement (learner_id, unit_key, criterion, outcome, feedback, rpl, assessor_id, at) values ($1, $2, $3, 'met', '', 0, $4, '2030-01-04T00:00:00Z')")
        .bind(learner).bind(unit).bind(&criterion).bind(assessor)
        .execute(pool).await.unwrap();
    // The log as the previous release wrote it: encoding version 1, the centre in the detail.
    let mut prev = audit::GENESIS.to_string();
    for seq in 1..=3i64 {
        let detail = format!(r#"{{"centre":{centre},"n":{seq}}}"#);
        let at = format!("2026-01-0{seq}T00:00:00Z");
        let hash = audit::chain_hash(
            &prev,
            seq as u64,
            &at,
            Some("old@assessor.test"),
            None,
            "old.act",
            "centre",
            &detail,
        );
        sqlx::query("insert into audit_log (seq, at, actor, address, action, subject, centre_id, detail, prev_hash, hash) values ($1, $2, 'old@assessor.test', null, 'old.act', 'centre', $3, $4, $5, $6)")
            .bind(seq).bind(&at).bind(centre).bind(&detail).bind(&prev).bind(&hash)
            .execute(pool).await.unwrap();
        prev = hash;
    }

    // The upgrade.
    assert_eq!(
        store.migrate_to(10).await.unwrap(),
        6,
        "migrations 5 to 10 run"
    );
    // Two servers of the new version start at once on the old database: one upgrades it, the
    // other waits for the migration lock and then finds nothing left to do.
    // A job queued before the upgrade (an email) keeps its place in the queue.
    sqlx::query("insert into job (kind, payload, status, run_after, created_at) values ('email', '{}', 'queued', $1, $1)")
        .bind("2026-01-09T00:00:00Z")
        .execute(pool)
        .await
        .unwrap();
    let other = Store::connect(&url).await.unwrap();
    let (first, second) = tokio::join!(store.migrate(), other.migrate());
    assert_eq!(
        first.unwrap() + second.unwrap(),
        10,
        "then 11 (authentication), 12 (evidence occasions), 13 (version moves), 14 (records), 15 (retention), 16 (tasks), 17 (scale indexes), 18 (unit work), 19 (register search) and 20 (register newest), once"
    );
    // The sampling plan's summary of the work (18) is built from the decisions already made.
    let work = store.unit_work_at_centre(centre).await.unwrap();
    assert_eq!(
        work.iter()
            .map(|w| (
                w.learner_id,
                w.unit_key.clone(),
                w.assessor_id,
                w.last_at.clone()
            ))
            .collect::<Vec<_>>(),
        vec![(
            learner,
            unit.to_string(),
            assessor,
            "2030-01-04T00:00:00Z".to_string()
        )],
        "the old decision is in the plan's summary"
    );
    assert_eq!(
        store.first_decisions_at_centre(centre).await.unwrap(),
        vec![(assessor, "2030-01-04T00:00:00Z".to_string())]
    );
    let (queued, requested_by, done): (i64, Option<i64>, i64) = sqlx::query_as(
        "select count(*), max(requested_by), max(progress_done) from job where kind = 'email' and status = 'queued'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        (queued, requested_by, done),
        (1, None, 0),
        "the queued email survives the upgrade, asked for by no one, with no progress"
    );
    other.pool().close().await;
    // Certification (10): no certificate yet, and every earlier claim is a qualification's.
    assert!(
        store
            .certificates(&credence::store::CertificateFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    // The learning plan's tables (9) are there, empty: every learner starts on a proposal.
    assert!(store.plans_of_learner(learner).await.unwrap().is_empty());
    assert!(store.replies_of_learner(learner).await.unwrap().is_empty());
    let mappings = store.mappings_of_learner(learner).await.unwrap();
    assert_eq!(
        mappings[0].centre_id,
        Some(centre),
        "a mapping is the evidence's centre's"
    );
    let judgements = store.judgements_of_learner(learner).await.unwrap();
    assert_eq!(
        judgements[0].centre_id,
        Some(centre),
        "a decision is filed under its centre"
    );
    let app = credence::app::App::new(
        store.clone(),
        credence::evidence_store::EvidenceStore::local(&common::temp_dir("evidence")).unwrap(),
    );
    assert_eq!(
        app.verify_audit(None).await.unwrap(),
        Ok(3),
        "the old chain verifies"
    );
    // New entries chain on from the old ones, with the new encoding.
    app.store
        .grant_role(assessor, "assessor", None, Some(centre), None)
        .await
        .unwrap();
    let token = common::token_for(&app, "old@assessor.test").await;
    assert_eq!(app.verify_audit(None).await.unwrap(), Ok(4));
    let last = app.store.audit_entries(None, 1).await.unwrap();
    assert_eq!((last[0].seq, last[0].hash_version), (4, 2));
    assert_eq!(last[0].prev_hash, prev, "linked to the last old entry");
    // The centre's staff still see the learner's records.
    let actor = app.actor_from_api_token(&token).await.unwrap().unwrap();
    let p = app.portfolio(&actor, learner).await.unwrap();
    assert_eq!(p.evidence.len(), 1);
    assert_eq!(p.judgements.len(), 1);
}
both_databases!(a_database_with_data_upgrades, a_database_with_data_upgrades);

// --- Unique violations are recognised by the database's error code ---------------------------

async fn unique_violations_are_recognised_by_code(url: String) {
    let app = common::app_on(&url).await;
    let insert = "insert into person (email, display_name, password_hash, disabled, created_at, updated_at) values ('twice@x.test', 'Twice', null, 0, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')";
    sqlx::query(insert).execute(app.store.pool()).await.unwrap();
    let err = sqlx::query(insert)
        .execute(app.store.pool())
        .await
        .unwrap_err();
    assert!(credence::store::is_unique_violation(&err), "{err}");
    let other = sqlx::query("insert into person (email) values (null)")
        .execute(app.store.pool())
        .await
        .unwrap_err();
    assert!(!credence::store::is_unique_violation(&other), "{other}");
    assert!(matches!(
        credence::store::StoreError::from(err),
        credence::store::StoreError::Conflict(_)
    ));
}
both_databases!(
    unique_violations_are_recognised_by_code,
    unique_violations_are_recognised_by_code
);
