// VAE Lab's page: wires the settings form, the data panel, the model files,
// the lab and the lesson to the page's state (app.js) and the engine (a Web
// Worker, lifecycle.js), and exposes window.vaelab for tests. Nothing on
// this thread trains or evaluates.
import { app, currentRun } from './app.js';
import { bindStatus } from './status.js';
import { update } from './render.js';
import { syncUrl, applyConfig, applyPreset, startRun } from './settings-flow.js';
import { bindData, loadedImages } from './data-panel.js';
import { bindDownloads, openModelFromUrl } from './model-files.js';
import { detectWebGpu, noWebGpu, boot } from './lifecycle.js';
import { banner, hideBanner, escapeHtml } from './banner.js';
import { bindControls, showConfig, lockSettings } from './controls.js';
import { applyTeacher } from './teacher.js';
import { bindLab } from './lab.js';
import { bindBound } from './lab-bound.js';
import { bindHover } from './chart-hover.js';
import { bindLesson } from './lesson.js';
import { learnAppSet, onNewerSet } from './app-set.js';

const $ = (id) => document.getElementById(id);

async function main() {
  // Offline: the service worker keeps the page and pkg/ (sw.js); the data has its own store.
  // One version of the page at a time: the engine's worker loads the set this page came from (app-set.js).
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js').catch(() => {});
  onNewerSet(() => { $('app-update').hidden = false; });
  bindStatus();
  bindControls({ onChange: (edit) => applyConfig({ ...app.config, ...edit }), onPreset: applyPreset });
  bindData();
  bindDownloads();
  bindLab(() => app.engine, () => currentRun(), () => app.runs, update);
  bindBound(() => app.engine, () => currentRun());
  for (const id of ['loss-chart', 'kl-chart', 'compare-chart', 'rd-chart']) bindHover(document.getElementById(id));
  const lessonProblems = bindLesson({
    start: (c) => { app.config = { ...c }; showConfig(app.config); syncUrl(); return startRun(); },
    select: (list) => { app.selected.clear(); for (const r of list) app.selected.add(r.id); },
    limit: (images, tests) => {
      app.limits.images = images;
      app.limits.tests = tests;
      app.engine?.setLimits(images, tests);
    },
    settings: () => app.config,
    page: app.page,
    update,
    sizes: loadedImages,
    hosted: () => app.hosted,
    open: (url) => openModelFromUrl(url),
  });
  $('train').addEventListener('click', () => startRun());
  $('pause').addEventListener('click', () => app.engine && app.engine.pause());
  $('resume').addEventListener('click', () => app.engine && app.engine.resume());
  $('reset').addEventListener('click', () => { if (app.engine) app.engine.reset(); app.pageState = 'idle'; hideBanner(); update(); });
  lockSettings(app.teacher.lock);
  applyTeacher(app.teacher);
  showConfig(app.config);
  syncUrl();
  const problems = [...app.urlProblems, ...app.teacher.problems, ...lessonProblems];
  if (problems.length) {
    banner(`Some URL settings were not understood: ${escapeHtml(problems.join('; '))}. Defaults are used for them.`, { info: true, actions: [['Dismiss', hideBanner]] });
  }
  update();
  await learnAppSet();
  if (await detectWebGpu()) {
    $('adapter').textContent = `GPU: ${app.adapterName}`;
    await boot();
  } else {
    $('adapter').textContent = 'GPU: none (no WebGPU)';
    noWebGpu();
  }
}

main();
