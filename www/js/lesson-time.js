// How long the lesson will take on this device, from what the engine has
// measured on it: the images/s of the training steps and the time each
// finished epoch spent beyond them (the test pass, grids, the snapshot).
// Nothing is assumed about the device; before the first steps there is no
// estimate, only "measuring".

/** A class period, in minutes, unless the teacher's link says `classMinutes`. */
export const CLASS_MINUTES = 45;

/**
 * The device's pace as the latest run measured it: `{rate, epochExtra}`, the
 * training images/s and the seconds an epoch spends beyond its steps, or null
 * before any step. Before the first epoch has ended, the test pass is taken
 * to cost a third of a training step per image (a forward pass without the
 * backward one), and replaced by the measured figure as soon as it exists.
 */
function measuredPace(run, testImages) {
  if (!run || !(run.imagesPerSec > 0)) return null;
  const rate = run.imagesPerSec;
  const t = run.timing;
  const extra = t && t.epochs > 0 ? t.overheadMillis / 1000 / t.epochs : testImages / (3 * rate);
  return { rate, epochExtra: extra };
}

/**
 * Seconds left for each of `plan`'s runs: `{epochs, trainImages, done: {epochs, images}}`
 * where `done` is what a run in progress already trained (absent for one not started).
 */
function secondsLeft(plan, pace) {
  return plan.map(({ epochs, trainImages, done }) => {
    const imagesLeft = Math.max(0, epochs * trainImages - (done ? done.images : 0));
    const epochsLeft = Math.max(0, epochs - (done ? done.epochs : 0));
    return imagesLeft / pace.rate + epochsLeft * pace.epochExtra;
  });
}

/** "40 s", "3 min", "1 h 25 min": rounded as a person would say it. */
export function spoken(seconds) {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds / 5) * 5)} s`;
  const min = Math.round(seconds / 60);
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''}`;
}

/**
 * The training and test images a lesson run asks for, before what is loaded
 * caps them: a link's `images`/`tests`, else the quick protocol's (`quick`);
 * null for all (the full variant).
 */
export function askedImages(variant, page, quick) {
  const own = (key, q) => Number(page[key]) || (variant === 'quick' ? q : null);
  return { train: own('images', quick.images), tests: own('tests', quick.tests) };
}

/**
 * The images a lesson run will see: those `asked` (null for all), capped by
 * those `loaded` once anything is loaded; 0 when all are asked and none loaded.
 */
export function runImages(asked, loaded) {
  const cap = (n, have) => (have > 0 ? Math.min(n || Infinity, have) : n || 0);
  return { train: cap(asked.train, loaded.train), tests: cap(asked.tests, loaded.test) };
}

/**
 * The line that says what each run of `variant` will train on: `quickEpochs`
 * (the quick variant's), the images `asked` (askedImages: a link's win in
 * both variants) capped by those `loaded`, and the exercise's own (`full`).
 */
export function variantText(variant, quickEpochs, asked, loaded, full) {
  const seen = runImages(asked, loaded);
  const images = `${seen.train.toLocaleString('en')} training and ${seen.tests.toLocaleString('en')} test images`;
  if (variant === 'quick') {
    return `Quick lesson: ${quickEpochs} epoch${quickEpochs === 1 ? '' : 's'} on ${images} — the trends of the exercise, not its numbers (the results say "not comparable").`;
  }
  const all = full.trainImages.toLocaleString('en');
  const whole = (n, exercise) => n === exercise || n === 0;
  if (whole(seen.train, full.trainImages) && whole(seen.tests, full.testImages)) {
    return `Full lesson: the exercise itself, ${full.numEpochs} epochs on all ${all} images per run (hours on a laptop; minutes on a good GPU).`;
  }
  const which = asked.train === null && asked.tests === null ? `the ${images} loaded` : `the link's ${images}`;
  return `Full lesson: ${full.numEpochs} epochs per run, but on ${which}, not the exercise's ${all} (the results say "not comparable").`;
}

/**
 * What the lesson still needs on this device: `{imagesPerSec, perStep: {id:
 * seconds}, total, classMinutes, tooSlow}` from step index `from` on, for the
 * lesson's runs `made` (exercise run id → Run; `current` the one training),
 * paced by the latest run that trained here (a lesson run first, else
 * `latest`, the page's own); null before any step was measured. `loaded`:
 * the training and test images loaded; the quick variant uses its own number
 * of them (`quick`), a link's `images`/`tests` winning.
 */
export function lessonTime({ steps, variant, epochs, from, made, current, latest, loaded, page, quick }) {
  const measured = [current, ...Object.values(made).reverse(), latest].find((r) => r && r.imagesPerSec > 0);
  const { train, tests } = runImages(askedImages(variant, page, quick), loaded);
  const pace = measuredPace(measured, tests);
  if (!pace || !train) return null;
  const perStep = {};
  steps.forEach((step, i) => {
    const plan = i < from ? [] : step.runs.filter((id) => made[id]?.state !== 'done').map((id) => {
      const r = made[id];
      const done = r && r === current ? { epochs: r.epoch, images: r.epoch * train + r.seenInEpoch } : null;
      return { epochs, trainImages: train, done };
    });
    perStep[step.id] = secondsLeft(plan, pace).reduce((a, b) => a + b, 0);
  });
  const total = Object.values(perStep).reduce((a, b) => a + b, 0);
  const classMinutes = Number(page.classMinutes) > 0 ? Number(page.classMinutes) : CLASS_MINUTES;
  return { imagesPerSec: pace.rate, perStep, total, classMinutes, tooSlow: total > classMinutes * 60 };
}

function tooSlowText(t) {
  return `That is longer than a class period (${t.classMinutes} min) on this device: run only some steps in class (2.3 alone answers the latent-size question), or open the models your teacher hosts (Models panel). Fewer images (the link's images=) are quicker but teach less: on much fewer, latent 128 looks as sharp as 1024.`;
}

/** The panel's line before the lesson starts: `{text, tooSlow}`. */
export function beforeText(quick, full) {
  if (!quick) return { text: 'How long the lesson takes on this device is measured in its first steps and shown here.', tooSlow: false };
  const text = `This device trained about ${Math.round(quick.imagesPerSec)} images/s: the quick lesson would take about ${spoken(quick.total)}, the full one about ${spoken(full.total)}.`;
  return { text: quick.tooSlow ? `${text} ${tooSlowText(quick)}` : text, tooSlow: quick.tooSlow };
}

/** The panel's line while the lesson runs, at step `stepId`: `{text, tooSlow}`. */
export function timeText(t, stepId) {
  if (!t) return { text: 'Measuring this device\'s speed in the first steps…', tooSlow: false };
  if (!(t.total > 0)) return { text: 'Every run of the lesson has trained.', tooSlow: false };
  const steps = Object.entries(t.perStep).filter(([, s]) => s > 0).map(([id, s]) => `${id} ${spoken(s)}`);
  const here = t.perStep[stepId] > 0 ? `this step needs about ${spoken(t.perStep[stepId])} more, ` : '';
  const text = `This device trains about ${Math.round(t.imagesPerSec)} images/s: ${here}the whole lesson about ${spoken(t.total)} more (${steps.join(', ')}).`;
  return { text: t.tooSlow ? `${text} ${tooSlowText(t)}` : text, tooSlow: t.tooSlow };
}
