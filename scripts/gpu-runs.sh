#!/usr/bin/env bash
# Runs on a lent GPU machine, from what scripts/gpu-carry.sh prepared (its
# last lines say how to call this). Issue 22's two GPU jobs, every run at once
# (one GPU, 16 cores), each in its own folder and CubeCL cache, metrics per
# epoch on the full test set; stopped at the deadline; the runs' metrics and
# logs come back in $OUT/runs.tgz, written every 20 s so a cut call still
# returns them.
#
#   gpu-runs.sh setup                   1st call: loader, binary, data's first part, one bench
#   gpu-runs.sh sweep SECONDS           2nd call: the quick lesson's protocol sweep
#   gpu-runs.sh exercise SECONDS        2nd call: the exercise's seven runs, 20 epochs
#
# The sweep: on all 50,000 images, batch 64, lr 0.001, seeds 0-2, the six
# constant-β runs for 5 epochs (each epoch's metrics a candidate protocol)
# and the annealed run for 2, 3, 4 and 5 epochs (its β ramps over the run),
# plus AE 128 / 1024 at batch 32 on seed 0. Environment: DEVICE (wgpu),
# RUNS_DATA (a data root instead of the carried one: a local smoke test).
# Back here: tar xzf runs.tgz -C target/gpu-runs, then the sweep's tables:
# node scripts/lesson-sweep-table.mjs target/gpu-runs; the exercise's report:
# copy each <run>/log/metrics.jsonl to exercise/<run>/ and run
# MACHINE="NVIDIA H200 (lent)" DEVICE=wgpu scripts/exercise.sh --report.
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
    mkdir -p $S/data/cifar-10-batches-bin
    cp .carry1/* $S/
    python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('$S/vaelab.xz'), open('$S/vaelab', 'wb'))"
    chmod +x $S/vaelab
    nvidia-smi -L
    timeout 150 $S/vaelab bench --device "$device" --latent_size 1024 --batch_size 64 --steps 20 --warmup 3
    exit ;;
  sweep|exercise) deadline="${2:?how many seconds the runs may take}" ;;
  *) sed -n '2,21p' "$0"; exit 2 ;;
esac

[ -x $S/vaelab ] || { echo "no $S/vaelab: a fresh machine; call setup first (in the same warm lease)"; exit 3; }
if [ ! -f $S/data/cifar-10-batches-bin/test_batch.bin ]; then
  cat $S/part.1 .carry2/part.2 | tar x -C $S || exit 4
  for f in $S/*.x; do
    python3 scripts/cifar-carry.py dec "$f" "$S/data/cifar-10-batches-bin/$(basename "${f%.x}").bin" &
  done
  wait
  (cd $S/data/cifar-10-batches-bin && sha256sum -c $S/sums.txt) || exit 5
fi

t0=$(date +%s)
pids=()
launch() { # name seed epochs batch flags...
  local name=$1 seed=$2 epochs=$3 batch=$4
  shift 4
  mkdir -p "$R/$name"
  (cd "$R/$name" && HOME="$R/$name" XDG_CACHE_HOME="$R/$name/.cache" VAELAB_DATA="${RUNS_DATA:-$S/data}" \
    exec $S/vaelab train --log_dir "$R/$name/log" --device "$device" --seed "$seed" \
    --num_epochs "$epochs" --batch_size "$batch" --lr 0.001 "$@" >"$R/$name/out.log" 2>&1) &
  pids+=($!)
}
if [ "$1" = sweep ]; then
  vae=(--loss_mode vae --latent_size 1024)
  for s in ${SEEDS:-0 1 2}; do
    launch "s${s}_ae16" "$s" 5 64 --loss_mode ae --latent_size 16
    launch "s${s}_ae128" "$s" 5 64 --loss_mode ae --latent_size 128
    launch "s${s}_ae1024" "$s" 5 64 --loss_mode ae --latent_size 1024
    launch "s${s}_vae" "$s" 5 64 "${vae[@]}" --beta_mode constant --target_beta_val 1
    launch "s${s}_vae08" "$s" 5 64 "${vae[@]}" --beta_mode constant --target_beta_val 0.8
    launch "s${s}_vae12" "$s" 5 64 "${vae[@]}" --beta_mode constant --target_beta_val 1.2
    for e in 2 3 4 5; do
      launch "s${s}_anneal$e" "$s" "$e" 64 "${vae[@]}" --beta_mode linear --target_beta_val 1
    done
  done
  launch s0_b32_ae128 0 3 32 --loss_mode ae --latent_size 128
  launch s0_b32_ae1024 0 3 32 --loss_mode ae --latent_size 1024
else
  # The exercise's own runs and flags (scripts/exercise-runs.mjs, carried).
  while IFS='|' read -r name flags _; do
    # shellcheck disable=SC2086 # flags are words on purpose
    launch "$name" 0 20 256 $flags
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
