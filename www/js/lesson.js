// Lesson mode: the exercise's sections 2.3 → 2.6 → 2.7 → 2.9 as one guided
// path. Each step states its question, runs its runs one after another with
// no one at the screen, lays them side by side (the Runs panel's comparison)
// and asks for the step's decision, which the next step's runs use. The quick
// variant trains fewer epochs (exercise.json, `quick`) and says so; the full one is
// the exercise. This file decides what runs when; the engine trains.
import { EXERCISE } from './results.js';
import { DEFAULTS } from './settings.js';
import { exerciseValues } from './state.js';
import { lessonTime, timeText, beforeText, askedImages, variantText } from './lesson-time.js';
import { renderHosted } from './lesson-hosted.js';

const $ = (id) => document.getElementById(id);

// The exercise's runs of a section (exercise.json groups them); a decision
// chooses among the values the sections' runs trained.
const ids = (section) => EXERCISE.runs.filter((r) => r.section === section).map((r) => r.id);

export const STEPS = [
  { id: '2.3', question: 'Which latent size gives the sharpest reconstructions?', runs: ids('2.3'),
    decide: { key: 'latent', label: 'The sharpest latent size', options: exerciseValues('latentSize', ['2.3']) } },
  { id: '2.6', question: 'A VAE at the latent size you picked: how do its reconstructions and samples compare with the AE\'s?', runs: ids('2.6') },
  { id: '2.7', question: 'Which β gives the best samples?', runs: ids('2.7'), compare: ids('2.6'),
    decide: { key: 'beta', label: 'The β with the best samples', options: exerciseValues('targetBeta', ['2.6', '2.7']) } },
  { id: '2.9', question: 'Linear annealing to the β you picked: does it beat a constant β?', runs: ids('2.9'), compare: ids('2.6') },
];

const lesson = {
  variant: null, // 'quick' | 'full'
  step: 0,
  decisions: { latent: null, beta: null },
  queue: [], // exercise run ids still to run in this step
  made: {}, // exercise run id → the Run trained for it
  current: null, // the Run in progress
  state: 'off', // off | ready | running | decide | next | done | interrupted
  note: '',
};
let ctx = null;

/** What the lesson is doing, for the end-to-end tests. */
export function lessonStatus() {
  return {
    variant: lesson.variant, step: STEPS[lesson.step]?.id ?? null, state: lesson.state,
    decisions: { ...lesson.decisions }, runs: Object.fromEntries(Object.entries(lesson.made).map(([k, r]) => [k, r.id])),
    done: Object.keys(lesson.made).filter((k) => lesson.made[k].state === 'done'),
  };
}

/** Page options a teacher's link keeps: `lesson`, `lessonStep`, `lessonLatent`, `lessonBeta`. */
export function lessonOptions() {
  if (!lesson.variant) return {};
  return {
    lesson: lesson.variant, lessonStep: STEPS[lesson.step].id,
    ...(lesson.decisions.latent ? { lessonLatent: String(lesson.decisions.latent) } : {}),
    ...(lesson.decisions.beta ? { lessonBeta: String(lesson.decisions.beta) } : {}),
  };
}

/**
 * `start(config)` starts a run and returns it; `select(runs)` lays runs side
 * by side; `limit(images, tests)` limits the data; `settings()` the page's
 * config (the quick variant keeps its batch size); `page` the URL options;
 * `sizes()` the training and test images a run would see now; `hosted()` the
 * teacher's models `{models, base}` and `open(url, name)` opens one.
 * Returns URL problems (an unknown step or decision).
 */
export function bindLesson({ start, select, limit, settings, page, update, sizes, hosted, open }) {
  ctx = { start, select, limit, settings, page, update, sizes, hosted, open };
  $('lesson-quick').addEventListener('click', () => begin('quick', 0));
  $('lesson-full').addEventListener('click', () => begin('full', 0));
  $('lesson-run').addEventListener('click', () => runStep());
  $('lesson-next').addEventListener('click', () => { lesson.step += 1; runStep(); });
  const problems = [];
  if (page.classMinutes != null && !(Number(page.classMinutes) > 0)) problems.push(`classMinutes=${page.classMinutes}: use a number of minutes above 0`);
  if (page.lesson) {
    if (!['quick', 'full'].includes(page.lesson)) problems.push(`lesson=${page.lesson}: use quick or full`);
    else {
      const at = page.lessonStep ? STEPS.findIndex((s) => s.id === page.lessonStep) : 0;
      if (at < 0) problems.push(`lessonStep=${page.lessonStep}: the steps are ${STEPS.map((s) => s.id).join(', ')}`);
      for (const [key, name] of [['latent', 'lessonLatent'], ['beta', 'lessonBeta']]) {
        if (page[name] == null) continue;
        const v = Number(page[name]);
        const options = STEPS.find((s) => s.decide?.key === key).decide.options;
        if (options.includes(v)) lesson.decisions[key] = v;
        else problems.push(`${name}=${page[name]}: use ${options.join(', ')}`);
      }
      // Opened at a step: shown, and run when the student presses "Run this step".
      lesson.variant = page.lesson;
      lesson.step = Math.max(0, at);
      lesson.state = missingDecision() ? 'blocked' : 'ready';
      applyLimits();
    }
  }
  return problems;
}

function begin(variant, step) {
  lesson.variant = variant;
  lesson.step = step;
  lesson.decisions = { latent: null, beta: null };
  lesson.made = {};
  applyLimits();
  runStep();
}

/** The quick variant's images (the page's own `images`/`tests` win); the full one uses them all. */
function applyLimits() {
  const asked = askedImages(lesson.variant, ctx.page, EXERCISE.quick);
  ctx.limit(asked.train, asked.tests);
}

/** The step needs a decision an earlier step makes, and it was not made. */
function missingDecision() {
  const step = STEPS[lesson.step];
  const needs = step.runs.map((id) => EXERCISE.runs.find((r) => r.id === id)).flatMap((r) => [r.latent && 'latent', r.beta && 'beta']).filter(Boolean);
  return needs.find((k) => lesson.decisions[k] === null) || null;
}

/** The config of exercise run `id` in this lesson. */
function configFor(id) {
  const run = EXERCISE.runs.find((r) => r.id === id);
  const page = ctx.settings();
  const c = { ...DEFAULTS, ...run.config, seed: page.seed };
  if (run.latent === 'picked') c.latentSize = lesson.decisions.latent;
  if (run.beta === 'picked') c.targetBeta = lesson.decisions.beta;
  if (lesson.variant === 'full') {
    Object.assign(c, { numEpochs: EXERCISE.full.numEpochs, batchSize: EXERCISE.full.batchSize, lr: EXERCISE.full.lr });
  } else {
    // The quick protocol's (exercise.json); a link's own batch size and learning rate win.
    const q = EXERCISE.quick;
    c.numEpochs = quickEpochs();
    c.batchSize = page.batchSize !== DEFAULTS.batchSize ? page.batchSize : q.batchSize ?? page.batchSize;
    c.lr = page.lr !== DEFAULTS.lr ? page.lr : q.lr ?? page.lr;
  }
  return c;
}

/** The quick variant's epochs: the exercise.json default, unless the page's settings say otherwise. */
function quickEpochs() {
  const n = ctx.settings().numEpochs;
  return n !== DEFAULTS.numEpochs ? n : EXERCISE.quick.numEpochs;
}

/** Runs the step's runs still missing: after an interruption, a run that finished is not run again. */
function runStep() {
  const missing = missingDecision();
  if (missing) { lesson.state = 'blocked'; ctx.update(); return; }
  lesson.queue = STEPS[lesson.step].runs.filter((id) => lesson.made[id]?.state !== 'done');
  lesson.state = 'running';
  next();
}

function next() {
  const id = lesson.queue.shift();
  if (!id) {
    const step = STEPS[lesson.step];
    lesson.current = null;
    lesson.state = step.decide ? 'decide' : lesson.step + 1 < STEPS.length ? 'next' : 'done';
    ctx.update();
    return;
  }
  // Starting a run reports back at once (advanceLesson): no run is current until it exists.
  lesson.current = null;
  lesson.current = ctx.start(configFor(id));
  if (lesson.current) {
    lesson.made[id] = lesson.current;
    lesson.current.lessonRun = id; // kept with the run: a reload gives it back to the lesson
  }
  else {
    lesson.state = 'interrupted';
    lesson.note = 'the engine could not start the run';
  }
  ctx.update();
}

function decide(value) {
  const step = STEPS[lesson.step];
  lesson.decisions[step.decide.key] = value;
  lesson.step += 1;
  runStep();
}

/**
 * The lesson's runs kept from before a reload (kept-runs.js) go back into it
 * at the step the URL names: finished ones are not run again, and the one
 * that was training goes on (`current`, held in the engine). True when the
 * lesson goes on with `current`.
 */
export function adoptLessonRuns(runs, current) {
  if (!lesson.variant) return false;
  for (const r of runs) if (r.lessonRun) lesson.made[r.lessonRun] = r;
  const step = STEPS[lesson.step];
  if (current && step.runs.includes(current.lessonRun) && current.state !== 'done' && current.state !== 'error') {
    lesson.current = current;
    lesson.queue = step.runs.filter((id) => id !== current.lessonRun && lesson.made[id]?.state !== 'done');
    lesson.state = 'running';
    return true;
  }
  if (step.runs.every((id) => lesson.made[id]?.state === 'done')) {
    lesson.state = step.decide ? 'decide' : lesson.step + 1 < STEPS.length ? 'next' : 'done';
  }
  return false;
}

/**
 * Moves the queue on when its run finished. Called on every message from the
 * engine, not from drawing: a hidden tab draws nothing (no animation frames)
 * but still receives the worker's messages, so the lesson goes on there.
 */
export function advanceLesson(engine) {
  const run = lesson.current;
  if (!run) return;
  // The interrupted run came back (the engine restarted from its snapshot): the lesson goes on with it.
  if (lesson.state === 'interrupted' && engine && engine.run === run && run.state !== 'error') {
    lesson.state = 'running';
    lesson.note = '';
  }
  if (lesson.state !== 'running') return;
  if (run.state === 'done') next();
  else if (run.state === 'error' || (engine && engine.run !== run)) {
    lesson.state = 'interrupted';
    lesson.note = run.state === 'error' ? `run #${run.id} stopped: ${run.error}` : `run #${run.id} was replaced by another run`;
  }
}

/** What the time estimate needs of the lesson, for `variant`. */
function timeInputs(variant, latest) {
  const ours = lesson.variant === variant;
  return {
    steps: STEPS, variant, latest, page: ctx.page, loaded: ctx.sizes(), quick: EXERCISE.quick,
    epochs: variant === 'full' ? EXERCISE.full.numEpochs : quickEpochs(),
    from: ours ? lesson.step : 0, made: ours ? lesson.made : {}, current: ours ? lesson.current : null,
  };
}

/** The lesson's time on this device, for the end-to-end tests (null before anything was measured). */
export function lessonEstimate(latest) {
  return ctx ? lessonTime(timeInputs(lesson.variant || 'quick', latest)) : null;
}

/** Draws the panel; `latest` is the page's current run (its pace counts before the lesson has one). */
export function renderLesson(latest) {
  const line = lesson.variant
    ? timeText(lessonTime(timeInputs(lesson.variant, latest)), STEPS[lesson.step].id)
    : beforeText(lessonTime(timeInputs('quick', latest)), lessonTime(timeInputs('full', latest)));
  $('lesson-time').textContent = line.text;
  $('lesson-time').classList.toggle('warn', line.tooSlow);
  const step = STEPS[lesson.step];
  $('lesson-start').hidden = lesson.variant !== null;
  $('lesson-body').hidden = lesson.variant === null;
  if (!lesson.variant) return;
  $('lesson-variant').textContent = variantText(lesson.variant, quickEpochs(), askedImages(lesson.variant, ctx.page, EXERCISE.quick), ctx.sizes(), EXERCISE.full);
  $('lesson-step').textContent = `${step.id} · ${step.question}`;
  const made = step.runs.filter((id) => lesson.made[id]).map((id) => `#${lesson.made[id].id}`);
  const said = {
    ready: 'Press "Run this step": its runs train one after another; no one needs to watch.',
    blocked: `This step needs the decision of an earlier step (${missingDecision()}).`,
    running: `Training ${step.runs.filter((id) => lesson.made[id]?.state === 'done').length + 1} of ${step.runs.length} (${made.join(', ')}); the runs appear side by side below as they finish.`,
    decide: `${step.decide?.label}? Compare the runs side by side (Runs panel), then decide:`,
    next: 'Done. Look at the runs side by side, then go on.',
    done: 'The lesson is complete: the results table holds every run against the exercise\'s thresholds; download the report for your hand-in.',
    interrupted: `Interrupted (${lesson.note}). Press "Run this step" to run the rest of the step.`,
  }[lesson.state] || '';
  $('lesson-state').textContent = said;
  $('lesson-run').hidden = !['ready', 'interrupted'].includes(lesson.state);
  $('lesson-next').hidden = lesson.state !== 'next';
  const box = $('lesson-decide');
  box.hidden = lesson.state !== 'decide';
  if (lesson.state === 'decide' && box.dataset.step !== step.id) {
    box.dataset.step = step.id;
    box.replaceChildren(...step.decide.options.map((v) => {
      const b = document.createElement('button');
      b.textContent = step.decide.key === 'latent' ? `latent ${v}` : `β ${v}`;
      b.setAttribute('data-testid', `lesson-pick-${v}`);
      b.addEventListener('click', () => decide(v));
      return b;
    }));
  }
  const picked = Object.entries(lesson.decisions).filter(([, v]) => v !== null).map(([k, v]) => `${k === 'latent' ? 'latent' : 'β'} ${v}`);
  $('lesson-decisions').textContent = picked.length ? `Your decisions: ${picked.join(', ')}.` : '';
  // The step's runs (and those it compares with) side by side.
  const ids = [...(step.compare || []), ...step.runs];
  const { models, base } = ctx.hosted();
  renderHosted($('lesson-hosted'), { ids, made: lesson.made, hosted: models, base, busy: lesson.state === 'running', onOpen: ctx.open });
  const shown = ids.map((id) => lesson.made[id]).filter(Boolean);
  const key = shown.map((r) => r.id).join(',');
  if (key !== lesson.shown) { lesson.shown = key; ctx.select(shown); }
}
