//! Who a new version touches (issue 14, item 4): the centres and learners registered on an
//! older version of the same specification, what each learner's judged criteria become on
//! the new version, and moving registrations to it.
//!
//! A learner stays on the version published when they registered. Their awarding
//! organisation's staff (or the operator at the command line) may move a registration, or
//! all of a centre's registrations on older versions, to a newer *published* version of the
//! same specification. The move keeps every piece of evidence, mapping, judgement and
//! signature in the record and in the audit trail; what changes:
//!
//! - the registration's `catalogue_version_id` (its qualification's units, words and rules
//!   are now the new version's);
//! - a judgement of a criterion whose words changed no longer counts (it stays in the
//!   record): the criterion shows "needs re-assessment" until it is judged again
//!   ([`credence_domain::portfolio::moves`]); judgements of unchanged criteria carry over;
//! - a unit signed off with such a criterion is reopened (its sign-off withdrawn, as an IQA's
//!   referral does), so that the assessor can judge it again;
//! - judgements of criteria or units the new version removed count for nothing there.
//!
//! Each registration moved writes one audit entry (from and to version, and the re-assess
//! list) in the same transaction as the move.

use super::authz::CatalogueScope;
use super::{App, AppError, AppResult};
use crate::store::{NewMove, RegistrationRow, VersionRow};
use credence_domain::diff::{self, ReassessReason, Reassessment};
use credence_domain::model::{Specification, UnitKey};
use credence_domain::portfolio::{self, Judgement, Outcome, VersionMove};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

/// A judged criterion that stays as judged on the new version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeptCriterion {
    /// The unit's catalogue key.
    pub unit: String,
    /// The unit as people name it (`L3B1`).
    pub unit_ref: String,
    pub criterion: String,
}

/// One learner's registration on an older version, as the new version would see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LearnerImpact {
    pub registration_id: i64,
    pub learner_id: i64,
    pub given_name: String,
    pub family_name: String,
    pub uln: Option<String>,
    /// The qualification's QAN (or a unit's Ofqual reference, for a unit on its own).
    pub qan: String,
    /// The qualification's (or unit's) title in the version the learner is on.
    pub title: String,
    /// The catalogue version the learner is on now (id and number).
    pub from_version: i64,
    pub from_version_number: i64,
    /// Judged criteria whose unit and number exist in both versions with the same words:
    /// their judgements carry over.
    pub unchanged: Vec<KeptCriterion>,
    /// Judged criteria to assess again: words changed, criterion removed, unit removed.
    pub reassess: Vec<Reassessment>,
    /// Why this registration cannot move to the new version, when it cannot (its
    /// qualification is not in it).
    pub blocked: Option<String>,
}

/// A centre with learners on an older version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CentreImpact {
    pub centre_id: i64,
    pub name: String,
    pub learners: Vec<LearnerImpact>,
}

impl CentreImpact {
    /// Judged criteria to re-assess across the centre's learners.
    pub fn reassess_count(&self) -> usize {
        self.learners.iter().map(|l| l.reassess.len()).sum()
    }
}

/// Who a version touches: the registrations on older versions of its specification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionImpact {
    /// The version (id), its specification's key and its number.
    pub version: i64,
    pub specification: String,
    pub version_number: i64,
    /// `draft` or `published`: only a published version can be moved to.
    pub status: String,
    /// Centres with learners registered on an older version, by name.
    pub centres: Vec<CentreImpact>,
}

/// What to move to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveTarget {
    /// One registration.
    Registration(i64),
    /// Every registration at the centre on an older version of the specification.
    Centre(i64),
}

/// One registration moved.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MovedRegistration {
    pub registration_id: i64,
    pub learner_id: i64,
    pub centre_id: i64,
    pub from_version: i64,
    pub to_version: i64,
    /// Judged criteria whose judgements carry over.
    pub kept: usize,
    /// Judged criteria to assess again.
    pub reassess: Vec<Reassessment>,
}

/// A registration that is still current: moved, withdrawn and transferred ones stay where
/// they are.
fn is_current(r: &RegistrationRow) -> bool {
    r.status == "registered" || r.status == "on_break"
}

/// The learner's judged criteria that still count, as `(unit, number)`, given the moves
/// already made.
fn judged_items(
    judgements: &[crate::store::JudgementRow],
    moves: &[VersionMove],
) -> Vec<(UnitKey, String)> {
    judgements
        .iter()
        .map(|j| Judgement {
            unit: j.unit_key.clone(),
            criterion: j.criterion.clone(),
            outcome: if j.outcome == "met" {
                Outcome::Met
            } else {
                Outcome::NotYetMet
            },
            assessor: j.assessor_id.to_string(),
            at: j.at.clone(),
            feedback: String::new(),
            rpl: j.rpl != 0,
        })
        .filter(|j| portfolio::judgement_counts(j, moves))
        .map(|j| (j.unit, j.criterion))
        .collect()
}

impl App {
    /// The moves already made of the learner's registrations, as the domain reads them.
    async fn version_moves_of(&self, learner_id: i64) -> AppResult<Vec<VersionMove>> {
        self.store
            .moves_of_learner(learner_id)
            .await?
            .iter()
            .map(|m| {
                Ok(VersionMove {
                    at: m.moved_at.clone(),
                    reassess: m.reassess_items()?,
                })
            })
            .collect()
    }

    /// One registration as version `to` (`new`) would see it.
    async fn learner_impact(
        &self,
        r: &RegistrationRow,
        from: &VersionRow,
        old: &Specification,
        new: &Specification,
    ) -> AppResult<LearnerImpact> {
        let moves = self.version_moves_of(r.learner_id).await?;
        let judged = judged_items(
            &self.store.judgements_of_learner(r.learner_id).await?,
            &moves,
        );
        let (unchanged, reassess) = diff::reassessment(old, new, &r.qan, &judged);
        let blocked = new.programme(&r.qan).is_none().then(|| {
            format!(
                "{} is not in this version of the specification: the learner stays on version {}",
                r.qan, from.version_number
            )
        });
        Ok(LearnerImpact {
            registration_id: r.registration_id,
            learner_id: r.learner_id,
            given_name: r.given_name.clone(),
            family_name: r.family_name.clone(),
            uln: r.uln.clone(),
            qan: r.qan.clone(),
            title: old
                .programme(&r.qan)
                .map(|q| q.title.clone())
                .unwrap_or_default(),
            from_version: from.catalogue_version_id,
            from_version_number: from.version_number,
            unchanged: unchanged
                .into_iter()
                .map(|(unit, criterion)| KeptCriterion {
                    unit_ref: old
                        .unit(&unit)
                        .map_or_else(|| unit.clone(), |u| u.ao_ref.clone()),
                    unit,
                    criterion,
                })
                .collect(),
            reassess,
            blocked,
        })
    }

    /// The current registrations on versions of `target`'s specification older than it,
    /// with the versions they are on.
    async fn older_registrations(
        &self,
        target: &VersionRow,
    ) -> AppResult<Vec<(RegistrationRow, VersionRow)>> {
        let versions: BTreeMap<i64, VersionRow> = self
            .store
            .versions()
            .await?
            .into_iter()
            .filter(|v| v.spec_key == target.spec_key)
            .map(|v| (v.catalogue_version_id, v))
            .collect();
        Ok(self
            .store
            .registrations_on_spec(&target.spec_key)
            .await?
            .into_iter()
            .filter(is_current)
            .filter_map(|r| {
                let v = versions.get(&r.catalogue_version_id)?;
                (v.version_number < target.version_number).then(|| (r, v.clone()))
            })
            .collect())
    }

    /// Who version `id` touches: every centre with learners registered on an older version
    /// of the same specification, each learner with their judged criteria sorted into
    /// unchanged and to re-assess (`centre` limits it to one centre). The version's own AO's
    /// staff only: another AO's get NotFound. A draft can be looked at too (before it is
    /// published), but only a published version can be moved to.
    pub async fn version_impact(
        &self,
        scope: &CatalogueScope,
        id: i64,
        centre: Option<i64>,
    ) -> AppResult<VersionImpact> {
        let (row, imported) = self.version_in_scope(scope, id).await?;
        let new = &imported.specification;
        let mut specs: BTreeMap<i64, Specification> = BTreeMap::new();
        let mut centres: BTreeMap<i64, CentreImpact> = BTreeMap::new();
        for (r, from) in self.older_registrations(&row).await? {
            if centre.is_some_and(|c| c != r.centre_id) {
                continue;
            }
            if let std::collections::btree_map::Entry::Vacant(e) =
                specs.entry(from.catalogue_version_id)
            {
                let (_, old) = self.version_content(from.catalogue_version_id).await?;
                e.insert(old.specification);
            }
            let old = &specs[&from.catalogue_version_id];
            let learner = self.learner_impact(&r, &from, old, new).await?;
            centres
                .entry(r.centre_id)
                .or_insert_with(|| CentreImpact {
                    centre_id: r.centre_id,
                    name: r.centre_name.clone(),
                    learners: Vec::new(),
                })
                .learners
                .push(learner);
        }
        let mut centres: Vec<CentreImpact> = centres.into_values().collect();
        centres.sort_by(|a, b| a.name.cmp(&b.name).then(a.centre_id.cmp(&b.centre_id)));
        for c in &mut centres {
            c.learners.sort_by(|a, b| {
                (&a.family_name, &a.given_name, a.registration_id).cmp(&(
                    &b.family_name,
                    &b.given_name,
                    b.registration_id,
                ))
            });
        }
        Ok(VersionImpact {
            version: row.catalogue_version_id,
            specification: row.spec_key,
            version_number: row.version_number,
            status: row.status.to_string(),
            centres,
        })
    }

    /// Move one registration, or every registration of a centre on an older version, to
    /// version `id`: the specification's AO's staff (another AO's get NotFound) or the
    /// operator, with a second factor. Refused, with nothing moved: a draft (only a
    /// published version can be moved to), a registration already on it, on another
    /// specification, on a newer version or no longer current, a qualification the version
    /// does not have. All the moves commit together, each with its audit entry.
    pub async fn move_to_version(
        &self,
        scope: &CatalogueScope,
        id: i64,
        target: MoveTarget,
    ) -> AppResult<Vec<MovedRegistration>> {
        let (row, imported) = self.version_in_scope(scope, id).await?;
        if row.status != "published" {
            return Err(AppError::Conflict(format!(
                "version {} of {} is a draft: learners move only to a published version; publish it first (its page, or credence catalogue publish {id})",
                row.version_number, row.spec_key
            )));
        }
        let chosen: Vec<(RegistrationRow, VersionRow)> = match target {
            MoveTarget::Registration(n) => {
                let r = self
                    .store
                    .registration(n)
                    .await?
                    .filter(|r| scope.covers(&r.ao_code))
                    .ok_or_else(|| AppError::NotFound(format!("registration {n}")))?;
                let from = self
                    .store
                    .version(r.catalogue_version_id)
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("registration {n}")))?;
                if from.catalogue_version_id == id {
                    return Err(AppError::Validation(format!(
                        "registration {n} is already on version {} of {}: there is nothing to move",
                        row.version_number, row.spec_key
                    )));
                }
                if from.spec_key != row.spec_key {
                    return Err(AppError::Validation(format!(
                        "registration {n} is on {}, not {}: a registration moves only to a newer version of its own specification",
                        from.spec_key, row.spec_key
                    )));
                }
                if from.version_number > row.version_number {
                    return Err(AppError::Validation(format!(
                        "registration {n} is on version {}, newer than version {}: registrations move only forward",
                        from.version_number, row.version_number
                    )));
                }
                if !is_current(&r) {
                    return Err(AppError::Conflict(format!(
                        "registration {n} is {}: only a current registration moves to a new version",
                        r.status.as_str().replace('_', " ")
                    )));
                }
                vec![(r, from)]
            }
            MoveTarget::Centre(c) => {
                let centre = self
                    .store
                    .centre(c)
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("centre {c}")))?;
                let regs: Vec<_> = self
                    .older_registrations(&row)
                    .await?
                    .into_iter()
                    .filter(|(r, _)| r.centre_id == c)
                    .collect();
                if regs.is_empty() {
                    return Err(AppError::Validation(format!(
                        "no learner at {} is registered on an older version of {}: there is nothing to move",
                        centre.name, row.spec_key
                    )));
                }
                regs
            }
        };
        let new = &imported.specification;
        let mut specs: BTreeMap<i64, Specification> = BTreeMap::new();
        let mut moves = Vec::new();
        let mut out = Vec::new();
        for (r, from) in chosen {
            if let std::collections::btree_map::Entry::Vacant(e) =
                specs.entry(from.catalogue_version_id)
            {
                let (_, old) = self.version_content(from.catalogue_version_id).await?;
                e.insert(old.specification);
            }
            let old = &specs[&from.catalogue_version_id];
            let impact = self.learner_impact(&r, &from, old, new).await?;
            if let Some(why) = impact.blocked {
                return Err(AppError::Conflict(format!(
                    "{} {} (registration {}): {why}; nothing was moved",
                    r.given_name, r.family_name, r.registration_id
                )));
            }
            // Every item of the programme the new version changes or drops, judged or not:
            // a judgement recorded a moment before the move is covered too.
            let all_items: Vec<(UnitKey, String)> = old
                .programme(&r.qan)
                .map(|q| {
                    q.units
                        .iter()
                        .filter_map(|qu| old.unit(&qu.unit))
                        .flat_map(|u| {
                            u.judged_items()
                                .into_iter()
                                .map(|(n, _)| (u.key.clone(), n.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let (_, invalid) = diff::reassessment(old, new, &r.qan, &all_items);
            let reopen_units: Vec<String> = impact
                .reassess
                .iter()
                .filter(|x| x.reason == ReassessReason::WordsChanged)
                .map(|x| x.unit.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let detail = serde_json::json!({
                "registration": r.registration_id,
                "specification": row.spec_key,
                "from_version": from.catalogue_version_id,
                "from_version_number": from.version_number,
                "to_version": row.catalogue_version_id,
                "to_version_number": row.version_number,
                "kept": impact.unchanged.len(),
                "reassess": impact.reassess.iter().map(|x| serde_json::json!({"unit": x.unit, "criterion": x.criterion, "reason": x.reason})).collect::<Vec<_>>(),
                "reopened_units": reopen_units,
            });
            moves.push(NewMove {
                registration_id: r.registration_id,
                learner_id: r.learner_id,
                from_version_id: from.catalogue_version_id,
                to_version_id: row.catalogue_version_id,
                reassess: invalid.into_iter().map(|x| (x.unit, x.criterion)).collect(),
                reopen_units,
                moved_by: scope.who().to_string(),
                audit: Self::entry(
                    Some(scope.who()),
                    None,
                    "registration.move_version",
                    &format!("registration {}", r.registration_id),
                    Some(r.centre_id),
                    Some(r.learner_id),
                    detail,
                ),
            });
            out.push(MovedRegistration {
                registration_id: r.registration_id,
                learner_id: r.learner_id,
                centre_id: r.centre_id,
                from_version: from.catalogue_version_id,
                to_version: row.catalogue_version_id,
                kept: impact.unchanged.len(),
                reassess: impact.reassess,
            });
        }
        scope.require_second_factor()?;
        self.store.move_registrations(&moves).await?;
        Ok(out)
    }
}
