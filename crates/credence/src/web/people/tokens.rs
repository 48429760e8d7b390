//! Personal API tokens.

use super::*;

#[derive(Template)]
#[template(path = "tokens.html")]
pub(super) struct TokensPage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    new_token: Option<String>,
    tokens: Vec<(i64, String, String, Option<String>)>,
    /// The new token's name as typed, kept after a problem.
    typed: String,
}

pub(super) async fn tokens_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    new_token: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    tokens_page_with(app, actor, new_token, error, String::new()).await
}

async fn tokens_page_with(
    app: &AppState,
    actor: &crate::app::people::Actor,
    new_token: Option<String>,
    error: Option<String>,
    typed: String,
) -> Result<Response, PageError> {
    Ok(render_status(
        error.is_some(),
        &TokensPage {
            title: "API tokens".into(),
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            new_token,
            typed,
            tokens: app
                .store
                .api_tokens(actor.person_id)
                .await
                .map_err(AppError::from)?
                .into_iter()
                .map(|(id, name, created, revoked)| {
                    (
                        id,
                        name,
                        crate::web::format::uk_date_time(&created),
                        revoked.as_deref().map(crate::web::format::uk_date_time),
                    )
                })
                .collect(),
        },
    ))
}

pub(super) async fn tokens(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    tokens_page(&app, &actor, None, None).await
}

#[derive(Deserialize)]
pub(super) struct TokenForm {
    name: String,
}

pub(super) async fn create_token(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Form(f): Form<TokenForm>,
) -> Result<Response, PageError> {
    match app.create_api_token(&actor, &f.name).await {
        Ok(t) => tokens_page(&app, &actor, Some(t), None).await,
        Err(AppError::Validation(m)) => {
            tokens_page_with(&app, &actor, None, Some(m), f.name.clone()).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn revoke_token(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    app.revoke_api_token(&actor, id).await?;
    Ok(Redirect::to("/account/tokens").into_response())
}

#[derive(Template)]
#[template(path = "token_revoke.html")]
pub(super) struct RevokePage {
    title: String,
    has_error: bool,
    csrf: String,
    id: i64,
    name: String,
    created: String,
}

/// The confirmation step before a token is revoked (the tokens page links here; the form
/// here revokes). Only the person's own active tokens.
pub(super) async fn revoke_confirm(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (_, name, created, _) = app
        .store
        .api_tokens(actor.person_id)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .find(|t| t.0 == id && t.3.is_none())
        .ok_or_else(|| PageError::from(AppError::NotFound(format!("active token {id}"))))?;
    Ok(render(&RevokePage {
        title: format!("Revoke the token {name}"),
        has_error: false,
        csrf: csrf_of(&actor),
        id,
        name,
        created: crate::web::format::uk_date_time(&created),
    }))
}
