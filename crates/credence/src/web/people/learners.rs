//! A learner's page: registrations, assignments, transfers.

use super::*;

pub(super) struct RegView {
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
    /// The centre's assessors and IQAs who cannot be assigned, and why.
    not_offered: Vec<String>,
    status: String,
    /// (centre id, name) the learner may move to, for the centre's administrators.
    transfer_to: Vec<(i64, String)>,
    /// (label, link): withdraw, break, resume, for the centre's administrators.
    status_actions: Vec<(String, String)>,
    /// The transfer form as typed (centre id, reason), kept after a problem.
    typed_to: String,
    typed_reason: String,
}

/// A transfer request as typed: (registration, centre chosen, reason).
pub(crate) type TypedTransfer = (i64, String, String);

#[derive(Template)]
#[template(path = "learner.html")]
pub(super) struct LearnerPage {
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
    /// For a centre administrator: the centre to invite the learner from, and whether they
    /// can already sign in.
    invite_centre: Option<i64>,
    has_sign_in: bool,
    email: String,
}

pub(crate) async fn learner_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    id: i64,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    learner_page_with(app, actor, id, error, notice, None).await
}

/// The learner's page, with a transfer request as it was typed.
pub(crate) async fn learner_page_with(
    app: &AppState,
    actor: &crate::app::people::Actor,
    id: i64,
    error: Option<String>,
    notice: Option<String>,
    typed: Option<TypedTransfer>,
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
        // Offered: the centre's assessors and IQAs not already assigned in that role whom
        // the assignment's own checks clear (role here, competence, interests).
        let mut assignable = Vec::new();
        let mut not_offered = Vec::new();
        if actor.centre_roles(r.centre_id).contains(&"centre_admin") && r.status != "transferred" {
            let staff = app
                .store
                .centre_staff(r.centre_id)
                .await
                .map_err(AppError::from)?;
            for s in staff
                .into_iter()
                .filter(|s| s.role == "assessor" || s.role == "iqa")
            {
                if assigned
                    .iter()
                    .any(|a| a.person_id == s.person_id && a.role == s.role)
                {
                    continue;
                }
                match app.assignment_refusal(&r, s.person_id, &s.role).await? {
                    None => assignable.push((
                        format!("{}:{}", s.person_id, s.role),
                        format!(
                            "{} as {}",
                            s.display_name,
                            if s.role == "iqa" { "IQA" } else { "assessor" }
                        ),
                    )),
                    Some(why) => not_offered.push(why),
                }
            }
        }
        let title = cat
            .programme(&r.qan)
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
        let admin_here = actor.centre_roles(r.centre_id).contains(&"centre_admin");
        let events = app
            .store
            .registration_events(r.registration_id)
            .await
            .map_err(AppError::from)?;
        let last = events.last();
        let since = |e: Option<&crate::store::RegistrationEventRow>| {
            e.map(|e| {
                let day = chrono::NaiveDate::parse_from_str(&e.effective_on, "%Y-%m-%d")
                    .map(|d| d.format("%-d %B %Y").to_string())
                    .unwrap_or_else(|_| e.effective_on.clone());
                format!(" from {day}: {}", e.reason)
            })
            .unwrap_or_default()
        };
        let status_actions: Vec<(String, String)> = if admin_here {
            let link = |a: &str| {
                format!(
                    "/centres/{}/registrations/{}/status?action={a}",
                    r.centre_id, r.registration_id
                )
            };
            match r.status.as_str() {
                "registered" => vec![
                    ("Break in learning".into(), link("break")),
                    ("Withdraw".into(), link("withdraw")),
                ],
                "on_break" => vec![
                    ("Resume".into(), link("resume")),
                    ("Withdraw".into(), link("withdraw")),
                ],
                _ => Vec::new(),
            }
        } else {
            Vec::new()
        };
        regs.push(RegView {
            status_actions,
            status: match r.status.as_str() {
                "transferred" => "Transferred to another centre".into(),
                "withdrawn" => format!("Withdrawn{}", since(last)),
                "on_break" => format!("On a break in learning{}", since(last)),
                _ => "Registered".into(),
            },
            transfer_to,
            id: r.registration_id,
            centre_id: r.centre_id,
            slug: crate::app::catalogue::qan_slug(&r.qan),
            title,
            centre: r.centre_name,
            version: r.catalogue_version_id,
            registered: crate::web::format::uk_date(&r.registered_at),
            staff,
            assignable,
            not_offered,
            typed_to: typed
                .as_ref()
                .filter(|t| t.0 == r.registration_id)
                .map(|t| t.1.clone())
                .unwrap_or_default(),
            typed_reason: typed
                .as_ref()
                .filter(|t| t.0 == r.registration_id)
                .map(|t| t.2.clone())
                .unwrap_or_default(),
        });
    }
    let invite_centre = regs
        .iter()
        .map(|r| r.centre_id)
        .find(|c| actor.centre_roles(*c).contains(&"centre_admin"));
    let has_sign_in = app
        .store
        .learner_has_sign_in(id)
        .await
        .map_err(AppError::from)?;
    Ok(render_status(
        error.is_some(),
        &LearnerPage {
            invite_centre,
            has_sign_in,
            email: l.email.clone().unwrap_or_default(),
            title: format!("{} {}", l.given_name, l.family_name),
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            notice,
            name: format!("{} {}", l.given_name, l.family_name),
            uln: l.uln.unwrap_or_else(|| "None recorded".into()),
            dob: crate::web::format::uk_date(&l.date_of_birth),
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

pub(super) async fn learner(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let notice = match q.get("done").map(String::as_str) {
        Some("transfer") => {
            Some("Transfer requested: the awarding organisation will decide.".to_string())
        }
        Some("status") => Some("The registration's status is changed and recorded.".to_string()),
        Some("invited") => Some(format!(
            "We have emailed an invitation to sign in. Its link works once, for {} days.",
            crate::app::people::INVITATION_DAYS
        )),
        _ => None,
    };
    learner_page(&app, &actor, id, None, notice).await
}

#[derive(Deserialize)]
pub(super) struct AssignForm {
    assignee: String,
}

pub(super) async fn assign(
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

#[derive(Deserialize)]
pub(super) struct LearnerInviteForm {
    #[serde(default)]
    email: String,
}

/// A centre administrator invites a registered learner to sign in.
pub(super) async fn invite_learner(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((centre, learner)): Path<(i64, i64)>,
    Form(f): Form<LearnerInviteForm>,
) -> Result<Response, PageError> {
    match app
        .invite_learner(
            &actor,
            centre,
            learner,
            Some(f.email.as_str()),
            &client_address(&headers),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/learners/{learner}?done=invited")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let status = crate::web::status_of(&e);
            let page = learner_page(&app, &actor, learner, Some(e.to_string()), None).await?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
