#!/usr/bin/env bash
# Does the quick lesson teach what the exercise teaches? Trains the quick
# protocol (www/js/exercise.json "quick") for the lesson's seven runs on all
# of CIFAR-10, on each seed, and checks the exercise's orderings
# (tests/lesson_protocol.rs says which). Prints each run's test recon and KL.
# Tens of minutes to hours on a CPU, so not part of scripts/test.sh.
#
#   scripts/lesson-check.sh                 seeds 0, 1, 2
#   LESSON_SEEDS=0 scripts/lesson-check.sh  one seed
#   LESSON_IMAGES=25000 LESSON_EPOCHS=2 LESSON_BATCH=64 LESSON_LR=0.002 scripts/lesson-check.sh
#                                           a candidate protocol (a sweep), the table untouched
#   DEVICE=wgpu scripts/lesson-check.sh     on the GPU (a build with --features wgpu)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "CIFAR-10 data root: $(scripts/data-root.sh)${VAELAB_DATA:+ (VAELAB_DATA)}"
features=()
[ "${DEVICE:-flex}" = wgpu ] && features=(--features wgpu)
LESSON_DEVICE="${DEVICE:-flex}" cargo test --release "${features[@]}" --test lesson_protocol -- --ignored --nocapture
