//! Each role's home page, switching roles, inviting AO staff and EQAs.

use super::*;

pub(super) struct Row {
    link: String,
    cells: Vec<String>,
    /// Tags after the first cell: (class, words), e.g. ("tag--red", "Overdue").
    tags: Vec<(&'static str, String)>,
}

impl Row {
    fn new(link: String, cells: Vec<String>) -> Row {
        Row {
            link,
            cells,
            tags: Vec::new(),
        }
    }
}

pub(super) struct Section {
    heading: String,
    intro: String,
    columns: Vec<&'static str>,
    rows: Vec<Row>,
    actions: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub(super) struct Dashboard {
    title: String,
    has_error: bool,
    name: String,
    csrf: String,
    /// (grant id, label, active)
    grants: Vec<(i64, String, bool)>,
    sections: Vec<Section>,
    /// The AO whose staff and EQAs this person may invite.
    invite_ao: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    /// Transfers waiting for this AO staff member: (id, description).
    transfers: Vec<(i64, String)>,
    /// Their roles need a second factor and this sign-in has none.
    needs_second_factor: bool,
}

pub(super) async fn home(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    home_page(&app, &actor, None, None).await
}

#[derive(Deserialize)]
pub(super) struct AoInviteForm {
    name: String,
    email: String,
    role: String,
    ao: String,
}

pub(super) async fn invite_ao(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<AoInviteForm>,
) -> Result<Response, PageError> {
    match app
        .invite(
            &actor,
            &f.email,
            &f.name,
            &f.role,
            Some(&f.ao),
            None,
            &client_address(&headers),
        )
        .await
    {
        Ok(token) => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let link = format!("http://{host}/invitations/{token}");
            home_page(
                &app,
                &actor,
                Some(format!(
                    "Send {} this one-time link (it works for {} days): {link}",
                    f.email,
                    crate::app::people::INVITATION_DAYS
                )),
                None,
            )
            .await
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            home_page(&app, &actor, None, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn home_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let centres = app.visible_centres(actor).await?;
    let centre_name = |id: Option<i64>| {
        id.and_then(|id| centres.iter().find(|c| c.centre.centre_id == id))
            .map(|c| c.centre.name.clone())
            .unwrap_or_default()
    };
    let grants = actor
        .grants
        .iter()
        .map(|g| {
            let at = match (&g.ao_code, g.centre_id) {
                (Some(ao), _) => format!(" for {ao}"),
                (_, Some(c)) => format!(" at {}", centre_name(Some(c))),
                _ => String::new(),
            };
            (
                g.role_grant_id,
                format!("{}{at}", role_name(g.role.as_str())),
                actor
                    .active
                    .as_ref()
                    .is_some_and(|a| a.role_grant_id == g.role_grant_id),
            )
        })
        .collect();
    let mut sections = quality_sections(app, actor).await?;
    if let Some(active) = &actor.active {
        match active.role.as_str() {
            "ao_staff" | "eqa" => {
                let mut rows = Vec::new();
                for c in &centres {
                    let n = app
                        .store
                        .count_registrations(c.centre.centre_id)
                        .await
                        .map_err(AppError::from)?;
                    let approvals = app.approvals(c.centre.centre_id).await?.len();
                    let dcs = c
                        .aos
                        .iter()
                        .filter(|a| a.direct_claim_status == 1)
                        .map(|a| a.ao_code.clone())
                        .collect::<Vec<_>>();
                    rows.push(Row::new(
                        format!("/centres/{}", c.centre.centre_id),
                        vec![
                            c.centre.name.clone(),
                            approvals.to_string(),
                            n.to_string(),
                            if dcs.is_empty() {
                                "No".into()
                            } else {
                                dcs.join(", ")
                            },
                        ],
                    ));
                }
                let mut actions = vec![("All centres".to_string(), "/centres".to_string())];
                if active.role == "ao_staff" {
                    actions.push(("Catalogue versions".into(), "/catalogue/versions".into()));
                }
                sections.push(Section {
                    heading: if active.role == "ao_staff" {
                        "Your awarding organisation's centres".into()
                    } else {
                        "Centres you are appointed to".into()
                    },
                    intro: String::new(),
                    columns: vec![
                        "Centre",
                        "Approved qualifications",
                        "Registrations",
                        "Direct claim status",
                    ],
                    rows,
                    actions,
                });
            }
            "centre_admin" => {
                let centre_id = active.centre_id.unwrap_or_default();
                let regs = app.registrations_at_centre(actor, centre_id, 50).await?;
                let n = app
                    .store
                    .count_registrations(centre_id)
                    .await
                    .map_err(AppError::from)?;
                sections.push(Section {
                    heading: format!("Registrations at {} ({n})", centre_name(active.centre_id)),
                    intro: String::new(),
                    columns: vec!["Learner", "ULN", "Qualification", "Registered"],
                    rows: regs
                        .into_iter()
                        .map(|r| {
                            Row::new(
                                format!("/learners/{}", r.learner_id),
                                vec![
                                    format!("{} {}", r.given_name, r.family_name),
                                    r.uln.unwrap_or_default(),
                                    r.qan,
                                    crate::web::format::uk_date(&r.registered_at),
                                ],
                            )
                        })
                        .collect(),
                    actions: vec![
                        ("The centre".to_string(), format!("/centres/{centre_id}")),
                        (
                            "Register learners".into(),
                            format!("/centres/{centre_id}/registrations/new"),
                        ),
                        (
                            "Quality assurance".into(),
                            format!("/centres/{centre_id}/qa"),
                        ),
                        ("Claims".into(), format!("/centres/{centre_id}/claims")),
                    ],
                });
            }
            "assessor" | "iqa" => {
                let centre_id = active.centre_id.unwrap_or_default();
                let regs = app
                    .store
                    .assigned_registrations(actor.person_id, centre_id, active.role.as_str())
                    .await
                    .map_err(AppError::from)?;
                let what = if active.role == "iqa" {
                    "to quality assure"
                } else {
                    "to assess"
                };
                sections.push(Section {
                    heading: format!("Your caseload at {} ({})", centre_name(active.centre_id), regs.len()),
                    intro: if regs.is_empty() { format!("No learner is assigned to you {what} yet: the centre's administrator assigns learners.") } else { format!("Learners assigned to you {what}.") },
                    columns: vec!["Learner", "ULN", "Qualification", "Criteria met", "Units signed off"],
                    rows: {
                        let mut rows = Vec::new();
                        for r in regs {
                            let (met, units) = match app.portfolio(actor, r.learner_id).await {
                                Ok(p) => (
                                    format!("{} of {}", p.progress.met, p.progress.total),
                                    format!("{} of {}", p.units.iter().filter(|u| u.signed_off).count(), p.units.len()),
                                ),
                                Err(_) => (String::new(), String::new()),
                            };
                            rows.push(Row::new(
                                format!("/learners/{}/portfolio", r.learner_id),
                                vec![format!("{} {}", r.given_name, r.family_name), r.uln.unwrap_or_default(), r.qan, met, units],
                            ));
                        }
                        rows
                    },
                    actions: vec![
                        ("The centre".to_string(), format!("/centres/{centre_id}")),
                        ("Your competence".into(), "/account/competence".into()),
                    ],
                });
            }
            "learner" => {
                let learner = active.learner_id.unwrap_or_default();
                let regs = app
                    .store
                    .registrations_of_learner(learner)
                    .await
                    .map_err(AppError::from)?;
                let cat = app.catalogue().await?;
                sections.push(Section {
                    heading: "Your qualifications".into(),
                    intro: String::new(),
                    columns: vec!["Qualification", "Centre", "Units", "Registered"],
                    rows: regs
                        .into_iter()
                        .map(|r| {
                            let (title, units) = cat
                                .qualification(&r.qan)
                                .map(|(_, q)| (q.title.clone(), q.units.len().to_string()))
                                .unwrap_or((r.qan.clone(), String::new()));
                            Row::new(
                                format!(
                                    "/qualifications/{}",
                                    crate::app::catalogue::qan_slug(&r.qan)
                                ),
                                vec![
                                    title,
                                    r.centre_name,
                                    units,
                                    crate::web::format::uk_date(&r.registered_at),
                                ],
                            )
                        })
                        .collect(),
                    actions: vec![
                        (
                            "Your portfolio".into(),
                            format!("/learners/{learner}/portfolio"),
                        ),
                        (
                            "Add evidence".into(),
                            format!("/learners/{learner}/evidence/new"),
                        ),
                        ("Your record".into(), format!("/learners/{learner}")),
                    ],
                });
            }
            _ => {}
        }
    }
    let transfers = if actor.active.as_ref().is_some_and(|g| g.role == "ao_staff") {
        app.transfers_to_decide(actor)
            .await?
            .into_iter()
            .map(|t| {
                (
                    t.transfer_id,
                    format!(
                        "{} {}, {}: from {} to {}, asked {}. Reason: {}",
                        t.given_name,
                        t.family_name,
                        t.qan,
                        t.from_centre_name,
                        t.to_centre_name,
                        crate::web::format::uk_date(&t.requested_at),
                        t.reason
                    ),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let invite_ao = actor
        .active
        .as_ref()
        .filter(|g| g.role == "ao_staff")
        .and_then(|g| g.ao_code.clone());
    Ok(render_status(
        error.is_some(),
        &Dashboard {
            title: "Your work".into(),
            has_error: error.is_some(),
            name: actor.name.clone(),
            csrf: csrf_of(actor),
            grants,
            sections,
            invite_ao,
            notice,
            error,
            transfers,
            needs_second_factor: crate::app::second_factor::required_for(actor)
                && !actor.second_factor,
        },
    ))
}

/// How many rows a home page panel shows.
const PANEL_ROWS: usize = 50;

/// A stored date or timestamp as people read it in the UK: "29 November 2026".
fn uk_date(at: &str) -> String {
    match chrono::NaiveDate::parse_from_str(at.get(..10).unwrap_or(at), "%Y-%m-%d") {
        Ok(d) => d.format("%-d %B %Y").to_string(),
        Err(_) => at.to_string(),
    }
}

fn overdue_tag(overdue: bool) -> Vec<(&'static str, String)> {
    if overdue {
        vec![("tag--red", "Overdue".to_string())]
    } else {
        Vec::new()
    }
}

fn shown_of(n: usize) -> String {
    if n > PANEL_ROWS {
        format!(" Showing the first {PANEL_ROWS} of {n}.")
    } else {
        String::new()
    }
}

/// Quality assurance on the home page: an IQA's sampling queue, what IQAs referred back to an
/// assessor, and the EQA visits due for AO staff and EQAs.
async fn quality_sections(
    app: &AppState,
    actor: &crate::app::people::Actor,
) -> Result<Vec<Section>, PageError> {
    let active = actor
        .active
        .as_ref()
        .map(|g| g.role.as_str())
        .unwrap_or_default();
    let active_centre = actor.active.as_ref().and_then(|g| g.centre_id);
    let today = crate::app::quality::today();
    let past = |due: &str| crate::app::quality::day_of(due) < today;
    let mut out = Vec::new();
    if active == "iqa" {
        let cat = app.catalogue().await?;
        let unit_ref = |key: &str| {
            cat.specs
                .iter()
                .find_map(|cs| cs.spec.unit(key))
                .map(|u| u.ao_ref.clone())
                .unwrap_or_else(|| key.to_string())
        };
        let (queue, total) = app.iqa_queue_page(actor).await?;
        let n = usize::try_from(total).unwrap_or(queue.len());
        let rows = queue
            .into_iter()
            .take(PANEL_ROWS)
            .map(|s| {
                let todo = match s.state.as_str() {
                    "planned" => "Open and sample it",
                    "open" => "Record your decisions",
                    "referred" => "Close the referral once resolved",
                    _ => "",
                };
                let overdue = matches!(s.state.as_str(), "planned" | "open") && past(&s.due_on);
                Row {
                    link: format!("/qa/samples/{}", s.sample_id),
                    cells: vec![
                        format!("{} {}", s.given_name, s.family_name),
                        unit_ref(&s.unit_key),
                        s.assessor_name.clone(),
                        credence_domain::qa::Stage::parse(&s.stage)
                            .map(|st| st.title().to_string())
                            .unwrap_or(s.stage.clone()),
                        todo.to_string(),
                        uk_date(&s.due_on),
                    ],
                    tags: overdue_tag(overdue),
                }
            })
            .collect();
        let mut actions = Vec::new();
        if let Some(c) = active_centre {
            actions.push(("The sampling plan".to_string(), format!("/centres/{c}/qa")));
            actions.push((
                "Standardisation".to_string(),
                format!("/centres/{c}/standardisation"),
            ));
        }
        out.push(Section {
            heading: format!("Your sampling queue ({n})"),
            intro: if n == 0 {
                "Nothing to sample now. Generate the sampling plan to add the samples the strategy calls for.".into()
            } else {
                format!(
                    "Samples to open or decide and referrals to close at your centres, due first.{}",
                    shown_of(n)
                )
            },
            columns: vec!["Learner", "Unit", "Assessor", "Stage", "To do", "Due"],
            rows,
            actions,
        });
    }
    if actor.has_role("assessor") {
        let referrals = app.assessor_actions(actor).await?;
        if active == "assessor" || !referrals.is_empty() {
            let n = referrals.len();
            let cat = app.catalogue().await?;
            let rows = referrals
                .into_iter()
                .take(PANEL_ROWS)
                .map(|(s, d)| {
                    let unit = cat
                        .specs
                        .iter()
                        .find_map(|cs| cs.spec.unit(&s.unit_key))
                        .map(|u| u.ao_ref.clone())
                        .unwrap_or_else(|| s.unit_key.clone());
                    let due = d.due_on.clone().unwrap_or_default();
                    Row {
                        link: format!(
                            "/learners/{}/portfolio/units/{}",
                            s.learner_id,
                            crate::app::catalogue::unit_slug(&s.unit_key)
                        ),
                        cells: vec![
                            format!("{} {}", s.given_name, s.family_name),
                            unit,
                            d.criterion
                                .clone()
                                .unwrap_or_else(|| "The whole unit".into()),
                            d.action.clone(),
                            d.iqa_name.clone(),
                            uk_date(&due),
                        ],
                        tags: overdue_tag(!due.is_empty() && past(&due)),
                    }
                })
                .collect();
            out.push(Section {
                heading: format!("Referred back to you ({n})"),
                intro: if n == 0 {
                    "Nothing is referred back to you by an IQA.".into()
                } else {
                    format!(
                        "The IQA sampled these units and referred them back: do what they ask, judge again and sign off again.{}",
                        shown_of(n)
                    )
                },
                columns: vec!["Learner", "Unit", "Criterion", "What to do", "IQA", "Due"],
                rows,
                actions: Vec::new(),
            });
        }
    }
    if matches!(active, "ao_staff" | "eqa") {
        let due = app.visits_due(actor).await?;
        let n = due.len();
        let rows = due
            .into_iter()
            .take(PANEL_ROWS)
            .map(|v| Row {
                link: format!("/centres/{}/visits", v.centre),
                cells: vec![
                    v.centre_name.clone(),
                    v.ao.clone(),
                    uk_date(&v.due_by),
                    v.scheduled
                        .as_deref()
                        .map(uk_date)
                        .unwrap_or_else(|| "Not scheduled".into()),
                ],
                tags: overdue_tag(v.overdue),
            })
            .collect();
        out.push(Section {
            heading: format!("EQA visits due ({n})"),
            intro: if n == 0 {
                "No visit is due: every centre with learners has had its visit this year.".into()
            } else {
                format!(
                    "Every centre with learners has an EQA visit at least once a year.{}",
                    shown_of(n)
                )
            },
            columns: vec!["Centre", "Awarding organisation", "Due by", "Scheduled"],
            rows,
            actions: Vec::new(),
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
pub(super) struct ContextForm {
    grant: i64,
}

pub(super) async fn switch_context(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Form(f): Form<ContextForm>,
) -> Result<Response, PageError> {
    app.switch_context(&actor, f.grant).await?;
    Ok(Redirect::to("/home").into_response())
}
