//! Who may see and do what: the one module that decides, and the scope values it alone can
//! build. A use case that reads or changes a learner's records takes a [`LearnerScope`]; the
//! fields are private, so the only way to have one is to ask [`App::learner_scope`], which
//! decides from the signed-in actor and the record's owner. The web's route table is a first
//! gate; this is what guarantees.
//!
//! The rules:
//! - a learner sees all their own registrations and records;
//! - a centre's staff see the registrations at their centre, and the records made there (plus
//!   what a transfer, approved by the AO, brought in);
//! - an awarding organisation's staff see registrations on their own AO's qualifications, at
//!   any centre; an EQA, those on their AO's qualifications at the centres they are
//!   appointed to;
//! - a centre the learner has left keeps its view up to the day of the transfer.

use super::people::Actor;
use super::{App, AppError, AppResult};
use crate::store::{RegistrationRow, TransferRow};
use std::collections::BTreeSet;

/// What an actor may see of one learner: the registrations, the centres whose records they
/// see, and the moment the view ends (a centre the learner left). Built only by
/// [`App::learner_scope`].
#[derive(Debug, Clone)]
pub struct LearnerScope {
    learner_id: i64,
    person_id: i64,
    as_learner: bool,
    registrations: Vec<RegistrationRow>,
    centres: BTreeSet<i64>,
    until: Option<String>,
}

impl LearnerScope {
    pub fn learner_id(&self) -> i64 {
        self.learner_id
    }
    /// The person the scope was built for.
    pub fn person_id(&self) -> i64 {
        self.person_id
    }
    /// The actor is this learner.
    pub fn as_learner(&self) -> bool {
        self.as_learner
    }
    /// The registrations seen, current ones (or the old centre's, when the view ends).
    pub fn registrations(&self) -> &[RegistrationRow] {
        &self.registrations
    }
    /// Records made at these centres are seen.
    pub fn sees_centre(&self, centre_id: i64) -> bool {
        self.centres.contains(&centre_id)
    }
    pub fn centres(&self) -> &BTreeSet<i64> {
        &self.centres
    }
    /// Where the view ends: the transfer's time, for a centre the learner has left.
    pub fn until(&self) -> Option<&str> {
        self.until.as_deref()
    }
}

/// Whether the actor may see a registration's records: the learner, the staff of its centre,
/// its AO's staff, or an EQA of its AO appointed to its centre.
pub fn sees_registration(actor: &Actor, r: &RegistrationRow) -> bool {
    actor.learner_ids().contains(&r.learner_id)
        || actor
            .centre_roles(r.centre_id)
            .iter()
            .any(|role| *role != "learner")
        || oversees_registration(actor, r)
}

/// The awarding organisation's oversight of a registration: its staff, or its EQA appointed
/// to the centre. Moderation of marks is theirs; nobody else's.
pub fn oversees_registration(actor: &Actor, r: &RegistrationRow) -> bool {
    actor.ao_codes().contains(&r.ao_code.as_str())
        || actor
            .eqa_centres
            .iter()
            .any(|(c, ao)| *c == r.centre_id && *ao == r.ao_code)
}

/// The centres whose records reach `reg` through approved transfers (its own included).
fn centres_reaching(
    reg: &RegistrationRow,
    all: &[RegistrationRow],
    transfers: &[TransferRow],
) -> BTreeSet<i64> {
    let mut centres = BTreeSet::from([reg.centre_id]);
    let mut frontier = vec![reg.registration_id];
    let mut seen = BTreeSet::new();
    while let Some(id) = frontier.pop() {
        if !seen.insert(id) {
            continue;
        }
        for t in transfers
            .iter()
            .filter(|t| t.status == "approved" && t.new_registration_id == Some(id))
        {
            if let Some(from) = all
                .iter()
                .find(|r| r.registration_id == t.from_registration_id)
            {
                centres.insert(from.centre_id);
                frontier.push(from.registration_id);
            }
        }
    }
    centres
}

impl App {
    /// What `actor` may see of the learner, or NotFound (the same answer as for a learner
    /// who does not exist, so nothing leaks).
    pub async fn learner_scope(&self, actor: &Actor, learner_id: i64) -> AppResult<LearnerScope> {
        let regs = self.store.registrations_of_learner(learner_id).await?;
        let transfers = self.store.transfers_of_learner(learner_id).await?;
        scope_of(actor, learner_id, regs, &transfers)
            .ok_or_else(|| AppError::NotFound(format!("learner {learner_id}")))
    }
}

/// The scope, decided from the learner's registrations and transfers (pure, so the property
/// test can throw random registrations at it).
pub fn scope_of(
    actor: &Actor,
    learner_id: i64,
    regs: Vec<RegistrationRow>,
    transfers: &[TransferRow],
) -> Option<LearnerScope> {
    let active: Vec<RegistrationRow> = regs
        .iter()
        .filter(|r| r.status != "transferred")
        .cloned()
        .collect();
    if actor.learner_ids().contains(&learner_id) {
        let centres = regs.iter().map(|r| r.centre_id).collect();
        return Some(LearnerScope {
            learner_id,
            person_id: actor.person_id,
            as_learner: true,
            registrations: active,
            centres,
            until: None,
        });
    }
    let seen: Vec<RegistrationRow> = active
        .iter()
        .filter(|r| sees_registration(actor, r))
        .cloned()
        .collect();
    if !seen.is_empty() {
        let mut centres = BTreeSet::new();
        for r in &seen {
            centres.extend(centres_reaching(r, &regs, transfers));
        }
        return Some(LearnerScope {
            learner_id,
            person_id: actor.person_id,
            as_learner: false,
            registrations: seen,
            centres,
            until: None,
        });
    }
    // Only through a centre the learner has left: that centre's record, up to the day.
    let mut old = Vec::new();
    let mut centres = BTreeSet::new();
    let mut until: Option<String> = None;
    for r in regs
        .iter()
        .filter(|r| r.status == "transferred" && sees_registration(actor, r))
    {
        old.push(r.clone());
        centres.extend(centres_reaching(r, &regs, transfers));
        let at = transfers
            .iter()
            .filter(|t| t.from_registration_id == r.registration_id)
            .filter_map(|t| t.decided_at.clone())
            .max();
        until = until.max(at);
    }
    if old.is_empty() {
        return None;
    }
    Some(LearnerScope {
        learner_id,
        person_id: actor.person_id,
        as_learner: false,
        registrations: old,
        centres,
        until,
    })
}

/// Who may choose the units of one registration (its learning plan): the learner, the
/// centre's administrators, or an assessor assigned to the registration. Built only by
/// [`App::plan_scope`].
#[derive(Debug, Clone)]
pub struct PlanScope {
    registration: RegistrationRow,
    who: String,
}

impl PlanScope {
    pub fn registration(&self) -> &RegistrationRow {
        &self.registration
    }
    /// The actor, as the audit log names them.
    pub fn who(&self) -> &str {
        &self.who
    }
}

impl App {
    /// The right to choose the learner's units on `qan`, or: NotFound for someone who may not
    /// see the learner's registration, Forbidden (saying who may) for staff who see it.
    pub async fn plan_scope(
        &self,
        actor: &Actor,
        learner_id: i64,
        qan: &str,
    ) -> AppResult<PlanScope> {
        let regs = self.store.registrations_of_learner(learner_id).await?;
        let Some(reg) = regs
            .into_iter()
            .find(|r| r.qan == qan.trim() && r.status != "transferred")
        else {
            return Err(AppError::NotFound(format!(
                "the learner's registration on {}",
                qan.trim()
            )));
        };
        if !sees_registration(actor, &reg) {
            return Err(AppError::NotFound(format!(
                "the learner's registration on {}",
                qan.trim()
            )));
        }
        let roles = actor.centre_roles(reg.centre_id);
        let assigned = roles.contains(&"assessor")
            && self
                .store
                .assignments(reg.registration_id)
                .await?
                .iter()
                .any(|a| a.person_id == actor.person_id && a.role == "assessor");
        if actor.learner_ids().contains(&learner_id) || roles.contains(&"centre_admin") || assigned
        {
            return Ok(PlanScope {
                registration: reg,
                who: super::audit::person_ref(actor.person_id),
            });
        }
        Err(AppError::Forbidden(
            "Only the learner, their assessor or the centre's administrators choose the learner's units".into(),
        ))
    }
}

/// Who is changing the catalogue: an awarding organisation's staff (their own AOs'
/// specifications only, publication always a separate step), or the operator at the command
/// line (any specification; may import and publish at once). Built only by
/// [`App::catalogue_scope`] and [`CatalogueScope::operator`].
#[derive(Debug, Clone)]
pub struct CatalogueScope {
    /// As the audit log names them.
    who: String,
    /// `None` for the operator.
    aos: Option<Vec<String>>,
    /// The sign-in passed a second factor (the operator's command line counts as one).
    second_factor: bool,
}

impl CatalogueScope {
    /// The operator's scope: for command-line entry points and the shipped specifications'
    /// seeding only, never for a request. `by` names the person (or system) for the log.
    pub fn operator(by: &str) -> CatalogueScope {
        CatalogueScope {
            who: by.to_string(),
            aos: None,
            second_factor: true,
        }
    }

    /// Changing the catalogue needs a second factor.
    pub fn require_second_factor(&self) -> AppResult<()> {
        if self.second_factor {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Changing the catalogue needs a second factor: set up an authenticator app on your account page (/account/second-factor), then sign out and sign in again with a code".into(),
            ))
        }
    }
    pub fn who(&self) -> &str {
        &self.who
    }
    pub fn is_operator(&self) -> bool {
        self.aos.is_none()
    }
    /// The one AO a staff member's scope covers, if it covers exactly one (not the
    /// operator's): what a foreign CASE package is filed under when they import it.
    pub fn only_ao(&self) -> Option<&str> {
        match self.aos.as_deref() {
            Some([one]) => Some(one.as_str()),
            _ => None,
        }
    }
    /// Whether the scope covers an AO's catalogue.
    pub fn covers(&self, ao_code: &str) -> bool {
        self.aos
            .as_ref()
            .is_none_or(|aos| aos.iter().any(|a| a == ao_code))
    }
}

impl App {
    /// An AO staff member's catalogue scope (their own AOs).
    pub fn catalogue_scope(&self, actor: &Actor) -> AppResult<CatalogueScope> {
        let aos: Vec<String> = actor.ao_codes().into_iter().map(str::to_string).collect();
        if aos.is_empty() {
            return Err(AppError::Forbidden(
                "Only an awarding organisation's staff change its catalogue".into(),
            ));
        }
        Ok(CatalogueScope {
            who: super::audit::person_ref(actor.person_id),
            aos: Some(aos),
            second_factor: actor.second_factor,
        })
    }
}

/// An awarding organisation's own business (approving centres, direct claim status,
/// appointing EQAs, grade boundaries, deciding transfers): its staff only. Built only by
/// [`App::ao_scope`].
#[derive(Debug, Clone)]
pub struct AoScope {
    ao_code: String,
    who: String,
    person_id: i64,
    second_factor: bool,
}

impl AoScope {
    pub fn ao_code(&self) -> &str {
        &self.ao_code
    }
    /// As the audit log names them.
    pub fn who(&self) -> &str {
        &self.who
    }
    pub fn person_id(&self) -> i64 {
        self.person_id
    }
    /// Actions that publish, certify or decide need a second factor.
    pub fn require_second_factor(&self) -> AppResult<()> {
        if self.second_factor {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "This needs a second factor: set up an authenticator app on your account page (/account/second-factor), then sign out and sign in again with a code".into(),
            ))
        }
    }
}

impl App {
    /// The actor's scope over `ao`'s business, if they are its staff.
    pub fn ao_scope(&self, actor: &Actor, ao: &str) -> AppResult<AoScope> {
        if !actor.ao_codes().contains(&ao) {
            return Err(AppError::Forbidden(format!(
                "Only {ao}'s staff may do this"
            )));
        }
        Ok(AoScope {
            ao_code: ao.to_string(),
            who: super::audit::person_ref(actor.person_id),
            person_id: actor.person_id,
            second_factor: actor.second_factor,
        })
    }

    /// The actor's scope over their first AO's business (adding centres, appointing EQAs).
    pub fn own_ao_scope(&self, actor: &Actor) -> AppResult<AoScope> {
        let ao = actor
            .ao_codes()
            .first()
            .map(|s| s.to_string())
            .ok_or_else(|| {
                AppError::Validation("Only awarding organisation staff do this".into())
            })?;
        self.ao_scope(actor, &ao)
    }
}

/// A centre's administration (registering learners): its administrators, or the operator.
/// Built only by [`App::centre_admin_scope`] and [`Operator::centre`].
#[derive(Debug, Clone)]
pub struct CentreScope {
    centre_id: i64,
    who: String,
}

impl CentreScope {
    pub fn centre_id(&self) -> i64 {
        self.centre_id
    }
    /// As the audit log names them.
    pub fn who(&self) -> &str {
        &self.who
    }
}

/// The operator at the command line: an audited scope only command-line entry points
/// obtain ([`App::operator`]), naming an existing person (`--by`) for the log.
#[derive(Debug, Clone)]
pub struct Operator {
    who: String,
}

impl Operator {
    /// As the audit log names them: `operator:ID`, or `operator` when nobody was named.
    pub fn who(&self) -> &str {
        &self.who
    }
    pub fn centre(&self, centre_id: i64) -> CentreScope {
        CentreScope {
            centre_id,
            who: self.who.clone(),
        }
    }
    pub fn catalogue(&self) -> CatalogueScope {
        CatalogueScope::operator(&self.who)
    }
    /// Records retention everywhere: what falls due, the disposal run, legal holds.
    pub fn records(&self) -> RecordsScope {
        RecordsScope {
            who: self.who.clone(),
            centres: None,
            ao: None,
            may_hold: true,
        }
    }
    /// The scheduled retention run, named in the log by its job.
    pub(super) fn for_job(job_id: i64) -> Operator {
        Operator {
            who: format!("job:{job_id}"),
        }
    }
    /// A centre's quality assurance, read as its administrator would (plans, claims).
    pub fn quality(&self, centre_id: i64) -> QaScope {
        QaScope {
            centre_id,
            person_id: 0,
            who: self.who.clone(),
            role: QaRole::CentreAdmin,
        }
    }
}

impl App {
    /// The operator's scope, for command-line entry points only. `by` is the email of an
    /// existing person, named in the log for what the operator does.
    pub async fn operator(&self, by: Option<&str>) -> AppResult<Operator> {
        let who = match by {
            None => "operator".to_string(),
            Some(email) => {
                let p = self
                    .store
                    .person_by_email(&email.trim().to_lowercase())
                    .await?
                    .ok_or_else(|| {
                        AppError::Validation(format!(
                            "--by names {email}, who is not a person here: give the email of an existing person (see `credence user add`)"
                        ))
                    })?;
                format!("operator:{}", p.person_id)
            }
        };
        Ok(Operator { who })
    }

    /// A centre administrator's scope over their centre; others who know the centre are
    /// refused with who may, the rest get NotFound.
    pub async fn centre_admin_scope(
        &self,
        actor: &Actor,
        centre_id: i64,
    ) -> AppResult<CentreScope> {
        let roles = actor.centre_roles(centre_id);
        if roles.contains(&"centre_admin") {
            return Ok(CentreScope {
                centre_id,
                who: super::audit::person_ref(actor.person_id),
            });
        }
        if roles.is_empty() {
            Err(AppError::NotFound(format!("centre {centre_id}")))
        } else {
            Err(AppError::Forbidden(
                "Only the centre's administrators register learners".into(),
            ))
        }
    }
}

/// Records retention: whose records one may see falling due (and held), and whether one may
/// place and lift legal holds. AO staff see the centres approved for their AO's
/// qualifications and hold records there; a centre's staff and its appointed EQA see that
/// centre's (the records are kept available to the EQA); the operator sees everything. Built only by [`App::records_scope`] and
/// [`Operator::records`].
#[derive(Debug, Clone)]
pub struct RecordsScope {
    who: String,
    /// `None`: every centre.
    centres: Option<Vec<i64>>,
    ao: Option<String>,
    may_hold: bool,
}

impl RecordsScope {
    /// As the audit log names them.
    pub fn who(&self) -> &str {
        &self.who
    }
    /// The centres covered (`None`: every centre).
    pub fn centres(&self) -> Option<&[i64]> {
        self.centres.as_deref()
    }
    pub fn covers_centre(&self, centre_id: i64) -> bool {
        self.centres.as_ref().is_none_or(|c| c.contains(&centre_id))
    }
    /// The AO whose staff this is, for AO staff.
    pub fn ao(&self) -> Option<&str> {
        self.ao.as_deref()
    }
    /// May place and lift legal holds (AO staff, the operator).
    pub fn may_hold(&self) -> bool {
        self.may_hold
    }
    pub fn require_hold(&self) -> AppResult<()> {
        if self.may_hold {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Only the awarding organisation's staff place and lift legal holds: ask them, with the reason".into(),
            ))
        }
    }
}

impl App {
    /// The actor's records scope: over one centre (its staff, its EQA, or staff of an AO
    /// that approves it), or, with `centre` None, over every centre their AO approves (AO
    /// staff), or the centres where they are staff or EQA (anyone else; none for a learner).
    pub async fn records_scope(
        &self,
        actor: &Actor,
        centre: Option<i64>,
    ) -> AppResult<RecordsScope> {
        let who = super::audit::person_ref(actor.person_id);
        let mut ao_centres: Vec<i64> = Vec::new();
        let ao = actor.ao_codes().first().map(|s| s.to_string());
        for code in actor.ao_codes() {
            ao_centres.extend(self.store.centres_of_ao(code).await?);
        }
        ao_centres.sort_unstable();
        ao_centres.dedup();
        match centre {
            None if ao.is_some() => Ok(RecordsScope {
                who,
                centres: Some(ao_centres),
                ao,
                may_hold: true,
            }),
            // Others: the centres where they are staff, or appointed EQA (none: nothing).
            None => {
                let mut centres: Vec<i64> = actor
                    .grants
                    .iter()
                    .filter(|g| g.role != "learner")
                    .filter_map(|g| g.centre_id)
                    .collect();
                centres.extend(
                    self.store
                        .eqa_centres(actor.person_id)
                        .await?
                        .into_iter()
                        .map(|(c, _)| c),
                );
                centres.sort_unstable();
                centres.dedup();
                Ok(RecordsScope {
                    who,
                    centres: Some(centres),
                    ao: None,
                    may_hold: false,
                })
            }
            Some(c) if ao_centres.contains(&c) => Ok(RecordsScope {
                who,
                centres: Some(vec![c]),
                ao,
                may_hold: true,
            }),
            Some(c) => {
                let roles = actor.centre_roles(c);
                let staff = roles.iter().any(|r| *r != "learner");
                let eqa = self
                    .store
                    .eqa_centres(actor.person_id)
                    .await?
                    .iter()
                    .any(|(id, _)| *id == c);
                if staff || eqa {
                    Ok(RecordsScope {
                        who,
                        centres: Some(vec![c]),
                        ao: None,
                        may_hold: false,
                    })
                } else if roles.is_empty() {
                    Err(AppError::NotFound(format!("centre {c}")))
                } else {
                    Err(AppError::Forbidden(
                        "The centre's staff, its EQA and its awarding organisations' staff see what records fall due".into(),
                    ))
                }
            }
        }
    }
}

/// A centre's assessment practice: the readings of the specifications it records for its
/// own learners (how many occasions are "sufficient", issue 17). Its staff, an EQA appointed
/// to it and staff of an AO it works with read it; its administrators and its lead IQA set
/// it. Built only by [`App::practice_scope`].
#[derive(Debug, Clone)]
pub struct PracticeScope {
    centre_id: i64,
    person_id: i64,
    who: String,
    may_set: bool,
}

impl PracticeScope {
    pub fn centre_id(&self) -> i64 {
        self.centre_id
    }
    pub fn person_id(&self) -> i64 {
        self.person_id
    }
    /// As the audit log names them.
    pub fn who(&self) -> &str {
        &self.who
    }
    /// The centre's administrators and its lead IQA set the centre's practice.
    pub fn may_set(&self) -> bool {
        self.may_set
    }
    /// Refuse, saying who may, unless this person sets the centre's practice.
    pub fn require_set(&self) -> AppResult<()> {
        if self.may_set {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Only the centre's administrators or its lead IQA set the number of occasions: the centre administrator makes an IQA lead on the centre's page".into(),
            ))
        }
    }
}

impl App {
    /// The actor's part in a centre's assessment practice: its staff (the administrators and
    /// the lead IQA may set it), an EQA appointed to it, or staff of an AO it works with read
    /// it. Its learners are refused; anyone else gets NotFound.
    pub async fn practice_scope(&self, actor: &Actor, centre_id: i64) -> AppResult<PracticeScope> {
        let roles = actor.centre_roles(centre_id);
        let make = |may_set| PracticeScope {
            centre_id,
            person_id: actor.person_id,
            who: super::audit::person_ref(actor.person_id),
            may_set,
        };
        let lead = roles.contains(&"iqa")
            && self
                .store
                .lead_iqas(centre_id)
                .await?
                .contains(&actor.person_id);
        if roles.contains(&"centre_admin") || lead {
            return Ok(make(true));
        }
        if roles.iter().any(|r| *r != "learner")
            || actor.eqa_centres.iter().any(|(c, _)| *c == centre_id)
        {
            return Ok(make(false));
        }
        let approved: BTreeSet<String> = self
            .store
            .centre_aos(centre_id)
            .await?
            .into_iter()
            .map(|a| a.ao_code)
            .collect();
        if actor.ao_codes().iter().any(|a| approved.contains(*a)) {
            return Ok(make(false));
        }
        if roles.is_empty() {
            Err(AppError::NotFound(format!("centre {centre_id}")))
        } else {
            Err(AppError::Forbidden(
                "A centre's assessment practice is for its staff, its EQAs and its awarding organisations".into(),
            ))
        }
    }
}

/// How someone takes part in a centre's quality assurance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QaRole {
    /// An IQA at the centre; the lead IQA sets the sampling strategy.
    Iqa { lead: bool },
    /// The centre's administrator: sees the plan, answers EQA actions, makes claims.
    CentreAdmin,
    /// An EQA appointed to the centre by these AOs: sees only their qualifications.
    Eqa { aos: Vec<String> },
    /// Staff of these AOs, with which the centre is approved.
    AoStaff { aos: Vec<String> },
}

/// A centre's quality assurance as one person may take part in it. Built only by
/// [`App::qa_scope`].
#[derive(Debug, Clone)]
pub struct QaScope {
    centre_id: i64,
    person_id: i64,
    who: String,
    role: QaRole,
}

impl QaScope {
    pub fn centre_id(&self) -> i64 {
        self.centre_id
    }
    pub fn person_id(&self) -> i64 {
        self.person_id
    }
    /// As the audit log names them.
    pub fn who(&self) -> &str {
        &self.who
    }
    pub fn role(&self) -> &QaRole {
        &self.role
    }
    pub fn is_iqa(&self) -> bool {
        matches!(self.role, QaRole::Iqa { .. })
    }
    pub fn is_lead_iqa(&self) -> bool {
        matches!(self.role, QaRole::Iqa { lead: true })
    }
    /// The AOs whose qualifications this person sees here (`None`: all, for centre staff).
    pub fn aos(&self) -> Option<&[String]> {
        match &self.role {
            QaRole::Eqa { aos } | QaRole::AoStaff { aos } => Some(aos),
            _ => None,
        }
    }
    /// Whether a registration of this AO is within the scope.
    pub fn sees_ao(&self, ao: &str) -> bool {
        self.aos().is_none_or(|aos| aos.iter().any(|a| a == ao))
    }
    /// Refuse unless an IQA at the centre.
    pub fn require_iqa(&self) -> AppResult<()> {
        if self.is_iqa() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Only an IQA at this centre may do this".into(),
            ))
        }
    }
    /// Refuse unless an EQA appointed here for `ao`.
    pub fn require_eqa_for(&self, ao: &str) -> AppResult<()> {
        match &self.role {
            QaRole::Eqa { aos } if aos.iter().any(|a| a == ao) => Ok(()),
            _ => Err(AppError::Forbidden(format!(
                "Only an EQA of {ao} appointed to this centre may do this"
            ))),
        }
    }
}

impl App {
    /// The actor's part in a centre's quality assurance: IQA (lead or not), centre
    /// administrator, an EQA appointed to it, or staff of an AO that approved it. Anyone else
    /// gets NotFound.
    pub async fn qa_scope(&self, actor: &Actor, centre_id: i64) -> AppResult<QaScope> {
        let roles = actor.centre_roles(centre_id);
        let who = super::audit::person_ref(actor.person_id);
        let make = |role| QaScope {
            centre_id,
            person_id: actor.person_id,
            who: who.clone(),
            role,
        };
        if roles.contains(&"iqa") {
            let lead = self
                .store
                .lead_iqas(centre_id)
                .await?
                .contains(&actor.person_id);
            return Ok(make(QaRole::Iqa { lead }));
        }
        if roles.contains(&"centre_admin") {
            return Ok(make(QaRole::CentreAdmin));
        }
        let eqa: Vec<String> = actor
            .eqa_centres
            .iter()
            .filter(|(c, _)| *c == centre_id)
            .map(|(_, ao)| ao.clone())
            .collect();
        if !eqa.is_empty() {
            return Ok(make(QaRole::Eqa { aos: eqa }));
        }
        let approved: BTreeSet<String> = self
            .store
            .approvals(centre_id)
            .await?
            .into_iter()
            .map(|a| a.ao_code)
            .collect();
        let aos: Vec<String> = actor
            .ao_codes()
            .into_iter()
            .filter(|a| approved.contains(*a))
            .map(str::to_string)
            .collect();
        if !aos.is_empty() {
            return Ok(make(QaRole::AoStaff { aos }));
        }
        if roles.is_empty() {
            Err(AppError::NotFound(format!("centre {centre_id}")))
        } else {
            Err(AppError::Forbidden(
                "Quality assurance is for the centre's IQAs and administrators, its EQAs and its awarding organisations".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    //! A property over random registrations, transfers and people: nobody sees a record made
    //! at a centre unless they have a right to it, stated here independently of `scope_of`.
    use super::*;
    use crate::store::{GrantRow, RegistrationStatus, Role, TransferStatus};
    use proptest::prelude::*;

    const AOS: [&str; 2] = ["ISP", "ISMM"];
    const CENTRES: i64 = 3;
    const LEARNER: i64 = 7;

    fn registration(id: i64, centre: i64, ao: usize, transferred: bool) -> RegistrationRow {
        RegistrationRow {
            registration_id: id,
            learner_id: LEARNER,
            centre_id: centre,
            qan: format!("q{ao}"),
            catalogue_version_id: 1,
            status: if transferred {
                RegistrationStatus::Transferred
            } else {
                RegistrationStatus::Registered
            },
            registered_at: "2026-01-01T00:00:00.000000Z".into(),
            uln: None,
            given_name: String::new(),
            family_name: String::new(),
            date_of_birth: String::new(),
            centre_name: String::new(),
            ao_code: AOS[ao].into(),
        }
    }

    fn transfer(from: &RegistrationRow, to: &RegistrationRow, approved: bool) -> TransferRow {
        TransferRow {
            transfer_id: from.registration_id,
            learner_id: LEARNER,
            from_registration_id: from.registration_id,
            from_centre_id: from.centre_id,
            from_centre_name: String::new(),
            to_centre_id: to.centre_id,
            to_centre_name: String::new(),
            qan: from.qan.clone(),
            reason: String::new(),
            requested_by: 1,
            requested_at: "2026-01-01T00:00:00.000000Z".into(),
            status: if approved {
                TransferStatus::Approved
            } else {
                TransferStatus::Refused
            },
            decided_by: Some(1),
            decided_at: Some("2026-02-01T00:00:00.000000Z".into()),
            decision_note: None,
            new_registration_id: approved.then_some(to.registration_id),
            given_name: String::new(),
            family_name: String::new(),
        }
    }

    /// (role, ao index, centre) grants: role 0 centre staff, 1 AO staff, 2 EQA, 3 learner.
    fn actor(grants: &[(u8, usize, i64)], eqa: &[(i64, usize)]) -> Actor {
        let grants = grants
            .iter()
            .enumerate()
            .map(|(i, (role, ao, centre))| GrantRow {
                role_grant_id: i as i64,
                person_id: 1,
                role: match role {
                    0 => Role::Assessor,
                    1 => Role::AoStaff,
                    2 => Role::Eqa,
                    _ => Role::Learner,
                },
                ao_code: (*role == 1 || *role == 2).then(|| AOS[*ao].to_string()),
                centre_id: (*role == 0 || *role == 3).then_some(*centre),
                learner_id: (*role == 3).then_some(LEARNER + i64::from(*centre == 0)),
                centre_name: None,
            })
            .collect();
        Actor {
            person_id: 1,
            email: String::new(),
            name: String::new(),
            grants,
            active: None,
            eqa_centres: eqa.iter().map(|(c, a)| (*c, AOS[*a].to_string())).collect(),
            csrf: None,
            session_hash: None,
            second_factor: false,
        }
    }

    proptest! {
        #[test]
        fn nobody_sees_records_they_have_no_right_to(
            regs in proptest::collection::vec((0..CENTRES, 0..2usize), 1..5),
            moves in proptest::collection::vec((0..5usize, 0..5usize, any::<bool>()), 0..4),
            grants in proptest::collection::vec((0..4u8, 0..2usize, 0..CENTRES), 0..4),
            eqa in proptest::collection::vec((0..CENTRES, 0..2usize), 0..2),
        ) {
            let mut rows: Vec<RegistrationRow> = regs
                .iter()
                .enumerate()
                .map(|(i, (c, a))| registration(i as i64 + 1, *c, *a, false))
                .collect();
            let mut transfers = Vec::new();
            for (from, to, approved) in moves {
                let (from, to) = (from % rows.len(), to % rows.len());
                if from == to || rows[from].status == "transferred" {
                    continue;
                }
                if approved {
                    rows[from].status = RegistrationStatus::Transferred;
                }
                transfers.push(transfer(&rows[from], &rows[to], approved));
            }
            let who = actor(&grants, &eqa);
            let is_learner = who.learner_ids().contains(&LEARNER);
            // The rights, stated plainly: a registration is the actor's to see if they are
            // staff at its centre, staff of its AO, or its AO's EQA at its centre.
            let right = |r: &RegistrationRow| {
                who.grants.iter().any(|g| g.role == "assessor" && g.centre_id == Some(r.centre_id))
                    || who.grants.iter().any(|g| g.role == "ao_staff" && g.ao_code.as_deref() == Some(&r.ao_code))
                    || who.eqa_centres.iter().any(|(c, a)| *c == r.centre_id && *a == r.ao_code)
            };
            // Centres whose records reach a registration: its own, and (fixpoint) the
            // centres of registrations an approved transfer led from into it.
            let reach = |r: &RegistrationRow| {
                let mut into = vec![r.registration_id];
                loop {
                    let before = into.len();
                    for t in transfers.iter().filter(|t| t.status == "approved") {
                        if t.new_registration_id.is_some_and(|n| into.contains(&n))
                            && !into.contains(&t.from_registration_id)
                        {
                            into.push(t.from_registration_id);
                        }
                    }
                    if into.len() == before {
                        break;
                    }
                }
                rows.iter()
                    .filter(|x| into.contains(&x.registration_id))
                    .map(|x| x.centre_id)
                    .collect::<Vec<_>>()
            };
            match scope_of(&who, LEARNER, rows.clone(), &transfers) {
                None => prop_assert!(!is_learner && !rows.iter().any(right)),
                Some(s) => {
                    if s.as_learner() {
                        prop_assert!(is_learner);
                    } else {
                        prop_assert!(!is_learner);
                        for r in s.registrations() {
                            prop_assert!(right(r), "sees registration {} without a right", r.registration_id);
                        }
                        for c in 0..CENTRES {
                            if s.sees_centre(c) {
                                prop_assert!(
                                    rows.iter().any(|r| right(r) && reach(r).contains(&c)),
                                    "sees centre {c}'s records without a right"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One person's own data (right of access, portability, erasure): only the person
/// themselves ([`App::own_data_scope`]), or the operator's command line acting on a named
/// person's behalf ([`App::operator_own_data_scope`]). Nobody else, staff included, gets one:
/// a centre sees its learners' records through [`LearnerScope`], never their whole export.
#[derive(Debug, Clone)]
pub struct OwnDataScope {
    person_id: i64,
    learner_ids: Vec<i64>,
    /// Holds a staff role (anything but learner).
    staff: bool,
    who: String,
}

impl OwnDataScope {
    pub fn person_id(&self) -> i64 {
        self.person_id
    }
    /// The learner records this person is.
    pub fn learner_ids(&self) -> &[i64] {
        &self.learner_ids
    }
    pub fn is_staff(&self) -> bool {
        self.staff
    }
    /// As the audit log names who acted.
    pub fn who(&self) -> &str {
        &self.who
    }
}

impl App {
    /// The signed-in person's own data.
    pub fn own_data_scope(&self, actor: &Actor) -> OwnDataScope {
        OwnDataScope {
            person_id: actor.person_id,
            learner_ids: actor.learner_ids(),
            staff: actor.grants.iter().any(|g| g.role != "learner"),
            who: super::audit::person_ref(actor.person_id),
        }
    }

    /// A person's own data for the operator's command line (a subject access request the
    /// person made another way), by their email.
    pub async fn operator_own_data_scope(
        &self,
        operator: &Operator,
        email: &str,
    ) -> AppResult<OwnDataScope> {
        let p = self
            .store
            .person_by_email(&email.trim().to_lowercase())
            .await?
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "a person with the email {email} (check the address they sign in with)"
                ))
            })?;
        let grants = self.store.grants(p.person_id).await?;
        Ok(OwnDataScope {
            person_id: p.person_id,
            learner_ids: grants.iter().filter_map(|g| g.learner_id).collect(),
            staff: grants.iter().any(|g| g.role != "learner"),
            who: operator.who().to_string(),
        })
    }
}
