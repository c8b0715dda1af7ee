#!/usr/bin/env bash
# The exercise, end to end on the command line: its seven runs with its own
# flags (20 epochs each), then EXERCISE.md with each run's final test recon
# and KL against the exercise's pass thresholds.
#
#   scripts/exercise.sh                 all seven runs (several hours on a CPU)
#   scripts/exercise.sh ae_latent1024   only the named runs (others keep their
#                                       earlier results, or show "not run")
#   scripts/exercise.sh --report        only rewrite EXERCISE.md from what exists
#
# Settings (environment): OUT (folder of the log dirs, default exercise/),
# LATENT (the VAE runs' latent size, "the sharpest latent": 1024), BETA (the
# annealed run's target beta, "the beta picked by samples": 1), DEVICE
# (flex|wgpu, default flex), EPOCHS (20; anything else is marked as not the
# exercise's), MACHINE (the report's machine, when the runs ran elsewhere:
# scripts/gpu-runs.sh), plus VAELAB_DATA as everywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-exercise}"
DEVICE="${DEVICE:-flex}"
EPOCHS="${EPOCHS:-20}"

# name | flags | threshold on the last epoch's test recon ("-": none), from
# the one table of the exercise's runs (www/js/exercise.json; the page reads it too).
RUNS="$(scripts/exercise-runs.mjs)"

report_only=0
names=()
for arg in "$@"; do
  case "$arg" in
    --report) report_only=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) names+=("$arg") ;;
  esac
done
wanted=()
if [ "$report_only" = 0 ] || [ ${#names[@]} != 0 ]; then
  # Exits naming the runs when one is unknown.
  chosen="$(scripts/exercise-runs.mjs "${names[@]}")"
  [ "$report_only" = 0 ] && mapfile -t wanted < <(cut -d'|' -f1 <<<"$chosen")
fi

mkdir -p "$OUT"
if [ "$report_only" = 0 ]; then
  features=()
  [ "$DEVICE" = wgpu ] && features=(--features wgpu)
  cargo build --release "${features[@]}" --bin vaelab
  for name in "${wanted[@]}"; do
    flags="$(grep "^$name|" <<<"$RUNS" | cut -d'|' -f2)"
    echo "== $name: $flags --num_epochs $EPOCHS"
    # shellcheck disable=SC2086 # flags are words on purpose
    "${CARGO_TARGET_DIR:-target}/release/vaelab" train --log_dir "$OUT/$name" $flags --num_epochs "$EPOCHS" \
      --device "$DEVICE" 2>&1 | tee "$OUT/$name.log"
    echo "$flags --num_epochs $EPOCHS --device $DEVICE" >"$OUT/$name/flags.txt"
  done
fi

# The report: read each run's metrics.jsonl (one line per finished epoch).
# The quick lesson's section (its protocol sweep, written by hand from
# scripts/lesson-check.sh) is kept as it is.
kept="$(sed -n '/^## The quick lesson/,$p' EXERCISE.md 2>/dev/null || true)"
RUNS="$RUNS" OUT="$OUT" DEVICE="$DEVICE" node - >EXERCISE.md <<'JS'
const fs = require('fs');
const os = require('os');
const out = process.env.OUT;
const rows = process.env.RUNS.split('\n').map((l) => l.split('|'));
const lines = [
  '# The exercise on the command line',
  '',
  'Written by `scripts/exercise.sh` from `' + out + '/<run>/metrics.jsonl`. Pass means the test',
  'reconstruction loss at the last of 20 epochs is below the exercise\'s threshold.',
  '',
  `Machine: ${process.env.MACHINE || `${os.cpus().length} × ${os.cpus()[0].model.trim()}`}; \`--device ${process.env.DEVICE}\`` +
    (process.env.DEVICE === 'flex' ? ' (Burn\'s CPU backend).' : '.'),
  '',
  '| run | flags | epochs | test recon | test KL | threshold | result | minutes |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
];
const missing = [];
for (const [name, flags, limit] of rows) {
  const file = `${out}/${name}/metrics.jsonl`;
  let records = [];
  try {
    records = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch { /* not run */ }
  let used = flags;
  try { used = fs.readFileSync(`${out}/${name}/flags.txt`, 'utf8').trim(); } catch { /* still running */ }
  const threshold = limit === '-' ? '–' : `< ${limit}`;
  if (!records.length) {
    missing.push(name);
    lines.push(`| ${name} | \`${flags}\` | 0 | – | – | ${threshold} | not run | – |`);
    continue;
  }
  const last = records[records.length - 1];
  const epochs = records.length;
  const minutes = (records.reduce((s, r) => s + r.seconds, 0) / 60).toFixed(0);
  let result = 'no threshold';
  if (epochs !== 20) result = `incomplete (${epochs} of 20 epochs)`;
  else if (limit !== '-') result = last.test_recon < Number(limit) ? '**pass**' : '**FAIL**';
  if (epochs !== 20) missing.push(name);
  lines.push(`| ${name} | \`${used}\` | ${epochs} | ${last.test_recon.toFixed(2)} | ${last.test_kl.toFixed(2)} | ${threshold} | ${result} | ${minutes} |`);
}
lines.push('');
lines.push(missing.length ? `Still unmeasured (no full 20-epoch run): ${missing.join(', ')}.` : 'All seven runs measured.');
lines.push('');
console.log(lines.join('\n'));
JS
if [ -n "$kept" ]; then printf '%s\n' "$kept" >>EXERCISE.md; fi
echo "wrote EXERCISE.md"
cat EXERCISE.md
