#!/usr/bin/env bash
# Does the quick lesson teach what the exercise teaches? Trains the quick
# protocol (www/js/exercise.json "quick") for the lesson's seven runs on all
# of CIFAR-10, on each seed, and checks the exercise's orderings
# (tests/lesson_protocol.rs says which). Prints each run's test recon and KL.
# Tens of minutes to hours on a CPU, so not part of scripts/test.sh.
#
#   scripts/lesson-check.sh               seeds 0, 1, 2
#   LESSON_SEEDS=0 scripts/lesson-check.sh  one seed
set -euo pipefail
cd "$(dirname "$0")/.."
echo "CIFAR-10 data root: $(scripts/data-root.sh)${VAELAB_DATA:+ (VAELAB_DATA)}"
cargo test --release --test lesson_protocol -- --ignored --nocapture
