//! Open Badges 3.0 credentials for certificates (issue 13): each AO's signing keys, made on
//! first use and sealed under the key-encryption key (never in the database in clear);
//! credentials signed when asked for, from the certificate record; the published keys and
//! each AO's revocation list. The JSON and the signing are in [`crate::credential`].

use crate::app::{App, AppError, AppResult};
use crate::credential::{self, CredentialFacts, Revoked};
use crate::store::{CertificateRow, SigningKeyRow};

impl App {
    /// The AO's current signing key, made (and stored sealed) on first use.
    pub async fn signing_key(&self, ao_code: &str) -> AppResult<SigningKeyRow> {
        if let Some(k) = self
            .store
            .signing_keys(Some(ao_code))
            .await?
            .into_iter()
            .find(|k| k.retired_at.is_none())
        {
            return Ok(k);
        }
        self.new_signing_key(ao_code, None).await
    }

    /// Make a new signing key for the AO and retire its current one (rotation; retired keys
    /// stay published so the credentials they signed still verify).
    pub async fn new_signing_key(
        &self,
        ao_code: &str,
        by: Option<&str>,
    ) -> AppResult<SigningKeyRow> {
        let now = crate::store::now();
        let kek = self.kek.clone();
        let ao = ao_code.to_string();
        let at = now.clone();
        // RSA key generation takes a fifth of a second: off the async threads.
        let key = tokio::task::spawn_blocking(move || credential::generate_key(&kek, &ao, &at))
            .await
            .map_err(|e| AppError::Internal(format!("key generation stopped: {e}")))?
            .map_err(|e| AppError::Internal(format!("could not make a signing key: {e}")))?;
        let row = SigningKeyRow {
            kid: key.kid.clone(),
            ao_code: ao_code.to_string(),
            public_jwk: key.public_jwk.to_string(),
            sealed_private_key: hex::encode(&key.sealed_private_key),
            created_at: now,
            retired_at: None,
        };
        let entry = Self::entry(
            Some(by.unwrap_or("system:signing")),
            None,
            "signing_key.created",
            &format!("awarding organisation {ao_code}"),
            None,
            None,
            serde_json::json!({"ao": ao_code, "kid": key.kid, "kek": self.kek.id()}),
        );
        self.store.audited(entry).add_signing_key(&row).await?;
        Ok(row)
    }

    /// The facts a certificate's credential states.
    async fn credential_facts(&self, c: &CertificateRow) -> AppResult<CredentialFacts> {
        let units: Vec<crate::app::certificates::PrintedUnit> = serde_json::from_str(&c.units)?;
        let email = self
            .store
            .learner(c.learner_id)
            .await?
            .and_then(|l| l.email);
        let what = if c.kind == "unit" {
            "unit certificate"
        } else {
            "qualification"
        };
        Ok(CredentialFacts {
            number: c.number.clone(),
            ao_code: c.ao_code.clone(),
            ao_name: c.ao_name.clone(),
            ao_url: None,
            qan: c.qan.clone(),
            unit_reference: c.unit_reference.clone(),
            title: c.title.clone(),
            description: format!(
                "The {what} {} ({}), awarded by {}{}.",
                c.title,
                c.qan
                    .clone()
                    .or_else(|| c.unit_reference.clone())
                    .unwrap_or_default(),
                c.ao_name,
                c.level
                    .map(|l| format!(" at Level {l}"))
                    .unwrap_or_default()
            ),
            level: c.level.map(|l| format!("Level {l}")),
            grade: c.grade.clone(),
            credits: c.total_credits.and_then(|t| u32::try_from(t).ok()),
            units: units
                .into_iter()
                .map(|u| (u.reference, u.title, u.credits))
                .collect(),
            learner_name: c.learner_name.clone(),
            learner_email: email,
            awarded_on: c.awarded_on.clone(),
            issued_at: c.issued_at.clone(),
            status_list_index: u64::try_from(c.certificate_id).unwrap_or(0),
        })
    }

    /// A certificate's Open Badges 3.0 credential, signed now as a VC-JWT with its AO's
    /// current key. Anyone may ask (the number is what the learner shares); a revoked
    /// certificate's credential still verifies as a signature, and its status says revoked.
    pub async fn credential_jwt(&self, number: &str) -> AppResult<String> {
        let n = credence_domain::certificate::CertificateNumber::parse(number)
            .map_err(|e| AppError::Validation(e.to_string()))?;
        let c = self
            .store
            .certificate(&n.to_string())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("certificate {n}")))?;
        let facts = self.credential_facts(&c).await?;
        let key = self.signing_key(&c.ao_code).await?;
        let sealed = hex::decode(&key.sealed_private_key)
            .map_err(|e| AppError::Internal(format!("signing key {} is damaged: {e}", key.kid)))?;
        credential::sign_credential(&self.kek, &key.kid, &sealed, &self.public_url, &facts)
            .map_err(|e| AppError::Internal(format!("could not sign the credential: {e}")))
    }

    /// Every public key (current and retired) of every AO, as a JWKS.
    pub async fn jwks(&self) -> AppResult<serde_json::Value> {
        let keys: Vec<serde_json::Value> = self
            .store
            .signing_keys(None)
            .await?
            .iter()
            .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
            .collect();
        Ok(credential::jwks(&self.public_url, &keys))
    }

    /// One public key by its id.
    pub async fn published_key(&self, kid: &str) -> AppResult<serde_json::Value> {
        let k = self
            .store
            .signing_keys(None)
            .await?
            .into_iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| AppError::NotFound(format!("key {kid}")))?;
        let jwk: serde_json::Value = serde_json::from_str(&k.public_jwk)?;
        Ok(credential::published_jwk(&self.public_url, &jwk))
    }

    /// The AO's revocation list: every revoked certificate's credential, with the reason's
    /// category.
    pub async fn revocation_list(&self, ao_code: &str) -> AppResult<serde_json::Value> {
        let aos = self.store.awarding_organisations().await?;
        let ao = aos
            .iter()
            .find(|a| a.ao_code.eq_ignore_ascii_case(ao_code))
            .ok_or_else(|| AppError::NotFound(format!("awarding organisation {ao_code}")))?;
        let revoked: Vec<Revoked> = self
            .store
            .revoked_certificates(&ao.ao_code)
            .await?
            .into_iter()
            .map(|(number, _, reason)| Revoked {
                number,
                reason: credence_domain::certificate::RevocationReason::parse(&reason)
                    .map(|r| r.words().to_string()),
            })
            .collect();
        Ok(credential::revocation_list(
            &self.public_url,
            &ao.ao_code,
            &revoked,
        ))
    }

    /// The AO's issuer profile (the credentials' `issuer`), with its JSON-LD context.
    pub async fn issuer_profile(&self, ao_code: &str) -> AppResult<serde_json::Value> {
        let aos = self.store.awarding_organisations().await?;
        let ao = aos
            .iter()
            .find(|a| a.ao_code.eq_ignore_ascii_case(ao_code))
            .ok_or_else(|| AppError::NotFound(format!("awarding organisation {ao_code}")))?;
        let mut p = credential::issuer_profile(&self.public_url, &ao.ao_code, &ao.name, None);
        p["@context"] = serde_json::json!([credential::VC_CONTEXT_V2, credential::OB_CONTEXT]);
        Ok(p)
    }
}
