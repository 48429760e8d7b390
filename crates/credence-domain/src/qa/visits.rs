//! External quality assurance: when EQA visits are due, and whether a centre meets the
//! awarding organisation's conditions for direct claim status (DCS).
//!
//! A centre with registered learners has at least one EQA visit a year. Its first comes early,
//! 90 days after its first registration, because without direct claim status no certificate is
//! issued until the first visit has verified the centre.

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Days after the first registration by which a centre's first EQA visit is due.
pub const FIRST_VISIT_DAYS: u64 = 90;

/// A centre's EQA visit history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct CentreVisits {
    pub centre: i64,
    /// The centre's first learner registration, if it has any.
    #[serde(with = "super::iso_date_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub first_registration: Option<NaiveDate>,
    /// The latest EQA visit that took place.
    #[serde(with = "super::iso_date_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub last_visit: Option<NaiveDate>,
    /// The next visit booked, if any.
    #[serde(with = "super::iso_date_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub next_scheduled: Option<NaiveDate>,
}

/// When a centre's next EQA visit is due.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct VisitDue {
    pub centre: i64,
    /// A year after the last visit, or 90 days after the first registration when never
    /// visited.
    #[serde(with = "crate::people::iso_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub due_by: NaiveDate,
    /// `today` is after `due_by`.
    pub overdue: bool,
    /// The next visit booked, if any.
    #[serde(with = "super::iso_date_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub scheduled: Option<NaiveDate>,
}

/// When each centre with registered learners next needs an EQA visit: by a year after its
/// last visit (the same date next year; 29 February gives 28 February), or, if it has never
/// been visited, by 90 days after its first registration. Overdue when `today` is after that
/// date. Centres without learners (no first registration) are not listed. Sorted by due date,
/// then centre.
pub fn visits_due(centres: &[CentreVisits], today: NaiveDate) -> Vec<VisitDue> {
    let mut out: Vec<VisitDue> = centres
        .iter()
        .filter_map(|c| {
            let first = c.first_registration?;
            let due_by = match c.last_visit {
                Some(last) => last
                    .checked_add_months(Months::new(12))
                    .unwrap_or(NaiveDate::MAX),
                None => first
                    .checked_add_days(Days::new(FIRST_VISIT_DAYS))
                    .unwrap_or(NaiveDate::MAX),
            };
            Some(VisitDue {
                centre: c.centre,
                due_by,
                overdue: today > due_by,
                scheduled: c.next_scheduled,
            })
        })
        .collect();
    out.sort_by_key(|v| (v.due_by, v.centre));
    out
}

/// The awarding organisation's conditions for direct claim status.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct DcsPolicy {
    /// Satisfactory EQA visits needed. Default 1.
    pub satisfactory_visits: usize,
    /// Final (complete) portfolios the EQA must have sampled. Default 5.
    pub final_portfolios_sampled: usize,
}

impl Default for DcsPolicy {
    fn default() -> Self {
        DcsPolicy {
            satisfactory_visits: 1,
            final_portfolios_sampled: 5,
        }
    }
}

/// What the record shows about a centre, for direct claim status.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct DcsFacts {
    pub satisfactory_visits: usize,
    pub last_visit_satisfactory: bool,
    pub final_portfolios_sampled: usize,
    /// Open actions from EQA visits.
    pub open_actions: usize,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Whether a centre meets the awarding organisation's conditions for direct claim status
/// (Credence shows it; the AO's staff decide). `Err` lists every unmet condition in words.
pub fn dcs_eligibility(f: &DcsFacts, p: &DcsPolicy) -> Result<(), Vec<String>> {
    let mut unmet = Vec::new();
    if f.satisfactory_visits < p.satisfactory_visits {
        unmet.push(format!(
            "The centre has had {} and needs at least {}",
            plural(
                f.satisfactory_visits,
                "satisfactory EQA visit",
                "satisfactory EQA visits"
            ),
            p.satisfactory_visits
        ));
    }
    if !f.last_visit_satisfactory {
        unmet.push("The centre's last EQA visit was not satisfactory".to_string());
    }
    if f.final_portfolios_sampled < p.final_portfolios_sampled {
        unmet.push(format!(
            "The EQA has sampled {} and needs at least {}",
            plural(
                f.final_portfolios_sampled,
                "final portfolio",
                "final portfolios"
            ),
            p.final_portfolios_sampled
        ));
    }
    if f.open_actions > 0 {
        unmet.push(format!(
            "{} from EQA visits {} open: close {} first",
            plural(f.open_actions, "action", "actions"),
            if f.open_actions == 1 { "is" } else { "are" },
            if f.open_actions == 1 { "it" } else { "them" }
        ));
    }
    if unmet.is_empty() { Ok(()) } else { Err(unmet) }
}

/// The outcome of an EQA visit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    Satisfactory,
    /// Actions are set; claims are held until they are closed.
    Unsatisfactory,
}

impl VisitOutcome {
    /// Both outcomes.
    pub const ALL: [VisitOutcome; 2] = [VisitOutcome::Satisfactory, VisitOutcome::Unsatisfactory];

    /// The stable key: "satisfactory", "unsatisfactory".
    pub fn key(self) -> &'static str {
        match self {
            VisitOutcome::Satisfactory => "satisfactory",
            VisitOutcome::Unsatisfactory => "unsatisfactory",
        }
    }

    /// The outcome with this key, if any.
    pub fn parse(key: &str) -> Option<VisitOutcome> {
        VisitOutcome::ALL.into_iter().find(|o| o.key() == key)
    }

    /// The outcome as a heading: "Satisfactory", "Unsatisfactory".
    pub fn title(self) -> &'static str {
        match self {
            VisitOutcome::Satisfactory => "Satisfactory",
            VisitOutcome::Unsatisfactory => "Unsatisfactory",
        }
    }
}

impl fmt::Display for VisitOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// The EQA's assessment of a centre's risk.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CentreRisk {
    Low,
    Medium,
    High,
}

impl CentreRisk {
    /// Every level, lowest first.
    pub const ALL: [CentreRisk; 3] = [CentreRisk::Low, CentreRisk::Medium, CentreRisk::High];

    /// The stable key: "low", "medium", "high".
    pub fn key(self) -> &'static str {
        match self {
            CentreRisk::Low => "low",
            CentreRisk::Medium => "medium",
            CentreRisk::High => "high",
        }
    }

    /// The level with this key, if any.
    pub fn parse(key: &str) -> Option<CentreRisk> {
        CentreRisk::ALL.into_iter().find(|r| r.key() == key)
    }

    /// The level as a heading: "Low", "Medium", "High".
    pub fn title(self) -> &'static str {
        match self {
            CentreRisk::Low => "Low",
            CentreRisk::Medium => "Medium",
            CentreRisk::High => "High",
        }
    }
}

impl fmt::Display for CentreRisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn centre(
        centre: i64,
        first: Option<NaiveDate>,
        last: Option<NaiveDate>,
        next: Option<NaiveDate>,
    ) -> CentreVisits {
        CentreVisits {
            centre,
            first_registration: first,
            last_visit: last,
            next_scheduled: next,
        }
    }

    #[test]
    fn visits_due_by_a_year_or_ninety_days() {
        let today = d(2026, 6, 15);
        let centres = vec![
            centre(1, Some(d(2024, 1, 1)), Some(d(2025, 7, 1)), None),
            centre(2, Some(d(2026, 1, 1)), None, Some(d(2026, 7, 1))),
            centre(3, None, Some(d(2020, 1, 1)), None),
            centre(4, Some(d(2023, 1, 1)), Some(d(2024, 2, 29)), None),
            centre(5, Some(d(2026, 6, 1)), None, None),
        ];
        let due = visits_due(&centres, today);
        assert_eq!(
            due,
            vec![
                VisitDue {
                    centre: 4,
                    due_by: d(2025, 2, 28),
                    overdue: true,
                    scheduled: None
                },
                VisitDue {
                    centre: 2,
                    due_by: d(2026, 4, 1),
                    overdue: true,
                    scheduled: Some(d(2026, 7, 1))
                },
                VisitDue {
                    centre: 1,
                    due_by: d(2026, 7, 1),
                    overdue: false,
                    scheduled: None
                },
                VisitDue {
                    centre: 5,
                    due_by: d(2026, 8, 30),
                    overdue: false,
                    scheduled: None
                },
            ]
        );
        // Due on the day itself is not overdue.
        let on_the_day = visits_due(&[centre(6, Some(d(2026, 1, 1)), None, None)], d(2026, 4, 1));
        assert!(!on_the_day[0].overdue);
    }

    #[test]
    fn dcs_eligible() {
        let f = DcsFacts {
            satisfactory_visits: 1,
            last_visit_satisfactory: true,
            final_portfolios_sampled: 5,
            open_actions: 0,
        };
        assert_eq!(dcs_eligibility(&f, &DcsPolicy::default()), Ok(()));
    }

    #[test]
    fn dcs_lists_every_unmet_condition() {
        let unmet = dcs_eligibility(&DcsFacts::default(), &DcsPolicy::default()).unwrap_err();
        assert_eq!(
            unmet,
            vec![
                "The centre has had 0 satisfactory EQA visits and needs at least 1".to_string(),
                "The centre's last EQA visit was not satisfactory".to_string(),
                "The EQA has sampled 0 final portfolios and needs at least 5".to_string(),
            ]
        );
        let f = DcsFacts {
            satisfactory_visits: 2,
            last_visit_satisfactory: true,
            final_portfolios_sampled: 1,
            open_actions: 1,
        };
        assert_eq!(
            dcs_eligibility(&f, &DcsPolicy::default()),
            Err(vec![
                "The EQA has sampled 1 final portfolio and needs at least 5".to_string(),
                "1 action from EQA visits is open: close it first".to_string(),
            ])
        );
    }

    #[test]
    fn keys_round_trip() {
        for o in VisitOutcome::ALL {
            assert_eq!(VisitOutcome::parse(o.key()), Some(o));
            assert_eq!(
                serde_json::to_string(&o).unwrap(),
                format!("\"{}\"", o.key())
            );
        }
        for r in CentreRisk::ALL {
            assert_eq!(CentreRisk::parse(r.key()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.key())
            );
        }
        assert_eq!(CentreRisk::parse("severe"), None);
        assert_eq!(VisitOutcome::Unsatisfactory.title(), "Unsatisfactory");
    }

    #[test]
    fn centre_visits_serialise_dates() {
        let c = centre(1, Some(d(2026, 1, 2)), None, None);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"centre":1,"first_registration":"2026-01-02","last_visit":null,"next_scheduled":null}"#
        );
        assert_eq!(serde_json::from_str::<CentreVisits>(&json).unwrap(), c);
    }
}
