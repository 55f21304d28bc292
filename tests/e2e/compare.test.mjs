// The Compare panel: a user opens a model's activations, presses Compare, and reads each
// score with its interval, chance level, p and what it means on this recording; the report
// is `simscope compare`'s document (numbers up to wasm-vs-native last-bit rounding). A model on other conditions is refused in the
// banner and the previous model stays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { openSite, waitValue, runCli, npyBytes, ARTIFACTS } from './harness.mjs';

let site;
before(async () => { site = await openSite({ viewport: { width: 1366, height: 768 } }); });
after(async () => { await site?.close(); });

const sel = (id) => `[data-testid="${id}"]`;
const MODEL = 'datasets/golub2018_after_counts.npy';

async function openModel(page, file) {
  await page.setInputFiles(sel('cmp-model-input'), file);
}

async function compareDone(page, timeout = 180000) {
  await page.waitForFunction(() => document.querySelector('[data-testid="cmp-progress"]').dataset.state === 'done',
    null, { timeout });
}

test('a model file, one button: the table, and the report is simscope compare\'s', async () => {
  const { page, url } = site;
  await page.goto(`${url}#dataset=golub2018&panel=compare&cmp=cka,nbs,procrustes-angular-score&cmpboot=50&cmpperm=50&cmpcal=0&cmpseed=4`);
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'golub2018');
  await waitValue(page, 'score-cka', 'v > 0', 60000);
  assert.match(await page.textContent(sel('cmp-model')), /no model yet/);
  await openModel(page, MODEL);
  await page.waitForFunction(() => /golub2018_after_counts/.test(document.querySelector('[data-testid="cmp-models"]').textContent));
  await page.click(sel('cmp-run'));
  await compareDone(page);
  const ids = ['cka', 'nbs', 'procrustes-angular-score'];
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(sel('cmp-json'))]);
  assert.equal(d.suggestedFilename(), 'simscope-compare-golub2018-golub2018_after_counts.json');
  const path = `${ARTIFACTS}/${d.suggestedFilename()}`;
  await d.saveAs(path);
  const pageJson = readFileSync(path, 'utf8');
  const args = ['compare', 'golub2018', MODEL, '--bootstrap', '50', '--permutations', '50', '--seed', '4', '--no-calibrate'];
  for (const id of ids) args.push('--measure', id);
  const cli = JSON.parse(runCli(args));
  const report = JSON.parse(pageJson);
  // The same document: the same keys, counts, settings and verdicts; numbers equal up to the
  // last-bit rounding by which wasm and native matrix kernels differ (as in agreement.test),
  // except decoding accuracies, where such a rounding can flip a near-tie for a few trials (2 of 552 seen on golub2018).
  const n = report.x_shape[report.x_shape.length - 2] ?? report.x_shape[0];
  let worst = 0;
  const same = (a, b, path) => {
    if (typeof a === 'number' && typeof b === 'number') {
      const tol = /decoding\[\d+\]\.(model|x)$/.test(path) ? 4 / n : 1e-12 * Math.max(1, Math.abs(b));
      if (!/decoding/.test(path)) worst = Math.max(worst, Math.abs(a - b));
      assert.ok(Math.abs(a - b) <= tol, `${path}: page ${a}, CLI ${b}`);
    } else if (a && typeof a === 'object') {
      assert.deepEqual(Object.keys(a), Object.keys(b), `${path}: keys`);
      for (const k of Object.keys(a)) same(a[k], b[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`);
    } else {
      assert.equal(a, b, path);
    }
  };
  same(report, cli, '');
  console.log(`# page vs CLI compare document: worst |Δ| outside decoding ${worst.toExponential(2)}`);
  for (const id of ids) {
    const s = report.models[0].scores[id];
    assert.equal(Number(await page.getAttribute(sel(`cmp-value-${id}`), 'data-value')), s.value, `${id} on screen`);
    assert.equal(Number(await page.getAttribute(sel(`cmp-null-${id}`), 'data-value')), s.null_p95);
    assert.ok(s.ci_low <= s.ci_high, `${id}: an interval`);
    const ci = await page.textContent(sel(`cmp-ci-${id}`));
    assert.equal(ci, `${s.ci_low.toFixed(3)} – ${s.ci_high.toFixed(3)}`);
    const score = JSON.parse(runCli(['score', 'golub2018', MODEL, '--measure', id])).scores[id];
    assert.equal(cli.models[0].scores[id].value, score, `${id}: the CLI's value is simscope score's to the bit`);
  }
  assert.match(await page.textContent(sel('cmp-pcs')), /PC1 [0-9.]+ \([0-9.]+% of X\)/);
  // The table as CSV: simscope compare --out's scores.csv, built from the same document.
  const [c] = await Promise.all([page.waitForEvent('download'), page.click(sel('cmp-csv'))]);
  assert.equal(c.suggestedFilename(), 'simscope-compare-golub2018-golub2018_after_counts-scores.csv');
  const csvPath = `${ARTIFACTS}/${c.suggestedFilename()}`;
  await c.saveAs(csvPath);
  const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'model,measure,value,ci_low,ci_high,null_mean,null_p95,p_value,direction,steps_to_reach,pcs_captured,variance_captured,decodable,verdict');
  assert.equal(lines.length, 1 + ids.length, 'one row per measure');
  for (const line of lines.slice(1)) {
    const [model, id, value, lo, hi] = line.split(',');
    const s = report.models[0].scores[id];
    assert.equal(model, report.models[0].name);
    assert.deepEqual([Number(value), Number(lo), Number(hi)], [s.value, s.ci_low, s.ci_high], `${id} in the CSV`);
  }
});

test('placed on the calibration: each score says what it means on this recording', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#dataset=golub2018&panel=compare&cmp=cka,procrustes-angular-score&cmpboot=20&cmpperm=20`);
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'golub2018');
  await waitValue(page, 'score-cka', 'v > 0', 60000);
  assert.equal(await page.isChecked(sel('cmp-calibrate-input')), true, 'placement is on by default');
  await openModel(page, MODEL);
  await page.waitForFunction(() => /golub2018_after_counts/.test(document.querySelector('[data-testid="cmp-models"]').textContent));
  await page.click(sel('cmp-run'));
  await page.waitForFunction(() => document.querySelector('[data-testid="cmp-progress"]').dataset.state === 'running');
  await compareDone(page, 300000);
  for (const id of ['cka', 'procrustes-angular-score']) {
    const verdict = await page.textContent(sel(`cmp-verdict-${id}`));
    assert.ok(verdict.length > 20 && verdict !== '—', `${id}: ${verdict}`);
    console.log(`# ${id}: ${verdict}`);
  }
  await page.locator('#cmp-panel').screenshot({ path: `${ARTIFACTS}/compare.png` });
});

test('a model on other conditions is refused by name and counts; the previous model stays', async () => {
  const { page } = site;
  const before = await page.textContent(sel('cmp-models'));
  assert.match(before, /golub2018_after_counts/);
  const values = Array.from({ length: 7 * 3 }, (_, i) => Math.sin(i));
  await openModel(page, { name: 'short.npy', mimeType: 'application/octet-stream', buffer: npyBytes([7, 3], values) });
  await page.waitForFunction(() => !document.querySelector('#error').hidden);
  const msg = await page.textContent('#error-text');
  assert.match(msg, /short/);
  assert.match(msg, /7/);
  assert.equal(await page.textContent(sel('cmp-models')), before);
  await openModel(page, { name: 'broken.npy', mimeType: 'application/octet-stream', buffer: Buffer.from('not numpy') });
  await page.waitForFunction(() => /broken\.npy/.test(document.querySelector('#error-text').textContent));
  assert.equal(await page.textContent(sel('cmp-models')), before);
});

test('several models: each in the table and the profile, marked on the score plot; optimise from one; close one', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#dataset=golub2018&panel=compare&cmp=cka,nbs&cmpboot=20&cmpperm=20&cmpcal=0`);
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'golub2018');
  await waitValue(page, 'score-cka', 'v > 0', 60000);
  // An unrelated model (552 trials × 30 units of a deterministic pseudo-random pattern) beside
  // the after-learning counts, opened together in one picker.
  const noise = npyBytes([552, 30], Array.from({ length: 552 * 30 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1));
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(`${ARTIFACTS}/noise.npy`, noise);
  await page.setInputFiles(sel('cmp-model-input'), [
    { name: 'golub2018_after_counts.npy', mimeType: 'application/octet-stream', buffer: readFileSync(MODEL) },
    { name: 'noise.npy', mimeType: 'application/octet-stream', buffer: noise },
  ]);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="cmp-models"] li').length === 2);
  assert.match(await page.textContent(sel('cmp-model')), /2 models/);
  await page.click(sel('cmp-run'));
  await compareDone(page);
  // The second model's cells carry @1; its score is simscope score's for that file.
  const related = Number(await page.getAttribute(sel('cmp-value-cka'), 'data-value'));
  const unrelated = Number(await page.getAttribute(sel('cmp-value-cka@1'), 'data-value'));
  const cli = JSON.parse(runCli(['score', 'golub2018', `${ARTIFACTS}/noise.npy`, '--measure', 'cka'])).scores.cka;
  assert.ok(Math.abs(unrelated - cli) <= 1e-12, `noise model: page ${unrelated}, CLI ${cli}`);
  assert.ok(related > unrelated, `after-learning counts ${related} above noise ${unrelated}`);
  assert.equal(await page.getAttribute(sel('cmp-profile-plot'), 'data-models'), '2');
  await page.locator('#cmp-results').screenshot({ path: `${ARTIFACTS}/compare-two-models.png` });
  // Optimise's score plot (CKA) marks both models.
  await page.click('#tab-optimise');
  await page.waitForFunction(() => document.querySelector('[data-testid="score-plot"]').dataset.marks === '2');
  // Optimise from the related model: Y₀ is its activations, so the run's first CKA is its score.
  await page.click('#tab-compare');
  await page.click(sel('cmp-optimise-golub2018_after_counts'));
  await page.waitForFunction(() => document.querySelector('#tab-optimise').getAttribute('aria-selected') === 'true');
  assert.match(await page.textContent(sel('y0-note')), /golub2018_after_counts/);
  await waitValue(page, 'score-cka', `Math.abs(v - ${related}) < 1e-9`, 30000);
  assert.equal(await page.getAttribute(sel('step-count'), 'data-value'), '0');
  // Closing the model goes back to a random Y₀ and drops the report (it described both).
  await page.click('#tab-compare');
  await page.click(sel('cmp-remove-golub2018_after_counts'));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="cmp-models"] li').length === 1);
  assert.equal(await page.isHidden('#cmp-results'), true);
  assert.equal(await page.isHidden(sel('y0-note')), true);
  await waitValue(page, 'score-cka', `Math.abs(v - ${related}) > 1e-3`, 30000);
});

test('files dropped on the Compare panel open as models, not as the recording', async () => {
  const { page } = site;
  const bytes = [...readFileSync(MODEL)];
  await page.evaluate((b) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(b)], 'dropped_model.npy', { type: 'application/octet-stream' }));
    const panel = document.querySelector('#cmp-panel');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      panel.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, bytes);
  await page.waitForFunction(() => document.querySelector('[data-testid="cmp-model-dropped_model"]') !== null);
  assert.equal(await page.textContent('#dataset-name'), 'golub2018', 'the recording stays');
  assert.equal(await page.evaluate(() => document.querySelector('#cmp-panel').classList.contains('drop-target')), false, 'the outline goes after the drop');
});

test('the permutations and the bootstrap spread over helper workers: the same document, bit for bit', async () => {
  // `?helpers=N` sets the worker's pool (default: one helper per core beyond the worker's).
  const docs = {};
  for (const helpers of [0, 2]) {
    const own = await openSite({ viewport: { width: 1366, height: 768 } });
    try {
      const { page, url } = own;
      await page.goto(`${url}?helpers=${helpers}#dataset=golub2018&panel=compare&cmp=cka,procrustes-angular-score,rsa-correlation-pearson,linreg&cmpboot=60&cmpperm=60&cmpcal=0&cmpseed=8`);
      await waitValue(page, 'score-cka', 'v > 0', 60000);
      await openModel(page, MODEL);
      await page.waitForFunction(() => /golub2018_after_counts/.test(document.querySelector('[data-testid="cmp-models"]').textContent));
      await page.click(sel('cmp-run'));
      await compareDone(page);
      docs[helpers] = { threads: Number(await page.getAttribute(sel('cmp-progress'), 'data-threads')) };
      const [d] = await Promise.all([page.waitForEvent('download'), page.click(sel('cmp-json'))]);
      const path = `${ARTIFACTS}/helpers-${helpers}-${d.suggestedFilename()}`;
      await d.saveAs(path);
      docs[helpers].json = readFileSync(path, 'utf8');
      assert.deepEqual(own.problems, []);
    } finally {
      await own.close();
    }
  }
  assert.equal(docs[0].threads, 1, 'no helpers: the worker alone');
  assert.equal(docs[2].threads, 3, 'two helpers and the worker scored samples');
  assert.equal(docs[2].json, docs[0].json, 'the same report whoever scored which sample');
  const r = JSON.parse(docs[0].json);
  assert.equal(r.permutations, 60);
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
