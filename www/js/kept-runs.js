// The page's runs kept across reloads (run-store.js): written soon after
// they change, and brought back when the page opens, the current run held
// paused at its last snapshot so that Resume goes on from it.
import { app, currentRun } from './app.js';
import { Run, reserveRunIds } from './engine.js';
import { openRunStore, keepRuns, keptRuns, forgetRuns, runStoreProblem, keptEpochs } from './run-store.js';
import { banner, hideBanner } from './banner.js';
import { adoptLessonRuns } from './lesson.js';

let timer = 0;
let writing = Promise.resolve();
let inFlight = 0;

/** Set by "Start afresh": nothing more is written (not even as the page unloads) before the reload. */
let forgotten = false;

function write() {
  if (forgotten) return writing;
  inFlight += 1;
  writing = writing.then(() => keepRuns(app.runs, currentRun())).finally(() => { inFlight -= 1; });
  return writing;
}

/** For the status contract: whether changes wait to be written, why runs are not kept (null when they are), the epochs of the current run's weights as written (null: none). */
export const keptStatus = () => ({
  pending: Boolean(timer || inFlight || app.restoring), problem: runStoreProblem(),
  currentEpochs: currentRun() ? keptEpochs(currentRun()) : null,
});

/** After a change: the runs are written within a second, one write for a burst of changes. */
export function keepSoon() {
  if (timer || app.restoring) return;
  timer = setTimeout(() => { timer = 0; write(); }, 1000);
}

/** Resolves once every change so far is written (tests, and a page being hidden). */
export function keptNow() {
  clearTimeout(timer);
  timer = 0;
  return write();
}

/** The runs of an earlier visit, back in the page; the current one held paused in the engine. */
export async function restoreRuns() {
  app.restoring = true;
  try {
    if (!(await openRunStore())) return;
    const kept = await keptRuns();
    if (!kept.length) return;
    reserveRunIds(Math.max(...kept.map((k) => k.record.id)));
    let current = null;
    for (const { record, weights } of kept) {
      const { current: wasCurrent, savedAt, ...fields } = record;
      // A kept run comes back in the state it was saved in (the one write of a state outside Run.to).
      const run = Object.assign(new Run(record.config), fields);
      run.snapshot = weights?.snapshot ?? null;
      run.snapshotAdam = weights?.adam ?? null;
      if (['training', 'loading'].includes(run.state)) run.to('paused');
      app.runs.push(run);
      app.engine.runs.set(run.id, run);
      if (wasCurrent) current = run;
      else app.engine.retire(run);
    }
    const held = current && current.state !== 'error' && current.snapshot;
    let goesOn = false;
    const wasTraining = current && kept.find((k) => k.record.id === current.id).record.state === 'training';
    if (held) {
      await app.engine.dataIdle();
      current.rewind('reloaded');
      app.engine.start(current.config, { run: current, model: current.snapshot, optimizer: current.snapshotAdam, paused: true });
      // A lesson's run goes on by itself (the lesson runs unattended); any other waits for Resume.
      goesOn = adoptLessonRuns(app.runs, current) && wasTraining;
      if (goesOn) app.engine.resume();
    } else if (current && current.state === 'error') {
      app.engine.run = current;
    } else if (current) {
      // Stopped before its first epoch ended: its curves are kept, no weights were.
      app.engine.retire(current);
    }
    if (!held) adoptLessonRuns(app.runs, null);
    const what = !held ? '' : goesOn ? ` The lesson goes on: run #${current.id} trains on after epoch ${current.snapshotEpochs}.`
      : ` Run #${current.id} is held paused after epoch ${current.snapshotEpochs}: press Resume to go on.`;
    banner(`Kept from your last visit: ${kept.length} run${kept.length > 1 ? 's' : ''}.${what}`, {
      info: true,
      actions: [['Dismiss', hideBanner], ['Start afresh (forget them)', startAfresh, 'forget-runs']],
    });
  } finally {
    app.restoring = false;
  }
}

async function startAfresh() {
  forgotten = true;
  clearTimeout(timer);
  timer = 0;
  await writing;
  await forgetRuns();
  location.reload();
}

addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden' && !app.restoring) keptNow(); });
