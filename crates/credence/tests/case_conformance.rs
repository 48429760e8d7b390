//! 1EdTech CASE 1.1 conformance of the catalogue's CASE export and REST service: the five
//! shipped specifications' packages validate against 1EdTech's official CFPackage JSON Schema
//! (tests/data/case-v1p1-cfpackage.schema.json, checked by ajv in
//! tests/browser/validate-case.mjs), every URI in them is under the public URL and answers,
//! the associations cover the whole tree and the KSB mappings, and CASE 1.0 paths redirect.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

const PUBLIC_URL: &str = "https://credence.example.org";
const CASE_BASE: &str = "https://credence.example.org/ims/case/v1p1/";

/// A GET through the router, with a Host header that is not the public URL's (the URIs must
/// not come from it).
async fn get(router: &axum::Router, path: &str) -> common::Reply {
    common::send(
        router,
        Request::get(path)
            .header(header::HOST, "attacker.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn get_json(router: &axum::Router, path: &str) -> Value {
    let r = get(router, path).await;
    assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// Every `uri` field anywhere in `v`.
fn uris(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "uri" {
                    out.insert(x.as_str().expect("a uri is a string").to_string());
                } else {
                    uris(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| uris(x, out)),
        _ => {}
    }
}

/// Validate the packages with ajv against the official schema; panics listing the errors.
fn validate_with_ajv(packages: &[Value]) {
    if !common::verifier::node_ready() {
        return;
    }
    let dir = common::temp_dir("case-packages");
    let mut files = Vec::new();
    for (i, p) in packages.iter().enumerate() {
        let f = dir.join(format!("package-{i}.json"));
        std::fs::write(&f, serde_json::to_vec_pretty(p).unwrap()).unwrap();
        files.push(f);
    }
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/case-v1p1-cfpackage.schema.json");
    let out = std::process::Command::new("node")
        .arg(common::verifier::browser_dir().join("validate-case.mjs"))
        .arg(schema)
        .args(&files)
        .output()
        .expect("node runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "validate-case.mjs printed no JSON:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), packages.len());
    assert!(
        out.status.success() && results.iter().all(|r| r["valid"] == true),
        "packages invalid against the CASE 1.1 CFPackage schema:\n{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_specifications_case_packages_follow_case_1_1() {
    let mut app = common::app_on(&common::sqlite_url()).await;
    app.public_url = PUBLIC_URL.into();
    common::seed(&app).await;
    let router = credence::web::router(app.clone());

    // The packages as `catalogue export --format case` writes them...
    let exported: Vec<Value> = app
        .case_packages()
        .await
        .unwrap()
        .iter()
        .map(|p| serde_json::to_value(p).unwrap())
        .collect();
    assert_eq!(exported.len(), 5);
    // ...are the ones the REST service serves, found from its document list.
    let documents = get_json(&router, "/ims/case/v1p1/CFDocuments").await;
    let documents = documents["CFDocuments"].as_array().unwrap();
    assert_eq!(documents.len(), 5);
    let mut packages = Vec::new();
    for d in documents {
        let id = d["identifier"].as_str().unwrap();
        assert_eq!(d["caseVersion"], "1.1");
        assert_eq!(
            d["uri"].as_str().unwrap(),
            format!("{CASE_BASE}CFDocuments/{id}")
        );
        let package_uri = d["CFPackageURI"]["uri"].as_str().unwrap();
        assert_eq!(package_uri, format!("{CASE_BASE}CFPackages/{id}"));
        let p = get_json(&router, package_uri.strip_prefix(PUBLIC_URL).unwrap()).await;
        assert!(
            exported.contains(&p),
            "the served package is the exported one"
        );
        // The document alone, as the REST service gives it.
        let alone = get_json(&router, &format!("/ims/case/v1p1/CFDocuments/{id}")).await;
        assert_eq!(&alone, d);
        packages.push(p);
    }

    // The official schema accepts every package.
    validate_with_ajv(&packages);

    let catalogue = app.catalogue().await.unwrap();
    let mut all_uris = BTreeSet::new();
    let mut shared_units = 0;
    let mut ksb_mappings = 0;
    for p in &packages {
        let doc = &p["CFDocument"];
        let doc_id = doc["identifier"].as_str().unwrap();
        assert!(
            doc.get("CFPackageURI").is_none(),
            "no CFPackageURI inside a package"
        );
        let items = p["CFItems"].as_array().unwrap();
        let associations = p["CFAssociations"].as_array().unwrap();
        for i in items {
            assert!(
                i.get("CFDocumentURI").is_none(),
                "no CFDocumentURI in items"
            );
        }
        for a in associations {
            assert!(
                a.get("CFDocumentURI").is_none(),
                "no CFDocumentURI in associations"
            );
            assert!(a.get("originNodeUri").is_none() && a.get("destinationNodeUri").is_none());
            assert!(a["originNodeURI"]["uri"].is_string(), "{a}");
            assert!(a["destinationNodeURI"]["uri"].is_string(), "{a}");
            let t = a["associationType"].as_str().unwrap();
            assert!(t == "isChildOf" || t == "isRelatedTo", "{t}");
        }

        // Identifiers are the name-based ones published before (stable).
        let cs = catalogue
            .specs
            .iter()
            .find(|cs| cs.spec.title == doc["title"])
            .expect("the document is a current specification");
        let ns = uuid::Uuid::from_u128(0x6f1d_0c2a_9a4e_4d59_9b8e_2f0c_5e7a_1c33);
        let key = format!("{}\u{1f}{}", cs.spec.key, cs.version.version_number);
        assert_eq!(doc_id, uuid::Uuid::new_v5(&ns, key.as_bytes()).to_string());

        // The tree: every item is the child of something in the package.
        let by_id: HashMap<&str, &Value> = items
            .iter()
            .map(|i| (i["identifier"].as_str().unwrap(), i))
            .collect();
        assert_eq!(by_id.len(), items.len(), "each item once");
        let parents = |id: &str, rel: &str| -> Vec<&str> {
            associations
                .iter()
                .filter(|a| a["associationType"] == rel && a["originNodeURI"]["identifier"] == id)
                .map(|a| a["destinationNodeURI"]["identifier"].as_str().unwrap())
                .collect()
        };
        let kind_of = |id: &str| -> &str {
            if id == doc_id {
                "document"
            } else {
                by_id
                    .get(id)
                    .map(|i| i["CFItemType"].as_str().unwrap())
                    .unwrap_or("missing")
            }
        };
        for (id, item) in &by_id {
            let ps = parents(id, "isChildOf");
            assert!(!ps.is_empty(), "{item} has no isChildOf association");
            let want: &[&str] = match item["CFItemType"].as_str().unwrap() {
                "Assessment Criterion" => &["Learning Outcome"],
                "Learning Outcome" => &["Unit"],
                "Unit" => &["Qualification", "document"],
                "Qualification" | "Apprenticeship Standard" => &["document"],
                "Knowledge" | "Skill" | "Behaviour" | "KSB" => &["Apprenticeship Standard"],
                other => panic!("unexpected item type {other}"),
            };
            for parent in ps {
                assert!(
                    want.contains(&kind_of(parent)),
                    "{item} is a child of a {}",
                    kind_of(parent)
                );
            }
        }
        let count = |kind: &str| items.iter().filter(|i| i["CFItemType"] == kind).count();
        let spec = &cs.spec;
        assert_eq!(count("Unit"), spec.units.len(), "a shared unit is one item");
        assert_eq!(count("Qualification"), spec.qualifications.len());
        assert_eq!(
            count("Learning Outcome"),
            spec.units
                .iter()
                .map(|u| u.learning_outcomes.len())
                .sum::<usize>()
        );
        assert_eq!(
            count("Assessment Criterion"),
            spec.units
                .iter()
                .flat_map(|u| &u.learning_outcomes)
                .map(|lo| lo.criteria.len())
                .sum::<usize>()
        );
        for u in &spec.units {
            let code = u.ofqual_ref.clone().unwrap_or_else(|| u.ao_ref.clone());
            let unit = items
                .iter()
                .find(|i| {
                    i["CFItemType"] == "Unit"
                        && i["humanCodingScheme"] == code.as_str()
                        && i["fullStatement"] == u.title.as_str()
                })
                .unwrap_or_else(|| panic!("unit {} is an item", u.key));
            let id = unit["identifier"].as_str().unwrap();
            let quals = spec
                .qualifications
                .iter()
                .filter(|q| q.units.iter().any(|qu| qu.unit == u.key))
                .count();
            let up = parents(id, "isChildOf");
            assert_eq!(
                up.len(),
                quals.max(1),
                "unit {} under each qualification",
                u.key
            );
            if quals > 1 {
                shared_units += 1;
            }
            // Its KSB mappings are isRelatedTo associations to KSB items.
            let related = parents(id, "isRelatedTo");
            let ksbs: BTreeSet<(&str, &str)> = u
                .ksb
                .iter()
                .map(|k| (k.standard.as_str(), k.code.as_str()))
                .collect();
            assert_eq!(related.len(), ksbs.len(), "unit {} KSB mappings", u.key);
            for r in related {
                assert!(
                    ["Knowledge", "Skill", "Behaviour", "KSB"].contains(&kind_of(r)),
                    "isRelatedTo a {}",
                    kind_of(r)
                );
                ksb_mappings += 1;
            }
        }

        // Item types: every CFItemTypeURI names a definition the package carries.
        let types: BTreeSet<&str> = p["CFDefinitions"]["CFItemTypes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["identifier"].as_str().unwrap())
            .collect();
        for i in items {
            assert!(types.contains(i["CFItemTypeURI"]["identifier"].as_str().unwrap()));
        }
        uris(p, &mut all_uris);
    }
    assert!(shared_units > 0, "the shipped specifications share units");
    assert!(
        ksb_mappings > 0,
        "the shipped specifications map units to KSBs"
    );

    // Every URI is under the public URL and answers, with the thing it names.
    for uri in &all_uris {
        let path = uri
            .strip_prefix(PUBLIC_URL)
            .unwrap_or_else(|| panic!("{uri} is not under the public URL"));
        assert!(path.starts_with("/ims/case/v1p1/"), "{uri}");
        let v = get_json(&router, path).await;
        let id = path.rsplit('/').next().unwrap();
        let identifier = v["identifier"]
            .as_str()
            .or_else(|| v["CFDocument"]["identifier"].as_str())
            .unwrap_or_default();
        assert_eq!(identifier, id, "{uri} answers with what it names");
        assert_eq!(v["uri"].as_str().unwrap_or(uri), uri);
    }

    // An item with its associations.
    let p = &packages[0];
    let unit = p["CFItems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["CFItemType"] == "Unit")
        .unwrap();
    let id = unit["identifier"].as_str().unwrap();
    let ia = get_json(&router, &format!("/ims/case/v1p1/CFItemAssociations/{id}")).await;
    assert_eq!(ia["CFItem"]["identifier"], id);
    assert_eq!(
        ia["CFItem"]["CFDocumentURI"]["identifier"],
        p["CFDocument"]["identifier"]
    );
    let linked = ia["CFAssociations"].as_array().unwrap();
    assert!(
        linked
            .iter()
            .any(|a| a["originNodeURI"]["identifier"] == id)
    );
    assert!(
        linked
            .iter()
            .any(|a| a["destinationNodeURI"]["identifier"] == id)
    );
    assert!(
        linked.iter().all(|a| a["originNodeURI"]["identifier"] == id
            || a["destinationNodeURI"]["identifier"] == id)
    );

    // Not found is 404.
    let r = get(
        &router,
        "/ims/case/v1p1/CFItems/00000000-0000-0000-0000-000000000000",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // CASE 1.0 paths published before redirect to CASE 1.1.
    for (old, new) in [
        (
            format!("/ims/case/v1p0/CFItems/{id}"),
            format!("/ims/case/v1p1/CFItems/{id}"),
        ),
        (
            "/ims/case/v1p0/CFDocuments".to_string(),
            "/ims/case/v1p1/CFDocuments".to_string(),
        ),
        (
            format!(
                "/ims/case/v1p0/CFPackages/{}",
                p["CFDocument"]["identifier"].as_str().unwrap()
            ),
            format!(
                "/ims/case/v1p1/CFPackages/{}",
                p["CFDocument"]["identifier"].as_str().unwrap()
            ),
        ),
    ] {
        let r = get(&router, &old).await;
        assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT, "{old}");
        assert_eq!(r.headers[header::LOCATION], new.as_str());
        assert_eq!(get(&router, &new).await.status, StatusCode::OK);
    }
}
