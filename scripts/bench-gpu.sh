#!/usr/bin/env bash
# One command for a machine with a real GPU: AE and VAE training images/s on
# native wgpu and in headless Chromium's WebGPU on that GPU, at batch 16 and
# 256 (latent 128) and at the exercise's own shape (latent 1024, batch 256),
# with the browser/native ratio and the implied time of the exercise's
# 20-epoch AE run (50,000 images an epoch; training steps only).
#
#   scripts/bench-gpu.sh
#
# Builds what it needs where cargo and wasm-pack are (target/wgpu, with fusion
# and autotune; target/pkg-gpu). On a machine without them, hand it builds:
#   VAELAB_BIN  a `vaelab` built with `--features wgpu`
#   PKGS        "name=dir ..." wasm packages to compare (default gpu=target/pkg-gpu);
#               "name=dir?tasksMax=256" adds www/bench.html options to that column
#   CHROMIUM    Chromium or chromium-headless-shell (default: chromium on PATH)
# Optional: SHAPES ("latent:batch ...", default "128:16 128:256 1024:256"),
# STEPS (timed steps, 20), WARMUP (5: autotune and shader compilation happen
# there), BROWSER_TIMEOUT (seconds per page, 600), NATIVE=0 or BROWSER=0 to leave a side out (its
# numbers from an earlier run in OUT stay in the table), OUT (raw numbers; default
# target/bench-gpu), TRACE (a folder: Chromium traces each page there, for
# `node scripts/trace-threads.mjs`: the host's thread time per step on the page's
# thread and on the GPU process's main thread). Prints a table last.
set -euo pipefail
cd "$(dirname "$0")/.."
SHAPES="${SHAPES:-128:16 128:256 1024:256}"
STEPS="${STEPS:-20}"
WARMUP="${WARMUP:-5}"
OUT="${OUT:-target/bench-gpu}"
mkdir -p "$OUT"

# A side left out keeps what an earlier run left in $OUT for the table.
if [ "${NATIVE:-1}" != 0 ]; then
  rm -f "$OUT/native.tsv"
  if [ -z "${VAELAB_BIN:-}" ]; then
    echo "[bench-gpu] building native vaelab with wgpu (fusion, autotune): target/wgpu" >&2
    cargo build --release --features wgpu --target-dir target/wgpu
    VAELAB_BIN=target/wgpu/release/vaelab
  fi
  for shape in $SHAPES; do
    latent="${shape%%:*}" batch="${shape##*:}"
    echo "== native wgpu: latent $latent, batch $batch" >&2
    "$VAELAB_BIN" bench --device wgpu --latent_size "$latent" --batch_size "$batch" \
      --steps "$STEPS" --warmup "$WARMUP" | tee "$OUT/native-$latent-$batch.txt" >&2
    awk -v l="$latent" -v b="$batch" '$3 == "images/s" { print l "\t" b "\t" $1 "\t" $2 }' \
      "$OUT/native-$latent-$batch.txt" >> "$OUT/native.tsv"
  done
fi

if [ "${BROWSER:-1}" != 0 ]; then
  rm -f "$OUT/browser.jsonl"
  if [ -z "${PKGS:-}" ]; then
    echo "[bench-gpu] building the wasm package (as shipped): target/pkg-gpu" >&2
    scripts/build-page.sh target/pkg-gpu
    PKGS="gpu=target/pkg-gpu"
  fi
  queries=()
  for pkg in $PKGS; do
    # name=dir, or name=dir?option=value&… for www/bench.html's options (tasksMax=256).
    spec="${pkg#*=}" dir="${spec%%\?*}" extra=""
    if [[ "$spec" == *\?* ]]; then extra="&${spec#*\?}"; fi
    for shape in $SHAPES; do
      latent="${shape%%:*}" batch="${shape##*:}"
      queries+=("latentSize=$latent&batchSize=$batch&steps=$STEPS&warmup=$WARMUP&data=device&pkg=../$dir/vaelab.js&label=${pkg%%=*}$extra")
    done
  done
  trace=()
  [ -n "${TRACE:-}" ] && trace=(--trace "$TRACE")
  python3 scripts/bench-browser.py --chromium "${CHROMIUM:-chromium}" --timeout "${BROWSER_TIMEOUT:-600}" \
    --json "$OUT/browser.jsonl" "${trace[@]}" "${queries[@]}" >&2 || echo "[bench-gpu] a browser run failed (above)" >&2
fi

python3 - "$OUT" <<'EOF'
import json, os, sys
out = sys.argv[1]
native, browser, adapters = {}, {}, set()
if os.path.exists(f"{out}/native.tsv"):
    for line in open(f"{out}/native.tsv"):
        latent, batch, model, ips = line.split()
        native[(int(latent), int(batch), model)] = float(ips)
labels = []
if os.path.exists(f"{out}/browser.jsonl"):
    for line in open(f"{out}/browser.jsonl"):
        r = json.loads(line)
        q = dict(kv.split("=", 1) for kv in r["query"].split("&"))
        label = q.get("label", "browser")
        if label not in labels:
            labels.append(label)
        if r.get("adapter"):
            adapters.add(r["adapter"])
        for model in ("ae", "vae"):
            if f"device-{model}" in r:
                browser[(label, int(q["latentSize"]), int(q["batchSize"]), model)] = r[f"device-{model}"]["ips"]
print()
print("Browser adapter(s):", ", ".join(sorted(adapters)) or "none reported")
head = f"{'latent':>6} {'batch':>5} {'model':>5} {'native wgpu':>12}"
for label in labels:
    head += f" {label + ' (browser)':>18} {'/native':>8}"
print(head + "   (images/s)")
keys = sorted({k for k in native} | {k[1:] for k in browser})
for latent, batch, model in keys:
    n = native.get((latent, batch, model))
    row = f"{latent:>6} {batch:>5} {model:>5} {'-' if n is None else round(n, 1):>12}"
    for label in labels:
        b = browser.get((label, latent, batch, model))
        ratio = f"{b / n:.2f}" if b and n else "-"
        row += f" {'-' if b is None else round(b, 1):>18} {ratio:>8}"
    print(row)
print()
print("The exercise's AE run (latent 1024, batch 256, 20 epochs x 50,000 images), training steps only:")
def hours(ips):
    s = 20 * 50000 / ips
    return f"{s / 60:.1f} min" if s < 3600 else f"{s / 3600:.2f} h"
if (1024, 256, "ae") in native:
    print(f"  native wgpu: {hours(native[(1024, 256, 'ae')])}")
for label in labels:
    if (label, 1024, 256, "ae") in browser:
        print(f"  {label} (browser): {hours(browser[(label, 1024, 256, 'ae')])}")
EOF
