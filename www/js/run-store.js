// The runs kept in this browser (IndexedDB), so that a reload, a crashed tab
// or a background tab the browser discarded loses none of a class's work:
// each run's settings, curves, test results, grids and state, and the
// weights the page holds (the current run's last snapshot with Adam's state;
// earlier runs' snapshots within the page's own bound, engine.js
// KEPT_SNAPSHOT_BYTES). A run is written when it changed, at most once a
// second, and its weights only when they changed (an epoch's end). After a
// reload the runs come back; the current one is held paused at its last
// snapshot, and Resume goes on from there.

const DB = 'vaelab-runs';
const RUNS = 'runs';
const WEIGHTS = 'weights';
/** What a run's record keeps (engine.js Run's fields; timing and speeds are the session's). */
const FIELDS = ['id', 'config', 'steps', 'tests', 'markers', 'state', 'error', 'recon', 'samples', 'plan',
  'snapshotEpochs', 'opened', 'epoch', 'numParams', 'weightsDropped', 'latent', 'lessonRun'];

let db = null;
/** run id → what was last written: a signature of the record, and the weights' identity. */
const written = new Map();
let failed = null;

function request(r) {
  return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
}

function done(tx) {
  return new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = tx.onabort = () => reject(tx.error); });
}

/** Opens the store; false where the browser refuses storage (the page then keeps runs in memory only). */
export async function openRunStore() {
  try {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => {
      r.result.createObjectStore(RUNS, { keyPath: 'id' });
      r.result.createObjectStore(WEIGHTS, { keyPath: 'id' });
    };
    db = await request(r);
    return true;
  } catch (e) {
    failed = `runs cannot be kept in this browser (${e?.message || e})`;
    return false;
  }
}

/** The epochs of `run`'s weights as last written (null: none written). */
export const keptEpochs = (run) => written.get(run.id)?.epochs ?? null;

/** Why runs are not being kept, or null. */
export const runStoreProblem = () => failed;

const signature = (run, current) => [run.steps.length, run.tests.length, run.markers.length, run.state, run.error,
  run.recon?.data?.length, run.samples?.data?.length, run.epoch, run.config.numEpochs, JSON.stringify(run.config), run.opened?.test?.recon, run === current].join('|');

/** Writes the runs that changed since the last call, and drops those no longer in `runs`. */
export async function keepRuns(all, current) {
  if (!db) return;
  // A run with nothing to lose (refused before its first step) is not kept.
  const runs = all.filter((r) => r.steps.length || r.tests.length || r.snapshot || r.opened);
  const tx = db.transaction([RUNS, WEIGHTS], 'readwrite');
  const now = new Map();
  for (const run of runs) {
    const was = written.get(run.id) || {};
    const sig = signature(run, current);
    if (sig !== was.sig) {
      const record = Object.fromEntries(FIELDS.map((k) => [k, run[k]]));
      tx.objectStore(RUNS).put({ ...record, current: run === current, savedAt: Date.now() });
    }
    if (run.snapshot !== was.snapshot || run.snapshotAdam !== was.adam) {
      // As Blobs: a 30 MB typed array cloned into the store held the main thread for ~100 ms. The
      // worker's, when it made them for this snapshot: making them here copies the bytes on this thread.
      const made = run.snapshotBlobs?.of === run.snapshot ? run.snapshotBlobs : null;
      if (run.snapshot) tx.objectStore(WEIGHTS).put({ id: run.id, snapshot: made?.model ?? new Blob([run.snapshot]), adam: run.snapshotAdam && (made?.adam ?? new Blob([run.snapshotAdam])) });
      else tx.objectStore(WEIGHTS).delete(run.id);
    }
    now.set(run.id, { sig, snapshot: run.snapshot, adam: run.snapshotAdam, epochs: run.snapshot ? run.snapshotEpochs : null });
  }
  const ids = new Set(runs.map((r) => r.id));
  const gone = [...written.keys()].filter((id) => !ids.has(id));
  for (const id of gone) {
    tx.objectStore(RUNS).delete(id);
    tx.objectStore(WEIGHTS).delete(id);
  }
  try {
    await done(tx);
    // Only what is committed counts as written.
    for (const [id, w] of now) written.set(id, w);
    for (const id of gone) written.delete(id);
    failed = null;
  } catch (e) {
    // A full quota: what was written stays; the next change tries again.
    written.clear();
    failed = `runs could not be kept in this browser's storage (${e?.name === 'QuotaExceededError' ? 'its quota is full' : e?.message || e})`;
  }
}

/** The runs kept by an earlier visit, oldest first: `{record, weights: {snapshot, adam} | null}` each. */
export async function keptRuns() {
  if (!db) return [];
  const tx = db.transaction([RUNS, WEIGHTS], 'readonly');
  const [records, weights] = await Promise.all([request(tx.objectStore(RUNS).getAll()), request(tx.objectStore(WEIGHTS).getAll())]);
  const bytes = async (blob) => (blob ? new Uint8Array(await blob.arrayBuffer()) : null);
  const byId = new Map(await Promise.all(weights.map(async (w) => [w.id, { snapshot: await bytes(w.snapshot), adam: await bytes(w.adam) }])));
  // Rewritten at the next change; the weights only when they change.
  for (const r of records) {
    const w = byId.get(r.id);
    written.set(r.id, { sig: null, snapshot: w?.snapshot ?? null, adam: w?.adam ?? null, epochs: w ? r.snapshotEpochs : null });
  }
  return records.sort((a, b) => a.id - b.id).map((record) => ({ record, weights: byId.get(record.id) || null }));
}

/** Forgets every kept run. */
export async function forgetRuns() {
  written.clear();
  if (!db) return;
  const tx = db.transaction([RUNS, WEIGHTS], 'readwrite');
  tx.objectStore(RUNS).clear();
  tx.objectStore(WEIGHTS).clear();
  await done(tx);
}
