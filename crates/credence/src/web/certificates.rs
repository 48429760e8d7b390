//! Certificates (issue 13): verification by anyone (`/verify`, `/certificates/{number}` and
//! its JSON), the register for AO staff, centres and learners (`/certificates`, with a CSV
//! export), each certificate's record with replacement and revocation, and the API.
//!
//! The public URLs are printed on certificates and must never change. Public lookups are
//! limited per address in memory and cacheable for a minute at most.

use super::AppState;
use crate::app::AppError;
use crate::app::certificates::{CertificateView, PrintedUnit, Verification};
use crate::store::CertificateFilter;
use crate::web::access::{CurrentActor, client_address};
use crate::web::format::uk_date;
use crate::web::pages::{PageError, render, render_status};
use crate::web::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use credence_domain::certificate::{ReplacementReason, RevocationReason, csv_safe};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// How long anyone (a browser, a proxy) may keep a public answer: revocation shows within
/// a minute.
const PUBLIC_CACHE: &str = "public, max-age=60";

pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = crate::web::access::route(r, "/verify", get(verify_form));
    let r = crate::web::access::route(r, "/certificates", get(register));
    let r = crate::web::access::route(r, "/certificates/{number}", get(verification_page));
    let r = crate::web::access::route(r, "/certificates/{number}/record", get(record));
    let r = crate::web::access::route(r, "/certificates/{number}/replace", post(replace));
    let r = crate::web::access::route(r, "/certificates/{number}/revoke", post(revoke));
    let r = crate::web::access::route(r, "/.well-known/jwks.json", get(jwks));
    let r = crate::web::access::route(r, "/certificates/{number}/pdf", get(pdf));
    crate::web::access::route(r, "/achievements/{code}", get(achievement))
}

pub fn api_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(api_verify))
        .routes(utoipa_axum::routes!(api_register))
        .routes(utoipa_axum::routes!(api_replace))
        .routes(utoipa_axum::routes!(api_revoke))
        .routes(utoipa_axum::routes!(credential))
        .routes(utoipa_axum::routes!(api_key))
        .routes(utoipa_axum::routes!(api_revocation_list))
}

/// Count a public lookup against the client's address; `Some` is the 429 answer.
fn limited(app: &AppState, headers: &HeaderMap, api: bool) -> Option<Response> {
    match app.verify_limit.check(&client_address(headers)) {
        Ok(()) => None,
        Err(wait) => {
            let message = format!(
                "Too many certificate checks from your address: try again in {wait} seconds"
            );
            let mut res = if api {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, message).into_response()
            } else {
                crate::web::pages::message_page(StatusCode::TOO_MANY_REQUESTS, &message)
            };
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(res)
        }
    }
}

/// A public answer of `content_type`, cacheable for a minute.
fn public_body(content_type: &'static str, body: String) -> Response {
    public_cache(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

fn public_cache(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(PUBLIC_CACHE),
    );
    res
}

// --- verification: anyone ---------------------------------------------------------------

#[derive(Deserialize, Default)]
struct VerifyQuery {
    #[serde(default)]
    number: Option<String>,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    number: String,
}

/// The form where anyone types a certificate number.
async fn verify_form(Query(q): Query<VerifyQuery>) -> Response {
    let number = q.number.unwrap_or_default();
    if number.trim().is_empty() {
        return render(&VerifyPage {
            title: "Check a certificate".into(),
            has_error: false,
            error: None,
            number,
        });
    }
    match credence_domain::certificate::CertificateNumber::parse(&number) {
        Ok(n) => Redirect::to(&format!("/certificates/{n}")).into_response(),
        Err(e) => render_status(
            true,
            &VerifyPage {
                title: "Check a certificate".into(),
                has_error: true,
                error: Some(e.to_string()),
                number,
            },
        ),
    }
}

struct StatusPanel {
    tag: &'static str,
    words: &'static str,
    detail: String,
}

fn status_panel(v: &Verification) -> StatusPanel {
    match v.status.as_str() {
        "valid" => StatusPanel {
            tag: "tag--green",
            words: "Valid",
            detail: format!(
                "{} awarded this certificate on {}.",
                v.awarding_organisation_name,
                uk_date(&v.awarded_on)
            ),
        },
        "replaced" => StatusPanel {
            tag: "tag--yellow",
            words: "Replaced",
            detail: format!(
                "This certificate was replaced by certificate {}. Check that one instead.",
                v.replaced_by.clone().unwrap_or_default()
            ),
        },
        _ => StatusPanel {
            tag: "tag--red",
            words: "Revoked",
            detail: format!(
                "{} revoked this certificate on {}{}. It is not a valid certificate.",
                v.awarding_organisation_name,
                v.revoked_on.as_deref().map(uk_date).unwrap_or_default(),
                v.revocation_reason
                    .as_deref()
                    .map(|r| format!(". Reason: {}", r.to_lowercase()))
                    .unwrap_or_default()
            ),
        },
    }
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct VerificationPage {
    title: String,
    has_error: bool,
    v: Verification,
    panel: StatusPanel,
    awarded: String,
    units: Vec<PrintedUnit>,
}

/// The public page for one certificate: what is printed on it and its status.
async fn verification_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    if let Some(res) = limited(&app, &headers, false) {
        return Ok(res);
    }
    let v = app.verify_certificate(&number).await?;
    if v.number != number {
        // The canonical form (upper case): the URL printed on the certificate.
        return Ok(Redirect::permanent(&format!("/certificates/{}", v.number)).into_response());
    }
    let panel = status_panel(&v);
    Ok(public_cache(render(&VerificationPage {
        title: format!("Certificate {}", v.number),
        has_error: false,
        awarded: uk_date(&v.awarded_on),
        units: v.units.clone(),
        panel,
        v,
    })))
}

/// Check a certificate by its number: what is printed on it and whether it is valid,
/// replaced (by which number) or revoked (when and why). No sign-in; limited per address;
/// cacheable for a minute. A number with a wrong check character is refused (422) without
/// a lookup.
#[utoipa::path(get, path = "/api/v1/certificates/{number}", tag = "certificates",
    params(("number" = String, Path, description = "the certificate number, e.g. ISP-2026-0000042-K")),
    responses((status = 200, body = Verification), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn api_verify(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiPath(number): ApiPath<String>,
) -> Result<Response, ApiError> {
    if let Some(res) = limited(&app, &headers, true) {
        return Ok(res);
    }
    let v = app.verify_certificate(&number).await?;
    Ok(public_cache(Json(v).into_response()))
}

// --- the register ------------------------------------------------------------------------

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterParams {
    /// Part of a number, learner's name, QAN or unit reference, title or centre.
    #[serde(default)]
    pub q: Option<String>,
    /// valid, replaced or revoked.
    #[serde(default)]
    pub status: Option<String>,
    /// Only this centre's.
    #[serde(default)]
    pub centre: Option<i64>,
    /// Awarded on or after this date (YYYY-MM-DD or DD/MM/YYYY).
    #[serde(default)]
    pub from: Option<String>,
    /// Awarded on or before this date (YYYY-MM-DD or DD/MM/YYYY).
    #[serde(default)]
    pub to: Option<String>,
    /// "csv" for the register as a spreadsheet (pages only).
    #[serde(default)]
    #[param(ignore)]
    pub format: Option<String>,
    /// The page of the register, 100 a page (pages only).
    #[serde(default)]
    #[param(ignore)]
    pub page: Option<String>,
    /// At most this many, newest first (1 to 5000; 5000 when left out). When a full page
    /// comes back, its `Link` header names the next (`rel="next"`).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Leave out this many of the newest first (0 when left out).
    #[serde(default)]
    pub offset: Option<i64>,
}

/// Certificates on a page of the register.
const REGISTER_PER_PAGE: u32 = 100;
/// The most certificates one API call returns (and the default).
const API_REGISTER_LIMIT: i64 = 5000;

fn date_param(label: &str, v: Option<&str>) -> Result<Option<String>, AppError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => credence_domain::people::registration::parse_date(s)
            .map(|d| Some(d.format("%Y-%m-%d").to_string()))
            .map_err(|e| AppError::Validation(format!("{label}: {e}"))),
    }
}

fn filter_of(p: &RegisterParams) -> Result<CertificateFilter, AppError> {
    Ok(CertificateFilter {
        ao_codes: None,
        centre_id: p.centre,
        learner_id: None,
        status: p
            .status
            .clone()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().to_string()),
        text: p.q.clone(),
        from: date_param("The first date", p.from.as_deref())?,
        to: date_param("The last date", p.to.as_deref())?,
        ..Default::default()
    })
}

struct RegisterLine {
    number: String,
    learner: String,
    centre: String,
    reference: String,
    title: String,
    grade: String,
    awarded: String,
    status: &'static str,
    tag: &'static str,
}

#[derive(Template)]
#[template(path = "certificates.html")]
struct RegisterPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    q: String,
    from: String,
    to: String,
    statuses: Vec<(&'static str, &'static str, bool)>,
    lines: Vec<RegisterLine>,
    counts: crate::store::CertificateCounts,
    /// "1 to 100" when there is more than one page.
    showing: Option<String>,
    bound: String,
    pager: crate::web::pager::Pager,
    csv_link: String,
    ao_staff: bool,
}

fn status_words(s: &str) -> (&'static str, &'static str) {
    match s {
        "valid" => ("Valid", "tag--green"),
        "replaced" => ("Replaced", "tag--yellow"),
        _ => ("Revoked", "tag--red"),
    }
}

fn register_csv(list: &[CertificateView]) -> String {
    let mut out = String::from(
        "number,status,learner,centre,qan,unit_reference,title,level,grade,awarded_on,replaces,replaced_by,revoked_on,revocation_reason\r\n",
    );
    for c in list {
        let v = &c.public;
        let cells = [
            v.number.clone(),
            v.status.clone(),
            v.learner_name.clone(),
            v.centre_name.clone(),
            v.qan.clone().unwrap_or_default(),
            v.unit_reference.clone().unwrap_or_default(),
            v.title.clone(),
            v.level.map(|l| l.to_string()).unwrap_or_default(),
            v.grade.clone().unwrap_or_default(),
            v.awarded_on.clone(),
            v.replaces.clone().unwrap_or_default(),
            v.replaced_by.clone().unwrap_or_default(),
            v.revoked_on.clone().unwrap_or_default(),
            v.revocation_reason.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = cells
            .iter()
            .map(|c| {
                let safe = csv_safe(c);
                if safe.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", safe.replace('"', "\"\""))
                } else {
                    safe
                }
            })
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The register: every certificate the signed-in person may see, searchable, 100 a page,
/// with a CSV of all it finds (up to the bound).
async fn register(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(p): Query<RegisterParams>,
) -> Result<Response, PageError> {
    use crate::app::certificates::REGISTER_BOUND;
    use crate::format::thousands;
    let scope = app.register_scope(&actor);
    let status = p.status.clone().unwrap_or_default();
    let keep = [
        ("q", p.q.clone().unwrap_or_default()),
        ("status", status.clone()),
        ("from", p.from.clone().unwrap_or_default()),
        ("to", p.to.clone().unwrap_or_default()),
    ];
    let keep_ref: Vec<(&str, &str)> = keep.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if p.format.as_deref() == Some("csv") {
        let csv = match filter_of(&p) {
            Ok(f) => {
                app.certificates(
                    &scope,
                    CertificateFilter {
                        limit: Some(REGISTER_BOUND),
                        ..f
                    },
                )
                .await
            }
            Err(e) => Err(e),
        };
        match csv {
            Ok(list) => {
                return Ok((
                    [
                        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                        (
                            header::CONTENT_DISPOSITION,
                            "attachment; filename=\"certificates.csv\"",
                        ),
                    ],
                    register_csv(&list),
                )
                    .into_response());
            }
            Err(AppError::Validation(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let asked = crate::web::pager::page_number(p.page.as_deref());
    let found = match filter_of(&p) {
        Ok(f) => app.register_page(&scope, f, asked, REGISTER_PER_PAGE).await,
        Err(e) => Err(e),
    };
    let (shown, error) = match found {
        Ok(page) => (Some(page), None),
        Err(AppError::Validation(m)) => (None, Some(m)),
        Err(e) => return Err(e.into()),
    };
    let lines = shown
        .iter()
        .flat_map(|s| s.views.iter())
        .map(|c| {
            let (words, tag) = status_words(&c.public.status);
            RegisterLine {
                number: c.public.number.clone(),
                learner: c.public.learner_name.clone(),
                centre: c.public.centre_name.clone(),
                reference: c.public.reference.clone(),
                title: c.public.title.clone(),
                grade: c.public.grade.clone().unwrap_or_default(),
                awarded: uk_date(&c.public.awarded_on),
                status: words,
                tag,
            }
        })
        .collect::<Vec<_>>();
    let pager = match &shown {
        Some(s) => crate::web::pager::Pager::new(s.page, s.pages, |n| {
            crate::web::pager::page_link("/certificates", &keep_ref, n)
        }),
        None => crate::web::pager::Pager::new(1, 1, |_| String::new()),
    };
    let showing = shown.as_ref().filter(|s| s.pages > 1).map(|s| {
        let last = s.first + i64::try_from(s.views.len()).unwrap_or(0) - 1;
        format!("{} to {}", thousands(s.first), thousands(last))
    });
    let mut csv_query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &keep {
        csv_query.append_pair(k, v);
    }
    csv_query.append_pair("format", "csv");
    let has_error = error.is_some();
    Ok(render_status(
        has_error,
        &RegisterPage {
            title: match &shown {
                Some(s) if s.pages > 1 => format!("Certificates (page {} of {})", s.page, s.pages),
                _ => "Certificates".into(),
            },
            has_error,
            error,
            q: p.q.clone().unwrap_or_default(),
            statuses: [
                ("valid", "Valid"),
                ("replaced", "Replaced"),
                ("revoked", "Revoked"),
            ]
            .iter()
            .map(|(k, w)| (*k, *w, *k == status))
            .collect(),
            from: p.from.clone().unwrap_or_default(),
            to: p.to.clone().unwrap_or_default(),
            lines,
            counts: shown.as_ref().map(|s| s.counts).unwrap_or_default(),
            showing,
            bound: thousands(REGISTER_BOUND),
            pager,
            csv_link: format!("/certificates?{}", csv_query.finish()),
            ao_staff: scope.is_ao_staff(),
        },
    ))
}

#[derive(Template)]
#[template(path = "certificate_record.html")]
struct RecordPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    error_field: String,
    notice: Option<String>,
    csrf: String,
    c: CertificateView,
    panel: StatusPanel,
    awarded: String,
    issued: String,
    units: Vec<PrintedUnit>,
    may_manage: bool,
    replacement_reasons: Vec<(&'static str, &'static str)>,
    revocation_reasons: Vec<(&'static str, &'static str)>,
    form: ManageForm,
}

#[derive(Deserialize, Default)]
struct RecordQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn record_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    number: &str,
    notice: Option<String>,
    error: Option<(String, &str)>,
    form: ManageForm,
) -> Result<Response, PageError> {
    let scope = app.register_scope(actor);
    let (c, row) = app.certificate_record(&scope, number).await?;
    let may_manage = actor.ao_codes().contains(&row.ao_code.as_str());
    let has_error = error.is_some();
    let panel = status_panel(&c.public);
    Ok(render_status(
        has_error,
        &RecordPage {
            title: format!("Certificate {}", c.public.number),
            has_error,
            error_field: error.as_ref().map(|e| e.1.to_string()).unwrap_or_default(),
            error: error.map(|e| e.0),
            notice,
            csrf: crate::web::people::csrf_of(actor),
            awarded: uk_date(&c.public.awarded_on),
            issued: uk_date(&c.issued_at),
            units: c.public.units.clone(),
            panel,
            c,
            may_manage,
            replacement_reasons: [
                ReplacementReason::Lost,
                ReplacementReason::Damaged,
                ReplacementReason::NameCorrection,
            ]
            .iter()
            .map(|r| (r.code(), r.words()))
            .collect(),
            revocation_reasons: [
                RevocationReason::ClaimedInError,
                RevocationReason::Malpractice,
                RevocationReason::Maladministration,
            ]
            .iter()
            .map(|r| (r.code(), r.words()))
            .collect(),
            form,
        },
    ))
}

/// A certificate's record, for those who may see it: the PDF, the credential and, for its
/// AO's staff, replacement and revocation.
async fn record(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
    Query(q): Query<RecordQuery>,
) -> Result<Response, PageError> {
    let notice = match q.done.as_deref() {
        Some(n) if n.starts_with("replaced:") => Some(format!(
            "Replacement issued: certificate {}. This one now shows as replaced by it.",
            n.trim_start_matches("replaced:")
        )),
        Some("revoked") => Some(
            "Certificate revoked. Verification, the revocation list and the credential's status show it now."
                .into(),
        ),
        _ => None,
    };
    record_page(&app, &actor, &number, notice, None, ManageForm::default()).await
}

#[derive(Deserialize, Default, Clone)]
struct ManageForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    confirmed: String,
}

fn confirm_page(
    actor: &crate::app::people::Actor,
    number: &str,
    action: &str,
    f: &ManageForm,
) -> Response {
    let mut page = crate::web::people::ConfirmPage::new(
        actor,
        if action == "revoke" {
            format!("Revoke certificate {number}?")
        } else {
            format!("Issue a replacement for certificate {number}?")
        },
        format!("/certificates/{number}/{action}"),
    );
    page.caption = "Certificates".into();
    page.cancel = format!("/certificates/{number}/record");
    page.hidden = vec![
        ("reason".into(), f.reason.clone()),
        ("name".into(), f.name.clone()),
        ("note".into(), f.note.clone()),
        ("confirmed".into(), "yes".into()),
    ];
    if action == "revoke" {
        page.paragraphs = vec![
            format!(
                "Reason: {}.",
                RevocationReason::parse(&f.reason).map_or("none chosen", |r| r.words())
            ),
            "Anyone checking it will see it is revoked, with the date and the reason, within a minute; the credential's status and the revocation list show it too.".into(),
        ];
        page.warning = "A revocation cannot be undone.".into();
        page.button = "Revoke the certificate".into();
        page.danger = true;
    } else {
        let reason = ReplacementReason::parse(&f.reason);
        page.paragraphs = vec![
            format!("Reason: {}.", reason.map_or("none chosen", |r| r.words())),
            if reason == Some(ReplacementReason::NameCorrection) {
                format!("The replacement will print the name \"{}\".", f.name.trim())
            } else {
                "The replacement prints the same details under a new number.".into()
            },
            "This certificate will show as replaced by the new one.".into(),
        ];
        page.button = "Issue the replacement".into();
    }
    render(&page)
}

async fn replace(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(number): Path<String>,
    Form(f): Form<ManageForm>,
) -> Result<Response, PageError> {
    if f.confirmed != "yes" {
        if ReplacementReason::parse(&f.reason).is_none() {
            return record_page(
                &app,
                &actor,
                &number,
                None,
                Some(("Choose why the certificate is replaced".into(), "reason")),
                f,
            )
            .await;
        }
        return Ok(confirm_page(&actor, &number, "replace", &f));
    }
    let name = (!f.name.trim().is_empty()).then_some(f.name.as_str());
    match app
        .replace_certificate(&actor, &number, &f.reason, name, &client_address(&headers))
        .await
    {
        Ok(new) => Ok(Redirect::to(&format!(
            "/certificates/{new}/record?done=replaced:{number}"
        ))
        .into_response()),
        Err(e) => refused_on_record(&app, &actor, &number, e, "name", f).await,
    }
}

/// A replacement or revocation the use case refused: the record again, with the reason at
/// `field` and the refusal's own status; anything else is an error page.
async fn refused_on_record(
    app: &AppState,
    actor: &crate::app::people::Actor,
    number: &str,
    e: AppError,
    field: &str,
    f: ManageForm,
) -> Result<Response, PageError> {
    if !matches!(
        e,
        AppError::Validation(_) | AppError::Conflict(_) | AppError::Forbidden(_)
    ) {
        return Err(e.into());
    }
    let status = crate::web::status_of(&e);
    let mut res = record_page(app, actor, number, None, Some((e.to_string(), field)), f).await?;
    *res.status_mut() = status;
    Ok(res)
}

async fn revoke(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(number): Path<String>,
    Form(f): Form<ManageForm>,
) -> Result<Response, PageError> {
    if f.confirmed != "yes" {
        let problem = if RevocationReason::parse(&f.reason).is_none() {
            Some((
                "Choose why the certificate is revoked".to_string(),
                "revoke-reason",
            ))
        } else if f.note.trim().is_empty() {
            Some((
                "Say what happened in the note (kept in the record, not shown publicly)"
                    .to_string(),
                "note",
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            return record_page(&app, &actor, &number, None, Some(p), f).await;
        }
        return Ok(confirm_page(&actor, &number, "revoke", &f));
    }
    match app
        .revoke_certificate(
            &actor,
            &number,
            &f.reason,
            &f.note,
            &client_address(&headers),
        )
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/certificates/{number}/record?done=revoked")).into_response(),
        ),
        Err(e) => refused_on_record(&app, &actor, &number, e, "note", f).await,
    }
}

// --- API: the register, replacement and revocation -----------------------------------------

/// The certificates you may see: your AO's (AO staff), your centres' (centre staff) or your
/// own (a learner), newest first, filtered.
#[utoipa::path(get, path = "/api/v1/certificates", tag = "certificates",
    params(RegisterParams),
    responses((status = 200, body = Vec<CertificateView>, headers(("Link" = String, description = "The next page, `<...>; rel=\"next\"`, when this one is full"))), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn api_register(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(p): ApiQuery<RegisterParams>,
) -> Result<Response, ApiError> {
    let (limit, offset) = super::api_range(p.limit, p.offset, API_REGISTER_LIMIT)?;
    let limit = limit.unwrap_or(API_REGISTER_LIMIT);
    let scope = app.register_scope(&actor);
    let filter = CertificateFilter {
        limit: Some(limit),
        offset: Some(offset),
        ..filter_of(&p)?
    };
    let list = app.certificates(&scope, filter).await?;
    let keep = [
        ("q", p.q.clone()),
        ("status", p.status.clone()),
        ("centre", p.centre.map(|c| c.to_string())),
        ("from", p.from.clone()),
        ("to", p.to.clone()),
    ];
    Ok(super::with_next_link(
        Json(&list).into_response(),
        "/api/v1/certificates",
        &keep,
        Some(limit),
        offset,
        list.len(),
    ))
}

/// A replacement to issue.
#[derive(Deserialize, ToSchema)]
pub struct ApiReplacement {
    /// lost, damaged or name_correction.
    pub reason: String,
    /// For a name correction: the name as it should be printed.
    #[serde(default)]
    pub name: Option<String>,
}

/// The certificate issued.
#[derive(serde::Serialize, ToSchema)]
pub struct ApiIssued {
    pub number: String,
}

/// Issue a replacement (the AO's staff, with a second factor): a new number, the original
/// shown as replaced by it.
#[utoipa::path(post, path = "/api/v1/certificates/{number}/replace", tag = "certificates",
    params(("number" = String, Path, description = "the certificate to replace")),
    request_body = ApiReplacement,
    responses((status = 201, body = ApiIssued), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn api_replace(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<ApiReplacement>,
) -> Result<(StatusCode, Json<ApiIssued>), ApiError> {
    let new = app
        .replace_certificate(
            &actor,
            &number,
            &body.reason,
            body.name.as_deref(),
            &client_address(&headers),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ApiIssued { number: new })))
}

/// A revocation.
#[derive(Deserialize, ToSchema)]
pub struct ApiRevocation {
    /// claimed_in_error, malpractice or maladministration.
    pub reason: String,
    /// What happened (kept in the record, never shown publicly).
    pub note: String,
}

/// Revoke a certificate (the AO's staff, with a second factor). Verification, the
/// revocation list and the credential's status show it within a minute.
#[utoipa::path(post, path = "/api/v1/certificates/{number}/revoke", tag = "certificates",
    params(("number" = String, Path, description = "the certificate to revoke")),
    request_body = ApiRevocation,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn api_revoke(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<ApiRevocation>,
) -> Result<StatusCode, ApiError> {
    app.revoke_certificate(
        &actor,
        &number,
        &body.reason,
        &body.note,
        &client_address(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- Open Badges 3.0: the credential, keys, revocation lists ------------------------------

/// A certificate's Open Badges 3.0 `AchievementCredential`, signed now as a VC-JWT
/// (`application/vc+jwt`) with the AO's current key; the header's `kid` is the URL of the
/// public key, also listed at `/.well-known/jwks.json`. No sign-in; limited per address;
/// cacheable for a minute. A revoked certificate's credential still verifies as a
/// signature: its `credentialStatus` (the AO's revocation list) says it is revoked.
#[utoipa::path(get, path = "/api/v1/certificates/{number}/credential", tag = "certificates",
    params(("number" = String, Path, description = "the certificate number, e.g. ISP-2026-0000042-K")),
    responses((status = 200, description = "the signed credential, a compact JWS", content_type = "application/vc+jwt"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn credential(
    State(app): State<AppState>,
    headers: HeaderMap,
    ApiPath(number): ApiPath<String>,
) -> Result<Response, ApiError> {
    if let Some(res) = limited(&app, &headers, true) {
        return Ok(res);
    }
    let jwt = app.credential_jwt(&number).await?;
    Ok(public_body(crate::credential::VC_JWT_MEDIA_TYPE, jwt))
}

/// Every AO's public signing keys, current and retired (a JWKS).
async fn jwks(State(app): State<AppState>) -> Result<Response, ApiError> {
    let keys = app.jwks().await?;
    Ok(public_body("application/jwk-set+json", keys.to_string()))
}

/// One public signing key (the `kid` of a credential's JWT header resolves here).
#[utoipa::path(get, path = "/api/v1/keys/{kid}", tag = "certificates",
    params(("kid" = String, Path, description = "the key's id")),
    responses((status = 200, description = "the public JWK", content_type = "application/jwk+json"), (status = 404, body = ErrorBody)))]
async fn api_key(
    State(app): State<AppState>,
    ApiPath(kid): ApiPath<String>,
) -> Result<Response, ApiError> {
    let key = app.published_key(&kid).await?;
    Ok(public_body("application/jwk+json", key.to_string()))
}

/// The AO's 1EdTech revocation list: every revoked credential's id and the reason's
/// category. Cacheable for a minute: a revocation shows within one.
#[utoipa::path(get, path = "/api/v1/revocation-lists/{ao}", tag = "certificates",
    params(("ao" = String, Path, description = "the awarding organisation's code, e.g. ISP")),
    responses((status = 200, description = "the revocation list", content_type = "application/json"), (status = 404, body = ErrorBody)))]
async fn api_revocation_list(
    State(app): State<AppState>,
    ApiPath(ao): ApiPath<String>,
) -> Result<Response, ApiError> {
    let list = app.revocation_list(&ao).await?;
    Ok(public_body("application/json", list.to_string()))
}

/// The certificate as a PDF to print (its AO's staff, its centre, the learner).
async fn pdf(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    let scope = app.register_scope(&actor);
    let (number, bytes) = app.certificate_pdf(&scope, &number).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"certificate-{number}.pdf\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// An achievement's id in a credential (a QAN or a unit reference) leads to its page in the
/// catalogue.
async fn achievement(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let cat = app.catalogue().await?;
    if let Some((_, q)) = cat.qualification(&code) {
        return Ok(Redirect::to(&format!(
            "/qualifications/{}",
            crate::app::catalogue::qan_slug(&q.qan)
        ))
        .into_response());
    }
    if let Some((_, u)) = cat.unit(&code) {
        return Ok(Redirect::to(&format!(
            "/units/{}",
            crate::app::catalogue::unit_slug(u.key.as_str())
        ))
        .into_response());
    }
    Err(AppError::NotFound(format!("achievement {code}")).into())
}
