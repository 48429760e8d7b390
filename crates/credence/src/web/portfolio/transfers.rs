//! Transfer requests and decisions, and the AO's grade boundaries.

use super::*;

#[derive(Deserialize)]
pub(super) struct TransferForm {
    to_centre: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn request_transfer(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((centre, registration)): Path<(i64, i64)>,
    axum::Form(f): axum::Form<TransferForm>,
) -> Result<Response, PageError> {
    let reg = app
        .store
        .registration(registration)
        .await
        .map_err(AppError::from)?
        .filter(|r| r.centre_id == centre)
        .ok_or_else(|| {
            PageError::from(AppError::NotFound(format!("registration {registration}")))
        })?;
    let result = async {
        let to: i64 = f.to_centre.trim().parse().map_err(|_| {
            AppError::Validation("Choose the centre the learner is moving to".into())
        })?;
        app.request_transfer(
            &actor,
            registration,
            to,
            &f.reason,
            &client_address(&headers),
        )
        .await
    }
    .await;
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/learners/{}?done=transfer", reg.learner_id)).into_response(),
        ),
        // The learner page again, with the problem where the form is.
        Err(e) if is_user_error(&e) => {
            let status = crate::web::status_of(&e);
            let mut res = crate::web::people::learner_page_with(
                &app,
                &actor,
                reg.learner_id,
                Some(crate::web::public_message(&e)),
                None,
                Some((registration, f.to_centre.clone(), f.reason.clone())),
            )
            .await?;
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct DecisionForm {
    decision: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn decide_transfer(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<DecisionForm>,
) -> Result<Response, PageError> {
    let approve = match f.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return Err(AppError::Validation("Choose approve or refuse".into()).into()),
    };
    app.decide_transfer(&actor, id, approve, &f.note, &client_address(&headers))
        .await?;
    Ok(Redirect::to("/home?done=decided").into_response())
}

#[derive(Deserialize)]
pub(super) struct BoundaryForm {
    #[serde(default)]
    merit: String,
    #[serde(default)]
    distinction: String,
}

pub(super) async fn grade_boundaries(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(qan): Path<String>,
    axum::Form(f): axum::Form<BoundaryForm>,
) -> Result<Response, PageError> {
    let parse = |s: &str, what: &str| -> AppResult<Option<u32>> {
        if s.trim().is_empty() {
            return Ok(None);
        }
        s.trim().parse().map(Some).map_err(|_| {
            AppError::Validation(format!(
                "Enter the {what} boundary as a percentage, such as 65"
            ))
        })
    };
    let qan = qan_from_slug(&qan);
    let merit = parse(&f.merit, "Merit")?;
    let distinction = parse(&f.distinction, "Distinction")?;
    app.set_grade_boundaries(&actor, &qan, merit, distinction, &client_address(&headers))
        .await?;
    Ok(Redirect::to(&format!(
        "/qualifications/{}?done=boundaries",
        qan_slug(&qan)
    ))
    .into_response())
}
