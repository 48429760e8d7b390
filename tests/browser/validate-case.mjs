// Independent check of Credence's CASE export (not Credence's code): validate each CFPackage
// against 1EdTech's official CASE 1.1 CFPackage JSON Schema with ajv. Run by
// crates/credence/tests/case_conformance.rs.
//
//   node validate-case.mjs <schema.json> <package.json>...
//
// Prints one JSON object ({ "results": [{ "file", "valid", "errors" }] }); exits 0 when every
// package validates, 1 otherwise (the first errors of each invalid package are listed).
import { readFileSync } from 'node:fs';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';

const [schemaPath, ...packagePaths] = process.argv.slice(2);
if (!schemaPath || packagePaths.length === 0) {
  console.error('usage: node validate-case.mjs <schema.json> <package.json>...');
  process.exit(2);
}

const ajv = new Ajv2019({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
const results = packagePaths.map((file) => {
  try {
    const valid = validate(JSON.parse(readFileSync(file, 'utf8')));
    return { file, valid, errors: valid ? [] : validate.errors.slice(0, 20) };
  } catch (e) {
    return { file, valid: false, errors: [`${e.name}: ${e.message}`] };
  }
});
console.log(JSON.stringify({ results }, null, 2));
process.exit(results.every((r) => r.valid) ? 0 : 1);
