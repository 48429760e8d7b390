//! Open Badges 3.0 credentials signed as VC-JWT (`credence::credential`): keys, sealing,
//! and an independent verifier (node: `jose` for the JWT, ajv with 1EdTech's OB 3.0
//! AchievementCredential JSON Schema) from tests/browser/verify-credential.mjs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use credence::credential::{self, CredentialFacts, Kek};
use serde_json::{Value, json};

const PUBLIC_URL: &str = "https://credence.example.org/";

fn facts() -> CredentialFacts {
    CredentialFacts {
        number: "ISP-2026-000123".into(),
        ao_code: "ISP".into(),
        ao_name: "Institute of Safe Practice".into(),
        ao_url: Some("https://isp.example.org/".into()),
        qan: Some("603/1234/5".into()),
        unit_reference: None,
        title: "ISP Level 3 Diploma in Site Safety".into(),
        description: "Plans and supervises safe work on construction sites.".into(),
        level: Some("Level 3".into()),
        grade: Some("Distinction".into()),
        credits: Some(37),
        units: vec![
            ("J/650/1234".into(), "Risk assessment".into(), Some(12)),
            ("K/650/1235".into(), "Site inspection".into(), Some(25)),
        ],
        learner_name: "Ada Lovelace".into(),
        learner_email: Some(" Ada.Lovelace@Example.org ".into()),
        awarded_on: "2026-11-25".into(),
        issued_at: "2026-11-27T09:15:00Z".into(),
        status_list_index: 7,
    }
}

fn b64json(segment: &str) -> Value {
    serde_json::from_slice(&B64URL.decode(segment).unwrap()).unwrap()
}

/// Verify a compact JWS with aws-lc-rs against the public JWK.
fn verify_rs256(jwt: &str, jwk: &Value) -> bool {
    let (input, sig) = jwt.rsplit_once('.').unwrap();
    let key = PublicKeyComponents {
        n: B64URL.decode(jwk["n"].as_str().unwrap()).unwrap(),
        e: B64URL.decode(jwk["e"].as_str().unwrap()).unwrap(),
    };
    let Ok(sig) = B64URL.decode(sig) else {
        return false;
    };
    key.verify(&RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &sig)
        .is_ok()
}

#[test]
fn kek_text_round_trip_and_clear_errors() {
    let kek = Kek::generate();
    let text = kek.to_text();
    assert_eq!(text.len(), 43);
    assert_eq!(
        Kek::from_text(&format!("  {text}\n")).unwrap().id(),
        kek.id()
    );
    let hex = "00".repeat(31) + "ff";
    assert!(Kek::from_text(&hex).is_ok());
    let err = Kek::from_text("not a key").unwrap_err().to_string();
    assert!(err.contains("32 bytes"), "{err}");
    assert!(
        Kek::from_text(&"ab".repeat(16)).is_err(),
        "16 bytes is too short"
    );
    assert!(format!("{kek:?}").contains(&kek.id()));
    assert!(
        !format!("{kek:?}").contains(&text),
        "Debug must not print the key"
    );
}

#[test]
fn kek_file_is_created_private_and_read_back() {
    let dir = common::temp_dir("kek");
    let path = dir.join("sub/credential.kek");
    let created = Kek::load_or_create(&path).unwrap();
    let again = Kek::load_or_create(&path).unwrap();
    assert_eq!(created.id(), again.id());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::write(&path, "garbage").unwrap();
    let err = format!("{:#}", Kek::load_or_create(&path).unwrap_err());
    assert!(
        err.contains("credential.kek") && err.contains("32 bytes"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn keys_are_per_ao_sealed_and_sign_verifiably() {
    let kek = Kek::generate();
    let key = credential::generate_key(&kek, "ISP", "2026-11-30T09:00:00Z").unwrap();
    assert!(key.kid.starts_with("isp-2026-11-30-"), "{}", key.kid);
    assert_eq!(key.kid.len(), "isp-2026-11-30-".len() + 8);
    let jwk = &key.public_jwk;
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["kid"], key.kid.as_str());
    assert_eq!(jwk["e"], "AQAB");
    assert_eq!(
        B64URL.decode(jwk["n"].as_str().unwrap()).unwrap().len(),
        256
    );
    assert!(jwk.get("d").is_none());
    let other = credential::generate_key(&kek, "ISP", "2026-11-30T09:00:00Z").unwrap();
    assert_ne!(key.kid, other.kid);

    let payload = json!({"hello": "world"});
    let jwt = credential::sign_jwt(
        &kek,
        &key.kid,
        &key.sealed_private_key,
        PUBLIC_URL,
        &payload,
    )
    .unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(
        b64json(parts[0]),
        json!({"alg": "RS256", "typ": "JWT",
               "kid": format!("https://credence.example.org/api/v1/keys/{}", key.kid)})
    );
    assert_eq!(b64json(parts[1]), payload);
    assert!(verify_rs256(&jwt, jwk));
    assert!(
        !verify_rs256(&jwt, &other.public_jwk),
        "another key must not verify it"
    );
    let tampered = jwt.replacen("eyJoZWxsbyI6IndvcmxkIn0", "eyJoZWxsbyI6IndvcmxlIn0", 1);
    assert_ne!(tampered, jwt);
    assert!(!verify_rs256(&tampered, jwk));

    // A wrong KEK fails, saying so.
    let err = credential::sign_jwt(
        &Kek::generate(),
        &key.kid,
        &key.sealed_private_key,
        PUBLIC_URL,
        &payload,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("another key-encryption key"), "{err}");
    // A sealed key put on another key's row (kid) does not open.
    let err = credential::sign_jwt(
        &kek,
        &other.kid,
        &key.sealed_private_key,
        PUBLIC_URL,
        &payload,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("belongs to another kid"), "{err}");
    // Nor does an altered one.
    let mut altered = key.sealed_private_key.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    assert!(credential::sign_jwt(&kek, &key.kid, &altered, PUBLIC_URL, &payload).is_err());

    // The JWKS lists every key (old ones too), kid as the key's URL, nothing private.
    let set = credential::jwks(
        PUBLIC_URL,
        &[key.public_jwk.clone(), other.public_jwk.clone()],
    );
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["kid"], b64json(parts[0])["kid"]);
    assert_eq!(keys[0]["n"], jwk["n"]);
    assert!(
        keys.iter()
            .all(|k| k["alg"] == "RS256" && k["use"] == "sig" && k.get("d").is_none())
    );
}

#[test]
fn credential_shape() {
    let kek = Kek::generate();
    let f = facts();
    let salt = credential::learner_salt(&kek, &f.number);
    assert_eq!(
        salt,
        credential::learner_salt(&kek, &f.number),
        "stable per certificate"
    );
    assert_ne!(salt, credential::learner_salt(&kek, "ISP-2026-000124"));
    let c = credential::achievement_credential(&f, PUBLIC_URL, &salt);
    let base = "https://credence.example.org";
    assert_eq!(
        c["@context"],
        json!([
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ])
    );
    assert_eq!(
        c["id"],
        format!("{base}/api/v1/certificates/ISP-2026-000123/credential")
    );
    assert_eq!(
        c["type"],
        json!(["VerifiableCredential", "AchievementCredential"])
    );
    assert_eq!(c["issuer"]["id"], format!("{base}/aos/ISP"));
    assert_eq!(c["issuer"]["type"], json!(["Profile"]));
    assert_eq!(c["validFrom"], "2026-11-27T09:15:00Z");
    assert_eq!(c["awardedDate"], "2026-11-25T00:00:00Z");
    let a = &c["credentialSubject"]["achievement"];
    assert_eq!(a["id"], format!("{base}/achievements/603%2F1234%2F5"));
    assert_eq!(a["humanCode"], "603/1234/5");
    assert_eq!(a["otherIdentifier"][0]["identifier"], "603/1234/5");
    assert!(
        a["criteria"]["narrative"]
            .as_str()
            .unwrap()
            .contains("J/650/1234 Risk assessment")
    );
    let id = &c["credentialSubject"]["identifier"][0];
    assert_eq!(id["type"], "IdentityObject");
    assert_eq!(id["identityType"], "emailAddress");
    assert_eq!(id["hashed"], true);
    assert_eq!(id["salt"], salt.as_str());
    // A verifier holding the address checks it: sha256$hex(sha256(email + salt)).
    assert_eq!(
        id["identityHash"],
        credential::email_identity_hash("ada.lovelace@example.org", &salt)
    );
    assert!(id["identityHash"].as_str().unwrap().starts_with("sha256$"));
    let text = c.to_string();
    assert!(
        !text.to_lowercase().contains("ada.lovelace@example.org"),
        "no plain email"
    );
    assert_eq!(
        c["credentialStatus"],
        json!({"id": format!("{base}/api/v1/revocation-lists/ISP"), "type": "1EdTechRevocationList"})
    );

    let claims = credential::vc_jwt_claims(&c);
    assert_eq!(claims["iss"], c["issuer"]["id"]);
    assert_eq!(claims["jti"], c["id"]);
    assert_eq!(claims["sub"], c["credentialSubject"]["id"]);
    assert_eq!(claims["nbf"], 1_795_770_900);
    assert!(claims.get("exp").is_none());
    assert_eq!(claims["credentialSubject"], c["credentialSubject"]);

    let list = credential::revocation_list(
        PUBLIC_URL,
        "ISP",
        &[credential::Revoked {
            number: "ISP-2026-000009".into(),
            reason: Some("Malpractice".into()),
        }],
    );
    assert_eq!(
        list,
        json!({
            "id": format!("{base}/api/v1/revocation-lists/ISP"),
            "issuer": format!("{base}/aos/ISP"),
            "revokedCredential": [{
                "id": format!("{base}/api/v1/certificates/ISP-2026-000009/credential"),
                "revoked": true,
                "revocationReason": "Malpractice",
            }],
        })
    );
}

#[test]
fn an_independent_verifier_accepts_the_credential_and_rejects_tampering() {
    if !common::verifier::node_ready() {
        return;
    }
    let kek = Kek::generate();
    let old = credential::generate_key(&kek, "ISP", "2025-01-02T00:00:00Z").unwrap();
    let key = credential::generate_key(&kek, "ISP", "2026-11-30T09:00:00Z").unwrap();
    let jwks = credential::jwks(
        PUBLIC_URL,
        &[old.public_jwk.clone(), key.public_jwk.clone()],
    );
    let dir = common::temp_dir("verify");

    let jwt = credential::sign_credential(
        &kek,
        &key.kid,
        &key.sealed_private_key,
        PUBLIC_URL,
        &facts(),
    )
    .unwrap();
    let (ok, report) = common::verifier::run_verifier(&dir, &jwt, &jwks);
    assert!(ok, "the credential must verify and validate: {report:#}");
    assert_eq!(report["verified"], true);
    assert_eq!(report["valid"], true);

    // A unit certificate without email, grade or credits validates too.
    let unit = CredentialFacts {
        qan: None,
        unit_reference: Some("J/650/1234".into()),
        grade: None,
        credits: None,
        units: vec![],
        learner_email: None,
        ..facts()
    };
    let jwt2 =
        credential::sign_credential(&kek, &old.kid, &old.sealed_private_key, PUBLIC_URL, &unit)
            .unwrap();
    let (ok, report) = common::verifier::run_verifier(&dir, &jwt2, &jwks);
    assert!(ok, "a unit credential signed by the older key: {report:#}");

    // One character of the payload changed: the signature no longer verifies.
    let (head, rest) = jwt.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let mut chars: Vec<char> = payload.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{head}.{}.{sig}", chars.into_iter().collect::<String>());
    let (ok, report) = common::verifier::run_verifier(&dir, &tampered, &jwks);
    assert!(!ok, "a tampered credential must fail: {report:#}");
    assert_eq!(report["verified"], false, "{report:#}");

    // A schema failure is caught too: a credential without its achievement.
    let mut claims = credential::vc_jwt_claims(&credential::achievement_credential(
        &facts(),
        PUBLIC_URL,
        "s",
    ));
    claims["credentialSubject"]
        .as_object_mut()
        .unwrap()
        .remove("achievement");
    let bad =
        credential::sign_jwt(&kek, &key.kid, &key.sealed_private_key, PUBLIC_URL, &claims).unwrap();
    let (ok, report) = common::verifier::run_verifier(&dir, &bad, &jwks);
    assert!(!ok, "a credential the schema rejects must fail: {report:#}");
    assert_eq!(report["verified"], true);
    assert_eq!(report["valid"], false);
    std::fs::remove_dir_all(dir).ok();
}
