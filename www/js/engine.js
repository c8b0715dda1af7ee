// Drives the wasm trainer: one run at a time, a few steps per call (sized so
// a call takes about a third of a second), the page redrawn between calls so
// it never freezes. Losses come back once per call; grids every few seconds
// and at each epoch's end, when the test set is evaluated too.

const PKG = new URL('../../pkg/vaelab.js', import.meta.url).href;
const GRID_EVERY_MS = 3000;
const TARGET_CALL_S = 0.35;

let loads = 0;
/** A fresh instance of the wasm module (a crashed one cannot be reused). */
export async function loadWasm() {
  loads += 1;
  const mod = await import(loads === 1 ? PKG : `${PKG}?instance=${loads}`);
  await mod.default();
  return mod;
}

/** Looks like the wasm instance itself died (a Rust panic aborts it): it must be replaced. */
export function isFatal(e) {
  return e instanceof WebAssembly.RuntimeError || /unreachable|RuntimeError|memory access out of bounds/i.test(String(e && (e.stack || e.message || e)));
}

function message(e) {
  return e && e.message ? e.message : String(e);
}

let nextRunId = 1;

export class Run {
  constructor(config) {
    this.id = nextRunId++;
    this.config = { ...config };
    this.steps = []; // {step, epoch, beta, batch, recon, kl, total, x}
    this.tests = []; // {epoch, recon, kl, total, train: {recon, kl, total}}
    this.markers = []; // {x, label}
    this.state = 'idle';
    this.error = null;
    this.recon = null; // {width, height, data}
    this.samples = null;
    this.snapshot = null; // safetensors bytes at the last epoch end
    this.epoch = 0;
    this.seenInEpoch = 0;
    this.epochSize = 0;
    this.imagesPerSec = 0;
    this.startedAt = null;
    this.numParams = 0;
  }

  get x() {
    return this.epoch + (this.epochSize ? this.seenInEpoch / this.epochSize : 0);
  }
}

export class Engine {
  constructor({ wasm, backend, onUpdate, beforeCall }) {
    this.wasm = wasm;
    this.backend = backend;
    this.dataset = new wasm.WebDataset();
    this.trainer = null;
    this.run = null;
    this.onUpdate = onUpdate;
    this.beforeCall = beforeCall; // feeds data files that arrived meanwhile
    this.looping = null;
    this.stopRequested = false;
    this.dead = false;
    this.pendingOps = [];
    this.onRefused = null;
  }

  /** A new run with `config`; replaces the trainer of any previous run. */
  async start(config) {
    // The new run is current at once (callers list it); the old loop stops after its call.
    const prev = this.run;
    const run = new Run(config);
    this.run = run;
    run.state = 'loading';
    this.pendingOps = [];
    if (this.looping) {
      this.stopRequested = true;
      await this.looping;
    }
    if (prev && prev.state === 'training') prev.state = 'paused';
    if (this.trainer) { this.trainer.free(); this.trainer = null; }
    this.onUpdate();
    try {
      this.trainer = await this.wasm.WebTrainer.create(run.config, this.backend);
      this.trainer.set_data(this.dataset);
      run.numParams = this.trainer.num_params();
    } catch (e) {
      return this.fail(run, e);
    }
    run.startedAt = performance.now();
    return this.resume();
  }

  /** Continue a run from its last snapshot in a fresh engine (after a crash). */
  async adopt(run) {
    this.run = run;
    try {
      this.trainer = await this.wasm.WebTrainer.create(run.config, this.backend);
      this.trainer.set_data(this.dataset);
      if (run.snapshot) this.trainer.load(run.snapshot);
      for (let e = 0; e < run.tests.length; e++) this.trainer.end_epoch();
    } catch (e) {
      return this.fail(run, e);
    }
    run.epoch = run.tests.length;
    run.steps = run.steps.filter((s) => s.epoch < run.epoch);
    run.seenInEpoch = 0;
    run.error = null;
    return this.resume();
  }

  async resume() {
    const run = this.run;
    if (!run || !this.trainer || this.looping || run.state === 'done' || run.state === 'error') return;
    run.state = 'training';
    this.stopRequested = false;
    this.looping = this.loop(run).finally(() => { this.looping = null; this.applyPending(); });
    this.onUpdate();
    return this.looping;
  }

  async pause() {
    if (!this.looping) return;
    this.stopRequested = true;
    await this.looping;
    if (this.run && this.run.state === 'training') this.run.state = 'paused';
    this.onUpdate();
  }

  async reset() {
    await this.pause();
    if (this.trainer) { this.trainer.free(); this.trainer = null; }
    this.run = null;
    this.onUpdate();
  }

  /**
   * Settings that change mid-run wait for the end of the call in flight (the
   * trainer is busy during it) and apply before the next one.
   */
  whenIdle(op) {
    this.pendingOps.push(op);
    if (!this.looping) this.applyPending();
  }

  applyPending() {
    const ops = this.pendingOps;
    this.pendingOps = [];
    for (const op of ops) {
      try {
        op();
      } catch (e) {
        if (this.onRefused) this.onRefused(message(e));
      }
    }
  }

  /** Change beta and its schedule mid-run; marked on the curves. */
  setBeta(target, mode) {
    const run = this.run;
    if (!run) return;
    this.whenIdle(() => {
      if (!this.trainer || this.run !== run) return;
      this.trainer.set_beta(target, mode);
      run.config.targetBeta = target;
      run.config.betaMode = mode;
      if (run.steps.length) run.markers.push({ x: run.x, label: `β→${target}${mode === 'linear' ? ' lin' : ''}` });
    });
  }

  setEpochs(n) {
    const run = this.run;
    if (!run) return;
    this.whenIdle(() => {
      if (!this.trainer || this.run !== run) return;
      this.trainer.set_num_epochs(n);
      run.config.numEpochs = n;
      if (run.state === 'done' && run.epoch < n) run.state = 'paused';
    });
  }

  async loop(run) {
    const t = this.trainer;
    let k = 1;
    let lastGrid = 0;
    try {
      while (!this.stopRequested) {
        if (this.beforeCall) this.beforeCall();
        this.applyPending();
        if (this.dataset.train_size() === 0) throw new Error('no training images loaded yet');
        const t0 = performance.now();
        const out = await t.train_steps(k);
        const dt = (performance.now() - t0) / 1000;
        run.epochSize = out.epochSize || run.epochSize;
        let images = 0;
        for (const s of out.steps) {
          run.seenInEpoch += s.batch;
          images += s.batch;
          run.steps.push({ ...s, x: s.epoch + run.seenInEpoch / Math.max(1, run.epochSize) });
        }
        const rate = images / Math.max(dt, 1e-6);
        run.imagesPerSec = run.imagesPerSec ? 0.7 * run.imagesPerSec + 0.3 * rate : rate;
        k = Math.max(1, Math.min(64, Math.round((k * TARGET_CALL_S) / Math.max(dt, 1e-3))));
        if (out.epochDone) {
          const test = await t.evaluate();
          const train = t.epoch_train_metrics(run.epoch);
          run.tests.push({ epoch: run.epoch, beta: out.steps.length ? out.steps[out.steps.length - 1].beta : t.beta(), ...test, train });
          t.end_epoch();
          run.epoch += 1;
          run.seenInEpoch = 0;
          await this.refreshGrids(run);
          lastGrid = performance.now();
          run.snapshot = await t.save();
          if (run.epoch >= run.config.numEpochs) {
            run.state = 'done';
            this.onUpdate();
            return;
          }
        } else if (performance.now() - lastGrid > GRID_EVERY_MS) {
          await this.refreshGrids(run);
          lastGrid = performance.now();
        }
        this.onUpdate();
        // Let the browser paint and handle input between calls.
        await new Promise((r) => setTimeout(r, 0));
      }
    } catch (e) {
      this.fail(run, e);
    }
  }

  async refreshGrids(run) {
    if (!this.trainer || this.dataset.test_size() === 0) return;
    run.recon = await this.trainer.reconstruct();
    if (run.config.lossMode === 'vae') run.samples = await this.trainer.sample(100, 10);
  }

  fail(run, e) {
    run.state = 'error';
    run.error = message(e);
    if (isFatal(e)) {
      this.dead = true;
      run.error = `The compute engine stopped (${run.error}). This happens when the GPU device is lost or memory runs out.`;
    }
    this.onUpdate();
  }
}
