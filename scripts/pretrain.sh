#!/usr/bin/env bash
# Trained models ready to open: trains the exercise's runs with the command
# line and puts them where the page lists them, www/models/<run>.safetensors
# and www/models/manifest.json (each run's settings and final test losses).
# Nothing here is committed (www/models/ is ignored); a teacher runs this once
# on a fast machine and serves the folder with the page.
#
#   scripts/pretrain.sh                 the exercise's seven runs (hours on a CPU;
#                                       DEVICE=wgpu on a machine with a GPU)
#   scripts/pretrain.sh ae_latent16 …   only the named runs (the manifest keeps the others)
#
# Settings (environment): OUT (default www/models), EPOCHS (20), LIMIT (train on
# the first N images only), DATA (a CIFAR-10 folder or tarball; default: the
# data root's cifar-10-batches-bin), LATENT and BETA (the VAE runs' latent size and the
# annealed run's beta, as in scripts/exercise.sh), DEVICE (flex|wgpu), VAELAB_BIN
# (a vaelab already built; default: cargo build --release), WORK (the runs' log
# folders, default target/pretrain), plus VAELAB_DATA as everywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-www/models}"
EPOCHS="${EPOCHS:-20}"
DEVICE="${DEVICE:-flex}"
WORK="${WORK:-target/pretrain}"
RUNS="$(scripts/exercise-runs.mjs)"

case "${1:-}" in -h|--help) sed -n '2,19p' "$0"; exit 0 ;; esac
# Exits naming the runs when one is unknown.
chosen="$(scripts/exercise-runs.mjs "$@")"
mapfile -t wanted < <(cut -d'|' -f1 <<<"$chosen")

bin="${VAELAB_BIN:-}"
if [ -z "$bin" ]; then
  features=()
  [ "$DEVICE" = wgpu ] && features=(--features wgpu)
  cargo build --release "${features[@]}" --bin vaelab
  bin="${CARGO_TARGET_DIR:-target}/release/vaelab"
fi
mkdir -p "$OUT" "$WORK"
for name in "${wanted[@]}"; do
  flags="$(grep "^$name|" <<<"$RUNS" | cut -d'|' -f2)"
  echo "== $name: $flags --num_epochs $EPOCHS${LIMIT:+ --limit $LIMIT}"
  # shellcheck disable=SC2086 # flags are words on purpose
  "$bin" train --log_dir "$WORK/$name" $flags --num_epochs "$EPOCHS" ${LIMIT:+--limit "$LIMIT"} \
    ${DATA:+--data "$DATA"} --device "$DEVICE"
  cp "$WORK/$name/model.safetensors" "$OUT/$name.safetensors"
done

# The manifest: every model in OUT that a run here trained, with the settings
# its file carries and its last epoch's test losses.
OUT="$OUT" WORK="$WORK" RUNS="$RUNS" LIMIT="${LIMIT:-}" node - <<'JS'
const fs = require('fs');
const path = require('path');
const { OUT: out, WORK: work, RUNS: runs, LIMIT: limit } = process.env;
const manifestPath = path.join(out, 'manifest.json');
let old = [];
try { old = JSON.parse(fs.readFileSync(manifestPath, 'utf8')).models || []; } catch { /* a first manifest */ }
const models = [];
for (const name of runs.split('\n').map((l) => l.split('|')[0])) {
  const file = `${name}.safetensors`;
  let metrics;
  try {
    metrics = fs.readFileSync(path.join(work, name, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  } catch {
    const kept = old.find((m) => m.file === file);
    if (kept && fs.existsSync(path.join(out, file))) models.push(kept);
    continue;
  }
  if (!fs.existsSync(path.join(out, file))) continue;
  // The config the model file was saved with (SafeTensors metadata).
  const bytes = fs.readFileSync(path.join(out, file));
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
  const config = JSON.parse(header.__metadata__.config);
  const last = metrics[metrics.length - 1];
  models.push({
    name, file, config, epochs: metrics.length,
    ...(limit ? { trainImages: Number(limit) } : {}),
    test: { recon: last.test_recon, kl: last.test_kl },
  });
}
fs.writeFileSync(manifestPath, JSON.stringify({ about: 'Written by scripts/pretrain.sh; the page lists these models.', models }, null, 2) + '\n');
console.log(`wrote ${manifestPath} (${models.length} models)`);
JS
