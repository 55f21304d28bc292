// A user's own recording: a compressed 3-D .npz with labels inside, a labels file that does
// not match (refused inline, nothing lost), drag-and-drop, and a file holding a NaN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openSite, waitValue, npyBytes } from './harness.mjs';

let site;
before(async () => { site = await openSite(); });
after(async () => { await site?.close(); });

const sel = (id) => `[data-testid="${id}"]`;
const summary = (page) => page.textContent(sel('dataset-summary'));

async function errorText(page) {
  await page.waitForSelector(`${sel('error')}:not([hidden])`);
  const text = await page.textContent(sel('error'));
  await page.click('#error-close');
  return text;
}

test('a compressed big-endian 3-D .npz with its labels loads and optimises', async () => {
  const { page, url } = site;
  await page.goto(url);
  await waitValue(page, 'score-cka', 'v > 0');
  const buffer = readFileSync('tests/fixtures/valid/rec_compressed.npz');
  await page.setInputFiles(sel('file-input'), { name: 'rec_compressed.npz', mimeType: 'application/zip', buffer });
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'rec_compressed');
  const s = await summary(page);
  assert.match(s, /5 × 8 × 3 \(time × conditions × neurons\)/);
  assert.match(s, /direction \(\d+ classes\)/);
  await waitValue(page, 'step-count', 'v === 0');
  await page.click(sel('step'));
  await waitValue(page, 'step-count', 'v === 1');
});

test('a labels file of the wrong length is refused with the counts; the labels stay', async () => {
  const { page } = site;
  const csv = 'side\nleft\nright\nleft\nright\nleft\n'; // 5 rows for 8 conditions
  await page.setInputFiles(sel('labels-input'), { name: 'side.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  const err = await errorText(page);
  assert.match(err, /side\.csv/);
  assert.match(err, /\b8\b/, `names the 8 conditions: ${err}`);
  assert.match(await summary(page), /direction/, 'the previous labels stay');
  assert.equal(await page.textContent('#dataset-name'), 'rec_compressed', 'and the recording');
  // The right length is accepted and replaces them.
  const good = 'side\nleft\nright\nleft\nright\nleft\nright\nleft\nright\n';
  await page.setInputFiles(sel('labels-input'), { name: 'side.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
  await page.waitForFunction(() => /side \(2 classes\)/.test(document.querySelector('[data-testid="dataset-summary"]').textContent));
});

test('a file dropped anywhere on the page is opened', async () => {
  const { page } = site;
  const values = Array.from({ length: 24 * 4 }, (_, i) => Math.cos(i * 0.21) + (i % 4));
  const bytes = [...npyBytes([24, 4], values)];
  await page.evaluate((b) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(b)], 'dropped.npy', { type: 'application/octet-stream' }));
    for (const type of ['dragenter', 'dragover', 'drop']) {
      document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, bytes);
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'dropped');
  assert.match(await summary(page), /24 × 4/);
});

test('a recording holding a NaN is refused with its position; the previous one stays', async () => {
  const { page } = site;
  const values = Array.from({ length: 10 * 3 }, (_, i) => i * 0.5);
  values[7] = NaN; // row 2, column 1
  await page.setInputFiles(sel('file-input'), { name: 'holey.npy', mimeType: 'application/octet-stream', buffer: npyBytes([10, 3], values) });
  const err = await errorText(page);
  assert.match(err, /holey\.npy/);
  assert.match(err, /NaN|not finite|non-finite/i);
  assert.equal(await page.textContent('#dataset-name'), 'dropped');
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
