//! Achievement logs (page and PDF) and the portfolio zip.

use super::*;

#[derive(Template)]
#[template(path = "achievement_log.html")]
pub(super) struct LogPage {
    title: String,
    has_error: bool,
    learner_id: i64,
    slug: String,
    log: crate::pdf::AchievementLog,
}

pub(super) async fn log_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((learner, qan)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    let (_, log) = app
        .achievement_log(&actor, learner, &qan_from_slug(&qan))
        .await?;
    let log = log.in_uk_words();
    Ok(render(&LogPage {
        title: format!("{}: {}", log.title, log.learner_name),
        has_error: false,
        learner_id: learner,
        slug: qan_slug(&qan_from_slug(&qan)),
        log,
    }))
}

pub(super) async fn log_pdf(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((learner, qan)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    let qan = qan_from_slug(&qan);
    let (_, log) = app.achievement_log(&actor, learner, &qan).await?;
    let log = log.in_uk_words();
    let bytes = tokio::task::spawn_blocking(move || crate::pdf::render(&log))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let len = bytes.len() as u64;
    Ok(file_response(
        Body::from(bytes),
        "application/pdf",
        "inline",
        &format!("achievement-log-{}-{learner}.pdf", qan_slug(&qan)),
        Some(len),
        "",
    ))
}

pub(super) async fn zip(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: axum::http::HeaderMap,
    Path(learner): Path<i64>,
) -> Result<Response, PageError> {
    if app.portfolio_zip_is_a_task(&actor, learner).await? {
        // Gigabytes of evidence: zipped in the background and kept for a week, followed
        // on the task's page (a download link cannot wait minutes for its first byte).
        let task = app
            .start_task(
                &actor,
                crate::app::tasks::TaskWork::PortfolioZip { learner },
                &crate::web::access::client_address(&headers),
            )
            .await?;
        return Ok(crate::web::tasks::see_task(task));
    }
    let file = app.portfolio_zip(&actor, learner).await?;
    let size = file.metadata().map(|m| m.len()).ok();
    let stream = tokio_util_stream(file);
    Ok(file_response(
        Body::from_stream(stream),
        "application/zip",
        "attachment",
        &format!("portfolio-{learner}.zip"),
        size,
        "",
    ))
}

/// Stream an (already unlinked) temporary file in 64 KiB chunks.
pub(crate) fn tokio_util_stream(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    crate::evidence_store::file_stream(file)
}
