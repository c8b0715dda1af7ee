// The latent lab: asks the engine (explore.rs, through the worker) for
// traversals, interpolations and the aggregate posterior of the current
// run's model, and draws what comes back. Which images and dimensions to
// show is decided here; every number and pixel comes from the core.
import CORE from './core.json' with { type: 'json' };
import { drawImage, clear } from './grids.js';
import { drawHistograms } from './histograms.js';
import { PALETTE } from './palette.js';

const $ = (id) => document.getElementById(id);
const STRIP = { count: 16, cols: 8 };
// A 32-pixel image and its gap, as grid.rs tiles them.
const CELL = CORE.imageSize + CORE.gridGap;
const STEPS = 10;
const SWEEP = { limit: 3, steps: 9 };
const TOP_DIMS = 5; // traversal rows, plus one dead dimension
const HIST_DIMS = 4;

const lab = {
  picks: [], // test-image indices clicked, at most two
  cursor: 0, // the strip's image the keyboard is on
  pair: [0, 1], // prior draws (the samples grid's positions) for slerp
  key: null, // what the views were last drawn for
  busy: false,
  again: false,
  stripFor: null,
  rows: { traverse: [], interp: [] },
  histograms: 0,
  error: null,
};

/** What the lab shows, for the end-to-end tests. */
export function labStatus() {
  return {
    picks: [...lab.picks],
    strip: lab.stripFor !== null,
    traverseRows: [...lab.rows.traverse],
    interpRows: [...lab.rows.interp],
    histograms: lab.histograms,
    busy: lab.busy,
    error: lab.error,
  };
}

export function bindLab(getEngine, getRun, getRuns, update) {
  const refresh = () => { lab.key = null; update(); };
  lab.context = { getEngine, getRun, getRuns, update };
  $('lab-strip').addEventListener('click', (e) => {
    const c = e.currentTarget;
    // Canvas pixels from CSS pixels (the strip is shown scaled).
    const x = (e.offsetX * c.width) / c.clientWidth, y = (e.offsetY * c.height) / c.clientHeight;
    const col = Math.floor((x - CORE.gridGap) / CELL), row = Math.floor((y - CORE.gridGap) / CELL);
    const i = row * STRIP.cols + col;
    if (col < 0 || col >= STRIP.cols || row < 0 || i >= STRIP.count) return;
    lab.cursor = i;
    pick(i);
    refresh();
  });
  // The keyboard as the mouse: arrows move over the images, Enter or Space picks.
  const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: STRIP.cols, ArrowUp: -STRIP.cols };
  $('lab-strip').addEventListener('keydown', (e) => {
    if (e.key in moves) lab.cursor = Math.min(STRIP.count - 1, Math.max(0, lab.cursor + moves[e.key]));
    else if (e.key === 'Home') lab.cursor = 0;
    else if (e.key === 'End') lab.cursor = STRIP.count - 1;
    else if (e.key === 'Enter' || e.key === ' ') { pick(lab.cursor); e.preventDefault(); refresh(); return; }
    else return;
    e.preventDefault();
    redrawStrip();
  });
  for (const type of ['focus', 'blur']) $('lab-strip').addEventListener(type, redrawStrip);
  $('lab-next-pair').addEventListener('click', () => {
    lab.pair = lab.pair.map((p) => (p + 2) % CORE.sampleCount);
    refresh();
  });
}

/** Redraws the lab when the run, its epoch or the picks changed (one request chain at a time). */
export function renderLab(engine, run) {
  const ready = engine && run && run.latent && !engine.dead && run.state !== 'loading';
  // A run that stops (a NaN loss) is drawn again, from its last snapshot.
  const key = ready ? `${run.id}:${run.tests.length}:${run.state === 'error'}:${run.latent.order.length}:${lab.picks.join(',')}:${lab.pair}` : null;
  if (!ready) {
    $('lab-note').textContent = run ? 'shown once the run has finished an epoch (or a model is opened)' : 'train a model (or open one) to look inside its code';
    if (lab.key !== null || !run) reset();
    return;
  }
  if (key === lab.key) return;
  if (lab.busy) { lab.again = true; return; }
  lab.key = key;
  draw(engine, run).catch((e) => { lab.error = e.message || String(e); $('lab-note').textContent = `could not draw: ${lab.error}`; });
}

/** A click or Enter on image `i`: the first pick, the second, or a fresh first. */
function pick(i) {
  if (lab.picks.length >= 2 || lab.picks[0] === i) lab.picks = [i];
  else lab.picks.push(i);
}

/** The strip again (its keyboard cursor moved, or it gained or lost focus): no question to the engine. */
function redrawStrip() {
  const run = lab.context.getRun();
  if (!lab.stripImage || lab.stripFor === null || !run) return;
  show($('lab-strip'), lab.stripImage);
  outline(run);
}

function reset() {
  lab.key = null;
  lab.stripFor = null;
  lab.rows = { traverse: [], interp: [] };
  lab.histograms = 0;
  for (const id of ['lab-strip', 'lab-traverse', 'lab-interp', 'lab-hist', 'lab-prior', 'lab-fitted']) clear($(id), '');
  $('lab-traverse-labels').replaceChildren();
  $('lab-interp-labels').replaceChildren();
  $('lab-picked').textContent = '';
}

async function draw(engine, run) {
  lab.busy = true;
  lab.error = null;
  try {
    const vae = run.config.lossMode === 'vae';
    const usage = run.latent;
    // A run stopped by a NaN or infinite loss is explored as its last snapshot, not its broken weights.
    const own = run.state === 'error' && run.snapshot ? run.snapshot : null;
    $('lab-note').textContent = own ? `run #${run.id} as after epoch ${run.snapshotEpochs}, its last snapshot before it stopped` : `run #${run.id} after epoch ${run.tests.length || run.epoch}`;
    if (lab.stripFor !== run.id) {
      lab.stripImage = await engine.ask('strip', STRIP, own);
      lab.stripFor = run.id;
    }
    // Redrawn each time: the picks' outlines go on a clean copy.
    show($('lab-strip'), lab.stripImage);
    outline(run);
    const [a, b] = lab.picks;
    if (a !== undefined) {
      // The dimensions the test set uses most, and the one it uses least.
      const dims = usage.order.slice(0, Math.min(TOP_DIMS, usage.order.length - 1));
      const dead = usage.order[usage.order.length - 1];
      dims.push(dead);
      show($('lab-traverse'), await engine.ask('traverse', { index: a, dims, ...SWEEP }, own));
      lab.rows.traverse = dims.map((j, k) => {
        const v = vae ? `KL ${usage.klPerDim[j].toFixed(2)} nats` : `variance ${usage.variance[j].toPrecision(2)}`;
        return `${k === dims.length - 1 ? 'least used: ' : ''}dim ${j} · ${v}${usage.variance[j] > usage.threshold ? '' : ' (inactive)'}`;
      });
    } else {
      clear($('lab-traverse'), 'Click a test image above');
      lab.rows.traverse = [];
    }
    labels($('lab-traverse-labels'), lab.rows.traverse);
    const rows = [], names = [];
    if (b !== undefined) {
      rows.push(await engine.ask('interpolate', { a, b, steps: STEPS }, own));
      names.push(`this run (${vae ? 'VAE' : 'AE'}): test #${a} → #${b}, straight line`);
      // The other kind of model of the same latent size, when an earlier run kept its weights.
      const other = lab.context.getRuns().filter((r) => r !== run && r.snapshot && r.config.latentSize === run.config.latentSize && r.config.lossMode !== run.config.lossMode).pop();
      if (other) {
        rows.push(await engine.ask('interpolate', { a, b, steps: STEPS }, other.snapshot));
        names.push(`run #${other.id} (${other.config.lossMode === 'vae' ? 'VAE' : 'AE'}), same path`);
      }
    }
    rows.push(await engine.ask('interpolateSamples', { a: lab.pair[0], b: lab.pair[1], steps: STEPS }, own));
    names.push(`prior draws #${lab.pair[0]} → #${lab.pair[1]}, slerp${vae ? '' : ' (an AE has no prior: expect garbage)'}`);
    $('lab-pair').textContent = `#${lab.pair[0]}, #${lab.pair[1]}`;
    stack($('lab-interp'), rows);
    lab.rows.interp = names;
    labels($('lab-interp-labels'), names);
    const histDims = usage.order.slice(0, HIST_DIMS);
    const post = await engine.ask('posterior', { dims: histDims, bins: 30, count: 10 }, own);
    drawHistograms($('lab-hist'), post.histograms, vae ? 'μ' : 'z');
    lab.histograms = post.histograms.length;
    show($('lab-prior'), post.prior);
    show($('lab-fitted'), post.fitted);
  } finally {
    lab.busy = false;
    if (lab.again) { lab.again = false; lab.key = null; lab.context.update(); }
  }
}

/** An image at twice its size (its pixels kept sharp by CSS). */
function show(canvas, img) {
  drawImage(canvas, img);
  canvas.style.width = `${img.width * 2}px`;
}

/** Rows of equal-width images, one under the other. */
function stack(canvas, images) {
  const w = Math.max(...images.map((i) => i.width));
  const h = images.reduce((sum, i) => sum + i.height, 0);
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  let y = 0;
  for (const img of images) {
    ctx.putImageData(new ImageData(img.data, img.width, img.height), 0, y);
    y += img.height;
  }
  canvas.style.width = `${w * 2}px`;
}

function labels(list, texts) {
  list.replaceChildren(...texts.map((t) => Object.assign(document.createElement('li'), { textContent: t })));
}

/** Marks the picked test images on the strip: a (blue, solid), b (vermillion, dashed): not by colour alone. */
function outline(run) {
  const ctx = $('lab-strip').getContext('2d');
  lab.picks.forEach((i, k) => {
    const x = 1 + (i % STRIP.cols) * CELL, y = 1 + Math.floor(i / STRIP.cols) * CELL;
    ctx.strokeStyle = PALETTE[k ? 1 : 0];
    ctx.setLineDash(k ? [3, 2] : []);
    ctx.lineWidth = 2;
    ctx.strokeRect(x, y, CELL, CELL);
  });
  ctx.setLineDash([]);
  const strip = $('lab-strip');
  if (document.activeElement === strip) {
    // The keyboard's image: a black dotted ring inside the cell.
    const x = 1 + (lab.cursor % STRIP.cols) * CELL, y = 1 + Math.floor(lab.cursor / STRIP.cols) * CELL;
    ctx.strokeStyle = '#000';
    ctx.setLineDash([1, 2]);
    ctx.lineWidth = 1;
    ctx.strokeRect(x + 3, y + 3, CELL - 6, CELL - 6);
    ctx.setLineDash([]);
  }
  const state = lab.picks.includes(lab.cursor) ? ', picked' : '';
  strip.setAttribute('aria-label', `Test images to pick from, ${STRIP.count} in ${STRIP.count / STRIP.cols} rows: arrow keys move, Enter picks. On image #${lab.cursor}${state}.`);
  $('lab-picked').textContent = lab.picks.length
    ? `Picked test image${lab.picks.length > 1 ? 's' : ''} ${lab.picks.map((i) => `#${i}`).join(' and ')} (run #${run.id}).`
    : '';
}
