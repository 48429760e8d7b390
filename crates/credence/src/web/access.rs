//! Who may do what: the one place every request passes through.
//!
//! Every route has a [`Policy`], looked up by its method and matched path in [`policy_for`].
//! The [`authorize`] middleware runs on every route: it finds the actor (a session cookie or
//! an `Authorization: Bearer` API token), checks CSRF on browser form posts, applies the
//! route's policy, including the scope named in the path (`{centre}`, `{learner}`), and only
//! then calls the handler, with the [`Actor`] in the request. A route without a policy is
//! refused (fail closed), and the route-matrix test fails for it.
//!
//! Out-of-scope reads answer 404, so a person cannot learn what exists at another centre.

use super::AppState;
use crate::app::people::Actor;
use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

pub const SESSION_COOKIE: &str = "credence_session";

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in person.
    SignedIn,
    /// Awarding organisation staff; handlers limit what they see to their own AOs.
    AoStaff,
    /// Anyone with a role at the `{centre}` in the path, AO staff of an AO the centre works
    /// with, or an EQA appointed to it.
    CentreView,
    /// The administrators of the `{centre}` in the path.
    CentreAdmin,
    /// AO staff of an AO the `{centre}` works with, or an EQA appointed to it.
    CentreOversight,
    /// The `{centre}`'s quality assurance: its IQAs and administrators, AO staff of an AO it
    /// works with, or an EQA appointed to it (the use case's `QaScope` decides the rest:
    /// only IQAs sample, only the lead IQA sets the strategy, an EQA sees only their AO's).
    CentreQa,
    /// The `{learner}` in the path themselves, staff of a centre they are registered at, or
    /// that centre's AO staff and EQA.
    LearnerView,
    /// Work on the `{learner}`'s portfolio: the learner themselves, or an assessor at a centre
    /// where the learner is registered now (the use case then checks the assignment and
    /// declared interests). Others who may see the learner are refused; the rest get 404.
    LearnerWork,
}

/// The policy of every route, by method and path as the router matches it.
pub const POLICIES: &[(&str, &str, Policy)] = &[
    // Catalogue: public reading.
    ("GET", "/", Policy::Public),
    ("GET", "/aos", Policy::Public),
    ("GET", "/aos/{code}", Policy::Public),
    ("GET", "/qualifications", Policy::Public),
    ("GET", "/qualifications/{qan}", Policy::Public),
    ("GET", "/qualifications/{qan}/checker", Policy::Public),
    ("GET", "/units/{unit}", Policy::Public),
    ("GET", "/search", Policy::Public),
    ("GET", "/claim", Policy::Public),
    ("GET", "/static/app.css", Policy::Public),
    ("GET", "/static/checker.js", Policy::Public),
    ("GET", "/static/task.js", Policy::Public),
    // Long tasks: any signed-in person, and the use case shows each task only to the
    // person who asked for it (anyone else: 404).
    ("GET", "/tasks", Policy::SignedIn),
    ("GET", "/tasks/{task}", Policy::SignedIn),
    ("GET", "/tasks/{task}/file", Policy::SignedIn),
    ("GET", "/api/v1/tasks/{task}", Policy::SignedIn),
    ("GET", "/healthz", Policy::Public),
    // Readiness and metrics: open, like `/healthz`, for the load balancer and the scraper.
    // Neither shows personal data: check results, route templates (never paths with ids),
    // counts.
    ("GET", "/readyz", Policy::Public),
    ("GET", "/metrics", Policy::Public),
    // Certificates: anyone checks one; the register is for those who may see it (the use
    // case's RegisterScope); AO staff replace and revoke (the use case checks which AO).
    ("GET", "/verify", Policy::Public),
    ("GET", "/achievements/{code}", Policy::Public),
    ("GET", "/certificates/{number}", Policy::Public),
    ("GET", "/api/v1/certificates/{number}", Policy::Public),
    (
        "GET",
        "/api/v1/certificates/{number}/credential",
        Policy::Public,
    ),
    ("GET", "/.well-known/jwks.json", Policy::Public),
    ("GET", "/api/v1/keys/{kid}", Policy::Public),
    ("GET", "/api/v1/revocation-lists/{ao}", Policy::Public),
    ("GET", "/certificates", Policy::SignedIn),
    ("GET", "/api/v1/certificates", Policy::SignedIn),
    ("GET", "/certificates/{number}/record", Policy::SignedIn),
    ("GET", "/certificates/{number}/pdf", Policy::SignedIn),
    ("POST", "/certificates/{number}/replace", Policy::AoStaff),
    ("POST", "/certificates/{number}/revoke", Policy::AoStaff),
    (
        "POST",
        "/api/v1/certificates/{number}/replace",
        Policy::AoStaff,
    ),
    (
        "POST",
        "/api/v1/certificates/{number}/revoke",
        Policy::AoStaff,
    ),
    ("GET", "/api/openapi.json", Policy::Public),
    // 1EdTech CASE 1.1 (web::case); the CASE 1.0 paths redirect to it.
    ("GET", "/ims/case/v1p1/CFDocuments", Policy::Public),
    ("GET", "/ims/case/v1p1/CFDocuments/{id}", Policy::Public),
    ("GET", "/ims/case/v1p1/CFPackages/{id}", Policy::Public),
    ("GET", "/ims/case/v1p1/CFItems/{id}", Policy::Public),
    ("GET", "/ims/case/v1p1/CFAssociations/{id}", Policy::Public),
    (
        "GET",
        "/ims/case/v1p1/CFItemAssociations/{id}",
        Policy::Public,
    ),
    ("GET", "/ims/case/v1p1/CFItemTypes/{id}", Policy::Public),
    ("GET", "/ims/case/v1p0/CFDocuments", Policy::Public),
    ("GET", "/ims/case/v1p0/CFDocuments/{id}", Policy::Public),
    ("GET", "/ims/case/v1p0/CFPackages/{id}", Policy::Public),
    ("GET", "/ims/case/v1p0/CFItems/{id}", Policy::Public),
    ("GET", "/ims/case/v1p0/CFAssociations/{id}", Policy::Public),
    ("GET", "/api/v1/awarding-organisations", Policy::Public),
    ("GET", "/api/v1/qualifications", Policy::Public),
    ("GET", "/api/v1/qualifications/{qan}", Policy::Public),
    ("GET", "/api/v1/units/{unit}", Policy::Public),
    ("GET", "/api/v1/criteria", Policy::Public),
    ("GET", "/api/v1/catalogue/export", Policy::Public),
    (
        "GET",
        "/api/v1/qualifications/{qan}/evaluation",
        Policy::Public,
    ),
    ("GET", "/api/v1/qualifications/{qan}/plan", Policy::Public),
    ("GET", "/api/v1/claimable", Policy::Public),
    // Catalogue administration: AO staff.
    ("GET", "/catalogue/versions", Policy::AoStaff),
    ("GET", "/catalogue/import", Policy::AoStaff),
    ("POST", "/catalogue/import", Policy::AoStaff),
    ("GET", "/catalogue/versions/{id}", Policy::AoStaff),
    (
        "POST",
        "/catalogue/versions/{id}/corrections",
        Policy::AoStaff,
    ),
    ("POST", "/catalogue/versions/{id}/publish", Policy::AoStaff),
    ("GET", "/api/v1/catalogue/versions", Policy::AoStaff),
    ("POST", "/api/v1/catalogue/versions", Policy::AoStaff),
    ("GET", "/api/v1/catalogue/versions/{id}", Policy::AoStaff),
    (
        "GET",
        "/api/v1/catalogue/versions/{id}/diff/{other}",
        Policy::AoStaff,
    ),
    (
        "POST",
        "/api/v1/catalogue/versions/{id}/corrections",
        Policy::AoStaff,
    ),
    (
        "POST",
        "/api/v1/catalogue/versions/{id}/publication",
        Policy::AoStaff,
    ),
    // Who a new version touches, and moving registrations to it: the use case keeps each AO
    // to its own specifications (another AO's version answers 404).
    (
        "GET",
        "/catalogue/versions/{id}/centres/{centre}",
        Policy::AoStaff,
    ),
    (
        "GET",
        "/catalogue/versions/{id}/moves/confirm",
        Policy::AoStaff,
    ),
    ("POST", "/catalogue/versions/{id}/moves", Policy::AoStaff),
    (
        "GET",
        "/api/v1/catalogue/versions/{id}/impact",
        Policy::AoStaff,
    ),
    (
        "POST",
        "/api/v1/catalogue/versions/{id}/moves",
        Policy::AoStaff,
    ),
    // Signing in and out, one's own account.
    ("GET", "/sign-in", Policy::Public),
    ("POST", "/sign-in", Policy::Public),
    ("GET", "/sign-in/second-factor", Policy::Public),
    ("POST", "/sign-in/second-factor", Policy::Public),
    ("GET", "/account/second-factor", Policy::SignedIn),
    ("POST", "/account/second-factor", Policy::SignedIn),
    ("POST", "/sign-out", Policy::SignedIn),
    ("GET", "/people", Policy::AoStaff),
    ("GET", "/people/{person}", Policy::AoStaff),
    ("GET", "/people/{person}/remove-role", Policy::AoStaff),
    ("POST", "/people/{person}/remove-role", Policy::AoStaff),
    ("GET", "/people/{person}/disable", Policy::AoStaff),
    ("POST", "/people/{person}/disable", Policy::AoStaff),
    ("GET", "/password-reset", Policy::Public),
    ("POST", "/password-reset", Policy::Public),
    ("GET", "/password-reset/{token}", Policy::Public),
    ("POST", "/password-reset/{token}", Policy::Public),
    ("GET", "/account/email", Policy::SignedIn),
    ("POST", "/account/email", Policy::SignedIn),
    (
        "POST",
        "/centres/{centre}/learners/{learner}/invitation",
        Policy::CentreAdmin,
    ),
    (
        "GET",
        "/centres/{centre}/staff/{person}",
        Policy::CentreAdmin,
    ),
    (
        "POST",
        "/centres/{centre}/staff/{person}/reassign",
        Policy::CentreAdmin,
    ),
    (
        "GET",
        "/centres/{centre}/staff/{person}/remove-role",
        Policy::CentreAdmin,
    ),
    (
        "POST",
        "/centres/{centre}/staff/{person}/remove-role",
        Policy::CentreAdmin,
    ),
    (
        "GET",
        "/centres/{centre}/staff/{person}/disable",
        Policy::CentreAdmin,
    ),
    (
        "POST",
        "/centres/{centre}/staff/{person}/disable",
        Policy::CentreAdmin,
    ),
    (
        "GET",
        "/centres/{centre}/registrations/{registration}/status",
        Policy::CentreAdmin,
    ),
    (
        "POST",
        "/centres/{centre}/registrations/{registration}/status",
        Policy::CentreAdmin,
    ),
    ("GET", "/home", Policy::SignedIn),
    ("POST", "/context", Policy::SignedIn),
    ("GET", "/account/tokens", Policy::SignedIn),
    ("POST", "/account/tokens", Policy::SignedIn),
    ("GET", "/account/tokens/{id}/revoke", Policy::SignedIn),
    ("POST", "/account/tokens/{id}/revoke", Policy::SignedIn),
    ("GET", "/api/v1/me", Policy::SignedIn),
    // One's own data (right of access, portability, erasure): the use cases take the
    // signed-in person's own scope, so nobody reaches anyone else's.
    ("GET", "/api/v1/me/data", Policy::SignedIn),
    ("POST", "/api/v1/me/erasure", Policy::SignedIn),
    ("GET", "/account/data", Policy::SignedIn),
    ("GET", "/account/data.zip", Policy::SignedIn),
    ("POST", "/account/data/erasure", Policy::SignedIn),
    ("POST", "/centres/{centre}/invitations", Policy::CentreAdmin),
    ("POST", "/invitations", Policy::AoStaff),
    ("GET", "/invitations/{token}", Policy::Public),
    ("POST", "/invitations/{token}", Policy::Public),
    ("GET", "/account/competence", Policy::SignedIn),
    ("POST", "/account/competence", Policy::SignedIn),
    ("POST", "/account/competence/cpd", Policy::SignedIn),
    ("POST", "/account/interests", Policy::SignedIn),
    (
        "POST",
        "/centres/{centre}/registrations/{registration}/assignments",
        Policy::CentreAdmin,
    ),
    // Centres.
    ("GET", "/centres", Policy::SignedIn),
    ("POST", "/centres", Policy::AoStaff),
    ("GET", "/centres/{centre}", Policy::CentreView),
    (
        "POST",
        "/centres/{centre}/approvals",
        Policy::CentreOversight,
    ),
    (
        "POST",
        "/centres/{centre}/direct-claim",
        Policy::CentreOversight,
    ),
    (
        "GET",
        "/centres/{centre}/direct-claim",
        Policy::CentreOversight,
    ),
    // Quality assurance (issue 12): the policy lets in whoever has a part at the centre;
    // the use cases' QaScope decides what each may do (IQA, lead IQA, EQA, AO staff).
    // Evidence over time: the centre's staff, EQAs and AOs read the occasions per unit; the
    // use case's PracticeScope lets only the administrators and the lead IQA set them.
    (
        "GET",
        "/centres/{centre}/evidence-occasions",
        Policy::CentreView,
    ),
    // Records retention: AO staff see their centres' and place and lift legal holds; a
    // centre's administrators see their centre's (the use case's RecordsScope decides).
    ("GET", "/records", Policy::AoStaff),
    ("GET", "/centres/{centre}/records", Policy::CentreView),
    ("GET", "/records/holds/new", Policy::AoStaff),
    ("POST", "/records/holds/new", Policy::AoStaff),
    ("GET", "/records/holds/{hold}/lift", Policy::AoStaff),
    ("POST", "/records/holds/{hold}/lift", Policy::AoStaff),
    ("GET", "/api/v1/records/retention", Policy::SignedIn),
    ("POST", "/api/v1/records/holds", Policy::AoStaff),
    ("POST", "/api/v1/records/holds/{hold}/lift", Policy::AoStaff),
    (
        "POST",
        "/centres/{centre}/evidence-occasions",
        Policy::CentreQa,
    ),
    (
        "GET",
        "/api/v1/centres/{centre}/evidence-occasions",
        Policy::CentreView,
    ),
    (
        "POST",
        "/api/v1/centres/{centre}/evidence-occasions",
        Policy::CentreQa,
    ),
    ("GET", "/centres/{centre}/qa", Policy::CentreQa),
    ("POST", "/centres/{centre}/qa/generate", Policy::CentreQa),
    ("POST", "/centres/{centre}/qa/samples", Policy::CentreQa),
    ("GET", "/centres/{centre}/qa/strategy", Policy::CentreQa),
    ("POST", "/centres/{centre}/qa/strategy", Policy::CentreQa),
    ("GET", "/centres/{centre}/standardisation", Policy::CentreQa),
    (
        "POST",
        "/centres/{centre}/standardisation",
        Policy::CentreQa,
    ),
    ("POST", "/centres/{centre}/lead-iqa", Policy::CentreAdmin),
    ("GET", "/qa/samples/{sample}", Policy::SignedIn),
    ("POST", "/qa/samples/{sample}/open", Policy::SignedIn),
    ("POST", "/qa/samples/{sample}/decision", Policy::SignedIn),
    ("POST", "/qa/samples/{sample}/close", Policy::SignedIn),
    ("POST", "/qa/samples/{sample}/swap", Policy::SignedIn),
    ("GET", "/api/v1/centres/{centre}/qa/plan", Policy::CentreQa),
    ("GET", "/centres/{centre}/visits", Policy::CentreQa),
    ("POST", "/centres/{centre}/visits", Policy::CentreOversight),
    ("GET", "/visits/{visit}", Policy::SignedIn),
    ("POST", "/visits/{visit}/report", Policy::SignedIn),
    ("POST", "/eqa-actions/{action}/response", Policy::SignedIn),
    ("POST", "/eqa-actions/{action}/close", Policy::SignedIn),
    ("GET", "/api/v1/visits", Policy::SignedIn),
    ("GET", "/centres/{centre}/claims", Policy::CentreQa),
    ("POST", "/centres/{centre}/claims", Policy::CentreAdmin),
    ("POST", "/centres/{centre}/claims/bulk", Policy::CentreAdmin),
    ("POST", "/claims/{claim}/release", Policy::SignedIn),
    ("GET", "/api/v1/claims", Policy::SignedIn),
    (
        "POST",
        "/api/v1/centres/{centre}/claims",
        Policy::CentreAdmin,
    ),
    ("GET", "/appeals", Policy::SignedIn),
    ("POST", "/appeals", Policy::SignedIn),
    ("POST", "/appeals/{appeal}/review", Policy::SignedIn),
    ("POST", "/appeals/{appeal}/escalate", Policy::SignedIn),
    ("POST", "/appeals/{appeal}/decision", Policy::SignedIn),
    ("GET", "/centres/{centre}/audit", Policy::CentreOversight),
    ("POST", "/centres/{centre}/eqa", Policy::CentreOversight),
    (
        "GET",
        "/centres/{centre}/registrations/new",
        Policy::CentreAdmin,
    ),
    (
        "POST",
        "/centres/{centre}/registrations",
        Policy::CentreAdmin,
    ),
    (
        "POST",
        "/centres/{centre}/registrations/upload",
        Policy::CentreAdmin,
    ),
    ("GET", "/api/v1/centres", Policy::SignedIn),
    ("GET", "/api/v1/centres/{centre}", Policy::CentreView),
    (
        "GET",
        "/api/v1/centres/{centre}/registrations",
        Policy::CentreView,
    ),
    (
        "POST",
        "/api/v1/centres/{centre}/registrations",
        Policy::CentreAdmin,
    ),
    (
        "GET",
        "/api/v1/centres/{centre}/audit",
        Policy::CentreOversight,
    ),
    // Learners.
    ("GET", "/learners/{learner}", Policy::LearnerView),
    ("GET", "/api/v1/learners/{learner}", Policy::LearnerView),
    // The portfolio (issue 6).
    ("GET", "/static/upload.js", Policy::Public),
    ("GET", "/static/daily.js", Policy::Public),
    ("GET", "/learners/{learner}/portfolio", Policy::LearnerView),
    // The learner's plan (issue 11): the use case decides who may change it.
    ("GET", "/learners/{learner}/plan", Policy::LearnerView),
    ("POST", "/learners/{learner}/plan", Policy::LearnerView),
    (
        "GET",
        "/api/v1/learners/{learner}/plan",
        Policy::LearnerView,
    ),
    (
        "PUT",
        "/api/v1/learners/{learner}/plan",
        Policy::LearnerView,
    ),
    (
        "GET",
        "/learners/{learner}/portfolio/units/{unit}",
        Policy::LearnerView,
    ),
    (
        "POST",
        "/learners/{learner}/portfolio/units/{unit}/judgements",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/learners/{learner}/portfolio/units/{unit}/decisions",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/learners/{learner}/portfolio/units/{unit}/replies",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/learners/{learner}/portfolio/units/{unit}/sign",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/learners/{learner}/portfolio/units/{unit}/authenticate",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/learners/{learner}/portfolio/units/{unit}/marks",
        Policy::LearnerView,
    ),
    (
        "GET",
        "/learners/{learner}/evidence/new",
        Policy::LearnerWork,
    ),
    ("POST", "/learners/{learner}/evidence", Policy::LearnerWork),
    (
        "GET",
        "/learners/{learner}/evidence/{evidence}",
        Policy::LearnerView,
    ),
    (
        "GET",
        "/learners/{learner}/evidence/{evidence}/file",
        Policy::LearnerView,
    ),
    (
        "POST",
        "/learners/{learner}/evidence/{evidence}/mappings",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/learners/{learner}/evidence/{evidence}/mappings/remove",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/learners/{learner}/evidence/{evidence}/ksbs",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/learners/{learner}/evidence/{evidence}/supersede",
        Policy::LearnerWork,
    ),
    (
        "GET",
        "/learners/{learner}/evidence/{evidence}/delete",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/learners/{learner}/evidence/{evidence}/delete",
        Policy::LearnerWork,
    ),
    (
        "GET",
        "/learners/{learner}/achievement-log/{qan}",
        Policy::LearnerView,
    ),
    (
        "GET",
        "/learners/{learner}/achievement-log/{qan}/pdf",
        Policy::LearnerView,
    ),
    (
        "GET",
        "/learners/{learner}/portfolio.zip",
        Policy::LearnerView,
    ),
    (
        "POST",
        "/centres/{centre}/registrations/{registration}/transfer",
        Policy::CentreAdmin,
    ),
    ("POST", "/transfers/{id}/decision", Policy::AoStaff),
    (
        "POST",
        "/qualifications/{qan}/grade-boundaries",
        Policy::AoStaff,
    ),
    (
        "GET",
        "/api/v1/learners/{learner}/portfolio",
        Policy::LearnerView,
    ),
    (
        "POST",
        "/api/v1/learners/{learner}/evidence",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/api/v1/learners/{learner}/evidence/{evidence}/mappings",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/api/v1/learners/{learner}/judgements",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/api/v1/learners/{learner}/units/{unit}/signatures",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/api/v1/learners/{learner}/units/{unit}/authentication",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/api/v1/learners/{learner}/units/{unit}/decisions",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/api/v1/learners/{learner}/units/{unit}/replies",
        Policy::LearnerWork,
    ),
    (
        "DELETE",
        "/api/v1/learners/{learner}/evidence/{evidence}",
        Policy::LearnerWork,
    ),
    (
        "POST",
        "/api/v1/learners/{learner}/units/{unit}/marks",
        Policy::LearnerView,
    ),
];

pub fn policy_for(method: &Method, path: &str) -> Option<Policy> {
    POLICIES
        .iter()
        .find(|(m, p, _)| *p == path && m.eq_ignore_ascii_case(method.as_str()))
        .map(|(_, _, policy)| *policy)
}

/// Why a request is refused.
enum Refusal {
    /// Not signed in.
    SignIn,
    /// Signed in, but the role does not allow it.
    Forbidden,
    /// Out of the actor's scope: answered as if it did not exist.
    Hidden,
    /// A browser form post without its CSRF token, or from another site.
    Csrf,
    /// The route has no policy: a programming error, refused.
    NoPolicy,
}

/// Whether `path` is the JSON API's (answered with the error envelope, never a page).
pub(crate) fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/ims/")
}

fn refuse(r: Refusal, path: &str, uri: &str) -> Response {
    let (status, message) = match r {
        Refusal::SignIn => (
            StatusCode::UNAUTHORIZED,
            "Sign in to do this: an API client sends `Authorization: Bearer <token>`.",
        ),
        Refusal::Forbidden => (
            StatusCode::FORBIDDEN,
            "Your roles do not allow this. If you need it, ask an administrator of your centre or awarding organisation.",
        ),
        Refusal::Hidden => (StatusCode::NOT_FOUND, "That was not found."),
        Refusal::Csrf => (
            StatusCode::FORBIDDEN,
            "The form was out of date or came from another site. Go back, reload the page and try again.",
        ),
        Refusal::NoPolicy => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "This route has no access decision, so it is refused.",
        ),
    };
    if is_api(path) {
        return super::ApiError::new(status, message).into_response();
    }
    if status == StatusCode::UNAUTHORIZED {
        let next: String = form_urlencoded::byte_serialize(uri.as_bytes()).collect();
        return Redirect::to(&format!("/sign-in?next={next}")).into_response();
    }
    super::pages::message_page(status, message)
}

/// A cookie of the request, by name.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}

/// The client's address, as [`authorize`] left it in `X-Forwarded-For`: the connection's, or
/// the last hop when behind a trusted load balancer.
pub fn client_address(headers: &HeaderMap) -> String {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "local".into())
}

/// Path parameters by name, from the matched pattern and the actual path.
fn path_param(pattern: &str, path: &str, name: &str) -> Option<String> {
    let want = format!("{{{name}}}");
    pattern
        .split('/')
        .zip(path.split('/'))
        .find(|(p, _)| *p == want)
        .map(|(_, v)| v.to_string())
}

/// The middleware on every route.
pub async fn authorize(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let pattern = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let path = req.uri().path().to_string();
    let uri = req.uri().to_string();
    // HEAD is answered by the GET handler (axum runs it and drops the body), so it is decided
    // exactly as GET is.
    let method = if req.method() == Method::HEAD {
        Method::GET
    } else {
        req.method().clone()
    };
    // A method the path does not serve: the router answers 405 Method Not Allowed, no
    // handler runs, so there is nothing to decide.
    if policy_for(&method, &pattern).is_none() && POLICIES.iter().any(|(_, p, _)| *p == pattern) {
        return next.run(req).await;
    }
    let Some(policy) = policy_for(&method, &pattern) else {
        tracing::error!(%pattern, method = %req.method(), "route without an access policy");
        return refuse(Refusal::NoPolicy, &path, &uri);
    };
    // The client's address: the connection's, unless Credence is told to trust the proxy
    // in front of it. Handlers read it from `X-Forwarded-For`, which is rewritten here so a
    // client cannot choose the address its sign-in attempts are counted against.
    // Behind a proxy the address is the last hop, the one our own proxy appended: every hop
    // before it was written by the client and proves nothing.
    let mut req = req;
    let peer = if app.trust_proxy {
        req.headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|s| !s.is_empty())
            .map(str::to_string)
    } else {
        None
    };
    {
        let peer = peer.unwrap_or_else(|| {
            req.extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "local".into())
        });
        req.headers_mut().remove("x-forwarded-for");
        if let Ok(v) = axum::http::HeaderValue::from_str(&peer) {
            req.headers_mut().insert("x-forwarded-for", v);
        }
    }
    let headers = req.headers().clone();
    // A form posted from another site is refused whatever the route (CSRF, with the token
    // check below for signed-in forms).
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && let (Some(origin), Some(host)) = (
            headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
            headers.get(header::HOST).and_then(|v| v.to_str().ok()),
        )
        && origin.split("://").nth(1) != Some(host)
    {
        return refuse(Refusal::Csrf, &path, &uri);
    }
    let (actor, via_cookie) = match bearer(&headers) {
        Some(token) => match app.actor_from_api_token(&token).await {
            Ok(a) => (a, false),
            Err(e) => return super::ApiError::from(e).into_response(),
        },
        None => match cookie(&headers, SESSION_COOKIE) {
            // A cookie whose session has ended (expired, signed out elsewhere) is as good as
            // none: the person can sign in again without clearing cookies.
            Some(token) => match app.actor_from_session(&token).await {
                Ok(a) => {
                    let live = a.is_some();
                    (a, live)
                }
                Err(e) => return super::ApiError::from(e).into_response(),
            },
            None => (None, false),
        },
    };
    // CSRF: a browser session's state-changing request carries the session's token, in the
    // `X-CSRF-Token` header, the `csrf` query parameter (multipart forms) or the `csrf`
    // field of a url-encoded form.
    if via_cookie && req.method() != Method::GET && req.method() != Method::HEAD {
        let expected = actor
            .as_ref()
            .and_then(|a| a.csrf.clone())
            .unwrap_or_default();
        let (ok, rebuilt) = csrf_ok(req, &expected).await;
        match rebuilt {
            Some(r) if ok => req = r,
            _ => return refuse(Refusal::Csrf, &path, &uri),
        }
    }
    let https = app.trust_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let private = policy != Policy::Public || actor.is_some();
    let decision = decide(&app, policy, actor.as_ref(), &pattern, &path).await;
    let mut res = match decision {
        Ok(()) => {
            let nav = actor.as_ref().map(NavUser::of);
            if let Some(a) = actor {
                req.extensions_mut().insert(a);
            }
            let res = NAV.scope(nav.clone(), next.run(req)).await;
            // A form the framework could not read answers in plain text naming raw fields
            // ("missing field `to_centre`"); a person gets a page that says what to do.
            let plain = res
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/plain"));
            if plain && !is_api(&path) && res.status().is_client_error() {
                tracing::info!(status = %res.status(), %path, "a form that could not be read");
                let status = res.status();
                NAV.sync_scope(nav, || {
                    super::pages::message_page(
                        status,
                        "The form could not be read: something in it was missing or not what the form offers. Go back, reload the page and fill it in again.",
                    )
                })
            } else {
                res
            }
        }
        // A refusal is a page like any other: the header still shows who is signed in.
        Err(r) => NAV.sync_scope(actor.as_ref().map(NavUser::of), || refuse(r, &path, &uri)),
    };
    // What one person sees is kept by no cache, shared or the browser's own.
    if private {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    // Behind a proxy that ends TLS, browsers are told to come back over HTTPS only.
    if https {
        res.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

/// What the page header shows of the signed-in person.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub name: String,
    pub role: String,
    pub csrf: String,
    /// Whether they hold any role but learner: only they have a use for the centres pages.
    pub staff: bool,
}

impl NavUser {
    fn of(a: &Actor) -> NavUser {
        NavUser {
            name: a.name.clone(),
            role: a
                .active
                .as_ref()
                .map(|g| crate::app::people::role_name(g.role.as_str()).to_string())
                .unwrap_or_default(),
            csrf: a.csrf.clone().unwrap_or_default(),
            staff: a.grants.iter().any(|g| g.role != "learner"),
        }
    }
}

tokio::task_local! {
    static NAV: Option<NavUser>;
}

/// The CSRF token of the request being rendered (empty when nobody is signed in), for forms.
pub fn csrf_token() -> String {
    nav().map(|n| n.csrf).unwrap_or_default()
}

/// The answer for an address no route serves: the "page not found" page, with the header of
/// whoever is signed in (the router's fallback runs outside [`authorize`]).
pub async fn not_found(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let actor = match cookie(&headers, SESSION_COOKIE) {
        Some(token) => app.actor_from_session(&token).await.ok().flatten(),
        None => None,
    };
    let nav = actor.as_ref().map(NavUser::of);
    NAV.sync_scope(nav, || super::pages::not_found_page().into_response())
}

/// The signed-in person of the request being rendered, for the page layout.
pub fn nav() -> Option<NavUser> {
    NAV.try_with(Clone::clone).ok().flatten()
}

async fn csrf_ok(req: Request, expected: &str) -> (bool, Option<Request>) {
    if expected.is_empty() {
        return (false, Some(req));
    }
    let header_ok = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    let query_ok = req.uri().query().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "csrf" && v == expected)
    });
    if header_ok || query_ok {
        return (true, Some(req));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (false, Some(req));
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return (false, None);
    };
    let ok = form_urlencoded::parse(&bytes).any(|(k, v)| k == "csrf" && v == expected);
    (ok, Some(Request::from_parts(parts, Body::from(bytes))))
}

async fn decide(
    app: &AppState,
    policy: Policy,
    actor: Option<&Actor>,
    pattern: &str,
    path: &str,
) -> Result<(), Refusal> {
    if policy == Policy::Public {
        return Ok(());
    }
    let actor = actor.ok_or(Refusal::SignIn)?;
    match policy {
        Policy::Public | Policy::SignedIn => Ok(()),
        Policy::AoStaff => {
            if actor.has_role("ao_staff") {
                Ok(())
            } else {
                Err(Refusal::Forbidden)
            }
        }
        Policy::CentreView | Policy::CentreAdmin | Policy::CentreOversight | Policy::CentreQa => {
            let centre: i64 = path_param(pattern, path, "centre")
                .and_then(|c| c.parse().ok())
                .ok_or(Refusal::Hidden)?;
            let overseer = oversees(app, actor, centre).await;
            let roles = actor.centre_roles(centre);
            let allowed = match policy {
                Policy::CentreView => overseer || roles.iter().any(|r| *r != "learner"),
                Policy::CentreAdmin => roles.contains(&"centre_admin"),
                Policy::CentreQa => {
                    overseer || roles.iter().any(|r| matches!(*r, "iqa" | "centre_admin"))
                }
                _ => overseer,
            };
            if allowed {
                Ok(())
            } else if overseer || !roles.is_empty() {
                // They know the centre; this action is not theirs.
                Err(Refusal::Forbidden)
            } else {
                Err(Refusal::Hidden)
            }
        }
        Policy::LearnerView | Policy::LearnerWork => {
            let learner: i64 = path_param(pattern, path, "learner")
                .and_then(|c| c.parse().ok())
                .ok_or(Refusal::Hidden)?;
            // The app's authorization module decides who sees the learner; work on the
            // portfolio is the learner's or an assessor's at a centre seen (the use case then
            // checks the assignment and declared interests).
            let Ok(scope) = app.learner_scope(actor, learner).await else {
                return Err(Refusal::Hidden);
            };
            if policy == Policy::LearnerView || scope.as_learner() {
                return Ok(());
            }
            let assesses = scope.until().is_none()
                && scope
                    .registrations()
                    .iter()
                    .any(|r| actor.centre_roles(r.centre_id).contains(&"assessor"));
            if assesses {
                Ok(())
            } else {
                Err(Refusal::Forbidden)
            }
        }
    }
}

/// Whether the actor may see a centre's records of learners: its staff (any role but
/// learner), its AO's staff, or its EQA.
pub async fn sees_centre_records(app: &AppState, actor: &Actor, centre: i64) -> bool {
    actor.centre_roles(centre).iter().any(|r| *r != "learner") || oversees(app, actor, centre).await
}

/// AO staff of an AO the centre works with, or an EQA appointed to the centre.
pub async fn oversees(app: &AppState, actor: &Actor, centre: i64) -> bool {
    if actor.eqa_centres.iter().any(|(c, _)| *c == centre) {
        return true;
    }
    let aos = actor.ao_codes();
    if aos.is_empty() {
        return false;
    }
    match app.store.centre_aos(centre).await {
        Ok(rows) => rows.iter().any(|r| aos.contains(&r.ao_code.as_str())),
        Err(_) => false,
    }
}

/// The signed-in actor, for handlers behind a policy other than `Public`.
pub struct CurrentActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for CurrentActor {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .map(CurrentActor)
            .ok_or_else(|| refuse(Refusal::SignIn, parts.uri.path(), &parts.uri.to_string()))
    }
}

/// The actor if someone is signed in (public pages show a sign-in link otherwise).
pub struct MaybeActor(pub Option<Actor>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeActor {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeActor(parts.extensions.get::<Actor>().cloned()))
    }
}

/// Every page route path, as the routers register them (see [`route`]), so the access
/// test can walk routes the OpenAPI document does not list.
static ROUTES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());

/// Register a page route: `Router::route`, remembering the path for the access test.
pub fn route(
    r: axum::Router<AppState>,
    path: &'static str,
    method_router: axum::routing::MethodRouter<AppState>,
) -> axum::Router<AppState> {
    if let Ok(mut routes) = ROUTES.lock()
        && !routes.contains(&path)
    {
        routes.push(path);
    }
    r.route(path, method_router)
}

/// The page routes registered so far (build the router first).
pub fn registered_routes() -> Vec<&'static str> {
    ROUTES.lock().map(|r| r.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_come_from_the_pattern() {
        assert_eq!(
            path_param("/centres/{centre}/audit", "/centres/12/audit", "centre").as_deref(),
            Some("12")
        );
        assert_eq!(
            path_param("/learners/{learner}", "/learners/7", "centre"),
            None
        );
    }

    #[test]
    fn every_policy_names_a_unique_route() {
        let mut seen = std::collections::HashSet::new();
        for (m, p, _) in POLICIES {
            assert!(seen.insert((m, p)), "{m} {p} twice");
        }
    }
}
