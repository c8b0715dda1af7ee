#!/usr/bin/env bash
# Runs on a lent GPU machine, from what scripts/gpu-carry.sh prepared (its
# last lines say how to call this).
#
#   gpu-runs.sh setup                   1st call: loader, binary, payload's first part
#   gpu-runs.sh sweep SECONDS           then (lesson carry): the quick lesson's protocol sweep;
#                                       called again on the same warm machine, it goes on
#   gpu-runs.sh exercise SECONDS        then (lesson carry): the exercise's seven runs, 20 epochs
#   gpu-runs.sh bench SECONDS           then (bench carry): scripts/bench-gpu.sh, native wgpu
#                                       and the carried Chromium on the GPU (SHAPES, STEPS, WARMUP,
#                                       PKGS as there; default issue 21's two shapes, 128:16 and
#                                       1024:256, and three columns: the package's usual steps,
#                                       graph=0, its replays of a captured step, graph=1, the
#                                       page's default on WebGPU, and the candidate with kernel
#                                       picks, replayed); then, in the time left, one native
#                                       step at 1024:256 autotuned afresh with CubeCL's log on:
#                                       which kernels autotune picks on this GPU (autotune.txt)
#
# Issue 22's runs go through a queue, SLOTS at a time (3 for the sweep, 7 for
# the exercise), each in its own folder and CubeCL cache, with metrics per
# epoch on the full test set. One run alone keeps an H200 busy (2026-12-04:
# ten runs at once trained 2,700 images/s together, one alone 2,850-3,700),
# so running all at once only makes every run late: a few at a time finish
# whole seeds first. At the deadline the runs are stopped; a later call on the
# same warm machine skips the finished runs and resumes the cut ones from
# their last finished epoch (--resume). Metrics and logs come back in
# $OUT/runs.tgz, written every 20 s so a cut call still returns them. The
# sweep: the lesson's seven runs with the quick protocol of www/js/exercise.json
# (all 50,000 images; its epochs, or EPOCHS; its batch size and learning rate),
# seeds 0-2 (SEEDS): 3 epochs are 1.05 M images a seed, about 6 min of an
# H200, so a lease holds two seeds: SEEDS="0 1", then SEEDS=2. DEVICE (wgpu)
# and RUNS_DATA (a data root instead of the carried one) are for a smoke test
# elsewhere.
# Back here: tar xzf runs.tgz -C target/gpu-runs, then the sweep's tables:
# node scripts/lesson-sweep-table.mjs target/gpu-runs; the exercise's report:
# copy each <run>/log/metrics.jsonl to exercise/<run>/ and run
# MACHINE="NVIDIA H200 (lent)" DEVICE=wgpu scripts/exercise.sh --report;
# the benchmark's table is in the call's output, its raw numbers in bench.tgz (with autotune.txt),
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
    exit ;;
  sweep|exercise|bench) deadline="${2:?how many seconds the runs may take}" ;;
  *) sed -n '2,40p' "$0"; exit 2 ;;
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
  mkdir -p target && rm -rf target/pkg-gpu target/pkg-picks && cp -r $S/pkg-gpu target/pkg-gpu
  picks=""
  [ -d $S/pkg-picks ] && cp -r $S/pkg-picks target/pkg-picks && picks=" picks=target/pkg-picks?graph=1"
  # The flags that found the H200's Vulkan adapter (BENCHMARKS.md); CHROMIUM_FLAGS= for none.
  export CHROMIUM_FLAGS="${CHROMIUM_FLAGS-"--use-angle=vulkan --use-gl=angle --enable-features=Vulkan,DefaultANGLEVulkan,VulkanFromANGLE"}"
  export LD_LIBRARY_PATH="$S/chromium/lib:$S/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # At most 8 files come back: the raw numbers as one, a trace a page (3 packages × 2 shapes).
  traces="$OUT/traces"
  start=$SECONDS log_for=60
  VAELAB_BIN=$S/vaelab CHROMIUM=$S/chromium/chromium-headless-shell OUT=$S/bench TRACE="$traces" \
    SHAPES="${SHAPES:-128:16 1024:256}" STEPS="${STEPS:-10}" WARMUP="${WARMUP:-3}" \
    PKGS="${PKGS:-usual=target/pkg-gpu?graph=0 replay=target/pkg-gpu?graph=1$picks}" \
    timeout $((deadline - log_for)) scripts/bench-gpu.sh
  # Autotune's picks on this GPU, for a package that sets them (issue 21): the exercise's shape,
  # autotuned afresh (no cache) with CubeCL's log on, its decisions kept (the kernels' sources dropped).
  left=$((deadline - (SECONDS - start)))
  if [ "$left" -gt 20 ]; then
    CUBECL_DEBUG_LOG=$S/cubecl.log CUBECL_AUTOTUNE_CACHE=0 timeout "$left" \
      $S/vaelab bench --device wgpu --latent_size 1024 --batch_size 256 --steps 1 --warmup 1 >/dev/null
    grep -E 'Fastest result|^Autotune\[|skipped|^Calculated bounds' $S/cubecl.log >$S/bench/autotune.txt
  fi
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

# The queue: "name|flags" a run, each trained for $epochs epochs. A run already
# finished (by an earlier call on this warm machine) is skipped; one cut by an
# earlier call's deadline goes on with --resume from its last finished epoch.
queue=()
if [ "$1" = sweep ]; then
  # The quick lesson's protocol, from the one table (EPOCHS for another candidate);
  # its runs train on all 50,000 images and test on all 10,000, as the sweep's tables say.
  read -r quick_epochs batch lr images < <(python3 -c "import json; q = json.load(open('www/js/exercise.json'))['quick']; print(q['numEpochs'], q['batchSize'], q['lr'], q['images'])")
  [ "$images" -ge 50000 ] || { echo "exercise.json's quick protocol trains on $images images; this sweep is for all 50,000"; exit 3; }
  epochs="${EPOCHS:-$quick_epochs}"
  vae="--loss_mode vae --latent_size 1024"
  for s in ${SEEDS:-0 1 2}; do
    at="--seed $s --batch_size $batch --lr $lr --num_epochs $epochs"
    queue+=("s${s}_ae16|$at --loss_mode ae --latent_size 16"
      "s${s}_ae128|$at --loss_mode ae --latent_size 128"
      "s${s}_ae1024|$at --loss_mode ae --latent_size 1024"
      "s${s}_vae|$at $vae --beta_mode constant --target_beta_val 1"
      "s${s}_vae08|$at $vae --beta_mode constant --target_beta_val 0.8"
      "s${s}_vae12|$at $vae --beta_mode constant --target_beta_val 1.2"
      "s${s}_anneal$epochs|$at $vae --beta_mode linear --target_beta_val 1")
  done
  slots="${SLOTS:-3}"
else
  # The exercise's own runs and flags (scripts/exercise-runs.mjs, carried), its
  # batch size and learning rate the CLI's defaults, as scripts/exercise.sh runs them.
  epochs="$(python3 -c "import json; print(json.load(open('www/js/exercise.json'))['full']['numEpochs'])")"
  while IFS='|' read -r name flags _; do queue+=("$name|$flags --num_epochs $epochs"); done <$S/exercise-runs.txt
  slots="${SLOTS:-7}"
fi

finished() { # name: epochs in its metrics
  local m="$R/$1/log/metrics.jsonl"
  if [ -f "$m" ]; then grep -c . "$m"; else echo 0; fi
}
t0=$(date +%s)
pids=()
next=0
launch_next() { # the queue's next unfinished run, if any
  while [ $next -lt ${#queue[@]} ]; do
    local name="${queue[$next]%%|*}" flags="${queue[$next]#*|}" more=()
    next=$((next + 1))
    [ "$(finished "$name")" -ge "$epochs" ] && continue
    mkdir -p "$R/$name"
    [ -f "$R/$name/log/model.safetensors" ] && more=(--resume)
    # shellcheck disable=SC2086 # flags are words on purpose
    (cd "$R/$name" && HOME="$R/$name" XDG_CACHE_HOME="$R/$name/.cache" VAELAB_DATA="${RUNS_DATA:-$S/data}" \
      exec $S/vaelab train --log_dir "$R/$name/log" --device "$device" $flags "${more[@]}" >>"$R/$name/out.log" 2>&1) &
    pids+=($!)
    echo "t=$(($(date +%s) - t0))s started $name${more:+ (resumed after epoch $(finished "$name"))}"
    return 0
  done
  return 1
}
alive() {
  local n=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done
  echo $n
}
echo "$1: ${#queue[@]} runs of $epochs epochs, $slots at a time, on $device from $(date -u +%T)"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,power.draw --format=csv -l 15 >>"$OUT/smi.csv" 2>&1 &

snapshot() {
  (cd $R && tar czf "$OUT/runs.tgz" --ignore-failed-read ./*/log/metrics.jsonl ./*/out.log 2>/dev/null)
}
tick=0
while :; do
  elapsed=$(($(date +%s) - t0))
  [ $elapsed -lt "$deadline" ] && while [ "$(alive)" -lt "$slots" ] && launch_next; do :; done
  n=$(alive)
  [ "$n" = 0 ] && break
  if [ $elapsed -ge "$deadline" ]; then
    echo "deadline: stopping $n runs (each goes on from its last finished epoch in the next call)"
    kill "${pids[@]}" 2>/dev/null
    sleep 2
    break
  fi
  sleep 5
  tick=$((tick + 1))
  if [ $((tick % 4)) = 0 ]; then
    snapshot
    echo "t=${elapsed}s runs alive $n, $(uptime | sed 's/.*load/load/')"
  fi
done
snapshot
left=0
for q in "${queue[@]}"; do [ "$(finished "${q%%|*}")" -ge "$epochs" ] || left=$((left + 1)); done
echo "$1: $((${#queue[@]} - left)) of ${#queue[@]} runs finished; ${left} left (call $1 again on this warm machine to go on)"
grep -l -i -E 'error|panic' $R/*/out.log | head
