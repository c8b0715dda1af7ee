// End-to-end tests of the page in Debian's headless Chromium on its WebGPU
// adapter (SwiftShader: real WebGPU, emulated on the CPU, hence tiny runs).
// Serves the repository on a loopback port; data comes from $VAELAB_DATA's mini slice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OUT, HAVE_MINI, browser, noGpuBrowser, open, status, waitFor, needs, settle, expectDrawn, expectText, expectValue, expectVisible, watchLongTasks } from './harness.mjs';

// Under CI these run (and fail on the missing data) instead of skipping.
const NO_MINI = needs(HAVE_MINI, 'no CIFAR-10 mini slice under the data root');

// Two steps an epoch: on SwiftShader a step at batch 16 takes 12 to 25 s here, the first (which
// compiles the kernels) no longer than the rest, so a WebGPU page test's time is its steps.
const TINY = '?data=/data-mini/&images=32&tests=32&batchSize=16&latentSize=16&numEpochs=3';

test('a run from a URL trains on WebGPU, the loss falls and the grids are drawn', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${TINY}&autostart=1`);
  const first = await waitFor(page, 'training', (s) => s.metrics.length > 0);
  assert.match(first.adapter, /\S/);
  assert.notEqual(first.adapter, 'no WebGPU');
  assert.equal(first.backend, 'webgpu');
  assert.equal(first.engine, 'worker', 'the engine must run in a Web Worker');
  const longTasks = await watchLongTasks(page);
  assert.equal(first.config.latentSize, 16);
  assert.equal(first.config.lossMode, 'ae');
  const done = await waitFor(page, 'the end of the run', (s) => s.state === 'done');
  const lt = await longTasks();
  console.log(`webgpu: main-thread long tasks while training: ${lt.count}, longest ${lt.max.toFixed(0)} ms`);
  await page.screenshot({ path: path.join(OUT, 'run-done.png') });
  assert.equal(done.testMetrics.length, 3);
  assert.equal(done.metrics.length, 6);
  // The AE's test loss is deterministic: it must fall from epoch to epoch.
  const [t0, , t2] = done.testMetrics.map((m) => m.recon);
  assert.ok(t2 < t0, `test recon ${t0} -> ${t2} did not fall`);
  for (const id of ['recon-grid', 'loss-chart']) await expectDrawn(page, id, 50);
  await expectText(page.locator('[data-testid=epoch-text]'), /3 \/ 3/);
  // The URL keeps the settings, so the link reproduces the setup.
  assert.match(page.url(), /latentSize=16/);
  assert.match(page.url(), /batchSize=16/);
  await page.close();
});

// The page's claims, not WebGPU's: on the CPU backend, where its three runs (AE, VAE, AE-128)
// take seconds; on SwiftShader each compiled its kernels first (BENCHMARKS.md, "CI, cold").
test('pause stops the steps, resume continues, and a preset starts a new run', { skip: NO_MINI }, async () => {
  // Epochs enough that no run ends before the test is done with it.
  const page = await open(browser, '?data=/data-mini/&backend=cpu&images=32&tests=16&batchSize=8&latentSize=16&numEpochs=5000');
  await waitFor(page, 'data', (s) => s.trainImages === 32 && s.testImages === 16);
  // The other batch files are still being asked for (the mini slice has none): wait until that ends.
  await waitFor(page, 'the end of data loading', (s) => s.state === 'idle', 60_000);
  await page.click('[data-testid=train]');
  await waitFor(page, 'first steps', (s) => s.metrics.length >= 2);
  await page.click('[data-testid=pause]');
  const paused = await waitFor(page, 'pause', (s) => s.state === 'paused');
  await settle(page);
  assert.equal((await status(page)).metrics.length, paused.metrics.length, 'steps continued while paused');
  await page.click('[data-testid=resume]');
  await waitFor(page, 'more steps', (s) => s.state === 'training' && s.metrics.length > paused.metrics.length);
  // Changing beta mid-run applies without a new run.
  await page.click('[data-testid=mode-vae]'); // architecture change: a new run
  const vae = await waitFor(page, 'the VAE run', (s) => s.runs === 2 && s.config.lossMode === 'vae' && s.metrics.length >= 1);
  assert.equal(vae.config.latentSize, 16);
  assert.equal(vae.backend, 'cpu', 'a new run keeps the backend');
  await page.locator('[data-testid=beta]').fill('0.5');
  await waitFor(page, 'beta 0.5 in the steps', (s) => s.metrics.length && s.metrics[s.metrics.length - 1].beta === 0.5);
  assert.equal((await status(page)).runs, 2, 'a beta change must not start a new run');
  await expectDrawn(page, 'sample-grid', 50, 300_000);
  await page.click('[data-testid=preset-ae128]');
  const ae = await waitFor(page, 'the preset run', (s) => s.runs === 3 && s.config.lossMode === 'ae' && s.config.latentSize === 128 && s.metrics.length >= 1);
  assert.equal(ae.config.batchSize, 8, 'a preset keeps the training settings');
  await page.click('[data-testid=pause]');
  await waitFor(page, 'pause', (s) => s.state === 'paused');
  await page.click('[data-testid=compare-1]');
  await page.click('[data-testid=compare-3]');
  await expectVisible(page.locator('[data-testid=compare]'));
  await expectDrawn(page, 'compare-chart', 50);
  await page.screenshot({ path: path.join(OUT, 'compare.png'), fullPage: true });
  await page.close();
});

test('a malformed data file gets a message naming it, and the page keeps working', { skip: NO_MINI }, async () => {
  const page = await open(browser, '?data=/data-bad/');
  const s = await waitFor(page, 'the data error', (x) => x.dataErrors.length > 0 && x.testImages === 500);
  assert.match(s.dataErrors[0], /data_batch_1\.bin/);
  assert.match(s.dataErrors[0], /3073/);
  assert.equal(s.testImages, 500, 'the good file is still loaded');
  // A dropped/chosen bad file is refused too, by name.
  await page.setInputFiles('[data-testid=file-input]', { name: 'data_batch_2.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(3073 * 2, 11) });
  const s2 = await waitFor(page, 'the second data error', (x) => x.dataErrors.length > 1);
  assert.match(s2.dataErrors[1], /data_batch_2\.bin.*label 11/);
  await expectText(page.locator('[data-testid=data-text]'), /data_batch_2\.bin/);
  // Training without training images is refused with a message instead of a hang.
  await page.click('[data-testid=train]');
  await expectText(page.locator('[data-testid=banner]'), /Training needs CIFAR-10[^]*data_batch_1\.bin/);
  await page.screenshot({ path: path.join(OUT, 'bad-data.png') });
  await page.close();
});

test('page options that would hang or empty the page are named and left at their defaults', async () => {
  const page = await open(browser, '?data=http://&images=1e999&tests=0&backend=cpu');
  const banner = page.locator('[data-testid=banner]', { hasText: 'images=1e999' });
  await banner.waitFor({ timeout: 60_000 });
  const text = await banner.textContent();
  for (const part of ['data=http://: not an address', 'images=1e999: use a whole number from 1 to 50000', 'tests=0: use a whole number from 1 to 50000']) {
    assert.ok(text.includes(part), `banner lacks "${part}": ${text}`);
  }
  // The default data folder is looked in, and the page says what it found: no endless "loading".
  await waitFor(page, 'the data looked for', (s) => s.state !== 'loading' && !s.dataLoading && s.dataDone > 0);
  await page.close();
});

test('out-of-range settings, from the URL or typed in, are named with their range and not applied', async () => {
  const page = await open(browser, '?data=/nowhere/&numEpochs=-5&batchSize=1e9&targetBeta=-1&betaMode=cubic&lr=abc&preset=vae08&classMinutes=0');
  const banner = page.locator('[data-testid=banner]', { hasText: 'numEpochs=-5' });
  await banner.waitFor({ timeout: 60_000 });
  const text = await banner.textContent();
  for (const part of ['numEpochs=-5 is out of range: use a whole number from 1 to 10000', 'batchSize=1e9 is out of range',
    'targetBeta=-1 is out of range: use a number from 0 to 100', 'betaMode=cubic is not one of constant, linear', 'lr=abc is not a number',
    'classMinutes=0: use a number of minutes above 0']) {
    assert.ok(text.includes(part), `banner lacks "${part}": ${text}`);
  }
  // Defaults (and the preset's beta) stand in for the refused values, in the form and in the link.
  await expectValue(page.locator('[data-testid=epochs]'), '20');
  await expectValue(page.locator('[data-testid=batch-size]'), '256');
  await expectText(page.locator('[data-testid=beta-value]'), /^0\.80$/);
  await expectValue(page.locator('[data-testid=schedule]'), 'constant');
  assert.ok(!page.url().includes('numEpochs'), page.url());
  // The inputs carry the table's limits; a typed value beyond them is undone and named.
  assert.equal(await page.locator('[data-testid=epochs]').getAttribute('max'), '10000');
  assert.equal(await page.locator('[data-testid=batch-size]').getAttribute('max'), '4096');
  // The sliders mark the exercise's values (exercise.json), the latent's on its log scale.
  await expectText(page.locator('#latent-help'), /^Log scale, 16 to 1024; it snaps to the exercise's 16, 128 and 1024\.$/);
  assert.deepEqual(await page.locator('#latent-marks option').evaluateAll((os) => os.map((o) => [o.value, o.label])), [['0', '16'], ['500', '128'], ['1000', '1024']]);
  assert.deepEqual(await page.locator('#beta-marks option').evaluateAll((os) => os.map((o) => o.value)), ['0.8', '1', '1.2']);
  await page.locator('[data-testid=epochs]').fill('0');
  await page.locator('[data-testid=epochs]').dispatchEvent('change');
  await expectText(page.locator('[data-testid=config-note]'), /numEpochs=0 is out of range/);
  await expectValue(page.locator('[data-testid=epochs]'), '20');
  await page.screenshot({ path: path.join(OUT, 'bounds.png'), fullPage: true });
  await page.close();
});

test('missing data is said plainly', async () => {
  const page = await open(browser, '?data=/nowhere/');
  await waitFor(page, 'idle', (s) => s.state === 'idle');
  await expectText(page.locator('[data-testid=data-text]'), /not found[^]*cifar-10-binary\.tar\.gz/);
  await page.close();
});

test('without WebGPU the page says which browsers work and offers the CPU', { skip: NO_MINI }, async () => {
  const page = await open(noGpuBrowser, `${TINY}&images=8&batchSize=4&numEpochs=1&autostart=1`);
  const s = await waitFor(page, 'the no-WebGPU error', (x) => x.state === 'error');
  assert.equal(s.adapter, 'no WebGPU');
  await expectText(page.locator('[data-testid=banner]'), /WebGPU[^]*Chrome/);
  await page.screenshot({ path: path.join(OUT, 'no-webgpu.png') });
  await page.click('[data-testid=use-cpu]');
  const cpu = await waitFor(page, 'CPU training', (x) => x.backend === 'cpu' && x.metrics.length >= 1);
  assert.ok(Number.isFinite(cpu.metrics[0].recon));
  await page.close();
});
