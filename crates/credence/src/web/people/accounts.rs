//! One's own account by email: password reset, and what to be emailed about.

use super::*;

#[derive(Template)]
#[template(path = "password_reset.html")]
pub(super) struct ResetPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    /// The field the error is about.
    field: &'static str,
    notice: Option<String>,
    email: String,
    /// The link's token, when asking for the new password.
    token: Option<String>,
    show_form: bool,
}

impl ResetPage {
    fn request(email: String, error: Option<String>, notice: Option<String>) -> ResetPage {
        ResetPage {
            title: "Reset your password".into(),
            has_error: error.is_some(),
            show_form: notice.is_none(),
            error,
            field: "email",
            notice,
            email,
            token: None,
        }
    }
}

pub(super) async fn reset_form() -> Result<Response, PageError> {
    Ok(render(&ResetPage::request(String::new(), None, None)))
}

#[derive(Deserialize)]
pub(super) struct ResetRequestForm {
    #[serde(default)]
    email: String,
}

pub(super) async fn request_reset(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<ResetRequestForm>,
) -> Result<Response, PageError> {
    match app
        .request_password_reset(&f.email, &client_address(&headers))
        .await
    {
        Ok(()) => Ok(render(&ResetPage::request(
            String::new(),
            None,
            Some(format!(
                "If {} has an account, we have emailed it a link to choose a new password. The link works once, for an hour. Check your spam folder if it has not arrived in a few minutes.",
                f.email.trim()
            )),
        ))),
        Err(e @ AppError::Validation(_)) => Ok(render_status(
            true,
            &ResetPage::request(f.email, Some(e.to_string()), None),
        )),
        Err(e) => Err(e.into()),
    }
}

fn new_password_page(token: &str, error: Option<String>) -> ResetPage {
    ResetPage {
        title: "Choose a new password".into(),
        has_error: error.is_some(),
        error,
        field: "password",
        notice: None,
        email: String::new(),
        token: Some(token.to_string()),
        show_form: true,
    }
}

pub(super) async fn reset_link(
    State(app): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match app.password_reset_valid(&token).await {
        Ok(()) => Ok(render(&new_password_page(&token, None))),
        Err(e @ AppError::Conflict(_)) => Ok((
            StatusCode::GONE,
            render(&ResetPage::request(
                String::new(),
                Some(e.to_string()),
                None,
            )),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct NewPasswordForm {
    #[serde(default)]
    password: String,
}

pub(super) async fn reset_password(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<NewPasswordForm>,
) -> Result<Response, PageError> {
    match app
        .reset_password(&token, &f.password, &client_address(&headers))
        .await
    {
        Ok(()) => Ok(Redirect::to("/sign-in?reset=done").into_response()),
        Err(e @ AppError::Validation(_)) => Ok(render_status(
            true,
            &new_password_page(&token, Some(format!("New password: {e}"))),
        )),
        Err(e @ AppError::Conflict(_)) => Ok((
            StatusCode::GONE,
            render(&ResetPage::request(
                String::new(),
                Some(e.to_string()),
                None,
            )),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "account_email.html")]
pub(super) struct EmailSettingsPage {
    title: String,
    has_error: bool,
    csrf: String,
    email: String,
    events: bool,
    notice: Option<String>,
}

async fn email_settings_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    notice: Option<String>,
) -> Result<Response, PageError> {
    Ok(render(&EmailSettingsPage {
        title: "Email settings".into(),
        has_error: false,
        csrf: csrf_of(actor),
        email: actor.email.clone(),
        events: app.event_emails(actor).await?,
        notice,
    }))
}

pub(super) async fn email_settings(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    email_settings_page(&app, &actor, None).await
}

#[derive(Deserialize)]
pub(super) struct EmailSettingsForm {
    #[serde(default)]
    events: String,
}

pub(super) async fn save_email_settings(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<EmailSettingsForm>,
) -> Result<Response, PageError> {
    let on = f.events != "off";
    app.set_event_emails(&actor, on, &client_address(&headers))
        .await?;
    email_settings_page(
        &app,
        &actor,
        Some(if on {
            "Saved: we will email you when something needs you.".into()
        } else {
            "Saved: what needs you shows on your home page only.".into()
        }),
    )
    .await
}
