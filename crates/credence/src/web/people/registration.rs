//! Registering learners: one in the page, or a CSV file.

use super::*;

pub use crate::app::registration::RegisterForm;

#[derive(Template)]
#[template(path = "register.html")]
pub(super) struct RegisterPage {
    title: String,
    has_error: bool,
    csrf: String,
    centre_id: i64,
    centre_name: String,
    summary: String,
    /// (field id, message)
    errors: Vec<(String, String)>,
    notice: Option<String>,
    /// After registering a file's good rows: the rows left out and why.
    left_out: Vec<String>,
    form: RegisterForm,
    /// (QAN, title) the centre is approved for
    qualifications: Vec<(String, String)>,
}

impl RegisterPage {
    /// The error message of one field, for the GOV.UK error pattern beside it.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

pub(super) async fn register_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    id: i64,
    form: RegisterForm,
    summary: String,
    errors: Vec<(String, String)>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    register_page_with(app, actor, id, form, summary, errors, notice, Vec::new()).await
}

#[expect(clippy::too_many_arguments, reason = "the page's parts, each its own")]
async fn register_page_with(
    app: &AppState,
    actor: &crate::app::people::Actor,
    id: i64,
    form: RegisterForm,
    summary: String,
    errors: Vec<(String, String)>,
    notice: Option<String>,
    left_out: Vec<String>,
) -> Result<Response, PageError> {
    let centre = app.centre(id).await?;
    let cat = app.catalogue().await?;
    let qualifications = app
        .approvals(id)
        .await?
        .into_iter()
        .map(|a| {
            let t = cat
                .programme(&a.qan)
                .map(|(_, q)| q.title.clone())
                .unwrap_or_default();
            (a.qan, t)
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        render(&RegisterPage {
            title: format!("Register learners: {}", centre.name),
            has_error: !errors.is_empty(),
            csrf: csrf_of(actor),
            centre_id: id,
            centre_name: centre.name,
            summary,
            errors,
            notice,
            left_out,
            form,
            qualifications,
        }),
    )
        .into_response())
}

pub(super) async fn register_form(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    register_page(
        &app,
        &actor,
        id,
        RegisterForm::default(),
        String::new(),
        Vec::new(),
        None,
    )
    .await
}

pub(super) async fn register_one(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<RegisterForm>,
) -> Result<Response, PageError> {
    let scope = app.centre_admin_scope(&actor, id).await?;
    match app
        .register_one(&scope, &f, &client_address(&headers))
        .await
    {
        Ok(learner) => Ok(Redirect::to(&format!("/learners/{learner}")).into_response()),
        Err(crate::app::registration::RegisterError::Fields(errors)) => {
            register_page(
                &app,
                &actor,
                id,
                f,
                "Check the learner's details".into(),
                errors,
                None,
            )
            .await
        }
        Err(crate::app::registration::RegisterError::App(e)) => Err(e.into()),
    }
}

pub(super) async fn register_upload(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    mut form: axum::extract::Multipart,
) -> Result<Response, PageError> {
    let mut bytes = None;
    let mut good_rows = false;
    let mut invite = false;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("file") => bytes = field.bytes().await.ok().map(|b| b.to_vec()),
            Some("good_rows") => good_rows = true,
            Some("invite") => invite = true,
            _ => {}
        }
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return register_page(
            &app,
            &actor,
            id,
            RegisterForm::default(),
            "Select a CSV file".into(),
            vec![("file".into(), "Select a CSV file".into())],
            None,
        )
        .await;
    };
    let scope = app.centre_admin_scope(&actor, id).await?;
    if crate::app::App::csv_rows(&bytes) > app.task_thresholds.csv_rows {
        // A large file: registered in the background, followed on the task's page.
        let task = app
            .start_task(
                &actor,
                crate::app::App::registrations_task(id, &bytes, good_rows, invite),
                &client_address(&headers),
            )
            .await?;
        return Ok(crate::web::tasks::see_task(task));
    }
    let outcome = app
        .register_csv(&scope, &bytes, good_rows, &client_address(&headers), |_| {})
        .await?;
    if outcome.registered == 0 || !outcome.errors.is_empty() && !good_rows {
        let summary = if outcome.errors.is_empty() {
            "The file has no learners to register.".to_string()
        } else {
            let good = outcome.rows - outcome.bad_rows;
            format!(
                "{} of {} rows {} errors: nothing was registered. Correct the file, or tick 'register the good rows' to register the {}.",
                outcome.bad_rows,
                outcome.rows,
                if outcome.bad_rows == 1 { "has" } else { "have" },
                if good == 1 {
                    "1 good row".to_string()
                } else {
                    format!("{good} good rows")
                }
            )
        };
        let errors = outcome
            .errors
            .iter()
            .map(|e| ("file".to_string(), e.clone()))
            .collect();
        return register_page(
            &app,
            &actor,
            id,
            RegisterForm::default(),
            summary,
            errors,
            None,
        )
        .await;
    }
    let invited = if invite {
        let (n, left) = app
            .invite_learners(&actor, id, &outcome.learners, &client_address(&headers))
            .await?;
        format!(
            " Invitations to sign in were emailed to {n}{}.",
            if left > 0 {
                format!(" ({left} had no email address or can already sign in)")
            } else {
                String::new()
            }
        )
    } else {
        String::new()
    };
    let notice = format!(
        "{}{invited}",
        registered_notice(outcome.registered, &outcome.left_out_rows())
    );
    register_page_with(
        &app,
        &actor,
        id,
        RegisterForm::default(),
        String::new(),
        Vec::new(),
        Some(notice),
        outcome.errors,
    )
    .await
}

/// What registering a file's good rows did: "Registered 3 learners. Row 5 had errors and was
/// left out: see below." (each count in its right number).
fn registered_notice(registered: usize, left_out: &[usize]) -> String {
    let learners = if registered == 1 {
        "1 learner".to_string()
    } else {
        format!("{registered} learners")
    };
    let rows: Vec<String> = left_out.iter().map(ToString::to_string).collect();
    match rows.as_slice() {
        [] => format!("Registered {learners}."),
        [one] => {
            format!("Registered {learners}. Row {one} had errors and was left out: see why below.")
        }
        [init @ .., last] => format!(
            "Registered {learners}. Rows {} and {last} had errors and were left out: see why below.",
            init.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::registered_notice;

    #[test]
    fn the_notice_names_the_rows_left_out_in_the_right_number() {
        assert_eq!(registered_notice(1, &[]), "Registered 1 learner.");
        assert_eq!(
            registered_notice(3, &[5]),
            "Registered 3 learners. Row 5 had errors and was left out: see why below."
        );
        assert_eq!(
            registered_notice(2, &[2, 4, 7]),
            "Registered 2 learners. Rows 2, 4 and 7 had errors and were left out: see why below."
        );
    }
}
