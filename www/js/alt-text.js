// Words for what the page draws (issue 25): a screen reader hears what each
// image grid shows (which run, how far trained), each epoch's numbers as
// they arrive, and each slider's value rather than its position.
import { describe, exerciseValues } from './state.js';

const nats = (v) => (Math.abs(v) < 10 ? v.toFixed(3) : v.toFixed(1));
const list = (xs) => (xs.length > 1 ? `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}` : String(xs[0]));

/** How far a run has trained: during the epoch in flight, else after its last finished one. */
function progressWords(run) {
  const of = `of ${run.config.numEpochs}`;
  const done = run.tests.length ? run.tests.at(-1).epoch + 1 : 0;
  const midEpoch = run.steps.length && run.epoch >= done && run.seenInEpoch > 0 && run.seenInEpoch < run.epochSize;
  if (midEpoch) return `during epoch ${run.epoch + 1} ${of}`;
  if (done) return `after epoch ${done} ${of}`;
  return run.steps.length ? `during epoch ${run.epoch + 1} ${of}` : 'before any training step';
}

/** The reconstruction or sample grid's text alternative; `null` run: nothing drawn yet. */
export function gridLabel(kind, run) {
  const ae = run && run.config.lossMode === 'ae';
  const what = kind === 'recon'
    ? 'Reconstructions: test images, each followed by its reconstruction'
    : ae ? 'An AE\'s decoder fed fixed noise z ~ N(0, I), which an AE has no prior for: not samples of anything'
      : 'Samples: images decoded from fixed noise z ~ N(0, I)';
  if (!run) return `${what}. No run yet.`;
  return `${what}, of run #${run.id} (${describe(run.config)}), ${progressWords(run)}.`;
}

/** The last finished epoch of a run, in one sentence (announced as it arrives); '' before one. */
export function epochSummary(run) {
  const t = run?.tests.at(-1);
  if (!t) return '';
  const kl = run.config.lossMode === 'vae' ? `, KL ${nats(t.kl)}` : '';
  return `Run #${run.id}, epoch ${t.epoch + 1} of ${run.config.numEpochs}: test recon ${t.recon.toFixed(1)}${kl}.`;
}

/** The latent slider's value in words: its position is a log scale, not a size. */
export const latentWords = (n) => `latent size ${n}; the exercise uses ${list(exerciseValues('latentSize'))}`;

/** The β slider's value in words, beside the exercise's. */
export const betaWords = (b) => `β = ${Number(b)}; the exercise uses ${list(exerciseValues('targetBeta'))}`;
