//! The audit log: entries sealed into the chain inside each write's own transaction (see
//! [`crate::store::Store::audited`]), verification of the whole chain, and signed checkpoints
//! of its head that can be kept outside the database.
//!
//! Entries name people and learners by id (`person:12`, the `learner_id` column), never by
//! name, email, ULN or address: personal data lives in records that disposal can remove
//! without breaking the chain.

use super::{App, AppError, AppResult};
use crate::store::AuditDraft;
use credence_domain::people::audit;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// How an actor is named in the log.
pub fn person_ref(person_id: i64) -> String {
    format!("person:{person_id}")
}

/// A signed statement of the log's head: how many entries it had and the last one's hash,
/// when, signed with the instance's key. Kept outside the database (a file, object storage),
/// it shows later whether the log was cut short or rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always `credence-audit-checkpoint`.
    pub format: String,
    /// Entries in the log at the checkpoint (the last one's `seq`).
    pub entries: i64,
    /// The hash of entry `entries`.
    pub hash: String,
    /// When the checkpoint was made, UTC.
    pub at: String,
    /// The instance's public key (Ed25519, hex) that signed it.
    pub key: String,
    /// Ed25519 signature (hex) over [`Checkpoint::message`].
    pub signature: String,
}

const CHECKPOINT_FORMAT: &str = "credence-audit-checkpoint";

impl Checkpoint {
    /// What is signed: a tag, then the entry count, the hash and the time, one per line.
    pub fn message(entries: i64, hash: &str, at: &str) -> String {
        format!("{CHECKPOINT_FORMAT}-v1\n{entries}\n{hash}\n{at}")
    }

    /// The checkpoint as a file's text (JSON).
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Read a checkpoint file.
    pub fn parse(text: &str) -> AppResult<Checkpoint> {
        let c: Checkpoint = serde_json::from_str(text).map_err(|e| {
            AppError::Validation(format!(
                "this is not a Credence audit checkpoint ({e}): use a file written by `credence audit checkpoint`"
            ))
        })?;
        if c.format != CHECKPOINT_FORMAT {
            return Err(AppError::Validation(format!(
                "this is not a Credence audit checkpoint (format '{}')",
                c.format
            )));
        }
        Ok(c)
    }

    /// Whether the signature is the named key's over the checkpoint's own fields.
    fn signature_holds(&self) -> bool {
        let key: Option<[u8; 32]> = hex::decode(&self.key).ok().and_then(|k| k.try_into().ok());
        let sig: Option<[u8; 64]> = hex::decode(&self.signature)
            .ok()
            .and_then(|s| s.try_into().ok());
        let (Some(key), Some(sig)) = (key, sig) else {
            return false;
        };
        let Ok(key) = VerifyingKey::from_bytes(&key) else {
            return false;
        };
        key.verify(
            Self::message(self.entries, &self.hash, &self.at).as_bytes(),
            &Signature::from_bytes(&sig),
        )
        .is_ok()
    }
}

/// How many entries are read at a time when verifying.
const VERIFY_PAGE: i64 = 5_000;

impl App {
    /// An audit entry by `actor` (a [`person_ref`], an operator or a system name).
    pub fn entry(
        actor: Option<&str>,
        address: Option<&str>,
        action: &str,
        subject: &str,
        centre_id: Option<i64>,
        learner_id: Option<i64>,
        detail: serde_json::Value,
    ) -> AuditDraft {
        AuditDraft {
            actor: actor.map(str::to_string),
            address: address.map(str::to_string),
            action: action.to_string(),
            subject: subject.to_string(),
            centre_id,
            learner_id,
            detail,
        }
    }

    /// An audit entry by a signed-in person (named by id, never by name or email).
    pub fn entry_by(
        actor: &super::people::Actor,
        address: Option<&str>,
        action: &str,
        subject: &str,
        centre_id: Option<i64>,
        learner_id: Option<i64>,
        detail: serde_json::Value,
    ) -> AuditDraft {
        Self::entry(
            Some(&person_ref(actor.person_id)),
            address,
            action,
            subject,
            centre_id,
            learner_id,
            detail,
        )
    }

    /// Append an entry about an act that changes nothing else in the database (a sign-in, a
    /// checkpoint). Writes commit theirs through [`crate::store::Store::audited`].
    pub async fn audit(
        &self,
        actor: Option<&str>,
        address: Option<&str>,
        action: &str,
        subject: &str,
        centre_id: Option<i64>,
        detail: serde_json::Value,
    ) -> AppResult<()> {
        let entry = Self::entry(actor, address, action, subject, centre_id, None, detail);
        Ok(self.store.append_audit(&entry).await?)
    }

    /// Check the whole chain, page by page, and (with a checkpoint) that the log still
    /// reaches and agrees with it. Returns how many entries were checked, or what is wrong.
    pub async fn verify_audit(
        &self,
        checkpoint: Option<&Checkpoint>,
    ) -> AppResult<Result<usize, String>> {
        if let Some(c) = checkpoint {
            if !c.signature_holds() {
                return Err(AppError::Validation(
                    "the checkpoint's signature does not hold: the file was changed or was not written by `credence audit checkpoint`".into(),
                ));
            }
            if let Some(mine) = self.instance_public_key()?
                && mine != c.key
            {
                return Err(AppError::Validation(format!(
                    "the checkpoint was signed by another key ({}…), not this instance's ({}…)",
                    &c.key[..c.key.len().min(12)],
                    &mine[..12]
                )));
            }
        }
        let (head, _) = self.store.audit_head().await?;
        let stored_max = self
            .store
            .audit_entries(None, 1)
            .await?
            .first()
            .map(|r| r.seq)
            .unwrap_or(0);
        let mut prev_seq = 0u64;
        let mut prev_hash = audit::GENESIS.to_string();
        let mut checked = 0usize;
        let mut from = 1i64;
        let last = stored_max.max(head);
        while from <= last {
            let to = from + VERIFY_PAGE - 1;
            let rows = self.store.audit_page(from, to).await?;
            let mut records = Vec::with_capacity(rows.len());
            for r in rows {
                // Version 1 entries left the centre out of the hash but put it in the hashed
                // detail: the column must agree with it.
                if r.hash_version == 1 {
                    let in_detail = serde_json::from_str::<serde_json::Value>(&r.detail)
                        .ok()
                        .and_then(|d| d.get("centre").and_then(serde_json::Value::as_i64));
                    if in_detail != r.centre_id {
                        return Ok(Err(format!(
                            "audit entry {} was moved between centres' logs: its centre column says {:?} but its sealed detail says {:?}",
                            r.seq, r.centre_id, in_detail
                        )));
                    }
                }
                records.push(audit::AuditRecord {
                    seq: u64::try_from(r.seq).unwrap_or(0),
                    at: r.at,
                    actor: r.actor,
                    address: r.address,
                    action: r.action,
                    subject: r.subject,
                    detail: r.detail,
                    prev_hash: r.prev_hash,
                    hash: r.hash,
                    version: u8::try_from(r.hash_version).unwrap_or(0),
                    centre_id: r.centre_id,
                    learner_id: r.learner_id,
                });
            }
            if records.is_empty() {
                break;
            }
            if let Err(brk) = audit::verify_after(prev_seq, &prev_hash, &records) {
                return Ok(Err(brk.to_string()));
            }
            checked += records.len();
            if let Some(l) = records.last() {
                prev_seq = l.seq;
                prev_hash = l.hash.clone();
            }
            from = to + 1;
        }
        let end = i64::try_from(prev_seq).unwrap_or(i64::MAX);
        if end != head {
            return Ok(Err(format!(
                "the log ends at entry {end} but its head says {head} entries were written: entries {} to {head} were deleted",
                end + 1
            )));
        }
        if let Some(c) = checkpoint {
            if end < c.entries {
                return Ok(Err(format!(
                    "the log is shorter than the checkpoint of {}: it has {end} entries, the checkpoint counted {}; entries were deleted",
                    c.at, c.entries
                )));
            }
            let at = self.store.audit_page(c.entries, c.entries).await?;
            if at.first().map(|r| r.hash.as_str()) != Some(c.hash.as_str()) {
                return Ok(Err(format!(
                    "the log diverges from the checkpoint of {}: entry {} no longer has the hash the checkpoint recorded; the log was rewritten",
                    c.at, c.entries
                )));
            }
        }
        Ok(Ok(checked))
    }

    /// A keyed hash of a personal value (an email address) for an audit entry: the same value
    /// always gives the same hash on this instance, so it can be proven later ("this entry
    /// is about that address"), but the log alone does not reveal it, and erasing the
    /// person's records leaves nothing readable behind. Keyed with the instance's key.
    pub fn provable(&self, value: &str) -> AppResult<String> {
        use sha2::Digest;
        let key = self.instance_key()?;
        let mut h = sha2::Sha256::new();
        h.update(b"credence-provable-v1");
        h.update(key.to_bytes());
        h.update(value.trim().to_lowercase().as_bytes());
        Ok(hex::encode(h.finalize()))
    }

    /// A centre's log as the actor may read it (newest first): entries about a learner show
    /// only to those who see one of that learner's registrations (an AO's staff and EQAs:
    /// those on their own AO's qualifications).
    pub async fn centre_audit(
        &self,
        actor: &super::people::Actor,
        centre: i64,
        limit: i64,
    ) -> AppResult<Vec<crate::store::AuditRow>> {
        let rows = self.store.audit_entries(Some(centre), limit).await?;
        let mut seen: std::collections::HashMap<i64, bool> = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(l) = r.learner_id {
                let visible = match seen.get(&l) {
                    Some(v) => *v,
                    None => {
                        let v = self
                            .store
                            .registrations_of_learner(l)
                            .await?
                            .iter()
                            .any(|reg| super::authz::sees_registration(actor, reg));
                        seen.insert(l, v);
                        v
                    }
                };
                if !visible {
                    continue;
                }
            }
            out.push(r);
        }
        Ok(out)
    }

    /// A signed checkpoint of the log's head, recorded in the log itself too.
    pub async fn audit_checkpoint(
        &self,
        operator: &super::authz::Operator,
    ) -> AppResult<Checkpoint> {
        let key = self.instance_key()?;
        let (entries, hash) = self.store.audit_head().await?;
        let at = crate::store::now();
        let signature = key.sign(Checkpoint::message(entries, &hash, &at).as_bytes());
        let c = Checkpoint {
            format: CHECKPOINT_FORMAT.into(),
            entries,
            hash,
            at,
            key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(signature.to_bytes()),
        };
        self.audit(
            Some(operator.who()),
            None,
            "audit.checkpoint",
            "audit log",
            None,
            serde_json::json!({"entries": c.entries, "hash": c.hash}),
        )
        .await?;
        Ok(c)
    }

    /// The instance's signing key: read from its file, or made (and saved, readable by its
    /// owner only) the first time. Without a file (tests), one key per application.
    pub fn instance_key(&self) -> AppResult<SigningKey> {
        let Some(path) = &self.key_file else {
            return Ok(self.ephemeral_key.clone());
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let raw: [u8; 32] = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| {
                        AppError::Internal(format!(
                            "the instance key {} is damaged: restore it from a backup",
                            path.display()
                        ))
                    })?;
                Ok(SigningKey::from_bytes(&raw))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        AppError::Internal(format!("creating {}: {e}", dir.display()))
                    })?;
                }
                let key = new_signing_key();
                write_private(path, &hex::encode(key.to_bytes()))?;
                Ok(key)
            }
            Err(e) => Err(AppError::Internal(format!(
                "reading the instance key {}: {e}",
                path.display()
            ))),
        }
    }

    /// The instance's public key (hex), if it has one yet.
    pub fn instance_public_key(&self) -> AppResult<Option<String>> {
        match &self.key_file {
            Some(p) if !p.exists() => Ok(None),
            _ => Ok(Some(hex::encode(
                self.instance_key()?.verifying_key().to_bytes(),
            ))),
        }
    }
}

/// A new random Ed25519 key, from the operating system's random source.
pub fn new_signing_key() -> SigningKey {
    let mut raw = [0u8; 32];
    if getrandom::fill(&mut raw).is_err() {
        // No OS randomness is a broken machine; UUID v4 draws from the same source.
        raw[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        raw[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    SigningKey::from_bytes(&raw)
}

fn write_private(path: &std::path::Path, text: &str) -> AppResult<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(|e| {
        AppError::Internal(format!("writing the instance key {}: {e}", path.display()))
    })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| AppError::Internal(format!("writing the instance key: {e}")))
}
