//! Staff competence, declared interests and assigning assessors and IQAs to learners. The
//! rules are `credence_domain::people::{competence, conflict}`.

use super::people::Actor;
use super::{App, AppError, AppResult};
use credence_domain::people::competence::{self, CompetenceFlag, CompetenceRecord, StaffRole};
use credence_domain::people::conflict::{self, Activity, Interest, InterestKind};

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

pub fn staff_role(role: &str) -> Option<StaffRole> {
    match role {
        "assessor" => Some(StaffRole::Assessor),
        "iqa" => Some(StaffRole::Iqa),
        _ => None,
    }
}

impl App {
    pub async fn competence(&self, person_id: i64) -> AppResult<Option<CompetenceRecord>> {
        match self.store.competence(person_id).await? {
            Some(json) => Ok(Some(serde_json::from_str(&json)?)),
            None => Ok(None),
        }
    }

    /// Record a person's own competence (replacing what was there).
    pub async fn set_competence(
        &self,
        actor: &Actor,
        record: &CompetenceRecord,
        address: &str,
    ) -> AppResult<()> {
        competence::validate_record(record, today()).map_err(|errors| {
            AppError::Validation(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let entry = Self::entry_by(
            actor,
            Some(address),
            "competence_recorded",
            &format!("person {}", actor.person_id),
            None,
            None,
            serde_json::json!({"level": record.occupational_level, "awards": record.awards.len(), "cpd_entries": record.cpd.len()}),
        );
        self.store
            .audited(entry)
            .set_competence(actor.person_id, &serde_json::to_string(record)?)
            .await?;
        Ok(())
    }

    /// The flags on a person's competence for a role ("below 24 hours of CPD", "working
    /// towards": sample more). No record at all is a flag too.
    pub async fn competence_flags(
        &self,
        person_id: i64,
        role: StaffRole,
    ) -> AppResult<Vec<String>> {
        Ok(match self.competence(person_id).await? {
            Some(r) => competence::flags(role, &r, today())
                .iter()
                .map(CompetenceFlag::message)
                .collect(),
            None => vec![format!(
                "has recorded no competence: they cannot be assigned as {} until they do",
                role.noun()
            )],
        })
    }

    /// Declare a personal interest in a learner: the declarer then never assesses, quality
    /// assures or moderates that learner.
    pub async fn declare_interest(
        &self,
        actor: &Actor,
        learner_id: i64,
        kind: &str,
        note: &str,
        address: &str,
    ) -> AppResult<()> {
        let known = self
            .store
            .registrations_of_learner(learner_id)
            .await?
            .iter()
            .any(|r| {
                actor
                    .centre_roles(r.centre_id)
                    .iter()
                    .any(|x| *x != "learner")
            });
        if !known {
            return Err(AppError::NotFound(format!("learner {learner_id}")));
        }
        let kind = parse_kind(kind, note)?;
        let entry = Self::entry_by(
            actor,
            Some(address),
            "interest_declared",
            &format!("learner {learner_id}"),
            None,
            None,
            serde_json::json!({"kind": kind}),
        );
        self.store
            .audited(entry)
            .declare_interest(
                actor.person_id,
                learner_id,
                &serde_json::to_string(&kind)?,
                note.trim(),
                &today().format("%Y-%m-%d").to_string(),
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn interests_about(&self, learner_id: i64) -> AppResult<Vec<Interest>> {
        let rows = self.store.interests(None, Some(learner_id)).await?;
        let mut out = Vec::new();
        for r in rows {
            out.push(Interest {
                staff: r.person_id.to_string(),
                learner: r.learner_id.to_string(),
                kind: serde_json::from_str(&r.kind)?,
                declared_on: chrono::NaiveDate::parse_from_str(&r.declared_on, "%Y-%m-%d")
                    .unwrap_or_else(|_| today()),
            });
        }
        Ok(out)
    }

    /// May this person take part in this activity for this learner, given declared
    /// interests? (Used by assignment now, by assessment and quality assurance later.)
    pub async fn may_act(
        &self,
        person_id: i64,
        learner_id: i64,
        activity: Activity,
    ) -> AppResult<Result<(), String>> {
        let interests = self.interests_about(learner_id).await?;
        Ok(conflict::may_act(
            &person_id.to_string(),
            &learner_id.to_string(),
            activity,
            &interests,
        )
        .map_err(|e| e.to_string()))
    }

    /// Assign an assessor or IQA to a registration (centre administrators). Refused, with
    /// every reason, when the person does not hold that role at the centre, their
    /// occupational competence is not at least one level above the qualification, they hold
    /// and are working towards no award for the role, or they declared an interest in the
    /// learner.
    pub async fn assign(
        &self,
        actor: &Actor,
        centre: i64,
        registration_id: i64,
        person_id: i64,
        role: &str,
        address: &str,
    ) -> AppResult<()> {
        let reg = self
            .store
            .registration(registration_id)
            .await?
            .filter(|r| r.centre_id == centre)
            .ok_or_else(|| AppError::NotFound(format!("registration {registration_id}")))?;
        if let Some(why) = self.assignment_refusal(&reg, person_id, role).await? {
            return Err(AppError::Validation(why));
        }
        let entry = Self::entry_by(
            actor,
            Some(address),
            "staff_assigned",
            &format!("registration {registration_id}"),
            Some(centre),
            None,
            serde_json::json!({"person": person_id, "role": role, "learner": reg.learner_id, "qan": reg.qan}),
        );
        self.store
            .audited(entry)
            .assign(registration_id, person_id, role, actor.person_id)
            .await?;
        Ok(())
    }

    /// Why a person may not be assigned to a registration in a role (`assessor` or `iqa`),
    /// or `None` when they may: they hold the role at the registration's centre, their
    /// recorded competence covers the qualification's level, and no declared interest or
    /// other role stands in the way. The assign list offers only those this clears.
    pub async fn assignment_refusal(
        &self,
        reg: &crate::store::RegistrationRow,
        person_id: i64,
        role: &str,
    ) -> AppResult<Option<String>> {
        let centre = reg.centre_id;
        let role_kind = staff_role(role)
            .ok_or_else(|| AppError::Validation("Choose assessor or IQA".into()))?;
        let person = self
            .store
            .person(person_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("person {person_id}")))?;
        let holds = self
            .store
            .grants(person_id)
            .await?
            .iter()
            .any(|g| g.role == role && g.centre_id == Some(centre));
        if !holds {
            return Ok(Some(format!(
                "{} is not {} at this centre",
                person.display_name,
                if role == "iqa" {
                    "an IQA"
                } else {
                    "an assessor"
                }
            )));
        }
        let cat = self.catalogue().await?;
        let level = cat
            .programme(&reg.qan)
            .map(|(_, q)| q.level)
            .ok_or_else(|| {
                AppError::Conflict(format!("{} is no longer in the catalogue", reg.qan))
            })?;
        let Some(record) = self.competence(person_id).await? else {
            return Ok(Some(format!(
                "{} has recorded no competence yet: they record it under 'Your competence' before they can be assigned",
                person.display_name
            )));
        };
        let mut reasons = Vec::new();
        if let Err(refusal) = competence::check_assignment(role_kind, &record, level) {
            reasons.push(format!("{} {refusal}", person.display_name));
        }
        let activity = if role == "iqa" {
            Activity::InternalQualityAssure
        } else {
            Activity::Assess
        };
        if let Err(why) = self.may_act(person_id, reg.learner_id, activity).await? {
            reasons.push(why);
        }
        Ok((!reasons.is_empty()).then(|| reasons.join("; ")))
    }
}

fn parse_kind(kind: &str, note: &str) -> AppResult<InterestKind> {
    Ok(match kind {
        "relative" => InterestKind::Relative,
        "line_manager" => InterestKind::LineManager,
        "friend" => InterestKind::Friend,
        "colleague" => InterestKind::Colleague,
        "financial" => InterestKind::Financial,
        "other" if !note.trim().is_empty() => InterestKind::Other(note.trim().to_string()),
        "other" => return Err(AppError::Validation("Say what the interest is".into())),
        _ => return Err(AppError::Validation("Choose the kind of interest".into())),
    })
}

impl App {
    /// [`App::assignment_refusal`] as an error: every reason against, in one message.
    pub(crate) async fn check_assignable(
        &self,
        reg: &crate::store::RegistrationRow,
        person_id: i64,
        role: &str,
    ) -> AppResult<()> {
        match self.assignment_refusal(reg, person_id, role).await? {
            Some(why) => Err(AppError::Validation(why)),
            None => Ok(()),
        }
    }
}
