//! The 1EdTech CASE 1.0 provider API (read-only): the published catalogue as CFDocuments and
//! CFPackages, so that other learning systems can take the criteria.

use super::{ApiError, ApiPath, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use credence_domain::export::{CfDocument, CfPackage, case_package};
use serde::Serialize;

pub const BASE: &str = "/ims/case/v1p0";

pub fn router() -> Router<AppState> {
    let r = super::access::route(
        Router::new(),
        "/ims/case/v1p0/CFDocuments",
        get(get_cf_documents),
    );
    super::access::route(r, "/ims/case/v1p0/CFPackages/{id}", get(get_cf_package))
}

#[derive(Serialize)]
struct CfDocumentSet {
    #[serde(rename = "CFDocuments")]
    documents: Vec<CfDocument>,
}

fn base_uri(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}{BASE}")
}

async fn packages(app: &AppState, headers: &HeaderMap) -> Result<Vec<CfPackage>, ApiError> {
    let cat = app.catalogue().await?;
    let base = base_uri(headers);
    Ok(cat
        .specs
        .iter()
        .map(|cs| {
            case_package(
                &cs.spec,
                u32::try_from(cs.version.version_number).unwrap_or(u32::MAX),
                &base,
                cs.version
                    .published_at
                    .as_deref()
                    .unwrap_or(&cs.version.imported_at),
            )
        })
        .collect())
}

async fn get_cf_documents(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<CfDocumentSet>, ApiError> {
    Ok(Json(CfDocumentSet {
        documents: packages(&app, &headers)
            .await?
            .into_iter()
            .map(|p| p.document)
            .collect(),
    }))
}

async fn get_cf_package(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CfPackage>, ApiError> {
    packages(&app, &headers)
        .await?
        .into_iter()
        .find(|p| p.document.identifier == id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("CFPackage {id}")))
}
