//! Pages and the JSON API through the real router (no network): what a person or a client
//! gets back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Reply, send as call};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

fn authed(b: axum::http::request::Builder, token: &str) -> axum::http::request::Builder {
    b.header(header::AUTHORIZATION, format!("Bearer {token}"))
}

async fn get(router: &axum::Router, uri: &str) -> Reply {
    call(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn seeded_router() -> (credence::app::App, axum::Router) {
    let app = common::app_on(&common::sqlite_url()).await;
    common::seed(&app).await;
    (app.clone(), credence::web::router(app))
}

#[tokio::test]
async fn catalogue_pages_show_what_the_catalogue_holds() {
    let (app, router) = seeded_router().await;
    let home = get(&router, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    for ao in ["ISP", "ISMM", "OCR"] {
        assert!(
            home.body.contains(&format!("/aos/{ao}")),
            "{ao} on the home page"
        );
    }
    assert_eq!(home.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(home.headers.contains_key(header::CONTENT_SECURITY_POLICY));

    let cat = app.catalogue().await.unwrap();
    let (cs, cert) = cat.qualification("610/3788/6").unwrap();
    let page = get(&router, "/qualifications/610-3788-6").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&cert.title));
    assert!(page.body.contains("610/3788/6"));
    assert!(
        page.body
            .contains("A minimum of 13 credits and a maximum of 36 credits"),
        "rules in plain words"
    );
    for qu in &cert.units {
        let u = cs.spec.unit(&qu.unit).unwrap();
        assert!(
            page.body.contains(&format!(">{}</a>", u.ao_ref)),
            "unit {} listed",
            u.ao_ref
        );
    }

    let unit = get(&router, "/units/L-650-7899").await;
    assert_eq!(unit.status, StatusCode::OK);
    let (_, l3b1) = cat.unit("L/650/7899").unwrap();
    for lo in &l3b1.learning_outcomes {
        for ac in &lo.criteria {
            assert!(
                unit.body.contains(&askama_escape(&ac.text)),
                "AC {} shown",
                ac.number
            );
        }
    }
    assert!(
        unit.body.contains("610/3790/4"),
        "belongs to the Apprenticeship Diploma"
    );

    let ismm = get(&router, "/units/ISMM-Unit-1").await;
    assert_eq!(ismm.status, StatusCode::OK);
    assert!(ismm.body.contains("judged as a whole"));

    let search = get(&router, "/search?q=objections").await;
    assert_eq!(search.status, StatusCode::OK);
    assert!(search.body.contains("L3C2"));

    let missing = get(&router, "/qualifications/999-9999-9").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("was not found"));
    assert_eq!(
        get(&router, "/no/such/page").await.status,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        get(&router, "/catalogue/versions").await.status,
        StatusCode::SEE_OTHER,
        "sign in first"
    );
    let token = common::ao_staff_token(&app).await;
    let versions = call(
        &router,
        authed(Request::get("/catalogue/versions"), &token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(versions.status, StatusCode::OK);
    assert!(versions.body.contains("Published (current)"));
}

fn askama_escape(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn the_api_serves_the_catalogue_as_json() {
    let (_, router) = seeded_router().await;
    let list = get(&router, "/api/v1/qualifications?ao=ISP&level=3").await;
    assert_eq!(list.status, StatusCode::OK);
    let rows: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(
        rows.iter()
            .all(|r| r["level"] == 3 && r["awarding_organisation"] == "ISP")
    );
    assert!(rows.iter().any(|r| r["qan"] == "610/3789/8"));

    let q = get(&router, "/api/v1/qualifications/610-3789-8").await;
    let q: serde_json::Value = serde_json::from_str(&q.body).unwrap();
    assert_eq!(q["qualification"]["qan"], "610/3789/8");
    assert!(
        q["qualification"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "total_credit")
    );

    let u = get(&router, "/api/v1/units/L-650-7899").await;
    let u: serde_json::Value = serde_json::from_str(&u.body).unwrap();
    assert_eq!(u["unit"]["ao_ref"], "L3B1");

    let nf = get(&router, "/api/v1/units/X-000-0000").await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    let nf: serde_json::Value = serde_json::from_str(&nf.body).unwrap();
    assert!(
        nf["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("not found")
    );

    let bad = get(&router, "/api/v1/criteria?q=sales&limit=0").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = get(&router, "/api/v1/criteria?limit=abc").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.starts_with("{\"errors\""),
        "the envelope for extractor rejections too: {}",
        bad.body
    );

    let hits = get(&router, "/api/v1/criteria?q=negotiat").await;
    let hits: serde_json::Value = serde_json::from_str(&hits.body).unwrap();
    assert!(!hits.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let (_, router) = seeded_router().await;
    let doc = get(&router, "/api/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_str(&doc.body).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/qualifications",
        "/api/v1/qualifications/{qan}",
        "/api/v1/units/{unit}",
        "/api/v1/criteria",
        "/api/v1/catalogue/versions",
        "/api/v1/catalogue/versions/{id}",
        "/api/v1/catalogue/versions/{id}/corrections",
        "/api/v1/catalogue/versions/{id}/publication",
        "/api/v1/catalogue/export",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    assert_eq!(
        doc,
        serde_json::from_str::<serde_json::Value>(&credence::web::openapi_json()).unwrap()
    );
}

#[tokio::test]
async fn a_specification_is_imported_corrected_and_published_through_the_api() {
    let app = common::app_on(&common::sqlite_url()).await;
    let token = common::ao_staff_token(&app).await;
    common::enrol_second_factor(&app, "staff@ao.test").await;
    let router = credence::web::router(app);
    let seed = &common::seeds()[0];
    let anonymous = call(
        &router,
        Request::post("/api/v1/catalogue/versions")
            .body(Body::from(seed.text))
            .unwrap(),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let res = call(
        &router,
        authed(
            Request::post("/api/v1/catalogue/versions?name=isp-l3.txt"),
            &token,
        )
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(seed.text))
        .unwrap(),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let id = v["versions"][0]["id"].as_i64().unwrap();
    let publish = call(
        &router,
        authed(
            Request::post(format!("/api/v1/catalogue/versions/{id}/publication")),
            &token,
        )
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(
        publish.status,
        StatusCode::CONFLICT,
        "open findings block it: {}",
        publish.body
    );
    let res = call(
        &router,
        authed(
            Request::post(format!("/api/v1/catalogue/versions/{id}/corrections")),
            &token,
        )
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(seed.corrections))
        .unwrap(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let publish = call(
        &router,
        authed(
            Request::post(format!("/api/v1/catalogue/versions/{id}/publication")),
            &token,
        )
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(publish.status, StatusCode::OK, "{}", publish.body);
    let page = get(&router, "/qualifications/610-3789-8").await;
    assert_eq!(page.status, StatusCode::OK);

    let bad = call(
        &router,
        authed(Request::post("/api/v1/catalogue/versions"), &token)
            .body(Body::from("\u{0}\u{1}binary"))
            .unwrap(),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("not text"));
}

#[tokio::test]
async fn the_import_page_takes_an_upload_and_shows_the_report() {
    let app = common::app_on(&common::sqlite_url()).await;
    // The specification imported below is OCR's: only OCR's staff may import it.
    let ocr = app
        .create_person("staff@ocr.test", "OCR Staff", Some("a long test password"))
        .await
        .unwrap();
    app.store
        .grant_role(ocr, "ao_staff", Some("OCR"), None, None)
        .await
        .unwrap();
    let token = common::token_for(&app, "staff@ocr.test").await;
    common::enrol_second_factor(&app, "staff@ocr.test").await;
    let isp_token = common::ao_staff_token(&app).await;
    let router = credence::web::router(app);
    let form = call(
        &router,
        authed(Request::get("/catalogue/import"), &token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    let boundary = "XbOuNdArY";
    let seed = &common::seeds()[4];
    let import = |token: &str, body: Vec<u8>| {
        call(
            &router,
            authed(Request::post("/catalogue/import"), token)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
    };
    let res = import(
        &token,
        common::multipart_file(boundary, "file", "ocr.txt", seed.text),
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let location = res.headers[header::LOCATION].to_str().unwrap().to_string();
    let report = call(
        &router,
        authed(Request::get(&location), &token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(report.body.contains("Import report"));
    assert!(
        report
            .body
            .contains("Generating and qualifying sales leads")
    );

    // ISP's staff may not import OCR's specification: the page says whose it is.
    let mut edited = seed.text.to_vec();
    edited.push(b'\n');
    let res = import(
        &isp_token,
        common::multipart_file(boundary, "file", "ocr.txt", &edited),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert!(res.body.contains("OCR"), "{}", res.body);

    // No file chosen: the form again, with the GOV.UK error summary.
    let empty = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"publish\"\r\n\r\nyes\r\n--{boundary}--\r\n"
    );
    let res = import(&token, empty.into_bytes()).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("There is a problem"));
    assert!(res.body.contains("Select a specification file"));
    assert!(res.body.contains("<title>Error: "));
}

#[tokio::test]
async fn rules_through_the_api_and_the_qualification_page() {
    let (_, router) = seeded_router().await;
    let e = get(
        &router,
        "/api/v1/qualifications/610-3789-8/evaluation?units=L3B1,L3B2,L3C1",
    )
    .await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    let e: serde_json::Value = serde_json::from_str(&e.body).unwrap();
    assert_eq!(e["achieved"], false);
    let messages: Vec<&str> = e["unmet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.contains(&"1 CORE unit, needs at least 4"),
        "{messages:?}"
    );

    let p = get(
        &router,
        "/api/v1/qualifications/610-3789-8/plan?units=L3B1,L3B2,L3C1&refuses=L4C2",
    )
    .await;
    let p: serde_json::Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(p["status"], "completion");
    assert!(
        p["units"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["ao_ref"] != "L4C2")
    );

    let c = get(&router, "/api/v1/claimable?units=L3B1,L3B2").await;
    let c: serde_json::Value = serde_json::from_str(&c.body).unwrap();
    let met: Vec<&str> = c
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["met"] == true)
        .map(|x| x["qan"].as_str().unwrap())
        .collect();
    assert_eq!(met, vec!["610/3791/6"]);

    // The page works without JavaScript: the form's GET answers in the page.
    let page = get(
        &router,
        "/qualifications/610-3788-6?unit=L3B1&unit=L3B2&unit=L3C1&unit=L3C2&unit=L3L1",
    )
    .await;
    assert!(page.body.contains(">Achieved "), "achieved shown");
    assert!(page.body.contains("value=\"L3B1\" checked"), "ticks kept");
    let page = get(&router, "/qualifications/610-3788-6?unit=L3B1&plan=1").await;
    assert!(page.body.contains("Not achieved yet"));
    assert!(page.body.contains("The shortest way there"));
    // The fragment the enhancement fetches.
    let frag = get(&router, "/qualifications/610-3788-6/checker?unit=L3B1").await;
    assert_eq!(frag.status, StatusCode::OK);
    assert!(
        frag.body.contains("3 credits, the minimum is 13"),
        "{}",
        frag.body
    );
    assert!(!frag.body.contains("<html"));

    let claim = get(&router, "/claim?units=L3B1%2C+L3B2").await;
    assert!(claim.body.contains("Can be claimed now (1)"));
    assert!(claim.body.contains("610/3791/6"));
}

#[tokio::test]
async fn an_oversized_upload_is_refused_with_the_error_envelope() {
    let app = common::app_on(&common::sqlite_url()).await;
    let token = common::ao_staff_token(&app).await;
    let router = credence::web::router(app.clone());
    let huge = vec![b'a'; credence::web::MAX_BODY + 1];
    let res = call(
        &router,
        authed(Request::post("/api/v1/catalogue/versions"), &token)
            .body(Body::from(huge))
            .unwrap(),
    )
    .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        res.body.contains("over the") && res.body.starts_with("{\"errors\""),
        "{}",
        res.body
    );
    assert!(
        app.versions(&credence::app::authz::CatalogueScope::operator("test"))
            .await
            .unwrap()
            .is_empty(),
        "nothing was imported"
    );
}

/// Through the API, an AO's staff import another system's CASE framework as their own AO's
/// draft; a Credence package naming another AO stays that AO's to import.
#[tokio::test]
async fn ao_staff_import_a_case_framework_as_their_own_draft() {
    let app = common::app_on(&common::sqlite_url()).await;
    common::seed(&app).await;
    let ocr = app
        .create_person("staff@ocr.test", "OCR Staff", Some("a long test password"))
        .await
        .unwrap();
    app.store
        .grant_role(ocr, "ao_staff", Some("OCR"), None, None)
        .await
        .unwrap();
    let token = common::token_for(&app, "staff@ocr.test").await;
    common::enrol_second_factor(&app, "staff@ocr.test").await;
    let isp_package = app
        .case_packages()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.document.title.contains("ISP Level 3"))
        .unwrap();
    let router = credence::web::router(app.clone());
    let post = |body: Vec<u8>| {
        call(
            &router,
            authed(
                Request::post("/api/v1/catalogue/versions?name=framework.json"),
                &token,
            )
            .body(Body::from(body))
            .unwrap(),
        )
    };
    let foreign = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/opensalt-retail-sales.json"),
    )
    .unwrap();
    let res = post(foreign).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let version = &v["versions"][0];
    assert_eq!(version["status"], "draft");
    assert_eq!(version["report"]["layout"], "case_package");
    let findings = version["report"]["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["status"] == "repaired"
            && f["message"].as_str().unwrap().contains("filed under OCR"))
    );
    // No guessed AO to check: seven points left open.
    assert_eq!(findings.iter().filter(|f| f["status"] == "open").count(), 7);
    let (_, imported) = app
        .version_content(version["id"].as_i64().unwrap())
        .await
        .unwrap();
    assert_eq!(imported.specification.awarding_organisation.code, "OCR");
    assert_eq!(imported.specification.units[0].key, "OCR:RS1");

    // ISP's own package names ISP: not OCR's to import.
    let res = post(serde_json::to_vec(&isp_package).unwrap()).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert!(res.body.contains("ISP"), "{}", res.body);
}
