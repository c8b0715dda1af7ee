// The engine, in a dedicated module Worker: it loads its backend's package
// (worker-wasm.js: pkg/ for WebGPU, pkg-cpu/ for the CPU), owns the dataset
// (worker-data.js) and the current run (worker-run.js), and handles the
// page's commands (protocol.js). The page only sends commands and draws what
// comes back: step metrics, epoch reports, grids as transferable RGBA
// buffers, snapshots, errors.
//
// Every command and every training call is a task on one serial queue
// (worker-queue.js), run in the order it came: a command waits at most for
// the training call in flight, and no two tasks hold the trainer at once.

import { wasm, load } from './worker-wasm.js';
import { COMMANDS, IMMEDIATE } from './protocol.js';
import { TaskQueue } from './worker-queue.js';
import { WorkerData } from './worker-data.js';
import { WorkerRun, plan } from './worker-run.js';

let exports = null;
let backendName = 'webgpu';
let dataset = null;
let gpuDevice = null;
let deviceLost = null; // the reason, once the GPU device is gone
let fatalSent = false;
let markReady;
const ready = new Promise((r) => { markReady = r; });

const post = (msg, transfer = []) => self.postMessage(msg, transfer);
const message = (e) => (e && e.message ? e.message : String(e));

/** A Rust panic aborts the wasm instance: every later call would fail, so the worker must be replaced. */
function isFatal(e) {
  return e instanceof WebAssembly.RuntimeError || /unreachable|RuntimeError|memory access out of bounds/i.test(String(e && (e.stack || e.message || e)));
}

/** A task that threw: a panic ends the engine; anything else refuses that command, and the run goes on. */
function failed(e) {
  if (isFatal(e)) fatal('panic', `the engine crashed: ${message(e)}`);
  else post({ type: 'refused', run: current.id, message: message(e) });
}

const queue = new TaskQueue(failed);

function fatal(reason, text) {
  if (fatalSent) return;
  fatalSent = true;
  queue.close();
  // A lost device often shows first as a panic in wgpu: give its 'lost'
  // promise a moment, so the page is told the cause rather than the symptom.
  const send = () => post(deviceLost ? { type: 'fatal', run: current.id, reason: 'device-lost', message: deviceLost } : { type: 'fatal', run: current.id, reason, message: text });
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

const data = new WorkerData({ post, queue, isFatal, fatal, message, memoryBytes, unpack: (name, bytes) => wasm.WebDataset.unpack_tar_gz(name, bytes) });

/** A training call failed: a panic or a lost device ends the engine; anything else (a NaN loss) ends the run. */
async function stopped(e, run) {
  if (isFatal(e)) return fatal('panic', `the engine crashed: ${message(e)}`);
  // A failed device read is often the first sign of a lost device, whose
  // 'lost' promise settles a moment later: then the engine must be replaced.
  if (gpuDevice && !deviceLost) await new Promise((r) => setTimeout(r, 1000));
  if (deviceLost) return fatal('device-lost', deviceLost);
  post({ type: 'error', run, message: message(e) });
}

const current = new WorkerRun({ post, queue, memoryBytes, dataset: () => dataset, stopped });

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
  bound: (t, a) => t.likelihood_bound(a.images, a.k),
};

const handlers = {
  async init({ backend, limits = {} }) {
    try {
      await load(backend);
      exports = await wasm.default();
      dataset = await wasm.WebDataset.open(backend);
      data.dataset = dataset;
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
  async load({ base }) {
    await ready;
    return data.load(base);
  },
  async files({ files, keep }) {
    await ready;
    return data.picked(files, keep);
  },
  limits({ images, tests }) { data.limit(images, tests); },
  async forget() {
    await ready;
    return data.forget();
  },
  async start(msg) {
    try {
      await current.start(msg);
    } catch (e) {
      if (isFatal(e)) throw e;
      post({ type: 'start-failed', run: msg.run, message: message(e) });
    }
  },
  pause() { current.hold(); },
  resume() { current.train(); },
  reset() { current.clear(); },
  /** The KL's weighting from the next step; handled as it arrives (see onmessage): only the latest waits its turn. */
  setSchedule({ config }) {
    const t = current.trainer;
    if (!t) return;
    t.set_schedule(config);
    post({ type: 'config', run: current.id, config: t.config(), plan: plan(t), schedule: true });
  },
  /**
   * A lab question about the current run, or about an earlier run's
   * snapshot (`model`): answered between training calls, as 'answer'.
   */
  async lab({ req, op, args, model }) {
    let temp = null;
    try {
      if (!LAB[op]) throw new Error(`unknown lab question ${op}`);
      if (model) temp = await snapshotTrainer(model);
      const t = temp || current.trainer;
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
  },
  setEpochs({ n }) {
    const t = current.trainer;
    if (!t) return;
    const inForce = t.set_num_epochs(n);
    post({ type: 'config', run: current.id, config: t.config(), epochs: { asked: n, inForce }, finished: t.finished() });
  },
  async save({ req }) {
    try {
      if (!current.trainer) throw new Error('no run to save');
      const bytes = await current.trainer.save();
      post({ type: 'saved', req, bytes }, [bytes.buffer]);
    } catch (e) {
      if (isFatal(e)) throw e;
      post({ type: 'saved', req, error: message(e) });
    }
  },
  /** A round trip behind every earlier command and the training call in flight (see Engine.settle). */
  ping({ req }) {
    post({ type: 'pong', req });
  },
  /** Test hook: lose the GPU device as a driver crash or an unplugged eGPU would. */
  loseDevice() {
    if (gpuDevice) gpuDevice.destroy();
    else post({ type: 'refused', run: current.id, message: 'no GPU device to lose (CPU backend?)' });
  },
  /**
   * Test hook: every weight becomes NaN (the model saved, its floats
   * overwritten, loaded back), as a diverging run's do; the next step's loss
   * is NaN and the run stops the way such a run stops.
   */
  async poison() {
    const t = current.trainer;
    if (!t) return;
    const bytes = await t.save();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 8 + Number(view.getBigUint64(0, true)); at + 4 <= bytes.byteLength; at += 4) view.setFloat32(at, NaN, true);
    t.load(bytes);
  },
  /** Test hook: the engine fails as a panic in the core does, on any backend. */
  crash() {
    fatal('panic', 'the engine crashed (a test made it crash)');
  },
};

/** The setSchedule waiting on the queue, while no command was queued after it: a later one replaces its settings. */
let scheduleWaiting = null;

// Every command is a task on the queue, in the order it came; those in
// IMMEDIATE are handled as they arrive: the test hooks stand for the world
// outside (a lost device does not wait its turn), and data commands download
// for minutes (each file they add waits its turn). A setSchedule joins one
// still waiting at the queue's end: a dragged β slider sends dozens.
self.onmessage = (e) => {
  const msg = e.data;
  const handler = COMMANDS.includes(msg.cmd) && handlers[msg.cmd];
  if (!handler) { post({ type: 'refused', run: current.id, message: `unknown command ${msg.cmd}` }); return; }
  if (IMMEDIATE.includes(msg.cmd)) { handler(msg); return; }
  if (msg.cmd === 'setSchedule' && scheduleWaiting) { scheduleWaiting.config = msg.config; return; }
  const asked = msg.cmd === 'setSchedule' ? msg : null;
  scheduleWaiting = asked;
  queue.add(() => {
    if (asked === scheduleWaiting) scheduleWaiting = null;
    return handler(msg);
  }).catch(() => {}); // failed() has told the page
};
