//! Claims and the gate that releases them, and appeals against assessment decisions.
//!
//! A claim names the units it is made with; the rules engine checks them when it is made (a
//! claim the rules do not meet is refused with every unmet requirement). Then the gate
//! (`credence_domain::qa::gate`) says what it waits for: sign-offs, the IQA where a unit was
//! sampled, open appeals, an EQA sanction, and for a centre without direct claim status its
//! first satisfactory EQA visit and the EQA's release. Released claims are what
//! certification turns into certificates.

use super::bounded;
use crate::app::authz::QaRole;
use crate::app::people::Actor;
use crate::app::portfolio::to_signature;
use crate::app::{App, AppError, AppResult};
use crate::store::{AppealRow, ClaimRow, RegistrationRow};
use credence_domain::portfolio::{self, Signature};
use credence_domain::qa::{ClaimGate, GateAnswer, UnitGate, UnitQa, Wait, gate};
use credence_domain::rules::Catalogue as RulesCatalogue;
use serde::Serialize;
use std::collections::BTreeSet;

/// One page of a centre's claims, with what the page says of them all.
pub struct ClaimsPage {
    /// The page's claims, newest first.
    pub views: Vec<ClaimView>,
    /// (held, released, withdrawn) over all the centre's claims the actor sees.
    pub counts: (usize, usize, usize),
    /// How many claims the status asked for has, over all pages.
    pub total: usize,
    /// The first claim's place on this page, counted from 1.
    pub first: usize,
    /// The page shown (from 1) and how many pages there are.
    pub page: u32,
    pub pages: u32,
    /// Registrations with a held or released qualification claim (not claimed again).
    pub claimed_registrations: BTreeSet<i64>,
}

/// A claim as people and scripts read it.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimView {
    pub claim: i64,
    /// "qualification", or "unit" for a banked unit (a unit certificate).
    pub kind: String,
    /// The certificate a released claim became (its number), if any.
    pub certificate: Option<String>,
    pub registration: i64,
    pub learner: i64,
    pub learner_name: String,
    pub uln: Option<String>,
    pub centre: i64,
    pub ao: String,
    pub qan: String,
    pub units: Vec<String>,
    /// held, released or withdrawn.
    pub status: String,
    pub claimed_at: String,
    pub released_at: Option<String>,
    pub release_note: Option<String>,
    /// For a held claim: everything it waits for.
    pub waits: Vec<Wait>,
    /// In words, one per wait.
    pub waiting_for: Vec<String>,
    /// Held only for the EQA's sampling: an EQA may release it now.
    pub releasable_by_eqa: bool,
}

/// How many claims a listing without a centre shows (the newest): an AO's register of claims
/// runs to millions; a centre's own list is complete.
pub const CLAIMS_WITHOUT_CENTRE: i64 = 1000;

impl App {
    /// The gate's answer for a claim as things stand (ignoring whether it was released).
    async fn gate_of(&self, c: &ClaimRow, eqa_released: bool) -> AppResult<Vec<Wait>> {
        let reg = self
            .store
            .registration(c.registration_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("registration {}", c.registration_id)))?;
        let units: Vec<String> = serde_json::from_str(&c.units)?;
        let spec = self
            .specification_of_version(reg.catalogue_version_id)
            .await?;
        // The centres whose records count: the claim's, and those a transfer brought in.
        let mut centres = BTreeSet::from([reg.centre_id]);
        for t in self.store.transfers_of_learner(c.learner_id).await? {
            if t.status == "approved"
                && t.new_registration_id == Some(reg.registration_id)
                && let Some(from) = self.store.registration(t.from_registration_id).await?
            {
                centres.insert(from.centre_id);
            }
        }
        let sigs = self.store.signatures_of_learner(c.learner_id).await?;
        let samples = self.store.samples_of_learner(c.learner_id).await?;
        let appeals = self.store.appeals(None, Some(c.learner_id)).await?;
        let mut unit_gates = Vec::new();
        for key in &units {
            let name = spec.unit(key).map_or_else(
                || key.clone(),
                |u| format!("unit {} '{}'", u.ao_ref, u.title),
            );
            let active: Vec<Signature> = sigs
                .iter()
                .filter(|s| {
                    s.unit_key == *key
                        && s.withdrawn_at.is_none()
                        && s.centre_id.is_some_and(|x| centres.contains(&x))
                })
                .map(to_signature)
                .collect();
            let mine: Vec<&crate::store::SampleRow> = samples
                .iter()
                .filter(|s| {
                    s.registration_id == reg.registration_id
                        && s.unit_key == *key
                        && s.state != "swapped"
                })
                .collect();
            let qa = if mine.iter().any(|s| s.state == "referred") {
                UnitQa::Referred
            } else if mine
                .iter()
                .any(|s| matches!(s.state.as_str(), "planned" | "open"))
            {
                UnitQa::Awaiting
            } else if mine.iter().any(|s| s.state == "agreed") {
                UnitQa::Agreed
            } else {
                UnitQa::NotSelected
            };
            unit_gates.push(UnitGate {
                unit: key.clone(),
                name,
                signed_off: portfolio::is_locked(&active),
                qa,
                open_appeal: appeals.iter().any(|a| {
                    a.registration_id == reg.registration_id
                        && a.unit_key == *key
                        && a.stage != "closed"
                }),
            });
        }
        let dcs = self
            .store
            .direct_claims(reg.centre_id)
            .await?
            .iter()
            .any(|d| d.qan == reg.qan);
        let visits = self
            .store
            .visits(Some(reg.centre_id), Some(&reg.ao_code))
            .await?;
        let satisfactory = visits
            .iter()
            .any(|v| v.outcome.as_deref() == Some("satisfactory"));
        let bad: Vec<i64> = visits
            .iter()
            .filter(|v| v.outcome.as_deref() == Some("unsatisfactory"))
            .map(|v| v.visit_id)
            .collect();
        let sanction_open_actions = self
            .store
            .actions_of_visits(&bad)
            .await?
            .iter()
            .filter(|a| a.closed_at.is_none())
            .count();
        let answer = gate(&ClaimGate {
            units: unit_gates,
            direct_claim_status: dcs,
            satisfactory_visit: satisfactory,
            sanction_open_actions,
            eqa_released,
        });
        Ok(match answer {
            GateAnswer::Released => Vec::new(),
            GateAnswer::Held(w) => w,
        })
    }

    async fn claim_view(&self, c: &ClaimRow) -> AppResult<ClaimView> {
        let certificate = if c.status == "released" {
            self.store
                .certificate_of_claim(c.claim_id)
                .await?
                .map(|r| r.number)
        } else {
            None
        };
        self.claim_view_with(c, certificate).await
    }

    /// Claims as their pages show them, their certificates' numbers read in one query.
    async fn claim_views(&self, rows: &[ClaimRow]) -> AppResult<Vec<ClaimView>> {
        let released: Vec<i64> = rows
            .iter()
            .filter(|c| c.status == "released")
            .map(|c| c.claim_id)
            .collect();
        let mut numbers = self.store.certificate_numbers_of_claims(&released).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let certificate = if r.status == "released" {
                numbers.remove(&r.claim_id)
            } else {
                None
            };
            out.push(self.claim_view_with(r, certificate).await?);
        }
        Ok(out)
    }

    async fn claim_view_with(
        &self,
        c: &ClaimRow,
        certificate: Option<String>,
    ) -> AppResult<ClaimView> {
        let (waits, releasable_by_eqa) = if c.status == "held" {
            let waits = self.gate_of(c, false).await?;
            let only_eqa =
                !waits.is_empty() && waits.iter().all(|w| matches!(w, Wait::EqaSampling));
            (waits, only_eqa)
        } else {
            (Vec::new(), false)
        };
        let mut waiting_for: Vec<String> = waits.iter().map(Wait::message).collect();
        // Held with nothing left to wait for: the gate is open but the certificate's
        // re-check failed (a result re-marked Fail, a sign-off withdrawn): say why.
        if c.status == "held"
            && waits.is_empty()
            && let Err(AppError::Validation(why)) =
                self.certificate_draft(c, None, "system:gate", None).await
        {
            waiting_for.push(format!("a certificate cannot be issued yet: {why}"));
        }
        Ok(ClaimView {
            claim: c.claim_id,
            kind: c.kind.clone(),
            certificate,
            registration: c.registration_id,
            learner: c.learner_id,
            learner_name: format!("{} {}", c.given_name, c.family_name),
            uln: c.uln.clone(),
            centre: c.centre_id,
            ao: c.ao_code.clone(),
            qan: c.qan.clone(),
            units: serde_json::from_str(&c.units)?,
            status: c.status.clone(),
            claimed_at: c.claimed_at.clone(),
            released_at: c.released_at.clone(),
            release_note: c.release_note.clone(),
            waiting_for,
            waits,
            releasable_by_eqa,
        })
    }

    /// Release every held claim at the centre whose gate has opened (called after each
    /// change that can open it, and when claims are listed). Returns how many.
    pub async fn release_open_claims(&self, centre: i64) -> AppResult<usize> {
        let mut n = 0;
        for c in self
            .store
            .claims(Some(centre))
            .await?
            .into_iter()
            .filter(|c| c.status == "held")
        {
            if self.gate_of(&c, false).await?.is_empty() {
                let draft = match self.certificate_draft(&c, None, "system:gate", None).await {
                    Ok(d) => d,
                    Err(e) => {
                        tracing::warn!(claim = c.claim_id, error = %e, "the gate opened but no certificate can be issued");
                        continue;
                    }
                };
                let entry = Self::entry(
                    Some("system:gate"),
                    None,
                    "claim.released",
                    &format!("learner {}", c.learner_id),
                    Some(c.centre_id),
                    Some(c.learner_id),
                    serde_json::json!({"claim": c.claim_id, "qan": c.qan, "by": "gate"}),
                );
                let emails = self.certificate_emails(&draft).await?;
                match self
                    .store
                    .audited(entry)
                    .queueing(emails)
                    .release_claim(
                        c.claim_id,
                        None,
                        "released: nothing held it any more",
                        Some(&draft),
                    )
                    .await
                {
                    Ok(_) => n += 1,
                    // Another server released it a moment ago.
                    Err(crate::store::StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(n)
    }

    /// After a change that can open the gate (an IQA's agreement, a visit, a grant, a
    /// sign-off): release what it opened. A failure here never undoes the change; the next
    /// listing releases it.
    pub async fn reopen_gate(&self, centre: i64) {
        if let Err(e) = self.release_open_claims(centre).await {
            tracing::warn!(centre, error = %e, "could not release claims after a change");
        }
    }

    /// The units to propose for a claim: the learner's signed-off units (also those an IQA's
    /// referral reopened: the claim then says it waits for them) that meet the qualification
    /// (a valid subset where they hold more), or all they hold of it.
    pub async fn proposed_claim_units(&self, reg: &RegistrationRow) -> AppResult<Vec<String>> {
        let spec = self
            .specification_of_version(reg.catalogue_version_id)
            .await?;
        let sigs = self.store.signatures_of_learner(reg.learner_id).await?;
        let units: BTreeSet<String> = sigs
            .iter()
            .filter(|s| s.centre_id == Some(reg.centre_id))
            .map(|s| s.unit_key.clone())
            .collect();
        let signed: Vec<String> = units
            .into_iter()
            .filter(|u| {
                let list: Vec<Signature> = sigs
                    .iter()
                    .filter(|s| s.unit_key == *u)
                    .map(to_signature)
                    .collect();
                portfolio::is_locked(&list)
            })
            .collect();
        let Some(q) = spec.programme(&reg.qan) else {
            return Ok(Vec::new());
        };
        let rc = RulesCatalogue::new(std::slice::from_ref(&*q), &spec.units);
        let claimable = rc.claimable(&signed)?;
        Ok(claimable
            .into_iter()
            .find(|c| c.qan == reg.qan)
            .map(|c| {
                if c.met {
                    c.claim_with.into_iter().map(|k| k.to_string()).collect()
                } else {
                    c.held.into_iter().map(|k| k.to_string()).collect()
                }
            })
            .unwrap_or_default())
    }

    /// Claim a learner's qualification with these units (the centre's administrator).
    /// Refused with every unmet requirement when the rules are not met; otherwise made, and
    /// released at once when nothing holds it (a centre with direct claim status).
    pub async fn make_claim(
        &self,
        actor: &Actor,
        registration: i64,
        units: &[String],
        address: &str,
    ) -> AppResult<ClaimView> {
        self.claim_of_kind(actor, registration, "qualification", units, address)
            .await
    }

    /// Bank one signed-off unit (the specifications allow results unit by unit): a unit
    /// claim, gated like any claim, that becomes a unit certificate when released.
    pub async fn bank_unit(
        &self,
        actor: &Actor,
        registration: i64,
        unit: &str,
        address: &str,
    ) -> AppResult<ClaimView> {
        self.claim_of_kind(actor, registration, "unit", &[unit.to_string()], address)
            .await
    }

    async fn claim_of_kind(
        &self,
        actor: &Actor,
        registration: i64,
        kind: &str,
        units: &[String],
        address: &str,
    ) -> AppResult<ClaimView> {
        let reg = self
            .store
            .registration(registration)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("registration {registration}")))?;
        let scope = self
            .centre_admin_scope(actor, reg.centre_id)
            .await
            .map_err(|e| match e {
                AppError::NotFound(_) => AppError::NotFound(format!("registration {registration}")),
                _ => AppError::Forbidden("Only the centre's administrators make claims".into()),
            })?;
        if reg.status != "registered" {
            return Err(AppError::Conflict(format!(
                "this registration is {}: only a current registration is claimed",
                match reg.status.as_str() {
                    "on_break" => "on a break in learning (resume it first)",
                    "withdrawn" => "withdrawn",
                    "transferred" => "transferred to another centre",
                    other => other,
                }
            )));
        }
        let spec = self
            .specification_of_version(reg.catalogue_version_id)
            .await?;
        let q = spec
            .programme(&reg.qan)
            .ok_or_else(|| AppError::NotFound(format!("qualification {}", reg.qan)))?;
        let rc = RulesCatalogue::new(std::slice::from_ref(&*q), &spec.units);
        let units: Vec<String> = if units.is_empty() {
            self.proposed_claim_units(&reg).await?
        } else {
            units.to_vec()
        };
        // A registration on a unit on its own is claimed as that unit: a unit certificate.
        let kind = if q.is_unit() { "unit" } else { kind };
        let units: Vec<String> = if q.is_unit() {
            q.units.iter().map(|u| u.unit.clone()).collect()
        } else {
            units
        };
        let mut banked: Option<String> = None;
        if kind == "unit" {
            let [typed] = units.as_slice() else {
                return Err(AppError::Validation("Bank one unit at a time".into()));
            };
            // A key, or a reference as printed (the AO's or Ofqual's).
            let t = typed.trim();
            let unit = spec
                .units
                .iter()
                .find(|u| {
                    u.key.as_str() == t
                        || u.ao_ref.eq_ignore_ascii_case(t)
                        || u.ofqual_ref
                            .as_deref()
                            .is_some_and(|r| r.eq_ignore_ascii_case(t))
                })
                .map_or_else(|| t.to_string(), |u| u.key.to_string());
            if !q.units.iter().any(|u| u.unit.as_str() == unit.as_str()) {
                return Err(AppError::Validation(format!(
                    "{t} is not a unit of {}: choose one of the learner's units",
                    reg.qan
                )));
            }
            banked = Some(unit);
        }
        let keys: Vec<String> = if let Some(unit) = banked {
            vec![unit]
        } else {
            let eval = rc.evaluate(&reg.qan, &units)?;
            if !eval.achieved {
                let mut why: Vec<String> = eval.unmet.iter().map(|u| u.message.clone()).collect();
                why.extend(
                    eval.not_counted
                        .iter()
                        .map(|n| format!("{} does not count towards {}", n.unit, reg.qan)),
                );
                return Err(AppError::Validation(format!(
                    "These units do not meet {}: {}",
                    reg.qan,
                    why.join("; ")
                )));
            }
            eval.counted.iter().map(ToString::to_string).collect()
        };
        let draft = ClaimRow {
            claim_id: 0,
            registration_id: reg.registration_id,
            learner_id: reg.learner_id,
            centre_id: reg.centre_id,
            ao_code: reg.ao_code.clone(),
            qan: reg.qan.clone(),
            units: serde_json::to_string(&keys)?,
            status: "held".into(),
            claimed_by: actor.person_id,
            claimed_at: String::new(),
            released_by: None,
            released_at: None,
            release_note: None,
            kind: kind.to_string(),
            given_name: reg.given_name.clone(),
            family_name: reg.family_name.clone(),
            uln: reg.uln.clone(),
        };
        let waits = self.gate_of(&draft, false).await?;
        let released = waits.is_empty();
        // What the certificate will say, checked now: a claim that can earn no certificate
        // (an ISMM result of Fail, a unit without marks) is refused with the reason.
        let certificate = if draft.units == "[]" {
            None
        } else {
            match self
                .certificate_draft(&draft, Some(actor.person_id), scope.who(), Some(address))
                .await
            {
                Ok(d) => Some(d),
                // Units the gate already holds for (not signed off yet) are not a refusal.
                Err(AppError::Validation(why)) if why.contains("is not signed off") => None,
                Err(e) => return Err(e),
            }
        };
        if released && certificate.is_none() {
            return Err(AppError::Validation(
                "no certificate can be issued for these units yet".into(),
            ));
        }
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "claim.made",
            &format!("learner {}", reg.learner_id),
            Some(reg.centre_id),
            Some(reg.learner_id),
            serde_json::json!({"registration": registration, "qan": reg.qan, "kind": kind, "units": keys, "released": released}),
        );
        let emails = match certificate.as_ref().filter(|_| released) {
            Some(d) => self.certificate_emails(d).await?,
            None => Vec::new(),
        };
        let id = self
            .store
            .audited(entry)
            .queueing(emails)
            .insert_claim(
                &reg,
                &draft.kind,
                &keys,
                actor.person_id,
                released,
                certificate.as_ref(),
            )
            .await?
            .0;
        let row = self
            .store
            .claim(id)
            .await?
            .ok_or_else(|| AppError::Internal("the claim just made is missing".into()))?;
        self.claim_view(&row).await
    }

    /// Claims the actor may see: a centre's (its staff; an EQA or AO staff only their AO's),
    /// or with no centre every centre they oversee. Held claims whose gate opened are
    /// released first.
    /// A centre's claims, newest first; or, without a centre, the newest
    /// [`CLAIMS_WITHOUT_CENTRE`] claims the person sees.
    pub async fn claims(&self, actor: &Actor, centre: Option<i64>) -> AppResult<Vec<ClaimView>> {
        self.claims_range(actor, centre, 0, None).await
    }

    /// The claims the actor sees (see the API's `/api/v1/claims`), newest first: `limit` of
    /// them (None: all) after leaving out `offset`. Each claim's waits are worked out for
    /// those returned only.
    pub async fn claims_range(
        &self,
        actor: &Actor,
        centre: Option<i64>,
        offset: i64,
        limit: Option<i64>,
    ) -> AppResult<Vec<ClaimView>> {
        let rows = match centre {
            Some(c) => {
                let scope = self.qa_scope(actor, c).await?;
                self.release_open_claims(c).await?;
                self.store
                    .claims(Some(c))
                    .await?
                    .into_iter()
                    .filter(|r| scope.sees_ao(&r.ao_code))
                    .collect::<Vec<_>>()
            }
            None => {
                let aos = actor.ao_codes();
                let staff_centres: BTreeSet<i64> = actor
                    .grants
                    .iter()
                    .filter(|g| matches!(g.role.as_str(), "centre_admin" | "iqa"))
                    .filter_map(|g| g.centre_id)
                    .collect();
                self.store
                    .claims_seen_by(
                        &aos,
                        &staff_centres.iter().copied().collect::<Vec<_>>(),
                        &actor.eqa_centres,
                        CLAIMS_WITHOUT_CENTRE,
                    )
                    .await?
                    .into_iter()
                    .filter(|r| {
                        aos.contains(&r.ao_code.as_str())
                            || staff_centres.contains(&r.centre_id)
                            || actor
                                .eqa_centres
                                .iter()
                                .any(|(c, a)| *c == r.centre_id && *a == r.ao_code)
                    })
                    .collect()
            }
        };
        let from = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(rows.len());
        let to = match limit {
            Some(l) => from
                .saturating_add(usize::try_from(l).unwrap_or(0))
                .min(rows.len()),
            None => rows.len(),
        };
        self.claim_views(&rows[from..to]).await
    }

    /// One page (from 1; past the last: the last) of a centre's claims the actor sees,
    /// newest first, those with `status` where given: each claim's waits are worked out for
    /// the page's claims only (a large centre has thousands).
    pub async fn centre_claims_page(
        &self,
        actor: &Actor,
        centre: i64,
        status: &str,
        page: u32,
        per_page: u32,
    ) -> AppResult<ClaimsPage> {
        let scope = self.qa_scope(actor, centre).await?;
        self.release_open_claims(centre).await?;
        let rows: Vec<ClaimRow> = self
            .store
            .claims(Some(centre))
            .await?
            .into_iter()
            .filter(|r| scope.sees_ao(&r.ao_code))
            .collect();
        let count = |s: &str| rows.iter().filter(|c| c.status == s).count();
        let counts = (count("held"), count("released"), count("withdrawn"));
        let claimed_registrations = rows
            .iter()
            .filter(|c| c.status != "withdrawn" && c.kind == "qualification")
            .map(|c| c.registration_id)
            .collect();
        let shown: Vec<ClaimRow> = rows
            .into_iter()
            .filter(|c| status.is_empty() || c.status == status)
            .collect();
        let per = usize::try_from(per_page.max(1)).unwrap_or(1);
        let pages = u32::try_from(shown.len().div_ceil(per).max(1)).unwrap_or(u32::MAX);
        let page = page.clamp(1, pages);
        let first = usize::try_from(page - 1).unwrap_or(0) * per;
        let slice = &shown[first.min(shown.len())..(first + per).min(shown.len())];
        Ok(ClaimsPage {
            views: self.claim_views(slice).await?,
            counts,
            total: shown.len(),
            first: first + 1,
            page,
            pages,
            claimed_registrations,
        })
    }

    /// Every claim, for the operator's command line (optionally one centre's).
    pub async fn claims_for_operator(
        &self,
        _operator: &crate::app::authz::Operator,
        centre: Option<i64>,
    ) -> AppResult<Vec<ClaimView>> {
        if let Some(c) = centre {
            self.release_open_claims(c).await?;
        }
        self.claim_views(&self.store.claims(centre).await?).await
    }

    /// An EQA samples a held claim and releases it (only when the EQA's sampling is all it
    /// waits for).
    pub async fn eqa_release_claim(
        &self,
        actor: &Actor,
        claim: i64,
        note: &str,
        address: &str,
    ) -> AppResult<()> {
        let c = self
            .store
            .claim(claim)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("claim {claim}")))?;
        let scope = self
            .qa_scope(actor, c.centre_id)
            .await
            .map_err(|_| AppError::NotFound(format!("claim {claim}")))?;
        if !scope.sees_ao(&c.ao_code) {
            return Err(AppError::NotFound(format!("claim {claim}")));
        }
        scope.require_eqa_for(&c.ao_code)?;
        let interests = self.interests_about(c.learner_id).await?;
        credence_domain::people::conflict::may_act(
            &actor.person_id.to_string(),
            &c.learner_id.to_string(),
            credence_domain::people::conflict::Activity::ExternalQualityAssure,
            &interests,
        )
        .map_err(|e| AppError::Forbidden(e.to_string()))?;
        if c.status != "held" {
            return Err(AppError::Conflict(format!(
                "this claim is {} already",
                c.status
            )));
        }
        let waits = self.gate_of(&c, true).await?;
        if !waits.is_empty() {
            return Err(AppError::Conflict(format!(
                "this claim cannot be released yet: {}",
                waits
                    .iter()
                    .map(Wait::message)
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        let note = bounded("The note", note, 4000)?;
        let draft = self
            .certificate_draft(&c, Some(actor.person_id), scope.who(), Some(address))
            .await
            .map_err(|e| match e {
                AppError::Validation(why) => {
                    AppError::Conflict(format!("no certificate can be issued: {why}"))
                }
                other => other,
            })?;
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "claim.released",
            &format!("learner {}", c.learner_id),
            Some(c.centre_id),
            Some(c.learner_id),
            serde_json::json!({"claim": claim, "qan": c.qan, "by": "eqa"}),
        );
        let text = if note.is_empty() {
            "sampled and released by the EQA".to_string()
        } else {
            format!("sampled and released by the EQA: {note}")
        };
        let emails = self.certificate_emails(&draft).await?;
        self.store
            .audited(entry)
            .queueing(emails)
            .release_claim(claim, Some(actor.person_id), &text, Some(&draft))
            .await?;
        Ok(())
    }

    // --- appeals ------------------------------------------------------------------------

    /// A learner appeals an assessment decision on a unit (optionally one criterion).
    pub async fn open_appeal(
        &self,
        actor: &Actor,
        registration: i64,
        unit: &str,
        criterion: Option<&str>,
        grounds: &str,
        address: &str,
    ) -> AppResult<i64> {
        let reg = self
            .store
            .registration(registration)
            .await?
            .filter(|r| actor.learner_ids().contains(&r.learner_id))
            .ok_or_else(|| AppError::NotFound(format!("registration {registration}")))?;
        let judged = self
            .store
            .judgements_of_learner(reg.learner_id)
            .await?
            .iter()
            .any(|j| j.unit_key == unit && criterion.is_none_or(|c| j.criterion == c));
        if !judged {
            return Err(AppError::Validation(
                "There is no assessment decision on that to appeal against".into(),
            ));
        }
        let grounds = bounded("The grounds", grounds, 8000)?;
        if grounds.is_empty() {
            return Err(AppError::Validation(
                "Say why you think the decision is wrong".into(),
            ));
        }
        let entry = Self::learner_entry(
            actor,
            address,
            "appeal.opened",
            reg.learner_id,
            Some(reg.centre_id),
            serde_json::json!({"registration": registration, "unit": unit, "criterion": criterion}),
        );
        Ok(self
            .store
            .audited(entry)
            .open_appeal(
                reg.learner_id,
                registration,
                reg.centre_id,
                unit,
                criterion,
                &grounds,
                actor.person_id,
            )
            .await?)
    }

    /// Appeals the actor may see: the learner's own, a centre's (its staff), or with the
    /// AO (its staff).
    pub async fn appeals(&self, actor: &Actor) -> AppResult<Vec<AppealRow>> {
        let mut out: Vec<AppealRow> = Vec::new();
        for l in actor.learner_ids() {
            out.extend(self.store.appeals(None, Some(l)).await?);
        }
        let centres: BTreeSet<i64> = actor
            .grants
            .iter()
            .filter(|g| matches!(g.role.as_str(), "centre_admin" | "iqa" | "assessor"))
            .filter_map(|g| g.centre_id)
            .collect();
        for c in centres {
            out.extend(self.store.appeals(Some(c), None).await?);
        }
        let aos = actor.ao_codes();
        if !aos.is_empty() {
            for a in self.store.appeals(None, None).await? {
                if (a.stage == "ao" || a.ao_decided_at.is_some())
                    && let Some(r) = self.store.registration(a.registration_id).await?
                    && aos.contains(&r.ao_code.as_str())
                {
                    out.push(a);
                }
            }
        }
        out.sort_by_key(|a| std::cmp::Reverse(a.appeal_id));
        out.dedup_by_key(|a| a.appeal_id);
        Ok(out)
    }

    /// The centre reviews an appeal: someone on its staff other than the assessor whose
    /// decision it is.
    pub async fn review_appeal(
        &self,
        actor: &Actor,
        appeal: i64,
        upheld: bool,
        reason: &str,
        address: &str,
    ) -> AppResult<()> {
        let a = self
            .store
            .appeal(appeal)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("appeal {appeal}")))?;
        let roles = actor.centre_roles(a.centre_id);
        if !roles
            .iter()
            .any(|r| matches!(*r, "centre_admin" | "iqa" | "assessor"))
        {
            return Err(AppError::NotFound(format!("appeal {appeal}")));
        }
        let assessed = self
            .store
            .judgements_of_learner(a.learner_id)
            .await?
            .iter()
            .any(|j| {
                j.unit_key == a.unit_key
                    && j.assessor_id == actor.person_id
                    && a.criterion.as_ref().is_none_or(|c| *c == j.criterion)
            });
        if assessed {
            return Err(AppError::Forbidden(
                "You made the decision appealed against: someone else at the centre reviews it"
                    .into(),
            ));
        }
        let reason = bounded("The reason", reason, 8000)?;
        if reason.is_empty() {
            return Err(AppError::Validation(
                "Give the reason for the outcome".into(),
            ));
        }
        let entry = Self::learner_entry(
            actor,
            address,
            "appeal.reviewed",
            a.learner_id,
            Some(a.centre_id),
            serde_json::json!({"appeal": appeal, "upheld": upheld}),
        );
        self.store
            .audited(entry)
            .review_appeal_at_centre(
                appeal,
                actor.person_id,
                if upheld { "upheld" } else { "not_upheld" },
                &reason,
            )
            .await?;
        self.reopen_gate(a.centre_id).await;
        Ok(())
    }

    /// The learner takes a reviewed appeal to the awarding organisation.
    pub async fn escalate_appeal(
        &self,
        actor: &Actor,
        appeal: i64,
        address: &str,
    ) -> AppResult<()> {
        let a = self
            .store
            .appeal(appeal)
            .await?
            .filter(|a| actor.learner_ids().contains(&a.learner_id))
            .ok_or_else(|| AppError::NotFound(format!("appeal {appeal}")))?;
        let entry = Self::learner_entry(
            actor,
            address,
            "appeal.escalated",
            a.learner_id,
            Some(a.centre_id),
            serde_json::json!({"appeal": appeal}),
        );
        self.store.audited(entry).escalate_appeal(appeal).await?;
        Ok(())
    }

    /// The awarding organisation decides an appeal taken to it (its staff).
    pub async fn decide_appeal(
        &self,
        actor: &Actor,
        appeal: i64,
        upheld: bool,
        reason: &str,
        address: &str,
    ) -> AppResult<()> {
        let a = self
            .store
            .appeal(appeal)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("appeal {appeal}")))?;
        let reg = self
            .store
            .registration(a.registration_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("appeal {appeal}")))?;
        let scope = self
            .ao_scope(actor, &reg.ao_code)
            .map_err(|_| AppError::NotFound(format!("appeal {appeal}")))?;
        let reason = bounded("The reason", reason, 8000)?;
        if reason.is_empty() {
            return Err(AppError::Validation(
                "Give the reason for the outcome".into(),
            ));
        }
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "appeal.decided",
            &format!("learner {}", a.learner_id),
            Some(a.centre_id),
            Some(a.learner_id),
            serde_json::json!({"appeal": appeal, "upheld": upheld}),
        );
        self.store
            .audited(entry)
            .decide_appeal_at_ao(
                appeal,
                actor.person_id,
                if upheld { "upheld" } else { "not_upheld" },
                &reason,
            )
            .await?;
        self.reopen_gate(a.centre_id).await;
        Ok(())
    }
}

/// Whether a scope is the centre's own staff (not the AO's oversight).
pub fn is_centre_staff(role: &QaRole) -> bool {
    matches!(role, QaRole::Iqa { .. } | QaRole::CentreAdmin)
}
