// The engine worker's current run: its trainer, whether it trains, and its
// training calls. A training call is one time-boxed call of the core's epoch
// loop (Rust's EpochDriver, through WebTrainer.advance) with its grids and,
// at an epoch's end, its snapshot; each call queues the next on the worker's
// one queue (worker-queue.js), behind the commands that arrived meanwhile.
// Every method here runs as a task of that queue, so nothing else holds the
// trainer while it does.
//
// Nothing here computes a number: scheduling (when to call, when to draw a
// grid) is all this file decides.

import { wasm } from './worker-wasm.js';
import CORE from './core.json' with { type: 'json' };

/** Milliseconds of training per call: every command waits at most this long (plus one step). */
const CALL_MS = 250;
/** Grids may take at most this share of the engine's time (they also refresh at every epoch end). */
const GRID_SHARE = 0.1;
const GRID_MIN_GAP_MS = 1000;

const image = (img) => ({ width: img.width, height: img.height, data: img.data });

/** The KL weight planned over the run (the core's schedule), for the KL chart's dashed line. */
export function plan(t) {
  const cfg = t.config();
  return cfg.lossMode === 'vae' ? wasm.schedule_curve(cfg, 400) : null;
}

export class WorkerRun {
  /**
   * `engine`: `{post, queue, memoryBytes, dataset(), stopped(error, run)}` from
   * worker.js; `stopped` says why a training call failed (a NaN loss, a panic,
   * a lost device).
   */
  constructor(engine) {
    this.engine = engine;
    /** The page's number for the run; 0: none. */
    this.id = 0;
    this.trainer = null;
    this.training = false;
    /** A training call is queued, or waits for its macrotask: there is never a second. */
    this.callQueued = false;
    /** When the grids were last drawn and what they cost (the share they may take, GRID_SHARE). */
    this.gridClock = { ms: 0, trainedSince: 0, at: 0 };
  }

  /**
   * A run: new (`config`), a model opened from a file (`model`), or a run
   * restarted from its snapshot (`model` and `optimizer`, or `model` alone with
   * `reopen` for an opened model before its first epoch ended: under `config`'s
   * schedule as the page shows it). `paused` holds it before any step.
   */
  async start({ run, config, backend, model, optimizer, reopen, paused }) {
    const { post, dataset, memoryBytes } = this.engine;
    const resumed = Boolean(model && optimizer);
    // An opened file is read whole (every tensor's name, shape and type) into a
    // trainer of its own before the current run is touched: a file that fails
    // leaves that run as it was.
    let t = model && !resumed ? await wasm.WebTrainer.open(model, config, backend) : null;
    // A run too big for this backend's memory is refused before anything is touched (memory.rs).
    try {
      dataset().check_memory(t ? t.config() : config);
    } catch (e) {
      if (t) t.free();
      throw e;
    }
    this.clear();
    this.id = run;
    t = t || (resumed ? await wasm.WebTrainer.resume(model, optimizer, config, backend) : await wasm.WebTrainer.create(config, backend));
    if (reopen) t.set_schedule(config);
    t.set_data(dataset());
    this.trainer = t;
    this.gridClock = { ms: 0, trainedSince: 0, at: performance.now() };
    post({ type: 'started', run, config: t.config(), plan: plan(t), numParams: t.num_params(), epoch: t.epoch(), wasmMemory: memoryBytes() });
    if (paused && !resumed && !reopen) {
      // An opened model: show what it does before any step is taken.
      const { test, latent } = await t.evaluate_latent();
      post({ type: 'evaluated', run, test, latent });
    }
    if (paused) {
      await this.grids();
      post({ type: 'state', run, state: t.finished() ? 'done' : 'paused' });
    } else {
      this.train();
    }
  }

  /** No current run: its trainer is freed (nothing else holds it: this is a task of the queue). */
  clear() {
    this.training = false;
    if (this.trainer) this.trainer.free();
    this.trainer = null;
    this.id = 0;
  }

  /** The run trains (from its next call on), and the page is told. */
  train() {
    const t = this.trainer;
    if (!t || this.training || t.finished()) return;
    this.training = true;
    this.engine.post({ type: 'state', run: this.id, state: 'training' });
    this.nextCall();
  }

  /** The run stops training between calls: paused, or done when its epochs are trained. */
  hold() {
    if (!this.training) return;
    this.training = false;
    this.engine.post({ type: 'state', run: this.id, state: this.trainer.finished() ? 'done' : 'paused' });
  }

  /**
   * Queues the next training call behind a macrotask: on the CPU backend a
   * call never yields, and a command that arrived during it must run first.
   */
  nextCall() {
    if (this.callQueued) return;
    this.callQueued = true;
    this.engine.queue.again(() => {
      this.callQueued = false;
      return this.call();
    });
  }

  /** One training call, if the run still trains (a pause or a new run may have come first). */
  async call() {
    const t = this.trainer;
    if (!this.training || !t) return;
    const clock = this.gridClock;
    try {
      if (!t.finished()) {
        const out = await t.advance(CALL_MS);
        this.engine.post({ type: 'progress', run: this.id, ...out });
        clock.trainedSince += out.millis;
        if (out.epochEnd) {
          await this.grids();
          await this.snapshot();
        } else if (clock.trainedSince * GRID_SHARE >= clock.ms * (1 - GRID_SHARE) && performance.now() - clock.at > GRID_MIN_GAP_MS) {
          await this.grids();
        }
      }
    } catch (e) {
      this.training = false;
      await this.engine.stopped(e, this.id);
      return;
    }
    if (t.finished()) this.hold();
    else this.nextCall();
  }

  async grids() {
    const t0 = performance.now();
    const t = this.trainer;
    const recon = image(await t.reconstruct());
    // An AE's decoder is fed the same noise: beside a VAE's samples, it shows why an AE is no generative model.
    const samples = image(await t.sample(CORE.sampleCount, 10));
    const transfer = [recon.data.buffer, samples.data.buffer];
    this.engine.post({ type: 'grids', run: this.id, recon, samples }, transfer);
    this.gridClock = { ms: performance.now() - t0, trainedSince: 0, at: performance.now() };
  }

  /** What a restart goes on from: the model and Adam's state after the epoch just finished. */
  async snapshot() {
    const bytes = await this.trainer.save();
    const adam = await this.trainer.optimizer_state();
    // The same bytes as Blobs, copied here rather than on the page's thread: the page keeps
    // runs in IndexedDB as Blobs, and copying a model and its Adam state there took ~50 ms.
    const blobs = { model: new Blob([bytes]), adam: new Blob([adam]) };
    this.engine.post({ type: 'snapshot', run: this.id, epochsDone: this.trainer.epoch(), bytes, adam, blobs }, [bytes.buffer, adam.buffer]);
  }
}
