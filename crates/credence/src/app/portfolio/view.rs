//! What one person sees of a learner's portfolio: loading (with the per-learner stamp),
//! computing each unit's progress from the records of the centres they may see, and the
//! checks every change starts with (who assesses, which unit, which item).

use super::plan::plan_of;
use super::*;

impl App {
    /// A published specification by its catalogue version (registrations stay on the
    /// version they registered on).
    pub async fn specification_of_version(&self, id: i64) -> AppResult<Arc<Specification>> {
        if let Some(s) = self
            .published_cache
            .read()
            .map_err(|_| AppError::Internal("catalogue cache poisoned".into()))?
            .get(&id)
            .cloned()
        {
            return Ok(s);
        }
        let docs = self
            .store
            .version_documents(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("catalogue version {id}")))?;
        let spec: Arc<Specification> = Arc::new(serde_json::from_str(&docs.specification_json)?);
        self.published_cache
            .write()
            .map_err(|_| AppError::Internal("catalogue cache poisoned".into()))?
            .insert(id, spec.clone());
        Ok(spec)
    }

    /// An audit entry about a learner's portfolio, by `actor`.
    pub(crate) fn learner_entry(
        actor: &Actor,
        address: &str,
        action: &str,
        learner_id: i64,
        centre: Option<i64>,
        detail: serde_json::Value,
    ) -> crate::store::AuditDraft {
        Self::entry_by(
            actor,
            Some(address),
            action,
            &format!("learner {learner_id}"),
            centre,
            Some(learner_id),
            detail,
        )
    }

    /// The learner's stored portfolio. Every change bumps the learner's stamp in the same
    /// transaction, so what this server loaded before is used while the stamp is unchanged
    /// (one small query), and any number of servers agree.
    pub async fn portfolio_rows(&self, learner_id: i64) -> AppResult<(i64, Arc<PortfolioRows>)> {
        let stamp = self.store.portfolio_stamp(learner_id).await?;
        if let Some((at, rows)) = self
            .portfolio_cache
            .read()
            .map_err(|_| AppError::Internal("portfolio cache poisoned".into()))?
            .get(&learner_id)
            && *at == stamp
        {
            return Ok((stamp, rows.clone()));
        }
        let rows = Arc::new(PortfolioRows {
            evidence: self.store.evidence_of_learner(learner_id).await?,
            mappings: self.store.mappings_of_learner(learner_id).await?,
            ksbs: self.store.ksbs_of_learner(learner_id).await?,
            judgements: self.store.judgements_of_learner(learner_id).await?,
            signatures: self.store.signatures_of_learner(learner_id).await?,
            results: self.store.unit_results_of_learner(learner_id).await?,
            transfers: self.store.transfers_of_learner(learner_id).await?,
            plans: self.store.plans_of_learner(learner_id).await?,
            replies: self.store.replies_of_learner(learner_id).await?,
            authentications: self.store.authentications_of_learner(learner_id).await?,
            moves: self
                .store
                .moves_of_learner(learner_id)
                .await?
                .iter()
                .map(|m| {
                    Ok(portfolio::VersionMove {
                        at: m.moved_at.clone(),
                        reassess: m.reassess_items()?,
                    })
                })
                .collect::<Result<_, crate::store::StoreError>>()?,
        });
        let mut cache = self
            .portfolio_cache
            .write()
            .map_err(|_| AppError::Internal("portfolio cache poisoned".into()))?;
        if cache.len() >= PORTFOLIO_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(learner_id, (stamp, rows.clone()));
        Ok((stamp, rows))
    }

    /// Whether the actor is an assessor assigned to one of the learner's current
    /// registrations. Declared interests refuse it with the reason.
    pub(super) async fn assessing(
        &self,
        actor: &Actor,
        learner_id: i64,
    ) -> AppResult<Option<RegistrationRow>> {
        let regs = self.store.registrations_of_learner(learner_id).await?;
        // A registration moved away or withdrawn is assessed no more.
        for r in regs
            .into_iter()
            .filter(|r| r.status != "transferred" && r.status != "withdrawn")
        {
            let assigned = self
                .store
                .assignments(r.registration_id)
                .await?
                .iter()
                .any(|a| a.person_id == actor.person_id && a.role == "assessor");
            if assigned && actor.centre_roles(r.centre_id).contains(&"assessor") {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// Refuse unless the actor is an assessor assigned to the learner with no declared
    /// interest in them.
    pub(super) async fn require_assessor(
        &self,
        actor: &Actor,
        learner_id: i64,
    ) -> AppResult<RegistrationRow> {
        let Some(reg) = self.assessing(actor, learner_id).await? else {
            let withdrawn = self
                .store
                .registrations_of_learner(learner_id)
                .await?
                .into_iter()
                .any(|r| {
                    r.status == "withdrawn" && actor.centre_roles(r.centre_id).contains(&"assessor")
                });
            if withdrawn {
                return Err(AppError::Conflict(
                    "The learner's registration was withdrawn: nothing more is assessed or signed under it. The centre's administrator can tell you why on the learner's page.".into(),
                ));
            }
            return Err(AppError::Forbidden(
                "Only an assessor assigned to this learner may do this. A centre administrator assigns assessors on the learner's page.".into(),
            ));
        };
        if let Err(why) = self
            .may_act(actor.person_id, learner_id, Activity::Assess)
            .await?
        {
            return Err(AppError::Forbidden(why));
        }
        Ok(reg)
    }

    /// Refuse unless the actor is the learner or their assigned assessor.
    pub(super) async fn require_contributor(
        &self,
        actor: &Actor,
        learner_id: i64,
    ) -> AppResult<()> {
        if actor.learner_ids().contains(&learner_id) {
            // A learner whose registrations were all withdrawn (or moved away) keeps their
            // portfolio to read, as it stands: the records kept for retention.
            let current = self
                .store
                .registrations_of_learner(learner_id)
                .await?
                .iter()
                .any(is_current);
            if !current {
                return Err(AppError::Conflict(NOT_CURRENT.into()));
            }
            return Ok(());
        }
        self.require_assessor(actor, learner_id).await.map(|_| ())
    }

    /// The learner's portfolio as `actor` may see it (the route's access policy has already
    /// checked that they may see the learner at all).
    pub async fn portfolio(&self, actor: &Actor, learner_id: i64) -> AppResult<Portfolio> {
        let learner = self
            .store
            .learner(learner_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("learner {learner_id}")))?;
        let scope = self.learner_scope(actor, learner_id).await?;
        let (stamp, stored) = self.portfolio_rows(learner_id).await?;
        let visible = scope.registrations().to_vec();
        let current = visible.iter().any(is_current);
        let until = scope.until().map(str::to_string);
        let is_learner = scope.as_learner();
        let may_assess = until.is_none()
            && !is_learner
            && self.assessing(actor, learner_id).await?.is_some()
            && self
                .may_act(actor.person_id, learner_id, Activity::Assess)
                .await?
                .is_ok();
        // The computed portfolio depends on the stored rows (the stamp), the registrations
        // seen and the moment the view ends.
        let key = format!(
            "{stamp}|{:?}|{}|{}",
            scope.centres(),
            visible
                .iter()
                .map(|r| format!(
                    "{}:{}:{}",
                    r.registration_id, r.status, r.catalogue_version_id
                ))
                .collect::<Vec<_>>()
                .join(","),
            until.as_deref().unwrap_or("")
        );
        let cached = self
            .portfolio_core_cache
            .read()
            .map_err(|_| AppError::Internal("portfolio cache poisoned".into()))?
            .get(&learner_id)
            .filter(|(k, _)| *k == key)
            .map(|(_, c)| c.clone());
        let core = match cached {
            Some(core) => core,
            None => {
                let mut core = self
                    .compute_portfolio(&stored, visible, until.as_deref(), &scope)
                    .await?;
                core.key = key.clone();
                let core = Arc::new(core);
                let mut cache = self
                    .portfolio_core_cache
                    .write()
                    .map_err(|_| AppError::Internal("portfolio cache poisoned".into()))?;
                if cache.len() >= PORTFOLIO_CACHE_SIZE {
                    cache.clear();
                }
                cache.insert(learner_id, (key, core.clone()));
                core
            }
        };
        Ok(Portfolio {
            core,
            learner,
            may_add: (is_learner && current) || may_assess,
            may_assess,
            is_learner,
            record_until: until,
            stamp,
        })
    }

    pub(super) async fn compute_portfolio(
        &self,
        stored: &PortfolioRows,
        visible: Vec<RegistrationRow>,
        until: Option<&str>,
        scope: &crate::app::authz::LearnerScope,
    ) -> AppResult<PortfolioCore> {
        // Records made at a centre the actor does not see are not theirs to see (a learner
        // at two centres is two separate views); a transfer brings the old centre's along.
        let at_seen = |centre: Option<i64>| {
            scope.as_learner() || centre.is_some_and(|c| scope.sees_centre(c))
        };
        let before = |at: &str| until.is_none_or(|u| at <= u);
        let seen_regs: BTreeSet<i64> = visible.iter().map(|r| r.registration_id).collect();

        let mut qualifications = Vec::new();
        let mut seen_qans = BTreeSet::new();
        for r in visible {
            if !seen_qans.insert(r.qan.clone()) {
                continue;
            }
            let spec = self
                .specification_of_version(r.catalogue_version_id)
                .await?;
            if let Some(q) = spec.programme(&r.qan).map(std::borrow::Cow::into_owned) {
                qualifications.push(PortfolioQualification {
                    registration: r,
                    qualification: q,
                    spec,
                    plan: QualificationPlan {
                        units: Vec::new(),
                        chosen: None,
                        why_not: Vec::new(),
                    },
                });
            }
        }

        let evidence = kept(&stored.evidence, |e| {
            before(&e.added_at) && at_seen(Some(e.centre_id))
        });
        let known: BTreeSet<i64> = evidence.iter().map(|e| e.evidence_id).collect();
        let mappings = kept(&stored.mappings, |m| {
            known.contains(&m.evidence_id) && before(&m.mapped_at) && at_seen(m.centre_id)
        });
        let ksbs = kept(&stored.ksbs, |k| {
            known.contains(&k.evidence_id) && at_seen(k.centre_id)
        });
        let judgements = kept(&stored.judgements, |j| {
            before(&j.at) && at_seen(j.centre_id)
        });
        let replies = kept(&stored.replies, |r| before(&r.at) && at_seen(r.centre_id));
        let signatures = kept(&stored.signatures, |s| {
            before(&s.at) && at_seen(s.centre_id)
        });
        let authentications = kept(&stored.authentications, |a| {
            before(&a.at) && at_seen(Some(a.centre_id))
        });
        let results = kept(&stored.results, |r| {
            before(&r.recorded_at)
                && (scope.as_learner()
                    || seen_regs.contains(&r.registration_id)
                    || stored.transfers.iter().any(|t| {
                        t.from_registration_id == r.registration_id
                            && t.new_registration_id
                                .is_some_and(|n| seen_regs.contains(&n))
                    }))
        });

        let items: Vec<EvidenceItem> = evidence.iter().map(to_item).collect();
        // Each unit's own mappings and judgements, so a unit's work is proportional to it.
        let mut maps_of: BTreeMap<&str, Vec<Mapping>> = BTreeMap::new();
        for m in &mappings {
            maps_of
                .entry(m.unit_key.as_str())
                .or_default()
                .push(to_mapping(m));
        }
        let mut judged_of: BTreeMap<&str, Vec<Judgement>> = BTreeMap::new();
        for j in &judgements {
            judged_of
                .entry(j.unit_key.as_str())
                .or_default()
                .push(to_judgement(j));
        }
        let none_m: Vec<Mapping> = Vec::new();
        let none_j: Vec<Judgement> = Vec::new();
        let current: BTreeSet<i64> = evidence
            .iter()
            .filter(|e| e.superseded_by.is_none())
            .map(|e| e.evidence_id)
            .collect();

        // Each centre's number of occasions per unit (issue 17): read once per centre seen.
        let mut settings: BTreeMap<i64, Vec<crate::store::OccasionsSettingRow>> = BTreeMap::new();
        for pq in &qualifications {
            let centre = pq.registration.centre_id;
            if let std::collections::btree_map::Entry::Vacant(e) = settings.entry(centre) {
                e.insert(self.store.evidence_occasions_at(centre).await?);
            }
        }

        // Units in qualification order, each once.
        let mut units: Vec<PortfolioUnit> = Vec::new();
        for pq in &qualifications {
            for qu in &pq.qualification.units {
                if let Some(existing) = units.iter_mut().find(|u| u.unit.key == qu.unit) {
                    existing
                        .in_qualifications
                        .push((pq.qualification.qan.clone(), qu.group.clone()));
                    continue;
                }
                let Some(spec_unit) = pq.spec.unit(&qu.unit) else {
                    continue;
                };
                // The number of occasions is the centre's setting where it has one (for the
                // centre of the registration the unit is taken under), else the
                // specification's minimum: the status everywhere follows from this unit.
                let setting = settings
                    .get(&pq.registration.centre_id)
                    .and_then(|s| s.iter().find(|s| s.unit_key == spec_unit.key))
                    .cloned();
                let mut adjusted = spec_unit.clone();
                adjusted.evidence_occasions = portfolio::effective_occasions(
                    spec_unit,
                    setting
                        .as_ref()
                        .and_then(|s| u32::try_from(s.occasions).ok()),
                );
                let unit = &adjusted;
                let maps = maps_of.get(unit.key.as_str()).unwrap_or(&none_m);
                let judged = judged_of.get(unit.key.as_str()).unwrap_or(&none_j);
                let progress =
                    portfolio::unit_progress_after_moves(unit, maps, judged, &items, &stored.moves);
                let occasions = match (unit.evidence_occasions, spec_unit.evidence_occasions) {
                    (Some(need), Some(minimum)) => Some(OccasionsRule {
                        need,
                        minimum,
                        by_criterion: unit
                            .judged_items()
                            .into_iter()
                            .map(|(n, _)| {
                                (
                                    n.to_string(),
                                    portfolio::occasions_of(&unit.key, n, maps, &items),
                                )
                            })
                            .collect(),
                        setting,
                    }),
                    _ => None,
                };
                let mut evidence_by_criterion: BTreeMap<String, Vec<(i64, String)>> =
                    BTreeMap::new();
                for m in mappings
                    .iter()
                    .filter(|m| m.unit_key == unit.key && current.contains(&m.evidence_id))
                {
                    evidence_by_criterion
                        .entry(m.criterion.clone())
                        .or_default()
                        .push((m.evidence_id, m.location.clone()));
                }
                let unit_sigs: Vec<SignatureRow> = signatures
                    .iter()
                    .filter(|s| s.unit_key == unit.key)
                    .cloned()
                    .collect();
                let domain_sigs: Vec<Signature> = unit_sigs.iter().map(to_signature).collect();
                let active_sigs: Vec<Signature> = unit_sigs
                    .iter()
                    .filter(|s| s.withdrawn_at.is_none())
                    .map(to_signature)
                    .collect();
                let current_hash = portfolio::evidence_set_hash(&unit.key, maps, &items);
                let unit_auth: Vec<crate::store::AuthenticationRow> = authentications
                    .iter()
                    .filter(|a| a.unit_key == unit.key)
                    .cloned()
                    .collect();
                let latest_current = |role: &str| {
                    unit_auth
                        .iter()
                        .rev()
                        .find(|a| a.role == role)
                        .is_some_and(|a| a.evidence_hash == current_hash)
                };
                let declared_current = latest_current("learner");
                let confirmed_current = latest_current("centre");
                let has_work = !maps.is_empty() || !judged.is_empty() || !unit_sigs.is_empty();
                let ever = portfolio::is_locked(&domain_sigs);
                let signed = portfolio::signed_off_hash(&active_sigs).map(str::to_string);
                units.push(PortfolioUnit {
                    in_qualifications: vec![(pq.qualification.qan.clone(), qu.group.clone())],
                    progress,
                    evidence_by_criterion,
                    locked: ever,
                    signed_off: signed.is_some(),
                    reopened: ever && signed.is_none(),
                    signed_off_current: signed.as_deref() == Some(current_hash.as_str()),
                    current_hash,
                    signatures: unit_sigs,
                    authentications: unit_auth,
                    declared_current,
                    confirmed_current,
                    results: results
                        .iter()
                        .filter(|r| r.unit_key == unit.key)
                        .cloned()
                        .collect(),
                    unit: adjusted.clone(),
                    occasions,
                    in_plan: false,
                    has_work,
                });
            }
        }
        // Each qualification's plan: the one chosen, else the planner's proposal.
        for pq in &mut qualifications {
            pq.plan = plan_of(pq, &units, &stored.plans);
        }
        let planned: BTreeSet<&str> = qualifications
            .iter()
            .flat_map(|q| q.plan.units.iter().map(String::as_str))
            .collect();
        for u in &mut units {
            u.in_plan = planned.contains(u.unit.key.as_str());
        }
        let progress = LearnerProgress {
            met: units
                .iter()
                .filter(|u| u.in_plan)
                .map(|u| u.progress.met)
                .sum(),
            total: units
                .iter()
                .filter(|u| u.in_plan)
                .map(|u| u.progress.total)
                .sum(),
            complete_units: units
                .iter()
                .filter(|u| u.in_plan && u.progress.complete)
                .count(),
            units: units
                .iter()
                .filter(|u| u.in_plan)
                .map(|u| (u.unit.key.clone(), u.progress.clone()))
                .collect(),
        };

        // Which of the learner's qualifications the signed-off units achieve.
        let signed_off: Vec<String> = units
            .iter()
            .filter(|u| u.signed_off)
            .map(|u| u.unit.key.clone())
            .collect();
        let mut achieved = Vec::new();
        let mut specs_seen = BTreeSet::new();
        for pq in &qualifications {
            if signed_off.is_empty() {
                continue;
            }
            if pq.qualification.is_unit() {
                // A unit on its own is not among its specification's qualifications.
                let rc =
                    RulesCatalogue::new(std::slice::from_ref(&pq.qualification), &pq.spec.units);
                if rc
                    .evaluate(&pq.qualification.qan, &signed_off)
                    .is_ok_and(|e| e.achieved)
                {
                    achieved.push((pq.qualification.qan.clone(), pq.qualification.title.clone()));
                }
                continue;
            }
            if !specs_seen.insert(pq.registration.catalogue_version_id) {
                continue;
            }
            let rc = RulesCatalogue::new(&pq.spec.qualifications, &pq.spec.units);
            if let Ok(claims) = rc.claimable(&signed_off) {
                for c in claims.into_iter().filter(|c| c.met) {
                    achieved.push((c.qan, c.title));
                }
            }
        }

        Ok(PortfolioCore {
            key: String::new(),
            qualifications,
            units,
            evidence,
            mappings,
            ksbs,
            judgements,
            replies,
            progress,
            achieved,
            transfers: stored.transfers.clone(),
        })
    }

    /// The centre a new item is filed under: the learner's current centre (the first active
    /// registration).
    pub(super) async fn current_centre(&self, learner_id: i64) -> AppResult<i64> {
        self.store
            .registrations_of_learner(learner_id)
            .await?
            .into_iter()
            .find(is_current)
            .map(|r| r.centre_id)
            .ok_or_else(|| AppError::Conflict(NOT_CURRENT.into()))
    }

    /// The centre a record about `unit` is filed under: that of the first registration seen
    /// whose qualification has the unit.
    pub(super) fn centre_of_unit(p: &Portfolio, unit: &PortfolioUnit) -> AppResult<i64> {
        p.qualifications
            .iter()
            .find(|q| {
                unit.in_qualifications
                    .iter()
                    .any(|(qan, _)| *qan == q.qualification.qan)
            })
            .map(|q| q.registration.centre_id)
            .ok_or_else(|| AppError::NotFound(format!("a registration with {}", unit.unit.key)))
    }

    /// Refuse a decision taken on a page (or a JSON view) whose stamp has since moved:
    /// someone else changed the portfolio after the person looked at it.
    pub(super) fn still_as_seen(p: &Portfolio, seen: Option<i64>) -> AppResult<()> {
        match seen {
            Some(s) if s != p.stamp => {
                Err(AppError::Conflict(crate::store::STALE_VIEW.to_string()))
            }
            _ => Ok(()),
        }
    }

    /// The units of the learner (from their current registrations) by key.
    pub(super) fn unit_of<'a>(p: &'a Portfolio, unit_key: &str) -> AppResult<&'a PortfolioUnit> {
        p.unit(unit_key).ok_or_else(|| {
            AppError::Validation(format!(
                "'{unit_key}' is not a unit of this learner's qualifications"
            ))
        })
    }

    pub(super) fn item_of(p: &Portfolio, evidence_id: i64) -> AppResult<&EvidenceRow> {
        p.item(evidence_id)
            .ok_or_else(|| AppError::NotFound(format!("evidence {evidence_id}")))
    }
}

/// A registration under which the learner still works: not withdrawn, not moved to another
/// centre (a break in learning is still current: work done before it can be added).
fn is_current(r: &RegistrationRow) -> bool {
    r.status != "transferred" && r.status != "withdrawn"
}

/// Why evidence cannot be added, changed or deleted for a learner with no current
/// registration.
pub(crate) const NOT_CURRENT: &str = "The learner has no current registration (it was withdrawn or moved to another centre), so evidence can no longer be added, changed or deleted. The portfolio is kept as it stands; the centre's administrator can say why.";
