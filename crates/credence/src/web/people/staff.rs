//! People come and go: a member of staff's page for their centre's administrators (move
//! their learners, remove a role, disable the account), and a registration's withdrawal,
//! break and resumption. Every destructive step has its confirmation page.

use super::*;
use crate::app::leavers::StaffView;

/// A role whose learners can move: (role, label, who can take them, how many learners).
type Takers = (String, String, Vec<(i64, String)>, usize);

#[derive(Template)]
#[template(path = "staff.html")]
pub(super) struct StaffPage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
    centre_id: i64,
    centre_name: String,
    s: StaffView,
    /// (role, label, learners)
    roles: Vec<(String, String, usize)>,
    /// (role, label, takers, learners)
    takers: Vec<Takers>,
}

async fn staff_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    centre: i64,
    person: i64,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let s = app.staff_member(actor, centre, person).await?;
    let label = |r: &str| role_name(r).to_lowercase();
    let roles = s
        .roles
        .iter()
        .map(|(r, n)| (r.clone(), role_name(r).to_string(), *n))
        .collect();
    let takers = s
        .takers
        .iter()
        .map(|(r, t)| {
            let n = s
                .roles
                .iter()
                .find(|(x, _)| x == r)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            (r.clone(), label(r), t.clone(), n)
        })
        .collect();
    Ok(render_status(
        error.is_some(),
        &StaffPage {
            title: s.name.clone(),
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            notice,
            centre_id: centre,
            centre_name: app.centre(centre).await?.name,
            s,
            roles,
            takers,
        },
    ))
}

pub(super) async fn staff_member(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((centre, person)): Path<(i64, i64)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let notice = q.get("done").map(|d| {
        match d.as_str() {
            "moved" => "The learners were moved.",
            "removed" => "The role was removed.",
            "disabled" => "The account is disabled: they cannot sign in, and their sessions and API tokens have ended.",
            _ => "Done.",
        }
        .to_string()
    });
    staff_page(&app, &actor, centre, person, None, notice).await
}

#[derive(Deserialize)]
pub(super) struct ReassignForm {
    role: String,
    to: i64,
}

pub(super) async fn reassign(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((centre, person)): Path<(i64, i64)>,
    Form(f): Form<ReassignForm>,
) -> Result<Response, PageError> {
    match app
        .reassign_caseload(
            &actor,
            centre,
            person,
            f.to,
            &f.role,
            &client_address(&headers),
        )
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/centres/{centre}/staff/{person}?done=moved")).into_response(),
        ),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let status = crate::web::status_of(&e);
            let page = staff_page(&app, &actor, centre, person, Some(e.to_string()), None).await?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmPage {
    pub title: String,
    pub has_error: bool,
    pub csrf: String,
    pub error: Option<String>,
    pub error_field: String,
    pub caption: String,
    pub paragraphs: Vec<String>,
    pub warning: String,
    pub action: String,
    pub hidden: Vec<(String, String)>,
    pub ask_date: bool,
    pub ask_reason: bool,
    pub date: String,
    pub reason: String,
    pub button: String,
    pub danger: bool,
    pub cancel: String,
}

impl ConfirmPage {
    pub(crate) fn new(actor: &crate::app::people::Actor, title: String, action: String) -> Self {
        ConfirmPage {
            title,
            has_error: false,
            csrf: csrf_of(actor),
            error: None,
            error_field: String::new(),
            caption: String::new(),
            paragraphs: Vec::new(),
            warning: String::new(),
            action,
            hidden: Vec::new(),
            ask_date: false,
            ask_reason: false,
            date: String::new(),
            reason: String::new(),
            button: "Confirm".into(),
            danger: true,
            cancel: "/home".into(),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct RoleQuery {
    #[serde(default)]
    role: String,
}

pub(super) async fn remove_role_confirm(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((centre, person)): Path<(i64, i64)>,
    Query(q): Query<RoleQuery>,
) -> Result<Response, PageError> {
    let s = app.staff_member(&actor, centre, person).await?;
    let label = role_name(&q.role).to_lowercase();
    let mut page = ConfirmPage::new(
        &actor,
        format!("Remove {} as {label}?", s.name),
        format!("/centres/{centre}/staff/{person}/remove-role"),
    );
    page.caption = format!("Staff at {}", app.centre(centre).await?.name);
    page.paragraphs = vec![format!(
        "{} will no longer work as {label} at this centre. Their past decisions and signatures stay in the records. You can invite them again later.",
        s.name
    )];
    page.hidden = vec![("role".into(), q.role.clone())];
    page.button = "Remove the role".into();
    page.cancel = format!("/centres/{centre}/staff/{person}");
    Ok(render(&page))
}

#[derive(Deserialize)]
pub(super) struct RoleForm {
    role: String,
}

pub(super) async fn remove_role(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((centre, person)): Path<(i64, i64)>,
    Form(f): Form<RoleForm>,
) -> Result<Response, PageError> {
    match app
        .remove_staff_role(&actor, centre, person, &f.role, &client_address(&headers))
        .await
    {
        // With no role left here, their page is gone: back to the centre.
        Ok(()) => Ok(
            Redirect::to(&if app.staff_member(&actor, centre, person).await.is_ok() {
                format!("/centres/{centre}/staff/{person}?done=removed")
            } else {
                format!("/centres/{centre}")
            })
            .into_response(),
        ),
        Err(e @ AppError::Conflict(_)) => {
            let page = staff_page(&app, &actor, centre, person, Some(e.to_string()), None).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn disable_confirm(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((centre, person)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let s = app.staff_member(&actor, centre, person).await?;
    let mut page = ConfirmPage::new(
        &actor,
        format!("Disable {}'s account?", s.name),
        format!("/centres/{centre}/staff/{person}/disable"),
    );
    page.caption = format!("Staff at {}", app.centre(centre).await?.name);
    page.paragraphs = vec![
        format!(
            "{} will not be able to sign in. Every session and API token they hold ends at once.",
            s.name
        ),
        "Their decisions, signatures and the rest of the records stay as they are.".into(),
    ];
    page.button = "Disable the account".into();
    page.cancel = format!("/centres/{centre}/staff/{person}");
    Ok(render(&page))
}

pub(super) async fn disable(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((centre, person)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    match app
        .disable_staff(&actor, centre, person, &client_address(&headers))
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/centres/{centre}/staff/{person}?done=disabled"))
                .into_response(),
        ),
        Err(e @ AppError::Conflict(_)) => {
            let page = staff_page(&app, &actor, centre, person, Some(e.to_string()), None).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct StatusForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    effective_on: String,
    #[serde(default)]
    reason: String,
}

async fn status_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    centre: i64,
    registration: i64,
    f: &StatusForm,
    error: Option<String>,
) -> Result<Response, PageError> {
    app.centre_admin_scope(actor, centre).await?;
    let reg = app
        .store
        .registration(registration)
        .await
        .map_err(AppError::from)?
        .filter(|r| r.centre_id == centre)
        .ok_or_else(|| {
            PageError::from(AppError::NotFound(format!("registration {registration}")))
        })?;
    let name = format!("{} {}", reg.given_name, reg.family_name);
    let (title, button, paragraph) = match f.action.as_str() {
        "withdraw" => (
            format!("Withdraw {name} from {}?", reg.qan),
            "Withdraw the registration",
            "The learner leaves the qualification: nothing more is assessed or claimed under this registration. The portfolio is kept, and its retention period counts from this date.",
        ),
        "break" => (
            format!("Put {name}'s {} on a break in learning?", reg.qan),
            "Start the break",
            "The registration is paused: it is not counted as stalled, and it resumes where it stopped.",
        ),
        _ => (
            format!("Resume {name}'s {}?", reg.qan),
            "Resume the registration",
            "The break in learning ends and the work carries on where it stopped.",
        ),
    };
    let mut page = ConfirmPage::new(
        actor,
        title,
        format!("/centres/{centre}/registrations/{registration}/status"),
    );
    page.caption = name;
    page.paragraphs = vec![paragraph.to_string()];
    page.hidden = vec![("action".into(), f.action.clone())];
    page.ask_date = true;
    page.ask_reason = f.action != "resume";
    page.date = if f.effective_on.is_empty() {
        chrono::Utc::now().format("%d/%m/%Y").to_string()
    } else {
        f.effective_on.clone()
    };
    page.reason = f.reason.clone();
    page.button = button.into();
    page.danger = f.action == "withdraw";
    page.cancel = format!("/learners/{}", reg.learner_id);
    if let Some(e) = error {
        page.error_field = if e.starts_with("Date") {
            "effective_on".into()
        } else {
            "reason".into()
        };
        page.has_error = true;
        page.error = Some(e);
    }
    Ok(render_status(page.has_error, &page))
}

pub(super) async fn registration_status_confirm(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((centre, registration)): Path<(i64, i64)>,
    Query(f): Query<StatusForm>,
) -> Result<Response, PageError> {
    status_page(&app, &actor, centre, registration, &f, None).await
}

pub(super) async fn registration_status(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((centre, registration)): Path<(i64, i64)>,
    Form(f): Form<StatusForm>,
) -> Result<Response, PageError> {
    match app
        .change_registration(
            &actor,
            centre,
            registration,
            &f.action,
            &f.effective_on,
            &f.reason,
            &client_address(&headers),
        )
        .await
    {
        Ok(()) => {
            let reg = app
                .store
                .registration(registration)
                .await
                .map_err(AppError::from)?
                .ok_or_else(|| PageError::from(AppError::NotFound("the registration".into())))?;
            Ok(Redirect::to(&format!("/learners/{}?done=status", reg.learner_id)).into_response())
        }
        Err(e @ AppError::Validation(_)) => {
            status_page(&app, &actor, centre, registration, &f, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "ao_people.html")]
pub(super) struct AoPeoplePage {
    title: String,
    has_error: bool,
    error: Option<String>,
    notice: Option<String>,
    ao: String,
    /// (person, name, roles, account)
    people: Vec<(i64, String, String, String)>,
    person: Option<crate::app::leavers::AoPersonView>,
    /// (role, label) of the person shown.
    roles: Vec<(String, String)>,
}

async fn ao_people_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    person: Option<i64>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let (ao, people) = app.ao_people(actor).await?;
    let shown = match person {
        Some(id) => Some(
            people
                .iter()
                .find(|p| p.person_id == id)
                .cloned()
                .ok_or_else(|| PageError::from(AppError::NotFound(format!("person {id}"))))?,
        ),
        None => None,
    };
    let roles = shown
        .as_ref()
        .map(|p| {
            p.roles
                .iter()
                .map(|r| (r.clone(), role_name(r).to_string()))
                .collect()
        })
        .unwrap_or_default();
    Ok(render_status(
        error.is_some(),
        &AoPeoplePage {
            title: shown
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_else(|| "Staff and EQAs".into()),
            has_error: error.is_some(),
            error,
            notice,
            people: people
                .iter()
                .map(|p| {
                    (
                        p.person_id,
                        p.name.clone(),
                        p.roles
                            .iter()
                            .map(|r| role_name(r).to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                        if p.disabled { "Disabled" } else { "Active" }.to_string(),
                    )
                })
                .collect(),
            ao,
            person: shown,
            roles,
        },
    ))
}

pub(super) async fn ao_people(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    ao_people_page(&app, &actor, None, None, None).await
}

pub(super) async fn ao_person(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(person): Path<i64>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let notice = match q.get("done").map(String::as_str) {
        Some("removed") => Some("The role was removed.".to_string()),
        Some("disabled") => Some(
            "The account is disabled: they cannot sign in, and their sessions and API tokens have ended."
                .to_string(),
        ),
        _ => None,
    };
    ao_people_page(&app, &actor, Some(person), None, notice).await
}

pub(super) async fn ao_remove_role_confirm(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(person): Path<i64>,
    Query(q): Query<RoleQuery>,
) -> Result<Response, PageError> {
    let p = app.ao_person(&actor, person).await?;
    let label = role_name(&q.role).to_lowercase();
    let mut page = ConfirmPage::new(
        &actor,
        format!("Remove {} as {label}?", p.name),
        format!("/people/{person}/remove-role"),
    );
    page.paragraphs = vec![format!(
        "{} will no longer work as {label}. An EQA's appointments to centres end with the role. Their past reports and decisions stay in the records.",
        p.name
    )];
    page.hidden = vec![("role".into(), q.role.clone())];
    page.button = "Remove the role".into();
    page.cancel = format!("/people/{person}");
    Ok(render(&page))
}

pub(super) async fn ao_remove_role(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(person): Path<i64>,
    Form(f): Form<RoleForm>,
) -> Result<Response, PageError> {
    match app
        .remove_ao_role(&actor, person, &f.role, &client_address(&headers))
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&if app.ao_person(&actor, person).await.is_ok() {
                format!("/people/{person}?done=removed")
            } else {
                "/people".to_string()
            })
            .into_response(),
        ),
        Err(e @ AppError::Conflict(_)) => {
            let page =
                ao_people_page(&app, &actor, Some(person), Some(e.to_string()), None).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn ao_disable_confirm(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(person): Path<i64>,
) -> Result<Response, PageError> {
    let p = app.ao_person(&actor, person).await?;
    let mut page = ConfirmPage::new(
        &actor,
        format!("Disable {}'s account?", p.name),
        format!("/people/{person}/disable"),
    );
    page.paragraphs = vec![
        format!(
            "{} will not be able to sign in. Every session and API token they hold ends at once.",
            p.name
        ),
        "Their reports, decisions and the rest of the records stay as they are.".into(),
    ];
    page.button = "Disable the account".into();
    page.cancel = format!("/people/{person}");
    Ok(render(&page))
}

pub(super) async fn ao_disable(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(person): Path<i64>,
) -> Result<Response, PageError> {
    match app
        .disable_ao_person(&actor, person, &client_address(&headers))
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/people/{person}?done=disabled")).into_response()),
        Err(e @ AppError::Conflict(_)) => {
            let page =
                ao_people_page(&app, &actor, Some(person), Some(e.to_string()), None).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
