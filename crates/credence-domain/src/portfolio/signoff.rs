//! Unit sign-off: signatures, the evidence-set hash they carry, and locking.
//!
//! "When every AC of a unit is met, the assessor and the learner each sign the unit's
//! declaration with comments (a signature is the signed-in person, a timestamp and the hash of
//! the evidence set at that moment); a unit signed off is locked: evidence cannot be changed or
//! deleted under it, only added to and superseded with a reason" (issue 6, "Sign off").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::evidence::EvidenceItem;
use super::judgement::Mapping;
use super::progress::UnitProgress;

/// Domain-separation tag at the start of the hashed encoding; names its version.
const HASH_TAG: &[u8] = b"credence/portfolio/evidence-set/v1";

/// The hash of a unit's evidence set: SHA-256, lowercase hex.
///
/// The set is every current (non-superseded) evidence item mapped to `unit`, with, for each,
/// its id, its file's SHA-256, and every (criterion, location) it is mapped to in this unit.
/// Mappings to other units, and items mapped only to other units, do not affect it; nor do an
/// item's title, kind or date, nor the order of the slices.
///
/// The encoding is canonical: every string is written as its UTF-8 byte length (8 bytes, big
/// endian) followed by its bytes; every list as its element count (the same way) followed by
/// its elements; items sorted by (id, sha256), each item's (criterion, location) pairs sorted
/// and each once:
///
/// ```text
/// str(tag) str(unit) count(items) { str(id) str(sha256) count(pairs) { str(criterion) str(location) }* }*
/// ```
///
/// with `tag` = `credence/portfolio/evidence-set/v1`.
///
/// **This encoding must never change**: signatures store the hash, and a signed unit's record
/// is checked against it for as long as records are kept. A different encoding needs a new
/// tag (`.../v2`) and a new function, with this one kept for old signatures.
pub fn evidence_set_hash(unit: &str, mappings: &[Mapping], evidence: &[EvidenceItem]) -> String {
    // evidence id -> sorted, distinct (criterion, location) pairs in this unit
    let mut mapped: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for m in mappings.iter().filter(|m| m.unit == unit) {
        mapped
            .entry(m.evidence.as_str())
            .or_default()
            .push((m.criterion.as_str(), m.location.as_str()));
    }
    for pairs in mapped.values_mut() {
        pairs.sort_unstable();
        pairs.dedup();
    }
    let mut items: Vec<(&str, &str)> = evidence
        .iter()
        .filter(|e| e.is_current() && mapped.contains_key(e.id.as_str()))
        .map(|e| (e.id.as_str(), e.sha256.as_str()))
        .collect();
    items.sort_unstable();
    items.dedup();

    let mut buf: Vec<u8> = Vec::new();
    write_str(&mut buf, HASH_TAG);
    write_str(&mut buf, unit.as_bytes());
    write_count(&mut buf, items.len());
    for (id, sha) in &items {
        write_str(&mut buf, id.as_bytes());
        write_str(&mut buf, sha.as_bytes());
        let pairs = mapped.get(id).map(Vec::as_slice).unwrap_or_default();
        write_count(&mut buf, pairs.len());
        for (criterion, location) in pairs {
            write_str(&mut buf, criterion.as_bytes());
            write_str(&mut buf, location.as_bytes());
        }
    }
    hex::encode(Sha256::digest(&buf))
}

fn write_count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_be_bytes());
}

fn write_str(out: &mut Vec<u8>, bytes: &[u8]) {
    write_count(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Who signs a unit's declaration.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerRole {
    Assessor,
    Learner,
}

/// A signature on a unit's declaration.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub role: SignerRole,
    /// The signed-in person's id.
    pub person: String,
    /// When, RFC 3339.
    pub at: String,
    pub comments: String,
    /// [`evidence_set_hash`] of the unit at the moment of signing.
    pub evidence_hash: String,
}

/// Why a signature may not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignOffRefusal {
    #[error(
        "the unit cannot be signed off yet: {met} of {total} criteria are met; still to meet: {}",
        missing.join(", ")
    )]
    NotComplete {
        met: usize,
        total: usize,
        missing: Vec<String>,
    },
    #[error("the learner signs after the assessor: the assessor has not signed this unit yet")]
    AssessorFirst,
    #[error(
        "the evidence has changed since the assessor signed: the assessor must review it and sign again before the learner signs"
    )]
    EvidenceChangedSinceAssessor,
    #[error("the {} has already signed this unit on this evidence", role_name(*role))]
    AlreadySigned { role: SignerRole },
}

fn role_name(role: SignerRole) -> &'static str {
    match role {
        SignerRole::Assessor => "assessor",
        SignerRole::Learner => "learner",
    }
}

/// Whether `role` may sign the unit now, with the evidence set hashing to `current_hash`.
///
/// - Both sign only when every criterion is met (`progress.complete`).
/// - The assessor signs first; the learner signs only when an assessor signature carries
///   `current_hash`: the learner confirms the same evidence the assessor judged.
/// - No one signs twice on the same evidence. If evidence changes after the assessor signed
///   and before the learner did, the assessor signs again on the new hash.
pub fn can_sign(
    role: SignerRole,
    progress: &UnitProgress,
    existing: &[Signature],
    current_hash: &str,
) -> Result<(), SignOffRefusal> {
    if !progress.complete {
        return Err(SignOffRefusal::NotComplete {
            met: progress.met,
            total: progress.total,
            missing: progress.missing().into_iter().map(String::from).collect(),
        });
    }
    let signed_now = |r: SignerRole| {
        existing
            .iter()
            .any(|s| s.role == r && s.evidence_hash == current_hash)
    };
    if signed_now(role) {
        return Err(SignOffRefusal::AlreadySigned { role });
    }
    if role == SignerRole::Learner && !signed_now(SignerRole::Assessor) {
        if existing.iter().any(|s| s.role == SignerRole::Assessor) {
            return Err(SignOffRefusal::EvidenceChangedSinceAssessor);
        }
        return Err(SignOffRefusal::AssessorFirst);
    }
    Ok(())
}

/// The evidence hash both the assessor and the learner signed, if any: the hash of the unit as
/// signed off.
pub fn signed_off_hash(signatures: &[Signature]) -> Option<&str> {
    signatures
        .iter()
        .filter(|a| a.role == SignerRole::Assessor)
        .find(|a| {
            signatures
                .iter()
                .any(|l| l.role == SignerRole::Learner && l.evidence_hash == a.evidence_hash)
        })
        .map(|a| a.evidence_hash.as_str())
}

/// Whether the unit is locked: the assessor and the learner have both signed on the same
/// evidence hash. Locking is permanent: adding evidence to a locked unit changes its current
/// hash but does not unlock it (the signatures keep the hash of what was signed).
pub fn is_locked(signatures: &[Signature]) -> bool {
    signed_off_hash(signatures).is_some()
}

/// A change to evidence under a unit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum EvidenceChange {
    /// New evidence, or a new mapping to the unit.
    Add,
    /// A new version superseding an item; the old one is kept.
    Replace { reason: String },
    /// Removing an item or a mapping.
    Delete,
}

/// Why evidence may not be changed under a locked unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockRefusal {
    #[error(
        "this unit is signed off: evidence under it can be superseded only with a reason; say why it is being replaced"
    )]
    ReasonRequired,
    #[error(
        "this unit is signed off: evidence under it cannot be deleted; supersede it with a new version and a reason instead"
    )]
    DeleteRefused,
}

/// Whether `change` is allowed; under a locked unit only additions and reasoned replacements
/// (supersession) are. Any change is allowed before sign-off.
pub fn may_change_evidence(locked: bool, change: &EvidenceChange) -> Result<(), LockRefusal> {
    if !locked {
        return Ok(());
    }
    match change {
        EvidenceChange::Add => Ok(()),
        EvidenceChange::Replace { reason } if !reason.trim().is_empty() => Ok(()),
        EvidenceChange::Replace { .. } => Err(LockRefusal::ReasonRequired),
        EvidenceChange::Delete => Err(LockRefusal::DeleteRefused),
    }
}
