// Independent check of a Credence credential (not Credence's code): verify the VC-JWT with
// `jose` against a JWKS, then validate the credential against 1EdTech's OB 3.0
// AchievementCredential JSON Schema with ajv. Run by crates/credence/tests/credential.rs.
//
//   node verify-credential.mjs <credential.jwt> <jwks.json> <schema.json>
//
// Prints one JSON object; exits 0 when the credential verifies and validates, 1 otherwise.
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';

const [jwtPath, jwksPath, schemaPath] = process.argv.slice(2);
if (!schemaPath) {
  console.error('usage: node verify-credential.mjs <credential.jwt> <jwks.json> <schema.json>');
  process.exit(2);
}

const result = { verified: false, valid: false };
try {
  const jwt = readFileSync(jwtPath, 'utf8').trim();
  const jwks = createLocalJWKSet(JSON.parse(readFileSync(jwksPath, 'utf8')));
  result.header = decodeProtectedHeader(jwt);
  // OB 3.0 §8.2.3: alg RS256, typ "JWT" if present.
  const { payload } = await jwtVerify(jwt, jwks, { algorithms: ['RS256'], typ: 'JWT' });
  result.verified = true;

  // OB 3.0 §8.2.4 (VC 2.0 style): the payload is the credential itself; a VC 1.1 style
  // `vc` claim is accepted too.
  const credential = payload.vc ?? payload;
  const claims = [];
  if (payload.iss !== (credential.issuer?.id ?? credential.issuer)) claims.push('iss != issuer.id');
  if (payload.jti !== credential.id) claims.push('jti != id');
  if (payload.sub !== credential.credentialSubject?.id) claims.push('sub != credentialSubject.id');
  if (payload.nbf !== Math.floor(Date.parse(credential.validFrom) / 1000)) claims.push('nbf != validFrom');
  result.claimErrors = claims;

  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  const valid = validate(credential);
  result.schemaErrors = valid ? [] : validate.errors;
  result.valid = valid && claims.length === 0;
  result.credentialId = credential.id;
} catch (e) {
  result.error = `${e.code ?? e.name}: ${e.message}`;
}
console.log(JSON.stringify(result, null, 2));
process.exit(result.verified && result.valid ? 0 : 1);
