//! What needs each person, read from the live records (never a stored copy that can drift):
//! the learner's feedback to act on and units to sign; the assessor's evidence awaiting
//! assessment (oldest first) and units ready to sign; the administrator's learners without
//! an assessor and stalled learners.

use super::people::Actor;
use super::portfolio::PortfolioCore;
use super::*;
use crate::store::{Outcome, SignerRole};
use std::collections::BTreeMap;

/// A criterion whose latest decision is "not yet met": feedback to act on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeedbackToAct {
    pub unit_key: String,
    pub unit_ref: String,
    pub unit_title: String,
    pub criterion: String,
    pub feedback: String,
    pub assessor: String,
    pub at: String,
}

/// A unit waiting for someone's signature, or new evidence waiting for a decision.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnitNeed {
    pub unit_key: String,
    pub unit_ref: String,
    pub unit_title: String,
    /// Criteria concerned (for evidence awaiting assessment).
    pub criteria: Vec<String>,
    /// Since when it has waited.
    pub since: String,
}

/// What a learner's portfolio asks of the learner and of their assessor.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PortfolioNeeds {
    /// For the learner: not-yet-met decisions, newest first.
    pub feedback: Vec<FeedbackToAct>,
    /// For the learner: units the assessor has signed, waiting for the learner.
    pub to_sign: Vec<UnitNeed>,
    /// For the assessor: criteria with evidence mapped since their last decision, by unit,
    /// oldest first.
    pub awaiting_assessment: Vec<UnitNeed>,
    /// For the assessor: units with every criterion met and no assessor signature yet.
    pub ready_to_sign: Vec<UnitNeed>,
    /// The latest thing anyone did in the portfolio.
    pub last_activity: Option<String>,
}

/// Read what a portfolio needs (pure: the portfolio in, the needs out).
pub fn portfolio_needs(p: &PortfolioCore) -> PortfolioNeeds {
    let mut latest: BTreeMap<(&str, &str), &crate::store::JudgementRow> = BTreeMap::new();
    for j in &p.judgements {
        let k = (j.unit_key.as_str(), j.criterion.as_str());
        match latest.get(&k) {
            Some(prev)
                if (prev.at.as_str(), prev.judgement_id) >= (j.at.as_str(), j.judgement_id) => {}
            _ => {
                latest.insert(k, j);
            }
        }
    }
    let current: std::collections::BTreeSet<i64> = p
        .evidence
        .iter()
        .filter(|e| e.superseded_by.is_none())
        .map(|e| e.evidence_id)
        .collect();
    let mut out = PortfolioNeeds::default();
    fn seen(at: &str, last: &mut Option<String>) {
        if last.as_deref().is_none_or(|l| at > l) {
            *last = Some(at.to_string());
        }
    }
    let mut last_activity = None;
    for e in &p.evidence {
        seen(&e.added_at, &mut last_activity);
    }
    for j in &p.judgements {
        seen(&j.at, &mut last_activity);
    }
    for m in &p.mappings {
        seen(&m.mapped_at, &mut last_activity);
    }
    for u in &p.units {
        for s in &u.signatures {
            seen(&s.at, &mut last_activity);
        }
        if u.signed_off {
            continue;
        }
        let key = u.unit.key.as_str();
        let need = |criteria: Vec<String>, since: String| UnitNeed {
            unit_key: u.unit.key.clone(),
            unit_ref: u.unit.ao_ref.clone(),
            unit_title: u.unit.title.clone(),
            criteria,
            since,
        };
        // Feedback to act on.
        for ((uk, c), j) in &latest {
            if *uk == key && j.outcome == Outcome::NotYetMet {
                out.feedback.push(FeedbackToAct {
                    unit_key: u.unit.key.clone(),
                    unit_ref: u.unit.ao_ref.clone(),
                    unit_title: u.unit.title.clone(),
                    criterion: (*c).to_string(),
                    feedback: j.feedback.clone(),
                    assessor: j.assessor_name.clone(),
                    at: j.at.clone(),
                });
            }
        }
        // Evidence mapped since the latest decision on its criterion.
        let mut waiting: BTreeMap<&str, &str> = BTreeMap::new();
        for m in p
            .mappings
            .iter()
            .filter(|m| m.unit_key == key && current.contains(&m.evidence_id))
        {
            let decided_after = latest
                .get(&(key, m.criterion.as_str()))
                .is_some_and(|j| j.at >= m.mapped_at);
            if !decided_after {
                let e = waiting
                    .entry(m.criterion.as_str())
                    .or_insert(m.mapped_at.as_str());
                if m.mapped_at.as_str() < *e {
                    *e = m.mapped_at.as_str();
                }
            }
        }
        if let Some(oldest) = waiting.values().min() {
            out.awaiting_assessment.push(need(
                waiting.keys().map(|c| (*c).to_string()).collect(),
                (*oldest).to_string(),
            ));
        }
        // Signatures on the evidence as it is now.
        let active = |role: SignerRole| {
            u.signatures.iter().find(|s| {
                s.role == role && s.withdrawn_at.is_none() && s.evidence_hash == u.current_hash
            })
        };
        match (active(SignerRole::Assessor), active(SignerRole::Learner)) {
            (Some(a), None) => out.to_sign.push(need(Vec::new(), a.at.clone())),
            (None, _) if u.progress.complete => {
                let since = u
                    .progress
                    .per_criterion
                    .iter()
                    .filter_map(|(c, _)| latest.get(&(key, c.as_str())).map(|j| j.at.as_str()))
                    .max()
                    .unwrap_or_default()
                    .to_string();
                out.ready_to_sign.push(need(Vec::new(), since));
            }
            _ => {}
        }
    }
    out.feedback.sort_by(|a, b| b.at.cmp(&a.at));
    out.awaiting_assessment
        .sort_by(|a, b| a.since.cmp(&b.since));
    out.ready_to_sign.sort_by(|a, b| a.since.cmp(&b.since));
    out.last_activity = last_activity;
    out
}

/// A learner at a centre as the administrator's home sees them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LearnerActivity {
    pub learner_id: i64,
    pub name: String,
    pub qan: String,
    pub registered_at: String,
    /// The latest evidence, mapping, decision or signature, if any.
    pub last_activity: Option<String>,
    pub has_assessor: bool,
}

/// Days without activity after which a learner counts as stalled.
pub const STALLED_DAYS: i64 = 30;

impl App {
    /// The centre administrator's view of who needs attention: learners without an assessor
    /// and learners with nothing done for [`STALLED_DAYS`] days (registered at least that
    /// long ago), oldest activity first.
    pub async fn centre_attention(
        &self,
        scope: &authz::CentreScope,
    ) -> AppResult<(Vec<LearnerActivity>, Vec<LearnerActivity>)> {
        let rows: Vec<LearnerActivity> = self
            .store
            .centre_activity(scope.centre_id())
            .await?
            .into_iter()
            .map(|r| LearnerActivity {
                learner_id: r.learner_id,
                name: format!("{} {}", r.given_name, r.family_name),
                qan: r.qan,
                registered_at: r.registered_at,
                last_activity: [r.evidence_at, r.judged_at, r.signed_at]
                    .into_iter()
                    .flatten()
                    .max(),
                has_assessor: r.assessors > 0,
            })
            .collect();
        let cutoff =
            crate::store::timestamp(chrono::Utc::now() - chrono::Duration::days(STALLED_DAYS));
        let unassigned: Vec<LearnerActivity> =
            rows.iter().filter(|r| !r.has_assessor).cloned().collect();
        let mut stalled: Vec<LearnerActivity> = rows
            .into_iter()
            .filter(|r| {
                r.registered_at < cutoff
                    && r.last_activity
                        .as_deref()
                        .is_none_or(|a| a < cutoff.as_str())
            })
            .collect();
        stalled.sort_by(|a, b| {
            a.last_activity
                .as_deref()
                .unwrap_or(&a.registered_at)
                .cmp(b.last_activity.as_deref().unwrap_or(&b.registered_at))
        });
        Ok((unassigned, stalled))
    }
}

/// An email about an event that needs someone: queued with the change, sent only if the
/// person still wants event emails when the worker sends it.
impl App {
    pub(crate) async fn event_jobs(
        &self,
        people: &[i64],
        subject: &str,
        body: &str,
        link: &str,
    ) -> AppResult<Vec<crate::store::JobDraft>> {
        let mut jobs = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for &p in people {
            if !seen.insert(p) {
                continue;
            }
            let Some(person) = self.store.person(p).await? else {
                continue;
            };
            if person.disabled != 0 {
                continue;
            }
            let text = format!(
                "Hello {},\n\n{body}\n\n{}{link}\n\nYou get these emails because something needs you in Credence. Turn them off under Email settings: {}/account/email\n",
                person.display_name, self.public_url, self.public_url
            );
            let mut job = super::jobs::email_job(&person.email, subject, text);
            if let serde_json::Value::Object(m) = &mut job.payload {
                m.insert("event_for".into(), serde_json::json!(p));
            }
            jobs.push(job);
        }
        Ok(jobs)
    }

    /// The people who sign in as a learner.
    pub(crate) async fn learner_people(&self, learner_id: i64) -> AppResult<Vec<i64>> {
        Ok(self.store.learner_people(learner_id).await?)
    }

    /// The assessors assigned to a learner's current registrations.
    pub(crate) async fn learner_assessors(&self, learner_id: i64) -> AppResult<Vec<i64>> {
        Ok(self.store.learner_assessors(learner_id).await?)
    }
}

/// A learner as an assessor's caseload shows them: what their portfolio needs and how far
/// it has come.
#[derive(Debug, Clone)]
pub struct CaseSummary {
    pub needs: PortfolioNeeds,
    pub met: usize,
    pub total: usize,
    pub units_signed: usize,
    pub units_total: usize,
}

/// Caseload summaries as last computed, by (learner, viewer), with the stamp they were
/// computed at.
pub(crate) type CaseCache = std::sync::Arc<
    std::sync::RwLock<std::collections::HashMap<(i64, i64), (i64, std::sync::Arc<CaseSummary>)>>,
>;

/// One lock per person whose caseload is being computed (see `caseload_summaries`).
pub(crate) type CaseGates = std::sync::Arc<
    std::sync::Mutex<std::collections::HashMap<i64, std::sync::Arc<tokio::sync::Mutex<()>>>>,
>;

/// Entries kept before the cache starts again (a bound on memory).
const CASE_CACHE_MAX: usize = 100_000;

impl App {
    /// Summaries of a caseload's learners (so already the viewer's to see) for the caseload
    /// page, from `(learner, portfolio stamp)` pairs read with the caseload's registrations
    /// ([`crate::store::Store::caseload_registrations`]). Only the portfolios whose stamp moved
    /// since last time are loaded and computed again, through the full, authorised
    /// portfolio view.
    pub async fn caseload_summaries(
        &self,
        actor: &Actor,
        stamped: &[(i64, i64)],
    ) -> AppResult<std::collections::HashMap<i64, std::sync::Arc<CaseSummary>>> {
        let stamps: std::collections::HashMap<i64, i64> = stamped.iter().copied().collect();
        let learners: Vec<i64> = stamped.iter().map(|(l, _)| *l).collect();
        let learners = &learners[..];
        let mut out = std::collections::HashMap::new();
        let fresh = |out: &mut std::collections::HashMap<i64, std::sync::Arc<CaseSummary>>,
                     among: &[i64]|
         -> AppResult<Vec<i64>> {
            let cache = self
                .case_cache
                .read()
                .map_err(|_| AppError::Internal("caseload cache poisoned".into()))?;
            let mut stale = Vec::new();
            for &l in among {
                let stamp = stamps.get(&l).copied().unwrap_or(0);
                match cache.get(&(l, actor.person_id)) {
                    Some((s, summary)) if *s == stamp => {
                        out.insert(l, summary.clone());
                    }
                    _ => stale.push(l),
                }
            }
            Ok(stale)
        };
        let mut stale = fresh(&mut out, learners)?;
        if stale.is_empty() {
            return Ok(out);
        }
        // One request per person computes what is missing; the others asking at the same
        // moment (a cold cache after a restart, a busy morning) wait for it and then find the
        // summaries made, instead of all computing the same ones at once.
        let gate = {
            let mut gates = self
                .case_gates
                .lock()
                .map_err(|_| AppError::Internal("caseload gates poisoned".into()))?;
            if gates.len() > 10_000 {
                gates.retain(|_, g| std::sync::Arc::strong_count(g) > 1);
            }
            gates.entry(actor.person_id).or_default().clone()
        };
        let _turn = gate.lock().await;
        stale = fresh(&mut out, &stale)?;
        for l in stale {
            let Ok(p) = self.portfolio(actor, l).await else {
                continue;
            };
            let summary = std::sync::Arc::new(CaseSummary {
                needs: portfolio_needs(&p),
                met: p.progress.met,
                total: p.progress.total,
                units_signed: p.planned_units().filter(|u| u.signed_off).count(),
                units_total: p.planned_units().count(),
            });
            let mut cache = self
                .case_cache
                .write()
                .map_err(|_| AppError::Internal("caseload cache poisoned".into()))?;
            if cache.len() >= CASE_CACHE_MAX {
                cache.clear();
            }
            cache.insert((l, actor.person_id), (p.stamp, summary.clone()));
            out.insert(l, summary);
        }
        Ok(out)
    }
}
