//! Who a new version touches (issue 14, item 4): the per-centre page of learners on older
//! versions with what each must have re-assessed, the confirmation before a move, the move
//! itself, and their API twins. The use cases are [`crate::app::version_moves`]; the
//! summary table by centre is on the version page ([`crate::web::pages`]).

use crate::app::AppError;
use crate::app::version_moves::{MoveTarget, MovedRegistration, VersionImpact};
use crate::web::access::CurrentActor;
use crate::web::pages::{PageError, render};
use crate::web::{ApiError, ApiJson, ApiPath, AppState, ErrorBody};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use credence_domain::diff::Reassessment;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The pages' routes.
#[expect(
    clippy::let_and_return,
    reason = "one route a line, each through access::route"
)]
pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = crate::web::access::route(
        r,
        "/catalogue/versions/{id}/centres/{centre}",
        get(centre_page),
    );
    let r = crate::web::access::route(
        r,
        "/catalogue/versions/{id}/moves/confirm",
        get(confirm_move),
    );
    let r = crate::web::access::route(r, "/catalogue/versions/{id}/moves", post(make_move));
    r
}

/// The API's routes, in the OpenAPI document.
pub fn api_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(get_version_impact))
        .routes(routes!(create_version_move))
}

// --- the per-centre page ------------------------------------------------------------------------

struct LearnerRow {
    registration_id: i64,
    learner_id: i64,
    name: String,
    uln: String,
    qan: String,
    title: String,
    from_number: i64,
    kept: usize,
    reassess: Vec<String>,
    blocked: Option<String>,
}

#[derive(Template)]
#[template(path = "version_centre.html")]
struct CentrePage {
    title: String,
    has_error: bool,
    notice: Option<String>,
    version_id: i64,
    version_number: i64,
    specification: String,
    published: bool,
    centre_id: i64,
    centre_name: String,
    learners: Vec<LearnerRow>,
    movable: usize,
}

#[derive(Deserialize, Default)]
struct MovedNotice {
    #[serde(default)]
    moved: Option<usize>,
}

async fn centre_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((id, centre)): Path<(i64, i64)>,
    Query(q): Query<MovedNotice>,
) -> Result<Response, PageError> {
    let scope = app.catalogue_scope(&actor)?;
    let impact = app.version_impact(&scope, id, Some(centre)).await?;
    let centre_row = app.centre(centre).await?;
    let learners: Vec<LearnerRow> = impact
        .centres
        .iter()
        .flat_map(|c| c.learners.iter())
        .map(|l| LearnerRow {
            registration_id: l.registration_id,
            learner_id: l.learner_id,
            name: format!("{} {}", l.given_name, l.family_name),
            uln: l.uln.clone().unwrap_or_default(),
            qan: l.qan.clone(),
            title: l.title.clone(),
            from_number: l.from_version_number,
            kept: l.unchanged.len(),
            reassess: l.reassess.iter().map(Reassessment::words).collect(),
            blocked: l.blocked.clone(),
        })
        .collect();
    let movable = learners.iter().filter(|l| l.blocked.is_none()).count();
    Ok(render(&CentrePage {
        title: format!(
            "Learners at {} on older versions of {}",
            centre_row.name, impact.specification
        ),
        has_error: false,
        notice: q.moved.map(|n| {
            format!(
                "{n} registration{} moved to version {}. Each learner's evidence, judgements and record are kept; the criteria listed for them before the move are to be assessed again.",
                if n == 1 { "" } else { "s" },
                impact.version_number
            )
        }),
        version_id: impact.version,
        version_number: impact.version_number,
        specification: impact.specification.clone(),
        published: impact.status == "published",
        centre_id: centre,
        centre_name: centre_row.name,
        learners,
        movable,
    }))
}

// --- confirming and moving ----------------------------------------------------------------------

/// Which registration, or which centre's registrations, to move.
#[derive(Deserialize, Default, Clone)]
struct MoveForm {
    #[serde(default)]
    registration: Option<String>,
    #[serde(default)]
    centre: Option<String>,
}

/// The target a form or query names: exactly one of a registration and a centre.
fn target_of(registration: Option<i64>, centre: Option<i64>) -> Result<MoveTarget, AppError> {
    match (registration, centre) {
        (Some(r), None) => Ok(MoveTarget::Registration(r)),
        (None, Some(c)) => Ok(MoveTarget::Centre(c)),
        _ => Err(AppError::Validation(
            "Say what to move: one registration, or one centre's registrations on older versions (not both)".into(),
        )),
    }
}

fn form_target(f: &MoveForm) -> Result<MoveTarget, AppError> {
    let number = |s: &Option<String>, what: &str| -> Result<Option<i64>, AppError> {
        match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(t) => t
                .parse()
                .map(Some)
                .map_err(|_| AppError::Validation(format!("'{t}' is not a {what} number"))),
        }
    };
    target_of(
        number(&f.registration, "registration")?,
        number(&f.centre, "centre")?,
    )
}

async fn confirm_move(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
    Query(f): Query<MoveForm>,
) -> Result<Response, PageError> {
    let scope = app.catalogue_scope(&actor)?;
    let target = form_target(&f)?;
    let impact: VersionImpact = app.version_impact(&scope, id, None).await?;
    let (centre, chosen): (i64, Vec<_>) = match target {
        MoveTarget::Registration(n) => {
            let Some((c, l)) = impact.centres.iter().find_map(|c| {
                c.learners
                    .iter()
                    .find(|l| l.registration_id == n)
                    .map(|l| (c.centre_id, l))
            }) else {
                return Err(AppError::NotFound(format!(
                    "registration {n} on an older version of {}",
                    impact.specification
                ))
                .into());
            };
            (c, vec![l.clone()])
        }
        MoveTarget::Centre(c) => {
            let Some(ci) = impact.centres.iter().find(|x| x.centre_id == c) else {
                return Err(AppError::NotFound(format!(
                    "learners at centre {c} on an older version of {}",
                    impact.specification
                ))
                .into());
            };
            (c, ci.learners.clone())
        }
    };
    let title = match chosen.as_slice() {
        [one] => format!(
            "Move {} {} to version {}?",
            one.given_name, one.family_name, impact.version_number
        ),
        many => format!(
            "Move {} learners to version {}?",
            many.len(),
            impact.version_number
        ),
    };
    let mut page = crate::web::people::ConfirmPage::new(
        &actor,
        title,
        format!("/catalogue/versions/{id}/moves"),
    );
    page.caption = format!(
        "{} · version {}",
        impact.specification, impact.version_number
    );
    page.cancel = format!("/catalogue/versions/{id}/centres/{centre}");
    page.hidden = match target {
        MoveTarget::Registration(n) => vec![("registration".into(), n.to_string())],
        MoveTarget::Centre(c) => vec![("centre".into(), c.to_string())],
    };
    page.paragraphs = chosen
        .iter()
        .map(|l| {
            let again = if l.reassess.is_empty() {
                "nothing to re-assess".to_string()
            } else {
                format!(
                    "to re-assess: {}",
                    l.reassess
                        .iter()
                        .map(Reassessment::words)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            };
            format!(
                "{} {} ({}, now on version {}): {} judged criteria kept, {again}.",
                l.given_name,
                l.family_name,
                l.qan,
                l.from_version_number,
                l.unchanged.len()
            )
        })
        .collect();
    page.paragraphs.push(
        "Evidence, judgements and signatures stay in each learner's record. A judgement of a criterion whose words changed stays there but no longer counts: the criterion shows as needing re-assessment, and a unit signed off with one is reopened.".into(),
    );
    page.warning = "A move cannot be undone: the learners stay on the new version.".into();
    page.button = if chosen.len() == 1 {
        format!("Move to version {}", impact.version_number)
    } else {
        format!(
            "Move {} learners to version {}",
            chosen.len(),
            impact.version_number
        )
    };
    page.danger = true;
    Ok(render(&page))
}

async fn make_move(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
    Form(f): Form<MoveForm>,
) -> Result<Response, PageError> {
    let scope = app.catalogue_scope(&actor)?;
    let target = form_target(&f)?;
    let moved = app.move_to_version(&scope, id, target).await?;
    let centre = match target {
        MoveTarget::Centre(c) => c,
        MoveTarget::Registration(_) => moved.first().map_or(0, |m| m.centre_id),
    };
    Ok(Redirect::to(&format!(
        "/catalogue/versions/{id}/centres/{centre}?moved={}",
        moved.len()
    ))
    .into_response())
}

// --- the API ------------------------------------------------------------------------------------

/// What to move: exactly one of `registration` and `centre`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiMoveRequest {
    /// One registration (its id).
    pub registration: Option<i64>,
    /// Every registration at this centre on an older version of the specification.
    pub centre: Option<i64>,
}

/// The registrations moved.
#[derive(Serialize, ToSchema)]
pub struct ApiMoves {
    pub moved: Vec<MovedRegistration>,
}

/// Who this version touches: the centres with learners registered on an older version of
/// the same specification, and for each learner the judged criteria that stay as judged and
/// those to re-assess (words changed, criterion removed, unit removed). The specification's
/// own awarding organisation's staff only.
#[utoipa::path(get, path = "/api/v1/catalogue/versions/{id}/impact", tag = "catalogue administration",
    params(("id" = i64, Path, description = "the new catalogue version (a draft under review, or published)")),
    responses((status = 200, body = VersionImpact), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_version_impact(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<VersionImpact>, ApiError> {
    let scope = app.catalogue_scope(&actor)?;
    Ok(Json(app.version_impact(&scope, id, None).await?))
}

/// Move one registration (`{"registration": N}`), or every registration of a centre on an
/// older version (`{"centre": N}`), to this published version. Evidence, judgements and
/// signatures are kept; judgements of criteria whose words changed no longer count (the
/// criterion needs re-assessment). Each registration moved is audited with its from and to
/// version and its re-assess list. Needs a second factor.
#[utoipa::path(post, path = "/api/v1/catalogue/versions/{id}/moves", tag = "catalogue administration",
    params(("id" = i64, Path, description = "the published catalogue version to move to")),
    request_body = ApiMoveRequest,
    responses((status = 200, body = ApiMoves), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_version_move(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ApiMoveRequest>,
) -> Result<Json<ApiMoves>, ApiError> {
    let scope = app.catalogue_scope(&actor)?;
    let target = target_of(body.registration, body.centre)?;
    Ok(Json(ApiMoves {
        moved: app.move_to_version(&scope, id, target).await?,
    }))
}
