// Evidence over time in headless Chromium (issue 17, item 2): a learner on OCR unit 39 with a
// criterion evidenced on two dates, judged met, and the centre asking for 3 occasions. The
// unit page shows the dates, the items, the span and what is still needed; the centre's page
// shows the setting and refuses a number below the specification's minimum. axe-core and the
// 320 px reflow check on each page. Started by crates/credence/tests/browser.rs, which makes
// the learner (OCC_LEARNER) and says which centre (OCC_CENTRE).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, axe, signedIn as signIn, main } from './common.mjs';
import { reflows } from './reflow.mjs';

const BASE = process.env.BASE_URL;
const LEARNER = process.env.OCC_LEARNER;
const CENTRE = process.env.OCC_CENTRE;
let browser;

before(async () => {
  assert.ok(BASE && LEARNER && CENTRE, 'BASE_URL, OCC_LEARNER and OCC_CENTRE must be set');
  browser = await launch();
});
after(async () => { await browser?.close(); });

const signedIn = email => signIn(browser, BASE, email);


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
