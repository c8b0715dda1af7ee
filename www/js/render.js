// Drawing the page from its state, once per animation frame however many
// updates arrive; what must go on in a hidden tab (the lesson, autostart)
// runs in update(), not in the frame.
import { app, currentRun, state } from './app.js';
import { describe } from './state.js';
import { renderData } from './dataview.js';
import { drawCurves } from './curves.js';
import { banner, hideBanner, escapeHtml, failure } from './banner.js';
import { drawLatent, collapseNote } from './latent.js';
import { drawImage, clear } from './grids.js';
import { setButtons } from './controls.js';
import { showProgress } from './progress.js';
import { keepSoon } from './kept-runs.js';
import { renderRuns, renderCompare } from './runs.js';
import { renderLab } from './lab.js';
import { renderBound } from './lab-bound.js';
import { drawRatePlane } from './rdplane.js';
import { renderResults } from './results.js';
import { advanceLesson, renderLesson } from './lesson.js';
import { keepLessonInUrl } from './settings-flow.js';
import { maybeAutostart } from './data-panel.js';
import { restartEngine } from './lifecycle.js';
import { gridLabel, epochSummary } from './alt-text.js';
import { renderChartTables } from './chart-tables.js';

const $ = (id) => document.getElementById(id);

let frame = 0;
let renders = 0;
export function update() {
  if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); });
  // What must happen even where nothing is drawn (a hidden tab): not in render().
  advanceLesson(app.engine);
  maybeAutostart();
  keepSoon();
}

/** True once the page has drawn what its state says (views are drawn on the next animation frame). */
export function drawn() { return frame === 0 && renders > 0; }

function render() {
  renders += 1;
  const run = currentRun();
  const s = state();
  setButtons(s);
  showProgress(run, s, app.engine ? app.engine.trainSize : 0);
  drawCurves(run, app.config);
  $('chart-note').textContent = run ? `${describe(run.config)} · ${run.numParams.toLocaleString()} parameters · sums over pixels, averaged over the batch` : '';
  if (run && run.recon) drawImage($('recon-grid'), run.recon); else clear($('recon-grid'), run ? 'Reconstructions appear after the first steps' : '');
  const opened = run && run.opened && run.opened.test;
  $('opened-note').hidden = !opened;
  if (opened) $('opened-note').textContent = `${run.opened.name}: test recon ${opened.recon.toFixed(1)}${run.config.lossMode === 'vae' ? `, KL ${opened.kl < 10 ? opened.kl.toFixed(3) : opened.kl.toFixed(1)}` : ''} (one evaluation pass, before any training step).`;
  const vae = (run ? run.config : app.config).lossMode === 'vae';
  $('sample-note').hidden = vae;
  if (run && run.samples) drawImage($('sample-grid'), run.samples); else clear($('sample-grid'), '');
  sayWhatIsDrawn(run);
  $('latent-note').textContent = drawLatent($('latent-chart'), run ? run.latent : null, (run ? run.config : app.config).latentSize);
  const collapse = collapseNote(run);
  $('collapse-note').hidden = !collapse;
  if ($('collapse-note').textContent !== collapse) $('collapse-note').textContent = collapse;
  renderData(app.engine, { notes: app.dataNotes, errors: app.dataErrors, limited: Boolean(app.limits.images || app.limits.tests), persisted: app.persisted });
  renderRuns(app.runs, run, app.selected, (id, on) => { if (on) app.selected.add(id); else app.selected.delete(id); update(); });
  renderCompare(app.runs, app.selected);
  renderLab(app.engine, run);
  renderBound(run);
  drawRatePlane($('rd-chart'), app.runs);
  renderChartTables(run, app.runs);
  renderResults(app.runs);
  renderLesson(run);
  keepLessonInUrl();
  if (run && run.state === 'error' && !failure.shown) showRunError(run);
}

/** The grids' text alternatives, and each finished epoch's numbers for the live region (set only when they change: each change is announced). */
function sayWhatIsDrawn(run) {
  $('recon-grid').setAttribute('aria-label', gridLabel('recon', run && run.recon ? run : null));
  $('sample-grid').setAttribute('aria-label', run && run.samples ? gridLabel('samples', run) : gridLabel('samples', null));
  const summary = epochSummary(run);
  if ($('epoch-live').textContent !== summary) $('epoch-live').textContent = summary;
}

function showRunError(run) {
  failure.markShown();
  if (app.engine.dead) {
    const snap = !run.snapshot ? 'from the start' : run.snapshotEpochs ? `from the end of epoch ${run.snapshotEpochs}` : 'from the opened model';
    banner(`<b>Training stopped.</b> ${escapeHtml(run.error)} Curves and grids are kept.`, {
      actions: [[`Restart the engine and resume ${snap}`, restartEngine, 'restart-engine']],
    });
  } else {
    banner(`<b>Training stopped:</b> ${escapeHtml(run.error)}`, { actions: [['Dismiss', hideBanner]] });
  }
}
