//! The portfolio end to end through the router, on SQLite and PostgreSQL: a learner uploads
//! and maps evidence, the assessor judges and signs, the learner signs, the unit locks; the
//! achievement log PDF, the zip, downloads, refusals, limits and transfers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{StatusCode, header};
use common::{Reply, send};
use serde_json::Value;

struct Demo {
    app: credence::app::App,
    router: axum::Router,
    priya: i64,
    tom: i64,
    t_priya: String,
    t_sam: String,
    t_admin_n: String,
    t_admin_r: String,
    t_tom: String,
    t_iqa: String,
    t_ao: String,
    /// Files the demo data itself stored (Tom's evidence).
    demo_files: usize,
}

async fn demo(url: &str) -> Demo {
    let app = common::app_on(url).await;
    common::demo(&app).await;
    let router = credence::web::router(app.clone());
    Demo {
        priya: common::learner_of(&app, "priya.learner@demo").await,
        tom: common::learner_of(&app, "tom.learner@demo").await,
        t_priya: common::token_for(&app, "priya.learner@demo").await,
        t_sam: common::token_for(&app, "sam.assessor@demo").await,
        t_admin_n: common::token_for(&app, "admin@northgate.demo").await,
        t_admin_r: common::token_for(&app, "admin@riverside.demo").await,
        t_tom: common::token_for(&app, "tom.learner@demo").await,
        t_iqa: common::token_for(&app, "iqa@northgate.demo").await,
        t_ao: common::token_for(&app, "ao@isp.demo").await,
        demo_files: app.evidence.keys().await.unwrap().len(),
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

async fn upload(
    d: &Demo,
    learner: i64,
    token: &str,
    title: &str,
    source: &str,
    file_name: &str,
    bytes: &[u8],
) -> Reply {
    let uri = format!(
        "/api/v1/learners/{learner}/evidence?title={}&date=2026-11-02&kind=observation_checklist&source={source}&file_name={}",
        enc(title),
        enc(file_name)
    );
    send(
        &d.router,
        req("POST", &uri, token)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(bytes.to_vec()))
            .unwrap(),
    )
    .await
}

async fn portfolio(d: &Demo, learner: i64, token: &str) -> Value {
    let r = get(d, &format!("/api/v1/learners/{learner}/portfolio"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

fn unit<'a>(p: &'a Value, key: &str) -> &'a Value {
    p["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == key)
        .unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn upload_map_judge_sign_lock(url: String) {
    let d = demo(&url).await;
    let p = portfolio(&d, d.priya, &d.t_priya).await;
    assert!(p["total"].as_u64().unwrap() > 0);
    // A unit that allows simulation in an RWE is not needed: take the first unit.
    let u = &p["units"][0];
    let key = u["unit"].as_str().unwrap().to_string();
    let criteria: Vec<String> = u["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap().to_string())
        .collect();
    assert!(!criteria.is_empty());
    assert!(
        u["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"]["status"] == "no_evidence")
    );

    // Upload: SHA-256 recorded; a retry of the same file gives the same item.
    let bytes = b"%PDF-1.4 observation record of a sales call, page 1 to 3".repeat(1000);
    let r = upload(
        &d,
        d.priya,
        &d.t_priya,
        "Observed sales call",
        "real_workplace",
        "call.pdf",
        &bytes,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let again = upload(
        &d,
        d.priya,
        &d.t_priya,
        "Observed sales call",
        "real_workplace",
        "call.pdf",
        &bytes,
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(
        serde_json::from_str::<Value>(&again.body).unwrap()["id"]
            .as_i64()
            .unwrap(),
        id
    );
    let p = portfolio(&d, d.priya, &d.t_priya).await;
    assert_eq!(p["evidence"].as_array().unwrap().len(), 1);
    assert_eq!(p["evidence"][0]["sha256"], sha256(&bytes));
    assert_eq!(p["evidence"][0]["size"], bytes.len());
    assert_eq!(
        d.app.evidence.keys().await.unwrap().len() - d.demo_files,
        1,
        "the retry left no copy"
    );

    // Bad details: refused with the reason, nothing stored.
    let bad = send(
        &d.router,
        req("POST", &format!("/api/v1/learners/{}/evidence?title=&date=tomorrow&kind=x&source=real_workplace&file_name=a.pdf", d.priya), &d.t_priya)
            .body(Body::from("x"))
            .unwrap(),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(
        bad.body.contains("Enter a title") && bad.body.contains("YYYY-MM-DD"),
        "{}",
        bad.body
    );
    assert_eq!(d.app.evidence.keys().await.unwrap().len(), d.demo_files + 1);

    // Who may add: not the centre administrator (403), not another learner (404).
    let r = upload(
        &d,
        d.priya,
        &d.t_admin_n,
        "x",
        "real_workplace",
        "x.pdf",
        b"x",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = upload(&d, d.priya, &d.t_tom, "x", "real_workplace", "x.pdf", b"x").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Map to every criterion, with where it is shown; a criterion not in the unit is refused.
    for (i, c) in criteria.iter().enumerate() {
        let r = post_json(
            &d,
            &format!("/api/v1/learners/{}/evidence/{id}/mappings", d.priya),
            &d.t_priya,
            serde_json::json!({"unit": key, "criterion": c, "location": format!("page {}", i + 1)}),
        )
        .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    }
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/evidence/{id}/mappings", d.priya),
        &d.t_priya,
        serde_json::json!({"unit": key, "criterion": "9.9", "location": "page 1"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("not an assessment criterion") && r.body.contains(&criteria[0]),
        "{}",
        r.body
    );

    // Evidence from a simulation outside an RWE never counts: mapping it is refused.
    let r = upload(
        &d,
        d.priya,
        &d.t_priya,
        "Classroom role play",
        "simulation",
        "role-play.mp4",
        b"video",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let sim = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/evidence/{sim}/mappings", d.priya),
        &d.t_priya,
        serde_json::json!({"unit": key, "criterion": criteria[0], "location": "00:00"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("simulation"), "{}", r.body);

    let p = portfolio(&d, d.priya, &d.t_priya).await;
    let c0 = &unit(&p, &key)["criteria"][0];
    assert_eq!(c0["status"]["status"], "evidenced");
    assert_eq!(c0["evidence"][0]["location"], "page 1");

    // Judging: the learner and the IQA may not; the assigned assessor may.
    let judge = |token: String, c: String, outcome: &'static str| {
        let d = &d;
        let key = key.clone();
        async move {
            post_json(
                d,
                &format!("/api/v1/learners/{}/judgements", d.priya),
                &token,
                serde_json::json!({"unit": key, "criterion": c, "outcome": outcome, "feedback": "Seen in the recording"}),
            )
            .await
        }
    };
    let r = judge(d.t_priya.clone(), criteria[0].clone(), "met").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = judge(d.t_iqa.clone(), criteria[0].clone(), "met").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = judge(d.t_sam.clone(), criteria[0].clone(), "not_yet_met").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let p = portfolio(&d, d.priya, &d.t_priya).await;
    assert_eq!(
        unit(&p, &key)["criteria"][0]["status"]["status"],
        "not_yet_met"
    );

    // Signing before every criterion is met is refused.
    let sign = |token: String| {
        let d = &d;
        let slug = key.replace(['/', ':', ' '], "-");
        async move {
            post_json(
                d,
                &format!("/api/v1/learners/{}/units/{slug}/signatures", d.priya),
                &token,
                serde_json::json!({"comments": "All criteria evidenced in the observed call"}),
            )
            .await
        }
    };
    let r = sign(d.t_sam.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("cannot be signed off yet"), "{}", r.body);

    for c in &criteria {
        let r = judge(d.t_sam.clone(), c.clone(), "met").await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    }
    let p = portfolio(&d, d.priya, &d.t_priya).await;
    let u = unit(&p, &key);
    assert_eq!(u["met"], u["total"]);
    let hash = u["evidence_hash"].as_str().unwrap().to_string();

    // The learner signs after the assessor.
    let r = sign(d.t_priya.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("after the assessor"), "{}", r.body);
    let r = sign(d.t_sam.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body.contains("assessor"));
    let r = sign(d.t_priya.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let p = portfolio(&d, d.priya, &d.t_priya).await;
    assert_eq!(unit(&p, &key)["signed_off"], true);

    // Locked: judgements are final, the item cannot be deleted or unmapped...
    let r = judge(d.t_sam.clone(), criteria[0].clone(), "not_yet_met").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = post_form(
        &d,
        &format!("/learners/{}/evidence/{id}/delete", d.priya),
        &d.t_priya,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("cannot be deleted"),
        "{}",
        &r.body[..r.body.len().min(3000)]
    );
    let target = enc(&format!("{key}|{}", criteria[0]));
    let r = post_form(
        &d,
        &format!("/learners/{}/evidence/{id}/mappings/remove", d.priya),
        &d.t_priya,
        &format!("target={target}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // ... only superseded, with a reason; the earlier version is kept and the unit stays
    // signed off, with the new version mapped where the old one was.
    let boundary = "XBOUNDARYX";
    let new_bytes = b"%PDF-1.4 corrected observation record".to_vec();
    let mut body = Vec::new();
    for (k, v) in [
        ("reason", "The first scan missed page 3"),
        ("title", "Observed sales call (rescanned)"),
        ("date", "2026-11-02"),
        ("kind", "observation_checklist"),
        ("source", "real_workplace"),
    ] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/passwd\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes());
    body.extend_from_slice(&new_bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = send(
        &d.router,
        req(
            "POST",
            &format!("/learners/{}/evidence/{id}/supersede", d.priya),
            &d.t_priya,
        )
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let p = portfolio(&d, d.priya, &d.t_priya).await;
    let items = p["evidence"].as_array().unwrap();
    let old = items.iter().find(|e| e["id"] == id).unwrap();
    let new = items
        .iter()
        .find(|e| e["superseded_by"].is_null() && e["title"] == "Observed sales call (rescanned)")
        .unwrap();
    assert_eq!(old["superseded_by"], new["id"]);
    assert_eq!(old["supersede_reason"], "The first scan missed page 3");
    // The file name is kept for display only, never as a path.
    assert_eq!(new["file_name"], "passwd");
    let u = unit(&p, &key);
    assert_eq!(u["signed_off"], true);
    assert_eq!(u["met"], u["total"]);
    assert_eq!(u["criteria"][0]["evidence"][0]["evidence"], new["id"]);
    assert_ne!(u["evidence_hash"], hash, "the evidence set changed");

    // Downloads: the bytes as stored, with headers that never let a browser run them.
    let r = get(
        &d,
        &format!("/learners/{}/evidence/{id}/file", d.priya),
        &d.t_priya,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.as_bytes(), &bytes[..]);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(
        r.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    let r = upload(
        &d,
        d.priya,
        &d.t_priya,
        "A web page",
        "real_workplace",
        "page.html",
        b"<script>alert(1)</script>",
    )
    .await;
    let html = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = get(
        &d,
        &format!("/learners/{}/evidence/{html}/file", d.priya),
        &d.t_priya,
    )
    .await;
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/octet-stream");
    assert!(
        r.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    // Another learner's evidence is not found.
    let r = get(
        &d,
        &format!("/learners/{}/evidence/{id}/file", d.tom),
        &d.t_tom,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The portfolio page shows it, and so does the assessor's caseload.
    let r = get(&d, &format!("/learners/{}/portfolio", d.priya), &d.t_sam).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("Signed off") && r.body.contains("page 1"),
        "portfolio page"
    );

    // The achievement log as a page and a PDF whose text says what the log says.
    let qan = d.app.store.registrations_of_learner(d.priya).await.unwrap()[0]
        .qan
        .clone();
    let slug = qan.replace('/', "-");
    let r = get(
        &d,
        &format!("/learners/{}/achievement-log/{slug}", d.priya),
        &d.t_priya,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("Sam Okafor") && r.body.contains("Assessor declaration"),
        "log page"
    );
    let pdf = raw_get(
        &d,
        &format!("/learners/{}/achievement-log/{slug}/pdf", d.priya),
        &d.t_priya,
    )
    .await;
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdftotext(&pdf);
    if let Some(text) = text {
        assert!(text.contains("Priya"), "{text}");
        assert!(text.contains("Sam Okafor"), "{text}");
        assert!(text.contains("Assessor declaration"), "{text}");
        assert!(text.contains("All criteria evidenced"), "{text}");
        assert!(text.contains(&criteria[0]), "{text}");
    }

    // The whole portfolio as one zip with an index.
    let z = raw_get(
        &d,
        &format!("/learners/{}/portfolio.zip", d.priya),
        &d.t_priya,
    )
    .await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(z)).unwrap();
    let names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    assert!(names.contains(&"index.html".to_string()), "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("achievement-log-") && n.ends_with(".pdf")),
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| n.starts_with("evidence/")).count(),
        4,
        "{names:?}"
    );
    let mut first = Vec::new();
    std::io::Read::read_to_end(
        &mut archive
            .by_name(&format!("evidence/{id:05}-call.pdf"))
            .unwrap(),
        &mut first,
    )
    .unwrap();
    assert_eq!(first, bytes);

    // Every change is in the audit log, and the chain holds.
    assert!(d.app.verify_audit(None).await.unwrap().is_ok());
}
both_databases!(upload_map_judge_sign_lock, upload_map_judge_sign_lock);

async fn raw_get(d: &Demo, uri: &str, token: &str) -> Vec<u8> {
    use tower::ServiceExt;
    let res = d
        .router
        .clone()
        .oneshot(req("GET", uri, token).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec()
}

/// The PDF's text by poppler's pdftotext; `None` (loudly) where it is not installed, except
/// under CI, where it must be.
fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = common::temp_dir("pdf");
    let path = dir.join("log.pdf");
    std::fs::write(&path, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        other => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("pdftotext (poppler-utils) is required under CI: {other:?}");
            }
            eprintln!("\n!!!!! SKIPPING the PDF text check: pdftotext is not installed\n");
            None
        }
    }
}

async fn actor(d: &Demo, token: &str) -> credence::app::people::Actor {
    d.app.actor_from_api_token(token).await.unwrap().unwrap()
}

async fn first_unit(d: &Demo, learner: i64, token: &str) -> (String, Vec<String>) {
    let p = portfolio(d, learner, token).await;
    let u = &p["units"][0];
    (
        u["unit"].as_str().unwrap().to_string(),
        u["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["number"].as_str().unwrap().to_string())
            .collect(),
    )
}

async fn limits_and_cut_off_uploads(url: String) {
    let mut d = demo(&url).await;
    let mut app = d.app.clone();
    app.max_upload = 1024;
    d.router = credence::web::router(app);
    // Over the limit: 413 with the limit in words, and nothing kept.
    let r = upload(
        &d,
        d.priya,
        &d.t_priya,
        "Too big",
        "real_workplace",
        "big.mp4",
        &[7u8; 4096],
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("1 KiB"), "{}", r.body);
    // Cut off half way: the request body fails; nothing kept, no record.
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = vec![
        Ok(axum::body::Bytes::from_static(b"first half of the file")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset",
        )),
    ];
    let r = send(
        &d.router,
        req(
            "POST",
            &format!("/api/v1/learners/{}/evidence?title=Cut&date=2026-11-02&kind=worksheet&source=real_workplace&file_name=a.pdf", d.priya),
            &d.t_priya,
        )
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("interrupted"), "{}", r.body);
    assert_eq!(d.app.evidence.keys().await.unwrap().len(), d.demo_files);
    assert!(
        d.app
            .evidence
            .stale_staging_files(std::time::Duration::ZERO, false)
            .is_empty()
    );
    let (n, problems, orphans) = d.app.check_evidence(true).await.unwrap();
    assert_eq!((n, problems.len(), orphans.len()), (d.demo_files, 0, 0));
    // Within the limit it is kept.
    let r = upload(
        &d,
        d.priya,
        &d.t_priya,
        "Small",
        "real_workplace",
        "small.txt",
        &[b'a'; 1024],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Deleted through the API while no signed-off unit uses it: record and file both go.
    let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let gone = send(
        &d.router,
        req(
            "DELETE",
            &format!("/api/v1/learners/{}/evidence/{id}", d.priya),
            &d.t_priya,
        )
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    assert_eq!(d.app.evidence.keys().await.unwrap().len(), d.demo_files);
    let r = upload(
        &d,
        d.priya,
        &d.t_priya,
        "Small",
        "real_workplace",
        "small.txt",
        &[b'a'; 1024],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (n, problems, orphans) = d.app.check_evidence(true).await.unwrap();
    assert_eq!((n, problems.len(), orphans.len()), (d.demo_files + 1, 0, 0));
}
both_databases!(limits_and_cut_off_uploads, limits_and_cut_off_uploads);

async fn rpl_and_conflicts_of_interest(url: String) {
    let d = demo(&url).await;
    let (key, criteria) = first_unit(&d, d.priya, &d.t_priya).await;
    let r = upload(
        &d,
        d.priya,
        &d.t_sam,
        "Certificate from a previous course",
        "real_workplace",
        "cert.pdf",
        b"certificate",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/evidence/{id}/mappings", d.priya),
        &d.t_sam,
        serde_json::json!({"unit": key, "criterion": criteria[0], "location": "whole certificate"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // RPL before assessment: shown as RPL.
    let rpl = serde_json::json!({"unit": key, "criterion": criteria[0], "outcome": "met", "feedback": "Covered by the previous course", "rpl": true});
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/judgements", d.priya),
        &d.t_sam,
        rpl.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let p = portfolio(&d, d.priya, &d.t_priya).await;
    let status = &unit(&p, &key)["criteria"][0]["status"];
    assert_eq!(status["status"], "met");
    assert_eq!(status["rpl"], true);
    let page = get(&d, &format!("/learners/{}/portfolio", d.priya), &d.t_priya).await;
    assert!(page.body.contains("Met (RPL)"));
    // Once assessed, RPL is no longer "before assessment".
    let r = post_json(&d, &format!("/api/v1/learners/{}/judgements", d.priya), &d.t_sam,
        serde_json::json!({"unit": key, "criterion": criteria[0], "outcome": "met", "feedback": "Confirmed"})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/judgements", d.priya),
        &d.t_sam,
        rpl,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // Judged met without evidence is refused.
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/judgements", d.priya),
        &d.t_sam,
        serde_json::json!({"unit": key, "criterion": criteria[1], "outcome": "met"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("no evidence is mapped"), "{}", r.body);
    // Not yet met needs feedback.
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{}/judgements", d.priya),
        &d.t_sam,
        serde_json::json!({"unit": key, "criterion": criteria[0], "outcome": "not_yet_met"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Sam is not Tom's... he is, but after declaring an interest in Priya he may not judge her.
    let sam = actor(&d, &d.t_sam).await;
    d.app
        .declare_interest(&sam, d.priya, "friend", "We play in the same band", "test")
        .await
        .unwrap();
    let r = post_json(&d, &format!("/api/v1/learners/{}/judgements", d.priya), &d.t_sam,
        serde_json::json!({"unit": key, "criterion": criteria[0], "outcome": "met", "feedback": "x"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.to_lowercase().contains("interest"), "{}", r.body);
    // The portfolio no longer offers him the decision forms.
    let page = get(
        &d,
        &format!(
            "/learners/{}/portfolio/units/{}",
            d.priya,
            key.replace(['/', ':', ' '], "-")
        ),
        &d.t_sam,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Record decision"));
}
both_databases!(rpl_and_conflicts_of_interest, rpl_and_conflicts_of_interest);

async fn a_transfer_takes_the_portfolio_along(url: String) {
    let d = demo(&url).await;
    let r = upload(
        &d,
        d.priya,
        &d.t_priya,
        "Before the move",
        "real_workplace",
        "before.pdf",
        b"before",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let river_sees = get(
        &d,
        &format!("/api/v1/learners/{}/portfolio", d.priya),
        &d.t_admin_r,
    )
    .await;
    assert_eq!(
        river_sees.status,
        StatusCode::NOT_FOUND,
        "Riverside cannot see Priya before the transfer"
    );
    let reg = d.app.store.registrations_of_learner(d.priya).await.unwrap()[0].clone();
    let centres = d.app.store.centres().await.unwrap();
    let river = centres
        .iter()
        .find(|c| c.name == "Riverside College")
        .unwrap()
        .centre_id;
    // Only the learner's own centre asks (another centre does not even see the registration).
    let r = post_form(
        &d,
        &format!(
            "/centres/{}/registrations/{}/transfer",
            reg.centre_id, reg.registration_id
        ),
        &d.t_admin_r,
        &format!("to_centre={river}&reason=x"),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Only to a centre approved for the qualification.
    let r = post_form(
        &d,
        &format!(
            "/centres/{}/registrations/{}/transfer",
            reg.centre_id, reg.registration_id
        ),
        &d.t_admin_n,
        &format!("to_centre={river}&reason=Moved+to+Leeds"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("not approved to offer"));
    d.app
        .store
        .approve_centre(river, &reg.qan, "ISP", None)
        .await
        .unwrap();
    let r = post_form(
        &d,
        &format!(
            "/centres/{}/registrations/{}/transfer",
            reg.centre_id, reg.registration_id
        ),
        &d.t_admin_n,
        &format!("to_centre={river}&reason=Moved+to+Leeds"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Not before the AO approves.
    assert_eq!(
        get(
            &d,
            &format!("/api/v1/learners/{}/portfolio", d.priya),
            &d.t_admin_r
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let home = get(&d, "/home", &d.t_ao).await;
    assert!(
        home.body.contains("Transfers to decide") && home.body.contains("Moved to Leeds"),
        "AO home lists it"
    );
    let t = d.app.store.transfers_of_learner(d.priya).await.unwrap()[0].transfer_id;
    // Another AO's staff cannot decide it.
    let t_ocr = common::token_for(&d.app, "ao@ocr.demo").await;
    let r = post_form(
        &d,
        &format!("/transfers/{t}/decision"),
        &t_ocr,
        "decision=approve",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post_form(
        &d,
        &format!("/transfers/{t}/decision"),
        &d.t_ao,
        "decision=approve&note=Agreed",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The new centre sees the whole portfolio with its history.
    let p = portfolio(&d, d.priya, &d.t_admin_r).await;
    assert_eq!(p["evidence"][0]["title"], "Before the move");
    // Evidence added after the move is the new centre's: the old one keeps its record up to
    // the day of the transfer.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = upload(
        &d,
        d.priya,
        &d.t_priya,
        "After the move",
        "real_workplace",
        "after.pdf",
        b"after",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let river_view = portfolio(&d, d.priya, &d.t_admin_r).await;
    assert_eq!(river_view["evidence"].as_array().unwrap().len(), 2);
    let north_view = portfolio(&d, d.priya, &d.t_admin_n).await;
    assert_eq!(
        north_view["evidence"].as_array().unwrap().len(),
        1,
        "{north_view}"
    );
    let page = get(
        &d,
        &format!("/learners/{}/portfolio", d.priya),
        &d.t_admin_n,
    )
    .await;
    assert!(page.body.contains("moved to another centre"));
    // The old registration is kept, marked transferred; a second request is refused.
    let regs = d.app.store.registrations_of_learner(d.priya).await.unwrap();
    assert_eq!(regs.len(), 2);
    assert!(
        regs.iter()
            .any(|r| r.status == "transferred" && r.centre_id == reg.centre_id)
    );
    let r = post_form(
        &d,
        &format!(
            "/centres/{}/registrations/{}/transfer",
            reg.centre_id, reg.registration_id
        ),
        &d.t_admin_n,
        &format!("to_centre={river}&reason=again"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}
both_databases!(
    a_transfer_takes_the_portfolio_along,
    a_transfer_takes_the_portfolio_along
);

async fn marks_grades_moderation_and_special_consideration(url: String) {
    let d = demo(&url).await;
    // Marek is on the ISMM Executive Award at Northgate; Sam assesses him.
    let centres = d.app.store.centres().await.unwrap();
    let north = centres
        .iter()
        .find(|c| c.name == "Northgate Training")
        .unwrap()
        .centre_id;
    let reg = d
        .app
        .store
        .registrations_at_centre(north, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.given_name == "Marek")
        .unwrap();
    let marek = reg.learner_id;
    let sam = d
        .app
        .store
        .person_by_email("sam.assessor@demo")
        .await
        .unwrap()
        .unwrap();
    d.app
        .store
        .assign(
            reg.registration_id,
            sam.person_id,
            "assessor",
            sam.person_id,
        )
        .await
        .unwrap();
    let (key, _) = first_unit(&d, marek, &d.t_sam).await;
    let cat = d.app.catalogue().await.unwrap();
    let (_, unit) = cat.unit(&key).unwrap();
    assert_eq!(
        unit.assessment_components.len(),
        2,
        "{:?}",
        unit.assessment_components
    );
    let names: Vec<String> = unit
        .assessment_components
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let slug = key.replace(['/', ':', ' '], "-");
    let marks_uri = format!("/learners/{marek}/portfolio/units/{slug}/marks");
    let form = |a: u32, b: u32, extra: &str| {
        format!(
            "mark%3A{}={a}&mark%3A{}={b}{extra}",
            enc(&names[0]),
            enc(&names[1])
        )
    };
    // Before the AO sets Merit and Distinction boundaries, the best grade is Pass.
    let r = post_form(&d, &marks_uri, &d.t_sam, &form(72, 64, "")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = get(
        &d,
        &format!("/learners/{marek}/portfolio/units/{slug}"),
        &d.t_sam,
    )
    .await;
    assert!(
        page.body.contains("<strong>Pass</strong>") && page.body.contains("68.0%"),
        "grade Pass at 68%"
    );
    // The AO sets them (only ISMM's staff).
    let r = post_form(
        &d,
        "/qualifications/500-3707-9/grade-boundaries",
        &d.t_ao,
        "merit=60&distinction=70",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "ISP staff may not");
    let t_ismm = common::token_for(&d.app, "ao@ismm.demo").await;
    let r = post_form(
        &d,
        "/qualifications/500-3707-9/grade-boundaries",
        &t_ismm,
        "merit=70&distinction=60",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "out of order");
    let r = post_form(
        &d,
        "/qualifications/500-3707-9/grade-boundaries",
        &t_ismm,
        "merit=60&distinction=70",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = post_form(&d, &marks_uri, &d.t_sam, &form(72, 64, "")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = get(
        &d,
        &format!("/learners/{marek}/portfolio/units/{slug}"),
        &d.t_sam,
    )
    .await;
    assert!(
        page.body.contains("<strong>Merit</strong>"),
        "68% is a Merit"
    );
    // Special consideration is recorded with the result and can lift the grade.
    let r = post_form(&d, &marks_uri, &d.t_sam, &form(72, 64, "&consideration_kind=special_consideration&consideration_note=Bereavement+during+the+assessment&consideration_percent=3")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = get(
        &d,
        &format!("/learners/{marek}/portfolio/units/{slug}"),
        &d.t_sam,
    )
    .await;
    assert!(
        page.body.contains("<strong>Distinction</strong>") && page.body.contains("Bereavement"),
        "71% is a Distinction"
    );
    // Only the AO moderates.
    let r = post_form(
        &d,
        &marks_uri,
        &d.t_sam,
        &form(72, 64, "&moderator_adjustment=-5"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = post_form(
        &d,
        &marks_uri,
        &t_ismm,
        &form(72, 64, "&moderator_adjustment=-5"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = get(
        &d,
        &format!("/learners/{marek}/portfolio/units/{slug}"),
        &d.t_sam,
    )
    .await;
    assert!(page.body.contains("-5 points"), "moderation shown");
    // The same through the API: the grade comes back.
    let r = post_json(
        &d,
        &format!("/api/v1/learners/{marek}/units/{slug}/marks"),
        &d.t_sam,
        serde_json::json!({"marks": [{"component": names[0], "mark": 40}, {"component": names[1], "mark": 50}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let g: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(g["grade"], "fail", "45% less the moderator's 5 points: {g}");
    assert_eq!(
        g["moderator_adjustment"], -5,
        "the moderator's adjustment stands"
    );
    // A missing component mark is refused with the reason.
    let r = post_form(
        &d,
        &marks_uri,
        &d.t_sam,
        &format!("mark%3A{}=50", enc(&names[0])),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("no mark for"),
        "{}",
        &r.body[..r.body.len().min(2000)]
    );
}
both_databases!(
    marks_grades_moderation_and_special_consideration,
    marks_grades_moderation_and_special_consideration
);

async fn evidence_maps_to_apprenticeship_ksbs(url: String) {
    let d = demo(&url).await;
    let p = portfolio(&d, d.priya, &d.t_priya).await;
    let cat = d.app.catalogue().await.unwrap();
    let ksb = p["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| cat.unit(u["unit"].as_str().unwrap()))
        .find_map(|(_, unit)| unit.ksb.first().cloned())
        .expect("a unit of the Level 3 Certificate maps to KSBs");
    let r = upload(
        &d,
        d.priya,
        &d.t_priya,
        "Call plan",
        "real_workplace",
        "plan.pdf",
        b"plan",
    )
    .await;
    let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = post_form(
        &d,
        &format!("/learners/{}/evidence/{id}/ksbs", d.priya),
        &d.t_priya,
        &format!("ksb={}", enc(&ksb.code)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = get(
        &d,
        &format!("/learners/{}/evidence/{id}", d.priya),
        &d.t_priya,
    )
    .await;
    assert!(
        page.body
            .contains(&format!("Apprenticeship KSBs: {}", ksb.code.to_uppercase())),
        "shown on the item"
    );
    let r = post_form(
        &d,
        &format!("/learners/{}/evidence/{id}/ksbs", d.priya),
        &d.t_priya,
        "ksb=Z99",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("is not a KSB of this learner"),
        "refused with the known KSBs"
    );
}
both_databases!(
    evidence_maps_to_apprenticeship_ksbs,
    evidence_maps_to_apprenticeship_ksbs
);

/// Every unit of the shortest plan signed off: the rules engine says the qualification is
/// achieved, on the API and the page.
async fn signed_off_units_achieve_the_qualification(url: String) {
    let d = demo(&url).await;
    let qan = d.app.store.registrations_of_learner(d.priya).await.unwrap()[0]
        .qan
        .clone();
    let plan = d
        .app
        .plan(
            &qan,
            &credence_domain::rules::PlanRequest {
                achieved: vec![],
                wants: vec![],
                refuses: vec![],
            },
        )
        .await
        .unwrap();
    assert!(!plan.units.is_empty());
    let r = upload(
        &d,
        d.priya,
        &d.t_priya,
        "Workplace project",
        "real_workplace",
        "project.pdf",
        b"project",
    )
    .await;
    let id = serde_json::from_str::<Value>(&r.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let p = portfolio(&d, d.priya, &d.t_priya).await;
    for planned in &plan.units {
        let u = p["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"] == planned.key.as_str())
            .unwrap();
        let key = u["unit"].as_str().unwrap();
        for c in u["criteria"].as_array().unwrap() {
            let c = c["number"].as_str().unwrap();
            let r = post_json(
                &d,
                &format!("/api/v1/learners/{}/evidence/{id}/mappings", d.priya),
                &d.t_priya,
                serde_json::json!({"unit": key, "criterion": c, "location": "section 1"}),
            )
            .await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
            let r = post_json(&d, &format!("/api/v1/learners/{}/judgements", d.priya), &d.t_sam,
                serde_json::json!({"unit": key, "criterion": c, "outcome": "met", "feedback": "Shown"})).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        }
        let slug = key.replace(['/', ':', ' '], "-");
        for t in [&d.t_sam, &d.t_priya] {
            let r = post_json(
                &d,
                &format!("/api/v1/learners/{}/units/{slug}/signatures", d.priya),
                t,
                serde_json::json!({}),
            )
            .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
    }
    let p = portfolio(&d, d.priya, &d.t_priya).await;
    assert!(
        p["achieved"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q == qan.as_str()),
        "{}",
        p["achieved"]
    );
    let page = get(&d, &format!("/learners/{}/portfolio", d.priya), &d.t_sam).await;
    assert!(page.body.contains("Achieved by the signed-off units"));
}
both_databases!(
    signed_off_units_achieve_the_qualification,
    signed_off_units_achieve_the_qualification
);

/// A write states the portfolio stamp it was decided on: when someone else changed the
/// portfolio in between, it is refused (409, "reload … and try again") and changes nothing.
async fn a_write_on_a_view_that_moved_is_refused(url: String) {
    let d = demo(&url).await;
    let (unit, criteria) = first_unit(&d, d.priya, &d.t_priya).await;
    let r = upload(
        &d,
        d.priya,
        &d.t_priya,
        "Plan",
        "real_workplace",
        "plan.pdf",
        b"plan",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let sam = actor(&d, &d.t_sam).await;
    let seen = d.app.portfolio(&sam, d.priya).await.unwrap().stamp;
    // Priya changes her portfolio while Sam is looking at it.
    let priya = actor(&d, &d.t_priya).await;
    let item = d.app.store.evidence_of_learner(d.priya).await.unwrap()[0].evidence_id;
    d.app
        .map_evidence(
            &priya,
            d.priya,
            item,
            &unit,
            &criteria[0],
            "page 1",
            "127.0.0.1",
        )
        .await
        .unwrap();
    let before = d
        .app
        .store
        .judgements_of_learner(d.priya)
        .await
        .unwrap()
        .len();
    let stale = d
        .app
        .store
        .expecting(seen)
        .insert_judgement(
            d.priya,
            &unit,
            &criteria[0],
            "met",
            "",
            false,
            sam.person_id,
            1,
        )
        .await;
    assert!(
        matches!(&stale, Err(credence::store::StoreError::Conflict(m)) if m.contains("reload")),
        "{stale:?}"
    );
    assert_eq!(
        d.app
            .store
            .judgements_of_learner(d.priya)
            .await
            .unwrap()
            .len(),
        before,
        "nothing recorded"
    );
    // On the current view the same decision goes through.
    let now = d.app.portfolio(&sam, d.priya).await.unwrap().stamp;
    assert_ne!(now, seen);
    d.app
        .store
        .expecting(now)
        .insert_judgement(
            d.priya,
            &unit,
            &criteria[0],
            "met",
            "",
            false,
            sam.person_id,
            1,
        )
        .await
        .unwrap();
    // Two decisions at the same moment: each is decided on the view it read, and at most
    // the ones whose view did not move succeed; the rest are told to reload.
    let view = d.app.portfolio(&sam, d.priya).await.unwrap().stamp;
    let tries: Vec<_> = criteria
        .iter()
        .take(4)
        .map(|c| {
            let store = d.app.store.expecting(view);
            let (unit, c) = (unit.clone(), c.clone());
            let (learner, who) = (d.priya, sam.person_id);
            tokio::spawn(async move {
                store
                    .insert_judgement(learner, &unit, &c, "not_yet_met", "more", false, who, 1)
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tries {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(credence::store::StoreError::Conflict(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 1, "exactly one write wins against one view");

    // Through the API: a decision states the stamp of the portfolio it was taken on.
    let seen = portfolio(&d, d.priya, &d.t_sam).await["stamp"]
        .as_i64()
        .unwrap();
    d.app
        .map_evidence(
            &priya,
            d.priya,
            item,
            &unit,
            &criteria[1],
            "page 2",
            "127.0.0.1",
        )
        .await
        .unwrap();
    let judge = |stamp: i64| serde_json::json!({"unit": unit, "criterion": criteria[2], "outcome": "not_yet_met", "feedback": "Show the plan in use", "stamp": stamp});
    let uri = format!("/api/v1/learners/{}/judgements", d.priya);
    let r = post_json(&d, &uri, &d.t_sam, judge(seen)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("reload"), "{}", r.body);
    let now = portfolio(&d, d.priya, &d.t_sam).await["stamp"]
        .as_i64()
        .unwrap();
    let r = post_json(&d, &uri, &d.t_sam, judge(now)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // The unit page's forms carry the stamp they were shown with.
    let slug = unit.replace(['/', ':', ' '], "-");
    let page = get(
        &d,
        &format!("/learners/{}/portfolio/units/{slug}", d.priya),
        &d.t_sam,
    )
    .await;
    let after = portfolio(&d, d.priya, &d.t_sam).await["stamp"]
        .as_i64()
        .unwrap();
    assert!(
        page.body
            .contains(&format!("name=\"stamp\" value=\"{after}\"")),
        "the decision forms state the stamp"
    );
}
both_databases!(
    a_write_on_a_view_that_moved_is_refused,
    a_write_on_a_view_that_moved_is_refused
);
