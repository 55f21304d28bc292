// The first vertical slice: toy2d loads, Play optimises CKA past 0.9, plots are drawn.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSite, inkedPixels, value, ARTIFACTS } from './harness.mjs';

let site;
before(async () => { site = await openSite(); });
after(async () => { await site?.close(); });

test('the page loads toy2d and shows the initial score', async () => {
  const { page, url } = site;
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('[data-testid="score-cka"]')?.dataset.value);
  assert.equal(await value(page, 'step-count'), 0);
  const s0 = await value(page, 'score-cka');
  assert.ok(s0 > 0 && s0 < 0.9, `initial CKA ${s0}`);
  assert.match(await page.textContent('#dataset-name'), /toy2d/);
});

test('Play optimises CKA past 0.9 and both canvases are drawn', async () => {
  const { page } = site;
  await page.click('[data-testid="play"]');
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="score-cka"]').dataset.value) > 0.9,
    null, { timeout: 20000 });
  const step = await value(page, 'step-count');
  assert.ok(step > 0, 'step count advanced');
  assert.ok(await inkedPixels(page, 'score-plot') > 500, 'score plot is drawn');
  assert.ok(await inkedPixels(page, 'pc-plot') > 500, 'PC plot is drawn');
  // it stops by itself once the score passes 0.99
  await page.waitForFunction(
    () => document.querySelector('[data-testid="play"]').getAttribute('aria-pressed') === 'false',
    null, { timeout: 20000 });
  assert.ok(await value(page, 'score-cka') > 0.99);
  await page.screenshot({ path: `${ARTIFACTS}/explorer.png`, fullPage: true });
});

test('Reset returns to step 0 with the same score; Step advances by one', async () => {
  const { page } = site;
  const before = await value(page, 'step-count');
  assert.ok(before > 1);
  await page.click('[data-testid="reset"]');
  assert.equal(await value(page, 'step-count'), 0);
  const s0 = await value(page, 'score-cka');
  await page.click('[data-testid="step"]');
  assert.equal(await value(page, 'step-count'), 1);
  const s1 = await value(page, 'score-cka');
  assert.notEqual(s1, s0);
  await page.click('[data-testid="reset"]');
  assert.equal(await value(page, 'score-cka'), s0, 'same seed, same initial score');
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
