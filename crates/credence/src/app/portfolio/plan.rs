//! The learner's plan (individual learning plan): the units they take on each of their
//! qualifications, chosen by the centre or the learner and checked against the rules of
//! combination, or else the planner's shortest proposal. Progress counts the plan.

use super::*;
use credence_domain::rules::{Evaluation, PlanRequest, PlanStatus};

/// One unit of a qualification as the plan page and API show it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlanUnitView {
    pub key: String,
    pub ao_ref: String,
    pub title: String,
    pub level: u8,
    pub credit: Option<u32>,
    /// Its group in the qualification ("CORE", "mandatory"...), if any.
    pub group: Option<String>,
    /// In the plan (chosen, else proposed).
    pub in_plan: bool,
    /// Evidence, decisions or signatures on it: shown even outside the plan.
    pub has_work: bool,
    pub signed_off: bool,
    pub criteria_met: usize,
    pub criteria_total: usize,
}

/// One of the learner's qualifications with its plan.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub registration_id: i64,
    pub qan: String,
    pub title: String,
    /// `true` when the centre or the learner chose these units; `false` for the planner's
    /// proposal (shown until a plan is chosen).
    pub chosen: bool,
    pub chosen_by: Option<String>,
    pub chosen_at: Option<String>,
    /// Every unit of the qualification, in its order, marked in or out of the plan.
    pub units: Vec<PlanUnitView>,
    /// Credit of the plan's units.
    pub plan_credit: u32,
    /// What the plan still lacks against the rules of combination, in words (empty when the
    /// plan meets them).
    pub unmet: Vec<String>,
    /// When the planner finds no way to the qualification, why.
    pub why_not: Vec<String>,
    /// Criteria met of the plan's criteria.
    pub criteria_met: usize,
    pub criteria_total: usize,
}

/// The plan of one qualification: the chosen units, else the planner's shortest proposal
/// from the units signed off (and, where it can, the units already started).
pub(super) fn plan_of(
    pq: &PortfolioQualification,
    units: &[PortfolioUnit],
    plans: &[crate::store::LearningPlanRow],
) -> QualificationPlan {
    let in_order = |keys: &BTreeSet<&str>| -> Vec<String> {
        pq.qualification
            .units
            .iter()
            .filter(|qu| keys.contains(qu.unit.as_str()))
            .map(|qu| qu.unit.clone())
            .collect()
    };
    if let Some(row) = plans
        .iter()
        .find(|p| p.registration_id == pq.registration.registration_id)
    {
        return QualificationPlan {
            units: in_order(&row.units.iter().map(String::as_str).collect()),
            chosen: Some((row.chosen_by_name.clone(), row.updated_at.clone())),
            why_not: Vec::new(),
        };
    }
    let of_q: BTreeSet<&str> = pq
        .qualification
        .units
        .iter()
        .map(|qu| qu.unit.as_str())
        .collect();
    let mine = |u: &&PortfolioUnit| of_q.contains(u.unit.key.as_str());
    let held: Vec<String> = units
        .iter()
        .filter(mine)
        .filter(|u| u.signed_off)
        .map(|u| u.unit.key.clone())
        .collect();
    let started: Vec<String> = units
        .iter()
        .filter(mine)
        .filter(|u| u.has_work && !u.signed_off)
        .map(|u| u.unit.key.clone())
        .collect();
    let rc = RulesCatalogue::new(std::slice::from_ref(&pq.qualification), &pq.spec.units);
    let mut request = PlanRequest {
        achieved: held.clone(),
        wants: started,
        refuses: Vec::new(),
    };
    let mut answer = rc.plan(&pq.qualification.qan, &request);
    if matches!(&answer, Ok(p) if p.status == PlanStatus::NoCompletion) && !request.wants.is_empty()
    {
        // The units started cannot all be part of one way there: propose without them (they
        // are still shown, outside the plan).
        request.wants.clear();
        answer = rc.plan(&pq.qualification.qan, &request);
    }
    let mut keys: BTreeSet<&str> = held.iter().map(String::as_str).collect();
    let mut why_not = Vec::new();
    match &answer {
        Ok(plan) => {
            keys.extend(plan.units.iter().map(|u| u.key.as_str()));
            why_not.clone_from(&plan.why_not);
        }
        Err(e) => why_not.push(e.to_string()),
    }
    QualificationPlan {
        units: in_order(&keys),
        chosen: None,
        why_not,
    }
}

impl App {
    /// The learner's plans, one per qualification, as `actor` may see them.
    pub async fn learner_plans(
        &self,
        actor: &Actor,
        learner_id: i64,
    ) -> AppResult<(Portfolio, Vec<PlanView>)> {
        let p = self.portfolio(actor, learner_id).await?;
        let views = p
            .qualifications
            .iter()
            .map(|pq| plan_view(&p, pq))
            .collect();
        Ok((p, views))
    }

    /// Would these units meet the qualification? The rules' answer, with every unmet
    /// requirement, for the learner's registration on `qan` (on its catalogue version).
    pub async fn check_plan(
        &self,
        actor: &Actor,
        learner_id: i64,
        qan: &str,
        units: &[String],
    ) -> AppResult<Evaluation> {
        let p = self.portfolio(actor, learner_id).await?;
        let pq = p
            .qualifications
            .iter()
            .find(|q| q.qualification.qan == qan.trim())
            .ok_or_else(|| AppError::NotFound(format!("the learner's qualification {qan}")))?;
        let rc = RulesCatalogue::new(std::slice::from_ref(&pq.qualification), &pq.spec.units);
        Ok(rc.evaluate(&pq.qualification.qan, units)?)
    }

    /// Choose the units the learner takes on `qan`: refused, naming every unmet requirement,
    /// unless they meet the qualification's rules of combination. No units takes the chosen
    /// plan away (the planner's proposal is shown again). Audited with before and after.
    #[allow(clippy::too_many_arguments)]
    pub async fn choose_plan(
        &self,
        actor: &Actor,
        learner_id: i64,
        qan: &str,
        units: &[String],
        seen: Option<i64>,
        address: &str,
    ) -> AppResult<PlanView> {
        let scope = self.plan_scope(actor, learner_id, qan).await?;
        if scope.registration().status == "withdrawn" {
            return Err(AppError::Conflict(format!(
                "The registration on {} was withdrawn: its plan is kept as it stood. The centre's administrator can say why.",
                scope.registration().qan
            )));
        }
        let p = self.portfolio(actor, learner_id).await?;
        Self::still_as_seen(&p, seen)?;
        let pq = p
            .qualifications
            .iter()
            .find(|q| q.registration.registration_id == scope.registration().registration_id)
            .ok_or_else(|| AppError::NotFound(format!("the learner's qualification {qan}")))?;
        let rc = RulesCatalogue::new(std::slice::from_ref(&pq.qualification), &pq.spec.units);
        let keys: Vec<String> = if units.iter().all(|u| u.trim().is_empty()) {
            Vec::new()
        } else {
            let eval = rc.evaluate(&pq.qualification.qan, units)?;
            let mut problems: Vec<String> = eval
                .not_counted
                .iter()
                .map(|n| format!("{}: {}", n.unit, n.reason))
                .collect();
            problems.extend(eval.unmet.iter().map(|u| u.message.clone()));
            if !problems.is_empty() {
                return Err(AppError::Validation(format!(
                    "These units do not meet the rules of {} {}: {}. Choose units that do, or start from the proposed plan",
                    pq.qualification.qan,
                    pq.qualification.title,
                    problems.join("; ")
                )));
            }
            eval.counted.iter().map(|k| k.to_string()).collect()
        };
        let before: Vec<String> = p
            .plans_chosen(pq.registration.registration_id)
            .unwrap_or_default();
        let entry = Self::learner_entry(
            actor,
            address,
            "plan.choose",
            learner_id,
            Some(pq.registration.centre_id),
            serde_json::json!({
                "registration": pq.registration.registration_id,
                "qan": pq.qualification.qan,
                "before": before,
                "after": keys,
            }),
        );
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .set_learning_plan(
                learner_id,
                pq.registration.registration_id,
                &keys,
                Some(actor.person_id),
            )
            .await?;
        let (_, views) = self.learner_plans(actor, learner_id).await?;
        views
            .into_iter()
            .find(|v| v.qan == pq.qualification.qan)
            .ok_or_else(|| AppError::NotFound(format!("the learner's qualification {qan}")))
    }
}

impl PortfolioCore {
    /// The units chosen for a registration, if a plan was chosen (not proposed).
    pub fn plans_chosen(&self, registration_id: i64) -> Option<Vec<String>> {
        self.qualifications
            .iter()
            .find(|q| q.registration.registration_id == registration_id)
            .filter(|q| q.plan.chosen.is_some())
            .map(|q| q.plan.units.clone())
    }

    /// Units counted by the plan (chosen, else proposed), each once.
    pub fn planned_units(&self) -> impl Iterator<Item = &PortfolioUnit> {
        self.units.iter().filter(|u| u.in_plan)
    }
}

fn plan_view(p: &Portfolio, pq: &PortfolioQualification) -> PlanView {
    let planned: BTreeSet<&str> = pq.plan.units.iter().map(String::as_str).collect();
    let units: Vec<PlanUnitView> = pq
        .qualification
        .units
        .iter()
        .filter_map(|qu| {
            let pu = p.unit(&qu.unit)?;
            Some(PlanUnitView {
                key: pu.unit.key.to_string(),
                ao_ref: pu.unit.ao_ref.clone(),
                title: pu.unit.title.clone(),
                level: pu.unit.level,
                credit: pu.unit.credit,
                group: qu.group.clone(),
                in_plan: planned.contains(pu.unit.key.as_str()),
                has_work: pu.has_work,
                signed_off: pu.signed_off,
                criteria_met: pu.progress.met,
                criteria_total: pu.progress.total,
            })
        })
        .collect();
    let rc = RulesCatalogue::new(std::slice::from_ref(&pq.qualification), &pq.spec.units);
    let unmet = match rc.evaluate(&pq.qualification.qan, &pq.plan.units) {
        Ok(e) => e.unmet.into_iter().map(|u| u.message).collect(),
        Err(e) => vec![e.to_string()],
    };
    let in_plan = || units.iter().filter(|u| u.in_plan);
    PlanView {
        registration_id: pq.registration.registration_id,
        qan: pq.qualification.qan.clone(),
        title: pq.qualification.title.clone(),
        chosen: pq.plan.chosen.is_some(),
        chosen_by: pq.plan.chosen.as_ref().and_then(|c| c.0.clone()),
        chosen_at: pq.plan.chosen.as_ref().map(|c| c.1.clone()),
        plan_credit: in_plan().filter_map(|u| u.credit).sum(),
        criteria_met: in_plan().map(|u| u.criteria_met).sum(),
        criteria_total: in_plan().map(|u| u.criteria_total).sum(),
        unmet,
        why_not: pq.plan.why_not.clone(),
        units,
    }
}
