#!/usr/bin/env node
// The exercise's runs as `name|flags|threshold` lines (threshold "-" where the
// exercise gives none), from the one table www/js/exercise.json: what
// scripts/exercise.sh and scripts/pretrain.sh train. LATENT and BETA (env)
// stand for the decisions the exercise leaves to the student ("the sharpest
// latent", "the beta picked by samples"; unset, the table's own picks). Run names as
// arguments print only those; an unknown one is an error naming the runs.
import fs from 'node:fs';

const table = JSON.parse(fs.readFileSync(new URL('../www/js/exercise.json', import.meta.url), 'utf8'));
const settings = JSON.parse(fs.readFileSync(new URL('../www/js/settings.json', import.meta.url), 'utf8'));
const latent = process.env.LATENT || String(table.picks.latentSize);
const beta = process.env.BETA || String(table.picks.targetBeta);
// Each setting's flag, from the one settings table the command line reads.
const FLAGS = Object.fromEntries(settings.map((s) => [s.key, s.flag]));
const names = table.runs.map((r) => r.name);
const unknown = process.argv.slice(2).filter((a) => !names.includes(a));
if (unknown.length) {
  console.error(`unknown run '${unknown[0]}'; the runs are: ${names.join(' ')}`);
  process.exit(2);
}
const chosen = process.argv.length > 2 ? process.argv.slice(2) : names;
for (const run of table.runs.filter((r) => chosen.includes(r.name))) {
  const c = { ...run.config };
  if (run.latent === 'picked') c.latentSize = latent;
  if (run.beta === 'picked') c.targetBeta = beta;
  // The exercise's defaults are left out, as its own commands leave them out.
  if (c.betaMode === 'constant') delete c.betaMode;
  if (Number(c.targetBeta) === 1 && run.beta !== 'picked') delete c.targetBeta;
  const flags = Object.keys(FLAGS).filter((k) => k in c).map((k) => `${FLAGS[k]} ${c[k]}`).join(' ');
  console.log(`${run.name}|${flags}|${run.threshold ?? '-'}`);
}
