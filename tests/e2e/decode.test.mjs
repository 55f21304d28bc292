// The Decode panel: accuracy vs score per task variable, with the neural reference and chance,
// computed in the worker every k steps while the optimisation keeps stepping.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSite, inkedPixels, value, waitValue, ARTIFACTS } from './harness.mjs';

let site;
before(async () => { site = await openSite(); });
after(async () => { await site?.close(); });

const sel = (id) => `[data-testid="${id}"]`;
const num = (page, id) => page.$eval(sel(id), (e) => e.dataset.value === '' ? NaN : Number(e.dataset.value));

test('decoding accuracies follow the run every k steps without stopping it', async () => {
  const { page, url } = site;
  await page.goto(`${url}#decode=5&stop=0.999`);
  await waitValue(page, 'score-cka', 'v > 0');
  await page.waitForSelector(sel('decode-acc-choice'));
  for (const name of ['choice', 'stimulus']) {
    const ref = await num(page, `decode-ref-${name}`);
    const chance = await num(page, `decode-chance-${name}`);
    assert.ok(ref >= 0 && ref <= 1, `${name} reference ${ref}`);
    assert.ok(chance > 0 && chance < 1, `${name} chance ${chance}`);
  }
  assert.equal(await num(page, 'decode-chance-choice'), 0.5);
  assert.ok(await num(page, 'decode-ref-choice') > 0.9, 'choice is decodable from toy2d');
  await page.click(sel('play'));
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="decode-plot"]').dataset.points) >= 4,
    null, { timeout: 30000 });
  await page.waitForFunction(
    () => document.querySelector('[data-testid="play"]').getAttribute('aria-pressed') === 'false',
    null, { timeout: 30000 });
  const steps = await value(page, 'step-count');
  const points = await page.$eval(sel('decode-plot'), (c) => Number(c.dataset.points));
  // Every 5 steps at most (fewer when decoding would take over a fifth of the worker's time),
  // plus at most one each time the score has moved by 5% of its range (21 in [0, 1]).
  assert.ok(points >= 4 && points <= steps / 5 + 2 + 21, `${points} decodes over ${steps} steps`);
  const acc = await num(page, 'decode-acc-choice');
  assert.ok(acc >= 0 && acc <= 1);
  const needed = await num(page, 'decode-needed-choice');
  assert.ok(Number.isNaN(needed) || (needed > 0 && needed <= 1), `score needed ${needed}`);
  await page.waitForTimeout(200);
  assert.ok(await inkedPixels(page, 'decode-plot') > 500, 'decode plot drawn');
  await page.locator('#decode-panel').screenshot({ path: `${ARTIFACTS}/decode.png` });
});

test("switching recordings shows the new recording's variables; none says so", async () => {
  const { page } = site;
  await page.selectOption(sel('dataset-select'), 'ultrametric');
  await page.waitForSelector(sel('decode-ref-category'));
  assert.equal(await page.$(sel('decode-acc-choice')), null, 'the old variables are gone');
  const values = Array.from({ length: 30 * 4 }, (_, i) => Math.cos(i * 0.71) + (i % 4) * 0.2);
  const { npyBytes } = await import('./harness.mjs');
  await page.setInputFiles(sel('file-input'), { name: 'nolabels.npy', mimeType: 'application/octet-stream', buffer: npyBytes([30, 4], values) });
  await page.waitForFunction(() => /no task labels/.test(document.querySelector('#decode-note').textContent));
});

test('stepping goes on while the reference (decoding X) is still being computed', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#dataset=context-integration&speed=1&stop=2`);
  await waitValue(page, 'score-cka', 'v > 0', 60000);
  await page.click(sel('play'));
  // context-integration takes seconds to decode from X (4 variables × 15 time steps); the
  // worker does it in slices between step requests, so steps keep coming meanwhile.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="step-count"]').dataset.value) >= 20,
    null, { timeout: 20000 });
  assert.equal(await page.$eval(sel('decode-plot'), (c) => c.dataset.points), '0', 'the first decoding is still running');
  await page.click(sel('play'));
  // Paused, the decoding runs unthrottled and finishes.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="decode-plot"]').dataset.points) >= 1,
    null, { timeout: 60000 });
  const ref = await num(page, 'decode-ref-choice');
  assert.ok(ref > 0.5 && ref <= 1, `choice reference ${ref}`);
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
