// Shared by the browser tests: Chromium, axe-core, signing in as a demo account, reading a
// page's main content. (The 320 px reflow check is in reflow.mjs.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { reflows } from './reflow.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/// The demo accounts' password.
export const DEMO_PASSWORD = 'credence-demo-2026';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
  });
}

/// WCAG 2.2 A and AA violations on the page, one line each (none: []).
export async function axe(page) {
  await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return r.violations.map(v => `${v.id}: ${v.help} (${v.nodes.length}) ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
  });
}

/// No axe violation, and nothing wider than 320 px.
export async function accessible(page, what) {
  const violations = await axe(page);
  assert.deepEqual(violations, [], `${what}:\n${violations.join('\n')}`);
  await reflows(page, what);
}

/// A new browser context signed in as `email` (a demo account), on its home page.
export async function signedIn(browser, base, email, options = {}) {
  const context = await browser.newContext({ bypassCSP: true, ...options });
  const page = await context.newPage();
  await page.goto(base + '/sign-in');
  await page.fill('#email', email);
  await page.fill('#password', DEMO_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/home$/);
  return { context, page };
}

/// The text of the page's main content.
export const main = page => page.locator('main').innerText();
