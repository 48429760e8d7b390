import { chromium } from 'playwright-core';
const BASE = 'http://127.0.0.1:8099';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu'] });
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(BASE + '/sign-in');
await page.fill('#email', process.argv[2]);
await page.fill('#password', 'credence-demo-2026');
await page.click('button[type=submit]');
await page.waitForURL(/\/home$/);
const seen = new Set(); const queue = ['/home']; let n = 0;
while (queue.length && n < 60) {
  const u = queue.shift(); if (seen.has(u)) continue; seen.add(u); n++;
  let r; try { r = await page.goto(BASE + u); } catch (e) { continue; }
  const st = r.status();
  if (st >= 400) console.log(st, u);
  const ct = r.headers()['content-type'] || '';
  if (!ct.includes('html')) continue;
  const links = await page.$$eval('main a[href^="/"]', as => as.map(a => a.getAttribute('href')));
  for (const l of links) { const p = l.split('#')[0]; if (!seen.has(p) && !p.includes('sign-out') && !p.includes('/pdf') && !p.includes('.zip') && !p.includes('csv') && !p.includes('/credential') && !p.includes('/download')) queue.push(p); }
}
console.log('visited', n);
await browser.close();
