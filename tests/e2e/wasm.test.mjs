// Two wasm builds (scripts/build.sh): SIMD where the browser validates a SIMD module, else the
// fallback; `?wasm=fallback` forces the fallback. The worker reports which one it runs and the
// page shows it as <html data-wasm="simd|fallback">.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSite, value, waitValue } from './harness.mjs';

let site;
before(async () => { site = await openSite(); });
after(async () => { await site?.close(); });

const wasmRequests = (page) => {
  const seen = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) seen.push(new URL(r.url()).pathname); });
  return seen;
};

test('Chromium gets the SIMD build, and only that one is fetched', async () => {
  const { page, url } = site;
  const seen = wasmRequests(page);
  await page.goto(url);
  await waitValue(page, 'score-cka', 'v > 0');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.wasm), 'simd');
  assert.ok(seen.includes('/simscope_simd_bg.wasm'), `fetched ${seen}`);
  assert.ok(!seen.includes('/simscope_bg.wasm'), `the fallback is not fetched: ${seen}`);
  page.removeAllListeners('request');
});

test('?wasm=fallback loads the fallback build, which optimises too', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  const seen = wasmRequests(page);
  await page.goto(`${url}?wasm=fallback#stop=0.95`);
  const s0 = await waitValue(page, 'score-cka', 'v > 0');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.wasm), 'fallback');
  assert.ok(seen.includes('/simscope_bg.wasm') && !seen.includes('/simscope_simd_bg.wasm'), `fetched ${seen}`);
  await page.click('[data-testid="play"]');
  await waitValue(page, 'score-cka', `v > 0.95 && v > ${s0}`, 20000);
  assert.ok(await value(page, 'step-count') > 0);
  page.removeAllListeners('request');
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
