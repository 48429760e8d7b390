//! The 1EdTech CASE 1.1 provider API (read-only): the current catalogue as CFDocuments,
//! CFPackages, CFItems, CFAssociations and the CFItemTypes they name, so that other learning
//! systems can take the criteria. `CFDocuments` lists the current versions; every identifier
//! of a published version a newer one superseded keeps answering. Every URI in an answer is under the public base URL (the
//! `--public-url` setting certificates use too), never the request's Host header, and
//! answers here. The CASE 1.0 paths (`/ims/case/v1p0/...`) that earlier versions published
//! redirect (308) to the same path under `/ims/case/v1p1`.

use super::{ApiError, ApiPath, AppState};
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use credence_domain::export::{
    CASE_PATH, CfAssociation, CfDocument, CfItem, CfItemType, CfPackage, LinkUri,
};
use serde::Serialize;

pub const BASE: &str = CASE_PATH;
/// The CASE 1.0 base earlier versions published URIs under.
pub const BASE_V1P0: &str = "/ims/case/v1p0";

/// The CASE 1.1 routes, then the CASE 1.0 paths that redirect to them.
pub const ROUTES: &[&str] = &[
    "/ims/case/v1p1/CFDocuments",
    "/ims/case/v1p1/CFDocuments/{id}",
    "/ims/case/v1p1/CFPackages/{id}",
    "/ims/case/v1p1/CFItems/{id}",
    "/ims/case/v1p1/CFAssociations/{id}",
    "/ims/case/v1p1/CFItemAssociations/{id}",
    "/ims/case/v1p1/CFItemTypes/{id}",
];
pub const V1P0_ROUTES: &[&str] = &[
    "/ims/case/v1p0/CFDocuments",
    "/ims/case/v1p0/CFDocuments/{id}",
    "/ims/case/v1p0/CFPackages/{id}",
    "/ims/case/v1p0/CFItems/{id}",
    "/ims/case/v1p0/CFAssociations/{id}",
];

pub fn router() -> Router<AppState> {
    use super::access::route;
    let mut r = Router::new();
    r = route(r, ROUTES[0], get(get_cf_documents));
    r = route(r, ROUTES[1], get(get_cf_document));
    r = route(r, ROUTES[2], get(get_cf_package));
    r = route(r, ROUTES[3], get(get_cf_item));
    r = route(r, ROUTES[4], get(get_cf_association));
    r = route(r, ROUTES[5], get(get_cf_item_associations));
    r = route(r, ROUTES[6], get(get_cf_item_type));
    for path in V1P0_ROUTES {
        r = route(r, path, get(redirect_v1p0));
    }
    r
}

/// A CASE 1.0 path: the same resource under CASE 1.1, permanently.
async fn redirect_v1p0(uri: Uri) -> Response {
    let path = uri.path();
    let rest = path.strip_prefix(BASE_V1P0).unwrap_or(path);
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    Redirect::permanent(&format!("{BASE}{rest}{query}")).into_response()
}

#[derive(Serialize)]
struct CfDocumentSet {
    #[serde(rename = "CFDocuments")]
    documents: Vec<DocumentOut>,
}

/// The REST `CFDocument`: the package's document with its `CFPackageURI`.
#[derive(Serialize)]
struct DocumentOut {
    #[serde(flatten)]
    document: CfDocument,
    #[serde(rename = "CFPackageURI")]
    package_uri: LinkUri,
}

/// The REST `CFItem`: the package's item with its `CFDocumentURI`.
#[derive(Serialize)]
struct ItemOut {
    #[serde(flatten)]
    item: CfItem,
    #[serde(rename = "CFDocumentURI")]
    document_uri: LinkUri,
}

/// The REST `CFAssociation`: the package's association with its `CFDocumentURI`.
#[derive(Serialize)]
struct AssociationOut {
    #[serde(flatten)]
    association: CfAssociation,
    #[serde(rename = "CFDocumentURI")]
    document_uri: LinkUri,
}

#[derive(Serialize)]
struct ItemAssociations {
    #[serde(rename = "CFItem")]
    item: ItemOut,
    #[serde(rename = "CFAssociations")]
    associations: Vec<AssociationOut>,
}

fn document_out(p: CfPackage) -> DocumentOut {
    DocumentOut {
        package_uri: p.package_link(),
        document: p.document,
    }
}

async fn get_cf_documents(State(app): State<AppState>) -> Result<Json<CfDocumentSet>, ApiError> {
    Ok(Json(CfDocumentSet {
        documents: app
            .case_packages()
            .await?
            .into_iter()
            .map(document_out)
            .collect(),
    }))
}

/// The first package (the current catalogue's, then those of superseded published versions,
/// newest first) for which `pick` finds something: identifiers Credence once published keep
/// answering after a new version supersedes them.
async fn first_in_packages<T>(
    app: &AppState,
    pick: impl Fn(&CfPackage) -> Option<T>,
) -> Result<Option<(CfPackage, T)>, ApiError> {
    for p in app.case_packages().await? {
        if let Some(t) = pick(&p) {
            return Ok(Some((p, t)));
        }
    }
    for p in app.superseded_case_packages().await? {
        if let Some(t) = pick(&p) {
            return Ok(Some((p, t)));
        }
    }
    Ok(None)
}

async fn find_package(app: &AppState, id: &str) -> Result<Option<CfPackage>, ApiError> {
    Ok(
        first_in_packages(app, |p| (p.document.identifier == id).then_some(()))
            .await?
            .map(|(p, ())| p),
    )
}

async fn get_cf_document(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DocumentOut>, ApiError> {
    find_package(&app, &id)
        .await?
        .map(|p| Json(document_out(p)))
        .ok_or_else(|| ApiError::not_found(format!("CFDocument {id}")))
}

async fn get_cf_package(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CfPackage>, ApiError> {
    find_package(&app, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("CFPackage {id}")))
}

/// The package holding the item `id`, and the item.
async fn find_item(app: &AppState, id: &str) -> Result<(CfPackage, CfItem), ApiError> {
    first_in_packages(app, |p| {
        p.items.iter().find(|i| i.identifier == id).cloned()
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("CFItem {id}")))
}

async fn get_cf_item(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ItemOut>, ApiError> {
    let (p, item) = find_item(&app, &id).await?;
    Ok(Json(ItemOut {
        item,
        document_uri: p.document_link(),
    }))
}

async fn get_cf_association(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AssociationOut>, ApiError> {
    let (p, association) = first_in_packages(&app, |p| {
        p.associations.iter().find(|a| a.identifier == id).cloned()
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("CFAssociation {id}")))?;
    Ok(Json(AssociationOut {
        association,
        document_uri: p.document_link(),
    }))
}

/// The item and every association it is the origin or destination of.
async fn get_cf_item_associations(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ItemAssociations>, ApiError> {
    let (p, item) = find_item(&app, &id).await?;
    let document_uri = p.document_link();
    let associations = p
        .associations
        .into_iter()
        .filter(|a| a.origin_node_uri.identifier == id || a.destination_node_uri.identifier == id)
        .map(|association| AssociationOut {
            association,
            document_uri: document_uri.clone(),
        })
        .collect();
    Ok(Json(ItemAssociations {
        item: ItemOut { item, document_uri },
        associations,
    }))
}

async fn get_cf_item_type(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CfItemType>, ApiError> {
    app.case_packages()
        .await?
        .into_iter()
        .flat_map(|p| p.definitions.item_types)
        .find(|t| t.identifier == id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("CFItemType {id}")))
}
