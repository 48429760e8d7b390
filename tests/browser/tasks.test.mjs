// Long tasks in headless Chromium (issue 15): Northgate's administrator uploads a file of
// 1,500 learners, too many for one request. The answer is the task's page, waiting for a
// worker (the test's server starts its worker a few seconds after the task is queued); with
// JavaScript the page follows the task by itself and shows the result without a reload.
// Without JavaScript, "Check progress" does the same by hand. axe-core and the 320 px reflow
// check on each state. Started by crates/credence/tests/browser.rs on a demo of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, accessible, signedIn as signIn, main } from './common.mjs';

const BASE = process.env.BASE_URL;
const CENTRE = process.env.TASK_CENTRE;
const SHOTS = process.env.SHOTS;
let browser;

before(async () => {
  assert.ok(BASE && CENTRE, 'BASE_URL and TASK_CENTRE must be set');
  browser = await launch();
});
after(async () => { await browser?.close(); });

function learners(n, tag) {
  const rows = ['given_name,family_name,date_of_birth,qan'];
  for (let i = 0; i < n; i++) {
    const name = tag + String.fromCharCode(97 + (i % 26)) + String.fromCharCode(97 + (Math.floor(i / 26) % 26));
    rows.push(`${name},Tester,${String(1 + (i % 28)).padStart(2, '0')}/01/1990,610/3788/6`);
  }
  return Buffer.from(rows.join('\n') + '\n');
}

async function upload(page, n, tag) {
  await page.goto(`${BASE}/centres/${CENTRE}/registrations/new`);
  await page.setInputFiles('#file', { name: 'learners.csv', mimeType: 'text/csv', buffer: learners(n, tag) });
  await page.click('form[action*="/registrations/upload"] button[type=submit]');
  await page.waitForURL(/\/tasks\/\d+$/);
}

test('a large file is registered in the background, followed on its page', async () => {
  const admin = await signIn(browser, BASE, 'admin@northgate.demo');
  await upload(admin.page, 1500, 'Bulk');
  let text = await main(admin.page);
  assert.match(text, /Registering learners from a file/);
  assert.match(text, /Waiting/);
  assert.match(text, /0 of 1,500 \(0%\)/);
  assert.match(text, /You can leave this page/);
  await accessible(admin.page, 'a waiting task');
  if (SHOTS) await admin.page.screenshot({ path: `${SHOTS}/task-waiting.png`, fullPage: true });
  // The page follows the task by itself (the worker starts a few seconds later).
  const url = admin.page.url();
  await admin.page.waitForSelector('#task-result', { timeout: 60_000 });
  assert.equal(admin.page.url(), url, 'no reload, no navigation');
  text = await main(admin.page);
  assert.match(text, /Registered 1,500 learners/);
  assert.match(text, /See the centre's registrations/);
  assert.equal(await admin.page.evaluate(() => document.activeElement?.id), 'task-result', 'the result takes focus');
  await accessible(admin.page, 'a finished task');
  if (SHOTS) await admin.page.screenshot({ path: `${SHOTS}/task-done.png`, fullPage: true });
  await admin.page.goto(BASE + '/tasks');
  text = await main(admin.page);
  assert.match(text, /Registering learners from a file/);
  assert.match(text, /Done/);
  await accessible(admin.page, 'the list of tasks');
  await admin.context.close();
});

test('without JavaScript, "Check progress" shows the result', async () => {
  const admin = await signIn(browser, BASE, 'admin@northgate.demo', { javaScriptEnabled: false });
  await upload(admin.page, 1100, 'Plain');
  let text = '';
  for (let i = 0; i < 60; i++) {
    text = await main(admin.page);
    if (/Registered 1,100 learners/.test(text)) break;
    await admin.page.waitForTimeout(500);
    await admin.page.click('a:has-text("Check progress")');
  }
  assert.match(text, /Registered 1,100 learners/);
  assert.match(text, /See the centre's registrations/);
  // Someone else cannot see it.
  const taskUrl = admin.page.url();
  const other = await signIn(browser, BASE, 'admin@riverside.demo');
  const res = await other.page.goto(taskUrl);
  assert.equal(res.status(), 404);
  await other.context.close();
  await admin.context.close();
});
