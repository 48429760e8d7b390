// The daily loop in headless Chromium (issue 11): a learner chooses their plan, uploads one
// item and maps it to several criteria in one step (with the filter), the assessor judges the
// unit in one form, and the learner reads the feedback, "met" included. axe-core on every
// new page. Tom (Riverside) is used so the portfolio journey in pages.test.mjs is untouched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { launch, axe, signedIn as signIn, main } from './common.mjs';
const SHOTS = process.env.SCREENSHOT_DIR;

const BASE = process.env.BASE_URL;
let browser;

before(async () => {
  assert.ok(BASE, 'BASE_URL must be set');
  browser = await launch();
});
after(async () => { await browser?.close(); });

const signedIn = email => signIn(browser, BASE, email);


test('a learner chooses a plan, maps one item to several criteria, the assessor judges the unit in one form, the learner reads the feedback', async () => {
  const tom = await signedIn('tom.learner@demo');
  const href = await tom.page.locator('a[href$="/portfolio"]').first().getAttribute('href');
  const learner = href.match(/\/learners\/(\d+)\//)[1];

  // The plan: the planner's proposal, labelled, until it is chosen.
  await tom.page.goto(BASE + `/learners/${learner}/plan`);
  assert.ok((await main(tom.page)).includes('Proposed plan'));
  assert.deepEqual(await axe(tom.page), []);
  await tom.page.locator('form[action$="/plan"] button[value=save]').first().click();
  await tom.page.waitForURL(/done=plan$/);
  assert.ok((await main(tom.page)).includes('Chosen plan'));
  assert.deepEqual(await axe(tom.page), []);

  // The unit of the plan, and criteria not judged yet.
  const portfolio = await (await tom.page.request.get(BASE + `/api/v1/learners/${learner}/portfolio`)).json();
  const unit = portfolio.units.find(u => u.in_plan && !u.signed_off);
  const open = unit.criteria.filter(c => c.status.status === 'no_evidence' || c.status.status === 'evidenced');
  assert.ok(open.length >= 2, 'two criteria to judge');
  const [first, second] = open;
  const slug = unit.unit.replace(/[/: ]/g, '-');

  // Upload, then one step maps it to both criteria; the filter narrows the list.
  await tom.page.goto(BASE + `/learners/${learner}/evidence/new`);
  await tom.page.fill('#title', 'Coaching session notes');
  await tom.page.fill('#date', '2026-11-02');
  await tom.page.selectOption('#kind', 'reflective_account');
  await tom.page.check('#source-real_workplace');
  await tom.page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Notes of a coaching session, two pages.\n'.repeat(50)) });
  await tom.page.click('#upload-form button[type=submit]');
  await tom.page.waitForURL(/\/evidence\/\d+\?done=uploaded$/);
  assert.deepEqual(await axe(tom.page), []);
  const all = await tom.page.locator('#map-criteria .map-option:visible').count();
  await tom.page.fill('#map-filter', `${unit.ao_ref} ${first.number}`);
  const filtered = await tom.page.locator('#map-criteria .map-option:visible').count();
  assert.ok(filtered >= 1 && filtered < all, `the filter narrows ${all} to ${filtered}`);
  await tom.page.fill('#map-filter', '');
  for (const c of [first, second]) {
    await tom.page.check(`#map-form input[name=targets][value="${unit.unit}|${c.number}"]`);
  }
  await tom.page.click('#map-form button[type=submit]');
  // No location: the problem is named and the ticks are kept.
  assert.ok((await tom.page.locator('.error-summary').innerText()).includes('Say where in the evidence'));
  for (const c of [first, second]) {
    assert.ok(await tom.page.isChecked(`#map-form input[name=targets][value="${unit.unit}|${c.number}"]`));
  }
  await tom.page.fill('#location', 'page 1 and page 2');
  await tom.page.click('#map-form button[type=submit]');
  await tom.page.waitForURL(/done=mapped$/);
  assert.equal(await tom.page.locator('main table tbody tr').count() >= 2, true);

  // The assessor judges the unit in one form: nothing pre-selected, blank rows no decision.
  const sam = await signedIn('sam.assessor@demo');
  await sam.page.goto(BASE + `/learners/${learner}/portfolio/units/${slug}`);
  assert.equal(await sam.page.locator('#unit-decisions input[type=radio]:checked').count(), 0);
  assert.deepEqual(await axe(sam.page), []);
  await sam.page.check(`#unit-decisions input[name="outcome:${first.number}"][value=met]`);
  await sam.page.fill(`#unit-decisions textarea[name="feedback:${first.number}"]`, 'Clear goals agreed with the coachee');
  await sam.page.check(`#unit-decisions input[name="outcome:${second.number}"][value=not_yet_met]`);
  await sam.page.click('#save-decisions');
  // Not yet met needs feedback: named, and what was chosen and typed is kept.
  await sam.page.locator('.error-summary').waitFor();
  assert.ok((await sam.page.locator('.error-summary').innerText()).includes(`Criterion ${second.number}`));
  assert.equal(await sam.page.inputValue(`#unit-decisions textarea[name="feedback:${first.number}"]`), 'Clear goals agreed with the coachee');
  assert.ok(await sam.page.isChecked(`#unit-decisions input[name="outcome:${second.number}"][value=not_yet_met]`));
  await sam.page.fill(`#unit-decisions textarea[name="feedback:${second.number}"]`, 'Add how the coachee reviewed progress');
  await sam.page.click('#save-decisions');
  await sam.page.locator('.notification', { hasText: 'Decisions recorded' }).waitFor();
  assert.deepEqual(await axe(sam.page), []);

  // The learner reads both pieces of feedback, the "met" one too.
  await tom.page.goto(BASE + `/learners/${learner}/portfolio/units/${slug}`);
  const text = await main(tom.page);
  assert.ok(text.includes('Clear goals agreed with the coachee'), 'feedback with met is shown');
  assert.ok(text.includes('Add how the coachee reviewed progress'));
  assert.deepEqual(await axe(tom.page), []);
  // ...and answers it, in the criterion's thread.
  await tom.page.locator('summary', { hasText: `Reply on ${second.number}` }).click();
  await tom.page.fill(`textarea[id="reply-${second.number}"]`, 'I added the review notes on page 3');
  await tom.page.locator(`button[form="reply-form-${second.number}"]`).click();
  await tom.page.waitForURL(/done=replied/);
  assert.ok((await main(tom.page)).includes('I added the review notes on page 3'));
  assert.deepEqual(await axe(tom.page), []);
  // The assessor answers in the same thread from the unit page (the reply is not a decision:
  // the decisions form sends nothing).
  await sam.page.goto(BASE + `/learners/${learner}/portfolio/units/${slug}`);
  assert.ok((await main(sam.page)).includes('I added the review notes on page 3'));
  await sam.page.locator('summary', { hasText: `Reply on ${second.number}` }).click();
  await sam.page.fill(`textarea[id="reply-${second.number}"]`, 'Thanks: page 3 shows the review, I will judge it again');
  if (SHOTS) await sam.page.screenshot({ path: `${SHOTS}/assessor-reply.png`, fullPage: true });
  await sam.page.locator(`button[form="reply-form-${second.number}"]`).click();
  await sam.page.waitForURL(/done=replied/);
  assert.deepEqual(await axe(sam.page), []);
  await tom.page.reload();
  assert.ok((await main(tom.page)).includes('Thanks: page 3 shows the review, I will judge it again'));
  // The learner's home lists the feedback to act on, linked to the unit.
  await tom.page.goto(BASE + '/home');
  const home = await main(tom.page);
  assert.ok(home.includes('Feedback to act on'), 'the home has the to-do list');
  assert.ok(home.includes('Add how the coachee reviewed progress'), 'with the feedback on it');
  assert.deepEqual(await axe(tom.page), []);
  await tom.page.goto(BASE + `/learners/${learner}/portfolio`);
  assert.ok((await main(tom.page)).includes('Add how the coachee reviewed progress'));
  assert.ok((await main(tom.page)).includes('chosen plan'));
  assert.deepEqual(await axe(tom.page), []);
  await tom.context.close();
  await sam.context.close();
});

// The newest email to `to` in the SMTP server's Maildir, waited for (the worker sends it).
async function emailTo(to) {
  const dir = process.env.MAILDIR;
  assert.ok(dir, 'MAILDIR must be set');
  for (let i = 0; i < 100; i++) {
    for (const f of readdirSync(dir + '/new')) {
      const m = readFileSync(`${dir}/new/${f}`, 'utf8');
      if (m.includes(`To: ${to}`)) return m.replace(/=\r?\n/g, '');
    }
    await new Promise(r => setTimeout(r, 100));
  }
  assert.fail(`no email to ${to} arrived`);
}

test('a registered learner is invited by email, chooses a password and signs in to what needs them', async () => {
  const admin = await signedIn('admin@riverside.demo');
  // A Riverside learner who cannot sign in yet.
  const links = await admin.page.locator('main a[href^="/learners/"]').evaluateAll(as => [...new Set(as.map(a => a.getAttribute('href')))]);
  let invited = null;
  for (const href of links) {
    await admin.page.goto(BASE + href);
    if (await admin.page.locator('button', { hasText: 'Send an invitation to sign in' }).count()) { invited = href; break; }
  }
  assert.ok(invited, 'a learner without a sign-in');
  assert.deepEqual(await axe(admin.page), []);
  const address = `invited.${Date.now()}@example.test`;
  await admin.page.fill('#invite-email', address);
  await admin.page.click('button:has-text("Send an invitation to sign in")');
  await admin.page.waitForURL(/done=invited$/);
  assert.ok((await main(admin.page)).includes('We have emailed an invitation'));

  // The email arrives through the SMTP server with a one-time link.
  const email = await emailTo(address);
  assert.ok(email.includes('Subject: Your invitation to Credence'));
  const link = email.match(/http:\/\/[^\s]+\/invitations\/[A-Za-z0-9_-]+/)[0];
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(link);
  assert.ok((await main(page)).includes('learner'));
  assert.deepEqual(await axe(page), []);
  await page.fill('#password', 'a long enough password');
  await page.click('button[type=submit]');
  await page.waitForURL(/\/home$/);
  const home = await main(page);
  assert.ok(home.includes('Feedback to act on'), home);
  assert.ok(home.includes('Your qualifications'));
  assert.deepEqual(await axe(page), []);
  // Their own portfolio opens; the administrator sees they can sign in now.
  await page.click('a:has-text("Your portfolio")');
  await page.waitForURL(/\/portfolio$/);
  await admin.page.goto(BASE + invited);
  assert.ok((await main(admin.page)).includes('can sign in'));
  await context.close();
  await admin.context.close();
});
