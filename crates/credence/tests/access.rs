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

/// Demo facts the expectations rest on (see `credence::app::demo`).
struct Who {
    email: &'static str,
    ao_staff: bool,
    /// Roles at Northgate (centre 1) and Riverside (centre 2), learner roles included.
    at: [&'static [&'static str]; 2],
    /// Oversees the centre: ISP staff (both centres work with ISP), the EQA (Northgate).
    oversees: [bool; 2],
    /// Their own learner record, if they are a learner: index into LEARNERS.
    learner: Option<usize>,
}

const PEOPLE: &[Who] = &[
    Who {
        email: "ao@isp.demo",
        ao_staff: true,
        at: [&[], &[]],
        oversees: [true, true],
        learner: None,
    },
    Who {
        email: "ao@ocr.demo",
        ao_staff: true,
        at: [&[], &[]],
        oversees: [false, false],
        learner: None,
    },
    Who {
        email: "eqa@isp.demo",
        ao_staff: false,
        at: [&[], &[]],
        oversees: [true, false],
        learner: None,
    },
    Who {
        email: "admin@northgate.demo",
        ao_staff: false,
        at: [&["centre_admin"], &[]],
        oversees: [false, false],
        learner: None,
    },
    Who {
        email: "admin@riverside.demo",
        ao_staff: false,
        at: [&[], &["centre_admin"]],
        oversees: [false, false],
        learner: None,
    },
    Who {
        email: "sam.assessor@demo",
        ao_staff: false,
        at: [&["assessor"], &["assessor", "iqa"]],
        oversees: [false, false],
        learner: None,
    },
    Who {
        email: "iqa@northgate.demo",
        ao_staff: false,
        at: [&["iqa"], &[]],
        oversees: [false, false],
        learner: None,
    },
    Who {
        email: "priya.learner@demo",
        ao_staff: false,
        at: [&["learner"], &[]],
        oversees: [false, false],
        learner: Some(0),
    },
    Who {
        email: "tom.learner@demo",
        ao_staff: false,
        at: [&[], &["learner"]],
        oversees: [false, false],
        learner: Some(1),
    },
];

#[derive(Debug, PartialEq)]
enum Expect {
    Allowed,
    SignIn,
    Forbidden,
    Hidden,
}

fn expect(policy: Policy, who: Option<&Who>, centre: usize, learner: usize) -> Expect {
    let Some(w) = who else {
        return if policy == Policy::Public {
            Expect::Allowed
        } else {
            Expect::SignIn
        };
    };
    let staff_at = |c: usize| w.at[c].iter().any(|r| *r != "learner");
    match policy {
        Policy::Public | Policy::SignedIn => Expect::Allowed,
        Policy::AoStaff => {
            if w.ao_staff {
                Expect::Allowed
            } else {
                Expect::Forbidden
            }
        }
        Policy::CentreView | Policy::CentreAdmin | Policy::CentreOversight => {
            let allowed = match policy {
                Policy::CentreView => w.oversees[centre] || staff_at(centre),
                Policy::CentreAdmin => w.at[centre].contains(&"centre_admin"),
                _ => w.oversees[centre],
            };
            if allowed {
                Expect::Allowed
            } else if w.oversees[centre] || !w.at[centre].is_empty() {
                Expect::Forbidden
            } else {
                Expect::Hidden
            }
        }
        Policy::LearnerWork => {
            if w.learner == Some(learner) || w.at[learner].contains(&"assessor") {
                Expect::Allowed
            } else if staff_at(learner) || w.oversees[learner] {
                Expect::Forbidden
            } else {
                Expect::Hidden
            }
        }
        Policy::LearnerView => {
            // Learner 0 (Priya) is registered at Northgate, learner 1 (Tom) at Riverside.
            if w.learner == Some(learner) || staff_at(learner) || w.oversees[learner] {
                Expect::Allowed
            } else {
                Expect::Hidden
            }
        }
    }
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
    let mut tokens = Vec::new();
    for w in PEOPLE {
        tokens.push(common::token_for(&app, w.email).await);
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
            for who in std::iter::once(None).chain(PEOPLE.iter().enumerate().map(Some)) {
                let mut req = Request::builder().method(*method).uri(&path);
                if let Some((i, _)) = who {
                    req = req.header(header::AUTHORIZATION, format!("Bearer {}", tokens[i]));
                }
                if *method == "POST" {
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
                let body = String::from_utf8_lossy(&body);
                let got = match status {
                    StatusCode::UNAUTHORIZED if *pattern != "/sign-in" => Expect::SignIn,
                    StatusCode::SEE_OTHER if to_sign_in => Expect::SignIn,
                    StatusCode::FORBIDDEN => Expect::Forbidden,
                    StatusCode::NOT_FOUND if body.contains("That was not found.") => Expect::Hidden,
                    _ => Expect::Allowed,
                };
                assert!(
                    !body.contains("If you typed the web address"),
                    "{method} {pattern} has an access policy but no route"
                );
                let want = expect(*policy, who.map(|(_, w)| w), scope, scope);
                assert_eq!(
                    got,
                    want,
                    "{method} {path} as {}: status {status}, body {}",
                    who.map(|(_, w)| w.email).unwrap_or("nobody"),
                    body.chars().take(200).collect::<String>()
                );
                assert_ne!(
                    status,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "{method} {path}: {body}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "checked {checked}");
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
