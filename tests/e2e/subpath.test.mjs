// Publishing: the built site works from a sub-path of a static host (relative asset URLs),
// as on a GitHub Pages project site, with nothing requested outside that path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSite, waitValue } from './harness.mjs';

let site;
const requested = [];
before(async () => {
  site = await openSite({ base: '/lab/simscope/' });
  site.page.on('request', (r) => requested.push(new URL(r.url())));
});
after(async () => { await site?.close(); });

test('the site served under /lab/simscope/ loads, starts its worker and optimises', async () => {
  const { page, url } = site;
  await page.goto(`${url}#dataset=ultrametric`);
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'ultrametric');
  await waitValue(page, 'score-cka', 'v > 0');
  await page.click('[data-testid="step"]');
  await waitValue(page, 'step-count', 'v === 1');
  const paths = requested.filter((u) => u.protocol.startsWith('http')).map((u) => u.pathname);
  assert.ok(paths.some((p) => p.endsWith('.wasm')), 'the wasm module was fetched');
  for (const p of paths) assert.ok(p.startsWith('/lab/simscope/'), `request outside the sub-path: ${p}`);
});

test('no console errors, no failed request and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
