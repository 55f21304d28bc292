// Exports: every plot as PNG and SVG, the score trajectories as CSV, Y as .npy; all are
// downloaded from same-origin blob:/data: URLs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openSite, waitValue, ARTIFACTS } from './harness.mjs';

let site;
before(async () => { site = await openSite(); });
after(async () => { await site?.close(); });

const sel = (id) => `[data-testid="${id}"]`;

async function download(page, testid) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(sel(testid))]);
  const path = `${ARTIFACTS}/${d.suggestedFilename()}`;
  await d.saveAs(path);
  return { name: d.suggestedFilename(), bytes: readFileSync(path) };
}

test('every plot downloads as PNG and as SVG', async () => {
  const { page, url } = site;
  await page.goto(`${url}#stop=2`);
  await waitValue(page, 'score-cka', 'v > 0');
  for (let i = 0; i < 5; i++) {
    const before = Number(await page.getAttribute(sel('step-count'), 'data-value'));
    await page.click(sel('step'));
    await waitValue(page, 'step-count', `v > ${before}`);
  }
  for (const id of ['score-plot', 'pc-r2-plot', 'capture-plot', 'spectrum-plot', 'pc-plot', 'decode-plot', 'pert-plot']) {
    if (id === 'pc-plot' || id === 'pert-plot') {
      // Chromium holds back a tab's downloads after ten or so in a row: a navigation (same
      // settings, same run) resets that. A closed tab's canvases are drawn when it opens.
      await page.goto('about:blank');
      await page.goto(`${url}#stop=2${id === 'pert-plot' ? '&panel=perturb' : ''}`);
      await waitValue(page, 'score-cka', 'v > 0');
      await page.waitForTimeout(300);
    }
    const png = await download(page, `export-${id}-png`);
    assert.match(png.name, new RegExp(`${id}\\.png$`));
    assert.deepEqual([...png.bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${id} PNG magic`);
    assert.ok(png.bytes.length > 2000, `${id} PNG has content`);
    const svg = await download(page, `export-${id}-svg`);
    assert.match(svg.name, new RegExp(`${id}\\.svg$`));
    const text = svg.bytes.toString('utf8');
    assert.match(text, /^<svg/, `${id} is SVG`);
    assert.match(text, /<(polyline|rect|circle)/, `${id} SVG has marks`);
  }
});

test('the score trajectory downloads as CSV and Y as .npy of the recording shape', async () => {
  const { page, url } = site;
  // A fresh navigation resets Chromium's per-tab limit on repeated downloads.
  await page.goto('about:blank');
  await page.goto(`${url}#stop=2&watch=nbs`);
  await waitValue(page, 'score-nbs', 'v > 0');
  for (let i = 0; i < 3; i++) {
    const before = Number(await page.getAttribute(sel('step-count'), 'data-value'));
    await page.click(sel('step'));
    await waitValue(page, 'step-count', `v > ${before}`);
  }
  const csv = await download(page, 'export-csv');
  const lines = csv.bytes.toString('utf8').trim().split('\n');
  assert.equal(lines[0], 'step,cka,nbs');
  assert.equal(lines.length, 1 + 4, 'steps 0..3');
  const last = lines.at(-1).split(',');
  assert.equal(last[0], '3');
  assert.equal(Number(last[1]), Number(await page.getAttribute(sel('score-cka'), 'data-value')));
  // Y comes back from the worker after the click's user activation, so the page also
  // keeps a link to it; clicking that is what a user does if the browser held the download.
  await page.click(sel('export-y'));
  await page.waitForSelector(`${sel('export-y-link')}[href^="blob:"]`);
  const npy = await download(page, 'export-y-link');
  assert.match(npy.name, /\.npy$/);
  assert.equal(npy.bytes.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  const headerLen = npy.bytes.readUInt16LE(8);
  const header = npy.bytes.subarray(10, 10 + headerLen).toString('latin1');
  assert.match(header, /'shape': \(10, 6, 2\)/, header);
  assert.equal(npy.bytes.length, 10 + headerLen + 8 * 120);
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});

test('plots say what they will show at step 0, and a distance reads left to right as it falls', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  // Euclidean Procrustes is a distance in data units (lower is better).
  await page.goto(`${url}#measure=procrustes-euclidean&stop=2`);
  await waitValue(page, 'score-procrustes-euclidean', 'v > 0');
  await page.waitForTimeout(300);
  const empty = (await download(page, 'export-score-plot-svg')).bytes.toString('utf8');
  assert.match(empty, /press Play or Step: the run is drawn here/, 'step 0: a hint, not blank axes');
  for (let i = 0; i < 5; i++) {
    const before = Number(await page.getAttribute(sel('step-count'), 'data-value'));
    await page.click(sel('step'));
    await waitValue(page, 'step-count', `v > ${before}`);
  }
  await page.waitForTimeout(300);
  const scores = (await download(page, 'export-score-plot-svg')).bytes.toString('utf8');
  assert.doesNotMatch(scores, /press Play or Step/, 'the hint goes once the run is drawn');
  assert.match(scores, /lower is better/);
  const r2 = (await download(page, 'export-pc-r2-plot-svg')).bytes.toString('utf8');
  assert.match(r2, /distance \(reversed: better to the right\)/);
  // The x ticks are the distances themselves, decreasing to the right (the run's way).
  const ticks = [...r2.matchAll(/<text x="(\d+(?:\.\d+)?)" y="(\d+(?:\.\d+)?)"[^>]*text-anchor="middle"[^>]*>\s*(-?\d+\.\d\d)\s*</g)]
    .map((m) => ({ x: Number(m[1]), v: Number(m[3]) }));
  assert.ok(ticks.length >= 3, `x ticks: ${JSON.stringify(ticks)}`);
  ticks.sort((a, b) => a.x - b.x);
  assert.ok(ticks.every((t) => t.v >= 0), 'no negated distances on the axis');
  assert.ok(ticks.every((t, k) => k === 0 || t.v < ticks[k - 1].v), `ticks fall to the right: ${JSON.stringify(ticks)}`);
});
