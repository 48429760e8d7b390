//! Evidence: upload (streamed into the evidence store), mapping to criteria and KSBs,
//! deletion, superseding, and the consistency check and sweep of the store.

use super::*;

impl App {
    /// Check the metadata, then stream the file into the evidence store, then record it.
    /// Nothing is recorded unless the file is complete; a file whose record cannot be
    /// written is deleted again. Re-sending the same file with the same title and date
    /// (a retry after a lost answer) returns the item already recorded.
    pub async fn add_evidence<S, E>(
        &self,
        actor: &Actor,
        learner_id: i64,
        meta: &EvidenceMeta,
        body: S,
        address: &str,
    ) -> AppResult<i64>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.require_contributor(actor, learner_id).await?;
        let problems = meta.problems(chrono::Utc::now().date_naive());
        if !problems.is_empty() {
            return Err(AppError::Validation(
                problems
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        let centre_id = self.current_centre(learner_id).await?;
        let stored = self
            .evidence
            .put_stream(body, self.max_upload)
            .await
            .map_err(|e| match e {
                UploadError::TooLarge { .. } => AppError::TooLarge(e.to_string()),
                UploadError::Storage(m) => AppError::Internal(m),
                other => AppError::Validation(other.to_string()),
            })?;
        self.record_evidence(actor, learner_id, centre_id, meta, stored, address)
            .await
    }

    pub(super) async fn record_evidence(
        &self,
        actor: &Actor,
        learner_id: i64,
        centre_id: i64,
        meta: &EvidenceMeta,
        stored: Stored,
        address: &str,
    ) -> AppResult<i64> {
        let file_name = display_file_name(&meta.file_name);
        // A retry of an upload already recorded: keep the first, drop the copy.
        let existing = self
            .store
            .evidence_of_learner(learner_id)
            .await?
            .into_iter()
            .find(|e| {
                e.superseded_by.is_none()
                    && e.sha256 == stored.sha256
                    && e.title == meta.title.trim()
                    && e.evidence_date == meta.iso_date()
            });
        if let Some(e) = existing {
            let _ = self.evidence.delete(&stored.key).await;
            return Ok(e.evidence_id);
        }
        let row = NewEvidence {
            learner_id,
            centre_id,
            title: meta.title.trim().to_string(),
            evidence_date: meta.iso_date(),
            kind: meta.kind.clone(),
            kind_other: trimmed(&meta.kind_other),
            witness_name: trimmed(&meta.witness_name),
            witness_role: trimmed(&meta.witness_role),
            source: meta.source.clone(),
            simulation_note: trimmed(&meta.simulation_note),
            media_type: media_type_for(&file_name).to_string(),
            file_name,
            size: i64::try_from(stored.size).unwrap_or(i64::MAX),
            sha256: stored.sha256.clone(),
            object_key: stored.key.clone(),
            added_by: actor.person_id,
        };
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.add",
            learner_id,
            Some(centre_id),
            serde_json::json!({"title": row.title, "sha256": row.sha256, "size": row.size}),
        );
        let id = match self.store.audited(entry).insert_evidence(&row).await {
            Ok(id) => id,
            Err(e) => {
                // The record could not be written: the file must not stay behind.
                if let Err(d) = self.evidence.delete(&stored.key).await {
                    tracing::warn!(key = %stored.key, error = %d, "orphan evidence object left for the sweep");
                }
                return Err(e.into());
            }
        };
        Ok(id)
    }

    /// Map an item to a criterion of a unit, with where in the item it is shown.
    #[allow(clippy::too_many_arguments)]
    pub async fn map_evidence(
        &self,
        actor: &Actor,
        learner_id: i64,
        evidence_id: i64,
        unit_key: &str,
        criterion: &str,
        location: &str,
        address: &str,
    ) -> AppResult<()> {
        self.map_evidence_many(
            actor,
            learner_id,
            evidence_id,
            &[(unit_key.to_string(), criterion.to_string())],
            location,
            address,
        )
        .await
        .map(|_| ())
    }

    /// Map one item to many criteria (unit key, criterion) in one step, at one location:
    /// every target is checked first and all problems named together (one a line); then all
    /// are mapped in one transaction with one audit entry. Returns how many.
    pub async fn map_evidence_many(
        &self,
        actor: &Actor,
        learner_id: i64,
        evidence_id: i64,
        targets: &[(String, String)],
        location: &str,
        address: &str,
    ) -> AppResult<usize> {
        self.require_contributor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let item = Self::item_of(&p, evidence_id)?;
        if item.superseded_by.is_some() {
            return Err(AppError::Conflict(
                "this evidence has been superseded: map its latest version".into(),
            ));
        }
        let mut problems = Vec::new();
        if targets.is_empty() {
            problems.push("Choose at least one criterion this evidence shows".to_string());
        }
        if location.trim().is_empty() {
            problems.push("Say where in the evidence the criteria are shown (for example 'page 3' or '04:10 to 06:30')".to_string());
        }
        let source = source_of(&item.source).unwrap_or(EvidenceSource::Simulation);
        let mut rows: Vec<(String, String)> = Vec::new();
        let mut simulation_refused = BTreeSet::new();
        for (unit_key, criterion) in targets {
            let unit = match Self::unit_of(&p, unit_key) {
                Ok(u) => u,
                Err(e) => {
                    problems.push(e.to_string());
                    continue;
                }
            };
            if let Err(e) = portfolio::check_criterion(&unit.unit, criterion) {
                problems.push(e.to_string());
                continue;
            }
            if let Err(e) =
                portfolio::check_simulation(&unit.unit, source, item.simulation_note.as_deref())
            {
                if simulation_refused.insert(unit.unit.key.clone()) {
                    problems.push(e.to_string());
                }
                continue;
            }
            let row = (unit.unit.key.to_string(), criterion.trim().to_string());
            if !rows.contains(&row) {
                rows.push(row);
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Validation(problems.join("\n")));
        }
        let detail = if rows.len() == 1 {
            serde_json::json!({"evidence": evidence_id, "unit": rows[0].0, "criterion": rows[0].1, "location": location.trim()})
        } else {
            serde_json::json!({
                "evidence": evidence_id,
                "criteria": rows.iter().map(|(u, c)| serde_json::json!({"unit": u, "criterion": c})).collect::<Vec<_>>(),
                "location": location.trim(),
            })
        };
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.map",
            learner_id,
            Some(item.centre_id),
            detail,
        );
        // The learner's mapping asks their assessor for a decision.
        let jobs = if actor.learner_ids().contains(&learner_id) {
            self.event_jobs(
                &self.learner_assessors(learner_id).await?,
                "Evidence to assess",
                &format!(
                    "{} {} mapped '{}' to {} {}: it is waiting for your decision.",
                    p.learner.given_name,
                    p.learner.family_name,
                    item.title,
                    rows.len(),
                    if rows.len() == 1 {
                        "criterion"
                    } else {
                        "criteria"
                    }
                ),
                &format!("/learners/{learner_id}/portfolio"),
            )
            .await?
        } else {
            Vec::new()
        };
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .queueing(jobs)
            .map_evidence_many(
                learner_id,
                evidence_id,
                &rows,
                location.trim(),
                actor.person_id,
            )
            .await?;
        Ok(rows.len())
    }

    /// Take a mapping away (refused under a signed-off unit).
    pub async fn unmap_evidence(
        &self,
        actor: &Actor,
        learner_id: i64,
        evidence_id: i64,
        unit_key: &str,
        criterion: &str,
        address: &str,
    ) -> AppResult<()> {
        self.require_contributor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let item = Self::item_of(&p, evidence_id)?;
        let unit = Self::unit_of(&p, unit_key)?;
        portfolio::may_change_evidence(unit.locked, &EvidenceChange::Delete)
            .map_err(|e| AppError::Conflict(e.to_string()))?;
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.unmap",
            learner_id,
            Some(item.centre_id),
            serde_json::json!({"evidence": evidence_id, "unit": unit_key, "criterion": criterion}),
        );
        if !self
            .store
            .audited(entry)
            .expecting(p.stamp)
            .unmap_evidence(evidence_id, unit_key, criterion)
            .await?
        {
            return Err(AppError::NotFound("that mapping".into()));
        }
        Ok(())
    }

    /// Map an item to an apprenticeship KSB of one of the learner's units.
    pub async fn map_ksb(
        &self,
        actor: &Actor,
        learner_id: i64,
        evidence_id: i64,
        ksb: &str,
        address: &str,
    ) -> AppResult<()> {
        self.require_contributor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let item = Self::item_of(&p, evidence_id)?;
        let ksb = ksb.trim().to_uppercase();
        let known: BTreeSet<String> = p
            .units
            .iter()
            .flat_map(|u| u.unit.ksb.iter().map(|k| k.code.to_uppercase()))
            .collect();
        if !known.contains(&ksb) {
            return Err(AppError::Validation(if known.is_empty() {
                "None of this learner's units map to an apprenticeship standard's KSBs".into()
            } else {
                format!(
                    "'{ksb}' is not a KSB of this learner's units; they map to {}",
                    known.into_iter().collect::<Vec<_>>().join(", ")
                )
            }));
        }
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.map_ksb",
            learner_id,
            Some(item.centre_id),
            serde_json::json!({"evidence": evidence_id, "ksb": ksb}),
        );
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .map_ksb(learner_id, evidence_id, &ksb, actor.person_id)
            .await?;
        Ok(())
    }

    /// Delete an item that no signed-off unit uses; the file goes too.
    pub async fn delete_evidence(
        &self,
        actor: &Actor,
        learner_id: i64,
        evidence_id: i64,
        address: &str,
    ) -> AppResult<()> {
        self.require_contributor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let item = Self::item_of(&p, evidence_id)?.clone();
        let locked = p.locked_units_of(evidence_id);
        if !locked.is_empty() || item.superseded_by.is_some() {
            return Err(AppError::Conflict(format!(
                "{} Units signed off with it: {}.",
                portfolio::LockRefusal::DeleteRefused,
                if locked.is_empty() {
                    "(it is an earlier version, kept for the record)".to_string()
                } else {
                    locked.join(", ")
                }
            )));
        }
        if p.evidence
            .iter()
            .any(|e| e.superseded_by == Some(evidence_id))
        {
            return Err(AppError::Conflict(
                "this item replaced an earlier version; it is kept with the history".into(),
            ));
        }
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.delete",
            learner_id,
            Some(item.centre_id),
            serde_json::json!({"evidence": evidence_id, "title": item.title, "sha256": item.sha256}),
        );
        let key = self
            .store
            .audited(entry)
            .expecting(p.stamp)
            .delete_evidence(evidence_id)
            .await?;
        if let Err(e) = self.evidence.delete(&key).await {
            tracing::warn!(%key, error = %e, "orphan evidence object left for the sweep");
        }
        Ok(())
    }

    /// Replace an item with a new version: the new file is stored and recorded, takes over
    /// the old one's mappings, and the old one is kept, marked superseded with the reason.
    #[allow(clippy::too_many_arguments)]
    pub async fn supersede_evidence<S, E>(
        &self,
        actor: &Actor,
        learner_id: i64,
        old_id: i64,
        reason: &str,
        meta: &EvidenceMeta,
        body: S,
        address: &str,
    ) -> AppResult<i64>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.require_contributor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let old = Self::item_of(&p, old_id)?.clone();
        let locked = !p.locked_units_of(old_id).is_empty();
        portfolio::may_change_evidence(
            locked,
            &EvidenceChange::Replace {
                reason: reason.to_string(),
            },
        )
        .map_err(|e| AppError::Validation(e.to_string()))?;
        if reason.trim().is_empty() {
            return Err(AppError::Validation(
                "Say why this evidence is being replaced".into(),
            ));
        }
        if old.superseded_by.is_some() {
            return Err(AppError::Conflict(
                "this evidence has already been superseded: replace its latest version".into(),
            ));
        }
        let new_id = self
            .add_evidence(actor, learner_id, meta, body, address)
            .await?;
        if new_id == old_id {
            return Err(AppError::Validation(
                "the new version is the same file with the same title and date: nothing to replace"
                    .into(),
            ));
        }
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.supersede",
            learner_id,
            Some(old.centre_id),
            serde_json::json!({"evidence": old_id, "by": new_id, "reason": reason.trim()}),
        );
        self.store
            .audited(entry)
            .supersede_evidence(old_id, new_id, reason.trim())
            .await?;
        Ok(new_id)
    }

    /// Check that every evidence record's file is present, whole and unchanged, and list
    /// files no record names. Returns (records checked, problems, orphans).
    pub async fn check_evidence(
        &self,
        read_back: bool,
    ) -> AppResult<(usize, Vec<String>, Vec<String>)> {
        let rows = self.store.evidence_object_keys().await?;
        let mut problems = Vec::new();
        for (id, key, size, sha) in &rows {
            match self.evidence.size(key).await.map_err(AppError::Internal)? {
                None => problems.push(format!("evidence {id}: its file {key} is missing")),
                Some(s) if i64::try_from(s).unwrap_or(-1) != *size => problems.push(format!(
                    "evidence {id}: its file {key} has {s} bytes, the record says {size}"
                )),
                Some(_) if read_back => {
                    let got = self
                        .evidence
                        .sha256(key)
                        .await
                        .map_err(AppError::Internal)?;
                    if got != *sha {
                        problems.push(format!(
                            "evidence {id}: its file {key} has changed (SHA-256 {got}, recorded {sha})"
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        let known = rows.iter().map(|(_, k, _, _)| k.clone()).collect();
        let orphans = self
            .evidence
            .orphans(&known, std::time::Duration::ZERO)
            .await
            .map_err(AppError::Internal)?;
        Ok((rows.len(), problems, orphans))
    }

    /// Remove files no record names and staging files of cut-off uploads, older than
    /// `grace` (an upload finishing on another server right now is left alone).
    pub async fn sweep_evidence(&self, grace: std::time::Duration) -> AppResult<(usize, usize)> {
        let known = self
            .store
            .evidence_object_keys()
            .await?
            .into_iter()
            .map(|(_, k, _, _)| k)
            .collect();
        let orphans = self
            .evidence
            .orphans(&known, grace)
            .await
            .map_err(AppError::Internal)?;
        // Read the records again: a record written since the first read is not an orphan.
        let known_now: std::collections::HashSet<String> = self
            .store
            .evidence_object_keys()
            .await?
            .into_iter()
            .map(|(_, k, _, _)| k)
            .collect();
        let mut removed = 0;
        for key in orphans.iter().filter(|k| !known_now.contains(*k)) {
            self.evidence
                .delete(key)
                .await
                .map_err(AppError::Internal)?;
            removed += 1;
        }
        let staging = self.evidence.stale_staging_files(grace, true).len();
        Ok((removed, staging))
    }
}
