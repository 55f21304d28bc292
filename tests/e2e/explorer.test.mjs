// Data loading, settings, URL state, keyboard and classroom mode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSite, value, waitValue, npyBytes } from './harness.mjs';

let site;
before(async () => { site = await openSite(); });
after(async () => { await site?.close(); });

const sel = (id) => `[data-testid="${id}"]`;

test('every built-in dataset is listed and one can be switched to', async () => {
  const { page, url } = site;
  await page.goto(url);
  await waitValue(page, 'score-cka', 'v > 0');
  const names = await page.$$eval(`${sel('dataset-select')} option`, (os) => os.map((o) => o.value));
  for (const n of ['toy2d', 'ultrametric', 'hatsopoulos2007', 'golub2018', 'kriegeskorte2008-mit']) {
    assert.ok(names.includes(n), `${n} listed`);
  }
  await page.selectOption(sel('dataset-select'), 'ultrametric');
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'ultrametric');
  assert.match(await page.textContent(sel('dataset-summary')), /100 × 50/);
  assert.match(page.url(), /dataset=ultrametric/);
});

test('choosing a measure and watching others shows one readout each', async () => {
  const { page } = site;
  await page.selectOption(sel('measure-select'), 'procrustes-angular-score');
  await waitValue(page, 'score-procrustes-angular-score', 'v > 0');
  await page.check('[data-watch="cka"]');
  const cka = await waitValue(page, 'score-cka', 'v > 0');
  assert.ok(cka < 1);
  assert.match(await page.textContent('#card-id'), /procrustes-angular-score/);
});

test('a valid .npy upload replaces the recording; a malformed one is refused inline', async () => {
  const { page } = site;
  const values = Array.from({ length: 40 * 5 }, (_, i) => Math.sin(i * 0.37) + (i % 5) * 0.1);
  await page.setInputFiles(sel('file-input'), { name: 'mine.npy', mimeType: 'application/octet-stream', buffer: npyBytes([40, 5], values) });
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'mine');
  assert.match(await page.textContent(sel('dataset-summary')), /40 × 5/);
  await waitValue(page, 'step-count', 'v === 0');
  await page.setInputFiles(sel('file-input'), { name: 'broken.npy', mimeType: 'application/octet-stream', buffer: Buffer.from('not a numpy file at all') });
  await page.waitForSelector(`${sel('error')}:not([hidden])`);
  assert.match(await page.textContent(sel('error')), /broken\.npy/);
  assert.equal(await page.textContent('#dataset-name'), 'mine', 'the previous recording stays');
  await page.click('#error-close');
});

test('the URL hash carries the settings and a link reproduces them', async () => {
  const { page, url } = site;
  await page.goto(`${url}#dataset=toy2d&measure=nbs&lr=0.05&seed=7&speed=3`);
  await waitValue(page, 'score-nbs', 'v > 0');
  assert.equal(await page.inputValue('#lr-input'), '0.05');
  assert.equal(await page.inputValue('#seed-input'), '7');
  assert.equal(await page.inputValue(sel('measure-select')), 'nbs');
  await page.fill('#seed-input', '8');
  await page.dispatchEvent('#seed-input', 'change');
  await page.waitForFunction(() => location.hash.includes('seed=8'));
  await page.click('#defaults');
  await page.waitForFunction(() => location.hash === '');
  assert.equal(await page.inputValue(sel('measure-select')), 'cka');
});

test('a link with typos: each bad key keeps its default, is named with its fix, and the page works', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#dataset=Golub2018&measure=CKA&jn=99&panle=joint&seed=4&stop=2`);
  await page.waitForSelector(`${sel('error')}:not([hidden])`);
  const banner = await page.textContent(sel('error'));
  for (const want of ['`dataset`', 'did you mean `golub2018`', '`measure`', 'did you mean `cka`', '`jn`', '2 to 20', 'did you mean `panel`']) {
    assert.ok(banner.includes(want), `the banner says ${want}: ${banner}`);
  }
  // The valid settings are kept, the bad ones are the defaults, and the link says only that.
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'toy2d');
  assert.equal(await page.inputValue('#seed-input'), '4');
  assert.equal(await page.inputValue(sel('measure-select')), 'cka');
  assert.equal(await page.inputValue('#joint-n-input'), '4');
  await page.waitForFunction(() => location.hash === '#seed=4&stop=2');
  // Fully usable: Play optimises.
  await waitValue(page, 'score-cka', 'v > 0');
  await page.click(sel('play'));
  await waitValue(page, 'step-count', 'v >= 10');
  await page.click(sel('play'));
  assert.ok(await value(page, 'score-cka') > 0.5);
  // A bad value typed into the link later is refused the same way.
  await page.evaluate(() => { location.hash = '#dataset=ultrametrik'; });
  await page.waitForFunction(() => /did you mean `ultrametric`/.test(document.querySelector('[data-testid="error"]').textContent));
  await page.click('#error-close');
});

test('same seed, same score at step 20 (keyboard S steps, R resets)', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#seed=3&stop=2`);
  await waitValue(page, 'score-cka', 'v > 0');
  await page.focus('body');
  const runTo = async (n) => {
    while (await value(page, 'step-count') < n) {
      const before = await value(page, 'step-count');
      await page.keyboard.press('s');
      await waitValue(page, 'step-count', `v > ${before}`);
    }
    return value(page, 'score-cka');
  };
  const a = await runTo(20);
  await page.keyboard.press('r');
  await waitValue(page, 'step-count', 'v === 0');
  const b = await runTo(20);
  assert.equal(a, b);
  await page.keyboard.press(' ');
  assert.equal(await page.getAttribute(sel('play'), 'aria-pressed'), 'true');
  await page.keyboard.press(' ');
  assert.equal(await page.getAttribute(sel('play'), 'aria-pressed'), 'false');
});

test('classroom mode enlarges type and hides advanced controls', async () => {
  const { page } = site;
  await page.check(sel('classroom-toggle'));
  await page.waitForFunction(() => document.body.classList.contains('classroom'));
  assert.equal(await page.isVisible('#lr-input'), false);
  assert.equal(await page.isVisible(sel('measure-select')), true);
  assert.match(page.url(), /classroom=1/);
  await page.uncheck(sel('classroom-toggle'));
  assert.equal(await page.isVisible('#lr-input'), true);
});

test('a demonstration link sets up its view in one click', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(url);
  await waitValue(page, 'score-cka', 'v > 0');
  await page.click(sel('preset-decorrelate'));
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'ultrametric');
  await page.waitForFunction(() => document.querySelector('[data-testid="pert-table"]').dataset.pert === '12_1_90');
  await page.click(sel('preset-cka-pc2'));
  await page.waitForFunction(() => document.querySelector('#dataset-name').textContent === 'toy2d');
  await waitValue(page, 'score-procrustes-angular-score', 'v > 0');
  assert.equal(await page.inputValue(sel('measure-select')), 'cka');
});

test('slow motion: below 1 step per frame, a step every 1/speed frames', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#speed=0.1&stop=2`);
  await waitValue(page, 'score-cka', 'v > 0');
  assert.equal(await page.inputValue(sel('speed-input')), '0.1');
  const frames = await page.evaluate(() => new Promise((done) => {
    let n = 0;
    document.querySelector('[data-testid="play"]').click();
    const count = () => (++n < 60 ? requestAnimationFrame(count) : done(n));
    requestAnimationFrame(count);
  }));
  await page.click(sel('play'));
  const steps = await value(page, 'step-count');
  // 60 frames at 0.1 steps per frame: about 6 steps (at most 7 with one in flight).
  assert.ok(steps >= 3 && steps <= 7, `${steps} steps in ${frames} frames`);
});

test('tabs: one panel at a time, by click, by arrow keys and by link', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(url);
  await waitValue(page, 'score-cka', 'v > 0');
  const shown = () => page.$$eval('[role="tabpanel"]', (ps) => ps.filter((p) => !p.hidden).map((p) => p.dataset.tabpanel));
  assert.deepEqual(await shown(), ['optimise']);
  assert.equal(await page.getAttribute(sel('tab-optimise'), 'aria-selected'), 'true');
  await page.click(sel('tab-joint'));
  assert.deepEqual(await shown(), ['joint']);
  assert.match(page.url(), /panel=joint/);
  assert.equal(await page.isVisible(sel('joint-run')), true);
  assert.equal(await page.isVisible(sel('score-plot')), false);
  // Arrow keys move along the tab bar (and wrap); focus follows.
  await page.focus(sel('tab-joint'));
  await page.keyboard.press('ArrowRight');
  assert.deepEqual(await shown(), ['calibrate']);
  await page.keyboard.press('ArrowRight');
  assert.deepEqual(await shown(), ['compare']);
  await page.keyboard.press('ArrowRight');
  assert.deepEqual(await shown(), ['prune']);
  await page.keyboard.press('ArrowRight');
  assert.deepEqual(await shown(), ['optimise']);
  await page.keyboard.press('ArrowLeft');
  assert.deepEqual(await shown(), ['prune']);
  await page.keyboard.press('Home');
  assert.deepEqual(await shown(), ['optimise']);
  await page.keyboard.press('End');
  assert.deepEqual(await shown(), ['prune']);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.tab), 'prune');
  await page.goto('about:blank');
  await page.goto(`${url}#panel=perturb`);
  await page.waitForSelector(`${sel('pert-plot')}[data-bars]`);
  assert.deepEqual(await shown(), ['perturb']);
  // A damaged link names the bad value and opens the default panel.
  await page.goto('about:blank');
  await page.goto(`${url}#panel=nowhere`);
  await page.waitForSelector(`${sel('error')}:not([hidden])`);
  assert.match(await page.textContent(sel('error')), /nowhere/);
  assert.deepEqual(await shown(), ['optimise']);
  await page.click('#error-close');
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
