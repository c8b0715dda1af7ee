// How an edit of the settings flows: checked against the table and the
// teacher's locks, shown in the form and the URL, and applied to the run in
// progress (a schedule or epochs change) or to a new one (an architecture).
import { app, currentRun } from './app.js';
import { FIRST } from './data.js';
import { toQuery, sameArchitecture } from './state.js';
import { DEFAULTS, SCHEDULE_KEYS, TRAINING_KEYS, configProblems } from './settings.js';
import { banner, hideBanner, escapeHtml, failure } from './banner.js';
import { showConfig } from './controls.js';
import { lockedChanges } from './teacher.js';
import { lessonOptions } from './lesson.js';
import { update } from './render.js';

const $ = (id) => document.getElementById(id);

export function syncUrl() {
  history.replaceState(null, '', toQuery(app.config, app.page) || location.pathname);
  $('share').href = location.href;
}

function noteFor(next) {
  const run = currentRun();
  if (!run || run.state === 'done') return '';
  // A run takes a new number of epochs as it goes; the other training settings wait for the next run.
  const later = TRAINING_KEYS.filter((k) => k !== 'numEpochs' && next[k] !== run.config[k]);
  return later.length ? `${later.join(', ')} apply to the next run (press Train).` : '';
}

export async function applyConfig(next, { fromPreset = false } = {}) {
  // An edit out of the table's range is named and undone; the run goes on.
  const refused = configProblems(next);
  if (refused.length) {
    showConfig(app.config);
    $('config-note').textContent = `Not applied: ${refused.join('; ')}.`;
    return;
  }
  // A teacher's link fixed these: refused by name (presets that change them are disabled).
  const fixed = lockedChanges(app.teacher.lock, app.config, next);
  if (fixed.length) {
    showConfig(app.config);
    $('config-note').textContent = `Not applied: ${fixed.join(', ')} ${fixed.length > 1 ? 'are' : 'is'} locked by the teacher's link.`;
    return;
  }
  const prev = app.config;
  app.config = { ...next };
  showConfig(app.config);
  syncUrl();
  const run = currentRun();
  $('config-note').textContent = noteFor(app.config);
  if (fromPreset) return startRun();
  if (!run || run.state === 'error') return;
  // A finished run trains on when its epochs are raised (it is held paused); its other settings wait for the next run.
  if (run.state === 'done') {
    if (app.config.numEpochs > run.config.numEpochs && run === app.engine.run) app.engine.setEpochs(app.config.numEpochs);
    return;
  }
  try {
    if (!sameArchitecture(prev, app.config)) return startRun();
    if (SCHEDULE_KEYS.some((k) => prev[k] !== app.config[k])) app.engine.setSchedule(app.config);
    if (prev.numEpochs !== app.config.numEpochs) app.engine.setEpochs(app.config.numEpochs);
  } catch (e) {
    banner(`<b>Setting refused:</b> ${escapeHtml(e.message || e)}`, { actions: [['Dismiss', hideBanner]] });
  }
  update();
}

/** Starts a run of the settings in force; returns it (null when it cannot start). */
export function startRun() {
  if (!app.engine || app.engine.dead) return null;
  if (app.engine.trainSize === 0 || app.engine.testSize === 0) {
    banner(`Training needs CIFAR-10: at least <code>${FIRST.join('</code> and <code>')}</code>. Load them in the Data panel below.`, { info: true, actions: [['Dismiss', hideBanner]] });
    return null;
  }
  hideBanner();
  failure.forget();
  const run = app.engine.start(app.config);
  app.runs.push(run);
  update();
  return run;
}

/** The lesson's variant, step and decisions stay in the URL, so its link reopens it there. */
export function keepLessonInUrl() {
  const opts = lessonOptions();
  const keys = ['lesson', 'lessonStep', 'lessonLatent', 'lessonBeta'];
  if (keys.every((k) => app.page[k] === opts[k])) return;
  for (const k of keys) { if (opts[k] == null) delete app.page[k]; else app.page[k] = opts[k]; }
  syncUrl();
}

// A preset sets the model and beta; the KL's weighting returns to the
// exercise's constant 1 (no free bits) unless the preset says otherwise.
const PRESET_BASE = Object.fromEntries(SCHEDULE_KEYS.map((k) => [k, DEFAULTS[k]]));

/** A preset of the exercise's runs: its settings in force, and a run of them. */
export function applyPreset(p) {
  return applyConfig({ ...app.config, ...PRESET_BASE, ...p.config }, { fromPreset: true });
}
