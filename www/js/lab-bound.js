// "What the loss means", in the latent lab: the current run's loss as a
// bound on the likelihood of the test images, k = 1 (the ELBO) beside a
// larger k (the importance-weighted bound). Every number comes from the core
// (bound.rs, through the worker); this file asks and shows.

import { fill } from './chart-tables.js';

const $ = (id) => document.getElementById(id);
/** Test images and samples per image: 6,400 decodings, seconds on a GPU. */
export const BOUND = { images: 100, k: 64 };

/** `forRun`: the run and its epochs the result is of (`id:epochs`). */
const state = { result: null, forRun: null, busy: false, error: null };

export function boundStatus() {
  return { result: state.result && { ...state.result }, forRun: state.forRun, busy: state.busy, error: state.error };
}

const f = (v, d) => v.toFixed(d);

function show(run) {
  const table = $('bound-table');
  const r = state.result;
  table.hidden = !r;
  if (!r) return;
  fill('bound-table', state.forRun, ['Bound on −ln p(x)', 'nats per image', 'bits per dimension'], [
    [`k = 1: the ELBO (recon + KL + ${f(r.constantNats, 1)})`, f(r.elboNats, 1), f(r.elboBitsPerDim, 4)],
    [`k = ${r.k}: importance-weighted`, f(r.iwaeNats, 1), f(r.iwaeBitsPerDim, 4)],
    [`${r.k} samples tightened it by`, f(r.gapNats, 2), ''],
  ]);
  $('bound-note').textContent = `Run #${run.id} after ${run.tests.length} epoch${run.tests.length === 1 ? '' : 's'}, on the first ${r.images} test images, ${r.k} samples of q(z | x) each.`;
}

/** Binds the button: `getEngine`, `getRun` as the lab's. */
export function bindBound(getEngine, getRun) {
  $('bound-measure').addEventListener('click', async () => {
    const engine = getEngine(), run = getRun();
    if (!engine || engine.dead || !run || state.busy) return;
    state.busy = true;
    state.error = null;
    $('bound-measure').disabled = true;
    $('bound-note').textContent = `Measuring run #${run.id} on ${BOUND.images} test images, ${BOUND.k} samples each…`;
    try {
      // A run stopped by a NaN loss is measured as its last snapshot.
      const own = run.state === 'error' && run.snapshot ? run.snapshot : null;
      state.result = await engine.ask('bound', BOUND, own);
      state.forRun = measured(run);
      show(run);
    } catch (e) {
      state.result = null;
      state.error = e.message || String(e);
      $('bound-table').hidden = true;
      $('bound-note').textContent = state.error;
    } finally {
      state.busy = false;
      $('bound-measure').disabled = false;
    }
  });
}

const measured = (run) => `${run.id}:${run.tests.length}`;

/** A measurement belongs to its run as it was: another run, or another epoch, clears it. */
export function renderBound(run) {
  if (state.forRun !== null && (!run || state.forRun !== measured(run)) && !state.busy) {
    state.result = null;
    state.forRun = null;
    $('bound-table').hidden = true;
    $('bound-note').textContent = '';
  }
}
