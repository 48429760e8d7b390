//! The portfolio pages and API: evidence upload and download, mapping, judging, RPL,
//! sign-off, achievement logs (page, PDF), the portfolio zip, marks and transfers.
//! Access to the learner is decided in [`super::access`]; what a person may do to it
//! (upload, judge, sign) is decided in [`crate::app::portfolio`].

mod api;
mod evidence;
mod logs;
mod pages;
mod plan;
mod transfers;

use api::*;
pub(crate) use evidence::file_response;
use evidence::*;
pub(crate) use logs::tokio_util_stream;
use logs::*;
use pages::*;
use plan::*;
use transfers::*;

use super::access::{CurrentActor, client_address};
use super::pages::{PageError, render};
use super::{ApiError, ApiJson, AppState};
use crate::app::catalogue::{qan_from_slug, qan_slug, unit_slug};
use crate::app::portfolio::{EvidenceMeta, KINDS, Portfolio, SOURCES, UnitDecision, shown_inline};
use crate::app::{AppError, AppResult};
use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use credence_domain::portfolio::{
    ConsiderationKind, CriterionStatus, Outcome, SpecialConsideration,
};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[expect(
    clippy::let_and_return,
    reason = "one route a line, each through access::route"
)]
pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = super::access::route(r, "/learners/{learner}/portfolio", get(portfolio_page));
    let r = super::access::route(
        r,
        "/learners/{learner}/portfolio/units/{unit}",
        get(unit_page),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/portfolio/units/{unit}/judgements",
        post(judge),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/portfolio/units/{unit}/decisions",
        post(judge_unit),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/portfolio/units/{unit}/replies",
        post(reply),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/portfolio/units/{unit}/sign",
        post(sign),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/portfolio/units/{unit}/authenticate",
        post(authenticate),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/portfolio/units/{unit}/marks",
        post(marks),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/plan",
        get(plan_page).post(choose_plan),
    );
    let r = super::access::route(r, "/learners/{learner}/evidence/new", get(upload_form));
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence",
        post(upload).layer(DefaultBodyLimit::disable()),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}",
        get(evidence_page),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/file",
        get(download),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/mappings",
        post(map),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/mappings/remove",
        post(unmap),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/ksbs",
        post(map_ksb),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/supersede",
        post(supersede).layer(DefaultBodyLimit::disable()),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/delete",
        get(delete_confirm).post(delete),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/achievement-log/{qan}",
        get(log_page),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/achievement-log/{qan}/pdf",
        get(log_pdf),
    );
    let r = super::access::route(r, "/learners/{learner}/portfolio.zip", get(zip));
    let r = super::access::route(
        r,
        "/centres/{centre}/registrations/{registration}/transfer",
        post(request_transfer),
    );
    let r = super::access::route(r, "/transfers/{id}/decision", post(decide_transfer));
    let r = super::access::route(
        r,
        "/qualifications/{qan}/grade-boundaries",
        post(grade_boundaries),
    );
    r
}

/// The portfolio's JSON API, in the OpenAPI document.
pub fn api_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(api_portfolio))
        .routes(routes!(api_plan, api_choose_plan))
        .routes(routes!(api_upload))
        .routes(routes!(api_map))
        .routes(routes!(api_judge))
        .routes(routes!(api_judge_unit))
        .routes(routes!(api_reply))
        .routes(routes!(api_sign))
        .routes(routes!(api_authenticate))
        .routes(routes!(api_delete_evidence))
        .routes(routes!(api_marks))
}

// --- shared -----------------------------------------------------------------------------------

pub(super) fn human_date(at: &str) -> String {
    crate::web::format::uk_date(at)
}

pub(super) fn status_tag(s: &CriterionStatus) -> (&'static str, String) {
    match s {
        CriterionStatus::NoEvidence => ("tag--grey", "No evidence".into()),
        CriterionStatus::Evidenced { items, occasions } => (
            "tag--blue",
            format!(
                "Evidenced: {items} item{}, {occasions} occasion{}; to be assessed",
                if *items == 1 { "" } else { "s" },
                if *occasions == 1 { "" } else { "s" }
            ),
        ),
        CriterionStatus::Met { rpl: true, .. } => ("tag--green", "Met (RPL)".into()),
        CriterionStatus::Met { .. } => ("tag--green", "Met".into()),
        CriterionStatus::NotYetMet { .. } => ("tag--red", "Not yet met".into()),
        // A unit that asks for no occasions needs one: the evidence under the decision was
        // taken away.
        CriterionStatus::NeedsOccasions { have: 0, need: 1 } => (
            "tag--yellow",
            "Judged met, but no current evidence is mapped to it".into(),
        ),
        CriterionStatus::NeedsOccasions { have, need } => (
            "tag--yellow",
            format!("Judged met, short of occasions: {have} of {need}"),
        ),
        CriterionStatus::NeedsReassessment { judged_at } => (
            "tag--orange",
            format!(
                "Needs re-assessment: its words changed after it was judged on {}",
                human_date(judged_at)
            ),
        ),
    }
}

/// A page, with the status of the problem it shows (200 when none).
pub(super) fn render_as<T: Template>(status: Option<StatusCode>, page: &T) -> Response {
    let mut res = render(page);
    if let Some(s) = status {
        *res.status_mut() = s;
    }
    res
}

pub(super) fn percent(met: usize, total: usize) -> usize {
    (met * 100).checked_div(total).unwrap_or(0)
}

/// A user's mistake re-renders the page with the message (and the error's status); anything
/// else is an error page.
pub(super) fn is_user_error(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Validation(_)
            | AppError::Conflict(_)
            | AppError::Forbidden(_)
            | AppError::TooLarge(_)
    )
}

#[derive(Deserialize, Default)]
pub(super) struct Notice {
    #[serde(default)]
    done: Option<String>,
}

pub(super) fn notice_text(code: Option<&str>) -> Option<String> {
    Some(
        match code? {
            "uploaded" => "Evidence uploaded. Now map it to the criteria it shows.",
            "mapped" => "Mapping saved.",
            "unmapped" => "Mapping removed.",
            "ksb" => "KSB mapping saved.",
            "superseded" => "New version saved; the earlier one is kept with the reason.",
            "deleted" => "Evidence deleted.",
            "judged" => "Decision recorded.",
            "decisions" => "Decisions recorded. Criteria left blank have no new decision.",
            "replied" => "Reply sent: it is beside the criterion's feedback.",
            "signed" => "Declaration signed.",
            "authenticated" => "Authentication recorded.",
            "marks" => "Marks recorded.",
            "transfer" => "Transfer requested: the awarding organisation will decide.",
            "decided" => "Transfer decided.",
            "boundaries" => "Grade boundaries saved.",
            "plan" => "Plan saved: progress now counts these units.",
            "plan-proposal" => "The chosen plan was taken away: the planner's proposal is used until units are chosen again.",
            _ => return None,
        }
        .to_string(),
    )
}

// --- the portfolio page ------------------------------------------------------------------------

pub(super) struct QualRow {
    qan: String,
    slug: String,
    title: String,
    centre: String,
    status: String,
}

pub(super) struct CritRow {
    /// "LO 2: Understand ..." on the first criterion of each learning outcome.
    lo_heading: String,
    /// The LO's assessor guidance, beside its criteria on the unit page.
    lo_guidance: String,
    number: String,
    text: String,
    tag: &'static str,
    status: String,
    /// Every decision's feedback on the criterion, oldest first (met ones too): the thread
    /// both the learner and the assessor read.
    feedback: Vec<FeedbackRow>,
    evidence: Vec<(i64, String, String)>,
    /// Where the unit asks for evidence on different occasions: each occasion (a date) with
    /// its items, oldest first; empty otherwise.
    occasions: Vec<OccasionRow>,
    /// "2 of 3 occasions evidenced, over 3 weeks and 2 days (5 October 2026 to 28 October
    /// 2026)"; empty where the unit asks for no occasions.
    occasions_summary: String,
    /// Why a criterion judged met does not count yet, and what is needed; empty otherwise.
    occasions_short: String,
    /// What the whole-unit form showed when it was sent back with a problem.
    kept_outcome: String,
    kept_feedback: String,
    kept_rpl: bool,
}

/// One occasion of a criterion's evidence: its date (as people in the UK read it) and the
/// items dated that day (id, title, location).
pub(super) struct OccasionRow {
    date: String,
    items: Vec<(i64, String, String)>,
}

/// A count with its noun: "1 occasion", "3 occasions".
pub(super) fn occasions_count(n: usize) -> String {
    if n == 1 {
        "1 occasion".into()
    } else {
        format!("{n} occasions")
    }
}

/// One decision's feedback on a criterion.
pub(super) struct FeedbackRow {
    outcome: &'static str,
    by: String,
    at: String,
    text: String,
}

pub(super) struct UnitRow {
    slug: String,
    ao_ref: String,
    title: String,
    groups: String,
    met: usize,
    total: usize,
    percent: usize,
    state: String,
    state_tag: &'static str,
    criteria: Vec<CritRow>,
    /// In the learner's plan (chosen or proposed); others are shown only when they hold work.
    in_plan: bool,
    has_work: bool,
}

pub(super) struct EvRow {
    id: i64,
    title: String,
    kind: String,
    date: String,
    source: String,
    size: String,
    superseded: bool,
    mappings: usize,
    ksbs: String,
}
