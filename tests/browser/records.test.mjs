// Records retention in headless Chromium (issue 16): ISP's staff see what falls due at their
// centres, place a legal hold on a learner by ULN (a problem keeps what was typed), see it
// listed, lift it after a confirmation; Northgate's administrator sees the hold on their
// centre's page without the lift link. axe-core and the 320 px reflow check on each page.
// Started by crates/credence/tests/browser.rs on the demo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, accessible, signedIn as signIn, main } from './common.mjs';

const BASE = process.env.BASE_URL;
let browser;

before(async () => {
  assert.ok(BASE, 'BASE_URL must be set');
  browser = await launch();
});
after(async () => { await browser?.close(); });

const signedIn = email => signIn(browser, BASE, email);

test('AO staff see what falls due, and place and lift a legal hold', async () => {
  const ao = await signedIn('ao@isp.demo');
  await ao.page.click('a[href="/records"]');
  await ao.page.selectOption('#within', '365');
  await ao.page.click('form.retention-window button');
  await ao.page.waitForURL(/within=365/);
  let text = await main(ao.page);
  assert.match(text, /0\s+due for disposal now/);
  assert.match(text, /Nothing is due or falls due within 365 days/);
  await accessible(ao.page, 'the records retention page');

  // Three years on, the demo's certificated learners fall due.
  await ao.page.goto(BASE + '/records?within=2000');
  text = await main(ao.page);
  assert.match(text, /Farah Ali \(learner \d+\)/);
  assert.match(text, /Falls due/);
  await accessible(ao.page, 'the records retention page with rows');

  // A hold with no reason is refused, keeping the ULN typed.
  await ao.page.click('a[href="/records/holds/new"]');
  await ao.page.check('#on-learner');
  await ao.page.fill('#learner', '1000000906');
  await ao.page.click('button:has-text("Place the hold")');
  text = await main(ao.page);
  assert.match(text, /There is a problem/);
  assert.equal(await ao.page.inputValue('#learner'), '1000000906');
  await accessible(ao.page, 'the legal hold form with a problem');
  await ao.page.fill('#reason', 'Appeal ref A-2026-17');
  await ao.page.click('button:has-text("Place the hold")');
  await ao.page.waitForURL(/\/records\?placed=\d+/);
  text = await main(ao.page);
  assert.match(text, /Legal hold \d+ placed/);
  assert.match(text, /Appeal ref A-2026-17/);
  await accessible(ao.page, 'the records retention page with a hold');

  // The centre's administrator sees it, and cannot lift it.
  const admin = await signedIn('admin@northgate.demo');
  await admin.page.goto(BASE + '/home');
  await admin.page.click('a:has-text("Records retention")');
  text = await main(admin.page);
  assert.match(text, /Appeal ref A-2026-17/);
  assert.equal(await admin.page.locator('a:has-text("Lift")').count(), 0);
  await accessible(admin.page, 'the centre records page');
  await admin.context.close();

  // Lifting asks first.
  await ao.page.click('a:has-text("Lift")');
  text = await main(ao.page);
  assert.match(text, /cannot be recovered/);
  await accessible(ao.page, 'the lift confirmation');
  await ao.page.click('button:has-text("Lift the hold")');
  await ao.page.waitForURL(/\/records\?lifted=\d+/);
  text = await main(ao.page);
  assert.match(text, /Legal hold \d+ lifted/);
  assert.match(text, /No legal hold is in force/);
  await ao.context.close();
});
