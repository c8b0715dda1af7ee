#!/usr/bin/env bash
# CPU training throughput, side by side in one run (a timing means nothing
# across runs on a shared machine):
#   1. native `flex` (all cores) against PyTorch on the CPU: AE and VAE,
#      latent 128, batch 256;
#   2. the CPU fallback in wasm (flex in headless Chromium, one thread)
#      against native `flex` on one thread: latent 128, batch 16.
# Each pair alternates ROUNDS times (default 2) and the best of each side is
# kept, so a busy moment of the machine hurts both alike.
#
#   scripts/bench-cpu.sh
#
# PyTorch comes from TORCH_PYTHON (default target/torch-venv/bin/python3,
# created with `pip install torch safetensors` when missing; when that is
# impossible the script says so and leaves PyTorch out). The wasm side needs
# pkg/ and pkg-cpu/ built (`scripts/build-page.sh`) or
# PKG=dir (its CPU package in dir-cpu), and CHROMIUM (default /usr/bin/chromium). Optional: STEPS_256 (4),
# STEPS_16 (3), BASE_PKG (a second package measured beside PKG, e.g. a build
# before a change).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-2}"
PKG="${PKG:-pkg}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
STEPS_256="${STEPS_256:-4}"
STEPS_16="${STEPS_16:-3}"
OUT="${OUT:-target/bench-cpu}"
mkdir -p "$OUT" target/tmp
export TMPDIR="${TMPDIR:-$PWD/target/tmp}"
: > "$OUT/results.tsv"

cargo build --release --quiet
BIN=target/release/vaelab

TORCH_PYTHON="${TORCH_PYTHON:-target/torch-venv/bin/python3}"
if ! "$TORCH_PYTHON" -c 'import torch, safetensors' 2>/dev/null; then
  echo "[bench-cpu] creating target/torch-venv with torch from PyPI (a few minutes)" >&2
  if python3 -m venv target/torch-venv && target/torch-venv/bin/pip install -q torch safetensors; then
    TORCH_PYTHON=target/torch-venv/bin/python3
  else
    echo "[bench-cpu] PyTorch could not be installed: its side is left out" >&2
    TORCH_PYTHON=
  fi
fi

# record SIDE: reads `bench` lines ("ae  123.4 images/s ...") from stdin.
record() {
  tee /dev/stderr | awk -v side="$1" '$3 == "images/s" { print side "\t" $1 "\t" $2 }' >> "$OUT/results.tsv"
}

# wasm_fallback PKG SIDE: the CPU fallback of package PKG in Chromium, batch 16:
# PKG-cpu/, the CPU's package that build-page.sh writes beside PKG, or PKG
# itself where there is none (a package of both engines, built before they
# were split).
wasm_fallback() {
  local dir="$1"
  if [ -f "$dir-cpu/vaelab.js" ]; then dir="$dir-cpu"; fi
  python3 scripts/bench-browser.py --chromium "$CHROMIUM" \
    "latentSize=128&batchSize=16&steps=$STEPS_16&warmup=1&backend=cpu&pkg=../$dir/vaelab.js" \
    | awk '$1 == "host" { print $2 "  " $3 " images/s" }' | record "$2"
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round: latent 128, batch 256" >&2
  "$BIN" bench --device flex --steps "$STEPS_256" --warmup 1 | record "native flex"
  if [ -n "$TORCH_PYTHON" ]; then
    "$TORCH_PYTHON" scripts/bench-torch.py --steps "$STEPS_256" --warmup 1 | record "pytorch cpu"
  fi
  echo "== round $round: latent 128, batch 16, one thread" >&2
  RAYON_NUM_THREADS=1 "$BIN" bench --device flex --batch_size 16 --steps "$STEPS_16" --warmup 1 \
    | record "native flex, 1 thread"
  wasm_fallback "$PKG" "wasm cpu fallback"
  if [ -n "${BASE_PKG:-}" ]; then wasm_fallback "$BASE_PKG" "wasm fallback, BASE_PKG"; fi
done

python3 - "$OUT/results.tsv" <<'EOF'
import sys
best = {}
for line in open(sys.argv[1]):
    side, model, ips = line.rstrip("\n").split("\t")
    best[(side, model)] = max(best.get((side, model), 0.0), float(ips))
print()
print("best of each side, images/s:")
for (side, model), ips in sorted(best.items()):
    print(f"  {side:<24} {model:<4} {ips:8.1f}")
print()
for a, b, goal in [("native flex", "pytorch cpu", 1.0), ("wasm cpu fallback", "native flex, 1 thread", 0.7)]:
    for model in ("ae", "vae"):
        if (a, model) in best and (b, model) in best:
            r = best[(a, model)] / best[(b, model)]
            print(f"{a} / {b}, {model}: {r:.2f} (goal >= {goal})")
EOF
