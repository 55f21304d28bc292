// Guided lessons (src/lessons.rs): a lesson link opens the card at its step, sets the page up
// and runs it; Next/Previous follow the steps' links; the card stays off the core plots at
// 1024×768; a Joint step presses Run; a link to an unknown lesson says so and the page works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSite, waitValue, ARTIFACTS } from './harness.mjs';

let site;
before(async () => { site = await openSite({ viewport: { width: 1024, height: 768 } }); });
after(async () => { await site?.close(); });

const sel = (id) => `[data-testid="${id}"]`;
const box = (page, s) => page.locator(s).boundingBox();
const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

test('a lesson link sets the page up and plays; Next and Previous follow the steps', async () => {
  const { page, url } = site;
  await page.goto(`${url}#dataset=toy2d&measure=cka&speed=0.25&lesson=cka-top-pcs&lstep=1`);
  await page.waitForSelector(`${sel('lesson')}:not([hidden])`);
  assert.equal(await page.textContent(sel('lesson-count')), 'step 1 of 3');
  assert.match(await page.textContent(sel('lesson-text')), /toy2d/);
  assert.equal(await page.isDisabled(sel('lesson-prev')), true);
  // Played for the reader: the step count climbs without a click.
  await waitValue(page, 'step-count', 'v >= 3', 30000);
  assert.equal(await page.getAttribute(sel('play'), 'aria-pressed'), 'true');
  // The card sits over the sidebar, never over Play or the four core plots.
  const card = await box(page, sel('lesson'));
  for (const id of ['play', 'measure-select', 'live-score', 'score-plot', 'pc-r2-plot', 'capture-plot', 'pc-plot']) {
    const b = await box(page, sel(id));
    assert.ok(b && !overlap(card, b), `the lesson card covers ${id}`);
  }
  assert.ok(card.y + card.height <= 768, 'the card is on screen');
  await page.screenshot({ path: `${ARTIFACTS}/lesson-cka-top-pcs.png` });
  // Next: step 2's link, same settings, so the run goes on (no reset).
  const before = Number(await page.getAttribute(sel('step-count'), 'data-value'));
  await page.click(sel('lesson-next'));
  await page.waitForFunction(() => /lstep=2/.test(location.hash));
  assert.equal(await page.textContent(sel('lesson-count')), 'step 2 of 3');
  assert.match(await page.textContent(sel('lesson-text')), /PC1/);
  assert.ok(Number(await page.getAttribute(sel('step-count'), 'data-value')) >= before, 'the run was not reset');
  assert.equal(await page.getAttribute(sel('lesson-link'), 'href'), '#dataset=toy2d&measure=cka&speed=0.25&lesson=cka-top-pcs&lstep=2');
  // Step 3 watches angular Procrustes and plays a fresh run.
  await page.click(sel('lesson-next'));
  await page.waitForSelector(sel('score-procrustes-angular-score'));
  assert.equal(await page.isDisabled(sel('lesson-next')), true);
  await waitValue(page, 'step-count', 'v >= 2', 30000);
  await page.click(sel('lesson-prev'));
  await page.waitForFunction(() => /lstep=2/.test(location.hash));
  // End: the card goes and the link no longer names the lesson.
  await page.click(sel('lesson-end'));
  assert.equal(await page.isHidden(sel('lesson')), true);
  await page.waitForFunction(() => !/lesson=/.test(location.hash));
});

test('every lesson opens from the Demonstrations drawer at its first step (a screenshot each)', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(url);
  await waitValue(page, 'score-cka', 'v > 0', 60000);
  const ids = await page.$$eval('[data-testid="lesson-list"] a', (as) => as.map((a) => a.dataset.testid.replace(/^lesson-/, '')));
  assert.ok(ids.length >= 5, `lessons: ${ids}`);
  for (const id of ids) {
    await page.click(sel(`lesson-${id}`));
    // (The page writes its link back with defaults left out, so step 1 has no lstep.)
    await page.waitForFunction((id) => new RegExp(`lesson=${id}(&|$)`).test(location.hash), id);
    await page.waitForSelector(`${sel('lesson')}:not([hidden])`);
    assert.match(await page.textContent(sel('lesson-count')), /^step 1 of \d+$/);
    if (id === 'joint') {
      // The Joint step presses Run for the reader.
      await page.waitForFunction(() => document.querySelector('#tab-joint').getAttribute('aria-selected') === 'true');
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="joint-progress"]').dataset.done) > 0, null, { timeout: 60000 });
      // The text promises twenty (CKA, NBS) targets: the step's link must set them.
      assert.equal(await page.getAttribute(sel('joint-progress'), 'data-total'), '20');
      assert.equal(await page.inputValue('#joint-b-select'), 'nbs');
    }
    await page.waitForTimeout(1500);
    // The step's panel is scrolled into view, and no error came with it (a step that changes
    // the recording while a run plays must not leave a step request without its run).
    const plot = await box(page, id === 'joint' ? sel('joint-plot') : id === 'perturb' ? '#perturb-panel' : sel('score-plot'));
    assert.ok(plot && plot.y >= 0 && plot.y < 768, `${id}: its plot is on screen (${JSON.stringify(plot)})`);
    assert.equal(await page.isHidden(sel('error')), true, `${id}: ${await page.textContent('#error-text')}`);
    await page.screenshot({ path: `${ARTIFACTS}/lesson-${id}.png` });
    await page.click(sel('lesson-end'));
  }
});

test('a link to an unknown lesson says so; the page works', async () => {
  const { page, url } = site;
  await page.goto('about:blank');
  await page.goto(`${url}#dataset=toy2d&lesson=nope&lstep=2`);
  await page.waitForSelector(`${sel('error')}:not([hidden])`);
  assert.match(await page.textContent('#error-text'), /no lesson named `nope`/);
  assert.equal(await page.isHidden(sel('lesson')), true);
  await waitValue(page, 'score-cka', 'v > 0', 60000);
  // A step past the end shows the last one, and says so.
  await page.goto('about:blank');
  await page.goto(`${url}#dataset=golub2018&lesson=perturb&lstep=9&panel=perturb`);
  await page.waitForSelector(`${sel('lesson')}:not([hidden])`);
  assert.equal(await page.textContent(sel('lesson-count')), 'step 2 of 2');
  assert.match(await page.textContent('#error-text'), /has 2 steps/);
});

test('no console errors and no request outside the page origin', () => {
  assert.deepEqual(site.problems, []);
});
