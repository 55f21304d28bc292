// The Prune panel (issue 7): the built-in demo runs in worker slices with progress, its
// summary and curve equal the native CLI's for the same settings, Cancel answers within a
// slice, an invalid target RDM is refused with its specific message while the previous result
// stays, and the main thread never blocks for more than 50 ms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSite, inkedPixels, waitValue, value, npyBytes, runCli, ARTIFACTS } from './harness.mjs';

let site;
let out;
before(async () => {
  site = await openSite();
  out = mkdtempSync(join(tmpdir(), 'simscope-prune-'));
});
after(async () => {
  await site?.close();
  rmSync(out, { recursive: true, force: true });
});

const sel = (id) => `[data-testid="${id}"]`;
const state = (page) => page.$eval(sel('prune-progress'), (e) => ({
  state: e.dataset.state, stage: Number(e.dataset.stage), stages: Number(e.dataset.stages), text: e.textContent,
}));
const TOL = 1e-9;
const close = (a, b, what) => assert.ok(Math.abs(a - b) <= TOL, `${what}: page ${a} vs CLI ${b}`);

/** The CLI's JSON summary and curve.csv for the demo `prune-demo-mit` with these flags. */
function cli(flags) {
  const dir = join(out, flags.join('_').replace(/[^a-z0-9_]/gi, '') || 'defaults');
  const stdout = runCli(['prune', 'prune-demo-mit', '--target-rdm', 'kriegeskorte2008-mit', ...flags, '--out', dir]);
  return { summary: JSON.parse(stdout), json: stdout.trim(), curve: readFileSync(join(dir, 'curve.csv'), 'utf8') };
}

async function download(page, testid) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(sel(testid))]);
  const path = `${ARTIFACTS}/${d.suggestedFilename()}`;
  await d.saveAs(path);
  return readFileSync(path, 'utf8');
}

function compareCurves(pageCsv, cliCsv) {
  const a = pageCsv.trim().split('\n');
  const b = cliCsv.trim().split('\n');
  assert.equal(a[0], 'n_kept,train_fit,test_fit');
  assert.equal(a[0], b[0]);
  assert.equal(a.length, b.length, 'same number of curve rows');
  for (let i = 1; i < a.length; i++) {
    const [x, y] = [a[i].split(',').map(Number), b[i].split(',').map(Number)];
    assert.equal(x[0], y[0], `row ${i} n_kept`);
    close(x[1], y[1], `row ${i} train_fit`);
    close(x[2], y[2], `row ${i} test_fit`);
  }
  return a.length - 1;
}

async function loaded(page) {
  await page.waitForFunction(() => /prune-demo-mit/.test(document.querySelector('[data-testid="prune-inputs"]').textContent));
}

test('the built-in demo: progress, summary and curve equal the CLI, no long task', async () => {
  const { page, url } = site;
  await page.goto(`${url}#panel=prune`);
  await loaded(page);
  assert.equal(await page.inputValue(sel('prune-demo-select')), 'prune-demo-mit');
  assert.equal(await page.inputValue(sel('prune-folds-input')), '5');
  assert.equal(await page.$eval(sel('prune-cancel'), (b) => b.disabled), true);
  // The page's own start-up (first recording, first plots) is over before the window opens.
  await waitValue(page, 'score-cka', 'v > 0');
  await page.waitForTimeout(500);
  await page.evaluate(() => {
    window.__long = [];
    new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => e.duration)))
      .observe({ type: 'longtask' });
  });
  const t0 = Date.now();
  await page.click(sel('prune-run'));
  await page.waitForFunction(() => /fold \d\/5, step \d+\/\d+|final selection|done/.test(
    document.querySelector('[data-testid="prune-progress"]').textContent), null, { timeout: 60000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="prune-progress"]').dataset.state === 'done',
    null, { timeout: 180000 });
  const seconds = (Date.now() - t0) / 1000;
  // Let the four canvases draw (a piece per frame) inside the long-task window.
  await page.waitForSelector('#prune-panel[data-drawn="1"]');
  await page.waitForTimeout(200);
  const long = await page.evaluate(() => window.__long);
  assert.deepEqual(long.filter((d) => d > 50), [], 'no main-thread task over 50 ms during the run and its drawing');

  const expected = cli([]);
  const kept = JSON.parse(`[${await page.textContent(sel('prune-kept-list'))}]`);
  assert.deepEqual(kept, expected.summary.kept, 'kept features equal the CLI');
  assert.equal(await value(page, 'prune-kept-count'), expected.summary.kept.length);
  close(await value(page, 'prune-test-pruned'), expected.summary.test_fit_pruned, 'test_fit_pruned');
  close(await value(page, 'prune-test-full'), expected.summary.test_fit_full, 'test_fit_full');
  close(await value(page, 'prune-test-reweighted'), expected.summary.test_fit_reweighted, 'test_fit_reweighted');
  assert.ok(await value(page, 'prune-test-pruned') > await value(page, 'prune-test-full') + 0.5,
    'pruning the demo lifts the held-out fit');

  // Exports: the summary JSON (same keys, same order, same values) and the curve CSV.
  const json = (await download(page, 'prune-kept-json')).trim();
  const got = JSON.parse(json);
  assert.deepEqual(Object.keys(got), Object.keys(expected.summary));
  assert.deepEqual(got.kept, expected.summary.kept);
  for (const k of ['test_fit_pruned', 'test_fit_full', 'test_fit_reweighted']) close(got[k], expected.summary[k], k);
  const identical = json === expected.json;
  const rows = compareCurves(await download(page, 'prune-curve-csv'), expected.curve);
  assert.equal(rows, 96, 'one curve row per size from 96 to 1');
  const keptCsv = (await download(page, 'prune-kept-csv')).trim().split('\n');
  assert.equal(keptCsv[0], 'feature');
  assert.deepEqual(keptCsv.slice(1).map(Number), expected.summary.kept);
  console.log(`prune demo in the page: ${seconds.toFixed(1)} s; summary JSON byte-identical to the CLI: ${identical}`);

  for (const id of ['prune-curve-plot', 'prune-rdm-target', 'prune-rdm-full', 'prune-rdm-pruned']) {
    assert.ok(await inkedPixels(page, id) > 2000, `${id} drawn`);
  }
  const svg = await download(page, 'export-prune-curve-plot-svg');
  assert.match(svg, /^<svg/);
  assert.match(svg, /chosen: 24 kept|chosen: \d+ kept/);
  const heat = await download(page, 'export-prune-rdm-pruned-svg');
  assert.ok((heat.match(/<rect/g) ?? []).length >= 92 * 92, 'one cell per RDM entry');
  await page.waitForSelector('#prune-panel[data-drawn="1"]');
  await page.locator('#prune-panel').screenshot({ path: `${ARTIFACTS}/prune.png` });
});

test('an asymmetric target RDM is refused with its reason; the previous result stays', async () => {
  const { page } = site;
  const before = await value(page, 'prune-test-pruned');
  assert.ok(Number.isFinite(before));
  const n = 92;
  const values = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) values.push(i === j ? 0 : Math.abs(i - j));
  values[1 * n + 2] = 5; // (1, 2) = 5 but (2, 1) = 1
  await page.setInputFiles(sel('prune-target-rdm-input'),
    { name: 'asym.npy', mimeType: 'application/octet-stream', buffer: npyBytes([n, n], values) });
  await page.waitForSelector(`${sel('error')}:not([hidden])`);
  const msg = await page.textContent('#error-text');
  assert.match(msg, /asym\.npy: the target RDM is not symmetric: entries \(1, 2\) and \(2, 1\) differ by 4e0/);
  assert.equal(await value(page, 'prune-test-pruned'), before, 'previous result kept');
  assert.match(await page.textContent(sel('prune-inputs')), /target RDM: kriegeskorte2008-mit RDM/, 'previous target kept');
  assert.equal((await state(page)).state, 'done');
  await page.click('#error-close');
});

test('Cancel mid-run answers within 300 ms, resets, and the panel runs again', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#panel=prune&pfolds=3&pseed=2&pmethod=forward`);
  await loaded(page);
  await waitValue(page, 'score-cka', 'v > 0');
  assert.equal(await page.inputValue(sel('prune-method-select')), 'forward');
  await page.click(sel('prune-run'));
  await page.waitForFunction(() => {
    const e = document.querySelector('[data-testid="prune-progress"]');
    return e.dataset.state === 'running' && Number(e.dataset.stage) >= 1;
  }, null, { timeout: 60000 });
  assert.equal(await page.$eval(sel('prune-cancel'), (b) => b.disabled), false);
  await page.click(sel('prune-cancel'));
  const p = await state(page);
  assert.equal(p.state, 'cancelled');
  assert.equal(await page.$eval(sel('prune-cancel'), (b) => b.disabled), true);
  // The worker is free within one slice: an optimisation step is answered promptly.
  const stepBefore = Number(await page.getAttribute(sel('step-count'), 'data-value'));
  const t0 = Date.now();
  await page.click(sel('step'));
  await waitValue(page, 'step-count', `v > ${stepBefore}`, 2000);
  const dt = Date.now() - t0;
  assert.ok(dt < 300, `step answered ${dt} ms after Cancel`);
  await page.waitForTimeout(300);
  const after = await state(page);
  assert.equal(after.state, 'cancelled', 'no progress after Cancel');
  assert.equal(after.stage, p.stage);
  assert.equal(await page.$eval('#prune-results', (e) => e.hidden), true, 'no result from the cancelled run');
  // Usable again: the same settings run to the end and equal the CLI.
  await page.click(sel('prune-run'));
  await page.waitForFunction(() => document.querySelector('[data-testid="prune-progress"]').dataset.state === 'done',
    null, { timeout: 180000 });
  const expected = cli(['--folds', '3', '--seed', '2', '--method', 'forward']);
  close(await value(page, 'prune-test-pruned'), expected.summary.test_fit_pruned, 'test_fit_pruned (forward)');
  assert.deepEqual(JSON.parse(`[${await page.textContent(sel('prune-kept-list'))}]`), expected.summary.kept);
});

test('settings round-trip through the URL; the panel fits 1024 × 768', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.goto(`${url}#panel=prune`);
  await loaded(page);
  await page.selectOption(sel('prune-distance-select'), 'sqeuclidean');
  await page.selectOption(sel('prune-demo-select'), 'prune-categories-hit');
  await page.waitForFunction(() => /pdemo=prune-categories-hit/.test(location.hash) && /pdist=sqeuclidean/.test(location.hash));
  await page.waitForFunction(() => /prune-categories-hit \(92 stimuli × 12 features\)/.test(
    document.querySelector('[data-testid="prune-inputs"]').textContent));
  const hash = await page.evaluate(() => location.hash);
  await page.goto('about:blank');
  await page.goto(`${url}${hash}`);
  await page.waitForFunction(() => /prune-categories-hit/.test(document.querySelector('[data-testid="prune-inputs"]').textContent));
  assert.equal(await page.inputValue(sel('prune-distance-select')), 'sqeuclidean');
  assert.equal(await page.inputValue(sel('prune-demo-select')), 'prune-categories-hit');
  const overflow = await page.evaluate(() => {
    const panel = document.querySelector('#prune-panel').getBoundingClientRect();
    return { right: panel.right, scroll: document.documentElement.scrollWidth };
  });
  assert.ok(overflow.right <= 1024 && overflow.scroll <= 1024, `panel fits: ${JSON.stringify(overflow)}`);
  // Keyboard: Tab reaches the panel's Run button, Enter runs it.
  await page.focus(sel('prune-compare-select'));
  let focused = '';
  for (let i = 0; i < 4 && focused !== 'prune-run'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement?.dataset.testid ?? '');
  }
  assert.equal(focused, 'prune-run', 'Run is reachable by keyboard');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="prune-progress"]').dataset.state === 'done',
    null, { timeout: 120000 });
  assert.ok((await value(page, 'prune-kept-count')) <= 12);
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('a registered measure as the fit, against the loaded recording X, equals the CLI', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#panel=prune&dataset=kriegeskorte2008-mit&pdemo=prune-categories-mit&pfit=cka`);
  await page.waitForFunction(() => /prune-categories-mit \(92 stimuli × 12 features\)/.test(
    document.querySelector('[data-testid="prune-inputs"]').textContent));
  assert.equal(await page.inputValue(sel('prune-fit-select')), 'cka');
  // With a target RDM the measure fit is refused with its reason.
  await page.click(sel('prune-run'));
  await page.waitForSelector(`${sel('error')}:not([hidden])`);
  assert.match(await page.textContent('#error-text'), /needs a target recording X/);
  await page.click('#error-close');
  await page.waitForFunction(() => /kriegeskorte2008-mit/.test(document.querySelector('[data-testid="dataset-summary"]').textContent + document.querySelector('#dataset-name').textContent));
  await page.click(sel('prune-use-loaded'));
  await page.waitForFunction(() => /target recording X: kriegeskorte2008-mit \(92 stimuli\)/.test(
    document.querySelector('[data-testid="prune-inputs"]').textContent));
  await page.click(sel('prune-run'));
  await page.waitForFunction(() => document.querySelector('[data-testid="prune-progress"]').dataset.state === 'done',
    null, { timeout: 120000 });
  const dir = join(out, 'cka');
  const stdout = runCli(['prune', 'prune-categories-mit', '--target', 'kriegeskorte2008-mit', '--fit', 'cka', '--out', dir]);
  const expected = JSON.parse(stdout);
  assert.deepEqual(JSON.parse(`[${await page.textContent(sel('prune-kept-list'))}]`), expected.kept);
  close(await value(page, 'prune-test-pruned'), expected.test_fit_pruned, 'cka test_fit_pruned');
  close(await value(page, 'prune-test-full'), expected.test_fit_full, 'cka test_fit_full');
  close(await value(page, 'prune-test-reweighted'), expected.test_fit_reweighted, 'cka test_fit_reweighted');
  compareCurves(await download(page, 'prune-curve-csv'), readFileSync(join(dir, 'curve.csv'), 'utf8'));
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
