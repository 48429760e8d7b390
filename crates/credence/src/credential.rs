//! Open Badges 3.0 credentials, signed as VC-JWT, with signing keys per awarding
//! organisation (AO). Pure and I/O-free, except [`Kek::load_or_create`] and
//! [`Kek::from_env_or_file`], which read (or create) the key-encryption key.
//!
//! # URLs
//!
//! Every absolute URL is built from the one `--public-url` setting (`public_url` below,
//! without a trailing slash; one is trimmed if given):
//!
//! | what | URL | served as |
//! | --- | --- | --- |
//! | a certificate's credential (also the credential's `id` and the JWT's `jti`) | `{public_url}/api/v1/certificates/{number}/credential` | the compact VC-JWT, `Content-Type: application/vc+jwt` |
//! | the AO's issuer Profile (`issuer.id`, the JWT's `iss`) | `{public_url}/aos/{ao_code}` | JSON, [`issuer_profile`] |
//! | an achievement (`credentialSubject.achievement.id`) | `{public_url}/achievements/{qan or unit reference, percent-encoded}` | JSON Achievement or a page |
//! | the AO's revocation list (`credentialStatus.id`) | `{public_url}/api/v1/revocation-lists/{ao_code}` | JSON, [`revocation_list`] |
//! | every public key | `{public_url}/.well-known/jwks.json` | JSON, [`jwks`] |
//! | one public key (the JWT header's `kid`) | `{public_url}/api/v1/keys/{kid}` | one JWK as JSON, [`published_jwk`] |
//! | the human verification page | `{public_url}/certificates/{number}` | HTML, [`verification_page_url`] |
//!
//! The JWT header's `kid` is the *URL* of the key, not the bare key id: Open Badges 3.0
//! §8.2 says `kid` is "a URI that can be dereferenced to an object of type JWK", and
//! 1EdTech's validator fetches exactly that URL and reads `kty`, `n` and `e` from the
//! answer. The JWK listed in the JWKS carries the same URL as its `kid`, so a verifier
//! using a JWKS (such as `jose`'s `createLocalJWKSet`) matches the key too.
//!
//! # Keys
//!
//! Each AO signs with its own RSA-2048 key (RS256, which 1EdTech's validator accepts).
//! [`generate_key`] makes one on first use; the database stores the bare `kid`, the public
//! JWK and the *sealed* private key: PKCS#8 encrypted with AES-256-GCM under the
//! key-encryption key ([`Kek`]) with the `kid` as associated data, so a sealed key copied
//! onto another key's row does not open. The KEK is read from a file or the environment
//! (`CREDENCE_KEK`), never from the database. Rotation: generate a new key and sign with
//! the newest; old keys stay in the JWKS so credentials they signed still verify.
//!
//! # The learner
//!
//! The learner is identified, as OB 3.0 allows, by an `IdentityObject` holding the salted
//! SHA-256 of the email address (lower-cased and trimmed, then the salt appended):
//! `"identityHash": "sha256$" + hex(SHA-256(email + salt))`, `"hashed": true`, `"salt"`.
//! Use [`learner_salt`] for the salt: different for every certificate (so two credentials
//! of one learner cannot be linked by the hash) and the same each time one certificate is
//! signed. The learner's name is given plainly (`identityType` `name`), as on the printed
//! certificate. The ULN is never put in a credential. `credentialSubject.id` (the JWT's
//! `sub`, which OB 3.0 requires) is a `urn:uuid:` derived from the credential id, so it
//! names this award only.

use anyhow::{Context, Result, anyhow, bail};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use aws_lc_rs::{digest, hmac, rand};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Map, Value, json};
use std::path::Path;

/// The W3C Verifiable Credentials 2.0 context.
pub const VC_CONTEXT_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// The Open Badges 3.0 context, version 3.0.3.
pub const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// 1EdTech's JSON Schema for an AchievementCredential, named in `credentialSchema`.
pub const OB_SCHEMA: &str =
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json";
/// The media type to serve a signed credential with.
pub const VC_JWT_MEDIA_TYPE: &str = "application/vc+jwt";
/// The JOSE header's `typ`. Open Badges 3.0 §8.2.3: "If present, MUST be set to \"JWT\"",
/// and no other JOSE headers than `alg`, `kid`, `jwk`, `typ` are allowed.
pub const JWT_TYP: &str = "JWT";
/// The environment variable that may hold the key-encryption key.
pub const KEK_ENV: &str = "CREDENCE_KEK";

const SEAL_VERSION: u8 = 1;
const KEK_ID_LEN: usize = 8;
const SEAL_AAD_PREFIX: &[u8] = b"credence/ob3-signing-key/v1\0";

// ---------------------------------------------------------------------------------------
// The key-encryption key

/// The key-encryption key: 32 random bytes, read from a file or the environment, never
/// from the database.
pub struct Kek([u8; 32]);

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek(id {})", self.id())
    }
}

impl Kek {
    /// Parse 32 bytes written as base64url (padded or not) or hex, surrounding whitespace
    /// ignored.
    pub fn from_text(text: &str) -> Result<Kek> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).ok()
        } else {
            B64URL.decode(t.trim_end_matches('=')).ok()
        };
        match bytes.map(<[u8; 32]>::try_from) {
            Some(Ok(raw)) => Ok(Kek(raw)),
            _ => bail!(
                "the key-encryption key must be 32 bytes written as base64url (43 characters) \
                 or hex (64 characters); got {} characters that are neither",
                t.len()
            ),
        }
    }

    /// Read the KEK from `path`; if there is no such file, create one with a new random
    /// key, readable by its owner only (mode 0600), the default for a single server.
    /// Servers that share a database must share this file (or [`KEK_ENV`]).
    pub fn load_or_create(path: &Path) -> Result<Kek> {
        match std::fs::read_to_string(path) {
            Ok(text) => Kek::from_text(&text)
                .with_context(|| format!("reading the key-encryption key {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let kek = Kek::generate();
                match write_private(path, &format!("{}\n", kek.to_text())) {
                    Ok(()) => Ok(kek),
                    // Another process created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Kek::load_or_create(path)
                    }
                    Err(e) => Err(anyhow!(
                        "creating the key-encryption key {}: {e}",
                        path.display()
                    )),
                }
            }
            Err(e) => Err(anyhow!(
                "reading the key-encryption key {}: {e}",
                path.display()
            )),
        }
    }

    /// The KEK from the environment variable [`KEK_ENV`] if it is set, else
    /// [`Kek::load_or_create`] on `path`.
    pub fn from_env_or_file(path: &Path) -> Result<Kek> {
        match std::env::var(KEK_ENV) {
            Ok(text) => Kek::from_text(&text).with_context(|| format!("reading {KEK_ENV}")),
            Err(_) => Kek::load_or_create(path),
        }
    }

    /// A new random KEK.
    pub fn generate() -> Kek {
        let mut raw = [0u8; 32];
        random(&mut raw);
        Kek(raw)
    }

    /// The KEK as base64url without padding (43 characters).
    pub fn to_text(&self) -> String {
        B64URL.encode(self.0)
    }

    /// A short public fingerprint (hex) naming this KEK in sealed keys and messages; it
    /// reveals nothing of the key.
    pub fn id(&self) -> String {
        hex::encode(self.id_bytes())
    }

    fn id_bytes(&self) -> [u8; KEK_ID_LEN] {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(b"credence/kek-id/v1\0");
        ctx.update(&self.0);
        let d = ctx.finish();
        let mut out = [0u8; KEK_ID_LEN];
        out.copy_from_slice(&d.as_ref()[..KEK_ID_LEN]);
        out
    }

    fn aead(&self) -> Result<LessSafeKey> {
        let key = UnboundKey::new(&AES_256_GCM, &self.0)
            .map_err(|_| anyhow!("AES-256-GCM rejected the key-encryption key"))?;
        Ok(LessSafeKey::new(key))
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

fn random(buf: &mut [u8]) {
    if rand::fill(buf).is_err() {
        // No OS randomness is a broken machine; fall back on the same source as UUID v4.
        for chunk in buf.chunks_mut(16) {
            let u = uuid::Uuid::new_v4();
            chunk.copy_from_slice(&u.as_bytes()[..chunk.len()]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Signing keys

/// A new signing key for an AO.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Unique: `{ao code}-{YYYY-MM-DD}-{8 hex}`, e.g. `isp-2026-11-30-1f0c9a7e`.
    pub kid: String,
    /// The public JWK as stored: `kty`, `n`, `e`, `alg` RS256, `use` sig, `kid` (bare).
    pub public_jwk: Value,
    /// The PKCS#8 private key sealed under the KEK with the kid as associated data.
    pub sealed_private_key: Vec<u8>,
}

/// Generate an RSA-2048 signing key for the AO `ao_code`, created at
/// `created_at_rfc3339` (its date goes into the kid).
pub fn generate_key(kek: &Kek, ao_code: &str, created_at_rfc3339: &str) -> Result<NewKey> {
    let date = created_at_rfc3339.get(..10).unwrap_or_default();
    if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() {
        bail!("the key's creation time {created_at_rfc3339:?} does not start with a date");
    }
    let ao: String = ao_code
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if ao.is_empty() {
        bail!("an AO's signing key needs the AO's code");
    }
    let mut suffix = [0u8; 4];
    random(&mut suffix);
    let kid = format!("{ao}-{date}-{}", hex::encode(suffix));

    let pair =
        KeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow!("RSA key generation failed"))?;
    let pkcs8 = pair
        .as_der()
        .map_err(|_| anyhow!("could not encode the new key as PKCS#8"))?;
    let (n, e) = rsa_public_components(pair.public_key().as_ref())?;
    let public_jwk = json!({
        "kty": "RSA",
        "n": B64URL.encode(n),
        "e": B64URL.encode(e),
        "alg": "RS256",
        "use": "sig",
        "kid": kid,
    });
    let sealed_private_key = seal(kek, &kid, pkcs8.as_ref())?;
    Ok(NewKey {
        kid,
        public_jwk,
        sealed_private_key,
    })
}

fn seal_aad(kid: &str) -> Vec<u8> {
    [SEAL_AAD_PREFIX, kid.as_bytes()].concat()
}

/// Sealed layout: version (1) ‖ KEK id (8) ‖ nonce (12) ‖ AES-256-GCM(ciphertext ‖ tag).
fn seal(kek: &Kek, kid: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    random(&mut nonce);
    let mut body = plaintext.to_vec();
    kek.aead()?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(seal_aad(kid)),
            &mut body,
        )
        .map_err(|_| anyhow!("sealing the signing key failed"))?;
    let mut out = Vec::with_capacity(1 + KEK_ID_LEN + NONCE_LEN + body.len());
    out.push(SEAL_VERSION);
    out.extend_from_slice(&kek.id_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

fn unseal(kek: &Kek, kid: &str, sealed: &[u8]) -> Result<Vec<u8>> {
    let header = 1 + KEK_ID_LEN + NONCE_LEN;
    if sealed.len() <= header || sealed[0] != SEAL_VERSION {
        bail!("the sealed signing key {kid} is not in a format this Credence knows");
    }
    let kek_id = &sealed[1..1 + KEK_ID_LEN];
    if kek_id != kek.id_bytes() {
        bail!(
            "the signing key {kid} was sealed with another key-encryption key (KEK id {}); \
             this server's KEK is {}: give every server the same KEK file or {KEK_ENV}",
            hex::encode(kek_id),
            kek.id()
        );
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&sealed[1 + KEK_ID_LEN..header]);
    let mut body = sealed[header..].to_vec();
    let plain = kek
        .aead()?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(seal_aad(kid)),
            &mut body,
        )
        .map_err(|_| {
            anyhow!(
                "the sealed signing key does not open as key {kid}: it belongs to another kid \
                 or was altered"
            )
        })?;
    Ok(plain.to_vec())
}

/// The modulus and exponent of a DER `RSAPublicKey` (RFC 8017 A.1.1), leading zeros
/// stripped as a JWK wants them.
fn rsa_public_components(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    fn take(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&t, rest) = input.split_first()?;
        if t != tag {
            return None;
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let (bytes, r) = rest.split_at(n);
            rest = r;
            bytes.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b))
        };
        if rest.len() < len {
            return None;
        }
        Some(rest.split_at(len))
    }
    let strip = |v: &[u8]| {
        let i = v
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(v.len().saturating_sub(1));
        v[i..].to_vec()
    };
    let (seq, _) = take(der, 0x30).context("the RSA public key is not a DER sequence")?;
    let (n, rest) = take(seq, 0x02).context("the RSA public key has no modulus")?;
    let (e, _) = take(rest, 0x02).context("the RSA public key has no exponent")?;
    Ok((strip(n), strip(e)))
}

/// Sign `payload` as a compact JWS (RS256) with the AO's key `kid`. The JOSE header is
/// `{"alg":"RS256","typ":"JWT","kid":"{public_url}/api/v1/keys/{kid}"}`: the `kid` is the
/// URL that serves the public JWK (see the module documentation).
pub fn sign_jwt(
    kek: &Kek,
    kid: &str,
    sealed_private_key: &[u8],
    public_url: &str,
    payload: &Value,
) -> Result<String> {
    let pkcs8 = unseal(kek, kid, sealed_private_key)?;
    let pair = KeyPair::from_pkcs8(&pkcs8)
        .map_err(|e| anyhow!("the signing key {kid} is not a valid RSA key: {e}"))?;
    let header = json!({"alg": "RS256", "typ": JWT_TYP, "kid": key_url(public_url, kid)});
    let signing_input = format!(
        "{}.{}",
        B64URL.encode(serde_json::to_vec(&header)?),
        B64URL.encode(serde_json::to_vec(payload)?)
    );
    let mut signature = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| anyhow!("signing with the key {kid} failed"))?;
    Ok(format!("{signing_input}.{}", B64URL.encode(signature)))
}

/// The URL serving the public JWK of `kid` (the JWT header's `kid`).
pub fn key_url(public_url: &str, kid: &str) -> String {
    format!("{}/api/v1/keys/{}", base(public_url), path_segment(kid))
}

/// A stored public JWK as published: its `kid` becomes [`key_url`], `alg` RS256 and `use`
/// sig are set, and anything private (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`) is dropped.
/// Serve it at [`key_url`].
pub fn published_jwk(public_url: &str, stored_jwk: &Value) -> Value {
    let mut jwk: Map<String, Value> = stored_jwk.as_object().cloned().unwrap_or_default();
    for private in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
        jwk.remove(private);
    }
    let kid = jwk
        .get("kid")
        .and_then(Value::as_str)
        .map(|k| {
            // Idempotent: a kid that is already a URL is kept.
            if k.contains("://") {
                k.to_string()
            } else {
                key_url(public_url, k)
            }
        })
        .unwrap_or_default();
    jwk.insert("kid".into(), Value::String(kid));
    jwk.insert("alg".into(), json!("RS256"));
    jwk.insert("use".into(), json!("sig"));
    Value::Object(jwk)
}

/// The JWKS served at `{public_url}/.well-known/jwks.json`: `{"keys":[...]}` with every
/// stored public JWK (old ones too) as [`published_jwk`].
pub fn jwks(public_url: &str, keys: &[Value]) -> Value {
    json!({"keys": keys.iter().map(|k| published_jwk(public_url, k)).collect::<Vec<_>>()})
}

// ---------------------------------------------------------------------------------------
// The credential

/// What a credential says, taken from the certificate record; nothing here depends on
/// whether the certificate is revoked (that is the revocation list's business).
#[derive(Debug, Clone, Default)]
pub struct CredentialFacts {
    /// The certificate number.
    pub number: String,
    pub ao_code: String,
    pub ao_name: String,
    /// The AO's public web page, if known.
    pub ao_url: Option<String>,
    /// The qualification's QAN, for a qualification certificate.
    pub qan: Option<String>,
    /// The unit's reference, for a unit certificate.
    pub unit_reference: Option<String>,
    pub title: String,
    pub description: String,
    /// E.g. "Level 3".
    pub level: Option<String>,
    pub grade: Option<String>,
    pub credits: Option<u32>,
    /// The units achieved: (reference, title, credits).
    pub units: Vec<(String, String, Option<u32>)>,
    pub learner_name: String,
    pub learner_email: Option<String>,
    /// "YYYY-MM-DD" or RFC 3339.
    pub awarded_on: String,
    /// RFC 3339: when the certificate was issued (the credential's `validFrom`).
    pub issued_at: String,
    /// This certificate's position in its AO's status list (not used by the
    /// 1EdTechRevocationList, which lists ids; kept for a bitstring status list).
    pub status_list_index: u64,
}

fn base(public_url: &str) -> &str {
    public_url.trim().trim_end_matches('/')
}

/// Percent-encode everything outside RFC 3986's unreserved characters.
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `{public_url}/api/v1/certificates/{number}/credential`: the credential's id.
pub fn credential_url(public_url: &str, number: &str) -> String {
    format!(
        "{}/api/v1/certificates/{}/credential",
        base(public_url),
        path_segment(number)
    )
}

/// `{public_url}/aos/{ao_code}`: the AO's issuer Profile.
pub fn issuer_url(public_url: &str, ao_code: &str) -> String {
    format!("{}/aos/{}", base(public_url), path_segment(ao_code))
}

/// `{public_url}/achievements/{qan or unit reference}`.
pub fn achievement_url(public_url: &str, code: &str) -> String {
    format!("{}/achievements/{}", base(public_url), path_segment(code))
}

/// `{public_url}/api/v1/revocation-lists/{ao_code}`.
pub fn revocation_list_url(public_url: &str, ao_code: &str) -> String {
    format!(
        "{}/api/v1/revocation-lists/{}",
        base(public_url),
        path_segment(ao_code)
    )
}

/// `{public_url}/.well-known/jwks.json`.
pub fn jwks_url(public_url: &str) -> String {
    format!("{}/.well-known/jwks.json", base(public_url))
}

/// `{public_url}/certificates/{number}`: the human verification page.
pub fn verification_page_url(public_url: &str, number: &str) -> String {
    format!("{}/certificates/{}", base(public_url), path_segment(number))
}

/// The salt for the learner's identity hash in the credential of certificate `number`:
/// 32 hex characters, HMAC-SHA256 of the number under a key derived from the KEK. The
/// same for every signing of one certificate, different between certificates, and not
/// computable in advance by anyone without the KEK. (It is published in the credential,
/// as OB 3.0 requires for a verifier to check an email against the hash.)
pub fn learner_salt(kek: &Kek, number: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &kek.0);
    let tag = hmac::sign(
        &key,
        format!("credence/ob3-identity-salt/v1\0{number}").as_bytes(),
    );
    hex::encode(&tag.as_ref()[..16])
}

/// OB 3.0's IdentityHash of an email address: `sha256$` and the lower-case hex SHA-256 of
/// the trimmed, lower-cased address followed by the salt.
pub fn email_identity_hash(email: &str, salt: &str) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(email.trim().to_lowercase().as_bytes());
    ctx.update(salt.as_bytes());
    format!("sha256${}", hex::encode(ctx.finish().as_ref()))
}

/// A date or date-time as an RFC 3339 date-time (a bare date becomes midnight UTC).
fn date_time(s: &str) -> String {
    let s = s.trim();
    if s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() {
        format!("{s}T00:00:00Z")
    } else {
        s.to_string()
    }
}

/// The AO's issuer Profile, embedded as the credential's `issuer` and served at
/// [`issuer_url`] (with an `@context` added there).
pub fn issuer_profile(
    public_url: &str,
    ao_code: &str,
    ao_name: &str,
    ao_url: Option<&str>,
) -> Value {
    let mut p = json!({
        "id": issuer_url(public_url, ao_code),
        "type": ["Profile"],
        "name": ao_name,
    });
    if let Some(url) = ao_url.filter(|u| !u.trim().is_empty()) {
        p["url"] = json!(url.trim());
    }
    p
}

/// The unsigned Open Badges 3.0 AchievementCredential of a certificate.
pub fn achievement_credential(facts: &CredentialFacts, public_url: &str, salt: &str) -> Value {
    let id = credential_url(public_url, &facts.number);
    let code = facts
        .qan
        .as_deref()
        .or(facts.unit_reference.as_deref())
        .filter(|c| !c.trim().is_empty())
        .unwrap_or(&facts.number);
    let achievement_id = achievement_url(public_url, code);

    let mut narrative = format!(
        "Awarded by {} to a learner who met every assessment requirement of {}",
        facts.ao_name, facts.title
    );
    if let Some(level) = &facts.level {
        narrative.push_str(&format!(" ({level})"));
    }
    narrative.push('.');
    if !facts.units.is_empty() {
        narrative.push_str("\n\nUnits achieved:\n");
        for (reference, title, credits) in &facts.units {
            narrative.push_str(&format!("\n- {reference} {title}"));
            if let Some(c) = credits {
                narrative.push_str(&format!(" ({c} credits)"));
            }
        }
    }
    let description = if facts.description.trim().is_empty() {
        facts.title.clone()
    } else {
        facts.description.clone()
    };
    let mut achievement = json!({
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": if facts.qan.is_some() { "Certificate" } else { "ext:Unit" },
        "name": facts.title,
        "description": description,
        "criteria": {"narrative": narrative},
        "creator": issuer_profile(public_url, &facts.ao_code, &facts.ao_name, facts.ao_url.as_deref()),
    });
    let mut identifiers = Vec::new();
    if let Some(qan) = &facts.qan {
        achievement["humanCode"] = json!(qan);
        identifiers.push(
            json!({"type": "IdentifierEntry", "identifier": qan, "identifierType": "ext:QAN"}),
        );
    }
    if let Some(unit) = &facts.unit_reference {
        if facts.qan.is_none() {
            achievement["humanCode"] = json!(unit);
        }
        identifiers.push(
            json!({"type": "IdentifierEntry", "identifier": unit, "identifierType": "ext:UnitReference"}),
        );
    }
    if !identifiers.is_empty() {
        achievement["otherIdentifier"] = Value::Array(identifiers);
    }
    if let Some(c) = facts.credits {
        achievement["creditsAvailable"] = json!(c);
    }
    if let Some(level) = &facts.level {
        achievement["tag"] = json!([level]);
    }
    let grade_description = format!("{achievement_id}#grade");
    if facts.grade.is_some() {
        achievement["resultDescription"] = json!([{
            "id": grade_description,
            "type": ["ResultDescription"],
            "name": "Grade",
            "resultType": "LetterGrade",
        }]);
    }

    let mut identity = Vec::new();
    if let Some(email) = facts
        .learner_email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
    {
        identity.push(json!({
            "type": "IdentityObject",
            "identityHash": email_identity_hash(email, salt),
            "identityType": "emailAddress",
            "hashed": true,
            "salt": salt,
        }));
    }
    if !facts.learner_name.trim().is_empty() {
        identity.push(json!({
            "type": "IdentityObject",
            "identityHash": facts.learner_name.trim(),
            "identityType": "name",
            "hashed": false,
        }));
    }
    let subject_id = format!(
        "urn:uuid:{}",
        uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_URL,
            format!("{id}#subject").as_bytes()
        )
    );
    let mut subject = json!({
        "id": subject_id,
        "type": ["AchievementSubject"],
        "achievement": achievement,
    });
    if !identity.is_empty() {
        subject["identifier"] = Value::Array(identity);
    }
    if let Some(c) = facts.credits {
        subject["creditsEarned"] = json!(c);
    }
    if let Some(grade) = &facts.grade {
        subject["result"] = json!([{
            "type": ["Result"],
            "resultDescription": grade_description,
            "value": grade,
        }]);
    }

    json!({
        "@context": [VC_CONTEXT_V2, OB_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", "AchievementCredential"],
        "name": facts.title,
        "description": format!("Certificate {} awarded by {}", facts.number, facts.ao_name),
        "issuer": issuer_profile(public_url, &facts.ao_code, &facts.ao_name, facts.ao_url.as_deref()),
        "validFrom": date_time(&facts.issued_at),
        "awardedDate": date_time(&facts.awarded_on),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": revocation_list_url(public_url, &facts.ao_code),
            "type": "1EdTechRevocationList",
        },
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    })
}

/// The JWT claims for a credential, per Open Badges 3.0 §8.2.4: the credential object
/// itself (VC 2.0 style, no `vc` wrapper) with `iss` = `issuer.id`, `jti` = `id`,
/// `sub` = `credentialSubject.id`, `nbf` = `validFrom` and, when there is a `validUntil`,
/// `exp` (as seconds since the epoch).
pub fn vc_jwt_claims(credential: &Value) -> Value {
    let mut claims = credential.as_object().cloned().unwrap_or_default();
    let issuer = match &credential["issuer"] {
        Value::String(s) => Some(s.clone()),
        other => other["id"].as_str().map(str::to_string),
    };
    if let Some(iss) = issuer {
        claims.insert("iss".into(), json!(iss));
    }
    if let Some(jti) = credential["id"].as_str() {
        claims.insert("jti".into(), json!(jti));
    }
    if let Some(sub) = credential["credentialSubject"]["id"].as_str() {
        claims.insert("sub".into(), json!(sub));
    }
    let seconds = |v: &Value| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.timestamp())
    };
    if let Some(nbf) = seconds(&credential["validFrom"]) {
        claims.insert("nbf".into(), json!(nbf));
    }
    if let Some(exp) = seconds(&credential["validUntil"]) {
        claims.insert("exp".into(), json!(exp));
    }
    Value::Object(claims)
}

/// A certificate of the AO that was revoked, for its revocation list.
#[derive(Debug, Clone)]
pub struct Revoked {
    pub number: String,
    /// Why, if it may be published.
    pub reason: Option<String>,
}

/// The AO's 1EdTech Revocation List, served at [`revocation_list_url`]:
/// `{"id", "issuer", "revokedCredential": [{"id", "revoked": true, "revocationReason"?}]}`
/// where each `id` is a revoked credential's id ([`credential_url`]). A verifier reads
/// the credential as revoked when its id is listed with `revoked` true or absent.
pub fn revocation_list(public_url: &str, ao_code: &str, revoked: &[Revoked]) -> Value {
    let entries: Vec<Value> = revoked
        .iter()
        .map(|r| {
            let mut e = json!({"id": credential_url(public_url, &r.number), "revoked": true});
            if let Some(reason) = r.reason.as_deref().filter(|s| !s.trim().is_empty()) {
                e["revocationReason"] = json!(reason);
            }
            e
        })
        .collect();
    json!({
        "id": revocation_list_url(public_url, ao_code),
        "issuer": issuer_url(public_url, ao_code),
        "revokedCredential": entries,
    })
}

/// Sign a certificate's credential: [`achievement_credential`] → [`vc_jwt_claims`] →
/// [`sign_jwt`]. The salt is [`learner_salt`].
pub fn sign_credential(
    kek: &Kek,
    kid: &str,
    sealed_private_key: &[u8],
    public_url: &str,
    facts: &CredentialFacts,
) -> Result<String> {
    let salt = learner_salt(kek, &facts.number);
    let credential = achievement_credential(facts, public_url, &salt);
    sign_jwt(
        kek,
        kid,
        sealed_private_key,
        public_url,
        &vc_jwt_claims(&credential),
    )
}
