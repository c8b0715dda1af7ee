// Results against the exercise: every finished run with its final test
// losses, the exercise's threshold where it gives one (exercise.json), and
// pass / fail — or "not comparable" when the run is not the exercise's own
// (fewer epochs or images, other settings). Exported as an HTML report with
// each run's grids embedded, for a lab hand-in.
import EXERCISE from './exercise.json' with { type: 'json' };
import { describe } from './state.js';
import { DEFAULTS, SCHEDULE_KEYS } from './settings.js';
import { snapshot, download } from './grids.js';

export { EXERCISE };

/** The exercise run a config is (by its settings), or null. */
export function exerciseRun(config) {
  // Schedules beyond the exercise are not its runs.
  const extras = SCHEDULE_KEYS.filter((k) => !['targetBeta', 'betaMode'].includes(k));
  if (extras.some((k) => config[k] !== DEFAULTS[k])) return null;
  return EXERCISE.runs.find((r) => Object.entries(r.config).every(([k, v]) => config[k] === v)
    && (r.config.lossMode === 'ae' || r.config.betaMode === config.betaMode)) || null;
}

/** Why a run's numbers cannot be held against the threshold, or null when they can. */
export function notComparable(run) {
  const full = EXERCISE.full;
  const why = [];
  if (run.tests.length !== full.numEpochs) why.push(`${run.tests.length} of ${full.numEpochs} epochs`);
  if (run.trainImages && run.trainImages < full.trainImages) why.push(`${run.trainImages} of ${full.trainImages} training images`);
  if (run.testImages && run.testImages < full.testImages) why.push(`${run.testImages} of ${full.testImages} test images`);
  for (const k of ['batchSize', 'lr']) if (run.config[k] !== full[k]) why.push(`${k} ${run.config[k]} (the exercise: ${full[k]})`);
  return why.length ? why.join(', ') : null;
}

/** One row per finished-epoch run: `{run, exercise, recon, kl, threshold, result}`. */
export function results(runs) {
  return runs.filter((r) => r.tests.length).map((run) => {
    const last = run.tests[run.tests.length - 1];
    const ex = exerciseRun(run.config);
    const threshold = ex?.threshold ?? null;
    const why = notComparable(run);
    let result;
    if (!ex) result = 'not an exercise run';
    else if (why) result = `not comparable (${why})`;
    else if (threshold === null) result = 'no threshold';
    else result = last.recon < threshold ? 'pass' : 'FAIL';
    return { run, exercise: ex, recon: last.recon, kl: run.config.lossMode === 'vae' ? last.kl : null, threshold, result };
  });
}

export function renderResults(runs) {
  const body = document.querySelector('#results tbody');
  const rows = results(runs);
  body.replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    tr.setAttribute('data-testid', `result-${r.run.id}`);
    const cells = [
      `#${r.run.id} ${describe(r.run.config)}`,
      r.exercise ? `${r.exercise.section} ${r.exercise.name}` : '–',
      `${r.run.tests.length} / ${r.run.config.numEpochs}`,
      r.recon.toFixed(1),
      r.kl === null ? '–' : r.kl.toFixed(1),
      r.threshold === null ? '–' : `< ${r.threshold}`,
      r.result,
    ];
    for (const text of cells) tr.appendChild(Object.assign(document.createElement('td'), { textContent: text }));
    tr.lastChild.className = r.result === 'pass' ? 'pass' : r.result === 'FAIL' ? 'fail' : '';
    return tr;
  }));
  document.getElementById('results-empty').hidden = rows.length > 0;
  document.getElementById('download-report').disabled = !rows.length;
}

/** The results as a self-contained HTML page, each run's last grids embedded as PNGs. */
export function reportHtml(runs, when = new Date()) {
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  const img = (i, alt) => (i ? `<img alt="${esc(alt)}" src="${snapshot(i).toDataURL('image/png')}">` : '');
  const rows = results(runs).map((r) => `<tr><td>#${r.run.id} ${esc(describe(r.run.config))}</td><td>${r.exercise ? esc(`${r.exercise.section} ${r.exercise.name}`) : '–'}</td>`
    + `<td>${r.run.tests.length} / ${r.run.config.numEpochs}</td><td>${r.recon.toFixed(2)}</td><td>${r.kl === null ? '–' : r.kl.toFixed(2)}</td>`
    + `<td>${r.threshold === null ? '–' : `&lt; ${r.threshold}`}</td><td>${esc(r.result)}</td></tr>`).join('\n');
  const figures = results(runs).map((r) => `<figure><figcaption>#${r.run.id} ${esc(describe(r.run.config))}</figcaption>${img(r.run.recon, 'reconstructions')}${img(r.run.samples, 'samples')}</figure>`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>VAE Lab report</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem}img{image-rendering:pixelated;width:45%;margin:.3rem}</style></head><body>
<h1>VAE Lab: results against the exercise</h1>
<p>Written ${esc(when.toISOString())}. Pass: the test reconstruction loss at the last of ${EXERCISE.full.numEpochs} epochs is below the exercise's threshold; runs with fewer epochs or images are not comparable.</p>
<table><thead><tr><th>Run</th><th>Exercise</th><th>Epochs</th><th>Test recon</th><th>Test KL</th><th>Threshold</th><th>Result</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Grids (test image · reconstruction; samples)</h2>
${figures}
</body></html>
`;
}

export function downloadReport(runs) {
  download(new Blob([reportHtml(runs)], { type: 'text/html' }), 'vaelab-report.html');
}
