// The engine in its Web Worker, seen from the page: the page stays usable
// while it trains, saved models open as paused runs (from a
// file or a URL), a run whose epochs are lowered ends, a lost GPU device
// is recovered from the last epoch's snapshot, and a restarted run goes on
// exactly as if the engine had never stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { OUT, HAVE_MINI, HAVE_FIXTURES, FIXTURES, base, browser, open, status, waitFor, needs, settle, expectDrawn, expectText, watchLongTasks } from './harness.mjs';

const NO_MINI = needs(HAVE_MINI, 'no CIFAR-10 mini slice under the data root');
const NO_FIXTURES = needs(HAVE_MINI && HAVE_FIXTURES, 'no mini slice or no PyTorch fixtures beside the checkout');
const TINY = '?data=/data-mini/&images=32&tests=32&batchSize=16&latentSize=16';
// Opening models and lowering the epochs are the page's claims, not WebGPU's:
// those tests train on the CPU backend, many times faster here than
// SwiftShader's emulated GPU (the wasm browser tests load models on WebGPU).
const CPU = `${TINY}&backend=cpu`;

/** Type a number into a field and commit it, as leaving the field does. */
async function setNumber(page, testid, value) {
  const field = page.locator(`[data-testid=${testid}]`);
  await field.fill(String(value));
  await field.dispatchEvent('change');
}

// The page's claim, not WebGPU's: on the CPU backend. That WebGPU's engine runs
// in the worker too, with the main thread's long tasks logged, is page.test.mjs's
// run from a URL; a WebGPU run restarted in a new worker is the lost-device test
// below. On SwiftShader each WebGPU step takes 12 to 25 s here (BENCHMARKS.md,
// "WebGPU tests sized by their steps").
test('training runs in a worker; Pause and the settings respond while it trains', { skip: NO_MINI }, async () => {
  // Epochs enough that the run does not end before the test is done with it.
  const page = await open(browser, `${CPU}&numEpochs=5000&autostart=1`);
  const first = await waitFor(page, 'training', (s) => s.metrics.length > 0);
  assert.equal(first.engine, 'worker', 'the engine must run in a Web Worker');
  assert.equal(first.backend, 'cpu');
  const longTasks = await watchLongTasks(page);
  const before = (await status(page)).metrics.length;
  await waitFor(page, 'more steps', (s) => s.metrics.length >= before + 2, 300_000);
  // A setting applies between training calls, without a new run.
  await setNumber(page, 'epochs', 4000);
  await waitFor(page, 'epochs 4000 in force', (s) => s.config.numEpochs === 4000, 300_000);
  await page.click('[data-testid=pause]');
  // Pause lands after the call in flight (and an epoch's test pass and grids, when it ended one):
  // the bound is generous for a loaded machine; the condition decides.
  const paused = await waitFor(page, 'pause', (s) => s.state === 'paused', 300_000);
  await settle(page);
  assert.equal((await status(page)).metrics.length, paused.metrics.length, 'steps continued while paused');
  assert.equal(paused.runs, 1);
  const lt = await longTasks();
  console.log(`cpu: main-thread long tasks while training: ${lt.count}, longest ${lt.max.toFixed(0)} ms`);
  await page.close();
});

test('one engine per package: pkg/ holds WebGPU\'s, pkg-cpu/ the CPU\'s, and neither the other', async () => {
  // A browser downloads and compiles only the package of the engine it trains on (worker-wasm.js).
  // The pages' tests train on each; this asks each package for the engine it should not hold.
  const page = await browser.newPage();
  await page.goto(`${base}/www/style.css`);
  const ask = (pkg, backend) => page.evaluate(async ([pkg, backend]) => {
    const m = await import(`/${pkg}/vaelab.js`);
    await m.default();
    return m.WebDataset.open(backend).then((d) => { d.free(); return 'opened'; }, (e) => String(e.message || e));
  }, [pkg, backend]);
  assert.equal(await ask('pkg-cpu', 'cpu'), 'opened');
  assert.match(await ask('pkg-cpu', 'webgpu'), /this package holds no 'webgpu' engine/);
  assert.match(await ask('pkg', 'cpu'), /this package holds no 'cpu' engine/);
  await page.close();
});

test('the engine handles commands in the order they were sent: a pause sent with a start holds the new run before its first step', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${CPU}&numEpochs=50`);
  await waitFor(page, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  // Both commands leave the page in one task, as a script (or a hurried click) sends them.
  await page.evaluate(async () => {
    const { startRun } = await import('/www/js/settings-flow.js');
    const { app } = await import('/www/js/app.js');
    startRun();
    app.engine.pause();
  });
  // The run either holds (the pause came after its start) or trains on (the pause was lost).
  const first = await waitFor(page, 'the run held or training', (s) => s.state === 'paused' || s.metrics.length > 0);
  await settle(page);
  const held = await status(page);
  assert.equal(first.state, 'paused', 'the pause sent after the start holds the run');
  assert.equal(held.state, 'paused');
  assert.equal(held.metrics.length, 0, 'no step taken after the pause');
  await page.close();
});

test('Load model: our own file and the PyTorch fixture open paused, evaluated and drawn; Resume trains on', { skip: NO_FIXTURES }, async () => {
  const page = await open(browser, `${CPU}&numEpochs=1&autostart=1`);
  await waitFor(page, 'the run', (s) => s.state === 'done');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-model]')]);
  const own = path.join(OUT, 'own-model.safetensors');
  await download.saveAs(own);
  for (const file of [own, path.join(FIXTURES, 'vae16_init.safetensors')]) {
    const runsBefore = (await status(page)).runs;
    await page.setInputFiles('[data-testid=load-model]', file);
    // Our file was trained for all of its one epoch: it opens done (the test below trains one on).
    const held = file === own ? 'done' : 'paused';
    const s = await waitFor(page, `${path.basename(file)} opened`, (x) => x.runs === runsBefore + 1 && x.state === held && x.opened && x.opened.test, 120_000);
    assert.equal(s.metrics.length, 0, 'no step before Resume');
    assert.ok(Number.isFinite(s.opened.test.recon));
    assert.equal(s.config.latentSize, 16);
    assert.equal(s.config.lossMode, file === own ? 'ae' : 'vae');
    await expectDrawn(page, 'recon-grid', 50);
    if (s.config.lossMode === 'vae') {
      await expectDrawn(page, 'sample-grid', 50);
      assert.ok(s.opened.test.kl > 0, 'a VAE reports its KL');
    }
    await expectText(page.locator('[data-testid=opened-note]'), new RegExp(`^${path.basename(file).replace('.', '\\.')}: test recon`));
    await settle(page);
    assert.equal((await status(page)).metrics.length, 0, 'still no step while paused');
  }
  await page.screenshot({ path: path.join(OUT, 'model-opened.png') });
  await page.click('[data-testid=resume]');
  await waitFor(page, 'training after Resume', (s) => s.metrics.length >= 1);
  // A file that is not a model is refused by name, and the page keeps working.
  const junk = path.join(OUT, 'junk.safetensors');
  fs.writeFileSync(junk, 'not a model');
  await page.setInputFiles('[data-testid=load-model]', junk);
  await expectText(page.locator('[data-testid=banner]'), /junk\.safetensors/);
  assert.equal((await status(page)).config.lossMode, 'vae', 'the current run is untouched');
  // A file bigger than the largest model the settings allow is refused unread (a sparse file here).
  const huge = path.join(OUT, 'huge.safetensors');
  fs.closeSync(fs.openSync(huge, 'w'));
  fs.truncateSync(huge, 256e6 + 1);
  await page.setInputFiles('[data-testid=load-model]', huge);
  await expectText(page.locator('[data-testid=banner]'), /huge\.safetensors is not a model this page can load:[^]*more than the largest model it trains/);
  fs.rmSync(huge);
  // A truncated download of a real checkpoint says so.
  const cut = path.join(OUT, 'cut.safetensors');
  fs.writeFileSync(cut, fs.readFileSync(path.join(FIXTURES, 'ae16_init.safetensors')).subarray(0, 100_000));
  await page.setInputFiles('[data-testid=load-model]', cut);
  await expectText(page.locator('[data-testid=banner]'), /cut\.safetensors[^]*truncated/);
  assert.equal((await status(page)).config.lossMode, 'vae', 'the current run is still untouched');
  // A file whose architecture reads right but one tensor is missing fails
  // only when its weights load: the current run still trains, as it was,
  // and downloads.
  await setNumber(page, 'epochs', 5000);
  const runs = (await status(page)).runs;
  await page.click('[data-testid=train]');
  await waitFor(page, 'a run with epochs to go', (x) => x.runs === runs + 1 && x.state === 'training' && x.metrics.length > 0);
  const header = fs.readFileSync(path.join(FIXTURES, 'vae16_init.safetensors'));
  const at = header.indexOf('decoder.deconvs.7.bias');
  assert.ok(at > 0 && at < 8 + Number(header.readBigUInt64LE(0)), 'the name is in the header');
  header.write('decoder.deconvs.7.biaz', at);
  const noBias = path.join(OUT, 'no-bias.safetensors');
  fs.writeFileSync(noBias, header);
  const before = await status(page);
  await page.setInputFiles('[data-testid=load-model]', noBias);
  await expectText(page.locator('[data-testid=banner]'), /no-bias\.safetensors[^]*decoder\.deconvs\.7\.bias/);
  const after = await waitFor(page, 'training on after the refused file', (x) => x.metrics.length > before.metrics.length + 1);
  assert.equal(after.runs, before.runs, 'no run added');
  assert.equal(after.state, 'training');
  assert.equal(after.error, null);
  const [saved] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-model]')]);
  assert.ok(fs.statSync(await saved.path()).size > 1e6, 'the current run downloads');
  await page.close();
});

test('an opened model goes on from the epoch its file reached; a finished one trains on once Epochs is raised', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${CPU}&numEpochs=1&autostart=1`);
  const trained = await waitFor(page, 'one epoch', (s) => s.state === 'done' && s.testMetrics.length === 1);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-model]')]);
  const file = path.join(OUT, 'one-epoch.safetensors');
  await download.saveAs(file);
  await page.setInputFiles('[data-testid=load-model]', file);
  const opened = await waitFor(page, 'the file opened', (s) => s.runs === 2 && s.opened && s.opened.test && s.state === 'done');
  assert.equal(opened.epoch, 1, 'the file says it was trained for one epoch');
  await expectText(page.locator('[data-testid=banner]'), /trained for 1 epoch\. That is all of the 1 the Epochs setting asks: raise Epochs/);
  await setNumber(page, 'epochs', 3);
  await waitFor(page, 'held paused with epochs to go', (s) => s.state === 'paused' && s.config.numEpochs === 3);
  await page.click('[data-testid=resume]');
  const done = await waitFor(page, 'two more epochs', (s) => s.state === 'done' && s.testMetrics.length === 2);
  assert.deepEqual(done.testMetrics.map((t) => t.epoch), [1, 2], 'its schedule goes on from epoch 2, not from epoch 1');
  assert.equal(done.metrics[0].step, trained.metrics.length + 1, 'the steps are numbered on');
  assert.equal(done.epoch, 3);
  await page.close();
});

test('a reload keeps the runs: curves, results and grids come back, the current run held paused at its snapshot; Resume goes on; "Start afresh" forgets them', { skip: NO_MINI }, async () => {
  // Its own browser context (open()): a reload keeps its storage.
  const page = await open(browser, `${CPU}&lossMode=vae&numEpochs=1&autostart=1`);
  await waitFor(page, 'the first run', (s) => s.state === 'done');
  await setNumber(page, 'epochs', 5000);
  await page.click('[data-testid=train]');
  await waitFor(page, 'two epochs of the second', (s) => s.runs === 2 && s.testMetrics.length >= 2);
  await page.click('[data-testid=pause]');
  const before = await waitFor(page, 'paused, and kept', (s) => s.state === 'paused' && !s.kept.pending);
  assert.equal(before.kept.problem, null);
  await page.screenshot({ path: path.join(OUT, 'before-reload.png') });
  await page.reload();
  const after = await waitFor(page, 'the runs back', (s) => s.runs === 2 && s.state === 'paused' && !s.kept.pending);
  const done = before.testMetrics.length;
  assert.deepEqual(after.testMetrics, before.testMetrics, 'the test results of every finished epoch');
  assert.deepEqual(after.metrics, before.metrics.filter((m) => m.epoch < done), 'the steps up to the snapshot');
  assert.deepEqual(after.config, before.config);
  assert.equal(after.epoch, done);
  await expectText(page.locator('[data-testid=banner]'), new RegExp(`^Kept from your last visit: 2 runs\\. Run #2 is held paused after epoch ${done}: press Resume to go on\\.`));
  await expectDrawn(page, 'recon-grid', 50);
  await expectDrawn(page, 'sample-grid', 50);
  await page.screenshot({ path: path.join(OUT, 'after-reload.png') });
  await page.click('[data-testid=resume]');
  const on = await waitFor(page, 'training on', (s) => s.metrics.length > after.metrics.length + 1);
  const next = on.metrics[after.metrics.length];
  assert.equal(next.epoch, done, 'the next epoch, not the first');
  assert.equal(next.step, after.metrics[after.metrics.length - 1].step + 1, 'the steps are numbered on');
  await page.click('[data-testid=pause]');
  await waitFor(page, 'paused', (s) => s.state === 'paused');
  // The kept runs are forgotten and the page opens afresh.
  await Promise.all([page.waitForEvent('load'), page.click('[data-testid=forget-runs]')]);
  await waitFor(page, 'a page with no runs', (s) => s.state === 'idle' && s.trainImages > 0 && s.runs === 0 && !s.kept.pending);
  await page.reload();
  const empty = await waitFor(page, 'still none after a reload', (s) => s.state === 'idle' && s.trainImages > 0 && !s.kept.pending);
  assert.equal(empty.runs, 0);
  await page.close();
});

test('a run too big for the engine\'s memory is refused with the numbers before it starts; a smaller batch then trains', { skip: NO_MINI }, async () => {
  // VAE-1024 at batch 4096 needs ≈ 6.6 GB; the CPU engine has wasm32's 4 GiB (it aborted there before).
  // No ?images= cap: the files loaded so far (1,000 images) do not bound the batch, as more may join.
  const page = await open(browser, `?data=/data-mini/&backend=cpu&lossMode=vae&latentSize=1024&batchSize=4096&autostart=1`);
  await expectText(page.locator('[data-testid=banner]'), /^The run could not start: A VAE with batch size 4096 and latent size 1024 needs ≈ 6\.6 GB of memory; the CPU engine in this browser \(4\.3 GB of wasm memory, less 0\.[0-9] GB of images and the engine\) allows ≈ [34]\.[0-9] GB\. Use a batch size of 2[0-9]{3} or less/);
  const refused = await waitFor(page, 'the page after the refusal', (s) => s.state === 'idle');
  assert.equal(refused.engine, 'worker', 'the engine lives on');
  assert.equal(refused.metrics.length, 0);
  await setNumber(page, 'batch-size', 16);
  await page.click('[data-testid=train]');
  const trains = await waitFor(page, 'the smaller run', (s) => s.config.batchSize === 16 && s.metrics.length > 0);
  assert.equal(trains.error, null);
  await page.close();
  // With ?images=32 a step takes at most 32 images, whatever the batch size: it fits, and trains.
  const capped = await open(browser, `?data=/data-mini/&images=32&tests=32&backend=cpu&lossMode=vae&latentSize=1024&batchSize=4096&autostart=1`);
  await waitFor(capped, 'the capped run', (s) => s.state === 'training' && s.metrics.length > 0);
  await capped.close();
});

test('?model=<url> opens a hosted checkpoint as a paused run', { skip: NO_FIXTURES }, async () => {
  const page = await open(browser, `${CPU}&model=/fixtures/ae16_init.safetensors`);
  const s = await waitFor(page, 'the model opened', (x) => x.state === 'paused' && x.opened && x.opened.test, 180_000);
  assert.equal(s.metrics.length, 0);
  assert.equal(s.config.lossMode, 'ae');
  await expectDrawn(page, 'recon-grid', 50);
  await page.click('[data-testid=resume]');
  await waitFor(page, 'training after Resume', (x) => x.metrics.length >= 1);
  await page.close();
});

test('lowering the epochs below the current epoch ends the run after the epoch in flight', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${CPU}&numEpochs=30&autostart=1`);
  await waitFor(page, 'two epochs', (s) => s.testMetrics.length >= 2);
  await setNumber(page, 'epochs', 1);
  const done = await waitFor(page, 'the end of the run', (s) => s.state === 'done', 120_000);
  // However fast the device, the run ends with the epoch that was in flight when
  // the change arrived: the epochs in force are the ones it trained, at least
  // the two seen before the change, and the page says which epoch it was.
  assert.ok(done.config.numEpochs >= 2, `${done.config.numEpochs} epochs in force`);
  assert.equal(done.testMetrics.length, done.config.numEpochs);
  await expectText(page.locator('[data-testid=banner]'), new RegExp(`already in epoch ${done.config.numEpochs}: it ends after that epoch`));
  assert.equal(done.error, null);
  await page.close();
});

test('a lost GPU device is reported and the run restarts from its last snapshot', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${TINY}&numEpochs=50&autostart=1`);
  const snap = await waitFor(page, 'a snapshot', (s) => s.testMetrics.length >= 1 && s.heldSnapshots === 1);
  await page.evaluate(() => window.vaelab.loseDevice());
  const lost = await waitFor(page, 'the device loss', (s) => s.state === 'error');
  assert.match(lost.error, /GPU device was lost/);
  await expectText(page.locator('[data-testid=banner]'), /lost/);
  await page.screenshot({ path: path.join(OUT, 'device-lost.png') });
  const epochs = lost.testMetrics.length;
  assert.ok(epochs >= snap.testMetrics.length);
  await page.click('[data-testid=restart-engine]');
  const again = await waitFor(page, 'training after the restart', (s) => s.state === 'training' && s.metrics.some((m) => m.epoch >= epochs));
  assert.equal(again.runs, 1, 'the same run continues');
  // Numbered on from the snapshot's step count, not from 1 again.
  assert.ok(again.metrics.every((m, i) => i === 0 || m.step === again.metrics[i - 1].step + 1), JSON.stringify(again.metrics.map((m) => m.step)));
  assert.ok(again.testMetrics.length >= Math.min(epochs, 1), 'earlier epochs are kept');
  assert.equal(again.engine, 'worker');
  await page.close();
});

/** Relative closeness of two float32 losses of the same computation (the parity tests' 1e-4). */
const close = (a, b) => Math.abs(a - b) <= 1e-4 * Math.max(Math.abs(a), Math.abs(b), 1);

test('a run restarted after a crash takes the steps the uninterrupted run takes, and keeps a β changed since the snapshot and its pause', { skip: NO_MINI }, async () => {
  // On the CPU backend: the engine's claim, not WebGPU's (the lost-device test above restarts on WebGPU).
  const url = `${CPU}&lossMode=vae&numEpochs=8&autostart=1`;
  const whole = await open(browser, url);
  const uninterrupted = await waitFor(whole, 'the uninterrupted run', (s) => s.state === 'done', 300_000);
  await whole.close();

  const page = await open(browser, url);
  await waitFor(page, 'a step after the first snapshot', (s) => s.heldSnapshots === 1 && s.metrics.some((m) => m.epoch >= 1));
  await page.evaluate(() => window.vaelab.crashEngine());
  const crashed = await waitFor(page, 'the crash', (s) => s.state === 'error');
  assert.ok(crashed.testMetrics.length < 8, 'the crash came before the run ended');
  await page.click('[data-testid=restart-engine]');
  const again = await waitFor(page, 'the restarted run', (s) => s.state === 'done', 300_000);
  assert.equal(again.runs, 1, 'the same run went on');
  assert.deepEqual(again.metrics.map((m) => [m.step, m.epoch]), uninterrupted.metrics.map((m) => [m.step, m.epoch]), 'the same steps, numbered on');
  again.metrics.forEach((m, i) => {
    const u = uninterrupted.metrics[i];
    for (const key of ['beta', 'recon', 'kl', 'total']) assert.ok(close(m[key], u[key]), `step ${m.step} ${key}: ${m[key]} after the restart, ${u[key]} uninterrupted`);
  });
  again.testMetrics.forEach((t, i) => assert.ok(close(t.recon, uninterrupted.testMetrics[i].recon) && close(t.kl, uninterrupted.testMetrics[i].kl), `epoch ${t.epoch}`));
  await page.close();

  // Paused, β changed after the snapshot, crashed: restarted, the run is still paused at that β.
  const held = await open(browser, `${CPU}&lossMode=vae&numEpochs=5000&autostart=1`);
  await waitFor(held, 'a snapshot', (s) => s.heldSnapshots === 1);
  await held.click('[data-testid=pause]');
  await waitFor(held, 'pause', (s) => s.state === 'paused', 300_000);
  await held.locator('[data-testid=beta]').fill('0.5');
  await waitFor(held, 'β 0.5 in force', (s) => s.config.targetBeta === 0.5);
  await held.evaluate(() => window.vaelab.crashEngine());
  await waitFor(held, 'the crash', (s) => s.state === 'error');
  await held.click('[data-testid=restart-engine]');
  const restarted = await waitFor(held, 'the restarted run, held', (s) => s.state === 'paused' && s.error === null);
  assert.equal(restarted.config.targetBeta, 0.5, 'the β the controls show is the one in force');
  await settle(held);
  const later = await status(held);
  assert.equal(later.state, 'paused');
  assert.equal(later.metrics.length, restarted.metrics.length, 'no step while held');
  await held.click('[data-testid=resume]');
  const resumed = await waitFor(held, 'training at β 0.5', (s) => s.metrics.length > restarted.metrics.length);
  assert.equal(resumed.metrics[resumed.metrics.length - 1].beta, 0.5);
  await held.close();
});

test('a dragged latent slider starts one run, where it is let go; a dragged β slider ends at its last value', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${CPU}&lossMode=vae&numEpochs=5000&autostart=1`);
  await waitFor(page, 'training', (s) => s.metrics.length > 0);
  const runs = (await status(page)).runs;
  // A drag is a stream of input events, then one change when the pointer lets go.
  const shown = await page.evaluate(() => {
    const latent = document.querySelector('[data-testid=latent-size]');
    for (let i = 0; i < 20; i++) { latent.stepUp(); latent.dispatchEvent(new Event('input', { bubbles: true })); }
    return document.querySelector('[data-testid=latent-value]').textContent;
  });
  await settle(page);
  const dragging = await status(page);
  assert.equal(dragging.runs, runs, 'no run while the slider moves');
  assert.equal(dragging.config.latentSize, 16, 'the run in force keeps its latent size');
  assert.notEqual(shown, '16', 'the slider shows where it is');
  await page.evaluate(() => document.querySelector('[data-testid=latent-size]').dispatchEvent(new Event('change', { bubbles: true })));
  const started = await waitFor(page, 'the run at the released value', (s) => s.runs === runs + 1 && s.state === 'training' && s.metrics.length > 0);
  assert.equal(String(started.config.latentSize), shown);
  await page.evaluate(() => {
    const beta = document.querySelector('[data-testid=beta]');
    for (let i = 0; i < 20; i++) { beta.stepUp(); beta.dispatchEvent(new Event('input', { bubbles: true })); }
  });
  const last = Number(await page.locator('[data-testid=beta]').inputValue());
  await waitFor(page, 'the last β in force', (s) => s.config.targetBeta === last);
  await settle(page);
  assert.equal((await status(page)).runs, runs + 1, 'β changes no run');
  await page.close();

  // A latent the log slider cannot hold (512: its nearest stop is 511), locked by a
  // teacher's link: another setting's edit changes that setting only.
  const held = await open(browser, `${CPU}&latentSize=512&lock=latentSize&numEpochs=5000&autostart=1`);
  const before = await waitFor(held, 'training at latent 512', (s) => s.metrics.length > 0);
  assert.equal(before.config.latentSize, 512);
  await setNumber(held, 'epochs', 4000);
  const after = await waitFor(held, 'epochs 4000 in force', (s) => s.config.numEpochs === 4000);
  assert.equal(after.runs, before.runs, 'the same run');
  assert.equal(after.config.latentSize, 512);
  await held.close();
});

test('a run stopped by a NaN loss downloads, and is explored as, its last snapshot', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${CPU}&lossMode=vae&numEpochs=5000&autostart=1`);
  await waitFor(page, 'two snapshots', (s) => s.testMetrics.length >= 2 && s.heldSnapshots === 1);
  // The weights turn NaN between two training calls, as a diverging run's do.
  await page.evaluate(() => window.vaelab.poisonWeights());
  const stopped = await waitFor(page, 'the NaN loss', (s) => s.state === 'error');
  assert.match(stopped.error, /loss became NaN/);
  const epochs = stopped.testMetrics.length;
  const [saved] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-model]')]);
  assert.equal(saved.suggestedFilename(), `vaelab-vae16-epoch${epochs}.safetensors`);
  const bytes = fs.readFileSync(await saved.path());
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString());
  assert.equal(header.__metadata__.epochs_trained, String(epochs));
  const weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + headerLength, bytes.byteOffset + bytes.length));
  assert.ok(weights.length > 1e6 && weights.every(Number.isFinite), 'the snapshot\'s weights are finite');
  await expectText(page.locator('[data-testid=lab-note]'), new RegExp(`as after epoch ${epochs}, its last snapshot before it stopped`));
  await page.close();
});
