#!/usr/bin/env bash
# Runs on a lent GPU machine, from what scripts/gpu-carry.sh prepared (its
# last lines say how to call this).
#
#   gpu-runs.sh setup                   1st call: loader, binary, payload's first part, one bench
#   gpu-runs.sh sweep SECONDS           2nd call (lesson carry): the quick lesson's protocol sweep
#   gpu-runs.sh exercise SECONDS        2nd call (lesson carry): the exercise's seven runs, 20 epochs
#   gpu-runs.sh bench SECONDS           2nd call (bench carry): scripts/bench-gpu.sh, native wgpu
#                                       and the carried Chromium on the GPU (SHAPES, STEPS, WARMUP,
#                                       PKGS as there; default the package and tasksMax=256)
#
# Issue 22's runs start all at once (one GPU, 16 cores), each in its own
# folder and CubeCL cache, with metrics per epoch on the full test set; they
# are stopped at the deadline, and their metrics and logs come back in
# $OUT/runs.tgz, written every 20 s so a cut call still returns them. The
# sweep: on all 50,000 images, batch 64, lr 0.001, seeds 0-2, the six
# constant-β runs for 5 epochs (each epoch's metrics a candidate protocol),
# the annealed run for 2, 3, 4 and 5 epochs (its β ramps over the run), and
# AE 128 / 1024 at batch 32 on seed 0. DEVICE (wgpu) and RUNS_DATA (a data
# root instead of the carried one) are for a smoke test elsewhere.
# Back here: tar xzf runs.tgz -C target/gpu-runs, then the sweep's tables:
# node scripts/lesson-sweep-table.mjs target/gpu-runs; the exercise's report:
# copy each <run>/log/metrics.jsonl to exercise/<run>/ and run
# MACHINE="NVIDIA H200 (lent)" DEVICE=wgpu scripts/exercise.sh --report;
# the benchmark's table is in the call's output, its raw numbers in bench.tgz,
# and node scripts/trace-threads.mjs FILE reads each of traces/ (the query
# of each: bench/browser.jsonl's "trace").
set -uo pipefail
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f $icd ] && export VK_DRIVER_FILES=$icd
S=/tmp/vaelab-gpu            # kept between calls on the same warm machine
R=$S/runs
OUT="${OUT:?no OUT: this runs under the device tool}"
device="${DEVICE:-wgpu}"

case "${1:-}" in
  setup)
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
    mkdir -p $S
    cp .carry1/* $S/
    python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('$S/vaelab.xz'), open('$S/vaelab', 'wb'))"
    chmod +x $S/vaelab
    nvidia-smi -L
    timeout 150 $S/vaelab bench --device "$device" --latent_size 1024 --batch_size 64 --steps 20 --warmup 3
    exit ;;
  sweep|exercise|bench) deadline="${2:?how many seconds the runs may take}" ;;
  *) sed -n '2,27p' "$0"; exit 2 ;;
esac

[ -x $S/vaelab ] || { echo "no $S/vaelab: a fresh machine; call setup first (in the same warm lease)"; exit 3; }
job="$(cat $S/job)"
case "$job:$1" in lesson:sweep|lesson:exercise|bench:bench) ;; *) echo "$1 needs the other carry (gpu-carry.sh made a $job carry)"; exit 3 ;; esac
if [ "$job" = bench ]; then
  if [ ! -x $S/chromium/chromium-headless-shell ]; then
    cat $S/part.1 .carry2/part.2 |
      python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)" |
      tar x -C $S || exit 4
  fi
  mkdir -p target && rm -rf target/pkg-gpu && cp -r $S/pkg-gpu target/pkg-gpu
  # The flags that found the H200's Vulkan adapter (BENCHMARKS.md); CHROMIUM_FLAGS= for none.
  export CHROMIUM_FLAGS="${CHROMIUM_FLAGS-"--use-angle=vulkan --use-gl=angle --enable-features=Vulkan,DefaultANGLEVulkan,VulkanFromANGLE"}"
  export LD_LIBRARY_PATH="$S/chromium/lib:$S/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # At most 8 files come back: the raw numbers as one, a trace a page (2 packages × 3 shapes).
  traces="$OUT/traces"
  VAELAB_BIN=$S/vaelab CHROMIUM=$S/chromium/chromium-headless-shell OUT=$S/bench TRACE="$traces" \
    PKGS="${PKGS:-gpu=target/pkg-gpu t256=target/pkg-gpu?tasksMax=256}" STEPS="${STEPS:-10}" WARMUP="${WARMUP:-3}" \
    timeout "$deadline" scripts/bench-gpu.sh
  tar czf "$OUT/bench.tgz" -C $S bench
  exit
fi
if [ ! -f $S/data/cifar-10-batches-bin/test_batch.bin ]; then
  cat $S/part.1 .carry2/part.2 | tar x -C $S || exit 4
  mkdir -p $S/data/cifar-10-batches-bin
  for f in $S/*.x; do
    python3 scripts/cifar-carry.py dec "$f" "$S/data/cifar-10-batches-bin/$(basename "${f%.x}").bin" &
  done
  wait
  (cd $S/data/cifar-10-batches-bin && sha256sum -c $S/sums.txt) || exit 5
fi

t0=$(date +%s)
pids=()
launch() { # name flags...
  local name=$1
  shift
  mkdir -p "$R/$name"
  (cd "$R/$name" && HOME="$R/$name" XDG_CACHE_HOME="$R/$name/.cache" VAELAB_DATA="${RUNS_DATA:-$S/data}" \
    exec $S/vaelab train --log_dir "$R/$name/log" --device "$device" "$@" >"$R/$name/out.log" 2>&1) &
  pids+=($!)
}
if [ "$1" = sweep ]; then
  vae=(--loss_mode vae --latent_size 1024)
  for s in ${SEEDS:-0 1 2}; do
    at=(--seed "$s" --batch_size 64 --lr 0.001)
    launch "s${s}_ae16" "${at[@]}" --num_epochs 5 --loss_mode ae --latent_size 16
    launch "s${s}_ae128" "${at[@]}" --num_epochs 5 --loss_mode ae --latent_size 128
    launch "s${s}_ae1024" "${at[@]}" --num_epochs 5 --loss_mode ae --latent_size 1024
    launch "s${s}_vae" "${at[@]}" --num_epochs 5 "${vae[@]}" --beta_mode constant --target_beta_val 1
    launch "s${s}_vae08" "${at[@]}" --num_epochs 5 "${vae[@]}" --beta_mode constant --target_beta_val 0.8
    launch "s${s}_vae12" "${at[@]}" --num_epochs 5 "${vae[@]}" --beta_mode constant --target_beta_val 1.2
    for e in 2 3 4 5; do
      launch "s${s}_anneal$e" "${at[@]}" --num_epochs "$e" "${vae[@]}" --beta_mode linear --target_beta_val 1
    done
  done
  launch s0_b32_ae128 --seed 0 --batch_size 32 --lr 0.001 --num_epochs 3 --loss_mode ae --latent_size 128
  launch s0_b32_ae1024 --seed 0 --batch_size 32 --lr 0.001 --num_epochs 3 --loss_mode ae --latent_size 1024
else
  # The exercise's own runs and flags (scripts/exercise-runs.mjs, carried), its
  # batch size and learning rate the CLI's defaults, as scripts/exercise.sh runs them.
  while IFS='|' read -r name flags _; do
    # shellcheck disable=SC2086 # flags are words on purpose
    launch "$name" $flags --num_epochs 20
  done <$S/exercise-runs.txt
fi
echo "$1: ${#pids[@]} runs launched on $device at $(date -u +%T)"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,power.draw --format=csv -l 15 >"$OUT/smi.csv" 2>&1 &

snapshot() {
  (cd $R && tar czf "$OUT/runs.tgz" --ignore-failed-read ./*/log/metrics.jsonl ./*/out.log 2>/dev/null)
}
while :; do
  sleep 20
  snapshot
  alive=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
  elapsed=$(($(date +%s) - t0))
  echo "t=${elapsed}s runs alive $alive, $(uptime | sed 's/.*load/load/')"
  [ $alive = 0 ] && break
  if [ $elapsed -ge "$deadline" ]; then
    echo "deadline: stopping $alive runs"
    kill "${pids[@]}" 2>/dev/null
    sleep 2
    break
  fi
done
snapshot
grep -l -i -E 'error|panic' $R/*/out.log | head
