//! Centres: approval per qualification, direct claim status, who sees which centre.
//! Access to a centre is decided in `web::access`; these functions limit what an actor's
//! roles let them change (an AO's staff change only their AO's approvals).

use super::people::Actor;
use super::{App, AppError, AppResult};
use crate::store::{ApprovalRow, CentreAoRow, CentreRow};
use std::collections::HashMap;

/// A centre as one actor sees it.
pub struct CentreSummary {
    pub centre: CentreRow,
    pub aos: Vec<CentreAoRow>,
    pub my_roles: Vec<String>,
}

impl App {
    /// The centres this actor may see: where they hold a role, that work with an AO they
    /// are staff of, or that they are appointed to as EQA.
    /// The centres an actor sees, for naming them: their AOs are read only for AO staff and
    /// EQAs (who need them); everyone else gets their centres with no AOs, in one query.
    pub async fn visible_centres_named(&self, actor: &Actor) -> AppResult<Vec<CentreSummary>> {
        if !actor.ao_codes().is_empty() || !actor.eqa_centres.is_empty() {
            return self.visible_centres(actor).await;
        }
        Ok(self
            .centres_worked_at(actor)
            .await?
            .into_iter()
            .filter_map(|c| {
                let roles: Vec<String> = actor
                    .centre_roles(c.centre_id)
                    .into_iter()
                    .map(|r| super::people::role_name(r).to_string())
                    .collect();
                (!roles.is_empty()).then_some(CentreSummary {
                    centre: c,
                    aos: Vec::new(),
                    my_roles: roles,
                })
            })
            .collect())
    }

    /// The centres the actor has a role at, by name: from their grants, which carry the
    /// centre's name (read with them on every request), so every page of someone who works
    /// at a centre or two does not read every centre there is.
    async fn centres_worked_at(&self, actor: &Actor) -> AppResult<Vec<CentreRow>> {
        let mut centres: Vec<CentreRow> = Vec::new();
        for g in &actor.grants {
            let Some(id) = g.centre_id else { continue };
            if centres.iter().any(|c| c.centre_id == id) {
                continue;
            }
            match &g.centre_name {
                Some(name) => centres.push(CentreRow {
                    centre_id: id,
                    name: name.clone(),
                }),
                // An actor made without the names (tests): read the centre.
                None => centres.extend(self.store.centre(id).await?),
            }
        }
        centres.sort_by(|a, b| (&a.name, a.centre_id).cmp(&(&b.name, b.centre_id)));
        Ok(centres)
    }

    /// One page (`page` from 1) of the centres this actor may see, by name, those whose name
    /// contains `name_part` where given: what `visible_centres` lists, without reading every
    /// centre. Returns the page and how many there are in all.
    pub async fn visible_centres_page(
        &self,
        actor: &Actor,
        name_part: Option<&str>,
        page: u32,
        per_page: u32,
    ) -> AppResult<(Vec<CentreSummary>, u64)> {
        let offset = i64::from(page.max(1) - 1) * i64::from(per_page);
        self.visible_centres_range(actor, name_part, offset, i64::from(per_page))
            .await
    }

    /// The centres the actor may see, by name, `limit` of them after leaving out `offset`,
    /// with how many there are in all: three statements, whatever the number of centres.
    pub async fn visible_centres_range(
        &self,
        actor: &Actor,
        name_part: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> AppResult<(Vec<CentreSummary>, u64)> {
        let my_aos: Vec<String> = actor.ao_codes().iter().map(|a| a.to_string()).collect();
        let mut also: Vec<i64> = actor.eqa_centres.iter().map(|(id, _)| *id).collect();
        also.extend(actor.grants.iter().filter_map(|g| g.centre_id));
        also.sort_unstable();
        also.dedup();
        let (rows, total) = self
            .store
            .centres_page(&my_aos, &also, name_part, offset, limit)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|c| c.centre_id).collect();
        let mut aos = self.store.aos_of_centres(&ids).await?;
        let list = rows
            .into_iter()
            .map(|c| {
                let my_roles = actor
                    .centre_roles(c.centre_id)
                    .into_iter()
                    .map(|r| super::people::role_name(r).to_string())
                    .collect();
                CentreSummary {
                    aos: aos.remove(&c.centre_id).unwrap_or_default(),
                    centre: c,
                    my_roles,
                }
            })
            .collect();
        Ok((list, u64::try_from(total).unwrap_or(0)))
    }

    pub async fn visible_centres(&self, actor: &Actor) -> AppResult<Vec<CentreSummary>> {
        let mut out = Vec::new();
        let my_aos = actor.ao_codes();
        // Someone with no AO role and no EQA appointment sees only the centres they have a
        // role at: no need to read every other centre's AOs.
        let overseer = !my_aos.is_empty() || !actor.eqa_centres.is_empty();
        // Every centre's AOs in one read for an overseer; a centre at a time for the few
        // centres someone without an AO role works at.
        let mut all_aos = if overseer {
            self.store.all_centre_aos().await?
        } else {
            HashMap::new()
        };
        let centres = if overseer {
            self.store.centres().await?
        } else {
            self.centres_worked_at(actor).await?
        };
        for c in centres {
            let roles: Vec<String> = actor
                .centre_roles(c.centre_id)
                .into_iter()
                .map(|r| super::people::role_name(r).to_string())
                .collect();
            if !overseer && roles.is_empty() {
                continue;
            }
            let aos = if overseer {
                all_aos.remove(&c.centre_id).unwrap_or_default()
            } else {
                self.store.centre_aos(c.centre_id).await?
            };
            let oversees = aos.iter().any(|a| my_aos.contains(&a.ao_code.as_str()))
                || actor.eqa_centres.iter().any(|(id, _)| *id == c.centre_id);
            if oversees || !roles.is_empty() {
                out.push(CentreSummary {
                    centre: c,
                    aos,
                    my_roles: roles,
                });
            }
        }
        Ok(out)
    }

    /// Create a centre working with the actor's AO (AO staff).
    pub async fn create_centre(&self, actor: &Actor, name: &str, address: &str) -> AppResult<i64> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::Validation("Enter the centre's name".into()));
        }
        let scope = self.own_ao_scope(actor).map_err(|_| {
            AppError::Validation("Only awarding organisation staff add centres".into())
        })?;
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "centre_created",
            "centre",
            None,
            None,
            serde_json::json!({"name": name, "ao": scope.ao_code()}),
        );
        // The centre, its AO and the entry in one transaction.
        Ok(self
            .store
            .audited(entry)
            .create_centre(name, scope.ao_code())
            .await?)
    }

    pub async fn centre(&self, id: i64) -> AppResult<CentreRow> {
        self.store
            .centre(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("centre {id}")))
    }

    /// A centre's registrations as the actor may see them (newest first): all of them for
    /// its staff, only those on their own AO's qualifications for AO staff and EQAs.
    pub async fn registrations_at_centre(
        &self,
        actor: &Actor,
        centre: i64,
        limit: i64,
    ) -> AppResult<Vec<crate::store::RegistrationRow>> {
        Ok(self
            .store
            .registrations_at_centre(centre, limit)
            .await?
            .into_iter()
            .filter(|r| super::authz::sees_registration(actor, r))
            .collect())
    }

    pub async fn approvals(&self, centre: i64) -> AppResult<Vec<ApprovalRow>> {
        Ok(self.store.approvals(centre).await?)
    }

    /// Approve a centre for a qualification of the current catalogue, or for a unit on its
    /// own (by its Ofqual reference), by staff of its AO.
    pub async fn approve_centre(
        &self,
        actor: &Actor,
        centre: i64,
        qan: &str,
        address: &str,
    ) -> AppResult<bool> {
        let cat = self.catalogue().await?;
        let (cs, q) = cat.programme(qan).ok_or_else(|| {
            AppError::Validation(format!(
                "{qan} is neither a qualification (QAN) nor a unit (Ofqual unit reference) of the current catalogue"
            ))
        })?;
        let ao = cs.spec.awarding_organisation.code.clone();
        let scope = self.ao_scope(actor, &ao).map_err(|_| {
            AppError::Validation(format!(
                "{qan} is awarded by {ao}: only {ao} staff approve centres for it"
            ))
        })?;
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "centre_approved",
            &format!("centre {centre}"),
            Some(centre),
            None,
            serde_json::json!({"qan": q.qan, "title": q.title, "unit": q.is_unit()}),
        );
        let new = self
            .store
            .audited(entry)
            .approve_centre(centre, &q.qan, scope.ao_code(), Some(scope.person_id()))
            .await?;
        Ok(new)
    }
}

impl App {
    /// Appoint an EQA of the actor's AO to a centre (AO staff).
    pub async fn appoint_eqa(
        &self,
        actor: &Actor,
        centre: i64,
        person: i64,
        address: &str,
    ) -> AppResult<()> {
        let scope = self.own_ao_scope(actor).map_err(|_| {
            AppError::Validation("Only awarding organisation staff appoint EQAs".into())
        })?;
        let ao = scope.ao_code().to_string();
        if !self
            .store
            .eqas_of(&ao)
            .await?
            .iter()
            .any(|(p, _)| *p == person)
        {
            return Err(AppError::Validation(format!(
                "That person is not an EQA for {ao}: invite them as EQA first"
            )));
        }
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "eqa_appointed",
            &format!("centre {centre}"),
            Some(centre),
            None,
            serde_json::json!({"person": person, "ao": ao}),
        );
        self.store
            .audited(entry)
            .appoint_eqa(person, centre, &ao)
            .await?;
        Ok(())
    }
}
