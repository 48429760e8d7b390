//! Marks of marked units (ISMM), grades by the AO's boundaries, moderation.

use super::*;

impl App {
    /// Record marks for a marked unit (ISMM) against its components, with reasonable
    /// adjustments and special consideration; the grade follows the AO's boundaries. The
    /// moderator's adjustment is the AO's (its staff or the centre's EQA).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_marks(
        &self,
        actor: &Actor,
        learner_id: i64,
        unit_key: &str,
        marks: &[(String, u32)],
        moderator_adjustment: Option<i32>,
        considerations: &[portfolio::SpecialConsideration],
        address: &str,
    ) -> AppResult<portfolio::GradeResult> {
        let p = self.portfolio(actor, learner_id).await?;
        let unit = Self::unit_of(&p, unit_key)?;
        let pq = p
            .qualifications
            .iter()
            .find(|q| {
                unit.in_qualifications
                    .iter()
                    .any(|(qan, _)| *qan == q.qualification.qan)
            })
            .ok_or_else(|| AppError::NotFound(format!("a qualification with {unit_key}")))?;
        let centre = pq.registration.centre_id;
        // What was given is checked first, so the answer says what to correct.
        let grading = self.grading_of(&pq.qualification).await?;
        portfolio::grade(
            &grading,
            &unit.unit.assessment_components,
            marks,
            moderator_adjustment.unwrap_or(0),
            considerations,
        )
        .map_err(|e| AppError::Validation(e.to_string()))?;
        // Moderation is the qualification's own AO's: its staff, or its EQA appointed here.
        let overseer = crate::app::authz::oversees_registration(actor, &pq.registration);
        let centre_staff = actor
            .centre_roles(centre)
            .iter()
            .any(|r| *r == "assessor" || *r == "centre_admin");
        let previous = unit.results.last();
        let adjustment = match moderator_adjustment {
            Some(a) if overseer => a,
            Some(a) if previous.is_some_and(|r| i64::from(a) == r.moderator_adjustment) => a,
            Some(0) if previous.is_none() => 0,
            Some(_) => {
                return Err(AppError::Forbidden(
                    "Only the awarding organisation's moderator adjusts marks: leave the moderator's adjustment as it is".into(),
                ));
            }
            None => previous
                .map(|r| i32::try_from(r.moderator_adjustment).unwrap_or(0))
                .unwrap_or(0),
        };
        if !overseer && !centre_staff {
            return Err(AppError::Forbidden(
                "Marks are recorded by the centre's assessors and administrators, and moderated by the awarding organisation".into(),
            ));
        }
        let result = portfolio::grade(
            &grading,
            &unit.unit.assessment_components,
            marks,
            adjustment,
            considerations,
        )
        .map_err(|e| AppError::Validation(e.to_string()))?;
        if !overseer {
            self.require_assessor(actor, learner_id)
                .await
                .or_else(|e| {
                    if actor.centre_roles(centre).contains(&"centre_admin") {
                        Ok(pq.registration.clone())
                    } else {
                        Err(e)
                    }
                })?;
        }
        let entry = Self::learner_entry(
            actor,
            address,
            "marks.record",
            learner_id,
            Some(centre),
            serde_json::json!({"unit": unit.unit.key, "marks": marks, "moderator_adjustment": adjustment, "grade": result.grade.title(), "mark": result.adjusted}),
        );
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .insert_unit_result(
                learner_id,
                pq.registration.registration_id,
                &unit.unit.key,
                &serde_json::to_string(marks)?,
                i64::from(adjustment),
                &serde_json::to_string(considerations)?,
                &serde_json::to_string(&result)?,
                result.grade.title(),
                actor.person_id,
            )
            .await?;
        Ok(result)
    }

    /// A qualification's grading with the AO's Merit and Distinction boundaries applied.
    pub async fn grading_of(&self, q: &Qualification) -> AppResult<Grading> {
        Ok(
            match (&q.grading, self.store.grade_boundaries(&q.qan).await?) {
                (Grading::Marked { pass_mark, .. }, Some((merit, distinction))) => {
                    Grading::Marked {
                        pass_mark: *pass_mark,
                        merit_mark: merit.and_then(|m| u32::try_from(m).ok()),
                        distinction_mark: distinction.and_then(|d| u32::try_from(d).ok()),
                    }
                }
                (g, _) => g.clone(),
            },
        )
    }

    /// The AO sets a marked qualification's Merit and Distinction boundaries.
    pub async fn set_grade_boundaries(
        &self,
        actor: &Actor,
        qan: &str,
        merit: Option<u32>,
        distinction: Option<u32>,
        address: &str,
    ) -> AppResult<()> {
        let cat = self.catalogue().await?;
        let (cs, q) = cat
            .qualification(qan)
            .ok_or_else(|| AppError::NotFound(format!("qualification {qan}")))?;
        let Grading::Marked { pass_mark, .. } = q.grading else {
            return Err(AppError::Validation(
                "this qualification is Pass only: it has no grade boundaries".into(),
            ));
        };
        let ao = &cs.spec.awarding_organisation.code;
        let scope = self.ao_scope(actor, ao).map_err(|_| {
            AppError::Forbidden(format!(
                "Only {ao}'s staff set this qualification's grade boundaries"
            ))
        })?;
        // Check the order with the domain's own rule.
        let probe = Grading::Marked {
            pass_mark,
            merit_mark: merit,
            distinction_mark: distinction,
        };
        let component = [credence_domain::model::AssessmentComponent {
            name: "check".into(),
            weight_percent: 100,
            words: None,
        }];
        portfolio::grade(&probe, &component, &[("check".into(), 0)], 0, &[])
            .map_err(|e| AppError::Validation(e.to_string()))?;
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "grading.boundaries",
            qan,
            None,
            None,
            serde_json::json!({"merit": merit, "distinction": distinction}),
        );
        self.store
            .audited(entry)
            .set_grade_boundaries(
                qan,
                merit.map(i64::from),
                distinction.map(i64::from),
                actor.person_id,
            )
            .await?;
        Ok(())
    }
}
