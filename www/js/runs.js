// Run history: every run of the session with its settings, curves and latest
// grids; ticking two or more overlays their curves and lays their grids side by side.
import { drawChart, smooth } from './chart.js';
import { describe } from './state.js';
import { snapshot } from './grids.js';
import { styleOf } from './palette.js';


export function renderRuns(runs, current, selected, onToggle) {
  const body = document.querySelector('#runs tbody');
  body.replaceChildren();
  for (const run of [...runs].reverse()) {
    const tr = document.createElement('tr');
    tr.dataset.testid = `run-${run.id}`;
    tr.setAttribute('data-testid', `run-${run.id}`);
    if (run === current) tr.classList.add('current');
    const t = run.tests[run.tests.length - 1];
    const cells = [
      null,
      `#${run.id} ${describe(run.config)}`,
      `${run.tests.length} / ${run.config.numEpochs}`,
      t ? t.recon.toFixed(1) : '–',
      t && run.config.lossMode === 'vae' ? t.kl.toFixed(1) : '–',
      (run.error ? 'error' : run.state) + (run.weightsDropped ? ' · weights not kept' : ''),
    ];
    for (const [i, text] of cells.entries()) {
      const td = document.createElement('td');
      if (i === 0) {
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.checked = selected.has(run.id);
        box.setAttribute('aria-label', `compare run ${run.id}`);
        box.setAttribute('data-testid', `compare-${run.id}`);
        box.addEventListener('change', () => onToggle(run.id, box.checked));
        td.appendChild(box);
      } else td.textContent = text;
      if (i === 5 && run.weightsDropped) td.title = 'Earlier runs keep their models only while they fit in a bounded share of memory (a class session runs many); download a model while its run is current.';
      if (i === 5 && run.error) { td.title = run.error; td.className = 'error'; }
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

export function renderCompare(runs, selected) {
  const chosen = runs.filter((r) => selected.has(r.id));
  const box = document.getElementById('compare');
  box.hidden = chosen.length < 2;
  if (chosen.length < 2) return;
  const series = [];
  let xMax = 1;
  chosen.forEach((run, i) => {
    // Each run its colour and its marker; recon solid, KL dashed.
    const { color, marker } = styleOf(i);
    xMax = Math.max(xMax, run.config.numEpochs);
    series.push({ label: `#${run.id} recon`, color, points: smooth(run.steps.map((s) => [s.x, s.recon])) });
    if (run.config.lossMode === 'vae') series.push({ label: `#${run.id} KL`, color, dash: [6, 4], points: smooth(run.steps.map((s) => [s.x, s.kl])) });
    series.push({ label: `#${run.id} test`, color, marker, dots: true, width: 1, points: run.tests.map((t) => [t.epoch + 1, t.recon]) });
  });
  drawChart(document.getElementById('compare-chart'), { series, xMax });
  const grids = document.getElementById('compare-grids');
  grids.replaceChildren();
  for (const run of chosen) {
    const fig = document.createElement('figure');
    const cap = document.createElement('figcaption');
    cap.textContent = `#${run.id} ${describe(run.config)}`;
    fig.appendChild(cap);
    if (run.recon) fig.appendChild(snapshot(run.recon));
    if (run.samples) fig.appendChild(snapshot(run.samples));
    grids.appendChild(fig);
  }
}
