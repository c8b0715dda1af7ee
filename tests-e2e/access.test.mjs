// Every student can use the page (issue 25): axe-core (the accessibility
// engine behind browsers' own audits) on each main view finds no serious or
// critical violation, and at a phone's width (390 px) no view makes the page
// scroll sideways (a wide table scrolls inside its own focusable box).
// On the CPU backend: the page's claim, not WebGPU's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, OUT, HAVE_MINI, browser, base, open, waitFor, needs, settle, until, expectVisible } from './harness.mjs';

const NO_MINI = needs(HAVE_MINI, 'no CIFAR-10 mini slice under the data root');
const AXE = fs.readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const CPU = '?data=/data-mini/&backend=cpu&images=32&tests=32&batchSize=16&latentSize=16';

/** axe-core's serious and critical violations on the page as it is: `impact id: help (where)` each. */
async function violations(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ content: AXE });
  const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')})`));
  return found;
}

/** What sticks out past the right edge at the viewport's width, outside a scrolling box (empty: nothing). */
const sideways = (page) => page.evaluate(() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  return [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > width + 0.5 && !e.parentElement.closest('.table-scroll'))
    .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''} to ${Math.round(e.getBoundingClientRect().right)} px`);
});

/** One view: axe at desktop width, then at 390 px axe again and no sideways scroll; a screenshot at each. */
async function checkView(page, view) {
  await settle(page);
  assert.deepEqual(await violations(page), [], `${view}: axe-core at 1280 px`);
  await page.setViewportSize({ width: 390, height: 844 });
  assert.deepEqual(await sideways(page), [], `${view}: the page scrolls sideways at 390 px`);
  assert.deepEqual(await violations(page), [], `${view}: axe-core at 390 px`);
  await page.screenshot({ path: path.join(OUT, `access-${view}-390.png`), fullPage: true });
  // The parts with wide tables, on their own (a whole phone page is too tall to look at).
  for (const part of ['runs', 'results', 'data']) await page.locator(`[data-part=${part}]`).screenshot({ path: path.join(OUT, `access-${view}-390-${part}.png`) });
  await page.setViewportSize({ width: 1280, height: 800 });
}

test('every main view passes axe-core with no serious or critical violation and fits a 390 px phone', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${CPU}&numEpochs=1`);
  await waitFor(page, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  await checkView(page, 'idle');
  // A run, held paused as soon as it trains (the view a teacher explains from).
  await page.locator('[data-testid=mode-vae]').check();
  await page.locator('[data-testid=epochs]').fill('50');
  await page.locator('[data-testid=epochs]').dispatchEvent('change');
  await page.locator('[data-testid=train]').click();
  await waitFor(page, 'training', (s) => s.state === 'training' && s.metrics.length > 0);
  await page.locator('[data-testid=pause]').click();
  await waitFor(page, 'paused', (s) => s.state === 'paused');
  await checkView(page, 'paused');
  // The lab, with a traversal and an interpolation drawn, on a finished run.
  await page.locator('[data-testid=epochs]').fill('1');
  await page.locator('[data-testid=epochs]').dispatchEvent('change');
  const lowered = await waitFor(page, 'one epoch in force', (s) => s.config.numEpochs === 1);
  if (lowered.state === 'paused') await page.locator('[data-testid=resume]').click();
  await waitFor(page, 'the run done', (s) => s.state === 'done');
  await waitFor(page, 'the lab', (s) => s.lab.strip && !s.lab.busy);
  const strip = page.locator('[data-testid=lab-strip]');
  const box = await strip.boundingBox();
  const scale = box.width / (8 * 34 + 2);
  await strip.click({ position: { x: (2 + 16) * scale, y: (2 + 16) * scale } });
  await waitFor(page, 'a traversal', (s) => s.lab.traverseRows.length > 0 && !s.lab.busy);
  await strip.click({ position: { x: (2 + 34 + 16) * scale, y: (2 + 16) * scale } });
  await waitFor(page, 'an interpolation', (s) => s.lab.interpRows.length > 0 && !s.lab.busy);
  await checkView(page, 'lab');
  // The quick lesson, at its first decision: results against the exercise, runs compared.
  await page.locator('[data-testid=lesson-quick]').click();
  await waitFor(page, 'the lesson\'s first decision', (s) => s.lesson.state === 'decide' && s.results.length >= 3, 900_000);
  await checkView(page, 'lesson');
  await page.close();
});

test('what the page draws is said in words: grids name their run and epoch, each epoch is announced, charts have their numbers, sliders their values', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${CPU}&numEpochs=2&lossMode=vae&targetBeta=1.2`);
  await waitFor(page, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  // The latent slider's position is a log scale: what it says is the size.
  assert.equal(await page.locator('[data-testid=latent-size]').getAttribute('aria-valuetext'), 'latent size 16; the exercise uses 16, 128 and 1024');
  assert.equal(await page.locator('[data-testid=beta]').getAttribute('aria-valuetext'), 'β = 1.2; the exercise uses 0.8, 1 and 1.2');
  // Every picture has a name (the lab's strip is a picker, named as one).
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('canvas')]
    .filter((c) => !(c.getAttribute('aria-label') || '').trim() || (c.id !== 'lab-strip' && c.getAttribute('role') !== 'img')).map((c) => c.id));
  assert.deepEqual(unnamed, []);
  await page.locator('[data-testid=train]').click();
  const done = await waitFor(page, 'the run done', (s) => s.state === 'done' && s.testMetrics.length === 2);
  const [, second] = done.testMetrics;
  // The epoch just finished, as a screen reader hears it (a polite live region).
  const live = page.locator('[data-testid=epoch-live]');
  assert.equal(await live.getAttribute('aria-live'), 'polite');
  assert.equal(await live.textContent(), `Run #1, epoch 2 of 2: test recon ${second.recon.toFixed(1)}, KL ${second.kl < 10 ? second.kl.toFixed(3) : second.kl.toFixed(1)}.`);
  assert.match(await page.locator('[data-testid=recon-grid]').getAttribute('aria-label'),
    /^Reconstructions: test images, each followed by its reconstruction, of run #1 \(VAE · latent 16 · β 1\.2\), after epoch 2 of 2\.$/);
  assert.match(await page.locator('[data-testid=sample-grid]').getAttribute('aria-label'), /^Samples: .* of run #1 .*after epoch 2 of 2\.$/);
  // The charts' numbers: one row per epoch, the status's own numbers.
  const rows = await page.locator('[data-testid=curve-table] tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => [r[0], r[4]]), done.testMetrics.map((t) => [String(t.epoch + 1), t.recon.toFixed(1)]));
  assert.equal(await page.locator('[data-testid=latent-table] tbody tr').count(), 16, 'one row per latent dimension');
  assert.equal(await page.locator('[data-testid=rd-table] tbody tr').count(), 1, 'one row per VAE run');
  await page.close();
});

test('the keyboard alone reaches every control, picks test images in the lab, and moves the sliders', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${CPU}&numEpochs=1&lossMode=vae&autostart=1`);
  await waitFor(page, 'the run done and the lab drawn', (s) => s.state === 'done' && s.lab.strip && !s.lab.busy);
  // Tab from the top until focus comes round again: every control met on the way.
  const reached = new Set();
  const unringed = [];
  await page.evaluate(() => document.activeElement?.blur());
  for (let i = 0; i < 400; i++) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      // The focus ring: on the element, or on the label a hidden file input sits in.
      const ring = getComputedStyle(e.closest('label.button') || e);
      return { name: e.dataset.testid || e.id || e.outerHTML.slice(0, 60), ring: ring.outlineStyle !== 'none' && parseFloat(ring.outlineWidth) > 0 };
    });
    if (at === null || reached.has(at.name)) break;
    reached.add(at.name);
    if (!at.ring) unringed.push(at.name);
  }
  assert.deepEqual(unringed, [], 'controls the keyboard focuses with no visible ring');
  const controls = await page.evaluate(() => [...document.querySelectorAll('button, input, select, summary, a[href], [tabindex="0"], label.button')]
    .filter((e) => !e.disabled && e.getClientRects().length && !e.closest('[hidden], details:not([open]) > :not(summary)'))
    .filter((e) => !(e.matches('input[type=radio]') && !e.checked))
    .map((e) => (e.matches('label.button') ? e.querySelector('input') : e))
    .map((e) => e.dataset.testid || e.id || e.outerHTML.slice(0, 60)));
  assert.deepEqual(controls.filter((c) => !reached.has(c)), [], 'controls the Tab key never reaches');
  // The lab's strip: arrows move, Enter picks, as clicks do.
  await page.locator('[data-testid=lab-strip]').focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await waitFor(page, 'a traversal', (s) => s.lab.traverseRows.length > 0 && !s.lab.busy);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const both = await waitFor(page, 'an interpolation', (s) => s.lab.interpRows.length > 0 && !s.lab.busy);
  assert.deepEqual(both.lab.picks, [1, 9]);
  assert.match(await page.locator('[data-testid=lab-strip]').getAttribute('aria-label'), /On image #9, picked\.$/);
  // The sliders' keys (WAI-ARIA's slider pattern), read from what the controls say (the status names the
  // finished run's settings). The latent: a power of two an arrow, two a page, the ends on Home and End
  // (its own 1/1000 step snapped back to 16, 128 and 1024, so an arrow never moved it).
  const latent = page.locator('[data-testid=latent-size]');
  await latent.focus();
  for (const [key, want] of [['ArrowRight', 32], ['PageUp', 128], ['ArrowUp', 256], ['End', 1024], ['ArrowLeft', 512], ['PageDown', 128], ['Home', 16], ['ArrowLeft', 16], ['ArrowRight', 32]]) {
    await page.keyboard.press(key);
    await until(`latent ${want} after ${key}`, () => latent.getAttribute('aria-valuetext'), (t) => t.startsWith(`latent size ${want};`));
  }
  // β: the slider's own step, 0.05, and its ends.
  const beta = page.locator('[data-testid=beta]');
  await beta.focus();
  for (const [key, want] of [['ArrowRight', 1.05], ['End', 2], ['Home', 0], ['ArrowUp', 0.05]]) {
    await page.keyboard.press(key);
    await until(`β ${want} after ${key}`, () => beta.getAttribute('aria-valuetext'), (t) => t.startsWith(`β = ${want};`));
  }
  await page.close();
});

test('the pointer over a chart\'s point, or the arrow keys on a focused chart, show its exact value', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${CPU}&numEpochs=2&lossMode=vae&autostart=1`);
  const done = await waitFor(page, 'the run done', (s) => s.state === 'done' && s.testMetrics.length === 2);
  const chart = page.locator('[data-testid=loss-chart]');
  const point = await chart.evaluate((c) => {
    const p = c.hoverPoints.find((q) => q.text.startsWith('test recon, epoch 2'));
    return { x: (p.x * c.clientWidth) / c.width, y: (p.y * c.clientHeight) / c.height };
  });
  await chart.hover({ position: point });
  const tip = page.locator('[data-testid=loss-chart-tip]');
  await expectVisible(tip);
  assert.equal(await tip.textContent(), `test recon, epoch 2: ${done.testMetrics[1].recon.toFixed(1)}`);
  await page.mouse.move(0, 0);
  await tip.waitFor({ state: 'hidden' });
  // The keyboard: a focused chart steps through its points by epoch, and the tip (a live region) names each.
  await chart.focus();
  await page.keyboard.press('End');
  const says = (what, ok) => until(what, () => tip.textContent(), ok);
  // The points by epoch, as the arrows take them (the run is done: they no longer change).
  const texts = await chart.evaluate((c) => [...c.hoverPoints].sort((a, b) => a.x - b.x || a.y - b.y).map((p) => p.text));
  assert.ok(texts.length >= 2, JSON.stringify(texts));
  assert.equal(texts.at(-1), `test recon, epoch 2: ${done.testMetrics[1].recon.toFixed(1)}`);
  await says('the last point', (t) => t === texts.at(-1));
  assert.equal(await tip.getAttribute('aria-live'), 'polite');
  await page.keyboard.press('Home');
  await says('the first point', (t) => t === texts[0]);
  // Nothing before the first: a step back stays there, the next goes on.
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowRight');
  await says('the second point', (t) => t === texts[1]);
  await page.keyboard.press('Tab');
  await tip.waitFor({ state: 'hidden' });
  await page.close();
});

test('on a phone training is offered and said to be slow; on a desktop nothing is said', { skip: NO_MINI }, async () => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await page.goto(`${base}/www/index.html${CPU}`);
  await waitFor(page, 'the data', (s) => s.state === 'idle' && s.trainImages > 0);
  await expectVisible(page.locator('[data-testid=phone-note]'));
  assert.equal(await page.locator('[data-testid=train]').isEnabled(), true, 'training is allowed');
  await phone.close();
  const desk = await open(browser, CPU);
  await waitFor(desk, 'the data', (s) => s.state === 'idle' && s.trainImages > 0);
  assert.equal(await desk.locator('[data-testid=phone-note]').isHidden(), true);
  await desk.close();
});
