// Models as files: downloads (grids, metrics, report, weights), a model
// opened from a file or a URL as a paused run, and what the page does when
// the engine has started (or refused) one.
import { app, currentRun } from './app.js';
import { TEST_FILE, mb } from './data.js';
import { describe } from './state.js';
import { ARCHITECTURE_KEYS, SCHEDULE_KEYS } from './settings.js';
import { banner, hideBanner, escapeHtml, failure } from './banner.js';
import { downloadCanvas, download } from './grids.js';
import { showConfig } from './controls.js';
import { metricsCsv, metricsJsonl } from './metrics-export.js';
import { downloadReport } from './results.js';
import { update } from './render.js';

/** The largest model the settings allow (a VAE at latent 4096) is 206 MB: a bigger file is refused unread. */
const MAX_MODEL_BYTES = 256e6;
import { syncUrl } from './settings-flow.js';

const $ = (id) => document.getElementById(id);

export function bindDownloads() {
  for (const b of document.querySelectorAll('[data-download]')) {
    b.addEventListener('click', () => downloadCanvas($(b.dataset.download), `${b.dataset.download}-run${currentRun()?.id || 0}.png`));
  }
  // The runs chosen for comparison, else the current run.
  const exported = () => {
    const chosen = app.runs.filter((r) => app.selected.has(r.id));
    return chosen.length ? chosen : [currentRun()].filter(Boolean);
  };
  $('download-csv').addEventListener('click', () => download(new Blob([metricsCsv(exported())], { type: 'text/csv' }), 'vaelab-metrics.csv'));
  $('download-jsonl').addEventListener('click', () => {
    for (const run of exported()) download(new Blob([metricsJsonl(run)], { type: 'application/jsonl' }), `vaelab-run${run.id}-metrics.jsonl`);
  });
  $('download-report').addEventListener('click', () => downloadReport(app.runs));
  $('download-model').addEventListener('click', async () => {
    const run = currentRun();
    if (!run) return;
    try {
      // A stopped run (a NaN loss, a dead engine) or an earlier one gives its last snapshot: weights that worked.
      const held = app.engine.dead || run !== app.engine.run || run.state === 'error';
      const bytes = held ? run.snapshot : await app.engine.save();
      if (!bytes) throw new Error(run.state === 'error' ? 'the run stopped before its first epoch ended, so no weights were kept' : 'this run\'s weights are no longer held (only the current run keeps them)');
      const epoch = held ? run.snapshotEpochs : run.epoch;
      download(new Blob([bytes]), `vaelab-${run.config.lossMode}${run.config.latentSize}-epoch${epoch}.safetensors`);
    } catch (e) {
      banner(`<b>Could not save the model:</b> ${escapeHtml(e.message || e)}`, { actions: [['Dismiss', hideBanner]] });
    }
  });
  $('load-model').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (!file) return;
    if (file.size > MAX_MODEL_BYTES) {
      banner(`<b>${escapeHtml(file.name)} is not a model this page can load:</b> ${mb(file.size)} is more than the largest model it trains (${mb(MAX_MODEL_BYTES)}); not read.`, { actions: [['Dismiss', hideBanner]] });
      return;
    }
    openModel(new Uint8Array(await file.arrayBuffer()), file.name);
  });
}

/**
 * A saved model (ours or the PyTorch exercise's) becomes a paused run: the
 * engine reads its architecture, evaluates it once and draws its grids; no
 * step is taken until Resume.
 */
function openModel(bytes, name) {
  if (!app.engine || app.engine.dead) return;
  if (app.engine.testSize === 0) {
    banner(`<b>Cannot open ${escapeHtml(name)} yet:</b> the test images (<code>${TEST_FILE}</code>) are not loaded.`, { actions: [['Dismiss', hideBanner]] });
    return;
  }
  hideBanner();
  failure.forget();
  const run = app.engine.start(app.config, { model: bytes, paused: true });
  run.opened = { name };
  app.runs.push(run);
  update();
}

export function onStarted(run) {
  if (!run.opened) return;
  // The architecture, and the schedule a VAE Lab file was trained with.
  const keep = [...ARCHITECTURE_KEYS, ...SCHEDULE_KEYS];
  app.config = { ...app.config, ...Object.fromEntries(keep.filter((k) => k in run.config).map((k) => [k, run.config[k]])) };
  showConfig(app.config);
  syncUrl();
  const E = run.config.numEpochs;
  const trained = run.epoch ? `, trained for ${run.epoch} epoch${run.epoch > 1 ? 's' : ''}` : '';
  const next = run.epoch >= E ? `That is all of the ${E} the Epochs setting asks: raise Epochs, then press Resume, to train it further.` : `Press Resume to train it further${run.epoch ? ` from epoch ${run.epoch + 1} of ${E}` : ''}.`;
  banner(`Opened ${escapeHtml(run.opened.name)}: ${escapeHtml(describe(run.config))}${trained}. ${next}`, { info: true, actions: [['Dismiss', hideBanner]] });
}

export function onStartFailed(run) {
  const i = app.runs.indexOf(run);
  if (run.opened && i >= 0) app.runs.splice(i, 1);
  if (app.engine.run === run) app.engine.run = null;
  banner(run.opened ? `<b>${escapeHtml(run.opened.name)} is not a model this page can load:</b> ${escapeHtml(run.error)}` : `<b>The run could not start:</b> ${escapeHtml(run.error)}`, { actions: [['Dismiss', hideBanner]] });
  failure.markShown();
}

/** `?model=<url>`: a checkpoint hosted next to the page opens as a paused run once the test set is in. */
export async function openModelFromUrl(url) {
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`the server answered ${res.status} ${res.statusText}`);
    const size = Number(res.headers.get('content-length'));
    if (size > MAX_MODEL_BYTES) throw new Error(`${mb(size)} is more than the largest model this page trains (${mb(MAX_MODEL_BYTES)}); not read`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    await app.engine.dataIdle();
    openModel(bytes, decodeURIComponent(new URL(url, location.href).pathname.split('/').pop() || url));
  } catch (e) {
    banner(`<b>Could not open the model at <code>${escapeHtml(url)}</code>:</b> ${escapeHtml(e.message || e)}`, { actions: [['Dismiss', hideBanner]] });
  }
}
