//! Evidence over time (issue 17, item 2): each centre's number of occasions per unit, for
//! units whose specification asks for evidence "over a sufficient period of time on
//! different occasions" (OCR unit 39). The rule is
//! [`credence_domain::portfolio::occasions`]; who reads and sets it is
//! [`super::authz::PracticeScope`].

use super::authz::PracticeScope;
use super::people::Actor;
use super::{App, AppError, AppResult};
use crate::store::OccasionsSettingRow;
use credence_domain::model::Unit;
use credence_domain::portfolio;

/// One unit of the centre's that asks for occasions, with the centre's setting.
#[derive(Debug, Clone)]
pub struct UnitOccasions {
    pub unit: Unit,
    /// The programmes the centre is approved for that include it (QANs, or the unit's own
    /// reference for a unit taken on its own).
    pub programmes: Vec<String>,
    /// The specification's minimum.
    pub minimum: u32,
    /// The specification's sentence about occasions, in its own words.
    pub words: Option<String>,
    /// The centre's setting, if it recorded one.
    pub setting: Option<OccasionsSettingRow>,
    /// What the criterion status uses for the centre's learners.
    pub effective: u32,
}

/// A centre's occasions, as one person may see them.
#[derive(Debug, Clone)]
pub struct CentreOccasions {
    pub centre_id: i64,
    pub units: Vec<UnitOccasions>,
    /// The viewer may set them (the centre's administrators and its lead IQA).
    pub may_set: bool,
}

impl App {
    /// The units the centre is approved for (on their own or in a qualification) that ask
    /// for evidence on different occasions, each with the centre's setting.
    pub async fn centre_occasions(&self, actor: &Actor, centre: i64) -> AppResult<CentreOccasions> {
        let scope = self.practice_scope(actor, centre).await?;
        self.occasions_in(&scope).await
    }

    async fn occasions_in(&self, scope: &PracticeScope) -> AppResult<CentreOccasions> {
        let centre = scope.centre_id();
        let cat = self.catalogue().await?;
        let settings = self.store.evidence_occasions_at(centre).await?;
        let mut units: Vec<UnitOccasions> = Vec::new();
        for approval in self.store.approvals(centre).await? {
            let Some((cs, q)) = cat.programme(&approval.qan) else {
                continue;
            };
            for qu in &q.units {
                let Some(unit) = cs.spec.unit(&qu.unit) else {
                    continue;
                };
                let Some(minimum) = unit.evidence_occasions else {
                    continue;
                };
                if let Some(known) = units.iter_mut().find(|u| u.unit.key == unit.key) {
                    if !known.programmes.contains(&q.qan) {
                        known.programmes.push(q.qan.clone());
                    }
                    continue;
                }
                let setting = settings.iter().find(|s| s.unit_key == unit.key).cloned();
                let effective = portfolio::effective_occasions(
                    unit,
                    setting
                        .as_ref()
                        .and_then(|s| u32::try_from(s.occasions).ok()),
                )
                .unwrap_or(minimum);
                units.push(UnitOccasions {
                    words: portfolio::occasions_words(unit),
                    unit: unit.clone(),
                    programmes: vec![q.qan.clone()],
                    minimum,
                    setting,
                    effective,
                });
            }
        }
        Ok(CentreOccasions {
            centre_id: centre,
            units,
            may_set: scope.may_set(),
        })
    }

    /// Record how many occasions the centre asks for on a unit (its administrators or its
    /// lead IQA), with the reason: at least the specification's minimum, at most 20. The
    /// setting, the audit entry (with the number before) and the new stamps of the centre's
    /// learners commit in one transaction.
    pub async fn set_centre_occasions(
        &self,
        actor: &Actor,
        centre: i64,
        unit_key: &str,
        occasions: u32,
        reason: &str,
        address: &str,
    ) -> AppResult<UnitOccasions> {
        let scope = self.practice_scope(actor, centre).await?;
        scope.require_set()?;
        let unit_key = unit_key.trim();
        let current = self.occasions_in(&scope).await?;
        let Some(unit) = current.units.iter().find(|u| u.unit.key == unit_key) else {
            return Err(AppError::NotFound(format!(
                "a unit '{unit_key}' that asks for evidence on different occasions among what this centre is approved for"
            )));
        };
        portfolio::check_occasions_setting(&unit.unit, occasions, reason)
            .map_err(|e| AppError::Validation(capitalise(&e.to_string())))?;
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "centre.evidence_occasions_set",
            &format!("centre {centre}"),
            Some(centre),
            None,
            serde_json::json!({
                "unit": unit.unit.key,
                "occasions": occasions,
                "before": unit.effective,
                "minimum": unit.minimum,
                "reason": reason.trim(),
            }),
        );
        self.store
            .audited(entry)
            .set_evidence_occasions(
                centre,
                &unit.unit.key,
                occasions,
                reason.trim(),
                Some(scope.person_id()),
            )
            .await?;
        let key = unit.unit.key.clone();
        self.occasions_in(&scope)
            .await?
            .units
            .into_iter()
            .find(|u| u.unit.key == key)
            .ok_or_else(|| AppError::Internal("the unit set is no longer listed".into()))
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
