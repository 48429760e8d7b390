//! How long each kind of record is kept, and when it may be disposed of.
//!
//! The specifications ask that records (assessment logs, tracking, portfolios) are "kept 3
//! years from the learner's completion and available to the EQA; then they are disposed of,
//! with a record of the disposal". Here:
//!
//! - **Completion** of a registration is its certificate's issue date, or the day its
//!   withdrawal took effect. A registration still in progress has no end yet, so whatever was
//!   made under it is kept.
//! - **Portfolios, evidence files and assessment records** (judgements and their feedback,
//!   replies on feedback, sign-off signatures, authentications, unit results and marks, IQA
//!   samples) are kept until the third anniversary of completion, that day included, and may
//!   be disposed of from the next day. A completion on 29 February counts its anniversary as
//!   1 March in a year without one (the longer reading, as UK law counts a birthday on 29
//!   February): records are never disposed of a day early.
//! - Records belong to the centre they were made at, not to one registration (one piece of
//!   evidence can serve two qualifications). When a learner has several registrations at a
//!   centre, the latest end counts, and one still in progress keeps everything.
//! - **The certificate register** is kept permanently: verification answers from it. So is
//!   **the audit log**, which names people only by id (see docs/trust.md).
//! - A **legal hold** on the learner or on the centre, with its reason, stops disposal
//!   whatever the dates say, until it is lifted.
//!
//! Pure: the day is an argument.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// How many years records are kept after completion.
pub const RETENTION_YEARS: u32 = 3;

/// The kinds of record Credence keeps about a learner's qualification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// The portfolio: evidence items' details and their mapping to criteria and KSBs.
    Portfolio,
    /// The evidence files themselves.
    EvidenceFile,
    /// Assessors' judgements, with the feedback given with each.
    Judgement,
    /// Replies on a criterion's feedback.
    FeedbackReply,
    /// Unit sign-off declarations (assessor and learner).
    Signature,
    /// Authentication of a unit's evidence (learner's declaration, centre's confirmation).
    Authentication,
    /// Marked unit results and grades.
    UnitResult,
    /// IQA samples and their decisions.
    Sample,
    /// The certificate register.
    Certificate,
    /// The audit log (ids only, no personal data).
    AuditEntry,
}

impl RecordKind {
    /// Every kind, in the order answers list them.
    pub const ALL: [RecordKind; 10] = [
        RecordKind::Portfolio,
        RecordKind::EvidenceFile,
        RecordKind::Judgement,
        RecordKind::FeedbackReply,
        RecordKind::Signature,
        RecordKind::Authentication,
        RecordKind::UnitResult,
        RecordKind::Sample,
        RecordKind::Certificate,
        RecordKind::AuditEntry,
    ];

    /// Kept for good, whatever the dates.
    pub fn is_permanent(self) -> bool {
        matches!(self, RecordKind::Certificate | RecordKind::AuditEntry)
    }

    /// In words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            RecordKind::Portfolio => "portfolio (evidence details and mappings)",
            RecordKind::EvidenceFile => "evidence files",
            RecordKind::Judgement => "assessment decisions and feedback",
            RecordKind::FeedbackReply => "replies on feedback",
            RecordKind::Signature => "unit sign-off declarations",
            RecordKind::Authentication => "authentication declarations",
            RecordKind::UnitResult => "marks and unit results",
            RecordKind::Sample => "quality assurance samples",
            RecordKind::Certificate => "certificates (the register)",
            RecordKind::AuditEntry => "audit log entries",
        }
    }
}

/// Where a registration stands for retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "on", rename_all = "snake_case")]
pub enum Completion {
    /// Still in progress (registered, on a break, or transferred on to another centre's
    /// registration that is): no end yet.
    InProgress,
    /// Certificated: the certificate's issue date.
    Certificated(NaiveDate),
    /// Withdrawn: the day the withdrawal took effect.
    Withdrawn(NaiveDate),
}

impl Completion {
    /// The day it ended, if it has.
    pub fn ended_on(self) -> Option<NaiveDate> {
        match self {
            Completion::InProgress => None,
            Completion::Certificated(d) | Completion::Withdrawn(d) => Some(d),
        }
    }

    /// What counts for records shared by several registrations: in progress if any is (or
    /// if there is none: nothing says the records are finished with), else the latest end.
    pub fn latest(all: impl IntoIterator<Item = Completion>) -> Completion {
        let mut latest: Option<Completion> = None;
        for c in all {
            latest = Some(match (latest, c.ended_on()) {
                (_, None) => return Completion::InProgress,
                (None, Some(_)) => c,
                (Some(l), Some(d)) => {
                    if l.ended_on().is_some_and(|ld| ld >= d) {
                        l
                    } else {
                        c
                    }
                }
            });
        }
        latest.unwrap_or(Completion::InProgress)
    }
}

/// The last day records are kept after a completion on `ended`: its third anniversary (1
/// March for 29 February in a year without one).
pub fn kept_until(ended: NaiveDate) -> NaiveDate {
    let years = i32::try_from(RETENTION_YEARS).unwrap_or(3);
    if ended.month() == 2 && ended.day() == 29 {
        let year = ended.year() + years;
        return NaiveDate::from_ymd_opt(year, 2, 29)
            .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
            .unwrap_or(NaiveDate::MAX);
    }
    ended
        .checked_add_months(Months::new(12 * RETENTION_YEARS))
        .unwrap_or(NaiveDate::MAX)
}

/// A legal hold: disposal stops for everything it covers until it is lifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    pub on: HoldOn,
    /// Why (a claim, an investigation, an appeal to the regulator).
    pub reason: String,
}

/// What a legal hold covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum HoldOn {
    /// Every record of this learner, at every centre.
    Learner(i64),
    /// Every record made at this centre.
    Centre(i64),
}

impl LegalHold {
    /// Whether the hold covers records of `learner_id` made at `centre_id`.
    pub fn covers(&self, learner_id: i64, centre_id: i64) -> bool {
        match self.on {
            HoldOn::Learner(l) => l == learner_id,
            HoldOn::Centre(c) => c == centre_id,
        }
    }
}

/// What may happen to a record today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Disposal {
    /// Kept for good (the certificate register, the audit log).
    Permanent,
    /// Its registration is still in progress: kept, with no end date yet.
    Open,
    /// Within its retention period: kept until this day, included.
    KeptUntil { until: NaiveDate },
    /// A legal hold stops disposal (`until`: when retention would otherwise end, if known).
    Held {
        reason: String,
        until: Option<NaiveDate>,
    },
    /// Retention ended on `ended` and nothing holds it: dispose of it now, and record that.
    Due { ended: NaiveDate },
}

impl Disposal {
    /// May it be disposed of (erased) today?
    pub fn is_due(&self) -> bool {
        matches!(self, Disposal::Due { .. })
    }
}

/// What may happen today to records of `kind`, of learner `learner_id`, made at centre
/// `centre_id`, whose registrations there stand at `completion` (see [`Completion::latest`]).
pub fn decide(
    kind: RecordKind,
    completion: Completion,
    learner_id: i64,
    centre_id: i64,
    holds: &[LegalHold],
    today: NaiveDate,
) -> Disposal {
    if kind.is_permanent() {
        return Disposal::Permanent;
    }
    let until = completion.ended_on().map(kept_until);
    if let Some(h) = holds.iter().find(|h| h.covers(learner_id, centre_id)) {
        return Disposal::Held {
            reason: h.reason.clone(),
            until,
        };
    }
    match until {
        None => Disposal::Open,
        Some(u) if today <= u => Disposal::KeptUntil { until: u },
        Some(u) => Disposal::Due { ended: u },
    }
}

/// Whether optional contact details (a learner record's email) may be erased: only once no
/// registration is in progress (the centre uses it while the learner is learning) and no
/// legal hold covers the learner. Names, dates of birth and ULNs identify the learner in
/// the records still kept, so they stay with them.
pub fn contact_erasable(
    learner_id: i64,
    registrations: &[(i64, Completion)],
    holds: &[LegalHold],
) -> bool {
    registrations
        .iter()
        .all(|(_, c)| *c != Completion::InProgress)
        && !holds
            .iter()
            .any(|h| matches!(h.on, HoldOn::Learner(l) if l == learner_id))
        && !registrations
            .iter()
            .any(|(centre, _)| holds.iter().any(|h| h.covers(learner_id, *centre)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn three_years_from_completion_that_day_included() {
        let c = Completion::Certificated(d("2026-11-30"));
        let at = |today| decide(RecordKind::Judgement, c, 1, 1, &[], d(today));
        assert_eq!(
            at("2029-11-30"),
            Disposal::KeptUntil {
                until: d("2029-11-30")
            }
        );
        assert_eq!(
            at("2029-12-01"),
            Disposal::Due {
                ended: d("2029-11-30")
            }
        );
        assert_eq!(
            at("2026-11-30"),
            Disposal::KeptUntil {
                until: d("2029-11-30")
            }
        );
    }

    #[test]
    fn a_leap_day_completion_is_kept_until_the_first_of_march() {
        assert_eq!(kept_until(d("2024-02-29")), d("2027-03-01"));
        assert_eq!(kept_until(d("2028-02-29")), d("2031-03-01"));
        // Three years on from 28 February is 28 February, even into a leap year.
        assert_eq!(kept_until(d("2025-02-28")), d("2028-02-28"));
        assert_eq!(kept_until(d("2025-03-01")), d("2028-03-01"));
        let c = Completion::Withdrawn(d("2024-02-29"));
        assert!(!decide(RecordKind::EvidenceFile, c, 1, 1, &[], d("2027-02-28")).is_due());
        assert!(!decide(RecordKind::EvidenceFile, c, 1, 1, &[], d("2027-03-01")).is_due());
        assert_eq!(
            decide(RecordKind::EvidenceFile, c, 1, 1, &[], d("2027-03-02")),
            Disposal::Due {
                ended: d("2027-03-01")
            }
        );
    }

    #[test]
    fn a_registration_in_progress_keeps_its_records_with_no_end() {
        for kind in RecordKind::ALL.into_iter().filter(|k| !k.is_permanent()) {
            assert_eq!(
                decide(kind, Completion::InProgress, 1, 1, &[], d("2100-01-01")),
                Disposal::Open
            );
        }
    }

    #[test]
    fn the_register_and_the_audit_log_are_kept_permanently() {
        let long_ago = Completion::Certificated(d("2000-01-01"));
        for kind in [RecordKind::Certificate, RecordKind::AuditEntry] {
            assert_eq!(
                decide(kind, long_ago, 1, 1, &[], d("2100-01-01")),
                Disposal::Permanent
            );
        }
        assert!(decide(RecordKind::Portfolio, long_ago, 1, 1, &[], d("2100-01-01")).is_due());
    }

    #[test]
    fn a_legal_hold_on_the_learner_or_the_centre_stops_disposal() {
        let c = Completion::Withdrawn(d("2020-05-01"));
        let today = d("2026-11-30");
        let on_learner = LegalHold {
            on: HoldOn::Learner(7),
            reason: "claim in the county court".into(),
        };
        let on_centre = LegalHold {
            on: HoldOn::Centre(3),
            reason: "AO investigation".into(),
        };
        assert_eq!(
            decide(
                RecordKind::UnitResult,
                c,
                7,
                9,
                std::slice::from_ref(&on_learner),
                today
            ),
            Disposal::Held {
                reason: "claim in the county court".into(),
                until: Some(d("2023-05-01"))
            }
        );
        assert!(matches!(
            decide(
                RecordKind::Signature,
                c,
                8,
                3,
                std::slice::from_ref(&on_centre),
                today
            ),
            Disposal::Held { .. }
        ));
        // Another learner at another centre is not covered.
        assert!(
            decide(
                RecordKind::Signature,
                c,
                8,
                9,
                &[on_learner, on_centre],
                today
            )
            .is_due()
        );
    }

    #[test]
    fn the_latest_end_of_a_centres_registrations_counts() {
        let a = Completion::Certificated(d("2023-06-01"));
        let b = Completion::Withdrawn(d("2024-02-29"));
        assert_eq!(Completion::latest([a, b]), b);
        assert_eq!(Completion::latest([b, a]), b);
        assert_eq!(
            Completion::latest([a, Completion::InProgress, b]),
            Completion::InProgress
        );
        assert_eq!(Completion::latest([]), Completion::InProgress);
    }

    #[test]
    fn contact_details_go_only_once_nothing_is_in_progress_or_held() {
        let ended = Completion::Withdrawn(d("2026-01-10"));
        assert!(contact_erasable(1, &[(4, ended)], &[]));
        assert!(!contact_erasable(
            1,
            &[(4, ended), (5, Completion::InProgress)],
            &[]
        ));
        let hold = LegalHold {
            on: HoldOn::Centre(4),
            reason: "r".into(),
        };
        assert!(!contact_erasable(1, &[(4, ended)], &[hold]));
        let hold = LegalHold {
            on: HoldOn::Learner(1),
            reason: "r".into(),
        };
        assert!(!contact_erasable(1, &[(4, ended)], &[hold]));
    }
}
