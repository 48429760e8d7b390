//! Transfers between centres: requested by the centre, decided by the AO.

use super::*;

impl App {
    /// A centre administrator asks to move a learner's registration to another centre.
    pub async fn request_transfer(
        &self,
        actor: &Actor,
        registration_id: i64,
        to_centre: i64,
        reason: &str,
        address: &str,
    ) -> AppResult<i64> {
        let reg = self
            .store
            .registration(registration_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("registration {registration_id}")))?;
        if !actor.centre_roles(reg.centre_id).contains(&"centre_admin") {
            return Err(AppError::Forbidden(
                "Only an administrator of the learner's centre asks for a transfer".into(),
            ));
        }
        if reg.status == "transferred" {
            return Err(AppError::Conflict(
                "this registration has already been transferred".into(),
            ));
        }
        if to_centre == reg.centre_id {
            return Err(AppError::Validation(
                "Choose the centre the learner is moving to, not their current one".into(),
            ));
        }
        self.store.centre(to_centre).await?.ok_or_else(|| {
            AppError::Validation("Choose the centre the learner is moving to".into())
        })?;
        let approved = self
            .store
            .approvals(to_centre)
            .await?
            .iter()
            .any(|a| a.qan == reg.qan);
        if !approved {
            return Err(AppError::Validation(format!(
                "that centre is not approved to offer {}: it must be approved before the learner can move there",
                reg.qan
            )));
        }
        if reason.trim().is_empty() {
            return Err(AppError::Validation(
                "Say why the learner is moving centre".into(),
            ));
        }
        let entry = Self::entry_by(
            actor,
            Some(address),
            "transfer.request",
            &format!("learner {}", reg.learner_id),
            Some(reg.centre_id),
            None,
            serde_json::json!({"to_centre": to_centre, "qan": reg.qan}),
        );
        let id = self
            .store
            .audited(entry)
            .request_transfer(
                reg.learner_id,
                registration_id,
                to_centre,
                reason.trim(),
                actor.person_id,
            )
            .await?;
        Ok(id)
    }

    /// Transfers waiting for this AO staff member's decision.
    pub async fn transfers_to_decide(&self, actor: &Actor) -> AppResult<Vec<TransferRow>> {
        let cat = self.catalogue().await?;
        let aos = actor.ao_codes();
        Ok(self
            .store
            .pending_transfers()
            .await?
            .into_iter()
            .filter(|t| {
                cat.programme(&t.qan).is_some_and(|(cs, _)| {
                    aos.contains(&cs.spec.awarding_organisation.code.as_str())
                })
            })
            .collect())
    }

    /// The AO approves or refuses a transfer.
    pub async fn decide_transfer(
        &self,
        actor: &Actor,
        transfer_id: i64,
        approve: bool,
        note: &str,
        address: &str,
    ) -> AppResult<()> {
        let t = self
            .store
            .transfer(transfer_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("transfer {transfer_id}")))?;
        let cat = self.catalogue().await?;
        let ao = cat
            .programme(&t.qan)
            .map(|(cs, _)| cs.spec.awarding_organisation.code.clone())
            .unwrap_or_default();
        // Another AO's transfer is not there for them.
        let scope = self
            .ao_scope(actor, &ao)
            .map_err(|_| AppError::NotFound(format!("transfer {transfer_id}")))?;
        if !approve && note.trim().is_empty() {
            return Err(AppError::Validation(
                "Say why the transfer is refused, for the centre".into(),
            ));
        }
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            if approve {
                "transfer.approve"
            } else {
                "transfer.refuse"
            },
            &format!("learner {}", t.learner_id),
            Some(t.from_centre_id),
            Some(t.learner_id),
            serde_json::json!({"transfer": transfer_id, "to_centre": t.to_centre_id, "note": note.trim()}),
        );
        let store = self.store.audited(entry);
        if approve {
            store
                .approve_transfer(transfer_id, actor.person_id, note.trim())
                .await?;
        } else {
            store
                .refuse_transfer(transfer_id, actor.person_id, note.trim())
                .await?;
        }
        Ok(())
    }
}
