//! EQA visits: scheduling (at least one a year for every centre with learners), the EQA's
//! report with findings, actions and the outcome, the centre's answers; and direct claim
//! status per qualification, with the AO's eligibility shown but never granted by itself.

use super::{bounded, day_of, parse_day, today};
use crate::app::authz::QaRole;
use crate::app::people::Actor;
use crate::app::{App, AppError, AppResult};
use crate::store::{ActionRow, DirectClaimRow, VisitReport, VisitRow};
use credence_domain::people::conflict::{self, Activity};
use credence_domain::qa::{
    CentreRisk, CentreVisits, DcsFacts, DcsPolicy, VisitDue, VisitOutcome, dcs_eligibility,
    visits_due,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// A visit with its actions.
#[derive(Debug, Clone, Serialize)]
pub struct VisitView {
    #[serde(flatten)]
    pub visit: VisitSummary,
    pub actions: Vec<ActionView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VisitSummary {
    pub visit: i64,
    pub centre: i64,
    pub centre_name: String,
    pub ao: String,
    pub eqa: i64,
    pub eqa_name: String,
    pub planned_on: String,
    pub visited_on: Option<String>,
    pub outcome: Option<String>,
    pub risk: Option<String>,
    pub sampled: serde_json::Value,
    pub findings: String,
    pub reported_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    pub action: i64,
    pub text: String,
    pub due_on: String,
    pub response: Option<String>,
    pub responded_at: Option<String>,
    pub closed_at: Option<String>,
    pub overdue: bool,
}

fn summary(v: &VisitRow) -> VisitSummary {
    VisitSummary {
        visit: v.visit_id,
        centre: v.centre_id,
        centre_name: v.centre_name.clone(),
        ao: v.ao_code.clone(),
        eqa: v.eqa_id,
        eqa_name: v.eqa_name.clone(),
        planned_on: v.planned_on.clone(),
        visited_on: v.visited_on.clone(),
        outcome: v.outcome.clone(),
        risk: v.risk.clone(),
        sampled: serde_json::from_str(&v.sampled).unwrap_or_default(),
        findings: v.findings.clone(),
        reported_at: v.reported_at.clone(),
    }
}

fn action_view(a: &ActionRow) -> ActionView {
    ActionView {
        action: a.action_id,
        text: a.text.clone(),
        due_on: a.due_on.clone(),
        response: a.response.clone(),
        responded_at: a.responded_at.clone(),
        closed_at: a.closed_at.clone(),
        overdue: a.closed_at.is_none() && day_of(&a.due_on) < today(),
    }
}

/// A visit due, with the centre's name.
#[derive(Debug, Clone, Serialize)]
pub struct VisitDueView {
    pub centre: i64,
    pub centre_name: String,
    pub ao: String,
    pub due_by: String,
    pub overdue: bool,
    pub scheduled: Option<String>,
}

/// The eligibility for direct claim status of a centre for an AO, as AO staff see it.
#[derive(Debug, Clone, Serialize)]
pub struct DcsView {
    pub ao: String,
    /// Each approved qualification with its grant (if any).
    pub qualifications: Vec<(String, Option<DirectClaimRow>)>,
    /// `Ok` when the centre meets the AO's eligibility; else every unmet condition.
    pub eligible: Result<(), Vec<String>>,
}

/// One sampled piece of work in an EQA report.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Sampled {
    pub registration: i64,
    pub learner: i64,
    pub unit: String,
}

impl App {
    /// The visits the actor may see: an EQA's own, an AO's staff's for their AO, a centre's
    /// for that centre.
    pub async fn visits(&self, actor: &Actor, centre: Option<i64>) -> AppResult<Vec<VisitView>> {
        let rows = match centre {
            Some(c) => {
                let scope = self.qa_scope(actor, c).await?;
                self.store
                    .visits(Some(c), None)
                    .await?
                    .into_iter()
                    .filter(|v| scope.sees_ao(&v.ao_code))
                    .collect::<Vec<_>>()
            }
            None => {
                let aos = actor.ao_codes();
                self.store
                    .visits(None, None)
                    .await?
                    .into_iter()
                    .filter(|v| v.eqa_id == actor.person_id || aos.contains(&v.ao_code.as_str()))
                    .collect()
            }
        };
        let ids: Vec<i64> = rows.iter().map(|v| v.visit_id).collect();
        let actions = self.store.actions_of_visits(&ids).await?;
        Ok(rows
            .iter()
            .map(|v| VisitView {
                visit: summary(v),
                actions: actions
                    .iter()
                    .filter(|a| a.visit_id == v.visit_id)
                    .map(action_view)
                    .collect(),
            })
            .collect())
    }

    /// One visit the actor may see.
    pub async fn visit(&self, actor: &Actor, visit: i64) -> AppResult<VisitView> {
        let v = self
            .store
            .visit(visit)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("visit {visit}")))?;
        let scope = self
            .qa_scope(actor, v.centre_id)
            .await
            .map_err(|_| AppError::NotFound(format!("visit {visit}")))?;
        if !scope.sees_ao(&v.ao_code) {
            return Err(AppError::NotFound(format!("visit {visit}")));
        }
        let actions = self.store.actions_of_visits(&[visit]).await?;
        Ok(VisitView {
            visit: summary(&v),
            actions: actions.iter().map(action_view).collect(),
        })
    }

    /// Schedule a visit by one of the AO's EQAs appointed to the centre (AO staff).
    pub async fn schedule_visit(
        &self,
        actor: &Actor,
        centre: i64,
        eqa: i64,
        planned_on: &str,
        address: &str,
    ) -> AppResult<i64> {
        let scope = self
            .own_ao_scope(actor)
            .map_err(|_| AppError::Forbidden("Only awarding organisation staff do this".into()))?;
        let ao = scope.ao_code().to_string();
        let appointed = self
            .store
            .centre_eqas(centre)
            .await?
            .iter()
            .any(|(p, _, a)| *p == eqa && *a == ao);
        if !appointed {
            return Err(AppError::Validation(format!(
                "That person is not an EQA appointed by {ao} to this centre: appoint them on the centre's page first"
            )));
        }
        let day = parse_day("The visit date", planned_on)?;
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "eqa.visit_scheduled",
            &format!("centre {centre}"),
            Some(centre),
            None,
            serde_json::json!({"ao": ao, "eqa": eqa, "planned_on": day.format("%Y-%m-%d").to_string()}),
        );
        Ok(self
            .store
            .audited(entry)
            .schedule_visit(
                centre,
                &ao,
                eqa,
                &day.format("%Y-%m-%d").to_string(),
                actor.person_id,
            )
            .await?)
    }

    /// Write the report of a visit (the EQA who made it): what was sampled, findings,
    /// actions with due dates, the outcome and the centre's risk rating. An unsatisfactory
    /// outcome withdraws the centre's direct claim status for the AO's qualifications.
    #[allow(clippy::too_many_arguments)]
    pub async fn report_visit(
        &self,
        actor: &Actor,
        visit: i64,
        visited_on: &str,
        outcome: &str,
        risk: &str,
        sampled: &[(i64, String)],
        findings: &str,
        actions: &[(String, String)],
        address: &str,
    ) -> AppResult<()> {
        let v = self.visit(actor, visit).await?.visit;
        let scope = self.qa_scope(actor, v.centre).await?;
        scope.require_eqa_for(&v.ao)?;
        if v.eqa != actor.person_id {
            return Err(AppError::Forbidden(format!(
                "This visit is {}'s: only the EQA who makes a visit writes its report",
                v.eqa_name
            )));
        }
        let day = parse_day("The date of the visit", visited_on)?;
        if day > today() {
            return Err(AppError::Validation(
                "The date of the visit is in the future: write the report after the visit".into(),
            ));
        }
        let outcome = VisitOutcome::parse(outcome).ok_or_else(|| {
            AppError::Validation("The outcome is satisfactory or unsatisfactory".into())
        })?;
        let risk = CentreRisk::parse(risk).ok_or_else(|| {
            AppError::Validation("The centre's risk rating is low, medium or high".into())
        })?;
        let findings = bounded("The findings", findings, 20_000)?;
        if findings.is_empty() {
            return Err(AppError::Validation(
                "Write the findings of the visit".into(),
            ));
        }
        let mut acts = Vec::new();
        for (text, due) in actions {
            let text = bounded("An action", text, 4000)?;
            if text.is_empty() {
                continue;
            }
            let due = parse_day(&format!("The due date of '{text}'"), due)?;
            acts.push((text, due.format("%Y-%m-%d").to_string()));
        }
        if outcome == VisitOutcome::Unsatisfactory && acts.is_empty() {
            return Err(AppError::Validation(
                "An unsatisfactory visit needs at least one action for the centre, with a due date"
                    .into(),
            ));
        }
        // What was sampled: the centre's learners on the AO's qualifications, never one the
        // EQA declared an interest in.
        let mut list = Vec::new();
        for (registration, unit) in sampled {
            let reg = self
                .store
                .registration(*registration)
                .await?
                .filter(|r| r.centre_id == v.centre && r.ao_code == v.ao)
                .ok_or_else(|| AppError::NotFound(format!("registration {registration}")))?;
            let interests = self.interests_about(reg.learner_id).await?;
            conflict::may_act(
                &actor.person_id.to_string(),
                &reg.learner_id.to_string(),
                Activity::ExternalQualityAssure,
                &interests,
            )
            .map_err(|e| AppError::Forbidden(e.to_string()))?;
            list.push(Sampled {
                registration: *registration,
                learner: reg.learner_id,
                unit: unit.clone(),
            });
        }
        let report = VisitReport {
            visited_on: day.format("%Y-%m-%d").to_string(),
            outcome: outcome.key().to_string(),
            risk: risk.key().to_string(),
            sampled: serde_json::to_string(&list)?,
            findings,
            actions: acts,
        };
        let entry = Self::entry(
            Some(&crate::app::audit::person_ref(actor.person_id)),
            Some(address),
            "eqa.visit_reported",
            &format!("centre {}", v.centre),
            Some(v.centre),
            None,
            serde_json::json!({"visit": visit, "ao": v.ao, "outcome": report.outcome, "risk": report.risk, "sampled": list.len()}),
        );
        self.store
            .audited(entry)
            .report_visit(visit, &report)
            .await?;
        self.reopen_gate(v.centre).await;
        Ok(())
    }

    /// The centre answers an EQA action (its administrator).
    pub async fn respond_action(
        &self,
        actor: &Actor,
        action: i64,
        response: &str,
        address: &str,
    ) -> AppResult<()> {
        let a = self
            .store
            .action(action)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("action {action}")))?;
        let v = self.visit(actor, a.visit_id).await?.visit;
        let scope = self.qa_scope(actor, v.centre).await?;
        if *scope.role() != QaRole::CentreAdmin {
            return Err(AppError::Forbidden(
                "The centre's administrator answers the EQA's actions".into(),
            ));
        }
        let response = bounded("The answer", response, 8000)?;
        if response.is_empty() {
            return Err(AppError::Validation(
                "Write what the centre has done".into(),
            ));
        }
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "eqa.action_answered",
            &format!("centre {}", v.centre),
            Some(v.centre),
            None,
            serde_json::json!({"action": action, "visit": a.visit_id}),
        );
        self.store
            .audited(entry)
            .respond_action(action, actor.person_id, &response)
            .await?;
        Ok(())
    }

    /// Close an EQA action (the EQA or the AO's staff), once the centre has answered it.
    pub async fn close_action(&self, actor: &Actor, action: i64, address: &str) -> AppResult<()> {
        let a = self
            .store
            .action(action)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("action {action}")))?;
        let v = self.visit(actor, a.visit_id).await?.visit;
        let scope = self.qa_scope(actor, v.centre).await?;
        if !matches!(scope.role(), QaRole::Eqa { .. } | QaRole::AoStaff { .. }) {
            return Err(AppError::Forbidden(
                "The EQA or the awarding organisation closes an action".into(),
            ));
        }
        if a.response.is_none() {
            return Err(AppError::Conflict(
                "the centre has not answered this action yet".into(),
            ));
        }
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "eqa.action_closed",
            &format!("centre {}", v.centre),
            Some(v.centre),
            None,
            serde_json::json!({"action": action, "visit": a.visit_id}),
        );
        self.store
            .audited(entry)
            .close_action(action, actor.person_id)
            .await?;
        self.reopen_gate(v.centre).await;
        Ok(())
    }

    /// Visits due for the actor's AO (AO staff) or their appointed centres (an EQA): every
    /// centre with learners at least once a year, the first soon after its first learners.
    pub async fn visits_due(&self, actor: &Actor) -> AppResult<Vec<VisitDueView>> {
        let mut aos: Vec<String> = actor.ao_codes().iter().map(|s| s.to_string()).collect();
        for (_, ao) in &actor.eqa_centres {
            if !aos.contains(ao) {
                aos.push(ao.clone());
            }
        }
        let day = today();
        let mut out = Vec::new();
        for ao in aos {
            let staff = actor.ao_codes().contains(&ao.as_str());
            let firsts = self.store.first_registrations_for_ao(&ao).await?;
            let visits = self.store.visits(None, Some(&ao)).await?;
            let mut names = BTreeMap::new();
            let mut centres = Vec::new();
            for (c, name, first) in firsts {
                if !staff && !actor.eqa_centres.iter().any(|(x, a)| *x == c && *a == ao) {
                    continue;
                }
                names.insert(c, name);
                let mine = visits.iter().filter(|v| v.centre_id == c);
                centres.push(CentreVisits {
                    centre: c,
                    first_registration: Some(day_of(&first)),
                    last_visit: mine
                        .clone()
                        .filter_map(|v| v.visited_on.as_deref().map(day_of))
                        .max(),
                    next_scheduled: mine
                        .filter(|v| v.reported_at.is_none())
                        .map(|v| day_of(&v.planned_on))
                        .min(),
                });
            }
            for VisitDue {
                centre,
                due_by,
                overdue,
                scheduled,
            } in visits_due(&centres, day)
            {
                out.push(VisitDueView {
                    centre,
                    centre_name: names.get(&centre).cloned().unwrap_or_default(),
                    ao: ao.clone(),
                    due_by: due_by.format("%Y-%m-%d").to_string(),
                    overdue,
                    scheduled: scheduled.map(|d| d.format("%Y-%m-%d").to_string()),
                });
            }
        }
        out.sort_by(|a, b| a.due_by.cmp(&b.due_by));
        Ok(out)
    }

    /// Direct claim status at a centre for the actor's AO, per qualification, with whether
    /// the centre meets the AO's eligibility (AO staff).
    pub async fn direct_claim_view(&self, actor: &Actor, centre: i64) -> AppResult<DcsView> {
        let scope = self
            .own_ao_scope(actor)
            .map_err(|_| AppError::Forbidden("Only awarding organisation staff do this".into()))?;
        let ao = scope.ao_code().to_string();
        let grants = self.store.direct_claims(centre).await?;
        let qualifications = self
            .store
            .approvals(centre)
            .await?
            .into_iter()
            .filter(|a| a.ao_code == ao)
            .map(|a| {
                let g = grants.iter().find(|g| g.qan == a.qan).cloned();
                (a.qan, g)
            })
            .collect();
        let visits = self.store.visits(Some(centre), Some(&ao)).await?;
        let reported: Vec<&VisitRow> = visits.iter().filter(|v| v.reported_at.is_some()).collect();
        let ids: Vec<i64> = reported.iter().map(|v| v.visit_id).collect();
        let actions = self.store.actions_of_visits(&ids).await?;
        let satisfactory: Vec<&&VisitRow> = reported
            .iter()
            .filter(|v| v.outcome.as_deref() == Some("satisfactory"))
            .collect();
        let facts = DcsFacts {
            satisfactory_visits: satisfactory.len(),
            last_visit_satisfactory: reported
                .iter()
                .max_by(|a, b| a.visited_on.cmp(&b.visited_on))
                .is_some_and(|v| v.outcome.as_deref() == Some("satisfactory")),
            final_portfolios_sampled: satisfactory
                .iter()
                .map(|v| {
                    serde_json::from_str::<Vec<Sampled>>(&v.sampled)
                        .map(|s| s.len())
                        .unwrap_or(0)
                })
                .sum(),
            open_actions: actions.iter().filter(|a| a.closed_at.is_none()).count(),
        };
        Ok(DcsView {
            ao,
            qualifications,
            eligible: dcs_eligibility(&facts, &DcsPolicy::default()),
        })
    }

    /// Grant or withdraw direct claim status for one qualification at a centre (AO staff,
    /// with a second factor), with the reason.
    pub async fn set_direct_claim(
        &self,
        actor: &Actor,
        centre: i64,
        qan: &str,
        granted: bool,
        reason: &str,
        address: &str,
    ) -> AppResult<()> {
        let approval = self
            .store
            .approvals(centre)
            .await?
            .into_iter()
            .find(|a| a.qan == qan)
            .ok_or_else(|| {
                AppError::NotFound(format!("qualification {qan} approved at this centre"))
            })?;
        let scope = self.ao_scope(actor, &approval.ao_code).map_err(|_| {
            AppError::Forbidden(format!(
                "Only {}'s staff grant or withdraw direct claim status for {qan}",
                approval.ao_code
            ))
        })?;
        scope.require_second_factor()?;
        let reason = bounded("The reason", reason, 2000)?;
        if reason.is_empty() {
            return Err(AppError::Validation(format!(
                "Give the reason for {} direct claim status",
                if granted { "granting" } else { "withdrawing" }
            )));
        }
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            if granted {
                "direct_claim_granted"
            } else {
                "direct_claim_withdrawn"
            },
            &format!("centre {centre}"),
            Some(centre),
            None,
            serde_json::json!({"ao": approval.ao_code, "qan": qan, "reason": reason}),
        );
        self.store
            .audited(entry)
            .set_direct_claim(
                centre,
                qan,
                &approval.ao_code,
                granted,
                actor.person_id,
                &reason,
            )
            .await?;
        self.reopen_gate(centre).await;
        Ok(())
    }
}
