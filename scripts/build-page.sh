#!/usr/bin/env bash
# Builds the wasm package the page loads, as a class gets it, into $1
# (default pkg/): Cargo's `web` profile, the release build with the crates
# that build kernels at opt-level "s" (Cargo.toml says why). serve.sh and the
# GPU benchmark scripts build through here, so what is measured is what ships.
set -euo pipefail
cd "$(dirname "$0")/.."
exec wasm-pack build --profile web --target web --out-dir "${1:-pkg}" --no-typescript --no-pack
