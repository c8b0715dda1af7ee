// The latent panel (issue 11): numbers from the core, drawn by www/js/latent.js.
// The page's claims, not WebGPU's: these train on the CPU backend, many times
// faster here than SwiftShader's emulated GPU (the wasm browser tests ask the
// lab's questions on WebGPU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OUT, HAVE_MINI, browser, open, waitFor, until, needs, expectDrawn, expectText, expectValue, expectVisible, expectHidden } from './harness.mjs';

const NO_MINI = needs(HAVE_MINI, 'no CIFAR-10 mini slice under the data root');

test('after one epoch of a VAE the latent panel shows bars and the active-unit count, the KL its own chart', { skip: NO_MINI }, async () => {
  const page = await open(browser, '?data=/data-mini/&backend=cpu&images=32&tests=32&batchSize=16&latentSize=16&numEpochs=1&lossMode=vae');
  const note = page.locator('[data-testid=latent-note]');
  // Before any run there are no latent statistics to show.
  await waitFor(page, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  assert.equal((await note.textContent()).trim(), '');
  await page.locator('[data-testid=train]').click();
  await waitFor(page, 'the end of the run', (s) => s.state === 'done');
  await expectText(note, /^\d+ of 16 units active \(variance of the mean over the test set > 0\.01\)$/);
  await expectDrawn(page, 'latent-chart', 2);
  // The KL has its own chart (on the recon's axis it was a flat line), and a
  // finished run reads its last epoch as whole.
  await expectVisible(page.locator('[data-testid=kl-chart]'));
  await expectDrawn(page, 'kl-chart', 20);
  await expectText(page.locator('[data-testid=step-text]'), /^32 \/ 32 images$/);
  await page.screenshot({ path: path.join(OUT, 'latent.png'), fullPage: true });
  await page.close();
});

test('posterior collapse: its preset keeps no unit active and the panel says why; free bits keep the units', { skip: NO_MINI }, async () => {
  // A thousand images in batches of 64: the first epoch's 16 steps, as tests/demos.rs trains (which checks the numbers natively).
  const page = await open(browser, '?data=/data-mini/&backend=cpu&images=1000&tests=100&batchSize=64&numEpochs=1');
  await waitFor(page, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  const note = page.locator('[data-testid=collapse-note]');
  await expectHidden(note);
  await page.locator('[data-testid=preset-collapse]').click();
  const started = await waitFor(page, 'the collapse run', (s) => s.state === 'training' || s.state === 'done');
  assert.deepEqual([started.config.lossMode, started.config.latentSize, started.config.targetBeta, started.config.freeBits], ['vae', 16, 100, 0]);
  await expectText(page.locator('[data-testid=demo-shows]'), /^At β 100 a nat of KL costs/);
  await waitFor(page, 'its epoch', (s) => s.state === 'done' && s.testMetrics.length === 1);
  await expectText(note, /^Posterior collapse: no unit is active\. .*test KL 0\.0\d\d nats over all 16 units.* At β 100 each nat of KL costs 100 of reconstruction error: telling the decoder nothing is cheapest\. .*Active units by epoch: 0\.$/);
  await expectText(page.locator('[data-testid=latent-note]'), /^0 of 16 units active/);
  // The same model with free bits: some units stay active (a partial collapse is said as such).
  await page.locator('[data-testid=preset-freebits]').click();
  await waitFor(page, 'the free-bits run', (s) => s.runs === 2 && s.state === 'done' && s.testMetrics.length === 1);
  const units = Number((await page.locator('[data-testid=latent-note]').textContent()).match(/^(\d+) of 16/)[1]);
  assert.ok(units > 0, 'free bits keep some units active');
  if (units < 16) await expectText(note, new RegExp(`^${16 - units} of 16 units are inactive: .*Active units by epoch: ${units}\\.$`));
  else await expectHidden(note);
  await page.screenshot({ path: path.join(OUT, 'collapse.png'), fullPage: true });
  await page.close();
});

test('the lab: clicking two test images draws a traversal and both interpolations; the posterior against the prior', { skip: NO_MINI }, async () => {
  // An AE run first, then a VAE of the same latent size: the VAE's
  // interpolation is drawn beside the AE's (its weights are kept).
  const query = '?data=/data-mini/&backend=cpu&images=32&tests=32&batchSize=16&latentSize=16&numEpochs=1';
  const page = await open(browser, `${query}&lossMode=ae&autostart=1`);
  await waitFor(page, 'the AE run', (s) => s.state === 'done');
  await page.locator('[data-testid=mode-vae]').check();
  await page.locator('[data-testid=train]').click();
  await waitFor(page, 'the VAE run', (s) => s.runs === 2 && s.state === 'done' && s.config.lossMode === 'vae');
  const drawn = await waitFor(page, 'the lab', (s) => s.lab.histograms === 4 && s.lab.strip && !s.lab.busy);
  assert.equal(drawn.lab.traverseRows.length, 0, 'no traversal before a pick');
  // The strip shows 8 images a row at twice their size: click images 1 and 10.
  const strip = page.locator('[data-testid=lab-strip]');
  const cell = async (i) => {
    const box = await strip.boundingBox();
    const scale = box.width / (8 * 34 + 2);
    return { x: (2 + (i % 8) * 34 + 16) * scale, y: (2 + Math.floor(i / 8) * 34 + 16) * scale };
  };
  await strip.click({ position: await cell(1) });
  await waitFor(page, 'a traversal', (s) => s.lab.traverseRows.length === 6 && !s.lab.busy);
  await strip.click({ position: await cell(10) });
  const s = await waitFor(page, 'an interpolation', (s) => s.lab.interpRows.length === 3 && !s.lab.busy);
  assert.deepEqual(s.lab.picks, [1, 10]);
  assert.match(s.lab.interpRows[0], /this run \(VAE\): test #1 → #10/);
  assert.match(s.lab.interpRows[1], /run #1 \(AE\)/);
  assert.match(s.lab.interpRows[2], /slerp/);
  assert.match(s.lab.traverseRows[5], /^least used: dim \d+/);
  assert.equal(s.lab.error, null);
  const size = await page.evaluate(() => { const c = document.querySelector('[data-testid=lab-interp]'); return [c.width, c.height]; });
  assert.deepEqual(size, [10 * 34 + 2, 3 * 36]);
  for (const id of ['lab-traverse', 'lab-interp', 'lab-hist', 'lab-prior', 'lab-fitted']) await expectDrawn(page, id, 20);
  await expectDrawn(page, 'rd-chart', 5);
  await page.locator('[data-testid=lab]').screenshot({ path: path.join(OUT, 'lab.png') });
  await page.locator('[data-testid=rd-chart]').screenshot({ path: path.join(OUT, 'rd-plane.png') });
  await page.close();
});

test('choosing the cyclical schedule mid-run draws its planned and actual β; bad schedule values are named; a capacity run reads C and γ, not β', { skip: NO_MINI }, async () => {
  const page = await open(browser, '?data=/data-mini/&backend=cpu&images=64&tests=16&batchSize=8&latentSize=16&numEpochs=400&lossMode=vae&autostart=1');
  await waitFor(page, 'the first steps', (s) => s.metrics.length >= 2);
  await expectHidden(page.locator('[data-testid=cyclical-params]'));
  await page.locator('[data-testid=schedule]').selectOption('cyclical');
  await expectVisible(page.locator('[data-testid=cyclical-params]'));
  const s = await waitFor(page, 'the cyclical plan', (s) => s.config.betaMode === 'cyclical' && s.plan);
  // The plan (the core's) rises from 0 and restarts: 4 cycles over the run (400
  // epochs: the run cannot end before the switch, however fast the device).
  const restarts = s.plan.beta.filter((b, i) => i && b < s.plan.beta[i - 1]).length;
  assert.equal(restarts, 3, JSON.stringify(s.plan.beta));
  assert.match(page.url(), /betaMode=cyclical/);
  // Steps after the switch follow it: beta takes values other than the target.
  const later = await waitFor(page, 'cyclical steps', (s) => new Set(s.metrics.slice(-20).map((m) => m.beta)).size >= 3, 300_000);
  assert.ok(later.metrics.some((m) => m.beta > 0 && m.beta < 1));
  await expectText(page.locator('[data-testid=beta-now-label]'), /^β now$/);
  await page.locator('[data-testid=kl-chart]').screenshot({ path: path.join(OUT, 'cyclical.png') });
  // R = 0 is refused with the table's words, and the run goes on.
  await page.locator('[data-testid=beta-ramp]').fill('0');
  await page.locator('[data-testid=beta-ramp]').dispatchEvent('change');
  await expectText(page.locator('[data-testid=config-note]'), /betaRampFraction=0 is out of range: use a number from above 0 to 1/);
  await page.locator('[data-testid=pause]').click();
  await page.close();

  // A capacity run from the URL shows its parameters; C is drawn on the KL chart.
  const cap = await open(browser, '?data=/data-mini/&backend=cpu&images=32&tests=16&batchSize=16&latentSize=16&numEpochs=1&lossMode=vae&betaMode=capacity&capacityMax=10&autostart=1');
  await expectVisible(cap.locator('[data-testid=capacity-params]'));
  await expectValue(cap.locator('[data-testid=capacity-max]'), '10');
  const done = await waitFor(cap, 'the capacity run', (s) => s.state === 'done');
  assert.ok(done.metrics.every((m, i) => m.capacity >= 0 && m.capacity < 10 && (!i || m.capacity > done.metrics[i - 1].capacity)));
  assert.equal(done.plan.capacity[done.plan.capacity.length - 1], 10);
  // The progress line names what moves under this objective, C (with its γ, the
  // control's value), not a β: the last step's own numbers.
  const last = done.metrics[done.metrics.length - 1];
  const gamma = Number(await cap.locator('[data-testid=capacity-gamma]').inputValue());
  assert.equal(last.beta, gamma, 'a capacity step reports γ as its KL weight');
  await expectText(cap.locator('[data-testid=beta-now-label]'), /^C now$/);
  const now = `${last.capacity.toFixed(2)} nats, γ ${gamma}`;
  await until(`C now reading ${now}`, () => cap.locator('[data-testid=beta-now]').textContent(), (t) => t === now);
  await cap.close();
});

test('what the loss means: the lab measures the ELBO and the importance-weighted bound from the core; an AE bounds nothing, and its decoder fed the prior\'s noise is no sample', { skip: NO_MINI }, async () => {
  const page = await open(browser, '?data=/data-mini/&backend=cpu&images=32&tests=100&batchSize=16&latentSize=16&numEpochs=1&lossMode=vae&autostart=1');
  const done = await waitFor(page, 'the run', (s) => s.state === 'done' && s.testMetrics.length === 1);
  await page.locator('[data-testid=bound-measure]').click();
  const { bound } = (await waitFor(page, 'the bound', (s) => s.lab.bound.result !== null || s.lab.bound.error !== null)).lab;
  assert.equal(bound.error, null);
  const r = bound.result;
  assert.deepEqual([r.k, r.images], [64, 100]);
  // The constant of the Gaussian decoder N(x̂, ½ I): (3072 / 2) ln π.
  assert.ok(Math.abs(r.constantNats - 1536 * Math.log(Math.PI)) < 1e-6, `${r.constantNats}`);
  // The k-sample bound is never looser than the ELBO from the same samples.
  assert.ok(r.iwaeNats <= r.elboNats && Math.abs(r.gapNats - (r.elboNats - r.iwaeNats)) < 1e-9);
  // The ELBO is the test loss plus the constant, to the Monte Carlo error of
  // one sample per image against 64 (a few nats at most here).
  const [test] = done.testMetrics;
  const elbo = test.recon + test.kl + r.constantNats;
  assert.ok(Math.abs(r.elboNats - elbo) < 0.01 * elbo, `-ELBO ${r.elboNats} against test loss + constant ${elbo}`);
  assert.ok(Math.abs(r.elboBitsPerDim - r.elboNats / (3072 * Math.log(2))) < 1e-9);
  const rows = await page.locator('[data-testid=bound-table] tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows.map((c) => c[1]), [r.elboNats.toFixed(1), r.iwaeNats.toFixed(1), r.gapNats.toFixed(2)]);
  assert.match(await page.locator('[data-testid=bound-note]').textContent(), /^Run #1 after 1 epoch, on the first 100 test images, 64 samples/);
  // An AE: the core says why there is no bound.
  await page.locator('[data-testid=mode-ae]').check();
  await page.locator('[data-testid=train]').click();
  await waitFor(page, 'the AE run', (s) => s.runs === 2 && s.state === 'done');
  // Its decoder fed the VAE's noise: drawn, and said to be no samples.
  await expectDrawn(page, 'sample-grid', 20);
  await expectVisible(page.locator('[data-testid=sample-note]'));
  assert.match(await page.locator('[data-testid=sample-grid]').getAttribute('aria-label'), /^An AE's decoder fed fixed noise z ~ N\(0, I\), .*not samples of anything, of run #2/);
  await page.locator('[data-testid=bound-measure]').click();
  const ae = (await waitFor(page, 'the AE\'s answer', (s) => s.lab.bound.error !== null)).lab.bound;
  assert.match(ae.error, /an AE has no posterior q\(z\|x\) and no prior: it bounds no likelihood/);
  await expectText(page.locator('[data-testid=bound-note]'), /an AE has no posterior/);
  await page.close();
});
