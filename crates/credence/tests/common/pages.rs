//! Pages through the router as a browser sends them: forms, cookies, CSRF.

use super::{Reply, send};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

/// The demo accounts' password.
pub const DEMO_PASSWORD: &str = "credence-demo-2026";

/// A form post, with a session cookie or none.
pub fn form(uri: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

/// A page read with a session cookie.
pub fn page(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

/// Sign in through the form; the answer (a redirect with the cookie, or a refusal).
pub async fn sign_in(router: &axum::Router, email: &str, password: &str) -> Reply {
    send(
        router,
        form(
            "/sign-in",
            &format!(
                "email={}&password={}&next=/home",
                email.replace('@', "%40"),
                password.replace(' ', "+")
            ),
            None,
        ),
    )
    .await
}

/// Sign in as a demo account; its session cookie ("name=value").
pub async fn demo_cookie(router: &axum::Router, email: &str) -> String {
    let r = sign_in(router, email, DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    cookie_of(&r)
}

/// The session cookie an answer sets ("name=value").
pub fn cookie_of(r: &Reply) -> String {
    r.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// The CSRF token in a page's first form.
pub fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}
