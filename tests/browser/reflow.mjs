// Shared by the browser tests: no page pushes the layout wider than a 320 px screen (WCAG
// 1.4.10 reflow). Only regions made to scroll (wide tables, in their own labelled region)
// may be wider; the page itself never scrolls sideways.
import assert from 'node:assert/strict';

export async function reflows(page, what) {
  const before = page.viewportSize() || { width: 1280, height: 720 };
  await page.setViewportSize({ width: 320, height: 800 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize(before);
  assert.ok(wide <= 320, `${what} is ${wide}px wide at 320px`);
}
