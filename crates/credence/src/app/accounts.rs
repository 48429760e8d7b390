//! A person's own account: password reset by email, and what they want emailed.

use super::audit::person_ref;
use super::people::{Actor, check_new_password, hash_password, random_token, token_hash};
use super::*;

/// How long a reset link works.
pub const RESET_MINUTES: i64 = 60;
/// Reset emails per account per hour, at most (a form anyone can fill in must not become a
/// way to flood someone's inbox).
pub const RESETS_PER_HOUR: i64 = 3;

impl App {
    /// Someone asks for a password reset link for `email`. The answer never says whether the
    /// address has an account (so the form tells nobody who is registered); when it does,
    /// and the account is enabled, an email with a one-hour, one-time link goes out.
    pub async fn request_password_reset(&self, email: &str, address: &str) -> AppResult<()> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') {
            return Err(AppError::Validation(
                "Email address: enter the email address you sign in with, like name@example.com"
                    .into(),
            ));
        }
        let Some(person) = self.store.person_by_email(&email).await? else {
            return Ok(());
        };
        if person.disabled != 0 {
            return Ok(());
        }
        let hour_ago = crate::store::timestamp(chrono::Utc::now() - chrono::Duration::hours(1));
        if self
            .store
            .password_resets_since(person.person_id, &hour_ago)
            .await?
            >= RESETS_PER_HOUR
        {
            // Quietly: the links already sent still work.
            return Ok(());
        }
        let token = random_token();
        let expires =
            crate::store::timestamp(chrono::Utc::now() + chrono::Duration::minutes(RESET_MINUTES));
        let link = format!("{}/password-reset/{token}", self.public_url);
        let body = format!(
            "Hello {name},\n\nSomeone (we hope you) asked to reset your Credence password.\n\nChoose a new password here (the link works once, for {RESET_MINUTES} minutes):\n{link}\n\nIf you did not ask, ignore this email: your password stays as it is.\n",
            name = person.display_name,
        );
        let entry = Self::entry(
            Some(&person_ref(person.person_id)),
            Some(address),
            "password_reset_requested",
            &format!("person {}", person.person_id),
            None,
            None,
            serde_json::json!({}),
        );
        self.store
            .audited(entry)
            .queueing(vec![super::jobs::email_job(
                &email,
                "Reset your Credence password",
                body,
            )])
            .create_password_reset(&token_hash(&token), person.person_id, &expires)
            .await?;
        Ok(())
    }

    /// Whether a reset link can still be used (for the page that asks for the new password).
    pub async fn password_reset_valid(&self, token: &str) -> AppResult<()> {
        match self.store.password_reset(&token_hash(token)).await? {
            None => Err(AppError::NotFound("the password reset link".into())),
            Some((_, _, Some(_))) => Err(AppError::Conflict(
                "This link has been used. Ask for a new one if you still need to reset your password".into(),
            )),
            Some((_, expires, None)) if expires < crate::store::now() => Err(AppError::Conflict(
                "This link has expired. Ask for a new one".into(),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Set a new password with a reset link: every session of the account ends (someone
    /// who had the old password is signed out), and the link and any others are used up.
    pub async fn reset_password(
        &self,
        token: &str,
        password: &str,
        address: &str,
    ) -> AppResult<()> {
        self.password_reset_valid(token).await?;
        check_new_password(password)?;
        let Some((person, _, _)) = self.store.password_reset(&token_hash(token)).await? else {
            return Err(AppError::NotFound("the password reset link".into()));
        };
        let hash = hash_password(password)?;
        let entry = Self::entry(
            Some(&person_ref(person)),
            Some(address),
            "password_reset",
            &format!("person {person}"),
            None,
            None,
            serde_json::json!({"sessions_ended": true}),
        );
        if !self
            .store
            .audited(entry)
            .use_password_reset(&token_hash(token), person, &hash)
            .await?
        {
            return Err(AppError::Conflict(
                "This link has been used. Ask for a new one if you still need to reset your password".into(),
            ));
        }
        Ok(())
    }

    /// Whether the signed-in person gets emails about events (feedback, units to sign...).
    pub async fn event_emails(&self, actor: &Actor) -> AppResult<bool> {
        Ok(self.store.wants_event_emails(actor.person_id).await?)
    }

    /// Turn event emails on or off for the signed-in person.
    pub async fn set_event_emails(&self, actor: &Actor, on: bool, address: &str) -> AppResult<()> {
        let entry = Self::entry_by(
            actor,
            Some(address),
            "email_preference_set",
            &format!("person {}", actor.person_id),
            None,
            None,
            serde_json::json!({"event_emails": on}),
        );
        self.store
            .audited(entry)
            .set_event_emails(actor.person_id, on)
            .await?;
        Ok(())
    }
}
