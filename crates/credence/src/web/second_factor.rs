//! Pages of the second factor: setting it up (`/account/second-factor`) and the second step
//! of signing in (`/sign-in/second-factor`).

use super::AppState;
use super::access::{CurrentActor, SESSION_COOKIE, client_address, cookie, csrf_token};
use super::pages::{PageError, render_status};
use super::people::safe_next;
use crate::app::AppError;
use crate::app::people::SignInError;
use crate::app::second_factor::{CHALLENGE_MINUTES, Enrolment};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

/// The cookie that carries a sign-in waiting for its second factor.
pub const CHALLENGE_COOKIE: &str = "credence_challenge";

pub fn router() -> axum::Router<AppState> {
    let r = axum::Router::new();
    let r = super::access::route(
        r,
        "/sign-in/second-factor",
        get(code_form).post(code_submit),
    );
    super::access::route(r, "/account/second-factor", get(account).post(confirm))
}

/// The cookie setting for a challenge (or its removal, with `None`).
pub fn challenge_cookie(token: Option<&str>) -> HeaderValue {
    let v = match token {
        Some(t) => format!(
            "{CHALLENGE_COOKIE}={t}; Path=/sign-in; HttpOnly; SameSite=Lax; Max-Age={}",
            CHALLENGE_MINUTES * 60
        ),
        None => format!("{CHALLENGE_COOKIE}=; Path=/sign-in; HttpOnly; SameSite=Lax; Max-Age=0"),
    };
    HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static(""))
}

#[derive(Template)]
#[template(path = "second_factor_sign_in.html")]
struct CodePage {
    title: String,
    has_error: bool,
    error: Option<String>,
    next: String,
    minutes: i64,
}

#[derive(Deserialize)]
struct NextParam {
    next: Option<String>,
}

fn code_page(status: StatusCode, error: Option<String>, next: String) -> Response {
    render_status(
        error.is_some(),
        &CodePage {
            title: "Enter your code".into(),
            has_error: error.is_some(),
            error,
            next,
            minutes: CHALLENGE_MINUTES,
        },
    )
    .map_status(status)
}

trait MapStatus {
    fn map_status(self, status: StatusCode) -> Response;
}

impl MapStatus for Response {
    fn map_status(mut self, status: StatusCode) -> Response {
        if status != StatusCode::OK {
            *self.status_mut() = status;
        }
        self
    }
}

async fn code_form(Query(p): Query<NextParam>) -> Response {
    code_page(StatusCode::OK, None, safe_next(p.next.as_deref()))
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
    next: Option<String>,
}

async fn code_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let Some(challenge) = cookie(&headers, CHALLENGE_COOKIE) else {
        return Redirect::to("/sign-in").into_response();
    };
    match app
        .sign_in_second_factor(&challenge, &f.code, &client_address(&headers))
        .await
    {
        Ok((token, _)) => {
            let mut res = Redirect::to(&next).into_response();
            let secure = headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"));
            let session = format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
                crate::app::people::SESSION_HOURS * 3600,
                if secure { "; Secure" } else { "" }
            );
            if let Ok(v) = HeaderValue::from_str(&session) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res.headers_mut()
                .append(header::SET_COOKIE, challenge_cookie(None));
            res
        }
        Err(SignInError::Wrong) => code_page(
            StatusCode::UNAUTHORIZED,
            Some("That code is not right: enter the 6 digits your app shows now, or a recovery code you have not used".into()),
            next,
        ),
        Err(SignInError::Limited) => code_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many wrong codes: wait 15 minutes and sign in again".into()),
            next,
        ),
        Err(SignInError::Other(AppError::Conflict(m))) => {
            let mut res = code_page(StatusCode::CONFLICT, Some(m), next);
            res.headers_mut()
                .append(header::SET_COOKIE, challenge_cookie(None));
            res
        }
        Err(SignInError::Other(e)) => PageError::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct AccountPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    csrf: String,
    confirmed: bool,
    required: bool,
    codes_left: i64,
    enrolment: Option<Enrolment>,
    codes: Vec<String>,
}

async fn account_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    error: Option<String>,
    codes: Vec<String>,
) -> Result<Response, PageError> {
    let status = app.second_factor_status(actor).await?;
    let enrolment = if status.confirmed {
        None
    } else {
        Some(app.begin_second_factor(actor).await?)
    };
    Ok(render_status(
        error.is_some(),
        &AccountPage {
            title: "Second factor".into(),
            has_error: error.is_some(),
            error,
            csrf: csrf_token(),
            confirmed: status.confirmed,
            required: status.required,
            codes_left: status.recovery_codes_left,
            enrolment,
            codes,
        },
    ))
}

async fn account(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    account_page(&app, &actor, None, Vec::new()).await
}

#[derive(Deserialize)]
struct ConfirmForm {
    code: String,
}

async fn confirm(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    match app
        .confirm_second_factor(&actor, &f.code, &client_address(&headers))
        .await
    {
        Ok(codes) => account_page(&app, &actor, None, codes).await,
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let status = super::status_of(&e);
            Ok(account_page(&app, &actor, Some(e.to_string()), Vec::new())
                .await?
                .map_status(status))
        }
        Err(e) => Err(e.into()),
    }
}
