// window.vaelab: the status contract the end-to-end tests read, and their
// test hooks. It only reports; every field comes from the page's state.
import { app, currentRun, state } from './app.js';
import { drawn } from './render.js';
import { labStatus } from './lab.js';
import { boundStatus } from './lab-bound.js';
import { lessonStatus, lessonEstimate } from './lesson.js';
import { results } from './results.js';
import { appSets } from './app-set.js';
import { keptStatus } from './kept-runs.js';

export function bindStatus() {
  window.vaelab = {
    status() {
      const run = currentRun();
      return {
        state: state(),
        error: run?.error || app.pageError,
        epoch: run ? run.epoch : 0,
        step: run && run.steps.length ? run.steps[run.steps.length - 1].step : 0,
        imagesPerSec: run ? run.imagesPerSec : 0,
        adapter: app.adapterName,
        backend: app.backend,
        engine: !app.engine ? 'none' : app.engine.dead ? 'stopped' : app.engine.inWorker ? 'worker' : 'none',
        // The stored set of the page's files this page runs (sw.js; '' when the network served it), a newer one.
        appSets: appSets(),
        wasmMemory: app.engine ? app.engine.wasmMemory : 0,
        heldSnapshots: app.runs.filter((r) => r.snapshot).length,
        opened: run && run.opened ? { ...run.opened } : null,
        config: run ? { ...run.config } : { ...app.config },
        metrics: run ? run.steps.map(({ step, epoch, beta, capacity, recon, kl, total }) => ({ step, epoch, beta, capacity, recon, kl, total })) : [],
        plan: run && run.plan ? { beta: [...run.plan.beta], capacity: run.plan.capacity && [...run.plan.capacity] } : null,
        testMetrics: run ? run.tests.map(({ epoch, recon, kl, total }) => ({ epoch, recon, kl, total })) : [],
        dataErrors: [...app.dataErrors],
        trainImages: app.engine ? app.engine.trainSize : 0,
        testImages: app.engine ? app.engine.testSize : 0,
        dataFiles: app.engine ? [...app.engine.files].map(([name, f]) => ({ name, images: f.images, from: f.from, stored: f.stored })) : [],
        dataLoading: Boolean(app.engine && app.engine.dataPending > 0),
        storage: app.engine ? { ...app.engine.storage, persisted: app.persisted } : null,
        deviceBytes: app.engine ? app.engine.deviceBytes : 0,
        runs: app.runs.length,
        // The runs kept across reloads (kept-runs.js): {pending, problem}.
        kept: keptStatus(),
        lab: { ...labStatus(), bound: boundStatus() },
        // True once the page has drawn what this status says (views are drawn on
        // the next animation frame): a test that reads the page waits for it.
        drawn: drawn(),
        dataDone: app.engine ? app.engine.dataDone : 0,
        lesson: { ...lessonStatus(), estimate: lessonEstimate(run) },
        results: results(app.runs).map((r) => ({ run: r.run.id, exercise: r.exercise?.name ?? null, threshold: r.threshold, result: r.result })),
      };
    },
    /** Test hook: the worker destroys its GPU device, as a driver crash would. */
    loseDevice() { app.engine?.loseDevice(); },
    /** Test hook: the engine fails as a panic in the core does (on the CPU backend too). */
    crashEngine() { app.engine?.crash(); },
    /** Test hook: the weights become NaN between training calls; the next step's loss says so. */
    poisonWeights() { app.engine?.poison(); },
    /**
     * Test hook: resolves once the worker has handled every command sent before
     * it and any training call in flight has ended, so whatever they posted has
     * arrived: "nothing happened" is then a fact, not a wait.
     */
    settle() { return app.engine && !app.engine.dead ? app.engine.settle() : Promise.resolve(); },
  };
}
