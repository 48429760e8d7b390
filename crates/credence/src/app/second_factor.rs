//! A second factor: TOTP (RFC 6238, SHA-1, 6 digits, 30-second steps, as every authenticator
//! app reads it) with ten single-use recovery codes. Awarding organisation staff and EQAs
//! need it before any catalogue or direct-claim-status action (and, later, certificates);
//! anyone may turn it on. Once on, signing in asks for a code after the password.

use super::people::{Actor, random_token, token_hash};
use super::{App, AppError, AppResult};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// How many recovery codes a person is given.
pub const RECOVERY_CODES: usize = 10;
/// How long a sign-in waits for its second factor, in minutes.
pub const CHALLENGE_MINUTES: i64 = 5;

/// What a person needs to set up their authenticator app.
pub struct Enrolment {
    /// The key to type in, Base32, in groups of four.
    pub key: String,
    /// `otpauth://` link, for apps that open it (and the QR code).
    pub uri: String,
    /// The QR code of the link, as SVG.
    pub qr_svg: String,
}

/// Where a person's second factor stands.
pub struct FactorStatus {
    pub confirmed: bool,
    pub recovery_codes_left: i64,
    /// Their roles need it (AO staff, EQA).
    pub required: bool,
}

fn totp(secret_base32: &str) -> AppResult<Totp> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|e| AppError::Internal(format!("stored second factor: {e}")))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(secret)
        .build()
        .map_err(|e| AppError::Internal(format!("second factor: {e}")))
}

fn now_secs() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

/// A recovery code as shown: `xxxx-xxxx-xxxx`, lowercase letters and digits.
fn new_recovery_code() -> String {
    let raw = random_token();
    format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
}

fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

/// Whether a person's roles require a second factor.
pub fn required_for(actor: &Actor) -> bool {
    actor.has_role("ao_staff") || actor.has_role("eqa")
}

impl App {
    /// Refuse an action that needs a second factor unless this sign-in passed one.
    pub fn require_second_factor(actor: &Actor) -> AppResult<()> {
        if actor.second_factor {
            return Ok(());
        }
        Err(AppError::Forbidden(
            "This needs a second factor: set up an authenticator app on your account page (/account/second-factor), then sign out and sign in again with a code".into(),
        ))
    }

    pub async fn second_factor_status(&self, actor: &Actor) -> AppResult<FactorStatus> {
        let row = self.store.second_factor(actor.person_id).await?;
        Ok(FactorStatus {
            confirmed: row.as_ref().is_some_and(|r| r.confirmed_at.is_some()),
            recovery_codes_left: self.store.recovery_codes_left(actor.person_id).await?,
            required: required_for(actor),
        })
    }

    /// Start (or restart) setting up a second factor: a new secret, not yet in force.
    /// Refused once one is confirmed (the operator removes a lost one).
    pub async fn begin_second_factor(&self, actor: &Actor) -> AppResult<Enrolment> {
        if let Some(row) = self.store.second_factor(actor.person_id).await? {
            if row.confirmed_at.is_some() {
                return Err(AppError::Conflict(
                    "Your second factor is already set up. If you lost your device, use a recovery code to sign in, or ask the operator to remove it (credence user remove-second-factor)".into(),
                ));
            }
            return self.enrolment(actor, &row.secret);
        }
        let mut raw = [0u8; 20];
        getrandom::fill(&mut raw)
            .map_err(|e| AppError::Internal(format!("no randomness for a secret: {e}")))?;
        let secret = Secret::from(raw).to_base32();
        self.store
            .begin_second_factor(actor.person_id, &secret)
            .await?;
        self.enrolment(actor, &secret)
    }

    fn enrolment(&self, actor: &Actor, secret: &str) -> AppResult<Enrolment> {
        let key = secret
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let label: String =
            form_urlencoded::byte_serialize(format!("Credence:{}", actor.email).as_bytes())
                .collect();
        let uri = format!(
            "otpauth://totp/{label}?secret={secret}&issuer=Credence&algorithm=SHA1&digits=6&period=30"
        );
        let qr = qrcode::QrCode::new(uri.as_bytes())
            .map_err(|e| AppError::Internal(format!("QR code: {e}")))?;
        let qr_svg = qr
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build();
        Ok(Enrolment { key, uri, qr_svg })
    }

    /// Confirm the second factor with a code from the app. Returns the recovery codes, shown
    /// once.
    pub async fn confirm_second_factor(
        &self,
        actor: &Actor,
        code: &str,
        address: &str,
    ) -> AppResult<Vec<String>> {
        let row = self
            .store
            .second_factor(actor.person_id)
            .await?
            .ok_or_else(|| {
                AppError::Validation("Start setting up your second factor first".into())
            })?;
        if row.confirmed_at.is_some() {
            return Err(AppError::Conflict(
                "Your second factor is already set up".into(),
            ));
        }
        let step = totp(&row.secret)?
            .check(code.trim(), now_secs())
            .ok_or_else(|| {
                AppError::Validation(
                    "That code is not right: enter the 6 digits your authenticator app shows now (check the phone's clock is right)".into(),
                )
            })?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| token_hash(&normalise_code(c)))
            .collect();
        self.store
            .audited(Self::entry_by(
                actor,
                Some(address),
                "second_factor.confirm",
                &format!("person {}", actor.person_id),
                None,
                None,
                serde_json::json!({}),
            ))
            .confirm_second_factor(actor.person_id, i64::try_from(step).unwrap_or(0), &hashes)
            .await?;
        Ok(codes)
    }

    /// Check a code (from the app, or a recovery code) for a person with a confirmed second
    /// factor. A TOTP code is accepted once; a recovery code once.
    pub(crate) async fn check_second_factor(&self, person_id: i64, code: &str) -> AppResult<bool> {
        let Some(row) = self.store.second_factor(person_id).await? else {
            return Ok(false);
        };
        if row.confirmed_at.is_none() {
            return Ok(false);
        }
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
            return match totp(&row.secret)?.check(&digits, now_secs()) {
                Some(step) => Ok(self
                    .store
                    .use_second_factor_step(person_id, i64::try_from(step).unwrap_or(0))
                    .await?),
                None => Ok(false),
            };
        }
        Ok(self
            .store
            .use_recovery_code(person_id, &token_hash(&normalise_code(code)))
            .await?)
    }

    /// Remove a person's second factor (the operator, when a device is lost).
    pub async fn remove_second_factor(
        &self,
        operator: &super::authz::Operator,
        email: &str,
    ) -> AppResult<()> {
        let p = self
            .store
            .person_by_email(&email.trim().to_lowercase())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("a person with the email {email}")))?;
        let done = self
            .store
            .audited(Self::entry(
                Some(operator.who()),
                None,
                "second_factor.remove",
                &format!("person {}", p.person_id),
                None,
                None,
                serde_json::json!({}),
            ))
            .remove_second_factor(p.person_id)
            .await?;
        if !done {
            return Err(AppError::NotFound(format!("a second factor for {email}")));
        }
        Ok(())
    }
}
