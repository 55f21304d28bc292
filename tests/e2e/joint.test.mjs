// The Joint panel: the allowed (A, B) region fills in target by target from the worker, in
// slices, while the page stays responsive; Cancel stops it; settings live in the URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openSite, inkedPixels, waitValue, ARTIFACTS } from './harness.mjs';

let site;
before(async () => { site = await openSite(); });
after(async () => { await site?.close(); });

const sel = (id) => `[data-testid="${id}"]`;
const progress = (page) => page.$eval(sel('joint-progress'), (e) => ({
  state: e.dataset.state, done: Number(e.dataset.done), total: Number(e.dataset.total), text: e.textContent,
}));

test('defaults: cka vs angular Procrustes, 4 points per side, 300 steps', async () => {
  const { page, url } = site;
  await page.goto(url);
  await waitValue(page, 'score-cka', 'v > 0');
  assert.equal(await page.inputValue(sel('joint-a-select')), 'cka');
  assert.equal(await page.inputValue(sel('joint-b-select')), 'procrustes-angular-score');
  assert.equal(await page.inputValue(sel('joint-n-input')), '4');
  assert.equal(await page.inputValue(sel('joint-steps-input')), '300');
  assert.equal(await page.$eval(sel('joint-cancel'), (b) => b.disabled), true);
});

test('Run fills in every target with progress, draws the region and its CKA–NBS bounds', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#panel=joint&ja=cka&jb=nbs&jn=3&jsteps=40`);
  await waitValue(page, 'score-cka', 'v > 0');
  assert.equal(await page.inputValue(sel('joint-b-select')), 'nbs');
  await page.click(sel('joint-run'));
  // Progress text while running, e.g. "target 3/8" (a fast machine may already be done).
  await page.waitForFunction(() => /target \d+\/8|done: 8 targets/.test(document.querySelector('[data-testid="joint-progress"]').textContent),
    null, { timeout: 60000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="joint-progress"]').dataset.state === 'done',
    null, { timeout: 60000 });
  const p = await progress(page);
  assert.equal(p.total, 8, '4(N − 1) targets for N = 3');
  assert.equal(p.done, 8);
  assert.match(p.text, /done: 8 targets/);
  assert.equal(await page.$eval(sel('joint-cancel'), (b) => b.disabled), true);
  await page.waitForTimeout(200);
  assert.ok(await inkedPixels(page, 'joint-plot') > 2000, 'joint plot drawn');
  await page.locator('#joint-panel').screenshot({ path: `${ARTIFACTS}/joint.png` });
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(sel('export-joint-plot-svg'))]);
  const path = `${ARTIFACTS}/${d.suggestedFilename()}`;
  await d.saveAs(path);
  const svg = readFileSync(path, 'utf8');
  assert.match(svg, /^<svg/);
  assert.match(svg, /analytic CKA–NBS bounds/, 'bounds drawn for cka vs nbs');
  assert.match(svg, /<polyline/);
  const [png] = await Promise.all([page.waitForEvent('download'), page.click(sel('export-joint-plot-png'))]);
  assert.match(png.suggestedFilename(), /joint-plot\.png$/);
});

test('stepping interleaves with a joint job, and Cancel stops it within 100 ms of work', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#panel=joint&jn=6&jsteps=5000&stop=2`);
  await waitValue(page, 'score-cka', 'v > 0');
  await page.evaluate(() => {
    window.__long = [];
    new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => e.duration)))
      .observe({ type: 'longtask' });
  });
  await page.click(sel('joint-run'));
  await page.waitForFunction(() => document.querySelector('[data-testid="joint-progress"]').dataset.total === '20');
  // Optimise steps are answered between slices.
  for (let i = 0; i < 3; i++) {
    const before = Number(await page.getAttribute(sel('step-count'), 'data-value'));
    const t0 = Date.now();
    await page.click(sel('step'));
    await waitValue(page, 'step-count', `v > ${before}`, 2000);
    assert.ok(Date.now() - t0 < 1000, `a step is answered during the joint job (${Date.now() - t0} ms)`);
  }
  assert.equal((await progress(page)).state, 'running');
  assert.equal(await page.$eval(sel('joint-cancel'), (b) => b.disabled), false);
  await page.click(sel('joint-cancel'));
  const p = await progress(page);
  assert.equal(p.state, 'cancelled');
  assert.match(p.text, /cancelled after \d+\/20 targets/);
  // The worker is free again at once: a step is answered promptly.
  const before = Number(await page.getAttribute(sel('step-count'), 'data-value'));
  const t0 = Date.now();
  await page.click(sel('step'));
  await waitValue(page, 'step-count', `v > ${before}`, 2000);
  const dt = Date.now() - t0;
  assert.ok(dt < 500, `step answered ${dt} ms after Cancel`);
  await page.waitForTimeout(300);
  const after = await progress(page);
  assert.equal(after.state, 'cancelled');
  assert.equal(after.done, p.done, 'no target finishes after Cancel');
  assert.ok(after.done < 20);
  const long = await page.evaluate(() => window.__long);
  assert.deepEqual(long.filter((d) => d > 50), [], 'no main-thread task over 50 ms while the joint job runs');
});

test('joint settings round-trip through the URL hash', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#panel=joint`);
  await waitValue(page, 'score-cka', 'v > 0');
  await page.selectOption(sel('joint-a-select'), 'nbs');
  await page.fill(sel('joint-n-input'), '5');
  await page.press(sel('joint-n-input'), 'Enter');
  await page.fill(sel('joint-steps-input'), '20');
  await page.press(sel('joint-steps-input'), 'Tab');
  await page.waitForFunction(() => /jsteps=20/.test(location.hash));
  const hash = await page.evaluate(() => location.hash);
  assert.match(hash, /ja=nbs/);
  assert.match(hash, /jn=5/);
  await page.goto('about:blank');
  await page.goto(`${url}${hash}`);
  await waitValue(page, 'score-cka', 'v > 0');
  assert.equal(await page.inputValue(sel('joint-a-select')), 'nbs');
  assert.equal(await page.inputValue(sel('joint-n-input')), '5');
  assert.equal(await page.inputValue(sel('joint-steps-input')), '20');
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
