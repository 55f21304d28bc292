// Browser benchmarks in headless Chromium (figures, not tests; docs/benchmarks.md "Browser"):
//  steps    optimisation steps per second on every built-in, for the SIMD and the fallback
//           wasm build, at each steps-per-frame setting, with main-thread long tasks
//           (PerformanceObserver 'longtask', > 50 ms). Decoding every 10000 steps, so the
//           figures are the optimiser's.
//  worker   per-step time in the worker (the `bench` request: `bench::time_steps_with`,
//           the loop `simscope bench` times natively) for a few measures and sizes, both builds,
//           beside `simscope bench --json` from the native release binary when it exists.
//  compare  issue 12's compare benchmark (N permutations + N bootstrap samples, 7 measures,
//           golub2018 vs its after-learning counts) in the page, its worker alone and with
//           its helper pool (`--helpers 0,default`), beside the native CLI on one thread and
//           on every core (`--samples 1000`).
//  calibrate the Calibration panel's report on context-integration (its default measures and
//           seeds) in the page, its worker alone and with its helper pool (`--helpers
//           0,default`), beside `simscope calibrate --threads 1` and on every core, same run.
//  download the first visit in a fresh profile (cold) and a reload (warm): bytes the server
//           sent, per file and in total (uncompressed; serve.mjs sends no Content-Encoding, and
//           answers a matching ETag with 304 as static hosts do),
//           time from navigation to the first score on screen, and main-thread long tasks.
//  soak     memory during an endless Play (golub2018, CKA, 20 steps per frame, SIMD build):
//           steps, the page's and the worker's wasm memory and the page's JS heap, sampled
//           through `--soak-seconds` (default 120); flat after warm-up means bounded history.
//  latency  input latency while a random 2000 × 500 recording optimises: click/Space on
//           Play/Pause → the next frame after the handler (event timestamp to a task queued
//           from the following requestAnimationFrame), median and max, with long tasks.
// Prints one JSON line per result, then the machine, Chromium and date.
//   scripts/build.sh && node scripts/bench-browser.mjs [--parts steps,worker,latency,download,soak,compare,calibrate]
//     [--soak-seconds 120]
//     [--builds simd,fallback] [--seconds 4] [--speed 1,20] [--measure cka] [--native PATH]
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { startServer } from './serve.mjs';
import { npyBytes } from '../tests/e2e/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const parts = String(arg('parts', 'steps,worker,latency')).split(','); // or compare
const builds = String(arg('builds', 'simd,fallback')).split(',');
const seconds = Number(arg('seconds', 4));
const speeds = String(arg('speed', '1,20')).split(',').map(Number);
const measure = arg('measure', 'cka');
const tgt = process.env.CARGO_TARGET_DIR ?? 'target';
const native = arg('native', join(tgt, 'release', 'simscope'));

let served = [];
const { server, url } = await startServer({ port: 0, dir: 'dist', onServe: (path, bytes) => served.push({ path, bytes }) });
const profile = mkdtempSync(join(tmpdir(), 'simscope-bench-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const page = context.pages()[0] ?? await context.newPage();
await page.addInitScript(() => {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  addEventListener('TrunkApplicationStarted', (e) => { window.__pageWasm = e.detail.wasm; });
});
const print = (r) => console.log(JSON.stringify(r));
const stepCount = () => page.evaluate(() => Number(document.querySelector('[data-testid="step-count"]').dataset.value));
const longTasks = (a, b) => page.evaluate(([a, b]) => window.__longTasks.filter((e) => e.start >= a && e.start <= b), [a, b]);
const summary = (long) => ({ long_tasks: long.length, longest_task_ms: long.length ? +Math.max(...long.map((e) => e.duration)).toFixed(0) : 0 });
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const k = s.length; return k % 2 ? s[(k - 1) / 2] : (s[k / 2 - 1] + s[k / 2]) / 2; };

/** Open the page on `build` with a hash and wait for the first score and decode. */
async function open(build, hash, query = '') {
  await page.goto('about:blank');
  await page.goto(`${url}?wasm=${build}${query}#${hash}`);
  await page.waitForFunction(() => document.querySelector('[data-testid="score-cka"]')?.dataset.value, null, { timeout: 120000 });
  const got = await page.evaluate(() => document.documentElement.dataset.wasm);
  if (got !== build) throw new Error(`asked for the ${build} build, the worker runs ${got}`);
}

/** Steps per second over `seconds` of Play, with long tasks in that window. */
async function play() {
  const t0 = await page.evaluate(() => performance.now());
  const s0 = await stepCount();
  await page.click('[data-testid="play"]');
  await page.waitForTimeout(seconds * 1000);
  const s1 = await stepCount();
  const t1 = await page.evaluate(() => performance.now());
  await page.click('[data-testid="play"]');
  return { steps_per_s: +((s1 - s0) / ((t1 - t0) / 1000)).toFixed(1), ...summary(await longTasks(t0, t1)) };
}

if (parts.includes('steps')) {
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('[data-testid="dataset-select"]').options.length > 0);
  const datasets = await page.$$eval('[data-testid="dataset-select"] option', (os) => os.map((o) => o.value));
  for (const dataset of datasets) {
    for (const build of builds) {
      for (const speed of speeds) {
        await open(build, `dataset=${dataset}&measure=${encodeURIComponent(measure)}&stop=2&speed=${speed}&decode=10000`);
        // Let the first decode (and the reference from X, once per recording) finish first.
        await page.waitForFunction(() => Number(document.querySelector('[data-testid="decode-plot"]').dataset.points) >= 1
          || /no task labels/.test(document.querySelector('[data-testid="dataset-summary"]').textContent), null, { timeout: 120000 });
        await page.waitForTimeout(300);
        const dims = (await page.textContent('[data-testid="dataset-summary"]')).split(' (')[0];
        print({ part: 'steps', dataset, dims, build, measure, speed, ...(await play()) });
      }
    }
  }
}

if (parts.includes('worker')) {
  const measures = ['cka', 'nbs', 'procrustes-angular-score', 'linreg'];
  const sizes = [[500, 100], [1080, 200], [2000, 500]];
  const nativeRows = new Map();
  if (existsSync(native)) {
    const args = ['bench', '--json', '--budget', '2', ...measures.flatMap((m) => ['--measure', m]),
      ...sizes.flatMap(([n, p]) => ['--size', `${n}x${p}`])];
    for (const r of JSON.parse(execFileSync(native, args, { encoding: 'utf8' }))) nativeRows.set(`${r.measure} ${r.n}x${r.p}`, r.median_ms);
  } else {
    console.error(`no native binary at ${native} (cargo build --release): wasm figures only`);
  }
  for (const build of builds) {
    await page.goto('about:blank');
    await page.goto(`${url}?wasm=${build}`);
    for (const [n, p] of sizes) {
      for (const m of measures) {
        // A worker of its own, so the page's session does not share its time.
        const r = await page.evaluate(([build, m, n, p]) => new Promise((done, fail) => {
          const w = new Worker(`./worker.js?wasm=${build}`, { type: 'module' });
          w.onmessage = (ev) => {
            // Messages are grouped by panel (src/web/protocol.rs): { panel, response: { kind, … } }.
            const { panel, response: b } = ev.data.body;
            if (panel === 'worker' && b.kind === 'ready') {
              if (b.simd !== (build === 'simd')) fail(new Error(`worker runs simd=${b.simd}`));
              w.postMessage({ id: 1, body: { panel: 'bench', request: { kind: 'steps', measure: m, n, p, budget_s: 2 } } });
            } else if (panel === 'bench' && b.kind === 'steps') { w.terminate(); done(b); } else { w.terminate(); fail(new Error(JSON.stringify(ev.data.body))); }
          };
        }), [build, m, n, p]);
        const nat = nativeRows.get(`${r.measure} ${n}x${p}`);
        print({ part: 'worker', build, measure: r.measure, n, p, wasm_ms: +r.median_ms.toFixed(3), steps: r.steps,
          native_ms: nat === undefined ? null : +nat.toFixed(3), ratio: nat ? +(r.median_ms / nat).toFixed(2) : null });
      }
    }
  }
}

if (parts.includes('download')) {
  // A profile of its own, so nothing is cached from the other parts.
  const dir = mkdtempSync(join(tmpdir(), 'simscope-download-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
    viewport: { width: 1280, height: 900 }, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  await ctx.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  const p = ctx.pages()[0] ?? await ctx.newPage();
  for (const visit of ['cold', 'warm']) {
    served = [];
    if (visit === 'cold') await p.goto(url); else await p.reload();
    await p.waitForFunction(() => document.querySelector('[data-testid="score-cka"]')?.dataset.value, null, { timeout: 120000, polling: 10 });
    // Navigation start to the first score: performance.now() counts from the navigation.
    const firstScoreMs = await p.evaluate(() => performance.now());
    await p.evaluate(() => navigator.serviceWorker.ready);
    await p.waitForTimeout(1500); // the service worker's precache, and anything fetched late
    const total = served.reduce((a, f) => a + f.bytes, 0);
    const files = {}; // path → bytes sent, summed over its requests (a 304 sends 0)
    for (const f of served) files[f.path] = (files[f.path] ?? 0) + f.bytes;
    print({ part: 'download', visit, bytes: total, requests: served.length, first_score_ms: +firstScoreMs.toFixed(0),
      ...summary(await p.evaluate(() => window.__longTasks)), files });
  }
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
}

if (parts.includes('soak')) {
  const total = Number(arg('soak-seconds', 120));
  await open('simd', 'dataset=golub2018&measure=cka&stop=2&speed=20&decode=500');
  const mib = (b) => (b == null ? null : +(b / 2 ** 20).toFixed(1));
  const samples = [];
  await page.click('[data-testid="play"]');
  const t0 = Date.now();
  for (let k = 0; k <= 8; k += 1) {
    await page.waitForTimeout(Math.max(0, t0 + (k * total * 1000) / 8 - Date.now()));
    const mem = await page.evaluate(() => ({
      page_wasm: window.__pageWasm?.memory.buffer.byteLength, js_heap: performance.memory?.usedJSHeapSize,
    }));
    const worker = page.workers().find((w) => w.url().includes('worker.js'));
    const workerWasm = worker ? await worker.evaluate(() => self.simscopeMemory?.buffer.byteLength) : null;
    const r = { part: 'soak', seconds: Math.round((Date.now() - t0) / 1000), step: await stepCount(),
      page_wasm_mib: mib(mem.page_wasm), worker_wasm_mib: mib(workerWasm), page_js_heap_mib: mib(mem.js_heap) };
    samples.push(r);
    print(r);
  }
  await page.click('[data-testid="play"]');
  // Growth after the first quarter (allocators and caches warm up first).
  const [a, z] = [samples[2], samples.at(-1)];
  const growth = (key) => (a[key] == null || z[key] == null ? null : +(z[key] - a[key]).toFixed(1));
  print({ part: 'soak-summary', steps: z.step - a.step, seconds: z.seconds - a.seconds,
    page_wasm_growth_mib: growth('page_wasm_mib'), worker_wasm_growth_mib: growth('worker_wasm_mib'),
    page_js_heap_growth_mib: growth('page_js_heap_mib') });
}

if (parts.includes('latency')) {
  // A random 2000 × 500 recording (N(0,1)-ish, fixed seed), loaded through the file input.
  let s = 12345;
  const rnd = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 - 0.5; };
  const values = Array.from({ length: 2000 * 500 }, () => rnd() + rnd() + rnd());
  const buffer = npyBytes([2000, 500], values);
  for (const build of builds) {
    await open(build, 'speed=1&stop=2&decode=10000');
    await page.setInputFiles('[data-testid="file-input"]', { name: 'random-2000x500.npy', mimeType: 'application/octet-stream', buffer });
    await page.waitForFunction(() => /random-2000x500/.test(document.querySelector('#dataset-name').textContent), null, { timeout: 120000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="step-count"]').dataset.value === '0'
      && document.querySelector('[data-testid="score-cka"]')?.dataset.value, null, { timeout: 120000 });
    await page.evaluate(() => {
      window.__lat = [];
      const probe = (e) => {
        if (e.type === 'keydown' && (e.key !== ' ' || e.target.closest('button'))) return;
        if (e.type === 'click' && !e.target.closest('[data-testid="play"]')) return;
        const t0 = e.timeStamp;
        requestAnimationFrame(() => setTimeout(() => window.__lat.push(performance.now() - t0), 0));
      };
      document.addEventListener('click', probe, true);
      document.addEventListener('keydown', probe, true);
    });
    const t0 = await page.evaluate(() => performance.now());
    const s0 = await stepCount();
    await page.click('[data-testid="play"]');
    await page.waitForTimeout(1500);
    for (let i = 0; i < 10; i++) {
      // Pause and resume, by mouse and by keyboard; the optimisation runs between.
      const input = async () => {
        if (i % 2 === 0) return page.click('[data-testid="play"]');
        await page.evaluate(() => document.activeElement?.blur());
        return page.keyboard.press('Space');
      };
      await input();
      await page.waitForTimeout(150);
      await input();
      await page.waitForTimeout(600);
    }
    const s1 = await stepCount();
    const t1 = await page.evaluate(() => performance.now());
    await page.click('[data-testid="play"]');
    const lat = (await page.evaluate(() => window.__lat)).slice(1, -1);
    print({ part: 'latency', build, data: '2000x500 random', measure: 'cka', inputs: lat.length,
      median_ms: +median(lat).toFixed(1), max_ms: +Math.max(...lat).toFixed(1),
      steps_per_s: +((s1 - s0) / ((t1 - t0) / 1000)).toFixed(1), ...summary(await longTasks(t0, t1)) });
  }
}

if (parts.includes('compare')) {
  // Issue 12's compare benchmark: N permutations and N bootstrap samples of the paper's seven
  // measures, the after-learning counts (552 × 86) as the model of golub2018, no calibration;
  // the page (one worker, sliced) from pressing Compare to the table, beside the native CLI on
  // one thread and on every core, timed in the same run.
  const n = Number(arg('samples', 1000));
  const model = 'datasets/golub2018_after_counts.npy';
  const paper = ['cka', 'cka-angular-score', 'nbs', 'procrustes-angular-score', 'linreg',
    'ridge-lambda100-r2#5folds_cv', 'rsa-correlation-pearson'];
  const nativeMs = (threads) => {
    if (!existsSync(native)) return null;
    const t0 = performance.now();
    execFileSync(native, ['compare', 'golub2018', model, '--no-calibrate', '--bootstrap', String(n),
      '--permutations', String(n), '--threads', String(threads), ...paper.flatMap((m) => ['--measure', m])],
    { stdio: 'ignore' });
    return performance.now() - t0;
  };
  const one = nativeMs(1);
  const all = nativeMs(cpus().length);
  // The worker alone (`helpers=0`) and with its default pool (one helper per core beyond
  // its own), side by side with the native runs.
  for (const build of builds) {
    for (const helpers of String(arg('helpers', '0,default')).split(',')) {
      const hash = `dataset=golub2018&panel=compare&cmp=${paper.map(encodeURIComponent).join(',')}&cmpboot=${n}&cmpperm=${n}&cmpcal=0`;
      await open(build, hash, helpers === 'default' ? '' : `&helpers=${helpers}`);
      await page.setInputFiles('[data-testid="cmp-model-input"]', model);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="cmp-models"] li').length === 1, null, { timeout: 60000 });
      const t0 = await page.evaluate(() => performance.now());
      await page.click('[data-testid="cmp-run"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="cmp-progress"]').dataset.state === 'done', null, { timeout: 1200000, polling: 50 });
      const ms = await page.evaluate(() => performance.now()) - t0;
      const threads = Number(await page.getAttribute('[data-testid="cmp-progress"]', 'data-threads'));
      print({ part: 'compare', build, helpers, threads, samples: n, measures: paper.length, page_ms: +ms.toFixed(0),
        native_1thread_ms: one && +one.toFixed(0), native_all_ms: all && +all.toFixed(0),
        ratio_1thread: one && +(ms / one).toFixed(2), ratio_all: all && +(ms / all).toFixed(2) });
    }
  }
}

if (parts.includes('calibrate')) {
  // The (measure, seed) runs of the Calibration panel's defaults on context-integration: the
  // page from pressing Run to the table, with 0 helpers and the default pool, beside the
  // native CLI on one thread and on every core, timed in the same run.
  const dataset = arg('dataset', 'context-integration');
  const measures = ['cka', 'nbs', 'procrustes-angular-score'];
  const seeds = Number(arg('seeds', 2));
  const nativeMs = (threads) => {
    if (!existsSync(native)) return null;
    const out = mkdtempSync(join(tmpdir(), 'simscope-cal-'));
    const t0 = performance.now();
    execFileSync(native, ['calibrate', dataset, '--seeds', String(seeds), '--threads', String(threads),
      '--out', out, ...measures.flatMap((m) => ['--measure', m])], { stdio: 'ignore' });
    const ms = performance.now() - t0;
    rmSync(out, { recursive: true, force: true });
    return ms;
  };
  const one = nativeMs(1);
  const all = nativeMs(cpus().length);
  const pageMs = {};
  for (const build of builds) {
    for (const helpers of String(arg('helpers', '0,default')).split(',')) {
      await open(build, `dataset=${dataset}&panel=calibrate&calseeds=${seeds}&cal=${measures.join(',')}&decode=10000`,
        helpers === 'default' ? '' : `&helpers=${helpers}`);
      const t0 = await page.evaluate(() => performance.now());
      await page.click('[data-testid="cal-run"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="cal-progress"]').dataset.state === 'done', null, { timeout: 1800000, polling: 100 });
      const ms = await page.evaluate(() => performance.now()) - t0;
      pageMs[`${build}/${helpers}`] = ms;
      const threads = Number(await page.getAttribute('[data-testid="cal-progress"]', 'data-threads'));
      const alone = pageMs[`${build}/0`];
      print({ part: 'calibrate', dataset, build, helpers, threads, runs: measures.length * seeds, page_ms: +ms.toFixed(0),
        speedup_over_worker_alone: alone && +(alone / ms).toFixed(2),
        native_1thread_ms: one && +one.toFixed(0), native_all_ms: all && +all.toFixed(0),
        native_speedup: one && all && +(one / all).toFixed(2), ratio_all: all && +(ms / all).toFixed(2) });
    }
  }
}

let cpu = cpus()[0]?.model;
try { cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? cpu; } catch { /* not Linux */ }
print({ machine: `${cpus().length} × ${cpu}`, date: new Date().toISOString(), chromium: context.browser()?.version() ?? 'headless chromium' });
await context.close();
server.close();
rmSync(profile, { recursive: true, force: true });
