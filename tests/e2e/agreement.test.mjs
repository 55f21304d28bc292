// The page and the native CLI agree: the same seed gives the same Y₀ bit for bit, and the
// same scores (within 1e-9 at step 0, 1e-6 over 100 steps; the wasm and native matrix
// kernels round differently, so later steps may differ in the last bits).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { openSite, waitValue, ARTIFACTS } from './harness.mjs';

let site;
let cli;
before(async () => {
  site = await openSite();
  cli = cliBinary();
});
after(async () => { await site?.close(); });

const sel = (id) => `[data-testid="${id}"]`;

/** Path of the native CLI, built (or found up to date) by cargo. */
function cliBinary() {
  const out = execFileSync('cargo', ['build', '--quiet', '--bin', 'simscope', '--message-format=json'],
    { encoding: 'utf8', maxBuffer: 64 << 20 });
  for (const line of out.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line);
    if (m.reason === 'compiler-artifact' && m.target?.name === 'simscope' && m.executable) return m.executable;
  }
  throw new Error('cargo did not report the simscope executable');
}

async function download(page, testid) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(sel(testid))]);
  const path = `${ARTIFACTS}/agreement-${d.suggestedFilename()}`;
  await d.saveAs(path);
  return readFileSync(path);
}

/** The data bytes of a `.npy` file (after its header). */
function npyData(bytes) {
  const headerLen = bytes.readUInt16LE(8);
  return bytes.subarray(10 + headerLen);
}

/** CSV text → { header, rows: Map(step → numbers) }. */
function csvByStep(text) {
  const [head, ...lines] = text.trim().split('\n');
  const rows = new Map();
  for (const l of lines) {
    const v = l.split(',').map(Number);
    rows.set(v[0], v.slice(1));
  }
  return { header: head.split(','), rows };
}

const CASES = [
  // A real recording (80 conditions × 50 neurons) and the paper's synthetic one.
  { dataset: 'hatsopoulos2007', measure: 'cka', watch: ['nbs', 'procrustes-angular-score'], seed: 7 },
  { dataset: 'ultrametric', measure: 'procrustes-angular-score', watch: ['cka', 'linreg'], seed: 2 },
];

for (const c of CASES) {
  test(`page = CLI on ${c.dataset}, ${c.measure}, seed ${c.seed}: Y₀ bits and 100 steps of scores`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simscope-agree-'));
    try {
      const args = ['optimize', c.dataset, '--measure', c.measure, '--steps', '100', '--stop', 'none',
        '--seed', String(c.seed), '--snapshot-every', '100', '--decode-every', '1000', '--out', dir];
      for (const w of c.watch) args.push('--watch', w);
      execFileSync(cli, args, { stdio: ['ignore', 'ignore', 'ignore'] });
      const cliY0 = npyData(readFileSync(join(dir, 'Y_step000000.npy')));
      const cliTraj = csvByStep(readFileSync(join(dir, 'trajectory.csv'), 'utf8'));
      assert.equal(cliTraj.rows.size, 101, 'the CLI wrote steps 0..100');

      const { page, url } = site;
      await page.goto('about:blank');
      await page.goto(`${url}#dataset=${c.dataset}&measure=${c.measure}&watch=${c.watch.join(',')}`
        + `&seed=${c.seed}&stop=2&decode=10000`);
      await page.waitForFunction((d) => document.querySelector('#dataset-name').textContent === d, c.dataset);
      await waitValue(page, `score-${c.measure}`, 'Number.isFinite(v)');
      assert.equal(await page.getAttribute(sel('step-count'), 'data-value'), '0');

      // Y₀: the page's export at step 0 holds the CLI's bytes.
      await page.click(sel('export-y'));
      await page.waitForSelector(`${sel('export-y-link')}[href^="blob:"]`);
      const pageY0 = npyData(await download(page, 'export-y-link'));
      assert.equal(pageY0.length, cliY0.length, 'same shape');
      assert.ok(pageY0.equals(cliY0), 'Y₀ is bit-identical');

      // Step 0 scores, to 1e-9.
      const ids = [c.measure, ...c.watch];
      const cli0 = cliTraj.rows.get(0);
      for (const [k, id] of ids.entries()) {
        const v = Number(await page.getAttribute(sel(`score-${id}`), 'data-value'));
        assert.ok(Math.abs(v - cli0[k]) <= 1e-9, `${id} at step 0: page ${v}, CLI ${cli0[k]}`);
      }

      // 100 steps at one step per frame, so every step is in the page's trajectory.
      await page.click(sel('play'));
      await waitValue(page, 'step-count', 'v >= 100', 60000);
      await page.click(sel('play'));
      const pageTraj = csvByStep((await download(page, 'export-csv')).toString('utf8'));
      assert.deepEqual(pageTraj.header.slice(1), ids);
      let compared = 0;
      let worst = 0;
      for (let step = 0; step <= 100; step++) {
        const p = pageTraj.rows.get(step);
        assert.ok(p, `the page recorded step ${step}`);
        const q = cliTraj.rows.get(step);
        for (let k = 0; k < ids.length; k++) {
          const d = Math.abs(p[k] - q[k]);
          worst = Math.max(worst, d);
          assert.ok(d <= 1e-6, `${ids[k]} at step ${step}: page ${p[k]}, CLI ${q[k]}`);
          compared++;
        }
      }
      assert.equal(compared, 101 * ids.length);
      console.log(`# ${c.dataset}/${c.measure}: ${compared} scores, worst |page − CLI| = ${worst.toExponential(2)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('page = CLI with decoding: the same fold seed and Y give the same accuracies at Y₀ and at the pause', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'simscope-agree-'));
  try {
    const { page, url } = site;
    await page.goto('about:blank');
    await page.goto(`${url}#dataset=hatsopoulos2007&seed=5&stop=2&decode=20`);
    await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'hatsopoulos2007');
    // Y₀ is decoded first (after X itself, the reference).
    await waitValue(page, 'decode-acc-direction', 'v >= 0', 60000);
    assert.equal(await page.getAttribute(sel('decode-step'), 'data-value'), '0');
    const acc0 = Number(await page.getAttribute(sel('decode-acc-direction'), 'data-value'));
    await page.click(sel('play'));
    await waitValue(page, 'step-count', 'v >= 40', 60000);
    await page.click(sel('play'));
    // A pause decodes the Y on screen: once the steps still in flight at the click are shown,
    // the decoding names that step.
    await page.waitForFunction(() => {
      const count = document.querySelector('[data-testid="step-count"]');
      const decoded = document.querySelector('[data-testid="decode-step"]');
      return count.dataset.inFlight === '0' && decoded.dataset.value === count.dataset.value;
    }, null, { timeout: 60000 });
    const stop = Number(await page.getAttribute(sel('step-count'), 'data-value'));
    const accStop = Number(await page.getAttribute(sel('decode-acc-direction'), 'data-value'));
    execFileSync(cli, ['optimize', 'hatsopoulos2007', '--measure', 'cka', '--seed', '5', '--stop', 'none',
      '--steps', String(stop), '--decode-every', '20', '--out', dir], { stdio: ['ignore', 'ignore', 'ignore'] });
    const dec = csvByStep(readFileSync(join(dir, 'decoding.csv'), 'utf8'));
    assert.deepEqual(dec.header, ['step', 'score', 'direction']);
    assert.equal(acc0, dec.rows.get(0)[1], 'decoding Y₀: page = CLI');
    assert.equal(accStop, dec.rows.get(stop)[1], `decoding Y at step ${stop}: page = CLI`);
    const ref = csvByStep(readFileSync(join(dir, 'decoding_reference.csv'), 'utf8').replace(/^direction,/m, '0,'));
    const pageRef = Number(await page.getAttribute(sel('decode-ref-direction'), 'data-value'));
    assert.equal(pageRef, ref.rows.get(0)[0], 'decoding X (the reference): page = CLI');
    console.log(`# decoding direction: Y₀ ${acc0}, step ${stop} ${accStop}, X ${pageRef} on both faces`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
