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

test('the dataset menu names the loaded file; a built-in or a demonstration link replaces it', async () => {
  const { page } = site;
  const menu = () => page.evaluate(() => {
    const s = document.querySelector('[data-testid="dataset-select"]');
    return s.options[s.selectedIndex]?.textContent;
  });
  // 'dropped' is loaded (the settings still name toy2d): the menu says so, after any change.
  assert.equal(await menu(), 'dropped (your file)');
  await page.fill(sel('lr-input'), '0.05');
  await page.press(sel('lr-input'), 'Enter');
  assert.equal(await menu(), 'dropped (your file)', 'a settings change keeps the file named');
  // Choosing the built-in the settings already name loads it.
  await page.selectOption(sel('dataset-select'), 'toy2d');
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'toy2d');
  assert.match(await menu(), /^toy2d /);
  assert.equal(await page.$('[data-testid="dataset-file-option"]'), null, 'the file entry is gone');
  // A file again, then a demonstration link that names toy2d: it loads toy2d.
  const values = Array.from({ length: 12 * 3 }, (_, i) => Math.sin(i * 0.7) + (i % 3));
  await page.setInputFiles(sel('file-input'), { name: 'mine.npy', mimeType: 'application/octet-stream', buffer: npyBytes([12, 3], values) });
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'mine');
  assert.equal(await menu(), 'mine (your file)');
  await page.click(sel('preset-cka-pc2'));
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'toy2d');
  assert.match(await menu(), /^toy2d /);
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
