//! The daily loop (issue 11) on SQLite and PostgreSQL: each learner's plan (checked against
//! the rules of combination, counted by progress, audited, only for those who may), a whole
//! unit judged in one form, one item mapped to many criteria in one step, and feedback that
//! both sides see.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{StatusCode, header};
use common::{Reply, send};
use serde_json::{Value, json};

struct Demo {
    app: credence::app::App,
    router: axum::Router,
    priya: i64,
    t_priya: String,
    t_sam: String,
    t_admin_n: String,
    t_admin_r: String,
    t_tom: String,
    t_iqa: String,
}

async fn demo(url: &str) -> Demo {
    let app = common::app_on(url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    Demo {
        priya: common::learner_of(&app, "priya.learner@demo").await,
        t_priya: common::token_for(&app, "priya.learner@demo").await,
        t_sam: common::token_for(&app, "sam.assessor@demo").await,
        t_admin_n: common::token_for(&app, "admin@northgate.demo").await,
        t_admin_r: common::token_for(&app, "admin@riverside.demo").await,
        t_tom: common::token_for(&app, "tom.learner@demo").await,
        t_iqa: common::token_for(&app, "iqa@northgate.demo").await,
        app,
        router,
    }
}

async fn get(d: &Demo, uri: &str, token: &str) -> Reply {
    common::get(&d.router, uri, token).await
}

async fn put_json(d: &Demo, uri: &str, token: &str, body: Value) -> Reply {
    send(
        &d.router,
        common::bearer("PUT", uri, token)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn post_json(d: &Demo, uri: &str, token: &str, body: Value) -> Reply {
    common::post(&d.router, uri, token, "application/json", body.to_string()).await
}

async fn post_form(d: &Demo, uri: &str, token: &str, body: &str) -> Reply {
    common::post(
        &d.router,
        uri,
        token,
        "application/x-www-form-urlencoded",
        body.to_string(),
    )
    .await
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn json_of(d: &Demo, uri: &str, token: &str) -> Value {
    let r = get(d, uri, token).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

async fn plan(d: &Demo, token: &str) -> Value {
    json_of(d, &format!("/api/v1/learners/{}/plan", d.priya), token).await
}

fn planned(q: &Value) -> Vec<String> {
    q["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["in_plan"] == true)
        .map(|u| u["key"].as_str().unwrap().to_string())
        .collect()
}

async fn audit_actions(d: &Demo, action: &str) -> Vec<Value> {
    d.app
        .store
        .audit_log()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect()
}

async fn a_plan_is_checked_counted_audited_and_kept_to_those_who_may(url: String) {
    let d = demo(&url).await;
    // Without a chosen plan, the planner's proposal: labelled, meeting the rules, far fewer
    // criteria than the whole qualification.
    let p = plan(&d, &d.t_priya).await;
    let q = &p["qualifications"][0];
    assert_eq!(q["qan"], "610/3788/6");
    assert_eq!(q["chosen"], false, "a proposal, not a choice");
    assert!(q["unmet"].as_array().unwrap().is_empty(), "{q}");
    let proposal = planned(q);
    assert!(!proposal.is_empty() && proposal.len() < q["units"].as_array().unwrap().len());
    let all_criteria: u64 = q["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["criteria_total"].as_u64().unwrap())
        .sum();
    let portfolio = json_of(
        &d,
        &format!("/api/v1/learners/{}/portfolio", d.priya),
        &d.t_priya,
    )
    .await;
    assert_eq!(
        portfolio["total"], q["criteria_total"],
        "progress counts the plan"
    );
    assert!(portfolio["total"].as_u64().unwrap() < all_criteria);
    let page = get(&d, &format!("/learners/{}/plan", d.priya), &d.t_priya).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Proposed plan"),
        "labelled as a proposal"
    );
    let portfolio_page = get(&d, &format!("/learners/{}/portfolio", d.priya), &d.t_priya).await;
    assert!(
        portfolio_page
            .body
            .contains("proposed plan, not chosen yet")
    );
    assert!(
        portfolio_page
            .body
            .contains(&format!("of {} (", q["criteria_total"].as_u64().unwrap()))
    );

    // A plan that cannot meet the qualification is refused, naming every unmet requirement.
    let first = proposal[0].clone();
    let expected = d
        .app
        .check_rules("610/3788/6", std::slice::from_ref(&first))
        .await
        .unwrap();
    assert!(expected.unmet.len() >= 2);
    let uri = format!("/api/v1/learners/{}/plan", d.priya);
    let r = put_json(
        &d,
        &uri,
        &d.t_priya,
        json!({"qan": "610/3788/6", "units": [first]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for u in &expected.unmet {
        assert!(
            r.body.contains(&u.message),
            "names '{}': {}",
            u.message,
            r.body
        );
    }
    // Units not of the qualification are named too.
    let with_unknown = [proposal.clone(), vec!["NOPE1".to_string()]].concat();
    let r = put_json(
        &d,
        &uri,
        &d.t_priya,
        json!({"qan": "610/3788/6", "units": with_unknown}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("NOPE1"), "{}", r.body);
    // The page form keeps what was ticked.
    let r = post_form(
        &d,
        &format!("/learners/{}/plan", d.priya),
        &d.t_priya,
        &format!(
            "qan={}&action=save&units={}",
            enc("610/3788/6"),
            enc(&first)
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains(&expected.unmet[0].message));
    assert_eq!(r.body.matches(" checked").count(), 1, "only the one ticked");
    assert!(audit_actions(&d, "plan.choose").await.is_empty());

    // A valid plan with one more unit than the proposal: chosen, audited, counted.
    let extra = q["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            u["in_plan"] == false
                && u["credit"].as_u64().unwrap_or(0) > 0
                && q["plan_credit"].as_u64().unwrap() + u["credit"].as_u64().unwrap() <= 36
        })
        .map(|u| u["key"].as_str().unwrap().to_string())
        .unwrap();
    let mine = [proposal.clone(), vec![extra.clone()]].concat();
    let stamp = plan(&d, &d.t_priya).await["stamp"].as_i64().unwrap();
    let r = put_json(
        &d,
        &uri,
        &d.t_priya,
        json!({"qan": "610/3788/6", "units": mine, "stamp": stamp}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["chosen"], true);
    assert_eq!(v["chosen_by"], "Priya Shah");
    let mut got = planned(&v);
    got.sort();
    let mut want = mine.clone();
    want.sort();
    assert_eq!(got, want);
    let portfolio = json_of(
        &d,
        &format!("/api/v1/learners/{}/portfolio", d.priya),
        &d.t_priya,
    )
    .await;
    assert_eq!(portfolio["total"], v["criteria_total"]);
    assert!(portfolio["total"].as_u64() > q["criteria_total"].as_u64());
    let entries = audit_actions(&d, "plan.choose").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["before"], json!([]));
    assert_eq!(entries[0]["after"].as_array().unwrap().len(), mine.len());
    // The decision was taken on a view that has moved since: refused.
    let r = put_json(
        &d,
        &uri,
        &d.t_priya,
        json!({"qan": "610/3788/6", "units": proposal, "stamp": stamp}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    // The centre's administrator and the assessor may change it; the IQA sees it but may
    // not; another learner and another centre's staff do not see it at all.
    let r = put_json(
        &d,
        &uri,
        &d.t_admin_n,
        json!({"qan": "610/3788/6", "units": proposal}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = put_json(
        &d,
        &uri,
        &d.t_sam,
        json!({"qan": "610/3788/6", "units": mine}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = put_json(
        &d,
        &uri,
        &d.t_iqa,
        json!({"qan": "610/3788/6", "units": proposal}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    for t in [&d.t_tom, &d.t_admin_r] {
        assert_eq!(get(&d, &uri, t).await.status, StatusCode::NOT_FOUND);
        let r = put_json(&d, &uri, t, json!({"qan": "610/3788/6", "units": proposal})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let r = get(&d, &format!("/learners/{}/plan", d.priya), t).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(audit_actions(&d, "plan.choose").await.len(), 3);

    // Work on a unit outside the plan is not lost: shown, marked, and in the log.
    let (outside_key, outside_criterion) = q["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["in_plan"] == false && u["key"] != extra.as_str())
        .map(|u| {
            (
                u["key"].as_str().unwrap().to_string(),
                u["ao_ref"].as_str().unwrap().to_string(),
            )
        })
        .unwrap();
    let portfolio = json_of(
        &d,
        &format!("/api/v1/learners/{}/portfolio", d.priya),
        &d.t_priya,
    )
    .await;
    let criterion = portfolio["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == outside_key.as_str())
        .unwrap()["criteria"][0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let r = send(
        &d.router,
        common::bearer(
            "POST",
            &format!(
                "/api/v1/learners/{}/evidence?title=Notes&date=2026-11-02&kind=worksheet&source=real_workplace&file_name=notes.txt",
                d.priya
            ),
            &d.t_priya,
        )
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from("worksheet notes"))
        .unwrap(),
    )
    .await;
    let item = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/evidence/{item}/mappings", d.priya),
        &d.t_priya,
        json!({"unit": outside_key, "criterion": criterion, "location": "page 1"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let page = get(&d, &format!("/learners/{}/portfolio", d.priya), &d.t_priya).await;
    assert!(
        page.body.contains("Outside the plan"),
        "the unit is shown, marked"
    );
    let page = get(&d, &format!("/learners/{}/plan", d.priya), &d.t_priya).await;
    assert!(page.body.contains("Work on units outside the plan"));
    assert!(page.body.contains(&outside_criterion));
    let log = get(
        &d,
        &format!("/learners/{}/achievement-log/610-3788-6", d.priya),
        &d.t_priya,
    )
    .await;
    assert!(log.body.contains("Outside the learner"), "the log notes it");
    assert!(
        log.body.contains("Optional unit not taken"),
        "the others are annotated"
    );

    // Going back to the proposal (no units) is a change too.
    let r = put_json(
        &d,
        &uri,
        &d.t_priya,
        json!({"qan": "610/3788/6", "units": []}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        serde_json::from_str::<Value>(&r.body).unwrap()["chosen"],
        false
    );
    assert_eq!(audit_actions(&d, "plan.choose").await.len(), 4);
    assert!(d.app.verify_audit(None).await.unwrap().is_ok());
}
both_databases!(
    a_plan_is_checked_counted_audited_and_kept_to_those_who_may,
    a_plan_is_checked_counted_audited_and_kept_to_those_who_may
);

/// Priya's first unit of the plan, its slug and criteria; and an uploaded item.
async fn unit_and_item(d: &Demo) -> (String, String, Vec<String>, i64) {
    let portfolio = json_of(
        d,
        &format!("/api/v1/learners/{}/portfolio", d.priya),
        &d.t_priya,
    )
    .await;
    let u = portfolio["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["in_plan"] == true)
        .unwrap();
    let key = u["unit"].as_str().unwrap().to_string();
    let criteria: Vec<String> = u["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap().to_string())
        .collect();
    assert!(criteria.len() >= 3);
    let r = send(
        &d.router,
        common::bearer(
            "POST",
            &format!(
                "/api/v1/learners/{}/evidence?title=Observed%20call&date=2026-11-02&kind=observation_checklist&source=real_workplace&file_name=call.pdf",
                d.priya
            ),
            &d.t_priya,
        )
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(b"%PDF-1.4 an observed call".repeat(50)))
        .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let slug = credence::app::catalogue::unit_slug(&key);
    (key, slug, criteria, id)
}

fn status_of<'a>(p: &'a Value, key: &str, criterion: &str) -> &'a str {
    p["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == key)
        .unwrap()["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["number"] == criterion)
        .unwrap()["status"]["status"]
        .as_str()
        .unwrap()
}

async fn one_item_maps_to_many_criteria_and_a_unit_is_judged_in_one_form(url: String) {
    let d = demo(&url).await;
    let (key, slug, criteria, id) = unit_and_item(&d).await;
    let map_uri = format!("/learners/{}/evidence/{id}/mappings", d.priya);
    let targets: String = criteria
        .iter()
        .map(|c| format!("&targets={}", enc(&format!("{key}|{c}"))))
        .collect();

    // The evidence page offers the plan's units as checkboxes, not one long select.
    let page = get(
        &d,
        &format!("/learners/{}/evidence/{id}", d.priya),
        &d.t_priya,
    )
    .await;
    assert!(page.body.contains("name=\"targets\""));
    assert!(!page.body.contains("<select class=\"select\" id=\"target\""));

    // A problem keeps what was ticked and typed; nothing is mapped.
    let r = post_form(&d, &map_uri, &d.t_priya, &format!("location={targets}")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Say where in the evidence"), "{}", r.body);
    assert!(r.body.matches("name=\"targets\" value=").count() > criteria.len());
    assert_eq!(r.body.matches("\" checked>").count(), criteria.len());
    assert!(audit_actions(&d, "evidence.map").await.is_empty());

    // One step maps the item to every criterion of the unit: one audit entry.
    let r = post_form(
        &d,
        &map_uri,
        &d.t_priya,
        &format!("location={}{targets}", enc("pages 1 to 3")),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let entries = audit_actions(&d, "evidence.map").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0]["criteria"].as_array().unwrap().len(),
        criteria.len()
    );
    let p = json_of(
        &d,
        &format!("/api/v1/learners/{}/portfolio", d.priya),
        &d.t_sam,
    )
    .await;
    for c in &criteria {
        assert_eq!(status_of(&p, &key, c), "evidenced", "{c}");
    }
    // The JSON API maps several at once too.
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/evidence/{id}/mappings", d.priya),
        &d.t_priya,
        json!({"criteria": [{"unit": key, "criterion": criteria[0]}, {"unit": key, "criterion": criteria[1]}], "location": "page 2"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    // The unit page's one form: no outcome is chosen for the assessor.
    let unit_uri = format!("/learners/{}/portfolio/units/{slug}", d.priya);
    let page = get(&d, &unit_uri, &d.t_sam).await;
    assert!(page.body.contains("id=\"unit-decisions\""));
    assert!(
        !page.body.contains("value=\"met\" checked"),
        "nothing pre-selected"
    );
    let stamp = p["stamp"].as_i64().unwrap() + 1; // the JSON mapping above moved it once
    let rows = |first: &str, second_feedback: &str| -> String {
        let mut body = format!("stamp={stamp}");
        for c in &criteria {
            body.push_str(&format!("&criterion={}", enc(c)));
        }
        body.push_str(&format!(
            "&{}=met&{}={}",
            enc(&format!("outcome:{}", criteria[0])),
            enc(&format!("feedback:{}", criteria[0])),
            enc(first)
        ));
        body.push_str(&format!(
            "&{}=not_yet_met&{}={}",
            enc(&format!("outcome:{}", criteria[1])),
            enc(&format!("feedback:{}", criteria[1])),
            enc(second_feedback)
        ));
        body
    };
    let decisions_uri = format!("{unit_uri}/decisions");
    // "Not yet met" without feedback: refused, naming the criterion, keeping the rest.
    let r = post_form(
        &d,
        &decisions_uri,
        &d.t_sam,
        &rows("Clear and well paced", ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains(&format!("Criterion {}: Give feedback", criteria[1])),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Clear and well paced"),
        "typed feedback kept"
    );
    assert!(
        r.body.contains("value=\"met\" checked"),
        "chosen outcome kept"
    );
    assert!(audit_actions(&d, "assessment.judge_unit").await.is_empty());

    // Blank rows are no decision; the rest are recorded at once, back at the criteria.
    let r = post_form(
        &d,
        &decisions_uri,
        &d.t_sam,
        &rows("Clear and well paced", "Show how you qualified the lead"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.headers[header::LOCATION].to_str().unwrap();
    assert!(to.ends_with("?done=decisions#criteria"), "{to}");
    let p = json_of(
        &d,
        &format!("/api/v1/learners/{}/portfolio", d.priya),
        &d.t_priya,
    )
    .await;
    assert_eq!(status_of(&p, &key, &criteria[0]), "met");
    assert_eq!(status_of(&p, &key, &criteria[1]), "not_yet_met");
    for c in &criteria[2..] {
        assert_eq!(status_of(&p, &key, c), "evidenced", "{c}: no decision");
    }
    let entries = audit_actions(&d, "assessment.judge_unit").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["decisions"].as_array().unwrap().len(), 2);

    // The same form on the view that has since moved: refused, nothing recorded.
    let r = post_form(
        &d,
        &decisions_uri,
        &d.t_sam,
        &rows("Again", "Again with feedback"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(audit_actions(&d, "assessment.judge_unit").await.len(), 1);

    // Feedback is not lost: the learner reads both, the "met" one too, on the unit page and
    // on the portfolio.
    let page = get(&d, &unit_uri, &d.t_priya).await;
    assert!(
        page.body.contains("Clear and well paced"),
        "met feedback shown"
    );
    assert!(page.body.contains("Show how you qualified the lead"));
    assert!(
        !page.body.contains("id=\"unit-decisions\""),
        "no form for a learner"
    );
    let page = get(&d, &format!("/learners/{}/portfolio", d.priya), &d.t_priya).await;
    assert!(page.body.contains("Clear and well paced"));

    // The learner replies on the feedback; the assessor reads the reply in the thread.
    let r = post_form(
        &d,
        &format!("{unit_uri}/replies"),
        &d.t_priya,
        &format!(
            "criterion={}&body={}",
            enc(&criteria[1]),
            enc("I added the call notes on page 4")
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = get(&d, &unit_uri, &d.t_sam).await;
    let thread_at = page.body.find("Show how you qualified the lead").unwrap();
    let reply_at = page.body.find("I added the call notes on page 4").unwrap();
    assert!(reply_at > thread_at, "the reply follows the feedback");
    // The assessor answers on the page too: the reply's fields sit beside the criterion in
    // the decisions table, and belong to a form of their own after the decisions form (a
    // form may not hold another).
    let c1 = &criteria[1];
    let own_form = format!("<form id=\"reply-form-{c1}\"");
    let decisions_end = page.body[page.body.find("id=\"unit-decisions\"").unwrap()..]
        .find("</form>")
        .unwrap()
        + page.body.find("id=\"unit-decisions\"").unwrap();
    let own_at = page
        .body
        .find(&own_form)
        .expect("the assessor's reply form");
    assert!(own_at > decisions_end, "not inside the decisions form");
    assert!(page.body.contains(&format!(
        "name=\"body\" rows=\"2\" form=\"reply-form-{c1}\""
    )));
    let r = post_form(
        &d,
        &format!("{unit_uri}/replies"),
        &d.t_sam,
        &format!(
            "criterion={}&body={}",
            enc(c1),
            enc("Page 4 shows it: I will judge it again this week")
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = get(&d, &unit_uri, &d.t_priya).await;
    assert!(
        page.body
            .contains("Page 4 shows it: I will judge it again this week")
    );
    let r = post_form(
        &d,
        &format!("{unit_uri}/replies"),
        &d.t_priya,
        &format!("criterion={}&body=", enc(&criteria[1])),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/units/{}/replies", d.priya, enc(&key)),
        &d.t_tom,
        json!({"criterion": criteria[1], "body": "not mine"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/units/{}/replies", d.priya, enc(&key)),
        &d.t_sam,
        json!({"criterion": criteria[1], "body": "Thanks, I will look at page 4"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(audit_actions(&d, "feedback.reply").await.len(), 3);

    // The JSON twin: a whole unit at once; a learner may not.
    let r = post_json(
        &d,
        &format!(
            "/api/v1/learners/{}/units/{}/decisions",
            d.priya,
            enc(&key)
        ),
        &d.t_sam,
        json!({"decisions": [{"criterion": criteria[2], "outcome": "met", "feedback": "Seen"}, {"criterion": criteria[3.min(criteria.len() - 1)]}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        serde_json::from_str::<Value>(&r.body).unwrap()["recorded"],
        1
    );
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/units/{}/decisions", d.priya, enc(&key)),
        &d.t_priya,
        json!({"decisions": [{"criterion": criteria[2], "outcome": "met"}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // The per-criterion judging still works.
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/judgements", d.priya),
        &d.t_sam,
        json!({"unit": key, "criterion": criteria[1], "outcome": "met", "feedback": "Now shown"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(d.app.verify_audit(None).await.unwrap().is_ok());
}
both_databases!(
    one_item_maps_to_many_criteria_and_a_unit_is_judged_in_one_form,
    one_item_maps_to_many_criteria_and_a_unit_is_judged_in_one_form
);

async fn a_plan_chosen_at_registration_is_checked_and_kept(url: String) {
    let d = demo(&url).await;
    // The proposal for the Certificate, to register with; and a plan too small to meet it.
    let q = &plan(&d, &d.t_priya).await["qualifications"][0];
    let refs: Vec<String> = q["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["in_plan"] == true)
        .map(|u| u["ao_ref"].as_str().unwrap().to_string())
        .collect();
    let small = refs[0].clone();
    let csv = format!(
        "given_name,family_name,date_of_birth,qan,units\nNia,Roberts,1995-05-05,610/3788/6,\"{}\"\nOwen,Price,1993-03-03,610/3788/6,{small}\nPat,Quinn,1992-02-02,610/3788/6,\n",
        refs.join(" ")
    );
    let centre = 1;
    let uri = format!("/api/v1/centres/{centre}/registrations");
    let r = common::post(&d.router, &uri, &d.t_admin_n, "text/csv", csv.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let out: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(out["registered"], 0, "a row in error registers nothing");
    let errors = out["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = errors[0].as_str().unwrap();
    assert!(e.starts_with("Row 3, units:"), "{e}");
    assert!(e.contains("credits") || e.contains("CORE"), "{e}");

    let r = common::post(
        &d.router,
        &format!("{uri}?good_rows=true"),
        &d.t_admin_n,
        "text/csv",
        csv,
    )
    .await;
    let out: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(out["registered"], 2, "{}", r.body);
    let regs = d
        .app
        .store
        .registrations_at_centre(centre, 1000)
        .await
        .unwrap();
    let nia = regs
        .iter()
        .find(|r| r.given_name == "Nia")
        .unwrap()
        .learner_id;
    let pat = regs
        .iter()
        .find(|r| r.given_name == "Pat")
        .unwrap()
        .learner_id;
    let plan_of = |learner: i64| {
        let d = &d;
        async move {
            json_of(d, &format!("/api/v1/learners/{learner}/plan"), &d.t_admin_n).await
                ["qualifications"][0]
                .clone()
        }
    };
    let nia_plan = plan_of(nia).await;
    assert_eq!(nia_plan["chosen"], true);
    assert_eq!(nia_plan["chosen_by"], "Nadia Patel");
    assert_eq!(planned(&nia_plan).len(), refs.len());
    assert_eq!(plan_of(pat).await["chosen"], false, "no units: a proposal");
    let entry = d
        .app
        .store
        .audit_log()
        .await
        .unwrap()
        .into_iter()
        .rfind(|e| e.action == "learners_registered_from_file")
        .unwrap();
    assert!(
        entry.detail.contains("\"with_plans\":1"),
        "{}",
        entry.detail
    );

    // One learner typed in the page, with a plan: too small is refused beside the field,
    // keeping what was typed; a plan that meets the rules is kept as chosen.
    let one = |units: &str| {
        format!(
            "given_name=Rhys&family_name=Morgan&date_of_birth=04%2F04%2F1994&uln=&email=&qan={}&units={}",
            enc("610/3788/6"),
            enc(units)
        )
    };
    let form_uri = format!("/centres/{centre}/registrations");
    let r = post_form(&d, &form_uri, &d.t_admin_n, &one(&small)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"units-error\""), "{}", r.body);
    assert!(r.body.contains("do not meet the rules of 610/3788/6"));
    assert!(r.body.contains(&format!("name=\"units\" type=\"text\" autocomplete=\"off\" aria-describedby=\"units-hint\" value=\"{small}\"")));
    assert!(
        r.body.contains("value=\"Morgan\""),
        "the form keeps what was typed"
    );
    let r = post_form(&d, &form_uri, &d.t_admin_n, &one(&refs.join(" "))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let rhys: i64 = r.headers["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/learners/")
        .parse()
        .unwrap();
    let rhys_plan = plan_of(rhys).await;
    assert_eq!(rhys_plan["chosen"], true);
    assert_eq!(planned(&rhys_plan).len(), refs.len());
}
both_databases!(
    a_plan_chosen_at_registration_is_checked_and_kept,
    a_plan_chosen_at_registration_is_checked_and_kept
);
