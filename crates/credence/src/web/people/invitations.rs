//! Invitations: inviting centre staff, and accepting an invitation.

use super::*;

#[derive(Deserialize)]
pub(super) struct InviteForm {
    name: String,
    email: String,
    role: String,
}

pub(super) async fn invite_staff(
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
        Ok(_) => {
            centre_page(
                &app,
                &actor,
                centre,
                None,
                Some(format!(
                    "We have emailed an invitation to {}. Its link works once, for {} days.",
                    f.email.trim(),
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
pub(super) struct InvitationPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    token: String,
    email: String,
    role: String,
    scope: String,
    existing: bool,
}

pub(super) async fn invitation_page(
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

pub(super) async fn invitation(
    State(app): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    invitation_page(&app, &token, None).await
}

#[derive(Deserialize)]
pub(super) struct AcceptForm {
    password: String,
}

pub(super) async fn accept_invitation(
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
            let status = crate::web::status_of(&e);
            let page = invitation_page(&app, &token, Some(e.to_string())).await?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct EqaForm {
    person: i64,
}

pub(super) async fn appoint_eqa(
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
