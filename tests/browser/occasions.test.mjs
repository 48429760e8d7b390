// Evidence over time in headless Chromium (issue 17, item 2): a learner on OCR unit 39 with a
// criterion evidenced on two dates, judged met, and the centre asking for 3 occasions. The
// unit page shows the dates, the items, the span and what is still needed; the centre's page
// shows the setting and refuses a number below the specification's minimum. axe-core and the
// 320 px reflow check on each page. Started by crates/credence/tests/browser.rs, which makes
// the learner (OCC_LEARNER) and says which centre (OCC_CENTRE).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { reflows } from './reflow.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.BASE_URL;
const LEARNER = process.env.OCC_LEARNER;
const CENTRE = process.env.OCC_CENTRE;
let browser;

before(async () => {
  assert.ok(BASE && LEARNER && CENTRE, 'BASE_URL, OCC_LEARNER and OCC_CENTRE must be set');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
  });
});
after(async () => { await browser?.close(); });

async function axe(page) {
  await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return r.violations.map(v => `${v.id}: ${v.help} (${v.nodes.length}) ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
  });
}

async function signedIn(email) {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(BASE + '/sign-in');
  await page.fill('#email', email);
  await page.fill('#password', 'credence-demo-2026');
  await page.click('button[type=submit]');
  await page.waitForURL(/\/home$/);
  return { context, page };
}

const main = page => page.locator('main').innerText();

test('the unit page shows each occasion, the span and how many more are needed', async () => {
  const sam = await signedIn('sam.assessor@demo');
  await sam.page.goto(BASE + `/learners/${LEARNER}/portfolio/units/H-502-8599`);
  const text = await main(sam.page);
  for (const words of [
    '5 October 2026: Lead qualification call',
    '28 October 2026: Prospect list',
    '2 of 3 occasions evidenced, over 3 weeks and 2 days (5 October 2026 to 28 October 2026)',
    'Judged met, short of occasions: 2 of 3',
    'until 1 more occasion is evidenced',
    'over a sufficient period of time on different occasions',
  ]) assert.ok(text.includes(words), `shows: ${words}`);
  assert.deepEqual(await axe(sam.page), []);
  await reflows(sam.page, 'the unit page with occasions');
  await sam.context.close();
});

test('the centre page shows the setting and refuses fewer than the minimum with a plain form post', async () => {
  const admin = await signedIn('admin@northgate.demo');
  await admin.page.goto(BASE + `/centres/${CENTRE}`);
  await admin.page.click('a[href$="/evidence-occasions"]');
  let text = await main(admin.page);
  assert.ok(text.includes('3 occasions') && text.includes('Standardisation decided three occasions'), text);
  assert.deepEqual(await axe(admin.page), []);
  await reflows(admin.page, 'the evidence occasions page');
  await admin.page.fill('#occasions-1', '1');
  await admin.page.fill('#reason-1', 'Fewer');
  await admin.page.click('form[action$="/evidence-occasions"] button[type=submit]');
  text = await main(admin.page);
  assert.ok(text.includes('There is a problem') && text.includes('enter 2 or more'), text);
  assert.deepEqual(await axe(admin.page), []);
  await admin.context.close();
});
