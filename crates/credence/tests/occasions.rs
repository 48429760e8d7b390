//! Evidence over time (issue 17, item 2), on SQLite and PostgreSQL: a learner on OCR unit 39
//! (`H/502/8599`, "evidence ... over a sufficient period of time on different occasions"),
//! their criterion judged met on one date and on two, the centre's own number of occasions,
//! who may set it, its audit entry, and the unit page showing the occasions and their span.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{StatusCode, header};
use common::{Reply, send};
use serde_json::{Value, json};

const UNIT: &str = "H/502/8599";

struct Fixture {
    app: credence::app::App,
    router: axum::Router,
    north: i64,
    river: i64,
    learner: i64,
    t_sam: String,
    t_admin_n: String,
    t_admin_r: String,
    t_iqa_n: String,
    t_learner: String,
    t_ocr: String,
}

/// The demo, Northgate approved by OCR's staff for unit 39 on its own, a learner registered
/// on it by Northgate's administrator (through the app, as the registration page does) and
/// Sam assigned as their assessor.
async fn fixture(url: &str) -> Fixture {
    let d = common::demo_centres(url).await;
    let app = d.app;
    let ocr = common::actor(&app, "ao@ocr.demo").await;
    app.approve_centre(&ocr, d.north, UNIT, "127.0.0.1")
        .await
        .expect("OCR's staff approve Northgate for the unit");
    let admin = common::actor(&app, "admin@northgate.demo").await;
    let scope = app.centre_admin_scope(&admin, d.north).await.unwrap();
    let form = credence::app::registration::RegisterForm {
        given_name: "Olu".into(),
        family_name: "Adeyemi".into(),
        date_of_birth: "1999-04-12".into(),
        unit: UNIT.into(),
        ..Default::default()
    };
    let learner = match app.register_one(&scope, &form, "127.0.0.1").await {
        Ok(id) => id,
        Err(_) => panic!("the learner registers on the unit"),
    };
    let reg = app
        .store
        .registrations_of_learner(learner)
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(reg.qan, UNIT);
    let sam = app
        .store
        .person_by_email("sam.assessor@demo")
        .await
        .unwrap()
        .unwrap();
    app.assign(
        &admin,
        d.north,
        reg.registration_id,
        sam.person_id,
        "assessor",
        "127.0.0.1",
    )
    .await
    .expect("Sam may assess the unit");
    // The learner's own account (as accepting their invitation would make it).
    let person = app
        .create_person(
            "olu@learner.test",
            "Olu Adeyemi",
            Some("a long test password"),
        )
        .await
        .unwrap();
    app.store
        .grant_role(person, "learner", None, Some(d.north), Some(learner))
        .await
        .unwrap();
    Fixture {
        t_learner: common::token_for(&app, "olu@learner.test").await,
        t_ocr: common::token_for(&app, "ao@ocr.demo").await,
        router: credence::web::router(app.clone()),
        north: d.north,
        river: d.river,
        learner,
        t_sam: common::token_for(&app, "sam.assessor@demo").await,
        t_admin_n: common::token_for(&app, "admin@northgate.demo").await,
        t_admin_r: common::token_for(&app, "admin@riverside.demo").await,
        t_iqa_n: common::token_for(&app, "iqa@northgate.demo").await,
        app,
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Upload an item dated `date` from `source`, as the assessor; its id.
async fn upload(f: &Fixture, title: &str, date: &str, source: &str) -> Reply {
    let uri = format!(
        "/api/v1/learners/{}/evidence?title={}&date={date}&kind=observation_checklist&source={source}&file_name=call.pdf",
        f.learner,
        enc(title)
    );
    send(
        &f.router,
        common::bearer("POST", &uri, &f.t_sam)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(format!("%PDF-1.4 {title} {date}")))
            .unwrap(),
    )
    .await
}

async fn post_json(f: &Fixture, uri: &str, token: &str, body: Value) -> Reply {
    common::post(&f.router, uri, token, "application/json", body.to_string()).await
}

/// Upload an item and map it to `criterion`; its id.
async fn evidence_on(f: &Fixture, title: &str, date: &str, criterion: &str) -> i64 {
    let r = upload(f, title, date, "real_workplace").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = post_json(
        f,
        &format!("/api/v1/learners/{}/evidence/{id}/mappings", f.learner),
        &f.t_sam,
        json!({"unit": UNIT, "criterion": criterion, "location": "whole record"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    id
}

/// The unit in the learner's portfolio, as the assessor reads it.
async fn unit(f: &Fixture) -> Value {
    let r = common::get(
        &f.router,
        &format!("/api/v1/learners/{}/portfolio", f.learner),
        &f.t_sam,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p: Value = serde_json::from_str(&r.body).unwrap();
    p["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == UNIT)
        .cloned()
        .expect("the unit is in the portfolio")
}

fn status_of(u: &Value, criterion: &str) -> Value {
    u["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["number"] == criterion)
        .unwrap()["status"]
        .clone()
}

async fn set_occasions(f: &Fixture, centre: i64, token: &str, n: u32, reason: &str) -> Reply {
    post_json(
        f,
        &format!("/api/v1/centres/{centre}/evidence-occasions"),
        token,
        json!({"unit": UNIT, "occasions": n, "reason": reason}),
    )
    .await
}

async fn unit_page(f: &Fixture, token: &str) -> Reply {
    common::get(
        &f.router,
        &format!("/learners/{}/portfolio/units/H-502-8599", f.learner),
        token,
    )
    .await
}

async fn a_criterion_counts_only_once_its_occasions_are_evidenced(url: String) {
    let f = fixture(&url).await;
    let u = unit(&f).await;
    let first = u["criteria"][0]["number"].as_str().unwrap().to_string();
    assert_eq!(u["met"], 0);

    // Evidence on one date, judged met: short of occasions, no progress.
    evidence_on(
        &f,
        "Lead qualification call, 5 October",
        "2026-10-05",
        &first,
    )
    .await;
    let r = post_json(
        &f,
        &format!("/api/v1/learners/{}/judgements", f.learner),
        &f.t_sam,
        json!({"unit": UNIT, "criterion": first, "outcome": "met", "feedback": "Clear qualifying questions"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let u = unit(&f).await;
    assert_eq!(
        status_of(&u, &first),
        json!({"status": "needs_occasions", "have": 1, "need": 2})
    );
    assert_eq!(u["met"], 0, "judged met on one occasion does not count");
    let page = unit_page(&f, &f.t_sam).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Judged met, short of occasions: 1 of 2")
            && page
                .body
                .contains("does not count towards progress until 1 more occasion is evidenced")
            && page
                .body
                .contains("1 of 2 occasions evidenced, all on one day"),
        "{}",
        page.body
    );

    // Evidence on a second date: the judgement counts.
    evidence_on(&f, "Prospect list, 28 October", "2026-10-28", &first).await;
    let u = unit(&f).await;
    assert_eq!(status_of(&u, &first)["status"], "met");
    assert_eq!(u["met"], 1);

    // The centre raises its number to 3: short again, and the page says what it needs.
    let before = f
        .app
        .store
        .audit_entries(Some(f.north), 1000)
        .await
        .unwrap();
    let r = set_occasions(
        &f,
        f.north,
        &f.t_admin_n,
        3,
        "Standardisation, 2 November: three occasions over at least two weeks",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let set: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(set["effective"], 3);
    assert_eq!(set["minimum"], 2);
    assert_eq!(set["setting"]["occasions"], 3);
    let u = unit(&f).await;
    assert_eq!(
        status_of(&u, &first),
        json!({"status": "needs_occasions", "have": 2, "need": 3})
    );
    assert_eq!(u["met"], 0);
    assert_eq!(
        (
            u["occasions_needed"].clone(),
            u["occasions_minimum"].clone()
        ),
        (json!(3), json!(2))
    );
    let occasions = &u["criteria"][0]["occasions"];
    assert_eq!(occasions[0]["date"], "2026-10-05");
    assert_eq!(occasions[1]["date"], "2026-10-28");
    assert_eq!(occasions.as_array().unwrap().len(), 2);

    // The entry is in the audit log, with the number before and after, in the same write.
    let after = f
        .app
        .store
        .audit_entries(Some(f.north), 1000)
        .await
        .unwrap();
    assert_eq!(after.len(), before.len() + 1);
    let entry = &after[0];
    assert_eq!(entry.action, "centre.evidence_occasions_set");
    let detail: Value = serde_json::from_str(&entry.detail).unwrap();
    assert_eq!(detail["unit"], UNIT);
    assert_eq!(detail["occasions"], 3);
    assert_eq!(detail["before"], 2);
    assert!(entry.actor.as_deref().unwrap().starts_with("person:"));

    // The unit page: each date with its items, the span, the progress and what is needed.
    // The learner, their assessor, the centre's administrator and IQA, and the AO's staff.
    for token in [&f.t_learner, &f.t_sam, &f.t_admin_n, &f.t_iqa_n, &f.t_ocr] {
        let page = unit_page(&f, token).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for words in [
            "<strong>5 October 2026</strong>: <a href=\"/learners/",
            "Lead qualification call, 5 October</a> (whole record)",
            "<strong>28 October 2026</strong>",
            "2 of 3 occasions evidenced, over 3 weeks and 2 days (5 October 2026 to 28 October 2026)",
            "Judged met, short of occasions: 2 of 3",
            "does not count towards progress until 1 more occasion is evidenced",
            "at least 3 different occasions",
            "The centre&#39;s own setting (the specification&#39;s minimum is 2)",
            "Standardisation, 2 November",
            "over a sufficient period of time on different occasions",
        ] {
            assert!(
                page.body.contains(words),
                "missing {words:?} in\n{}",
                page.body
            );
        }
    }

    // A third date: met again.
    evidence_on(&f, "Call notes, 16 November", "2026-11-16", &first).await;
    let u = unit(&f).await;
    assert_eq!(status_of(&u, &first)["status"], "met");
    assert_eq!(u["met"], 1);
    let page = unit_page(&f, &f.t_sam).await;
    assert!(
        page.body.contains(
            "3 of 3 occasions evidenced, over 6 weeks (5 October 2026 to 16 November 2026)"
        ),
        "{}",
        page.body
    );
}
both_databases!(
    a_criterion_counts_only_once_its_occasions_are_evidenced,
    a_criterion_counts_only_once_its_occasions_are_evidenced
);

async fn only_the_centres_admin_or_lead_iqa_sets_occasions_within_the_specification(url: String) {
    let f = fixture(&url).await;

    // Below the specification's minimum, above 20, or without a reason: refused, saying why.
    let r = set_occasions(&f, f.north, &f.t_admin_n, 1, "fewer").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("needs evidence from at least 2 occasions (the specification's minimum): enter 2 or more"),
        "{}",
        r.body
    );
    let r = set_occasions(&f, f.north, &f.t_admin_n, 21, "many").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("at most 20"), "{}", r.body);
    let r = set_occasions(&f, f.north, &f.t_admin_n, 3, "  ").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Say why"), "{}", r.body);

    // Another centre's administrator: the centre is not theirs to see (the route and the use
    // case both answer "not found").
    let r = set_occasions(&f, f.north, &f.t_admin_r, 3, "not ours").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let river_admin = common::actor(&f.app, "admin@riverside.demo").await;
    let e = f
        .app
        .set_centre_occasions(&river_admin, f.north, UNIT, 3, "not ours", "127.0.0.1")
        .await
        .unwrap_err();
    assert!(matches!(e, credence::app::AppError::NotFound(_)), "{e:?}");
    // Riverside is not approved for the unit: nothing to set there.
    let r = set_occasions(&f, f.river, &f.t_admin_r, 3, "not approved").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // The centre's assessor may read it but not set it; nor may an IQA who is not the lead.
    let r = set_occasions(&f, f.north, &f.t_sam, 3, "assessor").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = set_occasions(&f, f.north, &f.t_iqa_n, 3, "iqa").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("lead IQA"), "{}", r.body);
    let r = common::get(
        &f.router,
        &format!("/api/v1/centres/{}/evidence-occasions", f.north),
        &f.t_sam,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(list["may_set"], false);
    assert_eq!(list["units"][0]["unit"], UNIT);
    assert_eq!(list["units"][0]["effective"], 2);
    assert!(list["units"][0]["setting"].is_null());

    // Nothing was written by any of those.
    assert!(
        f.app
            .store
            .audit_entries(Some(f.north), 1000)
            .await
            .unwrap()
            .iter()
            .all(|e| e.action != "centre.evidence_occasions_set")
    );

    // Made lead IQA by the administrator, the IQA may.
    let admin = common::actor(&f.app, "admin@northgate.demo").await;
    let iqa = f
        .app
        .store
        .person_by_email("iqa@northgate.demo")
        .await
        .unwrap()
        .unwrap();
    f.app
        .set_lead_iqa(&admin, f.north, iqa.person_id, true, "127.0.0.1")
        .await
        .unwrap();
    let r = set_occasions(&f, f.north, &f.t_iqa_n, 4, "Lead IQA's reading").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The centre's page shows the setting, who set it, when and why, and the spec's words;
    // its form refuses a number below the minimum with the message beside the field.
    let page = common::get(
        &f.router,
        &format!("/centres/{}/evidence-occasions", f.north),
        &f.t_admin_n,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for words in [
        "<strong>4 occasions</strong>",
        "Lead IQA&#39;s reading",
        "over a sufficient period of time on different occasions",
        "Save the occasions for 39",
    ] {
        assert!(
            page.body.contains(words),
            "missing {words:?} in\n{}",
            page.body
        );
    }
    let r = common::post(
        &f.router,
        &format!("/centres/{}/evidence-occasions", f.north),
        &f.t_admin_n,
        "application/x-www-form-urlencoded",
        format!("unit={}&occasions=1&reason=fewer", enc(UNIT)),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("href=\"#occasions-1\"") && r.body.contains("enter 2 or more"),
        "{}",
        r.body
    );
    let r = common::post(
        &f.router,
        &format!("/centres/{}/evidence-occasions", f.north),
        &f.t_admin_n,
        "application/x-www-form-urlencoded",
        format!(
            "unit={}&occasions=2&reason={}",
            enc(UNIT),
            enc("Back to the minimum")
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = common::get(
        &f.router,
        &format!("/api/v1/centres/{}/evidence-occasions", f.north),
        &f.t_admin_n,
    )
    .await;
    let list: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(list["may_set"], true);
    assert_eq!(list["units"][0]["effective"], 2);
    assert_eq!(list["units"][0]["setting"]["reason"], "Back to the minimum");
}
both_databases!(
    only_the_centres_admin_or_lead_iqa_sets_occasions_within_the_specification,
    only_the_centres_admin_or_lead_iqa_sets_occasions_within_the_specification
);

/// OCR unit 39 asks for real work ("observe you in the workplace or ... tangible evidence of
/// your real work activities"), and its guidance quotes the CfA assessment strategy: "may be
/// based on either candidate performance at work or through RWE, as necessary". Evidence from
/// a realistic working environment may be mapped to it; a simulation outside one may not.
async fn real_work_or_an_rwe_counts_for_ocr_unit_39_a_simulation_outside_one_does_not(url: String) {
    let f = fixture(&url).await;
    let first = unit(&f).await["criteria"][0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    for (source, mapped) in [
        ("simulation", false),
        ("realistic_working_environment", true),
    ] {
        let r = upload(&f, &format!("Role play ({source})"), "2026-10-05", source).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
            .as_i64()
            .unwrap();
        let r = post_json(
            &f,
            &format!("/api/v1/learners/{}/evidence/{id}/mappings", f.learner),
            &f.t_sam,
            json!({"unit": UNIT, "criterion": first, "location": "whole record"}),
        )
        .await;
        if mapped {
            assert!(r.status.is_success(), "{source}: {} {}", r.status, r.body);
        } else {
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{source}: {}",
                r.body
            );
            assert!(
                r.body
                    .contains("must take place in a realistic working environment (RWE)"),
                "{source}: {}",
                r.body
            );
            assert_eq!(status_of(&unit(&f).await, &first)["status"], "no_evidence");
        }
    }
    assert_eq!(status_of(&unit(&f).await, &first)["status"], "evidenced");
}
both_databases!(
    real_work_or_an_rwe_counts_for_ocr_unit_39_a_simulation_outside_one_does_not,
    real_work_or_an_rwe_counts_for_ocr_unit_39_a_simulation_outside_one_does_not
);

/// A database an older Credence made (up to migration 10, with a centre) takes migrations
/// 0011 and 0012: the centre's settings start empty, are written and read back, and the table itself
/// refuses a number outside 1 to 20 whatever the caller checked.
async fn an_older_database_gains_the_centres_occasions(url: String) {
    let store = credence::store::Store::connect(&url).await.unwrap();
    store.migrate_to(10).await.unwrap();
    let (centre,): (i64,) = sqlx::query_as(
        "insert into centre (name, created_at, updated_at) values ('Older Centre', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z') returning centre_id",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(
        store.migrate_to(12).await.unwrap(),
        2,
        "0011 (authentication) and 0012 are new"
    );
    assert!(
        store
            .evidence_occasions_at(centre)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .set_evidence_occasions(centre, UNIT, 3, "After the upgrade", None)
        .await
        .unwrap();
    store
        .set_evidence_occasions(centre, UNIT, 4, "Set again", None)
        .await
        .unwrap();
    let rows = store.evidence_occasions_at(centre).await.unwrap();
    assert_eq!(rows.len(), 1, "setting again replaces");
    assert_eq!(
        (rows[0].occasions, rows[0].reason.as_str()),
        (4, "Set again")
    );
    assert!(rows[0].set_by_name.is_none());
    assert!(
        store
            .set_evidence_occasions(centre, UNIT, 21, "too many", None)
            .await
            .is_err()
    );
    assert_eq!(
        store.evidence_occasions_at(centre).await.unwrap()[0].occasions,
        4
    );
}
both_databases!(
    an_older_database_gains_the_centres_occasions,
    an_older_database_gains_the_centres_occasions
);
