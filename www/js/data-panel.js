// The data panel's side of the page: files chosen or dropped, what a data
// command's end means for the reader, and autostart once enough is loaded.
import { app, currentRun, dataBase } from './app.js';
import { TRAIN_FILES, TEST_FILE } from './data.js';
import { escapeHtml } from './banner.js';
import { update } from './render.js';
import { startRun } from './settings-flow.js';

const $ = (id) => document.getElementById(id);

export function onDataError(name, msg) {
  app.dataErrors.push(msg);
  update();
}

/** What a finished data command means for the reader. */
export async function onDataDone(m) {
  if (m.error) app.dataErrors.push(m.error);
  if (m.op === 'load') {
    const missing = Object.keys(m.missing || {});
    const essential = [TRAIN_FILES[0], TEST_FILE].filter((f) => missing.includes(f) && !app.engine.files.has(f));
    if (essential.length) {
      app.dataNotes = `<b>CIFAR-10 was not found at <code>${escapeHtml(dataBase())}</code></b> (missing ${essential.join(', ')}). Choose or drop the official <code>cifar-10-binary.tar.gz</code> or its <code>.bin</code> files below.`;
    } else if (missing.length) {
      app.dataNotes = `Not found on the server: ${missing.join(', ')}; training uses the files that are there.`;
    }
  }
  if (m.ignored && m.ignored.length) app.dataErrors.push(`Ignored ${m.ignored.join(', ')}: expected ${TRAIN_FILES[0]} … ${TRAIN_FILES.at(-1)}, ${TEST_FILE} or cifar-10-binary.tar.gz`);
  if (m.op === 'forget') app.dataNotes = 'The stored files were forgotten: the next visit downloads them again (what is loaded now stays loaded).';
  // Ask the browser not to evict what was stored (only a page can ask).
  if (app.persisted === null && [...app.engine.files.values()].some((f) => f.stored) && navigator.storage && navigator.storage.persist) {
    try { app.persisted = await navigator.storage.persist(); } catch { app.persisted = false; }
  }
  update();
}

// autostart=1: start as soon as one training batch and the test batch are in;
// the other batches join the run while it trains.
let autostarted = false;
export function maybeAutostart() {
  // Not while the runs of a last visit come back: the page goes on with those.
  if (app.page.autostart !== '1' || autostarted || app.restoring || !app.engine || currentRun() || app.page.model || app.runs.length) return;
  if (app.engine.trainSize > 0 && app.engine.testSize > 0) {
    autostarted = true;
    startRun();
  }
}

function loadChosen(fileList) {
  const files = [...fileList];
  if (!files.length || !app.engine) return;
  app.picked.push(files);
  app.engine.addFiles(files, $('keep-chosen').checked);
  update();
}

export function bindData() {
  $('files').addEventListener('change', (e) => loadChosen(e.target.files));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); loadChosen(e.dataTransfer.files); });
  $('forget-data').addEventListener('click', () => app.engine && app.engine.forgetData());
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') $('files').click(); });
}

/** Training and test images loaded, before any limit: what a lesson's runs can use. */
export function loadedImages() {
  const files = app.engine ? [...app.engine.files] : [];
  const count = (pick) => files.filter(([name]) => pick(name)).reduce((n, [, f]) => n + f.images, 0);
  return { train: count((n) => n !== TEST_FILE), test: count((n) => n === TEST_FILE) };
}
