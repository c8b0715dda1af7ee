// The engine, in a dedicated module Worker: it loads pkg/, owns the dataset
// and the current run's trainer, and runs the core's epoch loop (Rust's
// EpochDriver, through WebTrainer.advance) in time-boxed calls. The page only
// sends commands and draws what comes back: step metrics, epoch reports,
// grids as transferable RGBA buffers, snapshots, errors.
//
// Nothing here computes a number: scheduling (when to call, when to draw a
// grid, when to apply a setting) is all this file decides.

import init, * as wasm from '../../pkg/vaelab.js';
import { Store, loadAll, loadPicked } from './loader.js';
import CORE from './core.json' with { type: 'json' };
import { COMMANDS, IMMEDIATE } from './protocol.js';

/** Milliseconds of training per call: Pause and settings wait at most this long (plus one step). */
const CALL_MS = 250;
/** Grids may take at most this share of the engine's time (they also refresh at every epoch end). */
const GRID_SHARE = 0.1;
const GRID_MIN_GAP_MS = 1000;

let exports = null;
let backendName = 'webgpu';
let dataset = null;
let trainer = null;
let runId = 0;
let running = false;
/** A command is using the trainer outside the loop (start, save): data and settings wait. */
let busy = 0;
let stopRequested = false;
let looping = null;
let ops = [];
/** A schedule waiting for the trainer (`{config, id}`): later ones replace it. */
let scheduleAsked = null;
/** The chain running `ops`, while one runs. */
let applying = null;
let gpuDevice = null;
let deviceLost = null; // the reason, once the GPU device is gone
let fatalSent = false;
let store = new Store();
let markReady;
const ready = new Promise((r) => { markReady = r; });

const post = (msg, transfer = []) => self.postMessage(msg, transfer);
const message = (e) => (e && e.message ? e.message : String(e));

/** A Rust panic aborts the wasm instance: every later call would fail, so the worker must be replaced. */
function isFatal(e) {
  return e instanceof WebAssembly.RuntimeError || /unreachable|RuntimeError|memory access out of bounds/i.test(String(e && (e.stack || e.message || e)));
}

function fatal(reason, text) {
  if (fatalSent) return;
  fatalSent = true;
  running = false;
  stopRequested = true;
  // A lost device often shows first as a panic in wgpu: give its 'lost'
  // promise a moment, so the page is told the cause rather than the symptom.
  const send = () => post(deviceLost ? { type: 'fatal', run: runId, reason: 'device-lost', message: deviceLost } : { type: 'fatal', run: runId, reason, message: text });
  if (reason === 'panic' && gpuDevice && !deviceLost) setTimeout(send, 300);
  else send();
}

// Keep the GPUDevice that wgpu asks for: its loss is reported at once (a lost
// device would otherwise surface as a hung read), and tests can destroy it.
if (self.GPUAdapter && GPUAdapter.prototype.requestDevice) {
  const request = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await request.apply(this, args);
    gpuDevice = device;
    device.lost.then((info) => {
      if (device !== gpuDevice) return;
      deviceLost = `the GPU device was lost (${info.reason || 'unknown reason'}${info.message ? `: ${info.message}` : ''})`;
      fatal('device-lost', deviceLost);
    });
    return device;
  };
}

self.addEventListener('unhandledrejection', (e) => {
  if (isFatal(e.reason)) fatal('panic', `the engine crashed: ${message(e.reason)}`);
});

function memoryBytes() {
  return exports && exports.memory ? exports.memory.buffer.byteLength : 0;
}

function dataSizes() {
  return { type: 'data', train: dataset.train_size(), test: dataset.test_size(), files: dataset.files(), deviceBytes: dataset.device_bytes(), wasmMemory: memoryBytes() };
}

/** One official file into the dataset (replacing its earlier copy); false when refused. */
function addFile(name, bytes, { from, stored }) {
  try {
    const info = dataset.add_file(name, bytes);
    post({ type: 'data-file', name: info.name, images: info.images, replaced: info.replaced, from, stored, bytes: bytes.length });
    post(dataSizes());
    return true;
  } catch (e) {
    if (isFatal(e)) throw e;
    post({ type: 'data-error', name, message: message(e) });
    return false;
  }
}

const storage = () => ({ available: Boolean(store.cache), refused: store.refused });
const dataCallbacks = {
  add: addFile,
  stored: (name) => post({ type: 'data-stored', name, storage: storage() }),
  progress: (p) => post({ type: 'data-progress', ...p }),
  refused: (name, why) => post({ type: 'data-error', name, message: why }),
  unpack: (name, bytes) => {
    try {
      return wasm.WebDataset.unpack_tar_gz(name, bytes);
    } catch (e) {
      if (isFatal(e)) throw e;
      post({ type: 'data-error', name, message: message(e) });
      return null;
    }
  },
};

/** Data commands run beside training (a run takes a snapshot of the files per epoch). */
async function dataOp(op, work) {
  await ready;
  try {
    const out = await work();
    post({ type: 'data-done', op, ...out, storage: storage(), wasmMemory: memoryBytes() });
  } catch (e) {
    if (isFatal(e)) return fatal('panic', `the engine crashed: ${message(e)}`);
    post({ type: 'data-done', op, error: message(e), storage: storage() });
  }
}

/** Settings wait for the call in flight (the trainer is busy during it); data does not (see dataOp). */
function whenIdle(op) {
  ops.push(op);
  if (!running && !busy) applyOps();
}

/**
 * Runs the queued settings and lab questions, one at a time, in one chain:
 * a second caller (the loop, a new command) joins the chain in flight
 * rather than starting another beside it, so two never hold the trainer at once.
 */
function applyOps() {
  if (!applying) {
    applying = (async () => {
      while (ops.length) {
        const op = ops.shift();
        try {
          await op();
        } catch (e) {
          if (isFatal(e)) { ops = []; return fatal('panic', `the engine crashed: ${message(e)}`); }
          post({ type: 'refused', run: runId, message: message(e) });
        }
      }
    })().finally(() => { applying = null; });
  }
  return applying;
}

/** Waits for settings and lab questions in flight: the trainer they use must not be freed under them. */
async function opsSettled() {
  while (applying) await applying;
}

function image(img) {
  return { width: img.width, height: img.height, data: img.data };
}

async function grids(id) {
  const t0 = performance.now();
  const recon = image(await trainer.reconstruct());
  const cfg = trainer.config();
  const samples = cfg.lossMode === 'vae' ? image(await trainer.sample(CORE.sampleCount, 10)) : null;
  const transfer = [recon.data.buffer, ...(samples ? [samples.data.buffer] : [])];
  post({ type: 'grids', run: id, recon, samples }, transfer);
  return performance.now() - t0;
}

/** What a restart goes on from: the model and Adam's state after the epoch just finished. */
async function snapshot(id) {
  const bytes = await trainer.save();
  const adam = await trainer.optimizer_state();
  post({ type: 'snapshot', run: id, epochsDone: trainer.epoch(), bytes, adam }, [bytes.buffer, adam.buffer]);
}

// A macrotask by message, not by timer: a browser may throttle the timers of
// a hidden tab's worker (Chromium has proposed it, chromestatus 6334419736461312);
// messages are delivered as they come, so a lesson trains on in a background tab.
const yielder = new MessageChannel();
const yielded = [];
yielder.port1.onmessage = () => yielded.shift()?.();
function macrotask() {
  return new Promise((resolve) => { yielded.push(resolve); yielder.port2.postMessage(0); });
}

async function loop(id) {
  let gridMs = 0;
  let trainedSinceGrid = 0;
  let lastGrid = performance.now();
  try {
    while (!stopRequested && id === runId) {
      await applyOps();
      if (stopRequested || id !== runId) break;
      if (trainer.finished()) { post({ type: 'state', run: id, state: 'done' }); break; }
      const out = await trainer.advance(CALL_MS);
      post({ type: 'progress', run: id, ...out });
      trainedSinceGrid += out.millis;
      if (out.epochEnd) {
        gridMs = await grids(id);
        trainedSinceGrid = 0;
        lastGrid = performance.now();
        await snapshot(id);
      } else if (trainedSinceGrid * GRID_SHARE >= gridMs * (1 - GRID_SHARE) && performance.now() - lastGrid > GRID_MIN_GAP_MS) {
        gridMs = await grids(id);
        trainedSinceGrid = 0;
        lastGrid = performance.now();
      }
      if (out.finished) { post({ type: 'state', run: id, state: 'done' }); break; }
      // A macrotask between calls: on the CPU backend the call itself never
      // yields, and Pause must be able to arrive.
      await macrotask();
    }
  } catch (e) {
    if (isFatal(e)) return fatal('panic', `the engine crashed: ${message(e)}`);
    // A failed device read is often the first sign of a lost device, whose
    // 'lost' promise settles a moment later: then the engine must be replaced.
    if (gpuDevice && !deviceLost) await new Promise((r) => setTimeout(r, 1000));
    if (deviceLost) return fatal('device-lost', deviceLost);
    post({ type: 'error', run: id, message: message(e) });
  }
}

function startLoop() {
  if (!trainer || running) return;
  running = true;
  stopRequested = false;
  post({ type: 'state', run: runId, state: 'training' });
  const id = runId;
  looping = loop(id).finally(async () => {
    running = false;
    looping = null;
    await applyOps();
    if (stopRequested && id === runId && !fatalSent && trainer && !trainer.finished()) post({ type: 'state', run: id, state: 'paused' });
  });
}

async function stopLoop() {
  if (!looping) return;
  stopRequested = true;
  await looping;
}

/** The KL weight planned over the run (the core's schedule), for the KL chart's dashed line. */
function plan(t) {
  const cfg = t.config();
  return cfg.lossMode === 'vae' ? wasm.schedule_curve(cfg, 400) : null;
}

/** The largest buffer this GPU takes, from the adapter the engine's device is made from (0: not known). */
async function largestGpuBuffer() {
  const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  return adapter ? Math.min(adapter.limits.maxStorageBufferBindingSize, adapter.limits.maxBufferSize) : 0;
}

/** A trainer holding an earlier run's snapshot, for the lab; freed by the caller. */
async function snapshotTrainer(model) {
  const t = await wasm.WebTrainer.open(model, {}, backendName);
  t.set_data(dataset);
  return t;
}

/** The lab's questions, each answered from the core (explore.rs) as images and numbers. */
const LAB = {
  strip: (t, a) => t.test_images(a.count, a.cols),
  traverse: (t, a) => t.traverse(a.index, Uint32Array.from(a.dims), a.limit, a.steps),
  interpolate: (t, a) => t.interpolate(a.a, a.b, a.steps),
  interpolateSamples: (t, a) => t.interpolate_samples(a.a, a.b, a.steps),
  posterior: (t, a) => t.aggregate_posterior(Uint32Array.from(a.dims), a.bins, a.count),
};

/**
 * A run: new (`config`), a model opened from a file (`model`), or a run
 * restarted from its snapshot (`model` and `optimizer`, or `model` alone with
 * `reopen` for an opened model before its first epoch ended: under `config`'s
 * schedule as the page shows it). `paused` holds it before any step.
 */
async function start({ run, config, backend, model, optimizer, reopen, paused }) {
  const resumed = Boolean(model && optimizer);
  // An opened file is read whole (every tensor's name, shape and type) into a
  // trainer of its own before the current run is touched: a file that fails
  // leaves that run training as it was.
  let t = model && !resumed ? await wasm.WebTrainer.open(model, config, backend) : null;
  // A run too big for this backend's memory is refused before anything is touched (memory.rs).
  try {
    dataset.check_memory(t ? t.config() : config);
  } catch (e) {
    if (t) t.free();
    throw e;
  }
  await stopLoop();
  await opsSettled();
  if (trainer) { trainer.free(); trainer = null; }
  runId = run;
  t = t || (resumed ? await wasm.WebTrainer.resume(model, optimizer, config, backend) : await wasm.WebTrainer.create(config, backend));
  if (reopen) t.set_schedule(config);
  t.set_data(dataset);
  trainer = t;
  post({ type: 'started', run, config: t.config(), plan: plan(t), numParams: t.num_params(), epoch: t.epoch(), wasmMemory: memoryBytes() });
  if (paused && !resumed && !reopen) {
    // An opened model: show what it does before any step is taken.
    const { test, latent } = await t.evaluate_latent();
    post({ type: 'evaluated', run, test, latent });
  }
  if (paused) {
    await grids(run);
    post({ type: 'state', run, state: t.finished() ? 'done' : 'paused' });
  } else {
    startLoop();
  }
}

const handlers = {
  async init({ backend, limits = {} }) {
    try {
      exports = await init();
      dataset = await wasm.WebDataset.open(backend);
    } catch (e) {
      post({ type: 'init-failed', message: message(e) });
      return;
    }
    backendName = backend || 'webgpu';
    if (backendName === 'webgpu') dataset.set_buffer_limit(await largestGpuBuffer());
    dataset.set_limits(limits.images ?? undefined, limits.tests ?? undefined);
    markReady();
    post({ type: 'ready', inWorker: wasm.in_worker(), backend, wasmMemory: memoryBytes() });
  },
  /** The six files for the data folder `base`: from storage, else downloaded (and stored). */
  load({ base }) {
    return dataOp('load', async () => ({ missing: await loadAll(store, base, dataCallbacks) }));
  },
  /** Files the user picked or dropped (File objects: no bytes cross from the page). */
  files({ files, keep }) {
    return dataOp('files', async () => ({ ignored: await loadPicked(store, files, keep, dataCallbacks) }));
  },
  /** Only the first N training / test images (null: all); runs see it from their next epoch. */
  limits({ images, tests }) {
    dataset.set_limits(images ?? undefined, tests ?? undefined);
    post(dataSizes());
  },
  forget() {
    return dataOp('forget', async () => {
      await store.forget();
      store = new Store();
      return { forgotten: true };
    });
  },
  async start(msg) {
    busy += 1;
    try {
      await start(msg);
    } catch (e) {
      if (isFatal(e)) return fatal('panic', `the engine crashed: ${message(e)}`);
      post({ type: 'start-failed', run: msg.run, message: message(e) });
    } finally {
      busy -= 1;
      if (!running) applyOps();
    }
  },
  async pause() { await stopLoop(); },
  resume() { startLoop(); },
  async reset() {
    await stopLoop();
    await opsSettled();
    if (trainer) { trainer.free(); trainer = null; }
    runId = 0;
  },
  /** The latest schedule only: a β slider dragged during a training call sends many; one is applied. */
  setSchedule({ config }) {
    const waiting = scheduleAsked !== null;
    scheduleAsked = { config, id: runId };
    if (waiting) return;
    whenIdle(() => {
      const { config: latest, id } = scheduleAsked;
      scheduleAsked = null;
      if (!trainer || id !== runId) return;
      trainer.set_schedule(latest);
      post({ type: 'config', run: id, config: trainer.config(), plan: plan(trainer), schedule: true });
    });
  },
  /**
   * A lab question about the current run, or about an earlier run's
   * snapshot (`model`): answered between training calls, as 'answer'.
   */
  lab({ req, op, args, model }) {
    whenIdle(async () => {
      let temp = null;
      try {
        if (!LAB[op]) throw new Error(`unknown lab question ${op}`);
        if (model) temp = await snapshotTrainer(model);
        const t = temp || trainer;
        if (!t) throw new Error('no model yet: train or open one first');
        const out = await LAB[op](t, args);
        const transfer = [out.data, out.prior?.data, out.fitted?.data].filter(Boolean).map((d) => d.buffer);
        post({ type: 'answer', req, out }, transfer);
      } catch (e) {
        if (isFatal(e)) throw e;
        post({ type: 'answer', req, error: message(e) });
      } finally {
        if (temp) temp.free();
      }
    });
  },
  setEpochs({ n }) {
    const id = runId;
    whenIdle(() => {
      if (!trainer || id !== runId) return;
      const inForce = trainer.set_num_epochs(n);
      post({ type: 'config', run: id, config: trainer.config(), epochs: { asked: n, inForce }, finished: trainer.finished() });
    });
  },
  save({ req }) {
    whenIdle(async () => {
      try {
        if (!trainer) throw new Error('no run to save');
        const bytes = await trainer.save();
        post({ type: 'saved', req, bytes }, [bytes.buffer]);
      } catch (e) {
        if (isFatal(e)) throw e;
        post({ type: 'saved', req, error: message(e) });
      }
    });
  },
  /** A round trip behind every earlier command and the training call in flight (see Engine.settle). */
  ping({ req }) {
    whenIdle(() => post({ type: 'pong', req }));
  },
  /** Test hook: lose the GPU device as a driver crash or an unplugged eGPU would. */
  loseDevice() {
    if (gpuDevice) gpuDevice.destroy();
    else post({ type: 'refused', run: runId, message: 'no GPU device to lose (CPU backend?)' });
  },
  /**
   * Test hook: every weight becomes NaN (the model saved, its floats
   * overwritten, loaded back), as a diverging run's do; the next step's loss
   * is NaN and the run stops the way such a run stops.
   */
  poison() {
    whenIdle(async () => {
      if (!trainer) return;
      const bytes = await trainer.save();
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let at = 8 + Number(view.getBigUint64(0, true)); at + 4 <= bytes.byteLength; at += 4) view.setFloat32(at, NaN, true);
      trainer.load(bytes);
    });
  },
  /** Test hook: the engine fails as a panic in the core does, on any backend. */
  crash() {
    fatal('panic', 'the engine crashed (a test made it crash)');
  },
};

// Commands are handled one at a time, in order; a command that awaits (start,
// pause) holds the next until it is done, while the training loop runs beside them.
let queue = Promise.resolve();
self.onmessage = (e) => {
  const msg = e.data;
  const handler = COMMANDS.includes(msg.cmd) && handlers[msg.cmd];
  if (!handler) { post({ type: 'refused', run: runId, message: `unknown command ${msg.cmd}` }); return; }
  // Pause, the test hooks and data commands act at once, beside the queue.
  if (IMMEDIATE.includes(msg.cmd)) { handler(msg); return; }
  queue = queue.then(() => handler(msg)).catch((err) => {
    if (isFatal(err)) fatal('panic', `the engine crashed: ${message(err)}`);
    else post({ type: 'refused', run: runId, message: message(err) });
  });
};
