// VAE Lab's page: wires the settings, the data, the engine (a Web Worker) and
// the views, keeps the URL in step with the settings, and exposes
// window.vaelab for tests. Nothing on this thread trains or evaluates.
import { DEFAULTS, SCHEDULE_KEYS, fromQuery, toQuery, describe, sameArchitecture } from './state.js';
import { TRAIN_FILES, TEST_FILE } from './data.js';
import { renderData } from './dataview.js';
import { Engine } from './engine.js';
import { drawCurves } from './curves.js';
import { banner, hideBanner, escapeHtml } from './banner.js';
import { drawLatent } from './latent.js';
import { drawImage, clear, downloadCanvas, download } from './grids.js';
import { bindControls, showConfig, setButtons, lockSettings } from './controls.js';
import { parseTeacher, applyTeacher, lockedChanges } from './teacher.js';
import { configProblems } from './bounds.js';
import { showProgress } from './progress.js';
import { renderRuns, renderCompare, csv } from './runs.js';
import { bindLab, renderLab, labStatus } from './lab.js';
import { drawRatePlane } from './rdplane.js';
import { renderResults, downloadReport, results } from './results.js';
import { loadManifest, renderModels } from './models.js';
import { bindLesson, advanceLesson, renderLesson, lessonStatus, lessonOptions, lessonEstimate } from './lesson.js';

const $ = (id) => document.getElementById(id);
// A preset sets the model and beta; the KL's weighting returns to the
// exercise's constant 1 (no free bits) unless the preset says otherwise.
const PRESET_BASE = Object.fromEntries(SCHEDULE_KEYS.map((k) => [k, DEFAULTS[k]]));
const parsed = fromQuery(location.search);
const page = parsed.page;
let config = parsed.config;
const teacher = parseTeacher(page, Object.keys(DEFAULTS));
let adapterName = 'checking…';
let engine = null;
let backend = page.backend === 'cpu' ? 'cpu' : 'webgpu';
let pageState = 'loading'; // before a run exists: loading | idle | error
let pageError = null;
const runs = [];
const selected = new Set();
const picked = []; // File lists the user chose (handles, not bytes), to refill a restarted engine
const dataErrors = [];
let dataNotes = '';
let persisted = null;
const limit = (v) => (v && Number(v) >= 1 ? Math.floor(Number(v)) : null);
const limits = { images: limit(page.images), tests: limit(page.tests) };
const dataBase = () => new URL(page.data || 'data/', location.href).href;

// ---------- status contract (used by the end-to-end tests) ----------
function currentRun() { return engine && engine.run; }
function state() {
  const run = currentRun();
  if (run) return run.state;
  if (pageState === 'idle' && engine && engine.dataPending > 0) return 'loading';
  return pageState;
}
window.vaelab = {
  status() {
    const run = currentRun();
    return {
      state: state(),
      error: run?.error || pageError,
      epoch: run ? run.epoch : 0,
      step: run && run.steps.length ? run.steps[run.steps.length - 1].step : 0,
      imagesPerSec: run ? run.imagesPerSec : 0,
      adapter: adapterName,
      backend,
      engine: engine && engine.inWorker ? 'worker' : 'none',
      wasmMemory: engine ? engine.wasmMemory : 0,
      heldSnapshots: runs.filter((r) => r.snapshot).length,
      opened: run && run.opened ? { ...run.opened } : null,
      config: run ? { ...run.config } : { ...config },
      metrics: run ? run.steps.map(({ step, epoch, beta, capacity, recon, kl, total }) => ({ step, epoch, beta, capacity, recon, kl, total })) : [],
      plan: run && run.plan ? { beta: [...run.plan.beta], capacity: run.plan.capacity && [...run.plan.capacity] } : null,
      testMetrics: run ? run.tests.map(({ epoch, recon, kl, total }) => ({ epoch, recon, kl, total })) : [],
      dataErrors: [...dataErrors],
      trainImages: engine ? engine.trainSize : 0,
      testImages: engine ? engine.testSize : 0,
      dataFiles: engine ? [...engine.files].map(([name, f]) => ({ name, images: f.images, from: f.from, stored: f.stored })) : [],
      dataLoading: Boolean(engine && engine.dataPending > 0),
      storage: engine ? { ...engine.storage, persisted } : null,
      deviceBytes: engine ? engine.deviceBytes : 0,
      runs: runs.length,
      lab: labStatus(),
      // True once the page has drawn what this status says (views are drawn on
      // the next animation frame): a test that reads the page waits for it.
      drawn: frame === 0 && renders > 0,
      dataDone: engine ? engine.dataDone : 0,
      lesson: { ...lessonStatus(), estimate: lessonEstimate(run) },
      results: results(runs).map((r) => ({ run: r.run.id, exercise: r.exercise?.name ?? null, threshold: r.threshold, result: r.result })),
    };
  },
  /** Test hook: the worker destroys its GPU device, as a driver crash would. */
  loseDevice() { engine?.loseDevice(); },
  /** Test hook: the engine fails as a panic in the core does (on the CPU backend too). */
  crashEngine() { engine?.crash(); },
  /**
   * Test hook: resolves once the worker has handled every command sent before
   * it and any training call in flight has ended, so whatever they posted has
   * arrived: "nothing happened" is then a fact, not a wait.
   */
  settle() { return engine && !engine.dead ? engine.settle() : Promise.resolve(); },
};

// ---------- rendering ----------
let frame = 0;
let renders = 0;
function update() {
  if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); });
  // What must happen even where nothing is drawn (a hidden tab): not in render().
  advanceLesson(engine);
  maybeAutostart();
}

function render() {
  renders += 1;
  const run = currentRun();
  const s = state();
  setButtons(s);
  showProgress(run, s, engine ? engine.trainSize : 0);
  drawCurves(run, config);
  $('chart-note').textContent = run ? `${describe(run.config)} · ${run.numParams.toLocaleString()} parameters · sums over pixels, averaged over the batch` : '';
  if (run && run.recon) drawImage($('recon-grid'), run.recon); else clear($('recon-grid'), run ? 'Reconstructions appear after the first steps' : '');
  const opened = run && run.opened && run.opened.test;
  $('opened-note').hidden = !opened;
  if (opened) $('opened-note').textContent = `${run.opened.name}: test recon ${opened.recon.toFixed(1)}${run.config.lossMode === 'vae' ? `, KL ${opened.kl < 10 ? opened.kl.toFixed(3) : opened.kl.toFixed(1)}` : ''} (one evaluation pass, before any training step).`;
  const vae = (run ? run.config : config).lossMode === 'vae';
  $('sample-note').hidden = vae;
  if (run && run.samples) drawImage($('sample-grid'), run.samples); else clear($('sample-grid'), vae ? '' : 'AE: no samples');
  $('latent-note').textContent = drawLatent($('latent-chart'), run ? run.latent : null, (run ? run.config : config).latentSize);
  renderData(engine, { notes: dataNotes, errors: dataErrors, limited: Boolean(limits.images || limits.tests), persisted });
  renderRuns(runs, run, selected, (id, on) => { if (on) selected.add(id); else selected.delete(id); update(); });
  renderCompare(runs, selected);
  renderLab(engine, run);
  drawRatePlane($('rd-chart'), runs);
  renderResults(runs);
  renderLesson(run);
  keepLessonInUrl();
  if (run && run.state === 'error' && !$('banner').dataset.shown) showRunError(run);
}

function showRunError(run) {
  $('banner').dataset.shown = '1';
  if (engine.dead) {
    const snap = run.snapshot ? `from the end of epoch ${run.snapshotEpochs}` : 'from the start';
    banner(`<b>Training stopped.</b> ${escapeHtml(run.error)} Curves and grids are kept.`, {
      actions: [[`Restart the engine and resume ${snap}`, restartEngine, 'restart-engine']],
    });
  } else {
    banner(`<b>Training stopped:</b> ${escapeHtml(run.error)}`, { actions: [['Dismiss', hideBanner]] });
  }
}

// ---------- settings ----------
function syncUrl() {
  history.replaceState(null, '', toQuery(config, page) || location.pathname);
  $('share').href = location.href;
}

function noteFor(next) {
  const run = currentRun();
  if (!run || run.state === 'done') return '';
  const later = ['batchSize', 'lr', 'seed'].filter((k) => next[k] !== run.config[k]);
  return later.length ? `${later.join(', ')} apply to the next run (press Train).` : '';
}

async function applyConfig(next, { fromPreset = false } = {}) {
  // An edit out of the table's range is named and undone; the run goes on.
  const refused = configProblems(next);
  if (refused.length) {
    showConfig(config);
    $('config-note').textContent = `Not applied: ${refused.join('; ')}.`;
    return;
  }
  // A teacher's link fixed these: refused by name (presets that change them are disabled).
  const fixed = lockedChanges(teacher.lock, config, next);
  if (fixed.length) {
    showConfig(config);
    $('config-note').textContent = `Not applied: ${fixed.join(', ')} ${fixed.length > 1 ? 'are' : 'is'} locked by the teacher's link.`;
    return;
  }
  const prev = config;
  config = { ...next };
  showConfig(config);
  syncUrl();
  const run = currentRun();
  $('config-note').textContent = noteFor(config);
  if (fromPreset) return startRun();
  if (!run || run.state === 'done' || run.state === 'error') return;
  try {
    if (!sameArchitecture(prev, config)) return startRun();
    if (SCHEDULE_KEYS.some((k) => prev[k] !== config[k])) engine.setSchedule(config);
    if (prev.numEpochs !== config.numEpochs) engine.setEpochs(config.numEpochs);
  } catch (e) {
    banner(`<b>Setting refused:</b> ${escapeHtml(e.message || e)}`, { actions: [['Dismiss', hideBanner]] });
  }
  update();
}

/** Starts a run of the settings in force; returns it (null when it cannot start). */
function startRun() {
  if (!engine || engine.dead) return null;
  if (engine.trainSize === 0 || engine.testSize === 0) {
    banner('Training needs CIFAR-10: at least <code>data_batch_1.bin</code> and <code>test_batch.bin</code>. Load them in the Data panel below.', { info: true, actions: [['Dismiss', hideBanner]] });
    return null;
  }
  hideBanner();
  delete $('banner').dataset.shown;
  const run = engine.start(config);
  runs.push(run);
  update();
  return run;
}

/** The lesson's variant, step and decisions stay in the URL, so its link reopens it there. */
function keepLessonInUrl() {
  const opts = lessonOptions();
  const keys = ['lesson', 'lessonStep', 'lessonLatent', 'lessonBeta'];
  if (keys.every((k) => page[k] === opts[k])) return;
  for (const k of keys) { if (opts[k] == null) delete page[k]; else page[k] = opts[k]; }
  syncUrl();
}

// ---------- data ----------
function onDataError(name, msg) {
  dataErrors.push(msg);
  update();
}

/** What a finished data command means for the reader. */
async function onDataDone(m) {
  if (m.error) dataErrors.push(m.error);
  if (m.op === 'load') {
    const missing = Object.keys(m.missing || {});
    const essential = [TRAIN_FILES[0], TEST_FILE].filter((f) => missing.includes(f) && !engine.files.has(f));
    if (essential.length) {
      dataNotes = `<b>CIFAR-10 was not found at <code>${escapeHtml(dataBase())}</code></b> (missing ${essential.join(', ')}). Choose or drop the official <code>cifar-10-binary.tar.gz</code> or its <code>.bin</code> files below.`;
    } else if (missing.length) {
      dataNotes = `Not found on the server: ${missing.join(', ')}; training uses the files that are there.`;
    }
  }
  if (m.ignored && m.ignored.length) dataErrors.push(`Ignored ${m.ignored.join(', ')}: expected data_batch_1.bin … data_batch_5.bin, test_batch.bin or cifar-10-binary.tar.gz`);
  if (m.op === 'forget') dataNotes = 'The stored files were forgotten: the next visit downloads them again (what is loaded now stays loaded).';
  // Ask the browser not to evict what was stored (only a page can ask).
  if (persisted === null && [...engine.files.values()].some((f) => f.stored) && navigator.storage && navigator.storage.persist) {
    try { persisted = await navigator.storage.persist(); } catch { persisted = false; }
  }
  update();
}

// autostart=1: start as soon as one training batch and the test batch are in;
// the other batches join the run while it trains.
let autostarted = false;
function maybeAutostart() {
  if (page.autostart !== '1' || autostarted || !engine || currentRun() || page.model) return;
  if (engine.trainSize > 0 && engine.testSize > 0) {
    autostarted = true;
    startRun();
  }
}

function loadChosen(fileList) {
  const files = [...fileList];
  if (!files.length || !engine) return;
  picked.push(files);
  engine.addFiles(files, $('keep-chosen').checked);
  update();
}

function bindData() {
  $('files').addEventListener('change', (e) => loadChosen(e.target.files));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); loadChosen(e.dataTransfer.files); });
  $('forget-data').addEventListener('click', () => engine && engine.forgetData());
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') $('files').click(); });
}

/** Training and test images loaded, before any limit: what a lesson's runs can use. */
function loadedImages() {
  const files = engine ? [...engine.files] : [];
  const count = (pick) => files.filter(([name]) => pick(name)).reduce((n, [, f]) => n + f.images, 0);
  return { train: count((n) => n !== TEST_FILE), test: count((n) => n === TEST_FILE) };
}

// ---------- models and downloads ----------
/** The teacher's models (models/manifest.json), which the lesson shows beside the class's runs. */
let hosted = { models: [], base: '' };
function bindDownloads() {
  for (const b of document.querySelectorAll('[data-download]')) {
    b.addEventListener('click', () => downloadCanvas($(b.dataset.download), `${b.dataset.download}-run${currentRun()?.id || 0}.png`));
  }
  $('download-csv').addEventListener('click', () => {
    const chosen = runs.filter((r) => selected.has(r.id));
    const list = chosen.length ? chosen : [currentRun()].filter(Boolean);
    const text = list.map(csv).map((c, i) => (i ? c.split('\n').slice(1).join('\n') : c)).join('');
    download(new Blob([text], { type: 'text/csv' }), 'vaelab-metrics.csv');
  });
  $('download-report').addEventListener('click', () => downloadReport(runs));
  $('download-model').addEventListener('click', async () => {
    const run = currentRun();
    if (!run) return;
    try {
      const bytes = engine.dead || run !== engine.run ? run.snapshot : await engine.save();
      if (!bytes) throw new Error('this run\'s weights are no longer held (only the current run keeps them)');
      download(new Blob([bytes]), `vaelab-${run.config.lossMode}${run.config.latentSize}-epoch${run.epoch}.safetensors`);
    } catch (e) {
      banner(`<b>Could not save the model:</b> ${escapeHtml(e.message || e)}`, { actions: [['Dismiss', hideBanner]] });
    }
  });
  $('load-model').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (file) openModel(new Uint8Array(await file.arrayBuffer()), file.name);
  });
}

/**
 * A saved model (ours or the PyTorch exercise's) becomes a paused run: the
 * engine reads its architecture, evaluates it once and draws its grids; no
 * step is taken until Resume.
 */
function openModel(bytes, name) {
  if (!engine || engine.dead) return;
  if (engine.testSize === 0) {
    banner(`<b>Cannot open ${escapeHtml(name)} yet:</b> the test images (<code>test_batch.bin</code>) are not loaded.`, { actions: [['Dismiss', hideBanner]] });
    return;
  }
  hideBanner();
  delete $('banner').dataset.shown;
  const run = engine.start(config, { model: bytes, paused: true });
  run.opened = { name };
  runs.push(run);
  update();
}

function onStarted(run) {
  if (!run.opened) return;
  // The architecture, and the schedule a VAE Lab file was trained with.
  const keep = ['lossMode', 'latentSize', ...SCHEDULE_KEYS];
  config = { ...config, ...Object.fromEntries(keep.filter((k) => k in run.config).map((k) => [k, run.config[k]])) };
  showConfig(config);
  syncUrl();
  banner(`Opened ${escapeHtml(run.opened.name)}: ${escapeHtml(describe(run.config))}. Press Resume to train it further.`, { info: true, actions: [['Dismiss', hideBanner]] });
}

function onStartFailed(run) {
  const i = runs.indexOf(run);
  if (run.opened && i >= 0) runs.splice(i, 1);
  if (engine.run === run) engine.run = null;
  banner(run.opened ? `<b>${escapeHtml(run.opened.name)} is not a model this page can load:</b> ${escapeHtml(run.error)}` : `<b>The run could not start:</b> ${escapeHtml(run.error)}`, { actions: [['Dismiss', hideBanner]] });
  $('banner').dataset.shown = '1';
}

/** `?model=<url>`: a checkpoint hosted next to the page opens as a paused run once the test set is in. */
async function openModelFromUrl(url) {
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`the server answered ${res.status} ${res.statusText}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    await engine.dataIdle();
    openModel(bytes, decodeURIComponent(new URL(url, location.href).pathname.split('/').pop() || url));
  } catch (e) {
    banner(`<b>Could not open the model at <code>${escapeHtml(url)}</code>:</b> ${escapeHtml(e.message || e)}`, { actions: [['Dismiss', hideBanner]] });
  }
}

// ---------- engine ----------
async function makeEngine() {
  engine = new Engine({
    backend,
    limits,
    onUpdate: update,
    onFatal: (run, reason, text) => {
      // Replaces any earlier message about the same failure with the restart offer.
      delete $('banner').dataset.shown;
      if (!run) banner(`<b>The engine stopped:</b> ${escapeHtml(text)}`, { actions: [['Restart the engine', restartEngine, 'restart-engine']] });
      update();
    },
    onRefused: (msg, info = false) => banner(info ? escapeHtml(msg) : `<b>Setting refused:</b> ${escapeHtml(msg)}`, { info, actions: [['Dismiss', hideBanner]] }),
    onDataError,
    onDataDone,
  });
  engine.onStarted = onStarted;
  engine.onStartFailed = onStartFailed;
  await engine.boot();
}

/** Data for a (re)booted engine: the data folder's files (stored or downloaded) and whatever the user chose. */
function feedEngine() {
  engine.loadData(dataBase());
  for (const files of picked) engine.addFiles(files, false);
}

/** A new worker, refilled with the page's data, continuing the run from its last snapshot. */
async function restartEngine() {
  const run = currentRun();
  hideBanner();
  delete $('banner').dataset.shown;
  if (run) { run.state = 'loading'; run.error = null; }
  update();
  try {
    engine.terminate();
    engine.files.clear();
    await engine.boot();
    feedEngine();
    await engine.dataIdle();
    if (run) {
      const done = run.snapshot ? run.snapshotEpochs : 0;
      run.tests = run.tests.slice(0, done);
      run.steps = run.steps.filter((s) => s.epoch < done);
      run.epoch = done;
      run.seenInEpoch = 0;
      run.error = null;
      run.markers.push({ x: done, label: 'restarted' });
      engine.start(run.config, { run, model: run.snapshot, epochsDone: done });
    }
  } catch (e) {
    pageError = e.message || String(e);
    banner(`<b>The engine could not restart:</b> ${escapeHtml(pageError)}. Reload the page.`);
  }
  update();
}

async function detectWebGpu() {
  if (backend === 'cpu') { adapterName = 'CPU (Burn flex, in wasm)'; return true; }
  if (!navigator.gpu) return false;
  try {
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return false;
    const i = adapter.info || {};
    adapterName = [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || 'WebGPU adapter';
    return true;
  } catch {
    return false;
  }
}

function noWebGpu() {
  adapterName = 'no WebGPU';
  banner(`<b>This browser offers no WebGPU</b>, so VAE Lab cannot train on your GPU here.
    WebGPU works in Chrome and Edge 113+ (Windows, macOS, ChromeOS, Android), Safari 26+, and Firefox 141+ on Windows.
    On Linux, Chrome needs <code>chrome://flags/#enable-unsafe-webgpu</code> (and Vulkan) turned on; check <code>chrome://gpu</code>.
    You can still train on the CPU inside this page: the same model code, but tens of times slower (fine for a few hundred images, not for 20 epochs).`, {
    actions: [['Train on the CPU instead (slow)', async () => {
      backend = 'cpu';
      page.backend = 'cpu';
      syncUrl();
      adapterName = 'CPU (Burn flex, in wasm)';
      pageState = 'loading';
      pageError = null;
      hideBanner();
      await boot();
    }, 'use-cpu']],
  });
  pageState = 'error';
  pageError = 'WebGPU is not available';
  update();
}

async function boot() {
  $('adapter').textContent = `GPU: ${adapterName}`;
  try {
    await makeEngine();
  } catch (e) {
    pageState = 'error';
    pageError = `Could not load the wasm engine (${e.message || e}). Was pkg/ built? Run scripts/serve.sh.`;
    banner(`<b>${escapeHtml(pageError)}</b>`);
    return;
  }
  pageError = null;
  feedEngine();
  pageState = 'idle';
  update();
  if (page.model) openModelFromUrl(page.model);
  const models = new URL('models/', location.href).href;
  const manifest = await loadManifest(models);
  hosted = { models: manifest.models, base: models };
  renderModels(manifest, models, (url) => openModelFromUrl(url));
  update();
}

async function main() {
  // Offline: the service worker keeps the page and pkg/ (sw.js); the data has its own store.
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js').catch(() => {});
  bindControls({ onChange: (next) => applyConfig(next), onPreset: (p) => applyConfig({ ...config, ...PRESET_BASE, ...p.config }, { fromPreset: true }) });
  bindData();
  bindDownloads();
  bindLab(() => engine, () => currentRun(), () => runs, update);
  const lessonProblems = bindLesson({
    start: (c) => { config = { ...c }; showConfig(config); syncUrl(); return startRun(); },
    select: (list) => { selected.clear(); for (const r of list) selected.add(r.id); },
    limit: (images, tests) => {
      limits.images = images;
      limits.tests = tests;
      engine?.setLimits(images, tests);
    },
    settings: () => config,
    page,
    update,
    sizes: loadedImages,
    hosted: () => hosted,
    open: (url) => openModelFromUrl(url),
  });
  $('train').addEventListener('click', () => startRun());
  $('pause').addEventListener('click', () => engine && engine.pause());
  $('resume').addEventListener('click', () => engine && engine.resume());
  $('reset').addEventListener('click', () => { if (engine) engine.reset(); pageState = 'idle'; hideBanner(); update(); });
  lockSettings(teacher.lock);
  applyTeacher(teacher);
  showConfig(config);
  syncUrl();
  const problems = [...parsed.problems, ...teacher.problems, ...lessonProblems];
  if (problems.length) {
    banner(`Some URL settings were not understood: ${escapeHtml(problems.join('; '))}. Defaults are used for them.`, { info: true, actions: [['Dismiss', hideBanner]] });
  }
  update();
  if (await detectWebGpu()) {
    $('adapter').textContent = `GPU: ${adapterName}`;
    await boot();
  } else {
    $('adapter').textContent = 'GPU: none (no WebGPU)';
    noWebGpu();
  }
}


main();
