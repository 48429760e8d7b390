//! Rules of combination for people and scripts: is it achieved, what can I claim now, and
//! the shortest way there, over the current catalogue.

use super::{App, AppError, AppResult};
use credence_domain::rules::{
    Catalogue as RulesCatalogue, Claimable, Evaluation, Plan, PlanRequest, RulesError,
};

impl From<RulesError> for AppError {
    fn from(e: RulesError) -> Self {
        match e {
            RulesError::UnknownQualification(q) => AppError::NotFound(format!("qualification {q}")),
            other => {
                AppError::Internal(format!("the catalogue's rules could not be read: {other}"))
            }
        }
    }
}

/// Split a list of unit identifiers as people type them: commas, spaces or new lines.
pub fn split_units(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl App {
    /// Is the qualification achieved by these units (as given)?
    pub async fn check_rules(&self, qan: &str, units: &[String]) -> AppResult<Evaluation> {
        let cat = self.catalogue().await?;
        let (cs, _) = cat
            .qualification(qan)
            .ok_or_else(|| AppError::NotFound(format!("qualification {qan}")))?;
        let rc = RulesCatalogue::new(&cs.spec.qualifications, &cs.spec.units);
        Ok(rc.evaluate(qan, units)?)
    }

    /// The shortest way to the qualification from these units.
    pub async fn plan(&self, qan: &str, request: &PlanRequest) -> AppResult<Plan> {
        let cat = self.catalogue().await?;
        let (cs, _) = cat
            .qualification(qan)
            .ok_or_else(|| AppError::NotFound(format!("qualification {qan}")))?;
        let rc = RulesCatalogue::new(&cs.spec.qualifications, &cs.spec.units);
        Ok(rc.plan(qan, request)?)
    }

    /// For every qualification of the current catalogue: can the learner claim it with these
    /// units, with which, and if not how far. Met ones first.
    pub async fn claimable(&self, units: &[String]) -> AppResult<Vec<Claimable>> {
        let cat = self.catalogue().await?;
        let mut out = Vec::new();
        for cs in &cat.specs {
            if cs.spec.qualifications.is_empty() {
                continue;
            }
            let rc = RulesCatalogue::new(&cs.spec.qualifications, &cs.spec.units);
            // Identifiers of other specifications are simply not units of these qualifications.
            out.extend(rc.claimable(units)?);
        }
        out.sort_by_key(|c| !c.met);
        Ok(out)
    }
}
