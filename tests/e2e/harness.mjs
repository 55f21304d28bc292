// Shared Playwright setup: serve dist/ on a random loopback port, open Debian's chromium,
// and record console errors, page errors and any request that leaves the page's origin.
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const ARTIFACTS = 'test-results';

export async function openSite({ viewport = { width: 1280, height: 900 }, base = '/', deviceScaleFactor = 1, isMobile = false } = {}) {
  const { server, url } = await startServer({ port: 0, dir: 'dist', base });
  const origin = new URL(url).origin;
  const profile = mkdtempSync(join(tmpdir(), 'simscope-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport,
    deviceScaleFactor,
    isMobile,
    hasTouch: isMobile,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const problems = [];
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`); });
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.protocol !== 'blob:' && u.origin !== origin) {
      problems.push(`request left the origin: ${r.url()}`);
    }
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  const close = async () => {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { page, url, problems, close };
}

/** Number of non-white, non-transparent pixels drawn on the canvas with this test id. */
export function inkedPixels(page, testid) {
  return page.evaluate((id) => {
    const c = document.querySelector(`[data-testid="${id}"]`);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) n++;
    return n;
  }, testid);
}

/** The f64 held by a readout's data-value. */
export async function value(page, testid) {
  return Number(await page.getAttribute(`[data-testid="${testid}"]`, 'data-value'));
}

/** Wait until a readout's data-value satisfies `pred` (an expression in `v`). The predicate is
 * evaluated here in Node, polling the value: the page's Content-Security-Policy forbids
 * evaluating strings as code in the page (Playwright's string predicates do). */
export async function waitValue(page, testid, pred, timeout = 15000) {
  const test = new Function('v', `return ${pred}`);
  const deadline = Date.now() + timeout;
  for (;;) {
    const s = await page.evaluate((id) => document.querySelector(`[data-testid="${id}"]`)?.dataset.value ?? null, testid);
    if (s !== null && s !== '' && test(Number(s))) return Number(s);
    if (Date.now() > deadline) {
      throw new Error(`waitValue: ${testid} = ${s} did not satisfy ${pred} within ${timeout} ms`);
    }
    await new Promise((done) => setTimeout(done, 20));
  }
}

/** A little-endian f8 `.npy` file (format 1.0) holding `values` in C order. */
export function npyBytes(shape, values) {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${dims}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const buf = Buffer.alloc(10 + header.length + 8 * values.length);
  buf.write('\x93NUMPY', 0, 'latin1');
  buf[6] = 1; buf[7] = 0;
  buf.writeUInt16LE(header.length, 8);
  buf.write(header, 10, 'latin1');
  values.forEach((v, i) => buf.writeDoubleLE(v, 10 + header.length + 8 * i));
  return buf;
}

/**
 * Run the native CLI (`simscope ARGS…`) and return its stdout. The release binary is brought
 * up to date first (`cargo build --release`, a no-op when it is), in $CARGO_TARGET_DIR or
 * ./target, so the page is compared with the CLI of the same sources.
 */
export function runCli(args) {
  const targetDir = process.env.CARGO_TARGET_DIR ?? 'target';
  execFileSync('cargo', ['build', '--release', '--quiet', '--bin', 'simscope'], { stdio: 'inherit' });
  return execFileSync(join(targetDir, 'release', 'simscope'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}
