// Quality assurance in Chromium, as its users work (issue 12): an IQA samples a signed-off
// unit and refers it back; the assessor sees the action, re-judges and signs again with the
// learner; the IQA closes the referral and the held claim is released. An EQA records a
// satisfactory first visit and releases a held claim. axe-core on every page on the way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, axe, signedIn as signIn } from './common.mjs';
import { reflows } from './reflow.mjs';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR;
let browser;

before(async () => {
  assert.ok(BASE, 'BASE_URL must be set');
  browser = await launch();
});
after(async () => { await browser?.close(); });

async function clean(page, what) {
  const violations = await axe(page);
  assert.deepEqual(violations, [], `${what}:\n${violations.join('\n')}`);
}

const signedIn = email => signIn(browser, BASE, email);

function ukDate(days) {
  const d = new Date(Date.now() + days * 86400000);
  return `${String(d.getUTCDate()).padStart(2, '0')}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${d.getUTCFullYear()}`;
}

async function main(page) {
  return (await page.locator('main').innerText());
}

test('an IQA refers a signed-off unit back, the assessor re-judges, the IQA agrees and the claim is released', async () => {
  const irene = await signedIn('iqa@northgate.demo');
  await irene.page.goto(BASE + '/centres/1/qa?qualification=610%2F3795%2F3');
  await clean(irene.page, 'the plan page');
  await reflows(irene.page, 'the plan page');
  assert.ok((await main(irene.page)).includes('Chloe Davies'), 'the referred demo sample is on the plan');
  if (SHOTS) await irene.page.screenshot({ path: `${SHOTS}/qa-plan.png`, fullPage: true });
  // Sample Ben's signed-off unit by hand.
  const add = irene.page.locator('form[action$="/qa/samples"]').first();
  const learner = add.locator('select[name=registration]');
  const ben = await learner.locator('option', { hasText: 'Ben Carter' }).first().getAttribute('value');
  await learner.selectOption(ben);
  await add.locator('input[name=stage][value=summative]').check();
  await add.locator('textarea[name=reason]').fill('First claim of this learner: sample before it goes');
  await add.locator('button[type=submit]').click();
  await irene.page.waitForLoadState('load');
  const row = irene.page.locator('tr', { hasText: 'Ben Carter' }).first();
  const href = await row.locator('a[href^="/qa/samples/"]').first().getAttribute('href');
  await irene.page.goto(BASE + href);
  await clean(irene.page, 'a planned sample');
  await irene.page.click('form[action$="/open"] button[type=submit]');
  await irene.page.waitForLoadState('load');
  await clean(irene.page, 'an open sample with its snapshot');
  await reflows(irene.page, 'an open sample');
  // Nothing is chosen for her: no decision is pre-selected.
  assert.equal(await irene.page.locator('#decision input[type=radio]:checked').count(), 0);
  await irene.page.check('#verdict-unit-refer');
  await irene.page.fill('#comments-unit', 'The log does not show how leads were qualified.');
  await irene.page.fill('#action-unit', 'Judge the qualification notes behind the log and sign the unit off again.');
  await irene.page.fill('#due-unit', ukDate(7));
  await irene.page.click('#decision button[type=submit]');
  await irene.page.waitForLoadState('load');
  assert.ok((await main(irene.page)).includes('Referred back'), await main(irene.page));
  if (SHOTS) await irene.page.screenshot({ path: `${SHOTS}/qa-sample-referred.png`, fullPage: true });

  // The centre claims Ben's qualification: held, saying what for.
  const admin = await signedIn('admin@northgate.demo');
  await admin.page.goto(BASE + '/centres/1/claims');
  await clean(admin.page, 'the claims page');
  await reflows(admin.page, 'the claims page');
  const reg = admin.page.locator('#registration');
  await reg.selectOption(await reg.locator('option', { hasText: 'Ben Carter' }).first().getAttribute('value'));
  await admin.page.click('form[action$="/claims"][method=post] button[type=submit]');
  await admin.page.waitForLoadState('load');
  let benRow = await admin.page.locator('tr', { hasText: 'Ben Carter' }).first().innerText();
  assert.ok(/held/i.test(benRow) && /referred back/i.test(benRow), benRow);

  // The assessor sees the action on his home, re-judges and signs; Ben signs.
  const sam = await signedIn('sam.assessor@demo');
  assert.ok((await main(sam.page)).includes('Ben Carter'), 'the referral is on the assessor\'s home');
  await clean(sam.page, 'the assessor\'s home with a referral');
  const benLearner = await admin.page.evaluate(async () => {
    const r = await fetch('/api/v1/claims?centre=1');
    return (await r.json()).find(c => c.learner_name === 'Ben Carter').learner;
  });
  const portfolio = await (await sam.page.request.get(BASE + `/api/v1/learners/${benLearner}/portfolio`)).json();
  const unit = portfolio.units.find(u => u.criteria.length > 0 && !u.signed_off && u.criteria.every(c => c.status !== 'no_evidence')) || portfolio.units[0];
  const slug = unit.unit.replace(/[/: ]/g, '-');
  const unitPage = BASE + `/learners/${benLearner}/portfolio/units/${slug}`;
  await sam.page.goto(unitPage);
  const c = unit.criteria[0];
  await sam.page.check(`#unit-decisions input[name="outcome:${c.number}"][value=met]`);
  await sam.page.fill(`#unit-decisions textarea[name="feedback:${c.number}"]`, 'Qualification notes seen: leads were scored against the agreed criteria.');
  await sam.page.click('#save-decisions');
  await sam.page.locator('.notification', { hasText: 'Decisions recorded' }).waitFor();
  await sam.page.fill('#comments', 'Re-judged after the IQA referral');
  await sam.page.click('form[action$="/sign"] button[type=submit]');
  await sam.page.waitForURL(/done=signed$/);
  const benUser = await signedIn('ben.learner@demo');
  await benUser.page.goto(unitPage);
  await benUser.page.fill('#comments', 'My own work');
  await benUser.page.click('form[action$="/sign"] button[type=submit]');
  await benUser.page.waitForURL(/done=signed$/);

  // Still held until the IQA closes the referral; then released (Northgate has DCS).
  await admin.page.goto(BASE + '/centres/1/claims');
  benRow = await admin.page.locator('tr', { hasText: 'Ben Carter' }).first().innerText();
  assert.ok(/held/i.test(benRow), benRow);
  await irene.page.goto(BASE + href);
  await irene.page.fill('#note', 'Notes judged and the unit signed off again: the decision is now sound.');
  await irene.page.click('form[action$="/close"] button[type=submit]');
  await irene.page.waitForLoadState('load');
  assert.ok((await main(irene.page)).includes('Agreed'), await main(irene.page));
  await admin.page.goto(BASE + '/centres/1/claims');
  benRow = await admin.page.locator('tr', { hasText: 'Ben Carter' }).first().innerText();
  assert.ok(/released/i.test(benRow), benRow);
  if (SHOTS) await admin.page.screenshot({ path: `${SHOTS}/claims-released.png`, fullPage: true });

  // The IQA's countersignature is on the achievement log.
  await benUser.page.goto(BASE + `/learners/${benLearner}/achievement-log/610-3795-3`);
  const log = await main(benUser.page);
  assert.ok(log.includes('IQA declaration') && log.includes('Irene Quinn'), log);
  for (const p of [irene, admin, sam, benUser]) await p.context.close();
});

test('an EQA records a satisfactory first visit and releases a held claim', async () => {
  const victor = await signedIn('eqa.riverside@isp.demo');
  assert.ok((await main(victor.page)).includes('Riverside College'), 'the visit due is on the EQA\'s home');
  await victor.page.goto(BASE + '/centres/2/claims');
  let hannah = await victor.page.locator('tr', { hasText: 'Hannah Wright' }).first().innerText();
  assert.ok(/first EQA visit/i.test(hannah), hannah);
  await victor.page.goto(BASE + '/centres/2/visits');
  await clean(victor.page, 'the visits page');
  await reflows(victor.page, 'the visits page');
  const visit = await victor.page.locator('a[href^="/visits/"]').first().getAttribute('href');
  await victor.page.goto(BASE + visit);
  await clean(victor.page, 'the visit report form');
  await victor.page.fill('#visited_on', ukDate(0));
  await victor.page.check('#outcome-satisfactory');
  await victor.page.check('#risk-medium');
  await victor.page.locator('input[name=sampled]').first().check();
  await victor.page.fill('#findings', 'Decisions sampled were sound and well evidenced; the centre needs a second IQA.');
  await victor.page.fill('#action_text_1', 'Appoint a second IQA');
  await victor.page.fill('#action_due_1', ukDate(60));
  await victor.page.click('form[action$="/report"] button[type=submit]');
  await victor.page.waitForLoadState('load');
  assert.ok((await main(victor.page)).includes('Appoint a second IQA'));
  await clean(victor.page, 'a reported visit');
  if (SHOTS) await victor.page.screenshot({ path: `${SHOTS}/visit-reported.png`, fullPage: true });
  await victor.page.goto(BASE + '/centres/2/claims');
  const row = victor.page.locator('tr', { hasText: 'Hannah Wright' }).first();
  assert.ok(/EQA/i.test(await row.innerText()));
  await row.locator('form[action$="/release"] button[type=submit]').click();
  await victor.page.waitForLoadState('load');
  hannah = await victor.page.locator('tr', { hasText: 'Hannah Wright' }).first().innerText();
  assert.ok(/released/i.test(hannah), hannah);
  await victor.context.close();
});

const pages = {
  'iqa@northgate.demo': ['/home', '/centres/1/qa', '/centres/1/qa/strategy', '/centres/1/standardisation', '/centres/1/claims', '/centres/1/visits'],
  'ao@isp.demo': ['/home', '/centres/1/direct-claim', '/centres/1/visits', '/centres/2/visits', '/centres/1/claims', '/appeals'],
  'eqa@isp.demo': ['/home', '/centres/1/qa', '/centres/1/claims', '/centres/1/visits'],
  'admin@northgate.demo': ['/home', '/centres/1', '/centres/1/qa', '/appeals'],
  'ben.learner@demo': ['/home', '/appeals'],
};
for (const [email, paths] of Object.entries(pages)) {
  test(`axe-core finds no WCAG 2.2 AA violation and nothing wider than 320px on ${email}'s quality pages`, async () => {
    const { context, page } = await signedIn(email);
    for (const path of paths) {
      const res = await page.goto(BASE + path);
      assert.equal(res.status(), 200, `${email} ${path}`);
      await clean(page, `${email} ${path}`);
      await reflows(page, `${email} ${path}`);
    }
    await context.close();
  });
}
