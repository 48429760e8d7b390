// Certificates in Chromium, as their users meet them (issue 13): anyone checks a number
// (a misread one is caught by its check character); the learner finds their certificates on
// their home page, prints the PDF and downloads the credential; AO staff search the register,
// download it as CSV, and are asked to confirm before revoking (and told they need a second
// factor). axe-core and the 320 px reflow check on every page on the way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, accessible, signedIn as signIn, main } from './common.mjs';
import { reflows } from './reflow.mjs';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR;
let browser;

before(async () => {
  assert.ok(BASE, 'BASE_URL must be set');
  browser = await launch();
});
after(async () => { await browser?.close(); });

const clean = accessible;

const signedIn = email => signIn(browser, BASE, email, { acceptDownloads: true });


test('the learner finds their certificate, prints it and keeps the credential; anyone checks it', async () => {
  const farah = await signedIn('farah.learner@demo');
  const home = await main(farah.page);
  assert.ok(/Your certificates \(2\)/.test(home), home);
  const valid = farah.page.locator('tr', { hasText: 'Valid' }).first();
  const number = (await valid.locator('td').first().innerText()).trim();
  assert.match(number, /^ISP-\d{4}-\d{7}-[0-9A-Z]$/);
  assert.ok(/Replaced by/.test(home), 'the lost original shows as replaced');
  await clean(farah.page, "the learner's home with certificates");
  // The credential, from the home page.
  const download = farah.page.waitForEvent('download');
  await farah.page.click(`a:has-text("Download the credential for ${number}")`);
  const jwt = readFileSync(await (await download).path(), 'utf8');
  assert.equal(jwt.split('.').length, 3, 'a compact JWT');
  // The record and its PDF.
  await valid.locator('a').first().click();
  await farah.page.waitForLoadState('load');
  await clean(farah.page, "the learner's certificate record");
  assert.equal(await farah.page.locator('form[action$="/revoke"]').count(), 0, 'a learner cannot revoke');
  const pdf = await farah.context.request.get(`${BASE}/certificates/${number}/pdf`);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  assert.ok((await pdf.body()).subarray(0, 4).toString() === '%PDF');
  await farah.context.close();

  // Anyone, not signed in: a misread number is caught, the right one answers Valid.
  const page = await browser.newPage({ bypassCSP: true });
  await page.goto(BASE + '/verify');
  await clean(page, 'the check form');
  const last = number.slice(-1);
  await page.fill('#number', number.slice(0, -1) + (last === 'A' ? 'B' : 'A'));
  await page.click('main button[type=submit]');
  await page.waitForLoadState('load');
  assert.ok(/check character/.test(await main(page)), await main(page));
  await clean(page, 'the check form with an error');
  await page.fill('#number', number.toLowerCase());
  await page.click('main button[type=submit]');
  await page.waitForURL(new RegExp(`/certificates/${number}$`));
  const shown = await main(page);
  assert.ok(/Valid/.test(shown) && shown.includes('Farah Ali') && shown.includes('610/3795/3'), shown);
  assert.ok(!/1000000/.test(shown), 'no ULN on the public page');
  await clean(page, 'the public certificate page');
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/certificate-valid.png`, fullPage: true });
  await page.close();
});

test('the register pages 100 certificates at a time, the search kept from page to page', async () => {
  const ocr = await signedIn('ao@ocr.demo');
  await ocr.page.goto(BASE + '/certificates');
  let list = await main(ocr.page);
  // The 130 copies, and OCR's own (the demo's, and any another test issued meanwhile).
  const found = Number(/(\d+) found: \d+ valid, \d+ replaced, \d+ revoked\. Showing 1 to 100, newest first\./.exec(list)?.[1]);
  assert.ok(found > 130 && found < 200, list);
  assert.equal(await ocr.page.locator('main tbody tr').count(), 100);
  assert.ok(list.includes('Paged Learner 1130') && !list.includes('Paged Learner 1030'), list);
  await ocr.page.click('.pagination__next a');
  await ocr.page.waitForLoadState('load');
  list = await main(ocr.page);
  assert.ok(list.includes(`Showing 101 to ${found}, newest first.`), list);
  assert.equal(await ocr.page.locator('main tbody tr').count(), found - 100);
  assert.ok(list.includes('Paged Learner 1030'), list);
  assert.equal(await ocr.page.title(), 'Certificates (page 2 of 2) – Credence');
  // A search that finds fewer than a page shows no pager.
  await ocr.page.fill('#q', 'paged learner 110');
  await ocr.page.click('form.cert-search button[type=submit]');
  await ocr.page.waitForLoadState('load');
  list = await main(ocr.page);
  assert.ok(/10 found: 10 valid/.test(list), list);
  assert.equal(await ocr.page.locator('.pagination').count(), 0);
  await clean(ocr.page, 'the register searched');
  if (SHOTS) {
    await ocr.page.setViewportSize({ width: 320, height: 800 });
    await ocr.page.goto(BASE + '/certificates?page=2');
    await ocr.page.screenshot({ path: `${SHOTS}/register-page-2-320.png`, fullPage: true });
  }
  await ocr.context.close();
});

test('AO staff search the register, download it, and confirm before revoking', async () => {
  const ao = await signedIn('ao@isp.demo');
  await ao.page.goto(BASE + '/certificates');
  await clean(ao.page, 'the register');
  let list = await main(ao.page);
  // The demo's three (other browser tests may have issued more meanwhile).
  const found = Number(/(\d+) found: \d+ valid, [1-9]\d* replaced, [1-9]\d* revoked/.exec(list)?.[1]);
  assert.ok(found >= 3, list);
  await ao.page.fill('#q', 'ben');
  await ao.page.click('form.cert-search button[type=submit]');
  await ao.page.waitForLoadState('load');
  list = await main(ao.page);
  assert.ok(/[1-9]\d* found/.test(list) && /Ben Carter/.test(list) && /Revoked/.test(list) && !/Farah/.test(list), list);
  // A wrong date is named, not ignored.
  await ao.page.fill('#from', '31/02/2026');
  await ao.page.click('form.cert-search button[type=submit]');
  await ao.page.waitForLoadState('load');
  assert.ok(/The first date/.test(await main(ao.page)), await main(ao.page));
  await clean(ao.page, 'the register with an error');
  // The CSV.
  await ao.page.goto(BASE + '/certificates');
  const csv = await ao.context.request.get(BASE + (await ao.page.locator('a[download]').getAttribute('href')));
  assert.equal(csv.status(), 200);
  const text = await csv.text();
  assert.ok(text.startsWith('number,status,learner'), text);
  assert.equal(text.trim().split('\n').length, found + 1, text);

  // Revoking Farah's valid certificate: the form asks for a reason, then for confirmation.
  const valid = ao.page.locator('tr', { hasText: 'Valid' }).first();
  await valid.locator('a').first().click();
  await ao.page.waitForLoadState('load');
  const number = (await ao.page.locator('h1').innerText()).trim();
  await clean(ao.page, 'the certificate record with replacement and revocation');
  await ao.page.click('form[action$="/revoke"] button[type=submit]');
  await ao.page.waitForLoadState('load');
  assert.ok(/Choose why the certificate is revoked/.test(await main(ao.page)));
  await clean(ao.page, 'the record with an error');
  await ao.page.check('#revoke-malpractice');
  await ao.page.fill('#note', 'Evidence copied from another learner.');
  await ao.page.click('form[action$="/revoke"] button[type=submit]');
  await ao.page.waitForLoadState('load');
  const confirm = await main(ao.page);
  assert.ok(/Revoke certificate/.test(confirm) && /cannot be undone/.test(confirm), confirm);
  await clean(ao.page, 'the revocation confirmation');
  await ao.page.click('main button[type=submit]');
  await ao.page.waitForLoadState('load');
  // Without a second factor it is refused, saying what to do; nothing changed.
  assert.ok(/second factor/.test(await main(ao.page)), await main(ao.page));
  await ao.context.close();
  const answer = await (await fetch(`${BASE}/api/v1/certificates/${number}`)).json();
  assert.equal(answer.status, 'valid', JSON.stringify(answer));
});
