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
}

impl CatalogueScope {
    /// The operator's scope: for command-line entry points and the shipped specifications'
    /// seeding only, never for a request. `by` names the person (or system) for the log.
    pub fn operator(by: &str) -> CatalogueScope {
        CatalogueScope {
            who: by.to_string(),
            aos: None,
        }
    }
    pub fn who(&self) -> &str {
        &self.who
    }
    pub fn is_operator(&self) -> bool {
        self.aos.is_none()
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
        })
    }
}
