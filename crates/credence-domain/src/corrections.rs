//! Corrections: how a person resolves the open points of an import.
//!
//! A corrections file is JSON (documented in `docs/catalogue-format.md`):
//!
//! ```json
//! { "corrections": [
//!     { "target": { "entity": "unit", "key": "H/651/601", "field": "ofqual_ref" },
//!       "value": "H/651/6010", "note": "confirmed with the ISP register" },
//!     { "finding": "F12", "accept": true, "note": "the unit specification's value is right" }
//! ] }
//! ```
//!
//! A correction either sets a field of the draft (`target` + `value`, optionally naming the
//! `finding` it answers) or accepts the draft as it stands for one finding (`finding` +
//! `accept`). Either way the open findings it answers become resolved, with the person's
//! note. Fields: a unit's `title`, `level`, `credit`, `glh`, `tqt`, `ofqual_ref`, `ao_ref`,
//! `sector`, `purpose`, `simulation`, `evidence_occasions`, `criterion N.N` (an AC's text),
//! `outcome N` (an LO's text), `exists` (`false` removes it); a qualification's `title`,
//! `level`, `credit`, `glh`, `tqt` (ranges: `40`, `13-36`, `37+`), `qan`, `minimum_age`,
//! `exists`. A correction that names nothing in the draft, or
//! a value that does not fit its field, is an error and changes nothing.

use crate::ident::{Qan, UnitRef};
use crate::import::{Entity, FindingStatus, Imported, Target};
use crate::model::{Range, Requirement, Simulation, Specification};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Corrections {
    pub corrections: Vec<Correction>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The field to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// The new value, as text (`"3"`, `"13-36"`, `"37+"`, `"L/650/7899"`, `"false"` for
    /// `exists`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// A finding id (`F12`): with `accept`, the draft's value stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    #[serde(default)]
    pub accept: bool,
    /// Why: kept with the resolution.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionError {
    #[error("the corrections file is not valid JSON of the documented form: {0}")]
    Format(String),
    #[error("correction {index}: {reason}")]
    Invalid { index: usize, reason: String },
}

impl Corrections {
    pub fn parse(bytes: &[u8]) -> Result<Corrections, CorrectionError> {
        serde_json::from_slice(bytes).map_err(|e| CorrectionError::Format(e.to_string()))
    }
}

/// Apply every correction in order. All or nothing: on error the draft is unchanged.
pub fn apply(imported: &mut Imported, corrections: &Corrections) -> Result<(), CorrectionError> {
    let mut work = imported.clone();
    for (i, c) in corrections.corrections.iter().enumerate() {
        let index = i + 1;
        let invalid = |reason: String| CorrectionError::Invalid { index, reason };
        let note = if c.note.trim().is_empty() {
            String::new()
        } else {
            format!(" ({})", c.note.trim())
        };
        match (&c.target, &c.finding) {
            (Some(target), named) if c.accept && c.value.is_none() => {
                let mut answered = 0;
                for f in work.report.findings.iter_mut() {
                    let answers =
                        f.target.as_ref() == Some(target) || named.as_ref() == Some(&f.id);
                    if f.status == FindingStatus::Open && answers {
                        f.status = FindingStatus::Resolved;
                        f.resolution = Some(format!("accepted as drafted{note}"));
                        answered += 1;
                    }
                }
                if answered == 0 {
                    return Err(invalid(format!("no open finding is about {target}")));
                }
            }
            (Some(target), named) => {
                let value = c
                    .value
                    .as_deref()
                    .ok_or_else(|| invalid(format!("sets {target} but gives no \"value\"")))?;
                if let Some(id) = named
                    && !work.report.findings.iter().any(|f| &f.id == id)
                {
                    return Err(invalid(format!("there is no finding {id} in this import")));
                }
                let renamed = set_field(&mut work.specification, target, value).map_err(invalid)?;
                for f in work.report.findings.iter_mut() {
                    let answers =
                        f.target.as_ref() == Some(target) || named.as_ref() == Some(&f.id);
                    if f.status == FindingStatus::Open && answers {
                        f.status = FindingStatus::Resolved;
                        f.resolution = Some(format!("set to {value}{note}"));
                    }
                    // A renamed key moves the findings about that record with it.
                    if let (Some(new_key), Some(t)) = (&renamed, f.target.as_mut())
                        && t.entity == target.entity
                        && t.key == target.key
                    {
                        t.key = new_key.clone();
                    }
                }
            }
            (None, Some(id)) => {
                if !c.accept {
                    return Err(invalid(format!(
                        "names finding {id} without \"accept\": true or a \"target\" and \"value\""
                    )));
                }
                let f = work
                    .report
                    .findings
                    .iter_mut()
                    .find(|f| &f.id == id)
                    .ok_or_else(|| invalid(format!("there is no finding {id} in this import")))?;
                if f.status == FindingStatus::Open {
                    f.status = FindingStatus::Resolved;
                    f.resolution = Some(format!("accepted as drafted{note}"));
                }
            }
            (None, None) => {
                return Err(invalid(
                    "needs a \"target\" and \"value\", or a \"finding\" and \"accept\"".into(),
                ));
            }
        }
    }
    *imported = work;
    Ok(())
}

/// Parse a range as people write it: `40`, `13-36`, `13 to 36`, `37+`.
pub fn parse_range(value: &str) -> Option<Range> {
    let v = value.trim();
    if let Some(min) = v.strip_suffix('+') {
        return min.trim().parse().ok().map(Range::at_least);
    }
    let parts: Vec<&str> = if v.contains(" to ") {
        v.split(" to ").collect()
    } else {
        v.split('-').collect()
    };
    match parts.as_slice() {
        [n] => n.trim().parse().ok().map(Range::exactly),
        [a, b] => {
            let (a, b): (u32, u32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a <= b).then(|| Range::between(a, b))
        }
        _ => None,
    }
}

fn number(value: &str, field: &str) -> Result<u32, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{field} must be a whole number, not '{value}'"))
}

fn level(value: &str) -> Result<u8, String> {
    match value.trim().parse::<u8>() {
        Ok(l) if (1..=8).contains(&l) => Ok(l),
        _ => Err(format!("level must be 1 to 8, not '{value}'")),
    }
}

/// Set one field. Returns the record's new key when the change renamed it.
fn set_field(
    spec: &mut Specification,
    target: &Target,
    value: &str,
) -> Result<Option<String>, String> {
    match target.entity {
        Entity::Unit => {
            let idx = spec
                .units
                .iter()
                .position(|u| u.key == target.key)
                .ok_or_else(|| format!("there is no unit {} in this draft", target.key))?;
            let unit = &mut spec.units[idx];
            match target.field.as_str() {
                "title" => unit.title = non_empty(value)?,
                "level" => unit.level = level(value)?,
                "credit" => unit.credit = Some(number(value, "credit")?),
                "glh" => unit.glh = Some(number(value, "glh")?),
                "tqt" => unit.tqt = Some(number(value, "tqt")?),
                "ao_ref" => unit.ao_ref = non_empty(value)?,
                f if f.starts_with("criterion ") => {
                    let number = f["criterion ".len()..].trim();
                    let ac = unit
                        .learning_outcomes
                        .iter_mut()
                        .flat_map(|lo| lo.criteria.iter_mut())
                        .find(|ac| ac.number == number)
                        .ok_or_else(|| format!("unit {} has no criterion {number}", target.key))?;
                    ac.text = non_empty(value)?;
                }
                f if f.starts_with("outcome ") => {
                    let number = f["outcome ".len()..].trim();
                    let lo = unit
                        .learning_outcomes
                        .iter_mut()
                        .find(|lo| lo.number == number)
                        .ok_or_else(|| {
                            format!("unit {} has no learning outcome {number}", target.key)
                        })?;
                    lo.text = non_empty(value)?;
                }
                "sector" => unit.sector = Some(non_empty(value)?),
                "purpose" => unit.purpose = Some(non_empty(value)?),
                "evidence_occasions" => {
                    unit.evidence_occasions = Some(number(value, "evidence_occasions")?)
                }
                "simulation" => {
                    unit.simulation = match value.trim() {
                        "permitted" => Simulation::Permitted,
                        "not_permitted" => Simulation::NotPermitted,
                        "exceptional_only" => Simulation::ExceptionalOnly,
                        other => {
                            return Err(format!(
                                "simulation must be permitted, not_permitted or exceptional_only, not '{other}'"
                            ));
                        }
                    }
                }
                "ofqual_ref" => {
                    let r = UnitRef::parse(value).map_err(|e| e.to_string())?;
                    let old = unit.key.clone();
                    let new = r.as_str().to_string();
                    unit.ofqual_ref = Some(new.clone());
                    let key_was_ref = !old.contains(':');
                    if key_was_ref && old != new {
                        if spec.units.iter().any(|u| u.key == new) {
                            return Err(format!("another unit already has the reference {new}"));
                        }
                        spec.units[idx].key = new.clone();
                        rename_unit(spec, &old, &new);
                        return Ok(Some(new));
                    }
                }
                "exists" => {
                    if value.trim() != "false" {
                        return Err("exists can only be set to false (remove the unit)".into());
                    }
                    let key = target.key.clone();
                    spec.units.remove(idx);
                    for q in &mut spec.qualifications {
                        q.units.retain(|qu| qu.unit != key);
                    }
                }
                other => return Err(format!("a unit has no correctable field '{other}'")),
            }
        }
        Entity::Qualification => {
            let idx = spec
                .qualifications
                .iter()
                .position(|q| q.qan == target.key)
                .ok_or_else(|| format!("there is no qualification {} in this draft", target.key))?;
            let q = &mut spec.qualifications[idx];
            let range = |v: &str, f: &str| {
                parse_range(v)
                    .ok_or_else(|| format!("{f} must be like 40, 13-36 or 37+, not '{v}'"))
            };
            match target.field.as_str() {
                "title" => q.title = non_empty(value)?,
                "level" => q.level = level(value)?,
                "credit" => q.credit = range(value, "credit")?,
                "glh" => q.glh = Some(range(value, "glh")?),
                "tqt" => q.tqt = Some(range(value, "tqt")?),
                "minimum_age" => {
                    q.minimum_age = Some(number(value, "minimum_age").and_then(|n| {
                        u8::try_from(n).map_err(|_| "minimum_age is too large".to_string())
                    })?)
                }
                "qan" => {
                    let new = Qan::parse(value).map_err(|e| e.to_string())?.to_string();
                    if new != q.qan && spec.qualifications.iter().any(|o| o.qan == new) {
                        return Err(format!("another qualification already has the QAN {new}"));
                    }
                    spec.qualifications[idx].qan = new.clone();
                    return Ok(Some(new));
                }
                "exists" => {
                    if value.trim() != "false" {
                        return Err(
                            "exists can only be set to false (remove the qualification)".into()
                        );
                    }
                    spec.qualifications.remove(idx);
                }
                other => {
                    return Err(format!(
                        "a qualification has no correctable field '{other}'"
                    ));
                }
            }
        }
    }
    Ok(None)
}

fn non_empty(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        Err("the value is empty".into())
    } else {
        Ok(v.to_string())
    }
}

fn rename_unit(spec: &mut Specification, old: &str, new: &str) {
    let swap = |k: &mut String| {
        if k == old {
            *k = new.to_string();
        }
    };
    for q in &mut spec.qualifications {
        for qu in &mut q.units {
            swap(&mut qu.unit);
        }
        for r in &mut q.rules {
            match r {
                Requirement::Mandatory { units } | Requirement::ChooseUnits { units, .. } => {
                    units.iter_mut().for_each(swap)
                }
                Requirement::OneOfRoutes { routes } => routes.iter_mut().flatten().for_each(swap),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_people_write_them() {
        assert_eq!(parse_range("40"), Some(Range::exactly(40)));
        assert_eq!(parse_range("13-36"), Some(Range::between(13, 36)));
        assert_eq!(parse_range("13 to 36"), Some(Range::between(13, 36)));
        assert_eq!(parse_range("37+"), Some(Range::at_least(37)));
        assert_eq!(parse_range("36-13"), None);
        assert_eq!(parse_range("lots"), None);
    }

    #[test]
    fn the_file_format_is_strict_json() {
        assert!(matches!(
            Corrections::parse(b"not json"),
            Err(CorrectionError::Format(_))
        ));
        let c =
            Corrections::parse(br#"{"corrections":[{"finding":"F2","accept":true,"note":"ok"}]}"#)
                .expect("valid file");
        assert_eq!(c.corrections.len(), 1);
    }
}
