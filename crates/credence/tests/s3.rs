//! The evidence store on a real S3-compatible server (Garage, started on loopback by the
//! test): uploads stream as multipart uploads, downloads and the zip read them back, a
//! refused or cut-off upload leaves nothing in the bucket, and the check and sweep work.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_on_an_s3_compatible_store() {
    let Some(garage) = tokio::task::spawn_blocking(common::garage::start)
        .await
        .unwrap()
    else {
        return;
    };
    let store = garage.evidence_store();
    let base = common::app_on(&common::sqlite_url()).await;
    let mut app = credence::app::App::new(base.store.clone(), store);
    app.max_upload = 64 << 20;
    common::demo(&app).await;
    // The demo data stores Tom's evidence; this test works beside it.
    let demo_keys: std::collections::HashSet<String> = app
        .evidence
        .keys()
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let router = credence::web::router(app.clone());
    let token = common::token_for(&app, "priya.learner@demo").await;
    let p = app
        .store
        .person_by_email("priya.learner@demo")
        .await
        .unwrap()
        .unwrap();
    let learner = app
        .store
        .grants(p.person_id)
        .await
        .unwrap()
        .iter()
        .find_map(|g| g.learner_id)
        .unwrap();
    let uri = |title: &str| {
        format!(
            "/api/v1/learners/{learner}/evidence?title={title}&date=2026-11-02&kind=observation_checklist&source=real_workplace&file_name=video.mp4"
        )
    };
    let post = |uri: String, body: Body| {
        Request::builder()
            .method("POST")
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(body)
            .unwrap()
    };

    // 12 MiB: three parts of a multipart upload.
    let bytes: Vec<u8> = (0..12 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let r = common::send(&router, post(uri("Video"), Body::from(bytes.clone()))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let keys: Vec<_> = app
        .evidence
        .keys()
        .await
        .unwrap()
        .into_iter()
        .filter(|(k, _)| !demo_keys.contains(k))
        .collect();
    assert_eq!(keys.len(), 1);
    use sha2::Digest;
    assert_eq!(
        app.evidence.sha256(&keys[0].0).await.unwrap(),
        hex::encode(sha2::Sha256::digest(&bytes))
    );

    // Read back through the download route.
    use tower::ServiceExt;
    let res = router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/learners/{learner}/evidence/{id}/file"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let got = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(got[..] == bytes[..], "the download is the upload");

    // Over the limit, and cut off half way: nothing left in the bucket.
    let big = futures_util::stream::iter(
        (0..70).map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![1u8; 1 << 20]))),
    );
    let r = common::send(&router, post(uri("Too+big"), Body::from_stream(big))).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    let cut = futures_util::stream::iter(vec![
        Ok(axum::body::Bytes::from(vec![2u8; 6 << 20])),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset",
        )),
    ]);
    let r = common::send(&router, post(uri("Cut"), Body::from_stream(cut))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        app.evidence.keys().await.unwrap().len(),
        demo_keys.len() + 1
    );
    let (n, problems, orphans) = app.check_evidence(true).await.unwrap();
    assert_eq!(
        (n, problems.len(), orphans.len()),
        (demo_keys.len() + 1, 0, 0),
        "{problems:?} {orphans:?}"
    );

    // The zip reads from the bucket too.
    let res = router
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/learners/{learner}/portfolio.zip"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let z = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(z.to_vec())).unwrap();
    let mut inside = Vec::new();
    std::io::Read::read_to_end(
        &mut archive
            .by_name(&format!("evidence/{id:05}-video.mp4"))
            .unwrap(),
        &mut inside,
    )
    .unwrap();
    assert!(inside == bytes);

    // Deleting the item removes its object; an object no record names is swept.
    let r = common::send(
        &router,
        Request::builder()
            .method("POST")
            .uri(format!("/learners/{learner}/evidence/{id}/delete"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.evidence.keys().await.unwrap().len(), demo_keys.len());
    let orphan = app
        .evidence
        .put_stream(
            futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
                axum::body::Bytes::from_static(b"orphan"),
            )]),
            100,
        )
        .await
        .unwrap();
    let (_, _, orphans) = app.check_evidence(false).await.unwrap();
    assert_eq!(orphans, vec![orphan.key]);
    let (removed, _) = app.sweep_evidence(std::time::Duration::ZERO).await.unwrap();
    assert_eq!(removed, 1);
    assert_eq!(app.evidence.keys().await.unwrap().len(), demo_keys.len());
}
