//! A person's own data: everything held about them as one zip (the UK GDPR right of access
//! and data portability), and their request to erase it, answered from the retention rules
//! (`credence_domain::records`). See docs/records.md.

use super::authz::{Operator, OwnDataScope};
use super::people::Actor;
use super::{App, AppError, AppResult};
use chrono::NaiveDate;
use credence_domain::records::{self, Completion, Disposal, HoldOn, LegalHold, RecordKind};
use serde::Serialize;
use utoipa::ToSchema;

/// The rule a disposal is made under, as disposal records name it.
pub const RETENTION_RULE: &str = "assessment records kept 3 years from the learner's completion";

/// `index.json`'s `format`.
pub const INDEX_FORMAT: &str = "credence-personal-data";
/// `index.json`'s `version`: changes only when a field changes meaning or goes.
pub const INDEX_VERSION: u32 = 1;

/// One thing the erasure answer speaks about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasureItem {
    /// What it is, in words.
    pub what: String,
    /// `erased` (done now), `erasable` (would be erased now: the preview before you confirm),
    /// `disposed` (already gone, after its retention), `kept_until`, `kept_while_in_progress`, `kept_permanently`, `held` (a legal hold stops
    /// disposal), or `kept_while_account_open`.
    pub decision: String,
    /// The last day it is kept (YYYY-MM-DD), where that is known.
    pub kept_until: Option<String>,
    /// The centre the records were made at, where they belong to one.
    pub centre: Option<i64>,
    pub centre_name: Option<String>,
    /// Why, in words.
    pub reason: String,
}

/// What can be erased now and what must be kept, and until when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasureAnswer {
    /// The day the rules were applied (YYYY-MM-DD, UTC).
    pub on: String,
    /// True when this answer carried the erasure out; false for the preview.
    pub carried_out: bool,
    pub items: Vec<ErasureItem>,
}

impl ErasureAnswer {
    /// The items erased (or erasable, in a preview).
    pub fn erased(&self) -> impl Iterator<Item = &ErasureItem> {
        self.items
            .iter()
            .filter(|i| i.decision == "erased" || i.decision == "erasable")
    }
    /// The items kept.
    pub fn kept(&self) -> impl Iterator<Item = &ErasureItem> {
        self.items
            .iter()
            .filter(|i| !matches!(i.decision.as_str(), "erased" | "erasable" | "disposed"))
    }
}

/// A built export: the zip, open at its start, and its size.
pub struct PersonalDataZip {
    pub file: std::fs::File,
    pub file_name: String,
}

/// When a registration ended, for retention: a certificate's issue day, a withdrawal's
/// effective day, the end of the registration a transfer moved it to; else in progress.
pub(super) fn completion_of(
    reg: &crate::store::RegistrationEnd,
    all: &[crate::store::RegistrationEnd],
) -> Completion {
    let day = |s: &str| NaiveDate::parse_from_str(s.get(..10).unwrap_or(""), "%Y-%m-%d").ok();
    let mut r = reg;
    // Follow transfers (at most as many hops as there are registrations).
    for _ in 0..=all.len() {
        if r.status == "transferred" {
            match r
                .moved_to
                .and_then(|to| all.iter().find(|x| x.registration_id == to))
            {
                Some(next) => {
                    r = next;
                    continue;
                }
                None => return Completion::InProgress,
            }
        }
        if r.status == "withdrawn" {
            return match r.withdrawn_on.as_deref().and_then(day) {
                Some(d) => Completion::Withdrawn(d),
                None => Completion::InProgress,
            };
        }
        let certified = if credence_domain::ident::is_unit_code(&r.qan) {
            r.any_certified_at.as_deref()
        } else {
            r.qualification_certified_at.as_deref()
        };
        return match certified.and_then(day) {
            Some(d) => Completion::Certificated(d),
            None => Completion::InProgress,
        };
    }
    Completion::InProgress
}

pub(super) fn hold_of(h: &crate::store::HoldRow) -> Option<LegalHold> {
    let on = match (h.learner_id, h.centre_id) {
        (Some(l), _) => HoldOn::Learner(l),
        (None, Some(c)) => HoldOn::Centre(c),
        (None, None) => return None,
    };
    Some(LegalHold {
        on,
        reason: h.reason.clone(),
    })
}

/// The assessment records disposed of together, per centre: every kind not kept for good.
fn centre_records_words() -> String {
    RecordKind::ALL
        .iter()
        .filter(|k| !k.is_permanent())
        .map(|k| k.describe())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the retention rules say about one learner record, with what erasure would do.
struct LearnerPlan {
    learner_id: i64,
    /// Per centre: its id, name, and the decision for the records made there.
    centres: Vec<(i64, String, Disposal)>,
    contact_erasable: bool,
    has_contact: bool,
    has_certificate: bool,
    /// The latest day any of the learner's records is kept (None: open or none).
    latest_until: Option<NaiveDate>,
    any_open: bool,
}

impl App {
    async fn learner_plan(&self, learner_id: i64, today: NaiveDate) -> AppResult<LearnerPlan> {
        let ends = self.store.registration_ends(learner_id).await?;
        let mut centres: Vec<i64> = ends.iter().map(|r| r.centre_id).collect();
        centres.sort_unstable();
        centres.dedup();
        let holds: Vec<LegalHold> = self
            .store
            .legal_holds(learner_id, &centres)
            .await?
            .iter()
            .filter_map(hold_of)
            .collect();
        let completions: Vec<(i64, Completion)> = ends
            .iter()
            .map(|r| (r.centre_id, completion_of(r, &ends)))
            .collect();
        let mut out = Vec::new();
        let mut latest_until = None;
        let mut any_open = false;
        for c in &centres {
            let completion = Completion::latest(
                completions
                    .iter()
                    .filter(|(centre, _)| centre == c)
                    .map(|(_, x)| *x),
            );
            let d = records::decide(
                RecordKind::Portfolio,
                completion,
                learner_id,
                *c,
                &holds,
                today,
            );
            match completion.ended_on() {
                Some(e) => latest_until = latest_until.max(Some(records::kept_until(e))),
                None => any_open = true,
            }
            let name = self
                .store
                .centre(*c)
                .await?
                .map(|r| r.name)
                .unwrap_or_default();
            out.push((*c, name, d));
        }
        let learner = self.store.learner(learner_id).await?;
        Ok(LearnerPlan {
            learner_id,
            centres: out,
            contact_erasable: records::contact_erasable(learner_id, &completions, &holds),
            has_contact: learner
                .as_ref()
                .and_then(|l| l.email.as_deref())
                .is_some_and(|e| !e.is_empty()),
            has_certificate: ends.iter().any(|r| r.any_certified_at.is_some()),
            latest_until,
            any_open,
        })
    }

    /// The erasure answer for the person in `scope`: with `carry_out`, what can be erased
    /// now is erased (each erasure its own audited write), otherwise it is a preview.
    async fn erasure(
        &self,
        scope: &OwnDataScope,
        carry_out: bool,
        today: NaiveDate,
    ) -> AppResult<ErasureAnswer> {
        let mut items = Vec::new();
        let done = |erase: bool| {
            if !erase {
                "kept"
            } else if carry_out {
                "erased"
            } else {
                "erasable"
            }
        };
        let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        if carry_out {
            self.store
                .append_audit(&Self::entry(
                    Some(scope.who()),
                    None,
                    "personal_data.erasure_requested",
                    &format!("person {}", scope.person_id()),
                    None,
                    None,
                    serde_json::json!({"learner_records": scope.learner_ids()}),
                ))
                .await?;
        }
        let mut plans = Vec::new();
        for l in scope.learner_ids() {
            plans.push(self.learner_plan(*l, today).await?);
        }
        for p in &plans {
            // Optional contact details.
            if p.has_contact {
                if p.contact_erasable && carry_out {
                    self.store
                        .audited(Self::entry(
                            Some(scope.who()),
                            None,
                            "personal_data.erased",
                            &format!("learner {}", p.learner_id),
                            None,
                            Some(p.learner_id),
                            serde_json::json!({"what": "learner_email", "at_request_of": format!("person {}", scope.person_id())}),
                        ))
                        .erase_learner_email(p.learner_id)
                        .await?;
                }
                items.push(ErasureItem {
                    what: "The contact email on your learner record".into(),
                    decision: if p.contact_erasable {
                        done(true).into()
                    } else {
                        "kept_while_in_progress".into()
                    },
                    kept_until: None,
                    centre: None,
                    centre_name: None,
                    reason: if p.contact_erasable {
                        "Optional: your centre used it while you were learning, and none of your registrations is in progress.".into()
                    } else {
                        "Your centre uses it while a registration is in progress (or a legal hold covers your records).".into()
                    },
                });
            }
            // Portfolio and assessment records, centre by centre.
            for (centre, name, d) in &p.centres {
                let what = format!(
                    "Your portfolio and assessment records at {name}: {}",
                    centre_records_words()
                );
                let item = |decision: &str, until: Option<NaiveDate>, reason: String| ErasureItem {
                    what: what.clone(),
                    decision: decision.into(),
                    kept_until: until.map(iso),
                    centre: Some(*centre),
                    centre_name: Some(name.clone()),
                    reason,
                };
                items.push(match d {
                    Disposal::Due { ended } => {
                        if self.store.records_at(p.learner_id, *centre).await? == 0 {
                            item("disposed", None, format!("Already disposed of: they were kept 3 years from the end of your registration there, until {}.", iso(*ended)))
                        } else {
                            if carry_out {
                                self.dispose(
                                    scope.who(),
                                    p.learner_id,
                                    *centre,
                                    serde_json::json!({"rule": RETENTION_RULE, "kept_until": iso(*ended), "at_request_of": format!("person {}", scope.person_id())}),
                                )
                                .await?;
                            }
                            item(done(true), None, format!("They were kept 3 years from the end of your registration there, until {}.", iso(*ended)))
                        }
                    }
                    Disposal::KeptUntil { until } => item(
                        "kept_until",
                        Some(*until),
                        "Records are kept 3 years from completion (the certificate's issue date, or the withdrawal) and available to the awarding organisation's EQA; then they are disposed of.".into(),
                    ),
                    Disposal::Open => item(
                        "kept_while_in_progress",
                        None,
                        "Your registration there is still in progress: they are kept until 3 years after it ends.".into(),
                    ),
                    Disposal::Held { reason, until } => item(
                        "held",
                        *until,
                        format!("A legal hold stops their disposal: {reason}"),
                    ),
                    Disposal::Permanent => item("kept_permanently", None, String::new()),
                });
            }
            // Registrations and the learner record's identity.
            let ended =
                !p.has_certificate && !p.any_open && p.latest_until.is_some_and(|u| u < today);
            items.push(ErasureItem {
                what: "Your registrations and the name, date of birth and ULN on your learner record".into(),
                decision: if p.has_certificate {
                    "kept_permanently".into()
                } else if ended {
                    "kept_while_account_open".into()
                } else if p.any_open || p.latest_until.is_none() {
                    "kept_while_in_progress".into()
                } else {
                    "kept_until".into()
                },
                kept_until: if p.has_certificate || p.any_open || ended {
                    None
                } else {
                    p.latest_until.map(iso)
                },
                centre: None,
                centre_name: None,
                reason: if p.has_certificate {
                    "Your certificates name the registration they were issued for, and the register is kept permanently.".into()
                } else if ended {
                    "Their retention has ended and the records under them can be erased; they stay with your account, which signs you in. Ask your centre to close your account to remove them.".into()
                } else {
                    "They identify whose records are kept, so they stay as long as those records do.".into()
                },
            });
            if p.has_certificate {
                items.push(ErasureItem {
                    what: "Your certificates (the certificate register)".into(),
                    decision: "kept_permanently".into(),
                    kept_until: None,
                    centre: None,
                    centre_name: None,
                    reason: "Anyone you show a certificate to checks it against the register, for as long as you hold it: it is kept permanently.".into(),
                });
            }
        }
        if scope.is_staff() {
            let made = self.store.records_made_by(scope.person_id()).await?;
            let mut open = false;
            let mut until: Option<NaiveDate> = None;
            for (learner, centre) in &made {
                let ends = self.store.registration_ends(*learner).await?;
                let c = Completion::latest(
                    ends.iter()
                        .filter(|r| r.centre_id == *centre)
                        .map(|r| completion_of(r, &ends)),
                );
                match c.ended_on() {
                    Some(e) => until = until.max(Some(records::kept_until(e))),
                    None => open = true,
                }
            }
            if !made.is_empty() {
                items.push(ErasureItem {
                    what: format!(
                        "Decisions, sign-offs and quality assurance you made, on {} learners' records",
                        made.iter().map(|(l, _)| l).collect::<std::collections::BTreeSet<_>>().len()
                    ),
                    decision: (if open { "kept_while_in_progress" } else { "kept_until" }).into(),
                    kept_until: if open { None } else { until.map(iso) },
                    centre: None,
                    centre_name: None,
                    reason: "They are part of those learners' assessment records, kept 3 years from each learner's completion.".into(),
                });
            }
            let competence = self.store.competence(scope.person_id()).await?.is_some();
            if competence {
                let needed = !made.is_empty() || self.holds_staff_role(scope.person_id()).await?;
                if !needed && carry_out {
                    self.store
                        .audited(Self::entry(
                            Some(scope.who()),
                            None,
                            "personal_data.erased",
                            &format!("person {}", scope.person_id()),
                            None,
                            None,
                            serde_json::json!({"what": "competence_record"}),
                        ))
                        .erase_competence(scope.person_id())
                        .await?;
                }
                items.push(ErasureItem {
                    what: "Your competence record and CPD".into(),
                    decision: if needed { "kept_while_in_progress".into() } else { done(true).into() },
                    kept_until: None,
                    centre: None,
                    centre_name: None,
                    reason: if needed {
                        "EQAs check assessors' and IQAs' competence against the decisions they made: it is kept while you hold a role at a centre and while records you made are kept.".into()
                    } else {
                        "You hold no assessor or IQA role and no records you made are kept.".into()
                    },
                });
            }
        }
        items.push(ErasureItem {
            what: "Your account (the email you sign in with and your name)".into(),
            decision: "kept_while_account_open".into(),
            kept_until: None,
            centre: None,
            centre_name: None,
            reason: "It is how you sign in and reach your records and certificates, and it names you on the records still kept. Ask your centre to close it once nothing above is kept.".into(),
        });
        items.push(ErasureItem {
            what: "Audit log entries about you".into(),
            decision: "kept_permanently".into(),
            kept_until: None,
            centre: None,
            centre_name: None,
            reason: "They show who did what and when, and name people only by number: no name, email, date of birth or address. Erasing the records they point to leaves them unreadable as personal data.".into(),
        });
        Ok(ErasureAnswer {
            on: iso(today),
            carried_out: carry_out,
            items,
        })
    }

    async fn holds_staff_role(&self, person_id: i64) -> AppResult<bool> {
        Ok(self
            .store
            .grants(person_id)
            .await?
            .iter()
            .any(|g| g.role != "learner"))
    }

    /// Dispose of a learner's records at a centre whose retention has ended: rows first (one
    /// audited transaction, `records.disposed` by `who` with `detail`), then the files; a
    /// file that cannot be removed is left to `credence evidence sweep`, which finds objects
    /// no record names. Returns the files removed and the files left.
    pub(super) async fn dispose(
        &self,
        who: &str,
        learner_id: i64,
        centre_id: i64,
        detail: serde_json::Value,
    ) -> AppResult<(i64, i64)> {
        let gone = self
            .store
            .audited(Self::entry(
                Some(who),
                None,
                "records.disposed",
                &format!("learner {learner_id}"),
                Some(centre_id),
                Some(learner_id),
                detail,
            ))
            .dispose_learner_records(learner_id, centre_id)
            .await?;
        let (mut removed, mut left) = (0, 0);
        for key in &gone.object_keys {
            match self.evidence.delete(key).await {
                Ok(()) => removed += 1,
                Err(e) => {
                    left += 1;
                    tracing::warn!(key = %key, error = %e, "disposed evidence file left for the sweep");
                }
            }
        }
        Ok((removed, left))
    }

    /// What erasure would do today, for the signed-in person (nothing changes).
    pub async fn erasure_preview(&self, actor: &Actor) -> AppResult<ErasureAnswer> {
        let scope = self.own_data_scope(actor);
        self.erasure(&scope, false, chrono::Utc::now().date_naive())
            .await
    }

    /// Erase what the rules allow now for the signed-in person, and say what is kept.
    pub async fn erase_own_data(&self, actor: &Actor) -> AppResult<ErasureAnswer> {
        let scope = self.own_data_scope(actor);
        self.erasure(&scope, true, chrono::Utc::now().date_naive())
            .await
    }

    /// Erasure as of `today` (tests and the operator's command line).
    pub async fn erase_own_data_on(
        &self,
        scope: &OwnDataScope,
        carry_out: bool,
        today: NaiveDate,
    ) -> AppResult<ErasureAnswer> {
        self.erasure(scope, carry_out, today).await
    }

    /// Place a legal hold on a learner or a centre (the operator's command line).
    pub async fn place_legal_hold(
        &self,
        operator: &Operator,
        on: HoldOn,
        reason: &str,
    ) -> AppResult<i64> {
        self.place_hold_as(operator.who(), on, reason).await
    }

    /// Place a legal hold, named in the log as `who` (the caller checked they may).
    pub(super) async fn place_hold_as(
        &self,
        who: &str,
        on: HoldOn,
        reason: &str,
    ) -> AppResult<i64> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::Validation(
                "Give the reason for the hold (the claim, investigation or appeal)".into(),
            ));
        }
        let (learner, centre) = match on {
            HoldOn::Learner(l) => {
                self.store
                    .learner(l)
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("learner {l}")))?;
                (Some(l), None)
            }
            HoldOn::Centre(c) => {
                self.store
                    .centre(c)
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("centre {c}")))?;
                (None, Some(c))
            }
        };
        // The reason may name a case: it stays in the hold's row, out of the hashed entry.
        Ok(self
            .store
            .audited(Self::entry(
                Some(who),
                None,
                "records.hold_placed",
                &match on {
                    HoldOn::Learner(l) => format!("learner {l}"),
                    HoldOn::Centre(c) => format!("centre {c}"),
                },
                centre,
                learner,
                serde_json::json!({}),
            ))
            .place_legal_hold(learner, centre, reason, who)
            .await?)
    }

    /// Lift a legal hold (the operator's command line): it stays on record as lifted.
    pub async fn lift_legal_hold(&self, operator: &Operator, hold_id: i64) -> AppResult<()> {
        self.lift_hold_as(operator.who(), hold_id).await
    }

    /// Lift a legal hold, named in the log as `who` (the caller checked they may).
    pub(super) async fn lift_hold_as(&self, who: &str, hold_id: i64) -> AppResult<()> {
        let lifted = self
            .store
            .audited(Self::entry(
                Some(who),
                None,
                "records.hold_lifted",
                &format!("legal hold {hold_id}"),
                None,
                None,
                serde_json::json!({"hold": hold_id}),
            ))
            .lift_legal_hold(hold_id, who)
            .await?;
        if !lifted {
            return Err(AppError::NotFound(format!(
                "a legal hold {hold_id} in force"
            )));
        }
        Ok(())
    }

    /// The signed-in person's own data as a zip (see [`App::personal_data_zip_of`]).
    pub async fn personal_data_zip(&self, actor: &Actor) -> AppResult<PersonalDataZip> {
        let scope = self.own_data_scope(actor);
        self.personal_data_zip_of(&scope).await
    }

    /// Everything Credence holds about the person in `scope`, as one zip: `index.json` (what
    /// each file is), `data/{section}.json` (the rows of each kind of record, as JSON
    /// objects) and `evidence/` (every evidence file of their learner records, byte for
    /// byte). Built in an unlinked temporary file and returned open at its start, to stream.
    /// The download is audited (ids and counts only).
    pub async fn personal_data_zip_of(&self, scope: &OwnDataScope) -> AppResult<PersonalDataZip> {
        let mut sections = self
            .store
            .personal_data(scope.person_id(), scope.learner_ids())
            .await?;
        // Each evidence row names its file in the zip.
        let mut files: Vec<(String, String)> = Vec::new();
        let mut evidence_index = Vec::new();
        if let Some(ev) = sections.iter_mut().find(|s| s.name == "evidence") {
            for row in &mut ev.rows {
                let id = row
                    .get("evidence_id")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0);
                let name = row
                    .get("file_name")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("file");
                let key = row
                    .get("object_key")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let file = format!(
                    "evidence/{id:05}-{}",
                    super::portfolio::display_file_name(name)
                );
                evidence_index.push(serde_json::json!({
                    "file": file,
                    "evidence_id": id,
                    "title": row.get("title"),
                    "media_type": row.get("media_type"),
                    "size": row.get("size"),
                    "sha256": row.get("sha256"),
                }));
                if let serde_json::Value::Object(m) = row {
                    m.insert("file".into(), serde_json::json!(file));
                }
                files.push((file, key));
            }
        }
        let generated_at = crate::store::now();
        let index = serde_json::json!({
            "format": INDEX_FORMAT,
            "version": INDEX_VERSION,
            "generated_at": generated_at,
            "person_id": scope.person_id(),
            "learner_ids": scope.learner_ids(),
            "about": "Everything Credence holds about you: each kind of record is one JSON file under data/ (an array of objects, one per row, with the columns as fields; times are RFC 3339 in UTC); your evidence files are under evidence/ exactly as uploaded. See docs/records.md for the schema.",
            "sections": sections.iter().map(|s| serde_json::json!({
                "name": s.name,
                "file": format!("data/{}.json", s.name),
                "description": s.description,
                "records": s.rows.len(),
            })).collect::<Vec<_>>(),
            "evidence_files": evidence_index.clone(),
        });
        let mut data: Vec<(String, Vec<u8>)> =
            vec![("index.json".into(), serde_json::to_vec_pretty(&index)?)];
        for s in &sections {
            data.push((
                format!("data/{}.json", s.name),
                serde_json::to_vec_pretty(&s.rows)?,
            ));
        }
        let counts: serde_json::Map<String, serde_json::Value> = sections
            .iter()
            .filter(|s| !s.rows.is_empty())
            .map(|s| (s.name.to_string(), serde_json::json!(s.rows.len())))
            .collect();

        let built = self.zip_to_temp_file(move || data, files).await?;
        // Audited once built: ids and counts only, no address (docs/trust.md).
        self.store
            .append_audit(&Self::entry(
                Some(scope.who()),
                None,
                "personal_data.exported",
                &format!("person {}", scope.person_id()),
                None,
                scope.learner_ids().first().copied(),
                serde_json::json!({"records": counts, "evidence_files": evidence_index.len()}),
            ))
            .await?;
        Ok(PersonalDataZip {
            file: built,
            file_name: format!("credence-data-{}.zip", scope.person_id()),
        })
    }
}
