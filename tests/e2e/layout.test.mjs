// Looks right everywhere: a projector (1024×768), a desktop (1920×1080) and a phone
// (390×844 at 3× pixels). No horizontal scrolling, the main controls on screen, and every
// visible canvas backed by devicePixelRatio × its CSS size (sharp on HiDPI screens).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSite, waitValue, ARTIFACTS } from './harness.mjs';

const sel = (id) => `[data-testid="${id}"]`;

const SCREENS = [
  { name: 'projector', viewport: { width: 1024, height: 768 }, deviceScaleFactor: 1 },
  { name: 'desktop', viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1 },
  { name: 'phone', viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true },
];

for (const screen of SCREENS) {
  test(`${screen.name} (${screen.viewport.width}×${screen.viewport.height} @${screen.deviceScaleFactor}x)`, async () => {
    const site = await openSite(screen);
    try {
      const { page, url } = site;
      await page.goto(`${url}#stop=2`);
      await waitValue(page, 'score-cka', 'v > 0');
      for (let i = 0; i < 3; i++) await page.click(sel('step'));
      await waitValue(page, 'step-count', 'v === 3');
      await page.waitForTimeout(300);
      const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling (page is ${overflow}px too wide)`);
      for (const id of ['play', 'step', 'reset', 'measure-select', 'dataset-select', 'tab-perturb']) {
        assert.equal(await page.isVisible(sel(id)), true, `${id} visible`);
      }
      const canvases = await page.$$eval('canvas', (cs) => cs.filter((c) => c.offsetParent).map((c) => ({
        id: c.id, w: c.width, h: c.height, cw: c.clientWidth, ch: c.clientHeight, dpr: window.devicePixelRatio,
      })));
      assert.ok(canvases.length >= 5, `${canvases.length} canvases shown`);
      for (const c of canvases) {
        assert.equal(c.dpr, screen.deviceScaleFactor);
        assert.ok(Math.abs(c.w - c.cw * c.dpr) <= 1 && Math.abs(c.h - c.ch * c.dpr) <= 1,
          `${c.id}: backing ${c.w}×${c.h} for ${c.cw}×${c.ch} CSS px at ${c.dpr}x`);
      }
      await page.screenshot({ path: `${ARTIFACTS}/layout-${screen.name}.png`, fullPage: screen.name !== 'phone' });
      assert.deepEqual(site.problems, []);
    } finally {
      await site.close();
    }
  });
}
