//! The portfolio page and a unit's page, with judging, signing and marks.

use super::*;

#[derive(Template)]
#[template(path = "portfolio.html")]
pub(super) struct PortfolioPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    notice: Option<String>,
    learner_id: i64,
    name: String,
    /// The page's main content, rendered once per portfolio state (see [`portfolio_body`]).
    body: std::sync::Arc<String>,
}

#[derive(Template)]
#[template(path = "portfolio_body.html")]
pub(super) struct PortfolioBody {
    learner_id: i64,
    name: String,
    quals: Vec<QualRow>,
    met: usize,
    total: usize,
    percent: usize,
    units: Vec<UnitRow>,
    evidence: Vec<EvRow>,
    may_add: bool,
    /// The learner sees their portfolio with no current registration (withdrawn or moved).
    not_current: Option<&'static str>,
    achieved: Vec<String>,
    record_until: Option<String>,
    /// "Chosen plan" or "Proposed plan", per qualification.
    plan_lines: Vec<String>,
    /// Units of the plan signed off, and in the plan.
    planned_signed_off: usize,
    planned: usize,
}

pub(super) fn unit_rows(p: &Portfolio) -> Vec<UnitRow> {
    let titles: std::collections::HashMap<i64, &str> = p
        .evidence
        .iter()
        .map(|e| (e.evidence_id, e.title.as_str()))
        .collect();
    p.units
        .iter()
        .map(|u| {
            let headings: std::collections::HashMap<&str, (String, String)> = u
                .unit
                .learning_outcomes
                .iter()
                .filter_map(|lo| {
                    lo.criteria.first().map(|ac| {
                        (
                            ac.number.as_str(),
                            (
                                format!("LO {}: {}", lo.number, lo.text),
                                lo.assessor_guidance.clone().unwrap_or_default(),
                            ),
                        )
                    })
                })
                .collect();
            let criteria = u
                .unit
                .judged_items()
                .into_iter()
                .map(|(number, text)| {
                    let status = u
                        .progress
                        .per_criterion
                        .iter()
                        .find(|(n, _)| n == number)
                        .map(|(_, s)| s.clone())
                        .unwrap_or(CriterionStatus::NoEvidence);
                    let (tag, label) = status_tag(&status);
                    let (occasions, occasions_summary, occasions_short) =
                        occasion_rows(u, number, &status, &titles);
                    CritRow {
                        occasions,
                        occasions_summary,
                        occasions_short,
                        lo_heading: headings
                            .get(number)
                            .map(|h| h.0.clone())
                            .unwrap_or_default(),
                        lo_guidance: headings
                            .get(number)
                            .map(|h| h.1.clone())
                            .unwrap_or_default(),
                        number: number.to_string(),
                        text: text.to_string(),
                        tag,
                        status: label,
                        feedback: {
                            let mut thread: Vec<(String, FeedbackRow)> = p
                                .judgements
                                .iter()
                                .filter(|j| {
                                    j.unit_key == u.unit.key
                                        && j.criterion == number
                                        && !j.feedback.is_empty()
                                })
                                .map(|j| {
                                    (
                                        j.at.clone(),
                                        FeedbackRow {
                                            outcome: match (j.outcome == "met", j.rpl != 0) {
                                                (true, true) => "Met (RPL)",
                                                (true, false) => "Met",
                                                _ => "Not yet met",
                                            },
                                            by: j.assessor_name.clone(),
                                            at: human_date(&j.at),
                                            text: j.feedback.clone(),
                                        },
                                    )
                                })
                                .chain(
                                    p.replies
                                        .iter()
                                        .filter(|r| {
                                            r.unit_key == u.unit.key && r.criterion == number
                                        })
                                        .map(|r| {
                                            (
                                                r.at.clone(),
                                                FeedbackRow {
                                                    outcome: "Reply",
                                                    by: r.person_name.clone(),
                                                    at: human_date(&r.at),
                                                    text: r.body.clone(),
                                                },
                                            )
                                        }),
                                )
                                .collect();
                            thread.sort_by(|a, b| a.0.cmp(&b.0));
                            thread.into_iter().map(|(_, f)| f).collect()
                        },
                        kept_outcome: String::new(),
                        kept_feedback: String::new(),
                        kept_rpl: false,
                        evidence: u
                            .evidence_by_criterion
                            .get(number)
                            .map(|items| {
                                items
                                    .iter()
                                    .filter_map(|(id, loc)| {
                                        titles.get(id).map(|t| (*id, t.to_string(), loc.clone()))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    }
                })
                .collect();
            let (state, state_tag) = if u.signed_off_current {
                ("Signed off".to_string(), "tag--green")
            } else if u.signed_off {
                ("Signed off; evidence added since".to_string(), "tag--green")
            } else if u.reopened {
                ("Referred back by the IQA".to_string(), "tag--red")
            } else if u.progress.complete {
                ("Ready to sign off".to_string(), "tag--blue")
            } else if u
                .progress
                .per_criterion
                .iter()
                .all(|(_, s)| *s == CriterionStatus::NoEvidence)
            {
                ("Not started".to_string(), "tag--grey")
            } else {
                ("In progress".to_string(), "tag--yellow")
            };
            UnitRow {
                slug: unit_slug(&u.unit.key),
                ao_ref: u.unit.ao_ref.clone(),
                title: u.unit.title.clone(),
                groups: u
                    .in_qualifications
                    .iter()
                    .filter_map(|(_, g)| g.clone())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", "),
                met: u.progress.met,
                total: u.progress.total,
                percent: percent(u.progress.met, u.progress.total),
                state,
                state_tag,
                criteria,
                in_plan: u.in_plan,
                has_work: u.has_work,
            }
        })
        .collect()
}

/// A criterion's occasions as the unit page shows them: each date with its items, the
/// progress and span in words, and (when judged met on too few) what is still needed.
fn occasion_rows(
    u: &crate::app::portfolio::PortfolioUnit,
    number: &str,
    status: &CriterionStatus,
    titles: &std::collections::HashMap<i64, &str>,
) -> (Vec<OccasionRow>, String, String) {
    let Some(rule) = &u.occasions else {
        return (Vec::new(), String::new(), String::new());
    };
    let found = rule
        .by_criterion
        .get(number)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let locations: std::collections::HashMap<i64, &str> = u
        .evidence_by_criterion
        .get(number)
        .map(|v| v.iter().map(|(id, loc)| (*id, loc.as_str())).collect())
        .unwrap_or_default();
    let rows = found
        .iter()
        .map(|o| OccasionRow {
            date: crate::web::format::uk_date(&o.date.format("%Y-%m-%d").to_string()),
            items: o
                .items
                .iter()
                .filter_map(|id| id.parse::<i64>().ok())
                .filter_map(|id| {
                    titles.get(&id).map(|t| {
                        (
                            id,
                            t.to_string(),
                            locations.get(&id).copied().unwrap_or_default().to_string(),
                        )
                    })
                })
                .collect(),
        })
        .collect::<Vec<_>>();
    let need = rule.need as usize;
    let have = found.len();
    let mut summary = if have > need {
        format!("{have} occasions evidenced ({need} needed)")
    } else {
        format!("{have} of {} evidenced", occasions_count(need))
    };
    if let (Some(first), Some(last)) = (found.first(), found.last()) {
        let days = credence_domain::portfolio::span_days(found);
        if have > 1 {
            summary.push_str(&format!(
                ", over {} ({} to {})",
                credence_domain::portfolio::span_words(days),
                crate::web::format::uk_date(&first.date.format("%Y-%m-%d").to_string()),
                crate::web::format::uk_date(&last.date.format("%Y-%m-%d").to_string()),
            ));
        } else {
            summary.push_str(", all on one day");
        }
    }
    let short = match status {
        CriterionStatus::NeedsOccasions { have, need } => {
            let more = need.saturating_sub(*have);
            format!(
                "Judged met, but short of occasions: it does not count towards progress until {more} more {} evidenced. Add evidence from {} on a different day and map it to {number}.",
                if more == 1 {
                    "occasion is"
                } else {
                    "occasions are"
                },
                if more == 1 {
                    "another occasion"
                } else {
                    "other occasions"
                },
            )
        }
        _ => String::new(),
    };
    (rows, summary, short)
}

pub(super) fn evidence_rows(p: &Portfolio) -> Vec<EvRow> {
    let mut mapped: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for m in p.mappings.iter() {
        *mapped.entry(m.evidence_id).or_default() += 1;
    }
    p.evidence
        .iter()
        .rev()
        .map(|e| EvRow {
            id: e.evidence_id,
            title: e.title.clone(),
            kind: KINDS
                .iter()
                .find(|(c, _)| *c == e.kind)
                .map(|(_, t)| t.to_string())
                .unwrap_or_else(|| e.kind.clone()),
            date: crate::web::format::uk_date(&e.evidence_date),
            source: SOURCES
                .iter()
                .find(|(c, _)| *c == e.source)
                .map(|(_, t)| t.to_string())
                .unwrap_or_default(),
            size: crate::evidence_store::human_size(u64::try_from(e.size).unwrap_or(0)),
            superseded: e.superseded_by.is_some(),
            mappings: mapped.get(&e.evidence_id).copied().unwrap_or(0),
            ksbs: p
                .ksbs
                .iter()
                .filter(|k| k.evidence_id == e.evidence_id)
                .map(|k| k.ksb.clone())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect()
}

/// The portfolio page's main content. Everything in it follows from the computed portfolio
/// and what the viewer may do, so it is rendered once per state and kept (most portfolio
/// views are reads of an unchanged portfolio).
pub(super) fn portfolio_body(
    app: &AppState,
    p: &Portfolio,
    learner: i64,
    name: &str,
    quals: Vec<QualRow>,
) -> std::sync::Arc<String> {
    use std::sync::Arc;
    let not_current = (p.is_learner && !p.may_add).then_some(crate::app::portfolio::NOT_CURRENT);
    let key = format!(
        "{}|{}|{}|{:?}|{name}",
        p.core.key,
        p.may_add,
        not_current.is_some(),
        p.record_until
    );
    if let Ok(bodies) = app.portfolio_pages.read()
        && let Some((k, body)) = bodies.get(&learner)
        && *k == key
    {
        return body.clone();
    }
    let page = PortfolioBody {
        learner_id: learner,
        name: name.to_string(),
        quals,
        met: p.progress.met,
        total: p.progress.total,
        percent: percent(p.progress.met, p.progress.total),
        planned_signed_off: p.planned_units().filter(|u| u.signed_off).count(),
        planned: p.planned_units().count(),
        plan_lines: p
            .qualifications
            .iter()
            .map(|q| {
                format!(
                    "{}: {} ({} units)",
                    q.qualification.qan,
                    if q.plan.chosen.is_some() {
                        "chosen plan"
                    } else {
                        "proposed plan, not chosen yet"
                    },
                    q.plan.units.len()
                )
            })
            .collect(),
        units: unit_rows(p)
            .into_iter()
            .filter(|u| u.in_plan || u.has_work)
            .collect(),
        evidence: evidence_rows(p),
        may_add: p.may_add,
        not_current,
        achieved: p
            .achieved
            .iter()
            .map(|(qan, title)| format!("{title} ({qan})"))
            .collect(),
        record_until: p.record_until.as_deref().map(human_date),
    };
    let body = Arc::new(page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "portfolio template failed");
        "<p>The portfolio could not be shown.</p>".into()
    }));
    if let Ok(mut bodies) = app.portfolio_pages.write() {
        if bodies.len() >= crate::app::portfolio::PORTFOLIO_CACHE_SIZE {
            bodies.clear();
        }
        bodies.insert(learner, (key, body.clone()));
    }
    body
}

pub(super) async fn portfolio_response(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    error: Option<AppError>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let p = app.portfolio(actor, learner).await?;
    let name = format!("{} {}", p.learner.given_name, p.learner.family_name);
    let quals = p
        .qualifications
        .iter()
        .map(|q| {
            let achieved = p
                .achieved
                .iter()
                .any(|(qan, _)| *qan == q.qualification.qan);
            QualRow {
                qan: q.qualification.qan.clone(),
                slug: qan_slug(&q.qualification.qan),
                title: q.qualification.title.clone(),
                centre: q.registration.centre_name.clone(),
                status: if achieved {
                    "Achieved by the signed-off units".into()
                } else {
                    "Not yet achieved".into()
                },
            }
        })
        .collect();
    let body = portfolio_body(app, &p, learner, &name, quals);
    let status = error.as_ref().map(crate::web::status_of);
    let page = PortfolioPage {
        title: format!("Portfolio: {name}"),
        has_error: error.is_some(),
        error: error.map(|e| crate::web::public_message(&e)),
        notice,
        learner_id: learner,
        name,
        body,
    };
    Ok(render_as(status, &page))
}

pub(super) async fn portfolio_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(learner): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    portfolio_response(&app, &actor, learner, None, notice_text(n.done.as_deref())).await
}

// --- the unit page: judging, RPL, sign-off, marks ----------------------------------------------

pub(super) struct SigRow {
    role: String,
    name: String,
    at: String,
    comments: String,
    hash: String,
    current: bool,
}

pub(super) struct ComponentRow {
    name: String,
    weight: u32,
    words: String,
    mark: String,
}

pub(super) struct ResultRow {
    grade: String,
    mark: String,
    moderated: String,
    adjustments: String,
    by: String,
    at: String,
}

/// What the unit page says about occasions: how many each criterion needs, on what basis,
/// and the specification's own words.
pub(super) struct OccasionsView {
    need: u32,
    basis: String,
    words: String,
}

pub(super) struct GuidanceRow {
    lo: String,
    text: String,
    guidance: String,
}

#[derive(Template)]
#[template(path = "portfolio_unit.html")]
pub(super) struct UnitPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    learner_id: i64,
    name: String,
    unit: UnitRow,
    level: u8,
    credit: String,
    simulation: String,
    method: String,
    guidance: Vec<GuidanceRow>,
    occasions: Option<OccasionsView>,
    may_assess: bool,
    may_sign_assessor: bool,
    may_sign_learner: bool,
    sign_block: String,
    signatures: Vec<SigRow>,
    current_hash: String,
    components: Vec<ComponentRow>,
    results: Vec<ResultRow>,
    may_mark: bool,
    rpl_allowed: Vec<String>,
    /// The learner and their assessor reply on feedback beside each criterion.
    may_reply: bool,
    /// The portfolio stamp this page shows; its forms state it.
    stamp: i64,
    /// The unit's guidance on assessment (the assessment strategy's words), and its
    /// National Occupational Standards.
    assessment_guidance: String,
    nos: Vec<String>,
    /// Where the AO asks for the evidence to be authenticated (OCR).
    authentication: Option<AuthPanel>,
}

pub(super) struct AuthPanel {
    declared: bool,
    confirmed: bool,
    may_declare: bool,
    may_confirm: bool,
    /// The words the person signing now signs.
    words: &'static str,
    /// Why nobody viewing may give one now, where that helps.
    block: String,
    rows: Vec<AuthRow>,
}

pub(super) struct AuthRow {
    role: &'static str,
    name: String,
    at: String,
    statement: String,
    hash: String,
    current: bool,
}

pub(super) async fn unit_response(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    unit_slug_or_key: &str,
    error: Option<AppError>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    unit_response_kept(app, actor, learner, unit_slug_or_key, error, notice, &[]).await
}

/// The unit page, with the whole-unit form showing what was sent (after a problem).
pub(super) async fn unit_response_kept(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    unit_slug_or_key: &str,
    error: Option<AppError>,
    notice: Option<String>,
    kept: &[UnitDecision],
) -> Result<Response, PageError> {
    let p = app.portfolio(actor, learner).await?;
    let pu = p
        .units
        .iter()
        .find(|u| unit_slug(&u.unit.key) == unit_slug_or_key || u.unit.key == unit_slug_or_key)
        .ok_or_else(|| PageError::from(AppError::NotFound("that unit of this learner".into())))?;
    let rows = unit_rows(&p);
    let mut unit = rows
        .into_iter()
        .find(|r| r.slug == unit_slug(&pu.unit.key))
        .ok_or_else(|| PageError::from(AppError::NotFound("that unit".into())))?;
    for c in &mut unit.criteria {
        if let Some(k) = kept.iter().find(|k| k.criterion == c.number) {
            c.kept_outcome = match k.outcome {
                Some(Outcome::Met) => "met".into(),
                Some(Outcome::NotYetMet) => "not_yet_met".into(),
                None => String::new(),
            };
            c.kept_feedback.clone_from(&k.feedback);
            c.kept_rpl = k.rpl;
        }
    }
    // A sign-off an IQA's referral withdrew does not count: both sign again.
    let existing: Vec<credence_domain::portfolio::Signature> = pu
        .signatures
        .iter()
        .filter(|s| s.withdrawn_at.is_none())
        .map(|s| credence_domain::portfolio::Signature {
            role: if s.role == "assessor" {
                credence_domain::portfolio::SignerRole::Assessor
            } else {
                credence_domain::portfolio::SignerRole::Learner
            },
            person: s.person_id.to_string(),
            at: s.at.clone(),
            comments: s.comments.clone(),
            evidence_hash: s.evidence_hash.clone(),
        })
        .collect();
    let check = |role| {
        credence_domain::portfolio::can_sign(role, &pu.progress, &existing, &pu.current_hash)
    };
    let assessor_check = check(credence_domain::portfolio::SignerRole::Assessor);
    let learner_check = check(credence_domain::portfolio::SignerRole::Learner);
    let sign_block = if p.may_assess {
        assessor_check.as_ref().err().map(ToString::to_string)
    } else if p.is_learner {
        learner_check.as_ref().err().map(ToString::to_string)
    } else {
        None
    }
    .unwrap_or_default();
    let latest = pu.results.last();
    let last_marks: Vec<(String, u32)> = latest
        .and_then(|r| serde_json::from_str(&r.marks).ok())
        .unwrap_or_default();
    let status = error.as_ref().map(crate::web::status_of);
    let rpl_allowed = unit
        .criteria
        .iter()
        .filter(|c| {
            !p.judgements
                .iter()
                .any(|j| j.unit_key == pu.unit.key && j.criterion == c.number && j.rpl == 0)
        })
        .map(|c| c.number.clone())
        .collect();
    let authentication = pu.unit.centre_authentication.then(|| {
        let evidenced = !pu.evidence_by_criterion.is_empty();
        let may_declare = p.is_learner && evidenced && !pu.declared_current;
        let may_confirm = p.may_assess && evidenced && pu.declared_current && !pu.confirmed_current;
        let block = if !evidenced {
            "Nothing to authenticate yet: no evidence is mapped to this unit.".to_string()
        } else if p.may_assess && !pu.declared_current {
            "The learner declares the work their own first; then you confirm it here.".to_string()
        } else {
            String::new()
        };
        AuthPanel {
            declared: pu.declared_current,
            confirmed: pu.confirmed_current,
            may_declare,
            may_confirm,
            words: if may_declare {
                crate::app::portfolio::LEARNER_DECLARATION
            } else {
                crate::app::portfolio::CENTRE_CONFIRMATION
            },
            block,
            rows: pu
                .authentications
                .iter()
                .map(|a| AuthRow {
                    role: if a.role == "learner" {
                        "Learner's declaration"
                    } else {
                        "Centre's confirmation"
                    },
                    name: a.person_name.clone(),
                    at: crate::web::format::uk_date_time(&a.at),
                    statement: a.statement.clone(),
                    hash: a.evidence_hash.clone(),
                    current: a.evidence_hash == pu.current_hash,
                })
                .collect(),
        }
    });
    let page = UnitPage {
        assessment_guidance: pu.unit.assessment_guidance.clone().unwrap_or_default(),
        nos: pu.unit.nos.clone(),
        authentication,
        stamp: p.stamp,
        title: format!("{} {}: portfolio", pu.unit.ao_ref, pu.unit.title),
        has_error: error.is_some(),
        error: error.map(|e| crate::web::public_message(&e)),
        notice,
        csrf: crate::web::access::csrf_token(),
        learner_id: learner,
        name: format!("{} {}", p.learner.given_name, p.learner.family_name),
        level: pu.unit.level,
        credit: pu
            .unit
            .credit
            .map(|c| c.to_string())
            .unwrap_or_else(|| "not given".into()),
        simulation: match pu.unit.simulation {
            credence_domain::model::Simulation::Permitted => {
                "Simulation is permitted, in a realistic working environment (RWE) only.".into()
            }
            credence_domain::model::Simulation::NotPermitted => {
                "Simulation is not permitted: evidence comes from real work.".into()
            }
            credence_domain::model::Simulation::ExceptionalOnly => {
                "Simulation only in exceptional circumstances, in an RWE, with the reason recorded."
                    .into()
            }
        },
        method: pu.unit.assessment_method.clone().unwrap_or_default(),
        guidance: pu
            .unit
            .learning_outcomes
            .iter()
            .map(|lo| GuidanceRow {
                lo: lo.number.clone(),
                text: lo.text.clone(),
                guidance: lo.assessor_guidance.clone().unwrap_or_default(),
            })
            .collect(),
        occasions: pu.occasions.as_ref().map(|o| OccasionsView {
            need: o.need,
            basis: match &o.setting {
                Some(set) => format!(
                    "The centre's own setting (the specification's minimum is {}), recorded by {} on {}: {}",
                    o.minimum,
                    set.set_by_name.as_deref().unwrap_or("the operator"),
                    crate::web::format::uk_date(&set.updated_at),
                    set.reason
                ),
                None => format!(
                    "The specification's minimum: it asks for different occasions without a number, so the plural is read as {}. The centre has not set a number of its own.",
                    o.minimum
                ),
            },
            words: credence_domain::portfolio::occasions_words(&pu.unit).unwrap_or_default(),
        }),
        may_assess: p.may_assess,
        may_sign_assessor: p.may_assess && assessor_check.is_ok(),
        may_sign_learner: p.is_learner && learner_check.is_ok(),
        sign_block,
        signatures: pu
            .signatures
            .iter()
            .map(|s| SigRow {
                role: match (s.role == "assessor", s.withdrawn_at.is_some()) {
                    (true, false) => "Assessor".into(),
                    (false, false) => "Learner".into(),
                    (true, true) => "Assessor (withdrawn by an IQA referral)".into(),
                    (false, true) => "Learner (withdrawn by an IQA referral)".into(),
                },
                name: s.person_name.clone(),
                at: crate::web::format::uk_date_time(&s.at),
                comments: s.comments.clone(),
                hash: s.evidence_hash.clone(),
                current: s.evidence_hash == pu.current_hash,
            })
            .collect(),
        current_hash: pu.current_hash.clone(),
        components: pu
            .unit
            .assessment_components
            .iter()
            .map(|c| ComponentRow {
                name: c.name.clone(),
                weight: c.weight_percent,
                words: c.words.map(|w| format!("{w} words")).unwrap_or_default(),
                mark: last_marks
                    .iter()
                    .find(|(n, _)| *n == c.name)
                    .map(|(_, m)| m.to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        results: pu
            .results
            .iter()
            .rev()
            .filter_map(|r| {
                let g: credence_domain::portfolio::GradeResult =
                    serde_json::from_str(&r.result).ok()?;
                Some(ResultRow {
                    grade: r.grade.clone(),
                    mark: format!("{:.1}%", g.percent),
                    moderated: format!("{:+} points, {:.1}%", g.moderator_adjustment, g.moderated),
                    adjustments: if g.considerations.is_empty() {
                        "None".into()
                    } else {
                        g.considerations
                            .iter()
                            .map(|c| {
                                format!(
                                    "{}: {} (+{}%)",
                                    match c.kind {
                                        ConsiderationKind::ReasonableAdjustment =>
                                            "Reasonable adjustment",
                                        ConsiderationKind::SpecialConsideration =>
                                            "Special consideration",
                                    },
                                    c.note,
                                    c.adjustment_percent
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    },
                    by: r.recorded_by_name.clone(),
                    at: human_date(&r.recorded_at),
                })
            })
            .collect(),
        may_mark: !pu.unit.assessment_components.is_empty()
            && (p.may_assess
                || actor.has_role("centre_admin")
                || actor.has_role("ao_staff")
                || actor.has_role("eqa")),
        rpl_allowed,
        // Both sides of the thread: the learner, and their assessor (whose reply form's
        // fields sit in the decisions table but belong to a form of their own after it).
        may_reply: (p.is_learner && p.may_add) || p.may_assess,
        unit,
    };
    Ok(render_as(status, &page))
}

pub(super) async fn unit_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((learner, unit)): Path<(i64, String)>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    unit_response(
        &app,
        &actor,
        learner,
        &unit,
        None,
        notice_text(n.done.as_deref()),
    )
    .await
}

/// The unit's key from its URL form, among the learner's units.
pub(super) async fn unit_key(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    slug: &str,
) -> AppResult<String> {
    let p = app.portfolio(actor, learner).await?;
    p.units
        .iter()
        .find(|u| unit_slug(&u.unit.key) == slug || u.unit.key == slug)
        .map(|u| u.unit.key.clone())
        .ok_or_else(|| AppError::NotFound("that unit of this learner".into()))
}

#[derive(Deserialize)]
pub(super) struct JudgeForm {
    criterion: String,
    outcome: String,
    #[serde(default)]
    feedback: String,
    #[serde(default)]
    rpl: Option<String>,
    /// The portfolio stamp the page showed.
    #[serde(default)]
    stamp: Option<i64>,
}

pub(super) fn outcome_of(s: &str) -> AppResult<Outcome> {
    match s {
        "met" => Ok(Outcome::Met),
        "not_yet_met" => Ok(Outcome::NotYetMet),
        _ => Err(AppError::Validation("Choose 'met' or 'not yet met'".into())),
    }
}

pub(super) async fn unit_action(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    unit: &str,
    result: AppResult<()>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!(
            "/learners/{learner}/portfolio/units/{}?done={done}",
            unit_slug(unit)
        ))
        .into_response()),
        Err(e) if is_user_error(&e) => {
            unit_response(app, actor, learner, unit, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn judge(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, unit)): Path<(i64, String)>,
    axum::Form(f): axum::Form<JudgeForm>,
) -> Result<Response, PageError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let result = async {
        let outcome = outcome_of(&f.outcome)?;
        app.judge(
            &actor,
            learner,
            &key,
            &f.criterion,
            outcome,
            &f.feedback,
            f.rpl.is_some(),
            f.stamp,
            &client_address(&headers),
        )
        .await
    }
    .await;
    unit_action(&app, &actor, learner, &key, result, "judged").await
}

/// The whole-unit form: `criterion` (once per row, in order), `outcome:<criterion>`
/// (`met`, `not_yet_met`, or absent for no decision), `feedback:<criterion>`,
/// `rpl:<criterion>`, and the page's `stamp`.
pub(super) async fn judge_unit(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, unit)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let mut rows: Vec<UnitDecision> = Vec::new();
    let mut stamp = None;
    let mut problem = None;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    for (k, v) in &pairs {
        if k == "criterion" && !rows.iter().any(|r| r.criterion == *v) {
            rows.push(UnitDecision {
                criterion: v.clone(),
                ..UnitDecision::default()
            });
        } else if k == "stamp" {
            stamp = v.trim().parse::<i64>().ok();
        }
    }
    for (k, v) in &pairs {
        let Some((field, criterion)) = k.split_once(':') else {
            continue;
        };
        let Some(row) = rows.iter_mut().find(|r| r.criterion == criterion) else {
            continue;
        };
        match field {
            "outcome" if !v.is_empty() => match outcome_of(v) {
                Ok(o) => row.outcome = Some(o),
                Err(e) => problem = Some(e),
            },
            "feedback" => row.feedback.clone_from(v),
            "rpl" => row.rpl = true,
            _ => {}
        }
    }
    if rows.is_empty() {
        problem = Some(AppError::Validation(
            "Choose 'met' or 'not yet met' for at least one criterion: a criterion left blank gets no decision".into(),
        ));
    }
    let result = match problem {
        Some(e) => Err(e),
        None => {
            app.judge_unit(
                &actor,
                learner,
                &key,
                &rows,
                stamp,
                &client_address(&headers),
            )
            .await
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/learners/{learner}/portfolio/units/{}?done=decisions#criteria",
            unit_slug(&key)
        ))
        .into_response()),
        Err(e) if is_user_error(&e) => {
            unit_response_kept(&app, &actor, learner, &key, Some(e), None, &rows).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct ReplyForm {
    #[serde(default)]
    criterion: String,
    #[serde(default)]
    body: String,
}

/// A reply on a criterion's feedback, from the unit page.
pub(super) async fn reply(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, unit)): Path<(i64, String)>,
    axum::Form(f): axum::Form<ReplyForm>,
) -> Result<Response, PageError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let result = app
        .reply_on_criterion(
            &actor,
            learner,
            &key,
            &f.criterion,
            &f.body,
            &client_address(&headers),
        )
        .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/learners/{learner}/portfolio/units/{}?done=replied#criterion-{}",
            unit_slug(&key),
            f.criterion
        ))
        .into_response()),
        Err(e) if is_user_error(&e) => {
            unit_response(&app, &actor, learner, &key, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct SignForm {
    #[serde(default)]
    comments: String,
    /// The portfolio stamp the page showed.
    #[serde(default)]
    stamp: Option<i64>,
}

pub(super) async fn sign(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, unit)): Path<(i64, String)>,
    axum::Form(f): axum::Form<SignForm>,
) -> Result<Response, PageError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let result = app
        .sign_unit(
            &actor,
            learner,
            &key,
            &f.comments,
            f.stamp,
            &client_address(&headers),
        )
        .await
        .map(|_| ());
    unit_action(&app, &actor, learner, &key, result, "signed").await
}

pub(super) async fn authenticate(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, unit)): Path<(i64, String)>,
    axum::Form(f): axum::Form<SignForm>,
) -> Result<Response, PageError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let result = app
        .authenticate_unit(
            &actor,
            learner,
            &key,
            &f.comments,
            f.stamp,
            &client_address(&headers),
        )
        .await
        .map(|_| ());
    unit_action(&app, &actor, learner, &key, result, "authenticated").await
}

pub(super) async fn marks(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, unit)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    // Fields: mark:<component>=N, moderator_adjustment, consideration_kind, consideration_note,
    // consideration_percent.
    let mut marks = Vec::new();
    let mut adjustment = None;
    let (mut kind, mut note, mut pct) = (String::new(), String::new(), String::new());
    let mut problem = None;
    for (k, v) in form_urlencoded::parse(&body) {
        if let Some(c) = k.strip_prefix("mark:") {
            match v.trim().parse::<u32>() {
                Ok(m) => marks.push((c.to_string(), m)),
                Err(_) => {
                    problem = Some(format!(
                        "Enter the mark for '{c}' as a whole number from 0 to 100"
                    ))
                }
            }
        } else if k == "moderator_adjustment" && !v.trim().is_empty() {
            match v.trim().parse::<i32>() {
                Ok(a) => adjustment = Some(a),
                Err(_) => problem = Some(
                    "Enter the moderator's adjustment as a whole number of points, such as -3 or 2"
                        .into(),
                ),
            }
        } else if k == "consideration_kind" {
            kind = v.to_string();
        } else if k == "consideration_note" {
            note = v.trim().to_string();
        } else if k == "consideration_percent" {
            pct = v.trim().to_string();
        }
    }
    let result = async {
        if let Some(p) = problem {
            return Err(AppError::Validation(p));
        }
        let mut considerations = Vec::new();
        if !note.is_empty() || !pct.is_empty() {
            let adjustment_percent = if pct.is_empty() {
                0
            } else {
                pct.parse::<u32>().map_err(|_| {
                    AppError::Validation(
                        "Enter special consideration as 0 to 5 percentage points".into(),
                    )
                })?
            };
            if note.is_empty() {
                return Err(AppError::Validation(
                    "Describe the reasonable adjustment or special consideration".into(),
                ));
            }
            considerations.push(SpecialConsideration {
                kind: if kind == "reasonable_adjustment" {
                    ConsiderationKind::ReasonableAdjustment
                } else {
                    ConsiderationKind::SpecialConsideration
                },
                note: note.clone(),
                adjustment_percent,
            });
        }
        app.record_marks(
            &actor,
            learner,
            &key,
            &marks,
            adjustment,
            &considerations,
            &client_address(&headers),
        )
        .await
        .map(|_| ())
    }
    .await;
    unit_action(&app, &actor, learner, &key, result, "marks").await
}
