// Epoch and step bars, speed, ETA, the KL's weight now (β, or C and γ).
const $ = (id) => document.getElementById(id);

function duration(s) {
  if (!Number.isFinite(s) || s < 0) return '–';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function showProgress(run, state, trainSize) {
  $('state').textContent = state;
  if (!run) {
    for (const id of ['epoch-text', 'step-text', 'ips', 'eta', 'beta-now', 'test-recon']) $(id).textContent = '–';
    $('beta-now-label').textContent = 'β now';
    $('epoch-bar').value = 0;
    $('step-bar').value = 0;
    return;
  }
  const E = run.config.numEpochs;
  const size = run.epochSize || trainSize || 1;
  $('epoch-text').textContent = `${Math.min(run.epoch + (run.state === 'done' ? 0 : 1), E)} / ${E}`;
  $('epoch-bar').value = Math.min(1, run.x / E);
  // A finished run has seen its last epoch whole (the engine already counts
  // the next, empty one).
  const seen = run.state === 'done' ? size : run.seenInEpoch;
  $('step-text').textContent = `${seen.toLocaleString()} / ${size.toLocaleString()} images`;
  $('step-bar').value = Math.min(1, seen / size);
  $('ips').textContent = run.imagesPerSec ? Math.round(run.imagesPerSec).toLocaleString() : '–';
  const left = (E - run.x) * size;
  $('eta').textContent = run.state === 'done' ? 'done' : run.imagesPerSec ? duration(left / run.imagesPerSec) : '–';
  const last = run.steps[run.steps.length - 1];
  // The capacity objective has no β: what moves is C, the KL it aims at, under a fixed γ.
  // The last step says which objective trained it (the schedule can change mid-run).
  const vae = run.config.lossMode === 'vae';
  const capacity = vae && (last ? last.capacity != null : run.config.betaMode === 'capacity');
  $('beta-now-label').textContent = capacity ? 'C now' : 'β now';
  $('beta-now').textContent = !vae || !last ? '–'
    : capacity ? `${last.capacity.toFixed(2)} nats, γ ${+last.beta.toPrecision(4)}` : last.beta.toFixed(3);
  const t = run.tests[run.tests.length - 1];
  $('test-recon').textContent = t ? t.recon.toFixed(1) : '–';
}
