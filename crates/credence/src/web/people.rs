//! Pages for people: sign-in, the home page of each role, tokens, centres, registration,
//! learners and the audit log. Access is decided in [`super::access`] before these run.

use super::AppState;
use super::access::{CurrentActor, SESSION_COOKIE, client_address};
use super::pages::{PageError, render, render_status};
use crate::app::AppError;
use crate::app::people::{SignInError, role_name};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

#[expect(
    clippy::let_and_return,
    reason = "one route a line, each through access::route"
)]
pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = super::access::route(r, "/sign-in", get(sign_in_form).post(sign_in));
    let r = super::access::route(r, "/sign-out", post(sign_out));
    let r = super::access::route(r, "/home", get(home));
    let r = super::access::route(r, "/invitations", post(invite_ao));
    let r = super::access::route(r, "/context", post(switch_context));
    let r = super::access::route(r, "/account/tokens", get(tokens).post(create_token));
    let r = super::access::route(r, "/account/tokens/{id}/revoke", post(revoke_token));
    let r = super::access::route(r, "/centres", get(centres).post(create_centre));
    let r = super::access::route(r, "/centres/{centre}", get(centre));
    let r = super::access::route(r, "/centres/{centre}/approvals", post(approve));
    let r = super::access::route(r, "/centres/{centre}/direct-claim", post(direct_claim));
    let r = super::access::route(r, "/centres/{centre}/audit", get(audit));
    let r = super::access::route(r, "/centres/{centre}/eqa", post(appoint_eqa));
    let r = super::access::route(r, "/centres/{centre}/registrations/new", get(register_form));
    let r = super::access::route(r, "/centres/{centre}/registrations", post(register_one));
    let r = super::access::route(
        r,
        "/centres/{centre}/registrations/upload",
        post(register_upload),
    );
    let r = super::access::route(r, "/learners/{learner}", get(learner));
    let r = super::access::route(
        r,
        "/account/competence",
        get(competence).post(save_competence),
    );
    let r = super::access::route(r, "/account/competence/cpd", post(add_cpd));
    let r = super::access::route(r, "/account/interests", post(declare_interest));
    let r = super::access::route(
        r,
        "/centres/{centre}/registrations/{registration}/assignments",
        post(assign),
    );
    let r = super::access::route(r, "/centres/{centre}/invitations", post(invite_staff));
    let r = super::access::route(
        r,
        "/invitations/{token}",
        get(invitation).post(accept_invitation),
    );
    r
}

fn csrf_of(a: &crate::app::people::Actor) -> String {
    a.csrf.clone().unwrap_or_default()
}

// --- sign-in ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    email: String,
    next: String,
}

#[derive(Deserialize)]
struct NextParam {
    next: Option<String>,
}

/// Only a path on this site is a place to go back to.
/// Only a path on this site is a place to go back to: it starts with one `/`, and has no
/// backslash, control character or space anywhere (browsers drop tabs and newlines, so
/// `/\t/evil.example` would become `//evil.example`, another site), and no encoded slash
/// or backslash that a server behind a proxy might decode.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.len() <= 2048
                && !n
                    .chars()
                    .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
                && !n.to_ascii_lowercase().contains("%2f")
                && !n.to_ascii_lowercase().contains("%5c")
                && !n.contains("%09")
                && !n.to_ascii_lowercase().contains("%0a")
                && !n.to_ascii_lowercase().contains("%0d") =>
        {
            n.to_string()
        }
        _ => "/home".into(),
    }
}

async fn sign_in_form(Query(p): Query<NextParam>) -> Response {
    render(&SignInPage {
        title: "Sign in".into(),
        has_error: false,
        error: None,
        email: String::new(),
        next: safe_next(p.next.as_deref()),
    })
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn sign_in(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let again = |status: StatusCode, message: &str| {
        (
            status,
            render(&SignInPage {
                title: "Sign in".into(),
                has_error: true,
                error: Some(message.into()),
                email: f.email.clone(),
                next: next.clone(),
            }),
        )
            .into_response()
    };
    match app
        .sign_in(&f.email, &f.password, &client_address(&headers))
        .await
    {
        Ok(crate::app::people::SignedIn::SecondFactor(challenge)) => {
            let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
            let mut res =
                Redirect::to(&format!("/sign-in/second-factor?next={next}")).into_response();
            res.headers_mut().insert(
                header::SET_COOKIE,
                super::second_factor::challenge_cookie(Some(&challenge)),
            );
            res
        }
        Ok(crate::app::people::SignedIn::Session(token, _)) => {
            let secure = headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"));
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
                crate::app::people::SESSION_HOURS * 3600,
                if secure { "; Secure" } else { "" }
            );
            let mut res = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(SignInError::Wrong) => again(
            StatusCode::UNAUTHORIZED,
            "Enter a correct email address and password",
        ),
        Err(SignInError::Limited) => again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed attempts to sign in: wait 15 minutes and try again, or ask your administrator to reset your password",
        ),
        Err(SignInError::Other(e)) => PageError::from(e).into_response(),
    }
}

async fn sign_out(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    if let Some(h) = &actor.session_hash {
        app.sign_out(h).await?;
    }
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("credence_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(res)
}

// --- home ---------------------------------------------------------------------------------

struct Row {
    link: String,
    cells: Vec<String>,
}

struct Section {
    heading: String,
    intro: String,
    columns: Vec<&'static str>,
    rows: Vec<Row>,
    actions: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    title: String,
    has_error: bool,
    name: String,
    csrf: String,
    /// (grant id, label, active)
    grants: Vec<(i64, String, bool)>,
    sections: Vec<Section>,
    /// The AO whose staff and EQAs this person may invite.
    invite_ao: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    /// Transfers waiting for this AO staff member: (id, description).
    transfers: Vec<(i64, String)>,
    /// Their roles need a second factor and this sign-in has none.
    needs_second_factor: bool,
}

async fn home(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    home_page(&app, &actor, None, None).await
}

#[derive(Deserialize)]
struct AoInviteForm {
    name: String,
    email: String,
    role: String,
    ao: String,
}

async fn invite_ao(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<AoInviteForm>,
) -> Result<Response, PageError> {
    match app
        .invite(
            &actor,
            &f.email,
            &f.name,
            &f.role,
            Some(&f.ao),
            None,
            &client_address(&headers),
        )
        .await
    {
        Ok(token) => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let link = format!("http://{host}/invitations/{token}");
            home_page(
                &app,
                &actor,
                Some(format!(
                    "Send {} this one-time link (it works for {} days): {link}",
                    f.email,
                    crate::app::people::INVITATION_DAYS
                )),
                None,
            )
            .await
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            home_page(&app, &actor, None, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn home_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let centres = app.visible_centres(actor).await?;
    let centre_name = |id: Option<i64>| {
        id.and_then(|id| centres.iter().find(|c| c.centre.centre_id == id))
            .map(|c| c.centre.name.clone())
            .unwrap_or_default()
    };
    let grants = actor
        .grants
        .iter()
        .map(|g| {
            let at = match (&g.ao_code, g.centre_id) {
                (Some(ao), _) => format!(" for {ao}"),
                (_, Some(c)) => format!(" at {}", centre_name(Some(c))),
                _ => String::new(),
            };
            (
                g.role_grant_id,
                format!("{}{at}", role_name(g.role.as_str())),
                actor
                    .active
                    .as_ref()
                    .is_some_and(|a| a.role_grant_id == g.role_grant_id),
            )
        })
        .collect();
    let mut sections = Vec::new();
    if let Some(active) = &actor.active {
        match active.role.as_str() {
            "ao_staff" | "eqa" => {
                let mut rows = Vec::new();
                for c in &centres {
                    let n = app
                        .store
                        .count_registrations(c.centre.centre_id)
                        .await
                        .map_err(AppError::from)?;
                    let approvals = app.approvals(c.centre.centre_id).await?.len();
                    let dcs = c
                        .aos
                        .iter()
                        .filter(|a| a.direct_claim_status == 1)
                        .map(|a| a.ao_code.clone())
                        .collect::<Vec<_>>();
                    rows.push(Row {
                        link: format!("/centres/{}", c.centre.centre_id),
                        cells: vec![
                            c.centre.name.clone(),
                            approvals.to_string(),
                            n.to_string(),
                            if dcs.is_empty() {
                                "No".into()
                            } else {
                                dcs.join(", ")
                            },
                        ],
                    });
                }
                let mut actions = vec![("All centres".to_string(), "/centres".to_string())];
                if active.role == "ao_staff" {
                    actions.push(("Catalogue versions".into(), "/catalogue/versions".into()));
                }
                sections.push(Section {
                    heading: if active.role == "ao_staff" {
                        "Your awarding organisation's centres".into()
                    } else {
                        "Centres you are appointed to".into()
                    },
                    intro: String::new(),
                    columns: vec![
                        "Centre",
                        "Approved qualifications",
                        "Registrations",
                        "Direct claim status",
                    ],
                    rows,
                    actions,
                });
            }
            "centre_admin" => {
                let centre_id = active.centre_id.unwrap_or_default();
                let regs = app
                    .store
                    .registrations_at_centre(centre_id, 50)
                    .await
                    .map_err(AppError::from)?;
                let n = app
                    .store
                    .count_registrations(centre_id)
                    .await
                    .map_err(AppError::from)?;
                sections.push(Section {
                    heading: format!("Registrations at {} ({n})", centre_name(active.centre_id)),
                    intro: String::new(),
                    columns: vec!["Learner", "ULN", "Qualification", "Registered"],
                    rows: regs
                        .into_iter()
                        .map(|r| Row {
                            link: format!("/learners/{}", r.learner_id),
                            cells: vec![
                                format!("{} {}", r.given_name, r.family_name),
                                r.uln.unwrap_or_default(),
                                r.qan,
                                r.registered_at,
                            ],
                        })
                        .collect(),
                    actions: vec![
                        ("The centre".to_string(), format!("/centres/{centre_id}")),
                        (
                            "Register learners".into(),
                            format!("/centres/{centre_id}/registrations/new"),
                        ),
                    ],
                });
            }
            "assessor" | "iqa" => {
                let centre_id = active.centre_id.unwrap_or_default();
                let regs = app
                    .store
                    .assigned_registrations(actor.person_id, centre_id, active.role.as_str())
                    .await
                    .map_err(AppError::from)?;
                let what = if active.role == "iqa" {
                    "to quality assure"
                } else {
                    "to assess"
                };
                sections.push(Section {
                    heading: format!("Your caseload at {} ({})", centre_name(active.centre_id), regs.len()),
                    intro: if regs.is_empty() { format!("No learner is assigned to you {what} yet: the centre's administrator assigns learners.") } else { format!("Learners assigned to you {what}.") },
                    columns: vec!["Learner", "ULN", "Qualification", "Criteria met", "Units signed off"],
                    rows: {
                        let mut rows = Vec::new();
                        for r in regs {
                            let (met, units) = match app.portfolio(actor, r.learner_id).await {
                                Ok(p) => (
                                    format!("{} of {}", p.progress.met, p.progress.total),
                                    format!("{} of {}", p.units.iter().filter(|u| u.locked).count(), p.units.len()),
                                ),
                                Err(_) => (String::new(), String::new()),
                            };
                            rows.push(Row {
                                link: format!("/learners/{}/portfolio", r.learner_id),
                                cells: vec![format!("{} {}", r.given_name, r.family_name), r.uln.unwrap_or_default(), r.qan, met, units],
                            });
                        }
                        rows
                    },
                    actions: vec![
                        ("The centre".to_string(), format!("/centres/{centre_id}")),
                        ("Your competence".into(), "/account/competence".into()),
                    ],
                });
            }
            "learner" => {
                let learner = active.learner_id.unwrap_or_default();
                let regs = app
                    .store
                    .registrations_of_learner(learner)
                    .await
                    .map_err(AppError::from)?;
                let cat = app.catalogue().await?;
                sections.push(Section {
                    heading: "Your qualifications".into(),
                    intro: String::new(),
                    columns: vec!["Qualification", "Centre", "Units", "Registered"],
                    rows: regs
                        .into_iter()
                        .map(|r| {
                            let (title, units) = cat
                                .qualification(&r.qan)
                                .map(|(_, q)| (q.title.clone(), q.units.len().to_string()))
                                .unwrap_or((r.qan.clone(), String::new()));
                            Row {
                                link: format!(
                                    "/qualifications/{}",
                                    crate::app::catalogue::qan_slug(&r.qan)
                                ),
                                cells: vec![title, r.centre_name, units, r.registered_at],
                            }
                        })
                        .collect(),
                    actions: vec![
                        (
                            "Your portfolio".into(),
                            format!("/learners/{learner}/portfolio"),
                        ),
                        (
                            "Add evidence".into(),
                            format!("/learners/{learner}/evidence/new"),
                        ),
                        ("Your record".into(), format!("/learners/{learner}")),
                    ],
                });
            }
            _ => {}
        }
    }
    let transfers = if actor.active.as_ref().is_some_and(|g| g.role == "ao_staff") {
        app.transfers_to_decide(actor)
            .await?
            .into_iter()
            .map(|t| {
                (
                    t.transfer_id,
                    format!(
                        "{} {}, {}: from {} to {}, asked {}. Reason: {}",
                        t.given_name,
                        t.family_name,
                        t.qan,
                        t.from_centre_name,
                        t.to_centre_name,
                        t.requested_at.chars().take(10).collect::<String>(),
                        t.reason
                    ),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let invite_ao = actor
        .active
        .as_ref()
        .filter(|g| g.role == "ao_staff")
        .and_then(|g| g.ao_code.clone());
    Ok(render_status(
        error.is_some(),
        &Dashboard {
            title: "Your work".into(),
            has_error: error.is_some(),
            name: actor.name.clone(),
            csrf: csrf_of(actor),
            grants,
            sections,
            invite_ao,
            notice,
            error,
            transfers,
            needs_second_factor: crate::app::second_factor::required_for(actor)
                && !actor.second_factor,
        },
    ))
}

#[derive(Deserialize)]
struct ContextForm {
    grant: i64,
}

async fn switch_context(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Form(f): Form<ContextForm>,
) -> Result<Response, PageError> {
    app.switch_context(&actor, f.grant).await?;
    Ok(Redirect::to("/home").into_response())
}

// --- tokens -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    new_token: Option<String>,
    tokens: Vec<(i64, String, String, Option<String>)>,
}

async fn tokens_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    new_token: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    Ok(render_status(
        error.is_some(),
        &TokensPage {
            title: "API tokens".into(),
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            new_token,
            tokens: app
                .store
                .api_tokens(actor.person_id)
                .await
                .map_err(AppError::from)?,
        },
    ))
}

async fn tokens(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    tokens_page(&app, &actor, None, None).await
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
}

async fn create_token(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Form(f): Form<TokenForm>,
) -> Result<Response, PageError> {
    match app.create_api_token(&actor, &f.name).await {
        Ok(t) => tokens_page(&app, &actor, Some(t), None).await,
        Err(AppError::Validation(m)) => tokens_page(&app, &actor, None, Some(m)).await,
        Err(e) => Err(e.into()),
    }
}

async fn revoke_token(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    app.revoke_api_token(&actor, id).await?;
    Ok(Redirect::to("/account/tokens").into_response())
}

// --- centres ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "centres.html")]
struct CentresPage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    can_create: bool,
    /// (id, name, AOs, my roles)
    centres: Vec<(i64, String, String, String)>,
}

async fn centres_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    error: Option<String>,
) -> Result<Response, PageError> {
    let list = app.visible_centres(actor).await?;
    Ok(render_status(
        error.is_some(),
        &CentresPage {
            title: "Centres".into(),
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            can_create: actor.has_role("ao_staff"),
            centres: list
                .into_iter()
                .map(|c| {
                    (
                        c.centre.centre_id,
                        c.centre.name,
                        c.aos
                            .iter()
                            .map(|a| a.ao_code.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                        c.my_roles.join(", "),
                    )
                })
                .collect(),
        },
    ))
}

async fn centres(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    centres_page(&app, &actor, None).await
}

#[derive(Deserialize)]
struct CentreForm {
    name: String,
}

async fn create_centre(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<CentreForm>,
) -> Result<Response, PageError> {
    match app
        .create_centre(&actor, &f.name, &client_address(&headers))
        .await
    {
        Ok(id) => Ok(Redirect::to(&format!("/centres/{id}")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            centres_page(&app, &actor, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

struct CentreView {
    id: i64,
    name: String,
    /// (AO, direct claim status)
    aos: Vec<(String, bool)>,
    my_aos: Vec<String>,
    oversee: bool,
    admin: bool,
    /// (title, slug, QAN, approved at)
    approvals: Vec<(String, String, String, String)>,
    /// (QAN, title) the actor may approve the centre for
    approvable: Vec<(String, String)>,
    registration_count: i64,
    /// (learner id, name, ULN, QAN, registered)
    registrations: Vec<(i64, String, String, String, String)>,
    /// (name, role, competence, flags)
    staff: Vec<(String, String, String, Vec<String>)>,
    /// "name (AO)" of the EQAs appointed
    eqas: Vec<String>,
    /// (person, name) EQAs of the actor's AO not yet appointed here
    appointable: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "centre.html")]
struct CentrePage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
    c: CentreView,
}

async fn centre_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    id: i64,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let centre = app.centre(id).await?;
    let aos = app.store.centre_aos(id).await.map_err(AppError::from)?;
    let oversee = super::access::oversees(app, actor, id).await;
    let cat = app.catalogue().await?;
    let approvals = app.approvals(id).await?;
    let my_aos: Vec<String> = actor.ao_codes().into_iter().map(str::to_string).collect();
    let approvable = cat
        .qualifications()
        .filter(|(cs, q)| {
            my_aos.contains(&cs.spec.awarding_organisation.code)
                && !approvals.iter().any(|a| a.qan == q.qan)
        })
        .map(|(_, q)| (q.qan.clone(), q.title.clone()))
        .collect();
    let mut staff = Vec::new();
    for s in app.store.centre_staff(id).await.map_err(AppError::from)? {
        let Some(kind) = crate::app::competence::staff_role(&s.role) else {
            continue;
        };
        let record = app.competence(s.person_id).await?;
        let summary = record
            .as_ref()
            .map(|r| {
                format!(
                    "Level {}, {} award(s), {} CPD entries",
                    r.occupational_level,
                    r.awards.len(),
                    r.cpd.len()
                )
            })
            .unwrap_or_else(|| "Not recorded".into());
        staff.push((
            s.display_name,
            role_name(&s.role).to_string(),
            summary,
            app.competence_flags(s.person_id, kind).await?,
        ));
    }
    let appointed = app.store.centre_eqas(id).await.map_err(AppError::from)?;
    let mut appointable = Vec::new();
    if let Some(ao) = actor.ao_codes().first() {
        for (p, name) in app.store.eqas_of(ao).await.map_err(AppError::from)? {
            if !appointed.iter().any(|(q, _, a)| *q == p && a == ao) {
                appointable.push((p, name));
            }
        }
    }
    let view = CentreView {
        eqas: appointed
            .iter()
            .map(|(_, n, a)| format!("{n} ({a})"))
            .collect(),
        appointable,
        staff,
        id,
        name: centre.name.clone(),
        aos: aos
            .iter()
            .map(|a| (a.ao_code.clone(), a.direct_claim_status == 1))
            .collect(),
        my_aos,
        oversee,
        admin: actor.centre_roles(id).contains(&"centre_admin"),
        approvals: approvals
            .iter()
            .map(|a| {
                let title = cat
                    .qualification(&a.qan)
                    .map(|(_, q)| q.title.clone())
                    .unwrap_or_else(|| a.qan.clone());
                (
                    title,
                    crate::app::catalogue::qan_slug(&a.qan),
                    a.qan.clone(),
                    a.created_at.clone(),
                )
            })
            .collect(),
        approvable,
        registration_count: app
            .store
            .count_registrations(id)
            .await
            .map_err(AppError::from)?,
        registrations: app
            .store
            .registrations_at_centre(id, 200)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|r| {
                (
                    r.learner_id,
                    format!("{} {}", r.given_name, r.family_name),
                    r.uln.unwrap_or_default(),
                    r.qan,
                    r.registered_at,
                )
            })
            .collect(),
    };
    Ok(render_status(
        error.is_some(),
        &CentrePage {
            title: centre.name,
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            notice,
            c: view,
        },
    ))
}

async fn centre(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    centre_page(&app, &actor, id, None, None).await
}

#[derive(Deserialize)]
struct ApproveForm {
    qan: String,
}

async fn approve(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ApproveForm>,
) -> Result<Response, PageError> {
    match app
        .approve_centre(&actor, id, &f.qan, &client_address(&headers))
        .await
    {
        Ok(_) => {
            centre_page(
                &app,
                &actor,
                id,
                None,
                Some(format!("Approved for {}.", f.qan)),
            )
            .await
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            centre_page(&app, &actor, id, Some(e.to_string()), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct DcsForm {
    ao: String,
    granted: String,
}

async fn direct_claim(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<DcsForm>,
) -> Result<Response, PageError> {
    let granted = f.granted == "yes";
    match app
        .set_direct_claim_status(&actor, id, &f.ao, granted, &client_address(&headers))
        .await
    {
        Ok(()) => {
            centre_page(
                &app,
                &actor,
                id,
                None,
                Some(format!(
                    "Direct claim status for {} {}.",
                    f.ao,
                    if granted { "granted" } else { "withdrawn" }
                )),
            )
            .await
        }
        Err(e @ AppError::Validation(_)) => {
            centre_page(&app, &actor, id, Some(e.to_string()), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    title: String,
    has_error: bool,
    centre_id: i64,
    centre_name: String,
    /// (seq, at, who, from, action, subject, detail)
    entries: Vec<(i64, String, String, String, String, String, String)>,
}

async fn audit(State(app): State<AppState>, Path(id): Path<i64>) -> Result<Response, PageError> {
    let centre = app.centre(id).await?;
    let entries = app
        .store
        .audit_entries(Some(id), 500)
        .await
        .map_err(AppError::from)?;
    Ok(render(&AuditPage {
        title: format!("Audit log: {}", centre.name),
        has_error: false,
        centre_id: id,
        centre_name: centre.name,
        entries: entries
            .into_iter()
            .map(|e| {
                (
                    e.seq,
                    e.at,
                    e.actor.unwrap_or_default(),
                    e.address.unwrap_or_default(),
                    e.action,
                    e.subject,
                    e.detail,
                )
            })
            .collect(),
    }))
}

// --- registration -------------------------------------------------------------------------

pub use crate::app::registration::RegisterForm;

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    title: String,
    has_error: bool,
    csrf: String,
    centre_id: i64,
    centre_name: String,
    summary: String,
    /// (field id, message)
    errors: Vec<(String, String)>,
    notice: Option<String>,
    form: RegisterForm,
    /// (QAN, title) the centre is approved for
    qualifications: Vec<(String, String)>,
}

impl RegisterPage {
    /// The error message of one field, for the GOV.UK error pattern beside it.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

async fn register_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    id: i64,
    form: RegisterForm,
    summary: String,
    errors: Vec<(String, String)>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let centre = app.centre(id).await?;
    let cat = app.catalogue().await?;
    let qualifications = app
        .approvals(id)
        .await?
        .into_iter()
        .map(|a| {
            let t = cat
                .qualification(&a.qan)
                .map(|(_, q)| q.title.clone())
                .unwrap_or_default();
            (a.qan, t)
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        render(&RegisterPage {
            title: format!("Register learners: {}", centre.name),
            has_error: !errors.is_empty(),
            csrf: csrf_of(actor),
            centre_id: id,
            centre_name: centre.name,
            summary,
            errors,
            notice,
            form,
            qualifications,
        }),
    )
        .into_response())
}

async fn register_form(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    register_page(
        &app,
        &actor,
        id,
        RegisterForm::default(),
        String::new(),
        Vec::new(),
        None,
    )
    .await
}

async fn register_one(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<RegisterForm>,
) -> Result<Response, PageError> {
    let scope = app.centre_admin_scope(&actor, id).await?;
    match app
        .register_one(&scope, &f, &client_address(&headers))
        .await
    {
        Ok(learner) => Ok(Redirect::to(&format!("/learners/{learner}")).into_response()),
        Err(crate::app::registration::RegisterError::Fields(errors)) => {
            register_page(
                &app,
                &actor,
                id,
                f,
                "Check the learner's details".into(),
                errors,
                None,
            )
            .await
        }
        Err(crate::app::registration::RegisterError::App(e)) => Err(e.into()),
    }
}

async fn register_upload(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    mut form: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let mut bytes = None;
    let mut good_rows = false;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("file") => bytes = field.bytes().await.ok().map(|b| b.to_vec()),
            Some("good_rows") => good_rows = true,
            _ => {}
        }
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return register_page(
            &app,
            &actor,
            id,
            RegisterForm::default(),
            "Select a CSV file".into(),
            vec![("file".into(), "Select a CSV file".into())],
            None,
        )
        .await;
    };
    let scope = app.centre_admin_scope(&actor, id).await?;
    let outcome = app
        .register_csv(&scope, &bytes, good_rows, &client_address(&headers), |_| {})
        .await?;
    if outcome.registered == 0 || !outcome.errors.is_empty() && !good_rows {
        let summary = if outcome.errors.is_empty() {
            "The file has no learners to register.".to_string()
        } else {
            format!(
                "{} of {} rows have errors: nothing was registered. Correct the file, or tick 'register the good rows' to register the {} good rows.",
                outcome.bad_rows,
                outcome.rows,
                outcome.rows - outcome.bad_rows
            )
        };
        let errors = outcome
            .errors
            .iter()
            .map(|e| ("file".to_string(), e.clone()))
            .collect();
        return register_page(
            &app,
            &actor,
            id,
            RegisterForm::default(),
            summary,
            errors,
            None,
        )
        .await;
    }
    let notice = format!(
        "Registered {} learners.{}",
        outcome.registered,
        if outcome.bad_rows > 0 {
            format!(" {} rows with errors were left out.", outcome.bad_rows)
        } else {
            String::new()
        }
    );
    register_page(
        &app,
        &actor,
        id,
        RegisterForm::default(),
        String::new(),
        Vec::new(),
        Some(notice),
    )
    .await
}

// --- learners -----------------------------------------------------------------------------

struct RegView {
    id: i64,
    centre_id: i64,
    slug: String,
    title: String,
    centre: String,
    version: i64,
    registered: String,
    staff: String,
    /// ("person:role", label) the actor may assign
    assignable: Vec<(String, String)>,
    status: String,
    /// (centre id, name) the learner may move to, for the centre's administrators.
    transfer_to: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "learner.html")]
struct LearnerPage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
    name: String,
    uln: String,
    dob: String,
    registrations: Vec<RegView>,
    learner_id: i64,
    transfers: Vec<String>,
}

pub(super) async fn learner_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    id: i64,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let l = app
        .store
        .learner(id)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| PageError::from(AppError::NotFound(format!("learner {id}"))))?;
    let cat = app.catalogue().await?;
    let mut regs = Vec::new();
    // The learner sees all their registrations; staff those at centres they may see.
    for r in app
        .store
        .registrations_of_learner(id)
        .await
        .map_err(AppError::from)?
    {
        let visible =
            actor.learner_ids().contains(&id) || crate::app::authz::sees_registration(actor, &r);
        if !visible {
            continue;
        }
        let assigned = app
            .store
            .assignments(r.registration_id)
            .await
            .map_err(AppError::from)?;
        let staff = assigned
            .iter()
            .map(|a| {
                format!(
                    "{} ({})",
                    a.display_name,
                    if a.role == "iqa" { "IQA" } else { "assessor" }
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let assignable = if actor.centre_roles(r.centre_id).contains(&"centre_admin") {
            app.store
                .centre_staff(r.centre_id)
                .await
                .map_err(AppError::from)?
                .into_iter()
                .filter(|s| s.role == "assessor" || s.role == "iqa")
                .map(|s| {
                    (
                        format!("{}:{}", s.person_id, s.role),
                        format!(
                            "{} as {}",
                            s.display_name,
                            if s.role == "iqa" { "IQA" } else { "assessor" }
                        ),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let title = cat
            .qualification(&r.qan)
            .map(|(_, q)| q.title.clone())
            .unwrap_or_else(|| r.qan.clone());
        let mut transfer_to = Vec::new();
        if r.status != "transferred" && actor.centre_roles(r.centre_id).contains(&"centre_admin") {
            for c in app.store.centres().await.map_err(AppError::from)? {
                if c.centre_id != r.centre_id
                    && app
                        .store
                        .approvals(c.centre_id)
                        .await
                        .map_err(AppError::from)?
                        .iter()
                        .any(|a| a.qan == r.qan)
                {
                    transfer_to.push((c.centre_id, c.name));
                }
            }
        }
        regs.push(RegView {
            status: if r.status == "transferred" {
                "Transferred to another centre".into()
            } else {
                "Registered".into()
            },
            transfer_to,
            id: r.registration_id,
            centre_id: r.centre_id,
            slug: crate::app::catalogue::qan_slug(&r.qan),
            title,
            centre: r.centre_name,
            version: r.catalogue_version_id,
            registered: r.registered_at,
            staff,
            assignable,
        });
    }
    Ok(render_status(
        error.is_some(),
        &LearnerPage {
            title: format!("{} {}", l.given_name, l.family_name),
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            notice,
            name: format!("{} {}", l.given_name, l.family_name),
            uln: l.uln.unwrap_or_else(|| "None recorded".into()),
            dob: l.date_of_birth,
            registrations: regs,
            learner_id: id,
            transfers: app
                .store
                .transfers_of_learner(id)
                .await
                .map_err(AppError::from)?
                .into_iter()
                .map(|t| {
                    format!(
                        "{} from {} to {}: {}{}",
                        t.qan,
                        t.from_centre_name,
                        t.to_centre_name,
                        match t.status.as_str() {
                            "requested" => "waiting for the awarding organisation",
                            "approved" => "approved",
                            _ => "refused",
                        },
                        t.decision_note
                            .filter(|n| !n.is_empty())
                            .map(|n| format!(" ({n})"))
                            .unwrap_or_default()
                    )
                })
                .collect(),
        },
    ))
}

async fn learner(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let notice = (q.get("done").map(String::as_str) == Some("transfer"))
        .then(|| "Transfer requested: the awarding organisation will decide.".to_string());
    learner_page(&app, &actor, id, None, notice).await
}

#[derive(Deserialize)]
struct AssignForm {
    assignee: String,
}

async fn assign(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((centre, registration)): Path<(i64, i64)>,
    Form(f): Form<AssignForm>,
) -> Result<Response, PageError> {
    let reg = app
        .store
        .registration(registration)
        .await
        .map_err(AppError::from)?
        .filter(|r| r.centre_id == centre)
        .ok_or_else(|| {
            PageError::from(AppError::NotFound(format!("registration {registration}")))
        })?;
    let (person, role) = f
        .assignee
        .split_once(':')
        .and_then(|(p, r)| p.parse::<i64>().ok().map(|p| (p, r.to_string())))
        .ok_or_else(|| PageError::from(AppError::Validation("Choose who to assign".into())))?;
    match app
        .assign(
            &actor,
            centre,
            registration,
            person,
            &role,
            &client_address(&headers),
        )
        .await
    {
        Ok(()) => learner_page(&app, &actor, reg.learner_id, None, Some("Assigned.".into())).await,
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            learner_page(&app, &actor, reg.learner_id, Some(e.to_string()), None).await
        }
        Err(e) => Err(e.into()),
    }
}

// --- competence and interests -------------------------------------------------------------

#[derive(Template)]
#[template(path = "competence.html")]
struct CompetencePage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
    flags: Vec<String>,
    level: u8,
    /// (form key, title, status)
    awards: Vec<(usize, String, &'static str)>,
    cpd: Vec<(String, String, String)>,
    cpd_hours: String,
    interests: Vec<String>,
    /// (learner id, label) at the actor's centres
    learners: Vec<(i64, String)>,
}

async fn competence_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    use credence_domain::people::competence::{self as comp, AssessorAward, AwardStatus};
    let record = app
        .competence(actor.person_id)
        .await?
        .unwrap_or(comp::CompetenceRecord {
            occupational_level: 1,
            awards: Vec::new(),
            cpd: Vec::new(),
        });
    let today = chrono::Utc::now().date_naive();
    let mut flags = Vec::new();
    for (role, kind) in [
        ("assessor", comp::StaffRole::Assessor),
        ("iqa", comp::StaffRole::Iqa),
    ] {
        if actor.has_role(role) {
            flags.extend(app.competence_flags(actor.person_id, kind).await?);
        }
    }
    let awards = AssessorAward::NAMED
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let status = match record
                .awards
                .iter()
                .find(|h| &h.award == a)
                .map(|h| h.status)
            {
                Some(AwardStatus::Held) => "held",
                Some(AwardStatus::WorkingTowards) => "working_towards",
                None => "none",
            };
            (i, a.title().to_string(), status)
        })
        .collect();
    let mut cpd: Vec<_> = record.cpd.clone();
    cpd.sort_by_key(|c| std::cmp::Reverse(c.date));
    let mut learners = Vec::new();
    let centres: Vec<i64> = actor
        .grants
        .iter()
        .filter(|g| g.role != "learner")
        .filter_map(|g| g.centre_id)
        .collect();
    for c in centres {
        for r in app
            .store
            .registrations_at_centre(c, 500)
            .await
            .map_err(AppError::from)?
        {
            if !learners.iter().any(|(id, _)| *id == r.learner_id) {
                learners.push((
                    r.learner_id,
                    format!("{} {} ({})", r.given_name, r.family_name, r.centre_name),
                ));
            }
        }
    }
    let interests = app
        .store
        .interests(Some(actor.person_id), None)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .map(|i| {
            let kind: String =
                serde_json::from_str::<credence_domain::people::conflict::InterestKind>(&i.kind)
                    .map(|k| k.to_string())
                    .unwrap_or(i.kind);
            let who = learners
                .iter()
                .find(|(id, _)| *id == i.learner_id)
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| format!("learner {}", i.learner_id));
            format!("{who}: {kind}, declared {}", i.declared_on)
        })
        .collect();
    Ok(render_status(
        error.is_some(),
        &CompetencePage {
            title: "Your competence".into(),
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            notice,
            flags,
            level: record.occupational_level,
            awards,
            cpd_hours: format!("{:.1}", comp::cpd_hours_last_12_months(&record, today)),
            cpd: cpd
                .iter()
                .map(|c| {
                    (
                        c.date.format("%Y-%m-%d").to_string(),
                        format!("{:.1}", f64::from(c.minutes) / 60.0),
                        c.description.clone(),
                    )
                })
                .collect(),
            interests,
            learners,
        },
    ))
}

async fn competence(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    competence_page(&app, &actor, None, None).await
}

async fn save_competence(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    use credence_domain::people::competence::{
        AssessorAward, AwardHeld, AwardStatus, CompetenceRecord,
    };
    let mut record = app
        .competence(actor.person_id)
        .await?
        .unwrap_or(CompetenceRecord {
            occupational_level: 1,
            awards: Vec::new(),
            cpd: Vec::new(),
        });
    record.occupational_level = f.get("level").and_then(|l| l.parse().ok()).unwrap_or(0);
    record.awards = AssessorAward::NAMED
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let status = match f.get(&format!("award_{i}")).map(String::as_str) {
                Some("held") => AwardStatus::Held,
                Some("working_towards") => AwardStatus::WorkingTowards,
                _ => return None,
            };
            Some(AwardHeld {
                award: a.clone(),
                status,
            })
        })
        .collect();
    match app
        .set_competence(&actor, &record, &client_address(&headers))
        .await
    {
        Ok(()) => competence_page(&app, &actor, None, Some("Saved.".into())).await,
        Err(AppError::Validation(m)) => competence_page(&app, &actor, Some(m), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct CpdForm {
    date: String,
    hours: String,
    description: String,
}

async fn add_cpd(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<CpdForm>,
) -> Result<Response, PageError> {
    use credence_domain::people::competence::{CompetenceRecord, CpdEntry};
    let date = match credence_domain::people::registration::parse_date(&f.date) {
        Ok(d) => d,
        Err(e) => return competence_page(&app, &actor, Some(format!("Date: {e}")), None).await,
    };
    let Some(minutes) = f
        .hours
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|h| *h > 0.0)
        .map(|h| (h * 60.0).round() as u32)
    else {
        return competence_page(
            &app,
            &actor,
            Some("Hours: give how long the CPD took, for example 1.5".into()),
            None,
        )
        .await;
    };
    let mut record = app
        .competence(actor.person_id)
        .await?
        .unwrap_or(CompetenceRecord {
            occupational_level: 1,
            awards: Vec::new(),
            cpd: Vec::new(),
        });
    record.cpd.push(CpdEntry {
        date,
        minutes,
        description: f.description.trim().to_string(),
    });
    match app
        .set_competence(&actor, &record, &client_address(&headers))
        .await
    {
        Ok(()) => competence_page(&app, &actor, None, Some("CPD added.".into())).await,
        Err(AppError::Validation(m)) => competence_page(&app, &actor, Some(m), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct InterestForm {
    learner: i64,
    kind: String,
    #[serde(default)]
    note: String,
}

async fn declare_interest(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<InterestForm>,
) -> Result<Response, PageError> {
    match app
        .declare_interest(
            &actor,
            f.learner,
            &f.kind,
            &f.note,
            &client_address(&headers),
        )
        .await
    {
        Ok(()) => competence_page(
            &app,
            &actor,
            None,
            Some(
                "Interest declared: you will not assess, quality assure or moderate this learner."
                    .into(),
            ),
        )
        .await,
        Err(AppError::Validation(m)) => competence_page(&app, &actor, Some(m), None).await,
        Err(e) => Err(e.into()),
    }
}

// --- invitations --------------------------------------------------------------------------

#[derive(Deserialize)]
struct InviteForm {
    name: String,
    email: String,
    role: String,
}

async fn invite_staff(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(centre): Path<i64>,
    Form(f): Form<InviteForm>,
) -> Result<Response, PageError> {
    match app
        .invite(
            &actor,
            &f.email,
            &f.name,
            &f.role,
            None,
            Some(centre),
            &client_address(&headers),
        )
        .await
    {
        Ok(token) => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let link = format!("http://{host}/invitations/{token}");
            centre_page(
                &app,
                &actor,
                centre,
                None,
                Some(format!(
                    "Send {} this one-time link (it works for {} days): {link}",
                    f.email,
                    crate::app::people::INVITATION_DAYS
                )),
            )
            .await
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            centre_page(&app, &actor, centre, Some(e.to_string()), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    token: String,
    email: String,
    role: String,
    scope: String,
    existing: bool,
}

async fn invitation_page(
    app: &AppState,
    token: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let inv = app
        .store
        .invitation(&crate::app::people::token_hash(token))
        .await
        .map_err(AppError::from)?
        .filter(|i| i.accepted_at.is_none())
        .ok_or_else(|| {
            PageError::from(AppError::NotFound(
                "the invitation (it may have been used already)".into(),
            ))
        })?;
    let scope = match (&inv.ao_code, inv.centre_id) {
        (Some(ao), _) => format!(" for {ao}"),
        (_, Some(c)) => format!(" at {}", app.centre(c).await?.name),
        _ => String::new(),
    };
    Ok(render_status(
        error.is_some(),
        &InvitationPage {
            title: "Accept your invitation".into(),
            has_error: error.is_some(),
            error,
            token: token.to_string(),
            existing: app
                .store
                .person_by_email(&inv.email)
                .await
                .map_err(AppError::from)?
                .is_some(),
            email: inv.email,
            role: role_name(&inv.role).to_lowercase(),
            scope,
        },
    ))
}

async fn invitation(
    State(app): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    invitation_page(&app, &token, None).await
}

#[derive(Deserialize)]
struct AcceptForm {
    password: String,
}

async fn accept_invitation(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<AcceptForm>,
) -> Result<Response, PageError> {
    match app
        .accept_invitation(&token, &f.password, &client_address(&headers))
        .await
    {
        // They have a second factor: they sign in with it to use the new role.
        Ok(None) => Ok(Redirect::to("/sign-in?next=%2Fhome").into_response()),
        Ok(Some(session)) => {
            let cookie = format!(
                "{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
                crate::app::people::SESSION_HOURS * 3600
            );
            let mut res = Redirect::to("/home").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        Err(e @ (AppError::Validation(_) | AppError::Limited(_))) => {
            let status = super::status_of(&e);
            let page = invitation_page(&app, &token, Some(e.to_string())).await?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct EqaForm {
    person: i64,
}

async fn appoint_eqa(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<EqaForm>,
) -> Result<Response, PageError> {
    match app
        .appoint_eqa(&actor, id, f.person, &client_address(&headers))
        .await
    {
        Ok(()) => centre_page(&app, &actor, id, None, Some("EQA appointed.".into())).await,
        Err(e @ AppError::Validation(_)) => {
            centre_page(&app, &actor, id, Some(e.to_string()), None).await
        }
        Err(e) => Err(e.into()),
    }
}
