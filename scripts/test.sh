#!/usr/bin/env bash
# Every test of VAE Lab: formatting and lints, the native tests, the wasm
# build of the core, the browser tests on WebGPU in headless Chromium, and the
# page's end-to-end tests. Real images come from $VAELAB_DATA (default ./data):
# tests that need them and find none say SKIPPED.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
root="$(scripts/data-root.sh)"
export VAELAB_DATA="$(cd "$root" 2>/dev/null && pwd || echo "$root")"
echo "CIFAR-10 data root: $VAELAB_DATA"
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

step "page end-to-end tests"
wasm-pack build --dev --target web --out-dir pkg --no-typescript --no-pack
node --test tests-e2e/
