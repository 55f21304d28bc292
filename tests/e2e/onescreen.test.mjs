// The explorer on one screen (issue 13): at a projector's 1024×768, a laptop's 1366×768 and a
// desktop's 1920×1080, in normal and classroom mode, the toolbar (dataset, measure, Play, Step,
// Reset, live score, step) and the Optimise tab's four core plots lie wholly inside the viewport
// without scrolling, and the tab bar is one row. Also: the per-measure stop rule (ENSD steps on
// golub2018) and the Content-Security-Policy that keeps every request on the page's origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSite, waitValue, value, ARTIFACTS } from './harness.mjs';

const sel = (id) => `[data-testid="${id}"]`;
const ON_SCREEN = ['dataset-select', 'measure-select', 'play', 'step', 'reset', 'live-score', 'step-count',
  'score-plot', 'pc-r2-plot', 'pc-plot', 'capture-plot', 'tab-optimise', 'tab-prune'];

const SIZES = [[1024, 768], [1366, 768], [1920, 1080]];
for (const [width, height] of SIZES) {
  for (const classroom of [false, true]) {
    const name = `${width}x${height}${classroom ? '-classroom' : ''}`;
    test(`one screen at ${width}×${height}${classroom ? ' in classroom mode' : ''}`, async () => {
      const site = await openSite({ viewport: { width, height } });
      try {
        const { page, url } = site;
        await page.goto(`${url}#dataset=golub2018&stop=2${classroom ? '&classroom=true' : ''}`);
        await waitValue(page, 'score-cka', 'v > 0');
        await page.click(sel('play'));
        await waitValue(page, 'step-count', 'v >= 5', 30000);
        await page.click(sel('play'));
        await page.waitForTimeout(300);
        await page.screenshot({ path: `${ARTIFACTS}/onescreen-${name}.png` });
        const scroll = await page.evaluate(() => [window.scrollX, window.scrollY,
          document.scrollingElement.scrollHeight - window.innerHeight,
          document.scrollingElement.scrollWidth - window.innerWidth]);
        assert.deepEqual(scroll.slice(0, 2), [0, 0], 'the page itself has not scrolled');
        assert.ok(scroll[2] <= 0 && scroll[3] <= 0, `the page does not scroll (${scroll})`);
        for (const id of ON_SCREEN) {
          const b = await page.locator(sel(id)).boundingBox();
          assert.ok(b, `${id} is shown`);
          assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= width + 0.5 && b.y + b.height <= height + 0.5,
            `${id} lies inside the ${width}×${height} viewport: ${JSON.stringify(b)}`);
          assert.ok(b.width > 10 && b.height > 10, `${id} has a usable size: ${JSON.stringify(b)}`);
        }
        const tabTops = await page.$$eval('[role="tab"]', (ts) => ts.map((t) => Math.round(t.getBoundingClientRect().top)));
        assert.equal(new Set(tabTops).size, 1, `the tab bar is one row (tops ${tabTops})`);
        // The live score is the optimised measure's readout.
        assert.equal(await value(page, 'live-score'), await value(page, 'score-cka'));
        assert.deepEqual(site.problems, []);
      } finally {
        await site.close();
      }
    });
  }
}

test('ENSD steps on golub2018: a score with no maximum stops only when paused', async () => {
  const site = await openSite();
  try {
    const { page, url } = site;
    await page.goto(`${url}#dataset=golub2018&measure=ensd`);
    await waitValue(page, 'score-ensd', 'v > 1');
    // One step at a time (a click while a step is in flight is dropped, not queued).
    for (let i = 1; i <= 3; i++) {
      await page.click(sel('step'));
      await waitValue(page, 'step-count', `v === ${i}`);
    }
    assert.match(await page.textContent('#status-note'), /no best value|optimis|ready/);
    assert.deepEqual(site.problems, []);
  } finally {
    await site.close();
  }
});

test('a request to another origin is blocked by the page\'s CSP, and the page keeps working', async () => {
  const site = await openSite();
  try {
    const { page, url } = site;
    await page.goto(url);
    await waitValue(page, 'score-cka', 'v > 0');
    // The toolbar's busy note is gone once the recording is loaded.
    await page.waitForFunction(() => document.querySelector('[data-testid="busy"]').hidden);
    const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
    assert.match(csp, /connect-src 'self'/);
    const outcome = await page.evaluate(async () => {
      const seen = new Promise((done) => document.addEventListener('securitypolicyviolation',
        (e) => done(e.effectiveDirective), { once: true }));
      const fetched = await fetch('http://127.0.0.2:9/leak').then(() => 'sent', () => 'refused');
      return [fetched, await seen];
    });
    assert.deepEqual(outcome, ['refused', 'connect-src']);
    await page.click(sel('step'));
    await waitValue(page, 'step-count', 'v === 1');
    const others = site.problems.filter((p) => !/Content Security Policy|127\.0\.0\.2/.test(p));
    assert.deepEqual(others, []);
    assert.ok(!site.problems.some((p) => p.startsWith('request left the origin')), 'no request left');
  } finally {
    await site.close();
  }
});

test('a degenerate measure is said out loud: correlation-distance RSA on toy2d\'s 2 neurons', async () => {
  const site = await openSite();
  try {
    const { page, url } = site;
    await page.goto(`${url}#dataset=toy2d&measure=rsa-correlation-pearson`);
    await waitValue(page, 'score-rsa-correlation-pearson', 'Number.isFinite(v)');
    const warning = page.locator('[data-testid^="warning-"]', { hasText: '2 neurons' });
    await warning.waitFor();
    const b = await warning.boundingBox();
    assert.ok(b && b.y >= 0 && b.y + b.height <= 900, `the warning is on screen: ${JSON.stringify(b)}`);
    // ... and beside the plot it concerns: the score plot's title counts it, the text on hover.
    const badge = page.locator('[data-testid="warning-score-plot"]');
    await badge.waitFor();
    const listed = await page.locator('#warnings [data-testid^="warning-"]').count();
    assert.equal(await badge.textContent(), `⚠ ${listed} warning${listed === 1 ? '' : 's'} · `);
    assert.match(await badge.getAttribute('title'), /2 neurons/);
    const plot = await page.locator('[data-testid="score-plot"]').boundingBox();
    const bb = await badge.boundingBox();
    assert.ok(bb.y + bb.height <= plot.y + 2 && plot.y - bb.y < 60, `badge just above the plot: ${JSON.stringify([bb, plot])}`);
    assert.deepEqual(site.problems, []);
  } finally {
    await site.close();
  }
});

test('a Y as wide as the recording has samples: the PC plots say their R² is trivially 1 (hatsopoulos2007)', async () => {
  const site = await openSite({ viewport: { width: 1024, height: 768 } });
  try {
    const { page, url } = site;
    // 80 samples (10 time steps × 8 conditions) and a Y of 141 columns: rank(Y_c) = n − 1.
    await page.goto(`${url}#dataset=hatsopoulos2007`);
    await waitValue(page, 'score-cka', 'v > 0');
    await page.click(sel('play'));
    await waitValue(page, 'step-count', 'v >= 1', 30000);
    await page.waitForFunction(
      () => document.querySelector('[data-testid="play"]').getAttribute('aria-pressed') === 'false',
      null, { timeout: 60000 });
    const badge = page.locator(sel('warning-pc-r2-plot'));
    await badge.waitFor();
    assert.match(await badge.textContent(), /trivially 1/);
    assert.match(await badge.getAttribute('title'), /every PC's R² is trivially 1: Y's 141 columns span all n − 1 = 79 directions/);
    const plot = await page.locator(sel('pc-r2-plot')).boundingBox();
    const bb = await badge.boundingBox();
    assert.ok(bb.y >= 0 && bb.y + bb.height <= plot.y + 2 && plot.y - bb.y < 60,
      `the badge is on screen, just above the R² plot: ${JSON.stringify([bb, plot])}`);
    assert.equal(await page.locator(sel('pc-r2-plot')).getAttribute('data-chance'), '1');
    // The capture plot's "score needed" would be the starting score for every PC: flagged too.
    await page.locator(sel('warning-capture-plot')).waitFor();
    assert.equal(await page.locator(sel('capture-plot')).getAttribute('data-captured'), '0', 'no PC claimed as captured');
    assert.match(await page.locator(sel('warning-pc-r2-text')).textContent(), /in-sample regression fits any PC exactly/);
    await page.screenshot({ path: `${ARTIFACTS}/pc-r2-saturated-1024.png` });
    // golub2018 (552 × 86): a random Y's level is 86/551, drawn, with nothing to warn about.
    await page.goto(`${url}#dataset=golub2018`);
    await waitValue(page, 'score-cka', 'v > 0');
    await page.waitForFunction(() => document.querySelector('[data-testid="pc-r2-plot"]').dataset.chance !== '1');
    const level = Number(await page.locator(sel('pc-r2-plot')).getAttribute('data-chance'));
    assert.ok(Math.abs(level - 86 / 551) < 1e-12, `chance ${level}`);
    for (const id of ['warning-pc-r2-plot', 'warning-capture-plot', 'warning-pc-r2-text']) {
      assert.equal(await page.locator(sel(id)).isVisible(), false, `${id} hidden on golub2018`);
    }
    assert.deepEqual(site.problems, []);
  } finally {
    await site.close();
  }
});

test('a link with a typo: the message is on screen and covers neither the toolbar nor the tabs', async () => {
  const site = await openSite({ viewport: { width: 1024, height: 768 } });
  try {
    const { page, url } = site;
    await page.goto(`${url}#dataset=golub2018&panel=decode`);
    await page.waitForSelector(`${sel('error')}:not([hidden])`);
    assert.match(await page.textContent(sel('error')), /panel.*decode/);
    const b = await page.locator(sel('error')).boundingBox();
    assert.ok(b.y >= 0 && b.y + b.height <= 768, `the message is inside the viewport: ${JSON.stringify(b)}`);
    // Every control stays clickable: the topmost element at its centre is itself (or inside it).
    const covered = await page.evaluate((ids) => ids.filter((id) => {
      const e = document.querySelector(`[data-testid="${id}"]`);
      const r = e.getBoundingClientRect();
      const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      return !(top && (top === e || e.contains(top)));
    }), ['dataset-select', 'measure-select', 'play', 'step', 'reset', 'tab-optimise', 'tab-compare', 'tab-prune']);
    assert.deepEqual(covered, [], 'controls under the message');
    // ... and the page works meanwhile: Play runs.
    await waitValue(page, 'score-cka', 'v > 0');
    await page.click(sel('play'));
    await waitValue(page, 'step-count', 'v >= 3', 30000);
    await page.click(sel('play'));
  } finally {
    await site.close();
  }
});

test('a score-only measure: watched along the run, refused as the objective with its reason', async () => {
  const site = await openSite({ viewport: { width: 1366, height: 768 } });
  try {
    const { page, url } = site;
    await page.goto(`${url}#dataset=golub2018&measure=rsa-correlation-spearman&watch=rsa-correlation-spearman`);
    await page.waitForSelector(`${sel('error')}:not([hidden])`);
    assert.match(await page.textContent(sel('error')), /rsa-correlation-spearman.*cannot be optimised \(rank-based/);
    // The objective stays the default; Spearman is watched and its readout moves with Play.
    assert.equal(await page.inputValue(sel('measure-select')), 'cka');
    await waitValue(page, 'score-rsa-correlation-spearman', 'Number.isFinite(v)');
    const before = await value(page, 'score-rsa-correlation-spearman');
    await page.click(sel('play'));
    await waitValue(page, 'step-count', 'v >= 10', 30000);
    await page.click(sel('play'));
    await waitValue(page, 'score-rsa-correlation-spearman', `v !== ${before}`, 10000);
    assert.equal(await page.isChecked('[data-watch="rsa-correlation-spearman"]'), true);
  } finally {
    await site.close();
  }
});

test('a distance by its similarity-repository name is minimised; whitened RSA, mutual k-NN and a both-ways ridge watched', async () => {
  const site = await openSite({ viewport: { width: 1024, height: 768 } });
  try {
    const { page, url } = site;
    // Not in the menu's listed instances: the page offers it under its name.
    const objective = 'nbs-distance=angular';
    const watched = ['rsa-rdm=correlation-compare=cosine_cov', 'mutual_knn-topk=10', 'ridge-lambda100-r2-sym#5folds_cv'];
    const link = watched.map((id) => id.replace('#', '%23')).join(',');
    await page.goto(`${url}#dataset=golub2018&measure=procrustes-distance=angular&watch=${link}`);
    await waitValue(page, `score-${objective}`, 'v > 0');
    assert.equal(await page.inputValue(sel('measure-select')), objective);
    assert.match(await page.$eval(sel('measure-select'), (s) => s.selectedOptions[0].textContent), /angular distance, NBS/);
    const before = await value(page, `score-${objective}`);
    const watchedBefore = [];
    for (const id of watched) {
      await waitValue(page, `score-${id}`, 'Number.isFinite(v)');
      watchedBefore.push(await value(page, `score-${id}`));
    }
    await page.click(sel('play'));
    await waitValue(page, 'step-count', 'v >= 20', 60000);
    await page.click(sel('play'));
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${ARTIFACTS}/distance-1024.png` });
    const after = await value(page, `score-${objective}`);
    // A distance: the optimiser lowers it, and the angle stays in [0, π/2] for NBS ∈ [0, 1].
    assert.ok(after < before && after >= 0 && before <= Math.PI / 2, `the angular distance fell: ${before} → ${after}`);
    assert.equal(await value(page, 'live-score'), after);
    for (const [k, id] of watched.entries()) {
      const v = await value(page, `score-${id}`);
      assert.ok(Number.isFinite(v) && v !== watchedBefore[k], `${id} is watched along the run: ${watchedBefore[k]} → ${v}`);
    }
    const knn = await value(page, 'score-mutual_knn-topk=10');
    assert.ok(knn >= 0 && knn <= 1, `mutual k-NN is a share: ${knn}`);
    assert.deepEqual(site.problems, []);
  } finally {
    await site.close();
  }
});

test('similarity-repository names in a link: RBF CKA optimised, SVCCA and Kendall τ-a watched, SVCCA refused as the objective', async () => {
  const site = await openSite({ viewport: { width: 1024, height: 768 } });
  try {
    const { page, url } = site;
    const rbf = 'cka-kernel=(rbf-threshold=1.0)-hsic=gretton-score';
    const watched = ['svcca-var=0.99-score', 'rsa-correlation-tau_a'];
    await page.goto(`${url}#dataset=golub2018&measure=${rbf}&watch=${watched.join(',')}`);
    await waitValue(page, `score-${rbf}`, 'v > 0');
    // The menu shows it by its plain name under the CKA family.
    assert.equal(await page.inputValue(sel('measure-select')), rbf);
    assert.match(await page.$eval(sel('measure-select'), (s) => s.selectedOptions[0].textContent), /RBF CKA/);
    const before = await value(page, `score-${rbf}`);
    const watchedBefore = [];
    for (const id of watched) {
      await waitValue(page, `score-${id}`, 'Number.isFinite(v)');
      watchedBefore.push(await value(page, `score-${id}`));
    }
    await page.click(sel('play'));
    await waitValue(page, 'step-count', 'v >= 20', 60000);
    await page.click(sel('play'));
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${ARTIFACTS}/rbf-cka-1024.png` });
    const after = await value(page, `score-${rbf}`);
    assert.ok(after > before, `RBF CKA rose under its own gradient: ${before} → ${after}`);
    assert.equal(await value(page, 'live-score'), after);
    for (const [k, id] of watched.entries()) {
      const v = await value(page, `score-${id}`);
      assert.ok(Number.isFinite(v) && v !== watchedBefore[k], `${id} is watched along the run: ${watchedBefore[k]} → ${v}`);
    }
    assert.deepEqual(site.problems, []);
    // SVCCA cannot be the objective: the reason is said, and the objective stays.
    await page.goto(`${url}#dataset=golub2018&measure=svcca-var=0.99-score`);
    await page.waitForSelector(`${sel('error')}:not([hidden])`);
    assert.match(await page.textContent(sel('error')), /svcca-var=0\.99-score.*cannot be optimised \(the PCs it keeps are recomputed/);
    assert.equal(await page.inputValue(sel('measure-select')), 'cka');
  } finally {
    await site.close();
  }
});
