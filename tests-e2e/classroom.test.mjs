// The classroom (issue 12): the lesson, results against the exercise's
// thresholds, teacher links, trained models listed from www/models/, offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { OUT, ROOT, MINI, HAVE_MINI, browser, base, overrides, open, waitFor, status, needs, expectText, expectVisible, expectHidden, expectDisabled, expectEnabled, until, hidablePage, hide, show, undrawn } from './harness.mjs';

const NO_MINI = needs(HAVE_MINI, 'no CIFAR-10 mini slice under the data root');
// The lesson, the models and offline are the page's claims, not WebGPU's: they
// train on the CPU backend, many times faster here than SwiftShader's emulated
// GPU (WebGPU training is checked in page.test.mjs and engine.test.mjs).
const TINY = '?data=/data-mini/&images=32&tests=32&batchSize=16&backend=cpu';

test('a quick lesson runs its first step unattended, asks for the latent size and carries it into the next step', { skip: NO_MINI }, async () => {
  const page = await open(browser, `${TINY}&numEpochs=1`);
  await waitFor(page, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  await page.locator('[data-testid=lesson-quick]').click();
  await expectText(page.locator('[data-testid=lesson-variant]'), /Quick lesson: 1 epoch on 32 training and 32 test images/);
  const asked = await waitFor(page, 'the decision of 2.3', (s) => s.lesson.state === 'decide', 900_000);
  assert.equal(asked.lesson.step, '2.3');
  assert.deepEqual(Object.keys(asked.lesson.runs), ['ae16', 'ae128', 'ae1024']);
  assert.equal(asked.runs, 3, 'the three runs ran one after another, with no click');
  await expectText(page.locator('[data-testid=lesson-state]'), /sharpest latent size/i);
  // The results: each run with its threshold (only AE 1024 has one) and "not comparable" (quick).
  assert.equal(asked.results.length, 3);
  for (const r of asked.results) assert.match(r.result, /^not comparable \(1 of 20 epochs, 32 of 50000 training images/);
  assert.deepEqual(asked.results.map((r) => r.threshold), [null, null, 40]);
  // Side by side: the three runs are the comparison.
  await expectVisible(page.locator('[data-testid=compare]'));
  await expectHidden(page.locator('[data-testid=lesson-run]'));
  await expectHidden(page.locator('[data-testid=lesson-next]'));
  await page.locator('[data-testid=lesson]').screenshot({ path: path.join(OUT, 'lesson-decide.png') });
  await page.screenshot({ path: path.join(OUT, 'lesson-page.png'), fullPage: true });
  await page.locator('[data-testid=lesson-pick-16]').click();
  const next = await waitFor(page, 'step 2.6', (s) => s.lesson.step === '2.6' && s.lesson.runs.vae && s.state === 'training');
  assert.equal(next.config.lossMode, 'vae');
  assert.equal(next.config.latentSize, 16, 'the decision carried into the VAE');
  assert.equal(next.lesson.decisions.latent, 16);
  await until('the lesson in the URL', () => page.url(), (u) => /lesson=quick&lessonStep=2\.6&lessonLatent=16/.test(u));
  await page.locator('[data-testid=pause]').click();
  // The report holds every run against the thresholds, grids embedded.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-report]')]);
  const report = fs.readFileSync(await download.path(), 'utf8');
  assert.match(report, /ae_latent1024/);
  assert.match(report, /&lt; 40/);
  assert.ok((report.match(/data:image\/png;base64/g) || []).length >= 3, 'grids embedded');
  await page.close();
});

test('the quick lesson says how many images its runs will see: the protocol\'s, but no more than are loaded', { skip: NO_MINI }, async () => {
  // No link images: exercise.json's 50,000 training images, of which the mini slice has 1,000.
  const page = await open(browser, '?data=/data-mini/&backend=cpu&tests=32&batchSize=16&latentSize=16&numEpochs=1');
  const loaded = await waitFor(page, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  assert.ok(loaded.trainImages < 50000, `the mini slice: ${loaded.trainImages} training images`);
  await page.locator('[data-testid=lesson-quick]').click();
  const variant = page.locator('[data-testid=lesson-variant]');
  await expectText(variant, new RegExp(`^Quick lesson: 1 epoch on ${loaded.trainImages.toLocaleString('en')} training and 32 test images`));
  await page.close();
});

test('the full lesson says when its runs are not the exercise\'s: a link\'s images, or fewer loaded than the exercise\'s', { skip: NO_MINI }, async () => {
  // Opened at the full lesson by a link with its own images: the runs train on those, and the line says so.
  const linked = await open(browser, `${TINY}&lesson=full`);
  await waitFor(linked, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  await expectText(linked.locator('[data-testid=lesson-variant]'), /^Full lesson: 20 epochs per run, but on the link's 32 training and 32 test images, not the exercise's 50,000 \(the results say "not comparable"\)\.$/);
  await linked.close();
  // No link images, but only the mini slice loaded: the runs see what is loaded.
  const mini = await open(browser, '?data=/data-mini/&backend=cpu&lesson=full');
  const loaded = await waitFor(mini, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  assert.ok(loaded.trainImages < 50000, `the mini slice: ${loaded.trainImages} training images`);
  const seen = `${loaded.trainImages.toLocaleString('en')} training and ${loaded.testImages.toLocaleString('en')} test images loaded`;
  await expectText(mini.locator('[data-testid=lesson-variant]'), new RegExp(`^Full lesson: 20 epochs per run, but on the ${seen}, not the exercise's 50,000 `));
  await mini.close();
});

test('a reload mid-lesson goes on where it was: a finished run is not run again, the one training goes on from its snapshot', { skip: NO_MINI }, async () => {
  // Eight epochs a run: once the second run's weights after an epoch are kept, it still has epochs to go.
  const page = await open(browser, `${TINY}&numEpochs=8`);
  await waitFor(page, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  await page.locator('[data-testid=lesson-quick]').click();
  const mid = await waitFor(page, 'the second run past its first epoch, its weights kept', (s) => s.lesson.done.includes('ae16') && s.lesson.runs.ae128 && s.state === 'training' && s.kept.currentEpochs >= 1);
  await until('the lesson in the URL', () => page.url(), (u) => /lesson=quick&lessonStep=2\.3/.test(u));
  await page.reload();
  await expectText(page.locator('[data-testid=banner]'), new RegExp(`^Kept from your last visit: 2 runs\\. The lesson goes on: run #${mid.lesson.runs.ae128} trains on after epoch [0-9]+\\.`));
  const asked = await waitFor(page, 'the decision of 2.3', (s) => s.lesson.state === 'decide', 900_000);
  assert.deepEqual(Object.keys(asked.lesson.runs), ['ae16', 'ae128', 'ae1024']);
  assert.equal(asked.lesson.runs.ae16, mid.lesson.runs.ae16, 'the finished run is the same run');
  assert.equal(asked.lesson.runs.ae128, mid.lesson.runs.ae128, 'the interrupted run went on');
  assert.equal(asked.runs, 3, 'no run trained twice');
  assert.ok(mid.testMetrics.length < 8, 'the reload came while the second run trained');
  await page.close();
});

test('a teacher link hides the parts it names, locks settings, and its share link keeps both', async () => {
  const page = await open(browser, '?hide=presets,lab&lock=latentSize,seed&lesson=quick&lessonStep=2.7&lessonLatent=128&latentSize=128');
  // Opened at step 2.7 with the latent decided: the step waits for "Run this step".
  const s = await waitFor(page, 'the lesson at step 2.7', (x) => x.lesson.step === '2.7' && x.lesson.state === 'ready');
  assert.equal(s.lesson.decisions.latent, 128);
  await expectVisible(page.locator('[data-testid=lesson-run]'));
  await expectHidden(page.locator('[data-part=presets]'));
  await expectHidden(page.locator('[data-part=lab]'));
  await expectVisible(page.locator('[data-part=curves]'));
  await expectDisabled(page.locator('[data-testid=latent-size]'));
  await expectDisabled(page.locator('[data-testid=seed]'));
  await expectEnabled(page.locator('[data-testid=epochs]'));
  await expectText(page.locator('[data-testid=teacher-note]'), /locked: latentSize, seed; hidden: presets, lab/);
  await until('the share link keeping hide and lock', () => page.locator('[data-testid=share-link]').getAttribute('href'),
    (share) => /hide=presets%2Clab/.test(share) && /lock=latentSize%2Cseed/.test(share));
  await page.close();
  // Names that are not parts or settings are said, not ignored.
  const bad = await open(browser, '?hide=everything&lock=colour&lessonStep=9.9&lesson=quick');
  const banner = bad.locator('[data-testid=banner]');
  await expectText(banner, /hide=everything is not a part of the page/);
  await expectText(banner, /lock=colour is not a setting/);
  await expectText(banner, /lessonStep=9\.9/);
  await bad.close();
});

const VAELAB = path.join(ROOT, 'target', 'debug', 'vaelab');
test('models trained by scripts/pretrain.sh are listed and open paused; a broken manifest is said plainly', { skip: NO_MINI || needs(fs.existsSync(VAELAB), `no ${VAELAB} (cargo build first)`) }, async () => {
  // A run name the exercise does not have is named, with the ones it has.
  let said = '';
  try {
    execFileSync(path.join(ROOT, 'scripts', 'pretrain.sh'), ['ae_latent17'], { stdio: 'pipe' });
  } catch (e) {
    said = `${e.status} ${e.stderr}`;
  }
  assert.match(said, /^2 unknown run 'ae_latent17'; the runs are: ae_latent16 ae_latent128 /);
  const models = path.join(OUT, 'models');
  fs.rmSync(models, { recursive: true, force: true });
  execFileSync(path.join(ROOT, 'scripts', 'pretrain.sh'), ['ae_latent16'], {
    env: { ...process.env, VAELAB_BIN: VAELAB, OUT: models, WORK: path.join(OUT, 'pretrain'), EPOCHS: '1', LIMIT: '32', DATA: MINI },
    stdio: 'pipe',
  });
  const manifest = JSON.parse(fs.readFileSync(path.join(models, 'manifest.json'), 'utf8'));
  assert.equal(manifest.models.length, 1);
  assert.equal(manifest.models[0].config.latentSize, 16);
  const page = await open(browser, TINY);
  const open16 = page.locator('[data-testid=open-model-ae_latent16]');
  await open16.waitFor({ timeout: 60_000 });
  await expectText(page.locator('[data-testid=models]'), /ae_latent16 — AE · latent 16 · 1 epochs on 32 images · test recon \d+/);
  await waitFor(page, 'the data', (s) => s.state === 'idle' && s.testImages > 0);
  await open16.click();
  const s = await waitFor(page, 'the model opened', (x) => x.state === 'paused' && x.opened && x.opened.test);
  assert.equal(s.config.lossMode, 'ae');
  assert.equal(s.metrics.length, 0, 'no step before Resume');
  await page.close();
  // A model the manifest names but the server lacks, one whose settings are
  // not the table's (said; the others still listed), and then a manifest that is not JSON.
  manifest.models.push({ name: 'gone', file: 'gone.safetensors', config: { lossMode: 'ae', latentSize: 16 } });
  manifest.models.push({ name: 'odd', file: 'odd.safetensors', config: { lossMode: 5, latentSize: 16 } });
  fs.writeFileSync(path.join(models, 'manifest.json'), JSON.stringify(manifest));
  const p2 = await open(browser, TINY);
  await waitFor(p2, 'the data', (x) => x.state === 'idle' && x.testImages > 0);
  await expectText(p2.locator('[data-testid=models-problems]'), /model 3 \(odd\): its "config" is not used: lossMode=5/);
  await p2.locator('[data-testid=open-model-odd]').waitFor();
  await p2.locator('[data-testid=open-model-gone]').click();
  await expectText(p2.locator('[data-testid=banner]'), /gone\.safetensors[^]*404/);
  await p2.close();
  fs.writeFileSync(path.join(models, 'manifest.json'), '{ not json');
  const p3 = await open(browser, TINY);
  await expectText(p3.locator('[data-testid=models-problems]'), /manifest\.json is not JSON/);
  assert.equal((await status(p3)).error, null);
  await p3.close();
  fs.rmSync(models, { recursive: true, force: true });
});

test('a run from the page exports the command line\'s metrics.jsonl: the same fields in the same order, as JSON lines and as CSV columns', { skip: NO_MINI || needs(fs.existsSync(VAELAB), `no ${VAELAB} (cargo build first)`) }, async () => {
  const dir = path.join(OUT, 'cli-metrics');
  fs.rmSync(dir, { recursive: true, force: true });
  execFileSync(VAELAB, ['train', '--log_dir', dir, '--loss_mode', 'vae', '--latent_size', '16', '--num_epochs', '2', '--batch_size', '16', '--limit', '32', '--data', MINI], { stdio: 'pipe' });
  const cli = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const page = await open(browser, `${TINY}&numEpochs=2&lossMode=vae&latentSize=16&autostart=1`);
  const done = await waitFor(page, 'the run', (s) => s.state === 'done' && s.testMetrics.length === 2);
  const [jsonl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-jsonl]')]);
  assert.equal(jsonl.suggestedFilename(), 'vaelab-run1-metrics.jsonl');
  const lines = fs.readFileSync(await jsonl.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  for (const [i, line] of lines.entries()) {
    assert.deepEqual(Object.keys(line), Object.keys(cli[i]), `epoch ${i}: the command line's fields, in its order`);
    assert.equal(line.epoch, i);
    assert.ok(Math.abs(line.test_recon - done.testMetrics[i].recon) < 1e-3, 'the numbers the page shows');
    assert.equal(line.kl_per_dim.length, 16);
    assert.ok(line.seconds > 0);
  }
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-csv]')]);
  const [head, ...rows] = fs.readFileSync(await csv.path(), 'utf8').trim().split('\n').map((r) => r.split(','));
  assert.equal(head[0], 'run');
  assert.deepEqual(head.filter((c) => c in cli[0]), Object.keys(cli[0]), 'every field of metrics.jsonl is a column, in its order');
  assert.equal(rows.length, 2);
  for (const [i, row] of rows.entries()) {
    const cell = (c) => row[head.indexOf(c)];
    assert.equal(cell('run'), '1');
    assert.equal(cell('test_recon'), String(lines[i].test_recon));
    assert.equal(cell('kl_per_dim'), lines[i].kl_per_dim.join(' '));
    assert.equal(cell('capacity'), '', 'no capacity without the capacity objective');
  }
  await page.close();
});

test('offline: a page visited once opens again with the network gone, data and engine included', { skip: NO_MINI }, async () => {
  // The service worker's list must name every module the page loads.
  const sw = fs.readFileSync(path.join(ROOT, 'www', 'sw.js'), 'utf8');
  for (const f of fs.readdirSync(path.join(ROOT, 'www', 'js'))) assert.ok(sw.includes(`'js/${f}'`), `sw.js does not cache js/${f}`);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${base}/www/index.html${TINY}`);
  await waitFor(page, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  // Everything is kept once the worker is in control (its install stored the page and both packages as one set).
  await until('a whole set of the page\'s files stored', () => storedSets(page, { files: true }), (sets) => sets.length === 1 && sets[0].whole && sets[0].files >= 40);
  await context.setOffline(true);
  await page.reload();
  const s = await waitFor(page, 'the page offline', (x) => x.state === 'idle' && x.engine === 'worker' && x.trainImages > 0 && x.testImages > 0, 120_000);
  assert.equal(s.error, null);
  // Truly offline: what the page did not keep cannot be fetched.
  assert.equal(await page.evaluate(() => fetch('/README.md').then(() => 'online', () => 'offline')), 'offline');
  await context.close();
});

/**
 * The service worker's stored sets of the page's files: `{name, whole}` each, and `files` when asked.
 * Counting files opens a set's cache, which brings back one a prune deletes at that moment (empty):
 * only ask while no set can be dropped.
 */
const storedSets = (page, { files = false } = {}) => page.evaluate(async (count) => Promise.all((await caches.keys()).filter((k) => k.startsWith('vaelab-app-')).map(async (k) => {
  const set = { name: k.slice('vaelab-app-'.length), whole: Boolean(await caches.match('/.vaelab-whole', { cacheName: k })) };
  if (count) set.files = (await (await caches.open(k)).keys()).length - 1;
  return set;
})), files);

test('one version of the page at a time: a new version is stored only whole, announced, used from the next load, and a restarted engine keeps its page\'s', { skip: NO_MINI }, async () => {
  // Its own browser context (open()): a reload keeps its storage.
  const page = await open(browser, TINY);
  const [first] = await until('the first set stored', () => storedSets(page, { files: true }), (sets) => sets.length === 1 && sets[0].whole);
  await page.reload();
  const served = await waitFor(page, 'the page from its set', (s) => s.state === 'idle' && s.trainImages > 0 && s.appSets.checks === 1);
  assert.equal(served.appSets.own, first.name);
  assert.equal(served.appSets.newer, '', 'the same files are no new version');
  try {
    // A new pkg-cpu/ (the engine this page trains on) whose glue cannot run with the old page (as a
    // mismatched pair fails), and its wasm fails to download.
    const glue = fs.readFileSync(path.join(ROOT, 'pkg-cpu', 'vaelab.js'), 'utf8');
    overrides.set('/pkg-cpu/vaelab.js', `${glue}\nthrow new Error('the glue of version B');\n`);
    overrides.set('/pkg-cpu/vaelab_bg.wasm', 503);
    await page.reload();
    const cut = await waitFor(page, 'the check for a new version', (s) => s.state === 'idle' && s.trainImages > 0 && s.appSets.checks === 1);
    assert.equal(cut.appSets.own, first.name, 'the page still runs the whole set it had');
    assert.equal(cut.appSets.newer, '');
    assert.deepEqual(await storedSets(page, { files: true }), [first], 'nothing of the cut download is kept');
    // The new version downloads whole: stored beside the old one and announced; this page keeps its own.
    overrides.delete('/pkg-cpu/vaelab_bg.wasm');
    await page.reload();
    const told = await waitFor(page, 'a newer set', (s) => s.state === 'idle' && s.trainImages > 0 && s.appSets.checks === 1);
    assert.equal(told.appSets.own, first.name);
    assert.notEqual(told.appSets.newer, '', 'the newer set is announced');
    await expectVisible(page.locator('[data-testid=app-update]'));
    const both = await storedSets(page);
    assert.deepEqual(both.map((x) => x.whole), [true, true]);
    // A restarted engine loads this page's pkg-cpu/, not the newer one (whose glue throws).
    await page.evaluate(() => window.vaelab.crashEngine());
    await waitFor(page, 'the engine stopped', (s) => s.engine === 'stopped');
    await page.locator('[data-testid=restart-engine]').click();
    const again = await waitFor(page, 'the engine restarted', (s) => s.state === 'idle' && s.engine === 'worker' && s.trainImages > 0 && s.error === null);
    assert.equal(again.appSets.own, first.name);
    // The next load is the new version (its glue throws: the engine says so), and the old set, used by no page, is gone.
    await page.reload();
    const next = await waitFor(page, 'the new version and its engine error', (s) => s.appSets.own === told.appSets.newer && s.error !== null);
    assert.match(next.error, /version B/);
    await until('the old set dropped', () => storedSets(page), (sets) => sets.length === 1 && sets[0].name === told.appSets.newer);
  } finally {
    overrides.clear();
    await page.close();
  }
});

test('the whole quick lesson: hidden from view it goes on, an interruption reruns only what is missing, a restart moves it on, it says its time, and the teacher\'s models stand beside it', { skip: NO_MINI || needs(fs.existsSync(VAELAB), `no ${VAELAB} (cargo build first)`) }, async () => {
  // The teacher hosts one of the exercise's runs, trained short: the lesson must say it is not the exercise's.
  const models = path.join(OUT, 'models');
  fs.rmSync(models, { recursive: true, force: true });
  execFileSync(path.join(ROOT, 'scripts', 'pretrain.sh'), ['ae_latent16'], {
    env: { ...process.env, VAELAB_BIN: VAELAB, OUT: models, WORK: path.join(OUT, 'pretrain'), EPOCHS: '1', LIMIT: '32', DATA: MINI },
    stdio: 'pipe',
  });
  // Two epochs a run: a restart resumes from the first one's snapshot. A class period of 0.001 min: too slow.
  const page = await open(browser, `${TINY}&numEpochs=2&classMinutes=0.001`, { init: hidablePage });
  await waitFor(page, 'the data', (s) => s.state === 'idle' && s.trainImages > 0 && s.testImages > 0);
  await expectText(page.locator('[data-testid=lesson-time]'), /measured in its first steps/);
  await page.locator('[data-testid=lesson-quick]').click();

  // 2.3, interrupted by a run of the student's own: "Run this step" runs only what is missing.
  // The second run is paused as soon as it trains, from inside the page (a run takes seconds here).
  await page.evaluate(() => new Promise((resolve) => {
    const look = () => {
      const s = window.vaelab.status();
      const pause = document.querySelector('[data-testid=pause]');
      // The button is enabled once the page has drawn the training state.
      if (s.lesson.runs.ae128 && s.state === 'training' && !pause.disabled) { pause.click(); resolve(); } else setTimeout(look, 5);
    };
    look();
  }));
  const held = await waitFor(page, 'the second lesson run paused', (s) => s.state === 'paused', 300_000);
  assert.deepEqual(held.lesson.done, ['ae16']);
  const estimate = held.lesson.estimate;
  assert.ok(estimate && estimate.imagesPerSec > 0, `an estimate from the first steps: ${JSON.stringify(estimate)}`);
  assert.deepEqual(Object.keys(estimate.perStep), ['2.3', '2.6', '2.7', '2.9']);
  // One pace for every run: 2.7 trains two runs where 2.6 trains one.
  assert.ok(Math.abs(estimate.perStep['2.7'] - 2 * estimate.perStep['2.6']) < 1e-6 * estimate.total, JSON.stringify(estimate));
  assert.ok(Math.abs(estimate.total - Object.values(estimate.perStep).reduce((a, b) => a + b, 0)) < 1e-9 * estimate.total);
  assert.equal(estimate.classMinutes, 0.001);
  assert.equal(estimate.tooSlow, true);
  await expectText(page.locator('[data-testid=lesson-time]'), /about \d+ images\/s: this step needs about .* the whole lesson about .*longer than a class period \(0\.001 min\)/);
  await page.locator('[data-testid=train]').click();
  const cut = await waitFor(page, 'the lesson interrupted', (s) => s.lesson.state === 'interrupted');
  const doneBefore = Object.fromEntries(cut.lesson.done.map((id) => [id, cut.lesson.runs[id]]));
  await expectVisible(page.locator('[data-testid=lesson-run]'));
  await page.locator('[data-testid=lesson-run]').click();
  await waitFor(page, 'the step running again', (s) => s.lesson.state === 'running');

  // Hidden from here on: no frame is drawn, and the step's runs go on to the decision.
  await hide(page);
  const asked = await undrawn(page, 'the decision of 2.3 in a hidden page', (s) => s.lesson.state === 'decide');
  assert.equal(asked.drawn, false, 'nothing was drawn while hidden');
  assert.ok(await page.evaluate(() => window.testVisibility.framesWaiting()) > 0, 'a frame was asked for and waits');
  assert.deepEqual(asked.lesson.done.sort(), ['ae1024', 'ae128', 'ae16']);
  for (const [id, run] of Object.entries(doneBefore)) assert.equal(asked.lesson.runs[id], run, `${id} finished before the interruption and was not run again`);
  assert.deepEqual(Object.keys(doneBefore), ['ae16']);
  assert.equal(asked.runs, 5, 'ae16, the held ae128, the student\'s own, then only the two missing: ae128 and ae1024');
  assert.equal(asked.lesson.estimate.perStep['2.3'], 0);
  await show(page);

  // Beside the class's runs: the teacher's model, labelled as what it is.
  await expectText(page.locator('[data-testid=hosted-ae_latent16]'), /#\d+: test recon \d+\.\d.*test recon \d+\.\d — a model hosted by your teacher \(1 epochs on 32 images; not the exercise's 20 epochs on 50,000\)/);
  await page.locator('[data-testid=lesson]').screenshot({ path: path.join(OUT, 'lesson-hosted.png') });

  await page.locator('[data-testid=lesson-pick-1024]').click();
  await hide(page);
  await undrawn(page, 'step 2.6 done in a hidden page', (s) => s.lesson.step === '2.6' && s.lesson.state === 'next');
  await show(page);
  await page.locator('[data-testid=lesson-next]').click();

  // 2.7: the engine crashes mid-run; restarted, the run finishes and the lesson moves on by itself.
  await waitFor(page, 'a 2.7 run training', (s) => s.lesson.step === '2.7' && s.state === 'training');
  await page.evaluate(() => window.vaelab.crashEngine());
  const crashed = await waitFor(page, 'the lesson interrupted by the engine error', (s) => s.lesson.state === 'interrupted');
  await page.locator('[data-testid=restart-engine]').click();
  await hide(page);
  const decided = await undrawn(page, 'the decision of 2.7 after the restart', (s) => s.lesson.state === 'decide' && s.lesson.step === '2.7');
  for (const id of Object.keys(crashed.lesson.runs)) assert.equal(decided.lesson.runs[id], crashed.lesson.runs[id], `${id} resumed, not started again`);
  await show(page);
  await page.locator('[data-testid="lesson-pick-1.2"]').click();
  await hide(page);
  const end = await undrawn(page, 'the lesson done in a hidden page', (s) => s.lesson.state === 'done');
  await show(page);

  // Every exercise run is recognised, its β shown as set (not as 32 bits read back).
  const named = end.results.filter((r) => r.exercise).map((r) => r.exercise);
  for (const name of ['ae_latent16', 'ae_latent128', 'ae_latent1024', 'vae_latent_rep', 'vae_beta0.8', 'vae_beta1.2', 'vae_anneal']) {
    assert.ok(named.includes(name), `${name} among the results: ${JSON.stringify(end.results)}`);
  }
  for (const id of ['vae08', 'vae12', 'vaeanneal']) {
    const name = page.locator(`[data-testid=run-${end.lesson.runs[id]}] td`).nth(1);
    await expectText(name, { vae08: /β 0\.8$/, vae12: /β 1\.2$/, vaeanneal: /β 0→1\.2 linear$/ }[id]);
  }
  const text = await page.locator('#runs').textContent();
  assert.doesNotMatch(text, /\d\.\d{6,}/, 'no setting shown with float32 digits');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-report]')]);
  const report = fs.readFileSync(await download.path(), 'utf8');
  for (const name of ['vae_beta0.8', 'vae_beta1.2', 'vae_anneal']) assert.match(report, new RegExp(name.replace('.', '\\.')));
  assert.doesNotMatch(report, /0\.80000|1\.20000/);
  assert.match(page.url(), /lessonBeta=1\.2(&|$)/);
  await page.close();
  fs.rmSync(models, { recursive: true, force: true });
});
