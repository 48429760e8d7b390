//! The portfolio's JSON API.

use super::*;

/// One criterion's standing in the portfolio.
#[derive(Serialize, ToSchema)]
pub struct ApiCriterion {
    pub number: String,
    pub status: CriterionStatus,
    /// Current evidence mapped to it: id and location.
    pub evidence: Vec<ApiMappedEvidence>,
    /// Where the unit asks for evidence on different occasions (`occasions_needed`): each
    /// distinct evidence date, oldest first, with the current items dated that day. Empty
    /// otherwise.
    pub occasions: Vec<ApiOccasion>,
}

/// One occasion of a criterion's evidence.
#[derive(Serialize, ToSchema)]
pub struct ApiOccasion {
    /// YYYY-MM-DD
    pub date: String,
    /// The evidence items dated that day.
    pub evidence: Vec<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiMappedEvidence {
    pub evidence: i64,
    pub location: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiUnit {
    pub unit: String,
    pub ao_ref: String,
    pub title: String,
    pub met: usize,
    pub total: usize,
    pub signed_off: bool,
    /// In the learner's plan (chosen, else proposed): only these count in `met` and `total`.
    pub in_plan: bool,
    /// SHA-256 of the unit's evidence set now: what a signature would carry.
    pub evidence_hash: String,
    /// Where the unit asks for evidence on different occasions: how many each criterion
    /// needs at the learner's centre (the centre's setting, else the specification's
    /// minimum, `occasions_minimum`). A criterion judged met on fewer is `needs_occasions`
    /// and does not count in `met`.
    pub occasions_needed: Option<u32>,
    pub occasions_minimum: Option<u32>,
    pub criteria: Vec<ApiCriterion>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiEvidence {
    pub id: i64,
    pub title: String,
    pub date: String,
    pub kind: String,
    pub source: String,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub superseded_by: Option<i64>,
    pub supersede_reason: Option<String>,
    /// Where to download it.
    pub href: String,
}

/// A learner's portfolio.
#[derive(Serialize, ToSchema)]
pub struct ApiPortfolio {
    pub learner: i64,
    /// Criteria met in the units of the learner's plan (chosen, else proposed).
    pub met: usize,
    /// Criteria of the units of the learner's plan; `units` lists every unit, with `in_plan`.
    pub total: usize,
    /// Qualifications (QANs) the signed-off units achieve.
    pub achieved: Vec<String>,
    pub units: Vec<ApiUnit>,
    pub evidence: Vec<ApiEvidence>,
    /// The portfolio's stamp: it changes with every change. Send it back with a decision
    /// (`stamp`) to have the decision refused (409) if the portfolio changed meanwhile.
    pub stamp: i64,
}

pub(super) fn api_portfolio_of(p: &Portfolio) -> ApiPortfolio {
    ApiPortfolio {
        learner: p.learner.learner_id,
        stamp: p.stamp,
        met: p.progress.met,
        total: p.progress.total,
        achieved: p.achieved.iter().map(|(q, _)| q.clone()).collect(),
        units: p
            .units
            .iter()
            .map(|u| ApiUnit {
                unit: u.unit.key.clone(),
                ao_ref: u.unit.ao_ref.clone(),
                title: u.unit.title.clone(),
                met: u.progress.met,
                total: u.progress.total,
                signed_off: u.signed_off,
                in_plan: u.in_plan,
                evidence_hash: u.current_hash.clone(),
                occasions_needed: u.occasions.as_ref().map(|o| o.need),
                occasions_minimum: u.occasions.as_ref().map(|o| o.minimum),
                criteria: u
                    .progress
                    .per_criterion
                    .iter()
                    .map(|(n, s)| ApiCriterion {
                        occasions: u
                            .occasions
                            .as_ref()
                            .and_then(|o| o.by_criterion.get(n))
                            .map(|list| {
                                list.iter()
                                    .map(|o| ApiOccasion {
                                        date: o.date.format("%Y-%m-%d").to_string(),
                                        evidence: o
                                            .items
                                            .iter()
                                            .filter_map(|i| i.parse().ok())
                                            .collect(),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        number: n.clone(),
                        status: s.clone(),
                        evidence: u
                            .evidence_by_criterion
                            .get(n)
                            .map(|v| {
                                v.iter()
                                    .map(|(id, loc)| ApiMappedEvidence {
                                        evidence: *id,
                                        location: loc.clone(),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect(),
        evidence: p
            .evidence
            .iter()
            .map(|e| ApiEvidence {
                id: e.evidence_id,
                title: e.title.clone(),
                date: e.evidence_date.clone(),
                kind: e.kind.clone(),
                source: e.source.clone(),
                file_name: e.file_name.clone(),
                media_type: e.media_type.clone(),
                size: e.size,
                sha256: e.sha256.clone(),
                superseded_by: e.superseded_by,
                supersede_reason: e.supersede_reason.clone(),
                href: format!("/learners/{}/evidence/{}/file", e.learner_id, e.evidence_id),
            })
            .collect(),
    }
}

/// A learner's portfolio: every unit and criterion with its status and evidence, and the
/// evidence items.
#[utoipa::path(get, path = "/api/v1/learners/{learner}/portfolio", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id")),
    responses((status = 200, body = ApiPortfolio), (status = 401, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody)))]
pub async fn api_portfolio(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    crate::web::ApiPath(learner): crate::web::ApiPath<i64>,
) -> Result<axum::Json<ApiPortfolio>, ApiError> {
    let p = app.portfolio(&actor, learner).await?;
    Ok(axum::Json(api_portfolio_of(&p)))
}

/// What the uploader says about the file, as query parameters; the request body is the
/// file itself.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    pub title: String,
    /// YYYY-MM-DD
    pub date: String,
    /// worksheet, questioning, assignment, candidate_or_peer_report, professional_discussion,
    /// observation_checklist, witness_testimony, reflective_account, product_evidence,
    /// work_based_project, rpl_record, other
    pub kind: String,
    /// real_workplace, realistic_working_environment, simulation
    pub source: String,
    pub file_name: String,
    pub kind_other: Option<String>,
    pub witness_name: Option<String>,
    pub witness_role: Option<String>,
    pub simulation_note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Upload one evidence file: the body is the file's bytes, streamed; the details are query
/// parameters. Re-sending the same file with the same title and date returns the same item,
/// so an interrupted upload can simply be sent again.
#[utoipa::path(post, path = "/api/v1/learners/{learner}/evidence", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Created), (status = 401, body = crate::web::ErrorBody), (status = 403, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody), (status = 409, body = crate::web::ErrorBody), (status = 413, body = crate::web::ErrorBody), (status = 422, body = crate::web::ErrorBody)))]
pub async fn api_upload(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    crate::web::ApiPath(learner): crate::web::ApiPath<i64>,
    crate::web::ApiQuery(q): crate::web::ApiQuery<UploadParams>,
    body: Body,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let meta = EvidenceMeta {
        title: q.title,
        date: q.date,
        kind: q.kind,
        kind_other: q.kind_other,
        witness_name: q.witness_name,
        witness_role: q.witness_role,
        source: q.source,
        simulation_note: q.simulation_note,
        file_name: q.file_name,
    };
    let stream = body.into_data_stream().map_err(|e| e.to_string());
    let id = app
        .add_evidence(&actor, learner, &meta, stream, &client_address(&headers))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
pub struct ApiMapping {
    /// The unit's key (`L/650/7899`) as the portfolio lists it (one criterion; or use
    /// `criteria`).
    #[serde(default)]
    pub unit: Option<String>,
    /// `1.2`
    #[serde(default)]
    pub criterion: Option<String>,
    /// Several criteria at once, all at `location`, in one step.
    #[serde(default)]
    pub criteria: Vec<ApiMapTarget>,
    /// Where in the evidence it is shown.
    pub location: String,
}

/// One criterion of one unit.
#[derive(Deserialize, ToSchema)]
pub struct ApiMapTarget {
    pub unit: String,
    pub criterion: String,
}

/// Map an evidence item to one or several criteria of the learner's units, in one step.
#[utoipa::path(post, path = "/api/v1/learners/{learner}/evidence/{evidence}/mappings", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), ("evidence" = i64, Path, description = "The evidence item's id")),
    request_body = ApiMapping,
    responses((status = 204), (status = 401, body = crate::web::ErrorBody), (status = 403, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody), (status = 409, body = crate::web::ErrorBody), (status = 422, body = crate::web::ErrorBody)))]
pub async fn api_map(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    crate::web::ApiPath((learner, evidence)): crate::web::ApiPath<(i64, i64)>,
    ApiJson(m): ApiJson<ApiMapping>,
) -> Result<StatusCode, ApiError> {
    let mut targets: Vec<(String, String)> = m
        .criteria
        .into_iter()
        .map(|t| (t.unit, t.criterion))
        .collect();
    if let (Some(u), Some(c)) = (m.unit, m.criterion) {
        targets.insert(0, (u, c));
    }
    app.map_evidence_many(
        &actor,
        learner,
        evidence,
        &targets,
        &m.location,
        &client_address(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ApiJudgement {
    pub unit: String,
    pub criterion: String,
    pub outcome: Outcome,
    #[serde(default)]
    pub feedback: String,
    /// Met by recognised prior learning (before assessment).
    #[serde(default)]
    pub rpl: bool,
    /// The portfolio's stamp the decision was taken on (from the portfolio): refused with
    /// 409 if it has moved since.
    #[serde(default)]
    pub stamp: Option<i64>,
}

/// Record an assessor's decision on a criterion.
#[utoipa::path(post, path = "/api/v1/learners/{learner}/judgements", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id")),
    request_body = ApiJudgement,
    responses((status = 204), (status = 401, body = crate::web::ErrorBody), (status = 403, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody), (status = 409, body = crate::web::ErrorBody), (status = 422, body = crate::web::ErrorBody)))]
pub async fn api_judge(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    crate::web::ApiPath(learner): crate::web::ApiPath<i64>,
    ApiJson(j): ApiJson<ApiJudgement>,
) -> Result<StatusCode, ApiError> {
    app.judge(
        &actor,
        learner,
        &j.unit,
        &j.criterion,
        j.outcome,
        &j.feedback,
        j.rpl,
        j.stamp,
        &client_address(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An assessor's decisions on a whole unit at once.
#[derive(Deserialize, ToSchema)]
pub struct ApiUnitDecisions {
    /// One row per criterion decided; a row with no `outcome` (and no feedback) is no
    /// decision.
    pub decisions: Vec<UnitDecision>,
    /// The portfolio's stamp the decisions were taken on: refused with 409 if it has moved.
    #[serde(default)]
    pub stamp: Option<i64>,
}

/// How many decisions were recorded.
#[derive(Serialize, ToSchema)]
pub struct ApiRecorded {
    pub recorded: usize,
}

/// Record an assessor's decisions on a whole unit in one transaction: every row is checked
/// first, and all problems are named together (422).
#[utoipa::path(post, path = "/api/v1/learners/{learner}/units/{unit}/decisions", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), ("unit" = String, Path, description = "The unit's key")),
    request_body = ApiUnitDecisions,
    responses((status = 200, body = ApiRecorded), (status = 401, body = crate::web::ErrorBody), (status = 403, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody), (status = 409, body = crate::web::ErrorBody), (status = 422, body = crate::web::ErrorBody)))]
pub async fn api_judge_unit(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    crate::web::ApiPath((learner, unit)): crate::web::ApiPath<(i64, String)>,
    ApiJson(j): ApiJson<ApiUnitDecisions>,
) -> Result<axum::Json<ApiRecorded>, ApiError> {
    let recorded = app
        .judge_unit(
            &actor,
            learner,
            &unit,
            &j.decisions,
            j.stamp,
            &client_address(&headers),
        )
        .await?;
    Ok(axum::Json(ApiRecorded { recorded }))
}

/// A reply on a criterion's feedback.
#[derive(Deserialize, ToSchema)]
pub struct ApiReply {
    /// `1.2`
    pub criterion: String,
    pub body: String,
}

/// Reply on a criterion's feedback (the learner, or their assessor): it joins the
/// criterion's thread, shown to both beside the decisions' feedback.
#[utoipa::path(post, path = "/api/v1/learners/{learner}/units/{unit}/replies", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), ("unit" = String, Path, description = "The unit's key")),
    request_body = ApiReply,
    responses((status = 201, body = Created), (status = 401, body = crate::web::ErrorBody), (status = 403, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody), (status = 422, body = crate::web::ErrorBody)))]
pub async fn api_reply(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    crate::web::ApiPath((learner, unit)): crate::web::ApiPath<(i64, String)>,
    ApiJson(r): ApiJson<ApiReply>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let id = app
        .reply_on_criterion(
            &actor,
            learner,
            &unit,
            &r.criterion,
            &r.body,
            &client_address(&headers),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
pub struct ApiSignature {
    #[serde(default)]
    pub comments: String,
    /// The portfolio's stamp the signer decided on (from the portfolio): refused with 409
    /// if it has moved since.
    #[serde(default)]
    pub stamp: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Signed {
    /// `assessor` or `learner`.
    pub role: String,
}

/// Sign a unit's declaration, as its assessor or as the learner (the learner signs after the
/// assessor, on the same evidence).
#[utoipa::path(post, path = "/api/v1/learners/{learner}/units/{unit}/signatures", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), ("unit" = String, Path, description = "The unit's key or its URL form (L-650-7899)")),
    request_body = ApiSignature,
    responses((status = 201, body = Signed), (status = 401, body = crate::web::ErrorBody), (status = 403, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody), (status = 409, body = crate::web::ErrorBody), (status = 422, body = crate::web::ErrorBody)))]
pub async fn api_sign(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    crate::web::ApiPath((learner, unit)): crate::web::ApiPath<(i64, String)>,
    ApiJson(s): ApiJson<ApiSignature>,
) -> Result<(StatusCode, axum::Json<Signed>), ApiError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let role = app
        .sign_unit(
            &actor,
            learner,
            &key,
            &s.comments,
            s.stamp,
            &client_address(&headers),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Signed {
            role: match role {
                credence_domain::portfolio::SignerRole::Assessor => "assessor".into(),
                credence_domain::portfolio::SignerRole::Learner => "learner".into(),
            },
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Authenticated {
    /// `learner` (the learner's declaration that the work is their own) or `centre` (the
    /// centre's confirmation that the evidence is authentic).
    pub role: String,
}

/// Authenticate a unit's evidence where its awarding organisation asks for it (OCR's Centre
/// Authentication): as the learner, declare the work your own; then, as the learner's
/// assessor or the centre's administrator, confirm it authentic. Both are signed on the
/// evidence set as it stands. A unit that needs them is not claimed without them.
#[utoipa::path(post, path = "/api/v1/learners/{learner}/units/{unit}/authentication", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), ("unit" = String, Path, description = "The unit's key or its URL form (H-502-8599)")),
    request_body = ApiSignature,
    responses((status = 201, body = Authenticated), (status = 401, body = crate::web::ErrorBody), (status = 403, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody), (status = 409, body = crate::web::ErrorBody), (status = 422, body = crate::web::ErrorBody)))]
pub async fn api_authenticate(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    crate::web::ApiPath((learner, unit)): crate::web::ApiPath<(i64, String)>,
    ApiJson(s): ApiJson<ApiSignature>,
) -> Result<(StatusCode, axum::Json<Authenticated>), ApiError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let role = app
        .authenticate_unit(
            &actor,
            learner,
            &key,
            &s.comments,
            s.stamp,
            &client_address(&headers),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Authenticated { role: role.into() }),
    ))
}

/// Delete an evidence item that no signed-off unit uses (its file goes too). Under a
/// signed-off unit an item can only be replaced, with a reason, on its page.
#[utoipa::path(delete, path = "/api/v1/learners/{learner}/evidence/{evidence}", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), ("evidence" = i64, Path, description = "The evidence item's id")),
    responses((status = 204), (status = 401, body = crate::web::ErrorBody), (status = 403, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody), (status = 409, body = crate::web::ErrorBody)))]
pub async fn api_delete_evidence(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    crate::web::ApiPath((learner, evidence)): crate::web::ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    app.delete_evidence(&actor, learner, evidence, &client_address(&headers))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ApiComponentMark {
    /// The component's name as the unit lists it ("Report", "Presentation").
    pub component: String,
    /// Percent, 0 to 100.
    pub mark: u32,
}

#[derive(Deserialize, ToSchema)]
pub struct ApiMarks {
    pub marks: Vec<ApiComponentMark>,
    /// The moderator's adjustment in percentage points: the awarding organisation's (its
    /// staff or the centre's EQA). Left out, the last one recorded stands.
    #[serde(default)]
    pub moderator_adjustment: Option<i32>,
    /// Reasonable adjustments and special consideration, recorded with the result.
    #[serde(default)]
    pub considerations: Vec<SpecialConsideration>,
}

/// Record marks for a marked unit (ISMM): the grade follows the AO's boundaries.
#[utoipa::path(post, path = "/api/v1/learners/{learner}/units/{unit}/marks", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), ("unit" = String, Path, description = "The unit's key or its URL form (ISMM-Unit-1)")),
    request_body = ApiMarks,
    responses((status = 201, body = credence_domain::portfolio::GradeResult), (status = 401, body = crate::web::ErrorBody), (status = 403, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody), (status = 422, body = crate::web::ErrorBody)))]
pub async fn api_marks(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    crate::web::ApiPath((learner, unit)): crate::web::ApiPath<(i64, String)>,
    ApiJson(m): ApiJson<ApiMarks>,
) -> Result<
    (
        StatusCode,
        axum::Json<credence_domain::portfolio::GradeResult>,
    ),
    ApiError,
> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let marks: Vec<(String, u32)> = m.marks.into_iter().map(|c| (c.component, c.mark)).collect();
    let result = app
        .record_marks(
            &actor,
            learner,
            &key,
            &marks,
            m.moderator_adjustment,
            &m.considerations,
            &client_address(&headers),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(result)))
}
