// Shared Playwright setup: serve dist/ on a random loopback port, open Debian's chromium,
// and record console errors, page errors and any request that leaves the page's origin.
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const ARTIFACTS = 'test-results';

export async function openSite({ viewport = { width: 1280, height: 900 } } = {}) {
  const { server, url } = await startServer({ port: 0, dir: 'dist' });
  const origin = new URL(url).origin;
  const profile = mkdtempSync(join(tmpdir(), 'simscope-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport,
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
