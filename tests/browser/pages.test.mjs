// Headless Chromium against a running Credence (BASE_URL): the catalogue pages render what
// the catalogue holds (compared with the JSON API), and every page passes axe-core's
// WCAG 2.2 A/AA rules. Started by crates/credence/tests/browser.rs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
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

async function open(path) {
  const page = await browser.newPage({ bypassCSP: true }); // so axe-core can be injected under our strict CSP
  const res = await page.goto(BASE + path, { waitUntil: 'load' });
  return { page, status: res.status() };
}

async function api(path) {
  const res = await fetch(BASE + path);
  assert.equal(res.status, 200, path);
  return res.json();
}

test('the qualification page shows the qualification, its rules and its units', async () => {
  const data = await api('/api/v1/qualifications/610-3788-6');
  const { page, status } = await open('/qualifications/610-3788-6');
  assert.equal(status, 200);
  assert.equal((await page.locator('h1').innerText()).trim(), data.qualification.title);
  const body = await page.locator('main').innerText();
  assert.ok(body.includes('610/3788/6'));
  for (const rule of data.rules_in_words) assert.ok(body.includes(rule), `rule shown: ${rule}`);
  const links = await page.locator('main table a').allInnerTexts();
  for (const u of data.units) assert.ok(links.includes(u.ao_ref), `unit ${u.ao_ref} listed`);
  if (SHOTS) { mkdirSync(SHOTS, { recursive: true }); await page.screenshot({ path: `${SHOTS}/qualification.png`, fullPage: true }); }
  await page.close();
});

test('the unit page shows every learning outcome and assessment criterion exactly', async () => {
  const data = await api('/api/v1/units/L-650-7899');
  const { page, status } = await open('/units/L-650-7899');
  assert.equal(status, 200);
  assert.equal((await page.locator('h1').innerText()).trim(), data.unit.title);
  const cells = await page.locator('main table td').allInnerTexts();
  for (const lo of data.unit.learning_outcomes) {
    for (const ac of lo.criteria) assert.ok(cells.includes(ac.text), `AC ${ac.number}: ${ac.text}`);
  }
  const quals = await page.locator('#qualifications ~ .table-scroll table a').allInnerTexts();
  for (const q of data.qualifications) assert.ok(quals.includes(q.title), `belongs to ${q.title}`);
  // Indicative content and guidance sit in <details>: they open without JavaScript.
  await page.locator('details summary').first().click();
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/unit.png`, fullPage: true });
  await page.close();
});

test('search finds criteria by their words', async () => {
  const { page } = await open('/');
  await page.fill('#q', 'objections');
  await page.click('button[type=submit]');
  await page.waitForURL(/\/search\?q=objections/);
  const body = await page.locator('main').innerText();
  assert.ok(body.includes('L3C2'));
  await page.close();
});

test('ticking units on the qualification page updates the answer without a reload', async () => {
  const { page } = await open('/qualifications/610-3788-6');
  for (const ref of ['L3B1', 'L3B2', 'L3C1', 'L3C2']) {
    await page.check(`input[name=unit][value=${ref}]`);
  }
  const heading = (text) => page.waitForFunction(
    (t) => (document.querySelector('#checker-result h3')?.textContent || '').trim().startsWith(t), text);
  await heading('Not achieved yet');
  assert.ok((await page.locator('#checker-result').innerText()).includes('needs at least 1'));
  await page.check('input[name=unit][value=L3L1]');
  await heading('Achieved');
  assert.match(page.url(), /unit=L3L1/);
  await page.close();
});

const pages = ['/claim?units=L3B1%2C+L3B2', '/qualifications/610-3789-8?unit=L3B1&plan=1','/', '/aos', '/aos/ISP', '/qualifications', '/qualifications/610-3788-6',
  '/qualifications/500-3707-9', '/units/L-650-7899', '/units/ISMM-Unit-1', '/units/H-502-8599',
  '/search', '/search?q=sales', '/search?q=L3C2', '/search?q=610%2F3788%2F6', '/sign-in', '/no-such-page'];
for (const path of pages) {
  test(`axe-core finds no WCAG 2.2 AA violation and nothing wider than 320px on ${path}`, async () => {
    const { page } = await open(path);
    const violations = await axe(page);
    assert.deepEqual(violations, [], `${path}:\n${violations.join('\n')}`);
    await reflows(page, path);
    await page.close();
  });
}

// Signed-in pages: each person's own view, checked with axe too.
const signedIn = email => signIn(browser, BASE, email);

const signedInPages = {
  'ao@isp.demo': ['/home', '/centres', '/centres?page=2', '/centres?q=westbrook', '/centres/1', '/centres/1/audit', '/learners/1', '/catalogue/versions',
    '/catalogue/import', '/catalogue/versions/1', '/account/tokens', '/account/second-factor'],
  'ao@ocr.demo': ['/certificates', '/certificates?page=2'],
  'admin@northgate.demo': ['/home', '/centres/1', '/centres/1/registrations/new', '/learners/1'],
  'sam.assessor@demo': ['/home', '/account/competence', '/learners/1/portfolio', '/learners/1/portfolio/units/L-650-7899'],
  'priya.learner@demo': ['/home', '/learners/1', '/centres', '/account/competence', '/learners/1/portfolio',
    '/learners/1/portfolio/units/L-650-7899', '/learners/1/evidence/new'],
};
for (const [email, paths] of Object.entries(signedInPages)) {
  test(`axe-core finds no WCAG 2.2 AA violation and nothing wider than 320px on ${email}'s pages`, async () => {
    const { context, page } = await signedIn(email);
    for (const path of paths) {
      const res = await page.goto(BASE + path);
      assert.equal(res.status(), 200, `${email} ${path}`);
      const violations = await axe(page);
      assert.deepEqual(violations, [], `${email} ${path}:\n${violations.join('\n')}`);
      await reflows(page, `${email} ${path}`);
    }
    await context.close();
  });
}

test('a centre administrator registers a learner and sees their record', async () => {
  const { context, page } = await signedIn('admin@northgate.demo');
  await page.goto(BASE + '/centres/1/registrations/new');
  await page.fill('#given_name', 'Grace');
  await page.fill('#family_name', 'Hopper');
  await page.fill('#date_of_birth', '09/12/1986');
  await page.selectOption('#qan', '610/3789/8');
  await page.click('form[action$="/registrations"] button[type=submit]');
  await page.waitForURL(/\/learners\/\d+$/);
  assert.equal((await page.locator('h1').innerText()).trim(), 'Grace Hopper');
  assert.ok((await page.locator('main').innerText()).includes('ISP Level 3 Diploma in Professional Sales'));
  // A learner too young for the qualification is refused with the reason.
  await page.goto(BASE + '/centres/1/registrations/new');
  await page.fill('#given_name', 'Young');
  await page.fill('#family_name', 'Learner');
  await page.fill('#date_of_birth', '2015-01-01');
  await page.selectOption('#qan', '610/3789/8');
  await page.click('form[action$="/registrations"] button[type=submit]');
  const summary = await page.locator('.error-summary').innerText();
  assert.ok(summary.includes('18'), summary);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/register-error.png`, fullPage: true });
  await context.close();
});

test("an AO's centre list is paged by name and searched, without JavaScript", async () => {
  const { context, page } = await signedIn('ao@isp.demo');
  await page.goto(BASE + '/centres');
  const summary = await page.textContent('main');
  const m = summary.match(/Showing 1 to 50 of (\d+) centres, by name\./);
  assert.ok(m, summary);
  const total = Number(m[1]);
  assert.ok(total > 50);
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'centres-1.png'), fullPage: true });
  await page.click('a[rel="next"]');
  assert.match(page.url(), /\/centres\?page=2$/);
  assert.equal(await page.locator('main table tbody tr').count(), total - 50);
  assert.equal(await page.getAttribute('.pagination__item--current a', 'aria-current'), 'page');
  await page.setViewportSize({ width: 320, height: 800 });
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'centres-2-320.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.fill('#q', 'westbrook centre 15');
  await page.click('main form button');
  assert.match(await page.textContent('main'), /Showing 1 to 10 of 10 centres whose name contains “westbrook centre 15”/);
  await context.close();
});

test('a learner cannot see another centre', async () => {
  const { context, page } = await signedIn('priya.learner@demo');
  const res = await page.goto(BASE + '/centres/2');
  assert.equal(res.status(), 404);
  await context.close();
});

// The portfolio, end to end as its users work: the learner uploads evidence (with the
// progress bar's script) and maps it; the assessor judges every criterion and signs; the
// learner signs; the achievement log PDF says so (read back with pdftotext).
test('a learner uploads and maps, the assessor judges and signs, the learner signs, the log PDF says so', async () => {
  const learner = await signedIn('priya.learner@demo');
  const portfolio = await (await learner.page.request.get(BASE + '/api/v1/learners/1/portfolio')).json();
  // A unit of the learner's plan (the planner's proposal until one is chosen).
  const unit = portfolio.units.find(u => u.in_plan);
  const slug = unit.unit.replace(/[/: ]/g, '-');
  await learner.page.goto(BASE + '/learners/1/evidence/new');
  assert.deepEqual(await axe(learner.page), []);
  await reflows(learner.page, learner.page.url());
  await learner.page.fill('#title', 'Observed sales call with a new client');
  await learner.page.fill('#date', '2026-11-02');
  await learner.page.selectOption('#kind', 'observation_checklist');
  await learner.page.check('#source-real_workplace');
  await learner.page.setInputFiles('#file', { name: 'observation.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(3 * 1024 * 1024, 'observation ') });
  await learner.page.click('#upload-form button[type=submit]');
  await learner.page.waitForURL(/\/learners\/1\/evidence\/\d+\?done=uploaded$/);
  assert.ok((await learner.page.locator('.notification').innerText()).includes('Evidence uploaded'));
  assert.deepEqual(await axe(learner.page), []);
  await reflows(learner.page, learner.page.url());
  const evidenceUrl = learner.page.url().replace(/\?.*$/, '');
  // One step maps the item to every criterion of the unit.
  for (const c of unit.criteria) {
    await learner.page.check(`#map-form input[name=targets][value="${unit.unit}|${c.number}"]`);
  }
  await learner.page.fill('#location', 'page 1');
  await learner.page.click('#map-form button[type=submit]');
  await learner.page.waitForURL(/done=mapped$/);
  // The item's page with its mappings, at 320px.
  await reflows(learner.page, 'the evidence page with its mappings');
  await learner.page.goto(BASE + '/learners/1/portfolio');
  assert.deepEqual(await axe(learner.page), []);
  await reflows(learner.page, learner.page.url());
  // Every criterion shows where its evidence is (inside the unit's details).
  const details = learner.page.locator('details', { hasText: `${unit.ao_ref} ${unit.title}` }).first();
  await details.locator('summary').click();
  assert.ok((await details.innerText()).includes('page 1'));

  const assessor = await signedIn('sam.assessor@demo');
  // The whole unit in one form.
  await assessor.page.goto(BASE + `/learners/1/portfolio/units/${slug}`);
  for (const c of unit.criteria) {
    await assessor.page.check(`#unit-decisions input[name="outcome:${c.number}"][value=met]`);
    await assessor.page.fill(`#unit-decisions textarea[name="feedback:${c.number}"]`, `Seen in the observed call (${c.number})`);
  }
  await assessor.page.click('#save-decisions');
  await assessor.page.locator('main .notification, main .error-summary').first().waitFor();
  assert.ok((await assessor.page.locator('main').innerText()).includes('Decisions recorded'), (await assessor.page.locator('main').innerText()).slice(0, 500));
  assert.deepEqual(await axe(assessor.page), []);
  await reflows(assessor.page, assessor.page.url());
  await assessor.page.fill('#comments', 'Every criterion evidenced in the observed call');
  await assessor.page.click('form[action$="/sign"] button[type=submit]');
  await assessor.page.waitForURL(/done=signed$/);

  await learner.page.goto(BASE + `/learners/1/portfolio/units/${slug}`);
  await learner.page.fill('#comments', 'This is my own work');
  await learner.page.click('form[action$="/sign"] button[type=submit]');
  await learner.page.waitForURL(/done=signed$/);
  assert.ok((await learner.page.locator('main').innerText()).includes('Signed off'));
  assert.deepEqual(await axe(learner.page), []);
  await reflows(learner.page, learner.page.url());

  await learner.page.goto(BASE + '/learners/1/achievement-log/610-3788-6');
  assert.deepEqual(await axe(learner.page), []);
  await reflows(learner.page, learner.page.url());
  const pdf = await learner.page.request.get(BASE + '/learners/1/achievement-log/610-3788-6/pdf');
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()['content-type'], 'application/pdf');
  const dir = mkdtempSync(join(tmpdir(), 'credence-log-'));
  writeFileSync(join(dir, 'log.pdf'), await pdf.body());
  const text = execFileSync('pdftotext', ['-layout', join(dir, 'log.pdf'), '-'], { encoding: 'utf8' });
  for (const want of ['Priya Shah', 'Sam Okafor', 'Assessor declaration', 'Learner declaration',
    'Every criterion evidenced in the observed call', 'This is my own work', 'Optional unit not taken', unit.ao_ref]) {
    assert.ok(text.includes(want), `the PDF says "${want}":\n${text.slice(0, 3000)}`);
  }
  if (SHOTS) await learner.page.screenshot({ path: `${SHOTS}/achievement-log.png`, fullPage: true });
  await learner.context.close();
  await assessor.context.close();
});

// A failed upload keeps what was typed and asks for the file again; the evidence date is
// typed as in the UK; deleting asks first (no JavaScript needed) and the page says when in
// words. axe-core and the 320px reflow check on each page on the way.
test("a learner's failed upload keeps the details, and deleting evidence asks first", async () => {
  const { context, page } = await signedIn('priya.learner@demo');
  const check = async (what) => {
    assert.deepEqual(await axe(page), [], what);
    await reflows(page, what);
  };
  await page.goto(BASE + '/learners/1/evidence/new');
  await page.fill('#title', 'Notes of a call to delete');
  await page.fill('#date', '31/02/2026');
  await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('notes') });
  await page.click('#upload-form button[type=submit]');
  await page.waitForLoadState();
  assert.ok((await page.locator('.error-summary').innerText()).includes('Choose the file again'));
  assert.equal(await page.inputValue('#title'), 'Notes of a call to delete');
  assert.equal(await page.inputValue('#date'), '31/02/2026');
  await check('the upload form after a problem');
  await page.fill('#date', '02/11/2026');
  await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('notes') });
  await page.click('#upload-form button[type=submit]');
  await page.waitForURL(/done=uploaded$/);
  assert.ok((await page.locator('main').innerText()).includes('2 November 2026'));
  const evidenceUrl = page.url().replace(/\?.*$/, '');
  await page.click('text=Delete this evidence');
  await page.waitForURL(/\/delete$/);
  assert.match(await page.locator('h1').innerText(), /Are you sure you want to delete/);
  await check('the delete confirmation');
  await page.click('text=No, keep it');
  await page.waitForURL(evidenceUrl);
  await page.click('text=Delete this evidence');
  await page.click('button:has-text("Yes, delete this evidence")');
  await page.waitForURL(/portfolio\?done=deleted$/);
  const gone = await page.goto(evidenceUrl);
  assert.equal(gone.status(), 404);
  // The error page keeps the signed-in header.
  assert.ok((await page.locator('header').innerText()).includes('Sign out'));
  await context.close();
});
