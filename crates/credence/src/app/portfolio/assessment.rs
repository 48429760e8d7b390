//! Assessment decisions (met, not yet met, RPL) and the unit sign-off declarations.

use super::*;

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
        self.store
            .audited(entry)
            .expecting(p.stamp)
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
        self.store
            .audited(entry)
            .expecting(p.stamp)
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
