//! Centres: the list, a centre's page (with its links to quality assurance: direct claim
//! status itself is `web::quality::eqa`'s), approvals, its audit log, EQAs.

use super::*;

#[derive(Template)]
#[template(path = "centres.html")]
pub(super) struct CentresPage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    can_create: bool,
    /// The new centre's name as typed, kept after a problem.
    typed: String,
    /// (id, name, AOs, my roles, whether the centre's page is open to the reader)
    centres: Vec<(i64, String, String, String, bool)>,
    /// The name searched for.
    q: String,
    /// How many centres match, in all pages.
    total: u64,
    /// The first and last of this page's centres, counted from 1.
    shown: (u64, u64),
    pager: crate::web::pager::Pager,
}

/// Centres a page: an AO's list is its whole network, 2,000 centres for a large one.
const CENTRES_PER_PAGE: u32 = 50;

#[derive(Deserialize, Default)]
pub(super) struct CentresQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

pub(super) async fn centres_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    error: Option<String>,
    typed: String,
    query: CentresQuery,
) -> Result<Response, PageError> {
    let q = query.q.unwrap_or_default().trim().to_string();
    let asked = crate::web::pager::page_number(query.page.as_deref());
    let (mut list, mut total) = app
        .visible_centres_page(actor, Some(&q), asked, CENTRES_PER_PAGE)
        .await?;
    let pages = crate::web::pager::pages(total, CENTRES_PER_PAGE);
    // A page past the last (a bookmark, a centre gone): the last page instead.
    let page = asked.min(pages);
    if page != asked {
        (list, total) = app
            .visible_centres_page(actor, Some(&q), page, CENTRES_PER_PAGE)
            .await?;
    }
    let first = u64::from(page - 1) * u64::from(CENTRES_PER_PAGE);
    let shown = (
        (first + 1).min(total),
        first + u64::try_from(list.len()).unwrap_or(0),
    );
    let pager = crate::web::pager::Pager::new(page, pages, |n| {
        crate::web::pager::page_link("/centres", &[("q", &q)], n)
    });
    let my_aos = actor.ao_codes();
    Ok(render_status(
        error.is_some(),
        &CentresPage {
            title: "Centres".into(),
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            can_create: actor.has_role("ao_staff"),
            typed,
            q,
            total,
            shown,
            pager,
            centres: list
                .into_iter()
                .map(|c| {
                    // The centre's page is for its staff and those who oversee it, not for
                    // its learners (the same rule as the page's access policy).
                    let id = c.centre.centre_id;
                    let may_open = c.aos.iter().any(|a| my_aos.contains(&a.ao_code.as_str()))
                        || actor.eqa_centres.iter().any(|(e, _)| *e == id)
                        || actor.centre_roles(id).iter().any(|r| *r != "learner");
                    (
                        c.centre.centre_id,
                        c.centre.name,
                        c.aos
                            .iter()
                            .map(|a| a.ao_code.clone())
                            .collect::<Vec<_>>()
                            .join(", "),
                        c.my_roles.join(", "),
                        may_open,
                    )
                })
                .collect(),
        },
    ))
}

pub(super) async fn centres(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(query): Query<CentresQuery>,
) -> Result<Response, PageError> {
    centres_page(&app, &actor, None, String::new(), query).await
}

#[derive(Deserialize)]
pub(super) struct CentreForm {
    name: String,
}

pub(super) async fn create_centre(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<CentreForm>,
) -> Result<Response, PageError> {
    match app
        .create_centre(&actor, &f.name, &client_address(&headers))
        .await
    {
        Ok(id) => Ok(Redirect::to(&format!("/centres/{id}")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            centres_page(
                &app,
                &actor,
                Some(e.to_string()),
                f.name.clone(),
                CentresQuery::default(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) struct CentreView {
    id: i64,
    name: String,
    /// The awarding organisations the centre works with.
    aos: Vec<String>,
    oversee: bool,
    admin: bool,
    /// The person takes part in the centre's quality assurance (IQA, administrator, its EQA,
    /// its AO's staff): the quality assurance links are theirs.
    qa: bool,
    /// Staff of an AO the centre works with: they grant and withdraw direct claim status.
    manage_dcs: bool,
    /// (title, link, QAN or unit reference, approved on, direct claim status granted on: empty
    /// when not)
    approvals: Vec<(String, String, String, String, String)>,
    /// (QAN, title) the actor may approve the centre for
    approvable: Vec<(String, String)>,
    /// (Ofqual unit reference, "ref title") of units on their own the actor may approve
    approvable_units: Vec<(String, String)>,
    registration_count: i64,
    /// (learner id, name, ULN, QAN, registered)
    registrations: Vec<(i64, String, String, String, String)>,
    staff: Vec<StaffLine>,
    /// "name (AO)" of the EQAs appointed
    eqas: Vec<String>,
    /// (person, name) EQAs of the actor's AO not yet appointed here
    appointable: Vec<(i64, String)>,
}

pub(super) struct StaffLine {
    person: i64,
    name: String,
    role: String,
    competence: String,
    flags: Vec<String>,
    /// An IQA's role here, and whether they are the lead IQA.
    iqa: bool,
    lead: bool,
}

use crate::web::format::uk_date;

#[derive(Template)]
#[template(path = "centre.html")]
pub(super) struct CentrePage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
    c: CentreView,
}

pub(super) async fn centre_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    id: i64,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let centre = app.centre(id).await?;
    let aos = app.store.centre_aos(id).await.map_err(AppError::from)?;
    let oversee = crate::web::access::oversees(app, actor, id).await;
    let cat = app.catalogue().await?;
    let approvals = app.approvals(id).await?;
    let my_aos: Vec<String> = actor.ao_codes().into_iter().map(str::to_string).collect();
    let approvable = cat
        .qualifications()
        .filter(|(cs, q)| {
            my_aos.contains(&cs.spec.awarding_organisation.code)
                && !approvals.iter().any(|a| a.qan == q.qan)
        })
        .map(|(_, q)| (q.qan.clone(), q.title.clone()))
        .collect();
    // Units a learner may take on their own (OCR's unit; any unit with an Ofqual reference).
    let approvable_units = cat
        .units_on_their_own()
        .into_iter()
        .filter(|(cs, u)| {
            my_aos.contains(&cs.spec.awarding_organisation.code)
                && !approvals
                    .iter()
                    .any(|a| Some(a.qan.as_str()) == u.ofqual_ref.as_deref())
        })
        .map(|(_, u)| {
            (
                u.ofqual_ref.clone().unwrap_or_default(),
                format!("{} {}", u.ao_ref, u.title),
            )
        })
        .collect();
    let leads = app.store.lead_iqas(id).await.map_err(AppError::from)?;
    let mut staff = Vec::new();
    for s in app.store.centre_staff(id).await.map_err(AppError::from)? {
        let Some(kind) = crate::app::competence::staff_role(&s.role) else {
            continue;
        };
        let record = app.competence(s.person_id).await?;
        let summary = record
            .as_ref()
            .map(|r| {
                format!(
                    "Level {}, {} award(s), {} CPD entries",
                    r.occupational_level,
                    r.awards.len(),
                    r.cpd.len()
                )
            })
            .unwrap_or_else(|| "Not recorded".into());
        staff.push(StaffLine {
            person: s.person_id,
            name: s.display_name,
            role: role_name(&s.role).to_string(),
            competence: summary,
            flags: app.competence_flags(s.person_id, kind).await?,
            iqa: s.role == "iqa",
            lead: s.role == "iqa" && leads.contains(&s.person_id),
        });
    }
    let appointed = app.store.centre_eqas(id).await.map_err(AppError::from)?;
    let mut appointable = Vec::new();
    if let Some(ao) = actor.ao_codes().first() {
        for (p, name) in app.store.eqas_of(ao).await.map_err(AppError::from)? {
            if !appointed.iter().any(|(q, _, a)| *q == p && a == ao) {
                appointable.push((p, name));
            }
        }
    }
    let grants = app.store.direct_claims(id).await.map_err(AppError::from)?;
    let qa = app.qa_scope(actor, id).await.is_ok();
    let manage_dcs = aos.iter().any(|a| my_aos.contains(&a.ao_code));
    let view = CentreView {
        eqas: appointed
            .iter()
            .map(|(_, n, a)| format!("{n} ({a})"))
            .collect(),
        appointable,
        staff,
        id,
        name: centre.name.clone(),
        aos: aos.iter().map(|a| a.ao_code.clone()).collect(),
        oversee,
        qa,
        manage_dcs,
        admin: actor.centre_roles(id).contains(&"centre_admin"),
        approvals: approvals
            .iter()
            .map(|a| {
                let programme = cat.programme(&a.qan);
                let title = programme
                    .as_ref()
                    .map(|(_, q)| q.title.clone())
                    .unwrap_or_else(|| a.qan.clone());
                let href = match programme {
                    Some((_, q)) if q.is_unit() => format!(
                        "/units/{}",
                        crate::app::catalogue::unit_slug(&q.units[0].unit)
                    ),
                    _ => format!(
                        "/qualifications/{}",
                        crate::app::catalogue::qan_slug(&a.qan)
                    ),
                };
                (
                    title,
                    href,
                    a.qan.clone(),
                    uk_date(&a.created_at),
                    grants
                        .iter()
                        .find(|g| g.qan == a.qan)
                        .map(|g| uk_date(&g.granted_at))
                        .unwrap_or_default(),
                )
            })
            .collect(),
        approvable,
        approvable_units,
        registration_count: app
            .store
            .count_registrations(id)
            .await
            .map_err(AppError::from)?,
        registrations: app
            .registrations_at_centre(actor, id, 200)
            .await?
            .into_iter()
            .map(|r| {
                (
                    r.learner_id,
                    format!("{} {}", r.given_name, r.family_name),
                    r.uln.unwrap_or_default(),
                    r.qan,
                    uk_date(&r.registered_at),
                )
            })
            .collect(),
    };
    Ok(render_status(
        error.is_some(),
        &CentrePage {
            title: centre.name,
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            notice,
            c: view,
        },
    ))
}

pub(super) async fn centre(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    centre_page(&app, &actor, id, None, None).await
}

#[derive(Deserialize)]
pub(super) struct ApproveForm {
    qan: String,
}

pub(super) async fn approve(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ApproveForm>,
) -> Result<Response, PageError> {
    match app
        .approve_centre(&actor, id, &f.qan, &client_address(&headers))
        .await
    {
        Ok(_) => {
            centre_page(
                &app,
                &actor,
                id,
                None,
                Some(format!("Approved for {}.", f.qan)),
            )
            .await
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            centre_page(&app, &actor, id, Some(e.to_string()), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
pub(super) struct AuditPage {
    title: String,
    has_error: bool,
    centre_id: i64,
    centre_name: String,
    entries: Vec<AuditView>,
}

/// One audit entry as the page shows it.
pub(super) struct AuditView {
    seq: i64,
    /// When, in words (London time).
    when: String,
    /// When, as stored (RFC 3339), for `<time datetime>`.
    at: String,
    who: String,
    from: String,
    action: String,
    subject: String,
    detail: String,
}

pub(super) async fn audit(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let centre = app.centre(id).await?;
    let entries = app.centre_audit(&actor, id, 500).await?;
    Ok(render(&AuditPage {
        title: format!("Audit log: {}", centre.name),
        has_error: false,
        centre_id: id,
        centre_name: centre.name,
        entries: entries
            .into_iter()
            .map(|e| AuditView {
                seq: e.seq,
                when: crate::web::format::uk_date_time(&e.at),
                at: e.at,
                who: e.actor.unwrap_or_default(),
                from: e.address.unwrap_or_default(),
                action: e.action,
                subject: e.subject,
                detail: e.detail,
            })
            .collect(),
    }))
}
