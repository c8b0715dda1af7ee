// The engine worker's data: CIFAR-10 files into the dataset (from this
// browser's storage, the server, or files the user picked; js/loader.js) and
// the limits on how many images runs use. Downloads take minutes, so a data
// command runs beside the worker's queue; each file it hands the dataset
// waits its turn there, between training calls, like every other change.

import { Store, loadAll, loadPicked } from './loader.js';

export class WorkerData {
  /**
   * `engine`: `{post, queue, isFatal, fatal, message, memoryBytes, unpack}`
   * from worker.js; `dataset` is set once the engine has loaded.
   */
  constructor(engine) {
    this.engine = engine;
    this.dataset = null;
    this.store = new Store();
    const { post, isFatal, message } = engine;
    this.callbacks = {
      add: (name, bytes, how) => this.add(name, bytes, how),
      stored: (name) => post({ type: 'data-stored', name, storage: this.storage() }),
      progress: (p) => post({ type: 'data-progress', ...p }),
      refused: (name, why) => post({ type: 'data-error', name, message: why }),
      unpack: (name, bytes) => {
        try {
          return engine.unpack(name, bytes);
        } catch (e) {
          if (isFatal(e)) throw e;
          post({ type: 'data-error', name, message: message(e) });
          return null;
        }
      },
    };
  }

  storage() { return { available: Boolean(this.store.cache), refused: this.store.refused }; }

  /** The images in force, as the page shows them. */
  sizes() {
    const d = this.dataset;
    return { type: 'data', train: d.train_size(), test: d.test_size(), files: d.files(), deviceBytes: d.device_bytes(), wasmMemory: this.engine.memoryBytes() };
  }

  /** One official file into the dataset (replacing its earlier copy), in its turn on the queue; false when refused. */
  add(name, bytes, { from, stored }) {
    const { post, isFatal, message } = this.engine;
    return this.engine.queue.add(() => {
      try {
        const info = this.dataset.add_file(name, bytes);
        post({ type: 'data-file', name: info.name, images: info.images, replaced: info.replaced, from, stored, bytes: bytes.length });
        post(this.sizes());
        return true;
      } catch (e) {
        if (isFatal(e)) throw e;
        post({ type: 'data-error', name, message: message(e) });
        return false;
      }
    });
  }

  /** Runs a data command to its end, then says so ('data-done'), with what it found. */
  async command(op, work) {
    const { post, isFatal, fatal, message, memoryBytes } = this.engine;
    try {
      const out = await work();
      post({ type: 'data-done', op, ...out, storage: this.storage(), wasmMemory: memoryBytes() });
    } catch (e) {
      if (isFatal(e)) return fatal('panic', `the engine crashed: ${message(e)}`);
      post({ type: 'data-done', op, error: message(e), storage: this.storage() });
    }
  }

  /** The six files for the data folder `base`: from storage, else downloaded (and stored). */
  load(base) {
    return this.command('load', async () => ({ missing: await loadAll(this.store, base, this.callbacks) }));
  }

  /** Files the user picked or dropped (File objects: no bytes cross from the page). */
  picked(files, keep) {
    return this.command('files', async () => ({ ignored: await loadPicked(this.store, files, keep, this.callbacks) }));
  }

  /** Deletes the stored files; the next load downloads them again. */
  forget() {
    return this.command('forget', async () => {
      await this.store.forget();
      this.store = new Store();
      return { forgotten: true };
    });
  }

  /** Only the first N training / test images (undefined: all); runs see it from their next epoch. */
  limit(images, tests) {
    this.dataset.set_limits(images ?? undefined, tests ?? undefined);
    this.engine.post(this.sizes());
  }
}
