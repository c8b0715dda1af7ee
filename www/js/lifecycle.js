// The engine's life: a worker booted and fed the page's data, restarted
// after a crash or a lost device (continuing the run from its last
// snapshot), and the WebGPU check that decides the backend.
import { app, currentRun, dataBase } from './app.js';
import { Engine } from './engine.js';
import { banner, hideBanner, escapeHtml, failure } from './banner.js';
import { loadManifest, renderModels } from './models.js';
import { update } from './render.js';
import { syncUrl } from './settings-flow.js';
import { onDataError, onDataDone } from './data-panel.js';
import { onStarted, onStartFailed, openModelFromUrl } from './model-files.js';
import { restoreRuns } from './kept-runs.js';

const $ = (id) => document.getElementById(id);

async function makeEngine() {
  app.engine = new Engine({
    backend: app.backend,
    limits: app.limits,
    onUpdate: update,
    onFatal: (run, reason, text) => {
      // Replaces any earlier message about the same failure with the restart offer.
      failure.forget();
      if (!run) banner(`<b>The engine stopped:</b> ${escapeHtml(text)}`, { actions: [['Restart the engine', restartEngine, 'restart-engine']] });
      update();
    },
    onRefused: (msg, info = false) => banner(info ? escapeHtml(msg) : `<b>Setting refused:</b> ${escapeHtml(msg)}`, { info, actions: [['Dismiss', hideBanner]] }),
    onDataError,
    onDataDone,
  });
  app.engine.onStarted = onStarted;
  app.engine.onStartFailed = onStartFailed;
  await app.engine.boot();
}

/** Data for a (re)booted engine: the data folder's files (stored or downloaded) and whatever the user chose. */
function feedEngine() {
  app.engine.loadData(dataBase());
  for (const files of app.picked) app.engine.addFiles(files, false);
}

/** A new worker, refilled with the page's data, continuing the run from its last snapshot. */
export async function restartEngine() {
  const run = currentRun();
  hideBanner();
  failure.forget();
  if (run) { run.to('loading'); run.error = null; }
  update();
  try {
    app.engine.terminate();
    app.engine.files.clear();
    await app.engine.boot();
    feedEngine();
    await app.engine.dataIdle();
    if (run) {
      run.rewind('restarted');
      app.engine.start(run.config, { run, model: run.snapshot, optimizer: run.snapshotAdam, paused: run.heldAtFailure });
    }
  } catch (e) {
    app.pageError = e.message || String(e);
    banner(`<b>The engine could not restart:</b> ${escapeHtml(app.pageError)}. Reload the page.`);
  }
  update();
}

export async function detectWebGpu() {
  if (app.backend === 'cpu') { app.adapterName = 'CPU (Burn flex, in wasm)'; return true; }
  if (!navigator.gpu) return false;
  try {
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return false;
    const i = adapter.info || {};
    app.adapterName = [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || 'WebGPU adapter';
    return true;
  } catch {
    return false;
  }
}

export function noWebGpu() {
  app.adapterName = 'no WebGPU';
  banner(`<b>This browser offers no WebGPU</b>, so VAE Lab cannot train on your GPU here.
    WebGPU works in Chrome and Edge 113+ (Windows, macOS, ChromeOS, Android), Safari 26+, and Firefox 141+ on Windows.
    On Linux, Chrome needs <code>chrome://flags/#enable-unsafe-webgpu</code> (and Vulkan) turned on; check <code>chrome://gpu</code>.
    You can still train on the CPU inside this page: the same model code, but tens of times slower (fine for a few hundred images, not for 20 epochs).`, {
    actions: [['Train on the CPU instead (slow)', async () => {
      app.backend = 'cpu';
      app.page.backend = 'cpu';
      syncUrl();
      app.adapterName = 'CPU (Burn flex, in wasm)';
      app.pageState = 'loading';
      app.pageError = null;
      hideBanner();
      await boot();
    }, 'use-cpu']],
  });
  app.pageState = 'error';
  app.pageError = 'WebGPU is not available';
  update();
}

/** A phone or small tablet: a touch screen as the only pointer, a narrow one. */
const onPhone = () => matchMedia('(pointer: coarse) and (not (any-pointer: fine)) and (max-width: 820px)').matches;

export async function boot() {
  $('adapter').textContent = `GPU: ${app.adapterName}`;
  // Training is allowed there (WebGPU or the CPU), and said to be slow.
  $('phone-note').hidden = !onPhone();
  try {
    await makeEngine();
  } catch (e) {
    app.pageState = 'error';
    app.pageError = `Could not load the wasm engine (${e.message || e}). Were pkg/ and pkg-cpu/ built? Run scripts/serve.sh.`;
    banner(`<b>${escapeHtml(app.pageError)}</b>`);
    return;
  }
  app.pageError = null;
  feedEngine();
  app.pageState = 'idle';
  update();
  await restoreRuns();
  update();
  if (app.page.model) openModelFromUrl(app.page.model);
  const models = new URL('models/', location.href).href;
  const manifest = await loadManifest(models);
  app.hosted = { models: manifest.models, base: models };
  renderModels(manifest, models, (url) => openModelFromUrl(url));
  update();
}
