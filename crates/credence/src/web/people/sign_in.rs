//! Signing in and out.

use super::*;

#[derive(Template)]
#[template(path = "sign_in.html")]
pub(super) struct SignInPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    email: String,
    next: String,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct NextParam {
    next: Option<String>,
    /// `done` after a password reset.
    reset: Option<String>,
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

pub(super) async fn sign_in_form(Query(p): Query<NextParam>) -> Response {
    render(&SignInPage {
        title: "Sign in".into(),
        has_error: false,
        error: None,
        email: String::new(),
        next: safe_next(p.next.as_deref()),
        notice: (p.reset.as_deref() == Some("done")).then(|| {
            "Your password has been changed and you have been signed out everywhere. Sign in with the new password.".to_string()
        }),
    })
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub(super) async fn sign_in(
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
                notice: None,
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
                crate::web::second_factor::challenge_cookie(Some(&challenge)),
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

pub(super) async fn sign_out(
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
