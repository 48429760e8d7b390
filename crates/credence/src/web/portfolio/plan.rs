//! The learner's plan: the page (choose the units, see the proposal) and its JSON API.

use super::*;
use crate::app::portfolio::plan::{PlanUnitView, PlanView};

/// A group of units on the plan form ("CORE", "Mandatory").
pub(super) struct PlanGroup {
    name: String,
    units: Vec<PlanUnitRow>,
}

pub(super) struct PlanUnitRow {
    key: String,
    id: String,
    label: String,
    hint: String,
    ticked: bool,
}

pub(super) struct PlanQual {
    qan: String,
    slug: String,
    title: String,
    chosen: bool,
    chosen_line: String,
    met: usize,
    total: usize,
    percent: usize,
    plan_credit: u32,
    plan_units: Vec<(String, String, usize, usize, usize, String)>,
    outside: Vec<(String, String, String)>,
    unmet: Vec<String>,
    why_not: Vec<String>,
    groups: Vec<PlanGroup>,
}

#[derive(Template)]
#[template(path = "learning_plan.html")]
pub(super) struct PlanPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    learner_id: i64,
    name: String,
    may_change: bool,
    stamp: i64,
    quals: Vec<PlanQual>,
}

fn unit_label(u: &PlanUnitView) -> String {
    format!(
        "{} {} (level {}{})",
        u.ao_ref,
        u.title,
        u.level,
        u.credit
            .map(|c| format!(", {c} credits"))
            .unwrap_or_default()
    )
}

fn plan_qual(v: &PlanView, ticked: Option<&[String]>) -> PlanQual {
    let mut groups: Vec<PlanGroup> = Vec::new();
    for u in &v.units {
        let name = u.group.clone().unwrap_or_else(|| "Units".into());
        let row = PlanUnitRow {
            key: u.key.clone(),
            id: format!("unit-{}", unit_slug(&u.key)),
            label: unit_label(u),
            hint: match (u.signed_off, u.has_work) {
                (true, _) => "Signed off".into(),
                (false, true) => format!(
                    "Work started: {} of {} criteria met",
                    u.criteria_met, u.criteria_total
                ),
                _ => String::new(),
            },
            ticked: ticked.map_or(u.in_plan, |t| t.contains(&u.key)),
        };
        match groups.iter_mut().find(|g| g.name == name) {
            Some(g) => g.units.push(row),
            None => groups.push(PlanGroup {
                name,
                units: vec![row],
            }),
        }
    }
    PlanQual {
        slug: qan_slug(&v.qan),
        qan: v.qan.clone(),
        title: v.title.clone(),
        chosen: v.chosen,
        chosen_line: if v.chosen {
            format!(
                "Chosen{}{}.",
                v.chosen_by
                    .as_deref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default(),
                v.chosen_at
                    .as_deref()
                    .map(|a| format!(" on {}", human_date(a)))
                    .unwrap_or_default()
            )
        } else {
            "Proposed by the planner: the shortest set of units that meets the qualification's rules. Nobody has chosen the units yet.".into()
        },
        met: v.criteria_met,
        total: v.criteria_total,
        percent: percent(v.criteria_met, v.criteria_total),
        plan_credit: v.plan_credit,
        plan_units: v
            .units
            .iter()
            .filter(|u| u.in_plan)
            .map(|u| {
                (
                    unit_slug(&u.key),
                    format!("{} {}", u.ao_ref, u.title),
                    u.criteria_met,
                    u.criteria_total,
                    percent(u.criteria_met, u.criteria_total),
                    u.group.clone().unwrap_or_default(),
                )
            })
            .collect(),
        outside: v
            .units
            .iter()
            .filter(|u| !u.in_plan && u.has_work)
            .map(|u| {
                (
                    unit_slug(&u.key),
                    format!("{} {}", u.ao_ref, u.title),
                    if u.signed_off {
                        "Signed off".to_string()
                    } else {
                        format!("{} of {} criteria met", u.criteria_met, u.criteria_total)
                    },
                )
            })
            .collect(),
        unmet: v.unmet.clone(),
        why_not: v.why_not.clone(),
        groups,
    }
}

/// Whether the actor may change the learner's plan on at least one qualification.
async fn may_change_plan(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    views: &[PlanView],
) -> bool {
    for v in views {
        if app.plan_scope(actor, learner, &v.qan).await.is_ok() {
            return true;
        }
    }
    false
}

pub(super) async fn plan_response(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    error: Option<AppError>,
    notice: Option<String>,
    ticked: Option<(&str, &[String])>,
) -> Result<Response, PageError> {
    let (p, views) = app.learner_plans(actor, learner).await?;
    let may_change = p.record_until.is_none() && may_change_plan(app, actor, learner, &views).await;
    let name = format!("{} {}", p.learner.given_name, p.learner.family_name);
    let status = error.as_ref().map(crate::web::status_of);
    let page = PlanPage {
        title: format!("Plan: {name}"),
        has_error: error.is_some(),
        error: error.map(|e| crate::web::public_message(&e)),
        notice,
        csrf: crate::web::access::csrf_token(),
        learner_id: learner,
        name,
        may_change,
        stamp: p.stamp,
        quals: views
            .iter()
            .map(|v| {
                plan_qual(
                    v,
                    ticked.filter(|(q, _)| *q == v.qan).map(|(_, units)| units),
                )
            })
            .collect(),
    };
    Ok(render_as(status, &page))
}

pub(super) async fn plan_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(learner): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    plan_response(
        &app,
        &actor,
        learner,
        None,
        notice_text(n.done.as_deref()),
        None,
    )
    .await
}

/// The plan form: `qan`, `stamp`, `units` (repeated), and `action` (`save` or `proposal`).
pub(super) async fn choose_plan(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(learner): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let (mut qan, mut stamp, mut units, mut action) =
        (String::new(), None, Vec::new(), String::new());
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "qan" => qan = v.to_string(),
            "stamp" => stamp = v.trim().parse::<i64>().ok(),
            "units" => units.push(v.to_string()),
            "action" => action = v.to_string(),
            _ => {}
        }
    }
    if action == "proposal" {
        units.clear();
    } else if units.is_empty() {
        let e = AppError::Validation(
            "Choose the units the learner will take (tick at least one), or go back to the proposed plan".into(),
        );
        return plan_response(&app, &actor, learner, Some(e), None, Some((&qan, &units))).await;
    }
    match app
        .choose_plan(
            &actor,
            learner,
            &qan,
            &units,
            stamp,
            &client_address(&headers),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/learners/{learner}/plan?done={}",
            if action == "proposal" {
                "plan-proposal"
            } else {
                "plan"
            }
        ))
        .into_response()),
        Err(e) if is_user_error(&e) => {
            plan_response(&app, &actor, learner, Some(e), None, Some((&qan, &units))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The units a learner takes on one qualification.
#[derive(Deserialize, ToSchema)]
pub struct ApiPlanChoice {
    /// The qualification (QAN) of the learner's registration.
    pub qan: String,
    /// The units, by reference (`L3B1`) or key. An empty list takes the chosen plan away:
    /// the planner's proposal is used again.
    pub units: Vec<String>,
    /// The portfolio's stamp the choice was made on: refused with 409 if it has moved since.
    #[serde(default)]
    pub stamp: Option<i64>,
}

/// The learner's plans, one per qualification.
#[derive(Serialize, ToSchema)]
pub struct ApiPlans {
    pub learner: i64,
    /// The portfolio's stamp (send it back with a change).
    pub stamp: i64,
    pub qualifications: Vec<PlanView>,
}

/// The learner's plan on each of their qualifications: the units chosen, or (with `chosen`
/// false) the planner's shortest proposal, with progress over the plan.
#[utoipa::path(get, path = "/api/v1/learners/{learner}/plan", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id")),
    responses((status = 200, body = ApiPlans), (status = 401, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody)))]
pub async fn api_plan(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    crate::web::ApiPath(learner): crate::web::ApiPath<i64>,
) -> Result<axum::Json<ApiPlans>, ApiError> {
    let (p, views) = app.learner_plans(&actor, learner).await?;
    Ok(axum::Json(ApiPlans {
        learner,
        stamp: p.stamp,
        qualifications: views,
    }))
}

/// Choose the units the learner takes on one qualification: the learner, their assessor or
/// the centre's administrators. Refused (422) naming every unmet rule of combination.
#[utoipa::path(put, path = "/api/v1/learners/{learner}/plan", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id")),
    request_body = ApiPlanChoice,
    responses((status = 200, body = PlanView), (status = 401, body = crate::web::ErrorBody), (status = 403, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody), (status = 409, body = crate::web::ErrorBody), (status = 422, body = crate::web::ErrorBody)))]
pub async fn api_choose_plan(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    crate::web::ApiPath(learner): crate::web::ApiPath<i64>,
    ApiJson(c): ApiJson<ApiPlanChoice>,
) -> Result<axum::Json<PlanView>, ApiError> {
    let view = app
        .choose_plan(
            &actor,
            learner,
            &c.qan,
            &c.units,
            c.stamp,
            &client_address(&headers),
        )
        .await?;
    Ok(axum::Json(view))
}
