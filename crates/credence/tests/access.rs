//! The access matrix: every route of the app (pages and API), requested by a person of
//! every role, from one centre and from another, and by nobody. The routes come from the
//! router's own tables (the access policies and the OpenAPI document), so a new route
//! without an access decision fails here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use credence::web::access::{POLICIES, Policy};
use tower::ServiceExt;

/// The demo's people, in the order of the table's rows (after "nobody"). Their roles (see
/// `credence::app::demo`): ISP's staff; OCR's staff (no centre works with OCR); ISP's EQA,
/// appointed to Northgate; each centre's administrator; Sam, assessor at both and IQA at
/// Riverside; Northgate's IQA; Priya, a Northgate learner; Tom, a Riverside learner.
const PEOPLE: &[&str] = &[
    "ao@isp.demo",
    "ao@ocr.demo",
    "eqa@isp.demo",
    "admin@northgate.demo",
    "admin@riverside.demo",
    "sam.assessor@demo",
    "iqa@northgate.demo",
    "priya.learner@demo",
    "tom.learner@demo",
];

#[derive(Debug, PartialEq, Clone, Copy)]
enum Expect {
    Allowed,
    SignIn,
    Forbidden,
    Hidden,
}
use Expect::{Allowed, Forbidden, Hidden, SignIn};

/// What each person gets from a route of each policy, at Northgate's scope and at Riverside's
/// (the `{centre}` in the path, or the `{learner}`: Priya at Northgate, Tom at Riverside).
/// Rows: nobody, then [`PEOPLE`] in order. Stated as cases, not computed: a change in who may
/// do what must change this table.
type Row = [Expect; 2];
const TABLE: &[(Policy, [Row; 10])] = &[
    (
        Policy::Public,
        [
            [Allowed, Allowed], // nobody
            [Allowed, Allowed], // ao@isp.demo
            [Allowed, Allowed], // ao@ocr.demo
            [Allowed, Allowed], // eqa@isp.demo
            [Allowed, Allowed], // admin@northgate.demo
            [Allowed, Allowed], // admin@riverside.demo
            [Allowed, Allowed], // sam.assessor@demo
            [Allowed, Allowed], // iqa@northgate.demo
            [Allowed, Allowed], // priya.learner@demo
            [Allowed, Allowed], // tom.learner@demo
        ],
    ),
    (
        Policy::SignedIn,
        [
            [SignIn, SignIn],   // nobody
            [Allowed, Allowed], // ao@isp.demo
            [Allowed, Allowed], // ao@ocr.demo
            [Allowed, Allowed], // eqa@isp.demo
            [Allowed, Allowed], // admin@northgate.demo
            [Allowed, Allowed], // admin@riverside.demo
            [Allowed, Allowed], // sam.assessor@demo
            [Allowed, Allowed], // iqa@northgate.demo
            [Allowed, Allowed], // priya.learner@demo
            [Allowed, Allowed], // tom.learner@demo
        ],
    ),
    (
        Policy::AoStaff,
        [
            [SignIn, SignIn],       // nobody
            [Allowed, Allowed],     // ao@isp.demo
            [Allowed, Allowed],     // ao@ocr.demo
            [Forbidden, Forbidden], // eqa@isp.demo
            [Forbidden, Forbidden], // admin@northgate.demo
            [Forbidden, Forbidden], // admin@riverside.demo
            [Forbidden, Forbidden], // sam.assessor@demo
            [Forbidden, Forbidden], // iqa@northgate.demo
            [Forbidden, Forbidden], // priya.learner@demo
            [Forbidden, Forbidden], // tom.learner@demo
        ],
    ),
    (
        Policy::CentreQa,
        [
            [SignIn, SignIn],     // nobody
            [Allowed, Allowed],   // ao@isp.demo
            [Hidden, Hidden],     // ao@ocr.demo
            [Allowed, Hidden],    // eqa@isp.demo
            [Allowed, Hidden],    // admin@northgate.demo
            [Hidden, Allowed],    // admin@riverside.demo
            [Forbidden, Allowed], // sam.assessor@demo: assessor at Northgate, IQA at Riverside
            [Allowed, Hidden],    // iqa@northgate.demo
            [Forbidden, Hidden],  // priya.learner@demo
            [Hidden, Forbidden],  // tom.learner@demo
        ],
    ),
    (
        Policy::CentreView,
        [
            [SignIn, SignIn],    // nobody
            [Allowed, Allowed],  // ao@isp.demo
            [Hidden, Hidden],    // ao@ocr.demo
            [Allowed, Hidden],   // eqa@isp.demo
            [Allowed, Hidden],   // admin@northgate.demo
            [Hidden, Allowed],   // admin@riverside.demo
            [Allowed, Allowed],  // sam.assessor@demo
            [Allowed, Hidden],   // iqa@northgate.demo
            [Forbidden, Hidden], // priya.learner@demo
            [Hidden, Forbidden], // tom.learner@demo
        ],
    ),
    (
        Policy::CentreAdmin,
        [
            [SignIn, SignIn],       // nobody
            [Forbidden, Forbidden], // ao@isp.demo
            [Hidden, Hidden],       // ao@ocr.demo
            [Forbidden, Hidden],    // eqa@isp.demo
            [Allowed, Hidden],      // admin@northgate.demo
            [Hidden, Allowed],      // admin@riverside.demo
            [Forbidden, Forbidden], // sam.assessor@demo
            [Forbidden, Hidden],    // iqa@northgate.demo
            [Forbidden, Hidden],    // priya.learner@demo
            [Hidden, Forbidden],    // tom.learner@demo
        ],
    ),
    (
        Policy::CentreOversight,
        [
            [SignIn, SignIn],       // nobody
            [Allowed, Allowed],     // ao@isp.demo
            [Hidden, Hidden],       // ao@ocr.demo
            [Allowed, Hidden],      // eqa@isp.demo
            [Forbidden, Hidden],    // admin@northgate.demo
            [Hidden, Forbidden],    // admin@riverside.demo
            [Forbidden, Forbidden], // sam.assessor@demo
            [Forbidden, Hidden],    // iqa@northgate.demo
            [Forbidden, Hidden],    // priya.learner@demo
            [Hidden, Forbidden],    // tom.learner@demo
        ],
    ),
    (
        Policy::LearnerView,
        [
            [SignIn, SignIn],   // nobody
            [Allowed, Allowed], // ao@isp.demo
            [Hidden, Hidden],   // ao@ocr.demo
            [Allowed, Hidden],  // eqa@isp.demo
            [Allowed, Hidden],  // admin@northgate.demo
            [Hidden, Allowed],  // admin@riverside.demo
            [Allowed, Allowed], // sam.assessor@demo
            [Allowed, Hidden],  // iqa@northgate.demo
            [Allowed, Hidden],  // priya.learner@demo
            [Hidden, Allowed],  // tom.learner@demo
        ],
    ),
    (
        Policy::LearnerWork,
        [
            [SignIn, SignIn],       // nobody
            [Forbidden, Forbidden], // ao@isp.demo
            [Hidden, Hidden],       // ao@ocr.demo
            [Forbidden, Hidden],    // eqa@isp.demo
            [Forbidden, Hidden],    // admin@northgate.demo
            [Hidden, Forbidden],    // admin@riverside.demo
            [Allowed, Allowed],     // sam.assessor@demo
            [Forbidden, Hidden],    // iqa@northgate.demo
            [Allowed, Hidden],      // priya.learner@demo
            [Hidden, Allowed],      // tom.learner@demo
        ],
    ),
];

fn expected(policy: Policy, who: Option<usize>, scope: usize) -> Expect {
    let (_, rows) = TABLE
        .iter()
        .find(|(p, _)| *p == policy)
        .unwrap_or_else(|| panic!("{policy:?} is not in the table"));
    rows[who.map_or(0, |i| i + 1)][scope]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_for_every_role_from_every_centre() {
    let app = common::app_on(&common::sqlite_url()).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let centres = app.store.centres().await.unwrap();
    let north = centres
        .iter()
        .find(|c| c.name == "Northgate Training")
        .unwrap()
        .centre_id;
    let river = centres
        .iter()
        .find(|c| c.name == "Riverside College")
        .unwrap()
        .centre_id;
    let priya = app
        .store
        .person_by_email("priya.learner@demo")
        .await
        .unwrap()
        .unwrap();
    let tom = app
        .store
        .person_by_email("tom.learner@demo")
        .await
        .unwrap()
        .unwrap();
    let mut learners = [0; 2];
    for (i, p) in [priya.person_id, tom.person_id].into_iter().enumerate() {
        learners[i] = app
            .store
            .grants(p)
            .await
            .unwrap()
            .iter()
            .find_map(|g| g.learner_id)
            .unwrap();
    }

    // Every API operation in the OpenAPI document has a policy.
    let doc: serde_json::Value = serde_json::from_str(&credence::web::openapi_json()).unwrap();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            assert!(
                credence::web::access::policy_for(&m, path).is_some(),
                "{method} {path} has no access policy: add it to web::access::POLICIES"
            );
        }
    }

    // Every page route the routers registered has an access decision (for some method),
    // and none answers "no access decision".
    for path in credence::web::access::registered_routes() {
        assert!(
            POLICIES.iter().any(|(_, p, _)| *p == path),
            "the page route {path} has no access policy: add it to web::access::POLICIES"
        );
    }
    let mut registrations = [0; 2];
    for (i, c) in [north, river].into_iter().enumerate() {
        registrations[i] =
            app.store.registrations_at_centre(c, 1).await.unwrap()[0].registration_id;
    }
    // AO staff change the catalogue with a second factor (tested on its own elsewhere):
    // here only the routes' access decisions are at stake.
    for email in ["ao@isp.demo", "ao@ocr.demo"] {
        common::enrol_second_factor(&app, email).await;
    }
    let mut tokens = Vec::new();
    for email in PEOPLE {
        tokens.push(common::token_for(&app, email).await);
    }
    let mut checked = 0;
    for (method, pattern, policy) in POLICIES {
        let scopes: Vec<usize> = if pattern.contains("{centre}") || pattern.contains("{learner}") {
            vec![0, 1]
        } else {
            vec![0]
        };
        for scope in scopes {
            let path = pattern
                .replace("{centre}", &[north, river][scope].to_string())
                .replace("{learner}", &learners[scope].to_string())
                .replace("{registration}", &registrations[scope].to_string())
                .replace("{qan}", "610-3788-6")
                .replace("{unit}", "L-650-7899")
                .replace("{code}", "ISP")
                .replace("{token}", "no-such-invitation")
                // Revoking token 1 would revoke a token this test uses: ask for one that does
                // not exist (the decision is the same).
                .replace(
                    "{id}",
                    if pattern.starts_with("/account/tokens") {
                        "999999"
                    } else {
                        "1"
                    },
                );
            for who in std::iter::once(None).chain((0..PEOPLE.len()).map(Some)) {
                let (got, status, body) = ask(
                    &router,
                    method,
                    &path,
                    who.map(|i| tokens[i].as_str()),
                    pattern,
                )
                .await;
                assert!(
                    !body.contains("If you typed the web address"),
                    "{method} {pattern} has an access policy but no route"
                );
                let want = expected(*policy, who, scope);
                let name = who.map(|i| PEOPLE[i]).unwrap_or("nobody");
                assert_eq!(
                    got,
                    want,
                    "{method} {path} as {name}: status {status}, body {}",
                    body.chars().take(200).collect::<String>()
                );
                assert_ne!(
                    status,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "{method} {path}: {body}"
                );
                // HEAD is answered by the GET handler: it must be decided exactly as GET.
                if *method == "GET" {
                    let (_, head, _) = ask(
                        &router,
                        "HEAD",
                        &path,
                        who.map(|i| tokens[i].as_str()),
                        pattern,
                    )
                    .await;
                    assert_eq!(head, status, "HEAD {path} as {name} answers as GET does");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "checked {checked}");
}

/// Send one request and classify the answer.
async fn ask(
    router: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    pattern: &str,
) -> (Expect, StatusCode, String) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if method == "POST" {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let to_sign_in = res
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .is_some_and(|l| l.starts_with("/sign-in?next="));
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body).into_owned();
    let got = match status {
        StatusCode::UNAUTHORIZED if pattern != "/sign-in" => SignIn,
        StatusCode::SEE_OTHER if to_sign_in => SignIn,
        StatusCode::FORBIDDEN => Forbidden,
        StatusCode::NOT_FOUND if body.contains("That was not found.") => Hidden,
        _ => Allowed,
    };
    (got, status, body)
}

#[tokio::test]
async fn a_route_without_a_policy_is_refused() {
    let app = common::app_on(&common::sqlite_url()).await;
    // The middleware refuses anything it has no decision for; mount it on a bare route.
    let router = axum::Router::new()
        .route("/undecided", axum::routing::get(|| async { "secret" }))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            credence::web::access::authorize,
        ))
        .with_state(app);
    let res = router
        .oneshot(Request::get("/undecided").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&body).contains("secret"));
}

/// Cases the matrix cannot reach: ids that do not match each other, a learner registered at
/// two centres, and actions across awarding organisations. Each row: method, path (with the
/// placeholders below), who, the status expected, and a body if any.
const CASES: &[(&str, &str, &str, u16, &str)] = &[
    // One learner's id with another learner's evidence.
    (
        "GET",
        "/learners/{priya}/evidence/{tom_ev}",
        "priya.learner@demo",
        404,
        "",
    ),
    (
        "GET",
        "/learners/{priya}/evidence/{tom_ev}/file",
        "priya.learner@demo",
        404,
        "",
    ),
    (
        "GET",
        "/learners/{priya}/evidence/{tom_ev}/file",
        "tom.learner@demo",
        404,
        "",
    ),
    (
        "GET",
        "/learners/{priya}/evidence/{tom_ev}/file",
        "sam.assessor@demo",
        404,
        "",
    ),
    (
        "DELETE",
        "/api/v1/learners/{priya}/evidence/{tom_ev}",
        "priya.learner@demo",
        404,
        "",
    ),
    (
        "POST",
        "/api/v1/learners/{priya}/evidence/{tom_ev}/mappings",
        "priya.learner@demo",
        404,
        r#"{"unit":"L/650/7899","criterion":"1.1","location":"p1"}"#,
    ),
    (
        "GET",
        "/learners/{tom}/evidence/{tom_ev}/file",
        "tom.learner@demo",
        200,
        "",
    ),
    // Tom, registered at Riverside and (below) at Northgate: each centre sees its own.
    (
        "GET",
        "/api/v1/learners/{tom}",
        "admin@northgate.demo",
        200,
        "",
    ),
    (
        "GET",
        "/learners/{tom}/evidence/{tom_ev}/file",
        "admin@northgate.demo",
        404,
        "",
    ),
    (
        "GET",
        "/learners/{tom}/evidence/{tom_ev}/file",
        "iqa@northgate.demo",
        404,
        "",
    ),
    (
        "GET",
        "/learners/{tom}/evidence/{tom_ev}/file",
        "admin@riverside.demo",
        200,
        "",
    ),
    (
        "GET",
        "/learners/{tom}/portfolio.zip",
        "admin@riverside.demo",
        200,
        "",
    ),
    // Across awarding organisations.
    (
        "GET",
        "/api/v1/learners/{priya}/portfolio",
        "ao@ismm.demo",
        404,
        "",
    ),
    (
        "GET",
        "/api/v1/learners/{marek}/portfolio",
        "ao@ismm.demo",
        200,
        "",
    ),
    (
        "GET",
        "/api/v1/learners/{marek}/portfolio",
        "ao@isp.demo",
        404,
        "",
    ),
    (
        "GET",
        "/api/v1/learners/{marek}/portfolio",
        "eqa@isp.demo",
        404,
        "",
    ),
    (
        "GET",
        "/api/v1/learners/{marek}/portfolio",
        "admin@northgate.demo",
        200,
        "",
    ),
    (
        "GET",
        "/api/v1/catalogue/versions/{ismm_version}",
        "ao@isp.demo",
        404,
        "",
    ),
    (
        "GET",
        "/api/v1/catalogue/versions/{ismm_version}",
        "ao@ismm.demo",
        200,
        "",
    ),
    (
        "POST",
        "/api/v1/catalogue/versions/{ismm_version}/publication",
        "ao@ocr.demo",
        404,
        "",
    ),
    (
        "POST",
        "/qualifications/500-3707-9/grade-boundaries",
        "ao@isp.demo",
        403,
        "merit=60&distinction=70",
    ),
    (
        "POST",
        "/centres/1/approvals",
        "ao@ocr.demo",
        404,
        "qan=610%2F3788%2F6",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_that_do_not_match_two_centres_and_other_aos() {
    let app = common::app_on(&common::sqlite_url()).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    let priya = common::learner_of(&app, "priya.learner@demo").await;
    let tom = common::learner_of(&app, "tom.learner@demo").await;
    let marek = common::learner_registered_on(&app, 1, "500/3707/9").await;
    let tom_ev = app.store.evidence_of_learner(tom).await.unwrap()[0].evidence_id;
    let ismm_version = app
        .store
        .versions()
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.ao_code == "ISMM")
        .unwrap()
        .catalogue_version_id;
    // Tom enrols at Northgate as well (same family name and date of birth).
    let t = app.store.learner(tom).await.unwrap().unwrap();
    let admin = common::token_for(&app, "admin@northgate.demo").await;
    let csv = format!(
        "given_name,family_name,date_of_birth,qan,uln\nTom,Evans,{},610/3788/6,{}\n",
        t.date_of_birth,
        t.uln.unwrap()
    );
    let r = common::post(
        &router,
        "/api/v1/centres/1/registrations",
        &admin,
        "text/csv",
        csv,
    )
    .await;
    assert!(r.body.contains("\"registered\":1"), "{}", r.body);

    let mut tokens = std::collections::HashMap::new();
    for (method, template, who, want, body) in CASES {
        let token = match tokens.get(who) {
            Some(t) => String::clone(t),
            None => {
                let t = common::token_for(&app, who).await;
                tokens.insert(*who, t.clone());
                t
            }
        };
        let path = template
            .replace("{priya}", &priya.to_string())
            .replace("{tom}", &tom.to_string())
            .replace("{marek}", &marek.to_string())
            .replace("{tom_ev}", &tom_ev.to_string())
            .replace("{ismm_version}", &ismm_version.to_string());
        let content_type = if body.starts_with('{') {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        let r = common::send(
            &router,
            common::bearer(method, &path, &token)
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
        assert_eq!(
            r.status.as_u16(),
            *want,
            "{method} {path} as {who}: {}",
            r.body.chars().take(300).collect::<String>()
        );
    }
}
