//! A person's competence record, CPD and declared interests.

use super::*;

#[derive(Template)]
#[template(path = "competence.html")]
pub(super) struct CompetencePage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
    flags: Vec<String>,
    level: u8,
    /// (form key, title, status)
    awards: Vec<(usize, String, &'static str)>,
    cpd: Vec<(String, String, String)>,
    cpd_hours: String,
    interests: Vec<String>,
    /// (learner id, label) at the actor's centres
    learners: Vec<(i64, String)>,
    /// Whether the reader keeps a competence record (assessors, IQAs and EQAs).
    keeps_record: bool,
    /// The CPD form as typed, kept after a problem.
    cpd_form: CpdForm,
    /// The interest form as typed (learner, kind, details), kept after a problem.
    interest_form: (i64, String, String),
    /// The field the problem is about, for the error summary's link.
    error_at: &'static str,
    /// Whether the reader works at a centre or for an AO (anyone but a learner only), who
    /// declares interests in learners.
    staff: bool,
}

pub(super) async fn competence_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    competence_page_with(app, actor, error, notice, Kept::default(), "level").await
}

/// What a form with a problem had in it, to show again.
#[derive(Default)]
struct Kept {
    cpd: CpdForm,
    interest: (i64, String, String),
}

/// The page, with the CPD form as typed and the field a problem is about.
async fn competence_page_with(
    app: &AppState,
    actor: &crate::app::people::Actor,
    error: Option<String>,
    notice: Option<String>,
    kept: Kept,
    error_at: &'static str,
) -> Result<Response, PageError> {
    use credence_domain::people::competence::{self as comp, AssessorAward, AwardStatus};
    let record = app
        .competence(actor.person_id)
        .await?
        .unwrap_or(comp::CompetenceRecord {
            occupational_level: 1,
            awards: Vec::new(),
            cpd: Vec::new(),
        });
    let today = chrono::Utc::now().date_naive();
    let mut flags = Vec::new();
    for (role, kind) in [
        ("assessor", comp::StaffRole::Assessor),
        ("iqa", comp::StaffRole::Iqa),
    ] {
        if actor.has_role(role) {
            flags.extend(app.competence_flags(actor.person_id, kind).await?);
        }
    }
    let awards = AssessorAward::NAMED
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let status = match record
                .awards
                .iter()
                .find(|h| &h.award == a)
                .map(|h| h.status)
            {
                Some(AwardStatus::Held) => "held",
                Some(AwardStatus::WorkingTowards) => "working_towards",
                None => "none",
            };
            (i, a.title().to_string(), status)
        })
        .collect();
    let mut cpd: Vec<_> = record.cpd.clone();
    cpd.sort_by_key(|c| std::cmp::Reverse(c.date));
    let mut learners = Vec::new();
    let centres: Vec<i64> = actor
        .grants
        .iter()
        .filter(|g| g.role != "learner")
        .filter_map(|g| g.centre_id)
        .collect();
    for c in centres {
        for r in app.registrations_at_centre(actor, c, 500).await? {
            if !learners.iter().any(|(id, _)| *id == r.learner_id) {
                learners.push((
                    r.learner_id,
                    format!("{} {} ({})", r.given_name, r.family_name, r.centre_name),
                ));
            }
        }
    }
    let interests = app
        .store
        .interests(Some(actor.person_id), None)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .map(|i| {
            let kind: String =
                serde_json::from_str::<credence_domain::people::conflict::InterestKind>(&i.kind)
                    .map(|k| k.to_string())
                    .unwrap_or(i.kind);
            let who = learners
                .iter()
                .find(|(id, _)| *id == i.learner_id)
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| format!("learner {}", i.learner_id));
            format!(
                "{who}: {kind}, declared {}",
                crate::web::format::uk_date(&i.declared_on)
            )
        })
        .collect();
    Ok(render_status(
        error.is_some(),
        &CompetencePage {
            title: "Your competence".into(),
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            notice,
            flags,
            level: record.occupational_level,
            awards,
            cpd_hours: format!("{:.1}", comp::cpd_hours_last_12_months(&record, today)),
            cpd: cpd
                .iter()
                .map(|c| {
                    (
                        crate::web::format::uk_date(&c.date.to_string()),
                        format!("{:.1}", f64::from(c.minutes) / 60.0),
                        c.description.clone(),
                    )
                })
                .collect(),
            interests,
            learners,
            keeps_record: ["assessor", "iqa", "eqa"].iter().any(|r| actor.has_role(r)),
            staff: actor.grants.iter().any(|g| g.role != "learner"),
            cpd_form: kept.cpd,
            interest_form: kept.interest,
            error_at,
        },
    ))
}

pub(super) async fn competence(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    competence_page(&app, &actor, None, None).await
}

pub(super) async fn save_competence(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    use credence_domain::people::competence::{
        AssessorAward, AwardHeld, AwardStatus, CompetenceRecord,
    };
    let mut record = app
        .competence(actor.person_id)
        .await?
        .unwrap_or(CompetenceRecord {
            occupational_level: 1,
            awards: Vec::new(),
            cpd: Vec::new(),
        });
    record.occupational_level = f.get("level").and_then(|l| l.parse().ok()).unwrap_or(0);
    record.awards = AssessorAward::NAMED
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let status = match f.get(&format!("award_{i}")).map(String::as_str) {
                Some("held") => AwardStatus::Held,
                Some("working_towards") => AwardStatus::WorkingTowards,
                _ => return None,
            };
            Some(AwardHeld {
                award: a.clone(),
                status,
            })
        })
        .collect();
    match app
        .set_competence(&actor, &record, &client_address(&headers))
        .await
    {
        Ok(()) => competence_page(&app, &actor, None, Some("Saved.".into())).await,
        Err(AppError::Validation(m)) => competence_page(&app, &actor, Some(m), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct CpdForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    description: String,
}

pub(super) async fn add_cpd(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<CpdForm>,
) -> Result<Response, PageError> {
    use credence_domain::people::competence::{CompetenceRecord, CpdEntry};
    let date = match credence_domain::people::registration::parse_date(&f.date) {
        Ok(d) => d,
        Err(e) => {
            let m = if f.date.trim().is_empty() {
                "Date: enter the date of the CPD, for example 14/10/2026".to_string()
            } else {
                format!("Date: {e}")
            };
            return competence_page_with(
                &app,
                &actor,
                Some(m),
                None,
                Kept {
                    cpd: f,
                    ..Kept::default()
                },
                "cpd-date",
            )
            .await;
        }
    };
    let Some(minutes) = f
        .hours
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|h| *h > 0.0)
        .map(|h| (h * 60.0).round() as u32)
    else {
        return competence_page_with(
            &app,
            &actor,
            Some("Hours: give how long the CPD took, for example 1.5".into()),
            None,
            Kept {
                cpd: f,
                ..Kept::default()
            },
            "cpd-hours",
        )
        .await;
    };
    let mut record = app
        .competence(actor.person_id)
        .await?
        .unwrap_or(CompetenceRecord {
            occupational_level: 1,
            awards: Vec::new(),
            cpd: Vec::new(),
        });
    record.cpd.push(CpdEntry {
        date,
        minutes,
        description: f.description.trim().to_string(),
    });
    match app
        .set_competence(&actor, &record, &client_address(&headers))
        .await
    {
        Ok(()) => competence_page(&app, &actor, None, Some("CPD added.".into())).await,
        Err(AppError::Validation(m)) => {
            competence_page_with(
                &app,
                &actor,
                Some(m),
                None,
                Kept {
                    cpd: f,
                    ..Kept::default()
                },
                "cpd-what",
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct InterestForm {
    learner: i64,
    kind: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn declare_interest(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<InterestForm>,
) -> Result<Response, PageError> {
    match app
        .declare_interest(
            &actor,
            f.learner,
            &f.kind,
            &f.note,
            &client_address(&headers),
        )
        .await
    {
        Ok(()) => competence_page(
            &app,
            &actor,
            None,
            Some(
                "Interest declared: you will not assess, quality assure or moderate this learner."
                    .into(),
            ),
        )
        .await,
        Err(AppError::Validation(m)) => {
            let at = if f.kind == "other" { "note" } else { "kind" };
            let kept = Kept {
                interest: (f.learner, f.kind, f.note),
                ..Kept::default()
            };
            competence_page_with(&app, &actor, Some(m), None, kept, at).await
        }
        Err(e) => Err(e.into()),
    }
}
