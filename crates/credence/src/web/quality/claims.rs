//! Claims and the gate (`/centres/{centre}/claims`): the centre's claims with what each held
//! one waits for, the administrator's "make a claim", the EQA's release; and the claims API.
//! The use cases decide who may do what; these pages show their answers.

use super::AppState;
use super::eqa::{csrf_of, is_forbidden, path_id, refused, sentence, shown, uk_date, uk_opt};
use crate::app::AppError;
use crate::app::authz::QaRole;
use crate::app::people::Actor;
use crate::app::quality::claims::ClaimView;
use crate::web::access::{CurrentActor, client_address};
use crate::web::pages::{PageError, render_status};
use crate::web::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use credence_domain::qa::Wait;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    let r = crate::web::access::route(r, "/centres/{centre}/claims", get(claims).post(make));
    let r = crate::web::access::route(r, "/centres/{centre}/claims/bulk", post(make_bulk));
    crate::web::access::route(r, "/claims/{claim}/release", post(release))
}

pub(super) fn api_routes(
    r: utoipa_axum::router::OpenApiRouter<AppState>,
) -> utoipa_axum::router::OpenApiRouter<AppState> {
    r.routes(utoipa_axum::routes!(api_claims))
        .routes(utoipa_axum::routes!(api_make_claim))
}

// --- the page ----------------------------------------------------------------------------

pub(super) struct ClaimLine {
    id: i64,
    learner_id: i64,
    learner: String,
    uln: String,
    qan: String,
    units: usize,
    unit_refs: String,
    status: &'static str,
    status_tag: &'static str,
    claimed: String,
    released: String,
    note: String,
    waiting_for: Vec<String>,
    releasable: bool,
    /// The certificate a released claim became.
    certificate: Option<String>,
    /// Where its number links: the register's record, or (for those who do not read the
    /// register, such as the EQA) the public page.
    certificate_link: String,
    /// A banked unit (a unit claim).
    unit_claim: bool,
    /// The registration is on the unit on its own (not a unit banked from a qualification).
    unit_on_its_own: bool,
}

const STATUSES: [(&str, &str); 3] = [
    ("held", "Held"),
    ("released", "Released"),
    ("withdrawn", "Withdrawn"),
];

fn status_words(s: &str) -> (&'static str, &'static str) {
    match s {
        "released" => ("Released", "tag--green"),
        "held" => ("Held", "tag--yellow"),
        "withdrawn" => ("Withdrawn", "tag--grey"),
        _ => ("Unknown", "tag--grey"),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct ClaimsQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

/// Claims a page: a large centre has thousands.
const CLAIMS_PER_PAGE: u32 = 100;

#[derive(Deserialize, Default)]
pub(super) struct ClaimForm {
    #[serde(default)]
    registration: String,
    #[serde(default)]
    units: String,
    /// "yes": bank the typed units one by one (unit certificates).
    #[serde(default)]
    bank: String,
}

#[derive(Template)]
#[template(path = "claims.html")]
pub(super) struct ClaimsPage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    /// The error's items, when it lists several (every unmet requirement of a claim).
    error_items: Vec<String>,
    /// Where the error summary's link goes.
    error_field: String,
    notice: Option<String>,
    centre_id: i64,
    centre_name: String,
    refusal: Option<String>,
    /// The status shown ("" for all), and the choices (value, words, selected).
    filter: String,
    filters: Vec<(&'static str, &'static str, bool)>,
    /// (held, released, withdrawn) over all claims.
    counts: (usize, usize, usize),
    /// How many claims the filter shows in all, the first and last on this page.
    total: usize,
    shown: (usize, usize),
    pager: crate::web::pager::Pager,
    lines: Vec<ClaimLine>,
    /// An EQA: releases claims whose only wait is the EQA's sampling.
    may_release: bool,
    /// Some claim shown may be released now.
    release_column: bool,
    may_claim: bool,
    /// (registration, words, selected)
    registrations: Vec<(i64, String, bool)>,
    units: String,
    bank: bool,
}

async fn claims(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(centre): Path<i64>,
    Query(q): Query<ClaimsQuery>,
) -> Result<Response, PageError> {
    let page = Shown {
        filter: q.status.unwrap_or_default(),
        page: crate::web::pager::page_number(q.page.as_deref()),
        ..Shown::default()
    };
    claims_page(&app, &actor, centre, page).await
}

/// What the claims page shows besides the claims.
#[derive(Default)]
struct Shown {
    filter: String,
    /// The page of claims (from 1; 0: the first).
    page: u32,
    error: Option<String>,
    error_field: &'static str,
    notice: Option<String>,
    form: ClaimForm,
}

async fn claims_page(
    app: &AppState,
    actor: &Actor,
    centre: i64,
    shown_: Shown,
) -> Result<Response, PageError> {
    let c = app.centre(centre).await?;
    let scope = app.qa_scope(actor, centre).await;
    let filter = if STATUSES.iter().any(|(k, _)| *k == shown_.filter) {
        shown_.filter.clone()
    } else {
        String::new()
    };
    let mut paging = (
        0,
        0,
        0,
        crate::web::pager::Pager::new(1, 1, |_| String::new()),
    );
    let (claims, refusal, role) = match scope {
        Ok(s) => (
            Some(
                app.centre_claims_page(actor, centre, &filter, shown_.page.max(1), CLAIMS_PER_PAGE)
                    .await?,
            ),
            None,
            Some(s.role().clone()),
        ),
        Err(e) => (None, Some(shown(e)?), None),
    };
    let cat = app.catalogue().await?;
    let (list, counts, claimed) = match claims {
        Some(p) => {
            let base = format!("/centres/{centre}/claims");
            let link = |n| crate::web::pager::page_link(&base, &[("status", &filter)], n);
            paging = (
                p.total,
                p.first,
                p.first + p.views.len().saturating_sub(1),
                crate::web::pager::Pager::new(p.page, p.pages, link),
            );
            (p.views, p.counts, p.claimed_registrations)
        }
        None => (Vec::new(), (0, 0, 0), Default::default()),
    };
    let may_release = matches!(role, Some(QaRole::Eqa { .. }));
    let register = app.register_scope(actor);
    let lines: Vec<ClaimLine> = list
        .iter()
        .map(|c| {
            let (status, status_tag) = status_words(&c.status);
            ClaimLine {
                id: c.claim,
                learner_id: c.learner,
                learner: c.learner_name.clone(),
                uln: c.uln.clone().unwrap_or_default(),
                qan: c.qan.clone(),
                units: c.units.len(),
                unit_refs: c
                    .units
                    .iter()
                    .map(|k| {
                        cat.unit(k)
                            .map_or_else(|| k.clone(), |(_, u)| u.ao_ref.clone())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                status,
                status_tag,
                claimed: uk_date(&c.claimed_at),
                released: uk_opt(c.released_at.as_deref()),
                note: c.release_note.clone().unwrap_or_default(),
                waiting_for: c.waiting_for.iter().map(|w| sentence(w)).collect(),
                releasable: may_release && c.releasable_by_eqa,
                certificate_link: match &c.certificate {
                    Some(n) if register.sees_centre_of(c.centre, &c.ao) => {
                        format!("/certificates/{n}/record")
                    }
                    Some(n) => format!("/certificates/{n}"),
                    None => String::new(),
                },
                certificate: c.certificate.clone(),
                unit_claim: c.kind == "unit",
                unit_on_its_own: credence_domain::ident::is_unit_code(&c.qan),
            }
        })
        .collect();
    let release_column = lines.iter().any(|l| l.releasable);
    let may_claim = refusal.is_none() && actor.centre_roles(centre).contains(&"centre_admin");
    let mut registrations = Vec::new();
    if may_claim {
        for r in app
            .registrations_at_centre(actor, centre, 5000)
            .await?
            .into_iter()
            .filter(|r| r.status == "registered" && r.centre_id == centre)
            // A registration with a held or released qualification claim is not claimed
            // again (banked units do not stop the qualification's claim).
            .filter(|r| !claimed.contains(&r.registration_id))
        {
            let title = cat
                .programme(&r.qan)
                .map(|(_, q)| q.title.clone())
                .unwrap_or_default();
            registrations.push((
                r.registration_id,
                format!(
                    "{} {}{}, {} {title}",
                    r.given_name,
                    r.family_name,
                    r.uln
                        .as_deref()
                        .map(|u| format!(" (ULN {u})"))
                        .unwrap_or_default(),
                    r.qan
                ),
                shown_.form.registration == r.registration_id.to_string(),
            ));
        }
        registrations.sort_by(|a, b| a.1.cmp(&b.1));
    }
    let has_error = shown_.error.is_some();
    // "These units do not meet Q: a; b; c" reads best as a list.
    let (error, error_items) = match shown_.error {
        Some(m) if m.starts_with("These units do not meet") => match m.split_once(": ") {
            Some((head, rest)) => (
                Some(format!("{head}:")),
                rest.split("; ").map(str::to_string).collect(),
            ),
            None => (Some(m), Vec::new()),
        },
        other => (other, Vec::new()),
    };
    Ok(render_status(
        has_error,
        &ClaimsPage {
            title: format!("Claims: {}", c.name),
            has_error,
            csrf: csrf_of(actor),
            error,
            error_items,
            error_field: shown_.error_field.to_string(),
            notice: shown_.notice,
            centre_id: centre,
            centre_name: c.name,
            refusal,
            filters: STATUSES
                .iter()
                .map(|(k, w)| (*k, *w, *k == filter))
                .collect(),
            filter,
            counts,
            total: paging.0,
            shown: (paging.1, paging.2),
            pager: paging.3,
            lines,
            may_release,
            release_column,
            may_claim,
            registrations,
            bank: shown_.form.bank == "yes",
            units: shown_.form.units,
        },
    ))
}

/// Unit references as typed: separated by commas, semicolons or new lines (a reference may
/// hold a space, "Unit 1").
fn typed_units(text: &str) -> Vec<String> {
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

async fn make(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(centre): Path<i64>,
    Form(f): Form<ClaimForm>,
) -> Result<Response, PageError> {
    let refuse = |m: String, field: &'static str, f: ClaimForm| Shown {
        error: Some(m),
        error_field: field,
        form: f,
        ..Shown::default()
    };
    let Ok(registration) = f.registration.trim().parse::<i64>() else {
        let s = refuse(
            "Choose the learner and qualification to claim".into(),
            "registration",
            f,
        );
        return claims_page(&app, &actor, centre, s).await;
    };
    // Only this centre's registrations are claimed from its page.
    let at_centre = app
        .store
        .registration(registration)
        .await
        .map_err(AppError::from)?
        .is_some_and(|r| r.centre_id == centre);
    if !at_centre {
        let s = refuse(
            "Choose one of this centre's current registrations".into(),
            "registration",
            f,
        );
        return claims_page(&app, &actor, centre, s).await;
    }
    let units = typed_units(&f.units);
    if f.bank == "yes" {
        if units.is_empty() {
            let s = refuse(
                "Type the units to bank, for example L3B1".into(),
                "units",
                f,
            );
            return claims_page(&app, &actor, centre, s).await;
        }
        let mut done = Vec::new();
        for u in &units {
            match app
                .bank_unit(&actor, registration, u, &client_address(&headers))
                .await
            {
                Ok(c) => done.push(match &c.certificate {
                    Some(n) => format!("{u}: unit certificate {n}"),
                    None => format!("{u}: held ({})", c.waiting_for.join("; ")),
                }),
                Err(e) => {
                    let forbidden = is_forbidden(&e);
                    let m = format!("{u}: {}", shown(e)?);
                    let m = if done.is_empty() {
                        m
                    } else {
                        format!("{m} (banked before it: {})", done.join(", "))
                    };
                    return refused(
                        forbidden,
                        claims_page(&app, &actor, centre, refuse(m, "units", f)).await,
                    );
                }
            }
        }
        let s = Shown {
            notice: Some(format!("Units banked. {}.", done.join("; "))),
            ..Shown::default()
        };
        return claims_page(&app, &actor, centre, s).await;
    }
    match app
        .make_claim(&actor, registration, &units, &client_address(&headers))
        .await
    {
        Ok(c) => {
            let notice = if c.status == "released" {
                format!(
                    "Claim made for {} ({}) and released: nothing holds it.",
                    c.learner_name, c.qan
                )
            } else {
                format!(
                    "Claim made for {} ({}) and held: the table says what it waits for.",
                    c.learner_name, c.qan
                )
            };
            let s = Shown {
                notice: Some(notice),
                ..Shown::default()
            };
            claims_page(&app, &actor, centre, s).await
        }
        Err(e) => {
            let forbidden = is_forbidden(&e);
            let m = shown(e)?;
            let field = if m.starts_with("These units") || m.contains(" unit") {
                "units"
            } else {
                "registration"
            };
            refused(
                forbidden,
                claims_page(&app, &actor, centre, refuse(m, field, f)).await,
            )
        }
    }
}

/// Claim for several learners at once, each with the units Credence proposes: the form
/// posts `registration` once per learner ticked.
async fn make_bulk(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(centre): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let ids: Vec<i64> = form_urlencoded::parse(&body)
        .filter(|(k, _)| k == "registration")
        .filter_map(|(_, v)| v.trim().parse().ok())
        .collect();
    if ids.is_empty() {
        let s = Shown {
            error: Some("Tick the learners to claim for".into()),
            error_field: "bulk",
            ..Shown::default()
        };
        return claims_page(&app, &actor, centre, s).await;
    }
    let (mut released, mut held, mut refused_) = (0, 0, Vec::new());
    for id in ids {
        let reg = app.store.registration(id).await.map_err(AppError::from)?;
        let Some(reg) = reg.filter(|r| r.centre_id == centre) else {
            refused_.push(format!("registration {id}: not at this centre"));
            continue;
        };
        let name = format!("{} {}", reg.given_name, reg.family_name);
        match app
            .make_claim(&actor, id, &[], &client_address(&headers))
            .await
        {
            Ok(c) if c.status == "released" => released += 1,
            Ok(_) => held += 1,
            Err(e @ AppError::Forbidden(_)) => return Err(e.into()),
            Err(e) => refused_.push(format!("{name}: {}", shown(e)?)),
        }
    }
    let mut notice = format!(
        "{} claim{} made: {released} released, {held} held.",
        released + held,
        if released + held == 1 { "" } else { "s" }
    );
    if !refused_.is_empty() {
        notice.push_str(&format!(" Not claimed: {}.", refused_.join("; ")));
    }
    let s = Shown {
        notice: Some(notice),
        ..Shown::default()
    };
    claims_page(&app, &actor, centre, s).await
}

#[derive(Deserialize, Default)]
pub(super) struct ReleaseForm {
    #[serde(default)]
    note: String,
}

async fn release(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Form(f): Form<ReleaseForm>,
) -> Result<Response, PageError> {
    let id = path_id(&raw, "claim")?;
    let centre = app
        .store
        .claim(id)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::NotFound("That claim".into()))?
        .centre_id;
    match app
        .eqa_release_claim(&actor, id, &f.note, &client_address(&headers))
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/centres/{centre}/claims")).into_response()),
        Err(e) => {
            let forbidden = is_forbidden(&e);
            let m = shown(e)?;
            let s = Shown {
                error: Some(m),
                error_field: "",
                ..Shown::default()
            };
            refused(forbidden, claims_page(&app, &actor, centre, s).await)
        }
    }
}

// --- API -------------------------------------------------------------------------------------

/// A claim for a qualification, with what it waits for while it is held.
#[derive(Serialize, ToSchema)]
pub struct ApiClaim {
    pub claim: i64,
    /// "qualification", or "unit" for a banked unit (it becomes a unit certificate).
    pub kind: String,
    /// The number of the certificate a released claim became.
    pub certificate: Option<String>,
    pub registration: i64,
    pub learner: i64,
    pub learner_name: String,
    pub uln: Option<String>,
    pub centre: i64,
    pub ao: String,
    pub qan: String,
    /// The keys of the units the claim is made with.
    pub units: Vec<String>,
    /// held, released or withdrawn.
    pub status: String,
    pub claimed_at: String,
    pub released_at: Option<String>,
    pub release_note: Option<String>,
    /// For a held claim: everything it waits for.
    pub waits: Vec<Wait>,
    /// The same, in words, one per wait.
    pub waiting_for: Vec<String>,
    /// Held only for the EQA's sampling: the centre's EQA may release it now.
    pub releasable_by_eqa: bool,
}

impl From<ClaimView> for ApiClaim {
    fn from(c: ClaimView) -> Self {
        ApiClaim {
            claim: c.claim,
            kind: c.kind,
            certificate: c.certificate,
            registration: c.registration,
            learner: c.learner,
            learner_name: c.learner_name,
            uln: c.uln,
            centre: c.centre,
            ao: c.ao,
            qan: c.qan,
            units: c.units,
            status: c.status,
            claimed_at: c.claimed_at,
            released_at: c.released_at,
            release_note: c.release_note,
            waits: c.waits,
            waiting_for: c.waiting_for,
            releasable_by_eqa: c.releasable_by_eqa,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimsParams {
    /// Only this centre's claims.
    pub centre: Option<i64>,
    /// At most this many, newest first (1 to 1000; all of them when left out). When a full
    /// page comes back, its `Link` header names the next (`rel="next"`).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Leave out this many of the newest first (0 when left out).
    #[serde(default)]
    pub offset: Option<i64>,
}

/// Claims you may see: a centre's (its staff; its EQA and awarding organisation only their
/// AO's), or without `centre` the newest 1,000 claims of every centre you work at or
/// oversee (name a centre for all of its claims). Held claims whose gate has opened are
/// released first when a centre is named.
#[utoipa::path(get, path = "/api/v1/claims", tag = "quality",
    params(ClaimsParams),
    responses((status = 200, body = Vec<ApiClaim>, headers(("Link" = String, description = "The next page, `<...>; rel=\"next\"`, when a `limit` was given and this page is full"))), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_claims(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(q): ApiQuery<ClaimsParams>,
) -> Result<Response, ApiError> {
    let (limit, offset) = crate::web::api_range(q.limit, q.offset, 1000)?;
    let list: Vec<ApiClaim> = app
        .claims_range(&actor, q.centre, offset, limit)
        .await?
        .into_iter()
        .map(ApiClaim::from)
        .collect();
    Ok(crate::web::with_next_link(
        Json(&list).into_response(),
        "/api/v1/claims",
        &[("centre", q.centre.map(|c| c.to_string()))],
        limit,
        offset,
        list.len(),
    ))
}

/// A claim to make.
#[derive(Deserialize, ToSchema)]
pub struct ApiNewClaim {
    /// The learner's registration (at this centre) whose qualification is claimed.
    pub registration: i64,
    /// Unit keys or references the claim is made with. Left out or empty: the units
    /// Credence proposes (the learner's signed-off units that meet the qualification).
    #[serde(default)]
    pub units: Option<Vec<String>>,
    /// Bank this one unit instead (its key or reference): a unit claim, gated like any
    /// claim, that becomes a unit certificate when released. `units` is then ignored.
    #[serde(default)]
    pub unit: Option<String>,
}

/// Claim a learner's qualification (the centre's administrators). The rules of combination
/// are checked: a claim they do not meet is refused (422) with every unmet requirement. The
/// claim is released at once when nothing holds it, and held otherwise, saying what for.
#[utoipa::path(post, path = "/api/v1/centres/{centre}/claims", tag = "quality",
    params(("centre" = i64, Path, description = "centre id")),
    request_body = ApiNewClaim,
    responses((status = 201, body = ApiClaim), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn api_make_claim(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    ApiPath(centre): ApiPath<i64>,
    ApiJson(body): ApiJson<ApiNewClaim>,
) -> Result<(StatusCode, Json<ApiClaim>), ApiError> {
    let at_centre = app
        .store
        .registration(body.registration)
        .await
        .map_err(AppError::from)?
        .is_some_and(|r| r.centre_id == centre);
    if !at_centre {
        return Err(ApiError::not_found(format!(
            "registration {} at centre {centre}",
            body.registration
        )));
    }
    let claim = match body
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(unit) => {
            app.bank_unit(&actor, body.registration, unit, &client_address(&headers))
                .await?
        }
        None => {
            let units = body.units.unwrap_or_default();
            app.make_claim(&actor, body.registration, &units, &client_address(&headers))
                .await?
        }
    };
    Ok((StatusCode::CREATED, Json(ApiClaim::from(claim))))
}
