//! People come and go: a centre administrator moves a leaver's caseload in one step, removes
//! a role, disables an account; a learner's registration is withdrawn, or paused for a break
//! in learning and resumed.

use super::people::{Actor, role_name};
use super::*;

/// A member of staff at a centre, as their administrator manages them.
#[derive(Debug, Clone)]
pub struct StaffView {
    pub person_id: i64,
    pub name: String,
    pub email: String,
    pub disabled: bool,
    /// Their roles at this centre, with how many registrations each carries.
    pub roles: Vec<(String, usize)>,
    /// For each role with a caseload: who else holds it here (person, name).
    pub takers: Vec<(String, Vec<(i64, String)>)>,
    /// Roles they hold elsewhere (other centres, AOs): the account is not this centre's
    /// alone to disable.
    pub roles_elsewhere: usize,
}

fn is_date(s: &str) -> Option<String> {
    let s = s.trim();
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

impl App {
    /// A member of staff at `centre`, for its administrators.
    pub async fn staff_member(
        &self,
        actor: &Actor,
        centre: i64,
        person_id: i64,
    ) -> AppResult<StaffView> {
        let scope = self.centre_admin_scope(actor, centre).await?;
        let person = self
            .store
            .person(person_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("person {person_id}")))?;
        let grants = self.store.grants(person_id).await?;
        let here: Vec<&crate::store::GrantRow> = grants
            .iter()
            .filter(|g| g.centre_id == Some(scope.centre_id()) && g.role != "learner")
            .collect();
        if here.is_empty() {
            return Err(AppError::NotFound(format!("person {person_id}")));
        }
        let staff = self.store.centre_staff(scope.centre_id()).await?;
        let mut roles = Vec::new();
        let mut takers = Vec::new();
        for g in &here {
            let role = g.role.as_str();
            let n = if role == "assessor" || role == "iqa" {
                self.store
                    .caseload_of(person_id, scope.centre_id(), role)
                    .await?
                    .len()
            } else {
                0
            };
            roles.push((role.to_string(), n));
            if n > 0 {
                takers.push((
                    role.to_string(),
                    staff
                        .iter()
                        .filter(|s| s.role == role && s.person_id != person_id)
                        .map(|s| (s.person_id, s.display_name.clone()))
                        .collect(),
                ));
            }
        }
        Ok(StaffView {
            person_id,
            name: person.display_name,
            email: person.email,
            disabled: person.disabled != 0,
            roles,
            takers,
            roles_elsewhere: grants.len() - here.len(),
        })
    }

    /// Move all of a person's learners in `role` at `centre` to `to`, in one step. Each move
    /// is checked as an assignment would be (role, competence, interests); if any is refused,
    /// nothing moves and the message names every refusal.
    pub async fn reassign_caseload(
        &self,
        actor: &Actor,
        centre: i64,
        from: i64,
        to: i64,
        role: &str,
        address: &str,
    ) -> AppResult<usize> {
        let scope = self.centre_admin_scope(actor, centre).await?;
        if from == to {
            return Err(AppError::Validation(
                "Choose someone else to take the learners".into(),
            ));
        }
        let regs = self
            .store
            .caseload_of(from, scope.centre_id(), role)
            .await?;
        if regs.is_empty() {
            return Err(AppError::Conflict(format!(
                "They have no learners as {} here",
                role_name(role).to_lowercase()
            )));
        }
        let mut refused = Vec::new();
        for r in &regs {
            let reg = self
                .store
                .registration(*r)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("registration {r}")))?;
            if let Err(e) = self.check_assignable(&reg, to, role).await {
                refused.push(format!("{} {}: {e}", reg.given_name, reg.family_name));
            }
        }
        if !refused.is_empty() {
            return Err(AppError::Validation(format!(
                "Nothing was moved: {}",
                refused.join("; ")
            )));
        }
        let entry = Self::entry_by(
            actor,
            Some(address),
            "caseload_reassigned",
            &format!("person {from}"),
            Some(scope.centre_id()),
            None,
            serde_json::json!({"from": from, "to": to, "role": role, "registrations": regs}),
        );
        Ok(self
            .store
            .audited(entry)
            .reassign(&regs, from, to, role, actor.person_id)
            .await?)
    }

    /// Remove a person's role at `centre`. A role that still carries learners is refused
    /// until they are reassigned; the centre's last administrator stays.
    pub async fn remove_staff_role(
        &self,
        actor: &Actor,
        centre: i64,
        person_id: i64,
        role: &str,
        address: &str,
    ) -> AppResult<()> {
        let view = self.staff_member(actor, centre, person_id).await?;
        let Some((_, n)) = view.roles.iter().find(|(r, _)| r == role) else {
            return Err(AppError::NotFound(format!(
                "{} as {}",
                view.name,
                role_name(role).to_lowercase()
            )));
        };
        if *n > 0 {
            return Err(AppError::Conflict(format!(
                "{} still has {n} learners as {}: move them to someone else first",
                view.name,
                role_name(role).to_lowercase()
            )));
        }
        if role == "centre_admin" {
            let admins = self
                .store
                .centre_staff(centre)
                .await?
                .iter()
                .filter(|s| s.role == "centre_admin")
                .count();
            if admins <= 1 {
                return Err(AppError::Conflict(
                    "This is the centre's only administrator: invite another before removing this role".into(),
                ));
            }
        }
        let entry = Self::entry_by(
            actor,
            Some(address),
            "role_removed",
            &format!("person {person_id}"),
            Some(centre),
            None,
            serde_json::json!({"role": role}),
        );
        self.store
            .audited(entry)
            .remove_centre_role(person_id, centre, role)
            .await?;
        Ok(())
    }

    /// Disable a person's account: sign-in is refused at once, sessions and API tokens end.
    /// A centre's administrator may do it for someone whose roles are all at their centre
    /// and who carries no learners (move them first); otherwise they remove the roles here.
    pub async fn disable_staff(
        &self,
        actor: &Actor,
        centre: i64,
        person_id: i64,
        address: &str,
    ) -> AppResult<()> {
        let view = self.staff_member(actor, centre, person_id).await?;
        if person_id == actor.person_id {
            return Err(AppError::Conflict(
                "You cannot disable your own account: ask another administrator".into(),
            ));
        }
        if view.roles_elsewhere > 0 {
            return Err(AppError::Conflict(format!(
                "{} also has roles elsewhere, so the account is not this centre's alone to disable: remove their roles here instead",
                view.name
            )));
        }
        let carrying: usize = view.roles.iter().map(|(_, n)| n).sum();
        if carrying > 0 {
            return Err(AppError::Conflict(format!(
                "{} still has {carrying} learners: move them to someone else first",
                view.name
            )));
        }
        let entry = Self::entry_by(
            actor,
            Some(address),
            "account_disabled",
            &format!("person {person_id}"),
            Some(centre),
            None,
            serde_json::json!({"sessions_ended": true, "tokens_revoked": true}),
        );
        self.store.audited(entry).disable_person(person_id).await?;
        Ok(())
    }

    /// Withdraw a registration, put it on a break in learning, or resume it, with the day it
    /// takes effect and why. `action`: withdraw, break, resume.
    #[expect(
        clippy::too_many_arguments,
        reason = "who changes which registration how, from when, why, from where"
    )]
    pub async fn change_registration(
        &self,
        actor: &Actor,
        centre: i64,
        registration_id: i64,
        action: &str,
        effective_on: &str,
        reason: &str,
        address: &str,
    ) -> AppResult<()> {
        let scope = self.centre_admin_scope(actor, centre).await?;
        let reg = self
            .store
            .registration(registration_id)
            .await?
            .filter(|r| r.centre_id == scope.centre_id())
            .ok_or_else(|| AppError::NotFound(format!("registration {registration_id}")))?;
        let status = reg.status.as_str();
        let (kind, to) = match (action, status) {
            ("withdraw", "registered" | "on_break") => ("withdrawn", "withdrawn"),
            ("break", "registered") => ("break", "on_break"),
            ("resume", "on_break") => ("resumed", "registered"),
            ("withdraw" | "break" | "resume", _) => {
                return Err(AppError::Conflict(format!(
                    "The registration is {}: it cannot be {}",
                    match status {
                        "withdrawn" => "withdrawn",
                        "transferred" => "transferred to another centre",
                        "on_break" => "on a break in learning",
                        _ => "active",
                    },
                    match action {
                        "withdraw" => "withdrawn",
                        "break" => "put on a break",
                        _ => "resumed",
                    }
                )));
            }
            _ => {
                return Err(AppError::Validation(
                    "Choose withdraw, break or resume".into(),
                ));
            }
        };
        let Some(on) = is_date(effective_on) else {
            return Err(AppError::Validation(
                "Date: enter the day it takes effect, like 29/11/2026".into(),
            ));
        };
        if action != "resume" && reason.trim().is_empty() {
            return Err(AppError::Validation(
                "Reason: say why, for the learner's record".into(),
            ));
        }
        let entry = Self::entry_by(
            actor,
            Some(address),
            match kind {
                "withdrawn" => "registration_withdrawn",
                "break" => "registration_paused",
                _ => "registration_resumed",
            },
            &format!("registration {registration_id}"),
            Some(centre),
            Some(reg.learner_id),
            serde_json::json!({"effective_on": on, "reason": reason.trim(), "qan": reg.qan}),
        );
        self.store
            .audited(entry)
            .change_registration_status(
                registration_id,
                kind,
                to,
                &on,
                reason.trim(),
                actor.person_id,
            )
            .await?;
        Ok(())
    }
}

impl App {
    /// The operator disables (or enables again) an account by email, whatever its roles:
    /// sign-in refused at once, sessions and API tokens ended. Audited under `--by`.
    pub async fn set_account_disabled(
        &self,
        operator: &authz::Operator,
        email: &str,
        disabled: bool,
    ) -> AppResult<String> {
        let person = self
            .store
            .person_by_email(&email.trim().to_lowercase())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("a person with the email {email}")))?;
        let entry = crate::store::AuditDraft {
            actor: Some(operator.who().to_string()),
            address: None,
            action: if disabled {
                "account_disabled".into()
            } else {
                "account_enabled".into()
            },
            subject: format!("person {}", person.person_id),
            centre_id: None,
            learner_id: None,
            detail: serde_json::json!({}),
        };
        let store = self.store.audited(entry);
        if disabled {
            store.disable_person(person.person_id).await?;
        } else {
            store.enable_person(person.person_id).await?;
        }
        Ok(person.display_name)
    }
}

/// Someone holding roles for an AO, as its staff manage them.
#[derive(Debug, Clone)]
pub struct AoPersonView {
    pub person_id: i64,
    pub name: String,
    pub email: String,
    pub disabled: bool,
    /// Their roles for this AO.
    pub roles: Vec<String>,
    /// Roles they hold anywhere else.
    pub roles_elsewhere: usize,
}

impl App {
    /// The AO's staff and EQAs, for its staff.
    pub async fn ao_people(&self, actor: &Actor) -> AppResult<(String, Vec<AoPersonView>)> {
        let scope = self.own_ao_scope(actor)?;
        let mut out: Vec<AoPersonView> = Vec::new();
        for row in self.store.ao_people(scope.ao_code()).await? {
            match out.iter_mut().find(|p| p.person_id == row.person_id) {
                Some(p) => p.roles.push(row.role),
                None => out.push(AoPersonView {
                    person_id: row.person_id,
                    name: row.display_name,
                    email: row.email,
                    disabled: row.disabled != 0,
                    roles: vec![row.role],
                    roles_elsewhere: 0,
                }),
            }
        }
        for p in &mut out {
            p.roles_elsewhere = self.store.grants(p.person_id).await?.len() - p.roles.len();
        }
        Ok((scope.ao_code().to_string(), out))
    }

    /// One person holding a role for the actor's AO.
    pub async fn ao_person(&self, actor: &Actor, person_id: i64) -> AppResult<AoPersonView> {
        let (_, people) = self.ao_people(actor).await?;
        people
            .into_iter()
            .find(|p| p.person_id == person_id)
            .ok_or_else(|| AppError::NotFound(format!("person {person_id}")))
    }

    /// Remove a person's staff or EQA role for the actor's AO (an EQA's appointments go with
    /// it). Nobody removes their own staff role, so an AO always keeps someone who can.
    pub async fn remove_ao_role(
        &self,
        actor: &Actor,
        person_id: i64,
        role: &str,
        address: &str,
    ) -> AppResult<()> {
        let scope = self.own_ao_scope(actor)?;
        let p = self.ao_person(actor, person_id).await?;
        if !p.roles.iter().any(|r| r == role) {
            return Err(AppError::NotFound(format!(
                "{} as {}",
                p.name,
                role_name(role).to_lowercase()
            )));
        }
        if person_id == actor.person_id && role == "ao_staff" {
            return Err(AppError::Conflict(
                "You cannot remove your own staff role: ask a colleague".into(),
            ));
        }
        let entry = Self::entry_by(
            actor,
            Some(address),
            "role_removed",
            &format!("person {person_id}"),
            None,
            None,
            serde_json::json!({"role": role, "ao": scope.ao_code()}),
        );
        self.store
            .audited(entry)
            .remove_ao_role(person_id, scope.ao_code(), role)
            .await?;
        Ok(())
    }

    /// Disable the account of someone whose roles are all for the actor's AO.
    pub async fn disable_ao_person(
        &self,
        actor: &Actor,
        person_id: i64,
        address: &str,
    ) -> AppResult<()> {
        let scope = self.own_ao_scope(actor)?;
        let p = self.ao_person(actor, person_id).await?;
        if person_id == actor.person_id {
            return Err(AppError::Conflict(
                "You cannot disable your own account: ask a colleague".into(),
            ));
        }
        if p.roles_elsewhere > 0 {
            return Err(AppError::Conflict(format!(
                "{} also has roles elsewhere, so the account is not {}'s alone to disable: remove their roles here instead",
                p.name,
                scope.ao_code()
            )));
        }
        let entry = Self::entry_by(
            actor,
            Some(address),
            "account_disabled",
            &format!("person {person_id}"),
            None,
            None,
            serde_json::json!({"ao": scope.ao_code(), "sessions_ended": true, "tokens_revoked": true}),
        );
        self.store.audited(entry).disable_person(person_id).await?;
        Ok(())
    }
}
