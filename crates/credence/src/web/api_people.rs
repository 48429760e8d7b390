//! JSON API for people, centres, registrations and the audit log. Access is decided in
//! [`super::access`] before any of these run; they only shape what the actor may see.

use super::access::{CurrentActor, client_address};
use super::{ApiError, ApiPath, ApiQuery, AppState, ErrorBody};
use crate::app::AppError;
use crate::app::registration::BulkOutcome;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use credence_domain::ident::is_unit_code;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me))
        .routes(routes!(list_centres))
        .routes(routes!(get_centre))
        .routes(routes!(list_registrations, create_registrations))
        .routes(routes!(list_audit_entries))
        .routes(routes!(get_learner))
}

#[derive(Serialize, ToSchema)]
pub struct RoleView {
    pub id: i64,
    /// ao_staff, eqa, centre_admin, assessor, iqa, learner
    pub role: String,
    pub awarding_organisation: Option<String>,
    pub centre: Option<i64>,
    pub learner: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub roles: Vec<RoleView>,
}

/// Who the token or session belongs to, with every role they hold.
#[utoipa::path(get, path = "/api/v1/me", tag = "people",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn get_me(CurrentActor(a): CurrentActor) -> Json<Me> {
    Json(Me {
        id: a.person_id,
        email: a.email.clone(),
        name: a.name.clone(),
        roles: a
            .grants
            .iter()
            .map(|g| RoleView {
                id: g.role_grant_id,
                role: g.role.to_string(),
                awarding_organisation: g.ao_code.clone(),
                centre: g.centre_id,
                learner: g.learner_id,
            })
            .collect(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct CentreView {
    pub id: i64,
    pub name: String,
    pub awarding_organisations: Vec<CentreAoView>,
    /// QANs the centre is approved for.
    pub approved_qualifications: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CentreAoView {
    pub code: String,
    /// Direct claim status for every one of the AO's qualifications the centre is approved
    /// for (it is granted per qualification: see `direct_claim_qualifications`).
    pub direct_claim_status: bool,
    /// The QANs of this AO with direct claim status at the centre.
    pub direct_claim_qualifications: Vec<String>,
}

/// A centre as the API shows it, from its AOs, direct claim grants and approvals.
fn centre_view(
    id: i64,
    name: String,
    aos: Vec<crate::store::CentreAoRow>,
    grants: &[crate::store::DirectClaimRow],
    approvals: Vec<crate::store::ApprovalRow>,
) -> CentreView {
    CentreView {
        id,
        name,
        awarding_organisations: aos
            .into_iter()
            .map(|a| {
                let granted: Vec<String> = grants
                    .iter()
                    .filter(|g| g.ao_code == a.ao_code)
                    .map(|g| g.qan.clone())
                    .collect();
                let approved = approvals.iter().filter(|x| x.ao_code == a.ao_code).count();
                CentreAoView {
                    direct_claim_status: approved > 0 && granted.len() == approved,
                    direct_claim_qualifications: granted,
                    code: a.ao_code,
                }
            })
            .collect(),
        approved_qualifications: approvals.into_iter().map(|a| a.qan).collect(),
    }
}

/// Which centres to list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CentresParams {
    /// At most this many, by name (1 to 5000; all of them when left out). When a full
    /// page comes back, its `Link` header names the next (`rel="next"`).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Leave out this many first (0 when left out).
    #[serde(default)]
    pub offset: Option<i64>,
}

/// The centres you may see, by name.
#[utoipa::path(get, path = "/api/v1/centres", tag = "centres",
    params(CentresParams),
    responses((status = 200, body = Vec<CentreView>, headers(("Link" = String, description = "The next page, `<...>; rel=\"next\"`, when a `limit` was given and this page is full"))), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_centres(
    State(app): State<AppState>,
    CurrentActor(a): CurrentActor,
    ApiQuery(p): ApiQuery<CentresParams>,
) -> Result<Response, ApiError> {
    let (limit, offset) = super::api_range(p.limit, p.offset, 5000)?;
    let (page, _) = app
        .visible_centres_range(&a, None, offset, limit.unwrap_or(i64::MAX))
        .await?;
    let ids: Vec<i64> = page.iter().map(|c| c.centre.centre_id).collect();
    let mut grants = app
        .store
        .direct_claims_of_centres(&ids)
        .await
        .map_err(AppError::from)?;
    let mut approvals = app
        .store
        .approvals_of_centres(&ids)
        .await
        .map_err(AppError::from)?;
    let list: Vec<CentreView> = page
        .into_iter()
        .map(|c| {
            let id = c.centre.centre_id;
            centre_view(
                id,
                c.centre.name,
                c.aos,
                &grants.remove(&id).unwrap_or_default(),
                approvals.remove(&id).unwrap_or_default(),
            )
        })
        .collect();
    Ok(super::with_next_link(
        Json(&list).into_response(),
        "/api/v1/centres",
        &[],
        limit,
        offset,
        list.len(),
    ))
}

/// One centre: its awarding organisations, direct claim status and approvals.
#[utoipa::path(get, path = "/api/v1/centres/{centre}", tag = "centres",
    params(("centre" = i64, Path, description = "centre id")),
    responses((status = 200, body = CentreView), (status = 404, body = ErrorBody)))]
async fn get_centre(
    State(app): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CentreView>, ApiError> {
    let c = app.centre(id).await?;
    let aos = app.store.centre_aos(id).await.map_err(AppError::from)?;
    let grants = app.store.direct_claims(id).await.map_err(AppError::from)?;
    let approvals = app.approvals(id).await?;
    Ok(Json(centre_view(id, c.name, aos, &grants, approvals)))
}

#[derive(Serialize, ToSchema)]
pub struct RegistrationView {
    pub id: i64,
    pub learner: i64,
    pub uln: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    /// The qualification's QAN; `null` for a registration on a unit on its own.
    pub qan: Option<String>,
    /// `qualification`, or `unit` for a unit taken on its own.
    pub kind: String,
    /// The unit's Ofqual reference, for a registration on a unit on its own.
    pub unit: Option<String>,
    pub catalogue_version: i64,
    pub status: String,
    pub registered_at: String,
}

impl From<crate::store::RegistrationRow> for RegistrationView {
    fn from(r: crate::store::RegistrationRow) -> Self {
        RegistrationView {
            id: r.registration_id,
            learner: r.learner_id,
            uln: r.uln,
            given_name: r.given_name,
            family_name: r.family_name,
            date_of_birth: r.date_of_birth,
            kind: if is_unit_code(&r.qan) {
                "unit"
            } else {
                "qualification"
            }
            .into(),
            unit: is_unit_code(&r.qan).then(|| r.qan.clone()),
            qan: (!is_unit_code(&r.qan)).then_some(r.qan),
            catalogue_version: r.catalogue_version_id,
            status: r.status.to_string(),
            registered_at: r.registered_at,
        }
    }
}

/// The centre's registrations, newest first (at most 1,000).
#[utoipa::path(get, path = "/api/v1/centres/{centre}/registrations", tag = "centres",
    params(("centre" = i64, Path, description = "centre id")),
    responses((status = 200, body = Vec<RegistrationView>), (status = 404, body = ErrorBody)))]
async fn list_registrations(
    State(app): State<AppState>,
    CurrentActor(a): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<RegistrationView>>, ApiError> {
    let rows = app.registrations_at_centre(&a, id, 1000).await?;
    Ok(Json(rows.into_iter().map(RegistrationView::from).collect()))
}

/// Register learners from a CSV file (the request body). With any row in error nothing is
/// registered, unless `good_rows=true`; every error is listed. A file of more than 1,000
/// rows is registered in the background: the answer is then 202 Accepted with the task to
/// follow (`GET /api/v1/tasks/{task}`, also in `Location`), whose result holds the same
/// outcome.
#[utoipa::path(post, path = "/api/v1/centres/{centre}/registrations", tag = "centres",
    params(("centre" = i64, Path, description = "centre id"), ("good_rows" = Option<bool>, Query, description = "register the good rows even if some rows have errors")),
    request_body(content = String, content_type = "text/csv", description = "given_name,family_name,date_of_birth,qan[,uln,email,units], or a unit column (an Ofqual unit reference such as H/502/8599) instead of qan for a unit taken on its own: units is the learner's plan, unit references separated by spaces or semicolons, checked against the qualification's rules of combination"),
    responses((status = 200, body = BulkOutcome), (status = 202, description = "a large file, registered in the background: `{task, status, link, page}`; follow `link`"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_registrations(
    State(app): State<AppState>,
    CurrentActor(a): CurrentActor,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    uri: axum::http::Uri,
    super::ApiBytes(body): super::ApiBytes,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let good_rows = uri.query().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "good_rows" && v == "true")
    });
    let scope = app.centre_admin_scope(&a, id).await?;
    if crate::app::App::csv_rows(&body) > app.task_thresholds.csv_rows {
        let task = app
            .start_task(
                &a,
                crate::app::App::registrations_task(id, &body, good_rows, false),
                &client_address(&headers),
            )
            .await?;
        return Ok(super::tasks::accepted(task));
    }
    Ok(Json(
        app.register_csv(&scope, &body, good_rows, &client_address(&headers), |_| {})
            .await?,
    )
    .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntryView {
    pub seq: i64,
    pub at: String,
    pub actor: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The centre's audit log, newest first (at most 1,000 entries).
#[utoipa::path(get, path = "/api/v1/centres/{centre}/audit", tag = "centres",
    params(("centre" = i64, Path, description = "centre id")),
    responses((status = 200, body = Vec<AuditEntryView>), (status = 404, body = ErrorBody)))]
async fn list_audit_entries(
    State(app): State<AppState>,
    CurrentActor(a): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<AuditEntryView>>, ApiError> {
    let rows = app.centre_audit(&a, id, 1000).await?;
    Ok(Json(
        rows.into_iter()
            .map(|e| AuditEntryView {
                seq: e.seq,
                at: e.at,
                actor: e.actor,
                address: e.address,
                action: e.action,
                subject: e.subject,
                detail: e.detail,
                prev_hash: e.prev_hash,
                hash: e.hash,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct LearnerView {
    pub id: i64,
    pub uln: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    /// The registrations you may see.
    pub registrations: Vec<RegistrationView>,
}

/// A learner's record: the learner themselves, or staff of a centre they are registered at.
#[utoipa::path(get, path = "/api/v1/learners/{learner}", tag = "learners",
    params(("learner" = i64, Path, description = "learner id")),
    responses((status = 200, body = LearnerView), (status = 404, body = ErrorBody)))]
async fn get_learner(
    State(app): State<AppState>,
    CurrentActor(a): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LearnerView>, ApiError> {
    let l = app
        .store
        .learner(id)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| ApiError::not_found(format!("learner {id}")))?;
    let mut registrations = Vec::new();
    for r in app
        .store
        .registrations_of_learner(id)
        .await
        .map_err(AppError::from)?
    {
        let visible = a.learner_ids().contains(&id) || crate::app::authz::sees_registration(&a, &r);
        if visible {
            registrations.push(RegistrationView::from(r));
        }
    }
    Ok(Json(LearnerView {
        id,
        uln: l.uln,
        given_name: l.given_name,
        family_name: l.family_name,
        date_of_birth: l.date_of_birth,
        registrations,
    }))
}
