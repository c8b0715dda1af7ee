#!/usr/bin/env node
// The quick lesson's protocol sweep (scripts/gpu-runs.sh sweep), as tables for
// EXERCISE.md: for each candidate (all 50,000 images, E epochs) and
// seed, the lesson's seven runs' test recon (and the VAEs' KL), the AE ratios
// and which of tests/lesson_protocol.rs's orderings fail. A constant-β run's
// E-epoch result is its metrics after epoch E; the annealed run has one run
// per E, since its β ramps over the whole run.
//
//   node scripts/lesson-sweep-table.mjs DIR     DIR holds <run>/log/metrics.jsonl
import fs from 'node:fs';

const root = process.argv[2];
// The sweep trains the quick protocol's batch size and learning rate (scripts/gpu-runs.sh).
const { quick } = JSON.parse(fs.readFileSync(new URL('../www/js/exercise.json', import.meta.url), 'utf8'));
if (!root || !fs.existsSync(root)) {
  console.error('usage: lesson-sweep-table.mjs DIR (the runs: DIR/<run>/log/metrics.jsonl)');
  process.exit(2);
}
const runs = {};
for (const name of fs.readdirSync(root)) {
  const file = `${root}/${name}/log/metrics.jsonl`;
  if (fs.existsSync(file)) {
    runs[name] = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }
}
const seeds = [...new Set(Object.keys(runs).map((n) => n.match(/^s(\d+)_/)?.[1]).filter(Boolean))].sort();
const ids = ['ae16', 'ae128', 'ae1024', 'vae', 'vae08', 'vae12', 'vaeanneal'];
const one = (x) => (x === undefined ? '–' : x.toFixed(1));
const ratio = (a, b) => (a === undefined || b === undefined ? '–' : (a / b).toFixed(2));

/** The E-epoch protocol's metrics of one run, or undefined where it did not get that far. */
function at(seed, id, e) {
  if (id === 'vaeanneal') {
    const r = runs[`s${seed}_anneal${e}`];
    return r?.length === e ? r[e - 1] : undefined;
  }
  return runs[`s${seed}_${id}`]?.[e - 1];
}

/** tests/lesson_protocol.rs's orderings, by name, that these metrics break. */
function fails(m) {
  const r = (k) => m[k].test_recon;
  const kl = (k) => m[k].test_kl;
  return [
    [r('ae16') > 1.1 * r('ae128'), 'AE 16 ≥ 10 % above 128'],
    [r('ae128') > 1.1 * r('ae1024'), 'AE 128 ≥ 10 % above 1024'],
    [r('vae') > r('ae1024'), 'VAE above AE'],
    [r('vae08') < r('vae') && r('vae') < r('vae12'), 'recon rising with β'],
    [kl('vae08') > kl('vae') && kl('vae') > kl('vae12'), 'KL falling with β'],
    [r('vaeanneal') < r('vae'), 'annealed below constant'],
  ].filter(([ok]) => !ok).map(([, what]) => what);
}

// Every candidate some run reached (the sweep's EPOCHS, or fewer where a call was cut).
const most = Math.max(0, ...Object.values(runs).map((r) => r.length));
for (let e = 1; e <= most; e++) {
  console.log(`\nAll 50,000 images, batch ${quick.batchSize}, lr ${quick.lr}, ${e} epoch${e > 1 ? 's' : ''} (${(e * 50000).toLocaleString('en')} images a run):\n`);
  console.log('| seed | AE 16 | AE 128 | AE 1024 | VAE β 1 | VAE β 0.8 | VAE β 1.2 | VAE linear | 16 / 128 | 128 / 1024 | KL β 0.8 / 1 / 1.2 | result |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  for (const s of seeds) {
    const m = Object.fromEntries(ids.map((id) => [id, at(s, id, e)]));
    const r = (k) => m[k]?.test_recon;
    const missing = ids.filter((id) => !m[id]);
    const bad = missing.length ? [] : fails(m);
    const result = missing.length ? `not reached: ${missing.join(', ')}` : bad.length ? `fails: ${bad.join('; ')}` : '**passes**';
    console.log(`| ${s} | ${ids.map((id) => one(r(id))).join(' | ')} | ${ratio(r('ae16'), r('ae128'))} | ${ratio(r('ae128'), r('ae1024'))} | ${['vae08', 'vae', 'vae12'].map((k) => one(m[k]?.test_kl)).join(' / ')} | ${result} |`);
  }
}
const b32 = ['s0_b32_ae128', 's0_b32_ae1024'];
if (b32.some((n) => runs[n])) {
  console.log('\nBatch 32, seed 0, AE test recon by epoch (128 / 1024):\n');
  for (let e = 1; e <= 3; e++) {
    const [a, b] = b32.map((n) => runs[n]?.[e - 1]?.test_recon);
    console.log(`- epoch ${e}: ${one(a)} / ${one(b)} (ratio ${ratio(a, b)})`);
  }
}
console.log('\nSeconds per epoch, each run (concurrent runs share the GPU):\n');
for (const [name, records] of Object.entries(runs)) {
  console.log(`- ${name}: ${records.map((x) => x.seconds.toFixed(0)).join(', ')}`);
}
