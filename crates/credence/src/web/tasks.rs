//! Long tasks' pages (issue 15): `/tasks/{task}` follows one task (its progress while it
//! runs, its result once done), `/tasks` lists the person's own, `/tasks/{task}/file`
//! downloads what a task made, and `GET /api/v1/tasks/{task}` answers the same as JSON.
//!
//! Without JavaScript the page has a "Check progress" link; with it, `/static/task.js`
//! fetches the page every second and swaps its status in place (announced politely), then
//! shows the result when the task is done. Only the person who asked sees a task.

use crate::app::tasks::{TaskResult, TaskView, TaskWork};
use crate::web::access::CurrentActor;
use crate::web::pages::{PageError, render};
use crate::web::{ApiError, ApiPath, AppState, ErrorBody};
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

/// The pages' routes.
#[expect(
    clippy::let_and_return,
    reason = "one route a line, each through access::route"
)]
pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = crate::web::access::route(r, "/tasks", get(list_page));
    let r = crate::web::access::route(r, "/tasks/{task}", get(task_page));
    let r = crate::web::access::route(r, "/tasks/{task}/file", get(task_file));
    let r = crate::web::access::route(r, "/static/task.js", get(task_script));
    r
}

/// The API's routes, in the OpenAPI document.
pub fn api_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new().routes(routes!(get_task))
}

/// Where a task started from a form sends the browser: its page.
pub fn see_task(id: i64) -> Response {
    Redirect::to(&format!("/tasks/{id}")).into_response()
}

/// An API request that became a task: 202 Accepted, with where to follow it.
pub fn accepted(id: i64) -> Response {
    let link = format!("/api/v1/tasks/{id}");
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, link.clone())],
        Json(serde_json::json!({
            "task": id,
            "status": "queued",
            "link": link,
            "page": format!("/tasks/{id}"),
        })),
    )
        .into_response()
}

/// What the result says, ready for the page.
struct Shown {
    /// The result's headline (a success, or what went wrong).
    headline: String,
    success: bool,
    /// More lines under the headline.
    lines: Vec<String>,
    /// Problems, each on its own line (rows of a file).
    problems: Vec<String>,
    /// (link, words), the first one as a button.
    links: Vec<(String, String)>,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!(
            "{} {many}",
            crate::format::thousands(i64::try_from(n).unwrap_or(i64::MAX))
        )
    }
}

fn shown(t: &TaskView) -> Option<Shown> {
    if t.status == "failed" {
        let error = t
            .error
            .clone()
            .unwrap_or_else(|| "it failed for a reason not recorded".into());
        let again = back_to(&t.work);
        return Some(Shown {
            headline: "This task could not be done".into(),
            success: false,
            lines: vec![format!("{}.", error.trim_end_matches('.'))],
            problems: Vec::new(),
            links: vec![again],
        });
    }
    let result = t.result.as_ref()?;
    Some(match result {
        TaskResult::Registrations {
            centre,
            outcome,
            invited,
        } => {
            let mut lines = Vec::new();
            let (headline, success) = if outcome.registered == 0 {
                if outcome.errors.is_empty() {
                    ("The file has no learners to register".to_string(), false)
                } else {
                    let good = outcome.rows - outcome.bad_rows;
                    lines.push(format!(
                        "Correct the file, or upload it again and tick 'register the good rows' to register the {}.",
                        plural(good, "good row", "good rows")
                    ));
                    (
                        format!(
                            "Nothing was registered: {} of {} rows {} errors",
                            outcome.bad_rows,
                            outcome.rows,
                            if outcome.bad_rows == 1 { "has" } else { "have" }
                        ),
                        false,
                    )
                }
            } else {
                let rows = outcome.left_out_rows();
                if !rows.is_empty() {
                    lines.push(format!(
                        "{} had errors and {} left out: see why below.",
                        plural(rows.len(), "row", "rows"),
                        if rows.len() == 1 { "was" } else { "were" }
                    ));
                }
                (
                    format!(
                        "Registered {}",
                        plural(outcome.registered, "learner", "learners")
                    ),
                    true,
                )
            };
            if let Some((n, left)) = invited {
                lines.push(format!(
                    "Invitations to sign in were emailed to {}{}.",
                    plural(*n, "learner", "learners"),
                    if *left > 0 {
                        format!(" ({left} had no email address or can already sign in)")
                    } else {
                        String::new()
                    }
                ));
            }
            Shown {
                headline,
                success,
                lines,
                problems: outcome.errors.clone(),
                links: vec![
                    (
                        format!("/centres/{centre}/registrations"),
                        "See the centre's registrations".into(),
                    ),
                    (
                        format!("/centres/{centre}/registrations/new"),
                        "Register more learners".into(),
                    ),
                ],
            }
        }
        TaskResult::QaPlan {
            centre,
            qualification,
            added,
        } => Shown {
            headline: if *added == 0 {
                "The plan already covers everything the strategy asks for".into()
            } else {
                format!(
                    "Added {} to the sampling plan",
                    plural(*added, "sample", "samples")
                )
            },
            success: true,
            lines: Vec::new(),
            problems: Vec::new(),
            links: vec![(
                match qualification {
                    Some(q) => format!(
                        "/centres/{centre}/qa?qualification={}",
                        form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
                    ),
                    None => format!("/centres/{centre}/qa"),
                },
                "See the plan".into(),
            )],
        },
        TaskResult::PortfolioZip {
            file_name,
            bytes,
            kept_until,
            ..
        } => zip_ready(
            t,
            "The portfolio zip is ready",
            file_name,
            *bytes,
            kept_until,
        ),
        TaskResult::OwnDataZip {
            file_name,
            bytes,
            kept_until,
            ..
        } => zip_ready(
            t,
            "The zip of your data is ready",
            file_name,
            *bytes,
            kept_until,
        ),
    })
}

/// A zip a task made: its download, and the way back to where it was asked for.
fn zip_ready(t: &TaskView, headline: &str, file_name: &str, bytes: u64, kept_until: &str) -> Shown {
    Shown {
        headline: headline.into(),
        success: true,
        lines: vec![format!(
            "{file_name} ({}) can be downloaded until {}.",
            crate::evidence_store::human_size(bytes),
            crate::format::uk_date(kept_until)
        )],
        problems: Vec::new(),
        links: vec![
            (
                format!("/tasks/{}/file", t.id),
                format!("Download {file_name}"),
            ),
            back_to(&t.work),
        ],
    }
}

/// Where a task was asked for from, and the link's words.
fn back_to(work: &TaskWork) -> (String, String) {
    match work {
        TaskWork::Registrations { centre, .. } => (
            format!("/centres/{centre}/registrations/new"),
            "Upload the file again".to_string(),
        ),
        TaskWork::QaPlan { centre, .. } => {
            (format!("/centres/{centre}/qa"), "Back to the plan".into())
        }
        TaskWork::PortfolioZip { learner } => (
            format!("/learners/{learner}/portfolio"),
            "Back to the portfolio".into(),
        ),
        TaskWork::OwnDataZip => ("/account/data".into(), "Back to your data".into()),
    }
}

fn status_words(t: &TaskView) -> (&'static str, &'static str) {
    match t.status {
        "queued" => ("Waiting", "tag--grey"),
        "running" => ("In progress", "tag--blue"),
        "done" => ("Done", "tag--green"),
        _ => ("Failed", "tag--red"),
    }
}

fn progress_words(t: &TaskView) -> String {
    match (t.status, t.percent()) {
        ("done", _) => "Done".into(),
        ("failed", _) => "Stopped".into(),
        (_, Some(p)) => format!(
            "{} of {} ({p}%)",
            crate::format::thousands(t.done),
            crate::format::thousands(t.total)
        ),
        ("queued", None) => "Waiting for a worker".into(),
        _ => "Started".into(),
    }
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    title: String,
    has_error: bool,
    id: i64,
    finished: bool,
    status: &'static str,
    tag: &'static str,
    done: i64,
    total: i64,
    progress: String,
    note: Option<String>,
    /// The last try's error, while another try is to come.
    retrying: Option<String>,
    queued_at: String,
    finished_at: Option<String>,
    shown: Option<Shown>,
}

async fn task_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let t = app.task_for(&actor, id).await?;
    let (status, tag) = status_words(&t);
    let page = TaskPage {
        title: t.title.clone(),
        has_error: t.status == "failed",
        id: t.id,
        finished: t.finished(),
        status,
        tag,
        done: t.done,
        total: t.total,
        progress: progress_words(&t),
        note: t.note.clone(),
        retrying: (!t.finished() && t.attempts > 0)
            .then(|| t.error.clone())
            .flatten(),
        queued_at: crate::format::uk_date_time(&t.queued_at),
        finished_at: t.finished_at.as_deref().map(crate::format::uk_date_time),
        shown: shown(&t),
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct ListPage {
    title: String,
    has_error: bool,
    /// (id, what, asked, status, tag, progress)
    rows: Vec<(i64, String, String, &'static str, &'static str, String)>,
}

async fn list_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    let tasks = app.tasks_of(&actor).await?;
    Ok(render(&ListPage {
        title: "Your tasks".into(),
        has_error: false,
        rows: tasks
            .iter()
            .map(|t| {
                let (status, tag) = status_words(t);
                (
                    t.id,
                    t.title.clone(),
                    crate::format::uk_date_time(&t.queued_at),
                    status,
                    tag,
                    progress_words(t),
                )
            })
            .collect(),
    }))
}

async fn task_file(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (name, size, stream) = app.task_file(&actor, id).await?;
    Ok(crate::web::portfolio::file_response(
        Body::from_stream(stream),
        "application/zip",
        "attachment",
        &name,
        Some(size),
        "",
    ))
}

async fn task_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/task.js"),
    )
}

/// A long task as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct TaskJson {
    pub task: i64,
    /// `task.registrations`, `task.qa_plan`, `task.portfolio_zip` or `task.own_data_zip`.
    pub kind: String,
    pub title: String,
    /// queued, running, done or failed.
    pub status: String,
    /// How far it has got: `done` of `total` (0 of 0 until that is known).
    pub done: i64,
    pub total: i64,
    pub percent: Option<i64>,
    /// What it is doing now, in words.
    pub note: Option<String>,
    /// Why it failed (or why the last try did, while it will be tried again).
    pub error: Option<String>,
    pub attempts: i64,
    pub queued_at: String,
    pub finished_at: Option<String>,
    /// What it came to, once done (`kind` says which): registrations' `outcome` (as the
    /// registrations API answers) and `invited`; a plan's `added`; a zip's `file_name`,
    /// `bytes` and `kept_until`, downloaded from `file`.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Where to download what it made, when it made a file.
    pub file: Option<String>,
    /// Its page.
    pub page: String,
}

/// A long task you asked for (a registrations file, a sampling plan or a zip too big for one
/// request): its progress, and its result once done. Follow it until `status` is `done` or
/// `failed`. Only the person who asked may see it.
#[utoipa::path(get, path = "/api/v1/tasks/{task}", tag = "tasks",
    params(("task" = i64, Path, description = "the task's number (the `task` of the 202 answer that started it)")),
    responses((status = 200, body = TaskJson), (status = 404, body = ErrorBody)))]
async fn get_task(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TaskJson>, ApiError> {
    let t = app.task_for(&actor, id).await?;
    let file = t
        .result
        .as_ref()
        .and_then(TaskResult::file)
        .map(|_| format!("/tasks/{id}/file"));
    let mut result = t.result.as_ref().and_then(|r| serde_json::to_value(r).ok());
    if let Some(serde_json::Value::Object(m)) = &mut result {
        // Where the zip is kept is the server's business.
        m.remove("key");
    }
    Ok(Json(TaskJson {
        task: t.id,
        kind: t.kind.clone(),
        title: t.title.clone(),
        status: t.status.to_string(),
        done: t.done,
        total: t.total,
        percent: t.percent(),
        note: t.note.clone(),
        error: t.error.clone(),
        attempts: t.attempts,
        queued_at: t.queued_at.clone(),
        finished_at: t.finished_at.clone(),
        result,
        file,
        page: format!("/tasks/{id}"),
    }))
}
