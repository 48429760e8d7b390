//! What a certificate claim waits for: every unit signed off, the IQA's decision on sampled
//! units, referrals closed, appeals decided, no open sanction from an unsatisfactory EQA visit,
//! and, for a centre without direct claim status, the EQA's verification.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a unit stands with internal quality assurance.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitQa {
    /// Not selected for IQA sampling.
    NotSelected,
    /// Selected for sampling; the IQA has not decided yet.
    Awaiting,
    /// The IQA agreed with the assessor.
    Agreed,
    /// The IQA referred it back, and the referral is not closed.
    Referred,
}

/// One unit of the claim.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct UnitGate {
    /// The unit key.
    pub unit: String,
    /// The unit as messages name it, e.g. "unit L3B1 'Prospecting'".
    pub name: String,
    /// Signed off by the assessor and the learner.
    pub signed_off: bool,
    pub qa: UnitQa,
    /// An appeal against a decision on this unit is open.
    pub open_appeal: bool,
}

/// Everything a certificate claim waits on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct ClaimGate {
    /// The claim's units, in the order the messages list them.
    pub units: Vec<UnitGate>,
    /// The centre has direct claim status with the awarding organisation.
    pub direct_claim_status: bool,
    /// The centre has had at least one satisfactory EQA visit for this awarding organisation.
    pub satisfactory_visit: bool,
    /// Open actions of an unsatisfactory EQA visit: claims are held until they are closed.
    pub sanction_open_actions: usize,
    /// An EQA has sampled and released this claim.
    pub eqa_released: bool,
}

/// One thing a claim waits for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Wait {
    /// The unit is not signed off yet.
    NotSignedOff { unit: String, name: String },
    /// The unit was selected for IQA sampling and the IQA has not decided.
    AwaitingIqa { unit: String, name: String },
    /// The IQA referred the unit back and the referral is not closed.
    ReferredBack { unit: String, name: String },
    /// An appeal on the unit is open.
    OpenAppeal { unit: String, name: String },
    /// Actions from an unsatisfactory EQA visit are open.
    Sanction { open_actions: usize },
    /// No direct claim status and no satisfactory EQA visit yet.
    FirstEqaVisit,
    /// No direct claim status: the EQA has not sampled and released this claim yet.
    EqaSampling,
}

fn unit_name(unit: &str, name: &str) -> String {
    if name.trim().is_empty() {
        format!("unit {unit}")
    } else {
        name.to_string()
    }
}

impl Wait {
    /// What the claim waits for and who acts, in plain words.
    pub fn message(&self) -> String {
        match self {
            Wait::NotSignedOff { unit, name } => format!(
                "{} is not signed off by the assessor and the learner yet",
                unit_name(unit, name)
            ),
            Wait::AwaitingIqa { unit, name } => format!(
                "{} was selected for IQA sampling and waits for the IQA's decision",
                unit_name(unit, name)
            ),
            Wait::ReferredBack { unit, name } => format!(
                "{} was referred back by the IQA: the assessor acts on it and the IQA closes it",
                unit_name(unit, name)
            ),
            Wait::OpenAppeal { unit, name } => format!(
                "{} has an open appeal: the claim waits until the appeal is decided",
                unit_name(unit, name)
            ),
            Wait::Sanction { open_actions: 1 } => "1 action from an unsatisfactory EQA visit is open: claims are held until it is closed".to_string(),
            Wait::Sanction { open_actions } => format!(
                "{open_actions} actions from an unsatisfactory EQA visit are open: claims are held until they are closed"
            ),
            Wait::FirstEqaVisit => "the centre has no direct claim status and has not yet had a satisfactory EQA visit: certificates are not issued until the first EQA visit has verified the centre".to_string(),
            Wait::EqaSampling => "the centre has no direct claim status: the EQA samples and releases each claim".to_string(),
        }
    }
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Whether a claim may go ahead.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "waits", rename_all = "snake_case")]
pub enum GateAnswer {
    /// Nothing holds the claim.
    Released,
    /// Held for every listed reason, in order.
    Held(Vec<Wait>),
}

impl GateAnswer {
    /// Whether the claim is released.
    pub fn is_released(&self) -> bool {
        matches!(self, GateAnswer::Released)
    }

    /// What it waits for (empty when released).
    pub fn waits(&self) -> &[Wait] {
        match self {
            GateAnswer::Released => &[],
            GateAnswer::Held(waits) => waits,
        }
    }
}

/// What a claim waits for. Unit waits first, unit by unit in the order given (not signed off,
/// then the IQA's decision or an open referral, then an open appeal); then an open sanction;
/// then, without direct claim status, the first satisfactory EQA visit or, once the centre has
/// had one, the EQA's release of this claim. Every wait that applies is listed; with direct
/// claim status and nothing else, the claim is released at once.
pub fn gate(g: &ClaimGate) -> GateAnswer {
    let mut waits = Vec::new();
    for u in &g.units {
        let (unit, name) = (u.unit.clone(), u.name.clone());
        if !u.signed_off {
            waits.push(Wait::NotSignedOff {
                unit: unit.clone(),
                name: name.clone(),
            });
        }
        match u.qa {
            UnitQa::Awaiting => waits.push(Wait::AwaitingIqa {
                unit: unit.clone(),
                name: name.clone(),
            }),
            UnitQa::Referred => waits.push(Wait::ReferredBack {
                unit: unit.clone(),
                name: name.clone(),
            }),
            UnitQa::NotSelected | UnitQa::Agreed => {}
        }
        if u.open_appeal {
            waits.push(Wait::OpenAppeal { unit, name });
        }
    }
    if g.sanction_open_actions > 0 {
        waits.push(Wait::Sanction {
            open_actions: g.sanction_open_actions,
        });
    }
    if !g.direct_claim_status {
        if !g.satisfactory_visit {
            waits.push(Wait::FirstEqaVisit);
        } else if !g.eqa_released {
            waits.push(Wait::EqaSampling);
        }
    }
    if waits.is_empty() {
        GateAnswer::Released
    } else {
        GateAnswer::Held(waits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unit(key: &str, signed_off: bool, qa: UnitQa, open_appeal: bool) -> UnitGate {
        UnitGate {
            unit: key.into(),
            name: format!("unit {key} 'Prospecting'"),
            signed_off,
            qa,
            open_appeal,
        }
    }

    fn dcs(units: Vec<UnitGate>) -> ClaimGate {
        ClaimGate {
            units,
            direct_claim_status: true,
            satisfactory_visit: true,
            sanction_open_actions: 0,
            eqa_released: false,
        }
    }

    #[test]
    fn dcs_and_nothing_else_is_released() {
        let g = dcs(vec![
            unit("A", true, UnitQa::NotSelected, false),
            unit("B", true, UnitQa::Agreed, false),
        ]);
        assert_eq!(gate(&g), GateAnswer::Released);
        assert!(gate(&g).is_released());
        assert!(gate(&dcs(vec![])).waits().is_empty());
    }

    #[test]
    fn unit_waits_in_order() {
        let g = dcs(vec![
            unit("A", false, UnitQa::Awaiting, true),
            unit("B", true, UnitQa::Referred, false),
        ]);
        let answer = gate(&g);
        let waits = answer.waits();
        assert_eq!(waits.len(), 4);
        assert!(matches!(&waits[0], Wait::NotSignedOff { unit, .. } if unit == "A"));
        assert!(matches!(&waits[1], Wait::AwaitingIqa { unit, .. } if unit == "A"));
        assert!(matches!(&waits[2], Wait::OpenAppeal { unit, .. } if unit == "A"));
        assert!(matches!(&waits[3], Wait::ReferredBack { unit, .. } if unit == "B"));
        assert_eq!(
            waits[0].message(),
            "unit A 'Prospecting' is not signed off by the assessor and the learner yet"
        );
        assert_eq!(
            waits[3].message(),
            "unit B 'Prospecting' was referred back by the IQA: the assessor acts on it and the IQA closes it"
        );
    }

    #[test]
    fn sanction_holds_claims() {
        let g = ClaimGate {
            sanction_open_actions: 3,
            ..dcs(vec![])
        };
        assert_eq!(
            gate(&g),
            GateAnswer::Held(vec![Wait::Sanction { open_actions: 3 }])
        );
        assert_eq!(
            Wait::Sanction { open_actions: 3 }.message(),
            "3 actions from an unsatisfactory EQA visit are open: claims are held until they are closed"
        );
        assert!(
            Wait::Sanction { open_actions: 1 }
                .message()
                .starts_with("1 action from an unsatisfactory EQA visit is open")
        );
    }

    #[test]
    fn without_dcs_the_first_visit_then_eqa_sampling() {
        let mut g = ClaimGate {
            direct_claim_status: false,
            satisfactory_visit: false,
            ..dcs(vec![])
        };
        assert_eq!(gate(&g), GateAnswer::Held(vec![Wait::FirstEqaVisit]));
        g.eqa_released = true;
        assert_eq!(gate(&g), GateAnswer::Held(vec![Wait::FirstEqaVisit]));
        g.satisfactory_visit = true;
        g.eqa_released = false;
        assert_eq!(gate(&g), GateAnswer::Held(vec![Wait::EqaSampling]));
        g.eqa_released = true;
        assert_eq!(gate(&g), GateAnswer::Released);
    }

    #[test]
    fn every_wait_is_listed() {
        let g = ClaimGate {
            units: vec![unit("A", false, UnitQa::NotSelected, false)],
            direct_claim_status: false,
            satisfactory_visit: false,
            sanction_open_actions: 2,
            eqa_released: false,
        };
        let answer = gate(&g);
        assert_eq!(answer.waits().len(), 3);
        assert!(matches!(
            answer.waits()[1],
            Wait::Sanction { open_actions: 2 }
        ));
        assert_eq!(answer.waits()[2], Wait::FirstEqaVisit);
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["status"], "held");
        assert_eq!(json["waits"][2]["kind"], "first_eqa_visit");
        assert_eq!(json["waits"][0]["kind"], "not_signed_off");
    }

    fn arb_unit() -> impl Strategy<Value = UnitGate> {
        (
            0u8..5,
            any::<bool>(),
            proptest::sample::select(vec![
                UnitQa::NotSelected,
                UnitQa::Awaiting,
                UnitQa::Agreed,
                UnitQa::Referred,
            ]),
            any::<bool>(),
        )
            .prop_map(|(k, s, qa, a)| unit(&format!("U{k}"), s, qa, a))
    }

    proptest! {
        #[test]
        fn released_iff_nothing_applies(
            units in proptest::collection::vec(arb_unit(), 0..5),
            dcs in any::<bool>(),
            visit in any::<bool>(),
            actions in 0usize..3,
            released in any::<bool>(),
        ) {
            let g = ClaimGate {
                units,
                direct_claim_status: dcs,
                satisfactory_visit: visit,
                sanction_open_actions: actions,
                eqa_released: released,
            };
            let nothing = g.units.iter().all(|u| {
                u.signed_off && matches!(u.qa, UnitQa::NotSelected | UnitQa::Agreed) && !u.open_appeal
            }) && actions == 0
                && (dcs || (visit && released));
            let answer = gate(&g);
            prop_assert_eq!(answer.is_released(), nothing);
            if let GateAnswer::Held(waits) = &answer {
                prop_assert!(!waits.is_empty());
            }
            if dcs {
                prop_assert!(!answer
                    .waits()
                    .iter()
                    .any(|w| matches!(w, Wait::FirstEqaVisit | Wait::EqaSampling)));
            }
            for w in answer.waits() {
                prop_assert!(!w.message().is_empty());
            }
        }
    }
}
