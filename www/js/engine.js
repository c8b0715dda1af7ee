// The page's handle on the engine, which lives in a Web Worker (worker.js):
// commands go out as messages, and what comes back is folded into Run
// objects that the views draw. Nothing here trains or evaluates.

import { describeSchedule } from './state.js';
import { SCHEDULE_KEYS } from './settings.js';
import { workerUrl } from './app-set.js';
import { COMMANDS, MESSAGES, RUN_MOVES } from './protocol.js';

let nextRunId = 1;
/** Weights of earlier runs kept for the lab (AE beside VAE), oldest dropped first. */
const KEPT_SNAPSHOT_BYTES = 160e6;
let nextReq = 1;

export class Run {
  constructor(config) {
    this.id = nextRunId++;
    this.config = { ...config };
    this.steps = []; // {step, epoch, beta, capacity, batch, recon, kl, total, x0, x}
    this.tests = []; // {epoch, beta, recon, kl, total, train: {recon, kl, total}}
    this.markers = []; // {x, label}
    this.state = 'loading';
    this.error = null;
    this.recon = null; // {width, height, data}
    this.samples = null;
    this.snapshot = null; // safetensors bytes after the last finished epoch (or of the opened file)
    this.snapshotAdam = null; // Adam's state beside it: the current run's only (a restart goes on from both)
    this.snapshotBlobs = null; // {of, model, adam}: the worker's Blobs of a snapshot it sent (run-store.js)
    this.plan = null; // {x, beta, capacity}: the KL weight the schedule plans over the run
    this.snapshotEpochs = 0;
    this.timing = null; // {overheadMillis, epochs, last}: see Engine.progress
    this.weightsDropped = false;
    this.opened = null; // {name, test} for a model opened from a file or URL
    this.epoch = 0;
    this.seenInEpoch = 0;
    this.epochSize = 0;
    this.imagesPerSec = 0;
    this.numParams = 0;
  }

  get x() {
    return this.epoch + (this.epochSize ? this.seenInEpoch / this.epochSize : 0);
  }

  /**
   * The one place a run's state changes: to `next` when protocol.js RUN_MOVES
   * allows the move from its state (an error is left only by a restart or a
   * new start); false, and the state kept, when not.
   */
  to(next) {
    if (!RUN_MOVES[this.state]?.includes(next)) return false;
    this.state = next;
    return true;
  }

  /** Back to its last snapshot (the start, without one): what a restart goes on from; `label` marks the curves there. */
  rewind(label) {
    const done = this.snapshot ? this.snapshotEpochs : 0;
    this.tests = this.tests.slice(0, done);
    this.steps = this.steps.filter((s) => s.epoch < done);
    this.epoch = done;
    this.seenInEpoch = 0;
    this.error = null;
    this.markers.push({ x: done, label });
  }
}

/** Runs brought back from storage keep their numbers: new runs are numbered after them. */
export function reserveRunIds(highest) { nextRunId = Math.max(nextRunId, highest + 1); }

export class Engine {
  /**
   * `onUpdate()` after anything changed; `onFatal(run, reason)` when the worker
   * died (panic, lost GPU device): the page offers a restart from the snapshot.
   */
  constructor({ backend, limits, onUpdate, onFatal, onRefused, onDataError, onDataDone }) {
    this.backend = backend;
    this.limits = limits;
    this.onDataDone = onDataDone;
    this.onUpdate = onUpdate;
    this.onFatal = onFatal;
    this.onRefused = onRefused;
    this.onDataError = onDataError;
    this.run = null;
    this.runs = new Map();
    this.retirements = 0;
    this.trainSize = 0;
    this.testSize = 0;
    this.dataPending = 0;
    /** Data commands finished (load, files, forget): a test waits for the next one. */
    this.dataDone = 0;
    /** name → {images, from: 'storage' | 'server' | 'chosen', stored, replaced, bytes} */
    this.files = new Map();
    this.download = null; // {loaded, total, files} while files download
    this.storage = { available: false, refused: null };
    this.deviceBytes = 0;
    this.wasmMemory = 0;
    this.inWorker = false;
    this.dead = false;
    this.waiters = new Map();
    this.idleWaiters = []; // dataIdle()'s
    this.ready = null;
    this.worker = null;
  }

  /** Start the worker and its wasm module; resolves once it is ready for commands. */
  boot() {
    this.dead = false;
    this.inWorker = false; // until this worker says it is ready
    this.worker = new Worker(workerUrl(), { type: 'module' });
    this.worker.onmessage = (e) => this.receive(e.data);
    this.ready = new Promise((resolve, reject) => {
      this.waiters.set('ready', { resolve, reject });
      this.worker.onerror = (e) => {
        e.preventDefault();
        const text = e.message || 'the worker failed to load (were pkg/ and pkg-cpu/ built?)';
        if (this.waiters.has('ready')) { this.waiters.get('ready').reject(new Error(text)); this.waiters.delete('ready'); }
        else this.die('panic', `the engine crashed: ${text}`);
      };
    });
    this.send({ cmd: 'init', backend: this.backend, limits: this.limits });
    return this.ready;
  }

  /** @param {import('./protocol.js').Command} msg */
  send(msg, transfer = []) {
    if (!COMMANDS.includes(msg.cmd)) throw new Error(`not a command of the engine's protocol: ${msg.cmd}`);
    if (this.worker) this.worker.postMessage(msg, transfer);
  }

  /** The six files for the data folder `base` (absolute URL): from storage, else downloaded. */
  loadData(base) {
    this.dataPending += 1;
    this.send({ cmd: 'load', base });
  }

  /** Files the user picked or dropped (File handles: the bytes are read in the worker). */
  addFiles(files, keep) {
    this.dataPending += 1;
    this.send({ cmd: 'files', files: [...files], keep });
  }

  /** Use only the first `images` training / `tests` test images (null: all) from the next epoch on. */
  setLimits(images, tests) {
    this.limits = { images, tests };
    this.send({ cmd: 'limits', images, tests });
  }

  /** Delete the stored files; what is loaded stays loaded. */
  forgetData() {
    this.dataPending += 1;
    this.send({ cmd: 'forget' });
  }

  /**
   * A new run. `model` (safetensors bytes) opens a saved model, held paused
   * with `paused`; with `optimizer` too, `run` goes on from its snapshot.
   */
  start(config, { model = null, optimizer = null, paused = false, run = null } = {}) {
    const prev = this.run;
    const r = run || new Run(config);
    // An opened model replaces the current run only once the engine accepted it.
    if (prev && prev !== r) { if (model && !run) r.previous = prev; else this.retire(prev); }
    r.to('loading');
    delete r.retiredAt;
    // An opened model's file is its snapshot until its first epoch ends: a
    // restart before then reopens it instead of starting from random weights.
    if (model && !optimizer) { r.snapshot = model; r.snapshotAdam = null; }
    this.run = r;
    this.runs.set(r.id, r);
    const reopen = Boolean(model && !optimizer && run);
    this.send({ cmd: 'start', run: r.id, config: r.config, backend: this.backend, model, optimizer, reopen, paused });
    this.onUpdate();
    return r;
  }

  /**
   * An older run keeps curves, grids and metrics, and its last snapshot while
   * the snapshots kept stay under KEPT_SNAPSHOT_BYTES (the lab decodes with
   * them); older weights are dropped to keep the tab's memory bounded.
   */
  retire(run) {
    if (run.state === 'training' || run.state === 'loading') run.to('paused');
    run.retiredAt = ++this.retirements;
    run.snapshotAdam = null;
    const kept = [...this.runs.values()].filter((r) => r.snapshot && r.retiredAt).sort((a, b) => b.retiredAt - a.retiredAt);
    let bytes = 0;
    for (const r of kept) {
      bytes += r.snapshot.byteLength;
      if (bytes > KEPT_SNAPSHOT_BYTES) { r.snapshot = null; r.weightsDropped = true; }
    }
  }

  /** A lab question (see worker.js LAB) about the current run, or an earlier run's snapshot bytes. */
  ask(op, args, model = null) {
    const req = nextReq++;
    return new Promise((resolve, reject) => {
      this.waiters.set(`answer-${req}`, { resolve, reject });
      this.send({ cmd: 'lab', req, op, args, model });
    });
  }

  pause() { this.send({ cmd: 'pause' }); }
  resume() {
    if (!this.run || ['done', 'error'].includes(this.run.state)) return;
    this.send({ cmd: 'resume' });
  }

  reset() {
    if (this.run) this.retire(this.run);
    this.run = null;
    this.send({ cmd: 'reset' });
    this.onUpdate();
  }

  /** The KL's weighting (target β, schedule, its parameters, free bits), from the next step. */
  setSchedule(config) {
    if (!this.run) return;
    const c = Object.fromEntries(SCHEDULE_KEYS.map((k) => [k, config[k]]));
    this.send({ cmd: 'setSchedule', config: c });
  }
  setEpochs(n) { if (this.run) this.send({ cmd: 'setEpochs', n }); }

  /** The current run's model as safetensors bytes (saved between training calls). */
  save() {
    const req = nextReq++;
    return new Promise((resolve, reject) => {
      this.waiters.set(`save-${req}`, { resolve, reject });
      this.send({ cmd: 'save', req });
    });
  }

  /** Resolves once the worker has answered everything sent before and the training call in flight has ended. */
  settle() {
    const req = nextReq++;
    return new Promise((resolve, reject) => {
      this.waiters.set(`pong-${req}`, { resolve, reject });
      this.send({ cmd: 'ping', req });
    });
  }

  /** Test hook: the worker destroys its GPUDevice. */
  loseDevice() { this.send({ cmd: 'loseDevice' }); }
  crash() { this.send({ cmd: 'crash' }); }
  /** Test hook: the run's weights become NaN, as a diverging run's do. */
  poison() { this.send({ cmd: 'poison' }); }

  /** Throw the dead worker away; a new one is booted by `boot()`. */
  terminate() {
    if (this.worker) this.worker.terminate();
    this.worker = null;
    for (const [key, w] of this.waiters) { w.reject(new Error('the engine stopped')); this.waiters.delete(key); }
    // Its data commands will never finish: nothing is loading any more.
    this.dataPending = 0;
    this.download = null;
    this.dataSettled();
  }

  /**
   * Resolves once no data command is pending. Waits on the worker's messages,
   * not on a timer: a hidden tab's timers are throttled to one a second or
   * slower, its messages are not.
   */
  dataIdle() {
    return this.dataPending === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  dataSettled() {
    if (this.dataPending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  die(reason, text) {
    if (this.dead) return;
    this.dead = true;
    this.terminate();
    const run = this.run;
    if (run) {
      // A restart holds a paused (or finished) run as it was.
      run.heldAtFailure = run.state === 'paused' || run.state === 'done';
      run.to('error');
      run.error = text;
    }
    this.onFatal(run, reason, text);
    this.onUpdate();
  }

  /** @param {import('./protocol.js').Message} m */
  receive(m) {
    if (!MESSAGES.includes(m?.type)) return;
    const run = m.run ? this.runs.get(m.run) : null;
    switch (m.type) {
      case 'ready':
        this.inWorker = m.inWorker;
        this.wasmMemory = m.wasmMemory;
        this.waiters.get('ready')?.resolve(m);
        this.waiters.delete('ready');
        break;
      case 'init-failed':
        this.waiters.get('ready')?.reject(new Error(m.message));
        this.waiters.delete('ready');
        break;
      case 'data':
        this.trainSize = m.train;
        this.testSize = m.test;
        this.deviceBytes = m.deviceBytes;
        this.wasmMemory = m.wasmMemory;
        break;
      case 'data-file':
        this.files.set(m.name, { images: m.images, from: m.from, stored: m.stored, replaced: m.replaced, bytes: m.bytes });
        break;
      case 'data-stored': {
        const f = this.files.get(m.name);
        if (f) f.stored = true;
        this.storage = m.storage;
        break;
      }
      case 'data-progress':
        this.download = { loaded: m.loaded, total: m.total, files: m.files };
        break;
      case 'data-done':
        this.dataPending = Math.max(0, this.dataPending - 1);
        this.dataDone += 1;
        this.dataSettled();
        if (m.op === 'load') this.download = null;
        if (m.op === 'forget') for (const f of this.files.values()) f.stored = false;
        this.storage = m.storage;
        if (m.wasmMemory) this.wasmMemory = m.wasmMemory;
        this.onDataDone?.(m);
        break;
      case 'data-error':
        this.onDataError(m.name, m.message);
        break;
      case 'started':
        if (!run) break;
        run.config = { ...run.config, ...m.config };
        run.plan = m.plan;
        run.numParams = m.numParams;
        run.epoch = m.epoch;
        // An opened model goes on from the epoch its file says it reached.
        if (run.snapshot && !run.snapshotAdam) run.snapshotEpochs = m.epoch;
        this.wasmMemory = m.wasmMemory;
        if (run.previous) { this.retire(run.previous); delete run.previous; }
        this.onStarted?.(run);
        break;
      case 'evaluated':
        if (run) { run.opened = { ...(run.opened || {}), test: m.test }; run.latent = m.latent; }
        break;
      case 'state':
        run?.to(m.state);
        // A pause is no part of the device's pace: the next gap is not measured.
        if (run && run.timing) run.timing.last = null;
        break;
      case 'progress':
        if (run) this.progress(run, m);
        break;
      case 'grids':
        if (run) { run.recon = m.recon; if (m.samples) run.samples = m.samples; }
        break;
      case 'snapshot':
        if (run && run === this.run) {
          run.snapshot = m.bytes; run.snapshotAdam = m.adam; run.snapshotEpochs = m.epochsDone;
          // The worker's Blobs of these bytes, for run-store.js (`of`: the snapshot they copy).
          run.snapshotBlobs = { of: m.bytes, ...m.blobs };
        }
        break;
      case 'config':
        if (!run) break;
        if (m.schedule && run.steps.length) run.markers.push({ x: run.x, label: describeSchedule(m.config) });
        run.config = { ...run.config, ...m.config };
        if (m.plan !== undefined) run.plan = m.plan;
        if (m.epochs && m.epochs.inForce !== m.epochs.asked) this.onRefused(`The run was already in epoch ${m.epochs.inForce}: it ends after that epoch.`, true);
        if (m.finished === false && run.state === 'done') run.to('paused');
        if (m.finished && run.state === 'paused') run.to('done');
        break;
      case 'saved': {
        const w = this.waiters.get(`save-${m.req}`);
        this.waiters.delete(`save-${m.req}`);
        if (w) { if (m.error) w.reject(new Error(m.error)); else w.resolve(m.bytes); }
        break;
      }
      case 'pong':
        this.waiters.get(`pong-${m.req}`)?.resolve();
        this.waiters.delete(`pong-${m.req}`);
        return;
      case 'answer': {
        const w = this.waiters.get(`answer-${m.req}`);
        this.waiters.delete(`answer-${m.req}`);
        if (w) { if (m.error) w.reject(new Error(m.error)); else w.resolve(m.out); }
        return; // an answer changes no run: nothing to redraw
      }
      case 'start-failed':
        if (!run) break;
        run.to('error');
        run.error = m.message;
        if (run.previous && this.run === run) this.run = run.previous;
        delete run.previous;
        this.onStartFailed?.(run);
        break;
      case 'error':
        if (run) { run.to('error'); run.error = m.message; }
        break;
      case 'refused':
        this.onRefused(m.message);
        break;
      case 'fatal':
        this.die(m.reason, m.message);
        break;
      default:
        break;
    }
    this.onUpdate();
  }

  progress(run, out) {
    run.epochSize = out.epochSize || run.epochSize;
    // The time between two calls' results beyond their steps' own: the test
    // pass, grids, snapshots (lesson-time.js estimates the lesson from it).
    const now = performance.now();
    const t = run.timing || (run.timing = { overheadMillis: 0, epochs: 0, last: null });
    if (t.last !== null) t.overheadMillis += Math.max(0, now - t.last - out.millis);
    t.last = now;
    if (out.epochEnd) t.epochs += 1;
    let images = 0;
    for (const s of out.steps) {
      // x0: where the step began (its β and C were set there); x: where it ended.
      const x0 = s.epoch + run.seenInEpoch / Math.max(1, run.epochSize);
      run.seenInEpoch += s.batch;
      images += s.batch;
      run.steps.push({ ...s, x0, x: s.epoch + run.seenInEpoch / Math.max(1, run.epochSize) });
    }
    if (images && out.millis > 0) {
      const rate = (1000 * images) / out.millis;
      run.imagesPerSec = run.imagesPerSec ? 0.7 * run.imagesPerSec + 0.3 * rate : rate;
    }
    if (out.epochEnd) {
      const r = out.epochEnd;
      // `record`: the epoch's metrics.jsonl line, written by the core as the command line writes it.
      run.tests.push({ epoch: r.epoch, beta: r.beta, ...r.test, train: r.train, activeUnits: r.latent.activeUnits, record: out.record });
      run.latent = r.latent;
      // What the epoch trained and was tested on: the results say whether it was the exercise's data.
      run.trainImages = run.steps.reduce((n, s) => n + (s.epoch === r.epoch ? s.batch : 0), 0);
      run.testImages = this.testSize;
    }
    run.epoch = out.epoch;
    run.seenInEpoch = out.imagesInEpoch;
    if (out.epochSize) run.epochSize = out.epochSize;
  }
}
