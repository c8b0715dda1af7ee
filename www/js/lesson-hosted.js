// The exercise's real result beside the class's: where the teacher hosts the
// exercise's models (scripts/pretrain.sh writes them and models/manifest.json),
// each lesson step lists them next to the runs the class just trained, each
// labelled as what it is, so the class sees the quick answer and the real one.
import { EXERCISE } from './results.js';
import { lossesText } from './models.js';

const FULL = EXERCISE.full;

/** What a hosted model was trained on, in words: the exercise's own, or how far short of it. */
export function hostedLabel(model) {
  const images = model.trainImages || FULL.trainImages;
  const exercise = model.epochs === FULL.numEpochs && images >= FULL.trainImages;
  const what = `${model.epochs ?? '?'} epochs on ${images.toLocaleString('en')} images`;
  return exercise ? `the exercise's model (${what}), hosted by your teacher` : `a model hosted by your teacher (${what}; not the exercise's ${FULL.numEpochs} epochs on ${FULL.trainImages.toLocaleString('en')})`;
}

const losses = (lossMode, t) => (t ? lossesText(lossMode, t) : '–');

function cell(tag, text) {
  const c = document.createElement(tag);
  c.textContent = text;
  return c;
}

/**
 * Fills `box` with a table of the exercise runs `ids`: this lesson's run of
 * each (`made[id]`) beside the hosted model of the same name. Hidden when the
 * teacher hosts none of them. `onOpen(url, name)` opens one (offered only
 * when no lesson run is training, which opening would replace).
 */
export function renderHosted(box, { ids, made, hosted, base, busy, onOpen }) {
  const rows = ids
    .map((id) => EXERCISE.runs.find((r) => r.id === id))
    .map((ex) => ({ ex, run: made[ex.id], model: hosted.find((m) => m.name === ex.name) }))
    .filter((r) => r.model);
  box.hidden = !rows.length;
  const key = JSON.stringify([rows.map((r) => [r.ex.id, r.run?.id, r.run?.tests.length]), busy]);
  if (!rows.length || box.dataset.key === key) return;
  box.dataset.key = key;
  const table = document.createElement('table');
  table.className = 'results';
  table.append(cell('caption', 'Your runs beside the exercise\'s real result'));
  const head = document.createElement('tr');
  head.append(cell('th', 'run'), cell('th', 'yours, in this lesson'), cell('th', 'hosted by your teacher'));
  table.append(head);
  for (const { ex, run, model } of rows) {
    const tr = document.createElement('tr');
    tr.setAttribute('data-testid', `hosted-${ex.name}`);
    const last = run && run.tests.length ? run.tests[run.tests.length - 1] : null;
    const yours = run ? `#${run.id}: ${losses(run.config.lossMode, last)}` : 'not run yet';
    const theirs = cell('td', `${losses(model.config.lossMode, model.test)} — ${hostedLabel(model)} `);
    if (!busy) {
      const b = cell('button', 'Open');
      b.className = 'small';
      b.addEventListener('click', () => onOpen(new URL(model.file, base).href, model.name));
      theirs.append(b);
    }
    tr.append(cell('th', `${ex.name} (${ex.section})`), cell('td', yours), theirs);
    table.append(tr);
  }
  box.replaceChildren(table);
}
