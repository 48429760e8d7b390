//! A person's own data (issue 16): the download of everything held about them (index.json,
//! every kind of record, evidence files byte for byte), only ever their own; the erasure
//! request answered from the retention rules, carrying out what can be erased, with a legal
//! hold stopping it; and the audit chain still verifying afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::pages::{csrf_in, demo_cookie, form, page};
use common::{actor, send, token_for};
use credence::app::App;
use std::collections::BTreeMap;
use tower::ServiceExt;

/// Every section the export writes, in its order.
const SECTIONS: &[&str] = &[
    "account",
    "roles",
    "api_tokens",
    "second_factor",
    "email_preferences",
    "learner_records",
    "registrations",
    "registration_events",
    "transfers",
    "learning_plans",
    "learning_plan_units",
    "evidence",
    "evidence_mappings",
    "evidence_ksbs",
    "decisions",
    "feedback_replies",
    "signatures",
    "authentications",
    "marks",
    "quality_samples",
    "quality_decisions",
    "appeals",
    "claims",
    "certificates",
    "legal_holds",
    "competence",
    "interests_declared",
    "assignments",
    "eqa_appointments",
    "decisions_made",
    "signatures_made",
    "authentications_made",
    "results_recorded",
    "sample_decisions_made",
    "standardisation",
    "eqa_visits",
    "audit_entries",
];

/// GET with a token, the body as bytes.
async fn get_bytes(
    router: &axum::Router,
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    (status, ct, bytes)
}

fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        out.insert(f.name().unwrap().to_string(), buf);
    }
    out
}

fn json(files: &BTreeMap<String, Vec<u8>>, name: &str) -> serde_json::Value {
    serde_json::from_slice(
        files
            .get(name)
            .unwrap_or_else(|| panic!("{name} in the zip")),
    )
    .unwrap()
}

fn records_in(index: &serde_json::Value, section: &str) -> u64 {
    index["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == section)
        .unwrap_or_else(|| panic!("section {section} in the index"))["records"]
        .as_u64()
        .unwrap()
}

async fn stored_bytes(app: &App, key: &str) -> Vec<u8> {
    use futures_util::StreamExt;
    let (_, mut s) = app.evidence.get_stream(key).await.unwrap();
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    out
}

async fn a_learner_downloads_everything_held_about_them(url: String) {
    let d = common::demo_centres(&url).await;
    let app = d.app;
    let router = credence::web::router(app.clone());
    let kwame = token_for(&app, "kwame.learner@demo").await;
    let (status, ct, bytes) = get_bytes(&router, "/api/v1/me/data", Some(&kwame)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(ct, "application/zip");
    let files = unzip(&bytes);
    let index = json(&files, "index.json");
    assert_eq!(index["format"], "credence-personal-data");
    assert_eq!(index["version"], 1);
    // Every kind of record is listed, with its file and what it is, and each file holds
    // as many records as the index says.
    let names: Vec<&str> = index["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, SECTIONS);
    for s in index["sections"].as_array().unwrap() {
        assert!(!s["description"].as_str().unwrap().is_empty());
        let rows = json(&files, s["file"].as_str().unwrap());
        assert_eq!(
            rows.as_array().unwrap().len() as u64,
            s["records"].as_u64().unwrap()
        );
    }
    // Kwame's unit certificate came from evidence, decisions, sign-off, authentication and
    // a claim: all of it is there.
    for section in [
        "account",
        "roles",
        "learner_records",
        "registrations",
        "evidence",
        "evidence_mappings",
        "decisions",
        "signatures",
        "authentications",
        "claims",
        "certificates",
        "audit_entries",
    ] {
        assert!(records_in(&index, section) > 0, "Kwame has {section}");
    }
    let account = json(&files, "data/account.json");
    assert_eq!(account[0]["email"], "kwame.learner@demo");
    let certificates = json(&files, "data/certificates.json");
    assert!(
        certificates[0]["learner_name"]
            .as_str()
            .unwrap()
            .contains("Kwame")
    );
    // No credential leaves: no password hash, no token hash, no second-factor secret.
    let all: String = files
        .iter()
        .filter(|(n, _)| n.ends_with(".json"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(!all.contains("$argon2"), "no password hash");
    assert!(!all.contains("token_hash") && !all.contains("password_hash"));
    // Evidence files, byte for byte, as the index and the evidence rows name them.
    let evidence = json(&files, "data/evidence.json");
    let evidence = evidence.as_array().unwrap();
    assert_eq!(
        index["evidence_files"].as_array().unwrap().len(),
        evidence.len()
    );
    for e in evidence {
        let name = e["file"].as_str().unwrap();
        let inside = files
            .get(name)
            .unwrap_or_else(|| panic!("{name} in the zip"));
        let stored = stored_bytes(&app, e["object_key"].as_str().unwrap()).await;
        assert_eq!(inside, &stored, "{name} byte for byte");
        use sha2::Digest;
        assert_eq!(
            hex::encode(sha2::Sha256::digest(inside)),
            e["sha256"].as_str().unwrap()
        );
    }
    // The download is in the audit log, by Kwame, with no personal data in it.
    let person = app
        .store
        .person_by_email("kwame.learner@demo")
        .await
        .unwrap()
        .unwrap()
        .person_id;
    let latest = app.store.audit_entries(None, 5).await.unwrap();
    let e = latest
        .iter()
        .find(|r| r.action == "personal_data.exported")
        .expect("the download is audited");
    assert_eq!(
        e.actor.as_deref(),
        Some(format!("person:{person}").as_str())
    );
    assert!(e.address.is_none());
    for personal in ["Kwame", "Mensah", "kwame.learner", "1993-10-03"] {
        assert!(
            !e.detail.contains(personal),
            "{personal} stays out of the entry"
        );
    }

    // Someone else's download is their own: none of Kwame's records or files.
    let tom = token_for(&app, "tom.learner@demo").await;
    let (status, _, bytes) = get_bytes(&router, "/api/v1/me/data", Some(&tom)).await;
    assert_eq!(status, StatusCode::OK);
    let theirs = unzip(&bytes);
    let text: String = theirs
        .values()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(!text.contains("Mensah") && !text.contains("kwame.learner@demo"));
    for e in evidence {
        assert!(!theirs.contains_key(e["file"].as_str().unwrap()));
    }
    // Nobody signed in gets nothing; there is no way to name another person.
    let (status, _, _) = get_bytes(&router, "/api/v1/me/data", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = get_bytes(
        &router,
        &format!("/api/v1/people/{person}/data"),
        Some(&tom),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.verify_audit(None).await.unwrap(),
        Ok(app.store.audit_head().await.unwrap().0 as usize)
    );
}
both_databases!(
    learner_export,
    a_learner_downloads_everything_held_about_them
);

async fn a_staff_members_export_has_their_decisions(url: String) {
    let d = common::demo_centres(&url).await;
    let app = d.app;
    let router = credence::web::router(app.clone());
    let sam = token_for(&app, "sam.assessor@demo").await;
    let (status, _, bytes) = get_bytes(&router, "/api/v1/me/data", Some(&sam)).await;
    assert_eq!(status, StatusCode::OK);
    let files = unzip(&bytes);
    let index = json(&files, "index.json");
    let person = app
        .store
        .person_by_email("sam.assessor@demo")
        .await
        .unwrap()
        .unwrap()
        .person_id;
    for section in [
        "account",
        "roles",
        "competence",
        "assignments",
        "decisions_made",
        "audit_entries",
    ] {
        assert!(records_in(&index, section) > 0, "Sam has {section}");
    }
    let decisions = json(&files, "data/decisions_made.json");
    for d in decisions.as_array().unwrap() {
        assert_eq!(d["assessor_id"], person, "only Sam's own decisions");
    }
    // The staff member's own learner sections are empty: they are nobody's learner record.
    assert_eq!(records_in(&index, "learner_records"), 0);
    let audit = json(&files, "data/audit_entries.json");
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == format!("person:{person}"))
    );
    // Their erasure answer keeps the decisions they made with the learners' records.
    let me = actor(&app, "sam.assessor@demo").await;
    let answer = app.erasure_preview(&me).await.unwrap();
    let made = answer
        .items
        .iter()
        .find(|i| i.what.starts_with("Decisions, sign-offs"))
        .expect("the decisions Sam made are accounted for");
    assert!(made.decision.starts_with("kept"), "{made:?}");
    assert!(
        answer
            .items
            .iter()
            .any(|i| i.what.starts_with("Your competence") && i.decision.starts_with("kept"))
    );
}
both_databases!(staff_export, a_staff_members_export_has_their_decisions);

async fn erasure_keeps_the_certificate_and_says_until_when(url: String) {
    let d = common::demo_centres(&url).await;
    let app = d.app;
    let router = credence::web::router(app.clone());
    let kwame = token_for(&app, "kwame.learner@demo").await;
    let before = app.store.audit_head().await.unwrap().0;
    let r = common::post(
        &router,
        "/api/v1/me/erasure",
        &kwame,
        "application/json",
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let answer: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(answer["carried_out"], true);
    let items = answer["items"].as_array().unwrap();
    let find = |start: &str| {
        items
            .iter()
            .find(|i| i["what"].as_str().unwrap().starts_with(start))
            .unwrap_or_else(|| panic!("{start} in {items:?}"))
    };
    assert_eq!(find("Your certificates")["decision"], "kept_permanently");
    assert_eq!(find("Audit log entries")["decision"], "kept_permanently");
    // The portfolio and assessment records: 3 years from the certificate's issue date.
    let learner = common::learner_of(&app, "kwame.learner@demo").await;
    let ends = app.store.registration_ends(learner).await.unwrap();
    let issued = ends[0]
        .any_certified_at
        .clone()
        .expect("Kwame's unit certificate");
    let issued = chrono::NaiveDate::parse_from_str(&issued[..10], "%Y-%m-%d").unwrap();
    let until = credence_domain::records::kept_until(issued);
    let records = find("Your portfolio and assessment records");
    assert_eq!(records["decision"], "kept_until");
    assert_eq!(records["kept_until"], until.format("%Y-%m-%d").to_string());
    // Nothing of the record went: the evidence is all still there.
    let p = app
        .portfolio(&actor(&app, "kwame.learner@demo").await, learner)
        .await
        .unwrap();
    assert!(!p.evidence.is_empty());
    // The request is in the log, and the chain verifies.
    let entries = app.store.audit_entries(None, 10).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "personal_data.erasure_requested")
    );
    assert!(app.store.audit_head().await.unwrap().0 > before);
    assert!(app.verify_audit(None).await.unwrap().is_ok());
}
both_databases!(
    erasure_with_certificate,
    erasure_keeps_the_certificate_and_says_until_when
);

async fn records_past_retention_are_erased_unless_held(url: String) {
    let d = common::demo_centres(&url).await;
    let app = d.app;
    let admin = actor(&app, "admin@northgate.demo").await;
    let learner = common::learner_of(&app, "ben.learner@demo").await;
    let priya = actor(&app, "ben.learner@demo").await;
    let before = app.portfolio(&priya, learner).await.unwrap();
    assert!(!before.evidence.is_empty(), "Ben has evidence");
    let keys: Vec<String> = before
        .evidence
        .iter()
        .map(|e| e.object_key.clone())
        .collect();
    // Ben left Northgate in March 2021: her records there were kept until March 2024.
    for r in app.store.registrations_of_learner(learner).await.unwrap() {
        assert_eq!(r.centre_id, d.north);
        app.change_registration(
            &admin,
            d.north,
            r.registration_id,
            "withdraw",
            "01/03/2021",
            "moved away",
            "t",
        )
        .await
        .unwrap();
    }
    // A legal hold on Ben stops it: nothing goes.
    let operator = app.operator(None).await.unwrap();
    let hold = app
        .place_legal_hold(
            &operator,
            credence_domain::records::HoldOn::Learner(learner),
            "claim against the centre",
        )
        .await
        .unwrap();
    let held = app.erase_own_data(&priya).await.unwrap();
    let records = held
        .items
        .iter()
        .find(|i| i.what.starts_with("Your portfolio and assessment records"))
        .unwrap();
    assert_eq!(records.decision, "held");
    assert!(records.reason.contains("claim against the centre"));
    assert_eq!(records.kept_until.as_deref(), Some("2024-03-01"));
    assert_eq!(
        app.portfolio(&priya, learner).await.unwrap().evidence.len(),
        before.evidence.len()
    );
    for k in &keys {
        assert!(app.evidence.size(k).await.unwrap().is_some());
    }

    // Lifted: the preview says what would go, and the page asks to confirm.
    app.lift_legal_hold(&operator, hold).await.unwrap();
    let router = credence::web::router(app.clone());
    let cookie = demo_cookie(&router, "ben.learner@demo").await;
    let r = send(&router, page("/account/data", &cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Download your data"));
    assert!(
        r.body.contains("Erased now"),
        "the preview says what would go"
    );
    let csrf = csrf_in(&r.body);
    let r = send(
        &router,
        form(
            "/account/data/erasure",
            &format!("csrf={csrf}"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not confirmed: nothing happens"
    );
    assert!(r.body.contains("There is a problem"));
    assert_eq!(
        app.portfolio(&priya, learner).await.unwrap().evidence.len(),
        before.evidence.len()
    );
    let r = send(
        &router,
        form(
            "/account/data/erasure",
            &format!("csrf={csrf}&confirm=yes"),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("We erased what can be erased now"));

    // The records at Northgate, and their files, are gone; the learner record's email too.
    let after = app.portfolio(&priya, learner).await.unwrap();
    assert!(after.evidence.is_empty() && after.judgements.is_empty());
    for k in &keys {
        assert_eq!(
            app.evidence.size(k).await.unwrap(),
            None,
            "{k} removed from the store"
        );
    }
    assert_eq!(
        app.store.learner(learner).await.unwrap().unwrap().email,
        None
    );
    // Each erasure is in the log, with ids only; and the chain still verifies.
    let entries = app.store.audit_entries(None, 20).await.unwrap();
    let disposed = entries
        .iter()
        .find(|e| e.action == "records.disposed")
        .expect("the disposal is recorded");
    assert_eq!(disposed.learner_id, Some(learner));
    assert_eq!(disposed.centre_id, Some(d.north));
    assert!(!disposed.detail.contains("Ben"));
    assert!(entries.iter().any(|e| e.action == "records.hold_placed"));
    assert!(entries.iter().any(|e| e.action == "records.hold_lifted"));
    assert!(
        app.verify_audit(None).await.unwrap().is_ok(),
        "the chain verifies after erasure"
    );
    // A second request finds nothing more to erase, and says what is still kept.
    let again = app.erasure_preview(&priya).await.unwrap();
    let regs = again
        .items
        .iter()
        .find(|i| i.what.starts_with("Your registrations"))
        .unwrap();
    // Ben's certificate stays in the register, and with it his registration.
    assert_eq!(regs.decision, "kept_permanently", "{regs:?}");
    assert!(
        again
            .items
            .iter()
            .any(|i| i.what.starts_with("Your certificates") && i.decision == "kept_permanently")
    );
    let ends = app.store.registration_ends(learner).await.unwrap();
    assert!(
        ends.iter().any(|r| r.any_certified_at.is_some()),
        "the certificate is still on the register"
    );
    assert!(
        again
            .items
            .iter()
            .any(|i| i.what.starts_with("Your portfolio") && i.decision == "disposed")
    );
    assert_eq!(again.erased().count(), 0, "nothing left to erase");
}
both_databases!(
    erasure_past_retention,
    records_past_retention_are_erased_unless_held
);
