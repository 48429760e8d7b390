//! The JSON API under `/api/v1/`. Every route is registered through `routes!` with its
//! `#[utoipa::path]`, so none exists without its OpenAPI documentation.

use super::access::CurrentActor;
use super::{ApiError, ApiJson, ApiPath, ApiQuery, AppState, ErrorBody};
use crate::app::catalogue::{qan_from_slug, qan_slug, unit_slug};
use crate::store::VersionRow;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use credence_domain::corrections::Corrections;
use credence_domain::export::CatalogueExport;
use credence_domain::import::ImportReport;
use credence_domain::model::{Qualification, Specification, Unit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi_info())
        .routes(routes!(list_awarding_organisations))
        .routes(routes!(list_qualifications))
        .routes(routes!(get_qualification))
        .routes(routes!(get_unit))
        .routes(routes!(search_criteria))
        .routes(routes!(list_catalogue_versions, create_catalogue_version))
        .routes(routes!(get_catalogue_version))
        .routes(routes!(get_catalogue_diff))
        .routes(routes!(create_corrections))
        .routes(routes!(create_publication))
        .routes(routes!(get_catalogue_export))
        .routes(routes!(get_evaluation))
        .routes(routes!(get_plan))
        .routes(routes!(list_claimable))
}

fn openapi_info() -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{InfoBuilder, OpenApiBuilder};
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Credence API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Regulated vocational qualifications end to end. Every error answers with \
                     {\"errors\":[{\"detail\":...}]}. QANs and unit references are written with \
                     '-' in place of '/' in paths (610-3788-6, L-650-7899).",
                ))
                .build(),
        )
        .build()
}

#[derive(Serialize, ToSchema)]
pub struct AwardingOrganisationSummary {
    pub code: String,
    pub name: String,
    /// Qualifications in the current catalogue.
    pub qualifications: usize,
}

/// The awarding organisations with a published specification.
#[utoipa::path(get, path = "/api/v1/awarding-organisations", tag = "catalogue",
    responses((status = 200, body = Vec<AwardingOrganisationSummary>), (status = 500, body = ErrorBody)))]
async fn list_awarding_organisations(
    State(app): State<AppState>,
) -> Result<Json<Vec<AwardingOrganisationSummary>>, ApiError> {
    let cat = app.catalogue().await?;
    let mut out: Vec<AwardingOrganisationSummary> = Vec::new();
    for ao in app
        .store
        .awarding_organisations()
        .await
        .map_err(crate::app::AppError::from)?
    {
        let n = cat
            .qualifications()
            .filter(|(cs, _)| cs.spec.awarding_organisation.code == ao.ao_code)
            .count();
        out.push(AwardingOrganisationSummary {
            code: ao.ao_code,
            name: ao.name,
            qualifications: n,
        });
    }
    Ok(Json(out))
}

#[derive(Serialize, ToSchema)]
pub struct QualificationSummary {
    pub qan: String,
    /// The QAN as written in this API's paths.
    pub slug: String,
    pub title: String,
    pub level: u8,
    pub awarding_organisation: String,
    pub credit: credence_domain::model::Range,
    pub glh: Option<credence_domain::model::Range>,
    pub tqt: Option<credence_domain::model::Range>,
    pub specification: String,
    pub catalogue_version: i64,
}

#[derive(Deserialize, IntoParams)]
pub struct QualificationFilter {
    /// Only this awarding organisation (ISP, ISMM, OCR).
    pub ao: Option<String>,
    /// Only this level.
    pub level: Option<u8>,
}

/// Every qualification in the current catalogue.
#[utoipa::path(get, path = "/api/v1/qualifications", tag = "catalogue", params(QualificationFilter),
    responses((status = 200, body = Vec<QualificationSummary>), (status = 400, body = ErrorBody)))]
async fn list_qualifications(
    State(app): State<AppState>,
    ApiQuery(filter): ApiQuery<QualificationFilter>,
) -> Result<Json<Vec<QualificationSummary>>, ApiError> {
    let cat = app.catalogue().await?;
    Ok(Json(
        cat.qualifications()
            .filter(|(cs, q)| {
                filter
                    .ao
                    .as_ref()
                    .is_none_or(|a| a.eq_ignore_ascii_case(&cs.spec.awarding_organisation.code))
                    && filter.level.is_none_or(|l| l == q.level)
            })
            .map(|(cs, q)| QualificationSummary {
                qan: q.qan.clone(),
                slug: qan_slug(&q.qan),
                title: q.title.clone(),
                level: q.level,
                awarding_organisation: cs.spec.awarding_organisation.code.clone(),
                credit: q.credit,
                glh: q.glh,
                tqt: q.tqt,
                specification: cs.spec.key.clone(),
                catalogue_version: cs.version.catalogue_version_id,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct QualificationDetail {
    pub awarding_organisation: String,
    pub specification: String,
    pub catalogue_version: i64,
    pub qualification: Qualification,
    /// The rules of combination in plain words, one line per requirement.
    pub rules_in_words: Vec<String>,
    /// The units the qualification lists, in full.
    pub units: Vec<Unit>,
}

/// One qualification with its rules and units.
#[utoipa::path(get, path = "/api/v1/qualifications/{qan}", tag = "catalogue",
    params(("qan" = String, Path, description = "QAN with '-' for '/', e.g. 610-3788-6")),
    responses((status = 200, body = QualificationDetail), (status = 404, body = ErrorBody)))]
async fn get_qualification(
    State(app): State<AppState>,
    ApiPath(qan): ApiPath<String>,
) -> Result<Json<QualificationDetail>, ApiError> {
    let cat = app.catalogue().await?;
    let qan = qan_from_slug(&qan);
    let (cs, q) = cat
        .qualification(&qan)
        .ok_or_else(|| ApiError::not_found(format!("qualification {qan}")))?;
    let units = q
        .units
        .iter()
        .filter_map(|qu| cs.spec.unit(&qu.unit).cloned())
        .collect();
    Ok(Json(QualificationDetail {
        awarding_organisation: cs.spec.awarding_organisation.code.clone(),
        specification: cs.spec.key.clone(),
        catalogue_version: cs.version.catalogue_version_id,
        rules_in_words: rules_in_words(&cs.spec, q),
        qualification: q.clone(),
        units,
    }))
}

pub fn rules_in_words(spec: &Specification, q: &Qualification) -> Vec<String> {
    q.rules
        .iter()
        .map(|r| {
            r.describe(|k| {
                spec.unit(k)
                    .map(|u| u.ao_ref.clone())
                    .unwrap_or_else(|| k.to_string())
            })
        })
        .collect()
}

#[derive(Serialize, ToSchema)]
pub struct QualificationRef {
    pub qan: String,
    pub title: String,
    pub group: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnitDetail {
    pub awarding_organisation: String,
    pub specification: String,
    pub catalogue_version: i64,
    pub unit: Unit,
    /// Every qualification in the current catalogue the unit belongs to.
    pub qualifications: Vec<QualificationRef>,
}

/// One unit with its learning outcomes, criteria and the qualifications it belongs to.
#[utoipa::path(get, path = "/api/v1/units/{unit}", tag = "catalogue",
    params(("unit" = String, Path, description = "Ofqual unit reference with '-' for '/', e.g. L-650-7899")),
    responses((status = 200, body = UnitDetail), (status = 404, body = ErrorBody)))]
async fn get_unit(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<UnitDetail>, ApiError> {
    let cat = app.catalogue().await?;
    let (cs, u) = cat
        .unit(&id)
        .ok_or_else(|| ApiError::not_found(format!("unit {id}")))?;
    let qualifications = cat
        .qualifications_with_unit(&u.key)
        .into_iter()
        .map(|(_, q)| QualificationRef {
            qan: q.qan.clone(),
            title: q.title.clone(),
            group: q
                .units
                .iter()
                .find(|qu| qu.unit == u.key)
                .and_then(|qu| qu.group.clone()),
        })
        .collect();
    Ok(Json(UnitDetail {
        awarding_organisation: cs.spec.awarding_organisation.code.clone(),
        specification: cs.spec.key.clone(),
        catalogue_version: cs.version.catalogue_version_id,
        unit: u.clone(),
        qualifications,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Words that must all appear in the criterion's text.
    pub q: String,
    /// At most this many results (1 to 500, default 100).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CriterionHit {
    pub unit: String,
    pub unit_slug: String,
    pub unit_ao_ref: String,
    pub unit_title: String,
    pub level: i64,
    /// AC number (`1.1`), or the LO number where the LO is judged directly (ISMM).
    pub number: String,
    pub text: String,
    pub specification: String,
}

/// Search the assessment criteria of the current catalogue.
#[utoipa::path(get, path = "/api/v1/criteria", tag = "catalogue", params(SearchQuery),
    responses((status = 200, body = Vec<CriterionHit>), (status = 400, body = ErrorBody)))]
async fn search_criteria(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Vec<CriterionHit>>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 500"));
    }
    let hits = app.search_criteria(&q.q, limit).await?;
    Ok(Json(
        hits.into_iter()
            .map(|h| CriterionHit {
                unit_slug: unit_slug(&h.unit_key),
                unit: h.unit_key,
                unit_ao_ref: h.ao_ref,
                unit_title: h.unit_title,
                level: h.level,
                number: h.number,
                text: h.text,
                specification: h.spec_key,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CatalogueVersion {
    pub id: i64,
    pub specification: String,
    pub version: i64,
    /// `draft` or `published`.
    pub status: String,
    /// Whether this is the newest published version of its specification.
    pub current: bool,
    pub awarding_organisation: String,
    pub title: String,
    pub source_name: String,
    pub source_sha256: String,
    pub open_findings: i64,
    pub imported_at: String,
    pub published_at: Option<String>,
}

impl From<VersionRow> for CatalogueVersion {
    fn from(v: VersionRow) -> Self {
        CatalogueVersion {
            id: v.catalogue_version_id,
            specification: v.spec_key,
            version: v.version_number,
            status: v.status.to_string(),
            current: v.is_current == 1,
            awarding_organisation: v.ao_code,
            title: v.title,
            source_name: v.source_name,
            source_sha256: v.source_sha256,
            open_findings: v.open_findings,
            imported_at: v.imported_at,
            published_at: v.published_at,
        }
    }
}

/// Every catalogue version, drafts included.
#[utoipa::path(get, path = "/api/v1/catalogue/versions", tag = "catalogue administration",
    responses((status = 200, body = Vec<CatalogueVersion>)))]
async fn list_catalogue_versions(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<Vec<CatalogueVersion>>, ApiError> {
    let scope = app.catalogue_scope(&actor)?;
    Ok(Json(
        app.versions(&scope)
            .await?
            .into_iter()
            .map(CatalogueVersion::from)
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct ImportParams {
    /// Name of the source file, kept with the version (default `upload.txt`).
    pub name: Option<String>,
    /// Refused: publication is a separate step after review
    /// (`POST /api/v1/catalogue/versions/{id}/publication`).
    pub publish: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    pub versions: Vec<ImportedVersionResult>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportedVersionResult {
    pub id: i64,
    pub specification: String,
    pub version: i64,
    pub status: String,
    /// Set when an identical source was already imported: nothing new was created.
    pub unchanged_from: Option<i64>,
    pub report: ImportReport,
}

/// Import a specification (its text as the request body) or a CASE 1.1 package (JSON) as a
/// draft catalogue version, or read back a Credence catalogue export (JSON).
#[utoipa::path(post, path = "/api/v1/catalogue/versions", tag = "catalogue administration",
    params(ImportParams),
    request_body(content = String, content_type = "text/plain", description = "The specification's text, a CASE 1.1 CFPackage (or an array of them), or a catalogue export"),
    responses((status = 201, body = ImportResult), (status = 200, body = ImportResult, description = "identical to an existing version: nothing created"),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_catalogue_version(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(params): ApiQuery<ImportParams>,
    super::ApiBytes(body): super::ApiBytes,
) -> Result<impl IntoResponse, ApiError> {
    let scope = app.catalogue_scope(&actor)?;
    let name = params.name.unwrap_or_else(|| "upload.txt".into());
    let outcome = app
        .import(&scope, &name, &body, None, params.publish.unwrap_or(false))
        .await?;
    let created = outcome.versions.iter().any(|v| v.unchanged_from.is_none());
    let result = ImportResult {
        versions: outcome
            .versions
            .into_iter()
            .map(|v| ImportedVersionResult {
                id: v.id,
                specification: v.spec_key,
                version: v.version_number,
                status: v.status,
                unchanged_from: v.unchanged_from,
                report: v.report,
            })
            .collect(),
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(result)))
}

#[derive(Serialize, ToSchema)]
pub struct CatalogueVersionDetail {
    pub version: CatalogueVersion,
    pub report: ImportReport,
    pub specification: Specification,
}

/// One catalogue version with its import report and content.
#[utoipa::path(get, path = "/api/v1/catalogue/versions/{id}", tag = "catalogue administration",
    params(("id" = i64, Path, description = "catalogue version id")),
    responses((status = 200, body = CatalogueVersionDetail), (status = 404, body = ErrorBody)))]
async fn get_catalogue_version(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CatalogueVersionDetail>, ApiError> {
    let scope = app.catalogue_scope(&actor)?;
    let (row, imported) = app.version_in_scope(&scope, id).await?;
    Ok(Json(CatalogueVersionDetail {
        version: row.into(),
        report: imported.report,
        specification: imported.specification,
    }))
}

/// What changed from one version of a specification to another.
#[derive(Serialize, ToSchema)]
pub struct CatalogueDiff {
    /// The specification's key.
    pub specification: String,
    /// The versions compared (ids).
    pub from: i64,
    pub to: i64,
    /// Qualifications, units, learning outcomes and criteria added, removed or changed,
    /// each with its old and new value.
    pub changes: Vec<credence_domain::diff::Change>,
}

/// What changed from version `id` to version `other` of the same specification (drafts
/// too, for the AO that owns them). A version against itself has no changes.
#[utoipa::path(get, path = "/api/v1/catalogue/versions/{id}/diff/{other}", tag = "catalogue administration",
    params(("id" = i64, Path, description = "the older catalogue version"), ("other" = i64, Path, description = "the newer catalogue version")),
    responses((status = 200, body = CatalogueDiff), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn get_catalogue_diff(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiPath((id, other)): ApiPath<(i64, i64)>,
) -> Result<Json<CatalogueDiff>, ApiError> {
    let scope = app.catalogue_scope(&actor)?;
    let (a, _, changes) = app.version_diff(&scope, id, other).await?;
    Ok(Json(CatalogueDiff {
        specification: a.spec_key,
        from: id,
        to: other,
        changes,
    }))
}

/// Resolve open findings of a draft: set fields, or accept what was drafted.
#[utoipa::path(post, path = "/api/v1/catalogue/versions/{id}/corrections", tag = "catalogue administration",
    params(("id" = i64, Path, description = "catalogue version id")),
    request_body = Corrections,
    responses((status = 200, body = ImportReport), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_corrections(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(corrections): ApiJson<Corrections>,
) -> Result<Json<ImportReport>, ApiError> {
    let scope = app.catalogue_scope(&actor)?;
    Ok(Json(app.correct(&scope, id, &corrections).await?))
}

/// Publish a draft with no open findings. A published version never changes.
#[utoipa::path(post, path = "/api/v1/catalogue/versions/{id}/publication", tag = "catalogue administration",
    params(("id" = i64, Path, description = "catalogue version id")),
    responses((status = 200, body = CatalogueVersion), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_publication(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CatalogueVersion>, ApiError> {
    let scope = app.catalogue_scope(&actor)?;
    Ok(Json(app.publish(&scope, id).await?.into()))
}

/// The whole published catalogue, every published version, in Credence's documented JSON
/// format (drafts are their AO's until published; `credence catalogue export` includes them).
#[utoipa::path(get, path = "/api/v1/catalogue/export", tag = "catalogue",
    responses((status = 200, body = CatalogueExport)))]
async fn get_catalogue_export(
    State(app): State<AppState>,
) -> Result<Json<CatalogueExport>, ApiError> {
    Ok(Json(app.export(false).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct UnitsQuery {
    /// Achieved units, comma-separated, by AO reference (L3B1) or Ofqual reference.
    pub units: Option<String>,
}

fn units_of(text: &Option<String>) -> Vec<String> {
    crate::app::rules::split_units(text.as_deref().unwrap_or(""))
}

/// Is the qualification achieved by these units? Every listed unit that belongs counts; one
/// that does not is reported in `not_counted`; every unmet requirement is listed.
#[utoipa::path(get, path = "/api/v1/qualifications/{qan}/evaluation", tag = "rules",
    params(("qan" = String, Path, description = "QAN with '-' for '/'"), UnitsQuery),
    responses((status = 200, body = credence_domain::rules::Evaluation), (status = 404, body = ErrorBody)))]
async fn get_evaluation(
    State(app): State<AppState>,
    ApiPath(qan): ApiPath<String>,
    ApiQuery(q): ApiQuery<UnitsQuery>,
) -> Result<Json<credence_domain::rules::Evaluation>, ApiError> {
    Ok(Json(
        app.check_rules(&qan_from_slug(&qan), &units_of(&q.units))
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct PlanQuery {
    /// Achieved units, comma-separated.
    pub units: Option<String>,
    /// Units the plan must include, comma-separated.
    pub wants: Option<String>,
    /// Units the plan must never choose, comma-separated.
    pub refuses: Option<String>,
}

/// The further units that complete the qualification with the fewest guided learning hours
/// (ties: fewest credits, then fewest units), each with why it is chosen; or why none can.
#[utoipa::path(get, path = "/api/v1/qualifications/{qan}/plan", tag = "rules",
    params(("qan" = String, Path, description = "QAN with '-' for '/'"), PlanQuery),
    responses((status = 200, body = credence_domain::rules::Plan), (status = 404, body = ErrorBody)))]
async fn get_plan(
    State(app): State<AppState>,
    ApiPath(qan): ApiPath<String>,
    ApiQuery(q): ApiQuery<PlanQuery>,
) -> Result<Json<credence_domain::rules::Plan>, ApiError> {
    let request = credence_domain::rules::PlanRequest {
        achieved: units_of(&q.units),
        wants: units_of(&q.wants),
        refuses: units_of(&q.refuses),
    };
    Ok(Json(app.plan(&qan_from_slug(&qan), &request).await?))
}

/// Every qualification of the current catalogue: met by these units (with the subset to
/// claim it with) or how far it is. Met ones first.
#[utoipa::path(get, path = "/api/v1/claimable", tag = "rules", params(UnitsQuery),
    responses((status = 200, body = Vec<credence_domain::rules::Claimable>), (status = 400, body = ErrorBody)))]
async fn list_claimable(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<UnitsQuery>,
) -> Result<Json<Vec<credence_domain::rules::Claimable>>, ApiError> {
    Ok(Json(app.claimable(&units_of(&q.units)).await?))
}
