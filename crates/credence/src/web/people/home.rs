//! Each role's home page, switching roles, inviting AO staff and EQAs.

use super::*;
use crate::web::format::uk_date;

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
    /// Show the caseload's filter form above the table.
    filter: bool,
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
    /// The caseload filter as chosen.
    f_status: String,
    f_q: String,
    f_sort: String,
}

/// The caseload's filter, search and order (query parameters of `/home`).
#[derive(Deserialize, Default, Clone)]
pub(super) struct CaseloadQuery {
    /// all, awaiting (evidence awaiting assessment), ready (units ready to sign), referred,
    /// stalled (nothing for 30 days).
    #[serde(default)]
    status: String,
    /// A name or ULN, or part of one.
    #[serde(default)]
    q: String,
    /// name, or activity (last activity, oldest first).
    #[serde(default)]
    sort: String,
}

pub(super) async fn home(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(filter): Query<CaseloadQuery>,
) -> Result<Response, PageError> {
    home_page_filtered(&app, &actor, None, None, filter).await
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
        Ok(_) => {
            home_page(
                &app,
                &actor,
                Some(format!(
                    "We have emailed an invitation to {}. Its link works once, for {} days.",
                    f.email.trim(),
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
    home_page_filtered(app, actor, notice, error, CaseloadQuery::default()).await
}

pub(super) async fn home_page_filtered(
    app: &AppState,
    actor: &crate::app::people::Actor,
    notice: Option<String>,
    error: Option<String>,
    filter: CaseloadQuery,
) -> Result<Response, PageError> {
    // The catalogue once for the whole page (each read checks the published versions).
    let cat = app.catalogue().await?;
    let centres = app.visible_centres_named(actor).await?;
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
    // An assessor's open referrals: shown in their own panel and tagged in the caseload.
    let referrals = if actor.has_role("assessor") {
        app.assessor_actions(actor).await?
    } else {
        Vec::new()
    };
    let referred: std::collections::BTreeSet<i64> =
        referrals.iter().map(|(s, _)| s.learner_id).collect();
    let mut sections = quality_sections(app, actor, referrals, &cat).await?;
    if let Some(active) = &actor.active {
        match active.role.as_str() {
            "ao_staff" | "eqa" => {
                let mut rows = Vec::new();
                // The first centres by name, with their counts in two queries; the rest
                // are on "All centres".
                let shown: Vec<_> = centres.iter().take(PANEL_ROWS).collect();
                let counts = app
                    .store
                    .centre_counts(&shown.iter().map(|c| c.centre.centre_id).collect::<Vec<_>>())
                    .await
                    .map_err(AppError::from)?;
                for c in shown {
                    let (approvals, n) =
                        counts.get(&c.centre.centre_id).copied().unwrap_or_default();
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
                    actions.push(("Staff and EQAs".into(), "/people".into()));
                    actions.push(("Certificates".into(), "/certificates".into()));
                    actions.push(("Records retention".into(), "/records".into()));
                }
                sections.push(Section {
                    heading: if active.role == "ao_staff" {
                        "Your awarding organisation's centres".into()
                    } else {
                        "Centres you are appointed to".into()
                    },
                    intro: shown_of(centres.len()).trim().to_string(),
                    columns: vec![
                        "Centre",
                        "Approved qualifications",
                        "Registrations",
                        "Direct claim status",
                    ],
                    rows,
                    actions,
                    filter: false,
                });
            }
            "centre_admin" => {
                let centre_id = active.centre_id.unwrap_or_default();
                let scope = app.centre_admin_scope(actor, centre_id).await?;
                let (unassigned, stalled) = app.centre_attention(&scope).await?;
                let activity_row = |l: &crate::app::needs::LearnerActivity| {
                    Row::new(
                        format!("/learners/{}", l.learner_id),
                        vec![
                            l.name.clone(),
                            l.qan.clone(),
                            uk_date(&l.registered_at),
                            l.last_activity
                                .as_deref()
                                .map(uk_date)
                                .unwrap_or_else(|| "Nothing yet".into()),
                        ],
                    )
                };
                if !unassigned.is_empty() {
                    sections.push(Section {
                        heading: format!("Learners without an assessor ({})", unassigned.len()),
                        intro: format!(
                            "Assign each an assessor on their page: until then nobody judges their evidence.{}",
                            shown_of(unassigned.len())
                        ),
                        columns: vec!["Learner", "Qualification", "Registered", "Last activity"],
                        rows: unassigned.iter().take(PANEL_ROWS).map(activity_row).collect(),
                        actions: Vec::new(),
                        filter: false,
                    });
                }
                if !stalled.is_empty() {
                    sections.push(Section {
                        heading: format!("Stalled learners ({})", stalled.len()),
                        intro: format!(
                            "Nothing added, judged or signed for {} days or more, longest first.{}",
                            crate::app::needs::STALLED_DAYS,
                            shown_of(stalled.len())
                        ),
                        columns: vec!["Learner", "Qualification", "Registered", "Last activity"],
                        rows: stalled.iter().take(PANEL_ROWS).map(activity_row).collect(),
                        actions: Vec::new(),
                        filter: false,
                    });
                }
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
                                    uk_date(&r.registered_at),
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
                        (
                            "Records retention".into(),
                            format!("/centres/{centre_id}/records"),
                        ),
                        ("Claims".into(), format!("/centres/{centre_id}/claims")),
                        ("Certificates".into(), "/certificates".into()),
                    ],
                    filter: false,
                });
            }
            "assessor" | "iqa" => {
                let centre_id = active.centre_id.unwrap_or_default();
                let regs = app
                    .store
                    .caseload_registrations(actor.person_id, centre_id, active.role.as_str())
                    .await
                    .map_err(AppError::from)?;
                let what = if active.role == "iqa" {
                    "to quality assure"
                } else {
                    "to assess"
                };
                let stalled_before = crate::store::timestamp(
                    chrono::Utc::now() - chrono::Duration::days(crate::app::needs::STALLED_DAYS),
                );
                struct Case {
                    row: Row,
                    name: String,
                    activity: String,
                    awaiting: bool,
                    ready: bool,
                    referred: bool,
                    stalled: bool,
                }
                let mut cases = Vec::new();
                let mut awaiting_rows = Vec::new();
                let mut ready_rows = Vec::new();
                let regs: Vec<_> = regs
                    .into_iter()
                    .filter(|c| {
                        c.registration.status != "withdrawn"
                            && c.registration.status != "transferred"
                    })
                    .collect();
                let total = regs.len();
                let summaries = app
                    .caseload_summaries(
                        actor,
                        &regs
                            .iter()
                            .map(|c| (c.registration.learner_id, c.stamp))
                            .collect::<Vec<_>>(),
                    )
                    .await?;
                for r in regs.into_iter().map(|c| c.registration) {
                    let on_break = r.status == "on_break";
                    let name = format!("{} {}", r.given_name, r.family_name);
                    let q = filter.q.trim().to_lowercase();
                    if !q.is_empty()
                        && !name.to_lowercase().contains(&q)
                        && !r.uln.as_deref().unwrap_or("").to_lowercase().contains(&q)
                    {
                        continue;
                    }
                    let Some(p) = summaries.get(&r.learner_id) else {
                        continue;
                    };
                    let needs = &p.needs;
                    let link_unit = |key: &str| {
                        format!(
                            "/learners/{}/portfolio/units/{}",
                            r.learner_id,
                            crate::app::catalogue::unit_slug(key)
                        )
                    };
                    if active.role == "assessor" {
                        for n in &needs.awaiting_assessment {
                            awaiting_rows.push((
                                n.since.clone(),
                                Row::new(
                                    link_unit(&n.unit_key),
                                    vec![
                                        name.clone(),
                                        format!("{} {}", n.unit_ref, n.unit_title),
                                        n.criteria.join(", "),
                                        uk_date(&n.since),
                                    ],
                                ),
                            ));
                        }
                        for n in &needs.ready_to_sign {
                            ready_rows.push((
                                n.since.clone(),
                                Row::new(
                                    link_unit(&n.unit_key),
                                    vec![
                                        name.clone(),
                                        format!("{} {}", n.unit_ref, n.unit_title),
                                        uk_date(&n.since),
                                    ],
                                ),
                            ));
                        }
                    }
                    let activity = needs
                        .last_activity
                        .clone()
                        .unwrap_or_else(|| r.registered_at.clone());
                    let mut row = Row::new(
                        format!("/learners/{}/portfolio", r.learner_id),
                        vec![
                            name.clone(),
                            r.uln.clone().unwrap_or_default(),
                            cat.programme(&r.qan)
                                .map(|(_, q)| q.title.clone())
                                .unwrap_or_else(|| r.qan.clone()),
                            format!("{} of {}", p.met, p.total),
                            format!("{} of {}", p.units_signed, p.units_total),
                            uk_date(&activity),
                        ],
                    );
                    let case = Case {
                        awaiting: !needs.awaiting_assessment.is_empty(),
                        ready: !needs.ready_to_sign.is_empty(),
                        referred: active.role == "assessor" && referred.contains(&r.learner_id),
                        stalled: !on_break && activity < stalled_before,
                        name,
                        activity,
                        row: Row::new(String::new(), Vec::new()),
                    };
                    if case.awaiting {
                        row.tags.push(("tag--blue", "Evidence to assess".into()));
                    }
                    if case.ready {
                        row.tags.push(("tag--green", "Ready to sign".into()));
                    }
                    if case.referred {
                        row.tags.push(("tag--red", "Referred".into()));
                    }
                    if case.stalled {
                        row.tags.push(("tag--grey", "Stalled".into()));
                    }
                    if on_break {
                        row.tags.push(("tag--grey", "On a break".into()));
                    }
                    cases.push(Case { row, ..case });
                }
                cases.retain(|c| match filter.status.as_str() {
                    "awaiting" => c.awaiting,
                    "ready" => c.ready,
                    "referred" => c.referred,
                    "stalled" => c.stalled,
                    _ => true,
                });
                if filter.sort == "activity" {
                    cases.sort_by(|a, b| a.activity.cmp(&b.activity));
                } else {
                    cases.sort_by(|a, b| a.name.cmp(&b.name));
                }
                if active.role == "assessor" {
                    awaiting_rows.sort_by(|a, b| a.0.cmp(&b.0));
                    ready_rows.sort_by(|a, b| a.0.cmp(&b.0));
                    let n = awaiting_rows.len();
                    sections.push(Section {
                        heading: format!("Evidence awaiting assessment ({n})"),
                        intro: if n == 0 {
                            "No evidence is waiting for your decision.".into()
                        } else {
                            format!("Criteria with evidence mapped since your last decision, oldest first.{}", shown_of(n))
                        },
                        columns: vec!["Learner", "Unit", "Criteria", "Waiting since"],
                        rows: awaiting_rows.into_iter().take(PANEL_ROWS).map(|(_, r)| r).collect(),
                        actions: Vec::new(),
                        filter: false,
                    });
                    let n = ready_rows.len();
                    if n > 0 {
                        sections.push(Section {
                            heading: format!("Units ready to sign ({n})"),
                            intro: format!("Every criterion is met: sign the declaration, then the learner signs.{}", shown_of(n)),
                            columns: vec!["Learner", "Unit", "Last decision"],
                            rows: ready_rows.into_iter().take(PANEL_ROWS).map(|(_, r)| r).collect(),
                            actions: Vec::new(),
                            filter: false,
                        });
                    }
                }
                let shown = cases.len();
                sections.push(Section {
                    heading: format!("Your caseload at {} ({total})", centre_name(active.centre_id)),
                    intro: if total == 0 {
                        format!("No learner is assigned to you {what} yet: the centre's administrator assigns learners.")
                    } else if shown < total {
                        format!("Showing {shown} of the {total} learners assigned to you {what}.")
                    } else {
                        format!("Learners assigned to you {what}.")
                    },
                    columns: vec!["Learner", "ULN", "Qualification", "Criteria met", "Units signed off", "Last activity"],
                    rows: cases.into_iter().map(|c| c.row).collect(),
                    actions: vec![
                        ("The centre".to_string(), format!("/centres/{centre_id}")),
                        ("Your competence".into(), "/account/competence".into()),
                    ],
                    filter: total > 0,
                });
            }
            "learner" => {
                let learner = active.learner_id.unwrap_or_default();
                // Their certificates first: what the whole portfolio was for.
                let certificates = app
                    .certificates(
                        &app.register_scope(actor),
                        crate::store::CertificateFilter {
                            learner_id: Some(learner),
                            ..Default::default()
                        },
                    )
                    .await?;
                if !certificates.is_empty() {
                    sections.push(Section {
                        heading: format!("Your certificates ({})", certificates.len()),
                        intro: "Open one to print it. The digital credential (Open Badges 3.0) is signed by the awarding organisation: keep it in any digital wallet, and anyone can check it.".into(),
                        columns: vec!["Certificate", "Qualification or unit", "Awarded", "Status"],
                        rows: certificates
                            .iter()
                            .map(|c| {
                                Row::new(
                                    format!("/certificates/{}/record", c.public.number),
                                    vec![
                                        c.public.number.clone(),
                                        format!("{} {}", c.public.reference, c.public.title),
                                        uk_date(&c.public.awarded_on),
                                        match c.public.status.as_str() {
                                            "valid" => "Valid".into(),
                                            "replaced" => format!(
                                                "Replaced by {}",
                                                c.public.replaced_by.clone().unwrap_or_default()
                                            ),
                                            _ => "Revoked".into(),
                                        },
                                    ],
                                )
                            })
                            .collect(),
                        actions: certificates
                            .iter()
                            .filter(|c| c.public.status == "valid")
                            .map(|c| {
                                (
                                    format!("Download the credential for {}", c.public.number),
                                    c.public.credential_url.clone(),
                                )
                            })
                            .collect(),
                        filter: false,
                    });
                }
                let regs = app
                    .store
                    .registrations_of_learner(learner)
                    .await
                    .map_err(AppError::from)?;
                // Progress counts the learner's plan (chosen, else proposed).
                let portfolio = app.portfolio(actor, learner).await.ok();
                if let Some(p) = portfolio.as_ref() {
                    let needs = crate::app::needs::portfolio_needs(p);
                    let unit_link = |key: &str| {
                        format!(
                            "/learners/{learner}/portfolio/units/{}",
                            crate::app::catalogue::unit_slug(key)
                        )
                    };
                    let n = needs.to_sign.len();
                    if n > 0 {
                        sections.push(Section {
                            heading: format!("Units waiting for your signature ({n})"),
                            intro: "Your assessor has signed these units off. Check the evidence and sign the declaration.".into(),
                            columns: vec!["Unit", "Signed by your assessor"],
                            rows: needs
                                .to_sign
                                .iter()
                                .map(|u| Row::new(unit_link(&u.unit_key), vec![format!("{} {}", u.unit_ref, u.unit_title), uk_date(&u.since)]))
                                .collect(),
                            actions: Vec::new(),
                            filter: false,
                        });
                    }
                    let n = needs.feedback.len();
                    sections.push(Section {
                        heading: format!("Feedback to act on ({n})"),
                        intro: if n == 0 {
                            "No feedback is waiting for you: nothing is judged not yet met.".into()
                        } else {
                            format!("Your assessor judged these criteria not yet met. Read the feedback, add or map evidence, and they will judge again.{}", shown_of(n))
                        },
                        columns: vec!["Unit", "Criterion", "Feedback", "From", "Given"],
                        rows: needs
                            .feedback
                            .iter()
                            .take(PANEL_ROWS)
                            .map(|f| {
                                Row::new(
                                    unit_link(&f.unit_key),
                                    vec![
                                        format!("{} {}", f.unit_ref, f.unit_title),
                                        f.criterion.clone(),
                                        f.feedback.clone(),
                                        f.assessor.clone(),
                                        uk_date(&f.at),
                                    ],
                                )
                            })
                            .collect(),
                        actions: Vec::new(),
                        filter: false,
                    });
                }
                sections.push(Section {
                    heading: "Your qualifications".into(),
                    intro: portfolio
                        .as_ref()
                        .map(|p| {
                            format!(
                                "{} of {} criteria met in your plan.",
                                p.progress.met, p.progress.total
                            )
                        })
                        .unwrap_or_default(),
                    columns: vec![
                        "Qualification",
                        "Centre",
                        "Units in your plan",
                        "Registered",
                    ],
                    rows: regs
                        .into_iter()
                        .map(|r| {
                            let (title, units) = cat
                                .programme(&r.qan)
                                .map(|(_, q)| (q.title.clone(), q.units.len().to_string()))
                                .unwrap_or((r.qan.clone(), String::new()));
                            let units = portfolio
                                .as_ref()
                                .and_then(|p| {
                                    p.qualifications.iter().find(|q| {
                                        q.registration.registration_id == r.registration_id
                                    })
                                })
                                .map(|q| {
                                    format!(
                                        "{} of {}{}",
                                        q.plan.units.len(),
                                        units,
                                        if q.plan.chosen.is_some() {
                                            ""
                                        } else {
                                            " (proposed)"
                                        }
                                    )
                                })
                                .unwrap_or(units);
                            Row::new(
                                format!(
                                    "/qualifications/{}",
                                    crate::app::catalogue::qan_slug(&r.qan)
                                ),
                                vec![title, r.centre_name, units, uk_date(&r.registered_at)],
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
                        ("Your plan".into(), format!("/learners/{learner}/plan")),
                        ("Your record".into(), format!("/learners/{learner}")),
                    ],
                    filter: false,
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
            f_status: filter.status.clone(),
            f_q: filter.q.clone(),
            f_sort: filter.sort.clone(),
        },
    ))
}

/// How many rows a home page panel shows.
const PANEL_ROWS: usize = 50;

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
    referrals: Vec<(crate::store::SampleRow, crate::store::DecisionRow)>,
    cat: &crate::app::catalogue::Catalogue,
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
            filter: false,
        });
    }
    if actor.has_role("assessor") && (active == "assessor" || !referrals.is_empty()) {
        let n = referrals.len();
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
                filter: false,
            });
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
            filter: false,
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
