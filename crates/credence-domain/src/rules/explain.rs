//! Plain words for unmet requirements (DOMAIN.md: "A rule's answer is never a bare no: it
//! lists every unmet requirement in the user's words").

use super::compiled::{CompiledQualification, Rule};
use super::set::UnitSet;
use super::{Unmet, UnmetKind};

/// "CORE", "LEADERSHIP or SELF".
pub(super) fn groups_text(groups: &[String]) -> String {
    groups.join(" or ")
}

/// "1 unit", "2 units".
pub(super) fn units_text(n: u32) -> String {
    if n == 1 {
        "1 unit".to_string()
    } else {
        format!("{n} units")
    }
}

/// A percentage of `part` in `whole`, rounded down to a tenth so that a share just under a
/// threshold never reads as the threshold: "40%", "49.9%".
pub(super) fn percent_text(part: u32, whole: u32) -> String {
    if whole == 0 {
        return "0%".to_string();
    }
    let tenths = u64::from(part) * 1000 / u64::from(whole);
    if tenths % 10 == 0 {
        format!("{}%", tenths / 10)
    } else {
        format!("{}.{}%", tenths / 10, tenths % 10)
    }
}

impl CompiledQualification {
    /// AO references of some units, comma separated: "ISP401, ISP404".
    pub(super) fn refs_text(&self, units: &[usize]) -> String {
        units
            .iter()
            .filter_map(|&i| self.units.get(i).map(|u| u.ao_ref.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// "Unit 1; Unit 2", a route of several units joined with "and".
    pub(super) fn routes_text(&self, routes: &[(Vec<usize>, UnitSet)]) -> String {
        routes
            .iter()
            .map(|(r, _)| {
                r.iter()
                    .filter_map(|&i| self.units.get(i).map(|u| u.ao_ref.as_str()))
                    .collect::<Vec<_>>()
                    .join(" and ")
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(super) fn keys(&self, units: &[usize]) -> Vec<String> {
        units
            .iter()
            .filter_map(|&i| self.units.get(i).map(|u| u.key.clone()))
            .collect()
    }

    pub(super) fn no_rules(&self) -> Unmet {
        Unmet {
            requirement: None,
            kind: UnmetKind::NoRules,
            message: "no rules of combination are recorded for this qualification".to_string(),
        }
    }

    /// Append the unmet entries of one requirement that does not hold for `set`.
    pub(super) fn describe_unmet(
        &self,
        ri: usize,
        r: &Rule,
        set: &UnitSet,
        total: u32,
        out: &mut Vec<Unmet>,
    ) {
        let mut push = |kind: UnmetKind, message: String| {
            out.push(Unmet {
                requirement: Some(ri),
                kind,
                message,
            })
        };
        match r {
            Rule::TotalCredit { min, max } => {
                if let Some(min) = *min
                    && total < min
                {
                    push(
                        UnmetKind::CreditBelowMinimum { credit: total, min },
                        format!("{total} credits, the minimum is {min}"),
                    );
                }
                if let Some(max) = *max
                    && total > max
                {
                    push(
                        UnmetKind::CreditAboveMaximum { credit: total, max },
                        format!("{total} credits, the maximum is {max}"),
                    );
                }
            }
            Rule::MinUnits {
                groups, mask, min, ..
            } => {
                let have = set.and(mask).len();
                let g = groups_text(groups);
                let noun = if have == 1 { "unit" } else { "units" };
                push(
                    UnmetKind::TooFewUnitsInGroups {
                        groups: groups.clone(),
                        units: have,
                        min: *min,
                    },
                    format!("{have} {g} {noun}, needs at least {min}"),
                );
            }
            Rule::MinCredit {
                groups, mask, min, ..
            } => {
                let have = self.credit_of(&set.and(mask));
                push(
                    UnmetKind::TooLittleCreditInGroups {
                        groups: groups.clone(),
                        credit: have,
                        min: *min,
                    },
                    format!("{} credits {have}, needs {min}", groups_text(groups)),
                );
            }
            Rule::Mandatory { units, .. } => {
                for &i in units {
                    if !set.contains(i)
                        && let Some(u) = self.units.get(i)
                    {
                        push(
                            UnmetKind::MissingMandatoryUnit {
                                unit: u.key.clone(),
                                ao_ref: u.ao_ref.clone(),
                            },
                            format!("missing mandatory unit {}", u.ao_ref),
                        );
                    }
                }
            }
            Rule::Choose {
                units,
                mask,
                min,
                max,
                ..
            } => {
                let have = set.and(mask).len();
                let list = self.refs_text(units);
                if have < *min {
                    push(
                        UnmetKind::TooFewChosen {
                            from: self.keys(units),
                            units: have,
                            min: *min,
                        },
                        format!("{have} of {list} chosen, needs at least {min}"),
                    );
                }
                if let Some(max) = *max
                    && have > max
                {
                    push(
                        UnmetKind::TooManyChosen {
                            from: self.keys(units),
                            units: have,
                            max,
                        },
                        format!("{have} of {list} chosen, the maximum is {max}"),
                    );
                }
            }
            Rule::Routes { routes } => {
                let message = if routes.is_empty() {
                    "needs one of its routes, but none is defined".to_string()
                } else {
                    format!("needs one of: {}", self.routes_text(routes))
                };
                push(
                    UnmetKind::NoRouteComplete {
                        routes: routes.iter().map(|(r, _)| self.keys(r)).collect(),
                    },
                    message,
                );
            }
            Rule::Share {
                level,
                percent,
                mask,
            } => {
                let s = self.level_share(ri, *level, *percent, mask, set);
                let mut message = format!(
                    "{} of credit at Level {level} or above, needs {percent}%",
                    percent_text(s.credit_at_level, s.total_credit)
                );
                // Show the unit-count reading where it differs from the credit reading.
                if u64::from(s.credit_at_level) * u64::from(s.total_units)
                    != u64::from(s.units_at_level) * u64::from(s.total_credit)
                {
                    message.push_str(&format!(
                        " (by unit count: {} of {}, {})",
                        s.units_at_level,
                        units_text(s.total_units),
                        percent_text(s.units_at_level, s.total_units)
                    ));
                }
                push(UnmetKind::ShareBelowMinimum(s), message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_down() {
        assert_eq!(percent_text(2, 5), "40%");
        assert_eq!(percent_text(1, 2), "50%");
        assert_eq!(percent_text(999, 2000), "49.9%");
        assert_eq!(percent_text(1, 3), "33.3%");
        assert_eq!(percent_text(0, 0), "0%");
        assert_eq!(units_text(1), "1 unit");
        assert_eq!(
            groups_text(&["LEADERSHIP".into(), "SELF".into()]),
            "LEADERSHIP or SELF"
        );
    }
}
