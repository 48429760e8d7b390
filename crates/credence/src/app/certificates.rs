//! Certification (issue 13): a released claim becomes a certificate at once; AO staff
//! replace and revoke; anyone verifies by number.
//!
//! A certificate is written only inside the transaction that releases its claim (see
//! `store::certificates`), after the rules engine re-checks the claimed units against the
//! learner's released results here ([`App::certificate_draft`]). What it says (the learner's
//! registered name, the title as on the certificate, the grade, the units) is fixed when it
//! is issued: later changes to the catalogue or the learner's record never alter it; a
//! name correction is a replacement.

use crate::app::people::Actor;
use crate::app::{App, AppError, AppResult};
use crate::store::{
    CertificateCounts, CertificateDraft, CertificateFilter, CertificateMatches, CertificateRow,
    ClaimRow, Reach,
};
use credence_domain::certificate::{
    AGGREGATION_RULE, CertificateNumber, ReplacementReason, RevocationReason, UnitGrade,
    aggregate_grade,
};
use credence_domain::model::Grading;
use credence_domain::portfolio::Grade;
use credence_domain::rules::Catalogue as RulesCatalogue;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A unit as printed on a certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PrintedUnit {
    /// The Ofqual unit reference, or the AO's where there is none.
    pub reference: String,
    pub title: String,
    pub credits: Option<u32>,
    /// The unit's grade, for graded (marked) units.
    pub grade: Option<String>,
}

/// What anyone checking a certificate sees: only what is printed on it, and its status.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub number: String,
    /// valid, replaced or revoked.
    pub status: String,
    /// "qualification" or "unit" (a unit certificate, keyed by the unit reference).
    pub kind: String,
    pub learner_name: String,
    pub awarding_organisation: String,
    pub awarding_organisation_name: String,
    /// The QAN; null for a unit certificate.
    pub qan: Option<String>,
    /// The unit's reference, for a unit certificate.
    pub unit_reference: Option<String>,
    /// The QAN, or the unit reference where there is no QAN.
    pub reference: String,
    pub title: String,
    pub level: Option<i64>,
    pub grade: Option<String>,
    /// How the grade follows from the units' grades, where it does.
    pub grade_rule: Option<String>,
    pub units: Vec<PrintedUnit>,
    pub total_credits: Option<i64>,
    pub centre_name: String,
    /// YYYY-MM-DD.
    pub awarded_on: String,
    /// The certificate this one replaces.
    pub replaces: Option<String>,
    /// For a replaced certificate: the number that replaced it.
    pub replaced_by: Option<String>,
    /// For a revoked certificate: when (YYYY-MM-DD) and why (the category).
    pub revoked_on: Option<String>,
    pub revocation_reason: Option<String>,
    /// The public page for this certificate.
    pub verify_url: String,
    /// The signed Open Badges 3.0 credential.
    pub credential_url: String,
}

/// A certificate in the register, as its AO, its centre and its learner see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CertificateView {
    #[serde(flatten)]
    pub public: Verification,
    pub learner: i64,
    pub registration: i64,
    pub centre: i64,
    pub claim: i64,
    pub issued_at: String,
    pub replacement_reason: Option<String>,
    pub revocation_note: Option<String>,
}

/// Who may read which part of the register. Built only by [`App::register_scope`].
#[derive(Debug, Clone)]
pub struct RegisterScope {
    aos: BTreeSet<String>,
    centres: BTreeSet<i64>,
    learners: BTreeSet<i64>,
    operator: bool,
}

impl RegisterScope {
    pub fn sees(&self, c: &CertificateRow) -> bool {
        self.operator
            || self.aos.contains(&c.ao_code)
            || self.centres.contains(&c.centre_id)
            || self.learners.contains(&c.learner_id)
    }
    pub fn is_ao_staff(&self) -> bool {
        !self.aos.is_empty()
    }
    /// Whether certificates issued to this centre's learners, of this AO, are in the
    /// register this scope reads (their records open), not only on the public page.
    pub fn sees_centre_of(&self, centre: i64, ao: &str) -> bool {
        self.operator || self.aos.contains(ao) || self.centres.contains(&centre)
    }
}

impl RegisterScope {
    /// Write who this scope sees into a register filter (the operator sees all).
    fn narrow(&self, filter: &mut CertificateFilter) {
        if !self.operator {
            filter.reach = Some(Reach {
                aos: self.aos.iter().cloned().collect(),
                centres: self.centres.iter().copied().collect(),
                learners: self.learners.iter().copied().collect(),
            });
        }
    }
}

/// The register counts and pages through at most this many certificates of one search:
/// beyond it, the page says "more than 10,000" and asks for a narrower search.
pub const REGISTER_BOUND: i64 = 10_000;

/// One page of the register.
#[derive(Debug, Clone)]
pub struct RegisterPage {
    pub views: Vec<CertificateView>,
    /// Of all the search finds (up to [`REGISTER_BOUND`]).
    pub counts: CertificateCounts,
    /// The position of the page's first certificate, from 1.
    pub first: i64,
    pub page: u32,
    pub pages: u32,
}

fn check_status(status: Option<&str>) -> AppResult<()> {
    match status {
        Some(s) if !matches!(s, "valid" | "replaced" | "revoked") => Err(AppError::Validation(
            format!("'{s}' is not a certificate status: use valid, replaced or revoked"),
        )),
        _ => Ok(()),
    }
}

/// The public verification URL of a certificate.
pub fn verify_url(public_url: &str, number: &str) -> String {
    format!("{public_url}/certificates/{number}")
}

impl App {
    /// The actor's view of the register: their AOs' certificates, their centres' (centre
    /// administrators, IQAs and assessors) and their own.
    pub fn register_scope(&self, actor: &Actor) -> RegisterScope {
        RegisterScope {
            aos: actor.ao_codes().into_iter().map(str::to_string).collect(),
            centres: actor
                .grants
                .iter()
                .filter(|g| matches!(g.role.as_str(), "centre_admin" | "iqa" | "assessor"))
                .filter_map(|g| g.centre_id)
                .collect(),
            learners: actor.learner_ids().into_iter().collect(),
            operator: false,
        }
    }

    /// The operator's command line reads the whole register.
    pub fn operator_register(&self, _operator: &crate::app::authz::Operator) -> RegisterScope {
        RegisterScope {
            aos: BTreeSet::new(),
            centres: BTreeSet::new(),
            learners: BTreeSet::new(),
            operator: true,
        }
    }

    /// What a claim's certificate will say, re-checked now: the claimed units still meet
    /// the qualification (a unit claim: the unit is the qualification's), each is signed
    /// off, and a graded qualification's units have results that give a grade other than
    /// Fail. `Err(Validation)` says why no certificate can be issued.
    pub async fn certificate_draft(
        &self,
        c: &ClaimRow,
        issued_by: Option<i64>,
        actor: &str,
        address: Option<&str>,
    ) -> AppResult<CertificateDraft> {
        let reg = self
            .store
            .registration(c.registration_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("registration {}", c.registration_id)))?;
        let spec = self
            .specification_of_version(reg.catalogue_version_id)
            .await?;
        let q = spec
            .programme(&reg.qan)
            .ok_or_else(|| AppError::NotFound(format!("qualification {}", reg.qan)))?;
        let units: Vec<String> = serde_json::from_str(&c.units)?;
        if units.is_empty() {
            return Err(AppError::Validation("the claim names no units".into()));
        }
        let rc = RulesCatalogue::new(std::slice::from_ref(&*q), &spec.units);
        if c.kind == "unit" {
            if units.len() != 1 || !q.units.iter().any(|u| u.unit.as_str() == units[0]) {
                return Err(AppError::Validation(format!(
                    "a unit claim names one unit of {}",
                    reg.qan
                )));
            }
        } else {
            let eval = rc.evaluate(&reg.qan, &units)?;
            if !eval.achieved {
                let why: Vec<String> = eval.unmet.iter().map(|u| u.message.clone()).collect();
                return Err(AppError::Validation(format!(
                    "the claimed units do not meet {}: {}",
                    reg.qan,
                    why.join("; ")
                )));
            }
        }
        // Every claimed unit signed off (its sign-off not withdrawn).
        let sigs = self.store.signatures_of_learner(c.learner_id).await?;
        let mut authentications: Option<Vec<crate::store::AuthenticationRow>> = None;
        for key in &units {
            let list: Vec<credence_domain::portfolio::Signature> = sigs
                .iter()
                .filter(|s| s.unit_key == *key && s.withdrawn_at.is_none())
                .map(crate::app::portfolio::to_signature)
                .collect();
            if !credence_domain::portfolio::is_locked(&list) {
                return Err(AppError::Validation(format!(
                    "unit {key} is not signed off by the assessor and the learner"
                )));
            }
            // Where the AO asks for it, the learner's declaration and the centre's
            // confirmation that the evidence is authentic, on the evidence signed off.
            if spec.unit(key).is_some_and(|u| u.centre_authentication) {
                let signed = credence_domain::portfolio::signed_off_hash(&list).unwrap_or("");
                if authentications.is_none() {
                    authentications =
                        Some(self.store.authentications_of_learner(c.learner_id).await?);
                }
                let auth = authentications.as_deref().unwrap_or_default();
                let on_signed = |role: &str| {
                    auth.iter()
                        .rev()
                        .find(|a| a.unit_key == *key && a.role == role)
                        .is_some_and(|a| a.evidence_hash == signed)
                };
                let missing: Vec<&str> = [
                    (
                        "learner",
                        "the learner's declaration that the work is their own",
                    ),
                    (
                        "centre",
                        "the centre's confirmation that the evidence is authentic",
                    ),
                ]
                .into_iter()
                .filter(|(role, _)| !on_signed(role))
                .map(|(_, what)| what)
                .collect();
                if !missing.is_empty() {
                    return Err(AppError::Validation(format!(
                        "unit {key} needs {} before it is claimed: its awarding organisation asks the centre to authenticate the evidence (on the unit's page in the learner's portfolio)",
                        missing.join(" and ")
                    )));
                }
            }
        }
        let graded = matches!(q.grading, Grading::Marked { .. });
        let results = if graded {
            self.store.unit_results_of_learner(c.learner_id).await?
        } else {
            Vec::new()
        };
        let mut printed = Vec::new();
        let mut grades = Vec::new();
        let mut total: i64 = 0;
        let mut any_credit = false;
        for key in &units {
            let u = spec
                .unit(key)
                .ok_or_else(|| AppError::NotFound(format!("unit {key}")))?;
            let grade = if graded {
                let r = results
                    .iter()
                    .filter(|r| r.unit_key == *key)
                    .max_by_key(|r| r.unit_result_id)
                    .ok_or_else(|| {
                        AppError::Validation(format!(
                            "unit {} '{}' has no marked result: record the marks first",
                            u.ao_ref, u.title
                        ))
                    })?;
                let g = match r.grade.as_str() {
                    "Distinction" => Grade::Distinction,
                    "Merit" => Grade::Merit,
                    "Pass" => Grade::Pass,
                    _ => Grade::Fail,
                };
                grades.push(UnitGrade {
                    unit: key.clone(),
                    credits: u.credit.unwrap_or(0),
                    grade: g,
                });
                Some(g.title().to_string())
            } else {
                None
            };
            if let Some(cr) = u.credit {
                total += i64::from(cr);
                any_credit = true;
            }
            printed.push(PrintedUnit {
                reference: u.ofqual_ref.clone().unwrap_or_else(|| u.ao_ref.clone()),
                title: u.title.clone(),
                credits: u.credit,
                grade,
            });
        }
        let (grade, grade_rule) = if graded {
            let g = aggregate_grade(&grades).unwrap_or(Grade::Fail);
            if g == Grade::Fail {
                let failed: Vec<String> = grades
                    .iter()
                    .filter(|g| g.grade == Grade::Fail)
                    .map(|g| g.unit.clone())
                    .collect();
                return Err(AppError::Validation(format!(
                    "the result is Fail (units graded Fail: {}): a Fail earns no certificate",
                    failed.join(", ")
                )));
            }
            let rule = (c.kind != "unit").then(|| AGGREGATION_RULE.to_string());
            (Some(g.title().to_string()), rule)
        } else {
            (Some("Pass".to_string()), None)
        };
        let (kind, qan, unit_reference, title, level) = if c.kind == "unit" {
            let u = spec
                .unit(&units[0])
                .ok_or_else(|| AppError::NotFound(format!("unit {}", units[0])))?;
            (
                "unit",
                None,
                Some(u.ofqual_ref.clone().unwrap_or_else(|| u.ao_ref.clone())),
                u.title.clone(),
                i64::from(u.level),
            )
        } else {
            (
                "qualification",
                Some(q.qan.clone()),
                None,
                q.title.clone(),
                i64::from(q.level),
            )
        };
        let awarded_on = crate::store::now().chars().take(10).collect::<String>();
        Ok(CertificateDraft {
            kind: kind.into(),
            registration_id: reg.registration_id,
            learner_id: reg.learner_id,
            centre_id: reg.centre_id,
            ao_code: reg.ao_code.clone(),
            learner_name: format!("{} {}", reg.given_name, reg.family_name),
            qan,
            unit_reference,
            title,
            level: Some(level),
            grade,
            grade_rule,
            units: serde_json::to_string(&printed)?,
            total_credits: any_credit.then_some(total),
            awarded_on,
            issued_by,
            audit: Self::entry(
                Some(actor),
                address,
                "certificate.issued",
                &format!("learner {}", reg.learner_id),
                Some(reg.centre_id),
                Some(reg.learner_id),
                serde_json::json!({"kind": kind, "qan": reg.qan, "units": units}),
            ),
        })
    }

    /// The email telling the learner their certificate is issued, queued in the issuing
    /// transaction (so it goes if and only if the certificate exists).
    pub(crate) async fn certificate_emails(
        &self,
        d: &CertificateDraft,
    ) -> AppResult<Vec<crate::store::JobDraft>> {
        let people = self.store.learner_people(d.learner_id).await?;
        let what = if d.kind == "unit" {
            "unit certificate"
        } else {
            "certificate"
        };
        self.event_jobs(
            &people,
            &format!("Your {what} for {} is issued", d.title),
            &format!(
                "Your {what} for {} has been issued by your awarding organisation. You can print it and download its digital credential (Open Badges 3.0) from your home page.",
                d.title
            ),
            "/home",
        )
        .await
    }

    /// What verification shows for a certificate row.
    pub fn verification_of(&self, c: &CertificateRow) -> AppResult<Verification> {
        let units: Vec<PrintedUnit> = serde_json::from_str(&c.units)?;
        Ok(Verification {
            number: c.number.clone(),
            status: c.status.clone(),
            kind: c.kind.clone(),
            learner_name: c.learner_name.clone(),
            awarding_organisation: c.ao_code.clone(),
            awarding_organisation_name: c.ao_name.clone(),
            qan: c.qan.clone(),
            unit_reference: c.unit_reference.clone(),
            reference: c
                .qan
                .clone()
                .or_else(|| c.unit_reference.clone())
                .unwrap_or_default(),
            title: c.title.clone(),
            level: c.level,
            grade: c.grade.clone(),
            grade_rule: c.grade_rule.clone(),
            units,
            total_credits: c.total_credits,
            centre_name: c.centre_name.clone(),
            awarded_on: c.awarded_on.clone(),
            replaces: c.replaces.clone(),
            replaced_by: c.replaced_by.clone(),
            revoked_on: c.revoked_at.as_ref().map(|t| t.chars().take(10).collect()),
            revocation_reason: c
                .revocation_reason
                .as_deref()
                .and_then(RevocationReason::parse)
                .map(|r| r.words().to_string()),
            verify_url: verify_url(&self.public_url, &c.number),
            credential_url: format!(
                "{}/api/v1/certificates/{}/credential",
                self.public_url, c.number
            ),
        })
    }

    /// Anyone checks a certificate by its number. A number whose check character is wrong
    /// is refused without looking anything up (`Validation`); an unknown one is `NotFound`.
    pub async fn verify_certificate(&self, number: &str) -> AppResult<Verification> {
        let n =
            CertificateNumber::parse(number).map_err(|e| AppError::Validation(e.to_string()))?;
        let row = self
            .store
            .certificate(&n.to_string())
            .await?
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "no certificate has the number {n}: check it against the certificate"
                ))
            })?;
        self.verification_of(&row)
    }

    fn view_of(&self, v: Verification, c: &CertificateRow) -> CertificateView {
        CertificateView {
            public: v,
            learner: c.learner_id,
            registration: c.registration_id,
            centre: c.centre_id,
            claim: c.claim_id,
            issued_at: c.issued_at.clone(),
            replacement_reason: c
                .replacement_reason
                .as_deref()
                .and_then(ReplacementReason::parse)
                .map(|r| r.words().to_string()),
            revocation_note: c.revocation_note.clone(),
        }
    }

    /// One certificate from the register, for someone allowed to see it (else NotFound).
    pub async fn certificate_record(
        &self,
        scope: &RegisterScope,
        number: &str,
    ) -> AppResult<(CertificateView, CertificateRow)> {
        let n =
            CertificateNumber::parse(number).map_err(|e| AppError::Validation(e.to_string()))?;
        let row = self
            .store
            .certificate(&n.to_string())
            .await?
            .filter(|c| scope.sees(c))
            .ok_or_else(|| AppError::NotFound(format!("certificate {n}")))?;
        let v = self.verification_of(&row)?;
        Ok((self.view_of(v, &row), row))
    }

    /// The register as the scope sees it, filtered.
    pub async fn certificates(
        &self,
        scope: &RegisterScope,
        mut filter: CertificateFilter,
    ) -> AppResult<Vec<CertificateView>> {
        check_status(filter.status.as_deref())?;
        scope.narrow(&mut filter);
        let rows = self.store.certificates(&filter).await?;
        self.register_views(scope, &rows)
    }

    fn register_views(
        &self,
        scope: &RegisterScope,
        rows: &[CertificateRow],
    ) -> AppResult<Vec<CertificateView>> {
        let mut out = Vec::new();
        for c in rows.iter().filter(|c| scope.sees(c)) {
            let v = self.verification_of(c)?;
            out.push(self.view_of(v, c));
        }
        Ok(out)
    }

    /// One page of the register as the scope sees it, filtered, newest first, with the
    /// counts by status of all it finds up to [`REGISTER_BOUND`]. A page past the last shows
    /// the last; pages go no further than the bound (beyond it, the search is narrowed).
    pub async fn register_page(
        &self,
        scope: &RegisterScope,
        mut filter: CertificateFilter,
        page: u32,
        per_page: u32,
    ) -> AppResult<RegisterPage> {
        check_status(filter.status.as_deref())?;
        scope.narrow(&mut filter);
        let per = i64::from(per_page.max(1));
        let pages_of = |counts: &CertificateCounts| {
            let listed = counts.total().min(REGISTER_BOUND);
            u32::try_from((listed + per - 1) / per)
                .unwrap_or(u32::MAX)
                .max(1)
        };
        let words = filter.text.as_deref().is_some_and(|t| !t.trim().is_empty());
        let (rows, counts, page, pages) = if words {
            // Words: what the trigram index finds is read once, ids and statuses (the
            // counts and the page's ids), then the page's rows by id.
            let CertificateMatches { found, counts } = self
                .store
                .certificate_matches(&filter, REGISTER_BOUND)
                .await?;
            let pages = pages_of(&counts);
            let page = page.clamp(1, pages);
            let ids: Vec<i64> = found
                .iter()
                .skip(usize::try_from(i64::from(page - 1) * per).unwrap_or(0))
                .take(usize::try_from(per).unwrap_or(100))
                .map(|(id, _)| *id)
                .collect();
            (
                self.store.certificates_by_ids(&ids).await?,
                counts,
                page,
                pages,
            )
        } else {
            // No words: the counts come back as three rows (from migration 20's index for
            // an AO), and the page by its offset, newest first.
            let counts = self
                .store
                .certificate_counts(&filter, REGISTER_BOUND)
                .await?;
            let pages = pages_of(&counts);
            let page = page.clamp(1, pages);
            filter.limit = Some(per);
            filter.offset = Some(i64::from(page - 1) * per);
            (self.store.certificates(&filter).await?, counts, page, pages)
        };
        Ok(RegisterPage {
            views: self.register_views(scope, &rows)?,
            counts,
            first: i64::from(page - 1) * per + 1,
            page,
            pages,
        })
    }

    /// AO staff (with a second factor) issue a replacement: a new number with the same
    /// details (or the corrected name), marked as replacing the original, which verification
    /// then shows as replaced by it.
    pub async fn replace_certificate(
        &self,
        actor: &Actor,
        number: &str,
        reason: &str,
        corrected_name: Option<&str>,
        address: &str,
    ) -> AppResult<String> {
        let scope = self.register_scope(actor);
        let (_, row) = self.certificate_record(&scope, number).await?;
        let ao = self.ao_scope(actor, &row.ao_code).map_err(|_| {
            AppError::Forbidden(format!(
                "Only {}'s staff replace its certificates",
                row.ao_code
            ))
        })?;
        ao.require_second_factor()?;
        let reason = ReplacementReason::parse(reason).ok_or_else(|| {
            AppError::Validation(
                "Choose why it is replaced: lost, damaged or name_correction".into(),
            )
        })?;
        if row.status != "valid" {
            return Err(AppError::Conflict(format!(
                "certificate {} is {}: only a valid certificate is replaced",
                row.number, row.status
            )));
        }
        self.issue_replacement(
            &row,
            reason,
            corrected_name,
            ao.who(),
            actor.person_id,
            address,
        )
        .await
    }

    /// Issue the replacement once allowed (also the demo's way in).
    pub(crate) async fn issue_replacement(
        &self,
        row: &CertificateRow,
        reason: ReplacementReason,
        corrected_name: Option<&str>,
        who: &str,
        person_id: i64,
        address: &str,
    ) -> AppResult<String> {
        let name = match (reason, corrected_name.map(str::trim)) {
            (ReplacementReason::NameCorrection, Some(n)) if !n.is_empty() => {
                crate::app::quality::bounded("The corrected name", n, 200)?
            }
            (ReplacementReason::NameCorrection, _) => {
                return Err(AppError::Validation(
                    "Enter the learner's name as it should be printed".into(),
                ));
            }
            _ => row.learner_name.clone(),
        };
        let draft = CertificateDraft {
            kind: row.kind.clone(),
            registration_id: row.registration_id,
            learner_id: row.learner_id,
            centre_id: row.centre_id,
            ao_code: row.ao_code.clone(),
            learner_name: name.clone(),
            qan: row.qan.clone(),
            unit_reference: row.unit_reference.clone(),
            title: row.title.clone(),
            level: row.level,
            grade: row.grade.clone(),
            grade_rule: row.grade_rule.clone(),
            units: row.units.clone(),
            total_credits: row.total_credits,
            awarded_on: row.awarded_on.clone(),
            issued_by: Some(person_id),
            audit: Self::entry(
                Some(who),
                Some(address),
                "certificate.issued",
                &format!("learner {}", row.learner_id),
                Some(row.centre_id),
                Some(row.learner_id),
                serde_json::json!({"kind": row.kind, "replaces": row.number, "reason": reason.code()}),
            ),
        };
        let entry = Self::entry(
            Some(who),
            Some(address),
            "certificate.replaced",
            &format!("learner {}", row.learner_id),
            Some(row.centre_id),
            Some(row.learner_id),
            serde_json::json!({"certificate": row.number, "reason": reason.code(), "name_changed": name != row.learner_name}),
        );
        Ok(self
            .store
            .audited(entry)
            .replace_certificate(row, &draft, reason.code())
            .await?)
    }

    /// AO staff (with a second factor) revoke a certificate with a reason category and a
    /// note kept inside; verification, the revocation list and the credential's status show
    /// it at once.
    pub async fn revoke_certificate(
        &self,
        actor: &Actor,
        number: &str,
        reason: &str,
        note: &str,
        address: &str,
    ) -> AppResult<()> {
        let scope = self.register_scope(actor);
        let (_, row) = self.certificate_record(&scope, number).await?;
        let ao = self.ao_scope(actor, &row.ao_code).map_err(|_| {
            AppError::Forbidden(format!(
                "Only {}'s staff revoke its certificates",
                row.ao_code
            ))
        })?;
        ao.require_second_factor()?;
        let reason = RevocationReason::parse(reason).ok_or_else(|| {
            AppError::Validation(
                "Choose why it is revoked: claimed_in_error, malpractice or maladministration"
                    .into(),
            )
        })?;
        let note = crate::app::quality::bounded("The note", note, 4000)?;
        if note.is_empty() {
            return Err(AppError::Validation(
                "Say what happened in the note (kept in the record, not shown publicly)".into(),
            ));
        }
        if row.status != "valid" {
            return Err(AppError::Conflict(format!(
                "certificate {} is {}: only a valid certificate is revoked",
                row.number, row.status
            )));
        }
        self.record_revocation(&row, reason, &note, ao.who(), actor.person_id, address)
            .await
    }

    /// Record the revocation once allowed (also the demo's way in).
    pub(crate) async fn record_revocation(
        &self,
        row: &CertificateRow,
        reason: RevocationReason,
        note: &str,
        who: &str,
        person_id: i64,
        address: &str,
    ) -> AppResult<()> {
        let entry = Self::entry(
            Some(who),
            Some(address),
            "certificate.revoked",
            &format!("learner {}", row.learner_id),
            Some(row.centre_id),
            Some(row.learner_id),
            serde_json::json!({"certificate": row.number, "reason": reason.code()}),
        );
        self.store
            .audited(entry)
            .revoke_certificate(&row.number, reason.code(), note, Some(person_id))
            .await?;
        Ok(())
    }
}

impl App {
    /// A certificate as a PDF to print, for those who may see it in the register (its AO's
    /// staff, its centre, the learner).
    pub async fn certificate_pdf(
        &self,
        scope: &RegisterScope,
        number: &str,
    ) -> AppResult<(String, Vec<u8>)> {
        let (v, _) = self.certificate_record(scope, number).await?;
        let p = &v.public;
        let unit = p.kind == "unit";
        let print = crate::certificate_pdf::CertificatePrint {
            number: p.number.clone(),
            ao_name: p.awarding_organisation_name.clone(),
            ao_code: p.awarding_organisation.clone(),
            learner_name: p.learner_name.clone(),
            title: p.title.clone(),
            reference_label: if unit {
                "Unit reference".into()
            } else {
                "Qualification number".into()
            },
            reference: p.reference.clone(),
            level: p.level.map(|l| format!("Level {l}")),
            grade: p.grade.clone(),
            grade_rule: p.grade_rule.clone(),
            kind_label: match (unit, p.awarding_organisation.as_str()) {
                (true, "ISMM") => "Unit acknowledgement".into(),
                (true, _) => "Unit certificate".into(),
                _ => "Certificate".into(),
            },
            units: p
                .units
                .iter()
                .map(|u| crate::certificate_pdf::PrintedUnit {
                    reference: u.reference.clone(),
                    title: u.title.clone(),
                    credits: u.credits,
                    grade: u.grade.clone(),
                })
                .collect(),
            awarded_on: crate::format::uk_date(&p.awarded_on),
            centre_name: p.centre_name.clone(),
            replaces: p
                .replaces
                .as_ref()
                .map(|r| format!("Replaces certificate {r}")),
            verify_url: p.verify_url.clone(),
        };
        let number = p.number.clone();
        let bytes = tokio::task::spawn_blocking(move || crate::certificate_pdf::render(&print))
            .await
            .map_err(|e| AppError::Internal(format!("the PDF stopped: {e}")))?
            .map_err(|e| AppError::Internal(format!("could not make the PDF: {e}")))?;
        Ok((number, bytes))
    }
}
