#!/usr/bin/env bash
# Every test of VAE Lab: formatting and lints, the native tests, the wasm
# build of the core, the browser tests on WebGPU in headless Chromium and
# Firefox, and the page's end-to-end tests. Real images come from $VAELAB_DATA
# (default ./data, or ../shared/data): tests that need them and find none say
# SKIPPED, unless CI or VAELAB_DATA is set, where they fail naming the path
# they looked in. Ends with the time each step took (BENCHMARKS.md, "CI, cold").
set -euo pipefail
cd "$(dirname "$0")/.."

# ---- the time per step, printed at the end whatever the outcome ----
started=$SECONDS
current=""
current_at=0
times=()
step() {
  end_step
  current="$*"
  current_at=$SECONDS
  printf '\n\033[1m== %s\033[0m\n' "$*"
}
end_step() {
  if [ -n "$current" ]; then times+=("$(printf '%6d s  %s' $((SECONDS - current_at)) "$current")"); fi
  current=""
}
summary() {
  local rc=$?
  end_step
  printf '\n\033[1m== time per step\033[0m\n'
  printf '%s\n' "${times[@]}"
  printf '%6d s  in all (exit %d)\n' $((SECONDS - started)) "$rc"
}
trap summary EXIT

step "format"
cargo fmt --check

# Clippy's lints run inside the builds the tests need, instead of in a
# `cargo clippy` pass of their own: that pass type-checks Burn, CubeCL and wgpu
# a second time for each target (3.5 min natively, 6 min for wasm32 on this
# machine, cold). It is what `cargo clippy` itself does: clippy-driver as the
# workspace's compiler, the lint levels in CLIPPY_ARGS. Only this crate's code
# is linted (the library, the command line, every test); dependencies compile
# as usual. A warning fails the build, as `-D warnings` did.
lint() { RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" "$@"; }

step "setup (what is missing: wasm tools, browsers, npm packages)"
scripts/setup.sh --browser
echo "CIFAR-10 data root: $(scripts/data-root.sh)${VAELAB_DATA:+ (VAELAB_DATA)}"
# Chromium leaves a scoped_dir behind per run: keep them inside target/.
mkdir -p target/tmp
export TMPDIR="$PWD/target/tmp"

step "native tests (Burn flex CPU device), linted by clippy as they build"
lint cargo test

step "browser tests (wasm on WebGPU in headless Chromium, inside a dedicated worker), linted as they build"
# The design's own command, as typed: its settings live in webdriver.json and .cargo/config.toml.
lint wasm-pack test --headless --chrome

step "browser tests again in headless Firefox (WebGPU on Mesa's lavapipe; prefs in webdriver.json; the same build)"
lint wasm-pack test --headless --firefox

step "page end-to-end tests"
# The page's two packages, one engine each (pkg/ for WebGPU, pkg-cpu/ for the
# CPU), built as serve.sh builds them but at the dev profile.
PROFILE=dev lint scripts/build-page.sh pkg
# The spec reporter: a skipped test reads SKIPPED, never "ok" as TAP would print it.
node --test --test-reporter=spec tests-e2e/
