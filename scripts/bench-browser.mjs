// Browser benchmark: optimisation steps per second on every built-in dataset in headless
// Chromium, and main-thread long tasks (PerformanceObserver 'longtask', > 50 ms) while
// optimising. Decoding is set to every 10000 steps so the figures are the optimiser's.
// Not a test: it prints a JSON line per dataset and speed, then the machine and date.
//   scripts/build.sh && node scripts/bench-browser.mjs [--seconds 4] [--speed 20] [--measure cka]
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { startServer } from './serve.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const seconds = Number(arg('seconds', 4));
const speeds = String(arg('speed', '1,20')).split(',').map(Number);
const measure = arg('measure', 'cka');

const { server, url } = await startServer({ port: 0, dir: 'dist' });
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
});

const stepCount = () => page.evaluate(() => Number(document.querySelector('[data-testid="step-count"]').dataset.value));
await page.goto(url);
await page.waitForFunction(() => document.querySelector('[data-testid="dataset-select"]').options.length > 0);
const datasets = await page.$$eval('[data-testid="dataset-select"] option', (os) => os.map((o) => o.value));
const results = [];
for (const dataset of datasets) {
  for (const speed of speeds) {
    await page.goto('about:blank');
    await page.goto(`${url}#dataset=${dataset}&measure=${encodeURIComponent(measure)}&stop=2&speed=${speed}&decode=10000`);
    await page.waitForFunction((d) => document.querySelector('#dataset-name').textContent === d
      && document.querySelector('[data-testid="score-cka"]')?.dataset.value, dataset, { timeout: 120000 });
    // Let the first decode (the reference from X, once per recording) finish before timing.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="decode-plot"]').dataset.points) >= 1
      || /no task labels/.test(document.querySelector('[data-testid="dataset-summary"]').textContent), null, { timeout: 120000 });
    await page.waitForTimeout(300);
    const t0 = await page.evaluate(() => performance.now());
    await page.click('[data-testid="play"]');
    const s0 = await stepCount();
    await page.waitForTimeout(seconds * 1000);
    const s1 = await stepCount();
    const t1 = await page.evaluate(() => performance.now());
    await page.click('[data-testid="play"]');
    const long = await page.evaluate(([a, b]) => window.__longTasks.filter((e) => e.start >= a && e.start <= b), [t0, t1]);
    const dims = (await page.textContent('[data-testid="dataset-summary"]')).split(' (')[0];
    const r = {
      dataset, dims, measure, speed,
      steps_per_s: +((s1 - s0) / ((t1 - t0) / 1000)).toFixed(1),
      long_tasks: long.length,
      longest_task_ms: long.length ? Math.max(...long.map((e) => e.duration)) : 0,
    };
    results.push(r);
    console.log(JSON.stringify(r));
  }
}
console.log(JSON.stringify({
  machine: `${cpus().length} × ${cpus()[0]?.model}`, date: new Date().toISOString(),
  chromium: context.browser()?.version() ?? 'headless chromium',
}));
await context.close();
server.close();
rmSync(profile, { recursive: true, force: true });
