#!/usr/bin/env bash
# Every test of VAE Lab: formatting and lints, the native tests, the wasm
# build of the core, the browser tests on WebGPU in headless Chromium, and the
# page's end-to-end tests. Real images come from $VAELAB_DATA (default ./data,
# or ../shared/data): tests that need them and find none say SKIPPED, unless
# CI or VAELAB_DATA is set, where they fail naming the path they looked in.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
echo "CIFAR-10 data root: $(scripts/data-root.sh)${VAELAB_DATA:+ (VAELAB_DATA)}"
# Chromium leaves a scoped_dir behind per run: keep them inside target/.
mkdir -p target/tmp
export TMPDIR="$PWD/target/tmp"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "format and lints"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings

step "native tests (Burn flex CPU device)"
cargo test

step "browser tests (wasm on WebGPU in headless Chromium, inside a dedicated worker)"
# The design's own command, as typed: its settings live in webdriver.json and .cargo/config.toml.
wasm-pack test --headless --chrome

step "browser tests again in headless Firefox (WebGPU on Mesa's lavapipe; prefs in webdriver.json)"
wasm-pack test --headless --firefox

step "page end-to-end tests"
wasm-pack build --dev --target web --out-dir pkg --no-typescript --no-pack
# The spec reporter: a skipped test reads SKIPPED, never \"ok\" as TAP would print it.
node --test --test-reporter=spec tests-e2e/
