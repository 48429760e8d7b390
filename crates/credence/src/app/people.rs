//! People: sign-in, sessions, API tokens, roles, centres and the audit log.

use super::{App, AppError, AppResult};
use crate::store::{GrantRow, PersonRow, now};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use sha2::{Digest, Sha256};

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;
/// Failed sign-ins allowed in [`RATE_WINDOW_MINUTES`] per account, and per address.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
pub const RATE_WINDOW_MINUTES: i64 = 15;

/// The roles Credence knows, as stored.
pub const ROLES: &[&str] = &[
    "ao_staff",
    "eqa",
    "centre_admin",
    "assessor",
    "iqa",
    "learner",
];

pub fn role_name(role: &str) -> &'static str {
    match role {
        "ao_staff" => "Awarding organisation staff",
        "eqa" => "External quality assurer",
        "centre_admin" => "Centre administrator",
        "assessor" => "Assessor",
        "iqa" => "Internal quality assurer",
        "learner" => "Learner",
        _ => "Unknown role",
    }
}

/// A random secret for a cookie, token or invitation: 244 bits from the OS generator.
pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// What is stored for a secret: its SHA-256, never the secret.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
}

fn password_matches(password: &str, stored: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

pub fn check_new_password(password: &str) -> AppResult<()> {
    if password.chars().count() < 12 {
        return Err(AppError::Validation(
            "Choose a password of at least 12 characters".into(),
        ));
    }
    Ok(())
}

fn minutes_ago(m: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(m))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Who is acting: a signed-in person with every role they hold, and the one in use.
#[derive(Debug, Clone)]
pub struct Actor {
    pub person_id: i64,
    pub email: String,
    pub name: String,
    pub grants: Vec<GrantRow>,
    /// The role (context) the person has chosen; the first one until they switch.
    pub active: Option<GrantRow>,
    /// Centres this person is appointed to as EQA, with the AO.
    pub eqa_centres: Vec<(i64, String)>,
    /// Set for a browser session: the token every form must carry.
    pub csrf: Option<String>,
    pub session_hash: Option<String>,
    /// This sign-in passed a second factor (or, for an API token, the person has one).
    pub second_factor: bool,
}

impl Actor {
    pub fn has_role(&self, role: &str) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
    /// AOs this person works for as staff.
    pub fn ao_codes(&self) -> Vec<&str> {
        self.grants
            .iter()
            .filter(|g| g.role == "ao_staff")
            .filter_map(|g| g.ao_code.as_deref())
            .collect()
    }
    /// Roles held at a centre.
    pub fn centre_roles(&self, centre_id: i64) -> Vec<&str> {
        self.grants
            .iter()
            .filter(|g| g.centre_id == Some(centre_id))
            .map(|g| g.role.as_str())
            .collect()
    }
    /// Learner records this person is.
    pub fn learner_ids(&self) -> Vec<i64> {
        self.grants
            .iter()
            .filter(|g| g.role == "learner")
            .filter_map(|g| g.learner_id)
            .collect()
    }
    pub fn label(&self) -> String {
        format!("{} <{}>", self.name, self.email)
    }
}

/// Why a sign-in failed, for the page.
#[derive(Debug)]
pub enum SignInError {
    Wrong,
    Limited,
    Other(AppError),
}

impl From<AppError> for SignInError {
    fn from(e: AppError) -> Self {
        SignInError::Other(e)
    }
}

/// A right password: a session, or (for a person with a second factor) a challenge to
/// answer with a code before the session is opened.
#[derive(Debug)]
pub enum SignedIn {
    /// The session cookie's token, and the person.
    Session(String, i64),
    /// The challenge cookie's token: ask for a code.
    SecondFactor(String),
}

impl App {
    /// Check an email and password; on success open a session and return its cookie token,
    /// or, when the person has a second factor, a challenge to answer first.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        address: &str,
    ) -> Result<SignedIn, SignInError> {
        let email = email.trim().to_lowercase();
        let (by_email, by_address) = self
            .store
            .sign_in_failures(&email, address, &minutes_ago(RATE_WINDOW_MINUTES))
            .await
            .map_err(AppError::from)?;
        if by_email >= MAX_FAILURES_PER_ACCOUNT || by_address >= MAX_FAILURES_PER_ADDRESS {
            return Err(SignInError::Limited);
        }
        let person = self
            .store
            .person_by_email(&email)
            .await
            .map_err(AppError::from)?;
        let ok = match &person {
            Some(PersonRow {
                password_hash: Some(h),
                disabled: 0,
                ..
            }) => password_matches(password, h),
            _ => {
                // Spend the same time as a real check, so timing does not reveal accounts.
                let _ = password_matches(password, DUMMY_HASH);
                false
            }
        };
        let Some(person) = person.filter(|_| ok) else {
            self.store
                .record_sign_in_failure(&email, address)
                .await
                .map_err(AppError::from)?;
            return Err(SignInError::Wrong);
        };
        let has_factor = self
            .store
            .second_factor(person.person_id)
            .await
            .map_err(AppError::from)?
            .is_some_and(|f| f.confirmed_at.is_some());
        if has_factor {
            // The failures are cleared only once the second factor is right too.
            let challenge = random_token();
            let expires = crate::store::timestamp(
                chrono::Utc::now()
                    + chrono::Duration::minutes(super::second_factor::CHALLENGE_MINUTES),
            );
            self.store
                .create_challenge(&token_hash(&challenge), person.person_id, &expires)
                .await
                .map_err(AppError::from)?;
            return Ok(SignedIn::SecondFactor(challenge));
        }
        self.store
            .clear_sign_in_failures(&email)
            .await
            .map_err(AppError::from)?;
        let token = self.open_session(person.person_id, address, false).await?;
        Ok(SignedIn::Session(token, person.person_id))
    }

    /// Answer a sign-in's challenge with a code from the authenticator app (or a recovery
    /// code): the session opens. Wrong codes count against the same limit as passwords.
    pub async fn sign_in_second_factor(
        &self,
        challenge: &str,
        code: &str,
        address: &str,
    ) -> Result<(String, i64), SignInError> {
        let hash = token_hash(challenge);
        let Some(person_id) = self.store.challenge(&hash).await.map_err(AppError::from)? else {
            return Err(SignInError::Other(AppError::Conflict(
                "This sign-in has expired: sign in again with your email and password".into(),
            )));
        };
        let person = self
            .store
            .person(person_id)
            .await
            .map_err(AppError::from)?
            .ok_or(SignInError::Wrong)?;
        let (by_email, by_address) = self
            .store
            .sign_in_failures(&person.email, address, &minutes_ago(RATE_WINDOW_MINUTES))
            .await
            .map_err(AppError::from)?;
        if by_email >= MAX_FAILURES_PER_ACCOUNT || by_address >= MAX_FAILURES_PER_ADDRESS {
            return Err(SignInError::Limited);
        }
        if !self.check_second_factor(person_id, code).await? {
            self.store
                .record_sign_in_failure(&person.email, address)
                .await
                .map_err(AppError::from)?;
            return Err(SignInError::Wrong);
        }
        self.store
            .delete_challenge(&hash)
            .await
            .map_err(AppError::from)?;
        self.store
            .clear_sign_in_failures(&person.email)
            .await
            .map_err(AppError::from)?;
        let token = self.open_session(person_id, address, true).await?;
        Ok((token, person_id))
    }

    /// Open a session (audited); returns its cookie token.
    async fn open_session(
        &self,
        person_id: i64,
        address: &str,
        second_factor: bool,
    ) -> AppResult<String> {
        let token = random_token();
        let expires = (chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let entry = Self::entry(
            Some(&super::audit::person_ref(person_id)),
            Some(address),
            "sign_in",
            &format!("person {person_id}"),
            None,
            None,
            serde_json::json!({"second_factor": second_factor}),
        );
        self.store
            .audited(entry)
            .create_session(
                &token_hash(&token),
                person_id,
                &random_token(),
                &expires,
                second_factor,
            )
            .await?;
        Ok(token)
    }

    pub async fn sign_out(&self, session_token_hash: &str) -> AppResult<()> {
        Ok(self.store.delete_session(session_token_hash).await?)
    }

    pub(crate) async fn actor_for(
        &self,
        person_id: i64,
        active: Option<i64>,
        csrf: Option<String>,
        session_hash: Option<String>,
        second_factor: bool,
    ) -> AppResult<Option<Actor>> {
        let Some((person, grants, eqa_centres)) = self.store.person_with_roles(person_id).await?
        else {
            return Ok(None);
        };
        Ok(actor_of_holder(
            crate::store::CredentialHolder {
                person,
                grants,
                eqa_centres,
                active_grant_id: active,
                csrf_token: csrf,
                second_factor,
            },
            session_hash,
        ))
    }

    /// A person as an actor outside any sign-in (demo data and tests act through the use
    /// cases as the people they make).
    pub(crate) async fn actor_of(&self, person_id: i64) -> AppResult<Actor> {
        self.actor_for(person_id, None, None, None, false)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("person {person_id}")))
    }

    /// The actor behind a session cookie's token, if the session is live.
    pub async fn actor_from_session(&self, token: &str) -> AppResult<Option<Actor>> {
        let hash = token_hash(token);
        Ok(self
            .store
            .session_holder(&hash)
            .await?
            .and_then(|h| actor_of_holder(h, Some(hash))))
    }

    /// The actor behind an API token (`Authorization: Bearer ...`).
    pub async fn actor_from_api_token(&self, token: &str) -> AppResult<Option<Actor>> {
        // A token is made in a signed-in session: it counts as a second factor once the
        // person has one (their sign-ins need it from then on).
        Ok(self
            .store
            .token_holder(&token_hash(token))
            .await?
            .and_then(|h| actor_of_holder(h, None)))
    }

    /// Switch the role in use for this session.
    pub async fn switch_context(&self, actor: &Actor, grant_id: i64) -> AppResult<()> {
        let hash = actor.session_hash.as_deref().ok_or_else(|| {
            AppError::Validation("only a browser session has a context to switch".into())
        })?;
        if !actor.grants.iter().any(|g| g.role_grant_id == grant_id) {
            return Err(AppError::NotFound(format!("role {grant_id}")));
        }
        Ok(self.store.set_active_grant(hash, grant_id).await?)
    }

    /// Create a personal API token; the secret is shown once.
    pub async fn create_api_token(&self, actor: &Actor, name: &str) -> AppResult<String> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::Validation(
                "Give the token a name, so you know what uses it".into(),
            ));
        }
        let token = format!("cred_{}", random_token());
        let entry = Self::entry_by(
            actor,
            None,
            "api_token_created",
            &format!("person {}", actor.person_id),
            None,
            None,
            serde_json::json!({"name": name}),
        );
        self.store
            .audited(entry)
            .create_api_token(actor.person_id, name, &token_hash(&token))
            .await?;
        Ok(token)
    }

    pub async fn revoke_api_token(&self, actor: &Actor, token_id: i64) -> AppResult<()> {
        let entry = Self::entry_by(
            actor,
            None,
            "api_token_revoked",
            &format!("person {}", actor.person_id),
            None,
            None,
            serde_json::json!({"token": token_id}),
        );
        self.store
            .audited(entry)
            .revoke_api_token(actor.person_id, token_id)
            .await
            .map_err(|_| AppError::NotFound(format!("token {token_id}")))?;
        Ok(())
    }

    /// Create a person with a password (administration and demo data).
    pub async fn create_person(
        &self,
        email: &str,
        name: &str,
        password: Option<&str>,
    ) -> AppResult<i64> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') || email.len() < 3 {
            return Err(AppError::Validation(format!(
                "'{email}' is not an email address"
            )));
        }
        let hash = match password {
            Some(p) => {
                check_new_password(p)?;
                Some(hash_password(p)?)
            }
            None => None,
        };
        Ok(self
            .store
            .insert_person(&email, name.trim(), hash.as_deref())
            .await?)
    }
}

/// A valid argon2 hash of a random string, checked against when an account does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0mUT2y5lMD0LWPWFx9bb5cnz1gU4tvD7pCHyqY7xHqM";

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;

impl App {
    /// Invite a person to a role by a one-time link. Centre roles are given by that
    /// centre's administrators; AO roles (staff, EQA) by that AO's staff. Returns the
    /// secret token for the link (shown once; only its hash is kept).
    #[expect(
        clippy::too_many_arguments,
        reason = "who invites whom, as what, where, from where"
    )]
    pub async fn invite(
        &self,
        actor: &Actor,
        email: &str,
        name: &str,
        role: &str,
        ao: Option<&str>,
        centre: Option<i64>,
        address: &str,
    ) -> AppResult<String> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') {
            return Err(AppError::Validation(format!(
                "'{email}' is not an email address"
            )));
        }
        if name.trim().is_empty() {
            return Err(AppError::Validation("Enter the person's name".into()));
        }
        match (role, ao, centre) {
            ("centre_admin" | "assessor" | "iqa", _, Some(c)) => {
                if !actor.centre_roles(c).contains(&"centre_admin") {
                    return Err(AppError::Validation("Only the centre's administrators invite its staff".into()));
                }
            }
            ("ao_staff" | "eqa", Some(a), None) => {
                if !actor.ao_codes().contains(&a) {
                    return Err(AppError::Validation(format!("Only {a} staff invite {a} staff and EQAs")));
                }
            }
            _ => return Err(AppError::Validation("Choose a role: centre staff at a centre, or AO staff or EQA for an awarding organisation".into())),
        }
        let place = match (ao, centre) {
            (_, Some(c)) => self
                .store
                .centre(c)
                .await?
                .map(|c| c.name)
                .unwrap_or_default(),
            (Some(a), None) => a.to_string(),
            (None, None) => String::new(),
        };
        self.send_invitation(
            actor,
            &email,
            name.trim(),
            role,
            ao,
            centre,
            None,
            &place,
            address,
        )
        .await
    }

    /// Invite a registered learner to sign in (their own portfolio, plan and feedback), at
    /// `email` or the address their record has. Only an administrator of a centre the
    /// learner is registered at invites them; an email goes out at once (by the job queue).
    pub async fn invite_learner(
        &self,
        actor: &Actor,
        centre: i64,
        learner_id: i64,
        email: Option<&str>,
        address: &str,
    ) -> AppResult<String> {
        let scope = self.centre_admin_scope(actor, centre).await?;
        let learner = self
            .store
            .learner(learner_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("learner {learner_id}")))?;
        let registered_here = self
            .store
            .registrations_of_learner(learner_id)
            .await?
            .iter()
            .any(|r| r.centre_id == scope.centre_id());
        if !registered_here {
            return Err(AppError::NotFound(format!("learner {learner_id}")));
        }
        let email = email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .or(learner.email.clone())
            .ok_or_else(|| {
                AppError::Validation(
                    "Enter the learner's email address: their record has none".into(),
                )
            })?
            .to_lowercase();
        if !email.contains('@') {
            return Err(AppError::Validation(format!(
                "Email address: '{email}' is not an email address"
            )));
        }
        if self.store.learner_has_sign_in(learner_id).await? {
            return Err(AppError::Conflict(format!(
                "{} {} can already sign in: they can reset their password from the sign-in page if they have forgotten it",
                learner.given_name, learner.family_name
            )));
        }
        let place = self
            .store
            .centre(centre)
            .await?
            .map(|c| c.name)
            .unwrap_or_default();
        self.send_invitation(
            actor,
            &email,
            &format!("{} {}", learner.given_name, learner.family_name),
            "learner",
            None,
            Some(centre),
            Some(learner_id),
            &place,
            address,
        )
        .await
    }

    /// Invite each of `learners` (just registered from a file) who has an email address and
    /// no sign-in yet. Returns (invited, left out: no email or already signing in).
    pub async fn invite_learners(
        &self,
        actor: &Actor,
        centre: i64,
        learners: &[i64],
        address: &str,
    ) -> AppResult<(usize, usize)> {
        let (mut invited, mut left) = (0, 0);
        for &l in learners {
            match self.invite_learner(actor, centre, l, None, address).await {
                Ok(_) => invited += 1,
                Err(AppError::Validation(_) | AppError::Conflict(_)) => left += 1,
                Err(e) => return Err(e),
            }
        }
        Ok((invited, left))
    }

    /// Make the invitation, audited, with its email queued in the same transaction.
    #[expect(
        clippy::too_many_arguments,
        reason = "who invites whom, as what, where, from where"
    )]
    async fn send_invitation(
        &self,
        actor: &Actor,
        email: &str,
        name: &str,
        role: &str,
        ao: Option<&str>,
        centre: Option<i64>,
        learner: Option<i64>,
        place: &str,
        address: &str,
    ) -> AppResult<String> {
        let token = random_token();
        let expires = (chrono::Utc::now() + chrono::Duration::days(INVITATION_DAYS))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let entry = Self::entry_by(
            actor,
            Some(address),
            "person_invited",
            "invitation",
            centre,
            learner,
            // The address is personal data: the log keeps only a keyed hash of it, enough
            // to show later which address was invited (`App::provable`), nothing to read.
            serde_json::json!({"role": role, "ao": ao, "email_hash": self.provable(email)?}),
        );
        let link = format!("{}/invitations/{token}", self.public_url);
        let at = if place.is_empty() {
            String::new()
        } else {
            format!(" at {place}")
        };
        let body = format!(
            "Hello {name},\n\n{inviter} has invited you to Credence as {role}{at}.\n\nChoose your password and sign in here (the link works once, for {days} days):\n{link}\n\nIf you were not expecting this email, you can ignore it: nothing happens unless the link is used.\n",
            inviter = actor.name,
            role = role_name(role).to_lowercase(),
            days = INVITATION_DAYS,
        );
        let job = super::jobs::email_job(email, "Your invitation to Credence", body);
        self.store
            .audited(entry)
            .queueing(vec![job])
            .create_invitation(
                &token_hash(&token),
                email,
                name,
                role,
                ao,
                centre,
                learner,
                actor.person_id,
                &expires,
            )
            .await?;
        Ok(token)
    }

    /// Accept an invitation: a new person sets their password; someone who already has an
    /// account confirms with theirs (one account, whatever their roles). Returns a session
    /// token.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        address: &str,
    ) -> AppResult<Option<String>> {
        let inv = self
            .store
            .invitation(&token_hash(token))
            .await?
            .ok_or_else(|| AppError::NotFound("the invitation".into()))?;
        if inv.accepted_at.is_some() {
            return Err(AppError::Conflict(
                "This invitation has been used. Sign in instead, or ask for a new invitation"
                    .into(),
            ));
        }
        if inv.expires_at < now() {
            return Err(AppError::Conflict(
                "This invitation has expired. Ask the person who invited you for a new one".into(),
            ));
        }
        let person = match self.store.person_by_email(&inv.email).await? {
            Some(p) => {
                // The same limit as signing in, counted against the same account and
                // address: an invitation is no way round it.
                let (by_email, by_address) = self
                    .store
                    .sign_in_failures(&p.email, address, &minutes_ago(RATE_WINDOW_MINUTES))
                    .await?;
                if by_email >= MAX_FAILURES_PER_ACCOUNT || by_address >= MAX_FAILURES_PER_ADDRESS {
                    return Err(AppError::Limited(
                        "Too many wrong passwords for this account: wait 15 minutes and try again, or ask your administrator to reset your password".into(),
                    ));
                }
                let ok = p
                    .password_hash
                    .as_deref()
                    .is_some_and(|h| password_matches(password, h));
                if !ok {
                    self.store.record_sign_in_failure(&p.email, address).await?;
                    return Err(AppError::Validation(
                        "You already have an account: enter its password to add this role to it"
                            .into(),
                    ));
                }
                p.person_id
            }
            None => {
                self.create_person(&inv.email, &inv.display_name, Some(password))
                    .await?
            }
        };
        if !self.store.use_invitation(inv.invitation_id).await? {
            return Err(AppError::Conflict("This invitation has been used".into()));
        }
        let entry = Self::entry(
            Some(&super::audit::person_ref(person)),
            Some(address),
            "invitation_accepted",
            &format!("person {person}"),
            inv.centre_id,
            None,
            serde_json::json!({"role": inv.role}),
        );
        self.store
            .audited(entry)
            .grant_role(
                person,
                &inv.role,
                inv.ao_code.as_deref(),
                inv.centre_id,
                inv.learner_id,
            )
            .await?;
        // Someone with a second factor signs in with it: the password alone opens nothing.
        if self
            .store
            .second_factor(person)
            .await?
            .is_some_and(|f| f.confirmed_at.is_some())
        {
            return Ok(None);
        }
        Ok(Some(self.open_session(person, address, false).await?))
    }
}

/// The actor a credential's holder acts as: none if their account is disabled. The role in
/// use is the one the session chose, if they still hold it, or their first.
fn actor_of_holder(
    h: crate::store::CredentialHolder,
    session_hash: Option<String>,
) -> Option<Actor> {
    if h.person.disabled != 0 {
        return None;
    }
    let active = h
        .active_grant_id
        .and_then(|id| h.grants.iter().find(|g| g.role_grant_id == id).cloned())
        .or_else(|| h.grants.first().cloned());
    Some(Actor {
        person_id: h.person.person_id,
        email: h.person.email,
        name: h.person.display_name,
        eqa_centres: h.eqa_centres,
        grants: h.grants,
        active,
        csrf: h.csrf_token,
        session_hash,
        second_factor: h.second_factor,
    })
}
