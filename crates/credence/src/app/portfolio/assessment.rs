//! Assessment decisions (met, not yet met, RPL) and the unit sign-off declarations.

use super::*;

/// One row of a whole-unit decision form: the criterion, the outcome if one was chosen,
/// feedback, and whether it is met by recognised prior learning.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct UnitDecision {
    pub criterion: String,
    /// `None`: no decision on this criterion.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub feedback: String,
    #[serde(default)]
    pub rpl: bool,
}

impl App {
    /// Record an assessor's decision on one criterion (or RPL, before assessment).
    #[allow(clippy::too_many_arguments)]
    pub async fn judge(
        &self,
        actor: &Actor,
        learner_id: i64,
        unit_key: &str,
        criterion: &str,
        outcome: Outcome,
        feedback: &str,
        rpl: bool,
        seen: Option<i64>,
        address: &str,
    ) -> AppResult<()> {
        let _reg = self.require_assessor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        Self::still_as_seen(&p, seen)?;
        let unit = Self::unit_of(&p, unit_key)?;
        Self::check_decision(&p, unit, criterion, outcome, feedback, rpl)?;
        let centre = Self::centre_of_unit(&p, unit)?;
        let entry = Self::learner_entry(
            actor,
            address,
            if rpl {
                "assessment.rpl"
            } else {
                "assessment.judge"
            },
            learner_id,
            Some(centre),
            serde_json::json!({"unit": unit.unit.key, "criterion": criterion, "outcome": if outcome == Outcome::Met {"met"} else {"not_yet_met"}, "rpl": rpl}),
        );
        let jobs = if outcome == Outcome::NotYetMet {
            self.feedback_jobs(learner_id, &unit.unit, 1).await?
        } else {
            Vec::new()
        };
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .queueing(jobs)
            .insert_judgement(
                learner_id,
                &unit.unit.key,
                criterion,
                if outcome == Outcome::Met {
                    "met"
                } else {
                    "not_yet_met"
                },
                feedback.trim(),
                rpl,
                actor.person_id,
                centre,
            )
            .await?;
        Ok(())
    }

    /// Record an assessor's decisions on a whole unit at once: each row is a criterion with
    /// an outcome (or none: no decision on it), feedback and RPL. Every row is checked first
    /// and all problems are named together (one a line, "Criterion 1.2: ..."); then every
    /// decision is recorded in one transaction with one audit entry. Returns how many.
    #[allow(clippy::too_many_arguments)]
    pub async fn judge_unit(
        &self,
        actor: &Actor,
        learner_id: i64,
        unit_key: &str,
        rows: &[UnitDecision],
        seen: Option<i64>,
        address: &str,
    ) -> AppResult<usize> {
        let _reg = self.require_assessor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        Self::still_as_seen(&p, seen)?;
        let unit = Self::unit_of(&p, unit_key)?;
        let mut problems = Vec::new();
        let mut decided = Vec::new();
        for r in rows {
            match r.outcome {
                None if r.feedback.trim().is_empty() && !r.rpl => {}
                None => problems.push(format!(
                    "Criterion {}: choose 'met' or 'not yet met' for the feedback you gave, or clear it",
                    r.criterion
                )),
                Some(outcome) => {
                    match Self::check_decision(&p, unit, &r.criterion, outcome, &r.feedback, r.rpl)
                    {
                        Ok(()) => decided.push((r, outcome)),
                        Err(e) => problems.push(format!("Criterion {}: {e}", r.criterion)),
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Validation(problems.join("\n")));
        }
        if decided.is_empty() {
            return Err(AppError::Validation(
                "Choose 'met' or 'not yet met' for at least one criterion: a criterion left blank gets no decision".into(),
            ));
        }
        let centre = Self::centre_of_unit(&p, unit)?;
        let code = |o: Outcome| {
            if o == Outcome::Met {
                "met"
            } else {
                "not_yet_met"
            }
        };
        let entry = Self::learner_entry(
            actor,
            address,
            "assessment.judge_unit",
            learner_id,
            Some(centre),
            serde_json::json!({
                "unit": unit.unit.key,
                "decisions": decided
                    .iter()
                    .map(|(r, o)| serde_json::json!({"criterion": r.criterion, "outcome": code(*o), "rpl": r.rpl}))
                    .collect::<Vec<_>>(),
            }),
        );
        let batch: Vec<crate::store::NewJudgement> = decided
            .iter()
            .map(|(r, o)| crate::store::NewJudgement {
                criterion: r.criterion.clone(),
                outcome: code(*o).to_string(),
                feedback: r.feedback.trim().to_string(),
                rpl: r.rpl,
            })
            .collect();
        let not_yet = batch.iter().filter(|b| b.outcome == "not_yet_met").count();
        let jobs = if not_yet > 0 {
            self.feedback_jobs(learner_id, &unit.unit, not_yet).await?
        } else {
            Vec::new()
        };
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .queueing(jobs)
            .insert_judgements(learner_id, &unit.unit.key, &batch, actor.person_id, centre)
            .await?;
        Ok(batch.len())
    }

    /// Every check a decision on one criterion passes before it is recorded: a criterion of
    /// the unit, the unit not signed off, feedback within bounds (and given for "not yet
    /// met"), evidence mapped (and allowed) for "met", RPL only before assessment.
    pub(super) fn check_decision(
        p: &Portfolio,
        unit: &PortfolioUnit,
        criterion: &str,
        outcome: Outcome,
        feedback: &str,
        rpl: bool,
    ) -> AppResult<()> {
        portfolio::check_criterion(&unit.unit, criterion)
            .map_err(|e| AppError::Validation(e.to_string()))?;
        if unit.signed_off {
            return Err(AppError::Conflict(format!(
                "unit {} is signed off: its decisions are final",
                unit.unit.ao_ref
            )));
        }
        if feedback.chars().count() > MAX_FEEDBACK_CHARS {
            return Err(AppError::Validation(format!(
                "Feedback can be at most {MAX_FEEDBACK_CHARS} characters: put longer comments in a document and add it as evidence"
            )));
        }
        if outcome == Outcome::NotYetMet && feedback.trim().is_empty() {
            return Err(AppError::Validation(
                "Give feedback saying what is still needed to meet the criterion".into(),
            ));
        }
        let items = unit
            .evidence_by_criterion
            .get(criterion)
            .cloned()
            .unwrap_or_default();
        if outcome == Outcome::Met {
            if items.is_empty() {
                return Err(AppError::Validation(format!(
                    "no evidence is mapped to {criterion} of {}: map the evidence first, with where it shows the criterion",
                    unit.unit.ao_ref
                )));
            }
            for (id, _) in &items {
                if let Some(e) = p.item(*id) {
                    let source = source_of(&e.source).unwrap_or(EvidenceSource::Simulation);
                    portfolio::check_simulation(&unit.unit, source, e.simulation_note.as_deref())
                        .map_err(|why| {
                        AppError::Validation(format!("'{}' cannot count: {why}", e.title))
                    })?;
                }
            }
        }
        if rpl {
            let assessed = p
                .judgements
                .iter()
                .any(|j| j.unit_key == unit.unit.key && j.criterion == criterion && j.rpl == 0);
            if assessed {
                return Err(AppError::Conflict(
                    "RPL is recorded before assessment: this criterion has already been assessed"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// Reply on a criterion's feedback (the learner, or their assessor): the reply joins the
    /// criterion's thread, shown to both and kept in the record. Audited.
    #[allow(clippy::too_many_arguments)]
    pub async fn reply_on_criterion(
        &self,
        actor: &Actor,
        learner_id: i64,
        unit_key: &str,
        criterion: &str,
        body: &str,
        address: &str,
    ) -> AppResult<i64> {
        self.require_contributor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let unit = Self::unit_of(&p, unit_key)?;
        portfolio::check_criterion(&unit.unit, criterion)
            .map_err(|e| AppError::Validation(e.to_string()))?;
        if body.trim().is_empty() {
            return Err(AppError::Validation(format!(
                "Write your reply on {criterion} before sending it"
            )));
        }
        if body.chars().count() > MAX_FEEDBACK_CHARS {
            return Err(AppError::Validation(format!(
                "A reply can be at most {MAX_FEEDBACK_CHARS} characters: put longer notes in a document and add it as evidence"
            )));
        }
        let centre = Self::centre_of_unit(&p, unit)?;
        let entry = Self::learner_entry(
            actor,
            address,
            "feedback.reply",
            learner_id,
            Some(centre),
            serde_json::json!({"unit": unit.unit.key, "criterion": criterion}),
        );
        Ok(self
            .store
            .audited(entry)
            .insert_reply(
                learner_id,
                &unit.unit.key,
                criterion,
                actor.person_id,
                body.trim(),
                centre,
            )
            .await?)
    }

    /// Sign a unit's declaration: as its assessor, then as the learner.
    pub async fn sign_unit(
        &self,
        actor: &Actor,
        learner_id: i64,
        unit_key: &str,
        comments: &str,
        seen: Option<i64>,
        address: &str,
    ) -> AppResult<SignerRole> {
        if comments.chars().count() > MAX_FEEDBACK_CHARS {
            return Err(AppError::Validation(format!(
                "Comments can be at most {MAX_FEEDBACK_CHARS} characters"
            )));
        }
        let role = if actor.learner_ids().contains(&learner_id) {
            SignerRole::Learner
        } else {
            self.require_assessor(actor, learner_id).await?;
            SignerRole::Assessor
        };
        let p = self.portfolio(actor, learner_id).await?;
        Self::still_as_seen(&p, seen)?;
        let unit = Self::unit_of(&p, unit_key)?;
        // A sign-off an IQA's referral withdrew does not count: both sign again.
        let existing: Vec<Signature> = unit
            .signatures
            .iter()
            .filter(|s| s.withdrawn_at.is_none())
            .map(to_signature)
            .collect();
        portfolio::can_sign(role, &unit.progress, &existing, &unit.current_hash)
            .map_err(|e| AppError::Conflict(e.to_string()))?;
        let role_code = match role {
            SignerRole::Assessor => "assessor",
            SignerRole::Learner => "learner",
        };
        let centre = Self::centre_of_unit(&p, unit)?;
        let entry = Self::learner_entry(
            actor,
            address,
            "unit.sign",
            learner_id,
            Some(centre),
            serde_json::json!({"unit": unit.unit.key, "role": role_code, "evidence_hash": unit.current_hash}),
        );
        // The assessor's signature asks the learner for theirs.
        let jobs = if role == SignerRole::Assessor {
            self.event_jobs(
                &self.learner_people(learner_id).await?,
                "A unit is waiting for your signature",
                &format!(
                    "Your assessor has signed off {} {}. Check the evidence and sign the declaration.",
                    unit.unit.ao_ref, unit.unit.title
                ),
                &format!(
                    "/learners/{learner_id}/portfolio/units/{}",
                    crate::app::catalogue::unit_slug(&unit.unit.key)
                ),
            )
            .await?
        } else {
            Vec::new()
        };
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .queueing(jobs)
            .insert_signature(
                learner_id,
                &unit.unit.key,
                role_code,
                actor.person_id,
                comments.trim(),
                &unit.current_hash,
                centre,
            )
            .await?;
        self.reopen_gate(centre).await;
        Ok(role)
    }
}

impl App {
    /// The email telling a learner an assessor left feedback to act on.
    async fn feedback_jobs(
        &self,
        learner_id: i64,
        unit: &credence_domain::model::Unit,
        criteria: usize,
    ) -> AppResult<Vec<crate::store::JobDraft>> {
        self.event_jobs(
            &self.learner_people(learner_id).await?,
            "Feedback on your work",
            &format!(
                "Your assessor judged {criteria} {} of {} {} not yet met, with feedback on what to do next.",
                if criteria == 1 { "criterion" } else { "criteria" },
                unit.ao_ref,
                unit.title
            ),
            &format!(
                "/learners/{learner_id}/portfolio/units/{}",
                crate::app::catalogue::unit_slug(&unit.key)
            ),
        )
        .await
    }
}

/// The words a learner signs: their declaration that the unit's evidence is their own work.
pub const LEARNER_DECLARATION: &str = "I declare that the evidence in this unit is my own work, produced by me independently, and that where others helped or appear in it, this is shown.";
/// The words the centre signs (OCR's Centre Authentication).
pub const CENTRE_CONFIRMATION: &str = "On behalf of the centre, I confirm that the evidence in this unit is authentic: it is the learner's own work, produced independently, under the conditions the specification sets.";

impl App {
    /// Authenticate a unit's evidence where its AO asks for it (OCR: "Centres must confirm to
    /// OCR that the evidence is authentic"): the learner declares the work their own, then the
    /// centre (the learner's assessor or the centre's administrator) confirms it authentic.
    /// Signed like a sign-off: the person, the time and the hash of the evidence set as it is
    /// now; evidence changed afterwards needs both again. Returns `learner` or `centre`.
    pub async fn authenticate_unit(
        &self,
        actor: &Actor,
        learner_id: i64,
        unit_key: &str,
        comments: &str,
        seen: Option<i64>,
        address: &str,
    ) -> AppResult<&'static str> {
        if comments.chars().count() > MAX_FEEDBACK_CHARS {
            return Err(AppError::Validation(format!(
                "Comments can be at most {MAX_FEEDBACK_CHARS} characters"
            )));
        }
        let as_learner = actor.learner_ids().contains(&learner_id);
        let p = self.portfolio(actor, learner_id).await?;
        Self::still_as_seen(&p, seen)?;
        let unit = Self::unit_of(&p, unit_key)?;
        let centre = Self::centre_of_unit(&p, unit)?;
        let role = if as_learner {
            "learner"
        } else {
            // The learner's assessor, or the centre's administrator, speaks for the centre.
            if self.require_assessor(actor, learner_id).await.is_err() {
                self.centre_admin_scope(actor, centre)
                    .await
                    .map_err(|_| {
                        AppError::Forbidden(
                            "Only the learner, their assessor or the centre's administrator authenticates a unit's evidence".into(),
                        )
                    })?;
                if let Err(why) = self
                    .may_act(actor.person_id, learner_id, Activity::Assess)
                    .await?
                {
                    return Err(AppError::Forbidden(why));
                }
            }
            "centre"
        };
        let name = format!("{} {}", unit.unit.ao_ref, unit.unit.title);
        if !unit.unit.centre_authentication {
            return Err(AppError::Validation(format!(
                "{name}: its awarding organisation does not ask for authentication; the sign-off declarations are enough"
            )));
        }
        if unit.evidence_by_criterion.is_empty() {
            return Err(AppError::Conflict(format!(
                "{name} has no evidence mapped yet: there is nothing to authenticate"
            )));
        }
        match role {
            "learner" if unit.declared_current => {
                return Err(AppError::Conflict(
                    "You have already declared this evidence your own work; you declare again only if it changes".into(),
                ));
            }
            "centre" if !unit.declared_current => {
                return Err(AppError::Conflict(
                    "The learner declares the work their own first (on this unit's page); the centre confirms it after".into(),
                ));
            }
            "centre" if unit.confirmed_current => {
                return Err(AppError::Conflict(
                    "The centre has already confirmed this evidence authentic; it is confirmed again only if the evidence changes".into(),
                ));
            }
            _ => {}
        }
        let words = if role == "learner" {
            LEARNER_DECLARATION
        } else {
            CENTRE_CONFIRMATION
        };
        let statement = if comments.trim().is_empty() {
            words.to_string()
        } else {
            format!("{words}\n\n{}", comments.trim())
        };
        let entry = Self::learner_entry(
            actor,
            address,
            "unit.authenticate",
            learner_id,
            Some(centre),
            serde_json::json!({"unit": unit.unit.key, "role": role, "evidence_hash": unit.current_hash}),
        );
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .insert_authentication(
                learner_id,
                &unit.unit.key,
                role,
                actor.person_id,
                &statement,
                &unit.current_hash,
                centre,
            )
            .await?;
        self.reopen_gate(centre).await;
        Ok(role)
    }
}
